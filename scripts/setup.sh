#!/usr/bin/env bash
# Set up .venv: the CPU build of PyTorch first (a plain `torch` requirement would pull a
# multi-GB CUDA build), then spaCy, this plugin (editable) and the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e ".[test]"
