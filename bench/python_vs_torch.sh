#!/usr/bin/env bash
# tensorgrad from Python against PyTorch 1.13 from Python, in one run on this machine:
#   1. the per-call cost of a tiny op (bench/python_overhead.py: an add of one-element tensors, with and
#      without autograd, and add + backward);
#   2. one Fashion-MNIST MLP epoch (60000 images; tg_train's time from its samples/s, which it prints with
#      more digits than its seconds): examples/python/train_mlp.py, tg_train --model mlp (the same model and
#      recipe from C++) and bench/torch_fashion_mnist.py, interleaved over --rounds rounds; medians printed.
#   bash bench/python_vs_torch.sh [--threads "1 2"] [--rounds 3]
# Environment: BUILD_DIR (default build-bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS="1 2"
ROUNDS=3
while (($#)); do
  case $1 in
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: bash bench/python_vs_torch.sh [--threads \"1 2\"] [--rounds N]" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_PYTHON=ON -DTG_BUILD_TESTS=OFF \
  -DTG_BUILD_EXAMPLES=OFF >/dev/null
ninja -C "$BUILD_DIR" tg_train tg_python_core >/dev/null
PY=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
export PYTHONPATH=$BUILD_DIR/python
"$PY" -c 'import torch' || { echo "PyTorch is not importable by $PY (Debian: python3-torch)" >&2; exit 1; }
grep -m1 'model name' /proc/cpuinfo || true

echo "== tiny op from Python (1 thread)"
"$PY" bench/python_overhead.py

echo "== Fashion-MNIST MLP epoch, seconds (median of $ROUNDS interleaved rounds)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-8s %10s %10s %10s %12s %12s\n' threads python tg_train torch python/torch python/tg_train
for t in $THREADS; do
  : >"$out/py" ; : >"$out/cc" ; : >"$out/torch"
  for _ in $(seq "$ROUNDS"); do
    "$PY" examples/python/train_mlp.py --threads "$t" | sed -E 's/.*, ([0-9.]+) s$/\1/' >>"$out/py"
    "./$BUILD_DIR/tools/tg_train" --model mlp --epochs 1 --threads "$t" --no-progress --out "$out/run" |
      grep '^epoch 1/1' | sed -E 's/.*\(([0-9]+) samples\/s\)/\1/' | awk '{ printf "%.3f\n", 60000 / $1 }' >>"$out/cc"
    "$PY" bench/torch_fashion_mnist.py --model mlp --threads "$t" | sed -E 's/.*epoch_seconds=([0-9.]+).*/\1/' >>"$out/torch"
  done
  py=$(median <"$out/py"); cc=$(median <"$out/cc"); th=$(median <"$out/torch")
  printf '%-8s %10s %10s %10s %12.2f %12.2f\n' "$t" "$py" "$cc" "$th" "$(awk -v a="$py" -v b="$th" 'BEGIN{print a/b}')" \
    "$(awk -v a="$py" -v b="$cc" 'BEGIN{print a/b}')"
done
