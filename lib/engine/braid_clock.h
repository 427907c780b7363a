/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CLOCK_H
#define BRAID_CLOCK_H

/**
 * @file
 * The engine clock in nanoseconds, from the TSC. Stages never read a clock
 * themselves: the runner reads it once per loop iteration and passes
 * now_ns, so simulations drive the real stages with a virtual clock.
 */
#include <stdint.h>
#include <rte_cycles.h>

struct braid_clock {
	uint64_t tsc_hz;
	uint64_t mult;   /**< ns = (tsc * mult) >> 32, split to avoid overflow */
	uint64_t tsc0;
};

/** Process-wide clock, set by braid_clock_init(). */
extern struct braid_clock braid_clock;

/** Calibrate from rte_get_tsc_hz(); call after rte_eal_init(). */
void braid_clock_init(void);

/** Nanoseconds since braid_clock_init(). */
static inline uint64_t
braid_now_ns(void)
{
	uint64_t d = rte_get_tsc_cycles() - braid_clock.tsc0;

	return ((d >> 32) * braid_clock.mult) +
	       (((d & 0xffffffffULL) * braid_clock.mult) >> 32);
}

/** CLOCK_MONOTONIC in ns, for values that cross processes (timestamps
 * in probes and test traffic). */
uint64_t braid_mono_ns(void);

#endif /* BRAID_CLOCK_H */
