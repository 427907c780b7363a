/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/reorder: dedup and time-bounded reorder. Directed cases, then the
 * stage against a plain reference model (unwrapped 64-bit seqs, linear
 * scans, no bitmap, no arrival queue) on seeded random loss, delay,
 * duplication, across 2^32, with a virtual clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_meta.h"
#include "braid_reorder.h"
#include "harness.h"

#define US 1000ULL
#define MS 1000000ULL

static struct rte_mempool *pool;
static struct braid_burst out;
static unsigned int name_seq;

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("ro_pool", 8191, 0, 0,
				       RTE_PKTMBUF_HEADROOM + 128, SOCKET_ID_ANY);
	return pool != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

/* block_id carries a test-side packet id (the unwrapped index). */
static struct rte_mbuf *
mk(uint16_t class_id, uint32_t seq, uint32_t id, uint64_t now)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct braid_meta *md;

	if (m == NULL)
		return NULL;
	if (rte_pktmbuf_append(m, 64) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	md = braid_meta(m);
	memset(md, 0, sizeof(*md));
	md->class_id = class_id;
	md->seq = seq;
	md->block_id = id;
	md->rx_ns = now;
	return m;
}

static struct braid_reorder *
mk_ro(const struct braid_reorder_class_conf *cc, uint16_t n)
{
	char name[32];
	struct braid_reorder_conf conf = { .name = name, .n_classes = n, .classes = cc };

	snprintf(name, sizeof(name), "ro%u", name_seq++);
	return braid_reorder_create(&conf, SOCKET_ID_ANY);
}

/* Push one packet of class 0. */
static uint16_t
push1(struct braid_reorder *r, uint32_t seq, uint64_t now)
{
	struct rte_mbuf *m = mk(0, seq, seq, now);

	CU_ASSERT_FATAL(m != NULL);
	return braid_reorder_burst(r, &m, 1, &out, now);
}

/* Check that out holds exactly the seqs in want[], then free them. */
static bool
out_is(const uint32_t *want, unsigned int n)
{
	bool ok = out.n == n;

	for (unsigned int i = 0; ok && i < n; i++)
		ok = braid_meta(out.pkts[i])->seq == want[i];
	if (!ok) {
		printf("\n    out:");
		for (unsigned int i = 0; i < out.n; i++)
			printf(" %" PRIu32, braid_meta(out.pkts[i])->seq);
		printf("\n    want:");
		for (unsigned int i = 0; i < n; i++)
			printf(" %" PRIu32, want[i]);
		printf("\n");
	}
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	return ok;
}

static void
cnt(const struct braid_reorder *r, struct braid_reorder_stats *c)
{
	braid_reorder_stats(r, c);
}

static void
test_create_validation(void)
{
	struct braid_reorder_class_conf cc = { .dedup_window = 1024, .buf_size = 256,
					       .deadline_ns = MS };
	struct braid_reorder_conf conf = { .name = "robad", .n_classes = 1, .classes = &cc };
	struct braid_reorder *r;

	CU_ASSERT(braid_reorder_create(NULL, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.n_classes = 0;
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.n_classes = BRAID_REORDER_MAX_CLASSES + 1;
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.n_classes = 1;
	cc.dedup_window = 1000;         /* not a power of two */
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.dedup_window = 32;           /* below the minimum */
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.dedup_window = 128;          /* smaller than the buffer */
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.dedup_window = 1024;
	cc.buf_size = 100;
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.buf_size = 256;
	cc.deadline_ns = BRAID_REORDER_MAX_DEADLINE_NS + 1;
	CU_ASSERT(braid_reorder_create(&conf, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	cc.deadline_ns = MS;
	r = braid_reorder_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(strcmp(braid_reorder_stage_ops.kind, "reorder") == 0);
	CU_ASSERT(braid_reorder_gaps(r, 1, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_reorder_reset(r, 1) == -EINVAL);
	braid_reorder_free(r);
	braid_reorder_free(NULL);
}

static const struct braid_reorder_class_conf cc_small = {
	.dedup_window = 64, .buf_size = 8, .deadline_ns = 100 * US,
};

static void
test_in_order_and_gap_fill(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_stats c;
	struct braid_reorder_gap g[4];

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(push1(r, 0, 0) == 1);
	CU_ASSERT(push1(r, 1, 0) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 0, 1 }, 2));
	CU_ASSERT(push1(r, 3, 10 * US) == 0);   /* held behind gap 2 */
	CU_ASSERT(push1(r, 4, 20 * US) == 0);
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1);
	CU_ASSERT(g[0].first_seq == 2 && g[0].count == 1);
	CU_ASSERT(g[0].opened_ns == 10 * US);
	CU_ASSERT(g[0].skip_ns == 110 * US);
	CU_ASSERT(braid_reorder_poll(r, &out, 109 * US) == 0);
	CU_ASSERT(push1(r, 2, 50 * US) == 3);
	CU_ASSERT(out_is((const uint32_t[]){ 2, 3, 4 }, 3));
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 0);
	cnt(r, &c);
	CU_ASSERT(c.pkts_in == 5 && c.in_order == 3 && c.reordered == 2);
	CU_ASSERT(c.lost == 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Start window: the first packet (seq 2) overtook seq 0 and 1 on a
 * faster link; they are still delivered, in order. A stream starting at
 * seq 0 is delivered at once. */
static void
test_start_window(void)
{
	struct braid_reorder_class_conf cw = cc_small;
	struct braid_reorder *r;
	struct braid_reorder_stats c;

	cw.start_window = 4;
	r = mk_ro(&cw, 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(push1(r, 2, 0) == 0);            /* held: 0 and 1 may come */
	CU_ASSERT(push1(r, 0, 5 * US) == 1);
	CU_ASSERT(push1(r, 1, 6 * US) == 2);
	CU_ASSERT(out_is((const uint32_t[]){ 0, 1, 2 }, 3));
	cnt(r, &c);
	CU_ASSERT(c.drop_late == 0 && c.lost == 0);
	braid_reorder_free(r);

	/* Joined mid-stream at 1000: the window is skipped at the deadline
	 * (counted lost), then the stream flows. */
	r = mk_ro(&cw, 1);
	CU_ASSERT(push1(r, 1000, 0) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 100 * US) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 1000 }, 1));
	CU_ASSERT(push1(r, 1001, 101 * US) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 1001 }, 1));
	cnt(r, &c);
	CU_ASSERT(c.lost == 4);
	braid_reorder_free(r);

	r = mk_ro(&cw, 1);
	CU_ASSERT(push1(r, 0, 0) == 1);            /* a new stream: no wait */
	CU_ASSERT(out_is((const uint32_t[]){ 0 }, 1));
	braid_reorder_free(r);
	cw.start_window = cw.buf_size;             /* > buf_size / 2 */
	CU_ASSERT(mk_ro(&cw, 1) == NULL);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* A gap is skipped deadline_ns after the first packet held behind it. */
static void
test_deadline(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_stats c;
	struct braid_reorder_gap g[4];
	struct braid_reorder_class_info info;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 0, 0);
	push1(r, 2, 0);            /* gap 1, held from t=0 */
	push1(r, 5, 50 * US);      /* gap 3-4, held from t=50 */
	CU_ASSERT(out_is((const uint32_t[]){ 0 }, 1));
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 2);
	CU_ASSERT(g[0].first_seq == 1 && g[0].count == 1 && g[0].opened_ns == 0);
	CU_ASSERT(g[1].first_seq == 3 && g[1].count == 2 && g[1].opened_ns == 50 * US);
	CU_ASSERT(g[1].skip_ns == 150 * US);
	/* Only the lowest gap is reported when max is 1. */
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 1) == 1);
	CU_ASSERT(g[0].first_seq == 1 && g[0].count == 1);
	CU_ASSERT(braid_reorder_poll(r, &out, 99 * US) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 100 * US) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 2 }, 1));
	CU_ASSERT(push1(r, 1, 120 * US) == 0);    /* skipped already */
	CU_ASSERT(braid_reorder_poll(r, &out, 149 * US) == 0);
	CU_ASSERT(braid_reorder_class_info(r, 0, &info) == 0);
	CU_ASSERT(info.next_seq == 3 && info.held == 1 && info.high_seq == 5);
	CU_ASSERT(braid_reorder_poll(r, &out, 150 * US) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 5 }, 1));
	cnt(r, &c);
	CU_ASSERT(c.lost == 3);
	CU_ASSERT(c.drop_late == 1);
	CU_ASSERT(c.reordered == 2 && c.in_order == 1);
	/* A deadline is also applied on push, before the new arrival. */
	push1(r, 7, 200 * US);
	CU_ASSERT(push1(r, 8, 300 * US) == 2);
	CU_ASSERT(out_is((const uint32_t[]){ 7, 8 }, 2));
	cnt(r, &c);
	CU_ASSERT(c.lost == 4);
	/* The class's own count is the same (one class). */
	CU_ASSERT(braid_reorder_class_info(r, 0, &info) == 0);
	CU_ASSERT(info.lost == 4);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* class_set_deadline(): open gaps are re-timed from their opened_ns, new
 * gaps use it, gaps() reports the new skip_ns; a class without a buffer
 * just stores it. */
static void
test_set_deadline(void)
{
	const struct braid_reorder_class_conf cc[2] = {
		{ .dedup_window = 1024, .buf_size = 256, .deadline_ns = 100 * MS },
		{ .dedup_window = 64, .buf_size = 0, .deadline_ns = 0 },
	};
	struct braid_reorder *r = mk_ro(cc, 2);
	struct braid_reorder_stats c;
	struct braid_reorder_gap g[4];
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(braid_reorder_class_set_deadline(r, 2, MS) == -EINVAL);
	CU_ASSERT(braid_reorder_class_set_deadline(r, BRAID_REORDER_ALL_CLASSES, MS) == -EINVAL);
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0,
			BRAID_REORDER_MAX_DEADLINE_NS + 1) == -EINVAL);
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0, BRAID_REORDER_MAX_DEADLINE_NS) == 0);
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0, 100 * MS) == 0);

	push1(r, 0, 0);
	push1(r, 2, 0);                    /* gap 1 opens at 0 */
	CU_ASSERT(out_is((const uint32_t[]){ 0 }, 1));
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1);
	CU_ASSERT(g[0].opened_ns == 0 && g[0].skip_ns == 100 * MS);
	/* Shorter: the open gap is now skipped at 0 + 30 ms. */
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0, 30 * MS) == 0);
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1);
	CU_ASSERT(g[0].first_seq == 1 && g[0].opened_ns == 0 && g[0].skip_ns == 30 * MS);
	push1(r, 5, 10 * MS);              /* gap 3..4 opens at 10 ms */
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 2);
	CU_ASSERT(g[1].first_seq == 3 && g[1].count == 2);
	CU_ASSERT(g[1].opened_ns == 10 * MS && g[1].skip_ns == 40 * MS);
	CU_ASSERT(braid_reorder_poll(r, &out, 30 * MS - 1) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 30 * MS) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 2 }, 1));
	CU_ASSERT(braid_reorder_poll(r, &out, 40 * MS - 1) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 40 * MS) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 5 }, 1));
	/* Longer with a gap open: it waits for the new skip time. */
	push1(r, 7, 50 * MS);              /* gap 6: skip at 80 ms */
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1 && g[0].skip_ns == 80 * MS);
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0, 60 * MS) == 0);
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1 && g[0].skip_ns == 110 * MS);
	CU_ASSERT(braid_reorder_poll(r, &out, 80 * MS) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 110 * MS - 1) == 0);
	CU_ASSERT(braid_reorder_poll(r, &out, 110 * MS) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 7 }, 1));
	/* 0 with a gap open: skipped before the next arrival. */
	push1(r, 9, 200 * MS);             /* gap 8 */
	CU_ASSERT(braid_reorder_class_set_deadline(r, 0, 0) == 0);
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 4) == 1 && g[0].skip_ns == 200 * MS);
	CU_ASSERT(push1(r, 10, 201 * MS) == 2);
	CU_ASSERT(out_is((const uint32_t[]){ 9, 10 }, 2));
	cnt(r, &c);
	CU_ASSERT(c.lost == 1 + 2 + 1 + 1);
	CU_ASSERT(c.reordered == 4 && c.in_order == 2);

	/* Dedup-only class: accepted, stored, arrival order unchanged. */
	CU_ASSERT(braid_reorder_class_set_deadline(r, 1, 5 * MS) == 0);
	CU_ASSERT(braid_reorder_gaps(r, 1, g, 4) == 0);
	for (uint32_t q = 3; q > 0; q--) {
		m = mk(1, q * 2, q, 300 * MS);
		CU_ASSERT_FATAL(m != NULL);
		braid_reorder_burst(r, &m, 1, &out, 300 * MS);
	}
	CU_ASSERT(out_is((const uint32_t[]){ 6, 4, 2 }, 3));
	CU_ASSERT(braid_reorder_poll(r, &out, 400 * MS) == 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

static void
test_duplicates(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_stats c;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 0, 0);
	push1(r, 1, 0);
	push1(r, 1, 0);           /* delivered copy */
	push1(r, 0, 0);
	push1(r, 3, 0);
	push1(r, 3, 0);           /* held copy */
	CU_ASSERT(out_is((const uint32_t[]){ 0, 1 }, 2));
	push1(r, 2, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 2, 3 }, 2));
	for (uint32_t s = 4; s < 200; s++)
		push1(r, s, 0);
	CU_ASSERT(out.n == 196);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	push1(r, 100, 0);         /* 200 - 100 > 64: behind the window */
	push1(r, 150, 0);         /* within the window: duplicate */
	push1(r, 136, 0);         /* the oldest seq in the window */
	push1(r, 135, 0);         /* just behind it */
	cnt(r, &c);
	CU_ASSERT(c.drop_duplicate == 5);
	CU_ASSERT(c.drop_too_old == 2);
	CU_ASSERT(c.drop_late == 0);
	CU_ASSERT(c.in_order + c.reordered == 200);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* A seq beyond next + buf_size forces skipping. */
static void
test_overflow(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_stats c;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 0, 0);
	push1(r, 2, 0);
	push1(r, 10, 0);          /* needs next >= 3: skip 1, deliver 2 */
	CU_ASSERT(out_is((const uint32_t[]){ 0, 2 }, 2));
	cnt(r, &c);
	CU_ASSERT(c.overflow_skips == 1 && c.lost == 1);
	for (uint32_t s = 3; s < 10; s++)
		push1(r, s, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 3, 4, 5, 6, 7, 8, 9, 10 }, 8));
	/* A jump far beyond the buffer: everything up to it is lost. */
	push1(r, 12, 0);
	push1(r, 1000, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 12 }, 1));
	cnt(r, &c);
	CU_ASSERT(c.overflow_skips == 2);
	CU_ASSERT(c.lost == 1 + 1 + (993 - 13));
	CU_ASSERT(braid_reorder_poll(r, &out, MS) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 1000 }, 1));
	cnt(r, &c);
	CU_ASSERT(c.lost == 1 + 1 + (1000 - 13));
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Output larger than one burst: the rest goes out on the next call. */
static void
test_output_room(void)
{
	const struct braid_reorder_class_conf cc = {
		.dedup_window = 4096, .buf_size = 2048, .deadline_ns = MS,
	};
	struct braid_reorder *r = mk_ro(&cc, 1);
	struct braid_reorder_stats c;
	uint32_t next = 0;
	bool ok = true;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 0, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 0 }, 1));
	for (uint32_t s = 2; s < 1500; s++)
		push1(r, s, 0);
	CU_ASSERT(out.n == 0);
	CU_ASSERT(push1(r, 1, 0) == BRAID_BURST_OUT_MAX);
	CU_ASSERT(braid_reorder_poll(r, &out, 0) == 0);   /* still full */
	for (unsigned int i = 0; i < out.n; i++)
		ok &= braid_meta(out.pkts[i])->seq == ++next;
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	CU_ASSERT(braid_reorder_poll(r, &out, 0) == 1499 - BRAID_BURST_OUT_MAX);
	for (unsigned int i = 0; i < out.n; i++)
		ok &= braid_meta(out.pkts[i])->seq == ++next;
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	CU_ASSERT(ok && next == 1499);

	/* Deadline skip bigger than a burst, and a full burst on overflow. */
	for (uint32_t s = 1501; s < 3000; s++)
		push1(r, s, 10 * MS);
	CU_ASSERT(out.n == 0);
	out.n = BRAID_BURST_OUT_MAX;      /* pretend the burst is full */
	push1(r, 1500 + 2048 + 100, 10 * MS);   /* overflow, no room */
	out.n = 0;
	cnt(r, &c);
	CU_ASSERT(c.drop_overflow == 1);
	CU_ASSERT(braid_reorder_poll(r, &out, 11 * MS) == BRAID_BURST_OUT_MAX);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	CU_ASSERT(braid_reorder_poll(r, &out, 11 * MS) == 1499 - BRAID_BURST_OUT_MAX);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	cnt(r, &c);
	CU_ASSERT(c.lost == 1);
	/* The dropped packet's seq was not marked seen: it may come again. */
	CU_ASSERT(push1(r, 1500 + 2048 + 100, 11 * MS) == 0);
	cnt(r, &c);
	CU_ASSERT(c.drop_duplicate == 0);
	CU_ASSERT(braid_reorder_drain(r, &out, 11 * MS) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 1500 + 2048 + 100 }, 1));
	CU_ASSERT(braid_reorder_drain(r, &out, 11 * MS) == 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Sequence numbers across 2^32, gaps reported across the wrap. */
static void
test_wraparound(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_gap g[2];
	struct braid_reorder_stats c;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 0xFFFFFFFDu, 0);
	push1(r, 0xFFFFFFFEu, 0);
	push1(r, 1, 0);
	push1(r, 2, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 0xFFFFFFFDu, 0xFFFFFFFEu }, 2));
	CU_ASSERT(braid_reorder_gaps(r, 0, g, 2) == 1);
	CU_ASSERT(g[0].first_seq == 0xFFFFFFFFu && g[0].count == 2);
	push1(r, 0, 0);
	push1(r, 0xFFFFFFFFu, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 0xFFFFFFFFu, 0, 1, 2 }, 4));
	push1(r, 0xFFFFFFFEu, 0);   /* duplicate across the wrap */
	push1(r, 0xFFFFFF00u, 0);   /* far behind */
	cnt(r, &c);
	CU_ASSERT(c.drop_duplicate == 1 && c.drop_too_old == 1);
	CU_ASSERT(c.in_order == 3 && c.reordered == 3);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Dedup-only class, window slide and jump; bad class, parity. */
static void
test_dedup_only(void)
{
	const struct braid_reorder_class_conf cc = {
		.dedup_window = 64, .buf_size = 0, .deadline_ns = 0,
	};
	struct braid_reorder *r = mk_ro(&cc, 1);
	struct braid_reorder_stats c;
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 10, 0);
	push1(r, 5, 0);             /* older than the first: passes */
	push1(r, 12, 0);
	push1(r, 11, 0);            /* arrival order kept */
	push1(r, 12, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 10, 5, 12, 11 }, 4));
	push1(r, 10000, 0);         /* the window jumps */
	push1(r, 9937, 0);          /* 10001 - 9937 = 64: the oldest in the window */
	push1(r, 9936, 0);          /* behind it */
	push1(r, 9999, 0);
	push1(r, 10000, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 10000, 9937, 9999 }, 3));
	m = mk(3, 1, 1, 0);         /* class out of range */
	CU_ASSERT_FATAL(m != NULL);
	braid_reorder_burst(r, &m, 1, &out, 0);
	m = mk(0, 20000, 1, 0);
	CU_ASSERT_FATAL(m != NULL);
	braid_meta(m)->flags = BRAID_META_F_PARITY;
	braid_reorder_burst(r, &m, 1, &out, 0);
	CU_ASSERT(out.n == 0);
	cnt(r, &c);
	CU_ASSERT(c.in_order == 7 && c.drop_duplicate == 2 && c.drop_too_old == 1);
	CU_ASSERT(c.drop_bad_class == 1 && c.drop_parity == 1);
	CU_ASSERT(c.reordered == 0 && c.lost == 0 && c.drop_late == 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

static void
test_reset_and_drain(void)
{
	const struct braid_reorder_class_conf cc[2] = { cc_small, cc_small };
	struct braid_reorder *r = mk_ro(cc, 2);
	struct braid_reorder_stats c;
	struct braid_reorder_class_info info;
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(r != NULL);
	push1(r, 100, 0);
	push1(r, 102, 0);
	push1(r, 104, 0);
	m = mk(1, 7, 7, 0);
	CU_ASSERT_FATAL(m != NULL);
	braid_reorder_burst(r, &m, 1, &out, 0);
	m = mk(1, 9, 9, 0);
	CU_ASSERT_FATAL(m != NULL);
	braid_reorder_burst(r, &m, 1, &out, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 100, 7 }, 2));
	CU_ASSERT(braid_reorder_reset(r, 0) == 0);
	CU_ASSERT(braid_reorder_class_info(r, 0, &info) == 0);
	CU_ASSERT(!info.started && info.held == 0);
	cnt(r, &c);
	CU_ASSERT(c.drop_reset == 2);
	/* A new session: any seq starts it, old seqs are not duplicates. */
	push1(r, 100, 0);
	push1(r, 101, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 100, 101 }, 2));
	push1(r, 105, 0);
	/* Drain: class 0 then class 1, in order, gaps counted lost. */
	CU_ASSERT(braid_reorder_drain(r, &out, 0) == 2);
	CU_ASSERT(out_is((const uint32_t[]){ 105, 9 }, 2));
	CU_ASSERT(braid_reorder_drain(r, &out, 0) == 0);
	cnt(r, &c);
	CU_ASSERT(c.lost == 3 + 1);
	/* Free with held packets counts them. */
	push1(r, 108, 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

struct stat_seen {
	unsigned int n;
	uint64_t held, pkts_in;
};

static void
stat_cb(void *arg, const char *name,
	const struct braid_stat_labels *labels, uint64_t v)
{
	struct stat_seen *st = arg;

	RTE_SET_USED(labels);
	st->n++;
	if (strcmp(name, "held") == 0)
		st->held = v;
	if (strcmp(name, "pkts_in") == 0)
		st->pkts_in = v;
}

/* A peer restart in band: the stage resets every class right before the
 * packet flagged BRAID_META_F_SESSION, which starts the new stream. */
static void
test_stage_session(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_stats c;
	struct braid_reorder_class_info info;
	struct rte_mbuf *pk[3];
	struct stat_seen st = { 0 };

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(braid_reorder_resets(r) == 0);
	pk[0] = mk(0, 10, 10, 0);
	pk[1] = mk(0, 12, 12, 0);
	braid_reorder_stage_ops.process(r, pk, 2, &out, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 10 }, 1));
	/* old session's 13 (held behind 11), then the new session's 0, 1 */
	pk[0] = mk(0, 13, 13, 0);
	pk[1] = mk(0, 0, 100, 0);
	pk[2] = mk(0, 1, 101, 0);
	braid_meta(pk[1])->flags |= BRAID_META_F_SESSION;
	braid_reorder_stage_ops.process(r, pk, 3, &out, 1 * US);
	CU_ASSERT(out.n == 2 && !(braid_meta(out.pkts[0])->flags & BRAID_META_F_SESSION));
	CU_ASSERT(out_is((const uint32_t[]){ 0, 1 }, 2));
	braid_reorder_stats(r, &c);
	CU_ASSERT(c.drop_reset == 2);   /* 12 and 13 of the old session */
	CU_ASSERT(braid_reorder_resets(r) == 1);
	CU_ASSERT(braid_reorder_class_info(r, 0, &info) == 0 && info.resets == 1 &&
		  info.next_seq == 2 && info.held == 0);
	braid_reorder_stage_ops.stats(r, stat_cb, &st);
	CU_ASSERT(st.n == 14);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* The control channel: struct braid_reorder_cmd through apply(). */
static void
test_stage_apply(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct braid_reorder_cmd cmd = { .op = BRAID_REORDER_CMD_DEADLINE,
					 .class_id = 0, .deadline_ns = 0 };

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(braid_reorder_stage_ops.cmd_size == sizeof(cmd));
	CU_ASSERT(braid_reorder_stage_ops.cmd_size <= BRAID_CMD_MAX_SIZE);
	/* 10, then 12 held: with deadline 0 the next push skips the gap */
	CU_ASSERT(push1(r, 10, 0) == 1);
	CU_ASSERT(push1(r, 12, 0) == 0);
	CU_ASSERT(out_is((const uint32_t[]){ 10 }, 1));
	CU_ASSERT(braid_reorder_stage_ops.apply(r, &cmd) == 0);
	CU_ASSERT(braid_reorder_stage_ops.poll(r, &out, 1) == 1);
	CU_ASSERT(out_is((const uint32_t[]){ 12 }, 1));
	cmd.class_id = 1;
	CU_ASSERT(braid_reorder_stage_ops.apply(r, &cmd) == -EINVAL);
	cmd.class_id = 0;
	cmd.deadline_ns = BRAID_REORDER_MAX_DEADLINE_NS + 1;
	CU_ASSERT(braid_reorder_stage_ops.apply(r, &cmd) == -EINVAL);
	cmd.op = 0;
	CU_ASSERT(braid_reorder_stage_ops.apply(r, &cmd) == -EINVAL);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

static void
test_stage_ops(void)
{
	struct braid_reorder *r = mk_ro(&cc_small, 1);
	struct rte_mbuf *pk[3];
	struct stat_seen st = { 0 };

	CU_ASSERT_FATAL(r != NULL);
	pk[0] = mk(0, 0, 0, 0);
	pk[1] = mk(0, 2, 2, 0);
	pk[2] = mk(0, 3, 3, 0);
	braid_reorder_stage_ops.process(r, pk, 3, &out, 0);
	CU_ASSERT(out_is((const uint32_t[]){ 0 }, 1));
	braid_reorder_stage_ops.stats(r, stat_cb, &st);
	CU_ASSERT(st.n == 14 && st.held == 2 && st.pkts_in == 3);   /* + session_resets */
	CU_ASSERT(braid_reorder_stage_ops.poll(r, &out, 100 * US) == 2);
	CU_ASSERT(out_is((const uint32_t[]){ 2, 3 }, 2));
	CU_ASSERT(braid_reorder_stage_ops.drain(r, &out, 0) == 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* ---- reference model ---------------------------------------------- */

#define NCLS 3
#define SPAN (1u << 16)

struct ref_class {
	uint32_t W, R;
	uint64_t D;
	bool started;
	uint64_t next, dd_head;    /* unwrapped */
	uint64_t base;             /* unwrapped seq of index 0 */
	uint64_t first;
	bool seen[SPAN];
	bool held[SPAN];
	uint64_t arr[SPAN];
	uint64_t nheld;
};

struct ref {
	struct ref_class c[NCLS];
	struct braid_reorder_stats cnt;
	uint32_t outv[4096];       /* (class << 24) | index */
	unsigned int nout;
};

static void
ref_out(struct ref *rf, uint16_t cls, uint64_t u)
{
	rf->outv[rf->nout++] = (uint32_t)cls << 24 | (uint32_t)(u - rf->c[cls].base);
}

static void
ref_release_run(struct ref *rf, uint16_t k)
{
	struct ref_class *rc = &rf->c[k];

	while (rc->nheld > 0 && rc->held[rc->next - rc->base]) {
		rc->held[rc->next - rc->base] = false;
		rc->nheld--;
		ref_out(rf, k, rc->next);
		rc->next++;
		rf->cnt.reordered++;
	}
}

static void
ref_skip_to(struct ref *rf, uint16_t k, uint64_t end)
{
	struct ref_class *rc = &rf->c[k];

	for (; rc->next < end; rc->next++) {
		if (rc->next - rc->base < SPAN && rc->held[rc->next - rc->base]) {
			rc->held[rc->next - rc->base] = false;
			rc->nheld--;
			ref_out(rf, k, rc->next);
			rf->cnt.reordered++;
		} else {
			rf->cnt.lost++;
		}
	}
}

/* Every held packet past its deadline goes, with all gaps below it. */
static void
ref_service(struct ref *rf, uint16_t k, uint64_t now)
{
	struct ref_class *rc = &rf->c[k];

	ref_release_run(rf, k);
	for (;;) {
		uint64_t target = 0;
		bool found = false;

		for (uint64_t u = rc->next; u < rc->next + rc->R; u++) {
			if (rc->held[u - rc->base] && rc->arr[u - rc->base] + rc->D <= now) {
				target = u;
				found = true;
			}
		}
		if (!found)
			break;
		ref_skip_to(rf, k, target + 1);
		ref_release_run(rf, k);
	}
}

static void
ref_push1(struct ref *rf, uint16_t k, uint64_t u, uint64_t now)
{
	struct ref_class *rc = &rf->c[k];

	rf->cnt.pkts_in++;
	if (!rc->started) {
		rc->started = true;
		rc->next = rc->dd_head = rc->first = u;
	} else if (rc->nheld > 0) {
		ref_service(rf, k, now);
	}
	if (u < rc->dd_head) {
		if (rc->dd_head - u > rc->W) {
			rf->cnt.drop_too_old++;
			return;
		}
		if (rc->seen[u - rc->base]) {
			rf->cnt.drop_duplicate++;
			return;
		}
	}
	if (rc->R == 0) {
		rc->seen[u - rc->base] = true;
		rc->dd_head = RTE_MAX(rc->dd_head, u + 1);
		ref_out(rf, k, u);
		rf->cnt.in_order++;
		return;
	}
	if (u < rc->next) {
		rf->cnt.drop_late++;
		return;
	}
	if (u - rc->next >= rc->R) {
		ref_skip_to(rf, k, u - rc->R + 1);
		rf->cnt.overflow_skips++;
		ref_release_run(rf, k);
	}
	rc->seen[u - rc->base] = true;
	rc->dd_head = RTE_MAX(rc->dd_head, u + 1);
	if (u == rc->next) {
		ref_out(rf, k, u);
		rc->next++;
		rf->cnt.in_order++;
		ref_release_run(rf, k);
	} else {
		rc->held[u - rc->base] = true;
		rc->arr[u - rc->base] = now;
		rc->nheld++;
	}
}

static void
ref_poll(struct ref *rf, uint64_t now)
{
	for (uint16_t k = 0; k < NCLS; k++)
		if (rf->c[k].nheld > 0)
			ref_service(rf, k, now);
}

/* One arrival of the generated traffic. */
struct arrival {
	uint64_t t;
	uint32_t idx;      /* index in the class stream */
	uint16_t cls;      /* NCLS = out-of-range class */
	uint32_t order;    /* tie-break: generation order */
};

static int
arrival_cmp(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct run_stats {
	uint64_t max_hold_excess;   /* hold - deadline, worst */
	uint64_t delivered[NCLS];
	bool ordered[NCLS];         /* class with a reorder buffer */
	bool *got[NCLS];            /* index delivered already */
};

/* Compare the stage's output of one call with the model's, record and
 * check per-class order and hold times, free the packets. */
static void
check_out(struct ref *rf, unsigned int ref_from, uint64_t now, uint64_t step_max,
	  int64_t last[NCLS], struct run_stats *rs, const uint64_t deadline[NCLS])
{
	unsigned int nref = rf->nout - ref_from;
	bool same = out.n == nref;

	for (unsigned int i = 0; i < out.n; i++) {
		struct braid_meta *md = braid_meta(out.pkts[i]);
		uint16_t k = md->class_id;
		uint64_t hold = now - md->rx_ns;

		if (same && rf->outv[ref_from + i] != ((uint32_t)k << 24 | md->block_id))
			same = false;
		CU_ASSERT(!rs->got[k][md->block_id]);          /* once */
		rs->got[k][md->block_id] = true;
		if (rs->ordered[k])                             /* in order */
			CU_ASSERT((int64_t)md->block_id > last[k]);
		last[k] = md->block_id;
		rs->delivered[k]++;
		if (hold > deadline[k] && hold - deadline[k] > rs->max_hold_excess)
			rs->max_hold_excess = hold - deadline[k];
		CU_ASSERT(hold <= deadline[k] + step_max);
	}
	CU_ASSERT(same);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
	rf->nout = 0;
}

static void
run_random(uint64_t *st, unsigned int round)
{
	const struct braid_reorder_class_conf cc[NCLS] = {
		{ .dedup_window = 1024, .buf_size = 256, .deadline_ns = 2 * MS },
		{ .dedup_window = 256, .buf_size = 64, .deadline_ns = 500 * US },
		{ .dedup_window = 256, .buf_size = 0, .deadline_ns = 0 },
	};
	const uint64_t deadline[NCLS] = { 2 * MS, 500 * US, 0 };
	const uint32_t npk = 6000;
	const uint64_t step_max = 100 * US;
	struct ref *rf = calloc(1, sizeof(*rf));
	struct arrival *ev = calloc(NCLS * npk * 2 + 64, sizeof(*ev));
	struct braid_reorder *r = mk_ro(cc, NCLS);
	struct braid_reorder_stats c;
	struct braid_reorder_class_info info;
	struct run_stats rs = { 0 };
	int64_t last[NCLS] = { -1, -1, -1 };
	unsigned int nev = 0, e = 0;
	uint32_t order = 0;
	uint64_t now = 0, held_total = 0, spanned = 0, delivered_r = 0;

	CU_ASSERT_FATAL(rf != NULL && ev != NULL && r != NULL);
	for (uint16_t k = 0; k < NCLS; k++) {
		rs.ordered[k] = cc[k].buf_size != 0;
		rs.got[k] = calloc(npk, sizeof(bool));
		CU_ASSERT_FATAL(rs.got[k] != NULL);
	}
	/* Loss, delay, duplication rates differ by round. */
	uint64_t p_loss = 20 + round * 20;     /* per mille */
	uint64_t p_dup = 30 + round * 10;
	uint64_t p_slow = 30 + round * 15;

	for (uint16_t k = 0; k < NCLS; k++) {
		struct ref_class *rc = &rf->c[k];

		rc->W = cc[k].dedup_window;
		rc->R = cc[k].buf_size;
		rc->D = cc[k].deadline_ns;
		rc->base = 0xFFFFF800u + k * 37;   /* every stream crosses 2^32 */
		for (uint32_t i = 0; i < npk; i++) {
			uint64_t send = (uint64_t)i * (5 + k * 3) * US;
			int copies = braid_test_rand(st) % 1000 < p_dup ? 2 : 1;

			if (braid_test_rand(st) % 1000 < p_loss)
				continue;
			for (int j = 0; j < copies; j++) {
				uint64_t d = 200 * US + braid_test_rand(st) % (300 * US);
				uint64_t r2 = braid_test_rand(st) % 1000;

				if (r2 < p_slow)
					d += braid_test_rand(st) % (4 * MS);
				else if (r2 < p_slow + 3)
					d += 20 * MS;    /* far behind every window */
				ev[nev++] = (struct arrival){ .t = send + d, .idx = i,
							      .cls = k, .order = order++ };
			}
		}
	}
	for (int j = 0; j < 8; j++)   /* out-of-range class */
		ev[nev++] = (struct arrival){ .t = braid_test_rand(st) % (30 * MS),
					      .idx = 0, .cls = NCLS, .order = order++ };
	qsort(ev, nev, sizeof(ev[0]), arrival_cmp);

	while (e < nev) {
		now += 1 + braid_test_rand(st) % step_max;
		while (e < nev && ev[e].t <= now) {
			struct rte_mbuf *pk[32];
			unsigned int n = 0, from = rf->nout;

			while (e < nev && ev[e].t <= now && n < 32) {
				const struct arrival *a = &ev[e++];
				uint64_t u = a->cls < NCLS ? rf->c[a->cls].base + a->idx : 0;

				pk[n] = mk(a->cls, (uint32_t)u, a->idx, now);
				CU_ASSERT_FATAL(pk[n] != NULL);
				n++;
				if (a->cls < NCLS) {
					ref_push1(rf, a->cls, u, now);
				} else {
					rf->cnt.pkts_in++;
					rf->cnt.drop_bad_class++;
				}
			}
			braid_reorder_burst(r, pk, (uint16_t)n, &out, now);
			check_out(rf, from, now, step_max, last, &rs, deadline);
		}
		ref_poll(rf, now);
		braid_reorder_poll(r, &out, now);
		check_out(rf, 0, now, step_max, last, &rs, deadline);
	}
	/* Past every deadline, nothing is held. */
	now += 3 * MS;
	ref_poll(rf, now);
	braid_reorder_poll(r, &out, now);
	check_out(rf, 0, now, step_max, last, &rs, deadline);
	CU_ASSERT(braid_reorder_drain(r, &out, now) == 0);

	cnt(r, &c);
#define CMP_(n) CU_ASSERT(c.n == rf->cnt.n);
	BRAID_REORDER_COUNTERS(CMP_)
#undef CMP_
	for (uint16_t k = 0; k < NCLS; k++) {
		CU_ASSERT(braid_reorder_class_info(r, k, &info) == 0);
		held_total += info.held;
		if (cc[k].buf_size != 0) {
			CU_ASSERT(info.next_seq == (uint32_t)rf->c[k].next);
			spanned += (uint32_t)(info.next_seq - (uint32_t)rf->c[k].first);
			delivered_r += rs.delivered[k];
		}
	}
	CU_ASSERT(held_total == 0);
	/* Every packet is accounted for once. */
	CU_ASSERT(c.pkts_in == c.in_order + c.reordered + c.drop_duplicate +
		  c.drop_too_old + c.drop_late + c.drop_overflow + c.drop_bad_class +
		  c.drop_parity + c.drop_reset + held_total);
	CU_ASSERT(c.pkts_in == nev);
	/* Ordered classes: every seq from the first to next is delivered
	 * once or counted lost. */
	CU_ASSERT(spanned == delivered_r + c.lost);
	printf("  round %u: in %" PRIu64 " in_order %" PRIu64 " reordered %" PRIu64
	       " lost %" PRIu64 " dup %" PRIu64 " late %" PRIu64 " too_old %" PRIu64
	       " overflow_skips %" PRIu64 ", worst hold over deadline %" PRIu64 " ns\n",
	       round, c.pkts_in, c.in_order, c.reordered, c.lost, c.drop_duplicate,
	       c.drop_late, c.drop_too_old, c.overflow_skips, rs.max_hold_excess);
	/* The traffic must exercise every path for the test to mean much. */
	CU_ASSERT(c.reordered > 0 && c.lost > 0 && c.drop_duplicate > 0 &&
		  c.drop_late > 0 && c.drop_too_old > 0 && c.overflow_skips > 0);
	braid_reorder_free(r);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	for (uint16_t k = 0; k < NCLS; k++)
		free(rs.got[k]);
	free(ev);
	free(rf);
}

static void
test_model_random(void)
{
	uint64_t seed = braid_test_seed(0x0e0de4);
	uint64_t st = seed;

	printf("\n  seed=0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	for (unsigned int round = 0; round < 4; round++)
		run_random(&st, round);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("reorder", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "in order, gap filled", test_in_order_and_gap_fill) == NULL ||
	    CU_add_test(s, "deadline per gap", test_deadline) == NULL ||
	    CU_add_test(s, "deadline changed at run time", test_set_deadline) == NULL ||
	    CU_add_test(s, "start window", test_start_window) == NULL ||
	    CU_add_test(s, "duplicates and window", test_duplicates) == NULL ||
	    CU_add_test(s, "buffer overflow", test_overflow) == NULL ||
	    CU_add_test(s, "output room", test_output_room) == NULL ||
	    CU_add_test(s, "wraparound at 2^32", test_wraparound) == NULL ||
	    CU_add_test(s, "dedup only, bad class, parity", test_dedup_only) == NULL ||
	    CU_add_test(s, "reset and drain", test_reset_and_drain) == NULL ||
	    CU_add_test(s, "stage ops", test_stage_ops) == NULL ||
	    CU_add_test(s, "stage: peer restart in band", test_stage_session) == NULL ||
	    CU_add_test(s, "stage: commands", test_stage_apply) == NULL ||
	    CU_add_test(s, "random vs reference model", test_model_random) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("reorder", register_tests);
}
