/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/config: the embedded default and a full example load with every
 * field in place; defaults apply; a table of bad documents each fails
 * with the exact JSON path and reason; errors come in document order and
 * are capped; load(to_json(c)) == c; and a seeded mutation fuzz never
 * crashes and always either loads or explains itself.
 *
 * No EAL: the loader must work before rte_eal_init().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <CUnit/CUnit.h>
#include <rte_errno.h>

#include "braid_config.h"
#include "harness.h"

#define CONFIG_DIR BRAID_SOURCE_ROOT "/tests/unit/configs"
#define FULL_JSON CONFIG_DIR "/full.json"
#define DOC_MD BRAID_SOURCE_ROOT "/doc/config.md"

/* RTE_IPV4 shifts an int: undefined for a >= 128. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			 (uint32_t)(c) << 8 | (uint32_t)(d))

/* The smallest useful document: only the three required sections. */
static const char base_json[] =
	"{\n"
	" \"ports\": [\n"
	"  {\"name\": \"lan0\", \"role\": \"lan\", \"profile\": \"net_ring\", \"device\": \"net_ring_lan0\"},\n"
	"  {\"name\": \"wan0\", \"role\": \"link\", \"profile\": \"net_ring\", \"device\": \"net_ring_wan0\",\n"
	"   \"ipv4\": \"10.1.1.1/24\"},\n"
	"  {\"name\": \"wan1\", \"role\": \"link\", \"profile\": \"net_ring\", \"device\": \"net_ring_wan1\",\n"
	"   \"ipv4\": \"10.1.2.1/24\"}\n"
	" ],\n"
	" \"links\": [\n"
	"  {\"name\": \"wan0\", \"port\": \"wan0\", \"local\": \"10.1.1.1:7000\", \"peer\": \"10.1.1.2:7000\",\n"
	"   \"capacity_kbps\": 10000},\n"
	"  {\"name\": \"wan1\", \"port\": \"wan1\", \"local\": \"10.1.2.1:7000\", \"peer\": \"10.1.2.2:7000\",\n"
	"   \"capacity_kbps\": 10000}\n"
	" ],\n"
	" \"classes\": [\n"
	"  {\"name\": \"video\", \"fec\": {\"k\": 10, \"m\": 2},\n"
	"   \"match\": [{\"proto\": \"udp\", \"dst_port\": \"5000-5999\"}]},\n"
	"  {\"name\": \"bulk\"}\n"
	" ]\n"
	"}\n";

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);

	if (j == NULL)
		fprintf(stderr, "test JSON: line %d: %s\n", jerr.line, jerr.text);
	return j;
}

static void
print_errs(const struct braid_config_errors *errs)
{
	braid_config_errors_print(errs, stderr);
}

static bool
has_error(const struct braid_config_errors *errs, const char *path,
	  const char *msg)
{
	for (unsigned int i = 0; i < errs->n; i++)
		if (strcmp(errs->e[i].path, path) == 0 &&
		    strstr(errs->e[i].msg, msg) != NULL)
			return true;
	return false;
}

/* ---- default ------------------------------------------------------------ */

static void
test_default_loads(void)
{
	struct braid_config_errors errs;
	struct braid_config *c;
	const struct braid_config_class *k;
	const struct braid_config_rule *r;
	int rt, vid, bulk;

	c = braid_config_load_string(braid_config_default_json(), &errs);
	if (c == NULL)
		print_errs(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL(c->n_ports, 4);
	CU_ASSERT_EQUAL(c->n_links, 3);
	CU_ASSERT_EQUAL(c->n_classes, 3);
	CU_ASSERT_EQUAL(c->ports[0].role, BRAID_PORT_ROLE_LAN);
	CU_ASSERT_STRING_EQUAL(c->ports[0].device, "net_ring_lan0");
	CU_ASSERT_STRING_EQUAL(c->ports[0].profile, "net_ring");
	for (unsigned int i = 0; i < 3; i++) {
		const struct braid_config_port *pt = &c->ports[i + 1];
		const struct braid_config_link *l = &c->links[i];
		char dev[32];

		snprintf(dev, sizeof(dev), "net_ring_wan%u", i);
		CU_ASSERT_STRING_EQUAL(pt->device, dev);
		CU_ASSERT_EQUAL(pt->role, BRAID_PORT_ROLE_LINK);
		CU_ASSERT_EQUAL(pt->ipv4, IP4(10, 1, i + 1, 1));
		CU_ASSERT_EQUAL(pt->prefix, 24);
		CU_ASSERT_EQUAL(l->port, i + 1);
		CU_ASSERT_EQUAL(l->local_ip, IP4(10, 1, i + 1, 1));
		CU_ASSERT_EQUAL(l->peer_ip, IP4(10, 1, i + 1, 2));
		CU_ASSERT_EQUAL(l->peer_port, 7000);
		CU_ASSERT_EQUAL(l->next_hop, l->peer_ip);   /* on-link peer */
		CU_ASSERT_EQUAL(l->capacity_kbps, 10000);
		CU_ASSERT(l->admin_up);
	}
	rt = braid_config_find_class(c, "realtime");
	vid = braid_config_find_class(c, "video");
	bulk = braid_config_find_class(c, "bulk");
	CU_ASSERT_FATAL(rt >= 0 && vid >= 0 && bulk >= 0);
	k = &c->classes[rt];
	CU_ASSERT(k->priority);
	CU_ASSERT_EQUAL(k->rate_cap_kbps, 2000);
	CU_ASSERT(k->fec_enabled && k->fec_k == 4 && k->fec_m == 1);
	CU_ASSERT(k->arq_enabled && k->arq_deadline_ms == 150);
	CU_ASSERT_EQUAL_FATAL(k->rule_count, 1);
	r = &c->rules[k->rule_first];
	CU_ASSERT(r->has_dscp && r->dscp == 46);
	k = &c->classes[vid];
	CU_ASSERT_EQUAL(k->weight, 6);
	CU_ASSERT(k->fec_enabled && k->fec_auto && k->fec_k == 10 && k->fec_m == 2);
	CU_ASSERT_EQUAL(k->arq_deadline_ms, 600);
	CU_ASSERT_EQUAL(k->policy, BRAID_POLICY_STRIPE);
	CU_ASSERT_EQUAL_FATAL(k->rule_count, 1);
	r = &c->rules[k->rule_first];
	CU_ASSERT(r->has_proto && r->proto == IPPROTO_UDP);
	CU_ASSERT(r->dst_port_lo == 5000 && r->dst_port_hi == 5999);
	k = &c->classes[bulk];
	CU_ASSERT_EQUAL(k->weight, 2);
	CU_ASSERT(!k->fec_enabled);
	CU_ASSERT(k->arq_enabled && k->arq_deadline_ms == 1000);
	CU_ASSERT_EQUAL(c->default_class, bulk);
	CU_ASSERT_EQUAL(c->lcores.idle_sleep_max_us, 100);
	for (unsigned int s = 0; s < BRAID_STAGE_COUNT; s++)
		CU_ASSERT_EQUAL(c->lcores.stage_lcore[s], 1);
	CU_ASSERT(c->management.enabled);
	CU_ASSERT_EQUAL(c->management.address, IP4(127, 0, 0, 1));
	CU_ASSERT_EQUAL(c->management.port, 9099);
	braid_config_free(c);
}

/* ---- full example: every field lands ----------------------------------- */

static void
test_full_fields(void)
{
	static const struct rte_ether_addr mac_lan0 = {{ 2, 0, 0, 0, 0, 1 }};
	static const struct rte_ether_addr mac_m0 = {{ 2, 0, 0, 0, 1, 1 }};
	static const struct rte_ether_addr mac_nh = {{ 2, 0, 0, 0, 8, 1 }};
	struct braid_config_errors errs;
	const struct braid_config_port *pt;
	const struct braid_config_link *l;
	const struct braid_config_class *k;
	const struct braid_config_rule *r;
	struct braid_config *c;

	c = braid_config_load_file(FULL_JSON, &errs);
	if (c == NULL)
		print_errs(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->name, "gw-a.site_1");
	CU_ASSERT_EQUAL(c->mempool.mbufs, 32767);
	CU_ASSERT_EQUAL(c->mempool.cache, 128);
	CU_ASSERT_EQUAL(c->mempool.data_room, 4096);

	CU_ASSERT_EQUAL_FATAL(c->n_ports, 5);
	pt = &c->ports[0];
	CU_ASSERT_STRING_EQUAL(pt->name, "lan0");
	CU_ASSERT_EQUAL(pt->role, BRAID_PORT_ROLE_LAN);
	CU_ASSERT_STRING_EQUAL(pt->profile, "net_memif");
	CU_ASSERT_STRING_EQUAL(pt->device,
			       "net_memif0,role=server,socket=/run/braid/lan0.sock");
	CU_ASSERT(pt->has_mac && rte_is_same_ether_addr(&pt->mac, &mac_lan0));
	CU_ASSERT(pt->has_ipv4 && pt->ipv4 == IP4(192, 168, 10, 1) &&
		  pt->prefix == 24);
	CU_ASSERT_EQUAL(pt->mtu, 1500);
	pt = &c->ports[1];
	CU_ASSERT_STRING_EQUAL(pt->device, "0000:01:00.1");
	CU_ASSERT_STRING_EQUAL(pt->profile, "ixgbe");
	CU_ASSERT(!pt->has_mac && !pt->has_ipv4 && pt->mtu == 0);
	pt = &c->ports[2];
	CU_ASSERT_EQUAL(pt->role, BRAID_PORT_ROLE_LINK);
	CU_ASSERT(pt->has_mac && rte_is_same_ether_addr(&pt->mac, &mac_m0));
	CU_ASSERT_EQUAL(pt->mtu, 1400);
	CU_ASSERT_EQUAL(c->ports[3].ipv4, IP4(192, 168, 8, 100));
	CU_ASSERT_STRING_EQUAL(c->ports[4].device, "03:00.0");
	CU_ASSERT_EQUAL(c->ports[4].prefix, 30);

	CU_ASSERT_EQUAL_FATAL(c->n_links, 3);
	l = &c->links[0];
	CU_ASSERT_STRING_EQUAL(l->name, "lte-a");
	CU_ASSERT_EQUAL(l->port, 2);
	CU_ASSERT_EQUAL(l->local_ip, IP4(192, 168, 8, 100));
	CU_ASSERT_EQUAL(l->local_port, 7000);
	CU_ASSERT_EQUAL(l->peer_ip, IP4(203, 0, 113, 10));
	CU_ASSERT_EQUAL(l->peer_port, 7000);
	CU_ASSERT_EQUAL(l->next_hop, IP4(192, 168, 8, 1));
	CU_ASSERT(l->has_next_hop_mac &&
		  rte_is_same_ether_addr(&l->next_hop_mac, &mac_nh));
	CU_ASSERT_EQUAL(l->capacity_kbps, 20000);
	CU_ASSERT_EQUAL(l->weight, 3);
	CU_ASSERT(l->admin_up && !l->backup);
	l = &c->links[1];
	CU_ASSERT_EQUAL(l->port, 3);
	CU_ASSERT_EQUAL(l->local_port, 7001);
	CU_ASSERT(!l->has_next_hop_mac);
	CU_ASSERT(!l->admin_up);
	l = &c->links[2];
	CU_ASSERT_EQUAL(l->port, 4);
	CU_ASSERT_EQUAL(l->next_hop, IP4(100, 64, 0, 1));  /* = peer */
	CU_ASSERT(l->backup && l->admin_up);
	CU_ASSERT_EQUAL(l->weight, 10);

	CU_ASSERT_EQUAL_FATAL(c->n_classes, 3);
	k = &c->classes[0];
	CU_ASSERT_STRING_EQUAL(k->name, "voice");
	CU_ASSERT(k->priority && k->rate_cap_kbps == 1500);
	CU_ASSERT_EQUAL(k->queue_packets, 256);
	CU_ASSERT(k->fec_enabled && k->fec_k == 2 && k->fec_m == 2);
	CU_ASSERT(!k->arq_enabled && k->arq_deadline_ms == 50);
	CU_ASSERT(k->policy == BRAID_POLICY_DUPLICATE && k->copies == 3);
	CU_ASSERT(k->rule_first == 0 && k->rule_count == 2);
	k = &c->classes[1];
	CU_ASSERT_EQUAL(k->weight, 6);
	CU_ASSERT(!k->priority && k->rate_cap_kbps == 0);
	CU_ASSERT(k->fec_k == 32 && k->fec_m == 16);
	CU_ASSERT(k->arq_enabled && k->arq_deadline_ms == 400);
	CU_ASSERT(k->policy == BRAID_POLICY_PIN && k->n_pin == 2 &&
		  k->pin[0] == 1 && k->pin[1] == 0 && k->copies == 0);
	CU_ASSERT(k->rule_first == 2 && k->rule_count == 3);
	k = &c->classes[2];
	CU_ASSERT(k->rate_cap_kbps == 30000 && k->queue_packets == 16);
	CU_ASSERT(!k->fec_enabled && k->fec_k == 0);
	CU_ASSERT(k->policy == BRAID_POLICY_STRIPE && k->n_pin == 0);
	CU_ASSERT(k->rule_first == 5 && k->rule_count == 2);
	CU_ASSERT_EQUAL(c->default_class, 1);

	CU_ASSERT_EQUAL_FATAL(c->n_rules, 7);
	r = &c->rules[0];
	CU_ASSERT(r->class_idx == 0 && r->priority == 300);
	CU_ASSERT(r->has_dscp && r->dscp == 46);
	CU_ASSERT(r->has_proto && r->proto == IPPROTO_UDP);
	CU_ASSERT(r->has_in_port && r->in_port == 0);
	CU_ASSERT(r->src_prefix == 0 && r->dst_prefix == 0);
	CU_ASSERT(r->src_port_lo == 0 && r->src_port_hi == 65535);
	r = &c->rules[1];
	CU_ASSERT(r->src_ip == IP4(192, 168, 10, 0) && r->src_prefix == 24);
	CU_ASSERT(r->dst_ip == IP4(10, 20, 0, 5) && r->dst_prefix == 32);
	CU_ASSERT(r->src_port_lo == 5060 && r->src_port_hi == 5060);
	CU_ASSERT(r->dst_port_lo == 10000 && r->dst_port_hi == 20000);
	CU_ASSERT(!r->has_dscp && !r->has_in_port);
	r = &c->rules[2];
	CU_ASSERT(r->class_idx == 1 && r->proto == 17 && r->dst_port_lo == 5000 &&
		  r->dst_port_hi == 5999);
	r = &c->rules[3];
	CU_ASSERT(r->proto == IPPROTO_TCP && r->dst_ip == IP4(10, 30, 0, 0) &&
		  r->dst_prefix == 16 && r->dst_port_lo == 1935 &&
		  r->dst_port_hi == 1935);
	r = &c->rules[4];
	CU_ASSERT(r->proto == 47 && r->has_in_port && r->in_port == 1);
	r = &c->rules[5];
	CU_ASSERT(r->class_idx == 2 && r->proto == IPPROTO_ICMP &&
		  r->priority == 0);
	r = &c->rules[6];
	CU_ASSERT(r->proto == IPPROTO_SCTP && r->src_port_lo == 0 &&
		  r->src_port_hi == 1023);

	CU_ASSERT_EQUAL(c->fec.block_timeout_us, 5000);
	CU_ASSERT_EQUAL(c->retransmit.window_ms, 2000);
	CU_ASSERT_EQUAL(c->retransmit.max_packets, 131072);
	CU_ASSERT_EQUAL(c->reorder.window_ms, 250);
	CU_ASSERT_EQUAL(c->reorder.max_packets, 8192);
	CU_ASSERT_EQUAL(c->health.probe_interval_ms, 20);
	CU_ASSERT_EQUAL(c->health.down_after_probes, 5);
	CU_ASSERT_EQUAL(c->health.up_hold_ms, 3000);
	CU_ASSERT_EQUAL(c->health.silence_gaps, 12);
	CU_ASSERT_EQUAL(c->health.silence_min_ms, 15);
	CU_ASSERT_EQUAL(c->tx.drain_us, 50);
	CU_ASSERT_EQUAL(c->lcores.ring_size, 2048);
	CU_ASSERT_EQUAL(c->lcores.idle_polls, 128);
	CU_ASSERT_EQUAL(c->lcores.power_mgmt, BRAID_CONFIG_PM_PAUSE);
	CU_ASSERT_EQUAL(c->lcores.idle_sleep_max_us, 500);
	CU_ASSERT_EQUAL_FATAL(c->lcores.n_map, 3);
	CU_ASSERT(c->lcores.map[0].lcore == 1 && c->lcores.map[0].n_stages == 3);
	CU_ASSERT(c->lcores.map[1].lcore == 2 &&
		  c->lcores.map[1].stages[0] == BRAID_STAGE_FEC);
	CU_ASSERT(c->lcores.map[2].lcore == 3 && c->lcores.map[2].n_stages == 5);
	CU_ASSERT_EQUAL(c->lcores.stage_lcore[BRAID_STAGE_LAN_RX], 1);
	CU_ASSERT_EQUAL(c->lcores.stage_lcore[BRAID_STAGE_SCHED], 1);
	CU_ASSERT_EQUAL(c->lcores.stage_lcore[BRAID_STAGE_LINK_TX], 2);
	CU_ASSERT_EQUAL(c->lcores.stage_lcore[BRAID_STAGE_FEC_DECODE], 3);
	CU_ASSERT_EQUAL(c->lcores.stage_lcore[BRAID_STAGE_LAN_TX], 3);
	CU_ASSERT(c->management.enabled);
	CU_ASSERT_EQUAL(c->management.address, 0);
	CU_ASSERT_EQUAL(c->management.port, 9100);
	CU_ASSERT_STRING_EQUAL(c->management.token_file, "/etc/braid/token");
	CU_ASSERT_EQUAL(c->management.max_clients, 4);
	CU_ASSERT_EQUAL(c->management.max_request_bytes, 131072);
	CU_ASSERT_EQUAL(c->management.idle_timeout_s, 600);
	CU_ASSERT_EQUAL(c->management.metrics_port, 9101);
	CU_ASSERT(!c->stats.console);
	CU_ASSERT_EQUAL(c->stats.interval_ms, 500);

	CU_ASSERT_EQUAL(braid_config_find_port(c, "dsl"), 4);
	CU_ASSERT_EQUAL(braid_config_find_link(c, "dsl"), 2);
	CU_ASSERT_EQUAL(braid_config_find_class(c, "bulk"), 2);
	CU_ASSERT_EQUAL(braid_config_find_port(c, "nope"), -ENOENT);
	CU_ASSERT_EQUAL(braid_config_find_link(c, "modem0"), -ENOENT);
	CU_ASSERT_EQUAL(braid_config_find_class(NULL, "bulk"), -EINVAL);
	CU_ASSERT_EQUAL(braid_config_find_class(c, NULL), -EINVAL);
	braid_config_free(c);
}

/* ---- defaults ------------------------------------------------------------- */

static void
test_defaults(void)
{
	struct braid_config_errors errs;
	struct braid_config *c = braid_config_load_string(base_json, &errs);
	const struct braid_config_class *k;

	if (c == NULL)
		print_errs(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->name, "braid");
	CU_ASSERT_EQUAL(c->mempool.mbufs, 16383);
	CU_ASSERT_EQUAL(c->mempool.cache, 256);
	CU_ASSERT_EQUAL(c->mempool.data_room, 2176);
	CU_ASSERT(!c->ports[0].has_ipv4 && !c->ports[0].has_mac &&
		  c->ports[0].mtu == 0);
	CU_ASSERT_EQUAL(c->links[0].weight, 1);
	CU_ASSERT(c->links[0].admin_up && !c->links[0].backup);
	CU_ASSERT_EQUAL(c->links[0].next_hop, IP4(10, 1, 1, 2));
	k = &c->classes[1];
	CU_ASSERT_EQUAL(k->weight, 1);
	CU_ASSERT(!k->priority && k->rate_cap_kbps == 0);
	CU_ASSERT_EQUAL(k->queue_packets, 1024);
	CU_ASSERT(!k->fec_enabled);
	CU_ASSERT(k->arq_enabled && k->arq_deadline_ms == 200);
	CU_ASSERT(k->policy == BRAID_POLICY_STRIPE && k->copies == 0);
	CU_ASSERT_EQUAL(k->rule_count, 0);
	/* Rule wildcards. */
	CU_ASSERT_EQUAL_FATAL(c->n_rules, 1);
	CU_ASSERT(c->rules[0].priority == 0 && c->rules[0].src_prefix == 0 &&
		  !c->rules[0].has_dscp && !c->rules[0].has_in_port &&
		  c->rules[0].src_port_lo == 0 &&
		  c->rules[0].src_port_hi == 65535);
	/* Omitted default_class: the last class. */
	CU_ASSERT_EQUAL(c->default_class, 1);
	CU_ASSERT_EQUAL(c->fec.block_timeout_us, 0);   /* automatic */
	CU_ASSERT_EQUAL(c->retransmit.window_ms, 1000);
	CU_ASSERT_EQUAL(c->retransmit.max_packets, 65536);
	CU_ASSERT_EQUAL(c->reorder.window_ms, 0);
	CU_ASSERT_EQUAL(c->reorder.max_packets, 4096);
	CU_ASSERT_EQUAL(c->health.probe_interval_ms, 50);
	CU_ASSERT_EQUAL(c->health.down_after_probes, 3);
	CU_ASSERT_EQUAL(c->health.up_hold_ms, 2000);
	CU_ASSERT_EQUAL(c->health.silence_gaps, 8);
	CU_ASSERT_EQUAL(c->health.silence_min_ms, 10);
	CU_ASSERT_EQUAL(c->tx.drain_us, 100);
	CU_ASSERT_EQUAL(c->lcores.ring_size, 1024);
	CU_ASSERT_EQUAL(c->lcores.idle_polls, 64);
	CU_ASSERT_EQUAL(c->lcores.power_mgmt, BRAID_CONFIG_PM_OFF);
	CU_ASSERT_EQUAL(c->lcores.idle_sleep_max_us, 0);
	CU_ASSERT_EQUAL(c->lcores.n_map, 1);
	CU_ASSERT_EQUAL(c->lcores.map[0].n_stages, BRAID_STAGE_COUNT);
	for (unsigned int s = 0; s < BRAID_STAGE_COUNT; s++)
		CU_ASSERT_EQUAL(c->lcores.stage_lcore[s], 1);
	CU_ASSERT(c->management.enabled);
	CU_ASSERT_EQUAL(c->management.address, IP4(127, 0, 0, 1));
	CU_ASSERT_EQUAL(c->management.port, 9099);
	CU_ASSERT_STRING_EQUAL(c->management.token_file, "");
	CU_ASSERT_EQUAL(c->management.max_clients, 8);
	CU_ASSERT_EQUAL(c->management.max_request_bytes, 65536);
	CU_ASSERT_EQUAL(c->management.idle_timeout_s, 300);
	CU_ASSERT_EQUAL(c->management.metrics_port, 0);
	/* no token, no TCP endpoint asked for: a Unix socket */
	CU_ASSERT_STRING_EQUAL(c->management.unix_path, "/run/braid/braid.sock");
	CU_ASSERT(c->stats.console);
	CU_ASSERT_EQUAL(c->stats.interval_ms, 1000);
	braid_config_free(c);
}

/* ---- bad documents ---------------------------------------------------------- */

/*
 * Edit @p root at @p where ("links/0/port"): set to the JSON text @p val,
 * or delete when @p val is NULL. Missing objects on the way are created.
 */
static int
edit(json_t *root, const char *where, const char *val)
{
	char buf[256], *save = NULL, *tok, *next;
	json_t *cur = root, *v = NULL;

	snprintf(buf, sizeof(buf), "%s", where);
	if (val != NULL) {
		v = parse(val);
		if (v == NULL)
			return -1;
	}
	tok = strtok_r(buf, "/", &save);
	while (tok != NULL) {
		char *end;
		unsigned long idx = strtoul(tok, &end, 10);
		bool is_idx = *end == '\0' && json_is_array(cur);

		next = strtok_r(NULL, "/", &save);
		if (next == NULL) {
			if (is_idx && v == NULL)
				return json_array_remove(cur, idx);
			if (is_idx && idx == json_array_size(cur))
				return json_array_append_new(cur, v);
			if (is_idx)
				return json_array_set_new(cur, idx, v);
			if (v == NULL)
				return json_object_del(cur, tok);
			return json_object_set_new(cur, tok, v);
		}
		if (is_idx) {
			cur = json_array_get(cur, idx);
		} else {
			json_t *n = json_object_get(cur, tok);

			if (n == NULL) {
				n = json_object();
				json_object_set_new(cur, tok, n);
			}
			cur = n;
		}
		if (cur == NULL)
			break;
		tok = next;
	}
	json_decref(v);
	return -1;
}

struct bad_case {
	const char *where1, *val1;   /* first edit (NULL where: raw text) */
	const char *where2, *val2;   /* optional second edit */
	const char *path;            /* expected path of the first error */
	const char *msg;             /* substring of its message */
};

#define DEL NULL
#define STAGES10 "\"lan_rx\",\"classify\",\"sched\",\"fec\",\"rtx\",\"link_tx\"," \
		 "\"link_rx\",\"rx_decap\",\"fec_decode\",\"lan_tx\""

static const struct bad_case bad_cases[] = {
	/* unknown keys at several depths */
	{ "colour", "1", NULL, NULL, "$.colour", "unknown key" },
	{ "ports/0/colour", "\"red\"", NULL, NULL, "$.ports[0].colour", "unknown key" },
	{ "classes/0/fec/x", "1", NULL, NULL, "$.classes[0].fec.x", "unknown key" },
	{ "classes/0/match/0/dst_prot", "80", NULL, NULL,
	  "$.classes[0].match[0].dst_prot", "unknown key (did you mean \"dst_port\"?)" },
	{ "lcores/map", "[{\"lcore\":1,\"cpu\":2,\"stages\":[" STAGES10 ",\"reorder\"]}]",
	  NULL, NULL, "$.lcores.map[0].cpu", "unknown key" },
	{ "management/tokenfile", "\"/x\"", NULL, NULL, "$.management.tokenfile",
	  "did you mean \"token_file\"" },
	{ "a key", "1", NULL, NULL, "$[\"a key\"]", "unknown key" },
	/* wrong types */
	{ "links/0/capacity_kbps", "\"fast\"", NULL, NULL, "$.links[0].capacity_kbps",
	  "must be an integer in 1..100000000 (got \"fast\")" },
	{ "classes/0/weight", "2.5", NULL, NULL, "$.classes[0].weight",
	  "must be an integer in 1..1000 (got 2.5)" },
	{ "classes/0/priority", "1", NULL, NULL, "$.classes[0].priority",
	  "must be true or false (got 1)" },
	{ "links/0/backup", "null", NULL, NULL, "$.links[0].backup",
	  "must be true or false (got null)" },
	{ "classes/0/queue_packets", "\"1024\"", NULL, NULL,
	  "$.classes[0].queue_packets", "(got \"1024\")" },
	{ "mempool", "[]", NULL, NULL, "$.mempool", "must be an object (got array)" },
	{ "ports", "{}", NULL, NULL, "$.ports", "must be an array of ports (got object)" },
	{ "classes/1/arq", "true", NULL, NULL, "$.classes[1].arq",
	  "must be an object (got true)" },
	{ "classes/0/fec", "\"on\"", NULL, NULL, "$.classes[0].fec",
	  "must be \"off\", \"auto\", {\"k\": 1..32, \"m\": 1..16} or {\"auto\": true, "
	  "\"max_overhead_pct\": 1..100} (got \"on\")" },
	{ "classes/0/fec", "{\"auto\":false}", NULL, NULL, "$.classes[0].fec",
	  "\"auto\": false: give" },
	{ "classes/0/fec", "{\"auto\":true,\"max_overhead_pct\":0}", NULL, NULL,
	  "$.classes[0].fec.max_overhead_pct", "1..100" },
	{ "classes/0/fec", "{\"auto\":true,\"k\":4}", NULL, NULL, "$.classes[0].fec.k",
	  "unknown key" },
	{ "name", "\"a\\u0000b\"", NULL, NULL, "$.name", "must not contain NUL" },
	/* missing and empty */
	{ "ports", DEL, NULL, NULL, "$.ports", "required" },
	{ "links", "[]", NULL, NULL, "$.links", "must have at least 1 links" },
	{ "classes/0/fec", "{\"k\":4}", NULL, NULL, "$.classes[0].fec.m", "required" },
	{ "links/1/capacity_kbps", DEL, NULL, NULL, "$.links[1].capacity_kbps",
	  "required (an integer in 1..100000000)" },
	{ "classes/0/policy", "{}", NULL, NULL, "$.classes[0].policy.mode", "required" },
	/* out of range */
	{ "classes/0/fec", "{\"k\":40,\"m\":2}", NULL, NULL, "$.classes[0].fec.k",
	  "must be an integer in 1..32 (got 40)" },
	{ "classes/0/fec", "{\"k\":4,\"m\":17}", NULL, NULL, "$.classes[0].fec.m",
	  "must be an integer in 1..16 (got 17)" },
	{ "classes/0/weight", "0", NULL, NULL, "$.classes[0].weight", "1..1000 (got 0)" },
	{ "classes/0/queue_packets", "8", NULL, NULL, "$.classes[0].queue_packets",
	  "16..65536 (got 8)" },
	{ "classes/1/arq", "{\"deadline_ms\":0}", NULL, NULL,
	  "$.classes[1].arq.deadline_ms", "1..10000 (got 0)" },
	{ "classes/0/match/0/dscp", "64", NULL, NULL, "$.classes[0].match[0].dscp",
	  "0..63 (got 64)" },
	{ "ports/0/mtu", "100", NULL, NULL, "$.ports[0].mtu", "576..9600 (got 100)" },
	{ "health/probe_interval_ms", "5", NULL, NULL, "$.health.probe_interval_ms",
	  "10..1000 (got 5)" },
	{ "health/silence_gaps", "1001", NULL, NULL, "$.health.silence_gaps",
	  "0..1000 (got 1001)" },
	{ "lcores/power_mgmt", "\"sleep\"", NULL, NULL, "$.lcores.power_mgmt",
	  "one of \"off\", \"monitor\", \"pause\", \"scale\"" },
	{ "tx/drain_us", "0", NULL, NULL, "$.tx.drain_us", "1..100 (got 0)" },
	{ "reorder/window_ms", "20000", NULL, NULL, "$.reorder.window_ms",
	  "0..10000 (got 20000)" },
	{ "retransmit/window_ms", "-5", NULL, NULL, "$.retransmit.window_ms",
	  "10..60000 (got -5)" },
	{ "fec/block_timeout_us", "10", NULL, NULL, "$.fec.block_timeout_us",
	  "0 (automatic) or 50..1000000 (got 10)" },
	{ "fec/block_timeout_us", "1000001", NULL, NULL, "$.fec.block_timeout_us",
	  "1000001" },
	{ "stats/interval_ms", "99999999999", NULL, NULL, "$.stats.interval_ms",
	  "100..60000 (got 99999999999)" },
	{ "mempool", "{\"mbufs\":300,\"cache\":256}", NULL, NULL, "$.mempool.cache",
	  "must be at most mbufs / 1.5 = 200 (got 256)" },
	{ "lcores/ring_size", "1000", NULL, NULL, "$.lcores.ring_size",
	  "must be a power of two in 64..65536 (got 1000)" },
	{ "lcores/ring_size", "32", NULL, NULL, "$.lcores.ring_size",
	  "must be an integer in 64..65536 (got 32)" },
	/* names */
	{ "name", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", NULL, NULL, "$.name",
	  "1..31 characters" },
	{ "ports/0/name", "\"lan 0\"", NULL, NULL, "$.ports[0].name",
	  "1..31 characters of A-Z a-z 0-9 _ . - (got \"lan 0\")" },
	{ "ports/0/profile", "\"Net_Ring\"", NULL, NULL, "$.ports[0].profile",
	  "a profile name" },
	{ "ports/0/role", "\"wan\"", NULL, NULL, "$.ports[0].role",
	  "must be one of \"lan\", \"link\" (got \"wan\")" },
	{ "links/0/admin", "\"off\"", NULL, NULL, "$.links[0].admin",
	  "one of \"up\", \"down\"" },
	/* duplicates */
	{ "ports/2/name", "\"wan0\"", NULL, NULL, "$.ports[2].name",
	  "duplicate port name \"wan0\" (also $.ports[1])" },
	{ "links/1/name", "\"wan0\"", NULL, NULL, "$.links[1].name",
	  "duplicate link name \"wan0\"" },
	{ "classes/1/name", "\"video\"", NULL, NULL, "$.classes[1].name",
	  "duplicate class name \"video\"" },
	{ "ports/2/device", "\"net_ring_wan0,x=1\"", NULL, NULL, "$.ports[2].device",
	  "device \"net_ring_wan0\" already used by $.ports[1]" },
	{ "links/1", "{\"name\":\"b\",\"port\":\"wan0\",\"local\":\"10.1.1.1:7000\","
	  "\"peer\":\"10.1.1.2:7000\",\"capacity_kbps\":1}", NULL, NULL,
	  "$.links[1].peer", "same port, local and peer as $.links[0]" },
	{ "classes/0", "{\"name\":\"a\",\"priority\":true,\"rate_cap_kbps\":5}",
	  "classes/1", "{\"name\":\"b\",\"priority\":true,\"rate_cap_kbps\":5}",
	  "$.classes[1].priority", "only one class may have priority" },
	/* dangling references */
	{ "links/1/port", "\"wan9\"", NULL, NULL, "$.links[1].port",
	  "no port named \"wan9\"" },
	{ "links/1/port", "\"lan0\"", NULL, NULL, "$.links[1].port",
	  "has role \"lan\"" },
	{ "default_class", "\"gold\"", NULL, NULL, "$.default_class",
	  "no class named \"gold\"" },
	{ "classes/0/policy", "{\"mode\":\"pin\",\"links\":[\"wan0\",\"wan7\"]}", NULL, NULL,
	  "$.classes[0].policy.links[1]", "no link named \"wan7\"" },
	{ "classes/0/policy", "{\"mode\":\"pin\",\"links\":[\"wan0\",\"wan0\"]}", NULL, NULL,
	  "$.classes[0].policy.links[1]", "listed twice" },
	{ "classes/0/match/0/in_port", "\"lan5\"", NULL, NULL,
	  "$.classes[0].match[0].in_port", "no port named \"lan5\"" },
	{ "classes/0/match/0/in_port", "\"wan0\"", NULL, NULL,
	  "$.classes[0].match[0].in_port", "has role \"link\"" },
	/* addresses */
	{ "ports/1/ipv4", "\"10.1.1.256/24\"", NULL, NULL, "$.ports[1].ipv4",
	  "must be an address with prefix length a.b.c.d/n (got \"10.1.1.256/24\")" },
	{ "ports/1/ipv4", "\"10.1.1.1\"", NULL, NULL, "$.ports[1].ipv4",
	  "address with prefix length" },
	{ "ports/1/ipv4", "\"10.1.1.1/33\"", NULL, NULL, "$.ports[1].ipv4",
	  "prefix length must be 1..32 (got \"33\")" },
	{ "ports/1/ipv4", "\"10.1.1.0/24\"", NULL, NULL, "$.ports[1].ipv4",
	  "is the network address" },
	{ "ports/1/ipv4", DEL, NULL, NULL, "$.ports[1].ipv4",
	  "required for a port with role \"link\"" },
	{ "links/0/peer", "\"10.1.1.02:7000\"", NULL, NULL, "$.links[0].peer",
	  "must be an endpoint a.b.c.d:port" },
	{ "links/0/local", "\"10.1.1.5:7000\"", NULL, NULL, "$.links[0].local",
	  "address 10.1.1.5 is not port \"wan0\"'s address 10.1.1.1" },
	{ "links/0/local", "\"10.1.1.1:0\"", NULL, NULL, "$.links[0].local",
	  "UDP port must be 1..65535" },
	{ "links/0/local", "\"10.1.1.1:70000\"", NULL, NULL, "$.links[0].local",
	  "must be an endpoint" },
	{ "links/0/peer", "\"224.0.0.1:7000\"", NULL, NULL, "$.links[0].peer",
	  "is a multicast address" },
	{ "links/0/peer", "\"10.1.1.1:7001\"", NULL, NULL, "$.links[0].peer",
	  "peer address must differ" },
	{ "links/0/peer", "\"learn\"", NULL, NULL, "$.links[0].peer",
	  "\"learn\" needs crypto.psk_file" },
	/* link ports addressed by DHCP */
	{ "ports/0/ipv4", "\"dhcp\"", NULL, NULL, "$.ports[0].ipv4",
	  "\"dhcp\" is for ports with role \"link\"" },
	{ "ports/1/ipv4", "\"dhcp\"", NULL, NULL, "$.links[0].local",
	  "port \"wan0\" takes its address by DHCP: \"dhcp:<udp port 1..65535>\"" },
	{ "ports/1/ipv4", "\"dhcp\"", "links/0/local", "\"dhcp:0\"", "$.links[0].local",
	  "takes its address by DHCP" },
	{ "links/0/local", "\"dhcp:7000\"", NULL, NULL, "$.links[0].local",
	  "must be an endpoint a.b.c.d:port" },
	{ "management/unix_path", "\"run/b.sock\"", NULL, NULL, "$.management.unix_path",
	  "null or an absolute path of 1..107 characters" },
	{ "crypto/rekey_s", "0", NULL, NULL, "$.crypto.rekey_s", "1..86400" },
	{ "crypto/psk_file", "\"\"", NULL, NULL, "$.crypto.psk_file", "file path" },
	{ "mtu/icmp_per_s", "-1", NULL, NULL, "$.mtu.icmp_per_s", "0..100000" },
	{ "links/0/peer", "\"203.0.113.1:7000\"", NULL, NULL, "$.links[0].next_hop",
	  "required: peer 203.0.113.1 is not on port \"wan0\"'s subnet 10.1.1.0/24" },
	{ "links/0/next_hop", "\"10.9.9.9\"", NULL, NULL, "$.links[0].next_hop",
	  "10.9.9.9 is not a neighbour on port \"wan0\"'s subnet" },
	{ "classes/0/match/0/src", "\"10.1.2.3/8\"", NULL, NULL,
	  "$.classes[0].match[0].src", "host bits set (did you mean \"10.0.0.0/8\"?)" },
	{ "classes/0/match/0/dst", "\"10.0.0.0/40\"", NULL, NULL,
	  "$.classes[0].match[0].dst", "prefix length must be 0..32" },
	{ "management/address", "\"localhost\"", NULL, NULL, "$.management.address",
	  "must be an IPv4 address a.b.c.d" },
	/* MACs */
	{ "ports/0/mac", "\"02:00:00:00:00\"", NULL, NULL, "$.ports[0].mac",
	  "must be a MAC address xx:xx:xx:xx:xx:xx" },
	{ "ports/0/mac", "\"01:00:5e:00:00:01\"", NULL, NULL, "$.ports[0].mac",
	  "must be a unicast MAC address" },
	{ "links/0/next_hop_mac", "\"00:00:00:00:00:00\"", NULL, NULL,
	  "$.links[0].next_hop_mac", "must not be 00:00:00:00:00:00" },
	/* devices */
	{ "ports/0/device", "\"net ring\"", NULL, NULL, "$.ports[0].device",
	  "a vdev name" },
	{ "ports/0/device", "\"0000:01:20.0\"", NULL, NULL, "$.ports[0].device",
	  "a PCI address" },
	{ "ports/0/device", "\"net_ring0,,x=1\"", NULL, NULL, "$.ports[0].device",
	  "a vdev name" },
	/* match rules */
	{ "classes/0/match/0/dst_port", "\"5999-5000\"", NULL, NULL,
	  "$.classes[0].match[0].dst_port", "range must have lo <= hi (got \"5999-5000\")" },
	{ "classes/0/match/0/dst_port", "\"5000-\"", NULL, NULL,
	  "$.classes[0].match[0].dst_port", "must be a port 0..65535 or a range" },
	{ "classes/0/match/0/proto", DEL, NULL, NULL, "$.classes[0].match[0].dst_port",
	  "needs \"proto\": \"tcp\", \"udp\" or \"sctp\"" },
	{ "classes/0/match/0/proto", "\"gre\"", NULL, NULL, "$.classes[0].match[0].proto",
	  "must be \"tcp\", \"udp\", \"icmp\", \"sctp\" or an integer in 0..255" },
	/* class policy */
	{ "classes/0/priority", "true", NULL, NULL, "$.classes[0].rate_cap_kbps",
	  "required (> 0) when priority is true" },
	{ "classes/0/priority", "true", "classes/0/rate_cap_kbps", "0",
	  "$.classes[0].rate_cap_kbps", "must be > 0 when priority is true" },
	{ "classes/0/policy", "{\"mode\":\"duplicate\",\"copies\":3}", NULL, NULL,
	  "$.classes[0].policy.copies", "must be an integer in 2..2 (got 3)" },
	{ "classes/0/policy", "{\"mode\":\"stripe\",\"copies\":2}", NULL, NULL,
	  "$.classes[0].policy.copies", "only valid with mode \"duplicate\"" },
	{ "links/0/backup", "true", "links/1/backup", "true", "$.links",
	  "at least one link must not be a backup link" },
	{ "ports/0/role", "\"link\"", "ports/0/ipv4", "\"10.9.0.1/24\"", "$.ports",
	  "needs at least one port with role \"lan\"" },
	/* lcore map */
	{ "lcores/map", "[{\"lcore\":1,\"stages\":[" STAGES10 "]}]", NULL, NULL,
	  "$.lcores.map", "stage \"reorder\" is not placed on any lcore" },
	{ "lcores/map", "[{\"lcore\":1,\"stages\":[" STAGES10 "]},"
	  "{\"lcore\":2,\"stages\":[\"reorder\",\"fec\"]}]", NULL, NULL,
	  "$.lcores.map[1].stages[1]",
	  "stage \"fec\" already placed at $.lcores.map[0].stages[3]" },
	{ "lcores/map", "[{\"lcore\":1,\"stages\":[" STAGES10 ",\"decode\"]}]", NULL, NULL,
	  "$.lcores.map[0].stages[10]", "unknown stage \"decode\"" },
	{ "lcores/map", "[{\"lcore\":1,\"stages\":[" STAGES10 "]},"
	  "{\"lcore\":1,\"stages\":[\"reorder\"]}]", NULL, NULL,
	  "$.lcores.map[1].lcore", "lcore 1 already used by $.lcores.map[0]" },
	{ "lcores/map", "[{\"lcore\":128,\"stages\":[" STAGES10 ",\"reorder\"]}]",
	  NULL, NULL, "$.lcores.map[0].lcore", "must be an integer in 0..127 (got 128)" },
	{ "lcores/map", "[]", NULL, NULL, "$.lcores.map", "must have at least 1" },
	/* management */
	{ "management", "{\"address\":\"0.0.0.0\"}", NULL, NULL,
	  "$.management.token_file", "required when the address is not loopback" },
	{ "management", "{\"port\":9099,\"metrics_port\":9099}", NULL, NULL,
	  "$.management.metrics_port", "must differ from the management port" },
	{ "management/token_file", "\"\"", NULL, NULL, "$.management.token_file",
	  "null or a file path" },
	{ "management/token_file", "5", NULL, NULL, "$.management.token_file",
	  "must be null or a file path of 1..255 characters (got 5)" },
	/* whole documents */
	{ NULL, "{\n \"ports\": [\n  ,]\n}", NULL, NULL, "$",
	  "invalid JSON at line 3, column" },
	{ NULL, "", NULL, NULL, "$", "empty document" },
	{ NULL, " \n\t ", NULL, NULL, "$", "empty document" },
	{ NULL, "{\"name\": \"a\", \"name\": \"b\"}", NULL, NULL, "$", "duplicate" },
	{ NULL, "[1, 2]", NULL, NULL, "$", "must be an object (got array)" },
	{ NULL, "{\"ports\": [", NULL, NULL, "$", "invalid JSON at line 1" },
};

static void
test_bad_table(void)
{
	unsigned int failed = 0;

	printf("\n  %zu bad documents\n", RTE_DIM(bad_cases));
	for (unsigned int i = 0; i < RTE_DIM(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct braid_config_errors errs;
		struct braid_config *c;
		bool ok;

		memset(&errs, 0xa5, sizeof(errs));
		rte_errno = 0;
		if (bc->where1 == NULL) {
			c = braid_config_load_string(bc->val1, &errs);
		} else {
			json_t *doc = parse(base_json);

			CU_ASSERT_FATAL(doc != NULL);
			CU_ASSERT_FATAL(edit(doc, bc->where1, bc->val1) == 0);
			if (bc->where2 != NULL)
				CU_ASSERT_FATAL(edit(doc, bc->where2, bc->val2) == 0);
			c = braid_config_load_json(doc, &errs);
			json_decref(doc);
		}
		ok = c == NULL && rte_errno == EINVAL && errs.n >= 1 &&
		     errs.n <= BRAID_CONFIG_MAX_ERRORS && errs.total >= errs.n &&
		     strcmp(errs.e[0].path, bc->path) == 0 &&
		     strstr(errs.e[0].msg, bc->msg) != NULL;
		CU_ASSERT(ok);
		if (!ok) {
			failed++;
			fprintf(stderr, "case %u (%s): want %s: ...%s...\n  got:\n",
				i, bc->where1 != NULL ? bc->where1 : "<text>",
				bc->path, bc->msg);
			if (c == NULL && errs.n <= BRAID_CONFIG_MAX_ERRORS)
				print_errs(&errs);
		}
		braid_config_free(c);
	}
	CU_ASSERT_EQUAL(failed, 0);
}

/* "fec": "auto" and its object form: the start shape within the
 * ceiling, emitted back the way it was written. */
static void
test_fec_auto(void)
{
	static const char *const forms[] = {
		"\"auto\"", "{\"auto\": true, \"max_overhead_pct\": 10}",
	};

	for (unsigned int i = 0; i < RTE_DIM(forms); i++) {
		struct braid_config_errors errs;
		json_t *doc = parse(base_json), *out, *fec;
		struct braid_config *c;
		const struct braid_config_class *k;

		CU_ASSERT_FATAL(doc != NULL);
		CU_ASSERT_FATAL(edit(doc, "classes/0/fec", forms[i]) == 0);
		c = braid_config_load_json(doc, &errs);
		json_decref(doc);
		CU_ASSERT_FATAL(c != NULL);
		k = &c->classes[0];
		CU_ASSERT(k->fec_enabled && k->fec_auto && k->fec_k == 10);
		CU_ASSERT_EQUAL(k->fec_max_overhead_pct, i == 0 ? 25 : 10);
		CU_ASSERT_EQUAL(k->fec_m, i == 0 ? 2 : 1);
		out = braid_config_to_json(c);
		CU_ASSERT_FATAL(out != NULL);
		fec = json_object_get(json_array_get(json_object_get(out, "classes"), 0), "fec");
		if (i == 0) {
			CU_ASSERT_STRING_EQUAL(json_string_value(fec), "auto");
		} else {
			CU_ASSERT_EQUAL(json_integer_value(json_object_get(fec, "max_overhead_pct")),
					10);
		}
		json_decref(out);
		braid_config_free(c);
	}
}

/* Errors come in document order whatever order the loader checks in. */
static void
test_error_order(void)
{
	static const char doc[] =
		"{\"links\": [{\"weight\": 0, \"name\": \"w\", \"port\": \"wan0\","
		"             \"local\": \"10.1.1.1:7000\", \"peer\": \"10.1.1.2:7000\"}],\n"
		" \"stats\": {\"interval_ms\": 1},\n"
		" \"ports\": [{\"name\": \"lan0\", \"role\": \"lan\", \"profile\": \"p\","
		"             \"device\": \"net_ring0\", \"mtu\": 1},\n"
		"           {\"name\": \"wan0\", \"role\": \"link\", \"profile\": \"p\","
		"             \"device\": \"net_ring1\", \"ipv4\": \"10.1.1.1/24\"}],\n"
		" \"classes\": [{\"name\": \"c\", \"weight\": 0}],\n"
		" \"bogus\": 1}";
	static const char *const want[] = {
		"$.links[0].weight", "$.links[0].capacity_kbps", "$.stats.interval_ms",
		"$.ports[0].mtu", "$.classes[0].weight", "$.bogus" };
	struct braid_config_errors errs;
	struct braid_config *c = braid_config_load_string(doc, &errs);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.n, RTE_DIM(want));
	CU_ASSERT_EQUAL(errs.total, RTE_DIM(want));
	for (unsigned int i = 0; i < RTE_DIM(want) && i < errs.n; i++)
		CU_ASSERT_STRING_EQUAL(errs.e[i].path, want[i]);
	if (errs.n != RTE_DIM(want))
		print_errs(&errs);
	braid_config_free(c);
}

/* More than 16 errors: the first 16 in document order, total counts all. */
static void
test_error_cap(void)
{
	struct braid_config_errors errs;
	json_t *doc = parse(base_json);
	struct braid_config *c;
	char key[16], want[24], *text;
	FILE *f;
	size_t len = 0;

	CU_ASSERT_FATAL(doc != NULL);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "x%02d", i);
		json_object_set_new(doc, key, json_integer(i));
	}
	c = braid_config_load_json(doc, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.n, BRAID_CONFIG_MAX_ERRORS);
	CU_ASSERT_EQUAL(errs.total, 20);
	for (unsigned int i = 0; i < errs.n; i++) {
		snprintf(want, sizeof(want), "$.x%02u", i);
		CU_ASSERT_STRING_EQUAL(errs.e[i].path, want);
		CU_ASSERT_STRING_EQUAL(errs.e[i].msg, "unknown key");
	}
	f = open_memstream(&text, &len);
	CU_ASSERT_FATAL(f != NULL);
	braid_config_errors_print(&errs, f);
	fclose(f);
	CU_ASSERT(strstr(text, "$.x00: unknown key\n$.x01: unknown key\n") == text);
	CU_ASSERT(strstr(text, "(4 more errors not shown)\n") != NULL);
	free(text);
	json_decref(doc);
}

/* Messages are cut to fit, never inside a UTF-8 sequence. */
static void
test_utf8_errors(void)
{
	struct braid_config_errors errs;
	json_t *doc = parse(base_json), *port0, *p, *m;
	char key[301], val[301];
	struct braid_config *c;

	CU_ASSERT_FATAL(doc != NULL);
	for (int i = 0; i < 100; i++) {
		memcpy(key + 3 * i, "\xe2\x82\xac", 3);   /* euro sign */
		memcpy(val + 3 * i, "\xe2\x82\xac", 3);
	}
	key[300] = val[300] = '\0';
	port0 = json_array_get(json_object_get(doc, "ports"), 0);
	json_object_set_new(port0, key, json_integer(1));
	json_object_set_new(port0, "name", json_string(val));
	c = braid_config_load_json(doc, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(errs.n, 2);
	/* name comes first in the object, then the odd key. */
	CU_ASSERT_STRING_EQUAL(errs.e[0].path, "$.ports[0].name");
	CU_ASSERT(strstr(errs.e[0].msg, "...\")") != NULL);
	CU_ASSERT(strncmp(errs.e[1].path, "$.ports[0][\"\xe2\x82\xac", 15) == 0);
	for (unsigned int i = 0; i < errs.n; i++) {
		p = json_string(errs.e[i].path);
		m = json_string(errs.e[i].msg);
		CU_ASSERT(p != NULL && m != NULL);
		json_decref(p);
		json_decref(m);
	}
	json_decref(doc);
}

/* Rules count across classes against the 4096 limit. */
static void
test_rule_limit(void)
{
	struct braid_config_errors errs;
	json_t *doc = parse(base_json), *m0, *m1;
	struct braid_config *c;

	CU_ASSERT_FATAL(doc != NULL);
	m0 = json_array();
	m1 = json_array();
	for (int i = 0; i < 2048; i++) {
		json_array_append_new(m0, json_pack("{s:i}", "dscp", i % 64));
		json_array_append_new(m1, json_pack("{s:i}", "dscp", i % 64));
	}
	json_object_set_new(json_array_get(json_object_get(doc, "classes"), 0),
			    "match", m0);
	json_object_set_new(json_array_get(json_object_get(doc, "classes"), 1),
			    "match", m1);
	c = braid_config_load_json(doc, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->n_rules, BRAID_CONFIG_MAX_RULES);
	CU_ASSERT_EQUAL(c->classes[1].rule_first, 2048);
	CU_ASSERT_EQUAL(c->classes[1].rule_count, 2048);
	CU_ASSERT_EQUAL(c->rules[4095].class_idx, 1);
	braid_config_free(c);

	json_array_append_new(m1, json_pack("{s:i}", "dscp", 1));
	c = braid_config_load_json(doc, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(errs.n >= 1 &&
		  has_error(&errs, "$.classes[1].match[2048]", "too many match rules"));
	json_decref(doc);
}

/* ---- files ---------------------------------------------------------------- */

static void
test_files(void)
{
	char dir[] = "/tmp/braid_cfg_XXXXXX", path[128];
	struct braid_config_errors errs;
	struct braid_config *c;
	FILE *f;

	c = braid_config_load_file("/nonexistent/braid.json", &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT(errs.n == 1 && strcmp(errs.e[0].path, "$") == 0 &&
		  strstr(errs.e[0].msg, "cannot open") != NULL);

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/empty.json", dir);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fclose(f);
	c = braid_config_load_file(path, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT(errs.n == 1 && strcmp(errs.e[0].msg, "empty document") == 0);

	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("{\n  \"name\": \"x\",\n  \"ports\": [1 2]\n}\n", f);
	fclose(f);
	c = braid_config_load_file(path, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(errs.n == 1 && strcmp(errs.e[0].path, "$") == 0 &&
		  strstr(errs.e[0].msg, "line 3, column") != NULL);

	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(base_json, f);
	fclose(f);
	c = braid_config_load_file(path, &errs);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(errs.n, 0);
	braid_config_free(c);

	/* A buffer need not be NUL-terminated; a NUL inside is an error. */
	c = braid_config_load_buffer("{}garbage", 2, &errs);
	CU_ASSERT(c == NULL && errs.n >= 1 && has_error(&errs, "$.ports", "required"));
	c = braid_config_load_buffer("{\"a\":\0}", 7, &errs);
	CU_ASSERT(c == NULL && errs.n == 1 && strcmp(errs.e[0].path, "$") == 0);

	CU_ASSERT_PTR_NULL(braid_config_load_string(NULL, &errs));
	CU_ASSERT_PTR_NULL(braid_config_load_json(NULL, NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	unlink(path);
	rmdir(dir);
}

static void
test_profile_dir(void)
{
	char dir[] = "/tmp/braid_prof_XXXXXX", path[128];
	struct braid_config_errors errs;
	struct braid_config *c;
	FILE *f;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/net_ring.json", dir);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("{}\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(braid_config_set_profile_dir(""), -EINVAL);
	CU_ASSERT_EQUAL(braid_config_set_profile_dir(dir), 0);

	c = braid_config_load_string(braid_config_default_json(), &errs);
	CU_ASSERT_PTR_NOT_NULL(c);
	braid_config_free(c);
	c = braid_config_load_file(FULL_JSON, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(errs.n == 5 && strcmp(errs.e[0].path, "$.ports[0].profile") == 0 &&
		  strstr(errs.e[0].msg, "no profile \"net_memif\"") != NULL &&
		  strcmp(errs.e[4].path, "$.ports[4].profile") == 0);

	CU_ASSERT_EQUAL(braid_config_set_profile_dir(NULL), 0);
	c = braid_config_load_file(FULL_JSON, &errs);
	CU_ASSERT_PTR_NOT_NULL(c);
	braid_config_free(c);
	unlink(path);
	rmdir(dir);
}

/* ---- round trip ------------------------------------------------------------ */

static void
check_round_trip(const struct braid_config *c)
{
	struct braid_config_errors errs;
	struct braid_config *c2, *c3;
	json_t *j = braid_config_to_json(c);
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	c2 = braid_config_load_json(j, &errs);
	if (c2 == NULL)
		print_errs(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	CU_ASSERT(memcmp(c, c2, sizeof(*c)) == 0);
	text = json_dumps(j, JSON_INDENT(2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	c3 = braid_config_load_string(text, &errs);
	CU_ASSERT_PTR_NOT_NULL(c3);
	CU_ASSERT(c3 != NULL && memcmp(c, c3, sizeof(*c)) == 0);
	free(text);
	json_decref(j);
	braid_config_free(c2);
	braid_config_free(c3);
}

/* management.unix_path: the default only without token, address and
 * port; null asks for TCP; a path is taken as given. */
static void
test_mgmt_unix_default(void)
{
	static const struct { const char *mgmt, *want; } cases[] = {
		{ "{\"name\": \"gw-a\"}", "/run/braid/gw-a.sock" },
		{ "{\"management\": {\"port\": 9100}}", "" },
		{ "{\"management\": {\"address\": \"127.0.0.1\"}}", "" },
		{ "{\"management\": {\"unix_path\": null}}", "" },
		{ "{\"management\": {\"unix_path\": \"/var/run/b.sock\", \"port\": 9100}}",
		  "/var/run/b.sock" },
	};
	struct braid_config_errors errs;

	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		json_t *doc = parse(base_json), *add = json_loads(cases[i].mgmt, 0, NULL);
		struct braid_config *c;

		CU_ASSERT_FATAL(doc != NULL && add != NULL);
		CU_ASSERT_FATAL(json_object_update(doc, add) == 0);
		c = braid_config_load_json(doc, &errs);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_STRING_EQUAL(c->management.unix_path, cases[i].want);
		check_round_trip(c);
		braid_config_free(c);
		json_decref(add);
		json_decref(doc);
	}
}

/* A link port addressed by DHCP: no address, no next hop until the
 * lease; the link's UDP port; written back as it was. */
static void
test_dhcp_port(void)
{
	struct braid_config_errors errs;
	struct braid_config *c;
	json_t *doc = parse(base_json);

	CU_ASSERT_FATAL(doc != NULL);
	CU_ASSERT_FATAL(edit(doc, "ports/1/ipv4", "\"dhcp\"") == 0);
	CU_ASSERT_FATAL(edit(doc, "links/0/local", "\"dhcp:7001\"") == 0);
	c = braid_config_load_json(doc, &errs);
	json_decref(doc);
	if (c == NULL)
		print_errs(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->ports[1].dhcp && !c->ports[1].has_ipv4 && c->ports[1].ipv4 == 0);
	CU_ASSERT(!c->ports[0].dhcp);
	CU_ASSERT(c->links[0].local_ip == 0 && c->links[0].local_port == 7001);
	CU_ASSERT(c->links[0].next_hop == 0 && c->links[0].peer_ip != 0);
	check_round_trip(c);
	braid_config_free(c);
}

static void
test_round_trip(void)
{
	struct braid_config_errors errs;
	struct braid_config *c;

	c = braid_config_load_string(braid_config_default_json(), &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	check_round_trip(c);
	braid_config_free(c);
	c = braid_config_load_file(FULL_JSON, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	check_round_trip(c);
	/* A change shows: to_json is the running config, not a copy. */
	c->links[1].weight = 7;
	{
		json_t *j = braid_config_to_json(c);
		json_t *w = json_object_get(json_array_get(json_object_get(j, "links"), 1),
					    "weight");

		CU_ASSERT(json_integer_value(w) == 7);
		json_decref(j);
	}
	/* A hand-built config with a dangling index is refused, not read. */
	c->links[0].port = 99;
	CU_ASSERT_PTR_NULL(braid_config_to_json(c));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	braid_config_free(c);
	c = braid_config_load_string(base_json, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	check_round_trip(c);
	braid_config_free(c);
}

static void
test_stage_names(void)
{
	unsigned int n = 0;

	while (braid_stage_names[n] != NULL)
		n++;
	CU_ASSERT_EQUAL(n, BRAID_STAGE_COUNT);
	for (unsigned int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(braid_config_stage_id(braid_stage_names[i]), (int)i);
	CU_ASSERT_EQUAL(braid_config_stage_id("fec_decode"), BRAID_STAGE_FEC_DECODE);
	CU_ASSERT_EQUAL(braid_config_stage_id("FEC"), -ENOENT);
	CU_ASSERT_EQUAL(braid_config_stage_id(NULL), -EINVAL);
}

/* ---- doc/config.md matches the loader ------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)len + 1);
		if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* Every key of @p v (recursively) is documented as `key`. */
static unsigned int
undocumented_keys(const json_t *v, const char *doc)
{
	unsigned int missing = 0;
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, key, child) {
			char quoted[64];

			snprintf(quoted, sizeof(quoted), "`%s`", key);
			if (strstr(doc, quoted) == NULL) {
				fprintf(stderr, "doc/config.md lacks %s\n", quoted);
				missing++;
			}
			missing += undocumented_keys(child, doc);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			missing += undocumented_keys(child, doc);
	}
	return missing;
}

static void
test_doc(void)
{
	struct braid_config_errors errs;
	struct braid_config *c;
	char *doc = slurp(DOC_MD), *start, *end;
	json_t *full, *shown, *dflt;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	/* Every key the running config has (the full example sets them all,
	 * to_json adds the defaults) is in the reference. */
	c = braid_config_load_file(FULL_JSON, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	full = braid_config_to_json(c);
	CU_ASSERT_EQUAL(undocumented_keys(full, doc), 0);
	json_decref(full);
	braid_config_free(c);
	/* The default shown in the doc is the embedded one. */
	start = strstr(doc, "## The embedded default");
	CU_ASSERT_PTR_NOT_NULL_FATAL(start);
	start = strstr(start, "```json\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(start);
	start += strlen("```json\n");
	end = strstr(start, "```");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	*end = '\0';
	shown = parse(start);
	dflt = parse(braid_config_default_json());
	CU_ASSERT(shown != NULL && dflt != NULL && json_equal(shown, dflt));
	json_decref(shown);
	json_decref(dflt);
	free(doc);
}

/* ---- mutation fuzz --------------------------------------------------------- */

#define FUZZ_ITERS 6000
#define MAX_NODES 1024

struct node {
	json_t *v;
	json_t *parent;      /* NULL for the root */
	const char *key;     /* parent is an object */
	size_t idx;          /* parent is an array */
};

static void
collect(json_t *v, json_t *parent, const char *key, size_t idx,
	struct node *nodes, unsigned int *n)
{
	const char *k;
	json_t *child;
	size_t i;

	if (*n >= MAX_NODES)
		return;
	nodes[(*n)++] = (struct node){ v, parent, key, idx };
	if (json_is_object(v)) {
		json_object_foreach(v, k, child)
			collect(child, v, k, 0, nodes, n);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			collect(child, v, NULL, i, nodes, n);
	}
}

static json_t *
random_value(uint64_t *rng, const struct node *like)
{
	static const char *const strs[] = {
		"", "off", "on", "lan", "link", "wan0", "wan9", "lan0", "video",
		"bulk", "stripe", "duplicate", "pin", "up", "down", "udp", "tcp",
		"10.1.1.1/24", "10.1.1.2:7000", "10.1.1.2", "300.1.1.1",
		"5000-5999", "5999-5000", "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff",
		"net_ring0", "0000:01:00.0", "fec", "lan_rx", "0.0.0.0",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\"\\/{}[]",
		"10.0.0.0/8", "/", ":", "-", "1e9",
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" };
	uint64_t r = braid_test_rand(rng);

	switch (r % 12) {
	case 0:
		return json_integer((json_int_t)(braid_test_rand(rng) % 70000));
	case 1:
		return json_integer(-(json_int_t)(braid_test_rand(rng) % 100));
	case 2:
		return json_integer((json_int_t)braid_test_rand(rng));
	case 3:
		/* Near the old value: hits range edges. */
		if (json_is_integer(like->v))
			return json_integer(json_integer_value(like->v) +
					    (json_int_t)(braid_test_rand(rng) % 5) - 2);
		return json_integer((json_int_t)(braid_test_rand(rng) % 3));
	case 4:
		return json_real((double)(braid_test_rand(rng) % 1000) / 7.0);
	case 5:
	case 6:
		return json_string(strs[braid_test_rand(rng) % RTE_DIM(strs)]);
	case 7:
		return json_boolean(braid_test_rand(rng) & 1);
	case 8:
		return json_null();
	case 9:
		return json_array();
	case 10:
		return json_object();
	default:
		return json_deep_copy(like->v);
	}
}

static void
mutate(json_t *root, uint64_t *rng)
{
	static struct node nodes[MAX_NODES];
	unsigned int n = 0;
	const struct node *nd;
	json_t *v;

	collect(root, NULL, NULL, 0, nodes, &n);
	nd = &nodes[braid_test_rand(rng) % n];
	switch (braid_test_rand(rng) % 5) {
	case 0: /* delete */
		if (nd->parent == NULL)
			break;
		if (json_is_object(nd->parent))
			json_object_del(nd->parent, nd->key);
		else
			json_array_remove(nd->parent, nd->idx);
		break;
	case 1: /* add: unknown key, or another element */
		if (json_is_object(nd->v)) {
			static const char *const odd[] = {
				"k", "a b", "\"q\"", "\xe2\x82\xac", "nam" };
			char key[200];

			if (braid_test_rand(rng) & 1) {
				/* Long non-ASCII key: paths get cut. */
				size_t o = 0;

				while (o + 3 < sizeof(key)) {
					memcpy(key + o, "\xe2\x82\xac", 3);
					o += 3;
				}
				key[o - (braid_test_rand(rng) % 40) * 3] = '\0';
			} else {
				snprintf(key, sizeof(key), "%s%u",
					 odd[braid_test_rand(rng) % RTE_DIM(odd)],
					 (unsigned int)(braid_test_rand(rng) % 4));
			}
			json_object_set_new(nd->v, key, random_value(rng, nd));
		} else if (json_is_array(nd->v) && json_array_size(nd->v) > 0) {
			json_array_append_new(nd->v, json_deep_copy(
				json_array_get(nd->v, braid_test_rand(rng) %
					       json_array_size(nd->v))));
		}
		break;
	default: /* replace */
		if (nd->parent == NULL)
			break;
		v = random_value(rng, nd);
		if (json_is_object(nd->parent))
			json_object_set_new(nd->parent, nd->key, v);
		else
			json_array_set_new(nd->parent, nd->idx, v);
		break;
	}
}

static bool
check_outcome(struct braid_config *c, const struct braid_config_errors *errs)
{
	if (c != NULL) {
		json_t *j = braid_config_to_json(c);
		struct braid_config_errors e2;
		struct braid_config *c2 = j != NULL ?
			braid_config_load_json(j, &e2) : NULL;
		bool ok = errs->n == 0 && c2 != NULL &&
			  memcmp(c, c2, sizeof(*c)) == 0;

		if (c2 == NULL && j != NULL)
			print_errs(&e2);
		braid_config_free(c2);
		json_decref(j);
		return ok;
	}
	if (errs->n < 1 || errs->n > BRAID_CONFIG_MAX_ERRORS ||
	    errs->total < errs->n)
		return false;
	for (unsigned int i = 0; i < errs->n; i++) {
		json_t *p, *m;
		bool ok;

		if (errs->e[i].path[0] != '$' || errs->e[i].msg[0] == '\0' ||
		    memchr(errs->e[i].path, '\0', sizeof(errs->e[i].path)) == NULL ||
		    memchr(errs->e[i].msg, '\0', sizeof(errs->e[i].msg)) == NULL)
			return false;
		/* Valid UTF-8: the management port sends them as JSON. */
		p = json_string(errs->e[i].path);
		m = json_string(errs->e[i].msg);
		ok = p != NULL && m != NULL;
		json_decref(p);
		json_decref(m);
		if (!ok)
			return false;
	}
	return true;
}

static void
test_mutation_fuzz(void)
{
	uint64_t seed = braid_test_seed(0x5eedc0f19ULL), rng = seed;
	struct braid_config_errors errs;
	struct braid_config *full;
	unsigned int loaded = 0, rejected = 0, bad = 0;
	json_t *base;

	printf("\n  seed 0x%" PRIx64 " (BRAID_TEST_SEED), %u mutations\n", seed,
	       FUZZ_ITERS);
	full = braid_config_load_file(FULL_JSON, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(full);
	base = braid_config_to_json(full);
	braid_config_free(full);
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);

	for (unsigned int it = 0; it < FUZZ_ITERS; it++) {
		json_t *doc = json_deep_copy(base);
		unsigned int n_mut = 1 + (unsigned int)(braid_test_rand(&rng) % 3);
		struct braid_config *c;

		for (unsigned int m = 0; m < n_mut; m++)
			mutate(doc, &rng);
		if (braid_test_rand(&rng) % 4 == 0) {
			/* Text level: truncate or corrupt one byte. */
			char *text = json_dumps(doc, JSON_COMPACT);
			size_t len = strlen(text);
			size_t at = (size_t)(braid_test_rand(&rng) % (len + 1));

			if (braid_test_rand(&rng) & 1) {
				c = braid_config_load_buffer(text, at, &errs);
			} else {
				if (at < len)
					text[at] = (char)(braid_test_rand(&rng) % 256);
				c = braid_config_load_buffer(text, len, &errs);
			}
			free(text);
		} else {
			c = braid_config_load_json(doc, &errs);
		}
		if (!check_outcome(c, &errs)) {
			bad++;
			if (bad <= 3) {
				char *t = json_dumps(doc, JSON_COMPACT);

				fprintf(stderr, "fuzz iteration %u failed:\n%s\n", it, t);
				free(t);
				if (c == NULL)
					print_errs(&errs);
			}
		}
		if (c != NULL)
			loaded++;
		else
			rejected++;
		braid_config_free(c);
		json_decref(doc);
	}
	printf("  loaded %u, rejected %u, bad %u\n", loaded, rejected, bad);
	CU_ASSERT_EQUAL(bad, 0);
	/* Both outcomes must occur, or the fuzz tests nothing. */
	CU_ASSERT(loaded > 100);
	CU_ASSERT(rejected > 1000);
	json_decref(base);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "default loads", test_default_loads) == NULL ||
	    CU_add_test(s, "full example: every field", test_full_fields) == NULL ||
	    CU_add_test(s, "defaults applied", test_defaults) == NULL ||
	    CU_add_test(s, "fec auto", test_fec_auto) == NULL ||
	    CU_add_test(s, "bad documents: path and reason", test_bad_table) == NULL ||
	    CU_add_test(s, "errors in document order", test_error_order) == NULL ||
	    CU_add_test(s, "error cap and print", test_error_cap) == NULL ||
	    CU_add_test(s, "UTF-8 in errors", test_utf8_errors) == NULL ||
	    CU_add_test(s, "rule limit across classes", test_rule_limit) == NULL ||
	    CU_add_test(s, "files and buffers", test_files) == NULL ||
	    CU_add_test(s, "profile directory", test_profile_dir) == NULL ||
	    CU_add_test(s, "round trip", test_round_trip) == NULL ||
	    CU_add_test(s, "dhcp port", test_dhcp_port) == NULL ||
	    CU_add_test(s, "management unix_path", test_mgmt_unix_default) == NULL ||
	    CU_add_test(s, "stage names", test_stage_names) == NULL ||
	    CU_add_test(s, "doc/config.md matches", test_doc) == NULL ||
	    CU_add_test(s, "mutation fuzz", test_mutation_fuzz) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("config", register_tests);
}
