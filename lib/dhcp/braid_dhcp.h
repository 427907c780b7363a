/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_DHCP_H
#define BRAID_DHCP_H

/**
 * @file
 * A DHCP client (RFC 2131, options of RFC 2132) for one link port whose
 * address is "dhcp" (modems and DSL routers hand out their LAN side by
 * DHCP): the messages and the client's state machine, without I/O.
 *
 * The glue (lib/gateway/gw_dhcp.c, on the control lcore) hands it the
 * BOOTP payload of every UDP datagram to port 68 that reached the port
 * (braid_dhcp_input()) and calls braid_dhcp_poll() for what is due; a
 * message to send comes back with where it goes (broadcast, or unicast
 * to the server once bound). After either call the glue reads the lease
 * (braid_dhcp_lease()) and re-registers the port's links when the
 * address, prefix or router changed.
 *
 * The state machine is RFC 2131's (figure 5) without INIT-REBOOT (no
 * lease is stored across restarts):
 *   INIT -> SELECTING (DISCOVER) -> REQUESTING (REQUEST for the first
 *   OFFER) -> BOUND (ACK) -> RENEWING at T1 (REQUEST unicast to the
 *   server) -> REBINDING at T2 (REQUEST broadcast) -> INIT at expiry;
 *   a NAK in REQUESTING, RENEWING or REBINDING goes back to INIT.
 * DISCOVER and REQUEST in SELECTING/REQUESTING are retransmitted after
 * 4, 8, 16, 32, 64, 64... s (each +-1 s at random, section 4.1); after 4
 * REQUESTs without an answer the client discovers again. In RENEWING and
 * REBINDING a REQUEST is repeated after half the time left to T2 (to
 * expiry), at least 60 s and never past T2 (expiry). Consecutive NAKs
 * delay the next DISCOVER 1, 2, 4 ... 64 s, so a server that NAKs every
 * REQUEST is not flooded.
 *
 * Replies are checked before they change anything: BOOTREPLY, Ethernet
 * hardware type, our transaction id and MAC, the magic cookie, every
 * option inside the message, a message type; an ACK needs an address
 * and a lease time; an OFFER/ACK's subnet mask must be contiguous. What
 * fails is counted (drop_dhcp_bad: malformed, drop_dhcp_stale: not ours or not
 * expected in this state) and changes no state.
 *
 * Times are the caller's clock in ns (a virtual clock in tests).
 * Not thread-safe: one owner. Needs no EAL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct braid_dhcp;

/** UDP ports (RFC 2131 section 4.1). */
#define BRAID_DHCP_SERVER_PORT 67
#define BRAID_DHCP_CLIENT_PORT 68
/** Longest message the client builds: what fits a 576-byte IPv4
 * datagram (RFC 2131 section 2), and the size it asks servers to stay
 * within (option 57). Replies of any length are parsed. */
#define BRAID_DHCP_MSG_MAX 548
/** Fixed BOOTP part plus the magic cookie. */
#define BRAID_DHCP_HDR_LEN 240

/** DHCP message types (option 53). */
enum braid_dhcp_type {
	BRAID_DHCP_DISCOVER = 1,
	BRAID_DHCP_OFFER = 2,
	BRAID_DHCP_REQUEST = 3,
	BRAID_DHCP_DECLINE = 4,
	BRAID_DHCP_ACK = 5,
	BRAID_DHCP_NAK = 6,
	BRAID_DHCP_RELEASE = 7,
	BRAID_DHCP_INFORM = 8,
};

/** Client states (RFC 2131 figure 5). */
enum braid_dhcp_state {
	BRAID_DHCP_INIT = 0,
	BRAID_DHCP_SELECTING,
	BRAID_DHCP_REQUESTING,
	BRAID_DHCP_BOUND,
	BRAID_DHCP_RENEWING,
	BRAID_DHCP_REBINDING,
};

/** A reply as parsed (addresses in host byte order; 0 = absent). */
struct braid_dhcp_msg {
	uint8_t op;                     /**< 1 request, 2 reply */
	uint8_t type;                   /**< enum braid_dhcp_type */
	uint32_t xid;
	uint32_t ciaddr, yiaddr;
	struct rte_ether_addr chaddr;
	uint32_t server_id;             /**< option 54 */
	uint32_t requested;             /**< option 50 (in a client's REQUEST) */
	uint8_t prefix;                 /**< option 1 as a prefix length; 0 = absent */
	uint32_t router;                /**< option 3, the first one */
	uint32_t lease_s;               /**< option 51; 0 = absent */
	uint32_t t1_s, t2_s;            /**< options 58, 59; 0 = absent */
	uint16_t mtu;                   /**< option 26; 0 = absent */
};

/**
 * Parse a BOOTP/DHCP message of @p len bytes at @p p.
 * Options are read from the options field only (option 52 overload of
 * sname/file is not followed; RFC 2131 lets a client ignore it when what
 * it needs is in the options field, as every common server sends it).
 * @return 0, or -EINVAL: too short, bad htype/hlen, no magic cookie, an
 *   option running past the end, a known option with a wrong length, a
 *   non-contiguous subnet mask, no message type.
 */
int braid_dhcp_parse(const uint8_t *p, size_t len, struct braid_dhcp_msg *m);

/** What one message from the client looks like (host byte order). */
struct braid_dhcp_build {
	uint8_t type;                   /**< DISCOVER, REQUEST, RELEASE */
	uint32_t xid;
	uint16_t secs;                  /**< since the client began (section 4.4.1) */
	struct rte_ether_addr mac;
	uint32_t ciaddr;                /**< our address when renewing/rebinding */
	uint32_t requested;             /**< option 50 (SELECTING), or 0 */
	uint32_t server_id;             /**< option 54 (SELECTING), or 0 */
	const char *hostname;           /**< option 12, or NULL */
};

/**
 * Write the message @p b into @p buf (BRAID_DHCP_MSG_MAX bytes).
 * @return its length (300..BRAID_DHCP_MSG_MAX: padded to BOOTP's 300
 *   bytes, which some servers and relays still expect).
 */
size_t braid_dhcp_build(const struct braid_dhcp_build *b, uint8_t *buf);

/** Client configuration. */
struct braid_dhcp_conf {
	struct rte_ether_addr mac;      /**< the port's; client id 01:<mac> */
	uint64_t seed;                  /**< for transaction ids and jitter */
	const char *hostname;           /**< option 12 (copied), or NULL */
};

/** A lease (host byte order). */
struct braid_dhcp_lease {
	uint32_t ip;
	uint8_t prefix;                 /**< 32 when the server sent no mask */
	uint32_t router;                /**< 0: none */
	uint32_t server;                /**< server identifier */
	struct rte_ether_addr server_mac;   /**< where its ACK came from */
	uint16_t mtu;                   /**< option 26, 0: none */
	uint32_t lease_s;               /**< UINT32_MAX: infinite */
	uint64_t start_ns;              /**< when the REQUEST it answers went out */
	uint64_t t1_ns, t2_ns, expire_ns;   /**< absolute; UINT64_MAX: never */
};

/** One message to send. */
struct braid_dhcp_tx {
	uint8_t msg[BRAID_DHCP_MSG_MAX];
	uint16_t len;
	uint32_t src_ip;                /**< 0 until bound */
	uint32_t dst_ip;                /**< 255.255.255.255 or the server */
	/** Ethernet destination: broadcast, or the server's (lease.server_mac). */
	struct rte_ether_addr dst_mac;
};

#define BRAID_DHCP_COUNTERS(X) \
	X(dhcp_discovers) X(dhcp_requests) X(dhcp_renew_requests) X(dhcp_rebind_requests) \
	X(dhcp_offers) X(dhcp_acks) X(dhcp_naks) X(dhcp_leases) X(dhcp_renewals) \
	X(dhcp_leases_lost) X(drop_dhcp_bad) X(drop_dhcp_stale)

struct braid_dhcp_stats {
	BRAID_COUNTERS_FIELDS(BRAID_DHCP_COUNTERS)
};

/**
 * A client in INIT whose first DISCOVER is due at @p now_ns.
 * @return the client, or NULL with rte_errno EINVAL (MAC not unicast)
 *   or ENOMEM.
 */
struct braid_dhcp *braid_dhcp_create(const struct braid_dhcp_conf *conf, uint64_t now_ns);

/** Free @p d (NULL is a no-op). */
void braid_dhcp_free(struct braid_dhcp *d);

/**
 * Take a message that reached the port: the UDP payload @p p of @p len
 * bytes, from Ethernet source @p from_mac.
 * @return 0 (taken, maybe changing the lease), -EINVAL (malformed:
 *   drop_dhcp_bad) or -ENOENT (not for us or not now: drop_dhcp_stale).
 */
int braid_dhcp_input(struct braid_dhcp *d, const uint8_t *p, size_t len,
		     const struct rte_ether_addr *from_mac, uint64_t now_ns);

/**
 * Run the timers: lease expiry, T1, T2, retransmissions.
 * @return 1 with a message to send in @p tx, or 0.
 */
int braid_dhcp_poll(struct braid_dhcp *d, uint64_t now_ns, struct braid_dhcp_tx *tx);

/** The lease in force (BOUND, RENEWING, REBINDING), if any. */
bool braid_dhcp_lease(const struct braid_dhcp *d, struct braid_dhcp_lease *l);

/** The earliest time braid_dhcp_poll() has something to do. */
uint64_t braid_dhcp_next_ns(const struct braid_dhcp *d);

enum braid_dhcp_state braid_dhcp_state(const struct braid_dhcp *d);
const char *braid_dhcp_state_name(enum braid_dhcp_state s);

/** Copy the counters (never clears). */
void braid_dhcp_stats(const struct braid_dhcp *d, struct braid_dhcp_stats *st);

#endif /* BRAID_DHCP_H */
