#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# braid's main demo (the README's first command): installs what is missing
# (scripts/setup.sh), builds into build/, then runs two braid gateways in
# network namespaces carrying a 20 Mbit/s CBR stream each way over three
# emulated WAN links with the "lossy" profile (10 Mbit/s, 15 ms +-3 ms, 5 %
# random loss each), for about 20 s. Prints one table (sent, delivered,
# recovered by FEC and by retransmission, residual loss, latency
# percentiles, wire overhead, per-link share) and writes a gnuplot PNG of
# per-link throughput and end-to-end latency over time, with every raw
# file of the run, into results/<timestamp>/.
#
#   sudo scripts/demo.sh [PROFILE]       PROFILE: tests/e2e/profiles/<name>.json
#                                        (default lossy)
#   BRAID_BUILD_DIR=DIR                  build directory (default build)
#   BRAID_DEMO_DURATION=S                stream seconds (default 20)
#   BRAID_DEMO_ARP=1                     next hops by ARP, no static MACs
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "$@"
fi

profile=${1:-lossy}
build=${BRAID_BUILD_DIR:-build}
duration=${BRAID_DEMO_DURATION:-20}
say() { printf 'demo: %s\n' "$*" >&2; }

bash scripts/setup.sh >&2 || { say "setup failed"; exit 1; }

say "building into $build/"
if [ ! -d "$build" ]; then
	meson setup "$build" > "$top/.demo-meson.log" 2>&1 ||
		{ cat "$top/.demo-meson.log" >&2; say "meson setup failed"; exit 1; }
	rm -f "$top/.demo-meson.log"
fi
ninja -C "$build" app/braid/braid app/braid-linkemu/braid-linkemu \
	app/braid-traffic/braid-traffic app/braidctl/braidctl > /dev/null ||
	{ say "build failed (ninja -C $build for the messages)"; exit 1; }

ts=$(date +%Y%m%d-%H%M%S)
out=$top/results/$ts
mkdir -p "$out" || exit 1
extra=()
[ "${BRAID_DEMO_ARP:-0}" = 1 ] && extra+=(--arp)
say "running profile $profile for $duration s (namespaces, 2 gateways, emulator, 2 streams) ..."
tests/e2e/run_profile.sh "$profile" "$build" --out "$out" --duration "$duration" \
	--no-check --quiet "${extra[@]}" > "$out/table.txt" 2> "$out/run.log"
rc=$?
if [ "$rc" != 0 ] || [ ! -s "$out/summary.txt" ]; then
	cat "$out/table.txt" "$out/run.log" >&2
	say "the run failed; its files are in $out"
	exit 1
fi

echo
cat "$out/summary.txt"
echo
nlinks=$(jq '.links | length' "$out/profile.json")
if gnuplot -e "dir='$out'; nlinks=$nlinks; duration=$duration; title='$profile'" \
	scripts/plot.gp 2> "$out/plot.log"; then
	say "plot: $out/braid.png"
else
	say "gnuplot failed: $(cat "$out/plot.log")"
fi
say "every file of the run (configs, gateway logs, JSON results, series): $out/"
