/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braid-linkemu impairment model, driven with a virtual clock and seeded
 * RNGs: delay/jitter statistics, in-order release, loss and Gilbert-Elliott
 * rates, rate limiter and backlog, outage windows, duplication, the release
 * queue against a sorted reference, and the JSON profile parser (shipped
 * profiles and error paths).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "emu_model.h"
#include "emu_profile.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC) /* virtual start time, far from 0 */

static uint64_t g_seed;

struct moments {
	double n, sum, sum2, min, max;
};

static void
mom_add(struct moments *m, double x)
{
	if (m->n == 0 || x < m->min)
		m->min = x;
	if (m->n == 0 || x > m->max)
		m->max = x;
	m->n++;
	m->sum += x;
	m->sum2 += x * x;
}

static double
mom_mean(const struct moments *m)
{
	return m->sum / m->n;
}

static double
mom_std(const struct moments *m)
{
	double mu = mom_mean(m);

	return sqrt(m->sum2 / m->n - mu * mu);
}

static struct emu_dir *
mkdir_conf(const struct emu_dir_conf *c, uint64_t seed)
{
	struct emu_dir *d = emu_dir_create(c, seed, T0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

/* rx + duplicated == copies handed out + every model drop. */
static void
assert_conserved(struct emu_dir *d, uint64_t copies)
{
	const struct emu_dir_counters *c = emu_dir_counters(d);

	CU_ASSERT_EQUAL(c->rx + c->duplicated,
			copies + c->drop_outage + c->drop_ge + c->drop_loss +
			c->drop_backlog);
}

static void
test_rng(void)
{
	struct emu_rng a, b;
	struct moments u = { 0 }, z = { 0 };
	const int n = 200000;

	emu_rng_seed(&a, g_seed);
	emu_rng_seed(&b, g_seed);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(emu_rng_next(&a), emu_rng_next(&b));
	emu_rng_seed(&b, g_seed + 1);
	CU_ASSERT_NOT_EQUAL(emu_rng_next(&a), emu_rng_next(&b));
	for (int i = 0; i < n; i++) {
		double x = emu_rng_unit(&a);

		CU_ASSERT(x >= 0.0 && x < 1.0);
		mom_add(&u, x);
		mom_add(&z, emu_rng_normal(&a));
	}
	/* uniform: mean 1/2, std 1/sqrt(12); normal: 0, 1. SE ~ 0.0007 */
	CU_ASSERT(fabs(mom_mean(&u) - 0.5) < 0.004);
	CU_ASSERT(fabs(mom_std(&u) - 1.0 / sqrt(12.0)) < 0.003);
	CU_ASSERT(fabs(mom_mean(&z)) < 0.012);
	CU_ASSERT(fabs(mom_std(&z) - 1.0) < 0.012);
}

/* Sparse arrivals (1 s apart): no in-order clamping, no queueing. */
static void
delay_stats(enum emu_jitter_dist dist, uint64_t delay, uint64_t jitter,
	    struct moments *m, uint64_t *at_zero)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	const int n = 40000;

	emu_dir_conf_init(&c);
	c.delay_ns = delay;
	c.jitter_ns = jitter;
	c.jitter_dist = dist;
	d = mkdir_conf(&c, g_seed);
	memset(m, 0, sizeof(*m));
	*at_zero = 0;
	for (int i = 0; i < n; i++) {
		uint64_t now = T0 + (uint64_t)i * SEC;
		struct emu_verdict v;

		emu_dir_admit(d, now, 1000, 1, &v);
		CU_ASSERT_EQUAL_FATAL(v.n, 1);
		CU_ASSERT_FATAL(v.release_ns[0] >= now);
		if (v.release_ns[0] == now)
			(*at_zero)++;
		mom_add(m, (double)(v.release_ns[0] - now));
	}
	assert_conserved(d, (uint64_t)n);
	emu_dir_free(d);
}

static void
test_delay_uniform(void)
{
	struct moments m;
	uint64_t zero;

	delay_stats(EMU_JITTER_UNIFORM, 15 * MS, 3 * MS, &m, &zero);
	/* U(12, 18) ms: mean 15, std 3/sqrt(3) = 1.732 ms; SE(mean) 9 us. */
	CU_ASSERT(fabs(mom_mean(&m) - 15.0 * MS) < 0.06 * MS);
	CU_ASSERT(fabs(mom_std(&m) - 3.0 * MS / sqrt(3.0)) < 0.03 * MS);
	CU_ASSERT(m.min >= 12.0 * MS);
	CU_ASSERT(m.max <= 18.0 * MS);
	CU_ASSERT(m.min < 12.05 * MS && m.max > 17.95 * MS);
	delay_stats(EMU_JITTER_UNIFORM, 15 * MS, 0, &m, &zero);
	CU_ASSERT(m.min == 15.0 * MS && m.max == 15.0 * MS);
}

static void
test_delay_normal(void)
{
	struct moments m;
	uint64_t zero;

	delay_stats(EMU_JITTER_NORMAL, 15 * MS, 3 * MS, &m, &zero);
	/* N(15, 3) ms, P(< 0) = 3e-7: no clamping. SE(mean) 15 us,
	 * SE(std) 11 us. */
	CU_ASSERT(fabs(mom_mean(&m) - 15.0 * MS) < 0.08 * MS);
	CU_ASSERT(fabs(mom_std(&m) - 3.0 * MS) < 0.06 * MS);
	CU_ASSERT(m.max > 24.0 * MS); /* tails exist: P(> 3 sigma) ~ 54/40k */
	CU_ASSERT_EQUAL(zero, 0);
	/* Clamp at 0: N(1, 5) ms is negative with P(Z < -0.2) = 0.4207. */
	delay_stats(EMU_JITTER_NORMAL, 1 * MS, 5 * MS, &m, &zero);
	CU_ASSERT(fabs((double)zero / m.n - 0.4207) < 0.012);
}

/* Dense arrivals with jitter: in order unless reorder. */
static void
test_in_order(void)
{
	struct emu_dir_conf c;
	const int n = 50000;

	for (int reorder = 0; reorder < 2; reorder++) {
		struct emu_pq *q = emu_pq_create((uint32_t)n);
		struct emu_dir *d;
		uint64_t prev = 0, inversions = 0, t;
		uintptr_t expect = 0;
		int pops = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(q);
		emu_dir_conf_init(&c);
		c.delay_ns = 15 * MS;
		c.jitter_ns = 20 * MS; /* > delay: clamping at 0 happens */
		c.jitter_dist = EMU_JITTER_UNIFORM;
		c.reorder = reorder;
		d = mkdir_conf(&c, g_seed);
		for (int i = 0; i < n; i++) {
			uint64_t now = T0 + (uint64_t)i * 100000; /* 0.1 ms */
			struct emu_verdict v;

			emu_dir_admit(d, now, 200, 1, &v);
			CU_ASSERT_EQUAL_FATAL(v.n, 1);
			CU_ASSERT(v.release_ns[0] >= now);
			if (reorder) {
				/* Never later than delay + jitter. */
				CU_ASSERT(v.release_ns[0] <= now + 35 * MS);
			}
			if (v.release_ns[0] < prev)
				inversions++;
			prev = v.release_ns[0];
			CU_ASSERT_EQUAL(emu_pq_push(q, v.release_ns[0],
						    (void *)(uintptr_t)i), 0);
		}
		if (!reorder) {
			CU_ASSERT_EQUAL(inversions, 0);
			/* Pop order == arrival order (equal times FIFO). */
			while (emu_pq_count(q) > 0) {
				uintptr_t it = (uintptr_t)emu_pq_pop(q, &t);

				if (it != expect)
					break;
				expect++;
				pops++;
			}
			CU_ASSERT_EQUAL(pops, n);
		} else {
			/* ~n/2 adjacent inversions expected with this jitter. */
			CU_ASSERT(inversions > (uint64_t)n / 4);
		}
		emu_dir_free(d);
		emu_pq_free(q);
	}
}

static void
test_loss_rate(void)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	uint64_t copies = 0;
	const int n = 100000;
	double rate;

	emu_dir_conf_init(&c);
	c.loss = 0.05;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < n; i++) {
		struct emu_verdict v;

		emu_dir_admit(d, T0 + (uint64_t)i * MS, 1000, 1, &v);
		copies += v.n;
	}
	rate = (double)emu_dir_counters(d)->drop_loss / n;
	/* binomial sigma 0.069%: +-0.5% is 7 sigma */
	CU_ASSERT(fabs(rate - 0.05) < 0.005);
	CU_ASSERT_EQUAL(emu_dir_counters(d)->rx, (uint64_t)n);
	assert_conserved(d, copies);
	emu_dir_free(d);
	/* 0% and 100% are exact. */
	c.loss = 1.0;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < 1000; i++) {
		struct emu_verdict v;

		emu_dir_admit(d, T0 + (uint64_t)i * MS, 1000, 1, &v);
		CU_ASSERT_EQUAL(v.n, 0);
	}
	emu_dir_free(d);
}

/* Returns loss fraction; *mean_burst = mean run of consecutive losses. */
static double
ge_run(double p, double r, double loss_bad, double loss_good, int n,
       double *mean_burst)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	uint64_t lost = 0, bursts = 0, copies = 0;
	bool prev_lost = false;

	emu_dir_conf_init(&c);
	c.ge = true;
	c.ge_p = p;
	c.ge_r = r;
	c.ge_loss_bad = loss_bad;
	c.ge_loss_good = loss_good;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < n; i++) {
		struct emu_verdict v;

		emu_dir_admit(d, T0 + (uint64_t)i * 100000, 500, 1, &v);
		copies += v.n;
		if (v.n == 0) {
			lost++;
			if (!prev_lost)
				bursts++;
		}
		prev_lost = v.n == 0;
	}
	CU_ASSERT_EQUAL(emu_dir_counters(d)->drop_ge, lost);
	CU_ASSERT_EQUAL(emu_dir_counters(d)->drop_loss, 0);
	assert_conserved(d, copies);
	emu_dir_free(d);
	*mean_burst = bursts != 0 ? (double)lost / (double)bursts : 0;
	return (double)lost / n;
}

static void
test_gilbert_elliott(void)
{
	double burst, loss, expect;

	/* bursty profile: p 1%, r 25%, 1-h 100%, 1-k 0%.
	 * Long-run loss = pi_bad = p / (p + r) = 3.846%; a loss burst is a
	 * stay in the bad state, geometric with mean 1 / r = 4. About 3800
	 * bursts in 400k frames: SE(loss) ~0.09%, SE(burst) ~0.06. */
	loss = ge_run(0.01, 0.25, 1.0, 0.0, 400000, &burst);
	CU_ASSERT(fabs(loss - 0.01 / 0.26) < 0.0035);
	CU_ASSERT(fabs(burst - 4.0) < 0.3);

	/* General case: loss = pi_good (1-k) + pi_bad (1-h). */
	expect = (0.30 / 0.35) * 0.02 + (0.05 / 0.35) * 0.70;
	loss = ge_run(0.05, 0.30, 0.70, 0.02, 400000, &burst);
	CU_ASSERT(fabs(loss - expect) < 0.005);

	/* Bernoulli special case: p + r = 1 makes states independent. */
	loss = ge_run(0.2, 0.8, 1.0, 0.0, 200000, &burst);
	CU_ASSERT(fabs(loss - 0.2) < 0.006);
	CU_ASSERT(fabs(burst - 1.25) < 0.05); /* geometric, mean 1/(1-0.2) */
}

/* Steps: from 2 s the rate falls to 3 Mbit/s and the delay to 40 ms, from
 * 4 s the loss is 100 %; frames at a steady 2 Mbit/s show each. */
static void
test_steps(void)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	const uint32_t len = 1000;
	uint64_t sent[3] = { 0 }, out[3] = { 0 }, q_max[3] = { 0 };

	emu_dir_conf_init(&c);
	c.rate_bps = 10000000;
	c.delay_ns = 10 * MS;
	c.backlog_ns = 100 * MS;
	c.n_steps = 2;
	c.steps[0] = (struct emu_step){ .at_ns = 2 * SEC, .set_rate = true,
		.rate_bps = 3000000, .set_delay = true, .delay_ns = 40 * MS };
	c.steps[1] = (struct emu_step){ .at_ns = 4 * SEC, .set_loss = true, .loss = 1.0 };
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), 0);
	d = mkdir_conf(&c, g_seed);
	/* 4 ms apart: 2 Mbit/s of 1000-byte frames, below both rates. */
	for (uint64_t t = 0; t < 6 * SEC; t += 4 * MS) {
		unsigned int ph = (unsigned int)(t / (2 * SEC));
		struct emu_verdict v;

		emu_dir_admit(d, T0 + t, len, 1, &v);
		sent[ph]++;
		if (v.n == 1) {
			uint64_t lat = v.release_ns[0] - (T0 + t);

			out[ph]++;
			if (lat > q_max[ph])
				q_max[ph] = lat;
		}
	}
	CU_ASSERT_EQUAL(out[0], sent[0]);
	CU_ASSERT_EQUAL(out[1], sent[1]);
	CU_ASSERT_EQUAL(out[2], 0);
	/* Delay plus one frame's serialisation at the rate of the phase. */
	CU_ASSERT(q_max[0] <= 10 * MS + 1 * MS);
	CU_ASSERT(q_max[1] >= 40 * MS && q_max[1] <= 40 * MS + 3 * MS);
	emu_dir_free(d);
	/* Out of order: refused. */
	c.steps[1].at_ns = 1 * SEC;
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), -EINVAL);
}

static void
test_rate_limit(void)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	const uint32_t len = 1000;
	const uint64_t rate = 10000000; /* 10 Mbit/s */
	const uint64_t wire_bits = (len + EMU_FRAME_OVERHEAD) * 8ull;
	const uint64_t tx_ns = (wire_bits * SEC + rate - 1) / rate;
	const int n = 25000;            /* 10 s at 2500 frames/s = 20.5 Mbit/s */
	uint64_t *rel = calloc((size_t)n, sizeof(*rel));
	uint64_t m = 0, max_q = 0, bits_ok_windows = 0, j = 0;
	double drop;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rel);
	emu_dir_conf_init(&c);
	c.rate_bps = rate;
	c.backlog_ns = 50 * MS;
	c.delay_ns = 5 * MS;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < n; i++) {
		uint64_t now = T0 + (uint64_t)i * 400000; /* 0.4 ms */
		struct emu_verdict v;

		emu_dir_admit(d, now, len, 1, &v);
		if (v.n == 1) {
			uint64_t q = v.release_ns[0] - now - c.delay_ns;

			if (q > max_q)
				max_q = q;
			rel[m++] = v.release_ns[0];
		}
	}
	/* Queueing + serialisation never exceeds backlog + one frame. */
	CU_ASSERT(max_q <= c.backlog_ns + tx_ns);
	CU_ASSERT(max_q >= c.backlog_ns - tx_ns); /* the queue did fill */
	/* Frames per second at 10 Mbit/s: 1220.7; offered 2500: 51.2% drop */
	drop = (double)emu_dir_counters(d)->drop_backlog / n;
	CU_ASSERT(fabs(drop - (1.0 - 1e7 / (double)wire_bits / 2500.0)) < 0.01);
	/* Any 1 s window holds at most rate * 1 s + one frame. */
	for (uint64_t i = 0; i < m; i++) {
		while (j < m && rel[j] < rel[i] + SEC)
			j++;
		if ((j - i) * wire_bits <= rate + wire_bits)
			bits_ok_windows++;
	}
	CU_ASSERT_EQUAL(bits_ok_windows, m);
	/* ... and is busy: >= 99% of the rate over the run. */
	CU_ASSERT((double)(m * wire_bits) /
		  ((double)(rel[m - 1] - rel[0] + tx_ns) / 1e9) >=
		  0.99 * (double)rate);
	assert_conserved(d, m);
	emu_dir_free(d);

	/* Below the rate (9.8 Mbit/s wire): no queue, no drop, each frame
	 * leaves exactly one serialisation time after it arrived. */
	emu_dir_conf_init(&c);
	c.rate_bps = rate;
	c.backlog_ns = 0;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < 5000; i++) {
		uint64_t now = T0 + (uint64_t)i * 836000; /* > tx_ns 819.2 us */
		struct emu_verdict v;

		emu_dir_admit(d, now, len, 1, &v);
		CU_ASSERT_EQUAL(v.n, 1);
		CU_ASSERT_EQUAL(v.release_ns[0], now + tx_ns);
	}
	CU_ASSERT_EQUAL(emu_dir_counters(d)->drop_backlog, 0);
	emu_dir_free(d);
	free(rel);
}

static void
test_outage_window(void)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	uint64_t dropped = 0;
	struct emu_verdict v;

	emu_dir_conf_init(&c);
	c.n_outages = 2;
	c.outages[0] = (struct emu_window){ 2 * SEC, 3 * SEC };
	c.outages[1] = (struct emu_window){ 8 * SEC, 10 * SEC };
	d = mkdir_conf(&c, g_seed);
	for (uint64_t t = 0; t < 12 * SEC; t += MS) {
		bool in = (t >= 2 * SEC && t < 3 * SEC) ||
			  (t >= 8 * SEC && t < 10 * SEC);

		emu_dir_admit(d, T0 + t, 100, 1, &v);
		CU_ASSERT_EQUAL(v.n, in ? 0u : 1u);
		dropped += v.n == 0;
	}
	CU_ASSERT_EQUAL(dropped, 3000);
	CU_ASSERT_EQUAL(emu_dir_counters(d)->drop_outage, 3000);
	/* Exact edges, to the nanosecond. */
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 + 2 * SEC - 1));
	CU_ASSERT_TRUE(emu_dir_in_outage(d, T0 + 2 * SEC));
	CU_ASSERT_TRUE(emu_dir_in_outage(d, T0 + 3 * SEC - 1));
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 + 3 * SEC));
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 - 5 * SEC)); /* before start */
	emu_dir_free(d);

	/* Periodic: from 1 s to 3 s, 200 ms up then 200 ms down. */
	emu_dir_conf_init(&c);
	c.flap_up_ns = 200 * MS;
	c.flap_down_ns = 200 * MS;
	c.flap_from_ns = 1 * SEC;
	c.flap_to_ns = 3 * SEC;
	d = mkdir_conf(&c, g_seed);
	for (uint64_t t = 0; t < 4 * SEC; t += MS) {
		bool in = t >= SEC && t < 3 * SEC &&
			  ((t - SEC) % (400 * MS)) >= 200 * MS;

		CU_ASSERT_EQUAL(emu_dir_in_outage(d, T0 + t), in);
	}
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 + 1200 * MS - 1));
	CU_ASSERT_TRUE(emu_dir_in_outage(d, T0 + 1200 * MS));
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 + 1400 * MS));
	CU_ASSERT_FALSE(emu_dir_in_outage(d, T0 + 3 * SEC + 300 * MS));
	emu_dir_free(d);
}

static void
test_duplication(void)
{
	struct emu_dir_conf c;
	struct emu_dir *d;
	uint64_t copies = 0, twos = 0;
	const int n = 100000;

	emu_dir_conf_init(&c);
	c.dup = 0.10;
	c.delay_ns = 7 * MS;
	c.jitter_ns = 1 * MS;
	d = mkdir_conf(&c, g_seed);
	for (int i = 0; i < n; i++) {
		uint64_t now = T0 + (uint64_t)i * 10 * MS;
		struct emu_verdict v;

		emu_dir_admit(d, now, 300, 1, &v);
		CU_ASSERT(v.n == 1 || v.n == 2);
		for (unsigned int k = 0; k < v.n; k++)
			CU_ASSERT(v.release_ns[k] >= now + 6 * MS &&
				  v.release_ns[k] <= now + 8 * MS);
		if (v.n == 2) {
			twos++;
			/* in order: the copy never precedes the original */
			CU_ASSERT(v.release_ns[1] >= v.release_ns[0]);
		}
		copies += v.n;
	}
	CU_ASSERT_EQUAL(emu_dir_counters(d)->duplicated, twos);
	CU_ASSERT(fabs((double)twos / n - 0.10) < 0.006);
	assert_conserved(d, copies);
	emu_dir_free(d);
}

/* Same seed: same fates by frame index, whatever the arrival timing. */
static void
test_repeatable(void)
{
	struct emu_dir_conf c;
	struct emu_dir *a, *b, *x;
	int same_fate = 0, diff_fate = 0;
	const int n = 20000;

	emu_dir_conf_init(&c);
	c.loss = 0.1;
	c.dup = 0.05;
	c.ge = true;
	c.ge_p = 0.02;
	c.ge_r = 0.3;
	c.ge_loss_bad = 0.5;
	c.jitter_ns = 2 * MS;
	c.delay_ns = 10 * MS;
	c.reorder = true;
	a = mkdir_conf(&c, g_seed);
	b = mkdir_conf(&c, g_seed);
	x = mkdir_conf(&c, g_seed ^ 0x5555);
	for (int i = 0; i < n; i++) {
		struct emu_verdict va, vb, vx;
		uint64_t ta = T0 + (uint64_t)i * MS;
		uint64_t tb = T0 + (uint64_t)i * 3 * MS + 17;

		emu_dir_admit(a, ta, 100, 1, &va);
		emu_dir_admit(b, tb, 100, 1, &vb);
		emu_dir_admit(x, ta, 100, 1, &vx);
		if (va.n == vb.n) {
			same_fate++;
			for (unsigned int k = 0; k < va.n; k++)
				CU_ASSERT_EQUAL(va.release_ns[k] - ta,
						vb.release_ns[k] - tb);
		}
		if (va.n != vx.n)
			diff_fate++;
	}
	CU_ASSERT_EQUAL(same_fate, n);
	CU_ASSERT(diff_fate > 100);
	emu_dir_free(a);
	emu_dir_free(b);
	emu_dir_free(x);
}

struct ref_ent {
	uint64_t t;
	uint64_t order;
};

static int
ref_cmp(const void *pa, const void *pb)
{
	const struct ref_ent *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

/* Release queue against a sorted reference on random pushes and pops. */
static void
test_pq_reference(void)
{
	const uint32_t cap = 4096;
	struct emu_pq *q = emu_pq_create(cap);
	struct ref_ent *ref = calloc(cap, sizeof(*ref));
	uint64_t st = g_seed, order = 0, t;
	uint32_t nref = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
	CU_ASSERT_PTR_NULL(emu_pq_pop(q, &t));
	CU_ASSERT_FALSE(emu_pq_peek(q, &t));
	for (int step = 0; step < 200000; step++) {
		uint64_t r = braid_test_rand(&st);

		if ((r & 3) != 0 && nref < cap) {
			/* few distinct times: many ties to keep FIFO */
			uint64_t tt = (r >> 8) % 64;

			CU_ASSERT_EQUAL_FATAL(
				emu_pq_push(q, tt, (void *)(uintptr_t)(order + 1)), 0);
			ref[nref].t = tt;
			ref[nref].order = order++;
			nref++;
		} else if (nref > 0) {
			uint64_t got_t, want_t, want_o;
			uintptr_t it;
			uint32_t best = 0;

			for (uint32_t i = 1; i < nref; i++)
				if (ref_cmp(&ref[i], &ref[best]) < 0)
					best = i;
			want_t = ref[best].t;
			want_o = ref[best].order;
			ref[best] = ref[--nref];
			CU_ASSERT_TRUE(emu_pq_peek(q, &got_t));
			CU_ASSERT_EQUAL(got_t, want_t);
			it = (uintptr_t)emu_pq_pop(q, &got_t);
			CU_ASSERT_EQUAL_FATAL(it, want_o + 1);
			CU_ASSERT_EQUAL(got_t, want_t);
		}
		CU_ASSERT_EQUAL_FATAL(emu_pq_count(q), nref);
	}
	/* Full queue refuses. */
	while (emu_pq_count(q) < cap)
		CU_ASSERT_EQUAL_FATAL(emu_pq_push(q, 1, q), 0);
	CU_ASSERT_EQUAL(emu_pq_push(q, 1, q), -ENOSPC);
	emu_pq_free(q);
	free(ref);
	CU_ASSERT_PTR_NULL(emu_pq_create(0));
}

/* Everything enabled at random: conservation and bounds hold. */
static void
test_random_mix(void)
{
	uint64_t st = g_seed ^ 0xABCDEF;

	for (int round = 0; round < 20; round++) {
		struct emu_dir_conf c;
		struct emu_dir *d;
		uint64_t copies = 0, now = T0, prev_rel = 0;

		emu_dir_conf_init(&c);
		c.rate_bps = 1000000 + braid_test_rand(&st) % 50000000;
		c.backlog_ns = (braid_test_rand(&st) % 200) * MS;
		c.delay_ns = (braid_test_rand(&st) % 100) * MS;
		c.jitter_ns = (braid_test_rand(&st) % 30) * MS;
		c.jitter_dist = braid_test_rand(&st) & 1 ? EMU_JITTER_NORMAL :
							    EMU_JITTER_UNIFORM;
		c.reorder = braid_test_rand(&st) & 1;
		c.loss = (double)(braid_test_rand(&st) % 30) / 100.0;
		c.dup = (double)(braid_test_rand(&st) % 10) / 100.0;
		c.ge = braid_test_rand(&st) & 1;
		c.ge_p = 0.01;
		c.ge_r = 0.2;
		c.ge_loss_bad = 1.0;
		c.n_outages = 1;
		c.outages[0] = (struct emu_window){ 1 * SEC, 2 * SEC };
		CU_ASSERT_EQUAL_FATAL(emu_dir_conf_check(&c), 0);
		d = mkdir_conf(&c, braid_test_rand(&st));
		for (int i = 0; i < 20000; i++) {
			struct emu_verdict v;
			uint32_t len = 60 + (uint32_t)(braid_test_rand(&st) % 1455);

			now += braid_test_rand(&st) % 400000;
			emu_dir_admit(d, now, len, 1, &v);
			CU_ASSERT_FATAL(v.n <= 2);
			for (unsigned int k = 0; k < v.n; k++) {
				CU_ASSERT(v.release_ns[k] >= now);
				if (!c.reorder) {
					CU_ASSERT(v.release_ns[k] >= prev_rel);
					prev_rel = v.release_ns[k];
				}
			}
			copies += v.n;
		}
		assert_conserved(d, copies);
		emu_dir_free(d);
	}
}

static void
test_conf_check(void)
{
	struct emu_dir_conf c;

	emu_dir_conf_init(&c);
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), 0);
	c.loss = 1.5;
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), -EINVAL);
	CU_ASSERT_PTR_NULL(emu_dir_create(&c, 1, 0));
	emu_dir_conf_init(&c);
	c.loss = NAN;
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), -EINVAL);
	emu_dir_conf_init(&c);
	c.n_outages = 1;
	c.outages[0] = (struct emu_window){ 5, 5 };
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), -EINVAL);
	emu_dir_conf_init(&c);
	c.flap_up_ns = 1;
	CU_ASSERT_EQUAL(emu_dir_conf_check(&c), -EINVAL);
}

static int
load_profile(const char *name, struct emu_profile *p)
{
	char path[512], err[256];
	int rc;

	snprintf(path, sizeof(path), "%s/tests/e2e/profiles/%s.json",
		 BRAID_SOURCE_ROOT, name);
	rc = emu_profile_load(path, p, err, sizeof(err));
	if (rc != 0)
		printf("\n  %s: %s\n", name, err);
	return rc;
}

static void
assert_both(const struct emu_link_conf *l, uint64_t rate_bps,
	    uint64_t delay_ns)
{
	for (unsigned int d = 0; d < 2; d++) {
		CU_ASSERT_EQUAL(l->dir[d].rate_bps, rate_bps);
		CU_ASSERT_EQUAL(l->dir[d].delay_ns, delay_ns);
	}
}

static void
test_shipped_profiles(void)
{
	struct emu_profile p;

	CU_ASSERT_EQUAL_FATAL(load_profile("clean", &p), 0);
	CU_ASSERT_EQUAL(p.n_links, 3);
	CU_ASSERT_EQUAL(p.stream_kbps, 20000);
	for (unsigned int i = 0; i < 3; i++) {
		char a[16];

		snprintf(a, sizeof(a), "wan%ua", i);
		CU_ASSERT_STRING_EQUAL(p.links[i].ifname[0], a);
		assert_both(&p.links[i], 10000000, 15 * MS);
		CU_ASSERT_EQUAL(p.links[i].dir[0].loss, 0.0);
	}

	CU_ASSERT_EQUAL_FATAL(load_profile("lossy", &p), 0);
	for (unsigned int i = 0; i < 3; i++) {
		assert_both(&p.links[i], 10000000, 15 * MS);
		CU_ASSERT_EQUAL(p.links[i].dir[1].jitter_ns, 3 * MS);
		CU_ASSERT(fabs(p.links[i].dir[1].loss - 0.05) < 1e-12);
		CU_ASSERT_FALSE(p.links[i].dir[1].reorder);
	}

	CU_ASSERT_EQUAL_FATAL(load_profile("bursty", &p), 0);
	for (unsigned int d = 0; d < 2; d++) {
		const struct emu_dir_conf *c = &p.links[2].dir[d];

		CU_ASSERT_TRUE(c->ge);
		CU_ASSERT(fabs(c->ge_p - 0.01) < 1e-12);
		CU_ASSERT(fabs(c->ge_r - 0.25) < 1e-12);
		CU_ASSERT(fabs(c->ge_loss_bad - 1.0) < 1e-12);
		CU_ASSERT(fabs(c->ge_loss_good) < 1e-12);
	}

	CU_ASSERT_EQUAL_FATAL(load_profile("asymmetric", &p), 0);
	assert_both(&p.links[0], 10000000, 10 * MS);
	assert_both(&p.links[1], 10000000, 40 * MS);
	assert_both(&p.links[2], 20000000, 80 * MS);
	CU_ASSERT(fabs(p.links[2].dir[0].loss - 0.01) < 1e-12);

	CU_ASSERT_EQUAL_FATAL(load_profile("linkdown", &p), 0);
	CU_ASSERT_EQUAL(p.stream_kbps, 15000);
	CU_ASSERT_EQUAL(p.links[0].dir[0].n_outages, 0);
	CU_ASSERT_EQUAL(p.links[2].dir[0].n_outages, 0);
	for (unsigned int d = 0; d < 2; d++) {
		CU_ASSERT_EQUAL_FATAL(p.links[1].dir[d].n_outages, 1);
		CU_ASSERT_EQUAL(p.links[1].dir[d].outages[0].from_ns, 8 * SEC);
		CU_ASSERT_EQUAL(p.links[1].dir[d].outages[0].to_ns, 10 * SEC);
		CU_ASSERT(fabs(p.links[1].dir[d].loss - 0.05) < 1e-12);
	}

	CU_ASSERT_EQUAL_FATAL(load_profile("harsh", &p), 0);
	CU_ASSERT_EQUAL(p.stream_kbps, 8000);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(p.links[i].dir[0].jitter_ns, 50 * MS);
		CU_ASSERT_TRUE(p.links[i].dir[0].reorder);
		CU_ASSERT(fabs(p.links[i].dir[1].loss - 0.20) < 1e-12);
	}
}

static void
test_profile_overrides(void)
{
	struct emu_profile p;
	char err[256];
	const char *j =
		"{\"seed\": 9, \"links\": [{\"a\": \"x0\", \"b\": \"y0\","
		" \"both\": {\"delay_ms\": 10, \"loss_pct\": 1,"
		"  \"ge\": {\"p\": 2, \"r\": 30, \"h\": 40, \"1-k\": 1}},"
		" \"b_to_a\": {\"delay_ms\": 80, \"rate_kbps\": 512.5,"
		"  \"periodic_outage\": {\"up_ms\": 200, \"down_ms\": 100}}}]}";

	CU_ASSERT_EQUAL_FATAL(emu_profile_parse(j, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.seed, 9);
	CU_ASSERT_STRING_EQUAL(p.links[0].name, "link0");
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_A_TO_B].delay_ns, 10 * MS);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_B_TO_A].delay_ns, 80 * MS);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_A_TO_B].rate_bps, 0);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_B_TO_A].rate_bps, 512500);
	CU_ASSERT(fabs(p.links[0].dir[EMU_B_TO_A].loss - 0.01) < 1e-12);
	CU_ASSERT(fabs(p.links[0].dir[EMU_B_TO_A].ge_loss_bad - 0.60) < 1e-12);
	CU_ASSERT(fabs(p.links[0].dir[EMU_B_TO_A].ge_loss_good - 0.01) < 1e-12);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_A_TO_B].flap_up_ns, 0);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_B_TO_A].flap_up_ns, 200 * MS);
	CU_ASSERT_EQUAL(p.links[0].dir[EMU_B_TO_A].flap_down_ns, 100 * MS);
	/* direction seeds differ, and are stable */
	CU_ASSERT_NOT_EQUAL(emu_profile_dir_seed(9, 0, 0),
			    emu_profile_dir_seed(9, 0, 1));
	CU_ASSERT_EQUAL(emu_profile_dir_seed(9, 1, 0),
			emu_profile_dir_seed(9, 1, 0));
}

static void
test_profile_errors(void)
{
	static const struct {
		const char *json;
		const char *err_prefix;
	} cases[] = {
		{ "[]", "(root): " },
		{ "{\"links\": []}", "links: " },
		{ "{\"seed\": -1, \"links\": []}", "seed: " },
		{ "{\"sed\": 1}", "sed: unknown key" },
		{ "{\"links\": [{\"a\": \"x\"}]}", "links[0].b: missing" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"x\"}]}",
		  "links[0].b: same interface" },
		{ "{\"links\": [{\"a\": \"abcdefghijklmnop\", \"b\": \"y\"}]}",
		  "links[0].a: interface name" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\"}, {\"a\": \"z\", \"b\": \"x\"}]}",
		  "links[1].b: interface x already used by links[0]" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"lost_pct\": 5}}]}",
		  "links[0].both.lost_pct: unknown key" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"a_to_b\": {\"loss_pct\": 101}}]}",
		  "links[0].a_to_b.loss_pct: must be a number in [0, 100]" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"b_to_a\": {\"delay_ms\": \"5\"}}]}",
		  "links[0].b_to_a.delay_ms: must be a number" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"jitter_dist\": \"pareto\"}}]}",
		  "links[0].both.jitter_dist: " },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"reorder\": 1}}]}",
		  "links[0].both.reorder: " },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"ge\": {\"r\": 5}}}]}",
		  "links[0].both.ge: missing \"p\"" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"ge\": {\"p\": 1, \"r\": 5, \"h\": 1, \"1-h\": 99}}}]}",
		  "links[0].both.ge: give \"h\" or \"1-h\"" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"ge\": {\"p\": 1, \"r\": 5, \"q\": 1}}}]}",
		  "links[0].both.ge.q: unknown key" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"outages\": [{\"from_s\": 3, \"to_s\": 2}]}}]}",
		  "links[0].both.outages[0].to_s: must be greater" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"outages\": [{\"from_s\": 3}]}}]}",
		  "links[0].both.outages[0]: missing \"to_s\"" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"periodic_outage\": {\"up_ms\": 0, \"down_ms\": 5}}}]}",
		  "links[0].both.periodic_outage.up_ms: " },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\", \"both\": {\"rate_kbps\": -1}}]}",
		  "links[0].both.rate_kbps: " },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\"}], \"links\": []}",
		  "line 1" },
		{ "{\"links\": [{\"a\": \"x\", \"b\": \"y\",}]}", "line 1" },
	};
	struct emu_profile p;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = emu_profile_parse(cases[i].json, &p, err, sizeof(err));
		CU_ASSERT_EQUAL(rc, -EINVAL);
		if (strncmp(err, cases[i].err_prefix,
			    strlen(cases[i].err_prefix)) != 0) {
			printf("\n  case %zu: got \"%s\", want \"%s...\"\n", i,
			       err, cases[i].err_prefix);
			CU_FAIL("error message does not name the JSON path");
		}
	}
	CU_ASSERT_EQUAL(emu_profile_load("/nonexistent/x.json", &p, err,
					 sizeof(err)), -ENOENT);
}

static int
register_tests(void)
{
	CU_pSuite s;

	g_seed = braid_test_seed(0x6C696E6B656D75ull);
	printf("test_linkemu: seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", g_seed);
	s = CU_add_suite("linkemu", NULL, NULL);
	if (s == NULL)
		return -1;
	if (CU_add_test(s, "rng", test_rng) == NULL ||
	    CU_add_test(s, "delay_uniform", test_delay_uniform) == NULL ||
	    CU_add_test(s, "delay_normal", test_delay_normal) == NULL ||
	    CU_add_test(s, "in_order", test_in_order) == NULL ||
	    CU_add_test(s, "loss_rate", test_loss_rate) == NULL ||
	    CU_add_test(s, "gilbert_elliott", test_gilbert_elliott) == NULL ||
	    CU_add_test(s, "rate_limit", test_rate_limit) == NULL ||
	    CU_add_test(s, "steps", test_steps) == NULL ||
	    CU_add_test(s, "outage_window", test_outage_window) == NULL ||
	    CU_add_test(s, "duplication", test_duplication) == NULL ||
	    CU_add_test(s, "repeatable", test_repeatable) == NULL ||
	    CU_add_test(s, "pq_reference", test_pq_reference) == NULL ||
	    CU_add_test(s, "random_mix", test_random_mix) == NULL ||
	    CU_add_test(s, "conf_check", test_conf_check) == NULL ||
	    CU_add_test(s, "shipped_profiles", test_shipped_profiles) == NULL ||
	    CU_add_test(s, "profile_overrides", test_profile_overrides) == NULL ||
	    CU_add_test(s, "profile_errors", test_profile_errors) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("linkemu", register_tests);
}
