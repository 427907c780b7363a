/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-level DRR scheduler with link pacing; doc/sched.md has the
 * algorithm and the decisions (blocked heads, priority cap, backup links).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "braid_log.h"
#include "braid_meta.h"
#include "braid_sched.h"
#include "sched_priv.h"

RTE_LOG_REGISTER(braid_sched_logtype, braid.sched, INFO);
#define SCHED_LOG(level, ...) BRAID_LOG(level, braid_sched_logtype, __VA_ARGS__)

#define SCHED_NONE UINT16_MAX
#define SCHED_QUEUE_DEFAULT 1024U

struct sched_class {
	struct rte_mbuf **q;     /**< FIFO storage, q_mask + 1 slots */
	uint32_t q_mask;
	uint32_t q_limit;        /**< queue bound (packets) */
	uint32_t q_head;         /**< free-running indices */
	uint32_t q_tail;
	uint64_t deficit;        /**< DRR deficit, bytes */
	uint64_t quantum;        /**< weight * base_quantum, bytes */
	uint64_t charge_mult;    /**< token units per byte of this class */
	uint32_t link_mask;      /**< links the policy allows */
	uint32_t fit_mask;       /**< links fast enough for the class's
				  *   deadline; all by default */
	uint32_t cap_bucket;     /**< priority bucket bytes, 0 = default */
	uint32_t next_seq;
	uint16_t next;           /**< active DRR list (circular) */
	uint16_t prev;
	uint8_t policy;
	uint8_t dup_copies;
} __rte_cache_aligned;

struct sched_link {
	struct sched_tb tb;
	uint64_t capacity_kbps;
	uint32_t bucket_bytes;   /**< configured depth, 0 = default */
	uint16_t factor;         /**< weight factor, per-mille */
} __rte_cache_aligned;

struct braid_sched {
	uint16_t n_classes;
	uint16_t n_links;
	uint16_t prio;           /**< strict-priority class or SCHED_NONE */
	uint16_t head;           /**< DRR list head or SCHED_NONE */
	uint32_t up_mask;
	uint32_t backup_mask;
	uint32_t mtu;
	uint32_t frame_overhead; /**< wire bytes per packet beyond pkt_len */
	uint32_t base_quantum;
	uint64_t max_charge;     /**< units: largest charge of one packet */
	struct rte_mempool *clone_pool;
	struct sched_tb cap;     /**< priority class shaper */
	struct sched_link_drr drr;
	struct sched_link links[BRAID_SCHED_MAX_LINKS];
	struct sched_class cls[BRAID_SCHED_MAX_CLASSES];
	struct braid_sched_stats cnt __rte_cache_aligned;
	struct braid_sched_class_stats ccnt[BRAID_SCHED_MAX_CLASSES] __rte_cache_aligned;
	struct braid_sched_link_stats lcnt[BRAID_SCHED_MAX_LINKS] __rte_cache_aligned;
};

/* ---------------------------------------------------------------------
 * Configuration
 */

static uint64_t
fec_charge_mult(uint8_t k, uint8_t m)
{
	if (k == 0)
		return SCHED_TB_SCALE;
	return ((uint64_t)(k + m) * SCHED_TB_SCALE + k - 1) / k;
}

static uint64_t
class_charge_mult(const struct braid_sched_class_conf *cc)
{
	return fec_charge_mult(cc->fec_k, cc->fec_m);
}

/* FEC off (0, 0), or k, m >= 1 with k + m <= 255 (one RS block). */
static bool
fec_valid(uint8_t k, uint8_t m)
{
	return (k == 0) == (m == 0) && (unsigned int)k + m <= 255;
}

static uint32_t
all_links(unsigned int n_links)
{
	return n_links == 32 ? UINT32_MAX : (1U << n_links) - 1;
}

/* Units of the largest single charge: mtu and the frame overhead at the
 * largest FEC factor. */
static uint64_t
conf_max_charge(const struct braid_sched_conf *conf)
{
	uint64_t mult = SCHED_TB_SCALE;

	for (unsigned int c = 0; c < conf->n_classes; c++)
		mult = RTE_MAX(mult, class_charge_mult(&conf->classes[c]));
	return (uint64_t)(sched_conf_mtu(conf) + conf->frame_overhead) * mult;
}

static uint64_t
link_depth_bytes(uint64_t bucket_bytes, uint64_t capacity_kbps,
		 uint32_t mtu, uint64_t max_charge)
{
	uint64_t d;

	if (bucket_bytes != 0)
		return bucket_bytes;
	/* max(2 * MTU, largest charge, 1 ms of rate = kbps * 125 / 1000). */
	d = RTE_MAX(2ULL * mtu, (max_charge + SCHED_TB_SCALE - 1) / SCHED_TB_SCALE);
	return RTE_MAX(d, capacity_kbps / 8);
}

static uint64_t
cap_depth_bytes(uint32_t bucket_bytes, uint64_t rate_cap_kbps, uint32_t mtu)
{
	if (bucket_bytes != 0)
		return bucket_bytes;
	return RTE_MAX(2ULL * mtu, rate_cap_kbps / 8);
}

uint64_t
sched_cap_depth(const struct braid_sched_conf *conf,
		const struct braid_sched_class_conf *cc)
{
	return cap_depth_bytes(cc->cap_bucket_bytes, cc->rate_cap_kbps,
			       sched_conf_mtu(conf));
}

int
sched_conf_check(const struct braid_sched_conf *conf)
{
	uint32_t all, mtu;
	uint64_t max_charge_bytes;
	unsigned int n_prio = 0;

	if (conf == NULL) {
		SCHED_LOG(ERR, "sched: no configuration");
		return -EINVAL;
	}
	if (conf->n_classes < 1 || conf->n_classes > BRAID_SCHED_MAX_CLASSES) {
		SCHED_LOG(ERR, "sched: classes: %u classes, must be 1..%u",
			  conf->n_classes, BRAID_SCHED_MAX_CLASSES);
		return -EINVAL;
	}
	if (conf->n_links < 1 || conf->n_links > BRAID_SCHED_MAX_LINKS) {
		SCHED_LOG(ERR, "sched: links: %u links, must be 1..%u",
			  conf->n_links, BRAID_SCHED_MAX_LINKS);
		return -EINVAL;
	}
	mtu = sched_conf_mtu(conf);
	if (mtu < 64 || mtu > BRAID_SCHED_MTU_MAX) {
		SCHED_LOG(ERR, "sched: mtu %u out of range 64..%u", mtu,
			  BRAID_SCHED_MTU_MAX);
		return -EINVAL;
	}
	if (conf->frame_overhead > BRAID_SCHED_FRAME_OVERHEAD_MAX) {
		SCHED_LOG(ERR, "sched: frame_overhead %u out of range 0..%u",
			  conf->frame_overhead, BRAID_SCHED_FRAME_OVERHEAD_MAX);
		return -EINVAL;
	}
	if (conf->base_quantum != 0 &&
	    (conf->base_quantum < mtu || conf->base_quantum > (1U << 24))) {
		SCHED_LOG(ERR, "sched: base_quantum %u must be mtu (%u)..%u so each visit can send",
			  conf->base_quantum, mtu, 1U << 24);
		return -EINVAL;
	}
	all = all_links(conf->n_links);
	for (unsigned int c = 0; c < conf->n_classes; c++) {
		const struct braid_sched_class_conf *cc = &conf->classes[c];
		uint32_t cand;

		if (cc->priority) {
			if (++n_prio > 1) {
				SCHED_LOG(ERR, "sched: classes[%u].priority: only one strict-priority class", c);
				return -EINVAL;
			}
			if (cc->rate_cap_kbps < 1 ||
			    cc->rate_cap_kbps > BRAID_SCHED_CAPACITY_MAX_KBPS) {
				SCHED_LOG(ERR, "sched: classes[%u].rate_cap_kbps %" PRIu64
					  " must be 1..%llu (a priority class needs a cap)",
					  c, cc->rate_cap_kbps, BRAID_SCHED_CAPACITY_MAX_KBPS);
				return -EINVAL;
			}
			if (cc->cap_bucket_bytes != 0 &&
			    (cc->cap_bucket_bytes < mtu ||
			     cc->cap_bucket_bytes > BRAID_SCHED_BUCKET_MAX)) {
				SCHED_LOG(ERR, "sched: classes[%u].cap_bucket_bytes %u must be mtu (%u)..%u",
					  c, cc->cap_bucket_bytes, mtu, BRAID_SCHED_BUCKET_MAX);
				return -EINVAL;
			}
		} else if (cc->weight < 1 || cc->weight > BRAID_SCHED_WEIGHT_MAX) {
			SCHED_LOG(ERR, "sched: classes[%u].weight %u must be 1..%u",
				  c, cc->weight, BRAID_SCHED_WEIGHT_MAX);
			return -EINVAL;
		}
		if (cc->queue_size > BRAID_SCHED_QUEUE_MAX) {
			SCHED_LOG(ERR, "sched: classes[%u].queue_size %u must be 1..%u",
				  c, cc->queue_size, BRAID_SCHED_QUEUE_MAX);
			return -EINVAL;
		}
		if ((cc->fec_k == 0 && cc->fec_m != 0) ||
		    (cc->fec_k != 0 && (cc->fec_m == 0 ||
					(unsigned int)cc->fec_k + cc->fec_m > 255))) {
			SCHED_LOG(ERR, "sched: classes[%u].fec (%u,%u): need k = m = 0, or k, m >= 1 and k + m <= 255",
				  c, cc->fec_k, cc->fec_m);
			return -EINVAL;
		}
		if ((cc->link_mask & ~all) != 0) {
			SCHED_LOG(ERR, "sched: classes[%u].link_mask 0x%x names links beyond %u",
				  c, cc->link_mask, conf->n_links);
			return -EINVAL;
		}
		switch (cc->policy) {
		case BRAID_SCHED_STRIPE:
			if (cc->link_mask != 0) {
				SCHED_LOG(ERR, "sched: classes[%u].link_mask: stripe uses every link (use pin)", c);
				return -EINVAL;
			}
			break;
		case BRAID_SCHED_PIN:
			if (cc->link_mask == 0) {
				SCHED_LOG(ERR, "sched: classes[%u].link_mask: pin needs at least one link", c);
				return -EINVAL;
			}
			break;
		case BRAID_SCHED_DUPLICATE:
			cand = cc->link_mask != 0 ? cc->link_mask : all;
			if (cc->dup_copies < 2 ||
			    cc->dup_copies > (unsigned int)__builtin_popcount(cand)) {
				SCHED_LOG(ERR, "sched: classes[%u].dup_copies %u must be 2..%d (its links)",
					  c, cc->dup_copies, __builtin_popcount(cand));
				return -EINVAL;
			}
			if (conf->clone_pool == NULL) {
				SCHED_LOG(ERR, "sched: classes[%u].policy duplicate needs a clone pool", c);
				return -EINVAL;
			}
			break;
		default:
			SCHED_LOG(ERR, "sched: classes[%u].policy %d unknown", c, (int)cc->policy);
			return -EINVAL;
		}
	}
	max_charge_bytes = (conf_max_charge(conf) + SCHED_TB_SCALE - 1) / SCHED_TB_SCALE;
	for (unsigned int l = 0; l < conf->n_links; l++) {
		const struct braid_sched_link_conf *lc = &conf->links[l];

		if (lc->capacity_kbps < 1 ||
		    lc->capacity_kbps > BRAID_SCHED_CAPACITY_MAX_KBPS) {
			SCHED_LOG(ERR, "sched: links[%u].capacity_kbps %" PRIu64 " must be 1..%llu",
				  l, lc->capacity_kbps, BRAID_SCHED_CAPACITY_MAX_KBPS);
			return -EINVAL;
		}
		if (lc->weight_factor > BRAID_SCHED_LINK_FACTOR_MAX) {
			SCHED_LOG(ERR, "sched: links[%u].weight_factor %u must be 1..%u (per-mille)",
				  l, lc->weight_factor, BRAID_SCHED_LINK_FACTOR_MAX);
			return -EINVAL;
		}
		if (lc->bucket_bytes != 0 &&
		    (lc->bucket_bytes < max_charge_bytes ||
		     lc->bucket_bytes > BRAID_SCHED_BUCKET_MAX)) {
			SCHED_LOG(ERR, "sched: links[%u].bucket_bytes %u must be %" PRIu64
				  "..%u (the largest charge: mtu with FEC overhead)",
				  l, lc->bucket_bytes, max_charge_bytes, BRAID_SCHED_BUCKET_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

/* Link quanta proportional to usable capacity; the largest is one maximal
 * charge, so the biggest link sends about one full packet per round. */
static void
sched_link_quanta(struct braid_sched *s)
{
	uint64_t w[BRAID_SCHED_MAX_LINKS];
	uint64_t wmax = 0;

	for (unsigned int l = 0; l < s->n_links; l++) {
		w[l] = s->links[l].capacity_kbps * s->links[l].factor;
		wmax = RTE_MAX(wmax, w[l]);
	}
	for (unsigned int l = 0; l < s->n_links; l++) {
		uint64_t q = (uint64_t)((unsigned __int128)s->max_charge * w[l] / wmax);

		s->drr.quantum[l] = q != 0 ? q : 1;
	}
}

static void
sched_link_rate(struct braid_sched *s, unsigned int l)
{
	struct sched_link *lk = &s->links[l];

	sched_tb_set(&lk->tb, lk->capacity_kbps * 125,
		     link_depth_bytes(lk->bucket_bytes, lk->capacity_kbps,
				      s->mtu, s->max_charge));
}

struct braid_sched *
braid_sched_create(const struct braid_sched_conf *conf, int socket)
{
	struct braid_sched *s;

	if (sched_conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("braid_sched", sizeof(*s), RTE_CACHE_LINE_SIZE,
			       socket);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->n_classes = conf->n_classes;
	s->n_links = conf->n_links;
	s->prio = SCHED_NONE;
	s->head = SCHED_NONE;
	s->mtu = sched_conf_mtu(conf);
	s->base_quantum = conf->base_quantum != 0 ? conf->base_quantum : s->mtu;
	s->max_charge = conf_max_charge(conf);
	s->frame_overhead = conf->frame_overhead;
	s->clone_pool = conf->clone_pool;

	for (unsigned int c = 0; c < s->n_classes; c++) {
		const struct braid_sched_class_conf *cc = &conf->classes[c];
		struct sched_class *cl = &s->cls[c];
		uint32_t limit = cc->queue_size != 0 ? cc->queue_size :
			SCHED_QUEUE_DEFAULT;
		uint32_t slots = rte_align32pow2(limit);

		cl->q = rte_zmalloc_socket("braid_sched_q",
					   sizeof(cl->q[0]) * slots,
					   RTE_CACHE_LINE_SIZE, socket);
		if (cl->q == NULL) {
			braid_sched_free(s);
			rte_errno = ENOMEM;
			return NULL;
		}
		cl->q_mask = slots - 1;
		cl->q_limit = limit;
		/* A priority class's weight was not checked: weight 1 if it
		 * leaves priority later without a valid one. */
		cl->quantum = (uint64_t)(cc->weight >= 1 &&
					 cc->weight <= BRAID_SCHED_WEIGHT_MAX ?
					 cc->weight : 1) * s->base_quantum;
		cl->charge_mult = class_charge_mult(cc);
		cl->policy = (uint8_t)cc->policy;
		cl->dup_copies = cc->dup_copies;
		cl->next_seq = cc->seq_start;
		cl->next = SCHED_NONE;
		cl->prev = SCHED_NONE;
		if (cc->policy == BRAID_SCHED_STRIPE || cc->link_mask == 0)
			cl->link_mask = all_links(s->n_links);
		else
			cl->link_mask = cc->link_mask;
		cl->fit_mask = all_links(s->n_links);
		if (cc->priority) {
			s->prio = (uint16_t)c;
			cl->cap_bucket = cc->cap_bucket_bytes;
			sched_tb_set(&s->cap, cc->rate_cap_kbps * 125,
				     sched_cap_depth(conf, cc));
			s->cap.tokens = s->cap.depth;
		}
	}

	s->drr.n = s->n_links;
	for (unsigned int l = 0; l < s->n_links; l++) {
		const struct braid_sched_link_conf *lc = &conf->links[l];
		struct sched_link *lk = &s->links[l];

		lk->capacity_kbps = lc->capacity_kbps;
		lk->bucket_bytes = lc->bucket_bytes;
		lk->factor = lc->weight_factor != 0 ? lc->weight_factor :
			BRAID_SCHED_LINK_FACTOR_MAX;
		sched_link_rate(s, l);
		lk->tb.tokens = lk->tb.depth;
		if (!lc->start_down)
			s->up_mask |= 1U << l;
		if (lc->backup)
			s->backup_mask |= 1U << l;
	}
	sched_link_quanta(s);
	return s;
}

void
braid_sched_free(struct braid_sched *s)
{
	if (s == NULL)
		return;
	for (unsigned int c = 0; c < s->n_classes; c++) {
		struct sched_class *cl = &s->cls[c];

		if (cl->q == NULL)
			continue;
		while (cl->q_head != cl->q_tail) {
			rte_pktmbuf_free(cl->q[cl->q_head++ & cl->q_mask]);
			s->cnt.drop_shutdown++;
		}
		rte_free(cl->q);
	}
	rte_free(s);
}

/* ---------------------------------------------------------------------
 * Link-level DRR
 */

int
sched_link_drr_pick(struct sched_link_drr *d, uint32_t elig, uint64_t charge)
{
	unsigned int cur = d->cur;
	unsigned int best = 0, best_pos = 0;
	uint64_t best_g = UINT64_MAX;

	if (elig == 0)
		return -1;
	/* The turn's owner still covers the charge: it sends again. */
	if (((elig >> cur) & 1) && d->deficit[cur] >= charge) {
		d->deficit[cur] -= charge;
		return (int)cur;
	}
	/*
	 * Visiting in order from cur, link i sends at its (g_i + 1)-th visit,
	 * g_i = quanta it still needs; the winner is the least (g, position).
	 * Links visited before it gained a quantum at each of their visits.
	 */
	for (unsigned int pos = 0; pos < d->n; pos++) {
		unsigned int i = cur + pos < d->n ? cur + pos : cur + pos - d->n;
		uint64_t g;

		if (((elig >> i) & 1) == 0)
			continue;
		if (d->deficit[i] >= charge) {
			/* Sends at its first visit: nobody later can beat it. */
			best_g = 0;
			best = i;
			best_pos = pos;
			break;
		}
		g = charge - d->deficit[i];
		/* One quantum is the common case: skip the division. */
		g = g <= d->quantum[i] ? 1 : (g + d->quantum[i] - 1) / d->quantum[i];
		if (g < best_g) {
			best_g = g;
			best = i;
			best_pos = pos;
		}
	}
	for (unsigned int pos = 0; pos < d->n; pos++) {
		unsigned int i = cur + pos < d->n ? cur + pos : cur + pos - d->n;

		if (((elig >> i) & 1) == 0 || i == best)
			continue;
		d->deficit[i] += (best_g + (pos < best_pos)) * d->quantum[i];
	}
	d->deficit[best] = d->deficit[best] + best_g * d->quantum[best] - charge;
	d->cur = best;
	return (int)best;
}

/* ---------------------------------------------------------------------
 * Class queues and the DRR list
 */

static inline void
class_link_tail(struct braid_sched *s, uint16_t c)
{
	struct sched_class *cl = &s->cls[c];

	if (s->head == SCHED_NONE) {
		s->head = c;
		cl->next = c;
		cl->prev = c;
		return;
	}
	cl->next = s->head;
	cl->prev = s->cls[s->head].prev;
	s->cls[cl->prev].next = c;
	s->cls[s->head].prev = c;
}

static inline void
class_unlink(struct braid_sched *s, uint16_t c)
{
	struct sched_class *cl = &s->cls[c];

	if (cl->next == c) {
		s->head = SCHED_NONE;
	} else {
		s->cls[cl->prev].next = cl->next;
		s->cls[cl->next].prev = cl->prev;
		if (s->head == c)
			s->head = cl->next;
	}
	cl->next = SCHED_NONE;
	cl->prev = SCHED_NONE;
}

/* End of @p c's turn: it goes behind every other active class (classes
 * ahead of it that wait for links keep their place). */
static inline void
class_to_tail(struct braid_sched *s, uint16_t c)
{
	if (c == s->head) {
		s->head = s->cls[c].next;
		return;
	}
	class_unlink(s, c);
	class_link_tail(s, c);
}

/* First active class not waiting this poll, in DRR order. */
static inline uint16_t
class_first_ready(const struct braid_sched *s, uint32_t blocked)
{
	uint16_t c = s->head;

	if (c == SCHED_NONE || ((blocked >> c) & 1) == 0)
		return c;
	for (c = s->cls[c].next; c != s->head; c = s->cls[c].next)
		if (((blocked >> c) & 1) == 0)
			return c;
	return SCHED_NONE;
}

enum sched_reject {
	REJ_NONE,
	REJ_BAD_CLASS,
	REJ_OVERSIZE,
	REJ_FULL,
};

static uint16_t
sched_enqueue(struct braid_sched *s, struct rte_mbuf **pkts, uint16_t n,
	      enum sched_reject *why)
{
	uint16_t cnt[BRAID_SCHED_MAX_CLASSES];
	uint32_t touched = 0;
	uint16_t i;

	*why = REJ_NONE;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t c = braid_meta(m)->class_id;
		struct sched_class *cl;

		if (unlikely(c >= s->n_classes)) {
			*why = REJ_BAD_CLASS;
			break;
		}
		if (unlikely(m->pkt_len > s->mtu)) {
			*why = REJ_OVERSIZE;
			break;
		}
		cl = &s->cls[c];
		if (unlikely(cl->q_tail - cl->q_head >= cl->q_limit)) {
			*why = REJ_FULL;
			break;
		}
		if (cl->q_tail == cl->q_head && c != s->prio) {
			/* Newly backlogged: joins the round with a fresh quantum
			 * (sch_drr), so its first visit can send; what it had
			 * left when it went idle is forgotten. */
			cl->deficit = cl->quantum;
			class_link_tail(s, c);
		}
		cl->q[cl->q_tail++ & cl->q_mask] = m;
		if ((touched & (1U << c)) == 0) {
			touched |= 1U << c;
			cnt[c] = 0;
		}
		cnt[c]++;
	}
	while (touched != 0) {
		unsigned int c = rte_bsf32(touched);

		touched &= touched - 1;
		s->ccnt[c].enqueued += cnt[c];
	}
	return i;
}

uint16_t
braid_sched_enqueue(struct braid_sched *s, struct rte_mbuf **pkts, uint16_t n)
{
	enum sched_reject why;

	return sched_enqueue(s, pkts, n, &why);
}

/* ---------------------------------------------------------------------
 * Dequeue
 */

/* One dequeue call: output, per-poll earmarks, and counters summed
 * locally and written once at the end. */
struct sched_poll {
	struct rte_mbuf **pkts;
	uint16_t n;
	uint16_t out;
	uint32_t marked;     /**< links with an earmark this poll */
	uint32_t starved;    /**< links a packet waited for tokens on */
	uint32_t ctouched;
	uint32_t ltouched;
	uint32_t dups;
	uint32_t clone_fail;
	uint32_t dup_short;
	uint32_t c_pkts[BRAID_SCHED_MAX_CLASSES];
	uint64_t c_bytes[BRAID_SCHED_MAX_CLASSES];
	uint32_t l_pkts[BRAID_SCHED_MAX_LINKS];
	uint64_t l_bytes[BRAID_SCHED_MAX_LINKS];
	uint64_t l_charged[BRAID_SCHED_MAX_LINKS];
	/** Token units that heads waiting this poll claim first, per link
	 *  (valid where marked). */
	uint64_t earmark[BRAID_SCHED_MAX_LINKS];
};

enum sched_res {
	RES_OK,
	RES_WAIT_TOKENS,    /**< links up, not enough unclaimed tokens */
	RES_NO_LINK,        /**< no allowed link is up */
	RES_NO_ROOM,        /**< caller's array cannot take the copies */
};

/* Where the head packet of a class can go now. */
struct sched_pick {
	uint32_t elig;       /**< links to choose from */
	uint64_t charge;     /**< token units of the (original) packet */
	unsigned int want;   /**< copies (1 unless duplicate) */
	bool dup_short;      /**< fewer copies for lack of room */
	bool unfit;          /**< no link in time is up: on the others */
};

static inline void
poll_link(struct sched_poll *p, unsigned int l, uint32_t len, uint64_t units)
{
	if ((p->ltouched & (1U << l)) == 0) {
		p->ltouched |= 1U << l;
		p->l_pkts[l] = 0;
		p->l_bytes[l] = 0;
		p->l_charged[l] = 0;
	}
	p->l_pkts[l]++;
	p->l_bytes[l] += len;
	p->l_charged[l] += units / SCHED_TB_SCALE;
}

/* Links of @p mask whose tokens cover @p charge beyond the earmarks. */
static inline uint32_t
links_with_tokens(const struct braid_sched *s, const struct sched_poll *p,
		  uint32_t mask, uint64_t charge)
{
	uint32_t ok = 0;

	while (mask != 0) {
		unsigned int l = rte_bsf32(mask);
		uint64_t need = charge;

		mask &= mask - 1;
		if ((p->marked >> l) & 1)
			need += p->earmark[l];
		if (s->links[l].tb.tokens >= need)
			ok |= 1U << l;
	}
	return ok;
}

/* A head waits: claim @p charge on each link of @p mask for it. */
static inline void
poll_earmark(struct sched_poll *p, uint32_t mask, uint64_t charge)
{
	while (mask != 0) {
		unsigned int l = rte_bsf32(mask);

		mask &= mask - 1;
		if (((p->marked >> l) & 1) == 0) {
			p->marked |= 1U << l;
			p->earmark[l] = 0;
		}
		p->earmark[l] += charge;
	}
}

/*
 * Decide whether the head packet (len bytes) of @p cl can leave now, without
 * changing any state but the poll's earmarks. A head that waits for tokens
 * earmarks its charge on each link it could use: for the rest of the poll
 * the classes behind it may only spend tokens beyond the earmarks, so small
 * packets cannot starve a large head, and a duplicate head waiting for one
 * slow link leaves the surplus of the others usable.
 *
 * Stripe/pin: the allowed links that are up with unclaimed tokens;
 * primaries only, backups if no primary qualifies. Duplicate: the group is
 * the allowed primaries that are up (the backups if none is), want =
 * min(dup_copies, group size) of them must have unclaimed tokens.
 */
static inline enum sched_res
sched_choose(const struct braid_sched *s, const struct sched_class *cl,
	     uint32_t len, struct sched_poll *p, struct sched_pick *pk)
{
	uint32_t allowed = cl->link_mask & s->up_mask;
	uint32_t cand, tok;

	if (unlikely(allowed == 0))
		return RES_NO_LINK;
	/* Only the links in time, unless none of them is up: then late
	 * beats nothing (counted by the caller, sent_unfit). */
	pk->unfit = (allowed & cl->fit_mask) == 0;
	if (likely(!pk->unfit))
		allowed &= cl->fit_mask;
	pk->charge = (uint64_t)(len + s->frame_overhead) * cl->charge_mult;
	pk->dup_short = false;
	if (likely(cl->policy != BRAID_SCHED_DUPLICATE)) {
		tok = links_with_tokens(s, p, allowed, pk->charge);
		pk->elig = tok & ~s->backup_mask;
		if (pk->elig == 0)
			pk->elig = tok;
		if (pk->elig == 0) {
			poll_earmark(p, allowed, pk->charge);
			p->starved |= allowed;
			return RES_WAIT_TOKENS;
		}
		pk->want = 1;
		return RES_OK;
	}
	cand = allowed & ~s->backup_mask;
	if (cand == 0)
		cand = allowed;
	pk->want = RTE_MIN((unsigned int)cl->dup_copies,
			   (unsigned int)__builtin_popcount(cand));
	if ((unsigned int)(p->n - p->out) < pk->want) {
		if (p->out > 0)
			return RES_NO_ROOM;
		pk->want = p->n - p->out;
		pk->dup_short = true;
	}
	tok = links_with_tokens(s, p, cand, pk->charge);
	if ((unsigned int)__builtin_popcount(tok) < pk->want) {
		poll_earmark(p, cand, pk->charge);
		p->starved |= cand & ~tok;
		return RES_WAIT_TOKENS;
	}
	pk->elig = tok;
	return RES_OK;
}

/* Send the head packet @p m as decided by sched_choose(): seq, link DRR
 * (or the best links for copies), tokens, output. */
static inline void
sched_commit(struct braid_sched *s, struct sched_class *cl, struct rte_mbuf *m,
	     uint32_t len, struct sched_poll *p, const struct sched_pick *pk)
{
	struct braid_meta *meta = braid_meta(m);
	uint32_t tok = pk->elig;
	unsigned int want = pk->want;
	int l;

	meta->seq = cl->next_seq++;
	if (unlikely(pk->unfit))
		s->ccnt[cl - s->cls].sent_unfit++;
	if (likely(cl->policy != BRAID_SCHED_DUPLICATE)) {
		l = sched_link_drr_pick(&s->drr, pk->elig, pk->charge);
		s->links[l].tb.tokens -= pk->charge;
		meta->link_id = (uint16_t)l;
		p->pkts[p->out++] = m;
		poll_link(p, (unsigned int)l, len, pk->charge);
		return;
	}
	p->dup_short += pk->dup_short;
	/* Copies go to the links of highest usable capacity; the original
	 * first, with the FEC charge (fec protects it, not the copies). */
	for (unsigned int k = 0; k < want; k++) {
		uint64_t bw = 0, charge;
		unsigned int bl = 0;
		uint32_t t = tok;
		struct rte_mbuf *c;

		while (t != 0) {
			unsigned int i = rte_bsf32(t);
			uint64_t w = s->links[i].capacity_kbps * s->links[i].factor;

			t &= t - 1;
			if (w > bw) {
				bw = w;
				bl = i;
			}
		}
		tok &= ~(1U << bl);
		if (k == 0) {
			meta->link_id = (uint16_t)bl;
			c = m;
			charge = pk->charge;
		} else {
			c = rte_pktmbuf_clone(m, s->clone_pool);
			if (unlikely(c == NULL)) {
				p->clone_fail++;
				continue;
			}
			/* The clone carries the meta: own link, F_DUP. */
			braid_meta(c)->link_id = (uint16_t)bl;
			braid_meta(c)->flags |= BRAID_META_F_DUP;
			charge = (uint64_t)(len + s->frame_overhead) * SCHED_TB_SCALE;
			p->dups++;
		}
		s->links[bl].tb.tokens -= charge;
		p->pkts[p->out++] = c;
		poll_link(p, bl, len, charge);
	}
}

/* A head that could not go: count why (once per poll, it waits for the
 * rest of this poll). */
static inline void
class_wait(struct braid_sched *s, uint16_t c, enum sched_res r)
{
	if (r == RES_NO_LINK)
		s->ccnt[c].no_link_polls++;
	else if (r == RES_WAIT_TOKENS)
		s->ccnt[c].link_wait_polls++;
}

/* Remove the head packet of @p c that was just sent. */
static inline void
class_pop(struct sched_class *cl, uint16_t c, uint32_t len,
	  struct sched_poll *p)
{
	cl->q_head++;
	if ((p->ctouched & (1U << c)) == 0) {
		p->ctouched |= 1U << c;
		p->c_pkts[c] = 0;
		p->c_bytes[c] = 0;
	}
	p->c_pkts[c]++;
	p->c_bytes[c] += len;
}

static void
poll_flush(struct braid_sched *s, struct sched_poll *p)
{
	while (p->ctouched != 0) {
		unsigned int c = rte_bsf32(p->ctouched);

		p->ctouched &= p->ctouched - 1;
		s->ccnt[c].dequeued += p->c_pkts[c];
		s->ccnt[c].bytes += p->c_bytes[c];
	}
	while (p->ltouched != 0) {
		unsigned int l = rte_bsf32(p->ltouched);

		p->ltouched &= p->ltouched - 1;
		s->lcnt[l].sent_pkts += p->l_pkts[l];
		s->lcnt[l].sent_bytes += p->l_bytes[l];
		s->lcnt[l].charged_bytes += p->l_charged[l];
	}
	while (p->starved != 0) {
		unsigned int l = rte_bsf32(p->starved);

		p->starved &= p->starved - 1;
		s->lcnt[l].starved_polls++;
	}
	if (p->dups != 0 || p->clone_fail != 0 || p->dup_short != 0) {
		s->cnt.duplicates += p->dups;
		s->cnt.dup_clone_fail += p->clone_fail;
		s->cnt.dup_short += p->dup_short;
	}
}

uint16_t
braid_sched_dequeue(struct braid_sched *s, struct rte_mbuf **pkts, uint16_t n,
		    uint64_t now_ns)
{
	struct sched_poll p;
	struct sched_pick pk;
	uint32_t blocked = 0;   /* DRR classes whose head waits this poll */
	bool prio_ready = s->prio != SCHED_NONE;

	p.pkts = pkts;
	p.n = n;
	p.out = 0;
	p.marked = 0;
	p.starved = 0;
	p.ctouched = 0;
	p.ltouched = 0;
	p.dups = 0;
	p.clone_fail = 0;
	p.dup_short = 0;

	for (unsigned int l = 0; l < s->n_links; l++)
		sched_tb_refill(&s->links[l].tb, now_ns);
	if (prio_ready)
		sched_tb_refill(&s->cap, now_ns);

	while (p.out < n) {
		struct sched_class *cl;
		struct rte_mbuf *m;
		enum sched_res r;
		uint32_t len;
		uint16_t c;

		if (prio_ready) {
			c = s->prio;
			cl = &s->cls[c];
			if (cl->q_head == cl->q_tail) {
				prio_ready = false;
				continue;
			}
			m = cl->q[cl->q_head & cl->q_mask];
			len = m->pkt_len;
			if (s->cap.tokens < (uint64_t)len * SCHED_TB_SCALE) {
				/* Over its cap: waits, takes no DRR share. */
				prio_ready = false;
				s->ccnt[c].cap_wait_polls++;
				continue;
			}
			r = sched_choose(s, cl, len, &p, &pk);
			if (r == RES_OK) {
				sched_commit(s, cl, m, len, &p, &pk);
				s->cap.tokens -= (uint64_t)len * SCHED_TB_SCALE;
				class_pop(cl, c, len, &p);
				continue;
			}
			prio_ready = false;
			if (r == RES_NO_ROOM)
				break;
			class_wait(s, c, r);
			continue;
		}

		c = class_first_ready(s, blocked);
		if (c == SCHED_NONE)
			break;
		cl = &s->cls[c];
		m = cl->q[cl->q_head & cl->q_mask];
		len = m->pkt_len;
		/* Links first: a class that cannot send now keeps its place
		 * and deficit, so pacing never changes the DRR order. */
		r = sched_choose(s, cl, len, &p, &pk);
		if (unlikely(r != RES_OK)) {
			if (r == RES_NO_ROOM)
				break;
			blocked |= 1U << c;
			class_wait(s, c, r);
			continue;
		}
		if (cl->deficit < len) {
			cl->deficit += cl->quantum;
			class_to_tail(s, c);
			continue;
		}
		sched_commit(s, cl, m, len, &p, &pk);
		cl->deficit -= len;
		class_pop(cl, c, len, &p);
		if (cl->q_head == cl->q_tail)
			class_unlink(s, c);   /* it keeps no credit: see enqueue */
	}
	poll_flush(s, &p);
	return p.out;
}

uint16_t
braid_sched_drain(struct braid_sched *s, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t out = 0;

	for (unsigned int i = 0; i <= s->n_classes && out < n; i++) {
		/* Priority class first, then the others in index order. */
		uint16_t c = i == 0 ? s->prio : (uint16_t)(i - 1);
		struct sched_class *cl;

		if (c == SCHED_NONE || (i > 0 && c == s->prio))
			continue;
		cl = &s->cls[c];
		if (cl->q_head == cl->q_tail)
			continue;
		while (out < n && cl->q_head != cl->q_tail) {
			struct rte_mbuf *m = cl->q[cl->q_head++ & cl->q_mask];
			uint32_t allowed = cl->link_mask & s->up_mask;
			uint32_t elig = allowed & ~s->backup_mask;
			struct braid_meta *meta;
			int l;

			if (elig == 0)
				elig = allowed;
			if (elig == 0) {
				rte_pktmbuf_free(m);
				s->cnt.drop_no_link++;
				continue;
			}
			l = sched_link_drr_pick(&s->drr, elig,
						(uint64_t)(m->pkt_len + s->frame_overhead) *
						cl->charge_mult);
			meta = braid_meta(m);
			meta->seq = cl->next_seq++;
			meta->link_id = (uint16_t)l;
			pkts[out++] = m;
			s->ccnt[c].dequeued++;
			s->ccnt[c].bytes += m->pkt_len;
			s->lcnt[l].sent_pkts++;
			s->lcnt[l].sent_bytes += m->pkt_len;
		}
		if (cl->q_head == cl->q_tail && c != s->prio)
			class_unlink(s, c);
	}
	return out;
}

/* ---------------------------------------------------------------------
 * Runtime changes and queries
 */

int
braid_sched_link_set_up(struct braid_sched *s, uint16_t link, bool up)
{
	if (s == NULL || link >= s->n_links)
		return -EINVAL;
	if (up)
		s->up_mask |= 1U << link;
	else
		s->up_mask &= ~(1U << link);
	return 0;
}

int
braid_sched_link_set_capacity(struct braid_sched *s, uint16_t link,
			      uint64_t capacity_kbps)
{
	if (s == NULL || link >= s->n_links || capacity_kbps < 1 ||
	    capacity_kbps > BRAID_SCHED_CAPACITY_MAX_KBPS)
		return -EINVAL;
	s->links[link].capacity_kbps = capacity_kbps;
	sched_link_rate(s, link);
	sched_link_quanta(s);
	return 0;
}

int
braid_sched_link_set_weight(struct braid_sched *s, uint16_t link,
			    uint16_t factor)
{
	if (s == NULL || link >= s->n_links || factor < 1 ||
	    factor > BRAID_SCHED_LINK_FACTOR_MAX)
		return -EINVAL;
	s->links[link].factor = factor;
	sched_link_quanta(s);
	return 0;
}

int
braid_sched_link_set_backup(struct braid_sched *s, uint16_t link, bool backup)
{
	uint32_t mask;

	if (s == NULL || link >= s->n_links)
		return -EINVAL;
	mask = backup ? s->backup_mask | 1U << link : s->backup_mask & ~(1U << link);
	/* Every link a backup would leave nothing to prefer over them. */
	if (mask == RTE_LEN2MASK(s->n_links, uint32_t))
		return -EINVAL;
	s->backup_mask = mask;
	return 0;
}

int
braid_sched_link_charge(struct braid_sched *s, uint16_t link, uint64_t bytes)
{
	if (s == NULL || link >= s->n_links)
		return -EINVAL;
	sched_tb_charge(&s->links[link].tb, bytes);
	return 0;
}

bool
braid_sched_class_fec_fits(const struct braid_sched *s, uint8_t fec_k, uint8_t fec_m)
{
	uint64_t charge;

	if (!fec_valid(fec_k, fec_m))
		return false;
	/* Default buckets grow with the charge; explicit ones are fixed. */
	charge = (uint64_t)(s->mtu + s->frame_overhead) * fec_charge_mult(fec_k, fec_m);
	for (unsigned int l = 0; l < s->n_links; l++)
		if (s->links[l].bucket_bytes != 0 &&
		    charge > (uint64_t)s->links[l].bucket_bytes * SCHED_TB_SCALE)
			return false;
	return true;
}

int
braid_sched_class_set_fec(struct braid_sched *s, uint16_t cls, uint8_t fec_k,
			  uint8_t fec_m)
{
	uint64_t mult = SCHED_TB_SCALE;

	if (s == NULL || cls >= s->n_classes || !fec_valid(fec_k, fec_m))
		return -EINVAL;
	if (!braid_sched_class_fec_fits(s, fec_k, fec_m))
		return -ERANGE;
	s->cls[cls].charge_mult = fec_charge_mult(fec_k, fec_m);
	for (unsigned int c = 0; c < s->n_classes; c++)
		mult = RTE_MAX(mult, s->cls[c].charge_mult);
	if ((uint64_t)(s->mtu + s->frame_overhead) * mult == s->max_charge)
		return 0;
	/* As create() would size them for the new largest charge: default
	 * bucket depths and the link quanta follow; tokens are kept. */
	s->max_charge = (uint64_t)(s->mtu + s->frame_overhead) * mult;
	for (unsigned int l = 0; l < s->n_links; l++)
		sched_link_rate(s, l);
	sched_link_quanta(s);
	return 0;
}

int
braid_sched_class_set_priority(struct braid_sched *s, uint16_t cls,
			       bool priority, uint64_t rate_cap_kbps)
{
	struct sched_class *cl;

	if (s == NULL || cls >= s->n_classes)
		return -EINVAL;
	cl = &s->cls[cls];
	if (!priority) {
		if (s->prio != cls)
			return 0;
		s->prio = SCHED_NONE;
		/* Its backlog joins the round as a newly backlogged class
		 * would (see enqueue): tail, fresh quantum. */
		if (cl->q_head != cl->q_tail) {
			cl->deficit = cl->quantum;
			class_link_tail(s, cls);
		}
		return 0;
	}
	if (rate_cap_kbps < 1 || rate_cap_kbps > BRAID_SCHED_CAPACITY_MAX_KBPS)
		return -EINVAL;
	if (s->prio != SCHED_NONE && s->prio != cls)
		return -EBUSY;
	sched_tb_set(&s->cap, rate_cap_kbps * 125,
		     cap_depth_bytes(cl->cap_bucket, rate_cap_kbps, s->mtu));
	if (s->prio == cls)
		return 0;
	/* Leave the DRR round; the priority path serves the queue from its
	 * head, so the order is kept. */
	if (cl->next != SCHED_NONE)
		class_unlink(s, cls);
	cl->deficit = 0;
	s->prio = cls;
	s->cap.tokens = s->cap.depth;   /* full, as at create */
	return 0;
}

int
braid_sched_class_set_policy(struct braid_sched *s, uint16_t cls,
			     enum braid_sched_policy policy, uint8_t dup_copies,
			     uint32_t link_mask)
{
	struct sched_class *cl;
	uint32_t all, cand;

	if (s == NULL || cls >= s->n_classes)
		return -EINVAL;
	all = all_links(s->n_links);
	if ((link_mask & ~all) != 0)
		return -EINVAL;
	switch (policy) {
	case BRAID_SCHED_STRIPE:
		if (link_mask != 0)
			return -EINVAL;
		break;
	case BRAID_SCHED_PIN:
		if (link_mask == 0)
			return -EINVAL;
		break;
	case BRAID_SCHED_DUPLICATE:
		cand = link_mask != 0 ? link_mask : all;
		if (dup_copies < 2 ||
		    dup_copies > (unsigned int)__builtin_popcount(cand))
			return -EINVAL;
		if (s->clone_pool == NULL)
			return -ENOTSUP;
		break;
	default:
		return -EINVAL;
	}
	/* Read per packet by sched_choose() and drain: nothing else
	 * depends on the policy. */
	cl = &s->cls[cls];
	cl->policy = (uint8_t)policy;
	cl->dup_copies = dup_copies;
	cl->link_mask = policy == BRAID_SCHED_STRIPE || link_mask == 0 ?
		all : link_mask;
	return 0;
}

int
braid_sched_class_set_fit(struct braid_sched *s, uint16_t cls, uint32_t fit_mask)
{
	uint32_t all;

	if (s == NULL || cls >= s->n_classes)
		return -EINVAL;
	all = all_links(s->n_links);
	if (fit_mask == 0 || (fit_mask & ~all) != 0)
		return -EINVAL;
	s->cls[cls].fit_mask = fit_mask;
	return 0;
}

uint32_t
braid_sched_class_fit(const struct braid_sched *s, uint16_t cls)
{
	if (s == NULL || cls >= s->n_classes)
		return 0;
	return s->cls[cls].fit_mask;
}

int
braid_sched_class_set_weight(struct braid_sched *s, uint16_t cls,
			     uint32_t weight)
{
	if (s == NULL || cls >= s->n_classes || weight < 1 ||
	    weight > BRAID_SCHED_WEIGHT_MAX)
		return -EINVAL;
	s->cls[cls].quantum = (uint64_t)weight * s->base_quantum;
	return 0;
}

unsigned int
braid_sched_class_backlog(const struct braid_sched *s, uint16_t cls)
{
	if (s == NULL || cls >= s->n_classes)
		return 0;
	return s->cls[cls].q_tail - s->cls[cls].q_head;
}

void
braid_sched_stats(const struct braid_sched *s, struct braid_sched_stats *st)
{
	*st = s->cnt;
}

int
braid_sched_class_stats(const struct braid_sched *s, uint16_t cls,
			struct braid_sched_class_stats *st)
{
	if (s == NULL || cls >= s->n_classes)
		return -EINVAL;
	*st = s->ccnt[cls];
	return 0;
}

int
braid_sched_link_stats(const struct braid_sched *s, uint16_t link,
		       struct braid_sched_link_stats *st)
{
	if (s == NULL || link >= s->n_links)
		return -EINVAL;
	*st = s->lcnt[link];
	return 0;
}

/* ---------------------------------------------------------------------
 * Stage ops
 */

static void
sched_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		    struct braid_burst *out, uint64_t now_ns)
{
	struct braid_sched *s = ctx;
	struct rte_mbuf *drop[BRAID_BURST];
	uint16_t full[BRAID_SCHED_MAX_CLASSES];
	uint32_t touched = 0;
	uint64_t bad = 0, over = 0;
	unsigned int n_drop = 0;
	uint16_t done = 0;

	RTE_SET_USED(out);
	RTE_SET_USED(now_ns);
	while (done < n) {
		enum sched_reject why;
		struct rte_mbuf *m;
		uint16_t c;

		done += sched_enqueue(s, pkts + done, n - done, &why);
		if (done == n)
			break;
		m = pkts[done++];
		if (n_drop == RTE_DIM(drop)) {
			rte_pktmbuf_free_bulk(drop, n_drop);
			n_drop = 0;
		}
		drop[n_drop++] = m;
		if (why == REJ_BAD_CLASS) {
			bad++;
		} else if (why == REJ_OVERSIZE) {
			over++;
		} else {
			c = braid_meta(m)->class_id;
			if ((touched & (1U << c)) == 0) {
				touched |= 1U << c;
				full[c] = 0;
			}
			full[c]++;
		}
	}
	if (n_drop != 0)
		rte_pktmbuf_free_bulk(drop, n_drop);
	s->cnt.drop_bad_class += bad;
	s->cnt.drop_oversize += over;
	while (touched != 0) {
		unsigned int c = rte_bsf32(touched);

		touched &= touched - 1;
		s->ccnt[c].drop_queue_full += full[c];
	}
}

static uint16_t
sched_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	uint16_t room = RTE_MIN(braid_burst_room(out), (uint16_t)BRAID_BURST);
	uint16_t got;

	if (room == 0)
		return 0;
	got = braid_sched_dequeue(ctx, &out->pkts[out->n], room, now_ns);
	out->n += got;
	return got;
}

static uint16_t
sched_stage_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	uint16_t got;

	RTE_SET_USED(now_ns);
	got = braid_sched_drain(ctx, &out->pkts[out->n], braid_burst_room(out));
	out->n += got;
	return got;
}

/* The stage's counters, then each class's and each link's, labelled. */
static void
sched_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_sched *s = ctx;
	struct braid_stat_labels lb = { BRAID_STAT_NONE, BRAID_STAT_NONE };

	BRAID_COUNTERS_REPORT(BRAID_SCHED_COUNTERS, &s->cnt, fn, arg);
	for (lb.class_id = 0; lb.class_id < s->n_classes; lb.class_id++)
		BRAID_COUNTERS_REPORT_LABELLED(BRAID_SCHED_CLASS_COUNTERS,
					       &s->ccnt[lb.class_id], &lb, fn, arg);
	lb.class_id = BRAID_STAT_NONE;
	for (lb.link_id = 0; lb.link_id < s->n_links; lb.link_id++)
		BRAID_COUNTERS_REPORT_LABELLED(BRAID_SCHED_LINK_COUNTERS,
					       &s->lcnt[lb.link_id], &lb, fn, arg);
}

int
braid_sched_apply(struct braid_sched *s, const struct braid_sched_cmd *c)
{
	switch (c->op) {
	case BRAID_SCHED_CMD_LINK_STATE: {
		/* Up with nothing usable (link health's suspect link) carries
		 * nothing: down here, its rate kept for when it returns. */
		bool up = c->link_state.up && c->link_state.capacity_kbps > 0;
		int ret = braid_sched_link_set_up(s, c->id, up);

		if (ret == 0 && up)
			ret = braid_sched_link_set_capacity(s, c->id,
							    c->link_state.capacity_kbps);
		return ret;
	}
	case BRAID_SCHED_CMD_LINK_CAPACITY:
		return braid_sched_link_set_capacity(s, c->id, c->link_capacity.capacity_kbps);
	case BRAID_SCHED_CMD_LINK_WEIGHT:
		return braid_sched_link_set_weight(s, c->id, c->link_weight.factor_permille);
	case BRAID_SCHED_CMD_LINK_CHARGE:
		return braid_sched_link_charge(s, c->id, c->link_charge.bytes);
	case BRAID_SCHED_CMD_LINK_BACKUP:
		return braid_sched_link_set_backup(s, c->id, c->link_backup.backup);
	case BRAID_SCHED_CMD_CLASS_WEIGHT:
		return braid_sched_class_set_weight(s, c->id, c->class_weight.weight);
	case BRAID_SCHED_CMD_CLASS_FEC:
		return braid_sched_class_set_fec(s, c->id, c->class_fec.k, c->class_fec.m);
	case BRAID_SCHED_CMD_CLASS_PRIORITY:
		return braid_sched_class_set_priority(s, c->id, c->class_priority.on,
						      c->class_priority.rate_cap_kbps);
	case BRAID_SCHED_CMD_CLASS_FIT:
		return braid_sched_class_set_fit(s, c->id, c->class_fit.link_mask);
	case BRAID_SCHED_CMD_CLASS_POLICY:
		return braid_sched_class_set_policy(s, c->id, c->class_policy.policy,
						    c->class_policy.dup_copies,
						    c->class_policy.link_mask);
	default:
		return -EINVAL;
	}
}

static int
sched_stage_apply(void *ctx, const void *cmd)
{
	return braid_sched_apply(ctx, cmd);
}

const struct braid_stage_ops braid_sched_stage_ops = {
	.kind = "sched",
	.cmd_size = sizeof(struct braid_sched_cmd),
	.apply = sched_stage_apply,
	.process = sched_stage_process,
	.poll = sched_stage_poll,
	.drain = sched_stage_drain,
	.stats = sched_stage_stats,
};
