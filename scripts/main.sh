#!/usr/bin/env bash
# The main job: a Release build of the example, then the run. Extra arguments go to the example
# (e.g. `bash scripts/main.sh --steps 1000`). Environment: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
tg_install_deps

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C "$BUILD_DIR" -j "$JOBS" fit_linear
"./$BUILD_DIR/examples/fit_linear" "$@"
