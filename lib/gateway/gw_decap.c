/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive chain's decap stage. lib/wire validates and strips each
 * frame; lib/link accounts every accepted frame (per-link sequence, the
 * peer's send time), answers probes and takes probe replies; NACKs go to
 * the control stage; tunnel payloads are made contiguous for the FEC
 * decoder and the LAN. Link health lives here, on the lcore that sees
 * every frame first; its probes and replies go to encap via ctrl_tx.
 *
 * A frame received as a chain (virtual PMDs pass the sender's header
 * mbuf + clone; NICs with scatter RX split jumbo frames) leaves its outer
 * headers in an empty first segment: that segment is dropped from the
 * chain, and what is still segmented is linearized.
 *
 * When the peer's session changes, the first payload of the new session
 * carries BRAID_META_F_SESSION so fec_decode and reorder reset in order.
 */
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "gw_priv.h"

/* Remove the empty head segment of @m; @return the new head. */
static struct rte_mbuf *
drop_empty_head(struct rte_mbuf *m)
{
	struct rte_mbuf *next = m->next;

	next->pkt_len = m->pkt_len;
	next->nb_segs = (uint16_t)(m->nb_segs - 1);
	next->port = m->port;
	/* RX flags from the head; whether next is a clone stays next's own. */
	next->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) |
			 (next->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
	next->packet_type = m->packet_type;
	rte_mbuf_dynfield_copy(next, m);
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	rte_pktmbuf_free_seg(m);
	return next;
}

/* To encap (probes, replies). Consumes the mbufs. */
static void
to_peer(struct braid_gateway *gw, struct rte_mbuf **m, unsigned int n)
{
	unsigned int sent = rte_ring_mp_enqueue_burst(gw->ctrl_tx, (void **)m, n, NULL);

	if (sent < n) {
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		gw->decap_cnt.drop_ctrl_full += n - sent;
	}
}

/* Link health's live changes (management). */
static int
gw_decap_apply(void *ctx, const void *cmd)
{
	struct braid_gateway *gw = ctx;
	const struct gw_rx_cmd *c = cmd;

	switch (c->op) {
	case GW_RX_CMD_LINK_ADMIN:
		return braid_link_admin_set(gw->link, c->id, c->value != 0);
	case GW_RX_CMD_LINK_CAPACITY:
		return braid_link_capacity_set(gw->link, c->id, c->value);
	default:
		return -EINVAL;
	}
}

static void
gw_decap_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		 struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	struct gw_decap_cnt *cnt = &gw->decap_cnt;
	struct rte_mbuf *tx[BRAID_BURST_OUT_MAX];
	uint16_t n_tx = 0, k;
	uint32_t session;

	k = braid_decap_burst(gw->decap, pkts, n);
	if (braid_decap_session(gw->decap, &session) &&
	    (!gw->peer_session_known || session != gw->peer_session)) {
		if (gw->peer_session_known) {
			gw->session_reset_pending = true;
			cnt->peer_restarts++;
		}
		gw->peer_session = session;
		gw->peer_session_known = true;
	}
	k = braid_link_burst(gw->link, pkts, k, tx, &n_tx, now_ns);
	if (n_tx > 0)
		to_peer(gw, tx, n_tx);
	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *bm = braid_meta(m);

		uint32_t session_of = rte_be_to_cpu_32(braid_decap_hdr(m)->session_id);

		if (bm->pkt_type != BRAID_PKT_DATA && bm->pkt_type != BRAID_PKT_PARITY) {
			if (rte_ring_sp_enqueue(gw->ctrl_ring, m) != 0) {
				rte_pktmbuf_free(m);
				cnt->drop_ctrl_full++;
			}
			continue;
		}
		while (m->nb_segs > 1 && m->data_len == 0) {
			m = drop_empty_head(m);
			bm = braid_meta(m);
			cnt->unchained++;
		}
		if (m->nb_segs > 1) {
			if (rte_pktmbuf_linearize(m) != 0) {
				rte_pktmbuf_free(m);
				cnt->drop_segmented++;
				continue;
			}
			cnt->linearized++;
		}
		/* The first payload of the new session (frames of the old one
		 * may precede it in this burst) starts the reset downstream. */
		if (gw->session_reset_pending && session_of == gw->peer_session) {
			bm->flags |= BRAID_META_F_SESSION;
			gw->session_reset_pending = false;
		}
		if (braid_burst_push(out, m) != 0) {
			rte_pktmbuf_free(m);
			cnt->drop_out_full++;
		}
	}
}

static uint16_t
gw_decap_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	struct rte_mbuf *probes[BRAID_LINK_MAX_LINKS];
	uint16_t n;

	RTE_SET_USED(out);
	n = braid_link_poll(gw->link, now_ns, probes, RTE_DIM(probes));
	if (n > 0)
		to_peer(gw, probes, n);
	return n;
}

static void
gw_decap_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_gateway *gw = ctx;
	struct braid_link_counters lc;

	braid_rx_decap_ops.stats(gw->decap, fn, arg);
	BRAID_COUNTERS_REPORT(GW_DECAP_COUNTERS, &gw->decap_cnt, fn, arg);
	braid_link_counters_get(gw->link, &lc);
	BRAID_COUNTERS_REPORT(BRAID_LINK_COUNTERS, &lc, fn, arg);
}

const struct braid_stage_ops gw_decap_ops = {
	.kind = "rx_decap",
	.cmd_size = sizeof(struct gw_rx_cmd),
	.apply = gw_decap_apply,
	.process = gw_decap_process,
	.poll = gw_decap_poll,
	.stats = gw_decap_stats,
};

/* Link health changed a link's state or usable capacity: tell the
 * scheduler (on its own lcore, through its control channel; a full
 * channel is counted there as cmds_dropped). */
void
gw_link_changed(void *arg, uint16_t link, enum braid_link_state state,
		uint64_t usable_kbps)
{
	struct braid_gateway *gw = arg;
	bool up = state == BRAID_LINK_UP || state == BRAID_LINK_DEGRADED;
	struct braid_sched_cmd c = { .op = BRAID_SCHED_CMD_LINK_STATE, .id = link,
		.link_state = { .up = up, .capacity_kbps = usable_kbps } };

	if (gw->runner != NULL)
		braid_runner_cmd_send(gw->runner, gw->stage_id[GW_CMD_SCHED], &c);
	__atomic_store_n(&gw->link_state[link], (uint8_t)state, __ATOMIC_RELAXED);
}
