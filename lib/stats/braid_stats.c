/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "braid_stats.h"

struct port_prev {
	uint64_t ipackets, ibytes, opackets, obytes;
};

struct stage_prev {
	uint64_t in, out;
};

struct braid_stats_console {
	const struct braid_runner *r;
	struct braid_stats_port ports[BRAID_STATS_MAX_PORTS];
	unsigned int n_ports;
	uint64_t interval_ns;
	uint64_t last_ns;
	uint64_t first_ns;
	bool primed;
	FILE *out;
	struct port_prev pprev[BRAID_STATS_MAX_PORTS];
	struct stage_prev sprev[BRAID_MAX_STAGES];
};

/* Adapter from a stage's stats() to the walk callback. */
struct stage_walk {
	braid_stats_fn fn;
	void *arg;
	const char *owner;
};

static void
stage_sample(void *arg, const char *name, const struct braid_stat_labels *labels,
	     uint64_t value)
{
	struct stage_walk *w = arg;

	w->fn(w->arg, BRAID_STATS_STAGE, w->owner, name, labels, value);
}

int
braid_stats_name(char *buf, size_t size, const char *name,
		 const struct braid_stat_labels *labels)
{
	char cls[24] = "", link[24] = "";

	if (labels != NULL && labels->class_id >= 0)
		snprintf(cls, sizeof(cls), "class%" PRId32 "_", labels->class_id);
	if (labels != NULL && labels->link_id >= 0)
		snprintf(link, sizeof(link), "link%" PRId32 "_", labels->link_id);
	return snprintf(buf, size, "%s%s%s", cls, link, name);
}

void
braid_stats_walk(const struct braid_runner *r,
		 const struct braid_stats_port *ports, unsigned int n_ports,
		 braid_stats_fn fn, void *arg)
{
	for (unsigned int i = 0; i < n_ports; i++) {
		struct rte_eth_stats s;
		const char *p = ports[i].name;

		if (rte_eth_stats_get(ports[i].port_id, &s) != 0)
			continue;
		fn(arg, BRAID_STATS_PORT, p, "rx_packets", NULL, s.ipackets);
		fn(arg, BRAID_STATS_PORT, p, "rx_bytes", NULL, s.ibytes);
		fn(arg, BRAID_STATS_PORT, p, "tx_packets", NULL, s.opackets);
		fn(arg, BRAID_STATS_PORT, p, "tx_bytes", NULL, s.obytes);
		fn(arg, BRAID_STATS_PORT, p, "drop_rx_missed", NULL, s.imissed);
		fn(arg, BRAID_STATS_PORT, p, "drop_rx_errors", NULL, s.ierrors);
		fn(arg, BRAID_STATS_PORT, p, "drop_tx_errors", NULL, s.oerrors);
		fn(arg, BRAID_STATS_PORT, p, "drop_rx_nombuf", NULL, s.rx_nombuf);
	}
	if (r == NULL)
		return;
	for (unsigned int i = 0; i < braid_runner_stage_count(r); i++) {
		const struct braid_runner_stage *rs = braid_runner_stage_get(r, i);
		struct braid_runner_stage_stats st;
		struct stage_walk w = { fn, arg, rs->stage.name };

		if (braid_runner_stage_stats(r, i, &st) != 0)
			continue;
		fn(arg, BRAID_STATS_STAGE, w.owner, "pkts_in", NULL, st.pkts_in);
		fn(arg, BRAID_STATS_STAGE, w.owner, "pkts_out", NULL, st.pkts_out);
		fn(arg, BRAID_STATS_STAGE, w.owner, "drop_ring_full", NULL, st.drop_ring_full);
		fn(arg, BRAID_STATS_STAGE, w.owner, "drop_unrouted", NULL, st.drop_unrouted);
		fn(arg, BRAID_STATS_STAGE, w.owner, "ring_count", NULL, st.ring_count);
		fn(arg, BRAID_STATS_STAGE, w.owner, "ring_size", NULL, st.ring_size);
		if (rs->stage.ops->apply != NULL) {
			fn(arg, BRAID_STATS_STAGE, w.owner, "cmds_applied", NULL, st.cmds_applied);
			fn(arg, BRAID_STATS_STAGE, w.owner, "cmds_failed", NULL, st.cmds_failed);
			fn(arg, BRAID_STATS_STAGE, w.owner, "cmds_dropped", NULL, st.cmds_dropped);
		}
		if (rs->stage.ops->stats != NULL)
			rs->stage.ops->stats(rs->stage.ctx, stage_sample, &w);
	}
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct braid_runner_lcore_stats ls;
		char owner[16];

		if (braid_runner_lcore_stats(r, l, &ls) != 0)
			continue;
		snprintf(owner, sizeof(owner), "lcore%u", l);
		fn(arg, BRAID_STATS_LCORE, owner, "loops", NULL, ls.loops);
		fn(arg, BRAID_STATS_LCORE, owner, "busy_loops", NULL, ls.busy_loops);
		fn(arg, BRAID_STATS_LCORE, owner, "idle_sleeps", NULL, ls.idle_sleeps);
		fn(arg, BRAID_STATS_LCORE, owner, "idle_sleep_us", NULL, ls.idle_sleep_us);
		fn(arg, BRAID_STATS_LCORE, owner, "loop_late_max_us", NULL, ls.loop_late_max_us);
		fn(arg, BRAID_STATS_LCORE, owner, "stalls", NULL, ls.stalls);
	}
}

struct braid_stats_console *
braid_stats_console_create(const struct braid_runner *r,
			   const struct braid_stats_port *ports,
			   unsigned int n_ports, uint32_t interval_ms, FILE *out)
{
	struct braid_stats_console *c;

	if (r == NULL || out == NULL || n_ports > BRAID_STATS_MAX_PORTS ||
	    interval_ms == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	c = rte_zmalloc("braid_stats_console", sizeof(*c), 0);
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->r = r;
	memcpy(c->ports, ports, n_ports * sizeof(*ports));
	c->n_ports = n_ports;
	c->interval_ns = (uint64_t)interval_ms * 1000000ULL;
	c->out = out;
	return c;
}

void
braid_stats_console_free(struct braid_stats_console *c)
{
	rte_free(c);
}

static double
rate(uint64_t now, uint64_t prev, double secs)
{
	return secs > 0 ? (double)(now - prev) / secs : 0.0;
}

/* Collects non-zero drop counters into one line. */
struct drop_line {
	char buf[2048];
	size_t len;
	uint64_t total;
};

static void
drop_sample(void *arg, enum braid_stats_scope scope, const char *owner,
	    const char *name, const struct braid_stat_labels *labels, uint64_t value)
{
	struct drop_line *dl = arg;
	char flat[96];
	int n;

	RTE_SET_USED(scope);
	/* "drop_x", shown as "x", or a class's or link's, such as
	 * "class0_drop_queue_full". */
	if (value == 0 || strncmp(name, "drop_", 5) != 0)
		return;
	dl->total += value;
	if (dl->len >= sizeof(dl->buf) - 1)
		return;
	braid_stats_name(flat, sizeof(flat), labels == NULL ? name + 5 : name, labels);
	n = snprintf(dl->buf + dl->len, sizeof(dl->buf) - dl->len, " %s.%s=%" PRIu64,
		     owner, flat, value);
	if (n > 0)
		dl->len = RTE_MIN(dl->len + (size_t)n, sizeof(dl->buf) - 1);
}

/* Stalls hold every packet of an lcore back: shown so they are seen. */
static void
print_lcores(const struct braid_runner *r, FILE *f)
{
	fprintf(f, "lcores:");
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct braid_runner_lcore_stats ls;

		if (braid_runner_lcore_stats(r, l, &ls) != 0)
			continue;
		fprintf(f, " lcore%u stalls=%" PRIu64 " late_max=%.1fms", l, ls.stalls,
			(double)ls.loop_late_max_us / 1000);
	}
	fprintf(f, "\n");
}

void
braid_stats_console_print(struct braid_stats_console *c, uint64_t now_ns)
{
	double secs = c->primed ? (double)(now_ns - c->last_ns) / 1e9 : 0.0;
	struct drop_line drops = { .len = 0 };
	FILE *f = c->out;

	if (!c->primed)
		c->first_ns = now_ns;
	fprintf(f, "\n-- braid  t=%.1fs --------------------------------------------------------\n",
		(double)(now_ns - c->first_ns) / 1e9);
	fprintf(f, "%-10s %12s %12s %12s %12s %10s %10s\n", "port", "rx pps",
		"rx Mbit/s", "tx pps", "tx Mbit/s", "rx missed", "errors");
	for (unsigned int i = 0; i < c->n_ports; i++) {
		struct rte_eth_stats s;
		struct port_prev *p = &c->pprev[i];

		if (rte_eth_stats_get(c->ports[i].port_id, &s) != 0)
			continue;
		if (!c->primed)
			*p = (struct port_prev){ s.ipackets, s.ibytes, s.opackets, s.obytes };
		fprintf(f, "%-10s %12.0f %12.3f %12.0f %12.3f %10" PRIu64 " %10" PRIu64 "\n",
			c->ports[i].name, rate(s.ipackets, p->ipackets, secs),
			rate(s.ibytes, p->ibytes, secs) * 8 / 1e6,
			rate(s.opackets, p->opackets, secs),
			rate(s.obytes, p->obytes, secs) * 8 / 1e6,
			s.imissed, s.ierrors + s.oerrors);
		*p = (struct port_prev){ s.ipackets, s.ibytes, s.opackets, s.obytes };
	}
	fprintf(f, "%-10s %5s %12s %12s %14s\n", "stage", "lcore", "in pps",
		"out pps", "ring used");
	for (unsigned int i = 0; i < braid_runner_stage_count(c->r); i++) {
		const struct braid_runner_stage *rs = braid_runner_stage_get(c->r, i);
		struct braid_runner_stage_stats st;
		struct stage_prev *p = &c->sprev[i];
		char ring[32] = "-";

		if (braid_runner_stage_stats(c->r, i, &st) != 0)
			continue;
		if (!c->primed)
			*p = (struct stage_prev){ st.pkts_in, st.pkts_out };

		if (st.ring_size != 0)
			snprintf(ring, sizeof(ring), "%u/%u", st.ring_count, st.ring_size);
		fprintf(f, "%-10s %5u %12.0f %12.0f %14s\n", rs->stage.name,
			rs->lcore, rate(st.pkts_in, p->in, secs),
			rate(st.pkts_out, p->out, secs), ring);
		*p = (struct stage_prev){ st.pkts_in, st.pkts_out };
	}
	braid_stats_walk(c->r, c->ports, c->n_ports, drop_sample, &drops);
	fprintf(f, "drops: %" PRIu64 "%s\n", drops.total, drops.len ? drops.buf : "");
	print_lcores(c->r, f);
	fflush(f);
	c->last_ns = now_ns;
	c->primed = true;
}

void
braid_stats_console_tick(struct braid_stats_console *c, uint64_t now_ns)
{
	if (c->primed && now_ns - c->last_ns < c->interval_ns)
		return;
	braid_stats_console_print(c, now_ns);
}
