/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ARQ_H
#define BRAID_ARQ_H

/**
 * @file
 * NACK-based repair policy, both ends (doc/arq.md, "NACK protocol").
 *
 * Receiver, struct braid_arq_rx (the lcore that runs reorder): every tick
 * it reads the gaps of each ARQ class from the reorder stage
 * (braid_reorder_gaps), decides which missing seqs to ask for and packs
 * them into compact NACKs (struct braid_nack: ranges and/or base + bitmap,
 * whichever is smaller), within a NACK byte budget. A missing seq is
 * NACKed first a reorder allowance after its gap opened, then every
 * max(srtt + 4 rttvar, min_interval) while it stays missing, at most
 * max_tries times, and never once a retransmission could not arrive
 * before the reorder stage skips it (now + srtt > skip time).
 *
 * Sender, struct braid_arq_tx (the lcore that runs rtx): turns a parsed
 * NACK into retransmission orders (class, seq, link hint) for
 * braid_rtx_serve(), after policy: lookup in the retransmit cache (misses
 * counted), end-to-end deadline, suppression of a seq retransmitted less
 * than suppress_ns ago, a retransmission token bucket, and "duplicate on
 * two links" for the last useful try of a seq.
 *
 * Neither object allocates or logs above DEBUG after create. Each belongs
 * to one lcore. Times are the engine clock (ns) passed in; no clock is
 * read. Sequence numbers are 32-bit serial numbers (2^32 wrap).
 */
#include <stdbool.h>
#include <stdint.h>

#include "braid_counters.h"
#include "braid_stage.h"
#include "braid_wire.h"

struct braid_arq_rx;
struct braid_arq_tx;
struct braid_link;
struct braid_reorder;
struct rte_mempool;
struct rte_ring;
struct braid_rtx;

/** Largest number of traffic classes (matches classify, reorder, rtx). */
#define BRAID_ARQ_MAX_CLASSES 64
/** reset() argument: every class. */
#define BRAID_ARQ_ALL_CLASSES UINT16_MAX
/** Longest instance name, without the terminating NUL. */
#define BRAID_ARQ_NAMESIZE 31
/** NACK tries per seq when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_MAX_TRIES 4
/** Largest tries per seq a conf may ask for. */
#define BRAID_ARQ_MAX_TRIES 32
/** Smallest and largest per-class tracking window of the receiver (seqs). */
#define BRAID_ARQ_MIN_TRACK 64u
#define BRAID_ARQ_MAX_TRACK (1u << 24)
/** RTT assumed until braid_arq_*_set_rtt() is called (conf 0). */
#define BRAID_ARQ_DEFAULT_SRTT_NS 100000000ULL
/** Shortest NACK repeat interval when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_MIN_INTERVAL_NS 5000000ULL
/** Receiver tick when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_TICK_NS 1000000ULL
/** Receiver NACK budget when the conf gives 0: bytes/s of NACK frames, burst. */
#define BRAID_ARQ_DEFAULT_NACK_RATE 256000ULL
#define BRAID_ARQ_DEFAULT_NACK_BURST 32768u
/** Gap ranges read per class per tick when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_MAX_GAPS 64u
/** Due-seq runs considered per class per tick when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_MAX_RUNS 1024u
/** Sender: retransmission burst when the conf gives 0 (bytes). */
#define BRAID_ARQ_DEFAULT_RETX_BURST 65536u
/** Sender: seqs examined per NACK when the conf gives 0. */
#define BRAID_ARQ_DEFAULT_MAX_SEQS_PER_NACK 65536u
/** Largest budget rate (bytes/s) and burst (bytes) a conf may give. */
#define BRAID_ARQ_MAX_RATE 1000000000000ULL
#define BRAID_ARQ_MAX_BURST (1u << 30)

/* ------------------------------------------------------------------ */
/* NACK packing                                                         */
/* ------------------------------------------------------------------ */

/**
 * Pack a prefix of @p runs into one NACK for @p class_id: as many runs as
 * one NACK can name (at most BRAID_NACK_MAX_RANGES ranges plus one
 * BRAID_NACK_BITMAP_WORDS-word bitmap window of 256 seqs), and among the
 * encodings that name that many, the one with the fewest bytes (ranges
 * only, or ranges before and/or after a bitmap starting at one run).
 * Whole runs only: a run is never split.
 *
 * @param runs ascending (serial order), disjoint, each count
 *   1..BRAID_NACK_RANGE_MAX, all within 2^31 of runs[0].first.
 * @return runs consumed (1..n), or -EINVAL (n == 0, NULL, bad run).
 */
int braid_arq_nack_pack(uint16_t class_id, const struct braid_seq_range *runs,
			unsigned int n, struct braid_nack *nack);

/* ------------------------------------------------------------------ */
/* Receiver                                                             */
/* ------------------------------------------------------------------ */

/** Per-class receiver parameters. */
struct braid_arq_rx_class_conf {
	/** Seqs of NACK state kept (power of two in BRAID_ARQ_MIN_TRACK..
	 * BRAID_ARQ_MAX_TRACK), at least the class's reorder buf_size;
	 * missing seqs track_seqs or more after the next expected seq wait.
	 * 0 = class without ARQ (never NACKed). */
	uint32_t track_seqs;
};

/** Configuration of one receiver. Fields left 0 take the default. */
struct braid_arq_rx_conf {
	const char *name;                  /**< <= BRAID_ARQ_NAMESIZE chars */
	/** The reorder stage whose gaps are NACKed (same lcore, outlives
	 * this object). */
	const struct braid_reorder *reorder;
	uint16_t n_classes;                /**< 1..BRAID_ARQ_MAX_CLASSES */
	/** n_classes entries indexed by class_id; copied. */
	const struct braid_arq_rx_class_conf *classes;
	/** Wait this long after a gap opened before its first NACK. 0 = the
	 * delay spread given by braid_arq_rx_set_delay_spread(), or srtt/4
	 * while none was given. */
	uint64_t reorder_allow_ns;
	/** Shortest repeat interval (0 = BRAID_ARQ_DEFAULT_MIN_INTERVAL_NS). */
	uint64_t min_interval_ns;
	/** NACKs per seq, 1..BRAID_ARQ_MAX_TRIES (0 = 4). */
	uint8_t max_tries;
	/** NACK budget: bytes/s of NACK frames, counted on the wire (payload
	 * + BRAID_WIRE_OVERHEAD), and burst bytes (>= one largest NACK
	 * frame). 0 = defaults. */
	uint64_t nack_rate;
	uint32_t nack_burst;
	/** Decisions are made at most once per tick (0 = 1 ms). */
	uint64_t tick_ns;
	/** RTT until set_rtt() is called (0 = 100 ms; rttvar = srtt / 2). */
	uint64_t init_srtt_ns;
	/** Gap ranges read per class per tick (0 = 64), lowest first. */
	uint16_t max_gaps;
	/** Due runs considered per class per tick (0 = 1024). */
	uint32_t max_runs;
	/** Stage only (braid_arq_rx_stage_ops): link health, read through
	 * braid_link_info_get() (any lcore) for the best link's RTT, the
	 * delay spread and the two links each NACK goes on. NULL: the conf
	 * and set_* values hold; NACKs go on link 0. */
	const struct braid_link *link;
	/** Stage only: NACK frames (braid_wire_nack_build()) come from this
	 * pool and go to this ring, towards encap (the chain's "to peer"
	 * ring). Without them NACKs are counted drop_no_mbuf or
	 * drop_ctrl_full. */
	struct rte_mempool *pool;
	struct rte_ring *tx_ring;
};

/** Receiver counters, in the order they are reported. */
#define BRAID_ARQ_RX_COUNTERS(X)                                            \
	X(polls)                 /* ticks that ran */                        \
	X(nacks_sent)            /* NACKs returned by poll */                \
	X(nack_bytes)            /* their wire bytes (payload + overhead) */ \
	X(seqs_requested)        /* seqs NACKed for the first time */        \
	X(seqs_rerequested)      /* repeated requests of a seq */            \
	X(useless_by_deadline)   /* seqs given up: now + srtt > skip time */ \
	X(tries_exhausted)       /* seqs given up: max_tries NACKs sent */   \
	X(budget_exceeded)       /* due seqs held back by the budget (per tick) */ \
	X(deferred)              /* due seqs held back: out[] or run scratch full (per tick) */ \
	X(gaps_filled_after_nack) /* NACKed seqs that arrived */            \
	X(lost_after_nack)       /* NACKed seqs skipped by reorder */        \
	X(reset_discarded)       /* NACKed seqs forgotten by a reset */      \
	X(resets)                /* braid_arq_rx_reset() calls */

/** Receiver counter snapshot. */
struct braid_arq_rx_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ARQ_RX_COUNTERS)
};

/**
 * Validate @p conf (every ARQ class must exist in the reorder stage) and
 * allocate the per-class state and scratch.
 * @return the receiver, or NULL with rte_errno EINVAL (logged) or ENOMEM.
 */
struct braid_arq_rx *braid_arq_rx_create(const struct braid_arq_rx_conf *conf,
					 int socket);

/** Free @p rx. NULL is a no-op. */
void braid_arq_rx_free(struct braid_arq_rx *rx);

/**
 * The RTT of the best link (the one that carries NACKs): smoothed RTT and
 * its mean deviation, as the link health module measures them. Used for
 * the repeat interval, the deadline test and the default allowance.
 */
void braid_arq_rx_set_rtt(struct braid_arq_rx *rx, uint64_t srtt_ns,
			  uint64_t rttvar_ns);

/**
 * The expected reordering between links: largest one-way delay
 * difference between the links carrying data plus their jitter. Becomes
 * the reorder allowance when the conf's reorder_allow_ns is 0.
 */
void braid_arq_rx_set_delay_spread(struct braid_arq_rx *rx, uint64_t spread_ns);

/**
 * The delay spread of the links that carry class @p class_id: those in
 * time for its deadline (the sender keeps the class off the others), so
 * a satellite hop that carries only a slower class does not hold this
 * class's NACKs. Overrides braid_arq_rx_set_delay_spread() for the class.
 * @return 0 or -EINVAL (no such class).
 */
int braid_arq_rx_class_set_delay_spread(struct braid_arq_rx *rx, uint16_t class_id,
					uint64_t spread_ns);

/** Reorder allowance now in force (ns). */
uint64_t braid_arq_rx_allowance_ns(const struct braid_arq_rx *rx);

/** Reorder allowance of class @p class_id now in force (ns): the conf's,
 * else the class's spread, else braid_arq_rx_allowance_ns(). */
uint64_t braid_arq_rx_class_allowance_ns(const struct braid_arq_rx *rx,
					 uint16_t class_id);

/** NACK repeat interval now in force: max(srtt + 4 rttvar, min_interval). */
uint64_t braid_arq_rx_interval_ns(const struct braid_arq_rx *rx);

/**
 * One tick (does nothing before tick_ns since the last one): read every
 * ARQ class's gaps, resolve seqs NACKed before (filled or skipped), and
 * write up to @p max NACKs (oldest gaps first) to @p out. The caller
 * builds each frame with braid_wire_nack_build() on the best link.
 * @return NACKs written.
 */
uint16_t braid_arq_rx_poll(struct braid_arq_rx *rx, uint64_t now_ns,
			   struct braid_nack *out, uint16_t max);

/**
 * Forget the NACK state of @p class_id (or BRAID_ARQ_ALL_CLASSES): for a
 * peer session change, together with braid_reorder_reset(). Seqs NACKed
 * and unresolved are counted reset_discarded. Counters are kept.
 * @return 0 or -EINVAL.
 */
int braid_arq_rx_reset(struct braid_arq_rx *rx, uint16_t class_id);

/**
 * Switch NACKing of @p class_id on or off while the engine runs; on the
 * receiver's lcore. Off: the class's NACK state is discarded now, as by
 * braid_arq_rx_reset() (NACKed unresolved seqs count reset_discarded and
 * leave tracked; the resets counter is not touched), and poll() neither
 * scans it nor NACKs it. On: the next tick starts it afresh, like the
 * first tick of a stream (gaps open then are NACKed once due).
 * Switching to the current state is a no-op. After create every class
 * with track_seqs > 0 is on.
 * @return 0, -EINVAL (no such class) or -ENOTSUP (track_seqs 0).
 */
int braid_arq_rx_class_enable(struct braid_arq_rx *rx, uint16_t class_id, bool on);

/** NACKing of @p class_id is on (false without ARQ or out of range). */
bool braid_arq_rx_class_enabled(const struct braid_arq_rx *rx, uint16_t class_id);

/** NACKed seqs not yet resolved (all classes). */
uint32_t braid_arq_rx_tracked(const struct braid_arq_rx *rx);

/** Copy the counters (never clears). */
void braid_arq_rx_stats(const struct braid_arq_rx *rx,
			struct braid_arq_rx_stats *cnt);

/** Counters of the arq_rx stage, reported before BRAID_ARQ_RX_COUNTERS. */
#define BRAID_ARQ_RX_STAGE_COUNTERS(X)                                      \
	X(nack_frames)     /* NACK frames queued for the peer (one per link) */ \
	X(recovered)       /* retransmissions delivered: each filled a gap */ \
	X(drop_no_mbuf)    /* NACK frames not built: no mbuf */            \
	X(drop_ctrl_full)  /* NACK frames refused by the to-peer ring */   \
	X(drop_out_full)   /* packets: output burst full */

/** arq_rx stage counter snapshot. */
struct braid_arq_rx_stage_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ARQ_RX_STAGE_COUNTERS)
};

/** Retransmissions of @p class_id delivered in order (the stage's
 * recovered, per class). Any thread (relaxed read). */
uint64_t braid_arq_rx_recovered(const struct braid_arq_rx *rx, uint16_t class_id);


/** Live changes of the ARQ receiver (struct braid_arq_rx_cmd). */
enum braid_arq_rx_cmd_op {
	BRAID_ARQ_RX_CMD_ENABLE = 1,   /**< braid_arq_rx_class_enable() */
};

/** One command of the arq_rx stage's control channel (cmd_size),
 * applied on the stage's lcore by braid_arq_rx_stage_ops.apply(). */
struct braid_arq_rx_cmd {
	uint16_t op;         /**< enum braid_arq_rx_cmd_op */
	uint16_t class_id;
	bool enable;         /**< BRAID_ARQ_RX_CMD_ENABLE: NACKing on/off */
};

/**
 * Stage ops "arq_rx" (ctx = struct braid_arq_rx *), the receive chain's
 * stage right after reorder, on reorder's lcore (the receiver reads the
 * reorder gaps; reorder must outlive it). process() follows reorder's
 * resets (braid_reorder_resets(): a class reset by a peer restart is
 * reset here too, before anything else), counts the retransmissions
 * among the delivered packets (BRAID_META_F_RETX: recovered, total and
 * per class) and passes every packet on. poll() follows the resets,
 * feeds the policy link health's view (conf link), ticks it
 * (braid_arq_rx_poll()) and puts each NACK frame, built on each of the
 * two best links, on the conf tx_ring. stats() reports
 * BRAID_ARQ_RX_STAGE_COUNTERS, BRAID_ARQ_RX_COUNTERS, then "tracked".
 * apply() takes a struct braid_arq_rx_cmd.
 */
extern const struct braid_stage_ops braid_arq_rx_stage_ops;

/* ------------------------------------------------------------------ */
/* Sender                                                               */
/* ------------------------------------------------------------------ */

/** Link hint of a retransmission order (the glue maps it to links). */
#define BRAID_ARQ_HINT_PRIMARY 1 /**< one copy on the best link */
#define BRAID_ARQ_HINT_BOTH    2 /**< last try: best and second-best link */

/** One retransmission to make with braid_rtx_serve(). */
struct braid_arq_tx_order {
	uint32_t seq;
	uint32_t bytes;      /**< frame bytes charged per copy */
	uint16_t class_id;
	uint8_t hint;        /**< BRAID_ARQ_HINT_* (copies = hint) */
	uint8_t try_no;      /**< NACKs of this seq honoured so far, 1 = first */
};

/** Per-class sender parameters. */
struct braid_arq_tx_class_conf {
	/** The class's ARQ deadline (config arq.deadline_ms): a packet whose
	 * age at the peer if sent now (now - meta rx_ns, when it entered
	 * this gateway, + srtt/2) is beyond it is not retransmitted, and
	 * one whose next request would be is sent on two links.
	 * 0 = no age limit. */
	uint64_t deadline_ns;
};

/** Configuration of one sender. Fields left 0 take the default. */
struct braid_arq_tx_conf {
	const char *name;                 /**< <= BRAID_ARQ_NAMESIZE chars */
	/** The retransmit cache of this lcore (outlives this object). Its
	 * classes with a cache are the ARQ classes; the per-seq state of a
	 * class has the cache's ring size. */
	struct braid_rtx *rtx;
	uint16_t n_classes;               /**< 1..BRAID_ARQ_MAX_CLASSES */
	/** n_classes entries or NULL (no deadlines); copied. */
	const struct braid_arq_tx_class_conf *classes;
	/** Retransmission budget: bytes/s of frames (inner + overhead), or,
	 * when 0, capacity_ppm millionths of the link capacity given by
	 * braid_arq_tx_set_capacity(). Exactly one of the two is non-zero. */
	uint64_t rate_bytes_per_s;
	uint32_t capacity_ppm;            /**< 1..1000000 when used */
	/** Bucket depth in bytes (0 = 64 KiB; >= 2 x 1600). */
	uint32_t burst_bytes;
	/** A seq retransmitted less than this ago is not sent again
	 * (0 = srtt / 2). */
	uint64_t suppress_ns;
	/** The receiver's min_interval_ns and max_tries (0 = defaults),
	 * to know which try is the last. */
	uint64_t min_interval_ns;
	uint8_t max_tries;
	/** RTT until set_rtt() is called (0 = 100 ms; rttvar = srtt / 2). */
	uint64_t init_srtt_ns;
	/** Seqs examined per NACK (0 = 65536); the rest count truncated. */
	uint32_t max_seqs_per_nack;
};

/** Sender counters, in the order they are reported. For every seq a NACK
 * names, seqs_requested = ordered + suppressed + over_budget +
 * expired_or_missing + too_late + truncated. */
#define BRAID_ARQ_TX_COUNTERS(X)                                            \
	X(nack_rx)               /* NACKs handed in */                       \
	X(drop_bad_class)        /* NACKs of a class without ARQ */          \
	X(drop_bad_nack)         /* NACKs naming nothing / bad counts */     \
	X(seqs_requested)        /* seqs named by accepted NACKs */          \
	X(ordered)               /* retransmission orders written */         \
	X(duplicated_last_try)   /* orders with hint BOTH */                 \
	X(suppressed)            /* retransmitted < suppress_ns ago */       \
	X(over_budget)           /* token bucket empty */                    \
	X(expired_or_missing)    /* not in the retransmit cache */           \
	X(too_late)              /* older than the class deadline */         \
	X(truncated)             /* beyond max_seqs_per_nack or out[] */     \
	X(retx_bytes)            /* bytes charged (after refunds) */         \
	X(served)                /* copies the glue sent (report) */         \
	X(serve_failed)          /* copies the glue could not send */

/** Sender counter snapshot. */
struct braid_arq_tx_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ARQ_TX_COUNTERS)
};

/**
 * Validate @p conf and allocate per-seq state for every class the
 * retransmit cache holds.
 * @return the sender, or NULL with rte_errno EINVAL (logged) or ENOMEM.
 */
struct braid_arq_tx *braid_arq_tx_create(const struct braid_arq_tx_conf *conf,
					 int socket);

/** Free @p tx. NULL is a no-op. */
void braid_arq_tx_free(struct braid_arq_tx *tx);

/** RTT of the best link toward the peer (suppression, last try). */
void braid_arq_tx_set_rtt(struct braid_arq_tx *tx, uint64_t srtt_ns,
			  uint64_t rttvar_ns);

/** Total capacity of the usable links, bytes/s (capacity_ppm mode). */
void braid_arq_tx_set_capacity(struct braid_arq_tx *tx, uint64_t bytes_per_s);

/** Budget rate now in force (bytes/s). */
uint64_t braid_arq_tx_rate(const struct braid_arq_tx *tx);

/**
 * Apply the policy to every seq @p nack names, in seq order, at @p now_ns
 * and write the retransmissions to make to @p orders (at most @p max).
 * Looks each seq up in the retransmit cache (braid_rtx_lookup: counts
 * there as lookup_hit or missed) for its length and age. The tokens of
 * an order are taken here; report the outcome with braid_arq_tx_report().
 * @return orders written.
 */
uint16_t braid_arq_tx_nack(struct braid_arq_tx *tx, const struct braid_nack *nack,
			   uint64_t now_ns, struct braid_arq_tx_order *orders,
			   uint16_t max);

/**
 * Outcome of @p order: @p sent copies (0..order->hint) went out (served
 * by braid_rtx_serve and handed to TX). Copies not sent give their tokens
 * back; if none went out the seq is not suppressed on its next request.
 */
void braid_arq_tx_report(struct braid_arq_tx *tx,
			 const struct braid_arq_tx_order *order, unsigned int sent);

/**
 * Change the ARQ deadline of @p class_id (as braid_arq_tx_class_conf's
 * deadline_ns, 0 = no age limit) while the engine runs; on the sender's
 * lcore. Takes effect for the next NACK (too_late and last-try tests);
 * per-seq state is kept. Accepted for a class without ARQ (stored).
 * @return 0 or -EINVAL (no such class).
 */
int braid_arq_tx_class_set_deadline(struct braid_arq_tx *tx, uint16_t class_id,
				    uint64_t deadline_ns);

/**
 * Forget the per-seq state of @p class_id (or BRAID_ARQ_ALL_CLASSES):
 * with braid_rtx_reset() when the class's stream restarts.
 * @return 0 or -EINVAL.
 */
int braid_arq_tx_reset(struct braid_arq_tx *tx, uint16_t class_id);

/** What a struct braid_arq_tx_cmd changes. */
enum braid_arq_tx_cmd_op {
	BRAID_ARQ_TX_CMD_CLASS_DEADLINE = 1,   /**< a class's ARQ deadline */
};

/** A live change for the ARQ sender's lcore (control channel element of
 * the stage that runs it). */
struct braid_arq_tx_cmd {
	uint16_t op;          /**< enum braid_arq_tx_cmd_op */
	uint16_t class_id;
	uint64_t deadline_ns; /**< 0 = no age limit */
};

/** Apply @p cmd (braid_arq_tx_class_set_deadline()). @return its result,
 * or -EINVAL for an unknown op. */
int braid_arq_tx_apply(struct braid_arq_tx *tx, const struct braid_arq_tx_cmd *cmd);

/** Copy the counters (never clears). */
void braid_arq_tx_stats(const struct braid_arq_tx *tx,
			struct braid_arq_tx_stats *cnt);

/** Report every counter (BRAID_ARQ_TX_COUNTERS order). */
void braid_arq_tx_stats_report(const struct braid_arq_tx *tx, braid_stat_fn fn,
			       void *arg);

#endif /* BRAID_ARQ_H */
