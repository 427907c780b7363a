/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_FEC_PRIV_H
#define BRAID_FEC_PRIV_H

/*
 * Structures of the FEC encoder and decoder. Nothing outside lib/fec
 * includes this file.
 */
#include <stdint.h>
#include <sys/queue.h>

#include <rte_common.h>

#include "braid_fec.h"
#include "braid_log.h"

extern int braid_fec_logtype;
#define FEC_LOG(level, ...) BRAID_LOG(level, braid_fec_logtype, __VA_ARGS__)

/* ISA-L expanded tables: 32 bytes per (row, column) coefficient. */
#define FEC_TBL_BYTES(k, rows) (32u * (unsigned int)(k) * (unsigned int)(rows))

/* Piece stride in a scratch area: a piece of up to room bytes, rounded up
 * to a cache line so pieces do not share lines. */
static inline unsigned int
fec_stride(unsigned int room)
{
	return RTE_ALIGN_CEIL(room, RTE_CACHE_LINE_SIZE);
}

/* Write the big-endian length prefix of a piece. */
static inline void
fec_put_len(uint8_t *p, uint16_t len)
{
	p[0] = (uint8_t)(len >> 8);
	p[1] = (uint8_t)len;
}

static inline uint16_t
fec_get_len(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* ---------------- encoder ---------------- */

/* A data packet held by an open block. Its bytes are remembered when it
 * joins, so the block never depends on the mbuf header staying as it was. */
struct fec_src {
	struct rte_mbuf *m;
	uint8_t *data;
	uint16_t len;
	uint16_t tail;     /* tailroom after the packet at join */
	uint8_t inplace;   /* direct, sole owner at join, headroom >= 2 */
};

struct fec_enc_block {
	uint64_t deadline_ns;
	uint32_t block_id;
	uint32_t first_seq;
	uint8_t k, m;        /* policy the block was opened with */
	uint8_t n;           /* data in; 0 = no open block */
	uint16_t max_len;    /* longest data so far */
	uint32_t link_mask;  /* links that carried data of this block */
	/* Parity credit per link, scaled by k: sum of len * m of the block's
	 * data on the link (the credit of pipeline.md is this / k). */
	int64_t credit[BRAID_FEC_MAX_LINKS];
	struct fec_src src[BRAID_FEC_MAX_K];
};

struct fec_enc_class {
	struct braid_fec_enc_class_stats cnt;
	struct braid_fec_class_conf conf;
	/* timeout_auto: mean gap between the class's protected packets and
	 * between their bursts (EWMAs), when the last burst came and how
	 * many packets it had so far. */
	uint64_t gap_ewma_ns;
	uint64_t burst_gap_ewma_ns;
	uint64_t last_ns;
	uint32_t at_last;
	uint32_t next_block_id;
	uint16_t id;
	struct fec_enc_block blk;
} __rte_cache_aligned;

struct braid_fec_enc {
	struct rte_mempool *pool;
	uint16_t n_classes;
	uint16_t n_links;
	uint16_t max_len;        /* largest protected packet */
	uint16_t piece_room;     /* max_len + 2 */
	uint8_t parity_pkt_type;
	bool always_copy;
	unsigned int held;       /* references held by open blocks */
	uint64_t next_deadline;  /* earliest open-block deadline, UINT64_MAX if none */
	uint64_t drop_out_full;
	/* tbls[k'] (k' = 1..MAX_K): ISA-L tables of the BRAID_FEC_MAX_M
	 * parity rows of the Cauchy code with k' data. A code with m < MAX_M
	 * uses the first m rows: the rows do not depend on m. */
	uint8_t *tbls[BRAID_FEC_MAX_K + 1];
	uint8_t *tbl_mem;
	uint8_t *scratch;        /* MAX_K pieces, fec_stride(piece_room) apart */
	struct fec_enc_class cls[BRAID_FEC_MAX_CLASSES];
};

/* ---------------- decoder ---------------- */

struct fec_piece {
	struct rte_mbuf *m;
	const uint8_t *data;
	uint16_t len;
};

enum fec_dblk_state {
	FEC_DBLK_FREE = 0,
	FEC_DBLK_OPEN,
	FEC_DBLK_DONE,       /* completed, recovered or abandoned */
};

#define FEC_HAVE_PAR_SHIFT 32   /* bit of parity j in have: 32 + j */

struct fec_dec_block {
	TAILQ_ENTRY(fec_dec_block) next;   /* open list, oldest first */
	uint64_t open_ns;
	uint64_t have;        /* bit i: data i; bit 32 + j: parity j */
	uint32_t block_id;
	uint32_t first_seq;
	uint16_t fec_len;     /* L from parity; 0 = not known yet */
	uint16_t max_dlen;    /* longest data piece held */
	uint8_t state;
	uint8_t seq_known;
	uint8_t k_nom;        /* nominal k from data; 0 = not known */
	uint8_t k_eff;        /* k' from parity; 0 = not known */
	uint8_t m;
	uint8_t n_data;
	uint8_t n_par;
	struct fec_piece data[BRAID_FEC_MAX_K];
	struct fec_piece par[BRAID_FEC_MAX_M];
};

TAILQ_HEAD(fec_dblk_list, fec_dec_block);

struct fec_dec_class {
	struct braid_fec_dec_class_stats cnt;
	struct fec_dblk_list open;
	struct fec_dec_block *blocks;   /* max_blocks slots, by block_id & mask */
	uint32_t hi;                    /* newest block id seen */
	uint8_t hi_valid;
} __rte_cache_aligned;

struct braid_fec_dec {
	struct rte_mempool *pool;
	uint64_t timeout_ns;
	uint32_t max_blocks;
	uint32_t mask;
	uint16_t n_classes;
	uint16_t max_len;
	uint16_t piece_room;
	uint8_t parity_pkt_type;
	uint8_t data_pkt_type;
	unsigned int held;
	uint64_t drop_bad_class;    /* pieces of a class >= n_classes */
	uint64_t parity_consumed;   /* stage: parity freed after add */
	uint64_t drop_out_full;     /* stage: output burst full */
	uint64_t session_resets;    /* stage: peer restarts (all classes reset) */
	bool session_pending;       /* stage: flag the next packet pushed out */
	uint8_t *scratch;           /* MAX_K data pieces for a recovery */
	/* Recovery work areas (one recovery at a time). */
	uint8_t sub_mat[BRAID_FEC_MAX_M * BRAID_FEC_MAX_M];  /* C_PM */
	uint8_t inv_mat[BRAID_FEC_MAX_M * BRAID_FEC_MAX_M];  /* C_PM^-1 */
	uint8_t cpd_mat[BRAID_FEC_MAX_M * BRAID_FEC_MAX_K];  /* C_PD */
	uint8_t rec_mat[BRAID_FEC_MAX_M * BRAID_FEC_MAX_K];  /* rebuild rows */
	uint8_t *rec_tbls;          /* FEC_TBL_BYTES(MAX_K, MAX_M) */
	struct fec_dec_class cls[BRAID_FEC_MAX_CLASSES];
};

#endif /* BRAID_FEC_PRIV_H */
