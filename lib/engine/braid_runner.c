/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage runner: places stages on lcores, joins the places where a chain
 * crosses lcores with SP/SC rings, runs the per-lcore loops with an idle
 * back-off, and drains everything in pipeline order at shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "braid_clock.h"
#include "braid_log.h"
#include "braid_runner.h"

RTE_LOG_REGISTER(braid_runner_logtype, braid.runner, INFO);
#define RUNNER_LOG(level, ...) BRAID_LOG(level, braid_runner_logtype, __VA_ARGS__)

/* Drain calls per stage at shutdown before we call it stuck. */
#define DRAIN_MAX_CALLS (1u << 20)

/* Consecutive stages of one chain on one lcore. */
struct runner_seg {
	unsigned int first;        /* index in conf.stages of the first stage */
	unsigned int n;            /* stages in the segment */
	unsigned int stage_idx[BRAID_MAX_STAGES];
	struct rte_ring *in;       /* NULL at the start of a chain */
	struct rte_ring *out;      /* NULL at the end of a chain */
};

struct runner_stage_cnt {
	uint64_t pkts_in;
	uint64_t pkts_out;
	uint64_t drop_ring_full;
	uint64_t drop_unrouted;
	uint64_t cmds_applied;
	uint64_t cmds_failed;
	uint64_t cmds_dropped;     /* atomic: written by senders */
} __rte_cache_aligned;

/* A command as it sits in a control ring: its bytes, 4-byte aligned
 * (rte_ring_elem's element unit), in an 8-byte aligned buffer. */
union runner_cmd_buf {
	uint64_t align;
	uint8_t bytes[BRAID_CMD_MAX_SIZE];
};

struct runner_lcore {
	struct braid_runner_lcore_stats cnt;
	unsigned int n_segs;
	unsigned int seg[BRAID_MAX_STAGES];
	bool used;
	bool launched;
	struct braid_burst *buf[2];
} __rte_cache_aligned;

struct braid_runner {
	struct braid_runner_conf conf;
	int socket;
	uint32_t stop;                              /* atomic */
	unsigned int n_segs;
	struct runner_seg segs[BRAID_MAX_STAGES];
	struct rte_ring *in_ring[BRAID_MAX_STAGES]; /* stage's input ring */
	struct rte_ring *cmd_ring[BRAID_MAX_STAGES]; /* stage's control ring */
	unsigned int cmd_esize[BRAID_MAX_STAGES];    /* its element size */
	pthread_mutex_t batch_lock;                  /* send_all callers */
	/* Shutdown's bursts, made at create: one per chain position for
	 * what a stage passes on, one for what a stage's drain() returns. */
	struct braid_burst *drain_buf[BRAID_MAX_STAGES + 1];
	struct runner_stage_cnt cnt[BRAID_MAX_STAGES];
	struct runner_lcore lc[RTE_MAX_LCORE];
};

/* Stage indices of @chain in order. */
static unsigned int
chain_stages(const struct braid_runner_conf *c, unsigned int chain,
	     unsigned int *idx)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n_stages; i++)
		if (c->stages[i].chain == chain)
			idx[n++] = i;
	return n;
}

static int
check_conf(const struct braid_runner_conf *c)
{
	if (c->n_stages == 0 || c->n_stages > BRAID_MAX_STAGES) {
		RUNNER_LOG(ERR, "runner: %u stages (1..%u)", c->n_stages,
			   BRAID_MAX_STAGES);
		return -EINVAL;
	}
	if (c->cmd_ring_size != 0 && (!rte_is_power_of_2(c->cmd_ring_size) ||
				      c->cmd_ring_size < 2 * BRAID_CMD_BATCH_MAX)) {
		RUNNER_LOG(ERR, "runner: cmd_ring_size %u must be a power of two >= %u",
			   c->cmd_ring_size, 2 * BRAID_CMD_BATCH_MAX);
		return -EINVAL;
	}
	if (!rte_is_power_of_2(c->ring_size) || c->ring_size < 2 * BRAID_BURST) {
		RUNNER_LOG(ERR, "runner: ring_size %u must be a power of two >= %u",
			   c->ring_size, 2 * BRAID_BURST);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < c->n_stages; i++) {
		const struct braid_runner_stage *s = &c->stages[i];

		if (s->stage.ops == NULL || s->stage.name[0] == '\0') {
			RUNNER_LOG(ERR, "runner: stage %u has no ops or name", i);
			return -EINVAL;
		}
		if (s->chain >= BRAID_MAX_CHAINS) {
			RUNNER_LOG(ERR, "runner: stage %s: chain %u >= %u",
				   s->stage.name, s->chain, BRAID_MAX_CHAINS);
			return -EINVAL;
		}
		if (s->lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(s->lcore)) {
			RUNNER_LOG(ERR, "runner: stage %s: lcore %u is not enabled in EAL (-l)",
				   s->stage.name, s->lcore);
			return -EINVAL;
		}
		if ((s->stage.ops->apply != NULL) != (s->stage.ops->cmd_size != 0) ||
		    s->stage.ops->cmd_size > BRAID_CMD_MAX_SIZE) {
			RUNNER_LOG(ERR, "runner: stage %s: apply and cmd_size (1..%u) go together",
				   s->stage.name, BRAID_CMD_MAX_SIZE);
			return -EINVAL;
		}
		if (s->stage.ops->process == NULL && s->stage.ops->poll == NULL) {
			RUNNER_LOG(ERR, "runner: stage %s does nothing", s->stage.name);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(c->stages[j].stage.name, s->stage.name) == 0) {
				RUNNER_LOG(ERR, "runner: duplicate stage name %s",
					   s->stage.name);
				return -EINVAL;
			}
	}
	return 0;
}

static int
add_ring(struct braid_runner *r, unsigned int stage)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *ring;

	snprintf(name, sizeof(name), "br_%p_%u", (void *)r, stage);
	ring = rte_ring_create(name, r->conf.ring_size, r->socket,
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ring == NULL)
		return -rte_errno;
	r->in_ring[stage] = ring;
	return 0;
}

/* A control ring for every stage that takes commands. */
static int
add_cmd_rings(struct braid_runner *r)
{
	unsigned int size = r->conf.cmd_ring_size != 0 ? r->conf.cmd_ring_size :
			    BRAID_CMD_RING_DEFAULT;

	for (unsigned int i = 0; i < r->conf.n_stages; i++) {
		const struct braid_stage_ops *ops = r->conf.stages[i].stage.ops;
		char name[RTE_RING_NAMESIZE];

		if (ops->apply == NULL)
			continue;
		r->cmd_esize[i] = RTE_ALIGN_CEIL(ops->cmd_size, 4u);
		snprintf(name, sizeof(name), "bc_%p_%u", (void *)r, i);
		/* Exact size: the capacity is what the batch room is kept of. */
		r->cmd_ring[i] = rte_ring_create_elem(name, r->cmd_esize[i], size,
						      r->socket, RING_F_SC_DEQ |
						      RING_F_EXACT_SZ);
		if (r->cmd_ring[i] == NULL)
			return -rte_errno;
	}
	return 0;
}

/* Cut each chain into segments at lcore changes, with a ring at each cut. */
static int
build_segments(struct braid_runner *r)
{
	const struct braid_runner_conf *c = &r->conf;
	unsigned int idx[BRAID_MAX_STAGES];

	for (unsigned int chain = 0; chain < BRAID_MAX_CHAINS; chain++) {
		unsigned int n = chain_stages(c, chain, idx);
		struct runner_seg *seg = NULL;

		for (unsigned int k = 0; k < n; k++) {
			unsigned int lcore = c->stages[idx[k]].lcore;
			int ret;

			if (seg == NULL || c->stages[seg->first].lcore != lcore) {
				if (seg != NULL) {
					ret = add_ring(r, idx[k]);
					if (ret < 0)
						return ret;
					seg->out = r->in_ring[idx[k]];
				}
				seg = &r->segs[r->n_segs];
				memset(seg, 0, sizeof(*seg));
				seg->first = idx[k];
				seg->in = r->in_ring[idx[k]];
				r->lc[lcore].seg[r->lc[lcore].n_segs++] = r->n_segs;
				r->lc[lcore].used = true;
				r->n_segs++;
			}
			seg->stage_idx[seg->n++] = idx[k];
		}
	}
	return 0;
}

struct braid_runner *
braid_runner_create(const struct braid_runner_conf *conf, int socket)
{
	struct braid_runner *r;
	int ret;

	if (conf == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	ret = check_conf(conf);
	if (ret < 0) {
		rte_errno = -ret;
		return NULL;
	}
	r = rte_zmalloc_socket("braid_runner", sizeof(*r), RTE_CACHE_LINE_SIZE,
			       socket);
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	r->conf = *conf;
	r->socket = socket;
	pthread_mutex_init(&r->batch_lock, NULL);
	ret = build_segments(r);
	if (ret == 0)
		ret = add_cmd_rings(r);
	for (unsigned int i = 0; ret == 0 && i < RTE_DIM(r->drain_buf); i++) {
		r->drain_buf[i] = rte_malloc_socket("braid_drain", sizeof(struct braid_burst),
						    RTE_CACHE_LINE_SIZE, socket);
		if (r->drain_buf[i] == NULL)
			ret = -ENOMEM;
	}
	for (unsigned int l = 0; ret == 0 && l < RTE_MAX_LCORE; l++) {
		if (!r->lc[l].used)
			continue;
		for (int b = 0; b < 2; b++) {
			r->lc[l].buf[b] = rte_zmalloc_socket("braid_burst",
				sizeof(struct braid_burst), RTE_CACHE_LINE_SIZE,
				socket);
			if (r->lc[l].buf[b] == NULL)
				ret = -ENOMEM;
		}
	}
	if (ret < 0) {
		braid_runner_free(r);
		rte_errno = -ret;
		return NULL;
	}
	return r;
}

void
braid_runner_free(struct braid_runner *r)
{
	if (r == NULL)
		return;
	for (unsigned int i = 0; i < BRAID_MAX_STAGES; i++) {
		rte_ring_free(r->in_ring[i]);
		rte_ring_free(r->cmd_ring[i]);
	}
	for (unsigned int i = 0; i < RTE_DIM(r->drain_buf); i++)
		rte_free(r->drain_buf[i]);
	pthread_mutex_destroy(&r->batch_lock);
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		rte_free(r->lc[l].buf[0]);
		rte_free(r->lc[l].buf[1]);
	}
	rte_free(r);
}

void
braid_runner_stop(struct braid_runner *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
}

bool
braid_runner_stopping(const struct braid_runner *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) != 0;
}

/* Free what cannot go further and count it on @stage. */
static void
drop_rest(struct rte_mbuf **pkts, unsigned int n, uint64_t *counter)
{
	if (n == 0)
		return;
	rte_pktmbuf_free_bulk(pkts, n);
	*counter += n;
}

/* Apply the commands queued for stage @si, on its lcore. */
static unsigned int
apply_cmds(struct braid_runner *r, unsigned int si, const struct braid_stage *st)
{
	struct rte_ring *ring = r->cmd_ring[si];
	struct runner_stage_cnt *cnt = &r->cnt[si];
	union runner_cmd_buf cmd;
	unsigned int n = 0;

	while (rte_ring_sc_dequeue_elem(ring, &cmd, r->cmd_esize[si]) == 0) {
		if (st->ops->apply(st->ctx, &cmd) == 0)
			cnt->cmds_applied++;
		else
			cnt->cmds_failed++;
		n++;
	}
	return n;
}

/* One pass over a segment. @return packets moved (0 = idle). */
static unsigned int
run_segment(struct braid_runner *r, const struct runner_seg *seg,
	    struct braid_burst **buf, uint64_t now)
{
	struct braid_burst *cur = buf[0], *out = buf[1], *tmp;
	unsigned int work = 0;
	unsigned int last = seg->stage_idx[seg->n - 1];

	cur->n = 0;
	if (seg->in != NULL) {
		cur->n = (uint16_t)rte_ring_sc_dequeue_burst(seg->in,
				(void **)cur->pkts, BRAID_BURST, NULL);
		work += cur->n;
	}
	for (unsigned int k = 0; k < seg->n; k++) {
		unsigned int si = seg->stage_idx[k];
		const struct braid_stage *st = &r->conf.stages[si].stage;
		struct runner_stage_cnt *cnt = &r->cnt[si];

		out->n = 0;
		if (unlikely(r->cmd_ring[si] != NULL && !rte_ring_empty(r->cmd_ring[si])))
			work += apply_cmds(r, si, st);
		if (cur->n > 0) {
			cnt->pkts_in += cur->n;
			if (likely(st->ops->process != NULL))
				st->ops->process(st->ctx, cur->pkts, cur->n, out, now);
			else
				drop_rest(cur->pkts, cur->n, &cnt->drop_unrouted);
		}
		if (st->ops->poll != NULL)
			work += st->ops->poll(st->ctx, out, now);
		cnt->pkts_out += out->n;
		tmp = cur;
		cur = out;
		out = tmp;
	}
	if (cur->n == 0)
		return work;
	if (seg->out != NULL) {
		unsigned int sent = rte_ring_sp_enqueue_burst(seg->out,
				(void **)cur->pkts, cur->n, NULL);

		drop_rest(cur->pkts + sent, cur->n - sent,
			  &r->cnt[last].drop_ring_full);
	} else {
		drop_rest(cur->pkts, cur->n, &r->cnt[last].drop_unrouted);
	}
	return work;
}

/* Sleep after idle_polls empty loops, doubling up to the maximum. */
static void
idle_backoff(const struct braid_runner_conf *c, struct runner_lcore *lc,
	     unsigned int work, unsigned int *idle, unsigned int *sleep_us)
{
	if (work != 0) {
		*idle = 0;
		*sleep_us = 0;
		lc->cnt.busy_loops++;
		return;
	}
	if (c->idle_sleep_max_us == 0 || ++*idle < c->idle_polls)
		return;
	*sleep_us = *sleep_us == 0 ? 1 : RTE_MIN(*sleep_us * 2,
						    c->idle_sleep_max_us);
	rte_delay_us_sleep(*sleep_us);
	lc->cnt.idle_sleeps++;
	lc->cnt.idle_sleep_us += *sleep_us;
}

/* A loop that started later than its planned sleep explains: the lcore's
 * thread was preempted, or one stage call took that long. Both hold every
 * packet on the lcore back, so they are counted. */
static void
note_gap(struct runner_lcore *lc, uint64_t gap_ns, unsigned int slept_us)
{
	uint64_t planned = (uint64_t)slept_us * 1000;
	uint64_t late_us = gap_ns > planned ? (gap_ns - planned) / 1000 : 0;

	if (late_us > lc->cnt.loop_late_max_us)
		lc->cnt.loop_late_max_us = late_us;
	if (late_us >= BRAID_LOOP_STALL_US)
		lc->cnt.stalls++;
}

static int
lcore_loop(struct braid_runner *r, unsigned int lcore, bool main_lcore)
{
	struct runner_lcore *lc = &r->lc[lcore];
	const struct braid_runner_conf *c = &r->conf;
	uint64_t hook_period = (uint64_t)c->hook_period_us * 1000;
	uint64_t next_hook = 0;
	unsigned int idle = 0, sleep_us = 0;

	if (main_lcore && c->main_hook != NULL && hook_period == 0)
		hook_period = 1000000;
	uint64_t prev = braid_now_ns();
	while (!braid_runner_stopping(r)) {
		uint64_t now = braid_now_ns();
		unsigned int work = 0;

		note_gap(lc, now - prev, sleep_us);
		prev = now;

		for (unsigned int s = 0; s < lc->n_segs; s++)
			work += run_segment(r, &r->segs[lc->seg[s]], lc->buf, now);
		lc->cnt.loops++;
		if (main_lcore && c->main_hook != NULL && now >= next_hook) {
			c->main_hook(c->main_hook_arg, now);
			next_hook = now + hook_period;
		}
		if (lc->n_segs == 0) {
			/* A main lcore with no stages: wake for the hook only. */
			rte_delay_us_sleep(RTE_MAX(1u, RTE_MIN(c->hook_period_us, 10000u)));
			continue;
		}
		idle_backoff(c, lc, work, &idle, &sleep_us);
	}
	return 0;
}

static int
worker_main(void *arg)
{
	struct braid_runner *r = arg;

	return lcore_loop(r, rte_lcore_id(), false);
}

int
braid_runner_start(struct braid_runner *r)
{
	unsigned int main_lcore = rte_get_main_lcore();

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		int ret;

		if (!r->lc[l].used || l == main_lcore)
			continue;
		ret = rte_eal_remote_launch(worker_main, r, l);
		if (ret < 0) {
			RUNNER_LOG(ERR, "runner: cannot launch lcore %u: %s", l,
				   strerror(-ret));
			braid_runner_stop(r);
			return ret;
		}
		r->lc[l].launched = true;
	}
	return 0;
}

unsigned int
braid_runner_step(struct braid_runner *r, uint64_t now_ns)
{
	unsigned int work = 0;

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct runner_lcore *lc = &r->lc[l];

		for (unsigned int s = 0; s < lc->n_segs; s++)
			work += run_segment(r, &r->segs[lc->seg[s]], lc->buf, now_ns);
		if (lc->n_segs > 0)
			lc->cnt.loops++;
	}
	return work;
}

int
braid_runner_run_main(struct braid_runner *r)
{
	return lcore_loop(r, rte_get_main_lcore(), true);
}

/* Push @n packets into chain position @pos and everything after it. */
static void
drain_push(struct braid_runner *r, const unsigned int *chain, unsigned int len,
	   unsigned int pos, struct rte_mbuf **pkts, unsigned int n, uint64_t now)
{
	struct braid_burst *out;

	if (pos >= len) {
		drop_rest(pkts, n, &r->cnt[chain[len - 1]].drop_unrouted);
		return;
	}
	out = r->drain_buf[pos];
	for (unsigned int off = 0; off < n; off += BRAID_BURST) {
		const struct braid_stage *st = &r->conf.stages[chain[pos]].stage;
		uint16_t chunk = (uint16_t)RTE_MIN(n - off, (unsigned int)BRAID_BURST);

		out->n = 0;
		r->cnt[chain[pos]].pkts_in += chunk;
		if (st->ops->process == NULL) {
			drop_rest(pkts + off, chunk, &r->cnt[chain[pos]].drop_unrouted);
			continue;
		}
		st->ops->process(st->ctx, pkts + off, chunk, out, now);
		r->cnt[chain[pos]].pkts_out += out->n;
		drain_push(r, chain, len, pos + 1, out->pkts, out->n, now);
	}
}

static void
drain_chain(struct braid_runner *r, const unsigned int *chain, unsigned int len)
{
	struct rte_mbuf *pkts[BRAID_BURST];
	struct braid_burst *out = r->drain_buf[BRAID_MAX_STAGES];

	for (unsigned int pos = 0; pos < len; pos++) {
		unsigned int si = chain[pos];
		const struct braid_stage *st = &r->conf.stages[si].stage;
		unsigned int n, calls = 0;
		uint64_t now = braid_now_ns();

		while (r->in_ring[si] != NULL &&
		       (n = rte_ring_sc_dequeue_burst(r->in_ring[si],
				(void **)pkts, BRAID_BURST, NULL)) > 0)
			drain_push(r, chain, len, pos, pkts, n, now);
		if (st->ops->drain == NULL)
			continue;
		for (;;) {
			uint16_t k;

			out->n = 0;
			k = st->ops->drain(st->ctx, out, now);
			r->cnt[si].pkts_out += out->n;
			drain_push(r, chain, len, pos + 1, out->pkts, out->n, now);
			if (k == 0 && out->n == 0)
				break;
			if (++calls == DRAIN_MAX_CALLS) {
				RUNNER_LOG(ERR, "runner: stage %s keeps draining; giving up",
					   st->name);
				break;
			}
		}
	}
}

int
braid_runner_shutdown(struct braid_runner *r)
{
	unsigned int idx[BRAID_MAX_STAGES];
	int ret = 0;

	braid_runner_stop(r);
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		if (!r->lc[l].launched)
			continue;
		if (rte_eal_wait_lcore(l) < 0)
			ret = -EIO;
		r->lc[l].launched = false;
	}
	/* Workers are stopped: the stages are ours now. */
	for (unsigned int chain = 0; chain < BRAID_MAX_CHAINS; chain++) {
		unsigned int n = chain_stages(&r->conf, chain, idx);

		if (n > 0)
			drain_chain(r, idx, n);
	}
	return ret;
}

static int
cmd_ring_of(const struct braid_runner *r, unsigned int stage)
{
	if (stage >= r->conf.n_stages || r->cmd_ring[stage] == NULL)
		return -EINVAL;
	return 0;
}

/* @p cmd copied into a zeroed element (the stage's cmd_size bytes). */
static void
cmd_copy(const struct braid_runner *r, unsigned int stage, const void *cmd,
	 union runner_cmd_buf *buf)
{
	memset(buf, 0, sizeof(*buf));
	memcpy(buf->bytes, cmd, r->conf.stages[stage].stage.ops->cmd_size);
}

int
braid_runner_cmd_send(struct braid_runner *r, unsigned int stage, const void *cmd)
{
	union runner_cmd_buf buf;
	struct rte_ring *ring;

	if (cmd_ring_of(r, stage) != 0 || cmd == NULL)
		return -EINVAL;
	ring = r->cmd_ring[stage];
	cmd_copy(r, stage, cmd, &buf);
	/* Keep the batch room: senders racing here may take a few of its
	 * places (one each), never the BRAID_CMD_BATCH_MAX a batch needs
	 * with cmd_ring_size >= 2 x that. */
	if (rte_ring_free_count(ring) <= BRAID_CMD_BATCH_MAX ||
	    rte_ring_mp_enqueue_elem(ring, &buf, r->cmd_esize[stage]) != 0) {
		__atomic_fetch_add(&r->cnt[stage].cmds_dropped, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return 0;
}

int
braid_runner_cmd_send_all(struct braid_runner *r, const struct braid_cmd_ref *cmds,
			  unsigned int n)
{
	unsigned int per_stage[BRAID_MAX_STAGES] = { 0 };
	union runner_cmd_buf buf;
	int ret = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (cmd_ring_of(r, cmds[i].stage) != 0 || cmds[i].cmd == NULL ||
		    ++per_stage[cmds[i].stage] > BRAID_CMD_BATCH_MAX)
			return -EINVAL;
	}
	pthread_mutex_lock(&r->batch_lock);
	/* Batches are serialised and single sends leave the batch room, so
	 * room seen here stays there. */
	for (unsigned int s = 0; s < r->conf.n_stages; s++) {
		if (per_stage[s] == 0 ||
		    per_stage[s] <= rte_ring_free_count(r->cmd_ring[s]))
			continue;
		__atomic_fetch_add(&r->cnt[s].cmds_dropped, per_stage[s],
				   __ATOMIC_RELAXED);
		ret = -ENOBUFS;
	}
	for (unsigned int i = 0; ret == 0 && i < n; i++) {
		unsigned int s = cmds[i].stage;

		cmd_copy(r, s, cmds[i].cmd, &buf);
		if (rte_ring_mp_enqueue_elem(r->cmd_ring[s], &buf, r->cmd_esize[s]) != 0) {
			/* Only if more single senders than the batch room's
			 * spare places raced it; counted if it does. */
			__atomic_fetch_add(&r->cnt[s].cmds_dropped, 1, __ATOMIC_RELAXED);
			RUNNER_LOG(ERR, "runner: stage %s: control ring full inside a batch",
				   r->conf.stages[s].stage.name);
		}
	}
	pthread_mutex_unlock(&r->batch_lock);
	return ret;
}

int
braid_runner_stage_find(const struct braid_runner *r, const char *name)
{
	for (unsigned int i = 0; i < r->conf.n_stages; i++)
		if (strcmp(r->conf.stages[i].stage.name, name) == 0)
			return (int)i;
	return -ENOENT;
}

unsigned int
braid_runner_stage_count(const struct braid_runner *r)
{
	return r->conf.n_stages;
}

const struct braid_runner_stage *
braid_runner_stage_get(const struct braid_runner *r, unsigned int idx)
{
	return idx < r->conf.n_stages ? &r->conf.stages[idx] : NULL;
}

int
braid_runner_stage_stats(const struct braid_runner *r, unsigned int idx,
			 struct braid_runner_stage_stats *st)
{
	const struct runner_stage_cnt *c;

	if (idx >= r->conf.n_stages)
		return -ENOENT;
	c = &r->cnt[idx];
	st->pkts_in = c->pkts_in;
	st->pkts_out = c->pkts_out;
	st->drop_ring_full = c->drop_ring_full;
	st->drop_unrouted = c->drop_unrouted;
	st->cmds_applied = c->cmds_applied;
	st->cmds_failed = c->cmds_failed;
	st->cmds_dropped = __atomic_load_n(&c->cmds_dropped, __ATOMIC_RELAXED);
	st->ring_count = r->in_ring[idx] != NULL ? rte_ring_count(r->in_ring[idx]) : 0;
	st->ring_size = r->in_ring[idx] != NULL ? rte_ring_get_capacity(r->in_ring[idx]) : 0;
	return 0;
}

int
braid_runner_lcore_stats(const struct braid_runner *r, unsigned int lcore,
			 struct braid_runner_lcore_stats *st)
{
	if (lcore >= RTE_MAX_LCORE || !r->lc[lcore].used)
		return -ENOENT;
	*st = r->lc[lcore].cnt;
	return 0;
}
