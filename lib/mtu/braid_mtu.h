/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_MTU_H
#define BRAID_MTU_H

/**
 * @file
 * The mtu stage, after classify on the send side: LAN packets meet the
 * tunnel's inner MTU (the smallest link MTU less braid's overhead) before
 * the scheduler sees them (doc/config.md, "mtu").
 *
 *  - TCP SYNs (and SYN-ACKs) whose MSS option is larger than the inner
 *    MTU allows are clamped to it (inner MTU - 40), checksum updated
 *    (RFC 1624), so TCP connections never send what the tunnel cannot
 *    carry. Each gateway clamps what enters from its LAN: both
 *    directions of a connection are covered.
 *  - A larger packet with DF set is dropped and its sender gets an ICMP
 *    "fragmentation needed" (type 3, code 4) with the inner MTU
 *    (RFC 1191), at most icmp_per_s per second.
 *  - A larger packet without DF is fragmented (RFC 791, lib ip_frag) into
 *    packets of at most the inner MTU; the far LAN host reassembles it.
 *
 * Packets arrive without their LAN Ethernet header, which classify left
 * in the headroom (m->l2_len bytes before the data): the ICMP answer goes
 * back to its source MAC.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct rte_mempool;
struct rte_ring;
struct braid_mtu;

struct braid_mtu_conf {
	uint16_t inner_mtu;              /**< largest inner IPv4 packet, 68..9216 */
	bool clamp_mss;                  /**< clamp TCP MSS options */
	uint32_t icmp_per_s;             /**< ICMP answers per second, 0 = none */
	struct rte_mempool *pool;        /**< fragments and ICMP answers */
	struct rte_mempool *indirect_pool; /**< fragments of chained packets */
	struct rte_ring *lan_inject;     /**< ICMP answers (whole frames) to the LAN */
	struct rte_ether_addr lan_mac;   /**< source of the answers */
	uint32_t lan_ip;                 /**< ditto, host order */
};

#define BRAID_MTU_COUNTERS(X) \
	X(packets) X(mss_clamped) X(fragmented) X(fragments) X(icmp_frag_needed) \
	X(drop_df_too_big) X(drop_frag_failed) X(drop_no_mbuf) X(drop_out_full) \
	X(icmp_limited) X(drop_icmp_full)

struct braid_mtu_stats { BRAID_COUNTERS_FIELDS(BRAID_MTU_COUNTERS) };

/** @return NULL with rte_errno EINVAL or ENOMEM. */
struct braid_mtu *braid_mtu_create(const struct braid_mtu_conf *conf, int socket);
void braid_mtu_free(struct braid_mtu *t);

/**
 * Clamp, fragment or answer pkts[0..n-1] (IPv4, no Ethernet header); what
 * goes on is pushed to @p out. Every input is pushed, replaced by its
 * fragments, or freed under a counter.
 */
void braid_mtu_burst(struct braid_mtu *t, struct rte_mbuf **pkts, uint16_t n,
		     struct braid_burst *out, uint64_t now_ns);

/**
 * Clamp the MSS option of the TCP SYN @p ip (IPv4 header, @p len bytes
 * from it readable) to @p mss. @return true if it changed.
 */
bool braid_mtu_clamp_mss(uint8_t *ip, uint32_t len, uint16_t mss);

void braid_mtu_stats(const struct braid_mtu *t, struct braid_mtu_stats *st);

extern const struct braid_stage_ops braid_mtu_stage_ops;

#endif /* BRAID_MTU_H */
