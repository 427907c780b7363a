#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Writes the braid configuration of one testbed gateway (gwa or gwb of
# tests/e2e/topology.sh) for an emulator profile, on stdout.
#
#   ports  lan0 + wan0..wanN-1, net_af_packet on the namespace's veths, with
#          the MACs and addresses topology.sh assigns
#   links  wan<i>: 10.100.<i>.1:7000 <-> 10.100.<i>.2:7000, capacity =
#          the emulated rate of the direction this gateway sends in (a_to_b
#          for gwa, b_to_a for gwb; a tuning's capacity_pct scales it, none
#          does: the scheduler charges what a frame costs on the wire);
#          next_hop_mac
#          = the peer gateway's wan<i> MAC (braid-linkemu bridges L2), unless
#          --arp (then ARP resolves it)
#   classes realtime (DSCP 46, duplicated, strict priority with a cap),
#          stream (UDP to port 9000: the braid-traffic stream, FEC and ARQ
#          deadline from configs/tuning.json, the same for every profile),
#          bulk (everything else)
#   lcores every stage on lcore 0, idle sleep up to 200 us (two gateways,
#          the emulator and the stream tools share two CPUs; tuning key
#          idle_sleep_max_us)
#
# usage: gen_config.sh -s a|b -e EMU_PROFILE.json [-t TUNING_NAME]
#                      [--arp] [--stats-interval MS] [--tuning FILE]
#   TUNING_NAME: an entry of tuning.json (default: the profile file's
#   basename); unknown names take the "default" entry alone.
# Needs jq.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SIDE=
PROFILE=
TUNE_NAME=
TUNING=$HERE/tuning.json
ARP=0
STATS_MS=1000

usage() {
	sed -n '/^# usage:/,/^# Needs/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	-s) SIDE=${2:-}; shift 2 ;;
	-e) PROFILE=${2:-}; shift 2 ;;
	-t) TUNE_NAME=${2:-}; shift 2 ;;
	--tuning) TUNING=${2:-}; shift 2 ;;
	--arp) ARP=1; shift ;;
	--stats-interval) STATS_MS=${2:-}; shift 2 ;;
	*) usage ;;
	esac
done
case "$SIDE" in a|b) ;; *) usage ;; esac
[ -r "$PROFILE" ] || { echo "gen_config.sh: cannot read profile '$PROFILE'" >&2; exit 2; }
case "$STATS_MS" in ''|*[!0-9]*) usage ;; esac
[ -n "$TUNE_NAME" ] || TUNE_NAME=$(basename "$PROFILE" .json)

exec jq -n --arg side "$SIDE" --arg tname "$TUNE_NAME" --argjson arp "$ARP" \
	--argjson stats_ms "$STATS_MS" \
	--slurpfile prof "$PROFILE" --slurpfile tun "$TUNING" '
def hex2: [. / 16 | floor, . % 16] | map("0123456789abcdef"[.:.+1]) | add;
def wanmac($i; $s): "02:b0:01:\($i | hex2):00:\(if $s == "a" then "01" else "02" end)";
def peer($s): if $s == "a" then "b" else "a" end;
($prof[0]) as $p |
($tun[0].default + ($tun[0][$tname] // {})) as $t |
(if $side == "a" then "a_to_b" else "b_to_a" end) as $dir |
($p.links | length) as $n |
if $n < 1 or $n > 16 then error("profile: 1..16 links") else . end |
[range(0; $n) as $i | $p.links[$i] |
 if .a != "wan\($i)a" or .b != "wan\($i)b" then
	error("profile link \($i): interfaces must be wan\($i)a / wan\($i)b (topology.sh)")
 else . end |
 ((.[$dir].rate_kbps // .both.rate_kbps // 0)) as $rate |
 {i: $i, cap: (if $rate > 0 then ($rate * ($t.capacity_pct // 100) / 100 | floor)
               else 1000000 end)}] as $links |
{
  name: "gw\($side)",
  mempool: {mbufs: 16383, cache: 256},
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
            peer: "10.100.\(.i).\(if $side == "a" then 2 else 1 end):7000",
            capacity_kbps: .cap} +
          (if $arp == 1 then {} else {next_hop_mac: wanmac(.i; peer($side))} end)],
  classes: [
    {name: "realtime", priority: true, rate_cap_kbps: 2000,
     fec: {k: 4, m: 1}, arq: {enabled: true, deadline_ms: 150},
     policy: {mode: "duplicate", copies: (if $n >= 2 then 2 else 1 end)},
     match: [{priority: 200, dscp: 46}]},
    {name: "stream", weight: 6, queue_packets: 2048,
     fec: $t.fec, arq: {enabled: true, deadline_ms: $t.deadline_ms},
     policy: {mode: "stripe"},
     match: [{priority: 100, proto: "udp", dst_port: 9000}]},
    {name: "bulk", weight: 2, fec: "off",
     arq: {enabled: true, deadline_ms: 1000}}
  ],
  default_class: "bulk",
  fec: (if $t.block_timeout_us then {block_timeout_us: $t.block_timeout_us} else {} end),
  health: ($t.health // {}),
  lcores: {idle_sleep_max_us: ($t.idle_sleep_max_us // 200),
           map: [{lcore: 0, stages: ["lan_rx", "classify", "sched", "fec", "rtx",
                  "link_tx", "link_rx", "rx_decap", "fec_decode", "reorder",
                  "lan_tx"]}]},
  management: {enabled: true, address: "127.0.0.1", port: 9099},
  stats: {console: true, interval_ms: $stats_ms}
} |
if $n < 2 then .classes[0].policy = {mode: "stripe"} else . end
'
