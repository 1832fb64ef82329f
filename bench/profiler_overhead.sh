#!/usr/bin/env bash
# What the profiler costs when no profile runs: the training epoch time of tg_train built with the
# profiler compiled in (TG_PROFILER=ON, the default) against one built with it compiled out
# (TG_PROFILER=OFF), run alternately so that load on a shared machine hits both alike. Prints every run
# and the medians (the epoch's training seconds from metrics.csv; evaluation excluded).
#   bash bench/profiler_overhead.sh [--runs N] [--model mlp|cnn] [--threads N]
# Environment: ON_BUILD_DIR (default build-bench), OFF_BUILD_DIR (default build-bench-noprof).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=5 MODEL=mlp THREADS=2
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: bash bench/profiler_overhead.sh [--runs N] [--model mlp|cnn] [--threads N]" >&2; exit 2 ;;
  esac
done
ON=${ON_BUILD_DIR:-build-bench}
OFF=${OFF_BUILD_DIR:-build-bench-noprof}
for pair in "$ON:ON" "$OFF:OFF"; do
  dir=${pair%%:*} value=${pair##*:}
  # An existing Release tree with the right TG_PROFILER is reused as it is configured.
  if ! grep -qx "TG_PROFILER:BOOL=$value" "$dir/CMakeCache.txt" 2>/dev/null ||
     ! grep -qx "CMAKE_BUILD_TYPE:STRING=Release" "$dir/CMakeCache.txt"; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_TESTS=OFF -DTG_BUILD_EXAMPLES=OFF \
      -DTG_PROFILER="$value" >/dev/null
  fi
  ninja -C "$dir" tg_train >/dev/null
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

epoch_seconds() {  # binary -> the epoch's training seconds
  "$1" --model "$MODEL" --epochs 1 --threads "$THREADS" --no-progress --out "$out/run" >/dev/null
  tail -n 1 "$out/run/metrics.csv" | cut -d, -f6
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

on_times=() off_times=()
printf '%4s %12s %12s\n' run on_seconds off_seconds
for ((i = 1; i <= RUNS; i++)); do
  on_times+=("$(epoch_seconds "./$ON/tools/tg_train")")
  off_times+=("$(epoch_seconds "./$OFF/tools/tg_train")")
  printf '%4d %12s %12s\n' "$i" "${on_times[-1]}" "${off_times[-1]}"
done
on_median=$(printf '%s\n' "${on_times[@]}" | median)
off_median=$(printf '%s\n' "${off_times[@]}" | median)
printf 'median %10s %12s   on/off = %s\n' "$on_median" "$off_median" \
  "$(awk -v a="$on_median" -v b="$off_median" 'BEGIN { printf "%.3f", a / b }')"
