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
for key in overlap no_overlap progress_overlap progress_no_overlap single; do
  e=$(tr ' ' '\n' <<<"${times[$key]}" | grep . | median)
  x=-; [ -n "${exposed[$key]:-}" ] && x=$(tr ' ' '\n' <<<"${exposed[$key]}" | grep . | median)
  printf '%-28s %10s %18s   %s| %s\n' "$key" "$e" "$x" "${times[$key]}" "${exposed[$key]:-}"
done
