/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_FEC_AUTO_H
#define BRAID_FEC_AUTO_H

/**
 * @file
 * FEC that follows the links ("fec": "auto", doc/fec.md "Automatic
 * shape"): the block shape (k, m) of a class from the loss the peer
 * reports on the links it uses.
 *
 * A block of k data and m parity packets is lost when more than m of its
 * k + m packets are: with independent losses of probability p,
 * P_fail = P(Binomial(k + m, p) > m). braid_fec_auto_pick() takes the
 * cheapest shape (least m / k) within the class's overhead ceiling whose
 * P_fail stays below a target: 1 % where a retransmission still fits the
 * deadline (ARQ repairs the rest), 0.1 % where it does not. k is bounded
 * by how many packets the class sends in a block fill time (a block
 * waits for its last packet before it can be rebuilt). No shape within
 * the ceiling meets the target: the most robust one within it.
 *
 * braid_fec_auto_step() adds the hysteresis: more protection at once,
 * less only after the cheaper shape has been enough for
 * BRAID_FEC_AUTO_DOWN_HOLD_NS, or at once when the ceiling fell below the
 * shape in use (the caller lowers it when the links lose capacity).
 * Pure functions: no DPDK, any thread.
 */
#include <stdbool.h>
#include <stdint.h>

/** Largest k the automatic shape uses (block fill time bounds it first). */
#define BRAID_FEC_AUTO_MAX_K 20
/** Largest m it uses. */
#define BRAID_FEC_AUTO_MAX_M 8
/** Block fill time: at most this, and at most a class deadline / 8. */
#define BRAID_FEC_AUTO_FILL_NS (12ull * 1000 * 1000)
/** A cheaper shape must be enough this long before it is taken. */
#define BRAID_FEC_AUTO_DOWN_HOLD_NS (3ull * 1000 * 1000 * 1000)
/** Default overhead ceiling (parity per data, percent). */
#define BRAID_FEC_AUTO_OVERHEAD_PCT 25
/** Block-loss targets, with and without a retransmission in time. */
#define BRAID_FEC_AUTO_TARGET_ARQ 1e-2
#define BRAID_FEC_AUTO_TARGET_NO_ARQ 1e-3

struct braid_fec_shape {
	uint8_t k;   /**< data per block, 1..BRAID_FEC_AUTO_MAX_K */
	uint8_t m;   /**< parity per block, 1..BRAID_FEC_AUTO_MAX_M */
};

/** What the choice is made from. */
struct braid_fec_auto_in {
	uint32_t loss_ppm;          /**< loss of the class's links, weighted by
				     *   its share on each (peer reports) */
	uint32_t pkt_rate;          /**< class data packets per second */
	uint32_t deadline_ms;       /**< the class's ARQ deadline (> 0) */
	bool arq_fits;              /**< a retransmission arrives in time */
	uint8_t max_overhead_pct;   /**< 1..100: m / k at most this */
};

/** P(Binomial(k + m, p) > m): a block of k + m packets loses more than
 * it can rebuild, losses independent with probability @p p. */
double braid_fec_block_fail(unsigned int k, unsigned int m, double p);

/** The loss the choice designs for: the measured one plus a margin for
 * the estimate's noise (1.2 p + 0.2 %), at most 50 %. */
double braid_fec_auto_design_loss(uint32_t loss_ppm);

/** Largest k for @p in: packets of one block fill time, 2..MAX_K. */
unsigned int braid_fec_auto_max_k(const struct braid_fec_auto_in *in);

/** The shape for @p in (see the file comment); its P_fail at the
 * design loss in @p p_fail when not NULL. */
struct braid_fec_shape braid_fec_auto_pick(const struct braid_fec_auto_in *in,
					   double *p_fail);

/** One class's controller state. */
struct braid_fec_auto {
	struct braid_fec_shape cur;     /**< the shape in use */
	uint64_t cheaper_since_ns;      /**< 0: no cheaper shape pending */
	uint64_t ups;                   /**< changes to more protection */
	uint64_t downs;                 /**< changes to less */
};

/** Start at @p initial. */
void braid_fec_auto_init(struct braid_fec_auto *a, struct braid_fec_shape initial);

/**
 * One decision at @p now_ns. @return true when the class should change
 * to @p next (a->cur is then @p next): at once when the current shape's
 * P_fail at the design loss is over twice the target or its overhead is
 * over the ceiling, after BRAID_FEC_AUTO_DOWN_HOLD_NS of a cheaper pick
 * being enough otherwise.
 */
bool braid_fec_auto_step(struct braid_fec_auto *a, const struct braid_fec_auto_in *in,
			 uint64_t now_ns, struct braid_fec_shape *next);

#endif /* BRAID_FEC_AUTO_H */
