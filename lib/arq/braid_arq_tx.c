/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sender half of the NACK policy: from the seqs a NACK names to the
 * retransmissions worth making. Per ARQ class a ring of the retransmit
 * cache's size holds, per seq, when it was last retransmitted and how
 * many NACK repetitions asked for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "arq_priv.h"
#include "braid_arq.h"
#include "braid_meta.h"
#include "braid_rtx.h"
#include "braid_wire.h"

/* Smallest frame a retransmission can be: overhead + an IPv4 header. */
#define TX_MIN_FRAME (BRAID_WIRE_OVERHEAD + 20)
/* Smallest burst: a duplicated full-size (1500 B MTU) retransmission. */
#define TX_MIN_BURST 3200u
/* Link capacity above this is clamped (8 Pbit/s). */
#define TX_MAX_CAPACITY 1000000000000000ULL

#define TX_SENT 0x1   /* last_tx_ns is meaningful */

struct tx_slot {
	uint64_t last_tx_ns;
	uint32_t seq;
	uint8_t requests;   /* NACK repetitions honoured (not suppressed) */
	uint8_t flags;      /* TX_SENT */
	uint8_t valid;
};

struct tx_class {
	struct tx_slot *ring;   /* NULL: class without ARQ */
	uint32_t mask;
	uint64_t deadline_ns;
};

struct braid_arq_tx {
	struct braid_arq_tx_stats cnt __rte_cache_aligned;
	char name[BRAID_ARQ_NAMESIZE + 1];
	struct braid_rtx *rtx;
	struct arq_bucket bucket;
	uint64_t rate_conf;
	uint64_t capacity;
	uint64_t srtt_ns;
	uint64_t rttvar_ns;
	uint64_t suppress_conf_ns;
	uint64_t min_interval_ns;
	uint32_t ppm;
	uint32_t max_seqs;
	uint16_t n_classes;
	uint8_t max_tries;
	struct tx_class cls[BRAID_ARQ_MAX_CLASSES] __rte_cache_aligned;
};

void
braid_arq_tx_free(struct braid_arq_tx *tx)
{
	if (tx == NULL)
		return;
	for (uint16_t i = 0; i < tx->n_classes; i++)
		rte_free(tx->cls[i].ring);
	rte_free(tx);
}

static int
tx_conf_check(const struct braid_arq_tx_conf *conf)
{
	uint32_t burst = conf->burst_bytes != 0 ? conf->burst_bytes :
		BRAID_ARQ_DEFAULT_RETX_BURST;

	if (!arq_name_ok(conf->name)) {
		ARQ_LOG(ERR, "arq_tx: name must be 1..%u characters", BRAID_ARQ_NAMESIZE);
		return -EINVAL;
	}
	if (conf->rtx == NULL) {
		ARQ_LOG(ERR, "arq_tx %s: rtx is required", conf->name);
		return -EINVAL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_ARQ_MAX_CLASSES) {
		ARQ_LOG(ERR, "arq_tx %s: n_classes %u not in 1..%u", conf->name,
			conf->n_classes, BRAID_ARQ_MAX_CLASSES);
		return -EINVAL;
	}
	if ((conf->rate_bytes_per_s != 0) == (conf->capacity_ppm != 0)) {
		ARQ_LOG(ERR, "arq_tx %s: give exactly one of rate_bytes_per_s and capacity_ppm",
			conf->name);
		return -EINVAL;
	}
	if (conf->rate_bytes_per_s > BRAID_ARQ_MAX_RATE) {
		ARQ_LOG(ERR, "arq_tx %s: rate_bytes_per_s %" PRIu64 " above %" PRIu64,
			conf->name, conf->rate_bytes_per_s, (uint64_t)BRAID_ARQ_MAX_RATE);
		return -EINVAL;
	}
	if (conf->capacity_ppm > 1000000) {
		ARQ_LOG(ERR, "arq_tx %s: capacity_ppm %" PRIu32 " above 1000000",
			conf->name, conf->capacity_ppm);
		return -EINVAL;
	}
	if (burst < TX_MIN_BURST || burst > BRAID_ARQ_MAX_BURST) {
		ARQ_LOG(ERR, "arq_tx %s: burst_bytes %" PRIu32 " not in %u..%u",
			conf->name, burst, TX_MIN_BURST, BRAID_ARQ_MAX_BURST);
		return -EINVAL;
	}
	if (conf->max_tries > BRAID_ARQ_MAX_TRIES) {
		ARQ_LOG(ERR, "arq_tx %s: max_tries %u above %u", conf->name,
			conf->max_tries, BRAID_ARQ_MAX_TRIES);
		return -EINVAL;
	}
	return 0;
}

struct braid_arq_tx *
braid_arq_tx_create(const struct braid_arq_tx_conf *conf, int socket)
{
	struct braid_arq_tx *tx;

	if (conf == NULL) {
		ARQ_LOG(ERR, "arq_tx: conf is required");
		rte_errno = EINVAL;
		return NULL;
	}
	if (tx_conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	tx = rte_zmalloc_socket(conf->name, sizeof(*tx), RTE_CACHE_LINE_SIZE, socket);
	if (tx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	strlcpy(tx->name, conf->name, sizeof(tx->name));
	tx->rtx = conf->rtx;
	tx->n_classes = conf->n_classes;
	tx->rate_conf = conf->rate_bytes_per_s;
	tx->ppm = conf->capacity_ppm;
	tx->suppress_conf_ns = conf->suppress_ns;
	tx->min_interval_ns = conf->min_interval_ns != 0 ? conf->min_interval_ns :
		BRAID_ARQ_DEFAULT_MIN_INTERVAL_NS;
	tx->max_tries = conf->max_tries != 0 ? conf->max_tries : BRAID_ARQ_DEFAULT_MAX_TRIES;
	tx->srtt_ns = conf->init_srtt_ns != 0 ? conf->init_srtt_ns : BRAID_ARQ_DEFAULT_SRTT_NS;
	tx->rttvar_ns = tx->srtt_ns / 2;
	tx->max_seqs = conf->max_seqs_per_nack != 0 ? conf->max_seqs_per_nack :
		BRAID_ARQ_DEFAULT_MAX_SEQS_PER_NACK;
	/* In capacity mode the rate is 0 until the capacity is known. */
	arq_bucket_init(&tx->bucket, tx->rate_conf,
			conf->burst_bytes != 0 ? conf->burst_bytes : BRAID_ARQ_DEFAULT_RETX_BURST);

	for (uint16_t i = 0; i < tx->n_classes; i++) {
		struct tx_class *cl = &tx->cls[i];
		uint32_t size = braid_rtx_capacity(conf->rtx, i);

		if (conf->classes != NULL)
			cl->deadline_ns = conf->classes[i].deadline_ns;
		if (size == 0)
			continue;
		cl->ring = rte_zmalloc_socket("arq_tx_ring", sizeof(*cl->ring) * size,
					      RTE_CACHE_LINE_SIZE, socket);
		if (cl->ring == NULL) {
			braid_arq_tx_free(tx);
			rte_errno = ENOMEM;
			return NULL;
		}
		cl->mask = size - 1;
	}
	return tx;
}

void
braid_arq_tx_set_rtt(struct braid_arq_tx *tx, uint64_t srtt_ns, uint64_t rttvar_ns)
{
	tx->srtt_ns = srtt_ns;
	tx->rttvar_ns = rttvar_ns;
}

void
braid_arq_tx_set_capacity(struct braid_arq_tx *tx, uint64_t bytes_per_s)
{
	uint64_t cap = RTE_MIN(bytes_per_s, TX_MAX_CAPACITY);
	uint64_t rate;

	tx->capacity = cap;
	if (tx->rate_conf != 0)
		return;
	rate = cap / 1000000 * tx->ppm + cap % 1000000 * tx->ppm / 1000000;
	arq_bucket_set_rate(&tx->bucket, RTE_MIN(rate, (uint64_t)BRAID_ARQ_MAX_RATE));
}

uint64_t
braid_arq_tx_rate(const struct braid_arq_tx *tx)
{
	return tx->bucket.rate;
}

int
braid_arq_tx_reset(struct braid_arq_tx *tx, uint16_t class_id)
{
	if (class_id != BRAID_ARQ_ALL_CLASSES && class_id >= tx->n_classes)
		return -EINVAL;
	for (uint16_t i = 0; i < tx->n_classes; i++) {
		struct tx_class *cl = &tx->cls[i];

		if ((class_id == BRAID_ARQ_ALL_CLASSES || i == class_id) && cl->ring != NULL)
			memset(cl->ring, 0, sizeof(*cl->ring) * ((size_t)cl->mask + 1));
	}
	return 0;
}

int
braid_arq_tx_class_set_deadline(struct braid_arq_tx *tx, uint16_t class_id,
				uint64_t deadline_ns)
{
	if (class_id >= tx->n_classes)
		return -EINVAL;
	/* Read per seq by tx_one(): the next NACK uses it. */
	tx->cls[class_id].deadline_ns = deadline_ns;
	return 0;
}

int
braid_arq_tx_apply(struct braid_arq_tx *tx, const struct braid_arq_tx_cmd *cmd)
{
	if (cmd->op != BRAID_ARQ_TX_CMD_CLASS_DEADLINE)
		return -EINVAL;
	return braid_arq_tx_class_set_deadline(tx, cmd->class_id, cmd->deadline_ns);
}

/* Why a seq got no order. */
enum tx_verdict {
	TX_ORDERED = 0,
	TX_SUPPRESSED,
	TX_MISSING,
	TX_TOO_LATE,
	TX_OVER_BUDGET,
};

/* The policy for one seq; fills *o when ordered. */
static enum tx_verdict
tx_one(struct braid_arq_tx *tx, struct tx_class *cl, uint16_t c, uint32_t seq,
       uint64_t now_ns, struct braid_arq_tx_order *o)
{
	struct tx_slot *sl = &cl->ring[seq & cl->mask];
	uint64_t suppress, interval, age, bytes;
	struct rte_mbuf *m;
	bool last;
	unsigned int copies;

	suppress = tx->suppress_conf_ns != 0 ? tx->suppress_conf_ns : tx->srtt_ns / 2;
	if (sl->valid && sl->seq == seq && (sl->flags & TX_SENT) &&
	    now_ns - sl->last_tx_ns < suppress)
		return TX_SUPPRESSED;
	m = braid_rtx_lookup(tx->rtx, c, seq, now_ns);
	if (m == NULL)
		return TX_MISSING;
	/* The ring has the cache's size: a seq the cache holds owns its
	 * slot, so a request for a seq outside the cache's window never
	 * wipes the state of one inside it. */
	if (!sl->valid || sl->seq != seq) {
		memset(sl, 0, sizeof(*sl));
		sl->seq = seq;
		sl->valid = 1;
	}
	/* Age at the peer's LAN if sent now: since the packet entered this
	 * gateway (meta rx_ns) plus the one-way delay. */
	age = now_ns > braid_meta(m)->rx_ns ? now_ns - braid_meta(m)->rx_ns : 0;
	age += tx->srtt_ns / 2;
	if (cl->deadline_ns != 0 && age > cl->deadline_ns)
		return TX_TOO_LATE;
	if (sl->requests < UINT8_MAX)
		sl->requests++;
	/* The last try: the receiver will not ask again, or its next
	 * request (one repeat interval away) would come too late. */
	interval = RTE_MAX(tx->srtt_ns + 4 * tx->rttvar_ns, tx->min_interval_ns);
	last = sl->requests >= tx->max_tries ||
		(cl->deadline_ns != 0 && age + interval > cl->deadline_ns);
	bytes = (uint64_t)m->pkt_len + BRAID_WIRE_OVERHEAD;
	copies = last ? 2 : 1;
	if (!arq_bucket_take(&tx->bucket, bytes * copies)) {
		if (copies == 1 || !arq_bucket_take(&tx->bucket, bytes))
			return TX_OVER_BUDGET;
		copies = 1;   /* budget for one copy only */
	}
	sl->flags |= TX_SENT;
	sl->last_tx_ns = now_ns;
	o->seq = seq;
	o->bytes = (uint32_t)bytes;
	o->class_id = c;
	o->hint = copies == 2 ? BRAID_ARQ_HINT_BOTH : BRAID_ARQ_HINT_PRIMARY;
	o->try_no = sl->requests;
	tx->cnt.retx_bytes += bytes * copies;
	tx->cnt.duplicated_last_try += copies == 2;
	return TX_ORDERED;
}

/* One part of a NACK: a range, or the bitmap. */
struct tx_item {
	uint32_t first;
	uint32_t count;   /* seqs named */
	bool bitmap;
};

uint16_t
braid_arq_tx_nack(struct braid_arq_tx *tx, const struct braid_nack *nack,
		  uint64_t now_ns, struct braid_arq_tx_order *orders, uint16_t max)
{
	struct tx_item items[BRAID_NACK_MAX_RANGES + 1];
	struct braid_arq_tx_stats *cnt = &tx->cnt;
	uint64_t stop_cnt[2] = { 0, 0 };   /* remaining seqs: truncated, over budget */
	unsigned int n_items = 0, budget_seqs;
	int stop = -1;                      /* index into stop_cnt once stopped */
	struct tx_class *cl;
	uint16_t n_out = 0;

	cnt->nack_rx++;
	if (nack->class_id >= tx->n_classes || tx->cls[nack->class_id].ring == NULL) {
		cnt->drop_bad_class++;
		return 0;
	}
	if (braid_wire_nack_len(nack) < 0) {
		cnt->drop_bad_nack++;
		return 0;
	}
	cl = &tx->cls[nack->class_id];
	arq_bucket_refill(&tx->bucket, now_ns);

	/* Items in seq order (serial offsets from the first one), so the
	 * budget goes to the oldest seqs. */
	for (unsigned int i = 0; i < nack->n_ranges; i++)
		items[n_items++] = (struct tx_item){ nack->ranges[i].first,
						     nack->ranges[i].count, false };
	if (nack->bitmap_words > 0) {
		uint32_t bits = 0;

		for (unsigned int w = 0; w < nack->bitmap_words; w++)
			bits += (uint32_t)__builtin_popcount(nack->bitmap[w]);
		if (bits > 0)
			items[n_items++] = (struct tx_item){ nack->base_seq, bits, true };
	}
	for (unsigned int i = 1; i < n_items; i++) {
		const uint32_t ref = nack->n_ranges > 0 ? nack->ranges[0].first :
			nack->base_seq;
		struct tx_item it = items[i];
		unsigned int j = i;

		for (; j > 0 && (int32_t)(items[j - 1].first - ref) >
			     (int32_t)(it.first - ref); j--)
			items[j] = items[j - 1];
		items[j] = it;
	}

	budget_seqs = tx->max_seqs;
	for (unsigned int i = 0; i < n_items; i++) {
		const struct tx_item *it = &items[i];
		uint32_t done = 0;

		cnt->seqs_requested += it->count;
		for (uint32_t k = 0; stop < 0 && done < it->count; k++) {
			uint32_t seq;
			enum tx_verdict v;

			if (it->bitmap) {
				if (!(nack->bitmap[k >> 5] & (1u << (k & 31))))
					continue;
				seq = it->first + k;
			} else {
				seq = it->first + k;
			}
			if (budget_seqs == 0 || n_out >= max) {
				stop = 0;
				break;
			}
			if (!arq_bucket_has(&tx->bucket, TX_MIN_FRAME)) {
				stop = 1;
				break;
			}
			budget_seqs--;
			done++;
			v = tx_one(tx, cl, nack->class_id, seq, now_ns, &orders[n_out]);
			switch (v) {
			case TX_ORDERED:
				n_out++;
				cnt->ordered++;
				break;
			case TX_SUPPRESSED:
				cnt->suppressed++;
				break;
			case TX_MISSING:
				cnt->expired_or_missing++;
				break;
			case TX_TOO_LATE:
				cnt->too_late++;
				break;
			case TX_OVER_BUDGET:
				cnt->over_budget++;
				break;
			}
		}
		if (stop >= 0)
			stop_cnt[stop] += it->count - done;
	}
	cnt->truncated += stop_cnt[0];
	cnt->over_budget += stop_cnt[1];
	return n_out;
}

void
braid_arq_tx_report(struct braid_arq_tx *tx, const struct braid_arq_tx_order *order,
		    unsigned int sent)
{
	unsigned int copies = order->hint;
	unsigned int unsent;
	struct tx_class *cl;

	if (sent > copies)
		sent = copies;
	unsent = copies - sent;
	tx->cnt.served += sent;
	tx->cnt.serve_failed += unsent;
	if (unsent == 0)
		return;
	arq_bucket_give(&tx->bucket, (uint64_t)order->bytes * unsent);
	tx->cnt.retx_bytes -= (uint64_t)order->bytes * unsent;
	if (sent > 0 || order->class_id >= tx->n_classes)
		return;
	cl = &tx->cls[order->class_id];
	if (cl->ring != NULL) {
		struct tx_slot *sl = &cl->ring[order->seq & cl->mask];

		if (sl->valid && sl->seq == order->seq)
			sl->flags &= (uint8_t)~TX_SENT;
	}
}

void
braid_arq_tx_stats(const struct braid_arq_tx *tx, struct braid_arq_tx_stats *cnt)
{
	*cnt = tx->cnt;
}

void
braid_arq_tx_stats_report(const struct braid_arq_tx *tx, braid_stat_fn fn, void *arg)
{
	BRAID_COUNTERS_REPORT(BRAID_ARQ_TX_COUNTERS, &tx->cnt, fn, arg);
}
