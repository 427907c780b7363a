/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sched micro-benchmark: TSC cycles per packet of enqueue + dequeue at
 * bursts of 1, 8 and 32; 4 DRR classes (weights 1..4, one with FEC 10+4),
 * 3 stripe links with capacity to spare, so the measure is the scheduler's
 * own work (DRR pick, link DRR, token buckets, meta writes), not pacing.
 * The same mbufs cycle through the scheduler: no allocation in the loop.
 *
 *   perf_sched [EAL args] [-- packets]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "braid_meta.h"
#include "braid_sched.h"
#include "perf_common.h"

#define N_CLASSES 4
#define N_LINKS 3
#define N_MBUFS 256
#define N_PRIME 128   /* packets kept queued: 32 per class */

static int
run(struct rte_mempool *mp, unsigned int burst, uint64_t n_pkts)
{
	struct braid_sched_conf c;
	struct braid_sched *s;
	struct rte_mbuf *pkts[N_MBUFS];
	struct rte_mbuf *out[64];
	uint64_t now = 0, done = 0, t0, t1;
	uint16_t k, got;

	memset(&c, 0, sizeof(c));
	c.n_classes = N_CLASSES;
	c.n_links = N_LINKS;
	for (unsigned int i = 0; i < N_CLASSES; i++) {
		c.classes[i].weight = i + 1;
		c.classes[i].queue_size = 1024;
	}
	c.classes[3].fec_k = 10;
	c.classes[3].fec_m = 4;
	for (unsigned int l = 0; l < N_LINKS; l++)
		c.links[l].capacity_kbps = BRAID_SCHED_CAPACITY_MAX_KBPS / (l + 1);
	s = braid_sched_create(&c, (int)rte_socket_id());
	if (s == NULL) {
		fprintf(stderr, "perf_sched: create: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_pktmbuf_alloc_bulk(mp, pkts, N_PRIME + burst) != 0) {
		braid_sched_free(s);
		return -1;
	}
	for (unsigned int i = 0; i < N_PRIME + burst; i++) {
		struct braid_meta *m = braid_meta(pkts[i]);

		rte_pktmbuf_append(pkts[i], (uint16_t)(64 + (i * 97) % 1400));
		memset(m, 0, sizeof(*m));
		m->class_id = (uint16_t)(i % N_CLASSES);
	}

	/* Backlog: every class holds packets, so each dequeue runs the DRR
	 * round over all of them. With 1024-packet queues and 400 Gbit/s
	 * links nothing is refused or held back: a short count is a bug. */
	if (braid_sched_enqueue(s, pkts, N_PRIME) != N_PRIME)
		rte_exit(EXIT_FAILURE, "perf_sched: priming refused\n");
	t0 = rte_rdtsc_precise();
	while (done < n_pkts) {
		k = braid_sched_enqueue(s, &pkts[N_PRIME], (uint16_t)burst);
		/* 1 us per round: the links never run dry. */
		now += 1000;
		got = braid_sched_dequeue(s, out, (uint16_t)burst, now);
		if (unlikely(k != burst || got != burst))
			rte_exit(EXIT_FAILURE, "perf_sched: burst %u: enqueued %u dequeued %u\n",
				 burst, k, got);
		/* The dequeued mbufs are the next input. */
		memcpy(&pkts[N_PRIME], out, burst * sizeof(out[0]));
		done += burst;
	}
	t1 = rte_rdtsc_precise();
	printf("burst %2u: %6.1f cycles/packet (enqueue + dequeue), %.2f Mpps at %.2f GHz\n",
	       burst, (double)(t1 - t0) / (double)done,
	       (double)done * (double)rte_get_tsc_hz() / (double)(t1 - t0) / 1e6,
	       (double)rte_get_tsc_hz() / 1e9);
	/* The last round's output is in pkts[N_PRIME..]; the backlog leaves
	 * through drain. */
	rte_pktmbuf_free_bulk(&pkts[N_PRIME], burst);
	while ((got = braid_sched_drain(s, out, RTE_DIM(out))) != 0)
		rte_pktmbuf_free_bulk(out, got);
	braid_sched_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned int bursts[] = { 1, 8, 32 };
	struct rte_mempool *mp;
	uint64_t n_pkts = 4000000;
	int rc = 0;

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	if (argc > 1) {
		char *end;

		errno = 0;
		n_pkts = strtoull(argv[1], &end, 0);
		if (errno != 0 || *end != '\0' || n_pkts == 0) {
			fprintf(stderr, "perf_sched: bad packet count '%s'\n", argv[1]);
			rte_eal_cleanup();
			return 1;
		}
	}
	mp = rte_pktmbuf_pool_create("perf_sched", N_MBUFS * 2 - 1, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "perf_sched: pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	for (unsigned int i = 0; i < RTE_DIM(bursts); i++)
		if (run(mp, bursts[i], n_pkts) != 0)
			rc = 1;
	if (rte_mempool_in_use_count(mp) != 0) {
		fprintf(stderr, "perf_sched: %u mbufs leaked\n",
			rte_mempool_in_use_count(mp));
		rc = 1;
	}
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return rc;
}
