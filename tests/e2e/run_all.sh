#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Every e2e profile CI runs (the list in tests/e2e/meson.build), each with
# several emulator seeds: what "passes for 3 seeds" means (doc/testing.md).
# One run at a time (they share two CPUs); about 35 s per run.
#
# usage: tests/e2e/run_all.sh [--seeds N] [--first S] [BUILD_DIR] [PROFILE...]
#   --seeds N   seeds S..S+N-1 per profile (default 3)
#   --first S   the first seed (default 1, the profiles' own)
#   PROFILE...  instead of CI's list
# Prints each run's BRAID_RESULT line (with its seed, p99 latency each way
# against the bound and packets lost) and, last,
# "N passed, N failed" over every assertion of every run. Exit 0 when
# nothing failed. Needs root (run_profile.sh).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SEEDS=3
FIRST=1
BUILD=
PROFILES=()

while [ $# -gt 0 ]; do
	case "$1" in
	--seeds) SEEDS=${2:-}; shift 2 ;;
	--first) FIRST=${2:-}; shift 2 ;;
	-h|--help) sed -n '/^# usage:/,/^# nothing/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)
		if [ -z "$BUILD" ] && [ -d "$1" ]; then
			BUILD=$1
		else
			PROFILES+=("$1")
		fi
		shift ;;
	esac
done
case "$SEEDS$FIRST" in
''|*[!0-9]*) echo "run_all.sh: --seeds and --first take numbers" >&2; exit 2 ;;
esac
BUILD=${BUILD:-${BRAID_BUILD_DIR:-$ROOT/build}}
if [ ${#PROFILES[@]} = 0 ]; then
	# The profiles of tests/e2e/meson.build's foreach list.
	read -r -a PROFILES <<< "$(sed -n "s/^foreach p : \[\(.*\)\]/\1/p" "$HERE/meson.build" |
		tr -d "',")"
fi

pass=0
fail=0
for p in "${PROFILES[@]}"; do
	for ((s = FIRST; s < FIRST + SEEDS; s++)); do
		out=$(mktemp -d /tmp/braid-e2e-all.XXXXXX)
		line=$(BRAID_E2E_SEED=$s bash "$HERE/run_profile.sh" "$p" "$BUILD" --quiet \
			--out "$out" 2>&1 | grep '^BRAID_RESULT' | tail -1)
		# The margins: p99 each way against the bound, residual loss.
		lat=$(jq -r '"p99 \(.fwd.lat_p99_ms * 10 | round / 10) / \(.rev.lat_p99_ms * 10 |
			round / 10) ms (bound \(.lat_bound_ms)), loss \(.fwd.lost) / \(.rev.lost)"' \
			"$out/summary.json" 2>/dev/null)
		rm -rf "$out"
		if [ -z "$line" ]; then
			echo "BRAID_RESULT suite=e2e_$p seed=$s passed=0 failed=1 (no result line)"
			fail=$((fail + 1))
			continue
		fi
		echo "${line/ passed=/ seed=$s passed=}${lat:+ ($lat)}"
		n=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' <<< "$line")
		f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<< "$line")
		pass=$((pass + ${n:-0}))
		fail=$((fail + ${f:-1}))
	done
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
