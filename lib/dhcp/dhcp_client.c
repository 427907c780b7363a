/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DHCP client's state machine (RFC 2131 figure 5 and section 4.4):
 * what is due at a time, what a server's reply changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "braid_dhcp.h"

#define S_NS 1000000000ULL
#define BACKOFF_FIRST_S 4      /* section 4.1: 4 s, doubling ... */
#define BACKOFF_MAX_S 64       /* ... up to 64 s */
#define REQUEST_TRIES 4        /* REQUESTs in REQUESTING before discovering again */
#define RENEW_MIN_S 60         /* section 4.4.5: retransmit no sooner than this */
#define NEVER UINT64_MAX
#define BCAST_IP UINT32_MAX

struct braid_dhcp {
	struct rte_ether_addr mac;
	char hostname[64];
	uint64_t rng;
	enum braid_dhcp_state state;
	uint32_t xid;                  /* the transaction in progress */
	uint64_t begin_ns;             /* when it began (the secs field) */
	uint64_t next_ns;              /* next transmission or timer */
	uint32_t backoff_s;            /* retransmission delay, before jitter */
	uint8_t tries;                 /* REQUESTs sent in REQUESTING */
	uint8_t naks;                  /* NAKs since the last lease */
	uint32_t offer_ip, offer_server;
	uint64_t req_ns;               /* last REQUEST sent: a lease starts there */
	bool bound;
	struct braid_dhcp_lease lease;
	struct braid_dhcp_stats cnt;
};

const char *
braid_dhcp_state_name(enum braid_dhcp_state s)
{
	switch (s) {
	case BRAID_DHCP_INIT: return "init";
	case BRAID_DHCP_SELECTING: return "selecting";
	case BRAID_DHCP_REQUESTING: return "requesting";
	case BRAID_DHCP_BOUND: return "bound";
	case BRAID_DHCP_RENEWING: return "renewing";
	case BRAID_DHCP_REBINDING: return "rebinding";
	}
	return "unknown";
}

/* xorshift64*: transaction ids and retransmission jitter. */
static uint64_t
rnd(struct braid_dhcp *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545F4914F6CDD1DULL;
}

/* @p s seconds, randomized by -1..+1 s (section 4.1). */
static uint64_t
jittered(struct braid_dhcp *d, uint32_t s)
{
	return (uint64_t)s * S_NS - S_NS + rnd(d) % (2 * S_NS + 1);
}

static bool
host_ok(uint32_t ip)
{
	return ip != 0 && ip != BCAST_IP && (ip >> 24) != 127 && ip < 0xe0000000u;
}

struct braid_dhcp *
braid_dhcp_create(const struct braid_dhcp_conf *conf, uint64_t now_ns)
{
	struct braid_dhcp *d;

	if (conf == NULL || !rte_is_valid_assigned_ether_addr(&conf->mac)) {
		rte_errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));   /* control state: no EAL needed (tests, fuzzer) */
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d->mac = conf->mac;
	if (conf->hostname != NULL)
		snprintf(d->hostname, sizeof(d->hostname), "%s", conf->hostname);
	d->rng = conf->seed | 1;
	d->state = BRAID_DHCP_INIT;
	d->next_ns = now_ns;
	return d;
}

void
braid_dhcp_free(struct braid_dhcp *d)
{
	free(d);
}

/* A new transaction (state @p s) beginning at @p now_ns. */
static void
begin(struct braid_dhcp *d, enum braid_dhcp_state s, uint64_t now_ns)
{
	d->state = s;
	d->xid = (uint32_t)rnd(d);
	d->begin_ns = now_ns;
	d->backoff_s = BACKOFF_FIRST_S;
}

/* The lease is gone (expired or refused): INIT, the next DISCOVER at
 * @p at_ns. */
static void
restart(struct braid_dhcp *d, uint64_t at_ns)
{
	if (d->bound)
		d->cnt.dhcp_leases_lost++;
	d->bound = false;
	memset(&d->lease, 0, sizeof(d->lease));
	d->state = BRAID_DHCP_INIT;
	d->next_ns = at_ns;
}

static void
message(struct braid_dhcp *d, uint8_t type, uint64_t now_ns, struct braid_dhcp_tx *tx)
{
	struct braid_dhcp_build b = {
		.type = type,
		.xid = d->xid,
		.secs = (uint16_t)RTE_MIN((now_ns - d->begin_ns) / S_NS, (uint64_t)UINT16_MAX),
		.mac = d->mac,
		.hostname = d->hostname[0] != '\0' ? d->hostname : NULL,
	};

	tx->src_ip = 0;
	tx->dst_ip = BCAST_IP;
	memset(&tx->dst_mac, 0xff, sizeof(tx->dst_mac));
	switch (d->state) {
	case BRAID_DHCP_REQUESTING:
		b.requested = d->offer_ip;
		b.server_id = d->offer_server;
		break;
	case BRAID_DHCP_RENEWING:
		tx->dst_ip = d->lease.server;
		tx->dst_mac = d->lease.server_mac;
		/* fall through */
	case BRAID_DHCP_REBINDING:
		b.ciaddr = d->lease.ip;
		tx->src_ip = d->lease.ip;
		break;
	default:
		break;
	}
	if (type == BRAID_DHCP_REQUEST)
		d->req_ns = now_ns;
	tx->len = (uint16_t)braid_dhcp_build(&b, tx->msg);
}

/* Next retransmission in SELECTING/REQUESTING: the delay doubles. */
static void
retry_later(struct braid_dhcp *d, uint64_t now_ns)
{
	d->next_ns = now_ns + jittered(d, d->backoff_s);
	d->backoff_s = RTE_MIN(d->backoff_s * 2, (uint32_t)BACKOFF_MAX_S);
}

/* Next REQUEST in RENEWING/REBINDING: half the time left to @p until_ns,
 * at least RENEW_MIN_S, never past it. */
static void
retry_before(struct braid_dhcp *d, uint64_t now_ns, uint64_t until_ns)
{
	uint64_t wait = RTE_MAX((until_ns - now_ns) / 2, (uint64_t)RENEW_MIN_S * S_NS);

	d->next_ns = until_ns > now_ns && until_ns - now_ns > wait ? now_ns + wait : until_ns;
}

int
braid_dhcp_poll(struct braid_dhcp *d, uint64_t now_ns, struct braid_dhcp_tx *tx)
{
	if (d->bound && now_ns >= d->lease.expire_ns)
		restart(d, now_ns);
	switch (d->state) {
	case BRAID_DHCP_INIT:
		if (now_ns < d->next_ns)
			return 0;
		begin(d, BRAID_DHCP_SELECTING, now_ns);
		/* fall through */
	case BRAID_DHCP_SELECTING:
		if (now_ns < d->next_ns)
			return 0;
		message(d, BRAID_DHCP_DISCOVER, now_ns, tx);
		d->cnt.dhcp_discovers++;
		retry_later(d, now_ns);
		return 1;
	case BRAID_DHCP_REQUESTING:
		if (now_ns < d->next_ns)
			return 0;
		if (d->tries >= REQUEST_TRIES) {
			restart(d, now_ns);
			return braid_dhcp_poll(d, now_ns, tx);
		}
		d->tries++;
		message(d, BRAID_DHCP_REQUEST, now_ns, tx);
		d->cnt.dhcp_requests++;
		retry_later(d, now_ns);
		return 1;
	case BRAID_DHCP_BOUND:
		if (now_ns < d->lease.t1_ns)
			return 0;
		begin(d, BRAID_DHCP_RENEWING, now_ns);
		d->next_ns = now_ns;
		/* fall through */
	case BRAID_DHCP_RENEWING:
		if (now_ns >= d->lease.t2_ns) {
			begin(d, BRAID_DHCP_REBINDING, now_ns);
			d->next_ns = now_ns;
			return braid_dhcp_poll(d, now_ns, tx);
		}
		if (now_ns < d->next_ns)
			return 0;
		message(d, BRAID_DHCP_REQUEST, now_ns, tx);
		d->cnt.dhcp_renew_requests++;
		retry_before(d, now_ns, d->lease.t2_ns);
		return 1;
	case BRAID_DHCP_REBINDING:
		if (now_ns < d->next_ns)
			return 0;
		message(d, BRAID_DHCP_REQUEST, now_ns, tx);
		d->cnt.dhcp_rebind_requests++;
		retry_before(d, now_ns, d->lease.expire_ns);
		return 1;
	}
	return 0;
}

/* Seconds after the lease's start as an absolute time (NEVER if the
 * lease is infinite). */
static uint64_t
lease_time(const struct braid_dhcp_lease *l, uint32_t s)
{
	return l->lease_s == UINT32_MAX ? NEVER : l->start_ns + (uint64_t)s * S_NS;
}

/* What a server that sends no subnet mask implies: the address's class. */
static uint8_t
classful_prefix(uint32_t ip)
{
	return ip < 0x80000000u ? 8 : ip < 0xc0000000u ? 16 : 24;
}

/* An ACK: the lease starts when its REQUEST went out (section 4.4.1). */
static void
take_lease(struct braid_dhcp *d, const struct braid_dhcp_msg *m,
     const struct rte_ether_addr *from_mac)
{
	struct braid_dhcp_lease *l = &d->lease;
	const bool renewal = d->bound && l->ip == m->yiaddr;
	uint32_t t1 = m->t1_s, t2 = m->t2_s;

	memset(l, 0, sizeof(*l));
	l->ip = m->yiaddr;
	l->prefix = m->prefix != 0 ? m->prefix : classful_prefix(m->yiaddr);
	l->router = host_ok(m->router) ? m->router : 0;
	l->server = m->server_id != 0 ? m->server_id : d->offer_server;
	l->server_mac = *from_mac;
	l->mtu = m->mtu;
	l->lease_s = m->lease_s;
	l->start_ns = d->req_ns;
	/* T1 and T2 as sent when they make sense, else 1/2 and 7/8. */
	if (t1 == 0 || t2 == 0 || t1 > t2 || t2 > m->lease_s) {
		t1 = m->lease_s / 2;
		t2 = (uint32_t)((uint64_t)m->lease_s * 7 / 8);
	}
	l->t1_ns = lease_time(l, t1);
	l->t2_ns = lease_time(l, t2);
	l->expire_ns = lease_time(l, m->lease_s);
	if (renewal)
		d->cnt.dhcp_renewals++;
	else
		d->cnt.dhcp_leases++;
	d->bound = true;
	d->naks = 0;
	d->state = BRAID_DHCP_BOUND;
	d->next_ns = l->t1_ns;
}

int
braid_dhcp_input(struct braid_dhcp *d, const uint8_t *p, size_t len,
		 const struct rte_ether_addr *from_mac, uint64_t now_ns)
{
	const bool waiting = d->state == BRAID_DHCP_REQUESTING ||
			     d->state == BRAID_DHCP_RENEWING ||
			     d->state == BRAID_DHCP_REBINDING;
	struct braid_dhcp_msg m;

	if (braid_dhcp_parse(p, len, &m) != 0) {
		d->cnt.drop_dhcp_bad++;
		return -EINVAL;
	}
	if (m.op != 2 || m.xid != d->xid || d->state == BRAID_DHCP_INIT ||
	    !rte_is_same_ether_addr(&m.chaddr, &d->mac))
		goto stale;
	/* In REQUESTING only the server we asked may answer. */
	if (d->state == BRAID_DHCP_REQUESTING && m.server_id != 0 &&
	    m.server_id != d->offer_server)
		goto stale;
	switch (m.type) {
	case BRAID_DHCP_OFFER:
		if (d->state != BRAID_DHCP_SELECTING || !host_ok(m.yiaddr) || m.server_id == 0)
			goto stale;
		d->cnt.dhcp_offers++;
		d->offer_ip = m.yiaddr;
		d->offer_server = m.server_id;
		d->state = BRAID_DHCP_REQUESTING;
		d->tries = 0;
		d->backoff_s = BACKOFF_FIRST_S;
		d->next_ns = now_ns;
		return 0;
	case BRAID_DHCP_ACK:
		if (!waiting || !host_ok(m.yiaddr) || m.lease_s == 0)
			goto stale;
		d->cnt.dhcp_acks++;
		take_lease(d, &m, from_mac);
		return 0;
	case BRAID_DHCP_NAK:
		if (!waiting)
			goto stale;
		d->cnt.dhcp_naks++;
		/* 1, 2, 4 ... 64 s before discovering again after NAKs in a row */
		restart(d, now_ns + (uint64_t)(1u << RTE_MIN(d->naks, (uint8_t)6)) * S_NS);
		d->naks++;
		return 0;
	default:
		break;
	}
stale:
	d->cnt.drop_dhcp_stale++;
	return -ENOENT;
}

bool
braid_dhcp_lease(const struct braid_dhcp *d, struct braid_dhcp_lease *l)
{
	if (!d->bound)
		return false;
	*l = d->lease;
	return true;
}

uint64_t
braid_dhcp_next_ns(const struct braid_dhcp *d)
{
	return d->bound ? RTE_MIN(d->next_ns, d->lease.expire_ns) : d->next_ns;
}

enum braid_dhcp_state
braid_dhcp_state(const struct braid_dhcp *d)
{
	return d->state;
}

void
braid_dhcp_stats(const struct braid_dhcp *d, struct braid_dhcp_stats *st)
{
	*st = d->cnt;
}
