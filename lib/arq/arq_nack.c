/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packing missing seq runs into NACKs (wire format: doc/wire-format.md
 * section 5). A NACK names up to BRAID_NACK_MAX_RANGES ranges (8 bytes
 * each) plus, optionally, a bitmap of up to 8 words over the 256 seqs
 * from base_seq (4 bytes per word, words counted from base). Scattered
 * single losses are cheaper in the bitmap, long runs in ranges.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>

#include "arq_priv.h"
#include "braid_arq.h"

RTE_LOG_REGISTER(braid_arq_logtype, braid.arq, INFO);

#define BITMAP_SEQS (BRAID_NACK_BITMAP_WORDS * 32u)
/* Runs one NACK can name at most: every range, and a bitmap of single
 * seqs each its own run. */
#define PACK_MAX_RUNS (BRAID_NACK_MAX_RANGES + BITMAP_SEQS)

bool
arq_name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strnlen(name, BRAID_ARQ_NAMESIZE + 1);
	return n > 0 && n <= BRAID_ARQ_NAMESIZE;
}

/* runs[0..n-1] ascending, disjoint, counts valid, within 2^31 of the first. */
static bool
pack_runs_valid(const struct braid_seq_range *runs, unsigned int n)
{
	uint32_t first = runs[0].first;
	uint32_t end = first;   /* first seq after the previous run */

	for (unsigned int i = 0; i < n; i++) {
		const struct braid_seq_range *r = &runs[i];

		if (r->count == 0 || r->count > BRAID_NACK_RANGE_MAX)
			return false;
		if (i > 0 && (int32_t)(r->first - end) < 0)
			return false;
		/* Offset of the run's last seq from the first run. */
		if ((uint64_t)(r->first - first) + r->count - 1 > INT32_MAX)
			return false;
		end = r->first + r->count;
	}
	return true;
}

int
braid_arq_nack_pack(uint16_t class_id, const struct braid_seq_range *runs,
		    unsigned int n, struct braid_nack *nack)
{
	unsigned int best_cov, best_bytes, best_b, best_p = 0, best_words = 0;
	unsigned int after, n_ranges;

	if (runs == NULL || nack == NULL || n == 0)
		return -EINVAL;
	if (n > PACK_MAX_RUNS)
		n = PACK_MAX_RUNS;
	if (!pack_runs_valid(runs, n))
		return -EINVAL;

	/* Ranges only. */
	best_cov = RTE_MIN(n, (unsigned int)BRAID_NACK_MAX_RANGES);
	best_bytes = 8 + 8 * best_cov;
	best_b = best_cov;

	/* b leading ranges, then a bitmap from runs[b].first holding p runs,
	 * then ranges up to the limit. A run in the middle of the bitmap
	 * window never gains by being a range (the words span from base to
	 * the last bitmap run either way), so these cover every choice. */
	for (unsigned int b = 0; b <= BRAID_NACK_MAX_RANGES && b < n; b++) {
		uint32_t base = runs[b].first;

		for (unsigned int p = 1; b + p <= n; p++) {
			const struct braid_seq_range *r = &runs[b + p - 1];
			uint32_t off = r->first + r->count - 1 - base;
			unsigned int words, cov, bytes;

			if (off >= BITMAP_SEQS)
				break;   /* later runs lie further out */
			words = off / 32 + 1;
			after = RTE_MIN(BRAID_NACK_MAX_RANGES - b, n - b - p);
			cov = b + p + after;
			bytes = 8 + 4 * words + 8 * (b + after);
			if (cov > best_cov || (cov == best_cov && bytes < best_bytes)) {
				best_cov = cov;
				best_bytes = bytes;
				best_b = b;
				best_p = p;
				best_words = words;
			}
		}
	}

	memset(nack, 0, sizeof(*nack));
	nack->class_id = class_id;
	n_ranges = 0;
	for (unsigned int i = 0; i < best_b; i++)
		nack->ranges[n_ranges++] = runs[i];
	if (best_p > 0) {
		uint32_t base = runs[best_b].first;

		nack->base_seq = base;
		nack->bitmap_words = (uint8_t)best_words;
		for (unsigned int i = best_b; i < best_b + best_p; i++) {
			uint32_t off = runs[i].first - base;

			for (uint32_t k = 0; k < runs[i].count; k++, off++)
				nack->bitmap[off >> 5] |= 1u << (off & 31);
		}
	}
	for (unsigned int i = best_b + best_p; i < best_cov; i++)
		nack->ranges[n_ranges++] = runs[i];
	nack->n_ranges = (uint8_t)n_ranges;
	return (int)best_cov;
}
