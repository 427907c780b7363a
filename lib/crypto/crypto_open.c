/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The open stage, first on the receive side: a sealed frame's counter is
 * checked against the replay window of its link and key, the frame is
 * decrypted and its tag verified in place, and it leaves as the frame the
 * peer's encap wrote (counter and tag removed, lengths and IPv4 checksum
 * fixed, SEALED cleared), marked BRAID_META_F_OPENED. A frame that fails
 * costs one tag check at most and changes no state.
 *
 * Keys: the peer session's epochs e - 1 (for BRAID_CRYPTO_OVERLAP_NS after
 * e began), e and e + 1 (derived ahead). The first frame that verifies
 * under e + 1 makes it current.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "braid_meta.h"
#include "braid_wire.h"
#include "crypto_priv.h"

enum { K_PREV, K_CUR, K_NEXT, K_SLOTS };

struct open_key {
	bool valid;
	uint32_t epoch;
	void *sess;
	uint8_t salt[BRAID_CRYPTO_SALT_LEN];
	struct braid_replay win[BRAID_WIRE_MAX_LINKS];
};

struct braid_crypto_open {
	char name[32];
	struct braid_crypto_dev *dev;
	uint16_t qp;
	uint16_t n_links;
	struct rte_ring *hello_ring;
	struct rte_mempool *op_pool;

	bool have;
	uint32_t session_id;             /* the peer's */
	uint8_t prk[32];
	struct open_key key[K_SLOTS];
	uint64_t prev_until_ns;
	void *retired[4];                /* sessions freed once nothing is in flight */
	unsigned int n_retired;
	uint32_t inflight;
	/* per link: where its newest authenticated frame came from, published
	 * under a sequence count (odd while written) for the control path */
	struct {
		uint32_t seq;
		uint64_t gen;
		struct braid_crypto_endpoint ep;
	} where[BRAID_WIRE_MAX_LINKS];
	/* results of the device, in order, for the caller's burst */
	struct rte_mbuf *done[BRAID_BURST_OUT_MAX];
	uint16_t n_done;

	struct braid_crypto_open_stats cnt __rte_cache_aligned;
};

struct braid_crypto_open *
braid_crypto_open_create(const struct braid_crypto_open_conf *conf, int socket)
{
	struct braid_crypto_open *o;

	if (conf == NULL || conf->name == NULL || conf->dev == NULL ||
	    conf->qp >= conf->dev->n_qp || conf->n_links == 0 ||
	    conf->n_links > BRAID_WIRE_MAX_LINKS) {
		rte_errno = EINVAL;
		return NULL;
	}
	o = rte_zmalloc_socket("crypto_open", sizeof(*o), RTE_CACHE_LINE_SIZE, socket);
	if (o == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(o->name, sizeof(o->name), "%s", conf->name);
	o->dev = conf->dev;
	o->qp = conf->qp;
	o->n_links = conf->n_links;
	o->hello_ring = conf->hello_ring;
	o->op_pool = crypto_op_pool(conf->name, socket);
	if (o->op_pool == NULL) {
		rte_free(o);
		rte_errno = ENOMEM;
		return NULL;
	}
	return o;
}

static void
retire(struct braid_crypto_open *o, struct open_key *k)
{
	if (k->sess != NULL) {
		if (o->n_retired == RTE_DIM(o->retired)) {
			/* Full: the oldest has no op left (a burst is
			 * collected before the next key change). */
			rte_cryptodev_sym_session_free(o->dev->dev_id, o->retired[0]);
			memmove(o->retired, o->retired + 1, sizeof(o->retired[0]) * (o->n_retired - 1));
			o->n_retired--;
		}
		o->retired[o->n_retired++] = k->sess;
	}
	memset(k, 0, sizeof(*k));
}

static void
free_retired(struct braid_crypto_open *o)
{
	for (unsigned int i = 0; i < o->n_retired; i++)
		rte_cryptodev_sym_session_free(o->dev->dev_id, o->retired[i]);
	o->n_retired = 0;
}

void
braid_crypto_open_free(struct braid_crypto_open *o)
{
	if (o == NULL)
		return;
	for (unsigned int i = 0; i < K_SLOTS; i++)
		retire(o, &o->key[i]);
	free_retired(o);
	braid_crypto_wipe(o->prk, sizeof(o->prk));
	rte_mempool_free(o->op_pool);
	rte_free(o);
}

static int
key_make(struct braid_crypto_open *o, struct open_key *k, uint32_t epoch)
{
	memset(k, 0, sizeof(*k));
	k->sess = crypto_session(o->dev, o->prk, epoch, RTE_CRYPTO_AEAD_OP_DECRYPT, k->salt);
	if (k->sess == NULL)
		return -ENOMEM;
	k->epoch = epoch;
	k->valid = true;
	return 0;
}

int
braid_crypto_open_apply(struct braid_crypto_open *o, const struct braid_crypto_cmd *cmd)
{
	int ret;

	if (cmd->op != BRAID_CRYPTO_CMD_SET_SESSION)
		return -EINVAL;
	for (unsigned int i = 0; i < K_SLOTS; i++)
		retire(o, &o->key[i]);
	memcpy(o->prk, cmd->prk, sizeof(o->prk));
	o->session_id = cmd->session_id;
	ret = key_make(o, &o->key[K_CUR], 0);
	if (ret == 0)
		ret = key_make(o, &o->key[K_NEXT], 1);
	o->have = ret == 0;
	if (ret == 0)
		CRYPTO_LOG(INFO, "%s: peer session %08x keyed", o->name, cmd->session_id);
	return ret;
}

/* The slot of epoch @p e8 (low 8 bits) usable at @p now, or -1. */
static int
key_find(const struct braid_crypto_open *o, uint8_t e8, uint64_t now_ns, bool *old)
{
	*old = false;
	for (int i = K_CUR; i < K_SLOTS; i++)
		if (o->key[i].valid && (uint8_t)o->key[i].epoch == e8)
			return i;
	if (o->key[K_PREV].valid && (uint8_t)o->key[K_PREV].epoch == e8) {
		if (now_ns < o->prev_until_ns)
			return K_PREV;
		*old = true;
	}
	return -1;
}

/* The frame under the next epoch verified: it becomes current. */
static void
promote(struct braid_crypto_open *o, uint64_t now_ns)
{
	uint32_t e = o->key[K_NEXT].epoch;

	retire(o, &o->key[K_PREV]);
	o->key[K_PREV] = o->key[K_CUR];
	o->key[K_CUR] = o->key[K_NEXT];
	memset(&o->key[K_NEXT], 0, sizeof(o->key[K_NEXT]));
	o->prev_until_ns = now_ns + BRAID_CRYPTO_OVERLAP_NS;
	if (key_make(o, &o->key[K_NEXT], e + 1) != 0)
		CRYPTO_LOG(ERR, "%s: no session for epoch %u", o->name, e + 1);
	o->cnt.epoch_changes++;
}

/* Where a sealed frame's parts are. */
struct sealed {
	uint32_t ip_off, hdr_off, plen, excess;
	struct braid_hdr *bh;
};

enum parse_verdict { P_CLEAR, P_HELLO, P_SEALED, P_MALFORMED, P_SPLIT };

static enum parse_verdict
parse(const struct braid_crypto_open *o, struct rte_mbuf *m, struct sealed *f)
{
	const uint32_t pkt_len = rte_pktmbuf_pkt_len(m), seg = rte_pktmbuf_data_len(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint32_t hl, tl, udp_len;

	/* Anything that is not a braid frame is rx_decap's to judge. */
	if (seg < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
	    ((const struct rte_ether_hdr *)p)->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return P_CLEAR;
	ip = (const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	tl = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || hl < 20 || ip->next_proto_id != IPPROTO_UDP ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    tl < hl + sizeof(*udp) + sizeof(struct braid_hdr) ||
	    RTE_ETHER_HDR_LEN + tl > pkt_len ||
	    seg < RTE_ETHER_HDR_LEN + hl + sizeof(*udp) + sizeof(struct braid_hdr))
		return P_CLEAR;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hl);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	f->ip_off = RTE_ETHER_HDR_LEN;
	f->hdr_off = RTE_ETHER_HDR_LEN + hl + (uint32_t)sizeof(*udp);
	f->bh = (struct braid_hdr *)(uintptr_t)(p + f->hdr_off);
	if (f->bh->magic != RTE_BE16(BRAID_WIRE_MAGIC) || f->bh->version != BRAID_WIRE_VERSION ||
	    udp_len != tl - hl)
		return P_CLEAR;
	if (f->bh->type == BRAID_PKT_HELLO)
		return P_HELLO;
	if (!(f->bh->flags & BRAID_WIRE_F_SEALED))
		return P_CLEAR;
	if (udp_len < sizeof(*udp) + BRAID_CRYPTO_AAD_LEN + BRAID_CRYPTO_TAG_LEN ||
	    rte_be_to_cpu_16(f->bh->link_id) >= o->n_links)
		return P_MALFORMED;
	if (seg < f->hdr_off + BRAID_CRYPTO_AAD_LEN)
		return P_SPLIT;
	if (m->nb_segs > 1 && !o->dev->in_place_sgl)
		return P_SPLIT;
	f->plen = udp_len - (uint32_t)sizeof(*udp) - BRAID_CRYPTO_AAD_LEN - BRAID_CRYPTO_TAG_LEN;
	f->excess = pkt_len - RTE_ETHER_HDR_LEN - tl;
	return P_SEALED;
}

/* Fill @p op for @p m; -1 (counted) if the frame has no usable key, is
 * a replay or its tag is split. */
static int
prepare(struct braid_crypto_open *o, struct rte_mbuf *m, const struct sealed *f,
	struct rte_crypto_op *op, uint64_t now_ns)
{
	const uint8_t *ctr_p = (const uint8_t *)f->bh + sizeof(struct braid_hdr);
	const uint16_t link = rte_be_to_cpu_16(f->bh->link_id);
	rte_be64_t ctr_be;
	uint64_t ctr;
	struct crypto_op_priv *pv;
	struct open_key *k;
	rte_iova_t iova;
	uint8_t *tag;
	bool old;
	int slot;

	memcpy(&ctr_be, ctr_p, sizeof(ctr_be));     /* unaligned in the frame */
	ctr = rte_be_to_cpu_64(ctr_be);
	if (!o->have || rte_be_to_cpu_32(f->bh->session_id) != o->session_id) {
		o->cnt.drop_no_key++;
		return -1;
	}
	slot = key_find(o, f->bh->reserved0, now_ns, &old);
	if (slot < 0) {
		if (old)
			o->cnt.drop_old_key++;
		else
			o->cnt.drop_no_key++;
		return -1;
	}
	k = &o->key[slot];
	if ((ctr >> 48) != link) {
		o->cnt.drop_malformed++;
		return -1;
	}
	if (!braid_replay_check(&k->win[link], ctr & BRAID_CRYPTO_CTR_MAX)) {
		o->cnt.drop_replay++;
		return -1;
	}
	tag = crypto_seg_ptr(m, f->hdr_off + BRAID_CRYPTO_AAD_LEN + f->plen,
			     BRAID_CRYPTO_TAG_LEN, &iova);
	if (tag == NULL) {
		o->cnt.drop_split++;
		return -1;
	}
	rte_crypto_op_attach_sym_session(op, k->sess);
	op->sym->m_src = m;
	op->sym->m_dst = NULL;
	op->sym->aead.data.offset = f->hdr_off + BRAID_CRYPTO_AAD_LEN;
	op->sym->aead.data.length = f->plen;
	op->sym->aead.digest.data = tag;
	op->sym->aead.digest.phys_addr = iova;
	op->sym->aead.aad.data = (uint8_t *)f->bh;
	op->sym->aead.aad.phys_addr = rte_pktmbuf_iova_offset(m, f->hdr_off);
	pv = rte_crypto_op_ctod_offset(op, struct crypto_op_priv *, CRYPTO_IV_OFFSET);
	memcpy(pv->iv, k->salt, BRAID_CRYPTO_SALT_LEN);
	memcpy(pv->iv + BRAID_CRYPTO_SALT_LEN, ctr_p, BRAID_CRYPTO_CTR_LEN);
	pv->ctr = ctr & BRAID_CRYPTO_CTR_MAX;
	pv->epoch = k->epoch;
	pv->link_id = link;
	return 0;
}

/* A verified frame back into the form the peer's encap wrote. */
static void
unseal(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	const uint32_t hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	const uint32_t hdr_end = RTE_ETHER_HDR_LEN + hl + (uint32_t)sizeof(struct rte_udp_hdr) +
				 (uint32_t)sizeof(struct braid_hdr);
	const uint32_t tl = rte_be_to_cpu_16(ip->total_length);
	const uint32_t excess = rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN - tl;
	struct rte_udp_hdr *udp;
	struct braid_hdr *bh;

	bh = (struct braid_hdr *)(p + hdr_end - sizeof(*bh));
	bh->flags &= (uint8_t)~BRAID_WIRE_F_SEALED;
	bh->reserved0 = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(tl - BRAID_CRYPTO_OVERHEAD));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)((uint8_t *)ip + hl);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(udp->dgram_len) -
						     BRAID_CRYPTO_OVERHEAD));
	udp->dgram_cksum = 0;
	memmove(p + BRAID_CRYPTO_CTR_LEN, p, hdr_end);
	rte_pktmbuf_adj(m, BRAID_CRYPTO_CTR_LEN);
	rte_pktmbuf_trim(m, (uint16_t)(excess + BRAID_CRYPTO_TAG_LEN));
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	braid_meta(m)->flags |= BRAID_META_F_OPENED;
}

/* The newest frame of @p link verified: publish where it came from if
 * that changed. */
static void
note_endpoint(struct braid_crypto_open *o, uint16_t link, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)
		((const uint8_t *)ip + (ip->version_ihl & 0xf) * 4);
	struct braid_crypto_endpoint ep = {
		.ip = rte_be_to_cpu_32(ip->src_addr),
		.port = rte_be_to_cpu_16(udp->src_port),
		.mac = eth->src_addr,
	};
	typeof(o->where[0]) *w = &o->where[link];

	if (w->gen != 0 && w->ep.ip == ep.ip && w->ep.port == ep.port &&
	    rte_is_same_ether_addr(&w->ep.mac, &ep.mac))
		return;
	__atomic_store_n(&w->seq, w->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	w->ep = ep;
	w->gen++;
	__atomic_store_n(&w->seq, w->seq + 1, __ATOMIC_RELEASE);
	o->cnt.endpoint_changes++;
}

uint64_t
braid_crypto_open_endpoint(const struct braid_crypto_open *o, uint16_t link,
			   struct braid_crypto_endpoint *ep)
{
	const typeof(o->where[0]) *w;
	uint32_t s0, s1;
	uint64_t gen;

	if (link >= BRAID_WIRE_MAX_LINKS)
		return 0;
	w = &o->where[link];
	do {
		s0 = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);
		gen = w->gen;
		*ep = w->ep;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s1 = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
	} while ((s0 & 1) != 0 || s0 != s1);
	return gen;
}

/* Results from the device into o->done[]. */
static void
collect(struct braid_crypto_open *o, uint64_t now_ns)
{
	struct rte_crypto_op *ops[BRAID_BURST];
	uint16_t n;

	while (o->inflight > 0 && o->n_done < BRAID_BURST_OUT_MAX &&
	       (n = rte_cryptodev_dequeue_burst(o->dev->dev_id, o->qp, ops,
			RTE_MIN(RTE_MIN(o->inflight, (uint32_t)BRAID_BURST),
				(uint32_t)(BRAID_BURST_OUT_MAX - o->n_done)))) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = ops[i]->sym->m_src;
			const struct crypto_op_priv *pv =
				rte_crypto_op_ctod_offset(ops[i], struct crypto_op_priv *,
							  CRYPTO_IV_OFFSET);
			struct open_key *k = NULL;

			for (unsigned int s = 0; s < K_SLOTS; s++)
				if (o->key[s].valid && o->key[s].epoch == pv->epoch)
					k = &o->key[s];
			if (ops[i]->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
				o->cnt.drop_auth++;
				rte_pktmbuf_free(m);
				continue;
			}
			/* A copy of a frame of the same burst passed the
			 * first check too: the window decides again. */
			if (k == NULL || !braid_replay_check(&k->win[pv->link_id], pv->ctr)) {
				if (k == NULL)
					o->cnt.drop_old_key++;
				else
					o->cnt.drop_replay++;
				rte_pktmbuf_free(m);
				continue;
			}
			if (braid_replay_update(&k->win[pv->link_id], pv->ctr))
				note_endpoint(o, pv->link_id, m);
			if (k == &o->key[K_NEXT])
				promote(o, now_ns);
			unseal(m);
			o->cnt.opened++;
			o->cnt.bytes += m->pkt_len;
			o->done[o->n_done++] = m;
		}
		rte_mempool_put_bulk(o->op_pool, (void **)ops, n);
		o->inflight -= n;
	}
	if (o->inflight == 0)
		free_retired(o);
}

uint16_t
braid_crypto_open_burst(struct braid_crypto_open *o, struct rte_mbuf **pkts, uint16_t n,
			uint64_t now_ns)
{
	struct rte_crypto_op *ops[BRAID_BURST_OUT_MAX];
	struct rte_mbuf *hello[BRAID_BURST_OUT_MAX];
	uint16_t n_ops = 0, n_hello = 0, n_clear = 0, kept = 0, enq;
	uint64_t malformed = 0, split = 0;

	if (n > 0 && rte_crypto_op_bulk_alloc(o->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
					      ops, n) != n) {
		o->cnt.drop_busy += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return 0;
	}
	/* Frames in clear first (their order among the sealed ones does not
	 * matter: rx_decap judges each alone), then what the device opened. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sealed f;

		switch (parse(o, m, &f)) {
		case P_CLEAR:
			pkts[kept++] = m;
			n_clear++;
			break;
		case P_HELLO:
			hello[n_hello++] = m;
			break;
		case P_MALFORMED:
			malformed++;
			rte_pktmbuf_free(m);
			break;
		case P_SPLIT:
			split++;
			rte_pktmbuf_free(m);
			break;
		case P_SEALED:
			if (prepare(o, m, &f, ops[n_ops], now_ns) != 0) {
				rte_pktmbuf_free(m);      /* counted by prepare() */
			} else {
				n_ops++;
			}
			break;
		}
	}
	if (n_ops < n)
		rte_mempool_put_bulk(o->op_pool, (void **)&ops[n_ops], n - n_ops);
	enq = n_ops > 0 ? rte_cryptodev_enqueue_burst(o->dev->dev_id, o->qp, ops, n_ops) : 0;
	for (uint16_t i = enq; i < n_ops; i++)
		rte_pktmbuf_free(ops[i]->sym->m_src);
	if (enq < n_ops) {
		o->cnt.drop_busy += n_ops - enq;
		rte_mempool_put_bulk(o->op_pool, (void **)&ops[enq], n_ops - enq);
	}
	o->inflight += enq;
	for (unsigned int t = 0; t < CRYPTO_DEQ_TRIES && o->inflight > 0; t++)
		collect(o, now_ns);
	if (n_hello > 0) {
		unsigned int sent = o->hello_ring == NULL ? 0 :
			rte_ring_enqueue_burst(o->hello_ring, (void **)hello, n_hello, NULL);

		if (sent < n_hello) {
			rte_pktmbuf_free_bulk(&hello[sent], n_hello - sent);
			o->cnt.drop_hello_full += n_hello - sent;
		}
		o->cnt.hello += sent;
	}
	/* room: pkts[] holds n entries; clear ones plus opened ones <= n
	 * only when nothing was left in flight from an earlier burst, so
	 * what does not fit waits in done[] for the next call. */
	while (o->n_done > 0 && kept < n) {
		uint16_t take = RTE_MIN(o->n_done, (uint16_t)(n - kept));

		memcpy(&pkts[kept], o->done, take * sizeof(pkts[0]));
		memmove(o->done, o->done + take, (o->n_done - take) * sizeof(o->done[0]));
		o->n_done = (uint16_t)(o->n_done - take);
		kept = (uint16_t)(kept + take);
	}
	o->cnt.clear += n_clear;
	o->cnt.drop_malformed += malformed;
	o->cnt.drop_split += split;
	return kept;
}

void
braid_crypto_open_stats(const struct braid_crypto_open *o, struct braid_crypto_open_stats *st)
{
	*st = o->cnt;
}

/* ---- stage ops ---- */

static void
open_push_done(struct braid_crypto_open *o, struct braid_burst *out)
{
	uint16_t take = RTE_MIN(o->n_done, braid_burst_room(out));

	memcpy(out->pkts + out->n, o->done, take * sizeof(o->done[0]));
	out->n = (uint16_t)(out->n + take);
	memmove(o->done, o->done + take, (o->n_done - take) * sizeof(o->done[0]));
	o->n_done = (uint16_t)(o->n_done - take);
}

static void
open_process(void *ctx, struct rte_mbuf **pkts, uint16_t n, struct braid_burst *out,
	     uint64_t now_ns)
{
	struct braid_crypto_open *o = ctx;
	uint16_t kept = braid_crypto_open_burst(o, pkts, n, now_ns);
	uint16_t room = braid_burst_room(out);

	if (kept > room) {
		rte_pktmbuf_free_bulk(pkts + room, kept - room);
		o->cnt.drop_busy += kept - room;
		kept = room;
	}
	memcpy(out->pkts + out->n, pkts, kept * sizeof(pkts[0]));
	out->n = (uint16_t)(out->n + kept);
	open_push_done(o, out);
}

static uint16_t
open_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_crypto_open *o = ctx;
	uint16_t before = out->n;

	if (o->inflight > 0)
		collect(o, now_ns);
	open_push_done(o, out);
	return (uint16_t)(out->n - before);
}

static int
open_apply(void *ctx, const void *cmd)
{
	struct braid_crypto_cmd *c = (struct braid_crypto_cmd *)(uintptr_t)cmd;
	int ret = braid_crypto_open_apply(ctx, c);

	braid_crypto_wipe(c->prk, sizeof(c->prk));
	return ret;
}

static void
open_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_crypto_open *o = ctx;

	BRAID_COUNTERS_REPORT(BRAID_CRYPTO_OPEN_COUNTERS, &o->cnt, fn, arg);
}

const struct braid_stage_ops braid_crypto_open_stage_ops = {
	.kind = "open",
	.cmd_size = sizeof(struct braid_crypto_cmd),
	.process = open_process,
	.poll = open_poll,
	.drain = open_poll,
	.apply = open_apply,
	.stats = open_stats,
};
