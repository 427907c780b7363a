#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Writes the braid configuration of one testbed gateway (gwa or gwb of
# tests/e2e/topology.sh) for an emulator profile, on stdout. The classes
# and default_class are the shipped example's, verbatim (braid
# --print-default-config: the embedded default, a bonded video stream);
# only what belongs to this testbed is written here:
#
#   ports  lan0 + wan0..wanN-1, net_af_packet on the namespace's veths, with
#          the MACs and addresses topology.sh assigns
#   links  wan<i>: 10.100.<i>.1:7000 <-> 10.100.<i>.2:7000, capacity_kbps =
#          the emulated nominal rate of the direction this gateway sends in
#          (a_to_b for gwa, b_to_a for gwb); next_hop_mac = the peer
#          gateway's wan<i> MAC (braid-linkemu bridges L2), unless --arp
#          (then ARP resolves it). A profile link with a "nat" (gwa behind
#          a NAT): gwb's link learns its peer ("peer": "learn", needs --psk),
#          no next hop (answers go back through the MAC frames came from)
#   lcores every stage on lcore 0, idle sleep up to 200 us (two gateways,
#          the emulator and the stream tools share two CPUs)
#   management on 127.0.0.1:9099, the console table every --stats-interval
#   crypto with --psk FILE: crypto.psk_file (and crypto.rekey_s with
#          --rekey-s S)
# The test streams are UDP to port 5000: the example's video class.
#
# usage: gen_config.sh -s a|b -e EMU_PROFILE.json -x EXAMPLE.json [--arp]
#                      [--stats-interval MS] [--idle-sleep-max-us US]
#                      [--psk FILE [--rekey-s S]]
# Needs jq.

set -euo pipefail

SIDE=
PROFILE=
EXAMPLE=
ARP=0
STATS_MS=1000
IDLE_US=200
PSK=
REKEY_S=0

usage() {
	sed -n '/^# usage:/,/^# Needs/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	-s) SIDE=${2:-}; shift 2 ;;
	-e) PROFILE=${2:-}; shift 2 ;;
	-x) EXAMPLE=${2:-}; shift 2 ;;
	--arp) ARP=1; shift ;;
	--stats-interval) STATS_MS=${2:-}; shift 2 ;;
	--idle-sleep-max-us) IDLE_US=${2:-}; shift 2 ;;
	--psk) PSK=${2:-}; shift 2 ;;
	--rekey-s) REKEY_S=${2:-}; shift 2 ;;
	*) usage ;;
	esac
done
case "$SIDE" in a|b) ;; *) usage ;; esac
[ -r "$PROFILE" ] || { echo "gen_config.sh: cannot read profile '$PROFILE'" >&2; exit 2; }
[ -r "$EXAMPLE" ] || { echo "gen_config.sh: cannot read example '$EXAMPLE'" >&2; exit 2; }
case "$STATS_MS$IDLE_US$REKEY_S" in ''|*[!0-9]*) usage ;; esac

exec jq -n --arg side "$SIDE" --argjson arp "$ARP" --argjson stats_ms "$STATS_MS" \
	--arg psk "$PSK" --argjson rekey_s "$REKEY_S" \
	--argjson idle_us "$IDLE_US" --slurpfile prof "$PROFILE" --slurpfile ex "$EXAMPLE" '
def hex2: [. / 16 | floor, . % 16] | map("0123456789abcdef"[.:.+1]) | add;
def wanmac($i; $s): "02:b0:01:\($i | hex2):00:\(if $s == "a" then "01" else "02" end)";
def peer($s): if $s == "a" then "b" else "a" end;
($prof[0]) as $p |
(if $side == "a" then "a_to_b" else "b_to_a" end) as $dir |
($p.links | length) as $n |
if $n < 1 or $n > 16 then error("profile: 1..16 links") else . end |
[range(0; $n) as $i | $p.links[$i] |
 if .a != "wan\($i)a" or .b != "wan\($i)b" then
	error("profile link \($i): interfaces must be wan\($i)a / wan\($i)b (topology.sh)")
 else . end |
 ((.[$dir].rate_kbps // .both.rate_kbps // 0)) as $rate |
 {i: $i, cap: (if $rate > 0 then $rate else 1000000 end), nat: (has("nat"))}] as $links |
{
  name: "gw\($side)",
  ports: ([{name: "lan0", role: "lan", profile: "net_af_packet",
            device: "net_af_packet_lan0,iface=lan0",
            mac: (if $side == "a" then "02:b0:00:00:00:01" else "02:b0:00:00:01:01" end),
            ipv4: (if $side == "a" then "10.201.0.1/24" else "10.202.0.1/24" end)}] +
          [$links[] | {name: "wan\(.i)", role: "link", profile: "net_af_packet",
            device: "net_af_packet_wan\(.i),iface=wan\(.i)",
            mac: wanmac(.i; $side),
            ipv4: "10.100.\(.i).\(if $side == "a" then 1 else 2 end)/24"}]),
  links: [$links[] | {name: "wan\(.i)", port: "wan\(.i)",
            local: "10.100.\(.i).\(if $side == "a" then 1 else 2 end):7000",
            peer: (if .nat and $side == "b" then "learn"
                   else "10.100.\(.i).\(if $side == "a" then 2 else 1 end):7000" end),
            capacity_kbps: .cap} +
          (if $arp == 1 or (.nat and $side == "b") then {}
           else {next_hop_mac: wanmac(.i; peer($side))} end)],
  classes: $ex[0].classes,
  default_class: $ex[0].default_class,
  lcores: {idle_sleep_max_us: $idle_us,
           map: [{lcore: 0, stages: ["lan_rx", "classify", "sched", "fec", "rtx",
                  "link_tx", "link_rx", "rx_decap", "fec_decode", "reorder",
                  "lan_tx"]}]},
  management: {enabled: true, address: "127.0.0.1", port: 9099},
  stats: {console: true, interval_ms: $stats_ms}
} + (if $psk == "" then {} else
	{crypto: ({psk_file: $psk} + (if $rekey_s > 0 then {rekey_s: $rekey_s} else {} end))}
     end)
'
