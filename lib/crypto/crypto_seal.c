/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seal stage: every tunnel frame encap wrote, but HELLOs, leaves
 * AES-256-GCM sealed (doc/security.md):
 *
 *   Ethernet | IPv4 | UDP | braid header | counter (8) | payload' | tag (16)
 *
 * The braid header (flags | SEALED, reserved0 = epoch) and the counter
 * are the associated data. encap's frame shares its payload with the
 * retransmit cache and the FEC blocks, so the sealed frame is a copy in a
 * fresh mbuf, encrypted there in place (the one mode every cryptodev PMD
 * has); the input is then released.
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

#define HDR_OFF  (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define CTR_OFF  (HDR_OFF + sizeof(struct braid_hdr))
#define DATA_OFF (CTR_OFF + BRAID_CRYPTO_CTR_LEN)

struct braid_crypto_seal {
	char name[32];
	struct braid_crypto_dev *dev;
	uint16_t qp;
	struct rte_mempool *pool;
	struct rte_mempool *op_pool;
	uint32_t room;                   /* bytes a pool mbuf holds */
	uint64_t rekey_bytes, rekey_ns;

	bool have;                       /* a session key */
	uint32_t session_id;
	uint8_t prk[32];
	uint32_t epoch;
	void *sess;
	uint8_t salt[BRAID_CRYPTO_SALT_LEN];
	void *old_sess;                  /* freed when nothing is in flight */
	uint64_t epoch_start_ns, epoch_bytes;
	bool start_epoch;                /* set epoch_start_ns at the next burst */
	uint64_t ctr[BRAID_WIRE_MAX_LINKS];
	uint32_t inflight;

	struct braid_crypto_seal_stats cnt __rte_cache_aligned;
};

struct braid_crypto_seal *
braid_crypto_seal_create(const struct braid_crypto_seal_conf *conf, int socket)
{
	struct braid_crypto_seal *s;

	if (conf == NULL || conf->name == NULL || conf->dev == NULL || conf->pool == NULL ||
	    conf->qp >= conf->dev->n_qp || conf->rekey_bytes == 0 || conf->rekey_ns == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("crypto_seal", sizeof(*s), RTE_CACHE_LINE_SIZE, socket);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", conf->name);
	s->dev = conf->dev;
	s->qp = conf->qp;
	s->pool = conf->pool;
	s->room = rte_pktmbuf_data_room_size(conf->pool) - RTE_PKTMBUF_HEADROOM;
	s->rekey_bytes = conf->rekey_bytes;
	s->rekey_ns = conf->rekey_ns;
	s->op_pool = crypto_op_pool(conf->name, socket);
	if (s->op_pool == NULL) {
		rte_free(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void
free_sess(struct braid_crypto_seal *s, void **sess)
{
	if (*sess != NULL)
		rte_cryptodev_sym_session_free(s->dev->dev_id, *sess);
	*sess = NULL;
}

void
braid_crypto_seal_free(struct braid_crypto_seal *s)
{
	if (s == NULL)
		return;
	free_sess(s, &s->sess);
	free_sess(s, &s->old_sess);
	braid_crypto_wipe(s->prk, sizeof(s->prk));
	rte_mempool_free(s->op_pool);
	rte_free(s);
}

/* Move to epoch @p epoch: a new key, counters from 0. */
static int
set_epoch(struct braid_crypto_seal *s, uint32_t epoch)
{
	uint8_t salt[BRAID_CRYPTO_SALT_LEN];
	void *sess = crypto_session(s->dev, s->prk, epoch, RTE_CRYPTO_AEAD_OP_ENCRYPT, salt);

	if (sess == NULL)
		return -ENOMEM;
	/* Only one old session is kept: ops still on the device use it. */
	free_sess(s, &s->old_sess);
	s->old_sess = s->sess;
	s->sess = sess;
	memcpy(s->salt, salt, sizeof(salt));
	s->epoch = epoch;
	s->epoch_bytes = 0;
	s->start_epoch = true;
	memset(s->ctr, 0, sizeof(s->ctr));
	return 0;
}

int
braid_crypto_seal_apply(struct braid_crypto_seal *s, const struct braid_crypto_cmd *cmd)
{
	int ret;

	if (cmd->op != BRAID_CRYPTO_CMD_SET_SESSION)
		return -EINVAL;
	memcpy(s->prk, cmd->prk, sizeof(s->prk));
	s->session_id = cmd->session_id;
	ret = set_epoch(s, 0);
	s->have = ret == 0;
	if (ret == 0)
		CRYPTO_LOG(INFO, "%s: session %08x keyed", s->name, cmd->session_id);
	return ret;
}

/* Results from the device: sealed frames out, failures freed. */
static uint16_t
collect(struct braid_crypto_seal *s, struct braid_burst *out)
{
	struct rte_crypto_op *ops[BRAID_BURST];
	uint16_t total = 0, n;

	while (s->inflight > 0 &&
	       (n = rte_cryptodev_dequeue_burst(s->dev->dev_id, s->qp, ops,
						RTE_MIN(s->inflight, (uint32_t)BRAID_BURST))) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = ops[i]->sym->m_src;

			if (ops[i]->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
				s->cnt.drop_failed++;
				rte_pktmbuf_free(m);
			} else if (braid_burst_push(out, m) != 0) {
				s->cnt.drop_busy++;
				rte_pktmbuf_free(m);
			} else {
				s->cnt.sealed++;
				s->cnt.bytes += m->pkt_len;
				total++;
			}
		}
		rte_mempool_put_bulk(s->op_pool, (void **)ops, n);
		s->inflight -= n;
	}
	if (s->inflight == 0)
		free_sess(s, &s->old_sess);
	return total;
}

/* The sealed copy of encap's frame @p m in a fresh mbuf, its op filled;
 * NULL (counted) if it cannot be sealed. */
static struct rte_mbuf *
seal_one(struct braid_crypto_seal *s, struct rte_mbuf *m, struct rte_crypto_op *op)
{
	const uint32_t len = rte_pktmbuf_pkt_len(m);
	struct crypto_op_priv *pv;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	struct braid_hdr *bh;
	struct rte_mbuf *d;
	uint32_t plen, link;
	const void *src;
	rte_be64_t ctr;
	uint8_t *f;

	plen = len - (uint32_t)CTR_OFF;
	if (len + BRAID_CRYPTO_OVERHEAD > s->room) {
		s->cnt.drop_too_big++;
		return NULL;
	}
	d = rte_pktmbuf_alloc(s->pool);
	if (d == NULL) {
		s->cnt.drop_no_mbuf++;
		return NULL;
	}
	f = (uint8_t *)rte_pktmbuf_append(d, (uint16_t)(len + BRAID_CRYPTO_OVERHEAD));
	src = rte_pktmbuf_read(m, 0, CTR_OFF, f);
	if (src != f)
		memcpy(f, src, CTR_OFF);
	src = rte_pktmbuf_read(m, CTR_OFF, plen, f + DATA_OFF);
	if (src != f + DATA_OFF)
		memcpy(f + DATA_OFF, src, plen);
	bh = (struct braid_hdr *)(f + HDR_OFF);
	link = rte_be_to_cpu_16(bh->link_id);
	ctr = rte_cpu_to_be_64((uint64_t)link << 48 | s->ctr[link]++);
	memcpy(f + CTR_OFF, &ctr, sizeof(ctr));
	bh->flags |= BRAID_WIRE_F_SEALED;
	bh->reserved0 = (uint8_t)s->epoch;
	ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) +
						       BRAID_CRYPTO_OVERHEAD));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(udp->dgram_len) +
						     BRAID_CRYPTO_OVERHEAD));
	/* The tag authenticates more than a checksum would (RFC 768 allows
	 * 0 over IPv4). */
	udp->dgram_cksum = 0;
	d->port = m->port;
	rte_mbuf_dynfield_copy(d, m);
	d->ol_flags = 0;
	d->packet_type = m->packet_type;

	rte_crypto_op_attach_sym_session(op, s->sess);
	op->sym->m_src = d;
	op->sym->m_dst = NULL;
	op->sym->aead.data.offset = DATA_OFF;
	op->sym->aead.data.length = plen;
	op->sym->aead.digest.data = f + DATA_OFF + plen;
	op->sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(d, DATA_OFF + plen);
	op->sym->aead.aad.data = f + HDR_OFF;
	op->sym->aead.aad.phys_addr = rte_pktmbuf_iova_offset(d, HDR_OFF);
	pv = rte_crypto_op_ctod_offset(op, struct crypto_op_priv *, CRYPTO_IV_OFFSET);
	memcpy(pv->iv, s->salt, BRAID_CRYPTO_SALT_LEN);
	memcpy(pv->iv + BRAID_CRYPTO_SALT_LEN, &ctr, sizeof(ctr));
	s->epoch_bytes += d->pkt_len;
	return d;
}

/* Is @p m a frame as encap writes it; its type in @p type. */
static bool
frame_ok(const struct rte_mbuf *m, uint8_t *type, uint16_t *link)
{
	const struct braid_hdr *bh;
	uint8_t tmp[sizeof(*bh)];

	if (rte_pktmbuf_pkt_len(m) < CTR_OFF)
		return false;
	bh = rte_pktmbuf_read(m, HDR_OFF, sizeof(*bh), tmp);
	if (bh == NULL || bh->magic != RTE_BE16(BRAID_WIRE_MAGIC))
		return false;
	*type = bh->type;
	*link = rte_be_to_cpu_16(bh->link_id);
	return *link < BRAID_WIRE_MAX_LINKS;
}

uint16_t
braid_crypto_seal_burst(struct braid_crypto_seal *s, struct rte_mbuf **pkts, uint16_t n,
			struct braid_burst *out, uint64_t now_ns)
{
	struct rte_crypto_op *ops[BRAID_BURST_OUT_MAX];
	struct rte_mbuf *sealed[BRAID_BURST_OUT_MAX];
	uint16_t n_ops = 0, pushed = 0, enq;

	if (s->have && s->start_epoch) {
		s->epoch_start_ns = now_ns;
		s->start_epoch = false;
	}
	/* Next epoch by bytes or time; a link's counter near its end forces it. */
	if (s->have && (s->epoch_bytes >= s->rekey_bytes ||
			now_ns - s->epoch_start_ns >= s->rekey_ns)) {
		if (set_epoch(s, s->epoch + 1) == 0) {
			s->cnt.rekeys++;
			s->epoch_start_ns = now_ns;
			s->start_epoch = false;
			CRYPTO_LOG(DEBUG, "%s: epoch %u", s->name, s->epoch);
		}
	}
	if (n > 0 && rte_crypto_op_bulk_alloc(s->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
					      ops, n) != n) {
		s->cnt.drop_busy += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return collect(s, out);
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *d;
		uint16_t link;
		uint8_t type;

		if (!frame_ok(m, &type, &link)) {
			s->cnt.drop_malformed++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (type == BRAID_PKT_HELLO) {
			/* In clear, and after the sealed frames of this burst
			 * (order between them does not matter). */
			if (braid_burst_push(out, m) != 0) {
				s->cnt.drop_busy++;
				rte_pktmbuf_free(m);
			} else {
				s->cnt.clear_hello++;
				pushed++;
			}
			continue;
		}
		if (!s->have) {
			s->cnt.drop_no_key++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(s->ctr[link] > BRAID_CRYPTO_CTR_MAX)) {
			s->epoch_bytes = s->rekey_bytes;   /* next burst: new epoch */
			s->cnt.drop_no_key++;
			rte_pktmbuf_free(m);
			continue;
		}
		d = seal_one(s, m, ops[n_ops]);
		rte_pktmbuf_free(m);
		if (d != NULL)
			sealed[n_ops++] = d;
	}
	if (n_ops < n)
		rte_mempool_put_bulk(s->op_pool, (void **)&ops[n_ops], n - n_ops);
	enq = n_ops > 0 ? rte_cryptodev_enqueue_burst(s->dev->dev_id, s->qp, ops, n_ops) : 0;
	if (enq < n_ops) {
		s->cnt.drop_busy += n_ops - enq;
		rte_pktmbuf_free_bulk(&sealed[enq], n_ops - enq);
		rte_mempool_put_bulk(s->op_pool, (void **)&ops[enq], n_ops - enq);
	}
	s->inflight += enq;
	for (unsigned int t = 0; t < CRYPTO_DEQ_TRIES && s->inflight > 0; t++)
		pushed += collect(s, out);
	return pushed;
}

uint32_t
braid_crypto_seal_epoch(const struct braid_crypto_seal *s)
{
	return s->epoch;
}

void
braid_crypto_seal_stats(const struct braid_crypto_seal *s, struct braid_crypto_seal_stats *st)
{
	*st = s->cnt;
}

/* ---- stage ops ---- */

static void
seal_process(void *ctx, struct rte_mbuf **pkts, uint16_t n, struct braid_burst *out,
	     uint64_t now_ns)
{
	braid_crypto_seal_burst(ctx, pkts, n, out, now_ns);
}

static uint16_t
seal_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_crypto_seal *s = ctx;

	(void)now_ns;
	return s->inflight > 0 ? collect(s, out) : 0;
}

static int
seal_apply(void *ctx, const void *cmd)
{
	struct braid_crypto_cmd *c = (struct braid_crypto_cmd *)(uintptr_t)cmd;
	int ret = braid_crypto_seal_apply(ctx, c);

	braid_crypto_wipe(c->prk, sizeof(c->prk));
	return ret;
}

static void
seal_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_crypto_seal *s = ctx;

	BRAID_COUNTERS_REPORT(BRAID_CRYPTO_SEAL_COUNTERS, &s->cnt, fn, arg);
}

const struct braid_stage_ops braid_crypto_seal_stage_ops = {
	.kind = "seal",
	.cmd_size = sizeof(struct braid_crypto_cmd),
	.process = seal_process,
	.poll = seal_poll,
	.drain = seal_poll,
	.apply = seal_apply,
	.stats = seal_stats,
};
