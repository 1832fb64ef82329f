#!/usr/bin/env bash
# One Fashion-MNIST MLP epoch five ways, on the same global batch (128) and the same cores:
#   overlap              mpirun -np 2 tg_train --dist ddp --threads 1 --batch-size 64 --progress-thread off
#   no_overlap           the same with --no-overlap
#   progress_overlap     mpirun -np 2 tg_train --dist ddp --threads 1 --batch-size 64 --progress-thread on
#   progress_no_overlap  the same with --no-overlap
#   single               tg_train --threads 2 --batch-size 128
# Prints the median epoch time over REPS runs (evaluation excluded; from the samples/s the epoch line prints, for
# three decimals), and for DDP the communication time
# synchronize() did not hide (rank 0, summed over the epoch).
#   bash bench/dist/ddp_epoch.sh [build dir, default build] [reps, default 3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${1:-build}
REPS=${2:-3}
TRAIN=$BUILD/tools/tg_train
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
common=(--epochs 1 --no-progress --out "$(mktemp -d)")

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
epoch_seconds() { sed -n 's/^epoch 1\/1 .* (\([0-9.]*\) samples\/s)$/\1/p' | awk '{printf "%.3f", 60000 / $1}'; }
hidden_not() { sed -n 's/.*, \([0-9.]*\) s not hidden by backward/\1/p'; }

declare -A times exposed
for ((r = 0; r < REPS; r++)); do
  out=$(mpirun -np 2 "$TRAIN" --dist ddp --threads 1 --batch-size 64 --progress-thread off "${common[@]}")
  times[overlap]+="$(epoch_seconds <<<"$out") "; exposed[overlap]+="$(hidden_not <<<"$out") "
  out=$(mpirun -np 2 "$TRAIN" --dist ddp --threads 1 --batch-size 64 --progress-thread off --no-overlap "${common[@]}")
  times[no_overlap]+="$(epoch_seconds <<<"$out") "; exposed[no_overlap]+="$(hidden_not <<<"$out") "
  out=$(mpirun -np 2 "$TRAIN" --dist ddp --threads 1 --batch-size 64 --progress-thread on "${common[@]}")
  times[progress_overlap]+="$(epoch_seconds <<<"$out") "; exposed[progress_overlap]+="$(hidden_not <<<"$out") "
  out=$(mpirun -np 2 "$TRAIN" --dist ddp --threads 1 --batch-size 64 --progress-thread on --no-overlap "${common[@]}")
  times[progress_no_overlap]+="$(epoch_seconds <<<"$out") "; exposed[progress_no_overlap]+="$(hidden_not <<<"$out") "
  out=$("$TRAIN" --threads 2 --batch-size 128 "${common[@]}")
  times[single]+="$(epoch_seconds <<<"$out") "
done
printf '%-28s %10s %18s   (median of %d; samples: epoch s | exposed s)\n' setup epoch_s comm_not_hidden_s "$REPS"
declare -A epoch_median exposed_median
for key in overlap no_overlap progress_overlap progress_no_overlap single; do
  e=$(tr ' ' '\n' <<<"${times[$key]}" | grep . | median)
  x=-; [ -n "${exposed[$key]:-}" ] && x=$(tr ' ' '\n' <<<"${exposed[$key]}" | grep . | median)
  epoch_median[$key]=$e exposed_median[$key]=$x
  printf '%-28s %10s %18s   %s| %s\n' "$key" "$e" "$x" "${times[$key]}" "${exposed[$key]:-}"
done
# The issue's two ratios, from the medians: 2 ranks x 1 thread against 1 process x 2 threads (best DDP setup
# without the progress thread), and the share of the no-overlap synchronize() time that overlap hides.
awk -v o="${epoch_median[overlap]}" -v n="${epoch_median[no_overlap]}" -v s="${epoch_median[single]}" \
    -v xo="${exposed_median[overlap]}" -v xn="${exposed_median[no_overlap]}" 'BEGIN {
  best = o < n ? o : n
  printf "2x1 / 1x2: %.2f (overlap %.2f, no overlap %.2f); overlap hides %.0f%% of the no-overlap synchronize() time\n",
         best / s, o / s, n / s, 100 * (xn - xo) / xn }'
