/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP responder and resolver (RFC 826), ICMP echo responder (RFC 792),
 * and the queue of packets waiting for a next hop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "arp_priv.h"
#include "braid_arp.h"
#include "braid_log.h"
#include "braid_meta.h"

RTE_LOG_REGISTER(braid_arp_logtype, braid.arp, INFO);
#define ARP_LOG(level, ...) BRAID_LOG(level, braid_arp_logtype, __VA_ARGS__)

#define MS_NS 1000000ULL
/* Timers are checked this often (and at once after a change). */
#define ARP_SCAN_NS (10 * MS_NS)
/* Requests taken from the ring per poll. */
#define ARP_REQ_BURST 32
/* Shortest frame on the wire without FCS. */
#define ARP_MIN_FRAME 60
#define ARP_VLAN_HLEN 4
/* A pending next hop still unknown is asked for again this often. */
#define PEND_REREQUEST_NS (1000 * MS_NS)

/* ---------------------------------------------------------------- names */

const char *
braid_arp_state_name(enum braid_arp_state s)
{
	switch (s) {
	case BRAID_ARP_FREE: return "free";
	case BRAID_ARP_INCOMPLETE: return "incomplete";
	case BRAID_ARP_REACHABLE: return "reachable";
	case BRAID_ARP_REFRESH: return "refresh";
	case BRAID_ARP_FAILED: return "failed";
	case BRAID_ARP_STATIC: return "static";
	case BRAID_ARP_DEAD: return "dead";
	}
	return "unknown";
}

/* ------------------------------------------------------------- entries */

static inline uint64_t
mac_pack(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | mac->addr_bytes[i];
	return v;
}

static inline void
mac_unpack(uint64_t v, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++) {
		mac->addr_bytes[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Owner view (the only writer reads its own stores). */
static inline uint32_t
e_ip(const struct arp_entry *e)
{
	return (uint32_t)(e->w0 >> 32);
}

static inline enum braid_arp_state
e_state(const struct arp_entry *e)
{
	return (enum braid_arp_state)(e->w0 & 0xff);
}

static inline bool
e_live(const struct arp_entry *e)
{
	enum braid_arp_state s = e_state(e);

	return s != BRAID_ARP_FREE && s != BRAID_ARP_DEAD;
}

static void
e_write(struct arp_entry *e, uint32_t ip, enum braid_arp_state st,
	const struct rte_ether_addr *mac)
{
	rte_seqcount_write_begin(&e->sc);
	__atomic_store_n(&e->w0, (uint64_t)ip << 32 | (uint64_t)st, __ATOMIC_RELAXED);
	__atomic_store_n(&e->w1, mac != NULL ? mac_pack(mac) : 0, __ATOMIC_RELAXED);
	rte_seqcount_write_end(&e->sc);
}

/* Any thread: a consistent copy of @p e. */
static inline void
e_read(const struct arp_entry *e, uint32_t *ip, enum braid_arp_state *st,
       uint64_t *mac)
{
	uint32_t sn;
	uint64_t w0, w1;

	do {
		sn = rte_seqcount_read_begin(&e->sc);
		w0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
		w1 = __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
	} while (rte_seqcount_read_retry(&e->sc, sn));
	*ip = (uint32_t)(w0 >> 32);
	*st = (enum braid_arp_state)(w0 & 0xff);
	*mac = w1;
}

static inline uint32_t
arp_hash(const struct braid_arp *a, uint32_t ip)
{
	return (uint32_t)(ip * 0x9E3779B1u) >> a->shift;
}

static struct arp_port *
port_find(struct braid_arp *a, uint16_t port_id)
{
	for (uint16_t i = 0; i < a->n_ports; i++)
		if (a->ports[i].port_id == port_id)
			return &a->ports[i];
	return NULL;
}

static const struct arp_port *
port_find_c(const struct braid_arp *a, uint16_t port_id)
{
	for (uint16_t i = 0; i < a->n_ports; i++)
		if (a->ports[i].port_id == port_id)
			return &a->ports[i];
	return NULL;
}

/* Owner: the live entry of @p ip, or NULL. */
static struct arp_entry *
tab_find(struct braid_arp *a, struct arp_port *p, uint32_t ip)
{
	uint32_t h = arp_hash(a, ip);

	for (uint32_t i = 0; i < BRAID_ARP_PROBE; i++) {
		struct arp_entry *e = &p->tab[(h + i) & a->mask];

		if (e_state(e) == BRAID_ARP_FREE)
			return NULL;
		if (e_ip(e) == ip && e_live(e))
			return e;
	}
	return NULL;
}

/* Owner: a slot for new @p ip (not in the table): a never-used or dead
 * one, else the least recently learned entry nobody asked to keep. */
static struct arp_entry *
tab_alloc(struct braid_arp *a, struct arp_port *p, uint32_t ip)
{
	uint32_t h = arp_hash(a, ip);
	struct arp_entry *victim = NULL;

	for (uint32_t i = 0; i < BRAID_ARP_PROBE; i++) {
		struct arp_entry *e = &p->tab[(h + i) & a->mask];
		enum braid_arp_state s = e_state(e);

		if (s == BRAID_ARP_FREE || s == BRAID_ARP_DEAD)
			return e;
		if (s != BRAID_ARP_STATIC && !e->wanted &&
		    (victim == NULL || e->used_ns < victim->used_ns))
			victim = e;
	}
	if (victim != NULL)
		a->cnt.evicted++;
	else
		a->cnt.table_full++;
	return victim;
}

/* --------------------------------------------------------------- create */

void
braid_arp_conf_defaults(struct braid_arp_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->table_size = 256;
	conf->expire_ms = 300000;
	conf->retry_ms = 1000;
	conf->retries = 3;
	conf->fail_backoff_ms = 5000;
	conf->fail_backoff_max_ms = 60000;
	conf->garp_count = 0;
	conf->garp_interval_ms = 1000;
	conf->request_ring_size = 256;
}

static bool
ip_is_host(uint32_t ip)
{
	/* not 0/8, not 127/8, not multicast, reserved or broadcast */
	return (ip >> 24) != 0 && (ip >> 24) != 127 && ip < 0xE0000000u;
}

static uint32_t
prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

static int
conf_check(const struct braid_arp_conf *c)
{
#define CHECK(cond, ...) do { if (!(cond)) { ARP_LOG(ERR, __VA_ARGS__); return -EINVAL; } } while (0)
	size_t nlen;

	CHECK(c->name != NULL, "arp: name required");
	nlen = strnlen(c->name, BRAID_ARP_NAMESIZE + 1);
	CHECK(nlen >= 1 && nlen <= BRAID_ARP_NAMESIZE, "arp: name must be 1..%u characters",
	      BRAID_ARP_NAMESIZE);
	CHECK(c->n_ports >= 1 && c->n_ports <= BRAID_ARP_MAX_PORTS,
	      "arp %s: n_ports %u not in 1..%u", c->name, c->n_ports, BRAID_ARP_MAX_PORTS);
	CHECK(rte_is_power_of_2(c->table_size) && c->table_size >= BRAID_ARP_TABLE_MIN &&
	      c->table_size <= BRAID_ARP_TABLE_MAX,
	      "arp %s: table_size %" PRIu32 " not a power of two in %u..%u", c->name,
	      c->table_size, BRAID_ARP_TABLE_MIN, BRAID_ARP_TABLE_MAX);
	CHECK(c->expire_ms >= 1000 && c->expire_ms <= 86400000,
	      "arp %s: expire_ms %" PRIu32 " not in 1000..86400000", c->name, c->expire_ms);
	CHECK(c->retry_ms >= 10 && c->retry_ms <= 60000,
	      "arp %s: retry_ms %" PRIu32 " not in 10..60000", c->name, c->retry_ms);
	CHECK(c->retries >= 1 && c->retries <= 10, "arp %s: retries %u not in 1..10",
	      c->name, c->retries);
	CHECK(c->fail_backoff_ms >= 100 && c->fail_backoff_ms <= 3600000,
	      "arp %s: fail_backoff_ms %" PRIu32 " not in 100..3600000", c->name,
	      c->fail_backoff_ms);
	CHECK(c->fail_backoff_max_ms >= c->fail_backoff_ms &&
	      c->fail_backoff_max_ms <= 3600000,
	      "arp %s: fail_backoff_max_ms %" PRIu32 " not in fail_backoff_ms..3600000",
	      c->name, c->fail_backoff_max_ms);
	CHECK(c->garp_count <= 10, "arp %s: garp_count %u above 10", c->name, c->garp_count);
	CHECK(c->garp_interval_ms >= 10 && c->garp_interval_ms <= 60000,
	      "arp %s: garp_interval_ms %" PRIu32 " not in 10..60000", c->name,
	      c->garp_interval_ms);
	CHECK(rte_is_power_of_2(c->request_ring_size) && c->request_ring_size >= 16 &&
	      c->request_ring_size <= 65536,
	      "arp %s: request_ring_size %" PRIu32 " not a power of two in 16..65536",
	      c->name, c->request_ring_size);
	CHECK(c->pool != NULL && rte_pktmbuf_data_room_size(c->pool) >=
	      RTE_PKTMBUF_HEADROOM + ARP_MIN_FRAME + ARP_VLAN_HLEN,
	      "arp %s: pool missing or its data room below %u", c->name,
	      RTE_PKTMBUF_HEADROOM + ARP_MIN_FRAME + ARP_VLAN_HLEN);
	CHECK(braid_meta_offset >= 0, "arp %s: braid_meta_register() not called", c->name);
	for (uint16_t i = 0; i < c->n_ports; i++) {
		const struct braid_arp_port_conf *pc = &c->ports[i];

		for (uint16_t j = 0; j < i; j++)
			CHECK(c->ports[j].port_id != pc->port_id,
			      "arp %s: ports[%u].port_id %u repeated", c->name, i, pc->port_id);
		CHECK(rte_is_unicast_ether_addr(&pc->mac) && !rte_is_zero_ether_addr(&pc->mac),
		      "arp %s: ports[%u].mac not a unicast address", c->name, i);
		CHECK(pc->n_addrs <= BRAID_ARP_MAX_ADDRS, "arp %s: ports[%u].n_addrs %u above %u",
		      c->name, i, pc->n_addrs, BRAID_ARP_MAX_ADDRS);
		for (uint8_t k = 0; k < pc->n_addrs; k++)
			CHECK(ip_is_host(pc->addrs[k].ip) && pc->addrs[k].prefix_len >= 1 &&
			      pc->addrs[k].prefix_len <= 32,
			      "arp %s: ports[%u].addrs[%u] not a host address with prefix 1..32",
			      c->name, i, k);
		CHECK(pc->n_static <= BRAID_ARP_MAX_STATIC &&
		      (pc->n_static == 0 || pc->statics != NULL),
		      "arp %s: ports[%u]: n_static %u above %u or no statics", c->name, i,
		      pc->n_static, BRAID_ARP_MAX_STATIC);
		for (uint16_t k = 0; k < pc->n_static; k++)
			CHECK(ip_is_host(pc->statics[k].ip) &&
			      rte_is_unicast_ether_addr(&pc->statics[k].mac) &&
			      !rte_is_zero_ether_addr(&pc->statics[k].mac),
			      "arp %s: ports[%u].statics[%u]: bad address or MAC", c->name, i, k);
		CHECK(!pc->vlan || (pc->vlan_tci & 0xfff) != 0xfff,
		      "arp %s: ports[%u].vlan_tci: VLAN 4095 is reserved", c->name, i);
	}
#undef CHECK
	return 0;
}

struct braid_arp *
braid_arp_create(const struct braid_arp_conf *conf, int socket)
{
	char rname[RTE_RING_NAMESIZE];
	struct braid_arp *a;

	if (conf == NULL || conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	a = rte_zmalloc_socket("braid_arp", sizeof(*a), RTE_CACHE_LINE_SIZE, socket);
	if (a == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	a->n_ports = conf->n_ports;
	a->mask = conf->table_size - 1;
	a->shift = 32 - (uint32_t)rte_bsf32(conf->table_size);
	a->expire_ns = (uint64_t)conf->expire_ms * MS_NS;
	a->retry_ns = (uint64_t)conf->retry_ms * MS_NS;
	a->retries = conf->retries;
	a->backoff_ns = (uint64_t)conf->fail_backoff_ms * MS_NS;
	a->backoff_max_ns = (uint64_t)conf->fail_backoff_max_ms * MS_NS;
	a->garp_count = conf->garp_count;
	a->garp_interval_ns = (uint64_t)conf->garp_interval_ms * MS_NS;
	a->pool = conf->pool;
	a->room = (uint16_t)RTE_MIN((uint32_t)rte_pktmbuf_data_room_size(conf->pool) -
				    RTE_PKTMBUF_HEADROOM, (uint32_t)UINT16_MAX);

	for (uint16_t i = 0; i < a->n_ports; i++) {
		const struct braid_arp_port_conf *pc = &conf->ports[i];
		struct arp_port *p = &a->ports[i];

		p->port_id = pc->port_id;
		p->mac = pc->mac;
		p->n_addrs = pc->n_addrs;
		memcpy(p->addrs, pc->addrs, sizeof(p->addrs));
		p->vlan = pc->vlan;
		p->vlan_tci = pc->vlan_tci;
		p->tab = rte_zmalloc_socket("braid_arp_tab",
					    sizeof(struct arp_entry) * conf->table_size,
					    RTE_CACHE_LINE_SIZE, socket);
		if (p->tab == NULL) {
			braid_arp_free(a);
			rte_errno = ENOMEM;
			return NULL;
		}
		for (uint32_t j = 0; j < conf->table_size; j++)
			rte_seqcount_init(&p->tab[j].sc);
		for (uint16_t k = 0; k < pc->n_static; k++) {
			if (braid_arp_static_set(a, pc->port_id, pc->statics[k].ip,
						 &pc->statics[k].mac) != 0) {
				ARP_LOG(ERR, "arp %s: ports[%u].statics[%u] does not fit the table",
					conf->name, i, k);
				braid_arp_free(a);
				rte_errno = EINVAL;
				return NULL;
			}
		}
	}
	snprintf(rname, sizeof(rname), "arpq_%s", conf->name);
	a->req = rte_ring_create_elem(rname, sizeof(struct arp_req),
				      conf->request_ring_size, socket, RING_F_SC_DEQ);
	if (a->req == NULL) {
		int err = rte_errno;

		ARP_LOG(ERR, "arp %s: request ring %s: %s", conf->name, rname,
			rte_strerror(err));
		braid_arp_free(a);
		rte_errno = err;
		return NULL;
	}
	return a;
}

void
braid_arp_free(struct braid_arp *a)
{
	if (a == NULL)
		return;
	for (uint16_t i = 0; i < a->n_ports; i++)
		rte_free(a->ports[i].tab);
	rte_ring_free(a->req);
	rte_free(a);
}

/* --------------------------------------------------------------- frames */

static bool
our_addr(const struct arp_port *p, uint32_t ip)
{
	for (uint8_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].ip == ip)
			return true;
	return false;
}

/* A unicast host address for this port (not a subnet broadcast). */
static bool
host_ok(const struct arp_port *p, uint32_t ip)
{
	if (!ip_is_host(ip))
		return false;
	for (uint8_t i = 0; i < p->n_addrs; i++) {
		uint32_t m = prefix_mask(p->addrs[i].prefix_len);

		if (p->addrs[i].prefix_len < 31 && (ip & m) == (p->addrs[i].ip & m) &&
		    (ip | m) == UINT32_MAX)
			return false;
	}
	return true;
}

/* Our source address towards @p ip: the one whose subnet holds it. */
static uint32_t
src_for(const struct arp_port *p, uint32_t ip)
{
	for (uint8_t i = 0; i < p->n_addrs; i++) {
		uint32_t m = prefix_mask(p->addrs[i].prefix_len);

		if ((ip & m) == (p->addrs[i].ip & m))
			return p->addrs[i].ip;
	}
	return p->addrs[0].ip;
}

/*
 * A frame of @p l3_len bytes after the L2 header (optionally tagged),
 * padded to the Ethernet minimum. Returns the mbuf and the L3 pointer,
 * or NULL with rte_errno E2BIG (does not fit one mbuf) or ENOMEM.
 */
static struct rte_mbuf *
frame_new(struct braid_arp *a, const struct arp_port *p, bool vlan, uint16_t tci,
	  const struct rte_ether_addr *dst, uint16_t type, uint32_t l3_len,
	  uint8_t **l3)
{
	uint32_t l2 = RTE_ETHER_HDR_LEN + (vlan ? ARP_VLAN_HLEN : 0);
	uint32_t len = RTE_MAX(l2 + l3_len, (uint32_t)ARP_MIN_FRAME);
	struct rte_ether_hdr *eth;
	struct braid_meta *md;
	struct rte_mbuf *m;
	uint8_t *d;

	if (len > a->room) {
		rte_errno = E2BIG;
		return NULL;
	}
	m = rte_pktmbuf_alloc(a->pool);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		rte_errno = E2BIG;
		return NULL;
	}
	memset(d, 0, len);
	eth = (struct rte_ether_hdr *)d;
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&p->mac, &eth->src_addr);
	if (vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(tci);
		vh->eth_proto = rte_cpu_to_be_16(type);
	} else {
		eth->ether_type = rte_cpu_to_be_16(type);
	}
	m->port = p->port_id;
	m->l2_len = l2;
	md = braid_meta(m);
	memset(md, 0, sizeof(*md));
	md->class_id = BRAID_CLASS_NONE;
	md->link_id = BRAID_LINK_NONE;
	md->port_in = p->port_id;
	*l3 = d + l2;
	return m;
}

static struct rte_mbuf *
arp_frame(struct braid_arp *a, const struct arp_port *p, bool vlan, uint16_t tci,
	  const struct rte_ether_addr *eth_dst, uint16_t op, uint32_t spa,
	  const struct rte_ether_addr *tha, uint32_t tpa)
{
	struct rte_arp_hdr *ah;
	struct rte_mbuf *m;
	uint8_t *l3;

	m = frame_new(a, p, vlan, tci, eth_dst, RTE_ETHER_TYPE_ARP, sizeof(*ah), &l3);
	if (m == NULL)
		return NULL;
	ah = (struct rte_arp_hdr *)l3;
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&p->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(spa);
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tpa);
	return m;
}

static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr zero_mac = {{0, 0, 0, 0, 0, 0}};

/* ---------------------------------------------------------------- learn */

static void
arp_learn(struct braid_arp *a, struct arp_port *p, uint32_t ip,
	  const struct rte_ether_addr *mac, uint64_t now_ns, bool create)
{
	struct arp_entry *e = tab_find(a, p, ip);

	if (e != NULL) {
		struct rte_ether_addr old;

		if (e_state(e) == BRAID_ARP_STATIC)
			return;
		mac_unpack(e->w1, &old);
		if (e_state(e) == BRAID_ARP_INCOMPLETE || e_state(e) == BRAID_ARP_FAILED ||
		    !rte_is_same_ether_addr(&old, mac))
			a->cnt.updated++;
	} else {
		if (!create)
			return;
		e = tab_alloc(a, p, ip);
		if (e == NULL)
			return;
		e->wanted = 0;
		a->cnt.learned++;
	}
	e->expire_ns = now_ns + a->expire_ns;
	e->used_ns = now_ns;
	e->tries = 0;
	e->fails = 0;
	e_write(e, ip, BRAID_ARP_REACHABLE, mac);
}

/* ---------------------------------------------------------------- input */

/* Tallies of one input burst, added to the counters once. */
struct arp_tally {
	uint64_t req_rx, rep_rx, garp_rx, echo_rx;
	uint64_t not_for_us, malformed, bad_cksum, fragment, unsupported, unknown_port;
	uint64_t too_big, no_mbuf, rep_tx, echo_tx, conflict;
};

static void
tally_build_fail(struct arp_tally *t)
{
	if (rte_errno == E2BIG)
		t->too_big++;
	else
		t->no_mbuf++;
}

/* rte_pktmbuf_read(), but always into @buf when the bytes are not where
 * a header struct may be read in place (frames at odd offsets). */
static inline const void *
read_aligned(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	const void *p = rte_pktmbuf_read(m, off, len, buf);

	if (p != NULL && p != buf && ((uintptr_t)p & 7) != 0) {
		memcpy(buf, p, len);
		return buf;
	}
	return p;
}

static struct rte_mbuf *
arp_rx(struct braid_arp *a, struct arp_port *p, struct rte_mbuf *m, uint32_t l2,
       bool vlan, uint16_t tci, const struct rte_ether_hdr *eth,
       uint64_t now_ns, struct arp_tally *t)
{
	struct rte_arp_hdr buf;
	const struct rte_arp_hdr *ah;
	uint32_t spa, tpa;
	uint16_t op;
	bool for_us_l2;
	struct rte_mbuf *r;

	if (m->pkt_len < l2 + sizeof(buf)) {
		t->malformed++;
		return NULL;
	}
	ah = read_aligned(m, l2, sizeof(buf), &buf);
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4 ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_unicast_ether_addr(&ah->arp_data.arp_sha) ||
	    rte_is_zero_ether_addr(&ah->arp_data.arp_sha)) {
		t->malformed++;
		return NULL;
	}
	spa = rte_be_to_cpu_32(ah->arp_data.arp_sip);
	tpa = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	for_us_l2 = rte_is_broadcast_ether_addr(&eth->dst_addr) ||
		    rte_is_same_ether_addr(&eth->dst_addr, &p->mac);

	if (spa != 0 && our_addr(p, spa)) {
		/* Somebody else claims one of our addresses. */
		if (!rte_is_same_ether_addr(&ah->arp_data.arp_sha, &p->mac))
			t->conflict++;
		if (spa == tpa)
			t->garp_rx++;
		else
			t->not_for_us++;
		return NULL;
	}
	if (spa != 0 && spa == tpa) {
		/* Gratuitous: refresh an entry we have, create none. */
		t->garp_rx++;
		if (host_ok(p, spa))
			arp_learn(a, p, spa, &ah->arp_data.arp_sha, now_ns, false);
		return NULL;
	}
	if (spa != 0 && !host_ok(p, spa)) {
		t->malformed++;
		return NULL;
	}
	if (!our_addr(p, tpa) || !for_us_l2) {
		t->not_for_us++;
		return NULL;
	}
	if (op == RTE_ARP_OP_REPLY) {
		if (spa == 0) {
			t->malformed++;
			return NULL;
		}
		t->rep_rx++;
		arp_learn(a, p, spa, &ah->arp_data.arp_sha, now_ns, true);
		return NULL;
	}
	/* A request for us: learn the asker (not from an RFC 5227 probe,
	 * sender address 0) and answer it, unicast. */
	t->req_rx++;
	if (spa != 0)
		arp_learn(a, p, spa, &ah->arp_data.arp_sha, now_ns, true);
	r = arp_frame(a, p, vlan, tci, &ah->arp_data.arp_sha, RTE_ARP_OP_REPLY, tpa,
		      &ah->arp_data.arp_sha, spa);
	if (r == NULL) {
		tally_build_fail(t);
		return NULL;
	}
	t->rep_tx++;
	return r;
}

static struct rte_mbuf *
icmp_rx(struct braid_arp *a, struct arp_port *p, struct rte_mbuf *m, uint32_t l2,
	bool vlan, uint16_t tci, const struct rte_ether_hdr *eth,
	struct arp_tally *t)
{
	uint8_t hbuf[60] __rte_aligned(8);
	const struct rte_ipv4_hdr *ip;
	struct rte_ipv4_hdr *rip;
	struct rte_icmp_hdr ibuf;
	const struct rte_icmp_hdr *ic;
	struct rte_icmp_hdr *ric;
	uint32_t hl, tl, icmp_len, src, dst;
	uint16_t sum;
	struct rte_mbuf *r;
	uint8_t *l3;
	const void *pl;

	if (m->pkt_len < l2 + sizeof(struct rte_ipv4_hdr)) {
		t->malformed++;
		return NULL;
	}
	ip = read_aligned(m, l2, sizeof(struct rte_ipv4_hdr), hbuf);
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5) {
		t->malformed++;
		return NULL;
	}
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	tl = rte_be_to_cpu_16(ip->total_length);
	if (m->pkt_len < l2 + hl || tl < hl || l2 + tl > m->pkt_len) {
		t->malformed++;
		return NULL;
	}
	ip = read_aligned(m, l2, hl, hbuf);
	if (rte_raw_cksum(ip, hl) != 0xffff) {
		t->bad_cksum++;
		return NULL;
	}
	if (ip->next_proto_id != IPPROTO_ICMP) {
		t->unsupported++;
		return NULL;
	}
	if ((ip->fragment_offset &
	     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		t->fragment++;
		return NULL;
	}
	src = rte_be_to_cpu_32(ip->src_addr);
	dst = rte_be_to_cpu_32(ip->dst_addr);
	if (!our_addr(p, dst) || !rte_is_same_ether_addr(&eth->dst_addr, &p->mac)) {
		t->not_for_us++;
		return NULL;
	}
	icmp_len = tl - hl;
	if (!host_ok(p, src) || icmp_len < sizeof(ibuf) ||
	    !rte_is_unicast_ether_addr(&eth->src_addr)) {
		t->malformed++;
		return NULL;
	}
	ic = read_aligned(m, l2 + hl, sizeof(ibuf), &ibuf);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		t->unsupported++;
		return NULL;
	}
	if (rte_raw_cksum_mbuf(m, l2 + hl, icmp_len, &sum) != 0 || sum != 0xffff) {
		t->bad_cksum++;
		return NULL;
	}
	t->echo_rx++;

	r = frame_new(a, p, vlan, tci, &eth->src_addr, RTE_ETHER_TYPE_IPV4,
		      sizeof(*rip) + icmp_len, &l3);
	if (r == NULL) {
		tally_build_fail(t);
		return NULL;
	}
	rip = (struct rte_ipv4_hdr *)l3;
	ric = (struct rte_icmp_hdr *)(rip + 1);
	pl = rte_pktmbuf_read(m, l2 + hl, icmp_len, ric);
	if (pl != ric)
		memcpy(ric, pl, icmp_len);
	ric->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ric->icmp_cksum = 0;
	ric->icmp_cksum = (uint16_t)~rte_raw_cksum(ric, icmp_len);

	rip->version_ihl = RTE_IPV4_VHL_DEF;
	rip->type_of_service = ip->type_of_service;
	rip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*rip) + icmp_len));
	rip->packet_id = rte_cpu_to_be_16(a->ip_id++);
	rip->fragment_offset = 0;
	rip->time_to_live = 64;
	rip->next_proto_id = IPPROTO_ICMP;
	rip->src_addr = rte_cpu_to_be_32(dst);
	rip->dst_addr = rte_cpu_to_be_32(src);
	rip->hdr_checksum = 0;
	rip->hdr_checksum = rte_ipv4_cksum(rip);
	t->echo_tx++;
	return r;
}

uint16_t
braid_arp_burst(struct braid_arp *a, struct rte_mbuf **pkts, uint16_t n,
		struct rte_mbuf **out, uint64_t now_ns)
{
	struct arp_tally t;
	uint16_t k = 0;

	memset(&t, 0, sizeof(t));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *r = NULL;
		uint8_t hbuf[RTE_ETHER_HDR_LEN + ARP_VLAN_HLEN] __rte_aligned(8);
		const struct rte_ether_hdr *eth;
		struct rte_ether_hdr ecopy;
		struct arp_port *p = port_find(a, m->port);
		uint32_t l2 = RTE_ETHER_HDR_LEN;
		uint16_t type, tci = 0;
		bool vlan = false;

		if (p == NULL) {
			t.unknown_port++;
			goto done;
		}
		if (m->pkt_len < RTE_ETHER_HDR_LEN) {
			t.malformed++;
			goto done;
		}
		eth = read_aligned(m, 0, RTE_MIN(m->pkt_len, (uint32_t)sizeof(hbuf)), hbuf);
		ecopy = *eth;
		type = rte_be_to_cpu_16(eth->ether_type);
		if (type == RTE_ETHER_TYPE_VLAN) {
			const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

			if (m->pkt_len < sizeof(hbuf)) {
				t.malformed++;
				goto done;
			}
			vlan = true;
			tci = rte_be_to_cpu_16(vh->vlan_tci);
			type = rte_be_to_cpu_16(vh->eth_proto);
			l2 += ARP_VLAN_HLEN;
		}
		if (type == RTE_ETHER_TYPE_ARP)
			r = arp_rx(a, p, m, l2, vlan, tci, &ecopy, now_ns, &t);
		else if (type == RTE_ETHER_TYPE_IPV4)
			r = icmp_rx(a, p, m, l2, vlan, tci, &ecopy, &t);
		else
			t.unsupported++;
		if (r != NULL)
			out[k++] = r;
done:
		rte_pktmbuf_free(m);
	}
	a->cnt.rx_frames += n;
	a->cnt.arp_requests_rx += t.req_rx;
	a->cnt.arp_replies_rx += t.rep_rx;
	a->cnt.arp_gratuitous_rx += t.garp_rx;
	a->cnt.icmp_echo_rx += t.echo_rx;
	a->cnt.drop_not_for_us += t.not_for_us;
	a->cnt.drop_malformed += t.malformed;
	a->cnt.drop_bad_cksum += t.bad_cksum;
	a->cnt.drop_fragment += t.fragment;
	a->cnt.drop_unsupported += t.unsupported;
	a->cnt.drop_unknown_port += t.unknown_port;
	a->cnt.drop_too_big += t.too_big;
	a->cnt.drop_no_mbuf += t.no_mbuf;
	a->cnt.arp_replies_tx += t.rep_tx;
	a->cnt.icmp_echo_tx += t.echo_tx;
	a->cnt.addr_conflict += t.conflict;
	return k;
}

/* ------------------------------------------------------------- resolver */

static int
resolve_start(struct braid_arp *a, struct arp_port *p, uint32_t ip, bool wanted,
	      uint64_t now_ns)
{
	struct arp_entry *e;

	if (p->n_addrs == 0 || !host_ok(p, ip) || our_addr(p, ip))
		return -EINVAL;
	e = tab_find(a, p, ip);
	if (e != NULL) {
		if (wanted)
			e->wanted = 1;
		switch (e_state(e)) {
		case BRAID_ARP_INCOMPLETE:
			return -EAGAIN;
		case BRAID_ARP_FAILED:
			return -EHOSTUNREACH;
		default:
			return 0;
		}
	}
	e = tab_alloc(a, p, ip);
	if (e == NULL)
		return -ENOSPC;
	e->wanted = wanted;
	e->tries = 0;
	e->fails = 0;
	e->next_ns = now_ns;
	e->used_ns = now_ns;
	e_write(e, ip, BRAID_ARP_INCOMPLETE, NULL);
	a->next_scan_ns = now_ns; /* the request leaves at the next poll */
	return -EAGAIN;
}

int
braid_arp_resolve(struct braid_arp *a, uint16_t port_id, uint32_t ip, uint64_t now_ns)
{
	struct arp_port *p = port_find(a, port_id);

	if (p == NULL)
		return -EINVAL;
	return resolve_start(a, p, ip, true, now_ns);
}

int
braid_arp_request(struct braid_arp *a, uint16_t port_id, uint32_t ip)
{
	struct arp_req r = { .ip = ip, .port_id = port_id, .reserved = 0 };

	if (port_find_c(a, port_id) == NULL)
		return -EINVAL;
	if (rte_ring_mp_enqueue_elem(a->req, &r, sizeof(r)) != 0) {
		__atomic_fetch_add(&a->ring_full, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return 0;
}

static int
lookup_entry(const struct braid_arp *a, const struct arp_port *p, uint32_t ip,
	     enum braid_arp_state *st, uint64_t *mac)
{
	uint32_t h = arp_hash(a, ip);

	for (uint32_t i = 0; i < BRAID_ARP_PROBE; i++) {
		const struct arp_entry *e = &p->tab[(h + i) & a->mask];
		uint32_t eip;

		e_read(e, &eip, st, mac);
		if (*st == BRAID_ARP_FREE)
			break;
		if (eip == ip && *st != BRAID_ARP_DEAD)
			return 0;
	}
	*st = BRAID_ARP_FREE;
	*mac = 0;
	return -ENOENT;
}

int
braid_arp_lookup(const struct braid_arp *a, uint16_t port_id, uint32_t ip,
		 struct rte_ether_addr *mac)
{
	const struct arp_port *p = port_find_c(a, port_id);
	enum braid_arp_state st;
	uint64_t w1;

	if (p == NULL)
		return -EINVAL;
	if (lookup_entry(a, p, ip, &st, &w1) != 0)
		return -ENOENT;
	switch (st) {
	case BRAID_ARP_REACHABLE:
	case BRAID_ARP_REFRESH:
	case BRAID_ARP_STATIC:
		mac_unpack(w1, mac);
		return 0;
	case BRAID_ARP_FAILED:
		return -EHOSTUNREACH;
	default:
		return -ENOENT;
	}
}

int
braid_arp_entry_get(const struct braid_arp *a, uint16_t port_id, uint32_t ip,
		    struct braid_arp_entry *e)
{
	const struct arp_port *p = port_find_c(a, port_id);
	uint64_t w1;

	if (p == NULL || e == NULL)
		return -EINVAL;
	lookup_entry(a, p, ip, &e->state, &w1);
	e->ip = ip;
	mac_unpack(w1, &e->mac);
	return 0;
}

int
braid_arp_dump(const struct braid_arp *a, uint16_t port_id,
	       struct braid_arp_entry *out, unsigned int max)
{
	const struct arp_port *p = port_find_c(a, port_id);
	unsigned int k = 0;

	if (p == NULL || (out == NULL && max > 0))
		return -EINVAL;
	for (uint32_t i = 0; i <= a->mask && k < max; i++) {
		enum braid_arp_state st;
		uint32_t ip;
		uint64_t w1;

		e_read(&p->tab[i], &ip, &st, &w1);
		if (st == BRAID_ARP_FREE || st == BRAID_ARP_DEAD)
			continue;
		out[k].ip = ip;
		out[k].state = st;
		mac_unpack(w1, &out[k].mac);
		k++;
	}
	return (int)k;
}

int
braid_arp_static_set(struct braid_arp *a, uint16_t port_id, uint32_t ip,
		     const struct rte_ether_addr *mac)
{
	struct arp_port *p = port_find(a, port_id);
	struct arp_entry *e;

	if (p == NULL || mac == NULL || !ip_is_host(ip) ||
	    !rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return -EINVAL;
	e = tab_find(a, p, ip);
	if (e == NULL) {
		e = tab_alloc(a, p, ip);
		if (e == NULL)
			return -ENOSPC;
		e->wanted = 0;
	}
	e->tries = 0;
	e->fails = 0;
	e_write(e, ip, BRAID_ARP_STATIC, mac);
	return 0;
}

int
braid_arp_forget(struct braid_arp *a, uint16_t port_id, uint32_t ip)
{
	struct arp_port *p = port_find(a, port_id);
	struct arp_entry *e;

	if (p == NULL)
		return -EINVAL;
	e = tab_find(a, p, ip);
	if (e == NULL)
		return -ENOENT;
	e->wanted = 0;
	e_write(e, 0, BRAID_ARP_DEAD, NULL);
	return 0;
}

void
braid_arp_announce(struct braid_arp *a, uint64_t now_ns)
{
	for (uint16_t i = 0; i < a->n_ports; i++) {
		a->ports[i].garp_left = a->ports[i].n_addrs > 0 ? a->garp_count : 0;
		a->ports[i].garp_next_ns = now_ns;
	}
	a->started = true;
}

int
braid_arp_addrs_set(struct braid_arp *a, uint16_t port_id,
		    const struct braid_arp_addr *addrs, uint8_t n)
{
	struct arp_port *p = port_find(a, port_id);

	if (p == NULL || n > BRAID_ARP_MAX_ADDRS)
		return -EINVAL;
	for (uint8_t k = 0; k < n; k++)
		if (!ip_is_host(addrs[k].ip) || addrs[k].prefix_len < 1 ||
		    addrs[k].prefix_len > 32)
			return -EINVAL;
	memcpy(p->addrs, addrs, n * sizeof(addrs[0]));
	p->n_addrs = n;
	p->garp_left = n > 0 ? a->garp_count : 0;
	p->garp_next_ns = 0;
	return 0;
}

static uint64_t
backoff(const struct braid_arp *a, uint8_t fails)
{
	unsigned int sh = RTE_MIN((unsigned int)fails - 1, 30u);
	uint64_t b = a->backoff_ns << sh;

	return RTE_MIN(b, a->backoff_max_ns);
}

/* One request for entry @p e. @return false if @p out is full. */
static bool
send_request(struct braid_arp *a, struct arp_port *p, struct arp_entry *e,
	     struct rte_mbuf **out, uint16_t *k, uint16_t n, uint64_t now_ns)
{
	struct rte_ether_addr mac;
	const struct rte_ether_addr *dst = &bcast_mac;
	struct rte_mbuf *m;

	if (*k >= n)
		return false;
	/* A refresh asks the known MAC first (RFC 1122 2.3.2.1), then
	 * broadcasts the last try. */
	if (e_state(e) == BRAID_ARP_REFRESH && e->tries + 1 < a->retries) {
		mac_unpack(e->w1, &mac);
		dst = &mac;
	}
	m = arp_frame(a, p, p->vlan, p->vlan_tci, dst, RTE_ARP_OP_REQUEST,
		      src_for(p, e_ip(e)), &zero_mac, e_ip(e));
	if (m == NULL) {
		a->cnt.drop_no_mbuf++;
	} else {
		out[(*k)++] = m;
		a->cnt.arp_requests_tx++;
	}
	e->tries++;
	e->next_ns = now_ns + a->retry_ns;
	return true;
}

/* Timers of one entry. @return false if @p out is full. */
static bool
entry_timer(struct braid_arp *a, struct arp_port *p, struct arp_entry *e,
	    struct rte_mbuf **out, uint16_t *k, uint16_t n, uint64_t now_ns)
{
	struct rte_ether_addr mac;

	switch (e_state(e)) {
	case BRAID_ARP_REACHABLE:
		if (now_ns < e->expire_ns)
			return true;
		if (!e->wanted) {
			a->cnt.expired++;
			e_write(e, 0, BRAID_ARP_DEAD, NULL);
			return true;
		}
		/* A next hop we keep: re-resolve, the MAC stays usable. */
		mac_unpack(e->w1, &mac);
		e->tries = 0;
		e->next_ns = now_ns;
		e_write(e, e_ip(e), BRAID_ARP_REFRESH, &mac);
		/* fall through */
	case BRAID_ARP_INCOMPLETE:
	case BRAID_ARP_REFRESH:
		if (now_ns < e->next_ns)
			return true;
		if (e->tries < a->retries)
			return send_request(a, p, e, out, k, n, now_ns);
		a->cnt.resolve_failed++;
		if (e->fails < UINT8_MAX)
			e->fails++;
		e->next_ns = now_ns + backoff(a, e->fails);
		e_write(e, e_ip(e), BRAID_ARP_FAILED, NULL);
		return true;
	case BRAID_ARP_FAILED:
		if (now_ns < e->next_ns)
			return true;
		if (!e->wanted) {
			e_write(e, 0, BRAID_ARP_DEAD, NULL);
			return true;
		}
		e->tries = 0;
		e->next_ns = now_ns;
		e_write(e, e_ip(e), BRAID_ARP_INCOMPLETE, NULL);
		return send_request(a, p, e, out, k, n, now_ns);
	default:
		return true;
	}
}

uint16_t
braid_arp_poll(struct braid_arp *a, uint64_t now_ns, struct rte_mbuf **out, uint16_t n)
{
	struct arp_req reqs[ARP_REQ_BURST];
	unsigned int nr;
	uint16_t k = 0;
	bool full = false;

	if (unlikely(!a->started))
		braid_arp_announce(a, now_ns);

	nr = rte_ring_sc_dequeue_burst_elem(a->req, reqs, sizeof(reqs[0]),
					    ARP_REQ_BURST, NULL);
	for (unsigned int i = 0; i < nr; i++) {
		struct arp_port *p = port_find(a, reqs[i].port_id);

		if (p != NULL)
			(void)resolve_start(a, p, reqs[i].ip, false, now_ns);
	}

	for (uint16_t i = 0; i < a->n_ports; i++) {
		struct arp_port *p = &a->ports[i];

		if (p->garp_left == 0 || now_ns < p->garp_next_ns)
			continue;
		if ((uint16_t)(n - k) < p->n_addrs)
			break;
		/* RFC 5227 announcement: request, sender = target = ours. */
		for (uint8_t j = 0; j < p->n_addrs; j++) {
			struct rte_mbuf *m = arp_frame(a, p, p->vlan, p->vlan_tci, &bcast_mac,
						       RTE_ARP_OP_REQUEST, p->addrs[j].ip,
						       &zero_mac, p->addrs[j].ip);

			if (m == NULL) {
				a->cnt.drop_no_mbuf++;
				continue;
			}
			out[k++] = m;
			a->cnt.arp_gratuitous_tx++;
		}
		p->garp_left--;
		p->garp_next_ns = now_ns + a->garp_interval_ns;
	}

	if (now_ns >= a->next_scan_ns) {
		for (uint16_t i = 0; i < a->n_ports && !full; i++) {
			struct arp_port *p = &a->ports[i];

			for (uint32_t j = 0; j <= a->mask; j++) {
				if (!entry_timer(a, p, &p->tab[j], out, &k, n, now_ns)) {
					full = true;
					break;
				}
			}
		}
		/* Out of room: finish at the next call. */
		a->next_scan_ns = full ? now_ns : now_ns + ARP_SCAN_NS;
	}
	return k;
}

void
braid_arp_stats(const struct braid_arp *a, struct braid_arp_stats *c)
{
#define ARP_CNT_COPY_(n) c->n = a->cnt.n;
	BRAID_ARP_COUNTERS(ARP_CNT_COPY_)
#undef ARP_CNT_COPY_
	c->request_ring_full = __atomic_load_n(&a->ring_full, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- stage */

static void
arp_push(struct braid_arp *a, struct rte_mbuf **m, uint16_t k, struct braid_burst *out)
{
	uint16_t i = 0;

	while (i < k && braid_burst_push(out, m[i]) == 0)
		i++;
	if (i < k) {
		a->cnt.drop_out_full += k - i;
		rte_pktmbuf_free_bulk(&m[i], k - i);
	}
}

static void
arp_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		  struct braid_burst *out, uint64_t now_ns)
{
	struct braid_arp *a = ctx;
	uint16_t k = braid_arp_burst(a, pkts, n, a->scratch, now_ns);

	arp_push(a, a->scratch, k, out);
}

static uint16_t
arp_stage_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_arp *a = ctx;
	uint16_t k = braid_arp_poll(a, now_ns, a->scratch, braid_burst_room(out));

	arp_push(a, a->scratch, k, out);
	return k;
}

static void
arp_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	struct braid_arp_stats c;

	braid_arp_stats(ctx, &c);
	BRAID_COUNTERS_REPORT(BRAID_ARP_COUNTERS, &c, fn, arg);
}

const struct braid_stage_ops braid_arp_stage_ops = {
	.kind = "arp",
	.flags = 0,
	.process = arp_stage_process,
	.poll = arp_stage_poll,
	.drain = NULL,
	.stats = arp_stage_stats,
};

/* --------------------------------------------------------- pending queue */

struct pend_slot {
	uint32_t ip;
	uint16_t port_id;
	bool used;
	uint32_t head;
	uint32_t count;
	uint64_t req_ns;
};

struct pend_counters {
	BRAID_COUNTERS_FIELDS(BRAID_ARP_PENDING_COUNTERS)
} __rte_cache_aligned;

struct braid_arp_pending {
	struct pend_counters cnt;
	struct braid_arp *arp;
	uint16_t max_nh;
	uint16_t max_pkts;
	uint64_t timeout_ns;
	unsigned int total;
	struct pend_slot *slots;
	struct rte_mbuf **pk;   /* max_nh * max_pkts */
	uint64_t *ts;           /* their enqueue times */
};

struct braid_arp_pending *
braid_arp_pending_create(const struct braid_arp_pending_conf *conf, int socket)
{
	struct braid_arp_pending *q;
	uint16_t nh, np;
	uint32_t to;
	size_t cells;

	if (conf == NULL || conf->arp == NULL) {
		ARP_LOG(ERR, "arp pending: conf and arp are required");
		rte_errno = EINVAL;
		return NULL;
	}
	nh = conf->max_nexthops != 0 ? conf->max_nexthops : 16;
	np = conf->max_packets != 0 ? conf->max_packets : 64;
	to = conf->timeout_ms != 0 ? conf->timeout_ms : 3000;
	if (nh > 1024 || np > 4096 || to > 600000) {
		ARP_LOG(ERR, "arp pending: max_nexthops %u (<= 1024), max_packets %u "
			"(<= 4096) or timeout_ms %" PRIu32 " (<= 600000) out of range",
			nh, np, to);
		rte_errno = EINVAL;
		return NULL;
	}
	q = rte_zmalloc_socket("braid_arp_pend", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	cells = (size_t)nh * np;
	q->slots = rte_zmalloc_socket("braid_arp_pend", sizeof(*q->slots) * nh, 0, socket);
	q->pk = rte_zmalloc_socket("braid_arp_pend", sizeof(*q->pk) * cells, 0, socket);
	q->ts = rte_zmalloc_socket("braid_arp_pend", sizeof(*q->ts) * cells, 0, socket);
	if (q->slots == NULL || q->pk == NULL || q->ts == NULL) {
		braid_arp_pending_free(q);
		rte_errno = ENOMEM;
		return NULL;
	}
	q->arp = conf->arp;
	q->max_nh = nh;
	q->max_pkts = np;
	q->timeout_ns = (uint64_t)to * MS_NS;
	return q;
}

static struct rte_mbuf *
pend_pop(struct braid_arp_pending *q, struct pend_slot *s, unsigned int si)
{
	struct rte_mbuf *m = q->pk[(size_t)si * q->max_pkts + s->head];

	s->head = (s->head + 1) % q->max_pkts;
	s->count--;
	q->total--;
	if (s->count == 0)
		s->used = false;
	return m;
}

void
braid_arp_pending_free(struct braid_arp_pending *q)
{
	if (q == NULL)
		return;
	if (q->slots != NULL && q->pk != NULL) {
		for (unsigned int i = 0; i < q->max_nh; i++) {
			struct pend_slot *s = &q->slots[i];

			while (s->used && s->count > 0) {
				rte_pktmbuf_free(pend_pop(q, s, i));
				q->cnt.drop_flushed++;
			}
		}
	}
	rte_free(q->slots);
	rte_free(q->pk);
	rte_free(q->ts);
	rte_free(q);
}

int
braid_arp_pending_enqueue_one(struct braid_arp_pending *q, uint16_t port_id,
			      uint32_t ip, struct rte_mbuf *m, uint64_t now_ns)
{
	struct rte_ether_addr mac;
	struct pend_slot *s = NULL, *free_s = NULL;
	unsigned int si = 0, free_i = 0;

	if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 ||
	    m->data_len < RTE_ETHER_HDR_LEN ||
	    braid_arp_lookup(q->arp, port_id, ip, &mac) == -EINVAL) {
		rte_pktmbuf_free(m);
		q->cnt.drop_bad_frame++;
		return -EINVAL;
	}
	for (unsigned int i = 0; i < q->max_nh; i++) {
		struct pend_slot *c = &q->slots[i];

		if (c->used && c->ip == ip && c->port_id == port_id) {
			s = c;
			si = i;
			break;
		}
		if (!c->used && free_s == NULL) {
			free_s = c;
			free_i = i;
		}
	}
	if (s == NULL && free_s != NULL) {
		s = free_s;
		si = free_i;
		s->used = true;
		s->ip = ip;
		s->port_id = port_id;
		s->head = 0;
		s->count = 0;
		s->req_ns = now_ns;
		(void)braid_arp_request(q->arp, port_id, ip);
	}
	if (s == NULL || s->count >= q->max_pkts) {
		rte_pktmbuf_free(m);
		q->cnt.drop_unresolved_overflow++;
		return -ENOBUFS;
	}
	q->pk[(size_t)si * q->max_pkts + (s->head + s->count) % q->max_pkts] = m;
	q->ts[(size_t)si * q->max_pkts + (s->head + s->count) % q->max_pkts] = now_ns;
	s->count++;
	q->total++;
	q->cnt.queued++;
	return 0;
}

uint16_t
braid_arp_pending_poll(struct braid_arp_pending *q, uint64_t now_ns,
		       struct rte_mbuf **out, uint16_t n)
{
	uint16_t k = 0;

	if (q->total == 0)
		return 0;
	for (unsigned int i = 0; i < q->max_nh; i++) {
		struct pend_slot *s = &q->slots[i];
		struct rte_ether_addr mac;
		int r;

		if (!s->used)
			continue;
		r = braid_arp_lookup(q->arp, s->port_id, s->ip, &mac);
		if (r == 0) {
			while (s->used && k < n) {
				struct rte_mbuf *m = pend_pop(q, s, i);
				struct rte_ether_hdr *eth =
					rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

				rte_ether_addr_copy(&mac, &eth->dst_addr);
				out[k++] = m;
				q->cnt.released++;
			}
			continue;
		}
		if (r == -EHOSTUNREACH) {
			while (s->used) {
				rte_pktmbuf_free(pend_pop(q, s, i));
				q->cnt.drop_unresolved_failed++;
			}
			continue;
		}
		while (s->used &&
		       now_ns - q->ts[(size_t)i * q->max_pkts + s->head] >= q->timeout_ns) {
			rte_pktmbuf_free(pend_pop(q, s, i));
			q->cnt.drop_unresolved_timeout++;
		}
		if (s->used && now_ns - s->req_ns >= PEND_REREQUEST_NS) {
			/* not known, not failed: the request may have been
			 * lost (ring full) or the entry evicted */
			s->req_ns = now_ns;
			(void)braid_arp_request(q->arp, s->port_id, s->ip);
		}
	}
	return k;
}

unsigned int
braid_arp_pending_count(const struct braid_arp_pending *q)
{
	return q->total;
}

bool
braid_arp_pending_holds(const struct braid_arp_pending *q, uint16_t port_id, uint32_t ip)
{
	if (q->total == 0)
		return false;
	for (unsigned int i = 0; i < q->max_nh; i++)
		if (q->slots[i].used && q->slots[i].ip == ip && q->slots[i].port_id == port_id)
			return true;
	return false;
}

void
braid_arp_pending_stats(const struct braid_arp_pending *q,
			struct braid_arp_pending_stats *c)
{
#define PEND_CNT_COPY_(n) c->n = q->cnt.n;
	BRAID_ARP_PENDING_COUNTERS(PEND_CNT_COPY_)
#undef PEND_CNT_COPY_
}
