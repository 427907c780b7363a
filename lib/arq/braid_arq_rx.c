/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiver half of the NACK policy: which missing seqs to ask for, when,
 * how often, packed into which NACKs, within which budget.
 *
 * Per ARQ class a ring of track_seqs slots indexed by seq & mask holds the
 * state of each missing seq seen in the reorder gaps (tries, last NACK,
 * skip time). Slots exist only for seqs in [base, base + track_seqs) where
 * base is the reorder stage's next expected seq at the tick that made
 * them, so a slot's seq tells whether it is current, and the walk that
 * resolves slots covers at most track_seqs seqs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arq_priv.h"
#include "braid_arq.h"
#include "braid_link.h"
#include "braid_meta.h"
#include "braid_reorder.h"
#include "braid_wire.h"

#define RX_VALID     0x1  /* slot holds the state of slot.seq */
#define RX_DEAD      0x2  /* given up: too late for a retransmission */
#define RX_EXHAUSTED 0x4  /* given up: max_tries NACKs sent */

struct rx_slot {
	uint64_t last_ns;   /* time of the last NACK naming it */
	uint64_t skip_ns;   /* the reorder stage skips it then */
	uint32_t seq;
	uint8_t tries;      /* NACKs sent naming it */
	uint8_t flags;      /* RX_* */
};

struct rx_class {
	struct rx_slot *ring;           /* NULL: class without ARQ */
	struct braid_reorder_gap *gaps; /* this tick's gaps (max_gaps) */
	bool on;         /* NACKing on (implies ring) */
	uint32_t mask;
	uint32_t base;   /* next expected seq at the last tick: no slot below */
	uint32_t top;    /* highest seq that got a slot + 1 (top - base <= size) */
	int ng;          /* gaps this tick */
	bool started;
	bool spread_set;
	uint64_t spread_ns;  /* the delay spread of this class's links */
};

struct braid_arq_rx {
	struct braid_arq_rx_stats cnt __rte_cache_aligned;
	char name[BRAID_ARQ_NAMESIZE + 1];
	const struct braid_reorder *reorder;
	struct arq_bucket bucket;
	uint64_t srtt_ns;
	uint64_t rttvar_ns;
	uint64_t spread_ns;
	uint64_t allow_conf_ns;   /* 0: derived */
	uint64_t min_interval_ns;
	uint64_t tick_ns;
	uint64_t next_tick_ns;
	uint64_t reorder_lost;    /* the reorder stage's lost counter, last tick */
	struct braid_seq_range *runs;      /* scratch, max_runs */
	struct braid_reorder_gap *gap_mem; /* scratch, n_classes x max_gaps */
	uint32_t tracked;
	uint32_t max_runs;
	uint16_t max_gaps;
	uint16_t n_classes;
	uint8_t max_tries;
	bool spread_set;
	/* The stage (braid_arq_rx_stage_ops). */
	struct braid_arq_rx_stage_stats scnt __rte_cache_aligned;
	uint64_t recovered[BRAID_ARQ_MAX_CLASSES];   /* scnt.recovered by class */
	const struct braid_link *link;
	uint64_t spread_next_ns;   /* the stage's next delay spread update */
	struct rte_mempool *pool;
	struct rte_ring *tx_ring;
	uint64_t reorder_resets;                      /* last seen, all classes */
	uint64_t class_resets[BRAID_ARQ_MAX_CLASSES]; /* last seen, per class */
	struct rx_class cls[BRAID_ARQ_MAX_CLASSES] __rte_cache_aligned;
};

static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void
braid_arq_rx_free(struct braid_arq_rx *rx)
{
	if (rx == NULL)
		return;
	for (uint16_t i = 0; i < rx->n_classes; i++)
		rte_free(rx->cls[i].ring);
	rte_free(rx->runs);
	rte_free(rx->gap_mem);
	rte_free(rx);
}

static int
rx_conf_check(const struct braid_arq_rx_conf *conf)
{
	uint32_t burst = conf->nack_burst != 0 ? conf->nack_burst :
		BRAID_ARQ_DEFAULT_NACK_BURST;

	if (!arq_name_ok(conf->name)) {
		ARQ_LOG(ERR, "arq_rx: name must be 1..%u characters", BRAID_ARQ_NAMESIZE);
		return -EINVAL;
	}
	if (conf->reorder == NULL || conf->classes == NULL) {
		ARQ_LOG(ERR, "arq_rx %s: reorder and classes are required", conf->name);
		return -EINVAL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_ARQ_MAX_CLASSES) {
		ARQ_LOG(ERR, "arq_rx %s: n_classes %u not in 1..%u", conf->name,
			conf->n_classes, BRAID_ARQ_MAX_CLASSES);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < conf->n_classes; i++) {
		uint32_t t = conf->classes[i].track_seqs;
		struct braid_reorder_class_info info;

		if (t == 0)
			continue;
		if (!rte_is_power_of_2(t) || t < BRAID_ARQ_MIN_TRACK ||
		    t > BRAID_ARQ_MAX_TRACK) {
			ARQ_LOG(ERR, "arq_rx %s: classes[%u].track_seqs %" PRIu32
				" is not a power of two in %u..%u", conf->name, i, t,
				BRAID_ARQ_MIN_TRACK, BRAID_ARQ_MAX_TRACK);
			return -EINVAL;
		}
		if (braid_reorder_class_info(conf->reorder, i, &info) != 0) {
			ARQ_LOG(ERR, "arq_rx %s: classes[%u] does not exist in the reorder stage",
				conf->name, i);
			return -EINVAL;
		}
	}
	if (conf->max_tries > BRAID_ARQ_MAX_TRIES) {
		ARQ_LOG(ERR, "arq_rx %s: max_tries %u above %u", conf->name,
			conf->max_tries, BRAID_ARQ_MAX_TRIES);
		return -EINVAL;
	}
	if (conf->nack_rate > BRAID_ARQ_MAX_RATE) {
		ARQ_LOG(ERR, "arq_rx %s: nack_rate %" PRIu64 " above %" PRIu64,
			conf->name, conf->nack_rate, (uint64_t)BRAID_ARQ_MAX_RATE);
		return -EINVAL;
	}
	if (burst < BRAID_WIRE_OVERHEAD + BRAID_NACK_MAX_LEN || burst > BRAID_ARQ_MAX_BURST) {
		ARQ_LOG(ERR, "arq_rx %s: nack_burst %" PRIu32 " not in %zu..%u (one largest NACK frame)",
			conf->name, burst, BRAID_WIRE_OVERHEAD + BRAID_NACK_MAX_LEN,
			BRAID_ARQ_MAX_BURST);
		return -EINVAL;
	}
	return 0;
}

struct braid_arq_rx *
braid_arq_rx_create(const struct braid_arq_rx_conf *conf, int socket)
{
	struct braid_arq_rx *rx;

	if (conf == NULL) {
		ARQ_LOG(ERR, "arq_rx: conf is required");
		rte_errno = EINVAL;
		return NULL;
	}
	if (rx_conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	rx = rte_zmalloc_socket(conf->name, sizeof(*rx), RTE_CACHE_LINE_SIZE, socket);
	if (rx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	strlcpy(rx->name, conf->name, sizeof(rx->name));
	rx->reorder = conf->reorder;
	rx->link = conf->link;
	rx->pool = conf->pool;
	rx->tx_ring = conf->tx_ring;
	rx->reorder_resets = braid_reorder_resets(conf->reorder);
	for (uint16_t i = 0; i < conf->n_classes; i++) {
		struct braid_reorder_class_info info;

		if (braid_reorder_class_info(conf->reorder, i, &info) == 0)
			rx->class_resets[i] = info.resets;
	}
	rx->n_classes = conf->n_classes;
	rx->allow_conf_ns = conf->reorder_allow_ns;
	rx->min_interval_ns = conf->min_interval_ns != 0 ? conf->min_interval_ns :
		BRAID_ARQ_DEFAULT_MIN_INTERVAL_NS;
	rx->max_tries = conf->max_tries != 0 ? conf->max_tries : BRAID_ARQ_DEFAULT_MAX_TRIES;
	rx->tick_ns = conf->tick_ns != 0 ? conf->tick_ns : BRAID_ARQ_DEFAULT_TICK_NS;
	rx->srtt_ns = conf->init_srtt_ns != 0 ? conf->init_srtt_ns : BRAID_ARQ_DEFAULT_SRTT_NS;
	rx->rttvar_ns = rx->srtt_ns / 2;
	rx->max_gaps = conf->max_gaps != 0 ? conf->max_gaps : BRAID_ARQ_DEFAULT_MAX_GAPS;
	rx->max_runs = conf->max_runs != 0 ? conf->max_runs : BRAID_ARQ_DEFAULT_MAX_RUNS;
	arq_bucket_init(&rx->bucket,
			conf->nack_rate != 0 ? conf->nack_rate : BRAID_ARQ_DEFAULT_NACK_RATE,
			conf->nack_burst != 0 ? conf->nack_burst : BRAID_ARQ_DEFAULT_NACK_BURST);

	rx->runs = rte_malloc_socket("arq_rx_runs", sizeof(*rx->runs) * rx->max_runs,
				     RTE_CACHE_LINE_SIZE, socket);
	rx->gap_mem = rte_malloc_socket("arq_rx_gaps", sizeof(*rx->gap_mem) *
					rx->max_gaps * rx->n_classes,
					RTE_CACHE_LINE_SIZE, socket);
	if (rx->runs == NULL || rx->gap_mem == NULL)
		goto nomem;
	for (uint16_t i = 0; i < rx->n_classes; i++) {
		struct rx_class *cl = &rx->cls[i];
		uint32_t t = conf->classes[i].track_seqs;

		cl->gaps = &rx->gap_mem[(size_t)i * rx->max_gaps];
		if (t == 0)
			continue;
		cl->ring = rte_zmalloc_socket("arq_rx_ring", sizeof(*cl->ring) * t,
					      RTE_CACHE_LINE_SIZE, socket);
		if (cl->ring == NULL)
			goto nomem;
		cl->mask = t - 1;
		cl->on = true;
	}
	ARQ_LOG(DEBUG, "arq_rx %s: %u classes, max_tries %u, tick %" PRIu64 " ns",
		rx->name, rx->n_classes, rx->max_tries, rx->tick_ns);
	return rx;
nomem:
	braid_arq_rx_free(rx);
	rte_errno = ENOMEM;
	return NULL;
}

void
braid_arq_rx_set_rtt(struct braid_arq_rx *rx, uint64_t srtt_ns, uint64_t rttvar_ns)
{
	rx->srtt_ns = srtt_ns;
	rx->rttvar_ns = rttvar_ns;
}

void
braid_arq_rx_set_delay_spread(struct braid_arq_rx *rx, uint64_t spread_ns)
{
	rx->spread_ns = spread_ns;
	rx->spread_set = true;
}

int
braid_arq_rx_class_set_delay_spread(struct braid_arq_rx *rx, uint16_t class_id,
				    uint64_t spread_ns)
{
	if (class_id >= rx->n_classes)
		return -EINVAL;
	rx->cls[class_id].spread_ns = spread_ns;
	rx->cls[class_id].spread_set = true;
	return 0;
}

uint64_t
braid_arq_rx_allowance_ns(const struct braid_arq_rx *rx)
{
	if (rx->allow_conf_ns != 0)
		return rx->allow_conf_ns;
	return rx->spread_set ? rx->spread_ns : rx->srtt_ns / 4;
}

uint64_t
braid_arq_rx_class_allowance_ns(const struct braid_arq_rx *rx, uint16_t class_id)
{
	if (rx->allow_conf_ns == 0 && class_id < rx->n_classes &&
	    rx->cls[class_id].spread_set)
		return rx->cls[class_id].spread_ns;
	return braid_arq_rx_allowance_ns(rx);
}

uint64_t
braid_arq_rx_interval_ns(const struct braid_arq_rx *rx)
{
	return RTE_MAX(rx->srtt_ns + 4 * rx->rttvar_ns, rx->min_interval_ns);
}

uint32_t
braid_arq_rx_tracked(const struct braid_arq_rx *rx)
{
	return rx->tracked;
}

/* A slot leaves: a seq that was NACKed ends filled or lost. */
static inline void
rx_resolve(struct braid_arq_rx *rx, struct rx_slot *sl, bool filled)
{
	if (sl->tries > 0) {
		rx->tracked--;
		if (filled)
			rx->cnt.gaps_filled_after_nack++;
		else
			rx->cnt.lost_after_nack++;
	}
	sl->flags = 0;
}

/* Forget every slot of @p cl; NACKed ones count reset_discarded. */
static void
rx_discard(struct braid_arq_rx *rx, struct rx_class *cl)
{
	for (uint32_t s = cl->base; seq_lt(s, cl->top); s++) {
		struct rx_slot *sl = &cl->ring[s & cl->mask];

		if ((sl->flags & RX_VALID) && sl->seq == s && sl->tries > 0) {
			rx->tracked--;
			rx->cnt.reset_discarded++;
		}
	}
	memset(cl->ring, 0, sizeof(*cl->ring) * ((size_t)cl->mask + 1));
	cl->started = false;
	cl->ng = 0;
}

int
braid_arq_rx_reset(struct braid_arq_rx *rx, uint16_t class_id)
{
	if (class_id != BRAID_ARQ_ALL_CLASSES && class_id >= rx->n_classes)
		return -EINVAL;
	for (uint16_t i = 0; i < rx->n_classes; i++) {
		if (class_id != BRAID_ARQ_ALL_CLASSES && i != class_id)
			continue;
		if (rx->cls[i].ring != NULL)
			rx_discard(rx, &rx->cls[i]);
	}
	rx->cnt.resets++;
	return 0;
}

int
braid_arq_rx_class_enable(struct braid_arq_rx *rx, uint16_t class_id, bool on)
{
	struct rx_class *cl;

	if (class_id >= rx->n_classes)
		return -EINVAL;
	cl = &rx->cls[class_id];
	if (cl->ring == NULL)
		return -ENOTSUP;
	if (cl->on == on)
		return 0;
	/* Off: forget the class now, so tracked drops at once. On: the
	 * discard left it unstarted, so the next tick starts it afresh. */
	if (!on)
		rx_discard(rx, cl);
	cl->on = on;
	return 0;
}

bool
braid_arq_rx_class_enabled(const struct braid_arq_rx *rx, uint16_t class_id)
{
	return class_id < rx->n_classes && rx->cls[class_id].on;
}

/*
 * Read the class's gaps and resolve the slots of seqs no longer missing.
 * A seq below the next expected one was delivered or skipped: skipped
 * only if the reorder stage lost something since the last tick and its
 * skip time has come. A seq at or above it and below the horizon (what
 * the gaps describe) that is not in a gap is held: it arrived.
 */
static void
rx_scan(struct braid_arq_rx *rx, struct rx_class *cl, uint16_t c, uint64_t now_ns,
	bool none_skipped)
{
	struct braid_reorder_class_info info;
	uint32_t next, horizon;
	int ng, gi = 0;

	cl->ng = 0;
	if (braid_reorder_class_info(rx->reorder, c, &info) != 0 || !info.started) {
		if (cl->started)
			rx_discard(rx, cl);   /* the reorder stream was reset */
		return;
	}
	next = info.next_seq;
	if (!cl->started || seq_lt(next, cl->base)) {
		/* First tick of a stream, or the stream restarted under us. */
		if (cl->started)
			rx_discard(rx, cl);
		cl->started = true;
		cl->base = next;
		cl->top = next;
	}
	ng = braid_reorder_gaps(rx->reorder, c, cl->gaps, rx->max_gaps);
	if (ng < 0)
		ng = 0;
	cl->ng = ng;
	horizon = ng == rx->max_gaps ? cl->gaps[ng - 1].first_seq + cl->gaps[ng - 1].count :
		info.high_seq + 1;

	for (uint32_t s = cl->base; seq_lt(s, cl->top); s++) {
		struct rx_slot *sl = &cl->ring[s & cl->mask];
		const struct braid_reorder_gap *g;

		if (!(sl->flags & RX_VALID) || sl->seq != s)
			continue;
		if (seq_lt(s, next)) {
			rx_resolve(rx, sl, none_skipped || now_ns < sl->skip_ns);
			continue;
		}
		if (!seq_lt(s, horizon))
			break;   /* not described by this tick's gaps: keep */
		while (gi < ng && !seq_lt(s, cl->gaps[gi].first_seq + cl->gaps[gi].count))
			gi++;
		g = gi < ng ? &cl->gaps[gi] : NULL;
		if (g != NULL && !seq_lt(s, g->first_seq))
			continue;   /* still missing */
		rx_resolve(rx, sl, true);
	}
	cl->base = next;
	if (seq_lt(cl->top, next))
		cl->top = next;
}

/* Seqs in runs[0..n-1]. */
static uint64_t
runs_seqs(const struct braid_seq_range *runs, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++)
		sum += runs[i].count;
	return sum;
}

enum rx_stop { RX_GO = 0, RX_STOP_BUDGET, RX_STOP_OUT };

/* Record a NACK naming runs[0..n-1] of class @p cl. */
static void
rx_mark_sent(struct braid_arq_rx *rx, struct rx_class *cl,
	     const struct braid_seq_range *runs, unsigned int n, uint64_t now_ns)
{
	for (unsigned int i = 0; i < n; i++) {
		for (uint32_t k = 0; k < runs[i].count; k++) {
			struct rx_slot *sl = &cl->ring[(runs[i].first + k) & cl->mask];

			if (sl->tries == 0) {
				rx->cnt.seqs_requested++;
				rx->tracked++;
			} else {
				rx->cnt.seqs_rerequested++;
			}
			sl->tries++;
			sl->last_ns = now_ns;
		}
	}
}

/*
 * Decide for every missing seq of class @p c (this tick's gaps, lowest
 * first), collect the due ones as runs and pack them into NACKs while
 * the budget and @p out allow. Once stopped (*stop), due seqs are counted
 * under the reason and wait for a later tick.
 */
static void
rx_class_nack(struct braid_arq_rx *rx, struct rx_class *cl, uint16_t c,
	      uint64_t now_ns, struct braid_nack *out, uint16_t max,
	      uint16_t *n_out, enum rx_stop *stop)
{
	const uint64_t allow = braid_arq_rx_class_allowance_ns(rx, c);
	const uint64_t interval = braid_arq_rx_interval_ns(rx);
	const uint32_t size = cl->mask + 1;
	struct braid_seq_range *runs = rx->runs;
	uint64_t held_back = 0;
	unsigned int nr = 0, idx = 0;

	for (int gi = 0; gi < cl->ng; gi++) {
		const struct braid_reorder_gap *g = &cl->gaps[gi];

		for (uint32_t k = 0; k < g->count; k++) {
			uint32_t s = g->first_seq + k;
			struct rx_slot *sl;
			bool due;

			if (s - cl->base >= size)
				goto collected;   /* beyond the tracking window */
			sl = &cl->ring[s & cl->mask];
			if (!(sl->flags & RX_VALID) || sl->seq != s) {
				memset(sl, 0, sizeof(*sl));
				sl->seq = s;
				sl->flags = RX_VALID;
				if (!seq_lt(s, cl->top))
					cl->top = s + 1;
			}
			sl->skip_ns = g->skip_ns;
			if (sl->flags & (RX_DEAD | RX_EXHAUSTED))
				continue;
			due = sl->tries == 0 ? now_ns >= g->opened_ns + allow :
				now_ns >= sl->last_ns + interval;
			if (!due)
				continue;
			if (sl->tries >= rx->max_tries) {
				sl->flags |= RX_EXHAUSTED;
				rx->cnt.tries_exhausted++;
				continue;
			}
			if (now_ns + rx->srtt_ns > g->skip_ns) {
				/* A retransmission asked for now would arrive
				 * after the reorder stage skipped the seq. */
				sl->flags |= RX_DEAD;
				rx->cnt.useless_by_deadline++;
				continue;
			}
			if (*stop != RX_GO) {
				held_back++;
				continue;
			}
			if (nr > 0 && runs[nr - 1].first + runs[nr - 1].count == s) {
				runs[nr - 1].count++;
			} else if (nr < rx->max_runs) {
				runs[nr].first = s;
				runs[nr].count = 1;
				nr++;
			} else {
				rx->cnt.deferred++;
			}
		}
	}
collected:
	while (idx < nr) {
		struct braid_nack *nk;
		uint64_t bytes;
		int k;

		if (*n_out >= max) {
			*stop = RX_STOP_OUT;
			break;
		}
		nk = &out[*n_out];
		k = braid_arq_nack_pack(c, &runs[idx], nr - idx, nk);
		if (k <= 0)
			break;   /* cannot happen: runs are built valid */
		bytes = (uint64_t)braid_wire_nack_len(nk) + BRAID_WIRE_OVERHEAD;
		if (!arq_bucket_take(&rx->bucket, bytes)) {
			*stop = RX_STOP_BUDGET;
			break;
		}
		rx_mark_sent(rx, cl, &runs[idx], (unsigned int)k, now_ns);
		rx->cnt.nacks_sent++;
		rx->cnt.nack_bytes += bytes;
		(*n_out)++;
		idx += (unsigned int)k;
	}
	held_back += runs_seqs(&runs[idx], nr - idx);
	if (*stop == RX_STOP_BUDGET)
		rx->cnt.budget_exceeded += held_back;
	else
		rx->cnt.deferred += held_back;
}

uint16_t
braid_arq_rx_poll(struct braid_arq_rx *rx, uint64_t now_ns, struct braid_nack *out,
		  uint16_t max)
{
	struct braid_reorder_stats rc;
	uint16_t order[BRAID_ARQ_MAX_CLASSES];
	uint16_t n_order = 0, n_out = 0;
	enum rx_stop stop = RX_GO;
	bool none_skipped;

	if (now_ns < rx->next_tick_ns)
		return 0;
	rx->next_tick_ns = now_ns + rx->tick_ns;
	rx->cnt.polls++;
	braid_reorder_stats(rx->reorder, &rc);
	none_skipped = rc.lost == rx->reorder_lost;
	rx->reorder_lost = rc.lost;
	arq_bucket_refill(&rx->bucket, now_ns);

	/* Gaps of every class; classes ordered by their oldest gap (the
	 * lowest gap of a class opened first), so the budget goes to the
	 * oldest gaps first. */
	for (uint16_t c = 0; c < rx->n_classes; c++) {
		struct rx_class *cl = &rx->cls[c];
		uint16_t j;

		if (!cl->on)
			continue;
		rx_scan(rx, cl, c, now_ns, none_skipped);
		if (cl->ng == 0)
			continue;
		for (j = n_order; j > 0 &&
		     rx->cls[order[j - 1]].gaps[0].opened_ns > cl->gaps[0].opened_ns; j--)
			order[j] = order[j - 1];
		order[j] = c;
		n_order++;
	}
	for (uint16_t i = 0; i < n_order; i++)
		rx_class_nack(rx, &rx->cls[order[i]], order[i], now_ns, out, max,
			      &n_out, &stop);
	return n_out;
}

void
braid_arq_rx_stats(const struct braid_arq_rx *rx,
		   struct braid_arq_rx_stats *cnt)
{
	*cnt = rx->cnt;
}

static void
arq_rx_stats_report(const struct braid_arq_rx *rx, braid_stat_fn fn, void *arg)
{
	BRAID_COUNTERS_REPORT(BRAID_ARQ_RX_COUNTERS, &rx->cnt, fn, arg);
	fn(arg, "tracked", NULL, rx->tracked);
}

/* ------------------------------------------------------------------ */
/* The arq_rx stage                                                    */
/* ------------------------------------------------------------------ */

uint64_t
braid_arq_rx_recovered(const struct braid_arq_rx *rx, uint16_t class_id)
{
	if (class_id >= rx->n_classes)
		return 0;
	return __atomic_load_n(&rx->recovered[class_id], __ATOMIC_RELAXED);
}

/* The reorder stage reset classes (a peer restart) since we last looked:
 * forget their NACK state too. Same lcore as reorder. */
static inline void
rx_follow_resets(struct braid_arq_rx *rx)
{
	uint64_t total = braid_reorder_resets(rx->reorder);

	if (likely(total == rx->reorder_resets))
		return;
	rx->reorder_resets = total;
	for (uint16_t k = 0; k < rx->n_classes; k++) {
		struct braid_reorder_class_info info;

		if (braid_reorder_class_info(rx->reorder, k, &info) != 0 ||
		    info.resets == rx->class_resets[k])
			continue;
		rx->class_resets[k] = info.resets;
		braid_arq_rx_reset(rx, k);
	}
}

/* ARQ recoveries: the retransmissions reorder delivered each filled a gap
 * (duplicates and late copies never leave it). Passed on to LAN delivery. */
static void
arq_rx_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		     struct braid_burst *out, uint64_t now_ns)
{
	struct braid_arq_rx *rx = ctx;
	uint64_t recovered = 0, out_full = 0;

	RTE_SET_USED(now_ns);
	rx_follow_resets(rx);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct braid_meta *bm = braid_meta(m);

		if (unlikely(bm->flags & BRAID_META_F_RETX) && bm->class_id < rx->n_classes) {
			__atomic_store_n(&rx->recovered[bm->class_id],
					 rx->recovered[bm->class_id] + 1, __ATOMIC_RELAXED);
			recovered++;
		}
		if (unlikely(braid_burst_push(out, m) != 0)) {
			rte_pktmbuf_free(m);
			out_full++;
		}
	}
	rx->scnt.recovered += recovered;
	rx->scnt.drop_out_full += out_full;
}

/*
 * What only link health knows, for the NACK policy:
 *  - the RTT of the best link (its smoothed RTT);
 *  - the delay spread: how late the peer's packets come on the links
 *    that carry them without being lost: the spread of the links'
 *    one-way delays (owd_offset) plus twice their jitter and their
 *    queueing delay, and 1 ms; 50 ms for any link not measured yet (its
 *    first frames may still be on the way: the slowest link's come
 *    last). No more margin than that: a NACK for a packet that was only
 *    late costs one retransmission the receiver drops as a duplicate, a
 *    NACK sent late holds every packet behind the gap (with a quarter of
 *    the spread and 2 ms more, the e2e profiles' p99 was 3-5 ms higher);
 *  - the two best links by RTT, which carry each NACK.
 * The link handle is only read through braid_link_info_get() (per-link
 * snapshots under a sequence counter): safe from any lcore, whichever
 * owns link health.
 */
#define ARQ_RX_UNMEASURED_NS 50000000ULL
#define ARQ_RX_MIN_SPARE_NS  1000000ULL
/* The spreads follow smoothed link measures: computed this often, not
 * on every poll (a snapshot of every link, for every class). */
#define ARQ_RX_SPREAD_PERIOD_NS 10000000ULL

/* How late link @p li's frames come, beside the earliest link: its
 * fixed delay offset, and its jitter and queueing up to @p rtt_ns (a link
 * queueing longer, one whose rate just fell, has a retransmission asked
 * for after one RTT arrive sooner than the original). */
static uint64_t
link_lateness(const struct braid_link_info *li, uint64_t rtt_ns)
{
	if (li->rx_packets < 64)
		return ARQ_RX_UNMEASURED_NS;
	return (uint64_t)RTE_MAX(li->owd_offset_us, 0) * 1000 +
	       RTE_MIN(2ULL * li->jitter_us * 1000 + (uint64_t)li->owd_var_us * 1000, rtt_ns);
}

/* The delay spread, for all links and for each class with ARQ over the
 * links in time for its deadline (braid_link_info_fits(): what the
 * sender uses to keep the class off slower links, measured here the same
 * way from this end). */
static void
rx_delay_spread(struct braid_arq_rx *rx)
{
	struct braid_link_info li[BRAID_LINK_MAX_LINKS];
	uint64_t all = 0;
	uint16_t n = 0;

	while (n < BRAID_LINK_MAX_LINKS && braid_link_info_get(rx->link, n, &li[n]) == 0)
		n++;
	for (uint16_t l = 0; l < n; l++)
		if (li[l].state != BRAID_LINK_ADMIN_DOWN)
			all = RTE_MAX(all, link_lateness(&li[l], rx->srtt_ns));
	braid_arq_rx_set_delay_spread(rx, all + ARQ_RX_MIN_SPARE_NS);
	for (uint16_t c = 0; c < rx->n_classes; c++) {
		struct braid_reorder_class_info ri;
		uint64_t spread = 0;

		if (!rx->cls[c].on || braid_reorder_class_info(rx->reorder, c, &ri) != 0)
			continue;
		for (uint16_t l = 0; l < n; l++)
			if (li[l].state != BRAID_LINK_ADMIN_DOWN &&
			    braid_link_info_fits(&li[l], ri.deadline_ns / 1000, true))
				spread = RTE_MAX(spread, link_lateness(&li[l], rx->srtt_ns));
		braid_arq_rx_class_set_delay_spread(rx, c, spread + ARQ_RX_MIN_SPARE_NS);
	}
}

static uint16_t
arq_rx_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_arq_rx *rx = ctx;
	struct braid_link_best best = { .link = { 0, 0 } };
	struct braid_nack nacks[16];
	uint64_t no_mbuf = 0, full = 0, frames = 0;
	uint16_t n;

	RTE_SET_USED(out);
	rx_follow_resets(rx);
	if (rx->link != NULL) {
		braid_link_best2(rx->link, 0, &best);
		if (best.srtt_ns != 0)
			braid_arq_rx_set_rtt(rx, best.srtt_ns, best.rttvar_ns);
		if (now_ns >= rx->spread_next_ns) {
			rx_delay_spread(rx);
			rx->spread_next_ns = now_ns + ARQ_RX_SPREAD_PERIOD_NS;
		}
	}
	n = braid_arq_rx_poll(rx, now_ns, nacks, RTE_DIM(nacks));
	/* Each NACK on the two best links: it is small, and the best one
	 * may be the link that just died (its loss is what we repair). The
	 * sender's suppression window drops the second request. */
	for (uint16_t i = 0; i < n; i++)
		for (int k = 0; k < (best.link[1] != best.link[0] ? 2 : 1); k++) {
			struct rte_mbuf *m = NULL;

			if (rx->pool != NULL)
				m = braid_wire_nack_build(rx->pool, best.link[k], &nacks[i]);
			if (m == NULL) {
				no_mbuf++;
				continue;
			}
			if (rx->tx_ring == NULL || rte_ring_mp_enqueue(rx->tx_ring, m) != 0) {
				rte_pktmbuf_free(m);
				full++;
				continue;
			}
			frames++;
		}
	rx->scnt.nack_frames += frames;
	rx->scnt.drop_no_mbuf += no_mbuf;
	rx->scnt.drop_ctrl_full += full;
	return n;
}

static void
arq_rx_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_arq_rx *rx = ctx;

	BRAID_COUNTERS_REPORT(BRAID_ARQ_RX_STAGE_COUNTERS, &rx->scnt, fn, arg);
	arq_rx_stats_report(rx, fn, arg);
}

static int
arq_rx_stage_apply(void *ctx, const void *cmd)
{
	const struct braid_arq_rx_cmd *c = cmd;

	switch (c->op) {
	case BRAID_ARQ_RX_CMD_ENABLE:
		return braid_arq_rx_class_enable(ctx, c->class_id, c->enable);
	default:
		return -EINVAL;
	}
}

const struct braid_stage_ops braid_arq_rx_stage_ops = {
	.kind = "arq_rx",
	.cmd_size = sizeof(struct braid_arq_rx_cmd),
	.process = arq_rx_stage_process,
	.poll = arq_rx_stage_poll,
	.apply = arq_rx_stage_apply,
	.stats = arq_rx_stage_stats,
};
