/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mtu: MSS clamping against a scalar reference on random SYNs (every
 * option layout, even and odd offsets; the checksum must verify),
 * ICMP fragmentation-needed (fields, checksum, rate limit), fragmentation
 * (sizes, flags, offsets; the fragments reassemble to the packet).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "braid_meta.h"
#include "braid_mtu.h"
#include "harness.h"

static struct rte_mempool *pool;
static uint64_t seed;

#define INNER 1432u
static const struct rte_ether_addr host_mac = {{ 0x02, 0, 0, 0, 0, 0x33 }};
static const struct rte_ether_addr gw_mac = {{ 0x02, 0, 0, 0, 0, 0x01 }};

/* An IPv4 packet as classify hands it on: Ethernet header in the
 * headroom (l2_len), data = the IPv4 header. */
static struct rte_mbuf *
ip_packet(uint8_t proto, uint16_t total, bool df, const uint8_t *l4, uint16_t l4_len,
	  uint64_t *rng)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *p;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + total));
	CU_ASSERT_FATAL(p != NULL);
	eth = (struct rte_ether_hdr *)p;
	eth->src_addr = host_mac;
	eth->dst_addr = gw_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(total);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)braid_test_rand(rng));
	ip->fragment_offset = df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = RTE_BE32(0xc0a80102);
	ip->dst_addr = RTE_BE32(0xc0a80202);
	for (uint32_t i = 20; i < total; i++)
		((uint8_t *)ip)[i] = (uint8_t)braid_test_rand(rng);
	if (l4 != NULL)
		memcpy(ip + 1, l4, l4_len);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->l2_len = RTE_ETHER_HDR_LEN;
	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	memset(braid_meta(m), 0, sizeof(struct braid_meta));
	braid_meta(m)->class_id = 1;
	return m;
}

static struct braid_mtu *
mk_mtu(struct rte_ring *lan, uint32_t icmp_per_s)
{
	struct braid_mtu_conf c = {
		.inner_mtu = INNER, .clamp_mss = true, .icmp_per_s = icmp_per_s,
		.pool = pool, .lan_inject = lan, .lan_mac = gw_mac, .lan_ip = 0xc0a80101,
	};
	struct braid_mtu *t = braid_mtu_create(&c, SOCKET_ID_ANY);

	CU_ASSERT_FATAL(t != NULL);
	return t;
}

/* ---- MSS clamping vs a reference ---- */

/* Reference: the MSS option's value (0: none) in TCP options @p o. */
static uint16_t
ref_mss(const uint8_t *o, unsigned int len)
{
	for (unsigned int i = 0; i < len;) {
		if (o[i] == 0)
			return 0;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			return 0;
		if (o[i] == 2 && o[i + 1] == 4)
			return (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		i += o[i + 1];
	}
	return 0;
}

static void
test_clamp_vs_reference(void)
{
	uint64_t rng = seed;
	struct braid_mtu *t = mk_mtu(NULL, 0);
	struct braid_mtu_stats st;
	static struct braid_burst out;
	unsigned int clamped = 0, odd = 0;

	for (unsigned int i = 0; i < 4000; i++) {
		uint8_t tcp[60] = { 0 }, *o = tcp + 20;
		unsigned int olen = 4 * (unsigned int)(braid_test_rand(&rng) % 11), k = 0;
		uint16_t want_mss = (uint16_t)(500 + braid_test_rand(&rng) % 9000), got;
		bool syn = braid_test_rand(&rng) % 4 != 0, has_mss = false;
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)tcp;
		struct rte_ipv4_hdr *ip;
		struct rte_mbuf *m;
		uint16_t before;

		/* options: NOPs, a timestamp, maybe the MSS, padding */
		while (k < olen) {
			unsigned int r = (unsigned int)(braid_test_rand(&rng) % 4);

			if (r == 0 || olen - k < 4) {
				o[k++] = 1;
			} else if (r == 1 && !has_mss) {
				o[k] = 2; o[k + 1] = 4;
				o[k + 2] = (uint8_t)(want_mss >> 8); o[k + 3] = (uint8_t)want_mss;
				odd += ((k + 20 + 2) & 1);
				k += 4;
				has_mss = true;
			} else if (r == 2 && olen - k >= 10) {
				o[k] = 8; o[k + 1] = 10;
				k += 10;
			} else {
				o[k++] = 1;
			}
		}
		th->src_port = RTE_BE16(40000);
		th->dst_port = RTE_BE16(80);
		th->data_off = (uint8_t)(((20 + olen) / 4) << 4);
		th->tcp_flags = syn ? RTE_TCP_SYN_FLAG : RTE_TCP_ACK_FLAG;
		m = ip_packet(IPPROTO_TCP, (uint16_t)(20 + 20 + olen + 16), false, tcp,
			      (uint16_t)(20 + olen), &rng);
		ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		th = (struct rte_tcp_hdr *)(ip + 1);
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		before = ref_mss((uint8_t *)(th + 1), olen);
		out.n = 0;
		braid_mtu_burst(t, &m, 1, &out, 0);
		CU_ASSERT_FATAL(out.n == 1);
		ip = rte_pktmbuf_mtod(out.pkts[0], struct rte_ipv4_hdr *);
		th = (struct rte_tcp_hdr *)(ip + 1);
		got = ref_mss((uint8_t *)(th + 1), olen);
		if (syn && before > INNER - 40) {
			CU_ASSERT(got == INNER - 40);
			clamped++;
		} else {
			CU_ASSERT(got == before);
		}
		CU_ASSERT(rte_ipv4_udptcp_cksum_verify(ip, th) == 0);
		rte_pktmbuf_free(out.pkts[0]);
	}
	braid_mtu_stats(t, &st);
	printf("\n  clamped %u SYNs (%u MSS options at an odd offset)\n", clamped, odd);
	CU_ASSERT(st.mss_clamped == clamped && clamped > 500 && odd > 100);
	braid_mtu_free(t);
	CU_ASSERT(rte_mempool_full(pool));
}

/* ---- DF too big: ICMP, rate-limited ---- */

static void
test_df_icmp(void)
{
	uint64_t rng = seed ^ 1;
	struct rte_ring *lan = rte_ring_create("t_mtu_lan", 64, SOCKET_ID_ANY, 0);
	struct braid_mtu *t = mk_mtu(lan, 100);
	struct braid_mtu_stats st;
	static struct braid_burst out;
	void *a;
	unsigned int n_icmp = 0;

	CU_ASSERT_FATAL(lan != NULL);
	/* 30 at once: the burst of 10 answers, the rest limited; 1 s later
	 * the rate allows more. */
	for (unsigned int i = 0; i < 30; i++) {
		struct rte_mbuf *m = ip_packet(IPPROTO_UDP, 1472 + 28, true, NULL, 0, &rng);

		out.n = 0;
		braid_mtu_burst(t, &m, 1, &out, 1000000000ULL);
		CU_ASSERT(out.n == 0);
	}
	{
		struct rte_mbuf *m = ip_packet(IPPROTO_UDP, 1500, true, NULL, 0, &rng);

		braid_mtu_burst(t, &m, 1, &out, 2000000000ULL);
	}
	braid_mtu_stats(t, &st);
	CU_ASSERT(st.drop_df_too_big == 31);
	CU_ASSERT(st.icmp_frag_needed == 11 && st.icmp_limited == 20);
	while (rte_ring_dequeue(lan, &a) == 0) {
		struct rte_mbuf *r = a;
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(r, const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
		const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(ip + 1);
		const struct rte_ipv4_hdr *q = (const struct rte_ipv4_hdr *)(ic + 1);

		CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &host_mac));
		CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &gw_mac));
		CU_ASSERT(ip->dst_addr == RTE_BE32(0xc0a80102) && ip->src_addr == RTE_BE32(0xc0a80101));
		CU_ASSERT(rte_ipv4_cksum(ip) == 0 || ip->hdr_checksum == 0 ||
			  rte_raw_cksum(ip, 20) == 0xffff);
		CU_ASSERT(ic->icmp_type == 3 && ic->icmp_code == 4);
		CU_ASSERT(rte_be_to_cpu_16(ic->icmp_seq_nb) == INNER);
		CU_ASSERT(rte_raw_cksum(ic, r->pkt_len - 34) == 0xffff);
		CU_ASSERT(q->src_addr == RTE_BE32(0xc0a80102) && q->next_proto_id == IPPROTO_UDP);
		CU_ASSERT(r->pkt_len == 14 + 20 + 8 + 20 + 8);
		n_icmp++;
		rte_pktmbuf_free(r);
	}
	CU_ASSERT(n_icmp == 11);
	braid_mtu_free(t);
	rte_ring_free(lan);
	CU_ASSERT(rte_mempool_full(pool));
}

/* ---- not DF: fragments that reassemble ---- */

static void
test_fragments(void)
{
	uint64_t rng = seed ^ 2;
	struct braid_mtu *t = mk_mtu(NULL, 0);
	static struct braid_burst out;
	static uint8_t orig[9000], back[9000];
	struct braid_mtu_stats st;

	for (unsigned int i = 0; i < 200; i++) {
		uint16_t total = (uint16_t)(INNER + 1 + braid_test_rand(&rng) % (2000 - INNER));
		struct rte_mbuf *m = ip_packet(IPPROTO_UDP, total, false, NULL, 0, &rng);
		uint32_t got = 0, last_end = 0;
		bool saw_last = false;

		memcpy(orig, rte_pktmbuf_mtod(m, void *), total);
		out.n = 0;
		braid_mtu_burst(t, &m, 1, &out, 0);
		CU_ASSERT_FATAL(out.n >= 2);
		for (uint16_t f = 0; f < out.n; f++) {
			struct rte_mbuf *fr = out.pkts[f];
			const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(fr, const struct rte_ipv4_hdr *);
			uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
			uint32_t off = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8;
			uint32_t len = rte_be_to_cpu_16(ip->total_length) - 20u;

			CU_ASSERT(fr->nb_segs == 1 && fr->pkt_len <= INNER);
			CU_ASSERT(fr->pkt_len == rte_be_to_cpu_16(ip->total_length));
			CU_ASSERT(rte_raw_cksum(ip, 20) == 0xffff);
			CU_ASSERT(braid_meta(fr)->class_id == 1);
			CU_ASSERT(ip->packet_id == ((const struct rte_ipv4_hdr *)orig)->packet_id);
			if (!(fo & RTE_IPV4_HDR_MF_FLAG))
				saw_last = true;
			CU_ASSERT(off + len <= total - 20u);
			memcpy(back + off, (const uint8_t *)(ip + 1), len);
			got += len;
			last_end = RTE_MAX(last_end, off + len);
			rte_pktmbuf_free(fr);
		}
		CU_ASSERT(saw_last && got == total - 20u && last_end == total - 20u);
		CU_ASSERT(memcmp(back, orig + 20, total - 20u) == 0);
	}
	braid_mtu_stats(t, &st);
	CU_ASSERT(st.fragmented == 200 && st.drop_frag_failed == 0);
	braid_mtu_free(t);
	CU_ASSERT(rte_mempool_full(pool));
}

static int
register_tests(void)
{
	CU_pSuite s;

	seed = braid_test_seed(0x3177);
	printf("mtu: seed %" PRIu64 "\n", seed);
	if (braid_test_eal_init(NULL, "0") != 0 || braid_meta_register() < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("t_mtu", 2048, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return -1;
	s = CU_add_suite("mtu", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "MSS clamp vs reference", test_clamp_vs_reference) == NULL ||
	    CU_add_test(s, "DF too big: ICMP, rate-limited", test_df_icmp) == NULL ||
	    CU_add_test(s, "not DF: fragments reassemble", test_fragments) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("mtu", register_tests);
}
