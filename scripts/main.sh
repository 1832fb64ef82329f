#!/usr/bin/env bash
# The main job: a Release build of the trainer, then a Fashion-MNIST training run. Extra arguments go to
# the trainer (e.g. `bash scripts/main.sh --model cnn --epochs 1`; `--help` lists them all).
# Environment: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
tg_install_deps

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C "$BUILD_DIR" -j "$JOBS" tg_train
"./$BUILD_DIR/tools/tg_train" "$@"
