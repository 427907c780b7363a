/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The encap stage: inner packet -> Ethernet/IPv4/UDP/braid frame for its
 * link, prepended in place or chained in front of an indirect clone.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_seqlock.h>
#include <rte_udp.h>

#include "braid_encap.h"
#include "braid_meta.h"
#include "wire_priv.h"

#define IP_OFF   RTE_ETHER_HDR_LEN
#define UDP_OFF  (IP_OFF + sizeof(struct rte_ipv4_hdr))
#define BH_OFF   (UDP_OFF + sizeof(struct rte_udp_hdr))

/* What the fast path needs of a link, copied out under the seqlock. */
struct encap_snap {
	uint8_t tmpl[BRAID_WIRE_OVERHEAD]; /* outer headers + constant braid part */
	uint16_t mtu;
	uint8_t tx_offloads;
	bool resolved;                     /* next hop MAC known, an address to send from */
};

struct encap_link {
	/* Written by braid_encap_link_set() (control path) under the lock. */
	rte_seqlock_t lock;
	struct braid_wire_link conf;
	struct encap_snap snap;
	/* Written only by the encap lcore; read by link_stats (atomics). */
	uint64_t frames __rte_cache_aligned;
	uint64_t bytes;
	uint32_t link_seq;
	uint16_t ip_id;
} __rte_cache_aligned;

struct braid_encap {
	struct braid_encap_stats cnt;
	struct rte_mempool *hdr_pool;
	struct rte_mempool *clone_pool;
	uint32_t session_id;
	uint16_t n_links;
	struct encap_link links[BRAID_WIRE_MAX_LINKS];
};

/* Build the constant part of a link's frame. */
static void
snap_build(struct encap_snap *s, const struct braid_wire_link *l,
	   uint16_t link_id, uint32_t session_id)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)s->tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(s->tmpl + IP_OFF);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(s->tmpl + UDP_OFF);
	struct braid_hdr *bh = (struct braid_hdr *)(s->tmpl + BH_OFF);

	memset(s, 0, sizeof(*s));
	rte_ether_addr_copy(&l->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&l->src_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = l->tos;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(l->local_ip);
	ip->dst_addr = rte_cpu_to_be_32(l->peer_ip);
	udp->src_port = rte_cpu_to_be_16(l->local_port);
	udp->dst_port = rte_cpu_to_be_16(l->peer_port);
	bh->magic = rte_cpu_to_be_16(BRAID_WIRE_MAGIC);
	bh->version = BRAID_WIRE_VERSION;
	bh->link_id = rte_cpu_to_be_16(link_id);
	bh->session_id = rte_cpu_to_be_32(session_id);
	s->mtu = l->mtu;
	s->tx_offloads = l->tx_offloads;
	s->resolved = !rte_is_zero_ether_addr(&l->dst_mac) && l->local_ip != 0;
}

static void
snap_read(const struct encap_link *l, struct encap_snap *s)
{
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&l->lock);
		rte_memcpy(s, &l->snap, sizeof(*s));
	} while (rte_seqlock_read_retry(&l->lock, sn));
}

struct braid_encap *
braid_encap_create(const struct braid_encap_conf *conf, int socket)
{
	struct braid_encap *e;

	if (conf == NULL || conf->n_links == 0 || conf->n_links > BRAID_WIRE_MAX_LINKS) {
		WIRE_LOG(ERR, "encap: n_links must be 1..%u", BRAID_WIRE_MAX_LINKS);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->session_id == 0) {
		WIRE_LOG(ERR, "encap: session_id must be non-zero (random per start)");
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->hdr_pool == NULL || conf->clone_pool == NULL ||
	    rte_pktmbuf_data_room_size(conf->hdr_pool) <
	    RTE_PKTMBUF_HEADROOM + BRAID_WIRE_OVERHEAD) {
		WIRE_LOG(ERR, "encap: hdr_pool (data room >= %u) and clone_pool required",
			 (unsigned int)(RTE_PKTMBUF_HEADROOM + BRAID_WIRE_OVERHEAD));
		rte_errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < conf->n_links; i++) {
		if (!wire_link_valid(&conf->links[i], i, true)) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	e = rte_zmalloc_socket("braid_encap", sizeof(*e), RTE_CACHE_LINE_SIZE, socket);
	if (e == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	e->hdr_pool = conf->hdr_pool;
	e->clone_pool = conf->clone_pool;
	e->session_id = conf->session_id;
	e->n_links = conf->n_links;
	for (uint16_t i = 0; i < conf->n_links; i++) {
		struct encap_link *l = &e->links[i];

		rte_seqlock_init(&l->lock);
		l->conf = conf->links[i];
		snap_build(&l->snap, &conf->links[i], i, conf->session_id);
	}
	return e;
}

void
braid_encap_free(struct braid_encap *e)
{
	rte_free(e);
}

int
braid_encap_link_set(struct braid_encap *e, uint16_t link_id,
		     const struct braid_wire_link *link)
{
	struct encap_snap s;
	struct encap_link *l;

	if (e == NULL || link == NULL || link_id >= e->n_links ||
	    !wire_link_valid(link, link_id, true))
		return -EINVAL;
	snap_build(&s, link, link_id, e->session_id);
	l = &e->links[link_id];
	rte_seqlock_write_lock(&l->lock);
	l->conf = *link;
	l->snap = s;
	rte_seqlock_write_unlock(&l->lock);
	return 0;
}

int
braid_encap_link_get(struct braid_encap *e, uint16_t link_id,
		     struct braid_wire_link *link)
{
	struct encap_link *l;
	uint32_t sn;

	if (e == NULL || link == NULL || link_id >= e->n_links)
		return -EINVAL;
	l = &e->links[link_id];
	do {
		sn = rte_seqlock_read_begin(&l->lock);
		*link = l->conf;
	} while (rte_seqlock_read_retry(&l->lock, sn));
	return 0;
}

int
braid_encap_link_stats(const struct braid_encap *e, uint16_t link_id,
		       struct braid_encap_link_stats *st)
{
	const struct encap_link *l;

	if (e == NULL || st == NULL || link_id >= e->n_links)
		return -EINVAL;
	l = &e->links[link_id];
	st->frames = __atomic_load_n(&l->frames, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&l->bytes, __ATOMIC_RELAXED);
	st->next_link_seq = __atomic_load_n(&l->link_seq, __ATOMIC_RELAXED);
	return 0;
}

void
braid_encap_stats(const struct braid_encap *e, struct braid_encap_stats *c)
{
	*c = e->cnt;
}

/*
 * Wire type of @p meta, with its FEC fields checked. Returns 0 if the
 * metadata cannot be put on the wire (counted drop_bad_meta).
 */
static inline uint8_t
meta_wire_type(const struct braid_meta *meta, uint32_t pkt_len)
{
	uint8_t type = meta->pkt_type;
	unsigned int k = meta->fec_k, m = meta->fec_m;

	if (type == 0)
		type = (meta->flags & BRAID_META_F_PARITY) ? BRAID_PKT_PARITY : BRAID_PKT_DATA;
	switch (type) {
	case BRAID_PKT_DATA:
		if (k != 0 && (meta->block_idx >= k || k + m > BRAID_WIRE_FEC_MAX_N))
			return 0;
		return type;
	case BRAID_PKT_PARITY:
		if (k == 0 || m == 0 || k + m > BRAID_WIRE_FEC_MAX_N ||
		    meta->block_idx < k || meta->block_idx >= k + m ||
		    pkt_len == 0 || meta->fec_len != pkt_len)
			return 0;
		return type;
	case BRAID_PKT_NACK:
	case BRAID_PKT_PROBE:
	case BRAID_PKT_PROBE_REPLY:
		return type;
	default:
		return 0;
	}
}

/* Type-dependent braid header fields (the constant ones come from the
 * template). Fields that do not apply to the type are zero. */
static inline void
bh_fill(struct braid_hdr *bh, const struct braid_meta *meta, uint8_t type,
	uint16_t inner_len, uint32_t link_seq, rte_be32_t tx_us)
{
	bh->type = type;
	bh->flags = ((meta->flags & BRAID_META_F_RETX) ? BRAID_WIRE_F_RETX : 0) |
		    ((meta->flags & BRAID_META_F_DUP) ? BRAID_WIRE_F_DUP : 0);
	bh->inner_len = rte_cpu_to_be_16(inner_len);
	bh->link_seq = rte_cpu_to_be_32(link_seq);
	bh->tx_us = tx_us;
	switch (type) {
	case BRAID_PKT_DATA:
		bh->class_id = rte_cpu_to_be_16(meta->class_id);
		bh->seq = rte_cpu_to_be_32(meta->seq);
		bh->inner_proto = rte_cpu_to_be_16(BRAID_WIRE_PROTO_IPV4);
		if (meta->fec_k != 0) {
			bh->block_id = rte_cpu_to_be_32(meta->block_id);
			bh->block_idx = meta->block_idx;
			bh->fec_k = meta->fec_k;
			bh->fec_m = meta->fec_m;
		}
		break;
	case BRAID_PKT_PARITY:
		bh->class_id = rte_cpu_to_be_16(meta->class_id);
		bh->seq = rte_cpu_to_be_32(meta->seq);
		bh->block_id = rte_cpu_to_be_32(meta->block_id);
		bh->block_idx = meta->block_idx;
		bh->fec_k = meta->fec_k;
		bh->fec_m = meta->fec_m;
		bh->fec_len = rte_cpu_to_be_16(meta->fec_len);
		break;
	case BRAID_PKT_NACK:
		bh->class_id = rte_cpu_to_be_16(meta->class_id);
		break;
	default:
		break;
	}
}

uint16_t
braid_encap_burst(struct braid_encap *e, struct rte_mbuf **pkts, uint16_t n,
		  uint64_t now_ns)
{
	struct encap_snap snaps[BRAID_WIRE_MAX_LINKS];
	uint32_t loaded = 0;
	const rte_be32_t tx_us = rte_cpu_to_be_32((uint32_t)(now_ns / 1000));
	uint64_t bytes = 0, in_place = 0, chained = 0;
	uint64_t too_big = 0, no_mbuf = 0, bad_link = 0, bad_meta = 0, no_nh = 0;
	uint16_t nout = 0;

	RTE_BUILD_BUG_ON(BRAID_WIRE_MAX_LINKS > 32);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *head;
		struct braid_meta *meta = braid_meta(m);
		uint16_t link_id = meta->link_id;
		const struct encap_snap *s;
		struct encap_link *l;
		struct rte_ipv4_hdr *ip;
		struct rte_udp_hdr *udp;
		uint8_t *f, type;
		uint32_t inner_len = rte_pktmbuf_pkt_len(m);
		uint64_t ol;

		if (unlikely(link_id >= e->n_links)) {
			bad_link++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (!(loaded & (1u << link_id))) {
			snap_read(&e->links[link_id], &snaps[link_id]);
			loaded |= 1u << link_id;
		}
		s = &snaps[link_id];
		l = &e->links[link_id];
		type = meta_wire_type(meta, inner_len);
		if (unlikely(type == 0)) {
			bad_meta++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(inner_len + BRAID_WIRE_IP_OVERHEAD > s->mtu)) {
			too_big++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(!s->resolved)) {
			no_nh++;
			rte_pktmbuf_free(m);
			continue;
		}

		if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
		    rte_pktmbuf_headroom(m) >= BRAID_WIRE_OVERHEAD) {
			head = m;
			f = (uint8_t *)rte_pktmbuf_prepend(m, BRAID_WIRE_OVERHEAD);
			in_place++;
		} else {
			struct rte_mbuf *c;

			head = rte_pktmbuf_alloc(e->hdr_pool);
			c = rte_pktmbuf_clone(m, e->clone_pool);
			if (unlikely(head == NULL || c == NULL)) {
				rte_pktmbuf_free(head);
				rte_pktmbuf_free(c);
				rte_pktmbuf_free(m);
				no_mbuf++;
				continue;
			}
			head->port = m->port;
			rte_mbuf_dynfield_copy(head, m);
			f = (uint8_t *)rte_pktmbuf_append(head, BRAID_WIRE_OVERHEAD);
			head->next = c;
			head->nb_segs = (uint16_t)(1 + c->nb_segs);
			head->pkt_len = BRAID_WIRE_OVERHEAD + c->pkt_len;
			/* Our reference now lives in the clone. */
			rte_pktmbuf_free(m);
			chained++;
		}

		rte_memcpy(f, s->tmpl, BRAID_WIRE_OVERHEAD);
		ip = (struct rte_ipv4_hdr *)(f + IP_OFF);
		udp = (struct rte_udp_hdr *)(f + UDP_OFF);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(inner_len + BRAID_WIRE_IP_OVERHEAD));
		ip->packet_id = rte_cpu_to_be_16(l->ip_id);
		l->ip_id++;
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(inner_len + sizeof(struct rte_udp_hdr) +
							     sizeof(struct braid_hdr)));
		bh_fill((struct braid_hdr *)(f + BH_OFF), braid_meta(head), type,
			(uint16_t)inner_len, l->link_seq, tx_us);

		ol = head->ol_flags & ~RTE_MBUF_F_TX_OFFLOAD_MASK;
		head->l2_len = RTE_ETHER_HDR_LEN;
		head->l3_len = sizeof(struct rte_ipv4_hdr);
		head->l4_len = sizeof(struct rte_udp_hdr);
		head->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP;
		if (s->tx_offloads & BRAID_WIRE_TXO_IPV4_CKSUM)
			ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		else
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (s->tx_offloads & BRAID_WIRE_TXO_UDP_CKSUM) {
			ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, ol);
		} else if (s->tx_offloads & BRAID_WIRE_TXO_UDP_SW) {
			uint16_t sum = (uint16_t)~wire_udp_sum(head, ip, UDP_OFF,
							      rte_be_to_cpu_16(udp->dgram_len));

			/* RFC 768: a computed 0 is sent as all ones */
			udp->dgram_cksum = sum == 0 ? 0xffff : sum;
		}
		head->ol_flags = ol;

		__atomic_store_n(&l->link_seq, l->link_seq + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&l->frames, l->frames + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&l->bytes, l->bytes + head->pkt_len, __ATOMIC_RELAXED);
		bytes += head->pkt_len;
		pkts[nout++] = head;
	}
	e->cnt.encap_packets += nout;
	e->cnt.bytes += bytes;
	e->cnt.in_place += in_place;
	e->cnt.chained += chained;
	e->cnt.drop_too_big += too_big;
	e->cnt.drop_no_mbuf += no_mbuf;
	e->cnt.drop_bad_link += bad_link;
	e->cnt.drop_bad_meta += bad_meta;
	e->cnt.drop_no_nexthop += no_nh;
	return nout;
}

/* ---- stage ops ---- */

static void
encap_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	      struct braid_burst *out, uint64_t now_ns)
{
	struct braid_encap *e = ctx;
	uint16_t room = braid_burst_room(out), nout;

	if (unlikely(n > room)) {
		/* Frames are 1:1 with packets: what cannot go out is dropped
		 * before any work is done on it. */
		rte_pktmbuf_free_bulk(pkts + room, n - room);
		e->cnt.drop_burst_full += n - room;
		n = room;
	}
	nout = braid_encap_burst(e, pkts, n, now_ns);
	memcpy(out->pkts + out->n, pkts, nout * sizeof(pkts[0]));
	out->n += nout;
}

static void
encap_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_encap *e = ctx;

	BRAID_COUNTERS_REPORT(BRAID_ENCAP_COUNTERS, &e->cnt, fn, arg);
}

const struct braid_stage_ops braid_encap_stage_ops = {
	.kind = "encap",
	.flags = 0,
	.process = encap_process,
	.poll = NULL,
	.drain = NULL,
	.stats = encap_stats,
};
