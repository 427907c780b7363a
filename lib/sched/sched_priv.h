/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_SCHED_PRIV_H
#define BRAID_SCHED_PRIV_H

/*
 * Internals of lib/sched shared by the scheduler, its reference model and
 * the unit test. Nothing else includes this file.
 */
#include <stdint.h>

#include "braid_sched.h"

/*
 * Token buckets count in units of byte * 1e9: a bucket of rate R bytes/s
 * gains exactly dt_ns * R units in dt_ns, so refills are exact integers
 * and never drift. A packet of len bytes costs len * SCHED_TB_SCALE units
 * (len * (k + m) / k * SCHED_TB_SCALE for FEC data, rounded up).
 */
#define SCHED_TB_SCALE 1000000000ULL

struct sched_tb {
	uint64_t tokens;   /**< units, <= depth */
	uint64_t depth;    /**< units */
	uint64_t rate;     /**< bytes per second, > 0 */
	uint64_t fill_ns;  /**< ns from empty to full */
	uint64_t last_ns;  /**< time of the last refill */
	uint64_t debt_max; /**< units: SCHED_DEBT_MAX_NS of rate, >= depth */
	uint64_t debt;     /**< bytes sent outside the scheduler, not paid yet
			    *   (scaled); paid from new tokens first */
};

/* A debt (bytes sent outside the scheduler) is paid back up to this much
 * of the link's rate: a burst of retransmissions after an outage delays
 * new data on the link instead of queueing the link itself; beyond it the
 * link is not starved longer. */
#define SCHED_DEBT_MAX_NS (100ull * 1000 * 1000)

/** Set rate and depth (bytes) of @p tb; tokens are clamped to the depth,
 * the debt to its new cap (as sched_tb_charge()). */
static inline void
sched_tb_set(struct sched_tb *tb, uint64_t rate_Bps, uint64_t depth_bytes)
{
	tb->rate = rate_Bps;
	tb->depth = depth_bytes * SCHED_TB_SCALE;
	tb->fill_ns = (tb->depth + rate_Bps - 1) / rate_Bps;
	/* rate (<= 5e10 B/s) * 1e8 ns: no overflow. */
	tb->debt_max = RTE_MAX(tb->depth, rate_Bps * SCHED_DEBT_MAX_NS);
	if (tb->tokens > tb->depth)
		tb->tokens = tb->depth;
	if (tb->debt > tb->debt_max)
		tb->debt = tb->debt_max;
}

/** Add the tokens earned since the last refill. */
static inline void
sched_tb_refill(struct sched_tb *tb, uint64_t now_ns)
{
	uint64_t dt;

	if (now_ns <= tb->last_ns)
		return;
	dt = now_ns - tb->last_ns;
	tb->last_ns = now_ns;
	if (dt >= tb->fill_ns && tb->debt == 0) {
		tb->tokens = tb->depth;
		return;
	}
	/* At most what fills the bucket and pays the debt: dt * rate <=
	 * depth + debt_max + rate, no overflow (rates up to 400 Gbit/s). */
	dt = RTE_MIN(dt, tb->fill_ns + (tb->debt + tb->rate - 1) / tb->rate);
	tb->tokens += dt * tb->rate;
	if (tb->debt != 0) {
		uint64_t pay = RTE_MIN(tb->tokens, tb->debt);

		tb->tokens -= pay;
		tb->debt -= pay;
	}
	if (tb->tokens > tb->depth)
		tb->tokens = tb->depth;
}

/** Charge @p bytes sent outside the scheduler (retransmissions, control
 * frames): from the tokens, the rest as a debt that new tokens pay first.
 * The debt is capped at SCHED_DEBT_MAX_NS of the rate (at least a bucket)
 * so it cannot starve the link for longer. */
static inline void
sched_tb_charge(struct sched_tb *tb, uint64_t bytes)
{
	uint64_t c = bytes * SCHED_TB_SCALE;

	if (tb->tokens >= c) {
		tb->tokens -= c;
		return;
	}
	c -= tb->tokens;
	tb->tokens = 0;
	tb->debt = RTE_MIN(tb->debt + c, tb->debt_max);
}

/** Link-level DRR state: deficits and quanta in token units. */
struct sched_link_drr {
	unsigned int n;      /**< links */
	unsigned int cur;    /**< link the round is at */
	uint64_t deficit[BRAID_SCHED_MAX_LINKS];
	uint64_t quantum[BRAID_SCHED_MAX_LINKS];  /**< >= 1 */
};

/**
 * Pick a link among @p elig (bit mask, non-zero) for a packet costing
 * @p charge units, with the DRR rule: the round visits links from cur;
 * an eligible link whose deficit covers the charge sends and keeps the
 * turn, otherwise it gains its quantum and the turn moves on. Computes in
 * one pass how many rounds that takes (O(links)), so a small quantum
 * costs no extra loops. @return the link, or -1 if @p elig is empty.
 */
int sched_link_drr_pick(struct sched_link_drr *d, uint32_t elig,
			uint64_t charge);

/** The same rule visiting one link at a time (reference for tests). */
int sched_ref_link_drr_pick(struct sched_link_drr *d, uint32_t elig,
			    uint64_t charge);

/** Validate @p conf (logs the reason). @return 0 or -EINVAL. */
int sched_conf_check(const struct braid_sched_conf *conf);

/** conf->mtu with its default applied. */
static inline uint32_t
sched_conf_mtu(const struct braid_sched_conf *conf)
{
	return conf->mtu != 0 ? conf->mtu : 1500;
}

/** Depth in bytes of the priority cap bucket of @p cc. */
uint64_t sched_cap_depth(const struct braid_sched_conf *conf,
			 const struct braid_sched_class_conf *cc);

#endif /* BRAID_SCHED_PRIV_H */
