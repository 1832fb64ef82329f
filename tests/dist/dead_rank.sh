#!/usr/bin/env bash
# A rank that dies: on 2 ranks, rank 1 kills itself (SIGKILL) while rank 0 waits for it in an all_reduce
# labelled 'bucket 3' (timeout 60 s, so only the launcher can end the wait in time). The launcher must end the
# job well before that, naming the dead rank, and rank 0 must report the call it was waiting in (termination.h).
# Run on the blocking fast path (rank 0 is inside MPI_Allreduce: its watchdog reports) and on the polled path.
# Usage: dead_rank.sh MPIEXEC TG_DIST_TESTS
set -uo pipefail
mpiexec=$1 tests=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

for fast_path in 1 0; do
  start=$(date +%s%N)
  output=$(TG_DIST_FAST_PATH=$fast_path timeout 50 "$mpiexec" -np 2 "$tests" --gtest_also_run_disabled_tests \
             --gtest_filter='MpiFaults.DISABLED_ARankThatDiesEndsTheJobAndTheOthersNameTheirCall' 2>&1)
  status=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "--- TG_DIST_FAST_PATH=$fast_path: exit status $status after $ms ms"
  echo "$output"
  [ "$status" != 0 ] || fail "the job exited with status 0"
  [ "$status" != 124 ] || fail "the job hung until the script's 50 s limit"
  grep -q "rank 1 .*exited on signal 9" <<<"$output" || fail "the launcher did not name the dead rank"
  expected="tg::dist: rank 0 of 2 ended by SIGTERM after waiting"
  grep -qF "$expected" <<<"$output" || fail "rank 0 did not report its call: $expected"
  grep -qF "in all_reduce(sum) 'bucket 3' (call #2, float32[8])" <<<"$output" ||
    fail "rank 0's report does not name the call it waited in"
  grep -q "completed an all_reduce with a dead rank" <<<"$output" && fail "rank 0 completed the all_reduce"
  ((ms < 30000)) || fail "the job took $ms ms to end"
done
echo "PASS"
