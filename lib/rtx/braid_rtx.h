/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_RTX_H
#define BRAID_RTX_H

/**
 * @file
 * Retransmit cache (sender pipeline stage 5, kind "rtx").
 *
 * For every class with ARQ the stage keeps a reference (refcount, no copy)
 * to each data packet it passes on, keyed by the class's 32-bit sequence
 * number, so NACKs from the peer can be served from it. Per class the cache
 * is a power-of-two ring of slots indexed by seq & mask (O(1) store and
 * lookup). It answers for the last ring-size seqs up to the newest stored
 * one (the packet window). An entry leaves the cache:
 *  - by age: poll() walks the ring oldest seq first and releases entries
 *    stored window_ms or more ago (bounded work per call);
 *  - by the packet window: storing seq s releases whatever older seq still
 *    holds slot s & mask ("overwrite"); entries passed by the window after
 *    a seq jump are released when the walk reaches their slot;
 *  - at drain(), reset() or free().
 * All sequence comparisons are serial (RFC 1982 style, 2^32 wrap).
 *
 * Threading: a cache belongs to the lcore that runs its stage. Lookups and
 * serve calls must run on that lcore (they read slots the stage releases);
 * NACKs are served with braid_rtx_serve() on that lcore. See doc/arq.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct braid_rtx;

/** Largest number of traffic classes (matches classify). */
#define BRAID_RTX_MAX_CLASSES 64
/** Largest ring of one class (2^24 slots, 384 MiB of slots). */
#define BRAID_RTX_MAX_PACKETS (1u << 24)
/** Longest age window. */
#define BRAID_RTX_MAX_WINDOW_MS 600000u
/** Slots the age walk examines per poll() when the conf gives 0. */
#define BRAID_RTX_DEFAULT_BUDGET 256u
/** Longest instance name, without the terminating NUL. */
#define BRAID_RTX_NAMESIZE 23

/** rte_errno after a failed braid_rtx_lookup()/braid_rtx_serve(): */
#define BRAID_RTX_MISS_EXPIRED     ETIMEDOUT /**< stored, then aged out */
#define BRAID_RTX_MISS_NEVER_STORED ENOENT   /**< not (yet) stored */
/** older than the packet window (ring size seqs behind the newest stored
 * one): its slot belongs to a newer seq */
#define BRAID_RTX_MISS_OVERWRITTEN ESTALE
/* EINVAL: the class does not exist, has no ARQ or has it switched off
 * (braid_rtx_class_enable); ENOMEM (serve only): no mbuf for the clone. */

/** Per-class cache parameters. */
struct braid_rtx_class_conf {
	/** Age window in ms: entries older are released. 0 = class without
	 * ARQ (nothing cached). */
	uint32_t window_ms;
	/** Packet window: the ring has the next power of two >= max_packets
	 * slots (1..BRAID_RTX_MAX_PACKETS). Ignored if window_ms is 0. */
	uint32_t max_packets;
};

/** Configuration of one rtx instance. */
struct braid_rtx_conf {
	/** Unique name (<= BRAID_RTX_NAMESIZE chars), names allocations. */
	const char *name;
	uint16_t n_classes;   /**< 1..BRAID_RTX_MAX_CLASSES */
	/** n_classes entries, indexed by class_id; copied. */
	const struct braid_rtx_class_conf *classes;
	/** Pool for the retransmission clones (rte_pktmbuf_clone); may be
	 * NULL when no retransmission is ever served (lookups only). */
	struct rte_mempool *clone_pool;
	/** Ring slots the age walk examines per poll(), summed over classes
	 * (0 = BRAID_RTX_DEFAULT_BUDGET). */
	uint32_t expire_budget;
	/** Tail-loss probe: when an ARQ class has sent nothing new for this
	 * long, poll() retransmits its newest packet once, and again after
	 * twice as long (a receiver learns of a gap only from a later
	 * packet, so a lost tail would go unnoticed). 0 = off. */
	uint64_t tail_probe_ns;
};

/** The stage's counters, in the order they are reported. */
#define BRAID_RTX_COUNTERS(X)                                               \
	X(pkts_in)            /* handed to process() */                   \
	X(stored)             /* data packets cached */                   \
	X(not_cached)         /* passed on uncached: no ARQ, parity, dup, retx, bad class */ \
	X(skipped_too_old)    /* ARQ data older than the packet window: passed, not cached */ \
	X(expired)            /* entries released by age */               \
	X(evicted_overwrite)  /* entries released by the packet window */ \
	X(released_drain)     /* entries released by drain()/reset()/free() */    \
	X(lookup_hit)         /* braid_rtx_lookup() found the packet */   \
	X(served)             /* retransmission clones produced */        \
	X(missed)             /* lookups/serves that found nothing (sum below) */ \
	X(miss_expired)                                                   \
	X(miss_never_stored)                                              \
	X(miss_overwritten)                                               \
	X(miss_bad_class)     /* class out of range or without ARQ */     \
	X(serve_nomem)        /* clone failed: pool empty */              \
	X(drop_out_full)      /* output burst full: packet freed */       \
	X(tail_probes)        /* newest packets resent after an idle time */

/** Counter snapshot. */
struct braid_rtx_stats {
	BRAID_COUNTERS_FIELDS(BRAID_RTX_COUNTERS)
};

/**
 * Validate @p conf and allocate the cache (one ring per ARQ class).
 * @param conf  copied; need not outlive the call.
 * @param socket NUMA socket, or SOCKET_ID_ANY.
 * @return the instance, or NULL with rte_errno: EINVAL (bad conf, logged),
 *   ENOMEM.
 */
struct braid_rtx *braid_rtx_create(const struct braid_rtx_conf *conf, int socket);

/** Release every cached reference and free @p c. NULL is a no-op. */
void braid_rtx_free(struct braid_rtx *c);

/**
 * The stage's burst function: cache data packets of ARQ classes (not
 * F_PARITY, F_DUP or F_RETX; one reference each) and push every packet to
 * @p out in order. Never allocates.
 */
void braid_rtx_burst(struct braid_rtx *c, struct rte_mbuf **pkts, uint16_t n,
		     struct braid_burst *out, uint64_t now_ns);

/**
 * Age eviction (oldest seq first, at most expire_budget slots examined),
 * then the tail-loss probes due (tail_probe_ns) into @p out.
 * @return entries released plus retransmissions pushed (0 = idle).
 */
uint16_t braid_rtx_poll(struct braid_rtx *c, struct braid_burst *out, uint64_t now_ns);

/**
 * Release every cached reference (shutdown).
 * Pushes nothing. @return 0.
 */
uint16_t braid_rtx_drain(struct braid_rtx *c, struct braid_burst *out, uint64_t now_ns);

/**
 * Find the cached packet of (@p class_id, @p seq). The stage's lcore only.
 * The cache answers for the last ring-size seqs up to the newest stored
 * one; an entry stored window_ms or more before @p now_ns counts as
 * expired even if poll() has not released it yet.
 * @return the cached mbuf (refcount untouched: the caller must not free
 *   it; clone or reference it to send it), or NULL with rte_errno
 *   BRAID_RTX_MISS_* or EINVAL. Counts lookup_hit or missed.
 */
struct rte_mbuf *braid_rtx_lookup(struct braid_rtx *c, uint16_t class_id,
				  uint32_t seq, uint64_t now_ns);

/**
 * Retransmission of (@p class_id, @p seq): an rte_pktmbuf_clone of the
 * cached packet (from clone_pool) whose meta is the original's (class,
 * seq, block) with F_RETX set and link_id = @p link_id, ready for encap.
 * The stage's lcore only. The caller owns the clone.
 * @return the clone, or NULL with rte_errno as braid_rtx_lookup(), or
 *   ENOMEM (counted serve_nomem). Counts served or missed.
 */
struct rte_mbuf *braid_rtx_serve(struct braid_rtx *c, uint16_t class_id,
				 uint32_t seq, uint16_t link_id, uint64_t now_ns);

/** braid_rtx_reset() argument: every class. */
#define BRAID_RTX_ALL_CLASSES UINT16_MAX

/**
 * Release the cached entries of @p class_id (or BRAID_RTX_ALL_CLASSES) and
 * forget its stream, so the next stored seq starts a new one. Use when the
 * class's sequence restarts (class re-created, session change). The
 * stage's lcore, or while the stage is stopped. Counted released_drain.
 * @return 0 or -EINVAL (no such class).
 */
int braid_rtx_reset(struct braid_rtx *c, uint16_t class_id);

/** Entries of @p class_id now cached (0 for a class without ARQ). */
uint32_t braid_rtx_cached(const struct braid_rtx *c, uint16_t class_id);

/** Ring slots of @p class_id (the packet window), 0 without ARQ. The
 * configured size: a class switched off by braid_rtx_class_enable() keeps
 * it (the ARQ sender sizes its state from it). */
uint32_t braid_rtx_capacity(const struct braid_rtx *c, uint16_t class_id);

/**
 * Switch caching of @p class_id on or off while the stage runs. The
 * stage's lcore, or while the stage is stopped (like reset()).
 *
 * Off: the class is handled from now on like one configured without ARQ:
 * process() passes its packets on uncached (not_cached), every reference
 * it holds is released at once (released_drain, as reset() does), poll()
 * sends no tail-loss probe for it, and lookups and serves for it fail
 * with EINVAL (miss_bad_class). Its ring stays
 * allocated. On: caching resumes with the next packet, as a new stream
 * (empty window). Switching to the current state is a no-op. After
 * create every class with a cache is on.
 * @return 0, -EINVAL (no such class) or -ENOTSUP (class created without
 *   a cache: window_ms 0).
 */
int braid_rtx_class_enable(struct braid_rtx *c, uint16_t class_id, bool on);

/** Caching of @p class_id is on (false for a class without ARQ or out of
 * range). */
bool braid_rtx_class_enabled(const struct braid_rtx *c, uint16_t class_id);

/** What a struct braid_rtx_cmd changes. */
enum braid_rtx_cmd_op {
	BRAID_RTX_CMD_CLASS_ENABLE = 1,   /**< caching of a class on/off */
};

/** A live change for the cache's lcore (control channel element). */
struct braid_rtx_cmd {
	uint16_t op;          /**< enum braid_rtx_cmd_op */
	uint16_t class_id;
	bool enable;
};

/** Apply @p cmd (braid_rtx_class_enable()). @return its result, or
 * -EINVAL for an unknown op. */
int braid_rtx_apply(struct braid_rtx *c, const struct braid_rtx_cmd *cmd);

/** Copy the counters to @p cnt (never clears). */
void braid_rtx_stats(const struct braid_rtx *c, struct braid_rtx_stats *cnt);

/** Stage ops, kind "rtx", on a struct braid_rtx context: process, poll
 * (expiry + tail-loss probes), drain, apply (braid_rtx_apply()), stats
 * (every counter in BRAID_RTX_COUNTERS order, then "cached": entries held
 * now, all classes). */
extern const struct braid_stage_ops braid_rtx_stage_ops;

#endif /* BRAID_RTX_H */
