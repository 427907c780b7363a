/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running configuration as JSON: every field explicit, in the order
 * doc/config.md lists them, so the output documents the defaults in force
 * and loads back to an equal struct.
 */
#include <errno.h>
#include <stdio.h>

#include <netinet/in.h>

#include <rte_errno.h>

#include "config_priv.h"

void
cfg_fmt_ipv4(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
}

void
cfg_fmt_mac(const struct rte_ether_addr *mac, char buf[18])
{
	const uint8_t *b = mac->addr_bytes;

	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* Builder state: the first failed allocation sticks. */
struct emit {
	bool fail;
};

static json_t *
put(struct emit *em, json_t *obj, const char *key, json_t *v)
{
	/* json_object_set_new() takes v even when it fails. */
	if (obj == NULL || v == NULL || json_object_set_new(obj, key, v) != 0) {
		if (obj == NULL)
			json_decref(v);
		em->fail = true;
		return NULL;
	}
	return v;
}

static void
push(struct emit *em, json_t *arr, json_t *v)
{
	if (arr == NULL || v == NULL || json_array_append_new(arr, v) != 0) {
		if (arr == NULL)
			json_decref(v);
		em->fail = true;
	}
}

static json_t *
j_uint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *
j_ipv4(uint32_t ip)
{
	char a[16];

	cfg_fmt_ipv4(ip, a);
	return json_string(a);
}

static json_t *
j_prefix(uint32_t ip, uint8_t prefix)
{
	char a[16], s[24];

	cfg_fmt_ipv4(ip, a);
	snprintf(s, sizeof(s), "%s/%u", a, prefix);
	return json_string(s);
}

static json_t *
j_endpoint(uint32_t ip, uint16_t port)
{
	char a[16], s[24];

	cfg_fmt_ipv4(ip, a);
	snprintf(s, sizeof(s), "%s:%u", a, port);
	return json_string(s);
}

static json_t *
j_mac(const struct rte_ether_addr *mac)
{
	char s[18];

	cfg_fmt_mac(mac, s);
	return json_string(s);
}

static json_t *
j_port_range(uint16_t lo, uint16_t hi)
{
	char s[16];

	if (lo == hi)
		return j_uint(lo);
	snprintf(s, sizeof(s), "%u-%u", lo, hi);
	return json_string(s);
}

static json_t *
emit_port(struct emit *em, const struct braid_config_port *pt)
{
	json_t *o = json_object();

	put(em, o, "name", json_string(pt->name));
	put(em, o, "role", json_string(pt->role == BRAID_PORT_ROLE_LINK ?
				       "link" : "lan"));
	put(em, o, "profile", json_string(pt->profile));
	put(em, o, "device", json_string(pt->device));
	if (pt->has_mac)
		put(em, o, "mac", j_mac(&pt->mac));
	if (pt->dhcp)
		put(em, o, "ipv4", json_string("dhcp"));
	else if (pt->has_ipv4)
		put(em, o, "ipv4", j_prefix(pt->ipv4, pt->prefix));
	if (pt->mtu != 0)
		put(em, o, "mtu", j_uint(pt->mtu));
	return o;
}

static json_t *
emit_link(struct emit *em, const struct braid_config *c,
	  const struct braid_config_link *l)
{
	json_t *o = json_object();

	put(em, o, "name", json_string(l->name));
	put(em, o, "port", json_string(c->ports[l->port].name));
	if (c->ports[l->port].dhcp) {
		char s[16];

		snprintf(s, sizeof(s), "dhcp:%u", l->local_port);
		put(em, o, "local", json_string(s));
	} else {
		put(em, o, "local", j_endpoint(l->local_ip, l->local_port));
	}
	put(em, o, "peer", l->learn_peer ? json_string("learn") :
	    j_endpoint(l->peer_ip, l->peer_port));
	/* none configured (a learning link, a dhcp port): resolved at run time */
	if (l->next_hop != 0)
		put(em, o, "next_hop", j_ipv4(l->next_hop));
	if (l->has_next_hop_mac)
		put(em, o, "next_hop_mac", j_mac(&l->next_hop_mac));
	put(em, o, "capacity_kbps", j_uint(l->capacity_kbps));
	put(em, o, "weight", j_uint(l->weight));
	put(em, o, "admin", json_string(l->admin_up ? "up" : "down"));
	put(em, o, "backup", json_boolean(l->backup));
	return o;
}

static json_t *
emit_rule(struct emit *em, const struct braid_config *c,
	  const struct braid_config_rule *r)
{
	json_t *o = json_object();

	put(em, o, "priority", j_uint(r->priority));
	if (r->src_prefix != 0)
		put(em, o, "src", j_prefix(r->src_ip, r->src_prefix));
	if (r->dst_prefix != 0)
		put(em, o, "dst", j_prefix(r->dst_ip, r->dst_prefix));
	if (r->has_proto) {
		switch (r->proto) {
		case IPPROTO_TCP:
			put(em, o, "proto", json_string("tcp"));
			break;
		case IPPROTO_UDP:
			put(em, o, "proto", json_string("udp"));
			break;
		case IPPROTO_ICMP:
			put(em, o, "proto", json_string("icmp"));
			break;
		case IPPROTO_SCTP:
			put(em, o, "proto", json_string("sctp"));
			break;
		default:
			put(em, o, "proto", j_uint(r->proto));
		}
	}
	if (r->src_port_lo != 0 || r->src_port_hi != UINT16_MAX)
		put(em, o, "src_port", j_port_range(r->src_port_lo,
						    r->src_port_hi));
	if (r->dst_port_lo != 0 || r->dst_port_hi != UINT16_MAX)
		put(em, o, "dst_port", j_port_range(r->dst_port_lo,
						    r->dst_port_hi));
	if (r->has_dscp)
		put(em, o, "dscp", j_uint(r->dscp));
	if (r->has_in_port)
		put(em, o, "in_port", json_string(c->ports[r->in_port].name));
	return o;
}

static json_t *
emit_class(struct emit *em, const struct braid_config *c,
	   const struct braid_config_class *k)
{
	static const char *const modes[] = { "stripe", "duplicate", "pin" };
	json_t *o = json_object(), *sub, *arr;

	put(em, o, "name", json_string(k->name));
	put(em, o, "weight", j_uint(k->weight));
	put(em, o, "priority", json_boolean(k->priority));
	put(em, o, "rate_cap_kbps", j_uint(k->rate_cap_kbps));
	put(em, o, "queue_packets", j_uint(k->queue_packets));
	if (k->fec_auto && k->fec_max_overhead_pct == BRAID_CONFIG_FEC_AUTO_OVERHEAD_PCT) {
		put(em, o, "fec", json_string("auto"));
	} else if (k->fec_auto) {
		sub = put(em, o, "fec", json_object());
		put(em, sub, "auto", json_true());
		put(em, sub, "max_overhead_pct", j_uint(k->fec_max_overhead_pct));
	} else if (k->fec_enabled) {
		sub = put(em, o, "fec", json_object());
		put(em, sub, "k", j_uint(k->fec_k));
		put(em, sub, "m", j_uint(k->fec_m));
	} else {
		put(em, o, "fec", json_string("off"));
	}
	sub = put(em, o, "arq", json_object());
	put(em, sub, "enabled", json_boolean(k->arq_enabled));
	put(em, sub, "deadline_ms", j_uint(k->arq_deadline_ms));
	sub = put(em, o, "policy", json_object());
	put(em, sub, "mode", json_string(modes[k->policy]));
	if (k->policy == BRAID_POLICY_DUPLICATE)
		put(em, sub, "copies", j_uint(k->copies));
	if (k->policy == BRAID_POLICY_PIN) {
		arr = put(em, sub, "links", json_array());
		for (unsigned int i = 0; i < k->n_pin; i++)
			push(em, arr, json_string(c->links[k->pin[i]].name));
	}
	arr = put(em, o, "match", json_array());
	for (uint32_t i = 0; i < k->rule_count; i++)
		push(em, arr, emit_rule(em, c, &c->rules[k->rule_first + i]));
	return o;
}

/* Indices the emitter follows must be in range: @p c may be hand-built. */
static bool
indices_ok(const struct braid_config *c)
{
	if (c->n_ports > BRAID_CONFIG_MAX_PORTS ||
	    c->n_links > BRAID_CONFIG_MAX_LINKS ||
	    c->n_classes > BRAID_CONFIG_MAX_CLASSES ||
	    c->n_rules > BRAID_CONFIG_MAX_RULES ||
	    c->default_class >= RTE_MAX(c->n_classes, 1) ||
	    c->lcores.n_map > BRAID_STAGE_COUNT)
		return false;
	for (unsigned int i = 0; i < c->n_links; i++)
		if (c->links[i].port >= c->n_ports)
			return false;
	for (unsigned int i = 0; i < c->n_classes; i++) {
		const struct braid_config_class *k = &c->classes[i];

		if ((unsigned int)k->policy > BRAID_POLICY_PIN ||
		    k->n_pin > BRAID_CONFIG_MAX_LINKS ||
		    k->rule_first > c->n_rules ||
		    k->rule_count > c->n_rules - k->rule_first)
			return false;
		for (unsigned int j = 0; j < k->n_pin; j++)
			if (k->pin[j] >= c->n_links)
				return false;
	}
	for (uint32_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].has_in_port && c->rules[i].in_port >= c->n_ports)
			return false;
	for (unsigned int i = 0; i < c->lcores.n_map; i++) {
		if (c->lcores.map[i].n_stages > BRAID_STAGE_COUNT)
			return false;
		for (unsigned int j = 0; j < c->lcores.map[i].n_stages; j++)
			if (c->lcores.map[i].stages[j] >= BRAID_STAGE_COUNT)
				return false;
	}
	return true;
}

json_t *
braid_config_to_json(const struct braid_config *c)
{
	struct emit em = { .fail = false };
	json_t *root, *sec, *arr, *ent, *st;

	if (c == NULL || !indices_ok(c)) {
		rte_errno = EINVAL;
		return NULL;
	}
	root = json_object();
	put(&em, root, "name", json_string(c->name));

	sec = put(&em, root, "mempool", json_object());
	put(&em, sec, "mbufs", j_uint(c->mempool.mbufs));
	put(&em, sec, "cache", j_uint(c->mempool.cache));
	put(&em, sec, "data_room", j_uint(c->mempool.data_room));

	arr = put(&em, root, "ports", json_array());
	for (unsigned int i = 0; i < c->n_ports; i++)
		push(&em, arr, emit_port(&em, &c->ports[i]));
	arr = put(&em, root, "links", json_array());
	for (unsigned int i = 0; i < c->n_links; i++)
		push(&em, arr, emit_link(&em, c, &c->links[i]));
	arr = put(&em, root, "classes", json_array());
	for (unsigned int i = 0; i < c->n_classes; i++)
		push(&em, arr, emit_class(&em, c, &c->classes[i]));
	if (c->n_classes > 0)
		put(&em, root, "default_class",
		    json_string(c->classes[c->default_class].name));

	sec = put(&em, root, "fec", json_object());
	put(&em, sec, "block_timeout_us", j_uint(c->fec.block_timeout_us));
	sec = put(&em, root, "retransmit", json_object());
	put(&em, sec, "window_ms", j_uint(c->retransmit.window_ms));
	put(&em, sec, "max_packets", j_uint(c->retransmit.max_packets));
	sec = put(&em, root, "reorder", json_object());
	put(&em, sec, "window_ms", j_uint(c->reorder.window_ms));
	put(&em, sec, "max_packets", j_uint(c->reorder.max_packets));
	sec = put(&em, root, "health", json_object());
	put(&em, sec, "probe_interval_ms", j_uint(c->health.probe_interval_ms));
	put(&em, sec, "down_after_probes", j_uint(c->health.down_after_probes));
	put(&em, sec, "up_hold_ms", j_uint(c->health.up_hold_ms));
	put(&em, sec, "silence_gaps", j_uint(c->health.silence_gaps));
	put(&em, sec, "silence_min_ms", j_uint(c->health.silence_min_ms));
	sec = put(&em, root, "tx", json_object());
	put(&em, sec, "drain_us", j_uint(c->tx.drain_us));

	sec = put(&em, root, "lcores", json_object());
	put(&em, sec, "ring_size", j_uint(c->lcores.ring_size));
	put(&em, sec, "idle_polls", j_uint(c->lcores.idle_polls));
	put(&em, sec, "idle_sleep_max_us", j_uint(c->lcores.idle_sleep_max_us));
	put(&em, sec, "power_mgmt", json_string(braid_config_pm_names[
		c->lcores.power_mgmt <= BRAID_CONFIG_PM_SCALE ? c->lcores.power_mgmt : 0]));
	arr = put(&em, sec, "map", json_array());
	for (unsigned int i = 0; i < c->lcores.n_map; i++) {
		const struct braid_config_lcore_map *m = &c->lcores.map[i];

		ent = json_object();
		put(&em, ent, "lcore", j_uint(m->lcore));
		st = put(&em, ent, "stages", json_array());
		for (unsigned int j = 0; j < m->n_stages; j++)
			push(&em, st, json_string(braid_stage_names[m->stages[j]]));
		push(&em, arr, ent);
	}

	sec = put(&em, root, "management", json_object());
	put(&em, sec, "enabled", json_boolean(c->management.enabled));
	put(&em, sec, "address", j_ipv4(c->management.address));
	put(&em, sec, "port", j_uint(c->management.port));
	put(&em, sec, "token_file", c->management.token_file[0] != '\0' ?
	    json_string(c->management.token_file) : json_null());
	put(&em, sec, "max_clients", j_uint(c->management.max_clients));
	put(&em, sec, "max_request_bytes",
	    j_uint(c->management.max_request_bytes));
	put(&em, sec, "idle_timeout_s", j_uint(c->management.idle_timeout_s));
	put(&em, sec, "metrics_port", j_uint(c->management.metrics_port));
	put(&em, sec, "unix_path", c->management.unix_path[0] != '\0' ?
	    json_string(c->management.unix_path) : json_null());
	put(&em, sec, "save_dir", c->management.save_dir[0] != '\0' ?
	    json_string(c->management.save_dir) : json_null());
	sec = put(&em, root, "crypto", json_object());
	put(&em, sec, "psk_file", c->crypto.psk_file[0] != '\0' ?
	    json_string(c->crypto.psk_file) : json_null());
	put(&em, sec, "device", json_string(c->crypto.device));
	put(&em, sec, "rekey_s", j_uint(c->crypto.rekey_s));
	put(&em, sec, "rekey_mb", j_uint(c->crypto.rekey_mb));

	sec = put(&em, root, "mtu", json_object());
	put(&em, sec, "clamp_mss", json_boolean(c->mtu.clamp_mss));
	put(&em, sec, "icmp_per_s", j_uint(c->mtu.icmp_per_s));

	sec = put(&em, root, "stats", json_object());
	put(&em, sec, "console", json_boolean(c->stats.console));
	put(&em, sec, "interval_ms", j_uint(c->stats.interval_ms));

	if (em.fail || root == NULL) {
		json_decref(root);
		rte_errno = ENOMEM;
		return NULL;
	}
	return root;
}
