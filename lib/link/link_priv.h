/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_LINK_PRIV_H
#define BRAID_LINK_PRIV_H

/*
 * Internals of lib/link. The estimators are split out as small pure
 * helpers (link_seq_*, link_winmin_*) so the unit test can check them
 * against plain references.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_seqcount.h>

#include "braid_link.h"

#define LINK_BITMAP_WORDS (BRAID_LINK_REORDER_WINDOW / 64)
#define LINK_SLOT_MASK (BRAID_LINK_PROBE_SLOTS - 1)

/* Receive sequence tracker of one link (RFC 3550 A.3 in spirit, with a
 * reorder bitmap): link seqs are extended to 64 bits around the highest
 * one seen; expected = max - base + 1, lost = expected - received. */
struct link_seq {
	bool started;
	uint64_t base;      /* first seq received, extended */
	uint64_t max;       /* highest seq received, extended */
	uint64_t received;  /* unique seqs in [base, max] received */
	uint64_t dup;
	uint64_t late;      /* older than the window (or than base) */
	uint64_t bitmap[LINK_BITMAP_WORDS]; /* bit (seq % window): received */
};

/* Outcome of link_seq_add(). */
enum link_seq_verdict {
	LINK_SEQ_NEW = 0,   /* in order or filling a hole */
	LINK_SEQ_DUP,
	LINK_SEQ_LATE,
};

/** Add seq @p s; *gap = seqs skipped by a forward jump (0 otherwise). */
enum link_seq_verdict link_seq_add(struct link_seq *q, uint32_t s, uint64_t *gap);

static inline uint64_t
link_seq_expected(const struct link_seq *q)
{
	return q->started ? q->max - q->base + 1 : 0;
}

static inline uint64_t
link_seq_lost(const struct link_seq *q)
{
	return link_seq_expected(q) - q->received;
}

/** Expected and lost seqs up to BRAID_LINK_LOSS_SETTLE behind the
 * highest; *received = the received ones among them. */
void link_seq_settled(const struct link_seq *q, uint64_t *expected,
		      uint64_t *received, uint64_t *lost);

/* Minimum over the last one to two windows (two buckets). */
/* Queueing delay samples the capacity estimate looks back over. */
#define LINK_EST_SAMPLES 16

struct link_winmin {
	bool valid;
	int64_t cur;
	int64_t prev;
	uint64_t start;
};

void link_winmin_add(struct link_winmin *w, int64_t v, uint64_t now, uint64_t win);

static inline int64_t
link_winmin_get(const struct link_winmin *w)
{
	return RTE_MIN(w->cur, w->prev);
}

enum { SLOT_FREE = 0, SLOT_OUT, SLOT_DONE, SLOT_LOST };

struct probe_slot {
	uint64_t tx_ns;
	uint32_t id;
	uint8_t state;
	bool mtu;                 /* an MTU probe (padded to the link's MTU) */
};

/* Published part of a link, read by any thread. */
struct link_pub {
	rte_seqcount_t sc;
	struct braid_link_info info;
} __rte_cache_aligned;

struct link_st {
	uint64_t capacity_kbps;
	/* path MTU check (braid_link_link_conf.mtu_probe_len) */
	uint16_t mtu_probe_len;
	uint32_t mtu_countdown;   /* probes before the next MTU probe */
	uint8_t mtu_state;        /* enum braid_link_mtu_state */
	uint8_t mtu_lost_row;     /* MTU probes lost in a row */
	uint64_t mtu_probes_lost;
	uint8_t admin_req;        /* written by any thread (atomic) */
	bool admin;               /* applied by the owner */

	/* state machine */
	enum braid_link_state health;
	enum braid_link_state state;  /* effective */
	bool improving;
	uint64_t improve_since;
	uint64_t hold_ns;
	bool worsened;
	uint64_t last_worsen_ns;
	uint64_t state_changes;
	uint64_t last_change_ns;

	/* probes */
	uint32_t next_id;
	uint32_t scan_id;
	uint64_t next_probe_ns;
	uint64_t next_tick_ns;
	uint64_t probes_sent, probes_answered, probes_lost, replies_late;
	bool have_reply;
	uint64_t last_reply_ns;

	/* RTT, ns */
	bool rtt_valid;
	bool ever_up;         /* has carried traffic: ramp capacity after a failure only */
	int64_t srtt;
	int64_t rttvar;
	struct link_winmin rtt_min;

	/* receive side */
	uint64_t last_rx_ns;      /* any frame of the peer (0 = none yet) */
	uint64_t gap_ewma_ns;     /* mean gap between them, EWMA 1/8 */
	uint32_t gaps_seen;       /* up to LINK_SILENCE_WARMUP */
	bool suspect;             /* silent while another link receives */
	uint64_t suspect_ns;      /* since when */
	uint64_t suspects;
	struct link_seq seq;
	uint64_t rx_bytes;
	uint64_t rx_skip;         /* settled seqs skipped while the link was down
				   * (outage gaps, not counted in rates) */
	uint64_t skip_pending;    /* skipped seqs not settled yet */
	uint64_t skip_upto;       /* highest extended seq of those */
	bool have_transit;
	int64_t prev_transit;
	int64_t jitter16;         /* RFC 3550 J * 16, ns */
	struct link_winmin tmin;
	int64_t owdv16;           /* (transit - min) EWMA * 16, ns */

	/* receive estimates, per tick */
	bool snap_valid;
	uint64_t snap_ns, snap_expected, snap_lost, snap_bytes;
	double rx_total, rx_lostw;
	bool rate_valid;
	double rate_bps;

	/* the peer's view of our transmit side */
	bool peer_valid;
	uint64_t peer_rx, peer_lost, peer_ns;
	double tx_total, tx_lostw;

	/* our direction's queue, from the probes' one-way delay (est_sample()) */
	struct link_winmin fwd_min;        /* probe rx (peer clock) - tx (ours) */
	int64_t q_last, q_prev;            /* last two queueing delay samples, ns */
	int64_t q_jit;                     /* its smoothed variation, ns */
	uint64_t q_t[LINK_EST_SAMPLES];    /* recent samples: time, delay, */
	int64_t q_v[LINK_EST_SAMPLES];
	uint64_t q_peer_ns[LINK_EST_SAMPLES]; /* the peer's clock at the probe, */
	uint32_t q_bytes[LINK_EST_SAMPLES];   /* its bytes received (mod 2^32) */
	unsigned int q_n, q_head;
	double est;                        /* estimated capacity, kbit/s */
	double est_hold;                   /* rise limit after a cut */
	uint64_t est_cut_ns, est_up_ns;
	uint64_t est_cuts;

	/* capacity */
	double usable;
	uint64_t usable_ns;
	uint64_t published_kbps;
	enum braid_link_state published_state;
	bool published_once;

	/* any-thread reads */
	uint64_t pub_usable;
	uint32_t pub_state;

	struct probe_slot slots[BRAID_LINK_PROBE_SLOTS];
};

#define MS_NS 1000000ULL
/* Frame gaps measured before a link's silence can make it suspect. */
#define LINK_SILENCE_WARMUP 16
#define US_NS 1000ULL

struct link_counters {
	BRAID_COUNTERS_FIELDS(BRAID_LINK_COUNTERS)
} __rte_cache_aligned;

struct braid_link {
	struct link_counters cnt;
	uint16_t n_links;
	uint64_t interval_ns;
	uint64_t down_ns;
	uint32_t down_after;        /* down_after_probes: the fewest in a row */
	uint64_t up_hold_ns;
	uint64_t hold_max_ns;
	uint64_t timeout_ns;
	uint64_t loss_tau_ns, rate_tau_ns, cap_tau_ns, min_win_ns;
	uint32_t loss_enter_ppm, loss_leave_ppm;
	uint32_t rtt_enter_us, rtt_leave_us;
	uint16_t degraded_permille;
	uint16_t change_permille;
	uint16_t silence_gaps;
	uint64_t silence_min_ns;
	struct rte_mempool *pool;
	struct rte_mempool *mtu_pool;     /* MTU probes (full-size frames) */
	struct rte_ring *tx_ring;
	struct rte_ring *ctrl_ring;
	braid_link_change_fn on_change;
	void *on_change_arg;

	bool started;
	/* peer session: bit 32 = valid, low 32 bits = id (atomic for readers) */
	uint64_t session;
	bool have_prev_session;
	uint32_t prev_session;
	/* reference transit: all links' transits are relative to it */
	bool have_tref;
	int64_t tref;

	uint64_t generation;      /* atomic */

	struct link_pub *pub;     /* n_links */
	struct link_st *links;    /* n_links */
	/* stage scratch */
	struct rte_mbuf *tx_buf[BRAID_BURST_OUT_MAX];
	struct braid_link_probe_tx probe_buf[BRAID_LINK_MAX_LINKS];
};

#endif /* BRAID_LINK_PRIV_H */
