/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FEC micro-benchmarks (cycles from the TSC, data in cache):
 *  1. ISA-L ec_encode_data alone, RS(10,4) and RS(4,2) over 1400 B:
 *     cycles per data packet and GB/s of data encoded;
 *  2. the "fec" stage, 1400 B packets, in place and copied, at bursts of
 *     1, 8 and 32: cycles per data packet (block membership, references,
 *     parity allocation, encode, parity meta and placement, release; the
 *     loop also sets each packet's seq and frees the parity, as sched and
 *     TX would);
 *  3. the decoder: cycles per piece for loss-free blocks, and per block
 *     for 1 and m lost data pieces (RS(10,4), RS(4,2), RS(32,16)).
 *
 * Each figure is the best of REPEAT runs (shared machines).
 * Usage: perf_fec [EAL args] [-- iterations-scale]
 * Prints one line per figure: "perf_fec <name> <value> <unit>".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "braid_fec.h"
#include "braid_meta.h"
#include "perf_common.h"

#define PKT_LEN 1400
#define RING_PKTS 128
/* Each figure is the best of REPEAT runs: the machines are shared. */
#define REPEAT 5

static struct rte_mempool *pool;
static struct braid_burst out;
static unsigned int scale = 1;
static bool failed;

static void
report(const char *name, double v, const char *unit)
{
	printf("perf_fec %-40s %10.2f %s\n", name, v, unit);
}

static void
bench_isal(unsigned int k, unsigned int m)
{
	/* rows 64-byte aligned, like mbuf data and the stage's scratch */
	static uint8_t buf[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M][RTE_ALIGN_CEIL(PKT_LEN + 2, 64)]
		__rte_cache_aligned;
	uint8_t mat[(BRAID_FEC_MAX_K + BRAID_FEC_MAX_M) * BRAID_FEC_MAX_K];
	static uint8_t tbls[32 * BRAID_FEC_MAX_K * BRAID_FEC_MAX_M];
	uint8_t *src[BRAID_FEC_MAX_K], *dst[BRAID_FEC_MAX_M];
	const unsigned int iters = 50000 * scale;
	const unsigned int len = PKT_LEN + 2;
	uint64_t t0, cyc;
	char name[64];

	for (unsigned int i = 0; i < k; i++) {
		src[i] = buf[i];
		for (unsigned int x = 0; x < len; x++)
			buf[i][x] = (uint8_t)(x * 7 + i);
	}
	for (unsigned int j = 0; j < m; j++)
		dst[j] = buf[BRAID_FEC_MAX_K + j];
	gf_gen_cauchy1_matrix(mat, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, &mat[k * k], tbls);
	for (unsigned int i = 0; i < 1000; i++)
		ec_encode_data((int)len, (int)k, (int)m, tbls, src, dst);
	cyc = UINT64_MAX;
	for (unsigned int rep = 0; rep < REPEAT; rep++) {
		t0 = rte_rdtsc_precise();
		for (unsigned int i = 0; i < iters; i++)
			ec_encode_data((int)len, (int)k, (int)m, tbls, src, dst);
		cyc = RTE_MIN(cyc, rte_rdtsc_precise() - t0);
	}
	snprintf(name, sizeof(name), "isal_encode_rs%u_%u_cyc_per_pkt", k, m);
	report(name, (double)cyc / ((double)iters * k), "cycles");
	snprintf(name, sizeof(name), "isal_encode_rs%u_%u_data_rate", k, m);
	report(name, (double)iters * k * PKT_LEN /
	       ((double)cyc / (double)rte_get_tsc_hz()) / 1e9, "GB/s");
}

static void
bench_stage(unsigned int k, unsigned int m, bool copy, unsigned int burst)
{
	struct braid_fec_enc_conf c;
	struct braid_fec_enc *e;
	struct rte_mbuf *ring[RING_PKTS];
	const unsigned int pkts = 100000 * scale;
	unsigned int next = 0;
	uint32_t seq = 0;
	uint64_t t0, cyc, now = 1;
	char name[96];

	memset(&c, 0, sizeof(c));
	c.n_classes = 1;
	c.classes[0] = (struct braid_fec_class_conf){ .k = (uint8_t)k,
		.m = (uint8_t)m, .timeout_ns = 1000000000ULL };
	c.n_links = 3;
	c.pool = pool;
	c.parity_pkt_type = 2;
	c.always_copy = copy;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	if (e == NULL) {
		fprintf(stderr, "perf_fec: encoder: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	/* packets as classify leaves them (Ethernet stripped), cycled: a
	 * packet comes back only after its block closed, so its only owner
	 * is the benchmark again (as after TX) */
	for (unsigned int i = 0; i < RING_PKTS; i++) {
		struct braid_meta *md;

		ring[i] = rte_pktmbuf_alloc(pool);
		if (ring[i] == NULL || rte_pktmbuf_append(ring[i], 14 + PKT_LEN) == NULL)
			exit(1);
		rte_pktmbuf_adj(ring[i], 14);
		memset(rte_pktmbuf_mtod(ring[i], void *), (int)i, PKT_LEN);
		md = braid_meta(ring[i]);
		memset(md, 0, sizeof(*md));
		md->link_id = (uint16_t)(i % 3);
	}
	cyc = UINT64_MAX;
	for (unsigned int rep = 0; rep <= REPEAT; rep++) {
		const unsigned int n_pkts = rep == 0 ? pkts / 10 : pkts;
		uint64_t c1;

		t0 = rte_rdtsc_precise();
		for (unsigned int done = 0; done < n_pkts; done += burst) {
			struct rte_mbuf *in[BRAID_BURST];

			for (unsigned int i = 0; i < burst; i++) {
				in[i] = ring[next];
				braid_meta(in[i])->seq = seq++;
				next = (next + 1) % RING_PKTS;
			}
			out.n = 0;
			braid_fec_enc_burst(e, in, (uint16_t)burst, &out, now++);
			/* the data stays ours (ring); parity goes, as after TX
			 * (a block closing mid-burst puts its parity between
			 * data packets) */
			for (unsigned int i = 0; i < out.n; i++)
				if (braid_meta(out.pkts[i])->flags & BRAID_META_F_PARITY)
					rte_pktmbuf_free(out.pkts[i]);
		}
		c1 = rte_rdtsc_precise() - t0;
		if (rep != 0) /* rep 0 warms up */
			cyc = RTE_MIN(cyc, c1);
	}
	snprintf(name, sizeof(name), "stage_rs%u_%u_%s_burst%u_cyc_per_pkt",
		 k, m, copy ? "copy" : "inplace", burst);
	report(name, (double)cyc / pkts, "cycles");
	{
		struct braid_fec_enc_class_stats st;

		braid_fec_enc_class_stats(e, 0, &st);
		/* the figure is only worth something if every block was a
		 * full one, coded the way the name says */
		if ((!copy && st.copied != 0) ||
		    st.parity_sent != st.blocks_full * m ||
		    st.data_protected != st.blocks_full * k) {
			fprintf(stderr, "perf_fec: %s: %" PRIu64 " full blocks, %" PRIu64
				" parity, %" PRIu64 " copied\n",
				name, st.blocks_full, st.parity_sent, st.copied);
			failed = true;
		}
	}
	out.n = 0;
	braid_fec_enc_flush(e, &out, now);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	if (rte_mempool_in_use_count(pool) != RING_PKTS) {
		fprintf(stderr, "perf_fec: %s: %u mbufs in use, expected %u\n",
			name, rte_mempool_in_use_count(pool), RING_PKTS);
		failed = true;
	}
	braid_fec_enc_free(e);
	rte_pktmbuf_free_bulk(ring, RING_PKTS);
}

/* Decoder: blocks produced once by the encoder, replayed under new block
 * ids with @p lost data pieces missing. */
static void
bench_decoder(unsigned int k, unsigned int m, unsigned int lost)
{
	struct braid_fec_enc_conf c;
	struct braid_fec_dec_conf dc;
	struct braid_fec_enc *e;
	struct braid_fec_dec *d;
	struct rte_mbuf *pieces[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M];
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	const unsigned int blocks = (k > 16 ? 2000 : 20000) * scale / (lost ? 4 : 1);
	uint64_t t0, cyc, offered = 0;
	char name[96];

	memset(&c, 0, sizeof(c));
	c.n_classes = 1;
	c.classes[0] = (struct braid_fec_class_conf){ .k = (uint8_t)k,
		.m = (uint8_t)m, .timeout_ns = 1000000000ULL };
	c.n_links = 1;
	c.pool = pool;
	c.parity_pkt_type = 2;
	e = braid_fec_enc_create(&c, SOCKET_ID_ANY);
	memset(&dc, 0, sizeof(dc));
	dc.n_classes = 1;
	dc.max_blocks = 64;
	dc.timeout_ns = 1000000000ULL;
	dc.pool = pool;
	dc.parity_pkt_type = 2;
	d = braid_fec_dec_create(&dc, SOCKET_ID_ANY);
	if (e == NULL || d == NULL)
		exit(1);
	for (unsigned int i = 0; i < k; i++) {
		pieces[i] = rte_pktmbuf_alloc(pool);
		if (pieces[i] == NULL || rte_pktmbuf_append(pieces[i], PKT_LEN) == NULL)
			exit(1);
		memset(rte_pktmbuf_mtod(pieces[i], void *), (int)i, PKT_LEN);
		memset(braid_meta(pieces[i]), 0, sizeof(struct braid_meta));
		braid_meta(pieces[i])->seq = i;
	}
	out.n = 0;
	braid_fec_enc_burst(e, pieces, (uint16_t)k, &out, 1);
	if (out.n != k + m)
		exit(1);
	for (unsigned int j = 0; j < m; j++)
		pieces[k + j] = out.pkts[k + j];

	cyc = UINT64_MAX;
	for (unsigned int rep = 0, id = 0; rep < REPEAT; rep++) {
		offered = 0;
		t0 = rte_rdtsc_precise();
		for (unsigned int b = 0; b < blocks; b++, id++) {
			for (unsigned int p = 0; p < k + m; p++)
				braid_meta(pieces[p])->block_id = id;
			for (unsigned int p = lost; p < k + m; p++) {
				uint16_t r = braid_fec_dec_one(d, pieces[p], rec, id);

				offered++;
				if (r != 0) {
					rte_pktmbuf_free_bulk(rec, r);
					break;
				}
			}
		}
		cyc = RTE_MIN(cyc, rte_rdtsc_precise() - t0);
	}
	if (lost == 0) {
		snprintf(name, sizeof(name), "decode_rs%u_%u_no_loss_cyc_per_piece", k, m);
		report(name, (double)cyc / offered, "cycles");
	} else {
		snprintf(name, sizeof(name), "decode_rs%u_%u_lost%u_cyc_per_block", k, m, lost);
		report(name, (double)cyc / blocks, "cycles");
	}
	braid_fec_dec_free(d);
	braid_fec_enc_free(e);
	rte_pktmbuf_free_bulk(pieces, k + m);
}

int
main(int argc, char **argv)
{
	static const unsigned int bursts[] = { 1, 8, 32 };
	static const uint8_t codes[][2] = { {10, 4}, {4, 2} };

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	if (argc > 1) {
		char *end;
		unsigned long v = strtoul(argv[1], &end, 10);

		if (*end != '\0' || v == 0 || v > 1000) {
			fprintf(stderr, "perf_fec: scale must be 1..1000\n");
			return 1;
		}
		scale = (unsigned int)v;
	}
	if (braid_meta_register() != 0)
		return 1;
	pool = rte_pktmbuf_pool_create("perf_fec", 4095, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "perf_fec: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("perf_fec tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
	for (unsigned int c = 0; c < RTE_DIM(codes); c++)
		bench_isal(codes[c][0], codes[c][1]);
	for (unsigned int c = 0; c < RTE_DIM(codes); c++)
		for (unsigned int copy = 0; copy < 2; copy++)
			for (unsigned int b = 0; b < RTE_DIM(bursts); b++)
				bench_stage(codes[c][0], codes[c][1], copy, bursts[b]);
	for (unsigned int c = 0; c < RTE_DIM(codes); c++) {
		bench_decoder(codes[c][0], codes[c][1], 0);
		bench_decoder(codes[c][0], codes[c][1], 1);
		bench_decoder(codes[c][0], codes[c][1], codes[c][1]);
	}
	bench_decoder(32, 16, 1);
	bench_decoder(32, 16, 16);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
