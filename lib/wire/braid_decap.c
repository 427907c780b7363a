/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive side of the tunnel: validate a link frame, strip it, fill the
 * meta (braid_decap_one), and the "rx_decap" stage (session rule, per-link
 * views, control and punt rings).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_decap.h"
#include "braid_meta.h"
#include "wire_priv.h"

struct decap_link {
	rte_be32_t local_ip;    /* 0: none (a dhcp port without a lease); atomic */
	rte_be32_t peer_ip;
	rte_be16_t local_port;
	rte_be16_t peer_port;   /* 0 = any */
};

/* Per-link receive accounting (RFC 3550 A.3 style) for probe replies.
 * Written by the stage's lcore only; the pub_ fields are read by others. */
struct decap_view {
	uint64_t pub_rx_packets;
	uint64_t pub_lost;
	uint32_t pub_max_seq;
	uint32_t pub_session;
	uint64_t rx_packets;
	uint64_t base_ext;      /* extended link_seq of the first frame */
	uint64_t max_ext;       /* highest extended link_seq */
	bool started;
} __rte_cache_aligned;

struct braid_decap {
	struct braid_decap_stats cnt;
	/* Immutable after create (but a link's local_ip, atomic): what
	 * braid_decap_one() reads. */
	uint16_t n_links;
	uint16_t n_classes;
	uint16_t n_ports;
	rte_be16_t ports[BRAID_WIRE_MAX_LINKS];   /* distinct local ports */
	struct decap_link links[BRAID_WIRE_MAX_LINKS];
	struct rte_ring *ctrl_ring;
	struct rte_ring *punt_ring;
	rte_be16_t punt_udp_port;
	bool require_udp_cksum;
	bool confirm_session;
	bool require_sealed;
	/* Stage state. */
	uint32_t session;
	uint32_t prev_session;
	bool have_session;
	bool have_prev;
	bool have_candidate;    /* a new session seen once, not adopted yet */
	bool flag_session;      /* flag the next payload: the peer restarted */
	uint32_t candidate;
	uint64_t pub_session;   /* 1 << 32 | session once one is seen */
	struct decap_view views[BRAID_WIRE_MAX_LINKS];
};

static const char *const verdict_names[BRAID_DECAP_VERDICT_MAX] = {
	[BRAID_DECAP_OK] = "ok",
	[BRAID_DECAP_PUNT] = "punt",
	[BRAID_DECAP_DROP_SHORT] = "drop_short",
	[BRAID_DECAP_DROP_HDR_SPLIT] = "drop_hdr_split",
	[BRAID_DECAP_DROP_NOT_IPV4] = "drop_not_ipv4",
	[BRAID_DECAP_DROP_BAD_CKSUM] = "drop_bad_cksum",
	[BRAID_DECAP_DROP_FRAGMENT] = "drop_fragment",
	[BRAID_DECAP_DROP_NOT_UDP] = "drop_not_udp",
	[BRAID_DECAP_DROP_BAD_UDP] = "drop_bad_udp",
	[BRAID_DECAP_DROP_FOREIGN] = "drop_foreign",
	[BRAID_DECAP_DROP_BAD_MAGIC] = "drop_bad_magic",
	[BRAID_DECAP_DROP_BAD_VERSION] = "drop_bad_version",
	[BRAID_DECAP_DROP_BAD_TYPE] = "drop_bad_type",
	[BRAID_DECAP_DROP_BAD_CLASS] = "drop_bad_class",
	[BRAID_DECAP_DROP_BAD_LENGTH] = "drop_bad_length",
	[BRAID_DECAP_DROP_BAD_FEC] = "drop_bad_fec",
	[BRAID_DECAP_DROP_UNSEALED] = "drop_unsealed",
	[BRAID_DECAP_DROP_SEALED] = "drop_sealed",
};

#define CNT_OFF(f) offsetof(struct braid_decap_stats, f)
/* Counter each drop verdict lands in. */
static const size_t verdict_counter[BRAID_DECAP_VERDICT_MAX] = {
	[BRAID_DECAP_DROP_SHORT] = CNT_OFF(drop_short),
	[BRAID_DECAP_DROP_HDR_SPLIT] = CNT_OFF(drop_hdr_split),
	[BRAID_DECAP_DROP_NOT_IPV4] = CNT_OFF(drop_not_ipv4),
	[BRAID_DECAP_DROP_BAD_CKSUM] = CNT_OFF(drop_bad_cksum),
	[BRAID_DECAP_DROP_FRAGMENT] = CNT_OFF(drop_fragment),
	[BRAID_DECAP_DROP_NOT_UDP] = CNT_OFF(drop_not_udp),
	[BRAID_DECAP_DROP_BAD_UDP] = CNT_OFF(drop_bad_udp),
	[BRAID_DECAP_DROP_FOREIGN] = CNT_OFF(drop_foreign),
	[BRAID_DECAP_DROP_BAD_MAGIC] = CNT_OFF(drop_bad_magic),
	[BRAID_DECAP_DROP_BAD_VERSION] = CNT_OFF(drop_bad_version),
	[BRAID_DECAP_DROP_BAD_TYPE] = CNT_OFF(drop_bad_type),
	[BRAID_DECAP_DROP_BAD_CLASS] = CNT_OFF(drop_bad_class),
	[BRAID_DECAP_DROP_BAD_LENGTH] = CNT_OFF(drop_bad_length),
	[BRAID_DECAP_DROP_UNSEALED] = CNT_OFF(drop_unsealed),
	[BRAID_DECAP_DROP_SEALED] = CNT_OFF(drop_sealed),
	[BRAID_DECAP_DROP_BAD_FEC] = CNT_OFF(drop_bad_fec),
};

const char *
braid_decap_verdict_name(enum braid_decap_verdict v)
{
	if ((unsigned int)v >= BRAID_DECAP_VERDICT_MAX)
		return "unknown";
	return verdict_names[v];
}

struct braid_decap *
braid_decap_create(const struct braid_decap_conf *conf, int socket)
{
	struct braid_decap *d;

	if (conf == NULL || conf->n_links == 0 || conf->n_links > BRAID_WIRE_MAX_LINKS) {
		WIRE_LOG(ERR, "decap: n_links must be 1..%u", BRAID_WIRE_MAX_LINKS);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_classes == 0) {
		WIRE_LOG(ERR, "decap: n_classes must be >= 1");
		rte_errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < conf->n_links; i++) {
		if (!wire_link_valid(&conf->links[i], i, false)) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	d = rte_zmalloc_socket("braid_decap", sizeof(*d), RTE_CACHE_LINE_SIZE, socket);
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d->n_links = conf->n_links;
	d->n_classes = conf->n_classes;
	d->ctrl_ring = conf->ctrl_ring;
	d->punt_ring = conf->punt_ring;
	d->punt_udp_port = rte_cpu_to_be_16(conf->punt_udp_port);
	d->require_udp_cksum = conf->require_udp_cksum;
	d->confirm_session = conf->confirm_session;
	d->require_sealed = conf->require_sealed;
	for (uint16_t i = 0; i < conf->n_links; i++) {
		const struct braid_wire_link *l = &conf->links[i];
		rte_be16_t port = rte_cpu_to_be_16(l->local_port);
		uint16_t j;

		d->links[i].local_ip = rte_cpu_to_be_32(l->local_ip);
		d->links[i].peer_ip = rte_cpu_to_be_32(l->peer_ip);
		d->links[i].local_port = port;
		d->links[i].peer_port = rte_cpu_to_be_16(l->peer_port);
		for (j = 0; j < d->n_ports && d->ports[j] != port; j++)
			;
		if (j == d->n_ports)
			d->ports[d->n_ports++] = port;
	}
	return d;
}

void
braid_decap_free(struct braid_decap *d)
{
	rte_free(d);
}

static inline bool
port_is_local(const struct braid_decap *d, rte_be16_t port)
{
	for (uint16_t i = 0; i < d->n_ports; i++)
		if (d->ports[i] == port)
			return true;
	return false;
}

/* FEC fields of a data piece: all zero without FEC, else idx < k <= n. */
static inline bool
data_fec_valid(const struct braid_hdr *bh)
{
	unsigned int k = bh->fec_k, m = bh->fec_m;

	if (bh->fec_len != 0)
		return false;
	if (k == 0)
		return m == 0 && bh->block_idx == 0 && bh->block_id == 0;
	return bh->block_idx < k && k + m <= BRAID_WIRE_FEC_MAX_N;
}

static inline bool
parity_fec_valid(const struct braid_hdr *bh)
{
	unsigned int k = bh->fec_k, m = bh->fec_m;

	return k >= 1 && m >= 1 && k + m <= BRAID_WIRE_FEC_MAX_N &&
	       bh->block_idx >= k && bh->block_idx < k + m;
}

static inline bool
ctrl_fec_zero(const struct braid_hdr *bh)
{
	return bh->block_id == 0 && bh->block_idx == 0 && bh->fec_k == 0 &&
	       bh->fec_m == 0 && bh->fec_len == 0;
}

/* A NACK payload at @p off of @p m, @p len bytes: structure valid? */
static bool
nack_payload_valid(const struct rte_mbuf *m, uint32_t off, uint16_t len)
{
	uint8_t buf[BRAID_NACK_MAX_LEN];
	struct braid_nack nack;
	const void *p;

	if (len < sizeof(struct braid_nack_wire) || len > sizeof(buf))
		return false;
	p = rte_pktmbuf_read(m, off, len, buf);
	return p != NULL && braid_wire_nack_decode(p, len, &nack) == 0;
}

enum braid_decap_verdict
braid_decap_one(const struct braid_decap *d, struct rte_mbuf *m,
		struct braid_decap_info *info)
{
	const uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
	const uint32_t seg_len = rte_pktmbuf_data_len(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)p;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	const struct braid_hdr *bh;
	const struct decap_link *l;
	struct braid_meta *meta;
	uint32_t hl, tl, udp_len, hdr_end, excess;
	uint16_t inner_len, link_id, class_id;
	uint64_t flags;
	uint8_t type, mflags;
	const bool opened = (braid_meta(m)->flags & BRAID_META_F_OPENED) != 0;

	/* Ethernet */
	if (pkt_len < RTE_ETHER_HDR_LEN)
		return BRAID_DECAP_DROP_SHORT;
	if (seg_len < RTE_ETHER_HDR_LEN)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return BRAID_DECAP_PUNT;
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return BRAID_DECAP_DROP_NOT_IPV4;

	/* IPv4 */
	if (pkt_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return BRAID_DECAP_DROP_SHORT;
	if (seg_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return BRAID_DECAP_DROP_HDR_SPLIT;
	ip = (const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5)
		return BRAID_DECAP_DROP_NOT_IPV4;
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (pkt_len < RTE_ETHER_HDR_LEN + hl)
		return BRAID_DECAP_DROP_SHORT;
	if (seg_len < RTE_ETHER_HDR_LEN + hl)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	tl = rte_be_to_cpu_16(ip->total_length);
	if (tl < hl)
		return BRAID_DECAP_DROP_NOT_IPV4;
	if (RTE_ETHER_HDR_LEN + tl > pkt_len)
		return BRAID_DECAP_DROP_SHORT;
	flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (flags == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (flags == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && rte_raw_cksum(ip, hl) != 0xffff))
		return BRAID_DECAP_DROP_BAD_CKSUM;
	if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return BRAID_DECAP_DROP_FRAGMENT;
	if (ip->next_proto_id == IPPROTO_ICMP)
		return BRAID_DECAP_PUNT;
	if (ip->next_proto_id != IPPROTO_UDP)
		return BRAID_DECAP_DROP_NOT_UDP;

	/* UDP */
	if (tl < hl + sizeof(*udp))
		return BRAID_DECAP_DROP_BAD_UDP;
	if (seg_len < RTE_ETHER_HDR_LEN + hl + sizeof(*udp))
		return BRAID_DECAP_DROP_HDR_SPLIT;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hl);
	/* Not to a tunnel port: maybe the control stage's (DHCP), never
	 * a cost for tunnel frames. */
	if (!port_is_local(d, udp->dst_port))
		return udp->dst_port == d->punt_udp_port && d->punt_udp_port != 0 ?
		       BRAID_DECAP_PUNT : BRAID_DECAP_DROP_BAD_UDP;
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len != tl - hl)
		return BRAID_DECAP_DROP_BAD_UDP;
	/* An opened frame's tag covered more than a checksum would. */
	if (udp->dgram_cksum == 0 && d->require_udp_cksum && !opened)
		return BRAID_DECAP_DROP_BAD_CKSUM;
	if (udp->dgram_cksum != 0) {
		flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (flags == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		    (flags == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN &&
		     wire_udp_sum(m, ip, RTE_ETHER_HDR_LEN + hl, udp_len) != 0xffff))
			return BRAID_DECAP_DROP_BAD_CKSUM;
	}

	/* braid header */
	if (udp_len < sizeof(*udp) + sizeof(*bh))
		return BRAID_DECAP_DROP_SHORT;
	hdr_end = RTE_ETHER_HDR_LEN + hl + sizeof(*udp) + sizeof(*bh);
	if (seg_len < hdr_end)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	bh = (const struct braid_hdr *)((const uint8_t *)udp + sizeof(*udp));
	if (bh->magic != RTE_BE16(BRAID_WIRE_MAGIC))
		return BRAID_DECAP_DROP_BAD_MAGIC;
	if (bh->version != BRAID_WIRE_VERSION)
		return BRAID_DECAP_DROP_BAD_VERSION;
	if (d->require_sealed && !opened)
		return BRAID_DECAP_DROP_UNSEALED;
	/* A peer with crypto (sealed frames, its HELLOs) and none here. */
	if ((bh->flags & BRAID_WIRE_F_SEALED) || bh->type == BRAID_PKT_HELLO)
		return BRAID_DECAP_DROP_SEALED;
	type = bh->type;
	if (type == 0 || type > BRAID_PKT_TYPE_MAX)
		return BRAID_DECAP_DROP_BAD_TYPE;

	/* the link */
	link_id = rte_be_to_cpu_16(bh->link_id);
	if (link_id >= d->n_links)
		return BRAID_DECAP_DROP_FOREIGN;
	l = &d->links[link_id];
	if (ip->dst_addr != __atomic_load_n(&l->local_ip, __ATOMIC_RELAXED) ||
	    ip->dst_addr == 0 || udp->dst_port != l->local_port ||
	    (l->peer_ip != 0 && ip->src_addr != l->peer_ip) ||
	    (l->peer_port != 0 && udp->src_port != l->peer_port))
		return BRAID_DECAP_DROP_FOREIGN;

	/* lengths, class, FEC */
	inner_len = rte_be_to_cpu_16(bh->inner_len);
	if (inner_len != udp_len - sizeof(*udp) - sizeof(*bh))
		return BRAID_DECAP_DROP_BAD_LENGTH;
	class_id = rte_be_to_cpu_16(bh->class_id);
	switch (type) {
	case BRAID_PKT_DATA: {
		uint8_t tmp[4];
		const uint8_t *in;

		if (class_id >= d->n_classes)
			return BRAID_DECAP_DROP_BAD_CLASS;
		if (bh->inner_proto != RTE_BE16(BRAID_WIRE_PROTO_IPV4))
			return BRAID_DECAP_DROP_BAD_TYPE;
		if (!data_fec_valid(bh))
			return BRAID_DECAP_DROP_BAD_FEC;
		if (inner_len < sizeof(struct rte_ipv4_hdr))
			return BRAID_DECAP_DROP_BAD_LENGTH;
		in = rte_pktmbuf_read(m, hdr_end, sizeof(tmp), tmp);
		if (in == NULL || (in[0] >> 4) != 4 || (in[0] & 0xf) < 5 ||
		    ((uint32_t)in[2] << 8 | in[3]) != inner_len)
			return BRAID_DECAP_DROP_BAD_LENGTH;
		break;
	}
	case BRAID_PKT_PARITY:
		if (class_id >= d->n_classes)
			return BRAID_DECAP_DROP_BAD_CLASS;
		if (!parity_fec_valid(bh))
			return BRAID_DECAP_DROP_BAD_FEC;
		if (inner_len == 0 || rte_be_to_cpu_16(bh->fec_len) != inner_len)
			return BRAID_DECAP_DROP_BAD_LENGTH;
		break;
	case BRAID_PKT_NACK:
		if (class_id >= d->n_classes)
			return BRAID_DECAP_DROP_BAD_CLASS;
		if (!ctrl_fec_zero(bh))
			return BRAID_DECAP_DROP_BAD_FEC;
		if (!nack_payload_valid(m, hdr_end, inner_len))
			return BRAID_DECAP_DROP_BAD_LENGTH;
		break;
	case BRAID_PKT_PROBE:
		if (!ctrl_fec_zero(bh))
			return BRAID_DECAP_DROP_BAD_FEC;
		/* an MTU probe carries zero padding after the 16 bytes */
		if (inner_len < sizeof(struct braid_probe_wire))
			return BRAID_DECAP_DROP_BAD_LENGTH;
		break;
	default: /* BRAID_PKT_PROBE_REPLY */
		if (!ctrl_fec_zero(bh))
			return BRAID_DECAP_DROP_BAD_FEC;
		if (inner_len != sizeof(struct braid_probe_reply_wire))
			return BRAID_DECAP_DROP_BAD_LENGTH;
		break;
	}
	/* Link-layer padding after the IPv4 packet is trimmed from the last
	 * segment; more than that segment holds is not padding. */
	excess = pkt_len - RTE_ETHER_HDR_LEN - tl;
	if (excess > rte_pktmbuf_data_len(rte_pktmbuf_lastseg(m)))
		return BRAID_DECAP_DROP_BAD_LENGTH;

	/* Accepted: fill meta and info, then strip. */
	mflags = ((bh->flags & BRAID_WIRE_F_RETX) ? BRAID_META_F_RETX : 0) |
		 ((bh->flags & BRAID_WIRE_F_DUP) ? BRAID_META_F_DUP : 0) |
		 (type == BRAID_PKT_PARITY ? BRAID_META_F_PARITY : 0);
	meta = braid_meta(m);
	meta->pkt_type = type;
	meta->flags = mflags;
	meta->link_id = link_id;
	if (type == BRAID_PKT_DATA || type == BRAID_PKT_PARITY) {
		meta->class_id = class_id;
		meta->seq = rte_be_to_cpu_32(bh->seq);
	} else {
		meta->class_id = type == BRAID_PKT_NACK ? class_id : BRAID_CLASS_NONE;
		meta->seq = 0;
	}
	meta->block_id = rte_be_to_cpu_32(bh->block_id);
	meta->block_idx = bh->block_idx;
	meta->fec_k = bh->fec_k;
	meta->fec_m = bh->fec_m;
	meta->fec_len = rte_be_to_cpu_16(bh->fec_len);
	if (info != NULL) {
		info->session_id = rte_be_to_cpu_32(bh->session_id);
		info->link_seq = rte_be_to_cpu_32(bh->link_seq);
		info->tx_us = rte_be_to_cpu_32(bh->tx_us);
		info->link_id = link_id;
		info->type = type;
		info->flags = bh->flags;
	}
	rte_pktmbuf_adj(m, (uint16_t)hdr_end);
	if (excess != 0)
		rte_pktmbuf_trim(m, (uint16_t)excess);
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	m->packet_type = type == BRAID_PKT_DATA ? RTE_PTYPE_L3_IPV4 : 0;
	return BRAID_DECAP_OK;
}

/* ---- the stage ---- */

static void
view_publish(struct decap_view *v, uint32_t session)
{
	uint64_t expected = v->started ? v->max_ext - v->base_ext + 1 : 0;
	uint64_t lost = expected > v->rx_packets ? expected - v->rx_packets : 0;

	__atomic_store_n(&v->pub_rx_packets, v->rx_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&v->pub_lost, lost, __ATOMIC_RELAXED);
	__atomic_store_n(&v->pub_max_seq, (uint32_t)v->max_ext, __ATOMIC_RELAXED);
	__atomic_store_n(&v->pub_session, session, __ATOMIC_RELAXED);
}

static void
views_reset(struct braid_decap *d)
{
	for (uint16_t i = 0; i < d->n_links; i++) {
		struct decap_view *v = &d->views[i];

		v->rx_packets = 0;
		v->base_ext = 0;
		v->max_ext = 0;
		v->started = false;
		view_publish(v, d->session);
	}
}

static inline void
view_update(struct decap_view *v, uint32_t link_seq)
{
	uint64_t ext;

	if (unlikely(!v->started)) {
		v->started = true;
		/* Start the extended space at 2^32 so frames older than the
		 * first one seen still extend below it. */
		v->base_ext = (1ULL << 32) | link_seq;
		v->max_ext = v->base_ext;
	} else {
		ext = braid_seq_extend(v->max_ext, link_seq);
		if (ext > v->max_ext)
			v->max_ext = ext;
		else if (ext < v->base_ext)
			v->base_ext = ext;
	}
	v->rx_packets++;
}

/* Session rule. @return false if the frame belongs to the session that
 * was replaced (stale: drop) or to a new session not confirmed yet (its
 * first frame: drop, drop_session_unconfirmed). */
static inline bool
session_accept(struct braid_decap *d, uint32_t session)
{
	if (likely(d->have_session && session == d->session))
		return true;
	if (d->have_prev && session == d->prev_session)
		return false;
	if (d->have_session) {
		/* A new session is adopted on its second frame: one damaged or
		 * forged frame cannot reset the receive state. */
		if (d->confirm_session &&
		    (!d->have_candidate || d->candidate != session)) {
			d->candidate = session;
			d->have_candidate = true;
			d->cnt.drop_session_unconfirmed++;
			return false;
		}
		d->have_candidate = false;
		d->prev_session = d->session;
		d->have_prev = true;
		d->cnt.session_changes++;
		/* Frames of the old session are stale from now on: the next
		 * payload accepted is the new session's first. */
		d->flag_session = true;
	}
	d->session = session;
	d->have_session = true;
	__atomic_store_n(&d->pub_session, (1ULL << 32) | session, __ATOMIC_RELAXED);
	views_reset(d);
	return true;
}

/* Frames held for a ring within one burst, flushed when full. */
#define RING_STASH 64

struct ring_stash {
	unsigned int n;
	struct rte_mbuf *m[RING_STASH];
};

/* Enqueue the stash to @p r (NULL: no ring); return how many went in,
 * add the refused ones to *refused after freeing them. */
static unsigned int
stash_flush(struct ring_stash *st, struct rte_ring *r, uint64_t *refused)
{
	unsigned int sent = 0;

	if (st->n == 0)
		return 0;
	if (r != NULL)
		sent = rte_ring_enqueue_burst(r, (void **)st->m, st->n, NULL);
	if (sent < st->n) {
		rte_pktmbuf_free_bulk(st->m + sent, st->n - sent);
		*refused += st->n - sent;
	}
	st->n = 0;
	return sent;
}

uint16_t
braid_decap_burst(struct braid_decap *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct ring_stash ctrl, punt;
	uint64_t verdicts[BRAID_DECAP_VERDICT_MAX] = {0};
	uint64_t data = 0, parity = 0, bytes = 0, stale = 0, control = 0;
	uint64_t punted = 0, ctrl_full = 0, punt_refused = 0, restarts = 0;
	uint32_t views_touched = 0;
	uint16_t nout = 0;

	ctrl.n = 0;
	punt.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_decap_info info;
		enum braid_decap_verdict v = braid_decap_one(d, m, &info);

		verdicts[v]++;
		if (v == BRAID_DECAP_PUNT) {
			punt.m[punt.n++] = m;
			if (punt.n == RING_STASH)
				punted += stash_flush(&punt, d->punt_ring, &punt_refused);
			continue;
		}
		if (v != BRAID_DECAP_OK) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(!session_accept(d, info.session_id))) {
			/* (unconfirmed new sessions are counted there) */
			stale += d->confirm_session && d->have_candidate &&
				 d->candidate == info.session_id ? 0 : 1;
			rte_pktmbuf_free(m);
			continue;
		}
		view_update(&d->views[info.link_id], info.link_seq);
		views_touched |= 1u << info.link_id;
		if (unlikely(d->flag_session) &&
		    (info.type == BRAID_PKT_DATA || info.type == BRAID_PKT_PARITY)) {
			braid_meta(m)->flags |= BRAID_META_F_SESSION;
			d->flag_session = false;
			restarts++;
		}
		switch (info.type) {
		case BRAID_PKT_DATA:
			data++;
			bytes += m->pkt_len;
			pkts[nout++] = m;
			break;
		case BRAID_PKT_PARITY:
			parity++;
			bytes += m->pkt_len;
			pkts[nout++] = m;
			break;
		default:
			if (d->ctrl_ring == NULL) {
				control++;
				pkts[nout++] = m;
				break;
			}
			ctrl.m[ctrl.n++] = m;
			if (ctrl.n == RING_STASH)
				control += stash_flush(&ctrl, d->ctrl_ring, &ctrl_full);
			break;
		}
	}
	control += stash_flush(&ctrl, d->ctrl_ring, &ctrl_full);
	punted += stash_flush(&punt, d->punt_ring, &punt_refused);
	for (uint16_t i = 0; i < d->n_links; i++)
		if (views_touched & (1u << i))
			view_publish(&d->views[i], d->session);

	d->cnt.rx_packets += n;
	d->cnt.data += data;
	d->cnt.parity += parity;
	d->cnt.control += control;
	d->cnt.punted += punted;
	d->cnt.bytes += bytes;
	d->cnt.drop_stale_session += stale;
	d->cnt.peer_restarts += restarts;
	d->cnt.drop_ctrl_full += ctrl_full;
	if (d->punt_ring == NULL)
		d->cnt.drop_no_punt += punt_refused;
	else
		d->cnt.drop_punt_full += punt_refused;
	for (unsigned int v = BRAID_DECAP_DROP_SHORT; v < BRAID_DECAP_VERDICT_MAX; v++)
		*(uint64_t *)((char *)&d->cnt + verdict_counter[v]) += verdicts[v];
	return nout;
}

/* Remove the empty head segment of @m; @return the new head. */
static struct rte_mbuf *
drop_empty_head(struct rte_mbuf *m)
{
	struct rte_mbuf *next = m->next;

	next->pkt_len = m->pkt_len;
	next->nb_segs = (uint16_t)(m->nb_segs - 1);
	next->port = m->port;
	/* RX flags from the head; whether next is a clone stays next's own. */
	next->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) |
			 (next->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
	next->packet_type = m->packet_type;
	rte_mbuf_dynfield_copy(next, m);
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	rte_pktmbuf_free_seg(m);
	return next;
}

int
braid_decap_flatten(struct rte_mbuf **m, uint64_t *unchained)
{
	while ((*m)->nb_segs > 1 && (*m)->data_len == 0) {
		*m = drop_empty_head(*m);
		(*unchained)++;
	}
	if ((*m)->nb_segs == 1)
		return 0;
	return rte_pktmbuf_linearize(*m) == 0 ? 1 : -ENOMEM;
}

int
braid_decap_link_local_set(struct braid_decap *d, uint16_t link_id, uint32_t local_ip)
{
	if (link_id >= d->n_links)
		return -EINVAL;
	__atomic_store_n(&d->links[link_id].local_ip, rte_cpu_to_be_32(local_ip),
			 __ATOMIC_RELAXED);
	return 0;
}

bool
braid_decap_session(const struct braid_decap *d, uint32_t *session_id)
{
	uint64_t s = __atomic_load_n(&d->pub_session, __ATOMIC_RELAXED);

	if (s == 0)
		return false;
	if (session_id != NULL)
		*session_id = (uint32_t)s;
	return true;
}

int
braid_decap_link_view(const struct braid_decap *d, uint16_t link_id,
		      struct braid_decap_link_view *v)
{
	const struct decap_view *w;

	if (d == NULL || v == NULL || link_id >= d->n_links)
		return -EINVAL;
	w = &d->views[link_id];
	v->rx_packets = __atomic_load_n(&w->pub_rx_packets, __ATOMIC_RELAXED);
	v->lost = __atomic_load_n(&w->pub_lost, __ATOMIC_RELAXED);
	v->max_link_seq = __atomic_load_n(&w->pub_max_seq, __ATOMIC_RELAXED);
	v->session_id = __atomic_load_n(&w->pub_session, __ATOMIC_RELAXED);
	return 0;
}

void
braid_decap_stats(const struct braid_decap *d, struct braid_decap_stats *c)
{
	*c = d->cnt;
}

static void
rx_decap_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		 struct braid_burst *out, uint64_t now_ns)
{
	struct braid_decap *d = ctx;
	uint16_t room = braid_burst_room(out), nout;

	RTE_SET_USED(now_ns);
	if (unlikely(n > room)) {
		rte_pktmbuf_free_bulk(pkts + room, n - room);
		d->cnt.rx_packets += n - room;
		d->cnt.drop_burst_full += n - room;
		n = room;
	}
	nout = braid_decap_burst(d, pkts, n);
	memcpy(out->pkts + out->n, pkts, nout * sizeof(pkts[0]));
	out->n += nout;
}

static void
rx_decap_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_decap *d = ctx;

	BRAID_COUNTERS_REPORT(BRAID_DECAP_COUNTERS, &d->cnt, fn, arg);
}

const struct braid_stage_ops braid_decap_stage_ops = {
	.kind = "rx_decap",
	.flags = 0,
	.process = rx_decap_process,
	.poll = NULL,
	.drain = NULL,
	.stats = rx_decap_stats,
};
