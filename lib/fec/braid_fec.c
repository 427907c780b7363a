/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FEC encoder stage: block membership, references, ISA-L encode, parity
 * link placement. See braid_fec.h and doc/fec.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <isa-l/erasure_code.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "braid_meta.h"
#include "fec_priv.h"

RTE_LOG_REGISTER(braid_fec_logtype, braid.fec, INFO);

enum fec_close_why {
	FEC_CLOSE_FULL,
	FEC_CLOSE_TIMEOUT,
	FEC_CLOSE_CUT,
	FEC_CLOSE_FLUSH,
};

static bool
fec_class_conf_valid(const struct braid_fec_class_conf *cc)
{
	if (cc->k == 0)
		return true;
	return cc->k <= BRAID_FEC_MAX_K && cc->m >= 1 &&
	       cc->m <= BRAID_FEC_MAX_M && cc->timeout_ns > 0;
}

/* Bytes an mbuf of @p mp holds after the default headroom; 0 if @p mp is
 * not a pktmbuf pool. */
static unsigned int
fec_pool_room(struct rte_mempool *mp)
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

/* Start the rate estimate at the longest timeout: until the rate is
 * known, blocks rather close full than early. */
static void
fec_rate_init(struct fec_enc_class *c)
{
	c->gap_ewma_ns = c->conf.k != 0 ? c->conf.timeout_ns * 2 / 3 / c->conf.k : 0;
	c->burst_gap_ewma_ns = 0;
	c->last_ns = 0;
	c->at_last = 1;
}

struct braid_fec_enc *
braid_fec_enc_create(const struct braid_fec_enc_conf *conf, int socket)
{
	uint8_t mat[(BRAID_FEC_MAX_K + BRAID_FEC_MAX_M) * BRAID_FEC_MAX_K];
	struct braid_fec_enc *e;
	unsigned int room, max_len;
	size_t tbl_total = 0, off = 0;

	if (conf == NULL || conf->pool == NULL) {
		FEC_LOG(ERR, "fec: no configuration or no parity pool");
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_FEC_MAX_CLASSES) {
		FEC_LOG(ERR, "fec: n_classes must be 1..%u (got %u)",
			BRAID_FEC_MAX_CLASSES, conf->n_classes);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->n_links == 0 || conf->n_links > BRAID_FEC_MAX_LINKS) {
		FEC_LOG(ERR, "fec: n_links must be 1..%u (got %u)",
			BRAID_FEC_MAX_LINKS, conf->n_links);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->parity_pkt_type == 0) {
		FEC_LOG(ERR, "fec: parity_pkt_type must be set (BRAID_PKT_PARITY)");
		rte_errno = EINVAL;
		return NULL;
	}
	for (unsigned int c = 0; c < conf->n_classes; c++) {
		const struct braid_fec_class_conf *cc = &conf->classes[c];

		if (!fec_class_conf_valid(cc)) {
			FEC_LOG(ERR, "fec: class %u: k must be 0..%u, m 1..%u and timeout > 0 (got k=%u m=%u timeout=%" PRIu64 " ns)",
				c, BRAID_FEC_MAX_K, BRAID_FEC_MAX_M, cc->k,
				cc->m, cc->timeout_ns);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	room = fec_pool_room(conf->pool);
	if (room < BRAID_FEC_LEN_PREFIX + 1) {
		FEC_LOG(ERR, "fec: pool %s is not a pktmbuf pool with data room",
			conf->pool->name);
		rte_errno = EINVAL;
		return NULL;
	}
	max_len = conf->max_len != 0 ? conf->max_len : room - BRAID_FEC_LEN_PREFIX;
	if (max_len + BRAID_FEC_LEN_PREFIX > room) {
		FEC_LOG(ERR, "fec: max_len %u needs %u bytes of data room after headroom, pool %s has %u",
			max_len, max_len + BRAID_FEC_LEN_PREFIX,
			conf->pool->name, room);
		rte_errno = EINVAL;
		return NULL;
	}

	e = rte_zmalloc_socket("braid_fec_enc", sizeof(*e), RTE_CACHE_LINE_SIZE,
			       socket);
	if (e == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	e->pool = conf->pool;
	e->n_classes = conf->n_classes;
	e->n_links = conf->n_links;
	e->max_len = (uint16_t)max_len;
	e->piece_room = (uint16_t)(max_len + BRAID_FEC_LEN_PREFIX);
	e->parity_pkt_type = conf->parity_pkt_type;
	e->always_copy = conf->always_copy;
	e->next_deadline = UINT64_MAX;

	for (unsigned int k = 1; k <= BRAID_FEC_MAX_K; k++)
		tbl_total += FEC_TBL_BYTES(k, BRAID_FEC_MAX_M);
	e->tbl_mem = rte_malloc_socket("braid_fec_tbls", tbl_total,
				       RTE_CACHE_LINE_SIZE, socket);
	e->scratch = rte_malloc_socket("braid_fec_scratch",
				       (size_t)BRAID_FEC_MAX_K * fec_stride(e->piece_room),
				       RTE_CACHE_LINE_SIZE, socket);
	if (e->tbl_mem == NULL || e->scratch == NULL) {
		braid_fec_enc_free(e);
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Tables of the parity rows of the Cauchy code with k data, for every
	 * k a shortened block may have. Row r of the code with k data is
	 * 1/((k + r) ^ c) whatever m is, so a class with m parity uses the
	 * first m rows (ec_init_tables lays tables out row by row). */
	for (unsigned int k = 1; k <= BRAID_FEC_MAX_K; k++) {
		gf_gen_cauchy1_matrix(mat, (int)(k + BRAID_FEC_MAX_M), (int)k);
		e->tbls[k] = e->tbl_mem + off;
		ec_init_tables((int)k, BRAID_FEC_MAX_M, &mat[k * k], e->tbls[k]);
		off += FEC_TBL_BYTES(k, BRAID_FEC_MAX_M);
	}
	for (unsigned int c = 0; c < e->n_classes; c++) {
		e->cls[c].conf = conf->classes[c];
		e->cls[c].id = (uint16_t)c;
		fec_rate_init(&e->cls[c]);
	}
	return e;
}

/* Release the block's references and reset it. */
static void
fec_block_release(struct braid_fec_enc *e, struct fec_enc_block *b)
{
	struct rte_mbuf *ms[BRAID_FEC_MAX_K];

	for (unsigned int i = 0; i < b->n; i++)
		ms[i] = b->src[i].m;
	rte_pktmbuf_free_bulk(ms, b->n);
	e->held -= b->n;
	for (uint32_t mask = b->link_mask; mask != 0; mask &= mask - 1)
		b->credit[rte_bsf32(mask)] = 0;
	b->link_mask = 0;
	b->n = 0;
}

void
braid_fec_enc_free(struct braid_fec_enc *e)
{
	if (e == NULL)
		return;
	for (unsigned int c = 0; c < e->n_classes; c++)
		if (e->cls[c].blk.n != 0)
			fec_block_release(e, &e->cls[c].blk);
	rte_free(e->scratch);
	rte_free(e->tbl_mem);
	rte_free(e);
}

static void
fec_update_deadline(struct braid_fec_enc *e)
{
	uint64_t next = UINT64_MAX;

	for (unsigned int c = 0; c < e->n_classes; c++) {
		const struct fec_enc_block *b = &e->cls[c].blk;

		if (b->n != 0 && b->deadline_ns < next)
			next = b->deadline_ns;
	}
	e->next_deadline = next;
}

/*
 * Parity placement (pipeline.md): parity goes to the link with the most
 * parity credit left for this block, preferring links not yet used by the
 * block's parity. "Preferring" is made precise so that a link is not sent
 * a whole parity piece it reserved almost nothing for:
 *  1. among the links that carried data of the block and have no parity of
 *     it yet, those whose credit left covers the piece: most credit left;
 *  2. otherwise, among all links that carried data of the block: most
 *     credit left, ties to a link without parity yet.
 * Remaining ties go to the first link in circular order from @p start
 * (the block id modulo the links): with a fixed "lowest id" the parity of
 * evenly striped blocks piled up on the low links (10+2 over three links
 * put 1, 0.67 and 0.33 parity per block on links 0, 1, 2).
 * @p need is the piece's cost in credit units (L * k).
 */
static uint16_t
fec_pick_link(const int64_t *left, uint32_t mask, uint32_t used, int64_t need,
	      unsigned int start, unsigned int n_links)
{
	unsigned int best = UINT16_MAX;

	for (unsigned int i = 0; i < n_links; i++) {
		unsigned int l = start + i < n_links ? start + i : start + i - n_links;

		if (((mask & ~used) >> l & 1) == 0)
			continue;
		if (left[l] >= need && (best == UINT16_MAX || left[l] > left[best]))
			best = l;
	}
	if (best != UINT16_MAX)
		return (uint16_t)best;
	for (unsigned int i = 0; i < n_links; i++) {
		unsigned int l = start + i < n_links ? start + i : start + i - n_links;

		if ((mask >> l & 1) == 0)
			continue;
		if (best == UINT16_MAX || left[l] > left[best] ||
		    (left[l] == left[best] && (used & (1u << best)) != 0 &&
		     (used & (1u << l)) == 0))
			best = l;
	}
	return best == UINT16_MAX ? BRAID_LINK_NONE : (uint16_t)best;
}

/* Encode the open block of @p c, push its parity, release its data. */
static void
fec_close(struct braid_fec_enc *e, struct fec_enc_class *c,
	  struct braid_burst *out, uint64_t now_ns, enum fec_close_why why)
{
	struct fec_enc_block *b = &c->blk;
	struct rte_mbuf *par[BRAID_FEC_MAX_M];
	uint8_t *src[BRAID_FEC_MAX_K];
	uint8_t *dst[BRAID_FEC_MAX_M];
	int64_t left[BRAID_FEC_MAX_LINKS];
	const unsigned int k = b->n, m = b->m;
	const uint16_t L = (uint16_t)(b->max_len + BRAID_FEC_LEN_PREFIX);
	const unsigned int stride = fec_stride(e->piece_room);
	uint32_t used = 0;
	uint64_t copied = 0;
	unsigned int sent = 0;

	switch (why) {
	case FEC_CLOSE_FULL:
		c->cnt.blocks_full++;
		break;
	case FEC_CLOSE_TIMEOUT:
		c->cnt.blocks_timeout++;
		break;
	case FEC_CLOSE_CUT:
		c->cnt.blocks_cut++;
		break;
	case FEC_CLOSE_FLUSH:
		c->cnt.blocks_flushed++;
		break;
	}
	c->cnt.data_protected += k;

	if (rte_pktmbuf_alloc_bulk(e->pool, par, m) != 0) {
		c->cnt.drop_no_mbuf++;
		BRAID_LOG_DP(DEBUG, braid_fec_logtype,
			     "fec: class %u block %u sent without parity: no mbuf",
			     c->id, b->block_id);
		goto release;
	}

	/* Pieces: [len][packet][zeros to L]. In place when the block is the
	 * packet's only other owner and the mbuf has the room (prefix in the
	 * headroom, padding in the tailroom, outside the data anyone reads),
	 * else through the scratch. */
	for (unsigned int i = 0; i < k; i++) {
		const struct fec_src *s = &b->src[i];
		const unsigned int pad = L - BRAID_FEC_LEN_PREFIX - s->len;
		uint8_t *p;

		if (s->inplace && s->tail >= pad) {
			p = s->data - BRAID_FEC_LEN_PREFIX;
			memset(s->data + s->len, 0, pad);
		} else {
			p = e->scratch + (size_t)i * stride;
			rte_memcpy(p + BRAID_FEC_LEN_PREFIX, s->data, s->len);
			memset(p + BRAID_FEC_LEN_PREFIX + s->len, 0, pad);
			copied++;
		}
		fec_put_len(p, s->len);
		src[i] = p;
	}
	for (unsigned int j = 0; j < m; j++) {
		par[j]->data_len = L;
		par[j]->pkt_len = L;
		dst[j] = rte_pktmbuf_mtod(par[j], uint8_t *);
	}
	ec_encode_data(L, (int)k, (int)m, e->tbls[k], src, dst);

	for (unsigned int l = 0; l < e->n_links; l++)
		left[l] = b->credit[l];
	for (unsigned int j = 0; j < m; j++) {
		struct braid_meta *pm = braid_meta(par[j]);
		uint16_t link = fec_pick_link(left, b->link_mask, used,
					      (int64_t)L * b->k, b->block_id % e->n_links,
					      e->n_links);

		if (link != BRAID_LINK_NONE) {
			used |= 1u << link;
			left[link] -= (int64_t)L * b->k;
		}
		memset(pm, 0, sizeof(*pm));
		pm->rx_ns = now_ns;
		pm->seq = b->first_seq;
		pm->block_id = b->block_id;
		pm->class_id = c->id;
		pm->link_id = link;
		pm->port_in = UINT16_MAX;
		pm->fec_len = L;
		pm->pkt_type = e->parity_pkt_type;
		pm->flags = BRAID_META_F_PARITY;
		pm->block_idx = (uint8_t)(k + j);
		pm->fec_k = (uint8_t)k;
		pm->fec_m = (uint8_t)m;
		if (braid_burst_push(out, par[j]) != 0) {
			rte_pktmbuf_free(par[j]);
			e->drop_out_full++;
			continue;
		}
		sent++;
	}
	c->cnt.parity_sent += sent;
	c->cnt.parity_bytes += (uint64_t)sent * L;
	c->cnt.copied += copied;
release:
	fec_block_release(e, b);
	fec_update_deadline(e);
}

/* A gap longer than this is a pause of the flow, not its rate. */
#define FEC_GAP_MAX_NS 1000000000ULL

/* Follow the class's packet rate (timeout_auto). Packets of one RX
 * burst share a timestamp: at the next distinct time, the gap since the
 * last one over the packets that came at it is one sample of the mean
 * packet gap, and the gap itself one of the gap between bursts (EWMAs,
 * 1/8). */
static inline void
fec_track_rate(struct fec_enc_class *c, uint64_t now_ns)
{
	uint64_t gap = now_ns - c->last_ns;

	if (gap == 0) {
		c->at_last++;
		return;
	}
	if (gap < FEC_GAP_MAX_NS) {
		c->gap_ewma_ns = c->gap_ewma_ns - c->gap_ewma_ns / 8 + gap / c->at_last / 8;
		c->burst_gap_ewma_ns = c->burst_gap_ewma_ns - c->burst_gap_ewma_ns / 8 +
				       gap / 8;
	}
	c->last_ns = now_ns;
	c->at_last = 1;
}

/* The timeout of a block opened now: the time k packets take at the
 * mean rate, with half of it again as margin, plus one gap between
 * bursts (a block's last pieces may come with the next burst). */
static inline uint64_t
fec_timeout(const struct fec_enc_class *c)
{
	uint64_t t;

	if (!c->conf.timeout_auto)
		return c->conf.timeout_ns;
	t = c->gap_ewma_ns * c->conf.k * 3 / 2 + c->burst_gap_ewma_ns;
	return RTE_MIN(RTE_MAX(t, BRAID_FEC_AUTO_TIMEOUT_MIN_NS), c->conf.timeout_ns);
}

static inline void
fec_open(struct braid_fec_enc *e, struct fec_enc_class *c, uint32_t seq,
	 uint64_t now_ns)
{
	struct fec_enc_block *b = &c->blk;
	uint64_t dl = now_ns + fec_timeout(c);

	if (dl < now_ns)
		dl = UINT64_MAX;
	b->block_id = c->next_block_id++;
	b->first_seq = seq;
	b->k = c->conf.k;
	b->m = c->conf.m;
	b->max_len = 0;
	b->deadline_ns = dl;
	if (dl < e->next_deadline)
		e->next_deadline = dl;
}

void
braid_fec_enc_burst(struct braid_fec_enc *e, struct rte_mbuf **pkts,
		    uint16_t n, struct braid_burst *out, uint64_t now_ns)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *md = braid_meta(m);
		struct fec_enc_class *c;
		struct fec_enc_block *b;
		struct fec_src *s;
		uint16_t len;

		if (unlikely(braid_burst_room(out) == 0)) {
			rte_pktmbuf_free(m);
			e->drop_out_full++;
			continue;
		}
		if (md->class_id >= e->n_classes ||
		    (md->flags & (BRAID_META_F_DUP | BRAID_META_F_RETX |
				  BRAID_META_F_PARITY)) != 0) {
			out->pkts[out->n++] = m;
			continue;
		}
		c = &e->cls[md->class_id];
		b = &c->blk;
		if (b->n != 0 && now_ns >= b->deadline_ns)
			fec_close(e, c, out, now_ns, FEC_CLOSE_TIMEOUT);
		if (c->conf.k == 0) {
			out->pkts[out->n++] = m;
			continue;
		}
		if (unlikely(m->nb_segs != 1 || m->pkt_len > e->max_len)) {
			/* Unprotected; it takes a seq, so the block's run of
			 * consecutive seqs ends here. */
			if (m->nb_segs != 1)
				c->cnt.skipped_multiseg++;
			else
				c->cnt.skipped_too_large++;
			if (b->n != 0)
				fec_close(e, c, out, now_ns, FEC_CLOSE_CUT);
			if (braid_burst_push(out, m) != 0) {
				rte_pktmbuf_free(m);
				e->drop_out_full++;
			}
			continue;
		}
		if (b->n != 0 && md->seq != b->first_seq + b->n)
			fec_close(e, c, out, now_ns, FEC_CLOSE_CUT);
		if (c->conf.timeout_auto)
			fec_track_rate(c, now_ns);
		if (b->n == 0)
			fec_open(e, c, md->seq, now_ns);

		len = rte_pktmbuf_data_len(m);
		md->block_id = b->block_id;
		md->block_idx = b->n;
		md->fec_k = b->k;
		md->fec_m = b->m;
		s = &b->src[b->n];
		s->m = m;
		s->data = rte_pktmbuf_mtod(m, uint8_t *);
		s->len = len;
		s->tail = rte_pktmbuf_tailroom(m);
		s->inplace = !e->always_copy && RTE_MBUF_DIRECT(m) &&
			     rte_mbuf_refcnt_read(m) == 1 &&
			     rte_pktmbuf_headroom(m) >= BRAID_FEC_LEN_PREFIX;
		rte_mbuf_refcnt_update(m, 1);
		e->held++;
		if (len > b->max_len)
			b->max_len = len;
		if (md->link_id < e->n_links) {
			b->credit[md->link_id] += (int64_t)len * b->m;
			b->link_mask |= 1u << md->link_id;
		}
		b->n++;
		if (braid_burst_push(out, m) != 0) {
			/* Cannot happen: room was checked and a close above
			 * pushed at most m. Counted all the same. */
			rte_pktmbuf_free(m);
			e->drop_out_full++;
		}
		if (b->n == b->k)
			fec_close(e, c, out, now_ns, FEC_CLOSE_FULL);
	}
}

uint16_t
braid_fec_enc_poll(struct braid_fec_enc *e, struct braid_burst *out,
		   uint64_t now_ns)
{
	uint16_t before = out->n;

	if (likely(now_ns < e->next_deadline))
		return 0;
	for (unsigned int c = 0; c < e->n_classes; c++) {
		struct fec_enc_class *cl = &e->cls[c];

		if (cl->blk.n != 0 && now_ns >= cl->blk.deadline_ns)
			fec_close(e, cl, out, now_ns, FEC_CLOSE_TIMEOUT);
	}
	return (uint16_t)(out->n - before);
}

uint16_t
braid_fec_enc_flush(struct braid_fec_enc *e, struct braid_burst *out,
		    uint64_t now_ns)
{
	uint16_t before = out->n;

	for (unsigned int c = 0; c < e->n_classes; c++)
		if (e->cls[c].blk.n != 0)
			fec_close(e, &e->cls[c], out, now_ns, FEC_CLOSE_FLUSH);
	return (uint16_t)(out->n - before);
}

int
braid_fec_enc_set_class(struct braid_fec_enc *e, uint16_t class_id,
			const struct braid_fec_class_conf *cc)
{
	if (class_id >= e->n_classes)
		return -ENOENT;
	if (cc == NULL || !fec_class_conf_valid(cc))
		return -EINVAL;
	e->cls[class_id].conf = *cc;
	fec_rate_init(&e->cls[class_id]);
	return 0;
}

unsigned int
braid_fec_enc_held(const struct braid_fec_enc *e)
{
	return e->held;
}

int
braid_fec_enc_class_stats(const struct braid_fec_enc *e, uint16_t class_id,
			  struct braid_fec_enc_class_stats *st)
{
	if (class_id >= e->n_classes)
		return -ENOENT;
	*st = e->cls[class_id].cnt;
	return 0;
}

void
braid_fec_enc_stats(const struct braid_fec_enc *e, struct braid_fec_enc_stats *st)
{
	memset(st, 0, sizeof(*st));
#define FEC_SUM_(n) st->n += e->cls[c].cnt.n;
	for (unsigned int c = 0; c < e->n_classes; c++) {
		BRAID_FEC_ENC_CLASS_COUNTERS(FEC_SUM_)
	}
#undef FEC_SUM_
	st->drop_out_full = e->drop_out_full;
}

/* Stage glue. */
static void
fec_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		  struct braid_burst *out, uint64_t now_ns)
{
	braid_fec_enc_burst(ctx, pkts, n, out, now_ns);
}

static uint16_t
fec_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_fec_enc_poll(ctx, out, now_ns);
}

static uint16_t
fec_stage_drain(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	return braid_fec_enc_flush(ctx, out, now_ns);
}

static void
fec_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	struct braid_fec_enc_stats st;

	braid_fec_enc_stats(ctx, &st);
	BRAID_COUNTERS_REPORT(BRAID_FEC_ENC_COUNTERS, &st, fn, arg);
}

int
braid_fec_enc_apply(struct braid_fec_enc *e, const struct braid_fec_enc_cmd *cmd)
{
	if (cmd->op != BRAID_FEC_ENC_CMD_CLASS)
		return -EINVAL;
	return braid_fec_enc_set_class(e, cmd->class_id, &cmd->shape);
}

static int
fec_stage_apply(void *ctx, const void *cmd)
{
	return braid_fec_enc_apply(ctx, cmd);
}

const struct braid_stage_ops braid_fec_enc_stage_ops = {
	.kind = "fec",
	.flags = 0,
	.cmd_size = sizeof(struct braid_fec_enc_cmd),
	.apply = fec_stage_apply,
	.process = fec_stage_process,
	.poll = fec_stage_poll,
	.drain = fec_stage_drain,
	.stats = fec_stage_stats,
};
