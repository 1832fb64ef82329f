#!/usr/bin/env bash
# Two builds of tensorgrad side by side in one run, interleaved (A, B, A, B, ...), so that a change can be
# shown not to move performance: a Fashion-MNIST epoch of each model on 1 and 2 threads (tg_train), the tuned
# GEMM at a few sizes, and the tiny-op / 1M-element op benchmark (tensorgrad-bench). Prints the medians and
# B/A time ratios (below 1: B is faster).
#   bash bench/ab_compare.sh A_BUILD_DIR B_BUILD_DIR [--reps N] [--models "mlp cnn"] [--train-limit N]
# Each build dir needs tools/tg_train and bench/tensorgrad-bench (configure with -DTG_BUILD_BENCH=ON).
# Example (a checkout of the old commit in ../base):
#   cmake -S ../base -B ../base/build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_BENCH=ON -DTG_BUILD_TESTS=OFF
#   ninja -C ../base/build-bench tg_train tensorgrad-bench   # and the same for this tree in build-bench
#   bash bench/ab_compare.sh ../base/build-bench build-bench
set -euo pipefail
A=$1 B=$2
shift 2
REPS=5 MODELS="mlp cnn" LIMIT=0
while (($#)); do
  case $1 in
    --reps) REPS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --train-limit) LIMIT=$2; shift 2 ;;
    *) echo "usage: bash bench/ab_compare.sh A_BUILD B_BUILD [--reps N] [--models \"mlp cnn\"] [--train-limit N]" >&2; exit 2 ;;
  esac
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
epoch_seconds() {  # build model threads -> the epoch's training seconds (metrics.csv: 3 decimals)
  rm -rf "$out/run"
  "$1/tools/tg_train" --model "$2" --epochs 1 --threads "$3" --no-progress --train-limit "$LIMIT" --test-limit 1000 \
    --out "$out/run" >/dev/null
  awk -F, 'NR == 2 { print $6 }' "$out/run/metrics.csv"
}

echo "A = $A"
echo "B = $B"
grep -m1 'model name' /proc/cpuinfo || true
printf '\n%-28s %10s %10s %8s\n' case A_median B_median B/A
for model in $MODELS; do
  for threads in 1 2; do
    : >"$out/a" && : >"$out/b"
    for ((r = 0; r < REPS; ++r)); do
      epoch_seconds "$A" "$model" "$threads" >>"$out/a"
      epoch_seconds "$B" "$model" "$threads" >>"$out/b"
    done
    a=$(median <"$out/a") b=$(median <"$out/b")
    printf '%-28s %10s %10s %8.3f\n' "epoch $model ${threads}t (s)" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
  done
done

# tensorgrad-bench ops --tsv: case, threads, median microseconds. Interleaved runs, medians of the medians.
for ((r = 0; r < REPS; ++r)); do
  "$A/bench/tensorgrad-bench" ops --tsv --reps 3 >>"$out/ops_a"
  "$B/bench/tensorgrad-bench" ops --tsv --reps 3 >>"$out/ops_b"
done
cut -f1,2 "$out/ops_a" | sort -u | while IFS=$'\t' read -r name threads; do
  a=$(awk -F'\t' -v n="$name" -v t="$threads" '$1 == n && $2 == t { print $3 }' "$out/ops_a" | median)
  b=$(awk -F'\t' -v n="$name" -v t="$threads" '$1 == n && $2 == t { print $3 }' "$out/ops_b" | median)
  printf '%-28s %10s %10s %8.3f\n' "$name ${threads}t (us)" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
done

# The tuned GEMM (the rung tg::matmul runs), GFLOP/s per cell: each rep's "| tuned | ..." row of the 1- and
# 2-thread tables, medians per cell; the ratio is A/B GFLOP/s, i.e. B's time over A's as above.
SIZES=256,512,1024 SHAPES=128x512x784,3136x64x288
gemm_rows() {  # build -> "threads cell gflops" lines
  "$1/bench/tensorgrad-bench" gemm --rungs tuned --sizes "$SIZES" --shapes "$SHAPES" --threads 1,2 --reps 3 --no-peak \
    2>/dev/null | awk '/^## / { t = $2 } /^\| rung/ { n = split($0, h, "|") } /^\| tuned/ { m = split($0, v, "|");
      for (i = 3; i < m; ++i) { gsub(/ /, "", h[i]); gsub(/ /, "", v[i]); print t, h[i], v[i] } }'
}
for ((r = 0; r < REPS; ++r)); do
  gemm_rows "$A" >>"$out/gemm_a"
  gemm_rows "$B" >>"$out/gemm_b"
done
awk '{ print $1, $2 }' "$out/gemm_a" | sort -u | while read -r threads cell; do
  a=$(awk -v t="$threads" -v c="$cell" '$1 == t && $2 == c { print $3 }' "$out/gemm_a" | median)
  b=$(awk -v t="$threads" -v c="$cell" '$1 == t && $2 == c { print $3 }' "$out/gemm_b" | median)
  printf '%-28s %10s %10s %8.3f\n' "gemm $cell ${threads}t (GF/s)" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done
