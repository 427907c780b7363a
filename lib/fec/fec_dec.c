/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FEC decoder: per class a window of open blocks keyed by block_id, the
 * pieces held by reference, ISA-L reconstruction of missing data.
 * See braid_fec.h and doc/fec.md.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <isa-l/erasure_code.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "braid_meta.h"
#include "fec_priv.h"

#define FEC_DATA_BITS 0xffffffffULL

static unsigned int
fec_dec_pool_room(struct rte_mempool *mp)
{
	unsigned int room;

	if (mp->private_data_size < sizeof(struct rte_pktmbuf_pool_private))
		return 0;
	room = rte_pktmbuf_data_room_size(mp);
	if (room <= RTE_PKTMBUF_HEADROOM)
		return 0;
	room -= RTE_PKTMBUF_HEADROOM;
	return RTE_MIN(room, (unsigned int)UINT16_MAX);
}

struct braid_fec_dec *
braid_fec_dec_create(const struct braid_fec_dec_conf *conf, int socket)
{
	struct braid_fec_dec *d;
	unsigned int room, max_len;

	if (conf == NULL || conf->pool == NULL) {
		FEC_LOG(ERR, "fec_decode: no configuration or no pool");
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_FEC_MAX_CLASSES) {
		FEC_LOG(ERR, "fec_decode: n_classes must be 1..%u (got %u)",
			BRAID_FEC_MAX_CLASSES, conf->n_classes);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->max_blocks < 2 || conf->max_blocks > 4096 ||
	    !rte_is_power_of_2(conf->max_blocks)) {
		FEC_LOG(ERR, "fec_decode: max_blocks must be a power of two in 2..4096 (got %u)",
			conf->max_blocks);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->timeout_ns == 0) {
		FEC_LOG(ERR, "fec_decode: timeout_ns must be > 0");
		rte_errno = EINVAL;
		return NULL;
	}
	room = fec_dec_pool_room(conf->pool);
	if (room < BRAID_FEC_LEN_PREFIX + 1) {
		FEC_LOG(ERR, "fec_decode: pool %s is not a pktmbuf pool with data room",
			conf->pool->name);
		rte_errno = EINVAL;
		return NULL;
	}
	max_len = conf->max_len != 0 ? conf->max_len : room - BRAID_FEC_LEN_PREFIX;
	if (max_len + BRAID_FEC_LEN_PREFIX > room) {
		FEC_LOG(ERR, "fec_decode: max_len %u needs %u bytes of data room after headroom, pool %s has %u",
			max_len, max_len + BRAID_FEC_LEN_PREFIX,
			conf->pool->name, room);
		rte_errno = EINVAL;
		return NULL;
	}

	d = rte_zmalloc_socket("braid_fec_dec", sizeof(*d), RTE_CACHE_LINE_SIZE,
			       socket);
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d->pool = conf->pool;
	d->timeout_ns = conf->timeout_ns;
	d->max_blocks = conf->max_blocks;
	d->mask = conf->max_blocks - 1;
	d->n_classes = conf->n_classes;
	d->max_len = (uint16_t)max_len;
	d->piece_room = (uint16_t)(max_len + BRAID_FEC_LEN_PREFIX);
	d->parity_pkt_type = conf->parity_pkt_type;
	d->data_pkt_type = conf->data_pkt_type;
	d->scratch = rte_malloc_socket("braid_fec_dec_scratch",
				       (size_t)BRAID_FEC_MAX_K * fec_stride(d->piece_room),
				       RTE_CACHE_LINE_SIZE, socket);
	d->rec_tbls = rte_malloc_socket("braid_fec_dec_tbls",
					FEC_TBL_BYTES(BRAID_FEC_MAX_K, BRAID_FEC_MAX_M),
					RTE_CACHE_LINE_SIZE, socket);
	if (d->scratch == NULL || d->rec_tbls == NULL)
		goto nomem;
	for (unsigned int c = 0; c < d->n_classes; c++) {
		struct fec_dec_class *cl = &d->cls[c];

		TAILQ_INIT(&cl->open);
		cl->blocks = rte_zmalloc_socket("braid_fec_dec_blocks",
						sizeof(*cl->blocks) * d->max_blocks,
						RTE_CACHE_LINE_SIZE, socket);
		if (cl->blocks == NULL)
			goto nomem;
	}
	return d;
nomem:
	braid_fec_dec_free(d);
	rte_errno = ENOMEM;
	return NULL;
}

/* Release every piece of @p b and mark it finished. */
static void
fec_dblk_finish(struct braid_fec_dec *d, struct fec_dec_class *c,
		struct fec_dec_block *b)
{
	struct rte_mbuf *ms[BRAID_FEC_MAX_K + BRAID_FEC_MAX_M];
	unsigned int n = 0;

	for (uint64_t have = b->have; have != 0; have &= have - 1) {
		unsigned int bit = rte_bsf64(have);

		ms[n++] = bit < FEC_HAVE_PAR_SHIFT ? b->data[bit].m :
			  b->par[bit - FEC_HAVE_PAR_SHIFT].m;
	}
	rte_pktmbuf_free_bulk(ms, n);
	d->held -= n;
	b->have = 0;
	b->n_data = 0;
	b->n_par = 0;
	b->state = FEC_DBLK_DONE;
	TAILQ_REMOVE(&c->open, b, next);
}

static void
fec_dblk_abandon(struct braid_fec_dec *d, struct fec_dec_class *c,
		 struct fec_dec_block *b)
{
	c->cnt.blocks_abandoned++;
	fec_dblk_finish(d, c, b);
}

void
braid_fec_dec_free(struct braid_fec_dec *d)
{
	if (d == NULL)
		return;
	for (unsigned int c = 0; c < d->n_classes; c++) {
		struct fec_dec_class *cl = &d->cls[c];
		struct fec_dec_block *b;

		if (cl->blocks == NULL)
			continue;
		while ((b = TAILQ_FIRST(&cl->open)) != NULL)
			fec_dblk_finish(d, cl, b);
		rte_free(cl->blocks);
	}
	rte_free(d->rec_tbls);
	rte_free(d->scratch);
	rte_free(d);
}

static inline bool
fec_is_parity(const struct braid_fec_dec *d, const struct braid_meta *md)
{
	return (md->flags & BRAID_META_F_PARITY) != 0 ||
	       (d->parity_pkt_type != 0 && md->pkt_type == d->parity_pkt_type);
}

/*
 * Rebuild the missing data of @p b from k' of its pieces and write them to
 * @p out. Returns how many were written; leaves the block open (to retry
 * on the next piece, or to time out) when no mbuf is available.
 */
static uint16_t
fec_recover(struct braid_fec_dec *d, struct fec_dec_class *c, uint16_t cid,
	    struct fec_dec_block *b, struct rte_mbuf **out, uint64_t now_ns)
{
	const unsigned int k = b->k_eff, m = b->m, L = b->fec_len;
	const unsigned int nmiss = k - b->n_data;
	const unsigned int stride = fec_stride(d->piece_room);
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	uint8_t *src[BRAID_FEC_MAX_K];
	uint8_t *dst[BRAID_FEC_MAX_M];
	uint8_t rows[BRAID_FEC_MAX_K];
	uint8_t miss[BRAID_FEC_MAX_M];
	unsigned int r = 0, t = 0;
	uint16_t nout = 0;

	if (rte_pktmbuf_alloc_bulk(d->pool, rec, nmiss) != 0) {
		c->cnt.drop_no_mbuf++;
		return 0;
	}
	/* Survivors: every data piece held, then parity in index order. Data
	 * is copied into the scratch as [len][packet][zeros]: the held mbufs
	 * are shared with the rest of the receive path and never written. */
	for (unsigned int i = 0; i < k; i++) {
		const struct fec_piece *p = &b->data[i];
		uint8_t *s;

		if ((b->have & (1ULL << i)) == 0) {
			miss[t++] = (uint8_t)i;
			continue;
		}
		s = d->scratch + (size_t)r * stride;
		fec_put_len(s, p->len);
		rte_memcpy(s + BRAID_FEC_LEN_PREFIX, p->data, p->len);
		memset(s + BRAID_FEC_LEN_PREFIX + p->len, 0,
		       L - BRAID_FEC_LEN_PREFIX - p->len);
		rows[r] = (uint8_t)i;
		src[r++] = s;
	}
	for (unsigned int j = 0; j < m && r < k; j++) {
		if ((b->have & (1ULL << (FEC_HAVE_PAR_SHIFT + j))) == 0)
			continue;
		rows[r] = (uint8_t)(k + j);
		src[r++] = (uint8_t *)(uintptr_t)b->par[j].data;
	}

	/*
	 * Survivors = S * data, S the survivors' rows of the code: identity
	 * rows for the data held (D), Cauchy rows for the parity used (P).
	 * Rather than invert S (k x k), use its shape: with M the missing
	 * data, C the Cauchy rows,
	 *     parity_P = C_PD * data_D + C_PM * data_M
	 *     data_M   = C_PM^-1 * (C_PD * data_D + parity_P)
	 * so the rows rebuilding data_M from the survivors (D then P) are
	 * C_PM^-1 * [C_PD | I]: an nmiss x nmiss inversion (gf_invert_matrix;
	 * any square submatrix of a Cauchy matrix is invertible) instead of
	 * k x k. Same result as inverting S, a fraction of the work.
	 */
	{
		const unsigned int nd = b->n_data;

		for (unsigned int x = 0; x < nmiss; x++) {
			const unsigned int row = rows[nd + x]; /* k + j */

			for (unsigned int t = 0; t < nmiss; t++)
				d->sub_mat[x * nmiss + t] =
					gf_inv((uint8_t)(row ^ miss[t]));
			for (unsigned int s2 = 0; s2 < nd; s2++)
				d->cpd_mat[x * nd + s2] =
					gf_inv((uint8_t)(row ^ rows[s2]));
		}
		if (gf_invert_matrix(d->sub_mat, d->inv_mat, (int)nmiss) != 0) {
			/* Cannot happen with a Cauchy code (k + m <= 256).
			 * Give the block up, counted. */
			rte_pktmbuf_free_bulk(rec, nmiss);
			c->cnt.drop_bad_recovered += nmiss;
			fec_dblk_abandon(d, c, b);
			return 0;
		}
		for (t = 0; t < nmiss; t++) {
			uint8_t *rr = &d->rec_mat[t * k];
			const uint8_t *ai = &d->inv_mat[t * nmiss];

			for (unsigned int s2 = 0; s2 < nd; s2++) {
				uint8_t acc = 0;

				for (unsigned int x = 0; x < nmiss; x++)
					acc ^= gf_mul(ai[x], d->cpd_mat[x * nd + s2]);
				rr[s2] = acc;
			}
			memcpy(&rr[nd], ai, nmiss);
			dst[t] = rte_pktmbuf_mtod(rec[t], uint8_t *);
		}
	}
	ec_init_tables((int)k, (int)nmiss, d->rec_mat, d->rec_tbls);
	ec_encode_data((int)L, (int)k, (int)nmiss, d->rec_tbls, src, dst);

	for (t = 0; t < nmiss; t++) {
		struct rte_mbuf *mb = rec[t];
		const uint8_t *p = dst[t];
		uint16_t len = fec_get_len(p);
		struct braid_meta *md;
		bool ok = (unsigned int)len + BRAID_FEC_LEN_PREFIX <= L;

		/* The padding must decode to zeros: anything else means the
		 * pieces did not belong to one block. */
		for (unsigned int i = BRAID_FEC_LEN_PREFIX + len; ok && i < L; i++)
			ok = p[i] == 0;
		if (!ok) {
			rte_pktmbuf_free(mb);
			c->cnt.drop_bad_recovered++;
			continue;
		}
		mb->data_off += BRAID_FEC_LEN_PREFIX;
		mb->data_len = len;
		mb->pkt_len = len;
		md = braid_meta(mb);
		memset(md, 0, sizeof(*md));
		md->rx_ns = now_ns;
		md->seq = b->first_seq + miss[t];
		md->block_id = b->block_id;
		md->class_id = cid;
		md->link_id = BRAID_LINK_NONE;
		md->port_in = UINT16_MAX;
		md->pkt_type = d->data_pkt_type;
		md->block_idx = miss[t];
		md->fec_k = b->k_nom != 0 ? b->k_nom : (uint8_t)k;
		md->fec_m = (uint8_t)m;
		out[nout++] = mb;
	}
	c->cnt.blocks_recovered++;
	c->cnt.pieces_recovered += nout;
	fec_dblk_finish(d, c, b);
	return nout;
}

/* Check a piece's own fields. */
static bool
fec_piece_valid(const struct braid_fec_dec *d, const struct rte_mbuf *m,
		const struct braid_meta *md, bool parity)
{
	const unsigned int k = md->fec_k, mm = md->fec_m, idx = md->block_idx;

	if (k == 0 || k > BRAID_FEC_MAX_K || mm == 0 || mm > BRAID_FEC_MAX_M ||
	    m->nb_segs != 1)
		return false;
	if (parity)
		return idx >= k && idx < k + mm &&
		       md->fec_len >= BRAID_FEC_LEN_PREFIX &&
		       md->fec_len <= d->piece_room &&
		       rte_pktmbuf_data_len(m) == md->fec_len;
	return idx < k && rte_pktmbuf_data_len(m) <= d->max_len;
}

uint16_t
braid_fec_dec_one(struct braid_fec_dec *d, struct rte_mbuf *piece,
		  struct rte_mbuf **out, uint64_t now_ns)
{
	struct braid_meta *md = braid_meta(piece);
	const bool parity = fec_is_parity(d, md);
	struct fec_dec_class *c;
	struct fec_dec_block *b;
	uint32_t id, first;
	unsigned int k, idx;
	int32_t diff;

	if (!parity && md->fec_k == 0)
		return 0; /* data of a class without FEC */
	if (md->class_id >= d->n_classes) {
		d->drop_bad_class++;
		return 0;
	}
	c = &d->cls[md->class_id];
	if (!fec_piece_valid(d, piece, md, parity)) {
		c->cnt.drop_bad_piece++;
		return 0;
	}
	k = md->fec_k;
	idx = md->block_idx;
	id = md->block_id;
	first = parity ? md->seq : md->seq - idx;

	/* Window: blocks in (hi - max_blocks, hi] are tracked. */
	if (!c->hi_valid) {
		c->hi = id;
		c->hi_valid = 1;
	}
	diff = (int32_t)(id - c->hi);
	if (diff > 0) {
		c->hi = id;
	} else if (diff <= -(int32_t)d->max_blocks) {
		c->cnt.pieces_late++;
		return 0;
	}
	b = &c->blocks[id & d->mask];
	if (b->state != FEC_DBLK_FREE && b->block_id == id) {
		if (b->state == FEC_DBLK_DONE) {
			c->cnt.pieces_late++;
			return 0;
		}
	} else {
		if (b->state == FEC_DBLK_OPEN)
			fec_dblk_abandon(d, c, b); /* fell out of the window */
		memset(b, 0, offsetof(struct fec_dec_block, data));
		b->state = FEC_DBLK_OPEN;
		b->block_id = id;
		b->open_ns = now_ns;
		b->m = md->fec_m;
		b->first_seq = first;
		b->seq_known = 1;
		TAILQ_INSERT_TAIL(&c->open, b, next);
	}

	/* The piece must agree with what the block already knows. */
	if (b->m != md->fec_m || b->first_seq != first)
		goto bad;
	if (!parity) {
		if ((b->k_nom != 0 && b->k_nom != k) ||
		    (b->k_eff != 0 && (idx >= b->k_eff || k < b->k_eff)) ||
		    (b->fec_len != 0 &&
		     rte_pktmbuf_data_len(piece) + BRAID_FEC_LEN_PREFIX > b->fec_len))
			goto bad;
		if (b->have & (1ULL << idx)) {
			c->cnt.pieces_duplicate++;
			return 0;
		}
		b->data[idx].m = piece;
		b->data[idx].data = rte_pktmbuf_mtod(piece, const uint8_t *);
		b->data[idx].len = rte_pktmbuf_data_len(piece);
		if (b->data[idx].len > b->max_dlen)
			b->max_dlen = b->data[idx].len;
		b->have |= 1ULL << idx;
		b->k_nom = (uint8_t)k;
		b->n_data++;
		c->cnt.data_in++;
	} else {
		const unsigned int j = idx - k;

		if ((b->k_eff != 0 && b->k_eff != k) ||
		    (b->k_nom != 0 && k > b->k_nom) ||
		    (b->have & FEC_DATA_BITS & ~((1ULL << k) - 1)) != 0 ||
		    (b->fec_len != 0 && b->fec_len != md->fec_len) ||
		    b->max_dlen + BRAID_FEC_LEN_PREFIX > md->fec_len)
			goto bad;
		if (b->have & (1ULL << (FEC_HAVE_PAR_SHIFT + j))) {
			c->cnt.pieces_duplicate++;
			return 0;
		}
		b->par[j].m = piece;
		b->par[j].data = rte_pktmbuf_mtod(piece, const uint8_t *);
		b->par[j].len = md->fec_len;
		b->have |= 1ULL << (FEC_HAVE_PAR_SHIFT + j);
		b->k_eff = (uint8_t)k;
		b->fec_len = md->fec_len;
		b->n_par++;
		c->cnt.parity_in++;
	}
	rte_mbuf_refcnt_update(piece, 1);
	d->held++;

	if (b->k_eff != 0) {
		if (b->n_data == b->k_eff) {
			c->cnt.blocks_complete_no_loss++;
			fec_dblk_finish(d, c, b);
		} else if (b->n_data + b->n_par >= b->k_eff) {
			return fec_recover(d, c, md->class_id, b, out, now_ns);
		}
	} else if (b->n_data == b->k_nom) {
		c->cnt.blocks_complete_no_loss++;
		fec_dblk_finish(d, c, b);
	}
	return 0;
bad:
	c->cnt.drop_bad_piece++;
	return 0;
}

unsigned int
braid_fec_dec_poll(struct braid_fec_dec *d, uint64_t now_ns)
{
	unsigned int n = 0;

	for (unsigned int c = 0; c < d->n_classes; c++) {
		struct fec_dec_class *cl = &d->cls[c];
		struct fec_dec_block *b;

		while ((b = TAILQ_FIRST(&cl->open)) != NULL &&
		       now_ns >= b->open_ns && now_ns - b->open_ns >= d->timeout_ns) {
			fec_dblk_abandon(d, cl, b);
			n++;
		}
	}
	return n;
}

static void
fec_dec_reset_class(struct braid_fec_dec *d, struct fec_dec_class *c)
{
	struct fec_dec_block *b;

	while ((b = TAILQ_FIRST(&c->open)) != NULL)
		fec_dblk_abandon(d, c, b);
	for (uint32_t i = 0; i < d->max_blocks; i++)
		c->blocks[i].state = FEC_DBLK_FREE;
	c->hi_valid = 0;
}

int
braid_fec_dec_reset(struct braid_fec_dec *d, uint16_t class_id)
{
	if (class_id == UINT16_MAX) {
		for (unsigned int c = 0; c < d->n_classes; c++)
			fec_dec_reset_class(d, &d->cls[c]);
		return 0;
	}
	if (class_id >= d->n_classes)
		return -ENOENT;
	fec_dec_reset_class(d, &d->cls[class_id]);
	return 0;
}

unsigned int
braid_fec_dec_held(const struct braid_fec_dec *d)
{
	return d->held;
}

int
braid_fec_dec_class_stats(const struct braid_fec_dec *d, uint16_t class_id,
			  struct braid_fec_dec_class_stats *st)
{
	if (class_id >= d->n_classes)
		return -ENOENT;
	*st = d->cls[class_id].cnt;
	return 0;
}

void
braid_fec_dec_stats(const struct braid_fec_dec *d, struct braid_fec_dec_stats *st)
{
	memset(st, 0, sizeof(*st));
#define FEC_SUM_(n) st->n += d->cls[c].cnt.n;
	for (unsigned int c = 0; c < d->n_classes; c++) {
		BRAID_FEC_DEC_CLASS_COUNTERS(FEC_SUM_)
	}
#undef FEC_SUM_
	st->drop_bad_class = d->drop_bad_class;
	st->parity_consumed = d->parity_consumed;
	st->drop_out_full = d->drop_out_full;
	st->session_resets = d->session_resets;
}

/* Stage glue. */

/* A peer restart (BRAID_META_F_SESSION, set by rx_decap on the new
 * session's first piece) is carried on to reorder on the first packet
 * this stage outputs after its reset: the flagged piece may be parity,
 * which it consumes. */
static inline void
fec_dec_pass_session(struct braid_fec_dec *d, struct braid_burst *out, uint16_t from)
{
	if (likely(!d->session_pending) || out->n <= from)
		return;
	braid_meta(out->pkts[from])->flags |= BRAID_META_F_SESSION;
	d->session_pending = false;
}

static inline void
fec_dec_push(struct braid_fec_dec *d, struct braid_burst *out,
	     struct rte_mbuf *m)
{
	if (unlikely(braid_burst_push(out, m) != 0)) {
		rte_pktmbuf_free(m);
		d->drop_out_full++;
	}
}

static void
fec_dec_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		      struct braid_burst *out, uint64_t now_ns)
{
	struct braid_fec_dec *d = ctx;
	struct rte_mbuf *rec[BRAID_FEC_MAX_M];
	uint64_t consumed = 0;
	uint16_t from = out->n;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *bm = braid_meta(m);
		const bool parity = fec_is_parity(d, bm);
		uint16_t r;

		if (unlikely(bm->flags & BRAID_META_F_SESSION)) {
			/* The peer restarted: nothing of its old blocks is
			 * held against the new stream; reorder resets too. */
			fec_dec_pass_session(d, out, from);
			braid_fec_dec_reset(d, UINT16_MAX);
			bm->flags &= (uint8_t)~BRAID_META_F_SESSION;
			d->session_pending = true;
			d->session_resets++;
			from = out->n;
		}
		r = braid_fec_dec_one(d, m, rec, now_ns);
		if (parity) {
			rte_pktmbuf_free(m);
			consumed++;
		} else {
			fec_dec_push(d, out, m);
		}
		for (uint16_t t = 0; t < r; t++)
			fec_dec_push(d, out, rec[t]);
	}
	d->parity_consumed += consumed;
	fec_dec_pass_session(d, out, from);
}

static uint16_t
fec_dec_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	RTE_SET_USED(out);
	braid_fec_dec_poll(ctx, now_ns);
	return 0;
}

static uint16_t
fec_dec_stage_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_fec_dec *d = ctx;

	RTE_SET_USED(out);
	RTE_SET_USED(now_ns);
	for (unsigned int c = 0; c < d->n_classes; c++) {
		struct fec_dec_class *cl = &d->cls[c];
		struct fec_dec_block *b;

		while ((b = TAILQ_FIRST(&cl->open)) != NULL)
			fec_dblk_abandon(d, cl, b);
	}
	return 0;
}

static void
fec_dec_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	struct braid_fec_dec_stats st;

	braid_fec_dec_stats(ctx, &st);
	BRAID_COUNTERS_REPORT(BRAID_FEC_DEC_COUNTERS, &st, fn, arg);
}

const struct braid_stage_ops braid_fec_dec_stage_ops = {
	.kind = "fec_decode",
	.flags = 0,
	.process = fec_dec_stage_process,
	.poll = fec_dec_stage_poll,
	.drain = fec_dec_stage_drain,
	.stats = fec_dec_stage_stats,
};
