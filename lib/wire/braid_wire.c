/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control payload codecs (NACK, probe, probe reply), their mbuf builders
 * and parsers, link validation shared by encap and decap.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "braid_meta.h"
#include "braid_wire.h"
#include "wire_priv.h"

RTE_LOG_REGISTER(braid_wire_logtype, braid.wire, INFO);

const char *
braid_wire_type_name(uint8_t type)
{
	switch (type) {
	case BRAID_PKT_DATA: return "data";
	case BRAID_PKT_PARITY: return "parity";
	case BRAID_PKT_NACK: return "nack";
	case BRAID_PKT_PROBE: return "probe";
	case BRAID_PKT_PROBE_REPLY: return "probe_reply";
	case BRAID_PKT_HELLO: return "hello";
	default: return "unknown";
	}
}

bool
wire_link_valid(const struct braid_wire_link *l, unsigned int idx, bool for_encap)
{
	/* A peer not known yet (a listener's link before its peer spoke):
	 * no address, no port, no next hop; encap drops its frames as
	 * drop_no_nexthop, decap takes any source. */
	const bool unknown = l->peer_ip == 0 && l->peer_port == 0 &&
			     rte_is_zero_ether_addr(&l->dst_mac);
	const char *why = NULL;

	/* local_ip 0: no address yet (a dhcp port before its lease); encap
	 * drops the link's frames as drop_no_nexthop, decap takes none. */
	if (l->local_ip == UINT32_MAX)
		why = "local_ip must be a unicast address (or 0: none yet)";
	else if ((l->peer_ip == 0 && !unknown) || l->peer_ip == UINT32_MAX)
		why = "peer_ip must be a unicast address (or 0 with no port and no next hop: not known yet)";
	else if (l->local_port == 0)
		why = "local_port must be 1..65535";
	else if (for_encap && l->peer_port == 0 && !unknown)
		why = "peer_port must be 1..65535";
	else if (for_encap && !rte_is_valid_assigned_ether_addr(&l->src_mac))
		why = "src_mac must be a unicast, non-zero MAC";
	else if (for_encap && !rte_is_zero_ether_addr(&l->dst_mac) &&
		 !rte_is_valid_assigned_ether_addr(&l->dst_mac))
		why = "dst_mac must be unicast (or all-zero: unresolved)";
	else if (for_encap && (l->mtu < BRAID_WIRE_MTU_MIN || l->mtu > BRAID_WIRE_MTU_MAX))
		why = "mtu must be 576..9216";
	else if (for_encap && (l->tx_offloads & ~(BRAID_WIRE_TXO_IPV4_CKSUM |
						  BRAID_WIRE_TXO_UDP_CKSUM |
						  BRAID_WIRE_TXO_UDP_SW)) != 0)
		why = "unknown tx_offloads bit";
	else if (for_encap && (l->tx_offloads & BRAID_WIRE_TXO_UDP_CKSUM) &&
		 (l->tx_offloads & BRAID_WIRE_TXO_UDP_SW))
		why = "UDP checksum both by NIC and in software";
	if (why == NULL)
		return true;
	WIRE_LOG(ERR, "wire: link %u: %s", idx, why);
	return false;
}

uint16_t
wire_udp_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
	     uint32_t l4_off, uint32_t l4_len)
{
	struct {
		rte_be32_t src, dst;
		uint8_t zero, proto;
		rte_be16_t len;
	} __rte_packed ph = {
		.src = ip->src_addr, .dst = ip->dst_addr,
		.zero = 0, .proto = IPPROTO_UDP,
		.len = rte_cpu_to_be_16((uint16_t)l4_len),
	};
	uint32_t sum = __rte_raw_cksum(&ph, sizeof(ph), 0);
	uint32_t done = 0;

	while (m != NULL && l4_off >= m->data_len) {
		l4_off -= m->data_len;
		m = m->next;
	}
	while (m != NULL && done < l4_len) {
		uint32_t seglen = RTE_MIN((uint32_t)m->data_len - l4_off, l4_len - done);
		uint16_t part = __rte_raw_cksum_reduce(
			__rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const void *, l4_off),
					seglen, 0));

		/* A segment that starts at an odd offset of the datagram has
		 * its bytes in the other halves of the 16-bit words. */
		if (done & 1)
			part = rte_bswap16(part);
		sum += part;
		done += seglen;
		l4_off = 0;
		m = m->next;
	}
	return __rte_raw_cksum_reduce(sum);
}

/* ---- NACK ---- */

static bool
nack_counts_valid(uint8_t words, uint8_t n_ranges)
{
	return words <= BRAID_NACK_BITMAP_WORDS && n_ranges <= BRAID_NACK_MAX_RANGES &&
	       (words > 0 || n_ranges > 0);
}

static size_t
nack_len_of(uint8_t words, uint8_t n_ranges)
{
	return sizeof(struct braid_nack_wire) + (size_t)words * 4 +
	       (size_t)n_ranges * sizeof(struct braid_nack_range_wire);
}

static bool
nack_names_something(const uint32_t *bitmap, uint8_t words, uint8_t n_ranges)
{
	uint32_t any = 0;

	if (n_ranges > 0)
		return true;
	for (unsigned int i = 0; i < words; i++)
		any |= bitmap[i];
	return any != 0;
}

int
braid_wire_nack_len(const struct braid_nack *nack)
{
	if (nack == NULL || !nack_counts_valid(nack->bitmap_words, nack->n_ranges))
		return -EINVAL;
	for (unsigned int i = 0; i < nack->n_ranges; i++)
		if (nack->ranges[i].count == 0 ||
		    nack->ranges[i].count > BRAID_NACK_RANGE_MAX)
			return -EINVAL;
	if (!nack_names_something(nack->bitmap, nack->bitmap_words, nack->n_ranges))
		return -EINVAL;
	return (int)nack_len_of(nack->bitmap_words, nack->n_ranges);
}

int
braid_wire_nack_encode(void *buf, size_t size, const struct braid_nack *nack)
{
	struct braid_nack_wire *w = buf;
	uint8_t *p = buf;
	int len = braid_wire_nack_len(nack);
	size_t off;

	if (len < 0)
		return len;
	if (buf == NULL || size < (size_t)len)
		return -ENOSPC;
	w->base_seq = rte_cpu_to_be_32(nack->base_seq);
	w->bitmap_words = nack->bitmap_words;
	w->n_ranges = nack->n_ranges;
	w->reserved = 0;
	off = sizeof(*w);
	for (unsigned int i = 0; i < nack->bitmap_words; i++, off += 4) {
		rte_be32_t v = rte_cpu_to_be_32(nack->bitmap[i]);

		memcpy(p + off, &v, 4);
	}
	for (unsigned int i = 0; i < nack->n_ranges; i++, off += 8) {
		rte_be32_t v[2] = {
			rte_cpu_to_be_32(nack->ranges[i].first),
			rte_cpu_to_be_32(nack->ranges[i].count),
		};

		memcpy(p + off, v, 8);
	}
	return len;
}

int
braid_wire_nack_decode(const void *buf, size_t len, struct braid_nack *nack)
{
	const uint8_t *p = buf;
	struct braid_nack_wire w;
	size_t off;

	if (buf == NULL || len < sizeof(w))
		return -EINVAL;
	memcpy(&w, p, sizeof(w));
	if (!nack_counts_valid(w.bitmap_words, w.n_ranges) ||
	    len != nack_len_of(w.bitmap_words, w.n_ranges))
		return -EINVAL;
	nack->base_seq = rte_be_to_cpu_32(w.base_seq);
	nack->bitmap_words = w.bitmap_words;
	nack->n_ranges = w.n_ranges;
	off = sizeof(w);
	for (unsigned int i = 0; i < w.bitmap_words; i++, off += 4) {
		rte_be32_t v;

		memcpy(&v, p + off, 4);
		nack->bitmap[i] = rte_be_to_cpu_32(v);
	}
	for (unsigned int i = 0; i < w.n_ranges; i++, off += 8) {
		rte_be32_t v[2];

		memcpy(v, p + off, 8);
		nack->ranges[i].first = rte_be_to_cpu_32(v[0]);
		nack->ranges[i].count = rte_be_to_cpu_32(v[1]);
		if (nack->ranges[i].count == 0 ||
		    nack->ranges[i].count > BRAID_NACK_RANGE_MAX)
			return -EINVAL;
	}
	if (!nack_names_something(nack->bitmap, w.bitmap_words, w.n_ranges))
		return -EINVAL;
	return 0;
}

/* ---- control mbufs ---- */

/* An mbuf from @p mp holding @p len payload bytes, meta set for encap. */
static struct rte_mbuf *
ctrl_alloc(struct rte_mempool *mp, uint16_t link_id, uint8_t type,
	   uint16_t class_id, size_t len, void **data)
{
	struct rte_mbuf *m;
	struct braid_meta *meta;

	if (mp == NULL || rte_pktmbuf_data_room_size(mp) <
	    RTE_PKTMBUF_HEADROOM + BRAID_WIRE_OVERHEAD + len) {
		rte_errno = EINVAL;
		return NULL;
	}
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Leave room for the outer headers: encap then prepends in place. */
	*data = rte_pktmbuf_append(m, (uint16_t)len);
	meta = braid_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->pkt_type = type;
	meta->class_id = class_id;
	meta->link_id = link_id;
	return m;
}

struct rte_mbuf *
braid_wire_nack_build(struct rte_mempool *mp, uint16_t link_id,
		      const struct braid_nack *nack)
{
	struct rte_mbuf *m;
	void *data;
	int len = braid_wire_nack_len(nack);

	if (len < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	m = ctrl_alloc(mp, link_id, BRAID_PKT_NACK, nack->class_id, (size_t)len, &data);
	if (m == NULL)
		return NULL;
	braid_wire_nack_encode(data, (size_t)len, nack);
	return m;
}

struct rte_mbuf *
braid_wire_probe_build_padded(struct rte_mempool *mp, uint16_t link_id,
			      const struct braid_probe *probe, uint16_t len)
{
	struct braid_probe_wire w = {
		.probe_id = rte_cpu_to_be_32(probe->probe_id),
		.reserved = 0,
		.tx_ns = rte_cpu_to_be_64(probe->tx_ns),
	};
	struct rte_mbuf *m;
	void *data;

	len = RTE_MAX(len, (uint16_t)sizeof(w));
	m = ctrl_alloc(mp, link_id, BRAID_PKT_PROBE, 0, len, &data);
	if (m == NULL)
		return NULL;
	memcpy(data, &w, sizeof(w));
	memset((uint8_t *)data + sizeof(w), 0, len - sizeof(w));
	return m;
}

struct rte_mbuf *
braid_wire_probe_build(struct rte_mempool *mp, uint16_t link_id,
		       const struct braid_probe *probe)
{
	return braid_wire_probe_build_padded(mp, link_id, probe, 0);
}

struct rte_mbuf *
braid_wire_probe_reply_build(struct rte_mempool *mp, uint16_t link_id,
			     const struct braid_probe_reply *reply)
{
	struct braid_probe_reply_wire w = {
		.probe_id = rte_cpu_to_be_32(reply->probe_id),
		.reserved0 = 0,
		.probe_tx_ns = rte_cpu_to_be_64(reply->probe_tx_ns),
		.probe_rx_ns = rte_cpu_to_be_64(reply->probe_rx_ns),
		.reply_tx_ns = rte_cpu_to_be_64(reply->reply_tx_ns),
		.link_rx_packets = rte_cpu_to_be_64(reply->link_rx_packets),
		.link_lost = rte_cpu_to_be_64(reply->link_lost),
		.link_max_seq = rte_cpu_to_be_32(reply->link_max_seq),
		.link_rx_bytes = rte_cpu_to_be_32(reply->link_rx_bytes),
	};
	struct rte_mbuf *m;
	void *data;

	m = ctrl_alloc(mp, link_id, BRAID_PKT_PROBE_REPLY, 0, sizeof(w), &data);
	if (m == NULL)
		return NULL;
	memcpy(data, &w, sizeof(w));
	return m;
}

int
braid_wire_nack_parse(struct rte_mbuf *m, struct braid_nack *nack)
{
	uint8_t buf[BRAID_NACK_MAX_LEN];
	const void *p;
	int ret;

	if (braid_meta(m)->pkt_type != BRAID_PKT_NACK || m->pkt_len > sizeof(buf))
		return -EINVAL;
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	if (p == NULL)
		return -EINVAL;
	ret = braid_wire_nack_decode(p, m->pkt_len, nack);
	if (ret == 0)
		nack->class_id = braid_meta(m)->class_id;
	return ret;
}

int
braid_wire_probe_parse(struct rte_mbuf *m, struct braid_probe *probe)
{
	struct braid_probe_wire w;
	const struct braid_probe_wire *p;

	if (braid_meta(m)->pkt_type != BRAID_PKT_PROBE || m->pkt_len < sizeof(w))
		return -EINVAL;
	p = rte_pktmbuf_read(m, 0, sizeof(w), &w);
	if (p == NULL)
		return -EINVAL;
	probe->probe_id = rte_be_to_cpu_32(p->probe_id);
	probe->tx_ns = rte_be_to_cpu_64(p->tx_ns);
	return 0;
}

int
braid_wire_probe_reply_parse(struct rte_mbuf *m, struct braid_probe_reply *reply)
{
	struct braid_probe_reply_wire w;
	const struct braid_probe_reply_wire *p;

	if (braid_meta(m)->pkt_type != BRAID_PKT_PROBE_REPLY || m->pkt_len != sizeof(w))
		return -EINVAL;
	p = rte_pktmbuf_read(m, 0, sizeof(w), &w);
	if (p == NULL)
		return -EINVAL;
	reply->probe_id = rte_be_to_cpu_32(p->probe_id);
	reply->probe_tx_ns = rte_be_to_cpu_64(p->probe_tx_ns);
	reply->probe_rx_ns = rte_be_to_cpu_64(p->probe_rx_ns);
	reply->reply_tx_ns = rte_be_to_cpu_64(p->reply_tx_ns);
	reply->link_rx_packets = rte_be_to_cpu_64(p->link_rx_packets);
	reply->link_lost = rte_be_to_cpu_64(p->link_lost);
	reply->link_max_seq = rte_be_to_cpu_32(p->link_max_seq);
	reply->link_rx_bytes = rte_be_to_cpu_32(p->link_rx_bytes);
	return 0;
}
