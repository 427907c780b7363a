#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs one libFuzzer target for a bounded time from the committed seed
# corpus (read only: new inputs go to a temporary directory) and prints
# BRAID_RESULT suite=<target> passed=1 failed=0, or failed=1 with the
# crashing input kept in $BRAID_FUZZ_ARTIFACTS (default /tmp) and the
# fuzzer's report. A crash found is added to the corpus as regress-<name>
# by hand after the fix (tests/fuzz/make_corpus.py keeps those).
#
# usage: run_fuzzer.sh FUZZER CORPUS_DIR [SECONDS]
#   SECONDS  default $BRAID_FUZZ_SECONDS, else 20
set -u
exe=$1
corpus=$2
secs=${3:-${BRAID_FUZZ_SECONDS:-20}}
name=$(basename "$exe")
art=${BRAID_FUZZ_ARTIFACTS:-/tmp}/$name-
work=$(mktemp -d "/tmp/$name.XXXXXX")
log=$work.log
trap 'rm -rf "$work" "$log"' EXIT

# DPDK keeps its allocations until exit: leaks are what braid allocates
# per input (LSan runs at the end of every input in libFuzzer).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-print_final_stats=1 -artifact_prefix="$art" "$work" "$corpus" > "$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ "$rc" = 0 ] && ! grep -q -E '^(==[0-9]+==ERROR|SUMMARY: )' "$log"; then
	echo "$name: ${runs:-?} inputs in $secs s from $(ls "$corpus" | wc -l) seeds, no crash"
	echo "BRAID_RESULT suite=$name passed=1 failed=0"
	exit 0
fi
grep -E -A30 '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error|INFO: Running|.*Test unit written)' "$log" |
	head -80
echo "$name: exit $rc after ${runs:-?} inputs; crashing input: ${art}*"
echo "BRAID_RESULT suite=$name passed=0 failed=1"
exit 1
