#!/usr/bin/env bash
# Op overhead and memory-bound ops, tensorgrad against PyTorch in one run: `tensorgrad-bench ops --tsv` and
# bench/torch_ops.py --tsv are run alternately for several rounds (the order flips every round), each round
# reporting per-case medians of its own interleaved samples; the table shows the median over rounds, in
# microseconds per call, and the ratio torch / tensorgrad (above 1: tensorgrad is faster).
#   bash bench/ops_vs_torch.sh [--rounds 5] [--reps 7] [--min-time 0.02] [--threads 1,2]
# Environment: BUILD_DIR (default build; configured with -DTG_BUILD_BENCH=ON), TORCH_PY (default /usr/bin/python3,
# Debian's python3 that sees python3-torch). Both programs inherit the same environment (e.g. OMP_WAIT_POLICY).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=5 REPS=7 MIN_TIME=0.02 THREADS=1,2
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --min-time) MIN_TIME=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: bash bench/ops_vs_torch.sh [--rounds N] [--reps N] [--min-time S] [--threads 1,2]" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build}
TORCH_PY=${TORCH_PY:-/usr/bin/python3}
BENCH="$BUILD_DIR/bench/tensorgrad-bench"
[[ -x $BENCH ]] || { echo "no $BENCH: configure with -DTG_BUILD_BENCH=ON and build tensorgrad-bench" >&2; exit 2; }
"$TORCH_PY" -c 'import torch' 2>/dev/null || { echo "$TORCH_PY cannot import torch" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load before: $(uptime)"
for ((r = 0; r < ROUNDS; ++r)); do
  args=(--threads "$THREADS" --reps "$REPS" --min-time "$MIN_TIME" --tsv)
  if ((r % 2 == 0)); then
    "$BENCH" ops "${args[@]}" >"$out/tg.$r"
    "$TORCH_PY" bench/torch_ops.py "${args[@]}" >"$out/torch.$r"
  else
    "$TORCH_PY" bench/torch_ops.py "${args[@]}" >"$out/torch.$r"
    "$BENCH" ops "${args[@]}" >"$out/tg.$r"
  fi
  echo "round $((r + 1))/$ROUNDS done" >&2
done
echo "load after:  $(uptime)"

"$TORCH_PY" - "$out" "$ROUNDS" <<'EOF'
import collections, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
values = collections.defaultdict(list)  # (impl, case, threads) -> per-round medians
order = []
for impl in ("tg", "torch"):
    for r in range(rounds):
        for line in open(f"{out}/{impl}.{r}"):
            case, threads, us = line.split("\t")
            values[(impl, case, int(threads))].append(float(us))
            if (case, int(threads)) not in order:
                order.append((case, int(threads)))
print(f"\nmedian over {rounds} rounds of per-round medians, microseconds per call; ratio = torch / tensorgrad\n")
print("| case | threads | tensorgrad us | torch us | ratio |")
print("|---|---:|---:|---:|---:|")
for case, threads in order:
    tg = values.get(("tg", case, threads))
    th = values.get(("torch", case, threads))
    tg_m = statistics.median(tg) if tg else None
    th_m = statistics.median(th) if th else None
    ratio = f"{th_m / tg_m:.2f}" if tg_m and th_m else "-"
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    print(f"| {case} | {threads} | {fmt(tg_m)} | {fmt(th_m)} | {ratio} |")
EOF
