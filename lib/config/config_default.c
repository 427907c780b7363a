/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The embedded default configuration: virtual devices only, so the engine
 * runs on any machine (net_ring pairs stand in for the LAN and three WAN
 * links). doc/config.md shows the same document.
 */
#include "braid_config.h"

static const char default_json[] =
"{\n"
"  \"name\": \"braid-default\",\n"
"  \"ports\": [\n"
"    {\"name\": \"lan0\", \"role\": \"lan\", \"profile\": \"net_ring\", \"device\": \"net_ring_lan0\",\n"
"     \"mac\": \"02:00:00:00:00:01\", \"ipv4\": \"192.168.10.1/24\"},\n"
"    {\"name\": \"wan0\", \"role\": \"link\", \"profile\": \"net_ring\", \"device\": \"net_ring_wan0\",\n"
"     \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.1.1/24\"},\n"
"    {\"name\": \"wan1\", \"role\": \"link\", \"profile\": \"net_ring\", \"device\": \"net_ring_wan1\",\n"
"     \"mac\": \"02:00:00:00:01:02\", \"ipv4\": \"10.1.2.1/24\"},\n"
"    {\"name\": \"wan2\", \"role\": \"link\", \"profile\": \"net_ring\", \"device\": \"net_ring_wan2\",\n"
"     \"mac\": \"02:00:00:00:01:03\", \"ipv4\": \"10.1.3.1/24\"}\n"
"  ],\n"
"  \"links\": [\n"
"    {\"name\": \"wan0\", \"port\": \"wan0\", \"local\": \"10.1.1.1:7000\", \"peer\": \"10.1.1.2:7000\",\n"
"     \"next_hop_mac\": \"02:00:00:00:02:01\", \"capacity_kbps\": 10000},\n"
"    {\"name\": \"wan1\", \"port\": \"wan1\", \"local\": \"10.1.2.1:7000\", \"peer\": \"10.1.2.2:7000\",\n"
"     \"next_hop_mac\": \"02:00:00:00:02:02\", \"capacity_kbps\": 10000},\n"
"    {\"name\": \"wan2\", \"port\": \"wan2\", \"local\": \"10.1.3.1:7000\", \"peer\": \"10.1.3.2:7000\",\n"
"     \"next_hop_mac\": \"02:00:00:00:02:03\", \"capacity_kbps\": 10000}\n"
"  ],\n"
"  \"classes\": [\n"
"    {\"name\": \"realtime\", \"priority\": true, \"rate_cap_kbps\": 2000,\n"
"     \"fec\": {\"k\": 4, \"m\": 1}, \"arq\": {\"enabled\": true, \"deadline_ms\": 150},\n"
"     \"match\": [{\"priority\": 200, \"dscp\": 46}]},\n"
"    {\"name\": \"video\", \"weight\": 6,\n"
"     \"fec\": \"auto\", \"arq\": {\"enabled\": true, \"deadline_ms\": 600},\n"
"     \"policy\": {\"mode\": \"stripe\"},\n"
"     \"match\": [{\"priority\": 100, \"proto\": \"udp\", \"dst_port\": \"5000-5999\"}]},\n"
"    {\"name\": \"bulk\", \"weight\": 2,\n"
"     \"fec\": \"off\", \"arq\": {\"enabled\": true, \"deadline_ms\": 1000}}\n"
"  ],\n"
"  \"default_class\": \"bulk\",\n"
"  \"lcores\": {\n"
"    \"idle_sleep_max_us\": 100,\n"
"    \"map\": [{\"lcore\": 1, \"stages\": [\"lan_rx\", \"classify\", \"sched\", \"fec\", \"rtx\", \"link_tx\",\n"
"                                     \"link_rx\", \"rx_decap\", \"fec_decode\", \"reorder\", \"lan_tx\"]}]\n"
"  },\n"
"  \"management\": {\"enabled\": true, \"address\": \"127.0.0.1\", \"port\": 9099}\n"
"}\n";

const char *
braid_config_default_json(void)
{
	return default_json;
}
