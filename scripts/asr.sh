#!/usr/bin/env bash
# Speech recognition end to end (docs/ASR.md): installs what it needs, builds tg_asr, synthesises a corpus,
# trains a Conformer-CTC on it, evaluates on the test voices (never heard in training) and transcribes a few
# test files. Work goes to $ASR_DIR (default asr-run/).
#   bash scripts/asr.sh [extra tg_asr train flags, e.g. --threads 2]
# Environment: BUILD_DIR (default build), JOBS (default 2), ASR_DIR, HOURS (corpus size, default 4), SEED,
# EPOCHS (default 26), SUBSAMPLING_CHANNELS (default 64): the recipe docs/ASR.md measured, ~21 min of training
# on two cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
tg_install_deps

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
ASR_DIR=${ASR_DIR:-asr-run}
HOURS=${HOURS:-4}
EPOCHS=${EPOCHS:-26}
SUBSAMPLING_CHANNELS=${SUBSAMPLING_CHANNELS:-64}
SEED=${SEED:-1}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_AUDIO=ON
ninja -C "$BUILD_DIR" -j "$JOBS" tg_asr
ASR="./$BUILD_DIR/tools/tg_asr"

if [[ ! -f $ASR_DIR/corpus/test.jsonl ]]; then
  "$ASR" make-corpus --out "$ASR_DIR/corpus" --hours "$HOURS" --seed "$SEED" --jobs "$JOBS"
fi
"$ASR" train --corpus "$ASR_DIR/corpus" --out "$ASR_DIR/model" --seed "$SEED" --epochs "$EPOCHS" \
  --subsampling-channels "$SUBSAMPLING_CHANNELS" "$@"
"$ASR" eval "$ASR_DIR/model/checkpoint.safetensors" "$ASR_DIR/corpus/test.jsonl"
"$ASR" eval "$ASR_DIR/model/checkpoint.safetensors" "$ASR_DIR/corpus/test.jsonl" --beam 8
mapfile -t examples < <(head -n 5 "$ASR_DIR/corpus/test.jsonl" | sed -e 's/.*"file":"\([^"]*\)".*/\1/')
echo "transcribing ${#examples[@]} test files (the manifest's text after each):"
"$ASR" transcribe "$ASR_DIR/model/checkpoint.safetensors" "${examples[@]/#/$ASR_DIR/corpus/}"
head -n 5 "$ASR_DIR/corpus/test.jsonl" | sed -e 's/.*"text":"\([^"]*\)".*/  reference: \1/'
