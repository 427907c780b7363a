/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (RFC 4303 3.4.3): the highest counter seen and a
 * bitmap of the window below it. Checked before the tag (cheap, touches
 * nothing), updated only after the tag verified, so a forged frame cannot
 * move the window.
 */
#include <string.h>

#include "braid_crypto.h"

#define W BRAID_CRYPTO_REPLAY_WINDOW
#define WORDS (W / 64)

void
braid_replay_reset(struct braid_replay *r)
{
	memset(r, 0, sizeof(*r));
}

static inline bool
bit_get(const struct braid_replay *r, uint64_t i)
{
	return (r->bits[i / 64] >> (i % 64)) & 1;
}

bool
braid_replay_check(const struct braid_replay *r, uint64_t ctr)
{
	if (!r->any || ctr > r->top)
		return true;
	if (r->top - ctr >= W)
		return false;                  /* older than the window */
	return !bit_get(r, r->top - ctr);
}

/* Shift the bitmap up by @p s positions (bit i -> bit i + s). */
static void
shift_up(struct braid_replay *r, uint64_t s)
{
	uint64_t words = s / 64;
	unsigned int bits = (unsigned int)(s % 64);

	if (s >= W) {
		memset(r->bits, 0, sizeof(r->bits));
		return;
	}
	for (int i = WORDS - 1; i >= 0; i--) {
		uint64_t v = 0;
		int from = i - (int)words;

		if (from >= 0) {
			v = r->bits[from] << bits;
			if (bits != 0 && from >= 1)
				v |= r->bits[from - 1] >> (64 - bits);
		}
		r->bits[i] = v;
	}
}

bool
braid_replay_update(struct braid_replay *r, uint64_t ctr)
{
	uint64_t i;

	if (!r->any) {
		r->any = true;
		r->top = ctr;
		r->bits[0] = 1;
		return true;
	}
	if (ctr > r->top) {
		shift_up(r, ctr - r->top);
		r->top = ctr;
		r->bits[0] |= 1;
		return true;
	}
	i = r->top - ctr;
	if (i < W)
		r->bits[i / 64] |= UINT64_C(1) << (i % 64);
	return false;
}
