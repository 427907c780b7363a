/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link health: probes, RTT/jitter/loss/rate estimators, the state machine
 * with hysteresis and exponential hold-down, usable capacity. The rules
 * are written down in doc/link-health.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "braid_decap.h"
#include "braid_link.h"
#include "braid_log.h"
#include "braid_meta.h"
#include "link_priv.h"

RTE_LOG_REGISTER(braid_link_logtype, braid.link, INFO);
#define LINK_LOG(level, ...) BRAID_LOG(level, braid_link_logtype, __VA_ARGS__)

/* ------------------------------------------------------------ estimators */

enum link_seq_verdict
link_seq_add(struct link_seq *q, uint32_t s, uint64_t *gap)
{
	uint64_t e, d;

	*gap = 0;
	if (!q->started) {
		/* One cycle of headroom so seqs just before the first extend. */
		q->started = true;
		q->base = (1ULL << 32) + s;
		q->max = q->base;
		q->received = 1;
		memset(q->bitmap, 0, sizeof(q->bitmap));
		q->bitmap[(q->max % BRAID_LINK_REORDER_WINDOW) / 64] |=
			1ULL << (q->max % 64);
		return LINK_SEQ_NEW;
	}
	e = braid_seq_extend(q->max, s);
	if (e > q->max) {
		d = e - q->max;
		if (d >= BRAID_LINK_REORDER_WINDOW) {
			memset(q->bitmap, 0, sizeof(q->bitmap));
		} else {
			for (uint64_t x = q->max + 1; x <= e; x++)
				q->bitmap[(x % BRAID_LINK_REORDER_WINDOW) / 64] &=
					~(1ULL << (x % 64));
		}
		*gap = d - 1;
		q->max = e;
		q->received++;
		q->bitmap[(e % BRAID_LINK_REORDER_WINDOW) / 64] |= 1ULL << (e % 64);
		return LINK_SEQ_NEW;
	}
	if (q->max - e >= BRAID_LINK_REORDER_WINDOW || e < q->base) {
		q->late++;
		return LINK_SEQ_LATE;
	}
	if (q->bitmap[(e % BRAID_LINK_REORDER_WINDOW) / 64] & (1ULL << (e % 64))) {
		q->dup++;
		return LINK_SEQ_DUP;
	}
	q->bitmap[(e % BRAID_LINK_REORDER_WINDOW) / 64] |= 1ULL << (e % 64);
	q->received++;
	return LINK_SEQ_NEW;
}

void
link_seq_settled(const struct link_seq *q, uint64_t *expected,
		 uint64_t *received, uint64_t *lost)
{
	uint64_t settled, recent = 0;

	if (!q->started || q->max < q->base + BRAID_LINK_LOSS_SETTLE) {
		*expected = 0;
		*received = 0;
		*lost = 0;
		return;
	}
	settled = q->max - BRAID_LINK_LOSS_SETTLE;
	for (uint64_t x = settled + 1; x <= q->max; x++)
		recent += (q->bitmap[(x % BRAID_LINK_REORDER_WINDOW) / 64] >> (x % 64)) & 1;
	*expected = settled - q->base + 1;
	*received = q->received - recent;
	*lost = *expected - *received;
}

void
link_winmin_add(struct link_winmin *w, int64_t v, uint64_t now, uint64_t win)
{
	if (!w->valid) {
		w->valid = true;
		w->cur = v;
		w->prev = INT64_MAX;
		w->start = now;
		return;
	}
	if (now - w->start >= win) {
		/* A whole window without samples forgets the old bucket too. */
		w->prev = now - w->start >= 2 * win ? INT64_MAX : w->cur;
		w->cur = v;
		w->start = now;
		return;
	}
	if (v < w->cur)
		w->cur = v;
}

static double
ewma_decay(uint64_t dt, uint64_t tau)
{
	return tau == 0 ? 0.0 : exp(-(double)dt / (double)tau);
}

static uint32_t
ratio_ppm(double lost, double total)
{
	double r;

	if (!(total >= (double)BRAID_LINK_LOSS_MIN_FRAMES))
		return 0;
	r = lost / total;
	if (r <= 0.0)
		return 0;
	if (r >= 1.0)
		return 1000000;
	return (uint32_t)(r * 1e6 + 0.5);
}

/* -------------------------------------------------------------- helpers */

const char *
braid_link_state_name(enum braid_link_state s)
{
	switch (s) {
	case BRAID_LINK_DOWN: return "down";
	case BRAID_LINK_DEGRADED: return "degraded";
	case BRAID_LINK_UP: return "up";
	case BRAID_LINK_ADMIN_DOWN: return "admin_down";
	}
	return "unknown";
}

void
braid_link_conf_defaults(struct braid_link_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->probe_interval_ms = 50;
	conf->down_after_probes = 3;
	conf->up_hold_ms = 2000;
	conf->hold_max_ms = 60000;
	conf->probe_timeout_ms = 1000;
	conf->loss_enter_ppm = 50000;
	conf->loss_leave_ppm = 10000;
	conf->rtt_enter_us = 0;
	conf->rtt_leave_us = 0;
	conf->loss_tau_ms = 1000;
	conf->rate_tau_ms = 1000;
	conf->capacity_tau_ms = 500;
	conf->rtt_min_window_ms = 10000;
	conf->degraded_permille = 500;
	conf->change_permille = 10;
	conf->silence_gaps = 8;
	conf->silence_min_ms = 10;
}

static int
conf_check(const struct braid_link_conf *c)
{
#define CHECK(cond, ...) do { if (!(cond)) { LINK_LOG(ERR, __VA_ARGS__); return -EINVAL; } } while (0)
	CHECK(c->n_links >= 1 && c->n_links <= BRAID_LINK_MAX_LINKS,
	      "link: n_links %u not in 1..%u", c->n_links, BRAID_LINK_MAX_LINKS);
	for (uint16_t i = 0; i < c->n_links; i++)
		CHECK(c->links[i].capacity_kbps >= 1 &&
		      c->links[i].capacity_kbps <= 100000000ULL,
		      "link: links[%u].capacity_kbps %" PRIu64 " not in 1..100000000",
		      i, c->links[i].capacity_kbps);
	CHECK(c->probe_interval_ms >= 1 && c->probe_interval_ms <= 10000,
	      "link: probe_interval_ms %" PRIu32 " not in 1..10000", c->probe_interval_ms);
	CHECK(c->down_after_probes >= 1 && c->down_after_probes <= 100,
	      "link: down_after_probes %" PRIu32 " not in 1..100", c->down_after_probes);
	CHECK(c->up_hold_ms <= 600000, "link: up_hold_ms %" PRIu32 " above 600000",
	      c->up_hold_ms);
	CHECK(c->hold_max_ms >= c->up_hold_ms && c->hold_max_ms <= 3600000,
	      "link: hold_max_ms %" PRIu32 " not in up_hold_ms..3600000", c->hold_max_ms);
	CHECK(c->probe_timeout_ms >= 1 &&
	      (uint64_t)c->probe_timeout_ms <=
	      (uint64_t)(BRAID_LINK_PROBE_SLOTS - 1) * c->probe_interval_ms,
	      "link: probe_timeout_ms %" PRIu32 " not in 1..%u probe intervals",
	      c->probe_timeout_ms, BRAID_LINK_PROBE_SLOTS - 1);
	CHECK(c->loss_enter_ppm <= 1000000 && c->loss_leave_ppm <= c->loss_enter_ppm,
	      "link: need loss_leave_ppm <= loss_enter_ppm <= 1000000");
	CHECK(c->rtt_leave_us <= c->rtt_enter_us,
	      "link: rtt_leave_us %" PRIu32 " above rtt_enter_us %" PRIu32,
	      c->rtt_leave_us, c->rtt_enter_us);
	CHECK(c->rtt_enter_us == 0 || c->rtt_leave_us > 0,
	      "link: rtt_leave_us must be > 0 when rtt_enter_us is set");
	CHECK(c->loss_tau_ms >= 1 && c->loss_tau_ms <= 600000,
	      "link: loss_tau_ms %" PRIu32 " not in 1..600000", c->loss_tau_ms);
	CHECK(c->rate_tau_ms >= 1 && c->rate_tau_ms <= 600000,
	      "link: rate_tau_ms %" PRIu32 " not in 1..600000", c->rate_tau_ms);
	CHECK(c->capacity_tau_ms <= 600000,
	      "link: capacity_tau_ms %" PRIu32 " above 600000", c->capacity_tau_ms);
	CHECK(c->rtt_min_window_ms >= 1 && c->rtt_min_window_ms <= 3600000,
	      "link: rtt_min_window_ms %" PRIu32 " not in 1..3600000", c->rtt_min_window_ms);
	CHECK(c->degraded_permille <= 1000, "link: degraded_permille %u above 1000",
	      c->degraded_permille);
	CHECK(c->silence_gaps <= 1000, "link: silence_gaps %u above 1000", c->silence_gaps);
	CHECK(c->silence_min_ms <= 10000, "link: silence_min_ms %u above 10000",
	      c->silence_min_ms);
	CHECK(c->change_permille >= 1 && c->change_permille <= 1000,
	      "link: change_permille %u not in 1..1000", c->change_permille);
	CHECK(c->pool == NULL || rte_pktmbuf_data_room_size(c->pool) >=
	      RTE_PKTMBUF_HEADROOM + sizeof(struct braid_probe_reply_wire),
	      "link: pool data room too small for a probe reply");
	CHECK(braid_meta_offset >= 0, "link: braid_meta_register() not called");
#undef CHECK
	return 0;
}

static void
link_reset_peer(struct link_st *l)
{
	memset(&l->seq, 0, sizeof(l->seq));
	l->rx_bytes = 0;
	l->rx_skip = 0;
	l->skip_pending = 0;
	l->skip_upto = 0;
	l->have_transit = false;
	l->prev_transit = 0;
	l->jitter16 = 0;
	memset(&l->tmin, 0, sizeof(l->tmin));
	l->owdv16 = 0;
	/* The peer's clock changed: its probe receive times start anew. The
	 * estimate keeps its value and rises again once the queue is low. */
	memset(&l->fwd_min, 0, sizeof(l->fwd_min));
	l->q_last = 0;
	l->q_prev = 0;
	l->q_jit = 0;
	l->q_n = 0;
	l->q_head = 0;
	l->snap_valid = false;
	l->rx_total = 0;
	l->rx_lostw = 0;
	l->rate_valid = false;
	l->rate_bps = 0;
	l->peer_valid = false;
	l->peer_rx = 0;
	l->peer_lost = 0;
	l->tx_total = 0;
	l->tx_lostw = 0;
}

struct braid_link *
braid_link_create(const struct braid_link_conf *conf, int socket)
{
	struct braid_link *lh;

	if (conf == NULL || conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	lh = rte_zmalloc_socket("braid_link", sizeof(*lh), RTE_CACHE_LINE_SIZE, socket);
	if (lh == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	lh->links = rte_zmalloc_socket("braid_link_st",
				       sizeof(struct link_st) * conf->n_links,
				       RTE_CACHE_LINE_SIZE, socket);
	lh->pub = rte_zmalloc_socket("braid_link_pub",
				     sizeof(struct link_pub) * conf->n_links,
				     RTE_CACHE_LINE_SIZE, socket);
	if (lh->links == NULL || lh->pub == NULL) {
		braid_link_free(lh);
		rte_errno = ENOMEM;
		return NULL;
	}
	lh->n_links = conf->n_links;
	lh->interval_ns = (uint64_t)conf->probe_interval_ms * MS_NS;
	lh->down_ns = lh->interval_ns * conf->down_after_probes;
	lh->down_after = conf->down_after_probes;
	lh->up_hold_ns = (uint64_t)conf->up_hold_ms * MS_NS;
	lh->hold_max_ns = (uint64_t)conf->hold_max_ms * MS_NS;
	lh->timeout_ns = (uint64_t)conf->probe_timeout_ms * MS_NS;
	lh->loss_tau_ns = (uint64_t)conf->loss_tau_ms * MS_NS;
	lh->rate_tau_ns = (uint64_t)conf->rate_tau_ms * MS_NS;
	lh->cap_tau_ns = (uint64_t)conf->capacity_tau_ms * MS_NS;
	lh->min_win_ns = (uint64_t)conf->rtt_min_window_ms * MS_NS;
	lh->loss_enter_ppm = conf->loss_enter_ppm;
	lh->loss_leave_ppm = conf->loss_leave_ppm;
	lh->rtt_enter_us = conf->rtt_enter_us;
	lh->rtt_leave_us = conf->rtt_leave_us;
	lh->degraded_permille = conf->degraded_permille;
	lh->change_permille = conf->change_permille;
	lh->silence_gaps = conf->silence_gaps;
	lh->silence_min_ns = (uint64_t)conf->silence_min_ms * MS_NS;
	lh->pool = conf->pool;
	lh->mtu_pool = conf->mtu_pool != NULL ? conf->mtu_pool : conf->pool;
	lh->tx_ring = conf->tx_ring;
	lh->ctrl_ring = conf->ctrl_ring;
	lh->on_change = conf->on_change;
	lh->on_change_arg = conf->on_change_arg;

	for (uint16_t i = 0; i < lh->n_links; i++) {
		struct link_st *l = &lh->links[i];

		l->capacity_kbps = conf->links[i].capacity_kbps;
		l->mtu_probe_len = conf->links[i].mtu_probe_len;
		l->mtu_countdown = 1;          /* the second probe checks the MTU */
		l->admin_req = conf->links[i].admin_down;
		l->admin = conf->links[i].admin_down;
		l->health = BRAID_LINK_DOWN;
		l->state = l->admin ? BRAID_LINK_ADMIN_DOWN : BRAID_LINK_DOWN;
		l->published_state = l->state;
		l->pub_state = l->state;
		l->hold_ns = 0;
		rte_seqcount_init(&lh->pub[i].sc);
		lh->pub[i].info.state = l->state;
		lh->pub[i].info.health = l->health;
		lh->pub[i].info.capacity_kbps = l->capacity_kbps;
	}
	return lh;
}

void
braid_link_free(struct braid_link *lh)
{
	if (lh == NULL)
		return;
	rte_free(lh->links);
	rte_free(lh->pub);
	rte_free(lh);
}

/* ------------------------------------------------------------- session */

int
braid_link_session(struct braid_link *lh, uint32_t session_id, uint64_t now_ns)
{
	uint64_t cur = lh->session;

	RTE_SET_USED(now_ns);
	if (likely((cur >> 32) != 0 && (uint32_t)cur == session_id))
		return 0;
	if ((cur >> 32) == 0) {
		__atomic_store_n(&lh->session, (1ULL << 32) | session_id, __ATOMIC_RELEASE);
		return 0;
	}
	if (lh->have_prev_session && lh->prev_session == session_id)
		return -ESTALE;
	lh->have_prev_session = true;
	lh->prev_session = (uint32_t)cur;
	__atomic_store_n(&lh->session, (1ULL << 32) | session_id, __ATOMIC_RELEASE);
	lh->have_tref = false;
	for (uint16_t i = 0; i < lh->n_links; i++)
		link_reset_peer(&lh->links[i]);
	lh->cnt.session_changes++;
	return 0;
}

bool
braid_link_peer_session(const struct braid_link *lh, uint32_t *session_id)
{
	uint64_t s = __atomic_load_n(&lh->session, __ATOMIC_ACQUIRE);

	if ((s >> 32) == 0)
		return false;
	if (session_id != NULL)
		*session_id = (uint32_t)s;
	return true;
}

/* ----------------------------------------------------------------- rx */

/* Transit time (arrival - peer send) relative to the object's reference,
 * reduced modulo the peer clock wrap. */
static int64_t
transit_rel(struct braid_link *lh, uint64_t now_ns, uint64_t peer_tx_ns)
{
	const int64_t w = (int64_t)BRAID_LINK_PEER_CLOCK_WRAP_NS;
	int64_t t = (int64_t)(now_ns - peer_tx_ns);
	int64_t x;

	if (!lh->have_tref) {
		lh->have_tref = true;
		lh->tref = t;
	}
	x = (int64_t)((uint64_t)t - (uint64_t)lh->tref);
	x %= w;
	if (x >= w / 2)
		x -= w;
	else if (x < -(w / 2))
		x += w;
	return x;
}

static void
link_capacity(struct braid_link *lh, uint16_t i, uint64_t now_ns, bool tick);

/* A suspect link silent at least this long comes back at a lower
 * capacity estimate (est_fall_back()). */
#define LINK_SILENT_LONG_NS (250ull * 1000 * 1000)

static void est_fall_back(struct braid_link *lh, struct link_st *l, uint64_t now_ns);

/* A frame of the peer arrived on @p i: the mean gap between frames, and
 * the end of a receive silence (see link_silence()). */
static inline void
link_heard(struct braid_link *lh, uint16_t i, uint64_t now_ns)
{
	struct link_st *l = &lh->links[i];

	if (l->last_rx_ns != 0 && now_ns > l->last_rx_ns) {
		/* An outage's silence is not a frame gap: capped. */
		uint64_t gap = RTE_MIN(now_ns - l->last_rx_ns, lh->down_ns);

		if (l->gaps_seen < LINK_SILENCE_WARMUP) {
			/* a plain mean until the EWMA has history */
			l->gaps_seen++;
			l->gap_ewma_ns += ((int64_t)gap - (int64_t)l->gap_ewma_ns) /
					  (int64_t)l->gaps_seen;
		} else {
			l->gap_ewma_ns = l->gap_ewma_ns - (l->gap_ewma_ns >> 3) + (gap >> 3);
		}
	}
	if (now_ns > l->last_rx_ns)
		l->last_rx_ns = now_ns;
	if (unlikely(l->suspect)) {
		l->suspect = false;
		/* Silent this long: not jitter (that lifts gaps for tens of
		 * ms), a link whose rate fell or that died. */
		if (now_ns - l->suspect_ns >= LINK_SILENT_LONG_NS)
			est_fall_back(lh, l, now_ns);
		link_capacity(lh, i, now_ns, false);
	}
}

int
braid_link_rx(struct braid_link *lh, uint16_t link, uint32_t link_seq,
	      uint64_t peer_tx_ns, uint32_t bytes, uint64_t now_ns)
{
	struct link_st *l;
	enum link_seq_verdict v;
	uint64_t gap;
	int64_t tr;

	if (unlikely(link >= lh->n_links))
		return -EINVAL;
	l = &lh->links[link];
	link_heard(lh, link, now_ns);
	v = link_seq_add(&l->seq, link_seq, &gap);
	if (v != LINK_SEQ_NEW)
		return 0;
	/* A gap spanning a time the link was down is outage, not loss rate:
	 * it stays in rx_lost but not in the loss estimate. */
	if (gap > 0 && l->health == BRAID_LINK_DOWN) {
		l->skip_pending += gap;
		l->skip_upto = l->seq.max - 1;
	}
	l->rx_bytes += bytes;

	tr = transit_rel(lh, now_ns, peer_tx_ns);
	if (l->have_transit) {
		int64_t d = tr - l->prev_transit;

		if (d < 0)
			d = -d;
		/* RFC 3550 6.4.1 / A.8: J += (|D| - J) / 16, J kept * 16. */
		l->jitter16 += d - ((l->jitter16 + 8) >> 4);
	}
	l->have_transit = true;
	l->prev_transit = tr;
	link_winmin_add(&l->tmin, tr, now_ns, lh->min_win_ns);
	l->owdv16 += (tr - link_winmin_get(&l->tmin)) - ((l->owdv16 + 8) >> 4);
	return 0;
}

/* -------------------------------------------------------------- probes */

/* The settled view of a working link: gaps of outages (frames skipped
 * while the link was down) are taken out once they are settled. */
static void
link_view(struct link_st *l, uint64_t *expected, uint64_t *received, uint64_t *lost)
{
	link_seq_settled(&l->seq, expected, received, lost);
	if (l->skip_pending != 0 &&
	    l->seq.max >= l->skip_upto + BRAID_LINK_LOSS_SETTLE) {
		l->rx_skip += l->skip_pending;
		l->skip_pending = 0;
	}
	*expected -= RTE_MIN(l->rx_skip, *expected);
	*lost -= RTE_MIN(l->rx_skip, *lost);
}

int
braid_link_probe_rx(struct braid_link *lh, uint16_t link,
		    const struct braid_probe *probe, uint64_t rx_ns,
		    uint64_t now_ns, struct braid_probe_reply *reply)
{
	struct link_st *l;
	uint64_t exp;

	if (unlikely(link >= lh->n_links))
		return -EINVAL;
	l = &lh->links[link];
	if (l->admin)
		return -ENETDOWN;
	link_heard(lh, link, now_ns);
	reply->probe_id = probe->probe_id;
	reply->probe_tx_ns = probe->tx_ns;
	reply->probe_rx_ns = rx_ns;
	reply->reply_tx_ns = now_ns;
	link_view(l, &exp, &reply->link_rx_packets, &reply->link_lost);
	reply->link_max_seq = (uint32_t)l->seq.max;
	reply->link_rx_bytes = (uint32_t)l->rx_bytes;
	return 0;
}

static void
rtt_sample(struct braid_link *lh, struct link_st *l, int64_t r, uint64_t now_ns)
{
	if (!l->rtt_valid) {
		/* RFC 6298 2.2 */
		l->rtt_valid = true;
		l->srtt = r;
		l->rttvar = r / 2;
	} else {
		/* RFC 6298 2.3, alpha 1/8, beta 1/4 */
		int64_t dev = l->srtt - r;

		if (dev < 0)
			dev = -dev;
		l->rttvar = (3 * l->rttvar + dev) / 4;
		l->srtt = (7 * l->srtt + r) / 8;
	}
	link_winmin_add(&l->rtt_min, r, now_ns, lh->min_win_ns);
}

/*
 * Capacity estimate of our direction (doc/link-health.md "Estimated
 * capacity"). A probe waits in the link's queue behind our data, so its
 * one-way delay above the windowed minimum (the clocks' offset cancels)
 * is the queue the link holds. When the queue's floor over a look-back
 * window stays above LINK_EST_HIGH_NS + 3 x its jitter, we send faster
 * than the link carries: the estimate drops below what the link
 * delivered over that window (the peer's byte count in its replies,
 * measured after the bottleneck: while a queue stands, that is the
 * link's rate), far enough below that the queue drains within
 * LINK_EST_DRAIN_NS (est_drain(): LINK_EST_DRAIN of it for a small
 * queue, half for a deep one), never above LINK_EST_DRAIN of itself and
 * never below LINK_EST_CUT_DEEP of it (a link at a third of its rate
 * takes two cuts, a window and an RTT apart). A link that delivered at
 * least LINK_EST_FULL of the estimate is not cut: a burst queued it
 * (retransmissions moved from a failed link), its rate did not fall.
 * Without a delivered rate the cut is to LINK_EST_CUT of the estimate
 * (LINK_EST_CUT_DEEP over LINK_EST_DEEP_NS of queue). A queue over
 * LINK_EST_DEEP_NS is judged over only
 * LINK_EST_DEEP_WINDOW_NS: a link that lost most of its rate fills its
 * queue in a few probe intervals. At most one cut per window plus an RTT
 * so that a cut shows before the next. The jitter is
 * taken from second differences of the samples, which a queue growing
 * at a steady rate does not raise; jitter alone lifts single samples,
 * not the window's floor. When the whole window stays below
 * LINK_EST_LOW_NS + the jitter, LINK_EST_CALM_NS after the last cut, the
 * estimate rises by LINK_EST_RISE of itself (at least LINK_EST_RISE_MIN
 * of the configured capacity) per LINK_EST_STEP_NS, up to the configured
 * capacity: from a third of it back to all in about 2.5 s, while a
 * rise past the link's real rate builds a queue slowly enough to be cut
 * before it matters. For LINK_EST_HOLD_NS after a cut it rises only up
 * to LINK_EST_HOLD_X of what the link delivered then (of the estimate
 * that was cut, without a delivered rate): that queued the link.
 */
#define LINK_EST_WINDOW_NS (250ull * 1000 * 1000)
#define LINK_EST_HIGH_NS (20ll * 1000 * 1000)
#define LINK_EST_DEEP_NS (50ll * 1000 * 1000)
#define LINK_EST_DEEP_WINDOW_NS (100ull * 1000 * 1000)
#define LINK_EST_LOW_NS (5ll * 1000 * 1000)
#define LINK_EST_CUT 0.7
#define LINK_EST_CUT_DEEP 0.5
#define LINK_EST_DRAIN 0.9
#define LINK_EST_FULL 0.95      /* delivered share of the estimate: no cut */
#define LINK_EST_DRAIN_NS (250ull * 1000 * 1000)
#define LINK_EST_RATE_MIN_NS (40ull * 1000 * 1000)  /* span of a delivered rate */
#define LINK_EST_RISE 0.05      /* of the estimate, per step */
#define LINK_EST_RISE_MIN 0.01  /* of the configured capacity, per step */
#define LINK_EST_STEP_NS (100ull * 1000 * 1000)
#define LINK_EST_CALM_NS (2000ull * 1000 * 1000)
#define LINK_EST_FLOOR 0.05     /* of the configured capacity */
#define LINK_EST_HOLD_NS (3000ull * 1000 * 1000)
#define LINK_EST_HOLD_X 0.9

static void link_capacity(struct braid_link *lh, uint16_t i, uint64_t now_ns, bool tick);

/* Link @p l stopped carrying traffic (down, or suspect: silent): a link
 * whose rate fell far enough to drop the probes, or that died. It comes
 * back at half the estimate, and rises from there once calm, instead of
 * at a rate that may queue it at once. */
static void
est_fall_back(struct braid_link *lh, struct link_st *l, uint64_t now_ns)
{
	double floor = (double)l->capacity_kbps * LINK_EST_FLOOR;

	if (l->est <= floor)
		return;
	l->est_hold = l->est * LINK_EST_HOLD_X;
	l->est = RTE_MAX(l->est * LINK_EST_CUT_DEEP, floor);
	l->est_cut_ns = now_ns;
	l->est_up_ns = now_ns;
	l->est_cuts++;
	lh->cnt.capacity_cuts++;
	LINK_LOG(DEBUG, "link %td: stopped carrying traffic, capacity estimate -> %.0f kbit/s",
		 l - lh->links, l->est);
}

/* The share of the delivered rate to send at after a cut: enough below
 * it that the standing queue (@p queue_ns) drains within
 * LINK_EST_DRAIN_NS, at most LINK_EST_DRAIN; at least half. */
static double
est_drain(int64_t queue_ns)
{
	double x = 1.0 - (double)queue_ns / (double)LINK_EST_DRAIN_NS;

	return RTE_MAX(RTE_MIN(x, LINK_EST_DRAIN), 0.5);
}

/* What our direction of link @p l delivered (kbit/s) over the samples of
 * the last @p win_ns: the peer's bytes received between the oldest of them
 * and the newest (sample @p cur), over the peer's own clock between the
 * probes' arrivals. 0 when the samples span less than LINK_EST_RATE_MIN_NS. */
static double
est_delivered_kbps(const struct link_st *l, unsigned int cur, uint64_t now_ns, uint64_t win_ns)
{
	unsigned int old = cur;
	uint64_t span;

	for (unsigned int k = 0; k < l->q_n; k++)
		if (now_ns - l->q_t[k] <= win_ns && l->q_peer_ns[k] < l->q_peer_ns[old])
			old = k;
	span = l->q_peer_ns[cur] - l->q_peer_ns[old];
	if (span < LINK_EST_RATE_MIN_NS)
		return 0;
	return (double)(uint32_t)(l->q_bytes[cur] - l->q_bytes[old]) * 8e6 / (double)span;
}

static void
est_sample(struct braid_link *lh, uint16_t i, const struct braid_probe_reply *r,
	   uint64_t now_ns)
{
	struct link_st *l = &lh->links[i];
	int64_t fwd = (int64_t)(r->probe_rx_ns - r->probe_tx_ns), q, d2;
	int64_t floor = INT64_MAX, top = 0, floor_short = INT64_MAX;
	double cap = (double)l->capacity_kbps, before = l->est, dlv;
	unsigned int seen = 0, seen_short = 0, cur = l->q_head;
	bool deep, high;

	link_winmin_add(&l->fwd_min, fwd, now_ns, lh->min_win_ns);
	q = fwd - link_winmin_get(&l->fwd_min);
	d2 = q - 2 * l->q_last + l->q_prev;
	if (d2 < 0)
		d2 = -d2;
	l->q_jit += (d2 / 2 - l->q_jit) / 8;
	l->q_prev = l->q_last;
	l->q_last = q;
	l->q_t[l->q_head] = now_ns;
	l->q_v[l->q_head] = q;
	l->q_peer_ns[l->q_head] = r->probe_rx_ns;
	l->q_bytes[l->q_head] = r->link_rx_bytes;
	l->q_head = (l->q_head + 1) % LINK_EST_SAMPLES;
	if (l->q_n < LINK_EST_SAMPLES)
		l->q_n++;
	for (unsigned int k = 0; k < l->q_n; k++) {
		if (now_ns - l->q_t[k] > LINK_EST_WINDOW_NS)
			continue;
		floor = RTE_MIN(floor, l->q_v[k]);
		top = RTE_MAX(top, l->q_v[k]);
		seen++;
		if (now_ns - l->q_t[k] <= LINK_EST_DEEP_WINDOW_NS) {
			floor_short = RTE_MIN(floor_short, l->q_v[k]);
			seen_short++;
		}
	}
	if (l->est <= 0.0 || l->est > cap)
		l->est = cap;
	deep = seen_short >= 2 && floor_short > LINK_EST_DEEP_NS + 3 * l->q_jit;
	high = deep || (seen >= 3 && floor > LINK_EST_HIGH_NS + 3 * l->q_jit);
	if (high && now_ns - l->est_cut_ns >= (deep ? LINK_EST_DEEP_WINDOW_NS : LINK_EST_WINDOW_NS) +
						(uint64_t)RTE_MAX(l->srtt, 0)) {
		dlv = est_delivered_kbps(l, cur, now_ns, deep ? LINK_EST_DEEP_WINDOW_NS :
								LINK_EST_WINDOW_NS);
		/* The link delivers what we think it can: a burst queued it
		 * (retransmissions after another link failed), its rate did
		 * not fall. No cut. */
		if (dlv >= l->est * LINK_EST_FULL)
			return;
		/* Never below half at once: the window may hold the start
		 * of our sending, when the link delivered little because we
		 * sent little. */
		l->est = RTE_MAX(dlv > 0 ? RTE_MAX(RTE_MIN(dlv, l->est) * est_drain(q),
						   l->est * LINK_EST_CUT_DEEP) :
				 l->est * (deep ? LINK_EST_CUT_DEEP : LINK_EST_CUT),
				 cap * LINK_EST_FLOOR);
		l->est_hold = RTE_MAX((dlv > 0 ? dlv : before) * LINK_EST_HOLD_X, l->est);
		l->est_cut_ns = now_ns;
		l->est_up_ns = now_ns;
		l->est_cuts++;
		lh->cnt.capacity_cuts++;
		LINK_LOG(DEBUG, "link %u: queue %" PRId64 " us, delivered %.0f kbit/s, capacity "
			 "estimate %.0f -> %.0f kbit/s", i, floor / 1000, dlv, before, l->est);
	} else if (l->est < cap && seen >= 3 && top < LINK_EST_LOW_NS + l->q_jit &&
		   now_ns - l->est_cut_ns >= LINK_EST_CALM_NS &&
		   now_ns - l->est_up_ns >= LINK_EST_STEP_NS) {
		double top_kbps = now_ns - l->est_cut_ns < LINK_EST_HOLD_NS ?
				  RTE_MIN(cap, l->est_hold) : cap;

		if (l->est >= top_kbps)
			return;
		/* One step per LINK_EST_STEP_NS of calm (a sample is due
		 * every probe interval): the time since the cut is not
		 * owed as one jump. */
		l->est = RTE_MIN(top_kbps, l->est + RTE_MAX(l->est * LINK_EST_RISE,
							    cap * LINK_EST_RISE_MIN) *
			(double)RTE_MIN(now_ns - l->est_up_ns, 2 * LINK_EST_STEP_NS) /
			(double)LINK_EST_STEP_NS);
		l->est_up_ns = now_ns;
		lh->cnt.capacity_rises++;
		LINK_LOG(DEBUG, "link %u: calm, capacity estimate %.0f -> %.0f kbit/s", i, before,
			 l->est);
	} else {
		return;
	}
	link_capacity(lh, i, now_ns, false);
}

static void
peer_view(struct braid_link *lh, struct link_st *l,
	  const struct braid_probe_reply *r, uint64_t now_ns)
{
	double decay;
	int64_t d_lost;
	uint64_t d_rx;

	if (!l->peer_valid || now_ns - l->peer_ns >= lh->down_ns) {
		/* First report, or the first after silence: the gap of an
		 * outage is not a loss rate. */
		l->peer_valid = true;
		l->peer_rx = r->link_rx_packets;
		l->peer_lost = r->link_lost;
		l->peer_ns = now_ns;
		return;
	}
	if (r->link_rx_packets < l->peer_rx)
		return; /* a reordered, older report */
	d_rx = r->link_rx_packets - l->peer_rx;
	d_lost = (int64_t)(r->link_lost - l->peer_lost);
	decay = ewma_decay(now_ns - l->peer_ns, lh->loss_tau_ns);
	l->tx_total = l->tx_total * decay + (double)d_rx + (double)d_lost;
	l->tx_lostw = l->tx_lostw * decay + (double)d_lost;
	l->peer_rx = r->link_rx_packets;
	l->peer_lost = r->link_lost;
	l->peer_ns = now_ns;
}

int
braid_link_reply_rx(struct braid_link *lh, uint16_t link,
		    const struct braid_probe_reply *reply, uint64_t now_ns)
{
	struct link_st *l;
	struct probe_slot *s;
	uint64_t raw, proc;
	bool late;

	if (unlikely(link >= lh->n_links))
		return -EINVAL;
	l = &lh->links[link];
	link_heard(lh, link, now_ns);
	s = &l->slots[reply->probe_id & LINK_SLOT_MASK];
	if (s->id != reply->probe_id || s->tx_ns != reply->probe_tx_ns ||
	    (s->state != SLOT_OUT && s->state != SLOT_LOST) || now_ns < s->tx_ns) {
		lh->cnt.replies_unmatched++;
		return -ENOENT;
	}
	late = s->state != SLOT_OUT;
	if (s->mtu) {
		/* A full-size frame crossed both ways. Its delay includes
		 * the serialisation of its size: no RTT or queue sample. */
		s->state = SLOT_DONE;
		l->mtu_lost_row = 0;
		if (l->mtu_state != BRAID_LINK_MTU_OK)
			LINK_LOG(INFO, "link %u: frames of the link's MTU cross it", link);
		l->mtu_state = BRAID_LINK_MTU_OK;
		l->have_reply = true;
		l->last_reply_ns = now_ns;
		return 0;
	}
	if (!late) {
		l->probes_answered++;
	} else {
		l->replies_late++;
		lh->cnt.replies_late++;
	}
	s->state = SLOT_DONE;
	l->have_reply = true;
	l->last_reply_ns = now_ns;

	raw = now_ns - s->tx_ns;
	proc = reply->reply_tx_ns - reply->probe_rx_ns;
	/* The peer's hold time is a difference of its own clock; a bogus
	 * one (negative or longer than the round trip) gives no sample. */
	if ((int64_t)proc >= 0 && proc <= raw)
		rtt_sample(lh, l, (int64_t)(raw - proc), now_ns);
	peer_view(lh, l, reply, now_ns);
	/* A late reply's delay is stale. */
	if (!late)
		est_sample(lh, link, reply, now_ns);
	return 0;
}

/* --------------------------------------------------- state and capacity */

static uint32_t
link_rx_loss(const struct link_st *l)
{
	return ratio_ppm(l->rx_lostw, l->rx_total);
}

static uint32_t
link_tx_loss(const struct link_st *l)
{
	return ratio_ppm(l->tx_lostw, l->tx_total);
}

/* Unanswered probes in a row that make a link down. A probe is answered
 * when it and its reply both arrive: on a link losing a share q of round
 * trips, n in a row go unanswered with probability q^n, and 3 at 20 %
 * loss each way (q = 36 %) happen every few seconds. So n grows until
 * q^n <= LINK_DOWN_FALSE_P (a false "down" every ~10^4 s at 20 probes/s),
 * at most LINK_DOWN_PROBES_MAX_X times the configured count. */
#define LINK_DOWN_FALSE_P 1e-5
#define LINK_DOWN_PROBES_MAX_X 5

static uint64_t
down_probes(const struct braid_link *lh, const struct link_st *l)
{
	double q = 1.0 - (1.0 - link_rx_loss(l) / 1e6) * (1.0 - link_tx_loss(l) / 1e6);
	uint64_t n = lh->down_after, cap = (uint64_t)lh->down_after * LINK_DOWN_PROBES_MAX_X;
	double tail = 1.0;

	if (q <= 0.0)
		return n;
	for (uint64_t i = 0; i < n; i++)
		tail *= q;
	while (tail > LINK_DOWN_FALSE_P && n < cap) {
		tail *= q;
		n++;
	}
	return n;
}

/* The state the measurements ask for; thresholds depend on the current
 * health (enter when up, leave otherwise). */
static enum braid_link_state
link_quality(const struct braid_link *lh, const struct link_st *l, uint64_t now_ns)
{
	uint32_t loss, srtt_us;
	bool bad;

	/* Silent for down_after_probes intervals (more on a lossy link, see
	 * down_probes()), plus the RTT a reply to the last of those probes
	 * needs to come back: down. Replies to the fast re-probes of an
	 * overdue link then count too. */
	if (!l->have_reply || now_ns - l->last_reply_ns >=
	    lh->interval_ns * down_probes(lh, l) +
	    (l->rtt_valid ? (uint64_t)RTE_MAX(l->srtt, 0) : 0))
		return BRAID_LINK_DOWN;
	loss = RTE_MAX(link_rx_loss(l), link_tx_loss(l));
	srtt_us = l->rtt_valid ? (uint32_t)RTE_MIN((uint64_t)l->srtt / US_NS,
						   (uint64_t)UINT32_MAX) : 0;
	if (l->health == BRAID_LINK_UP)
		bad = loss > lh->loss_enter_ppm ||
		      (lh->rtt_enter_us != 0 && srtt_us > lh->rtt_enter_us);
	else
		bad = loss > lh->loss_leave_ppm ||
		      (lh->rtt_leave_us != 0 && srtt_us > lh->rtt_leave_us);
	return bad ? BRAID_LINK_DEGRADED : BRAID_LINK_UP;
}

static void
link_eval(struct braid_link *lh, struct link_st *l, uint64_t now_ns)
{
	enum braid_link_state q;

	if (l->admin)
		return;
	q = link_quality(lh, l, now_ns);
	if (q < l->health) {
		/* Worse: at once. Repeated failures (the link going down)
		 * double the hold time; loss crossing the degrade threshold
		 * back and forth does not, or a link with steady random loss
		 * near the threshold would earn an ever longer hold. */
		if (q != BRAID_LINK_DOWN)
			l->hold_ns = RTE_MAX(RTE_MIN(l->hold_ns, lh->up_hold_ns),
					     lh->up_hold_ns);
		else if (l->worsened && now_ns - l->last_worsen_ns < lh->hold_max_ns)
			l->hold_ns = RTE_MIN(RTE_MAX(2 * l->hold_ns, lh->interval_ns),
					     lh->hold_max_ns);
		else
			l->hold_ns = lh->up_hold_ns;
		if (q == BRAID_LINK_DOWN) {
			l->worsened = true;
			l->last_worsen_ns = now_ns;
			est_fall_back(lh, l, now_ns);
		}
		l->health = q;
		l->improving = false;
	} else if (q > l->health) {
		/* Better: only after it has held for the hold time. */
		if (!l->improving) {
			l->improving = true;
			l->improve_since = now_ns;
		}
		if (now_ns - l->improve_since >= l->hold_ns) {
			l->health = q;
			l->improving = false;
		}
	} else {
		l->improving = false;
	}
}

static void
link_publish(struct braid_link *lh, uint16_t i, uint64_t now_ns);

/* Recompute the usable capacity; on a tick let it rise. Publishes (and
 * calls back) when the state or the capacity moved enough. */
static void
link_capacity(struct braid_link *lh, uint16_t i, uint64_t now_ns, bool tick)
{
	struct link_st *l = &lh->links[i];
	double cap = (double)l->capacity_kbps;
	double target;
	uint64_t kbps, diff;
	uint64_t thr = RTE_MAX(l->capacity_kbps * lh->change_permille / 1000, (uint64_t)1);

	if (l->state == BRAID_LINK_DOWN || l->state == BRAID_LINK_ADMIN_DOWN) {
		target = 0.0;
	} else {
		/* Loss does not lower it: lost frames used the link too, and
		 * the parity and retransmissions that repair them are charged
		 * to the links by the scheduler; discounting the loss as well
		 * would pay for it twice. */
		target = cap;
		/* What the link's queue says it carries (est_sample()). */
		if (l->est > 0.0 && l->est < target)
			target = l->est;
		if (l->state == BRAID_LINK_DEGRADED)
			target = target * lh->degraded_permille / 1000.0;
	}
	if (target <= l->usable) {
		l->usable = target;
		l->usable_ns = now_ns;
	} else if (!l->ever_up) {
		/* First time up: nothing suggests it cannot carry its
		 * capacity; the smooth rise is for links back from a failure. */
		l->usable = target;
		l->usable_ns = now_ns;
		l->ever_up = true;
	} else if (tick) {
		double a = 1.0 - ewma_decay(now_ns - l->usable_ns, lh->cap_tau_ns);

		l->usable += (target - l->usable) * a;
		/* Within a publication step of the target counts as there. */
		if (target - l->usable < (double)thr)
			l->usable = target;
		l->usable_ns = now_ns;
	}
	if (l->usable > cap)
		l->usable = cap;
	/* A suspect link keeps its usable capacity for when it is heard
	 * again; the scheduler gets 0 meanwhile. */
	kbps = l->suspect ? 0 : (uint64_t)l->usable;
	diff = kbps > l->published_kbps ? kbps - l->published_kbps :
		l->published_kbps - kbps;
	if (l->published_once && l->published_state == l->state &&
	    (kbps == 0) == (l->published_kbps == 0) && diff < thr &&
	    !(kbps == (uint64_t)target && diff > 0))
		return;
	l->published_once = true;
	l->published_kbps = kbps;
	l->published_state = l->state;
	__atomic_store_n(&l->pub_usable, kbps, __ATOMIC_RELAXED);
	__atomic_store_n(&l->pub_state, (uint32_t)l->state, __ATOMIC_RELAXED);
	__atomic_fetch_add(&lh->generation, 1, __ATOMIC_RELEASE);
	lh->cnt.capacity_updates++;
	link_publish(lh, i, now_ns);
	if (lh->on_change != NULL)
		lh->on_change(lh->on_change_arg, i, l->state, kbps);
}

static void
link_set_state(struct braid_link *lh, uint16_t i, uint64_t now_ns)
{
	struct link_st *l = &lh->links[i];
	enum braid_link_state s = l->admin ? BRAID_LINK_ADMIN_DOWN : l->health;

	if (s == l->state)
		return;
	LINK_LOG(INFO, "link %u: %s -> %s (hold %" PRIu64 " ms)", i,
		 braid_link_state_name(l->state), braid_link_state_name(s),
		 (uint64_t)(l->hold_ns / MS_NS));
	l->state = s;
	l->state_changes++;
	l->last_change_ns = now_ns;
	lh->cnt.state_changes++;
	if ((s == BRAID_LINK_UP || s == BRAID_LINK_DEGRADED) && l->usable <= 0.0) {
		/* Back in use: the ramp starts with one interval's step, so a
		 * usable state is never published with capacity 0. */
		l->usable_ns = now_ns - RTE_MIN(now_ns, lh->interval_ns);
		link_capacity(lh, i, now_ns, true);
	} else {
		link_capacity(lh, i, now_ns, false);
	}
}

/* Per-interval estimates of the receive side. */
static void
link_tick(struct braid_link *lh, struct link_st *l, uint64_t now_ns)
{
	uint64_t expected, received, lost;

	link_view(l, &expected, &received, &lost);
	if (l->snap_valid && now_ns > l->snap_ns) {
		uint64_t dt = now_ns - l->snap_ns;
		double d_exp = (double)(int64_t)(expected - l->snap_expected);
		double d_lost = (double)(int64_t)(lost - l->snap_lost);
		double decay = ewma_decay(dt, lh->loss_tau_ns);
		double inst = (double)(l->rx_bytes - l->snap_bytes) * 8e9 / (double)dt;

		l->rx_total = l->rx_total * decay + d_exp;
		l->rx_lostw = l->rx_lostw * decay + d_lost;
		if (!l->rate_valid) {
			l->rate_valid = true;
			l->rate_bps = inst;
		} else {
			l->rate_bps += (inst - l->rate_bps) *
				(1.0 - ewma_decay(dt, lh->rate_tau_ns));
		}
	}
	l->snap_valid = true;
	l->snap_ns = now_ns;
	l->snap_expected = expected;
	l->snap_lost = lost;
	l->snap_bytes = l->rx_bytes;
}

static void
link_publish(struct braid_link *lh, uint16_t i, uint64_t now_ns)
{
	struct link_st *l = &lh->links[i];
	struct link_pub *p = &lh->pub[i];
	struct braid_link_info in;
	int64_t tmin_all = INT64_MAX;

	RTE_SET_USED(now_ns);
	for (uint16_t j = 0; j < lh->n_links; j++)
		if (lh->links[j].tmin.valid)
			tmin_all = RTE_MIN(tmin_all, link_winmin_get(&lh->links[j].tmin));

	memset(&in, 0, sizeof(in));
	in.state = l->state;
	in.health = l->health;
	if (l->rtt_valid) {
		in.rtt_min_us = (uint32_t)RTE_MIN(
			(uint64_t)link_winmin_get(&l->rtt_min) / US_NS, (uint64_t)UINT32_MAX);
		in.srtt_us = (uint32_t)RTE_MIN((uint64_t)l->srtt / US_NS, (uint64_t)UINT32_MAX);
		in.rttvar_us = (uint32_t)RTE_MIN((uint64_t)l->rttvar / US_NS,
						 (uint64_t)UINT32_MAX);
	}
	in.jitter_us = (uint32_t)RTE_MIN((uint64_t)(l->jitter16 >> 4) / US_NS,
					 (uint64_t)UINT32_MAX);
	in.owd_var_us = (uint32_t)RTE_MIN((uint64_t)(l->owdv16 >> 4) / US_NS,
					  (uint64_t)UINT32_MAX);
	if (l->tmin.valid)
		in.owd_offset_us = (link_winmin_get(&l->tmin) - tmin_all) / (int64_t)US_NS;
	in.rx_loss_ppm = link_rx_loss(l);
	in.tx_loss_ppm = link_tx_loss(l);
	in.delivered_kbps = l->rate_valid && l->rate_bps > 0 ?
		(uint64_t)(l->rate_bps / 1000.0) : 0;
	in.usable_kbps = l->published_kbps;
	in.capacity_kbps = l->capacity_kbps;
	in.estimated_kbps = l->est > 0.0 ? (uint64_t)l->est : l->capacity_kbps;
	in.queue_us = (uint32_t)RTE_MIN((uint64_t)RTE_MAX(l->q_last, 0) / 1000, UINT32_MAX);
	in.capacity_cuts = l->est_cuts;
	in.probes_sent = l->probes_sent;
	in.probes_answered = l->probes_answered;
	in.probes_lost = l->probes_lost;
	in.replies_late = l->replies_late;
	in.mtu = (enum braid_link_mtu_state)l->mtu_state;
	in.mtu_probes_lost = l->mtu_probes_lost;
	in.rx_packets = l->seq.received;
	in.rx_bytes = l->rx_bytes;
	in.rx_lost = link_seq_lost(&l->seq);
	in.rx_dup = l->seq.dup;
	in.rx_late = l->seq.late;
	in.rx_max_seq = (uint32_t)l->seq.max;
	in.peer_rx_packets = l->peer_rx;
	in.peer_lost = l->peer_lost;
	in.state_changes = l->state_changes;
	in.last_change_ns = l->last_change_ns;
	in.hold_ms = (uint32_t)(l->hold_ns / MS_NS);
	in.suspect = l->suspect;
	in.suspects = l->suspects;

	rte_seqcount_write_begin(&p->sc);
	memcpy(&p->info, &in, sizeof(in));
	rte_seqcount_write_end(&p->sc);
}

/* A probe is lost when unanswered for probe_timeout_ms, or for the RTO
 * of RFC 6298 (SRTT + 4 RTTVAR) where that is longer: a satellite hop's
 * replies come after a second and are answers, not losses. At most the
 * probes the slots remember. */
static uint64_t
link_probe_timeout(const struct braid_link *lh, const struct link_st *l)
{
	uint64_t rto;

	if (!l->rtt_valid)
		return lh->timeout_ns;
	rto = (uint64_t)RTE_MAX(l->srtt, 0) + 4 * (uint64_t)RTE_MAX(l->rttvar, 0);
	return RTE_MIN(RTE_MAX(lh->timeout_ns, rto),
		       (uint64_t)(BRAID_LINK_PROBE_SLOTS - 1) * lh->interval_ns);
}

/* An MTU probe went unanswered. Lost in a row while the small probes
 * around them are answered: the path's MTU is smaller than the link's
 * (a tunnel, PPPoE, a black-holing middlebox). It says so, and the link's
 * state is left to the small probes. */
static void
mtu_probe_lost(struct braid_link *lh, struct link_st *l)
{
	l->mtu_probes_lost++;
	lh->cnt.mtu_probes_lost++;
	if (l->mtu_lost_row < UINT8_MAX)
		l->mtu_lost_row++;
	if (l->mtu_lost_row >= BRAID_LINK_MTU_FAIL_AFTER && l->have_reply &&
	    l->mtu_state != BRAID_LINK_MTU_TOO_SMALL) {
		l->mtu_state = BRAID_LINK_MTU_TOO_SMALL;
		LINK_LOG(WARNING, "link %u: frames of %u payload bytes do not cross it while "
			 "small ones do: its path MTU is smaller than its port's (lower ports[].mtu)",
			 (unsigned int)(l - lh->links), l->mtu_probe_len);
	}
}

/* Probes unanswered for the timeout are lost (probes are in send order,
 * so the scan stops at the first one still in time). */
static void
link_timeouts(struct braid_link *lh, struct link_st *l, uint64_t now_ns)
{
	uint64_t timeout_ns = link_probe_timeout(lh, l);

	while (l->scan_id != l->next_id) {
		struct probe_slot *s = &l->slots[l->scan_id & LINK_SLOT_MASK];

		if (s->state == SLOT_OUT && s->id == l->scan_id) {
			if (now_ns - s->tx_ns < timeout_ns)
				break;
			s->state = SLOT_LOST;
			if (s->mtu)
				mtu_probe_lost(lh, l);
			else {
				l->probes_lost++;
				lh->cnt.probes_lost++;
			}
		}
		l->scan_id++;
	}
}

static bool
link_usable_state(const struct link_st *l)
{
	return l->state == BRAID_LINK_UP || l->state == BRAID_LINK_DEGRADED;
}

/*
 * Receive silence: the peer's frames stopped on link @p i for
 * silence_gaps mean gaps (at least silence_min_ms) while another usable
 * link kept receiving for half that time after them. A link works only
 * both ways (probe replies come back on it), and the probes need
 * down_after_probes intervals to show it; the data the peer sends shows
 * it within a few frame gaps. The link is suspect: capacity 0, state
 * unchanged (no hold-down), until any frame of the peer arrives on it.
 */
static void
link_silence(struct braid_link *lh, uint16_t i, uint64_t now_ns)
{
	struct link_st *l = &lh->links[i];
	uint64_t thr;

	if (lh->silence_gaps == 0 || l->suspect || l->gaps_seen < LINK_SILENCE_WARMUP ||
	    !link_usable_state(l))
		return;
	thr = RTE_MAX(l->gap_ewma_ns * lh->silence_gaps, lh->silence_min_ns);
	if (now_ns - l->last_rx_ns <= thr)
		return;
	for (uint16_t j = 0; j < lh->n_links; j++) {
		const struct link_st *o = &lh->links[j];

		if (j == i || o->suspect || !link_usable_state(o) ||
		    o->last_rx_ns <= l->last_rx_ns + thr / 2 || now_ns - o->last_rx_ns > thr)
			continue;
		l->suspect = true;
		l->suspect_ns = now_ns;
		l->suspects++;
		lh->cnt.suspects++;
		LINK_LOG(DEBUG, "link %u: suspect, silent %" PRIu64 " us (mean gap %" PRIu64
			 " us) while link %u receives", i, (uint64_t)((now_ns - l->last_rx_ns) / US_NS),
			 (uint64_t)(l->gap_ewma_ns / US_NS), j);
		link_capacity(lh, i, now_ns, false);
		return;
	}
}

/* Record probe @p p about to go out; @return its payload length if it
 * is an MTU probe (padded), else 0. */
static uint16_t
link_probe_record(struct braid_link *lh, struct link_st *l, uint64_t now_ns,
		  struct braid_probe *p)
{
	struct probe_slot *s = &l->slots[l->next_id & LINK_SLOT_MASK];
	bool mtu = false;

	if (s->state == SLOT_OUT) {
		/* Only when probes were held back: the slot's probe is
		 * older than the ring, hence lost. */
		if (s->mtu)
			mtu_probe_lost(lh, l);
		else {
			l->probes_lost++;
			lh->cnt.probes_lost++;
		}
	}
	/* One in BRAID_LINK_MTU_PROBE_EVERY, once the link answers. */
	if (l->mtu_probe_len != 0 && l->have_reply && --l->mtu_countdown == 0) {
		l->mtu_countdown = BRAID_LINK_MTU_PROBE_EVERY;
		mtu = true;
	}
	if (l->scan_id == l->next_id - BRAID_LINK_PROBE_SLOTS)
		l->scan_id++;
	s->id = l->next_id;
	s->tx_ns = now_ns;
	s->state = SLOT_OUT;
	s->mtu = mtu;
	p->probe_id = l->next_id;
	p->tx_ns = now_ns;
	l->next_id++;
	l->probes_sent++;
	lh->cnt.probes_sent++;
	l->next_probe_ns += lh->interval_ns;
	if (l->next_probe_ns <= now_ns)
		l->next_probe_ns = now_ns + lh->interval_ns;
	/* A reply overdue (more than an interval plus the RTT): probe four
	 * times as often until one comes, as BFD's poll sequence does. The
	 * down_after_probes intervals before "down" then hold many probes,
	 * so random loss alone does not take a working link down, while a
	 * dead one is still down within those intervals. */
	if (l->have_reply && l->rtt_valid &&
	    now_ns - l->last_reply_ns > lh->interval_ns + (uint64_t)RTE_MAX(l->srtt, 0))
		l->next_probe_ns = RTE_MIN(l->next_probe_ns, now_ns + lh->interval_ns / 4);
	return mtu ? l->mtu_probe_len : 0;
}

uint16_t
braid_link_update(struct braid_link *lh, uint64_t now_ns,
		  struct braid_link_probe_tx *out, uint16_t n)
{
	uint16_t k = 0;

	if (unlikely(!lh->started)) {
		/* Spread the links' probes over the first interval. */
		lh->started = true;
		for (uint16_t i = 0; i < lh->n_links; i++) {
			struct link_st *l = &lh->links[i];

			l->next_probe_ns = now_ns + lh->interval_ns * i / lh->n_links;
			l->next_tick_ns = l->next_probe_ns;
			l->usable_ns = now_ns;
		}
	}
	for (uint16_t i = 0; i < lh->n_links; i++) {
		struct link_st *l = &lh->links[i];
		bool admin = __atomic_load_n(&l->admin_req, __ATOMIC_ACQUIRE) != 0;
		bool tick = false;

		if (admin != l->admin) {
			l->admin = admin;
			if (!admin) {
				/* Back from admin down: measured afresh. */
				l->health = BRAID_LINK_DOWN;
				l->improving = false;
				l->have_reply = false;
			}
		}
		link_timeouts(lh, l, now_ns);
		if (now_ns >= l->next_tick_ns) {
			link_tick(lh, l, now_ns);
			l->next_tick_ns += lh->interval_ns;
			if (l->next_tick_ns <= now_ns)
				l->next_tick_ns = now_ns + lh->interval_ns;
			tick = true;
		}
		if (!l->admin && now_ns >= l->next_probe_ns && k < n) {
			out[k].link = i;
			out[k].pad_len = link_probe_record(lh, l, now_ns, &out[k].probe);
			k++;
		} else if (l->admin) {
			l->next_probe_ns = RTE_MAX(l->next_probe_ns, now_ns);
		}
		link_eval(lh, l, now_ns);
		link_set_state(lh, i, now_ns);
		link_silence(lh, i, now_ns);
		if (tick) {
			link_capacity(lh, i, now_ns, true);
			link_publish(lh, i, now_ns);
		}
	}
	return k;
}

uint16_t
braid_link_poll(struct braid_link *lh, uint64_t now_ns, struct rte_mbuf **out,
		uint16_t n)
{
	uint16_t k, j = 0;
	uint64_t no_mbuf = 0;

	k = braid_link_update(lh, now_ns, lh->probe_buf,
			      (uint16_t)RTE_MIN(n, (uint16_t)BRAID_LINK_MAX_LINKS));
	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = NULL;

		if (lh->pool != NULL)
			m = braid_wire_probe_build_padded(lh->probe_buf[i].pad_len != 0 ?
							  lh->mtu_pool : lh->pool,
							  lh->probe_buf[i].link,
							  &lh->probe_buf[i].probe,
							  lh->probe_buf[i].pad_len);
		if (m == NULL) {
			no_mbuf++;
			continue;
		}
		out[j++] = m;
	}
	lh->cnt.drop_no_mbuf += no_mbuf;
	return j;
}

/* ---------------------------------------------------------- mbuf burst */

uint16_t
braid_link_burst(struct braid_link *lh, struct rte_mbuf **pkts, uint16_t n,
		 struct rte_mbuf **tx, uint16_t *n_tx, uint64_t now_ns)
{
	uint64_t probes = 0, replies = 0, stale = 0, bad_link = 0, malformed = 0;
	uint64_t no_mbuf = 0, sent = 0;
	uint16_t kept = 0, t = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *md = braid_meta(m);
		uint8_t type = md->pkt_type;
		bool ctrl = type == BRAID_PKT_PROBE || type == BRAID_PKT_PROBE_REPLY;
		uint64_t rx_ns = md->rx_ns != 0 ? md->rx_ns : now_ns;
		uint16_t link = md->link_id;
		const struct braid_hdr *h;
		bool fresh;

		/* The braid header sits right before the data after decap. */
		fresh = m->data_off >= sizeof(struct braid_hdr) &&
			rte_pktmbuf_headroom(m) >= sizeof(struct braid_hdr);
		if (!fresh || link >= lh->n_links) {
			if (!ctrl) {
				pkts[kept++] = m;
				continue;
			}
			if (!fresh)
				malformed++;
			else
				bad_link++;
			rte_pktmbuf_free(m);
			continue;
		}
		h = braid_decap_hdr(m);
		if (braid_link_session(lh, rte_be_to_cpu_32(h->session_id), now_ns) != 0) {
			if (!ctrl) {
				pkts[kept++] = m;
				continue;
			}
			stale++;
			rte_pktmbuf_free(m);
			continue;
		}
		braid_link_rx(lh, link, rte_be_to_cpu_32(h->link_seq),
			      braid_link_peer_tx_ns(rte_be_to_cpu_32(h->tx_us)),
			      m->pkt_len + (uint32_t)BRAID_WIRE_OVERHEAD, rx_ns);
		if (!ctrl) {
			pkts[kept++] = m;
			continue;
		}
		if (type == BRAID_PKT_PROBE) {
			struct braid_probe p;
			struct braid_probe_reply r;
			struct rte_mbuf *rm = NULL;

			if (braid_wire_probe_parse(m, &p) != 0) {
				malformed++;
				rte_pktmbuf_free(m);
				continue;
			}
			probes++;
			if (braid_link_probe_rx(lh, link, &p, rx_ns, now_ns, &r) != 0) {
				/* admin down: a down link carries nothing */
				rte_pktmbuf_free(m);
				continue;
			}
			if (lh->pool != NULL)
				rm = braid_wire_probe_reply_build(lh->pool, link, &r);
			if (rm == NULL) {
				no_mbuf++;
			} else {
				tx[t++] = rm;
				sent++;
			}
		} else {
			struct braid_probe_reply r;

			if (braid_wire_probe_reply_parse(m, &r) != 0) {
				malformed++;
				rte_pktmbuf_free(m);
				continue;
			}
			replies++;
			braid_link_reply_rx(lh, link, &r, rx_ns);
		}
		rte_pktmbuf_free(m);
	}
	lh->cnt.rx_frames += n;
	lh->cnt.passed += kept;
	lh->cnt.rx_probes += probes;
	lh->cnt.rx_replies += replies;
	lh->cnt.replies_sent += sent;
	lh->cnt.drop_stale_session += stale;
	lh->cnt.drop_bad_link += bad_link;
	lh->cnt.drop_malformed += malformed;
	lh->cnt.drop_no_mbuf += no_mbuf;
	*n_tx = t;
	return kept;
}

/* -------------------------------------------------------------- reads */

int
braid_link_admin_set(struct braid_link *lh, uint16_t link, bool down)
{
	if (lh == NULL || link >= lh->n_links)
		return -EINVAL;
	__atomic_store_n(&lh->links[link].admin_req, (uint8_t)down, __ATOMIC_RELEASE);
	return 0;
}

int
braid_link_capacity_set(struct braid_link *lh, uint16_t link, uint64_t capacity_kbps)
{
	if (lh == NULL || link >= lh->n_links || capacity_kbps < 1 ||
	    capacity_kbps > 100000000ULL)
		return -EINVAL;
	lh->links[link].capacity_kbps = capacity_kbps;
	return 0;
}

uint64_t
braid_link_usable_kbps(const struct braid_link *lh, uint16_t link)
{
	if (lh == NULL || link >= lh->n_links)
		return 0;
	return __atomic_load_n(&lh->links[link].pub_usable, __ATOMIC_ACQUIRE);
}

enum braid_link_state
braid_link_state(const struct braid_link *lh, uint16_t link)
{
	if (lh == NULL || link >= lh->n_links)
		return BRAID_LINK_ADMIN_DOWN;
	return (enum braid_link_state)__atomic_load_n(&lh->links[link].pub_state,
						      __ATOMIC_ACQUIRE);
}

uint64_t
braid_link_generation(const struct braid_link *lh)
{
	return __atomic_load_n(&lh->generation, __ATOMIC_ACQUIRE);
}

int
braid_link_info_get(const struct braid_link *lh, uint16_t link,
		    struct braid_link_info *info)
{
	const struct link_pub *p;
	uint32_t sn;

	if (lh == NULL || info == NULL || link >= lh->n_links)
		return -EINVAL;
	p = &lh->pub[link];
	do {
		sn = rte_seqcount_read_begin(&p->sc);
		memcpy(info, &p->info, sizeof(*info));
	} while (rte_seqcount_read_retry(&p->sc, sn));
	return 0;
}

void
braid_link_best2(const struct braid_link *lh, uint16_t dflt, struct braid_link_best *b)
{
	uint32_t rtt[2] = { UINT32_MAX, UINT32_MAX };

	b->link[0] = b->link[1] = dflt;
	b->srtt_ns = b->rttvar_ns = 0;
	b->usable_Bps = 0;
	for (uint16_t l = 0; l < lh->n_links; l++) {
		struct braid_link_info li;

		if (braid_link_info_get(lh, l, &li) != 0 || !braid_link_info_usable(&li))
			continue;
		b->usable_Bps += li.usable_kbps * 125;
		if (li.srtt_us == 0)
			continue;
		if (li.srtt_us < rtt[0]) {
			rtt[1] = rtt[0];
			b->link[1] = b->link[0];
			rtt[0] = li.srtt_us;
			b->link[0] = l;
			b->srtt_ns = (uint64_t)li.srtt_us * 1000;
			b->rttvar_ns = (uint64_t)li.rttvar_us * 1000;
		} else if (li.srtt_us < rtt[1]) {
			rtt[1] = li.srtt_us;
			b->link[1] = l;
		}
	}
	if (rtt[1] == UINT32_MAX)
		b->link[1] = b->link[0];
}

void
braid_link_stats(const struct braid_link *lh, struct braid_link_stats *c)
{
#define LINK_CNT_COPY_(n) c->n = lh->cnt.n;
	BRAID_LINK_COUNTERS(LINK_CNT_COPY_)
#undef LINK_CNT_COPY_
}

/* --------------------------------------------------------------- stage */

static void
stage_send(struct braid_link *lh, struct rte_mbuf **m, uint16_t k,
	   struct braid_burst *out)
{
	uint16_t done = 0;

	if (k == 0)
		return;
	if (lh->tx_ring != NULL) {
		done = (uint16_t)rte_ring_enqueue_burst(lh->tx_ring, (void **)m, k, NULL);
	} else {
		while (done < k && braid_burst_push(out, m[done]) == 0)
			done++;
	}
	if (done < k) {
		lh->cnt.drop_tx_full += k - done;
		rte_pktmbuf_free_bulk(&m[done], k - done);
	}
}

static void
link_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		   struct braid_burst *out, uint64_t now_ns)
{
	struct braid_link *lh = ctx;
	struct rte_mbuf *ctrl[BRAID_BURST_OUT_MAX];
	uint64_t out_full = 0, segmented = 0, linearized = 0, unchained = 0;
	uint16_t n_tx = 0, n_ctrl = 0, kept;

	kept = braid_link_burst(lh, pkts, n, lh->tx_buf, &n_tx, now_ns);
	for (uint16_t i = 0; i < kept; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t type = braid_meta(m)->pkt_type;
		int ret;

		if (type != BRAID_PKT_DATA && type != BRAID_PKT_PARITY &&
		    lh->ctrl_ring != NULL) {
			ctrl[n_ctrl++] = m;
			continue;
		}
		/* The header's last reader was braid_link_burst(). */
		ret = braid_decap_flatten(&m, &unchained);
		if (unlikely(ret < 0)) {
			rte_pktmbuf_free(m);
			segmented++;
			continue;
		}
		linearized += (uint64_t)ret;
		if (unlikely(braid_burst_push(out, m) != 0)) {
			rte_pktmbuf_free(m);
			out_full++;
		}
	}
	if (n_ctrl > 0) {
		unsigned int sent = rte_ring_enqueue_burst(lh->ctrl_ring, (void **)ctrl,
							   n_ctrl, NULL);

		if (sent < n_ctrl) {
			rte_pktmbuf_free_bulk(&ctrl[sent], n_ctrl - sent);
			lh->cnt.drop_ctrl_full += n_ctrl - sent;
		}
	}
	lh->cnt.drop_out_full += out_full;
	lh->cnt.drop_segmented += segmented;
	lh->cnt.linearized += linearized;
	lh->cnt.unchained += unchained;
	stage_send(lh, lh->tx_buf, n_tx, out);
}

static uint16_t
link_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_link *lh = ctx;
	uint16_t k;

	k = braid_link_poll(lh, now_ns, lh->tx_buf, BRAID_LINK_MAX_LINKS);
	stage_send(lh, lh->tx_buf, k, out);
	return k;
}

static void
link_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_link *lh = ctx;

	BRAID_COUNTERS_REPORT(BRAID_LINK_COUNTERS, &lh->cnt, fn, arg);
}

static int
link_stage_apply(void *ctx, const void *cmd)
{
	struct braid_link *lh = ctx;
	const struct braid_link_cmd *c = cmd;

	switch (c->op) {
	case BRAID_LINK_CMD_ADMIN:
		return braid_link_admin_set(lh, c->link, c->admin_down);
	case BRAID_LINK_CMD_CAPACITY:
		return braid_link_capacity_set(lh, c->link, c->capacity_kbps);
	default:
		return -EINVAL;
	}
}

const struct braid_stage_ops braid_link_stage_ops = {
	.kind = "link_health",
	.flags = 0,
	.cmd_size = sizeof(struct braid_link_cmd),
	.apply = link_stage_apply,
	.process = link_stage_process,
	.poll = link_stage_poll,
	.drain = NULL,
	.stats = link_stage_stats,
};
