/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/link: link health. Two link-health objects (gateway A and B, clocks
 * offset, A's 32-bit us send clock wrapping mid-run) talk over simulated
 * links (base delay + uniform jitter, loss, blackouts) on a virtual
 * clock. Checked against the simulated truth and plain references:
 * RTT (RFC 6298) and jitter (RFC 3550) within 10 %, per-link sequence
 * loss with reorder, duplicates and 2^32 wrap against a set model, loss
 * rates both ways, dead-link detection within 3 probe intervals, recovery
 * only after the hold time, no flapping under 200 ms good/bad alternation,
 * usable capacity following loss and state, session change, admin down,
 * and the mbuf path through the real encap/decap.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>

#include "braid_decap.h"
#include "braid_encap.h"
#include "braid_link.h"
#include "braid_meta.h"
#include "harness.h"
#include "link_priv.h"

#define NL 3
#define TMS 1000000ULL
#define TUS 1000ULL
#define POOL_N 2047

static struct rte_mempool *pool;
static uint64_t seed;

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	/* state changes are logged at INFO: thousands in the flap runs */
	rte_log_set_level_pattern("braid.link", RTE_LOG_NOTICE);
	pool = rte_pktmbuf_pool_create("link_pool", POOL_N, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	seed = braid_test_seed(0x11d4c0ffee);
	printf("\n  link seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	return pool != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static double
urand(uint64_t *rng)
{
	return (double)(braid_test_rand(rng) >> 11) / 9007199254740992.0;
}

static void
base_conf(struct braid_link_conf *c, uint16_t n)
{
	braid_link_conf_defaults(c);
	c->n_links = n;
	for (uint16_t i = 0; i < n; i++)
		c->links[i].capacity_kbps = 10000;
}

/* ------------------------------------------------------------ simulator */

enum { K_DATA, K_PROBE, K_REPLY };

struct frame {
	uint64_t at;          /* arrival, sim time */
	uint64_t ord;         /* FIFO among equal arrival times */
	uint8_t from;         /* sending side 0 (A) or 1 (B) */
	uint8_t kind;
	uint16_t link;
	uint32_t seq;
	uint32_t tx_us;
	uint32_t session;
	uint32_t bytes;
	uint64_t tx_trunc_ns; /* sender clock truncated to us, unwrapped */
	uint64_t fwd_ns;      /* probe: forward delay; reply: probe's */
	uint64_t rtt_true;    /* reply: forward + return delay */
	struct braid_probe p;
	struct braid_probe_reply r;
};

struct path {
	uint64_t base, jit;
	double loss;
	bool black;
	uint32_t next_seq;
	uint64_t sent, lost;
	uint64_t data_period;  /* 0 = no data */
	uint64_t next_data;
};

struct sim;
typedef void (*sim_hook)(struct sim *s, const struct frame *f, int side,
			 uint64_t now);

struct sim {
	struct braid_link *o[2];
	uint64_t off[2];
	uint32_t session[2];
	struct path p[2][NL];
	struct frame *heap;
	size_t n, cap;
	uint64_t ord;
	uint64_t t;
	uint64_t rng;
	uint64_t proc_max;
	sim_hook hook;
	void *arg;
	uint64_t cb_calls[2];
	bool last_new;
};

static bool
f_before(const struct frame *a, const struct frame *b)
{
	return a->at < b->at || (a->at == b->at && a->ord < b->ord);
}

static void
heap_push(struct sim *s, const struct frame *f)
{
	size_t i;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->heap = realloc(s->heap, s->cap * sizeof(*s->heap));
	}
	i = s->n++;
	s->heap[i] = *f;
	s->heap[i].ord = s->ord++;
	while (i > 0 && f_before(&s->heap[i], &s->heap[(i - 1) / 2])) {
		struct frame x = s->heap[i];

		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

static struct frame
heap_pop(struct sim *s)
{
	struct frame top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n && f_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n && f_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct frame x = s->heap[i];

		s->heap[i] = s->heap[m];
		s->heap[m] = x;
		i = m;
	}
	return top;
}

static void
sim_send(struct sim *s, int side, uint16_t link, struct frame *f, uint64_t t_send)
{
	struct path *p = &s->p[side][link];
	uint64_t clock = t_send + s->off[side];
	uint64_t delay;

	f->from = (uint8_t)side;
	f->link = link;
	f->seq = p->next_seq++;
	f->tx_us = (uint32_t)(clock / 1000);
	f->tx_trunc_ns = clock / 1000 * 1000;
	f->session = s->session[side];
	if (f->bytes == 0)
		f->bytes = 120;
	p->sent++;
	if (p->black || (p->loss > 0 && urand(&s->rng) < p->loss)) {
		p->lost++;
		return;
	}
	delay = p->base + (p->jit ? braid_test_rand(&s->rng) % (p->jit + 1) : 0);
	f->at = t_send + delay;
	if (f->kind == K_PROBE)
		f->fwd_ns = delay;
	else if (f->kind == K_REPLY)
		f->rtt_true = f->fwd_ns + delay;
	heap_push(s, f);
}

static void
sim_deliver(struct sim *s, const struct frame *f)
{
	int r = 1 - f->from;
	uint64_t now = f->at + s->off[r];
	struct braid_link *o = s->o[r];

	uint64_t before = o->links[f->link].seq.received;

	if (braid_link_session(o, f->session, now) == 0)
		braid_link_rx(o, f->link, f->seq, braid_link_peer_tx_ns(f->tx_us),
			      f->bytes, now);
	/* counted as new (not a dup, not before the first seq seen) */
	s->last_new = o->links[f->link].seq.received != before;
	if (f->kind == K_PROBE) {
		struct frame rf;
		uint64_t proc = s->proc_max ? braid_test_rand(&s->rng) % s->proc_max : 0;

		memset(&rf, 0, sizeof(rf));
		rf.kind = K_REPLY;
		rf.fwd_ns = f->fwd_ns;
		if (braid_link_probe_rx(o, f->link, &f->p, now, now + proc, &rf.r) == 0)
			sim_send(s, r, f->link, &rf, f->at + proc);
	} else if (f->kind == K_REPLY) {
		braid_link_reply_rx(o, f->link, &f->r, now);
	}
	if (s->hook != NULL)
		s->hook(s, f, r, now);
}

/* Advance the simulation to @p t_end in 1 ms steps. */
static void
sim_run(struct sim *s, uint64_t t_end, void (*step)(struct sim *, void *), void *arg)
{
	struct braid_link_probe_tx pt[BRAID_LINK_MAX_LINKS];

	for (; s->t <= t_end; s->t += TMS) {
		while (s->n > 0 && s->heap[0].at <= s->t) {
			struct frame f = heap_pop(s);

			sim_deliver(s, &f);
		}
		for (int side = 0; side < 2; side++) {
			uint16_t k;

			for (uint16_t i = 0; i < NL; i++) {
				struct path *p = &s->p[side][i];

				while (p->data_period != 0 && p->next_data <= s->t) {
					struct frame f;

					memset(&f, 0, sizeof(f));
					f.kind = K_DATA;
					f.bytes = 1000;
					sim_send(s, side, i, &f, s->t);
					p->next_data += p->data_period;
				}
			}
			k = braid_link_update(s->o[side], s->t + s->off[side], pt,
					      BRAID_LINK_MAX_LINKS);
			for (uint16_t j = 0; j < k; j++) {
				struct frame f;

				memset(&f, 0, sizeof(f));
				f.kind = K_PROBE;
				f.p = pt[j].probe;
				sim_send(s, side, pt[j].link, &f, s->t);
			}
		}
		if (step != NULL)
			step(s, arg);
	}
}

static void
count_cb(void *arg, uint16_t link, enum braid_link_state st, uint64_t kbps)
{
	uint64_t *c = arg;

	RTE_SET_USED(link);
	RTE_SET_USED(st);
	RTE_SET_USED(kbps);
	(*c)++;
}

static int
sim_init(struct sim *s, const struct braid_link_conf *conf)
{
	struct braid_link_conf c = *conf;

	memset(s, 0, sizeof(*s));
	s->rng = seed;
	/* A's us clock wraps (2^32 us) 7 s into the run; B is far off. */
	s->off[0] = 4294967296ULL * 1000ULL - 7000 * TMS;
	s->off[1] = 123456789012345ULL;
	s->session[0] = 0xA0A0A0A0u;
	s->session[1] = 0xB1B1B1B1u;
	s->t = 1 * TMS;
	for (int side = 0; side < 2; side++) {
		for (int i = 0; i < NL; i++) {
			s->p[side][i].base = 10 * TMS;
			s->p[side][i].next_seq = (uint32_t)braid_test_rand(&s->rng);
			s->p[side][i].next_data = s->t;
		}
		c.on_change = count_cb;
		c.on_change_arg = &s->cb_calls[side];
		s->o[side] = braid_link_create(&c, SOCKET_ID_ANY);
		if (s->o[side] == NULL)
			return -1;
	}
	return 0;
}

static void
sim_fini(struct sim *s)
{
	braid_link_free(s->o[0]);
	braid_link_free(s->o[1]);
	free(s->heap);
}

static void
set_black(struct sim *s, uint16_t link, bool black)
{
	s->p[0][link].black = black;
	s->p[1][link].black = black;
}

/* -------------------------------------------------------------- tests */

static void
test_create_validation(void)
{
	struct braid_link_conf c;
	struct braid_link *lh;

	base_conf(&c, 2);
	lh = braid_link_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
	CU_ASSERT(braid_link_state(lh, 0) == BRAID_LINK_DOWN);
	CU_ASSERT(braid_link_usable_kbps(lh, 0) == 0);
	CU_ASSERT(braid_link_state(lh, 2) == BRAID_LINK_ADMIN_DOWN);
	CU_ASSERT(!braid_link_peer_session(lh, NULL));
	CU_ASSERT(braid_link_admin_set(lh, 2, true) == -EINVAL);
	CU_ASSERT(braid_link_rx(lh, 2, 0, 0, 0, 0) == -EINVAL);
	braid_link_free(lh);

#define BAD(stmt) do { base_conf(&c, 2); stmt; rte_errno = 0; \
	CU_ASSERT_PTR_NULL(braid_link_create(&c, SOCKET_ID_ANY)); \
	CU_ASSERT(rte_errno == EINVAL); } while (0)
	BAD(c.n_links = 0);
	BAD(c.n_links = BRAID_LINK_MAX_LINKS + 1);
	BAD(c.links[1].capacity_kbps = 0);
	BAD(c.probe_interval_ms = 0);
	BAD(c.down_after_probes = 0);
	BAD(c.up_hold_ms = 600001);
	BAD(c.hold_max_ms = c.up_hold_ms - 1);
	BAD(c.probe_timeout_ms = 0);
	BAD(c.probe_timeout_ms = 255 * 50 + 1);
	BAD(c.loss_leave_ppm = c.loss_enter_ppm + 1);
	BAD(c.rtt_enter_us = 1000; c.rtt_leave_us = 2000);
	BAD(c.rtt_enter_us = 1000; c.rtt_leave_us = 0);
	BAD(c.loss_tau_ms = 0);
	BAD(c.degraded_permille = 1001);
	BAD(c.change_permille = 0);
	BAD(c.silence_gaps = 1001);
	BAD(c.silence_min_ms = 10001);
#undef BAD
	CU_ASSERT_PTR_NULL(braid_link_create(NULL, SOCKET_ID_ANY));
}

/* Plain model of the receive sequence view: a set of extended seqs. */
static void
seq_round(uint64_t *rng, unsigned int round)
{
	enum { N = 20000, MAXD = 200 }; /* displacements stay well inside the window */
	static uint32_t order[N + N / 10 + 16];
	static uint8_t got[N];
	struct braid_link_conf c;
	struct braid_link *lh;
	struct braid_link_info in;
	struct braid_probe_reply rep;
	struct braid_probe pr = { .probe_id = 7, .tx_ns = 1 };
	uint32_t start = UINT32_MAX - 3000 - (uint32_t)(braid_test_rand(rng) % 5000);
	double loss = urand(rng) * 0.1;
	unsigned int n = 0, n_dup = 0, uniq = 0, max_i = 0, uniq_settled;
	uint64_t now = 1000;

	if (round == 0)
		start = 0; /* no wrap at all, for contrast */
	memset(got, 0, sizeof(got));
	/* Delivered seqs in send order, losses removed; the first always. */
	for (unsigned int i = 0; i < N; i++)
		if (i == 0 || urand(rng) >= loss)
			order[n++] = i;
	/* Reorder: shuffle blocks of random length <= MAXD (never the
	 * first seq), so no frame moves MAXD or more places. */
	for (unsigned int a = 1; a < n;) {
		unsigned int len = 1 + (unsigned int)(braid_test_rand(rng) % MAXD);

		if (a + len > n)
			len = n - a;
		for (unsigned int k = len - 1; k > 0; k--) {
			unsigned int b = (unsigned int)(braid_test_rand(rng) % (k + 1));
			uint32_t x = order[a + k];

			order[a + k] = order[a + b];
			order[a + b] = x;
		}
		a += len;
	}
	/* Duplicates of a recent one, at most MAXD positions back. */
	for (unsigned int k = 0; k < n / 20; k++) {
		unsigned int at = MAXD + (unsigned int)(braid_test_rand(rng) % (n - MAXD));
		unsigned int from = at - 1 - (unsigned int)(braid_test_rand(rng) % (MAXD - 1));

		memmove(&order[at + 1], &order[at], (n - at) * sizeof(order[0]));
		order[at] = order[from];
		n++;
	}

	base_conf(&c, 1);
	lh = braid_link_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
	braid_link_session(lh, 1, now);
	for (unsigned int k = 0; k < n; k++) {
		uint32_t i = order[k];

		CU_ASSERT(braid_link_rx(lh, 0, start + i, now, 100, now) == 0);
		if (got[i])
			n_dup++;
		else
			uniq++;
		got[i] = 1;
		if (i > max_i)
			max_i = i;
		now += 1000;
	}
	/* Reference: expected = max - first + 1 over the extended seqs. */
	CU_ASSERT(link_seq_expected(&lh->links[0].seq) == (uint64_t)max_i + 1);
	CU_ASSERT(lh->links[0].seq.received == uniq);
	CU_ASSERT(lh->links[0].seq.dup == n_dup);
	CU_ASSERT(lh->links[0].seq.late == 0);
	/* One from far behind the reorder window: late, changes nothing. */
	braid_link_rx(lh, 0, start + max_i - BRAID_LINK_REORDER_WINDOW - 5, now, 100, now);
	braid_link_update(lh, now, NULL, 0);
	braid_link_update(lh, now + 100 * TMS, NULL, 0);
	braid_link_info_get(lh, 0, &in);
	CU_ASSERT(in.rx_packets == uniq);
	CU_ASSERT(in.rx_lost == (uint64_t)max_i + 1 - uniq);
	CU_ASSERT(in.rx_dup == n_dup);
	CU_ASSERT(in.rx_late == 1);
	CU_ASSERT(in.rx_max_seq == start + max_i);
	/* The view a probe reply carries: settled seqs only, those up to
	 * BRAID_LINK_LOSS_SETTLE behind the highest. */
	uniq_settled = 0;
	for (unsigned int i = 0; i + BRAID_LINK_LOSS_SETTLE <= max_i; i++)
		uniq_settled += got[i];
	braid_link_probe_rx(lh, 0, &pr, now, now + 5, &rep);
	CU_ASSERT(rep.link_rx_packets == uniq_settled);
	CU_ASSERT(rep.link_lost == (uint64_t)max_i + 1 - BRAID_LINK_LOSS_SETTLE - uniq_settled);
	CU_ASSERT(rep.link_max_seq == start + max_i);
	CU_ASSERT(rep.probe_id == 7 && rep.probe_tx_ns == 1);
	CU_ASSERT(rep.probe_rx_ns == now && rep.reply_tx_ns == now + 5);
	braid_link_free(lh);
}

static void
test_seq_loss(void)
{
	uint64_t rng = seed ^ 0x5e9;

	for (unsigned int r = 0; r < 12; r++)
		seq_round(&rng, r);
}

/* RTT and jitter against the truth the simulator knows. */
struct rj_obs {
	/* jitter at B for frames from A, per link */
	bool have[NL];
	double prev[NL], ref[NL], sum_abs_d[NL], sum_est[NL];
	uint64_t n_d[NL], n_est[NL];
	double max_ref_err;
	/* RTT at A */
	bool rtt_have[NL];
	double srtt_ref[NL], rttvar_ref[NL], sum_true[NL], sum_srtt[NL];
	uint64_t n_rtt[NL], min_true[NL];
	double max_srtt_err;
	uint64_t warm;
};

static void
rj_hook(struct sim *s, const struct frame *f, int side, uint64_t now)
{
	struct rj_obs *o = s->arg;
	uint16_t i = f->link;

	if (side == 1 && f->from == 0 && s->last_new) {
		double tr = (double)(int64_t)(now - s->off[1] + s->off[0] - f->tx_trunc_ns);
		const struct link_st *l = &s->o[1]->links[i];

		if (o->have[i]) {
			double d = fabs(tr - o->prev[i]);

			o->ref[i] += (d - o->ref[i]) / 16.0;
			o->sum_abs_d[i] += d;
			o->n_d[i]++;
			o->max_ref_err = fmax(o->max_ref_err,
					      fabs((double)(l->jitter16 >> 4) - o->ref[i]));
		}
		o->have[i] = true;
		o->prev[i] = tr;
		if (s->t >= o->warm) {
			o->sum_est[i] += (double)(l->jitter16 >> 4);
			o->n_est[i]++;
		}
	}
	if (side == 0 && f->kind == K_REPLY) {
		const struct link_st *l = &s->o[0]->links[i];
		double r = (double)f->rtt_true;

		if (!o->rtt_have[i]) {
			o->rtt_have[i] = true;
			o->srtt_ref[i] = r;
			o->rttvar_ref[i] = r / 2;
			o->min_true[i] = f->rtt_true;
		} else {
			o->rttvar_ref[i] = 0.75 * o->rttvar_ref[i] +
				0.25 * fabs(o->srtt_ref[i] - r);
			o->srtt_ref[i] = 0.875 * o->srtt_ref[i] + 0.125 * r;
		}
		if (f->rtt_true < o->min_true[i])
			o->min_true[i] = f->rtt_true;
		o->max_srtt_err = fmax(o->max_srtt_err, fabs((double)l->srtt - o->srtt_ref[i]));
		if (s->t >= o->warm) {
			o->sum_true[i] += r;
			o->sum_srtt[i] += (double)l->srtt;
			o->n_rtt[i]++;
		}
	}
}

static void
test_rtt_jitter(void)
{
	struct braid_link_conf c;
	struct rj_obs obs;
	struct sim s;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	memset(&obs, 0, sizeof(obs));
	obs.warm = 3000 * TMS;
	s.hook = rj_hook;
	s.arg = &obs;
	s.proc_max = 3 * TMS;
	for (int i = 0; i < NL; i++) {
		s.p[0][i].base = (20 + 15 * (uint64_t)i) * TMS;
		s.p[0][i].jit = (2 + 2 * (uint64_t)i) * TMS;
		s.p[0][i].data_period = 10 * TMS;
		s.p[1][i].base = 15 * TMS;
		s.p[1][i].jit = 3 * TMS;
	}
	sim_run(&s, 30000 * TMS, NULL, NULL);

	printf("\n");
	for (int i = 0; i < NL; i++) {
		struct braid_link_info a, b;
		double jit_truth = (double)s.p[0][i].jit / 3.0;
		double jit_emp = obs.sum_abs_d[i] / (double)obs.n_d[i];
		double jit_avg = obs.sum_est[i] / (double)obs.n_est[i];
		double rtt_truth = (double)(s.p[0][i].base + s.p[1][i].base) +
			(double)(s.p[0][i].jit + s.p[1][i].jit) / 2.0;
		double rtt_emp = obs.sum_true[i] / (double)obs.n_rtt[i];
		double srtt_avg = obs.sum_srtt[i] / (double)obs.n_rtt[i];
		double base_rtt = (double)(s.p[0][i].base + s.p[1][i].base);

		braid_link_info_get(s.o[0], (uint16_t)i, &a);
		braid_link_info_get(s.o[1], (uint16_t)i, &b);
		printf("  link %d: jitter truth %.0f us, empirical %.0f, estimate avg %.0f "
		       "(now %u us); rtt truth %.0f us, empirical %.0f, srtt avg %.0f, "
		       "min %u (base %.0f), %" PRIu64 " samples\n", i,
		       jit_truth / 1e3, jit_emp / 1e3, jit_avg / 1e3, b.jitter_us,
		       rtt_truth / 1e3, rtt_emp / 1e3, srtt_avg / 1e3, a.rtt_min_us,
		       base_rtt / 1e3, obs.n_rtt[i]);
		CU_ASSERT(obs.n_est[i] > 1000 && obs.n_rtt[i] > 400);
		CU_ASSERT(fabs(jit_avg - jit_truth) < 0.10 * jit_truth);
		CU_ASSERT(fabs(jit_avg - jit_emp) < 0.10 * jit_emp);
		CU_ASSERT(fabs(srtt_avg - rtt_truth) < 0.10 * rtt_truth);
		CU_ASSERT(fabs(srtt_avg - rtt_emp) < 0.10 * rtt_emp);
		CU_ASSERT(fabs((double)a.srtt_us * 1e3 - obs.srtt_ref[i]) < 0.10 * rtt_truth);
		CU_ASSERT((double)a.rtt_min_us * 1e3 >= (double)obs.min_true[i] - 1e3);
		CU_ASSERT(fabs((double)a.rtt_min_us * 1e3 - base_rtt) < 0.10 * base_rtt);
		CU_ASSERT(a.rttvar_us > 0);
		CU_ASSERT(a.state == BRAID_LINK_UP && b.state == BRAID_LINK_UP);
		CU_ASSERT(a.probes_lost == 0 && a.rx_lost == 0 && b.rx_lost == 0);
		/* Delivered rate at B: 100 frames/s of 1000 bytes + probes. */
		CU_ASSERT(b.delivered_kbps >= 800 && b.delivered_kbps <= 900);
		/* A's one-way delay to B grows with the link index. */
		if (i > 0)
			CU_ASSERT(b.owd_offset_us > 0);
	}
	/* The implementation follows the double references to the ns. */
	printf("  largest deviation from the references: jitter %.0f ns, srtt %.0f ns\n",
	       obs.max_ref_err, obs.max_srtt_err);
	CU_ASSERT(obs.max_ref_err < 100.0);
	CU_ASSERT(obs.max_srtt_err < 100.0);
	sim_fini(&s);
}

/* Loss rates both ways and the usable capacity they give. */
struct loss_obs {
	uint64_t warm;
	double sum_tx[NL], sum_rx[NL], sum_usable[NL];
	uint64_t n;
	bool above_cap;
	uint64_t gen0;
};

static void
loss_step(struct sim *s, void *arg)
{
	struct loss_obs *o = arg;

	for (uint16_t i = 0; i < NL; i++)
		if (braid_link_usable_kbps(s->o[0], i) > 10000)
			o->above_cap = true;
	if (s->t < o->warm || s->t % (10 * TMS) != 0)
		return;
	for (uint16_t i = 0; i < NL; i++) {
		struct braid_link_info in;

		braid_link_info_get(s->o[0], i, &in);
		o->sum_tx[i] += in.tx_loss_ppm;
		o->sum_rx[i] += in.rx_loss_ppm;
		o->sum_usable[i] += (double)braid_link_usable_kbps(s->o[0], i);
	}
	o->n++;
}

static void
test_loss_capacity(void)
{
	static const double p_ab[NL] = { 0.02, 0.0, 0.08 };
	static const double p_ba[NL] = { 0.01, 0.025, 0.0 };
	struct braid_link_conf c;
	struct braid_link_stats cnt;
	struct loss_obs obs;
	struct sim s;
	uint64_t gen;

	base_conf(&c, NL);
	/* 3 probes lost in a row are likely enough at 8 % loss to make a
	 * 20 s run flaky; this test is about rates, not liveness. */
	c.down_after_probes = 6;
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	memset(&obs, 0, sizeof(obs));
	obs.warm = 6000 * TMS;
	for (int i = 0; i < NL; i++) {
		s.p[0][i].data_period = 1 * TMS;
		s.p[1][i].data_period = 1 * TMS;
	}
	/* Clean for 2 s (all links come up), then lossy. */
	sim_run(&s, 2000 * TMS, NULL, NULL);
	for (int i = 0; i < NL; i++) {
		CU_ASSERT(braid_link_state(s.o[0], (uint16_t)i) == BRAID_LINK_UP);
		s.p[0][i].loss = p_ab[i];
		s.p[1][i].loss = p_ba[i];
		s.p[0][i].sent = s.p[0][i].lost = 0;
		s.p[1][i].sent = s.p[1][i].lost = 0;
	}
	gen = braid_link_generation(s.o[0]);
	sim_run(&s, 26000 * TMS, loss_step, &obs);
	CU_ASSERT(braid_link_generation(s.o[0]) > gen);
	braid_link_stats(s.o[0], &cnt);
	CU_ASSERT(s.cb_calls[0] == cnt.capacity_updates);
	CU_ASSERT(!obs.above_cap);

	printf("\n");
	for (uint16_t i = 0; i < NL; i++) {
		struct braid_link_info in;
		double tx_truth = (double)s.p[0][i].lost / (double)s.p[0][i].sent;
		double rx_truth = (double)s.p[1][i].lost / (double)s.p[1][i].sent;
		double tx_avg = obs.sum_tx[i] / (double)obs.n / 1e6;
		double rx_avg = obs.sum_rx[i] / (double)obs.n / 1e6;
		double us_avg = obs.sum_usable[i] / (double)obs.n;
		double us_truth;

		braid_link_info_get(s.o[0], i, &in);
		printf("  link %u: tx loss truth %.4f est %.4f, rx loss truth %.4f est %.4f, "
		       "state %s, usable avg %.0f kbps\n", i, tx_truth, tx_avg, rx_truth,
		       rx_avg, braid_link_state_name(in.state), us_avg);
		CU_ASSERT(fabs(tx_avg - tx_truth) <= 0.10 * tx_truth + 0.0005);
		CU_ASSERT(fabs(rx_avg - rx_truth) <= 0.10 * rx_truth + 0.0005);
		/* Capacity follows the state, not the loss (the scheduler
		 * charges the repairs): the configured rate, half of it
		 * when degraded. */
		us_truth = 10000.0;
		if (p_ab[i] > 0.05 || p_ba[i] > 0.05) {
			CU_ASSERT(in.state == BRAID_LINK_DEGRADED);
			us_truth *= 0.5;
		} else if (p_ab[i] < 0.05 && p_ba[i] < 0.05 && p_ab[i] > 0.01) {
			/* between leave and enter: stays up */
			CU_ASSERT(in.state == BRAID_LINK_UP);
		}
		/* within 3 %, plus the publication step (1 % of capacity) */
		CU_ASSERT(fabs(us_avg - us_truth) < 0.03 * us_truth + 100.0);
		CU_ASSERT(in.usable_kbps == braid_link_usable_kbps(s.o[0], i));
	}
	/* Link 1 loses 2.5 % towards A: above leave, below enter, so it
	 * stays up (it started up). */
	CU_ASSERT(braid_link_state(s.o[0], 1) == BRAID_LINK_UP);

	/* Dead link: usable 0 at once (down after 3 intervals + the RTT a
	 * reply to the last probe would need). */
	set_black(&s, 0, true);
	sim_run(&s, s.t + 500 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_DOWN);
	CU_ASSERT(braid_link_usable_kbps(s.o[0], 0) == 0);
	sim_fini(&s);
}

/* Dead-link detection and recovery after the hold time. */
struct dr_obs {
	uint64_t t_fail, t_restore;
	uint64_t t_down[2], t_up[2];
	uint64_t t_suspect[2];   /* link 1 suspect (receive silence) */
	uint64_t t_unsuspect[2]; /* ... and heard again */
	bool up_early;
	bool others_bad;
	bool usable_zero;
};

static void
dr_step(struct sim *s, void *arg)
{
	struct dr_obs *o = arg;

	for (int side = 0; side < 2; side++) {
		enum braid_link_state st = braid_link_state(s->o[side], 1);

		if (o->t_fail != 0 && o->t_down[side] == 0 && st == BRAID_LINK_DOWN)
			o->t_down[side] = s->t;
		if (o->t_restore != 0 && o->t_up[side] == 0 && st == BRAID_LINK_UP) {
			o->t_up[side] = s->t;
			if (s->t < o->t_restore + 2000 * TMS)
				o->up_early = true;
		}
		for (uint16_t i = 0; i < NL; i++) {
			enum braid_link_state x = braid_link_state(s->o[side], i);
			struct braid_link_info in;

			braid_link_info_get(s->o[side], i, &in);
			if (i == 1 && in.suspect && o->t_fail != 0 && o->t_suspect[side] == 0)
				o->t_suspect[side] = s->t;
			if (i == 1 && !in.suspect && o->t_suspect[side] != 0 &&
			    o->t_unsuspect[side] == 0)
				o->t_unsuspect[side] = s->t;
			/* 0 while usable only as a suspect */
			if ((x == BRAID_LINK_UP || x == BRAID_LINK_DEGRADED) &&
			    braid_link_usable_kbps(s->o[side], i) == 0 && !in.suspect)
				o->usable_zero = true;
		}
		if (s->t > 500 * TMS &&
		    (braid_link_state(s->o[side], 0) != BRAID_LINK_UP ||
		     braid_link_state(s->o[side], 2) != BRAID_LINK_UP))
			o->others_bad = true;
	}
}

static void
test_dead_and_recovery(void)
{
	struct braid_link_conf c;
	struct braid_link_info in;
	struct dr_obs obs;
	struct sim s;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	memset(&obs, 0, sizeof(obs));
	for (int i = 0; i < NL; i++) {
		s.p[0][i].jit = 1 * TMS;
		s.p[1][i].jit = 1 * TMS;
		s.p[0][i].data_period = 5 * TMS;
	}
	sim_run(&s, 3000 * TMS, dr_step, &obs);
	for (uint16_t i = 0; i < NL; i++) {
		CU_ASSERT(braid_link_state(s.o[0], i) == BRAID_LINK_UP);
		CU_ASSERT(braid_link_usable_kbps(s.o[0], i) >= 9900);
	}
	obs.t_fail = s.t;
	set_black(&s, 1, true);
	sim_run(&s, 5000 * TMS, dr_step, &obs);
	printf("\n  dead after %.1f ms (A) and %.1f ms (B), interval 50 ms\n",
	       (double)(obs.t_down[0] - obs.t_fail) / 1e6,
	       (double)(obs.t_down[1] - obs.t_fail) / 1e6);
	for (int side = 0; side < 2; side++) {
		CU_ASSERT(obs.t_down[side] != 0);
		/* 3 intervals after the last reply, which left before the cut
		 * and took at most 11 ms. */
		CU_ASSERT(obs.t_down[side] - obs.t_fail <= 3 * 50 * TMS + 11 * TMS + TMS);
		CU_ASSERT(obs.t_down[side] - obs.t_fail >= 3 * 50 * TMS - 50 * TMS);
		CU_ASSERT(braid_link_usable_kbps(s.o[side], 1) == 0);
	}
	/* B receives A's data every 5 ms (and probes): silent for 8 mean
	 * gaps (< 40 ms) while links 0 and 2 still deliver, link 1 is
	 * suspect (capacity 0) long before the probes take it down. A hears
	 * only probes and replies (a gap of ~25 ms): 8 of them are more
	 * than the probes need, so A waits for them. */
	printf("  B: suspect after %.1f ms\n",
	       (double)(obs.t_suspect[1] - obs.t_fail) / 1e6);
	CU_ASSERT(obs.t_suspect[1] != 0);
	CU_ASSERT(obs.t_suspect[1] - obs.t_fail <= 8 * 5 * TMS + 11 * TMS);
	CU_ASSERT(obs.t_suspect[1] < obs.t_down[1]);
	CU_ASSERT(obs.t_suspect[0] == 0 || obs.t_suspect[0] >= obs.t_down[0]);
	for (int side = 0; side < 2; side++)
		for (uint16_t i = 0; i < NL; i += 2) {
			braid_link_info_get(s.o[side], i, &in);
			CU_ASSERT(in.suspects == 0);   /* 1 ms jitter: no false alarm */
		}
	braid_link_info_get(s.o[0], 1, &in);
	CU_ASSERT(in.probes_lost > 0);
	CU_ASSERT(in.hold_ms == 2000);
	obs.t_restore = s.t;
	set_black(&s, 1, false);
	sim_run(&s, 10000 * TMS, dr_step, &obs);
	printf("  up again %.1f ms after the restore (hold 2000 ms)\n",
	       (double)(obs.t_up[0] - obs.t_restore) / 1e6);
	CU_ASSERT(!obs.up_early);
	/* The first frame after the restore ends the suspicion; the state
	 * still waits for the hold time. */
	CU_ASSERT(obs.t_unsuspect[1] != 0 && obs.t_unsuspect[1] < obs.t_up[1]);
	for (int side = 0; side < 2; side++) {
		CU_ASSERT(obs.t_up[side] != 0);
		CU_ASSERT(obs.t_up[side] >= obs.t_restore + 2000 * TMS);
		CU_ASSERT(obs.t_up[side] <= obs.t_restore + 2000 * TMS + 4 * 50 * TMS);
	}
	braid_link_info_get(s.o[0], 1, &in);
	CU_ASSERT(in.state_changes == 3); /* up, down, up */
	/* The outage gap counts as lost frames but not as a loss rate. */
	CU_ASSERT(in.rx_lost > 0);
	CU_ASSERT(in.rx_loss_ppm < 10000);
	CU_ASSERT(!obs.others_bad);
	/* a usable state is never published with capacity 0 */
	CU_ASSERT(!obs.usable_zero);
	/* Capacity ramps back up to the configured rate, never above. */
	CU_ASSERT(braid_link_usable_kbps(s.o[0], 1) >= 9900);
	CU_ASSERT(braid_link_usable_kbps(s.o[0], 1) <= 10000);
	sim_fini(&s);
}

/* Receive silence on every link at once (the peer stopped, or all its
 * links failed together) suspects none: nothing says which one is bad.
 * With silence_gaps 0 a single silent link is not suspected either. */
static void
test_silence_all_or_off(void)
{
	for (int off = 0; off < 2; off++) {
		struct braid_link_conf c;
		struct braid_link_info in;
		struct sim s;

		base_conf(&c, NL);
		if (off)
			c.silence_gaps = 0;
		CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
		for (int i = 0; i < NL; i++)
			s.p[0][i].data_period = 2 * TMS;
		sim_run(&s, 3000 * TMS, NULL, NULL);
		for (uint16_t i = 0; i < NL; i++)
			if (off)
				set_black(&s, i, i == 1);
			else
				set_black(&s, i, true);
		/* less than the probes need to take a link down */
		sim_run(&s, s.t + 100 * TMS, NULL, NULL);
		for (uint16_t i = 0; i < NL; i++) {
			braid_link_info_get(s.o[1], i, &in);
			CU_ASSERT(!in.suspect && in.suspects == 0);
			CU_ASSERT(in.state == BRAID_LINK_UP);
			CU_ASSERT(braid_link_usable_kbps(s.o[1], i) == 10000);
		}
		sim_fini(&s);
	}
}

/* 200 ms good / 200 ms bad. */
struct flap {
	uint64_t t0, t1;
	bool lossy;
	double loss;
};

static void
flap_step(struct sim *s, void *arg)
{
	struct flap *f = arg;
	bool bad;

	if (s->t < f->t0 || s->t >= f->t1) {
		bad = false;
	} else {
		bad = ((s->t - f->t0) / (200 * TMS)) % 2 == 0;
	}
	if (f->lossy) {
		s->p[0][1].loss = bad ? f->loss : 0.0;
		s->p[1][1].loss = bad ? f->loss : 0.0;
	} else {
		set_black(s, 1, bad);
	}
}

static uint64_t
flap_run(uint32_t up_hold_ms, bool lossy, double loss, uint32_t *hold_ms,
	 enum braid_link_state *final)
{
	struct braid_link_conf c;
	struct braid_link_info in0, in1;
	struct flap f = { .t0 = 2000 * TMS, .t1 = 32000 * TMS, .lossy = lossy,
			  .loss = loss };
	struct sim s;

	base_conf(&c, NL);
	c.up_hold_ms = up_hold_ms;
	if (sim_init(&s, &c) != 0)
		return UINT64_MAX;
	for (int i = 0; i < NL; i++) {
		s.p[0][i].data_period = 2 * TMS;
		s.p[1][i].data_period = 2 * TMS;
	}
	sim_run(&s, f.t0 - TMS, flap_step, &f);
	braid_link_info_get(s.o[0], 1, &in0);
	sim_run(&s, f.t1 - TMS, flap_step, &f);
	braid_link_info_get(s.o[0], 1, &in1);
	*hold_ms = in1.hold_ms;
	*final = in1.state;
	sim_fini(&s);
	CU_ASSERT(in0.state == BRAID_LINK_UP);
	return in1.state_changes - in0.state_changes;
}

static void
test_no_flap(void)
{
	enum braid_link_state st;
	uint32_t hold;
	uint64_t n;

	printf("\n");
	/* Default hold 2 s: one change (down) and it stays down. */
	n = flap_run(2000, false, 0, &hold, &st);
	printf("  blackout 200/200 ms, hold 2000: %" PRIu64 " changes in 30 s, "
	       "hold now %u ms, %s\n", n, hold, braid_link_state_name(st));
	CU_ASSERT(n == 1);
	CU_ASSERT(st == BRAID_LINK_DOWN);
	/* A short hold (100 ms) is stretched by the exponential hold-down. */
	n = flap_run(100, false, 0, &hold, &st);
	printf("  blackout 200/200 ms, hold 100: %" PRIu64 " changes in 30 s, "
	       "hold now %u ms, %s\n", n, hold, braid_link_state_name(st));
	CU_ASSERT(n >= 1 && n <= 7);
	CU_ASSERT(hold >= 400);
	/* Heavy loss alternating with none. */
	n = flap_run(2000, true, 0.3, &hold, &st);
	printf("  30 %% loss 200/200 ms, hold 2000: %" PRIu64 " changes in 30 s, "
	       "hold now %u ms, %s\n", n, hold, braid_link_state_name(st));
	/* down/degraded back and forth at most once per hold: holds of 2, 4,
	 * 8, 16 s fit 30 s at most 4 times, plus the first up->degraded */
	CU_ASSERT(n >= 1 && n <= 9);
	CU_ASSERT(st != BRAID_LINK_UP);
	/* Even hold 0 cannot flap at the alternation rate. */
	n = flap_run(0, false, 0, &hold, &st);
	printf("  blackout 200/200 ms, hold 0: %" PRIu64 " changes in 30 s, "
	       "hold now %u ms, %s\n", n, hold, braid_link_state_name(st));
	CU_ASSERT(n <= 11);
}

/* 20 % loss each way: 3 unanswered probes in a row come every few
 * seconds, so a lossy link waits for more before it is down; a dead one
 * is still down within the larger count. */
struct lossy_obs { bool was_up; uint64_t downs; uint64_t t_down; };

static void
lossy_step(struct sim *s, void *arg)
{
	struct lossy_obs *o = arg;

	if (!o->was_up) {
		/* Down until the first reply: not a change. */
		o->was_up = braid_link_state(s->o[0], 1) != BRAID_LINK_DOWN;
		return;
	}
	if (braid_link_state(s->o[0], 1) == BRAID_LINK_DOWN && o->t_down == 0) {
		o->downs++;
		o->t_down = s->t;
	} else if (braid_link_state(s->o[0], 1) != BRAID_LINK_DOWN) {
		o->t_down = 0;
	}
}

static void
test_lossy_not_down(void)
{
	struct braid_link_conf c;
	struct lossy_obs obs = { .was_up = false };
	struct sim s;
	uint64_t t_cut;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	for (int i = 0; i < NL; i++) {
		s.p[0][i].data_period = 2 * TMS;
		s.p[1][i].data_period = 2 * TMS;
	}
	/* As the harsh e2e profile: 20 % loss and up to 50 ms of jitter. */
	s.p[0][1].loss = 0.2;
	s.p[1][1].loss = 0.2;
	s.p[0][1].jit = 50 * TMS;
	s.p[1][1].jit = 50 * TMS;
	sim_run(&s, 60000 * TMS, lossy_step, &obs);
	printf("\n  20 %% loss and 50 ms jitter each way, 60 s: %" PRIu64 " times down\n",
	       obs.downs);
	CU_ASSERT_EQUAL(obs.downs, 0);
	t_cut = s.t;
	set_black(&s, 1, true);
	sim_run(&s, s.t + 2000 * TMS, lossy_step, &obs);
	printf("  then dead: down after %.0f ms\n", (double)(obs.t_down - t_cut) / 1e6);
	CU_ASSERT_EQUAL(obs.downs, 1);
	/* At most 5 x 3 intervals after the last reply, plus its RTT. */
	CU_ASSERT(obs.t_down != 0 && obs.t_down - t_cut <= 15 * 50 * TMS + 150 * TMS);
	sim_fini(&s);
}

/* The capacity estimate from the probes' one-way delay: ±50 ms of
 * jitter cuts nothing; a standing queue of 80 ms on A's direction of
 * link 1 cuts A's estimate (and usable capacity) within half a second,
 * to what the peer says it received less what drains the queue;
 * once the queue is gone it rises back to the configured rate. B, whose
 * direction has no queue, keeps its estimate. */
static void
test_capacity_estimate(void)
{
	struct braid_link_conf c;
	struct braid_link_info a, b;
	struct sim s;
	uint64_t t_q;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	for (int i = 0; i < NL; i++) {
		s.p[0][i].data_period = 2 * TMS;
		s.p[1][i].data_period = 2 * TMS;
	}
	s.p[0][1].jit = 50 * TMS;
	s.p[1][1].jit = 50 * TMS;
	sim_run(&s, 20000 * TMS, NULL, NULL);
	braid_link_info_get(s.o[0], 1, &a);
	printf("\n  +-50 ms jitter, 20 s: %" PRIu64 " cuts\n", a.capacity_cuts);
	CU_ASSERT_EQUAL(a.capacity_cuts, 0);
	CU_ASSERT_EQUAL(a.estimated_kbps, 10000);
	s.p[0][1].jit = 1 * TMS;
	s.p[1][1].jit = 1 * TMS;
	sim_run(&s, s.t + 3000 * TMS, NULL, NULL);
	t_q = s.t;
	s.p[0][1].base += 80 * TMS;
	do {
		sim_run(&s, s.t + 10 * TMS, NULL, NULL);
		braid_link_info_get(s.o[0], 1, &a);
	} while (a.capacity_cuts == 0 && s.t < t_q + 2000 * TMS);
	printf("  80 ms queue: first cut after %.0f ms, to %" PRIu64 " kbit/s\n",
	       (double)(s.t - t_q) / 1e6, a.estimated_kbps);
	CU_ASSERT(a.capacity_cuts >= 1 && s.t - t_q <= 500 * TMS);
	/* The link delivers our 4 Mbit/s of data (1000 B every 2 ms): the
	 * cuts go below that by what drains the 80 ms queue in 250 ms
	 * (68 %), half at most per cut: 5 Mbit/s, then ~2.7 (and on: this
	 * queue is a fixed delay that never drains). */
	CU_ASSERT_EQUAL(a.estimated_kbps, 5000);
	sim_run(&s, s.t + 500 * TMS, NULL, NULL);
	braid_link_info_get(s.o[0], 1, &a);
	braid_link_info_get(s.o[1], 1, &b);
	printf("  500 ms later: %" PRIu64 " kbit/s after %" PRIu64 " cuts\n", a.estimated_kbps,
	       a.capacity_cuts);
	CU_ASSERT(a.capacity_cuts >= 2 && a.estimated_kbps >= 1500 && a.estimated_kbps <= 3000);
	CU_ASSERT(a.usable_kbps <= a.estimated_kbps);
	CU_ASSERT_EQUAL(b.capacity_cuts, 0);
	CU_ASSERT_EQUAL(b.estimated_kbps, 10000);
	s.p[0][1].base -= 80 * TMS;
	sim_run(&s, s.t + 15000 * TMS, NULL, NULL);
	braid_link_info_get(s.o[0], 1, &a);
	printf("  queue gone: estimate %" PRIu64 " kbit/s after 15 s\n", a.estimated_kbps);
	CU_ASSERT_EQUAL(a.estimated_kbps, 10000);
	{
		struct braid_link_stats cnt;

		/* Back up in steps, each counted. */
		braid_link_stats(s.o[0], &cnt);
		CU_ASSERT(cnt.capacity_rises >= 10);
	}
	sim_fini(&s);
}

/* RTT thresholds with hysteresis: enter above 40 ms, leave below 30. */
static void
test_rtt_threshold(void)
{
	struct braid_link_conf c;
	struct braid_link_info in;
	struct sim s;

	base_conf(&c, NL);
	c.rtt_enter_us = 40000;
	c.rtt_leave_us = 30000;
	c.up_hold_ms = 1000;
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	sim_run(&s, 2000 * TMS, NULL, NULL);             /* RTT 20 ms */
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_UP);
	s.p[0][0].base = s.p[1][0].base = 25 * TMS;      /* RTT 50 ms */
	sim_run(&s, 4000 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_DEGRADED);
	CU_ASSERT(braid_link_state(s.o[0], 1) == BRAID_LINK_UP);
	s.p[0][0].base = s.p[1][0].base = 17 * TMS;      /* 34 ms: in the band */
	sim_run(&s, 8000 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_DEGRADED);
	braid_link_info_get(s.o[0], 0, &in);
	CU_ASSERT(in.srtt_us > 30000 && in.srtt_us < 40000);
	CU_ASSERT(in.usable_kbps == 5000);               /* degraded: half */
	s.p[0][0].base = s.p[1][0].base = 10 * TMS;      /* 20 ms */
	sim_run(&s, 8500 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_DEGRADED); /* hold */
	sim_run(&s, 11000 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_UP);
	braid_link_info_get(s.o[0], 0, &in);
	CU_ASSERT(in.state_changes == 3);
	sim_fini(&s);
}

static void
test_session_change(void)
{
	struct braid_link_conf c;
	struct braid_link *lh;
	struct braid_link_info in;
	uint64_t now = 1000;
	uint32_t sid = 0;

	base_conf(&c, 2);
	lh = braid_link_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
	CU_ASSERT(braid_link_session(lh, 0x1111, now) == 0);
	CU_ASSERT(braid_link_peer_session(lh, &sid) && sid == 0x1111);
	for (uint32_t i = 0; i < 100; i++) {
		if (i == 50)
			continue;
		braid_link_rx(lh, 0, 1000 + i, now - (i % 3) * 100000, 500, now);
		braid_link_rx(lh, 1, 77 + i, now, 500, now);
		now += TMS;
	}
	CU_ASSERT(lh->links[0].jitter16 > 0);
	braid_link_update(lh, now, NULL, 0);
	braid_link_update(lh, now + 100 * TMS, NULL, 0);
	braid_link_info_get(lh, 0, &in);
	CU_ASSERT(in.rx_packets == 99 && in.rx_lost == 1);

	/* New session: the peer's statistics start over. */
	CU_ASSERT(braid_link_session(lh, 0x2222, now) == 0);
	CU_ASSERT(braid_link_peer_session(lh, &sid) && sid == 0x2222);
	CU_ASSERT(lh->links[0].seq.received == 0 && lh->links[0].jitter16 == 0);
	CU_ASSERT(lh->links[1].seq.received == 0);
	braid_link_rx(lh, 0, 5, now, 500, now);
	braid_link_rx(lh, 0, 6, now, 500, now);
	/* A frame of the old session is stale and not accounted. */
	CU_ASSERT(braid_link_session(lh, 0x1111, now) == -ESTALE);
	CU_ASSERT(braid_link_peer_session(lh, &sid) && sid == 0x2222);
	now += 200 * TMS;
	braid_link_update(lh, now, NULL, 0);
	braid_link_info_get(lh, 0, &in);
	CU_ASSERT(in.rx_packets == 2 && in.rx_lost == 0 && in.rx_max_seq == 6);
	CU_ASSERT(lh->cnt.session_changes == 1);
	/* A third session replaces the second; the second is now stale. */
	CU_ASSERT(braid_link_session(lh, 0x3333, now) == 0);
	CU_ASSERT(braid_link_session(lh, 0x2222, now) == -ESTALE);
	CU_ASSERT(lh->cnt.session_changes == 2);
	braid_link_free(lh);
}

static void
test_admin(void)
{
	struct braid_link_conf c;
	struct braid_link_info in;
	struct sim s;
	uint64_t gen, sent;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	sim_run(&s, 1000 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 2) == BRAID_LINK_UP);
	gen = braid_link_generation(s.o[0]);
	CU_ASSERT(braid_link_admin_set(s.o[0], 2, true) == 0);
	sim_run(&s, s.t + 10 * TMS, NULL, NULL);
	CU_ASSERT(braid_link_state(s.o[0], 2) == BRAID_LINK_ADMIN_DOWN);
	CU_ASSERT(braid_link_usable_kbps(s.o[0], 2) == 0);
	CU_ASSERT(braid_link_generation(s.o[0]) > gen);
	braid_link_info_get(s.o[0], 2, &in);
	sent = in.probes_sent;
	sim_run(&s, s.t + 1000 * TMS, NULL, NULL);
	braid_link_info_get(s.o[0], 2, &in);
	CU_ASSERT(in.probes_sent == sent);     /* a down link carries nothing */
	CU_ASSERT(in.state == BRAID_LINK_ADMIN_DOWN);
	CU_ASSERT(braid_link_state(s.o[0], 0) == BRAID_LINK_UP);
	/* B sees no probes and no replies from A on link 2: down. */
	CU_ASSERT(braid_link_state(s.o[1], 2) == BRAID_LINK_DOWN);
	CU_ASSERT(braid_link_admin_set(s.o[0], 2, false) == 0);
	sim_run(&s, s.t + 200 * TMS, NULL, NULL);
	/* Never failed on its own: no hold, up with the first replies. */
	CU_ASSERT(braid_link_state(s.o[0], 2) == BRAID_LINK_UP);
	sim_fini(&s);
}

/* ------------------------------------------------- mbufs, encap/decap */

static uint32_t
ip4(unsigned int a, unsigned int b, unsigned int c, unsigned int d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static void
wire_links(struct braid_wire_link *l, int side)
{
	for (unsigned int i = 0; i < 2; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].src_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, (uint8_t)side, (uint8_t)i}};
		l[i].dst_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, (uint8_t)(1 - side), (uint8_t)i}};
		l[i].local_ip = ip4(10, 9, i, 1 + (unsigned int)side);
		l[i].peer_ip = ip4(10, 9, i, 2 - (unsigned int)side);
		l[i].local_port = 7000;
		l[i].peer_port = 7000;
		l[i].mtu = 1500;
	}
}

static void
count_stat(void *arg, const char *name,
	   const struct braid_stat_labels *labels, uint64_t v)
{
	unsigned int *n = arg;

	RTE_SET_USED(labels);
	RTE_SET_USED(name);
	RTE_SET_USED(v);
	(*n)++;
}

/* Encap on one side, decap on the other; returns how many arrived. */
static uint16_t
wire_xfer(struct braid_encap *e, struct braid_decap *d, struct rte_mbuf **m,
	  uint16_t n, uint64_t tx_now, uint64_t rx_now)
{
	uint16_t k = braid_encap_burst(e, m, n, tx_now), j = 0;

	for (uint16_t i = 0; i < k; i++) {
		if (braid_decap_one(d, m[i], NULL) != BRAID_DECAP_OK) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		braid_meta(m[i])->rx_ns = rx_now;
		m[j++] = m[i];
	}
	return j;
}

static void
test_mbuf_path(void)
{
	struct braid_encap *e[2];
	struct braid_decap *d[2];
	struct braid_link *lh[2];
	struct braid_link_conf c;
	struct braid_link_stats cnt;
	struct braid_link_info in;
	struct braid_burst *out = calloc(1, sizeof(*out));
	struct rte_mbuf *m[64], *tx[64];
	uint64_t off_b = 5000 * TMS, now = 10 * TMS;
	uint16_t k, n_tx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	for (int side = 0; side < 2; side++) {
		struct braid_encap_conf ec;
		struct braid_decap_conf dc;

		memset(&ec, 0, sizeof(ec));
		ec.session_id = 0x5100 + (uint32_t)side;
		ec.n_links = 2;
		wire_links(ec.links, side);
		ec.hdr_pool = pool;
		ec.clone_pool = pool;
		e[side] = braid_encap_create(&ec, SOCKET_ID_ANY);
		memset(&dc, 0, sizeof(dc));
		dc.n_links = 2;
		wire_links(dc.links, side);
		dc.n_classes = 4;
		d[side] = braid_decap_create(&dc, SOCKET_ID_ANY);
		base_conf(&c, 2);
		c.pool = pool;
		lh[side] = braid_link_create(&c, SOCKET_ID_ANY);
		CU_ASSERT_FATAL(e[side] != NULL && d[side] != NULL && lh[side] != NULL);
	}

	for (int round = 0; round < 20; round++) {
		/* A's probes (through the stage poll, no tx ring) to B. */
		out->n = 0;
		k = braid_link_stage_ops.poll(lh[0], out, now);
		CU_ASSERT(k == out->n);
		for (uint16_t i = 0; i < out->n; i++) {
			CU_ASSERT(braid_meta(out->pkts[i])->pkt_type == BRAID_PKT_PROBE);
			m[i] = out->pkts[i];
		}
		k = wire_xfer(e[0], d[1], m, out->n, now, now + off_b + 7 * TMS);
		/* plus one data frame on link 1 that must pass untouched */
		if (round == 3) {
			static const uint8_t ip[40] = { 0x45, 0, 0, 40 };
			struct rte_mbuf *dm = rte_pktmbuf_alloc(pool);
			struct braid_meta *md;

			CU_ASSERT_FATAL(dm != NULL);
			md = braid_meta(dm);
			CU_ASSERT_FATAL(rte_pktmbuf_append(dm, sizeof(ip)) != NULL);
			rte_memcpy(rte_pktmbuf_mtod(dm, void *), ip, sizeof(ip));
			memset(md, 0, sizeof(*md));
			md->pkt_type = BRAID_PKT_DATA;
			md->link_id = 1;
			CU_ASSERT(wire_xfer(e[0], d[1], &dm, 1, now, now + off_b + 7 * TMS) == 1);
			m[k++] = dm;
		}
		/* B answers (braid_link_burst). */
		k = braid_link_burst(lh[1], m, k, tx, &n_tx, now + off_b + 8 * TMS);
		CU_ASSERT(k == (round == 3 ? 1 : 0));
		if (k == 1) {
			CU_ASSERT(braid_meta(m[0])->pkt_type == BRAID_PKT_DATA);
			rte_pktmbuf_free(m[0]);
		}
		/* Replies back to A, through the stage process. */
		k = wire_xfer(e[1], d[0], tx, n_tx, now + off_b + 9 * TMS, now + 16 * TMS);
		out->n = 0;
		if (k > 0)
			braid_link_stage_ops.process(lh[0], tx, k, out, now + 16 * TMS);
		CU_ASSERT(out->n == 0);
		now += 50 * TMS;
	}
	braid_link_update(lh[0], now, NULL, 0);
	braid_link_info_get(lh[0], 0, &in);
	printf("\n  A link 0: %" PRIu64 " probes, %" PRIu64 " answered, srtt %u us, "
	       "state %s\n", in.probes_sent, in.probes_answered, in.srtt_us,
	       braid_link_state_name(in.state));
	CU_ASSERT(in.probes_sent == 20 && in.probes_answered == 20);
	/* link 1's first probe is half an interval later: 19 of them */
	/* 7 ms out, 1 ms held by B (subtracted), 8 ms back: 15 ms. */
	CU_ASSERT(in.srtt_us == 15000);
	CU_ASSERT(in.state == BRAID_LINK_UP);
	braid_link_stats(lh[1], &cnt);
	CU_ASSERT(cnt.rx_probes == 39 && cnt.replies_sent == 39 && cnt.passed == 1);
	CU_ASSERT(cnt.rx_frames == cnt.passed + cnt.rx_probes + cnt.rx_replies +
		  cnt.drop_malformed + cnt.drop_bad_link + cnt.drop_stale_session);
	braid_link_stats(lh[0], &cnt);
	CU_ASSERT(cnt.rx_replies == 39 && cnt.replies_unmatched == 0);

	/* A probe whose payload is cut short: malformed, freed. */
	{
		struct braid_probe p = { .probe_id = 1, .tx_ns = 2 };
		struct rte_mbuf *pm = braid_wire_probe_build(pool, 0, &p);

		CU_ASSERT_FATAL(pm != NULL);
		k = wire_xfer(e[0], d[1], &pm, 1, now, now + off_b);
		CU_ASSERT(k == 1);
		if (k == 1) {
			rte_pktmbuf_trim(pm, 4);
			k = braid_link_burst(lh[1], &pm, 1, tx, &n_tx, now + off_b);
			CU_ASSERT(k == 0 && n_tx == 0);
		}
		braid_link_stats(lh[1], &cnt);
		CU_ASSERT(cnt.drop_malformed == 1);
	}
	/* A reply nobody asked for: unmatched, no RTT change. */
	{
		struct braid_probe_reply r;
		struct rte_mbuf *rm;

		memset(&r, 0, sizeof(r));
		r.probe_id = 12345;
		rm = braid_wire_probe_reply_build(pool, 0, &r);
		CU_ASSERT_FATAL(rm != NULL);
		k = wire_xfer(e[1], d[0], &rm, 1, now, now);
		CU_ASSERT(k == 1);
		if (k == 1)
			braid_link_burst(lh[0], &rm, 1, tx, &n_tx, now);
		braid_link_stats(lh[0], &cnt);
		CU_ASSERT(cnt.replies_unmatched == 1);
	}
	{
		unsigned int nstat = 0;

		braid_link_stage_ops.stats(lh[0], count_stat, &nstat);
		CU_ASSERT(nstat == 26);  /* every counter reported once */
		CU_ASSERT(strcmp(braid_link_stage_ops.kind, "link_health") == 0);
	}
	for (int side = 0; side < 2; side++) {
		braid_link_free(lh[side]);
		braid_encap_free(e[side]);
		braid_decap_free(d[side]);
	}
	free(out);
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* braid_link_best2(): the two usable links with the smallest SRTT; the
 * control channel (struct braid_link_cmd through apply()). */
static void
test_best2_and_commands(void)
{
	static const uint64_t rtt_ms[3] = { 30, 10, 20 };
	struct braid_link_conf c;
	struct braid_link *lh;
	struct braid_link_probe_tx pt[4];
	struct braid_link_best b;
	struct braid_link_info in;
	struct braid_link_cmd cmd = { .op = BRAID_LINK_CMD_ADMIN, .link = 1,
				      .admin_down = true };
	struct braid_probe_reply pend[3];
	uint64_t due[3] = { 0 };
	uint64_t now = 0;

	base_conf(&c, 3);
	lh = braid_link_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
	braid_link_best2(lh, 2, &b);   /* nothing measured: the default */
	CU_ASSERT(b.link[0] == 2 && b.link[1] == 2 && b.srtt_ns == 0 && b.usable_Bps == 0);
	/* Answer every probe after its link's RTT (one in flight per link:
	 * the interval is longer): all come up. */
	for (; now <= 3000 * TMS; now += TMS) {
		uint16_t k;

		for (uint16_t l = 0; l < 3; l++)
			if (due[l] != 0 && due[l] <= now) {
				braid_link_reply_rx(lh, l, &pend[l], now);
				due[l] = 0;
			}
		k = braid_link_update(lh, now, pt, 4);
		for (uint16_t i = 0; i < k; i++) {
			uint16_t l = pt[i].link;

			pend[l] = (struct braid_probe_reply){
				.probe_id = pt[i].probe.probe_id,
				.probe_tx_ns = pt[i].probe.tx_ns,
			};
			due[l] = now + rtt_ms[l] * TMS;
		}
	}
	braid_link_best2(lh, 0, &b);
	CU_ASSERT(b.link[0] == 1 && b.link[1] == 2);
	CU_ASSERT(b.srtt_ns == 10 * TMS);
	CU_ASSERT(b.usable_Bps > 0);

	CU_ASSERT(braid_link_stage_ops.cmd_size == sizeof(cmd) &&
		  braid_link_stage_ops.cmd_size <= BRAID_CMD_MAX_SIZE);
	CU_ASSERT(braid_link_stage_ops.apply(lh, &cmd) == 0);   /* link 1 off */
	braid_link_update(lh, now, pt, 4);
	braid_link_best2(lh, 0, &b);
	CU_ASSERT(b.link[0] == 2 && b.link[1] == 0);
	cmd = (struct braid_link_cmd){ .op = BRAID_LINK_CMD_CAPACITY, .link = 0,
				       .capacity_kbps = 5000 };
	CU_ASSERT(braid_link_stage_ops.apply(lh, &cmd) == 0);
	braid_link_update(lh, now + 100 * TMS, pt, 4);   /* next tick publishes */
	CU_ASSERT(braid_link_info_get(lh, 0, &in) == 0 && in.capacity_kbps == 5000);
	cmd.capacity_kbps = 0;
	CU_ASSERT(braid_link_stage_ops.apply(lh, &cmd) == -EINVAL);
	cmd.op = 0;
	CU_ASSERT(braid_link_stage_ops.apply(lh, &cmd) == -EINVAL);
	cmd = (struct braid_link_cmd){ .op = BRAID_LINK_CMD_ADMIN, .link = 3 };
	CU_ASSERT(braid_link_stage_ops.apply(lh, &cmd) == -EINVAL);
	braid_link_free(lh);
}

/* Probe bookkeeping: timeouts, late, duplicate and forged replies. */
static void
test_probe_timeouts(void)
{
	struct braid_link_conf c;
	struct braid_link *lh;
	struct braid_link_probe_tx pt[4];
	struct braid_link_info in;
	struct braid_probe_reply r;
	uint64_t now = 0;
	uint16_t k;
	unsigned int sent = 0;

	memset(&r, 0, sizeof(r));

	base_conf(&c, 1);
	c.probe_timeout_ms = 200;
	lh = braid_link_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
	/* 10 probes, 50 ms apart, none answered. */
	for (; now <= 450 * TMS; now += TMS) {
		k = braid_link_update(lh, now, pt, 4);
		sent += k;
		if (k == 1 && sent == 2) {
			/* answer the second one late, after its timeout */
			memset(&r, 0, sizeof(r));
			r.probe_id = pt[0].probe.probe_id;
			r.probe_tx_ns = pt[0].probe.tx_ns;
		}
	}
	CU_ASSERT(sent == 10);
	braid_link_info_get(lh, 0, &in);
	/* probes sent at 0..450 ms: those sent up to 250 ms are lost */
	CU_ASSERT(in.probes_lost == 6);
	r.probe_rx_ns = 5;
	r.reply_tx_ns = 5;
	CU_ASSERT(braid_link_reply_rx(lh, 0, &r, now) == 0);
	CU_ASSERT(lh->links[0].replies_late == 1);
	/* the same reply again: unmatched */
	CU_ASSERT(braid_link_reply_rx(lh, 0, &r, now) == -ENOENT);
	/* a reply whose echoed time does not match: unmatched */
	r.probe_id++;
	CU_ASSERT(braid_link_reply_rx(lh, 0, &r, now) == -ENOENT);
	CU_ASSERT(lh->cnt.replies_unmatched == 2);
	braid_link_free(lh);
}

/* A satellite hop (700 ms each way) beside a 10 ms link: its probes are
 * answered after their configured 1 s timeout, and those answers count
 * (the timeout grows to the RTO): it is up, nothing lost, and its delay
 * is measured. braid_link_info_fits() keeps it out of a 600 ms deadline
 * and in a 1 s one; a link at the deadline does not flap (hysteresis). */
static void
test_long_link(void)
{
	struct braid_link_conf c;
	struct braid_link_info li[2];
	struct sim s;

	base_conf(&c, NL);
	CU_ASSERT_FATAL(sim_init(&s, &c) == 0);
	s.p[0][1].base = 700 * TMS;
	s.p[1][1].base = 700 * TMS;
	s.p[0][1].jit = 5 * TMS;
	s.p[1][1].jit = 5 * TMS;
	sim_run(&s, 15000 * TMS, NULL, NULL);
	braid_link_info_get(s.o[0], 0, &li[0]);
	braid_link_info_get(s.o[0], 1, &li[1]);
	printf("\n  700 ms each way: %s, SRTT %u us, RTTVAR %u us, probes lost %" PRIu64
	       ", late replies %" PRIu64 ", delay %" PRIu64 " us\n",
	       li[1].state == BRAID_LINK_UP ? "up" : "not up", li[1].srtt_us, li[1].rttvar_us,
	       li[1].probes_lost, li[1].replies_late, braid_link_info_delay_us(&li[1]));
	CU_ASSERT_EQUAL(li[1].state, BRAID_LINK_UP);
	/* Only the first probes, sent before the first RTT sample, time out. */
	CU_ASSERT(li[1].probes_lost <= 1400 / 50 + 1);
	CU_ASSERT(li[1].probes_answered > 200);
	CU_ASSERT(li[1].srtt_us >= 1400000 && li[1].srtt_us <= 1412000);
	CU_ASSERT(braid_link_info_delay_us(&li[1]) >= 700000 &&
		  braid_link_info_delay_us(&li[1]) <= 720000);
	CU_ASSERT(braid_link_info_delay_us(&li[0]) >= 10000 &&
		  braid_link_info_delay_us(&li[0]) <= 20000);
	CU_ASSERT(!braid_link_info_fits(&li[1], 600000, true));
	CU_ASSERT(braid_link_info_fits(&li[1], 1000000, false));
	CU_ASSERT(braid_link_info_fits(&li[0], 600000, false));
	/* At the edge: in while in, out until 80 % of the deadline. */
	CU_ASSERT(braid_link_info_fits(&li[1], braid_link_info_delay_us(&li[1]), true));
	CU_ASSERT(!braid_link_info_fits(&li[1], braid_link_info_delay_us(&li[1]), false));
	CU_ASSERT(braid_link_info_fits(&li[1], braid_link_info_delay_us(&li[1]) * 13 / 10, false));
	/* Not measured: as it was. */
	memset(&li[0], 0, sizeof(li[0]));
	CU_ASSERT(braid_link_info_fits(&li[0], 1, true));
	CU_ASSERT(!braid_link_info_fits(&li[0], 1, false));
	sim_fini(&s);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("link", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "best two links, commands", test_best2_and_commands) == NULL ||
	    CU_add_test(s, "seq loss: reorder, dups, 2^32 wrap vs model", test_seq_loss) == NULL ||
	    CU_add_test(s, "probe timeouts, late and unmatched replies", test_probe_timeouts) == NULL ||
	    CU_add_test(s, "satellite hop: long RTT is up, not in time for a short deadline", test_long_link) == NULL ||
	    CU_add_test(s, "RTT and jitter vs simulated truth", test_rtt_jitter) == NULL ||
	    CU_add_test(s, "loss both ways, usable capacity", test_loss_capacity) == NULL ||
	    CU_add_test(s, "dead link: suspect on silence, down in 3 intervals, recovery after hold", test_dead_and_recovery) == NULL ||
	    CU_add_test(s, "silence of all links, or with the detector off", test_silence_all_or_off) == NULL ||
	    CU_add_test(s, "200 ms good/bad does not flap", test_no_flap) == NULL ||
	    CU_add_test(s, "20 % loss each way is not down", test_lossy_not_down) == NULL ||
	    CU_add_test(s, "capacity estimate from the probes' queue", test_capacity_estimate) == NULL ||
	    CU_add_test(s, "RTT thresholds with hysteresis", test_rtt_threshold) == NULL ||
	    CU_add_test(s, "session change resets", test_session_change) == NULL ||
	    CU_add_test(s, "admin down overrides", test_admin) == NULL ||
	    CU_add_test(s, "mbufs through encap/decap and stage ops", test_mbuf_path) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("link", register_tests);
}
