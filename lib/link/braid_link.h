/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_LINK_H
#define BRAID_LINK_H

/**
 * @file
 * Link health (kind "link_health"): one object per gateway measures every
 * WAN link to the peer and turns the measurements into a state
 * (up / degraded / down) and a usable capacity for the scheduler.
 * doc/link-health.md is the specification of every rule below.
 *
 * Inputs, all timed by the caller's now_ns (no clock is read inside):
 *  - every frame received on a link (braid_link_rx(), or braid_link_burst()
 *    on frames fresh from the decap stage): per-link sequence gaps give the
 *    receive loss (reorder window BRAID_LINK_REORDER_WINDOW, 2^32 wrap),
 *    the peer's send timestamp gives RFC 3550 jitter and the one-way delay
 *    variation, the bytes give the delivered rate;
 *  - probes from the peer: answered with a probe_reply carrying our view
 *    of the link (frames received, lost, highest link seq);
 *  - replies to our probes: an RTT sample (now - probe_tx -
 *    (reply_tx - probe_rx): the two clocks are never compared), RFC 6298
 *    SRTT/RTTVAR, a windowed minimum, and the peer's view of our
 *    transmit loss.
 * Outputs: a probe per link every probe interval (braid_link_update() /
 * braid_link_poll()), probe replies, and per link a state and a usable
 * capacity (braid_link_usable_kbps()), published with a generation counter
 * (braid_link_generation()) and an optional change callback.
 *
 * Threading: the object belongs to one lcore (the one that runs the
 * receive side after rx_decap, since every received frame is fed to it).
 * Only that lcore calls the functions marked "owner". The read functions
 * (braid_link_info_get(), braid_link_usable_kbps(), braid_link_state(),
 * braid_link_generation(), braid_link_peer_session()) and
 * braid_link_admin_set() may be called from any thread: the owner
 * publishes per-link snapshots under a sequence counter, readers never
 * block it and never see a torn snapshot.
 *
 * No allocation after braid_link_create() except the probe and reply mbufs
 * taken from the pool given at create.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_stage.h"
#include "braid_wire.h"

struct braid_link;
struct rte_mempool;
struct rte_ring;

/** Links one object measures (link ids 0..n_links-1, shared with wire). */
#define BRAID_LINK_MAX_LINKS BRAID_WIRE_MAX_LINKS
/** Link seqs behind the highest one received that still count as
 * reordered (filling a hole) rather than late. */
#define BRAID_LINK_REORDER_WINDOW 1024u
/** Loss rates count a link seq as lost only once the highest seq received
 * is this far past it (a frame reordered by less is not a loss blip). */
#define BRAID_LINK_LOSS_SETTLE 32u
/** Loss rates need this many (exponentially weighted) frames behind
 * them before they count for state and capacity. */
#define BRAID_LINK_LOSS_MIN_FRAMES 20u
/** Probes remembered per link: probe_timeout_ms may cover at most
 * BRAID_LINK_PROBE_SLOTS - 1 probe intervals. */
#define BRAID_LINK_PROBE_SLOTS 256u
/** The header's send time is in us modulo 2^32: transit times are
 * reduced modulo this many ns, so a 32-bit us clock wraps invisibly. */
#define BRAID_LINK_PEER_CLOCK_WRAP_NS (4294967296ULL * 1000ULL)

/** Link state. Ordered: a larger value is a better state, except
 * ADMIN_DOWN, which overrides the measured state. */
enum braid_link_state {
	BRAID_LINK_DOWN = 0,     /**< no probe reply for down_after_probes intervals */
	BRAID_LINK_DEGRADED = 1, /**< alive, loss or RTT above the thresholds */
	BRAID_LINK_UP = 2,       /**< alive and clean */
	BRAID_LINK_ADMIN_DOWN = 3, /**< switched off by the operator */
};

/** One link's static configuration. */
struct braid_link_link_conf {
	uint64_t capacity_kbps; /**< configured rate, 1..100000000 */
	bool admin_down;        /**< start administratively down */
	/** Path MTU check: every BRAID_LINK_MTU_PROBE_EVERY-th probe carries
	 * this many payload bytes (zero padding after the 16 of a probe), so
	 * its frame is as large as the link's MTU allows; 0 = no check. */
	uint16_t mtu_probe_len;
};

/** One probe in this many is an MTU probe (when the link has one). */
#define BRAID_LINK_MTU_PROBE_EVERY 20
/** MTU probes lost in a row, while the others are answered, that say the
 * path MTU is smaller than the link's. */
#define BRAID_LINK_MTU_FAIL_AFTER 3

/** What the MTU probes found (braid_link_info.mtu). */
enum braid_link_mtu_state {
	BRAID_LINK_MTU_UNKNOWN = 0,   /**< no check, or none answered or lost yet */
	BRAID_LINK_MTU_OK,            /**< a full-size probe crossed both ways */
	BRAID_LINK_MTU_TOO_SMALL,     /**< full-size probes vanish: path MTU smaller */
};

/**
 * Called by the owner (from braid_link_update()) when a link's state or
 * published usable capacity changes; the glue pushes the values to the
 * scheduler (braid_sched_link_set_up/_set_capacity).
 */
typedef void (*braid_link_change_fn)(void *arg, uint16_t link,
				     enum braid_link_state state,
				     uint64_t usable_kbps);

/** Link health configuration; braid_link_conf_defaults() fills it. */
struct braid_link_conf {
	uint16_t n_links;              /**< 1..BRAID_LINK_MAX_LINKS */
	struct braid_link_link_conf links[BRAID_LINK_MAX_LINKS];
	uint32_t probe_interval_ms;    /**< 1..10000, default 50 */
	uint32_t down_after_probes;    /**< 1..100, default 3: silence of this
					*   many intervals makes a link down */
	uint32_t up_hold_ms;           /**< 0..600000, default 2000: better
					*   state must hold this long */
	uint32_t hold_max_ms;          /**< up_hold_ms..3600000, default 60000:
					*   cap of the exponential hold-down */
	uint32_t probe_timeout_ms;     /**< default 1000: unanswered for this
					*   long = lost (longer on a link whose
					*   SRTT + 4 RTTVAR is more: a long
					*   link's probes are not all "lost");
					*   1..(SLOTS-1) intervals */
	uint32_t loss_enter_ppm;       /**< default 50000 (5 %): degrade above */
	uint32_t loss_leave_ppm;       /**< default 10000 (1 %): <= enter */
	uint32_t rtt_enter_us;         /**< 0 = no RTT threshold (default) */
	uint32_t rtt_leave_us;         /**< <= rtt_enter_us; 0 with enter 0 */
	uint32_t loss_tau_ms;          /**< 1..600000, default 1000: loss EWMA */
	uint32_t rate_tau_ms;          /**< 1..600000, default 1000: rate EWMA */
	uint32_t capacity_tau_ms;      /**< 0..600000, default 500: usable
					*   capacity rises with this time
					*   constant (falls at once) */
	uint32_t rtt_min_window_ms;    /**< 1..3600000, default 10000: RTT and
					*   transit minimum window */
	uint16_t degraded_permille;    /**< 0..1000, default 500: capacity
					*   share of a degraded link */
	uint16_t change_permille;      /**< 1..1000, default 10: usable changes
					*   smaller than this share of the
					*   capacity are not published */
	/** Receive silence (see "Suspect links" in doc/link-health.md): a
	 * link the peer's frames stopped arriving on for silence_gaps times
	 * its mean frame gap (at least silence_min_ms) while another link
	 * still receives is *suspect*: usable capacity 0 until its next
	 * frame. 0..1000, default 8; 0 = off. */
	uint16_t silence_gaps;
	uint32_t silence_min_ms;       /**< 1..10000, default 10 */
	/** Probe and reply mbufs (data room >= RTE_PKTMBUF_HEADROOM + 56);
	 * NULL: the mbuf functions build nothing and count drop_no_mbuf. */
	struct rte_mempool *pool;
	/** MTU probes (links[].mtu_probe_len bytes of payload); NULL: pool. */
	struct rte_mempool *mtu_pool;
	/** Stage only: where probes and replies go (towards encap); NULL:
	 * they leave the stage in its output, after the frames it passes. */
	struct rte_ring *tx_ring;
	/** Stage only: where the other control frames (NACKs) go, to the
	 * control path (counted drop_ctrl_full when full); NULL: they leave
	 * the stage in its output with the data. */
	struct rte_ring *ctrl_ring;
	braid_link_change_fn on_change; /**< optional */
	void *on_change_arg;
};

/** A probe due on @p link, for callers that build frames themselves. */
struct braid_link_probe_tx {
	uint16_t link;
	uint16_t pad_len;          /**< payload bytes of an MTU probe, else 0 */
	struct braid_probe probe;
};

/** One link as management sees it (braid_link_info_get()). */
struct braid_link_info {
	enum braid_link_state state;  /**< effective (ADMIN_DOWN overrides) */
	enum braid_link_state health; /**< measured, even when admin down */
	uint32_t rtt_min_us;       /**< windowed minimum RTT, 0 = no sample */
	uint32_t srtt_us;          /**< RFC 6298 smoothed RTT */
	uint32_t rttvar_us;        /**< RFC 6298 RTT variation */
	uint32_t jitter_us;        /**< RFC 3550 interarrival jitter (rx) */
	uint32_t owd_var_us;       /**< smoothed one-way delay above the
				    *   link's windowed minimum (queueing) */
	int64_t owd_offset_us;     /**< this link's minimum one-way delay
				    *   minus the smallest over all links */
	uint32_t rx_loss_ppm;      /**< loss peer -> us (our link seq view) */
	uint32_t tx_loss_ppm;      /**< loss us -> peer (the peer's replies) */
	uint64_t delivered_kbps;   /**< received rate on the link (EWMA) */
	uint64_t usable_kbps;      /**< published usable capacity */
	uint64_t capacity_kbps;    /**< configured */
	uint64_t estimated_kbps;   /**< what the link's queue says it
				    *   carries (<= configured) */
	uint32_t queue_us;         /**< our direction's queueing delay (last
				    *   probe above the windowed minimum) */
	uint64_t capacity_cuts;    /**< times the estimate was lowered */
	uint64_t probes_sent;
	uint64_t probes_answered;  /**< replies in time */
	uint64_t probes_lost;      /**< unanswered after probe_timeout_ms */
	uint64_t replies_late;     /**< replies to probes already lost */
	enum braid_link_mtu_state mtu; /**< the path MTU check */
	uint64_t mtu_probes_lost;  /**< MTU probes unanswered (not in probes_lost) */
	uint64_t rx_packets;       /**< unique frames received, this session */
	uint64_t rx_bytes;
	uint64_t rx_lost;          /**< link seqs never received (cumulative) */
	uint64_t rx_dup;
	uint64_t rx_late;          /**< older than the reorder window */
	uint32_t rx_max_seq;       /**< highest link seq received */
	uint64_t peer_rx_packets;  /**< the peer's last report of our frames */
	uint64_t peer_lost;        /**< ... and of our lost frames */
	uint64_t state_changes;
	uint64_t last_change_ns;   /**< engine clock of the last change */
	uint32_t hold_ms;          /**< current hold time (hold-down) */
	bool suspect;              /**< receive silence: capacity 0 until the
				    *   peer's next frame on the link */
	uint64_t suspects;         /**< times the link became suspect */
};

/** Link health counters (whole object). Every frame given to
 * braid_link_burst() is passed on or in exactly one of rx_probes,
 * rx_replies or a drop_ counter. The stage's own: drop_tx_full,
 * drop_out_full, drop_ctrl_full, drop_segmented (frames passed on and
 * then dropped), unchained and linearized (braid_decap_flatten()). */
#define BRAID_LINK_COUNTERS(X) \
	X(rx_frames) \
	X(rx_probes) \
	X(rx_replies) \
	X(passed) \
	X(probes_sent) \
	X(replies_sent) \
	X(probes_lost) \
	X(mtu_probes_lost) \
	X(replies_late) \
	X(replies_unmatched) \
	X(session_changes) \
	X(state_changes) \
	X(capacity_updates) \
	X(capacity_cuts)    /* the queue estimate lowered a link's capacity */ \
	X(capacity_rises)   /* ... and raised it a step (calm queue) */ \
	X(suspects) \
	X(drop_stale_session) \
	X(drop_bad_link) \
	X(drop_malformed) \
	X(drop_no_mbuf) \
	X(drop_tx_full) \
	X(drop_out_full) \
	X(drop_ctrl_full) \
	X(unchained) \
	X(linearized) \
	X(drop_segmented)

/** Counter snapshot. */
struct braid_link_stats {
	BRAID_COUNTERS_FIELDS(BRAID_LINK_COUNTERS)
} __rte_cache_aligned;

/** Fill @p conf with the defaults (n_links 0, no pool, no callback). */
void braid_link_conf_defaults(struct braid_link_conf *conf);

/**
 * Validate @p conf and allocate the object on @p socket. Every link
 * starts DOWN (or ADMIN_DOWN) with hold time 0: the first clean reply
 * brings it up; later recoveries wait for the hold time.
 * @return the object, or NULL with rte_errno EINVAL (a value out of range,
 *   braid_meta_register() not called) or ENOMEM.
 */
struct braid_link *braid_link_create(const struct braid_link_conf *conf, int socket);

/** Free @p lh (NULL is a no-op). */
void braid_link_free(struct braid_link *lh);

/** The peer send time to give braid_link_rx() from a header's tx_us. */
static inline uint64_t
braid_link_peer_tx_ns(uint32_t tx_us)
{
	return (uint64_t)tx_us * 1000ULL;
}

/**
 * Owner. Note the peer session id of a received frame. The first one is
 * adopted; a different one resets every link's peer-derived statistics
 * (receive sequence, loss both ways, jitter, delays, delivered rate; RTT
 * and states are ours and stay); frames of the session it replaced are
 * stale.
 * @return 0 (current session, or the new one), -ESTALE (the replaced
 *   session: ignore the frame).
 */
int braid_link_session(struct braid_link *lh, uint32_t session_id, uint64_t now_ns);

/**
 * Owner. Account one frame received on @p link: link sequence number
 * @p link_seq, peer send time @p peer_tx_ns (braid_link_peer_tx_ns() of
 * the header's tx_us; only differences are used), @p bytes frame bytes,
 * arrival time @p now_ns. Call braid_link_session() first.
 * @return 0, or -EINVAL (bad link).
 */
int braid_link_rx(struct braid_link *lh, uint16_t link, uint32_t link_seq,
		  uint64_t peer_tx_ns, uint32_t bytes, uint64_t now_ns);

/**
 * Owner. A probe from the peer arrived on @p link at @p rx_ns: fill
 * @p reply (echo, our times, our view of the link) to send back on the
 * same link at @p now_ns. The view counts frames received and lost up to
 * BRAID_LINK_LOSS_SETTLE seqs behind the highest one (link_max_seq), and
 * leaves out the gaps of outages (seqs skipped while the link was down),
 * so the prober's loss rate is that of the working link.
 * @return 0, -ENETDOWN (the link is administratively down: send no
 *   reply), or -EINVAL (bad link).
 */
int braid_link_probe_rx(struct braid_link *lh, uint16_t link,
			const struct braid_probe *probe, uint64_t rx_ns,
			uint64_t now_ns, struct braid_probe_reply *reply);

/**
 * Owner. A reply to one of our probes arrived on @p link at @p now_ns:
 * RTT sample, liveness, the peer's view of our transmit loss. A reply
 * that matches no probe we remember (id and send time) is counted
 * (replies_unmatched) and ignored.
 * @return 0, -ENOENT (unmatched), -EINVAL (bad link).
 */
int braid_link_reply_rx(struct braid_link *lh, uint16_t link,
			const struct braid_probe_reply *reply, uint64_t now_ns);

/**
 * Owner. Timer work at @p now_ns: lost probes, states with hysteresis and
 * hold-down, loss/rate estimates, usable capacities (change callback,
 * generation), published snapshots; and the probes now due, written to
 * @p out (up to @p n; probes that do not fit are sent by the next call).
 * Call it once per loop iteration.
 * @return number of probes written to @p out.
 */
uint16_t braid_link_update(struct braid_link *lh, uint64_t now_ns,
			   struct braid_link_probe_tx *out, uint16_t n);

/**
 * Owner. braid_link_update() that builds the due probes as mbufs (from
 * the conf pool, meta link_id set, ready for encap).
 * @return number of mbufs written to @p out.
 */
uint16_t braid_link_poll(struct braid_link *lh, uint64_t now_ns,
			 struct rte_mbuf **out, uint16_t n);

/**
 * Owner. Frames fresh from the decap stage (braid_decap_hdr() valid, meta
 * link_id, pkt_type and rx_ns set): every frame is accounted (session,
 * braid_link_rx()); probes and probe replies are consumed (freed) and a
 * reply mbuf is written to @p tx for each probe; other frames stay in
 * @p pkts, compacted, in order.
 * @param tx room for at least @p n mbufs.
 * @param n_tx out: number of mbufs written to @p tx.
 * @return number of frames left in @p pkts.
 */
uint16_t braid_link_burst(struct braid_link *lh, struct rte_mbuf **pkts,
			  uint16_t n, struct rte_mbuf **tx, uint16_t *n_tx,
			  uint64_t now_ns);

/** Any thread. Set or clear the administrative down state of @p link;
 * the owner applies it at its next update. @return 0 or -EINVAL. */
int braid_link_admin_set(struct braid_link *lh, uint16_t link, bool down);

/**
 * Owner. Change the configured capacity of @p link (management: a live
 * `links.set capacity_kbps`). The usable capacity follows from the next
 * update on, with the usual rules (falls at once, rises with
 * capacity_tau_ms), and is published through the change callback;
 * braid_link_info_get() shows the new capacity after that update.
 * @return 0 or -EINVAL (bad link, capacity not in 1..100000000).
 */
int braid_link_capacity_set(struct braid_link *lh, uint16_t link,
			    uint64_t capacity_kbps);

/** Any thread. Published usable capacity of @p link (0 if out of range). */
uint64_t braid_link_usable_kbps(const struct braid_link *lh, uint16_t link);

/** Any thread. Published state of @p link (ADMIN_DOWN if out of range). */
enum braid_link_state braid_link_state(const struct braid_link *lh, uint16_t link);

/** Whether the link of @p li may carry traffic now: up or degraded, and
 * not suspect (receive silence). */
static inline bool
braid_link_info_usable(const struct braid_link_info *li)
{
	return (li->state == BRAID_LINK_UP || li->state == BRAID_LINK_DEGRADED) &&
	       !li->suspect;
}

/** What a deadline must allow for a packet sent on the link of @p li:
 * our direction's one-way delay (half the smoothed RTT: the two clocks
 * are never compared) plus RTTVAR as the jitter margin. 0 = no RTT
 * sample yet. */
static inline uint64_t
braid_link_info_delay_us(const struct braid_link_info *li)
{
	return li->srtt_us == 0 ? 0 : (uint64_t)li->srtt_us / 2 + li->rttvar_us;
}

/** A link in time leaves above the deadline; a link out of time comes
 * back at or below this share of it (per-mille), so a link whose delay
 * sits at the deadline does not flap in and out. */
#define BRAID_LINK_FIT_BACK_PERMILLE 800u

/**
 * Whether the link of @p li fits a class whose packets must arrive within
 * @p deadline_us (braid_link_info_delay_us()), given whether it did
 * (@p was_fit, with hysteresis). A link not measured yet keeps @p was_fit.
 */
static inline bool
braid_link_info_fits(const struct braid_link_info *li, uint64_t deadline_us,
		     bool was_fit)
{
	uint64_t d = braid_link_info_delay_us(li);

	if (d == 0)
		return was_fit;
	if (was_fit)
		return d <= deadline_us;
	return d * 1000 <= deadline_us * BRAID_LINK_FIT_BACK_PERMILLE;
}

/** The best links to the peer by smoothed RTT (braid_link_best2()). */
struct braid_link_best {
	/** Smallest and second smallest SRTT among the usable links with an
	 * RTT sample; link[1] = link[0] when there is only one; both the
	 * caller's default when there is none. */
	uint16_t link[2];
	uint64_t srtt_ns;     /**< SRTT of link[0]; 0 = no usable link measured */
	uint64_t rttvar_ns;   /**< RTTVAR of link[0] */
	uint64_t usable_Bps;  /**< usable capacity of every usable link, bytes/s */
};

/**
 * Any thread (reads the published snapshots). The two links with the
 * smallest smoothed RTT among the usable ones (braid_link_info_usable()),
 * for control traffic that must get through: NACKs on the receiver,
 * retransmissions on the sender; ties go to the lower link id.
 * @param dflt the links when no usable link has an RTT sample yet.
 */
void braid_link_best2(const struct braid_link *lh, uint16_t dflt,
		      struct braid_link_best *best);

/** Live changes of link health (stage command, struct braid_link_cmd). */
enum braid_link_cmd_op {
	BRAID_LINK_CMD_ADMIN = 1,    /**< admin_down: switch the link off/on */
	BRAID_LINK_CMD_CAPACITY,     /**< capacity_kbps: configured capacity */
};

/** One command of the link health stage's control channel (cmd_size):
 * applied on the stage's lcore by braid_link_stage_ops.apply(). */
struct braid_link_cmd {
	uint16_t op;     /**< enum braid_link_cmd_op */
	uint16_t link;   /**< link id */
	uint32_t pad;
	union {
		bool admin_down;          /**< BRAID_LINK_CMD_ADMIN */
		uint64_t capacity_kbps;   /**< BRAID_LINK_CMD_CAPACITY, 1..100000000 */
	};
};

/** Any thread. Bumped whenever a link's published state or usable
 * capacity changes: compare with the value seen last time. */
uint64_t braid_link_generation(const struct braid_link *lh);

/** Any thread. The peer's session id; @return false if none seen yet. */
bool braid_link_peer_session(const struct braid_link *lh, uint32_t *session_id);

/** Any thread. Snapshot of @p link as of the owner's last update.
 * @return 0 or -EINVAL. */
int braid_link_info_get(const struct braid_link *lh, uint16_t link,
			struct braid_link_info *info);

/** Copy the counters (never clears). Owner, or any thread for a
 * possibly slightly stale view. */
void braid_link_stats(const struct braid_link *lh,
		      struct braid_link_stats *c);

/** Name of @p s: "down", "degraded", "up", "admin_down". */
const char *braid_link_state_name(enum braid_link_state s);

/**
 * Stage ops ("link_health"), ctx = struct braid_link *; the receive
 * chain's stage right after rx_decap, the last reader of the braid
 * header. process() runs braid_link_burst(); data and parity are made
 * contiguous (braid_decap_flatten(): the outer headers are gone after
 * it) and pass to the output; NACKs go to the conf ctrl_ring (or, without
 * one, to the output); replies go to the conf tx_ring (counted
 * drop_tx_full if it is full) or, without one, to the output. poll()
 * runs braid_link_poll() and sends the probes the same way. apply()
 * takes a struct braid_link_cmd (cmd_size).
 */
extern const struct braid_stage_ops braid_link_stage_ops;

#endif /* BRAID_LINK_H */
