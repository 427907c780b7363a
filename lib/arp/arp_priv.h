/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ARP_PRIV_H
#define BRAID_ARP_PRIV_H

/*
 * Internals of lib/arp: the table entry (reader-visible words under a
 * sequence counter, writer-only timers beside them) and the object.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>
#include <rte_seqcount.h>

#include "braid_arp.h"

/* w0 = ip << 32 | state; w1 = MAC in the low 48 bits (byte 0 lowest).
 * Readers load both with relaxed atomics between read_begin/read_retry. */
struct arp_entry {
	rte_seqcount_t sc;
	uint64_t w0;
	uint64_t w1;
	/* owner only */
	uint64_t expire_ns;     /* REACHABLE: end of validity */
	uint64_t next_ns;       /* INCOMPLETE/REFRESH: next request;
				 * FAILED: end of the back-off */
	uint64_t used_ns;       /* last learned/updated (eviction order) */
	uint8_t tries;          /* requests sent in this attempt */
	uint8_t fails;          /* consecutive failed attempts */
	uint8_t wanted;         /* keep resolved (braid_arp_resolve) */
} __rte_cache_aligned;

struct arp_port {
	uint16_t port_id;
	struct rte_ether_addr mac;
	uint8_t n_addrs;
	struct braid_arp_addr addrs[BRAID_ARP_MAX_ADDRS];
	bool vlan;
	uint16_t vlan_tci;
	uint8_t garp_left;      /* rounds still to send */
	uint64_t garp_next_ns;
	struct arp_entry *tab;
};

struct arp_counters {
	BRAID_COUNTERS_FIELDS(BRAID_ARP_COUNTERS)
} __rte_cache_aligned;

/* A request from another lcore on the ring. */
struct arp_req {
	uint32_t ip;
	uint16_t port_id;
	uint16_t reserved;
};

struct braid_arp {
	struct arp_counters cnt;
	uint64_t ring_full;     /* atomic: braid_arp_request() from any lcore */
	uint16_t n_ports;
	uint32_t mask;          /* table_size - 1 */
	uint32_t shift;         /* 32 - log2(table_size) */
	uint64_t expire_ns, retry_ns, backoff_ns, backoff_max_ns;
	uint8_t retries;
	uint8_t garp_count;
	uint64_t garp_interval_ns;
	uint64_t next_scan_ns;
	bool started;
	uint16_t ip_id;
	struct rte_mempool *pool;
	uint16_t room;          /* largest frame one mbuf of the pool holds */
	struct rte_ring *req;
	struct arp_port ports[BRAID_ARP_MAX_PORTS];
	struct rte_mbuf *scratch[BRAID_BURST_OUT_MAX];
};

#endif /* BRAID_ARP_PRIV_H */
