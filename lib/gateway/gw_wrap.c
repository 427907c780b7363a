/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live changes reach a stage through its command ring: the control path
 * enqueues (any thread), the stage's own lcore applies the commands at
 * the start of its poll(), so the stage itself never takes a lock.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "gw_priv.h"

#define GW_CMD_RING 256

int
gw_wrap_init(struct gw_wrap *w, struct braid_gateway *gw, const char *what,
	     const struct braid_stage_ops *inner, void *inner_ctx)
{
	char name[RTE_RING_NAMESIZE], obj[32];

	snprintf(obj, sizeof(obj), "cmd_%s", what);
	gw_objname(gw, obj, name, sizeof(name));
	memset(w, 0, sizeof(*w));
	w->cmds = rte_ring_create(name, GW_CMD_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (w->cmds == NULL)
		return -rte_errno;
	w->inner = inner;
	w->inner_ctx = inner_ctx;
	w->gw = gw;
	return 0;
}

void
gw_wrap_fini(struct gw_wrap *w)
{
	void *cmd;

	if (w->cmds == NULL)
		return;
	while (rte_ring_dequeue(w->cmds, &cmd) == 0)
		rte_free(cmd);
	rte_ring_free(w->cmds);
	w->cmds = NULL;
}

int
gw_wrap_send(struct gw_wrap *w, const struct gw_cmd *cmd)
{
	struct gw_cmd *c = rte_malloc("gw_cmd", sizeof(*c), 0);

	if (c == NULL)
		return -ENOMEM;
	*c = *cmd;
	if (rte_ring_enqueue(w->cmds, c) != 0) {
		rte_free(c);
		return -ENOBUFS;
	}
	return 0;
}

static int
apply(struct gw_wrap *w, const struct gw_cmd *c)
{
	struct braid_gateway *gw = w->gw;

	switch (c->op) {
	case GW_CMD_LINK_UP:
		return braid_sched_link_set_up(gw->sched, c->a, c->b != 0);
	case GW_CMD_LINK_CAPACITY:
		return braid_sched_link_set_capacity(gw->sched, c->a, c->v);
	case GW_CMD_LINK_WEIGHT:
		return braid_sched_link_set_weight(gw->sched, c->a, (uint16_t)c->b);
	case GW_CMD_LINK_CHARGE:
		return braid_sched_link_charge(gw->sched, c->a, c->v);
	case GW_CMD_CLASS_WEIGHT:
		return braid_sched_class_set_weight(gw->sched, c->a, c->b);
	case GW_CMD_CLASS_FEC: {
		/* Both stages take it: sched for the parity it reserves,
		 * fec for the blocks it builds. */
		if (w->inner == &braid_sched_stage_ops)
			return braid_sched_class_set_fec(gw->sched, c->a, (uint8_t)c->b,
							 (uint8_t)c->c);
		struct braid_fec_class_conf fc = {
			.k = (uint8_t)c->b, .m = (uint8_t)c->c,
			.timeout_ns = c->v,
		};

		return braid_fec_enc_set_class(gw->fec, c->a, &fc);
	}
	case GW_CMD_CLASS_ARQ:
		/* Sender half on rtx's lcore: the cache (and the ARQ sender,
		 * which ctrl runs there); receiver half on reorder's. */
		if (w->inner == &braid_rtx_stage_ops) {
			int ret = braid_rtx_class_enable(gw->rtx, c->a, c->b != 0);

			return ret != 0 ? ret :
			       braid_arq_tx_class_set_deadline(gw->arq_tx, c->a, c->v);
		} else if (w->inner == &gw_reorder_ops) {
			int ret = braid_reorder_class_set_deadline(gw->reorder, c->a,
								   (uint64_t)c->c * 1000000ULL);

			return ret != 0 ? ret :
			       braid_arq_rx_class_enable(gw->arq.rx, c->a, c->b != 0);
		}
		return -EINVAL;
	case GW_CMD_CLASS_PRIORITY:
		return braid_sched_class_set_priority(gw->sched, c->a, c->b != 0, c->v);
	case GW_CMD_CLASS_POLICY:
		return braid_sched_class_set_policy(gw->sched, c->a,
						    (enum braid_sched_policy)c->b,
						    (uint8_t)c->c, (uint32_t)c->v);
	default:
		return -EINVAL;
	}
}

static void
wrap_apply_all(struct gw_wrap *w)
{
	void *cmd;

	while (rte_ring_sc_dequeue(w->cmds, &cmd) == 0) {
		if (apply(w, cmd) == 0)
			w->cmds_applied++;
		else
			w->cmds_failed++;
		rte_free(cmd);
	}
}

static void
wrap_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	     struct braid_burst *out, uint64_t now_ns)
{
	struct gw_wrap *w = ctx;

	w->inner->process(w->inner_ctx, pkts, n, out, now_ns);
}

static uint16_t
wrap_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct gw_wrap *w = ctx;

	if (unlikely(!rte_ring_empty(w->cmds)))
		wrap_apply_all(w);
	return w->inner->poll != NULL ? w->inner->poll(w->inner_ctx, out, now_ns) : 0;
}

static uint16_t
wrap_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct gw_wrap *w = ctx;

	return w->inner->drain != NULL ? w->inner->drain(w->inner_ctx, out, now_ns) : 0;
}

static void
wrap_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct gw_wrap *w = ctx;

	if (w->inner->stats != NULL)
		w->inner->stats(w->inner_ctx, fn, arg);
	fn(arg, "cmds_applied", w->cmds_applied);
	fn(arg, "cmds_failed", w->cmds_failed);
}

const struct braid_stage_ops gw_wrap_ops = {
	.kind = "wrapped",
	.process = wrap_process,
	.poll = wrap_poll,
	.drain = wrap_drain,
	.stats = wrap_stats,
};
