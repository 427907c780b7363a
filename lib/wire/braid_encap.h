/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ENCAP_H
#define BRAID_ENCAP_H

/**
 * @file
 * The encap stage (sender pipeline stage 6, kind "encap"): turns each
 * inner packet into an outer frame for the link in braid_meta(m)->link_id:
 * Ethernet / IPv4 (DF, TTL 64, per-link ID, header checksum) / UDP
 * (checksum 0, or computed in software or by the NIC per link) / braid
 * header, with the link's next frame sequence number and the send time.
 *
 * Zero copy: when the mbuf is direct, has refcnt 1 and enough headroom,
 * the headers are prepended in place. Otherwise (a reference is held by
 * fec or rtx, or it is an indirect clone) a header mbuf from hdr_pool is
 * chained in front of an rte_pktmbuf_clone() from clone_pool: the payload
 * is never copied and a shared buffer never written.
 *
 * A frame whose IPv4 total length would exceed the link MTU is freed and
 * counted (drop_too_big), never emitted.
 *
 * Threading: one lcore runs a given encap instance (per-link sequence
 * numbers live in it: a link must be served by one instance).
 * braid_encap_link_set() may be called from any other thread (seqlock:
 * the fast path never blocks).
 */
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"
#include "braid_wire.h"

struct braid_encap;
struct rte_mempool;

/** Per-link TX checksum handling (struct braid_wire_link.tx_offloads). */
#define BRAID_WIRE_TXO_IPV4_CKSUM 0x1 /**< NIC computes the IPv4 checksum */
#define BRAID_WIRE_TXO_UDP_CKSUM  0x2 /**< NIC computes the UDP checksum */
#define BRAID_WIRE_TXO_UDP_SW     0x4 /**< software UDP checksum (reads the
				       *   whole payload; default: 0 = none) */

/**
 * One link, as both gateways see it: link ids are shared by the two
 * configurations. Addresses and ports in host byte order.
 */
struct braid_wire_link {
	struct rte_ether_addr src_mac;  /**< our port's MAC */
	struct rte_ether_addr dst_mac;  /**< next hop; all-zero = unresolved */
	uint32_t local_ip;              /**< our address on this link; 0: none yet
					 *   (a DHCP port before its lease): encap
					 *   drops as drop_no_nexthop, decap takes nothing */
	uint32_t peer_ip;               /**< the peer gateway's address; 0 on a decap
					 *   link: any (learned, lib/crypto authenticates) */
	uint16_t local_port;            /**< our UDP port */
	uint16_t peer_port;             /**< peer's UDP port (decap: 0 = any) */
	uint16_t mtu;                   /**< outer IPv4 MTU, 576..9216 */
	uint8_t tos;                    /**< outer IPv4 TOS (DSCP << 2 | ECN) */
	uint8_t tx_offloads;            /**< BRAID_WIRE_TXO_* */
};

/** Encap stage configuration. */
struct braid_encap_conf {
	uint32_t session_id;            /**< random per gateway start, non-zero */
	uint16_t n_links;               /**< 1..BRAID_WIRE_MAX_LINKS */
	struct braid_wire_link links[BRAID_WIRE_MAX_LINKS];
	/** Header mbufs for the chained case: data room >=
	 * RTE_PKTMBUF_HEADROOM + BRAID_WIRE_OVERHEAD. */
	struct rte_mempool *hdr_pool;
	/** Indirect clones for the chained case (may be hdr_pool). */
	struct rte_mempool *clone_pool;
};

/** Encap counters. encap_packets = in_place + chained; every input packet
 * is either in encap_packets or in one drop_ counter. bytes = frame bytes. */
#define BRAID_ENCAP_COUNTERS(X) \
	X(encap_packets) \
	X(bytes) \
	X(in_place) \
	X(chained) \
	X(drop_too_big) \
	X(drop_no_mbuf) \
	X(drop_bad_link) \
	X(drop_bad_meta) \
	X(drop_no_nexthop) \
	X(drop_burst_full)

/** Counter snapshot of one encap instance. */
struct braid_encap_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ENCAP_COUNTERS)
} __rte_cache_aligned;

/** What the encap stage sent on one link. */
struct braid_encap_link_stats {
	uint64_t frames;        /**< frames emitted */
	uint64_t bytes;         /**< their frame bytes */
	uint32_t next_link_seq; /**< link_seq the next frame will carry */
};

/**
 * Validate @p conf and allocate an encap instance on @p socket.
 * @return the instance, or NULL with rte_errno EINVAL (bad conf: session 0,
 *   no links, too many, zero/multicast MAC, zero peer or broadcast address, zero port, MTU out of range,
 *   both UDP checksum modes, pool missing or too small) or ENOMEM.
 */
struct braid_encap *braid_encap_create(const struct braid_encap_conf *conf, int socket);

/** Free @p e (NULL is a no-op). */
void braid_encap_free(struct braid_encap *e);

/**
 * Encapsulate pkts[0..n-1] at time @p now_ns. pkts[] is rewritten: the
 * first return-value entries are the frames to send, in input order (a
 * chained frame is a new head mbuf); dropped packets are freed and
 * counted. Meta travels with the frame (copied to a chained head).
 * @return number of frames in pkts[].
 */
uint16_t braid_encap_burst(struct braid_encap *e, struct rte_mbuf **pkts,
			   uint16_t n, uint64_t now_ns);

/**
 * Replace the description of link @p link_id (next hop MAC after ARP,
 * MTU, TOS, offloads, addresses). Control-path call, any thread: the fast
 * path sees either the old or the new link, never a mix.
 * @return 0, -EINVAL (bad id or link; same rules as create).
 */
int braid_encap_link_set(struct braid_encap *e, uint16_t link_id,
			 const struct braid_wire_link *link);

/**
 * Read the current description of link @p link_id.
 * @return 0 or -EINVAL.
 */
int braid_encap_link_get(struct braid_encap *e, uint16_t link_id,
			 struct braid_wire_link *link);

/**
 * Read what was sent on @p link_id (any thread; never clears).
 * @return 0 or -EINVAL.
 */
int braid_encap_link_stats(const struct braid_encap *e, uint16_t link_id,
			   struct braid_encap_link_stats *st);

/** Copy the counters of @p e into @p c (never clears). */
void braid_encap_stats(const struct braid_encap *e,
		       struct braid_encap_stats *c);

/** Stage ops for the runner; ctx is a struct braid_encap *. */
extern const struct braid_stage_ops braid_encap_stage_ops;

#endif /* BRAID_ENCAP_H */
