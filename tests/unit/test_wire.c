/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/wire: encap -> decap round trips over several links, the documented
 * hex frame byte for byte, MTU drops, zero-copy rules (in place vs
 * chained, original buffers unchanged), control payloads, sequence
 * helpers against a 64-bit reference, the rx_decap stage (session rule,
 * link views, rings) and >= 100 000 random/mutated frames checked against
 * a plain byte-offset reference validator written from doc/wire-format.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_decap.h"
#include "braid_encap.h"
#include "braid_meta.h"
#include "braid_wire.h"
#include "harness.h"

#define POOL_N     8191u
#define N_LINKS    4
#define N_CLASSES  8
#define SESSION_A  0xA1B2C3D4u
#define FUZZ_FRAMES 120000u

static struct rte_mempool *pool;
static uint64_t seed;

/* ---------------------------------------------------------------- helpers */

static uint32_t
ipv4(unsigned int a, unsigned int b, unsigned int c, unsigned int d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One's complement sum of 16-bit big-endian words, folded (no complement). */
static uint32_t
ocsum(const uint8_t *p, size_t len, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += rd16(p + i);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* UDP sum over pseudo header + datagram at @p ip (IPv4 header start). */
static uint32_t
udp_sum(const uint8_t *ip, const uint8_t *udp, uint16_t ulen)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	wr16(ph + 10, ulen);
	return ocsum(udp, ulen, ocsum(ph, sizeof(ph), 0));
}

/* Copy the packet bytes of @p m into @p buf; return the length. */
static uint32_t
flat(const struct rte_mbuf *m, uint8_t *buf)
{
	const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);

	if (p != NULL && p != buf)
		memcpy(buf, p, m->pkt_len);
	return m->pkt_len;
}

/* An mbuf chain holding @p len bytes of @p data in @p nseg segments, the
 * first one starting @p headroom bytes into its buffer. */
static struct rte_mbuf *
mk_pkt(const uint8_t *data, uint32_t len, unsigned int nseg, uint16_t headroom)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	if (nseg == 0)
		nseg = 1;
	if (nseg > len)
		nseg = len > 0 ? len : 1;
	for (unsigned int s = 0; s < nseg; s++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t chunk = s + 1 == nseg ? len - off : len / nseg;
		char *p;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (s == 0)
			m->data_off = headroom;
		p = rte_pktmbuf_append(m, (uint16_t)chunk);
		if (p == NULL) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(p, data + off, chunk);
		off += chunk;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	memset(braid_meta(head), 0, sizeof(struct braid_meta));
	braid_meta(head)->class_id = BRAID_CLASS_NONE;
	braid_meta(head)->link_id = BRAID_LINK_NONE;
	return head;
}

/* An inner IPv4/UDP packet of @p len (>= 28) bytes, random payload. */
static void
mk_inner(uint8_t *p, uint16_t len, uint64_t *rng)
{
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)braid_test_rand(rng);
	p[0] = 0x45;
	p[1] = 0;
	wr16(p + 2, len);
	wr16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 17;
	wr16(p + 10, 0);
	wr16(p + 10, (uint16_t)~ocsum(p, 20, 0));
}

static void
sender_links(struct braid_wire_link *links)
{
	for (unsigned int i = 0; i < N_LINKS; i++) {
		struct braid_wire_link *l = &links[i];

		memset(l, 0, sizeof(*l));
		l->src_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0a, (uint8_t)(i + 1)}};
		l->dst_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0b, (uint8_t)(i + 1)}};
		l->local_ip = ipv4(10, 1, i + 1, 1);
		l->peer_ip = ipv4(10, 1, i + 1, 2);
		l->local_port = (uint16_t)(7000 + i);
		l->peer_port = 7000;
		l->mtu = 1500;
		l->tos = i == 3 ? 0xb8 : 0;
		l->tx_offloads = i == 2 ? BRAID_WIRE_TXO_UDP_SW : 0;
	}
}

static struct braid_encap *
mk_encap(uint32_t session, struct rte_mempool *hdr, struct rte_mempool *clone)
{
	struct braid_encap_conf c;

	memset(&c, 0, sizeof(c));
	c.session_id = session;
	c.n_links = N_LINKS;
	sender_links(c.links);
	c.hdr_pool = hdr != NULL ? hdr : pool;
	c.clone_pool = clone != NULL ? clone : pool;
	return braid_encap_create(&c, SOCKET_ID_ANY);
}

/* The receiving gateway's view: local and peer swapped; link 1 accepts
 * any source port (peer behind NAT). */
static void
receiver_conf(struct braid_decap_conf *c, struct rte_ring *ctrl, struct rte_ring *punt)
{
	struct braid_wire_link s[N_LINKS];

	memset(c, 0, sizeof(*c));
	sender_links(s);
	c->n_links = N_LINKS;
	c->n_classes = N_CLASSES;
	for (unsigned int i = 0; i < N_LINKS; i++) {
		c->links[i].local_ip = s[i].peer_ip;
		c->links[i].local_port = s[i].peer_port;
		c->links[i].peer_ip = s[i].local_ip;
		c->links[i].peer_port = i == 1 ? 0 : s[i].local_port;
	}
	c->ctrl_ring = ctrl;
	c->punt_ring = punt;
}

static struct braid_decap *
mk_decap(struct rte_ring *ctrl, struct rte_ring *punt)
{
	struct braid_decap_conf c;

	receiver_conf(&c, ctrl, punt);
	return braid_decap_create(&c, SOCKET_ID_ANY);
}

static void
assert_no_leak(void)
{
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

/* ------------------------------------------------------ hardened decap */


enum kind { K_DATA, K_DATA_FEC, K_PARITY, K_NACK, K_PROBE, K_REPLY, K_MAX };
enum share { S_FRESH, S_REFCNT, S_CLONE, S_LOWHEAD, S_MULTISEG, S_MAX };

struct sent {
	struct braid_meta meta;     /* what the sender's meta said */
	uint8_t type;
	uint16_t link;
	uint32_t len;
	uint8_t data[1600];
	struct rte_mbuf *keep;      /* direct mbuf we hold a ref on */
	uint8_t *snapshot;          /* its whole buffer before encap */
	struct braid_nack nack;
	struct braid_probe probe;
	struct braid_probe_reply reply;
};

static struct rte_mbuf *
mk_random(struct sent *s, uint64_t *rng)
{
	struct braid_meta *meta;
	struct rte_mbuf *m = NULL;
	enum kind k = (enum kind)(braid_test_rand(rng) % K_MAX);
	enum share sh = (enum share)(braid_test_rand(rng) % S_MAX);

	memset(s, 0, offsetof(struct sent, data));
	s->keep = NULL;
	s->snapshot = NULL;
	s->link = (uint16_t)(braid_test_rand(rng) % N_LINKS);
	switch (k) {
	case K_DATA:
	case K_DATA_FEC:
		s->type = BRAID_PKT_DATA;
		s->len = 28 + (uint32_t)(braid_test_rand(rng) % 1400);
		mk_inner(s->data, (uint16_t)s->len, rng);
		break;
	case K_PARITY:
		s->type = BRAID_PKT_PARITY;
		s->len = 3 + (uint32_t)(braid_test_rand(rng) % 1400);
		for (uint32_t i = 0; i < s->len; i++)
			s->data[i] = (uint8_t)braid_test_rand(rng);
		break;
	case K_NACK:
		s->type = BRAID_PKT_NACK;
		s->nack.class_id = (uint16_t)(braid_test_rand(rng) % N_CLASSES);
		s->nack.base_seq = (uint32_t)braid_test_rand(rng);
		s->nack.bitmap_words = (uint8_t)(braid_test_rand(rng) % (BRAID_NACK_BITMAP_WORDS + 1));
		s->nack.n_ranges = (uint8_t)(braid_test_rand(rng) % (BRAID_NACK_MAX_RANGES + 1));
		for (unsigned int i = 0; i < s->nack.bitmap_words; i++)
			s->nack.bitmap[i] = (uint32_t)braid_test_rand(rng) | 1;
		for (unsigned int i = 0; i < s->nack.n_ranges; i++) {
			s->nack.ranges[i].first = (uint32_t)braid_test_rand(rng);
			s->nack.ranges[i].count = 1 + (uint32_t)(braid_test_rand(rng) % 5000);
		}
		if (s->nack.bitmap_words == 0 && s->nack.n_ranges == 0) {
			s->nack.bitmap_words = 1;
			s->nack.bitmap[0] = 0x80000000u;
		}
		m = braid_wire_nack_build(pool, s->link, &s->nack);
		break;
	case K_PROBE:
		s->type = BRAID_PKT_PROBE;
		s->probe.probe_id = (uint32_t)braid_test_rand(rng);
		s->probe.tx_ns = braid_test_rand(rng);
		m = braid_wire_probe_build(pool, s->link, &s->probe);
		break;
	default:
		s->type = BRAID_PKT_PROBE_REPLY;
		s->reply.probe_id = (uint32_t)braid_test_rand(rng);
		s->reply.probe_tx_ns = braid_test_rand(rng);
		s->reply.probe_rx_ns = braid_test_rand(rng);
		s->reply.reply_tx_ns = braid_test_rand(rng);
		s->reply.link_rx_packets = braid_test_rand(rng);
		s->reply.link_lost = braid_test_rand(rng);
		s->reply.link_max_seq = (uint32_t)braid_test_rand(rng);
		s->reply.link_rx_bytes = (uint32_t)braid_test_rand(rng);
		m = braid_wire_probe_reply_build(pool, s->link, &s->reply);
		break;
	}
	if (m != NULL) {
		s->len = flat(m, s->data);
		s->meta = *braid_meta(m);
		return m;
	}
	m = mk_pkt(s->data, s->len, sh == S_MULTISEG ? 2 + (unsigned int)(braid_test_rand(rng) % 2) : 1,
		   sh == S_LOWHEAD ? (uint16_t)(braid_test_rand(rng) % BRAID_WIRE_OVERHEAD)
				   : RTE_PKTMBUF_HEADROOM);
	if (m == NULL)
		return NULL;
	meta = braid_meta(m);
	meta->link_id = s->link;
	meta->class_id = (uint16_t)(braid_test_rand(rng) % N_CLASSES);
	meta->seq = (uint32_t)braid_test_rand(rng);
	meta->rx_ns = braid_test_rand(rng);
	if (k == K_DATA) {
		/* Junk in the FEC fields must not reach the wire with k = 0. */
		meta->block_id = 77;
		meta->block_idx = 3;
		meta->fec_m = 2;
	} else {
		meta->fec_k = (uint8_t)(1 + braid_test_rand(rng) % 32);
		meta->fec_m = (uint8_t)(1 + braid_test_rand(rng) % 16);
		meta->block_id = (uint32_t)braid_test_rand(rng);
		if (k == K_PARITY) {
			meta->pkt_type = BRAID_PKT_PARITY;
			meta->flags = BRAID_META_F_PARITY;
			meta->block_idx = (uint8_t)(meta->fec_k + braid_test_rand(rng) % meta->fec_m);
			meta->fec_len = (uint16_t)s->len;
		} else {
			meta->block_idx = (uint8_t)(braid_test_rand(rng) % meta->fec_k);
		}
	}
	if (k != K_PARITY)
		meta->flags = (uint8_t)(braid_test_rand(rng) % 4); /* RETX, DUP */
	s->meta = *meta;
	if (sh == S_REFCNT || sh == S_CLONE) {
		s->keep = m;
		s->snapshot = malloc(m->buf_len);
		memcpy(s->snapshot, m->buf_addr, m->buf_len);
		if (sh == S_REFCNT) {
			rte_mbuf_refcnt_update(m, 1);
		} else {
			m = rte_pktmbuf_clone(s->keep, pool);
			if (m == NULL)
				return NULL;
		}
	}
	return m;
}

/* Check the outer headers of a frame against what was sent. */
static void
check_outer(const uint8_t *f, uint32_t flen, const struct sent *s,
	    const struct braid_wire_link *l, uint16_t ip_id, uint32_t link_seq,
	    uint32_t session, uint64_t now_ns)
{
	const uint8_t *ip = f + 14, *udp = f + 34, *bh = f + 42;

	CU_ASSERT_EQUAL_FATAL(flen, s->len + BRAID_WIRE_OVERHEAD);
	CU_ASSERT(memcmp(f, l->dst_mac.addr_bytes, 6) == 0);
	CU_ASSERT(memcmp(f + 6, l->src_mac.addr_bytes, 6) == 0);
	CU_ASSERT_EQUAL(rd16(f + 12), 0x0800);
	CU_ASSERT_EQUAL(ip[0], 0x45);
	CU_ASSERT_EQUAL(ip[1], l->tos);
	CU_ASSERT_EQUAL(rd16(ip + 2), flen - 14);
	CU_ASSERT_EQUAL(rd16(ip + 4), ip_id);
	CU_ASSERT_EQUAL(rd16(ip + 6), 0x4000);          /* DF, offset 0 */
	CU_ASSERT_EQUAL(ip[8], 64);
	CU_ASSERT_EQUAL(ip[9], 17);
	CU_ASSERT_EQUAL(ocsum(ip, 20, 0), 0xffff);      /* header checksum */
	CU_ASSERT_EQUAL(rd32(ip + 12), l->local_ip);
	CU_ASSERT_EQUAL(rd32(ip + 16), l->peer_ip);
	CU_ASSERT_EQUAL(rd16(udp), l->local_port);
	CU_ASSERT_EQUAL(rd16(udp + 2), l->peer_port);
	CU_ASSERT_EQUAL(rd16(udp + 4), flen - 34);
	if (l->tx_offloads & BRAID_WIRE_TXO_UDP_SW) {
		CU_ASSERT_NOT_EQUAL(rd16(udp + 6), 0);
		CU_ASSERT_EQUAL(udp_sum(ip, udp, (uint16_t)(flen - 34)), 0xffff);
	} else {
		CU_ASSERT_EQUAL(rd16(udp + 6), 0);
	}
	CU_ASSERT_EQUAL(rd16(bh), BRAID_WIRE_MAGIC);
	CU_ASSERT_EQUAL(bh[2], BRAID_WIRE_VERSION);
	CU_ASSERT_EQUAL(bh[3], s->type);
	CU_ASSERT_EQUAL(bh[5], 0);
	CU_ASSERT_EQUAL(rd16(bh + 8), s->link);
	CU_ASSERT_EQUAL(rd16(bh + 10), s->len);
	CU_ASSERT_EQUAL(rd32(bh + 12), session);
	CU_ASSERT_EQUAL(rd32(bh + 20), link_seq);
	CU_ASSERT_EQUAL(rd32(bh + 24), (uint32_t)(now_ns / 1000));
	CU_ASSERT_EQUAL(bh[35], 0);
	CU_ASSERT_EQUAL(rd16(bh + 36), s->type == BRAID_PKT_DATA ? 0x0800 : 0);
	CU_ASSERT(memcmp(f + BRAID_WIRE_OVERHEAD, s->data, s->len) == 0);
}

static bool
reply_equal(const struct braid_probe_reply *a, const struct braid_probe_reply *b)
{
	return a->probe_id == b->probe_id && a->probe_tx_ns == b->probe_tx_ns &&
	       a->probe_rx_ns == b->probe_rx_ns && a->reply_tx_ns == b->reply_tx_ns &&
	       a->link_rx_packets == b->link_rx_packets && a->link_lost == b->link_lost &&
	       a->link_max_seq == b->link_max_seq && a->link_rx_bytes == b->link_rx_bytes;
}

/* Check the decapsulated packet and its meta against what was sent. */
static void
check_decapped(struct rte_mbuf *m, const struct braid_decap_info *info,
	       const struct sent *s, uint32_t session, uint32_t link_seq,
	       uint64_t now_ns, uint8_t *buf)
{
	const struct braid_meta *in = &s->meta, *out = braid_meta(m);
	uint8_t fl = 0;

	CU_ASSERT_EQUAL(flat(m, buf), s->len);
	CU_ASSERT(memcmp(buf, s->data, s->len) == 0);
	CU_ASSERT_EQUAL(out->pkt_type, s->type);
	CU_ASSERT_EQUAL(out->link_id, s->link);
	CU_ASSERT_EQUAL(info->session_id, session);
	CU_ASSERT_EQUAL(info->link_seq, link_seq);
	CU_ASSERT_EQUAL(info->tx_us, (uint32_t)(now_ns / 1000));
	CU_ASSERT_EQUAL(info->link_id, s->link);
	CU_ASSERT_EQUAL(info->type, s->type);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(braid_decap_hdr(m)->session_id), session);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(braid_decap_hdr(m)->link_seq), link_seq);
	if (in->flags & BRAID_META_F_RETX)
		fl |= BRAID_META_F_RETX;
	if (in->flags & BRAID_META_F_DUP)
		fl |= BRAID_META_F_DUP;
	switch (s->type) {
	case BRAID_PKT_DATA:
		CU_ASSERT_EQUAL(out->flags, fl);
		CU_ASSERT_EQUAL(out->class_id, in->class_id);
		CU_ASSERT_EQUAL(out->seq, in->seq);
		CU_ASSERT_EQUAL(out->fec_k, in->fec_k);
		CU_ASSERT_EQUAL(out->fec_len, 0);
		if (in->fec_k == 0) {
			CU_ASSERT_EQUAL(out->block_id, 0);
			CU_ASSERT_EQUAL(out->block_idx, 0);
			CU_ASSERT_EQUAL(out->fec_m, 0);
		} else {
			CU_ASSERT_EQUAL(out->block_id, in->block_id);
			CU_ASSERT_EQUAL(out->block_idx, in->block_idx);
			CU_ASSERT_EQUAL(out->fec_m, in->fec_m);
		}
		break;
	case BRAID_PKT_PARITY:
		CU_ASSERT_EQUAL(out->flags, fl | BRAID_META_F_PARITY);
		CU_ASSERT_EQUAL(out->class_id, in->class_id);
		CU_ASSERT_EQUAL(out->seq, in->seq);
		CU_ASSERT_EQUAL(out->block_id, in->block_id);
		CU_ASSERT_EQUAL(out->block_idx, in->block_idx);
		CU_ASSERT_EQUAL(out->fec_k, in->fec_k);
		CU_ASSERT_EQUAL(out->fec_m, in->fec_m);
		CU_ASSERT_EQUAL(out->fec_len, s->len);
		break;
	case BRAID_PKT_NACK: {
		struct braid_nack n;

		CU_ASSERT_EQUAL(out->class_id, s->nack.class_id);
		CU_ASSERT_EQUAL_FATAL(braid_wire_nack_parse(m, &n), 0);
		CU_ASSERT_EQUAL(n.class_id, s->nack.class_id);
		CU_ASSERT_EQUAL(n.base_seq, s->nack.base_seq);
		CU_ASSERT_EQUAL(n.bitmap_words, s->nack.bitmap_words);
		CU_ASSERT_EQUAL(n.n_ranges, s->nack.n_ranges);
		CU_ASSERT(memcmp(n.bitmap, s->nack.bitmap, 4u * n.bitmap_words) == 0);
		CU_ASSERT(memcmp(n.ranges, s->nack.ranges, sizeof(n.ranges[0]) * n.n_ranges) == 0);
		break;
	}
	case BRAID_PKT_PROBE: {
		struct braid_probe p;

		CU_ASSERT_EQUAL_FATAL(braid_wire_probe_parse(m, &p), 0);
		CU_ASSERT_EQUAL(p.probe_id, s->probe.probe_id);
		CU_ASSERT_EQUAL(p.tx_ns, s->probe.tx_ns);
		CU_ASSERT_EQUAL(braid_wire_probe_reply_parse(m, &(struct braid_probe_reply){0}), -EINVAL);
		break;
	}
	default: {
		struct braid_probe_reply r;

		CU_ASSERT_EQUAL_FATAL(braid_wire_probe_reply_parse(m, &r), 0);
		CU_ASSERT(reply_equal(&r, &s->reply));
		break;
	}
	}
}

static void
test_roundtrip(void)
{
	struct braid_encap *e = mk_encap(SESSION_A, NULL, NULL);
	struct braid_decap *d = mk_decap(NULL, NULL);
	struct braid_wire_link links[N_LINKS];
	struct braid_encap_stats ec;
	struct braid_decap_stats dc;
	static struct sent sent[BRAID_BURST];
	static uint8_t buf[2048];
	struct rte_mbuf *pkts[BRAID_BURST];
	uint32_t link_seq[N_LINKS] = {0};
	uint64_t rng = seed ^ 0x1111, total = 0, n_type[BRAID_PKT_TYPE_MAX + 1] = {0};
	uint64_t now = 5000000000ULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	sender_links(links);
	for (unsigned int round = 0; round < 200; round++) {
		uint16_t n = (uint16_t)(1 + braid_test_rand(&rng) % BRAID_BURST), nout;
		uint16_t ip_id[N_LINKS];

		for (unsigned int i = 0; i < N_LINKS; i++)
			ip_id[i] = (uint16_t)link_seq[i];  /* both start at 0 */
		for (uint16_t i = 0; i < n; i++) {
			pkts[i] = mk_random(&sent[i], &rng);
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		}
		now += 1 + braid_test_rand(&rng) % 1000000;
		nout = braid_encap_burst(e, pkts, n, now);
		CU_ASSERT_EQUAL_FATAL(nout, n);
		for (uint16_t i = 0; i < n; i++) {
			struct sent *s = &sent[i];
			struct braid_decap_info info;
			uint32_t flen = flat(pkts[i], buf);

			check_outer(buf, flen, s, &links[s->link], ip_id[s->link],
				    link_seq[s->link], SESSION_A, now);
			CU_ASSERT_EQUAL(braid_meta(pkts[i])->link_id, s->link);
			if (s->keep != NULL) {
				/* chained in front of an indirect clone */
				CU_ASSERT_PTR_NOT_EQUAL(pkts[i], s->keep);
				CU_ASSERT(RTE_MBUF_CLONED(pkts[i]->next) != 0);
				CU_ASSERT_PTR_EQUAL(rte_mbuf_from_indirect(pkts[i]->next), s->keep);
			}
			CU_ASSERT_EQUAL_FATAL(braid_decap_one(d, pkts[i], &info), BRAID_DECAP_OK);
			check_decapped(pkts[i], &info, s, SESSION_A, link_seq[s->link], now, buf);
			link_seq[s->link]++;
			ip_id[s->link]++;
			n_type[s->type]++;
			rte_pktmbuf_free(pkts[i]);
			if (s->keep != NULL) {
				CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(s->keep), 1);
				CU_ASSERT(memcmp(s->keep->buf_addr, s->snapshot, s->keep->buf_len) == 0);
				rte_pktmbuf_free(s->keep);
				free(s->snapshot);
			}
		}
		total += n;
	}
	braid_encap_stats(e, &ec);
	CU_ASSERT_EQUAL(ec.encap_packets, total);
	CU_ASSERT_EQUAL(ec.in_place + ec.chained, total);
	CU_ASSERT(ec.in_place > 0 && ec.chained > 0);
	CU_ASSERT_EQUAL(ec.drop_too_big + ec.drop_no_mbuf + ec.drop_bad_link +
			ec.drop_bad_meta + ec.drop_no_nexthop, 0);
	for (unsigned int t = 1; t <= BRAID_PKT_TYPE_MAX; t++)
		CU_ASSERT(n_type[t] > 0);
	for (uint16_t i = 0; i < N_LINKS; i++) {
		struct braid_encap_link_stats st;

		CU_ASSERT_EQUAL(braid_encap_link_stats(e, i, &st), 0);
		CU_ASSERT_EQUAL(st.frames, link_seq[i]);
		CU_ASSERT_EQUAL(st.next_link_seq, link_seq[i]);
	}
	braid_decap_stats(d, &dc);
	CU_ASSERT_EQUAL(dc.rx_packets, 0); /* braid_decap_one() is not the stage */
	printf("\n  round trip: %" PRIu64 " frames, %" PRIu64 " in place, %" PRIu64 " chained\n",
	       total, ec.in_place, ec.chained);
	braid_encap_free(e);
	braid_decap_free(d);
	assert_no_leak();
}

/* ------------------------------------------------------------ hex example */

/* doc/wire-format.md, "A complete frame": computed by hand/script from
 * the specification, not by this code. */
static const char hex_frame[] =
	"0200000000020200000000010800"                         /* Ethernet */
	"4500006600004000401124830a0101010a010102"             /* IPv4 */
	"1b581b5800520000"                                     /* UDP */
	"ba1d01010000000100000022"                             /* braid hdr */
	"5eed12340000006400000000499602d2"
	"000000070204010008000000"
	"450000221c4640003f119b16c0a8010ac0a80214"             /* inner IPv4 */
	"1388138c000e2c52627261696421";                        /* inner UDP */

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		char b[3] = {h[0], h[1], 0};

		out[n++] = (uint8_t)strtoul(b, NULL, 16);
	}
	return n;
}

static void
test_hex_example(void)
{
	struct braid_encap_conf c;
	struct braid_decap_conf dc;
	struct braid_encap *e;
	struct braid_decap *d;
	struct braid_decap_info info;
	struct braid_meta *meta;
	struct rte_mbuf *m;
	uint8_t want[256], got[256];
	size_t wlen = unhex(hex_frame, want);

	CU_ASSERT_EQUAL_FATAL(wlen, 116);
	memset(&c, 0, sizeof(c));
	c.session_id = 0x5EED1234;
	c.n_links = 1;
	c.links[0].src_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x01}};
	c.links[0].dst_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x02}};
	c.links[0].local_ip = ipv4(10, 1, 1, 1);
	c.links[0].peer_ip = ipv4(10, 1, 1, 2);
	c.links[0].local_port = 7000;
	c.links[0].peer_port = 7000;
	c.links[0].mtu = 1500;
	c.hdr_pool = pool;
	c.clone_pool = pool;
	e = braid_encap_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);

	m = mk_pkt(want + BRAID_WIRE_OVERHEAD, (uint32_t)wlen - BRAID_WIRE_OVERHEAD, 1,
		   RTE_PKTMBUF_HEADROOM);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	meta = braid_meta(m);
	meta->link_id = 0;
	meta->class_id = 1;
	meta->seq = 100;
	meta->block_id = 7;
	meta->block_idx = 2;
	meta->fec_k = 4;
	meta->fec_m = 1;
	CU_ASSERT_EQUAL_FATAL(braid_encap_burst(e, &m, 1, 1234567890123ULL), 1);
	CU_ASSERT_EQUAL(m->nb_segs, 1); /* in place */
	CU_ASSERT_EQUAL_FATAL(flat(m, got), wlen);
	CU_ASSERT(memcmp(got, want, wlen) == 0);
	for (size_t i = 0; i < wlen; i++)
		if (got[i] != want[i]) {
			printf("\n  hex example differs at byte %zu: %02x != %02x\n", i, got[i], want[i]);
			break;
		}

	/* and the peer takes it apart */
	memset(&dc, 0, sizeof(dc));
	dc.n_links = 1;
	dc.n_classes = 2;
	dc.links[0].local_ip = ipv4(10, 1, 1, 2);
	dc.links[0].local_port = 7000;
	dc.links[0].peer_ip = ipv4(10, 1, 1, 1);
	dc.links[0].peer_port = 7000;
	d = braid_decap_create(&dc, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(braid_decap_one(d, m, &info), BRAID_DECAP_OK);
	CU_ASSERT_EQUAL(m->pkt_len, 34);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, void *), want + BRAID_WIRE_OVERHEAD, 34) == 0);
	CU_ASSERT_EQUAL(info.session_id, 0x5EED1234);
	CU_ASSERT_EQUAL(info.tx_us, 1234567890u);
	CU_ASSERT_EQUAL(braid_meta(m)->seq, 100);
	CU_ASSERT_EQUAL(braid_meta(m)->block_idx, 2);
	rte_pktmbuf_free(m);
	braid_decap_free(d);
	braid_encap_free(e);
	assert_no_leak();
}

/* --------------------------------------------------------------- MTU drop */

static struct rte_mbuf *
data_pkt(uint16_t len, uint16_t link, uint64_t *rng)
{
	uint8_t b[1600];
	struct rte_mbuf *m;

	mk_inner(b, len, rng);
	m = mk_pkt(b, len, 1, RTE_PKTMBUF_HEADROOM);
	if (m != NULL) {
		braid_meta(m)->link_id = link;
		braid_meta(m)->class_id = 0;
	}
	return m;
}

static void
test_mtu(void)
{
	struct braid_encap *e = mk_encap(1, NULL, NULL);
	struct braid_wire_link l;
	struct braid_encap_stats c;
	struct rte_mbuf *pkts[4], *held;
	uint64_t rng = seed ^ 0x2222;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	/* 1500 - 68 = 1432 bytes of inner packet fit, 1433 do not */
	pkts[0] = data_pkt(1432, 0, &rng);
	pkts[1] = data_pkt(1433, 0, &rng);
	pkts[2] = data_pkt(1433, 1, &rng);
	held = data_pkt(1500, 2, &rng);           /* shared: chained path */
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	rte_mbuf_refcnt_update(held, 1);
	pkts[3] = held;
	n = braid_encap_burst(e, pkts, 4, 1000);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(pkts[0]->pkt_len, 1432 + BRAID_WIRE_OVERHEAD);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(pkts[0], struct rte_ipv4_hdr *,
							     14)->total_length), 1500);
	braid_encap_stats(e, &c);
	CU_ASSERT_EQUAL(c.drop_too_big, 3);
	CU_ASSERT_EQUAL(c.encap_packets, 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(held), 1);  /* only our ref left */
	rte_pktmbuf_free(pkts[0]);
	rte_pktmbuf_free(held);

	/* a smaller MTU set at run time applies to the next burst */
	CU_ASSERT_EQUAL(braid_encap_link_get(e, 1, &l), 0);
	l.mtu = 576;
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 1, &l), 0);
	pkts[0] = data_pkt(508, 1, &rng);
	pkts[1] = data_pkt(509, 1, &rng);
	n = braid_encap_burst(e, pkts, 2, 2000);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(pkts[0]->pkt_len, 508 + BRAID_WIRE_OVERHEAD);
	rte_pktmbuf_free(pkts[0]);
	braid_encap_stats(e, &c);
	CU_ASSERT_EQUAL(c.drop_too_big, 4);
	l.mtu = 575;
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 1, &l), -EINVAL);
	braid_encap_free(e);
	assert_no_leak();
}

/* ---------------------------------------------------- in place vs chained */

static void
test_zero_copy(void)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("wire_tiny", 4, 0, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   SOCKET_ID_ANY);
	struct braid_encap *e = mk_encap(2, NULL, NULL), *et;
	struct braid_encap_stats c;
	struct rte_mbuf *m, *orig, *cl, *f, *spare[4];
	uint64_t rng = seed ^ 0x3333;
	uint8_t *snap;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tiny);

	/* (a) direct, refcnt 1, headroom: in place, same mbuf */
	m = data_pkt(200, 0, &rng);
	f = m;
	CU_ASSERT_EQUAL(braid_encap_burst(e, &f, 1, 0), 1);
	CU_ASSERT_PTR_EQUAL(f, m);
	CU_ASSERT_EQUAL(f->nb_segs, 1);
	CU_ASSERT_EQUAL(f->pkt_len, 200 + BRAID_WIRE_OVERHEAD);
	CU_ASSERT_EQUAL(f->data_off, RTE_PKTMBUF_HEADROOM - BRAID_WIRE_OVERHEAD);
	rte_pktmbuf_free(f);

	/* (b) refcnt 2 (held by fec/rtx): header mbuf + indirect clone, the
	 * shared buffer untouched */
	orig = data_pkt(300, 1, &rng);
	rte_mbuf_refcnt_update(orig, 1);
	snap = malloc(orig->buf_len);
	memcpy(snap, orig->buf_addr, orig->buf_len);
	f = orig;
	CU_ASSERT_EQUAL(braid_encap_burst(e, &f, 1, 0), 1);
	CU_ASSERT_PTR_NOT_EQUAL(f, orig);
	CU_ASSERT(RTE_MBUF_DIRECT(f));
	CU_ASSERT_EQUAL(f->nb_segs, 2);
	CU_ASSERT_EQUAL(f->data_len, BRAID_WIRE_OVERHEAD);
	CU_ASSERT_EQUAL(f->pkt_len, 300 + BRAID_WIRE_OVERHEAD);
	CU_ASSERT(RTE_MBUF_CLONED(f->next) != 0);
	CU_ASSERT_PTR_EQUAL(rte_mbuf_from_indirect(f->next), orig);
	CU_ASSERT_EQUAL(braid_meta(f)->link_id, 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 2); /* ours + the clone */
	CU_ASSERT(memcmp(orig->buf_addr, snap, orig->buf_len) == 0);
	CU_ASSERT_EQUAL(orig->data_off, RTE_PKTMBUF_HEADROOM);
	CU_ASSERT_EQUAL(orig->pkt_len, 300);
	rte_pktmbuf_free(f);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 1);
	CU_ASSERT(memcmp(orig->buf_addr, snap, orig->buf_len) == 0);

	/* (c) an indirect clone (duplicate policy): chained, buffer untouched */
	cl = rte_pktmbuf_clone(orig, pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	braid_meta(cl)->link_id = 2;
	f = cl;
	CU_ASSERT_EQUAL(braid_encap_burst(e, &f, 1, 0), 1);
	CU_ASSERT_PTR_NOT_EQUAL(f, cl);
	CU_ASSERT_EQUAL(f->nb_segs, 2);
	CU_ASSERT_PTR_EQUAL(rte_mbuf_from_indirect(f->next), orig);
	CU_ASSERT(memcmp(orig->buf_addr, snap, orig->buf_len) == 0);
	rte_pktmbuf_free(f);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 1);
	rte_pktmbuf_free(orig);
	free(snap);

	/* (d) direct but headroom too small: chained */
	{
		uint8_t b[100];

		mk_inner(b, sizeof(b), &rng);
		m = mk_pkt(b, sizeof(b), 1, BRAID_WIRE_OVERHEAD - 1);
		braid_meta(m)->link_id = 0;
		braid_meta(m)->class_id = 0;
		f = m;
		CU_ASSERT_EQUAL(braid_encap_burst(e, &f, 1, 0), 1);
		CU_ASSERT_EQUAL(f->nb_segs, 2);
		rte_pktmbuf_free(f);
	}
	braid_encap_stats(e, &c);
	CU_ASSERT_EQUAL(c.in_place, 1);
	CU_ASSERT_EQUAL(c.chained, 3);

	/* (e) header pool exhausted: drop_no_mbuf, nothing leaks, the held
	 * reference survives */
	et = mk_encap(3, tiny, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(et);
	CU_ASSERT_EQUAL(rte_pktmbuf_alloc_bulk(tiny, spare, 4), 0);
	orig = data_pkt(64, 0, &rng);
	rte_mbuf_refcnt_update(orig, 1);
	f = orig;
	n = braid_encap_burst(et, &f, 1, 0);
	CU_ASSERT_EQUAL(n, 0);
	braid_encap_stats(et, &c);
	CU_ASSERT_EQUAL(c.drop_no_mbuf, 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 1);
	rte_pktmbuf_free_bulk(spare, 4);
	/* and with a header mbuf but no clone (clone pool = exhausted tiny) */
	braid_encap_free(et);
	et = mk_encap(3, NULL, tiny);
	CU_ASSERT_EQUAL(rte_pktmbuf_alloc_bulk(tiny, spare, 4), 0);
	rte_mbuf_refcnt_update(orig, 1);
	f = orig;
	CU_ASSERT_EQUAL(braid_encap_burst(et, &f, 1, 0), 0);
	braid_encap_stats(et, &c);
	CU_ASSERT_EQUAL(c.drop_no_mbuf, 1);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 1);
	rte_pktmbuf_free_bulk(spare, 4);
	rte_pktmbuf_free(orig);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0);
	braid_encap_free(et);
	braid_encap_free(e);
	rte_mempool_free(tiny);
	assert_no_leak();
}

/* --------------------------------------- link changes, bad meta, offloads */

static void
test_links_and_meta(void)
{
	struct braid_encap_conf conf;
	struct braid_encap *e;
	struct braid_encap_stats c;
	struct braid_wire_link l;
	struct rte_mbuf *pkts[8];
	uint64_t rng = seed ^ 0x4444;
	const struct rte_ether_addr nh = {{0x02, 0x42, 0, 0, 0, 0x99}};
	uint16_t n;

	memset(&conf, 0, sizeof(conf));
	conf.session_id = 9;
	conf.n_links = N_LINKS;
	sender_links(conf.links);
	conf.hdr_pool = pool;
	conf.clone_pool = pool;
	memset(&conf.links[1].dst_mac, 0, sizeof(conf.links[1].dst_mac)); /* unresolved */
	e = braid_encap_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);

	pkts[0] = data_pkt(100, 1, &rng);               /* no next hop */
	pkts[1] = data_pkt(100, 9, &rng);               /* bad link */
	pkts[2] = data_pkt(100, BRAID_LINK_NONE, &rng); /* bad link */
	pkts[3] = data_pkt(100, 0, &rng);
	braid_meta(pkts[3])->pkt_type = 9;              /* unknown type */
	pkts[4] = data_pkt(100, 0, &rng);
	braid_meta(pkts[4])->pkt_type = BRAID_PKT_PARITY; /* parity, k = 0 */
	pkts[5] = data_pkt(100, 0, &rng);
	braid_meta(pkts[5])->fec_k = 4;                 /* data idx >= k */
	braid_meta(pkts[5])->block_idx = 4;
	pkts[6] = data_pkt(100, 0, &rng);               /* parity, fec_len != len */
	braid_meta(pkts[6])->pkt_type = BRAID_PKT_PARITY;
	braid_meta(pkts[6])->fec_k = 4;
	braid_meta(pkts[6])->fec_m = 2;
	braid_meta(pkts[6])->block_idx = 5;
	braid_meta(pkts[6])->fec_len = 99;
	pkts[7] = data_pkt(100, 3, &rng);               /* fine */
	n = braid_encap_burst(e, pkts, 8, 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(braid_meta(pkts[0])->link_id, 3);
	rte_pktmbuf_free(pkts[0]);
	braid_encap_stats(e, &c);
	CU_ASSERT_EQUAL(c.drop_no_nexthop, 1);
	CU_ASSERT_EQUAL(c.drop_bad_link, 2);
	CU_ASSERT_EQUAL(c.drop_bad_meta, 4);
	CU_ASSERT_EQUAL(c.encap_packets, 1);

	/* ARP resolved the next hop */
	CU_ASSERT_EQUAL(braid_encap_link_get(e, 1, &l), 0);
	l.dst_mac = nh;
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 1, &l), 0);
	pkts[0] = data_pkt(100, 1, &rng);
	CU_ASSERT_EQUAL_FATAL(braid_encap_burst(e, pkts, 1, 0), 1);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(pkts[0], uint8_t *), nh.addr_bytes, 6) == 0);
	rte_pktmbuf_free(pkts[0]);
	/* invalid updates are refused */
	l.dst_mac.addr_bytes[0] = 0x01;                 /* multicast */
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 1, &l), -EINVAL);
	CU_ASSERT_EQUAL(braid_encap_link_set(e, N_LINKS, &conf.links[0]), -EINVAL);

	/* NIC checksum offloads: flags, lengths, pseudo-header sum */
	CU_ASSERT_EQUAL(braid_encap_link_get(e, 0, &l), 0);
	l.tx_offloads = BRAID_WIRE_TXO_IPV4_CKSUM | BRAID_WIRE_TXO_UDP_CKSUM;
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 0, &l), 0);
	pkts[0] = data_pkt(100, 0, &rng);
	CU_ASSERT_EQUAL_FATAL(braid_encap_burst(e, pkts, 1, 0), 1);
	{
		const uint8_t *f = rte_pktmbuf_mtod(pkts[0], const uint8_t *);
		uint8_t ph[12];
		uint64_t want = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;

		CU_ASSERT_EQUAL(pkts[0]->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, want);
		CU_ASSERT_EQUAL(pkts[0]->l2_len, 14);
		CU_ASSERT_EQUAL(pkts[0]->l3_len, 20);
		CU_ASSERT_EQUAL(pkts[0]->l4_len, 8);
		CU_ASSERT_EQUAL(rd16(f + 24), 0);           /* IP checksum left to NIC */
		memcpy(ph, f + 26, 8);
		ph[8] = 0;
		ph[9] = 17;
		wr16(ph + 10, rd16(f + 38));
		CU_ASSERT_EQUAL(rd16(f + 40), ocsum(ph, 12, 0));
	}
	rte_pktmbuf_free(pkts[0]);
	l.tx_offloads = BRAID_WIRE_TXO_UDP_CKSUM | BRAID_WIRE_TXO_UDP_SW;
	CU_ASSERT_EQUAL(braid_encap_link_set(e, 0, &l), -EINVAL);
	braid_encap_free(e);

	/* create refuses bad configurations */
	conf.session_id = 0;
	CU_ASSERT_PTR_NULL(braid_encap_create(&conf, SOCKET_ID_ANY));
	conf.session_id = 9;
	conf.n_links = 0;
	CU_ASSERT_PTR_NULL(braid_encap_create(&conf, SOCKET_ID_ANY));
	conf.n_links = N_LINKS;
	conf.links[2].peer_port = 0;
	CU_ASSERT_PTR_NULL(braid_encap_create(&conf, SOCKET_ID_ANY));
	conf.links[2].peer_port = 7000;
	conf.links[3].mtu = 9217;
	CU_ASSERT_PTR_NULL(braid_encap_create(&conf, SOCKET_ID_ANY));
	conf.links[3].mtu = 1500;
	conf.hdr_pool = NULL;
	CU_ASSERT_PTR_NULL(braid_encap_create(&conf, SOCKET_ID_ANY));
	assert_no_leak();
}

/* ---------------------------------------------------- sequence helpers */

static void
test_seq_helpers(void)
{
	uint64_t rng = seed ^ 0x5555;

	/* fixed points around the wrap */
	CU_ASSERT(braid_seq_lt(0xffffffffu, 0));
	CU_ASSERT(braid_seq_gt(0, 0xffffffffu));
	CU_ASSERT(braid_seq_lt(0xfffffff0u, 0x10));
	CU_ASSERT_EQUAL(braid_seq_diff(0x10, 0xfffffff0u), 0x20);
	CU_ASSERT_EQUAL(braid_seq_diff(0xfffffff0u, 0x10), -0x20);
	CU_ASSERT(braid_seq_le(5, 5) && braid_seq_ge(5, 5) && !braid_seq_lt(5, 5));
	CU_ASSERT(braid_seq_lt(0, 0x7fffffffu));
	CU_ASSERT(braid_seq_gt(0, 0x80000001u));
	CU_ASSERT_EQUAL(braid_seq_extend(0, 0xffffffffu), 0xffffffffu);
	CU_ASSERT_EQUAL(braid_seq_extend(0xffffff00u, 5), 0x100000005ULL);
	CU_ASSERT_EQUAL(braid_seq_extend(0x100000005ULL, 0xffffff00u), 0xffffff00u);

	/* random pairs against 64-bit integers: |x - y| < 2^31 */
	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t x = braid_test_rand(&rng) >> (braid_test_rand(&rng) % 40);
		int64_t delta = (int64_t)(braid_test_rand(&rng) % 0xffffffffULL) - 0x7fffffff;
		uint64_t y;

		if (i % 4 == 0)
			x = 0xffffffffULL * (1 + braid_test_rand(&rng) % 8) - braid_test_rand(&rng) % 64;
		if (delta < 0 && (uint64_t)-delta > x)
			delta = -delta;
		y = x + (uint64_t)delta;
		if (braid_seq_lt((uint32_t)x, (uint32_t)y) != (x < y) ||
		    braid_seq_gt((uint32_t)x, (uint32_t)y) != (x > y) ||
		    braid_seq_le((uint32_t)x, (uint32_t)y) != (x <= y) ||
		    braid_seq_ge((uint32_t)x, (uint32_t)y) != (x >= y) ||
		    braid_seq_diff((uint32_t)y, (uint32_t)x) != (int64_t)(y - x) ||
		    braid_seq_extend(x, (uint32_t)y) != y) {
			printf("\n  seq mismatch x=%" PRIu64 " y=%" PRIu64 "\n", x, y);
			CU_FAIL("seq helper differs from the 64-bit reference");
			return;
		}
	}
}

/* --------------------------------------------------------------- NACK codec */

static void
test_nack_codec(void)
{
	struct braid_nack n, back;
	uint8_t buf[BRAID_NACK_MAX_LEN + 8];
	uint64_t rng = seed ^ 0x6666;
	int len;

	for (unsigned int i = 0; i < 5000; i++) {
		memset(&n, 0, sizeof(n));
		n.base_seq = (uint32_t)braid_test_rand(&rng);
		n.bitmap_words = (uint8_t)(braid_test_rand(&rng) % (BRAID_NACK_BITMAP_WORDS + 1));
		n.n_ranges = (uint8_t)(braid_test_rand(&rng) % (BRAID_NACK_MAX_RANGES + 1));
		for (unsigned int w = 0; w < n.bitmap_words; w++)
			n.bitmap[w] = (uint32_t)braid_test_rand(&rng);
		for (unsigned int r = 0; r < n.n_ranges; r++) {
			n.ranges[r].first = (uint32_t)braid_test_rand(&rng);
			n.ranges[r].count = 1 + (uint32_t)(braid_test_rand(&rng) % BRAID_NACK_RANGE_MAX);
		}
		len = braid_wire_nack_encode(buf, sizeof(buf), &n);
		if (n.n_ranges == 0 && (n.bitmap_words == 0 ||
		    memcmp(n.bitmap, (uint32_t[BRAID_NACK_BITMAP_WORDS]){0}, 4u * n.bitmap_words) == 0)) {
			CU_ASSERT_EQUAL(len, -EINVAL);       /* names nothing */
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(len, (int)(8 + 4 * n.bitmap_words + 8 * n.n_ranges));
		CU_ASSERT_EQUAL(rd32(buf), n.base_seq);
		CU_ASSERT_EQUAL(buf[4], n.bitmap_words);
		CU_ASSERT_EQUAL(buf[5], n.n_ranges);
		memset(&back, 0xee, sizeof(back));
		CU_ASSERT_EQUAL_FATAL(braid_wire_nack_decode(buf, (size_t)len, &back), 0);
		CU_ASSERT_EQUAL(back.base_seq, n.base_seq);
		CU_ASSERT(memcmp(back.bitmap, n.bitmap, 4u * n.bitmap_words) == 0);
		CU_ASSERT(memcmp(back.ranges, n.ranges, 8u * n.n_ranges) == 0);
		/* any other length is malformed */
		CU_ASSERT_EQUAL(braid_wire_nack_decode(buf, (size_t)len - 1, &back), -EINVAL);
		CU_ASSERT_EQUAL(braid_wire_nack_decode(buf, (size_t)len + 4, &back), -EINVAL);
	}
	/* bounds */
	memset(&n, 0, sizeof(n));
	n.n_ranges = 1;
	n.ranges[0].count = 0;
	CU_ASSERT_EQUAL(braid_wire_nack_len(&n), -EINVAL);
	n.ranges[0].count = BRAID_NACK_RANGE_MAX + 1;
	CU_ASSERT_EQUAL(braid_wire_nack_len(&n), -EINVAL);
	n.ranges[0].count = 1;
	CU_ASSERT_EQUAL(braid_wire_nack_len(&n), 16);
	CU_ASSERT_EQUAL(braid_wire_nack_encode(buf, 15, &n), -ENOSPC);
	n.n_ranges = BRAID_NACK_MAX_RANGES + 1;
	CU_ASSERT_EQUAL(braid_wire_nack_len(&n), -EINVAL);
	n.n_ranges = 0;
	n.bitmap_words = BRAID_NACK_BITMAP_WORDS + 1;
	n.bitmap[0] = 1;
	CU_ASSERT_EQUAL(braid_wire_nack_len(&n), -EINVAL);
	/* wire bytes: 17 words claimed */
	memset(buf, 0, sizeof(buf));
	buf[4] = 9;
	CU_ASSERT_EQUAL(braid_wire_nack_decode(buf, 8 + 36, &back), -EINVAL);
	CU_ASSERT_EQUAL(braid_wire_nack_decode(buf, 4, &back), -EINVAL);
}

/* ------------------------------------------------------ rx_decap stage */

static struct rte_mbuf *
encap_one(struct braid_encap *e, struct rte_mbuf *m, uint64_t now)
{
	if (m == NULL || braid_encap_burst(e, &m, 1, now) != 1)
		return NULL;
	return m;
}

static void
drain_ring(struct rte_ring *r, uint8_t want_type, unsigned int *n)
{
	void *o;

	while (rte_ring_dequeue(r, &o) == 0) {
		struct rte_mbuf *m = o;

		if (want_type != 0)
			CU_ASSERT_EQUAL(braid_meta(m)->pkt_type, want_type);
		(*n)++;
		rte_pktmbuf_free(m);
	}
}

static void
test_rx_decap_stage(void)
{
	struct rte_ring *ctrl = rte_ring_create("wire_ctrl", 4, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *punt = rte_ring_create("wire_punt", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct braid_encap *a1 = mk_encap(0x1111, NULL, NULL);
	struct braid_encap *a2 = mk_encap(0x2222, NULL, NULL);
	struct braid_decap *d = mk_decap(ctrl, punt);
	struct braid_decap_stats c;
	struct braid_decap_link_view v;
	static struct braid_burst out;
	struct rte_mbuf *pkts[16], *late, *old;
	uint64_t rng = seed ^ 0x7777;
	unsigned int got = 0;
	uint32_t s;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(punt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_FALSE(braid_decap_session(d, &s));

	/* link 0: link_seq 0..9, 3 and 7 lost, 5 delivered late */
	for (unsigned int i = 0; i < 10; i++)
		pkts[i] = encap_one(a1, data_pkt(60, 0, &rng), i * 1000);
	late = pkts[5];
	rte_pktmbuf_free(pkts[3]);
	rte_pktmbuf_free(pkts[7]);
	pkts[3] = pkts[9];
	pkts[5] = pkts[8];
	n = braid_decap_burst(d, pkts, 7);    /* seqs 0 1 2 9 4 8 6 */
	CU_ASSERT_EQUAL(n, 7);
	rte_pktmbuf_free_bulk(pkts, n);
	CU_ASSERT_TRUE(braid_decap_session(d, &s));
	CU_ASSERT_EQUAL(s, 0x1111);
	CU_ASSERT_EQUAL(braid_decap_link_view(d, 0, &v), 0);
	CU_ASSERT_EQUAL(v.rx_packets, 7);
	CU_ASSERT_EQUAL(v.lost, 3);
	CU_ASSERT_EQUAL(v.max_link_seq, 9);
	CU_ASSERT_EQUAL(v.session_id, 0x1111);
	n = braid_decap_burst(d, &late, 1);
	CU_ASSERT_EQUAL(n, 1);
	rte_pktmbuf_free(late);
	CU_ASSERT_EQUAL(braid_decap_link_view(d, 0, &v), 0);
	CU_ASSERT_EQUAL(v.rx_packets, 8);
	CU_ASSERT_EQUAL(v.lost, 2);

	/* a probe reply built from that view round-trips through the ring */
	{
		struct braid_probe_reply r = {
			.probe_id = 42, .probe_tx_ns = 1, .probe_rx_ns = 2, .reply_tx_ns = 3,
			.link_rx_packets = v.rx_packets, .link_lost = v.lost,
			.link_max_seq = v.max_link_seq, .link_rx_bytes = 0xfedcba98,
		}, back;
		void *o = NULL;

		pkts[0] = encap_one(a1, braid_wire_probe_reply_build(pool, 2, &r), 50000);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[0]);
		CU_ASSERT_EQUAL(braid_decap_burst(d, pkts, 1), 0);
		CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(ctrl, &o), 0);
		CU_ASSERT_EQUAL(braid_wire_probe_reply_parse(o, &back), 0);
		CU_ASSERT(reply_equal(&back, &r));
		CU_ASSERT_EQUAL(braid_meta(o)->link_id, 2);
		rte_pktmbuf_free(o);
	}

	/* the peer restarts: new session resets views; the old one is stale */
	old = encap_one(a1, data_pkt(60, 1, &rng), 60000);
	pkts[0] = encap_one(a2, data_pkt(60, 0, &rng), 61000);
	n = braid_decap_burst(d, pkts, 1);
	CU_ASSERT_EQUAL(n, 1);
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_TRUE(braid_decap_session(d, &s));
	CU_ASSERT_EQUAL(s, 0x2222);
	CU_ASSERT_EQUAL(braid_decap_link_view(d, 0, &v), 0);
	CU_ASSERT_EQUAL(v.rx_packets, 1);
	CU_ASSERT_EQUAL(v.lost, 0);
	CU_ASSERT_EQUAL(v.max_link_seq, 0);
	CU_ASSERT_EQUAL(v.session_id, 0x2222);
	CU_ASSERT_EQUAL(braid_decap_burst(d, &old, 1), 0);

	/* control frames: ring of 4 (3 usable) overflows and counts */
	for (unsigned int i = 0; i < 5; i++) {
		struct braid_probe p = {.probe_id = i, .tx_ns = i};

		pkts[i] = encap_one(a2, braid_wire_probe_build(pool, (uint16_t)(i % N_LINKS), &p), 70000);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
	}
	/* ARP and ICMP go to the punt ring, untouched */
	{
		uint8_t arp[60] = {0}, icmp[98];
		struct braid_wire_link links[N_LINKS];

		sender_links(links);
		memset(arp, 0xff, 6);
		wr16(arp + 12, RTE_ETHER_TYPE_ARP);
		pkts[5] = mk_pkt(arp, sizeof(arp), 1, RTE_PKTMBUF_HEADROOM);
		memset(icmp, 0, sizeof(icmp));
		wr16(icmp + 12, RTE_ETHER_TYPE_IPV4);
		mk_inner(icmp + 14, 84, &rng);
		icmp[14 + 9] = IPPROTO_ICMP;
		wr16(icmp + 24, 0);
		wr16(icmp + 24, (uint16_t)~ocsum(icmp + 14, 20, 0));
		pkts[6] = mk_pkt(icmp, sizeof(icmp), 1, RTE_PKTMBUF_HEADROOM);
	}
	pkts[7] = encap_one(a2, data_pkt(60, 3, &rng), 80000);
	/* through the stage ops, as the runner calls it */
	out.n = 0;
	braid_decap_stage_ops.process(d, pkts, 8, &out, 90000);
	CU_ASSERT_EQUAL(out.n, 1);
	CU_ASSERT_EQUAL(braid_meta(out.pkts[0])->pkt_type, BRAID_PKT_DATA);
	CU_ASSERT_EQUAL(braid_meta(out.pkts[0])->link_id, 3);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	drain_ring(ctrl, BRAID_PKT_PROBE, &got);
	CU_ASSERT_EQUAL(got, 3);
	got = 0;
	drain_ring(punt, 0, &got);
	CU_ASSERT_EQUAL(got, 2);

	braid_decap_stats(d, &c);
	CU_ASSERT_EQUAL(c.session_changes, 1);
	CU_ASSERT_EQUAL(c.drop_stale_session, 1);
	CU_ASSERT_EQUAL(c.drop_ctrl_full, 2);
	CU_ASSERT_EQUAL(c.control, 4);
	CU_ASSERT_EQUAL(c.punted, 2);
	CU_ASSERT_EQUAL(c.data, 10);
	CU_ASSERT_EQUAL(c.rx_packets, c.data + c.parity + c.control + c.punted +
			c.drop_stale_session + c.drop_ctrl_full);
	braid_decap_free(d);

	/* no rings: control frames leave with the data, ARP is a counted drop */
	d = mk_decap(NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	{
		struct braid_probe p = {.probe_id = 1, .tx_ns = 2};
		uint8_t arp[60] = {0};

		wr16(arp + 12, RTE_ETHER_TYPE_ARP);
		pkts[0] = encap_one(a2, braid_wire_probe_build(pool, 0, &p), 1);
		pkts[1] = mk_pkt(arp, sizeof(arp), 1, RTE_PKTMBUF_HEADROOM);
		pkts[2] = encap_one(a2, data_pkt(100, 0, &rng), 1);
		n = braid_decap_burst(d, pkts, 3);
		CU_ASSERT_EQUAL(n, 2);
		CU_ASSERT_EQUAL(braid_meta(pkts[0])->pkt_type, BRAID_PKT_PROBE);
		CU_ASSERT_EQUAL(braid_meta(pkts[1])->pkt_type, BRAID_PKT_DATA);
		rte_pktmbuf_free_bulk(pkts, n);
		braid_decap_stats(d, &c);
		CU_ASSERT_EQUAL(c.control, 1);
		CU_ASSERT_EQUAL(c.data, 1);
		CU_ASSERT_EQUAL(c.drop_no_punt, 1);
	}
	braid_decap_free(d);

	/* encap through its stage ops too */
	{
		out.n = 0;
		pkts[0] = data_pkt(100, 0, &rng);
		pkts[1] = data_pkt(100, 1, &rng);
		braid_encap_stage_ops.process(a2, pkts, 2, &out, 5);
		CU_ASSERT_EQUAL(out.n, 2);
		CU_ASSERT_EQUAL(out.pkts[1]->pkt_len, 100 + BRAID_WIRE_OVERHEAD);
		rte_pktmbuf_free_bulk(out.pkts, out.n);
		CU_ASSERT_STRING_EQUAL(braid_encap_stage_ops.kind, "encap");
		CU_ASSERT_STRING_EQUAL(braid_decap_stage_ops.kind, "rx_decap");
	}
	/* create refuses bad configurations */
	{
		struct braid_decap_conf dc;

		receiver_conf(&dc, NULL, NULL);
		dc.n_classes = 0;
		CU_ASSERT_PTR_NULL(braid_decap_create(&dc, SOCKET_ID_ANY));
		receiver_conf(&dc, NULL, NULL);
		dc.links[2].local_port = 0;
		CU_ASSERT_PTR_NULL(braid_decap_create(&dc, SOCKET_ID_ANY));
		receiver_conf(&dc, NULL, NULL);
		dc.n_links = BRAID_WIRE_MAX_LINKS + 1;
		CU_ASSERT_PTR_NULL(braid_decap_create(&dc, SOCKET_ID_ANY));
	}
	braid_encap_free(a1);
	braid_encap_free(a2);
	rte_ring_free(ctrl);
	rte_ring_free(punt);
	assert_no_leak();
}

/* ------------------------------------------- fuzz vs reference validator */

/*
 * The reference: doc/wire-format.md's receive checks written as plain
 * byte-offset arithmetic over a flat copy of the frame. seg0/last are the
 * first and last segment lengths (for the header-split and padding rules).
 */
struct ref_out {
	uint8_t type, flags;
	uint16_t class_id, link_id, inner_len, fec_len;
	uint32_t session, seq, link_seq, block_id;
	uint8_t idx, k, m;
	uint32_t inner_off;
};

static bool
ref_port_local(const struct braid_decap_conf *c, uint16_t port)
{
	for (unsigned int i = 0; i < c->n_links; i++)
		if (c->links[i].local_port == port)
			return true;
	return false;
}

static int
ref_decap(const struct braid_decap_conf *c, const uint8_t *b, uint32_t len,
	  uint32_t seg0, uint32_t last, uint64_t ol, struct ref_out *o)
{
	uint32_t hl, tl, u, ulen, h, ilen;
	uint64_t f;

	if (len < 14)
		return BRAID_DECAP_DROP_SHORT;
	if (seg0 < 14)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	if (rd16(b + 12) == 0x0806)
		return BRAID_DECAP_PUNT;
	if (rd16(b + 12) != 0x0800)
		return BRAID_DECAP_DROP_NOT_IPV4;
	if (len < 34)
		return BRAID_DECAP_DROP_SHORT;
	if (seg0 < 34)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	if (b[14] >> 4 != 4 || (b[14] & 15) < 5)
		return BRAID_DECAP_DROP_NOT_IPV4;
	hl = (b[14] & 15) * 4u;
	if (len < 14 + hl)
		return BRAID_DECAP_DROP_SHORT;
	if (seg0 < 14 + hl)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	tl = rd16(b + 16);
	if (tl < hl)
		return BRAID_DECAP_DROP_NOT_IPV4;
	if (14 + tl > len)
		return BRAID_DECAP_DROP_SHORT;
	f = ol & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (f == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && ocsum(b + 14, hl, 0) != 0xffff))
		return BRAID_DECAP_DROP_BAD_CKSUM;
	if (rd16(b + 20) & 0x3fff)
		return BRAID_DECAP_DROP_FRAGMENT;
	if (b[23] == 1)
		return BRAID_DECAP_PUNT;
	if (b[23] != 17)
		return BRAID_DECAP_DROP_NOT_UDP;
	if (tl < hl + 8)
		return BRAID_DECAP_DROP_BAD_UDP;
	u = 14 + hl;
	if (seg0 < u + 8)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	ulen = rd16(b + u + 4);
	if (ulen != tl - hl || !ref_port_local(c, rd16(b + u + 2)))
		return BRAID_DECAP_DROP_BAD_UDP;
	if (rd16(b + u + 6) != 0) {
		f = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		    (f == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN &&
		     udp_sum(b + 14, b + u, (uint16_t)ulen) != 0xffff))
			return BRAID_DECAP_DROP_BAD_CKSUM;
	}
	if (ulen < 48)
		return BRAID_DECAP_DROP_SHORT;
	h = u + 8;
	if (seg0 < h + 40)
		return BRAID_DECAP_DROP_HDR_SPLIT;
	if (rd16(b + h) != 0xBA1D)
		return BRAID_DECAP_DROP_BAD_MAGIC;
	if (b[h + 2] != 1)
		return BRAID_DECAP_DROP_BAD_VERSION;
	if ((b[h + 4] & 0x04) || b[h + 3] == 6)   /* SEALED or HELLO: no crypto here */
		return BRAID_DECAP_DROP_SEALED;
	o->type = b[h + 3];
	if (o->type < 1 || o->type > 5)
		return BRAID_DECAP_DROP_BAD_TYPE;
	o->link_id = rd16(b + h + 8);
	if (o->link_id >= c->n_links)
		return BRAID_DECAP_DROP_FOREIGN;
	{
		const struct braid_wire_link *l = &c->links[o->link_id];

		if (rd32(b + 30) != l->local_ip || rd16(b + u + 2) != l->local_port ||
		    (l->peer_ip != 0 && rd32(b + 26) != l->peer_ip) ||
		    (l->peer_port != 0 && rd16(b + u) != l->peer_port))
			return BRAID_DECAP_DROP_FOREIGN;
	}
	ilen = rd16(b + h + 10);
	if (ilen != ulen - 48)
		return BRAID_DECAP_DROP_BAD_LENGTH;
	o->flags = b[h + 4];
	o->class_id = rd16(b + h + 6);
	o->inner_len = (uint16_t)ilen;
	o->session = rd32(b + h + 12);
	o->seq = rd32(b + h + 16);
	o->link_seq = rd32(b + h + 20);
	o->block_id = rd32(b + h + 28);
	o->idx = b[h + 32];
	o->k = b[h + 33];
	o->m = b[h + 34];
	o->fec_len = rd16(b + h + 38);
	o->inner_off = h + 40;
	if (o->type <= 3 && o->class_id >= c->n_classes)
		return BRAID_DECAP_DROP_BAD_CLASS;
	if (o->type == 1) {
		const uint8_t *in = b + h + 40;

		if (rd16(b + h + 36) != 0x0800)
			return BRAID_DECAP_DROP_BAD_TYPE;
		if (o->fec_len != 0 ||
		    (o->k == 0 && (o->m != 0 || o->idx != 0 || o->block_id != 0)) ||
		    (o->k != 0 && (o->idx >= o->k || o->k + o->m > 256)))
			return BRAID_DECAP_DROP_BAD_FEC;
		if (ilen < 20 || in[0] >> 4 != 4 || (in[0] & 15) < 5 || rd16(in + 2) != ilen)
			return BRAID_DECAP_DROP_BAD_LENGTH;
	} else if (o->type == 2) {
		if (o->k < 1 || o->m < 1 || o->k + o->m > 256 || o->idx < o->k ||
		    o->idx >= o->k + o->m)
			return BRAID_DECAP_DROP_BAD_FEC;
		if (ilen == 0 || o->fec_len != ilen)
			return BRAID_DECAP_DROP_BAD_LENGTH;
	} else {
		if (o->block_id || o->idx || o->k || o->m || o->fec_len)
			return BRAID_DECAP_DROP_BAD_FEC;
		if (o->type == 3) {
			const uint8_t *p = b + h + 40;
			uint32_t any = 0;

			if (ilen < 8 || p[4] > 8 || p[5] > 16 || ilen != 8u + 4u * p[4] + 8u * p[5])
				return BRAID_DECAP_DROP_BAD_LENGTH;
			for (unsigned int w = 0; w < p[4]; w++)
				any |= rd32(p + 8 + 4 * w);
			for (unsigned int r = 0; r < p[5]; r++) {
				uint32_t cnt = rd32(p + 8 + 4u * p[4] + 8 * r + 4);

				if (cnt == 0 || cnt > 0x7fffffffu)
					return BRAID_DECAP_DROP_BAD_LENGTH;
				any = 1;
			}
			if (any == 0)
				return BRAID_DECAP_DROP_BAD_LENGTH;
		} else if (o->type == 4 ? ilen < 16u : ilen != 56u) {
			return BRAID_DECAP_DROP_BAD_LENGTH;     /* probes may be padded */
		}
	}
	if (len - 14 - tl > last)
		return BRAID_DECAP_DROP_BAD_LENGTH;
	return BRAID_DECAP_OK;
}

/* Valid frames to mutate, as flat bytes. */
#define N_BASE 48
static uint8_t base_frames[N_BASE][1600];
static uint32_t base_len[N_BASE];

static void
mk_base_frames(uint64_t *rng)
{
	struct braid_encap *e = mk_encap(SESSION_A, NULL, NULL);
	static struct sent s;

	for (unsigned int i = 0; i < N_BASE; i++) {
		struct rte_mbuf *m;

		if (i == N_BASE - 2 || i == N_BASE - 1) {
			/* an ARP request and an ICMP echo to the gateway */
			uint8_t *f = base_frames[i];

			memset(f, 0, 100);
			memset(f, 0xff, 6);
			if (i == N_BASE - 2) {
				wr16(f + 12, 0x0806);
				base_len[i] = 60;
			} else {
				wr16(f + 12, 0x0800);
				mk_inner(f + 14, 84, rng);
				f[23] = 1;
				wr16(f + 24, 0);
				wr16(f + 24, (uint16_t)~ocsum(f + 14, 20, 0));
				base_len[i] = 98;
			}
			continue;
		}
		do {
			m = mk_random(&s, rng);
			if (s.keep != NULL) {
				/* keep the base set simple: direct packets */
				rte_pktmbuf_free(m);
				rte_pktmbuf_free(s.keep);
				free(s.snapshot);
				m = NULL;
			}
		} while (m == NULL);
		if (i < 6) {
			/* short inner packets so truncation hits every field */
			rte_pktmbuf_free(m);
			m = data_pkt(28, (uint16_t)(i % N_LINKS), rng);
		}
		CU_ASSERT_EQUAL_FATAL(braid_encap_burst(e, &m, 1, 1000000ULL * i), 1);
		base_len[i] = flat(m, base_frames[i]);
		rte_pktmbuf_free(m);
	}
	braid_encap_free(e);
}

/* Recompute the outer IPv4 checksum (and a non-zero UDP checksum) where
 * the lengths allow it, so mutations reach the deeper checks. */
static void
fixup(uint8_t *b, uint32_t len)
{
	uint32_t hl, tl;

	if (len < 34 || rd16(b + 12) != 0x0800)
		return;
	hl = (b[14] & 15) * 4u;
	if (hl < 20 || 14 + hl > len)
		return;
	wr16(b + 24, 0);
	wr16(b + 24, (uint16_t)~ocsum(b + 14, hl, 0));
	tl = rd16(b + 16);
	if (b[23] == 17 && tl >= hl + 8 && 14 + tl <= len && rd16(b + 14 + hl + 6) != 0 &&
	    rd16(b + 14 + hl + 4) == tl - hl) {
		uint16_t s;

		wr16(b + 14 + hl + 6, 0);
		s = (uint16_t)~udp_sum(b + 14, b + 14 + hl, (uint16_t)(tl - hl));
		wr16(b + 14 + hl + 6, s == 0 ? 0xffff : s);
	}
}

/* Produce one fuzz frame into @p b; return its length. */
static uint32_t
mutate(uint8_t *b, uint64_t *rng, uint64_t *ol)
{
	unsigned int pick = (unsigned int)(braid_test_rand(rng) % N_BASE);
	unsigned int what = (unsigned int)(braid_test_rand(rng) % 100);
	uint32_t len = base_len[pick];
	static const uint8_t interesting[] = {0, 1, 2, 4, 5, 0x0f, 0x10, 0x20, 0x3f,
					       0x40, 0x7f, 0x80, 0xfe, 0xff};

	memcpy(b, base_frames[pick], len);
	*ol = 0;
	if (what < 8) {
		/* untouched */
	} else if (what < 40) {
		/* bit flips, mostly in the headers */
		unsigned int flips = 1 + (unsigned int)(braid_test_rand(rng) % 6);

		for (unsigned int i = 0; i < flips; i++) {
			uint32_t span = braid_test_rand(rng) % 4 ? RTE_MIN(len, 140u) : len;
			uint32_t pos = (uint32_t)(braid_test_rand(rng) % span);

			b[pos] ^= (uint8_t)(1u << (braid_test_rand(rng) % 8));
		}
		if (braid_test_rand(rng) % 2)
			fixup(b, len);
	} else if (what < 62) {
		/* interesting values in header fields */
		unsigned int n = 1 + (unsigned int)(braid_test_rand(rng) % 3);

		for (unsigned int i = 0; i < n; i++) {
			uint32_t pos = (uint32_t)(braid_test_rand(rng) % RTE_MIN(len, 140u));

			b[pos] = interesting[braid_test_rand(rng) % sizeof(interesting)];
		}
		if (braid_test_rand(rng) % 4)
			fixup(b, len);
	} else if (what < 72) {
		/* truncation, raw */
		len = (uint32_t)(braid_test_rand(rng) % (len + 1));
	} else if (what < 80) {
		/* truncation with IPv4/UDP lengths made consistent */
		uint32_t cut = (uint32_t)(braid_test_rand(rng) % RTE_MIN(len, 200u));

		if (len - cut >= 42) {
			len -= cut;
			wr16(b + 16, (uint16_t)(len - 14));
			wr16(b + 38, (uint16_t)(len - 34));
			if (braid_test_rand(rng) % 2 && len >= BRAID_WIRE_OVERHEAD)
				wr16(b + 52, (uint16_t)(len - BRAID_WIRE_OVERHEAD));
			fixup(b, len);
		}
	} else if (what < 86) {
		/* Ethernet padding / trailing junk */
		uint32_t add = (uint32_t)(braid_test_rand(rng) % 64);

		for (uint32_t i = 0; i < add && len < 1590; i++)
			b[len++] = (uint8_t)braid_test_rand(rng);
	} else if (what < 92) {
		/* garbage, sometimes behind a plausible Ethernet/IPv4 start */
		len = (uint32_t)(braid_test_rand(rng) % 200);
		for (uint32_t i = 0; i < len; i++)
			b[i] = (uint8_t)braid_test_rand(rng);
		if (len > 14 && braid_test_rand(rng) % 2) {
			wr16(b + 12, 0x0800);
			if (len > 15)
				b[14] = 0x45;
			fixup(b, len);
		}
	} else {
		/* NIC checksum verdicts, on an otherwise valid frame */
		static const uint64_t ipf[] = {RTE_MBUF_F_RX_IP_CKSUM_GOOD,
			RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE, 0};
		static const uint64_t l4f[] = {RTE_MBUF_F_RX_L4_CKSUM_GOOD,
			RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE, 0};

		*ol = ipf[braid_test_rand(rng) % 4] | l4f[braid_test_rand(rng) % 4];
		if (braid_test_rand(rng) % 2 && len > 30)
			b[braid_test_rand(rng) % 30] ^= 0x10;
	}
	return len;
}

/* What the stage must do with one frame: reference verdict + session rule. */
struct expect {
	int verdict;
	bool stale;
	struct ref_out o;
	uint32_t len;
	uint8_t bytes[1600];
};

struct session_model {
	bool have, have_prev;
	uint32_t cur, prev;
	uint64_t changes;
};

static bool
model_accept(struct session_model *s, uint32_t session)
{
	if (s->have && session == s->cur)
		return true;
	if (s->have_prev && session == s->prev)
		return false;
	if (s->have) {
		s->prev = s->cur;
		s->have_prev = true;
		s->changes++;
	}
	s->cur = session;
	s->have = true;
	return true;
}

static void
test_decap_fuzz(void)
{
	struct rte_ring *ctrl = rte_ring_create("wire_fz_ctrl", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *punt = rte_ring_create("wire_fz_punt", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct braid_decap_conf conf;
	struct braid_decap *d;
	struct braid_decap_stats c;
	struct session_model sm = {0};
	static struct expect ex[BRAID_BURST];
	struct rte_mbuf *pkts[BRAID_BURST];
	uint64_t tally[BRAID_DECAP_VERDICT_MAX] = {0};
	uint64_t rng = seed ^ 0x8888, frames = 0, n_data = 0, n_par = 0, n_ctrl = 0, n_stale = 0;
	uint64_t multiseg = 0, mismatches = 0;
	static uint8_t buf[2048];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(punt);
	receiver_conf(&conf, ctrl, punt);
	d = braid_decap_create(&conf, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	mk_base_frames(&rng);

	while (frames < FUZZ_FRAMES) {
		uint16_t n = (uint16_t)(1 + braid_test_rand(&rng) % BRAID_BURST), nout, j = 0;
		unsigned int ctrl_seen = 0, punt_seen = 0, ctrl_want = 0, punt_want = 0;
		void *o;

		for (uint16_t i = 0; i < n; i++) {
			struct expect *x = &ex[i];
			unsigned int nseg = 1;
			uint64_t ol;
			uint32_t seg0, last;

			x->len = mutate(x->bytes, &rng, &ol);
			if (x->len >= 2 && braid_test_rand(&rng) % 5 == 0)
				nseg = 2 + (unsigned int)(braid_test_rand(&rng) % 2);
			pkts[i] = mk_pkt(x->bytes, x->len, nseg, RTE_PKTMBUF_HEADROOM);
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
			pkts[i]->ol_flags |= ol;
			multiseg += pkts[i]->nb_segs > 1;
			seg0 = pkts[i]->data_len;
			last = rte_pktmbuf_lastseg(pkts[i])->data_len;
			x->verdict = ref_decap(&conf, x->bytes, x->len, seg0, last, ol, &x->o);
			x->stale = x->verdict == BRAID_DECAP_OK && !model_accept(&sm, x->o.session);
			tally[x->verdict]++;
			if (x->verdict == BRAID_DECAP_PUNT)
				punt_want++;
			if (x->verdict == BRAID_DECAP_OK && !x->stale) {
				if (x->o.type == BRAID_PKT_DATA)
					n_data++;
				else if (x->o.type == BRAID_PKT_PARITY)
					n_par++;
				else {
					n_ctrl++;
					ctrl_want++;
				}
			}
			n_stale += x->stale;
		}
		nout = braid_decap_burst(d, pkts, n);
		/* outputs: the accepted data and parity frames, in order */
		for (uint16_t i = 0; i < n; i++) {
			struct expect *x = &ex[i];
			struct braid_meta *mt;

			if (x->verdict != BRAID_DECAP_OK || x->stale || x->o.type > BRAID_PKT_PARITY)
				continue;
			if (j >= nout) {
				if (mismatches++ < 5)
					printf("\n  stage: output missing\n");
				break;
			}
			mt = braid_meta(pkts[j]);
			if (mt->pkt_type != x->o.type || mt->class_id != x->o.class_id ||
			    mt->seq != x->o.seq || mt->link_id != x->o.link_id ||
			    mt->block_id != x->o.block_id || mt->block_idx != x->o.idx ||
			    mt->fec_k != x->o.k || mt->fec_m != x->o.m ||
			    mt->fec_len != x->o.fec_len ||
			    pkts[j]->pkt_len != x->o.inner_len ||
			    flat(pkts[j], buf) != x->o.inner_len ||
			    memcmp(buf, x->bytes + x->o.inner_off, x->o.inner_len) != 0) {
				if (mismatches++ < 5)
					printf("\n  stage frame %u: meta/bytes differ (type %u len %u)\n",
					       i, x->o.type, x->o.inner_len);
			}
			j++;
		}
		CU_ASSERT_EQUAL(j, nout);
		rte_pktmbuf_free_bulk(pkts, nout);
		while (rte_ring_dequeue(ctrl, &o) == 0) {
			ctrl_seen++;
			rte_pktmbuf_free(o);
		}
		while (rte_ring_dequeue(punt, &o) == 0) {
			punt_seen++;
			rte_pktmbuf_free(o);
		}
		CU_ASSERT_EQUAL(ctrl_seen, ctrl_want);
		CU_ASSERT_EQUAL(punt_seen, punt_want);
		frames += n;
	}
	CU_ASSERT_EQUAL(mismatches, 0);

	/* per-frame verdicts of the library against the reference */
	for (unsigned int i = 0; i < 20000; i++) {
		struct expect *x = &ex[0];
		struct braid_decap_info info;
		struct rte_mbuf *m;
		uint64_t ol;
		int v;

		x->len = mutate(x->bytes, &rng, &ol);
		m = mk_pkt(x->bytes, x->len, 1 + (unsigned int)(braid_test_rand(&rng) % 2),
			   RTE_PKTMBUF_HEADROOM);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		m->ol_flags |= ol;
		x->verdict = ref_decap(&conf, x->bytes, x->len, m->data_len,
				       rte_pktmbuf_lastseg(m)->data_len, ol, &x->o);
		v = braid_decap_one(d, m, &info);
		if (v != x->verdict) {
			if (mismatches++ < 5)
				printf("\n  frame %u: decap %s, reference %s\n", i,
				       braid_decap_verdict_name(v),
				       braid_decap_verdict_name(x->verdict));
		} else if (v == BRAID_DECAP_OK &&
			   (info.session_id != x->o.session || info.link_seq != x->o.link_seq ||
			    info.type != x->o.type || info.flags != x->o.flags)) {
			if (mismatches++ < 5)
				printf("\n  frame %u: info differs\n", i);
		} else if (v != BRAID_DECAP_OK && m->pkt_len != x->len) {
			if (mismatches++ < 5)     /* a refused frame must be untouched */
				printf("\n  frame %u: refused but changed\n", i);
		}
		tally[v]++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(mismatches, 0);

	braid_decap_stats(d, &c);
	CU_ASSERT_EQUAL(c.rx_packets, frames);
	CU_ASSERT_EQUAL(c.data, n_data);
	CU_ASSERT_EQUAL(c.parity, n_par);
	CU_ASSERT_EQUAL(c.control, n_ctrl);
	CU_ASSERT_EQUAL(c.drop_stale_session, n_stale);
	CU_ASSERT_EQUAL(c.session_changes, sm.changes);
	CU_ASSERT_EQUAL(c.drop_ctrl_full + c.drop_punt_full + c.drop_no_punt, 0);
	{
		uint64_t drops = c.drop_short + c.drop_hdr_split + c.drop_not_ipv4 +
				 c.drop_bad_cksum + c.drop_fragment + c.drop_not_udp +
				 c.drop_bad_udp + c.drop_foreign + c.drop_bad_magic +
				 c.drop_bad_version + c.drop_bad_type + c.drop_bad_class +
				 c.drop_bad_length + c.drop_bad_fec + c.drop_stale_session +
				 c.drop_ctrl_full + c.drop_punt_full + c.drop_no_punt +
				 c.drop_burst_full + c.drop_unsealed + c.drop_sealed;

		CU_ASSERT_EQUAL(c.rx_packets, c.data + c.parity + c.control + c.punted + drops);
	}
	printf("\n  fuzz: %" PRIu64 " frames through the stage (+20000 single), %" PRIu64
	       " multi-segment, %" PRIu64 " session changes\n", frames, multiseg, sm.changes);
	for (unsigned int v = 0; v < BRAID_DECAP_VERDICT_MAX; v++) {
		printf("    %-18s %8" PRIu64 "\n", braid_decap_verdict_name(v), tally[v]);
		/* every outcome is exercised (unsealed needs require_sealed:
		 * test_decap_require_sealed) */
		CU_ASSERT(tally[v] > 0 || v == BRAID_DECAP_DROP_UNSEALED);
	}
	braid_decap_free(d);
	rte_ring_free(ctrl);
	rte_ring_free(punt);
	assert_no_leak();
}

/* ------------------------------------------------------------ registration */

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") < 0)
		return -1;
	if (braid_meta_register() < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("wire_pool", POOL_N, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return -1;
	seed = braid_test_seed(0x5eed0f1e1d5ULL);
	printf("test_wire seed=0x%" PRIx64 " (BRAID_TEST_SEED to repeat)\n", seed);
	return 0;
}

/* require_udp_cksum: a frame without a UDP checksum is a drop.
 * confirm_session: one frame of an unknown session changes nothing; the
 * second adopts it. */
static void
test_decap_hardened(void)
{
	struct braid_encap *a1 = mk_encap(0x1111, NULL, NULL);
	struct braid_encap *a2 = mk_encap(0x2222, NULL, NULL);
	struct braid_decap_conf dc;
	struct braid_decap *d;
	struct braid_decap_stats c;
	struct rte_mbuf *m;
	uint64_t rng = seed ^ 0x4242;
	uint32_t s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a2);
	receiver_conf(&dc, NULL, NULL);
	dc.require_udp_cksum = true;
	dc.confirm_session = true;
	d = braid_decap_create(&dc, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* mk_encap sends no UDP checksum: every frame is refused. */
	m = encap_one(a1, data_pkt(60, 0, &rng), 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(braid_decap_one(d, m, NULL), BRAID_DECAP_DROP_BAD_CKSUM);
	rte_pktmbuf_free(m);
	braid_decap_free(d);

	dc.require_udp_cksum = false;
	d = braid_decap_create(&dc, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (uint32_t i = 0; i < 2; i++) {          /* session 0x1111 */
		m = encap_one(a1, data_pkt(60, 0, &rng), 2000 + i);
		CU_ASSERT_EQUAL(braid_decap_burst(d, &m, 1), 1);
		rte_pktmbuf_free(m);
	}
	m = encap_one(a2, data_pkt(60, 0, &rng), 3000);   /* 0x2222 once */
	CU_ASSERT_EQUAL(braid_decap_burst(d, &m, 1), 0);
	CU_ASSERT(braid_decap_session(d, &s) && s == 0x1111);
	m = encap_one(a1, data_pkt(60, 0, &rng), 3001);   /* old still fine */
	CU_ASSERT_EQUAL(braid_decap_burst(d, &m, 1), 1);
	rte_pktmbuf_free(m);
	m = encap_one(a2, data_pkt(60, 0, &rng), 3002);   /* 0x2222 again */
	CU_ASSERT_EQUAL(braid_decap_burst(d, &m, 1), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT(braid_decap_session(d, &s) && s == 0x2222);
	m = encap_one(a1, data_pkt(60, 0, &rng), 3003);   /* now stale */
	CU_ASSERT_EQUAL(braid_decap_burst(d, &m, 1), 0);
	braid_decap_stats(d, &c);
	CU_ASSERT_EQUAL(c.drop_session_unconfirmed, 1);
	CU_ASSERT_EQUAL(c.drop_stale_session, 1);
	CU_ASSERT_EQUAL(c.session_changes, 1);
	braid_decap_free(d);
	braid_encap_free(a1);
	braid_encap_free(a2);
	assert_no_leak();
}

/* require_sealed (crypto on): a frame the open stage did not verify is
 * drop_unsealed even when it is valid; an opened one is taken without a
 * UDP checksum (its tag covered more). */
static void
test_decap_require_sealed(void)
{
	struct braid_encap *a = mk_encap(0x3333, NULL, NULL);
	struct braid_decap_conf dc;
	struct braid_decap *d;
	struct rte_mbuf *m;
	uint64_t rng = seed ^ 0x5151;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	receiver_conf(&dc, NULL, NULL);
	dc.require_sealed = true;
	d = braid_decap_create(&dc, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	m = encap_one(a, data_pkt(60, 0, &rng), 1000);      /* no UDP checksum */
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(braid_decap_one(d, m, NULL), BRAID_DECAP_DROP_UNSEALED);
	braid_decap_free(d);
	dc.require_udp_cksum = true;
	d = braid_decap_create(&dc, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(braid_decap_one(d, m, NULL), BRAID_DECAP_DROP_BAD_CKSUM);
	braid_meta(m)->flags |= BRAID_META_F_OPENED;
	CU_ASSERT_EQUAL(braid_decap_one(d, m, NULL), BRAID_DECAP_OK);
	rte_pktmbuf_free(m);
	braid_decap_free(d);
	braid_encap_free(a);
	assert_no_leak();
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("wire", suite_init, NULL);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "seq helpers vs 64-bit reference", test_seq_helpers) == NULL ||
	    CU_add_test(s, "nack codec", test_nack_codec) == NULL ||
	    CU_add_test(s, "hex example byte-exact", test_hex_example) == NULL ||
	    CU_add_test(s, "encap/decap round trip", test_roundtrip) == NULL ||
	    CU_add_test(s, "mtu drop", test_mtu) == NULL ||
	    CU_add_test(s, "zero copy: in place vs chained", test_zero_copy) == NULL ||
	    CU_add_test(s, "links, bad meta, offloads", test_links_and_meta) == NULL ||
	    CU_add_test(s, "rx_decap stage", test_rx_decap_stage) == NULL ||
	    CU_add_test(s, "required checksum, confirmed session", test_decap_hardened) == NULL ||
	    CU_add_test(s, "required sealing", test_decap_require_sealed) == NULL ||
	    CU_add_test(s, "decap fuzz vs reference", test_decap_fuzz) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("wire", register_tests);
}
