#!/usr/bin/env bash
# The test job (what CI runs, see .ci/run):
#   1. Release build with warnings as errors; all unit tests; the fit_linear example.
#   2. A second tree with AddressSanitizer + UndefinedBehaviorSanitizer; all unit tests and the example
#      again. RelWithDebInfo with its flags lowered to -O1 -g1: line tables make reports name lines, and -O1
#      (what the ASan docs recommend) with line tables only compiles in about half the time of -O2 -g. The
#      unit tests run as 4 gtest shards there, not one process per test case: a sanitized process takes a
#      noticeable time to start, and CI has two cores and a 15-minute budget.
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

# Configure, build everything, run every test and the example in one tree; non-zero when any step fails.
# Each step is checked explicitly: `set -e` does not apply inside a function called with ||.
check_tree() {
  local dir=$1
  shift
  stage "configure $dir ($*)"
  cmake -S . -B "$dir" -G Ninja -DTG_BUILD_TESTS=ON -DTG_BUILD_EXAMPLES=ON "$@" || return 1
  stage "build $dir"
  ninja -C "$dir" -j "$JOBS" || return 1
  stage "unit tests in $dir"
  local status=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$JOBS" || status=1
  stage "example in $dir"
  "./$dir/examples/fit_linear" || status=1
  return "$status"
}

# Both trees run even when the first fails, so one run reports everything.
failed=()
check_tree "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTG_WERROR=ON -DTG_SANITIZE=OFF || failed+=("$BUILD_DIR (Release, -Werror)")
check_tree "$ASAN_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DTG_WERROR=OFF -DTG_SANITIZE=ON -DTG_TEST_SHARDS=4 ||
  failed+=("$ASAN_BUILD_DIR (ASan + UBSan)")
if ((${#failed[@]} > 0)); then
  stage "FAILED in: ${failed[*]}"
  exit 1
fi
stage "all passed"
