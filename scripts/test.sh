#!/usr/bin/env bash
# Set up .venv if needed, then run the whole test suite, slow and Ray tests included (--slow);
# plain `pytest` runs the fast suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest --slow "$@"
