/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_REORDER_H
#define BRAID_REORDER_H

/**
 * @file
 * Receive side: duplicate suppression and time-bounded reordering per
 * traffic class (stage kind "reorder"), on the 32-bit class sequence
 * number in braid_meta(m)->seq. All comparisons are serial (2^32 wrap).
 *
 * Per class:
 *  - dedup: a sliding bitmap over the last dedup_window seqs (up to the
 *    highest seq seen). The first copy of a seq passes; later copies are
 *    freed as drop_duplicate; a seq behind the window is drop_too_old.
 *  - reorder: the next expected seq goes out at once. Behind a gap, later
 *    packets are held in a ring of buf_size slots indexed by seq. No packet
 *    is held longer than deadline_ns after its own arrival (push time): when
 *    the earliest-arrived held packet reaches its deadline, every gap below
 *    it is skipped (each missing seq counted lost) and the held packets
 *    flush in order. So a gap is skipped deadline_ns after the arrival of
 *    the first packet held behind it. A seq that arrives after it was
 *    skipped is drop_late. A seq at or beyond next + buf_size forces
 *    skipping up to seq - buf_size + 1 (overflow_skips, lost).
 *  - the first packet of a class (or after a reset) starts the stream:
 *    it is the next expected seq.
 * Deadlines are checked on push (before each arrival of the class) and on
 * poll(). Output is bounded by the room in the caller's burst; packets
 * that are ready but did not fit stay held and go out on the next call.
 *
 * Threading: one lcore (the stage's) calls everything, including gaps and
 * reset, except braid_reorder_class_info(), which other threads call too
 * (the metrics walker; the ARQ receiver for the deadline): each field is
 * one aligned word, read without a lock, so a reader may see a field a
 * moment old but never a torn one; fields may disagree with each other.
 * See doc/arq.md.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct braid_reorder;

/** Largest number of traffic classes (matches classify). */
#define BRAID_REORDER_MAX_CLASSES 64
/** Smallest and largest dedup window (seqs). */
#define BRAID_REORDER_MIN_WINDOW 64u
#define BRAID_REORDER_MAX_WINDOW (1u << 24)
/** Longest deadline accepted (10 s). */
#define BRAID_REORDER_MAX_DEADLINE_NS 10000000000ULL
/** braid_reorder_reset() argument: every class. */
#define BRAID_REORDER_ALL_CLASSES UINT16_MAX
/** Longest instance name, without the terminating NUL. */
#define BRAID_REORDER_NAMESIZE 31

/** Per-class parameters. */
struct braid_reorder_class_conf {
	/** Dedup window in seqs: power of two in BRAID_REORDER_MIN_WINDOW..
	 * BRAID_REORDER_MAX_WINDOW, >= buf_size. */
	uint32_t dedup_window;
	/** Reorder buffer slots: power of two <= dedup_window, or 0 for a
	 * class delivered in arrival order (dedup only; no late/lost). */
	uint32_t buf_size;
	/** Longest hold of a packet behind a gap (<= 10 s). 0 = skip gaps at
	 * the next push/poll. */
	uint64_t deadline_ns;
	/** Start window: a stream's first packet with seq s != 0 may have
	 * overtaken earlier ones on a faster link (a sender's stream starts
	 * at 0), or we joined mid-stream: seqs s - start_window .. s - 1 are
	 * then expected like any gap (held at most deadline_ns) instead of
	 * late. 0 = the first packet is the start. <= buf_size / 2. */
	uint32_t start_window;
};

/** Configuration of one reorder instance. */
struct braid_reorder_conf {
	const char *name;     /**< <= BRAID_REORDER_NAMESIZE chars */
	uint16_t n_classes;   /**< 1..BRAID_REORDER_MAX_CLASSES */
	/** n_classes entries indexed by class_id; copied. */
	const struct braid_reorder_class_conf *classes;
};

/** One missing seq range reported by braid_reorder_gaps(). */
struct braid_reorder_gap {
	uint32_t first_seq;  /**< first missing seq */
	uint32_t count;      /**< missing seqs first_seq..first_seq+count-1 */
	/** Arrival of the first packet held behind this gap (push now_ns). */
	uint64_t opened_ns;
	/** When the gap will be skipped: opened_ns + deadline_ns. */
	uint64_t skip_ns;
};

/** State of one class, for management and the ARQ module. */
struct braid_reorder_class_info {
	bool started;        /**< a packet was seen since create/reset */
	uint32_t next_seq;   /**< next seq to deliver */
	uint32_t high_seq;   /**< highest seq seen (dedup window head - 1) */
	uint32_t held;       /**< packets held */
	uint64_t deadline_ns;/**< longest hold behind a gap, now */
	uint64_t lost;       /**< seqs of the class skipped as lost (never
			      *   delivered), since create */
	/** Times the class was reset (braid_reorder_reset()): whoever keeps
	 * state about its gaps (the ARQ receiver) forgets it when this
	 * changes. */
	uint64_t resets;
};

/** The stage's counters, in the order they are reported. Every packet
 * pushed ends in exactly one of: in_order, reordered, drop_*, or is held. */
#define BRAID_REORDER_COUNTERS(X)                                             \
	X(pkts_in)         /* handed to push() */                               \
	X(in_order)        /* delivered on arrival */                           \
	X(reordered)       /* held, then delivered */                           \
	X(lost)            /* seqs skipped (deadline, overflow, drain) */       \
	X(overflow_skips)  /* arrivals that forced a skip (buffer full) */      \
	X(drop_duplicate)  /* second copy of a seq in the window */             \
	X(drop_too_old)    /* seq behind the dedup window */                    \
	X(drop_late)       /* seq already skipped */                            \
	X(drop_overflow)   /* no room in the output burst to make space */      \
	X(drop_bad_class)  /* class_id out of range */                          \
	X(drop_parity)     /* FEC parity reached the reorder stage */           \
	X(drop_reset)      /* held packets freed by braid_reorder_reset() */

/** Counter snapshot. */
struct braid_reorder_stats {
	BRAID_COUNTERS_FIELDS(BRAID_REORDER_COUNTERS)
};

/**
 * Validate @p conf and allocate every class's bitmap, ring and arrival
 * queue.
 * @return the instance, or NULL with rte_errno EINVAL (bad conf, logged)
 *   or ENOMEM.
 */
struct braid_reorder *braid_reorder_create(const struct braid_reorder_conf *conf,
					   int socket);

/** Free @p r and every packet it holds (counted drop_reset). NULL: no-op. */
void braid_reorder_free(struct braid_reorder *r);

/**
 * Take pkts[0..n-1] (inner packets, meta class_id and seq set) at
 * @p now_ns: deliver what is in order to @p out, hold the rest, free and
 * count duplicates, late and too-old packets. A packet carrying
 * BRAID_META_F_SESSION (a peer restart) first resets every class
 * (session_resets) and has the flag cleared.
 * @return packets pushed to @p out.
 */
uint16_t braid_reorder_burst(struct braid_reorder *r, struct rte_mbuf **pkts,
			     uint16_t n, struct braid_burst *out, uint64_t now_ns);

/**
 * Deadline work: skip gaps whose first held packet waited deadline_ns and
 * flush what follows, and deliver ready packets that did not fit before.
 * @return packets pushed to @p out (0 = idle).
 */
uint16_t braid_reorder_poll(struct braid_reorder *r, struct braid_burst *out,
			    uint64_t now_ns);

/**
 * Shutdown: deliver every held packet in seq order, skipping gaps (lost),
 * as far as @p out has room. @return packets pushed; call again while
 * non-zero.
 */
uint16_t braid_reorder_drain(struct braid_reorder *r, struct braid_burst *out,
			     uint64_t now_ns);

/**
 * The missing seq ranges of @p class_id between the next expected seq and
 * the highest held seq, lowest first (what the ARQ module NACKs). Missing
 * seqs after the highest held one are not known yet and not reported.
 * Cost: one pass over the held span.
 * @return number of ranges written (<= @p max), or -EINVAL.
 */
int braid_reorder_gaps(const struct braid_reorder *r, uint16_t class_id,
		       struct braid_reorder_gap *ranges, unsigned int max);

/**
 * Forget the stream of @p class_id (or BRAID_REORDER_ALL_CLASSES): held
 * packets are freed (drop_reset), the dedup window is cleared, and the next
 * packet starts a new stream. For a peer's session change.
 * @return 0 or -EINVAL.
 */
int braid_reorder_reset(struct braid_reorder *r, uint16_t class_id);

/** Class resets so far, all classes: a cheap test before reading the
 * per-class braid_reorder_class_info() resets. The stage's lcore. */
uint64_t braid_reorder_resets(const struct braid_reorder *r);

/**
 * Change the deadline of @p class_id while the stage runs (same range as
 * the class conf's deadline_ns: <= BRAID_REORDER_MAX_DEADLINE_NS). The
 * stage's lcore. It applies to every gap, the ones already open
 * included: a gap is skipped at its opened_ns + the new deadline, which
 * is the skip_ns braid_reorder_gaps() reports from now on. Shortening it
 * may thus release held packets (and skip their gaps) at the next push or
 * poll; lengthening it holds them longer. A class with buf_size 0 (no
 * gaps) just stores it.
 * @return 0 or -EINVAL (no such class, deadline too long).
 */
int braid_reorder_class_set_deadline(struct braid_reorder *r, uint16_t class_id,
				     uint64_t deadline_ns);

/** State of @p class_id. @return 0 or -EINVAL. */
int braid_reorder_class_info(const struct braid_reorder *r, uint16_t class_id,
			     struct braid_reorder_class_info *info);

/** Copy the counters to @p cnt (never clears). */
void braid_reorder_stats(const struct braid_reorder *r,
			 struct braid_reorder_stats *cnt);

/** Live changes of the reorder stage (struct braid_reorder_cmd). */
enum braid_reorder_cmd_op {
	BRAID_REORDER_CMD_DEADLINE = 1, /**< deadline_ns of class_id */
};

/** One command of the reorder stage's control channel (cmd_size),
 * applied on the stage's lcore by braid_reorder_stage_ops.apply(). */
struct braid_reorder_cmd {
	uint16_t op;          /**< enum braid_reorder_cmd_op */
	uint16_t class_id;
	uint32_t pad;
	/** BRAID_REORDER_CMD_DEADLINE: braid_reorder_class_set_deadline(). */
	uint64_t deadline_ns;
};

/** Stage ops, kind "reorder", on a struct braid_reorder context: process =
 * push, poll, drain, stats (plus session_resets), apply = a struct
 * braid_reorder_cmd. A packet carrying BRAID_META_F_SESSION (a peer
 * restart, passed on by fec_decode) resets every class right before it
 * is pushed (session_resets; the flag is cleared): it starts the new
 * streams. */
extern const struct braid_stage_ops braid_reorder_stage_ops;

#endif /* BRAID_REORDER_H */
