/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perf_crypto: cycles per packet of the seal stage (copy into a fresh
 * mbuf + AES-256-GCM) and of the open stage (replay window + AES-256-GCM
 * in place + unsealing), on the device "auto" picks (crypto_aesni_gcm
 * where the CPU has AES-NI), for inner packets of 64 and 1400 bytes at
 * bursts of 1, 8 and 32. Only the burst calls are timed; building the
 * frames is outside the measurement.
 *
 *   perf_crypto [EAL args] [-- -n packets_per_case]
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
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "braid_crypto.h"
#include "braid_engine.h"
#include "braid_meta.h"
#include "braid_test_frame.h"
#include "braid_wire.h"
#include "perf_common.h"

#define SID 0x12345678u

static struct braid_burst out;

/* Frames as encap writes them (data, link i % 4). */
static int
fill(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned int n, uint16_t size,
     unsigned int first)
{
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		memset(braid_test_frame(pkts[i], BRAID_PKT_DATA, (uint16_t)((first + i) % 4), SID,
					size), 0x5a, size);
	return 0;
}

struct result {
	uint64_t seal, open, pkts;
};

static int
run_case(struct braid_crypto_seal *s, struct braid_crypto_open *o, struct rte_mempool *mp,
	 unsigned int burst, uint16_t size, unsigned int total, struct result *r)
{
	struct rte_mbuf *pkts[BRAID_BURST];

	memset(r, 0, sizeof(*r));
	for (unsigned int done = 0; done < total; done += burst) {
		uint64_t t0, t1;
		uint16_t k;

		if (fill(mp, pkts, burst, size, done) != 0)
			return -ENOMEM;
		out.n = 0;
		t0 = rte_rdtsc_precise();
		braid_crypto_seal_burst(s, pkts, (uint16_t)burst, &out, 1000);
		t1 = rte_rdtsc_precise();
		r->seal += t1 - t0;
		if (out.n != burst)
			return -EIO;
		t0 = rte_rdtsc_precise();
		k = braid_crypto_open_burst(o, out.pkts, out.n, 1000);
		t1 = rte_rdtsc_precise();
		r->open += t1 - t0;
		if (k != burst)
			return -EIO;
		rte_pktmbuf_free_bulk(out.pkts, k);
		r->pkts += burst;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned int bursts[] = { 1, 8, 32 };
	static const uint16_t sizes[] = { 64, 1400 };
	static const uint8_t prk[32] = { 1, 2, 3 };
	struct braid_crypto_cmd cmd = { .op = BRAID_CRYPTO_CMD_SET_SESSION, .session_id = SID };
	struct braid_crypto_dev dev;
	struct braid_crypto_seal *s;
	struct braid_crypto_open *o;
	struct rte_mempool *mp;
	unsigned int total = 320000;
	char err[256];
	int opt;

	if (perf_eal_init(&argc, &argv) != 0 || braid_meta_register() < 0)
		return 1;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		unsigned long v = strtoul(optarg, NULL, 0);

		if (opt != 'n' || v == 0 || v > 100000000) {
			fprintf(stderr, "usage: perf_crypto [EAL] -- [-n pkts 1..1e8]\n");
			return 1;
		}
		total = (unsigned int)v;
	}
	mp = braid_pktmbuf_pool_create("perf_crypto", 4095, 256, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (mp == NULL || braid_crypto_dev_open("auto", (int)rte_socket_id(), 2, &dev, err,
						sizeof(err)) != 0) {
		fprintf(stderr, "set-up: %s\n", mp == NULL ? rte_strerror(rte_errno) : err);
		return 1;
	}
	s = braid_crypto_seal_create(&(struct braid_crypto_seal_conf){
		.name = "perf_seal", .dev = &dev, .qp = 0, .pool = mp,
		.rekey_bytes = UINT64_MAX, .rekey_ns = UINT64_MAX }, (int)rte_socket_id());
	o = braid_crypto_open_create(&(struct braid_crypto_open_conf){
		.name = "perf_open", .dev = &dev, .qp = 1, .n_links = 4 }, (int)rte_socket_id());
	memcpy(cmd.prk, prk, sizeof(prk));
	if (s == NULL || o == NULL || braid_crypto_seal_apply(s, &cmd) != 0 ||
	    braid_crypto_open_apply(o, &cmd) != 0) {
		fprintf(stderr, "stages: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("perf_crypto: %u packets per case, device %s (%s), TSC %" PRIu64 " Hz\n",
	       total, dev.name, dev.driver, rte_get_tsc_hz());
	printf("%6s %6s %16s %16s\n", "inner", "burst", "seal cyc/pkt", "open cyc/pkt");
	for (unsigned int z = 0; z < RTE_DIM(sizes); z++)
		for (unsigned int b = 0; b < RTE_DIM(bursts); b++) {
			struct result r;
			int ret = run_case(s, o, mp, bursts[b], sizes[z], total, &r);

			if (ret < 0) {
				fprintf(stderr, "case failed: %s\n", rte_strerror(-ret));
				return 1;
			}
			printf("%6u %6u %16.1f %16.1f\n", sizes[z], bursts[b],
			       (double)r.seal / (double)r.pkts, (double)r.open / (double)r.pkts);
		}
	if (rte_mempool_in_use_count(mp) != 0) {
		fprintf(stderr, "leak: %u mbufs in use\n", rte_mempool_in_use_count(mp));
		return 1;
	}
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	braid_crypto_dev_close(&dev);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
