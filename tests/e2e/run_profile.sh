#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# End-to-end test of two braid gateways over emulated WAN links, for one
# emulator profile (tests/e2e/profiles/<name>.json):
#
#   src --lan0-- [braid gwa] ==wan0..N-1== braid-linkemu ==wan0..N-1== [braid gwb] --lan0-- dst
#
# 1. topology.sh (namespaces src gwa emu gwb dst), configurations from
#    configs/gen_config.sh (checked with braid --check-config), one braid
#    process per gateway on net_af_packet ports;
# 2. braid-linkemu with the profile (outage times shifted so that the
#    profile's t = 0 is the start of the stream), a ping each way until the
#    tunnel carries traffic;
# 3. a braid-traffic CBR stream of the profile's stream_kbps in each
#    direction at the same time (src -> dst stream 1, dst -> src stream 2),
#    link counters (the gateways' wan veths) sampled over time;
# 4. SIGTERM to everything, then the assertions (one test each) and a
#    summary table; BRAID_RESULT suite=e2e_<profile> passed=P failed=F.
#
# Always tears down (trap). Needs root, iproute2, jq, ethtool, ping.
#
# usage: tests/e2e/run_profile.sh PROFILE [BUILD_DIR] [options]
#   PROFILE         a name in tests/e2e/profiles/ or a profile file
#   BUILD_DIR       holds app/braid, app/braid-linkemu, app/braid-traffic
#                   (default $BRAID_BUILD_DIR, else <repo>/build)
#   --duration S    stream length in seconds (default 20)
#   --lead S        profile time at which the emulator starts, before the
#                   stream (gateways come up, tunnel warm-up; default 5)
#   --out DIR       keep every file of the run there (default: a temporary
#                   directory, removed at exit)
#   --arp           no static next_hop_mac: gateways resolve next hops by ARP
#   --crypto        the tunnel encrypted (crypto.psk_file, one fresh key for
#                   both) with a new key epoch every second (rekey_s 1):
#                   the same bounds, and no frame refused
#   --crypto-mismatch  the two gateways get different keys: nothing may
#                   cross the tunnel, and both must say why (log, status);
#                   no stream is run
#   --mtu           after the stream: a non-DF UDP datagram of 1472 bytes
#                   arrives whole (braid fragments it), a DF one gets ICMP
#                   "fragmentation needed" with the tunnel's inner MTU, and
#                   a 50 MB TCP transfer completes with its MSS clamped
#   --sample-ms MS  link counter sampling period (default 250)
#   --no-check      measure and print the summary, no assertions (demo)
#   --quiet         only the summary table (and errors) on stdout
# Environment: BRAID_E2E_SEED=N replaces the profile's emulator seed
# (tests/e2e/run_all.sh --seeds runs every profile with several);
# BRAID_E2E_IDLE_SLEEP_US=N the gateways' idle sleep (tests/e2e/idle_cost.sh);
# BRAID_E2E_EAL_ARGS="..." extra EAL arguments for both gateways (e.g.
# --log-level=braid.link:debug to see every capacity cut);
# BRAID_E2E_VIDEO_FEC='{"k": 10, "m": 2}' the video class's FEC instead of
# the example's "auto" (a comparison, not a CI setting).
# Exit status 0 when every assertion passed.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
E2E=$ROOT/tests/e2e
TOPO=$E2E/topology.sh
GEN=$E2E/configs/gen_config.sh

usage() {
	sed -n '/^# usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

PROFILE_ARG=
BUILD=
DURATION=20
LEAD=5
OUT=
ARP=0
CRYPTO=0
MISMATCH=0
MTU=0
SAMPLE_MS=250
CHECK=1
QUIET=0
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=${2:-}; shift 2 ;;
	--lead) LEAD=${2:-}; shift 2 ;;
	--out) OUT=${2:-}; shift 2 ;;
	--arp) ARP=1; shift ;;
	--crypto) CRYPTO=1; shift ;;
	--crypto-mismatch) CRYPTO=1; MISMATCH=1; shift ;;
	--mtu) MTU=1; shift ;;
	--sample-ms) SAMPLE_MS=${2:-}; shift 2 ;;
	--no-check) CHECK=0; shift ;;
	--quiet) QUIET=1; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*)
		if [ -z "$PROFILE_ARG" ]; then PROFILE_ARG=$1
		elif [ -z "$BUILD" ]; then BUILD=$1
		else usage; fi
		shift ;;
	esac
done
[ -n "$PROFILE_ARG" ] || usage
for v in "$DURATION" "$LEAD" "$SAMPLE_MS"; do
	case "$v" in ''|*[!0-9]*) usage ;; esac
done
[ "$DURATION" -ge 2 ] && [ "$DURATION" -le 600 ] || usage
[ "$LEAD" -ge 2 ] && [ "$LEAD" -le 60 ] || usage
[ "$SAMPLE_MS" -ge 50 ] || usage
BUILD=${BUILD:-${BRAID_BUILD_DIR:-$ROOT/build}}
if [ -f "$PROFILE_ARG" ]; then
	PROFILE=$PROFILE_ARG
else
	PROFILE=$E2E/profiles/$PROFILE_ARG.json
fi
NAME=$(basename "$PROFILE" .json)
SUITE=e2e_$NAME
[ "$ARP" = 1 ] && SUITE=${SUITE}_arp
[ "$CRYPTO" = 1 ] && SUITE=${SUITE}_crypto
[ "$MISMATCH" = 1 ] && SUITE=${SUITE}_mismatch
[ "$MTU" = 1 ] && SUITE=${SUITE}_mtu

BRAID=$BUILD/app/braid/braid
LINKEMU=$BUILD/app/braid-linkemu/braid-linkemu
TRAFFIC=$BUILD/app/braid-traffic/braid-traffic
BRAIDCTL=$BUILD/app/braidctl/braidctl
P=${BRAID_NS_PREFIX:-be$$-}
# The testbed's processes (gateways, emulator, stream tools) run at a
# higher priority than the rest of the host: a measurement, not a build.
NICE=${BRAID_E2E_NICE:--10}
FP=braid-e2e-$$

if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || exit 2
	OUT=$(cd "$OUT" && pwd)
	KEEP=1
else
	OUT=$(mktemp -d /tmp/braid-e2e.XXXXXX)
	KEEP=0
fi

PASSED=0
FAILED=0
EMU_PID=
SAMPLER_PID=
declare -A PIDS

log() { [ "$QUIET" = 1 ] || echo "$@"; }

finish() {
	local p
	[ -n "$SAMPLER_PID" ] && kill -TERM "$SAMPLER_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	"$TOPO" cleanup -p "$P"
	rm -rf "/var/run/dpdk/$FP-gwa" "/var/run/dpdk/$FP-gwb"
	# A failed run keeps its files for a look.
	if [ "$KEEP" = 0 ] && [ "$FAILED" != 0 ]; then
		echo "(files of the failed run kept in $OUT)"
		KEEP=1
	fi
	[ "$KEEP" = 1 ] || rm -rf "$OUT"
}
trap finish EXIT
trap 'exit 130' INT TERM

result() {
	[ "$QUIET" = 1 ] || echo
	if [ "$CHECK" = 1 ]; then
		echo "BRAID_RESULT suite=$SUITE passed=$PASSED failed=$FAILED"
	fi
	[ "$FAILED" = 0 ]
	exit $?
}

# ok, ko, fatal, stop_wait
. "$E2E/e2e_lib.sh"

# Wall clock in ns (CLOCK_REALTIME): the time base of the run's series.
now_ns() { date +%s%N; }

for tool in "$BRAID" "$LINKEMU" "$TRAFFIC"; do
	[ -x "$tool" ] || fatal "tools built" "$tool not found (give the build directory)"
done
if [ "$(id -u)" != 0 ]; then
	fatal "root" "needs root (network namespaces)"
fi
for c in jq ethtool ping ip; do
	command -v "$c" >/dev/null || fatal "tools present" "$c not installed"
done
[ -r "$PROFILE" ] || fatal "profile readable" "$PROFILE"
NLINKS=$(jq '.links | length' "$PROFILE") || fatal "profile is JSON" "$PROFILE"
RATE=$(jq '.stream_kbps // empty' "$PROFILE")
[ -n "$RATE" ] || fatal "profile has stream_kbps" "$PROFILE"
# The classes are the shipped example's (the embedded default); the test
# streams go to its video class (UDP port 5000).
"$BRAID" -- --print-default-config > "$OUT/example.json" ||
	fatal "braid --print-default-config"
DEADLINE=$(jq '[.classes[] | select(any(.match[]?; .proto == "udp" and
	(.dst_port | tostring | split("-") | (.[0] | tonumber) <= 5000 and
	 (.[-1] | tonumber) >= 5000)))][0].arq.deadline_ms // empty' "$OUT/example.json")
[ -n "$DEADLINE" ] || fatal "the example has a class for UDP port 5000 with a deadline"
# Links in time: one-way delay (fixed + jitter, either direction) within
# the stream class's deadline. braid keeps the stream off the others.
FIT=$(jq -c --argjson d "$DEADLINE" '[.links[] | [(.both + .a_to_b), (.both + .b_to_a) |
	(.delay_ms // 0) + (.jitter_ms // 0)] | max <= $d]' "$PROFILE")
# Latency bound: the largest one-way delay of the links in time + 60 ms.
MAXOWD=$(jq --argjson fit "$FIT" '[.links | to_entries[] | select($fit[.key]) | .value |
	(.both + .a_to_b), (.both + .b_to_a) | (.delay_ms // 0) + (.jitter_ms // 0)] | max' "$PROFILE")
LAT_BOUND=$(jq -n "$MAXOWD + 60")
# harsh: residual loss <= 0.1 % and no latency bound; every other
# profile: no packet lost, p99 within the bound.
case "$NAME" in
harsh) LOSS_MAX_PCT=0.1; CHECK_LAT=0 ;;
*) LOSS_MAX_PCT=0; CHECK_LAT=1 ;;
esac

log "profile $NAME: $(jq -r '.description // ""' "$PROFILE")"
log "  stream $RATE kbit/s each way for ${DURATION} s, $NLINKS links," \
    "latency bound ${LAT_BOUND} ms, residual loss <= ${LOSS_MAX_PCT} %, results in $OUT"
cp "$PROFILE" "$OUT/profile.json"

# --- topology and configurations --------------------------------------------
"$TOPO" cleanup -p "$P"
"$TOPO" setup -p "$P" -n "$NLINKS" > "$OUT/topology.log" 2>&1 ||
	fatal "topology setup" "$(cat "$OUT/topology.log")"
# The hosts' kernels leave UDP checksums to offload (CHECKSUM_PARTIAL) on
# veths; braid's net_af_packet ports read the frames raw and would carry the
# partial checksum to the far host, which drops the datagram. A real NIC
# fills the checksum in on the wire: do it in the hosts' kernels.
for ns in "${P}src" "${P}dst"; do
	ip netns exec "$ns" ethtool -K lan0 tx off > /dev/null 2>&1 ||
		fatal "checksum offload off on $ns lan0"
done
ok "topology with $NLINKS links"

# A comparison only (doc/testing.md's overhead table), never CI: the
# example's video class with another FEC, e.g. '{"k": 10, "m": 2}'.
if [ -n "${BRAID_E2E_VIDEO_FEC:-}" ]; then
	jq --argjson fec "$BRAID_E2E_VIDEO_FEC" \
		'(.classes[] | select(.name == "video") | .fec) = $fec' \
		"$OUT/example.json" > "$OUT/example.fec.json" &&
		mv "$OUT/example.fec.json" "$OUT/example.json" ||
		fatal "BRAID_E2E_VIDEO_FEC is a JSON FEC value" "$BRAID_E2E_VIDEO_FEC"
fi
GEN_ARGS=()
[ "$ARP" = 1 ] && GEN_ARGS+=(--arp)
[ -n "${BRAID_E2E_IDLE_SLEEP_US:-}" ] &&
	GEN_ARGS+=(--idle-sleep-max-us "$BRAID_E2E_IDLE_SLEEP_US")
GEN_ARGS+=(-x "$OUT/example.json")
if [ "$CRYPTO" = 1 ]; then
	( umask 077; openssl rand -hex 32 > "$OUT/psk"; openssl rand -hex 32 > "$OUT/psk-b" ) ||
		fatal "pre-shared keys written" "$OUT/psk"
	GEN_ARGS+=(--rekey-s 1)
fi
for side in a b; do
	PSK_ARGS=()
	if [ "$CRYPTO" = 1 ]; then
		# --crypto-mismatch: gwb's key is another one.
		if [ "$MISMATCH" = 1 ] && [ "$side" = b ]; then PSK_ARGS=(--psk "$OUT/psk-b")
		else PSK_ARGS=(--psk "$OUT/psk"); fi
	fi
	"$GEN" -s "$side" -e "$PROFILE" "${GEN_ARGS[@]}" "${PSK_ARGS[@]}" > "$OUT/gw$side.json" 2> "$OUT/gen-$side.log" ||
		fatal "gateway configuration gw$side generated" "$(cat "$OUT/gen-$side.log")"
	"$BRAID" -- --check-config "$OUT/gw$side.json" > "$OUT/check-$side.log" 2>&1 ||
		fatal "braid --check-config gw$side.json" "$(cat "$OUT/check-$side.log")"
done
ok "gateway configurations valid (braid --check-config)"

# --- gateways ---------------------------------------------------------------
for side in a b; do
	# shellcheck disable=SC2086 # BRAID_E2E_EAL_ARGS: extra EAL words
	nice -n "$NICE" ip netns exec "${P}gw$side" "$BRAID" --lcores '0@(0,1)' --no-huge -m 512 \
		--file-prefix "$FP-gw$side" --no-pci ${BRAID_E2E_EAL_ARGS:-} \
		-- --config "$OUT/gw$side.json" \
		> "$OUT/gw$side.out" 2>&1 &
	PIDS[gw$side]=$!
done
up=0
for _ in $(seq 100); do
	up=0
	for side in a b; do
		grep -q -- '^-- braid  t=' "$OUT/gw$side.out" 2>/dev/null && up=$((up + 1))
		kill -0 "${PIDS[gw$side]}" 2>/dev/null || break 2
	done
	[ "$up" = 2 ] && break
	sleep 0.1
done
[ "$up" = 2 ] || fatal "both gateways running" "gwa: $(tail -5 "$OUT/gwa.out")" \
	"gwb: $(tail -5 "$OUT/gwb.out")"
ok "both gateways running"

# --- emulator -----------------------------------------------------------------
# The profile's clock starts with the stream: outage windows and steps
# move by LEAD.
case "${BRAID_E2E_SEED:-}" in
''|*[!0-9]*) SEED_ARG=null ;;
*) SEED_ARG=$BRAID_E2E_SEED ;;
esac
jq --argjson lead "$LEAD" --argjson seed "$SEED_ARG" '
	def shift: if type == "object" then
		(if has("outages") then .outages |= map(.from_s += $lead | .to_s += $lead) else . end) |
		(if has("steps") then .steps |= map(.at_s += $lead) else . end) |
		(if has("periodic_outage") then .periodic_outage |=
			(.from_s = ((.from_s // 0) + $lead) |
			 if has("to_s") then .to_s += $lead else . end) else . end)
		else . end;
	(if $seed != null then .seed = $seed else . end) |
	.links |= map(.both |= shift | .a_to_b |= shift | .b_to_a |= shift |
		(if .nat.steps then .nat.steps |= map(.at_s += $lead) else . end) |
		with_entries(select(.value != null)))' \
	"$PROFILE" > "$OUT/emu-profile.json" || fatal "emulator profile shifted"
EMU_T0=$(now_ns)
nice -n "$NICE" ip netns exec "${P}emu" "$LINKEMU" --profile "$OUT/emu-profile.json" \
	--stats-file "$OUT/emu.json" --ready-file "$OUT/emu.ready" \
	--duration $((LEAD + DURATION + 30 + MTU * 90)) > "$OUT/emu.out" 2> "$OUT/emu.err" &
EMU_PID=$!
PIDS[emu]=$EMU_PID
for _ in $(seq 50); do
	[ -e "$OUT/emu.ready" ] && break
	sleep 0.1
done
[ -e "$OUT/emu.ready" ] || fatal "emulator ready" "$(cat "$OUT/emu.err")"
ok "emulator running"

# Different keys (--crypto-mismatch): nothing crosses, both gateways say
# why; then stop (no stream).
if [ "$MISMATCH" = 1 ]; then
	sleep 3
	ip netns exec "${P}src" ping -n -q -c 3 -i 0.3 -W 1 10.202.0.2 > /dev/null 2>&1 &&
		ko "different keys: no ping crosses the tunnel" "a ping was answered" ||
		ok "different keys: no ping crosses the tunnel"
	for side in a b; do
		grep -q "failed authentication: the pre-shared keys differ" "$OUT/gw$side.out" &&
			ok "gw$side: says so in its log" ||
			ko "gw$side: says so in its log" "$(grep crypto "$OUT/gw$side.out" | tail -3)"
		timeout 5 ip netns exec "${P}gw$side" "$BRAIDCTL" -s 127.0.0.1:9099 -T 2000 \
			--json status > "$OUT/gw$side-status.json" 2>/dev/null
		jq -e '(.crypto.auth_failing == true) and (.crypto.session == "handshake") and
			([.warnings[] | select(test("pre-shared keys differ"))] | length == 1)' \
			"$OUT/gw$side-status.json" > /dev/null 2>&1 &&
			ok "gw$side: and in status (not keyed, auth failing, a warning)" ||
			ko "gw$side: and in status (not keyed, auth failing, a warning)" \
				"$(jq -c '{crypto, warnings}' "$OUT/gw$side-status.json" 2>/dev/null)"
		timeout 5 ip netns exec "${P}gw$side" "$BRAIDCTL" -s 127.0.0.1:9099 -T 2000 \
			--json stats > "$OUT/gw$side-stats.json" 2>/dev/null
		opened=$(jq '[.samples[] | select(.labels.stage == "open" and
			.name == "braid_stage_opened_total") | .value] | add // 0' \
			"$OUT/gw$side-stats.json" 2>/dev/null)
		[ "${opened:-x}" = 0 ] && ok "gw$side: opened nothing" ||
			ko "gw$side: opened nothing" "open.opened: ${opened:-none}"
	done
	for side in a b; do
		kill -TERM "${PIDS[gw$side]}" 2>/dev/null
		stop_wait "${PIDS[gw$side]}" 20 &&
			grep -q 'braid: stopped, every mbuf back in its pool' "$OUT/gw$side.out" &&
			ok "gw$side stops with every mbuf back in its pool" ||
			ko "gw$side stops with every mbuf back in its pool" "$(tail -3 "$OUT/gw$side.out")"
		unset "PIDS[gw$side]"
	done
	result
fi

# Tunnel warm-up: a ping each way (LAN ARP, link probes) before the stream.
warm=0
deadline=$((EMU_T0 + (LEAD - 1) * 1000000000))
while [ "$(now_ns)" -lt "$deadline" ]; do
	if ip netns exec "${P}src" ping -n -q -c 1 -W 1 10.202.0.2 > /dev/null 2>&1 &&
	   ip netns exec "${P}dst" ping -n -q -c 1 -W 1 10.201.0.2 > /dev/null 2>&1; then
		warm=1
		break
	fi
	sleep 0.2
done
[ "$warm" = 1 ] || fatal "tunnel carries a ping each way within $((LEAD - 1)) s" \
	"gwa: $(grep 'braid: link\|drops:' "$OUT/gwa.out" | tail -4)"
ok "tunnel carries a ping each way"

# --- samplers ----------------------------------------------------------------
# tests/e2e/sampler.py, one process started before the stream: links.raw
# (tx_bytes of every wan veth of gwa (forward) and gwb (reverse), what braid
# put on each link, every SAMPLE_MS, as "t_ns fwd0.. rev0.." lines) and
# gwX-links.jsonl (the management port's link and class metrics, every
# SAMPLE_MS). It
# starts no process while the stream runs (a fork/exec here now and then
# held a vCPU for ~100 ms; see sampler.py).
SAMPLER_ARGS=(--links "$NLINKS" --gw "a:${PIDS[gwa]}:${P}gwa" --gw "b:${PIDS[gwb]}:${P}gwb")
link_counters() {
	python3 "$E2E/sampler.py" "${SAMPLER_ARGS[@]}" --once
}

# --- the streams ------------------------------------------------------------
# Start at profile time 0 = emulator time LEAD (T0). Every process of the
# measurement is started a second ahead and waits for T0 itself.
T0=$((EMU_T0 + LEAD * 1000000000))
while [ "$(now_ns)" -lt $((T0 - 1000000000)) ]; do
	sleep 0.05
done
python3 "$E2E/sampler.py" "${SAMPLER_ARGS[@]}" --out "$OUT" --sample-ms "$SAMPLE_MS" \
	--start-ns "$T0" 2> "$OUT/sampler.err" &
SAMPLER_PID=$!
RX_T0=$(now_ns)
nice -n "$NICE" ip netns exec "${P}dst" "$TRAFFIC" recv --bind 10.202.0.2:5000 --stream-id 1 \
	--duration $((DURATION + 15)) --linger-ms 1500 --json "$OUT/fwd-rx.json" \
	--series "$OUT/fwd-series.csv" --packets "$OUT/fwd-packets.csv" > "$OUT/fwd-rx.out" 2>&1 &
PIDS[rx1]=$!
nice -n "$NICE" ip netns exec "${P}src" "$TRAFFIC" recv --bind 10.201.0.2:5000 --stream-id 2 \
	--duration $((DURATION + 15)) --linger-ms 1500 --json "$OUT/rev-rx.json" \
	--series "$OUT/rev-series.csv" --packets "$OUT/rev-packets.csv" > "$OUT/rev-rx.out" 2>&1 &
PIDS[rx2]=$!
# The senders begin together at T0 (--start-at).
nice -n "$NICE" ip netns exec "${P}src" "$TRAFFIC" send --dst 10.202.0.2:5000 --stream-id 1 \
	--rate-kbps "$RATE" --size 1316 --duration "$DURATION" --json --start-at "$T0" \
	> "$OUT/fwd-tx.json" 2> "$OUT/fwd-tx.err" &
PIDS[tx1]=$!
nice -n "$NICE" ip netns exec "${P}dst" "$TRAFFIC" send --dst 10.201.0.2:5000 --stream-id 2 \
	--rate-kbps "$RATE" --size 1316 --duration "$DURATION" --json --start-at "$T0" \
	> "$OUT/rev-tx.json" 2> "$OUT/rev-tx.err" &
PIDS[tx2]=$!
log "  streams running ($DURATION s)"
for k in tx1 tx2 rx1 rx2; do
	wait "${PIDS[$k]}"
	unset "PIDS[$k]"
done
kill -TERM "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
link_counters >> "$OUT/links.raw"

# --- MTU (--mtu): oversize packets and TCP across the tunnel --------------------
if [ "$MTU" = 1 ]; then
	MC=$E2E/mtu_check.py
	in_ns() { local ns=$1; shift; ip netns exec "${P}$ns" "$@"; }
	# non-DF first: once the kernel learned the path MTU it would split
	# the datagram itself (and size its TCP MSS to it).
	in_ns dst python3 "$MC" udp-recv --port 6001 --seconds 3 > "$OUT/mtu-nodf-rx.json" &
	sleep 0.5
	in_ns src python3 "$MC" udp-send --dst 10.202.0.2 --port 6001 --size 1472 --no-df \
		> "$OUT/mtu-nodf-tx.json" 2>&1
	wait $!
	in_ns dst python3 "$MC" tcp-recv --port 6003 --seconds 120 > "$OUT/mtu-tcp-rx.json" 2>&1 &
	rxp=$!
	sleep 0.5
	in_ns src python3 "$MC" tcp-send --dst 10.202.0.2 --port 6003 --bytes 50000000 \
		> "$OUT/mtu-tcp-tx.json" 2>&1
	wait $rxp
	# DF last: the ICMP answer teaches the src kernel the path MTU,
	# and its next SYNs would need no clamping.
	in_ns dst python3 "$MC" udp-recv --port 6002 --seconds 3 > "$OUT/mtu-df-rx.json" &
	sleep 0.5
	in_ns src python3 "$MC" udp-send --dst 10.202.0.2 --port 6002 --size 1472 --df \
		> "$OUT/mtu-df-tx.json" 2>&1
	wait $!
fi

# Counters from the management port, when the gateway serves them.
for side in a b; do
	if [ -x "$BRAIDCTL" ]; then
		timeout 5 ip netns exec "${P}gw$side" "$BRAIDCTL" -s 127.0.0.1:9099 -T 2000 \
			--json stats > "$OUT/gw$side-stats.json" 2> "$OUT/gw$side-stats.err" ||
			rm -f "$OUT/gw$side-stats.json"
		timeout 5 ip netns exec "${P}gw$side" "$BRAIDCTL" -s 127.0.0.1:9099 -T 2000 \
			--json status > "$OUT/gw$side-status.json" 2>> "$OUT/gw$side-stats.err" ||
			rm -f "$OUT/gw$side-status.json"
	fi
done

# --- stop -------------------------------------------------------------------
for side in a b; do
	kill -TERM "${PIDS[gw$side]}" 2>/dev/null
done
gw_clean=1
gw_detail=()
for side in a b; do
	if stop_wait "${PIDS[gw$side]}" 20; then rc=0; else rc=$?; fi
	unset "PIDS[gw$side]"
	if [ "$rc" != 0 ] || ! grep -q 'braid: stopped, every mbuf back in its pool' "$OUT/gw$side.out"; then
		gw_clean=0
		gw_detail+=("gw$side: exit $rc: $(tail -3 "$OUT/gw$side.out" | tr '\n' ' ')")
	fi
done
kill -TERM "$EMU_PID" 2>/dev/null
if stop_wait "$EMU_PID" 10; then emu_rc=0; else emu_rc=$?; fi
unset "PIDS[emu]"
EMU_PID=

# --- results ------------------------------------------------------------------
for f in fwd-rx.json rev-rx.json fwd-tx.json rev-tx.json emu.json; do
	if [ ! -s "$OUT/$f" ] || ! jq -e . "$OUT/$f" > /dev/null 2>&1; then
		fatal "$f written" "$(cat "$OUT/${f%.json}.out" "$OUT/${f%.json}.err" 2>/dev/null | tail -5)"
	fi
done

# Per-link rates (Mbit/s) between samples, time from the stream start:
# links.csv "t_s,fwd_wan0..,rev_wan0.." (the plot reads it).
awk -v t0="$T0" -v n="$NLINKS" '
	BEGIN { h = "t_s"; for (i = 0; i < n; i++) h = h ",fwd_wan" i;
		for (i = 0; i < n; i++) h = h ",rev_wan" i; print h }
	NF == 2 * n + 1 {
		if (have) {
			dt = ($1 - pt) / 1e9; if (dt <= 0) next
			line = sprintf("%.3f", ($1 + pt) / 2e9 - t0 / 1e9)
			for (i = 2; i <= NF; i++) line = line sprintf(",%.3f", ($i - p[i]) * 8 / dt / 1e6)
			print line
		}
		pt = $1; for (i = 2; i <= NF; i++) p[i] = $i; have = 1
	}' "$OUT/links.raw" > "$OUT/links.csv"
# Receiver series shifted to the same time base.
for d in fwd rev; do
	awk -F, -v off="$(( (RX_T0 - T0) / 1000000 ))" '
		/^#/ || /^t_s/ { print; next }
		{ $1 = sprintf("%.3f", $1 + off / 1000); print }' OFS=, \
		"$OUT/$d-series.csv" > "$OUT/$d-latency.csv" 2>/dev/null
done

# What braid estimated (capacity per link, the video class's FEC shape),
# same time base: gwX-estimates.csv (the plot's last panel).
python3 "$E2E/estimates.py" --dir "$OUT" --links "$NLINKS" --t0-ns "$T0" \
	2>> "$OUT/sampler.err"

# summary.json: everything the table and the assertions read.
first=$(head -1 "$OUT/links.raw")
last=$(tail -1 "$OUT/links.raw")
jq -n --slurpfile fr "$OUT/fwd-rx.json" --slurpfile ft "$OUT/fwd-tx.json" \
	--slurpfile rr "$OUT/rev-rx.json" --slurpfile rt "$OUT/rev-tx.json" \
	--slurpfile e "$OUT/emu.json" \
	--arg first "$first" --arg last "$last" --argjson n "$NLINKS" \
	--arg name "$NAME" --argjson bound "$LAT_BOUND" \
	--slurpfile sa <(cat "$OUT/gwa-stats.json" 2>/dev/null || echo null) \
	--slurpfile sb <(cat "$OUT/gwb-stats.json" 2>/dev/null || echo null) '
	def counters($s): ($first | split(" ") | map(select(. != "") | tonumber)) as $f |
		($last | split(" ") | map(select(. != "") | tonumber)) as $l |
		[range(0; $n) | . + 1 + (if $s == "fwd" then 0 else $n end) | $l[.] - $f[.]];
	# Sum of a management metric family (null when not served).
	def metric($st; $name): if $st == null then null else
		[$st.samples[]? | select(.name == $name) | .value] |
		if length == 0 then null else add end end;
	# Drops inside a gateway by "stage.reason": the send stages of the
	# sending gateway, or the receive side of the receiving one (less the
	# duplicates reorder discards on purpose).
	def gwdrops($st; $send):
		["lan_rx", "classify", "sched", "fec", "rtx", "encap", "link_tx"] as $ss |
		if $st == null then null else
		[$st.samples[]? | select(.name == "braid_stage_dropped_packets_total" and .value > 0) |
		 select(((.labels.stage as $g | $ss | index($g)) != null) == $send) |
		 select($send or .labels.reason != "duplicate") |
		 {key: "\(.labels.stage).\(.labels.reason)", value}] |
		group_by(.key) | map({key: .[0].key, value: (map(.value) | add)}) | from_entries end;
	def dir($rx; $tx; $s; $st; $sst; $emudir):
		counters($s) as $lb | ($lb | add) as $tot |
		{sent: $rx.sent, tx_sent: $tx.sent, delivered: $rx.received, lost: $rx.lost,
		 loss_pct: $rx.loss_pct, duplicates: $rx.duplicates,
		 out_of_order: $rx.out_of_order, max_reorder_dist: $rx.max_reorder_dist,
		 invalid: $rx.invalid,
		 socket_drops: $rx.socket_drops, end_seen: $rx.end_seen,
		 lat_p50_ms: $rx.lat_p50_ms, lat_p99_ms: $rx.lat_p99_ms,
		 lat_p999_ms: $rx.lat_p999_ms, lat_max_ms: $rx.lat_max_ms,
		 goodput_kbps: $rx.goodput_kbps,
		 payload_bytes: $rx.bytes, link_bytes: $tot,
		 overhead: (if $rx.bytes > 0 then $tot / $rx.bytes - 1 else null end),
		 link_share: [$lb[] | if $tot > 0 then . / $tot else 0 end],
		 fec_recovered: metric($st; "braid_fec_recovered_packets_total"),
		 arq_recovered: metric($st; "braid_arq_recovered_packets_total"),
		 drops_sender: gwdrops($sst; true), drops_receiver: gwdrops($st; false),
		 late_duplicates: (if $st == null then null else
			[$st.samples[]? | select(.name == "braid_stage_dropped_packets_total" and
			 .labels.stage == "reorder" and .labels.reason == "duplicate") | .value] | add // 0 end),
		 emu: [$e[0].links[] | .[$emudir] | {forwarded, bytes,
			dropped: (.drop_outage + .drop_ge + .drop_loss + .drop_backlog +
				  .drop_nobuf + .drop_oversize + .drop_tx + .drop_flush + (.drop_nat // 0)),
			drop_impairment: (.drop_outage + .drop_ge + .drop_loss),
			drop_backlog}]};
	{profile: $name, lat_bound_ms: $bound,
	 fwd: dir($fr[0]; $ft[0]; "fwd"; $sb[0]; $sa[0]; "a_to_b"),
	 rev: dir($rr[0]; $rt[0]; "rev"; $sa[0]; $sb[0]; "b_to_a")}' > "$OUT/summary.json" ||
	fatal "summary computed"

# The table.
jq -r --argjson n "$NLINKS" '
	def f($x; $d): if $x == null then "n/a" else
		($x * pow(10; $d) | round / pow(10; $d) | tostring) end;
	def dsum($d): if $d == null then "n/a" else ([$d[]] | add // 0 | tostring) end;
	def row($k; $a; $b): "  \($k)\(" " * (37 - ($k | length)))\($a)\(" " * (22 - ($a | length)))\($b)";
	"braid e2e, profile \(.profile)",
	row("";  "src -> dst"; "dst -> src"),
	row("sent (packets)"; (.fwd.sent | tostring); (.rev.sent | tostring)),
	row("delivered"; (.fwd.delivered | tostring); (.rev.delivered | tostring)),
	row("recovered by FEC"; f(.fwd.fec_recovered; 0); f(.rev.fec_recovered; 0)),
	row("recovered by retransmission"; f(.fwd.arq_recovered; 0); f(.rev.arq_recovered; 0)),
	row("late originals (duplicates dropped)"; f(.fwd.late_duplicates; 0); f(.rev.late_duplicates; 0)),
	row("residual loss"; "\(.fwd.lost) (\(f(.fwd.loss_pct; 4)) %)"; "\(.rev.lost) (\(f(.rev.loss_pct; 4)) %)"),
	row("out of order / duplicates"; "\(.fwd.out_of_order) / \(.fwd.duplicates)"; "\(.rev.out_of_order) / \(.rev.duplicates)"),
	row("latency p50 / p99 (ms)"; "\(f(.fwd.lat_p50_ms; 1)) / \(f(.fwd.lat_p99_ms; 1))"; "\(f(.rev.lat_p50_ms; 1)) / \(f(.rev.lat_p99_ms; 1))"),
	row("latency p99.9 / max (ms)"; "\(f(.fwd.lat_p999_ms; 1)) / \(f(.fwd.lat_max_ms; 1))"; "\(f(.rev.lat_p999_ms; 1)) / \(f(.rev.lat_max_ms; 1))"),
	row("goodput (Mbit/s)"; f(.fwd.goodput_kbps / 1000; 2); f(.rev.goodput_kbps / 1000; 2)),
	row("wire overhead per payload byte"; f(.fwd.overhead; 3); f(.rev.overhead; 3)),
	(range(0; $n) as $i | row("share of link wan\($i)";
		"\(f(.fwd.link_share[$i] * 100; 1)) %"; "\(f(.rev.link_share[$i] * 100; 1)) %")),
	row("dropped by the emulator"; ([.fwd.emu[].dropped] | add | tostring); ([.rev.emu[].dropped] | add | tostring)),
	row("dropped by the sending gateway"; dsum(.fwd.drops_sender); dsum(.rev.drops_sender)),
	row("dropped by the receiving gateway"; dsum(.fwd.drops_receiver); dsum(.rev.drops_receiver)),
	(.fwd.drops_sender // {} | to_entries[] | "    src -> dst, gwa \(.key): \(.value)"),
	(.fwd.drops_receiver // {} | to_entries[] | "    src -> dst, gwb \(.key): \(.value)"),
	(.rev.drops_sender // {} | to_entries[] | "    dst -> src, gwb \(.key): \(.value)"),
	(.rev.drops_receiver // {} | to_entries[] | "    dst -> src, gwa \(.key): \(.value)")
	' "$OUT/summary.json" > "$OUT/summary.txt"
if [ ! -s "$OUT/gwa-stats.json" ]; then
	echo "  (FEC / retransmission recoveries: n/a, the gateways' management port did not answer \"stats\")" >> "$OUT/summary.txt"
fi
cat "$OUT/summary.txt"

[ "$CHECK" = 1 ] || exit 0

# --- assertions ---------------------------------------------------------------
# check NAME JQ_EXPR (over summary.json as .)
check() {
	if jq -e "$2" "$OUT/summary.json" > /dev/null 2>&1; then
		ok "$1"
	else
		ko "$1" "expected: $2" "measured: $(jq -c "$3" "$OUT/summary.json" 2>/dev/null)"
	fi
}
[ "$gw_clean" = 1 ] && ok "gateways stop on SIGTERM with every mbuf back in its pool" ||
	ko "gateways stop on SIGTERM with every mbuf back in its pool" "${gw_detail[@]}"
[ "$emu_rc" = 0 ] && ok "emulator exits 0" || ko "emulator exits 0" "exit $emu_rc"
# stage counter of gwX's stats: braid_stage_<name>_total or a drop reason
stage_sum() {
	jq "[.samples[] | select(.labels.stage == \"$2\" and
		(.name == \"braid_stage_$3_total\" or
		 (.name == \"braid_stage_dropped_packets_total\" and .labels.reason == \"$3\")))
		| .value] | add // 0" "$OUT/gw$1-stats.json" 2>/dev/null
}
if [ "$MTU" = 1 ]; then
	inner=$((1500 - 68 - CRYPTO * 24))
	# check_json NAME FILE JQ_EXPR
	check_json() {
		if jq -e "$3" "$OUT/$2" > /dev/null 2>&1; then ok "$1"
		else ko "$1" "expected: $3" "measured: $(head -c 400 "$OUT/$2" 2>/dev/null)"; fi
	}
	check_json "MTU: a 1472-byte datagram without DF arrives whole" mtu-nodf-rx.json \
		'.sizes | index(1472) != null'
	frag=$(stage_sum a mtu fragmented)
	[ "${frag:-0}" -ge 1 ] && ok "MTU: braid fragmented it ($frag)" ||
		ko "MTU: braid fragmented it" "gwa mtu.fragmented: ${frag:-none}"
	check_json "MTU: a DF one gets ICMP fragmentation-needed with MTU $inner" mtu-df-tx.json \
		".path_mtu == $inner and .refused_too_big"
	check_json "MTU: ... and is not delivered" mtu-df-rx.json '.sizes | index(1472) == null'
	check_json "MTU: 50 MB over TCP arrive intact" mtu-tcp-rx.json \
		"(.bytes == 50000000) and (.sha256 == \"$(jq -r .sha256 "$OUT/mtu-tcp-tx.json" 2>/dev/null)\")"
	check_json "MTU: TCP's MSS clamped to $((inner - 40)) both ways" mtu-tcp-tx.json \
		".mss <= $((inner - 40))"
	check_json "MTU: ... at a sensible rate (>= 5 Mbit/s)" mtu-tcp-tx.json '.mbit_s >= 5'
	for side in a b; do
		c=$(stage_sum $side mtu mss_clamped)
		[ "${c:-0}" -ge 1 ] && ok "gw$side: SYNs from its LAN clamped ($c)" ||
			ko "gw$side: SYNs from its LAN clamped" "mtu.mss_clamped: ${c:-none}"
	done
	log "  TCP: $(jq -c '{mbit_s, mss, seconds}' "$OUT/mtu-tcp-tx.json" 2>/dev/null)"
fi
# A NAT in front of gwa (the profile's "nat"): gwb learns each link's
# peer once, then follows every change of mapping the profile makes.
NAT_MOVES=$(jq '[.links[] | select(.nat) | 1 + (.nat.steps // [] | length)] | add // 0' "$PROFILE")
if [ "$NAT_MOVES" -gt 0 ]; then
	moves=$(jq '[.samples[] | select(.labels.stage == "ctrl" and
		.name == "braid_stage_peer_moves_total") | .value] | add // 0' \
		"$OUT/gwb-stats.json" 2>/dev/null)
	[ "${moves:-0}" = "$NAT_MOVES" ] &&
		ok "gwb found its peers behind the NAT and followed every change ($moves)" ||
		ko "gwb found its peers behind the NAT and followed every change" \
			"ctrl.peer_moves ${moves:-none}, want $NAT_MOVES"
	stale=$(jq '[.links[].nat.dropped_stale // 0] | add' "$OUT/emu.json" 2>/dev/null)
	log "  NAT: $stale frames to replaced mappings dropped by the emulated NAT"
fi
if [ "$CRYPTO" = 1 ]; then
	for side in a b; do
		keyed=$(jq -r '.crypto.session // "none"' "$OUT/gw$side-status.json" 2>/dev/null)
		[ "$keyed" = keyed ] && ok "gw$side: crypto session keyed (status)" ||
			ko "gw$side: crypto session keyed (status)" "status.crypto.session: $keyed"
		rekeys=$(stage_sum "$side" seal rekeys)
		[ "${rekeys:-0}" -ge $((DURATION / 2)) ] &&
			ok "gw$side: a new key epoch every second ($rekeys)" ||
			ko "gw$side: a new key epoch every second" "seal rekeys: ${rekeys:-none}"
		bad=$(( $(stage_sum "$side" open auth) + $(stage_sum "$side" open replay) +
			$(stage_sum "$side" open old_key) + $(stage_sum "$side" rx_decap unsealed) ))
		[ "$bad" = 0 ] && ok "gw$side: no frame refused by the open stage or rx_decap" ||
			ko "gw$side: no frame refused by the open stage or rx_decap" \
				"auth + replay + old_key + unsealed = $bad"
	done
fi
for d in fwd rev; do
	[ $d = fwd ] && what="src -> dst" || what="dst -> src"
	check "$what: stream complete (end markers, no corrupt packet, no socket drop)" \
		".$d | .end_seen and .sent == .tx_sent and .sent > 0 and .invalid == 0 and .socket_drops == 0" \
		".$d | {sent, tx_sent, end_seen, invalid, socket_drops}"
	check "$what: residual loss <= $LOSS_MAX_PCT %" \
		".$d | .loss_pct <= $LOSS_MAX_PCT" ".$d | {sent, delivered, lost, loss_pct}"
	check "$what: delivered in order" ".$d.out_of_order == 0" \
		".$d | {out_of_order, max_reorder_dist}"
	# The per-packet log (what the latency analysis reads) holds every
	# packet the receiver counted.
	n_log=$(awk -F, '!/^#/ && !seen[$1]++' "$OUT/$d-packets.csv" 2>/dev/null | wc -l)
	n_dlv=$(jq ".$d.delivered" "$OUT/summary.json" 2>/dev/null)
	[ "$n_log" = "$n_dlv" ] && ok "$what: per-packet log has every delivered packet" ||
		ko "$what: per-packet log has every delivered packet" "log $n_log, delivered $n_dlv"
	if [ "$CHECK_LAT" = 1 ]; then
		check "$what: p99 latency <= $LAT_BOUND ms" ".$d.lat_p99_ms <= $LAT_BOUND" \
			".$d | {lat_p50_ms, lat_p99_ms, lat_p999_ms, lat_max_ms}"
	fi
	# The stream really crossed every link in time, and the links really
	# were impaired: the test cannot pass on a path that bypasses the
	# emulator. Each link in time's share of the bytes is at least half
	# its share of the capacity in time in that direction (a third of
	# equal links: 1/6); a link too slow for the deadline carries at most
	# 2 % (its probes).
	[ $d = fwd ] && dir=a_to_b || dir=b_to_a
	cap_share=$(jq -c --arg dir "$dir" --argjson fit "$FIT" '[.links | to_entries[] |
		if $fit[.key] then (.value[$dir].rate_kbps // .value.both.rate_kbps // 0) else 0 end] |
		add as $t | map(if $t > 0 then . / $t else 0 end)' "$PROFILE")
	check "$what: every link in time carried the stream (>= half its capacity share of link bytes)" \
		"[.$d.link_share, $cap_share, $FIT] | transpose | map(select(.[2]) | .[0] >= 0.5 * .[1]) | all" \
		"{share: .$d.link_share, capacity_share: $cap_share}"
	if jq -e 'all' <<< "$FIT" > /dev/null; then :; else
		check "$what: links too slow for the ${DEADLINE} ms deadline carried <= 2 % of link bytes" \
			"[.$d.link_share, $FIT] | transpose | map(select(.[1] | not) | .[0] <= 0.02) | all" \
			"{share: .$d.link_share, in_time: $FIT}"
	fi
	if jq -e '[.links[] | .both, .a_to_b, .b_to_a | select(. != null) |
		((.loss_pct // 0) > 0 or has("ge") or has("outages"))] | any' "$PROFILE" > /dev/null; then
		check "$what: the emulator dropped frames as the profile says" \
			"[.$d.emu[].drop_impairment] | add > 0" ".$d.emu"
	fi
done

# linkdown: braid stops sending on the dead link, and uses it again after.
OUT_FROM=$(jq '[.links[] | .both.outages[]?.from_s] | min // empty' "$PROFILE")
OUT_TO=$(jq '[.links[] | .both.outages[]?.to_s] | max // empty' "$PROFILE")
OUT_LINK=$(jq '[.links | to_entries[] | select(.value.both.outages != null) | .key] | first // empty' "$PROFILE")
if [ -n "$OUT_FROM" ] && [ -n "$OUT_LINK" ]; then
	col=$((OUT_LINK + 2))
	# mean Mbit/s on the dead link (forward) in a time window
	win() { awk -F, -v a="$1" -v b="$2" -v c="$col" 'NR > 1 && $1 >= a && $1 < b { s += $c; n++ }
		END { printf "%.3f", n ? s / n : -1 }' "$OUT/links.csv"; }
	before=$(win 1 "$OUT_FROM")
	during=$(win "$(jq -n "$OUT_FROM + 0.5")" "$OUT_TO")
	after=$(win "$(jq -n "$OUT_TO + 5")" "$((DURATION - 1))")
	if awk -v b="$before" -v d="$during" 'BEGIN { exit !(b > 1 && d >= 0 && d < b / 10) }'; then
		ok "wan$OUT_LINK: braid stops sending on it during the outage"
	else
		ko "wan$OUT_LINK: braid stops sending on it during the outage" \
			"Mbit/s before $before, during $during (want < before / 10)"
	fi
	if awk -v b="$before" -v a="$after" 'BEGIN { exit !(b > 1 && a > b / 2) }'; then
		ok "wan$OUT_LINK: back in use from 5 s after the outage"
	else
		ko "wan$OUT_LINK: back in use from 5 s after the outage" \
			"Mbit/s before $before, from $(jq -n "$OUT_TO + 5") s $after (want > before / 2)"
	fi
fi

result
