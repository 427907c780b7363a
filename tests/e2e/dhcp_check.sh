#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A link port addressed by DHCP, against a real DHCP server (dnsmasq), as
# a gateway behind a modem or DSL router would be:
#
#                  wan0: 10.99.3.2/24 -- 10.99.3.1
#   src --lan0-- [braid gwa]               isp (dnsmasq, router) 10.99.2.1 --wan0-- [braid gwb] --lan0-- dst
#                  wan1: "dhcp" ---------- 10.99.1.1                        10.99.2.2, "peer": "learn"
#
# Two links, as a bonding gateway has them: wan0 on a static address,
# wan1 on a port addressed by DHCP (link 1, so its frames must leave by
# its own port).
# 1. gwa takes a lease from dnsmasq (address, /24, router), wan1 comes up
#    through the isp namespace's kernel routing, gwb learns its address,
#    and a ping crosses the tunnel; the lease's MTU (1400, option 26)
#    below the port's is a status warning;
# 2. dnsmasq restarts with another address range (a modem's new lease):
#    gwa's renewal at T1 is refused (NAK), it discovers again, wan1
#    re-registers with the new address, gwb follows, pings cross again;
# 3. SIGTERM: both gateways stop with every mbuf back in its pool; no
#    DHCP reply was malformed.
# The gateways' configurations are what a user writes for this box (the
# shipped example's classes, links at their rate, a pre-shared key).
#
# usage: tests/e2e/dhcp_check.sh [BUILD_DIR]
# Environment: BRAID_E2E_KEEP=1 keeps the run's files (logs, configs).
# Needs root, iproute2, jq, ethtool, ping, dnsmasq (dnsmasq-base).

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${BRAID_BUILD_DIR:-$ROOT/build}}
BRAID=$BUILD/app/braid/braid
BRAIDCTL=$BUILD/app/braidctl/braidctl
P=bdh$$-
FP=bdh$$
TMP=$(mktemp -d /tmp/braid-dhcp.XXXXXX)
PASSED=0
FAILED=0
declare -A PIDS=()
# dnsmasq: leases of 2 minutes (its minimum), renewal after 5 s
T1_S=5

log() { echo "$@"; }
result() {
	echo "BRAID_RESULT suite=e2e_dhcp passed=$PASSED failed=$FAILED"
	[ "$FAILED" = 0 ]
	exit $?
}
# ok, ko, fatal, stop_wait
. "$ROOT/tests/e2e/e2e_lib.sh"

finish() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in src gwa isp gwb dst; do ip netns del "$P$ns" 2>/dev/null; done
	if [ -n "${BRAID_E2E_KEEP:-}" ]; then echo "files kept in $TMP"; else rm -rf "$TMP"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || fatal "root" "needs root (network namespaces)"
for t in "$BRAID" "$BRAIDCTL"; do
	[ -x "$t" ] || fatal "tools built" "$t not found (give the build directory)"
done
for c in jq ethtool ping ip dnsmasq; do
	command -v "$c" > /dev/null || fatal "tools present" "$c not installed"
done

in_ns() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
ctl() { timeout 5 ip netns exec "${P}gw$1" "$BRAIDCTL" -s 127.0.0.1:9099 -T 2000 --json "${@:2}"; }

# --- topology ---------------------------------------------------------------
# veth NAME_IN_A in namespace A <-> NAME_IN_B in namespace B
veth() {
	ip link add "$P$2" type veth peer name "${P}p" &&
	ip link set "$P$2" netns "$P$1" && ip link set "${P}p" netns "$P$3" &&
	in_ns "$1" ip link set "$P$2" name "$2" && in_ns "$3" ip link set "${P}p" name "$4" &&
	in_ns "$1" ip link set "$2" up && in_ns "$3" ip link set "$4" up
}
{
	for ns in src gwa isp gwb dst; do
		ip netns add "$P$ns" && in_ns "$ns" ip link set lo up || exit 1
	done
	veth src lan0 gwa lan0 && veth gwa wan0 isp wanc && veth gwa wan1 isp wana &&
	veth isp wanb gwb wan0 && veth gwb lan0 dst lan0 || exit 1
	in_ns src ip addr add 10.201.0.2/24 dev lan0 &&
	in_ns src ip route add default via 10.201.0.1 &&
	in_ns dst ip addr add 10.202.0.2/24 dev lan0 &&
	in_ns dst ip route add default via 10.202.0.1 &&
	in_ns isp ip addr add 10.99.1.1/24 dev wana &&
	in_ns isp ip addr add 10.99.2.1/24 dev wanb &&
	in_ns isp ip addr add 10.99.3.1/24 dev wanc &&
	in_ns isp sysctl -qw net.ipv4.ip_forward=1 || exit 1
	# the kernels' own frames (dnsmasq's replies, pings) with final
	# checksums: braid's af_packet ports read them raw (run_profile.sh)
	for x in "src lan0" "dst lan0" "isp wana" "isp wanb" "isp wanc"; do
		# shellcheck disable=SC2086
		in_ns ${x% *} ethtool -K ${x#* } tx off > /dev/null || exit 1
	done
} > "$TMP/topology.log" 2>&1 || fatal "topology" "$(tail -3 "$TMP/topology.log")"
ok "topology: src, gwa, isp (DHCP server, router), gwb, dst"

# dnsmasq RANGE_START RANGE_END: the DHCP server on isp's wana, gwa's
# wan1 (no DNS).
dnsmasq_start() {
	ip netns exec "${P}isp" dnsmasq --keep-in-foreground --port=0 --interface=wana --bind-interfaces \
		--dhcp-range="$1,$2,255.255.255.0,2m" --dhcp-option=option:router,10.99.1.1 \
		--dhcp-option=option:T1,$T1_S --dhcp-option=option:T2,$((T1_S * 3)) \
		--dhcp-option=option:mtu,1400 \
		--dhcp-authoritative --dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" \
		--log-dhcp --log-facility="$TMP/dnsmasq.log" > /dev/null 2>&1 &
	PIDS[dnsmasq]=$!
}
dnsmasq_start 10.99.1.50 10.99.1.59

# --- configurations: the shipped example's classes ----------------------------
"$BRAID" -- --print-default-config \
	> "$TMP/example.json" 2> "$TMP/example.log" ||
	fatal "example configuration" "$(tail -3 "$TMP/example.log")"
( umask 077; openssl rand -hex 32 > "$TMP/psk" ) || fatal "pre-shared key" ""
for side in a b; do
	jq --arg side "$side" --arg psk "$TMP/psk" '
	($side == "a") as $a |
	{
	  name: "gw\($side)",
	  ports: ([{name: "lan0", role: "lan", profile: "net_af_packet",
	           device: "net_af_packet_lan0,iface=lan0",
	           ipv4: (if $a then "10.201.0.1/24" else "10.202.0.1/24" end)},
	          {name: "wan0", role: "link", profile: "net_af_packet",
	           device: "net_af_packet_wan0,iface=wan0",
	           ipv4: (if $a then "10.99.3.2/24" else "10.99.2.2/24" end)}] +
	         (if $a then [{name: "wan1", role: "link", profile: "net_af_packet",
	           device: "net_af_packet_wan1,iface=wan1", ipv4: "dhcp"}] else [] end)),
	  links: (if $a then
	          [{name: "wan0", port: "wan0", local: "10.99.3.2:7000", peer: "10.99.2.2:7000",
	            next_hop: "10.99.3.1", capacity_kbps: 10000},
	           {name: "wan1", port: "wan1", local: "dhcp:7001", peer: "10.99.2.2:7001",
	            capacity_kbps: 10000}]
	         else
	          [{name: "wan0", port: "wan0", local: "10.99.2.2:7000", peer: "learn",
	            next_hop: "10.99.2.1", capacity_kbps: 10000},
	           {name: "wan1", port: "wan0", local: "10.99.2.2:7001", peer: "learn",
	            next_hop: "10.99.2.1", capacity_kbps: 10000}] end),
	  classes: .classes,
	  default_class: .default_class,
	  lcores: {idle_sleep_max_us: 200,
	           map: [{lcore: 0, stages: ["lan_rx", "classify", "sched", "fec", "rtx",
	                  "link_tx", "link_rx", "rx_decap", "fec_decode", "reorder", "lan_tx"]}]},
	  management: {enabled: true, address: "127.0.0.1", port: 9099},
	  crypto: {psk_file: $psk}
	}' "$TMP/example.json" > "$TMP/gw$side.json" &&
	"$BRAID" -- --check-config "$TMP/gw$side.json" > "$TMP/check-$side.log" 2>&1 ||
		fatal "gw$side configuration valid" "$(tail -3 "$TMP/check-$side.log")"
done
ok "configurations valid (gwa's wan1: \"ipv4\": \"dhcp\")"

for side in a b; do
	ip netns exec "${P}gw$side" "$BRAID" --lcores '0@(0,1)' --no-huge -m 512 --file-prefix "$FP-gw$side" \
		--no-pci -- --config "$TMP/gw$side.json" > "$TMP/gw$side.out" 2>&1 &
	PIDS[gw$side]=$!
done

# wait_for SECONDS SIDE JQ [METHOD]: poll until METHOD's reply (default
# status; "links": links.list) satisfies JQ; its last reply in $TMP/last.json.
wait_for() {
	local _
	for _ in $(seq $(($1 * 4))); do
		ctl "$2" "${4:-status}" > "$TMP/last.json" 2>/dev/null &&
			jq -e "$3" "$TMP/last.json" > /dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}
# The address gwa's lease gave, without the prefix.
gwa_addr() { jq -r '.dhcp[0].address // "" | sub("/.*"; "")' "$TMP/last.json"; }
# A ping from src to dst through the tunnel (the link up takes a moment).
ping_across() {
	local _
	for _ in $(seq 20); do
		in_ns src ping -n -q -c 1 -W 1 10.202.0.2 > /dev/null 2>&1 && return 0
	done
	return 1
}
# round NAME RANGE_REGEX: gwa bound to an address of the range, gwb's
# link up with that peer, a ping across.
round() {
	local addr
	if wait_for 30 a ".dhcp[0].state == \"bound\" and
	    (.dhcp[0].address | test(\"^$2/24$\")) and .dhcp[0].router == \"10.99.1.1\""; then
		addr=$(gwa_addr)
		ok "$1: gwa leased $addr/24, router 10.99.1.1"
	else
		ko "$1: gwa leased an address of $2" "$(jq -c .dhcp "$TMP/last.json" 2>/dev/null)" \
			"$(tail -3 "$TMP/dnsmasq.log" 2>/dev/null)"
		return
	fi
	wait_for 30 a ".links[1].local == \"$addr:7001\" and .links[1].state == \"up\"" links &&
		ok "$1: gwa's wan1 sends from $addr and is up" ||
		ko "$1: gwa's wan1 sends from $addr and is up" "$(jq -c '.links[1]' "$TMP/last.json")"
	wait_for 30 b ".links[1].peer == \"$addr:7001\" and .links[1].state == \"up\" and
	    .links[0].peer == \"10.99.3.2:7000\" and .links[0].state == \"up\"" links &&
		ok "$1: gwb learned wan1's peer $addr:7001 (wan0's 10.99.3.2:7000)" ||
		ko "$1: gwb learned wan1's peer $addr:7001 (wan0's 10.99.3.2:7000)" \
			"$(jq -c '.links' "$TMP/last.json")"
	ping_across && ok "$1: a ping crosses the tunnel" ||
		ko "$1: a ping crosses the tunnel" ""
}

round "first lease" '10\\.99\\.1\\.5[0-9]'
wait_for 5 a '[.warnings[] | select(test("port wan1: its DHCP server gives the network an MTU of 1400 bytes"))] | length == 1' &&
	ok "gwa: status warns that the lease's MTU (1400) is below the port's" ||
	ko "gwa: status warns that the lease's MTU (1400) is below the port's" "$(jq -c .warnings "$TMP/last.json")"

# A new range, as a modem's new lease after a reconnect: gwa's renewal is
# refused and it discovers again.
kill -TERM "${PIDS[dnsmasq]}" 2>/dev/null
stop_wait "${PIDS[dnsmasq]}" 5
rm -f "$TMP/leases"
dnsmasq_start 10.99.1.60 10.99.1.69
round "new range" '10\\.99\\.1\\.6[0-9]'
wait_for 5 a '.dhcp[0].naks >= 1 and .dhcp[0].leases == 2 and .dhcp[0].leases_lost == 1' &&
	ok "gwa: the old lease refused (NAK) and a new one taken" ||
	ko "gwa: the old lease refused (NAK) and a new one taken" "$(jq -c .dhcp "$TMP/last.json")"
ctl a stats > "$TMP/gwa-stats.json" 2>/dev/null
bad=$(jq '[.samples[] | select(.name == "braid_stage_dropped_packets_total" and
	.labels.stage == "ctrl" and (.labels.reason == "dhcp_bad" or .labels.reason == "dhcp_frame"))
	| .value] | if length == 2 then add else "not reported" end' "$TMP/gwa-stats.json" 2>/dev/null)
[ "$bad" = 0 ] && ok "gwa: no DHCP reply malformed or refused" ||
	ko "gwa: no DHCP reply malformed or refused" "drop_dhcp_bad + drop_dhcp_frame: $bad"

# --- stop -------------------------------------------------------------------
for side in a b; do kill -TERM "${PIDS[gw$side]}" 2>/dev/null; done
clean=1
for side in a b; do
	stop_wait "${PIDS[gw$side]}" 15
	rc=$?
	unset "PIDS[gw$side]"
	if [ "$rc" != 0 ] || grep -q "mbufs still in use" "$TMP/gw$side.out"; then
		clean=0
		ko "gw$side stops on SIGTERM with every mbuf back" "exit $rc: $(tail -3 "$TMP/gw$side.out")"
	fi
done
[ "$clean" = 1 ] && ok "gateways stop on SIGTERM with every mbuf back in its pool"
result
