/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ARP_H
#define BRAID_ARP_H

/**
 * @file
 * ARP (RFC 826) and ICMP echo (RFC 792) for the gateway's own addresses
 * on every port (kind "arp"), and the next-hop resolver the links use.
 *
 * Input: whole Ethernet frames (one optional 802.1Q tag), as classify and
 * rx_decap punt them (m->port = the port they came in on). The object
 *  - answers ARP requests for an address of that port (never for others),
 *    learning the sender; learns from replies addressed to us; refreshes
 *    existing entries from gratuitous ARP; counts address conflicts;
 *  - answers ICMP echo requests to an address of that port (identifier,
 *    sequence and payload echoed, TTL 64, checksums computed);
 *  - resolves next hops: braid_arp_resolve() (owner) or braid_arp_request()
 *    (any lcore) start ARP requests, retried every retry_ms up to
 *    `retries` times, then the entry is FAILED for a back-off that doubles
 *    with each consecutive failure (fail_backoff_ms .. fail_backoff_max_ms);
 *    entries expire after expire_ms; next hops asked for with
 *    braid_arp_resolve() are kept: re-requested (unicast) at expiry while
 *    their MAC stays usable, and re-resolved after a back-off;
 *  - sends gratuitous ARP for each address at start (optional).
 * Output: reply and request frames in mbufs from the conf pool, m->port =
 * the port to send them on, for the glue to put on that port's TX.
 *
 * The table: per port, an open-addressed array of table_size entries
 * (power of two) indexed by a multiplicative hash of the IPv4 address,
 * probed linearly over at most BRAID_ARP_PROBE entries. A gateway has a
 * handful of next hops and a LAN's worth of learned neighbours, so a
 * small fixed array is enough, costs no allocation after create, and,
 * unlike rte_hash, lets a reader on another lcore look up without locks:
 * each entry is guarded by a sequence counter (rte_seqcount) written only
 * by the owner, so a reader retries instead of ever seeing a torn MAC.
 * Slots are never emptied again once used (a dead entry is reused in
 * place), so a concurrent insert or delete never hides an entry that stays.
 *
 * Threading: one owner lcore (the control path) calls everything except
 * braid_arp_lookup(), braid_arp_entry_get(), braid_arp_dump() and
 * braid_arp_request(), which any lcore may call at any time.
 *
 * Packets waiting for a next hop: struct braid_arp_pending, a bounded
 * queue per next hop held by the sending lcore (below).
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct braid_arp;
struct braid_arp_pending;
struct rte_mempool;

/** Ports one object serves. */
#define BRAID_ARP_MAX_PORTS 16
/** Addresses per port. */
#define BRAID_ARP_MAX_ADDRS 4
/** Static entries per port in the conf. */
#define BRAID_ARP_MAX_STATIC 64
/** Entries a lookup examines (linear probing window). */
#define BRAID_ARP_PROBE 8
/** Smallest / largest table (entries per port, a power of two). */
#define BRAID_ARP_TABLE_MIN 16
#define BRAID_ARP_TABLE_MAX 65536
/** Longest object name, without the terminating NUL. */
#define BRAID_ARP_NAMESIZE 23

/** One address of a port (host byte order). */
struct braid_arp_addr {
	uint32_t ip;
	uint8_t prefix_len;     /**< 1..32 */
};

/** A static ARP entry (host byte order). */
struct braid_arp_static {
	uint32_t ip;
	struct rte_ether_addr mac;
};

/** One port. */
struct braid_arp_port_conf {
	uint16_t port_id;               /**< ethdev port id (m->port) */
	struct rte_ether_addr mac;      /**< the port's MAC, unicast */
	uint8_t n_addrs;                /**< 0..BRAID_ARP_MAX_ADDRS */
	struct braid_arp_addr addrs[BRAID_ARP_MAX_ADDRS];
	bool vlan;                      /**< tag the frames we originate */
	uint16_t vlan_tci;              /**< their 802.1Q TCI */
	uint16_t n_static;              /**< 0..BRAID_ARP_MAX_STATIC */
	const struct braid_arp_static *statics; /**< copied at create */
};

/** ARP/ICMP configuration; braid_arp_conf_defaults() fills it. */
struct braid_arp_conf {
	const char *name;               /**< unique; names the request ring */
	uint16_t n_ports;               /**< 1..BRAID_ARP_MAX_PORTS */
	struct braid_arp_port_conf ports[BRAID_ARP_MAX_PORTS];
	uint32_t table_size;            /**< entries per port, default 256 */
	uint32_t expire_ms;             /**< 1000..86400000, default 300000 */
	uint32_t retry_ms;              /**< 10..60000, default 1000 */
	uint8_t retries;                /**< requests per attempt, 1..10, default 3 */
	uint32_t fail_backoff_ms;       /**< 100..3600000, default 5000 */
	uint32_t fail_backoff_max_ms;   /**< >= fail_backoff_ms, default 60000 */
	uint8_t garp_count;             /**< gratuitous ARPs per address at
					 *   start, 0..10, default 0 */
	uint32_t garp_interval_ms;      /**< between them, 10..60000, default 1000 */
	uint32_t request_ring_size;     /**< braid_arp_request() ring, power of
					 *   two 16..65536, default 256 */
	/** Frames we send (data room >= RTE_PKTMBUF_HEADROOM + 64). */
	struct rte_mempool *pool;
};

/** State of an entry. */
enum braid_arp_state {
	BRAID_ARP_FREE = 0,     /**< no entry */
	BRAID_ARP_INCOMPLETE,   /**< being resolved, no MAC yet */
	BRAID_ARP_REACHABLE,    /**< MAC valid until expiry */
	BRAID_ARP_REFRESH,      /**< expired next hop being re-resolved;
				 *   MAC still used */
	BRAID_ARP_FAILED,       /**< no answer; back-off running */
	BRAID_ARP_STATIC,       /**< from the configuration, never expires */
	BRAID_ARP_DEAD,         /**< expired or removed (slot reusable) */
};

/** An entry as readers see it. */
struct braid_arp_entry {
	uint32_t ip;
	enum braid_arp_state state;
	struct rte_ether_addr mac;      /**< valid in REACHABLE/REFRESH/STATIC */
};

/** Counters. Every input frame lands in exactly one of
 * arp_requests_rx, arp_replies_rx, arp_gratuitous_rx, icmp_echo_rx and the
 * drop_ counters before drop_too_big; drop_too_big, drop_no_mbuf and
 * drop_out_full count answers or requests that could not be sent. */
#define BRAID_ARP_COUNTERS(X) \
	X(rx_frames) \
	X(arp_requests_rx) \
	X(arp_replies_rx) \
	X(arp_gratuitous_rx) \
	X(icmp_echo_rx) \
	X(drop_not_for_us) \
	X(drop_malformed) \
	X(drop_bad_cksum) \
	X(drop_fragment) \
	X(drop_unsupported) \
	X(drop_unknown_port) \
	X(drop_too_big) \
	X(drop_no_mbuf) \
	X(drop_out_full) \
	X(arp_replies_tx) \
	X(arp_requests_tx) \
	X(arp_gratuitous_tx) \
	X(icmp_echo_tx) \
	X(learned) \
	X(updated) \
	X(expired) \
	X(evicted) \
	X(table_full) \
	X(resolve_failed) \
	X(addr_conflict) \
	X(request_ring_full)

/** Counter snapshot. */
struct braid_arp_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ARP_COUNTERS)
} __rte_cache_aligned;

/** Fill @p conf with the defaults (no ports, no pool). */
void braid_arp_conf_defaults(struct braid_arp_conf *conf);

/**
 * Validate @p conf and allocate the object, its tables (static entries
 * in place) and its request ring on @p socket.
 * @return the object, or NULL with rte_errno EINVAL (a value out of
 *   range, duplicate port, zero/multicast MAC or address, a static entry
 *   that does not fit, braid_meta_register() not called), EEXIST (name
 *   taken) or ENOMEM.
 */
struct braid_arp *braid_arp_create(const struct braid_arp_conf *conf, int socket);

/** Free @p a (NULL is a no-op). */
void braid_arp_free(struct braid_arp *a);

/**
 * Owner. Handle pkts[0..n-1] at @p now_ns: every frame is consumed (freed
 * and counted); answers are written to @p out, which must have room for
 * @p n mbufs.
 * @return number of mbufs written to @p out.
 */
uint16_t braid_arp_burst(struct braid_arp *a, struct rte_mbuf **pkts,
			 uint16_t n, struct rte_mbuf **out, uint64_t now_ns);

/**
 * Owner. Timer work at @p now_ns: requests from other lcores, gratuitous
 * ARP, ARP request retries, refreshes, expiry, back-off. Frames to send go
 * to @p out (up to @p n; what does not fit is sent by a later call).
 * @return number of mbufs written to @p out.
 */
uint16_t braid_arp_poll(struct braid_arp *a, uint64_t now_ns,
			struct rte_mbuf **out, uint16_t n);

/**
 * Owner. Keep @p ip on @p port_id resolved (a link's next hop): start
 * resolving it if needed (the request goes out at the next poll).
 * @return 0 (resolved: REACHABLE, REFRESH or STATIC), -EAGAIN (being
 *   resolved), -EHOSTUNREACH (FAILED, in back-off; retried after it),
 *   -ENOSPC (table full), -EINVAL (unknown port, port without address,
 *   bad address).
 */
int braid_arp_resolve(struct braid_arp *a, uint16_t port_id, uint32_t ip,
		      uint64_t now_ns);

/**
 * Any lcore. Ask the owner to resolve @p ip on @p port_id once (no
 * keep-alive), through a multi-producer ring the next poll drains.
 * @return 0, -ENOBUFS (ring full, counted) or -EINVAL (unknown port).
 */
int braid_arp_request(struct braid_arp *a, uint16_t port_id, uint32_t ip);

/**
 * Any lcore, lock-free, O(1). The MAC of @p ip on @p port_id.
 * @return 0 (REACHABLE, REFRESH or STATIC: @p mac set), -EHOSTUNREACH
 *   (FAILED), -ENOENT (unknown or not resolved yet), -EINVAL (bad port).
 */
int braid_arp_lookup(const struct braid_arp *a, uint16_t port_id, uint32_t ip,
		     struct rte_ether_addr *mac);

/** Any lcore. The entry of @p ip on @p port_id (state FREE if none).
 * @return 0 or -EINVAL (bad port). */
int braid_arp_entry_get(const struct braid_arp *a, uint16_t port_id, uint32_t ip,
			struct braid_arp_entry *e);

/** Any lcore. Copy up to @p max live entries of @p port_id to @p out.
 * @return number copied, or -EINVAL (bad port). */
int braid_arp_dump(const struct braid_arp *a, uint16_t port_id,
		   struct braid_arp_entry *out, unsigned int max);

/**
 * Owner. Make @p ip on @p port_id a static entry with @p mac (overrides
 * whatever was learned; never expires, never replaced by learning).
 * @return 0, -ENOSPC (table full) or -EINVAL.
 */
int braid_arp_static_set(struct braid_arp *a, uint16_t port_id, uint32_t ip,
			 const struct rte_ether_addr *mac);

/** Owner. Remove the entry of @p ip (static or not). @return 0, -ENOENT
 * or -EINVAL. */
int braid_arp_forget(struct braid_arp *a, uint16_t port_id, uint32_t ip);

/**
 * Owner. The addresses of @p port_id are now @p addrs[0..n-1] (n 0: it
 * has none and answers for nothing), as a DHCP lease changes them; each
 * is announced by gratuitous ARP (garp_count) from the next poll.
 * @return 0 or -EINVAL (unknown port, n too large, an address that is
 *   not a host address with prefix 1..32).
 */
int braid_arp_addrs_set(struct braid_arp *a, uint16_t port_id,
			const struct braid_arp_addr *addrs, uint8_t n);

/** Owner. Send the gratuitous ARPs again (garp_count per address, from
 * the next poll), e.g. after a port came up. */
void braid_arp_announce(struct braid_arp *a, uint64_t now_ns);

/** Copy the counters (never clears). */
void braid_arp_stats(const struct braid_arp *a, struct braid_arp_stats *c);

/** Name of @p s ("free", "incomplete", "reachable", "refresh", "failed",
 * "static", "dead"). */
const char *braid_arp_state_name(enum braid_arp_state s);

/**
 * Stage ops ("arp"), ctx = struct braid_arp *: process() = input, poll()
 * = poll; the frames to send go to the stage output (counted
 * drop_out_full when it is full), each with m->port set.
 */
extern const struct braid_stage_ops braid_arp_stage_ops;

/* ---- packets waiting for a next hop ---- */

/** Pending queue configuration. */
struct braid_arp_pending_conf {
	/** Lookups (lock-free) and resolution requests go to it. */
	struct braid_arp *arp;
	uint16_t max_nexthops;  /**< next hops waiting at once, 1..1024 (16) */
	uint16_t max_packets;   /**< packets per next hop, 1..4096 (64) */
	uint32_t timeout_ms;    /**< longest wait, 1..600000 (3000) */
};

/** Pending queue counters. queued = released + drop_* + still queued. */
#define BRAID_ARP_PENDING_COUNTERS(X) \
	X(queued) \
	X(released) \
	X(drop_unresolved_timeout) \
	X(drop_unresolved_overflow) \
	X(drop_unresolved_failed) \
	X(drop_bad_frame) \
	X(drop_flushed)

/** Counter snapshot. */
struct braid_arp_pending_stats {
	BRAID_COUNTERS_FIELDS(BRAID_ARP_PENDING_COUNTERS)
} __rte_cache_aligned;

/**
 * Allocate a pending queue, owned by the lcore that sends the frames (one
 * lcore; it is not shared). 0 in a field means the default shown.
 * @return the queue, or NULL with rte_errno EINVAL or ENOMEM.
 */
struct braid_arp_pending *
braid_arp_pending_create(const struct braid_arp_pending_conf *conf, int socket);

/** Free @p q; packets still queued are freed (drop_flushed). */
void braid_arp_pending_free(struct braid_arp_pending *q);

/**
 * Queue Ethernet frame @p m (destination MAC not known yet) for next hop
 * @p ip on @p port_id (one frame at a time: each has its own next hop).
 * Always takes ownership of @p m. A new next hop is asked for
 * (braid_arp_request()).
 * @return 0 (queued), -ENOBUFS (next hop queue or next hop slots full:
 *   dropped, drop_unresolved_overflow), -EINVAL (frame not writable in
 *   place (indirect or shared) or shorter than an Ethernet header:
 *   dropped, drop_bad_frame).
 */
int braid_arp_pending_enqueue_one(struct braid_arp_pending *q,
				  uint16_t port_id, uint32_t ip,
				  struct rte_mbuf *m, uint64_t now_ns);

/**
 * Release what can go at @p now_ns: frames whose next hop is resolved get
 * its MAC as Ethernet destination and are written to @p out (up to @p n,
 * oldest first); frames waiting longer than the timeout are dropped
 * (drop_unresolved_timeout), those of a FAILED next hop too
 * (drop_unresolved_failed).
 * @return number of frames written to @p out.
 */
uint16_t braid_arp_pending_poll(struct braid_arp_pending *q, uint64_t now_ns,
				struct rte_mbuf **out, uint16_t n);

/** Frames queued now. */
unsigned int braid_arp_pending_count(const struct braid_arp_pending *q);

/** Does @p q hold frames for next hop @p ip on @p port_id? A later frame
 * for it must queue behind them (even once it is resolved), or it would
 * overtake them. */
bool braid_arp_pending_holds(const struct braid_arp_pending *q, uint16_t port_id, uint32_t ip);

/** Copy the counters (never clears). */
void braid_arp_pending_stats(const struct braid_arp_pending *q,
			     struct braid_arp_pending_stats *c);

#endif /* BRAID_ARP_H */
