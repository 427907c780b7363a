/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage runner: a known number of packets through a chain of stages from a
 * net_ring port to a net_null port, on one lcore and across two, with
 * counts asserted at every stage and zero mbufs left in use after shutdown.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "braid_clock.h"
#include "braid_engine.h"
#include "braid_meta.h"
#include "braid_runner.h"
#include "harness.h"

#define N_PKTS   200000u
#define POOL_N   8191u

static struct rte_mempool *pool;
static uint16_t ring_port, null_port;
static struct rte_ring *feed_ring;

/* ---- test stages ---- */

struct rx_ctx { uint16_t port; uint64_t rx; };
struct check_ctx { uint64_t expect; uint64_t seen; uint64_t out_of_order; };
struct hold_ctx { struct rte_mbuf *held[64]; unsigned int n; uint64_t held_total; };
struct tx_ctx { uint16_t port; uint64_t sent; uint64_t drop_tx; };

static uint16_t
rx_poll(void *ctx, struct braid_burst *out, uint64_t now)
{
	struct rx_ctx *c = ctx;
	uint16_t n = rte_eth_rx_burst(c->port, 0, out->pkts + out->n,
				      RTE_MIN(braid_burst_room(out), BRAID_BURST));

	for (uint16_t i = 0; i < n; i++)
		braid_meta(out->pkts[out->n + i])->rx_ns = now;
	out->n += n;
	c->rx += n;
	return n;
}

static void
check_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	      struct braid_burst *out, uint64_t now)
{
	struct check_ctx *c = ctx;

	RTE_SET_USED(now);
	for (uint16_t i = 0; i < n; i++) {
		uint64_t seq = *rte_pktmbuf_mtod(pkts[i], uint64_t *);

		if (seq != c->expect)
			c->out_of_order++;
		c->expect = seq + 1;
		c->seen++;
		braid_burst_push(out, pkts[i]);
	}
}

/* Keeps every 100th packet until drain(): shutdown must flush it. */
static void
hold_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	     struct braid_burst *out, uint64_t now)
{
	struct hold_ctx *c = ctx;

	RTE_SET_USED(now);
	for (uint16_t i = 0; i < n; i++) {
		uint64_t seq = *rte_pktmbuf_mtod(pkts[i], uint64_t *);

		if (seq % 100 == 99 && c->n < RTE_DIM(c->held)) {
			c->held[c->n++] = pkts[i];
			c->held_total++;
		} else {
			braid_burst_push(out, pkts[i]);
		}
	}
}

/* Releases one held packet per call while the next comes in: keeps at
 * most 64 held in steady state. */
static uint16_t
hold_poll(void *ctx, struct braid_burst *out, uint64_t now)
{
	struct hold_ctx *c = ctx;

	RTE_SET_USED(now);
	if (c->n < 32)
		return 0;
	braid_burst_push(out, c->held[0]);
	memmove(c->held, c->held + 1, --c->n * sizeof(c->held[0]));
	return 1;
}

static uint16_t
hold_drain(void *ctx, struct braid_burst *out, uint64_t now)
{
	struct hold_ctx *c = ctx;
	uint16_t k = 0;

	RTE_SET_USED(now);
	while (c->n > 0 && braid_burst_push(out, c->held[c->n - 1]) == 0) {
		c->n--;
		k++;
	}
	return k;
}

static void
tx_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	   struct braid_burst *out, uint64_t now)
{
	struct tx_ctx *c = ctx;
	uint16_t sent = rte_eth_tx_burst(c->port, 0, pkts, n);

	RTE_SET_USED(out);
	RTE_SET_USED(now);
	c->sent += sent;
	if (sent < n) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		c->drop_tx += n - sent;
	}
}

static const struct braid_stage_ops rx_ops = {
	.kind = "test_rx", .flags = BRAID_STAGE_F_SOURCE, .poll = rx_poll,
};
static const struct braid_stage_ops check_ops = {
	.kind = "test_check", .process = check_process,
};
static const struct braid_stage_ops hold_ops = {
	.kind = "test_hold", .process = hold_process, .poll = hold_poll,
	.drain = hold_drain,
};
static const struct braid_stage_ops tx_ops = {
	.kind = "test_tx", .process = tx_process,
};

/* ---- feeding: the main hook refills the net_ring port's RX ring ---- */

struct feed_state {
	struct braid_runner *r;
	uint64_t next_seq;
	uint64_t total;
	uint64_t max_in_flight;   /* 0 = unlimited */
	struct tx_ctx *tx;
	bool no_stop;             /* the caller's hook decides when to stop */
};

static void
feed_hook(void *arg, uint64_t now)
{
	struct feed_state *f = arg;
	struct rte_mbuf *m[BRAID_BURST];

	RTE_SET_USED(now);
	while (f->next_seq < f->total && rte_ring_free_count(feed_ring) >= BRAID_BURST) {
		unsigned int n = RTE_MIN((uint64_t)BRAID_BURST, f->total - f->next_seq);

		/* Window of 512 in flight: the 1024-slot ring between lcores
		 * never overflows, so every packet must arrive. */
		if (f->max_in_flight != 0 &&
		    f->next_seq - (f->tx->sent + f->tx->drop_tx) + n > f->max_in_flight)
			break;

		/* Keep a quarter of the pool free for the stages in flight. */
		if (rte_mempool_avail_count(pool) < POOL_N / 4 + n)
			break;
		if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
			break;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t *p = (uint64_t *)rte_pktmbuf_append(m[i], 64);

			*p = f->next_seq++;
		}
		rte_ring_enqueue_bulk(feed_ring, (void **)m, n, NULL);
	}
	/* Everything fed and read off the port (the RX stage stops first at
	 * shutdown; what the stages hold is drained). */
	if (!f->no_stop && f->next_seq == f->total && rte_ring_count(feed_ring) == 0 &&
	    f->tx->sent + f->tx->drop_tx >= f->total - 64)
		braid_runner_stop(f->r);
}

static void
set_stage(struct braid_runner_conf *c, const char *name,
	  const struct braid_stage_ops *ops, void *ctx, unsigned int lcore)
{
	struct braid_runner_stage *s = &c->stages[c->n_stages++];

	snprintf(s->stage.name, sizeof(s->stage.name), "%s", name);
	s->stage.ops = ops;
	s->stage.ctx = ctx;
	s->chain = 0;
	s->lcore = lcore;
}

static void
run_chain(unsigned int lcore_a, unsigned int lcore_b)
{
	struct rx_ctx rx = { .port = ring_port };
	struct check_ctx chk = { 0 };
	struct hold_ctx hold = { .n = 0 };
	struct tx_ctx tx = { .port = null_port };
	struct braid_runner_conf conf = {
		.ring_size = 1024, .idle_polls = 16, .idle_sleep_max_us = 50,
		.hook_period_us = 20,
	};
	struct feed_state feed = { .total = N_PKTS, .tx = &tx, .max_in_flight = 512 };
	struct braid_runner_stage_stats st;
	struct braid_runner *r;
	uint64_t held_total = 0;

	set_stage(&conf, "rx", &rx_ops, &rx, lcore_a);
	set_stage(&conf, "check", &check_ops, &chk, lcore_a);
	set_stage(&conf, "hold", &hold_ops, &hold, lcore_b);
	set_stage(&conf, "tx", &tx_ops, &tx, lcore_b);
	conf.main_hook = feed_hook;
	conf.main_hook_arg = &feed;

	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	feed.r = r;
	CU_ASSERT_EQUAL(braid_runner_start(r), 0);
	braid_runner_run_main(r);
	CU_ASSERT_EQUAL(braid_runner_shutdown(r), 0);

	held_total = hold.held_total;
	CU_ASSERT_EQUAL(rx.rx, N_PKTS);
	CU_ASSERT_EQUAL(chk.seen, N_PKTS);
	CU_ASSERT_EQUAL(chk.out_of_order, 0);
	CU_ASSERT_TRUE(held_total > 0);
	CU_ASSERT_EQUAL(hold.n, 0);
	CU_ASSERT_EQUAL(tx.sent + tx.drop_tx, N_PKTS);
	CU_ASSERT_EQUAL(tx.drop_tx, 0);
	for (unsigned int i = 0; i < braid_runner_stage_count(r); i++) {
		CU_ASSERT_EQUAL(braid_runner_stage_stats(r, i, &st), 0);
		CU_ASSERT_EQUAL(st.drop_ring_full, 0);
		CU_ASSERT_EQUAL(st.drop_unrouted, 0);
		if (i > 0)
			CU_ASSERT_EQUAL(st.pkts_in, N_PKTS);
		if (i < 3)
			CU_ASSERT_EQUAL(st.pkts_out, N_PKTS);
		/* A ring exists exactly where the chain changes lcore. */
		CU_ASSERT_EQUAL(st.ring_size != 0, i == 2 && lcore_a != lcore_b);
	}
	braid_runner_free(r);
	CU_ASSERT_EQUAL(braid_mempool_in_use(pool), 0);
}

static void
test_one_lcore(void)
{
	run_chain(1, 1);
}

static void
test_two_lcores(void)
{
	run_chain(0, 1);
}

/* Packets left in an inter-lcore ring and held by a stage when the loops
 * stop go through the rest of the chain at shutdown: nothing lost, nothing
 * leaked. Lcore 1 is never launched, so everything for it stays queued. */
struct stop_after { struct braid_runner *r; struct rx_ctx *rx; uint64_t n; struct feed_state *feed; };

static void
stop_after_hook(void *arg, uint64_t now)
{
	struct stop_after *s = arg;

	feed_hook(s->feed, now);
	if (s->rx->rx >= s->n)
		braid_runner_stop(s->r);
}

static void
test_shutdown_drains_rings(void)
{
	const uint64_t total = 1500;      /* ring holds 1024 */
	struct rx_ctx rx = { .port = ring_port };
	struct check_ctx chk = { 0 };
	struct hold_ctx hold = { .n = 0 };
	struct tx_ctx tx = { .port = null_port };
	struct feed_state feed = { .total = total, .tx = &tx };
	struct stop_after sa = { .rx = &rx, .n = total, .feed = &feed };
	struct braid_runner_conf conf = {
		.ring_size = 1024, .idle_polls = 1, .hook_period_us = 10,
		.main_hook = stop_after_hook, .main_hook_arg = &sa,
	};
	struct braid_runner_stage_stats st;
	struct braid_runner *r;
	unsigned int cap;

	set_stage(&conf, "rx", &rx_ops, &rx, 0);
	set_stage(&conf, "check", &check_ops, &chk, 0);
	set_stage(&conf, "hold", &hold_ops, &hold, 1);
	set_stage(&conf, "tx", &tx_ops, &tx, 1);
	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	sa.r = r;
	feed.r = r;
	braid_runner_run_main(r);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 2, &st), 0);
	cap = st.ring_size;          /* 1023: one slot tells full from empty */
	CU_ASSERT_EQUAL(cap, 1023);
	CU_ASSERT_EQUAL(st.ring_count, cap);
	CU_ASSERT_EQUAL(tx.sent, 0);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 1, &st), 0);
	CU_ASSERT_EQUAL(st.drop_ring_full, total - cap);
	CU_ASSERT_EQUAL(braid_runner_shutdown(r), 0);
	CU_ASSERT_EQUAL(chk.seen, total);
	CU_ASSERT_TRUE(hold.held_total > 0);
	CU_ASSERT_EQUAL(hold.n, 0);
	CU_ASSERT_EQUAL(tx.sent, cap);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 2, &st), 0);
	CU_ASSERT_EQUAL(st.ring_count, 0);
	CU_ASSERT_EQUAL(st.pkts_in, cap);
	braid_runner_free(r);
	CU_ASSERT_EQUAL(braid_mempool_in_use(pool), 0);
}

/* ---- control channel ---- */

/* A command of the test stages: a sequence number, and a flag apply()
 * refuses. Odd size on purpose (the runner rounds elements up). */
struct test_cmd {
	uint64_t seq;
	uint8_t bad;
	uint8_t pad[3];
	uint8_t odd;
};

/* The check stage with a control channel: forwards packets in order and
 * applies commands, each exactly once and in order. */
struct cmd_check_ctx {
	struct check_ctx chk;
	uint64_t expect_cmd;      /* written by the stage's lcore */
	uint64_t cmds_out_of_order;
	uint64_t refused;
};

static void
cmd_check_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		  struct braid_burst *out, uint64_t now)
{
	struct cmd_check_ctx *c = ctx;

	check_process(&c->chk, pkts, n, out, now);
}

static int
cmd_check_apply(void *ctx, const void *cmd)
{
	struct cmd_check_ctx *c = ctx;
	const struct test_cmd *tc = cmd;

	if (tc->seq != c->expect_cmd)
		c->cmds_out_of_order++;
	__atomic_store_n(&c->expect_cmd, tc->seq + 1, __ATOMIC_RELEASE);
	if (tc->bad) {
		c->refused++;
		return -EINVAL;
	}
	return 0;
}

static const struct braid_stage_ops cmd_check_ops = {
	.kind = "test_cmd_check", .process = cmd_check_process,
	.cmd_size = sizeof(struct test_cmd), .apply = cmd_check_apply,
};

#define N_CMDS 1000000u

struct cmd_feed {
	struct feed_state feed;
	struct braid_runner *r;
	struct cmd_check_ctx *cc;
	unsigned int stage;
	uint64_t sent;            /* accepted sends = next seq */
	uint64_t bad;             /* of which apply() refuses */
	uint64_t refused_full;    /* -ENOBUFS answers */
	uint64_t other_errors;
};

/* Feed packets and send commands until the ring refuses one; stop once
 * every packet went through and every command was applied. */
static void
cmd_feed_hook(void *arg, uint64_t now)
{
	struct cmd_feed *f = arg;

	feed_hook(&f->feed, now);
	while (f->sent < N_CMDS) {
		struct test_cmd c = { .seq = f->sent, .bad = f->sent % 1000 == 7 };
		int ret = braid_runner_cmd_send(f->r, f->stage, &c);

		if (ret == -ENOBUFS) {
			f->refused_full++;
			break;
		}
		if (ret != 0) {
			f->other_errors++;
			break;
		}
		f->bad += c.bad;
		f->sent++;
	}
	if (f->sent == N_CMDS &&
	    __atomic_load_n(&f->cc->expect_cmd, __ATOMIC_ACQUIRE) == N_CMDS &&
	    f->feed.next_seq == f->feed.total && rte_ring_count(feed_ring) == 0 &&
	    f->feed.tx->sent + f->feed.tx->drop_tx == f->feed.total)
		braid_runner_stop(f->r);
}

/* 1 M commands through a stage's control ring from the main lcore while
 * the stage forwards packets on lcore 1: each applied once, in order;
 * every full-ring refusal counted; apply() failures counted. */
static void
test_cmd_channel(void)
{
	struct rx_ctx rx = { .port = ring_port };
	struct cmd_check_ctx cc = { 0 };
	struct tx_ctx tx = { .port = null_port };
	struct braid_runner_conf conf = {
		.ring_size = 1024, .idle_polls = 16, .idle_sleep_max_us = 50,
		.hook_period_us = 20,
	};
	struct cmd_feed f = {
		.feed = { .total = N_PKTS / 4, .tx = &tx, .max_in_flight = 512,
			  .no_stop = true },
		.cc = &cc,
	};
	struct braid_runner_stage_stats st;
	struct braid_runner *r;

	set_stage(&conf, "rx", &rx_ops, &rx, 1);
	set_stage(&conf, "check", &cmd_check_ops, &cc, 1);
	set_stage(&conf, "tx", &tx_ops, &tx, 1);
	conf.main_hook = cmd_feed_hook;
	conf.main_hook_arg = &f;
	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	f.r = r;
	f.feed.r = r;
	CU_ASSERT_EQUAL(braid_runner_stage_find(r, "check"), 1);
	CU_ASSERT_EQUAL(braid_runner_stage_find(r, "nope"), -ENOENT);
	f.stage = 1;
	/* Stages without a channel refuse commands. */
	CU_ASSERT_EQUAL(braid_runner_cmd_send(r, 0, &(struct test_cmd){ 0 }), -EINVAL);
	/* Fill the ring before the stage runs: at least one refusal. */
	cmd_feed_hook(&f, 0);
	CU_ASSERT_EQUAL(f.refused_full, 1);
	CU_ASSERT_EQUAL(f.sent, BRAID_CMD_RING_DEFAULT - BRAID_CMD_BATCH_MAX);
	CU_ASSERT_EQUAL(braid_runner_start(r), 0);
	braid_runner_run_main(r);
	CU_ASSERT_EQUAL(braid_runner_shutdown(r), 0);

	CU_ASSERT_EQUAL(cc.expect_cmd, N_CMDS);
	CU_ASSERT_EQUAL(cc.cmds_out_of_order, 0);
	CU_ASSERT_EQUAL(cc.chk.seen, f.feed.total);
	CU_ASSERT_EQUAL(cc.chk.out_of_order, 0);
	CU_ASSERT_EQUAL(tx.sent, f.feed.total);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 1, &st), 0);
	CU_ASSERT_EQUAL(st.cmds_applied, N_CMDS - f.bad);
	CU_ASSERT_EQUAL(st.cmds_failed, f.bad);
	CU_ASSERT_EQUAL(cc.refused, f.bad);
	CU_ASSERT_EQUAL(st.cmds_dropped, f.refused_full);
	CU_ASSERT_EQUAL(f.other_errors, 0);
	printf("\n    %u commands, %" PRIu64 " refusals of a full ring\n", N_CMDS,
	       f.refused_full);
	braid_runner_free(r);
	CU_ASSERT_EQUAL(braid_mempool_in_use(pool), 0);
}

/* A batch for two stages is queued whole or not at all; single sends
 * keep room for batches; stepping applies in order. */
static void
test_cmd_batch(void)
{
	struct cmd_check_ctx a = { 0 }, b = { 0 };
	struct braid_runner_conf conf = { .ring_size = 1024, .cmd_ring_size = 512 };
	struct test_cmd ca[BRAID_CMD_BATCH_MAX], cb[BRAID_CMD_BATCH_MAX];
	struct braid_cmd_ref refs[2 * BRAID_CMD_BATCH_MAX + 1];
	struct braid_runner_stage_stats st;
	struct braid_runner *r;
	uint64_t single = 0;
	unsigned int n;

	set_stage(&conf, "a", &cmd_check_ops, &a, 0);
	set_stage(&conf, "b", &cmd_check_ops, &b, 0);
	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	/* Single sends stop with the batch room still free. */
	while (braid_runner_cmd_send(r, 1, &(struct test_cmd){ .seq = single }) == 0)
		single++;
	CU_ASSERT_EQUAL(single, 512 - BRAID_CMD_BATCH_MAX);
	/* 10 for a, the batch room + 1 for b: refused (too many for one). */
	for (n = 0; n < 10; n++) {
		ca[n] = (struct test_cmd){ .seq = n };
		refs[n] = (struct braid_cmd_ref){ 0, &ca[n] };
	}
	for (unsigned int i = 0; i < BRAID_CMD_BATCH_MAX; i++) {
		cb[i] = (struct test_cmd){ .seq = single + i };
		refs[n++] = (struct braid_cmd_ref){ 1, &cb[i] };
	}
	refs[n] = refs[n - 1];
	CU_ASSERT_EQUAL(braid_runner_cmd_send_all(r, refs, n + 1), -EINVAL);
	/* The batch room itself fits. */
	CU_ASSERT_EQUAL(braid_runner_cmd_send_all(r, refs, n), 0);
	/* Now b is full: a batch touching b queues nothing, on a either. */
	for (unsigned int i = 0; i < 10; i++)
		ca[i].seq = 10 + i;
	CU_ASSERT_EQUAL(braid_runner_cmd_send_all(r, refs, 11), -ENOBUFS);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 1, &st), 0);
	CU_ASSERT_EQUAL(st.cmds_dropped, 2);   /* the single send that stopped, 1 of the batch */
	braid_runner_step(r, 0);
	CU_ASSERT_EQUAL(a.expect_cmd, 10);
	CU_ASSERT_EQUAL(b.expect_cmd, single + BRAID_CMD_BATCH_MAX);
	CU_ASSERT_EQUAL(a.cmds_out_of_order + b.cmds_out_of_order, 0);
	/* Room again: the same batch goes through. */
	CU_ASSERT_EQUAL(braid_runner_cmd_send_all(r, refs, 11), 0);
	braid_runner_step(r, 0);
	CU_ASSERT_EQUAL(a.expect_cmd, 20);
	CU_ASSERT_EQUAL(braid_runner_stage_stats(r, 0, &st), 0);
	CU_ASSERT_EQUAL(st.cmds_applied, 20);
	braid_runner_free(r);
}

static void
test_create_rejects(void)
{
	struct check_ctx chk = { 0 };
	struct braid_runner_conf conf = { .ring_size = 1000 };

	set_stage(&conf, "check", &check_ops, &chk, 1);
	CU_ASSERT_PTR_NULL(braid_runner_create(&conf, SOCKET_ID_ANY));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	conf.ring_size = 1024;
	conf.stages[0].lcore = 7;   /* not in -l 0-1 */
	CU_ASSERT_PTR_NULL(braid_runner_create(&conf, SOCKET_ID_ANY));
	conf.stages[0].lcore = 1;
	set_stage(&conf, "check", &check_ops, &chk, 1);
	CU_ASSERT_PTR_NULL(braid_runner_create(&conf, SOCKET_ID_ANY));
	conf.n_stages = 1;
	conf.stages[0].chain = BRAID_MAX_CHAINS;
	CU_ASSERT_PTR_NULL(braid_runner_create(&conf, SOCKET_ID_ANY));
	conf.stages[0].chain = 0;
	conf.n_stages = 0;
	CU_ASSERT_PTR_NULL(braid_runner_create(&conf, SOCKET_ID_ANY));
}

/* Run @p r until lcore 1 has done @p want idle sleeps (@p sleeps) or
 * loops: a count, not a time; the cap is for a stuck machine.
 * @return false if the cap passed first. */
static bool
run_until(struct braid_runner *r, bool sleeps, uint64_t want)
{
	const uint64_t cap = braid_test_deadline(60);
	struct braid_runner_lcore_stats ls = { 0 };

	for (;;) {
		CU_ASSERT_EQUAL_FATAL(braid_runner_lcore_stats(r, 1, &ls), 0);
		if ((sleeps ? ls.idle_sleeps : ls.loops) >= want)
			return true;
		if (braid_test_past(cap)) {
			printf("\n  machine stuck: 60 s and lcore 1 did %" PRIu64 " loops, %"
			       PRIu64 " sleeps\n", ls.loops, ls.idle_sleeps);
			return false;
		}
		rte_delay_us_sleep(1000);
	}
}

/* With idle_sleep_max_us set, an idle lcore sleeps; with 0 it never does. */
static void
test_idle_backoff(void)
{
	struct rx_ctx rx = { .port = ring_port };
	struct braid_runner_conf conf = {
		.ring_size = 1024, .idle_polls = 8, .idle_sleep_max_us = 200,
	};
	struct braid_runner_lcore_stats ls;
	struct braid_runner *r;

	set_stage(&conf, "rx", &rx_ops, &rx, 1);
	for (int pass = 0; pass < 2; pass++) {
		conf.idle_sleep_max_us = pass == 0 ? 200 : 0;
		r = braid_runner_create(&conf, SOCKET_ID_ANY);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT_EQUAL(braid_runner_start(r), 0);
		CU_ASSERT(run_until(r, pass == 0, pass == 0 ? 100 : 100000));
		CU_ASSERT_EQUAL(braid_runner_shutdown(r), 0);
		CU_ASSERT_EQUAL(braid_runner_lcore_stats(r, 1, &ls), 0);
		CU_ASSERT_TRUE(ls.loops > 0);
		if (pass == 0) {
			CU_ASSERT_TRUE(ls.idle_sleeps >= 100);
			/* Bounded back-off: never more than the max per sleep. */
			CU_ASSERT_TRUE(ls.idle_sleep_us <= ls.idle_sleeps * 200);
			/* Asleep most of the time: in each idle run only the first
			 * idle_polls - 1 loops do not sleep (counts, not a rate). */
			CU_ASSERT_TRUE(ls.loops - ls.busy_loops - ls.idle_sleeps <=
				       (uint64_t)(conf.idle_polls - 1) * (ls.busy_loops + 1));
		} else {
			CU_ASSERT_EQUAL(ls.idle_sleeps, 0);
		}
		CU_ASSERT_EQUAL(braid_runner_lcore_stats(r, 0, &ls), -ENOENT);
		braid_runner_free(r);
	}
}

/* A stage call that takes 12 ms once: its lcore counts a stall at least
 * that long (a lower bound only: preemption may add more). */
struct slow_ctx { uint64_t polls; };

static uint16_t
slow_poll(void *ctx, struct braid_burst *out, uint64_t now)
{
	struct slow_ctx *c = ctx;

	RTE_SET_USED(out);
	RTE_SET_USED(now);
	if (++c->polls == 50)
		rte_delay_us_sleep(12000);
	return 0;
}

static const struct braid_stage_ops slow_ops = {
	.kind = "test_slow", .flags = BRAID_STAGE_F_SOURCE, .poll = slow_poll,
};

static void
test_stall_counted(void)
{
	struct slow_ctx slow = { 0 };
	struct braid_runner_conf conf = {
		.ring_size = 1024, .idle_polls = 8, .idle_sleep_max_us = 200,
	};
	struct braid_runner_lcore_stats ls;
	struct braid_runner *r;

	set_stage(&conf, "slow", &slow_ops, &slow, 1);
	r = braid_runner_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(braid_runner_start(r), 0);
	CU_ASSERT(run_until(r, false, 200));
	CU_ASSERT_EQUAL(braid_runner_shutdown(r), 0);
	CU_ASSERT_EQUAL(braid_runner_lcore_stats(r, 1, &ls), 0);
	CU_ASSERT_TRUE(slow.polls >= 50);
	CU_ASSERT_TRUE(ls.stalls >= 1);
	CU_ASSERT_TRUE(ls.loop_late_max_us >= 12000);
	braid_runner_free(r);
}

/* The engine clock against CLOCK_MONOTONIC read around it: at least the
 * 2 ms slept, at most what the independent clock saw (+25% for the TSC
 * calibration): no bound that a slow or loaded machine could break. */
static void
test_clock(void)
{
	uint64_t m0 = braid_test_deadline(0), a = braid_now_ns(), b, m1;

	rte_delay_us_block(2000);
	b = braid_now_ns();
	m1 = braid_test_deadline(0);
	CU_ASSERT_TRUE(b - a >= 1900000);
	CU_ASSERT_TRUE(b - a <= (m1 - m0) + (m1 - m0) / 4);
}

static int
suite_init(void)
{
	static const char *const vdevs[] = { "net_null0", NULL };
	struct rte_eth_conf pc = { 0 };
	struct rte_ring *tx_ring;
	int port;

	if (braid_test_eal_init(vdevs, "0-1") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	braid_clock_init();
	pool = braid_pktmbuf_pool_create("test_engine", POOL_N, 128,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	feed_ring = rte_ring_create("feed", 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	tx_ring = rte_ring_create("ring_tx", 4096, SOCKET_ID_ANY, 0);
	if (pool == NULL || feed_ring == NULL || tx_ring == NULL)
		return -1;
	port = rte_eth_from_rings("net_ring_feed", &feed_ring, 1, &tx_ring, 1,
				  SOCKET_ID_ANY);
	if (port < 0)
		return -1;
	ring_port = (uint16_t)port;
	if (rte_eth_dev_get_port_by_name("net_null0", &null_port) != 0)
		return -1;
	for (uint16_t p = 0; p < 2; p++) {
		uint16_t id = p == 0 ? ring_port : null_port;

		if (rte_eth_dev_configure(id, 1, 1, &pc) != 0 ||
		    rte_eth_rx_queue_setup(id, 0, 512, SOCKET_ID_ANY, NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(id, 0, 512, SOCKET_ID_ANY, NULL) != 0 ||
		    rte_eth_dev_start(id) != 0)
			return -1;
	}
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("engine", suite_init, NULL);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "clock", test_clock) == NULL ||
	    CU_add_test(s, "runner rejects bad conf", test_create_rejects) == NULL ||
	    CU_add_test(s, "chain on one lcore", test_one_lcore) == NULL ||
	    CU_add_test(s, "chain over two lcores", test_two_lcores) == NULL ||
	    CU_add_test(s, "shutdown drains held packets", test_shutdown_drains_rings) == NULL ||
	    CU_add_test(s, "idle back-off", test_idle_backoff) == NULL ||
	    CU_add_test(s, "a slow stage call is a counted stall", test_stall_counted) == NULL ||
	    CU_add_test(s, "control channel: 1 M commands while forwarding",
			test_cmd_channel) == NULL ||
	    CU_add_test(s, "control channel: batches all or none", test_cmd_batch) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("engine", register_tests);
}
