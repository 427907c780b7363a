/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plain scalar Reed-Solomon reference: GF(2^8) arithmetic by shift and
 * add (no tables) and a byte-by-byte encoder. Slow on purpose; the tests
 * check ISA-L's tables, its SIMD encoder and the decoder against it.
 */
#include <string.h>

#include "braid_fec.h"

/* x^8 + x^4 + x^3 + x^2 + 1, the polynomial of ISA-L's field. */
#define FEC_REF_POLY 0x11d

uint8_t
braid_fec_ref_gf_mul(uint8_t a, uint8_t b)
{
	unsigned int x = a, y = b, p = 0;

	while (y != 0) {
		if (y & 1)
			p ^= x;
		y >>= 1;
		x <<= 1;
		if (x & 0x100)
			x ^= FEC_REF_POLY;
	}
	return (uint8_t)p;
}

uint8_t
braid_fec_ref_gf_inv(uint8_t a)
{
	if (a == 0)
		return 0;
	for (unsigned int b = 1; b < 256; b++)
		if (braid_fec_ref_gf_mul(a, (uint8_t)b) == 1)
			return (uint8_t)b;
	return 0; /* not reached: every non-zero element has an inverse */
}

uint8_t
braid_fec_ref_coef(unsigned int k, unsigned int r, unsigned int c)
{
	return braid_fec_ref_gf_inv((uint8_t)((k + r) ^ c));
}

void
braid_fec_ref_encode(unsigned int k, unsigned int m, unsigned int len,
		     const uint8_t *const *data, uint8_t *const *parity)
{
	uint8_t coef[BRAID_FEC_MAX_M][BRAID_FEC_MAX_K];

	if (k == 0 || k > BRAID_FEC_MAX_K || m > BRAID_FEC_MAX_M)
		return;
	for (unsigned int r = 0; r < m; r++)
		for (unsigned int c = 0; c < k; c++)
			coef[r][c] = braid_fec_ref_coef(k, r, c);
	for (unsigned int r = 0; r < m; r++) {
		for (unsigned int i = 0; i < len; i++) {
			uint8_t acc = 0;

			for (unsigned int c = 0; c < k; c++)
				acc ^= braid_fec_ref_gf_mul(coef[r][c], data[c][i]);
			parity[r][i] = acc;
		}
	}
}
