/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_EMU_MODEL_H
#define BRAID_EMU_MODEL_H

/**
 * @file
 * braid-linkemu impairment model: what happens to one direction of one
 * emulated WAN link. Pure code: the clock is an argument (now_ns), the RNG
 * is seeded by the caller, nothing here touches a socket or a real clock,
 * so tests drive it with a virtual clock.
 *
 * Order applied to each arriving frame (netem's order, see doc/testing.md):
 *   1. scheduled outage / periodic outage window  -> drop_outage
 *   2. Gilbert-Elliott state machine (if enabled) -> drop_ge
 *   3. independent random loss                    -> drop_loss
 *   4. duplication: a surviving frame may become two copies (duplicated)
 *   5. rate limiter: FIFO serialisation at rate_bps counting
 *      EMU_FRAME_OVERHEAD bytes per frame; a copy that would wait more than
 *      backlog_ns before its first bit goes out is tail-dropped (drop_backlog)
 *   6. delay + jitter (uniform or normal); total clamped at 0; unless
 *      reorder is set a copy is never released before the previous one.
 *
 * Every frame consumes the same number of random draws whatever its fate,
 * so with one seed the n-th frame of a direction always meets the same
 * loss/dup/jitter draws, whatever the timing.
 */

#include <stdbool.h>
#include <stdint.h>

/** Ethernet bytes on the wire besides the frame AF_PACKET sees:
 * preamble+SFD 8, FCS 4, inter-frame gap 12. */
#define EMU_FRAME_OVERHEAD 24u
/** Most scheduled outage windows per direction. */
#define EMU_MAX_OUTAGES 32u
/** Most parameter steps per direction. */
#define EMU_MAX_STEPS 64u

/** Per-direction counters, declared once (field name == JSON name). */
#define EMU_DIR_COUNTERS(X) \
	X(rx)                \
	X(forwarded)         \
	X(bytes)             \
	X(duplicated)        \
	X(drop_outage)       \
	X(drop_ge)           \
	X(drop_loss)         \
	X(drop_backlog)      \
	X(drop_nobuf)        \
	X(drop_oversize)     \
	X(drop_tx)           \
	X(drop_kernel)       \
	X(drop_flush)        \
	X(drop_nat)          /* b -> a to a NAT mapping that was replaced */

#define EMU_CNT_FIELD_(n) uint64_t n;
/** Counters of one direction. rx + duplicated == forwarded + every drop_*
 * except drop_kernel (frames the kernel dropped never reached rx) + frames
 * still queued. bytes counts forwarded frame bytes (no overhead). */
struct emu_dir_counters {
	EMU_DIR_COUNTERS(EMU_CNT_FIELD_)
};

/** Jitter distributions. */
enum emu_jitter_dist {
	EMU_JITTER_UNIFORM = 0, /**< uniform in [-jitter, +jitter] */
	EMU_JITTER_NORMAL,      /**< normal, sigma = jitter (netem's meaning) */
};

/** A time window relative to the emulator's start, [from_ns, to_ns). */
struct emu_window {
	uint64_t from_ns;
	uint64_t to_ns;
};

/** From at_ns on (since the emulator's start), the parameters a step
 * sets replace the direction's: a link whose rate, loss or delay changes
 * under the tunnel. */
struct emu_step {
	uint64_t at_ns;
	bool set_rate, set_loss, set_delay;
	uint64_t rate_bps;    /**< 0: no rate limit */
	double loss;
	uint64_t delay_ns;
};

/** Settings of one direction. Probabilities are in [0, 1]. */
struct emu_dir_conf {
	uint64_t rate_bps;    /**< 0: no rate limit */
	uint64_t backlog_ns;  /**< longest queueing delay before tail drop */
	uint64_t delay_ns;    /**< fixed one-way delay */
	uint64_t jitter_ns;   /**< 0: none */
	enum emu_jitter_dist jitter_dist;
	bool reorder;         /**< allow a copy to overtake an earlier one */
	double loss;          /**< independent loss probability */
	bool ge;              /**< Gilbert-Elliott enabled */
	double ge_p;          /**< P(good -> bad) per frame */
	double ge_r;          /**< P(bad -> good) per frame */
	double ge_loss_bad;   /**< 1-h: loss probability in the bad state */
	double ge_loss_good;  /**< 1-k: loss probability in the good state */
	double dup;           /**< duplication probability */
	unsigned int n_outages;
	struct emu_window outages[EMU_MAX_OUTAGES];
	uint64_t flap_up_ns;  /**< periodic outage: up time (0: disabled) */
	uint64_t flap_down_ns; /**< periodic outage: down time */
	uint64_t flap_from_ns; /**< periodic outage starts (first up phase) */
	uint64_t flap_to_ns;  /**< periodic outage ends (0: never) */
	unsigned int n_steps; /**< in time order */
	struct emu_step steps[EMU_MAX_STEPS];
};

/** xoshiro256** state. */
struct emu_rng {
	uint64_t s[4];
};

/** Fate of one frame: n copies (0, 1 or 2) and their release times. */
struct emu_verdict {
	unsigned int n;
	uint64_t release_ns[2];
};

struct emu_dir;
struct emu_pq;

/**
 * Fill @p c with a transparent direction: no rate limit, no delay, no
 * loss, backlog 100 ms (used once a rate is set).
 *
 * @param c configuration to initialise.
 */
void emu_dir_conf_init(struct emu_dir_conf *c);

/**
 * Check a configuration.
 *
 * @param c configuration.
 * @return 0, or -EINVAL when a probability is outside [0, 1], an outage
 *         window is empty or reversed, or a periodic outage is half set.
 */
int emu_dir_conf_check(const struct emu_dir_conf *c);

/**
 * Seed a generator (splitmix64 expansion of @p seed).
 *
 * @param r generator.
 * @param seed any value, 0 included.
 */
void emu_rng_seed(struct emu_rng *r, uint64_t seed);

/**
 * Next 64 random bits.
 *
 * @param r generator.
 * @return 64 random bits.
 */
uint64_t emu_rng_next(struct emu_rng *r);

/**
 * Uniform double in [0, 1) with 53 random bits.
 *
 * @param r generator.
 * @return a value in [0, 1).
 */
double emu_rng_unit(struct emu_rng *r);

/**
 * Standard normal deviate (Box-Muller; always consumes two draws).
 *
 * @param r generator.
 * @return N(0, 1) sample.
 */
double emu_rng_normal(struct emu_rng *r);

/**
 * Create the model of one direction.
 *
 * @param c configuration (copied; must pass emu_dir_conf_check()).
 * @param seed RNG seed of this direction.
 * @param start_ns time origin of outage windows (the emulator's start).
 * @return the model, or NULL with errno set (EINVAL, ENOMEM).
 */
struct emu_dir *emu_dir_create(const struct emu_dir_conf *c, uint64_t seed,
			       uint64_t start_ns);

/**
 * Free a model. NULL is accepted.
 *
 * @param d model.
 */
void emu_dir_free(struct emu_dir *d);

/**
 * Decide the fate of one frame and count it (rx, duplicated, drop_*).
 * Arrival times must not decrease from one call to the next.
 *
 * @param d model.
 * @param now_ns arrival time of the frame.
 * @param len frame length in bytes as seen on the interface (no FCS).
 * @param segs frames on the wire this buffer stands for (1, or the GSO
 *        segment count), each charged EMU_FRAME_OVERHEAD by the rate limiter.
 * @param v out: number of copies to send and their release times.
 */
void emu_dir_admit(struct emu_dir *d, uint64_t now_ns, uint32_t len,
		   uint32_t segs, struct emu_verdict *v);

/**
 * Counters of a direction. The program owning the sockets adds forwarded,
 * bytes and the drops the model cannot see (nobuf, oversize, tx, kernel,
 * flush) through this pointer; the model never clears them.
 *
 * @param d model.
 * @return the counters.
 */
struct emu_dir_counters *emu_dir_counters(struct emu_dir *d);

/**
 * Whether a frame arriving at @p now_ns falls in an outage window.
 *
 * @param d model.
 * @param now_ns absolute time.
 * @return true inside a scheduled or periodic outage.
 */
bool emu_dir_in_outage(const struct emu_dir *d, uint64_t now_ns);

/**
 * Create a release queue: a binary min-heap on (release time, push order),
 * so equal times come out first-in first-out.
 *
 * @param capacity most entries held at once (>= 1).
 * @return the queue, or NULL with errno set (EINVAL, ENOMEM).
 */
struct emu_pq *emu_pq_create(uint32_t capacity);

/**
 * Free a queue (not the items it still holds). NULL is accepted.
 *
 * @param q queue.
 */
void emu_pq_free(struct emu_pq *q);

/**
 * Add an item.
 *
 * @param q queue.
 * @param t_ns release time.
 * @param item opaque pointer handed back by emu_pq_pop().
 * @return 0, or -ENOSPC when the queue is full.
 */
int emu_pq_push(struct emu_pq *q, uint64_t t_ns, void *item);

/**
 * Release time of the earliest item.
 *
 * @param q queue.
 * @param t_ns out: earliest release time (untouched when empty).
 * @return true when the queue is not empty.
 */
bool emu_pq_peek(const struct emu_pq *q, uint64_t *t_ns);

/**
 * Remove the earliest item.
 *
 * @param q queue.
 * @param t_ns out (may be NULL): its release time.
 * @return the item, or NULL when the queue is empty.
 */
void *emu_pq_pop(struct emu_pq *q, uint64_t *t_ns);

/**
 * Number of items held.
 *
 * @param q queue.
 * @return item count.
 */
uint32_t emu_pq_count(const struct emu_pq *q);

#endif /* BRAID_EMU_MODEL_H */
