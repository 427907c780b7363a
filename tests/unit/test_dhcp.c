/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dhcp on a virtual clock against a scripted server: a lease taken,
 * renewed at T1 (unicast), rebound at T2 (broadcast), lost at expiry;
 * NAKs; retransmission times; replies that must change nothing; the
 * parser on every truncation and on random damage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>

#include "braid_dhcp.h"
#include "braid_test_dhcp.h"
#include "harness.h"

#define S 1000000000ULL
#define BCAST 0xffffffffu
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static uint64_t seed;
static const struct rte_ether_addr cli_mac = {{ 0x02, 0, 0, 0, 0xd0, 0x01 }};
static const struct rte_ether_addr srv_mac = {{ 0x02, 0, 0, 0, 0xd0, 0x99 }};
static const uint32_t srv_ip = IP(10, 99, 1, 1);

/* The reply of @p type to the client's message @p req. */
static struct braid_test_dhcp_reply
answer(const struct braid_dhcp_tx *req, uint8_t type, uint32_t yiaddr, uint32_t lease_s)
{
	struct braid_dhcp_msg m;

	CU_ASSERT_FATAL(braid_dhcp_parse(req->msg, req->len, &m) == 0);
	return (struct braid_test_dhcp_reply){ .type = type, .xid = m.xid, .yiaddr = yiaddr,
			       .server_id = srv_ip, .mask = 0xffffff00u,
			       .router = srv_ip, .lease_s = lease_s, .chaddr = m.chaddr };
}

static int
deliver(struct braid_dhcp *d, const struct braid_test_dhcp_reply *r, uint64_t now)
{
	uint8_t b[BRAID_DHCP_MSG_MAX];
	size_t n = braid_test_dhcp_write(r, b);

	return braid_dhcp_input(d, b, n, &srv_mac, now);
}

static struct braid_dhcp *
client(uint64_t now)
{
	struct braid_dhcp_conf c = { .mac = cli_mac, .seed = seed, .hostname = "braid-gwa" };
	struct braid_dhcp *d = braid_dhcp_create(&c, now);

	CU_ASSERT_FATAL(d != NULL);
	return d;
}

/* The message the client sends at @p now: its type (0: none). */
static uint8_t
poll_type(struct braid_dhcp *d, uint64_t now, struct braid_dhcp_tx *tx)
{
	struct braid_dhcp_msg m;

	if (braid_dhcp_poll(d, now, tx) == 0)
		return 0;
	CU_ASSERT_FATAL(braid_dhcp_parse(tx->msg, tx->len, &m) == 0);
	CU_ASSERT(m.op == 1);
	CU_ASSERT(rte_is_same_ether_addr(&m.chaddr, &cli_mac));
	CU_ASSERT(tx->len >= 300 && tx->len <= BRAID_DHCP_MSG_MAX);
	return m.type;
}

/* DISCOVER, OFFER, REQUEST, ACK at t=@p t0: the lease of @p ip. */
static void
acquire(struct braid_dhcp *d, uint64_t t0, uint32_t ip, uint32_t lease_s)
{
	struct braid_dhcp_tx tx;
	struct braid_dhcp_msg m;
	struct braid_test_dhcp_reply r;

	CU_ASSERT_FATAL(poll_type(d, t0, &tx) == BRAID_DHCP_DISCOVER);
	CU_ASSERT(tx.src_ip == 0 && tx.dst_ip == BCAST);
	CU_ASSERT(rte_is_broadcast_ether_addr(&tx.dst_mac));
	r = answer(&tx, BRAID_DHCP_OFFER, ip, lease_s);
	CU_ASSERT_FATAL(deliver(d, &r, t0) == 0);
	CU_ASSERT_FATAL(poll_type(d, t0, &tx) == BRAID_DHCP_REQUEST);
	CU_ASSERT_FATAL(braid_dhcp_parse(tx.msg, tx.len, &m) == 0);
	CU_ASSERT(m.requested == ip && m.server_id == srv_ip && m.ciaddr == 0);
	CU_ASSERT(tx.dst_ip == BCAST);
	r = answer(&tx, BRAID_DHCP_ACK, ip, lease_s);
	CU_ASSERT_FATAL(deliver(d, &r, t0 + S / 100) == 0);
	CU_ASSERT(braid_dhcp_state(d) == BRAID_DHCP_BOUND);
}

static void
test_lease_cycle(void)
{
	struct braid_dhcp *d = client(0);
	const uint32_t ip = IP(10, 99, 1, 50);
	struct braid_dhcp_lease l;
	struct braid_dhcp_stats st;
	struct braid_dhcp_tx tx;
	struct braid_dhcp_msg m;
	struct braid_test_dhcp_reply r;
	uint64_t t;

	CU_ASSERT(!braid_dhcp_lease(d, &l));
	acquire(d, 0, ip, 600);
	CU_ASSERT_FATAL(braid_dhcp_lease(d, &l));
	CU_ASSERT(l.ip == ip && l.prefix == 24 && l.router == srv_ip && l.server == srv_ip);
	CU_ASSERT(rte_is_same_ether_addr(&l.server_mac, &srv_mac));
	CU_ASSERT(l.t1_ns == 300 * S && l.t2_ns == 525 * S && l.expire_ns == 600 * S);
	CU_ASSERT(poll_type(d, 300 * S - 1, &tx) == 0);

	/* T1: REQUEST unicast to the server, from our address */
	CU_ASSERT_FATAL(poll_type(d, 300 * S, &tx) == BRAID_DHCP_REQUEST);
	CU_ASSERT(braid_dhcp_state(d) == BRAID_DHCP_RENEWING);
	CU_ASSERT(tx.src_ip == ip && tx.dst_ip == srv_ip);
	CU_ASSERT(rte_is_same_ether_addr(&tx.dst_mac, &srv_mac));
	CU_ASSERT_FATAL(braid_dhcp_parse(tx.msg, tx.len, &m) == 0);
	CU_ASSERT(m.ciaddr == ip && m.requested == 0 && m.server_id == 0);
	r = answer(&tx, BRAID_DHCP_ACK, ip, 600);
	CU_ASSERT(deliver(d, &r, 301 * S) == 0);
	CU_ASSERT_FATAL(braid_dhcp_lease(d, &l));
	CU_ASSERT(l.start_ns == 300 * S && l.expire_ns == 900 * S);

	/* T1 again, no answer: REQUESTs (each >= 60 s apart, none past T2),
	 * then at T2 broadcast REQUESTs, then at expiry the lease is lost */
	t = l.t1_ns;
	CU_ASSERT(poll_type(d, t, &tx) == BRAID_DHCP_REQUEST);
	for (uint64_t now = t + S; now < l.t2_ns; now += S) {
		if (poll_type(d, now, &tx) != 0) {
			CU_ASSERT(now - t >= 60 * S);
			CU_ASSERT(tx.dst_ip == srv_ip);
			t = now;
		}
	}
	CU_ASSERT_FATAL(poll_type(d, l.t2_ns, &tx) == BRAID_DHCP_REQUEST);
	CU_ASSERT(braid_dhcp_state(d) == BRAID_DHCP_REBINDING);
	CU_ASSERT(tx.dst_ip == BCAST && tx.src_ip == ip && rte_is_broadcast_ether_addr(&tx.dst_mac));
	for (uint64_t now = l.t2_ns + S; now < l.expire_ns; now += S)
		if (poll_type(d, now, &tx) != 0)
			CU_ASSERT(tx.dst_ip == BCAST);
	CU_ASSERT(braid_dhcp_lease(d, &l));
	CU_ASSERT(poll_type(d, l.expire_ns, &tx) == BRAID_DHCP_DISCOVER);
	CU_ASSERT(!braid_dhcp_lease(d, &l));
	braid_dhcp_stats(d, &st);
	CU_ASSERT(st.dhcp_leases == 1 && st.dhcp_renewals == 1 && st.dhcp_leases_lost == 1);
	CU_ASSERT(st.drop_dhcp_bad == 0 && st.drop_dhcp_stale == 0);
	braid_dhcp_free(d);
}

/* A NAK at renewal (the server moved us): no lease, DISCOVER after 1 s,
 * a new address. */
static void
test_nak_new_address(void)
{
	struct braid_dhcp *d = client(0);
	struct braid_dhcp_lease l;
	struct braid_dhcp_stats st;
	struct braid_dhcp_tx tx;
	struct braid_test_dhcp_reply r;

	acquire(d, 0, IP(10, 99, 1, 50), 120);
	CU_ASSERT_FATAL(poll_type(d, 60 * S, &tx) == BRAID_DHCP_REQUEST);
	r = answer(&tx, BRAID_DHCP_NAK, 0, 0);
	r.mask = r.router = 0;
	CU_ASSERT(deliver(d, &r, 60 * S) == 0);
	CU_ASSERT(!braid_dhcp_lease(d, &l));
	CU_ASSERT(poll_type(d, 60 * S + S / 2, &tx) == 0);
	acquire(d, 61 * S, IP(10, 99, 7, 9), 120);
	CU_ASSERT_FATAL(braid_dhcp_lease(d, &l));
	CU_ASSERT(l.ip == IP(10, 99, 7, 9));
	braid_dhcp_stats(d, &st);
	CU_ASSERT(st.dhcp_naks == 1 && st.dhcp_leases == 2 && st.dhcp_leases_lost == 1);
	braid_dhcp_free(d);
}

/* DISCOVERs 4, 8, 16, 32, 64, 64 s apart (+-1 s); REQUESTs given up
 * after 4 tries; NAKs in a row back off. */
static void
test_retransmissions(void)
{
	static const uint32_t gap_s[] = { 4, 8, 16, 32, 64, 64, 64 };
	struct braid_dhcp *d = client(0);
	struct braid_dhcp_tx tx;
	uint64_t last = 0, now;
	unsigned int k = 0, requests = 0;
	struct braid_test_dhcp_reply r;

	CU_ASSERT_FATAL(poll_type(d, 0, &tx) == BRAID_DHCP_DISCOVER);
	for (now = S / 10; k < RTE_DIM(gap_s); now += S / 10) {
		if (poll_type(d, now, &tx) == 0)
			continue;
		CU_ASSERT(now - last >= gap_s[k] * S - S && now - last <= gap_s[k] * S + S + S / 10);
		last = now;
		k++;
	}
	/* an offer, then silence: 4 REQUESTs, then DISCOVER again */
	r = answer(&tx, BRAID_DHCP_OFFER, IP(10, 99, 1, 51), 600);
	CU_ASSERT(deliver(d, &r, now) == 0);
	for (;; now += S / 10) {
		uint8_t t = poll_type(d, now, &tx);

		if (t == BRAID_DHCP_REQUEST)
			requests++;
		if (t == BRAID_DHCP_DISCOVER)
			break;
	}
	CU_ASSERT(requests == 4);
	/* NAKs in a row: the next DISCOVER waits 1, 2, 4 s */
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t at;

		r = answer(&tx, BRAID_DHCP_OFFER, IP(10, 99, 1, 51), 600);
		CU_ASSERT(deliver(d, &r, now) == 0);
		CU_ASSERT_FATAL(poll_type(d, now, &tx) == BRAID_DHCP_REQUEST);
		r = answer(&tx, BRAID_DHCP_NAK, 0, 0);
		CU_ASSERT(deliver(d, &r, now) == 0);
		for (at = now + S / 10; poll_type(d, at, &tx) == 0; at += S / 10)
			;
		CU_ASSERT(at - now >= (S << i) && at - now <= (S << i) + S / 10);
		now = at;
	}
	braid_dhcp_free(d);
}

/* Replies that are not ours or not expected change nothing. */
static void
test_stale_and_bad(void)
{
	struct braid_dhcp *d = client(0);
	struct braid_dhcp_lease l;
	struct braid_dhcp_stats st;
	struct braid_dhcp_tx tx;
	uint8_t b[BRAID_DHCP_MSG_MAX];
	struct braid_test_dhcp_reply r, ok;

	CU_ASSERT_FATAL(poll_type(d, 0, &tx) == BRAID_DHCP_DISCOVER);
	ok = answer(&tx, BRAID_DHCP_OFFER, IP(10, 99, 1, 50), 600);
	r = ok, r.xid ^= 1;
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r = ok, r.chaddr.addr_bytes[5] ^= 1;
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r = ok, r.type = BRAID_DHCP_ACK;            /* an ACK before any REQUEST */
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r = ok, r.yiaddr = IP(224, 0, 0, 1);
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r = ok, r.server_id = 0;
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r = ok, r.mask = 0xff00ff00u;               /* not contiguous */
	CU_ASSERT(deliver(d, &r, 0) == -EINVAL);
	CU_ASSERT(braid_dhcp_state(d) == BRAID_DHCP_SELECTING);
	/* a second server's offer while we request from the first */
	CU_ASSERT(deliver(d, &ok, 0) == 0);
	CU_ASSERT_FATAL(poll_type(d, 0, &tx) == BRAID_DHCP_REQUEST);
	r = answer(&tx, BRAID_DHCP_ACK, IP(10, 99, 1, 50), 600);
	r.server_id = IP(10, 99, 1, 2);
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	r.server_id = srv_ip, r.lease_s = 0;        /* an ACK without a lease */
	CU_ASSERT(deliver(d, &r, 0) == -ENOENT);
	CU_ASSERT(!braid_dhcp_lease(d, &l));
	r.lease_s = 600;
	CU_ASSERT(deliver(d, &r, 0) == 0);
	/* bound: offers, ACKs and NAKs of the finished transaction are stale */
	r.type = BRAID_DHCP_NAK;
	CU_ASSERT(deliver(d, &r, S) == -ENOENT);
	CU_ASSERT(braid_dhcp_lease(d, &l) && l.ip == IP(10, 99, 1, 50));
	/* truncated anywhere: malformed, never read past the end */
	r.type = BRAID_DHCP_ACK;
	for (size_t n = 0, len = braid_test_dhcp_write(&r, b); n < len; n++)
		CU_ASSERT(braid_dhcp_input(d, b, n, &srv_mac, S) == -EINVAL);
	braid_dhcp_stats(d, &st);
	CU_ASSERT(st.drop_dhcp_stale == 8 && st.dhcp_offers == 1 && st.dhcp_acks == 1);
	CU_ASSERT(braid_dhcp_state(d) == BRAID_DHCP_BOUND);
	braid_dhcp_free(d);
}

/* T1/T2 from the server when consistent, 1/2 and 7/8 otherwise; no mask:
 * the address's class; an infinite lease never renews. */
static void
test_lease_times(void)
{
	struct braid_dhcp *d = client(0);
	struct braid_dhcp_lease l;
	struct braid_dhcp_tx tx;
	struct braid_test_dhcp_reply r;

	CU_ASSERT_FATAL(poll_type(d, 0, &tx) == BRAID_DHCP_DISCOVER);
	r = answer(&tx, BRAID_DHCP_OFFER, IP(172, 16, 0, 9), 1000);
	CU_ASSERT(deliver(d, &r, 0) == 0);
	CU_ASSERT_FATAL(poll_type(d, 0, &tx) == BRAID_DHCP_REQUEST);
	r = answer(&tx, BRAID_DHCP_ACK, IP(172, 16, 0, 9), 1000);
	r.t1_s = 10, r.t2_s = 20, r.mask = 0;
	CU_ASSERT(deliver(d, &r, 0) == 0);
	CU_ASSERT_FATAL(braid_dhcp_lease(d, &l));
	CU_ASSERT(l.t1_ns == 10 * S && l.t2_ns == 20 * S && l.prefix == 16);
	CU_ASSERT_FATAL(poll_type(d, 10 * S, &tx) == BRAID_DHCP_REQUEST);
	r = answer(&tx, BRAID_DHCP_ACK, IP(172, 16, 0, 9), 1000);
	r.t1_s = 30, r.t2_s = 20;                   /* T1 after T2: ignored */
	CU_ASSERT(deliver(d, &r, 10 * S) == 0);
	CU_ASSERT_FATAL(braid_dhcp_lease(d, &l));
	CU_ASSERT(l.t1_ns == 510 * S && l.t2_ns == 885 * S);
	CU_ASSERT_FATAL(poll_type(d, 510 * S, &tx) == BRAID_DHCP_REQUEST);
	r = answer(&tx, BRAID_DHCP_ACK, IP(172, 16, 0, 9), UINT32_MAX);
	CU_ASSERT(deliver(d, &r, 510 * S) == 0);
	CU_ASSERT(braid_dhcp_next_ns(d) == UINT64_MAX);
	CU_ASSERT(poll_type(d, UINT64_MAX / 2, &tx) == 0);
	CU_ASSERT(braid_dhcp_lease(d, &l));
	braid_dhcp_free(d);
}

/* Random damage to a valid reply: parses or is refused, never crashes;
 * what parses as an ACK to us takes a lease only with an address and a
 * lease time. */
static void
test_parse_random(void)
{
	uint64_t rng = seed;
	struct braid_test_dhcp_reply r = { .type = BRAID_DHCP_ACK, .xid = 7, .yiaddr = IP(10, 0, 0, 2),
			   .server_id = srv_ip, .mask = 0xffffff00u, .router = srv_ip,
			   .lease_s = 60, .chaddr = cli_mac };
	unsigned int parsed = 0;

	for (unsigned int i = 0; i < 20000; i++) {
		uint8_t b[BRAID_DHCP_MSG_MAX];
		size_t n = braid_test_dhcp_write(&r, b);
		struct braid_dhcp_msg m;
		unsigned int flips = 1 + braid_test_rand(&rng) % 4;

		for (unsigned int f = 0; f < flips; f++)
			b[braid_test_rand(&rng) % n] ^= (uint8_t)(1 + braid_test_rand(&rng) % 255);
		if (braid_dhcp_parse(b, n, &m) == 0) {
			parsed++;
			CU_ASSERT(m.type >= BRAID_DHCP_DISCOVER && m.type <= BRAID_DHCP_INFORM);
			CU_ASSERT(m.prefix <= 32);
			CU_ASSERT(m.mtu == 0 || m.mtu >= 68);
		}
	}
	CU_ASSERT(parsed > 0 && parsed < 20000);
}

static int
register_tests(void)
{
	CU_pSuite s;

	seed = braid_test_seed(0xd4c9);
	printf("dhcp: seed %" PRIu64 "\n", seed);
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	s = CU_add_suite("dhcp", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "lease, renew, rebind, expiry", test_lease_cycle) == NULL ||
	    CU_add_test(s, "NAK at renewal: a new address", test_nak_new_address) == NULL ||
	    CU_add_test(s, "retransmission times", test_retransmissions) == NULL ||
	    CU_add_test(s, "stale and malformed replies", test_stale_and_bad) == NULL ||
	    CU_add_test(s, "T1, T2, mask, infinite lease", test_lease_times) == NULL ||
	    CU_add_test(s, "parser on random damage", test_parse_random) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("dhcp", register_tests);
}
