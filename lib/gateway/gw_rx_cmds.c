/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transition, to be deleted with struct gw_cmd: the receive stages are
 * library stages now and take their own commands through the runner's
 * control channels (struct braid_link_cmd on "link_health", struct
 * braid_reorder_cmd on "reorder", struct braid_arq_rx_cmd on "arq_rx").
 * Until management sends those itself, the struct gw_cmd it queues on
 * decap_cmds and reorder_wrap.cmds are translated here, on the thread
 * that steps the runner (braid_gateway_step()) or on the main lcore.
 */
#include <rte_malloc.h>

#include <rte_errno.h>
#include "gw_priv.h"

static void
send_or_log(struct braid_gateway *gw, const struct braid_cmd_ref *refs, unsigned int n)
{
	int ret = braid_runner_cmd_send_all(gw->runner, refs, n);

	if (ret < 0)
		GW_LOG(ERR, "receive stage command refused: %s", rte_strerror(-ret));
}

static void
forward_link(struct braid_gateway *gw, const struct gw_cmd *c, int stage)
{
	struct braid_link_cmd lc = { .link = c->a };

	if (c->op == GW_CMD_LINK_ADMIN) {
		lc.op = BRAID_LINK_CMD_ADMIN;
		lc.admin_down = c->b != 0;
	} else if (c->op == GW_CMD_LINK_CAPACITY) {
		lc.op = BRAID_LINK_CMD_CAPACITY;
		lc.capacity_kbps = c->v;
	}   /* else op 0: refused by the stage, counted cmds_failed */
	send_or_log(gw, &(struct braid_cmd_ref){ (unsigned int)stage, &lc }, 1);
}

/* GW_CMD_CLASS_ARQ: the reorder deadline (c = ms) and NACKing (b), both
 * or neither. */
static void
forward_class_arq(struct braid_gateway *gw, const struct gw_cmd *c, int ro, int arq)
{
	struct braid_reorder_cmd rc = {
		.op = c->op == GW_CMD_CLASS_ARQ ? BRAID_REORDER_CMD_DEADLINE : 0,
		.class_id = c->a, .deadline_ns = (uint64_t)c->c * 1000000ULL,
	};
	struct braid_arq_rx_cmd ac = {
		.op = BRAID_ARQ_RX_CMD_ENABLE, .class_id = c->a, .enable = c->b != 0,
	};
	struct braid_cmd_ref refs[2] = {
		{ (unsigned int)ro, &rc }, { (unsigned int)arq, &ac },
	};

	send_or_log(gw, refs, c->op == GW_CMD_CLASS_ARQ ? 2 : 1);
}

void
gw_rx_cmds_forward(struct braid_gateway *gw)
{
	void *p;

	if (gw->runner == NULL)
		return;
	if (unlikely(!rte_ring_empty(gw->decap_cmds))) {
		int lh = braid_runner_stage_find(gw->runner, "link_health");

		while (rte_ring_dequeue(gw->decap_cmds, &p) == 0) {
			if (lh >= 0)
				forward_link(gw, p, lh);
			rte_free(p);
		}
	}
	if (unlikely(!rte_ring_empty(gw->reorder_wrap.cmds))) {
		int ro = braid_runner_stage_find(gw->runner, "reorder");
		int arq = braid_runner_stage_find(gw->runner, "arq_rx");

		while (rte_ring_dequeue(gw->reorder_wrap.cmds, &p) == 0) {
			if (ro >= 0 && arq >= 0)
				forward_class_arq(gw, p, ro, arq);
			rte_free(p);
		}
	}
}
