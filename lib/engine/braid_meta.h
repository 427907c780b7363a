/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_META_H
#define BRAID_META_H

/*
 * Per-packet metadata that travels with an mbuf between stages, in an mbuf
 * dynamic field (rte_mbuf_dyn.h), so the payload is never touched to pass
 * decisions along: classify writes class_id, sched writes link_id, the
 * sender assigns seq, RX stamps arrival time.
 */
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#define BRAID_LINK_NONE   UINT16_MAX
#define BRAID_CLASS_NONE  UINT16_MAX

struct braid_meta {
	uint64_t rx_ns;     /**< arrival time on this gateway (engine clock, ns) */
	uint32_t seq;       /**< the class stream's sequence number (global
			     *   across links; assigned by sched on the sender) */
	uint32_t block_id;  /**< FEC block of this class (fec) */
	uint16_t class_id;  /**< traffic class index (classify) */
	uint16_t link_id;   /**< chosen link index (sched/fec), BRAID_LINK_NONE if none */
	uint16_t port_in;   /**< ingress ethdev port id */
	uint16_t fec_len;   /**< parity: protected (padded) length of the block */
	uint8_t pkt_type;   /**< BRAID_PKT_* (lib/wire), 0 until set */
	uint8_t flags;      /**< BRAID_META_F_* */
	uint8_t block_idx;  /**< index in the FEC block: 0..k-1 data, k..k+m-1 parity */
	uint8_t fec_k;      /**< block's data count (0 = FEC off) */
	uint8_t fec_m;      /**< block's parity count */
	uint8_t reserved[3];
};
#define BRAID_META_F_RETX   0x01 /**< this is a retransmission */
#define BRAID_META_F_DUP    0x02 /**< a duplicate copy (duplicate policy) */
#define BRAID_META_F_PARITY 0x04 /**< FEC parity, not LAN data */
/** First packet of a new peer session: receive stages reset their state
 * for that peer before taking it (in band, so ordering is exact). */
#define BRAID_META_F_SESSION 0x08
/** A sealed frame whose tag verified (lib/crypto open stage). */
#define BRAID_META_F_OPENED  0x10

/** Offset of struct braid_meta in the mbuf; set by braid_meta_register(). */
extern int braid_meta_offset;

/**
 * Register the braid metadata dynfield (idempotent). Call after EAL init,
 * before the first mempool is created.
 * @return 0 or -errno.
 */
int braid_meta_register(void);

static inline struct braid_meta *
braid_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, braid_meta_offset, struct braid_meta *);
}

#endif /* BRAID_META_H */
