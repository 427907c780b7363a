/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/fec: ISA-L against the scalar reference, the encoder stage (blocks,
 * references, timeouts, parity meta and placement, in place vs copy) and
 * the decoder (any k of k+m, shortened blocks, duplicates, late and bad
 * pieces, window, abandon), end to end on seeded random input.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <isa-l/erasure_code.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_fec.h"
#include "braid_fec_auto.h"
#include "braid_test_rand.h"
#include "braid_meta.h"
#include "harness.h"

#define POOL_SIZE 8191
#define PKT_MAX 1500
#define ETH_LEN 14
#define PAR_TYPE 2      /* stands for BRAID_PKT_PARITY */
#define DATA_TYPE 1     /* stands for BRAID_PKT_DATA */
#define TIMEOUT_NS 1000000ULL
#define DEC_TIMEOUT_NS 50000000ULL

static struct rte_mempool *g_pool;
static uint64_t g_seed;
static struct braid_burst g_out;
static uint8_t g_orig[BRAID_FEC_MAX_K][PKT_MAX + 64];

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

static void
fill_rand(uint8_t *p, unsigned int n, uint64_t *rng)
{
	while (n >= 8) {
		uint64_t v = braid_test_rand(rng);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n != 0) {
		uint64_t v = braid_test_rand(rng);

		memcpy(p, &v, n);
	}
}

static unsigned int
rnd(uint64_t *rng, unsigned int n)
{
	return (unsigned int)(braid_test_rand(rng) % n);
}

static void
shuffle(uint8_t *a, unsigned int n, uint64_t *rng)
{
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = rnd(rng, i);
		uint8_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* An inner IPv4-sized packet as classify leaves it: the Ethernet header
 * stripped (so 14 more bytes of headroom), meta set as sched would. */
static struct rte_mbuf *
mk_pkt(struct rte_mempool *mp, uint16_t len, uint16_t cls, uint32_t seq,
       uint16_t link, const uint8_t *bytes)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct braid_meta *md;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, ETH_LEN + len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_adj(m, ETH_LEN);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), bytes, len);
	md = braid_meta(m);
	memset(md, 0, sizeof(*md));
	md->class_id = cls;
	md->seq = seq;
	md->link_id = link;
	md->port_in = 0;
	return m;
}

static struct braid_fec_enc *
mk_enc(unsigned int n_classes, uint8_t k, uint8_t m, bool copy)
{
	struct braid_fec_enc_conf c;

	memset(&c, 0, sizeof(c));
	c.n_classes = (uint16_t)n_classes;
	for (unsigned int i = 0; i < n_classes; i++) {
		c.classes[i].k = k;
		c.classes[i].m = m;
		c.classes[i].timeout_ns = TIMEOUT_NS;
	}
	c.n_links = 4;
	c.pool = g_pool;
	c.parity_pkt_type = PAR_TYPE;
	c.always_copy = copy;
	return braid_fec_enc_create(&c, SOCKET_ID_ANY);
}

static struct braid_fec_dec *
mk_dec(unsigned int n_classes, uint32_t max_blocks)
{
	struct braid_fec_dec_conf c;

	memset(&c, 0, sizeof(c));
	c.n_classes = (uint16_t)n_classes;
	c.max_blocks = max_blocks;
	c.timeout_ns = DEC_TIMEOUT_NS;
	c.pool = g_pool;
	c.max_len = PKT_MAX;
	c.parity_pkt_type = PAR_TYPE;
	c.data_pkt_type = DATA_TYPE;
	return braid_fec_dec_create(&c, SOCKET_ID_ANY);
}

static void
set_km(struct braid_fec_enc *e, uint16_t cls, uint8_t k, uint8_t m)
{
	struct braid_fec_class_conf cc = { .k = k, .m = m, .timeout_ns = TIMEOUT_NS };

	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, cls, &cc), 0);
}

/* One encoded block as the test sees it. */
struct tblock {
	unsigned int k, m, kp;     /* nominal k, parity, data in the block */
	uint16_t cls;
	uint32_t first_seq;
	uint32_t block_id;
	uint16_t len[BRAID_FEC_MAX_K];
	struct rte_mbuf *data[BRAID_FEC_MAX_K];
	struct rte_mbuf *par[BRAID_FEC_MAX_M];
	unsigned int n_par;
};

/*
 * Send kp packets of lengths lens[] through @p e at @p now (class tb->cls,
 * whose policy is tb->k, tb->m); close a short block with a poll at the
 * timeout. Original bytes go to g_orig. The test keeps the data and
 * parity mbufs (its references).
 */
static void
enc_block(struct braid_fec_enc *e, struct tblock *tb, const uint16_t *lens,
	  uint64_t now, uint64_t *rng)
{
	struct rte_mbuf *in[BRAID_FEC_MAX_K];
	unsigned int done = 0;

	for (unsigned int i = 0; i < tb->kp; i++) {
		tb->len[i] = lens[i];
		fill_rand(g_orig[i], lens[i], rng);
		in[i] = mk_pkt(g_pool, lens[i], tb->cls, tb->first_seq + i,
			       (uint16_t)(i % 3), g_orig[i]);
		CU_ASSERT_FATAL(in[i] != NULL);
		tb->data[i] = in[i];
	}
	g_out.n = 0;
	/* random burst split */
	while (done < tb->kp) {
		unsigned int n = 1 + rnd(rng, tb->kp - done);

		braid_fec_enc_burst(e, &in[done], (uint16_t)n, &g_out, now);
		done += n;
	}
	if (tb->kp < tb->k) {
		CU_ASSERT_EQUAL(g_out.n, tb->kp);
		CU_ASSERT_EQUAL(braid_fec_enc_poll(e, &g_out, now + TIMEOUT_NS - 1), 0);
		CU_ASSERT_EQUAL(braid_fec_enc_poll(e, &g_out, now + TIMEOUT_NS), tb->m);
	}
	CU_ASSERT_FATAL(g_out.n == tb->kp + tb->m);
	for (unsigned int i = 0; i < tb->kp; i++)
		CU_ASSERT(g_out.pkts[i] == tb->data[i]);
	tb->n_par = tb->m;
	for (unsigned int j = 0; j < tb->m; j++)
		tb->par[j] = g_out.pkts[tb->kp + j];
	tb->block_id = braid_meta(tb->data[0])->block_id;
	g_out.n = 0;
}

static void
free_block(struct tblock *tb)
{
	for (unsigned int i = 0; i < tb->kp; i++)
		rte_pktmbuf_free(tb->data[i]);
	for (unsigned int j = 0; j < tb->n_par; j++)
		rte_pktmbuf_free(tb->par[j]);
}

/* Piece p of a block: data 0..kp-1, then parity. */
static struct rte_mbuf *
piece_of(const struct tblock *tb, unsigned int p)
{
	return p < tb->kp ? tb->data[p] : tb->par[p - tb->kp];
}

/* Check a recovered mbuf against the original data piece @p idx. */
static void
check_recovered(const struct tblock *tb, struct rte_mbuf *r)
{
	const struct braid_meta *md = braid_meta(r);
	unsigned int idx = md->block_idx;

	CU_ASSERT_FATAL(idx < tb->kp);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(r), tb->len[idx]);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(r), tb->len[idx]);
	CU_ASSERT_EQUAL(r->nb_segs, 1);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(r, uint8_t *),
			 rte_pktmbuf_mtod(tb->data[idx], uint8_t *),
			 tb->len[idx]) == 0);
	CU_ASSERT_EQUAL(md->seq, tb->first_seq + idx);
	CU_ASSERT_EQUAL(md->class_id, tb->cls);
	CU_ASSERT_EQUAL(md->block_id, tb->block_id);
	CU_ASSERT_EQUAL(md->fec_m, tb->m);
	CU_ASSERT_EQUAL(md->flags, 0);
	CU_ASSERT_EQUAL(md->pkt_type, DATA_TYPE);
	CU_ASSERT_EQUAL(md->link_id, BRAID_LINK_NONE);
	CU_ASSERT(rte_pktmbuf_headroom(r) >= RTE_PKTMBUF_HEADROOM);
}

/*
 * What the decoder must rebuild when the pieces arrive in @p order (n
 * pieces, repeats allowed): it decodes as soon as kp distinct pieces are
 * in, so the data not among the first kp distinct pieces (none when those
 * are all data, or when fewer than kp ever arrive).
 */
static uint64_t
expect_recovered(const struct tblock *tb, const uint8_t *order, unsigned int n)
{
	uint64_t seen = 0;
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && cnt < tb->kp; i++) {
		if ((seen & (1ULL << order[i])) == 0) {
			seen |= 1ULL << order[i];
			cnt++;
		}
	}
	if (cnt < tb->kp)
		return 0;
	return ~seen & ((1ULL << tb->kp) - 1);
}

/*
 * Offer the pieces of @p tb that are not in @p erase (bit p = piece p) to
 * @p d in a random order (with random re-offers when @p dups), and check
 * that exactly the missing data comes back, byte for byte, when at least
 * kp pieces survive and data is missing, and nothing otherwise.
 * @return number of data pieces recovered.
 */
static unsigned int
dec_block_check(struct braid_fec_dec *d, const struct tblock *tb, uint64_t erase,
		uint64_t now, uint64_t *rng, bool dups)
{
	const unsigned int np = tb->kp + tb->m;
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	uint8_t order[2 * (BRAID_FEC_MAX_K + BRAID_FEC_MAX_M)];
	uint64_t missing = erase & ((1ULL << tb->kp) - 1);
	uint64_t got = 0, expect;
	unsigned int n = 0, survivors = 0, nrec = 0;

	for (unsigned int p = 0; p < np; p++)
		if ((erase & (1ULL << p)) == 0) {
			order[n++] = (uint8_t)p;
			survivors++;
		}
	shuffle(order, n, rng);
	if (dups) { /* re-offer pieces already offered */
		uint8_t first[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M];
		unsigned int w = n;

		memcpy(first, order, w);
		n = 0;
		for (unsigned int i = 0; i < w; i++) {
			order[n++] = first[i];
			if (rnd(rng, 4) == 0)
				order[n++] = first[rnd(rng, i + 1)];
		}
	}
	expect = expect_recovered(tb, order, n);
	/* whatever the order, every piece erased is rebuilt when enough
	 * survive */
	if (missing != 0 && survivors >= tb->kp)
		CU_ASSERT((expect & missing) == missing);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int r = braid_fec_dec_one(d, piece_of(tb, order[i]), rec, now);

		CU_ASSERT(r <= BRAID_FEC_MAX_M);
		for (unsigned int t = 0; t < r; t++) {
			unsigned int idx = braid_meta(rec[t])->block_idx;

			CU_ASSERT((got & (1ULL << idx)) == 0);
			got |= 1ULL << idx;
			check_recovered(tb, rec[t]);
			rte_pktmbuf_free(rec[t]);
			nrec++;
		}
	}
	if (got != expect)
		printf("\n  MISMATCH k=%u kp=%u m=%u erase=%#" PRIx64 " got=%#" PRIx64
		       " expected=%#" PRIx64 " survivors=%u\n",
		       tb->k, tb->kp, tb->m, erase, got, expect, survivors);
	CU_ASSERT_EQUAL(got, expect);
	if (survivors < tb->kp)
		CU_ASSERT_EQUAL(got, 0);
	return nrec;
}

static void
assert_pool_clean(void)
{
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(g_pool), 0);
}

/* ------------------------------------------------------------------ */
/* reference                                                          */
/* ------------------------------------------------------------------ */

static void
test_gf_ref_vs_isal(void)
{
	uint8_t mat[(BRAID_FEC_MAX_K + BRAID_FEC_MAX_M) * BRAID_FEC_MAX_K];
	unsigned int bad = 0;

	for (unsigned int a = 0; a < 256; a++) {
		for (unsigned int b = 0; b < 256; b++)
			bad += braid_fec_ref_gf_mul((uint8_t)a, (uint8_t)b) !=
			       gf_mul((uint8_t)a, (uint8_t)b);
		bad += braid_fec_ref_gf_inv((uint8_t)a) != gf_inv((uint8_t)a);
		if (a != 0)
			bad += braid_fec_ref_gf_mul((uint8_t)a,
						    braid_fec_ref_gf_inv((uint8_t)a)) != 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* the reference coefficients are ISA-L's Cauchy matrix */
	for (unsigned int k = 1; k <= BRAID_FEC_MAX_K; k++) {
		gf_gen_cauchy1_matrix(mat, (int)(k + BRAID_FEC_MAX_M), (int)k);
		for (unsigned int r = 0; r < BRAID_FEC_MAX_M; r++)
			for (unsigned int c = 0; c < k; c++)
				bad += mat[(k + r) * k + c] != braid_fec_ref_coef(k, r, c);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Raw ISA-L ec_encode_data against the scalar reference encoder. */
static void
test_isal_encode_vs_ref(void)
{
	static const uint8_t km[][2] = { {1, 1}, {4, 2}, {10, 4}, {32, 16},
					 {3, 7}, {17, 5} };
	static uint8_t buf[BRAID_FEC_MAX_K + 2 * BRAID_FEC_MAX_M][1600];
	uint8_t mat[(BRAID_FEC_MAX_K + BRAID_FEC_MAX_M) * BRAID_FEC_MAX_K];
	static uint8_t tbls[32 * BRAID_FEC_MAX_K * BRAID_FEC_MAX_M];
	uint64_t rng = g_seed ^ 0x15a1;
	unsigned int bad = 0;

	for (unsigned int t = 0; t < 60; t++) {
		unsigned int k = km[t % RTE_DIM(km)][0], m = km[t % RTE_DIM(km)][1];
		unsigned int len = 1 + rnd(&rng, 1599);
		uint8_t *data[BRAID_FEC_MAX_K], *p1[BRAID_FEC_MAX_M], *p2[BRAID_FEC_MAX_M];

		for (unsigned int i = 0; i < k; i++) {
			data[i] = buf[i];
			fill_rand(data[i], len, &rng);
		}
		for (unsigned int j = 0; j < m; j++) {
			p1[j] = buf[BRAID_FEC_MAX_K + j];
			p2[j] = buf[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M + j];
		}
		gf_gen_cauchy1_matrix(mat, (int)(k + m), (int)k);
		ec_init_tables((int)k, (int)m, &mat[k * k], tbls);
		ec_encode_data((int)len, (int)k, (int)m, tbls, data, p1);
		braid_fec_ref_encode(k, m, len, (const uint8_t *const *)data, p2);
		for (unsigned int j = 0; j < m; j++)
			bad += memcmp(p1[j], p2[j], len) != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The stage's parity equals the reference encode of the pieces
 * [len][packet][zeros to L], for full and shortened blocks, in place
 * and copied. */
static void
test_stage_parity_vs_ref(void)
{
	static const uint8_t km[][2] = { {1, 1}, {4, 2}, {10, 4}, {32, 16},
					 {7, 3}, {12, 16} };
	static uint8_t piece[BRAID_FEC_MAX_K][PKT_MAX + 2];
	static uint8_t ref[BRAID_FEC_MAX_M][PKT_MAX + 2];
	struct braid_fec_enc *enc[2];
	uint64_t rng = g_seed ^ 0x2b2b;
	uint64_t now = 1000;
	unsigned int bad = 0;

	enc[0] = mk_enc(1, 4, 2, false);
	enc[1] = mk_enc(1, 4, 2, true);
	CU_ASSERT_FATAL(enc[0] != NULL && enc[1] != NULL);
	for (unsigned int t = 0; t < 48; t++) {
		struct braid_fec_enc *e = enc[t & 1];
		struct tblock tb;
		uint16_t lens[BRAID_FEC_MAX_K];
		const uint8_t *src[BRAID_FEC_MAX_K];
		uint8_t *dst[BRAID_FEC_MAX_M];
		unsigned int L = 0;

		memset(&tb, 0, sizeof(tb));
		tb.k = km[(t / 2) % RTE_DIM(km)][0];
		tb.m = km[(t / 2) % RTE_DIM(km)][1];
		tb.kp = (t % 4 >= 2 && tb.k > 1) ? 1 + rnd(&rng, tb.k - 1) : tb.k;
		tb.first_seq = (uint32_t)braid_test_rand(&rng);
		set_km(e, 0, (uint8_t)tb.k, (uint8_t)tb.m);
		for (unsigned int i = 0; i < tb.kp; i++) {
			lens[i] = (uint16_t)(t % 3 == 0 ? 1 + rnd(&rng, PKT_MAX) : 777);
			L = RTE_MAX(L, lens[i] + 2u);
		}
		enc_block(e, &tb, lens, now, &rng);
		for (unsigned int i = 0; i < tb.kp; i++) {
			memset(piece[i], 0, L);
			piece[i][0] = (uint8_t)(lens[i] >> 8);
			piece[i][1] = (uint8_t)lens[i];
			memcpy(&piece[i][2], g_orig[i], lens[i]);
			src[i] = piece[i];
			/* the data range itself is never changed */
			bad += memcmp(rte_pktmbuf_mtod(tb.data[i], uint8_t *),
				      g_orig[i], lens[i]) != 0;
			bad += rte_pktmbuf_data_len(tb.data[i]) != lens[i];
		}
		for (unsigned int j = 0; j < tb.m; j++)
			dst[j] = ref[j];
		braid_fec_ref_encode(tb.kp, tb.m, L, src, dst);
		for (unsigned int j = 0; j < tb.m; j++) {
			CU_ASSERT_EQUAL(rte_pktmbuf_data_len(tb.par[j]), L);
			CU_ASSERT_EQUAL(braid_meta(tb.par[j])->fec_len, L);
			bad += memcmp(rte_pktmbuf_mtod(tb.par[j], uint8_t *),
				      ref[j], L) != 0;
		}
		free_block(&tb);
		now += 10 * TIMEOUT_NS;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(braid_fec_enc_held(enc[0]), 0);
	braid_fec_enc_free(enc[0]);
	braid_fec_enc_free(enc[1]);
	assert_pool_clean();
}

/* ------------------------------------------------------------------ */
/* encode -> erase -> decode                                          */
/* ------------------------------------------------------------------ */

/* Random erasure of up to m (sometimes more) of k+m pieces, >= 10000
 * blocks over several (k, m), length mixes, full and shortened blocks,
 * in place and copied, random arrival order and re-offers. */
static void
test_roundtrip_random(void)
{
	static const uint8_t km[][2] = { {1, 1}, {4, 2}, {10, 4}, {32, 16},
					 {2, 1}, {8, 4}, {16, 2}, {5, 5},
					 {20, 10}, {3, 16} };
	struct braid_fec_enc *enc[2];
	struct braid_fec_dec *d;
	struct braid_fec_dec_class_stats st;
	uint64_t rng = g_seed ^ 0x3c3c;
	uint64_t now = 1000;
	unsigned int trials = 0, recovered = 0, lost_rebuilt = 0, blocks_seen = 0;
	unsigned int per_km[RTE_DIM(km)] = { 0 };

	enc[0] = mk_enc(1, 4, 2, false);
	enc[1] = mk_enc(2, 4, 2, true);
	d = mk_dec(2, 64);
	CU_ASSERT_FATAL(enc[0] != NULL && enc[1] != NULL && d != NULL);
	printf("\n  roundtrip seed=0x%" PRIx64 "\n", g_seed);

	for (trials = 0; trials < 10500; trials++) {
		unsigned int w = rnd(&rng, RTE_DIM(km));
		unsigned int copy = rnd(&rng, 2);
		struct braid_fec_enc *e = enc[copy];
		uint16_t lens[BRAID_FEC_MAX_K];
		unsigned int mode = rnd(&rng, 4), eq = 1 + rnd(&rng, PKT_MAX);
		unsigned int ne, np, r;
		uint64_t erase = 0;
		struct tblock tb;

		memset(&tb, 0, sizeof(tb));
		tb.cls = (uint16_t)copy;
		tb.k = km[w][0];
		tb.m = km[w][1];
		tb.kp = (rnd(&rng, 5) == 0 && tb.k > 1) ? 1 + rnd(&rng, tb.k - 1) : tb.k;
		tb.first_seq = rnd(&rng, 8) == 0 ? 0xfffffff0u + rnd(&rng, 16) :
			       (uint32_t)braid_test_rand(&rng);
		per_km[w]++;
		set_km(e, tb.cls, (uint8_t)tb.k, (uint8_t)tb.m);
		for (unsigned int i = 0; i < tb.kp; i++) {
			switch (mode) {
			case 0: /* 1..1500 */
				lens[i] = (uint16_t)(1 + rnd(&rng, PKT_MAX));
				break;
			case 1: /* all equal */
				lens[i] = (uint16_t)eq;
				break;
			case 2: /* all full size */
				lens[i] = PKT_MAX;
				break;
			default: /* tiny and large mixed */
				lens[i] = (uint16_t)(rnd(&rng, 2) ? 1 + rnd(&rng, 40) :
						     1400 + rnd(&rng, 101));
				break;
			}
		}
		enc_block(e, &tb, lens, now, &rng);

		np = tb.kp + tb.m;
		r = rnd(&rng, 10);
		if (r < 6)
			ne = tb.m;                         /* exactly m */
		else if (r < 8)
			ne = rnd(&rng, tb.m + 1);          /* 0..m */
		else
			ne = RTE_MIN(np, tb.m + 1 + rnd(&rng, 3)); /* too many */
		while ((unsigned int)__builtin_popcountll(erase) < ne)
			erase |= 1ULL << rnd(&rng, np);
		if ((erase & ((1ULL << tb.kp) - 1)) != 0 && np - ne >= tb.kp)
			lost_rebuilt += __builtin_popcountll(erase & ((1ULL << tb.kp) - 1));
		if (ne < np)
			blocks_seen++;
		recovered += dec_block_check(d, &tb, erase, now, &rng, rnd(&rng, 8) == 0);
		free_block(&tb);
		/* leftovers (too few pieces, or a short block whose parity
		 * was all lost) are abandoned at the decoder timeout */
		braid_fec_dec_poll(d, now + DEC_TIMEOUT_NS);
		CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
		now += DEC_TIMEOUT_NS + 1;
	}
	printf("  %u blocks, %u data pieces recovered", trials, recovered);
	for (unsigned int w = 0; w < RTE_DIM(km); w++)
		printf("%s(%u,%u)x%u", w ? " " : " [", km[w][0], km[w][1], per_km[w]);
	printf("]\n");
	/* erased pieces rebuilt, plus those rebuilt before their late copy */
	CU_ASSERT(recovered >= lost_rebuilt);
	CU_ASSERT(lost_rebuilt > 10000);
	braid_fec_dec_class_stats(d, 0, &st);
	{
		struct braid_fec_dec_class_stats s1;

		braid_fec_dec_class_stats(d, 1, &s1);
		CU_ASSERT_EQUAL(st.pieces_recovered + s1.pieces_recovered, recovered);
		CU_ASSERT_EQUAL(st.drop_bad_piece + s1.drop_bad_piece, 0);
		CU_ASSERT_EQUAL(st.drop_bad_recovered + s1.drop_bad_recovered, 0);
		CU_ASSERT_EQUAL(st.blocks_complete_no_loss + s1.blocks_complete_no_loss +
				st.blocks_recovered + s1.blocks_recovered +
				st.blocks_abandoned + s1.blocks_abandoned, blocks_seen);
	}
	braid_fec_enc_free(enc[0]);
	braid_fec_enc_free(enc[1]);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* Every erasure pattern of up to m pieces (and m+1: no recovery) for
 * small codes, in ascending, descending and random arrival order. */
static void
test_exhaustive_small(void)
{
	static const uint8_t km[][2] = { {1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 2},
					 {3, 3}, {5, 3}, {4, 4}, {6, 2}, {1, 3} };
	struct braid_fec_enc *e = mk_enc(1, 1, 1, false);
	struct braid_fec_dec *d = mk_dec(1, 64);
	uint64_t rng = g_seed ^ 0x4d4d;
	uint64_t now = 1000;
	unsigned int patterns = 0, recovered = 0, expect = 0;
	uint32_t bid = 0;

	CU_ASSERT_FATAL(e != NULL && d != NULL);
	for (unsigned int w = 0; w < RTE_DIM(km); w++) {
		unsigned int k = km[w][0], m = km[w][1], np = k + m;
		uint16_t lens[BRAID_FEC_MAX_K];
		struct tblock tb;

		memset(&tb, 0, sizeof(tb));
		tb.k = tb.kp = k;
		tb.m = m;
		tb.first_seq = 100 * w;
		set_km(e, 0, (uint8_t)k, (uint8_t)m);
		for (unsigned int i = 0; i < k; i++)
			lens[i] = (uint16_t)(20 + rnd(&rng, 1481));
		enc_block(e, &tb, lens, now, &rng);
		for (uint64_t erase = 0; erase < (1ULL << np); erase++) {
			unsigned int ne = __builtin_popcountll(erase);

			if (ne > m + 1)
				continue;
			for (unsigned int ord = 0; ord < 3; ord++) {
				struct rte_mbuf *rec[BRAID_FEC_MAX_M];
				uint8_t order[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M];
				uint64_t got = 0, exp, missing = erase & ((1ULL << k) - 1);
				unsigned int n = 0;

				/* a fresh block id per run, same pieces */
				tb.block_id = ++bid;
				for (unsigned int p = 0; p < np; p++)
					braid_meta(piece_of(&tb, p))->block_id = tb.block_id;
				for (unsigned int p = 0; p < np; p++)
					if ((erase & (1ULL << p)) == 0)
						order[n++] = (uint8_t)p;
				if (ord == 1) /* descending: parity first */
					for (unsigned int i = 0; i < n / 2; i++) {
						uint8_t x = order[i];

						order[i] = order[n - 1 - i];
						order[n - 1 - i] = x;
					}
				if (ord == 2)
					shuffle(order, n, &rng);
				exp = expect_recovered(&tb, order, n);
				if (ne <= m)
					CU_ASSERT((exp & missing) == missing);
				for (unsigned int i = 0; i < n; i++) {
					unsigned int r = braid_fec_dec_one(d, piece_of(&tb, order[i]),
									   rec, now);

					for (unsigned int t = 0; t < r; t++) {
						got |= 1ULL << braid_meta(rec[t])->block_idx;
						check_recovered(&tb, rec[t]);
						rte_pktmbuf_free(rec[t]);
						recovered++;
					}
				}
				CU_ASSERT_EQUAL(got, exp);
				expect += __builtin_popcountll(exp);
				if (ne > m)
					CU_ASSERT_EQUAL(got, 0);
				patterns++;
				braid_fec_dec_poll(d, now + DEC_TIMEOUT_NS);
				CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
				now += DEC_TIMEOUT_NS + 1;
			}
		}
		free_block(&tb);
	}
	printf("\n  %u erasure patterns x orders, %u pieces recovered\n",
	       patterns, recovered);
	CU_ASSERT_EQUAL(recovered, expect);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* Fewer than k pieces: nothing recovered, the pieces are held until the
 * timeout, then abandoned and released. */
static void
test_too_few_pieces_abandoned(void)
{
	struct braid_fec_enc *e = mk_enc(1, 4, 2, false);
	struct braid_fec_dec *d = mk_dec(1, 64);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	struct braid_fec_dec_class_stats st;
	uint16_t lens[4] = { 100, 200, 300, 400 };
	uint64_t rng = g_seed ^ 0x5e5e;
	uint64_t t0 = 5000;
	struct tblock tb;

	CU_ASSERT_FATAL(e != NULL && d != NULL);
	memset(&tb, 0, sizeof(tb));
	tb.k = tb.kp = 4;
	tb.m = 2;
	enc_block(e, &tb, lens, t0, &rng);
	/* data 0, 1 and parity 0: 3 of the 4 needed */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[0], rec, t0), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[1], rec, t0 + 10), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[0], rec, t0 + 20), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 3);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.data[0]), 2);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.par[0]), 2);
	CU_ASSERT_EQUAL(braid_fec_dec_poll(d, t0 + DEC_TIMEOUT_NS - 1), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 3);
	CU_ASSERT_EQUAL(braid_fec_dec_poll(d, t0 + DEC_TIMEOUT_NS), 1);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.data[0]), 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.par[0]), 1);
	/* the missing parity arrives after the block was given up: late */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[1], rec, t0 + DEC_TIMEOUT_NS + 5), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.par[1]), 1);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_abandoned, 1);
	CU_ASSERT_EQUAL(st.blocks_recovered, 0);
	CU_ASSERT_EQUAL(st.pieces_recovered, 0);
	CU_ASSERT_EQUAL(st.pieces_late, 1);
	CU_ASSERT_EQUAL(st.data_in, 2);
	CU_ASSERT_EQUAL(st.parity_in, 1);
	free_block(&tb);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* A block closed by its timeout with k' < k: parity says k', data says
 * k; the decoder rebuilds from any k' of the k'+m pieces, including
 * when every data piece is lost (seq from the parity's first seq). */
static void
test_shortened_block(void)
{
	struct braid_fec_enc *e = mk_enc(1, 10, 3, false);
	struct braid_fec_dec *d = mk_dec(1, 64);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	struct braid_fec_enc_class_stats es;
	uint16_t lens[3] = { 1500, 64, 900 };
	uint64_t rng = g_seed ^ 0x6f6f;
	uint64_t t0 = 777;
	struct tblock tb;
	unsigned int got = 0;

	CU_ASSERT_FATAL(e != NULL && d != NULL);
	memset(&tb, 0, sizeof(tb));
	tb.k = 10;
	tb.kp = 3;
	tb.m = 3;
	tb.first_seq = 0xfffffffe; /* recovered seqs wrap */
	enc_block(e, &tb, lens, t0, &rng);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(braid_meta(tb.data[i])->fec_k, 10);
		CU_ASSERT_EQUAL(braid_meta(tb.data[i])->fec_m, 3);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.data[i]), 1);
	}
	for (unsigned int j = 0; j < 3; j++) {
		const struct braid_meta *pm = braid_meta(tb.par[j]);

		CU_ASSERT_EQUAL(pm->fec_k, 3);
		CU_ASSERT_EQUAL(pm->fec_m, 3);
		CU_ASSERT_EQUAL(pm->block_idx, 3 + j);
		CU_ASSERT_EQUAL(pm->fec_len, 1502);
		CU_ASSERT_EQUAL(pm->seq, 0xfffffffe);
		CU_ASSERT_EQUAL(pm->rx_ns, t0 + TIMEOUT_NS);
	}
	braid_fec_enc_class_stats(e, 0, &es);
	CU_ASSERT_EQUAL(es.blocks_timeout, 1);
	CU_ASSERT_EQUAL(es.blocks_full, 0);
	CU_ASSERT_EQUAL(es.data_protected, 3);
	CU_ASSERT_EQUAL(es.parity_sent, 3);
	CU_ASSERT_EQUAL(es.parity_bytes, 3 * 1502);

	/* every data piece lost: the 3 parity rebuild all 3 */
	for (unsigned int j = 0; j < 3; j++) {
		unsigned int r = braid_fec_dec_one(d, tb.par[j], rec, t0);

		CU_ASSERT_EQUAL(r, j == 2 ? 3 : 0);
		for (unsigned int t = 0; t < r; t++) {
			check_recovered(&tb, rec[t]);
			CU_ASSERT_EQUAL(braid_meta(rec[t])->fec_k, 3);
			got++;
			rte_pktmbuf_free(rec[t]);
		}
	}
	CU_ASSERT_EQUAL(got, 3);
	CU_ASSERT_EQUAL(braid_meta(tb.par[0])->seq + 2, 0u); /* wrapped */
	/* data after the fact: late */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[1], rec, t0), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);

	/* same block again under a new id: data first (they say k=10), then
	 * one parity tells k'=3: complete without loss */
	tb.block_id += 1000;
	for (unsigned int p = 0; p < 6; p++)
		braid_meta(piece_of(&tb, p))->block_id = tb.block_id;
	for (unsigned int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[i], rec, t0), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 3);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[2], rec, t0), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	{
		struct braid_fec_dec_class_stats st;

		braid_fec_dec_class_stats(d, 0, &st);
		CU_ASSERT_EQUAL(st.blocks_recovered, 1);
		CU_ASSERT_EQUAL(st.blocks_complete_no_loss, 1);
		CU_ASSERT_EQUAL(st.pieces_late, 1);
	}
	free_block(&tb);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* Duplicates: a piece offered twice is held once; recovery unaffected. */
static void
test_duplicates(void)
{
	struct braid_fec_enc *e = mk_enc(1, 4, 2, false);
	struct braid_fec_dec *d = mk_dec(1, 64);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	struct braid_fec_dec_class_stats st;
	uint16_t lens[4] = { 10, 1000, 1500, 1 };
	uint64_t rng = g_seed ^ 0x7a7a;
	struct tblock tb;
	unsigned int r;

	CU_ASSERT_FATAL(e != NULL && d != NULL);
	memset(&tb, 0, sizeof(tb));
	tb.k = tb.kp = 4;
	tb.m = 2;
	tb.first_seq = 42;
	enc_block(e, &tb, lens, 10, &rng);
	/* lose data 1 and 3; data 0 twice, parity 0 twice */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[0], rec, 10), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[0], rec, 11), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.data[0]), 2);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[0], rec, 12), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[0], rec, 13), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tb.par[0]), 2);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 2);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.data[2], rec, 14), 0);
	r = braid_fec_dec_one(d, tb.par[1], rec, 15);
	CU_ASSERT_EQUAL_FATAL(r, 2);
	CU_ASSERT_EQUAL(braid_meta(rec[0])->block_idx, 1); /* index order */
	CU_ASSERT_EQUAL(braid_meta(rec[1])->block_idx, 3);
	for (unsigned int t = 0; t < r; t++) {
		check_recovered(&tb, rec[t]);
		rte_pktmbuf_free(rec[t]);
	}
	/* a duplicate of a finished block: late */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[1], rec, 16), 0);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.pieces_duplicate, 2);
	CU_ASSERT_EQUAL(st.pieces_late, 1);
	CU_ASSERT_EQUAL(st.pieces_recovered, 2);
	CU_ASSERT_EQUAL(st.blocks_recovered, 1);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	for (unsigned int p = 0; p < 6; p++)
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(piece_of(&tb, p)), 1);
	free_block(&tb);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* ------------------------------------------------------------------ */
/* encoder stage                                                      */
/* ------------------------------------------------------------------ */

struct stat_probe {
	const char *name;
	uint64_t value;
	unsigned int seen;
};

static void
stat_cb(void *arg, const char *name,
	const struct braid_stat_labels *labels, uint64_t value)
{
	struct stat_probe *p = arg;

	RTE_SET_USED(labels);
	if (strcmp(name, p->name) == 0) {
		p->value = value;
		p->seen++;
	}
}

static uint64_t
stage_stat(const struct braid_stage_ops *ops, const void *ctx, const char *name)
{
	struct stat_probe p = { .name = name };

	ops->stats(ctx, stat_cb, &p);
	CU_ASSERT_EQUAL(p.seen, 1);
	return p.value;
}

static struct rte_mbuf *
mk_simple(uint16_t len, uint16_t cls, uint32_t seq, uint16_t link)
{
	static uint8_t bytes[PKT_MAX + 64];
	static uint64_t rng = 0x1234;
	struct rte_mbuf *m;

	fill_rand(bytes, len, &rng);
	m = mk_pkt(g_pool, len, cls, seq, link, bytes);
	CU_ASSERT_FATAL(m != NULL);
	return m;
}

/* Block closes on k: data pass at once with their block fields and a
 * reference; the k-th packet brings the parity with the right meta. */
static void
test_stage_full_block(void)
{
	struct braid_fec_enc *e = mk_enc(1, 4, 2, false);
	const struct braid_stage_ops *ops = &braid_fec_enc_stage_ops;
	struct rte_mbuf *p[5];
	uint16_t lens[4] = { 100, 200, 300, 1000 };
	uint16_t links[4] = { 0, 1, 2, 0 };
	struct braid_fec_enc_class_stats st;

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_STRING_EQUAL(ops->kind, "fec");
	for (unsigned int i = 0; i < 4; i++)
		p[i] = mk_simple(lens[i], 0, 10 + i, links[i]);
	g_out.n = 0;
	ops->process(e, p, 3, &g_out, 100);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 3);
	for (unsigned int i = 0; i < 3; i++) {
		const struct braid_meta *md = braid_meta(p[i]);

		CU_ASSERT(g_out.pkts[i] == p[i]);
		CU_ASSERT_EQUAL(md->block_id, 0);
		CU_ASSERT_EQUAL(md->block_idx, i);
		CU_ASSERT_EQUAL(md->fec_k, 4);
		CU_ASSERT_EQUAL(md->fec_m, 2);
		CU_ASSERT_EQUAL(md->flags, 0);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[i]), 2);
	}
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 3);
	CU_ASSERT_EQUAL(ops->poll(e, &g_out, 100 + TIMEOUT_NS - 1), 0);
	g_out.n = 0;
	ops->process(e, &p[3], 1, &g_out, 200);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 3);
	CU_ASSERT(g_out.pkts[0] == p[3]);
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 0);
	for (unsigned int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[i]), 1);
	for (unsigned int j = 0; j < 2; j++) {
		struct rte_mbuf *par = g_out.pkts[1 + j];
		const struct braid_meta *pm = braid_meta(par);

		CU_ASSERT_EQUAL(pm->class_id, 0);
		CU_ASSERT_EQUAL(pm->block_id, 0);
		CU_ASSERT_EQUAL(pm->block_idx, 4 + j);
		CU_ASSERT_EQUAL(pm->fec_k, 4);
		CU_ASSERT_EQUAL(pm->fec_m, 2);
		CU_ASSERT_EQUAL(pm->fec_len, 1002);
		CU_ASSERT_EQUAL(pm->seq, 10);
		CU_ASSERT_EQUAL(pm->flags, BRAID_META_F_PARITY);
		CU_ASSERT_EQUAL(pm->pkt_type, PAR_TYPE);
		CU_ASSERT_EQUAL(pm->rx_ns, 200);
		CU_ASSERT_EQUAL(rte_pktmbuf_data_len(par), 1002);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(par), 1002);
		CU_ASSERT_EQUAL(par->nb_segs, 1);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(par), 1);
	}
	/* credit (len*m/k): link0 550, link1 100, link2 150; a piece costs
	 * 1002: none covers it, so most credit left: link0, then link2 */
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[1])->link_id, 0);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[2])->link_id, 2);
	for (unsigned int j = 0; j < 2; j++)
		rte_pktmbuf_free(g_out.pkts[1 + j]);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_full, 1);
	CU_ASSERT_EQUAL(st.data_protected, 4);
	CU_ASSERT_EQUAL(st.parity_sent, 2);
	CU_ASSERT_EQUAL(st.parity_bytes, 2004);
	CU_ASSERT_EQUAL(st.copied, 0);
	CU_ASSERT_EQUAL(stage_stat(ops, e, "blocks_full"), 1);
	CU_ASSERT_EQUAL(stage_stat(ops, e, "parity_sent"), 2);
	CU_ASSERT_EQUAL(stage_stat(ops, e, "drop_out_full"), 0);
	/* the next block has the next id */
	p[4] = mk_simple(50, 0, 14, 1);
	g_out.n = 0;
	ops->process(e, &p[4], 1, &g_out, 300);
	CU_ASSERT_EQUAL(braid_meta(p[4])->block_id, 1);
	CU_ASSERT_EQUAL(braid_meta(p[4])->block_idx, 0);
	braid_fec_enc_free(e); /* releases the open block's reference */
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[4]), 1);
	for (unsigned int i = 0; i < 5; i++)
		rte_pktmbuf_free(p[i]);
	assert_pool_clean();
}

/* Block timeout with virtual time: by poll, and by process when the poll
 * did not run; drain flushes what is open. */
static void
test_stage_timeout(void)
{
	struct braid_fec_enc *e = mk_enc(1, 8, 2, false);
	const struct braid_stage_ops *ops = &braid_fec_enc_stage_ops;
	struct rte_mbuf *p[4];
	struct braid_fec_enc_class_stats st;
	const uint64_t t0 = 123456;

	CU_ASSERT_FATAL(e != NULL);
	p[0] = mk_simple(300, 0, 0, 0);
	p[1] = mk_simple(400, 0, 1, 1);
	g_out.n = 0;
	ops->process(e, p, 2, &g_out, t0);
	CU_ASSERT_EQUAL(g_out.n, 2);
	g_out.n = 0;
	CU_ASSERT_EQUAL(ops->poll(e, &g_out, t0 + TIMEOUT_NS - 1), 0);
	CU_ASSERT_EQUAL(g_out.n, 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[0]), 2);
	CU_ASSERT_EQUAL(ops->poll(e, &g_out, t0 + TIMEOUT_NS), 2);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 2);
	for (unsigned int j = 0; j < 2; j++) {
		const struct braid_meta *pm = braid_meta(g_out.pkts[j]);

		CU_ASSERT_EQUAL(pm->fec_k, 2);
		CU_ASSERT_EQUAL(pm->block_idx, 2 + j);
		CU_ASSERT_EQUAL(pm->fec_len, 402);
		rte_pktmbuf_free(g_out.pkts[j]);
	}
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[0]), 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[1]), 1);
	CU_ASSERT_EQUAL(ops->poll(e, &g_out, t0 + 2 * TIMEOUT_NS), 0);

	/* no poll in between: process closes the stale block first */
	p[2] = mk_simple(100, 0, 2, 0);
	p[3] = mk_simple(100, 0, 3, 0);
	g_out.n = 0;
	ops->process(e, &p[2], 1, &g_out, 5 * TIMEOUT_NS);
	g_out.n = 0;
	ops->process(e, &p[3], 1, &g_out, 6 * TIMEOUT_NS);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 3);
	CU_ASSERT(braid_meta(g_out.pkts[0])->flags & BRAID_META_F_PARITY);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[0])->block_id, 1);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[0])->fec_k, 1);
	CU_ASSERT(g_out.pkts[2] == p[3]);
	CU_ASSERT_EQUAL(braid_meta(p[3])->block_id, 2);
	CU_ASSERT_EQUAL(braid_meta(p[3])->block_idx, 0);
	rte_pktmbuf_free(g_out.pkts[0]);
	rte_pktmbuf_free(g_out.pkts[1]);
	/* shutdown: drain sends the open block's parity, then nothing */
	g_out.n = 0;
	CU_ASSERT_EQUAL(ops->drain(e, &g_out, 6 * TIMEOUT_NS + 1), 2);
	CU_ASSERT_EQUAL(ops->drain(e, &g_out, 6 * TIMEOUT_NS + 2), 0);
	CU_ASSERT_EQUAL(g_out.n, 2);
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 0);
	for (unsigned int j = 0; j < g_out.n; j++)
		rte_pktmbuf_free(g_out.pkts[j]);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_timeout, 2);
	CU_ASSERT_EQUAL(st.blocks_flushed, 1);
	CU_ASSERT_EQUAL(st.blocks_full, 0);
	CU_ASSERT_EQUAL(st.data_protected, 4);
	CU_ASSERT_EQUAL(st.parity_sent, 6);
	for (unsigned int i = 0; i < 4; i++)
		rte_pktmbuf_free(p[i]);
	braid_fec_enc_free(e);
	assert_pool_clean();
}

/* Feed @p n packets of class 0, one every @p gap_ns from *@p now, with a
 * poll before each; free what comes out. */
static void
feed_paced(struct braid_fec_enc *e, unsigned int n, uint64_t gap_ns,
	   uint64_t *now, uint32_t *seq)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = mk_simple(200, 0, (*seq)++, 0);

		g_out.n = 0;
		braid_fec_enc_poll(e, &g_out, *now);
		braid_fec_enc_burst(e, &m, 1, &g_out, *now);
		rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
		*now += gap_ns;
	}
}

/* timeout_auto: at a steady rate blocks close full (a fixed 1 ms timeout
 * closes them after 2 packets at 0.5 ms); when the rate drops, a block
 * still closes within the longest timeout. */
static void
test_stage_auto_timeout(void)
{
	const uint64_t cap = 50 * TIMEOUT_NS;
	struct braid_fec_enc_conf c;
	struct braid_fec_enc *e;
	struct braid_fec_enc_class_stats st, st0;
	struct braid_fec_class_conf fixed = { .k = 10, .m = 2, .timeout_ns = TIMEOUT_NS };
	struct rte_mbuf *m;
	uint64_t now = 1000;
	uint32_t seq = 0;

	memset(&c, 0, sizeof(c));
	c.n_classes = 1;
	c.classes[0] = (struct braid_fec_class_conf){ .k = 10, .m = 2,
		.timeout_auto = true, .timeout_ns = cap };
	c.n_links = 4;
	c.pool = g_pool;
	c.parity_pkt_type = PAR_TYPE;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(e != NULL);

	/* 2000 pkt/s for a second: after the first blocks, every one full. */
	feed_paced(e, 100, 500000, &now, &seq);
	braid_fec_enc_class_stats(e, 0, &st0);
	feed_paced(e, 2000, 500000, &now, &seq);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_timeout - st0.blocks_timeout, 0);
	CU_ASSERT_EQUAL(st.blocks_full - st0.blocks_full, 200);
	/* Bursts of 32 every 16 ms (the same rate, in RX bursts: one
	 * timestamp each): full too, but while the estimate moves. */
	for (unsigned int b = 0; b < 60; b++) {
		if (b == 30)   /* the estimate has moved: measure from here */
			braid_fec_enc_class_stats(e, 0, &st);
		for (unsigned int i = 0; i < 32; i++)
			feed_paced(e, 1, i == 31 ? 16000000 : 0, &now, &seq);
	}
	braid_fec_enc_class_stats(e, 0, &st0);
	CU_ASSERT_EQUAL(st0.blocks_timeout - st.blocks_timeout, 0);
	CU_ASSERT(st0.blocks_full - st.blocks_full >= 90);

	/* The rate drops to 10 pkt/s: blocks close by the timeout, never
	 * later than the longest one after their first packet. */
	for (unsigned int i = 0; i < 20; i++) {
		m = mk_simple(200, 0, seq++, 0);
		g_out.n = 0;
		braid_fec_enc_poll(e, &g_out, now);
		braid_fec_enc_burst(e, &m, 1, &g_out, now);
		rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
		g_out.n = 0;
		braid_fec_enc_poll(e, &g_out, now + cap);
		if (i > 0)   /* the block it opened is closed */
			CU_ASSERT_EQUAL(g_out.n, 2);
		rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
		now += 100000000;
	}
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT(st.blocks_timeout - st0.blocks_timeout >= 20);

	/* A fixed 1 ms timeout at 2000 pkt/s: blocks of 2 or 3. */
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 0, &fixed), 0);
	braid_fec_enc_class_stats(e, 0, &st0);
	feed_paced(e, 1000, 500000, &now, &seq);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT(st.blocks_timeout - st0.blocks_timeout >= 300);
	CU_ASSERT_EQUAL(st.blocks_full - st0.blocks_full, 0);

	g_out.n = 0;
	while (braid_fec_enc_flush(e, &g_out, now) > 0)
		;
	rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 0);
	braid_fec_enc_free(e);
	assert_pool_clean();
}

/* Unprotected traffic passes untouched; a skipped packet or a seq gap
 * ends the block (its seqs must stay consecutive). */
static void
test_stage_skip_and_pass(void)
{
	struct braid_fec_enc_conf c;
	struct braid_fec_enc *e;
	struct braid_fec_enc_class_stats st;
	struct rte_mbuf *p[12], *seg2;
	struct braid_meta before;

	memset(&c, 0, sizeof(c));
	c.n_classes = 2;
	c.classes[0] = (struct braid_fec_class_conf){ .k = 4, .m = 1, .timeout_ns = TIMEOUT_NS };
	c.classes[1] = (struct braid_fec_class_conf){ .k = 0 };
	c.n_links = 3;
	c.pool = g_pool;
	c.max_len = 1000;
	c.parity_pkt_type = PAR_TYPE;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(e != NULL);

	p[0] = mk_simple(100, 0, 0, 0);
	p[1] = mk_simple(100, 0, 1, 0);
	p[2] = mk_simple(100, 0, 2, 0);        /* becomes multi-segment */
	seg2 = mk_simple(50, 0, 0, 0);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(p[2], seg2) == 0);
	g_out.n = 0;
	braid_fec_enc_burst(e, p, 2, &g_out, 10);
	CU_ASSERT_EQUAL(g_out.n, 2);
	before = *braid_meta(p[2]);
	g_out.n = 0;
	braid_fec_enc_burst(e, &p[2], 1, &g_out, 20);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 2);   /* parity of the cut block, then it */
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[0])->fec_k, 2);
	CU_ASSERT(g_out.pkts[1] == p[2]);
	CU_ASSERT(memcmp(braid_meta(p[2]), &before, sizeof(before)) == 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[2]), 1);
	rte_pktmbuf_free(g_out.pkts[0]);

	/* too large (max_len 1000) */
	p[3] = mk_simple(1001, 0, 3, 0);
	before = *braid_meta(p[3]);
	g_out.n = 0;
	braid_fec_enc_burst(e, &p[3], 1, &g_out, 30);
	CU_ASSERT_EQUAL(g_out.n, 1);
	CU_ASSERT(memcmp(braid_meta(p[3]), &before, sizeof(before)) == 0);

	/* seq gap: 4 then 6 */
	p[4] = mk_simple(100, 0, 4, 0);
	p[5] = mk_simple(100, 0, 6, 0);
	g_out.n = 0;
	braid_fec_enc_burst(e, &p[4], 2, &g_out, 40);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 3);
	CU_ASSERT(g_out.pkts[0] == p[4]);
	CU_ASSERT(braid_meta(g_out.pkts[1])->flags & BRAID_META_F_PARITY);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[1])->fec_k, 1);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[1])->seq, 4);
	CU_ASSERT(g_out.pkts[2] == p[5]);
	CU_ASSERT_EQUAL(braid_meta(p[5])->block_idx, 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[5]), 2);
	rte_pktmbuf_free(g_out.pkts[1]);

	/* F_DUP, F_RETX, F_PARITY, FEC-off class, unknown class: untouched */
	p[6] = mk_simple(100, 0, 7, 0);
	braid_meta(p[6])->flags = BRAID_META_F_DUP;
	p[7] = mk_simple(100, 0, 7, 1);
	braid_meta(p[7])->flags = BRAID_META_F_RETX;
	p[8] = mk_simple(100, 0, 7, 2);
	braid_meta(p[8])->flags = BRAID_META_F_PARITY;
	p[9] = mk_simple(100, 1, 7, 0);
	p[10] = mk_simple(100, 9, 7, 0);
	p[11] = mk_simple(100, BRAID_CLASS_NONE, 7, 0);
	{
		struct braid_meta saved[6];

		for (unsigned int i = 0; i < 6; i++)
			saved[i] = *braid_meta(p[6 + i]);
		g_out.n = 0;
		braid_fec_enc_burst(e, &p[6], 6, &g_out, 50);
		CU_ASSERT_EQUAL(g_out.n, 6);
		for (unsigned int i = 0; i < 6; i++) {
			CU_ASSERT(g_out.pkts[i] == p[6 + i]);
			CU_ASSERT(memcmp(braid_meta(p[6 + i]), &saved[i],
					 sizeof(saved[i])) == 0);
			CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[6 + i]), 1);
		}
	}
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 1);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT_EQUAL(st.skipped_multiseg, 1);
	CU_ASSERT_EQUAL(st.skipped_too_large, 1);
	CU_ASSERT_EQUAL(st.blocks_cut, 2);
	CU_ASSERT_EQUAL(st.data_protected, 3);
	braid_fec_enc_class_stats(e, 1, &st);
	CU_ASSERT_EQUAL(st.data_protected + st.blocks_cut + st.skipped_multiseg, 0);
	CU_ASSERT_EQUAL(braid_fec_enc_class_stats(e, 2, &st), -ENOENT);
	braid_fec_enc_free(e);
	for (unsigned int i = 0; i < 12; i++)
		rte_pktmbuf_free(p[i]);
	assert_pool_clean();
}

/* No parity mbuf: the block goes without parity, counted, refs released. */
static void
test_stage_no_mbuf(void)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("fec_tiny", 3, 0, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   SOCKET_ID_ANY);
	struct braid_fec_enc_conf c;
	struct braid_fec_enc *e;
	struct braid_fec_enc_class_stats st;
	struct rte_mbuf *p[2];

	CU_ASSERT_FATAL(tiny != NULL);
	memset(&c, 0, sizeof(c));
	c.n_classes = 1;
	c.classes[0] = (struct braid_fec_class_conf){ .k = 2, .m = 4, .timeout_ns = TIMEOUT_NS };
	c.n_links = 1;
	c.pool = tiny;
	c.parity_pkt_type = PAR_TYPE;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(e != NULL);
	p[0] = mk_simple(100, 0, 0, 0);
	p[1] = mk_simple(100, 0, 1, 0);
	g_out.n = 0;
	braid_fec_enc_burst(e, p, 2, &g_out, 1);
	CU_ASSERT_EQUAL(g_out.n, 2);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[0]), 1);
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 0);
	braid_fec_enc_class_stats(e, 0, &st);
	CU_ASSERT_EQUAL(st.drop_no_mbuf, 1);
	CU_ASSERT_EQUAL(st.parity_sent, 0);
	CU_ASSERT_EQUAL(st.blocks_full, 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0);
	braid_fec_enc_free(e);
	rte_pktmbuf_free(p[0]);
	rte_pktmbuf_free(p[1]);
	rte_mempool_free(tiny);
	assert_pool_clean();
}

/* Scalar restatement of the placement rule, as a sort key:
 * (tier, -credit left, already used, position from @p start in circular
 * link order), tier 0 = no parity of the block yet and credit left covers
 * the piece. The encoder's start is the block id modulo the links. */
static void
ref_place(unsigned int k_nom, unsigned int m, unsigned int L, unsigned int n,
	  const uint16_t *len, const uint16_t *link, unsigned int n_links,
	  unsigned int start, uint16_t *res)
{
	int64_t left[BRAID_FEC_MAX_LINKS] = { 0 };
	bool has[BRAID_FEC_MAX_LINKS] = { false }, used[BRAID_FEC_MAX_LINKS] = { false };
	const int64_t need = (int64_t)L * k_nom;

	for (unsigned int i = 0; i < n; i++)
		if (link[i] < n_links) {
			left[link[i]] += (int64_t)len[i] * m;
			has[link[i]] = true;
		}
	for (unsigned int j = 0; j < m; j++) {
		int best = -1, bt = 0;

		for (unsigned int i = 0; i < n_links; i++) {
			unsigned int l = (start + i) % n_links;
			int tier;

			if (!has[l])
				continue;
			tier = (!used[l] && left[l] >= need) ? 0 : 1;
			if (best < 0 || tier < bt ||
			    (tier == bt && left[l] > left[best]) ||
			    (tier == bt && left[l] == left[best] &&
			     used[best] && !used[l])) {
				best = (int)l;
				bt = tier;
			}
		}
		res[j] = best < 0 ? BRAID_LINK_NONE : (uint16_t)best;
		if (best >= 0) {
			used[best] = true;
			left[best] -= need;
		}
	}
}

/* Parity placement: worked examples, then random blocks vs ref_place. */
static void
test_parity_placement(void)
{
	static const struct {
		uint8_t k, m, n;
		uint16_t len[16];
		uint16_t link[16];
		uint16_t expect[8];
	} ex[] = {
		/* an unused link whose credit exactly covers a piece takes it
		 * (need = L*k = 2000 = 250*8) ... */
		{ 2, 8, 2, { 998, 250 }, { 0, 1 }, { 0, 1, 0, 0, 0, 1, 0, 1 } },
		/* ... one byte short, the link with most credit left does */
		{ 2, 8, 2, { 998, 249 }, { 0, 1 }, { 0, 0, 0, 1, 0, 1, 0, 1 } },
		{ 2, 7, 2, { 1003, 287 }, { 0, 1 }, { 0, 0, 0, 1, 0, 1, 0 } },
		/* even spread, nobody covers a piece: most left, then ties
		 * to the first link from the start (0 here) */
		{ 4, 2, 4, { 1000, 1000, 1000, 1000 }, { 0, 0, 1, 2 }, { 0, 1 } },
		/* skewed: link 1 reserved 12.8 B, link 0 still has 1118 B */
		{ 10, 2, 10, { 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 64 },
		  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, { 0, 0 } },
		/* two links each covering two pieces: alternate */
		{ 16, 4, 16, { 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400,
			       1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400 },
		  { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, { 0, 1, 0, 1 } },
		/* no link known */
		{ 2, 2, 2, { 100, 100 }, { BRAID_LINK_NONE, BRAID_LINK_NONE },
		  { BRAID_LINK_NONE, BRAID_LINK_NONE } },
		/* one link: everything there */
		{ 3, 3, 3, { 100, 900, 50 }, { 2, 2, 2 }, { 2, 2, 2 } },
	};
	struct braid_fec_enc *e = mk_enc(1, 4, 2, false);
	uint64_t rng = g_seed ^ 0x9191;
	unsigned int mismatches = 0;

	CU_ASSERT_FATAL(e != NULL);
	for (unsigned int x = 0; x < RTE_DIM(ex); x++) {
		struct rte_mbuf *p[16];
		uint16_t ref[8];

		set_km(e, 0, ex[x].k, ex[x].m);
		for (unsigned int i = 0; i < ex[x].n; i++)
			p[i] = mk_simple(ex[x].len[i], 0, 1000 * x + i, ex[x].link[i]);
		g_out.n = 0;
		braid_fec_enc_burst(e, p, ex[x].n, &g_out, 1);
		CU_ASSERT_EQUAL_FATAL(g_out.n, ex[x].n + ex[x].m);
		{
			/* The examples state the rule from link 0; the stage
			 * starts from its block id modulo the links. */
			unsigned int L = 0;
			unsigned int start = braid_meta(g_out.pkts[ex[x].n])->block_id % 4;
			uint16_t at[8];

			for (unsigned int i = 0; i < ex[x].n; i++)
				L = RTE_MAX(L, ex[x].len[i] + 2u);
			ref_place(ex[x].k, ex[x].m, L, ex[x].n, ex[x].len, ex[x].link, 4, 0, ref);
			ref_place(ex[x].k, ex[x].m, L, ex[x].n, ex[x].len, ex[x].link, 4,
				  start, at);
			for (unsigned int j = 0; j < ex[x].m; j++) {
				uint16_t got = braid_meta(g_out.pkts[ex[x].n + j])->link_id;

				CU_ASSERT_EQUAL(ref[j], ex[x].expect[j]);
				CU_ASSERT_EQUAL(got, at[j]);
				if (got != at[j])
					printf("\n  example %u parity %u: link %u, expected %u\n",
					       x, j, got, at[j]);
			}
		}
		for (unsigned int i = 0; i < g_out.n; i++)
			rte_pktmbuf_free(g_out.pkts[i]);
	}
	braid_fec_enc_free(e);

	/* random blocks (full and short), 4 links, some packets without link */
	e = mk_enc(1, 4, 2, false);
	CU_ASSERT_FATAL(e != NULL);
	for (unsigned int t = 0; t < 2000; t++) {
		unsigned int k = 1 + rnd(&rng, 16), m = 1 + rnd(&rng, 8);
		unsigned int n = rnd(&rng, 3) == 0 ? 1 + rnd(&rng, k) : k;
		struct rte_mbuf *p[BRAID_FEC_MAX_K];
		uint16_t len[BRAID_FEC_MAX_K], link[BRAID_FEC_MAX_K], ref[BRAID_FEC_MAX_M];
		unsigned int L = 0;
		uint64_t now = (uint64_t)t * 10 * TIMEOUT_NS;

		set_km(e, 0, (uint8_t)k, (uint8_t)m);
		for (unsigned int i = 0; i < n; i++) {
			len[i] = (uint16_t)(rnd(&rng, 2) ? 1 + rnd(&rng, PKT_MAX) : 1400);
			link[i] = rnd(&rng, 10) == 0 ? BRAID_LINK_NONE : (uint16_t)rnd(&rng, 4);
			L = RTE_MAX(L, len[i] + 2u);
			p[i] = mk_simple(len[i], 0, t * 64 + i, link[i]);
		}
		g_out.n = 0;
		braid_fec_enc_burst(e, p, (uint16_t)n, &g_out, now);
		if (n < k)
			braid_fec_enc_poll(e, &g_out, now + TIMEOUT_NS);
		CU_ASSERT_EQUAL_FATAL(g_out.n, n + m);
		ref_place(k, m, L, n, len, link, 4,
			  braid_meta(g_out.pkts[n])->block_id % 4, ref);
		for (unsigned int j = 0; j < m; j++)
			mismatches += braid_meta(g_out.pkts[n + j])->link_id != ref[j];
		for (unsigned int i = 0; i < g_out.n; i++)
			rte_pktmbuf_free(g_out.pkts[i]);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	braid_fec_enc_free(e);

	/* 10+2 blocks striped evenly over three links: the parity spreads
	 * evenly too (it piled up on link 0 when ties went to the lowest id). */
	{
		struct braid_fec_enc_conf c;
		unsigned int per_link[3] = { 0 };
		uint32_t seq = 0;

		memset(&c, 0, sizeof(c));
		c.n_classes = 1;
		c.classes[0] = (struct braid_fec_class_conf){ .k = 10, .m = 2,
			.timeout_ns = TIMEOUT_NS };
		c.n_links = 3;
		c.pool = g_pool;
		c.parity_pkt_type = PAR_TYPE;
		e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
		CU_ASSERT_FATAL(e != NULL);
		for (unsigned int b = 0; b < 300; b++) {
			struct rte_mbuf *p[10];

			for (unsigned int i = 0; i < 10; i++, seq++)
				p[i] = mk_simple(1000, 0, seq, (uint16_t)(seq % 3));
			g_out.n = 0;
			braid_fec_enc_burst(e, p, 10, &g_out, 1);
			CU_ASSERT_EQUAL_FATAL(g_out.n, 12);
			for (unsigned int j = 10; j < 12; j++)
				per_link[braid_meta(g_out.pkts[j])->link_id % 3]++;
			rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
		}
		printf("\n    parity per link, 10+2 over 3 links: %u %u %u\n",
		       per_link[0], per_link[1], per_link[2]);
		for (unsigned int l = 0; l < 3; l++)
			CU_ASSERT(per_link[l] >= 190 && per_link[l] <= 210);
		braid_fec_enc_free(e);
	}
	assert_pool_clean();
}

/* In place and copied coding give the same parity; in place is used only
 * for a direct mbuf the block alone shares, and then only the two bytes
 * before the data and the padding after it are written; a shared or
 * indirect mbuf, or one without tailroom, is copied and its buffer left
 * exactly as it was. */
static void
test_inplace_vs_copy(void)
{
	struct braid_fec_enc *ein = mk_enc(1, 4, 2, false);
	struct braid_fec_enc *ecp = mk_enc(1, 4, 2, true);
	static uint8_t snap[4][RTE_MBUF_DEFAULT_BUF_SIZE];
	uint16_t lens[4] = { 1400, 64, 700, 3 };
	struct rte_mbuf *a[4], *b[4], *pa[2], *pb[2];
	struct braid_fec_enc_class_stats st;
	uint64_t rng = g_seed ^ 0xabab;

	CU_ASSERT_FATAL(ein != NULL && ecp != NULL);
	for (unsigned int i = 0; i < 4; i++) {
		fill_rand(g_orig[i], lens[i], &rng);
		a[i] = mk_pkt(g_pool, lens[i], 0, i, 0, g_orig[i]);
		b[i] = mk_pkt(g_pool, lens[i], 0, i, 0, g_orig[i]);
		CU_ASSERT_FATAL(a[i] != NULL && b[i] != NULL);
	}
	g_out.n = 0;
	braid_fec_enc_burst(ein, a, 4, &g_out, 1);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 6);
	pa[0] = g_out.pkts[4];
	pa[1] = g_out.pkts[5];
	g_out.n = 0;
	braid_fec_enc_burst(ecp, b, 4, &g_out, 1);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 6);
	pb[0] = g_out.pkts[4];
	pb[1] = g_out.pkts[5];
	for (unsigned int j = 0; j < 2; j++) {
		CU_ASSERT_EQUAL(rte_pktmbuf_data_len(pa[j]), 1402);
		CU_ASSERT(memcmp(rte_pktmbuf_mtod(pa[j], uint8_t *),
				 rte_pktmbuf_mtod(pb[j], uint8_t *), 1402) == 0);
	}
	braid_fec_enc_class_stats(ein, 0, &st);
	CU_ASSERT_EQUAL(st.copied, 0);
	braid_fec_enc_class_stats(ecp, 0, &st);
	CU_ASSERT_EQUAL(st.copied, 4);
	/* in place: prefix before the data, zeros after it */
	for (unsigned int i = 0; i < 4; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(a[i], const uint8_t *);
		unsigned int nz = 0;

		CU_ASSERT_EQUAL(d[-2], lens[i] >> 8);
		CU_ASSERT_EQUAL(d[-1], lens[i] & 0xff);
		for (unsigned int x = lens[i]; x < 1400; x++)
			nz += d[x] != 0;
		CU_ASSERT_EQUAL(nz, 0);
		CU_ASSERT(memcmp(d, g_orig[i], lens[i]) == 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		rte_pktmbuf_free(a[i]);
		rte_pktmbuf_free(b[i]);
	}
	for (unsigned int j = 0; j < 2; j++) {
		rte_pktmbuf_free(pa[j]);
		rte_pktmbuf_free(pb[j]);
	}

	/* shared (refcnt 2 at join), indirect clone, no tailroom, sole
	 * owner: the first three are copied and their buffers untouched */
	{
		struct rte_mbuf *shared, *orig, *clone, *notail, *sole, *in[4];
		struct rte_mbuf *bufs[4];
		uint64_t copied_before;

		braid_fec_enc_class_stats(ein, 0, &st);
		copied_before = st.copied;
		shared = mk_simple(500, 0, 100, 0);
		rte_mbuf_refcnt_update(shared, 1);
		orig = mk_simple(800, 0, 0, 0);
		clone = rte_pktmbuf_clone(orig, g_pool);
		CU_ASSERT_FATAL(clone != NULL);
		braid_meta(clone)->seq = 101;
		notail = rte_pktmbuf_alloc(g_pool);
		CU_ASSERT_FATAL(notail != NULL);
		notail->data_off = (uint16_t)(notail->buf_len - 100);
		notail->data_len = 100;
		notail->pkt_len = 100;
		fill_rand(rte_pktmbuf_mtod(notail, uint8_t *), 100, &rng);
		memset(braid_meta(notail), 0, sizeof(struct braid_meta));
		braid_meta(notail)->seq = 102;
		sole = mk_simple(1200, 0, 103, 0);
		in[0] = shared;
		in[1] = clone;
		in[2] = notail;
		in[3] = sole;
		bufs[0] = shared;
		bufs[1] = orig;
		bufs[2] = notail;
		for (unsigned int i = 0; i < 3; i++)
			memcpy(snap[i], bufs[i]->buf_addr, bufs[i]->buf_len);
		g_out.n = 0;
		braid_fec_enc_burst(ein, in, 4, &g_out, 1000);
		CU_ASSERT_EQUAL_FATAL(g_out.n, 6);
		for (unsigned int i = 0; i < 3; i++)
			CU_ASSERT(memcmp(snap[i], bufs[i]->buf_addr, bufs[i]->buf_len) == 0);
		braid_fec_enc_class_stats(ein, 0, &st);
		CU_ASSERT_EQUAL(st.copied - copied_before, 3);
		/* the parity is still right: equal to the copy encoder's */
		{
			struct rte_mbuf *in2[4];

			for (unsigned int i = 0; i < 4; i++) {
				in2[i] = mk_pkt(g_pool, rte_pktmbuf_data_len(in[i]), 0,
						200 + i, 0, rte_pktmbuf_mtod(in[i], uint8_t *));
				CU_ASSERT_FATAL(in2[i] != NULL);
			}
			pa[0] = g_out.pkts[4];
			pa[1] = g_out.pkts[5];
			g_out.n = 0;
			braid_fec_enc_burst(ecp, in2, 4, &g_out, 1000);
			CU_ASSERT_EQUAL_FATAL(g_out.n, 6);
			for (unsigned int j = 0; j < 2; j++) {
				CU_ASSERT(memcmp(rte_pktmbuf_mtod(pa[j], uint8_t *),
						 rte_pktmbuf_mtod(g_out.pkts[4 + j], uint8_t *),
						 1202) == 0);
				rte_pktmbuf_free(pa[j]);
				rte_pktmbuf_free(g_out.pkts[4 + j]);
			}
			for (unsigned int i = 0; i < 4; i++)
				rte_pktmbuf_free(in2[i]);
		}
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(shared), 2);
		rte_pktmbuf_free(shared);
		rte_pktmbuf_free(shared);
		rte_pktmbuf_free(clone);
		rte_pktmbuf_free(orig);
		rte_pktmbuf_free(notail);
		rte_pktmbuf_free(sole);
	}
	braid_fec_enc_free(ein);
	braid_fec_enc_free(ecp);
	assert_pool_clean();
}

/* A policy change applies from the next block; bad values refused. */
static void
test_set_class(void)
{
	struct braid_fec_enc *e = mk_enc(1, 4, 2, false);
	struct braid_fec_class_conf cc;
	struct rte_mbuf *p[7];

	CU_ASSERT_FATAL(e != NULL);
	for (unsigned int i = 0; i < 7; i++)
		p[i] = mk_simple(100, 0, i, 0);
	g_out.n = 0;
	braid_fec_enc_burst(e, p, 2, &g_out, 1);
	set_km(e, 0, 2, 1);
	braid_fec_enc_burst(e, &p[2], 2, &g_out, 2);
	/* old block kept k=4, m=2 */
	CU_ASSERT_EQUAL_FATAL(g_out.n, 6);
	CU_ASSERT_EQUAL(braid_meta(p[3])->fec_k, 4);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[5])->fec_m, 2);
	rte_pktmbuf_free(g_out.pkts[4]);
	rte_pktmbuf_free(g_out.pkts[5]);
	g_out.n = 0;
	braid_fec_enc_burst(e, &p[4], 2, &g_out, 3);
	CU_ASSERT_EQUAL_FATAL(g_out.n, 3);
	CU_ASSERT_EQUAL(braid_meta(p[4])->fec_k, 2);
	CU_ASSERT_EQUAL(braid_meta(p[4])->block_idx, 0);
	CU_ASSERT_EQUAL(braid_meta(g_out.pkts[2])->block_idx, 2);
	rte_pktmbuf_free(g_out.pkts[2]);
	/* off */
	cc = (struct braid_fec_class_conf){ .k = 0 };
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 0, &cc), 0);
	g_out.n = 0;
	braid_fec_enc_burst(e, &p[6], 1, &g_out, 4);
	CU_ASSERT_EQUAL(g_out.n, 1);
	CU_ASSERT_EQUAL(braid_meta(p[6])->fec_k, 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[6]), 1);
	cc = (struct braid_fec_class_conf){ .k = 33, .m = 1, .timeout_ns = 1 };
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 0, &cc), -EINVAL);
	cc = (struct braid_fec_class_conf){ .k = 4, .m = 17, .timeout_ns = 1 };
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 0, &cc), -EINVAL);
	cc = (struct braid_fec_class_conf){ .k = 4, .m = 2, .timeout_ns = 0 };
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 0, &cc), -EINVAL);
	cc = (struct braid_fec_class_conf){ .k = 4, .m = 2, .timeout_ns = 1 };
	CU_ASSERT_EQUAL(braid_fec_enc_set_class(e, 1, &cc), -ENOENT);
	braid_fec_enc_free(e);
	for (unsigned int i = 0; i < 7; i++)
		rte_pktmbuf_free(p[i]);
	assert_pool_clean();
}

static void
test_create_validation(void)
{
	struct braid_fec_enc_conf ok, c;
	struct braid_fec_dec_conf dok, dc;
	struct rte_mempool *small = rte_pktmbuf_pool_create("fec_small", 63, 0, 0,
							    RTE_PKTMBUF_HEADROOM + 600,
							    SOCKET_ID_ANY);
	struct braid_fec_enc *e;
	struct braid_fec_dec *d;

	CU_ASSERT_FATAL(small != NULL);
	memset(&ok, 0, sizeof(ok));
	ok.n_classes = 2;
	ok.classes[0] = (struct braid_fec_class_conf){ .k = 32, .m = 16, .timeout_ns = 1 };
	ok.classes[1] = (struct braid_fec_class_conf){ .k = 0 };
	ok.n_links = 16;
	ok.pool = g_pool;
	ok.parity_pkt_type = PAR_TYPE;
	e = braid_fec_enc_create(&ok, SOCKET_ID_ANY);
	CU_ASSERT(e != NULL);
	braid_fec_enc_free(e);
	braid_fec_enc_free(NULL);

#define BAD_ENC(stmt) do {                                          \
	c = ok;                                                     \
	stmt;                                                       \
	rte_errno = 0;                                              \
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);                \
	CU_ASSERT(e == NULL && rte_errno == EINVAL);                \
	braid_fec_enc_free(e);                                      \
} while (0)
	BAD_ENC(c.n_classes = 0);
	BAD_ENC(c.n_classes = BRAID_FEC_MAX_CLASSES + 1);
	BAD_ENC(c.n_links = 0);
	BAD_ENC(c.n_links = BRAID_FEC_MAX_LINKS + 1);
	BAD_ENC(c.classes[0].k = 33);
	BAD_ENC(c.classes[0].m = 0);
	BAD_ENC(c.classes[0].m = 17);
	BAD_ENC(c.classes[0].timeout_ns = 0);
	BAD_ENC(c.pool = NULL);
	BAD_ENC(c.parity_pkt_type = 0);
	BAD_ENC(c.max_len = 2047);            /* 2049 > 2048 of room */
	BAD_ENC(c.pool = small; c.max_len = 599);
#undef BAD_ENC
	c = ok;
	c.pool = small;
	c.max_len = 598;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	CU_ASSERT(e != NULL);
	braid_fec_enc_free(e);
	CU_ASSERT(braid_fec_enc_create(NULL, SOCKET_ID_ANY) == NULL);

	memset(&dok, 0, sizeof(dok));
	dok.n_classes = 16;
	dok.max_blocks = 4096;
	dok.timeout_ns = 1;
	dok.pool = g_pool;
	d = braid_fec_dec_create(&dok, SOCKET_ID_ANY);
	CU_ASSERT(d != NULL);
	braid_fec_dec_free(d);
	braid_fec_dec_free(NULL);
#define BAD_DEC(stmt) do {                                          \
	dc = dok;                                                   \
	stmt;                                                       \
	rte_errno = 0;                                              \
	d = braid_fec_dec_create(&dc, SOCKET_ID_ANY);               \
	CU_ASSERT(d == NULL && rte_errno == EINVAL);                \
	braid_fec_dec_free(d);                                      \
} while (0)
	BAD_DEC(dc.n_classes = 0);
	BAD_DEC(dc.n_classes = 17);
	BAD_DEC(dc.max_blocks = 0);
	BAD_DEC(dc.max_blocks = 1);
	BAD_DEC(dc.max_blocks = 48);
	BAD_DEC(dc.max_blocks = 8192);
	BAD_DEC(dc.timeout_ns = 0);
	BAD_DEC(dc.pool = NULL);
	BAD_DEC(dc.pool = small; dc.max_len = 599);
#undef BAD_DEC
	CU_ASSERT(braid_fec_dec_create(NULL, SOCKET_ID_ANY) == NULL);
	rte_mempool_free(small);
	assert_pool_clean();
}

/* ------------------------------------------------------------------ */
/* decoder                                                            */
/* ------------------------------------------------------------------ */

/* A hand-made piece. */
static struct rte_mbuf *
mk_piece(uint16_t cls, uint32_t block, uint8_t idx, uint8_t k, uint8_t m,
	 uint32_t seq, uint16_t len, bool parity)
{
	struct rte_mbuf *p = mk_simple(len, cls, seq, 0);
	struct braid_meta *md = braid_meta(p);

	md->block_id = block;
	md->block_idx = idx;
	md->fec_k = k;
	md->fec_m = m;
	if (parity) {
		md->flags = BRAID_META_F_PARITY;
		md->fec_len = len;
	}
	return p;
}

/* A peer restart in band: the piece flagged BRAID_META_F_SESSION resets
 * every class first; the flag moves to the first packet output after the
 * reset (here the flagged piece is parity, which the stage consumes). */
static void
test_decoder_session(void)
{
	const struct braid_stage_ops *ops = &braid_fec_dec_stage_ops;
	struct braid_fec_dec *d = mk_dec(2, 64);
	struct braid_fec_dec_class_stats st;
	struct rte_mbuf *p[2];

	CU_ASSERT_FATAL(d != NULL);
	g_out.n = 0;
	p[0] = mk_piece(0, 1, 0, 4, 2, 10, 100, false);   /* block 1 opens */
	ops->process(d, p, 1, &g_out, 1);
	CU_ASSERT(g_out.n == 1 && braid_fec_dec_held(d) == 1);
	p[0] = mk_piece(1, 9, 4, 4, 2, 0, 100, true);     /* new session: parity */
	braid_meta(p[0])->flags |= BRAID_META_F_SESSION;
	p[1] = mk_simple(100, 0, 0, 0);                   /* new session: plain data */
	ops->process(d, p, 2, &g_out, 2);
	CU_ASSERT_FATAL(g_out.n == 2);
	CU_ASSERT(!(braid_meta(g_out.pkts[0])->flags & BRAID_META_F_SESSION));
	CU_ASSERT(braid_meta(g_out.pkts[1])->flags & BRAID_META_F_SESSION);
	CU_ASSERT(braid_fec_dec_held(d) == 1);            /* only the new parity */
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT(st.blocks_abandoned == 1);
	CU_ASSERT_EQUAL(stage_stat(ops, d, "session_resets"), 1);
	CU_ASSERT_EQUAL(stage_stat(ops, d, "parity_consumed"), 1);
	/* a flagged data piece keeps its flag */
	p[0] = mk_simple(100, 0, 1, 0);
	braid_meta(p[0])->flags |= BRAID_META_F_SESSION;
	ops->process(d, p, 1, &g_out, 3);
	CU_ASSERT(g_out.n == 3 && (braid_meta(g_out.pkts[2])->flags & BRAID_META_F_SESSION));
	CU_ASSERT(braid_fec_dec_held(d) == 0);
	CU_ASSERT_EQUAL(stage_stat(ops, d, "session_resets"), 2);
	rte_pktmbuf_free_bulk(g_out.pkts, g_out.n);
	g_out.n = 0;
	braid_fec_dec_free(d);
	CU_ASSERT(rte_mempool_in_use_count(g_pool) == 0);
}

static void
test_decoder_bad_pieces(void)
{
	struct braid_fec_dec *d = mk_dec(2, 64);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	struct braid_fec_dec_class_stats st;
	struct rte_mbuf *bad[24], *good[2], *plain;
	unsigned int nb = 0;

	CU_ASSERT_FATAL(d != NULL);
	/* each wrong on its own */
	bad[nb++] = mk_piece(0, 1, 1, 4, 2, 0, 100, true);   /* parity idx < k */
	bad[nb++] = mk_piece(0, 1, 6, 4, 2, 0, 100, true);   /* parity idx >= k+m */
	bad[nb++] = mk_piece(0, 1, 4, 4, 2, 0, 100, false);  /* data idx >= k */
	bad[nb++] = mk_piece(0, 1, 0, 33, 2, 0, 100, false); /* k > 32 */
	bad[nb++] = mk_piece(0, 1, 0, 4, 0, 0, 100, false);  /* m == 0 */
	bad[nb++] = mk_piece(0, 1, 0, 4, 17, 0, 100, false); /* m > 16 */
	bad[nb++] = mk_piece(0, 1, 4, 0, 2, 0, 100, true);   /* parity k == 0 */
	bad[nb++] = mk_piece(0, 1, 0, 4, 2, 0, 1501, false); /* > max_len */
	bad[nb] = mk_piece(0, 1, 4, 4, 2, 0, 100, true);     /* len != fec_len */
	braid_meta(bad[nb++])->fec_len = 99;
	bad[nb] = mk_piece(0, 1, 4, 4, 2, 0, 1503, true);    /* fec_len > room */
	nb++;
	for (unsigned int i = 0; i < nb; i++) {
		CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[i], rec, 1), 0);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(bad[i]), 1);
	}
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.drop_bad_piece, nb);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);

	/* unknown class; data without FEC is not a piece */
	bad[nb] = mk_piece(5, 1, 0, 4, 2, 0, 100, false);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	CU_ASSERT_EQUAL(stage_stat(&braid_fec_dec_stage_ops, d, "drop_bad_class"), 1);
	plain = mk_simple(100, 0, 7, 0);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, plain, rec, 1), 0);

	/* disagreeing with the block: data 0 of block 9 (k=4, m=2, seq 100) */
	good[0] = mk_piece(0, 9, 0, 4, 2, 100, 300, false);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, good[0], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 1, 5, 2, 101, 100, false);  /* other k */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 1, 4, 3, 101, 100, false);  /* other m */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 1, 4, 2, 555, 100, false);  /* other seq */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 5, 4, 2, 99, 302, true);    /* parity seq */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 4, 4, 2, 100, 200, true);   /* L < data + 2 */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	good[1] = mk_piece(0, 9, 2, 4, 2, 102, 300, false);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, good[1], rec, 1), 0);
	bad[nb] = mk_piece(0, 9, 2, 2, 2, 100, 400, true);   /* k'=2, data 2 held */
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, bad[nb++], rec, 1), 0);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.drop_bad_piece, nb - 1);
	CU_ASSERT_EQUAL(st.data_in, 2);
	CU_ASSERT_EQUAL(st.parity_in, 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 2);
	for (unsigned int i = 0; i < nb; i++)
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(bad[i]), 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(good[0]), 2);
	/* reset: the open block is abandoned and its pieces released */
	CU_ASSERT_EQUAL(braid_fec_dec_reset(d, 0), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_reset(d, 2), -ENOENT);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(good[0]), 1);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_abandoned, 1);
	for (unsigned int i = 0; i < nb; i++)
		rte_pktmbuf_free(bad[i]);
	rte_pktmbuf_free(good[0]);
	rte_pktmbuf_free(good[1]);
	rte_pktmbuf_free(plain);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* The window of open blocks: eviction, late pieces, block id wrap, reset
 * for a new session; a parity recognised by pkt_type alone. */
static void
test_decoder_window(void)
{
	struct braid_fec_dec *d = mk_dec(1, 4);
	struct braid_fec_enc *e = mk_enc(1, 2, 1, false);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M], *p[6];
	struct braid_fec_dec_class_stats st;
	uint64_t rng = g_seed ^ 0xcdcd;
	struct tblock tb[4];
	uint16_t lens[2] = { 500, 600 };

	CU_ASSERT_FATAL(d != NULL && e != NULL);
	/* blocks 0..3 open with one data piece each (k=2) */
	for (unsigned int b = 0; b < 4; b++) {
		p[b] = mk_piece(0, b, 0, 2, 1, 10 * b, 100, false);
		CU_ASSERT_EQUAL(braid_fec_dec_one(d, p[b], rec, 100 + b), 0);
	}
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 4);
	/* block 4 takes block 0's slot: block 0 is abandoned */
	p[4] = mk_piece(0, 4, 0, 2, 1, 40, 100, false);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, p[4], rec, 200), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[0]), 1);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 4);
	/* block 0 is now too old: late */
	p[5] = mk_piece(0, 0, 1, 2, 1, 1, 100, false);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, p[5], rec, 201), 0);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(p[5]), 1);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.blocks_abandoned, 1);
	CU_ASSERT_EQUAL(st.pieces_late, 1);
	/* timeouts go oldest first: blocks 1..3 opened at 101..103 */
	CU_ASSERT_EQUAL(braid_fec_dec_poll(d, 102 + DEC_TIMEOUT_NS), 2);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 2);
	/* new session: everything forgotten, block ids start again */
	CU_ASSERT_EQUAL(braid_fec_dec_reset(d, UINT16_MAX), 0);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	for (unsigned int i = 0; i < 6; i++)
		rte_pktmbuf_free(p[i]);

	/* block ids across 2^32: 0xfffffffe, 0xffffffff, 0, 1 */
	for (unsigned int b = 0; b < 4; b++) {
		memset(&tb[b], 0, sizeof(tb[b]));
		tb[b].k = tb[b].kp = 2;
		tb[b].m = 1;
		tb[b].first_seq = 0xfffffffc + 2 * b;
		enc_block(e, &tb[b], lens, 1000, &rng);
		tb[b].block_id = 0xfffffffe + b;
		for (unsigned int q = 0; q < 3; q++)
			braid_meta(piece_of(&tb[b], q))->block_id = tb[b].block_id;
		/* parity known by pkt_type only */
		braid_meta(tb[b].par[0])->flags = 0;
	}
	/* interleaved: data 1 of each (data 0 lost), then parity of each */
	for (unsigned int b = 0; b < 4; b++)
		CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb[b].data[1], rec, 2000), 0);
	for (unsigned int b = 0; b < 4; b++) {
		CU_ASSERT_EQUAL_FATAL(braid_fec_dec_one(d, tb[b].par[0], rec, 2001), 1);
		check_recovered(&tb[b], rec[0]);
		CU_ASSERT_EQUAL(braid_meta(rec[0])->block_idx, 0);
		rte_pktmbuf_free(rec[0]);
	}
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	for (unsigned int b = 0; b < 4; b++)
		free_block(&tb[b]);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* Recovery with the pool empty is retried on the next piece. */
static void
test_decoder_no_mbuf(void)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("fec_dtiny", 3, 0, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   SOCKET_ID_ANY);
	struct braid_fec_enc *e = mk_enc(1, 4, 3, false);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M], *hold[3];
	struct braid_fec_dec_conf c;
	struct braid_fec_dec *d;
	struct braid_fec_dec_class_stats st;
	uint16_t lens[4] = { 100, 200, 300, 400 };
	uint64_t rng = g_seed ^ 0xefef;
	struct tblock tb;

	CU_ASSERT_FATAL(tiny != NULL && e != NULL);
	memset(&c, 0, sizeof(c));
	c.n_classes = 1;
	c.max_blocks = 8;
	c.timeout_ns = DEC_TIMEOUT_NS;
	c.pool = tiny;
	c.data_pkt_type = DATA_TYPE;
	d = braid_fec_dec_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(d != NULL);
	memset(&tb, 0, sizeof(tb));
	tb.k = tb.kp = 4;
	tb.m = 3;
	enc_block(e, &tb, lens, 1, &rng);
	CU_ASSERT_EQUAL(rte_pktmbuf_alloc_bulk(tiny, hold, 3), 0);
	/* data 0, 1 lost: data 2, 3, parity 0, 1 complete the set */
	braid_fec_dec_one(d, tb.data[2], rec, 1);
	braid_fec_dec_one(d, tb.data[3], rec, 1);
	braid_fec_dec_one(d, tb.par[0], rec, 1);
	CU_ASSERT_EQUAL(braid_fec_dec_one(d, tb.par[1], rec, 1), 0);
	braid_fec_dec_class_stats(d, 0, &st);
	CU_ASSERT_EQUAL(st.drop_no_mbuf, 1);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 4);
	rte_pktmbuf_free_bulk(hold, 3);
	CU_ASSERT_EQUAL_FATAL(braid_fec_dec_one(d, tb.par[2], rec, 2), 2);
	check_recovered(&tb, rec[0]);
	check_recovered(&tb, rec[1]);
	rte_pktmbuf_free_bulk(rec, 2);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0);
	free_block(&tb);
	braid_fec_dec_free(d);
	braid_fec_enc_free(e);
	rte_mempool_free(tiny);
	assert_pool_clean();
}

/* ------------------------------------------------------------------ */
/* end to end: encoder stage -> lossy, shuffled links -> decoder stage */
/* ------------------------------------------------------------------ */

#define STREAM_PKTS 6000
#define STREAM_CLASSES 3

struct sblock {
	uint8_t kp, m, data_seen, par_seen;
	uint64_t lost;        /* data indices lost */
	uint64_t recovered;   /* data indices recovered */
	uint32_t first_seq;
};

static void
test_stream_end_to_end(void)
{
	static const uint8_t km[STREAM_CLASSES][2] = { {4, 2}, {10, 3}, {0, 0} };
	static struct rte_mbuf *sent[STREAM_CLASSES][STREAM_PKTS];
	static struct sblock blocks[STREAM_CLASSES][STREAM_PKTS];
	static struct braid_burst dout;
	unsigned int nsent[STREAM_CLASSES] = { 0 }, nblocks[STREAM_CLASSES] = { 0 };
	struct braid_fec_enc_conf ec;
	struct braid_fec_enc *e;
	struct braid_fec_dec *d = mk_dec(STREAM_CLASSES, 256);
	const struct braid_stage_ops *eops = &braid_fec_enc_stage_ops;
	const struct braid_stage_ops *dops = &braid_fec_dec_stage_ops;
	uint64_t rng = g_seed ^ 0x5151;
	uint64_t now = 1000000;
	unsigned int lost_total = 0, rec_total = 0, expect_rec = 0, delivered = 0;
	unsigned int uncoverable = 0;

	memset(&ec, 0, sizeof(ec));
	ec.n_classes = STREAM_CLASSES;
	for (unsigned int c = 0; c < STREAM_CLASSES; c++)
		ec.classes[c] = (struct braid_fec_class_conf){ .k = km[c][0],
			.m = km[c][1], .timeout_ns = 300000 };
	ec.n_links = 3;
	ec.pool = g_pool;
	ec.parity_pkt_type = PAR_TYPE;
	e = braid_fec_enc_create(&ec, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(e != NULL && d != NULL);
	CU_ASSERT_STRING_EQUAL(dops->kind, "fec_decode");

	for (unsigned int done = 0; done < STREAM_PKTS;) {
		struct rte_mbuf *in[BRAID_BURST];
		unsigned int n = 1 + rnd(&rng, 8);
		uint8_t order[BRAID_BURST_OUT_MAX > 255 ? 255 : BRAID_BURST_OUT_MAX];
		struct rte_mbuf *arrive[255];
		unsigned int na = 0;

		n = RTE_MIN(n, STREAM_PKTS - done);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int c = rnd(&rng, STREAM_CLASSES);

			in[i] = mk_simple((uint16_t)(20 + rnd(&rng, 1481)), (uint16_t)c,
					  nsent[c], (uint16_t)rnd(&rng, 3));
			rte_mbuf_refcnt_update(in[i], 1); /* the test's copy */
			sent[c][nsent[c]++] = in[i];
		}
		done += n;
		now += rnd(&rng, 150000);
		g_out.n = 0;
		eops->process(e, in, (uint16_t)n, &g_out, now);
		eops->poll(e, &g_out, now);
		if (done == STREAM_PKTS)
			while (eops->drain(e, &g_out, now) != 0)
				;
		/* the links: record, lose 8 % of pieces, shuffle the rest */
		for (unsigned int i = 0; i < g_out.n; i++) {
			struct rte_mbuf *m = g_out.pkts[i];
			struct braid_meta *md = braid_meta(m);
			unsigned int c = md->class_id;
			bool lose = rnd(&rng, 100) < 8;

			if (md->fec_k != 0) {
				struct sblock *b = &blocks[c][md->block_id];

				CU_ASSERT_FATAL(md->block_id < STREAM_PKTS);
				nblocks[c] = RTE_MAX(nblocks[c], md->block_id + 1);
				if (md->flags & BRAID_META_F_PARITY) {
					b->kp = md->fec_k;
					b->m = md->fec_m;
					b->first_seq = md->seq;
					if (!lose)
						b->par_seen++;
				} else if (lose) {
					b->lost |= 1ULL << md->block_idx;
				} else {
					b->data_seen++;
				}
			}
			if (lose) {
				if (!(md->flags & BRAID_META_F_PARITY))
					lost_total++;
				rte_pktmbuf_free(m);
				continue;
			}
			arrive[na] = m;
			order[na] = (uint8_t)na;
			na++;
		}
		shuffle(order, na, &rng);
		for (unsigned int i = 0; i < na;) {
			struct rte_mbuf *batch[BRAID_BURST];
			unsigned int nb = RTE_MIN(na - i, (unsigned int)BRAID_BURST);

			for (unsigned int x = 0; x < nb; x++)
				batch[x] = arrive[order[i + x]];
			i += nb;
			dout.n = 0;
			dops->process(d, batch, (uint16_t)nb, &dout, now);
			for (unsigned int x = 0; x < dout.n; x++) {
				struct rte_mbuf *m = dout.pkts[x];
				struct braid_meta *md = braid_meta(m);
				bool is_rec = true;

				CU_ASSERT_FATAL(!(md->flags & BRAID_META_F_PARITY));
				for (unsigned int y = 0; y < nb; y++)
					is_rec &= batch[y] != m;
				if (is_rec) {
					struct rte_mbuf *o;

					CU_ASSERT_FATAL(md->class_id < STREAM_CLASSES &&
							md->seq < nsent[md->class_id]);
					o = sent[md->class_id][md->seq];
					CU_ASSERT(braid_meta(o)->block_id == md->block_id);
					CU_ASSERT(braid_meta(o)->block_idx == md->block_idx);
					CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m),
							rte_pktmbuf_data_len(o));
					CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, void *),
							 rte_pktmbuf_mtod(o, void *),
							 rte_pktmbuf_data_len(o)) == 0);
					blocks[md->class_id][md->block_id].recovered |=
						1ULL << md->block_idx;
					rec_total++;
				}
				delivered++;
				rte_pktmbuf_free(m);
			}
		}
		dops->poll(d, &dout, now);
	}
	/* every block that kept >= k' pieces had its losses rebuilt */
	for (unsigned int c = 0; c < STREAM_CLASSES; c++)
		for (unsigned int b = 0; b < nblocks[c]; b++) {
			const struct sblock *s = &blocks[c][b];

			if (s->lost == 0)
				continue;
			if (s->kp != 0 && s->data_seen + s->par_seen >= s->kp) {
				/* every lost piece rebuilt; more only when the
				 * decoder beat a reordered data piece to it */
				CU_ASSERT_EQUAL(s->recovered & s->lost, s->lost);
				expect_rec += __builtin_popcountll(s->lost);
			} else {
				CU_ASSERT_EQUAL(s->recovered, 0);
				uncoverable++;
			}
		}
	printf("\n  stream: %u packets, %u lost, %u recovered, %u blocks beyond repair\n",
	       STREAM_PKTS, lost_total, rec_total, uncoverable);
	CU_ASSERT(rec_total >= expect_rec);
	CU_ASSERT(expect_rec > 0);
	CU_ASSERT_EQUAL(delivered, STREAM_PKTS - lost_total + rec_total);
	CU_ASSERT_EQUAL(stage_stat(dops, d, "pieces_recovered"), rec_total);
	CU_ASSERT_EQUAL(stage_stat(dops, d, "drop_bad_piece"), 0);
	CU_ASSERT_EQUAL(stage_stat(dops, d, "drop_out_full"), 0);
	CU_ASSERT_EQUAL(stage_stat(eops, e, "drop_out_full"), 0);
	CU_ASSERT(stage_stat(eops, e, "blocks_timeout") > 0);
	CU_ASSERT_EQUAL(stage_stat(eops, e, "blocks_cut"), 0); /* seqs consecutive */
	CU_ASSERT(stage_stat(eops, e, "blocks_full") > 0);
	CU_ASSERT_EQUAL(braid_fec_enc_held(e), 0);
	dops->drain(d, &dout, now);
	CU_ASSERT_EQUAL(braid_fec_dec_held(d), 0);
	for (unsigned int c = 0; c < STREAM_CLASSES; c++)
		for (unsigned int i = 0; i < nsent[c]; i++)
			rte_pktmbuf_free(sent[c][i]);
	braid_fec_enc_free(e);
	braid_fec_dec_free(d);
	assert_pool_clean();
}

/* ------------------------------------------------------------------ */

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	g_pool = rte_pktmbuf_pool_create("fec_test", POOL_SIZE, 0, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (g_pool == NULL)
		return -1;
	g_seed = braid_test_seed(0x5eedfec0ULL);
	printf("\n  fec seed=0x%" PRIx64 " (BRAID_TEST_SEED)\n", g_seed);
	return 0;
}


/* ---- automatic shape (braid_fec_auto.h) ---------------------------------- */

/* Scalar reference: the tail summed term by term from exact binomial
 * coefficients (doubles hold C(48, i) exactly enough here). */
static double
ref_block_fail(unsigned int k, unsigned int m, double p)
{
	unsigned int n = k + m;
	double tail = 0.0;

	for (unsigned int i = m + 1; i <= n; i++) {
		double c = 1.0;

		for (unsigned int j = 0; j < i; j++)
			c = c * (double)(n - j) / (double)(j + 1);
		tail += c * pow(p, i) * pow(1.0 - p, n - i);
	}
	return tail;
}

static void
test_auto_block_fail(void)
{
	uint64_t seed = 0xfeca0070;

	printf("\n  seed 0x%" PRIx64 "\n", seed);
	for (int i = 0; i < 20000; i++) {
		unsigned int k = 1 + (unsigned int)(braid_test_rand(&seed) % 32);
		unsigned int m = 1 + (unsigned int)(braid_test_rand(&seed) % 16);
		double p = (double)(braid_test_rand(&seed) % 500001) / 1e6;
		double got = braid_fec_block_fail(k, m, p), want = ref_block_fail(k, m, p);

		CU_ASSERT_TRUE(fabs(got - want) <= 1e-12 + 1e-9 * want);
	}
	CU_ASSERT_EQUAL(braid_fec_block_fail(10, 2, 0.0), 0.0);
	/* 10+2 at 5 %: 1 - (0.95^12 + 12 0.05 0.95^11 + 66 0.05^2 0.95^10). */
	CU_ASSERT_DOUBLE_EQUAL(braid_fec_block_fail(10, 2, 0.05), 0.0195683, 1e-6);
}

/* The reference choice: every shape within the ceiling, the cheapest that
 * meets the target (smaller k on a tie), else the most robust. */
static struct braid_fec_shape
ref_pick(const struct braid_fec_auto_in *in)
{
	unsigned int kmax = braid_fec_auto_max_k(in);
	double p = braid_fec_auto_design_loss(in->loss_ppm);
	double target = in->arq_fits ? BRAID_FEC_AUTO_TARGET_ARQ : BRAID_FEC_AUTO_TARGET_NO_ARQ;
	struct braid_fec_shape best = { 0, 0 }, robust = { 0, 0 };
	double robust_f = 2.0;

	for (unsigned int k = 1; k <= kmax; k++)
		for (unsigned int m = 1; m <= BRAID_FEC_AUTO_MAX_M; m++) {
			double f;

			if (m * 100 > (unsigned int)in->max_overhead_pct * k)
				continue;
			f = ref_block_fail(k, m, p);
			if (f <= target && (best.k == 0 || m * best.k < best.m * k))
				best = (struct braid_fec_shape){ (uint8_t)k, (uint8_t)m };
			if (f < robust_f * (1 - 1e-9))
				robust = (struct braid_fec_shape){ (uint8_t)k, (uint8_t)m },
				robust_f = f;
		}
	if (best.k != 0)
		return best;
	if (robust.k != 0)
		return robust;
	return (struct braid_fec_shape){ (uint8_t)kmax, 1 };
}

static void
test_auto_pick(void)
{
	struct braid_fec_auto_in in = { .loss_ppm = 0, .pkt_rate = 1900,
		.deadline_ms = 150, .arq_fits = true, .max_overhead_pct = 25 };
	uint64_t seed = 0xa070f3c;
	struct braid_fec_shape s;
	double f;

	/* Clean links, 1 900 packets/s: one parity per 20 (5 %). */
	s = braid_fec_auto_pick(&in, &f);
	CU_ASSERT_EQUAL(s.k, 20);
	CU_ASSERT_EQUAL(s.m, 1);
	/* 5 % random loss: within 25 %, below the 1 % target. */
	in.loss_ppm = 50000;
	s = braid_fec_auto_pick(&in, &f);
	CU_ASSERT_TRUE(s.m * 100 <= 25 * s.k);
	CU_ASSERT_TRUE(f <= BRAID_FEC_AUTO_TARGET_ARQ);
	CU_ASSERT_TRUE(s.m >= 2);
	/* A slow class: blocks of at least 4. */
	in.pkt_rate = 50;
	CU_ASSERT_EQUAL(braid_fec_auto_max_k(&in), 4);
	/* 20 % loss cannot be met within 25 %: the most robust shape there. */
	in.pkt_rate = 1900;
	in.loss_ppm = 200000;
	s = braid_fec_auto_pick(&in, &f);
	CU_ASSERT_TRUE(s.m * 100 <= 25 * s.k);
	CU_ASSERT_TRUE(f > BRAID_FEC_AUTO_TARGET_ARQ);

	printf("\n  seed 0x%" PRIx64 "\n", seed);
	for (int i = 0; i < 3000; i++) {
		struct braid_fec_shape want;

		in.loss_ppm = (uint32_t)(braid_test_rand(&seed) % 300001);
		in.pkt_rate = (uint32_t)(braid_test_rand(&seed) % 5000);
		in.deadline_ms = 1 + (uint32_t)(braid_test_rand(&seed) % 1000);
		in.arq_fits = braid_test_rand(&seed) & 1;
		in.max_overhead_pct = (uint8_t)(1 + braid_test_rand(&seed) % 100);
		s = braid_fec_auto_pick(&in, NULL);
		want = ref_pick(&in);
		/* Same cost; a different k only where both cost alike. */
		CU_ASSERT_TRUE(s.m * want.k == want.m * s.k);
		if (s.m * want.k != want.m * s.k)
			printf("  loss %u rate %u deadline %u arq %d cap %u: %u+%u, ref %u+%u\n",
			       in.loss_ppm, in.pkt_rate, in.deadline_ms, in.arq_fits,
			       in.max_overhead_pct, s.k, s.m, want.k, want.m);
	}
}

/* Hysteresis on a virtual clock: up at once, down after the hold, no
 * flapping when the loss jitters around a shape's threshold. */
static void
test_auto_step(void)
{
	struct braid_fec_auto_in in = { .loss_ppm = 0, .pkt_rate = 1900,
		.deadline_ms = 150, .arq_fits = true, .max_overhead_pct = 25 };
	const uint64_t ms = 1000000;
	struct braid_fec_auto a;
	struct braid_fec_shape next;
	uint64_t t = 1000 * ms;
	unsigned int changes = 0;

	braid_fec_auto_init(&a, (struct braid_fec_shape){ 10, 2 });
	/* Clean: 20+1 only after the hold. */
	CU_ASSERT_FALSE(braid_fec_auto_step(&a, &in, t, &next));
	CU_ASSERT_FALSE(braid_fec_auto_step(&a, &in, t + 2900 * ms, &next));
	CU_ASSERT_TRUE(braid_fec_auto_step(&a, &in, t + 3000 * ms, &next));
	CU_ASSERT_EQUAL(next.k, 20);
	CU_ASSERT_EQUAL(next.m, 1);
	CU_ASSERT_EQUAL(a.downs, 1);
	/* 5 % loss: more parity on the next step. */
	t += 4000 * ms;
	in.loss_ppm = 50000;
	CU_ASSERT_TRUE(braid_fec_auto_step(&a, &in, t, &next));
	CU_ASSERT_EQUAL(a.ups, 1);
	CU_ASSERT_TRUE(braid_fec_block_fail(next.k, next.m,
		braid_fec_auto_design_loss(in.loss_ppm)) <= BRAID_FEC_AUTO_TARGET_ARQ);
	/* Loss alternating 4 % / 6 % every second for a minute: at most one
	 * more change (up to what 6 % needs), then it holds. */
	for (int i = 0; i < 600; i++) {
		in.loss_ppm = (i / 10) % 2 ? 60000 : 40000;
		changes += braid_fec_auto_step(&a, &in, t + (uint64_t)i * 100 * ms, &next);
	}
	CU_ASSERT_TRUE(changes <= 1);
	/* A link out: the ceiling falls under the shape in use, which gives
	 * way at once, to one within it. */
	in.max_overhead_pct = 10;
	CU_ASSERT_TRUE(braid_fec_auto_step(&a, &in, t + 60000 * ms + 1, &next));
	CU_ASSERT_TRUE(next.m * 100 <= 10 * next.k);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("fec", suite_init, NULL);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "gf arithmetic: reference vs ISA-L", test_gf_ref_vs_isal) == NULL ||
	    CU_add_test(s, "ISA-L encode vs scalar reference", test_isal_encode_vs_ref) == NULL ||
	    CU_add_test(s, "stage parity vs reference pieces", test_stage_parity_vs_ref) == NULL ||
	    CU_add_test(s, "random erasures round trip", test_roundtrip_random) == NULL ||
	    CU_add_test(s, "all erasure patterns, small codes", test_exhaustive_small) == NULL ||
	    CU_add_test(s, "too few pieces: abandoned", test_too_few_pieces_abandoned) == NULL ||
	    CU_add_test(s, "shortened block", test_shortened_block) == NULL ||
	    CU_add_test(s, "duplicate pieces", test_duplicates) == NULL ||
	    CU_add_test(s, "stage: block closes on k", test_stage_full_block) == NULL ||
	    CU_add_test(s, "stage: block timeout, drain", test_stage_timeout) == NULL ||
	    CU_add_test(s, "stage: automatic block timeout", test_stage_auto_timeout) == NULL ||
	    CU_add_test(s, "stage: skips, cuts, pass-through", test_stage_skip_and_pass) == NULL ||
	    CU_add_test(s, "stage: no parity mbuf", test_stage_no_mbuf) == NULL ||
	    CU_add_test(s, "stage: parity placement", test_parity_placement) == NULL ||
	    CU_add_test(s, "stage: in place vs copy", test_inplace_vs_copy) == NULL ||
	    CU_add_test(s, "stage: policy change", test_set_class) == NULL ||
	    CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "decoder: bad pieces", test_decoder_bad_pieces) == NULL ||
	    CU_add_test(s, "decoder stage: peer restart", test_decoder_session) == NULL ||
	    CU_add_test(s, "decoder: window, wrap, reset", test_decoder_window) == NULL ||
	    CU_add_test(s, "decoder: no mbuf, retry", test_decoder_no_mbuf) == NULL ||
	    CU_add_test(s, "end to end stream", test_stream_end_to_end) == NULL ||
	    CU_add_test(s, "auto: block failure probability", test_auto_block_fail) == NULL ||
	    CU_add_test(s, "auto: shape choice", test_auto_pick) == NULL ||
	    CU_add_test(s, "auto: hysteresis", test_auto_step) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("fec", register_tests);
}
