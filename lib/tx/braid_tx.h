/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TX_H
#define BRAID_TX_H

/**
 * @file
 * The TX stage: buffered bursts per output (port, queue).
 *
 * Each packet's output comes from braid_meta(m)->link_id, an index into
 * the link table given at create (link -> port, queue); several links may
 * share one (port, queue), which then shares one buffer. A LAN TX instance
 * (single = true) sends everything to links[0] and ignores link_id.
 *
 * Packets are grouped by output (one pass computes next[], a stable
 * counting sort groups the burst) and appended to that output's
 * rte_eth_dev_tx_buffer. A buffer is sent when it is full, from poll()
 * once its oldest packet has waited drain_ns, and by drain(). What the PMD
 * refuses is freed and counted as drop_tx_full; a link_id outside the
 * table is freed and counted as drop_bad_output.
 *
 * Inject ring: other chains (NACKs, probe replies, ARP replies built on
 * other lcores) send on the same ports without touching this stage's
 * state: they enqueue finished frames (link_id set as for process()) on
 * an rte_ring that this stage alone dequeues (multi-producer,
 * single-consumer) and poll()/drain() route them like process() input.
 */
#include <stdbool.h>
#include <stdint.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct rte_ring;
struct braid_tx;

/** Largest link table. */
#define BRAID_TX_MAX_LINKS 64
/** Largest buffer per output (packets). */
#define BRAID_TX_BUFFER_MAX 512
/** Most packets taken from the inject ring per poll(). */
#define BRAID_TX_INJECT_BURST_MAX 256
/** Longest drain timer: 100 us. */
#define BRAID_TX_DRAIN_NS_MAX 100000

/** Stage counters (sum over its outputs plus stage-level drops). */
#define BRAID_TX_COUNTERS(X) \
	X(tx_packets) X(tx_bytes) X(tx_flushes) X(drop_tx_full) \
	X(drop_bad_output) X(inject_packets)

struct braid_tx_stats {
	BRAID_COUNTERS_FIELDS(BRAID_TX_COUNTERS)
};

/** Counters of one output (port, queue), summed over queues per port. */
#define BRAID_TX_PORT_COUNTERS(X) \
	X(tx_packets) X(tx_bytes) X(tx_flushes) X(drop_tx_full)

struct braid_tx_port_stats {
	BRAID_COUNTERS_FIELDS(BRAID_TX_PORT_COUNTERS)
};

/** Where one link sends. */
struct braid_tx_output {
	uint16_t port_id;
	uint16_t queue_id;
};

struct braid_tx_conf {
	/** Link table size, 1..BRAID_TX_MAX_LINKS (1 when single). */
	uint16_t n_links;
	/** link_id -> output. Ports must be configured with queue_id < their
	 * number of TX queues. */
	struct braid_tx_output links[BRAID_TX_MAX_LINKS];
	/** LAN TX: every packet goes to links[0]; link_id is ignored. */
	bool single;
	/** Packets buffered per output before a send, 1..BRAID_TX_BUFFER_MAX;
	 * 0 = BRAID_BURST. */
	uint16_t buffer_size;
	/** poll() sends a buffer whose oldest packet is this old (ns),
	 * 0..BRAID_TX_DRAIN_NS_MAX; 0 sends at every poll(). */
	uint64_t drain_ns;
	/** Optional inject ring (NULL = none): finished frames from other
	 * chains, enqueued by any lcore, dequeued only by this stage. */
	struct rte_ring *inject;
	/** Packets taken from the inject ring per poll(),
	 * 1..BRAID_TX_INJECT_BURST_MAX; 0 = BRAID_BURST. */
	uint16_t inject_burst;
};

/**
 * Validate @p c and allocate the stage and its buffers.
 * @return the stage, or NULL with rte_errno = EINVAL (bad conf: a port
 *   that is not an ethdev, a queue it does not have...) or ENOMEM.
 */
struct braid_tx *braid_tx_create(const struct braid_tx_conf *c, int socket);

/**
 * Free the stage. Packets still buffered are freed without being sent
 * (call drain first to send them); the inject ring is not touched (its
 * creator owns it). NULL is a no-op.
 */
void braid_tx_free(struct braid_tx *tx);

/**
 * Create an inject ring for braid_tx_conf.inject: multi-producer,
 * single-consumer, @p count slots (power of two, count - 1 usable).
 * @return the ring or NULL with rte_errno.
 */
struct rte_ring *braid_tx_inject_ring_create(const char *name, unsigned int count,
					     int socket);

/** Read (never clear) the stage counters. */
void braid_tx_stats(const struct braid_tx *tx, struct braid_tx_stats *st);

/**
 * Read (never clear) the counters of @p port_id, summed over its queues
 * used by this stage.
 * @return 0, -ENOENT if the stage has no output on @p port_id.
 */
int braid_tx_port_stats(const struct braid_tx *tx, uint16_t port_id,
			struct braid_tx_port_stats *st);

/** Packets currently buffered (all outputs). */
unsigned int braid_tx_pending(const struct braid_tx *tx);

/**
 * The TX stage, ctx = struct braid_tx *. process() buffers (and sends
 * full buffers); poll() takes inject packets and sends buffers older than
 * drain_ns; drain() empties the inject ring and sends everything. It
 * never pushes to @p out (last stage of a chain).
 */
extern const struct braid_stage_ops braid_tx_stage_ops;

#endif /* BRAID_TX_H */
