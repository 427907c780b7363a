/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reference versions of the scheduler's picks, written for clarity, not
 * speed: the class level as textbook DRR over an array of active classes
 * (front = whose turn it is) plus the capped priority class, and the link
 * DRR visiting one link at a time. Tests drive the real scheduler and these
 * with the same input and require the same picks.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_errno.h>

#include "braid_sched.h"
#include "sched_priv.h"

struct ref_class {
	uint32_t *len;        /* FIFO of packet lengths */
	uint32_t size;        /* queue bound */
	uint32_t first;       /* index of the oldest */
	uint32_t count;
	uint64_t quantum;
	uint64_t deficit;
	uint32_t seq;
};

struct braid_sched_ref {
	unsigned int n_classes;
	int prio;                          /* -1 if none */
	uint32_t mtu;
	struct ref_class cls[BRAID_SCHED_MAX_CLASSES];
	int order[BRAID_SCHED_MAX_CLASSES]; /* active DRR classes in turn order */
	unsigned int n_order;
	/* Priority cap: tokens in byte * 1e9 units, as the scheduler. */
	uint64_t cap_rate;                 /* bytes per second */
	uint64_t cap_depth;
	uint64_t cap_tokens;
	uint64_t cap_last_ns;
};

struct braid_sched_ref *
braid_sched_ref_create(const struct braid_sched_conf *conf)
{
	struct braid_sched_ref *r;
	uint32_t mtu, base;

	if (sched_conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	mtu = sched_conf_mtu(conf);
	base = conf->base_quantum != 0 ? conf->base_quantum : mtu;
	r->n_classes = conf->n_classes;
	r->mtu = mtu;
	r->prio = -1;
	for (unsigned int c = 0; c < conf->n_classes; c++) {
		const struct braid_sched_class_conf *cc = &conf->classes[c];
		struct ref_class *rc = &r->cls[c];

		rc->size = cc->queue_size != 0 ? cc->queue_size : 1024;
		rc->len = calloc(rc->size, sizeof(rc->len[0]));
		if (rc->len == NULL) {
			braid_sched_ref_free(r);
			rte_errno = ENOMEM;
			return NULL;
		}
		rc->quantum = (uint64_t)cc->weight * base;
		rc->seq = cc->seq_start;
		if (cc->priority) {
			r->prio = (int)c;
			r->cap_rate = cc->rate_cap_kbps * 125;
			r->cap_depth = sched_cap_depth(conf, cc) * SCHED_TB_SCALE;
			r->cap_tokens = r->cap_depth;
		}
	}
	return r;
}

void
braid_sched_ref_free(struct braid_sched_ref *r)
{
	if (r == NULL)
		return;
	for (unsigned int c = 0; c < r->n_classes; c++)
		free(r->cls[c].len);
	free(r);
}

int
braid_sched_ref_enqueue(struct braid_sched_ref *r, uint16_t cls, uint32_t len)
{
	struct ref_class *rc;

	if (cls >= r->n_classes || len > r->mtu)
		return -EINVAL;
	rc = &r->cls[cls];
	if (rc->count == rc->size)
		return -ENOBUFS;
	rc->len[(rc->first + rc->count) % rc->size] = len;
	rc->count++;
	if (rc->count == 1 && (int)cls != r->prio) {
		rc->deficit = rc->quantum;
		r->order[r->n_order++] = cls;
	}
	return 0;
}

static uint32_t
ref_pop(struct ref_class *rc)
{
	uint32_t len = rc->len[rc->first];

	rc->first = (rc->first + 1) % rc->size;
	rc->count--;
	return len;
}

/* Remove order[0]; with @p again, put it back at the end. */
static void
ref_rotate(struct braid_sched_ref *r, bool again)
{
	int c = r->order[0];

	for (unsigned int i = 1; i < r->n_order; i++)
		r->order[i - 1] = r->order[i];
	if (again)
		r->order[r->n_order - 1] = c;
	else
		r->n_order--;
}

int
braid_sched_ref_pick(struct braid_sched_ref *r, uint64_t now_ns, uint32_t *len,
		     uint32_t *seq)
{
	if (r->prio >= 0) {
		struct ref_class *pc = &r->cls[r->prio];
		unsigned __int128 t;

		if (now_ns > r->cap_last_ns) {
			t = (unsigned __int128)(now_ns - r->cap_last_ns) * r->cap_rate +
				r->cap_tokens;
			r->cap_tokens = t > r->cap_depth ? r->cap_depth : (uint64_t)t;
			r->cap_last_ns = now_ns;
		}
		if (pc->count > 0 &&
		    r->cap_tokens >= (uint64_t)pc->len[pc->first] * SCHED_TB_SCALE) {
			*len = ref_pop(pc);
			*seq = pc->seq++;
			r->cap_tokens -= (uint64_t)*len * SCHED_TB_SCALE;
			return r->prio;
		}
	}
	while (r->n_order > 0) {
		int c = r->order[0];
		struct ref_class *rc = &r->cls[c];

		if (rc->deficit >= rc->len[rc->first]) {
			*len = ref_pop(rc);
			*seq = rc->seq++;
			rc->deficit -= *len;
			if (rc->count == 0) {
				rc->deficit = 0;
				ref_rotate(r, false);
			}
			return c;
		}
		rc->deficit += rc->quantum;
		ref_rotate(r, true);
	}
	return -1;
}

int
sched_ref_link_drr_pick(struct sched_link_drr *d, uint32_t elig, uint64_t charge)
{
	if (elig == 0)
		return -1;
	for (;;) {
		unsigned int i = d->cur;

		if ((elig >> i) & 1) {
			if (d->deficit[i] >= charge) {
				d->deficit[i] -= charge;
				return (int)i;
			}
			d->deficit[i] += d->quantum[i];
		}
		d->cur = (i + 1) % d->n;
	}
}
