/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/arp: ARP responder (exact reply bytes, tagged and untagged), not
 * answering for others, gratuitous ARP both ways, address conflicts; the
 * resolver on a virtual clock (request, retries, failure, doubling
 * back-off, learning, expiry, refresh, static override); the pending
 * queue (release with the MAC written, overflow, timeout, failure); ICMP
 * echo (exact reply bytes against an RFC 1071 reference checksum,
 * multi-segment requests, every reason to refuse); >= 20 000 random and
 * mutated frames (no crash, every frame counted once, no leak); and the
 * lock-free lookup read on a second lcore while the first rewrites the
 * entry (never a torn MAC).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "braid_arp.h"
#include "braid_meta.h"
#include "harness.h"

#define TMS 1000000ULL
#define TS (1000 * TMS)
#define POOL_N 4095
#define FUZZ_FRAMES 30000u

#define LAN 0       /* port ids */
#define WAN 3
#define OTHER 7     /* not configured */

static struct rte_mempool *pool;
static uint64_t seed;
static unsigned int name_seq;

static const uint8_t lan_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t wan_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t host_mac[6] = { 0x3c, 0xfd, 0xfe, 0x12, 0x34, 0x56 };
static const uint8_t gw_mac[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6] = { 0 };

static uint32_t
ip4(unsigned int a, unsigned int b, unsigned int c, unsigned int d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

#define LAN_IP  ip4(192, 168, 1, 1)
#define LAN_IP2 ip4(10, 20, 0, 1)
#define WAN_IP  ip4(100, 64, 0, 2)
#define HOST_IP ip4(192, 168, 1, 50)
#define GW_IP   ip4(100, 64, 0, 1)
#define STAT_IP ip4(100, 64, 0, 9)

static const uint8_t stat_mac[6] = { 0x02, 0xaa, 0x00, 0x00, 0x00, 0x09 };

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0-1") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("arp_pool", POOL_N, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	seed = braid_test_seed(0xa5a5f00d);
	printf("\n  arp seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	return pool != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static struct braid_arp_static statics[1];

static void
base_conf(struct braid_arp_conf *c, char *name, size_t nsize)
{
	braid_arp_conf_defaults(c);
	snprintf(name, nsize, "arpt%u", name_seq++);
	c->name = name;
	c->pool = pool;
	c->n_ports = 2;
	c->ports[0].port_id = LAN;
	memcpy(c->ports[0].mac.addr_bytes, lan_mac, 6);
	c->ports[0].n_addrs = 2;
	c->ports[0].addrs[0] = (struct braid_arp_addr){ LAN_IP, 24 };
	c->ports[0].addrs[1] = (struct braid_arp_addr){ LAN_IP2, 16 };
	c->ports[1].port_id = WAN;
	memcpy(c->ports[1].mac.addr_bytes, wan_mac, 6);
	c->ports[1].n_addrs = 1;
	c->ports[1].addrs[0] = (struct braid_arp_addr){ WAN_IP, 24 };
	statics[0].ip = STAT_IP;
	memcpy(statics[0].mac.addr_bytes, stat_mac, 6);
	c->ports[1].n_static = 1;
	c->ports[1].statics = statics;
}

static struct braid_arp *
mk_arp(struct braid_arp_conf *c)
{
	struct braid_arp *a = braid_arp_create(c, SOCKET_ID_ANY);

	CU_ASSERT_PTR_NOT_NULL(a);
	return a;
}

/* ------------------------------------------------------- frame helpers */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Ethernet (+ tag if tci >= 0) header; returns its length. */
static unsigned int
eth_bytes(uint8_t *b, const uint8_t *dst, const uint8_t *src, int tci, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (tci >= 0) {
		put16(b + 12, 0x8100);
		put16(b + 14, (uint16_t)tci);
		put16(b + 16, type);
		return 18;
	}
	put16(b + 12, type);
	return 14;
}

/* A whole ARP frame, padded to 60 bytes. */
static unsigned int
arp_bytes(uint8_t *b, const uint8_t *dst, const uint8_t *src, int tci, uint16_t op,
	  const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	unsigned int l = eth_bytes(b, dst, src, tci, 0x0806);

	memset(b + l, 0, 60 - l);
	put16(b + l, 1);
	put16(b + l + 2, 0x0800);
	b[l + 4] = 6;
	b[l + 5] = 4;
	put16(b + l + 6, op);
	memcpy(b + l + 8, sha, 6);
	put32(b + l + 14, spa);
	memcpy(b + l + 18, tha, 6);
	put32(b + l + 24, tpa);
	return 60;
}

/* RFC 1071, written out: one's complement sum of 16-bit words. */
static uint16_t
ref_cksum(const uint8_t *p, unsigned int len)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet / IPv4 / ICMP echo; returns the frame length. */
static unsigned int
icmp_bytes(uint8_t *b, const uint8_t *dst, const uint8_t *src, int tci, uint8_t type,
	   uint32_t sip, uint32_t dip, uint8_t ttl, uint16_t id, uint16_t sq,
	   const uint8_t *payload, unsigned int plen)
{
	unsigned int l = eth_bytes(b, dst, src, tci, 0x0800);
	uint8_t *ip = b + l, *ic = ip + 20;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	put16(ip + 4, 0x1234);
	ip[8] = ttl;
	ip[9] = 1;
	put32(ip + 12, sip);
	put32(ip + 16, dip);
	put16(ip + 10, ref_cksum(ip, 20));
	ic[0] = type;
	ic[1] = 0;
	put16(ic + 2, 0);
	put16(ic + 4, id);
	put16(ic + 6, sq);
	memcpy(ic + 8, payload, plen);
	put16(ic + 2, ref_cksum(ic, 8 + plen));
	l += 28 + plen;
	if (l < 60) {
		memset(b + l, 0, 60 - l);
		l = 60;
	}
	return l;
}

static struct rte_mbuf *
mk(uint16_t port, const uint8_t *bytes, unsigned int len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, bytes, len);
	m->port = port;
	return m;
}

/* Two segments, split at @p cut. */
static struct rte_mbuf *
mk2(uint16_t port, const uint8_t *bytes, unsigned int len, unsigned int cut)
{
	struct rte_mbuf *a = mk(port, bytes, cut), *b = mk(port, bytes + cut, len - cut);

	if (a == NULL || b == NULL || rte_pktmbuf_chain(a, b) != 0) {
		rte_pktmbuf_free(a);
		rte_pktmbuf_free(b);
		return NULL;
	}
	return a;
}

static void
free_all(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* Feed one frame; returns the number of answers (copied to out). */
static uint16_t
feed(struct braid_arp *a, struct rte_mbuf *m, struct rte_mbuf **out, uint64_t now)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return braid_arp_burst(a, &m, 1, out, now);
}

static bool
frame_is(struct rte_mbuf *m, const uint8_t *exp, unsigned int len)
{
	return m->pkt_len == len && m->nb_segs == 1 &&
	       memcmp(rte_pktmbuf_mtod(m, const uint8_t *), exp, len) == 0;
}

static void
assert_no_leak(void)
{
	CU_ASSERT(rte_mempool_in_use_count(pool) == 0);
}

/* --------------------------------------------------------------- tests */

static void
test_create_validation(void)
{
	struct braid_arp_conf c;
	char name[32];
	struct braid_arp *a;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	braid_arp_free(a);
#define BAD(stmt) do { base_conf(&c, name, sizeof(name)); stmt; rte_errno = 0; \
	CU_ASSERT_PTR_NULL(braid_arp_create(&c, SOCKET_ID_ANY)); \
	CU_ASSERT(rte_errno == EINVAL); } while (0)
	BAD(c.name = NULL);
	BAD(c.n_ports = 0);
	BAD(c.n_ports = BRAID_ARP_MAX_PORTS + 1);
	BAD(c.table_size = 100);
	BAD(c.table_size = 8);
	BAD(c.expire_ms = 10);
	BAD(c.retry_ms = 1);
	BAD(c.retries = 0);
	BAD(c.fail_backoff_max_ms = c.fail_backoff_ms - 1);
	BAD(c.garp_count = 11);
	BAD(c.request_ring_size = 100);
	BAD(c.pool = NULL);
	BAD(c.ports[1].port_id = LAN);
	BAD(memset(&c.ports[0].mac, 0, 6));
	BAD(c.ports[0].mac.addr_bytes[0] = 0x01);
	BAD(c.ports[0].addrs[1].ip = ip4(224, 0, 0, 1));
	BAD(c.ports[0].addrs[1].prefix_len = 0);
	BAD(c.ports[0].n_addrs = 5);
	BAD(statics[0].ip = 0; c.ports[1].statics = statics);
#undef BAD
	/* Two objects may not share a name (it names the ring). */
	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(braid_arp_create(&c, SOCKET_ID_ANY));
	CU_ASSERT(rte_errno == EEXIST);
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_request_reply(void)
{
	/* who-has 192.168.1.1 tell 192.168.1.50, and the exact answer */
	static const uint8_t exp_hex[60] = {
		0x3c, 0xfd, 0xfe, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01, 0x01,
		0x3c, 0xfd, 0xfe, 0x12, 0x34, 0x56, 0xc0, 0xa8, 0x01, 0x32,
	};
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct braid_arp_entry e;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[4];
	uint8_t b[64], x[64];
	char name[32];
	struct braid_arp *a;
	uint16_t k;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	k = feed(a, mk(LAN, b, 60), out, 1 * TS);
	CU_ASSERT_FATAL(k == 1);
	CU_ASSERT(frame_is(out[0], exp_hex, 60));
	CU_ASSERT(out[0]->port == LAN);
	CU_ASSERT(braid_meta(out[0])->link_id == BRAID_LINK_NONE);
	free_all(out, k);
	/* The asker is learned (request addressed to us). */
	CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, host_mac, 6) == 0);
	CU_ASSERT(braid_arp_entry_get(a, LAN, HOST_IP, &e) == 0 &&
		  e.state == BRAID_ARP_REACHABLE);
	/* Not on the other port. */
	CU_ASSERT(braid_arp_lookup(a, WAN, HOST_IP, &mac) == -ENOENT);

	/* The second address of the port, asked unicast, VLAN 42 prio 5:
	 * the answer carries the same tag. */
	arp_bytes(b, lan_mac, host_mac, 0xa02a, 1, host_mac, ip4(10, 20, 3, 4), zero6, LAN_IP2);
	k = feed(a, mk(LAN, b, 60), out, 1 * TS);
	CU_ASSERT_FATAL(k == 1);
	arp_bytes(x, host_mac, lan_mac, 0xa02a, 2, lan_mac, LAN_IP2, host_mac,
		  ip4(10, 20, 3, 4));
	CU_ASSERT(frame_is(out[0], x, 60));
	free_all(out, k);

	/* A two-segment request gets the same answer. */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	k = feed(a, mk2(LAN, b, 60, 17), out, 1 * TS);
	CU_ASSERT(k == 1 && frame_is(out[0], exp_hex, 60));
	free_all(out, k);

	/* RFC 5227 probe (sender 0) for our address: answered, not learned. */
	arp_bytes(b, bcast, gw_mac, -1, 1, gw_mac, 0, zero6, LAN_IP);
	k = feed(a, mk(LAN, b, 60), out, 1 * TS);
	CU_ASSERT(k == 1);
	arp_bytes(x, gw_mac, lan_mac, -1, 2, lan_mac, LAN_IP, gw_mac, 0);
	CU_ASSERT(k == 1 && frame_is(out[0], x, 60));
	free_all(out, k);

	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.arp_requests_rx == 4 && cnt.arp_replies_tx == 4);
	CU_ASSERT(cnt.learned == 2 && cnt.rx_frames == 4);
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_not_for_us(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[4];
	uint8_t b[64];
	char name[32];
	struct braid_arp *a;
	unsigned int n = 0;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	/* another host's address */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, ip4(192, 168, 1, 2));
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 0) == 0);
	n++;
	/* our WAN address asked on the LAN port */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, WAN_IP);
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 0) == 0);
	n++;
	/* our address, but sent to another host's MAC */
	arp_bytes(b, gw_mac, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 0) == 0);
	n++;
	/* a reply to somebody else */
	arp_bytes(b, bcast, gw_mac, -1, 2, gw_mac, ip4(192, 168, 1, 7), host_mac, HOST_IP);
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 0) == 0);
	n++;
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.drop_not_for_us == n);
	CU_ASSERT(cnt.arp_replies_tx == 0 && cnt.learned == 0);
	CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == -ENOENT);
	CU_ASSERT(braid_arp_lookup(a, LAN, ip4(192, 168, 1, 7), &mac) == -ENOENT);
	/* a port we do not serve */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	CU_ASSERT(feed(a, mk(OTHER, b, 60), out, 0) == 0);
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.drop_unknown_port == 1);
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_gratuitous(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[16];
	uint8_t b[64], x[64];
	char name[32];
	struct braid_arp *a;
	uint16_t k;

	base_conf(&c, name, sizeof(name));
	c.garp_count = 2;
	c.garp_interval_ms = 1000;
	c.ports[1].vlan = true;
	c.ports[1].vlan_tci = 100;
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	/* First poll: one announcement per address (2 on LAN, 1 on WAN). */
	k = braid_arp_poll(a, 0, out, 16);
	CU_ASSERT_FATAL(k == 3);
	arp_bytes(x, bcast, lan_mac, -1, 1, lan_mac, LAN_IP, zero6, LAN_IP);
	CU_ASSERT(frame_is(out[0], x, 60) && out[0]->port == LAN);
	arp_bytes(x, bcast, lan_mac, -1, 1, lan_mac, LAN_IP2, zero6, LAN_IP2);
	CU_ASSERT(frame_is(out[1], x, 60));
	arp_bytes(x, bcast, wan_mac, 100, 1, wan_mac, WAN_IP, zero6, WAN_IP);
	CU_ASSERT(frame_is(out[2], x, 60) && out[2]->port == WAN);
	free_all(out, k);
	CU_ASSERT(braid_arp_poll(a, 500 * TMS, out, 16) == 0);
	k = braid_arp_poll(a, 1000 * TMS, out, 16);
	CU_ASSERT(k == 3);
	free_all(out, k);
	CU_ASSERT(braid_arp_poll(a, 5000 * TMS, out, 16) == 0);
	/* No room for a port's announcements: they wait. */
	braid_arp_announce(a, 6 * TS);
	k = braid_arp_poll(a, 6 * TS, out, 1);
	CU_ASSERT(k == 0);
	k = braid_arp_poll(a, 6 * TS, out, 16);
	CU_ASSERT(k == 3);
	free_all(out, k);
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.arp_gratuitous_tx == 9);

	/* Received gratuitous ARP: updates an entry we have ... */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	free_all(out, feed(a, mk(LAN, b, 60), out, 7 * TS));
	arp_bytes(b, bcast, gw_mac, -1, 1, gw_mac, HOST_IP, zero6, HOST_IP);
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 7 * TS) == 0);
	CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, gw_mac, 6) == 0);
	/* ... creates none (reply form too) ... */
	arp_bytes(b, bcast, gw_mac, -1, 2, gw_mac, ip4(192, 168, 1, 77), bcast,
		  ip4(192, 168, 1, 77));
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 7 * TS) == 0);
	CU_ASSERT(braid_arp_lookup(a, LAN, ip4(192, 168, 1, 77), &mac) == -ENOENT);
	/* ... and another MAC announcing our address is a conflict. */
	arp_bytes(b, bcast, gw_mac, -1, 1, gw_mac, LAN_IP, zero6, LAN_IP);
	CU_ASSERT(feed(a, mk(LAN, b, 60), out, 7 * TS) == 0);
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.arp_gratuitous_rx == 3);
	CU_ASSERT(cnt.addr_conflict == 1);
	CU_ASSERT(cnt.updated == 1 && cnt.learned == 1);
	braid_arp_free(a);
	assert_no_leak();
}

/* Poll at @p t; returns the number of ARP requests for @p tpa (broadcast
 * or to @p ucast), checking their bytes. */
static unsigned int
requests_at(struct braid_arp *a, uint64_t t, uint32_t tpa, const uint8_t *ucast)
{
	struct rte_mbuf *out[16];
	uint8_t x[64];
	unsigned int r = 0;
	uint16_t k = braid_arp_poll(a, t, out, 16);

	for (uint16_t i = 0; i < k; i++) {
		arp_bytes(x, ucast != NULL ? ucast : bcast, wan_mac, -1, 1, wan_mac, WAN_IP,
			  zero6, tpa);
		if (frame_is(out[i], x, 60) && out[i]->port == WAN)
			r++;
		else
			CU_FAIL("unexpected frame from poll");
	}
	free_all(out, k);
	return r;
}

/* Poll every 10 ms over [t0, t1); total requests for tpa. */
static unsigned int
requests_between(struct braid_arp *a, uint64_t t0, uint64_t t1, uint32_t tpa,
		 const uint8_t *ucast)
{
	unsigned int r = 0;

	for (uint64_t t = t0; t < t1; t += 10 * TMS)
		r += requests_at(a, t, tpa, ucast);
	return r;
}

static void
reply_from_gw(struct braid_arp *a, uint64_t t)
{
	struct rte_mbuf *out[4];
	uint8_t b[64];

	arp_bytes(b, wan_mac, gw_mac, -1, 2, gw_mac, GW_IP, wan_mac, WAN_IP);
	CU_ASSERT(feed(a, mk(WAN, b, 60), out, t) == 0);
}

static void
test_resolver(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_ether_addr mac;
	struct braid_arp_entry e;
	char name[32];
	struct braid_arp *a;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(braid_arp_resolve(a, WAN, GW_IP, 0) == -EAGAIN);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == -ENOENT);
	/* requests at 0, 1, 2 s; failed at 3 s */
	CU_ASSERT(requests_at(a, 0, GW_IP, NULL) == 1);
	CU_ASSERT(requests_between(a, 10 * TMS, 1000 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(requests_at(a, 1000 * TMS, GW_IP, NULL) == 1);
	CU_ASSERT(requests_between(a, 1010 * TMS, 3000 * TMS, GW_IP, NULL) == 1);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == -ENOENT);
	CU_ASSERT(requests_at(a, 3000 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == -EHOSTUNREACH);
	CU_ASSERT(braid_arp_resolve(a, WAN, GW_IP, 3000 * TMS) == -EHOSTUNREACH);
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.resolve_failed == 1 && cnt.arp_requests_tx == 3);
	/* back-off 5 s: nothing until 8 s, then a new attempt */
	CU_ASSERT(requests_between(a, 3010 * TMS, 8000 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(requests_between(a, 8000 * TMS, 11000 * TMS, GW_IP, NULL) == 3);
	/* second failure at 11 s: back-off doubles to 10 s */
	CU_ASSERT(requests_between(a, 11000 * TMS, 21000 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(requests_at(a, 21000 * TMS, GW_IP, NULL) == 1);
	/* the gateway answers: reachable, back-off forgotten */
	reply_from_gw(a, 21500 * TMS);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, gw_mac, 6) == 0);
	CU_ASSERT(braid_arp_resolve(a, WAN, GW_IP, 21500 * TMS) == 0);
	CU_ASSERT(requests_between(a, 21510 * TMS, 30000 * TMS, GW_IP, NULL) == 0);
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.resolve_failed == 2 && cnt.arp_replies_rx == 1);

	/* Expiry of a kept next hop (300 s after 21.5 s): refreshed with
	 * unicast requests while the MAC stays usable; answered, it stays. */
	CU_ASSERT(requests_between(a, 30 * TS, 321500 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(requests_at(a, 321500 * TMS, GW_IP, gw_mac) == 1);
	CU_ASSERT(braid_arp_entry_get(a, WAN, GW_IP, &e) == 0 &&
		  e.state == BRAID_ARP_REFRESH);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == 0);
	reply_from_gw(a, 321600 * TMS);
	CU_ASSERT(braid_arp_entry_get(a, WAN, GW_IP, &e) == 0 &&
		  e.state == BRAID_ARP_REACHABLE);
	/* Next expiry unanswered: 2 unicast + 1 broadcast, then failed. */
	CU_ASSERT(requests_between(a, 621600 * TMS, 623600 * TMS, GW_IP, gw_mac) == 2);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == 0);
	CU_ASSERT(requests_between(a, 623600 * TMS, 624600 * TMS, GW_IP, NULL) == 1);
	CU_ASSERT(requests_at(a, 624600 * TMS, GW_IP, NULL) == 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == -EHOSTUNREACH);

	/* A neighbour learned from its request expires after 300 s. */
	{
		struct rte_mbuf *out[4];
		uint8_t b[64];

		arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
		free_all(out, feed(a, mk(LAN, b, 60), out, 700 * TS));
		CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == 0);
		free_all(out, braid_arp_poll(a, 999 * TS, out, 4));
		CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == 0);
		free_all(out, braid_arp_poll(a, 1000 * TS, out, 4));
		CU_ASSERT(braid_arp_lookup(a, LAN, HOST_IP, &mac) == -ENOENT);
		braid_arp_stats(a, &cnt);
		CU_ASSERT(cnt.expired == 1);
	}
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_static(void)
{
	struct braid_arp_conf c;
	struct rte_ether_addr mac, m2;
	struct braid_arp_entry ents[8];
	struct rte_mbuf *out[4];
	uint8_t b[64];
	char name[32];
	struct braid_arp *a;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(braid_arp_lookup(a, WAN, STAT_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, stat_mac, 6) == 0);
	/* resolve on a static entry: nothing to send */
	CU_ASSERT(braid_arp_resolve(a, WAN, STAT_IP, 0) == 0);
	CU_ASSERT(braid_arp_poll(a, 0, out, 4) == 0);
	/* a reply claiming another MAC does not override it */
	arp_bytes(b, wan_mac, gw_mac, -1, 2, gw_mac, STAT_IP, wan_mac, WAN_IP);
	CU_ASSERT(feed(a, mk(WAN, b, 60), out, 0) == 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, STAT_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, stat_mac, 6) == 0);
	/* nor does time */
	braid_arp_poll(a, 100000 * TS, out, 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, STAT_IP, &mac) == 0);
	/* a static entry overrides a learned one */
	reply_from_gw(a, 100000 * TS);
	memcpy(m2.addr_bytes, stat_mac, 6);
	CU_ASSERT(braid_arp_static_set(a, WAN, GW_IP, &m2) == 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == 0);
	CU_ASSERT(memcmp(mac.addr_bytes, stat_mac, 6) == 0);
	CU_ASSERT(braid_arp_dump(a, WAN, ents, 8) == 2);
	CU_ASSERT(braid_arp_forget(a, WAN, GW_IP) == 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, GW_IP, &mac) == -ENOENT);
	CU_ASSERT(braid_arp_forget(a, WAN, GW_IP) == -ENOENT);
	CU_ASSERT(braid_arp_dump(a, WAN, ents, 8) == 1);
	CU_ASSERT(ents[0].ip == STAT_IP && ents[0].state == BRAID_ARP_STATIC);
	CU_ASSERT(braid_arp_static_set(a, WAN, 0, &m2) == -EINVAL);
	CU_ASSERT(braid_arp_lookup(a, OTHER, STAT_IP, &mac) == -EINVAL);
	braid_arp_free(a);
	assert_no_leak();
}

/* A small table fills: learned entries are evicted oldest first, kept
 * next hops and static entries never. */
static void
test_table_bounds(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[4];
	uint8_t b[64];
	char name[32];
	struct braid_arp *a;
	unsigned int present = 0;

	base_conf(&c, name, sizeof(name));
	c.table_size = 16;
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(braid_arp_resolve(a, WAN, GW_IP, 0) == -EAGAIN);
	for (unsigned int i = 10; i < 250; i++) {
		arp_bytes(b, wan_mac, gw_mac, -1, 2, gw_mac, ip4(100, 64, 0, i), wan_mac, WAN_IP);
		CU_ASSERT(feed(a, mk(WAN, b, 60), out, i * TMS) == 0);
	}
	for (unsigned int i = 10; i < 250; i++)
		present += braid_arp_lookup(a, WAN, ip4(100, 64, 0, i), &mac) == 0;
	braid_arp_stats(a, &cnt);
	printf("\n  16-entry table: %u of 240 learned present, %" PRIu64 " evicted, "
	       "%" PRIu64 " full\n", present, cnt.evicted, cnt.table_full);
	CU_ASSERT(present <= 16 && present >= 8);
	CU_ASSERT(cnt.evicted > 0);
	CU_ASSERT(braid_arp_lookup(a, WAN, STAT_IP, &mac) == 0);
	/* the next hop we asked for survived the flood */
	{
		struct braid_arp_entry e;

		CU_ASSERT(braid_arp_entry_get(a, WAN, GW_IP, &e) == 0);
		CU_ASSERT(e.state == BRAID_ARP_INCOMPLETE);
	}
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_pending(void)
{
	struct braid_arp_conf c;
	struct braid_arp_pending_conf pc;
	struct braid_arp_pending_stats pcnt;
	struct braid_arp_pending *q;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[16], *m;
	uint8_t b[128];
	char name[32];
	struct braid_arp *a;
	uint16_t k;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	memset(&pc, 0, sizeof(pc));
	pc.arp = a;
	pc.max_packets = 4;
	pc.max_nexthops = 2;
	pc.timeout_ms = 1500;
	q = braid_arp_pending_create(&pc, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(q != NULL);

	/* 6 frames for the unresolved gateway: 4 queued, 2 overflow */
	for (unsigned int i = 0; i < 6; i++) {
		memset(b, 0, sizeof(b));
		eth_bytes(b, zero6, wan_mac, -1, 0x0800);
		b[20] = (uint8_t)i;
		m = mk(WAN, b, 100);
		CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, GW_IP, m, 0) == (i < 4 ? 0 : -ENOBUFS));
	}
	CU_ASSERT(braid_arp_pending_count(q) == 4);
	/* never sent to a zero MAC: nothing leaves before resolution */
	CU_ASSERT(braid_arp_pending_poll(q, 10 * TMS, out, 16) == 0);
	/* the request reached the resolver through its ring */
	CU_ASSERT(requests_at(a, 10 * TMS, GW_IP, NULL) == 1);
	reply_from_gw(a, 20 * TMS);
	k = braid_arp_pending_poll(q, 30 * TMS, out, 3);
	CU_ASSERT(k == 3);
	k += braid_arp_pending_poll(q, 30 * TMS, out + k, 16);
	CU_ASSERT_FATAL(k == 4);
	for (uint16_t i = 0; i < k; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(out[i], const uint8_t *);

		CU_ASSERT(memcmp(d, gw_mac, 6) == 0);       /* destination set */
		CU_ASSERT(memcmp(d + 6, wan_mac, 6) == 0);  /* source kept */
		CU_ASSERT(d[20] == i);                      /* in order */
	}
	free_all(out, k);
	CU_ASSERT(braid_arp_pending_count(q) == 0);

	/* A next hop that never answers: its frames are dropped 1.5 s after
	 * they were queued (the resolver gives up later, at 4 s). */
	memset(b, 0, sizeof(b));
	eth_bytes(b, zero6, wan_mac, -1, 0x0800);
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 66), mk(WAN, b, 64), 1 * TS) == 0);
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 66), mk(WAN, b, 64),
						1200 * TMS) == 0);
	/* a second next hop takes the last slot (max_nexthops 2) ... */
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 67), mk(WAN, b, 64), 1 * TS) == 0);
	/* ... so a third finds none */
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 68), mk(WAN, b, 64), 1 * TS) ==
		  -ENOBUFS);
	for (uint64_t t = 1 * TS; t < 2500 * TMS; t += 10 * TMS) {
		free_all(out, braid_arp_poll(a, t, out, 16));
		CU_ASSERT(braid_arp_pending_poll(q, t, out, 16) == 0);
	}
	braid_arp_pending_stats(q, &pcnt);
	CU_ASSERT(pcnt.drop_unresolved_timeout == 0);
	CU_ASSERT(braid_arp_pending_count(q) == 3);
	CU_ASSERT(braid_arp_pending_poll(q, 2600 * TMS, out, 16) == 0);
	braid_arp_pending_stats(q, &pcnt);
	CU_ASSERT(pcnt.drop_unresolved_timeout == 2);  /* the two of 1.0 s */
	CU_ASSERT(braid_arp_pending_count(q) == 1);    /* the one of 1.2 s */
	CU_ASSERT(braid_arp_pending_poll(q, 2700 * TMS, out, 16) == 0);
	braid_arp_pending_stats(q, &pcnt);
	CU_ASSERT(pcnt.drop_unresolved_timeout == 3);
	CU_ASSERT(braid_arp_pending_count(q) == 0);
	/* Requests at 1, 2, 3 s; failed at 4 s. Frames for a next hop in
	 * its back-off are dropped at once. */
	for (uint64_t t = 2500 * TMS; t <= 4000 * TMS; t += 10 * TMS)
		free_all(out, braid_arp_poll(a, t, out, 16));
	CU_ASSERT(braid_arp_lookup(a, WAN, ip4(100, 64, 0, 66), &mac) == -EHOSTUNREACH);
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 66), mk(WAN, b, 64), 4 * TS) == 0);
	CU_ASSERT(braid_arp_pending_poll(q, 4 * TS, out, 16) == 0);
	CU_ASSERT(braid_arp_pending_count(q) == 0);
	/* Frames that cannot be written in place are refused. */
	m = mk(WAN, b, 64);
	rte_mbuf_refcnt_update(m, 1);
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, GW_IP, m, 4 * TS) == -EINVAL);
	rte_pktmbuf_free(m);
	CU_ASSERT(braid_arp_pending_enqueue_one(q, OTHER, GW_IP, mk(WAN, b, 64), 4 * TS) == -EINVAL);
	/* one left queued: freed (flushed) with the queue */
	CU_ASSERT(braid_arp_pending_enqueue_one(q, WAN, ip4(100, 64, 0, 70), mk(WAN, b, 64), 4 * TS) == 0);
	braid_arp_pending_stats(q, &pcnt);
	CU_ASSERT(pcnt.queued == 9);
	CU_ASSERT(pcnt.released == 4 && pcnt.drop_unresolved_overflow == 3);
	CU_ASSERT(pcnt.drop_unresolved_failed == 1 && pcnt.drop_bad_frame == 2);
	CU_ASSERT(pcnt.queued == pcnt.released + pcnt.drop_unresolved_timeout +
		  pcnt.drop_unresolved_failed + braid_arp_pending_count(q));
	braid_arp_pending_free(q);
	braid_arp_free(a);
	assert_no_leak();
}

static void
test_icmp_echo(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_mbuf *out[4];
	uint8_t b[1600], x[1600], pay[1200];
	char name[32];
	struct braid_arp *a;
	unsigned int len, xlen;
	uint16_t k;

	for (unsigned int i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7 + 3);
	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);

	/* 56-byte ping, the exact reply: addresses swapped, TTL 64, type 0,
	 * IP id from our counter (0 first), checksums per RFC 1071. */
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, LAN_IP, 57, 0xbeef, 7, pay, 56);
	k = feed(a, mk(LAN, b, len), out, 0);
	CU_ASSERT_FATAL(k == 1);
	xlen = icmp_bytes(x, host_mac, lan_mac, -1, 0, LAN_IP, HOST_IP, 64, 0xbeef, 7, pay, 56);
	put16(x + 14 + 4, 0);                       /* IP id 0 */
	put16(x + 14 + 10, 0);
	put16(x + 14 + 10, ref_cksum(x + 14, 20));
	CU_ASSERT(frame_is(out[0], x, xlen));
	CU_ASSERT(ref_cksum(rte_pktmbuf_mtod_offset(out[0], uint8_t *, 14), 20) == 0);
	CU_ASSERT(ref_cksum(rte_pktmbuf_mtod_offset(out[0], uint8_t *, 34), 64) == 0);
	free_all(out, k);

	/* tagged, two segments, 1200-byte payload, odd length */
	len = icmp_bytes(b, lan_mac, host_mac, 0x0007, 8, ip4(10, 20, 9, 9), LAN_IP2, 64,
			 1, 2, pay, 1199);
	k = feed(a, mk2(LAN, b, len, 700), out, 0);
	CU_ASSERT_FATAL(k == 1);
	xlen = icmp_bytes(x, host_mac, lan_mac, 0x0007, 0, LAN_IP2, ip4(10, 20, 9, 9), 64,
			  1, 2, pay, 1199);
	put16(x + 18 + 4, 1);                       /* IP id 1 */
	put16(x + 18 + 10, 0);
	put16(x + 18 + 10, ref_cksum(x + 18, 20));
	CU_ASSERT(frame_is(out[0], x, xlen));
	free_all(out, k);

	/* refusals */
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	b[14 + 20 + 8] ^= 1;                        /* payload changed */
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	b[14 + 8] = 63;                             /* TTL, IP checksum stale */
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, ip4(192, 168, 1, 9), 64, 1, 1,
			 pay, 20);
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);        /* not ours */
	len = icmp_bytes(b, bcast, host_mac, -1, 8, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);        /* L2 broadcast */
	len = icmp_bytes(b, lan_mac, host_mac, -1, 0, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);        /* an echo reply */
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	b[14 + 6] = 0x20;                           /* MF */
	put16(b + 14 + 10, 0);
	put16(b + 14 + 10, ref_cksum(b + 14, 20));
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, HOST_IP, LAN_IP, 64, 1, 1, pay, 20);
	put16(b + 14 + 2, 200);                     /* total length > frame */
	put16(b + 14 + 10, 0);
	put16(b + 14 + 10, ref_cksum(b + 14, 20));
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);
	len = icmp_bytes(b, lan_mac, host_mac, -1, 8, ip4(192, 168, 1, 255), LAN_IP, 64, 1, 1,
			 pay, 20);
	CU_ASSERT(feed(a, mk(LAN, b, len), out, 0) == 0);        /* subnet broadcast source */
	braid_arp_stats(a, &cnt);
	CU_ASSERT(cnt.icmp_echo_rx == 2 && cnt.icmp_echo_tx == 2);
	CU_ASSERT(cnt.drop_bad_cksum == 2);
	CU_ASSERT(cnt.drop_not_for_us == 2);
	CU_ASSERT(cnt.drop_unsupported == 1);
	CU_ASSERT(cnt.drop_fragment == 1);
	CU_ASSERT(cnt.drop_malformed == 2);
	braid_arp_free(a);
	assert_no_leak();
}

/* Random and mutated frames: no crash, each counted once, no leak. */
static void
test_fuzz(void)
{
	struct braid_arp_conf c;
	struct braid_arp_stats cnt;
	struct rte_mbuf *in[32], *out[32];
	uint8_t b[256], pay[64];
	char name[32];
	struct braid_arp *a;
	uint64_t rng = seed ^ 0xf022, answers = 0, bad_answers = 0;
	uint64_t in_sum;

	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	memset(pay, 0x5a, sizeof(pay));
	for (unsigned int done = 0; done < FUZZ_FRAMES;) {
		uint16_t n = (uint16_t)(1 + braid_test_rand(&rng) % 32), k;

		for (uint16_t i = 0; i < n; i++) {
			uint64_t r = braid_test_rand(&rng);
			unsigned int len, kind = r % 5;
			int tci = (r >> 8) % 4 == 0 ? (int)((r >> 12) & 0xffff) : -1;
			uint16_t port = (r >> 30) % 8 == 0 ? OTHER : ((r >> 33) & 1 ? LAN : WAN);

			if (kind == 0)
				len = arp_bytes(b, bcast, host_mac, tci, 1, host_mac, HOST_IP,
						zero6, LAN_IP);
			else if (kind == 1)
				len = arp_bytes(b, lan_mac, gw_mac, tci, 2, gw_mac,
						ip4(192, 168, 1, (r >> 40) & 0xff), lan_mac, LAN_IP);
			else if (kind == 2)
				len = icmp_bytes(b, lan_mac, host_mac, tci, 8, HOST_IP, LAN_IP, 64,
						 1, 2, pay, (unsigned int)((r >> 20) % 64));
			else if (kind == 3)
				len = icmp_bytes(b, wan_mac, gw_mac, tci, 8, GW_IP, WAN_IP, 64,
						 1, 2, pay, (unsigned int)((r >> 20) % 64));
			else {
				len = (unsigned int)(r >> 20) % 200;
				for (unsigned int j = 0; j < len; j++)
					b[j] = (uint8_t)braid_test_rand(&rng);
			}
			/* mutate a few bytes, maybe truncate */
			for (unsigned int j = (unsigned int)((r >> 44) % 4); j > 0 && len > 0; j--)
				b[braid_test_rand(&rng) % len] = (uint8_t)braid_test_rand(&rng);
			if ((r >> 50) % 4 == 0 && len > 0)
				len = (unsigned int)(braid_test_rand(&rng) % len);
			if (len > 20 && (r >> 54) % 4 == 0)
				in[i] = mk2(port, b, len, 1 + (unsigned int)(r >> 56) % (len - 1));
			else
				in[i] = len > 0 ? mk(port, b, len) : rte_pktmbuf_alloc(pool);
			CU_ASSERT_FATAL(in[i] != NULL);
			in[i]->port = port;
		}
		k = braid_arp_burst(a, in, n, out, (uint64_t)done * TMS);
		CU_ASSERT(k <= n);
		for (uint16_t i = 0; i < k; i++) {
			const uint8_t *d = rte_pktmbuf_mtod(out[i], const uint8_t *);
			const uint8_t *src = out[i]->port == LAN ? lan_mac : wan_mac;

			answers++;
			if (out[i]->pkt_len < 60 || memcmp(d + 6, src, 6) != 0 ||
			    out[i]->nb_segs != 1)
				bad_answers++;
		}
		free_all(out, k);
		k = braid_arp_poll(a, (uint64_t)done * TMS, out, 32);
		free_all(out, k);
		done += n;
	}
	braid_arp_stats(a, &cnt);
	in_sum = cnt.arp_requests_rx + cnt.arp_replies_rx + cnt.arp_gratuitous_rx +
		 cnt.icmp_echo_rx + cnt.drop_not_for_us + cnt.drop_malformed +
		 cnt.drop_bad_cksum + cnt.drop_fragment + cnt.drop_unsupported +
		 cnt.drop_unknown_port;
	printf("\n  %" PRIu64 " frames: %" PRIu64 " requests, %" PRIu64 " replies, %" PRIu64
	       " echo, %" PRIu64 " malformed, %" PRIu64 " bad cksum, %" PRIu64
	       " not for us, %" PRIu64 " unsupported, %" PRIu64 " unknown port; %" PRIu64
	       " answers\n", cnt.rx_frames, cnt.arp_requests_rx, cnt.arp_replies_rx,
	       cnt.icmp_echo_rx, cnt.drop_malformed, cnt.drop_bad_cksum, cnt.drop_not_for_us,
	       cnt.drop_unsupported, cnt.drop_unknown_port, answers);
	CU_ASSERT(cnt.rx_frames >= 20000);
	CU_ASSERT(in_sum == cnt.rx_frames);
	CU_ASSERT(answers == cnt.arp_replies_tx + cnt.icmp_echo_tx);
	CU_ASSERT(bad_answers == 0);
	/* every class must have been hit for the fuzz to mean much */
	CU_ASSERT(cnt.arp_requests_rx > 0 && cnt.arp_replies_rx > 0 && cnt.icmp_echo_rx > 0 &&
		  cnt.drop_malformed > 0 && cnt.drop_bad_cksum > 0 && cnt.drop_not_for_us > 0 &&
		  cnt.drop_unsupported > 0 && cnt.drop_unknown_port > 0);
	braid_arp_free(a);
	assert_no_leak();
}

static void
count_stat(void *arg, const char *name,
	   const struct braid_stat_labels *labels, uint64_t v)
{
	unsigned int *n = arg;

	RTE_SET_USED(labels);
	RTE_SET_USED(name);
	RTE_SET_USED(v);
	(*n)++;
}

static void
test_stage_ops(void)
{
	struct braid_arp_conf c;
	struct braid_burst *out = calloc(1, sizeof(*out));
	struct rte_mbuf *m;
	uint8_t b[64];
	char name[32];
	struct braid_arp *a;
	unsigned int nstat = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	base_conf(&c, name, sizeof(name));
	c.garp_count = 1;
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(strcmp(braid_arp_stage_ops.kind, "arp") == 0);
	/* poll: the announcements */
	CU_ASSERT(braid_arp_stage_ops.poll(a, out, 0) == 3);
	CU_ASSERT(out->n == 3);
	free_all(out->pkts, out->n);
	out->n = 0;
	/* process: one request, one answer */
	arp_bytes(b, bcast, host_mac, -1, 1, host_mac, HOST_IP, zero6, LAN_IP);
	m = mk(LAN, b, 60);
	CU_ASSERT_FATAL(m != NULL);
	braid_arp_stage_ops.process(a, &m, 1, out, 0);
	CU_ASSERT(out->n == 1 && out->pkts[0]->port == LAN);
	free_all(out->pkts, out->n);
	/* a full output: the answer is counted, not leaked */
	out->n = BRAID_BURST_OUT_MAX;
	m = mk(LAN, b, 60);
	braid_arp_stage_ops.process(a, &m, 1, out, 0);
	{
		struct braid_arp_stats cnt;

		braid_arp_stats(a, &cnt);
		CU_ASSERT(cnt.drop_out_full == 1);
	}
	braid_arp_stage_ops.stats(a, count_stat, &nstat);
	CU_ASSERT(nstat == 26);  /* every counter reported once */
	braid_arp_free(a);
	free(out);
	assert_no_leak();
}

/* ------------------------------------------- lock-free lookup, 2 lcores */

/* Counts, not times: the reader looks up until READER_HITS lookups have
 * found the entry; the writer keeps rewriting it until it has done at
 * least WRITER_MIN updates and the reader is done, so every counted
 * lookup overlaps the writes however the two lcores are scheduled. Only
 * a machine stuck for CONCURRENT_CAP_S seconds ends it early (a failure
 * that says so). */
#define READER_HITS 20000u
#define WRITER_MIN 400000u
#define CONCURRENT_CAP_S 120u

struct reader_arg {
	const struct braid_arp *a;
	uint32_t abort;         /* atomic: the writer gave up (safety cap) */
	uint32_t done;          /* atomic: READER_HITS lookups found the entry */
	uint64_t reads, hits, torn, missing;
};

static int
reader_main(void *arg)
{
	struct reader_arg *r = arg;

	while (r->hits < READER_HITS && !__atomic_load_n(&r->abort, __ATOMIC_ACQUIRE)) {
		struct rte_ether_addr mac;
		int ret = braid_arp_lookup(r->a, WAN, GW_IP, &mac);

		r->reads++;
		if (ret != 0) {
			r->missing++;
			continue;
		}
		r->hits++;
		/* every MAC the writer stores has six equal bytes after the
		 * first (02:XX:XX:XX:XX:XX) */
		for (int i = 2; i < 6; i++)
			if (mac.addr_bytes[i] != mac.addr_bytes[1] || mac.addr_bytes[0] != 0x02) {
				r->torn++;
				break;
			}
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return 0;
}

static void
test_concurrent_lookup(void)
{
	struct braid_arp_conf c;
	struct reader_arg ra;
	char name[32];
	struct braid_arp *a;
	unsigned int lc;
	uint64_t writes = 0, cap;
	bool stuck = false;

	lc = rte_get_next_lcore(-1, 1, 0);
	if (lc >= RTE_MAX_LCORE) {
		CU_FAIL("needs a second lcore");
		return;
	}
	base_conf(&c, name, sizeof(name));
	a = mk_arp(&c);
	CU_ASSERT_FATAL(a != NULL);
	memset(&ra, 0, sizeof(ra));
	ra.a = a;
	cap = braid_test_deadline(CONCURRENT_CAP_S);
	CU_ASSERT_FATAL(rte_eal_remote_launch(reader_main, &ra, lc) == 0);
	/* the writer: static rewrites, learning, forgetting */
	for (unsigned int i = 0;
	     i < WRITER_MIN || !__atomic_load_n(&ra.done, __ATOMIC_ACQUIRE); i++) {
		struct rte_ether_addr mac;
		uint8_t v = (uint8_t)(i * 37 + 1);

		if (i % 1024 == 0 && braid_test_past(cap)) {
			stuck = true;
			__atomic_store_n(&ra.abort, 1, __ATOMIC_RELEASE);
			break;
		}
		memset(mac.addr_bytes, v, 6);
		mac.addr_bytes[0] = 0x02;
		if (i % 3 == 0) {
			braid_arp_static_set(a, WAN, GW_IP, &mac);
		} else if (i % 3 == 1) {
			struct rte_mbuf *out[2];
			uint8_t b[64];

			braid_arp_forget(a, WAN, GW_IP);
			arp_bytes(b, wan_mac, mac.addr_bytes, -1, 2, mac.addr_bytes, GW_IP,
				  wan_mac, WAN_IP);
			CU_ASSERT(feed(a, mk(WAN, b, 60), out, i) == 0);
		} else {
			braid_arp_forget(a, WAN, GW_IP);
			braid_arp_static_set(a, WAN, GW_IP, &mac);
		}
		writes++;
	}
	rte_eal_wait_lcore(lc);
	printf("\n  %" PRIu64 " writes; reader: %" PRIu64 " lookups, %" PRIu64 " hits, %"
	       PRIu64 " not found, %" PRIu64 " torn\n", writes, ra.reads, ra.hits,
	       ra.missing, ra.torn);
	if (stuck)
		printf("  machine stuck: %u s passed with %" PRIu64 " of %u hits and %"
		       PRIu64 " of %u writes\n", CONCURRENT_CAP_S, ra.hits, READER_HITS,
		       writes, WRITER_MIN);
	CU_ASSERT(!stuck);
	CU_ASSERT(ra.torn == 0);
	CU_ASSERT(ra.hits == READER_HITS);
	CU_ASSERT(writes >= WRITER_MIN);
	braid_arp_free(a);
	assert_no_leak();
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("arp", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "request for us: exact reply", test_request_reply) == NULL ||
	    CU_add_test(s, "not for us: no reply", test_not_for_us) == NULL ||
	    CU_add_test(s, "gratuitous ARP and conflicts", test_gratuitous) == NULL ||
	    CU_add_test(s, "resolver: retry, fail, back-off, expiry", test_resolver) == NULL ||
	    CU_add_test(s, "static entries override", test_static) == NULL ||
	    CU_add_test(s, "bounded table, eviction", test_table_bounds) == NULL ||
	    CU_add_test(s, "pending queue", test_pending) == NULL ||
	    CU_add_test(s, "ICMP echo: exact reply, refusals", test_icmp_echo) == NULL ||
	    CU_add_test(s, "fuzz: random and mutated frames", test_fuzz) == NULL ||
	    CU_add_test(s, "stage ops", test_stage_ops) == NULL ||
	    CU_add_test(s, "lock-free lookup from a second lcore", test_concurrent_lookup) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("arp", register_tests);
}
