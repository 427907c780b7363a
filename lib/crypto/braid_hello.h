/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_HELLO_H
#define BRAID_HELLO_H

/**
 * @file
 * The session handshake (doc/security.md, "Handshake"): each gateway has
 * a fresh random nonce per start (its session) and a challenge it renews
 * after every use. A HELLO carries both, the peer's challenge it answers
 * (echo) and the peer nonce it accepted, under an HMAC-SHA256 keyed from
 * the pre-shared key. A gateway accepts a peer nonce only from a HELLO
 * that echoes its current challenge, so a HELLO recorded earlier, from
 * this session or an older one, cannot change anything: it is answered
 * (rate-limited), never accepted. Accepting a nonce derives the two
 * direction keys of the session pair:
 *
 *   PRK(X -> Y) = HKDF-Extract(salt = nonce_X | nonce_Y | sid_X | sid_Y, PSK)
 *
 * Pure logic, no DPDK: the control stage moves the frames and hands the
 * keys to the seal and open stages.
 */
#include <stdbool.h>
#include <stdint.h>

#include "braid_counters.h"

#define BRAID_HELLO_NONCE_LEN 32
#define BRAID_HELLO_CHAL_LEN 16
#define BRAID_HELLO_MAC_LEN 32

/** HELLO flag: the sender does not know whether its nonce was accepted. */
#define BRAID_HELLO_F_WANT_REPLY 0x01

/** The HELLO payload (after the braid header, type BRAID_PKT_HELLO). */
struct braid_hello_wire {
	uint8_t flags;                              /**< BRAID_HELLO_F_* */
	uint8_t reserved[3];                        /**< 0 */
	uint8_t nonce[BRAID_HELLO_NONCE_LEN];       /**< the sender's session nonce */
	uint8_t challenge[BRAID_HELLO_CHAL_LEN];    /**< to be echoed back */
	uint8_t echo[BRAID_HELLO_CHAL_LEN];         /**< the peer's challenge, or 0 */
	uint8_t accepted[BRAID_HELLO_NONCE_LEN];    /**< peer nonce the sender took, or 0 */
	uint8_t mac[BRAID_HELLO_MAC_LEN];           /**< HMAC over sid and the above */
};
#define BRAID_HELLO_LEN 132

/** Counters of the handshake (reported by the control stage). */
#define BRAID_HELLO_COUNTERS(X) \
	X(hello_tx) X(hello_rx) X(sessions) X(hello_stale) \
	X(drop_hello_mac) X(drop_hello_malformed)

struct braid_hello {
	uint8_t psk[32];
	uint8_t mac_key[32];
	uint32_t session_id;
	uint8_t nonce[BRAID_HELLO_NONCE_LEN];
	uint8_t challenge[BRAID_HELLO_CHAL_LEN];
	bool have_peer;
	bool peer_has_us;                 /**< the peer said it accepted our nonce */
	uint32_t peer_session;
	uint8_t peer_nonce[BRAID_HELLO_NONCE_LEN];
	struct { BRAID_COUNTERS_FIELDS(BRAID_HELLO_COUNTERS) } cnt;
};

/** What one received HELLO calls for. */
struct braid_hello_result {
	bool new_session;                 /**< install tx_prk / rx_prk */
	bool fresh;                       /**< it echoed our current challenge:
					   *   sent after ours, by a live peer */
	bool reply;                       /**< answer on the link it came in on */
	uint8_t echo[BRAID_HELLO_CHAL_LEN];   /**< the challenge to answer */
	uint32_t peer_session;
	uint8_t tx_prk[32];
	uint8_t rx_prk[32];
};

enum braid_hello_verdict {
	BRAID_HELLO_OK = 0,
	BRAID_HELLO_MALFORMED,            /**< wrong length or reserved bits */
	BRAID_HELLO_BAD_MAC,              /**< not from a holder of the PSK */
};

/** Start a session: fresh nonce and challenge. @return 0 or -errno. */
int braid_hello_init(struct braid_hello *h, const uint8_t psk[32], uint32_t session_id);

/** Wipe the secrets. */
void braid_hello_clear(struct braid_hello *h);

/** Should HELLOs go out (no peer yet, or the peer has not confirmed us)? */
static inline bool
braid_hello_pending(const struct braid_hello *h)
{
	return !h->have_peer || !h->peer_has_us;
}

/** A HELLO answering @p echo (NULL: none) into @p out. @return 0 or -EIO. */
int braid_hello_build(struct braid_hello *h, const uint8_t *echo,
		      uint8_t out[BRAID_HELLO_LEN]);

/**
 * Take a HELLO (@p sid from its braid header). Fills @p r; nothing in @p h
 * changes unless it verified.
 */
enum braid_hello_verdict braid_hello_receive(struct braid_hello *h, uint32_t sid,
					     const uint8_t *payload, size_t len,
					     struct braid_hello_result *r);

#endif /* BRAID_HELLO_H */
