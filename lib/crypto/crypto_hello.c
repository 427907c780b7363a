/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session handshake (braid_hello.h). Control path only.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "braid_crypto.h"
#include "braid_hello.h"

_Static_assert(sizeof(struct braid_hello_wire) == BRAID_HELLO_LEN, "hello size");

#define MAC_COVERS (BRAID_HELLO_LEN - BRAID_HELLO_MAC_LEN)

static const uint8_t zero_nonce[BRAID_HELLO_NONCE_LEN];

int
braid_hello_init(struct braid_hello *h, const uint8_t psk[32], uint32_t session_id)
{
	static const char salt[] = "braid v1 hello";
	uint8_t prk[32];
	int ret;

	memset(h, 0, sizeof(*h));
	memcpy(h->psk, psk, sizeof(h->psk));
	h->session_id = session_id;
	ret = braid_crypto_hkdf_extract((const uint8_t *)salt, sizeof(salt) - 1, psk, 32, prk);
	if (ret == 0)
		ret = braid_crypto_hkdf_expand(prk, (const uint8_t *)"mac", 3, h->mac_key,
					       sizeof(h->mac_key));
	if (ret == 0)
		ret = braid_crypto_random(h->nonce, sizeof(h->nonce));
	if (ret == 0)
		ret = braid_crypto_random(h->challenge, sizeof(h->challenge));
	braid_crypto_wipe(prk, sizeof(prk));
	return ret;
}

void
braid_hello_clear(struct braid_hello *h)
{
	braid_crypto_wipe(h, sizeof(*h));
}

static int
mac(const struct braid_hello *h, uint32_t sid, const uint8_t *msg, uint8_t out[32])
{
	uint8_t buf[4 + MAC_COVERS];

	buf[0] = (uint8_t)(sid >> 24);
	buf[1] = (uint8_t)(sid >> 16);
	buf[2] = (uint8_t)(sid >> 8);
	buf[3] = (uint8_t)sid;
	memcpy(buf + 4, msg, MAC_COVERS);
	return braid_crypto_hmac(h->mac_key, sizeof(h->mac_key), buf, sizeof(buf), out);
}

int
braid_hello_build(struct braid_hello *h, const uint8_t *echo, uint8_t out[BRAID_HELLO_LEN])
{
	struct braid_hello_wire *w = (struct braid_hello_wire *)out;

	memset(w, 0, sizeof(*w));
	w->flags = h->peer_has_us ? 0 : BRAID_HELLO_F_WANT_REPLY;
	memcpy(w->nonce, h->nonce, sizeof(w->nonce));
	memcpy(w->challenge, h->challenge, sizeof(w->challenge));
	if (echo != NULL)
		memcpy(w->echo, echo, sizeof(w->echo));
	if (h->have_peer)
		memcpy(w->accepted, h->peer_nonce, sizeof(w->accepted));
	h->cnt.hello_tx++;
	return mac(h, h->session_id, out, w->mac);
}

/* PRK of direction X -> Y. */
static int
direction_key(const uint8_t psk[32], const uint8_t *nx, const uint8_t *ny, uint32_t sx,
	      uint32_t sy, uint8_t prk[32])
{
	uint8_t salt[2 * BRAID_HELLO_NONCE_LEN + 8];

	memcpy(salt, nx, BRAID_HELLO_NONCE_LEN);
	memcpy(salt + BRAID_HELLO_NONCE_LEN, ny, BRAID_HELLO_NONCE_LEN);
	for (int i = 0; i < 4; i++) {
		salt[2 * BRAID_HELLO_NONCE_LEN + i] = (uint8_t)(sx >> (24 - 8 * i));
		salt[2 * BRAID_HELLO_NONCE_LEN + 4 + i] = (uint8_t)(sy >> (24 - 8 * i));
	}
	return braid_crypto_hkdf_extract(salt, sizeof(salt), psk, 32, prk);
}

enum braid_hello_verdict
braid_hello_receive(struct braid_hello *h, uint32_t sid, const uint8_t *payload, size_t len,
		    struct braid_hello_result *r)
{
	const struct braid_hello_wire *w = (const struct braid_hello_wire *)payload;
	uint8_t want[BRAID_HELLO_MAC_LEN];
	bool fresh, same_peer;

	memset(r, 0, sizeof(*r));
	if (len != BRAID_HELLO_LEN || (w->flags & ~BRAID_HELLO_F_WANT_REPLY) != 0 ||
	    w->reserved[0] != 0 || w->reserved[1] != 0 || w->reserved[2] != 0 ||
	    memcmp(w->nonce, zero_nonce, sizeof(w->nonce)) == 0) {
		h->cnt.drop_hello_malformed++;
		return BRAID_HELLO_MALFORMED;
	}
	if (mac(h, sid, payload, want) != 0 ||
	    CRYPTO_memcmp(want, w->mac, sizeof(want)) != 0) {
		h->cnt.drop_hello_mac++;
		return BRAID_HELLO_BAD_MAC;
	}
	h->cnt.hello_rx++;
	/* Our own HELLO reflected back: nothing to take. */
	if (memcmp(w->nonce, h->nonce, sizeof(h->nonce)) == 0) {
		h->cnt.hello_stale++;
		return BRAID_HELLO_OK;
	}
	same_peer = h->have_peer && sid == h->peer_session &&
		    memcmp(w->nonce, h->peer_nonce, sizeof(h->peer_nonce)) == 0;
	fresh = CRYPTO_memcmp(w->echo, h->challenge, sizeof(h->challenge)) == 0;
	if (fresh && !same_peer) {
		/* A new peer session, proven live by our current challenge. */
		if (direction_key(h->psk, h->nonce, w->nonce, h->session_id, sid, r->tx_prk) != 0 ||
		    direction_key(h->psk, w->nonce, h->nonce, sid, h->session_id, r->rx_prk) != 0) {
			braid_crypto_wipe(r, sizeof(*r));
			return BRAID_HELLO_BAD_MAC;
		}
		memcpy(h->peer_nonce, w->nonce, sizeof(h->peer_nonce));
		h->peer_session = sid;
		h->have_peer = true;
		h->peer_has_us = false;
		r->new_session = true;
		r->peer_session = sid;
		h->cnt.sessions++;
	} else if (!fresh && !same_peer) {
		h->cnt.hello_stale++;       /* answered, not taken */
	}
	r->fresh = fresh;
	if (fresh)
		braid_crypto_random(h->challenge, sizeof(h->challenge));
	if (h->have_peer && memcmp(w->nonce, h->peer_nonce, sizeof(h->peer_nonce)) == 0 &&
	    memcmp(w->accepted, h->nonce, sizeof(h->nonce)) == 0)
		h->peer_has_us = true;
	/* Answer when the sender lacks our nonce or asks. */
	r->reply = memcmp(w->accepted, h->nonce, sizeof(h->nonce)) != 0 ||
		   (w->flags & BRAID_HELLO_F_WANT_REPLY);
	memcpy(r->echo, w->challenge, sizeof(r->echo));
	return BRAID_HELLO_OK;
}
