/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sched: DRR shares, priority cap, link pacing, backup/pin/duplicate
 * policies, drops and leaks, and the fast picks against the reference.
 * Time is virtual: every test drives now_ns itself.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_meta.h"
#include "braid_sched.h"
#include "harness.h"
#include "sched_priv.h"

#define MTU 1500U
#define SEC 1000000000ULL

static struct rte_mempool *pool;
static struct rte_mempool *clone_pool;
static uint64_t seed;

/* ------------------------------------------------------------------ */

static struct rte_mbuf *
mk_pkt(uint16_t cls, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct braid_meta *meta;

	if (m == NULL)
		return NULL;
	if (rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	meta = braid_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->class_id = cls;
	meta->link_id = BRAID_LINK_NONE;
	return m;
}

static uint32_t
rand_len(uint64_t *st)
{
	return 64 + (uint32_t)(braid_test_rand(st) % (MTU - 64 + 1));
}

/* A non-zero xorshift state for one test, from the suite seed. */
static uint64_t
sub_seed(uint64_t k)
{
	uint64_t z = seed + k * 0x9E3779B97F4A7C15ULL;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (z ^ (z >> 31)) | 1;
}

static void
free_all(struct rte_mbuf **pkts, unsigned int n)
{
	if (n > 0)
		rte_pktmbuf_free_bulk(pkts, n);
}

static void
assert_no_leak(void)
{
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(clone_pool), 0);
}

/* One stripe link per entry of caps[] (kbps), n_classes stripe classes. */
static void
conf_basic(struct braid_sched_conf *c, unsigned int n_classes,
	   const uint64_t *caps, unsigned int n_links)
{
	memset(c, 0, sizeof(*c));
	c->n_classes = (uint16_t)n_classes;
	c->n_links = (uint16_t)n_links;
	c->mtu = MTU;
	c->clone_pool = clone_pool;
	for (unsigned int i = 0; i < n_classes; i++) {
		c->classes[i].weight = 1;
		c->classes[i].queue_size = 256;
	}
	for (unsigned int l = 0; l < n_links; l++)
		c->links[l].capacity_kbps = caps[l];
}

/* Keep class @p cls at @p depth queued packets (random lengths). */
static void
top_up(struct braid_sched *s, uint16_t cls, unsigned int depth, uint64_t *st)
{
	while (braid_sched_class_backlog(s, cls) < depth) {
		struct rte_mbuf *m = mk_pkt(cls, rand_len(st));

		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
}

static unsigned int
backlog_total(const struct braid_sched *s, unsigned int nc)
{
	unsigned int sum = 0;

	for (unsigned int i = 0; i < nc; i++)
		sum += braid_sched_class_backlog(s, (uint16_t)i);
	return sum;
}

static void
drain_free(struct braid_sched *s)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = braid_sched_drain(s, pkts, RTE_DIM(pkts))) != 0)
		free_all(pkts, n);
}

/* ------------------------------------------------------------------ */

static void
expect_bad(const struct braid_sched_conf *c)
{
	struct braid_sched *s;

	rte_errno = 0;
	s = braid_sched_create(c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	braid_sched_free(s);
}

/* A live FEC change: default link buckets grow with it (fec_growth has
 * the traffic); an explicit bucket refuses a charge it cannot hold. */
static void
test_set_fec(void)
{
	static const uint64_t caps[2] = { 5000, 5000 };
	struct braid_sched_conf c;
	struct braid_sched *s;

	conf_basic(&c, 2, caps, 2);
	c.classes[0].fec_k = 4;
	c.classes[0].fec_m = 2;             /* factor 1.5 */
	c.links[1].bucket_bytes = MTU * 3 / 2;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 8, 4));    /* 1.5 */
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 0, 0));
	CU_ASSERT_FALSE(braid_sched_class_fec_fits(s, 2, 2));   /* 2.0 */
	CU_ASSERT_FALSE(braid_sched_class_fec_fits(s, 4, 0));
	CU_ASSERT_FALSE(braid_sched_class_fec_fits(s, 200, 100));
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 8, 4), 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 2, 2), -ERANGE);
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 4, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 200, 100), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 2, 4, 2), -EINVAL);
	braid_sched_free(s);

	/* Default buckets everywhere: the larger factor is taken. */
	c.links[1].bucket_bytes = 0;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 2, 2));
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 1, 254));
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 1, 2, 2), 0);
	braid_sched_free(s);
}

/* At @p t0 (a full bucket), charge @p owed bytes sent outside the
 * scheduler and queue a 1000-byte packet: it must still wait at t0 +
 * @p not_before; polled every 0.1 ms from there, when does it leave
 * (ns after t0; 0.1 s later at most)? */
static uint64_t
owed_send_time(struct braid_sched *s, uint64_t t0, uint64_t owed, uint64_t not_before)
{
	struct rte_mbuf *m, *out[4];
	uint16_t got = 0;
	uint64_t t;

	CU_ASSERT_EQUAL(braid_sched_dequeue(s, out, 4, t0), 0);
	CU_ASSERT_EQUAL(braid_sched_link_charge(s, 0, owed), 0);
	m = mk_pkt(0, 1000);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(braid_sched_enqueue(s, &m, 1), 1);
	CU_ASSERT_EQUAL(braid_sched_dequeue(s, out, 4, t0 + not_before), 0);
	for (t = t0 + not_before + 100000; got == 0 && t < t0 + 200000000ULL; t += 100000)
		got = braid_sched_dequeue(s, out, 4, t);
	CU_ASSERT_EQUAL(got, 1);
	rte_pktmbuf_free_bulk(out, got);
	return t - t0;
}

/* Bytes sent outside the scheduler are charged to the link: with the
 * bucket emptied and more owed than a bucket on a 1 MB/s link, a
 * 1000-byte packet waits until the (capped) debt and its own bytes are
 * earned. */
static void
test_link_charge(void)
{
	static const uint64_t caps[1] = { 8000 };        /* 1 MB/s */
	struct braid_sched_conf c;
	struct braid_sched *s;
	uint64_t t;

	conf_basic(&c, 1, caps, 1);
	c.links[0].bucket_bytes = 3000;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(braid_sched_link_charge(s, 1, 10), -EINVAL);
	/* Fill the bucket at t = 1 s, then spend it all plus 10 kB: the debt
	 * (10 kB) is paid first, 10000 + 1000 bytes = 11 ms. */
	t = owed_send_time(s, 1000000000ULL, 13000, 10900000ULL);
	printf("\n    10 kB owed: sent at %.1f ms", (double)t / 1e6);
	CU_ASSERT(t >= 10900000ULL && t <= 12000000ULL);
	/* A debt beyond 100 ms of the rate (100 kB) is capped there: 500 kB
	 * charged at t = 2 s hold the next packet 100 + 1 ms, not 500. */
	t = owed_send_time(s, 2000000000ULL, 503000, 100900000ULL);
	printf(", 500 kB owed: sent at %.1f ms ", (double)t / 1e6);
	CU_ASSERT(t >= 100900000ULL && t <= 102000000ULL);
	braid_sched_free(s);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

static void
test_conf_invalid(void)
{
	static const uint64_t caps[2] = { 5000, 5000 };
	struct braid_sched_conf c;
	struct braid_sched *s;

	conf_basic(&c, 2, caps, 2);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	braid_sched_free(s);

	conf_basic(&c, 2, caps, 2);
	c.classes[1].weight = 0;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.n_classes = 0;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.n_links = BRAID_SCHED_MAX_LINKS + 1;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.base_quantum = MTU - 1;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.mtu = 20;
	expect_bad(&c);
	/* A priority class without a cap, two priority classes. */
	conf_basic(&c, 2, caps, 2);
	c.classes[0].priority = true;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].priority = true;
	c.classes[0].rate_cap_kbps = 100;
	c.classes[1].priority = true;
	c.classes[1].rate_cap_kbps = 100;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].policy = BRAID_SCHED_PIN;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].policy = BRAID_SCHED_PIN;
	c.classes[0].link_mask = 0x4;
	expect_bad(&c);
	/* Stripe with a mask. */
	conf_basic(&c, 2, caps, 2);
	c.classes[0].link_mask = 0x1;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].policy = BRAID_SCHED_DUPLICATE;
	c.classes[0].dup_copies = 3;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].policy = BRAID_SCHED_DUPLICATE;
	c.classes[0].dup_copies = 2;
	c.clone_pool = NULL;
	expect_bad(&c);
	/* FEC m without k, k without m. */
	conf_basic(&c, 2, caps, 2);
	c.classes[0].fec_m = 2;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].fec_k = 4;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.links[0].capacity_kbps = 0;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.links[1].weight_factor = 1001;
	expect_bad(&c);
	/* Bucket smaller than the largest charge: 1500 * (4+4)/4. */
	conf_basic(&c, 2, caps, 2);
	c.classes[0].fec_k = 4;
	c.classes[0].fec_m = 4;
	c.links[0].bucket_bytes = 2999;
	expect_bad(&c);
	conf_basic(&c, 2, caps, 2);
	c.classes[0].queue_size = BRAID_SCHED_QUEUE_MAX + 1;
	expect_bad(&c);

	/* The same bucket is fine without FEC; a 1-MTU bucket is allowed. */
	conf_basic(&c, 2, caps, 2);
	c.links[0].bucket_bytes = MTU;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL(s);
	braid_sched_free(s);
	CU_ASSERT_PTR_NULL(braid_sched_ref_create(NULL));
}

/* ------------------------------------------------------------------ */

/* Link DRR: the one-pass pick against the visit-by-visit reference. */
static void
test_link_drr_vs_ref(void)
{
	uint64_t st = sub_seed(0x11);
	unsigned int picks = 0;

	for (unsigned int round = 0; round < 300; round++) {
		struct sched_link_drr a, b;

		memset(&a, 0, sizeof(a));
		a.n = 1 + (unsigned int)(braid_test_rand(&st) % 8);
		a.cur = (unsigned int)(braid_test_rand(&st) % a.n);
		for (unsigned int i = 0; i < a.n; i++) {
			/* Quanta down to 1/40 of a charge: many idle rounds. */
			a.quantum[i] = 50 + braid_test_rand(&st) % 3000;
			a.deficit[i] = braid_test_rand(&st) % 3000;
		}
		b = a;
		for (unsigned int k = 0; k < 400; k++) {
			uint32_t elig = (uint32_t)braid_test_rand(&st) & ((1U << a.n) - 1);
			uint64_t charge = 64 + braid_test_rand(&st) % 2000;
			int pa = sched_link_drr_pick(&a, elig, charge);
			int pb = sched_ref_link_drr_pick(&b, elig, charge);

			CU_ASSERT_EQUAL_FATAL(pa, pb);
			if (elig != 0) {
				CU_ASSERT_TRUE_FATAL(pa >= 0 && ((elig >> pa) & 1));
				CU_ASSERT_EQUAL_FATAL(a.cur, b.cur);
				CU_ASSERT_EQUAL_FATAL(memcmp(a.deficit, b.deficit,
						     sizeof(a.deficit)), 0);
				picks++;
			}
		}
	}
	CU_ASSERT(picks > 100000);
}

/* ------------------------------------------------------------------ */

/*
 * Drive the scheduler and the reference with the same random enqueues and
 * dequeues; every dequeue must yield the same (class, len, seq) in order.
 * ample: links never limit (priority class and queue-full included);
 * otherwise links are paced and every class stripes, so a dequeue stops
 * early, and the reference takes exactly as many picks.
 *
 * A paced dequeue that stops for tokens may already have given a quantum
 * to (and rotated) classes it passed on the way to the waiting head; the
 * reference gives the same quanta at its next pick. Both are DRR, but a
 * class that becomes active in between would queue behind the rotated
 * class in one and ahead of it in the other, so the paced run enqueues
 * only when no such grant can be pending: after a dequeue that filled its
 * array, or with nothing queued.
 */
static void
run_ref_compare(bool ample, uint64_t st, unsigned int *n_out)
{
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct braid_sched_ref *r;
	uint64_t caps[4];
	unsigned int nl = 1 + (unsigned int)(braid_test_rand(&st) % 4);
	unsigned int nc = 1 + (unsigned int)(braid_test_rand(&st) % 8);
	uint64_t now = 0;

	for (unsigned int l = 0; l < nl; l++)
		caps[l] = ample ? BRAID_SCHED_CAPACITY_MAX_KBPS :
			1000 + braid_test_rand(&st) % 20000;
	conf_basic(&c, nc, caps, (unsigned int)nl);
	if (braid_test_rand(&st) % 2)
		c.base_quantum = MTU + (uint32_t)(braid_test_rand(&st) % 3000);
	for (unsigned int i = 0; i < nc; i++) {
		struct braid_sched_class_conf *cc = &c.classes[i];

		cc->weight = 1 + (uint32_t)(braid_test_rand(&st) % 20);
		cc->queue_size = 4 + (uint32_t)(braid_test_rand(&st) % 60);
		cc->seq_start = (uint32_t)braid_test_rand(&st);
		if (braid_test_rand(&st) % 3 == 0) {
			cc->fec_k = 1 + (uint8_t)(braid_test_rand(&st) % 10);
			cc->fec_m = 1 + (uint8_t)(braid_test_rand(&st) % 4);
		}
	}
	if (ample && braid_test_rand(&st) % 2) {
		struct braid_sched_class_conf *pc = &c.classes[braid_test_rand(&st) % nc];

		pc->priority = true;
		pc->rate_cap_kbps = 100 + braid_test_rand(&st) % 50000;
		if (braid_test_rand(&st) % 2)
			pc->cap_bucket_bytes = MTU + (uint32_t)(braid_test_rand(&st) % 6000);
	}
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	r = braid_sched_ref_create(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);

	for (unsigned int step = 0, in_sync = 1; step < 3000; step++) {
		struct rte_mbuf *pkts[48];
		unsigned int n = 1 + (unsigned int)(braid_test_rand(&st) % 40);
		unsigned int done = 0;
		uint16_t got;

		if (!ample && !in_sync)
			n = 0;

		for (unsigned int i = 0; i < n; i++) {
			pkts[i] = mk_pkt((uint16_t)(braid_test_rand(&st) % nc),
					 rand_len(&st));
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		}
		/* Enqueue like the stage: skip each refused packet. */
		while (done < n) {
			uint16_t k = braid_sched_enqueue(s, pkts + done,
							 (uint16_t)(n - done));

			for (unsigned int i = done; i < done + k; i++)
				CU_ASSERT_EQUAL_FATAL(braid_sched_ref_enqueue(r,
					braid_meta(pkts[i])->class_id,
					pkts[i]->pkt_len), 0);
			done += k;
			if (done == n)
				break;
			CU_ASSERT_EQUAL_FATAL(braid_sched_ref_enqueue(r,
				braid_meta(pkts[done])->class_id,
				pkts[done]->pkt_len), -ENOBUFS);
			rte_pktmbuf_free(pkts[done++]);
		}

		now += braid_test_rand(&st) % 2000000;
		n = 1 + (unsigned int)(braid_test_rand(&st) % 32);
		got = braid_sched_dequeue(s, pkts, (uint16_t)n, now);
		for (unsigned int i = 0; i < got; i++) {
			uint32_t len = 0, sq = 0;
			int rc = braid_sched_ref_pick(r, now, &len, &sq);

			CU_ASSERT_EQUAL_FATAL(rc, braid_meta(pkts[i])->class_id);
			CU_ASSERT_EQUAL_FATAL(len, pkts[i]->pkt_len);
			CU_ASSERT_EQUAL_FATAL(sq, braid_meta(pkts[i])->seq);
			CU_ASSERT_FATAL(braid_meta(pkts[i])->link_id < nl);
		}
		if (ample && got < n) {
			uint32_t len, sq;

			/* Stopped for a reason the reference sees too. */
			CU_ASSERT_EQUAL_FATAL(braid_sched_ref_pick(r, now, &len, &sq), -1);
		}
		*n_out += got;
		free_all(pkts, got);
		in_sync = got == n || backlog_total(s, nc) == 0;
	}
	braid_sched_free(s);
	braid_sched_ref_free(r);
	assert_no_leak();
}

static void
test_ref_compare_ample(void)
{
	uint64_t st = sub_seed(0x22);
	unsigned int out = 0;

	for (unsigned int i = 0; i < 12; i++)
		run_ref_compare(true, braid_test_rand(&st) | 1, &out);
	printf("\n    ample: %u packets compared ", out);
	CU_ASSERT(out > 100000);
}

static void
test_ref_compare_paced(void)
{
	uint64_t st = sub_seed(0x33);
	unsigned int out = 0;

	for (unsigned int i = 0; i < 12; i++)
		run_ref_compare(false, braid_test_rand(&st) | 1, &out);
	printf("\n    paced: %u packets compared ", out);
	CU_ASSERT(out > 50000);
}

/* ------------------------------------------------------------------ */

/* Backlogged classes share bytes by weight (DRR). */
static void
run_share(struct braid_sched *s, unsigned int nc, const uint32_t *w,
	  unsigned int total_pkts, uint64_t *st, uint64_t *now)
{
	uint64_t bytes[BRAID_SCHED_MAX_CLASSES] = { 0 };
	uint64_t sum = 0, wsum = 0;
	unsigned int sent = 0;

	while (sent < total_pkts) {
		struct rte_mbuf *pkts[32];
		uint16_t got;

		for (unsigned int i = 0; i < nc; i++)
			top_up(s, (uint16_t)i, 40, st);
		*now += 10000;
		got = braid_sched_dequeue(s, pkts, 32, *now);
		CU_ASSERT_FATAL(got > 0);
		for (unsigned int i = 0; i < got; i++) {
			bytes[braid_meta(pkts[i])->class_id] += pkts[i]->pkt_len;
			sum += pkts[i]->pkt_len;
		}
		sent += got;
		free_all(pkts, got);
	}
	for (unsigned int i = 0; i < nc; i++)
		wsum += w[i];
	for (unsigned int i = 0; i < nc; i++) {
		double share = (double)bytes[i] / (double)sum;
		double want = (double)w[i] / (double)wsum;

		if (fabs(share - want) > 0.01 * want)
			printf("\n    class %u weight %u share %.5f want %.5f ",
			       i, w[i], share, want);
		CU_ASSERT(fabs(share - want) <= 0.01 * want);
	}
}

static void
test_class_share(void)
{
	static const uint64_t caps[3] = { BRAID_SCHED_CAPACITY_MAX_KBPS,
		BRAID_SCHED_CAPACITY_MAX_KBPS, BRAID_SCHED_CAPACITY_MAX_KBPS };
	uint64_t st = sub_seed(0x44);
	uint64_t now = 0;

	for (unsigned int round = 0; round < 2; round++) {
		struct braid_sched_conf c;
		struct braid_sched *s;
		uint32_t w[8];
		unsigned int nc = 3 + round * 3;

		conf_basic(&c, nc, caps, 3);
		for (unsigned int i = 0; i < nc; i++) {
			w[i] = 1 + (uint32_t)(braid_test_rand(&st) % 10);
			c.classes[i].weight = w[i];
			if (i % 2)   /* FEC changes link charges, not class shares */
				c.classes[i].fec_k = 8, c.classes[i].fec_m = 2;
		}
		s = braid_sched_create(&c, SOCKET_ID_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		run_share(s, nc, w, 100000, &st, &now);

		/* Runtime weight change: the new shares hold. */
		for (unsigned int i = 0; i < nc; i++) {
			w[i] = 1 + (uint32_t)(braid_test_rand(&st) % 10);
			CU_ASSERT_EQUAL(braid_sched_class_set_weight(s, (uint16_t)i, w[i]), 0);
		}
		CU_ASSERT_EQUAL(braid_sched_class_set_weight(s, 0, 0), -EINVAL);
		CU_ASSERT_EQUAL(braid_sched_class_set_weight(s, (uint16_t)nc, 1), -EINVAL);
		/* Drop the backlog built under the old weights first. */
		drain_free(s);
		run_share(s, nc, w, 100000, &st, &now);
		drain_free(s);
		braid_sched_free(s);
	}
	assert_no_leak();
}

/* ------------------------------------------------------------------ */

/* Sliding-window check: in every window [t_i, t_j] the link sent at most
 * rate * (t_j - t_i) + depth bytes. */
struct link_log {
	unsigned int n, cap;
	uint64_t *t;
	double *bytes;       /* exact charge: len * (k + m) / k */
};

static void
log_add(struct link_log *lg, uint64_t t, double b)
{
	if (lg->n > 0 && lg->t[lg->n - 1] == t) {
		lg->bytes[lg->n - 1] += b;
		return;
	}
	if (lg->n == lg->cap) {
		lg->cap = lg->cap ? lg->cap * 2 : 4096;
		lg->t = realloc(lg->t, lg->cap * sizeof(*lg->t));
		lg->bytes = realloc(lg->bytes, lg->cap * sizeof(*lg->bytes));
		CU_ASSERT_FATAL(lg->t != NULL && lg->bytes != NULL);
	}
	lg->t[lg->n] = t;
	lg->bytes[lg->n++] = b;
}

/* @return the worst excess over the bound (<= 0 when the bound holds). */
static double
log_check(const struct link_log *lg, uint64_t rate_Bps, uint64_t depth)
{
	static const uint64_t windows[] = { 0, 100000, 1000000, 10000000,
					    100000000, 1000000000 };
	double worst = -1e18;

	for (unsigned int w = 0; w < RTE_DIM(windows); w++) {
		unsigned int j = 0;
		double sum = 0;

		for (unsigned int i = 0; i < lg->n; i++) {
			double bound;

			if (j < i) {
				j = i;
				sum = 0;
			}
			while (j < lg->n && lg->t[j] - lg->t[i] <= windows[w])
				sum += lg->bytes[j++];
			bound = (double)rate_Bps * (double)(lg->t[j - 1] - lg->t[i]) /
				1e9 + (double)depth;
			worst = RTE_MAX(worst, sum - bound);
			sum -= lg->bytes[i];
		}
	}
	return worst;
}

static void
test_link_pacing(void)
{
	static const uint64_t caps[3] = { 2000, 5000, 8000 };
	uint64_t st = sub_seed(0x55);
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct link_log lg[3];
	uint64_t depth[3];
	double total[3] = { 0 }, sum = 0;
	uint64_t now = 0;
	double kf[2] = { 1.0, 14.0 / 10.0 };

	conf_basic(&c, 2, caps, 3);
	c.classes[1].fec_k = 10;
	c.classes[1].fec_m = 4;
	c.classes[1].weight = 3;
	c.links[1].bucket_bytes = 2100;     /* one charge: 1500 * 14 / 10 */
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* Default depth: max(2 * MTU, largest charge, 1 ms of rate). */
	depth[0] = RTE_MAX(2ULL * MTU, 2100ULL);
	depth[1] = 2100;
	depth[2] = RTE_MAX(2ULL * MTU, 8000ULL / 8);
	memset(lg, 0, sizeof(lg));

	/* Saturated: both classes always backlogged, 20 s of virtual time
	 * in random steps of 1..300 us. */
	while (now < 20 * SEC) {
		struct rte_mbuf *pkts[32];
		uint16_t got;

		top_up(s, 0, 64, &st);
		top_up(s, 1, 64, &st);
		now += 1000 + braid_test_rand(&st) % 300000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++) {
			struct braid_meta *m = braid_meta(pkts[i]);
			double b = pkts[i]->pkt_len * kf[m->class_id];

			CU_ASSERT_FATAL(m->link_id < 3);
			log_add(&lg[m->link_id], now, b);
			total[m->link_id] += b;
			sum += b;
		}
		free_all(pkts, got);
	}
	for (unsigned int l = 0; l < 3; l++) {
		double worst = log_check(&lg[l], caps[l] * 125, depth[l]);
		double share = total[l] / sum;
		double want = (double)caps[l] / 15000.0;
		struct braid_sched_link_stats ls;

		printf("\n    link %u: %u polls with sends, worst excess %.1f B, share %.4f (want %.4f) ",
		       l, lg[l].n, worst, share, want);
		CU_ASSERT(worst <= 1e-6);
		CU_ASSERT(fabs(share - want) <= 0.02 * want);
		/* Saturated: each link ran at its rate (>= 99%). */
		CU_ASSERT(total[l] >= 0.99 * caps[l] * 125.0 * 20);
		braid_sched_link_stats(s, (uint16_t)l, &ls);
		CU_ASSERT(ls.starved_polls > 0);
		CU_ASSERT(fabs((double)ls.charged_bytes - total[l]) <= ls.sent_pkts);
		free(lg[l].t);
		free(lg[l].bytes);
	}
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/*
 * Offer @p load_kbps of class 0 (1000-byte packets, smooth arrivals) for
 * @p secs of virtual time; add what each link sent to bytes[].
 */
static void
offer(struct braid_sched *s, uint64_t load_kbps, unsigned int secs,
      uint64_t *now, uint64_t *st, uint64_t *bytes)
{
	uint64_t end = *now + secs * SEC;
	double credit = 0;

	while (*now < end) {
		struct rte_mbuf *pkts[32];
		uint64_t dt = 1000 + braid_test_rand(st) % 200000;
		uint16_t got;

		*now += dt;
		credit += (double)load_kbps * 125.0 * (double)dt / 1e9;
		while (credit >= 1000) {
			struct rte_mbuf *m = mk_pkt(0, 1000);

			CU_ASSERT_FATAL(m != NULL);
			if (braid_sched_enqueue(s, &m, 1) != 1)
				rte_pktmbuf_free(m);
			credit -= 1000;
		}
		got = braid_sched_dequeue(s, pkts, 32, *now);
		for (unsigned int i = 0; i < got; i++)
			bytes[braid_meta(pkts[i])->link_id] += pkts[i]->pkt_len;
		free_all(pkts, got);
	}
}

/* The frame overhead is charged: 1000-byte packets with 250 bytes of
 * overhead over saturated links carry 1000/1250 of each link's rate in
 * packet bytes (within the bucket's first burst). */
static void
test_frame_overhead(void)
{
	static const uint64_t caps[2] = { 4000, 8000 };
	uint64_t st = sub_seed(0x67);
	struct braid_sched_conf c;
	struct braid_sched *s;
	uint64_t now = 0;
	uint64_t b[2] = { 0, 0 };

	conf_basic(&c, 1, caps, 2);
	c.classes[0].queue_size = 4096;
	c.frame_overhead = 250;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	offer(s, 20000, 10, &now, &st, b);
	for (unsigned int l = 0; l < 2; l++) {
		double want = (double)caps[l] * 125 * 10 * 1000 / 1250;

		printf("\n    link %u: %.0f of %.0f bytes", l, (double)b[l], want);
		CU_ASSERT(b[l] >= want * 0.98 && b[l] <= want * 1.02);
	}
	printf("\n");
	c.frame_overhead = BRAID_SCHED_FRAME_OVERHEAD_MAX + 1;
	CU_ASSERT_PTR_NULL(braid_sched_create(&c, SOCKET_ID_ANY));
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* Below capacity the split follows capacity * weight factor. */
static void
test_capacity_split(void)
{
	static const uint64_t caps[3] = { 2000, 5000, 8000 };
	uint64_t st = sub_seed(0x66);
	struct braid_sched_conf c;
	struct braid_sched *s;
	uint64_t now = 0;
	const double f[2][3] = { { 2, 5, 8 }, { 2, 5, 4 } };

	conf_basic(&c, 1, caps, 3);
	c.classes[0].queue_size = 4096;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned int phase = 0; phase < 2; phase++) {
		uint64_t bytes[3] = { 0 }, sum = 0;

		if (phase == 1) {
			CU_ASSERT_EQUAL(braid_sched_link_set_weight(s, 2, 500), 0);
			CU_ASSERT_EQUAL(braid_sched_link_set_weight(s, 2, 0), -EINVAL);
		}
		offer(s, 7000, 30, &now, &st, bytes);
		for (unsigned int l = 0; l < 3; l++)
			sum += bytes[l];
		for (unsigned int l = 0; l < 3; l++) {
			double share = (double)bytes[l] / (double)sum;
			double want = f[phase][l] / (f[phase][0] + f[phase][1] + f[phase][2]);

			printf("\n    phase %u link %u share %.4f want %.4f ",
			       phase, l, share, want);
			CU_ASSERT(fabs(share - want) <= 0.02 * want);
		}
		/* Not saturated: the offered load went out. */
		CU_ASSERT(sum >= 7000ULL * 125 * 30 * 99 / 100);
	}
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* Runtime capacity change moves the rate; default depth follows it. */
static void
test_capacity_change(void)
{
	static const uint64_t caps[1] = { 8000 };
	uint64_t st = sub_seed(0x77);
	struct braid_sched_conf c;
	struct braid_sched *s;
	uint64_t now = 0;
	const uint64_t rates[3] = { 8000, 2000, 40000 };

	conf_basic(&c, 1, caps, 1);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned int ph = 0; ph < 3; ph++) {
		uint64_t bytes = 0, start = now;
		uint64_t depth = RTE_MAX(2ULL * MTU, rates[ph] / 8);

		CU_ASSERT_EQUAL(braid_sched_link_set_capacity(s, 0, rates[ph]), 0);
		/* The first poll after the change may still spend the old
		 * bucket: measure from the second. */
		while (now < start + 5 * SEC) {
			struct rte_mbuf *pkts[32];
			uint16_t got;

			top_up(s, 0, 64, &st);
			now += 1000 + braid_test_rand(&st) % 100000;
			got = braid_sched_dequeue(s, pkts, 32, now);
			for (unsigned int i = 0; i < got; i++)
				bytes += pkts[i]->pkt_len;
			free_all(pkts, got);
		}
		/* bytes <= old bucket + rate * T; >= rate * T - one packet. */
		CU_ASSERT((double)bytes <= rates[ph] * 125.0 * 5 + 3 * MTU + depth);
		CU_ASSERT((double)bytes >= rates[ph] * 125.0 * 5 * 0.99);
	}
	/* A day idle at 40 Mbit/s (dt * rate would overflow 64 bits): the
	 * bucket is full, not wrapped. */
	drain_free(s);
	now += 86400ULL * SEC;
	{
		struct rte_mbuf *pkts[32];
		uint64_t bytes = 0;
		uint16_t got;

		top_up(s, 0, 32, &st);
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++)
			bytes += pkts[i]->pkt_len;
		free_all(pkts, got);
		CU_ASSERT(bytes <= 40000 / 8);
		CU_ASSERT(got == 32 || bytes + MTU > 40000 / 8);
	}
	CU_ASSERT_EQUAL(braid_sched_link_set_capacity(s, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_link_set_capacity(s, 1, 1000), -EINVAL);
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* ------------------------------------------------------------------ */

/*
 * Priority class 0 capped at 1000 kbps on a 10000 kbps link, with two
 * backlogged DRR classes. Phase A (under cap): every poll that sends a DRR
 * packet leaves no priority packet behind, and priority packets lead each
 * output. Phase B (backlogged priority): its rate never exceeds the cap
 * over any window, it gets its cap, and the DRR classes get the rest.
 */
static void
test_priority(void)
{
	static const uint64_t caps[1] = { 10000 };
	uint64_t st = sub_seed(0x88);
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct link_log lg;
	uint64_t now = 0, prio_bytes = 0, other_bytes = 0, t0;
	double credit = 0;
	struct braid_sched_class_stats cs;

	conf_basic(&c, 3, caps, 1);
	c.classes[0].priority = true;
	c.classes[0].rate_cap_kbps = 1000;
	c.classes[0].queue_size = 512;
	c.classes[2].weight = 2;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	/* Phase A: 500 kbps of priority traffic, smooth. */
	while (now < 10 * SEC) {
		struct rte_mbuf *pkts[32];
		uint64_t dt = 1000 + braid_test_rand(&st) % 200000;
		bool seen_other = false;
		uint16_t got;

		now += dt;
		credit += 500 * 125.0 * (double)dt / 1e9;
		while (credit >= 800) {
			struct rte_mbuf *m = mk_pkt(0, 800);

			CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
			credit -= 800;
		}
		top_up(s, 1, 32, &st);
		top_up(s, 2, 32, &st);
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++) {
			if (braid_meta(pkts[i])->class_id == 0) {
				CU_ASSERT_FATAL(!seen_other);
			} else {
				seen_other = true;
			}
		}
		if (seen_other)
			CU_ASSERT_FATAL(braid_sched_class_backlog(s, 0) == 0);
		free_all(pkts, got);
	}
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT_EQUAL(cs.cap_wait_polls, 0);
	CU_ASSERT(cs.dequeued > 0);

	/* Phase B: priority always backlogged. */
	memset(&lg, 0, sizeof(lg));
	t0 = now;
	while (now < t0 + 20 * SEC) {
		struct rte_mbuf *pkts[32];
		uint16_t got;

		top_up(s, 0, 64, &st);
		top_up(s, 1, 32, &st);
		top_up(s, 2, 32, &st);
		now += 1000 + braid_test_rand(&st) % 300000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++) {
			if (braid_meta(pkts[i])->class_id == 0) {
				log_add(&lg, now, pkts[i]->pkt_len);
				prio_bytes += pkts[i]->pkt_len;
			} else {
				other_bytes += pkts[i]->pkt_len;
			}
		}
		free_all(pkts, got);
	}
	{
		double worst = log_check(&lg, 1000 * 125, 2 * MTU);

		printf("\n    priority: %" PRIu64 " B in 20 s (cap %u B), others %" PRIu64
		       " B, worst excess %.1f ", prio_bytes, 1000 * 125 * 20,
		       other_bytes, worst);
		CU_ASSERT(worst <= 1e-6);
	}
	CU_ASSERT(prio_bytes >= 1000 * 125 * 20 * 99 / 100);
	CU_ASSERT(prio_bytes <= 1000 * 125 * 20 + 2 * MTU);
	/* The rest of the link (9 Mbit/s) went to the DRR classes. */
	CU_ASSERT(other_bytes >= 9000ULL * 125 * 20 * 98 / 100);
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT(cs.cap_wait_polls > 0);
	free(lg.t);
	free(lg.bytes);
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* ------------------------------------------------------------------ */

/* One class over three 5 Mbit/s links, link 2 a backup. */
static struct braid_sched *
backup_sched(void)
{
	static const uint64_t caps[3] = { 5000, 5000, 5000 };
	struct braid_sched_conf c;

	conf_basic(&c, 1, caps, 3);
	c.classes[0].queue_size = 2048;
	c.links[2].backup = true;
	return braid_sched_create(&c, SOCKET_ID_ANY);
}

static void
test_backup(void)
{
	uint64_t st = sub_seed(0x99);
	struct braid_sched *s = backup_sched();
	uint64_t now = 0;
	uint64_t b[3];

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	/* 6 Mbit/s over 10 Mbit/s of primaries: the backup stays idle. */
	memset(b, 0, sizeof(b));
	offer(s, 6000, 10, &now, &st, b);
	CU_ASSERT(b[0] > 0 && b[1] > 0);
	CU_ASSERT_EQUAL(b[2], 0);

	/* 13 Mbit/s: primaries out of tokens, the backup takes the excess. */
	memset(b, 0, sizeof(b));
	offer(s, 13000, 10, &now, &st, b);
	CU_ASSERT(b[2] > 5000ULL * 125 * 10 / 4);
	CU_ASSERT(b[0] + b[1] + b[2] >= 13000ULL * 125 * 10 * 95 / 100);

	/* Primaries down: everything on the backup. */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 0, false), 0);
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 1, false), 0);
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 3, false), -EINVAL);
	memset(b, 0, sizeof(b));
	offer(s, 3000, 10, &now, &st, b);
	CU_ASSERT_EQUAL(b[0] + b[1], 0);
	CU_ASSERT(b[2] >= 3000ULL * 125 * 10 * 98 / 100);

	/* One primary back: the backup goes quiet again (after the first
	 * polls drain what queued while it was alone). */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 1, true), 0);
	memset(b, 0, sizeof(b));
	offer(s, 3000, 10, &now, &st, b);
	CU_ASSERT_EQUAL(b[0], 0);
	CU_ASSERT_EQUAL(b[2], 0);
	CU_ASSERT(b[1] >= 3000ULL * 125 * 10 * 98 / 100);
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* Live changes through braid_sched_apply(): backup moves between links,
 * a link goes down and up with a new rate, bad commands are refused. */
static void
test_apply(void)
{
	uint64_t st = sub_seed(0x9a);
	struct braid_sched *s = backup_sched();
	uint64_t now = 0;
	uint64_t b[3];

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	/* Link 0 becomes the backup, link 2 a primary. */
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_BACKUP, .id = 2, .link_backup.backup = false }), 0);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_BACKUP, .id = 0, .link_backup.backup = true }), 0);
	memset(b, 0, sizeof(b));
	offer(s, 6000, 10, &now, &st, b);
	CU_ASSERT_EQUAL(b[0], 0);
	CU_ASSERT(b[1] > 0 && b[2] > 0);
	/* Not every link a backup. */
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_BACKUP, .id = 1, .link_backup.backup = true }), 0);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_BACKUP, .id = 2, .link_backup.backup = true }), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_link_set_backup(s, 3, false), -EINVAL);
	/* Link 2 (the only primary) down: the backups carry it; back up at a
	 * higher rate: it carries everything again. */
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_STATE, .id = 2, .link_state = { false, 0 } }), 0);
	memset(b, 0, sizeof(b));
	offer(s, 3000, 10, &now, &st, b);
	CU_ASSERT_EQUAL(b[2], 0);
	CU_ASSERT(b[0] + b[1] >= 3000ULL * 125 * 10 * 98 / 100);
	/* Up with no usable capacity (a suspect link): still nothing there. */
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_STATE, .id = 2, .link_state = { true, 0 } }), 0);
	memset(b, 0, sizeof(b));
	offer(s, 3000, 10, &now, &st, b);
	CU_ASSERT_EQUAL(b[2], 0);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_STATE, .id = 2, .link_state = { true, 8000 } }), 0);
	memset(b, 0, sizeof(b));
	offer(s, 7000, 10, &now, &st, b);
	CU_ASSERT(b[2] >= 7000ULL * 125 * 10 * 95 / 100);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){ .op = 0 }), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_CLASS_WEIGHT, .id = 9, .class_weight.weight = 1 }), -EINVAL);
	drain_free(s);
	braid_sched_free(s);
	assert_no_leak();
}

/* ------------------------------------------------------------------ */


/* @p rounds polls 0.2 ms apart, classes 0..n_cls-1 kept backlogged:
 * count what each class sent on each link. */
static void
fit_rounds(struct braid_sched *s, unsigned int rounds, uint16_t n_cls, uint64_t *st,
	   uint64_t *now, unsigned int on_link[2][3])
{
	struct rte_mbuf *pkts[32];

	for (unsigned int round = 0; round < rounds; round++) {
		uint16_t got;

		for (uint16_t c = 0; c < n_cls; c++)
			top_up(s, c, 8, st);
		*now += 200000;
		got = braid_sched_dequeue(s, pkts, 32, *now);
		for (unsigned int i = 0; i < got; i++)
			on_link[braid_meta(pkts[i])->class_id][braid_meta(pkts[i])->link_id]++;
		free_all(pkts, got);
	}
}

/* Links in time (braid_sched_class_set_fit()): class 0 keeps to links 0
 * and 2 while class 1 uses all three; with both fit links down, class 0
 * goes on over link 1 and counts it (sent_unfit); back up, it leaves
 * link 1 again. A command sets the mask too; bad masks are refused. */
static void
test_fit(void)
{
	static const uint64_t caps[3] = { 100000, 100000, 100000 };
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct braid_sched_class_stats cs;
	uint64_t now = 0, st = sub_seed(0xf1);
	unsigned int on_link[2][3] = { { 0 } };
	struct braid_sched_cmd cmd = { .op = BRAID_SCHED_CMD_CLASS_FIT, .id = 0,
				       .class_fit = { (1U << 0) | (1U << 2) } };

	conf_basic(&c, 2, caps, 3);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(braid_sched_class_fit(s, 0), 7);
	CU_ASSERT_EQUAL(braid_sched_class_set_fit(s, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_fit(s, 0, 1U << 3), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_fit(s, 2, 1), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_apply(s, &cmd), 0);
	CU_ASSERT_EQUAL(braid_sched_class_fit(s, 0), 5);

	fit_rounds(s, 200, 2, &st, &now, on_link);
	CU_ASSERT_EQUAL(on_link[0][1], 0);
	CU_ASSERT(on_link[0][0] > 0 && on_link[0][2] > 0);
	CU_ASSERT(on_link[1][0] > 0 && on_link[1][1] > 0 && on_link[1][2] > 0);
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT_EQUAL(cs.sent_unfit, 0);

	/* No link in time up: late beats nothing, counted. */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 0, false), 0);
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 2, false), 0);
	memset(on_link, 0, sizeof(on_link));
	fit_rounds(s, 20, 1, &st, &now, on_link);
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT(on_link[0][1] > 0);
	CU_ASSERT_EQUAL(cs.sent_unfit, on_link[0][1]);

	/* One fit link back: class 0 leaves link 1. */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 2, true), 0);
	drain_free(s);
	memset(on_link, 0, sizeof(on_link));
	fit_rounds(s, 20, 1, &st, &now, on_link);
	CU_ASSERT(on_link[0][2] > 0);
	CU_ASSERT_EQUAL(on_link[0][1], 0);
	drain_free(s);
	braid_sched_free(s);
}

/* Stage process over a burst; collects counters by name. */
struct stat_kv {
	unsigned int n;
	char name[256][48];
	struct braid_stat_labels lb[256];
	uint64_t v[256];
};

static void
stat_cb(void *arg, const char *name, const struct braid_stat_labels *labels,
	uint64_t value)
{
	struct stat_kv *kv = arg;

	if (kv->n < RTE_DIM(kv->v)) {
		snprintf(kv->name[kv->n], sizeof(kv->name[0]), "%s", name);
		kv->lb[kv->n] = labels != NULL ? *labels :
			(struct braid_stat_labels){ BRAID_STAT_NONE, BRAID_STAT_NONE };
		kv->v[kv->n++] = value;
	}
}

static int64_t
stat_find(const struct stat_kv *kv, const char *name, int32_t cls, int32_t link)
{
	for (unsigned int i = 0; i < kv->n; i++)
		if (strcmp(kv->name[i], name) == 0 && kv->lb[i].class_id == cls &&
		    kv->lb[i].link_id == link)
			return (int64_t)kv->v[i];
	return -1;
}

static void
test_pin(void)
{
	static const uint64_t caps[3] = { 100000, 100000, 100000 };
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct braid_sched_class_stats cs;
	static struct braid_burst out;
	struct rte_mbuf *pkts[32];
	uint64_t now = 0, st = sub_seed(0xaa);
	unsigned int n_pin = 0, n_other = 0;

	conf_basic(&c, 2, caps, 3);
	c.classes[0].policy = BRAID_SCHED_PIN;
	c.classes[0].link_mask = 1U << 1;
	c.classes[0].queue_size = 16;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	for (unsigned int round = 0; round < 200; round++) {
		uint16_t got;

		top_up(s, 0, 8, &st);
		top_up(s, 1, 8, &st);
		now += 200000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++) {
			struct braid_meta *m = braid_meta(pkts[i]);

			if (m->class_id == 0) {
				CU_ASSERT_EQUAL_FATAL(m->link_id, 1);
				n_pin++;
			} else {
				n_other++;
			}
		}
		free_all(pkts, got);
	}
	CU_ASSERT(n_pin > 0 && n_other > 0);
	drain_free(s);

	/* Pinned link down: the class holds its packets (no drop), the
	 * other class goes on over links 0 and 2. */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 1, false), 0);
	for (unsigned int i = 0; i < 28; i++)
		pkts[i] = mk_pkt(i < 20 ? 0 : 1, 500);
	out.n = 0;
	braid_sched_stage_ops.process(s, pkts, 28, &out, now);
	CU_ASSERT_EQUAL(out.n, 0);
	/* Class 0 holds 16: 4 tail-dropped. */
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT_EQUAL(cs.drop_queue_full, 4);
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 0), 16);
	for (unsigned int round = 0; round < 10; round++) {
		now += 200000;
		out.n = 0;
		braid_sched_stage_ops.poll(s, &out, now);
		for (unsigned int i = 0; i < out.n; i++) {
			CU_ASSERT_EQUAL(braid_meta(out.pkts[i])->class_id, 1);
			CU_ASSERT_NOT_EQUAL(braid_meta(out.pkts[i])->link_id, 1);
		}
		free_all(out.pkts, out.n);
	}
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 0), 16);
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 1), 0);
	braid_sched_class_stats(s, 0, &cs);
	CU_ASSERT(cs.no_link_polls >= 10);
	CU_ASSERT_EQUAL(cs.drop_queue_full, 4);

	/* Back up: the held packets leave on link 1. */
	CU_ASSERT_EQUAL(braid_sched_link_set_up(s, 1, true), 0);
	now += 200000;
	out.n = 0;
	braid_sched_stage_ops.poll(s, &out, now);
	CU_ASSERT_EQUAL(out.n, 16);
	for (unsigned int i = 0; i < out.n; i++)
		CU_ASSERT_EQUAL(braid_meta(out.pkts[i])->link_id, 1);
	free_all(out.pkts, out.n);
	braid_sched_free(s);
	assert_no_leak();
}

static void
test_duplicate(void)
{
	static const uint64_t caps[3] = { 10000, 50000, 20000 };
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct braid_sched_stats gs;
	struct rte_mbuf *pkts[32];
	struct rte_mempool *tiny;
	uint64_t now = 0;
	uint16_t got;

	conf_basic(&c, 2, caps, 3);
	c.classes[0].policy = BRAID_SCHED_DUPLICATE;
	c.classes[0].dup_copies = 2;
	c.classes[0].fec_k = 4;
	c.classes[0].fec_m = 2;
	for (unsigned int l = 0; l < 3; l++)
		c.links[l].bucket_bytes = 100000;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	for (unsigned int i = 0; i < 8; i++) {
		struct rte_mbuf *m = mk_pkt(0, 1000);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	now += 1000;
	got = braid_sched_dequeue(s, pkts, 32, now);
	CU_ASSERT_EQUAL_FATAL(got, 16);
	for (unsigned int i = 0; i < got; i += 2) {
		struct braid_meta *a = braid_meta(pkts[i]);
		struct braid_meta *b = braid_meta(pkts[i + 1]);

		/* Best link (50 Mbit/s) gets the original, next best the copy. */
		CU_ASSERT_EQUAL(a->link_id, 1);
		CU_ASSERT_EQUAL(b->link_id, 2);
		CU_ASSERT_EQUAL(a->flags & BRAID_META_F_DUP, 0);
		CU_ASSERT_EQUAL(b->flags & BRAID_META_F_DUP, BRAID_META_F_DUP);
		CU_ASSERT_EQUAL(a->seq, b->seq);
		CU_ASSERT_EQUAL(a->seq, i / 2);
		CU_ASSERT_EQUAL(b->class_id, 0);
		CU_ASSERT(RTE_MBUF_CLONED(pkts[i + 1]) != 0);
		CU_ASSERT_EQUAL(rte_pktmbuf_mtod(pkts[i], char *),
				rte_pktmbuf_mtod(pkts[i + 1], char *));
		CU_ASSERT_EQUAL(pkts[i + 1]->pkt_len, 1000);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(pkts[i]), 2);
	}
	free_all(pkts, got);
	braid_sched_stats(s, &gs);
	CU_ASSERT_EQUAL(gs.duplicates, 8);
	{
		struct braid_sched_link_stats l1, l2;

		/* Original charged 1000 * 6 / 4, the copy 1000. */
		braid_sched_link_stats(s, 1, &l1);
		braid_sched_link_stats(s, 2, &l2);
		CU_ASSERT_EQUAL(l1.charged_bytes, 8 * 1500);
		CU_ASSERT_EQUAL(l2.charged_bytes, 8 * 1000);
		CU_ASSERT_EQUAL(l2.sent_bytes, 8 * 1000);
	}

	/* Best link down: links 2 and 0. */
	braid_sched_link_set_up(s, 1, false);
	{
		struct rte_mbuf *m = mk_pkt(0, 200);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	now += 1000;
	got = braid_sched_dequeue(s, pkts, 32, now);
	CU_ASSERT_EQUAL_FATAL(got, 2);
	CU_ASSERT_EQUAL(braid_meta(pkts[0])->link_id, 2);
	CU_ASSERT_EQUAL(braid_meta(pkts[1])->link_id, 0);
	free_all(pkts, got);

	/* One link left: a single copy. */
	braid_sched_link_set_up(s, 2, false);
	{
		struct rte_mbuf *m = mk_pkt(0, 200);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	now += 1000;
	got = braid_sched_dequeue(s, pkts, 32, now);
	CU_ASSERT_EQUAL_FATAL(got, 1);
	CU_ASSERT_EQUAL(braid_meta(pkts[0])->link_id, 0);
	CU_ASSERT_EQUAL(braid_meta(pkts[0])->flags & BRAID_META_F_DUP, 0);
	free_all(pkts, got);

	/* Room for one packet only: one copy, counted. */
	braid_sched_link_set_up(s, 1, true);
	braid_sched_link_set_up(s, 2, true);
	{
		struct rte_mbuf *m = mk_pkt(0, 200);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	now += 1000;
	got = braid_sched_dequeue(s, pkts, 1, now);
	CU_ASSERT_EQUAL_FATAL(got, 1);
	free_all(pkts, got);
	braid_sched_stats(s, &gs);
	CU_ASSERT_EQUAL(gs.dup_short, 1);
	braid_sched_free(s);

	/* Clone pool empty: originals still go, failures counted. */
	tiny = rte_pktmbuf_pool_create("sched_tiny", 4, 0, 0, 0, rte_socket_id());
	CU_ASSERT_PTR_NOT_NULL_FATAL(tiny);
	c.clone_pool = tiny;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned int i = 0; i < 6; i++) {
		struct rte_mbuf *m = mk_pkt(0, 100);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	got = braid_sched_dequeue(s, pkts, 32, 1000);
	CU_ASSERT_EQUAL(got, 6 + 4);
	braid_sched_stats(s, &gs);
	CU_ASSERT_EQUAL(gs.duplicates, 4);
	CU_ASSERT_EQUAL(gs.dup_clone_fail, 2);
	free_all(pkts, got);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0);
	braid_sched_free(s);
	rte_mempool_free(tiny);
	assert_no_leak();
}

/* Stage ops: drops by reason, stats names, drain, free with backlog. */
static void
test_stage_ops(void)
{
	static const uint64_t caps[2] = { 1000, 1000 };
	static struct braid_burst out;
	static struct stat_kv kv;
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct rte_mbuf *pkts[40];
	uint32_t seq0[16];
	unsigned int n_seq0 = 0;
	uint16_t got;

	conf_basic(&c, 3, caps, 2);
	c.classes[0].queue_size = 8;
	c.classes[0].seq_start = UINT32_MAX - 1;
	c.classes[2].policy = BRAID_SCHED_PIN;
	c.classes[2].link_mask = 0x2;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	for (unsigned int i = 0; i < 40; i++) {
		uint16_t cls = i < 20 ? 0 : i < 30 ? 1 : i < 33 ? 7 : 2;

		/* pkts[36]: 1800 bytes > mtu */
		pkts[i] = mk_pkt(cls, i == 35 ? MTU : i == 36 ? 1800 : 300);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
	}
	out.n = 0;
	braid_sched_stage_ops.process(s, pkts, 40, &out, 0);
	CU_ASSERT_EQUAL(out.n, 0);
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 0), 8);
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 1), 10);
	CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 2), 6);

	/* 1 Mbit/s links with 2 * MTU buckets and no time passing: the two
	 * full buckets (6000 B) let part of the 8.4 KB queued out. */
	got = braid_sched_stage_ops.poll(s, &out, 0);
	CU_ASSERT_EQUAL(got, out.n);
	CU_ASSERT(got > 0 && got < 24);
	for (unsigned int i = 0; i < out.n; i++)
		if (braid_meta(out.pkts[i])->class_id == 0)
			seq0[n_seq0++] = braid_meta(out.pkts[i])->seq;
	free_all(out.pkts, out.n);
	out.n = 0;

	memset(&kv, 0, sizeof(kv));
	braid_sched_stage_ops.stats(s, stat_cb, &kv);
	CU_ASSERT_EQUAL(stat_find(&kv, "drop_bad_class", BRAID_STAT_NONE, BRAID_STAT_NONE), 3);
	CU_ASSERT_EQUAL(stat_find(&kv, "drop_oversize", BRAID_STAT_NONE, BRAID_STAT_NONE), 1);
	CU_ASSERT_EQUAL(stat_find(&kv, "drop_queue_full", 0, BRAID_STAT_NONE), 12);
	CU_ASSERT_EQUAL(stat_find(&kv, "enqueued", 0, BRAID_STAT_NONE), 8);
	CU_ASSERT_EQUAL(stat_find(&kv, "enqueued", 1, BRAID_STAT_NONE), 10);
	CU_ASSERT_EQUAL(stat_find(&kv, "enqueued", 2, BRAID_STAT_NONE), 6);
	CU_ASSERT_EQUAL(stat_find(&kv, "sent_pkts", BRAID_STAT_NONE, 0) +
			stat_find(&kv, "sent_pkts", BRAID_STAT_NONE, 1), got);
	CU_ASSERT(stat_find(&kv, "starved_polls", BRAID_STAT_NONE, 0) >= 0);
	CU_ASSERT(stat_find(&kv, "no_link_polls", 2, BRAID_STAT_NONE) == 0);
	CU_ASSERT_EQUAL(stat_find(&kv, "enqueued", 9, BRAID_STAT_NONE), -1);
	CU_ASSERT_EQUAL(kv.n, 7 + 3 * 8 + 2 * 4);

	/* Drain ignores pacing; a class whose links are down is dropped. */
	braid_sched_link_set_up(s, 1, false);
	{
		unsigned int total = 0, backlog2 = braid_sched_class_backlog(s, 2);
		unsigned int want = braid_sched_class_backlog(s, 0) +
			braid_sched_class_backlog(s, 1);
		struct braid_sched_stats gs;

		while ((got = braid_sched_stage_ops.drain(s, &out, 0)) != 0) {
			for (unsigned int i = 0; i < out.n; i++) {
				struct braid_meta *m = braid_meta(out.pkts[i]);

				CU_ASSERT_EQUAL(m->link_id, 0);
				if (m->class_id == 0 && n_seq0 < RTE_DIM(seq0))
					seq0[n_seq0++] = m->seq;
			}
			total += out.n;
			free_all(out.pkts, out.n);
			out.n = 0;
		}
		CU_ASSERT_EQUAL(total, want);
		/* Class 0's 8 packets numbered from seq_start, wrapping. */
		CU_ASSERT_EQUAL(n_seq0, 8);
		for (unsigned int i = 0; i < n_seq0; i++)
			CU_ASSERT_EQUAL(seq0[i], (uint32_t)(UINT32_MAX - 1 + i));
		braid_sched_stats(s, &gs);
		CU_ASSERT_EQUAL(gs.drop_no_link, backlog2);
		CU_ASSERT_EQUAL(braid_sched_class_backlog(s, 0) +
				braid_sched_class_backlog(s, 1) +
				braid_sched_class_backlog(s, 2), 0);
	}

	/* Scheduler freed with packets queued: they are freed too. */
	for (unsigned int i = 0; i < 5; i++) {
		pkts[i] = mk_pkt(1, 100);
	}
	CU_ASSERT_EQUAL(braid_sched_enqueue(s, pkts, 5), 5);
	braid_sched_free(s);
	assert_no_leak();
}

/* A class pinned to a slow link does not hold back a stripe class on
 * other links; a large head is not starved by small packets behind it. */
static void
test_blocked_heads(void)
{
	static const uint64_t caps[2] = { 1000, 50000 };
	uint64_t st = sub_seed(0xbb);
	struct braid_sched_conf c;
	struct braid_sched *s;
	uint64_t now = 0, bytes[2] = { 0 };

	/* Class 0: MTU packets, stripe; class 1: 64-byte packets, stripe.
	 * Polls every 10 us: tokens never reach an MTU within one poll on
	 * link 0, yet class 0 must get its share. */
	conf_basic(&c, 2, caps, 2);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	while (now < 5 * SEC) {
		struct rte_mbuf *pkts[32];
		uint16_t got;

		while (braid_sched_class_backlog(s, 0) < 16) {
			struct rte_mbuf *m = mk_pkt(0, MTU);

			braid_sched_enqueue(s, &m, 1);
		}
		while (braid_sched_class_backlog(s, 1) < 64) {
			struct rte_mbuf *m = mk_pkt(1, 64);

			braid_sched_enqueue(s, &m, 1);
		}
		now += 10000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++)
			bytes[braid_meta(pkts[i])->class_id] += pkts[i]->pkt_len;
		free_all(pkts, got);
	}
	printf("\n    large %" PRIu64 " B, small %" PRIu64 " B ", bytes[0], bytes[1]);
	CU_ASSERT(fabs((double)bytes[0] / (double)(bytes[0] + bytes[1]) - 0.5) < 0.01);
	drain_free(s);
	braid_sched_free(s);

	/* Pin class 0 to slow link 0; stripe class 1 keeps link 1 busy. */
	conf_basic(&c, 2, caps, 2);
	c.classes[0].policy = BRAID_SCHED_PIN;
	c.classes[0].link_mask = 0x1;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	bytes[0] = bytes[1] = 0;
	now = 0;
	while (now < 5 * SEC) {
		struct rte_mbuf *pkts[32];
		uint16_t got;

		top_up(s, 0, 32, &st);
		top_up(s, 1, 32, &st);
		now += 1000 + braid_test_rand(&st) % 100000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++)
			bytes[braid_meta(pkts[i])->class_id] += pkts[i]->pkt_len;
		free_all(pkts, got);
	}
	printf("\n    pinned %" PRIu64 " B, stripe %" PRIu64 " B ", bytes[0], bytes[1]);
	/* The pinned class gets most of link 0 (the stripe class may use
	 * link 0 tokens during its own DRR turn)... */
	CU_ASSERT(bytes[0] >= 1000ULL * 125 * 5 * 90 / 100);
	CU_ASSERT(bytes[0] <= 1000ULL * 125 * 5 + 2 * MTU);
	/* ... and the stripe class gets link 1 (what is left of both). */
	CU_ASSERT(bytes[1] >= 50000ULL * 125 * 5 * 98 / 100);
	drain_free(s);
	braid_sched_free(s);

	/* Duplicate class of MTU packets (needs both links at once) against
	 * a stripe class of 64-byte packets, polled every 10 us: the copies
	 * are not starved by the small packets, and while they wait for the
	 * slow link the stripe class still uses the fast link's surplus. */
	{
		static const uint64_t caps2[2] = { 1000, 4000 };
		struct braid_sched_link_stats l1;

		conf_basic(&c, 2, caps2, 2);
		c.classes[0].policy = BRAID_SCHED_DUPLICATE;
		c.classes[0].dup_copies = 2;
		s = braid_sched_create(&c, SOCKET_ID_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		bytes[0] = bytes[1] = 0;
		now = 0;
		while (now < 5 * SEC) {
			struct rte_mbuf *pkts[32];
			uint16_t got;

			while (braid_sched_class_backlog(s, 0) < 8) {
				struct rte_mbuf *m = mk_pkt(0, MTU);

				braid_sched_enqueue(s, &m, 1);
			}
			while (braid_sched_class_backlog(s, 1) < 64) {
				struct rte_mbuf *m = mk_pkt(1, 64);

				braid_sched_enqueue(s, &m, 1);
			}
			now += 10000;
			got = braid_sched_dequeue(s, pkts, 32, now);
			for (unsigned int i = 0; i < got; i++)
				if ((braid_meta(pkts[i])->flags & BRAID_META_F_DUP) == 0)
					bytes[braid_meta(pkts[i])->class_id] +=
						pkts[i]->pkt_len;
			free_all(pkts, got);
		}
		braid_sched_link_stats(s, 1, &l1);
		printf("\n    duplicate %" PRIu64 " B, stripe %" PRIu64 " B, fast link %" PRIu64 " B ",
		       bytes[0], bytes[1], l1.sent_bytes);
		/* The copies get (nearly all of) the slow link ... */
		CU_ASSERT(bytes[0] >= 1000ULL * 125 * 5 * 90 / 100);
		/* ... and the fast link stays busy. */
		CU_ASSERT(l1.sent_bytes >= 4000ULL * 125 * 5 * 97 / 100);
		drain_free(s);
		braid_sched_free(s);
	}
	assert_no_leak();
}

/* ------------------------------------------------------------------ */

/* Live class changes: packets carry an id in their payload so that loss
 * and reordering within a class show. */
#define LIVE_CLASSES 4

struct id_track {
	uint32_t next_in[LIVE_CLASSES];
	uint32_t next_out[LIVE_CLASSES];
	uint64_t bytes[LIVE_CLASSES];
};

static struct rte_mbuf *
mk_id_pkt(uint16_t cls, uint32_t len, uint32_t id)
{
	struct rte_mbuf *m = mk_pkt(cls, len);

	if (m != NULL)
		memcpy(rte_pktmbuf_mtod(m, void *), &id, sizeof(id));
	return m;
}

static void
top_up_ids(struct braid_sched *s, uint16_t cls, unsigned int depth,
	   uint64_t *st, struct id_track *tr)
{
	while (braid_sched_class_backlog(s, cls) < depth) {
		struct rte_mbuf *m = mk_id_pkt(cls, rand_len(st), tr->next_in[cls]);

		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
		tr->next_in[cls]++;
	}
}

/* Every packet of a class comes out once, in order (copies excepted). */
static void
track_out(struct id_track *tr, struct rte_mbuf **pkts, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct braid_meta *meta = braid_meta(pkts[i]);
		uint16_t c = meta->class_id;

		CU_ASSERT_FATAL(c < LIVE_CLASSES);
		if (meta->flags & BRAID_META_F_DUP)
			continue;
		CU_ASSERT_EQUAL_FATAL(braid_test_pkt_id(pkts[i]), tr->next_out[c]);
		tr->next_out[c]++;
		tr->bytes[c] += pkts[i]->pkt_len;
	}
}

/* Drain what is left, then every class's packets are all accounted. */
static void
track_finish(struct braid_sched *s, struct id_track *tr, unsigned int nc)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = braid_sched_drain(s, pkts, RTE_DIM(pkts))) != 0) {
		track_out(tr, pkts, n);
		free_all(pkts, n);
	}
	for (unsigned int c = 0; c < nc; c++) {
		struct braid_sched_class_stats cs;

		braid_sched_class_stats(s, (uint16_t)c, &cs);
		CU_ASSERT_EQUAL(tr->next_out[c], tr->next_in[c]);
		CU_ASSERT_EQUAL(cs.enqueued, tr->next_in[c]);
		CU_ASSERT_EQUAL(cs.dequeued, cs.enqueued);
		CU_ASSERT_EQUAL(cs.drop_queue_full, 0);
	}
}

/* Both classes backlogged for @p secs; priority class @p prio (or -1)
 * must lead every output it appears in. Logs class @p log_cls. */
static void
live_run(struct braid_sched *s, struct id_track *tr, int prio, unsigned int secs,
	 uint64_t *now, uint64_t *st, struct link_log *lg, int log_cls)
{
	uint64_t end = *now + secs * SEC;

	memset(tr->bytes, 0, sizeof(tr->bytes));
	while (*now < end) {
		struct rte_mbuf *pkts[32];
		bool seen_other = false;
		uint16_t got;

		top_up_ids(s, 0, 64, st, tr);
		top_up_ids(s, 1, 64, st, tr);
		*now += 1000 + braid_test_rand(st) % 200000;
		got = braid_sched_dequeue(s, pkts, 32, *now);
		for (unsigned int i = 0; i < got; i++) {
			int c = braid_meta(pkts[i])->class_id;

			if (c == prio) {
				CU_ASSERT_FATAL(!seen_other);
			} else {
				seen_other = true;
			}
			if (lg != NULL && c == log_cls)
				log_add(lg, *now, pkts[i]->pkt_len);
		}
		track_out(tr, pkts, got);
		free_all(pkts, got);
	}
}

/*
 * Strict priority switched live: class 1 (weight 3) gets 3/4 of a
 * 10 Mbit/s link under DRR, its 2 Mbit/s cap (first in every output,
 * never above the cap) as the priority class with class 0 taking the
 * rest, its 3/4 again after switching back, all with queued packets
 * and none lost or reordered.
 */
static void
test_priority_switch(void)
{
	static const uint64_t caps[1] = { 10000 };
	uint64_t st = sub_seed(0xc1), now = 0;
	struct id_track tr;
	struct link_log lg;
	struct braid_sched_conf c;
	struct braid_sched *s;
	double share;

	memset(&tr, 0, sizeof(tr));
	conf_basic(&c, 2, caps, 1);
	c.classes[1].weight = 3;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	live_run(s, &tr, -1, 2, &now, &st, NULL, -1);
	share = (double)tr.bytes[1] / (double)(tr.bytes[0] + tr.bytes[1]);
	printf("\n    DRR: class 1 share %.4f (want 0.75) ", share);
	CU_ASSERT(fabs(share - 0.75) < 0.01);

	/* Errors change nothing. */
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, true, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, true,
			BRAID_SCHED_CAPACITY_MAX_KBPS + 1), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 2, true, 1000), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(NULL, 1, true, 1000), -EINVAL);
	/* Clearing a class that is not priority is a no-op. */
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 0, false, 0), 0);

	/* Class 1 (queued, in the DRR round) becomes priority. */
	CU_ASSERT(braid_sched_class_backlog(s, 1) > 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, true, 2000), 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 0, true, 2000), -EBUSY);
	memset(&lg, 0, sizeof(lg));
	live_run(s, &tr, 1, 10, &now, &st, &lg, 1);
	{
		/* Cap bucket: max(2 * mtu, 1 ms of 2 Mbit/s) = 3000 B. */
		double worst = log_check(&lg, 2000 * 125, 2 * MTU);

		printf("\n    priority: class 1 %" PRIu64 " B, class 0 %" PRIu64
		       " B in 10 s (cap %u B), worst excess %.1f ", tr.bytes[1],
		       tr.bytes[0], 2000 * 125 * 10, worst);
		CU_ASSERT(worst <= 1e-6);
	}
	CU_ASSERT(tr.bytes[1] >= 2000ULL * 125 * 10 * 99 / 100);
	CU_ASSERT(tr.bytes[1] <= 2000ULL * 125 * 10 + 2 * MTU);
	CU_ASSERT(tr.bytes[0] >= 8000ULL * 125 * 10 * 98 / 100);
	free(lg.t);
	free(lg.bytes);

	/* The same state again only moves the cap. */
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, true, 4000), 0);
	live_run(s, &tr, 1, 5, &now, &st, NULL, -1);
	CU_ASSERT(tr.bytes[1] >= 4000ULL * 125 * 5 * 99 / 100);
	CU_ASSERT(tr.bytes[1] <= 4000ULL * 125 * 5 + 4000 * 125 / 1000 + 2 * MTU);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 0, true, 1000), -EBUSY);

	/* Back to DRR with its backlog: weight 3 again. */
	CU_ASSERT(braid_sched_class_backlog(s, 1) > 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, false, 0), 0);
	live_run(s, &tr, -1, 2, &now, &st, NULL, -1);
	share = (double)tr.bytes[1] / (double)(tr.bytes[0] + tr.bytes[1]);
	printf("\n    DRR again: class 1 share %.4f (want 0.75) ", share);
	CU_ASSERT(fabs(share - 0.75) < 0.01);

	/* Now class 0 may take priority, with an empty queue. */
	track_finish(s, &tr, 2);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 0, true, 1000), 0);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 1, true, 1000), -EBUSY);
	live_run(s, &tr, 0, 1, &now, &st, NULL, -1);
	CU_ASSERT(tr.bytes[0] >= 1000ULL * 125 * 98 / 100);
	CU_ASSERT(tr.bytes[0] <= 1000ULL * 125 + 2 * MTU);
	track_finish(s, &tr, 2);
	braid_sched_free(s);

	/* A class created priority has no checked weight: it leaves
	 * priority with weight 1 (a zero quantum would loop forever). */
	memset(&tr, 0, sizeof(tr));
	conf_basic(&c, 2, caps, 1);
	c.classes[0].priority = true;
	c.classes[0].rate_cap_kbps = 1000;
	c.classes[0].weight = 0;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	live_run(s, &tr, 0, 1, &now, &st, NULL, -1);
	CU_ASSERT_EQUAL(braid_sched_class_set_priority(s, 0, false, 0), 0);
	live_run(s, &tr, -1, 2, &now, &st, NULL, -1);
	share = (double)tr.bytes[0] / (double)(tr.bytes[0] + tr.bytes[1]);
	CU_ASSERT(fabs(share - 0.5) < 0.01);
	track_finish(s, &tr, 2);
	braid_sched_free(s);
	assert_no_leak();
}

/* Dequeue up to @p n packets at a time with ample tokens; @return the
 * links used by originals, and counts originals and copies. */
static uint32_t
policy_poll(struct braid_sched *s, struct id_track *tr, uint16_t n,
	    uint64_t *now, unsigned int *orig, unsigned int *dups)
{
	struct rte_mbuf *pkts[32];
	uint32_t links = 0;
	uint16_t got;

	*now += 10 * 1000000ULL;
	got = braid_sched_dequeue(s, pkts, n, *now);
	CU_ASSERT_EQUAL(got, n);
	*orig = 0;
	*dups = 0;
	for (unsigned int i = 0; i < got; i++) {
		struct braid_meta *meta = braid_meta(pkts[i]);

		CU_ASSERT(meta->link_id < 3);
		if (meta->flags & BRAID_META_F_DUP) {
			(*dups)++;
			/* The copy follows its original: same seq, own link. */
			CU_ASSERT_FATAL(i > 0);
			CU_ASSERT_EQUAL(meta->seq, braid_meta(pkts[i - 1])->seq);
			CU_ASSERT_NOT_EQUAL(meta->link_id,
					    braid_meta(pkts[i - 1])->link_id);
			CU_ASSERT_EQUAL(braid_test_pkt_id(pkts[i]), braid_test_pkt_id(pkts[i - 1]));
		} else {
			(*orig)++;
			links |= 1U << meta->link_id;
		}
	}
	track_out(tr, pkts, got);
	free_all(pkts, got);
	return links;
}

/* Four polls of 8 under stripe: single copies, over all three links. */
static void
stripe_rounds(struct braid_sched *s, struct id_track *tr, uint64_t *now)
{
	unsigned int orig, dups;
	uint32_t links = 0;

	for (unsigned int r = 0; r < 4; r++) {
		links |= policy_poll(s, tr, 8, now, &orig, &dups);
		CU_ASSERT_EQUAL(orig, 8);
		CU_ASSERT_EQUAL(dups, 0);
	}
	CU_ASSERT_EQUAL(links, 0x7);
}

/* Link policy switched live with packets queued: stripe, pin, duplicate,
 * stripe; bad values and a missing clone pool change nothing. */
static void
test_policy_switch(void)
{
	static const uint64_t caps[3] = { 100000, 100000, 100000 };
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct braid_sched_stats gs;
	struct id_track tr;
	uint64_t now = 0;
	unsigned int orig, dups;

	memset(&tr, 0, sizeof(tr));
	conf_basic(&c, 1, caps, 3);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned int i = 0; i < 200; i++) {
		struct rte_mbuf *m = mk_id_pkt(0, 1000, tr.next_in[0]++);

		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}

	/* Stripe: every link. */
	stripe_rounds(s, &tr, &now);

	/* Pin to link 1: queued packets follow at once. */
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_PIN, 0,
						     1U << 1), 0);
	for (unsigned int r = 0; r < 4; r++) {
		CU_ASSERT_EQUAL(policy_poll(s, &tr, 8, &now, &orig, &dups), 1U << 1);
		CU_ASSERT_EQUAL(orig, 8);
	}

	/* Bad values: -EINVAL and still pinned. */
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_STRIPE, 0,
						     0x1), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_PIN, 0, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_PIN, 0,
						     1U << 3), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     1, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     4, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     3, 0x3), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     2, 0x9), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0,
			(enum braid_sched_policy)7, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 1, BRAID_SCHED_STRIPE, 0,
						     0), -EINVAL);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(NULL, 0, BRAID_SCHED_STRIPE,
						     0, 0), -EINVAL);
	CU_ASSERT_EQUAL(policy_poll(s, &tr, 8, &now, &orig, &dups), 1U << 1);

	/* Duplicate, 2 copies over all links: originals on the best link
	 * (equal capacities: link 0), copies on link 1. */
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     2, 0), 0);
	for (unsigned int r = 0; r < 4; r++) {
		CU_ASSERT_EQUAL(policy_poll(s, &tr, 8, &now, &orig, &dups), 1U << 0);
		CU_ASSERT_EQUAL(orig, 4);
		CU_ASSERT_EQUAL(dups, 4);
	}
	braid_sched_stats(s, &gs);
	CU_ASSERT_EQUAL(gs.duplicates, 16);
	/* ... over links 1 and 2 only. */
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     2, 0x6), 0);
	CU_ASSERT_EQUAL(policy_poll(s, &tr, 8, &now, &orig, &dups), 1U << 1);
	CU_ASSERT_EQUAL(dups, 4);

	/* Stripe again: single copies over every link. */
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_STRIPE, 0,
						     0), 0);
	stripe_rounds(s, &tr, &now);
	braid_sched_stats(s, &gs);
	CU_ASSERT_EQUAL(gs.duplicates, 20);
	CU_ASSERT_EQUAL(gs.dup_clone_fail, 0);
	track_finish(s, &tr, 1);
	braid_sched_free(s);

	/* No clone pool at create: duplicate is refused, stripe goes on. */
	memset(&tr, 0, sizeof(tr));
	c.clone_pool = NULL;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(braid_sched_class_set_policy(s, 0, BRAID_SCHED_DUPLICATE,
						     2, 0), -ENOTSUP);
	for (unsigned int i = 0; i < 8; i++) {
		struct rte_mbuf *m = mk_id_pkt(0, 1000, tr.next_in[0]++);

		CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	}
	policy_poll(s, &tr, 8, &now, &orig, &dups);
	CU_ASSERT_EQUAL(orig, 8);
	CU_ASSERT_EQUAL(dups, 0);
	track_finish(s, &tr, 1);
	braid_sched_free(s);
	assert_no_leak();
}

/*
 * A FEC ratio above the start's: with default link buckets set_fec(1, 16)
 * grows them (the tokens already there kept) and the class's packets
 * flow, charged 17x, never above a link's rate; with an explicit small
 * bucket it is refused and nothing changes.
 */
static void
test_fec_growth(void)
{
	static const uint64_t caps[2] = { 5000, 5000 };   /* 625 000 B/s */
	uint64_t st = sub_seed(0xc3), now = SEC;
	struct braid_sched_link_stats ls[2];
	struct link_log lg[2];
	struct rte_mbuf *pkts[32], *m;
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct id_track tr;
	uint64_t sent = 0;

	memset(&tr, 0, sizeof(tr));
	conf_basic(&c, 2, caps, 2);
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* Buckets full at max(2 * mtu, 1 ms) = 3000 B, then the change. */
	CU_ASSERT_EQUAL(braid_sched_dequeue(s, pkts, 32, now), 0);
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 1, 16));
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 0, 1, 16), 0);
	/* A 1500-byte packet costs 25 500 B: 22 500 B short = 36 ms. */
	m = mk_id_pkt(0, MTU, tr.next_in[0]++);
	CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	CU_ASSERT_EQUAL(braid_sched_dequeue(s, pkts, 32, now + 35000000ULL), 0);
	CU_ASSERT_EQUAL_FATAL(braid_sched_dequeue(s, pkts, 32, now + 37000000ULL), 1);
	track_out(&tr, pkts, 1);
	free_all(pkts, 1);
	now += 37000000ULL;
	sent = 17 * MTU;

	/* Both classes backlogged for 10 s. */
	memset(lg, 0, sizeof(lg));
	while (now < 11 * SEC) {
		uint16_t got;

		top_up_ids(s, 0, 32, &st, &tr);
		top_up_ids(s, 1, 32, &st, &tr);
		now += 1000 + braid_test_rand(&st) % 300000;
		got = braid_sched_dequeue(s, pkts, 32, now);
		for (unsigned int i = 0; i < got; i++) {
			struct braid_meta *meta = braid_meta(pkts[i]);
			double b = pkts[i]->pkt_len * (meta->class_id == 0 ? 17.0 : 1.0);

			log_add(&lg[meta->link_id], now, b);
			sent += (uint64_t)b;
		}
		track_out(&tr, pkts, got);
		free_all(pkts, got);
	}
	for (unsigned int l = 0; l < 2; l++) {
		double worst = log_check(&lg[l], 625000, 17 * MTU);

		CU_ASSERT(worst <= 1e-6);
		braid_sched_link_stats(s, (uint16_t)l, &ls[l]);
		free(lg[l].t);
		free(lg[l].bytes);
	}
	printf("\n    fec 1/16: class 0 %" PRIu64 " B, class 1 %" PRIu64
	       " B, charged %" PRIu64 " B ", tr.bytes[0], tr.bytes[1], sent);
	CU_ASSERT(tr.bytes[0] > 100 * MTU);
	CU_ASSERT(tr.bytes[1] > 100 * MTU);
	CU_ASSERT_EQUAL(ls[0].charged_bytes + ls[1].charged_bytes, sent);
	/* Both links busy: >= 98 % of 2 x 625 kB/s over 10 s. */
	CU_ASSERT(sent >= 2ULL * 625000 * 10 * 98 / 100);

	/* Back to no FEC: charged at 1x again (the buckets may shrink). */
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 0, 0, 0), 0);
	track_finish(s, &tr, 2);
	braid_sched_link_stats(s, 0, &ls[0]);
	braid_sched_link_stats(s, 1, &ls[1]);
	sent = ls[0].charged_bytes + ls[1].charged_bytes;
	m = mk_id_pkt(0, 1000, tr.next_in[0]++);
	CU_ASSERT_FATAL(braid_sched_enqueue(s, &m, 1) == 1);
	now += SEC;
	CU_ASSERT_EQUAL_FATAL(braid_sched_dequeue(s, pkts, 32, now), 1);
	track_out(&tr, pkts, 1);
	free_all(pkts, 1);
	braid_sched_link_stats(s, 0, &ls[0]);
	braid_sched_link_stats(s, 1, &ls[1]);
	CU_ASSERT_EQUAL(ls[0].charged_bytes + ls[1].charged_bytes, sent + 1000);
	track_finish(s, &tr, 2);
	braid_sched_free(s);

	/* An explicit bucket that cannot hold 17 x mtu refuses. */
	c.links[1].bucket_bytes = 4 * MTU;
	s = braid_sched_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_FALSE(braid_sched_class_fec_fits(s, 1, 16));
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 0, 1, 16), -ERANGE);
	CU_ASSERT_TRUE(braid_sched_class_fec_fits(s, 1, 3));
	CU_ASSERT_EQUAL(braid_sched_class_set_fec(s, 0, 1, 3), 0);
	braid_sched_free(s);
	assert_no_leak();
}

/* ------------------------------------------------------------------ */

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("sched_pool", 8191, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	clone_pool = rte_pktmbuf_pool_create("sched_clones", 1023, 0, 0, 0,
					     rte_socket_id());
	if (pool == NULL || clone_pool == NULL)
		return -1;
	seed = braid_test_seed(0x5eed5c4edULL);
	printf("sched: seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	return 0;
}

static int
suite_clean(void)
{
	rte_mempool_free(pool);
	rte_mempool_free(clone_pool);
	rte_eal_cleanup();
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite su = CU_add_suite("sched", suite_init, suite_clean);

	if (su == NULL)
		return -1;
	if (CU_add_test(su, "conf_invalid", test_conf_invalid) == NULL ||
	    CU_add_test(su, "set_fec", test_set_fec) == NULL ||
	    CU_add_test(su, "link_charge", test_link_charge) == NULL ||
	    CU_add_test(su, "link_drr_vs_ref", test_link_drr_vs_ref) == NULL ||
	    CU_add_test(su, "ref_compare_ample", test_ref_compare_ample) == NULL ||
	    CU_add_test(su, "ref_compare_paced", test_ref_compare_paced) == NULL ||
	    CU_add_test(su, "class_share", test_class_share) == NULL ||
	    CU_add_test(su, "priority", test_priority) == NULL ||
	    CU_add_test(su, "link_pacing", test_link_pacing) == NULL ||
	    CU_add_test(su, "capacity_split", test_capacity_split) == NULL ||
	    CU_add_test(su, "capacity_change", test_capacity_change) == NULL ||
	    CU_add_test(su, "backup", test_backup) == NULL ||
	    CU_add_test(su, "live changes by command", test_apply) == NULL ||
	    CU_add_test(su, "frame overhead charged", test_frame_overhead) == NULL ||
	    CU_add_test(su, "pin", test_pin) == NULL ||
	    CU_add_test(su, "links in time (fit mask)", test_fit) == NULL ||
	    CU_add_test(su, "duplicate", test_duplicate) == NULL ||
	    CU_add_test(su, "blocked_heads", test_blocked_heads) == NULL ||
	    CU_add_test(su, "stage_ops", test_stage_ops) == NULL ||
	    CU_add_test(su, "priority_switch", test_priority_switch) == NULL ||
	    CU_add_test(su, "policy_switch", test_policy_switch) == NULL ||
	    CU_add_test(su, "fec_growth", test_fec_growth) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("sched", register_tests);
}
