/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole gateways through real PMDs (net_ring ports built on rings this test
 * owns), driven with a virtual clock (braid_gateway_step): deterministic.
 *
 *  - send side: LAN packets come out of three link ports as valid tunnel
 *    frames, parity in the configured ratio, class shares as weighted;
 *  - a pair: gateway A and B joined by three impaired links (loss, delay,
 *    jitter, duplication, a dead link), a LAN host behind B that answers
 *    ARP: every packet delivered once and in order; a peer restart.
 * After each, every mbuf is back in its pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <rte_mbuf.h>

#include "braid_clock.h"
#include "braid_config.h"
#include "braid_decap.h"
#include "braid_engine.h"
#include "braid_gateway.h"
#include "braid_meta.h"
#include "braid_wire.h"
#include "gw_pair.h"
#include "gw_priv.h"
#include "harness.h"

#define PROFILE_DIR BRAID_SOURCE_ROOT "/drivers-cfg"

static struct rte_mempool *host_pool;  /* the test's own LAN host packets */
static uint64_t seed;

static const struct braid_gateway_conf gw_tmpl = { .profile_dir = PROFILE_DIR };

/* Gateway config: side a is 10.9.<i>.1, side b is 10.9.<i>.2. */
static void
gw_opts(struct braid_test_gw_opts *o, uint32_t link_kbps, const char *video_fec,
	int arq_deadline_ms)
{
	*o = (struct braid_test_gw_opts){
		.name_pfx = "gw", .mbufs = 16383, .link_kbps = link_kbps,
		.video_fec = video_fec, .video_arq = arq_deadline_ms > 0,
		.video_deadline_ms = arq_deadline_ms > 0 ? (uint32_t)arq_deadline_ms : 100,
		.bulk_queue_packets = 4096,
		.extra = "\"fec\": {\"block_timeout_us\": 5000},\n"
			 " \"health\": {\"probe_interval_ms\": 50},",
		.lcore = 1,
	};
}

/* ---- a pair over impaired links -------------------------------------- */

/* What a's links carried toward b, decoded from copies (frames on the
 * wire are what doc/wire-format.md says). */
struct send_counts {
	uint64_t data[2], parity[2], frames_link[BRAID_TEST_LINKS], bad, arp, retx;
	uint64_t data_link[BRAID_TEST_LINKS];   /* video data and parity ... */
	const uint64_t *now;                    /* ... from this time on */
	uint64_t from_ns;
};

/* One run: its parameters; the stream's results are in the pair. */
struct pair_run {
	struct braid_test_pair *p;  /* impairment in p->imp */
	uint32_t link_kbps;       /* each link */
	bool mix;                 /* alternate video (5000) and bulk (80) */
	uint64_t stop_ns;         /* end the run here (0: when all delivered) */
	struct send_counts *observe;
	uint64_t n_pkts;          /* A -> B stream */
	uint64_t pkt_gap_ns;      /* CBR spacing */
	uint16_t dport;
	uint64_t restart_a_at;    /* 0: no restart */
	uint64_t fed_at_restart;  /* first host seq fed to the new gateway A */
	bool fec_timeout_auto;    /* the product's block timeout, not 5 ms */
	const char *psk_a, *psk_b; /* crypto.psk_file of each side (NULL: clear) */
	bool listener_b;          /* b's links learn their peer (a behind a NAT) */
	/* the gateway A a restart replaced, freed by run_pair_close() */
	struct braid_gateway *ga_old;
	struct braid_config *ca_old;
	struct braid_test_side sa_old;
	/* results */
	uint64_t fec_recovered, rtx_served;
};

static struct braid_decap *observer;    /* decodes copies of a->b frames */

static struct braid_decap *
peer_decap(const struct braid_config *cfg)
{
	struct braid_decap_conf dc = { .n_links = BRAID_TEST_LINKS, .n_classes = cfg->n_classes };

	/* b's view: its local is a's peer. */
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		dc.links[i].local_ip = cfg->links[i].peer_ip;
		dc.links[i].local_port = cfg->links[i].peer_port;
		dc.links[i].peer_ip = cfg->links[i].local_ip;
		dc.links[i].peer_port = cfg->links[i].local_port;
	}
	return braid_decap_create(&dc, SOCKET_ID_ANY);
}

static void
observe_frame(void *arg, struct rte_mbuf *m, int link)
{
	struct send_counts *sc = arg;
	struct rte_mbuf *c = rte_pktmbuf_copy(m, host_pool, 0, UINT32_MAX);
	struct braid_decap_info info;
	enum braid_decap_verdict ret;

	if (c == NULL) {
		sc->bad++;
		return;
	}
	memset(braid_meta(c), 0, sizeof(struct braid_meta));
	ret = braid_decap_one(observer, c, &info);
	if (ret == BRAID_DECAP_PUNT)
		sc->arp++;          /* gratuitous ARP / ARP on a link port */
	else if (ret != BRAID_DECAP_OK || info.link_id != link)
		sc->bad++;
	else if (info.flags & BRAID_WIRE_F_RETX)
		sc->retx++;
	else if (info.type == BRAID_PKT_DATA)
		sc->data[braid_meta(c)->class_id]++;
	else if (info.type == BRAID_PKT_PARITY)
		sc->parity[braid_meta(c)->class_id]++;
	if (ret == BRAID_DECAP_OK && info.link_id == link && braid_meta(c)->class_id == 0 &&
	    (sc->now == NULL || *sc->now >= sc->from_ns) &&
	    (info.type == BRAID_PKT_DATA || info.type == BRAID_PKT_PARITY))
		sc->data_link[link]++;
	sc->frames_link[link]++;
	rte_pktmbuf_free(c);
}

static void
dump_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, const struct braid_stat_labels *labels, uint64_t v)
{
	char flat[96];

	RTE_SET_USED(scope);
	braid_stats_name(flat, sizeof(flat), name, labels);
	if (v != 0)
		printf("    %s %s.%s = %" PRIu64 "\n", (const char *)arg, owner, flat, v);
}

/* Run the stream; the gateways stay open (run_pair_close()). */
static void
run_pair_keep(struct pair_run *pr, const char *fec, int deadline_ms, char ta, char tb)
{
	struct braid_test_pair *p = pr->p;
	struct braid_test_gw_opts o, ob;
	char xa[512], xb[512];
	uint64_t end;

	gw_opts(&o, pr->link_kbps, fec, deadline_ms);
	if (pr->fec_timeout_auto)
		o.extra = " \"health\": {\"probe_interval_ms\": 50},";
	ob = o;
	if (pr->psk_a != NULL) {
		snprintf(xa, sizeof(xa), "%s \"crypto\": {\"psk_file\": \"%s\"},", o.extra,
			 pr->psk_a);
		snprintf(xb, sizeof(xb), "%s \"crypto\": {\"psk_file\": \"%s\"},", o.extra,
			 pr->psk_b);
		o.extra = xa;
		ob.extra = xb;
	}
	ob.learn_peer = pr->listener_b;
	CU_ASSERT_FATAL(braid_test_pair_open(p, "", ta, tb, &o, &ob, &gw_tmpl) == 0);
	observer = peer_decap(p->ca);
	CU_ASSERT_FATAL(observer != NULL);
	p->mix = pr->mix;
	p->payload = pr->mix ? 0 : 1000;    /* mix: 200 + seq % 900 */
	p->dport = pr->dport;
	p->gap_ns = pr->pkt_gap_ns;
	p->observe = pr->observe != NULL ? observe_frame : NULL;
	p->arg = pr->observe;
	end = pr->stop_ns != 0 ? pr->stop_ns : pr->n_pkts * pr->pkt_gap_ns + 3000000000ULL;
	while (p->now + BRAID_TEST_STEP_NS < end &&
	       (p->delivered < pr->n_pkts || p->fed < pr->n_pkts)) {
		p->now += BRAID_TEST_STEP_NS;
		CU_ASSERT_FATAL(braid_test_pair_feed(p, pr->n_pkts) == 0);
		if (pr->restart_a_at != 0 && p->now >= pr->restart_a_at) {
			/* Peer restart: gateway A dies (frames in flight stay in
			 * flight; b still holds some of its mbufs, so it is
			 * freed at the end) and a new A with a new session
			 * takes over its links. */
			pr->restart_a_at = 0;
			pr->fed_at_restart = p->fed;
			pr->ga_old = p->ga;
			pr->ca_old = p->ca;
			pr->sa_old = p->a;
			CU_ASSERT_FATAL(braid_test_side_make(&p->a, "", (char)(ta - 'a' + 'A'), 1) == 0);
			p->ca = braid_test_gw_config(&p->a, &o);
			p->ga = braid_test_gw_create(&gw_tmpl, p->ca, 0xa0000002);
			CU_ASSERT_FATAL(p->ga != NULL);
		}
		braid_test_pair_step(p);
	}
	pr->fec_recovered = braid_gateway_counter(p->gb, "fec_decode", "pieces_recovered");
	pr->rtx_served = braid_gateway_counter(p->ga, "rtx", "served");
	printf("\n  pair: delivered %" PRIu64 "/%" PRIu64 ", dups %" PRIu64 ", ooo %" PRIu64
	       ", max latency %.1f ms, fec recovered %" PRIu64 ", rtx served %" PRIu64
	       ", arp replies %" PRIu64 ", t=%.2fs\n",
	       p->delivered, pr->n_pkts, p->dups, p->out_of_order,
	       (double)p->max_latency_ns / 1e6, pr->fec_recovered, pr->rtx_served,
	       p->arp_replies, (double)p->now / 1e9);
	if (getenv("BRAID_TEST_DUMP") != NULL) {
		braid_gateway_stats_walk(p->ga, dump_counter, (void *)"A");
		braid_gateway_stats_walk(p->gb, dump_counter, (void *)"B");
	}
}

/* Shut the pair of run_pair_keep() down: every mbuf back in its pool. */
static void
run_pair_close(struct pair_run *pr)
{
	struct braid_test_pair *p = pr->p;

	/* Each gateway holds some of the other's mbufs (FEC pieces, reorder
	 * buffers), and the pipes hold frames in flight: drain both, empty
	 * the links, then every pool must be full again. */
	braid_test_pair_drain(p);
	if (pr->ga_old != NULL) {
		braid_gateway_shutdown(pr->ga_old);
		braid_test_side_flush(&pr->sa_old);
	}
	if (getenv("BRAID_TEST_DUMP") != NULL)
		printf("    in use after flush: a %u, b %u, host %u\n",
		       braid_gateway_mbufs_in_use(p->ga), braid_gateway_mbufs_in_use(p->gb),
		       rte_mempool_in_use_count(host_pool));
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(p->ga), 0);
	CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(p->gb), 0);
	if (pr->ga_old != NULL) {
		CU_ASSERT_EQUAL(braid_gateway_mbufs_in_use(pr->ga_old), 0);
		braid_gateway_free(pr->ga_old);
		braid_config_free(pr->ca_old);
		braid_test_side_destroy(&pr->sa_old);
		pr->ga_old = NULL;
	}
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(host_pool), 0);
	braid_test_pair_close(p);
	braid_decap_free(observer);
	observer = NULL;
}

static void
run_pair(struct pair_run *pr, const char *fec, int deadline_ms, char ta, char tb)
{
	run_pair_keep(pr, fec, deadline_ms, ta, tb);
	run_pair_close(pr);
}

static struct pair_run *
new_run(double loss, uint64_t n)
{
	struct pair_run *pr = calloc(1, sizeof(*pr));

	CU_ASSERT_FATAL(pr != NULL);
	pr->p = braid_test_pair_new(host_pool, &seed);
	CU_ASSERT_FATAL(pr->p != NULL);
	pr->p->imp.loss[0] = pr->p->imp.loss[1] = loss;
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		pr->p->imp.delay_ns[i] = (uint64_t)(10 + 10 * i) * 1000000ULL;
	pr->p->imp.jitter_ns = 2000000;
	pr->n_pkts = getenv("BRAID_TEST_N") ? strtoull(getenv("BRAID_TEST_N"), NULL, 0) : n;
	if (getenv("BRAID_TEST_LOSS"))
		pr->p->imp.loss[0] = pr->p->imp.loss[1] = strtod(getenv("BRAID_TEST_LOSS"), NULL);
	pr->pkt_gap_ns = 1000000;      /* 1000 pps of 1 kB: 8 Mbit/s over 3 x 20 */
	pr->dport = 5000;
	pr->link_kbps = 20000;
	return pr;
}

static void
free_run(struct pair_run *pr)
{
	free(pr->p);
	free(pr);
}

/* Send side: LAN packets leave a's three link ports as valid tunnel
 * frames, video with RS(4,2) parity (2 per 4 data), bulk without,
 * spread over the links; all delivered. */
static void
test_send_side(void)
{
	struct send_counts sc = { .bad = 0 };
	struct pair_run *pr = new_run(0, 6000);

	pr->mix = true;
	pr->observe = &sc;
	pr->pkt_gap_ns = 200000;
	pr->link_kbps = 100000;
	run_pair(pr, "{\"k\": 4, \"m\": 2}", 200, 'a', 'b');
	printf("  send side: video %" PRIu64 " data + %" PRIu64 " parity, bulk %" PRIu64
	       ", frames per link %" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n", sc.data[0],
	       sc.parity[0], sc.data[1], sc.frames_link[0], sc.frames_link[1],
	       sc.frames_link[2]);
	CU_ASSERT_EQUAL(sc.bad, 0);
	/* No loss: nothing is NACKed (the reorder allowance covers the
	 * 20 ms delay spread of the links); the only resends are the two
	 * tail-loss probes after the stream ends. */
	CU_ASSERT(sc.retx <= 2);
	CU_ASSERT_EQUAL(sc.data[0], pr->n_pkts / 2);
	CU_ASSERT_EQUAL(sc.data[1], pr->n_pkts / 2);
	/* Blocks close on k = 4 or on the 5 ms timeout (shortened, still 2
	 * parity): at least 2 per 4, at most 2 per data packet. */
	CU_ASSERT(sc.parity[0] >= pr->n_pkts / 4 && sc.parity[0] <= pr->n_pkts);
	CU_ASSERT_EQUAL(sc.parity[1], 0);
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		CU_ASSERT(sc.frames_link[i] > pr->n_pkts / 6);
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	free_run(pr);
}

/* Saturated links (3 x 2 Mbit/s, 16 Mbit/s offered): the delivered byte
 * shares follow the class weights 3:1 within 1.5%. */
static void
test_send_shares(void)
{
	struct pair_run *pr = new_run(0, 8000);
	double share;

	pr->mix = true;
	pr->pkt_gap_ns = 500000;
	pr->link_kbps = 2000;
	pr->stop_ns = pr->n_pkts * pr->pkt_gap_ns;   /* both classes backlogged */
	run_pair(pr, "\"off\"", 0, 'c', 'd');
	share = (double)pr->p->rx_bytes[0] / (double)(pr->p->rx_bytes[0] + pr->p->rx_bytes[1]);
	printf("  shares: video %.4f of delivered bytes (weight share 0.75)\n", share);
	CU_ASSERT(share > 0.735 && share < 0.765);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	free_run(pr);
}

/* The peer restarts mid-stream (new session): the new stream is
 * delivered at once — the first packets of the new gateway within a
 * probe interval plus the link delay — and nothing is delivered twice. */
static void
test_pair_restart(void)
{
	struct pair_run *pr = new_run(0.02, 5000);
	uint64_t first_lat = 0, missing_after = 0;

	pr->restart_a_at = 2500000000ULL;
	pr->stop_ns = pr->n_pkts * pr->pkt_gap_ns + 2000000000ULL;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 300, 'k', 'l');
	for (uint64_t q = pr->fed_at_restart; q < pr->n_pkts; q++)
		missing_after += !pr->p->seen[q];
	for (uint64_t q = pr->fed_at_restart; q < pr->n_pkts; q++)
		if (pr->p->seen[q]) {
			first_lat = pr->p->lat_ns[q];
			break;
		}
	printf("  restart at seq %" PRIu64 ": first new packet after %.1f ms, %" PRIu64
	       " of the new session missing\n", pr->fed_at_restart, first_lat / 1e6,
	       missing_after);
	CU_ASSERT(pr->fed_at_restart > 0);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT_EQUAL(missing_after, 0);
	CU_ASSERT(pr->p->seen[pr->fed_at_restart]);
	CU_ASSERT(first_lat <= 50000000ULL + 30000000ULL + 2000000ULL);
	/* Only what the old gateway held when it died is gone. */
	CU_ASSERT(pr->p->delivered + 200 >= pr->n_pkts);
	free_run(pr);
}

/* >= 100 000 packets, 5% loss on every link both ways, FEC + ARQ: all of
 * them arrive, once, in order. */
static void
test_pair_100k(void)
{
	struct pair_run *pr = new_run(0.05, 100000);

	/* 2500 pps of 1 kB: 20 Mbit/s + parity over 3 x 20 Mbit/s, which
	 * link health halves while a link is degraded (loss > 5%). */
	pr->pkt_gap_ns = 400000;
	run_pair(pr, "{\"k\": 10, \"m\": 2}", 400, 'm', 'n');
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT(pr->fec_recovered > 0 && pr->rtx_served > 0);
	free_run(pr);
}

/* Hostile links: 2% of frames corrupted (bit flips, truncation) and 2%
 * more random or half-valid frames injected, both ways. Every bad frame
 * is a counted drop, nothing crashes or leaks, and FEC + ARQ still
 * deliver the stream complete and in order. */
static void
test_pair_garbage(void)
{
	struct pair_run *pr = new_run(0.01, 5000);

	pr->p->imp.corrupt = 0.02;
	pr->p->imp.garbage = 0.02;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 400, 'o', 'p');
	printf("  hostile links: %" PRIu64 " frames corrupted, %" PRIu64 " injected\n",
	       pr->p->imp.corrupted, pr->p->imp.injected);
	CU_ASSERT(pr->p->imp.corrupted > 100 && pr->p->imp.injected > 100);
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	free_run(pr);
}

/* ---- crypto ---------------------------------------------------------- */

/* A pre-shared key file (mode 0600) with key bytes @p fill; its path. */
static const char *
psk_file(char *path, size_t len, uint8_t fill)
{
	FILE *f;

	snprintf(path, len, "/tmp/braid_test_psk_%d_%02x", (int)getpid(), fill);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", (unsigned int)(fill + i) & 0xff);
	fprintf(f, "\n");
	fclose(f);
	chmod(path, 0600);
	return path;
}

/* Encrypted tunnel, 2% loss and 1% corrupted frames both ways: the
 * stream arrives complete, once, in order; every frame on the links
 * (but HELLOs) was sealed, every damaged one a counted drop. */
static void
test_pair_crypto(void)
{
	struct pair_run *pr = new_run(0.02, 6000);
	char pa[64];
	uint64_t sealed, opened, unsealed, bad;

	pr->psk_a = pr->psk_b = psk_file(pa, sizeof(pa), 0x10);
	pr->p->imp.corrupt = 0.01;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 2}", 300, 'q', 'r');
	sealed = braid_gateway_counter(pr->p->ga, "seal", "sealed");
	opened = braid_gateway_counter(pr->p->gb, "open", "opened");
	unsealed = braid_gateway_counter(pr->p->gb, "rx_decap", "drop_unsealed");
	bad = braid_gateway_counter(pr->p->gb, "open", "drop_auth") +
	      braid_gateway_counter(pr->p->gb, "open", "drop_malformed") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_bad_cksum") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_short") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_not_ipv4") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_bad_udp") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_foreign") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_bad_magic") +
	      braid_gateway_counter(pr->p->gb, "rx_decap", "drop_bad_version") +
	      braid_gateway_counter(pr->p->gb, "open", "drop_no_key") + unsealed;
	printf("  crypto: sealed %" PRIu64 ", opened %" PRIu64 ", damaged and refused %" PRIu64
	       " (corrupted %" PRIu64 "), sessions %" PRIu64 "\n", sealed, opened, bad,
	       pr->p->imp.corrupted, braid_gateway_counter(pr->p->gb, "ctrl", "sessions"));
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT(sealed > pr->n_pkts && opened > pr->n_pkts * 9 / 10);
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "open", "drop_auth") > 0);
	CU_ASSERT(braid_gateway_counter(pr->p->ga, "ctrl", "sessions") == 1);
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "ctrl", "sessions") == 1);
	CU_ASSERT(braid_gateway_counter(pr->p->ga, "ctrl", "drop_hello_mac") == 0);
	CU_ASSERT(bad <= pr->p->imp.corrupted);
	run_pair_close(pr);
	unlink(pa);
	free_run(pr);
}

/* Different keys: nothing crosses, and both sides say why. */
static void
test_pair_crypto_wrong_key(void)
{
	struct pair_run *pr = new_run(0, 1000);
	char pa[64], pb[64];

	pr->psk_a = psk_file(pa, sizeof(pa), 0x20);
	pr->psk_b = psk_file(pb, sizeof(pb), 0x21);
	pr->stop_ns = 2000000000ULL;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 2}", 300, 's', 't');
	CU_ASSERT_EQUAL(pr->p->delivered, 0);
	CU_ASSERT(braid_gateway_counter(pr->p->ga, "ctrl", "drop_hello_mac") > 0);
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "ctrl", "drop_hello_mac") > 0);
	CU_ASSERT(braid_gateway_counter(pr->p->ga, "ctrl", "sessions") == 0);
	CU_ASSERT(braid_gateway_counter(pr->p->ga, "seal", "drop_no_key") > 0);
	/* status says why (status.crypto.auth_failing and a warning) */
	CU_ASSERT(gw_hello_auth_failing(pr->p->ga->hello, braid_now_ns()));
	CU_ASSERT(gw_hello_auth_failing(pr->p->gb->hello, braid_now_ns()));
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "open", "opened") == 0);
	run_pair_close(pr);
	unlink(pa);
	unlink(pb);
	free_run(pr);
}

/* The sender restarts (a new session, new keys) mid-stream: the receiver
 * takes the new session after its handshake, the stream resumes, and
 * nothing is delivered twice. */
static void
test_pair_crypto_restart(void)
{
	struct pair_run *pr = new_run(0.02, 5000);
	uint64_t missing_after = 0;
	char pa[64];

	pr->psk_a = pr->psk_b = psk_file(pa, sizeof(pa), 0x30);
	pr->restart_a_at = 2500000000ULL;
	pr->stop_ns = pr->n_pkts * pr->pkt_gap_ns + 2000000000ULL;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 2}", 300, 'u', 'v');
	for (uint64_t q = pr->fed_at_restart + 100; q < pr->n_pkts; q++)
		missing_after += !pr->p->seen[q];
	printf("  crypto restart at seq %" PRIu64 ": %" PRIu64 " missing after the first 100 ms\n",
	       pr->fed_at_restart, missing_after);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT_EQUAL(missing_after, 0);
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "ctrl", "sessions") == 2);
	run_pair_close(pr);
	unlink(pa);
	free_run(pr);
}

/* a behind a NAT, b a listener ("peer": "learn"): the tunnel comes up
 * through the NAT, and when link 0's mapping is rebound and link 1's
 * address changes (a modem reconnect) mid-stream, b follows each with
 * the first authenticated frame from there: the stream arrives complete. */
static void
test_pair_nat(void)
{
	struct pair_run *pr = new_run(0.01, 6000);
	struct braid_test_impair *imp = &pr->p->imp;
	uint32_t ip;
	uint16_t port;
	char pa[64];

	pr->psk_a = pr->psk_b = psk_file(pa, sizeof(pa), 0x40);
	pr->listener_b = true;
	imp->nat = true;
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		imp->nat_ip[i] = braid_test_ip4(100, 64, (uint32_t)i, 10);
		imp->nat_port[i] = (uint16_t)(40000 + i);
	}
	imp->n_nat_steps = 2;
	imp->nat_steps[0].at_ns = 2000000000ULL;          /* link 0 rebound */
	imp->nat_steps[0].port_add[0] = 7;
	imp->nat_steps[1] = imp->nat_steps[0];
	imp->nat_steps[1].at_ns = 3500000000ULL;          /* link 1: a new address */
	imp->nat_steps[1].ip_add[1] = 1;
	imp->nat_steps[1].port_add[1] = 3;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 2}", 300, 'w', 'x');
	printf("  NAT: b's peers moved %" PRIu64 " times, %" PRIu64 " frames to old mappings dropped\n",
	       braid_gateway_counter(pr->p->gb, "ctrl", "peer_moves"), imp->nat_dropped);
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	/* 3 links found, then 2 moves */
	CU_ASSERT(braid_gateway_counter(pr->p->gb, "ctrl", "peer_moves") == 5);
	CU_ASSERT(gw_hello_peer(pr->p->gb->hello, 0, &ip, &port) &&
		  ip == braid_test_ip4(100, 64, 0, 10) && port == 40007);
	CU_ASSERT(gw_hello_peer(pr->p->gb->hello, 1, &ip, &port) &&
		  ip == braid_test_ip4(100, 64, 1, 11) && port == 40004);
	CU_ASSERT(gw_hello_peer(pr->p->gb->hello, 2, &ip, &port) &&
		  ip == braid_test_ip4(100, 64, 2, 10) && port == 40002);
	run_pair_close(pr);
	unlink(pa);
	free_run(pr);
}

/* Link 1's path carries frames of 1400 bytes at most, its port 1514: the
 * MTU probes find it (the link stays up and keeps carrying the stream's
 * smaller packets), the others pass. */
static void
test_pair_mtu_check(void)
{
	struct pair_run *pr = new_run(0.0, 6000);      /* 6 s: 3 MTU probes lost */
	struct braid_link_info li[BRAID_TEST_LINKS];

	pr->p->imp.max_frame[1] = 1400;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 2}", 300, 'y', 'z');
	for (int i = 0; i < BRAID_TEST_LINKS; i++)
		CU_ASSERT_FATAL(braid_link_info_get(pr->p->ga->link, (uint16_t)i, &li[i]) == 0);
	printf("  MTU check: links %d %d %d (1 ok, 2 too small), link 1 state %d, %" PRIu64
	       " MTU probes lost\n", li[0].mtu, li[1].mtu, li[2].mtu, li[1].state,
	       li[1].mtu_probes_lost);
	CU_ASSERT(li[0].mtu == BRAID_LINK_MTU_OK && li[2].mtu == BRAID_LINK_MTU_OK);
	CU_ASSERT(li[1].mtu == BRAID_LINK_MTU_TOO_SMALL);
	CU_ASSERT(li[1].state == BRAID_LINK_UP && li[1].probes_lost == 0);
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	run_pair_close(pr);
	free_run(pr);
}

/* Big links: 3 x 100 Gbit/s configure (buffers and budgets sized from
 * the capacity stay within their libraries' limits). */
static void
test_big_links(void)
{
	struct braid_test_gw_opts o;
	struct braid_test_side s;
	struct braid_config *c;
	struct braid_gateway *gw;

	CU_ASSERT_FATAL(braid_test_side_make(&s, "", 'q', 1) == 0);
	gw_opts(&o, 100000000, "{\"k\": 10, \"m\": 2}", 200);
	c = braid_test_gw_config(&s, &o);
	CU_ASSERT_FATAL(c != NULL);
	gw = braid_test_gw_create(&gw_tmpl, c, 0x77);
	CU_ASSERT_PTR_NOT_NULL(gw);
	if (gw != NULL) {
		CU_ASSERT_EQUAL(braid_gateway_shutdown(gw), 0);
		braid_gateway_free(gw);
	}
	braid_config_free(c);
	braid_test_side_destroy(&s);
}

/* Loss within FEC capacity: RS(10,4), 2% random loss, no ARQ. */
static void
test_pair_fec_only(void)
{
	struct pair_run *pr = new_run(0.02, 5000);

	run_pair(pr, "{\"k\": 10, \"m\": 4}", 0, 'e', 'f');
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT(pr->fec_recovered > 0);
	CU_ASSERT_EQUAL(pr->rtx_served, 0);
	free_run(pr);
}

/* "fec": "auto" on a clean path (and the product's block timeout): the
 * class starts at 10+2 and, once the peer has reported no loss for the
 * hold time, sends one parity per block of 12 (1000 packets/s, 12 ms
 * blocks): over 8 s about 3 s at 20 % and 5 s at 8 %, none lost. */
static void
test_pair_fec_auto(void)
{
	struct pair_run *pr = new_run(0.0, 8000);
	struct send_counts sc;

	memset(&sc, 0, sizeof(sc));
	pr->observe = &sc;
	pr->fec_timeout_auto = true;
	run_pair(pr, "\"auto\"", 400, 'k', 'l');
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	printf("\n  video: %" PRIu64 " data, %" PRIu64 " parity\n", sc.data[0], sc.parity[0]);
	CU_ASSERT(sc.parity[0] > 0);
	CU_ASSERT(sc.parity[0] * 100 < sc.data[0] * 16);   /* 10+2 would be 20 % */
	free_run(pr);
}

/* Links in time: link 2 is 400 ms away, the video deadline 200 ms. Once
 * link health has measured it (its first RTT sample, 0.8 s; until then
 * every link is in time) the class keeps off it: nothing of it on link 2
 * from 1.5 s on, nothing is lost, the other links carry it in time. Then
 * with links of 3 Mbit/s the two in time cannot carry 8 Mbit/s: the class
 * is in shortfall (counted, in status), not silently late. */
static void
test_pair_links_in_time(void)
{
	struct pair_run *pr = new_run(0.0, 4000);
	struct send_counts sc;
	const struct gw_fit_class *f;

	memset(&sc, 0, sizeof(sc));
	pr->observe = &sc;
	sc.now = &pr->p->now;
	sc.from_ns = 1500000000ULL;
	pr->p->imp.delay_ns[2] = 400000000ULL;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 1}", 200, 'm', 'n');
	f = gw_fit_class(pr->p->ga, 0);
	printf("  video frames per link %" PRIu64 "/%" PRIu64 "/%" PRIu64
	       ", links in time 0x%x, shortfalls %" PRIu64 "\n", sc.data_link[0],
	       sc.data_link[1], sc.data_link[2], f->mask, f->shortfalls);
	CU_ASSERT_EQUAL(f->mask, 0x3);
	CU_ASSERT_EQUAL(sc.data_link[2], 0);
	CU_ASSERT(sc.data_link[0] > pr->n_pkts / 8 && sc.data_link[1] > pr->n_pkts / 8);
	CU_ASSERT_EQUAL(f->shortfalls, 0);
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT(pr->p->max_latency_ns < 200000000ULL);
	run_pair_close(pr);
	free_run(pr);

	pr = new_run(0.0, 4000);
	pr->link_kbps = 3000;
	pr->p->imp.delay_ns[2] = 400000000ULL;
	pr->stop_ns = 5000000000ULL;
	run_pair_keep(pr, "{\"k\": 8, \"m\": 1}", 200, 'o', 'p');
	f = gw_fit_class(pr->p->ga, 0);
	printf("  3 Mbit/s links: links in time 0x%x, shortfalls %" PRIu64 ", now %d, "
	       "delivered %" PRIu64 "/%" PRIu64 "\n", f->mask, f->shortfalls, f->shortfall,
	       pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(f->mask, 0x3);
	CU_ASSERT(f->shortfalls >= 1);
	CU_ASSERT(f->shortfall);
	run_pair_close(pr);
	free_run(pr);
}

/* The automatic FEC's room on the links: the priority class takes what
 * it sends, the others what they send up to their DRR share of the rest;
 * the share of classes that send nothing is the class's own. */
static void
test_fec_auto_room(void)
{
	uint32_t w[3] = { 1, 6, 2 };
	double t[3] = { 2000, 9000, 20000 };

	/* bulk saturating: its share of 28 Mbit/s is 2/8 = 7 Mbit/s */
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 1, 3, t, w, 0), 21000, 1e-6);
	t[2] = 3000;   /* bulk under its share: what it sends */
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 1, 3, t, w, 0), 25000, 1e-6);
	t[2] = 0;      /* bulk idle */
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 1, 3, t, w, 0), 28000, 1e-6);
	/* the priority class itself: all of it; no priority class */
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 0, 3, t, w, 0), 30000, 1e-6);
	t[2] = 20000;  /* class 0 a DRR class: 2000 of its 1/9, bulk 2/9 */
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 1, 3, t, w, -1),
			       30000 - 2000 - 30000 * 2.0 / 9, 1e-6);
	/* the priority class takes it all */
	t[0] = 40000;
	CU_ASSERT_DOUBLE_EQUAL(gw_fec_auto_room_kbps(30000, 1, 3, t, w, 0), 0, 1e-6);
}

/* ARQ with a deadline > 2 RTT: 10% random loss on every link (both ways:
 * NACKs and retransmissions are lost too) loses nothing. */
static void
test_pair_arq_10pct(void)
{
	struct pair_run *pr = new_run(0.10, 5000);

	run_pair(pr, "\"off\"", 400, 'g', 'h');
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	CU_ASSERT(pr->rtx_served > 0);
	CU_ASSERT(pr->p->max_latency_ns <= 400000000ULL + 30000000ULL);
	free_run(pr);
}

/* A link dies for 2 s: FEC + ARQ + health move the stream to the others. */
static void
test_pair_link_death(void)
{
	struct pair_run *pr = new_run(0.01, 5000);

	pr->p->imp.dead_link = 1;
	pr->p->imp.dead_from = 1500000000ULL;
	pr->p->imp.dead_to = 3500000000ULL;
	run_pair(pr, "{\"k\": 8, \"m\": 2}", 500, 'i', 'j');
	CU_ASSERT_EQUAL(pr->p->delivered, pr->n_pkts);
	CU_ASSERT_EQUAL(pr->p->dups, 0);
	CU_ASSERT_EQUAL(pr->p->out_of_order, 0);
	free_run(pr);
}

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0-1") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	braid_config_set_profile_dir(PROFILE_DIR);
	seed = braid_test_seed(0x9a7e);
	printf("\n  seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	host_pool = braid_pktmbuf_pool_create("host", 32767, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      SOCKET_ID_ANY);
	if (host_pool == NULL)
		return -1;
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("gateway", suite_init, NULL);

	if (s == NULL ||
	    CU_add_test(s, "send side through net_ring ports", test_send_side) == NULL ||
	    CU_add_test(s, "class shares on saturated links", test_send_shares) == NULL ||
	    CU_add_test(s, "pair: loss within FEC capacity", test_pair_fec_only) == NULL ||
	    CU_add_test(s, "pair: 10% loss repaired by ARQ", test_pair_arq_10pct) == NULL ||
	    CU_add_test(s, "pair: fec auto on a clean path", test_pair_fec_auto) == NULL ||
	    CU_add_test(s, "pair: links in time, shortfall", test_pair_links_in_time) == NULL ||
	    CU_add_test(s, "fec auto: room left by the other classes", test_fec_auto_room) == NULL ||
	    CU_add_test(s, "pair: a link dies and returns", test_pair_link_death) == NULL ||
	    CU_add_test(s, "pair: peer restart mid-stream", test_pair_restart) == NULL ||
	    CU_add_test(s, "pair: 100 000 packets, 5% loss", test_pair_100k) == NULL ||
	    CU_add_test(s, "pair: corrupted and random frames", test_pair_garbage) == NULL ||
	    CU_add_test(s, "pair: encrypted, loss and damage", test_pair_crypto) == NULL ||
	    CU_add_test(s, "pair: different keys", test_pair_crypto_wrong_key) == NULL ||
	    CU_add_test(s, "pair: encrypted, peer restart", test_pair_crypto_restart) == NULL ||
	    CU_add_test(s, "pair: behind a NAT, rebinding and a new address", test_pair_nat) == NULL ||
	    CU_add_test(s, "pair: a link whose path MTU is smaller", test_pair_mtu_check) == NULL ||
	    CU_add_test(s, "100 Gbit/s links", test_big_links) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("gateway", register_tests);
}
