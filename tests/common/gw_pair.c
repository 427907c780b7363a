/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_config.h"
#include "braid_gateway.h"
#include "braid_meta.h"
#include "braid_test_rand.h"
#include "gw_pair.h"

#define MS 1000000ULL

/* ---- sides ------------------------------------------------------------------ */

#define SIDE_RING_SZ 8192

static int
side_port(const char *name, unsigned int flags, struct rte_ring **rx,
	  struct rte_ring **tx, uint16_t *port)
{
	char rn[RTE_RING_NAMESIZE];
	int p;

	snprintf(rn, sizeof(rn), "%s_r", name);
	*rx = rte_ring_create(rn, SIDE_RING_SZ, SOCKET_ID_ANY, flags);
	snprintf(rn, sizeof(rn), "%s_t", name);
	*tx = rte_ring_create(rn, SIDE_RING_SZ, SOCKET_ID_ANY, flags);
	if (*rx == NULL || *tx == NULL)
		return -1;
	/* The ethdev is named "net_ring_<name>". */
	p = rte_eth_from_rings(name, rx, 1, tx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int
braid_test_side_open(struct braid_test_side *s, const char *pfx, char tag, int me,
		     unsigned int ring_flags)
{
	char name[64];

	memset(s, 0, sizeof(*s));
	snprintf(s->pfx, sizeof(s->pfx), "%s", pfx);
	s->tag = tag;
	s->me = me;
	snprintf(name, sizeof(name), "%s%c_lan", s->pfx, tag);
	if (side_port(name, ring_flags, &s->lan_rx, &s->lan_tx, &s->lan_port) != 0)
		return -1;
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		snprintf(name, sizeof(name), "%s%c_wan%d", s->pfx, tag, i);
		if (side_port(name, ring_flags, &s->wan_rx[i], &s->wan_tx[i],
			      &s->wan_port[i]) != 0)
			return -1;
	}
	return 0;
}

int
braid_test_side_make(struct braid_test_side *s, const char *pfx, char tag, int me)
{
	return braid_test_side_open(s, pfx, tag, me, 0);
}

void
braid_test_ring_free_all(struct rte_ring *r)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while (r != NULL && (n = rte_ring_dequeue_burst(r, (void **)m, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
}

void
braid_test_side_flush(struct braid_test_side *s)
{
	braid_test_ring_free_all(s->lan_rx);
	braid_test_ring_free_all(s->lan_tx);
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		braid_test_ring_free_all(s->wan_rx[i]);
		braid_test_ring_free_all(s->wan_tx[i]);
	}
}

void
braid_test_side_destroy(struct braid_test_side *s)
{
	char name[64];

	braid_test_side_flush(s);
	snprintf(name, sizeof(name), "net_ring_%s%c_lan", s->pfx, s->tag);
	rte_vdev_uninit(name);
	rte_ring_free(s->lan_rx);
	rte_ring_free(s->lan_tx);
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		snprintf(name, sizeof(name), "net_ring_%s%c_wan%d", s->pfx, s->tag, i);
		rte_vdev_uninit(name);
		rte_ring_free(s->wan_rx[i]);
		rte_ring_free(s->wan_tx[i]);
	}
}

/* ---- configuration and gateway ------------------------------------------------ */

#define JSON_MAX 8192

char *
braid_test_gw_json(const struct braid_test_side *s, const struct braid_test_gw_opts *o)
{
	char *json = malloc(JSON_MAX), bulk_q[48] = "", bulk_dl[48] = "";
	int me = s->me, peer = 3 - me;
	size_t n = 0;

	if (json == NULL)
		return NULL;
	if (o->bulk_queue_packets != 0)
		snprintf(bulk_q, sizeof(bulk_q), ", \"queue_packets\": %u", o->bulk_queue_packets);
	if (o->bulk_deadline_ms != 0)
		snprintf(bulk_dl, sizeof(bulk_dl), ", \"deadline_ms\": %u", o->bulk_deadline_ms);
	n += (size_t)snprintf(json + n, JSON_MAX - n,
		"{\"name\": \"%s%c\", \"mempool\": {\"mbufs\": %u},\n"
		" \"ports\": [{\"name\": \"lan0\", \"role\": \"lan\", \"profile\": \"net_ring\","
		" \"device\": \"net_ring_%s%c_lan\", \"mac\": \"02:0%d:00:00:00:01\","
		" \"ipv4\": \"192.168.%d.1/24\"}", o->name_pfx, s->tag, o->mbufs, s->pfx,
		s->tag, me, me);
	for (int i = 0; i < BRAID_TEST_LINKS && n < JSON_MAX; i++)
		n += (size_t)snprintf(json + n, JSON_MAX - n,
			", {\"name\": \"wan%d\", \"role\": \"link\", \"profile\": \"net_ring\","
			" \"device\": \"net_ring_%s%c_wan%d\", \"mac\": \"02:0%d:00:00:01:0%d\","
			" \"ipv4\": \"10.9.%d.%d/24\"}", i, s->pfx, s->tag, i, me, i, i, me);
	if (n < JSON_MAX)
		n += (size_t)snprintf(json + n, JSON_MAX - n, "],\n \"links\": [");
	for (int i = 0; i < BRAID_TEST_LINKS && n < JSON_MAX; i++) {
		if (o->learn_peer)          /* a listener: peer and hop learned */
			n += (size_t)snprintf(json + n, JSON_MAX - n,
				"%s{\"name\": \"l%d\", \"port\": \"wan%d\","
				" \"local\": \"10.9.%d.%d:7000\", \"peer\": \"learn\","
				" \"capacity_kbps\": %u}", i ? ", " : "", i, i, i, me, o->link_kbps);
		else
			n += (size_t)snprintf(json + n, JSON_MAX - n,
				"%s{\"name\": \"l%d\", \"port\": \"wan%d\", \"local\": \"10.9.%d.%d:7000\","
				" \"peer\": \"10.9.%d.%d:7000\", \"next_hop_mac\": \"02:0%d:00:00:01:0%d\","
				" \"capacity_kbps\": %u}", i ? ", " : "", i, i, i, me, i, peer, peer, i,
				o->link_kbps);
	}
	if (n < JSON_MAX)
		n += (size_t)snprintf(json + n, JSON_MAX - n,
			"],\n \"classes\": ["
			"{\"name\": \"video\", \"weight\": 3, \"queue_packets\": 4096, \"fec\": %s,"
			" \"arq\": {\"enabled\": %s, \"deadline_ms\": %u},"
			" \"match\": [{\"proto\": \"udp\", \"dst_port\": \"5000-5999\"}]},"
			"{\"name\": \"bulk\", \"weight\": 1%s, \"fec\": \"off\","
			" \"arq\": {\"enabled\": %s%s}}],\n"
			" \"default_class\": \"bulk\", %s\n"
			" \"lcores\": {\"map\": [{\"lcore\": %u, \"stages\": [\"lan_rx\", \"classify\","
			" \"sched\", \"fec\", \"rtx\", \"link_tx\", \"link_rx\", \"rx_decap\","
			" \"fec_decode\", \"reorder\", \"lan_tx\"]}]},\n"
			" \"management\": %s, \"stats\": {\"console\": false}}",
			o->video_fec, o->video_arq ? "true" : "false", o->video_deadline_ms,
			bulk_q, o->bulk_arq ? "true" : "false", bulk_dl,
			o->extra != NULL ? o->extra : "", o->lcore,
			o->management != NULL ? o->management : "{\"enabled\": false}");
	if (n >= JSON_MAX) {
		free(json);
		return NULL;
	}
	return json;
}

struct braid_config *
braid_test_gw_config(const struct braid_test_side *s, const struct braid_test_gw_opts *o)
{
	struct braid_config_errors errs;
	struct braid_config *c;
	char *json = braid_test_gw_json(s, o);

	c = json != NULL ? braid_config_load_string(json, &errs) : NULL;
	if (c == NULL && json != NULL)
		braid_config_errors_print(&errs, stderr);
	free(json);
	return c;
}

struct braid_gateway *
braid_test_gw_create(const struct braid_gateway_conf *tmpl, const struct braid_config *cfg,
		     uint32_t session)
{
	struct braid_gateway_conf gc = *tmpl;
	struct braid_gateway *gw;
	char err[256];

	gc.cfg = cfg;
	gc.session_id = session;
	gw = braid_gateway_create(&gc, err, sizeof(err));
	if (gw == NULL)
		fprintf(stderr, "gateway: %s\n", err);
	return gw;
}

/* ---- LAN host frames ----------------------------------------------------------- */

void
braid_test_host_hdr(void *frame, int me, uint16_t dport, uint16_t payload)
{
	struct rte_ether_hdr *eh = frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t len = (uint16_t)(sizeof(*ip) + sizeof(*udp) + payload);

	memset(eh, 0, sizeof(*eh) + sizeof(*ip) + sizeof(*udp));
	eh->dst_addr = (struct rte_ether_addr){ { 2, (uint8_t)me, 0, 0, 0, 1 } };
	eh->src_addr = (struct rte_ether_addr){ { 2, (uint8_t)me, 0, 0, 0, 2 } };
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(braid_test_ip4(192, 168, (uint32_t)me, 2));
	ip->dst_addr = rte_cpu_to_be_32(braid_test_ip4(192, 168, (uint32_t)(3 - me), 2));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(40000);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload));
}

struct rte_mbuf *
braid_test_host_packet(struct rte_mempool *mp, int me, uint16_t dport, uint64_t seq,
		       uint16_t payload)
{
	const size_t hdr = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_udp_hdr);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d;

	if (m == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hdr + payload));
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(d + hdr, 0, payload);
	braid_test_host_hdr(d, me, dport, payload);
	memcpy(d + hdr, &seq, sizeof(seq));
	return m;
}

/* ---- pipes ------------------------------------------------------------------------ */

static uint64_t
rnd(struct braid_test_pair *p)
{
	return braid_test_rand(p->rng);
}

static bool
chance(struct braid_test_pair *p, double prob)
{
	return prob > 0 && (double)(rnd(p) % 1000000) / 1e6 < prob;
}

static void
release(struct braid_test_pair *p, int side, struct rte_mbuf **m, unsigned int n)
{
	if (p->release != NULL)
		p->release(p->arg, side, m, n);
	else
		rte_pktmbuf_free_bulk(m, n);
}

/* Flip one bit in the first segment (headers, or the whole frame when it
 * owns its buffer: never in a buffer the sender still holds), or cut the
 * frame short. One flipped bit is what the UDP checksum always catches;
 * two can cancel in a one's-complement sum, which is why links have an
 * Ethernet CRC (doc/wire-format.md). */
static void
corrupt_frame(struct braid_test_pair *p, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 || m->data_len == 0)
		return;
	d[rnd(p) % m->data_len] ^= (uint8_t)(1u << (rnd(p) % 8));
	if (rnd(p) % 4 == 0 && m->nb_segs == 1)   /* or cut it short */
		rte_pktmbuf_trim(m, (uint16_t)(rnd(p) % m->data_len));
}

/* A frame of random bytes, sometimes with a valid-looking start. */
static struct rte_mbuf *
garbage_frame(struct braid_test_pair *p, const struct rte_mbuf *like)
{
	struct rte_mbuf *g = rte_pktmbuf_alloc(p->pool);
	uint16_t len = (uint16_t)(1 + rnd(p) % 1500);
	uint8_t *d;

	if (g == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(g, len);
	for (uint16_t i = 0; i < len; i++)
		d[i] = (uint8_t)rnd(p);
	if (rnd(p) % 2 && like->data_len >= 42 && len >= 42)
		memcpy(d, rte_pktmbuf_mtod(like, const uint8_t *), 42);  /* real outer headers */
	return g;
}

static void
pipe_put(struct braid_test_pipe *q, struct rte_mbuf *m, uint64_t due)
{
	q->m[q->tail % BRAID_TEST_PIPE_MAX] = m;
	q->due[q->tail % BRAID_TEST_PIPE_MAX] = due;
	q->tail++;
}

/* The NAT in front of a's links (imp->nat): a's UDP frames leave from
 * the link's mapped address; b's come back to a's own address when sent
 * to the mapping in force, and are dropped when sent to an old one.
 * @return false: drop @p m. */
static bool
nat(struct braid_test_pair *p, int dir, int link, struct rte_mbuf *m)
{
	struct braid_test_impair *imp = &p->imp;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	unsigned int k;

	if (m->data_len < 42 || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != 0x45 || ip->next_proto_id != IPPROTO_UDP)
		return true;
	for (k = 0; k < imp->n_nat_steps && p->now >= imp->nat_steps[k].at_ns; k++)
		;
	if (dir == 0) {
		imp->nat_inner_ip[link] = ip->src_addr;
		imp->nat_inner_port[link] = udp->src_port;
		ip->src_addr = rte_cpu_to_be_32(imp->nat_ip[link] + (k > 0 ? imp->nat_steps[k - 1].ip_add[link] : 0));
		udp->src_port = rte_cpu_to_be_16((uint16_t)(imp->nat_port[link] +
					(k > 0 ? imp->nat_steps[k - 1].port_add[link] : 0)));
	} else {
		uint32_t want_ip = imp->nat_ip[link] + (k > 0 ? imp->nat_steps[k - 1].ip_add[link] : 0);
		uint16_t want_port = (uint16_t)(imp->nat_port[link] +
				(k > 0 ? imp->nat_steps[k - 1].port_add[link] : 0));

		if (ip->dst_addr != rte_cpu_to_be_32(want_ip) ||
		    udp->dst_port != rte_cpu_to_be_16(want_port)) {
			imp->nat_dropped++;          /* an old mapping: gone */
			return false;
		}
		ip->dst_addr = imp->nat_inner_ip[link];
		udp->dst_port = imp->nat_inner_port[link];
	}
	udp->dgram_cksum = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return true;
}

static void
pipe_push(struct braid_test_pair *p, int dir, int link, struct rte_mbuf *m)
{
	struct braid_test_pipe *q = &p->pipe[dir][link];
	struct braid_test_impair *imp = &p->imp;
	uint64_t due;

	if (imp->nat && !nat(p, dir, link, m)) {
		rte_pktmbuf_free(m);
		return;
	}

	if (chance(p, imp->garbage)) {
		struct rte_mbuf *g = garbage_frame(p, m);

		if (g != NULL && q->tail - q->head < BRAID_TEST_PIPE_MAX) {
			imp->injected++;
			pipe_put(q, g, RTE_MAX(p->now, q->last_due));
		} else {
			rte_pktmbuf_free(g);
		}
	}
	if (chance(p, imp->corrupt)) {
		corrupt_frame(p, m);
		imp->corrupted++;
	}
	if (chance(p, imp->loss[dir]) ||
	    (imp->max_frame[link] != 0 && m->pkt_len > imp->max_frame[link]) ||
	    (link == imp->dead_link && p->now >= imp->dead_from && p->now < imp->dead_to) ||
	    q->tail - q->head >= BRAID_TEST_PIPE_MAX) {
		imp->lost[dir]++;
		rte_pktmbuf_free(m);
		return;
	}
	due = p->now + imp->delay_ns[link] + (imp->jitter_ns ? rnd(p) % imp->jitter_ns : 0);
	if (due < q->last_due)
		due = q->last_due;
	q->last_due = due;
	pipe_put(q, m, due);
}

static void
pipe_pop(struct braid_test_pair *p, int dir, int link, struct rte_ring *to)
{
	struct braid_test_pipe *q = &p->pipe[dir][link];

	while (q->head != q->tail && q->due[q->head % BRAID_TEST_PIPE_MAX] <= p->now) {
		struct rte_mbuf *m = q->m[q->head % BRAID_TEST_PIPE_MAX];

		if (rte_ring_enqueue(to, m) != 0) {
			p->imp.lost[dir]++;
			rte_pktmbuf_free(m);
		}
		q->head++;
	}
}

static void
pipe_flush(struct braid_test_pipe *q)
{
	while (q->head != q->tail) {
		rte_pktmbuf_free(q->m[q->head % BRAID_TEST_PIPE_MAX]);
		q->head++;
	}
	q->head = q->tail = 0;
	q->last_due = 0;
}

/* What side @p dir's link @p link sent, into its pipe. */
static void
link_out(struct braid_test_pair *p, int dir, int link)
{
	struct rte_ring *from = dir == 0 ? p->a.wan_tx[link] : p->b.wan_tx[link];
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(from, (void **)m, RTE_DIM(m), NULL)) > 0)
		for (unsigned int k = 0; k < n; k++) {
			struct rte_mbuf *f = m[k];

			if (dir == 0 && p->observe != NULL)
				p->observe(p->arg, f, link);
			if (p->wire_pool != NULL) {
				f = rte_pktmbuf_copy(m[k], p->wire_pool, 0, UINT32_MAX);
				release(p, dir, &m[k], 1);
				if (f == NULL) {
					p->copy_failed++;
					continue;
				}
				memset(braid_meta(f), 0, sizeof(struct braid_meta));
			}
			p->moved[dir][link]++;
			pipe_push(p, dir, link, f);
		}
}

/* ---- LAN hosts -------------------------------------------------------------------- */

/* Record one frame of the test stream at host b: once, in order within
 * each class. Frames may come as a header mbuf + payload clone: read
 * through the chain. */
static void
record(struct braid_test_pair *p, const struct rte_mbuf *m)
{
	const size_t off = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_udp_hdr);
	const struct rte_udp_hdr *udp;
	struct rte_udp_hdr ub;
	const void *sp;
	uint64_t seq, sb;
	int cls;

	udp = rte_pktmbuf_read(m, off - sizeof(ub), sizeof(ub), &ub);
	sp = rte_pktmbuf_read(m, off, sizeof(seq), &sb);
	if (udp == NULL || sp == NULL)
		return;
	memcpy(&seq, sp, sizeof(seq));   /* may be unaligned */
	p->rx_frames++;
	cls = udp->dst_port == rte_cpu_to_be_16(5000) ? 0 : 1;
	p->rx_bytes[cls] += m->pkt_len;
	if (seq >= BRAID_TEST_MAX_SEQ)
		return;
	if (p->seen[seq]) {
		p->dups++;
		return;
	}
	if (p->got[cls] && seq < p->last_seq[cls]) {
		p->out_of_order++;
		if (getenv("BRAID_TEST_OOO"))
			printf("OOO: seq %lu after %lu at %.3f s (braid seq %u flags %x class %u)\n",
			       (unsigned long)seq, (unsigned long)p->last_seq[cls], p->now / 1e9,
			       braid_meta((struct rte_mbuf *)(uintptr_t)m)->seq,
			       braid_meta((struct rte_mbuf *)(uintptr_t)m)->flags,
			       braid_meta((struct rte_mbuf *)(uintptr_t)m)->class_id);
	}
	p->seen[seq] = true;
	p->delivered++;
	p->last_seq[cls] = seq;
	p->got[cls] = true;
	p->lat_ns[seq] = p->now - p->sent_ns[seq];
	if (p->lat_ns[seq] > p->max_latency_ns)
		p->max_latency_ns = p->lat_ns[seq];
}

/* The LAN host 192.168.<me>.2 behind @p s: answers ARP; behind b it
 * records the test stream. */
static void
lan_host(struct braid_test_pair *p, struct braid_test_side *s)
{
	const uint32_t host_ip = rte_cpu_to_be_32(braid_test_ip4(192, 168, (uint32_t)s->me, 2));
	const struct rte_ether_addr host_mac = { { 2, (uint8_t)s->me, 0, 0, 0, 2 } };
	const int side = s->me - 1;
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(s->lan_tx, (void **)m, RTE_DIM(m), NULL)) > 0) {
		for (unsigned int k = 0; k < n; k++) {
			struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);
			struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);

			if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
			    rte_pktmbuf_data_len(m[k]) >= sizeof(*eh) + sizeof(*a) &&
			    a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
			    a->arp_data.arp_tip == host_ip) {
				a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
				a->arp_data.arp_tha = a->arp_data.arp_sha;
				a->arp_data.arp_tip = a->arp_data.arp_sip;
				a->arp_data.arp_sha = host_mac;
				a->arp_data.arp_sip = host_ip;
				eh->dst_addr = eh->src_addr;
				eh->src_addr = host_mac;
				p->arp_replies++;
				if (rte_ring_enqueue(s->lan_rx, m[k]) == 0)
					continue;
			} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
				   s->me == 2) {
				record(p, m[k]);
			}
			release(p, side, &m[k], 1);
		}
	}
}

/* ---- the pair ------------------------------------------------------------------------ */

struct braid_test_pair *
braid_test_pair_new(struct rte_mempool *pool, uint64_t *rng)
{
	struct braid_test_pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->pool = pool;
	p->rng = rng;
	p->imp.dead_link = -1;
	p->dport = 5000;
	p->payload = 1000;
	p->gap_ns = 200000;
	return p;
}

int
braid_test_pair_open(struct braid_test_pair *p, const char *pfx, char ta, char tb,
		     const struct braid_test_gw_opts *oa, const struct braid_test_gw_opts *ob,
		     const struct braid_gateway_conf *gc)
{
	if (braid_test_side_open(&p->a, pfx, ta, 1, p->ring_flags) != 0 ||
	    braid_test_side_open(&p->b, pfx, tb, 2, p->ring_flags) != 0)
		return -1;
	p->ca = braid_test_gw_config(&p->a, oa);
	p->cb = braid_test_gw_config(&p->b, ob);
	if (p->ca == NULL || p->cb == NULL)
		return -1;
	p->ga = braid_test_gw_create(gc, p->ca, 0xa0000001);
	p->gb = braid_test_gw_create(gc, p->cb, 0xb0000001);
	return p->ga != NULL && p->gb != NULL ? 0 : -1;
}

int
braid_test_pair_feed(struct braid_test_pair *p, uint64_t limit)
{
	while (p->fed < limit && p->fed < BRAID_TEST_MAX_SEQ && p->now >= p->next_feed) {
		uint64_t seq = p->fed;
		uint16_t dport = p->mix ? (seq % 2 ? 5000 : 80) : p->dport;
		uint16_t len = p->payload != 0 ? p->payload : (uint16_t)(200 + seq % 900);
		struct rte_mbuf *m = braid_test_host_packet(p->pool, 1, dport, seq, len);

		if (m == NULL)
			return -ENOMEM;
		if (rte_ring_enqueue(p->a.lan_rx, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		p->sent_ns[seq] = p->now;
		p->fed++;
		p->next_feed += p->gap_ns;
	}
	return 0;
}

void
braid_test_pair_exchange(struct braid_test_pair *p)
{
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		link_out(p, 0, i);
		link_out(p, 1, i);
		pipe_pop(p, 0, i, p->b.wan_rx[i]);
		pipe_pop(p, 1, i, p->a.wan_rx[i]);
	}
	lan_host(p, &p->a);
	lan_host(p, &p->b);
}

void
braid_test_pair_step(struct braid_test_pair *p)
{
	braid_gateway_step(p->ga, p->now);
	braid_gateway_step(p->gb, p->now);
	braid_test_pair_exchange(p);
}

void
braid_test_pair_run(struct braid_test_pair *p, uint64_t ns, bool feed)
{
	uint64_t end = p->now + ns;

	while (p->now < end) {
		p->now += BRAID_TEST_STEP_NS;
		if (feed)
			braid_test_pair_feed(p, BRAID_TEST_MAX_SEQ);
		else
			p->next_feed = p->now;
		braid_test_pair_step(p);
	}
}

void
braid_test_pair_settle(struct braid_test_pair *p, uint64_t max_ns)
{
	uint64_t end = p->now + max_ns;

	while (p->delivered < p->fed && p->now < end)
		braid_test_pair_run(p, 10 * MS, false);
	braid_test_pair_run(p, 20 * MS, false);
}

void
braid_test_pair_drain(struct braid_test_pair *p)
{
	if (p->ga != NULL)
		braid_gateway_shutdown(p->ga);
	if (p->gb != NULL)
		braid_gateway_shutdown(p->gb);
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < BRAID_TEST_LINKS; i++)
			pipe_flush(&p->pipe[d][i]);
	braid_test_side_flush(&p->a);
	braid_test_side_flush(&p->b);
}

void
braid_test_pair_close(struct braid_test_pair *p)
{
	braid_gateway_free(p->ga);
	braid_gateway_free(p->gb);
	braid_config_free(p->ca);
	braid_config_free(p->cb);
	braid_test_side_destroy(&p->a);
	braid_test_side_destroy(&p->b);
	p->ga = p->gb = NULL;
	p->ca = p->cb = NULL;
}
