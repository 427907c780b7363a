/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include "braid_clock.h"

struct braid_clock braid_clock = { .tsc_hz = 1000000000ULL, .mult = 1ULL << 32 };

void
braid_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz();

	if (hz == 0)
		hz = 1000000000ULL;
	braid_clock.tsc_hz = hz;
	/* mult = 1e9 * 2^32 / hz, exact enough for hz >= 1 MHz. */
	braid_clock.mult = (uint64_t)(((__uint128_t)1000000000ULL << 32) / hz);
	braid_clock.tsc0 = rte_get_tsc_cycles();
}

uint64_t
braid_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
