/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_STAGE_H
#define BRAID_STAGE_H

/**
 * @file
 * A pipeline stage: a named burst function over mbufs with its own
 * counters, run by the stage runner (braid_runner.h) on one lcore.
 *
 * Ownership rule: every mbuf handed to process() is, before it returns,
 * either pushed to @p out (to the next stage), kept by the stage (queued,
 * held for a block, cached), or freed and counted under a named drop
 * reason. No mbuf is freed uncounted. poll() runs once per loop iteration
 * for timer- or queue-driven work (RX, DWRR dequeue, FEC block timeout,
 * TX drain) and pushes what it produces to @p out.
 *
 * A stage object is single-threaded: only the lcore it is placed on calls
 * it (and the main lcore during shutdown, after that lcore has stopped).
 *
 * Live changes reach a stage through its control channel: a stage that
 * takes commands declares their size (cmd_size, its library's own
 * command struct) and apply(); the runner gives it a fixed-element ring
 * (braid_runner_cmd_send()) and applies what is queued at the top of the
 * stage's step, on the stage's lcore, before it sees the next packets.
 */
#include <stdint.h>
#include <rte_common.h>
#include <rte_mbuf.h>

/** Largest burst read from a port or ring in one call. */
#define BRAID_BURST 32
/** Room in a stage's output burst: a 32-packet input may close 32 FEC
 * blocks that each add parity, so the output is larger than the input. */
#define BRAID_BURST_OUT_MAX 1024

/** Packets flowing from one stage to the next. */
struct braid_burst {
	uint16_t n;
	struct rte_mbuf *pkts[BRAID_BURST_OUT_MAX];
};

/** Free room in @p b. */
static inline uint16_t
braid_burst_room(const struct braid_burst *b)
{
	return (uint16_t)(BRAID_BURST_OUT_MAX - b->n);
}

/**
 * Append @p m to @p b.
 * @return 0, or -1 when full: the caller still owns @p m and must count
 *   and free it (or keep it).
 */
static inline int
braid_burst_push(struct braid_burst *b, struct rte_mbuf *m)
{
	if (unlikely(b->n >= BRAID_BURST_OUT_MAX))
		return -1;
	b->pkts[b->n++] = m;
	return 0;
}

/** No class / no link in a struct braid_stat_labels. */
#define BRAID_STAT_NONE (-1)

/**
 * What a counter is about, as data: a counter of one class or one link
 * of a stage is reported under its own name ("enqueued", "sent_pkts")
 * with the class or link index here, never with the index in the name.
 * Consumers that want one flat name ("class0_enqueued") compose it with
 * braid_stats_name() (lib/stats); the Prometheus exporter turns the
 * indexes into labels.
 */
struct braid_stat_labels {
	int32_t class_id;   /**< class index, or BRAID_STAT_NONE */
	int32_t link_id;    /**< link index, or BRAID_STAT_NONE */
};

/**
 * Report one counter: @p name is snake_case and stable (it is API);
 * @p labels is NULL for a counter of the whole stage, else it says which
 * class or link the counter is about.
 */
typedef void (*braid_stat_fn)(void *arg, const char *name,
			      const struct braid_stat_labels *labels,
			      uint64_t value);

/** The poll() reads from outside the pipeline (a port): the runner stops
 * calling it first at shutdown. */
#define BRAID_STAGE_F_SOURCE 0x1

/** Largest command a stage's control channel carries, in bytes. */
#define BRAID_CMD_MAX_SIZE 64

/** What a stage implements. Unused callbacks are NULL. */
struct braid_stage_ops {
	const char *kind;   /**< "classify", "sched", ... */
	uint32_t flags;     /**< BRAID_STAGE_F_* */
	/** Size of one command (the library's struct braid_<stage>_cmd),
	 * 1..BRAID_CMD_MAX_SIZE; 0 = the stage takes no commands. */
	uint16_t cmd_size;

	/** Consume pkts[0..n-1] (n >= 1) at time @p now_ns. */
	void (*process)(void *ctx, struct rte_mbuf **pkts, uint16_t n,
			struct braid_burst *out, uint64_t now_ns);

	/** Timer/queue work once per loop iteration.
	 * @return number of packets produced or consumed (0 = idle). */
	uint16_t (*poll)(void *ctx, struct braid_burst *out, uint64_t now_ns);

	/** Shutdown, input already stopped: push everything still held to
	 * @p out, or free it under a counted reason. Called repeatedly while
	 * it returns non-zero (packets pushed), so it may work in chunks. */
	uint16_t (*drain)(void *ctx, struct braid_burst *out, uint64_t now_ns);

	/** Apply one command (cmd_size bytes) on the stage's own lcore.
	 * @return 0, or -errno (counted by the runner as cmds_failed). */
	int (*apply)(void *ctx, const void *cmd);

	/** Report every counter of the stage (sum over its own lcore). */
	void (*stats)(const void *ctx, braid_stat_fn fn, void *arg);
};

/** A stage instance: ops plus its private context. */
struct braid_stage {
	char name[32];                      /**< unique, e.g. "sched" */
	const struct braid_stage_ops *ops;
	void *ctx;
};

#endif /* BRAID_STAGE_H */
