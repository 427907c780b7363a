/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_RUNNER_H
#define BRAID_RUNNER_H

/**
 * @file
 * The stage runner. Stages form linear chains (the sender chain LAN RX ->
 * classify -> sched -> fec -> rtx -> TX; the receiver chain link RX -> ...
 * -> LAN TX). Each stage is placed on one lcore. Consecutive stages of a
 * chain on the same lcore pass bursts directly; where a chain crosses to
 * another lcore the runner puts an rte_ring (SP/SC) between them. No locks.
 *
 * Each lcore loop: read the clock once, run its segments, and after
 * idle_polls iterations without work sleep, doubling from 1 us up to
 * idle_sleep_max_us (0 = never sleep: dedicated cores).
 *
 * Control channel: every stage whose ops take commands (cmd_size, apply)
 * gets a multi-producer/single-consumer ring of fixed-size elements
 * (rte_ring_elem: commands are copied in, nothing is allocated). Any
 * thread queues with braid_runner_cmd_send() (one command, never blocks)
 * or braid_runner_cmd_send_all() (several stages, all or none); the
 * stage's lcore applies them at the top of the stage's step. A full ring
 * is a counted failure (cmds_dropped), never silent.
 *
 * Shutdown: braid_runner_stop() (async-signal-safe) makes every lcore leave
 * its loop; braid_runner_shutdown() then waits for them and, on the calling
 * lcore, walks each chain in order: packets left in rings go through the
 * rest of the chain and every stage's drain() flushes what it holds, so TX
 * buffers are sent or counted and nothing stays in flight.
 */
#include <stdbool.h>
#include <stdint.h>

#include "braid_stage.h"

#define BRAID_MAX_STAGES 32
#define BRAID_MAX_CHAINS 4
/** Default size of a stage's control ring (commands). */
#define BRAID_CMD_RING_DEFAULT 1024
/** Most commands one braid_runner_cmd_send_all() queues on one stage:
 * single sends leave this much room free for it. */
#define BRAID_CMD_BATCH_MAX 256

struct braid_runner;

/** One stage and where it runs. */
struct braid_runner_stage {
	struct braid_stage stage;
	unsigned int chain;   /**< chain index, < BRAID_MAX_CHAINS */
	unsigned int lcore;   /**< EAL lcore id */
};

struct braid_runner_conf {
	unsigned int n_stages;
	/** Stages of each chain in pipeline order (chains may interleave). */
	struct braid_runner_stage stages[BRAID_MAX_STAGES];
	unsigned int ring_size;          /**< power of two, >= 2 * BRAID_BURST */
	/** Commands a stage's control ring holds (power of two, >= 2 *
	 * BRAID_CMD_BATCH_MAX); 0 = BRAID_CMD_RING_DEFAULT. */
	unsigned int cmd_ring_size;
	unsigned int idle_polls;         /**< empty iterations before sleeping */
	unsigned int idle_sleep_max_us;  /**< 0 = busy-poll forever */
	/** Optional work for the main lcore when it also runs stages
	 * (management, console stats), called every hook_period_us. */
	void (*main_hook)(void *arg, uint64_t now_ns);
	void *main_hook_arg;
	unsigned int hook_period_us;
};

/** What the runner counts for each stage (in addition to stage->stats). */
struct braid_runner_stage_stats {
	uint64_t pkts_in;          /**< handed to process() */
	uint64_t pkts_out;         /**< pushed to out by process/poll/drain */
	uint64_t drop_ring_full;   /**< next ring full: freed */
	uint64_t drop_unrouted;    /**< output of a chain's last stage: freed */
	uint64_t cmds_applied;     /**< commands apply() took */
	uint64_t cmds_failed;      /**< commands apply() refused */
	uint64_t cmds_dropped;     /**< sends refused: control ring full */
	unsigned int ring_count;   /**< packets now in this stage's input ring */
	unsigned int ring_size;    /**< 0 if the stage has no input ring */
};

struct braid_runner_lcore_stats {
	uint64_t loops;
	uint64_t busy_loops;       /**< loops that did work */
	uint64_t idle_sleeps;
	uint64_t idle_sleep_us;    /**< total time asleep */
	uint64_t loop_late_max_us; /**< longest loop start past its plan */
	uint64_t stalls;           /**< loops late by BRAID_LOOP_STALL_US+ */
};

/** A loop this late (preempted thread, slow stage call) is a stall. */
#define BRAID_LOOP_STALL_US 5000u

/**
 * Validate @p conf and allocate the runner and its rings.
 * @return runner, or NULL with rte_errno set (EINVAL for a bad conf:
 *   no stages, lcore not enabled in EAL, duplicate stage name, stage with
 *   neither process nor poll, ring_size not a power of two).
 */
struct braid_runner *braid_runner_create(const struct braid_runner_conf *conf,
					 int socket);

/** Launch every worker lcore that has stages. @return 0 or -errno. */
int braid_runner_start(struct braid_runner *r);

/**
 * Run the calling lcore's stages (and main_hook) until stopped. The main
 * lcore calls this after braid_runner_start(); with no stages on it, it
 * only runs main_hook and sleeps between calls. @return 0.
 */
int braid_runner_run_main(struct braid_runner *r);

/**
 * Simulation: run every segment of every lcore once, on the calling
 * thread, at time @p now_ns (a virtual clock). Only while no lcore runs
 * the runner (not started, or after shutdown's wait). Deterministic tests
 * drive whole gateways with it.
 * @return packets moved (0 = idle).
 */
unsigned int braid_runner_step(struct braid_runner *r, uint64_t now_ns);

/** Ask every loop to stop. Async-signal-safe (one atomic store). */
void braid_runner_stop(struct braid_runner *r);

/** True once braid_runner_stop() was called. */
bool braid_runner_stopping(const struct braid_runner *r);

/**
 * Wait for the worker lcores, then drain every chain in order on the
 * calling lcore (see file comment). @return 0 or -errno.
 */
int braid_runner_shutdown(struct braid_runner *r);

/** Free rings and the runner (not the stages: their owner frees them). */
void braid_runner_free(struct braid_runner *r);

/**
 * Queue @p cmd (the stage's cmd_size bytes) on stage @p stage's control
 * ring. Any thread; never blocks. A single send leaves
 * BRAID_CMD_BATCH_MAX places free for all-or-none batches.
 * @return 0; -ENOBUFS when the ring is full (counted as the stage's
 *   cmds_dropped); -EINVAL for a stage without a control channel.
 */
int braid_runner_cmd_send(struct braid_runner *r, unsigned int stage,
			  const void *cmd);

/** One command of a batch: for stage index @c stage. */
struct braid_cmd_ref {
	unsigned int stage;
	const void *cmd;
};

/**
 * Queue every command of @p cmds, in order per stage, or none of them.
 * Batches from several threads are serialised (a mutex of the control
 * path; data lcores never take it, they use braid_runner_cmd_send()).
 * @return 0; -ENOBUFS (nothing queued) when a ring lacks the room;
 *   -EINVAL for a stage without a control channel or more than
 *   BRAID_CMD_BATCH_MAX commands for one stage.
 */
int braid_runner_cmd_send_all(struct braid_runner *r,
			      const struct braid_cmd_ref *cmds, unsigned int n);

/** Index of the stage named @p name. @return index, or -ENOENT. */
int braid_runner_stage_find(const struct braid_runner *r, const char *name);

/** Number of stages. */
unsigned int braid_runner_stage_count(const struct braid_runner *r);

/** Stage @p idx as configured. NULL if out of range. */
const struct braid_runner_stage *
braid_runner_stage_get(const struct braid_runner *r, unsigned int idx);

/** Read (never clear) the runner's counters of stage @p idx. */
int braid_runner_stage_stats(const struct braid_runner *r, unsigned int idx,
			     struct braid_runner_stage_stats *st);

/** Read the loop counters of @p lcore. @return 0, -ENOENT if not used. */
int braid_runner_lcore_stats(const struct braid_runner *r, unsigned int lcore,
			     struct braid_runner_lcore_stats *st);

#endif /* BRAID_RUNNER_H */
