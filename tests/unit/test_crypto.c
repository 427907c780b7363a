/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/crypto: HKDF against RFC 5869, AES-256-GCM through the cryptodev
 * path against the GCM specification's vector, the seal stage against
 * OpenSSL's AES-GCM on random frames, seal -> open round trips, every
 * tampered byte, replays, rekeys and old keys, the replay window against
 * a scalar model, and the HELLO handshake (establish, restart, replayed
 * and forged HELLOs, different keys).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_crypto.h"
#include "braid_hello.h"
#include "braid_meta.h"
#include "braid_test_frame.h"
#include "braid_wire.h"
#include "harness.h"

static struct rte_mempool *pool;
static struct braid_crypto_dev dev;
static uint64_t seed;

#define HDR_OFF 42u
#define FRAME_HDRS (HDR_OFF + 40u)

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

/* ---- HKDF (RFC 5869 appendix A) ---- */

static void
test_hkdf_rfc5869(void)
{
	static const struct {
		const char *ikm, *salt, *info, *prk, *okm;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		  "34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8" },
	};

	for (unsigned int i = 0; i < RTE_DIM(v); i++) {
		uint8_t ikm[128], salt[128], info[128], prk[32], want_prk[32];
		uint8_t okm[128], want_okm[128];
		size_t ni = unhex(v[i].ikm, ikm), ns = unhex(v[i].salt, salt);
		size_t nf = unhex(v[i].info, info), no = unhex(v[i].okm, want_okm);

		unhex(v[i].prk, want_prk);
		CU_ASSERT_FATAL(braid_crypto_hkdf_extract(ns ? salt : NULL, ns, ikm, ni, prk) == 0);
		CU_ASSERT(memcmp(prk, want_prk, 32) == 0);
		CU_ASSERT_FATAL(braid_crypto_hkdf_expand(prk, info, nf, okm, no) == 0);
		CU_ASSERT(memcmp(okm, want_okm, no) == 0);
	}
	CU_ASSERT(braid_crypto_hkdf_expand((uint8_t[32]){ 0 }, NULL, 0, (uint8_t[8]){ 0 },
					   255 * 32 + 1) == -EINVAL);
}

/* ---- AES-256-GCM through cryptodev: GCM spec test case 16 ---- */

static void
test_gcm_known_answer(void)
{
	uint8_t key[32], iv[12], aad[20], pt[60], ct[60], tag[16];
	struct rte_crypto_sym_xform x = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.aead = {
			.op = RTE_CRYPTO_AEAD_OP_ENCRYPT, .algo = RTE_CRYPTO_AEAD_AES_GCM,
			.key = { .data = key, .length = 32 },
			.iv = { .offset = sizeof(struct rte_crypto_op) +
					  sizeof(struct rte_crypto_sym_op), .length = 12 },
			.digest_length = 16, .aad_length = 20,
		},
	};
	struct rte_mempool *ops = rte_crypto_op_pool_create("kat_ops",
			RTE_CRYPTO_OP_TYPE_SYMMETRIC, 8, 0, 16, SOCKET_ID_ANY);
	struct rte_crypto_op *op, *done = NULL;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;
	void *sess;

	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key);
	unhex("cafebabefacedbaddecaf888", iv);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt);
	unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", ct);
	unhex("76fc6ece0f4e1768cddf8853bb2d551b", tag);
	CU_ASSERT_FATAL(ops != NULL && m != NULL);
	sess = rte_cryptodev_sym_session_create(dev.dev_id, &x, dev.sess_pool);
	CU_ASSERT_FATAL(sess != NULL);
	op = rte_crypto_op_alloc(ops, RTE_CRYPTO_OP_TYPE_SYMMETRIC);
	CU_ASSERT_FATAL(op != NULL);
	d = (uint8_t *)rte_pktmbuf_append(m, 60 + 16 + 20);
	memcpy(d, aad, 20);
	memcpy(d + 20, pt, 60);
	rte_crypto_op_attach_sym_session(op, sess);
	op->sym->m_src = m;
	op->sym->aead.data.offset = 20;
	op->sym->aead.data.length = 60;
	op->sym->aead.digest.data = d + 80;
	op->sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(m, 80);
	op->sym->aead.aad.data = d;
	op->sym->aead.aad.phys_addr = rte_pktmbuf_iova_offset(m, 0);
	memcpy(rte_crypto_op_ctod_offset(op, uint8_t *, x.aead.iv.offset), iv, 12);
	CU_ASSERT_FATAL(rte_cryptodev_enqueue_burst(dev.dev_id, 0, &op, 1) == 1);
	for (int i = 0; i < 1000 && done == NULL; i++)
		if (rte_cryptodev_dequeue_burst(dev.dev_id, 0, &done, 1) == 0)
			done = NULL;
	CU_ASSERT_FATAL(done == op);
	CU_ASSERT(op->status == RTE_CRYPTO_OP_STATUS_SUCCESS);
	CU_ASSERT(memcmp(d + 20, ct, 60) == 0);
	CU_ASSERT(memcmp(d + 80, tag, 16) == 0);
	rte_crypto_op_free(op);
	rte_cryptodev_sym_session_free(dev.dev_id, sess);
	rte_pktmbuf_free(m);
	rte_mempool_free(ops);
}

/* ---- frames ---- */

/* A frame as encap writes it: link @p link, session @p sid, type @p type,
 * @p plen payload bytes from @p rng. */
static struct rte_mbuf *
frame(uint16_t link, uint32_t sid, uint8_t type, uint16_t plen, uint64_t *rng)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *pl = m != NULL ? braid_test_frame(m, type, link, sid, plen) : NULL;

	if (pl == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	((struct braid_hdr *)(pl - sizeof(struct braid_hdr)))->seq =
		rte_cpu_to_be_32((uint32_t)braid_test_rand(rng));
	for (uint16_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)braid_test_rand(rng);
	return m;
}

static struct braid_crypto_seal *
mk_seal(const uint8_t prk[32], uint32_t sid, uint64_t rekey_bytes)
{
	struct braid_crypto_seal_conf c = {
		.name = "t_seal", .dev = &dev, .qp = 0, .pool = pool,
		.rekey_bytes = rekey_bytes, .rekey_ns = 3600ULL * 1000000000ULL,
	};
	struct braid_crypto_seal *s = braid_crypto_seal_create(&c, SOCKET_ID_ANY);
	struct braid_crypto_cmd cmd = { .op = BRAID_CRYPTO_CMD_SET_SESSION, .session_id = sid };

	CU_ASSERT_FATAL(s != NULL);
	if (prk != NULL) {
		memcpy(cmd.prk, prk, 32);
		CU_ASSERT_FATAL(braid_crypto_seal_apply(s, &cmd) == 0);
	}
	return s;
}

static struct braid_crypto_open *
mk_open(const uint8_t prk[32], uint32_t sid, struct rte_ring *hello)
{
	struct braid_crypto_open_conf c = {
		.name = "t_open", .dev = &dev, .qp = 1, .n_links = 4, .hello_ring = hello,
	};
	struct braid_crypto_open *o = braid_crypto_open_create(&c, SOCKET_ID_ANY);
	struct braid_crypto_cmd cmd = { .op = BRAID_CRYPTO_CMD_SET_SESSION, .session_id = sid };

	CU_ASSERT_FATAL(o != NULL);
	if (prk != NULL) {
		memcpy(cmd.prk, prk, 32);
		CU_ASSERT_FATAL(braid_crypto_open_apply(o, &cmd) == 0);
	}
	return o;
}

/* Seal one frame; the sealed copy (NULL if none came out). */
static struct rte_mbuf *
seal1(struct braid_crypto_seal *s, struct rte_mbuf *m, uint64_t now)
{
	static struct braid_burst out;

	out.n = 0;
	braid_crypto_seal_burst(s, &m, 1, &out, now);
	CU_ASSERT(out.n <= 1);
	return out.n == 1 ? out.pkts[0] : NULL;
}

/* Open one frame: the frame back, or NULL if it was dropped. */
static struct rte_mbuf *
open1(struct braid_crypto_open *o, struct rte_mbuf *m, uint64_t now)
{
	struct rte_mbuf *p[1] = { m };

	return braid_crypto_open_burst(o, p, 1, now) == 1 ? p[0] : NULL;
}

static struct rte_mbuf *
copy(const struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

	CU_ASSERT_FATAL(c != NULL);
	memset(braid_meta(c), 0, sizeof(struct braid_meta));
	return c;
}

/* The sealed frame @p sealed is what OpenSSL's AES-256-GCM makes of the
 * clear frame @p clear under epoch @p epoch of @p prk. */
static bool
matches_openssl(const uint8_t prk[32], uint32_t epoch, const struct rte_mbuf *clear,
		const struct rte_mbuf *sealed)
{
	const uint8_t *c = rte_pktmbuf_mtod(clear, const uint8_t *);
	const uint8_t *s = rte_pktmbuf_mtod(sealed, const uint8_t *);
	uint32_t plen = clear->pkt_len - FRAME_HDRS;
	uint8_t key[32], salt[4], iv[12], out[2048], tag[16];
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0, ok;

	braid_crypto_epoch_key(prk, epoch, key, salt);
	memcpy(iv, salt, 4);
	memcpy(iv + 4, s + FRAME_HDRS, 8);
	ok = x != NULL && EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(x, NULL, &l, s + HDR_OFF, 48) == 1 &&
	     EVP_EncryptUpdate(x, out, &l, c + FRAME_HDRS, (int)plen) == 1 &&
	     EVP_EncryptFinal_ex(x, out + l, &l) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok && sealed->pkt_len == clear->pkt_len + BRAID_CRYPTO_OVERHEAD &&
	       memcmp(s + FRAME_HDRS + 8, out, plen) == 0 &&
	       memcmp(s + FRAME_HDRS + 8 + plen, tag, 16) == 0 &&
	       (s[HDR_OFF + 4] & BRAID_WIRE_F_SEALED) && memcmp(c + 14 + 12, s + 14 + 12, 8) == 0;
}

static void
test_seal_open_vs_openssl(void)
{
	uint8_t prk[32];
	uint64_t rng = seed;
	struct braid_crypto_seal *s;
	struct braid_crypto_open *o;
	struct braid_crypto_open_stats os;
	unsigned int n = 500;

	for (int i = 0; i < 32; i++)
		prk[i] = (uint8_t)braid_test_rand(&rng);
	s = mk_seal(prk, 0x11111111, UINT64_MAX);
	o = mk_open(prk, 0x11111111, NULL);
	for (unsigned int i = 0; i < n; i++) {
		uint16_t plen = (uint16_t)(1 + braid_test_rand(&rng) % 1400);
		uint8_t type = (uint8_t)(1 + braid_test_rand(&rng) % 5);
		struct rte_mbuf *m = frame((uint16_t)(i % 4), 0x11111111, type, plen, &rng);
		struct rte_mbuf *keep = copy(m), *sealed, *back;

		sealed = seal1(s, m, 1000);
		CU_ASSERT_FATAL(sealed != NULL);
		CU_ASSERT(matches_openssl(prk, 0, keep, sealed));
		back = open1(o, sealed, 1000);
		CU_ASSERT_FATAL(back != NULL);
		CU_ASSERT(braid_meta(back)->flags & BRAID_META_F_OPENED);
		CU_ASSERT(back->pkt_len == keep->pkt_len &&
			  memcmp(rte_pktmbuf_mtod(back, void *), rte_pktmbuf_mtod(keep, void *),
				 keep->pkt_len) == 0);
		rte_pktmbuf_free(back);
		rte_pktmbuf_free(keep);
	}
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(os.opened == n);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	CU_ASSERT(rte_mempool_full(pool));
}

/* Every byte from the braid header on, flipped: nothing opens, and the
 * window did not move (the untouched frame still opens after). */
static void
test_tamper_every_byte(void)
{
	uint8_t prk[32] = { 7 };
	uint64_t rng = seed ^ 0x5a;
	struct braid_crypto_seal *s = mk_seal(prk, 0x22222222, UINT64_MAX);
	struct braid_crypto_open *o = mk_open(prk, 0x22222222, NULL);
	struct braid_crypto_open_stats os;
	struct rte_mbuf *sealed = seal1(s, frame(1, 0x22222222, BRAID_PKT_DATA, 300, &rng), 1);
	struct rte_mbuf *back;
	unsigned int opened = 0;

	CU_ASSERT_FATAL(sealed != NULL);
	for (uint32_t p = HDR_OFF; p < sealed->pkt_len; p++) {
		struct rte_mbuf *t = copy(sealed);
		struct rte_mbuf *r;

		rte_pktmbuf_mtod(t, uint8_t *)[p] ^= (uint8_t)(1u << (p % 8));
		r = open1(o, t, 1);
		if (r != NULL) {
			/* Only a frame that no longer looks sealed passes, in
			 * clear, for rx_decap to refuse (drop_unsealed). */
			CU_ASSERT(!(braid_meta(r)->flags & BRAID_META_F_OPENED));
			opened += (braid_meta(r)->flags & BRAID_META_F_OPENED) != 0;
			rte_pktmbuf_free(r);
		}
	}
	CU_ASSERT(opened == 0);
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(os.opened == 0);
	CU_ASSERT(os.drop_auth > 0);
	printf("\n  tampered: auth %" PRIu64 ", no_key %" PRIu64 ", malformed %" PRIu64
	       ", clear %" PRIu64 ", old_key %" PRIu64 "\n", os.drop_auth, os.drop_no_key,
	       os.drop_malformed, os.clear, os.drop_old_key);
	back = open1(o, copy(sealed), 1);
	CU_ASSERT(back != NULL && (braid_meta(back)->flags & BRAID_META_F_OPENED));
	rte_pktmbuf_free(back);
	/* ... once: a replay of it is refused. */
	CU_ASSERT(open1(o, sealed, 1) == NULL);
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(os.drop_replay == 1);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	CU_ASSERT(rte_mempool_full(pool));
}

/* Frames reordered within the window open once each; replays of any of
 * them, and frames below the window, do not. */
static void
test_replay_and_reorder(void)
{
	enum { N = 600 };
	uint8_t prk[32] = { 9 };
	uint64_t rng = seed ^ 0x77;
	struct braid_crypto_seal *s = mk_seal(prk, 0x33333333, UINT64_MAX);
	struct braid_crypto_open *o = mk_open(prk, 0x33333333, NULL);
	struct rte_mbuf *f[N];
	struct braid_crypto_open_stats os;
	unsigned int got = 0;

	for (unsigned int i = 0; i < N; i++) {
		f[i] = seal1(s, frame(2, 0x33333333, BRAID_PKT_DATA, 100, &rng), 1);
		CU_ASSERT_FATAL(f[i] != NULL);
	}
	for (unsigned int i = N - 1; i > 0; i--) {   /* shuffle */
		unsigned int j = (unsigned int)(braid_test_rand(&rng) % (i + 1));
		struct rte_mbuf *t = f[i];

		f[i] = f[j];
		f[j] = t;
	}
	for (unsigned int i = 0; i < N; i++) {
		struct rte_mbuf *dup = copy(f[i]), *r;

		r = open1(o, f[i], 1);
		got += r != NULL;
		rte_pktmbuf_free(r);
		CU_ASSERT(open1(o, dup, 1) == NULL);
	}
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(got == N);
	CU_ASSERT(os.drop_replay == N);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	CU_ASSERT(rte_mempool_full(pool));
}

/* Rekey every few frames: nothing lost across epochs; the old epoch is
 * accepted during the overlap, not after; a different key opens nothing. */
static void
test_rekey_and_keys(void)
{
	uint8_t prk[32] = { 3 }, other[32] = { 4 };
	uint64_t rng = seed ^ 0x99;
	struct braid_crypto_seal *s = mk_seal(prk, 0x44444444, 5000);
	struct braid_crypto_open *o = mk_open(prk, 0x44444444, NULL);
	struct braid_crypto_open *wrong = mk_open(other, 0x44444444, NULL);
	struct braid_crypto_open_stats os;
	struct braid_crypto_seal_stats ss;
	struct rte_mbuf *old = NULL;
	unsigned int got = 0;
	uint64_t now = 1000;

	for (unsigned int i = 0; i < 200; i++) {
		struct rte_mbuf *m = seal1(s, frame(0, 0x44444444, BRAID_PKT_DATA, 500, &rng), now);
		struct rte_mbuf *r;

		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT(open1(wrong, copy(m), now) == NULL);
		if (i == 3)
			old = copy(m);                 /* epoch 0, held back */
		r = open1(o, m, now);
		got += r != NULL;
		rte_pktmbuf_free(r);
		now += 1000;
	}
	braid_crypto_seal_stats(s, &ss);
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(got == 200);
	CU_ASSERT(ss.rekeys >= 10);
	CU_ASSERT(os.epoch_changes == ss.rekeys);
	/* epoch 0 is long gone (the receiver keeps e - 1 only) */
	CU_ASSERT(open1(o, old, now) == NULL);
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(os.drop_old_key + os.drop_no_key >= 1);
	braid_crypto_open_stats(wrong, &os);
	/* epochs 0 and 1 fail their tag; later ones have no key there */
	CU_ASSERT(os.opened == 0 && os.drop_auth > 0 && os.drop_auth + os.drop_no_key == 200);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	braid_crypto_open_free(wrong);
	CU_ASSERT(rte_mempool_full(pool));
}

/* The previous epoch opens during the overlap, and not after it. */
static void
test_overlap(void)
{
	uint8_t prk[32] = { 5 };
	uint64_t rng = seed ^ 0x31;
	struct braid_crypto_seal *s = mk_seal(prk, 0x55555555, 2000);
	struct braid_crypto_open *o = mk_open(prk, 0x55555555, NULL);
	struct rte_mbuf *e0a, *e0b, *e1, *r;
	uint64_t t0 = 1000000;

	e0a = seal1(s, frame(0, 0x55555555, BRAID_PKT_DATA, 1200, &rng), t0);
	e0b = seal1(s, frame(0, 0x55555555, BRAID_PKT_DATA, 1200, &rng), t0);
	e1 = seal1(s, frame(0, 0x55555555, BRAID_PKT_DATA, 100, &rng), t0);  /* rekeyed */
	CU_ASSERT_FATAL(e0a != NULL && e0b != NULL && e1 != NULL);
	CU_ASSERT(braid_crypto_seal_epoch(s) == 1);
	r = open1(o, e1, t0);                     /* epoch 1 becomes current */
	CU_ASSERT(r != NULL);
	rte_pktmbuf_free(r);
	r = open1(o, e0a, t0 + BRAID_CRYPTO_OVERLAP_NS / 2);
	CU_ASSERT(r != NULL);                     /* within the overlap */
	rte_pktmbuf_free(r);
	CU_ASSERT(open1(o, e0b, t0 + BRAID_CRYPTO_OVERLAP_NS + 1) == NULL);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	CU_ASSERT(rte_mempool_full(pool));
}

/* Clear frames pass untouched; HELLOs go to the ring; no key: dropped. */
static void
test_clear_hello_nokey(void)
{
	uint64_t rng = seed ^ 0x12;
	struct rte_ring *ring = rte_ring_create("t_hello", 64, SOCKET_ID_ANY, 0);
	struct braid_crypto_seal *s = mk_seal(NULL, 0, UINT64_MAX);
	struct braid_crypto_open *o = mk_open(NULL, 0, ring);
	struct braid_crypto_seal_stats ss;
	struct braid_crypto_open_stats os;
	struct rte_mbuf *m, *r;
	void *h;

	CU_ASSERT_FATAL(ring != NULL);
	/* no key yet: data is dropped, a HELLO passes in clear */
	CU_ASSERT(seal1(s, frame(0, 1, BRAID_PKT_DATA, 100, &rng), 1) == NULL);
	m = seal1(s, frame(0, 1, BRAID_PKT_HELLO, BRAID_HELLO_LEN, &rng), 1);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(!(rte_pktmbuf_mtod(m, uint8_t *)[HDR_OFF + 4] & BRAID_WIRE_F_SEALED));
	CU_ASSERT(open1(o, m, 1) == NULL);
	CU_ASSERT(rte_ring_count(ring) == 1);
	/* a braid frame in clear passes untouched, not opened */
	r = open1(o, frame(0, 1, BRAID_PKT_DATA, 100, &rng), 1);
	CU_ASSERT(r != NULL && !(braid_meta(r)->flags & BRAID_META_F_OPENED));
	rte_pktmbuf_free(r);
	braid_crypto_seal_stats(s, &ss);
	braid_crypto_open_stats(o, &os);
	CU_ASSERT(ss.drop_no_key == 1 && ss.clear_hello == 1);
	CU_ASSERT(os.hello == 1 && os.clear == 1);
	while (rte_ring_dequeue(ring, &h) == 0)
		rte_pktmbuf_free(h);
	braid_crypto_seal_free(s);
	braid_crypto_open_free(o);
	rte_ring_free(ring);
	CU_ASSERT(rte_mempool_full(pool));
}

/* ---- replay window vs a scalar model ---- */

static void
test_replay_window_model(void)
{
	enum { SPAN = 3 * BRAID_CRYPTO_REPLAY_WINDOW };
	static uint8_t seen[SPAN * 4];
	static struct braid_replay r;
	uint64_t rng = seed ^ 0x1234, top = 0;
	bool any = false;

	braid_replay_reset(&r);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t c;
		bool want;

		/* mostly near the top, some jumps, some far behind */
		switch (braid_test_rand(&rng) % 8) {
		case 0:
			c = top + braid_test_rand(&rng) % 3000;
			break;
		case 1:
			c = top > 5000 ? top - 4000 - braid_test_rand(&rng) % 1000 : 0;
			break;
		default:
			c = top + 4 - braid_test_rand(&rng) % 64;
		}
		if (c >= sizeof(seen))
			break;
		want = !seen[c] && (!any || c > top || top - c < BRAID_CRYPTO_REPLAY_WINDOW);
		CU_ASSERT_FATAL(braid_replay_check(&r, c) == want);
		if (braid_test_rand(&rng) % 2 && want) {   /* its tag verified */
			braid_replay_update(&r, c);
			seen[c] = 1;
			top = any ? RTE_MAX(top, c) : c;
			any = true;
		}
	}
}

/* ---- handshake ---- */

struct hs_side {
	struct braid_hello h;
	uint8_t last[BRAID_HELLO_LEN];
	bool keyed;
	uint8_t tx[32], rx[32];
	uint32_t peer;
};

/* Deliver @p msg from @p from to @p to; the answer, if any, in @p reply. */
static enum braid_hello_verdict
deliver(struct hs_side *to, const struct hs_side *from, const uint8_t *msg, bool *reply,
	uint8_t *out)
{
	struct braid_hello_result r;
	enum braid_hello_verdict v = braid_hello_receive(&to->h, from->h.session_id, msg,
							 BRAID_HELLO_LEN, &r);

	*reply = v == BRAID_HELLO_OK && r.reply;
	if (r.new_session) {
		to->keyed = true;
		to->peer = r.peer_session;
		memcpy(to->tx, r.tx_prk, 32);
		memcpy(to->rx, r.rx_prk, 32);
	}
	if (*reply)
		braid_hello_build(&to->h, r.echo, out);
	return v;
}

/* Run the exchange from a's first HELLO until nobody answers. */
static unsigned int
converse(struct hs_side *a, struct hs_side *b, uint8_t *first)
{
	uint8_t msg[BRAID_HELLO_LEN], out[BRAID_HELLO_LEN];
	struct hs_side *to = b, *from = a;
	unsigned int rounds = 0;
	bool reply = true;

	memcpy(msg, first, sizeof(msg));
	while (reply && rounds < 20) {
		struct hs_side *t;

		deliver(to, from, msg, &reply, out);
		memcpy(to->last, out, sizeof(out));
		memcpy(msg, out, sizeof(msg));
		t = to;
		to = from;
		from = t;
		rounds++;
	}
	return rounds;
}

static void
test_handshake(void)
{
	static struct hs_side a, b, b2, c;
	uint8_t psk[32] = { 1, 2, 3 }, other[32] = { 9 }, hello[BRAID_HELLO_LEN];
	uint8_t old_b[BRAID_HELLO_LEN], tampered[BRAID_HELLO_LEN], out[BRAID_HELLO_LEN];
	uint8_t saved_tx[32];
	unsigned int rounds;
	bool reply;

	CU_ASSERT_FATAL(braid_hello_init(&a.h, psk, 0xaaaa0001) == 0);
	CU_ASSERT_FATAL(braid_hello_init(&b.h, psk, 0xbbbb0001) == 0);
	/* a starts; the exchange ends by itself with both keyed */
	braid_hello_build(&a.h, NULL, hello);
	rounds = converse(&a, &b, hello);
	CU_ASSERT(rounds < 20);
	CU_ASSERT(a.keyed && b.keyed);
	CU_ASSERT(memcmp(a.tx, b.rx, 32) == 0 && memcmp(a.rx, b.tx, 32) == 0);
	CU_ASSERT(memcmp(a.tx, a.rx, 32) != 0);
	CU_ASSERT(a.peer == 0xbbbb0001 && b.peer == 0xaaaa0001);
	CU_ASSERT(!braid_hello_pending(&a.h) && !braid_hello_pending(&b.h));
	/* Record a HELLO of b's session, as an attacker would. */
	braid_hello_build(&b.h, a.h.challenge, old_b);
	memcpy(saved_tx, a.tx, 32);

	/* Tampered or foreign HELLOs: refused, nothing changes. */
	memcpy(tampered, old_b, sizeof(tampered));
	tampered[40] ^= 1;
	a.keyed = false;
	CU_ASSERT(deliver(&a, &b, tampered, &reply, out) == BRAID_HELLO_BAD_MAC);
	CU_ASSERT(!a.keyed && !reply);
	CU_ASSERT_FATAL(braid_hello_init(&c.h, other, 0xcccc0001) == 0);
	braid_hello_build(&c.h, a.h.challenge, hello);
	CU_ASSERT(deliver(&a, &c, hello, &reply, out) == BRAID_HELLO_BAD_MAC);
	CU_ASSERT(!a.keyed && a.h.cnt.drop_hello_mac == 2);

	/* b restarts (new nonce, new session): a follows... */
	CU_ASSERT_FATAL(braid_hello_init(&b2.h, psk, 0xbbbb0002) == 0);
	braid_hello_build(&b2.h, NULL, hello);
	rounds = converse(&b2, &a, hello);
	CU_ASSERT(rounds < 20);
	CU_ASSERT(a.keyed && a.peer == 0xbbbb0002 && b2.keyed);
	CU_ASSERT(memcmp(a.tx, b2.rx, 32) == 0 && memcmp(a.tx, saved_tx, 32) != 0);
	/* ... and the old session's HELLO, replayed, changes nothing (its
	 * echo is a spent challenge): answered at most, never taken. */
	a.keyed = false;
	CU_ASSERT(deliver(&a, &b, old_b, &reply, out) == BRAID_HELLO_OK);
	CU_ASSERT(!a.keyed && a.h.peer_session == 0xbbbb0002);
	CU_ASSERT(a.h.cnt.hello_stale >= 1);
	/* malformed */
	memcpy(tampered, old_b, sizeof(tampered));
	tampered[1] = 1;
	CU_ASSERT(braid_hello_receive(&a.h, 0xbbbb0001, tampered, BRAID_HELLO_LEN,
				      &(struct braid_hello_result){ 0 }) == BRAID_HELLO_MALFORMED);
	CU_ASSERT(braid_hello_receive(&a.h, 0xbbbb0001, old_b, BRAID_HELLO_LEN - 1,
				      &(struct braid_hello_result){ 0 }) == BRAID_HELLO_MALFORMED);
	/* the session id is covered by the MAC */
	CU_ASSERT(braid_hello_receive(&a.h, 0xbbbb0003, old_b, BRAID_HELLO_LEN,
				      &(struct braid_hello_result){ 0 }) == BRAID_HELLO_BAD_MAC);
	braid_hello_clear(&a.h);
	braid_hello_clear(&b.h);
	braid_hello_clear(&b2.h);
	braid_hello_clear(&c.h);
}

/* ---- PSK file ---- */

static void
test_psk_file(void)
{
	char path[] = "/tmp/braid_psk_XXXXXX", why[256];
	uint8_t psk[32];
	int fd = mkstemp(path);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n");
	fclose(f);
	chmod(path, 0600);
	CU_ASSERT(braid_crypto_psk_read(path, psk, why, sizeof(why)) == 0);
	CU_ASSERT(psk[0] == 0x00 && psk[1] == 0x11 && psk[31] == 0xff);
	chmod(path, 0644);
	CU_ASSERT(braid_crypto_psk_read(path, psk, why, sizeof(why)) == -EPERM);
	CU_ASSERT(strstr(why, "chmod 600") != NULL && strstr(why, "0011") == NULL);
	chmod(path, 0600);
	f = fopen(path, "w");
	fprintf(f, "0011zz\n");
	fclose(f);
	CU_ASSERT(braid_crypto_psk_read(path, psk, why, sizeof(why)) == -EINVAL);
	unlink(path);
	CU_ASSERT(braid_crypto_psk_read(path, psk, why, sizeof(why)) == -ENOENT);
}

static int
register_tests(void)
{
	static const char *const vdevs[] = { NULL };
	char err[256];
	CU_pSuite s;

	seed = braid_test_seed(0xc0ffee);
	printf("crypto: seed %" PRIu64 "\n", seed);
	if (braid_test_eal_init(vdevs, "0") != 0 || braid_meta_register() < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("t_crypto", 4096, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return -1;
	if (braid_crypto_dev_open("auto", SOCKET_ID_ANY, 2, &dev, err, sizeof(err)) != 0) {
		printf("crypto: %s\n", err);
		return -1;
	}
	printf("crypto: device %s (%s)\n", dev.name, dev.driver);
	s = CU_add_suite("crypto", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "HKDF: RFC 5869 vectors", test_hkdf_rfc5869) == NULL ||
	    CU_add_test(s, "AES-256-GCM known answer through cryptodev",
			test_gcm_known_answer) == NULL ||
	    CU_add_test(s, "seal vs OpenSSL, open round trip", test_seal_open_vs_openssl) == NULL ||
	    CU_add_test(s, "every tampered byte refused", test_tamper_every_byte) == NULL ||
	    CU_add_test(s, "replays refused, reorder accepted", test_replay_and_reorder) == NULL ||
	    CU_add_test(s, "rekeys lose nothing, wrong key opens nothing",
			test_rekey_and_keys) == NULL ||
	    CU_add_test(s, "old epoch only within the overlap", test_overlap) == NULL ||
	    CU_add_test(s, "clear, HELLO and no-key frames", test_clear_hello_nokey) == NULL ||
	    CU_add_test(s, "replay window vs scalar model", test_replay_window_model) == NULL ||
	    CU_add_test(s, "handshake: establish, restart, replay, forgery",
			test_handshake) == NULL ||
	    CU_add_test(s, "PSK file: format and permissions", test_psk_file) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("crypto", register_tests);
}
