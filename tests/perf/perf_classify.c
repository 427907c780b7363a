/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perf_classify: cycles per packet and Mpps of the classify stage (parse,
 * one rte_acl_classify per burst, strip) at bursts of 1, 8 and 32, with a
 * 16-rule QoS policy and a 4096-rule random set; beside it the rte_acl
 * lookup alone and the linear reference on the same keys (the baseline).
 *
 *   perf_classify [EAL args] [-- --packets N --iters ROUNDS --alg NAME]
 *
 * Without EAL arguments it runs on lcore 0 with --no-huge -m 512. The
 * frames (64-byte UDP/TCP, half with an 802.1Q tag) live in --packets
 * distinct mbufs, so headers come from memory much as after RX; nothing is
 * timed but the stage call (rte_rdtsc around each burst, the cost of an
 * empty rdtsc pair subtracted). Each figure is the best of --iters rounds
 * over all frames: on a shared box the other rounds carry interference.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_vect.h>

#include "braid_classify.h"
#include "braid_meta.h"
#include "braid_test_rand.h"
#include "perf_common.h"

#define IP4(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

struct perf_opts {
	uint32_t n_pkts;
	uint32_t iters;
	int alg;        /* -1: DPDK's choice */
};

static struct braid_classify_rule
rule_any(uint16_t class_id, uint32_t prio)
{
	struct braid_classify_rule r = {
		.sport_hi = UINT16_MAX, .dport_hi = UINT16_MAX,
		.dscp = -1, .in_port = -1, .priority = prio, .class_id = class_id,
	};
	return r;
}

/* A branch office QoS policy: 16 rules, 6 classes. */
static uint32_t
qos_rules(struct braid_classify_rule *r)
{
	uint32_t n = 0;

	r[n] = rule_any(0, 100); r[n].dscp = 46; n++;                 /* EF */
	r[n] = rule_any(0, 90); r[n].proto = 17; r[n].dport_lo = 16384;
	r[n].dport_hi = 32767; n++;                                    /* RTP */
	r[n] = rule_any(0, 90); r[n].proto = 17; r[n].dport_lo = 5060;
	r[n].dport_hi = 5061; n++;                                     /* SIP */
	r[n] = rule_any(1, 80); r[n].dscp = 34; n++;                   /* AF41 */
	r[n] = rule_any(1, 80); r[n].proto = 17; r[n].dport_lo = 5004;
	r[n].dport_hi = 5005; n++;                                     /* video */
	r[n] = rule_any(1, 80); r[n].dst_ip = IP4(10, 20, 0, 0);
	r[n].dst_mask_len = 16; r[n].proto = 17; n++;
	r[n] = rule_any(2, 70); r[n].proto = 6; r[n].dport_lo = 22;
	r[n].dport_hi = 22; n++;                                       /* ssh */
	r[n] = rule_any(2, 70); r[n].proto = 6; r[n].sport_lo = 22;
	r[n].sport_hi = 22; n++;
	r[n] = rule_any(2, 70); r[n].proto = 6; r[n].dport_lo = 3389;
	r[n].dport_hi = 3389; n++;                                     /* rdp */
	r[n] = rule_any(3, 60); r[n].proto = 6; r[n].dport_lo = 443;
	r[n].dport_hi = 443; n++;
	r[n] = rule_any(3, 60); r[n].proto = 17; r[n].dport_lo = 443;
	r[n].dport_hi = 443; n++;                                      /* quic */
	r[n] = rule_any(3, 60); r[n].proto = 6; r[n].dport_lo = 80;
	r[n].dport_hi = 80; n++;
	r[n] = rule_any(4, 50); r[n].src_ip = IP4(192, 168, 50, 0);
	r[n].src_mask_len = 24; n++;                                   /* backup */
	r[n] = rule_any(4, 50); r[n].proto = 6; r[n].dport_lo = 873;
	r[n].dport_hi = 873; n++;                                      /* rsync */
	r[n] = rule_any(1, 40); r[n].in_port = 1; n++;
	r[n] = rule_any(0, 30); r[n].proto = 1; n++;                   /* icmp */
	return n;
}

/* Random overlapping prefixes, ranges and priorities. */
static uint32_t
random_rules(struct braid_classify_rule *r, uint32_t n, uint64_t *rs)
{
	static const uint8_t protos[] = { 0, 6, 17, 17 };
	static const uint8_t lens[] = { 0, 8, 16, 20, 24, 24, 28, 32 };

	for (uint32_t i = 0; i < n; i++) {
		uint16_t lo;

		r[i] = rule_any((uint16_t)(braid_test_rand(rs) % 8), (uint32_t)braid_test_rand(rs));
		r[i].src_ip = IP4(192, 168, 0, 0) | (uint32_t)(braid_test_rand(rs) & 0xffff);
		r[i].src_mask_len = lens[braid_test_rand(rs) % RTE_DIM(lens)];
		r[i].dst_ip = IP4(10, 0, 0, 0) | (uint32_t)(braid_test_rand(rs) & 0xffffff);
		r[i].dst_mask_len = lens[braid_test_rand(rs) % RTE_DIM(lens)];
		r[i].proto = protos[braid_test_rand(rs) % RTE_DIM(protos)];
		if (braid_test_rand(rs) % 3 != 0) {
			lo = (uint16_t)(braid_test_rand(rs) % 65536);
			r[i].dport_lo = lo;
			r[i].dport_hi = (uint16_t)RTE_MIN((uint32_t)lo +
				(uint32_t)(braid_test_rand(rs) % 2048), (uint32_t)UINT16_MAX);
		}
		if (braid_test_rand(rs) % 4 == 0)
			r[i].dscp = (int16_t)(braid_test_rand(rs) % 64);
	}
	return n;
}

struct frame_info {
	uint16_t l2_len;
	struct braid_classify_key key;
};

static struct rte_mbuf *
make_frame(struct rte_mempool *mp, uint64_t *rs, struct frame_info *fi)
{
	static const uint16_t dports[] = { 443, 80, 5004, 20000, 5060, 22, 53,
					   3389, 873, 8080 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	bool vlan = braid_test_rand(rs) & 1;
	uint16_t l2 = vlan ? 18 : 14;
	uint8_t proto = (braid_test_rand(rs) & 3) == 0 ? 6 : 17;
	uint16_t sport = (uint16_t)(1024 + braid_test_rand(rs) % 60000);
	uint16_t dport = dports[braid_test_rand(rs) % RTE_DIM(dports)];
	uint8_t dscp = (braid_test_rand(rs) % 4 == 0) ? 46 : 0;
	uint32_t src = IP4(192, 168, 0, 0) | (uint32_t)(braid_test_rand(rs) & 0xffff);
	uint32_t dst = IP4(10, 0, 0, 0) | (uint32_t)(braid_test_rand(rs) & 0xffffff);
	uint16_t ip_len = 64 - 14 - 4;  /* a 64-byte frame with FCS */
	struct rte_ipv4_hdr *ip;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(l2 + ip_len));
	memset(p, 0, l2 + ip_len);
	p[0] = 0x02;
	p[11] = 0x02;
	if (vlan) {
		p[12] = 0x81;
		p[15] = 0x0a;
	}
	p[l2 - 2] = 0x08;
	ip = (struct rte_ipv4_hdr *)(p + l2);
	ip->version_ihl = 0x45;
	ip->type_of_service = (uint8_t)(dscp << 2);
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	p[l2 + 20] = (uint8_t)(sport >> 8);
	p[l2 + 21] = (uint8_t)sport;
	p[l2 + 22] = (uint8_t)(dport >> 8);
	p[l2 + 23] = (uint8_t)dport;
	braid_meta(m)->port_in = (uint16_t)(braid_test_rand(rs) & 1);
	fi->l2_len = l2;
	braid_classify_key_set(&fi->key, proto, src, dst, true, sport, dport,
			       dscp, braid_meta(m)->port_in);
	return m;
}

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

/*
 * Stage cycles per packet at @p burst: each round runs every frame once;
 * the best round counts (the box is shared: other rounds include other
 * work's interference). Round 0 warms up.
 */
static double
time_stage(struct braid_classify *cl, struct rte_mbuf **pkts,
	   const struct frame_info *fi, uint32_t n_pkts, uint16_t burst,
	   uint32_t rounds, uint64_t overhead, bool *ok)
{
	static struct braid_burst out;
	double best = 1e30;

	for (uint32_t it = 0; it <= rounds; it++) {
		uint64_t cyc = 0, done = 0;

		for (uint32_t off = 0; off + burst <= n_pkts; off += burst) {
			uint64_t t0, t1;

			out.n = 0;
			t0 = rte_rdtsc_precise();
			braid_classify_burst(cl, &pkts[off], burst, &out);
			t1 = rte_rdtsc_precise();
			cyc += t1 - t0 > overhead ? t1 - t0 - overhead : 0;
			done += burst;
			if (out.n != burst) {
				*ok = false;
				return 0;
			}
			/* put the Ethernet header back for the next round */
			for (uint16_t i = 0; i < burst; i++)
				rte_pktmbuf_prepend(out.pkts[i], fi[off + i].l2_len);
		}
		if (it > 0)
			best = RTE_MIN(best, (double)cyc / (double)done);
	}
	return best;
}

/* rte_acl alone on the same keys, best round. */
static double
time_lookup(const struct braid_classify *cl, const struct braid_classify_key **kp,
	    uint32_t n_keys, uint16_t burst, uint32_t rounds)
{
	uint32_t rule[BRAID_BURST];
	double best = 1e30;

	for (uint32_t it = 0; it <= rounds; it++) {
		uint64_t t0 = rte_rdtsc_precise(), done = 0;

		for (uint32_t off = 0; off + burst <= n_keys; off += burst) {
			braid_classify_lookup(cl, &kp[off], burst, rule, NULL);
			done += burst;
		}
		if (it > 0)
			best = RTE_MIN(best, (double)(rte_rdtsc_precise() - t0) /
					     (double)done);
	}
	return best;
}

/* The linear reference on the same keys, best of @p rounds. */
static double
time_ref(const struct braid_classify_rule *r, uint32_t n_rules,
	 const struct frame_info *fi, uint32_t n_keys, uint32_t rounds,
	 uint64_t *sink)
{
	double best = 1e30;

	for (uint32_t it = 0; it < rounds; it++) {
		uint64_t t0 = rte_rdtsc_precise();

		for (uint32_t i = 0; i < n_keys; i++)
			*sink += braid_classify_ref(r, n_rules, &fi[i].key);
		best = RTE_MIN(best, (double)(rte_rdtsc_precise() - t0) /
				     (double)n_keys);
	}
	return best;
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
	static const char *const algs[] = {
		[RTE_ACL_CLASSIFY_SCALAR] = "scalar", [RTE_ACL_CLASSIFY_SSE] = "sse",
		[RTE_ACL_CLASSIFY_AVX2] = "avx2",
		[RTE_ACL_CLASSIFY_AVX512X16] = "avx512x16",
		[RTE_ACL_CLASSIFY_AVX512X32] = "avx512x32",
	};

	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return -EINVAL;
		}
		if (strcmp(argv[i], "--packets") == 0) {
			if (parse_u32(argv[++i], &o->n_pkts) != 0)
				return -EINVAL;
		} else if (strcmp(argv[i], "--iters") == 0) {
			if (parse_u32(argv[++i], &o->iters) != 0)
				return -EINVAL;
		} else if (strcmp(argv[i], "--alg") == 0) {
			i++;
			o->alg = -2;
			for (int a = 0; a < (int)RTE_DIM(algs); a++)
				if (algs[a] != NULL && strcmp(argv[i], algs[a]) == 0)
					o->alg = a;
			if (o->alg == -2) {
				fprintf(stderr, "unknown --alg %s\n", argv[i]);
				return -EINVAL;
			}
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
	static const uint16_t bursts[] = { 1, 8, 32 };
	static const uint32_t set_sizes[] = { 16, 4096 };
	struct perf_opts o = { .n_pkts = 4096, .iters = 50, .alg = -1 };
	struct braid_classify_rule *rules;
	const struct braid_classify_key **kp;
	struct frame_info *fi;
	struct rte_mbuf **pkts;
	struct rte_mempool *mp;
	uint64_t rs = 0x9e3779b97f4a7c15ULL, sink = 0, overhead;
	double hz;

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	if (parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	mp = rte_pktmbuf_pool_create("perf_cl", o.n_pkts + 1024, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	rules = calloc(4096, sizeof(*rules));
	fi = calloc(o.n_pkts, sizeof(*fi));
	kp = calloc(o.n_pkts, sizeof(*kp));
	pkts = calloc(o.n_pkts, sizeof(*pkts));
	if (mp == NULL || rules == NULL || fi == NULL || kp == NULL || pkts == NULL) {
		fprintf(stderr, "out of memory (%u packets)\n", o.n_pkts);
		return 1;
	}
	for (uint32_t i = 0; i < o.n_pkts; i++) {
		pkts[i] = make_frame(mp, &rs, &fi[i]);
		if (pkts[i] == NULL) {
			fprintf(stderr, "mbuf alloc failed\n");
			return 1;
		}
		kp[i] = &fi[i].key;
	}
	overhead = rdtsc_overhead();
	hz = (double)rte_get_tsc_hz();
	printf("perf_classify: %u frames of 64 B (half 802.1Q), best of %u rounds, "
	       "tsc %.0f MHz, rdtsc pair %" PRIu64 " cycles (subtracted), "
	       "max SIMD %u bits\n", o.n_pkts, o.iters, hz / 1e6, overhead,
	       rte_vect_get_max_simd_bitwidth());
	printf("%6s %6s | %10s %8s | %12s | %12s %9s\n", "rules", "burst",
	       "stage c/p", "Mpps", "acl-only c/p", "linear c/p", "lin/stage");

	for (unsigned int si = 0; si < RTE_DIM(set_sizes); si++) {
		struct braid_classify_conf conf = {
			.name = si == 0 ? "perf_qos16" : "perf_rand4096",
			.rules = rules, .n_classes = 8, .default_class = 5,
		};
		struct braid_classify *cl;
		uint64_t t0 = rte_rdtsc();
		double ref_cpp;

		conf.n_rules = si == 0 ? qos_rules(rules) :
					 random_rules(rules, set_sizes[si], &rs);
		cl = braid_classify_create(&conf, SOCKET_ID_ANY);
		if (cl == NULL) {
			fprintf(stderr, "create %s: %s\n", conf.name,
				rte_strerror(rte_errno));
			return 1;
		}
		if (o.alg >= 0 && braid_classify_set_alg(cl, o.alg) != 0) {
			fprintf(stderr, "--alg not supported here\n");
			return 1;
		}
		printf("# %s: %u rules, built in %.0f ms\n", conf.name,
		       conf.n_rules, (double)(rte_rdtsc() - t0) * 1e3 / hz);
		ref_cpp = time_ref(rules, conf.n_rules, fi,
				   RTE_MIN(o.n_pkts, si == 0 ? o.n_pkts : 1024u),
				   si == 0 ? 20 : 5, &sink);
		for (unsigned int bi = 0; bi < RTE_DIM(bursts); bi++) {
			bool ok = true;
			double cpp = time_stage(cl, pkts, fi, o.n_pkts, bursts[bi],
						o.iters, overhead, &ok);
			double lpp = time_lookup(cl, kp, o.n_pkts, bursts[bi],
						 o.iters);

			if (!ok) {
				fprintf(stderr, "stage dropped frames\n");
				return 1;
			}
			printf("%6u %6u | %10.1f %8.2f | %12.1f | %12.1f %9.1f\n",
			       conf.n_rules, bursts[bi], cpp, hz / cpp / 1e6, lpp,
			       ref_cpp, ref_cpp / cpp);
		}
		braid_classify_free(cl);
	}
	rte_pktmbuf_free_bulk(pkts, o.n_pkts);
	if (rte_mempool_in_use_count(mp) != 0) {
		fprintf(stderr, "mbuf leak: %u in use\n", rte_mempool_in_use_count(mp));
		return 1;
	}
	printf("(sink %" PRIu64 ")\n", sink);
	free(rules);
	free(fi);
	free(kp);
	free(pkts);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
