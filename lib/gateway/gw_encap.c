/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The encap stage of the send chain, plus the control frames (NACKs,
 * probes, probe replies) the control path builds on other lcores: they
 * arrive on the ctrl_tx ring as inner payloads and get their outer headers
 * here, from the one encap instance that owns each link's sequence.
 */
#include "gw_priv.h"

static void
gw_encap_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		 struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;

	braid_encap_stage_ops.process(gw->encap, pkts, n, out, now_ns);
}

static uint16_t
gw_encap_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	struct rte_mbuf *pkts[BRAID_BURST];
	unsigned int n;

	n = rte_ring_sc_dequeue_burst(gw->ctrl_tx, (void **)pkts,
				      RTE_MIN((unsigned int)BRAID_BURST,
					      braid_burst_room(out)), NULL);
	if (n > 0)
		braid_encap_stage_ops.process(gw->encap, pkts, (uint16_t)n, out, now_ns);
	return (uint16_t)n;
}

static uint16_t
gw_encap_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return gw_encap_poll(ctx, out, now_ns);
}

static void
gw_encap_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_gateway *gw = ctx;

	braid_encap_stage_ops.stats(gw->encap, fn, arg);
}

const struct braid_stage_ops gw_encap_stage_ops = {
	.kind = "encap",
	.process = gw_encap_process,
	.poll = gw_encap_poll,
	.drain = gw_encap_drain,
	.stats = gw_encap_stats,
};
