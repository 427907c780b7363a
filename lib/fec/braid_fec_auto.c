/* SPDX-License-Identifier: BSD-3-Clause */
/* Automatic FEC block shape from the links' loss (braid_fec_auto.h). */
#include <stddef.h>

#include "braid_fec_auto.h"

double
braid_fec_block_fail(unsigned int k, unsigned int m, double p)
{
	unsigned int n = k + m;
	double q = 1.0 - p, term = 1.0, tail = 0.0;

	if (p <= 0.0)
		return 0.0;
	if (p >= 1.0)
		return 1.0;
	/* term_i = C(n, i) p^i q^(n-i), built up from term_0 = q^n; the tail
	 * is summed from i = m + 1 so that small results keep their digits. */
	for (unsigned int i = 0; i < n; i++)
		term *= q;
	for (unsigned int i = 0; i < n; i++) {
		term *= (double)(n - i) / (double)(i + 1) * p / q;
		if (i + 1 > m)
			tail += term;
	}
	return tail;
}

double
braid_fec_auto_design_loss(uint32_t loss_ppm)
{
	double p = 1.2 * (double)loss_ppm / 1e6 + 0.002;

	return p > 0.5 ? 0.5 : p;
}

unsigned int
braid_fec_auto_max_k(const struct braid_fec_auto_in *in)
{
	uint64_t fill_ns = (uint64_t)in->deadline_ms * 1000000 / 8;
	uint64_t k;

	if (fill_ns == 0 || fill_ns > BRAID_FEC_AUTO_FILL_NS)
		fill_ns = BRAID_FEC_AUTO_FILL_NS;
	k = (uint64_t)in->pkt_rate * fill_ns / 1000000000ull;
	if (k < 4)
		k = 4;
	return k > BRAID_FEC_AUTO_MAX_K ? BRAID_FEC_AUTO_MAX_K : (unsigned int)k;
}

/* a costs less parity per data packet than b. */
static bool
cheaper(struct braid_fec_shape a, struct braid_fec_shape b)
{
	return (unsigned int)a.m * b.k < (unsigned int)b.m * a.k;
}

struct braid_fec_shape
braid_fec_auto_pick(const struct braid_fec_auto_in *in, double *p_fail)
{
	unsigned int kmax = braid_fec_auto_max_k(in);
	unsigned int cap = in->max_overhead_pct;
	double p = braid_fec_auto_design_loss(in->loss_ppm);
	double target = in->arq_fits ? BRAID_FEC_AUTO_TARGET_ARQ : BRAID_FEC_AUTO_TARGET_NO_ARQ;
	struct braid_fec_shape best = { 0, 0 }, robust = { 0, 0 };
	double best_f = 1.0, robust_f = 2.0;

	for (unsigned int k = 1; k <= kmax; k++) {
		/* The cheapest m of this k that meets the target. */
		for (unsigned int m = 1; m <= BRAID_FEC_AUTO_MAX_M && m * 100 <= cap * k; m++) {
			struct braid_fec_shape s = { (uint8_t)k, (uint8_t)m };
			double f = braid_fec_block_fail(k, m, p);

			if (f > target)
				continue;
			if (best.k == 0 || cheaper(s, best)) {
				best = s;
				best_f = f;
			}
			break;
		}
		/* The most robust shape within the ceiling, if none meets it. */
		for (unsigned int m = BRAID_FEC_AUTO_MAX_M; m >= 1; m--) {
			double f;

			if (m * 100 > cap * k)
				continue;
			f = braid_fec_block_fail(k, m, p);
			if (f < robust_f) {
				robust = (struct braid_fec_shape){ (uint8_t)k, (uint8_t)m };
				robust_f = f;
			}
			break;
		}
	}
	if (best.k == 0) {
		best = robust;
		best_f = robust_f;
	}
	if (best.k == 0) {
		/* A ceiling below 1 / kmax: one parity per block still. */
		best = (struct braid_fec_shape){ (uint8_t)kmax, 1 };
		best_f = braid_fec_block_fail(kmax, 1, p);
	}
	if (p_fail != NULL)
		*p_fail = best_f;
	return best;
}

void
braid_fec_auto_init(struct braid_fec_auto *a, struct braid_fec_shape initial)
{
	*a = (struct braid_fec_auto){ .cur = initial };
}

bool
braid_fec_auto_step(struct braid_fec_auto *a, const struct braid_fec_auto_in *in,
		    uint64_t now_ns, struct braid_fec_shape *next)
{
	double p = braid_fec_auto_design_loss(in->loss_ppm);
	double target = in->arq_fits ? BRAID_FEC_AUTO_TARGET_ARQ : BRAID_FEC_AUTO_TARGET_NO_ARQ;
	double f_pick, f_cur = braid_fec_block_fail(a->cur.k, a->cur.m, p);
	struct braid_fec_shape t = braid_fec_auto_pick(in, &f_pick);

	if (t.k == a->cur.k && t.m == a->cur.m) {
		a->cheaper_since_ns = 0;
		return false;
	}
	if (f_cur > 2 * target && f_pick < f_cur) {
		a->ups++;
		goto change;
	}
	/* Over the ceiling (the links lost capacity): down at once. */
	if ((unsigned int)a->cur.m * 100 > (unsigned int)in->max_overhead_pct * a->cur.k &&
	    cheaper(t, a->cur)) {
		a->downs++;
		goto change;
	}
	if (!cheaper(t, a->cur)) {
		a->cheaper_since_ns = 0;
		return false;
	}
	if (a->cheaper_since_ns == 0) {
		a->cheaper_since_ns = now_ns == 0 ? 1 : now_ns;
		return false;
	}
	if (now_ns - a->cheaper_since_ns < BRAID_FEC_AUTO_DOWN_HOLD_NS)
		return false;
	a->downs++;
change:
	a->cur = t;
	a->cheaper_since_ns = 0;
	*next = t;
	return true;
}
