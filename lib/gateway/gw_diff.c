/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live changes: the table of settings that change while the gateway runs,
 * and the typed commands that carry a change to the stages that own it.
 *
 * A configuration change (config.apply, links.set, classes.set) is
 * validated by the loader, diffed as JSON against the running copy
 * (gw_live.c); every changed path must be one of this table's, and the
 * structs must differ in these fields only. Each entry then turns the
 * change of one link or class into commands for the stages' control
 * channels (lib/engine's runner), all queued or none.
 *
 * Adding a live setting (doc/architecture.md): the key in lib/config, a
 * command in the owning stage's library (struct braid_<stage>_cmd and its
 * apply), and one entry here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gw_priv.h"

/* What one entry sees: the change and where its commands go. */
struct diff_ctx {
	const struct braid_gateway *gw;
	const struct braid_config *cur;
	const struct braid_config *next;
	struct gw_cmd_batch *batch;
};

/* One live setting of links[i] or classes[i]. */
struct live_setting {
	bool of_class;              /* classes[i], else links[i] */
	const char *keys[3];        /* members; objects fold ("fec.k" -> "fec") */
	/* Copy the setting of element @i from @cur into @x (NULL: an entry
	 * that only adds a second pass of commands to the one before). */
	void (*keep)(struct braid_config *x, const struct braid_config *cur, uint16_t i);
	/* Queue the commands that change element @i from cur to next. */
	int (*commands)(struct diff_ctx *d, uint16_t i);
};

/* ---- the batch ------------------------------------------------------------ */

static int
add(struct diff_ctx *d, enum gw_cmd_stage stage, const void *cmd, size_t size)
{
	struct gw_cmd_batch *b = d->batch;

	if (b->n == RTE_DIM(b->cmd))
		return -ENOSPC;
	memset(&b->cmd[b->n], 0, sizeof(b->cmd[b->n]));
	memcpy(&b->cmd[b->n], cmd, size);
	b->ref[b->n] = (struct braid_cmd_ref){ d->gw->stage_id[stage], &b->cmd[b->n] };
	b->n++;
	return 0;
}

static int
add_sched(struct diff_ctx *d, const struct braid_sched_cmd *c)
{
	return add(d, GW_CMD_SCHED, c, sizeof(*c));
}

int
gw_cmd_batch_send(struct braid_gateway *gw, const struct gw_cmd_batch *b)
{
	if (b->n == 0)
		return 0;
	return braid_runner_cmd_send_all(gw->runner, b->ref, b->n);
}

/* ---- links[i] ----------------------------------------------------------- */

static void
keep_link_weight(struct braid_config *x, const struct braid_config *cur, uint16_t l)
{
	x->links[l].weight = cur->links[l].weight;
}

static int
link_weight(struct diff_ctx *d, uint16_t l)
{
	if (d->cur->links[l].weight == d->next->links[l].weight)
		return 0;
	return add_sched(d, &(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_LINK_WEIGHT,
		.id = l, .link_weight.factor_permille = gw_link_factor(d->next->links[l].weight) });
}

static void
keep_link_capacity(struct braid_config *x, const struct braid_config *cur, uint16_t l)
{
	x->links[l].capacity_kbps = cur->links[l].capacity_kbps;
}

/* Link health's configured capacity (its usable capacity follows and
 * reaches sched through the change callback), and sched's rate at once. */
static int
link_capacity(struct diff_ctx *d, uint16_t l)
{
	uint64_t kbps = d->next->links[l].capacity_kbps;
	int ret;

	if (d->cur->links[l].capacity_kbps == kbps)
		return 0;
	ret = add(d, GW_CMD_LINK_HEALTH, &(struct braid_link_cmd){ .op = BRAID_LINK_CMD_CAPACITY,
		  .link = l, .capacity_kbps = kbps }, sizeof(struct braid_link_cmd));
	return ret != 0 ? ret : add_sched(d, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_LINK_CAPACITY, .id = l,
		.link_capacity.capacity_kbps = kbps });
}

static void
keep_link_admin(struct braid_config *x, const struct braid_config *cur, uint16_t l)
{
	x->links[l].admin_up = cur->links[l].admin_up;
}

static int
link_admin(struct diff_ctx *d, uint16_t l)
{
	if (d->cur->links[l].admin_up == d->next->links[l].admin_up)
		return 0;
	return add(d, GW_CMD_LINK_HEALTH, &(struct braid_link_cmd){ .op = BRAID_LINK_CMD_ADMIN,
		   .link = l, .admin_down = !d->next->links[l].admin_up },
		   sizeof(struct braid_link_cmd));
}

static void
keep_link_backup(struct braid_config *x, const struct braid_config *cur, uint16_t l)
{
	x->links[l].backup = cur->links[l].backup;
}

static int
link_backup(struct diff_ctx *d, uint16_t l)
{
	if (d->cur->links[l].backup == d->next->links[l].backup)
		return 0;
	return add_sched(d, &(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_LINK_BACKUP,
		.id = l, .link_backup.backup = d->next->links[l].backup });
}

/* ---- classes[i] --------------------------------------------------------- */

static void
keep_class_weight(struct braid_config *x, const struct braid_config *cur, uint16_t k)
{
	x->classes[k].weight = cur->classes[k].weight;
}

static int
class_weight(struct diff_ctx *d, uint16_t k)
{
	if (d->cur->classes[k].weight == d->next->classes[k].weight)
		return 0;
	return add_sched(d, &(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_CLASS_WEIGHT,
		.id = k, .class_weight.weight = d->next->classes[k].weight });
}

static void
keep_class_fec(struct braid_config *x, const struct braid_config *cur, uint16_t k)
{
	x->classes[k].fec_enabled = cur->classes[k].fec_enabled;
	x->classes[k].fec_k = cur->classes[k].fec_k;
	x->classes[k].fec_m = cur->classes[k].fec_m;
	x->classes[k].fec_auto = cur->classes[k].fec_auto;
	x->classes[k].fec_max_overhead_pct = cur->classes[k].fec_max_overhead_pct;
}

/* The encoder builds the new blocks; the scheduler reserves the links'
 * share of their parity, so it must know the new ratio. A class with
 * "fec": "auto", or becoming one, is refused (-EOPNOTSUPP): a restart. It grows
 * default-sized link buckets for a larger one; a bucket given a size
 * cannot grow (the gateway sets none today): -ERANGE. */
static int
class_fec(struct diff_ctx *d, uint16_t k)
{
	const struct braid_config_class *a = &d->cur->classes[k], *b = &d->next->classes[k];
	uint8_t fk = b->fec_enabled ? b->fec_k : 0, fm = b->fec_enabled ? b->fec_m : 0;
	struct braid_fec_enc_cmd cmd = { 0 };
	int ret;

	if (a->fec_enabled == b->fec_enabled && a->fec_k == b->fec_k && a->fec_m == b->fec_m &&
	    a->fec_auto == b->fec_auto && a->fec_max_overhead_pct == b->fec_max_overhead_pct)
		return 0;
	/* An automatic class's shape is braid's (gw_fec_auto.c). */
	if (a->fec_auto || b->fec_auto)
		return -EOPNOTSUPP;
	if (!braid_sched_class_fec_fits(d->gw->sched, fk, fm))
		return -ERANGE;
	cmd.op = BRAID_FEC_ENC_CMD_CLASS;
	cmd.class_id = k;
	gw_fec_shape(d->next, k, &cmd.shape);
	ret = add(d, GW_CMD_FEC, &cmd, sizeof(cmd));
	return ret != 0 ? ret : add_sched(d, &(struct braid_sched_cmd){
		.op = BRAID_SCHED_CMD_CLASS_FEC, .id = k, .class_fec = { fk, fm } });
}

static void
keep_class_priority(struct braid_config *x, const struct braid_config *cur, uint16_t k)
{
	x->classes[k].priority = cur->classes[k].priority;
	x->classes[k].rate_cap_kbps = cur->classes[k].rate_cap_kbps;
}

/* Priority moves between classes: every class that gives it up does so
 * (first entry) before one takes it (second entry). */
static int
class_priority_pass(struct diff_ctx *d, uint16_t k, bool on)
{
	const struct braid_config_class *a = &d->cur->classes[k], *b = &d->next->classes[k];

	if (b->priority != on || (a->priority == b->priority &&
				  (!b->priority || a->rate_cap_kbps == b->rate_cap_kbps)))
		return 0;
	return add_sched(d, &(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_CLASS_PRIORITY,
		.id = k, .class_priority = { b->priority, b->rate_cap_kbps } });
}

static int
class_priority_off(struct diff_ctx *d, uint16_t k)
{
	return class_priority_pass(d, k, false);
}

static int
class_priority_on(struct diff_ctx *d, uint16_t k)
{
	return class_priority_pass(d, k, true);
}

static void
keep_class_policy(struct braid_config *x, const struct braid_config *cur, uint16_t k)
{
	x->classes[k].policy = cur->classes[k].policy;
	x->classes[k].copies = cur->classes[k].copies;
	x->classes[k].n_pin = cur->classes[k].n_pin;
	memcpy(x->classes[k].pin, cur->classes[k].pin, sizeof(x->classes[k].pin));
}

static int
class_policy(struct diff_ctx *d, uint16_t k)
{
	const struct braid_config_class *a = &d->cur->classes[k], *b = &d->next->classes[k];
	uint32_t ma, mb;
	enum braid_sched_policy pa = gw_sched_policy(a, &ma), pb = gw_sched_policy(b, &mb);

	if (pa == pb && ma == mb && (pb != BRAID_SCHED_DUPLICATE || a->copies == b->copies))
		return 0;
	return add_sched(d, &(struct braid_sched_cmd){ .op = BRAID_SCHED_CMD_CLASS_POLICY,
		.id = k, .class_policy = { .policy = pb, .link_mask = mb,
		.dup_copies = pb == BRAID_SCHED_DUPLICATE ? b->copies : 0 } });
}

static void
keep_class_arq(struct braid_config *x, const struct braid_config *cur, uint16_t k)
{
	x->classes[k].arq_enabled = cur->classes[k].arq_enabled;
	x->classes[k].arq_deadline_ms = cur->classes[k].arq_deadline_ms;
}

/* Sender half: the cache (rtx) and the ARQ sender's deadline (ctrl, on
 * rtx's lcore); receiver half: reorder's deadline and the NACKs (arq_rx). */
static int
class_arq(struct diff_ctx *d, uint16_t k)
{
	const struct braid_config_class *a = &d->cur->classes[k], *b = &d->next->classes[k];
	int ret;

	if (a->arq_enabled == b->arq_enabled && a->arq_deadline_ms == b->arq_deadline_ms)
		return 0;
	ret = add(d, GW_CMD_RTX, &(struct braid_rtx_cmd){ .op = BRAID_RTX_CMD_CLASS_ENABLE,
		  .class_id = k, .enable = b->arq_enabled }, sizeof(struct braid_rtx_cmd));
	if (ret == 0)
		ret = add(d, GW_CMD_CTRL, &(struct braid_arq_tx_cmd){
			  .op = BRAID_ARQ_TX_CMD_CLASS_DEADLINE, .class_id = k,
			  .deadline_ns = b->arq_enabled ?
					 (uint64_t)b->arq_deadline_ms * 1000000ULL : 0 },
			  sizeof(struct braid_arq_tx_cmd));
	if (ret == 0)
		ret = add(d, GW_CMD_REORDER, &(struct braid_reorder_cmd){
			  .op = BRAID_REORDER_CMD_DEADLINE, .class_id = k,
			  .deadline_ns = gw_class_deadline_ns(d->next, k) },
			  sizeof(struct braid_reorder_cmd));
	if (ret == 0)
		ret = add(d, GW_CMD_ARQ_RX, &(struct braid_arq_rx_cmd){
			  .op = BRAID_ARQ_RX_CMD_ENABLE, .class_id = k,
			  .enable = b->arq_enabled }, sizeof(struct braid_arq_rx_cmd));
	return ret;
}

/* ---- the table ------------------------------------------------------------- */

static const struct live_setting live_settings[] = {
	{ false, { "weight" }, keep_link_weight, link_weight },
	{ false, { "capacity_kbps" }, keep_link_capacity, link_capacity },
	{ false, { "admin" }, keep_link_admin, link_admin },
	{ false, { "backup" }, keep_link_backup, link_backup },
	{ true, { "weight" }, keep_class_weight, class_weight },
	{ true, { "fec" }, keep_class_fec, class_fec },
	{ true, { "priority", "rate_cap_kbps" }, keep_class_priority, class_priority_off },
	{ true, { NULL }, NULL, class_priority_on },
	{ true, { "policy" }, keep_class_policy, class_policy },
	{ true, { "arq" }, keep_class_arq, class_arq },
};

bool
gw_diff_live_key(bool of_class, const char *key)
{
	for (unsigned int e = 0; e < RTE_DIM(live_settings); e++)
		for (unsigned int j = 0; j < RTE_DIM(live_settings[e].keys) &&
		     live_settings[e].keys[j] != NULL; j++)
			if (live_settings[e].of_class == of_class &&
			    strcmp(live_settings[e].keys[j], key) == 0)
				return true;
	return false;
}

bool
gw_diff_path_is_live(const char *path, char *norm, size_t len)
{
	unsigned int idx;
	bool of_class;
	int n = 0;

	snprintf(norm, len, "%s", path);
	if (sscanf(path, "links[%u].%n", &idx, &n) == 1 && n > 0)
		of_class = false;
	else if (n = 0, sscanf(path, "classes[%u].%n", &idx, &n) == 1 && n > 0)
		of_class = true;
	else
		return false;
	for (unsigned int e = 0; e < RTE_DIM(live_settings); e++) {
		const struct live_setting *ls = &live_settings[e];

		if (ls->of_class != of_class)
			continue;
		for (unsigned int j = 0; j < RTE_DIM(ls->keys) && ls->keys[j] != NULL; j++) {
			size_t kl = strlen(ls->keys[j]);

			if (strncmp(path + n, ls->keys[j], kl) != 0 ||
			    (path[n + kl] != '\0' && path[n + kl] != '.'))
				continue;
			snprintf(norm, len, "%s[%u].%s", of_class ? "classes" : "links",
				 idx, ls->keys[j]);
			return true;
		}
	}
	return false;
}

void
gw_diff_keep_live(struct braid_config *x, const struct braid_config *cur)
{
	for (unsigned int e = 0; e < RTE_DIM(live_settings); e++) {
		const struct live_setting *ls = &live_settings[e];
		uint16_t n = ls->of_class ? RTE_MIN(x->n_classes, cur->n_classes) :
				RTE_MIN(x->n_links, cur->n_links);

		for (uint16_t i = 0; ls->keep != NULL && i < n; i++)
			ls->keep(x, cur, i);
	}
}

int
gw_diff_commands(const struct braid_gateway *gw, const struct braid_config *cur,
		 const struct braid_config *next, struct gw_cmd_batch *batch)
{
	struct diff_ctx d = { gw, cur, next, batch };
	int ret = 0;

	batch->n = 0;
	for (unsigned int e = 0; ret == 0 && e < RTE_DIM(live_settings); e++) {
		const struct live_setting *ls = &live_settings[e];
		uint16_t n = ls->of_class ? next->n_classes : next->n_links;

		for (uint16_t i = 0; ret == 0 && i < n; i++)
			ret = ls->commands(&d, i);
	}
	return ret;
}

enum braid_sched_policy
gw_sched_policy(const struct braid_config_class *c, uint32_t *link_mask)
{
	*link_mask = 0;
	switch (c->policy) {
	case BRAID_POLICY_DUPLICATE:
		return BRAID_SCHED_DUPLICATE;
	case BRAID_POLICY_PIN:
		for (unsigned int p = 0; p < c->n_pin; p++)
			*link_mask |= 1u << c->pin[p];
		return BRAID_SCHED_PIN;
	default:
		return BRAID_SCHED_STRIPE;
	}
}
