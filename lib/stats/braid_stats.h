/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_STATS_H
#define BRAID_STATS_H

/**
 * @file
 * Reading the engine's counters: one walk over ports (ethdev stats) and
 * stages (the runner's counters plus each stage's own), used by the
 * periodic console table, the management port and the metrics exporters.
 * Reads never clear anything.
 */
#include <stdint.h>
#include <stdio.h>

#include "braid_runner.h"
#include "braid_stage.h"

#define BRAID_STATS_MAX_PORTS 32

/** A port to report, by its configured name. */
struct braid_stats_port {
	char name[32];
	uint16_t port_id;
};

/** Kinds of sample in a walk. */
enum braid_stats_scope {
	BRAID_STATS_PORT,    /**< @p owner is a port name */
	BRAID_STATS_STAGE,   /**< @p owner is a stage name */
	BRAID_STATS_LCORE,   /**< @p owner is "lcore<N>" */
};

/**
 * One counter sample: e.g. (STAGE, "sched", "drop_queue_full", NULL, 12),
 * or (STAGE, "sched", "enqueued", {class_id 0}, 8) for a counter of one
 * class. @p labels is NULL (ports, lcores, the runner's counters, a
 * stage's own) or what the stage reported (struct braid_stat_labels);
 * braid_stats_name() makes the flat name ("class0_enqueued").
 */
typedef void (*braid_stats_fn)(void *arg, enum braid_stats_scope scope,
			       const char *owner, const char *name,
			       const struct braid_stat_labels *labels,
			       uint64_t value);

/**
 * The flat name of a counter, the one place indexes go into names:
 * @p name alone without labels, "class<i>_<name>" for a class's counter,
 * "link<i>_<name>" for a link's ("class<i>_link<j>_<name>" for both).
 * These names are API (console, braid_gateway_counter(), tests).
 * @return the length snprintf() would write (truncated to @p size).
 */
int braid_stats_name(char *buf, size_t size, const char *name,
		     const struct braid_stat_labels *labels);

/**
 * Report every counter: per port rx/tx packets, bytes, missed, errors,
 * rx_nombuf; per stage the runner's pkts_in/pkts_out/drop_ring_full/
 * drop_unrouted/ring_count/ring_size and everything the stage's stats()
 * reports; per lcore loops/busy_loops/idle_sleeps/idle_sleep_us.
 */
void braid_stats_walk(const struct braid_runner *r,
		      const struct braid_stats_port *ports, unsigned int n_ports,
		      braid_stats_fn fn, void *arg);

struct braid_stats_console;

/**
 * A periodic console table: per port pps, bit/s and drops; per stage
 * packets/s, ring occupancy and every non-zero drop counter by reason.
 * @param interval_ms print period.
 * @return the printer, or NULL with rte_errno set.
 */
struct braid_stats_console *
braid_stats_console_create(const struct braid_runner *r,
			   const struct braid_stats_port *ports,
			   unsigned int n_ports, uint32_t interval_ms, FILE *out);

/** Print the table if interval_ms has passed since the last one. */
void braid_stats_console_tick(struct braid_stats_console *c, uint64_t now_ns);

/** Print the table now (rates since the last print). */
void braid_stats_console_print(struct braid_stats_console *c, uint64_t now_ns);

void braid_stats_console_free(struct braid_stats_console *c);

#endif /* BRAID_STATS_H */
