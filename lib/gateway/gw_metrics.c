/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats walker (braid_mgmt_set_stats_walker()): every counter of the
 * gateway as a Prometheus sample, for the metrics port and DPDK
 * telemetry. It runs in the management thread or in DPDK's telemetry
 * thread (serialised by lib/mgmt) and only reads: counters, link health's
 * published snapshots, scheduler backlogs.
 *
 * Two sources: braid_gateway_stats_walk()'s counters, whose owner, name
 * and labels (class, link: struct braid_stat_labels) become a metric name
 * and labels (walk_counter()), and the gateway's own series of link
 * health, class queues and recoveries (walk_gateway()). The samples are
 * sorted, those of the same name and labels summed, then emitted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "gw_mgmt_priv.h"

/* ---- samples ------------------------------------------------------------ */

#define WALK_MAX_LABELS 4

struct wsample {
	char name[96];
	unsigned int n_labels;
	char lname[WALK_MAX_LABELS][12];
	char lval[WALK_MAX_LABELS][40];
	double value;
	enum braid_mgmt_metric type;
	const char *help;
};

struct walk {
	const struct braid_gateway *gw;
	struct wsample *s;
	size_t n, cap;
};

static struct wsample *
walk_add(struct walk *w, enum braid_mgmt_metric type, double value, const char *help)
{
	struct wsample *s;

	if (w->n == w->cap) {
		size_t cap = w->cap != 0 ? 2 * w->cap : 512;
		struct wsample *p = realloc(w->s, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		w->s = p;
		w->cap = cap;
	}
	s = &w->s[w->n++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->value = value;
	s->help = help;
	return s;
}

static void
label(struct wsample *s, const char *name, const char *value)
{
	if (s->n_labels == WALK_MAX_LABELS)
		return;
	snprintf(s->lname[s->n_labels], sizeof(s->lname[0]), "%s", name);
	snprintf(s->lval[s->n_labels], sizeof(s->lval[0]), "%s", value);
	s->n_labels++;
}

/* ---- counter names -> Prometheus names -------------------------------------
 *
 * Stages report counters under bare names ("enqueued", "drop_no_mbuf",
 * "ring_count", "wait_us"), with the class or link as labels (struct
 * braid_stat_labels). What is left to read from a name: whether it is a
 * drop ("drop_<reason>"), one of the few gauges (stage_gauge()) and its
 * unit ("pkts", "_us", "_ns": base_units()).
 */

/* Counters reported by stages that are levels, not event counts. */
static const char *
stage_gauge(const char *name)
{
	static const char *const g[][2] = {
		{ "ring_count", "braid_stage_ring_packets" },
		{ "ring_size", "braid_stage_ring_capacity_packets" },
		{ "held", "braid_stage_held_packets" },
		{ "cached", "braid_stage_cached_packets" },
	};

	for (unsigned int i = 0; i < RTE_DIM(g); i++)
		if (strcmp(name, g[i][0]) == 0)
			return g[i][1];
	return NULL;
}

/* Counter name in base units: "pkts" -> "packets", "_us"/"_ns" ->
 * "_seconds" (@p scale set). */
static void
base_units(const char *name, char *out, size_t len, double *scale)
{
	size_t n = strlen(name), o = 0;

	*scale = 1.0;
	if (n > 3 && strcmp(name + n - 3, "_us") == 0) {
		*scale = 1e-6;
		n -= 3;
	} else if (n > 3 && strcmp(name + n - 3, "_ns") == 0) {
		*scale = 1e-9;
		n -= 3;
	}
	for (size_t i = 0; i < n && o + 1 < len; ) {
		bool word = (i == 0 || name[i - 1] == '_') && strncmp(name + i, "pkts", 4) == 0 &&
			    (i + 4 == n || name[i + 4] == '_');

		if (word) {
			o += (size_t)snprintf(out + o, len - o, "packets");
			i += 4;
		} else {
			out[o++] = name[i++];
		}
	}
	out[RTE_MIN(o, len - 1)] = '\0';
	if (*scale != 1.0 && o + 8 < len)
		snprintf(out + strlen(out), len - strlen(out), "_seconds");
}

/* braid_gateway_stats_walk() sample -> Prometheus name and labels. */
static void
walk_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, const struct braid_stat_labels *labels, uint64_t value)
{
	struct walk *w = arg;
	const struct braid_config *c = &w->gw->cfg;
	const char *family, *lkey, *gauge = NULL;
	const char *xlabel = NULL, *xvalue = NULL;
	char what[80], xbuf[16];
	double scale = 1.0;
	struct wsample *s;

	switch (scope) {
	case BRAID_STATS_PORT:
		family = "port";
		lkey = "port";
		break;
	case BRAID_STATS_LCORE:
		family = "lcore";
		lkey = "lcore";
		if (strncmp(owner, "lcore", 5) == 0)
			owner += 5;
		break;
	default:
		family = "stage";
		lkey = "stage";
		/* Per-class and per-link counters of a stage. */
		if (labels != NULL && labels->class_id >= 0) {
			xlabel = "class";
			if (labels->class_id < c->n_classes) {
				xvalue = c->classes[labels->class_id].name;
			} else {
				snprintf(xbuf, sizeof(xbuf), "%d", (int)labels->class_id);
				xvalue = xbuf;
			}
		} else if (labels != NULL && labels->link_id >= 0) {
			xlabel = "link";
			if (labels->link_id < c->n_links) {
				xvalue = c->links[labels->link_id].name;
			} else {
				snprintf(xbuf, sizeof(xbuf), "%d", (int)labels->link_id);
				xvalue = xbuf;
			}
		}
		gauge = stage_gauge(name);
		break;
	}
	if (strncmp(name, "drop_", 5) == 0) {
		snprintf(what, sizeof(what), "braid_%s_dropped_packets_total", family);
		s = walk_add(w, BRAID_MGMT_COUNTER, (double)value,
			     scope == BRAID_STATS_PORT ? "Packets a port dropped, by reason" :
			     "Packets a stage freed, by reason (its drop_<reason> counter)");
	} else if (gauge != NULL) {
		snprintf(what, sizeof(what), "%s", gauge);
		s = walk_add(w, BRAID_MGMT_GAUGE, (double)value, "Packets a stage holds now");
	} else if (scope == BRAID_STATS_LCORE && strcmp(name, "loop_late_max_us") == 0) {
		snprintf(what, sizeof(what), "braid_lcore_loop_late_max_seconds");
		s = walk_add(w, BRAID_MGMT_GAUGE, (double)value * 1e-6,
			     "Longest an lcore loop started past its plan (preemption, slow call)");
	} else {
		char unit[64];

		base_units(name, unit, sizeof(unit), &scale);
		snprintf(what, sizeof(what), "braid_%s_%s_total", family, unit);
		s = walk_add(w, BRAID_MGMT_COUNTER, (double)value * scale,
			     scope == BRAID_STATS_PORT ? "Port counter (ethdev stats)" :
			     scope == BRAID_STATS_LCORE ? "Lcore loop counter" :
			     "Stage counter");
	}
	if (s == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "%s", what);
	label(s, lkey, owner);
	if (xlabel != NULL)
		label(s, xlabel, xvalue);
	if (strncmp(name, "drop_", 5) == 0)
		label(s, "reason", name + 5);
}

/* ---- the gateway's own series ------------------------------------------- */

static void
walk_one(struct walk *w, const char *name, const char *lkey, const char *lval,
	 enum braid_mgmt_metric type, double value, const char *help)
{
	struct wsample *s = walk_add(w, type, value, help);

	if (s == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "%s", name);
	label(s, lkey, lval);
}

/* Link health and per-link transmit counters, class gauges, recoveries. */
/* braid_link_loss_ratio{link, direction} of link @p ln. */
static void
walk_loss(struct walk *w, const char *ln, const char *dir, uint32_t ppm)
{
	struct wsample *s = walk_add(w, BRAID_MGMT_GAUGE, ppm / 1e6,
				     "Loss ratio over the health window");

	if (s == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "braid_link_loss_ratio");
	label(s, "link", ln);
	label(s, "direction", dir);
}

/* "fec": "auto" classes: the shape in use and its changes. */
static void
walk_fec_auto(struct walk *w, uint16_t k, const char *cn)
{
	const struct gw_fec_auto_class *a = gw_fec_auto_class(w->gw, k);

	if (a == NULL)
		return;
	walk_one(w, "braid_class_fec_data_per_block", "class", cn, BRAID_MGMT_GAUGE,
		 a->ctl.cur.k, "FEC data packets per block braid chose (fec auto)");
	walk_one(w, "braid_class_fec_parity_per_block", "class", cn, BRAID_MGMT_GAUGE,
		 a->ctl.cur.m, "FEC parity packets per block braid chose (fec auto)");
	walk_one(w, "braid_class_fec_shape_changes_total", "class", cn, BRAID_MGMT_COUNTER,
		 (double)a->changes, "FEC shape changes braid made (fec auto)");
}

/* Links in time for the class's deadline, and its shortfalls. */
static void
walk_fit(struct walk *w, uint16_t k, const char *cn)
{
	const struct gw_fit_class *f = gw_fit_class(w->gw, k);

	if (f == NULL)
		return;
	walk_one(w, "braid_class_links_in_time", "class", cn, BRAID_MGMT_GAUGE,
		 __builtin_popcount(braid_sched_class_fit(w->gw->sched, k)),
		 "Links whose delay fits the class's deadline (the links it uses)");
	walk_one(w, "braid_class_shortfalls_total", "class", cn, BRAID_MGMT_COUNTER,
		 (double)__atomic_load_n(&f->shortfalls, __ATOMIC_RELAXED),
		 "Times the class's links in time could not carry it (drops or late)");
}

static void
walk_gateway(struct walk *w, const struct gw_mgmt *m)
{
	const struct braid_gateway *gw = w->gw;
	const struct braid_config *c = &gw->cfg;

	for (uint16_t l = 0; l < c->n_links; l++) {
		const char *ln = c->links[l].name;
		struct braid_link_info li;
		struct braid_encap_link_stats es;
		bool up;

		if (braid_encap_link_stats(gw->encap, l, &es) == 0) {
			walk_one(w, "braid_link_tx_packets_total", "link", ln, BRAID_MGMT_COUNTER,
				 (double)es.frames, "Frames sent on a link (data, parity, "
				 "retransmissions, control)");
			walk_one(w, "braid_link_tx_bytes_total", "link", ln, BRAID_MGMT_COUNTER,
				 (double)es.bytes, "Frame bytes sent on a link");
		}
		if (braid_link_info_get(gw->link, l, &li) != 0)
			continue;
		up = li.state == BRAID_LINK_UP || li.state == BRAID_LINK_DEGRADED;
		walk_one(w, "braid_link_up", "link", ln, BRAID_MGMT_GAUGE, up ? 1 : 0,
			 "1 when link health has the link up or degraded");
		walk_one(w, "braid_link_degraded", "link", ln, BRAID_MGMT_GAUGE,
			 li.state == BRAID_LINK_DEGRADED ? 1 : 0,
			 "1 when the link is degraded (loss or RTT above the thresholds)");
		walk_one(w, "braid_link_admin_up", "link", ln, BRAID_MGMT_GAUGE,
			 li.state == BRAID_LINK_ADMIN_DOWN ? 0 : 1,
			 "0 when the link is administratively down");
		walk_one(w, "braid_link_usable_capacity_bits_per_second", "link", ln,
			 BRAID_MGMT_GAUGE, (double)li.usable_kbps * 1000.0,
			 "Capacity the scheduler may use on the link (link health)");
		walk_one(w, "braid_link_capacity_bits_per_second", "link", ln,
			 BRAID_MGMT_GAUGE, (double)li.capacity_kbps * 1000.0,
			 "Configured capacity of the link");
		walk_one(w, "braid_link_estimated_capacity_bits_per_second", "link", ln,
			 BRAID_MGMT_GAUGE, (double)li.estimated_kbps * 1000.0,
			 "What the link's queue says it carries (at most the configured)");
		walk_one(w, "braid_link_queue_delay_seconds", "link", ln, BRAID_MGMT_GAUGE,
			 li.queue_us / 1e6, "Our direction's queueing delay (last probe)");
		walk_one(w, "braid_link_capacity_cuts_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.capacity_cuts, "Times the queue lowered the estimate");
		if (li.rtt_min_us != 0) {
			walk_one(w, "braid_link_rtt_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.srtt_us / 1e6, "Smoothed round-trip time");
			walk_one(w, "braid_link_rtt_min_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.rtt_min_us / 1e6, "Windowed minimum round-trip time");
		}
		if (li.rx_packets > 1)
			walk_one(w, "braid_link_jitter_seconds", "link", ln, BRAID_MGMT_GAUGE,
				 li.jitter_us / 1e6, "Interarrival jitter (RFC 3550)");
		if (li.rx_packets > 0)
			walk_loss(w, ln, "rx", li.rx_loss_ppm);
		if (li.peer_rx_packets + li.peer_lost > 0)
			walk_loss(w, ln, "tx", li.tx_loss_ppm);
		walk_one(w, "braid_link_probes_sent_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.probes_sent, "Health probes sent");
		walk_one(w, "braid_link_probes_lost_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.probes_lost, "Health probes never answered");
		walk_one(w, "braid_link_state_changes_total", "link", ln, BRAID_MGMT_COUNTER,
			 (double)li.state_changes, "Link state changes");
	}
	for (uint16_t k = 0; k < c->n_classes; k++) {
		const char *cn = c->classes[k].name;
		struct braid_fec_dec_class_stats fs;
		struct braid_reorder_class_info ri;
		unsigned int q = RTE_MIN(braid_sched_class_backlog(gw->sched, k),
					 c->classes[k].queue_packets);

		walk_one(w, "braid_class_queue_packets", "class", cn, BRAID_MGMT_GAUGE, q,
			 "Packets waiting in the class queue of the scheduler");
		walk_one(w, "braid_class_queue_capacity_packets", "class", cn,
			 BRAID_MGMT_GAUGE, c->classes[k].queue_packets,
			 "Size of the class queue");
		if (braid_fec_dec_class_stats(gw->fec_dec, k, &fs) == 0)
			walk_one(w, "braid_fec_recovered_packets_total", "class", cn,
				 BRAID_MGMT_COUNTER, (double)fs.pieces_recovered,
				 "Lost packets rebuilt by the FEC decoder");
		walk_one(w, "braid_arq_recovered_packets_total", "class", cn, BRAID_MGMT_COUNTER,
			 (double)braid_arq_rx_recovered(gw->arq_rx, k),
			 "Retransmitted packets delivered in order (each filled a gap)");
		if (braid_reorder_class_info(gw->reorder, k, &ri) == 0)
			walk_one(w, "braid_class_lost_packets_total", "class", cn,
				 BRAID_MGMT_COUNTER, (double)ri.lost,
				 "Packets of the class the receiver gave up on (never delivered)");
		walk_fec_auto(w, k, cn);
		walk_fit(w, k, cn);
	}
	walk_one(w, "braid_config_generation", "gateway", c->name, BRAID_MGMT_GAUGE,
		 (double)__atomic_load_n(&m->generation, __ATOMIC_RELAXED),
		 "Successful config.apply calls since start");
	walk_one(w, "braid_mbufs_in_use", "gateway", c->name, BRAID_MGMT_GAUGE,
		 braid_gateway_mbufs_in_use(gw), "Mbufs in use across the gateway's pools");
}

/* ---- sum, sort, emit ---------------------------------------------------- */

static int
sample_cmp(const void *pa, const void *pb)
{
	const struct wsample *a = pa, *b = pb;
	int d = strcmp(a->name, b->name);

	if (d != 0)
		return d;
	if (a->n_labels != b->n_labels)
		return a->n_labels < b->n_labels ? -1 : 1;
	for (unsigned int i = 0; i < a->n_labels; i++) {
		d = strcmp(a->lname[i], b->lname[i]);
		if (d == 0)
			d = strcmp(a->lval[i], b->lval[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

void
gw_metrics_walk(void *arg, braid_mgmt_emit_fn emit, void *emit_arg)
{
	const struct gw_mgmt *m = arg;
	struct walk w = { .gw = m->gw };

	braid_gateway_stats_walk(m->gw, walk_counter, &w);
	walk_gateway(&w, m);
	/* One series per name and labels: a stage that reports the same
	 * counter from two parts (decap and link health both have
	 * drop_out_full) shows their sum. */
	qsort(w.s, w.n, sizeof(*w.s), sample_cmp);
	for (size_t i = 0; i < w.n; ) {
		struct braid_mgmt_label lb[WALK_MAX_LABELS];
		struct wsample *s = &w.s[i];
		double v = s->value;
		size_t j = i + 1;

		for (; j < w.n && sample_cmp(s, &w.s[j]) == 0; j++)
			v += w.s[j].value;
		for (unsigned int k = 0; k < s->n_labels; k++)
			lb[k] = (struct braid_mgmt_label){ s->lname[k], s->lval[k] };
		emit(emit_arg, s->name, lb, s->n_labels, v, s->type, s->help);
		i = j;
	}
	free(w.s);
}
