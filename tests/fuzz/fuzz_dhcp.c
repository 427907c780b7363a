/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry point over lib/dhcp: a server's reply in every state of
 * the client.
 *
 * Input byte 0:
 *   bits 0-2  the state the client is driven to first with well-formed
 *             replies (0 init/selecting, 1 requesting, 2 bound,
 *             3 renewing, 4 rebinding, 5-7 bound)
 *   bit  3    patch the input's transaction id and client MAC to the
 *             client's, so the fuzzer gets past those checks
 * The rest is the reply (a BOOTP message), given to the client, then the
 * clock runs on.
 *
 * Invariants (abort() on violation): a lease has a host address, prefix
 * 1..32, T1 <= T2 <= expiry; every message the client builds parses as
 * its own (BOOTREQUEST, our MAC, 300..548 bytes); the counters account
 * for every reply (taken, drop_dhcp_bad or drop_dhcp_stale).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "braid_dhcp.h"
#include "braid_test_dhcp.h"

#define S 1000000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct rte_ether_addr mac = {{ 0x02, 0, 0, 0, 0xf0, 0x01 }};
static const struct rte_ether_addr srv_mac = {{ 0x02, 0, 0, 0, 0xf0, 0x99 }};

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* The client's message: it must parse as one of ours. @return its xid. */
static uint32_t
sent(const struct braid_dhcp_tx *tx)
{
	struct braid_dhcp_msg m;

	check(tx->len >= 300 && tx->len <= BRAID_DHCP_MSG_MAX);
	check(braid_dhcp_parse(tx->msg, tx->len, &m) == 0);
	check(m.op == 1 && rte_is_same_ether_addr(&m.chaddr, &mac));
	return m.xid;
}

/* A well-formed reply of @p type to transaction @p xid: 10.0.0.7/24,
 * router and server 10.0.0.1, 100 s. */
static size_t
reply(uint8_t *b, uint8_t type, uint32_t xid)
{
	const struct braid_test_dhcp_reply r = {
		.type = type, .xid = xid, .yiaddr = 0x0a000007, .server_id = 0x0a000001,
		.mask = 0xffffff00u, .router = 0x0a000001, .lease_s = 100, .chaddr = mac,
	};

	return braid_test_dhcp_write(&r, b);
}

static void
lease_ok(const struct braid_dhcp *d)
{
	struct braid_dhcp_lease l;

	if (!braid_dhcp_lease(d, &l))
		return;
	check(l.ip != 0 && l.ip != UINT32_MAX && l.ip < 0xe0000000u && (l.ip >> 24) != 127);
	check(l.prefix >= 1 && l.prefix <= 32);
	check(l.t1_ns <= l.t2_ns && l.t2_ns <= l.expire_ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct braid_dhcp_conf c = { .mac = mac, .seed = 7, .hostname = "fuzz" };
	struct braid_dhcp_stats st;
	struct braid_dhcp_tx tx;
	uint8_t b[BRAID_DHCP_MSG_MAX], *in;
	uint64_t now = 0, replies = 0;
	struct braid_dhcp *d;
	uint32_t xid;
	unsigned int want;

	if (size < 1)
		return 0;
	want = data[0] & 7;
	d = braid_dhcp_create(&c, 0);
	check(d != NULL);
	check(braid_dhcp_poll(d, now, &tx) == 1);
	xid = sent(&tx);
	if (want >= 1) {                            /* OFFER: requesting */
		check(braid_dhcp_input(d, b, reply(b, BRAID_DHCP_OFFER, xid), &srv_mac, now) == 0);
		replies++;
		check(braid_dhcp_poll(d, now, &tx) == 1);
		xid = sent(&tx);
	}
	if (want >= 2) {                            /* ACK: bound, lease 100 s */
		check(braid_dhcp_input(d, b, reply(b, BRAID_DHCP_ACK, xid), &srv_mac, now) == 0);
		replies++;
		lease_ok(d);
	}
	if (want == 3 || want == 4) {               /* T1 (50 s), T2 (87.5 s) */
		now = want == 3 ? 50 * S : 88 * S;
		check(braid_dhcp_poll(d, now, &tx) == 1);
		xid = sent(&tx);
		check(braid_dhcp_state(d) == (want == 3 ? BRAID_DHCP_RENEWING : BRAID_DHCP_REBINDING));
	}

	in = malloc(size - 1 + 1);
	check(in != NULL);
	memcpy(in, data + 1, size - 1);
	if ((data[0] & 8) && size - 1 >= 34) {
		uint32_t v = rte_cpu_to_be_32(xid);

		memcpy(in + 4, &v, 4);
		memcpy(in + 28, &mac, 6);
	}
	(void)braid_dhcp_input(d, in, size - 1, &srv_mac, now);
	replies++;
	free(in);
	lease_ok(d);
	/* the clock runs on: whatever is due goes out well-formed */
	for (unsigned int i = 0; i < 8; i++) {
		now += 40 * S;
		if (braid_dhcp_poll(d, now, &tx) == 1)
			(void)sent(&tx);
		lease_ok(d);
	}
	braid_dhcp_stats(d, &st);
	check(st.dhcp_offers + st.dhcp_acks + st.dhcp_naks + st.drop_dhcp_bad +
	      st.drop_dhcp_stale == replies);
	braid_dhcp_free(d);
	return 0;
}
