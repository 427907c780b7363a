/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mtu stage (braid_mtu.h): MSS clamping, ICMP fragmentation-needed
 * for DF packets that do not fit, IPv4 fragmentation of the others.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "braid_meta.h"
#include "braid_mtu.h"

/* Fragments of one packet at most (a 9000-byte packet in 576-byte ones). */
#define MTU_MAX_FRAGS 32
/* ICMP answers in a row before the rate applies. */
#define MTU_ICMP_BURST 10
/* What RFC 792 asks an ICMP error to quote: the header and 8 bytes. */
#define MTU_ICMP_QUOTE 8

struct braid_mtu {
	uint16_t inner_mtu;
	bool clamp_mss;
	uint32_t icmp_per_s;
	struct rte_mempool *pool, *indirect_pool;
	struct rte_ring *lan_inject;
	struct rte_ether_addr lan_mac;
	rte_be32_t lan_ip;
	double icmp_tokens;
	uint64_t icmp_last_ns;
	struct braid_mtu_stats cnt __rte_cache_aligned;
};

struct braid_mtu *
braid_mtu_create(const struct braid_mtu_conf *conf, int socket)
{
	struct braid_mtu *t;

	if (conf == NULL || conf->inner_mtu < 68 || conf->pool == NULL ||
	    (conf->icmp_per_s > 0 && conf->lan_inject == NULL)) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("braid_mtu", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->inner_mtu = conf->inner_mtu;
	t->clamp_mss = conf->clamp_mss;
	t->icmp_per_s = conf->icmp_per_s;
	t->pool = conf->pool;
	t->indirect_pool = conf->indirect_pool != NULL ? conf->indirect_pool : conf->pool;
	t->lan_inject = conf->lan_inject;
	t->lan_mac = conf->lan_mac;
	t->lan_ip = rte_cpu_to_be_32(conf->lan_ip);
	t->icmp_tokens = MTU_ICMP_BURST;
	return t;
}

void
braid_mtu_free(struct braid_mtu *t)
{
	rte_free(t);
}

/* RFC 1624: the checksum after a 16-bit word changed from @p old to @p new. */
static uint16_t
cksum_update(uint16_t ck, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~ck + (uint32_t)(uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

bool
braid_mtu_clamp_mss(uint8_t *ipb, uint32_t len, uint16_t mss)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)ipb;
	uint32_t hl = (uint32_t)(ip->version_ihl & 0xf) * 4, tl, thl;
	struct rte_tcp_hdr *tcp;
	uint8_t *o, *end;

	if (len < sizeof(*ip) || ip->next_proto_id != IPPROTO_TCP ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return false;
	tl = rte_be_to_cpu_16(ip->total_length);
	if (tl > len)
		return false;          /* not all here: leave it */
	if (hl < 20 || tl < hl + sizeof(*tcp))
		return false;
	tcp = (struct rte_tcp_hdr *)(ipb + hl);
	if (!(tcp->tcp_flags & RTE_TCP_SYN_FLAG))
		return false;
	thl = (uint32_t)(tcp->data_off >> 4) * 4;
	if (thl < sizeof(*tcp) || hl + thl > tl)
		return false;
	o = (uint8_t *)(tcp + 1);
	end = ipb + hl + thl;
	while (o < end) {
		if (o[0] == 0)                 /* end of options */
			break;
		if (o[0] == 1) {               /* no-op */
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2 || o + o[1] > end)
			break;
		if (o[0] == 2 && o[1] == 4) {  /* MSS */
			uint16_t have = (uint16_t)(o[2] << 8 | o[3]);

			if (have <= mss)
				return false;
			/* The option's 16 bits sit in one checksum word when
			 * they start at an even offset of the TCP header. */
			if (((o + 2 - (uint8_t *)tcp) & 1) == 0) {
				tcp->cksum = rte_cpu_to_be_16(cksum_update(
					rte_be_to_cpu_16(tcp->cksum), have, mss));
				o[2] = (uint8_t)(mss >> 8);
				o[3] = (uint8_t)mss;
			} else {
				/* Odd offset: recompute (a SYN is short, and
				 * tl <= len: all of it is here). */
				o[2] = (uint8_t)(mss >> 8);
				o[3] = (uint8_t)mss;
				tcp->cksum = 0;
				tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
			}
			return true;
		}
		o += o[1];
	}
	return false;
}

static bool
icmp_allowed(struct braid_mtu *t, uint64_t now_ns)
{
	if (t->icmp_per_s == 0)
		return false;
	if (now_ns > t->icmp_last_ns) {
		t->icmp_tokens += (double)(now_ns - t->icmp_last_ns) * 1e-9 * t->icmp_per_s;
		if (t->icmp_tokens > MTU_ICMP_BURST)
			t->icmp_tokens = MTU_ICMP_BURST;
	}
	t->icmp_last_ns = now_ns;
	if (t->icmp_tokens < 1.0)
		return false;
	t->icmp_tokens -= 1.0;
	return true;
}

/* "Fragmentation needed" for @p m back to its LAN sender. */
static void
icmp_frag_needed(struct braid_mtu *t, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const uint32_t ohl = (uint32_t)(oip->version_ihl & 0xf) * 4;
	const uint32_t quote = RTE_MIN(ohl + MTU_ICMP_QUOTE, rte_pktmbuf_data_len(m));
	const struct rte_ether_hdr *oeth;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *a;
	uint8_t *f;
	uint16_t len;

	if (m->l2_len < RTE_ETHER_HDR_LEN || rte_pktmbuf_headroom(m) < m->l2_len)
		return;
	oeth = (const struct rte_ether_hdr *)((const uint8_t *)oip - m->l2_len);
	len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*icmp) + quote);
	a = rte_pktmbuf_alloc(t->pool);
	if (a == NULL) {
		t->cnt.drop_no_mbuf++;
		return;
	}
	f = (uint8_t *)rte_pktmbuf_append(a, len);
	eth = (struct rte_ether_hdr *)f;
	eth->dst_addr = oeth->src_addr;
	eth->src_addr = t->lan_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = t->lan_ip;
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = 3;                       /* destination unreachable */
	icmp->icmp_code = 4;                       /* fragmentation needed, DF set */
	icmp->icmp_cksum = 0;
	icmp->icmp_ident = 0;                      /* unused */
	icmp->icmp_seq_nb = rte_cpu_to_be_16(t->inner_mtu);   /* next-hop MTU */
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + quote);
	memset(braid_meta(a), 0, sizeof(struct braid_meta));
	a->port = m->port;
	if (rte_ring_mp_enqueue(t->lan_inject, a) != 0) {
		rte_pktmbuf_free(a);
		t->cnt.drop_icmp_full++;
		return;
	}
	t->cnt.icmp_frag_needed++;
}

/* Fragments of @p m to @p out; @p m is consumed. */
static void
fragment(struct braid_mtu *t, struct rte_mbuf *m, struct braid_burst *out)
{
	struct rte_mbuf *frags[MTU_MAX_FRAGS];
	int32_t n;

	if (m->nb_segs == 1)
		n = rte_ipv4_fragment_copy_nonseg_packet(m, frags, MTU_MAX_FRAGS, t->inner_mtu,
							 t->pool);
	else
		n = rte_ipv4_fragment_packet(m, frags, MTU_MAX_FRAGS, t->inner_mtu, t->pool,
					     t->indirect_pool);
	if (n <= 0 || n > braid_burst_room(out)) {
		if (n > 0)
			rte_pktmbuf_free_bulk(frags, (unsigned int)n);
		t->cnt.drop_frag_failed++;
		rte_pktmbuf_free(m);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		struct rte_ipv4_hdr *ip;

		/* Later stages (FEC) take one segment. */
		if (f->nb_segs > 1 && rte_pktmbuf_linearize(f) != 0) {
			rte_pktmbuf_free_bulk(&frags[i], (unsigned int)(n - i));
			t->cnt.drop_frag_failed++;
			break;
		}
		rte_mbuf_dynfield_copy(f, m);
		f->port = m->port;
		f->l2_len = 0;
		f->ol_flags = 0;
		ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		braid_burst_push(out, f);
		t->cnt.fragments++;
	}
	t->cnt.fragmented++;
	rte_pktmbuf_free(m);
}

void
braid_mtu_burst(struct braid_mtu *t, struct rte_mbuf **pkts, uint16_t n,
		struct braid_burst *out, uint64_t now_ns)
{
	const uint16_t mss = (uint16_t)(t->inner_mtu - 40);

	t->cnt.packets += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

		if (t->clamp_mss && ip->next_proto_id == IPPROTO_TCP &&
		    braid_mtu_clamp_mss(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), mss))
			t->cnt.mss_clamped++;
		if (unlikely(m->pkt_len > t->inner_mtu)) {
			if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) {
				if (icmp_allowed(t, now_ns))
					icmp_frag_needed(t, m);
				else
					t->cnt.icmp_limited++;
				t->cnt.drop_df_too_big++;
				rte_pktmbuf_free(m);
			} else {
				fragment(t, m, out);
			}
			continue;
		}
		if (unlikely(braid_burst_push(out, m) != 0)) {
			t->cnt.drop_out_full++;
			rte_pktmbuf_free(m);
		}
	}
}

void
braid_mtu_stats(const struct braid_mtu *t, struct braid_mtu_stats *st)
{
	*st = t->cnt;
}

static void
mtu_process(void *ctx, struct rte_mbuf **pkts, uint16_t n, struct braid_burst *out,
	    uint64_t now_ns)
{
	braid_mtu_burst(ctx, pkts, n, out, now_ns);
}

static void
mtu_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_mtu *t = ctx;

	BRAID_COUNTERS_REPORT(BRAID_MTU_COUNTERS, &t->cnt, fn, arg);
}

const struct braid_stage_ops braid_mtu_stage_ops = {
	.kind = "mtu",
	.process = mtu_process,
	.stats = mtu_stats,
};
