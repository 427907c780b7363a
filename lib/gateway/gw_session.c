/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fec_decode and reorder keep per-peer stream state. When the peer
 * restarts (new session id), the decap stage marks the first payload of
 * the new session (BRAID_META_F_SESSION); these wrappers reset their
 * stage's state right before that packet, so nothing of the old session
 * is held against the new one and the new stream is delivered at once.
 */
#include "gw_priv.h"

/* Index of the first packet that starts a new session, or @n. */
static uint16_t
session_start(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		if (unlikely(braid_meta(pkts[i])->flags & BRAID_META_F_SESSION))
			return i;
	return n;
}

/* Carry the session start on to reorder: on the first packet this stage
 * outputs after its reset (the flagged piece may be parity, which it
 * consumes). */
static void
pass_session_flag(struct braid_gateway *gw, struct braid_burst *out, uint16_t from)
{
	if (!gw->reorder_reset_pending || out->n <= from)
		return;
	braid_meta(out->pkts[from])->flags |= BRAID_META_F_SESSION;
	gw->reorder_reset_pending = false;
}

static void
fec_dec_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	uint16_t s = session_start(pkts, n), from;

	if (s > 0) {
		from = out->n;
		braid_fec_dec_stage_ops.process(gw->fec_dec, pkts, s, out, now_ns);
		pass_session_flag(gw, out, from);
	}
	if (s == n)
		return;
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		braid_fec_dec_reset(gw->fec_dec, k);
	braid_meta(pkts[s])->flags &= (uint8_t)~BRAID_META_F_SESSION;
	gw->reorder_reset_pending = true;
	from = out->n;
	braid_fec_dec_stage_ops.process(gw->fec_dec, pkts + s, (uint16_t)(n - s), out, now_ns);
	pass_session_flag(gw, out, from);
}

static uint16_t
fec_dec_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	uint16_t from = out->n;
	uint16_t n = braid_fec_dec_stage_ops.poll(gw->fec_dec, out, now_ns);

	pass_session_flag(gw, out, from);
	return n;
}

static uint16_t
fec_dec_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;

	return braid_fec_dec_stage_ops.drain(gw->fec_dec, out, now_ns);
}

static void
fec_dec_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_gateway *gw = ctx;

	braid_fec_dec_stage_ops.stats(gw->fec_dec, fn, arg);
}

const struct braid_stage_ops gw_fec_dec_ops = {
	.kind = "fec_decode",
	.process = fec_dec_process,
	.poll = fec_dec_poll,
	.drain = fec_dec_drain,
	.stats = fec_dec_stats,
};

/* ARQ recoveries: retransmissions reorder delivers (out->pkts[from..])
 * each filled a gap (duplicates and late copies never leave it). */
static void
count_recovered(struct braid_gateway *gw, const struct braid_burst *out,
		uint16_t from)
{
	uint64_t n = 0;

	for (uint16_t i = from; i < out->n; i++) {
		const struct braid_meta *bm = braid_meta(out->pkts[i]);

		if (unlikely(bm->flags & BRAID_META_F_RETX) &&
		    bm->class_id < BRAID_CONFIG_MAX_CLASSES) {
			gw->arq.recovered[bm->class_id]++;
			n++;
		}
	}
	gw->arq.cnt.recovered += n;
}

static void
reorder_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	uint16_t s = session_start(pkts, n);
	uint16_t from = out->n;

	if (s > 0)
		braid_reorder_stage_ops.process(gw->reorder, pkts, s, out, now_ns);
	if (s < n) {
		braid_reorder_reset(gw->reorder, BRAID_REORDER_ALL_CLASSES);
		gw_arq_rx_reset(gw);
		braid_meta(pkts[s])->flags &= (uint8_t)~BRAID_META_F_SESSION;
		braid_reorder_stage_ops.process(gw->reorder, pkts + s,
						(uint16_t)(n - s), out, now_ns);
	}
	count_recovered(gw, out, from);
}

static uint16_t
reorder_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	uint16_t from = out->n;
	uint16_t n = braid_reorder_stage_ops.poll(gw->reorder, out, now_ns);

	count_recovered(gw, out, from);
	return (uint16_t)(n + gw_arq_rx_poll(gw, now_ns));
}

static uint16_t
reorder_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_gateway *gw = ctx;
	uint16_t from = out->n;
	uint16_t n = braid_reorder_stage_ops.drain(gw->reorder, out, now_ns);

	count_recovered(gw, out, from);
	return n;
}

static void
reorder_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_gateway *gw = ctx;

	braid_reorder_stage_ops.stats(gw->reorder, fn, arg);
	gw_arq_rx_stats(gw, fn, arg);
}

/* A class's ARQ on or off: reorder's deadline and the NACKs. */
static int
reorder_apply(void *ctx, const void *cmd)
{
	struct braid_gateway *gw = ctx;
	const struct gw_rx_cmd *c = cmd;
	int ret;

	if (c->op != GW_RX_CMD_CLASS_ARQ)
		return -EINVAL;
	ret = braid_reorder_class_set_deadline(gw->reorder, c->id, c->deadline_ns);
	return ret != 0 ? ret : braid_arq_rx_class_enable(gw->arq.rx, c->id, c->value != 0);
}

const struct braid_stage_ops gw_reorder_ops = {
	.kind = "reorder",
	.cmd_size = sizeof(struct gw_rx_cmd),
	.apply = reorder_apply,
	.process = reorder_process,
	.poll = reorder_poll,
	.drain = reorder_drain,
	.stats = reorder_stats,
};
