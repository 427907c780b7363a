#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What braid's idle back-off (lcores.idle_sleep_max_us) costs in latency:
# the `clean` testbed with a 200 kbit/s stream (19 packets/s, so both
# gateways are idle between packets and each packet finds them asleep),
# once per maximum sleep, 0 (busy polling) first. Prints one line per
# setting: one-way p50 / p99 / max in each direction. Needs what
# run_profile.sh needs; about 25 s per setting.
#
# usage: tests/e2e/idle_cost.sh [BUILD_DIR] [US ...]   (default 0 20 200 1000)

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
[ $# -gt 0 ] && shift
SETTINGS=${*:-0 20 200 1000}
# Profile and run files of each setting; removed at exit.
TMP=$(mktemp -d -t braid-idle.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

jq '.stream_kbps = 200 | .description = "clean at 200 kbit/s (idle back-off cost)"' \
	"$ROOT/tests/e2e/profiles/clean.json" > "$TMP/clean_slow.json"
printf '%-22s %-28s %s\n' "idle_sleep_max_us" "src->dst p50/p99/max ms" "dst->src p50/p99/max ms"
for us in $SETTINGS; do
	BRAID_E2E_IDLE_SLEEP_US=$us bash "$ROOT/tests/e2e/run_profile.sh" \
		"$TMP/clean_slow.json" "$BUILD" --out "$TMP/run-$us" --duration 10 --no-check \
		--quiet > /dev/null 2>&1
	if [ ! -r "$TMP/run-$us/summary.json" ]; then
		printf '%-22s run failed\n' "$us"
		continue
	fi
	jq -r --arg us "$us" '[$us] + ([.fwd, .rev] | map("\(.lat_p50_ms * 10 | round / 10) / \(.lat_p99_ms * 10 | round / 10) / \(.lat_max_ms * 10 | round / 10)")) | "\(.[0])\t\(.[1])\t\(.[2])"' \
		"$TMP/run-$us/summary.json" | awk -F'\t' '{ printf "%-22s %-28s %s\n", $1, $2, $3 }'
done
