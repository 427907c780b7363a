/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CRYPTO_PRIV_H
#define BRAID_CRYPTO_PRIV_H

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_mbuf.h>

#include "braid_crypto.h"
#include "braid_log.h"

extern int braid_crypto_logtype;
#define CRYPTO_LOG(level, ...) BRAID_LOG(level, braid_crypto_logtype, __VA_ARGS__)

/* The IV sits in the op's private area, after the symmetric op. */
#define CRYPTO_IV_OFFSET (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))

/* What an op carries besides the IV (open: to record the counter in the
 * replay window once the tag verified). */
struct crypto_op_priv {
	uint8_t iv[16];
	uint64_t ctr;
	uint32_t epoch;
	uint16_t link_id;
};

/* Ops per stage: a burst out of BRAID_BURST_OUT_MAX frames in flight. */
#define CRYPTO_OPS (2 * BRAID_BURST_OUT_MAX)
/* Dequeue polls of one burst before the rest is left to poll(). */
#define CRYPTO_DEQ_TRIES 64

/* An AES-256-GCM session of @p dir (RTE_CRYPTO_AEAD_OP_ENCRYPT/DECRYPT)
 * for epoch @p epoch of @p prk; its salt in @p salt. NULL on error. */
void *crypto_session(const struct braid_crypto_dev *dev, const uint8_t prk[32],
		     uint32_t epoch, enum rte_crypto_aead_operation dir,
		     uint8_t salt[BRAID_CRYPTO_SALT_LEN]);

/* The op pool of a stage. */
struct rte_mempool *crypto_op_pool(const char *name, int socket);

/* A pointer to @p len bytes at @p off of @p m if they lie in one
 * segment, else NULL. */
static inline uint8_t *
crypto_seg_ptr(struct rte_mbuf *m, uint32_t off, uint32_t len, rte_iova_t *iova)
{
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	if (m == NULL || off + len > m->data_len)
		return NULL;
	*iova = rte_pktmbuf_iova_offset(m, off);
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

#endif /* BRAID_CRYPTO_PRIV_H */
