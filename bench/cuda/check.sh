#!/usr/bin/env bash
# The GPU machine's one script: configure a CUDA build, build the backend and tg_cuda_check, run it (every
# kernel family against the CPU, then the fp32 GEMM against cuBLAS) and, when the GoogleTest binary can be
# built there, the CUDA unit tests. Writes the report to $OUT/cuda_report.txt (or bench/cuda/report.txt).
# Meant to finish well inside 10 minutes on a 16-core machine.
#   bash bench/cuda/check.sh
# The GPU machine has CUDA, CMake and ninja but no package registry: nlohmann-json (headers) and zlib must
# be found there; `bash bench/cuda/check.sh --vendor`, run on a Debian machine first, copies Debian's
# nlohmann-json into bench/cuda/vendor/ (untracked, so it travels with the working tree).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = "--vendor" ]; then
  mkdir -p bench/cuda/vendor/include bench/cuda/vendor/share
  cp -r /usr/include/nlohmann bench/cuda/vendor/include/
  cp -r /usr/share/cmake/nlohmann_json bench/cuda/vendor/share/ 2>/dev/null || cp -r /usr/lib/cmake/nlohmann_json bench/cuda/vendor/share/
  echo "vendored nlohmann-json into bench/cuda/vendor"
  exit 0
fi
REPORT_DIR=${OUT:-bench/cuda}
REPORT=$REPORT_DIR/cuda_report.txt
BUILD=${BUILD_DIR:-build-cuda}
JOBS=${JOBS:-$(nproc)}
extra=()
if [ -d bench/cuda/vendor/share/nlohmann_json ]; then extra+=("-Dnlohmann_json_DIR=$PWD/bench/cuda/vendor/share/nlohmann_json"); fi
tests=OFF
if [ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ]; then tests=ON; fi
{
  echo "tensorgrad CUDA check, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
  "${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}" --version | tail -1 || echo "nvcc: not found"
} | tee "$REPORT"
start=$SECONDS
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_CUDA=ON -DTG_CUDA_ARCHITECTURES=90 -DTG_PYTHON=OFF \
  -DTG_AUDIO=OFF -DTG_BUILD_TOOLS=OFF -DTG_BUILD_EXAMPLES=OFF -DTG_BUILD_TESTS=$tests "${extra[@]}" >"$REPORT_DIR/cuda_configure.log" 2>&1 ||
  { echo "configure failed: see $REPORT_DIR/cuda_configure.log" | tee -a "$REPORT"; tail -20 "$REPORT_DIR/cuda_configure.log"; exit 1; }
targets=(tg_cuda_check)
if [ "$tests" = ON ]; then targets+=(tg_tests); fi
ninja -C "$BUILD" -j "$JOBS" "${targets[@]}" >"$REPORT_DIR/cuda_build.log" 2>&1 ||
  { echo "build failed: see $REPORT_DIR/cuda_build.log" | tee -a "$REPORT"; grep -m20 -E "error" "$REPORT_DIR/cuda_build.log"; exit 1; }
echo "built in $((SECONDS - start)) s" | tee -a "$REPORT"
status=0
"./$BUILD/bench/cuda/tg_cuda_check" 2>&1 | tee -a "$REPORT" || status=1
if [ "$tests" = ON ]; then
  "./$BUILD/tests/tg_tests" --gtest_filter='CudaBackend.*' 2>&1 | tail -25 | tee -a "$REPORT" || status=1
else
  echo "GoogleTest not found here: the CUDA unit tests were not built (tg_cuda_check covers the same families)" | tee -a "$REPORT"
fi
echo "total $((SECONDS - start)) s, status $status" | tee -a "$REPORT"
exit "$status"
