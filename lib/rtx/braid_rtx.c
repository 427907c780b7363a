/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "braid_log.h"
#include "braid_meta.h"
#include "braid_rtx.h"
#include "braid_wire.h"

RTE_LOG_REGISTER(braid_rtx_logtype, braid.rtx, INFO);
#define RTX_LOG(level, ...) BRAID_LOG(level, braid_rtx_logtype, __VA_ARGS__)

/* Slots the age walk prefetches ahead of the one it releases. */
#define RTX_PREFETCH_AHEAD 16
/* Released mbufs are freed in bulks of this many. */
#define RTX_FREE_BULK 32

enum rtx_state {
	RTX_EMPTY = 0,   /* never used since create/drain */
	RTX_LIVE,        /* m holds a reference */
	RTX_EXPIRED,     /* released by age; seq kept for lookups */
	RTX_EVICTED,     /* released by the packet window; seq kept */
};

struct rtx_slot {
	struct rte_mbuf *m;
	uint64_t stored_ns;
	uint32_t seq;
	uint8_t state;
};

struct rtx_class {
	struct rtx_slot *ring;   /* NULL: class without ARQ */
	/* Caching on (implies ring). The fast paths test this, not ring, so
	 * a class switched off acts as one without ARQ. */
	bool on;
	uint64_t window_ns;
	uint32_t mask;
	uint32_t head;           /* newest stored seq + 1 */
	uint32_t tail;           /* age walk position: oldest seq maybe cached */
	uint32_t live;           /* entries holding a reference */
	bool started;
	uint8_t tail_probes;     /* tail-loss probes sent since the last store */
	uint64_t last_store_ns;
};

struct braid_rtx {
	struct braid_rtx_stats cnt __rte_cache_aligned;
	char name[BRAID_RTX_NAMESIZE + 1];
	struct rte_mempool *clone_pool;
	uint32_t budget;
	uint16_t n_classes;
	uint16_t walk_next;      /* class the next age walk starts with */
	uint64_t tail_probe_ns;
	struct rtx_class cls[BRAID_RTX_MAX_CLASSES] __rte_cache_aligned;
};

static inline void
rtx_release(struct rtx_class *cl, struct rtx_slot *s, uint8_t state)
{
	rte_pktmbuf_free(s->m);
	s->m = NULL;
	s->state = state;
	cl->live--;
}

struct braid_rtx *
braid_rtx_create(const struct braid_rtx_conf *conf, int socket)
{
	struct braid_rtx *c;
	size_t nlen;

	if (conf == NULL || conf->name == NULL || conf->classes == NULL) {
		RTX_LOG(ERR, "rtx: conf, name and classes are required");
		rte_errno = EINVAL;
		return NULL;
	}
	nlen = strnlen(conf->name, BRAID_RTX_NAMESIZE + 1);
	if (nlen == 0 || nlen > BRAID_RTX_NAMESIZE) {
		RTX_LOG(ERR, "rtx: name must be 1..%u characters", BRAID_RTX_NAMESIZE);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_RTX_MAX_CLASSES) {
		RTX_LOG(ERR, "rtx %s: n_classes %u not in 1..%u", conf->name,
			conf->n_classes, BRAID_RTX_MAX_CLASSES);
		rte_errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < conf->n_classes; i++) {
		const struct braid_rtx_class_conf *cc = &conf->classes[i];

		if (cc->window_ms == 0)
			continue;
		if (cc->window_ms > BRAID_RTX_MAX_WINDOW_MS) {
			RTX_LOG(ERR, "rtx %s: classes[%u].window_ms %" PRIu32 " above %u",
				conf->name, i, cc->window_ms, BRAID_RTX_MAX_WINDOW_MS);
			rte_errno = EINVAL;
			return NULL;
		}
		if (cc->max_packets == 0 || cc->max_packets > BRAID_RTX_MAX_PACKETS) {
			RTX_LOG(ERR, "rtx %s: classes[%u].max_packets %" PRIu32 " not in 1..%u",
				conf->name, i, cc->max_packets, BRAID_RTX_MAX_PACKETS);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	c = rte_zmalloc_socket(conf->name, sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(c->name, conf->name, nlen);
	c->clone_pool = conf->clone_pool;
	c->tail_probe_ns = conf->tail_probe_ns;
	c->n_classes = conf->n_classes;
	c->budget = conf->expire_budget != 0 ? conf->expire_budget :
		BRAID_RTX_DEFAULT_BUDGET;

	for (uint16_t i = 0; i < conf->n_classes; i++) {
		const struct braid_rtx_class_conf *cc = &conf->classes[i];
		struct rtx_class *cl = &c->cls[i];
		uint32_t size;

		if (cc->window_ms == 0)
			continue;
		size = rte_align32pow2(cc->max_packets);
		cl->ring = rte_zmalloc_socket(conf->name,
					      (size_t)size * sizeof(struct rtx_slot),
					      RTE_CACHE_LINE_SIZE, socket);
		if (cl->ring == NULL) {
			RTX_LOG(ERR, "rtx %s: no memory for %" PRIu32 " slots of class %u",
				conf->name, size, i);
			braid_rtx_free(c);
			rte_errno = ENOMEM;
			return NULL;
		}
		cl->mask = size - 1;
		cl->window_ns = (uint64_t)cc->window_ms * 1000000ULL;
		cl->on = true;
	}

	return c;
}

/* Release every entry of one class and forget its stream. */
static uint32_t
rtx_release_class(struct rtx_class *cl)
{
	uint32_t n = 0;

	if (cl->ring == NULL)
		return 0;
	for (uint32_t j = 0; j <= cl->mask && cl->live > 0; j++) {
		struct rtx_slot *s = &cl->ring[j];

		if (s->state == RTX_LIVE) {
			rtx_release(cl, s, RTX_EMPTY);
			n++;
		}
	}
	memset(cl->ring, 0, ((size_t)cl->mask + 1) * sizeof(struct rtx_slot));
	cl->started = false;
	cl->head = 0;
	cl->tail = 0;
	return n;
}

static uint32_t
rtx_release_all(struct braid_rtx *c)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < c->n_classes; i++)
		n += rtx_release_class(&c->cls[i]);
	return n;
}

int
braid_rtx_reset(struct braid_rtx *c, uint16_t class_id)
{
	if (class_id == BRAID_RTX_ALL_CLASSES) {
		c->cnt.released_drain += rtx_release_all(c);
		return 0;
	}
	if (class_id >= c->n_classes)
		return -EINVAL;
	c->cnt.released_drain += rtx_release_class(&c->cls[class_id]);
	return 0;
}

void
braid_rtx_free(struct braid_rtx *c)
{
	if (c == NULL)
		return;
	rtx_release_all(c);
	for (uint16_t i = 0; i < c->n_classes; i++)
		rte_free(c->cls[i].ring);
	rte_free(c);
}

/*
 * Cache m under seq. Returns true when stored (one reference taken).
 * Invariant kept: every LIVE slot with a seq in [tail, head) is reachable by
 * the age walk, and head - tail <= ring size.
 */
static inline bool
rtx_store(struct rtx_class *cl, struct rte_mbuf *m, uint32_t seq, uint64_t now_ns,
	  struct braid_rtx_stats *cnt)
{
	uint32_t size = cl->mask + 1;
	struct rtx_slot *s;

	if (unlikely(!cl->started)) {
		cl->started = true;
		cl->head = seq + 1;
		cl->tail = seq;
	} else if (!braid_seq_lt(seq, cl->head)) {
		cl->head = seq + 1;
		if (cl->head - cl->tail > size)
			cl->tail = cl->head - size;
	} else if (cl->head - seq > size) {
		/* Older than the packet window: its slot belongs to a newer seq. */
		cnt->skipped_too_old++;
		return false;
	} else if (braid_seq_lt(seq, cl->tail)) {
		/* Late store behind the walk: let the walk revisit it. */
		cl->tail = seq;
	}

	s = &cl->ring[seq & cl->mask];
	if (s->state == RTX_LIVE) {
		rtx_release(cl, s, RTX_EVICTED);
		cnt->evicted_overwrite++;
	}
	rte_pktmbuf_refcnt_update(m, 1);
	cl->last_store_ns = now_ns;
	cl->tail_probes = 0;
	s->m = m;
	s->stored_ns = now_ns;
	s->seq = seq;
	s->state = RTX_LIVE;
	cl->live++;
	cnt->stored++;
	return true;
}

void
braid_rtx_burst(struct braid_rtx *c, struct rte_mbuf **pkts, uint16_t n,
		struct braid_burst *out, uint64_t now_ns)
{
	struct braid_rtx_stats cnt = { 0 };

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct braid_meta *md = braid_meta(m);
		uint16_t cid = md->class_id;

		if (cid < c->n_classes && c->cls[cid].on &&
		    (md->flags & (BRAID_META_F_PARITY | BRAID_META_F_DUP |
				  BRAID_META_F_RETX)) == 0)
			rtx_store(&c->cls[cid], m, md->seq, now_ns, &cnt);
		else
			cnt.not_cached++;

		if (unlikely(braid_burst_push(out, m) != 0)) {
			/* The cache keeps its own reference, if any. */
			rte_pktmbuf_free(m);
			cnt.drop_out_full++;
		}
	}
	c->cnt.pkts_in += n;
	c->cnt.stored += cnt.stored;
	c->cnt.not_cached += cnt.not_cached;
	c->cnt.skipped_too_old += cnt.skipped_too_old;
	c->cnt.evicted_overwrite += cnt.evicted_overwrite;
	c->cnt.drop_out_full += cnt.drop_out_full;
}

/* Take the reference out of a slot for a bulk free. */
static inline struct rte_mbuf *
rtx_take(struct rtx_class *cl, struct rtx_slot *s, uint8_t state)
{
	struct rte_mbuf *m = s->m;

	s->m = NULL;
	s->state = state;
	cl->live--;
	return m;
}

/* Walk one class oldest seq first; returns slots examined. */
static uint32_t
rtx_expire_class(struct rtx_class *cl, uint32_t budget, uint64_t now_ns,
		 uint32_t *expired, uint32_t *evicted)
{
	struct rte_mbuf *fr[RTX_FREE_BULK];
	unsigned int nfr = 0;
	uint32_t used = 0;

	while (used < budget && cl->tail != cl->head && cl->live > 0) {
		struct rtx_slot *s = &cl->ring[cl->tail & cl->mask];
		struct rte_mbuf *ahead = cl->ring[(cl->tail + RTX_PREFETCH_AHEAD) & cl->mask].m;

		/* Freeing touches both cache lines of a cold mbuf. */
		if (ahead != NULL) {
			rte_prefetch0(ahead);
			rte_prefetch0(&ahead->cacheline1);
		}

		if (s->state == RTX_LIVE) {
			if (s->seq == cl->tail) {
				if (now_ns < s->stored_ns + cl->window_ns)
					break;
				fr[nfr++] = rtx_take(cl, s, RTX_EXPIRED);
				(*expired)++;
			} else if (braid_seq_lt(s->seq, cl->tail)) {
				/* Passed by the packet window after a seq jump. */
				fr[nfr++] = rtx_take(cl, s, RTX_EVICTED);
				(*evicted)++;
			}
			if (nfr == RTX_FREE_BULK) {
				rte_pktmbuf_free_bulk(fr, nfr);
				nfr = 0;
			}
		}
		cl->tail++;
		used++;
	}
	if (nfr > 0)
		rte_pktmbuf_free_bulk(fr, nfr);
	if (cl->live == 0)
		cl->tail = cl->head;  /* nothing left: skip the empty stretch */
	return used;
}

static uint32_t
rtx_expire(struct braid_rtx *c, uint64_t now_ns)
{
	uint32_t budget = c->budget;
	uint32_t expired = 0, evicted = 0;
	uint16_t k = c->walk_next;

	for (uint16_t i = 0; i < c->n_classes && budget > 0; i++) {
		struct rtx_class *cl = &c->cls[k];
		uint32_t used;

		if (cl->on && cl->live > 0) {
			used = rtx_expire_class(cl, budget, now_ns, &expired, &evicted);
			budget = used >= budget ? 0 : budget - used;
		}
		if (++k == c->n_classes)
			k = 0;
	}
	/* Start the next walk with the class after the last one served, so
	 * one busy class cannot starve the others of budget. */
	c->walk_next = k;
	c->cnt.expired += expired;
	c->cnt.evicted_overwrite += evicted;
	return expired + evicted;
}

/*
 * Find without counting; *err = reason when NULL. The cache answers for
 * the last ring-size seqs up to the newest stored one: within that span a
 * slot holding another seq means this one was never stored.
 */
static struct rte_mbuf *
rtx_find(struct braid_rtx *c, uint16_t class_id, uint32_t seq, uint64_t now_ns,
	 int *err)
{
	const struct rtx_class *cl;
	const struct rtx_slot *s;

	if (class_id >= c->n_classes || !c->cls[class_id].on) {
		*err = EINVAL;
		return NULL;
	}
	cl = &c->cls[class_id];
	if (!cl->started || !braid_seq_lt(seq, cl->head)) {
		*err = BRAID_RTX_MISS_NEVER_STORED;
		return NULL;
	}
	if (cl->head - seq > cl->mask + 1) {
		*err = BRAID_RTX_MISS_OVERWRITTEN;
		return NULL;
	}
	s = &cl->ring[seq & cl->mask];
	if (s->seq != seq || s->state == RTX_EMPTY) {
		*err = BRAID_RTX_MISS_NEVER_STORED;
		return NULL;
	}
	if (s->state == RTX_LIVE && now_ns < s->stored_ns + cl->window_ns)
		return s->m;
	*err = s->state == RTX_EVICTED ? BRAID_RTX_MISS_OVERWRITTEN :
		BRAID_RTX_MISS_EXPIRED;
	return NULL;
}

static void
rtx_count_miss(struct braid_rtx *c, int err)
{
	switch (err) {
	case BRAID_RTX_MISS_EXPIRED:
		c->cnt.miss_expired++;
		break;
	case BRAID_RTX_MISS_OVERWRITTEN:
		c->cnt.miss_overwritten++;
		break;
	case BRAID_RTX_MISS_NEVER_STORED:
		c->cnt.miss_never_stored++;
		break;
	default:
		c->cnt.miss_bad_class++;
		break;
	}
	c->cnt.missed++;
}

struct rte_mbuf *
braid_rtx_lookup(struct braid_rtx *c, uint16_t class_id, uint32_t seq,
		 uint64_t now_ns)
{
	struct rte_mbuf *m;
	int err = 0;

	m = rtx_find(c, class_id, seq, now_ns, &err);
	if (m == NULL) {
		rtx_count_miss(c, err);
		rte_errno = err;
		return NULL;
	}
	c->cnt.lookup_hit++;
	return m;
}

struct rte_mbuf *
braid_rtx_serve(struct braid_rtx *c, uint16_t class_id, uint32_t seq,
		uint16_t link_id, uint64_t now_ns)
{
	struct rte_mbuf *m, *rt;
	struct braid_meta *md;
	int err = 0;

	m = rtx_find(c, class_id, seq, now_ns, &err);
	if (m == NULL) {
		rtx_count_miss(c, err);
		rte_errno = err;
		return NULL;
	}
	if (c->clone_pool == NULL ||
	    (rt = rte_pktmbuf_clone(m, c->clone_pool)) == NULL) {
		c->cnt.serve_nomem++;
		rte_errno = ENOMEM;
		return NULL;
	}
	/* The clone carries a copy of the meta (dynfields are copied). */
	md = braid_meta(rt);
	md->flags = (uint8_t)((md->flags & ~(BRAID_META_F_DUP | BRAID_META_F_PARITY)) |
			      BRAID_META_F_RETX);
	md->link_id = link_id;
	c->cnt.served++;
	return rt;
}

/* Resend the newest packet of classes idle for tail_probe_ns (then 2x). */
static uint32_t
rtx_tail_probes(struct braid_rtx *c, struct braid_burst *out, uint64_t now_ns)
{
	uint32_t sent = 0;

	for (uint16_t k = 0; k < c->n_classes; k++) {
		struct rtx_class *cl = &c->cls[k];
		struct rte_mbuf *m;
		uint32_t seq = cl->head - 1;

		if (!cl->on || !cl->started || cl->tail_probes >= 2 ||
		    now_ns - cl->last_store_ns < c->tail_probe_ns << cl->tail_probes)
			continue;
		cl->tail_probes++;
		if (cl->ring[seq & cl->mask].state != RTX_LIVE ||
		    cl->ring[seq & cl->mask].seq != seq)
			continue;
		m = braid_rtx_serve(c, k, seq, braid_meta(cl->ring[seq & cl->mask].m)->link_id,
				    now_ns);
		if (m == NULL)
			continue;
		if (braid_burst_push(out, m) != 0) {
			rte_pktmbuf_free(m);
			c->cnt.drop_out_full++;
			continue;
		}
		c->cnt.tail_probes++;
		sent++;
	}
	return sent;
}

uint16_t
braid_rtx_poll(struct braid_rtx *c, struct braid_burst *out, uint64_t now_ns)
{
	uint32_t work = rtx_expire(c, now_ns);

	if (c->tail_probe_ns != 0)
		work += rtx_tail_probes(c, out, now_ns);
	return (uint16_t)RTE_MIN(work, (uint32_t)UINT16_MAX);
}

uint16_t
braid_rtx_drain(struct braid_rtx *c, struct braid_burst *out, uint64_t now_ns)
{
	RTE_SET_USED(out);
	RTE_SET_USED(now_ns);
	c->cnt.released_drain += rtx_release_all(c);
	return 0;
}

uint32_t
braid_rtx_cached(const struct braid_rtx *c, uint16_t class_id)
{
	if (class_id >= c->n_classes)
		return 0;
	return c->cls[class_id].live;
}

uint32_t
braid_rtx_capacity(const struct braid_rtx *c, uint16_t class_id)
{
	if (class_id >= c->n_classes || c->cls[class_id].ring == NULL)
		return 0;
	return c->cls[class_id].mask + 1;
}

int
braid_rtx_class_enable(struct braid_rtx *c, uint16_t class_id, bool on)
{
	struct rtx_class *cl;

	if (class_id >= c->n_classes)
		return -EINVAL;
	cl = &c->cls[class_id];
	if (cl->ring == NULL)
		return -ENOTSUP;
	if (cl->on == on)
		return 0;
	/* Off: drop every reference now, as reset() does; on: the class
	 * was released when switched off, so its next store starts a new
	 * stream. */
	if (!on)
		c->cnt.released_drain += rtx_release_class(cl);
	cl->on = on;
	RTX_LOG(DEBUG, "rtx %s: class %u caching %s", c->name, class_id,
		on ? "on" : "off");
	return 0;
}

bool
braid_rtx_class_enabled(const struct braid_rtx *c, uint16_t class_id)
{
	return class_id < c->n_classes && c->cls[class_id].on;
}

void
braid_rtx_stats(const struct braid_rtx *c, struct braid_rtx_stats *cnt)
{
	*cnt = c->cnt;
}

static void
rtx_stats_report(const struct braid_rtx *c, braid_stat_fn fn, void *arg)
{
	uint64_t cached = 0;

	BRAID_COUNTERS_REPORT(BRAID_RTX_COUNTERS, &c->cnt, fn, arg);
	for (uint16_t i = 0; i < c->n_classes; i++)
		cached += c->cls[i].live;
	fn(arg, "cached", NULL, cached);
}

static void
rtx_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		  struct braid_burst *out, uint64_t now_ns)
{
	braid_rtx_burst(ctx, pkts, n, out, now_ns);
}

static uint16_t
rtx_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_rtx_poll(ctx, out, now_ns);
}

static uint16_t
rtx_stage_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_rtx_drain(ctx, out, now_ns);
}

static void
rtx_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	rtx_stats_report(ctx, fn, arg);
}

int
braid_rtx_apply(struct braid_rtx *c, const struct braid_rtx_cmd *cmd)
{
	if (cmd->op != BRAID_RTX_CMD_CLASS_ENABLE)
		return -EINVAL;
	return braid_rtx_class_enable(c, cmd->class_id, cmd->enable);
}

static int
rtx_stage_apply(void *ctx, const void *cmd)
{
	return braid_rtx_apply(ctx, cmd);
}

const struct braid_stage_ops braid_rtx_stage_ops = {
	.kind = "rtx",
	.flags = 0,
	.cmd_size = sizeof(struct braid_rtx_cmd),
	.apply = rtx_stage_apply,
	.process = rtx_stage_process,
	.poll = rtx_stage_poll,
	.drain = rtx_stage_drain,
	.stats = rtx_stage_stats,
};
