/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's side of the management port (doc/management-api.md): the
 * "gateway" methods (status, links.*, classes.*, config.*), the shutdown
 * hook and the stats walker that names every counter the Prometheus way.
 *
 * Everything here runs in the management thread (the walker also in
 * DPDK's telemetry thread, serialised by lib/mgmt). It only reads
 * counters and published snapshots, and changes the data path the one
 * way a control change reaches a stage: commands on the stage's command
 * channel (lib/engine runner), applied by the stage's own lcore (gw_diff.c).
 *
 * The running configuration is a copy only this thread touches: every
 * live change is validated by the configuration loader (the same rules
 * and JSON paths as the file), diffed against the running copy, turned
 * into commands that are all queued or none, and only then becomes the
 * running configuration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "braid_clock.h"
#include "braid_mgmt.h"
#include "braid_mgmt_client.h"
#include "gw_priv.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "unknown"
#endif

struct gw_mgmt {
	struct braid_gateway *gw;
	struct braid_mgmt *srv;
	/* The running configuration: the build config plus every live change.
	 * Read and written by the management thread only. */
	struct braid_config *running;
	char file[PATH_MAX];           /* "" = embedded default */
	uint64_t generation;           /* successful config.apply calls */
	bool dirty;                    /* running differs from the file */
	uint64_t created_ns;
	uint32_t shutdown;             /* atomic: a client asked for shutdown */
	bool shutdown_reported;        /* on_shutdown called */
	void (*on_shutdown)(void *arg);
	void *on_shutdown_arg;
};

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

/* ---- diff of two configurations ----------------------------------------- */

/* Paths one diff reports at most (a document rewriting every rule would
 * otherwise list thousands). */
#define GW_MGMT_MAX_PATHS 64

/* Add @p s to the string array @p arr unless it is there (or full). */
static int
add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) >= GW_MGMT_MAX_PATHS)
		return 0;
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 0;
	return json_array_append_new(arr, json_string(s)) == 0 ? 0 : -ENOMEM;
}

/* Paths (without "$.") where @p a and @p b differ: a member present in
 * one only, a value of another type or value, an array of another size. */
static int
json_diff(const json_t *a, const json_t *b, char *path, size_t cap, json_t *out)
{
	size_t plen = strlen(path);
	const char *key;
	json_t *va;
	int ret = 0;

	if (json_typeof(a) != json_typeof(b))
		return add_unique(out, path);
	if (json_is_object(a)) {
		json_object_foreach((json_t *)(uintptr_t)a, key, va) {
			const json_t *vb = json_object_get(b, key);

			snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", key);
			ret = vb == NULL ? add_unique(out, path) : json_diff(va, vb, path, cap, out);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		json_object_foreach((json_t *)(uintptr_t)b, key, va) {
			if (json_object_get(a, key) != NULL)
				continue;
			snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", key);
			ret = add_unique(out, path);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return add_unique(out, path);
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(path + plen, cap - plen, "[%zu]", i);
			ret = json_diff(json_array_get(a, i), json_array_get(b, i), path, cap, out);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	return json_equal(a, b) ? 0 : add_unique(out, path);
}

/* "<prefix>a, b, c" for the paths in @p paths. */
static void
path_list(const json_t *paths, const char *prefix, char *buf, size_t len)
{
	size_t i, off;
	json_t *v;

	off = (size_t)snprintf(buf, len, "%s", prefix);
	json_array_foreach(paths, i, v) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					json_string_value(v));
	}
}

/*
 * Make @p next the running configuration. @p changed gets every changed
 * path, @p restart those that cannot change live: then nothing changes
 * and -EPERM is returned. -ENOBUFS: a command ring is full (nothing
 * changed), -ENOMEM.
 */
static int
commit(struct gw_mgmt *m, const struct braid_config *next, json_t *changed,
       json_t *restart)
{
	struct braid_gateway *gw = m->gw;
	struct gw_cmd_batch *batch;
	struct braid_config *probe;
	json_t *a, *b, *paths;
	char path[256] = "", norm[256];
	size_t i;
	json_t *v;
	int ret;

	a = braid_config_to_json(m->running);
	b = braid_config_to_json(next);
	paths = json_array();
	ret = a == NULL || b == NULL || paths == NULL ? -ENOMEM :
	      json_diff(a, b, path, sizeof(path), paths);
	json_decref(a);
	json_decref(b);
	json_array_foreach(paths, i, v) {
		if (ret < 0)
			break;
		ret = add_unique(gw_diff_path_is_live(json_string_value(v), norm, sizeof(norm)) ?
				 changed : restart, norm);
	}
	json_decref(paths);
	if (ret < 0)
		return ret;
	/* Whatever the document shows, the structs must differ in live
	 * fields only. */
	probe = malloc(sizeof(*probe));
	if (probe == NULL)
		return -ENOMEM;
	memcpy(probe, next, sizeof(*probe));
	gw_diff_keep_live(probe, m->running);
	if (memcmp(probe, m->running, sizeof(*probe)) != 0 &&
	    json_array_size(restart) == 0)
		ret = add_unique(restart, "(a setting the document does not show)");
	free(probe);
	if (ret < 0)
		return ret;
	if (json_array_size(restart) > 0)
		return -EPERM;
	if (json_array_size(changed) == 0)
		return 0;

	batch = malloc(sizeof(*batch));
	if (batch == NULL)
		return -ENOMEM;
	ret = gw_diff_commands(gw, m->running, next, batch);
	if (ret == 0)
		ret = gw_cmd_batch_send(gw, batch);
	free(batch);
	if (ret < 0)
		return ret;
	memcpy(m->running, next, sizeof(*next));
	m->dirty = true;
	{
		char list[BRAID_MGMT_ERRMSG_LEN];

		path_list(changed, "", list, sizeof(list));
		GW_LOG(NOTICE, "gateway %s: live change queued: %s", gw->cfg.name, list);
	}
	return 0;
}

static int
commit_error(int ret, struct braid_mgmt_error *err, const char *what)
{
	if (ret == -ENOMEM)
		return err_nomem(err);
	if (ret == -ERANGE)
		return err_failed(err, NULL, "needs a restart",
				  "%s: a packet of this FEC ratio would not fit a link's "
				  "configured token bucket; nothing changed", what);
	if (ret == -ENOBUFS)
		return err_failed(err, NULL, "command ring full",
				  "%s: the data path has not taken the previous changes "
				  "yet; nothing changed, try again", what);
	return err_failed(err, NULL, strerror(-ret), "%s: %s", what, strerror(-ret));
}

/* ---- config validation for links.set / classes.set ----------------------- */

/*
 * Validate a change of one link or class the way the file is validated:
 * the running configuration as a document, @p patch merged into
 * @p section[@p idx], through the loader. Error paths are made relative
 * to the object ("$.links[2].weight" -> "$.weight").
 * @return the new configuration, or NULL with @p err filled.
 */
static struct braid_config *
load_patched(struct gw_mgmt *m, const char *section, unsigned int idx,
	     const json_t *patch, struct braid_mgmt_error *err)
{
	struct braid_config_errors *errs;
	struct braid_config *next;
	json_t *doc, *obj;
	const char *key;
	json_t *v;
	char prefix[64];
	size_t pl;

	doc = braid_config_to_json(m->running);
	obj = doc != NULL ? json_array_get(json_object_get(doc, section), idx) : NULL;
	if (obj == NULL) {
		json_decref(doc);
		err_nomem(err);
		return NULL;
	}
	json_object_foreach((json_t *)(uintptr_t)patch, key, v) {
		json_t *cur = json_object_get(obj, key);

		/* arq: members left out keep their value. */
		if (strcmp(key, "arq") == 0 && json_is_object(v) && json_is_object(cur))
			json_object_update(cur, (json_t *)(uintptr_t)v);
		else
			json_object_set(obj, key, (json_t *)(uintptr_t)v);
	}
	errs = calloc(1, sizeof(*errs));
	if (errs == NULL) {
		json_decref(doc);
		err_nomem(err);
		return NULL;
	}
	next = braid_config_load_json(doc, errs);
	json_decref(doc);
	if (next == NULL) {
		if (errs->n == 0) {
			err_nomem(err);
		} else {
			const struct braid_config_error *e = &errs->e[0];
			char p[sizeof(e->path) + 1];

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
		}
	}
	free(errs);
	return next;
}

/*
 * Common checks of a *.set request: params an object, only "name" and
 * live settings (gw_diff.c) of a link or (@p of_class) a class as members, "name" a string naming an entry (@p find), at least one other
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

/* ---- methods --------------------------------------------------------------- */

static const char *
link_state_word(enum braid_link_state s)
{
	switch (s) {
	case BRAID_LINK_UP: return "up";
	case BRAID_LINK_DEGRADED: return "degraded";
	default: return "down";
	}
}

static int
m_status(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
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
		"local", jstr_ip_port(lc->local_ip, lc->local_port),
		"peer", jstr_ip_port(lc->peer_ip, lc->peer_port),
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
	return o;
}

static int
m_links_list(void *arg, const json_t *params, json_t **result,
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

static int
m_links_set(void *arg, const json_t *params, json_t **result,
	    struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	struct braid_config *next;
	const struct braid_config_link *lc;
	json_t *patch, *changed, *restart;
	int idx, ret;

	idx = set_params(params, false, "link", braid_config_find_link, m->running, err);
	if (idx < 0)
		return idx;
	patch = json_deep_copy(params);
	if (patch == NULL)
		return err_nomem(err);
	json_object_del(patch, "name");
	next = load_patched(m, "links", (unsigned int)idx, patch, err);
	json_decref(patch);
	if (next == NULL)
		return -EINVAL;
	changed = json_array();
	restart = json_array();
	ret = changed != NULL && restart != NULL ? commit(m, next, changed, restart) : -ENOMEM;
	braid_config_free(next);
	json_decref(changed);
	json_decref(restart);
	if (ret < 0)
		return commit_error(ret, err, "links.set");
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

static int
m_classes_list(void *arg, const json_t *params, json_t **result,
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

		braid_sched_class_stats_get(gw->sched, k, &cs);
		/* Read from another lcore: a torn head/tail pair is clamped. */
		queued = RTE_MIN(queued, m->running->classes[k].queue_packets);
		if (o == NULL ||
		    jset(o, "queued", json_integer(queued)) != 0 ||
		    jset(o, "tx_packets", json_integer((json_int_t)cs.dequeued)) != 0 ||
		    jset(o, "tx_bytes", json_integer((json_int_t)cs.bytes)) != 0 ||
		    jset(o, "drops", json_integer((json_int_t)cs.drop_queue_full)) != 0 ||
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

static int
m_classes_set(void *arg, const json_t *params, json_t **result,
	      struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	struct braid_config *next;
	json_t *patch, *changed, *restart, *doc;
	int idx, ret;

	idx = set_params(params, true, "class", braid_config_find_class, m->running, err);
	if (idx < 0)
		return idx;
	patch = json_deep_copy(params);
	if (patch == NULL)
		return err_nomem(err);
	json_object_del(patch, "name");
	next = load_patched(m, "classes", (unsigned int)idx, patch, err);
	json_decref(patch);
	if (next == NULL)
		return -EINVAL;
	changed = json_array();
	restart = json_array();
	ret = changed != NULL && restart != NULL ? commit(m, next, changed, restart) : -ENOMEM;
	braid_config_free(next);
	if (ret == -EPERM) {
		/* Name the member: "classes[1].arq.enabled" -> "arq". */
		const char *p = json_string_value(json_array_get(restart, 0));
		const char *dot = p != NULL ? strchr(p, '.') : NULL;
		char member[32], path[40], reason[160];

		snprintf(member, sizeof(member), "%.*s",
			 dot != NULL ? (int)strcspn(dot + 1, ".[") : 1,
			 dot != NULL ? dot + 1 : "$");
		snprintf(path, sizeof(path), "$.%s", member);
		snprintf(reason, sizeof(reason), "%s cannot change while the gateway runs "
			 "(it needs a restart)", member);
		json_decref(changed);
		json_decref(restart);
		return err_failed(err, path, reason, "classes.set: %s", reason);
	}
	json_decref(changed);
	json_decref(restart);
	if (ret < 0)
		return commit_error(ret, err, "classes.set");
	doc = braid_config_to_json(m->running);
	*result = doc != NULL ? class_conf_json(doc, (uint16_t)idx) : NULL;
	json_decref(doc);
	return *result != NULL ? 0 : err_nomem(err);
}

static int
m_config_get(void *arg, const json_t *params, json_t **result,
	     struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;

	RTE_SET_USED(params);
	*result = braid_config_to_json(m->running);
	return *result != NULL ? 0 : err_nomem(err);
}

static int
m_config_apply(void *arg, const json_t *params, json_t **result,
	       struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	struct braid_config_errors *errs;
	struct braid_config *next;
	json_t *empty = NULL, *changed, *restart;
	int ret;

	errs = calloc(1, sizeof(*errs));
	if (errs == NULL)
		return err_nomem(err);
	/* No params: an empty document, so the loader names what is missing. */
	if (params == NULL)
		params = empty = json_object();
	next = params != NULL ? braid_config_load_json(params, errs) : NULL;
	json_decref(empty);
	if (next == NULL) {
		json_t *list = json_array();

		if (errs->n == 0 || list == NULL) {
			free(errs);
			json_decref(list);
			return err_nomem(err);
		}
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
		free(errs);
		return -EINVAL;
	}
	free(errs);
	changed = json_array();
	restart = json_array();
	ret = changed != NULL && restart != NULL ? commit(m, next, changed, restart) : -ENOMEM;
	braid_config_free(next);
	if (ret == -EPERM) {
		char reason[BRAID_MGMT_ERRMSG_LEN];

		path_list(restart, "needs a restart: ", reason, sizeof(reason));
		err_failed(err, NULL, reason, "config.apply: refused, nothing changed: %s",
			   reason);
		if (err->data != NULL)
			json_object_set(err->data, "restart_needed", restart);
		json_decref(changed);
		json_decref(restart);
		return -EINVAL;
	}
	if (ret < 0) {
		json_decref(changed);
		json_decref(restart);
		return commit_error(ret, err, "config.apply");
	}
	__atomic_store_n(&m->generation, m->generation + 1, __ATOMIC_RELAXED);
	*result = json_pack("{s:I, s:o, s:o}", "generation", (json_int_t)m->generation,
			    "changed", changed, "restart_needed", json_array());
	json_decref(restart);
	return *result != NULL ? 0 : err_nomem(err);
}

/* Write @p text to @p path through a temporary file in the same
 * directory and a rename. @return 0 or -errno. */
static int
write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 16];
	const char *slash = strrchr(path, '/');
	struct stat st;
	mode_t mode = 0644;
	size_t off = 0;
	int fd, ret = 0;

	if (slash != NULL)
		snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			 slash + 1);
	else
		snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (ret == 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (ret == 0 && fchmod(fd, mode) != 0)
		ret = -errno;
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0)
		unlink(tmp);
	return ret;
}

static int
m_config_save(void *arg, const json_t *params, json_t **result,
	      struct braid_mgmt_error *err)
{
	struct gw_mgmt *m = arg;
	const char *path = m->file, *key;
	bool given = false;
	json_t *doc, *v;
	char *text;
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
		path = json_string_value(v);
		given = true;
	}
	if (path[0] == '\0')
		return err_failed(err, "$.path", "no configuration file",
				  "config.save: the gateway runs a configuration that was "
				  "not loaded from a file: give \"path\"");
	doc = braid_config_to_json(m->running);
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (text == NULL)
		return err_nomem(err);
	len = strlen(text);
	{
		/* A text file ends with a newline. */
		char *t = realloc(text, len + 2);

		if (t == NULL) {
			free(text);
			return err_nomem(err);
		}
		text = t;
		text[len++] = '\n';
		text[len] = '\0';
	}
	ret = write_atomic(path, text, len);
	free(text);
	if (ret < 0)
		return err_failed(err, given ? "$.path" : NULL, strerror(-ret),
				  "cannot write %.200s: %s", path, strerror(-ret));
	if (strcmp(path, m->file) == 0)
		m->dirty = false;
	*result = json_pack("{s:s, s:I}", "path", path, "bytes", (json_int_t)len);
	return *result != NULL ? 0 : err_nomem(err);
}

/* The server calls this once the `shutdown` reply has left. */
static void
on_shutdown_request(void *arg)
{
	struct gw_mgmt *m = arg;

	__atomic_store_n(&m->shutdown, 1, __ATOMIC_RELEASE);
	braid_runner_stop(m->gw->runner);
}

/* ---- stats walker ---------------------------------------------------------- */

#define WALK_MAX_LABELS 4

struct wsample {
	char name[96];
	unsigned int n_labels;
	char lname[WALK_MAX_LABELS][12];
	char lval[WALK_MAX_LABELS][40];
	double value;
	enum braid_mgmt_metric type;
	const char *help;
};

struct walk {
	const struct braid_gateway *gw;
	struct wsample *s;
	size_t n, cap;
};

static struct wsample *
walk_add(struct walk *w, enum braid_mgmt_metric type, double value, const char *help)
{
	struct wsample *s;

	if (w->n == w->cap) {
		size_t cap = w->cap != 0 ? 2 * w->cap : 512;
		struct wsample *p = realloc(w->s, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		w->s = p;
		w->cap = cap;
	}
	s = &w->s[w->n++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->value = value;
	s->help = help;
	return s;
}

static void
label(struct wsample *s, const char *name, const char *value)
{
	if (s->n_labels == WALK_MAX_LABELS)
		return;
	snprintf(s->lname[s->n_labels], sizeof(s->lname[0]), "%s", name);
	snprintf(s->lval[s->n_labels], sizeof(s->lval[0]), "%s", value);
	s->n_labels++;
}

/* "class3_bytes" / "class_3_packets" -> index 3, rest "bytes". */
static bool
indexed(const char *name, const char *kind, unsigned int *idx, const char **rest)
{
	size_t kl = strlen(kind);
	const char *p = name + kl;
	char *end;
	unsigned long v;

	if (strncmp(name, kind, kl) != 0)
		return false;
	if (*p == '_')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	v = strtoul(p, &end, 10);
	if (*end != '_' || end[1] == '\0' || v > UINT16_MAX)
		return false;
	*idx = (unsigned int)v;
	*rest = end + 1;
	return true;
}

/* Counters reported by stages that are levels, not event counts. */
static const char *
stage_gauge(const char *name)
{
	static const char *const g[][2] = {
		{ "ring_count", "braid_stage_ring_packets" },
		{ "ring_size", "braid_stage_ring_capacity_packets" },
		{ "held", "braid_stage_held_packets" },
		{ "cached", "braid_stage_cached_packets" },
	};

	for (unsigned int i = 0; i < RTE_DIM(g); i++)
		if (strcmp(name, g[i][0]) == 0)
			return g[i][1];
	return NULL;
}

/* Counter name in base units: "pkts" -> "packets", "_us"/"_ns" ->
 * "_seconds" (@p scale set). */
static void
base_units(const char *name, char *out, size_t len, double *scale)
{
	size_t n = strlen(name), o = 0;

	*scale = 1.0;
	if (n > 3 && strcmp(name + n - 3, "_us") == 0) {
		*scale = 1e-6;
		n -= 3;
	} else if (n > 3 && strcmp(name + n - 3, "_ns") == 0) {
		*scale = 1e-9;
		n -= 3;
	}
	for (size_t i = 0; i < n && o + 1 < len; ) {
		bool word = (i == 0 || name[i - 1] == '_') && strncmp(name + i, "pkts", 4) == 0 &&
			    (i + 4 == n || name[i + 4] == '_');

		if (word) {
			o += (size_t)snprintf(out + o, len - o, "packets");
			i += 4;
		} else {
			out[o++] = name[i++];
		}
	}
	out[RTE_MIN(o, len - 1)] = '\0';
	if (*scale != 1.0 && o + 8 < len)
		snprintf(out + strlen(out), len - strlen(out), "_seconds");
}

/* braid_gateway_stats_walk() sample -> Prometheus name and labels. */
static void
walk_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, uint64_t value)
{
	struct walk *w = arg;
	const struct braid_config *c = &w->gw->cfg;
	const char *family, *lkey, *rest = name, *gauge = NULL;
	const char *xlabel = NULL, *xvalue = NULL;
	char what[80], xbuf[16];
	unsigned int idx;
	double scale = 1.0;
	struct wsample *s;

	switch (scope) {
	case BRAID_STATS_PORT:
		family = "port";
		lkey = "port";
		break;
	case BRAID_STATS_LCORE:
		family = "lcore";
		lkey = "lcore";
		if (strncmp(owner, "lcore", 5) == 0)
			owner += 5;
		break;
	default:
		family = "stage";
		lkey = "stage";
		/* Per-class and per-link counters of a stage. */
		if (indexed(name, "class", &idx, &rest)) {
			xlabel = "class";
			if (idx < c->n_classes) {
				xvalue = c->classes[idx].name;
			} else {
				snprintf(xbuf, sizeof(xbuf), "%u", idx);
				xvalue = xbuf;
			}
		} else if (indexed(name, "link", &idx, &rest)) {
			xlabel = "link";
			if (idx < c->n_links) {
				xvalue = c->links[idx].name;
			} else {
				snprintf(xbuf, sizeof(xbuf), "%u", idx);
				xvalue = xbuf;
			}
		}
		gauge = stage_gauge(rest);
		break;
	}
	if (strncmp(rest, "drop_", 5) == 0) {
		snprintf(what, sizeof(what), "braid_%s_dropped_packets_total", family);
		s = walk_add(w, BRAID_MGMT_COUNTER, (double)value,
			     scope == BRAID_STATS_PORT ? "Packets a port dropped, by reason" :
			     "Packets a stage freed, by reason (its drop_<reason> counter)");
	} else if (gauge != NULL) {
		snprintf(what, sizeof(what), "%s", gauge);
		s = walk_add(w, BRAID_MGMT_GAUGE, (double)value, "Packets a stage holds now");
	} else {
		char unit[64];

		base_units(rest, unit, sizeof(unit), &scale);
		snprintf(what, sizeof(what), "braid_%s_%s_total", family, unit);
		s = walk_add(w, BRAID_MGMT_COUNTER, (double)value * scale,
			     scope == BRAID_STATS_PORT ? "Port counter (ethdev stats)" :
			     scope == BRAID_STATS_LCORE ? "Lcore loop counter" :
			     "Stage counter");
	}
	if (s == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "%s", what);
	label(s, lkey, owner);
	if (xlabel != NULL)
		label(s, xlabel, xvalue);
	if (strncmp(rest, "drop_", 5) == 0)
		label(s, "reason", rest + 5);
}

static void
walk_one(struct walk *w, const char *name, const char *lkey, const char *lval,
	 enum braid_mgmt_metric type, double value, const char *help)
{
	struct wsample *s = walk_add(w, type, value, help);

	if (s == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "%s", name);
	label(s, lkey, lval);
}

/* Link health and per-link transmit counters, class gauges, recoveries. */
static void
walk_gateway(struct walk *w, const struct gw_mgmt *m)
{
	const struct braid_gateway *gw = w->gw;
	const struct braid_config *c = &gw->cfg;

	for (uint16_t l = 0; l < c->n_links; l++) {
		const char *ln = c->links[l].name;
		struct braid_link_info li;
		struct braid_encap_link_stats es;
		bool up;

		if (braid_encap_link_stats(gw->encap, l, &es) == 0) {
			walk_one(w, "braid_link_tx_packets_total", "link", ln, BRAID_MGMT_COUNTER,
				 (double)es.frames, "Frames sent on a link (data, parity, "
				 "retransmissions, control)");
			walk_one(w, "braid_link_tx_bytes_total", "link", ln, BRAID_MGMT_COUNTER,
				 (double)es.bytes, "Frame bytes sent on a link");
		}
		if (braid_link_info_get(gw->link, l, &li) != 0)
			continue;
		up = li.state == BRAID_LINK_UP || li.state == BRAID_LINK_DEGRADED;
		walk_one(w, "braid_link_up", "link", ln, BRAID_MGMT_GAUGE, up ? 1 : 0,
			 "1 when link health has the link up or degraded");
		walk_one(w, "braid_link_degraded", "link", ln, BRAID_MGMT_GAUGE,
			 li.state == BRAID_LINK_DEGRADED ? 1 : 0,
			 "1 when the link is degraded (loss or RTT above the thresholds)");
		walk_one(w, "braid_link_admin_up", "link", ln, BRAID_MGMT_GAUGE,
			 li.state == BRAID_LINK_ADMIN_DOWN ? 0 : 1,
			 "0 when the link is administratively down");
		walk_one(w, "braid_link_usable_capacity_bits_per_second", "link", ln,
			 BRAID_MGMT_GAUGE, (double)li.usable_kbps * 1000.0,
			 "Capacity the scheduler may use on the link (link health)");
		walk_one(w, "braid_link_capacity_bits_per_second", "link", ln,
			 BRAID_MGMT_GAUGE, (double)li.capacity_kbps * 1000.0,
			 "Configured capacity of the link");
		if (li.rtt_min_us != 0) {
			walk_one(w, "braid_link_rtt_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.srtt_us / 1e6, "Smoothed round-trip time");
			walk_one(w, "braid_link_rtt_min_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.rtt_min_us / 1e6, "Windowed minimum round-trip time");
		}
		if (li.rx_packets > 1)
			walk_one(w, "braid_link_jitter_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.jitter_us / 1e6, "Interarrival jitter (RFC 3550)");
		if (li.rx_packets > 0) {
			struct wsample *s = walk_add(w, BRAID_MGMT_GAUGE, li.rx_loss_ppm / 1e6,
				"Loss ratio over the health window");

			if (s != NULL) {
				snprintf(s->name, sizeof(s->name), "braid_link_loss_ratio");
				label(s, "link", ln);
				label(s, "direction", "rx");
			}
		}
		if (li.peer_rx_packets + li.peer_lost > 0) {
			struct wsample *s = walk_add(w, BRAID_MGMT_GAUGE, li.tx_loss_ppm / 1e6,
				"Loss ratio over the health window");

			if (s != NULL) {
				snprintf(s->name, sizeof(s->name), "braid_link_loss_ratio");
				label(s, "link", ln);
				label(s, "direction", "tx");
			}
		}
		walk_one(w, "braid_link_probes_sent_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.probes_sent, "Health probes sent");
		walk_one(w, "braid_link_probes_lost_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.probes_lost, "Health probes never answered");
		walk_one(w, "braid_link_state_changes_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.state_changes, "Link state changes");
	}
	for (uint16_t k = 0; k < c->n_classes; k++) {
		const char *cn = c->classes[k].name;
		struct braid_fec_dec_stats fs;
		unsigned int q = RTE_MIN(braid_sched_class_backlog(gw->sched, k),
					 c->classes[k].queue_packets);

		walk_one(w, "braid_class_queue_packets", "class", cn, BRAID_MGMT_GAUGE, q,
			 "Packets waiting in the class queue of the scheduler");
		walk_one(w, "braid_class_queue_capacity_packets", "class", cn,
			 BRAID_MGMT_GAUGE, c->classes[k].queue_packets,
			 "Size of the class queue");
		if (braid_fec_dec_class_stats(gw->fec_dec, k, &fs) == 0)
			walk_one(w, "braid_fec_recovered_packets_total", "class", cn,
				 BRAID_MGMT_COUNTER, (double)fs.pieces_recovered,
				 "Lost packets rebuilt by the FEC decoder");
		walk_one(w, "braid_arq_recovered_packets_total", "class", cn, BRAID_MGMT_COUNTER,
			 (double)braid_arq_rx_recovered(gw->arq_rx, k),
			 "Retransmitted packets delivered in order (each filled a gap)");
	}
	walk_one(w, "braid_config_generation", "gateway", c->name, BRAID_MGMT_GAUGE,
		 (double)__atomic_load_n(&m->generation, __ATOMIC_RELAXED),
		 "Successful config.apply calls since start");
	walk_one(w, "braid_mbufs_in_use", "gateway", c->name, BRAID_MGMT_GAUGE,
		 braid_gateway_mbufs_in_use(gw), "Mbufs in use across the gateway's pools");
}

static int
sample_cmp(const void *pa, const void *pb)
{
	const struct wsample *a = pa, *b = pb;
	int d = strcmp(a->name, b->name);

	if (d != 0)
		return d;
	if (a->n_labels != b->n_labels)
		return a->n_labels < b->n_labels ? -1 : 1;
	for (unsigned int i = 0; i < a->n_labels; i++) {
		d = strcmp(a->lname[i], b->lname[i]);
		if (d == 0)
			d = strcmp(a->lval[i], b->lval[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

static void
gw_walk(void *arg, braid_mgmt_emit_fn emit, void *emit_arg)
{
	const struct gw_mgmt *m = arg;
	struct walk w = { .gw = m->gw };

	braid_gateway_stats_walk(m->gw, walk_counter, &w);
	walk_gateway(&w, m);
	/* One series per name and labels: a stage that reports the same
	 * counter from two parts (decap and link health both have
	 * drop_out_full) shows their sum. */
	qsort(w.s, w.n, sizeof(*w.s), sample_cmp);
	for (size_t i = 0; i < w.n; ) {
		struct braid_mgmt_label lb[WALK_MAX_LABELS];
		struct wsample *s = &w.s[i];
		double v = s->value;
		size_t j = i + 1;

		for (; j < w.n && sample_cmp(s, &w.s[j]) == 0; j++)
			v += w.s[j].value;
		for (unsigned int k = 0; k < s->n_labels; k++)
			lb[k] = (struct braid_mgmt_label){ s->lname[k], s->lval[k] };
		emit(emit_arg, s->name, lb, s->n_labels, v, s->type, s->help);
		i = j;
	}
	free(w.s);
}

/* ---- lifecycle -------------------------------------------------------------- */

static const struct {
	const char *name;
	braid_mgmt_handler_t fn;
	unsigned int flags;
} gw_methods[] = {
	{ "status", m_status, BRAID_MGMT_F_NO_PARAMS },
	{ "links.list", m_links_list, BRAID_MGMT_F_NO_PARAMS },
	{ "links.set", m_links_set, BRAID_MGMT_F_MUTATING },
	{ "classes.list", m_classes_list, BRAID_MGMT_F_NO_PARAMS },
	{ "classes.set", m_classes_set, BRAID_MGMT_F_MUTATING },
	{ "config.get", m_config_get, BRAID_MGMT_F_NO_PARAMS },
	{ "config.apply", m_config_apply, BRAID_MGMT_F_MUTATING },
	{ "config.save", m_config_save, BRAID_MGMT_F_MUTATING },
};

static void
gw_mgmt_release(struct gw_mgmt *m)
{
	if (m == NULL)
		return;
	braid_mgmt_free(m->srv);
	free(m->running);
	free(m);
}

int
gw_mgmt_create(struct braid_gateway *gw, const struct braid_gateway_conf *conf,
	       char *errbuf, size_t errlen)
{
	const struct braid_config_mgmt *mc = &gw->cfg.management;
	struct braid_mgmt_conf c = { 0 };
	char token[BRAID_MGMT_TOKEN_LEN + 1] = "", addr[INET_ADDRSTRLEN];
	struct in_addr ia = { .s_addr = htonl(mc->address) };
	struct gw_mgmt *m;
	int ret = 0;

	if (!conf->mgmt || !mc->enabled)
		return 0;
	m = calloc(1, sizeof(*m));
	if (m != NULL)
		m->running = malloc(sizeof(*m->running));
	if (m == NULL || m->running == NULL) {
		gw_mgmt_release(m);
		snprintf(errbuf, errlen, "management: no memory");
		return -ENOMEM;
	}
	m->gw = gw;
	memcpy(m->running, &gw->cfg, sizeof(gw->cfg));
	m->created_ns = braid_now_ns();
	m->on_shutdown = conf->on_shutdown;
	m->on_shutdown_arg = conf->on_shutdown_arg;
	if (conf->config_file != NULL &&
	    snprintf(m->file, sizeof(m->file), "%s", conf->config_file) >= (int)sizeof(m->file)) {
		gw_mgmt_release(m);
		snprintf(errbuf, errlen, "management: configuration file name too long");
		return -ENAMETOOLONG;
	}
	if (mc->token_file[0] != '\0') {
		ret = braid_mgmt_read_token_file(mc->token_file, token, sizeof(token));
		if (ret < 0) {
			gw_mgmt_release(m);
			snprintf(errbuf, errlen, "management: token file %s: %s", mc->token_file,
				 ret == -EINVAL ? "empty, NUL byte or longer than 255 bytes" :
				 strerror(-ret));
			return ret;
		}
	}
	inet_ntop(AF_INET, &ia, addr, sizeof(addr));
	c.address = addr;
	c.port = conf->mgmt_ephemeral ? 0 : mc->port;
	c.metrics = mc->metrics_port != 0;
	c.metrics_port = conf->mgmt_ephemeral ? 0 : mc->metrics_port;
	c.metrics_auth = true;
	c.token = token;
	c.max_clients = mc->max_clients;
	c.max_request_bytes = mc->max_request_bytes;
	c.idle_timeout_ms = mc->idle_timeout_s * 1000;
	c.thread = BRAID_MGMT_THREAD_EAL_CTRL;
	c.telemetry = true;
	c.version = BRAID_VERSION;
	c.shutdown_cb = on_shutdown_request;
	c.shutdown_arg = m;
	m->srv = braid_mgmt_create(&c);
	if (m->srv == NULL && rte_errno == EBUSY) {
		/* Telemetry belongs to another gateway of this process. */
		GW_LOG(NOTICE, "gateway %s: DPDK telemetry served by another gateway",
		       gw->cfg.name);
		c.telemetry = false;
		m->srv = braid_mgmt_create(&c);
	}
	memset(token, 0, sizeof(token));
	if (m->srv == NULL) {
		ret = -rte_errno;
		snprintf(errbuf, errlen, "management: cannot serve on %s:%u%s: %s", addr,
			 c.port, c.metrics ? " (and the metrics port)" : "",
			 rte_strerror(rte_errno));
		gw_mgmt_release(m);
		return ret;
	}
	for (unsigned int i = 0; ret == 0 && i < RTE_DIM(gw_methods); i++)
		ret = braid_mgmt_register(m->srv, gw_methods[i].name, gw_methods[i].fn, m,
					  gw_methods[i].flags);
	if (ret == 0)
		ret = braid_mgmt_set_stats_walker(m->srv, gw_walk, m);
	if (ret == 0) {
		gw->mgmt = m;
		ret = braid_mgmt_start(m->srv);
	}
	if (ret < 0) {
		gw->mgmt = NULL;
		snprintf(errbuf, errlen, "management: %s", strerror(-ret));
		gw_mgmt_release(m);
		return ret;
	}
	return 0;
}

void
gw_mgmt_stop(struct braid_gateway *gw)
{
	if (gw->mgmt != NULL)
		braid_mgmt_stop(gw->mgmt->srv);
}

void
gw_mgmt_free(struct braid_gateway *gw)
{
	gw_mgmt_release(gw->mgmt);
	gw->mgmt = NULL;
}

void
gw_mgmt_after_run(struct braid_gateway *gw)
{
	struct gw_mgmt *m = gw->mgmt;

	if (m == NULL || m->shutdown_reported ||
	    __atomic_load_n(&m->shutdown, __ATOMIC_ACQUIRE) == 0)
		return;
	m->shutdown_reported = true;
	GW_LOG(NOTICE, "gateway %s: stopping at a management client's request",
	       gw->cfg.name);
	if (m->on_shutdown != NULL)
		m->on_shutdown(m->on_shutdown_arg);
}

uint16_t
braid_gateway_mgmt_port(const struct braid_gateway *gw)
{
	return gw != NULL && gw->mgmt != NULL ? braid_mgmt_port(gw->mgmt->srv) : 0;
}

uint16_t
braid_gateway_metrics_port(const struct braid_gateway *gw)
{
	return gw != NULL && gw->mgmt != NULL ? braid_mgmt_metrics_port(gw->mgmt->srv) : 0;
}
