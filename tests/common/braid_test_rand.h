/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_RAND_H
#define BRAID_TEST_RAND_H

#include <stdint.h>

/** Deterministic RNG for property tests (xorshift64*); seed printed by tests. */
static inline uint64_t
braid_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif /* BRAID_TEST_RAND_H */
