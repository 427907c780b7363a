/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ARQ_PRIV_H
#define BRAID_ARQ_PRIV_H

/* Shared by the receiver and sender halves of lib/arq: the log type and
 * the byte token bucket both budgets use. */
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "braid_log.h"

extern int braid_arq_logtype;
#define ARQ_LOG(level, ...) BRAID_LOG(level, braid_arq_logtype, __VA_ARGS__)

#define ARQ_NS_PER_S 1000000000ULL

/*
 * Token bucket over bytes. Credit is kept in byte-nanoseconds (bytes x
 * 1e9) so refilling at rate bytes/s over dt ns is one multiplication,
 * exact, with no division on the fast path. burst <= 2^30 bytes and
 * rate <= 1e12 bytes/s keep every product below 2^64.
 */
struct arq_bucket {
	uint64_t rate;       /* bytes per second (0: no refill) */
	uint64_t burst_nb;   /* depth, byte-ns */
	uint64_t credit_nb;  /* current credit, byte-ns, <= burst_nb */
	uint64_t last_ns;    /* time of the last refill */
};

static inline void
arq_bucket_init(struct arq_bucket *b, uint64_t rate, uint32_t burst)
{
	b->rate = rate;
	b->burst_nb = (uint64_t)burst * ARQ_NS_PER_S;
	b->credit_nb = b->burst_nb;
	b->last_ns = 0;
}

static inline void
arq_bucket_refill(struct arq_bucket *b, uint64_t now_ns)
{
	uint64_t dt, room;

	if (now_ns <= b->last_ns)
		return;
	dt = now_ns - b->last_ns;
	b->last_ns = now_ns;
	if (b->rate == 0)
		return;
	room = b->burst_nb - b->credit_nb;
	if (dt > room / b->rate)
		b->credit_nb = b->burst_nb;
	else
		b->credit_nb += dt * b->rate;
}

/* Take @p bytes if the credit covers them (call refill first). */
static inline bool
arq_bucket_take(struct arq_bucket *b, uint64_t bytes)
{
	uint64_t need = bytes * ARQ_NS_PER_S;

	if (b->credit_nb < need)
		return false;
	b->credit_nb -= need;
	return true;
}

/* Credit covers @p bytes (call refill first). */
static inline bool
arq_bucket_has(const struct arq_bucket *b, uint64_t bytes)
{
	return b->credit_nb >= bytes * ARQ_NS_PER_S;
}

/* Give back @p bytes taken and not spent. */
static inline void
arq_bucket_give(struct arq_bucket *b, uint64_t bytes)
{
	uint64_t add = bytes * ARQ_NS_PER_S;

	b->credit_nb = add >= b->burst_nb - b->credit_nb ? b->burst_nb :
		b->credit_nb + add;
}

/* Change the rate; time since the last refill earns at the new rate. */
static inline void
arq_bucket_set_rate(struct arq_bucket *b, uint64_t rate)
{
	b->rate = rate;
}

/* Validate a name: 1..BRAID_ARQ_NAMESIZE characters. */
bool arq_name_ok(const char *name);

#endif /* BRAID_ARQ_PRIV_H */
