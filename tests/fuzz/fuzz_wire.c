/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry point over braid's receive path: braid_decap_burst()
 * (and so braid_decap_one()) plus the control payload parsers.
 *
 * Input byte 0 selects how the rest is used:
 *   bits 0-1  segments the frame is split into (1..3)
 *   bits 2-3  NIC IPv4 checksum verdict in ol_flags (unknown/good/bad/none)
 *   bits 4-5  NIC L4 checksum verdict
 *   bit  6    recompute the IPv4 (and non-zero UDP) checksum after mutation
 *   bit  7    synthesize: build a valid frame with the encap stage from the
 *             next bytes (type, link, k, m, index, length), then apply up
 *             to 16 (offset, value) overwrites from the input; otherwise
 *             the rest of the input is the frame.
 * Synthesis lets the fuzzer reach the checks behind the magic and the
 * checksums without a corpus.
 *
 * Invariants checked (abort() on violation): the stage accounts for every
 * frame (rx_packets = data + parity + control + punted + drops); an
 * accepted frame's length equals the header's inner_len; accepted control
 * payloads parse; no mbuf stays in use.
 *
 * Build (clang): see the meson snippet in the lib/wire report, or
 *   clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
 *     -Ilib/engine -Ilib/wire $(pkg-config --cflags libdpdk) \
 *     lib/wire/braid_wire.c lib/wire/braid_encap.c lib/wire/braid_decap.c \
 *     lib/engine/braid_meta.c tests/fuzz/fuzz_wire.c \
 *     $(pkg-config --libs libdpdk) -o fuzz_wire
 *   ASAN_OPTIONS=detect_leaks=0 ./fuzz_wire -max_len=4096
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "braid_decap.h"
#include "braid_encap.h"
#include "braid_meta.h"
#include "braid_wire.h"

#define N_LINKS 4
#define MAX_FRAME 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct braid_encap *enc;
static struct braid_decap *dec;

static void
print_counter(void *arg, const char *name,
	      const struct braid_stat_labels *labels, uint64_t value)
{
	RTE_SET_USED(labels);
	fprintf(arg, "  %-20s %" PRIu64 "\n", name, value);
}

/* FUZZ_WIRE_STATS=1: print the rx_decap counters at exit (coverage of
 * the drop reasons at a glance). */
static void
stats_at_exit(void)
{
	if (dec != NULL && getenv("FUZZ_WIRE_STATS") != NULL)
		braid_decap_stage_ops.stats(dec, print_counter, stderr);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *eal[] = {"fuzz_wire", "-l", "0", "--no-huge", "-m", "256",
			      "--no-shconf", "--no-pci", "--no-telemetry",
			      "--log-level=*:emerg", NULL};
	struct braid_encap_conf ec;
	struct braid_decap_conf dc;

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0 || braid_meta_register() < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_wire", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	memset(&ec, 0, sizeof(ec));
	memset(&dc, 0, sizeof(dc));
	ec.session_id = 0x5EED1234;
	ec.n_links = N_LINKS;
	ec.hdr_pool = pool;
	ec.clone_pool = pool;
	dc.n_links = N_LINKS;
	dc.n_classes = 8;
	for (unsigned int i = 0; i < N_LINKS; i++) {
		struct braid_wire_link *s = &ec.links[i], *r = &dc.links[i];

		s->src_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0a, (uint8_t)i}};
		s->dst_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x0b, (uint8_t)i}};
		s->local_ip = RTE_IPV4(10, 1, i + 1, 1);
		s->peer_ip = RTE_IPV4(10, 1, i + 1, 2);
		s->local_port = (uint16_t)(7000 + i);
		s->peer_port = 7000;
		s->mtu = 9000;
		s->tx_offloads = i == 2 ? BRAID_WIRE_TXO_UDP_SW : 0;
		r->local_ip = s->peer_ip;
		r->local_port = s->peer_port;
		r->peer_ip = s->local_ip;
		r->peer_port = i == 1 ? 0 : s->local_port;
	}
	enc = braid_encap_create(&ec, SOCKET_ID_ANY);
	dec = braid_decap_create(&dc, SOCKET_ID_ANY);
	if (enc == NULL || dec == NULL)
		abort();
	atexit(stats_at_exit);
	return 0;
}

/* Input cursor: reads past the end give 0. */
struct cursor {
	const uint8_t *p;
	size_t n, off;
};

static uint8_t
next8(struct cursor *c)
{
	return c->off < c->n ? c->p[c->off++] : 0;
}

static uint16_t
next16(struct cursor *c)
{
	uint16_t hi = next8(c);

	return (uint16_t)(hi << 8 | next8(c));
}

static uint32_t
next32(struct cursor *c)
{
	uint32_t hi = next16(c);

	return hi << 16 | next16(c);
}

static struct rte_mbuf *
payload_mbuf(struct cursor *c, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (uint16_t i = 0; i < len; i++)
		p[i] = next8(c);
	memset(braid_meta(m), 0, sizeof(struct braid_meta));
	return m;
}

/* Build a valid frame from the input with the encap stage; flatten it. */
static size_t
synthesize(struct cursor *c, uint8_t *frame)
{
	uint8_t type = (uint8_t)(1 + next8(c) % BRAID_PKT_TYPE_MAX);
	uint16_t link = next8(c) % N_LINKS;
	uint8_t k = next8(c), m = next8(c), idx = next8(c);
	uint16_t len = next16(c) % 1500;
	struct rte_mbuf *pkt = NULL;
	struct braid_meta *meta;

	switch (type) {
	case BRAID_PKT_NACK: {
		struct braid_nack n;

		memset(&n, 0, sizeof(n));
		n.class_id = k % 8;
		n.base_seq = next32(c);
		n.bitmap_words = m % (BRAID_NACK_BITMAP_WORDS + 1);
		n.n_ranges = idx % (BRAID_NACK_MAX_RANGES + 1);
		for (unsigned int i = 0; i < n.bitmap_words; i++)
			n.bitmap[i] = next32(c) | 1;
		for (unsigned int i = 0; i < n.n_ranges; i++) {
			n.ranges[i].first = next32(c);
			n.ranges[i].count = 1 + next16(c);
		}
		if (n.bitmap_words == 0 && n.n_ranges == 0) {
			n.bitmap_words = 1;
			n.bitmap[0] = 1;
		}
		pkt = braid_wire_nack_build(pool, link, &n);
		break;
	}
	case BRAID_PKT_PROBE: {
		struct braid_probe p = {.probe_id = next32(c), .tx_ns = next32(c)};

		pkt = braid_wire_probe_build(pool, link, &p);
		break;
	}
	case BRAID_PKT_PROBE_REPLY: {
		struct braid_probe_reply r = {.probe_id = next32(c), .link_lost = next32(c)};

		pkt = braid_wire_probe_reply_build(pool, link, &r);
		break;
	}
	case BRAID_PKT_PARITY:
		pkt = payload_mbuf(c, (uint16_t)(len + 1));
		if (pkt == NULL)
			return 0;
		meta = braid_meta(pkt);
		meta->pkt_type = BRAID_PKT_PARITY;
		meta->fec_k = (uint8_t)(1 + k % 64);
		meta->fec_m = (uint8_t)(1 + m % 16);
		meta->block_idx = (uint8_t)(meta->fec_k + idx % meta->fec_m);
		meta->fec_len = (uint16_t)(len + 1);
		break;
	default: {
		uint8_t *p;

		pkt = payload_mbuf(c, (uint16_t)(len + 20));
		if (pkt == NULL)
			return 0;
		p = rte_pktmbuf_mtod(pkt, uint8_t *);
		p[0] = 0x45;
		p[2] = (uint8_t)((len + 20) >> 8);
		p[3] = (uint8_t)(len + 20);
		meta = braid_meta(pkt);
		if (k % 2) {
			meta->fec_k = (uint8_t)(1 + k % 64);
			meta->fec_m = m % 16;
			meta->block_idx = idx % meta->fec_k;
		}
		break;
	}
	}
	if (pkt == NULL)
		return 0;
	meta = braid_meta(pkt);
	meta->link_id = link;
	if (type != BRAID_PKT_NACK)
		meta->class_id = next8(c) % 8;
	meta->seq = next32(c);
	meta->block_id = meta->fec_k != 0 ? next32(c) : 0;
	if (braid_encap_burst(enc, &pkt, 1, (uint64_t)next32(c) * 1000) != 1)
		return 0;
	if (pkt->pkt_len <= MAX_FRAME) {
		const void *p = rte_pktmbuf_read(pkt, 0, pkt->pkt_len, frame);

		if (p != NULL && p != frame)
			memcpy(frame, p, pkt->pkt_len);
		len = p != NULL ? (uint16_t)pkt->pkt_len : 0;
	} else {
		len = 0;
	}
	rte_pktmbuf_free(pkt);
	return len;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
fix_checksums(uint8_t *f, size_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	size_t hl;

	if (len < 34 || f[12] != 0x08 || f[13] != 0x00)
		return;
	hl = (size_t)(f[14] & 0xf) * 4;
	if (hl < 20 || 14 + hl > len)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~fold(rte_raw_cksum(ip, hl));
	if (ip->next_proto_id == IPPROTO_UDP) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + 14 + hl);
		size_t tl = rte_be_to_cpu_16(ip->total_length);
		uint16_t sum;

		if (tl < hl + 8 || 14 + tl > len || udp->dgram_cksum == 0 ||
		    rte_be_to_cpu_16(udp->dgram_len) != tl - hl)
			return;
		udp->dgram_cksum = 0;
		sum = (uint16_t)~fold((uint32_t)rte_ipv4_phdr_cksum(ip, 0) +
				      rte_raw_cksum(udp, tl - hl));
		udp->dgram_cksum = sum == 0 ? 0xffff : sum;
	}
}

static void
split_and_run(const uint8_t *frame, size_t len, unsigned int nseg, uint64_t ol)
{
	struct rte_mbuf *head = NULL, *pkts[1];
	struct braid_decap_stats c;
	uint64_t drops;
	size_t off = 0;
	uint16_t n;

	if (nseg > len)
		nseg = len > 0 ? (unsigned int)len : 1;
	for (unsigned int s = 0; s < nseg; s++) {
		size_t chunk = s + 1 == nseg ? len - off : len / nseg;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p;

		if (m == NULL || chunk > rte_pktmbuf_tailroom(m))
			abort();
		p = rte_pktmbuf_append(m, (uint16_t)chunk);
		memcpy(p, frame + off, chunk);
		off += chunk;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			abort();
	}
	memset(braid_meta(head), 0, sizeof(struct braid_meta));
	head->ol_flags |= ol;
	pkts[0] = head;
	n = braid_decap_burst(dec, pkts, 1);
	if (n == 1) {
		struct rte_mbuf *m = pkts[0];
		const struct braid_hdr *bh = braid_decap_hdr(m);
		struct braid_nack nack;
		struct braid_probe probe;
		struct braid_probe_reply reply;

		if (m->pkt_len != rte_be_to_cpu_16(bh->inner_len) ||
		    braid_meta(m)->pkt_type != bh->type)
			abort();
		if (bh->type == BRAID_PKT_NACK && braid_wire_nack_parse(m, &nack) != 0)
			abort();
		if (bh->type == BRAID_PKT_PROBE && braid_wire_probe_parse(m, &probe) != 0)
			abort();
		if (bh->type == BRAID_PKT_PROBE_REPLY &&
		    braid_wire_probe_reply_parse(m, &reply) != 0)
			abort();
		rte_pktmbuf_free(m);
	}
	braid_decap_stats(dec, &c);
	drops = c.drop_short + c.drop_hdr_split + c.drop_not_ipv4 + c.drop_bad_cksum +
		c.drop_fragment + c.drop_not_udp + c.drop_bad_udp + c.drop_foreign +
		c.drop_bad_magic + c.drop_bad_version + c.drop_bad_type + c.drop_bad_class +
		c.drop_bad_length + c.drop_bad_fec + c.drop_stale_session + c.drop_ctrl_full +
		c.drop_punt_full + c.drop_no_punt + c.drop_burst_full + c.drop_unsealed +
		c.drop_sealed;
	if (c.rx_packets != c.data + c.parity + c.control + c.punted + drops)
		abort();
	if (rte_mempool_in_use_count(pool) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t ipf[] = {0, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
				       RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
	static const uint64_t l4f[] = {0, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
				       RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE};
	static uint8_t frame[MAX_FRAME];
	struct cursor c = {.p = data, .n = size, .off = 0};
	uint8_t mode;
	unsigned int nseg;
	size_t len;
	struct braid_nack nack;

	if (size == 0)
		return 0;
	/* the NACK decoder on raw bytes, too */
	(void)braid_wire_nack_decode(data, size, &nack);
	mode = next8(&c);
	nseg = 1 + (mode & 3) % 3;
	if (mode & 0x80) {
		unsigned int edits;

		len = synthesize(&c, frame);
		if (len == 0)
			return 0;
		edits = next8(&c) % 17;
		for (unsigned int i = 0; i < edits; i++) {
			uint16_t pos = next16(&c);
			uint8_t v = next8(&c);

			if (pos < len)
				frame[pos] = v;
			else if (pos == 0xffff && len > 0)
				len--;      /* truncate */
		}
	} else {
		/* each segment holds at most 2048 bytes */
		len = RTE_MIN(size - 1, (size_t)nseg * 2000);
		memcpy(frame, data + 1, len);
	}
	if (mode & 0x40)
		fix_checksums(frame, len);
	split_and_run(frame, len, nseg, ipf[(mode >> 2) & 3] | l4f[(mode >> 4) & 3]);
	return 0;
}
