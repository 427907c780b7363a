/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TX stage: per-output rte_eth_dev_tx_buffer, filled from bursts
 * grouped by output, sent when full, on the drain timer (poll) and at
 * shutdown (drain). See braid_tx.h.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "braid_log.h"
#include "braid_meta.h"
#include "braid_tx.h"

RTE_LOG_REGISTER(braid_tx_logtype, braid.tx, INFO);
#define TX_LOG(level, ...) BRAID_LOG(level, braid_tx_logtype, __VA_ARGS__)

/* Packets grouped per pass of tx_route(): bounds the stack arrays. */
#define TX_CHUNK 256

/* One output: a (port, queue) and its buffer. Written only by the stage's
 * lcore; counters updated once per send. */
struct tx_out {
	struct rte_eth_dev_tx_buffer *buf;
	uint16_t port_id;
	uint16_t queue_id;
	uint64_t first_ns;       /* when the oldest buffered packet arrived */
	uint64_t pend_bytes;     /* bytes in buf, not yet sent */
	uint64_t refused_pkts;   /* set by tx_refused() during one send */
	uint64_t refused_bytes;
	struct braid_tx_port_stats cnt;
} __rte_cache_aligned;

#define TX_STAGE_COUNTERS(X) X(drop_bad_output) X(inject_packets)

struct tx_stage_counters {
	BRAID_COUNTERS_FIELDS(TX_STAGE_COUNTERS)
} __rte_cache_aligned;

struct braid_tx {
	uint16_t n_links;
	uint16_t n_outs;
	uint16_t buffer_size;
	uint16_t inject_burst;
	bool single;
	uint64_t drain_ns;
	uint64_t pending;        /* bit o: outs[o] holds packets */
	struct rte_ring *inject;
	uint16_t link_out[BRAID_TX_MAX_LINKS]; /* link_id -> index in outs */
	struct tx_stage_counters cnt;
	struct tx_out outs[BRAID_TX_MAX_LINKS];
};

/* Error callback of every buffer: the PMD took only part of a send. */
static void
tx_refused(struct rte_mbuf **unsent, uint16_t n, void *userdata)
{
	struct tx_out *o = userdata;
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += unsent[i]->pkt_len;
	rte_pktmbuf_free_bulk(unsent, n);
	o->refused_pkts += n;
	o->refused_bytes += bytes;
}

/* Account one send of the whole buffer (it is empty now). */
static inline void
tx_out_sent(struct tx_out *o, uint16_t sent)
{
	o->cnt.tx_packets += sent;
	o->cnt.tx_bytes += o->pend_bytes - o->refused_bytes;
	o->cnt.drop_tx_full += o->refused_pkts;
	o->cnt.tx_flushes++;
	o->pend_bytes = 0;
	o->refused_pkts = 0;
	o->refused_bytes = 0;
}

/* Append pkts[0..n-1] (all for outs[oi]) in order; full buffers are sent. */
static inline void
tx_out_put(struct braid_tx *tx, uint16_t oi, struct rte_mbuf **pkts, uint16_t n,
	   uint64_t now_ns)
{
	struct tx_out *o = &tx->outs[oi];
	uint16_t i, sent;

	for (i = 0; i < n; i++) {
		if (o->buf->length == 0)
			o->first_ns = now_ns;
		o->pend_bytes += pkts[i]->pkt_len;
		sent = rte_eth_tx_buffer(o->port_id, o->queue_id, o->buf, pkts[i]);
		if (o->buf->length == 0)
			tx_out_sent(o, sent);
	}
	if (o->buf->length != 0)
		tx->pending |= RTE_BIT64(oi);
	else
		tx->pending &= ~RTE_BIT64(oi);
}

/* Send outs[oi] now. @return packets the PMD took. */
static inline uint16_t
tx_out_flush(struct braid_tx *tx, uint16_t oi)
{
	struct tx_out *o = &tx->outs[oi];
	uint16_t sent;

	sent = rte_eth_tx_buffer_flush(o->port_id, o->queue_id, o->buf);
	tx_out_sent(o, sent);
	tx->pending &= ~RTE_BIT64(oi);
	return sent;
}

/*
 * Group pkts by output and buffer each group: next[] holds each packet's
 * output (n_outs = bad link_id), a stable counting sort makes the groups,
 * so every output sees its packets in arrival order.
 */
static void
tx_route(struct braid_tx *tx, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
	uint16_t next[TX_CHUNK];
	uint16_t count[BRAID_TX_MAX_LINKS + 1];
	uint16_t start[BRAID_TX_MAX_LINKS + 1];
	struct rte_mbuf *sorted[TX_CHUNK];
	const uint16_t bad = tx->n_outs;
	uint64_t drop_bad = 0;

	if (tx->single) {
		tx_out_put(tx, 0, pkts, n, now_ns);
		return;
	}
	while (n > 0) {
		uint16_t c = RTE_MIN(n, (uint16_t)TX_CHUNK);
		uint16_t i, o, pos;

		memset(count, 0, sizeof(count[0]) * (bad + 1u));
		for (i = 0; i < c; i++) {
			uint16_t l = braid_meta(pkts[i])->link_id;

			o = likely(l < tx->n_links) ? tx->link_out[l] : bad;
			next[i] = o;
			count[o]++;
		}
		if (count[next[0]] == c) {
			/* The whole chunk goes one way (one link, LAN): no sort. */
			if (next[0] != bad) {
				tx_out_put(tx, next[0], pkts, c, now_ns);
			} else {
				rte_pktmbuf_free_bulk(pkts, c);
				drop_bad += c;
			}
		} else {
			pos = 0;
			for (o = 0; o <= bad; o++) {
				start[o] = pos;
				pos = (uint16_t)(pos + count[o]);
			}
			for (i = 0; i < c; i++)
				sorted[start[next[i]]++] = pkts[i];
			/* start[o] is now the end of group o. */
			for (o = 0; o < bad; o++)
				if (count[o] != 0)
					tx_out_put(tx, o, &sorted[start[o] - count[o]],
						   count[o], now_ns);
			if (count[bad] != 0) {
				rte_pktmbuf_free_bulk(&sorted[start[bad] - count[bad]],
						      count[bad]);
				drop_bad += count[bad];
			}
		}
		pkts += c;
		n = (uint16_t)(n - c);
	}
	tx->cnt.drop_bad_output += drop_bad;
}

/* Take up to one inject burst. @return packets taken. */
static uint16_t
tx_take_inject(struct braid_tx *tx, uint64_t now_ns)
{
	struct rte_mbuf *pkts[BRAID_TX_INJECT_BURST_MAX];
	unsigned int n;

	n = rte_ring_dequeue_burst(tx->inject, (void **)pkts, tx->inject_burst, NULL);
	if (n == 0)
		return 0;
	tx->cnt.inject_packets += n;
	tx_route(tx, pkts, (uint16_t)n, now_ns);
	return (uint16_t)n;
}

static void
tx_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
	   struct braid_burst *out __rte_unused, uint64_t now_ns)
{
	tx_route(ctx, pkts, n, now_ns);
}

static uint16_t
tx_poll(void *ctx, struct braid_burst *out __rte_unused, uint64_t now_ns)
{
	struct braid_tx *tx = ctx;
	uint32_t work = 0;
	uint64_t m;

	if (tx->inject != NULL)
		work += tx_take_inject(tx, now_ns);
	for (m = tx->pending; m != 0; m &= m - 1) {
		uint16_t oi = (uint16_t)rte_bsf64(m);

		if (now_ns >= tx->outs[oi].first_ns + tx->drain_ns)
			work += tx_out_flush(tx, oi) + 1u;
	}
	return (uint16_t)RTE_MIN(work, (uint32_t)UINT16_MAX);
}

static uint16_t
tx_drain(void *ctx, struct braid_burst *out __rte_unused, uint64_t now_ns)
{
	struct braid_tx *tx = ctx;
	uint64_t m;

	if (tx->inject != NULL) {
		/* Bounded: at most a ring's worth, even if producers still run. */
		unsigned int rounds = rte_ring_get_capacity(tx->inject) /
				      tx->inject_burst + 1;

		while (rounds-- > 0 && tx_take_inject(tx, now_ns) != 0)
			;
	}
	for (m = tx->pending; m != 0; m &= m - 1)
		tx_out_flush(tx, (uint16_t)rte_bsf64(m));
	return 0; /* nothing pushed to out */
}

void
braid_tx_stats(const struct braid_tx *tx, struct braid_tx_stats *st)
{
	uint16_t o;

	memset(st, 0, sizeof(*st));
	for (o = 0; o < tx->n_outs; o++) {
		const struct braid_tx_port_stats *c = &tx->outs[o].cnt;

		st->tx_packets += c->tx_packets;
		st->tx_bytes += c->tx_bytes;
		st->tx_flushes += c->tx_flushes;
		st->drop_tx_full += c->drop_tx_full;
	}
	st->drop_bad_output = tx->cnt.drop_bad_output;
	st->inject_packets = tx->cnt.inject_packets;
}

int
braid_tx_port_stats(const struct braid_tx *tx, uint16_t port_id,
		    struct braid_tx_port_stats *st)
{
	bool found = false;
	uint16_t o;

	memset(st, 0, sizeof(*st));
	for (o = 0; o < tx->n_outs; o++) {
		const struct tx_out *x = &tx->outs[o];

		if (x->port_id != port_id)
			continue;
		found = true;
		st->tx_packets += x->cnt.tx_packets;
		st->tx_bytes += x->cnt.tx_bytes;
		st->tx_flushes += x->cnt.tx_flushes;
		st->drop_tx_full += x->cnt.drop_tx_full;
	}
	return found ? 0 : -ENOENT;
}

unsigned int
braid_tx_pending(const struct braid_tx *tx)
{
	unsigned int n = 0;
	uint16_t o;

	for (o = 0; o < tx->n_outs; o++)
		n += tx->outs[o].buf->length;
	return n;
}

static void
tx_report(const void *ctx, braid_stat_fn fn, void *arg)
{
	struct braid_tx_stats st;

	braid_tx_stats(ctx, &st);
	BRAID_COUNTERS_REPORT(BRAID_TX_COUNTERS, &st, fn, arg);
}

const struct braid_stage_ops braid_tx_stage_ops = {
	.kind = "tx",
	.flags = 0,
	.process = tx_process,
	.poll = tx_poll,
	.drain = tx_drain,
	.stats = tx_report,
};

static int
tx_check_output(const struct braid_tx_output *out, uint16_t link)
{
	struct rte_eth_dev_info di;

	if (!rte_eth_dev_is_valid_port(out->port_id)) {
		TX_LOG(ERR, "tx: link %u: port %u is not an ethdev", link, out->port_id);
		return -EINVAL;
	}
	if (rte_eth_dev_info_get(out->port_id, &di) != 0 ||
	    out->queue_id >= di.nb_tx_queues) {
		TX_LOG(ERR, "tx: link %u: port %u has no tx queue %u (%u configured)",
			link, out->port_id, out->queue_id, di.nb_tx_queues);
		return -EINVAL;
	}
	return 0;
}

struct braid_tx *
braid_tx_create(const struct braid_tx_conf *c, int socket)
{
	struct braid_tx *tx;
	uint16_t l, o, size;

	if (c == NULL || c->n_links == 0 || c->n_links > BRAID_TX_MAX_LINKS ||
	    (c->single && c->n_links != 1) || c->buffer_size > BRAID_TX_BUFFER_MAX ||
	    c->drain_ns > BRAID_TX_DRAIN_NS_MAX ||
	    c->inject_burst > BRAID_TX_INJECT_BURST_MAX) {
		TX_LOG(ERR, "tx: bad configuration (links 1..%u, 1 if single; buffer <= %u; drain_ns <= %u; inject_burst <= %u)",
		       BRAID_TX_MAX_LINKS, BRAID_TX_BUFFER_MAX, BRAID_TX_DRAIN_NS_MAX,
		       BRAID_TX_INJECT_BURST_MAX);
		rte_errno = EINVAL;
		return NULL;
	}
	if (!c->single && braid_meta_offset < 0) {
		TX_LOG(ERR, "tx: braid_meta_register() was not called");
		rte_errno = EINVAL;
		return NULL;
	}
	for (l = 0; l < c->n_links; l++) {
		if (tx_check_output(&c->links[l], l) != 0) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	tx = rte_zmalloc_socket("braid_tx", sizeof(*tx), RTE_CACHE_LINE_SIZE, socket);
	if (tx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	size = c->buffer_size != 0 ? c->buffer_size : BRAID_BURST;
	tx->n_links = c->n_links;
	tx->single = c->single;
	tx->buffer_size = size;
	tx->drain_ns = c->drain_ns;
	tx->inject = c->inject;
	tx->inject_burst = c->inject_burst != 0 ? c->inject_burst : BRAID_BURST;

	/* One output per distinct (port, queue). */
	for (l = 0; l < c->n_links; l++) {
		for (o = 0; o < tx->n_outs; o++)
			if (tx->outs[o].port_id == c->links[l].port_id &&
			    tx->outs[o].queue_id == c->links[l].queue_id)
				break;
		if (o == tx->n_outs) {
			struct tx_out *x = &tx->outs[o];

			x->port_id = c->links[l].port_id;
			x->queue_id = c->links[l].queue_id;
			x->buf = rte_zmalloc_socket("braid_tx_buf",
						    RTE_ETH_TX_BUFFER_SIZE(size),
						    RTE_CACHE_LINE_SIZE, socket);
			if (x->buf == NULL) {
				braid_tx_free(tx);
				rte_errno = ENOMEM;
				return NULL;
			}
			tx->n_outs++;
			if (rte_eth_tx_buffer_init(x->buf, size) != 0 ||
			    rte_eth_tx_buffer_set_err_callback(x->buf, tx_refused, x) != 0) {
				braid_tx_free(tx);
				rte_errno = EINVAL;
				return NULL;
			}
		}
		tx->link_out[l] = o;
	}
	return tx;
}

void
braid_tx_free(struct braid_tx *tx)
{
	unsigned int lost = 0;
	uint16_t o;

	if (tx == NULL)
		return;
	for (o = 0; o < tx->n_outs; o++) {
		struct rte_eth_dev_tx_buffer *b = tx->outs[o].buf;

		if (b == NULL)
			continue;
		if (b->length != 0) {
			lost += b->length;
			rte_pktmbuf_free_bulk(b->pkts, b->length);
		}
		rte_free(b);
	}
	if (lost != 0)
		TX_LOG(WARNING, "tx: freed %u unsent packets (drain() was not called)", lost);
	rte_free(tx);
}

struct rte_ring *
braid_tx_inject_ring_create(const char *name, unsigned int count, int socket)
{
	return rte_ring_create(name, count, socket, RING_F_SC_DEQ);
}
