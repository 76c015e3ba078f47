#!/usr/bin/env bash
# Set up .venv: PyTorch first, then spaCy, this plugin (editable), the test tools and Ray Data
# (the tests of tag_corpus need it).
#
# `pip install torch==2.13.0` takes the build your pip's index gives. On PyPI on Linux that is
# the CUDA build (several GB); where pip finds a local `+cpu` wheel first (as its config here
# does), the CPU build. TORCH_INDEX_URL picks an index for torch alone, e.g. PyTorch's CPU
# wheels: TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
.venv/bin/python -m pip install --quiet -e ".[test,ray]"
