#!/usr/bin/env bash
# The test job (what CI runs, see .ci/run):
#   1. Release build with warnings as errors; all unit tests; the fit_linear example.
#   2. A second tree with AddressSanitizer + UndefinedBehaviorSanitizer (RelWithDebInfo: -O2 -g, so
#      reports have line numbers and the run stays fast); all unit tests and the example again.
# Environment: BUILD_DIR (default build), ASAN_BUILD_DIR (default build-asan), JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
tg_install_deps

BUILD_DIR=${BUILD_DIR:-build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
JOBS=${JOBS:-2}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
START=$SECONDS

stage() { printf '\n==== %s  [%ds]\n' "$*" "$((SECONDS - START))"; }

# Configure, build everything, run every test and the example in one tree.
check_tree() {
  local dir=$1
  shift
  stage "configure $dir ($*)"
  cmake -S . -B "$dir" -G Ninja -DTG_BUILD_TESTS=ON -DTG_BUILD_EXAMPLES=ON "$@"
  stage "build $dir"
  ninja -C "$dir" -j "$JOBS"
  stage "unit tests in $dir"
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$JOBS"
  stage "example in $dir"
  "./$dir/examples/fit_linear"
}

check_tree "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTG_WERROR=ON -DTG_SANITIZE=OFF
check_tree "$ASAN_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_WERROR=OFF -DTG_SANITIZE=ON
stage "all passed"
