/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "fec": "auto" classes: every GW_FEC_AUTO_PERIOD_NS the main hook reads
 * what the peer reports of each link (transmit loss) and the class's
 * packet rate, lets lib/fec's braid_fec_auto pick the block shape, and
 * changes the encoder's shape and the scheduler's parity charge together
 * (one all-or-none batch on the stages' control channels). The encoder
 * takes a new shape at its next block: nothing in flight changes.
 */
#include <string.h>

#include "braid_clock.h"
#include "gw_priv.h"

#define GW_FEC_AUTO_PERIOD_NS (250ull * 1000 * 1000)
/* Data and parity of a class fill at most this share of the links up. */
#define GW_FEC_AUTO_LOAD_PCT 90
/* Time constant of the class's rate for that. */
#define GW_FEC_AUTO_RATE_TAU_NS (1000ull * 1000 * 1000)

void
gw_fec_auto_init(struct braid_gateway *gw)
{
	const struct braid_config *c = &gw->cfg;

	memset(&gw->fec_auto, 0, sizeof(gw->fec_auto));
	for (uint16_t k = 0; k < c->n_classes; k++)
		if (c->classes[k].fec_auto)
			braid_fec_auto_init(&gw->fec_auto.cls[k].ctl, (struct braid_fec_shape){
				c->classes[k].fec_k, c->classes[k].fec_m });
}

/* What the links of a class (those in time for it) offer now. */
struct links_now {
	uint32_t loss_ppm;      /* transmit loss (peer's reports), weighted by
				 * the capacity the scheduler may use on each */
	uint32_t rtt_max_us;    /* the slowest round trip among them */
	uint64_t capacity_kbps; /* configured rate of the links up */
};

static void
links_now(const struct braid_gateway *gw, uint32_t mask, struct links_now *ln)
{
	double sum = 0, weight = 0;

	memset(ln, 0, sizeof(*ln));
	for (uint16_t l = 0; l < gw->cfg.n_links; l++) {
		struct braid_link_info li;

		if (((mask >> l) & 1) == 0 || braid_link_info_get(gw->link, l, &li) != 0 ||
		    !braid_link_info_usable(&li) || li.usable_kbps == 0)
			continue;
		sum += (double)li.tx_loss_ppm * (double)li.usable_kbps;
		weight += (double)li.usable_kbps;
		if (li.srtt_us > ln->rtt_max_us)
			ln->rtt_max_us = li.srtt_us;
		ln->capacity_kbps += li.capacity_kbps;
	}
	ln->loss_ppm = weight > 0 ? (uint32_t)(sum / weight) : 0;
}

/* Every class's data rate on the wire (frames as the scheduler charges
 * them), smoothed over GW_FEC_AUTO_RATE_TAU_NS: a 250 ms sample swings
 * with the sources' bursts, and the ceiling below must not flap with it.
 * Its parity too (x (k + m) / k of its shape now), for the others' share. */
static void
wire_rates(struct braid_gateway *gw, uint64_t dt_ns)
{
	double w = RTE_MIN(1.0, (double)dt_ns / (double)GW_FEC_AUTO_RATE_TAU_NS);

	for (uint16_t k = 0; k < gw->cfg.n_classes; k++) {
		const struct braid_config_class *cc = &gw->cfg.classes[k];
		struct gw_fec_auto_class *a = &gw->fec_auto.cls[k];
		struct braid_sched_class_stats st;
		double x;
		uint8_t fk = cc->fec_auto ? a->ctl.cur.k : cc->fec_enabled ? cc->fec_k : 0;
		uint8_t fm = cc->fec_auto ? a->ctl.cur.m : cc->fec_enabled ? cc->fec_m : 0;

		if (braid_sched_class_stats(gw->sched, k, &st) != 0)
			continue;
		x = (double)(st.bytes - a->bytes + (st.dequeued - a->dequeued) *
		     (gw_frame_overhead(gw) + GW_ETHER_L1_OVERHEAD)) *
		    8e6 / (double)dt_ns;
		a->pkt_rate = (uint32_t)((st.dequeued - a->dequeued) * 1000000000ull / dt_ns);
		a->dequeued = st.dequeued;
		a->bytes = st.bytes;
		a->wire_kbps = a->wire_kbps == 0 ? x : a->wire_kbps + (x - a->wire_kbps) * w;
		a->total_kbps = fk != 0 ? a->wire_kbps * (fk + fm) / fk : a->wire_kbps;
	}
}

double
gw_fec_auto_room_kbps(double capacity_kbps, uint16_t k, uint16_t n, const double *total_kbps,
		      const uint32_t *weight, int prio)
{
	double rest = capacity_kbps, wsum = 0, room;

	if (prio >= 0 && prio != k)
		rest -= total_kbps[prio];
	if (rest <= 0)
		return 0;
	if (prio == k)
		return rest;
	for (uint16_t j = 0; j < n; j++)
		if ((int)j != prio && (j == k || total_kbps[j] > 0))
			wsum += weight[j];
	room = rest;
	for (uint16_t j = 0; j < n; j++)
		if ((int)j != prio && j != k && total_kbps[j] > 0)
			room -= RTE_MIN(total_kbps[j], rest * weight[j] / wsum);
	return room;
}

/* What class @p k may fill of the links in time for it: their configured
 * rate less what the other classes take (gw_fec_auto_room_kbps()). */
static double
class_room(const struct braid_gateway *gw, uint16_t k, uint64_t capacity_kbps)
{
	double total[BRAID_CONFIG_MAX_CLASSES];
	uint32_t weight[BRAID_CONFIG_MAX_CLASSES];
	int prio = -1;

	for (uint16_t j = 0; j < gw->cfg.n_classes; j++) {
		total[j] = gw->fec_auto.cls[j].total_kbps;
		weight[j] = gw->cfg.classes[j].weight != 0 ? gw->cfg.classes[j].weight : 1;
		if (gw->cfg.classes[j].priority)
			prio = j;
	}
	return gw_fec_auto_room_kbps((double)capacity_kbps, k, gw->cfg.n_classes, total, weight,
				     prio);
}

/* The class's overhead ceiling, lowered so that its data and parity fill
 * at most GW_FEC_AUTO_LOAD_PCT of its room on the links (links up and in
 * time, less the other classes' share): a link out must not leave the
 * others with more parity than they can carry. */
static uint8_t
overhead_budget(uint8_t cap_pct, double wire_kbps, double room_kbps)
{
	double room;

	if (wire_kbps <= 0)
		return cap_pct;
	room = 100.0 * (room_kbps * GW_FEC_AUTO_LOAD_PCT / 100.0 / wire_kbps - 1.0);
	if (room >= cap_pct)
		return cap_pct;
	return room < 1.0 ? 1 : (uint8_t)room;
}

/* Encoder shape and scheduler charge of class @p k, all or none. */
static int
send_shape(struct braid_gateway *gw, uint16_t k, struct braid_fec_shape s)
{
	struct braid_fec_enc_cmd fc = { .op = BRAID_FEC_ENC_CMD_CLASS, .class_id = k };
	struct braid_sched_cmd sc = { .op = BRAID_SCHED_CMD_CLASS_FEC, .id = k,
				      .class_fec = { s.k, s.m } };
	struct braid_cmd_ref refs[2] = {
		{ gw->stage_id[GW_CMD_FEC], &fc },
		{ gw->stage_id[GW_CMD_SCHED], &sc },
	};

	if (!braid_sched_class_fec_fits(gw->sched, s.k, s.m))
		return -ERANGE;
	/* The block timeout as at start (the automatic one scales with k). */
	gw_fec_shape(&gw->cfg, k, &fc.shape);
	fc.shape.k = s.k;
	fc.shape.m = s.m;
	return braid_runner_cmd_send_all(gw->runner, refs, RTE_DIM(refs));
}

static void
class_tick(struct braid_gateway *gw, uint16_t k, uint64_t now_ns)
{
	const struct braid_config_class *cc = &gw->cfg.classes[k];
	struct gw_fec_auto_class *a = &gw->fec_auto.cls[k];
	struct braid_fec_auto_in in = {
		.deadline_ms = (uint32_t)(gw_class_deadline_now(gw, k) / 1000000),
		.max_overhead_pct = cc->fec_max_overhead_pct,
	};
	struct braid_fec_auto before = a->ctl;
	struct braid_fec_shape next;
	struct links_now lnow, *ln = &lnow;
	int ret;

	links_now(gw, gw->fit.cls[k].mask, ln);
	in.loss_ppm = ln->loss_ppm;
	in.pkt_rate = a->pkt_rate;
	in.max_overhead_pct = overhead_budget(cc->fec_max_overhead_pct, a->wire_kbps,
					      class_room(gw, k, ln->capacity_kbps));
	/* A NACK and its retransmission take about a round trip, after the
	 * gap is seen: one RTT more and 10 ms for that, within the deadline. */
	in.arq_fits = cc->arq_enabled && ln->rtt_max_us != 0 &&
		      2ull * ln->rtt_max_us + 10000 <= (uint64_t)in.deadline_ms * 1000;
	if (!braid_fec_auto_step(&a->ctl, &in, now_ns, &next))
		return;
	ret = send_shape(gw, k, next);
	if (ret != 0) {
		/* Not taken: try again on the next tick. */
		a->ctl = before;
		a->send_failed++;
		return;
	}
	a->changes++;
	GW_LOG(DEBUG, "gateway %s: class %s FEC %u+%u -> %u+%u (loss %.2f %%, %u pkt/s, "
	       "RTT %u us, ceiling %u %%)", gw->cfg.name, cc->name, before.cur.k, before.cur.m,
	       next.k, next.m, ln->loss_ppm / 1e4, in.pkt_rate, ln->rtt_max_us,
	       in.max_overhead_pct);
}

void
gw_fec_auto_tick(struct braid_gateway *gw, uint64_t now_ns)
{
	struct gw_fec_auto *fa = &gw->fec_auto;
	uint64_t dt;

	if (fa->last_ns == 0) {
		fa->last_ns = now_ns;
		return;
	}
	dt = now_ns - fa->last_ns;
	if (dt < GW_FEC_AUTO_PERIOD_NS)
		return;
	fa->last_ns = now_ns;
	wire_rates(gw, dt);
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		if (gw->cfg.classes[k].fec_auto)
			class_tick(gw, k, now_ns);
}

const struct gw_fec_auto_class *
gw_fec_auto_class(const struct braid_gateway *gw, uint16_t k)
{
	if (k >= gw->cfg.n_classes || !gw->cfg.classes[k].fec_auto)
		return NULL;
	return &gw->fec_auto.cls[k];
}
