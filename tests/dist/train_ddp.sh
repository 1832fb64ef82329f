#!/usr/bin/env bash
# tg_train under mpirun: a short data-parallel run on 2 ranks writes a checkpoint (rank 0 only), the run resumes
# on 2 ranks, and resuming it in one process is refused because the data order depends on the world size;
# then a short parameter-server run on 3 ranks, a parameter-server checkpoint resumed on 2 ranks (equal to the
# uninterrupted run), a 2-stage pipeline and a 2-way tensor-parallel MLP whose losses equal the 1-process run's.
# Usage: train_ddp.sh MPIEXEC TG_TRAIN WORKDIR
set -euo pipefail
mpiexec=$1 train=$2 work=$3
rm -rf "$work" && mkdir -p "$work/data"

# A small Fashion-MNIST-shaped data set (gzip IDX files: big-endian header, then bytes), so each run is quick.
be32() { printf "\\x%02x\\x%02x\\x%02x\\x%02x" $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
write_set() {  # prefix count
  { printf "$(be32 2051)$(be32 "$2")$(be32 28)$(be32 28)"; head -c $(($2 * 784)) /dev/urandom; } | gzip >"$work/data/$1-images-idx3-ubyte.gz"
  { printf "$(be32 2049)$(be32 "$2")"; for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; done; } |
    gzip >"$work/data/$1-labels-idx1-ubyte.gz"
}
write_set train 256
write_set t10k 64
common=(--no-progress --threads 1 --batch-size 32 --data-dir "$work/data" --out "$work/run")
fail() { echo "FAIL: $*" >&2; exit 1; }

"$mpiexec" -np 2 "$train" --dist ddp --epochs 1 --save "$work/ck.safetensors" "${common[@]}" >"$work/first.txt" 2>&1 ||
  { cat "$work/first.txt"; fail "the 2-rank run failed"; }
cat "$work/first.txt"
grep -q "data parallel over 2 ranks (mpi)" "$work/first.txt" || fail "no data-parallel banner"
# --progress-thread auto: a progress thread only where the 2 ranks x 1 thread leave this machine a core free.
expected=off; [ "$(getconf _NPROCESSORS_ONLN)" -gt 2 ] && expected=on
grep -q "progress thread $expected\$" "$work/first.txt" || fail "expected progress thread $expected on $(getconf _NPROCESSORS_ONLN) cores"
[ "$(grep -c '^epoch 1/1' "$work/first.txt")" = 1 ] || fail "the epoch line must be printed once, by rank 0"
[ -f "$work/ck.safetensors" ] || fail "no checkpoint written"
ls "$work" | grep -q 'tmp' && fail "a temporary checkpoint file was left behind"

"$mpiexec" -np 2 "$train" --dist ddp --epochs 2 --resume "$work/ck.safetensors" "${common[@]}" >"$work/resumed.txt" 2>&1 ||
  { cat "$work/resumed.txt"; fail "the 2-rank resume failed"; }
grep -q "resumed from .* after epoch 1" "$work/resumed.txt" || fail "did not resume"
grep -q "^epoch 2/2" "$work/resumed.txt" || fail "no second epoch"

if "$train" --epochs 2 --resume "$work/ck.safetensors" "${common[@]}" >"$work/single.txt" 2>&1; then
  fail "a 1-process resume of a 2-rank checkpoint must be refused"
fi
grep -q "was trained on 2 rank(s)" "$work/single.txt" || { cat "$work/single.txt"; fail "unclear world-size error"; }
# The parameter server: rank 0 serves, ranks 1 and 2 each push one gradient per batch of their shard.
"$mpiexec" -np 3 "$train" --dist ps --epochs 1 --staleness-bound 1 "${common[@]}" >"$work/ps.txt" 2>&1 ||
  { cat "$work/ps.txt"; fail "the parameter-server run failed"; }
grep -q "^8 updates in .*staleness mean" "$work/ps.txt" || { cat "$work/ps.txt"; fail "expected 8 updates (2 workers x 4 batches)"; }
# Parameter-server checkpoints: with one worker (2 ranks) the run is sequential, so 1 epoch saved and resumed to
# 2 must end exactly as 2 epochs in one go; a resume with another world size is refused.
"$mpiexec" -np 2 "$train" --dist ps --epochs 2 --save "$work/ps_full.safetensors" "${common[@]}" >"$work/ps_full.txt" 2>&1 ||
  { cat "$work/ps_full.txt"; fail "the 2-epoch parameter-server run failed"; }
"$mpiexec" -np 2 "$train" --dist ps --epochs 1 --save "$work/ps.safetensors" "${common[@]}" >"$work/ps_first.txt" 2>&1 ||
  { cat "$work/ps_first.txt"; fail "the parameter-server run with --save failed"; }
[ -f "$work/ps.safetensors" ] || fail "the parameter server wrote no checkpoint"
ls "$work" | grep -q 'tmp' && fail "a temporary checkpoint file was left behind"
"$mpiexec" -np 2 "$train" --dist ps --epochs 2 --resume "$work/ps.safetensors" --save "$work/ps_resumed.safetensors" \
  "${common[@]}" >"$work/ps_resumed.txt" 2>&1 ||
  { cat "$work/ps_resumed.txt"; fail "the parameter-server resume failed"; }
cat "$work/ps_resumed.txt"
grep -q "resumed from .* after 8 updates" "$work/ps_resumed.txt" || fail "the parameter server did not resume after 8 updates"
grep -q "^8 updates in" "$work/ps_resumed.txt" || fail "the resumed run should apply the second epoch's 8 updates"
full=$(grep '^final test loss' "$work/ps_full.txt") resumed=$(grep '^final test loss' "$work/ps_resumed.txt")
[ -n "$full" ] && [ "$full" = "$resumed" ] || fail "resumed parameter server: '$resumed', uninterrupted: '$full'"
# The final checkpoints (parameters, optimizer state, progress) must be byte for byte the same.
cmp "$work/ps_full.safetensors" "$work/ps_resumed.safetensors" || fail "the resumed run's final checkpoint differs"
if "$mpiexec" -np 3 "$train" --dist ps --epochs 2 --resume "$work/ps.safetensors" "${common[@]}" >"$work/ps_np3.txt" 2>&1; then
  fail "a 3-rank resume of a 2-rank parameter-server checkpoint must be refused"
fi
grep -q "was trained on 2 rank(s)" "$work/ps_np3.txt" || { cat "$work/ps_np3.txt"; fail "unclear world-size error"; }
# A checkpoint resumes only in the mode that wrote it.
if "$mpiexec" -np 2 "$train" --dist ddp --epochs 2 --resume "$work/ps.safetensors" "${common[@]}" >"$work/mode.txt" 2>&1; then
  fail "a data-parallel resume of a parameter-server checkpoint must be refused"
fi
grep -q "was written by --dist ps" "$work/mode.txt" || { cat "$work/mode.txt"; fail "unclear mode error (ddp)"; }
if "$mpiexec" -np 2 "$train" --dist ps --epochs 2 --resume "$work/ck.safetensors" "${common[@]}" >"$work/mode.txt" 2>&1; then
  fail "a parameter-server resume of a data-parallel checkpoint must be refused"
fi
grep -q "was not written by --dist ps" "$work/mode.txt" || { cat "$work/mode.txt"; fail "unclear mode error (ps)"; }
# The pipeline: 2 stages, GPipe micro-batches; its losses must be those of the single-process run (the
# gradients are the same up to summation order, so the printed 4-decimal losses agree to within 2e-4).
"$mpiexec" -np 2 "$train" --dist pipeline --epochs 2 "${common[@]}" >"$work/pipeline.txt" 2>&1 ||
  { cat "$work/pipeline.txt"; fail "the pipeline run failed"; }
"$train" --epochs 2 "${common[@]}" >"$work/single.txt" 2>&1 || { cat "$work/single.txt"; fail "the 1-process run failed"; }
losses() { sed -n 's/^epoch \([0-9]*\)\/2 .*train loss \([0-9.]*\) .*test loss \([0-9.]*\) .*/\2 \3/p' "$1"; }
paste <(losses "$work/pipeline.txt") <(losses "$work/single.txt") >"$work/losses.txt"
[ "$(wc -l <"$work/losses.txt")" = 2 ] || { cat "$work/pipeline.txt" "$work/single.txt"; fail "expected 2 epoch lines each"; }
awk '{ for (i = 1; i <= 2; i++) { d = $i - $(i + 2); if (d < 0) d = -d; if (d > 2e-4) bad = 1 } } END { exit bad }' \
  "$work/losses.txt" || { cat "$work/losses.txt"; fail "pipeline losses differ from the single-process run"; }
# Tensor parallel: the MLP's first two Linear layers split over 2 ranks; the same losses as the 1-process run.
"$mpiexec" -np 2 "$train" --dist tp --epochs 2 "${common[@]}" >"$work/tp.txt" 2>&1 ||
  { cat "$work/tp.txt"; fail "the tensor-parallel run failed"; }
paste <(losses "$work/tp.txt") <(losses "$work/single.txt") >"$work/losses.txt"
[ "$(wc -l <"$work/losses.txt")" = 2 ] || { cat "$work/tp.txt" "$work/single.txt"; fail "expected 2 epoch lines each"; }
awk '{ for (i = 1; i <= 2; i++) { d = $i - $(i + 2); if (d < 0) d = -d; if (d > 2e-4) bad = 1 } } END { exit bad }' \
  "$work/losses.txt" || { cat "$work/losses.txt"; fail "tensor-parallel losses differ from the single-process run"; }
echo "train_ddp: all checks passed"
