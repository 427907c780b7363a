/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LAN delivery (braid_lan.h): inner IPv4 packet -> Ethernet frame for its
 * LAN host -> buffered TX; unresolved hosts wait in lib/arp's pending
 * queue.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "braid_arp.h"
#include "braid_lan.h"
#include "braid_log.h"

RTE_LOG_REGISTER(braid_lan_logtype, braid.lan, INFO);
#define LAN_LOG(level, ...) BRAID_LOG(level, braid_lan_logtype, __VA_ARGS__)

#define LAN_PENDING_DEFAULT 256

struct braid_lan {
	struct braid_lan_stats cnt;
	struct braid_arp *arp;
	struct braid_tx *tx;
	struct braid_arp_pending *pending;     /* NULL once drained */
	struct braid_arp_pending_stats pending_final; /* after the drain */
	struct rte_mempool *hdr_pool;
	uint16_t port_id;
	struct rte_ether_addr src_mac;
	uint32_t lan_ip;
	uint32_t lan_mask;
	struct rte_mbuf *ok[BRAID_BURST_OUT_MAX];   /* process() scratch */
};

struct braid_lan *
braid_lan_create(const struct braid_lan_conf *conf, int socket)
{
	struct braid_arp_pending_conf pq = { 0 };
	struct braid_lan *lan;

	if (conf == NULL || conf->arp == NULL || conf->hdr_pool == NULL) {
		LAN_LOG(ERR, "lan: arp and hdr_pool are required");
		rte_errno = EINVAL;
		return NULL;
	}
	lan = rte_zmalloc_socket("braid_lan", sizeof(*lan), RTE_CACHE_LINE_SIZE, socket);
	if (lan == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	lan->arp = conf->arp;
	lan->hdr_pool = conf->hdr_pool;
	lan->port_id = conf->port_id;
	lan->src_mac = conf->src_mac;
	lan->lan_ip = conf->lan_ip;
	lan->lan_mask = conf->lan_mask;
	lan->tx = braid_tx_create(&conf->tx, socket);
	if (lan->tx == NULL) {
		int err = rte_errno;

		braid_lan_free(lan);
		rte_errno = err;
		return NULL;
	}
	pq.arp = conf->arp;
	pq.max_nexthops = conf->pending_hosts != 0 ? conf->pending_hosts : LAN_PENDING_DEFAULT;
	pq.max_packets = conf->pending_packets != 0 ? conf->pending_packets :
			 LAN_PENDING_DEFAULT;
	lan->pending = braid_arp_pending_create(&pq, socket);
	if (lan->pending == NULL) {
		int err = rte_errno;

		braid_lan_free(lan);
		rte_errno = err;
		return NULL;
	}
	return lan;
}

/* Free what still waits for ARP (the pending queue counts it
 * drop_flushed) and keep its final counters for stats. */
static void
lan_pending_flush(struct braid_lan *lan)
{
	if (lan->pending == NULL)
		return;
	braid_arp_pending_stats(lan->pending, &lan->pending_final);
	lan->pending_final.drop_flushed += braid_arp_pending_count(lan->pending);
	braid_arp_pending_free(lan->pending);
	lan->pending = NULL;
}

void
braid_lan_free(struct braid_lan *lan)
{
	if (lan == NULL)
		return;
	lan_pending_flush(lan);
	braid_tx_free(lan->tx);
	rte_free(lan);
}

void
braid_lan_stats(const struct braid_lan *lan, struct braid_lan_stats *c)
{
	*c = lan->cnt;
}

unsigned int
braid_lan_pending(const struct braid_lan *lan)
{
	return lan->pending != NULL ? braid_arp_pending_count(lan->pending) : 0;
}

/*
 * A head mbuf whose headroom may take @len bytes: the packet itself when
 * it owns its buffer, else a header mbuf chained in front (a clone's or a
 * shared buffer is never written). NULL (packet freed) without room.
 */
static struct rte_mbuf *
writable_head(struct braid_lan *lan, struct rte_mbuf *m, uint16_t len)
{
	struct rte_mbuf *h;

	if (likely(RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
		   rte_pktmbuf_headroom(m) >= len))
		return m;
	h = rte_pktmbuf_alloc(lan->hdr_pool);
	if (h == NULL || rte_pktmbuf_chain(h, m) != 0) {
		rte_pktmbuf_free(h);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_mbuf_dynfield_copy(h, m);
	return h;
}

static void
lan_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	    struct braid_burst *out, uint64_t now_ns)
{
	struct braid_lan *lan = ctx;
	uint16_t n_ok = 0;
	uint64_t no_route = 0, no_mbuf = 0, held = 0, unresolved = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;
		uint32_t dip;

		if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ipv4_hdr))) {
			rte_pktmbuf_free(m);
			no_route++;
			continue;
		}
		dip = rte_be_to_cpu_32(rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->dst_addr);
		if (lan->lan_mask != 0 && (dip & lan->lan_mask) != (lan->lan_ip & lan->lan_mask)) {
			rte_pktmbuf_free(m);
			no_route++;
			continue;
		}
		m = writable_head(lan, m, sizeof(*eh));
		if (unlikely(m == NULL)) {
			no_mbuf++;
			continue;
		}
		eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));
		eh->src_addr = lan->src_mac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		/* Behind frames still waiting for this host's ARP answer,
		 * even if it just came: delivery keeps the tunnel's order. */
		if ((lan->pending == NULL ||
		     !braid_arp_pending_holds(lan->pending, lan->port_id, dip)) &&
		    braid_arp_lookup(lan->arp, lan->port_id, dip, &eh->dst_addr) == 0) {
			lan->ok[n_ok++] = m;
			continue;
		}
		memset(&eh->dst_addr, 0, sizeof(eh->dst_addr));
		if (lan->pending != NULL &&
		    braid_arp_pending_enqueue_one(lan->pending, lan->port_id, dip,
						  m, now_ns) == 0) {
			held++;
		} else {
			if (lan->pending == NULL)
				rte_pktmbuf_free(m);
			unresolved++;   /* counted by the pending queue too */
		}
	}
	lan->cnt.delivered += n_ok;
	lan->cnt.drop_no_route += no_route;
	lan->cnt.drop_no_mbuf += no_mbuf;
	lan->cnt.held_for_arp += held;
	lan->cnt.drop_unresolved += unresolved;
	if (n_ok > 0)
		braid_tx_stage_ops.process(lan->tx, lan->ok, n_ok, out, now_ns);
}

static uint16_t
lan_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_lan *lan = ctx;
	struct rte_mbuf *ready[BRAID_BURST];
	uint16_t n = 0;

	if (lan->pending != NULL)
		n = braid_arp_pending_poll(lan->pending, now_ns, ready, BRAID_BURST);
	if (n > 0) {
		lan->cnt.delivered += n;
		braid_tx_stage_ops.process(lan->tx, ready, n, out, now_ns);
	}
	return (uint16_t)(n + braid_tx_stage_ops.poll(lan->tx, out, now_ns));
}

static uint16_t
lan_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_lan *lan = ctx;
	uint16_t n = braid_tx_stage_ops.drain(lan->tx, out, now_ns);

	/* Input has stopped: no ARP reply will release the held frames
	 * before the ports stop. */
	if (n == 0)
		lan_pending_flush(lan);
	return n;
}

static void
lan_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_lan *lan = ctx;
	struct braid_arp_pending_stats pc = lan->pending_final;

	BRAID_COUNTERS_REPORT(BRAID_LAN_COUNTERS, &lan->cnt, fn, arg);
	if (lan->pending != NULL)
		braid_arp_pending_stats(lan->pending, &pc);
	BRAID_COUNTERS_REPORT(BRAID_ARP_PENDING_COUNTERS, &pc, fn, arg);
	braid_tx_stage_ops.stats(lan->tx, fn, arg);
}

const struct braid_stage_ops braid_lan_stage_ops = {
	.kind = "lan_tx",
	.process = lan_process,
	.poll = lan_poll,
	.drain = lan_drain,
	.stats = lan_stats,
};
