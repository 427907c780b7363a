/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's JSON-RPC methods (doc/management-api.md): status,
 * links.list/set, classes.list/set, config.get/apply/save. Each is a thin
 * wrapper: check the params, call one function (a change of the running
 * configuration in gw_live.c, the save in gw_save.c, or the stages'
 * read-only queries), and turn its outcome into the result or the error
 * (code, message, data.path and data.reason).
 *
 * gw_mgmt.c registers them; they run in the management thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "braid_clock.h"
#include "gw_mgmt_priv.h"

/* ---- small JSON helpers ------------------------------------------------- */

static json_t *
jstr_ip_port(uint32_t ip, uint16_t port)
{
	char s[32];

	snprintf(s, sizeof(s), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff, port);
	return json_string(s);
}

/* json_object_set_new() that reports a failure (it takes @v anyway). */
static int
jset(json_t *o, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int
err_nomem(struct braid_mgmt_error *err)
{
	return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
}

/* -32010 with data {"reason"} and, when given, {"path"}. */
static int
err_failed(struct braid_mgmt_error *err, const char *path, const char *reason,
	   const char *fmt, ...) __rte_format_printf(4, 5);

static int
err_failed(struct braid_mgmt_error *err, const char *path, const char *reason,
	   const char *fmt, ...)
{
	va_list ap;

	err->code = BRAID_MGMT_ERR_FAILED;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	json_decref(err->data);
	err->data = json_object();
	if (err->data != NULL) {
		if (path != NULL)
			json_object_set_new(err->data, "path", json_string(path));
		json_object_set_new(err->data, "reason", json_string(reason));
	}
	return -EINVAL;
}

/* ---- errors of a change (gw_live.c) ------------------------------------- */

static int
change_error(int ret, struct braid_mgmt_error *err, const char *what)
{
	if (ret == -ENOMEM)
		return err_nomem(err);
	if (ret == -ERANGE)
		return err_failed(err, NULL, "needs a restart",
				  "%s: a packet of this FEC ratio would not fit a link's "
				  "configured token bucket; nothing changed", what);
	if (ret == -EOPNOTSUPP)
		return err_failed(err, NULL, "needs a restart",
				  "%s: braid chooses the FEC shape of a class with \"fec\": "
				  "\"auto\"; switching a class to or from it needs a restart; "
				  "nothing changed", what);
	if (ret == -ENOBUFS)
		return err_failed(err, NULL, "command ring full",
				  "%s: the data path has not taken the previous changes "
				  "yet; nothing changed, try again", what);
	return err_failed(err, NULL, strerror(-ret), "%s: %s", what, strerror(-ret));
}

/* The loader's reasons for refusing config.apply: the first as the error,
 * all of them (at most BRAID_CONFIG_MAX_ERRORS) in data.errors. */
static int
apply_load_error(const struct braid_config_errors *errs, struct braid_mgmt_error *err)
{
	json_t *list = json_array();

	if (list == NULL)
		return err_nomem(err);
	for (unsigned int i = 0; i < errs->n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "path",
			errs->e[i].path, "reason", errs->e[i].msg));
	braid_mgmt_error_param(err, errs->e[0].path, "%s", errs->e[0].msg);
	if (err->data != NULL) {
		json_object_set_new(err->data, "errors", list);
		json_object_set_new(err->data, "total", json_integer(errs->total));
	} else {
		json_decref(list);
	}
	return -EINVAL;
}

/* The loader's first reason for refusing a *.set change, its path made
 * relative to the entry ("$.links[2].weight" -> "$.weight"). */
static int
set_load_error(const struct braid_config_errors *errs, const char *section,
	       unsigned int idx, struct braid_mgmt_error *err)
{
	const struct braid_config_error *e = &errs->e[0];
	char prefix[64], p[sizeof(e->path) + 1];
	size_t pl;

	pl = (size_t)snprintf(prefix, sizeof(prefix), "$.%s[%u]", section, idx);
	if (strncmp(e->path, prefix, pl) == 0 &&
	    (e->path[pl] == '\0' || e->path[pl] == '.')) {
		snprintf(p, sizeof(p), "$%s", e->path + pl);
		braid_mgmt_error_param(err, p, "%s", e->msg);
	} else {
		/* A rule across entries ("at most one priority
		 * class"): the reason names where. */
		braid_mgmt_error_param(err, "$", "%s: %s", e->path, e->msg);
	}
	return -EINVAL;
}

/* classes.set of a member that cannot change live: name the member
 * ("classes[1].arq.enabled" -> "arq"). */
static int
class_restart_error(const json_t *restart, struct braid_mgmt_error *err)
{
	const char *p = json_string_value(json_array_get(restart, 0));
	const char *dot = p != NULL ? strchr(p, '.') : NULL;
	char member[32], path[40], reason[160];

	snprintf(member, sizeof(member), "%.*s",
		 dot != NULL ? (int)strcspn(dot + 1, ".[") : 1,
		 dot != NULL ? dot + 1 : "$");
	snprintf(path, sizeof(path), "$.%s", member);
	snprintf(reason, sizeof(reason), "%s cannot change while the gateway runs "
		 "(it needs a restart)", member);
	return err_failed(err, path, reason, "classes.set: %s", reason);
}

/* ---- links.set / classes.set -------------------------------------------- */

/*
 * Common checks of a *.set request: params an object, only "name" and
 * live settings (gw_diff.c) of a link or (@p of_class) a class as
 * members, "name" a string naming an entry (@p find), at least one other
 * member. @return the entry's index, or < 0 with @p err filled.
 */
static int
set_params(const json_t *params, bool of_class, const char *what,
	   int (*find)(const struct braid_config *, const char *),
	   const struct braid_config *cfg, struct braid_mgmt_error *err)
{
	const json_t *name;
	const char *key;
	json_t *v;
	char path[96];
	int idx;

	if (params == NULL || !json_is_object(params))
		return braid_mgmt_error_param(err, "$", "must be an object with \"name\" "
					      "and the members to change");
	json_object_foreach((json_t *)(uintptr_t)params, key, v) {
		if (strcmp(key, "name") != 0 && !gw_diff_live_key(of_class, key)) {
			snprintf(path, sizeof(path), "$.%.80s", key);
			return braid_mgmt_error_param(err, path, "unknown member");
		}
	}
	name = json_object_get(params, "name");
	if (name == NULL)
		return braid_mgmt_error_param(err, "$.name", "required");
	if (!json_is_string(name))
		return braid_mgmt_error_param(err, "$.name", "must be a string (got %s)",
					      json_type_name(name));
	idx = find(cfg, json_string_value(name));
	if (idx < 0)
		return braid_mgmt_error_param(err, "$.name", "no %s named \"%.64s\"", what,
					      json_string_value(name));
	if (json_object_size(params) < 2)
		return braid_mgmt_error_param(err, "$", "nothing to change: give %s",
					      strcmp(what, "link") == 0 ?
					      "weight, capacity_kbps or admin" :
					      "weight, priority, fec, arq or policy");
	return idx;
}

/*
 * links.set / classes.set but the result: check @p params, change the
 * entry they name by the other members (gw_live_link_set() or
 * gw_live_class_set()). @return the entry's index, or < 0 with @p err
 * filled.
 */
static int
set_method(struct gw_mgmt *m, const json_t *params, bool of_class,
	   struct braid_mgmt_error *err)
{
	struct gw_live_change ch;
	json_t *patch;
	int idx, ret;

	idx = set_params(params, of_class, of_class ? "class" : "link",
			 of_class ? braid_config_find_class : braid_config_find_link,
			 m->running, err);
	if (idx < 0)
		return idx;
	patch = json_deep_copy(params);
	if (patch == NULL)
		return err_nomem(err);
	json_object_del(patch, "name");
	ret = gw_live_change_init(&ch);
	if (ret == 0)
		ret = of_class ? gw_live_class_set(m, (unsigned int)idx, patch, &ch) :
		      gw_live_link_set(m, (unsigned int)idx, patch, &ch);
	json_decref(patch);
	if (ret == -EINVAL && ch.errs->n > 0)
		ret = set_load_error(ch.errs, of_class ? "classes" : "links",
				     (unsigned int)idx, err);
	else if (ret == -EPERM && of_class)
		ret = class_restart_error(ch.restart, err);
	else if (ret < 0)
		ret = change_error(ret, err, of_class ? "classes.set" : "links.set");
	gw_live_change_fini(&ch);
	return ret < 0 ? ret : idx;
}

/* ---- methods ------------------------------------------------------------ */

static const char *
link_state_word(enum braid_link_state s)
{
	switch (s) {
	case BRAID_LINK_UP: return "up";
	case BRAID_LINK_DEGRADED: return "degraded";
	default: return "down";
	}
}

/* What an operator must look at: classes whose links in time cannot
 * carry them (gw_fit.c). */
static json_t *
status_warnings(const struct braid_gateway *gw)
{
	json_t *arr = json_array();
	char msg[256];

	for (uint16_t k = 0; arr != NULL && k < gw->cfg.n_classes; k++) {
		const struct gw_fit_class *f = gw_fit_class(gw, k);

		if (f == NULL || !__atomic_load_n(&f->shortfall, __ATOMIC_RELAXED))
			continue;
		snprintf(msg, sizeof(msg), "class %s: its links in time for its %.0f ms "
			 "deadline cannot carry it (drops or late packets)", gw->cfg.classes[k].name,
			 gw_class_deadline_now(gw, k) / 1e6);
		if (json_array_append_new(arr, json_string(msg)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	for (uint16_t l = 0; arr != NULL && l < gw->cfg.n_links; l++) {
		struct braid_link_info li;

		if (braid_link_info_get(gw->link, l, &li) != 0 || li.mtu != BRAID_LINK_MTU_TOO_SMALL)
			continue;
		snprintf(msg, sizeof(msg), "link %s: frames of its port's MTU (%u bytes) do not "
			 "cross it while small ones do: its path MTU is smaller (lower the "
			 "port's mtu)", gw->cfg.links[l].name, gw->port_mtu[gw->cfg.links[l].port]);
		if (json_array_append_new(arr, json_string(msg)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	for (uint16_t i = 0; arr != NULL && i < gw_dhcp_ports(gw->dhcp); i++) {
		struct gw_dhcp_view v;
		uint16_t port;

		if (gw_dhcp_view(gw->dhcp, i, &port, &v) != 0)
			continue;
		if (v.lease.ip == 0)
			snprintf(msg, sizeof(msg), "port %s: no DHCP lease (%s): its links have no "
				 "address", gw->cfg.ports[port].name, braid_dhcp_state_name(v.state));
		else if (v.lease.mtu != 0 && v.lease.mtu < gw->port_mtu[port])
			snprintf(msg, sizeof(msg), "port %s: its DHCP server gives the network an "
				 "MTU of %u bytes, below the port's %u (set the port's mtu)",
				 gw->cfg.ports[port].name, v.lease.mtu, gw->port_mtu[port]);
		else
			continue;
		if (json_array_append_new(arr, json_string(msg)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	if (arr != NULL && gw->hello != NULL && gw_hello_auth_failing(gw->hello, braid_now_ns()) &&
	    json_array_append_new(arr, json_string("crypto: HELLOs from the peer fail "
			"authentication: the pre-shared keys differ (or someone forges them)")) != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *
jstr_ip(uint32_t ip, uint8_t prefix)
{
	char s[24];

	if (ip == 0)
		return json_null();
	snprintf(s, sizeof(s), prefix != 0 ? "%u.%u.%u.%u/%u" : "%u.%u.%u.%u", ip >> 24,
		 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, prefix);
	return json_string(s);
}

/* Link ports addressed by DHCP, as status shows them. */
static json_t *
status_dhcp(const struct braid_gateway *gw)
{
	const uint64_t now = braid_now_ns();   /* the control stage's time base */
	json_t *arr = json_array();

	for (uint16_t i = 0; arr != NULL && i < gw_dhcp_ports(gw->dhcp); i++) {
		struct gw_dhcp_view v;
		const struct braid_dhcp_lease *l = &v.lease;
		uint16_t port;
		json_t *o;

		if (gw_dhcp_view(gw->dhcp, i, &port, &v) != 0)
			break;
		o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I}",
			"port", gw->cfg.ports[port].name,
			"state", braid_dhcp_state_name(v.state),
			"address", jstr_ip(l->ip, l->prefix),
			"router", jstr_ip(l->router, 0),
			"server", jstr_ip(l->server, 0),
			"lease_s", l->ip != 0 ? json_integer(l->lease_s) : json_null(),
			"expires_in_s", l->ip == 0 ? json_null() :
				l->expire_ns == UINT64_MAX || l->expire_ns < now ? json_null() :
				json_integer((json_int_t)((l->expire_ns - now) / 1000000000ULL)),
			"leases", (json_int_t)v.leases, "renewals", (json_int_t)v.renewals,
			"leases_lost", (json_int_t)v.leases_lost, "naks", (json_int_t)v.naks);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The tunnel's encryption as status shows it. */
static json_t *
status_crypto(const struct braid_gateway *gw)
{
	uint32_t peer = 0;
	char sid[16];
	bool up;

	if (!gw->crypto_on)
		return json_pack("{s:b}", "enabled", 0);
	up = gw_hello_established(gw->hello, &peer);
	snprintf(sid, sizeof(sid), "%08x", peer);
	return json_pack("{s:b, s:s, s:s, s:s, s:o, s:b}", "enabled", 1,
			 "device", gw->crypto_dev.name, "driver", gw->crypto_dev.driver,
			 "session", up ? "keyed" : "handshake",
			 "peer_session", up ? json_string(sid) : json_null(),
			 "auth_failing", gw_hello_auth_failing(gw->hello, braid_now_ns()));
}

int
gw_rpc_status(void *arg, const json_t *params, json_t **result,
	      struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	struct braid_gateway *gw = m->gw;
	const struct braid_runner *r = gw->runner;
	unsigned int n_up = 0, n_deg = 0, n_down = 0;
	uint64_t loops = 0;
	const char *state;
	json_t *res, *cfg, *links, *lcores;
	char sid[16];
	int ret = 0;

	RTE_SET_USED(params);
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct braid_runner_lcore_stats ls;

		if (braid_runner_lcore_stats(r, l, &ls) == 0)
			loops += ls.loops;
	}
	state = braid_runner_stopping(r) ? "stopping" : loops > 0 ? "running" : "starting";
	for (uint16_t l = 0; l < gw->cfg.n_links; l++) {
		enum braid_link_state s = braid_link_state(gw->link, l);

		if (s == BRAID_LINK_UP)
			n_up++;
		else if (s == BRAID_LINK_DEGRADED)
			n_deg++;
		else
			n_down++;
	}
	snprintf(sid, sizeof(sid), "%08x", gw->session_id);
	res = json_object();
	cfg = json_pack("{s:o, s:I, s:b}", "file",
			m->file[0] != '\0' ? json_string(m->file) : json_null(),
			"generation", (json_int_t)m->generation,
			"saved", m->file[0] != '\0' && !m->dirty);
	links = json_pack("{s:i, s:i, s:i, s:i}", "total", (int)gw->cfg.n_links,
			  "up", (int)n_up, "degraded", (int)n_deg, "down", (int)n_down);
	lcores = json_array();
	if (res == NULL || cfg == NULL || links == NULL || lcores == NULL) {
		json_decref(res);
		json_decref(cfg);
		json_decref(links);
		json_decref(lcores);
		return err_nomem(err);
	}
	/* Where the stages really run (the runner's placement), by lcore. */
	for (unsigned int lc = 0; ret == 0 && lc < RTE_MAX_LCORE; lc++) {
		json_t *stages = NULL;

		for (unsigned int i = 0; i < braid_runner_stage_count(r); i++) {
			const struct braid_runner_stage *st = braid_runner_stage_get(r, i);

			if (st->lcore != lc)
				continue;
			if (stages == NULL)
				stages = json_array();
			if (stages == NULL ||
			    json_array_append_new(stages, json_string(st->stage.name)) != 0)
				ret = -ENOMEM;
		}
		if (stages != NULL && ret == 0 &&
		    json_array_append_new(lcores, json_pack("{s:i, s:o}", "lcore", (int)lc,
							    "stages", stages)) != 0)
			ret = -ENOMEM;
		else if (ret != 0)
			json_decref(stages);
	}
	if (ret == 0)
		ret = jset(res, "name", json_string(m->running->name));
	if (ret == 0)
		ret = jset(res, "version", json_string(BRAID_VERSION));
	if (ret == 0)
		ret = jset(res, "state", json_string(state));
	if (ret == 0)
		ret = jset(res, "uptime_s", json_integer((json_int_t)
			((braid_now_ns() - m->created_ns) / 1000000000ULL)));
	if (ret == 0)
		ret = jset(res, "session_id", json_string(sid));
	if (ret == 0)
		ret = jset(res, "config", json_incref(cfg));
	if (ret == 0)
		ret = jset(res, "links", json_incref(links));
	if (ret == 0)
		ret = jset(res, "classes", json_integer(gw->cfg.n_classes));
	if (ret == 0)
		ret = jset(res, "lcores", json_incref(lcores));
	if (ret == 0)
		ret = jset(res, "mbufs_in_use", json_integer(braid_gateway_mbufs_in_use(gw)));
	if (ret == 0)
		ret = jset(res, "crypto", status_crypto(gw));
	if (ret == 0)
		ret = jset(res, "dhcp", status_dhcp(gw));
	if (ret == 0)
		ret = jset(res, "warnings", status_warnings(gw));
	json_decref(cfg);
	json_decref(links);
	json_decref(lcores);
	if (ret != 0) {
		json_decref(res);
		return err_nomem(err);
	}
	*result = res;
	return 0;
}

/* A link's peer: configured, or learned ("learn" until one is). */
static json_t *
link_peer(const struct braid_gateway *gw, const struct braid_config_link *lc, uint16_t l)
{
	uint32_t ip;
	uint16_t port;

	if (!lc->learn_peer)
		return jstr_ip_port(lc->peer_ip, lc->peer_port);
	if (gw->hello != NULL && gw_hello_peer(gw->hello, l, &ip, &port))
		return jstr_ip_port(ip, port);
	return json_string("learn");
}

/* A link's address: configured, or a dhcp port's lease ("dhcp:<port>"
 * while there is none). */
static json_t *
link_local(const struct braid_gateway *gw, const struct braid_config_link *lc, uint16_t l)
{
	uint32_t ip = gw_link_local_ip(gw, l);
	char s[16];

	if (ip != 0)
		return jstr_ip_port(ip, lc->local_port);
	snprintf(s, sizeof(s), "dhcp:%u", lc->local_port);
	return json_string(s);
}

/* One link as links.list shows it. */
static json_t *
link_json(const struct gw_mgmt *m, uint16_t l)
{
	const struct braid_gateway *gw = m->gw;
	const struct braid_config_link *lc = &m->running->links[l];
	struct braid_link_info li;
	struct braid_encap_link_stats es = { 0 };
	uint64_t eff = 0;
	json_t *o, *loss = json_null();

	if (braid_link_info_get(gw->link, l, &li) != 0)
		memset(&li, 0, sizeof(li));
	braid_encap_link_stats(gw->encap, l, &es);
	if ((li.state == BRAID_LINK_UP || li.state == BRAID_LINK_DEGRADED) &&
	    li.capacity_kbps > 0 && li.usable_kbps > 0)
		eff = RTE_MAX((lc->weight * li.usable_kbps + li.capacity_kbps / 2) /
			      li.capacity_kbps, (uint64_t)1);
	/* The sender's view when the peer reports it, else ours. */
	if (li.peer_rx_packets + li.peer_lost > 0)
		loss = json_integer(li.tx_loss_ppm);
	else if (li.rx_packets > 0)
		loss = json_integer(li.rx_loss_ppm);
	o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:b, s:b, s:I, s:i, s:I, s:I,"
		      " s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I}",
		"name", lc->name,
		"port", m->running->ports[lc->port].name,
		"local", link_local(gw, lc, l),
		"peer", link_peer(gw, lc, l),
		"admin", lc->admin_up ? "up" : "down",
		"state", link_state_word(li.state),
		"health", braid_link_state_name(li.health),
		"backup", lc->backup,
		"suspect", li.suspect,
		"suspects", (json_int_t)li.suspects,
		"weight", (int)lc->weight,
		"effective_weight", (json_int_t)eff,
		"capacity_kbps", (json_int_t)lc->capacity_kbps,
		"usable_kbps", (json_int_t)li.usable_kbps,
		"rtt_us", li.rtt_min_us != 0 ? json_integer(li.srtt_us) : json_null(),
		"jitter_us", li.rx_packets > 1 ? json_integer(li.jitter_us) : json_null(),
		"loss_ppm", loss,
		"tx_packets", (json_int_t)es.frames,
		"tx_bytes", (json_int_t)es.bytes,
		"rx_packets", (json_int_t)li.rx_packets,
		"rx_bytes", (json_int_t)li.rx_bytes);
	if (o != NULL && json_object_set_new(o, "mtu_check", json_string(
		    li.mtu == BRAID_LINK_MTU_OK ? "ok" :
		    li.mtu == BRAID_LINK_MTU_TOO_SMALL ? "too_small" : "unknown")) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
gw_rpc_links_list(void *arg, const json_t *params, json_t **result,
		  struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	json_t *arr = json_array();

	RTE_SET_USED(params);
	for (uint16_t l = 0; arr != NULL && l < m->running->n_links; l++)
		if (json_array_append_new(arr, link_json(m, l)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	*result = arr != NULL ? json_pack("{s:o}", "links", arr) : NULL;
	return *result != NULL ? 0 : err_nomem(err);
}

int
gw_rpc_links_set(void *arg, const json_t *params, json_t **result,
		 struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	const struct braid_config_link *lc;
	int idx = set_method(m, params, false, err);

	if (idx < 0)
		return idx;
	lc = &m->running->links[idx];
	*result = json_pack("{s:s, s:i, s:I, s:s, s:b}", "name", lc->name, "weight",
			    (int)lc->weight, "capacity_kbps", (json_int_t)lc->capacity_kbps,
			    "admin", lc->admin_up ? "up" : "down", "backup", lc->backup);
	return *result != NULL ? 0 : err_nomem(err);
}

/* The class as the configuration shows it, without its match rules. */
static json_t *
class_conf_json(const json_t *doc, uint16_t k)
{
	json_t *o = json_deep_copy(json_array_get(json_object_get(doc, "classes"), k));

	if (o != NULL)
		json_object_del(o, "match");
	return o;
}

/* "fec": "auto": the shape braid uses now, how often it changed it, and
 * how often a change waited for full control rings (retried). */
static int
class_fec_auto_json(const struct braid_gateway *gw, uint16_t k, json_t *o)
{
	const struct gw_fec_auto_class *a = gw_fec_auto_class(gw, k);

	if (a == NULL)
		return 0;
	return jset(o, "fec_now", json_pack("{s:i, s:i, s:I, s:I}", "k", a->ctl.cur.k,
					    "m", a->ctl.cur.m, "changes", (json_int_t)a->changes,
					    "retries", (json_int_t)a->send_failed));
}

/* The links a class may use for its deadline, and whether they fall short. */
static int
class_fit_json(const struct braid_gateway *gw, uint16_t k, json_t *o)
{
	const struct gw_fit_class *f = gw_fit_class(gw, k);
	uint32_t mask = braid_sched_class_fit(gw->sched, k);
	json_t *arr = json_array();

	if (f == NULL || arr == NULL) {
		json_decref(arr);
		return f == NULL ? 0 : -ENOMEM;
	}
	for (uint16_t l = 0; l < gw->cfg.n_links; l++)
		if (((mask >> l) & 1) && json_array_append_new(arr,
					json_string(gw->cfg.links[l].name)) != 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	if (jset(o, "links_in_time", arr) != 0)
		return -ENOMEM;
	return jset(o, "shortfall", json_pack("{s:b, s:I}", "now",
		    __atomic_load_n(&f->shortfall, __ATOMIC_RELAXED),
		    "count", (json_int_t)__atomic_load_n(&f->shortfalls, __ATOMIC_RELAXED)));
}

int
gw_rpc_classes_list(void *arg, const json_t *params, json_t **result,
		    struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	const struct braid_gateway *gw = m->gw;
	json_t *doc = braid_config_to_json(m->running);
	json_t *arr = json_array();
	int ret = doc != NULL && arr != NULL ? 0 : -ENOMEM;

	RTE_SET_USED(params);
	for (uint16_t k = 0; ret == 0 && k < m->running->n_classes; k++) {
		struct braid_sched_class_stats cs = { 0 };
		unsigned int queued = braid_sched_class_backlog(gw->sched, k);
		json_t *o = class_conf_json(doc, k);

		braid_sched_class_stats(gw->sched, k, &cs);
		/* Read from another lcore: a torn head/tail pair is clamped. */
		queued = RTE_MIN(queued, m->running->classes[k].queue_packets);
		if (o == NULL ||
		    jset(o, "queued", json_integer(queued)) != 0 ||
		    jset(o, "tx_packets", json_integer((json_int_t)cs.dequeued)) != 0 ||
		    jset(o, "tx_bytes", json_integer((json_int_t)cs.bytes)) != 0 ||
		    jset(o, "drops", json_integer((json_int_t)cs.drop_queue_full)) != 0 ||
		    class_fec_auto_json(gw, k, o) != 0 ||
		    class_fit_json(gw, k, o) != 0 ||
		    json_array_append_new(arr, o) != 0)
			ret = -ENOMEM;
	}
	json_decref(doc);
	*result = ret == 0 ? json_pack("{s:o}", "classes", arr) : NULL;
	if (*result == NULL) {
		if (ret != 0)
			json_decref(arr);
		return err_nomem(err);
	}
	return 0;
}

int
gw_rpc_classes_set(void *arg, const json_t *params, json_t **result,
		   struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	int idx = set_method(m, params, true, err);
	json_t *doc;

	if (idx < 0)
		return idx;
	doc = braid_config_to_json(m->running);
	*result = doc != NULL ? class_conf_json(doc, (uint16_t)idx) : NULL;
	json_decref(doc);
	return *result != NULL ? 0 : err_nomem(err);
}

int
gw_rpc_config_get(void *arg, const json_t *params, json_t **result,
		  struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;

	RTE_SET_USED(params);
	*result = braid_config_to_json(m->running);
	return *result != NULL ? 0 : err_nomem(err);
}

int
gw_rpc_config_apply(void *arg, const json_t *params, json_t **result,
		    struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	struct gw_live_change ch;
	json_t *empty = NULL;
	int ret;

	ret = gw_live_change_init(&ch);
	/* No params: an empty document, so the loader names what is missing. */
	if (params == NULL)
		params = empty = json_object();
	if (ret == 0)
		ret = params != NULL ? gw_live_apply(m, params, &ch) : -ENOMEM;
	json_decref(empty);
	if (ret == -EINVAL && ch.errs->n > 0) {
		ret = apply_load_error(ch.errs, err);
	} else if (ret == -EPERM) {
		char reason[BRAID_MGMT_ERRMSG_LEN];

		gw_live_path_list(ch.restart, "needs a restart: ", reason, sizeof(reason));
		err_failed(err, NULL, reason, "config.apply: refused, nothing changed: %s",
			   reason);
		if (err->data != NULL)
			json_object_set(err->data, "restart_needed", ch.restart);
		ret = -EINVAL;
	} else if (ret < 0) {
		ret = change_error(ret, err, "config.apply");
	} else {
		*result = json_pack("{s:I, s:O, s:o}", "generation", (json_int_t)m->generation,
				    "changed", ch.changed, "restart_needed", json_array());
		ret = *result != NULL ? 0 : err_nomem(err);
	}
	gw_live_change_fini(&ch);
	return ret;
}

int
gw_rpc_config_save(void *arg, const json_t *params, json_t **result,
		   struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	const char *given = NULL, *key;
	char path[PATH_MAX], why[320];
	json_t *v;
	size_t len;
	int ret;

	if (params != NULL && !json_is_object(params))
		return braid_mgmt_error_param(err, "$", "must be an object");
	json_object_foreach((json_t *)(uintptr_t)params, key, v) {
		char p[96];

		if (strcmp(key, "path") != 0) {
			snprintf(p, sizeof(p), "$.%.80s", key);
			return braid_mgmt_error_param(err, p, "unknown member");
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= PATH_MAX)
			return braid_mgmt_error_param(err, "$.path",
						      "must be a file path of 1..%d bytes",
						      PATH_MAX - 1);
		given = json_string_value(v);
	}
	if (given == NULL && m->file[0] == '\0')
		return err_failed(err, "$.path", "no configuration file",
				  "config.save: the gateway runs a configuration that was "
				  "not loaded from a file: give \"path\"");
	ret = gw_save_path(m, given, path, sizeof(path), why, sizeof(why));
	if (ret == -EINVAL)
		return braid_mgmt_error_param(err, "$.path", "%s", why);
	if (ret < 0)
		return err_failed(err, "$.path", why, "config.save: %s", why);
	ret = gw_save_running(m, path, &len);
	if (ret < 0 && len == 0)
		return err_nomem(err);
	if (ret < 0)
		return err_failed(err, given != NULL ? "$.path" : NULL, strerror(-ret),
				  "cannot write %.200s: %s", path, strerror(-ret));
	*result = json_pack("{s:s, s:I}", "path", path, "bytes", (json_int_t)len);
	return *result != NULL ? 0 : err_nomem(err);
}
