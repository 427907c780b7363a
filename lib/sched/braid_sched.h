/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_SCHED_H
#define BRAID_SCHED_H

/**
 * @file
 * Two-level scheduler of the sender pipeline (stage 3, doc/sched.md).
 *
 * Level 1, classes: byte-deficit round robin (Shreedhar-Varghese DRR, as
 * Linux sch_drr) over bounded per-class FIFOs, quantum = weight *
 * base_quantum, plus at most one strict-priority class that is served
 * first but shaped by its own token bucket (rate_cap_kbps): over its cap
 * it waits, it never borrows DRR share.
 *
 * Level 2, links: each packet goes to one link chosen by DRR over the links
 * that are up, allowed by the class policy and have tokens for it; link
 * quanta are proportional to usable capacity (capacity_kbps * weight
 * factor). Each link has a token bucket at capacity_kbps, charged with
 * what a packet costs on the wire (pkt_len + frame_overhead), so no link
 * is ever sent above its rate. Backup links carry traffic only when no
 * primary link of the class is up with tokens. A class of FEC (k, m) is
 * charged len * (k + m) / k per data packet, reserving the parity share.
 *
 * dequeue() assigns the per-class 32-bit sequence number and link_id in
 * braid_meta(). Packets that cannot get a link wait in their queue (the
 * queue bound then tail-drops). One lcore owns a scheduler; runtime
 * setters are called on that lcore: other threads send a struct
 * braid_sched_cmd through the stage's control channel (braid_stage.h),
 * which braid_sched_apply() turns into the setter call.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_counters.h"
#include "braid_stage.h"

#define BRAID_SCHED_MAX_CLASSES 32
#define BRAID_SCHED_MAX_LINKS   32
/** Largest inner packet the scheduler accepts (jumbo). */
#define BRAID_SCHED_MTU_MAX     9600
#define BRAID_SCHED_WEIGHT_MAX  65535
/** Link weight factor is in per-mille of capacity. */
#define BRAID_SCHED_LINK_FACTOR_MAX 1000
#define BRAID_SCHED_CAPACITY_MAX_KBPS 400000000ULL  /**< 400 Gbit/s */
#define BRAID_SCHED_QUEUE_MAX   (1U << 20)
#define BRAID_SCHED_BUCKET_MAX  (1U << 30)          /**< bytes */
#define BRAID_SCHED_FRAME_OVERHEAD_MAX 1024

struct braid_sched;

/** How a class uses the links. */
enum braid_sched_policy {
	BRAID_SCHED_STRIPE = 0,  /**< each packet on one link, DRR over all */
	BRAID_SCHED_DUPLICATE,   /**< a copy on each of the best N links */
	BRAID_SCHED_PIN,         /**< like stripe, over link_mask only */
};

struct braid_sched_class_conf {
	uint32_t weight;          /**< DRR weight, 1..65535 (ignored if priority) */
	uint32_t queue_size;      /**< packets, 1..2^20; 0 = 1024 */
	bool priority;            /**< strict priority (at most one class) */
	uint64_t rate_cap_kbps;   /**< priority class: shaping rate, > 0 */
	uint32_t cap_bucket_bytes;/**< priority bucket; 0 = max(2*mtu, 1 ms) */
	uint8_t fec_k;            /**< FEC data per block, 0 = FEC off */
	uint8_t fec_m;            /**< FEC parity per block (>= 1 if fec_k) */
	enum braid_sched_policy policy;
	uint8_t dup_copies;       /**< DUPLICATE: copies, 2..n_links */
	/** PIN: the allowed links (bit i = link i), non-zero.
	 *  DUPLICATE: candidate links, 0 = all. STRIPE: must be 0. */
	uint32_t link_mask;
	uint32_t seq_start;       /**< first sequence number of the class */
};

struct braid_sched_link_conf {
	uint64_t capacity_kbps;   /**< rate of the link's bucket, 1..4e8 */
	uint16_t weight_factor;   /**< per-mille of capacity, 1..1000; 0 = 1000 */
	uint32_t bucket_bytes;    /**< 0 = max(2*mtu, max charge, 1 ms of rate) */
	bool backup;              /**< backup-only link */
	bool start_down;          /**< created down (default: up) */
};

struct braid_sched_conf {
	uint16_t n_classes;       /**< 1..BRAID_SCHED_MAX_CLASSES */
	uint16_t n_links;         /**< 1..BRAID_SCHED_MAX_LINKS */
	uint32_t mtu;             /**< largest inner packet, 64..9600; 0 = 1500 */
	/** Bytes each packet costs on a link beyond its pkt_len (outer
	 * headers, and Ethernet's preamble, FCS and gap where the link is
	 * Ethernet), 0..BRAID_SCHED_FRAME_OVERHEAD_MAX: charged to link
	 * tokens and quanta with the packet (times its FEC factor), so a
	 * link's rate holds on the wire. */
	uint32_t frame_overhead;
	uint32_t base_quantum;    /**< DRR bytes per weight, >= mtu; 0 = mtu */
	/** Pool for duplicate copies (indirect mbufs); required if a class
	 *  uses DUPLICATE, else may be NULL. */
	struct rte_mempool *clone_pool;
	struct braid_sched_class_conf classes[BRAID_SCHED_MAX_CLASSES];
	struct braid_sched_link_conf links[BRAID_SCHED_MAX_LINKS];
};

/** Scheduler-wide counters. */
#define BRAID_SCHED_COUNTERS(X) \
	X(drop_bad_class)   /* class_id out of range */ \
	X(drop_oversize)    /* pkt_len > mtu */ \
	X(drop_no_link)     /* drain: no link up for the class */ \
	X(drop_shutdown)    /* still queued when the scheduler was freed */ \
	X(duplicates)       /* copies made by the duplicate policy */ \
	X(dup_clone_fail)   /* copy not made: clone pool empty */ \
	X(dup_short)        /* fewer copies: caller's burst had no room */
/** Per-class counters. */
#define BRAID_SCHED_CLASS_COUNTERS(X) \
	X(enqueued) X(dequeued) X(bytes) X(drop_queue_full) \
	X(link_wait_polls)  /* polls the head waited for link tokens */ \
	X(cap_wait_polls)   /* priority class: polls over its cap */ \
	X(no_link_polls)    /* polls the head had no link up */ \
	X(sent_unfit)       /* sent on a link too slow for the class's \
			     * deadline: none in time was up */
/** Per-link counters. */
#define BRAID_SCHED_LINK_COUNTERS(X) \
	X(sent_pkts) X(sent_bytes) \
	X(charged_bytes)    /* token bytes, FEC reservation included */ \
	X(starved_polls)    /* polls a packet waited for its tokens */

struct braid_sched_stats { BRAID_COUNTERS_FIELDS(BRAID_SCHED_COUNTERS) };
struct braid_sched_class_stats { BRAID_COUNTERS_FIELDS(BRAID_SCHED_CLASS_COUNTERS) };
struct braid_sched_link_stats { BRAID_COUNTERS_FIELDS(BRAID_SCHED_LINK_COUNTERS) };

/**
 * Validate @p conf and allocate a scheduler on @p socket.
 * @return the scheduler, or NULL with rte_errno = EINVAL (bad conf, the
 *   reason logged) or ENOMEM.
 */
struct braid_sched *braid_sched_create(const struct braid_sched_conf *conf,
				       int socket);

/** Free @p s and every packet still queued (counted drop_shutdown). */
void braid_sched_free(struct braid_sched *s);

/**
 * Queue packets by braid_meta(m)->class_id. Stops at the first packet it
 * cannot take (class out of range, pkt_len > mtu, class queue full):
 * pkts[ret..n-1] stay owned by the caller.
 * @return number of packets accepted.
 */
uint16_t braid_sched_enqueue(struct braid_sched *s, struct rte_mbuf **pkts,
			     uint16_t n);

/**
 * Refill the token buckets to @p now_ns and take up to @p n packets in
 * DRR order while a link has tokens for the head packet of some class.
 * Each packet gets meta seq and link_id; a duplicate-policy packet yields
 * one packet per copy (clones carry BRAID_META_F_DUP).
 * @return number of packets written to @p pkts.
 */
uint16_t braid_sched_dequeue(struct braid_sched *s, struct rte_mbuf **pkts,
			     uint16_t n, uint64_t now_ns);

/**
 * Shutdown: take up to @p n queued packets ignoring pacing (priority class
 * first, then class order), one copy each, on an up link chosen by the
 * link DRR. Packets of classes with no link up are freed (drop_no_link).
 * @return number of packets written to @p pkts (0 when nothing is left).
 */
uint16_t braid_sched_drain(struct braid_sched *s, struct rte_mbuf **pkts,
			   uint16_t n);

/** Mark link @p link up or down. @return 0 or -EINVAL. */
int braid_sched_link_set_up(struct braid_sched *s, uint16_t link, bool up);

/**
 * Set the rate of link @p link (its bucket rate and DRR weight). A default
 * bucket depth follows the new rate. @return 0 or -EINVAL (out of range,
 * or an explicit bucket smaller than the largest charge).
 */
int braid_sched_link_set_capacity(struct braid_sched *s, uint16_t link,
				  uint64_t capacity_kbps);

/** Set the weight factor (per-mille, 1..1000) of link @p link: its DRR
 * weight becomes capacity * factor. The rate is unchanged. @return 0 or
 * -EINVAL. */
int braid_sched_link_set_weight(struct braid_sched *s, uint16_t link,
				uint16_t factor);

/** Make link @p link a backup link (used only when no primary link of a
 * class qualifies) or a primary one, from the next packet on.
 * @return 0 or -EINVAL (no such link, or every link would be a backup). */
int braid_sched_link_set_backup(struct braid_sched *s, uint16_t link, bool backup);

/**
 * Charge @p bytes that went out on @p link without the scheduler
 * (retransmissions served from the cache): taken from the link's tokens,
 * the rest owed and paid from the next tokens (at most one bucket), so
 * repairs and new data together stay within the link's rate.
 * @return 0 or -EINVAL.
 */
int braid_sched_link_charge(struct braid_sched *s, uint16_t link, uint64_t bytes);

/**
 * Change the FEC (k, m) a class's packets are charged for (the parity
 * the FEC stage will add on their links), e.g. after a live FEC change.
 * Links with a default bucket depth (bucket_bytes 0) are resized by the
 * create rule for the new largest charge over all classes (tokens kept,
 * clamped if the depth shrinks); links with an explicit bucket_bytes
 * must already hold the new charge.
 * @return 0, -EINVAL (bad class or k/m), -ERANGE (the new charge
 *   exceeds an explicit link bucket: needs a new scheduler). Nothing
 *   changes on error.
 */
int braid_sched_class_set_fec(struct braid_sched *s, uint16_t cls,
			      uint8_t fec_k, uint8_t fec_m);

/** Whether braid_sched_class_set_fec() would accept (k, m): a valid
 * pair whose largest charge fits every explicit link bucket (any thread:
 * reads only what create fixed). */
bool braid_sched_class_fec_fits(const struct braid_sched *s, uint8_t fec_k,
				uint8_t fec_m);

/**
 * Make class @p cls the strict-priority class shaped to @p rate_cap_kbps
 * (1..BRAID_SCHED_CAPACITY_MAX_KBPS; its bucket starts full, depth as
 * at create: the class's cap_bucket_bytes if it was created priority with
 * one, else max(2*mtu, 1 ms of the cap)), or with @p priority false a DRR
 * class again
 * with its weight (rate_cap_kbps ignored; weight 1 if it never had a
 * valid one). Setting the current state again only updates the cap
 * (tokens kept). Queued packets keep their order and none is dropped: a
 * class becoming priority leaves the DRR round, one leaving it with a
 * backlog joins the round's tail with a fresh quantum. Counters and
 * sequence numbers are untouched.
 * @return 0, -EINVAL (bad class or cap), -EBUSY (another class is the
 *   priority class: clear it first). Nothing changes on error.
 */
int braid_sched_class_set_priority(struct braid_sched *s, uint16_t cls,
				   bool priority, uint64_t rate_cap_kbps);

/**
 * Change the link policy of class @p cls, validated as at create: STRIPE
 * needs @p link_mask 0; PIN a non-zero mask of existing links; DUPLICATE
 * 2..(links in the mask) @p dup_copies over @p link_mask (0 = all links)
 * and the clone pool given at create. @p dup_copies is ignored unless
 * DUPLICATE. Applies from the next packet dequeued, queued ones
 * included.
 * @return 0, -EINVAL (bad class or values), -ENOTSUP (DUPLICATE without
 *   a clone pool). Nothing changes on error.
 */
int braid_sched_class_set_policy(struct braid_sched *s, uint16_t cls,
				 enum braid_sched_policy policy,
				 uint8_t dup_copies, uint32_t link_mask);

/**
 * Restrict class @p cls to the links of @p fit_mask (bit i = link i): those
 * whose delay fits the class's deadline, as the gateway measures them.
 * Applies on top of the policy's links; while none of the class's allowed
 * links in @p fit_mask is up, the class uses its other allowed links (a
 * late packet beats none) and counts each packet sent so as sent_unfit.
 * All links at create. Applies from the next packet dequeued.
 * @return 0 or -EINVAL (bad class, empty mask or a bit beyond n_links).
 */
int braid_sched_class_set_fit(struct braid_sched *s, uint16_t cls,
			      uint32_t fit_mask);

/** The fit mask of class @p cls (0 if out of range). */
uint32_t braid_sched_class_fit(const struct braid_sched *s, uint16_t cls);

/** Set the DRR weight (1..65535) of class @p cls (kept for when it leaves
 * priority if it is the priority class). @return 0 or -EINVAL. */
int braid_sched_class_set_weight(struct braid_sched *s, uint16_t cls,
				 uint32_t weight);

/** Packets queued in class @p cls (0 if out of range). */
unsigned int braid_sched_class_backlog(const struct braid_sched *s,
				       uint16_t cls);

/** Copy the scheduler-wide counters. */
void braid_sched_stats(const struct braid_sched *s,
		       struct braid_sched_stats *st);

/** Copy the counters of class @p cls. @return 0 or -EINVAL. */
int braid_sched_class_stats(const struct braid_sched *s, uint16_t cls,
			    struct braid_sched_class_stats *st);

/** Copy the counters of link @p link. @return 0 or -EINVAL. */
int braid_sched_link_stats(const struct braid_sched *s, uint16_t link,
			   struct braid_sched_link_stats *st);

/** What a struct braid_sched_cmd changes. */
enum braid_sched_cmd_op {
	BRAID_SCHED_CMD_LINK_STATE = 1, /**< link up/down, and its rate if up */
	BRAID_SCHED_CMD_LINK_CAPACITY,  /**< link rate */
	BRAID_SCHED_CMD_LINK_WEIGHT,    /**< link weight factor */
	BRAID_SCHED_CMD_LINK_CHARGE,    /**< bytes sent on a link outside sched */
	BRAID_SCHED_CMD_LINK_BACKUP,    /**< link backup or primary */
	BRAID_SCHED_CMD_CLASS_WEIGHT,   /**< class DRR weight */
	BRAID_SCHED_CMD_CLASS_FEC,      /**< class FEC (k, m) charge */
	BRAID_SCHED_CMD_CLASS_PRIORITY, /**< class strict priority and cap */
	BRAID_SCHED_CMD_CLASS_POLICY,   /**< class link policy */
	BRAID_SCHED_CMD_CLASS_FIT,      /**< class links in time */
};

/** A live change for the scheduler's lcore (control channel element). */
struct braid_sched_cmd {
	uint16_t op;          /**< enum braid_sched_cmd_op */
	uint16_t id;          /**< link (LINK_*) or class (CLASS_*) index */
	union {
		struct {
			bool up;
			uint64_t capacity_kbps;   /**< 0: nothing usable (down,
						   *   the rate kept) */
		} link_state;
		struct { uint64_t capacity_kbps; } link_capacity;
		struct { uint16_t factor_permille; } link_weight;
		struct { uint64_t bytes; } link_charge;
		struct { bool backup; } link_backup;
		struct { uint32_t weight; } class_weight;
		struct { uint8_t k; uint8_t m; } class_fec;
		struct {
			bool on;
			uint64_t rate_cap_kbps;
		} class_priority;
		struct {
			enum braid_sched_policy policy;
			uint8_t dup_copies;
			uint32_t link_mask;
		} class_policy;
		struct { uint32_t link_mask; } class_fit;
	};
};

/**
 * Apply @p cmd with the matching setter above (on the scheduler's lcore).
 * LINK_STATE: a link up with capacity 0 is set down (its rate kept);
 * up with a capacity, set up at that rate.
 * @return the setter's result, -EINVAL for an unknown op.
 */
int braid_sched_apply(struct braid_sched *s, const struct braid_sched_cmd *cmd);

/**
 * Stage ops, ctx = struct braid_sched *. apply: braid_sched_apply(). process: enqueue, the packets it
 * refuses are freed under their drop reason; poll: dequeue up to
 * BRAID_BURST into out; drain: braid_sched_drain(); stats: global
 * counters, then BRAID_SCHED_CLASS_COUNTERS of each class and
 * BRAID_SCHED_LINK_COUNTERS of each link, labelled with the class or link
 * (struct braid_stat_labels; flat names "class<i>_<name>", "link<i>_<name>").
 */
extern const struct braid_stage_ops braid_sched_stage_ops;

/*
 * Reference model: the class level (DRR + capped priority) written plainly
 * over packet lengths, with links assumed to have tokens. Tests check that
 * the scheduler picks the same sequence (ISA-L's _base idea).
 */
struct braid_sched_ref;

/** Build a reference model from @p conf (validated like create()).
 * @return the model, or NULL with rte_errno set. */
struct braid_sched_ref *braid_sched_ref_create(const struct braid_sched_conf *conf);

/** Free the model. */
void braid_sched_ref_free(struct braid_sched_ref *r);

/** Queue a packet of @p len bytes in class @p cls.
 * @return 0, -EINVAL (bad class or len) or -ENOBUFS (queue full). */
int braid_sched_ref_enqueue(struct braid_sched_ref *r, uint16_t cls,
			    uint32_t len);

/**
 * Pick the next packet at time @p now_ns.
 * @return its class, or -1 if nothing may be sent; *len and *seq are
 *   filled when a packet is picked.
 */
int braid_sched_ref_pick(struct braid_sched_ref *r, uint64_t now_ns,
			 uint32_t *len, uint32_t *seq);

#endif /* BRAID_SCHED_H */
