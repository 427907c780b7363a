/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session handshake on the control stage (lib/crypto's braid_hello):
 * HELLOs from the open stage's ring are verified and answered to where
 * they came from (a frame built here, on the link's inject ring: the
 * peer may be behind a NAT whose address we do not know yet); while no
 * peer session is confirmed, a HELLO goes out on every link whose peer
 * is known every GW_HELLO_INTERVAL_NS. A new peer session hands its two
 * direction keys to the seal and open stages by command.
 *
 * Links that learn their peer ("peer": "learn", a listener) take its
 * endpoint from a fresh HELLO (one that echoed our current challenge)
 * and from then on from the newest frame the open stage authenticated on
 * the link: a NAT rebinding or a modem's new address moves the link with
 * the first frame from there.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "braid_clock.h"
#include "braid_hello.h"
#include "gw_priv.h"

#define GW_HELLO_INTERVAL_NS 250000000ULL
/* At most one answer per link in this long (old HELLOs replayed in a
 * flood get answers at this rate, and change nothing). */
#define GW_HELLO_REPLY_GAP_NS 20000000ULL
/* A bad HELLO MAC is reported in status for this long. */
#define GW_HELLO_WARN_NS 10000000000ULL

#define HELLO_GW_COUNTERS(X) \
	X(drop_hello_foreign) X(drop_hello_send) X(hello_replies_limited) X(drop_key_cmd) \
	X(peer_moves) X(drop_peer_update)

struct gw_hello {
	struct braid_gateway *gw;
	struct braid_hello h;
	uint64_t next_ns;
	uint64_t reply_ns[BRAID_CONFIG_MAX_LINKS];
	/* read by management */
	bool established;
	uint32_t peer_session;
	uint64_t bad_mac_ns;               /* last HELLO that failed its MAC (braid_now_ns) */
	/* a new session's keys not yet queued to the stages (ring full) */
	bool key_pending;
	struct braid_crypto_cmd key_tx, key_rx;
	/* learned peers: where each link sends, the open stage's generation */
	struct braid_crypto_endpoint peer[BRAID_CONFIG_MAX_LINKS];
	bool peer_known[BRAID_CONFIG_MAX_LINKS];
	uint64_t peer_gen[BRAID_CONFIG_MAX_LINKS];
	struct { BRAID_COUNTERS_FIELDS(HELLO_GW_COUNTERS) } cnt;
};

struct gw_hello *
gw_hello_create(struct braid_gateway *gw, const uint8_t psk[32])
{
	struct gw_hello *g = rte_zmalloc("gw_hello", sizeof(*g), RTE_CACHE_LINE_SIZE);

	if (g == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	g->gw = gw;
	if (braid_hello_init(&g->h, psk, gw->session_id) != 0) {
		rte_free(g);
		rte_errno = EIO;
		return NULL;
	}
	return g;
}

void
gw_hello_free(struct gw_hello *g)
{
	if (g == NULL)
		return;
	braid_hello_clear(&g->h);
	braid_crypto_wipe(g, sizeof(*g));
	rte_free(g);
}

/* Where a HELLO came from. */
struct hello_src {
	struct rte_ether_addr mac;
	rte_be32_t ip;
	rte_be16_t port;
};

/* A HELLO (answering @p echo, or nothing) to @p to: the whole frame built
 * here (Ethernet, IPv4, UDP, braid header, HELLO) and put out of the
 * link's port. An answer goes where the HELLO came from, which encap's
 * template may not know yet (a peer behind NAT); a HELLO needs neither
 * encap's link sequence nor sealing. */
static void
send_hello(struct gw_hello *g, uint16_t link, const struct hello_src *to, const uint8_t *echo)
{
	struct braid_gateway *gw = g->gw;
	const uint32_t src_ip = gw_link_local_ip(gw, link);
	const struct gw_udp_frame f = {
		.link = link, .dst_mac = to->mac,
		.src_ip = rte_cpu_to_be_32(src_ip), .dst_ip = to->ip,
		.src_port = rte_cpu_to_be_16(gw->cfg.links[link].local_port), .dst_port = to->port,
		.df = true,   /* the HELLO's MAC covers it: no UDP checksum */
	};
	struct braid_hdr *bh;
	struct rte_mbuf *m;
	uint8_t *p;

	/* no address, no HELLO */
	p = src_ip != 0 ? gw_udp_frame_start(gw, &f, sizeof(*bh) + BRAID_HELLO_LEN, &m) : NULL;
	if (p == NULL || braid_hello_build(&g->h, echo, p + sizeof(*bh)) != 0) {
		if (p != NULL)
			rte_pktmbuf_free(m);
		g->cnt.drop_hello_send++;
		return;
	}
	bh = (struct braid_hdr *)p;
	memset(bh, 0, sizeof(*bh));
	bh->magic = RTE_BE16(BRAID_WIRE_MAGIC);
	bh->version = BRAID_WIRE_VERSION;
	bh->type = BRAID_PKT_HELLO;
	bh->link_id = rte_cpu_to_be_16(link);
	bh->inner_len = RTE_BE16(BRAID_HELLO_LEN);
	bh->session_id = rte_cpu_to_be_32(gw->session_id);
	if (gw_udp_frame_send(gw, &f, m) != 0)
		g->cnt.drop_hello_send++;
}

/* A learning link's peer is now @p ep: encap sends there. */
static void
peer_set(struct gw_hello *g, uint16_t link, const struct braid_crypto_endpoint *ep)
{
	struct braid_gateway *gw = g->gw;
	const struct braid_config_link *lc = &gw->cfg.links[link];
	struct braid_wire_link wl;

	if (g->peer_known[link] && g->peer[link].ip == ep->ip && g->peer[link].port == ep->port &&
	    rte_is_same_ether_addr(&g->peer[link].mac, &ep->mac))
		return;
	if (braid_encap_link_get(gw->encap, link, &wl) != 0) {
		g->cnt.drop_peer_update++;
		return;
	}
	wl.peer_ip = ep->ip;
	wl.peer_port = ep->port;
	/* No next hop of our own: answer through the hop it came from. */
	if (lc->next_hop == 0 && !lc->has_next_hop_mac)
		wl.dst_mac = ep->mac;
	if (braid_encap_link_set(gw->encap, link, &wl) != 0) {
		g->cnt.drop_peer_update++;
		return;
	}
	g->peer[link] = *ep;
	__atomic_store_n(&g->peer_known[link], true, __ATOMIC_RELEASE);
	g->cnt.peer_moves++;
	GW_LOG(INFO, "link %s: peer at %u.%u.%u.%u:%u", lc->name, ep->ip >> 24,
	       (ep->ip >> 16) & 0xff, (ep->ip >> 8) & 0xff, ep->ip & 0xff, ep->port);
}

/* Queue the pending keys to the open stage, then the seal stage (the
 * peer may already send under its key); what a full ring refused is
 * tried again at the next poll. */
static void
keys_send(struct gw_hello *g)
{
	struct braid_gateway *gw = g->gw;

	if (g->key_rx.op != 0) {
		if (braid_runner_cmd_send(gw->runner, gw->open_stage, &g->key_rx) != 0) {
			g->cnt.drop_key_cmd++;
			return;
		}
		braid_crypto_wipe(&g->key_rx, sizeof(g->key_rx));
	}
	if (braid_runner_cmd_send(gw->runner, gw->seal_stage, &g->key_tx) != 0) {
		g->cnt.drop_key_cmd++;
		return;
	}
	braid_crypto_wipe(&g->key_tx, sizeof(g->key_tx));
	g->key_pending = false;
	__atomic_store_n(&g->established, true, __ATOMIC_RELEASE);
}

static void
install(struct gw_hello *g, const struct braid_hello_result *r)
{
	struct braid_gateway *gw = g->gw;

	g->key_tx = (struct braid_crypto_cmd){ .op = BRAID_CRYPTO_CMD_SET_SESSION,
					       .session_id = gw->session_id };
	g->key_rx = (struct braid_crypto_cmd){ .op = BRAID_CRYPTO_CMD_SET_SESSION,
					       .session_id = r->peer_session };
	memcpy(g->key_tx.prk, r->tx_prk, sizeof(g->key_tx.prk));
	memcpy(g->key_rx.prk, r->rx_prk, sizeof(g->key_rx.prk));
	g->key_pending = true;
	__atomic_store_n(&g->peer_session, r->peer_session, __ATOMIC_RELAXED);
	GW_LOG(INFO, "crypto: session with peer %08x keyed", r->peer_session);
	keys_send(g);
}

/* The HELLO in frame @p m (as the link port received it). */
static void
on_hello(struct gw_hello *g, struct rte_mbuf *m, uint64_t now_ns)
{
	const struct braid_gateway *gw = g->gw;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	const uint32_t hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hl);
	const struct braid_hdr *bh = (const struct braid_hdr *)(udp + 1);
	const uint32_t off = RTE_ETHER_HDR_LEN + hl + sizeof(*udp) + sizeof(*bh);
	const struct braid_config_link *lc;
	struct braid_hello_result r;
	uint8_t buf[BRAID_HELLO_LEN];
	const uint8_t *payload;
	uint16_t link = rte_be_to_cpu_16(bh->link_id);
	enum braid_hello_verdict v;

	const struct hello_src from = {
		.mac = ((const struct rte_ether_hdr *)p)->src_addr,
		.ip = ip->src_addr, .port = udp->src_port,
	};

	/* The open stage checked the headers up to the braid header. */
	lc = link < gw->cfg.n_links ? &gw->cfg.links[link] : NULL;
	if (lc == NULL || rte_be_to_cpu_32(ip->dst_addr) != gw_link_local_ip(gw, link) ||
	    rte_be_to_cpu_16(udp->dst_port) != lc->local_port ||
	    (!lc->learn_peer && rte_be_to_cpu_32(ip->src_addr) != lc->peer_ip) ||
	    (lc->peer_port != 0 && rte_be_to_cpu_16(udp->src_port) != lc->peer_port) ||
	    rte_be_to_cpu_16(bh->inner_len) != BRAID_HELLO_LEN ||
	    rte_pktmbuf_pkt_len(m) < off + BRAID_HELLO_LEN) {
		g->cnt.drop_hello_foreign++;
		return;
	}
	payload = rte_pktmbuf_read(m, off, BRAID_HELLO_LEN, buf);
	v = braid_hello_receive(&g->h, rte_be_to_cpu_32(bh->session_id), payload,
				BRAID_HELLO_LEN, &r);
	if (v == BRAID_HELLO_BAD_MAC) {
		/* Management's clock (the data path's may be virtual). */
		uint64_t wall = braid_now_ns();

		if (g->bad_mac_ns == 0 || wall - g->bad_mac_ns > GW_HELLO_WARN_NS)
			GW_LOG(WARNING, "crypto: a HELLO on link %s failed authentication: "
			       "the pre-shared keys differ, or it was forged", lc->name);
		__atomic_store_n(&g->bad_mac_ns, wall, __ATOMIC_RELAXED);
		return;
	}
	if (v != BRAID_HELLO_OK)
		return;
	if (r.new_session)
		install(g, &r);
	/* A live peer, there: a listener's link sends there from now on. */
	if (r.fresh && lc->learn_peer)
		peer_set(g, link, &(struct braid_crypto_endpoint){
			.ip = rte_be_to_cpu_32(from.ip), .port = rte_be_to_cpu_16(from.port),
			.mac = from.mac });
	if (r.reply) {
		if (g->reply_ns[link] != 0 && now_ns - g->reply_ns[link] < GW_HELLO_REPLY_GAP_NS) {
			g->cnt.hello_replies_limited++;
		} else {
			g->reply_ns[link] = now_ns;
			send_hello(g, link, &from, r.echo);
		}
	}
	braid_crypto_wipe(&r, sizeof(r));
}

unsigned int
gw_hello_poll(struct gw_hello *g, uint64_t now_ns)
{
	struct rte_mbuf *m[BRAID_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(g->gw->hello_ring, (void **)m,
						   BRAID_BURST, NULL);

	if (g->key_pending)
		keys_send(g);
	for (unsigned int i = 0; i < n; i++)
		on_hello(g, m[i], now_ns);
	if (n > 0)
		rte_pktmbuf_free_bulk(m, n);
	if (braid_hello_pending(&g->h) && now_ns >= g->next_ns) {
		g->next_ns = now_ns + GW_HELLO_INTERVAL_NS;
		for (uint16_t l = 0; l < g->gw->cfg.n_links; l++) {
			struct braid_wire_link wl;

			/* to the peer encap sends to, once it is known and its
			 * next hop resolved */
			if (!g->gw->cfg.links[l].admin_up ||
			    braid_encap_link_get(g->gw->encap, l, &wl) != 0 ||
			    wl.peer_ip == 0 || wl.local_ip == 0 ||
			    rte_is_zero_ether_addr(&wl.dst_mac))
				continue;
			send_hello(g, l, &(struct hello_src){ .mac = wl.dst_mac,
				   .ip = rte_cpu_to_be_32(wl.peer_ip),
				   .port = rte_cpu_to_be_16(wl.peer_port) }, NULL);
		}
		n++;
	}
	/* Learning links follow their newest authenticated frame. */
	for (uint16_t l = 0; l < g->gw->cfg.n_links; l++) {
		struct braid_crypto_endpoint ep;
		uint64_t gen;

		if (!g->gw->cfg.links[l].learn_peer)
			continue;
		gen = braid_crypto_open_endpoint(g->gw->open, l, &ep);
		if (gen != g->peer_gen[l]) {
			g->peer_gen[l] = gen;
			peer_set(g, l, &ep);
		}
	}
	return n;
}

bool
gw_hello_peer(const struct gw_hello *g, uint16_t link, uint32_t *ip, uint16_t *port)
{
	if (link >= BRAID_CONFIG_MAX_LINKS || !__atomic_load_n(&g->peer_known[link], __ATOMIC_ACQUIRE))
		return false;
	*ip = g->peer[link].ip;
	*port = g->peer[link].port;
	return true;
}

void
gw_hello_stats(const struct gw_hello *g, braid_stat_fn fn, void *arg)
{
	BRAID_COUNTERS_REPORT(BRAID_HELLO_COUNTERS, &g->h.cnt, fn, arg);
	BRAID_COUNTERS_REPORT(HELLO_GW_COUNTERS, &g->cnt, fn, arg);
}

bool
gw_hello_established(const struct gw_hello *g, uint32_t *peer_session)
{
	*peer_session = __atomic_load_n(&g->peer_session, __ATOMIC_RELAXED);
	return __atomic_load_n(&g->established, __ATOMIC_ACQUIRE);
}

bool
gw_hello_auth_failing(const struct gw_hello *g, uint64_t now_ns)
{
	uint64_t t = __atomic_load_n(&g->bad_mac_ns, __ATOMIC_RELAXED);

	return t != 0 && now_ns - t < GW_HELLO_WARN_NS;
}
