/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/rtx: retransmit cache. Virtual clock; a plain reference model of
 * which (class, seq) a lookup must find; refcounts and pool in-use checked
 * after expiry, reset and drain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_meta.h"
#include "braid_rtx.h"
#include "harness.h"

#define MS 1000000ULL
#define POOL_N 8191

static struct rte_mempool *pool;
static struct rte_mempool *clone_pool;
static struct braid_burst out;
static unsigned int name_seq;

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("rtx_pool", POOL_N, 0, 0,
				       RTE_PKTMBUF_HEADROOM + 256, SOCKET_ID_ANY);
	clone_pool = rte_pktmbuf_pool_create("rtx_clones", 1023, 0, 0, 0,
					     SOCKET_ID_ANY);
	return pool != NULL && clone_pool != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
	rte_mempool_free(clone_pool);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static struct rte_mbuf *
mk(uint16_t class_id, uint32_t seq, uint8_t flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct braid_meta *md;
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, 64);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, 64);
	memcpy(p, &seq, sizeof(seq));
	md = braid_meta(m);
	memset(md, 0, sizeof(*md));
	md->class_id = class_id;
	md->seq = seq;
	md->flags = flags;
	md->link_id = 1;
	return m;
}

static void
out_free(void)
{
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
}

static struct braid_rtx *
mk_rtx(uint32_t window_ms, uint32_t max_packets, uint32_t budget)
{
	struct braid_rtx_class_conf cc[3] = {
		{ .window_ms = window_ms, .max_packets = max_packets },
		{ .window_ms = 0 },                 /* no ARQ */
		{ .window_ms = window_ms, .max_packets = max_packets },
	};
	char name[24];
	struct braid_rtx_conf conf = {
		.name = name, .n_classes = 3, .classes = cc,
		.clone_pool = clone_pool, .expire_budget = budget,
	};

	snprintf(name, sizeof(name), "rtx%u", name_seq++);
	return braid_rtx_create(&conf, SOCKET_ID_ANY);
}

/* Store one packet of (class, seq) at now and free the passed-on copy. */
static void
store1(struct braid_rtx *c, uint16_t class_id, uint32_t seq, uint64_t now)
{
	struct rte_mbuf *m = mk(class_id, seq, 0);

	CU_ASSERT_FATAL(m != NULL);
	braid_rtx_burst(c, &m, 1, &out, now);
	out_free();
}

static void
test_create_validation(void)
{
	struct braid_rtx_class_conf cc = { .window_ms = 100, .max_packets = 1000 };
	struct braid_rtx_conf conf = { .name = "rtxbad", .n_classes = 1, .classes = &cc };
	struct braid_rtx *c;

	CU_ASSERT(braid_rtx_create(NULL, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.n_classes = 0;
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.n_classes = BRAID_RTX_MAX_CLASSES + 1;
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.n_classes = 1;
	cc.max_packets = 0;
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	cc.max_packets = BRAID_RTX_MAX_PACKETS + 1;
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.max_packets = 1000;
	cc.window_ms = BRAID_RTX_MAX_WINDOW_MS + 1;
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	cc.window_ms = 100;
	conf.name = "a_name_that_is_far_too_long_for_rtx";
	CU_ASSERT(braid_rtx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.name = "rtxok";

	c = braid_rtx_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(braid_rtx_capacity(c, 0) == 1024);   /* next pow2 >= 1000 */
	CU_ASSERT(braid_rtx_capacity(c, 1) == 0);      /* no such class */
	CU_ASSERT(strcmp(braid_rtx_stage_ops.kind, "rtx") == 0);
	braid_rtx_free(c);
	braid_rtx_free(NULL);
}

/* Which packets are cached; everything is passed on in order. */
static void
test_store_filter(void)
{
	struct braid_rtx *c = mk_rtx(100, 64, 0);
	struct rte_mbuf *pk[8];
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	pk[0] = mk(0, 10, 0);                       /* cached */
	pk[1] = mk(0, 11, BRAID_META_F_PARITY);     /* parity */
	pk[2] = mk(0, 12, BRAID_META_F_DUP);        /* duplicate copy */
	pk[3] = mk(0, 13, BRAID_META_F_RETX);       /* retransmission */
	pk[4] = mk(1, 14, 0);                       /* class without ARQ */
	pk[5] = mk(3, 15, 0);                       /* unknown class */
	pk[6] = mk(BRAID_CLASS_NONE, 16, 0);
	pk[7] = mk(2, 17, 0);                       /* cached */
	for (int i = 0; i < 8; i++)
		CU_ASSERT_FATAL(pk[i] != NULL);
	braid_rtx_burst(c, pk, 8, &out, 0);
	CU_ASSERT(out.n == 8);
	for (int i = 0; i < 8 && i < out.n; i++)
		CU_ASSERT(out.pkts[i] == pk[i]);
	CU_ASSERT(rte_mbuf_refcnt_read(pk[0]) == 2);
	CU_ASSERT(rte_mbuf_refcnt_read(pk[7]) == 2);
	for (int i = 1; i < 7; i++)
		CU_ASSERT(rte_mbuf_refcnt_read(pk[i]) == 1);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.pkts_in == 8);
	CU_ASSERT(cnt.stored == 2);
	CU_ASSERT(cnt.not_cached == 6);
	CU_ASSERT(braid_rtx_cached(c, 0) == 1);
	CU_ASSERT(braid_rtx_cached(c, 2) == 1);
	out_free();
	CU_ASSERT(rte_mempool_in_use_count(pool) == 2);
	CU_ASSERT(braid_rtx_lookup(c, 0, 10, 1) == pk[0]);
	CU_ASSERT(rte_mbuf_refcnt_read(pk[0]) == 1);   /* lookup leaves it */
	CU_ASSERT(braid_rtx_lookup(c, 1, 14, 1) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	CU_ASSERT(braid_rtx_drain(c, &out, 2) == 0);
	CU_ASSERT(out.n == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.released_drain == 2);
	CU_ASSERT(cnt.lookup_hit == 1);
	CU_ASSERT(cnt.miss_bad_class == 1);
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_free(c);
}

/* Lookup reasons: hit, never stored, expired (before and after poll),
 * overwritten by the packet window. */
static void
test_lookup_reasons(void)
{
	struct braid_rtx *c = mk_rtx(10, 16, 0);
	struct braid_rtx_stats cnt;
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(braid_rtx_lookup(c, 0, 0, 0) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	for (uint32_t s = 100; s < 110; s++)
		if (s != 105)
			store1(c, 0, s, (s - 100) * MS);
	m = braid_rtx_lookup(c, 0, 103, 9 * MS);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(braid_meta(m)->seq == 103);
	CU_ASSERT(rte_mbuf_refcnt_read(m) == 1);
	CU_ASSERT(braid_rtx_lookup(c, 0, 105, 9 * MS) == NULL);   /* gap */
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 110, 9 * MS) == NULL);   /* future */
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 99, 9 * MS) == NULL);    /* before stream */
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	/* Seq 100 was stored at 0: at 10 ms it is expired, poll or not. */
	CU_ASSERT(braid_rtx_lookup(c, 0, 100, 10 * MS - 1) != NULL);
	CU_ASSERT(braid_rtx_lookup(c, 0, 100, 10 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_cached(c, 0) == 9);
	CU_ASSERT(braid_rtx_poll(c, &out, 12 * MS) == 3);   /* 100, 101, 102 */
	CU_ASSERT(out.n == 0);
	CU_ASSERT(braid_rtx_cached(c, 0) == 6);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 6);
	CU_ASSERT(braid_rtx_lookup(c, 0, 101, 12 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 103, 12 * MS) != NULL);

	/* Seq 120 needs the slot of 104 (16 slots): 104 is overwritten, and
	 * everything up to 104 is now outside the packet window. */
	store1(c, 0, 120, 12 * MS);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.evicted_overwrite == 1);
	CU_ASSERT(braid_rtx_lookup(c, 0, 104, 12 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_OVERWRITTEN);
	CU_ASSERT(braid_rtx_lookup(c, 0, 103, 12 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_OVERWRITTEN);
	CU_ASSERT(braid_rtx_lookup(c, 0, 106, 12 * MS) != NULL);
	/* 103 still sits in its slot (index 7): the walk, now at 105 and
	 * stopped by 106 (not expired), releases it when it reaches 119. */
	CU_ASSERT(braid_rtx_cached(c, 0) == 6);
	CU_ASSERT(braid_rtx_poll(c, &out, 12 * MS) == 0);
	CU_ASSERT(braid_rtx_cached(c, 0) == 6);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.expired == 3);
	CU_ASSERT(cnt.lookup_hit == 4);
	CU_ASSERT(cnt.missed == 8);
	CU_ASSERT(cnt.miss_never_stored == 4);
	CU_ASSERT(cnt.miss_expired == 2);
	CU_ASSERT(cnt.miss_overwritten == 2);
	/* Everything ages out: 106..109 and 120 by age, 103 by the window. */
	while (braid_rtx_poll(c, &out, 100 * MS) != 0)
		;
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.expired == 8);
	CU_ASSERT(cnt.evicted_overwrite == 2);
	CU_ASSERT(cnt.stored == cnt.expired + cnt.evicted_overwrite);
	braid_rtx_free(c);
}

/* Age eviction is oldest first and bounded per poll. */
static void
test_expire_budget(void)
{
	struct braid_rtx *c = mk_rtx(50, 256, 8);
	struct braid_rtx_stats cnt;
	unsigned int polls = 0;

	CU_ASSERT_FATAL(c != NULL);
	for (uint32_t s = 0; s < 100; s++)
		store1(c, 0, s, s * MS);
	/* At 99.5 ms, seqs 0..49 are older than 50 ms. */
	CU_ASSERT(braid_rtx_poll(c, &out, 99 * MS + MS / 2) == 8);
	CU_ASSERT(braid_rtx_cached(c, 0) == 92);
	CU_ASSERT(braid_rtx_lookup(c, 0, 7, 0) == NULL);   /* released */
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 8, 0) != NULL);   /* still held */
	while (braid_rtx_poll(c, &out, 99 * MS + MS / 2) != 0)
		polls++;
	CU_ASSERT(polls == 6);   /* 8 per poll: 42 more in 6 polls */
	CU_ASSERT(braid_rtx_cached(c, 0) == 50);
	CU_ASSERT(braid_rtx_lookup(c, 0, 50, 99 * MS + MS / 2) != NULL);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 50);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.expired == 50);
	braid_rtx_free(c);   /* releases the rest */
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* A store behind the age walk (a late seq) is still released by age. */
static void
test_late_store(void)
{
	struct braid_rtx *c = mk_rtx(10, 64, 0);
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	for (uint32_t s = 0; s < 10; s++)
		if (s != 3)
			store1(c, 0, s, s * MS);
	CU_ASSERT(braid_rtx_poll(c, &out, 15 * MS) == 5);   /* 0..5 but 3 */
	store1(c, 0, 3, 15 * MS);
	CU_ASSERT(braid_rtx_lookup(c, 0, 3, 15 * MS) != NULL);
	/* The walk restarts at 3 and waits for it: 6..9 are expired for
	 * lookups but still held. */
	CU_ASSERT(braid_rtx_poll(c, &out, 20 * MS) == 0);
	CU_ASSERT(braid_rtx_lookup(c, 0, 6, 20 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_cached(c, 0) == 5);
	CU_ASSERT(braid_rtx_poll(c, &out, 25 * MS) == 5);
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.expired == 10 && cnt.evicted_overwrite == 0);
	braid_rtx_free(c);
}

/* A class's stream across 2^32, with the packet window wrapping. */
static void
test_wraparound(void)
{
	struct braid_rtx *c = mk_rtx(1000, 256, 64);
	const uint32_t s0 = 0xFFFFFF00u;
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	for (uint32_t i = 0; i < 384; i++)
		store1(c, 0, s0 + i, (uint64_t)i * 1000);   /* 1 us apart */
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.stored == 384);
	CU_ASSERT(cnt.evicted_overwrite == 128);
	CU_ASSERT(braid_rtx_cached(c, 0) == 256);
	/* The window is s0+128 .. s0+383 = 0xFFFFFF80 .. 0x7F, across 0. */
	for (uint32_t i = 128; i < 384; i++) {
		struct rte_mbuf *m = braid_rtx_lookup(c, 0, s0 + i, MS);

		CU_ASSERT(m != NULL && braid_meta(m)->seq == s0 + i);
	}
	CU_ASSERT(braid_rtx_lookup(c, 0, s0 + 127, MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_OVERWRITTEN);
	CU_ASSERT(braid_rtx_lookup(c, 0, 0x80, MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	/* A late store from before the window is passed on, not cached. */
	store1(c, 0, s0 + 10, MS);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.skipped_too_old == 1);
	/* Expire i = 128..319 (stored at 128..319 us): seqs 0xFFFFFF80..0x3F. */
	while (braid_rtx_poll(c, &out, 1000 * MS + 319 * 1000 + 500) != 0)
		;
	CU_ASSERT(braid_rtx_cached(c, 0) == 64);
	CU_ASSERT(braid_rtx_lookup(c, 0, 0x3F, 0) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 0xFFFFFFFFu, 0) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 0x40, 0) != NULL);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 64);
	CU_ASSERT(braid_rtx_drain(c, &out, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.released_drain == 64);
	CU_ASSERT(cnt.expired == 192);
	braid_rtx_free(c);
}

/* Holding references on a chained mbuf takes every segment. */
static void
test_multiseg_refcount(void)
{
	struct braid_rtx *c = mk_rtx(10, 16, 0);
	struct rte_mbuf *m = mk(0, 1, 0), *seg = mk(0, 0, 0), *rt;

	CU_ASSERT_FATAL(c != NULL && m != NULL && seg != NULL);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(m, seg) == 0);
	braid_rtx_burst(c, &m, 1, &out, 0);
	out_free();
	CU_ASSERT(rte_mbuf_refcnt_read(m) == 1);
	CU_ASSERT(rte_mbuf_refcnt_read(seg) == 1);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 2);
	rt = braid_rtx_serve(c, 0, 1, 3, MS);
	CU_ASSERT_FATAL(rt != NULL);
	CU_ASSERT(rt->nb_segs == 2);
	CU_ASSERT(rt->pkt_len == 128);
	CU_ASSERT(rte_mbuf_refcnt_read(m) == 2);
	CU_ASSERT(rte_mbuf_refcnt_read(seg) == 2);
	rte_pktmbuf_free(rt);
	CU_ASSERT(braid_rtx_poll(c, &out, 10 * MS) == 1);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
	braid_rtx_free(c);
}

/* Retransmissions: clone with F_RETX, the original seq/class, new link. */
static void
test_serve(void)
{
	struct braid_rtx *c = mk_rtx(100, 64, 0);
	struct braid_rtx_stats cnt;
	struct rte_mbuf *orig, *rt;
	struct braid_meta *md;

	CU_ASSERT_FATAL(c != NULL);
	orig = mk(2, 77, 0);
	CU_ASSERT_FATAL(orig != NULL);
	braid_meta(orig)->block_id = 9;
	braid_meta(orig)->block_idx = 3;
	braid_meta(orig)->fec_k = 4;
	braid_rtx_burst(c, &orig, 1, &out, 0);
	out_free();
	rt = braid_rtx_serve(c, 2, 77, 5, 50 * MS);
	CU_ASSERT_FATAL(rt != NULL);
	CU_ASSERT(RTE_MBUF_CLONED(rt) != 0);
	CU_ASSERT(rt->pool == clone_pool);
	CU_ASSERT(rte_pktmbuf_mtod(rt, void *) == rte_pktmbuf_mtod(orig, void *));
	CU_ASSERT(rt->pkt_len == orig->pkt_len);
	md = braid_meta(rt);
	CU_ASSERT(md->seq == 77 && md->class_id == 2);
	CU_ASSERT(md->flags == BRAID_META_F_RETX);
	CU_ASSERT(md->link_id == 5);
	CU_ASSERT(md->block_id == 9 && md->block_idx == 3 && md->fec_k == 4);
	CU_ASSERT(braid_meta(orig)->flags == 0);     /* original untouched */
	CU_ASSERT(braid_meta(orig)->link_id == 1);
	CU_ASSERT(rte_mbuf_refcnt_read(orig) == 2);
	/* The cache's reference goes at expiry; the clone keeps the data. */
	CU_ASSERT(braid_rtx_poll(c, &out, 100 * MS) == 1);
	CU_ASSERT(rte_mbuf_refcnt_read(orig) == 1);
	CU_ASSERT(braid_rtx_serve(c, 2, 77, 5, 100 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_EXPIRED);
	CU_ASSERT(braid_rtx_serve(c, 2, 78, 5, 100 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	rte_pktmbuf_free(rt);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.served == 1);
	CU_ASSERT(cnt.missed == 2);
	CU_ASSERT(cnt.lookup_hit == 0);
	braid_rtx_free(c);
}

static void
test_serve_nomem(void)
{
	struct braid_rtx_class_conf cc = { .window_ms = 100, .max_packets = 8 };
	struct braid_rtx_conf conf = { .name = "rtxnopool", .n_classes = 1,
				       .classes = &cc };
	struct braid_rtx *c = braid_rtx_create(&conf, SOCKET_ID_ANY);
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	store1(c, 0, 5, 0);
	CU_ASSERT(braid_rtx_serve(c, 0, 5, 0, 0) == NULL);
	CU_ASSERT(rte_errno == ENOMEM);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.serve_nomem == 1 && cnt.served == 0);
	braid_rtx_free(c);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* A full output burst: the packet is freed and counted, the cache keeps
 * its own reference. */
static void
test_out_full(void)
{
	struct braid_rtx *c = mk_rtx(100, 64, 0);
	struct braid_rtx_stats cnt;
	struct rte_mbuf *pk[3];

	CU_ASSERT_FATAL(c != NULL);
	for (int i = 0; i < 3; i++) {
		pk[i] = mk(0, (uint32_t)i, 0);
		CU_ASSERT_FATAL(pk[i] != NULL);
	}
	out.n = BRAID_BURST_OUT_MAX - 1;   /* pretend full; entries unused */
	braid_rtx_burst(c, pk, 3, &out, 0);
	CU_ASSERT(out.n == BRAID_BURST_OUT_MAX);
	CU_ASSERT(out.pkts[BRAID_BURST_OUT_MAX - 1] == pk[0]);
	out.pkts[0] = out.pkts[BRAID_BURST_OUT_MAX - 1];
	out.n = 1;
	out_free();
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.drop_out_full == 2);
	CU_ASSERT(cnt.stored == 3);
	CU_ASSERT(braid_rtx_cached(c, 0) == 3);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 3);
	CU_ASSERT(braid_rtx_reset(c, 7) == -EINVAL);
	CU_ASSERT(braid_rtx_reset(c, BRAID_RTX_ALL_CLASSES) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_free(c);
}

/* reset(): a restarted stream is cached from its new seq. */
static void
test_reset(void)
{
	struct braid_rtx *c = mk_rtx(100, 64, 0);
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	for (uint32_t s = 1000000; s < 1000010; s++)
		store1(c, 0, s, 0);
	store1(c, 2, 5, 0);
	store1(c, 0, 3, 0);   /* far behind: not cached */
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.skipped_too_old == 1);
	CU_ASSERT(braid_rtx_reset(c, 0) == 0);
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(braid_rtx_cached(c, 2) == 1);   /* other class kept */
	CU_ASSERT(braid_rtx_lookup(c, 0, 1000005, 0) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	store1(c, 0, 3, 0);
	CU_ASSERT(braid_rtx_lookup(c, 0, 3, 0) != NULL);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.released_drain == 10);
	braid_rtx_free(c);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

struct stat_seen {
	unsigned int n;
	uint64_t stored, cached;
};

static void
stat_cb(void *arg, const char *name,
	const struct braid_stat_labels *labels, uint64_t v)
{
	struct stat_seen *st = arg;

	RTE_SET_USED(labels);
	st->n++;
	if (strcmp(name, "stored") == 0)
		st->stored = v;
	if (strcmp(name, "cached") == 0)
		st->cached = v;
}

/* Tail-loss probe: an idle ARQ class resends its newest packet after
 * tail_probe_ns and again after twice that, then stops until new data. */
static void
test_tail_probe(void)
{
	struct braid_rtx_class_conf cc[1] = { { .window_ms = 1000, .max_packets = 64 } };
	struct braid_rtx_conf conf = {
		.name = "rtx_tail", .n_classes = 1, .classes = cc,
		.clone_pool = clone_pool, .tail_probe_ns = 10000000ULL,
	};
	struct braid_rtx *c = braid_rtx_create(&conf, SOCKET_ID_ANY);
	struct braid_rtx_stats cnt;

	CU_ASSERT_FATAL(c != NULL);
	store1(c, 0, 41, 0);
	store1(c, 0, 42, 1000000);
	CU_ASSERT(braid_rtx_poll(c, &out, 10000000) == 0 && out.n == 0); /* 9 ms idle */
	braid_rtx_poll(c, &out, 11000000);
	CU_ASSERT_FATAL(out.n == 1);
	CU_ASSERT(braid_meta(out.pkts[0])->seq == 42);
	CU_ASSERT(braid_meta(out.pkts[0])->flags & BRAID_META_F_RETX);
	CU_ASSERT(braid_meta(out.pkts[0])->link_id == 1);
	out_free();
	braid_rtx_poll(c, &out, 20000000);                 /* 2x not reached */
	CU_ASSERT(out.n == 0);
	braid_rtx_poll(c, &out, 21000000);
	CU_ASSERT(out.n == 1);
	out_free();
	braid_rtx_poll(c, &out, 500000000);                /* at most two */
	CU_ASSERT(out.n == 0);
	store1(c, 0, 43, 600000000);                       /* new data re-arms */
	braid_rtx_poll(c, &out, 610000000);
	CU_ASSERT(out.n == 1 && braid_meta(out.pkts[0])->seq == 43);
	out_free();
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.tail_probes == 3);
	braid_rtx_free(c);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* class_enable(): off releases everything and acts as a class without
 * ARQ (pass-through, lookups EINVAL, no tail probe); on caches again as a
 * new stream. Class 1 has no cache, class 2 must not be disturbed. */
static void
test_class_enable(void)
{
	struct braid_rtx_class_conf cc[3] = {
		{ .window_ms = 1000, .max_packets = 64 },
		{ .window_ms = 0 },
		{ .window_ms = 1000, .max_packets = 64 },
	};
	struct braid_rtx_conf conf = {
		.name = "rtx_onoff", .n_classes = 3, .classes = cc,
		.clone_pool = clone_pool, .tail_probe_ns = 10 * MS,
	};
	struct braid_rtx *c = braid_rtx_create(&conf, SOCKET_ID_ANY);
	struct rte_mbuf *pk[10], *held[5];
	struct braid_rtx_stats cnt, cnt0;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(braid_rtx_class_enabled(c, 0) && braid_rtx_class_enabled(c, 2));
	CU_ASSERT(!braid_rtx_class_enabled(c, 1));
	CU_ASSERT(!braid_rtx_class_enabled(c, 3));
	CU_ASSERT(braid_rtx_class_enable(c, 1, true) == -ENOTSUP);
	CU_ASSERT(braid_rtx_class_enable(c, 1, false) == -ENOTSUP);
	CU_ASSERT(braid_rtx_class_enable(c, 3, false) == -EINVAL);
	CU_ASSERT(braid_rtx_class_enable(c, BRAID_RTX_ALL_CLASSES, false) == -EINVAL);
	CU_ASSERT(braid_rtx_class_enable(c, 0, true) == 0);   /* already on */

	/* Class 0: seqs 0..9 cached; the test keeps 5..9 passed on. */
	for (uint32_t i = 0; i < 10; i++) {
		pk[i] = mk(0, i, 0);
		CU_ASSERT_FATAL(pk[i] != NULL);
	}
	braid_rtx_burst(c, pk, 10, &out, 0);
	CU_ASSERT_FATAL(out.n == 10);
	rte_pktmbuf_free_bulk(out.pkts, 5);
	memcpy(held, &out.pkts[5], sizeof(held));
	out.n = 0;
	for (uint32_t s = 100; s < 103; s++)
		store1(c, 2, s, 0);
	CU_ASSERT(braid_rtx_cached(c, 0) == 10 && braid_rtx_cached(c, 2) == 3);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 13);

	/* Off: every reference of class 0 is released now. */
	CU_ASSERT(braid_rtx_class_enable(c, 0, false) == 0);
	CU_ASSERT(!braid_rtx_class_enabled(c, 0));
	CU_ASSERT(braid_rtx_cached(c, 0) == 0 && braid_rtx_cached(c, 2) == 3);
	CU_ASSERT(braid_rtx_capacity(c, 0) == 64);   /* ring kept */
	CU_ASSERT(rte_mempool_in_use_count(pool) == 5 + 3);
	for (int i = 0; i < 5; i++)
		CU_ASSERT(rte_mbuf_refcnt_read(held[i]) == 1);
	braid_rtx_stats(c, &cnt0);
	CU_ASSERT(cnt0.released_drain == 10 && cnt0.stored == 13);
	CU_ASSERT(braid_rtx_class_enable(c, 0, false) == 0);   /* no-op */
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.released_drain == 10);

	/* Nothing to find: lookups and serves all miss; poll sends nothing. */
	CU_ASSERT(braid_rtx_lookup(c, 0, 7, MS) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	CU_ASSERT(braid_rtx_serve(c, 0, 7, 1, MS) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	CU_ASSERT(braid_rtx_serve(c, 0, 8, 1, MS) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	braid_rtx_poll(c, &out, MS);
	CU_ASSERT(out.n == 0);

	/* Later class-0 packets pass through uncached. */
	for (uint32_t i = 0; i < 5; i++) {
		pk[i] = mk(0, 10 + i, 0);
		CU_ASSERT_FATAL(pk[i] != NULL);
	}
	braid_rtx_burst(c, pk, 5, &out, 2 * MS);
	CU_ASSERT(out.n == 5);
	for (int i = 0; i < 5 && i < out.n; i++) {
		CU_ASSERT(out.pkts[i] == pk[i]);
		CU_ASSERT(rte_mbuf_refcnt_read(pk[i]) == 1);
	}
	out_free();
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(braid_rtx_lookup(c, 0, 12, 2 * MS) == NULL && rte_errno == EINVAL);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.stored == 13 && cnt.not_cached == 5);
	CU_ASSERT(cnt.miss_bad_class == 4 && cnt.missed == 4);

	/* Tail probes: class 2 (idle since 0) gets its two, class 0 none. */
	for (uint64_t t = 5 * MS; t <= 200 * MS; t += 5 * MS) {
		braid_rtx_poll(c, &out, t);
		for (uint16_t i = 0; i < out.n; i++)
			CU_ASSERT(braid_meta(out.pkts[i])->class_id == 2);
		out_free();
	}
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.tail_probes == 2);

	/* On again: a fresh window from the next packet. */
	CU_ASSERT(braid_rtx_class_enable(c, 0, true) == 0);
	CU_ASSERT(braid_rtx_class_enabled(c, 0));
	CU_ASSERT(braid_rtx_class_enable(c, 0, true) == 0);   /* no-op */
	for (uint32_t s = 20; s < 23; s++)
		store1(c, 0, s, 300 * MS);
	CU_ASSERT(braid_rtx_cached(c, 0) == 3);
	CU_ASSERT(braid_rtx_lookup(c, 0, 21, 300 * MS) != NULL);
	CU_ASSERT(braid_rtx_lookup(c, 0, 7, 300 * MS) == NULL);
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	CU_ASSERT(braid_rtx_lookup(c, 0, 12, 300 * MS) == NULL);   /* passed while off */
	CU_ASSERT(rte_errno == BRAID_RTX_MISS_NEVER_STORED);
	braid_rtx_poll(c, &out, 310 * MS);                            /* probes resume */
	CU_ASSERT_FATAL(out.n == 1);
	CU_ASSERT(braid_meta(out.pkts[0])->class_id == 0);
	CU_ASSERT(braid_meta(out.pkts[0])->seq == 22);
	out_free();
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.stored == 16 && cnt.tail_probes == 3);

	braid_rtx_free(c);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 5);   /* the test's own */
	rte_pktmbuf_free_bulk(held, 5);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

static void
test_stage_ops(void)
{
	struct braid_rtx *c = mk_rtx(100, 64, 0);
	struct rte_mbuf *pk[4];
	struct stat_seen st = { 0 };

	CU_ASSERT_FATAL(c != NULL);
	for (int i = 0; i < 4; i++) {
		pk[i] = mk(0, (uint32_t)i, 0);
		CU_ASSERT_FATAL(pk[i] != NULL);
	}
	braid_rtx_stage_ops.process(c, pk, 4, &out, 0);
	CU_ASSERT(out.n == 4);
	out_free();
	braid_rtx_stage_ops.stats(c, stat_cb, &st);
	CU_ASSERT(st.stored == 4 && st.cached == 4);
	CU_ASSERT(st.n == 18);   /* 17 counters + cached */
	CU_ASSERT(braid_rtx_stage_ops.poll(c, &out, 0) == 0);
	CU_ASSERT(braid_rtx_stage_ops.drain(c, &out, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_free(c);
}

/*
 * Reference model: unwrapped 64-bit seqs. A lookup of s hits iff s is
 * within the last `size` seqs up to the newest stored, was stored, and its
 * last store is younger than the window.
 */
#define MODEL_SPAN (1u << 18)

struct model {
	uint64_t base;        /* unwrapped seq of index 0 */
	bool started;
	uint64_t head;        /* newest + 1 */
	uint64_t size, window;
	uint64_t t[MODEL_SPAN];
	struct rte_mbuf *m[MODEL_SPAN];
	bool stored[MODEL_SPAN];
};

static int
model_lookup(const struct model *md, uint64_t u, uint64_t now, struct rte_mbuf **m)
{
	uint64_t i = u - md->base;

	if (!md->started || u >= md->head)
		return BRAID_RTX_MISS_NEVER_STORED;
	if (md->head - u > md->size)
		return BRAID_RTX_MISS_OVERWRITTEN;
	if (u < md->base || !md->stored[i])
		return BRAID_RTX_MISS_NEVER_STORED;
	if (now >= md->t[i] + md->window)
		return BRAID_RTX_MISS_EXPIRED;
	*m = md->m[i];
	return 0;
}

static void
test_model_random(void)
{
	uint64_t seed = braid_test_seed(0x5eed0001);
	uint64_t st = seed;
	struct model *md = calloc(1, sizeof(*md));
	const uint32_t size = 128;
	struct braid_rtx *c = mk_rtx(5, size, 32);
	struct braid_rtx_stats cnt;
	uint64_t now = 0, cursor, n_stored = 0, n_old = 0, checks = 0, hits = 0;
	uint64_t reasons[4] = { 0 };

	printf("\n  seed=0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	CU_ASSERT_FATAL(md != NULL && c != NULL);
	md->base = 0xFFFFF000u;   /* the stream wraps 2^32 */
	md->size = size;
	md->window = 5 * MS;
	cursor = md->base + 2 * size + 64;   /* room for late seqs below */

	for (int step = 0; step < 8000; step++) {
		struct rte_mbuf *pk[32];
		uint64_t us[32];
		unsigned int want = 1 + braid_test_rand(&st) % 32, n = 0;

		for (unsigned int i = 0; i < want; i++) {
			uint64_t r = braid_test_rand(&st) % 1000;
			uint64_t u;

			if (r < 30) {
				u = cursor - 1 - braid_test_rand(&st) % (2 * size);  /* late */
			} else if (r < 80) {
				cursor += 1 + braid_test_rand(&st) % 8;             /* gap */
				u = cursor++;
			} else if (r < 83) {
				cursor += size / 2 + braid_test_rand(&st) % (2 * size); /* jump */
				u = cursor++;
			} else {
				u = cursor++;
			}
			if (u - md->base >= MODEL_SPAN - 16)
				break;
			pk[n] = mk(braid_test_rand(&st) % 8 == 0 ? 1 : 0, (uint32_t)u, 0);
			CU_ASSERT_FATAL(pk[n] != NULL);
			us[n++] = u;
		}
		if (n == 0)
			break;
		braid_rtx_burst(c, pk, (uint16_t)n, &out, now);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t u = us[i], idx = u - md->base;

			if (braid_meta(pk[i])->class_id != 0)
				continue;
			if (!md->started) {
				md->started = true;
				md->head = u + 1;
			} else if (u >= md->head) {
				md->head = u + 1;
			} else if (md->head - u > md->size) {
				n_old++;
				continue;
			}
			md->stored[idx] = true;
			md->t[idx] = now;
			md->m[idx] = pk[i];
			n_stored++;
		}
		out_free();

		now += braid_test_rand(&st) % (2 * MS);
		if (braid_test_rand(&st) % 2 == 0)
			braid_rtx_poll(c, &out, now);
		CU_ASSERT(out.n == 0);

		for (int q = 0; q < 8; q++) {
			uint64_t u = cursor - 1 - braid_test_rand(&st) % (3 * size);
			struct rte_mbuf *want = NULL, *got;
			int why = model_lookup(md, u, now, &want);

			got = braid_rtx_lookup(c, 0, (uint32_t)u, now);
			checks++;
			if (why == 0) {
				CU_ASSERT(got == want);
				if (got != NULL)
					CU_ASSERT(braid_meta(got)->seq == (uint32_t)u);
				hits++;
			} else {
				CU_ASSERT(got == NULL);
				CU_ASSERT(rte_errno == why);
				reasons[why == BRAID_RTX_MISS_EXPIRED ? 1 :
					why == BRAID_RTX_MISS_OVERWRITTEN ? 2 : 3]++;
			}
		}
		/* Bounded memory: never more live than slots; the pool holds
		 * exactly what is cached. */
		CU_ASSERT(braid_rtx_cached(c, 0) <= size);
		CU_ASSERT(rte_mempool_in_use_count(pool) ==
			  braid_rtx_cached(c, 0) + braid_rtx_cached(c, 2));
	}
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.stored == n_stored);
	CU_ASSERT(cnt.skipped_too_old == n_old);
	CU_ASSERT(cnt.lookup_hit == hits);
	CU_ASSERT(cnt.missed == checks - hits);
	printf("  %" PRIu64 " stored, %" PRIu64 " lookups: %" PRIu64 " hit, %" PRIu64
	       " expired, %" PRIu64 " overwritten, %" PRIu64 " never stored\n",
	       n_stored, checks, hits, reasons[1], reasons[2], reasons[3]);
	/* Each reason must have been exercised for the test to mean much. */
	CU_ASSERT(hits > 0 && reasons[1] > 0 && reasons[2] > 0 && reasons[3] > 0);

	/* Past every window, polling releases everything. */
	now += 21 * MS;
	for (int i = 0; i < 10000 && braid_rtx_poll(c, &out, now) != 0; i++)
		;
	CU_ASSERT(braid_rtx_cached(c, 0) == 0);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	braid_rtx_stats(c, &cnt);
	CU_ASSERT(cnt.stored == cnt.expired + cnt.evicted_overwrite);
	braid_rtx_free(c);
	free(md);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("rtx", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "store filter, pass-through", test_store_filter) == NULL ||
	    CU_add_test(s, "lookup reasons", test_lookup_reasons) == NULL ||
	    CU_add_test(s, "expiry oldest first, bounded", test_expire_budget) == NULL ||
	    CU_add_test(s, "late store behind the walk", test_late_store) == NULL ||
	    CU_add_test(s, "wraparound at 2^32", test_wraparound) == NULL ||
	    CU_add_test(s, "multi-segment refcounts", test_multiseg_refcount) == NULL ||
	    CU_add_test(s, "serve clone", test_serve) == NULL ||
	    CU_add_test(s, "serve without clone pool", test_serve_nomem) == NULL ||
	    CU_add_test(s, "output full", test_out_full) == NULL ||
	    CU_add_test(s, "reset", test_reset) == NULL ||
	    CU_add_test(s, "stage ops", test_stage_ops) == NULL ||
	    CU_add_test(s, "tail-loss probe", test_tail_probe) == NULL ||
	    CU_add_test(s, "class on/off", test_class_enable) == NULL ||
	    CU_add_test(s, "random vs reference model", test_model_random) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("rtx", register_tests);
}
