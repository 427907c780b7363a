/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emu_model.h"

struct emu_dir {
	struct emu_dir_conf conf;
	struct emu_rng rng;
	uint64_t start_ns;
	uint64_t busy_until_ns;   /* rate limiter: end of the last copy's bits */
	uint64_t last_release_ns; /* in-order release floor */
	bool ge_bad;              /* Gilbert-Elliott state */
	unsigned int next_step;   /* conf.steps[] not applied yet */
	struct emu_dir_counters cnt;
};

struct emu_pq_ent {
	uint64_t t_ns;
	uint64_t order;
	void *item;
};

struct emu_pq {
	uint32_t cap;
	uint32_t n;
	uint64_t next_order;
	struct emu_pq_ent *heap;
};

void
emu_dir_conf_init(struct emu_dir_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backlog_ns = 100ull * 1000 * 1000;
	c->jitter_dist = EMU_JITTER_UNIFORM;
}

static bool
prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

int
emu_dir_conf_check(const struct emu_dir_conf *c)
{
	if (c == NULL)
		return -EINVAL;
	if (!prob_ok(c->loss) || !prob_ok(c->dup) || !prob_ok(c->ge_p) ||
	    !prob_ok(c->ge_r) || !prob_ok(c->ge_loss_bad) ||
	    !prob_ok(c->ge_loss_good))
		return -EINVAL;
	if (c->jitter_dist != EMU_JITTER_UNIFORM &&
	    c->jitter_dist != EMU_JITTER_NORMAL)
		return -EINVAL;
	if (c->n_steps > EMU_MAX_STEPS)
		return -EINVAL;
	for (unsigned int i = 0; i < c->n_steps; i++)
		if ((i > 0 && c->steps[i].at_ns < c->steps[i - 1].at_ns) ||
		    c->steps[i].loss < 0.0 || c->steps[i].loss > 1.0)
			return -EINVAL;
	if (c->n_outages > EMU_MAX_OUTAGES)
		return -EINVAL;
	for (unsigned int i = 0; i < c->n_outages; i++)
		if (c->outages[i].to_ns <= c->outages[i].from_ns)
			return -EINVAL;
	if ((c->flap_up_ns == 0) != (c->flap_down_ns == 0))
		return -EINVAL;
	if (c->flap_up_ns != 0 && c->flap_to_ns != 0 &&
	    c->flap_to_ns <= c->flap_from_ns)
		return -EINVAL;
	return 0;
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void
emu_rng_seed(struct emu_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (unsigned int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
emu_rng_next(struct emu_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double
emu_rng_unit(struct emu_rng *r)
{
	return (double)(emu_rng_next(r) >> 11) * 0x1.0p-53;
}

double
emu_rng_normal(struct emu_rng *r)
{
	/* u1 in (0, 1] so log() is finite. */
	double u1 = 1.0 - emu_rng_unit(r);
	double u2 = emu_rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

struct emu_dir *
emu_dir_create(const struct emu_dir_conf *c, uint64_t seed, uint64_t start_ns)
{
	struct emu_dir *d;

	if (emu_dir_conf_check(c) != 0) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	d->conf = *c;
	emu_rng_seed(&d->rng, seed);
	d->start_ns = start_ns;
	return d;
}

void
emu_dir_free(struct emu_dir *d)
{
	free(d);
}

struct emu_dir_counters *
emu_dir_counters(struct emu_dir *d)
{
	return &d->cnt;
}

/* The steps that are due change the direction's parameters. */
static void
apply_steps(struct emu_dir *d, uint64_t now_ns)
{
	struct emu_dir_conf *c = &d->conf;

	while (d->next_step < c->n_steps && now_ns >= d->start_ns &&
	       now_ns - d->start_ns >= c->steps[d->next_step].at_ns) {
		const struct emu_step *st = &c->steps[d->next_step++];

		if (st->set_rate)
			c->rate_bps = st->rate_bps;
		if (st->set_loss)
			c->loss = st->loss;
		if (st->set_delay)
			c->delay_ns = st->delay_ns;
	}
}

bool
emu_dir_in_outage(const struct emu_dir *d, uint64_t now_ns)
{
	const struct emu_dir_conf *c = &d->conf;
	uint64_t el;

	if (now_ns < d->start_ns)
		return false;
	el = now_ns - d->start_ns;
	for (unsigned int i = 0; i < c->n_outages; i++)
		if (el >= c->outages[i].from_ns && el < c->outages[i].to_ns)
			return true;
	if (c->flap_up_ns != 0 && el >= c->flap_from_ns &&
	    (c->flap_to_ns == 0 || el < c->flap_to_ns)) {
		uint64_t phase = (el - c->flap_from_ns) %
				 (c->flap_up_ns + c->flap_down_ns);

		if (phase >= c->flap_up_ns)
			return true;
	}
	return false;
}

/* Signed jitter in ns from a pre-drawn pair of uniforms. */
static double
jitter_from(const struct emu_dir_conf *c, double u1, double u2)
{
	double j = (double)c->jitter_ns;

	if (c->jitter_dist == EMU_JITTER_NORMAL) {
		double a = 1.0 - u1;

		return j * sqrt(-2.0 * log(a)) * cos(2.0 * M_PI * u2);
	}
	return j * (2.0 * u1 - 1.0);
}

/* Rate limiter + delay for one copy; false when tail-dropped. */
static bool
schedule_copy(struct emu_dir *d, uint64_t now_ns, uint32_t len, uint32_t segs,
	      double jit_ns, uint64_t *release_ns)
{
	const struct emu_dir_conf *c = &d->conf;
	uint64_t out_ns = now_ns;
	double total;
	uint64_t rel;

	if (c->rate_bps != 0) {
		uint64_t bits = ((uint64_t)len + (uint64_t)EMU_FRAME_OVERHEAD *
				 segs) * 8u;
		uint64_t tx_ns = (bits * 1000000000ull + c->rate_bps - 1) /
				 c->rate_bps;

		if (d->busy_until_ns < now_ns)
			d->busy_until_ns = now_ns;
		if (d->busy_until_ns - now_ns > c->backlog_ns)
			return false;
		d->busy_until_ns += tx_ns;
		out_ns = d->busy_until_ns;
	}
	total = (double)c->delay_ns + jit_ns;
	if (total < 0.0)
		total = 0.0;
	rel = out_ns + (uint64_t)llround(total);
	if (!c->reorder) {
		if (rel < d->last_release_ns)
			rel = d->last_release_ns;
		d->last_release_ns = rel;
	}
	*release_ns = rel;
	return true;
}

void
emu_dir_admit(struct emu_dir *d, uint64_t now_ns, uint32_t len, uint32_t segs,
	      struct emu_verdict *v)
{
	const struct emu_dir_conf *c = &d->conf;
	struct emu_rng *r = &d->rng;
	double u_ge_move = 1.0, u_ge_loss = 1.0, u_loss = 1.0, u_dup = 1.0;
	double uj[2][2] = { { 0.5, 0.5 }, { 0.5, 0.5 } };
	bool was_bad;
	unsigned int copies;

	apply_steps(d, now_ns);
	/* Fixed number of draws per frame, whatever its fate. */
	if (c->ge) {
		u_ge_move = emu_rng_unit(r);
		u_ge_loss = emu_rng_unit(r);
	}
	if (c->loss > 0.0)
		u_loss = emu_rng_unit(r);
	if (c->dup > 0.0)
		u_dup = emu_rng_unit(r);
	if (c->jitter_ns != 0) {
		unsigned int nj = c->dup > 0.0 ? 2 : 1;

		for (unsigned int i = 0; i < nj; i++) {
			uj[i][0] = emu_rng_unit(r);
			uj[i][1] = emu_rng_unit(r);
		}
	}

	d->cnt.rx++;
	v->n = 0;
	if (segs == 0)
		segs = 1;

	/* The GE chain moves on every frame; the loss decision uses the
	 * state the frame found (netem's loss_gilb_ell()). */
	was_bad = d->ge_bad;
	if (c->ge) {
		if (was_bad)
			d->ge_bad = !(u_ge_move < c->ge_r);
		else
			d->ge_bad = u_ge_move < c->ge_p;
	}

	if (emu_dir_in_outage(d, now_ns)) {
		d->cnt.drop_outage++;
		return;
	}
	if (c->ge && u_ge_loss < (was_bad ? c->ge_loss_bad : c->ge_loss_good)) {
		d->cnt.drop_ge++;
		return;
	}
	if (u_loss < c->loss) {
		d->cnt.drop_loss++;
		return;
	}
	copies = 1;
	if (u_dup < c->dup) {
		copies = 2;
		d->cnt.duplicated++;
	}
	for (unsigned int i = 0; i < copies; i++) {
		double jit = c->jitter_ns != 0 ?
			     jitter_from(c, uj[i][0], uj[i][1]) : 0.0;
		uint64_t rel;

		if (!schedule_copy(d, now_ns, len, segs, jit, &rel)) {
			d->cnt.drop_backlog++;
			continue;
		}
		v->release_ns[v->n++] = rel;
	}
}

struct emu_pq *
emu_pq_create(uint32_t capacity)
{
	struct emu_pq *q;

	if (capacity == 0) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	q->heap = calloc(capacity, sizeof(*q->heap));
	if (q->heap == NULL) {
		free(q);
		errno = ENOMEM;
		return NULL;
	}
	q->cap = capacity;
	return q;
}

void
emu_pq_free(struct emu_pq *q)
{
	if (q == NULL)
		return;
	free(q->heap);
	free(q);
}

static inline bool
ent_less(const struct emu_pq_ent *a, const struct emu_pq_ent *b)
{
	return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->order < b->order);
}

int
emu_pq_push(struct emu_pq *q, uint64_t t_ns, void *item)
{
	struct emu_pq_ent e = { .t_ns = t_ns, .order = q->next_order++,
				.item = item };
	uint32_t i;

	if (q->n == q->cap)
		return -ENOSPC;
	i = q->n++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!ent_less(&e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
	return 0;
}

bool
emu_pq_peek(const struct emu_pq *q, uint64_t *t_ns)
{
	if (q->n == 0)
		return false;
	*t_ns = q->heap[0].t_ns;
	return true;
}

void *
emu_pq_pop(struct emu_pq *q, uint64_t *t_ns)
{
	struct emu_pq_ent top, last;
	uint32_t i = 0;

	if (q->n == 0)
		return NULL;
	top = q->heap[0];
	last = q->heap[--q->n];
	for (;;) {
		uint32_t l = 2 * i + 1, m;

		if (l >= q->n)
			break;
		m = l;
		if (l + 1 < q->n && ent_less(&q->heap[l + 1], &q->heap[l]))
			m = l + 1;
		if (!ent_less(&q->heap[m], &last))
			break;
		q->heap[i] = q->heap[m];
		i = m;
	}
	if (q->n > 0)
		q->heap[i] = last;
	if (t_ns != NULL)
		*t_ns = top.t_ns;
	return top.item;
}

uint32_t
emu_pq_count(const struct emu_pq *q)
{
	return q->n;
}
