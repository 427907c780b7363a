/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LAN delivery: the receive chain ends with inner IPv4 packets. Each gets
 * an Ethernet header for its LAN host (the next hop must be on the LAN
 * port's subnet; its MAC comes from the ARP table, lock-free) and goes to
 * the LAN port's TX buffers. A host not resolved yet: the frame waits in
 * this stage's pending queue (lib/arp) while the control stage asks for
 * it, and leaves as soon as the reply is in, or is counted dropped.
 */
#include <string.h>

#include <rte_ip.h>

#include "gw_priv.h"

/*
 * A head mbuf whose headroom may take @len bytes: the packet itself when
 * it owns its buffer, else a header mbuf chained in front (a clone's or a
 * shared buffer is never written). NULL (packet freed) without room.
 */
static struct rte_mbuf *
writable_head(struct gw_lan_tx *lt, struct rte_mbuf *m, uint16_t len)
{
	struct rte_mbuf *h;

	if (likely(RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
		   rte_pktmbuf_headroom(m) >= len))
		return m;
	h = rte_pktmbuf_alloc(lt->gw->hdr_pool);
	if (h == NULL || rte_pktmbuf_chain(h, m) != 0) {
		rte_pktmbuf_free(h);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_mbuf_dynfield_copy(h, m);
	return h;
}

static void
lan_tx_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	       struct braid_burst *out, uint64_t now_ns)
{
	struct gw_lan_tx *lt = ctx;
	struct rte_mbuf *ok[BRAID_BURST_OUT_MAX];
	uint16_t n_ok = 0;
	uint64_t no_route = 0, no_mbuf = 0, held = 0, unresolved = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;
		uint32_t dip;
		bool known;

		if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ipv4_hdr))) {
			rte_pktmbuf_free(m);
			no_route++;
			continue;
		}
		dip = rte_be_to_cpu_32(rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->dst_addr);
		if (lt->lan_mask != 0 && (dip & lt->lan_mask) != (lt->lan_ip & lt->lan_mask)) {
			rte_pktmbuf_free(m);
			no_route++;
			continue;
		}
		m = writable_head(lt, m, sizeof(*eh));
		if (unlikely(m == NULL)) {
			no_mbuf++;
			continue;
		}
		eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));
		eh->src_addr = lt->src_mac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		known = braid_arp_lookup(lt->gw->arp, lt->port_id, dip, &eh->dst_addr) == 0;
		if (known) {
			ok[n_ok++] = m;
			continue;
		}
		memset(&eh->dst_addr, 0, sizeof(eh->dst_addr));
		if (braid_arp_pending_add(lt->pending, lt->port_id, dip, m, now_ns) == 0)
			held++;
		else
			unresolved++;   /* counted by the pending queue too */
	}
	lt->cnt.delivered += n_ok;
	lt->cnt.drop_no_route += no_route;
	lt->cnt.drop_no_mbuf += no_mbuf;
	lt->cnt.held_for_arp += held;
	lt->cnt.drop_unresolved += unresolved;
	if (n_ok > 0)
		braid_tx_ops.process(lt->tx, ok, n_ok, out, now_ns);
}

static uint16_t
lan_tx_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct gw_lan_tx *lt = ctx;
	struct rte_mbuf *ready[BRAID_BURST];
	uint16_t n = braid_arp_pending_poll(lt->pending, now_ns, ready, BRAID_BURST);

	if (n > 0) {
		lt->cnt.delivered += n;
		braid_tx_ops.process(lt->tx, ready, n, out, now_ns);
	}
	return (uint16_t)(n + braid_tx_ops.poll(lt->tx, out, now_ns));
}

static uint16_t
lan_tx_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct gw_lan_tx *lt = ctx;

	return braid_tx_ops.drain(lt->tx, out, now_ns);
}

static void
lan_tx_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct gw_lan_tx *lt = ctx;
	struct braid_arp_pending_counters pc;

	BRAID_COUNTERS_REPORT(GW_LAN_TX_COUNTERS, &lt->cnt, fn, arg);
	if (lt->pending != NULL) {
		braid_arp_pending_counters_get(lt->pending, &pc);
		BRAID_COUNTERS_REPORT(BRAID_ARP_PENDING_COUNTERS, &pc, fn, arg);
	}
	braid_tx_ops.stats(lt->tx, fn, arg);
}

const struct braid_stage_ops gw_lan_tx_ops = {
	.kind = "lan_tx",
	.process = lan_tx_process,
	.poll = lan_tx_poll,
	.drain = lan_tx_drain,
	.stats = lan_tx_stats,
};
