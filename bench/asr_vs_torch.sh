#!/usr/bin/env bash
# One Conformer-CTC training step, tensorgrad against PyTorch in one run: `tg_asr profile --time-steps K` and
# bench/asr_torch.py --time (the same model, batch shape and recipe: forward, CTC loss, backward, clipping,
# AdamW) run alternately for several rounds at each thread count (the order flips every round); each prints
# the median of its K timed steps. The table shows the median over rounds in milliseconds and the ratio
# tensorgrad / torch (below 1: tensorgrad is faster; the ASR issue's target is at most 0.7).
#   bash bench/asr_vs_torch.sh [--rounds 3] [--steps 5] [--threads 1,2] [--batch 16] [--seconds 4]
#                              [-- extra model flags for both, e.g. --subsampling-channels 64]
# Environment: BUILD_DIR (default build, configured with -DTG_AUDIO=ON), TORCH_PY (default /usr/bin/python3,
# Debian's python3 that sees python3-torch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=3 STEPS=5 THREADS=1,2 BATCH=16 SECONDS_PER_UTT=4
usage="usage: bash bench/asr_vs_torch.sh [--rounds N] [--steps K] [--threads 1,2] [--batch B] [--seconds S] [-- model flags]"
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --seconds) SECONDS_PER_UTT=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
MODEL_FLAGS=("$@")
BUILD_DIR=${BUILD_DIR:-build}
TORCH_PY=${TORCH_PY:-/usr/bin/python3}
ASR="$BUILD_DIR/tools/tg_asr"
[[ -x $ASR ]] || { echo "no $ASR: configure with -DTG_AUDIO=ON and build tg_asr" >&2; exit 2; }
"$TORCH_PY" -c 'import torch' 2>/dev/null || { echo "$TORCH_PY cannot import torch" >&2; exit 2; }
# Debian's torch does its matrix products through libblas.so.3: with only the reference BLAS installed it is
# ~10x slower than with OpenBLAS (apt install libopenblas0-pthread), and no fair baseline.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
[[ $blas == *openblas* || $blas == *mkl* || $blas == *blis* ]] ||
  echo "warning: libblas.so.3 is $blas, not an optimised BLAS; install libopenblas0-pthread for a fair torch" >&2

# The median out of a `tg_step_ms median=... ...` / `torch_step_ms median=... ...` line.
median_of() { sed -n -e 's/^\(tg\|torch\)_step_ms median=\([0-9.]*\).*/\2/p' | tail -n 1; }
tg_step() {
  "$ASR" profile --time-steps "$STEPS" --threads "$1" --batch "$BATCH" --seconds "$SECONDS_PER_UTT" \
    "${MODEL_FLAGS[@]}" | median_of
}
torch_step() {
  "$TORCH_PY" bench/asr_torch.py --time --steps "$STEPS" --threads "$1" --batch "$BATCH" \
    --seconds "$SECONDS_PER_UTT" "${MODEL_FLAGS[@]}" | median_of
}

echo "torch BLAS: $blas"
echo "CPU: $(sed -n -e 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
echo "load before: $(uptime)"
results=()
IFS=, read -r -a thread_counts <<<"$THREADS"
for threads in "${thread_counts[@]}"; do
  for ((r = 0; r < ROUNDS; ++r)); do
    if ((r % 2 == 0)); then
      tg=$(tg_step "$threads"); torch=$(torch_step "$threads")
    else
      torch=$(torch_step "$threads"); tg=$(tg_step "$threads")
    fi
    [[ -n $tg && -n $torch ]] || { echo "a run printed no step time (threads $threads)" >&2; exit 1; }
    echo "threads $threads round $((r + 1))/$ROUNDS: tensorgrad $tg ms, torch $torch ms" >&2
    results+=("$threads $tg $torch")
  done
done
echo "load after:  $(uptime)"

printf '%s\n' "${results[@]}" | "$TORCH_PY" -c '
import collections, statistics, sys
rows = collections.defaultdict(lambda: ([], []))
for line in sys.stdin:
    threads, tg, torch = line.split()
    rows[int(threads)][0].append(float(tg))
    rows[int(threads)][1].append(float(torch))
print("\nmedian over rounds of each run'"'"'s median step, milliseconds; ratio = tensorgrad / torch\n")
print("| threads | tensorgrad ms | torch ms | ratio |")
print("|---:|---:|---:|---:|")
for threads, (tg, torch) in rows.items():
    a, b = statistics.median(tg), statistics.median(torch)
    print(f"| {threads} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
'
