/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Links in time: every GW_FIT_PERIOD_NS the main hook tells the scheduler
 * which links each class may use, those whose measured delay fits the
 * class's deadline (braid_link_info_fits(): half the SRTT plus RTTVAR,
 * with hysteresis). A satellite hop beside cellular links then carries
 * the classes with a long deadline and none of a short one's packets,
 * which it would deliver only after the receiver gave up on them.
 *
 * A class whose links in time cannot carry it is in shortfall: its queue
 * holds more than half its deadline at the rate it drains, or tail-drops,
 * or no link in time is up and it goes out late on the others (the
 * scheduler's sent_unfit). That is a counter, a warning in the log
 * and in "status", until GW_FIT_CLEAR_NS pass without any of them. The
 * deadline is the one in force (gw_class_deadline_now(): a live change of
 * a class's ARQ deadline moves its links at the next tick).
 */
#include <stdio.h>
#include <string.h>

#include "gw_priv.h"

#define GW_FIT_PERIOD_NS (250ull * 1000 * 1000)
#define GW_FIT_CLEAR_NS (2000ull * 1000 * 1000)

static uint32_t
all_links(const struct braid_gateway *gw)
{
	return gw->cfg.n_links >= 32 ? UINT32_MAX : (1U << gw->cfg.n_links) - 1;
}

void
gw_fit_init(struct braid_gateway *gw)
{
	memset(&gw->fit, 0, sizeof(gw->fit));
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		gw->fit.cls[k].mask = all_links(gw);
}

/* "wan0, wan1" of the links in @p mask. */
static void
link_names(const struct braid_gateway *gw, uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint16_t l = 0; l < gw->cfg.n_links && off < len; l++)
		if ((mask >> l) & 1)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off != 0 ? ", " : "", gw->cfg.links[l].name);
	if (off == 0)
		snprintf(buf, len, "none");
}

/* The links of class @p k in time now, from what link health measured. */
static uint32_t
fit_mask(const struct braid_gateway *gw, uint16_t k, uint32_t prev)
{
	uint64_t deadline_us = gw_class_deadline_now(gw, k) / 1000;
	uint32_t mask = 0;

	for (uint16_t l = 0; l < gw->cfg.n_links; l++) {
		struct braid_link_info li;
		bool was = (prev >> l) & 1;

		if (braid_link_info_get(gw->link, l, &li) != 0)
			continue;
		if (braid_link_info_fits(&li, deadline_us, was))
			mask |= 1U << l;
	}
	return mask;
}

static void
class_tick(struct braid_gateway *gw, uint16_t k, uint64_t now_ns)
{
	const struct braid_config_class *cc = &gw->cfg.classes[k];
	struct gw_fit_class *f = &gw->fit.cls[k];
	struct braid_sched_class_stats st;
	uint32_t mask = fit_mask(gw, k, f->mask);
	uint64_t drops, late, sent;
	unsigned int backlog;
	bool slow;
	char names[160];

	/* None in time: all of them (the scheduler refuses an empty mask);
	 * whatever goes out then is late, counted below. */
	if (mask == 0)
		mask = all_links(gw);
	if (mask != f->mask) {
		struct braid_sched_cmd c = { .op = BRAID_SCHED_CMD_CLASS_FIT, .id = k,
					     .class_fit = { mask } };

		if (braid_runner_cmd_send(gw->runner, gw->stage_id[GW_CMD_SCHED], &c) != 0) {
			f->send_failed++;
		} else {
			link_names(gw, mask, names, sizeof(names));
			GW_LOG(INFO, "gateway %s: class %s: links in time for its %.0f ms deadline: %s",
			       gw->cfg.name, cc->name, gw_class_deadline_now(gw, k) / 1e6, names);
			f->mask = mask;
			f->changes++;
		}
	}
	if (braid_sched_class_stats(gw->sched, k, &st) != 0)
		return;
	drops = st.drop_queue_full - f->drops;
	late = st.sent_unfit - f->late;
	sent = st.dequeued - f->dequeued;
	f->drops = st.drop_queue_full;
	f->late = st.sent_unfit;
	f->dequeued = st.dequeued;
	/* The queue's wait at the rate it drains: more than half the
	 * deadline, and the packets at its tail are late (the queue is far
	 * from full: 4096 packets hold seconds of a video stream). */
	backlog = braid_sched_class_backlog(gw->sched, k);
	slow = backlog != 0 && (double)backlog * (double)GW_FIT_PERIOD_NS >
		(double)sent * (double)gw_class_deadline_now(gw, k) / 2;
	if (drops == 0 && late == 0 && !slow) {
		if (f->shortfall && now_ns - f->last_short_ns >= GW_FIT_CLEAR_NS) {
			__atomic_store_n(&f->shortfall, false, __ATOMIC_RELAXED);
			GW_LOG(NOTICE, "gateway %s: class %s: its links carry it again",
			       gw->cfg.name, cc->name);
		}
		return;
	}
	f->last_short_ns = now_ns;
	if (f->shortfall)
		return;
	__atomic_store_n(&f->shortfall, true, __ATOMIC_RELAXED);
	__atomic_fetch_add(&f->shortfalls, 1, __ATOMIC_RELAXED);
	link_names(gw, f->mask, names, sizeof(names));
	if (late != 0)
		GW_LOG(WARNING, "gateway %s: class %s: no link in time for its %.0f ms deadline "
		       "is up: %" PRIu64 " packets sent on slower links", gw->cfg.name, cc->name,
		       gw_class_deadline_now(gw, k) / 1e6, late);
	else
		GW_LOG(WARNING, "gateway %s: class %s: its links in time (%s) cannot carry it: "
		       "%u packets queued, %" PRIu64 " sent and %" PRIu64 " dropped for a full "
		       "queue in %.0f ms", gw->cfg.name, cc->name, names, backlog, sent, drops,
		       GW_FIT_PERIOD_NS / 1e6);
}

void
gw_fit_tick(struct braid_gateway *gw, uint64_t now_ns)
{
	if (gw->fit.last_ns != 0 && now_ns - gw->fit.last_ns < GW_FIT_PERIOD_NS)
		return;
	gw->fit.last_ns = now_ns;
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		class_tick(gw, k, now_ns);
}

const struct gw_fit_class *
gw_fit_class(const struct braid_gateway *gw, uint16_t k)
{
	return k < gw->cfg.n_classes ? &gw->fit.cls[k] : NULL;
}
