/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "braid_log.h"
#include "braid_meta.h"
#include "braid_reorder.h"
#include "../wire/braid_wire.h"   /* braid_seq_lt (header only) */

RTE_LOG_REGISTER(braid_reorder_logtype, braid.reorder, INFO);
#define RO_LOG(level, ...) BRAID_LOG(level, braid_reorder_logtype, __VA_ARGS__)

struct ro_slot {
	struct rte_mbuf *m;   /* NULL: seq not held */
	uint64_t arr_ns;      /* push time of the held packet */
};

struct ro_class {
	uint64_t *bits;         /* dedup bitmap, bit (seq & wmask) */
	struct ro_slot *slot;   /* reorder ring, slot (seq & rmask) */
	/* Seqs of held packets in arrival order (so arrival time ascending).
	 * Entries whose seq is behind next were released since: they are
	 * dropped when they reach the front. The front entry is then the
	 * held packet that arrived first, the one whose deadline comes
	 * first. At most 2 * rsize entries (see doc/arq.md). */
	uint32_t *fifo;
	uint64_t deadline_ns;
	uint32_t start_window;
	uint32_t window;        /* dedup window (seqs) */
	uint32_t wmask;
	uint32_t rsize;         /* 0: no reordering */
	uint32_t rmask;
	uint32_t fmask;
	uint32_t f_head;        /* free-running: pop at head, push at tail */
	uint32_t f_tail;
	uint32_t dd_head;       /* highest seq seen + 1 */
	uint32_t next;          /* next seq to deliver */
	uint32_t held;
	uint32_t hi;            /* highest held seq + 1 (while held > 0) */
	bool started;
	uint64_t resets;        /* braid_reorder_reset() of this class */
	uint64_t lost;          /* its seqs skipped (the global lost, by class) */
};

struct braid_reorder {
	struct braid_reorder_stats cnt __rte_cache_aligned;
	char name[BRAID_REORDER_NAMESIZE + 1];
	uint16_t n_classes;
	uint64_t resets;        /* class resets, all classes */
	uint64_t session_resets; /* stage: peer restarts (BRAID_META_F_SESSION) */
	struct ro_class cls[BRAID_REORDER_MAX_CLASSES] __rte_cache_aligned;
};

static inline bool
ro_bit_test(const struct ro_class *cl, uint32_t seq)
{
	uint32_t p = seq & cl->wmask;

	return (cl->bits[p >> 6] >> (p & 63)) & 1;
}

static inline void
ro_bit_set(struct ro_class *cl, uint32_t seq)
{
	uint32_t p = seq & cl->wmask;

	cl->bits[p >> 6] |= 1ULL << (p & 63);
}

static inline void
ro_bit_clear(struct ro_class *cl, uint32_t seq)
{
	uint32_t p = seq & cl->wmask;

	cl->bits[p >> 6] &= ~(1ULL << (p & 63));
}

/* Clear the bits of seqs from..from+count-1 (count < window). The window
 * is a multiple of 64, so a word never straddles the wrap. */
static void
ro_bits_clear_range(struct ro_class *cl, uint32_t from, uint32_t count)
{
	while (count > 0) {
		uint32_t p = from & cl->wmask;
		uint32_t off = p & 63;
		uint32_t nb = RTE_MIN(64 - off, count);
		uint64_t mask = nb == 64 ? ~0ULL : ((1ULL << nb) - 1) << off;

		cl->bits[p >> 6] &= ~mask;
		from += nb;
		count -= nb;
	}
}

/* Record seq as seen, sliding the window forward if it is the newest. */
static inline void
ro_mark_seen(struct ro_class *cl, uint32_t seq)
{
	if (!braid_seq_lt(seq, cl->dd_head)) {
		uint32_t gap = seq - cl->dd_head;

		if (gap >= cl->window)
			memset(cl->bits, 0, cl->window / 8);
		else if (gap > 0)
			ro_bits_clear_range(cl, cl->dd_head, gap);
		cl->dd_head = seq + 1;
	}
	ro_bit_set(cl, seq);
}

static inline void
ro_out(struct braid_burst *out, struct rte_mbuf *m)
{
	out->pkts[out->n++] = m;
}

/* Deliver held packets from next on while they are contiguous. */
static void
ro_release_run(struct ro_class *cl, struct braid_burst *out,
	       struct braid_reorder_stats *cnt)
{
	while (cl->held > 0 && out->n < BRAID_BURST_OUT_MAX) {
		struct ro_slot *sl = &cl->slot[cl->next & cl->rmask];

		if (sl->m == NULL)
			break;
		ro_out(out, sl->m);
		sl->m = NULL;
		cl->held--;
		cl->next++;
		cnt->reordered++;
	}
}

/*
 * Move next to @p end: held packets below it go out in order, missing seqs
 * are lost. @return false if @p out filled up first (next is then at the
 * first held packet that did not fit).
 */
static bool
ro_skip_to(struct ro_class *cl, uint32_t end, struct braid_burst *out,
	   struct braid_reorder_stats *cnt)
{
	while (braid_seq_lt(cl->next, end)) {
		struct ro_slot *sl;

		if (cl->held == 0) {
			cnt->lost += end - cl->next;
			cl->lost += end - cl->next;
			cl->next = end;
			break;
		}
		sl = &cl->slot[cl->next & cl->rmask];
		if (sl->m != NULL) {
			if (out->n >= BRAID_BURST_OUT_MAX)
				return false;
			ro_out(out, sl->m);
			sl->m = NULL;
			cl->held--;
			cnt->reordered++;
		} else {
			cnt->lost++;
			cl->lost++;
		}
		cl->next++;
	}
	return true;
}

/* Deadline work of one class at now_ns. */
static void
ro_service(struct ro_class *cl, struct braid_burst *out, uint64_t now_ns,
	   struct braid_reorder_stats *cnt)
{
	ro_release_run(cl, out, cnt);
	while (cl->held > 0) {
		uint32_t f;

		while (cl->f_head != cl->f_tail &&
		       braid_seq_lt(cl->fifo[cl->f_head & cl->fmask], cl->next))
			cl->f_head++;
		if (unlikely(cl->f_head == cl->f_tail))
			break;  /* cannot happen: every held seq is queued */
		f = cl->fifo[cl->f_head & cl->fmask];
		if (now_ns < cl->slot[f & cl->rmask].arr_ns + cl->deadline_ns)
			break;
		if (!ro_skip_to(cl, f + 1, out, cnt))
			break;
		ro_release_run(cl, out, cnt);
	}
}

/* Hold m (seq in (next, next + rsize), slot free). */
static inline void
ro_hold(struct ro_class *cl, struct rte_mbuf *m, uint32_t seq, uint64_t now_ns)
{
	struct ro_slot *sl = &cl->slot[seq & cl->rmask];

	if (cl->held == 0) {
		cl->f_head = cl->f_tail;  /* only stale entries left */
		cl->hi = seq + 1;
	} else if (!braid_seq_lt(seq, cl->hi)) {
		cl->hi = seq + 1;
	}
	sl->m = m;
	sl->arr_ns = now_ns;
	cl->held++;
	if (unlikely(cl->f_tail - cl->f_head > cl->fmask))
		cl->f_head++;  /* cannot happen: bounded by 2 * rsize */
	cl->fifo[cl->f_tail++ & cl->fmask] = seq;
}

static inline void
ro_drop(struct rte_mbuf *m, uint64_t *counter)
{
	rte_pktmbuf_free(m);
	(*counter)++;
}

static void
ro_cnt_add(struct braid_reorder *r, const struct braid_reorder_stats *d)
{
#define RO_ADD_(n) r->cnt.n += d->n;
	BRAID_REORDER_COUNTERS(RO_ADD_)
#undef RO_ADD_
}

uint16_t
braid_reorder_burst(struct braid_reorder *r, struct rte_mbuf **pkts, uint16_t n,
		    struct braid_burst *out, uint64_t now_ns)
{
	struct braid_reorder_stats cnt = { 0 };
	uint16_t n0 = out->n;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *md = braid_meta(m);
		struct ro_class *cl;
		uint32_t s = md->seq;

		if (unlikely(md->flags & BRAID_META_F_SESSION)) {
			/* A peer restart (passed on by fec_decode): every
			 * class is reset right before this packet, which
			 * starts the new streams; what came before it in the
			 * burst still belonged to the old ones. */
			braid_reorder_reset(r, BRAID_REORDER_ALL_CLASSES);
			r->session_resets++;
			md->flags &= (uint8_t)~BRAID_META_F_SESSION;
		}
		if (unlikely(md->class_id >= r->n_classes)) {
			ro_drop(m, &cnt.drop_bad_class);
			continue;
		}
		if (unlikely(md->flags & BRAID_META_F_PARITY)) {
			ro_drop(m, &cnt.drop_parity);
			continue;
		}
		cl = &r->cls[md->class_id];
		if (unlikely(!cl->started)) {
			/* A sender's stream starts at seq 0. A first packet
			 * with another seq overtook earlier ones (they took a
			 * slower link) or we joined mid-stream: expect up to
			 * a start window of seqs before it, held against the
			 * deadline like any gap, rather than call them late. */
			uint32_t back = s == 0 || cl->rsize == 0 ? 0 :
					RTE_MIN(cl->start_window, s);

			cl->started = true;
			cl->next = s - back;
			cl->dd_head = s - back;
		} else if (cl->held > 0) {
			/* Deadlines that passed before this arrival act first. */
			ro_service(cl, out, now_ns, &cnt);
		}

		if (braid_seq_lt(s, cl->dd_head)) {
			if (cl->dd_head - s > cl->window) {
				ro_drop(m, &cnt.drop_too_old);
				continue;
			}
			if (ro_bit_test(cl, s)) {
				ro_drop(m, &cnt.drop_duplicate);
				continue;
			}
		}

		if (cl->rsize == 0) {
			/* Dedup only: arrival order. */
			if (unlikely(out->n >= BRAID_BURST_OUT_MAX)) {
				ro_drop(m, &cnt.drop_overflow);
				continue;
			}
			ro_mark_seen(cl, s);
			ro_out(out, m);
			cnt.in_order++;
			continue;
		}

		if (braid_seq_lt(s, cl->next)) {
			ro_drop(m, &cnt.drop_late);
			continue;
		}
		if (unlikely(s - cl->next >= cl->rsize)) {
			/* Beyond the buffer: skip so that s fits. */
			if (!ro_skip_to(cl, s - cl->rsize + 1, out, &cnt)) {
				ro_drop(m, &cnt.drop_overflow);
				continue;
			}
			cnt.overflow_skips++;
			ro_release_run(cl, out, &cnt);
		}

		ro_mark_seen(cl, s);
		if (s == cl->next && out->n < BRAID_BURST_OUT_MAX) {
			ro_out(out, m);
			cl->next++;
			cnt.in_order++;
			if (cl->held > 0)
				ro_release_run(cl, out, &cnt);
		} else {
			ro_hold(cl, m, s, now_ns);
		}
	}
	cnt.pkts_in = n;
	ro_cnt_add(r, &cnt);
	return (uint16_t)(out->n - n0);
}

uint16_t
braid_reorder_poll(struct braid_reorder *r, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_reorder_stats cnt = { 0 };
	uint16_t n0 = out->n;

	for (uint16_t i = 0; i < r->n_classes; i++) {
		struct ro_class *cl = &r->cls[i];

		if (cl->held > 0)
			ro_service(cl, out, now_ns, &cnt);
	}
	ro_cnt_add(r, &cnt);
	return (uint16_t)(out->n - n0);
}

uint16_t
braid_reorder_drain(struct braid_reorder *r, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_reorder_stats cnt = { 0 };
	uint16_t n0 = out->n;

	RTE_SET_USED(now_ns);
	for (uint16_t i = 0; i < r->n_classes; i++) {
		struct ro_class *cl = &r->cls[i];

		if (cl->held > 0 && !ro_skip_to(cl, cl->hi, out, &cnt))
			break;
	}
	ro_cnt_add(r, &cnt);
	return (uint16_t)(out->n - n0);
}

int
braid_reorder_gaps(const struct braid_reorder *r, uint16_t class_id,
		   struct braid_reorder_gap *ranges, unsigned int max)
{
	const struct ro_class *cl;
	unsigned int ng = 0;
	uint32_t s, stop;
	uint64_t run_min = UINT64_MAX;

	if (class_id >= r->n_classes || (ranges == NULL && max > 0))
		return -EINVAL;
	cl = &r->cls[class_id];
	if (!cl->started || cl->held == 0 || max == 0)
		return 0;

	/* Pass 1, lowest first: the first max missing runs below hi. */
	for (s = cl->next; braid_seq_lt(s, cl->hi) && ng < max; s++) {
		if (cl->slot[s & cl->rmask].m != NULL)
			continue;
		if (ng > 0 && ranges[ng - 1].first_seq + ranges[ng - 1].count == s) {
			ranges[ng - 1].count++;
			continue;
		}
		ranges[ng].first_seq = s;
		ranges[ng].count = 1;
		ng++;
	}
	/* The last run may continue past where pass 1 stopped. */
	if (ng > 0) {
		struct braid_reorder_gap *g = &ranges[ng - 1];

		for (s = g->first_seq + g->count;
		     braid_seq_lt(s, cl->hi) && cl->slot[s & cl->rmask].m == NULL; s++)
			g->count++;
	}

	/* Pass 2, highest first: a gap opened when the first packet held
	 * behind it arrived, i.e. the earliest arrival above it. */
	s = cl->hi;
	for (unsigned int i = ng; i-- > 0;) {
		stop = ranges[i].first_seq + ranges[i].count;
		while (braid_seq_lt(stop, s)) {
			const struct ro_slot *sl = &cl->slot[--s & cl->rmask];

			if (sl->m != NULL && sl->arr_ns < run_min)
				run_min = sl->arr_ns;
		}
		ranges[i].opened_ns = run_min;
		ranges[i].skip_ns = run_min + cl->deadline_ns;
		s = ranges[i].first_seq;
	}
	return (int)ng;
}

static void
ro_reset_class(struct ro_class *cl, struct braid_reorder_stats *cnt)
{
	for (uint32_t s = cl->next; cl->held > 0 && braid_seq_lt(s, cl->hi); s++) {
		struct ro_slot *sl = &cl->slot[s & cl->rmask];

		if (sl->m != NULL) {
			ro_drop(sl->m, &cnt->drop_reset);
			sl->m = NULL;
			cl->held--;
		}
	}
	memset(cl->bits, 0, cl->window / 8);
	cl->f_head = cl->f_tail = 0;
	cl->held = 0;
	cl->started = false;
	cl->next = 0;
	cl->dd_head = 0;
	cl->hi = 0;
	cl->resets++;
}

int
braid_reorder_reset(struct braid_reorder *r, uint16_t class_id)
{
	struct braid_reorder_stats cnt = { 0 };

	if (class_id == BRAID_REORDER_ALL_CLASSES) {
		for (uint16_t i = 0; i < r->n_classes; i++)
			ro_reset_class(&r->cls[i], &cnt);
		r->resets += r->n_classes;
	} else if (class_id < r->n_classes) {
		ro_reset_class(&r->cls[class_id], &cnt);
		r->resets++;
	} else {
		return -EINVAL;
	}
	ro_cnt_add(r, &cnt);
	return 0;
}

int
braid_reorder_class_set_deadline(struct braid_reorder *r, uint16_t class_id,
				 uint64_t deadline_ns)
{
	if (class_id >= r->n_classes || deadline_ns > BRAID_REORDER_MAX_DEADLINE_NS)
		return -EINVAL;
	/* Hold times are checked as arrival + deadline, so open gaps move
	 * too; the arrival queue stays ordered (one deadline per class). */
	r->cls[class_id].deadline_ns = deadline_ns;
	return 0;
}

int
braid_reorder_class_info(const struct braid_reorder *r, uint16_t class_id,
			 struct braid_reorder_class_info *info)
{
	const struct ro_class *cl;

	if (class_id >= r->n_classes || info == NULL)
		return -EINVAL;
	cl = &r->cls[class_id];
	info->started = cl->started;
	info->next_seq = cl->rsize != 0 ? cl->next : cl->dd_head;
	info->high_seq = cl->dd_head - 1;
	info->held = cl->held;
	info->deadline_ns = cl->deadline_ns;
	info->lost = cl->lost;
	info->resets = cl->resets;
	return 0;
}

uint64_t
braid_reorder_resets(const struct braid_reorder *r)
{
	return r->resets;
}

void
braid_reorder_stats(const struct braid_reorder *r,
		    struct braid_reorder_stats *cnt)
{
	*cnt = r->cnt;
}

static void
ro_stats_report(const struct braid_reorder *r, braid_stat_fn fn, void *arg)
{
	uint64_t held = 0;

	BRAID_COUNTERS_REPORT(BRAID_REORDER_COUNTERS, &r->cnt, fn, arg);
	for (uint16_t i = 0; i < r->n_classes; i++)
		held += r->cls[i].held;
	fn(arg, "held", NULL, held);
}

static void
ro_class_free(struct ro_class *cl)
{
	rte_free(cl->bits);
	rte_free(cl->slot);
	rte_free(cl->fifo);
	cl->bits = NULL;
	cl->slot = NULL;
	cl->fifo = NULL;
}

void
braid_reorder_free(struct braid_reorder *r)
{
	if (r == NULL)
		return;
	for (uint16_t i = 0; i < r->n_classes; i++) {
		if (r->cls[i].bits != NULL)
			ro_reset_class(&r->cls[i], &r->cnt);
		ro_class_free(&r->cls[i]);
	}
	rte_free(r);
}

static int
ro_check_class(const char *name, uint16_t i, const struct braid_reorder_class_conf *cc)
{
	if (!rte_is_power_of_2(cc->dedup_window) ||
	    cc->dedup_window < BRAID_REORDER_MIN_WINDOW ||
	    cc->dedup_window > BRAID_REORDER_MAX_WINDOW) {
		RO_LOG(ERR, "reorder %s: classes[%u].dedup_window %" PRIu32
		       " is not a power of two in %u..%u", name, i, cc->dedup_window,
		       BRAID_REORDER_MIN_WINDOW, BRAID_REORDER_MAX_WINDOW);
		return -EINVAL;
	}
	if (cc->buf_size != 0 &&
	    (!rte_is_power_of_2(cc->buf_size) || cc->buf_size > cc->dedup_window)) {
		RO_LOG(ERR, "reorder %s: classes[%u].buf_size %" PRIu32
		       " is not 0 or a power of two <= dedup_window %" PRIu32,
		       name, i, cc->buf_size, cc->dedup_window);
		return -EINVAL;
	}
	if (cc->start_window > cc->buf_size / 2) {
		RO_LOG(ERR, "reorder %s: class %u: start_window %u > buf_size / 2",
		       name, i, cc->start_window);
		return -EINVAL;
	}
	if (cc->deadline_ns > BRAID_REORDER_MAX_DEADLINE_NS) {
		RO_LOG(ERR, "reorder %s: classes[%u].deadline_ns %" PRIu64 " above %llu",
		       name, i, cc->deadline_ns, BRAID_REORDER_MAX_DEADLINE_NS);
		return -EINVAL;
	}
	return 0;
}

struct braid_reorder *
braid_reorder_create(const struct braid_reorder_conf *conf, int socket)
{
	struct braid_reorder *r;
	size_t nlen;

	if (conf == NULL || conf->name == NULL || conf->classes == NULL) {
		RO_LOG(ERR, "reorder: conf, name and classes are required");
		rte_errno = EINVAL;
		return NULL;
	}
	nlen = strnlen(conf->name, BRAID_REORDER_NAMESIZE + 1);
	if (nlen == 0 || nlen > BRAID_REORDER_NAMESIZE) {
		RO_LOG(ERR, "reorder: name must be 1..%u characters", BRAID_REORDER_NAMESIZE);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_REORDER_MAX_CLASSES) {
		RO_LOG(ERR, "reorder %s: n_classes %u not in 1..%u", conf->name,
		       conf->n_classes, BRAID_REORDER_MAX_CLASSES);
		rte_errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < conf->n_classes; i++) {
		if (ro_check_class(conf->name, i, &conf->classes[i]) != 0) {
			rte_errno = EINVAL;
			return NULL;
		}
	}

	r = rte_zmalloc_socket(conf->name, sizeof(*r), RTE_CACHE_LINE_SIZE, socket);
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(r->name, conf->name, nlen);
	r->n_classes = conf->n_classes;
	for (uint16_t i = 0; i < conf->n_classes; i++) {
		const struct braid_reorder_class_conf *cc = &conf->classes[i];
		struct ro_class *cl = &r->cls[i];
		uint32_t fsize = cc->buf_size != 0 ? 2 * cc->buf_size : 1;

		cl->window = cc->dedup_window;
		cl->wmask = cc->dedup_window - 1;
		cl->rsize = cc->buf_size;
		cl->rmask = cc->buf_size != 0 ? cc->buf_size - 1 : 0;
		cl->fmask = fsize - 1;
		cl->deadline_ns = cc->deadline_ns;
		cl->start_window = cc->start_window;
		cl->bits = rte_zmalloc_socket(conf->name, cc->dedup_window / 8,
					      RTE_CACHE_LINE_SIZE, socket);
		cl->slot = rte_zmalloc_socket(conf->name,
					      (size_t)RTE_MAX(cc->buf_size, 1u) *
					      sizeof(struct ro_slot),
					      RTE_CACHE_LINE_SIZE, socket);
		cl->fifo = rte_zmalloc_socket(conf->name, (size_t)fsize * sizeof(uint32_t),
					      RTE_CACHE_LINE_SIZE, socket);
		if (cl->bits == NULL || cl->slot == NULL || cl->fifo == NULL) {
			RO_LOG(ERR, "reorder %s: no memory for class %u", conf->name, i);
			braid_reorder_free(r);
			rte_errno = ENOMEM;
			return NULL;
		}
	}
	return r;
}

static void
ro_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		 struct braid_burst *out, uint64_t now_ns)
{
	braid_reorder_burst(ctx, pkts, n, out, now_ns);
}

static uint16_t
ro_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_reorder_poll(ctx, out, now_ns);
}

static uint16_t
ro_stage_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_reorder_drain(ctx, out, now_ns);
}

static void
ro_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_reorder *r = ctx;

	ro_stats_report(r, fn, arg);
	fn(arg, "session_resets", NULL, r->session_resets);
}

static int
ro_stage_apply(void *ctx, const void *cmd)
{
	const struct braid_reorder_cmd *c = cmd;

	switch (c->op) {
	case BRAID_REORDER_CMD_DEADLINE:
		return braid_reorder_class_set_deadline(ctx, c->class_id, c->deadline_ns);
	default:
		return -EINVAL;
	}
}

const struct braid_stage_ops braid_reorder_stage_ops = {
	.kind = "reorder",
	.flags = 0,
	.cmd_size = sizeof(struct braid_reorder_cmd),
	.apply = ro_stage_apply,
	.process = ro_stage_process,
	.poll = ro_stage_poll,
	.drain = ro_stage_drain,
	.stats = ro_stage_stats,
};
