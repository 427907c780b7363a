/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control stage: what is neither LAN data nor its repair path.
 *
 *  - NACKs from the peer (via link health's ctrl ring) go through the sender
 *    half of ARQ (lib/arq: suppression of repeats within half an RTT,
 *    a retransmission budget of a fifth of the usable capacity, no
 *    retransmission that would arrive after the class deadline, the
 *    last try on the two best links); what it orders is cloned from the
 *    retransmit cache and handed to encap. The stage runs on the rtx
 *    stage's lcore, which owns that cache;
 *  - ARP and ICMP echo for the gateway's own addresses on every port
 *    (frames punted by classify and decap), ARP requests and retries;
 *  - link next hops: kept resolved by ARP unless the config gives a
 *    static MAC; a new MAC is handed to encap (braid_encap_link_set(),
 *    seqlock: the fast path never waits);
 *  - DHCP on link ports addressed by it (gw_dhcp.c): a lease's address
 *    and router become their links' (gw_link_address_set()).
 *
 * Link health is its own stage of the receive chain (lib/link), right
 * after rx_decap; LAN hosts are resolved for the lan_tx stage's pending
 * queue through braid_arp_request().
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "braid_meta.h"
#include "braid_wire.h"
#include "gw_priv.h"

#define CTRL_COUNTERS(X) \
	X(nacks_rx) X(retx_sent) X(drop_retx_ring_full) X(drop_charge_full) \
	X(drop_ctrl_malformed) X(punt_rx) X(arp_tx) X(drop_arp_tx_full) \
	X(drop_arp_no_port) X(nexthop_updates)

/* Retransmissions one NACK may order (the budget usually stops it first;
 * the receiver's NACKs name at most a few hundred seqs). */
#define GW_RETX_PER_NACK 512

struct gw_ctrl {
	struct braid_gateway *gw;
	struct rte_ether_addr nexthop[BRAID_CONFIG_MAX_LINKS]; /* applied to encap */
	uint64_t next_resolve_ns;
	struct { BRAID_COUNTERS_FIELDS(CTRL_COUNTERS) } cnt __rte_cache_aligned;
};

struct gw_ctrl *
gw_ctrl_create(struct braid_gateway *gw)
{
	struct gw_ctrl *c = rte_zmalloc("gw_ctrl", sizeof(*c), RTE_CACHE_LINE_SIZE);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->gw = gw;
	for (uint16_t l = 0; l < gw->cfg.n_links; l++)
		if (gw->cfg.links[l].has_next_hop_mac)
			c->nexthop[l] = gw->cfg.links[l].next_hop_mac;
	return c;
}

static void
free_ring_contents(struct rte_ring *r)
{
	struct rte_mbuf *m[BRAID_BURST];
	unsigned int n;

	while (r != NULL &&
	       (n = rte_ring_dequeue_burst(r, (void **)m, BRAID_BURST, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
}

void
gw_ctrl_release(struct gw_ctrl *c)
{
	if (c == NULL)
		return;
	free_ring_contents(c->gw->ctrl_ring);
	free_ring_contents(c->gw->punt_ring);
	free_ring_contents(c->gw->ctrl_tx);
	free_ring_contents(c->gw->lan_inject);
	free_ring_contents(c->gw->link_inject);
	free_ring_contents(c->gw->hello_ring);
}

void
gw_ctrl_free(struct gw_ctrl *c)
{
	if (c == NULL)
		return;
	gw_ctrl_release(c);
	rte_free(c);
}

static void
on_nack(struct gw_ctrl *c, struct rte_mbuf *m, uint64_t now_ns)
{
	struct braid_gateway *gw = c->gw;
	struct braid_arq_tx_order orders[GW_RETX_PER_NACK];
	struct braid_link_best lb;
	uint64_t charged[BRAID_CONFIG_MAX_LINKS] = { 0 };
	struct braid_nack nack;
	uint16_t n;

	if (braid_wire_nack_parse(m, &nack) != 0) {
		c->cnt.drop_ctrl_malformed++;
		return;
	}
	c->cnt.nacks_rx++;
	/* The peer's RTT for ARQ, and the two links retransmissions go on. */
	braid_link_best2(gw->link, braid_meta(m)->link_id, &lb);
	if (lb.srtt_ns != 0)
		braid_arq_tx_set_rtt(gw->arq_tx, lb.srtt_ns, lb.rttvar_ns);
	braid_arq_tx_set_capacity(gw->arq_tx, lb.usable_Bps);
	n = braid_arq_tx_nack(gw->arq_tx, &nack, now_ns, orders, RTE_DIM(orders));
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *orig = braid_rtx_lookup(gw->rtx, orders[i].class_id,
							       orders[i].seq, now_ns);
		uint16_t lost_on = orig != NULL ? braid_meta((struct rte_mbuf *)orig)->link_id :
				   BRAID_LINK_NONE;
		uint16_t use[2] = { lb.link[0], lb.link[1] };
		unsigned int sent = 0;

		/* Not again on the link that lost it (it may be in a burst
		 * of loss, or dead and not yet detected), when there is
		 * another. */
		if (use[0] == lost_on && use[1] != lost_on) {
			use[0] = lb.link[1];
			use[1] = lb.link[0];
		}
		for (uint8_t k = 0; k < orders[i].hint; k++) {
			struct rte_mbuf *r = braid_rtx_serve(gw->rtx, orders[i].class_id,
							     orders[i].seq, use[k & 1], now_ns);

			if (r == NULL)
				break;
			if (rte_ring_mp_enqueue(gw->ctrl_tx, r) != 0) {
				rte_pktmbuf_free(r);
				c->cnt.drop_retx_ring_full++;
				break;
			}
			charged[use[k & 1]] += orders[i].bytes + GW_ETHER_L1_OVERHEAD +
					       (gw->crypto_on ? BRAID_CRYPTO_OVERHEAD : 0);
			sent++;
		}
		c->cnt.retx_sent += sent;
		braid_arq_tx_report(gw->arq_tx, &orders[i], sent);
	}
	/* Repairs share the links' rate with new data: the scheduler pays
	 * for them from its token buckets. */
	for (uint16_t l = 0; l < gw->cfg.n_links; l++)
		if (charged[l] != 0 &&
		    braid_runner_cmd_send(gw->runner, gw->stage_id[GW_CMD_SCHED],
				&(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_LINK_CHARGE,
				.id = l, .link_charge.bytes = charged[l] }) != 0)
			c->cnt.drop_charge_full++;
}

static unsigned int
ctrl_rx(struct gw_ctrl *c, uint64_t now_ns)
{
	struct rte_mbuf *m[BRAID_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(c->gw->ctrl_ring, (void **)m,
						   BRAID_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		if (braid_meta(m[i])->pkt_type == BRAID_PKT_NACK)
			on_nack(c, m[i], now_ns);
		else
			c->cnt.drop_ctrl_malformed++;
	}
	if (n > 0)
		rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* Send frames lib/arp built (m->port set) out of their port: the LAN
 * port's TX inject ring, or a link port's (link TX routes by link id). */
static void
arp_send(struct gw_ctrl *c, struct rte_mbuf **m, unsigned int n)
{
	struct braid_gateway *gw = c->gw;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_ring *to = NULL;

		if (gw->lan_port >= 0 && m[i]->port == gw->port_id[gw->lan_port]) {
			to = gw->lan_inject;
		} else {
			for (uint16_t l = 0; l < gw->cfg.n_links; l++)
				if (gw->port_id[gw->cfg.links[l].port] == m[i]->port) {
					braid_meta(m[i])->link_id = l;
					to = gw->link_inject;
					break;
				}
		}
		if (to == NULL) {
			rte_pktmbuf_free(m[i]);
			c->cnt.drop_arp_no_port++;
		} else if (rte_ring_mp_enqueue(to, m[i]) != 0) {
			rte_pktmbuf_free(m[i]);
			c->cnt.drop_arp_tx_full++;
		} else {
			c->cnt.arp_tx++;
		}
	}
}

static unsigned int
punt_rx(struct gw_ctrl *c, uint64_t now_ns)
{
	struct rte_mbuf *m[BRAID_BURST], *out[BRAID_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(c->gw->punt_ring, (void **)m,
						   BRAID_BURST, NULL);
	uint16_t k;

	if (n == 0)
		return 0;
	c->cnt.punt_rx += n;
	/* DHCP replies to the dhcp ports' clients, the rest to ARP/ICMP */
	k = 0;
	for (unsigned int i = 0; i < n; i++)
		if (!gw_dhcp_input(c->gw->dhcp, m[i], now_ns))
			m[k++] = m[i];
	k = braid_arp_burst(c->gw->arp, m, k, out, now_ns);
	arp_send(c, out, k);
	return n;
}

/* Keep every dynamic next hop resolved and encap's templates current. */
static void
track_nexthops(struct gw_ctrl *c, uint64_t now_ns)
{
	struct braid_gateway *gw = c->gw;

	if (now_ns < c->next_resolve_ns)
		return;
	c->next_resolve_ns = now_ns + 10000000ULL;   /* every 10 ms */
	for (uint16_t l = 0; l < gw->cfg.n_links; l++) {
		const struct braid_config_link *lc = &gw->cfg.links[l];
		const uint16_t port = gw->port_id[lc->port];
		const uint32_t hop = gw->link_next_hop[l];
		struct rte_ether_addr mac;
		struct braid_wire_link wl;

		/* static MAC; or a learning link's hop, learned with its peer;
		 * or a dhcp port's link without a lease */
		if (lc->has_next_hop_mac || hop == 0)
			continue;
		if (braid_arp_resolve(gw->arp, port, hop, now_ns) != 0 ||
		    braid_arp_lookup(gw->arp, port, hop, &mac) != 0 ||
		    rte_is_same_ether_addr(&mac, &c->nexthop[l]))
			continue;
		if (braid_encap_link_get(gw->encap, l, &wl) != 0)
			continue;
		wl.dst_mac = mac;
		if (braid_encap_link_set(gw->encap, l, &wl) == 0) {
			c->nexthop[l] = mac;
			c->cnt.nexthop_updates++;
		}
	}
}

uint8_t *
gw_udp_frame_start(struct braid_gateway *gw, const struct gw_udp_frame *f,
		   uint16_t len, struct rte_mbuf **m)
{
	const uint16_t port = gw->cfg.links[f->link].port;
	const uint16_t l4 = (uint16_t)(sizeof(struct rte_udp_hdr) + len);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	*m = rte_pktmbuf_alloc(gw->pkt_pool);
	eth = *m != NULL ? (struct rte_ether_hdr *)rte_pktmbuf_append(*m,
		(uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + l4)) : NULL;
	if (eth == NULL) {
		rte_pktmbuf_free(*m);
		return NULL;
	}
	eth->dst_addr = f->dst_mac;
	eth->src_addr = gw->port_mac[port];
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4));
	ip->fragment_offset = f->df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = f->src_ip;
	ip->dst_addr = f->dst_ip;
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = f->src_port;
	udp->dst_port = f->dst_port;
	udp->dgram_len = rte_cpu_to_be_16(l4);
	udp->dgram_cksum = 0;
	memset(braid_meta(*m), 0, sizeof(struct braid_meta));
	braid_meta(*m)->link_id = f->link;
	(*m)->port = gw->port_id[port];
	return (uint8_t *)(udp + 1);
}

int
gw_udp_frame_send(struct braid_gateway *gw, const struct gw_udp_frame *f, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (f->udp_cksum)
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	if (rte_ring_mp_enqueue(gw->link_inject, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

void
gw_link_address_set(struct braid_gateway *gw, uint16_t l, uint32_t ip, uint32_t hop)
{
	const struct braid_config_link *lc = &gw->cfg.links[l];
	struct gw_ctrl *c = gw->ctrl;
	struct braid_wire_link wl;

	__atomic_store_n(&gw->link_local_ip[l], ip, __ATOMIC_RELAXED);
	gw->link_next_hop[l] = hop;
	braid_decap_link_local_set(gw->decap, l, ip);
	if (braid_encap_link_get(gw->encap, l, &wl) != 0)
		return;
	wl.local_ip = ip;
	/* a resolved hop: its MAC again from ARP (track_nexthops) */
	if (!lc->has_next_hop_mac && hop != 0) {
		memset(&wl.dst_mac, 0, sizeof(wl.dst_mac));
		memset(&c->nexthop[l], 0, sizeof(c->nexthop[l]));
		c->next_resolve_ns = 0;
	}
	(void)braid_encap_link_set(gw->encap, l, &wl);
}

static uint16_t
ctrl_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct gw_ctrl *c = ctx;
	struct rte_mbuf *arp[BRAID_BURST];
	unsigned int work;
	uint16_t k;

	RTE_SET_USED(out);
	work = ctrl_rx(c, now_ns);
	work += punt_rx(c, now_ns);
	if (c->gw->hello != NULL)
		work += gw_hello_poll(c->gw->hello, now_ns);
	work += gw_dhcp_poll(c->gw->dhcp, now_ns);
	track_nexthops(c, now_ns);
	k = braid_arp_poll(c->gw->arp, now_ns, arp, RTE_DIM(arp));
	arp_send(c, arp, k);
	return (uint16_t)(work + k);
}

static void
ctrl_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct gw_ctrl *c = ctx;
	struct braid_arp_stats ac;

	BRAID_COUNTERS_REPORT(CTRL_COUNTERS, &c->cnt, fn, arg);
	braid_arq_tx_stats_report(c->gw->arq_tx, fn, arg);
	braid_arp_stats(c->gw->arp, &ac);
	BRAID_COUNTERS_REPORT(BRAID_ARP_COUNTERS, &ac, fn, arg);
	if (c->gw->hello != NULL)
		gw_hello_stats(c->gw->hello, fn, arg);
	gw_dhcp_stats(c->gw->dhcp, fn, arg);
}

/* The ARQ sender runs here: its live changes (class deadline). */
static int
ctrl_apply(void *ctx, const void *cmd)
{
	const struct gw_ctrl *c = ctx;

	return braid_arq_tx_apply(c->gw->arq_tx, cmd);
}

const struct braid_stage_ops gw_ctrl_stage_ops = {
	.kind = "ctrl",
	.flags = BRAID_STAGE_F_SOURCE,
	.cmd_size = sizeof(struct braid_arq_tx_cmd),
	.apply = ctrl_apply,
	.poll = ctrl_poll,
	.stats = ctrl_stats,
};
