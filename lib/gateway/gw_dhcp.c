/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link ports addressed by DHCP ("ipv4": "dhcp"), on the control stage:
 * one lib/dhcp client per such port. Its messages go out as whole frames
 * on the link inject ring; the replies come back punted by rx_decap
 * (UDP to port 68). When a lease brings a new address, prefix or router,
 * the port's links re-register: ARP answers for the new address (and
 * announces it), encap sends from it, rx_decap takes frames to it, the
 * next hop becomes the lease's router (or the peer when the lease puts
 * it on-link). Without a lease the links have no address: encap drops
 * their frames (drop_no_nexthop), link health takes them down, and the
 * scheduler moves their traffic to the others. The peer follows the new
 * address when it learns its peer ("peer": "learn", authenticated).
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_seqlock.h>
#include <rte_udp.h>

#include "braid_clock.h"
#include "braid_dhcp.h"
#include "gw_priv.h"

#define GW_DHCP_COUNTERS(X) \
	X(dhcp_rx) X(dhcp_tx) X(dhcp_readdress) X(drop_dhcp_frame) X(drop_dhcp_send)

/* One port's client, and what management reads of it. */
struct gw_dhcp_port {
	uint16_t port;                 /* index in cfg.ports */
	uint16_t link;                 /* a link on it: link_tx routes by link */
	struct braid_dhcp *client;
	struct braid_dhcp_lease applied;   /* what the links use (ip 0: none) */
	rte_seqlock_t lock;            /* guards view */
	struct gw_dhcp_view view;
};

struct gw_dhcp {
	struct braid_gateway *gw;
	uint16_t n;
	struct gw_dhcp_port p[BRAID_CONFIG_MAX_PORTS];
	struct { BRAID_COUNTERS_FIELDS(GW_DHCP_COUNTERS) } cnt;
};

struct gw_dhcp *
gw_dhcp_create(struct braid_gateway *gw)
{
	const struct braid_config *c = &gw->cfg;
	struct gw_dhcp *d = rte_zmalloc("gw_dhcp", sizeof(*d), RTE_CACHE_LINE_SIZE);
	const uint64_t now = braid_now_ns();

	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d->gw = gw;
	for (uint16_t i = 0; i < c->n_ports; i++) {
		struct gw_dhcp_port *dp;
		uint16_t l;
		struct braid_dhcp_conf dc = {
			.mac = gw->port_mac[i],
			.seed = rte_rdtsc() ^ ((uint64_t)gw->session_id << 16) ^ i,
			.hostname = gw->name,
		};

		for (l = 0; l < c->n_links && c->links[l].port != i; l++)
			;
		if (!c->ports[i].dhcp || l == c->n_links)
			continue;   /* no link: nothing needs its address */
		dp = &d->p[d->n++];
		dp->port = i;
		dp->link = l;
		rte_seqlock_init(&dp->lock);
		dp->client = braid_dhcp_create(&dc, now);
		if (dp->client == NULL) {
			gw_dhcp_free(d);
			return NULL;
		}
	}
	return d;
}

void
gw_dhcp_free(struct gw_dhcp *d)
{
	if (d == NULL)
		return;
	for (uint16_t i = 0; i < d->n; i++)
		braid_dhcp_free(d->p[i].client);
	rte_free(d);
}

static struct gw_dhcp_port *
port_of(struct gw_dhcp *d, uint16_t port_id)
{
	for (uint16_t i = 0; i < d->n; i++)
		if (d->gw->port_id[d->p[i].port] == port_id)
			return &d->p[i];
	return NULL;
}

/* Is @p ip on the subnet of lease @p l? */
static bool
on_subnet(const struct braid_dhcp_lease *l, uint32_t ip)
{
	uint32_t mask = l->prefix == 0 ? 0 : UINT32_MAX << (32 - l->prefix);

	return ip != 0 && (ip & mask) == (l->ip & mask);
}

/* Re-register the links of @p dp with lease @p l (ip 0: none). */
static void
readdress(struct gw_dhcp *d, struct gw_dhcp_port *dp, const struct braid_dhcp_lease *l)
{
	struct braid_gateway *gw = d->gw;
	const uint16_t port_id = gw->port_id[dp->port];
	struct braid_arp_addr addr = { l->ip, l->prefix };

	(void)braid_arp_addrs_set(gw->arp, port_id, &addr, l->ip != 0 ? 1 : 0);
	for (uint16_t k = 0; k < gw->cfg.n_links; k++) {
		const struct braid_config_link *lc = &gw->cfg.links[k];
		uint32_t hop = lc->next_hop;

		if (lc->port != dp->port)
			continue;
		if (hop == 0 && !lc->learn_peer && l->ip != 0)
			hop = on_subnet(l, lc->peer_ip) ? lc->peer_ip : l->router;
		gw_link_address_set(gw, k, l->ip, hop);
	}
	dp->applied = *l;
	d->cnt.dhcp_readdress++;
	if (l->ip != 0)
		GW_LOG(INFO, "port %s: DHCP address %u.%u.%u.%u/%u, router %u.%u.%u.%u, lease %u s",
		       gw->cfg.ports[dp->port].name, l->ip >> 24, (l->ip >> 16) & 0xff,
		       (l->ip >> 8) & 0xff, l->ip & 0xff, l->prefix, l->router >> 24,
		       (l->router >> 16) & 0xff, (l->router >> 8) & 0xff, l->router & 0xff,
		       l->lease_s);
	else
		GW_LOG(WARNING, "port %s: DHCP lease lost; its links have no address",
		       gw->cfg.ports[dp->port].name);
}

/* After the client ran: apply a changed lease, publish the view. */
static void
follow(struct gw_dhcp *d, struct gw_dhcp_port *dp)
{
	struct braid_dhcp_lease l;
	struct braid_dhcp_stats st;

	if (!braid_dhcp_lease(dp->client, &l))
		memset(&l, 0, sizeof(l));
	if (l.ip != dp->applied.ip || l.prefix != dp->applied.prefix ||
	    l.router != dp->applied.router)
		readdress(d, dp, &l);
	else
		dp->applied = l;
	braid_dhcp_stats(dp->client, &st);
	rte_seqlock_write_lock(&dp->lock);
	dp->view.state = braid_dhcp_state(dp->client);
	dp->view.lease = l;
	dp->view.leases = st.dhcp_leases;
	dp->view.renewals = st.dhcp_renewals;
	dp->view.leases_lost = st.dhcp_leases_lost;
	dp->view.naks = st.dhcp_naks;
	rte_seqlock_write_unlock(&dp->lock);
}

bool
gw_dhcp_input(struct gw_dhcp *d, struct rte_mbuf *m, uint64_t now_ns)
{
	const uint32_t l3 = RTE_ETHER_HDR_LEN;
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	struct gw_dhcp_port *dp;
	uint32_t hl, tl, ul;

	if (d == NULL || d->n == 0 || rte_pktmbuf_data_len(m) < l3 + sizeof(*ip) + sizeof(*udp))
		return false;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip->next_proto_id != IPPROTO_UDP)
		return false;
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (rte_pktmbuf_data_len(m) < l3 + hl + sizeof(*udp))
		return false;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hl);
	if (udp->dst_port != RTE_BE16(BRAID_DHCP_CLIENT_PORT))
		return false;
	/* a DHCP reply: ours from here on, whatever becomes of it */
	d->cnt.dhcp_rx++;
	dp = port_of(d, m->port);
	tl = rte_be_to_cpu_16(ip->total_length);
	ul = rte_be_to_cpu_16(udp->dgram_len);
	if (dp == NULL || !rte_pktmbuf_is_contiguous(m) || tl < hl + ul ||
	    l3 + tl > rte_pktmbuf_data_len(m) || ul < sizeof(*udp) ||
	    udp->src_port != RTE_BE16(BRAID_DHCP_SERVER_PORT) ||
	    (udp->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0)) {
		d->cnt.drop_dhcp_frame++;
	} else {
		/* malformed or stale replies: the client's own counters */
		(void)braid_dhcp_input(dp->client, (const uint8_t *)(udp + 1), ul - sizeof(*udp),
				       &eth->src_addr, now_ns);
		follow(d, dp);
	}
	rte_pktmbuf_free(m);
	return true;
}

/* Message @p tx of port @p dp as a frame on the link inject ring. */
static void
send_msg(struct gw_dhcp *d, const struct gw_dhcp_port *dp, const struct braid_dhcp_tx *tx)
{
	const struct gw_udp_frame f = {
		.link = dp->link, .dst_mac = tx->dst_mac,
		.src_ip = rte_cpu_to_be_32(tx->src_ip), .dst_ip = rte_cpu_to_be_32(tx->dst_ip),
		.src_port = RTE_BE16(BRAID_DHCP_CLIENT_PORT),
		.dst_port = RTE_BE16(BRAID_DHCP_SERVER_PORT),
		.udp_cksum = true,
	};
	struct rte_mbuf *m;
	uint8_t *p = gw_udp_frame_start(d->gw, &f, tx->len, &m);

	if (p == NULL) {
		d->cnt.drop_dhcp_send++;
		return;
	}
	memcpy(p, tx->msg, tx->len);
	if (gw_udp_frame_send(d->gw, &f, m) != 0)
		d->cnt.drop_dhcp_send++;
	else
		d->cnt.dhcp_tx++;
}

unsigned int
gw_dhcp_poll(struct gw_dhcp *d, uint64_t now_ns)
{
	struct braid_dhcp_tx tx;
	unsigned int work = 0;

	if (d == NULL)
		return 0;
	for (uint16_t i = 0; i < d->n; i++) {
		struct gw_dhcp_port *dp = &d->p[i];

		if (now_ns < braid_dhcp_next_ns(dp->client))
			continue;
		if (braid_dhcp_poll(dp->client, now_ns, &tx) == 1) {
			send_msg(d, dp, &tx);
			work++;
		}
		follow(d, dp);
	}
	return work;
}

void
gw_dhcp_stats(const struct gw_dhcp *d, braid_stat_fn fn, void *arg)
{
	struct braid_dhcp_stats sum = { 0 };

	if (d == NULL || d->n == 0)   /* no port addressed by DHCP: nothing to say */
		return;
	BRAID_COUNTERS_REPORT(GW_DHCP_COUNTERS, &d->cnt, fn, arg);
	for (uint16_t i = 0; i < d->n; i++) {
		struct braid_dhcp_stats st;

		braid_dhcp_stats(d->p[i].client, &st);
#define GW_DHCP_SUM_(n) sum.n += st.n;
		BRAID_DHCP_COUNTERS(GW_DHCP_SUM_)
#undef GW_DHCP_SUM_
	}
	BRAID_COUNTERS_REPORT(BRAID_DHCP_COUNTERS, &sum, fn, arg);
}

uint16_t
gw_dhcp_ports(const struct gw_dhcp *d)
{
	return d == NULL ? 0 : d->n;
}

int
gw_dhcp_view(const struct gw_dhcp *d, uint16_t i, uint16_t *port, struct gw_dhcp_view *v)
{
	const struct gw_dhcp_port *dp;
	uint32_t sn;

	if (d == NULL || i >= d->n)
		return -ENOENT;
	dp = &d->p[i];
	*port = dp->port;
	do {
		sn = rte_seqlock_read_begin(&dp->lock);
		*v = dp->view;
	} while (rte_seqlock_read_retry(&dp->lock, sn));
	return 0;
}
