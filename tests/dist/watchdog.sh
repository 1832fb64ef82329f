#!/usr/bin/env bash
# The blocking fast path's watchdog: on 2 ranks, rank 1 never arrives at a blocking all_reduce with a 0.5 s
# timeout. Rank 0's watchdog must print an error naming the collective, its label, call number, shape and rank
# (at MPI_THREAD_MULTIPLE also rank 1's answer: none), and end the job: mpirun must exit non-zero well before the late rank's 60 s sleep would end. Run once at
# MPI_THREAD_FUNNELED (the watchdog ends the process with std::_Exit) and once at MPI_THREAD_MULTIPLE (progress
# thread on; the watchdog calls MPI_Abort).
# Usage: watchdog.sh MPIEXEC TG_DIST_TESTS
set -uo pipefail
mpiexec=$1 tests=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

for progress in 0 1; do
  ending="exit code 3"
  [ "$progress" = 1 ] && ending="MPI_Abort"
  start=$(date +%s%N)
  output=$(TG_DIST_PROGRESS=$progress timeout 40 "$mpiexec" -np 2 "$tests" --gtest_also_run_disabled_tests \
             --gtest_filter='MpiFaults.DISABLED_BlockingFastPathTimeoutEndsTheJobNamingTheCall' 2>&1)
  status=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "--- TG_DIST_PROGRESS=$progress: exit status $status after $ms ms"
  echo "$output"
  [ "$status" != 0 ] || fail "the job exited with status 0 (the watchdog did not end it)"
  [ "$status" != 124 ] || fail "the job hung until the script's 40 s limit (the watchdog did not end it)"
  expected="tg::dist: all_reduce(sum) 'bucket 7' (call #1, float32[8]) did not complete within 0.5 s on rank 0 of 2"
  grep -qF "$expected" <<<"$output" || fail "no watchdog message naming the call and the rank: $expected"
  grep -qF "ending the job with $ending" <<<"$output" || fail "the watchdog should end the job with $ending"
  grep -q "the watchdog did not end the job" <<<"$output" && fail "a rank returned from the stuck call"
  # At MPI_THREAD_MULTIPLE the watchdog asks the other ranks first (rank 1 never answers: it is asleep).
  if [ "$progress" = 1 ]; then
    grep -qF "rank 1: no answer within 0.5 s (never arrived" <<<"$output" || fail "no report on rank 1"
  else
    grep -qF "the other ranks were not asked" <<<"$output" || fail "the FUNNELED message should say it asked no one"
  fi
  ((ms < 20000)) || fail "the job took $ms ms to end (timeout 0.5 s)"
done
echo "PASS"
