#!/usr/bin/env bash
# The Python job: installs the dependencies, builds the Python module in Release and trains the Fashion-MNIST
# MLP with examples/python/train_mlp.py (extra arguments go to it, e.g. `bash scripts/python.sh --epochs 3`).
# Environment: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
tg_install_deps

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_PYTHON=ON
ninja -C "$BUILD_DIR" -j "$JOBS" tg_python_core
python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
PYTHONPATH="$BUILD_DIR/python" "$python" examples/python/train_mlp.py "$@"
