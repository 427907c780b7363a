/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CRYPTO_H
#define BRAID_CRYPTO_H

/**
 * @file
 * The tunnel's authenticated encryption (doc/security.md is the
 * specification): AES-256-GCM through DPDK's cryptodev API on every
 * tunnel frame but the handshake's HELLO.
 *
 *  - seal (send chain, after encap): copies the frame into a fresh mbuf
 *    (encap's frames share their payload with the retransmit cache and
 *    the FEC blocks, which must stay plaintext), inserts the 8-byte
 *    counter after the braid header and appends the 16-byte tag. The
 *    braid header and the counter are the associated data; the payload
 *    (inner packet, parity, NACK, probe) is encrypted.
 *  - open (receive chain, before rx_decap): checks the replay window,
 *    decrypts in place, verifies the tag, and gives rx_decap the frame as
 *    if it had been sent in clear (marked BRAID_META_F_OPENED).
 *  - HELLO (crypto_hello.c): the PSK-authenticated exchange of fresh
 *    nonces that gives each direction of a session its own key.
 *
 * Keys: PRK = HKDF-Extract(salt = sender nonce | receiver nonce, PSK) per
 * direction; the key of epoch e is HKDF-Expand(PRK, "braid v1 key" | e,
 * 36): a 32-byte AES key and a 4-byte nonce salt. The GCM nonce is the
 * salt then the frame's 64-bit counter: link id (16 bits) then a per-link
 * frame count (48 bits), so no nonce repeats under a key.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct rte_mempool;
struct rte_ring;

#define BRAID_CRYPTO_PSK_LEN 32       /**< pre-shared key, bytes */
#define BRAID_CRYPTO_KEY_LEN 32       /**< AES-256 */
#define BRAID_CRYPTO_SALT_LEN 4       /**< nonce = salt | counter */
#define BRAID_CRYPTO_IV_LEN 12
#define BRAID_CRYPTO_CTR_LEN 8        /**< counter after the braid header */
#define BRAID_CRYPTO_TAG_LEN 16
#define BRAID_CRYPTO_AAD_LEN 48       /**< braid header + counter */
/** Bytes a sealed frame has more than the same frame in clear. */
#define BRAID_CRYPTO_OVERHEAD (BRAID_CRYPTO_CTR_LEN + BRAID_CRYPTO_TAG_LEN)
/** Frames per link and key: the counter's low 48 bits. The sender moves
 * to the next epoch long before. */
#define BRAID_CRYPTO_CTR_MAX ((UINT64_C(1) << 48) - 1)
/** Replay window per link and key, in frames (RFC 4303 3.4.3). */
#define BRAID_CRYPTO_REPLAY_WINDOW 4096
/** How long a receiver still accepts the epoch before the current one. */
#define BRAID_CRYPTO_OVERLAP_NS 3000000000ULL

/* ---- keys (crypto_kdf.c: OpenSSL's HMAC-SHA256 and HKDF) ---- */

/** HMAC-SHA256 of @p msg under @p key. @return 0 or -EIO. */
int braid_crypto_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg,
		      size_t msg_len, uint8_t out[32]);

/** HKDF-Extract (RFC 5869 2.2). @return 0 or -EIO. */
int braid_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
			      size_t ikm_len, uint8_t prk[32]);

/** HKDF-Expand (RFC 5869 2.3), @p okm_len <= 255 * 32. @return 0, -EINVAL, -EIO. */
int braid_crypto_hkdf_expand(const uint8_t prk[32], const uint8_t *info, size_t info_len,
			     uint8_t *okm, size_t okm_len);

/** The AES key and nonce salt of epoch @p epoch of direction key @p prk.
 * @return 0 or -EIO. */
int braid_crypto_epoch_key(const uint8_t prk[32], uint32_t epoch,
			   uint8_t key[BRAID_CRYPTO_KEY_LEN],
			   uint8_t salt[BRAID_CRYPTO_SALT_LEN]);

/** @p n bytes from the kernel's CSPRNG (getrandom). @return 0 or -errno. */
int braid_crypto_random(void *buf, size_t n);

/**
 * Read a pre-shared key file: one line of 64 hex digits (32 bytes), as
 * `openssl rand -hex 32` writes it. The file must be a regular file that
 * neither group nor others may read (mode 0600 or 0400).
 * @return 0, or -errno with the reason in @p why (never the key).
 */
int braid_crypto_psk_read(const char *path, uint8_t psk[BRAID_CRYPTO_PSK_LEN],
			  char *why, size_t why_len);

/** Overwrite @p n bytes of secret at @p p (not optimised away). */
void braid_crypto_wipe(void *p, size_t n);

/* ---- replay window (crypto_replay.c) ---- */

/** Counters seen, RFC 4303 3.4.3 style: the highest, and a bitmap of the
 * BRAID_CRYPTO_REPLAY_WINDOW below it (bit i: top - i). */
struct braid_replay {
	uint64_t top;
	bool any;
	uint64_t bits[BRAID_CRYPTO_REPLAY_WINDOW / 64];
};

/** Forget every counter. */
void braid_replay_reset(struct braid_replay *r);

/** May @p ctr be new? false: seen, or too old for the window. Reads only:
 * checked before the tag, updated after (braid_replay_update). */
bool braid_replay_check(const struct braid_replay *r, uint64_t ctr);

/** Record @p ctr (its tag verified). @return true if it is the newest
 * counter so far (the window moved). */
bool braid_replay_update(struct braid_replay *r, uint64_t ctr);

/* ---- cryptodev (crypto_dev.c) ---- */

/** The crypto device the stages share, one queue pair each. */
struct braid_crypto_dev {
	uint8_t dev_id;
	uint16_t n_qp;
	char name[64];                   /**< rte_cryptodev_name_get() */
	char driver[64];                 /**< its driver ("crypto_aesni_gcm") */
	bool vdev;                       /**< created here (removed at close) */
	bool in_place_sgl;               /**< can open chained frames in place */
	struct rte_mempool *sess_pool;   /**< symmetric sessions */
};

/**
 * Find or create the AES-256-GCM device and start it with @p n_qp queue
 * pairs. @p want: "auto" (a hardware device that does AES-256-GCM if one
 * is probed, else crypto_aesni_gcm where the CPU has AES-NI, else
 * crypto_openssl), the name of a probed device, or a vdev driver name
 * created here ("crypto_openssl", "crypto_aesni_gcm").
 * @return 0, or -errno with the reason in @p err.
 */
int braid_crypto_dev_open(const char *want, int socket, uint16_t n_qp,
			  struct braid_crypto_dev *dev, char *err, size_t err_len);

/** Stop and close @p dev (and remove it if it was created here). */
void braid_crypto_dev_close(struct braid_crypto_dev *dev);

/* ---- commands (both stages) ---- */

enum braid_crypto_cmd_op {
	/** A new session: its direction key; epoch 0 starts now. */
	BRAID_CRYPTO_CMD_SET_SESSION = 1,
};

/** A command of the seal or open stage (copied into its control ring;
 * the key is wiped from the command once applied). */
struct braid_crypto_cmd {
	uint8_t op;                      /**< enum braid_crypto_cmd_op */
	uint32_t session_id;             /**< seal: ours; open: the peer's */
	uint8_t prk[32];                 /**< direction key (HKDF-Extract) */
};

/* ---- seal: the send side stage (crypto_seal.c) ---- */

struct braid_crypto_seal;

struct braid_crypto_seal_conf {
	const char *name;
	struct braid_crypto_dev *dev;
	uint16_t qp;                     /**< this stage's queue pair */
	struct rte_mempool *pool;        /**< sealed frames (single segment) */
	uint64_t rekey_bytes;            /**< next epoch after this many bytes (> 0) */
	uint64_t rekey_ns;               /**< ... or this long (> 0) */
};

#define BRAID_CRYPTO_SEAL_COUNTERS(X) \
	X(sealed) X(bytes) X(clear_hello) X(rekeys) \
	X(drop_no_key) X(drop_no_mbuf) X(drop_too_big) X(drop_malformed) \
	X(drop_busy) X(drop_failed)

struct braid_crypto_seal_stats { BRAID_COUNTERS_FIELDS(BRAID_CRYPTO_SEAL_COUNTERS) };

/** @return NULL with rte_errno (EINVAL, ENOMEM) on error. */
struct braid_crypto_seal *braid_crypto_seal_create(const struct braid_crypto_seal_conf *conf,
						   int socket);
void braid_crypto_seal_free(struct braid_crypto_seal *s);

/** Apply one command now (what the stage's apply does). @return 0 or -errno. */
int braid_crypto_seal_apply(struct braid_crypto_seal *s, const struct braid_crypto_cmd *cmd);

/**
 * Seal frames as encap wrote them (HELLOs pass in clear). Each input is
 * consumed: sealed to @p out (the input freed), or freed under a drop.
 * @return frames pushed.
 */
uint16_t braid_crypto_seal_burst(struct braid_crypto_seal *s, struct rte_mbuf **pkts,
				 uint16_t n, struct braid_burst *out, uint64_t now_ns);

/** Epoch in use (0 after a new session). */
uint32_t braid_crypto_seal_epoch(const struct braid_crypto_seal *s);

void braid_crypto_seal_stats(const struct braid_crypto_seal *s,
			     struct braid_crypto_seal_stats *st);

extern const struct braid_stage_ops braid_crypto_seal_stage_ops;

/* ---- open: the receive side stage (crypto_open.c) ---- */

struct braid_crypto_open;

struct braid_crypto_open_conf {
	const char *name;
	struct braid_crypto_dev *dev;
	uint16_t qp;
	uint16_t n_links;                /**< link ids 0..n_links-1 */
	/** HELLO frames, untouched, for the handshake; NULL: freed and
	 * counted (drop_hello_full). */
	struct rte_ring *hello_ring;
};

/** Where a link's newest authenticated frame came from (outer headers):
 * a listener's link follows its peer there (NAT rebinding, a new modem
 * address). */
struct braid_crypto_endpoint {
	uint32_t ip;                     /**< source IPv4, host order */
	uint16_t port;                   /**< source UDP port */
	struct rte_ether_addr mac;       /**< source MAC (the next hop back) */
};

#define BRAID_CRYPTO_OPEN_COUNTERS(X) \
	X(opened) X(bytes) X(clear) X(hello) X(epoch_changes) X(endpoint_changes) \
	X(drop_no_key) X(drop_old_key) X(drop_replay) X(drop_auth) \
	X(drop_malformed) X(drop_split) X(drop_busy) X(drop_hello_full)

struct braid_crypto_open_stats { BRAID_COUNTERS_FIELDS(BRAID_CRYPTO_OPEN_COUNTERS) };

struct braid_crypto_open *braid_crypto_open_create(const struct braid_crypto_open_conf *conf,
						   int socket);
void braid_crypto_open_free(struct braid_crypto_open *o);

int braid_crypto_open_apply(struct braid_crypto_open *o, const struct braid_crypto_cmd *cmd);

/**
 * Open sealed frames in place. Frames that are not sealed braid frames
 * (ARP, ICMP, anything else) pass untouched for rx_decap to judge; HELLOs
 * go to the hello ring. pkts[] is compacted: the first return-value
 * entries are the frames to pass on, in input order.
 * @return frames left in pkts[].
 */
uint16_t braid_crypto_open_burst(struct braid_crypto_open *o, struct rte_mbuf **pkts,
				 uint16_t n, uint64_t now_ns);

void braid_crypto_open_stats(const struct braid_crypto_open *o,
			     struct braid_crypto_open_stats *st);

/**
 * The endpoint the newest authenticated frame of link @p link came from
 * (any thread: a sequence lock, never blocks the stage).
 * @return its generation (0: none yet; a new value: it moved).
 */
uint64_t braid_crypto_open_endpoint(const struct braid_crypto_open *o, uint16_t link,
				    struct braid_crypto_endpoint *ep);

extern const struct braid_stage_ops braid_crypto_open_stage_ops;

#endif /* BRAID_CRYPTO_H */
