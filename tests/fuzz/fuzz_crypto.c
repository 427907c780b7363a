/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry point over braid's decrypt path and handshake
 * (lib/crypto): the open stage (replay window, tag check, unsealing) and
 * braid_hello_receive().
 *
 * Input byte 0 selects the mode (low 2 bits):
 *   0  the rest is a frame as a link port receives it, through the open
 *      stage; HELLOs it passes on go to the handshake
 *   1  synthesize: a valid frame sealed by the seal stage (type, link,
 *      length from the next bytes), then up to 8 (offset, xor) changes
 *      from the input, then the open stage
 *   2  the rest is a HELLO payload for the handshake, under a session id
 *      from the first 4 bytes
 *
 * Invariants (abort() on violation):
 *  - a frame that comes out opened had no change from its braid header
 *    on (mode 1: what the tag covers cannot be forged);
 *  - an opened frame is the frame the seal stage was given, byte for byte
 *    from the braid header on;
 *  - no input ever makes the handshake take a peer session (no input
 *    carries a MAC under the PSK over this process's fresh challenge);
 *  - after each input every mbuf is back in the pool.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_crypto.h"
#include "braid_hello.h"
#include "braid_meta.h"
#include "braid_test_frame.h"
#include "braid_wire.h"

#define N_LINKS 4
#define SID 0x5EED0001u
#define HDRS BRAID_TEST_FRAME_HDRS

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct braid_crypto_dev dev;
static struct braid_crypto_seal *seal;
static struct braid_crypto_open *open_;
static struct rte_ring *hello_ring;
static struct braid_hello hello;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *eal[] = {"fuzz_crypto", "-l", "0", "--no-huge", "-m", "256",
			      "--no-shconf", "--no-pci", "--no-telemetry",
			      "--log-level=*:emerg", NULL};
	static const uint8_t psk[32] = { 0x42 }, prk[32] = { 0x17 };
	struct braid_crypto_cmd cmd = { .op = BRAID_CRYPTO_CMD_SET_SESSION, .session_id = SID };
	struct braid_crypto_seal_conf sc = { .name = "fz_seal", .dev = &dev, .qp = 0,
					     .rekey_bytes = 1 << 20,
					     .rekey_ns = 3600ULL * 1000000000ULL };
	struct braid_crypto_open_conf oc = { .name = "fz_open", .dev = &dev, .qp = 1,
					     .n_links = N_LINKS };
	char err[256];

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0 || braid_meta_register() < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_crypto", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	hello_ring = rte_ring_create("fz_hello", 64, SOCKET_ID_ANY, 0);
	if (pool == NULL || hello_ring == NULL ||
	    braid_crypto_dev_open("auto", SOCKET_ID_ANY, 2, &dev, err, sizeof(err)) != 0)
		abort();
	sc.pool = pool;
	oc.hello_ring = hello_ring;
	seal = braid_crypto_seal_create(&sc, SOCKET_ID_ANY);
	open_ = braid_crypto_open_create(&oc, SOCKET_ID_ANY);
	if (seal == NULL || open_ == NULL)
		abort();
	memcpy(cmd.prk, prk, sizeof(prk));
	if (braid_crypto_seal_apply(seal, &cmd) != 0 || braid_crypto_open_apply(open_, &cmd) != 0 ||
	    braid_hello_init(&hello, psk, 0xAAAA0001) != 0)
		abort();
	return 0;
}

static void
hello_payload(const uint8_t *p, size_t n, uint32_t sid)
{
	struct braid_hello_result r;

	braid_hello_receive(&hello, sid, p, n, &r);
	if (r.new_session || hello.have_peer)
		abort();
}

/* HELLOs the open stage passed on, through the handshake. */
static void
drain_hellos(void)
{
	void *h;

	while (rte_ring_dequeue(hello_ring, &h) == 0) {
		struct rte_mbuf *m = h;
		uint8_t buf[BRAID_HELLO_LEN];
		const uint8_t *p;
		const struct braid_hdr *bh;
		uint8_t hb[sizeof(*bh)];

		bh = rte_pktmbuf_read(m, 42, sizeof(*bh), hb);
		p = rte_pktmbuf_read(m, HDRS, BRAID_HELLO_LEN, buf);
		if (bh != NULL && p != NULL)
			hello_payload(p, BRAID_HELLO_LEN, rte_be_to_cpu_32(bh->session_id));
		rte_pktmbuf_free(m);
	}
}

static struct rte_mbuf *
raw_frame(const uint8_t *p, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;

	if (m == NULL)
		abort();
	n = RTE_MIN(n, (size_t)(RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM));
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
	if (n > 0)
		memcpy(d, p, n);
	memset(braid_meta(m), 0, sizeof(struct braid_meta));
	return m;
}

/* A frame as encap writes it, its payload from @p fill. */
static struct rte_mbuf *
clear_frame(uint8_t type, uint16_t link, uint16_t plen, const uint8_t *fill, size_t nfill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *pl = m != NULL ? braid_test_frame(m, type, link, SID, plen) : NULL;

	if (pl == NULL)
		abort();
	for (uint16_t i = 0; i < plen; i++)
		pl[i] = nfill > 0 ? fill[i % nfill] : (uint8_t)i;
	return m;
}

static void
synthesized(const uint8_t *p, size_t n)
{
	static struct braid_burst out;
	uint8_t keep[2048], sealed[2048];
	struct rte_mbuf *m, *s;
	uint16_t plen, link;
	uint8_t type;
	uint32_t klen;
	bool changed = false;
	size_t off = 4;

	if (n < 4)
		return;
	type = (uint8_t)(1 + p[0] % BRAID_PKT_TYPE_MAX);
	link = p[1] % N_LINKS;
	plen = (uint16_t)(1 + ((p[2] << 8 | p[3]) % 1400));
	m = clear_frame(type, link, plen, p + 4, n > 20 ? 16 : 0);
	klen = m->pkt_len;
	memcpy(keep, rte_pktmbuf_mtod(m, void *), klen);
	out.n = 0;
	braid_crypto_seal_burst(seal, &m, 1, &out, 1);
	if (out.n != 1)
		abort();
	s = out.pkts[0];
	if (s->pkt_len > sizeof(sealed) || s->nb_segs != 1)
		abort();
	memcpy(sealed, rte_pktmbuf_mtod(s, void *), s->pkt_len);
	/* up to 8 (offset, xor) changes */
	for (int i = 0; i < 8 && off + 3 <= n; i++, off += 3) {
		uint32_t at = ((uint32_t)p[off] << 8 | p[off + 1]) % s->pkt_len;

		rte_pktmbuf_mtod(s, uint8_t *)[at] ^= p[off + 2];
	}
	changed = memcmp(rte_pktmbuf_mtod(s, uint8_t *) + 42, sealed + 42, s->pkt_len - 42) != 0;
	{
		struct rte_mbuf *v[1] = { s };
		uint16_t k = braid_crypto_open_burst(open_, v, 1, 1);

		if (k == 1) {
			if (braid_meta(v[0])->flags & BRAID_META_F_OPENED) {
				if (changed || v[0]->pkt_len != klen ||
				    memcmp(rte_pktmbuf_mtod(v[0], uint8_t *) + 42, keep + 42,
					   klen - 42) != 0)
					abort();
			}
			rte_pktmbuf_free(v[0]);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0: {
		struct rte_mbuf *v[1] = { raw_frame(data + 1, size - 1) };

		if (braid_crypto_open_burst(open_, v, 1, 1) == 1)
			rte_pktmbuf_free(v[0]);
		drain_hellos();
		break;
	}
	case 1:
		synthesized(data + 1, size - 1);
		drain_hellos();      /* a change may have made it a HELLO */
		break;
	default:
		if (size >= 5)
			hello_payload(data + 5, size - 5,
				      (uint32_t)data[1] << 24 | data[2] << 16 | data[3] << 8 | data[4]);
		break;
	}
	if (rte_mempool_in_use_count(pool) != 0) {
		struct braid_crypto_open_stats os;
		struct braid_crypto_seal_stats ss;

		braid_crypto_open_stats(open_, &os);
		braid_crypto_seal_stats(seal, &ss);
		fprintf(stderr, "fuzz_crypto: %u mbufs in use; open: opened %lu clear %lu auth %lu "
			"malformed %lu split %lu no_key %lu replay %lu; seal: sealed %lu\n",
			rte_mempool_in_use_count(pool), (unsigned long)os.opened,
			(unsigned long)os.clear, (unsigned long)os.drop_auth,
			(unsigned long)os.drop_malformed, (unsigned long)os.drop_split,
			(unsigned long)os.drop_no_key, (unsigned long)os.drop_replay,
			(unsigned long)ss.sealed);
		abort();
	}
	return 0;
}
