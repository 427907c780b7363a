/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perf_pipeline: cycles per packet and Mpps of braid's two chains, whole,
 * beside an io-forward baseline measured the same way in the same run.
 *
 *   send:    LAN RX -> classify -> sched -> fec -> rtx -> encap -> link TX
 *   receive: link RX -> decap -> fec_decode -> reorder -> LAN TX
 *
 * Two gateways (A sends, B receives) are built from a JSON config on
 * net_ring ports whose rings this program owns, everything placed on the
 * calling lcore and run with braid_gateway_step() at the engine clock
 * (braid_now_ns(): real time, so pacing, FEC block timeouts and TX drain
 * timers behave as in the daemon). Three links of 100 Gbit/s each: pacing
 * is never the limit. One traffic class takes every packet (UDP to
 * 5000-5999), FEC off or RS(10,2), ARQ off or on (retransmit cache of 4096
 * packets, full and overwriting: the steady state at these rates).
 *
 * A round feeds --round frames (default 128) into A's LAN RX ring
 * (untimed: allocation and a template copy, so the frames are in cache as
 * after a NIC's DMA into LLC), then times A's steps until its input is
 * empty and a step moves nothing. The frames A put on its link TX rings
 * are copied, untimed, into flat mbufs on B's link RX rings (as a NIC
 * receives them), and the originals are freed, timed and charged to A:
 * a NIC's TX completion frees them on the gateway's core (net_null's TX
 * does the same). B's steps are timed the same way; what B delivers to its
 * LAN TX ring is counted (untimed) and freed (timed, charged to B). B's
 * probe replies go back to A untimed, so link health sees a clean pair and
 * every link stays up. Each step also polls the idle chain and the control
 * stage, as a single-core gateway does: the "idle step" column is that
 * fixed cost per step. Rounds of 128 keep each round's allocations and
 * frees within the 256-mbuf per-lcore mempool caches, as a NIC's RX refill
 * and TX completion (32 at a time) do; rounds of 1024 overflow them and
 * measure mempool ring traffic instead (ARQ on: twice the cycles).
 *
 * Baseline: the io-forward loop of testpmd (rte_eth_rx_burst of 32 from a
 * net_ring port whose ring is pre-filled, rte_eth_tx_burst to a net_ring
 * port) on the same frames, the sink ring then emptied (untimed) and its
 * mbufs freed (timed): the same sink as braid's. One baseline repetition
 * runs before each repetition of braid, so both see the same noise; the
 * ratio is braid's cycles per packet over that baseline's (medians). For
 * reference, once per frame size: io-forward into net_null (whose TX frees
 * every mbuf: testpmd's usual sink).
 *
 * Each figure is reported as best and median of --reps repetitions of
 * --packets packets (the box is shared). At the end of each case every
 * packet fed must have been delivered once and every mbuf must be back in
 * its pool, otherwise the program fails (exit 1).
 *
 *   perf_pipeline [EAL args] [-- --packets N --reps N --round N --case I
 *                  --profiles DIR --json --verbose]
 *
 * Without EAL arguments: -l 0 --no-huge -m 512 --no-shconf --no-pci.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "braid_clock.h"
#include "braid_config.h"
#include "braid_engine.h"
#include "braid_gateway.h"
#include "braid_meta.h"
#include "braid_stage.h"
#include "gw_pair.h"
#include "perf_common.h"

#define N_LINKS BRAID_TEST_LINKS
#define RING_SZ 8192
#define ROUND_MAX 1024          /* frames fed per round, at most */
#define MAX_STEPS 100000        /* a step loop that long is a stall */
#define MAX_REPS 101
#define LINK_KBPS 100000000u    /* 100 Gbit/s: the config's maximum */
#define RTX_PACKETS 4096
#define GW_MBUFS 16383
#define POOL_MBUFS 16383

struct pb_opts {
	uint64_t packets;       /* per repetition, a multiple of round */
	unsigned int round;     /* frames fed per round */
	unsigned int reps;
	int only;               /* run only this case (-1: all) */
	bool verbose;           /* every non-zero counter of both gateways */
	bool json;
	char profiles[PATH_MAX];
};

struct pb_case {
	uint16_t frame_len;
	uint8_t fec_k, fec_m;   /* 0, 0: FEC off */
	bool arq;
	bool crypto;            /* crypto.psk_file: the seal and open stages */
};

struct figure {
	double best, median;    /* cycles per packet */
};

struct pb_result {
	struct pb_case c;
	struct figure send, recv, base;
	double idle_step_a, idle_step_b;   /* cycles per empty step */
	double frames_per_pkt;             /* link frames per LAN packet */
	uint64_t fed, delivered;
	uint64_t recovered, rtx_served;    /* B's FEC recoveries, A's retransmissions */
};

struct pb_base {
	uint16_t frame_len;
	struct figure ring, null;
};

/* Traffic state of one case (or of the baseline). */
struct flow {
	struct rte_mempool *pool;
	uint8_t tmpl[RTE_ETHER_MAX_LEN];
	uint16_t len;
	uint64_t seq;
};

/* Frames a gateway sent, freed in its timed region (a NIC's TX completion
 * frees them on the gateway's core; net_null's TX does the same). */
#define SINK_MAX (4 * RING_SZ)
struct sink {
	unsigned int n;
	struct rte_mbuf *m[SINK_MAX];
};

static struct rte_mempool *lan_pool;    /* frames fed to A and to the baseline */
static struct rte_mempool *wire_pool;   /* frames "received" by B's link ports */
static uint16_t fwd_src, fwd_dst, fwd_null;
static struct rte_ring *fwd_src_r, *fwd_dst_r, *fwd_dummy_r, *fwd_dummy_t;
static unsigned int lcore;

/* ---- frames ---------------------------------------------------------- */

/* UDP from host 192.168.1.2 (behind A) to 192.168.2.2 (behind B), to A's
 * LAN MAC; @p len bytes of Ethernet frame (no FCS). */
static void
flow_init(struct flow *f, struct rte_mempool *mp, uint16_t len)
{
	const size_t hdr = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_udp_hdr);

	memset(f, 0, sizeof(*f));
	f->pool = mp;
	f->len = len;
	braid_test_host_hdr(f->tmpl, 1, 5000, (uint16_t)(len - hdr));
	for (uint16_t i = (uint16_t)hdr; i < len; i++)
		f->tmpl[i] = (uint8_t)(i * 31);
}

/* @p n frames into @p r (untimed). @return frames enqueued (all, or the
 * program stops: a short count would make the figures meaningless). */
static unsigned int
flow_feed(struct flow *f, struct rte_ring *r, unsigned int n)
{
	const size_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	struct rte_mbuf *m[ROUND_MAX];
	unsigned int k;

	if (n > ROUND_MAX || rte_pktmbuf_alloc_bulk(f->pool, m, n) != 0) {
		fprintf(stderr, "perf_pipeline: pool %s exhausted (%u in use)\n",
			f->pool->name, rte_mempool_in_use_count(f->pool));
		exit(1);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m[i], f->len);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4);

		rte_memcpy(d, f->tmpl, f->len);
		/* several flows of the class; the sequence in the payload */
		udp->src_port = rte_cpu_to_be_16((uint16_t)(40000 + f->seq % 64));
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(5000 + f->seq % 1000));
		memcpy(udp + 1, &f->seq, sizeof(f->seq));
		f->seq++;
	}
	k = rte_ring_enqueue_burst(r, (void **)m, n, NULL);
	if (k != n) {
		fprintf(stderr, "perf_pipeline: input ring full\n");
		exit(1);
	}
	return k;
}

static void
sink_put(struct sink *s, struct rte_mbuf **m, unsigned int n)
{
	if (s == NULL) {
		rte_pktmbuf_free_bulk(m, n);
		return;
	}
	if (s->n + n > SINK_MAX) {
		fprintf(stderr, "perf_pipeline: sink full\n");
		exit(1);
	}
	memcpy(&s->m[s->n], m, n * sizeof(m[0]));
	s->n += n;
}

/* @return TSC cycles of freeing what @p s holds. */
static uint64_t
sink_free(struct sink *s)
{
	uint64_t t0 = rte_rdtsc_precise();

	rte_pktmbuf_free_bulk(s->m, s->n);
	s->n = 0;
	return rte_rdtsc_precise() - t0;
}

/* ---- the gateway pair -------------------------------------------------- */

/* The pair: gp's sides and gateways, the stream fed by flow_feed(), and
 * the sinks where the frames each gateway sent are freed, timed. */
struct pair {
	struct braid_test_pair *gp;
	struct flow flow;
	unsigned int round;
	uint64_t fed, delivered, frames_ab;
	uint64_t frames_link[N_LINKS];    /* since the last reset */
	struct sink sink_a, sink_b;
};

/* The fixture's frames done with: into the sending (or the LAN host's)
 * gateway's sink. */
static void
to_sink(void *arg, int side, struct rte_mbuf **m, unsigned int n)
{
	struct pair *p = arg;

	sink_put(side == 0 ? &p->sink_a : &p->sink_b, m, n);
}

/* The pre-shared key of the crypto cases (written at start, removed at exit). */
static char psk_path[64];

static int
psk_write(void)
{
	FILE *f;

	snprintf(psk_path, sizeof(psk_path), "/tmp/perf_pipeline_psk_%d", (int)getpid());
	f = fopen(psk_path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%s\n", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	fclose(f);
	return chmod(psk_path, 0600);
}

static int
pair_open(struct pair *p, unsigned int idx, const struct pb_case *pc,
	  const struct pb_opts *o)
{
	const struct braid_gateway_conf gc = { .profile_dir = o->profiles };
	struct braid_test_gw_opts go = {
		.name_pfx = "p", .mbufs = GW_MBUFS, .link_kbps = LINK_KBPS,
		.video_arq = pc->arq, .video_deadline_ms = 200,
		.extra = "\"retransmit\": {\"window_ms\": 1000, \"max_packets\": "
			 RTE_STR(RTX_PACKETS) "},",
		.lcore = lcore,
	};
	char fec[64], extra[512];

	if (pc->crypto) {
		snprintf(extra, sizeof(extra), "%s \"crypto\": {\"psk_file\": \"%s\"},",
			 go.extra, psk_path);
		go.extra = extra;
	}

	if (pc->fec_k != 0)
		snprintf(fec, sizeof(fec), "{\"k\": %u, \"m\": %u}", pc->fec_k, pc->fec_m);
	else
		snprintf(fec, sizeof(fec), "\"off\"");
	go.video_fec = fec;
	p->gp = braid_test_pair_new(lan_pool, NULL);
	if (p->gp == NULL)
		return -1;
	/* B's link ports "receive" flat copies from wire_pool; every frame
	 * a gateway sent is freed in its timed region. */
	p->gp->ring_flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
	p->gp->wire_pool = wire_pool;
	p->gp->release = to_sink;
	p->gp->arg = p;
	return braid_test_pair_open(p->gp, "p", (char)('a' + idx), (char)('A' + idx),
				    &go, &go, &gc);
}

/* Everything between and around the two gateways (untimed), then each
 * gateway's sink is freed, timed: @return the cycles, added to A's and
 * B's figures when @p ca / @p cb are not NULL. */
static void
exchange(struct pair *p, uint64_t *ca, uint64_t *cb)
{
	struct braid_test_pair *gp = p->gp;
	uint64_t fa, fb, moved[N_LINKS], rx = gp->rx_frames;

	memcpy(moved, gp->moved[0], sizeof(moved));
	braid_test_pair_exchange(gp);
	if (gp->copy_failed != 0 || gp->imp.lost[0] + gp->imp.lost[1] != 0) {
		fprintf(stderr, "perf_pipeline: %s\n", gp->copy_failed != 0 ?
			"wire pool exhausted" : "link RX ring full");
		exit(1);
	}
	for (int i = 0; i < N_LINKS; i++) {
		p->frames_link[i] += gp->moved[0][i] - moved[i];
		p->frames_ab += gp->moved[0][i] - moved[i];
	}
	p->delivered += gp->rx_frames - rx;
	fa = sink_free(&p->sink_a);
	fb = sink_free(&p->sink_b);
	if (ca != NULL)
		*ca += fa;
	if (cb != NULL)
		*cb += fb;
}

static bool
rings_empty(struct rte_ring *const *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!rte_ring_empty(r[i]))
			return false;
	return true;
}

/* Step @p gw until its inputs are empty and a step moves nothing.
 * @return TSC cycles taken. */
static uint64_t
steps(struct braid_gateway *gw, struct rte_ring *const *in, unsigned int n_in)
{
	unsigned int moved, it = 0;
	uint64_t t0, t1;

	t0 = rte_rdtsc_precise();
	do
		moved = braid_gateway_step(gw, braid_now_ns());
	while ((moved != 0 || !rings_empty(in, n_in)) && ++it < MAX_STEPS);
	t1 = rte_rdtsc_precise();
	if (it >= MAX_STEPS) {
		fprintf(stderr, "perf_pipeline: gateway stalled (%u steps)\n", it);
		exit(1);
	}
	return t1 - t0;
}

/* One round: p->round frames through A, across, through B. */
static void
round_run(struct pair *p, uint64_t *cyc_a, uint64_t *cyc_b)
{
	uint64_t ca = 0, cb = 0;

	memset(p->frames_link, 0, sizeof(p->frames_link));
	p->fed += flow_feed(&p->flow, p->gp->a.lan_rx, p->round);
	ca += steps(p->gp->ga, &p->gp->a.lan_rx, 1);
	exchange(p, &ca, &cb);
	cb += steps(p->gp->gb, p->gp->b.wan_rx, N_LINKS);
	exchange(p, &ca, &cb);
	if (cyc_a != NULL)
		*cyc_a += ca;
	if (cyc_b != NULL)
		*cyc_b += cb;
}

/* Step both without new input until everything fed was delivered (or
 * @p max_ns passed). @return true if all delivered. */
static bool
settle(struct pair *p, uint64_t max_ns)
{
	const uint64_t end = braid_now_ns() + max_ns;

	while (braid_now_ns() < end) {
		braid_gateway_step(p->gp->ga, braid_now_ns());
		exchange(p, NULL, NULL);
		braid_gateway_step(p->gp->gb, braid_now_ns());
		exchange(p, NULL, NULL);
		if (p->delivered >= p->fed)
			return p->delivered == p->fed;
	}
	return false;
}

/* Mean cycles of a step with nothing to do. */
static double
idle_step(struct braid_gateway *gw)
{
	const unsigned int n = 2000;
	uint64_t best = UINT64_MAX;

	for (unsigned int r = 0; r < 5; r++) {
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned int i = 0; i < n; i++)
			braid_gateway_step(gw, braid_now_ns());
		best = RTE_MIN(best, rte_rdtsc_precise() - t0);
	}
	return (double)best / n;
}

/* ---- gateway counters ------------------------------------------------ */

static void
dump_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, const struct braid_stat_labels *labels, uint64_t v)
{
	char flat[96];

	RTE_SET_USED(scope);
	braid_stats_name(flat, sizeof(flat), name, labels);
	if (v != 0)
		fprintf(stderr, "  %s %s.%s = %" PRIu64 "\n", (const char *)arg, owner,
			flat, v);
}

/* ---- the io-forward baseline ------------------------------------------ */

static int
port_start(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start(port) != 0)
		return -1;
	return 0;
}

static int
baseline_open(void)
{
	int p;

	fwd_src_r = rte_ring_create("pb_fwd_src", RING_SZ, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	fwd_dst_r = rte_ring_create("pb_fwd_dst", RING_SZ, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	fwd_dummy_r = rte_ring_create("pb_fwd_dr", 64, SOCKET_ID_ANY, 0);
	fwd_dummy_t = rte_ring_create("pb_fwd_dt", 64, SOCKET_ID_ANY, 0);
	if (fwd_src_r == NULL || fwd_dst_r == NULL || fwd_dummy_r == NULL ||
	    fwd_dummy_t == NULL)
		return -1;
	p = rte_eth_from_rings("pb_fwd_src", &fwd_src_r, 1, &fwd_dummy_t, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	fwd_src = (uint16_t)p;
	p = rte_eth_from_rings("pb_fwd_dst", &fwd_dummy_r, 1, &fwd_dst_r, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	fwd_dst = (uint16_t)p;
	/* net_null as the sink: its TX frees every mbuf (testpmd's sink) */
	if (rte_vdev_init("net_null_pb", "size=64,copy=0") != 0 ||
	    rte_eth_dev_get_port_by_name("net_null_pb", &fwd_null) != 0)
		return -1;
	if (port_start(fwd_src, lan_pool) != 0 || port_start(fwd_dst, lan_pool) != 0 ||
	    port_start(fwd_null, lan_pool) != 0)
		return -1;
	return 0;
}

static void
baseline_close(void)
{
	uint16_t ports[] = { fwd_src, fwd_dst, fwd_null };

	for (unsigned int i = 0; i < RTE_DIM(ports); i++) {
		rte_eth_dev_stop(ports[i]);
		rte_eth_dev_close(ports[i]);
	}
	rte_vdev_uninit("net_null_pb");
	braid_test_ring_free_all(fwd_src_r);
	braid_test_ring_free_all(fwd_dst_r);
	rte_ring_free(fwd_src_r);
	rte_ring_free(fwd_dst_r);
	rte_ring_free(fwd_dummy_r);
	rte_ring_free(fwd_dummy_t);
}

/* testpmd's io-forward loop over @p packets frames into @p dst. Into the
 * ring port, the frames are then taken off its ring (untimed) and freed
 * (timed), as braid's output is: the same sink. @return cycles per packet. */
static double
baseline_rep(struct flow *f, uint16_t dst, uint64_t packets, unsigned int round)
{
	static struct sink sk;
	struct rte_mbuf *b[BRAID_BURST];
	uint64_t cyc = 0, done = 0;

	while (done < packets) {
		uint64_t t0;
		uint16_t n, k;

		done += flow_feed(f, fwd_src_r, round);
		t0 = rte_rdtsc_precise();
		do {
			n = rte_eth_rx_burst(fwd_src, 0, b, BRAID_BURST);
			k = rte_eth_tx_burst(dst, 0, b, n);
			if (unlikely(k < n))
				rte_pktmbuf_free_bulk(&b[k], n - k);
		} while (n != 0);
		cyc += rte_rdtsc_precise() - t0;
		while ((n = (uint16_t)rte_ring_dequeue_burst(fwd_dst_r, (void **)b,
							     BRAID_BURST, NULL)) > 0)
			sink_put(&sk, b, n);
		cyc += sink_free(&sk);
	}
	return (double)cyc / (double)done;
}

/* ---- figures ----------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct figure
figure_of(double *v, unsigned int n)
{
	struct figure f;

	qsort(v, n, sizeof(v[0]), cmp_double);
	f.best = v[0];
	f.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return f;
}

static double
mpps(double cyc)
{
	return (double)rte_get_tsc_hz() / cyc / 1e6;
}

/* ---- one case ---------------------------------------------------------- */

static int
run_case(unsigned int idx, const struct pb_case *pc, const struct pb_opts *o,
	 struct pb_result *res)
{
	double send[MAX_REPS], recv[MAX_REPS], base[MAX_REPS];
	struct flow bflow;
	struct pair *p;
	int rc = 0;
	bool up = false;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	memset(res, 0, sizeof(*res));
	res->c = *pc;
	/* net_ring cannot set a MAC: braid.port warns for every port */
	rte_log_set_level_pattern("braid.port", RTE_LOG_ERR);
	if (pair_open(p, idx, pc, o) != 0) {
		rte_log_set_level_pattern("braid.port", RTE_LOG_INFO);
		fprintf(stderr, "perf_pipeline: case %u: gateways not built\n", idx);
		if (p->gp != NULL)
			braid_test_pair_close(p->gp);
		free(p->gp);
		free(p);
		return -1;
	}
	rte_log_set_level_pattern("braid.port", RTE_LOG_INFO);
	p->round = o->round;
	flow_init(&p->flow, lan_pool, pc->frame_len);
	flow_init(&bflow, lan_pool, pc->frame_len);

	/* Warm-up: probes bring the links up, B resolves its LAN host;
	 * done when one round spreads over every link. */
	for (unsigned int r = 0; r < 4000 && !up; r++) {
		round_run(p, NULL, NULL);
		up = true;
		for (int i = 0; i < N_LINKS; i++)
			if (p->frames_link[i] < o->round / (2 * N_LINKS))
				up = false;
	}
	if (!up) {
		fprintf(stderr, "perf_pipeline: case %u: links did not come up\n", idx);
		rc = -1;
		goto out;
	}
	/* What was fed before every link was up may be gone (no link to
	 * send on): the count starts after a quiet 50 ms. */
	for (unsigned int r = 0; r < 32; r++)
		round_run(p, NULL, NULL);
	settle(p, 50000000ULL);
	p->fed = p->delivered = p->frames_ab = 0;
	baseline_rep(&bflow, fwd_dst, ROUND_MAX * 16, o->round);   /* warm */

	for (unsigned int rep = 0; rep < o->reps; rep++) {
		uint64_t ca = 0, cb = 0, fed0 = p->fed;

		base[rep] = baseline_rep(&bflow, fwd_dst, o->packets, o->round);
		while (p->fed - fed0 < o->packets)
			round_run(p, &ca, &cb);
		send[rep] = (double)ca / (double)(p->fed - fed0);
		recv[rep] = (double)cb / (double)(p->fed - fed0);
	}
	res->send = figure_of(send, o->reps);
	res->recv = figure_of(recv, o->reps);
	res->base = figure_of(base, o->reps);
	if (!settle(p, 2000000000ULL)) {
		fprintf(stderr, "perf_pipeline: case %u: delivered %" PRIu64 " of %" PRIu64
			"\n", idx, p->delivered, p->fed);
		rc = -1;
	}
	res->fed = p->fed;
	res->delivered = p->delivered;
	res->frames_per_pkt = (double)p->frames_ab / (double)p->fed;
	res->idle_step_a = idle_step(p->gp->ga);
	res->idle_step_b = idle_step(p->gp->gb);
	res->recovered = braid_gateway_counter(p->gp->gb, "fec_decode", "pieces_recovered");
	res->rtx_served = braid_gateway_counter(p->gp->ga, "rtx", "served");
	if (o->verbose) {
		fprintf(stderr, "case %u counters (since creation, warm-up included):\n", idx);
		braid_gateway_stats_walk(p->gp->ga, dump_counter, (void *)"A");
		braid_gateway_stats_walk(p->gp->gb, dump_counter, (void *)"B");
	}
out:
	/* Drain both gateways, empty our rings, then every pool is full.
	 * The drain leaves frames on our rings, which shutdown's own check
	 * reports as in use: ours comes after emptying them. */
	rte_log_set_level_pattern("braid.gateway", RTE_LOG_CRIT);
	braid_test_pair_drain(p->gp);
	rte_log_set_level_pattern("braid.gateway", RTE_LOG_INFO);
	if (braid_gateway_mbufs_in_use(p->gp->ga) != 0 ||
	    braid_gateway_mbufs_in_use(p->gp->gb) != 0) {
		fprintf(stderr, "perf_pipeline: case %u: mbufs in use after shutdown: "
			"A %u, B %u\n", idx, braid_gateway_mbufs_in_use(p->gp->ga),
			braid_gateway_mbufs_in_use(p->gp->gb));
		rc = -1;
	}
	braid_test_pair_close(p->gp);
	free(p->gp);
	if (braid_mempool_in_use(lan_pool) != 0 || braid_mempool_in_use(wire_pool) != 0) {
		fprintf(stderr, "perf_pipeline: case %u: %u lan, %u wire mbufs leaked\n",
			idx, braid_mempool_in_use(lan_pool), braid_mempool_in_use(wire_pool));
		rc = -1;
	}
	free(p);
	return rc;
}

/* ---- output ------------------------------------------------------------ */

static const char *
fec_name(const struct pb_case *c, char *buf, size_t len)
{
	if (c->fec_k == 0)
		snprintf(buf, len, "off%s", c->crypto ? "+gcm" : "");
	else
		snprintf(buf, len, "rs%u_%u%s", c->fec_k, c->fec_m, c->crypto ? "+gcm" : "");
	return buf;
}

static void
print_table(const struct pb_base *b, unsigned int nb, const struct pb_result *r,
	    unsigned int nr, const struct pb_opts *o)
{
	char fb[16];

	printf("perf_pipeline: burst %u, rounds of %u, %d links x %u Mbit/s, %" PRIu64
	       " packets x %u reps per figure, tsc %.3f GHz; cycles per packet, best / median\n\n",
	       BRAID_BURST, o->round, N_LINKS, LINK_KBPS / 1000, o->packets, o->reps,
	       (double)rte_get_tsc_hz() / 1e9);
	printf("io-forward baseline (rte_eth_rx_burst -> rte_eth_tx_burst, burst %u)\n",
	       BRAID_BURST);
	printf("%6s  %-18s %9s %9s %9s %9s\n", "frame", "path", "cyc best", "cyc med",
	       "Mpps best", "Mpps med");
	for (unsigned int i = 0; i < nb; i++) {
		printf("%6u  %-18s %9.1f %9.1f %9.2f %9.2f\n", b[i].frame_len,
		       "net_ring->net_ring", b[i].ring.best, b[i].ring.median,
		       mpps(b[i].ring.best), mpps(b[i].ring.median));
		printf("%6u  %-18s %9.1f %9.1f %9.2f %9.2f\n", b[i].frame_len,
		       "net_ring->net_null", b[i].null.best, b[i].null.median,
		       mpps(b[i].null.best), mpps(b[i].null.median));
	}
	printf("\nbraid chains (ratio = braid median / io-forward median of the same reps)\n");
	printf("%6s %-6s %-4s %-8s %9s %9s %9s %9s %8s %8s %10s\n", "frame", "fec", "arq",
	       "chain", "cyc best", "cyc med", "Mpps best", "Mpps med", "x io-fwd",
	       "io cyc", "idle step");
	for (unsigned int i = 0; i < nr; i++) {
		const struct pb_result *x = &r[i];

		for (int ch = 0; ch < 2; ch++) {
			const struct figure *f = ch == 0 ? &x->send : &x->recv;

			printf("%6u %-6s %-4s %-8s %9.1f %9.1f %9.2f %9.2f %8.1f %8.1f %10.0f\n",
			       x->c.frame_len, fec_name(&x->c, fb, sizeof(fb)),
			       x->c.arq ? "on" : "off", ch == 0 ? "send" : "receive",
			       f->best, f->median, mpps(f->best), mpps(f->median),
			       f->median / x->base.median, x->base.median,
			       ch == 0 ? x->idle_step_a : x->idle_step_b);
		}
	}
	printf("\nper case: link frames per LAN packet (data + parity + probes), FEC pieces "
	       "rebuilt by B\n(no loss: a parity arrived before the last data piece), "
	       "retransmissions served by A\n");
	for (unsigned int i = 0; i < nr; i++)
		printf("%6u %-6s %-4s %8.3f %10" PRIu64 " %10" PRIu64 "\n", r[i].c.frame_len,
		       fec_name(&r[i].c, fb, sizeof(fb)), r[i].c.arq ? "on" : "off",
		       r[i].frames_per_pkt, r[i].recovered, r[i].rtx_served);
}

static void
print_json(const struct pb_base *b, unsigned int nb, const struct pb_result *r,
	   unsigned int nr, const struct pb_opts *o)
{
	char fb[16];

	printf("{\"program\": \"perf_pipeline\", \"tsc_hz\": %" PRIu64 ", \"burst\": %u,"
	       " \"round\": %u, \"links\": %d, \"link_kbps\": %u, \"packets_per_rep\": %" PRIu64
	       ", \"reps\": %u,\n \"baseline\": [", rte_get_tsc_hz(), BRAID_BURST, o->round,
	       N_LINKS, LINK_KBPS, o->packets, o->reps);
	for (unsigned int i = 0; i < nb; i++)
		for (int s = 0; s < 2; s++) {
			const struct figure *f = s == 0 ? &b[i].ring : &b[i].null;

			printf("%s\n  {\"frame\": %u, \"path\": \"%s\", \"cyc_best\": %.2f,"
			       " \"cyc_median\": %.2f, \"mpps_best\": %.3f, \"mpps_median\": %.3f}",
			       i == 0 && s == 0 ? "" : ",", b[i].frame_len,
			       s == 0 ? "net_ring->net_ring" : "net_ring->net_null",
			       f->best, f->median, mpps(f->best), mpps(f->median));
		}
	printf("],\n \"cases\": [");
	for (unsigned int i = 0; i < nr; i++)
		for (int ch = 0; ch < 2; ch++) {
			const struct pb_result *x = &r[i];
			const struct figure *f = ch == 0 ? &x->send : &x->recv;

			printf("%s\n  {\"frame\": %u, \"fec\": \"%s\", \"arq\": %s, \"chain\": \"%s\","
			       " \"cyc_best\": %.2f, \"cyc_median\": %.2f, \"mpps_best\": %.3f,"
			       " \"mpps_median\": %.3f, \"baseline_cyc_median\": %.2f,"
			       " \"ratio_median\": %.2f, \"ratio_best\": %.2f,"
			       " \"idle_step_cyc\": %.1f, \"link_frames_per_pkt\": %.4f,"
			       " \"fed\": %" PRIu64 ", \"delivered\": %" PRIu64 ","
			       " \"fec_recovered\": %" PRIu64 ", \"rtx_served\": %" PRIu64 "}",
			       i == 0 && ch == 0 ? "" : ",", x->c.frame_len,
			       fec_name(&x->c, fb, sizeof(fb)), x->c.arq ? "true" : "false",
			       ch == 0 ? "send" : "receive", f->best, f->median, mpps(f->best),
			       mpps(f->median), x->base.median, f->median / x->base.median,
			       f->best / x->base.best,
			       ch == 0 ? x->idle_step_a : x->idle_step_b, x->frames_per_pkt,
			       x->fed, x->delivered, x->recovered, x->rtx_served);
		}
	printf("]}\n");
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: perf_pipeline [EAL args] [-- --packets N --reps N --profiles DIR --json]\n"
		"  --packets N   packets per repetition, multiple of the round (default 65536)\n"
		"  --round N     frames fed per round, 32..%u, multiple of 32 (default 128)\n"
		"  --reps N      repetitions per figure, 1..%u (default 7)\n"
		"  --case I      only case I, 0..9 in table order (for profiling)\n"
		"  --verbose     print every non-zero counter of both gateways per case\n"
		"  --profiles D  driver profiles directory (default: drivers-cfg in the\n"
		"                current directory or three levels above the binary)\n"
		"  --json        one JSON document instead of the table\n",
		ROUND_MAX, MAX_REPS);
}

static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || end == s || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

static void
default_profiles(struct pb_opts *o)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (access("drivers-cfg/net_ring.json", R_OK) == 0) {
		snprintf(o->profiles, sizeof(o->profiles), "drivers-cfg");
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* <build>/tests/perf/perf_pipeline -> <source>/drivers-cfg */
		snprintf(o->profiles, sizeof(o->profiles), "%s/../../../drivers-cfg",
			 dirname(exe));
	}
}

static int
parse_opts(int argc, char **argv, struct pb_opts *o)
{
	static const struct option lo[] = {
		{ "packets", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "round", required_argument, NULL, 'R' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	o->packets = 65536;
	o->round = 128;
	o->reps = 7;
	o->only = -1;
	o->verbose = false;
	o->json = false;
	default_profiles(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:r:R:c:p:jvh", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, 1, UINT64_C(1) << 32, &v) != 0)
				goto bad;
			o->packets = v;
			break;
		case 'R':
			if (parse_u64(optarg, BRAID_BURST, ROUND_MAX, &v) != 0 || v % BRAID_BURST)
				goto bad;
			o->round = (unsigned int)v;
			break;
		case 'r':
			if (parse_u64(optarg, 1, MAX_REPS, &v) != 0)
				goto bad;
			o->reps = (unsigned int)v;
			break;
		case 'c':
			if (parse_u64(optarg, 0, 9, &v) != 0)
				goto bad;
			o->only = (int)v;
			break;
		case 'p':
			snprintf(o->profiles, sizeof(o->profiles), "%s", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc || o->packets % o->round != 0)
		goto bad;
	return 0;
bad:
	usage();
	return -1;
}

int
main(int argc, char **argv)
{
	static const uint16_t frames[] = { 64, 1400 };
	static const uint8_t fec[][2] = { { 0, 0 }, { 10, 2 } };
	/* every frame x FEC x ARQ, then each frame with ARQ and crypto */
	struct pb_result res[RTE_DIM(frames) * RTE_DIM(fec) * 2 + RTE_DIM(frames)];
	struct pb_base base[RTE_DIM(frames)];
	struct pb_opts o;
	unsigned int nr = 0, ci = 0;
	int rc = 0;

	if (perf_eal_init(&argc, &argv) != 0)
		return 1;
	if (parse_opts(argc, argv, &o) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	lcore = rte_lcore_id();
	braid_config_set_profile_dir(o.profiles);
	lan_pool = braid_pktmbuf_pool_create("pb_lan", POOL_MBUFS, 256,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	wire_pool = braid_pktmbuf_pool_create("pb_wire", POOL_MBUFS, 256,
					      RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (lan_pool == NULL || wire_pool == NULL || baseline_open() != 0) {
		fprintf(stderr, "perf_pipeline: set-up: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	for (unsigned int f = 0; f < RTE_DIM(frames); f++) {
		double ring[MAX_REPS], null[MAX_REPS];
		struct flow fl;

		flow_init(&fl, lan_pool, frames[f]);
		baseline_rep(&fl, fwd_null, ROUND_MAX * 16, o.round);     /* warm */
		for (unsigned int r = 0; r < o.reps; r++) {
			ring[r] = baseline_rep(&fl, fwd_dst, o.packets, o.round);
			null[r] = baseline_rep(&fl, fwd_null, o.packets, o.round);
		}
		base[f].frame_len = frames[f];
		base[f].ring = figure_of(ring, o.reps);
		base[f].null = figure_of(null, o.reps);
	}
	for (unsigned int f = 0; f < RTE_DIM(frames); f++)
		for (unsigned int e = 0; e < RTE_DIM(fec); e++)
			for (int arq = 0; arq < 2; arq++) {
				struct pb_case c = { .frame_len = frames[f], .fec_k = fec[e][0],
						     .fec_m = fec[e][1], .arq = arq != 0 };

				if (o.only >= 0 && (unsigned int)o.only != ci) {
					ci++;
					continue;
				}
				if (!o.json)
					fprintf(stderr, "perf_pipeline: frame %u fec %u+%u arq %s...\n",
						c.frame_len, c.fec_k, c.fec_m, arq ? "on" : "off");
				if (run_case(ci++, &c, &o, &res[nr]) != 0)
					rc = 1;
				else
					nr++;
			}
	/* The chains with crypto.psk_file (AES-256-GCM on every frame). */
	for (unsigned int f = 0; f < RTE_DIM(frames); f++) {
		struct pb_case c = { .frame_len = frames[f], .arq = true, .crypto = true };

		if (o.only >= 0 && (unsigned int)o.only != ci) {
			ci++;
			continue;
		}
		if (!o.json)
			fprintf(stderr, "perf_pipeline: frame %u fec off arq on, crypto...\n",
				c.frame_len);
		if (psk_write() != 0 || run_case(ci++, &c, &o, &res[nr]) != 0)
			rc = 1;
		else
			nr++;
	}
	unlink(psk_path);
	if (o.json)
		print_json(base, RTE_DIM(base), res, nr, &o);
	else
		print_table(base, RTE_DIM(base), res, nr, &o);
	baseline_close();
	rte_mempool_free(lan_pool);
	rte_mempool_free(wire_pool);
	rte_eal_cleanup();
	return rc;
}
