/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perf_rtx: cycles per packet of the retransmit cache (lib/rtx) and the
 * receive-side reorder stage (lib/reorder).
 *
 *   perf_rtx [EAL args] [-- --iters ROUNDS --bursts N]
 *
 * Without EAL arguments it runs on lcore 0 with --no-huge -m 512.
 *
 * rtx: one ARQ class in steady state: a 1 s age window, a ring of W slots,
 * the virtual clock advancing so that about 0.9 W packets are cached, so
 * every stored packet is later released by age from poll(). Timed per
 * burst of 32 (rte_rdtsc around the call, the cost of an empty rdtsc pair
 * subtracted): process() (store: one refcount +1 per packet) and poll()
 * (expiry: one rte_pktmbuf_free per packet). The baseline ("ref FIFO") does
 * the same refcount +1 and, W packets later, the same free through a plain
 * array FIFO with no lookup structure: the floor for holding references.
 * Then lookups of random cached seqs and braid_rtx_serve() (one
 * rte_pktmbuf_clone) per call. mbuf allocation and the free of the passed
 * copy are outside the timed region.
 *
 * reorder: one class, buffer 1024, deadline 1 ms: push()+poll() per packet
 * for an in-order stream, and for bursts shuffled at random with 1% loss
 * (gaps skipped by the deadline). Each figure is the best of ROUNDS rounds
 * of N bursts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_meta.h"
#include "braid_reorder.h"
#include "braid_rtx.h"
#include "braid_test_rand.h"
#include "perf_common.h"

#define BURST 32

struct perf_opts {
	uint32_t iters;
	uint32_t bursts;
};

static struct braid_burst out;
static uint64_t sink;   /* keeps lookups from being optimised out */

static uint64_t
rdtsc_overhead(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = rte_rdtsc_precise();
		uint64_t t1 = rte_rdtsc_precise();

		best = RTE_MIN(best, t1 - t0);
	}
	return best;
}

static int
alloc_burst(struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t class_id,
	    uint32_t seq0, uint64_t now)
{
	if (rte_pktmbuf_alloc_bulk(mp, pkts, BURST) != 0)
		return -ENOMEM;
	for (int i = 0; i < BURST; i++) {
		struct braid_meta *md = braid_meta(pkts[i]);

		rte_pktmbuf_append(pkts[i], 64);
		memset(md, 0, sizeof(*md));
		md->class_id = class_id;
		md->seq = seq0 + (uint32_t)i;
		md->rx_ns = now;
	}
	return 0;
}

static void
out_free(void)
{
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	out.n = 0;
}

struct rtx_run {
	struct braid_rtx *c;
	uint32_t seq;
	uint64_t now;
	uint64_t step_ns;
};

/* n bursts through process() and poll(); adds the timed cycles. */
static int
rtx_bursts(struct rtx_run *rr, struct rte_mempool *mp, uint32_t n, uint64_t ovh,
	   uint64_t *cyc_proc, uint64_t *cyc_poll)
{
	struct rte_mbuf *pkts[BURST];

	for (uint32_t b = 0; b < n; b++) {
		uint64_t t0, t1, t2;

		if (alloc_burst(mp, pkts, 0, rr->seq, rr->now) != 0)
			return -ENOMEM;
		t0 = rte_rdtsc_precise();
		braid_rtx_burst(rr->c, pkts, BURST, &out, rr->now);
		t1 = rte_rdtsc_precise();
		out_free();
		t2 = rte_rdtsc_precise();
		braid_rtx_poll(rr->c, &out, rr->now);
		*cyc_poll += rte_rdtsc_precise() - t2 - ovh;
		*cyc_proc += t1 - t0 - ovh;
		rr->seq += BURST;
		rr->now += rr->step_ns * BURST;
	}
	return 0;
}

/* Baseline: the same references held in a plain FIFO of w entries. */
static int
fifo_bursts(struct rte_mbuf **fifo, uint32_t w, uint32_t *head,
	    struct rte_mempool *mp, uint32_t n, uint64_t ovh, uint64_t *cyc)
{
	struct rte_mbuf *pkts[BURST];

	for (uint32_t b = 0; b < n; b++) {
		uint64_t t0;

		if (alloc_burst(mp, pkts, 0, 0, 0) != 0)
			return -ENOMEM;
		t0 = rte_rdtsc_precise();
		for (int i = 0; i < BURST; i++) {
			struct rte_mbuf **slot = &fifo[*head];

			if (++*head == w)
				*head = 0;
			if (*slot != NULL)
				rte_pktmbuf_free(*slot);
			rte_pktmbuf_refcnt_update(pkts[i], 1);
			*slot = pkts[i];
		}
		*cyc += rte_rdtsc_precise() - t0 - ovh;
		rte_pktmbuf_free_bulk(pkts, BURST);
	}
	return 0;
}

static int
perf_rtx_window(struct rte_mempool *mp, struct rte_mempool *clones, uint32_t w,
		const struct perf_opts *o, uint64_t ovh, double hz)
{
	struct braid_rtx_class_conf cc = { .window_ms = 1000, .max_packets = w };
	char name[24];
	struct braid_rtx_conf conf = { .name = name, .n_classes = 1, .classes = &cc,
				       .clone_pool = clones };
	struct rtx_run rr = { .seq = 0xFFFF0000u, .now = 0 };
	double best_proc = 1e30, best_poll = 1e30, best_fifo = 1e30;
	double best_look = 1e30, best_serve = 1e30;
	struct rte_mbuf **fifo;
	uint32_t fhead = 0, hits = 0, looks = 0;
	uint64_t rs = 0x1234567;

	snprintf(name, sizeof(name), "perf_rtx_%u", w);
	rr.c = braid_rtx_create(&conf, SOCKET_ID_ANY);
	fifo = calloc(w, sizeof(*fifo));
	if (rr.c == NULL || fifo == NULL) {
		fprintf(stderr, "create: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	/* About 0.9 w packets per second of virtual time. */
	rr.step_ns = (uint64_t)(1e9 / (0.9 * w));
	{
		uint64_t a = 0, b = 0;

		if (rtx_bursts(&rr, mp, 2 * w / BURST + 1, ovh, &a, &b) != 0)
			goto nomem;
	}
	for (uint32_t it = 0; it < o->iters; it++) {
		uint64_t cp = 0, cq = 0, cf = 0, cl = 0, cs = 0;
		double np = (double)o->bursts * BURST;
		uint32_t cached = braid_rtx_cached(rr.c, 0);

		if (rtx_bursts(&rr, mp, o->bursts, ovh, &cp, &cq) != 0)
			goto nomem;
		best_proc = RTE_MIN(best_proc, (double)cp / np);
		best_poll = RTE_MIN(best_poll, (double)cq / np);

		for (uint32_t i = 0; i < o->bursts * BURST; i++) {
			uint32_t s = rr.seq - 1 - (uint32_t)(braid_test_rand(&rs) % cached);
			uint64_t t0 = rte_rdtsc_precise();
			struct rte_mbuf *m = braid_rtx_lookup(rr.c, 0, s, rr.now);

			cl += rte_rdtsc_precise() - t0 - ovh;
			hits += m != NULL;
			looks++;
			sink += (uintptr_t)m;
		}
		best_look = RTE_MIN(best_look, (double)cl / np);

		for (uint32_t i = 0; i < 256; i++) {
			uint32_t s = rr.seq - 1 - (uint32_t)(braid_test_rand(&rs) % (cached / 2));
			uint64_t t0 = rte_rdtsc_precise();
			struct rte_mbuf *m = braid_rtx_serve(rr.c, 0, s, 1, rr.now);

			cs += rte_rdtsc_precise() - t0 - ovh;
			rte_pktmbuf_free(m);
		}
		best_serve = RTE_MIN(best_serve, (double)cs / 256);

		if (fifo_bursts(fifo, (uint32_t)(0.9 * w), &fhead, mp, o->bursts, ovh,
				&cf) != 0)
			goto nomem;
		best_fifo = RTE_MIN(best_fifo, (double)cf / np);
	}
	printf("%8u %8u | %8.1f %8.1f %8.1f %8.2f | %9.1f | %8.1f %5.1f%% | %8.1f\n",
	       w, braid_rtx_cached(rr.c, 0), best_proc, best_poll,
	       best_proc + best_poll, hz / (best_proc + best_poll) / 1e6, best_fifo,
	       best_look, 100.0 * hits / looks, best_serve);
	braid_rtx_free(rr.c);
	for (uint32_t i = 0; i < w; i++)
		rte_pktmbuf_free(fifo[i]);
	free(fifo);
	return 0;
nomem:
	fprintf(stderr, "mbuf pool exhausted at window %u\n", w);
	return -1;
}

static int
perf_reorder(struct rte_mempool *mp, const struct perf_opts *o, uint64_t ovh,
	     double hz, bool shuffle)
{
	const struct braid_reorder_class_conf cc = {
		.dedup_window = 4096, .buf_size = 1024, .deadline_ns = 1000000,
	};
	struct braid_reorder_conf conf = {
		.name = shuffle ? "perf_ro_shuf" : "perf_ro_inorder",
		.n_classes = 1, .classes = &cc,
	};
	struct braid_reorder *r = braid_reorder_create(&conf, SOCKET_ID_ANY);
	struct braid_reorder_stats c;
	uint32_t seq = 0xFFFF0000u;
	uint64_t now = 0, rs = 0xfeed;
	double best = 1e30;

	if (r == NULL) {
		fprintf(stderr, "reorder create: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	for (uint32_t it = 0; it < o->iters + 1; it++) {
		uint64_t cyc = 0, n_in = 0;

		for (uint32_t b = 0; b < o->bursts; b++) {
			struct rte_mbuf *pkts[BURST];
			uint16_t n = BURST;
			uint64_t t0;

			if (alloc_burst(mp, pkts, 0, seq, now) != 0) {
				fprintf(stderr, "mbuf pool exhausted (reorder)\n");
				return -1;
			}
			if (shuffle) {
				for (int i = BURST - 1; i > 0; i--) {
					int j = (int)(braid_test_rand(&rs) % (uint64_t)(i + 1));
					struct rte_mbuf *t = pkts[i];

					pkts[i] = pkts[j];
					pkts[j] = t;
				}
				if (braid_test_rand(&rs) % 100 < 32) {   /* ~1% of packets */
					rte_pktmbuf_free(pkts[--n]);
				}
			}
			t0 = rte_rdtsc_precise();
			braid_reorder_burst(r, pkts, n, &out, now);
			braid_reorder_poll(r, &out, now);
			cyc += rte_rdtsc_precise() - t0 - ovh;
			n_in += n;
			out_free();
			seq += BURST;
			now += 1000 * BURST;   /* 1 us per packet */
		}
		if (it > 0)   /* the first round warms up */
			best = RTE_MIN(best, (double)cyc / (double)n_in);
	}
	braid_reorder_stats(r, &c);
	printf("%-22s | %8.1f %8.2f | in_order %" PRIu64 " reordered %" PRIu64
	       " lost %" PRIu64 "\n", shuffle ? "shuffled, 1% loss" : "in order",
	       best, hz / best / 1e6, c.in_order, c.reordered, c.lost);
	while (braid_reorder_drain(r, &out, now) != 0)
		out_free();
	braid_reorder_free(r);
	return 0;
}

static int
parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || x == 0 || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct perf_opts *o)
{
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return -EINVAL;
		}
		if (strcmp(argv[i], "--iters") == 0) {
			if (parse_u32(argv[++i], &o->iters) != 0)
				return -EINVAL;
		} else if (strcmp(argv[i], "--bursts") == 0) {
			if (parse_u32(argv[++i], &o->bursts) != 0)
				return -EINVAL;
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint32_t windows[] = { 1024, 16384, 65536 };
	struct perf_opts o = { .iters = 20, .bursts = 256 };
	struct rte_mempool *mp, *clones;
	uint64_t ovh;
	double hz;

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	if (parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	/* Small data room: the largest window holds 65536 packets. */
	mp = rte_pktmbuf_pool_create("perf_rtx", 2 * 65536 + 8192, 256, 0,
				     RTE_PKTMBUF_HEADROOM + 128, SOCKET_ID_ANY);
	clones = rte_pktmbuf_pool_create("perf_rtx_cl", 1023, 0, 0, 0, SOCKET_ID_ANY);
	if (mp == NULL || clones == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ovh = rdtsc_overhead();
	hz = (double)rte_get_tsc_hz();
	printf("perf_rtx: bursts of %d, %u bursts per round, best of %u rounds, "
	       "tsc %.0f MHz, rdtsc pair %" PRIu64 " cycles (subtracted)\n",
	       BURST, o.bursts, o.iters, hz / 1e6, ovh);
	printf("%8s %8s | %8s %8s %8s %8s | %9s | %8s %6s | %8s\n", "ring", "cached",
	       "store", "expire", "c/p", "Mpps", "ref FIFO", "lookup", "hit", "serve");
	for (unsigned int i = 0; i < RTE_DIM(windows); i++)
		if (perf_rtx_window(mp, clones, windows[i], &o, ovh, hz) < 0)
			return 1;
	printf("\nreorder (buffer 1024, deadline 1 ms): push+poll\n");
	printf("%-22s | %8s %8s |\n", "stream", "c/p", "Mpps");
	if (perf_reorder(mp, &o, ovh, hz, false) != 0 ||
	    perf_reorder(mp, &o, ovh, hz, true) != 0)
		return 1;
	if (rte_mempool_in_use_count(mp) != 0 || rte_mempool_in_use_count(clones) != 0) {
		fprintf(stderr, "mbuf leak: %u + %u in use\n",
			rte_mempool_in_use_count(mp), rte_mempool_in_use_count(clones));
		return 1;
	}
	printf("(sink %" PRIx64 ")\n", sink);
	rte_mempool_free(clones);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
