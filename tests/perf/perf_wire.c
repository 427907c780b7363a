/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perf_wire: cycles per packet of the encap stage, in place (direct mbuf,
 * refcnt 1) and chained (refcnt 2, as when fec/rtx hold a reference:
 * header mbuf + indirect clone), at bursts of 1, 8 and 32; and of
 * braid_decap_burst() on the resulting frames. Only the burst call is
 * timed (rte_rdtsc_precise around it); building and freeing the packets
 * is outside the measurement, as the previous stage has the packet in
 * cache in the real pipeline.
 *
 *   perf_wire [EAL args] [-- -n packets_per_case -s inner_size]
 * Without EAL args: -l 0 --no-huge -m 512 --no-shconf --no-pci.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "braid_decap.h"
#include "braid_encap.h"
#include "braid_engine.h"
#include "braid_meta.h"
#include "perf_common.h"

#define N_LINKS 4

static struct braid_wire_link
mk_link(unsigned int i, bool sender)
{
	struct braid_wire_link l;
	uint32_t a = RTE_IPV4(10, 1, i + 1, 1), b = RTE_IPV4(10, 1, i + 1, 2);

	memset(&l, 0, sizeof(l));
	l.src_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0a, (uint8_t)i}};
	l.dst_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0b, (uint8_t)i}};
	l.local_ip = sender ? a : b;
	l.peer_ip = sender ? b : a;
	l.local_port = 7000;
	l.peer_port = 7000;
	l.mtu = 1500;
	return l;
}

static int
fill(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned int n, uint16_t size,
     unsigned int first)
{
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(pkts[i], size);
		struct braid_meta *meta = braid_meta(pkts[i]);

		memset(p, 0x5a, size);
		p[0] = 0x45;
		p[2] = (uint8_t)(size >> 8);
		p[3] = (uint8_t)size;
		memset(meta, 0, sizeof(*meta));
		meta->link_id = (uint16_t)((first + i) % N_LINKS);
		meta->seq = first + i;
	}
	return 0;
}

/* Cost of the timing itself: the smallest of many empty measurements. */
static uint64_t
timer_overhead(void)
{
	uint64_t best = UINT64_MAX;

	for (unsigned int i = 0; i < 10000; i++) {
		uint64_t t0 = rte_rdtsc_precise(), t1 = rte_rdtsc_precise();

		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static uint64_t tsc_overhead;

struct result {
	uint64_t encap_cycles, decap_cycles, pkts;
};

static int
run_case(struct braid_encap *e, struct braid_decap *d, struct rte_mempool *mp,
	 unsigned int burst, bool chained, unsigned int total, uint16_t size,
	 struct result *r)
{
	struct rte_mbuf *pkts[BRAID_BURST], *orig[BRAID_BURST];
	uint64_t now = 1000000;

	memset(r, 0, sizeof(*r));
	for (unsigned int done = 0; done < total; done += burst) {
		uint64_t t0, t1;
		uint16_t n, k;

		if (fill(mp, pkts, burst, size, done) != 0)
			return -ENOMEM;
		if (chained) {
			for (unsigned int i = 0; i < burst; i++) {
				orig[i] = pkts[i];
				rte_mbuf_refcnt_update(pkts[i], 1);
			}
		}
		t0 = rte_rdtsc_precise();
		n = braid_encap_burst(e, pkts, (uint16_t)burst, now);
		t1 = rte_rdtsc_precise();
		r->encap_cycles += t1 - t0 - RTE_MIN(tsc_overhead, t1 - t0);
		if (n != burst)
			return -EIO;
		t0 = rte_rdtsc_precise();
		k = braid_decap_burst(d, pkts, n);
		t1 = rte_rdtsc_precise();
		r->decap_cycles += t1 - t0 - RTE_MIN(tsc_overhead, t1 - t0);
		if (k != n)
			return -EIO;
		rte_pktmbuf_free_bulk(pkts, k);
		if (chained)
			rte_pktmbuf_free_bulk(orig, burst);
		r->pkts += burst;
		now += 1000;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned int bursts[] = {1, 8, 32};
	struct braid_encap_conf ec;
	struct braid_decap_conf dc;
	struct braid_encap *e;
	struct braid_decap *d;
	struct rte_mempool *mp;
	unsigned int total = 320000;
	uint16_t size = 1400;
	int ret, opt;

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(optarg, &end, 0);
		if (errno != 0 || *end != '\0' || v == 0) {
			fprintf(stderr, "bad value for -%c: %s\n", opt, optarg);
			return 1;
		}
		if (opt == 'n' && v <= 100000000)
			total = (unsigned int)v;
		else if (opt == 's' && v >= 20 && v <= 1432)
			size = (uint16_t)v;
		else {
			fprintf(stderr, "usage: perf_wire [EAL] -- [-n pkts 1..1e8] [-s size 20..1432]\n");
			return 1;
		}
	}
	mp = braid_pktmbuf_pool_create("perf_wire", 4095, 256, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	memset(&ec, 0, sizeof(ec));
	memset(&dc, 0, sizeof(dc));
	ec.session_id = 0x12345678;
	ec.n_links = N_LINKS;
	ec.hdr_pool = mp;
	ec.clone_pool = mp;
	dc.n_links = N_LINKS;
	dc.n_classes = 1;
	for (unsigned int i = 0; i < N_LINKS; i++) {
		ec.links[i] = mk_link(i, true);
		dc.links[i] = mk_link(i, false);
	}
	e = braid_encap_create(&ec, (int)rte_socket_id());
	d = braid_decap_create(&dc, (int)rte_socket_id());
	if (e == NULL || d == NULL) {
		fprintf(stderr, "create: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	tsc_overhead = timer_overhead();
	printf("perf_wire: %u packets per case, inner %u B, %u links, TSC %" PRIu64
	       " Hz, timer overhead %" PRIu64 " cycles (subtracted)\n",
	       total, size, N_LINKS, rte_get_tsc_hz(), tsc_overhead);
	printf("%-8s %6s %16s %16s\n", "mode", "burst", "encap cyc/pkt", "decap cyc/pkt");
	for (unsigned int c = 0; c < 2; c++) {
		for (unsigned int b = 0; b < RTE_DIM(bursts); b++) {
			struct result r;

			ret = run_case(e, d, mp, bursts[b], c == 1, total, size, &r);
			if (ret < 0) {
				fprintf(stderr, "case failed: %s\n", rte_strerror(-ret));
				return 1;
			}
			printf("%-8s %6u %16.1f %16.1f\n", c == 1 ? "chained" : "in_place",
			       bursts[b], (double)r.encap_cycles / (double)r.pkts,
			       (double)r.decap_cycles / (double)r.pkts);
		}
	}
	if (rte_mempool_in_use_count(mp) != 0) {
		fprintf(stderr, "leak: %u mbufs in use\n", rte_mempool_in_use_count(mp));
		return 1;
	}
	braid_encap_free(e);
	braid_decap_free(d);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
