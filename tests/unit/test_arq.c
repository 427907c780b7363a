/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/arq: NACK policy, both ends. Virtual clock, seeded randomness
 * (BRAID_TEST_SEED). NACK packing against a brute-force reference, the
 * receiver against a real braid_reorder, the sender against a real
 * braid_rtx, and a closed-loop simulation (reorder + arq_rx on one side,
 * rtx + arq_tx on the other, two lossy links both ways) checking delivery,
 * NACK timing, budgets, bounds and counters.
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
#include <rte_ring.h>

#include "braid_arq.h"
#include "braid_meta.h"
#include "braid_reorder.h"
#include "braid_rtx.h"
#include "braid_wire.h"
#include "harness.h"

#define MS 1000000ULL
#define US 1000ULL
#define T0 (1000 * MS)
#define PAYLOAD 64
#define POOL_N 16383

static struct rte_mempool *pool;
static struct rte_mempool *clone_pool;
static struct braid_burst out;
static unsigned int name_seq;
static uint64_t seed;

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("arq_pool", POOL_N, 0, 0,
				       RTE_PKTMBUF_HEADROOM + 512, SOCKET_ID_ANY);
	clone_pool = rte_pktmbuf_pool_create("arq_clones", 4095, 0, 0, 0, SOCKET_ID_ANY);
	seed = braid_test_seed(0x5eedf00dcafeULL);
	printf("\ntest_arq: seed %#" PRIx64 " (BRAID_TEST_SEED)\n", seed);
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

static void
unique_name(char *buf, size_t size, const char *prefix)
{
	snprintf(buf, size, "%s%u", prefix, name_seq++);
}

/* A data packet of (class, seq): the seq is also in the payload. */
static struct rte_mbuf *
mk_pkt(uint16_t class_id, uint32_t seq, uint64_t rx_ns, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct braid_meta *md;
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, len);
	memcpy(p, &seq, sizeof(seq));
	md = braid_meta(m);
	memset(md, 0, sizeof(*md));
	md->class_id = class_id;
	md->seq = seq;
	md->rx_ns = rx_ns;
	md->pkt_type = BRAID_PKT_DATA;
	return m;
}

static void
out_free(void)
{
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
}

/* ---- NACK helpers ---- */

/* Every seq a NACK names, in the order bitmap then ranges. */
static unsigned int
nack_expand(const struct braid_nack *nk, uint32_t *seqs, unsigned int cap)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < nk->bitmap_words; w++)
		for (unsigned int b = 0; b < 32; b++)
			if ((nk->bitmap[w] >> b) & 1) {
				if (n < cap)
					seqs[n] = nk->base_seq + 32 * w + b;
				n++;
			}
	for (unsigned int r = 0; r < nk->n_ranges; r++)
		for (uint32_t k = 0; k < nk->ranges[r].count; k++) {
			if (n < cap)
				seqs[n] = nk->ranges[r].first + k;
			n++;
		}
	return n;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Token-bucket conformance: over every interval [t_i, t_j] the bytes
 * sent are at most burst + rate x (t_j - t_i). */
static bool
bucket_conforms(const uint64_t *t, const uint64_t *bytes, unsigned int n,
		uint64_t rate, uint64_t burst)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t sum = 0;

		for (unsigned int j = i; j < n; j++) {
			sum += bytes[j];
			if (sum * 1000000000ULL > burst * 1000000000ULL + rate * (t[j] - t[i]))
				return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Packing                                                              */
/* ------------------------------------------------------------------ */

static uint32_t
run_last(const struct braid_seq_range *r)
{
	return r->first + r->count - 1;
}

/*
 * Brute force: the most runs (a prefix) one NACK can name, and the
 * fewest bytes doing so, over every subset of runs in the bitmap (base =
 * the first run of the subset, span < 256) with the rest as ranges.
 */
static void
pack_reference(const struct braid_seq_range *runs, unsigned int n,
	       unsigned int *cov, unsigned int *bytes)
{
	for (unsigned int c = n; c >= 1; c--) {
		unsigned int best = UINT32_MAX;

		if (c <= BRAID_NACK_MAX_RANGES)
			best = 8 + 8 * c;
		for (unsigned int i = 0; i < c; i++) {
			uint32_t base = runs[i].first;
			unsigned int w = 1;

			if (run_last(&runs[i]) - base >= 256)
				continue;
			while (i + w < c && run_last(&runs[i + w]) - base < 256)
				w++;
			CU_ASSERT_FATAL(w <= 18);
			for (uint32_t mask = 0; mask < (1u << (w - 1)); mask++) {
				uint32_t maxoff = run_last(&runs[i]) - base;
				unsigned int in = 1, ranges, words, b;

				for (unsigned int k = 1; k < w; k++)
					if (mask & (1u << (k - 1))) {
						in++;
						maxoff = run_last(&runs[i + k]) - base;
					}
				ranges = c - in;
				if (ranges > BRAID_NACK_MAX_RANGES)
					continue;
				words = maxoff / 32 + 1;
				b = 8 + 4 * words + 8 * ranges;
				if (b < best)
					best = b;
			}
		}
		if (best != UINT32_MAX) {
			*cov = c;
			*bytes = best;
			return;
		}
	}
	*cov = 0;
	*bytes = 0;
}

/* Random ascending runs starting at @p start. */
static unsigned int
gen_runs(uint64_t *rng, struct braid_seq_range *runs, unsigned int n,
	 uint32_t start, unsigned int min_step)
{
	uint32_t s = start;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t r = braid_test_rand(rng);
		uint32_t len = (r & 7) == 0 ? 1 + (uint32_t)(r >> 8) % 300 :
			1 + (uint32_t)(r >> 8) % 6;
		uint32_t gap = 1 + (uint32_t)(r >> 24) % 40;

		if (min_step > 0) {
			len = 1 + (uint32_t)(r >> 8) % 4;
			gap = min_step + (uint32_t)(r >> 24) % 30;
		}
		runs[i].first = s;
		runs[i].count = len;
		s += len + gap;
	}
	return n;
}

static void
check_pack_roundtrip(const struct braid_seq_range *runs, int k, const struct braid_nack *nk)
{
	uint8_t buf[BRAID_NACK_MAX_LEN];
	struct braid_nack dec;
	static uint32_t got[8192], want[8192];
	unsigned int ng, nw = 0;
	int len = braid_wire_nack_len(nk);

	CU_ASSERT_FATAL(len > 0 && (size_t)len <= BRAID_NACK_MAX_LEN);
	CU_ASSERT_FATAL(braid_wire_nack_encode(buf, sizeof(buf), nk) == len);
	memset(&dec, 0, sizeof(dec));
	CU_ASSERT_FATAL(braid_wire_nack_decode(buf, (size_t)len, &dec) == 0);
	dec.class_id = nk->class_id;
	ng = nack_expand(&dec, got, RTE_DIM(got));
	for (int i = 0; i < k; i++)
		for (uint32_t j = 0; j < runs[i].count && nw < RTE_DIM(want); j++)
			want[nw++] = runs[i].first + j;
	CU_ASSERT_FATAL(ng == nw && ng <= RTE_DIM(got));
	/* Compare as offsets from the first run (serial order). */
	for (unsigned int i = 0; i < ng; i++) {
		got[i] -= runs[0].first;
		want[i] -= runs[0].first;
	}
	qsort(got, ng, sizeof(got[0]), cmp_u32);
	qsort(want, nw, sizeof(want[0]), cmp_u32);
	CU_ASSERT(memcmp(got, want, ng * sizeof(got[0])) == 0);
}

/* The chosen encoding names as many runs as any encoding can, in the
 * fewest bytes, and round-trips through the wire codec. */
static void
test_pack_reference(void)
{
	uint64_t rng = seed ^ 0x9ac1;
	struct braid_seq_range runs[32];
	struct braid_nack nk;
	unsigned int bitmap_used = 0, ranges_used = 0, mixed = 0;

	for (int iter = 0; iter < 1500; iter++) {
		bool many = iter % 3 == 2;
		unsigned int n = many ? 17 + braid_test_rand(&rng) % 8 :
			1 + braid_test_rand(&rng) % 14;
		/* Start near the 2^32 wrap half of the time. */
		uint32_t start = (iter & 1) ? UINT32_MAX - 200 :
			(uint32_t)braid_test_rand(&rng);
		unsigned int cov, bytes;
		int k;

		gen_runs(&rng, runs, n, start, many ? 18 : 0);
		k = braid_arq_nack_pack(7, runs, n, &nk);
		pack_reference(runs, n, &cov, &bytes);
		CU_ASSERT_FATAL(k >= 1);
		CU_ASSERT((unsigned int)k == cov);
		CU_ASSERT((unsigned int)braid_wire_nack_len(&nk) == bytes);
		CU_ASSERT(nk.class_id == 7);
		check_pack_roundtrip(runs, k, &nk);
		bitmap_used += nk.bitmap_words > 0 && nk.n_ranges == 0;
		ranges_used += nk.bitmap_words == 0;
		mixed += nk.bitmap_words > 0 && nk.n_ranges > 0;
	}
	/* The generator exercises every shape. */
	CU_ASSERT(bitmap_used > 0 && ranges_used > 0 && mixed > 0);
}

static void
test_pack_choice(void)
{
	struct braid_seq_range runs[300];
	struct braid_nack nk;
	int k;

	/* One seq: bitmap (12 bytes) beats a range (16). */
	runs[0] = (struct braid_seq_range){ 1000, 1 };
	CU_ASSERT(braid_arq_nack_pack(0, runs, 1, &nk) == 1);
	CU_ASSERT(nk.bitmap_words == 1 && nk.n_ranges == 0 && nk.bitmap[0] == 1);
	CU_ASSERT(braid_wire_nack_len(&nk) == 12);
	/* A long run: one range (16) beats 8 words (40). */
	runs[0] = (struct braid_seq_range){ 1000, 200 };
	CU_ASSERT(braid_arq_nack_pack(0, runs, 1, &nk) == 1);
	CU_ASSERT(nk.bitmap_words == 0 && nk.n_ranges == 1);
	CU_ASSERT(nk.ranges[0].first == 1000 && nk.ranges[0].count == 200);
	/* The wire-format example: 1000, 1002 by bitmap, 2000..2002 by range. */
	runs[0] = (struct braid_seq_range){ 1000, 1 };
	runs[1] = (struct braid_seq_range){ 1002, 1 };
	runs[2] = (struct braid_seq_range){ 2000, 3 };
	CU_ASSERT(braid_arq_nack_pack(3, runs, 3, &nk) == 3);
	CU_ASSERT(nk.base_seq == 1000 && nk.bitmap_words == 1 && nk.bitmap[0] == 5);
	CU_ASSERT(nk.n_ranges == 1 && nk.ranges[0].first == 2000 && nk.ranges[0].count == 3);
	CU_ASSERT(braid_wire_nack_len(&nk) == 20);
	/* Across the 2^32 wrap. */
	runs[0] = (struct braid_seq_range){ UINT32_MAX - 1, 1 };
	runs[1] = (struct braid_seq_range){ 1, 2 };
	CU_ASSERT(braid_arq_nack_pack(0, runs, 2, &nk) == 2);
	CU_ASSERT(nk.base_seq == UINT32_MAX - 1 && nk.bitmap_words == 1);
	CU_ASSERT(nk.bitmap[0] == (1u | 1u << 3 | 1u << 4));
	check_pack_roundtrip(runs, 2, &nk);
	/* 300 single losses every other seq: a full NACK (16 ranges + 8
	 * words) names 144; consuming everything names each seq once. */
	for (unsigned int i = 0; i < 300; i++)
		runs[i] = (struct braid_seq_range){ 2 * i, 1 };
	k = braid_arq_nack_pack(0, runs, 300, &nk);
	CU_ASSERT(k == 16 + 128);
	CU_ASSERT((size_t)braid_wire_nack_len(&nk) == BRAID_NACK_MAX_LEN);
	check_pack_roundtrip(runs, k, &nk);
	for (unsigned int done = 0, nacks = 0; done < 300; nacks++) {
		k = braid_arq_nack_pack(0, &runs[done], 300 - done, &nk);
		CU_ASSERT_FATAL(k > 0);
		check_pack_roundtrip(&runs[done], k, &nk);
		done += (unsigned int)k;
		CU_ASSERT(nacks < 3);
	}
	/* Invalid input. */
	CU_ASSERT(braid_arq_nack_pack(0, runs, 0, &nk) == -EINVAL);
	CU_ASSERT(braid_arq_nack_pack(0, NULL, 1, &nk) == -EINVAL);
	runs[0] = (struct braid_seq_range){ 10, 0 };
	CU_ASSERT(braid_arq_nack_pack(0, runs, 1, &nk) == -EINVAL);
	runs[0] = (struct braid_seq_range){ 10, 5 };
	runs[1] = (struct braid_seq_range){ 12, 1 };      /* overlaps */
	CU_ASSERT(braid_arq_nack_pack(0, runs, 2, &nk) == -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Receiver                                                             */
/* ------------------------------------------------------------------ */

static struct braid_reorder *
mk_reorder(uint64_t deadline_ns, uint32_t buf)
{
	struct braid_reorder_class_conf cc[2] = {
		{ .dedup_window = 8192, .buf_size = buf, .deadline_ns = deadline_ns },
		{ .dedup_window = 8192, .buf_size = buf, .deadline_ns = deadline_ns },
	};
	char name[32];
	struct braid_reorder_conf conf = { .name = name, .n_classes = 2, .classes = cc };

	unique_name(name, sizeof(name), "ro");
	return braid_reorder_create(&conf, SOCKET_ID_ANY);
}

static struct braid_arq_rx *
mk_rx(const struct braid_reorder *ro, uint8_t max_tries, uint64_t allow,
      uint64_t rate, uint32_t burst, uint16_t max_gaps)
{
	struct braid_arq_rx_class_conf cc[2] = {
		{ .track_seqs = 4096 }, { .track_seqs = 4096 },
	};
	char name[32];
	struct braid_arq_rx_conf conf = {
		.name = name, .reorder = ro, .n_classes = 2, .classes = cc,
		.reorder_allow_ns = allow, .max_tries = max_tries,
		.nack_rate = rate, .nack_burst = burst, .max_gaps = max_gaps,
		.tick_ns = 1,   /* decide at every poll: the tests pick the times */
	};

	unique_name(name, sizeof(name), "arqrx");
	return braid_arq_rx_create(&conf, SOCKET_ID_ANY);
}

static void
push_seq(struct braid_reorder *ro, uint16_t class_id, uint32_t seq, uint64_t now)
{
	struct rte_mbuf *m = mk_pkt(class_id, seq, now, PAYLOAD);

	CU_ASSERT_FATAL(m != NULL);
	braid_reorder_burst(ro, &m, 1, &out, now);
	out_free();
}

/* Poll and return the seqs named (sorted), -1 if more than one NACK. */
static int
poll_seqs(struct braid_arq_rx *rx, uint64_t now, uint32_t *seqs, unsigned int cap)
{
	struct braid_nack nk[4];
	uint16_t n = braid_arq_rx_poll(rx, now, nk, 4);
	unsigned int ns = 0;

	for (uint16_t i = 0; i < n; i++)
		ns += nack_expand(&nk[i], seqs + ns, cap - ns);
	qsort(seqs, ns, sizeof(seqs[0]), cmp_u32);
	return (int)ns;
}

static void
test_rx_create(void)
{
	struct braid_reorder *ro = mk_reorder(200 * MS, 1024);
	struct braid_arq_rx_class_conf cc[3] = {
		{ .track_seqs = 1024 }, { .track_seqs = 0 }, { .track_seqs = 1024 },
	};
	struct braid_arq_rx_conf conf = {
		.name = "rxbad", .reorder = ro, .n_classes = 2, .classes = cc,
	};
	struct braid_arq_rx *rx;

	CU_ASSERT_FATAL(ro != NULL);
	CU_ASSERT(braid_arq_rx_create(NULL, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.reorder = NULL;
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.reorder = ro;
	conf.n_classes = 3;   /* class 2 is not in the reorder stage */
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.n_classes = 2;
	cc[0].track_seqs = 1000;
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	cc[0].track_seqs = 32;
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	cc[0].track_seqs = 1024;
	conf.max_tries = BRAID_ARQ_MAX_TRIES + 1;
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.max_tries = 0;
	conf.nack_burst = 100;    /* below one largest NACK frame */
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.nack_burst = 0;
	conf.name = "a_name_that_is_far_too_long_for_arq";
	CU_ASSERT(braid_arq_rx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.name = "rxok";
	rx = braid_arq_rx_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(rx != NULL);
	/* Defaults: srtt 100 ms, rttvar 50 ms. */
	CU_ASSERT(braid_arq_rx_allowance_ns(rx) == 25 * MS);
	CU_ASSERT(braid_arq_rx_interval_ns(rx) == 300 * MS);
	braid_arq_rx_set_rtt(rx, 40 * MS, 0);
	CU_ASSERT(braid_arq_rx_allowance_ns(rx) == 10 * MS);
	CU_ASSERT(braid_arq_rx_interval_ns(rx) == 40 * MS);
	braid_arq_rx_set_rtt(rx, 1 * MS, 0);
	CU_ASSERT(braid_arq_rx_interval_ns(rx) == BRAID_ARQ_DEFAULT_MIN_INTERVAL_NS);
	braid_arq_rx_set_delay_spread(rx, 3 * MS);
	CU_ASSERT(braid_arq_rx_allowance_ns(rx) == 3 * MS);
	/* A class's own spread (its links in time) wins over the global one. */
	CU_ASSERT(braid_arq_rx_class_allowance_ns(rx, 0) == 3 * MS);
	CU_ASSERT(braid_arq_rx_class_set_delay_spread(rx, 0, 7 * MS) == 0);
	CU_ASSERT(braid_arq_rx_class_set_delay_spread(rx, 2, 7 * MS) == -EINVAL);
	CU_ASSERT(braid_arq_rx_class_allowance_ns(rx, 0) == 7 * MS);
	CU_ASSERT(braid_arq_rx_class_allowance_ns(rx, 1) == 3 * MS);
	CU_ASSERT(braid_arq_rx_allowance_ns(rx) == 3 * MS);
	CU_ASSERT(braid_arq_rx_reset(rx, 2) == -EINVAL);
	braid_arq_rx_free(rx);
	braid_arq_rx_free(NULL);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Allowance, repeat interval, bounded tries, fill detection. */
static void
test_rx_timing(void)
{
	struct braid_reorder *ro = mk_reorder(200 * MS, 1024);
	struct braid_arq_rx *rx;
	struct braid_arq_rx_stats c;
	uint32_t s[64];

	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 3, 0, 0, 0, 0);
	CU_ASSERT_FATAL(rx != NULL);
	braid_arq_rx_set_rtt(rx, 40 * MS, 2 * MS);   /* allowance 10, interval 48 */
	push_seq(ro, 0, 100, T0);
	push_seq(ro, 0, 101, T0);
	push_seq(ro, 0, 103, T0);                     /* gap 102 opens at T0 */
	CU_ASSERT(poll_seqs(rx, T0, s, 64) == 0);
	CU_ASSERT(poll_seqs(rx, T0 + 10 * MS - 1, s, 64) == 0);
	CU_ASSERT(poll_seqs(rx, T0 + 10 * MS, s, 64) == 1);
	CU_ASSERT(s[0] == 102);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.nacks_sent == 1 && c.seqs_requested == 1);
	CU_ASSERT(c.nack_bytes == 12 + BRAID_WIRE_OVERHEAD);   /* bitmap of 1 word */
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);

	/* Gap 104..105 opens at T0 + 12 ms: its own clock. */
	push_seq(ro, 0, 106, T0 + 12 * MS);
	CU_ASSERT(poll_seqs(rx, T0 + 21 * MS, s, 64) == 0);
	CU_ASSERT(poll_seqs(rx, T0 + 22 * MS, s, 64) == 2);
	CU_ASSERT(s[0] == 104 && s[1] == 105);
	/* Repeat of 102 after the interval, not before. */
	CU_ASSERT(poll_seqs(rx, T0 + 58 * MS - 1, s, 64) == 0);
	CU_ASSERT(poll_seqs(rx, T0 + 58 * MS, s, 64) == 1);
	CU_ASSERT(s[0] == 102);
	/* 104 arrives: the next tick sees it filled. */
	push_seq(ro, 0, 104, T0 + 60 * MS);
	CU_ASSERT(poll_seqs(rx, T0 + 70 * MS, s, 64) == 1);   /* 105 repeat */
	CU_ASSERT(s[0] == 105);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.gaps_filled_after_nack == 1);
	CU_ASSERT(c.seqs_requested == 3 && c.seqs_rerequested == 2);
	/* Third and last try of 102, then it is exhausted. */
	CU_ASSERT(poll_seqs(rx, T0 + 106 * MS, s, 64) == 1);
	CU_ASSERT(s[0] == 102);
	CU_ASSERT(poll_seqs(rx, T0 + 118 * MS, s, 64) == 1);   /* 105, third */
	CU_ASSERT(s[0] == 105);
	CU_ASSERT(poll_seqs(rx, T0 + 154 * MS, s, 64) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.tries_exhausted == 1);
	CU_ASSERT(c.seqs_rerequested == 4);
	/* 102 and 105 arrive: everything resolves as filled. */
	push_seq(ro, 0, 102, T0 + 160 * MS);
	push_seq(ro, 0, 105, T0 + 160 * MS);
	CU_ASSERT(poll_seqs(rx, T0 + 161 * MS, s, 64) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.gaps_filled_after_nack == 3);
	CU_ASSERT(c.lost_after_nack == 0);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 0);
	CU_ASSERT(c.seqs_requested == c.gaps_filled_after_nack + c.lost_after_nack);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* The deadline test: never NACK what cannot come back before the skip. */
static void
test_rx_deadline(void)
{
	struct braid_reorder *ro = mk_reorder(30 * MS, 1024);
	struct braid_arq_rx *rx;
	struct braid_arq_rx_stats c;
	uint32_t s[64];
	int total = 0;

	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 4, 0, 0, 0, 0);
	CU_ASSERT_FATAL(rx != NULL);
	/* Deadline 30 ms < RTT 40 ms: no NACK is ever worth sending. */
	braid_arq_rx_set_rtt(rx, 40 * MS, 1 * MS);
	push_seq(ro, 0, 10, T0);
	push_seq(ro, 0, 12, T0);
	for (uint64_t t = T0; t <= T0 + 50 * MS; t += MS) {
		braid_reorder_poll(ro, &out, t);
		out_free();
		total += poll_seqs(rx, t, s, 64);
	}
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(total == 0 && c.nacks_sent == 0);
	CU_ASSERT(c.useless_by_deadline == 1);
	CU_ASSERT(c.lost_after_nack == 0);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);

	/* Deadline 60 ms: the first NACK at +10 ms fits (10 + 40 <= 60), the
	 * repeat at +54 ms would not (54 + 40 > 60); the skip at +60 ms
	 * resolves the NACKed seq as lost. */
	ro = mk_reorder(60 * MS, 1024);
	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 4, 0, 0, 0, 0);
	CU_ASSERT_FATAL(rx != NULL);
	braid_arq_rx_set_rtt(rx, 40 * MS, 1 * MS);   /* interval 44 */
	push_seq(ro, 0, 10, T0);
	push_seq(ro, 0, 12, T0);
	total = 0;
	for (uint64_t t = T0; t <= T0 + 70 * MS; t += MS) {
		int n;

		braid_reorder_poll(ro, &out, t);
		out_free();
		n = poll_seqs(rx, t, s, 64);
		if (n > 0) {
			CU_ASSERT(t == T0 + 10 * MS && s[0] == 11);
		}
		total += n;
	}
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(total == 1);
	CU_ASSERT(c.useless_by_deadline == 1);
	CU_ASSERT(c.lost_after_nack == 1 && c.gaps_filled_after_nack == 0);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 0);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Session change: explicit reset, and a reorder reset seen by the scan. */
static void
test_rx_reset(void)
{
	struct braid_reorder *ro = mk_reorder(200 * MS, 1024);
	struct braid_arq_rx *rx;
	struct braid_arq_rx_stats c;
	uint32_t s[64];

	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 4, 5 * MS, 0, 0, 0);   /* fixed allowance 5 ms */
	CU_ASSERT_FATAL(rx != NULL);
	braid_arq_rx_set_rtt(rx, 20 * MS, 1 * MS);
	braid_arq_rx_set_delay_spread(rx, 50 * MS);   /* conf value wins */
	CU_ASSERT(braid_arq_rx_allowance_ns(rx) == 5 * MS);
	push_seq(ro, 0, 1, T0);
	push_seq(ro, 0, 3, T0);
	push_seq(ro, 1, 500, T0);
	push_seq(ro, 1, 502, T0);
	CU_ASSERT(poll_seqs(rx, T0 + 5 * MS, s, 64) == 2);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 2);
	CU_ASSERT(braid_reorder_reset(ro, 0) == 0);
	CU_ASSERT(braid_arq_rx_reset(rx, 0) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.reset_discarded == 1 && c.resets == 1);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);
	/* The peer restarted: class 0 starts over at seq 70000. */
	push_seq(ro, 0, 70000, T0 + 10 * MS);
	push_seq(ro, 0, 70002, T0 + 10 * MS);
	CU_ASSERT(poll_seqs(rx, T0 + 15 * MS, s, 64) == 1);
	CU_ASSERT(s[0] == 70001);
	/* A reorder reset alone (class 1) is noticed by the next tick. */
	CU_ASSERT(braid_reorder_reset(ro, 1) == 0);
	CU_ASSERT(poll_seqs(rx, T0 + 16 * MS, s, 64) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.reset_discarded == 2);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);
	CU_ASSERT(braid_arq_rx_reset(rx, BRAID_ARQ_ALL_CLASSES) == 0);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.seqs_requested == c.reset_discarded + c.gaps_filled_after_nack +
		  c.lost_after_nack);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* class_enable(): off discards the class's NACK state (tracked drops,
 * reset_discarded) and poll() leaves it alone; on starts it afresh. */
static void
test_rx_enable(void)
{
	struct braid_reorder *ro = mk_reorder(200 * MS, 1024);
	struct braid_arq_rx_class_conf cc1[2] = { { .track_seqs = 4096 }, { .track_seqs = 0 } };
	struct braid_arq_rx_conf conf1 = {
		.name = "rx_half", .reorder = ro, .n_classes = 2, .classes = cc1,
	};
	struct braid_arq_rx *rx, *rx1;
	struct braid_arq_rx_stats c;
	struct braid_nack nk[4];
	uint32_t s[64];
	uint16_t n;
	unsigned int ns;

	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 4, 5 * MS, 0, 0, 0);   /* fixed allowance 5 ms */
	CU_ASSERT_FATAL(rx != NULL);
	braid_arq_rx_set_rtt(rx, 20 * MS, 1 * MS);   /* interval 24 ms */
	CU_ASSERT(braid_arq_rx_class_enabled(rx, 0) && braid_arq_rx_class_enabled(rx, 1));
	CU_ASSERT(!braid_arq_rx_class_enabled(rx, 2));
	CU_ASSERT(braid_arq_rx_class_enable(rx, 2, false) == -EINVAL);
	CU_ASSERT(braid_arq_rx_class_enable(rx, BRAID_ARQ_ALL_CLASSES, false) == -EINVAL);
	CU_ASSERT(braid_arq_rx_class_enable(rx, 0, true) == 0);   /* already on */

	push_seq(ro, 0, 1, T0);
	push_seq(ro, 0, 3, T0);
	push_seq(ro, 0, 6, T0);       /* class 0 gaps: 2, 4..5 */
	push_seq(ro, 1, 500, T0);
	push_seq(ro, 1, 502, T0);     /* class 1 gap: 501 */
	CU_ASSERT(poll_seqs(rx, T0 + 5 * MS, s, 64) == 4);
	CU_ASSERT(s[0] == 2 && s[1] == 4 && s[2] == 5 && s[3] == 501);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 4);

	/* Off: class 0's three NACKed seqs leave at once. */
	CU_ASSERT(braid_arq_rx_class_enable(rx, 0, false) == 0);
	CU_ASSERT(!braid_arq_rx_class_enabled(rx, 0));
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.reset_discarded == 3 && c.resets == 0);
	CU_ASSERT(braid_arq_rx_class_enable(rx, 0, false) == 0);   /* no-op */
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.reset_discarded == 3);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);

	/* Class 0's gaps are still open in reorder, and a new one opens:
	 * only class 1's repeat goes out. */
	n = braid_arq_rx_poll(rx, T0 + 30 * MS, nk, 4);
	CU_ASSERT_FATAL(n == 1);
	CU_ASSERT(nk[0].class_id == 1);
	ns = nack_expand(&nk[0], s, 64);
	CU_ASSERT(ns == 1 && s[0] == 501);
	push_seq(ro, 0, 8, T0 + 31 * MS);   /* gap 7 */
	push_seq(ro, 0, 2, T0 + 31 * MS);   /* 2 filled while off */
	for (uint64_t t = T0 + 32 * MS; t < T0 + 50 * MS; t += MS)
		CU_ASSERT(braid_arq_rx_poll(rx, t, nk, 4) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.seqs_requested == 4 && c.seqs_rerequested == 1);
	CU_ASSERT(c.gaps_filled_after_nack == 0);   /* 2 was forgotten */
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);

	/* On: the next tick starts class 0 afresh; its open gaps are new
	 * to it and NACKed once due (all are past the allowance). */
	CU_ASSERT(braid_arq_rx_class_enable(rx, 0, true) == 0);
	CU_ASSERT(braid_arq_rx_class_enabled(rx, 0));
	n = braid_arq_rx_poll(rx, T0 + 50 * MS, nk, 4);
	CU_ASSERT_FATAL(n == 1);
	CU_ASSERT(nk[0].class_id == 0);
	ns = nack_expand(&nk[0], s, 64);
	qsort(s, ns, sizeof(s[0]), cmp_u32);
	CU_ASSERT(ns == 3 && s[0] == 4 && s[1] == 5 && s[2] == 7);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 4);
	/* and resolves as usual: 7 arrives. */
	push_seq(ro, 0, 7, T0 + 51 * MS);
	CU_ASSERT(poll_seqs(rx, T0 + 52 * MS, s, 64) == 0);
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.gaps_filled_after_nack == 1);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 3);
	CU_ASSERT(c.seqs_requested == c.gaps_filled_after_nack + c.lost_after_nack +
		  c.reset_discarded + braid_arq_rx_tracked(rx));
	/* A reset of a class switched off is harmless. */
	CU_ASSERT(braid_arq_rx_class_enable(rx, 1, false) == 0);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 2);
	CU_ASSERT(braid_arq_rx_reset(rx, BRAID_ARQ_ALL_CLASSES) == 0);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 0);
	CU_ASSERT(!braid_arq_rx_class_enabled(rx, 1));   /* reset keeps it off */
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.seqs_requested == c.gaps_filled_after_nack + c.lost_after_nack +
		  c.reset_discarded);

	/* A class created without a ring cannot be switched. */
	rx1 = braid_arq_rx_create(&conf1, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(rx1 != NULL);
	CU_ASSERT(!braid_arq_rx_class_enabled(rx1, 1));
	CU_ASSERT(braid_arq_rx_class_enable(rx1, 1, true) == -ENOTSUP);
	CU_ASSERT(braid_arq_rx_class_enable(rx1, 1, false) == -ENOTSUP);
	CU_ASSERT(braid_arq_rx_class_enabled(rx1, 0));
	braid_arq_rx_free(rx1);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* A huge gap pattern against a small NACK budget: the budget holds over
 * every window, the oldest gaps go first, the rest is counted. */
static void
test_rx_budget(void)
{
	const uint64_t rate = 1000;
	const uint32_t burst = BRAID_WIRE_OVERHEAD + BRAID_NACK_MAX_LEN;
	struct braid_reorder *ro = mk_reorder(5000 * MS, 4096);
	struct braid_arq_rx *rx;
	struct braid_arq_rx_stats c;
	struct braid_nack nk[8];
	uint64_t t_sent[64], b_sent[64], sum = 0;
	unsigned int n_sent = 0;
	uint32_t s[300];

	CU_ASSERT_FATAL(ro != NULL);
	rx = mk_rx(ro, 4, 0, rate, burst, 1024);
	CU_ASSERT_FATAL(rx != NULL);
	braid_arq_rx_set_rtt(rx, 40 * MS, 1 * MS);
	/* Even seqs only: 1000 single-seq gaps (seqs 1, 3, ..., 1999). */
	for (uint32_t q = 0; q <= 2000; q += 2)
		push_seq(ro, 0, q, T0);
	for (uint64_t t = T0; t < T0 + 2000 * MS; t += MS) {
		uint16_t n = braid_arq_rx_poll(rx, t, nk, 8);

		for (uint16_t i = 0; i < n && n_sent < 64; i++) {
			unsigned int ns = nack_expand(&nk[i], s, 300);

			t_sent[n_sent] = t;
			b_sent[n_sent] = (uint64_t)braid_wire_nack_len(&nk[i]) +
				BRAID_WIRE_OVERHEAD;
			sum += b_sent[n_sent];
			n_sent++;
			qsort(s, ns, sizeof(s[0]), cmp_u32);
			if (n_sent == 1) {
				/* The oldest 144 gaps in one full NACK. */
				CU_ASSERT(ns == 144 && s[0] == 1 && s[143] == 287);
				CU_ASSERT(b_sent[0] == burst);
			}
			if (n_sent <= 4)
				CU_ASSERT(s[0] == 1);     /* 1 is retried first */
			if (n_sent == 5)
				CU_ASSERT(s[0] == 289);   /* 1..287 exhausted */
		}
	}
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(n_sent >= 8 && n_sent < 64);
	CU_ASSERT(c.nacks_sent == n_sent && c.nack_bytes == sum);
	CU_ASSERT(c.budget_exceeded > 0);
	CU_ASSERT(bucket_conforms(t_sent, b_sent, n_sent, rate, burst));
	/* Fewer than budget x time could ever have been sent. */
	CU_ASSERT(sum <= burst + rate * 2);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* ------------------------------------------------------------------ */
/* Sender                                                               */
/* ------------------------------------------------------------------ */

/* ---- the arq_rx stage ---- */

static struct braid_burst out2;

static void
stat_count(void *arg, const char *name,
	   const struct braid_stat_labels *labels, uint64_t v)
{
	RTE_SET_USED(labels);
	RTE_SET_USED(name);
	RTE_SET_USED(v);
	(*(unsigned int *)arg)++;
}

/* Reorder's output through arq_rx: recovered counted, packets passed on;
 * reorder's resets followed; NACK frames to the to-peer ring (link 0
 * without link health); commands through apply(). */
static void
test_rx_stage(void)
{
	struct braid_reorder *ro = mk_reorder(200 * MS, 1024);
	struct braid_arq_rx_class_conf cc[2] = { { .track_seqs = 4096 }, { .track_seqs = 4096 } };
	struct braid_arq_rx_conf conf = {
		.n_classes = 2, .classes = cc, .reorder_allow_ns = 1 * MS, .tick_ns = 1,
	};
	struct braid_arq_rx_stats c;
	struct braid_arq_rx_cmd cmd = { .op = BRAID_ARQ_RX_CMD_ENABLE, .class_id = 0 };
	struct braid_arq_rx *rx;
	struct braid_nack nk;
	struct rte_ring *to_peer;
	struct rte_mbuf *pk[3], *f = NULL;
	char name[32], rname[32];
	unsigned int nstat = 0;

	CU_ASSERT_FATAL(ro != NULL);
	unique_name(rname, sizeof(rname), "arqtp");
	to_peer = rte_ring_create(rname, 64, SOCKET_ID_ANY, 0);
	CU_ASSERT_FATAL(to_peer != NULL);
	unique_name(name, sizeof(name), "arqrx");
	conf.name = name;
	conf.reorder = ro;
	conf.pool = pool;
	conf.tx_ring = to_peer;
	rx = braid_arq_rx_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(rx != NULL);
	CU_ASSERT(braid_arq_rx_stage_ops.cmd_size == sizeof(cmd) &&
		  braid_arq_rx_stage_ops.cmd_size <= BRAID_CMD_MAX_SIZE);
	CU_ASSERT(strcmp(braid_arq_rx_stage_ops.kind, "arq_rx") == 0);

	/* 100, 101, 103 (gap 102) of class 0; a retransmission of class 1 */
	pk[0] = mk_pkt(0, 100, T0, PAYLOAD);
	pk[1] = mk_pkt(0, 101, T0, PAYLOAD);
	pk[2] = mk_pkt(0, 103, T0, PAYLOAD);
	braid_reorder_stage_ops.process(ro, pk, 3, &out, T0);
	pk[0] = mk_pkt(1, 7, T0, PAYLOAD);
	braid_meta(pk[0])->flags |= BRAID_META_F_RETX;
	braid_reorder_stage_ops.process(ro, pk, 1, &out, T0);
	CU_ASSERT_FATAL(out.n == 3);
	braid_arq_rx_stage_ops.process(rx, out.pkts, out.n, &out2, T0);
	out.n = 0;
	CU_ASSERT(out2.n == 3);
	rte_pktmbuf_free_bulk(out2.pkts, out2.n);
	out2.n = 0;
	CU_ASSERT(braid_arq_rx_recovered(rx, 1) == 1 && braid_arq_rx_recovered(rx, 0) == 0);
	CU_ASSERT(braid_arq_rx_recovered(rx, 1) == 1);

	/* The gap is NACKed after the allowance: one frame, on link 0. */
	CU_ASSERT(braid_arq_rx_stage_ops.poll(rx, &out2, T0 + 1 * MS) == 1);
	CU_ASSERT(out2.n == 0);
	CU_ASSERT_FATAL(rte_ring_count(to_peer) == 1);
	CU_ASSERT_FATAL(rte_ring_dequeue(to_peer, (void **)&f) == 0);
	CU_ASSERT(braid_meta(f)->link_id == 0);
	CU_ASSERT(braid_wire_nack_parse(f, &nk) == 0 && nk.class_id == 0);
	rte_pktmbuf_free(f);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 1);

	/* A peer restart reaches reorder (flagged packet): arq_rx forgets
	 * the NACK state of every class at its next call. */
	pk[0] = mk_pkt(0, 0, T0 + 2 * MS, PAYLOAD);
	braid_meta(pk[0])->flags |= BRAID_META_F_SESSION;
	braid_reorder_stage_ops.process(ro, pk, 1, &out, T0 + 2 * MS);
	CU_ASSERT_FATAL(out.n == 1);
	braid_arq_rx_stage_ops.process(rx, out.pkts, out.n, &out2, T0 + 2 * MS);
	out.n = 0;
	rte_pktmbuf_free_bulk(out2.pkts, out2.n);
	out2.n = 0;
	braid_arq_rx_stats(rx, &c);
	CU_ASSERT(c.resets == 2 && c.reset_discarded == 1);
	CU_ASSERT(braid_arq_rx_tracked(rx) == 0);

	/* Commands. */
	CU_ASSERT(braid_arq_rx_stage_ops.apply(rx, &cmd) == 0);
	CU_ASSERT(!braid_arq_rx_class_enabled(rx, 0));
	cmd.enable = true;
	CU_ASSERT(braid_arq_rx_stage_ops.apply(rx, &cmd) == 0);
	CU_ASSERT(braid_arq_rx_class_enabled(rx, 0));
	cmd.class_id = 2;
	CU_ASSERT(braid_arq_rx_stage_ops.apply(rx, &cmd) == -EINVAL);
	cmd.op = 0;
	cmd.class_id = 0;
	CU_ASSERT(braid_arq_rx_stage_ops.apply(rx, &cmd) == -EINVAL);

	braid_arq_rx_stage_ops.stats(rx, stat_count, &nstat);
	/* 5 stage counters, 13 receiver counters, tracked */
	CU_ASSERT(nstat == 19);
	braid_arq_rx_free(rx);
	braid_reorder_free(ro);
	rte_ring_free(to_peer);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

static struct braid_rtx *
mk_rtx(uint32_t window_ms, uint32_t max_packets)
{
	struct braid_rtx_class_conf cc[2] = {
		{ .window_ms = window_ms, .max_packets = max_packets },
		{ .window_ms = 0 },
	};
	char name[24];
	struct braid_rtx_conf conf = {
		.name = name, .n_classes = 2, .classes = cc, .clone_pool = clone_pool,
	};

	unique_name(name, sizeof(name), "rtx");
	return braid_rtx_create(&conf, SOCKET_ID_ANY);
}

/* Cache class-0 packets first..first+n-1 that entered the LAN at origin. */
static void
rtx_fill(struct braid_rtx *c, uint32_t first, uint32_t n, uint64_t origin, uint16_t len)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = mk_pkt(0, first + i, origin, len);

		CU_ASSERT_FATAL(m != NULL);
		braid_rtx_burst(c, &m, 1, &out, origin);
		out_free();
	}
}

static struct braid_arq_tx *
mk_tx(struct braid_rtx *rtx, uint64_t rate, uint32_t burst, uint8_t max_tries,
      uint64_t deadline)
{
	struct braid_arq_tx_class_conf cc[2] = {
		{ .deadline_ns = deadline }, { .deadline_ns = deadline },
	};
	char name[32];
	struct braid_arq_tx_conf conf = {
		.name = name, .rtx = rtx, .n_classes = 2, .classes = cc,
		.rate_bytes_per_s = rate, .burst_bytes = burst, .max_tries = max_tries,
	};

	unique_name(name, sizeof(name), "arqtx");
	return braid_arq_tx_create(&conf, SOCKET_ID_ANY);
}

static struct braid_nack
nack1(uint16_t class_id, uint32_t seq)
{
	struct braid_nack nk;
	struct braid_seq_range r = { seq, 1 };

	CU_ASSERT(braid_arq_nack_pack(class_id, &r, 1, &nk) == 1);
	return nk;
}

/* Serve the orders from the cache (on links 0/1), report, free. */
static unsigned int
serve_orders(struct braid_arq_tx *tx, struct braid_rtx *rtx,
	     const struct braid_arq_tx_order *o, uint16_t n, uint64_t now)
{
	unsigned int copies = 0;

	for (uint16_t i = 0; i < n; i++) {
		unsigned int sent = 0;

		for (unsigned int k = 0; k < o[i].hint; k++) {
			struct rte_mbuf *m = braid_rtx_serve(rtx, o[i].class_id, o[i].seq,
							     (uint16_t)k, now);

			if (m != NULL) {
				CU_ASSERT(braid_meta(m)->flags & BRAID_META_F_RETX);
				rte_pktmbuf_free(m);
				sent++;
			}
		}
		braid_arq_tx_report(tx, &o[i], sent);
		copies += sent;
	}
	return copies;
}

static void
tx_check_sum(const struct braid_arq_tx *tx)
{
	struct braid_arq_tx_stats c;

	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.seqs_requested == c.ordered + c.suppressed + c.over_budget +
		  c.expired_or_missing + c.too_late + c.truncated);
}

static void
test_tx_create(void)
{
	struct braid_rtx *rtx = mk_rtx(1000, 1024);
	struct braid_arq_tx_conf conf = {
		.name = "txbad", .rtx = rtx, .n_classes = 2, .rate_bytes_per_s = 1000000,
	};
	struct braid_arq_tx *tx;

	CU_ASSERT_FATAL(rtx != NULL);
	CU_ASSERT(braid_arq_tx_create(NULL, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.rtx = NULL;
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.rtx = rtx;
	conf.capacity_ppm = 1000;   /* both modes */
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.rate_bytes_per_s = 0;
	conf.capacity_ppm = 0;      /* neither */
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.capacity_ppm = 1000001;
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.capacity_ppm = 100000;
	conf.burst_bytes = 1000;
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	conf.burst_bytes = 0;
	conf.n_classes = 0;
	CU_ASSERT(braid_arq_tx_create(&conf, SOCKET_ID_ANY) == NULL);
	CU_ASSERT(rte_errno == EINVAL);
	conf.n_classes = 2;
	tx = braid_arq_tx_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(tx != NULL);
	/* 10 % of the capacity, once it is known. */
	CU_ASSERT(braid_arq_tx_rate(tx) == 0);
	braid_arq_tx_set_capacity(tx, 2500000);
	CU_ASSERT(braid_arq_tx_rate(tx) == 250000);
	braid_arq_tx_set_capacity(tx, 1234567);
	CU_ASSERT(braid_arq_tx_rate(tx) == 123456);
	CU_ASSERT(braid_arq_tx_reset(tx, 2) == -EINVAL);
	CU_ASSERT(braid_arq_tx_reset(tx, BRAID_ARQ_ALL_CLASSES) == 0);
	braid_arq_tx_free(tx);
	braid_arq_tx_free(NULL);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* Suppression, misses, deadline, last-try duplication, truncation. */
static void
test_tx_policy(void)
{
	const uint64_t org = T0;
	struct braid_rtx *rtx = mk_rtx(10000, 1024);
	struct braid_arq_tx *tx;
	struct braid_arq_tx_order o[16];
	struct braid_arq_tx_stats c;
	struct braid_rtx_stats rc;
	struct braid_nack nk;
	uint64_t t = org + 10 * MS;

	CU_ASSERT_FATAL(rtx != NULL);
	rtx_fill(rtx, 0, 100, org, 100);
	tx = mk_tx(rtx, 1000000, 65536, 3, 500 * MS);
	CU_ASSERT_FATAL(tx != NULL);
	braid_arq_tx_set_rtt(tx, 40 * MS, 2 * MS);   /* suppress 20, interval 48 */

	nk = nack1(0, 5);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, t, o, 16) == 1);
	CU_ASSERT(o[0].seq == 5 && o[0].class_id == 0 && o[0].try_no == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	CU_ASSERT(o[0].bytes == 100 + BRAID_WIRE_OVERHEAD);
	CU_ASSERT(serve_orders(tx, rtx, o, 1, t) == 1);
	/* Suppressed within srtt/2 of the retransmission, not after. */
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 20 * MS - 1, o, 16) == 0);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.suppressed == 1);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 20 * MS, o, 16) == 1);
	CU_ASSERT(o[0].try_no == 2 && o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	CU_ASSERT(serve_orders(tx, rtx, o, 1, t + 20 * MS) == 1);
	/* Third request = max_tries: the last one, on two links. */
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 70 * MS, o, 16) == 1);
	CU_ASSERT(o[0].try_no == 3 && o[0].hint == BRAID_ARQ_HINT_BOTH);
	CU_ASSERT(serve_orders(tx, rtx, o, 1, t + 70 * MS) == 2);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.duplicated_last_try == 1 && c.served == 4);

	/* A failed serve gives the tokens back and does not suppress. */
	nk = nack1(0, 6);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 80 * MS, o, 16) == 1);
	braid_arq_tx_report(tx, &o[0], 0);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 81 * MS, o, 16) == 1);
	CU_ASSERT(serve_orders(tx, rtx, o, 1, t + 81 * MS) == 1);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.serve_failed == 1 && c.served == 5);
	CU_ASSERT(c.retx_bytes == 5 * (uint64_t)(100 + BRAID_WIRE_OVERHEAD));

	/* Age at the peer = age + srtt/2. First request, but the next one
	 * (interval 48 ms later) would arrive after the deadline: last try. */
	nk = nack1(0, 7);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, org + 432 * MS + 1, o, 16) == 1);
	CU_ASSERT(o[0].try_no == 1 && o[0].hint == BRAID_ARQ_HINT_BOTH);
	serve_orders(tx, rtx, o, 1, org + 432 * MS + 1);
	nk = nack1(0, 8);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, org + 432 * MS, o, 16) == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	serve_orders(tx, rtx, o, 1, org + 432 * MS);
	/* Cannot reach the peer's LAN within the deadline: not sent. */
	nk = nack1(0, 9);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, org + 480 * MS + 1, o, 16) == 0);
	nk = nack1(0, 10);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, org + 480 * MS, o, 16) == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_BOTH);
	serve_orders(tx, rtx, o, 1, org + 480 * MS);
	/* Never stored; a class without ARQ; a class that does not exist. */
	nk = nack1(0, 200);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 16) == 0);
	nk = nack1(1, 5);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 16) == 0);
	nk = nack1(9, 5);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 16) == 0);
	memset(&nk, 0, sizeof(nk));   /* names nothing */
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 16) == 0);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.too_late == 1 && c.expired_or_missing == 1);
	CU_ASSERT(c.drop_bad_class == 2 && c.drop_bad_nack == 1);

	/* A range of 2^31 - 1 seqs: bounded work, the rest truncated. */
	memset(&nk, 0, sizeof(nk));
	nk.n_ranges = 1;
	nk.ranges[0] = (struct braid_seq_range){ 20, BRAID_NACK_RANGE_MAX };
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 200 * MS, o, 16) == 16);
	serve_orders(tx, rtx, o, 16, t + 200 * MS);
	for (int i = 0; i < 16; i++)
		CU_ASSERT(o[i].seq == 20u + (uint32_t)i);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.truncated == BRAID_NACK_RANGE_MAX - 16);
	CU_ASSERT(c.nack_rx == 15);
	tx_check_sum(tx);
	/* Every order was served by the cache. */
	braid_rtx_stats(rtx, &rc);
	CU_ASSERT(rc.served == c.served);

	/* Seqs across the 2^32 wrap. */
	CU_ASSERT(braid_rtx_reset(rtx, 0) == 0);
	CU_ASSERT(braid_arq_tx_reset(tx, 0) == 0);
	rtx_fill(rtx, UINT32_MAX - 3, 8, t, 100);
	memset(&nk, 0, sizeof(nk));
	nk.n_ranges = 1;
	nk.ranges[0] = (struct braid_seq_range){ UINT32_MAX - 1, 4 };
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t + 10 * MS, o, 16) == 4);
	CU_ASSERT(o[0].seq == UINT32_MAX - 1 && o[3].seq == 1);
	serve_orders(tx, rtx, o, 4, t + 10 * MS);
	tx_check_sum(tx);
	braid_arq_tx_free(tx);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

/* class_set_deadline(): the next NACK is judged by the new deadline. */
static void
test_tx_set_deadline(void)
{
	const uint64_t t = T0 + 100 * MS;   /* age at the peer: 100 + 20 ms */
	struct braid_rtx *rtx = mk_rtx(10000, 1024);
	struct braid_arq_tx *tx;
	struct braid_arq_tx_order o[4];
	struct braid_arq_tx_stats c;
	struct braid_nack nk;

	CU_ASSERT_FATAL(rtx != NULL);
	rtx_fill(rtx, 0, 10, T0, 100);
	tx = mk_tx(rtx, 1000000, 65536, 4, 500 * MS);
	CU_ASSERT_FATAL(tx != NULL);
	braid_arq_tx_set_rtt(tx, 40 * MS, 2 * MS);   /* interval 48 ms */
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 2, 0) == -EINVAL);
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, BRAID_ARQ_ALL_CLASSES, 0) == -EINVAL);
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 1, 50 * MS) == 0);   /* no ARQ: stored */

	nk = nack1(0, 1);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, t, o, 4) == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	serve_orders(tx, rtx, o, 1, t);
	/* Shorter than the age: too late. */
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 0, 100 * MS) == 0);
	nk = nack1(0, 2);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 4) == 0);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.too_late == 1 && c.ordered == 1);
	/* Longer again: ordered; within an interval of it: the last try. */
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 0, 200 * MS) == 0);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, t, o, 4) == 1);
	CU_ASSERT(o[0].seq == 2 && o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	serve_orders(tx, rtx, o, 1, t);
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 0, 150 * MS) == 0);
	nk = nack1(0, 3);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, t, o, 4) == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_BOTH);   /* 120 + 48 > 150 */
	serve_orders(tx, rtx, o, 1, t);
	/* 0: no age limit, even 5 s later. */
	CU_ASSERT(braid_arq_tx_class_set_deadline(tx, 0, 0) == 0);
	nk = nack1(0, 4);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, T0 + 5000 * MS, o, 4) == 1);
	CU_ASSERT(o[0].hint == BRAID_ARQ_HINT_PRIMARY);
	serve_orders(tx, rtx, o, 1, T0 + 5000 * MS);
	/* The cache's class switched off: the sender finds nothing. */
	CU_ASSERT(braid_rtx_class_enable(rtx, 0, false) == 0);
	nk = nack1(0, 5);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, t, o, 4) == 0);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.too_late == 1 && c.ordered == 4 && c.expired_or_missing == 1);
	CU_ASSERT(c.duplicated_last_try == 1);
	tx_check_sum(tx);
	braid_arq_tx_free(tx);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

/* A failed serve gives its tokens back: with a bucket of 3200 bytes and
 * 582-byte frames, five orders fit; the failed one before them is free. */
static void
test_tx_refund(void)
{
	struct braid_rtx *rtx = mk_rtx(10000, 64);
	struct braid_arq_tx *tx;
	struct braid_arq_tx_order o[16];
	struct braid_arq_tx_stats c;
	struct braid_seq_range r = { 1, 5 };
	struct braid_nack nk;

	CU_ASSERT_FATAL(rtx != NULL);
	rtx_fill(rtx, 0, 10, T0, 500);
	tx = mk_tx(rtx, 1, 3200, 4, 0);   /* 1 byte/s: no refill to speak of */
	CU_ASSERT_FATAL(tx != NULL);
	nk = nack1(0, 0);
	CU_ASSERT_FATAL(braid_arq_tx_nack(tx, &nk, T0, o, 16) == 1);
	CU_ASSERT(o[0].bytes == 500 + BRAID_WIRE_OVERHEAD);
	braid_arq_tx_report(tx, &o[0], 0);              /* nothing went out */
	CU_ASSERT(braid_arq_nack_pack(0, &r, 1, &nk) == 1);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, T0, o, 16) == 5);
	CU_ASSERT(serve_orders(tx, rtx, o, 5, T0) == 5);
	nk = nack1(0, 6);
	CU_ASSERT(braid_arq_tx_nack(tx, &nk, T0, o, 16) == 0);
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(c.over_budget == 1 && c.serve_failed == 1 && c.served == 5);
	CU_ASSERT(c.retx_bytes == 5 * (uint64_t)(500 + BRAID_WIRE_OVERHEAD));
	tx_check_sum(tx);
	braid_arq_tx_free(tx);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

/* Random request storms: the token bucket bounds what goes out over
 * every window, suppression holds per seq, the counters add up. */
static void
test_tx_storm(void)
{
	enum { NSEQ = 1024, MAXLOG = 20000 };
	const uint64_t rate = 100000;
	const uint32_t burst = 8000;
	uint64_t rng = seed ^ 0x5702;
	struct braid_rtx *rtx = mk_rtx(60000, NSEQ);
	struct braid_arq_tx *tx;
	struct braid_arq_tx_order o[64];
	struct braid_arq_tx_stats c;
	static uint64_t t_log[MAXLOG], b_log[MAXLOG];
	static uint64_t last_tx[NSEQ];
	unsigned int n_log = 0;
	uint64_t t = T0, total = 0;
	bool suppress_ok = true;

	CU_ASSERT_FATAL(rtx != NULL);
	memset(last_tx, 0, sizeof(last_tx));
	rtx_fill(rtx, 0, NSEQ, T0, 200);
	tx = mk_tx(rtx, rate, burst, 4, 0);
	CU_ASSERT_FATAL(tx != NULL);
	braid_arq_tx_set_rtt(tx, 30 * MS, 2 * MS);   /* suppress 15 ms */

	for (int iter = 0; iter < 3000; iter++) {
		struct braid_seq_range runs[40];
		struct braid_nack nk;
		unsigned int nr = 1 + braid_test_rand(&rng) % 40;
		uint32_t s = (uint32_t)(braid_test_rand(&rng) % NSEQ);
		uint16_t n;

		t += braid_test_rand(&rng) % (2 * MS);
		for (unsigned int i = 0; i < nr; i++) {
			runs[i].first = s;
			runs[i].count = 1 + (uint32_t)(braid_test_rand(&rng) % 5);
			s += runs[i].count + 1 + (uint32_t)(braid_test_rand(&rng) % 20);
		}
		CU_ASSERT_FATAL(braid_arq_nack_pack(0, runs, nr, &nk) > 0);
		n = braid_arq_tx_nack(tx, &nk, t, o, 64);
		for (uint16_t i = 0; i < n; i++) {
			uint32_t q = o[i].seq % NSEQ;

			if (o[i].seq < NSEQ && last_tx[q] != 0 && t - last_tx[q] < 15 * MS)
				suppress_ok = false;
			last_tx[q] = t;
			if (n_log < MAXLOG) {
				t_log[n_log] = t;
				b_log[n_log] = (uint64_t)o[i].bytes * o[i].hint;
				n_log++;
			}
			total += (uint64_t)o[i].bytes * o[i].hint;
		}
		serve_orders(tx, rtx, o, n, t);
	}
	braid_arq_tx_stats(tx, &c);
	CU_ASSERT(suppress_ok);
	CU_ASSERT(n_log < MAXLOG);
	CU_ASSERT(c.over_budget > 0 && c.suppressed > 0 && c.ordered > 0);
	CU_ASSERT(c.expired_or_missing > 0);    /* runs past seq 1023 */
	CU_ASSERT(c.retx_bytes == total);
	CU_ASSERT(total <= burst + rate * (t - T0) / 1000000000ULL + 1);
	CU_ASSERT(bucket_conforms(t_log, b_log, n_log, rate, burst));
	tx_check_sum(tx);
	braid_arq_tx_free(tx);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

/* ------------------------------------------------------------------ */
/* Closed-loop simulation                                               */
/* ------------------------------------------------------------------ */

enum { SIM_TO_RX = 0, SIM_TO_TX = 1 };
#define SIM_HEAP 16384
#define SIM_MAX_N 4096
#define SIM_MAX_NACKS 20000

struct sim_ev {
	uint64_t t;
	uint64_t order;
	struct rte_mbuf *m;
	uint8_t dir;
};

struct sim_params {
	unsigned int n_pkts;        /* packets that must all come through */
	unsigned int n_gen;         /* packets generated at least */
	uint32_t seq0;
	unsigned int loss_permille;
	uint64_t delay[2];          /* one-way delay of link 0 and 1 */
	uint64_t jitter;            /* uniform 0..jitter added */
	uint64_t deadline;          /* reorder deadline = ARQ deadline */
	uint8_t max_tries;
	uint64_t nack_rate;
	uint32_t nack_burst;
};

struct sim {
	const struct sim_params *p;
	uint64_t rng;
	uint64_t now;
	struct sim_ev heap[SIM_HEAP];
	unsigned int n_heap;
	uint64_t ev_order;
	/* per packet index (seq - seq0) */
	uint8_t orig_lost[SIM_MAX_N];
	uint8_t nacked[SIM_MAX_N];
	uint8_t delivered[SIM_MAX_N];
	/* results */
	uint32_t next_expect;        /* delivered in order up to here */
	bool first_delivered;
	unsigned int order_errors;
	unsigned int delivered_n;    /* of the first n_pkts */
	unsigned int nacks;
	uint64_t nack_seqs;
	unsigned int nacks_at_tx;
	unsigned int bad_nack;        /* named a seq not in a gap, or too early/late */
	unsigned int spurious_first;  /* first NACK of a seq whose original arrived */
	unsigned int over_tries;
	uint64_t nack_t[SIM_MAX_NACKS];
	uint64_t nack_b[SIM_MAX_NACKS];
};

static void
heap_push(struct sim *s, uint64_t t, struct rte_mbuf *m, uint8_t dir)
{
	unsigned int i = s->n_heap++;

	CU_ASSERT_FATAL(i < SIM_HEAP);
	s->heap[i] = (struct sim_ev){ t, s->ev_order++, m, dir };
	while (i > 0) {
		unsigned int p = (i - 1) / 2;
		struct sim_ev tmp;

		if (s->heap[p].t < s->heap[i].t ||
		    (s->heap[p].t == s->heap[i].t && s->heap[p].order < s->heap[i].order))
			break;
		tmp = s->heap[p];
		s->heap[p] = s->heap[i];
		s->heap[i] = tmp;
		i = p;
	}
}

static bool
ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static struct sim_ev
heap_pop(struct sim *s)
{
	struct sim_ev top = s->heap[0];
	unsigned int i = 0;

	s->heap[0] = s->heap[--s->n_heap];
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;
		struct sim_ev tmp;

		if (l < s->n_heap && ev_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n_heap && ev_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = tmp;
		i = m;
	}
	return top;
}

static uint32_t
sim_idx(const struct sim *s, uint32_t seq)
{
	return seq - s->p->seq0;
}

/*
 * Put @p m on @p link toward @p dir: lost with the loss probability,
 * else delivered after the link's delay plus jitter. Data crosses the
 * "wire" as a fresh mbuf (payload and meta copied), as decap would give
 * the receiver; the sender's mbuf (original or clone) is freed.
 */
static void
sim_send(struct sim *s, struct rte_mbuf *m, uint8_t dir, unsigned int link)
{
	uint64_t at;

	/* The reorder stage starts the stream at the first packet it sees
	 * (nothing before it can be a gap): the stream's first packet is
	 * the session start, neither lost nor overtaken here. */
	bool first = dir == SIM_TO_RX && braid_meta(m)->seq == s->p->seq0 &&
		!(braid_meta(m)->flags & BRAID_META_F_RETX);

	if (!first && braid_test_rand(&s->rng) % 1000 < s->p->loss_permille) {
		if (dir == SIM_TO_RX && !(braid_meta(m)->flags & BRAID_META_F_RETX)) {
			uint32_t i = sim_idx(s, braid_meta(m)->seq);

			if (i < SIM_MAX_N)
				s->orig_lost[i] = 1;
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (dir == SIM_TO_RX) {
		struct rte_mbuf *w = rte_pktmbuf_alloc(pool);
		char *d;

		CU_ASSERT_FATAL(w != NULL);
		d = rte_pktmbuf_append(w, (uint16_t)m->pkt_len);
		CU_ASSERT_FATAL(d != NULL);
		memcpy(d, rte_pktmbuf_mtod(m, const void *), m->data_len);
		*braid_meta(w) = *braid_meta(m);
		braid_meta(w)->link_id = (uint16_t)link;
		rte_pktmbuf_free(m);
		m = w;
	}
	at = s->now + s->p->delay[link];
	if (!first)
		at += braid_test_rand(&s->rng) % (s->p->jitter + 1);
	heap_push(s, at, m, dir);
}

static void
sim_deliver(struct sim *s)
{
	for (uint16_t i = 0; i < out.n; i++) {
		struct rte_mbuf *m = out.pkts[i];
		uint32_t seq = braid_meta(m)->seq, pay, idx = sim_idx(s, seq);

		memcpy(&pay, rte_pktmbuf_mtod(m, const void *), sizeof(pay));
		if (pay != seq)
			s->order_errors++;
		if (idx < s->p->n_pkts) {
			/* The first n_pkts: exactly in order, once, none skipped. */
			if (seq != s->p->seq0 + s->delivered_n)
				s->order_errors++;
			s->delivered_n++;
		} else if (s->first_delivered && (int32_t)(seq - s->next_expect) < 0) {
			s->order_errors++;   /* later ones: increasing, once */
		}
		if (idx < SIM_MAX_N)
			s->delivered[idx] = 1;
		s->next_expect = seq + 1;
		s->first_delivered = true;
	}
	out_free();
}

/* Check one NACK against the gaps the receiver saw, then send it. */
static void
sim_nack(struct sim *s, struct braid_arq_rx *rx, const struct braid_nack *nk,
	 const struct braid_reorder_gap *g, int ng)
{
	uint32_t seqs[600];
	unsigned int ns = nack_expand(nk, seqs, 600);
	const uint64_t allow = braid_arq_rx_allowance_ns(rx);
	struct rte_mbuf *m;

	CU_ASSERT_FATAL(ns <= 600);
	for (unsigned int i = 0; i < ns; i++) {
		uint32_t q = seqs[i], idx = sim_idx(s, q);
		int k;

		for (k = 0; k < ng; k++)
			if ((uint32_t)(q - g[k].first_seq) < g[k].count)
				break;
		if (k == ng || s->now < g[k].opened_ns + allow ||
		    s->now + 46 * MS > g[k].skip_ns)
			s->bad_nack++;
		if (idx < SIM_MAX_N) {
			if (s->nacked[idx] == 0 && !s->orig_lost[idx])
				s->spurious_first++;
			if (++s->nacked[idx] > s->p->max_tries)
				s->over_tries++;
		}
	}
	if (s->nacks < SIM_MAX_NACKS) {
		s->nack_t[s->nacks] = s->now;
		s->nack_b[s->nacks] = (uint64_t)braid_wire_nack_len(nk) + BRAID_WIRE_OVERHEAD;
	}
	s->nacks++;
	s->nack_seqs += ns;
	m = braid_wire_nack_build(pool, 0, nk);
	CU_ASSERT_FATAL(m != NULL);
	sim_send(s, m, SIM_TO_TX, 0);
}

struct sim_result {
	struct braid_arq_rx_stats rx;
	struct braid_arq_tx_stats tx;
	struct braid_reorder_stats ro;
	struct braid_rtx_stats rtx;
	uint32_t tracked;
	uint64_t duration_ns;
};

/*
 * Sender: one class-0 packet per ms, alternating links 0 and 1, through
 * the retransmit cache. Receiver: reorder + arq_rx; NACKs go back on link
 * 0; the sender serves them through arq_tx (primary link 0, secondary 1).
 * Generation stops once the first n_pkts are through (or time is up);
 * the run ends when nothing is in flight or held.
 */
static void
run_sim(struct sim *s, const struct sim_params *p, struct sim_result *res)
{
	const uint64_t step = 250 * US;
	struct braid_reorder_class_conf rcc = {
		.dedup_window = 8192, .buf_size = 2048, .deadline_ns = p->deadline,
	};
	struct braid_reorder_conf rconf = { .n_classes = 1, .classes = &rcc };
	struct braid_rtx_class_conf tcc = { .window_ms = 2000, .max_packets = 4096 };
	struct braid_rtx_conf tconf = { .n_classes = 1, .classes = &tcc,
					.clone_pool = clone_pool };
	struct braid_arq_rx_class_conf acc = { .track_seqs = 2048 };
	struct braid_arq_rx_conf aconf = {
		.n_classes = 1, .classes = &acc, .max_tries = p->max_tries,
		.nack_rate = p->nack_rate, .nack_burst = p->nack_burst,
	};
	struct braid_arq_tx_class_conf xcc = { .deadline_ns = p->deadline };
	struct braid_arq_tx_conf xconf = {
		.n_classes = 1, .classes = &xcc, .rate_bytes_per_s = 2000000,
		.burst_bytes = 65536, .max_tries = p->max_tries,
	};
	char n1[32], n2[32], n3[32], n4[32];
	struct braid_reorder *ro;
	struct braid_rtx *rtx;
	struct braid_arq_rx *rx;
	struct braid_arq_tx *tx;
	static struct braid_reorder_gap gaps[2048];
	struct braid_reorder_class_info info;
	unsigned int gen = 0;
	uint64_t quiet_since = 0;
	const uint64_t t_end = T0 + (uint64_t)p->n_pkts * MS + 20000 * MS;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->rng = seed ^ ((uint64_t)p->loss_permille << 32) ^ p->deadline ^ p->nack_rate;
	s->now = T0;
	unique_name(n1, sizeof(n1), "simro");
	unique_name(n2, sizeof(n2), "simrtx");
	unique_name(n3, sizeof(n3), "simrx");
	unique_name(n4, sizeof(n4), "simtx");
	rconf.name = n1;
	tconf.name = n2;
	aconf.name = n3;
	xconf.name = n4;
	ro = braid_reorder_create(&rconf, SOCKET_ID_ANY);
	rtx = braid_rtx_create(&tconf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(ro != NULL && rtx != NULL);
	aconf.reorder = ro;
	xconf.rtx = rtx;
	rx = braid_arq_rx_create(&aconf, SOCKET_ID_ANY);
	tx = braid_arq_tx_create(&xconf, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(rx != NULL && tx != NULL);
	/* What link health would measure: RTT over link 0 is 40..46 ms;
	 * link 1 is 6 ms slower, plus 3 ms jitter. */
	braid_arq_rx_set_rtt(rx, 46 * MS, 4 * MS);
	braid_arq_rx_set_delay_spread(rx, p->delay[1] - p->delay[0] + p->jitter);
	braid_arq_tx_set_rtt(tx, 46 * MS, 4 * MS);

	for (; s->now < t_end; s->now += step) {
		struct rte_mbuf *arr[64];
		struct braid_nack nk[16];
		unsigned int na = 0;
		uint16_t n;
		int ng;

		/* Sender: one packet per ms until the first n_pkts are in. */
		if (gen < SIM_MAX_N && (gen < p->n_gen || s->delivered_n < p->n_pkts) &&
		    (s->now - T0) % MS == 0) {
			struct rte_mbuf *m = mk_pkt(0, p->seq0 + gen, s->now, PAYLOAD);

			CU_ASSERT_FATAL(m != NULL);
			braid_meta(m)->link_id = gen & 1;
			braid_rtx_burst(rtx, &m, 1, &out, s->now);
			CU_ASSERT_FATAL(out.n == 1);
			out.n = 0;
			sim_send(s, m, SIM_TO_RX, gen & 1);
			gen++;
		}
		/* Arrivals. */
		while (s->n_heap > 0 && s->heap[0].t <= s->now) {
			struct sim_ev ev = heap_pop(s);

			if (ev.dir == SIM_TO_RX) {
				arr[na++] = ev.m;
				if (na == RTE_DIM(arr)) {
					braid_reorder_burst(ro, arr, (uint16_t)na, &out, s->now);
					sim_deliver(s);
					na = 0;
				}
			} else {
				struct braid_arq_tx_order o[64];
				struct braid_nack pn;
				uint16_t no;

				s->nacks_at_tx++;
				CU_ASSERT_FATAL(braid_wire_nack_parse(ev.m, &pn) == 0);
				rte_pktmbuf_free(ev.m);
				no = braid_arq_tx_nack(tx, &pn, s->now, o, RTE_DIM(o));
				for (uint16_t i = 0; i < no; i++) {
					unsigned int sent = 0;

					for (unsigned int k = 0; k < o[i].hint; k++) {
						struct rte_mbuf *c = braid_rtx_serve(rtx,
							o[i].class_id, o[i].seq, (uint16_t)k, s->now);

						if (c != NULL) {
							sim_send(s, c, SIM_TO_RX, k);
							sent++;
						}
					}
					braid_arq_tx_report(tx, &o[i], sent);
				}
			}
		}
		if (na > 0) {
			braid_reorder_burst(ro, arr, (uint16_t)na, &out, s->now);
			sim_deliver(s);
		}
		braid_reorder_poll(ro, &out, s->now);
		sim_deliver(s);
		/* Receiver ARQ tick, checked against the gaps it reads. */
		ng = braid_reorder_gaps(ro, 0, gaps, RTE_DIM(gaps));
		CU_ASSERT_FATAL(ng >= 0);
		n = braid_arq_rx_poll(rx, s->now, nk, RTE_DIM(nk));
		for (uint16_t i = 0; i < n; i++)
			sim_nack(s, rx, &nk[i], gaps, ng);
		braid_rtx_poll(rtx, &out, s->now);
		CU_ASSERT(out.n == 0);
		out_free();

		braid_reorder_class_info(ro, 0, &info);
		if (s->delivered_n >= p->n_pkts && gen >= p->n_gen && s->n_heap == 0 &&
		    info.held == 0) {
			if (quiet_since == 0)
				quiet_since = s->now;
			else if (s->now - quiet_since > 5 * MS)
				break;   /* a few ticks to resolve the last NACKs */
		} else {
			quiet_since = 0;
		}
	}
	braid_arq_rx_stats(rx, &res->rx);
	braid_arq_tx_stats(tx, &res->tx);
	braid_reorder_stats(ro, &res->ro);
	braid_rtx_stats(rtx, &res->rtx);
	res->tracked = braid_arq_rx_tracked(rx);
	res->duration_ns = s->now - T0;

	/* Common invariants of every run. */
	CU_ASSERT(s->order_errors == 0);
	CU_ASSERT(s->bad_nack == 0);
	CU_ASSERT(s->over_tries == 0);
	CU_ASSERT(res->rx.nacks_sent == s->nacks);
	CU_ASSERT(res->rx.seqs_requested + res->rx.seqs_rerequested == s->nack_seqs);
	CU_ASSERT(s->nacks <= SIM_MAX_NACKS);
	if (s->nacks <= SIM_MAX_NACKS) {
		uint64_t sum = 0;

		for (unsigned int i = 0; i < s->nacks; i++)
			sum += s->nack_b[i];
		CU_ASSERT(res->rx.nack_bytes == sum);
		CU_ASSERT(bucket_conforms(s->nack_t, s->nack_b, s->nacks, p->nack_rate,
					  p->nack_burst));
	}
	CU_ASSERT(res->tx.nack_rx == s->nacks_at_tx);
	CU_ASSERT(res->tx.seqs_requested == res->tx.ordered + res->tx.suppressed +
		  res->tx.over_budget + res->tx.expired_or_missing + res->tx.too_late +
		  res->tx.truncated);
	CU_ASSERT(res->tx.served == res->rtx.served);
	CU_ASSERT(res->tx.serve_failed == 0);
	CU_ASSERT(res->tracked == 0);
	CU_ASSERT(res->rx.seqs_requested == res->rx.gaps_filled_after_nack +
		  res->rx.lost_after_nack);
	CU_ASSERT(res->rx.lost_after_nack <= res->ro.lost);

	while (s->n_heap > 0) {
		struct sim_ev ev = heap_pop(s);

		rte_pktmbuf_free(ev.m);
	}
	braid_arq_rx_free(rx);
	braid_arq_tx_free(tx);
	braid_reorder_free(ro);
	braid_rtx_free(rtx);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
	CU_ASSERT(rte_mempool_in_use_count(clone_pool) == 0);
}

static struct sim sim_state;

/* 10 % loss both ways, deadline 800 ms > 2 RTT: every packet arrives, in order,
 * once, across the 2^32 wrap; NACKs only for real losses. */
static void
test_sim_lossy(void)
{
	const struct sim_params p = {
		.n_pkts = 3000, .n_gen = 3000, .seq0 = UINT32_MAX - 1499, .loss_permille = 100,
		.delay = { 20 * MS, 26 * MS }, .jitter = 3 * MS,
		.deadline = 800 * MS, .max_tries = 10,
		.nack_rate = 200000, .nack_burst = 16384,
	};
	struct sim *s = &sim_state;
	struct sim_result r;
	unsigned int nacked = 0, nacked_delivered = 0, lost_orig = 0;

	/* A seq is lost for good only if all 10 tries fail (NACK or
	 * retransmission lost: p ~ 0.19 each): ~300 lost seqs x 0.19^10
	 * ~ 2e-5 per run. */

	run_sim(s, &p, &r);
	CU_ASSERT(s->delivered_n == p.n_pkts);
	for (unsigned int i = 0; i < SIM_MAX_N; i++) {
		nacked += s->nacked[i] > 0;
		nacked_delivered += s->nacked[i] > 0 && s->delivered[i];
		lost_orig += i < p.n_pkts && s->orig_lost[i];
	}
	printf("\n  sim_lossy: %u originals lost, %u seqs NACKed in %u NACKs, "
	       "%" PRIu64 " retransmissions (%" PRIu64 " last-try doubles), "
	       "%" PRIu64 " duplicates dropped\n", lost_orig, nacked, s->nacks,
	       r.tx.served, r.tx.duplicated_last_try, r.ro.drop_duplicate);
	/* The loss really happened and really was repaired by ARQ. */
	CU_ASSERT(lost_orig > 150);
	CU_ASSERT(r.rx.seqs_requested == nacked);
	CU_ASSERT(nacked >= lost_orig);
	CU_ASSERT(r.rx.seqs_rerequested > 0);    /* NACKs and retx were lost too */
	/* With the allowance above the delay spread, the first NACK of a
	 * seq is always for a lost original. */
	CU_ASSERT(s->spurious_first == 0);
	CU_ASSERT(r.rx.gaps_filled_after_nack == nacked_delivered);
	CU_ASSERT(r.rx.lost_after_nack == nacked - nacked_delivered);
	CU_ASSERT(r.rx.useless_by_deadline == 0 && r.rx.tries_exhausted == 0);
	CU_ASSERT(r.rx.budget_exceeded == 0);
	CU_ASSERT(r.tx.suppressed == 0 && r.tx.over_budget == 0);
	CU_ASSERT(r.tx.too_late == 0 && r.tx.expired_or_missing == 0);
	/* Reordering between the links happened and was absorbed. */
	CU_ASSERT(r.ro.reordered > 0);
	/* NACKs per seq bounded: sim_nack counted none over max_tries. */
	CU_ASSERT(s->nacks <= (unsigned int)p.max_tries * nacked);
}

/* Deadline < RTT: nothing can be repaired, so nothing is NACKed. */
static void
test_sim_short_deadline(void)
{
	const struct sim_params p = {
		.n_pkts = 0, .n_gen = 1500, .seq0 = UINT32_MAX - 700, .loss_permille = 100,
		.delay = { 20 * MS, 26 * MS }, .jitter = 3 * MS,
		.deadline = 30 * MS, .max_tries = 4,
		.nack_rate = 200000, .nack_burst = 16384,
	};
	struct sim *s = &sim_state;
	struct sim_result r;

	/* Losses are permanent here: nothing must all come through. */
	run_sim(s, &p, &r);
	CU_ASSERT(r.rx.nacks_sent == 0 && s->nacks == 0);
	CU_ASSERT(r.tx.nack_rx == 0);
	CU_ASSERT(r.rx.useless_by_deadline > 0);
	CU_ASSERT(r.ro.lost > 0);
	/* Every seq skipped was judged too late once its allowance had
	 * passed, and only those. */
	CU_ASSERT(r.ro.lost == r.rx.useless_by_deadline);
}

/* 20 % loss, a NACK budget far below demand: the budget holds over
 * every window, the excess is counted, delivery stays ordered. */
static void
test_sim_budget(void)
{
	const struct sim_params p = {
		.n_pkts = 0, .n_gen = 2000, .seq0 = 12345, .loss_permille = 200,
		.delay = { 20 * MS, 26 * MS }, .jitter = 3 * MS,
		.deadline = 600 * MS, .max_tries = 4,
		.nack_rate = 3000, .nack_burst = BRAID_WIRE_OVERHEAD + BRAID_NACK_MAX_LEN,
	};
	struct sim *s = &sim_state;
	struct sim_result r;

	run_sim(s, &p, &r);
	CU_ASSERT(r.rx.budget_exceeded > 0);
	CU_ASSERT(r.rx.nacks_sent > 0);
	CU_ASSERT(r.rx.nack_bytes * 1000000000ULL <=
		  p.nack_burst * 1000000000ULL + p.nack_rate * r.duration_ns);
}

static int
register_tests(void)
{
	CU_pSuite su = CU_add_suite("arq", suite_init, suite_fini);

	if (su == NULL)
		return -1;
	if (CU_add_test(su, "pack_reference", test_pack_reference) == NULL ||
	    CU_add_test(su, "pack_choice", test_pack_choice) == NULL ||
	    CU_add_test(su, "rx_create", test_rx_create) == NULL ||
	    CU_add_test(su, "rx stage (arq_rx)", test_rx_stage) == NULL ||
	    CU_add_test(su, "rx_timing", test_rx_timing) == NULL ||
	    CU_add_test(su, "rx_deadline", test_rx_deadline) == NULL ||
	    CU_add_test(su, "rx_reset", test_rx_reset) == NULL ||
	    CU_add_test(su, "rx_enable", test_rx_enable) == NULL ||
	    CU_add_test(su, "rx_budget", test_rx_budget) == NULL ||
	    CU_add_test(su, "tx_create", test_tx_create) == NULL ||
	    CU_add_test(su, "tx_policy", test_tx_policy) == NULL ||
	    CU_add_test(su, "tx_set_deadline", test_tx_set_deadline) == NULL ||
	    CU_add_test(su, "tx_refund", test_tx_refund) == NULL ||
	    CU_add_test(su, "tx_storm", test_tx_storm) == NULL ||
	    CU_add_test(su, "sim_lossy", test_sim_lossy) == NULL ||
	    CU_add_test(su, "sim_short_deadline", test_sim_short_deadline) == NULL ||
	    CU_add_test(su, "sim_budget", test_sim_budget) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("arq", register_tests);
}
