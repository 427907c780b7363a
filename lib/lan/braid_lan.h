/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_LAN_H
#define BRAID_LAN_H

/**
 * @file
 * LAN delivery, the last stage of the receive chain (kind "lan_tx"). Its
 * input is inner IPv4 packets; each gets an Ethernet header for its LAN
 * host: the destination must be on the LAN port's subnet, its MAC comes
 * from lib/arp's neighbour table (lock-free lookup). A host not resolved
 * yet: the frame waits in the stage's pending queue (lib/arp's
 * braid_arp_pending, which asks for the host) and leaves as soon as the
 * reply is in, or is counted dropped. Frames with a header go to the
 * buffered TX of lib/tx (owned by this stage), which also sends the
 * frames other chains inject (ARP, ICMP replies).
 *
 * A packet whose buffer is not its own (a clone, a shared buffer) or has
 * no headroom gets a header mbuf chained in front (conf hdr_pool): the
 * payload is never written.
 *
 * Every input packet ends in exactly one of delivered, held_for_arp
 * (then released, counted delivered, or dropped by the pending queue's
 * counters), drop_no_route, drop_unresolved or drop_no_mbuf.
 */
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"
#include "braid_tx.h"

struct braid_lan;
struct braid_arp;
struct rte_mempool;

/** LAN delivery configuration. */
struct braid_lan_conf {
	/** Neighbour table for lookups and resolution requests (outlives
	 * the stage). */
	struct braid_arp *arp;
	uint16_t port_id;                /**< the LAN port (ethdev id) */
	struct rte_ether_addr src_mac;   /**< its MAC: Ethernet source */
	/** The LAN port's subnet (host order); mask 0 = any destination. */
	uint32_t lan_ip;
	uint32_t lan_mask;
	/** Header mbufs for packets that cannot take one in place. */
	struct rte_mempool *hdr_pool;
	/** The buffered TX stage this one creates and owns (single output:
	 * the LAN port; its inject ring, if any, for other chains' frames). */
	struct braid_tx_conf tx;
	/** Pending queue: hosts waiting at once (1..1024) and packets per
	 * host (1..4096); 0 = 256 each. */
	uint16_t pending_hosts;
	uint16_t pending_packets;
};

/** LAN delivery counters. */
#define BRAID_LAN_COUNTERS(X) \
	X(delivered)        /* given to TX (at once or after ARP) */ \
	X(held_for_arp)     /* queued for an unresolved host */ \
	X(drop_no_route)    /* not IPv4-sized, or not on the LAN subnet */ \
	X(drop_unresolved)  /* refused by the pending queue (also counted there) */ \
	X(drop_no_mbuf)     /* no header mbuf */

/** Counter snapshot. */
struct braid_lan_stats {
	BRAID_COUNTERS_FIELDS(BRAID_LAN_COUNTERS)
} __rte_cache_aligned;

/**
 * Validate @p conf, create the TX stage and the pending queue.
 * @return the stage, or NULL with rte_errno EINVAL (no arp or pool, bad
 *   tx conf) or ENOMEM.
 */
struct braid_lan *braid_lan_create(const struct braid_lan_conf *conf, int socket);

/** Free @p lan, its TX stage and its pending queue (held frames are
 * freed, counted drop_flushed). NULL is a no-op. */
void braid_lan_free(struct braid_lan *lan);

/** Copy the counters (never clears). */
void braid_lan_stats(const struct braid_lan *lan, struct braid_lan_stats *c);

/** Frames waiting for ARP now. */
unsigned int braid_lan_pending(const struct braid_lan *lan);

/**
 * Stage ops "lan_tx" (ctx = struct braid_lan *). process() adds headers
 * and sends or holds; poll() releases resolved frames and runs the TX
 * poll (drain timer, inject ring); drain() flushes TX, then frees what
 * still waits for ARP (counted drop_flushed by the pending queue);
 * stats() reports BRAID_LAN_COUNTERS, the pending queue's and the TX
 * stage's counters.
 */
extern const struct braid_stage_ops braid_lan_stage_ops;

#endif /* BRAID_LAN_H */
