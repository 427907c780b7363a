/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole gateways through real PMDs (net_ring ports built on rings this test
 * owns), driven with a virtual clock (braid_gateway_step): deterministic.
 *
 *  - send side: LAN packets come out of three link ports as valid tunnel
 *    frames, parity in the configured ratio, class shares as weighted;
 *  - a pair: gateway A and B joined by three impaired links (loss, delay,
 *    jitter, duplication, a dead link), a LAN host behind B that answers
 *    ARP: every packet delivered once and in order; a peer restart.
 * After each, every mbuf is back in its pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_arp.h>
#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_config.h"
#include "braid_decap.h"
#include "braid_engine.h"
#include "braid_gateway.h"
#include "braid_meta.h"
#include "braid_wire.h"
#include "harness.h"

#define PROFILE_DIR BRAID_SOURCE_ROOT "/drivers-cfg"

static struct rte_mempool *host_pool;  /* the test's own LAN host packets */
static uint64_t seed;

/* One side's ports: the rings behind them are ours. */

static struct braid_test_side sa, sb;

/* Gateway config: side a is 10.9.<i>.1, side b is 10.9.<i>.2. */
static struct braid_config *
side_config(const struct braid_test_side *s, uint32_t link_kbps, const char *video_fec,
	    int arq_deadline_ms)
{
	char json[8192];
	int me = s->me, peer = 3 - me;
	struct braid_config_errors errs;
	struct braid_config *c;
	size_t n = 0;

	n += (size_t)snprintf(json + n, sizeof(json) - n,
		"{\"name\": \"gw%c\", \"mempool\": {\"mbufs\": 16383},\n"
		" \"ports\": [{\"name\": \"lan0\", \"role\": \"lan\", \"profile\": \"net_ring\","
		" \"device\": \"net_ring_%c_lan\", \"mac\": \"02:0%d:00:00:00:01\","
		" \"ipv4\": \"192.168.%d.1/24\"}", s->tag, s->tag, me, me);
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
			", {\"name\": \"wan%d\", \"role\": \"link\", \"profile\": \"net_ring\","
			" \"device\": \"net_ring_%c_wan%d\", \"mac\": \"02:0%d:00:00:01:0%d\","
			" \"ipv4\": \"10.9.%d.%d/24\"}", i, s->tag, i, me, i, i, me);
	n += (size_t)snprintf(json + n, sizeof(json) - n, "],\n \"links\": [");
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
			"%s{\"name\": \"l%d\", \"port\": \"wan%d\", \"local\": \"10.9.%d.%d:7000\","
			" \"peer\": \"10.9.%d.%d:7000\", \"next_hop_mac\": \"02:0%d:00:00:01:0%d\","
			" \"capacity_kbps\": %u}", i ? ", " : "", i, i, i, me, i, peer, peer, i,
			link_kbps);
	n += (size_t)snprintf(json + n, sizeof(json) - n,
		"],\n \"classes\": ["
		"{\"name\": \"video\", \"weight\": 3, \"queue_packets\": 4096, \"fec\": %s,"
		" \"arq\": {\"enabled\": %s, \"deadline_ms\": %d},"
		" \"match\": [{\"proto\": \"udp\", \"dst_port\": \"5000-5999\"}]},"
		"{\"name\": \"bulk\", \"weight\": 1, \"queue_packets\": 4096, \"fec\": \"off\","
		" \"arq\": {\"enabled\": false}}],\n"
		" \"default_class\": \"bulk\", \"fec\": {\"block_timeout_us\": 5000},\n"
		" \"health\": {\"probe_interval_ms\": 50},\n"
		" \"lcores\": {\"map\": [{\"lcore\": 1, \"stages\": [\"lan_rx\", \"classify\","
		" \"sched\", \"fec\", \"rtx\", \"link_tx\", \"link_rx\", \"rx_decap\","
		" \"fec_decode\", \"reorder\", \"lan_tx\"]}]},\n"
		" \"management\": {\"enabled\": false}, \"stats\": {\"console\": false}}",
		video_fec, arq_deadline_ms > 0 ? "true" : "false",
		arq_deadline_ms > 0 ? arq_deadline_ms : 100);
	c = braid_config_load_string(json, &errs);
	if (c == NULL)
		braid_config_errors_print(&errs, stderr);
	return c;
}

static struct braid_gateway *
make_gateway(const struct braid_config *cfg, uint32_t session)
{
	struct braid_gateway_conf gc = {
		.cfg = cfg, .profile_dir = PROFILE_DIR, .session_id = session,
	};
	char err[256];
	struct braid_gateway *gw = braid_gateway_create(&gc, err, sizeof(err));

	if (gw == NULL)
		fprintf(stderr, "gateway: %s\n", err);
	return gw;
}

/* A UDP packet from LAN host .2 of side a to host .2 of side b, payload =
 * 64-bit sequence, Ethernet to the gateway's MAC. */
/* RTE_IPV4() shifts an int: 192 << 24 overflows (UBSan). */
static uint32_t
ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static struct rte_mbuf *
host_packet(int me, uint16_t dport, uint64_t seq, uint16_t payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(host_pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t len = (uint16_t)(sizeof(*ip) + sizeof(*udp) + payload);

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + len));
	memset(eh, 0, sizeof(*eh) + len);
	eh->dst_addr = (struct rte_ether_addr){ { 2, (uint8_t)me, 0, 0, 0, 1 } };
	eh->src_addr = (struct rte_ether_addr){ { 2, (uint8_t)me, 0, 0, 0, 2 } };
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(ip4(192, 168, me, 2));
	ip->dst_addr = rte_cpu_to_be_32(ip4(192, 168, 3 - me, 2));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(40000);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload));
	memcpy(udp + 1, &seq, sizeof(seq));
	return m;
}

/* ---- a pair over impaired links -------------------------------------- */

#define PIPE_MAX 65536

/* One direction of one link: FIFO with release times (in order, as netem
 * with a rate: jitter never reorders). */
struct pipe {
	struct rte_mbuf *m[PIPE_MAX];
	uint64_t due[PIPE_MAX];
	unsigned int head, tail;
	uint64_t last_due;
	uint64_t in, lost;
};

struct impair {
	double loss;              /* per frame, 0..1 */
	uint64_t delay_ns[BRAID_TEST_LINKS];
	uint64_t jitter_ns;
	int dead_link;            /* -1: none */
	double corrupt;           /* per frame: flip bytes of its headers */
	double garbage;           /* per frame: also inject a random frame */
	uint64_t corrupted, injected;
	uint64_t dead_from, dead_to;
};

/* What a's links carried toward b, decoded from copies (frames on the
 * wire are what doc/wire-format.md says). */
struct send_counts {
	uint64_t data[2], parity[2], frames_link[BRAID_TEST_LINKS], bad, arp, retx;
};

struct pair_run {
	struct impair imp;
	uint32_t link_kbps;       /* each link */
	bool mix;                 /* alternate video (5000) and bulk (80) */
	uint64_t stop_ns;         /* end the run here (0: when all delivered) */
	struct send_counts *observe;
	uint64_t n_pkts;          /* A -> B stream */
	uint64_t pkt_gap_ns;      /* CBR spacing */
	uint16_t dport;
	uint64_t restart_a_at;    /* 0: no restart */
	uint64_t fed_at_restart;  /* first host seq fed to the new gateway A */
	/* results */
	uint64_t delivered, dups, out_of_order, max_latency_ns, last_seq[2];
	bool got[2];
	uint64_t fec_recovered, rtx_served, arp_replies;
	uint64_t rx_bytes[2];     /* delivered bytes: video (5000), other */
	bool seen[200000];
	uint64_t sent_ns[200000];
	uint64_t lat_ns[200000];
};

static struct pipe pipes[2][BRAID_TEST_LINKS];   /* [0] a->b, [1] b->a */
static struct braid_decap *observer;    /* decodes copies of a->b frames */

static struct braid_decap *
peer_decap(const struct braid_config *cfg)
{
	struct braid_decap_conf dc = { .n_links = BRAID_TEST_LINKS, .n_classes = cfg->n_classes };

	/* b's view: its local is a's peer. */
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		dc.links[i].local_ip = cfg->links[i].peer_ip;
		dc.links[i].local_port = cfg->links[i].peer_port;
		dc.links[i].peer_ip = cfg->links[i].local_ip;
		dc.links[i].peer_port = cfg->links[i].local_port;
	}
	return braid_decap_create(&dc, SOCKET_ID_ANY);
}

static void
observe_frame(struct send_counts *sc, struct rte_mbuf *m, int link)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, host_pool, 0, UINT32_MAX);
	struct braid_decap_info info;
	enum braid_decap_verdict ret;

	if (c == NULL) {
		sc->bad++;
		return;
	}
	memset(braid_meta(c), 0, sizeof(struct braid_meta));
	ret = braid_decap_one(observer, c, &info);
	if (ret == BRAID_DECAP_PUNT)
		sc->arp++;          /* gratuitous ARP / ARP on a link port */
	else if (ret != BRAID_DECAP_OK || info.link_id != link)
		sc->bad++;
	else if (info.flags & BRAID_WIRE_F_RETX)
		sc->retx++;
	else if (info.type == BRAID_PKT_DATA)
		sc->data[braid_meta(c)->class_id]++;
	else if (info.type == BRAID_PKT_PARITY)
		sc->parity[braid_meta(c)->class_id]++;
	sc->frames_link[link]++;
	rte_pktmbuf_free(c);
}

static uint64_t
rnd(void)
{
	return braid_test_rand(&seed);
}

/* Flip one bit in the first segment (headers, or the whole frame when it
 * owns its buffer: never in a buffer the sender still holds), or cut the
 * frame short. One flipped bit is what the UDP checksum always catches;
 * two can cancel in a one's-complement sum, which is why links have an
 * Ethernet CRC (doc/wire-format.md). */
static void
corrupt_frame(struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	unsigned int n = 1;

	if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 || m->data_len == 0)
		return;
	for (unsigned int i = 0; i < n; i++)
		d[rnd() % m->data_len] ^= (uint8_t)(1u << (rnd() % 8));
	if (rnd() % 4 == 0 && m->nb_segs == 1)   /* or cut it short */
		rte_pktmbuf_trim(m, (uint16_t)(rnd() % m->data_len));
}

/* A frame of random bytes, sometimes with a valid-looking start. */
static struct rte_mbuf *
garbage_frame(struct rte_mbuf *like)
{
	struct rte_mbuf *g = rte_pktmbuf_alloc(host_pool);
	uint16_t len = (uint16_t)(1 + rnd() % 1500);
	uint8_t *d;

	if (g == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(g, len);
	for (uint16_t i = 0; i < len; i++)
		d[i] = (uint8_t)rnd();
	if (rnd() % 2 && like->data_len >= 42 && len >= 42)
		memcpy(d, rte_pktmbuf_mtod(like, uint8_t *), 42);  /* real outer headers */
	return g;
}

static void
pipe_push(struct pipe *p, struct rte_mbuf *m, uint64_t now, struct impair *imp,
	  int link)
{
	uint64_t due;

	if (imp->garbage > 0 && (double)(rnd() % 1000000) / 1e6 < imp->garbage) {
		struct rte_mbuf *g = garbage_frame(m);

		if (g != NULL && p->tail - p->head < PIPE_MAX) {
			imp->injected++;
			p->m[p->tail % PIPE_MAX] = g;
			p->due[p->tail % PIPE_MAX] = RTE_MAX(now, p->last_due);
			p->tail++;
		} else {
			rte_pktmbuf_free(g);
		}
	}
	if (imp->corrupt > 0 && (double)(rnd() % 1000000) / 1e6 < imp->corrupt) {
		corrupt_frame(m);
		imp->corrupted++;
	}

	p->in++;
	if ((double)(rnd() % 1000000) / 1e6 < imp->loss ||
	    (link == imp->dead_link && now >= imp->dead_from && now < imp->dead_to) ||
	    (p->tail - p->head) >= PIPE_MAX) {
		p->lost++;
		rte_pktmbuf_free(m);
		return;
	}
	due = now + imp->delay_ns[link] + (imp->jitter_ns ? rnd() % imp->jitter_ns : 0);
	if (due < p->last_due)
		due = p->last_due;
	p->last_due = due;
	p->m[p->tail % PIPE_MAX] = m;
	p->due[p->tail % PIPE_MAX] = due;
	p->tail++;
}

static void
pipe_pop(struct pipe *p, struct rte_ring *to, uint64_t now)
{
	while (p->head != p->tail && p->due[p->head % PIPE_MAX] <= now) {
		struct rte_mbuf *m = p->m[p->head % PIPE_MAX];

		if (rte_ring_enqueue(to, m) != 0)
			rte_pktmbuf_free(m);
		p->head++;
	}
}

static void
pipe_flush(struct pipe *p)
{
	while (p->head != p->tail) {
		rte_pktmbuf_free(p->m[p->head % PIPE_MAX]);
		p->head++;
	}
	memset(p, 0, sizeof(*p));
}

/* Frames between the two gateways' link ports, through the pipes. */
static void
move_links(uint64_t now, struct impair *imp, struct send_counts *observe)
{
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		struct rte_mbuf *m[64];
		unsigned int n;

		while ((n = rte_ring_dequeue_burst(sa.wan_tx[i], (void **)m, 64, NULL)) > 0)
			for (unsigned int k = 0; k < n; k++) {
				if (observe != NULL)
					observe_frame(observe, m[k], i);
				pipe_push(&pipes[0][i], m[k], now, imp, i);
			}
		while ((n = rte_ring_dequeue_burst(sb.wan_tx[i], (void **)m, 64, NULL)) > 0)
			for (unsigned int k = 0; k < n; k++)
				pipe_push(&pipes[1][i], m[k], now, imp, i);
		pipe_pop(&pipes[0][i], sb.wan_rx[i], now);
		pipe_pop(&pipes[1][i], sa.wan_rx[i], now);
	}
}

/* The LAN host behind a gateway: answers ARP for 192.168.<me>.2 and
 * records the test stream. */
static void
lan_host(struct braid_test_side *s, struct pair_run *pr, uint64_t now)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(s->lan_tx, (void **)m, 64, NULL)) > 0) {
		for (unsigned int k = 0; k < n; k++) {
			struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);

			if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);

				if (a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
				    a->arp_data.arp_tip == rte_cpu_to_be_32(ip4(192, 168, s->me, 2))) {
					struct rte_ether_addr me = { { 2, (uint8_t)s->me, 0, 0, 0, 2 } };

					a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
					a->arp_data.arp_tha = a->arp_data.arp_sha;
					a->arp_data.arp_tip = a->arp_data.arp_sip;
					a->arp_data.arp_sha = me;
					a->arp_data.arp_sip = rte_cpu_to_be_32(ip4(192, 168, s->me, 2));
					eh->dst_addr = eh->src_addr;
					eh->src_addr = me;
					pr->arp_replies++;
					if (rte_ring_enqueue(s->lan_rx, m[k]) == 0)
						continue;
				}
			} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
				   s->me == 2) {
				/* Frames may come as a header mbuf + payload
				 * clone: read through the chain. */
				const size_t off = sizeof(*eh) + sizeof(struct rte_ipv4_hdr) +
						   sizeof(struct rte_udp_hdr);
				struct rte_udp_hdr ub;
				const struct rte_udp_hdr *udp;
				uint64_t seq, sb_;
				int cls;
				const uint64_t *sp;

				udp = rte_pktmbuf_read(m[k], off - sizeof(ub), sizeof(ub), &ub);
				sp = rte_pktmbuf_read(m[k], off, sizeof(seq), &sb_);
				if (udp == NULL || sp == NULL) {
					rte_pktmbuf_free(m[k]);
					continue;
				}
				memcpy(&seq, sp, sizeof(seq));   /* may be unaligned */
				cls = udp->dst_port == rte_cpu_to_be_16(5000) ? 0 : 1;
				pr->rx_bytes[cls] += m[k]->pkt_len;
				if (seq < RTE_DIM(pr->seen)) {
					/* In order within each class. */
					if (pr->seen[seq])
						pr->dups++;
					else if (pr->got[cls] && seq < pr->last_seq[cls])
						pr->out_of_order++;
					if (!pr->seen[seq]) {
						pr->seen[seq] = true;
						pr->delivered++;
						pr->last_seq[cls] = seq;
						pr->got[cls] = true;
						pr->lat_ns[seq] = now - pr->sent_ns[seq];
						if (now - pr->sent_ns[seq] > pr->max_latency_ns)
							pr->max_latency_ns = now - pr->sent_ns[seq];
					}
				}
			}
			rte_pktmbuf_free(m[k]);
		}
	}
}

static void
dump_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, uint64_t v)
{
	RTE_SET_USED(scope);
	if (v != 0)
		printf("    %s %s.%s = %" PRIu64 "\n", (const char *)arg, owner, name, v);
}

static void
run_pair(struct pair_run *pr, const char *fec, int deadline_ms, char ta, char tb)
{
	struct braid_config *ca, *cb, *ca_old = NULL;
	struct braid_gateway *ga, *gb, *ga_old = NULL;
	struct braid_test_side sa_old;
	uint64_t now = 0, fed = 0, next_feed = 0, end;
	const uint64_t step = 50000;   /* 50 us */

	CU_ASSERT_FATAL(braid_test_side_make(&sa, "", ta, 1) == 0);
	CU_ASSERT_FATAL(braid_test_side_make(&sb, "", tb, 2) == 0);
	ca = side_config(&sa, pr->link_kbps, fec, deadline_ms);
	cb = side_config(&sb, pr->link_kbps, fec, deadline_ms);
	CU_ASSERT_FATAL(ca != NULL && cb != NULL);
	observer = peer_decap(ca);
	CU_ASSERT_FATAL(observer != NULL);
	ga = make_gateway(ca, 0xa0000001);
	gb = make_gateway(cb, 0xb0000001);
	CU_ASSERT_FATAL(ga != NULL && gb != NULL);
	end = pr->stop_ns != 0 ? pr->stop_ns : pr->n_pkts * pr->pkt_gap_ns + 3000000000ULL;
	for (now = step; now < end && (pr->delivered < pr->n_pkts || fed < pr->n_pkts);
	     now += step) {
		while (fed < pr->n_pkts && now >= next_feed) {
			struct rte_mbuf *m = pr->mix ?
				host_packet(1, fed % 2 ? 5000 : 80, fed, (uint16_t)(200 + fed % 900)) :
				host_packet(1, pr->dport, fed, 1000);

			CU_ASSERT_FATAL(m != NULL);
			pr->sent_ns[fed] = now;
			if (rte_ring_enqueue(sa.lan_rx, m) != 0)
				rte_pktmbuf_free(m);
			fed++;
			next_feed += pr->pkt_gap_ns;
		}
		if (pr->restart_a_at != 0 && now >= pr->restart_a_at) {
			/* Peer restart: gateway A dies (frames in flight stay in
			 * flight; b still holds some of its mbufs, so it is
			 * freed at the end) and a new A with a new session
			 * takes over its links. */
			pr->restart_a_at = 0;
			pr->fed_at_restart = fed;
			ga_old = ga;
			ca_old = ca;
			sa_old = sa;
			CU_ASSERT_FATAL(braid_test_side_make(&sa, "", (char)(ta - 'a' + 'A'), 1) == 0);
			ca = side_config(&sa, pr->link_kbps, fec, deadline_ms);
			ga = make_gateway(ca, 0xa0000002);
			CU_ASSERT_FATAL(ga != NULL);
		}
		braid_gateway_step(ga, now);
		braid_gateway_step(gb, now);
		move_links(now, &pr->imp, pr->observe);
		lan_host(&sa, pr, now);
		lan_host(&sb, pr, now);
	}
	pr->fec_recovered = braid_gateway_counter(gb, "fec_decode", "pieces_recovered");
	pr->rtx_served = braid_gateway_counter(ga, "rtx", "served");
	printf("\n  pair: delivered %" PRIu64 "/%" PRIu64 ", dups %" PRIu64 ", ooo %" PRIu64
	       ", max latency %.1f ms, fec recovered %" PRIu64 ", rtx served %" PRIu64
	       ", arp replies %" PRIu64 ", t=%.2fs\n",
	       pr->delivered, pr->n_pkts, pr->dups, pr->out_of_order,
	       (double)pr->max_latency_ns / 1e6, pr->fec_recovered, pr->rtx_served,
	       pr->arp_replies, (double)now / 1e9);
	if (getenv("BRAID_TEST_DUMP") != NULL) {
		braid_gateway_stats_walk(ga, dump_counter, (void *)"A");
		braid_gateway_stats_walk(gb, dump_counter, (void *)"B");
	}
	/* Each gateway holds some of the other's mbufs (FEC pieces, reorder
	 * buffers), and the pipes hold frames in flight: drain both, empty
	 * the links, then every pool must be full again. */
	braid_gateway_shutdown(ga);
	braid_gateway_shutdown(gb);
	if (ga_old != NULL) {
		braid_gateway_shutdown(ga_old);
		braid_test_side_flush(&sa_old);
	}
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < BRAID_TEST_LINKS; i++)
			pipe_flush(&pipes[d][i]);
	braid_test_side_flush(&sa);
	braid_test_side_flush(&sb);
	if (getenv("BRAID_TEST_DUMP") != NULL)
		printf("    in use after flush: a %u, b %u, host %u\n",
		       braid_gateway_mbufs_in_use(ga), braid_gateway_mbufs_in_use(gb),
		       rte_mempool_in_use_count(host_pool));
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(ga), 0);
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(gb), 0);
	if (ga_old != NULL) {
		CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(ga_old), 0);
		braid_gateway_free(ga_old);
		braid_config_free(ca_old);
		braid_test_side_destroy(&sa_old);
	}
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(host_pool), 0);
	braid_gateway_free(ga);
	braid_gateway_free(gb);
	braid_config_free(ca);
	braid_config_free(cb);
	braid_decap_free(observer);
	observer = NULL;
	braid_test_side_destroy(&sa);
	braid_test_side_destroy(&sb);
}

static struct pair_run *
new_run(double loss, uint64_t n)
{
	struct pair_run *pr = calloc(1, sizeof(*pr));

	pr->imp.loss = loss;
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		pr->imp.delay_ns[i] = (uint64_t)(10 + 10 * i) * 1000000ULL;
	pr->imp.jitter_ns = 2000000;
	pr->imp.dead_link = -1;
	pr->n_pkts = getenv("BRAID_TEST_N") ? strtoull(getenv("BRAID_TEST_N"), NULL, 0) : n;
	if (getenv("BRAID_TEST_LOSS"))
		pr->imp.loss = strtod(getenv("BRAID_TEST_LOSS"), NULL);
	pr->pkt_gap_ns = 1000000;      /* 1000 pps of 1 kB: 8 Mbit/s over 3 x 20 */
	pr->dport = 5000;
	pr->link_kbps = 20000;
	return pr;
}

/* Send side: LAN packets leave a's three link ports as valid tunnel
 * frames, video with RS(4,2) parity (2 per 4 data), bulk without,
 * spread over the links; all delivered. */
static void
test_send_side(void)
{
	struct send_counts sc = { .bad = 0 };
	struct pair_run *pr = new_run(0, 6000);

	pr->mix = true;
	pr->observe = &sc;
	pr->pkt_gap_ns = 200000;
	pr->link_kbps = 100000;
	run_pair(pr, "{\"k\": 4, \"m\": 2}", 200, 'a', 'b');
	printf("  send side: video %" PRIu64 " data + %" PRIu64 " parity, bulk %" PRIu64
	       ", frames per link %" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n", sc.data[0],
	       sc.parity[0], sc.data[1], sc.frames_link[0], sc.frames_link[1],
	       sc.frames_link[2]);
	CU_ASSERT_EQUAL(sc.bad, 0);
	/* No loss: nothing is NACKed (the reorder allowance covers the
	 * 20 ms delay spread of the links); the only resends are the two
	 * tail-loss probes after the stream ends. */
	CU_ASSERT(sc.retx <= 2);
	CU_ASSERT_EQUAL(sc.data[0], pr->n_pkts / 2);
	CU_ASSERT_EQUAL(sc.data[1], pr->n_pkts / 2);
	/* Blocks close on k = 4 or on the 5 ms timeout (shortened, still 2
	 * parity): at least 2 per 4, at most 2 per data packet. */
	CU_ASSERT(sc.parity[0] >= pr->n_pkts / 4 && sc.parity[0] <= pr->n_pkts);
	CU_ASSERT_EQUAL(sc.parity[1], 0);
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		CU_ASSERT(sc.frames_link[i] > pr->n_pkts / 6);
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	free(pr);
}

/* Saturated links (3 x 2 Mbit/s, 16 Mbit/s offered): the delivered byte
 * shares follow the class weights 3:1 within 1.5%. */
static void
test_send_shares(void)
{
	struct pair_run *pr = new_run(0, 8000);
	double share;

	pr->mix = true;
	pr->pkt_gap_ns = 500000;
	pr->link_kbps = 2000;
	pr->stop_ns = pr->n_pkts * pr->pkt_gap_ns;   /* both classes backlogged */
	run_pair(pr, "\"off\"", 0, 'c', 'd');
	share = (double)pr->rx_bytes[0] / (double)(pr->rx_bytes[0] + pr->rx_bytes[1]);
	printf("  shares: video %.4f of delivered bytes (weight share 0.75)\n", share);
	CU_ASSERT(share > 0.735 && share < 0.765);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	free(pr);
}

/* The peer restarts mid-stream (new session): the new stream is
 * delivered at once — the first packets of the new gateway within a
 * probe interval plus the link delay — and nothing is delivered twice. */
static void
test_pair_restart(void)
{
	struct pair_run *pr = new_run(0.02, 5000);
	uint64_t first_lat = 0, missing_after = 0;

	pr->restart_a_at = 2500000000ULL;
	pr->stop_ns = pr->n_pkts * pr->pkt_gap_ns + 2000000000ULL;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 300, 'k', 'l');
	for (uint64_t q = pr->fed_at_restart; q < pr->n_pkts; q++)
		missing_after += !pr->seen[q];
	for (uint64_t q = pr->fed_at_restart; q < pr->n_pkts; q++)
		if (pr->seen[q]) {
			first_lat = pr->lat_ns[q];
			break;
		}
	printf("  restart at seq %" PRIu64 ": first new packet after %.1f ms, %" PRIu64
	       " of the new session missing\n", pr->fed_at_restart, first_lat / 1e6,
	       missing_after);
	CU_ASSERT(pr->fed_at_restart > 0);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	CU_ASSERT_EQUAL(missing_after, 0);
	CU_ASSERT(pr->seen[pr->fed_at_restart]);
	CU_ASSERT(first_lat <= 50000000ULL + 30000000ULL + 2000000ULL);
	/* Only what the old gateway held when it died is gone. */
	CU_ASSERT(pr->delivered + 200 >= pr->n_pkts);
	free(pr);
}

/* >= 100 000 packets, 5% loss on every link both ways, FEC + ARQ: all of
 * them arrive, once, in order. */
static void
test_pair_100k(void)
{
	struct pair_run *pr = new_run(0.05, 100000);

	/* 2500 pps of 1 kB: 20 Mbit/s + parity over 3 x 20 Mbit/s, which
	 * link health halves while a link is degraded (loss > 5%). */
	pr->pkt_gap_ns = 400000;
	run_pair(pr, "{\"k\": 10, \"m\": 2}", 400, 'm', 'n');
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	CU_ASSERT(pr->fec_recovered > 0 && pr->rtx_served > 0);
	free(pr);
}

/* Hostile links: 2% of frames corrupted (bit flips, truncation) and 2%
 * more random or half-valid frames injected, both ways. Every bad frame
 * is a counted drop, nothing crashes or leaks, and FEC + ARQ still
 * deliver the stream complete and in order. */
static void
test_pair_garbage(void)
{
	struct pair_run *pr = new_run(0.01, 5000);

	pr->imp.corrupt = 0.02;
	pr->imp.garbage = 0.02;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 400, 'o', 'p');
	printf("  hostile links: %" PRIu64 " frames corrupted, %" PRIu64 " injected\n",
	       pr->imp.corrupted, pr->imp.injected);
	CU_ASSERT(pr->imp.corrupted > 100 && pr->imp.injected > 100);
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	free(pr);
}

/* Big links: 3 x 100 Gbit/s configure (buffers and budgets sized from
 * the capacity stay within their libraries' limits). */
static void
test_big_links(void)
{
	struct braid_test_side s;
	struct braid_config *c;
	struct braid_gateway *gw;

	CU_ASSERT_FATAL(braid_test_side_make(&s, "", 'q', 1) == 0);
	c = side_config(&s, 100000000, "{\"k\": 10, \"m\": 2}", 200);
	CU_ASSERT_FATAL(c != NULL);
	gw = make_gateway(c, 0x77);
	CU_ASSERT_PTR_NOT_NULL(gw);
	if (gw != NULL) {
		CU_ASSERT_EQUAL(braid_gateway_shutdown(gw), 0);
		braid_gateway_free(gw);
	}
	braid_config_free(c);
	braid_test_side_destroy(&s);
}

/* Loss within FEC capacity: RS(10,4), 2% random loss, no ARQ. */
static void
test_pair_fec_only(void)
{
	struct pair_run *pr = new_run(0.02, 5000);

	run_pair(pr, "{\"k\": 10, \"m\": 4}", 0, 'e', 'f');
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	CU_ASSERT(pr->fec_recovered > 0);
	CU_ASSERT_EQUAL(pr->rtx_served, 0);
	free(pr);
}

/* ARQ with a deadline > 2 RTT: 10% random loss on every link (both ways:
 * NACKs and retransmissions are lost too) loses nothing. */
static void
test_pair_arq_10pct(void)
{
	struct pair_run *pr = new_run(0.10, 5000);

	run_pair(pr, "\"off\"", 400, 'g', 'h');
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	CU_ASSERT(pr->rtx_served > 0);
	CU_ASSERT(pr->max_latency_ns <= 400000000ULL + 30000000ULL);
	free(pr);
}

/* A link dies for 2 s: FEC + ARQ + health move the stream to the others. */
static void
test_pair_link_death(void)
{
	struct pair_run *pr = new_run(0.01, 5000);

	pr->imp.dead_link = 1;
	pr->imp.dead_from = 1500000000ULL;
	pr->imp.dead_to = 3500000000ULL;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 500, 'i', 'j');
	CU_ASSERT_EQUAL(pr->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->dups, 0);
	CU_ASSERT_EQUAL(pr->out_of_order, 0);
	free(pr);
}

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0-1") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	braid_config_set_profile_dir(PROFILE_DIR);
	seed = braid_test_seed(0x9a7e);
	printf("\n  seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	host_pool = braid_pktmbuf_pool_create("host", 32767, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      SOCKET_ID_ANY);
	if (host_pool == NULL)
		return -1;
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("gateway", suite_init, NULL);

	if (s == NULL ||
	    CU_add_test(s, "send side through net_ring ports", test_send_side) == NULL ||
	    CU_add_test(s, "class shares on saturated links", test_send_shares) == NULL ||
	    CU_add_test(s, "pair: loss within FEC capacity", test_pair_fec_only) == NULL ||
	    CU_add_test(s, "pair: 10% loss repaired by ARQ", test_pair_arq_10pct) == NULL ||
	    CU_add_test(s, "pair: a link dies and returns", test_pair_link_death) == NULL ||
	    CU_add_test(s, "pair: peer restart mid-stream", test_pair_restart) == NULL ||
	    CU_add_test(s, "pair: 100 000 packets, 5% loss", test_pair_100k) == NULL ||
	    CU_add_test(s, "pair: corrupted and random frames", test_pair_garbage) == NULL ||
	    CU_add_test(s, "100 Gbit/s links", test_big_links) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("gateway", register_tests);
}
