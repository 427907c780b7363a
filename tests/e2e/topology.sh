#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# braid end-to-end testbed: five network namespaces joined by veth pairs.
#
#   src --lan0-- gwa ==wan0..wanN-1== emu ==wan0..wanN-1== gwb --lan0-- dst
#
#   ns ${P}src  lan0   10.201.0.2/24  default via 10.201.0.1     02:b0:00:00:00:02
#   ns ${P}gwa  lan0   (10.201.0.1)                              02:b0:00:00:00:01
#               wan<i> (10.100.<i>.1)                            02:b0:01:<i>:00:01
#   ns ${P}emu  wan<i>a (to gwa), wan<i>b (to gwb): no address   02:b0:02:<i>:00:0a/0b
#   ns ${P}gwb  wan<i> (10.100.<i>.2)                            02:b0:01:<i>:00:02
#               lan0   (10.202.0.1)                              02:b0:00:00:01:01
#   ns ${P}dst  lan0   10.202.0.2/24  default via 10.202.0.1     02:b0:00:00:01:02
#
# Addresses in parentheses belong to the braid gateways (DPDK ports on
# those veths answer ARP themselves); the kernel gets them only with
# --kernel-gw, which turns gwa/gwb into plain IPv4 routers over wan0 (a
# baseline and a way to test the emulator without braid). braid-linkemu runs
# in ${P}emu with profiles naming wan<i>a / wan<i>b (tests/e2e/profiles).
# IPv6 is disabled in every namespace (no RS/DAD/MLD noise on the links)
# unless --ipv6 is given.
#
# usage: topology.sh setup    [-p PREFIX] [-n LINKS] [--kernel-gw] [--ipv6]
#        topology.sh teardown [-p PREFIX]   stop processes in, and delete, the namespaces
#        topology.sh cleanup  [-p PREFIX]   teardown that never fails (traps, stale runs)
#        topology.sh env      [-p PREFIX] [-n LINKS]  print NS_*/IP_* variables
# PREFIX defaults to $BRAID_NS_PREFIX (empty: namespaces src gwa emu gwb dst).

set -euo pipefail

usage() {
	sed -n '/^# usage:/,/^# PREFIX/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

CMD=${1:-}
[ -n "$CMD" ] || usage
shift
PREFIX=${BRAID_NS_PREFIX:-}
LINKS=3
KERNEL_GW=0
IPV6=0
while [ $# -gt 0 ]; do
	case "$1" in
	-p) PREFIX=$2; shift 2 ;;
	-n) LINKS=$2; shift 2 ;;
	--kernel-gw) KERNEL_GW=1; shift ;;
	--ipv6) IPV6=1; shift ;;
	*) usage ;;
	esac
done
case "$LINKS" in
''|*[!0-9]*) echo "topology.sh: -n wants 1..16" >&2; exit 2 ;;
esac
if [ "$LINKS" -lt 1 ] || [ "$LINKS" -gt 16 ]; then
	echo "topology.sh: -n wants 1..16" >&2
	exit 2
fi

NS_SRC=${PREFIX}src
NS_GWA=${PREFIX}gwa
NS_EMU=${PREFIX}emu
NS_GWB=${PREFIX}gwb
NS_DST=${PREFIX}dst
ALL_NS="$NS_SRC $NS_GWA $NS_EMU $NS_GWB $NS_DST"

ns_exists() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"
}

# Stop what runs inside a namespace (TERM, then KILL after 2 s), delete it.
ns_remove() {
	local ns=$1 pids i
	ns_exists "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null || true
		for i in $(seq 20); do
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			[ -z "$pids" ] && break
			sleep 0.1
		done
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
	fi
	ip netns del "$ns"
}

teardown() {
	local ns rc=0
	for ns in $ALL_NS; do
		ns_remove "$ns" || rc=1
	done
	return $rc
}

# veth pair: ns1 if1 mac1 <-> ns2 if2 mac2, both up.
veth() {
	ip link add "$2" address "$3" netns "$1" type veth \
		peer name "$5" address "$6" netns "$4"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

hex2() { printf '%02x' "$1"; }

setup() {
	local ns i h
	for ns in $ALL_NS; do
		if ns_exists "$ns"; then
			echo "topology.sh: namespace $ns exists (run cleanup first)" >&2
			exit 1
		fi
	done
	for ns in $ALL_NS; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		if [ "$IPV6" = 0 ]; then
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		fi
	done
	veth "$NS_SRC" lan0 02:b0:00:00:00:02 "$NS_GWA" lan0 02:b0:00:00:00:01
	veth "$NS_GWB" lan0 02:b0:00:00:01:01 "$NS_DST" lan0 02:b0:00:00:01:02
	for i in $(seq 0 $((LINKS - 1))); do
		h=$(hex2 "$i")
		veth "$NS_GWA" "wan$i" "02:b0:01:$h:00:01" "$NS_EMU" "wan${i}a" "02:b0:02:$h:00:0a"
		veth "$NS_EMU" "wan${i}b" "02:b0:02:$h:00:0b" "$NS_GWB" "wan$i" "02:b0:01:$h:00:02"
	done
	ip -n "$NS_SRC" addr add 10.201.0.2/24 dev lan0
	ip -n "$NS_SRC" route add default via 10.201.0.1
	ip -n "$NS_DST" addr add 10.202.0.2/24 dev lan0
	ip -n "$NS_DST" route add default via 10.202.0.1
	# The emulator's interfaces carry no address: the kernel there must
	# not answer or route anything.
	ip netns exec "$NS_EMU" sysctl -qw net.ipv4.ip_forward=0
	if [ "$KERNEL_GW" = 1 ]; then
		ip -n "$NS_GWA" addr add 10.201.0.1/24 dev lan0
		ip -n "$NS_GWB" addr add 10.202.0.1/24 dev lan0
		for i in $(seq 0 $((LINKS - 1))); do
			ip -n "$NS_GWA" addr add "10.100.$i.1/24" dev "wan$i"
			ip -n "$NS_GWB" addr add "10.100.$i.2/24" dev "wan$i"
		done
		for ns in $NS_GWA $NS_GWB; do
			ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
		done
		ip -n "$NS_GWA" route add 10.202.0.0/24 via 10.100.0.2 dev wan0
		ip -n "$NS_GWB" route add 10.201.0.0/24 via 10.100.0.1 dev wan0
		# Static neighbours: ARP through a lossy emulator would make
		# the first packets of a test depend on ARP retries.
		ip -n "$NS_SRC" neigh replace 10.201.0.1 lladdr 02:b0:00:00:00:01 dev lan0 nud permanent
		ip -n "$NS_GWA" neigh replace 10.201.0.2 lladdr 02:b0:00:00:00:02 dev lan0 nud permanent
		ip -n "$NS_DST" neigh replace 10.202.0.1 lladdr 02:b0:00:00:01:01 dev lan0 nud permanent
		ip -n "$NS_GWB" neigh replace 10.202.0.2 lladdr 02:b0:00:00:01:02 dev lan0 nud permanent
		for i in $(seq 0 $((LINKS - 1))); do
			h=$(hex2 "$i")
			ip -n "$NS_GWA" neigh replace "10.100.$i.2" lladdr "02:b0:01:$h:00:02" dev "wan$i" nud permanent
			ip -n "$NS_GWB" neigh replace "10.100.$i.1" lladdr "02:b0:01:$h:00:01" dev "wan$i" nud permanent
		done
	fi
}

print_env() {
	echo "NS_SRC=$NS_SRC"
	echo "NS_GWA=$NS_GWA"
	echo "NS_EMU=$NS_EMU"
	echo "NS_GWB=$NS_GWB"
	echo "NS_DST=$NS_DST"
	echo "IP_SRC=10.201.0.2"
	echo "IP_DST=10.202.0.2"
	echo "IP_GWA_LAN=10.201.0.1"
	echo "IP_GWB_LAN=10.202.0.1"
	echo "WAN_LINKS=$LINKS"
	for i in $(seq 0 $((LINKS - 1))); do
		echo "IP_GWA_WAN$i=10.100.$i.1"
		echo "IP_GWB_WAN$i=10.100.$i.2"
	done
}

case "$CMD" in
setup)
	if [ "$(id -u)" != 0 ]; then
		echo "topology.sh: needs root" >&2
		exit 1
	fi
	# A failed setup leaves nothing behind.
	trap 'teardown >/dev/null 2>&1 || true' ERR
	setup
	trap - ERR
	;;
teardown) teardown ;;
cleanup) teardown >/dev/null 2>&1 || true ;;
env) print_env ;;
*) usage ;;
esac
