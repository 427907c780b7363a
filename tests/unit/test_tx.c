/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tx against a plain scalar model: random link tables (links sharing
 * outputs), buffer sizes, drain timers, bursts with bad link ids, inject
 * traffic, consumers draining the port rings at random. After every step
 * the port rings, the counters and the pending count must match the model
 * exactly; at the end every packet is accounted for and the pool is whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "braid_meta.h"
#include "braid_tx.h"
#include "harness.h"

#define N_PORTS 3
#define N_QUEUES 2
#define N_KEYS (N_PORTS * N_QUEUES)
#define MODEL_RING 2048
#define MODEL_BUF BRAID_TX_BUFFER_MAX

static struct rte_mempool *mp;
static uint64_t seed;
static uint16_t port_ids[N_PORTS];
static struct rte_ring *tx_rings[N_KEYS];   /* key = port index * 2 + queue */
static const unsigned int ring_size[N_KEYS] = { 64, 1024, 128, 1024, 32, 1024 };

/* ---- the model -------------------------------------------------------- */

struct fifo {
	uint32_t id[MODEL_RING];
	unsigned int head, n;
};

static void
fifo_push(struct fifo *f, uint32_t id)
{
	f->id[(f->head + f->n) % MODEL_RING] = id;
	f->n++;
}

static uint32_t
fifo_pop(struct fifo *f)
{
	uint32_t id = f->id[f->head];

	f->head = (f->head + 1) % MODEL_RING;
	f->n--;
	return id;
}

struct model_out {
	uint32_t buf_id[MODEL_BUF];
	uint32_t buf_len[MODEL_BUF];
	unsigned int n;
	uint64_t first_ns;
	struct fifo ring;       /* what the port ring holds */
	unsigned int ring_cap;
	struct braid_tx_port_stats cnt;
};

struct model {
	unsigned int n_links;
	int link_key[BRAID_TX_MAX_LINKS];
	unsigned int buffer_size;
	uint64_t drain_ns;
	unsigned int inject_burst;
	struct fifo inject;     /* ids; lengths and links in pkt_* below */
	struct model_out out[N_KEYS];
	uint64_t drop_bad_output;
	uint64_t inject_packets;
};

static uint32_t pkt_len_of[1u << 20];
static uint16_t pkt_link_of[1u << 20];

static struct model M;

static void
model_flush(struct model_out *o)
{
	unsigned int room = o->ring_cap - o->ring.n;
	unsigned int take = o->n < room ? o->n : room;

	for (unsigned int i = 0; i < o->n; i++) {
		if (i < take) {
			fifo_push(&o->ring, o->buf_id[i]);
			o->cnt.tx_packets++;
			o->cnt.tx_bytes += o->buf_len[i];
		} else {
			o->cnt.drop_tx_full++;
		}
	}
	o->cnt.tx_flushes++;
	o->n = 0;
}

static void
model_route(uint32_t id, uint64_t now)
{
	uint16_t l = pkt_link_of[id];
	struct model_out *o;

	if (l >= M.n_links) {
		M.drop_bad_output++;
		return;
	}
	o = &M.out[M.link_key[l]];
	if (o->n == 0)
		o->first_ns = now;
	o->buf_id[o->n] = id;
	o->buf_len[o->n] = pkt_len_of[id];
	o->n++;
	if (o->n == M.buffer_size)
		model_flush(o);
}

static void
model_poll(uint64_t now)
{
	unsigned int take = M.inject.n < M.inject_burst ? M.inject.n : M.inject_burst;

	for (unsigned int i = 0; i < take; i++)
		model_route(fifo_pop(&M.inject), now);
	M.inject_packets += take;
	for (int k = 0; k < N_KEYS; k++)
		if (M.out[k].n != 0 && now >= M.out[k].first_ns + M.drain_ns)
			model_flush(&M.out[k]);
}

/* drain(): everything from the inject ring, then every buffer, once. */
static void
model_drain(uint64_t now)
{
	M.inject_packets += M.inject.n;
	while (M.inject.n != 0)
		model_route(fifo_pop(&M.inject), now);
	for (int k = 0; k < N_KEYS; k++)
		if (M.out[k].n != 0)
			model_flush(&M.out[k]);
}

/* ---- checks ----------------------------------------------------------- */

static int
check_against_model(const struct braid_tx *tx)
{
	struct braid_tx_stats st;
	struct braid_tx_stats want;
	unsigned int pending = 0;
	int bad = 0;

	memset(&want, 0, sizeof(want));
	for (int k = 0; k < N_KEYS; k++) {
		const struct model_out *o = &M.out[k];

		if (rte_ring_count(tx_rings[k]) != o->ring.n) {
			fprintf(stderr, "ring %d: %u, model %u\n", k,
				rte_ring_count(tx_rings[k]), o->ring.n);
			bad = 1;
		}
		pending += o->n;
		want.tx_packets += o->cnt.tx_packets;
		want.tx_bytes += o->cnt.tx_bytes;
		want.tx_flushes += o->cnt.tx_flushes;
		want.drop_tx_full += o->cnt.drop_tx_full;
	}
	want.drop_bad_output = M.drop_bad_output;
	want.inject_packets = M.inject_packets;
	braid_tx_stats(tx, &st);
	if (memcmp(&st, &want, sizeof(st)) != 0) {
		fprintf(stderr, "stats: pkts %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64
			" flushes %" PRIu64 "/%" PRIu64 " full %" PRIu64 "/%" PRIu64
			" bad %" PRIu64 "/%" PRIu64 " inject %" PRIu64 "/%" PRIu64 "\n",
			st.tx_packets, want.tx_packets, st.tx_bytes, want.tx_bytes,
			st.tx_flushes, want.tx_flushes, st.drop_tx_full, want.drop_tx_full,
			st.drop_bad_output, want.drop_bad_output, st.inject_packets,
			want.inject_packets);
		bad = 1;
	}
	if (braid_tx_pending(tx) != pending) {
		fprintf(stderr, "pending %u, model %u\n", braid_tx_pending(tx), pending);
		bad = 1;
	}
	for (int p = 0; p < N_PORTS; p++) {
		struct braid_tx_port_stats ps, pw;
		bool used = false;
		int ret;

		memset(&pw, 0, sizeof(pw));
		for (unsigned int l = 0; l < M.n_links; l++)
			used |= M.link_key[l] / N_QUEUES == p;
		for (int q = 0; q < N_QUEUES; q++) {
			const struct braid_tx_port_stats *c = &M.out[p * N_QUEUES + q].cnt;

			pw.tx_packets += c->tx_packets;
			pw.tx_bytes += c->tx_bytes;
			pw.tx_flushes += c->tx_flushes;
			pw.drop_tx_full += c->drop_tx_full;
		}
		ret = braid_tx_port_stats(tx, port_ids[p], &ps);
		if (ret != (used ? 0 : -ENOENT) || (used && memcmp(&ps, &pw, sizeof(ps)) != 0)) {
			fprintf(stderr, "port %d stats differ (ret %d)\n", p, ret);
			bad = 1;
		}
	}
	return bad;
}

/* Take up to @p n packets from ring @p k and compare with the model. */
static int
consume(int k, unsigned int n)
{
	struct rte_mbuf *m;
	int bad = 0;

	while (n-- > 0 && rte_ring_dequeue(tx_rings[k], (void **)&m) == 0) {
		uint32_t want = fifo_pop(&M.out[k].ring);

		if (braid_test_pkt_id(m) != want || m->pkt_len != pkt_len_of[want]) {
			fprintf(stderr, "ring %d: got id %u len %u, model id %u len %u\n",
				k, braid_test_pkt_id(m), m->pkt_len, want, pkt_len_of[want]);
			bad = 1;
		}
		rte_pktmbuf_free(m);
	}
	return bad;
}

static struct rte_mbuf *
mk_pkt(uint32_t id, uint16_t len, uint16_t link)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m == NULL || rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(rte_pktmbuf_mtod(m, void *), &id, sizeof(id));
	braid_meta(m)->link_id = link;
	pkt_len_of[id] = len;
	pkt_link_of[id] = link;
	return m;
}

static uint16_t
rand_link(uint64_t *st)
{
	uint64_t r = braid_test_rand(st) % 100;

	if (r < 3)
		return BRAID_LINK_NONE;
	if (r < 8)
		return (uint16_t)(M.n_links + braid_test_rand(st) % 3); /* out of range */
	return (uint16_t)(braid_test_rand(st) % M.n_links);
}

static void
test_tx_vs_model(void)
{
	static struct braid_burst out;
	static struct rte_mbuf *burst[700];
	struct rte_ring *inj;
	uint64_t st = seed;
	uint32_t next_id = 0;
	int bad = 0;

	inj = braid_tx_inject_ring_create("t_tx_inj", 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inj);

	for (int trial = 0; trial < 250 && !bad; trial++) {
		struct braid_tx_conf tc;
		struct braid_tx *tx;
		uint64_t now = braid_test_rand(&st) % 1000000;

		memset(&M, 0, sizeof(M));
		memset(&tc, 0, sizeof(tc));
		M.n_links = 1 + braid_test_rand(&st) % 8;
		M.buffer_size = 1 + braid_test_rand(&st) % 40;
		if (trial % 10 == 9)
			M.buffer_size = BRAID_TX_BUFFER_MAX;
		M.drain_ns = braid_test_rand(&st) % (BRAID_TX_DRAIN_NS_MAX + 1);
		if (trial % 7 == 3)
			M.drain_ns = 0;
		M.inject_burst = 1 + braid_test_rand(&st) % 64;
		for (int k = 0; k < N_KEYS; k++)
			M.out[k].ring_cap = ring_size[k] - 1;
		tc.n_links = (uint16_t)M.n_links;
		for (unsigned int l = 0; l < M.n_links; l++) {
			int key = (int)(braid_test_rand(&st) % N_KEYS);

			M.link_key[l] = key;
			tc.links[l].port_id = port_ids[key / N_QUEUES];
			tc.links[l].queue_id = (uint16_t)(key % N_QUEUES);
		}
		tc.buffer_size = (uint16_t)M.buffer_size;
		tc.drain_ns = M.drain_ns;
		tc.inject = inj;
		tc.inject_burst = (uint16_t)M.inject_burst;
		tx = braid_tx_create(&tc, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tx);

		for (int op = 0; op < 80 && !bad; op++) {
			uint64_t r = braid_test_rand(&st) % 100;

			now += braid_test_rand(&st) % 40000;
			if (r < 40) {
				/* A burst through process(); now and then a huge one. */
				unsigned int n = 1 + braid_test_rand(&st) % 80;

				if (braid_test_rand(&st) % 20 == 0)
					n = 300 + braid_test_rand(&st) % 400;
				for (unsigned int i = 0; i < n; i++) {
					burst[i] = mk_pkt(next_id++, (uint16_t)(60 +
						braid_test_rand(&st) % 1400), rand_link(&st));
					CU_ASSERT_PTR_NOT_NULL_FATAL(burst[i]);
				}
				braid_tx_stage_ops.process(tx, burst, (uint16_t)n, &out, now);
				for (unsigned int i = 0; i < n; i++)
					model_route(next_id - n + i, now);
			} else if (r < 55) {
				/* Another chain injects. */
				unsigned int n = 1 + braid_test_rand(&st) % 40;

				for (unsigned int i = 0; i < n && rte_ring_free_count(inj) > 0; i++) {
					struct rte_mbuf *m = mk_pkt(next_id, (uint16_t)(60 +
						braid_test_rand(&st) % 200), rand_link(&st));

					CU_ASSERT_PTR_NOT_NULL_FATAL(m);
					CU_ASSERT_EQUAL_FATAL(rte_ring_mp_enqueue(inj, m), 0);
					fifo_push(&M.inject, next_id++);
				}
			} else if (r < 85) {
				braid_tx_stage_ops.poll(tx, &out, now);
				model_poll(now);
			} else if (r < 98) {
				int k = (int)(braid_test_rand(&st) % N_KEYS);

				bad |= consume(k, (unsigned int)(braid_test_rand(&st) % 200));
			} else {
				braid_tx_stage_ops.drain(tx, &out, now);
				model_drain(now);
			}
			CU_ASSERT_EQUAL(out.n, 0); /* TX never pushes */
			bad |= check_against_model(tx);
		}
		braid_tx_stage_ops.drain(tx, &out, now);
		model_drain(now);
		bad |= check_against_model(tx);
		for (int k = 0; k < N_KEYS; k++) {
			bad |= consume(k, MODEL_RING);
			CU_ASSERT_EQUAL(M.out[k].ring.n, 0);
		}
		braid_tx_free(tx);
		if (bad)
			fprintf(stderr, "trial %d differs from the model (seed 0x%" PRIx64 ")\n",
				trial, seed);
	}
	CU_ASSERT_FALSE(bad);
	CU_ASSERT(next_id < RTE_DIM(pkt_len_of));
	rte_ring_free(inj);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

static int
setup_ports(void)
{
	struct rte_eth_conf conf;
	char name[32];

	memset(&conf, 0, sizeof(conf));
	for (int p = 0; p < N_PORTS; p++) {
		struct rte_ring *rx;
		int pi;

		snprintf(name, sizeof(name), "ttx_rx%d", p);
		rx = rte_ring_create(name, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		for (int q = 0; q < N_QUEUES; q++) {
			snprintf(name, sizeof(name), "ttx_tx%d_%d", p, q);
			tx_rings[p * N_QUEUES + q] = rte_ring_create(name,
				ring_size[p * N_QUEUES + q], 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (tx_rings[p * N_QUEUES + q] == NULL)
				return -1;
		}
		snprintf(name, sizeof(name), "ttx%d", p);
		pi = rx == NULL ? -1 : rte_eth_from_rings(name, &rx, 1,
							  &tx_rings[p * N_QUEUES], N_QUEUES, 0);
		if (pi < 0)
			return -1;
		port_ids[p] = (uint16_t)pi;
		if (rte_eth_dev_configure(port_ids[p], 1, N_QUEUES, &conf) != 0 ||
		    rte_eth_rx_queue_setup(port_ids[p], 0, 64, 0, NULL, mp) != 0)
			return -1;
		for (uint16_t q = 0; q < N_QUEUES; q++)
			if (rte_eth_tx_queue_setup(port_ids[p], q, 64, 0, NULL) != 0)
				return -1;
		if (rte_eth_dev_start(port_ids[p]) != 0)
			return -1;
	}
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s;

	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	seed = braid_test_seed(0x7a3c5e1fd2b4968bULL);
	printf("test_tx: seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	if (braid_meta_register() != 0)
		return -1;
	mp = rte_pktmbuf_pool_create("t_tx_mp", 16383, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL || setup_ports() != 0)
		return -1;
	s = CU_add_suite("tx_model", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "tx stage vs scalar model", test_tx_vs_model) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("tx", register_tests);
}
