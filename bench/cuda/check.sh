#!/usr/bin/env bash
# The GPU machine's one script: the CUDA backend's checks and benchmarks, and PyTorch's numbers for the same
# work in the same run, into one report ($OUT/cuda_report.txt, else bench/cuda/cuda_report.txt). Sized for a
# few minutes of a lent GPU's time.
#
#   bash bench/cuda/check.sh --pack [DIR]     here, on a Debian machine with nvcc (no GPU needed): build
#                                             tg_cuda_check, tg_tests and tg_train for sm_90 into build-gpu and
#                                             copy them (stripped, gzipped), with the one shared library the GPU
#                                             machine may lack (libgomp) and the Fashion-MNIST files when
#                                             installed, into DIR (default .gpu, which git ignores through
#                                             .git/info/exclude, so it must be named in the device call's carry;
#                                             about 42 MB of the call's 64 MiB)
#   bash bench/cuda/check.sh --prebuilt DIR   there: run the packed programs (no build, so no GPU time spent
#                                             compiling); the fastest way through a short lease
#   bash bench/cuda/check.sh                  there: configure and build, then run (needs nlohmann-json and
#                                             zlib there; `--vendor`, run here, copies Debian's nlohmann-json
#                                             into bench/cuda/vendor/; GoogleTest, when absent, drops tg_tests)
#
# What runs: tg_cuda_check (every kernel family and GEMM rung against the CPU, then the GEMM ladder against
# cuBLAS), the CUDA unit tests (tg_tests --gtest_filter='CudaBackend.*'), tg_train's CNN epoch on the GPU when
# the data set is there, and bench/cuda/torch_reference.py (cuBLAS through torch, and the same CNN's epoch).
# Each CUDA unit test runs in a process of its own, so one that crashes cannot hide the others' results.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mode=build
dir=
case "${1:-}" in
  --vendor)
    mkdir -p bench/cuda/vendor/include bench/cuda/vendor/share
    cp -r /usr/include/nlohmann bench/cuda/vendor/include/
    cp -r /usr/share/cmake/nlohmann_json bench/cuda/vendor/share/ 2>/dev/null ||
      cp -r /usr/lib/cmake/nlohmann_json bench/cuda/vendor/share/
    echo "vendored nlohmann-json into bench/cuda/vendor"
    exit 0
    ;;
  --pack)
    dir=${2:-.gpu}
    cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_CUDA=ON -DTG_CUDA_ARCHITECTURES=90 \
      -DTG_AUDIO=OFF -DTG_PYTHON=OFF -DTG_BUILD_EXAMPLES=OFF -DTG_BUILD_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON \
      "-DCMAKE_EXE_LINKER_FLAGS=-static-libstdc++ -static-libgcc" >/dev/null || exit 1
    ninja -C build-gpu tg_cuda_check tg_tests tg_train || exit 1
    # nvcc turns a host-side call of a __device__-only function into a call to exit(1) (a silent end on the GPU
    # machine): refuse to pack a backend with any.
    exits=$(objdump -d --no-show-raw-insn -C build-gpu/bench/cuda/tg_cuda_check |
      awk '/^[0-9a-f]+ <.*>:$/ {fn = $0} /call.*<exit@plt>/ && fn ~ /tg::cuda/ {print fn}' | sort -u)
    if [ -n "$exits" ]; then
      echo "tg_cuda calls exit() (a host-side call of a __device__ function?) in:" >&2
      echo "$exits" >&2
      exit 1
    fi
    mkdir -p "$dir/lib"
    for p in bench/cuda/tg_cuda_check tests/tg_tests tools/tg_train; do
      strip -o "$dir/$(basename "$p")" "build-gpu/$p" && gzip -f "$dir/$(basename "$p")"
    done
    cp "$(ldconfig -p | awk '/libgomp.so.1 .*x86-64/ {print $NF; exit}')" "$dir/lib/"
    data=${TG_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
    if [ -f "$data/train-images-idx3-ubyte.gz" ]; then mkdir -p "$dir/fashion-mnist" && cp "$data"/*.gz "$dir/fashion-mnist/"; fi
    grep -qx "/$dir/" .git/info/exclude 2>/dev/null || echo "/$dir/" >>.git/info/exclude
    du -sh "$dir"
    exit 0
    ;;
  --prebuilt)
    mode=prebuilt
    dir=${2:?--prebuilt needs the packed folder}
    ;;
  "") ;;
  *)
    echo "usage: check.sh [--pack [DIR] | --prebuilt DIR | --vendor]" >&2
    exit 2
    ;;
esac
REPORT_DIR=${OUT:-bench/cuda}
REPORT=$REPORT_DIR/cuda_report.txt
{
  echo "tensorgrad CUDA check, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>/dev/null ||
    echo "nvidia-smi: not available"
  echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
} | tee "$REPORT"
start=$SECONDS
if [ "$mode" = prebuilt ]; then
  bin=$dir
  for z in "$dir"/*.gz; do [ -e "$z" ] && gunzip -f "$z" && chmod +x "${z%.gz}"; done
  export LD_LIBRARY_PATH="$PWD/$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  BUILD=${BUILD_DIR:-build-cuda}
  extra=()
  if [ -d bench/cuda/vendor/share/nlohmann_json ]; then
    extra+=("-Dnlohmann_json_DIR=$PWD/bench/cuda/vendor/share/nlohmann_json")
  fi
  tests=OFF
  if [ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ]; then tests=ON; fi
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_CUDA=ON -DTG_CUDA_ARCHITECTURES=90 -DTG_PYTHON=OFF \
    -DTG_AUDIO=OFF -DTG_BUILD_TOOLS=OFF -DTG_BUILD_EXAMPLES=OFF -DTG_BUILD_TESTS=$tests "${extra[@]}" \
    >"$REPORT_DIR/cuda_configure.log" 2>&1 ||
    { echo "configure failed: see cuda_configure.log" | tee -a "$REPORT"; tail -20 "$REPORT_DIR/cuda_configure.log"; exit 1; }
  targets=(tg_cuda_check)
  if [ "$tests" = ON ]; then targets+=(tg_tests); fi
  ninja -C "$BUILD" -j "$(nproc)" "${targets[@]}" >"$REPORT_DIR/cuda_build.log" 2>&1 ||
    { echo "build failed: see cuda_build.log" | tee -a "$REPORT"; grep -m20 -E "error" "$REPORT_DIR/cuda_build.log"; exit 1; }
  echo "built in $((SECONDS - start)) s" | tee -a "$REPORT"
  mkdir -p "$BUILD/packed"
  cp "$BUILD/bench/cuda/tg_cuda_check" "$BUILD/packed/"
  if [ "$tests" = ON ]; then cp "$BUILD/tests/tg_tests" "$BUILD/packed/"; fi
  bin=$BUILD/packed
fi
status=0
echo "== tg_cuda_check" | tee -a "$REPORT"
timeout 300 "./$bin/tg_cuda_check" 2>&1 | tee -a "$REPORT" || status=1
if [ -x "$bin/tg_tests" ]; then
  echo "== tg_tests --gtest_filter='CudaBackend.*', one process per test" | tee -a "$REPORT"
  : >"$REPORT_DIR/cuda_tests.log"
  for t in $("./$bin/tg_tests" --gtest_list_tests --gtest_filter='CudaBackend.*' | awk '/^ / {print "CudaBackend." $1}'); do
    timeout 120 "./$bin/tg_tests" --gtest_filter="$t" >>"$REPORT_DIR/cuda_tests.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then status=1; echo "  FAILED ($rc) $t" | tee -a "$REPORT"; else echo "  ok $t" | tee -a "$REPORT"; fi
  done
  grep -E "Failure|error|Expected|Which is" "$REPORT_DIR/cuda_tests.log" | head -30 | tee -a "$REPORT"
else
  echo "GoogleTest not found: the CUDA unit tests were not built (tg_cuda_check covers the same families)" | tee -a "$REPORT"
fi
data_dir=${TG_FASHION_MNIST_DIR:-$bin/fashion-mnist}
if [ -x "$bin/tg_train" ] && [ -f "$data_dir/train-images-idx3-ubyte.gz" ]; then
  echo "== tg_train --model cnn --device cuda (Fashion-MNIST, 2 epochs; the second is the timed one)" | tee -a "$REPORT"
  timeout 300 "./$bin/tg_train" --model cnn --device cuda --epochs 2 --no-progress --data-dir "$data_dir" \
    --out "$REPORT_DIR/cnn" 2>&1 | tee -a "$REPORT" || status=1
  timeout 120 "./$bin/tg_train" --model cnn --device cuda --epochs 1 --train-limit 6400 --no-progress --profile \
    --profile-steps 10 --data-dir "$data_dir" --out "$REPORT_DIR/cnn_profile" >"$REPORT_DIR/cnn_profile.txt" 2>&1 || status=1
  head -45 "$REPORT_DIR/cnn_profile.txt" | tee -a "$REPORT"
else
  echo "no tg_train or no Fashion-MNIST files in $data_dir: the CNN epoch on the GPU was not run" | tee -a "$REPORT"
fi
if command -v python3 >/dev/null && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo "== PyTorch on the same GPU (bench/cuda/torch_reference.py)" | tee -a "$REPORT"
  PYTHONUNBUFFERED=1 timeout 180 python3 bench/cuda/torch_reference.py 2>&1 | tee -a "$REPORT" || status=1
else
  echo "PyTorch with CUDA not found: no reference numbers" | tee -a "$REPORT"
fi
echo "total $((SECONDS - start)) s, status $status" | tee -a "$REPORT"
exit "$status"
