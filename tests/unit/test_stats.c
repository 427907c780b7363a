/* SPDX-License-Identifier: BSD-3-Clause */
/* Counter walk and console table over a real runner and net_null port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_engine.h"
#include "braid_runner.h"
#include "braid_stats.h"
#include "harness.h"

#define DROPPER_COUNTERS(X) X(seen) X(drop_odd)
#define DROPPER_CLASS_COUNTERS(X) X(drop_odd)
struct dropper { BRAID_COUNTERS_FIELDS(DROPPER_COUNTERS) };

static struct rte_mempool *pool;
static uint16_t null_port;

static void
dropper_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		struct braid_burst *out, uint64_t now)
{
	struct dropper *d = ctx;

	RTE_SET_USED(now);
	for (uint16_t i = 0; i < n; i++) {
		if (i % 2) {
			rte_pktmbuf_free(pkts[i]);
			d->drop_odd++;
		} else {
			braid_burst_push(out, pkts[i]);
		}
	}
	d->seen += n;
}

static void
dropper_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_stat_labels lb = { .class_id = 1, .link_id = BRAID_STAT_NONE };

	BRAID_COUNTERS_REPORT(DROPPER_COUNTERS, (const struct dropper *)ctx, fn, arg);
	/* As if every odd packet were of class 1: a labelled counter. */
	BRAID_COUNTERS_REPORT_LABELLED(DROPPER_CLASS_COUNTERS, (const struct dropper *)ctx,
				       &lb, fn, arg);
}

static const struct braid_stage_ops dropper_ops = {
	.kind = "dropper", .process = dropper_process, .stats = dropper_stats,
};

struct found { unsigned int port_rx, stage_seen, stage_drop, class_drop, lcore; };

static void
collect(void *arg, enum braid_stats_scope scope, const char *owner,
	const char *name, const struct braid_stat_labels *labels, uint64_t value)
{
	struct found *f = arg;

	if (scope == BRAID_STATS_PORT && strcmp(owner, "sink0") == 0 &&
	    strcmp(name, "rx_packets") == 0 && labels == NULL)
		f->port_rx++;
	if (scope == BRAID_STATS_STAGE && strcmp(owner, "drop") == 0) {
		if (strcmp(name, "seen") == 0 && value == 10 && labels == NULL)
			f->stage_seen++;
		if (strcmp(name, "drop_odd") == 0 && value == 5 && labels == NULL)
			f->stage_drop++;
		if (strcmp(name, "drop_odd") == 0 && value == 5 && labels != NULL &&
		    labels->class_id == 1 && labels->link_id == BRAID_STAT_NONE)
			f->class_drop++;
	}
	if (scope == BRAID_STATS_LCORE && strcmp(owner, "lcore0") == 0)
		f->lcore++;
}

static void
test_walk_and_console(void)
{
	struct dropper d = { 0 };
	struct braid_runner_conf conf = { .n_stages = 1, .ring_size = 256 };
	struct braid_stats_port ports[1] = { { "sink0", 0 } };
	struct braid_runner *r;
	struct rte_mbuf *m[10];
	struct braid_stats_console *con;
	struct found f = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	ports[0].port_id = null_port;
	snprintf(conf.stages[0].stage.name, 32, "drop");
	conf.stages[0].stage.ops = &dropper_ops;
	conf.stages[0].stage.ctx = &d;
	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	/* Feed the stage through shutdown's drain path: no lcore launched. */
	CU_ASSERT_FATAL(rte_pktmbuf_alloc_bulk(pool, m, 10) == 0);
	{
		struct braid_burst *out = rte_malloc(NULL, sizeof(*out), 0);

		out->n = 0;
		dropper_ops.process(&d, m, 10, out, 0);
		/* The chain's last stage output is unrouted: free like the runner. */
		rte_pktmbuf_free_bulk(out->pkts, out->n);
		rte_free(out);
	}
	braid_stats_walk(r, ports, 1, collect, &f);
	CU_ASSERT_EQUAL(f.port_rx, 1);
	CU_ASSERT_EQUAL(f.stage_seen, 1);
	CU_ASSERT_EQUAL(f.stage_drop, 1);
	CU_ASSERT_EQUAL(f.class_drop, 1);
	CU_ASSERT_EQUAL(f.lcore, 6);   /* loops, busy, sleeps, sleep time, late max, stalls */

	mem = open_memstream(&text, &len);
	CU_ASSERT_FATAL(mem != NULL);
	con = braid_stats_console_create(r, ports, 1, 1000, mem);
	CU_ASSERT_FATAL(con != NULL);
	braid_stats_console_tick(con, 1000000000ULL);
	braid_stats_console_tick(con, 1500000000ULL);  /* too early: no print */
	braid_stats_console_tick(con, 2000000000ULL);
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sink0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "drop.odd=5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "drop.class1_drop_odd=5"));
	/* Two tables, not three. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "t=1.0s"));
	CU_ASSERT_PTR_NULL(strstr(text, "t=0.5s"));
	free(text);
	braid_stats_console_free(con);
	CU_ASSERT_PTR_NULL(braid_stats_console_create(r, ports, 1, 0, stdout));
	braid_runner_free(r);
	CU_ASSERT_EQUAL(braid_mempool_in_use(pool), 0);
}

/* Flat names are composed in one place from the labels. */
static void
test_flat_name(void)
{
	struct braid_stat_labels lb = { BRAID_STAT_NONE, BRAID_STAT_NONE };
	char buf[64];

	braid_stats_name(buf, sizeof(buf), "enqueued", NULL);
	CU_ASSERT_STRING_EQUAL(buf, "enqueued");
	braid_stats_name(buf, sizeof(buf), "enqueued", &lb);
	CU_ASSERT_STRING_EQUAL(buf, "enqueued");
	lb.class_id = 0;
	braid_stats_name(buf, sizeof(buf), "enqueued", &lb);
	CU_ASSERT_STRING_EQUAL(buf, "class0_enqueued");
	lb.class_id = BRAID_STAT_NONE;
	lb.link_id = 2;
	braid_stats_name(buf, sizeof(buf), "sent_pkts", &lb);
	CU_ASSERT_STRING_EQUAL(buf, "link2_sent_pkts");
	lb.class_id = 3;
	braid_stats_name(buf, sizeof(buf), "packets", &lb);
	CU_ASSERT_STRING_EQUAL(buf, "class3_link2_packets");
	CU_ASSERT_EQUAL(braid_stats_name(buf, 4, "packets", &lb), 20);
	CU_ASSERT_STRING_EQUAL(buf, "cla");
}

static int
suite_init(void)
{
	static const char *const vdevs[] = { "net_null_stats", NULL };
	struct rte_eth_conf pc = { 0 };

	if (braid_test_eal_init(vdevs, "0") != 0)
		return -1;
	pool = braid_pktmbuf_pool_create("stats", 1023, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL ||
	    rte_eth_dev_get_port_by_name("net_null_stats", &null_port) != 0)
		return -1;
	if (rte_eth_dev_configure(null_port, 1, 1, &pc) != 0 ||
	    rte_eth_rx_queue_setup(null_port, 0, 64, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(null_port, 0, 64, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start(null_port) != 0)
		return -1;
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("stats", suite_init, NULL);

	if (s == NULL ||
	    CU_add_test(s, "walk and console table", test_walk_and_console) == NULL ||
	    CU_add_test(s, "flat names from labels", test_flat_name) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("stats", register_tests);
}
