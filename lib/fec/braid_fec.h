/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_FEC_H
#define BRAID_FEC_H

/**
 * @file
 * Reed-Solomon FEC over blocks of packets, with Intel ISA-L.
 *
 * A block of class c is k data packets plus m parity packets (systematic
 * Cauchy code over GF(2^8), gf_gen_cauchy1_matrix: any k of the k+m pieces
 * rebuild the data). Packets have different lengths, so each data packet is
 * coded as a piece
 *
 *     [2-byte big-endian length][packet][zeros up to L]
 *
 * where L = 2 + the longest packet of the block; parity pieces are L bytes
 * (meta fec_len = L). A block closed early (timeout, sequence gap, flush)
 * is shortened: it holds k' < k data and its parity says k' (meta fec_k);
 * its data packets, already sent, still say the nominal k.
 *
 * Sender: the "fec" stage (braid_fec_enc_*). Data packets get their block
 * fields and leave at once; the stage keeps a reference until the block
 * closes, encodes, and emits the parity. Parity meta.seq carries the seq of
 * the block's data index 0, so the receiver knows every data seq of the
 * block (first seq + index) even if all data is lost.
 *
 * Receiver: the decoder (braid_fec_dec_*), a library plus a "fec_decode"
 * stage. It keeps references to the pieces of open blocks and rebuilds
 * missing data as soon as any k' of the k'+m pieces are in.
 *
 * doc/fec.md describes the code, the piece layout and the counters.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_counters.h"
#include "braid_stage.h"

/** Largest k (data per block). */
#define BRAID_FEC_MAX_K 32
/** Largest m (parity per block). */
#define BRAID_FEC_MAX_M 16
/** Classes a FEC encoder/decoder serves (class_id 0..n_classes-1). */
#define BRAID_FEC_MAX_CLASSES 16
/** Links the parity placement knows (link_id 0..n_links-1). */
#define BRAID_FEC_MAX_LINKS 16
/** Bytes of the length prefix of a coded data piece. */
#define BRAID_FEC_LEN_PREFIX 2

struct braid_fec_enc;
struct braid_fec_dec;

/* ------------------------------------------------------------------ */
/* Encoder stage                                                      */
/* ------------------------------------------------------------------ */

/** Shortest block timeout the automatic one takes (ns). */
#define BRAID_FEC_AUTO_TIMEOUT_MIN_NS 1000000ULL

/** FEC policy of one class. */
struct braid_fec_class_conf {
	uint8_t k;            /**< data per block 1..BRAID_FEC_MAX_K; 0 = FEC off */
	uint8_t m;            /**< parity per block 1..BRAID_FEC_MAX_M (ignored if k == 0) */
	/** The block timeout follows the class's packet rate: a block opened
	 * now closes after 1.5 x k x the mean packet gap plus the mean gap
	 * between bursts (so at a steady rate blocks close full, with the
	 * parity the scheduler reserved), within
	 * [BRAID_FEC_AUTO_TIMEOUT_MIN_NS, timeout_ns]. */
	bool timeout_auto;
	uint64_t timeout_ns;  /**< a block closes this long after its first
			       *   packet even if not full (> 0 when k > 0);
			       *   with timeout_auto, the longest timeout */
};

/** Encoder configuration. */
struct braid_fec_enc_conf {
	uint16_t n_classes;   /**< 1..BRAID_FEC_MAX_CLASSES */
	struct braid_fec_class_conf classes[BRAID_FEC_MAX_CLASSES];
	uint16_t n_links;     /**< 1..BRAID_FEC_MAX_LINKS, for parity placement */
	/** Pool for parity mbufs. Its data room must hold the largest piece
	 *  (max_len + 2) after RTE_PKTMBUF_HEADROOM. */
	struct rte_mempool *pool;
	/** Largest packet FEC protects (bytes); longer ones pass unprotected
	 *  (skipped_too_large). 0 = what the pool's data room allows. */
	uint16_t max_len;
	/** meta.pkt_type given to parity (BRAID_PKT_PARITY of lib/wire), != 0. */
	uint8_t parity_pkt_type;
	/** true: always copy data into the stage's scratch before encoding,
	 *  never write the length prefix / zero padding around the packet
	 *  (see doc/fec.md "in place or copy"). */
	bool always_copy;
};

/** Counters of one class of the encoder (names are API: the X-macro). */
#define BRAID_FEC_ENC_CLASS_COUNTERS(X) \
	X(blocks_full)        /* closed with k data */                    \
	X(blocks_timeout)     /* closed short by the block timeout */     \
	X(blocks_cut)         /* closed short: skipped packet / seq gap */ \
	X(blocks_flushed)     /* closed short by flush/drain */            \
	X(data_protected)     /* data packets in closed blocks */          \
	X(parity_sent)        /* parity mbufs emitted */                   \
	X(parity_bytes)       /* sum of their fec_len */                   \
	X(copied)             /* data coded through the scratch copy */    \
	X(skipped_multiseg)   /* multi-segment: passed unprotected */      \
	X(skipped_too_large)  /* longer than max_len: passed unprotected */\
	X(drop_no_mbuf)       /* blocks sent without parity: no mbuf */

/** One class's encoder counters. */
struct braid_fec_enc_class_stats {
	BRAID_COUNTERS_FIELDS(BRAID_FEC_ENC_CLASS_COUNTERS)
};

/** The encoder's counters: every class's, summed, then the stage-wide
 * drop_out_full (packets freed because the output burst was full; cannot
 * happen with input bursts of up to BRAID_BURST). */
#define BRAID_FEC_ENC_COUNTERS(X) \
	BRAID_FEC_ENC_CLASS_COUNTERS(X) \
	X(drop_out_full)

/** The encoder's counters (braid_fec_enc_stats()). */
struct braid_fec_enc_stats {
	BRAID_COUNTERS_FIELDS(BRAID_FEC_ENC_COUNTERS)
};

/**
 * Validate @p conf, allocate the encoder and precompute the ISA-L tables
 * of every shortened length k' = 1..BRAID_FEC_MAX_K.
 * @return encoder, or NULL with rte_errno = EINVAL (bad conf) / ENOMEM.
 */
struct braid_fec_enc *braid_fec_enc_create(const struct braid_fec_enc_conf *conf,
					   int socket);

/**
 * Release the references of open blocks (no parity is sent) and free.
 * NULL is a no-op. Call braid_fec_enc_flush() first to send their parity.
 */
void braid_fec_enc_free(struct braid_fec_enc *e);

/**
 * Process a burst (the stage's process()). Every packet is pushed to
 * @p out at once; data of FEC classes (not F_DUP/F_RETX/F_PARITY) get
 * block_id, block_idx, fec_k, fec_m and a reference held by the block.
 * Blocks that fill (or whose timeout passed) are encoded and their parity
 * pushed after the data. Never allocates memory (only parity mbufs).
 */
void braid_fec_enc_burst(struct braid_fec_enc *e, struct rte_mbuf **pkts,
			 uint16_t n, struct braid_burst *out, uint64_t now_ns);

/**
 * Close the blocks whose timeout passed at @p now_ns and push their parity.
 * @return parity packets pushed.
 */
uint16_t braid_fec_enc_poll(struct braid_fec_enc *e, struct braid_burst *out,
			    uint64_t now_ns);

/**
 * Close every open block now (shutdown, or before a policy change takes
 * effect) and push its parity.
 * @return parity packets pushed.
 */
uint16_t braid_fec_enc_flush(struct braid_fec_enc *e, struct braid_burst *out,
			     uint64_t now_ns);

/**
 * Change the FEC policy of a class (control path, on the stage's lcore).
 * A block already open keeps the k, m and timeout it was opened with; the
 * next block uses @p cc.
 * @return 0, -EINVAL (bad values), -ENOENT (class out of range).
 */
int braid_fec_enc_set_class(struct braid_fec_enc *e, uint16_t class_id,
			    const struct braid_fec_class_conf *cc);

/** What a struct braid_fec_enc_cmd changes. */
enum braid_fec_enc_cmd_op {
	BRAID_FEC_ENC_CMD_CLASS = 1,   /**< a class's block shape and timeout */
};

/** A live change for the encoder's lcore (control channel element). */
struct braid_fec_enc_cmd {
	uint16_t op;                         /**< enum braid_fec_enc_cmd_op */
	uint16_t class_id;
	struct braid_fec_class_conf shape;   /**< k, m (0, 0 = off), timeout_ns */
};

/** Apply @p cmd (braid_fec_enc_set_class()). @return its result, or
 * -EINVAL for an unknown op. */
int braid_fec_enc_apply(struct braid_fec_enc *e, const struct braid_fec_enc_cmd *cmd);

/** Data packets currently referenced by open blocks (all classes). */
unsigned int braid_fec_enc_held(const struct braid_fec_enc *e);

/**
 * Read (never clear) the counters of class @p class_id.
 * @return 0 or -ENOENT.
 */
int braid_fec_enc_class_stats(const struct braid_fec_enc *e, uint16_t class_id,
			      struct braid_fec_enc_class_stats *st);

/** Copy the counters of every class, summed, and the stage-wide ones to
 * @p st (never clears). The stage's stats() reports them in this order. */
void braid_fec_enc_stats(const struct braid_fec_enc *e,
			 struct braid_fec_enc_stats *st);

/** Stage ops "fec" (ctx = struct braid_fec_enc *; apply:
 * braid_fec_enc_apply()). */
extern const struct braid_stage_ops braid_fec_enc_stage_ops;

/* ------------------------------------------------------------------ */
/* Decoder                                                            */
/* ------------------------------------------------------------------ */

/** Decoder configuration. */
struct braid_fec_dec_conf {
	uint16_t n_classes;     /**< 1..BRAID_FEC_MAX_CLASSES */
	/** Open blocks tracked per class: a power of two 2..4096. A piece of
	 *  a block more than max_blocks behind the newest one is late. */
	uint32_t max_blocks;
	/** An incomplete block is abandoned this long after its first piece
	 *  arrived (> 0). Should exceed the sender's block timeout plus the
	 *  delay spread of the links. */
	uint64_t timeout_ns;
	/** Pool for recovered data; its data room must hold max_len + 2. */
	struct rte_mempool *pool;
	/** Largest data packet expected (bytes). 0 = the pool's room - 2. */
	uint16_t max_len;
	/** meta.pkt_type of parity (BRAID_PKT_PARITY of lib/wire), 0 = none:
	 *  a piece is parity when meta.flags has BRAID_META_F_PARITY or its
	 *  pkt_type equals this (non-zero) value. */
	uint8_t parity_pkt_type;
	/** meta.pkt_type written into recovered data (0 allowed). */
	uint8_t data_pkt_type;
};

/** Counters of one class of the decoder. */
#define BRAID_FEC_DEC_CLASS_COUNTERS(X) \
	X(data_in)                 /* data pieces stored */                     \
	X(parity_in)               /* parity pieces stored */                   \
	X(blocks_complete_no_loss) /* every data piece arrived */               \
	X(blocks_recovered)        /* missing data rebuilt */                   \
	X(pieces_recovered)        /* data packets rebuilt and returned */      \
	X(blocks_abandoned)        /* timed out / evicted / reset incomplete */ \
	X(pieces_late)             /* for a finished or too old block */        \
	X(pieces_duplicate)        /* a piece already held */                   \
	X(drop_bad_piece)          /* inconsistent fields: not used */          \
	X(drop_no_mbuf)            /* recovery postponed: no mbuf */            \
	X(drop_bad_recovered)      /* rebuilt piece failed its length check */

/** One class's decoder counters. */
struct braid_fec_dec_class_stats {
	BRAID_COUNTERS_FIELDS(BRAID_FEC_DEC_CLASS_COUNTERS)
};

/** The decoder's counters: every class's, summed, then the stage's own. */
#define BRAID_FEC_DEC_COUNTERS(X) \
	BRAID_FEC_DEC_CLASS_COUNTERS(X) \
	X(drop_bad_class)   /* class_id out of range: freed */          \
	X(parity_consumed)  /* parity freed after braid_fec_dec_one() */ \
	X(drop_out_full)    /* packets: output burst full */             \
	X(session_resets)   /* peer restarts seen */

/** The decoder's counters (braid_fec_dec_stats()). */
struct braid_fec_dec_stats {
	BRAID_COUNTERS_FIELDS(BRAID_FEC_DEC_COUNTERS)
};

/**
 * Validate @p conf and allocate the decoder (block tables, scratch).
 * @return decoder, or NULL with rte_errno = EINVAL / ENOMEM.
 */
struct braid_fec_dec *braid_fec_dec_create(const struct braid_fec_dec_conf *conf,
					   int socket);

/** Release every held piece and free. NULL is a no-op. */
void braid_fec_dec_free(struct braid_fec_dec *d);

/**
 * Offer one received piece (meta filled by the tunnel decap: class_id,
 * seq, block_id, block_idx, fec_k, fec_m, fec_len, and F_PARITY or
 * pkt_type for parity). One at a time: the data a piece recovers must
 * follow that piece. The decoder takes its own reference when it keeps
 * the piece (refcnt + 1); the caller keeps its reference either way:
 * it forwards data and frees parity. Data with fec_k == 0 is ignored.
 *
 * When the piece completes a block whose data is missing, the missing data
 * is rebuilt into new mbufs from the decoder's pool (meta: class_id, seq =
 * block's first seq + index, block fields, rx_ns = @p now_ns, link_id =
 * BRAID_LINK_NONE) written to @p out, which must have room for
 * BRAID_FEC_MAX_M mbufs; the caller owns them.
 * @return number of recovered mbufs written to @p out (0..BRAID_FEC_MAX_M).
 */
uint16_t braid_fec_dec_one(struct braid_fec_dec *d, struct rte_mbuf *piece,
			   struct rte_mbuf **out, uint64_t now_ns);

/**
 * Abandon the blocks whose timeout passed at @p now_ns (their pieces are
 * released and counted in blocks_abandoned).
 * @return number of blocks abandoned.
 */
unsigned int braid_fec_dec_poll(struct braid_fec_dec *d, uint64_t now_ns);

/**
 * Forget every block of class @p class_id (or of all classes when
 * @p class_id is UINT16_MAX), e.g. when the peer's session changes: open
 * blocks are abandoned (counted) and block ids start afresh.
 * @return 0 or -ENOENT.
 */
int braid_fec_dec_reset(struct braid_fec_dec *d, uint16_t class_id);

/** Pieces currently referenced by open blocks (all classes). */
unsigned int braid_fec_dec_held(const struct braid_fec_dec *d);

/**
 * Read (never clear) the counters of class @p class_id.
 * @return 0 or -ENOENT.
 */
int braid_fec_dec_class_stats(const struct braid_fec_dec *d, uint16_t class_id,
			      struct braid_fec_dec_class_stats *st);

/** Copy the counters of every class, summed, and the stage-wide ones to
 * @p st (never clears). The stage's stats() reports them in this order. */
void braid_fec_dec_stats(const struct braid_fec_dec *d,
			 struct braid_fec_dec_stats *st);

/**
 * Stage ops "fec_decode" (ctx = struct braid_fec_dec *): data pieces are
 * offered to the decoder and pushed on; parity is offered and then freed
 * (consumed); recovered data is pushed after the piece that completed its
 * block. poll() abandons timed-out blocks; drain() releases every held
 * piece (counted as abandoned).
 * A piece carrying BRAID_META_F_SESSION (the first of a new peer session,
 * marked by rx_decap) first resets every class (braid_fec_dec_reset(),
 * session_resets), then is taken as usual; the flag moves on to the first
 * packet the stage outputs after the reset (the flagged piece may be
 * parity, which is consumed), so the next stage resets at the same point
 * of the stream.
 */
extern const struct braid_stage_ops braid_fec_dec_stage_ops;

/* ------------------------------------------------------------------ */
/* Plain scalar reference (tests compare ISA-L against it)            */
/* ------------------------------------------------------------------ */

/** GF(2^8) product, polynomial 0x11d (ISA-L's field), by shift and add. */
uint8_t braid_fec_ref_gf_mul(uint8_t a, uint8_t b);

/** GF(2^8) inverse (0 for 0), by exhaustive search. */
uint8_t braid_fec_ref_gf_inv(uint8_t a);

/**
 * Coefficient of parity row @p r (0..m-1) for data column @p c (0..k-1)
 * of the code with @p k data: 1 / ((k + r) xor c), ISA-L's Cauchy matrix.
 */
uint8_t braid_fec_ref_coef(unsigned int k, unsigned int r, unsigned int c);

/**
 * Encode @p m parity pieces of @p len bytes from @p k data pieces, byte by
 * byte with braid_fec_ref_gf_mul. k, m within the BRAID_FEC_MAX_* limits.
 */
void braid_fec_ref_encode(unsigned int k, unsigned int m, unsigned int len,
			  const uint8_t *const *data, uint8_t *const *parity);

#endif /* BRAID_FEC_H */
