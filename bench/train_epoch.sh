#!/usr/bin/env bash
# Times one Fashion-MNIST training epoch of each reference model with tensorgrad (tg_train) and, when
# Debian's python3-torch is installed, with PyTorch on the same data and recipe in the same run, and prints
# the ratio (torch seconds / tensorgrad seconds: above 1 means tensorgrad is faster). With libtorch-dev
# installed it also times libtorch from C++ (bench/libtorch/fashion_mnist.cpp, no Python in the loop).
# Evaluation is excluded from every time.
#   bash bench/train_epoch.sh [--threads N] [--models "mlp cnn"]
# Environment: BUILD_DIR (default build-bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS=$(nproc)
MODELS="mlp cnn"
while (($#)); do
  case $1 in
    --threads) THREADS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    *) echo "usage: bash bench/train_epoch.sh [--threads N] [--models \"mlp cnn\"]" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_TESTS=OFF -DTG_BUILD_EXAMPLES=OFF \
  -DTG_BUILD_BENCH=ON >/dev/null
ninja -C "$BUILD_DIR" tg_train >/dev/null
LIBTORCH_BIN="$BUILD_DIR/bench/libtorch/libtorch_fashion_mnist"
# grep reads the whole list (not -q): an early exit would kill ninja with SIGPIPE, which pipefail reports as
# failure, and the libtorch column went missing in some runs.
if ninja -C "$BUILD_DIR" -t targets all 2>/dev/null | grep '^libtorch_fashion_mnist:' >/dev/null; then
  ninja -C "$BUILD_DIR" libtorch_fashion_mnist >/dev/null
else
  LIBTORCH_BIN=""
fi

TORCH_PY=/usr/bin/python3  # Debian's python3 sees python3-torch; another python3 on PATH may not
have_torch=0
if "$TORCH_PY" -c 'import torch' 2>/dev/null; then have_torch=1; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '%-5s %8s %11s %14s %10s %10s %10s %12s %14s\n' model threads tg_seconds torch_seconds tg_acc torch_acc \
  torch/tg libtorch_sec libtorch/tg
for model in $MODELS; do
  line=$("./$BUILD_DIR/tools/tg_train" --model "$model" --epochs 1 --threads "$THREADS" --no-progress --out "$out/$model" |
    grep '^epoch 1/1')
  tg_s=$(sed -E 's/.* ([0-9.]+) s \(.*/\1/' <<<"$line")
  tg_acc=$(sed -E 's/.*test acc ([0-9.]+)%.*/\1/' <<<"$line")
  torch_s=- torch_acc=- ratio=-
  if ((have_torch)); then
    tline=$("$TORCH_PY" bench/torch_fashion_mnist.py --model "$model" --threads "$THREADS")
    torch_s=$(sed -E 's/.*epoch_seconds=([0-9.]+).*/\1/' <<<"$tline")
    torch_acc=$(sed -E 's/.*test_accuracy=([0-9.]+).*/\1/' <<<"$tline")
    torch_acc=$(awk -v a="$torch_acc" 'BEGIN { printf "%.2f", 100 * a }')
    ratio=$(awk -v t="$torch_s" -v g="$tg_s" 'BEGIN { printf "%.2f", t / g }')
  fi
  lt_s=- lt_ratio=-
  if [[ -n $LIBTORCH_BIN ]]; then
    lline=$("./$LIBTORCH_BIN" --model "$model" --threads "$THREADS")
    lt_s=$(sed -E 's/.*epoch_seconds=([0-9.]+).*/\1/' <<<"$lline")
    lt_ratio=$(awk -v t="$lt_s" -v g="$tg_s" 'BEGIN { printf "%.2f", t / g }')
  fi
  printf '%-5s %8s %11s %14s %9s%% %9s%% %10s %12s %14s\n' "$model" "$THREADS" "$tg_s" "$torch_s" "$tg_acc" \
    "$torch_acc" "$ratio" "$lt_s" "$lt_ratio"
done
((have_torch)) || echo "(PyTorch not found: apt-get install python3-torch, then run again for the ratio)"
