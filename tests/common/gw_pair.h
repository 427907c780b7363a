/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_GW_PAIR_H
#define BRAID_TEST_GW_PAIR_H

/**
 * @file
 * Two gateways on rings with an impaired pipe between them: the fixture of
 * test_gateway, test_gateway_mgmt and perf_pipeline.
 *
 * Each side is a LAN port and BRAID_TEST_LINKS link ports, ethdevs of the
 * net_ring PMD over rings the test owns. Frames a gateway sends on its
 * links cross to the other's link ports through one pipe per direction and
 * link (loss, delay, jitter, a dead link, corruption, injected garbage:
 * netem with a rate, jitter never reorders), or as flat copies, as a NIC
 * receives them. A LAN host behind each side answers ARP; behind b it
 * records the test stream from a (delivered once, in order per class,
 * latency). The clock is virtual (braid_gateway_step) unless the caller
 * steps with real time.
 */
#include <stdbool.h>
#include <stdint.h>

struct braid_config;
struct braid_gateway;
struct braid_gateway_conf;
struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

#define BRAID_TEST_LINKS 3
#define BRAID_TEST_MAX_SEQ 200000      /* test stream sequences recorded */
#define BRAID_TEST_STEP_NS 50000ULL    /* virtual time per step: 50 us */
#define BRAID_TEST_PIPE_MAX 65536      /* frames in flight, one direction of a link */

/* ---- a gateway's ports on rings the test owns ----------------------------- */

/** One gateway's side: a LAN port and BRAID_TEST_LINKS link ports, each an
 * ethdev "net_ring_<pfx><tag>_lan" / "..._wan<i>" over two rings (rx = what
 * the test feeds to the gateway, tx = what the gateway sent). */
struct braid_test_side {
	char pfx[4];
	char tag;
	int me;                    /* 1 = the "a" end (10.9.x.1), 2 = "b" */
	struct rte_ring *lan_rx, *lan_tx;
	struct rte_ring *wan_rx[BRAID_TEST_LINKS], *wan_tx[BRAID_TEST_LINKS];
	uint16_t lan_port, wan_port[BRAID_TEST_LINKS];
};

/** Create the rings (rte_ring_create @p ring_flags) and ports of a side.
 * @return 0 or -1. */
int braid_test_side_open(struct braid_test_side *s, const char *pfx, char tag, int me,
			 unsigned int ring_flags);

/** braid_test_side_open() with multi-producer/consumer rings. */
int braid_test_side_make(struct braid_test_side *s, const char *pfx, char tag, int me);

/** Free every mbuf in @p r (NULL: nothing). */
void braid_test_ring_free_all(struct rte_ring *r);

/** Free every mbuf in the side's rings. */
void braid_test_side_flush(struct braid_test_side *s);

/** Flush, remove the ports' vdevs and free the rings (after the gateway
 * that used the ports is freed: it closes them). */
void braid_test_side_destroy(struct braid_test_side *s);

/* ---- a gateway's configuration and the gateway ----------------------------- */

/** The JSON configuration of one side: side a is 10.9.<i>.1 and LAN
 * 192.168.1.0/24, side b 10.9.<i>.2 and 192.168.2.0/24; classes video
 * (UDP 5000-5999, weight 3) and bulk (the default, weight 1); every stage
 * on one lcore. */
struct braid_test_gw_opts {
	const char *name_pfx;        /* gateway name: <name_pfx><tag> */
	uint32_t mbufs;              /* "mempool.mbufs" */
	uint32_t link_kbps;          /* each link's capacity */
	const char *video_fec;       /* JSON value: "\"off\"" or "{\"k\": 4, \"m\": 2}" */
	bool video_arq;
	uint32_t video_deadline_ms;
	bool bulk_arq;
	uint32_t bulk_deadline_ms;   /* 0: not written */
	uint32_t bulk_queue_packets; /* 0: not written (the default) */
	const char *extra;           /* members after "default_class", each followed
				      * by ", " (e.g. "\"fec\": {...}, "); NULL: none */
	unsigned int lcore;          /* the lcore of every stage */
	const char *management;      /* JSON value; NULL: {"enabled": false} */
	bool learn_peer;             /* links "peer": "learn" (a listener), no next hop */
};

/** The configuration text of @p s (malloc'd; free() it), NULL if it does
 * not fit. */
char *braid_test_gw_json(const struct braid_test_side *s, const struct braid_test_gw_opts *o);

/** braid_test_gw_json() loaded; errors printed on stderr. @return NULL on error. */
struct braid_config *braid_test_gw_config(const struct braid_test_side *s,
					  const struct braid_test_gw_opts *o);

/** A gateway from @p tmpl (profile_dir, management switches, ...) with
 * @p cfg and @p session; the reason printed on stderr if it fails. */
struct braid_gateway *braid_test_gw_create(const struct braid_gateway_conf *tmpl,
					   const struct braid_config *cfg, uint32_t session);

/* ---- LAN host frames ------------------------------------------------------- */

/** a.b.c.d as a host-order uint32_t (RTE_IPV4() shifts an int: 192 << 24
 * overflows, UBSan). */
static inline uint32_t
braid_test_ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

/** Write the Ethernet, IPv4 and UDP headers (42 bytes) of a frame from LAN
 * host 192.168.<me>.2 to host .2 behind the other side, sent to its
 * gateway's MAC, with @p payload bytes of UDP payload to @p dport. */
void braid_test_host_hdr(void *frame, int me, uint16_t dport, uint16_t payload);

/** Such a frame from @p mp, payload zero but for the 64-bit @p seq first.
 * @return NULL if the pool is empty. */
struct rte_mbuf *braid_test_host_packet(struct rte_mempool *mp, int me, uint16_t dport,
					uint64_t seq, uint16_t payload);

/* ---- the pair ----------------------------------------------------------------- */

/** What the pipes do to frames (both directions unless named). */
struct braid_test_impair {
	double loss[2];              /* per frame, [0] a -> b, [1] b -> a */
	uint64_t delay_ns[BRAID_TEST_LINKS];
	uint64_t jitter_ns;
	int dead_link;               /* -1: none; dead from dead_from to dead_to */
	uint64_t dead_from, dead_to;
	double corrupt;              /* per frame: flip a bit or cut it short */
	double garbage;              /* per frame: also inject a random frame */
	uint32_t max_frame[BRAID_TEST_LINKS];   /* a smaller path MTU: frames longer
						 * than this (bytes) vanish; 0: none */
	/* A NAT in front of a's links: a's UDP frames leave from
	 * nat_ip:nat_port (host order, per link), plus the additions of the
	 * last step due (a rebinding: a new port; a modem reconnect: a new
	 * address); b's frames to an old mapping are dropped. UDP checksums
	 * are zeroed (IPv4 allows it; sealed frames carry none). */
	bool nat;
	uint32_t nat_ip[BRAID_TEST_LINKS];
	uint16_t nat_port[BRAID_TEST_LINKS];
	unsigned int n_nat_steps;
	struct {
		uint64_t at_ns;
		uint32_t ip_add[BRAID_TEST_LINKS];
		uint16_t port_add[BRAID_TEST_LINKS];
	} nat_steps[4];
	uint32_t nat_inner_ip[BRAID_TEST_LINKS];     /* big endian, as seen */
	uint16_t nat_inner_port[BRAID_TEST_LINKS];
	uint64_t nat_dropped;
	/* results */
	uint64_t corrupted, injected;
	uint64_t lost[2];            /* lost, dead, pipe or link RX ring full */
};

/** One direction of one link: FIFO with release times. */
struct braid_test_pipe {
	struct rte_mbuf *m[BRAID_TEST_PIPE_MAX];
	uint64_t due[BRAID_TEST_PIPE_MAX];
	unsigned int head, tail;
	uint64_t last_due;
};

struct braid_test_pair {
	struct braid_test_side a, b;
	struct braid_config *ca, *cb;
	struct braid_gateway *ga, *gb;
	struct rte_mempool *pool;    /* host packets and injected garbage */
	uint64_t *rng;               /* impairment draws (the test's seed) */
	unsigned int ring_flags;     /* of the sides' rings (braid_test_pair_open) */
	struct braid_test_impair imp;
	/* Non-NULL: a frame crosses as a flat copy from this pool with clean
	 * metadata (as a NIC receives it); the original is released. */
	struct rte_mempool *wire_pool;
	uint64_t copy_failed;
	/* a -> b frames as sent, before the pipe */
	void (*observe)(void *arg, struct rte_mbuf *m, int link);
	/* frames the links and LAN hosts are done with, by side (0 = a);
	 * NULL: freed */
	void (*release)(void *arg, int side, struct rte_mbuf **m, unsigned int n);
	void *arg;

	/* the test stream a -> b: CBR, video (5000) and bulk (80) alternating
	 * when mix, else all to dport */
	uint64_t now;
	bool mix;
	uint16_t dport;
	uint16_t payload;            /* 0: 200 + seq % 900 */
	uint64_t gap_ns;
	uint64_t next_feed;
	/* results */
	uint64_t fed, delivered, dups, out_of_order, max_latency_ns, arp_replies;
	uint64_t rx_frames;          /* UDP frames host b got (any seq, dups too) */
	uint64_t last_seq[2];        /* [0] video, [1] other */
	bool got[2];
	uint64_t rx_bytes[2];
	uint64_t moved[2][BRAID_TEST_LINKS];   /* frames into the pipes */
	bool seen[BRAID_TEST_MAX_SEQ];
	uint64_t sent_ns[BRAID_TEST_MAX_SEQ];
	uint64_t lat_ns[BRAID_TEST_MAX_SEQ];
	struct braid_test_pipe pipe[2][BRAID_TEST_LINKS];   /* [0] a -> b */
};

/** A pair with nothing open, no impairment, a stream of 1000-byte packets
 * to 5000 every 200 us. @return NULL if out of memory. */
struct braid_test_pair *braid_test_pair_new(struct rte_mempool *pool, uint64_t *rng);

/** Open both sides ("<pfx><ta>", "<pfx><tb>"), their configurations and
 * gateways (@p gc a template; sessions 0xa0000001 and 0xb0000001).
 * @return 0, or -1 (what is open is freed by braid_test_pair_close). */
int braid_test_pair_open(struct braid_test_pair *p, const char *pfx, char ta, char tb,
			 const struct braid_test_gw_opts *oa,
			 const struct braid_test_gw_opts *ob,
			 const struct braid_gateway_conf *gc);

/** Feed the stream into a's LAN port up to p->now, at most @p limit
 * packets in all (a full ring: the rest next time).
 * @return 0, or -ENOMEM (pool empty). */
int braid_test_pair_feed(struct braid_test_pair *p, uint64_t limit);

/** Frames between the link ports through the pipes, then the LAN hosts. */
void braid_test_pair_exchange(struct braid_test_pair *p);

/** Step both gateways at p->now, then exchange. */
void braid_test_pair_step(struct braid_test_pair *p);

/** Run @p ns of virtual time in steps; feed the stream while @p feed. */
void braid_test_pair_run(struct braid_test_pair *p, uint64_t ns, bool feed);

/** Run until everything fed is delivered, at most @p max_ns, then 20 ms. */
void braid_test_pair_settle(struct braid_test_pair *p, uint64_t max_ns);

/** Shut both gateways down (each holds some of the other's mbufs: FEC
 * pieces, reorder buffers), empty the pipes and the rings: then every
 * pool is full again. */
void braid_test_pair_drain(struct braid_test_pair *p);

/** Free the gateways, configurations and sides (after drain); the
 * results stay for the caller, who free()s @p p. */
void braid_test_pair_close(struct braid_test_pair *p);

#endif /* BRAID_TEST_GW_PAIR_H */
