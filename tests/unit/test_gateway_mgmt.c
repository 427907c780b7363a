/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's management port, end to end: real gateways on net_ring
 * ports (rings this test owns), driven with a virtual clock
 * (braid_gateway_step) on the test thread, while the management server
 * runs in its EAL control thread and the test calls it over TCP with
 * lib/mgmt's client (doc/management-api.md is the specification).
 *
 *  - every gateway method: happy path and error paths;
 *  - live changes reach the stages: a link weight moves the link spread,
 *    a capacity reaches link health, admin down stops a link, a FEC change
 *    moves the parity ratio, a class weight moves the class share on
 *    saturated links; a class's ARQ, link policy and priority change
 *    while the stream flows; all of it shows in config.get;
 *  - config.apply: a live change applied, a device change refused with
 *    nothing changed, an invalid document named by path; config.save
 *    round trip; counters.reset baseline; metric names; /metrics; token;
 *    the shutdown hook;
 *  - config.apply from another thread while traffic flows: every packet
 *    delivered once and in order, no drop;
 *  - recovery metrics under loss equal the stages' own counters.
 * After each, every mbuf is back in its pool.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <rte_mbuf.h>

#include "braid_config.h"
#include "braid_engine.h"
#include "braid_gateway.h"
#include "braid_meta.h"
#include "braid_mgmt.h"
#include "braid_mgmt_client.h"
#include "gw_pair.h"
#include "gw_priv.h"
#include "harness.h"

#define PROFILE_DIR BRAID_SOURCE_ROOT "/drivers-cfg"
#define MS 1000000ULL
#define IO_MS 10000               /* client timeout */
#define MAX_SEQ BRAID_TEST_MAX_SEQ

static struct rte_mempool *host_pool;
static uint64_t seed;
static char tmpdir[64];

/* ---- ports and gateways (tests/common/gw_pair.h) ---------------------------- */

struct gw_opts {
	uint32_t link_kbps;
	const char *video_fec;     /* JSON: "\"off\"" or "{\"k\": 4, \"m\": 2}" */
	bool video_arq, bulk_arq;
	bool mgmt;
	bool metrics;
	const char *token_file;    /* NULL: none */
};

/* The fixture's options for @p o; @p mgmt holds the management member. */
static void
fixture_opts(const struct gw_opts *o, struct braid_test_gw_opts *fo, char *mgmt, size_t len)
{
	snprintf(mgmt, len, "{\"enabled\": %s, \"port\": 19099, \"metrics_port\": %d,"
		 " \"token_file\": %s%s%s}", o->mgmt ? "true" : "false", o->metrics ? 19101 : 0,
		 o->token_file ? "\"" : "", o->token_file ? o->token_file : "null",
		 o->token_file ? "\"" : "");
	*fo = (struct braid_test_gw_opts){
		.name_pfx = "gm", .mbufs = 16383, .link_kbps = o->link_kbps,
		.video_fec = o->video_fec, .video_arq = o->video_arq, .video_deadline_ms = 300,
		.bulk_arq = o->bulk_arq, .bulk_deadline_ms = 300, .bulk_queue_packets = 4096,
		.extra = "\"fec\": {\"block_timeout_us\": 5000},\n"
			 " \"health\": {\"probe_interval_ms\": 50, \"up_hold_ms\": 200},",
		.lcore = 1, .management = mgmt,
	};
}

/* Side a is 10.9.<i>.1, side b 10.9.<i>.2; classes video (UDP 5000-5999)
 * and bulk (default). */
static char *
side_json(const struct braid_test_side *s, const struct gw_opts *o)
{
	struct braid_test_gw_opts fo;
	char mgmt[256];

	fixture_opts(o, &fo, mgmt, sizeof(mgmt));
	return braid_test_gw_json(s, &fo);
}

static struct braid_config *
side_config(const struct braid_test_side *s, const struct gw_opts *o)
{
	struct braid_test_gw_opts fo;
	char mgmt[256];

	fixture_opts(o, &fo, mgmt, sizeof(mgmt));
	return braid_test_gw_config(s, &fo);
}

static int shutdown_calls;

static void
on_shutdown(void *arg)
{
	(*(int *)arg)++;
}

static const struct braid_gateway_conf gw_tmpl = {
	.profile_dir = PROFILE_DIR, .mgmt = true, .mgmt_ephemeral = true,
	.on_shutdown = on_shutdown, .on_shutdown_arg = &shutdown_calls,
};

static struct braid_gateway *
make_gateway(const struct braid_config *cfg, uint32_t session, const char *file)
{
	struct braid_gateway_conf gc = gw_tmpl;

	gc.config_file = file;
	return braid_test_gw_create(&gc, cfg, session);
}

/* ---- a pair joined by its three links, no delay (loss a -> b: imp.loss[0]) -- */

static struct braid_test_pair *
pair_create(char ta, char tb, const struct gw_opts *oa, const struct gw_opts *ob)
{
	struct braid_test_pair *p = braid_test_pair_new(host_pool, &seed);
	struct braid_test_gw_opts foa, fob;
	char ma[256], mb[256];

	if (p == NULL)
		return NULL;
	fixture_opts(oa, &foa, ma, sizeof(ma));
	fixture_opts(ob, &fob, mb, sizeof(mb));
	if (braid_test_pair_open(p, "m", ta, tb, &foa, &fob, &gw_tmpl) != 0)
		return NULL;
	p->gap_ns = 200000;
	p->payload = 1000;
	p->mix = true;
	return p;
}

static void
pair_destroy(struct braid_test_pair *p)
{
	/* Each gateway holds some of the other's mbufs (FEC pieces, reorder
	 * buffers): drain both, empty the links, then every pool is full. */
	braid_test_pair_drain(p);
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(p->ga), 0);
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(p->gb), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(host_pool), 0);
	braid_test_pair_close(p);
	free(p);
}

/* ---- counters straight from the gateway ------------------------------------ */

/* Every drop_ counter of the gateway's ports and stages on the LAN
 * packets' path. Left out: the control stage (ARP, ICMP, NACKs: no LAN
 * packet) and reorder's duplicate suppression (second copies: a packet
 * FEC rebuilt before its data piece came out of a TX buffer). */
static void
sum_drops(void *arg, enum braid_stats_scope scope, const char *owner,
	  const char *name, const struct braid_stat_labels *labels, uint64_t v)
{
	bool excluded = strcmp(owner, "ctrl") == 0 ||
			(strcmp(owner, "reorder") == 0 && strcmp(name, "drop_duplicate") == 0);
	char flat[96];

	RTE_SET_USED(scope);
	if (strncmp(name, "drop_", 5) != 0)
		return;
	braid_stats_name(flat, sizeof(flat), name, labels);
	if (v != 0)
		printf("    %s %s.%s = %" PRIu64 "\n", excluded ? "(not a loss)" : "drop",
		       owner, flat, v);
	if (!excluded)
		*(uint64_t *)arg += v;
}

static uint64_t
drops(const struct braid_gateway *gw)
{
	uint64_t n = 0;

	braid_gateway_stats_walk(gw, sum_drops, &n);
	return n;
}

/* ---- JSON-RPC helpers --------------------------------------------------------- */

static struct braid_mgmt_client *
client(const struct braid_gateway *gw)
{
	uint16_t port = braid_gateway_mgmt_port(gw);
	struct braid_mgmt_client *c;

	CU_ASSERT(port != 0);
	c = braid_mgmt_client_connect("127.0.0.1", port, IO_MS);
	CU_ASSERT_PTR_NOT_NULL(c);
	return c;
}

/* Call, expect success. Takes @p params. @return the result (decref it). */
static json_t *
rpc(struct braid_mgmt_client *c, const char *method, json_t *params)
{
	struct braid_mgmt_error err = { 0 };
	json_t *res = NULL;
	int ret = braid_mgmt_client_call(c, method, params, &res, &err);

	json_decref(params);
	if (ret != 0) {
		printf("\n    %s: %d %d %s\n", method, ret, err.code, err.message);
		json_decref(err.data);
	}
	CU_ASSERT_EQUAL(ret, 0);
	return res;
}

/* Call, expect a JSON-RPC error. Takes @p params. @return its code (0 if
 * it succeeded); data.path to @p path, the message to @p msg. */
static int
rpc_err(struct braid_mgmt_client *c, const char *method, json_t *params,
	char *path, size_t plen, json_t **data)
{
	struct braid_mgmt_error err = { 0 };
	json_t *res = NULL;
	int ret = braid_mgmt_client_call(c, method, params, &res, &err);
	const char *p;

	json_decref(params);
	json_decref(res);
	if (path != NULL) {
		p = json_string_value(json_object_get(err.data, "path"));
		snprintf(path, plen, "%s", p != NULL ? p : "");
	}
	if (ret == 0)
		return 0;
	CU_ASSERT_EQUAL(ret, -EREMOTEIO);
	if (data != NULL)
		*data = err.data;
	else
		json_decref(err.data);
	return err.code;
}

/* The value of sample @p name with exactly the labels @p labels (JSON
 * text), from `stats` (raw or with the reset baseline). NaN if absent. */
static double
stat(struct braid_mgmt_client *c, const char *name, const char *labels, bool raw)
{
	json_t *want = json_loads(labels, 0, NULL);
	json_t *res = rpc(c, "stats", json_pack("{s:s, s:b}", "filter", name, "raw", raw));
	json_t *s;
	size_t i;
	double v = NAN;

	json_array_foreach(json_object_get(res, "samples"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0 &&
		    json_equal(json_object_get(s, "labels"), want))
			v = json_number_value(json_object_get(s, "value"));
	json_decref(res);
	json_decref(want);
	return v;
}

static json_t *
jget(const json_t *o, const char *path)
{
	/* "links.0.weight" */
	char buf[128], *tok, *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && v != NULL;
	     tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) :
		    json_object_get(v, tok);
	return (json_t *)(uintptr_t)v;
}

static json_int_t
jint(const json_t *o, const char *path)
{
	return json_integer_value(jget(o, path));
}

static const char *
jstr(const json_t *o, const char *path)
{
	const char *s = json_string_value(jget(o, path));

	return s != NULL ? s : "";
}

/* The running configuration through config.get, as a struct. */
static struct braid_config *
running_config(struct braid_mgmt_client *c)
{
	json_t *doc = rpc(c, "config.get", NULL);
	struct braid_config_errors errs;
	struct braid_config *cfg = doc != NULL ? braid_config_load_json(doc, &errs) : NULL;

	if (cfg == NULL && doc != NULL)
		braid_config_errors_print(&errs, stderr);
	json_decref(doc);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	return cfg;
}

/* Byte shares of the links' sent_bytes (sched) over @p p's next @p ns. */
static void
link_shares(struct braid_test_pair *p, uint64_t ns, double share[BRAID_TEST_LINKS])
{
	uint64_t b0[BRAID_TEST_LINKS], d[BRAID_TEST_LINKS], tot = 0;
	char name[32];

	for (int l = 0; l < BRAID_TEST_LINKS; l++) {
		snprintf(name, sizeof(name), "link%d_sent_bytes", l);
		b0[l] = braid_gateway_counter(p->ga, "sched", name);
	}
	braid_test_pair_run(p, ns, true);
	for (int l = 0; l < BRAID_TEST_LINKS; l++) {
		snprintf(name, sizeof(name), "link%d_sent_bytes", l);
		d[l] = braid_gateway_counter(p->ga, "sched", name) - b0[l];
		tot += d[l];
	}
	for (int l = 0; l < BRAID_TEST_LINKS; l++)
		share[l] = tot > 0 ? (double)d[l] / (double)tot : 0;
}

static const struct gw_opts opts_default = {
	.link_kbps = 100000, .video_fec = "{\"k\": 4, \"m\": 2}",
	.video_arq = true, .bulk_arq = true, .mgmt = true,
};

/* ---- tests ------------------------------------------------------------------- */

/* status, links.list, links.set: happy and error paths; the change in
 * config.get and in the stages (link spread, link health capacity, admin). */
static void
test_links(void)
{
	struct gw_opts ob = opts_default;
	struct braid_test_pair *p;
	struct braid_mgmt_client *c;
	json_t *r, *data = NULL;
	struct braid_config *rc;
	double sh[BRAID_TEST_LINKS];
	char path[64];
	uint64_t before;

	ob.mgmt = false;
	p = pair_create('a', 'b', &opts_default, &ob);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(braid_gateway_mgmt_port(p->gb), 0);   /* cfg: disabled */
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);

	/* status before the first step, then running. */
	r = rpc(c, "status", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "name"), "gma");
	CU_ASSERT_STRING_EQUAL(jstr(r, "state"), "starting");
	CU_ASSERT_STRING_EQUAL(jstr(r, "version"), "0.1.0");
	CU_ASSERT(json_is_null(jget(r, "config.file")));
	CU_ASSERT_EQUAL(jint(r, "config.generation"), 0);
	CU_ASSERT(json_is_false(jget(r, "config.saved")));
	CU_ASSERT_EQUAL(jint(r, "links.total"), BRAID_TEST_LINKS);
	CU_ASSERT_EQUAL(jint(r, "links.down"), BRAID_TEST_LINKS);
	CU_ASSERT_EQUAL(jint(r, "classes"), 2);
	CU_ASSERT_EQUAL(jint(r, "lcores.0.lcore"), 1);
	CU_ASSERT_EQUAL(json_array_size(jget(r, "lcores")), 1);
	CU_ASSERT_EQUAL(json_array_size(jget(r, "lcores.0.stages")),
			braid_runner_stage_count(braid_gateway_runner(p->ga)));
	json_decref(r);
	CU_ASSERT_EQUAL(rpc_err(c, "status", json_pack("{s:i}", "x", 1), NULL, 0, NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);

	braid_test_pair_run(p, 500 * MS, true);
	r = rpc(c, "status", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "state"), "running");
	CU_ASSERT_EQUAL(jint(r, "links.up"), BRAID_TEST_LINKS);
	CU_ASSERT(json_is_array(jget(r, "warnings")));
	CU_ASSERT_EQUAL(json_array_size(jget(r, "warnings")), 0);
	json_decref(r);

	/* links.list */
	r = rpc(c, "links.list", NULL);
	CU_ASSERT_EQUAL(json_array_size(jget(r, "links")), BRAID_TEST_LINKS);
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.name"), "l0");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.port"), "wan0");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.local"), "10.9.0.1:7000");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.peer"), "10.9.0.2:7000");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.admin"), "up");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.0.state"), "up");
	CU_ASSERT(json_is_false(jget(r, "links.0.backup")));
	CU_ASSERT_EQUAL(jint(r, "links.0.weight"), 1);
	CU_ASSERT_EQUAL(jint(r, "links.0.effective_weight"), 1);
	CU_ASSERT_EQUAL(jint(r, "links.0.capacity_kbps"), 100000);
	CU_ASSERT(json_is_integer(jget(r, "links.0.rtt_us")));
	CU_ASSERT(json_is_integer(jget(r, "links.0.loss_ppm")));
	CU_ASSERT(jint(r, "links.0.tx_packets") > 0 && jint(r, "links.0.tx_bytes") > 0);
	CU_ASSERT(jint(r, "links.0.rx_packets") > 0);
	json_decref(r);
	CU_ASSERT_EQUAL(rpc_err(c, "links.list", json_pack("{s:i}", "x", 1), NULL, 0, NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);

	/* links.set error paths. */
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:i}", "name", "l0",
			"weight", 0), path, sizeof(path), &data), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.weight");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(data, "reason")),
			       "must be an integer in 1..1000 (got 0)");
	json_decref(data);
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:i}", "name", "l9",
			"weight", 2), path, sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.name");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:i}", "weight", 2), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.name");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s}", "name", "l0"), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:i}", "name", "l0",
			"colour", 2), path, sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.colour");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:s}", "name", "l0",
			"admin", "sideways"), path, sizeof(path), NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.admin");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:I}", "name", "l0",
			"capacity_kbps", (json_int_t)200000000), path, sizeof(path), NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.capacity_kbps");
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("[s]", "l0"), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	/* Nothing changed by the refusals. */
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(memcmp(rc, p->ca, sizeof(*rc)), 0);
	braid_config_free(rc);

	/* Weights 1:1:1 spread the bytes evenly; l0 at 3 takes 3/5. */
	link_shares(p, 300 * MS, sh);
	printf("\n  link shares 1:1:1: %.3f %.3f %.3f", sh[0], sh[1], sh[2]);
	CU_ASSERT(sh[0] > 0.30 && sh[0] < 0.37);
	r = rpc(c, "links.set", json_pack("{s:s, s:i}", "name", "l0", "weight", 3));
	CU_ASSERT_STRING_EQUAL(jstr(r, "name"), "l0");
	CU_ASSERT_EQUAL(jint(r, "weight"), 3);
	CU_ASSERT_EQUAL(jint(r, "capacity_kbps"), 100000);
	CU_ASSERT_STRING_EQUAL(jstr(r, "admin"), "up");
	json_decref(r);
	braid_test_pair_run(p, 50 * MS, true);
	link_shares(p, 300 * MS, sh);
	printf(", 3:1:1: %.3f %.3f %.3f\n", sh[0], sh[1], sh[2]);
	CU_ASSERT(sh[0] > 0.56 && sh[0] < 0.64);
	CU_ASSERT(sh[1] > 0.17 && sh[1] < 0.23);
	r = rpc(c, "links.list", NULL);
	CU_ASSERT_EQUAL(jint(r, "links.0.weight"), 3);
	CU_ASSERT_EQUAL(jint(r, "links.0.effective_weight"), 3);
	json_decref(r);

	/* Capacity: the running config, link health's configured capacity
	 * (a stage's state, seen through the walker), the spread. A cut
	 * applies at once (a raise ramps in with link health's
	 * capacity_tau). */
	r = rpc(c, "links.set", json_pack("{s:s, s:i}", "name", "l1", "capacity_kbps", 50000));
	CU_ASSERT_EQUAL(jint(r, "capacity_kbps"), 50000);
	json_decref(r);
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT_EQUAL(stat(c, "braid_link_capacity_bits_per_second", "{\"link\":\"l1\"}",
			     false), 50e6);
	CU_ASSERT_EQUAL(stat(c, "braid_link_usable_capacity_bits_per_second",
			     "{\"link\":\"l1\"}", false), 50e6);
	CU_ASSERT_EQUAL(stat(c, "braid_link_capacity_bits_per_second", "{\"link\":\"l0\"}",
			     false), 100e6);
	link_shares(p, 300 * MS, sh);
	printf("  after l1 capacity / 2: %.3f %.3f %.3f\n", sh[0], sh[1], sh[2]);
	/* Quanta 3 x 100 : 1 x 50 : 1 x 100 = 6 : 1 : 2. */
	CU_ASSERT(sh[0] > 0.62 && sh[0] < 0.71);
	CU_ASSERT(sh[1] > 0.08 && sh[1] < 0.14);
	CU_ASSERT(sh[2] > 0.19 && sh[2] < 0.25);

	/* Admin down: config at once, link health and the scheduler after. */
	r = rpc(c, "links.set", json_pack("{s:s, s:s}", "name", "l2", "admin", "down"));
	CU_ASSERT_STRING_EQUAL(jstr(r, "admin"), "down");
	json_decref(r);
	braid_test_pair_run(p, 100 * MS, true);
	r = rpc(c, "links.list", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.2.admin"), "down");
	CU_ASSERT_STRING_EQUAL(jstr(r, "links.2.state"), "down");
	CU_ASSERT_EQUAL(jint(r, "links.2.effective_weight"), 0);
	json_decref(r);
	CU_ASSERT_EQUAL(stat(c, "braid_link_up", "{\"link\":\"l2\"}", false), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_link_admin_up", "{\"link\":\"l2\"}", false), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_link_up", "{\"link\":\"l0\"}", false), 1);
	before = braid_gateway_counter(p->ga, "sched", "link2_sent_pkts");
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "link2_sent_pkts"), before);
	r = rpc(c, "status", NULL);
	CU_ASSERT_EQUAL(jint(r, "links.down"), 1);
	json_decref(r);
	/* ... and back. */
	json_decref(rpc(c, "links.set", json_pack("{s:s, s:s}", "name", "l2", "admin", "up")));
	braid_test_pair_run(p, 1000 * MS, true);
	CU_ASSERT_EQUAL(stat(c, "braid_link_up", "{\"link\":\"l2\"}", false), 1);
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "link2_sent_pkts") > before);

	/* Everything shows in config.get; nothing else changed. */
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(rc->links[0].weight, 3);
	CU_ASSERT_EQUAL(rc->links[1].capacity_kbps, 50000);
	CU_ASSERT(rc->links[2].admin_up);
	rc->links[0].weight = p->ca->links[0].weight;
	rc->links[1].capacity_kbps = p->ca->links[1].capacity_kbps;
	CU_ASSERT_EQUAL(memcmp(rc, p->ca, sizeof(*rc)), 0);
	braid_config_free(rc);
	r = rpc(c, "status", NULL);
	CU_ASSERT_EQUAL(jint(r, "config.generation"), 0);   /* apply calls only */
	json_decref(r);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_failed"), 0);
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "cmds_applied") >= 2);

	braid_test_pair_settle(p, 2000 * MS);
	CU_ASSERT_EQUAL(p->delivered, p->fed);
	CU_ASSERT_EQUAL(p->dups, 0);
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/* links[].backup live (the recipe's example of a setting added to the
 * diff table): a backup link goes quiet while the primaries carry the
 * stream, and carries again as a primary; every link a backup is refused
 * and nothing changes. */
static void
test_link_backup_live(void)
{
	struct gw_opts ob = opts_default;
	struct braid_test_pair *p;
	struct braid_mgmt_client *c;
	struct braid_config *rc;
	double sh[BRAID_TEST_LINKS];
	char path[64];
	json_t *r, *data = NULL;

	ob.mgmt = false;
	p = pair_create('q', 'r', &opts_default, &ob);
	CU_ASSERT_FATAL(p != NULL);
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);
	braid_test_pair_run(p, 100 * MS, true);
	r = rpc(c, "links.set", json_pack("{s:s, s:b}", "name", "l0", "backup", 1));
	CU_ASSERT(json_is_true(json_object_get(r, "backup")));
	json_decref(r);
	braid_test_pair_run(p, 50 * MS, true);
	link_shares(p, 300 * MS, sh);
	printf("\n  l0 backup: %.3f %.3f %.3f", sh[0], sh[1], sh[2]);
	CU_ASSERT(sh[0] < 0.01);
	CU_ASSERT(sh[1] > 0.45 && sh[2] > 0.45);
	/* l1 too; then l2 would leave no primary: refused by the loader. */
	json_decref(rpc(c, "links.set", json_pack("{s:s, s:b}", "name", "l1", "backup", 1)));
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:b}", "name", "l2",
				"backup", 1), path, sizeof(path), &data), BRAID_MGMT_ERR_INVALID_PARAMS);
	json_decref(data);
	data = NULL;
	braid_test_pair_run(p, 50 * MS, true);
	link_shares(p, 300 * MS, sh);
	printf(", l0+l1 backup: %.3f %.3f %.3f", sh[0], sh[1], sh[2]);
	CU_ASSERT(sh[2] > 0.98);
	/* Both primaries again: the spread is even. */
	json_decref(rpc(c, "links.set", json_pack("{s:s, s:b}", "name", "l0", "backup", 0)));
	json_decref(rpc(c, "links.set", json_pack("{s:s, s:b}", "name", "l1", "backup", 0)));
	braid_test_pair_run(p, 50 * MS, true);
	link_shares(p, 300 * MS, sh);
	printf(", none: %.3f %.3f %.3f\n", sh[0], sh[1], sh[2]);
	CU_ASSERT(sh[0] > 0.30 && sh[0] < 0.37);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(memcmp(rc, p->ca, sizeof(*rc)), 0);
	braid_config_free(rc);
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "cmds_applied") >= 4);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_failed"), 0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_dropped"), 0);
	braid_test_pair_settle(p, 2000 * MS);
	CU_ASSERT_EQUAL(p->delivered, p->fed);
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/* Parity per data packet the sender's FEC stage emits over 300 ms of the
 * stream, after @p settle_ns (blocks of the previous shape finish). */
static double
parity_ratio(struct braid_test_pair *p, uint64_t settle_ns)
{
	uint64_t d0, p0;

	braid_test_pair_run(p, settle_ns, true);
	d0 = braid_gateway_counter(p->ga, "fec", "data_protected");
	p0 = braid_gateway_counter(p->ga, "fec", "parity_sent");
	braid_test_pair_run(p, 300 * MS, true);
	return (double)(braid_gateway_counter(p->ga, "fec", "parity_sent") - p0) /
	       (double)(braid_gateway_counter(p->ga, "fec", "data_protected") - d0);
}

/* classes.list and classes.set: bad values named by path; FEC live
 * (parity ratio, also above the start's largest). */
static void
test_classes(void)
{
	struct gw_opts ob = opts_default;
	struct braid_test_pair *p;
	struct braid_mgmt_client *c;
	json_t *r, *data = NULL;
	struct braid_config *rc;
	uint64_t p0;
	double ratio;
	char path[64];

	ob.mgmt = false;
	p = pair_create('c', 'd', &opts_default, &ob);
	CU_ASSERT_FATAL(p != NULL);
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);
	braid_test_pair_run(p, 400 * MS, true);

	r = rpc(c, "classes.list", NULL);
	CU_ASSERT_EQUAL(json_array_size(jget(r, "classes")), 2);
	CU_ASSERT_STRING_EQUAL(jstr(r, "classes.0.name"), "video");
	CU_ASSERT_EQUAL(jint(r, "classes.0.weight"), 3);
	CU_ASSERT(json_is_false(jget(r, "classes.0.priority")));
	CU_ASSERT_EQUAL(jint(r, "classes.0.queue_packets"), 4096);
	CU_ASSERT_EQUAL(jint(r, "classes.0.fec.k"), 4);
	CU_ASSERT_EQUAL(jint(r, "classes.0.fec.m"), 2);
	CU_ASSERT(json_is_true(jget(r, "classes.0.arq.enabled")));
	CU_ASSERT_EQUAL(jint(r, "classes.0.arq.deadline_ms"), 300);
	CU_ASSERT_STRING_EQUAL(jstr(r, "classes.0.policy.mode"), "stripe");
	CU_ASSERT(json_is_integer(jget(r, "classes.0.queued")));
	CU_ASSERT(jint(r, "classes.0.tx_packets") > 0);
	CU_ASSERT(jint(r, "classes.0.tx_bytes") > 0);
	CU_ASSERT_EQUAL(jint(r, "classes.0.drops"), 0);
	CU_ASSERT_PTR_NULL(jget(r, "classes.0.match"));
	/* Every link is in time for its 300 ms deadline; no shortfall. */
	CU_ASSERT_EQUAL(json_array_size(jget(r, "classes.0.links_in_time")), BRAID_TEST_LINKS);
	CU_ASSERT_STRING_EQUAL(jstr(r, "classes.0.links_in_time.0"), "l0");
	CU_ASSERT(json_is_false(jget(r, "classes.0.shortfall.now")));
	CU_ASSERT_EQUAL(jint(r, "classes.0.shortfall.count"), 0);
	CU_ASSERT_STRING_EQUAL(jstr(r, "classes.1.fec"), "off");
	json_decref(r);
	CU_ASSERT_EQUAL(rpc_err(c, "classes.list", json_pack("[i]", 1), NULL, 0, NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);

	/* Errors: bad values name the member; nothing changes. */
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:{s:i, s:i}}", "name",
			"video", "fec", "k", 40, "m", 4), path, sizeof(path), &data),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.fec.k");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(data, "reason")),
			       "must be an integer in 1..32 (got 40)");
	json_decref(data);
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:i}", "name", "voice",
			"weight", 2), path, sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.name");
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:{s:s, s:i}}", "name",
			"video", "policy", "mode", "duplicate", "copies", 9), path, sizeof(path),
			NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.policy.copies");
	/* A priority class needs a rate cap: the loader's rule, by path. */
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:b}", "name", "video",
			"priority", 1), NULL, 0, NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	/* A weight change together with a bad value: neither happens. */
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:i, s:{s:i}}", "name",
			"video", "weight", 7, "arq", "deadline_ms", 0), path, sizeof(path),
			NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.arq.deadline_ms");
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(memcmp(rc, p->ca, sizeof(*rc)), 0);
	braid_config_free(rc);
	/* arq unchanged (the value it has) is no change: accepted. */
	r = rpc(c, "classes.set", json_pack("{s:s, s:i, s:{s:b}}", "name", "bulk",
		"weight", 2, "arq", "enabled", 1));
	CU_ASSERT_EQUAL(jint(r, "weight"), 2);
	CU_ASSERT(json_is_true(jget(r, "arq.enabled")));
	json_decref(r);

	/* FEC (4, 2) -> (4, 1): the parity ratio of new blocks halves. */
	ratio = parity_ratio(p, 50 * MS);
	printf("\n  parity/data before: %.3f", ratio);
	CU_ASSERT(ratio > 0.45 && ratio < 0.6);
	r = rpc(c, "classes.set", json_pack("{s:s, s:{s:i, s:i}}", "name", "video",
		"fec", "k", 4, "m", 1));
	CU_ASSERT_STRING_EQUAL(jstr(r, "name"), "video");
	CU_ASSERT_EQUAL(jint(r, "fec.k"), 4);
	CU_ASSERT_EQUAL(jint(r, "fec.m"), 1);
	CU_ASSERT_EQUAL(jint(r, "weight"), 3);
	CU_ASSERT_PTR_NULL(jget(r, "match"));
	json_decref(r);
	ratio = parity_ratio(p, 50 * MS);
	printf(", after (4,1): %.3f\n", ratio);
	CU_ASSERT(ratio > 0.22 && ratio < 0.3);
	CU_ASSERT(braid_gateway_counter(p->ga, "fec", "cmds_applied") == 1);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "fec", "cmds_failed"), 0);
	/* FEC off, then on again. */
	json_decref(rpc(c, "classes.set", json_pack("{s:s, s:s}", "name", "video", "fec", "off")));
	braid_test_pair_run(p, 100 * MS, true);
	p0 = braid_gateway_counter(p->ga, "fec", "parity_sent");
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "fec", "parity_sent"), p0);
	/* A ratio above the largest the gateway started with (4,2): the
	 * scheduler grows its link buckets for it. */
	r = rpc(c, "classes.set", json_pack("{s:s, s:{s:i, s:i}}", "name", "video",
		"fec", "k", 2, "m", 2));
	CU_ASSERT_EQUAL(jint(r, "fec.m"), 2);
	json_decref(r);
	ratio = parity_ratio(p, 100 * MS);
	printf("  after (2,2): %.3f\n", ratio);
	CU_ASSERT(ratio > 0.9 && ratio < 1.1);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_failed"), 0);
	r = rpc(c, "classes.set", json_pack("{s:s, s:{s:i, s:i}}", "name", "video",
		"fec", "k", 8, "m", 4));
	CU_ASSERT_EQUAL(jint(r, "fec.k"), 8);
	json_decref(r);
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT(braid_gateway_counter(p->ga, "fec", "parity_sent") > p0);

	r = rpc(c, "classes.list", NULL);
	CU_ASSERT_EQUAL(jint(r, "classes.0.fec.k"), 8);
	CU_ASSERT_EQUAL(jint(r, "classes.0.fec.m"), 4);
	CU_ASSERT_EQUAL(jint(r, "classes.1.weight"), 2);
	json_decref(r);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT(rc->classes[0].fec_enabled);
	CU_ASSERT_EQUAL(rc->classes[0].fec_k, 8);
	CU_ASSERT_EQUAL(rc->classes[0].fec_m, 4);
	CU_ASSERT_EQUAL(rc->classes[1].weight, 2);
	braid_config_free(rc);

	braid_test_pair_settle(p, 2000 * MS);
	CU_ASSERT_EQUAL(p->delivered, p->fed);
	CU_ASSERT_EQUAL(p->dups, 0);
	CU_ASSERT_EQUAL(p->out_of_order, 0);
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/*
 * A class's ARQ, priority and link policy change while the stream flows
 * (classes.set on the sender; the receiver keeps its own settings):
 *  - ARQ off: the sender caches nothing more for the class, so under 2 %
 *    loss without FEC packets stay lost; on again (another deadline):
 *    caching resumes and nothing more is lost;
 *  - policy duplicate(2): every packet goes twice; pin to one link: the
 *    others carry none of the class; stripe again;
 *  - priority with a cap and back; a second priority class is refused by
 *    the loader (path named), and a change of priority from one class to
 *    the other in one config.apply works (off before on).
 * Every command is applied (none failed); in order, no duplicate
 * delivered.
 */
static void
test_class_modes_live(void)
{
	struct gw_opts oa = opts_default, ob;
	struct braid_mgmt_client *c;
	struct braid_test_pair *p;
	struct braid_config *rc;
	uint64_t s0, lost0, dup0, l0, l2;
	char path[64];
	json_t *r;

	oa.video_fec = "\"off\"";
	oa.video_arq = true;
	oa.bulk_arq = false;
	ob = oa;
	ob.mgmt = false;
	p = pair_create('m', 'n', &oa, &ob);
	CU_ASSERT_FATAL(p != NULL);
	p->mix = false;                /* video only: its losses are ARQ's */
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);
	braid_test_pair_run(p, 300 * MS, true);

	/* ARQ repairs 2 % loss. */
	p->imp.loss[0] = 0.02;
	braid_test_pair_run(p, 500 * MS, true);
	p->imp.loss[0] = 0;
	braid_test_pair_settle(p, 1500 * MS);
	CU_ASSERT_EQUAL(p->delivered, p->fed);
	CU_ASSERT(p->imp.lost[0] > 0);

	/* ARQ off: nothing cached, losses stay. */
	r = rpc(c, "classes.set", json_pack("{s:s, s:{s:b}}", "name", "video",
		"arq", "enabled", 0));
	CU_ASSERT(json_is_false(jget(r, "arq.enabled")));
	json_decref(r);
	braid_test_pair_run(p, 20 * MS, true);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "rtx", "cmds_applied"), 1);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "reorder", "cmds_applied"), 1);
	s0 = braid_gateway_counter(p->ga, "rtx", "stored");
	p->imp.loss[0] = 0.02;
	braid_test_pair_run(p, 500 * MS, true);
	p->imp.loss[0] = 0;
	braid_test_pair_settle(p, 1500 * MS);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "rtx", "stored"), s0);
	lost0 = p->fed - p->delivered;
	printf("\n  ARQ off: %" PRIu64 " packets lost", lost0);
	CU_ASSERT(lost0 > 0);

	/* On again, another deadline: caching resumes, nothing more lost. */
	r = rpc(c, "classes.set", json_pack("{s:s, s:{s:b, s:i}}", "name", "video",
		"arq", "enabled", 1, "deadline_ms", 250));
	CU_ASSERT(json_is_true(jget(r, "arq.enabled")));
	CU_ASSERT_EQUAL(jint(r, "arq.deadline_ms"), 250);
	json_decref(r);
	/* The deadline in force for links in time and automatic FEC. */
	CU_ASSERT_EQUAL(gw_class_deadline_now(p->ga, 0), 250 * MS);
	braid_test_pair_run(p, 20 * MS, true);
	p->imp.loss[0] = 0.02;
	braid_test_pair_run(p, 500 * MS, true);
	p->imp.loss[0] = 0;
	braid_test_pair_settle(p, 1500 * MS);
	CU_ASSERT(braid_gateway_counter(p->ga, "rtx", "stored") > s0);
	printf(", on again: %" PRIu64 "\n", p->fed - p->delivered);
	CU_ASSERT_EQUAL(p->fed - p->delivered, lost0);

	/* Duplicate on two links, pinned to l1, stripe again. */
	json_decref(rpc(c, "classes.set", json_pack("{s:s, s:{s:s, s:i}}", "name", "video",
		"policy", "mode", "duplicate", "copies", 2)));
	braid_test_pair_run(p, 20 * MS, true);
	dup0 = braid_gateway_counter(p->ga, "sched", "duplicates");
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "duplicates") - dup0 > 100);
	json_decref(rpc(c, "classes.set", json_pack("{s:s, s:{s:s, s:[s]}}", "name", "video",
		"policy", "mode", "pin", "links", "l1")));
	braid_test_pair_run(p, 20 * MS, true);
	dup0 = braid_gateway_counter(p->ga, "sched", "duplicates");
	l0 = braid_gateway_counter(p->ga, "sched", "link0_sent_pkts");
	l2 = braid_gateway_counter(p->ga, "sched", "link2_sent_pkts");
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "duplicates"), dup0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "link0_sent_pkts"), l0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "link2_sent_pkts"), l2);
	json_decref(rpc(c, "classes.set", json_pack("{s:s, s:{s:s}}", "name", "video",
		"policy", "mode", "stripe")));
	braid_test_pair_run(p, 200 * MS, true);
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "link0_sent_pkts") > l0);

	/* Priority with a cap, a second one refused, moved by config.apply. */
	r = rpc(c, "classes.set", json_pack("{s:s, s:b, s:i}", "name", "bulk",
		"priority", 1, "rate_cap_kbps", 1000));
	CU_ASSERT(json_is_true(jget(r, "priority")));
	json_decref(r);
	CU_ASSERT_EQUAL(rpc_err(c, "classes.set", json_pack("{s:s, s:b, s:i}", "name", "video",
			"priority", 1, "rate_cap_kbps", 1000), path, sizeof(path), NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	printf("  second priority class: %s\n", path);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT(rc->classes[1].priority && !rc->classes[0].priority);
	rc->classes[1].priority = false;
	rc->classes[1].rate_cap_kbps = 0;
	rc->classes[0].priority = true;
	rc->classes[0].rate_cap_kbps = 20000;
	r = rpc(c, "config.apply", braid_config_to_json(rc));
	CU_ASSERT_PTR_NOT_NULL(r);
	json_decref(r);
	braid_config_free(rc);
	braid_test_pair_run(p, 300 * MS, true);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT(rc->classes[0].priority && !rc->classes[1].priority);
	braid_config_free(rc);

	braid_test_pair_settle(p, 1500 * MS);
	CU_ASSERT_EQUAL(p->fed - p->delivered, lost0);
	CU_ASSERT_EQUAL(p->dups, 0);
	CU_ASSERT_EQUAL(p->out_of_order, 0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_failed"), 0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "rtx", "cmds_failed"), 0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "reorder", "cmds_failed"), 0);
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/* Saturated links: a class weight change moves the class share. */
static void
test_class_share(void)
{
	struct gw_opts oa = opts_default, ob;
	struct braid_test_pair *p;
	struct braid_mgmt_client *c;
	uint64_t v0, b0, v1, b1;
	double share;

	oa.link_kbps = 2000;
	oa.video_fec = "\"off\"";
	oa.video_arq = oa.bulk_arq = false;
	ob = oa;
	ob.mgmt = false;
	p = pair_create('e', 'f', &oa, &ob);
	CU_ASSERT_FATAL(p != NULL);
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);
	p->gap_ns = 500000;            /* 16 Mbit/s offered to 6 */
	braid_test_pair_run(p, 1000 * MS, true);
	v0 = braid_gateway_counter(p->ga, "sched", "class0_bytes");
	b0 = braid_gateway_counter(p->ga, "sched", "class1_bytes");
	braid_test_pair_run(p, 1000 * MS, true);
	v1 = braid_gateway_counter(p->ga, "sched", "class0_bytes") - v0;
	b1 = braid_gateway_counter(p->ga, "sched", "class1_bytes") - b0;
	share = (double)v1 / (double)(v1 + b1);
	printf("\n  video share at 3:1 %.4f", share);
	CU_ASSERT(share > 0.72 && share < 0.78);

	json_decref(rpc(c, "classes.set", json_pack("{s:s, s:i}", "name", "video", "weight", 1)));
	braid_test_pair_run(p, 300 * MS, true);
	v0 = braid_gateway_counter(p->ga, "sched", "class0_bytes");
	b0 = braid_gateway_counter(p->ga, "sched", "class1_bytes");
	braid_test_pair_run(p, 1000 * MS, true);
	v1 = braid_gateway_counter(p->ga, "sched", "class0_bytes") - v0;
	b1 = braid_gateway_counter(p->ga, "sched", "class1_bytes") - b0;
	share = (double)v1 / (double)(v1 + b1);
	printf(", at 1:1 %.4f\n", share);
	CU_ASSERT(share > 0.47 && share < 0.53);
	/* The queues are full: the gauge shows it, drops are counted. */
	CU_ASSERT(stat(c, "braid_class_queue_packets", "{\"class\":\"bulk\"}", false) > 1000);
	CU_ASSERT(!isnan(stat(c, "braid_stage_dropped_packets_total",
		"{\"stage\":\"sched\",\"class\":\"bulk\",\"reason\":\"queue_full\"}", false)));
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/* config.get / config.apply / config.save / counters.reset / stats names /
 * Prometheus / shutdown hook, on a gateway started from a file. */
static void
test_config_and_stats(void)
{
	struct gw_opts oa = opts_default, ob = opts_default;
	struct braid_config *rc, *saved;
	struct braid_config_errors errs;
	struct braid_mgmt_client *c;
	json_t *doc, *r, *data = NULL, *s;
	char file[128], other[160], path[64], *text;
	struct braid_test_pair *p;
	double v, raw;
	size_t i;
	FILE *f;

	oa.metrics = true;
	ob.mgmt = false;
	p = braid_test_pair_new(host_pool, &seed);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(braid_test_side_make(&p->a, "m", 'g', 1) == 0 && braid_test_side_make(&p->b, "m", 'h', 2) == 0);
	/* a is started from a file, as the daemon does. */
	snprintf(file, sizeof(file), "%s/gw.json", tmpdir);
	text = side_json(&p->a, &oa);
	f = fopen(file, "w");
	CU_ASSERT_FATAL(f != NULL && text != NULL);
	fputs(text, f);
	fclose(f);
	free(text);
	p->ca = braid_config_load_file(file, &errs);
	p->cb = side_config(&p->b, &ob);
	CU_ASSERT_FATAL(p->ca != NULL && p->cb != NULL);
	p->ga = make_gateway(p->ca, 0xa0000003, file);
	p->gb = make_gateway(p->cb, 0xb0000003, NULL);
	CU_ASSERT_FATAL(p->ga != NULL && p->gb != NULL);
	p->gap_ns = 200000;
	p->payload = 1000;
	p->mix = true;
	c = client(p->ga);
	CU_ASSERT_FATAL(c != NULL);
	braid_test_pair_run(p, 400 * MS, true);

	r = rpc(c, "status", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "config.file"), file);
	CU_ASSERT(json_is_true(jget(r, "config.saved")));
	json_decref(r);

	/* config.get is the running config, complete: it loads back equal. */
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(memcmp(rc, p->ca, sizeof(*rc)), 0);
	braid_config_free(rc);
	CU_ASSERT_EQUAL(rpc_err(c, "config.get", json_pack("{s:i}", "x", 1), NULL, 0, NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);

	/* config.apply: a live change is applied. */
	doc = rpc(c, "config.get", NULL);
	json_integer_set(jget(doc, "links.0.weight"), 7);
	json_integer_set(jget(doc, "classes.1.weight"), 2);
	r = rpc(c, "config.apply", json_deep_copy(doc));
	CU_ASSERT_EQUAL(jint(r, "generation"), 1);
	CU_ASSERT_EQUAL(json_array_size(jget(r, "changed")), 2);
	CU_ASSERT_STRING_EQUAL(jstr(r, "changed.0"), "links[0].weight");
	CU_ASSERT_STRING_EQUAL(jstr(r, "changed.1"), "classes[1].weight");
	CU_ASSERT_EQUAL(json_array_size(jget(r, "restart_needed")), 0);
	json_decref(r);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(rc->links[0].weight, 7);
	CU_ASSERT_EQUAL(rc->classes[1].weight, 2);
	braid_config_free(rc);
	r = rpc(c, "status", NULL);
	CU_ASSERT_EQUAL(jint(r, "config.generation"), 1);
	CU_ASSERT(json_is_false(jget(r, "config.saved")));
	json_decref(r);
	CU_ASSERT_EQUAL(stat(c, "braid_config_generation", "{\"gateway\":\"gmg\"}", false), 1);

	/* A device change needs a restart: refused, nothing changes, not
	 * even the live change that came with it. */
	json_integer_set(jget(doc, "links.0.weight"), 9);
	json_object_set_new(jget(doc, "ports.1"), "device", json_string("net_ring_zz"));
	CU_ASSERT_EQUAL(rpc_err(c, "config.apply", json_deep_copy(doc), NULL, 0, &data),
			BRAID_MGMT_ERR_FAILED);
	CU_ASSERT(strstr(json_string_value(json_object_get(data, "reason")),
			 "ports[1].device") != NULL);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(data, "restart_needed")), 1);
	json_decref(data);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(rc->links[0].weight, 7);
	CU_ASSERT_STRING_EQUAL(rc->ports[1].device, "net_ring_mg_wan0");
	braid_config_free(rc);
	/* An invalid document: the loader's path and the full list. */
	json_object_set_new(jget(doc, "ports.1"), "device", json_string("net_ring_mg_wan0"));
	json_integer_set(jget(doc, "classes.0.weight"), 0);
	CU_ASSERT_EQUAL(rpc_err(c, "config.apply", json_deep_copy(doc), path, sizeof(path),
				&data), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.classes[0].weight");
	CU_ASSERT_STRING_EQUAL(jstr(data, "errors.0.path"), "$.classes[0].weight");
	CU_ASSERT_STRING_EQUAL(jstr(data, "errors.0.reason"),
			       "must be an integer in 1..1000 (got 0)");
	json_decref(data);
	CU_ASSERT_EQUAL(rpc_err(c, "config.apply", NULL, path, sizeof(path), NULL),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT(strncmp(path, "$", 1) == 0);
	json_decref(doc);
	r = rpc(c, "status", NULL);
	CU_ASSERT_EQUAL(jint(r, "config.generation"), 1);
	json_decref(r);

	/* config.save: to the file braid was started with, round trip. */
	r = rpc(c, "config.save", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "path"), file);
	CU_ASSERT(jint(r, "bytes") > 1000);
	json_decref(r);
	saved = braid_config_load_file(file, &errs);
	CU_ASSERT_FATAL(saved != NULL);
	rc = running_config(c);
	CU_ASSERT_FATAL(rc != NULL);
	CU_ASSERT_EQUAL(memcmp(rc, saved, sizeof(*rc)), 0);
	CU_ASSERT_EQUAL(saved->links[0].weight, 7);
	braid_config_free(saved);
	braid_config_free(rc);
	r = rpc(c, "status", NULL);
	CU_ASSERT(json_is_true(jget(r, "config.saved")));
	json_decref(r);
	snprintf(other, sizeof(other), "%s/other.json", tmpdir);
	r = rpc(c, "config.save", json_pack("{s:s}", "path", other));
	CU_ASSERT_STRING_EQUAL(jstr(r, "path"), other);
	json_decref(r);
	saved = braid_config_load_file(other, &errs);
	CU_ASSERT(saved != NULL && saved->links[0].weight == 7);
	braid_config_free(saved);
	/* Only inside the start file's directory (management.save_dir unset):
	 * not elsewhere, not up and out, not through a symbolic link. */
	CU_ASSERT_EQUAL(rpc_err(c, "config.save", json_pack("{s:s}", "path",
			"/nonexistent/x.json"), path, sizeof(path), &data),
			BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.path");
	json_decref(data);
	CU_ASSERT_EQUAL(rpc_err(c, "config.save", json_pack("{s:s}", "path", "../x.json"), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	snprintf(other, sizeof(other), "%s/link.json", tmpdir);
	CU_ASSERT_FATAL(symlink("/tmp/braid-save-target.json", other) == 0);
	CU_ASSERT_EQUAL(rpc_err(c, "config.save", json_pack("{s:s}", "path", other), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT(access("/tmp/braid-save-target.json", F_OK) != 0);
	unlink(other);
	/* a relative path is taken from the save directory */
	r = rpc(c, "config.save", json_pack("{s:s}", "path", "rel.json"));
	snprintf(other, sizeof(other), "%s/rel.json", tmpdir);
	CU_ASSERT(r != NULL && strcmp(jstr(r, "path"), other) == 0 && access(other, F_OK) == 0);
	json_decref(r);
	unlink(other);
	CU_ASSERT_EQUAL(rpc_err(c, "config.save", json_pack("{s:i}", "path", 3), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.path");
	CU_ASSERT_EQUAL(rpc_err(c, "config.save", json_pack("{s:s}", "file", "x"), path,
			sizeof(path), NULL), BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(path, "$.file");

	/* Metric names follow the doc. */
	r = rpc(c, "stats", json_pack("{s:b}", "raw", 1));
	CU_ASSERT(json_array_size(jget(r, "samples")) > 100);
	json_array_foreach(jget(r, "samples"), i, s) {
		const char *n = jstr(s, "name"), *t = jstr(s, "type");
		size_t len = strlen(n);
		bool total = len > 6 && strcmp(n + len - 6, "_total") == 0;

		CU_ASSERT(fnmatch("braid_[a-z]*", n, 0) == 0);
		CU_ASSERT(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_") == len);
		CU_ASSERT(strstr(n, "pkts") == NULL && strstr(n, "_us_") == NULL);
		if (strcmp(t, "counter") == 0 && !total)
			printf("\n    counter without _total: %s", n);
		CU_ASSERT(strcmp(t, "counter") == 0 ? total : !total);
	}
	json_decref(r);
	CU_ASSERT(stat(c, "braid_port_rx_packets_total", "{\"port\":\"lan0\"}", true) > 0);
	CU_ASSERT(stat(c, "braid_port_tx_packets_total", "{\"port\":\"wan1\"}", true) > 0);
	CU_ASSERT(stat(c, "braid_link_tx_bytes_total", "{\"link\":\"l0\"}", true) > 0);
	CU_ASSERT(stat(c, "braid_stage_packets_in_total", "{\"stage\":\"sched\"}", true) > 0);
	CU_ASSERT_EQUAL(stat(c, "braid_stage_dropped_packets_total",
			     "{\"stage\":\"sched\",\"class\":\"video\",\"reason\":\"queue_full\"}",
			     true), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_stage_dropped_packets_total",
			     "{\"stage\":\"link_health\",\"reason\":\"out_full\"}", true), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_stage_cmds_failed_total", "{\"stage\":\"sched\"}",
			     true), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_link_up", "{\"link\":\"l0\"}", true), 1);
	v = stat(c, "braid_link_rtt_seconds", "{\"link\":\"l0\"}", true);
	CU_ASSERT(v > 0 && v < 0.01);
	CU_ASSERT(stat(c, "braid_link_usable_capacity_bits_per_second", "{\"link\":\"l0\"}",
		       true) > 0);
	CU_ASSERT(stat(c, "braid_class_queue_packets", "{\"class\":\"video\"}", true) >= 0);
	CU_ASSERT_EQUAL(stat(c, "braid_fec_recovered_packets_total", "{\"class\":\"video\"}",
			     true), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_arq_recovered_packets_total", "{\"class\":\"bulk\"}",
			     true), 0);
	CU_ASSERT(stat(c, "braid_lcore_loops_total", "{\"lcore\":\"1\"}", true) > 0);
	CU_ASSERT_EQUAL(stat(c, "braid_mgmt_invalid_samples_total", "{}", true), 0);

	/* counters.reset: a baseline for stats, raw values untouched. */
	raw = stat(c, "braid_port_rx_packets_total", "{\"port\":\"lan0\"}", true);
	r = rpc(c, "counters.reset", NULL);
	CU_ASSERT(jint(r, "counters") > 100);
	json_decref(r);
	CU_ASSERT_EQUAL(stat(c, "braid_port_rx_packets_total", "{\"port\":\"lan0\"}", false), 0);
	braid_test_pair_run(p, 100 * MS, true);
	v = stat(c, "braid_port_rx_packets_total", "{\"port\":\"lan0\"}", false);
	CU_ASSERT(v >= 400 && v <= 600);     /* 100 ms at 5000 pps */
	CU_ASSERT_EQUAL(stat(c, "braid_port_rx_packets_total", "{\"port\":\"lan0\"}", true),
			raw + v);
	/* Gauges have no baseline. */
	CU_ASSERT_EQUAL(stat(c, "braid_link_up", "{\"link\":\"l0\"}", false), 1);

	/* The Prometheus endpoint on the metrics port. */
	{
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(braid_gateway_metrics_port(p->ga)),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		static char buf[1 << 20];
		const char *req = "GET /metrics HTTP/1.1\r\nHost: gw\r\n\r\n";
		size_t got = 0;
		ssize_t n;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		CU_ASSERT(braid_gateway_metrics_port(p->ga) != 0);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CU_ASSERT(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
		while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		close(fd);
		CU_ASSERT(strncmp(buf, "HTTP/1.1 200", 12) == 0);
		CU_ASSERT(strstr(buf, "# TYPE braid_link_up gauge\n") != NULL);
		CU_ASSERT(strstr(buf, "\nbraid_link_up{link=\"l0\"} 1\n") != NULL);
		CU_ASSERT(strstr(buf, "# TYPE braid_port_rx_packets_total counter\n") != NULL);
		CU_ASSERT(strstr(buf, "# TYPE braid_stage_dropped_packets_total counter\n") != NULL);
	}

	/* The shutdown hook: the reply, then the runner stops; the main
	 * lcore's loop returns and reports it once. */
	shutdown_calls = 0;
	r = rpc(c, "shutdown", NULL);
	CU_ASSERT(json_is_true(jget(r, "stopping")));
	json_decref(r);
	for (int t = 0; t < 500 && !braid_runner_stopping(braid_gateway_runner(p->ga)); t++)
		usleep(10000);
	CU_ASSERT(braid_runner_stopping(braid_gateway_runner(p->ga)));
	r = rpc(c, "status", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "state"), "stopping");
	json_decref(r);
	CU_ASSERT_EQUAL(braid_gateway_run_main(p->ga), 0);
	CU_ASSERT_EQUAL(shutdown_calls, 1);
	CU_ASSERT_EQUAL(braid_gateway_run_main(p->ga), 0);
	CU_ASSERT_EQUAL(shutdown_calls, 1);

	braid_mgmt_client_close(c);
	unlink(other);
	unlink(file);
	pair_destroy(p);
}

/* config.apply from another thread while traffic flows. */
struct applier {
	struct braid_gateway *gw;
	int n;                     /* applies to make */
	int ok, failed;
	int done;                  /* atomic */
};

static void *
apply_loop(void *arg)
{
	struct applier *ap = arg;
	struct braid_mgmt_client *c;
	json_t *doc;

	c = braid_mgmt_client_connect("127.0.0.1", braid_gateway_mgmt_port(ap->gw), IO_MS);
	doc = NULL;
	if (c != NULL) {
		struct braid_mgmt_error err = { 0 };

		if (braid_mgmt_client_call(c, "config.get", NULL, &doc, &err) != 0)
			doc = NULL;
	}
	for (int i = 0; doc != NULL && i < ap->n; i++) {
		struct braid_mgmt_error err = { 0 };
		json_t *res = NULL;
		int odd = i % 2;

		json_integer_set(jget(doc, "links.0.weight"), odd ? 4 : 1);
		json_integer_set(jget(doc, "links.1.capacity_kbps"), odd ? 80000 : 100000);
		json_integer_set(jget(doc, "classes.0.weight"), odd ? 1 : 3);
		json_integer_set(jget(doc, "classes.1.weight"), odd ? 5 : 1);
		json_object_set_new(jget(doc, "classes.0"), "fec", odd ?
				    json_pack("{s:i, s:i}", "k", 2, "m", 1) :
				    json_pack("{s:i, s:i}", "k", 4, "m", 2));
		if (braid_mgmt_client_call(c, "config.apply", doc, &res, &err) == 0)
			ap->ok++;
		else
			ap->failed++;
		json_decref(res);
		json_decref(err.data);
		usleep(3000);
	}
	json_decref(doc);
	braid_mgmt_client_close(c);
	__atomic_store_n(&ap->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_apply_under_traffic(void)
{
	struct gw_opts ob = opts_default;
	struct applier ap = { .n = 40 };
	struct braid_test_pair *p;
	pthread_t th;
	uint64_t da, db, applied;

	ob.mgmt = false;
	p = pair_create('i', 'j', &opts_default, &ob);
	CU_ASSERT_FATAL(p != NULL);
	braid_test_pair_run(p, 300 * MS, true);
	ap.gw = p->ga;
	applied = braid_gateway_counter(p->ga, "sched", "cmds_applied");
	CU_ASSERT_FATAL(pthread_create(&th, NULL, apply_loop, &ap) == 0);
	while (!__atomic_load_n(&ap.done, __ATOMIC_ACQUIRE) && p->fed < MAX_SEQ - 10000)
		braid_test_pair_run(p, 1 * MS, true);
	pthread_join(th, NULL);
	braid_test_pair_run(p, 100 * MS, true);
	braid_test_pair_settle(p, 3000 * MS);
	da = drops(p->ga);
	db = drops(p->gb);
	printf("\n  applies %d ok %d failed; fed %" PRIu64 ", delivered %" PRIu64
	       ", drops %" PRIu64 "+%" PRIu64 ", sched commands %" PRIu64 "\n", ap.ok,
	       ap.failed, p->fed, p->delivered, da, db,
	       braid_gateway_counter(p->ga, "sched", "cmds_applied") - applied);
	CU_ASSERT_EQUAL(ap.ok, ap.n);
	CU_ASSERT_EQUAL(ap.failed, 0);
	/* Packets in = packets out + counted drops, and no drop at all. */
	CU_ASSERT_EQUAL(p->fed, p->delivered + da + db);
	CU_ASSERT_EQUAL(da + db, 0);
	CU_ASSERT_EQUAL(p->dups, 0);
	CU_ASSERT_EQUAL(p->out_of_order, 0);
	/* The first apply changes nothing; each later one flips the link and
	 * class weights, a capacity (4 scheduler commands) and the FEC. */
	CU_ASSERT(braid_gateway_counter(p->ga, "sched", "cmds_applied") - applied >= (uint64_t)4 * (ap.n - 1));
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "sched", "cmds_failed"), 0);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "fec", "cmds_applied"), (uint64_t)ap.n - 1);
	CU_ASSERT_EQUAL(braid_gateway_counter(p->ga, "fec", "cmds_failed"), 0);
	pair_destroy(p);
}

/* Under loss: the recovery metrics (receiver's management port) are the
 * stages' own counters, under the doc's names. */
static void
test_recovery_metrics(void)
{
	struct gw_opts oa = opts_default, ob;
	struct braid_mgmt_client *c;
	struct braid_test_pair *p;
	double fec, arq;

	oa.video_arq = false;          /* video: FEC only; bulk: ARQ only */
	ob = oa;
	oa.mgmt = false;
	p = pair_create('k', 'l', &oa, &ob);
	CU_ASSERT_FATAL(p != NULL);
	c = client(p->gb);
	CU_ASSERT_FATAL(c != NULL);
	braid_test_pair_run(p, 300 * MS, true);
	p->imp.loss[0] = 0.02;
	braid_test_pair_run(p, 1000 * MS, true);
	p->imp.loss[0] = 0;
	braid_test_pair_settle(p, 3000 * MS);
	fec = stat(c, "braid_fec_recovered_packets_total", "{\"class\":\"video\"}", true);
	arq = stat(c, "braid_arq_recovered_packets_total", "{\"class\":\"bulk\"}", true);
	printf("\n  lost frames %" PRIu64 ", fec recovered %.0f, arq recovered %.0f, "
	       "delivered %" PRIu64 "/%" PRIu64 "\n", p->imp.lost[0], fec, arq,
	       p->delivered, p->fed);
	CU_ASSERT(fec > 0);
	CU_ASSERT(arq > 0);
	CU_ASSERT_EQUAL(fec, (double)braid_gateway_counter(p->gb, "fec_decode", "pieces_recovered"));
	CU_ASSERT_EQUAL(arq, (double)braid_gateway_counter(p->gb, "arq_rx", "recovered"));
	CU_ASSERT_EQUAL(stat(c, "braid_arq_recovered_packets_total", "{\"class\":\"video\"}",
			     true), 0);
	CU_ASSERT_EQUAL(stat(c, "braid_stage_recovered_total", "{\"stage\":\"arq_rx\"}", true),
			arq);
	CU_ASSERT_EQUAL(p->delivered, p->fed);
	CU_ASSERT_EQUAL(p->dups, 0);
	braid_mgmt_client_close(c);
	pair_destroy(p);
}

/* The token from management.token_file; a bad file fails the build;
 * management off in the config or in the conf: no server. */
static void
test_token_and_switches(void)
{
	struct gw_opts o = opts_default;
	struct braid_test_side s;
	struct braid_config *cfg;
	struct braid_gateway *gw;
	struct braid_gateway_conf gc = { .profile_dir = PROFILE_DIR, .session_id = 7,
					 .mgmt = true, .mgmt_ephemeral = true };
	struct braid_mgmt_client *c;
	char tf[128], err[256];
	json_t *r;
	FILE *f;

	snprintf(tf, sizeof(tf), "%s/token", tmpdir);
	f = fopen(tf, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("s3cret-token\n", f);
	fclose(f);
	o.token_file = tf;
	CU_ASSERT_FATAL(braid_test_side_make(&s, "m", 'm', 1) == 0);
	cfg = side_config(&s, &o);
	CU_ASSERT_FATAL(cfg != NULL);
	gc.cfg = cfg;
	gw = braid_gateway_create(&gc, err, sizeof(err));
	CU_ASSERT_FATAL(gw != NULL);
	c = client(gw);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(rpc_err(c, "status", NULL, NULL, 0, NULL), BRAID_MGMT_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(rpc_err(c, "links.set", json_pack("{s:s, s:i}", "name", "l0",
			"weight", 5), NULL, 0, NULL), BRAID_MGMT_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(braid_mgmt_client_set_token(c, "s3cret-token"), 0);
	r = rpc(c, "status", NULL);
	CU_ASSERT_STRING_EQUAL(jstr(r, "name"), "gmm");
	json_decref(r);
	braid_mgmt_client_close(c);
	CU_ASSERT_EQUAL(braid_gateway_shutdown(gw), 0);
	braid_gateway_free(gw);
	braid_test_side_destroy(&s);

	/* An empty token file: the gateway is not built, the reason says why. */
	f = fopen(tf, "w");
	CU_ASSERT_FATAL(f != NULL);
	fclose(f);
	CU_ASSERT_FATAL(braid_test_side_make(&s, "m", 'm', 1) == 0);
	gw = braid_gateway_create(&gc, err, sizeof(err));
	CU_ASSERT_PTR_NULL(gw);
	CU_ASSERT(strstr(err, "token file") != NULL);
	braid_gateway_free(gw);
	braid_test_side_destroy(&s);
	braid_config_free(cfg);

	/* management.enabled false, and conf.mgmt false: no server. */
	o.token_file = NULL;
	o.mgmt = false;
	CU_ASSERT_FATAL(braid_test_side_make(&s, "m", 'm', 1) == 0);
	cfg = side_config(&s, &o);
	gc.cfg = cfg;
	gw = braid_gateway_create(&gc, err, sizeof(err));
	CU_ASSERT_FATAL(gw != NULL);
	CU_ASSERT_EQUAL(braid_gateway_mgmt_port(gw), 0);
	CU_ASSERT_EQUAL(braid_gateway_metrics_port(gw), 0);
	braid_gateway_free(gw);
	braid_test_side_destroy(&s);
	braid_config_free(cfg);
	o.mgmt = true;
	CU_ASSERT_FATAL(braid_test_side_make(&s, "m", 'm', 1) == 0);
	cfg = side_config(&s, &o);
	gc.cfg = cfg;
	gc.mgmt = false;
	gw = braid_gateway_create(&gc, err, sizeof(err));
	CU_ASSERT_FATAL(gw != NULL);
	CU_ASSERT_EQUAL(braid_gateway_mgmt_port(gw), 0);
	braid_gateway_free(gw);
	braid_test_side_destroy(&s);
	braid_config_free(cfg);
	unlink(tf);
}

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0-1") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	braid_config_set_profile_dir(PROFILE_DIR);
	seed = braid_test_seed(0x6d67);
	printf("\n  seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	host_pool = braid_pktmbuf_pool_create("mhost", 32767, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      SOCKET_ID_ANY);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/braid_gwmgmt.XXXXXX");
	if (host_pool == NULL || mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
suite_fini(void)
{
	rmdir(tmpdir);
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("gateway_mgmt", suite_init, suite_fini);

	if (s == NULL ||
	    CU_add_test(s, "status, links.list, links.set", test_links) == NULL ||
	    CU_add_test(s, "links[].backup live", test_link_backup_live) == NULL ||
	    CU_add_test(s, "classes.list, classes.set", test_classes) == NULL ||
	    CU_add_test(s, "class ARQ, policy, priority live", test_class_modes_live) == NULL ||
	    CU_add_test(s, "class weight moves the class share", test_class_share) == NULL ||
	    CU_add_test(s, "config, stats, metrics, shutdown", test_config_and_stats) == NULL ||
	    CU_add_test(s, "config.apply while traffic flows", test_apply_under_traffic) == NULL ||
	    CU_add_test(s, "recovery metrics under loss", test_recovery_metrics) == NULL ||
	    CU_add_test(s, "token, management switches", test_token_and_switches) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("gateway_mgmt", register_tests);
}
