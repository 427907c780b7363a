/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/classify: rte_acl lookups against the linear reference on seeded
 * random rule sets and keys, the stage on random frames (its result
 * against the reference applied to what the test put in the frame),
 * parsing edge cases, counters, punting and mbuf leaks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_vect.h>

#include "braid_classify.h"
#include "braid_meta.h"
#include "harness.h"

#define IP4(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static struct rte_mempool *mp;
static uint64_t seed;
static unsigned int name_seq;

/* ---------------------------------------------------------------- helpers */

static const char *
next_name(char *buf, size_t len)
{
	snprintf(buf, len, "tcl%u", name_seq++);
	return buf;
}

struct stat_tab {
	unsigned int n;
	char name[96][32];
	uint64_t val[96];
};

static void
stat_cb(void *arg, const char *name, const struct braid_stat_labels *labels,
	uint64_t value)
{
	struct stat_tab *t = arg;

	if (t->n < RTE_DIM(t->name)) {
		/* A class's counters carry the class as a label. */
		if (labels != NULL && labels->class_id >= 0)
			snprintf(t->name[t->n], sizeof(t->name[0]), "class%d_%s",
				 (int)labels->class_id, name);
		else
			snprintf(t->name[t->n], sizeof(t->name[0]), "%s", name);
		t->val[t->n++] = value;
	}
}

static uint64_t
stat_get(const struct braid_classify *cl, const char *name)
{
	struct stat_tab t = { .n = 0 };

	braid_classify_stage_ops.stats(cl, stat_cb, &t);
	for (unsigned int i = 0; i < t.n; i++)
		if (strcmp(t.name[i], name) == 0)
			return t.val[i];
	CU_FAIL("unknown counter");
	fprintf(stderr, "no counter %s\n", name);
	return UINT64_MAX;
}

static uint64_t
class_stat(const struct braid_classify *cl, unsigned int c)
{
	char name[32];

	snprintf(name, sizeof(name), "class%u_packets", c);
	return stat_get(cl, name);
}

static uint64_t
rnd(uint64_t *rs, uint64_t n)
{
	return braid_test_rand(rs) % n;
}

/* A frame the test builds, and from which it knows the expected key. */
struct pkt_spec {
	bool vlan;
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t dscp;
	uint16_t frag_off;      /* in 8-byte units */
	bool mf;
	uint8_t ihl;            /* 5..15 */
	uint16_t l4_len;        /* bytes after the IPv4 header */
	uint16_t pad;           /* bytes after the IPv4 packet */
	uint16_t port_in;
};

static bool
spec_ports_known(const struct pkt_spec *s)
{
	return (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
		s->proto == IPPROTO_SCTP) && s->frag_off == 0 && s->l4_len >= 4;
}

static void
spec_key(const struct pkt_spec *s, struct braid_classify_key *k)
{
	braid_classify_key_set(k, s->proto, s->src, s->dst, spec_ports_known(s),
			       s->sport, s->dport, s->dscp, s->port_in);
}

static uint16_t
spec_l2_len(const struct pkt_spec *s)
{
	return s->vlan ? 18 : 14;
}

static uint16_t
spec_ip_len(const struct pkt_spec *s)
{
	return (uint16_t)(s->ihl * 4 + s->l4_len);
}

/* Build the frame of @p s in one segment. */
static struct rte_mbuf *
build_pkt(const struct pkt_spec *s)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 1 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 2 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t l2 = spec_l2_len(s), hl = s->ihl * 4;
	uint32_t len = l2 + spec_ip_len(s) + s->pad;
	struct rte_ipv4_hdr *ip;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, len);
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	if (s->vlan) {
		p[12] = 0x81;
		p[13] = 0x00;
		p[14] = 0x00;
		p[15] = 0x64;   /* VLAN 100 */
		p[16] = 0x08;
		p[17] = 0x00;
	} else {
		p[12] = 0x08;
		p[13] = 0x00;
	}
	ip = (struct rte_ipv4_hdr *)(p + l2);
	ip->version_ihl = (uint8_t)(0x40 | s->ihl);
	ip->type_of_service = (uint8_t)(s->dscp << 2 | 0x1); /* ECN bits set */
	ip->total_length = rte_cpu_to_be_16(spec_ip_len(s));
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)(s->frag_off |
				(s->mf ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->time_to_live = 64;
	ip->next_proto_id = s->proto;
	ip->src_addr = rte_cpu_to_be_32(s->src);
	ip->dst_addr = rte_cpu_to_be_32(s->dst);
	memset(p + l2 + 20, 0x01, hl - 20u);    /* NOP options */
	/* Port bytes are written even for fragments and other protocols: the
	 * stage must not read them there. */
	if (s->l4_len >= 2) {
		p[l2 + hl] = (uint8_t)(s->sport >> 8);
		p[l2 + hl + 1] = (uint8_t)s->sport;
	}
	if (s->l4_len >= 4) {
		p[l2 + hl + 2] = (uint8_t)(s->dport >> 8);
		p[l2 + hl + 3] = (uint8_t)s->dport;
	}
	for (uint32_t i = 4; i < s->l4_len; i++)
		p[l2 + hl + i] = (uint8_t)(i * 7);
	for (uint32_t i = 0; i < s->pad; i++)
		p[l2 + spec_ip_len(s) + i] = 0xee;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	braid_meta(m)->port_in = s->port_in;
	braid_meta(m)->class_id = BRAID_CLASS_NONE;
	braid_meta(m)->link_id = BRAID_LINK_NONE;
	return m;
}

/* Move the bytes from @p off on into a second segment. */
static int
split_at(struct rte_mbuf *m, uint16_t off)
{
	struct rte_mbuf *t = rte_pktmbuf_alloc(mp);
	uint16_t tail = (uint16_t)(m->data_len - off);
	char *dst;

	if (t == NULL)
		return -ENOMEM;
	dst = rte_pktmbuf_append(t, tail);
	memcpy(dst, rte_pktmbuf_mtod_offset(m, char *, off), tail);
	m->data_len = off;
	m->next = t;
	m->nb_segs = 2;
	return 0;
}

static void
default_spec(struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->proto = IPPROTO_UDP;
	s->src = IP4(192, 168, 1, 10);
	s->dst = IP4(10, 1, 2, 3);
	s->sport = 40000;
	s->dport = 5004;
	s->ihl = 5;
	s->l4_len = 8 + 100;
}

static struct braid_classify_rule
rule_any(uint16_t class_id, uint32_t prio)
{
	struct braid_classify_rule r = {
		.sport_hi = UINT16_MAX, .dport_hi = UINT16_MAX,
		.dscp = -1, .in_port = -1,
		.priority = prio, .class_id = class_id,
	};
	return r;
}

/* ----------------------------------------------------- random rule sets */

struct gen_params {
	uint32_t n_rules;
	uint16_t n_classes;
	bool wide_prio;         /* full 32-bit priorities, else 0..7 (ties) */
	bool with_punt;         /* some rules punt */
};

static const uint8_t protos[] = { 0, 0, 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDP,
				  IPPROTO_SCTP, IPPROTO_ICMP, 47 /* GRE */ };
static const uint16_t port_edges[] = { 0, 1, 53, 80, 443, 1023, 1024, 5000,
				       5004, 8080, 32768, 65534, 65535 };

static uint32_t bases[8];

static void
gen_bases(uint64_t *rs)
{
	for (unsigned int i = 0; i < RTE_DIM(bases); i++)
		bases[i] = (uint32_t)braid_test_rand(rs);
}

static uint32_t
gen_addr(uint64_t *rs)
{
	/* Mostly near a few bases, so prefixes overlap and keys hit them. */
	if (rnd(rs, 8) == 0)
		return (uint32_t)braid_test_rand(rs);
	return bases[rnd(rs, RTE_DIM(bases))] ^
	       ((uint32_t)braid_test_rand(rs) >> (8 + rnd(rs, 24)));
}

static uint8_t
gen_mask_len(uint64_t *rs)
{
	static const uint8_t lens[] = { 0, 0, 8, 12, 16, 20, 24, 24, 28, 32 };

	if (rnd(rs, 4) == 0)
		return (uint8_t)rnd(rs, 33);
	return lens[rnd(rs, RTE_DIM(lens))];
}

static void
gen_range(uint64_t *rs, uint16_t *lo, uint16_t *hi)
{
	uint32_t l, span;

	switch (rnd(rs, 4)) {
	case 0:
		*lo = 0;
		*hi = UINT16_MAX;
		return;
	case 1:         /* a single port */
		l = rnd(rs, 3) ? port_edges[rnd(rs, RTE_DIM(port_edges))] :
				 rnd(rs, 65536);
		span = 0;
		break;
	default:
		l = rnd(rs, 2) ? port_edges[rnd(rs, RTE_DIM(port_edges))] :
				 rnd(rs, 65536);
		span = rnd(rs, 2) ? rnd(rs, 64) : rnd(rs, 65536);
		break;
	}
	*lo = (uint16_t)l;
	*hi = (uint16_t)RTE_MIN(l + span, (uint32_t)UINT16_MAX);
}

static void
gen_rules(uint64_t *rs, const struct gen_params *gp, struct braid_classify_rule *r)
{
	for (uint32_t i = 0; i < gp->n_rules; i++) {
		struct braid_classify_rule *x = &r[i];
		bool ports_ok;

		memset(x, 0, sizeof(*x));
		x->src_mask_len = gen_mask_len(rs);
		x->dst_mask_len = gen_mask_len(rs);
		x->src_ip = gen_addr(rs);     /* host bits left set on purpose */
		x->dst_ip = gen_addr(rs);
		x->proto = protos[rnd(rs, RTE_DIM(protos))];
		ports_ok = x->proto == 0 || x->proto == IPPROTO_TCP ||
			   x->proto == IPPROTO_UDP || x->proto == IPPROTO_SCTP;
		x->sport_lo = 0;
		x->sport_hi = UINT16_MAX;
		x->dport_lo = 0;
		x->dport_hi = UINT16_MAX;
		if (ports_ok) {
			if (rnd(rs, 4) == 0)
				gen_range(rs, &x->sport_lo, &x->sport_hi);
			if (rnd(rs, 3) != 0)
				gen_range(rs, &x->dport_lo, &x->dport_hi);
		}
		x->dscp = rnd(rs, 4) == 0 ? (int16_t)rnd(rs, 64) : -1;
		x->in_port = rnd(rs, 5) == 0 ? (int32_t)rnd(rs, 4) : -1;
		x->priority = gp->wide_prio ? (uint32_t)braid_test_rand(rs) :
					      (uint32_t)rnd(rs, 8);
		if (gp->wide_prio && rnd(rs, 16) == 0)
			x->priority = rnd(rs, 2) ? UINT32_MAX : 0;
		x->class_id = (uint16_t)rnd(rs, gp->n_classes);
		if (gp->with_punt && rnd(rs, 32) == 0)
			x->class_id = BRAID_CLASSIFY_PUNT;
	}
}

/* Random packet fields: half aimed inside (or just outside) a random rule. */
static void
gen_spec(uint64_t *rs, const struct braid_classify_rule *r, uint32_t n,
	 struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->ihl = 5;
	s->l4_len = 20;
	s->proto = protos[rnd(rs, RTE_DIM(protos))];
	if (s->proto == 0)
		s->proto = IPPROTO_UDP;
	s->src = gen_addr(rs);
	s->dst = gen_addr(rs);
	s->sport = rnd(rs, 2) ? port_edges[rnd(rs, RTE_DIM(port_edges))] :
				(uint16_t)rnd(rs, 65536);
	s->dport = rnd(rs, 2) ? port_edges[rnd(rs, RTE_DIM(port_edges))] :
				(uint16_t)rnd(rs, 65536);
	s->dscp = rnd(rs, 2) ? (uint8_t)rnd(rs, 64) : 0;
	s->port_in = (uint16_t)rnd(rs, 4);

	if (n > 0 && rnd(rs, 2) == 0) {
		const struct braid_classify_rule *x = &r[rnd(rs, n)];
		uint32_t sm = x->src_mask_len ? UINT32_MAX << (32 - x->src_mask_len) : 0;
		uint32_t dm = x->dst_mask_len ? UINT32_MAX << (32 - x->dst_mask_len) : 0;

		s->src = (x->src_ip & sm) | (s->src & ~sm);
		s->dst = (x->dst_ip & dm) | (s->dst & ~dm);
		if (x->proto != 0)
			s->proto = x->proto;
		/* inside the range, or at / just past an edge */
		switch (rnd(rs, 5)) {
		case 0: s->dport = x->dport_lo; break;
		case 1: s->dport = x->dport_hi; break;
		case 2: s->dport = (uint16_t)(x->dport_lo - 1); break;
		case 3: s->dport = (uint16_t)(x->dport_hi + 1); break;
		default:
			s->dport = (uint16_t)(x->dport_lo +
				rnd(rs, (uint32_t)x->dport_hi - x->dport_lo + 1));
			break;
		}
		s->sport = (uint16_t)(x->sport_lo +
			rnd(rs, (uint32_t)x->sport_hi - x->sport_lo + 1));
		if (x->dscp >= 0 && rnd(rs, 4) != 0)
			s->dscp = (uint8_t)x->dscp;
		if (x->in_port >= 0 && rnd(rs, 4) != 0)
			s->port_in = (uint16_t)x->in_port;
	}
	/* Ports unknown: a non-first fragment, or a first fragment too short
	 * to hold them. */
	switch (rnd(rs, 12)) {
	case 0:
		s->frag_off = (uint16_t)(1 + rnd(rs, 1000));
		s->mf = rnd(rs, 2);
		break;
	case 1:
		s->mf = true;   /* first fragment: ports known */
		break;
	case 2:
		s->l4_len = (uint16_t)rnd(rs, 4);
		break;
	default:
		break;
	}
}

static void
print_key(const struct braid_classify_key *k)
{
	fprintf(stderr, "  key proto %u src %08x dst %08x sport %u dport %u "
		"dscp %u flags %u in_port %u\n", k->proto,
		rte_be_to_cpu_32(k->src_ip), rte_be_to_cpu_32(k->dst_ip),
		rte_be_to_cpu_16(k->sport), rte_be_to_cpu_16(k->dport),
		k->dscp, k->flags, rte_be_to_cpu_16(k->in_port));
}

/* ------------------------------------------------------------ the tests */

static void
test_create_validation(void)
{
	struct braid_classify_rule r[2] = { rule_any(0, 1), rule_any(1, 2) };
	struct braid_classify_conf c = {
		.rules = r, .n_rules = 2, .n_classes = 2, .default_class = 0,
	};
	struct braid_classify *cl, *cl2;
	char name[32];

#define EXPECT_EINVAL(mutate) do {                                   \
		struct braid_classify_rule save[2] = { r[0], r[1] };  \
		struct braid_classify_conf csave = c;                 \
		c.name = next_name(name, sizeof(name));               \
		mutate;                                               \
		rte_errno = 0;                                        \
		cl = braid_classify_create(&c, SOCKET_ID_ANY);        \
		CU_ASSERT_PTR_NULL(cl);                               \
		CU_ASSERT_EQUAL(rte_errno, EINVAL);                   \
		braid_classify_free(cl);                              \
		r[0] = save[0];                                       \
		r[1] = save[1];                                       \
		c = csave;                                            \
	} while (0)

	CU_ASSERT_PTR_NULL(braid_classify_create(NULL, SOCKET_ID_ANY));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	EXPECT_EINVAL(c.name = NULL);
	EXPECT_EINVAL(c.name = "");
	EXPECT_EINVAL(c.name = "a_name_that_is_much_too_long_for_acl");
	EXPECT_EINVAL(c.n_classes = 0);
	EXPECT_EINVAL(c.n_classes = BRAID_CLASSIFY_MAX_CLASSES + 1);
	EXPECT_EINVAL(c.default_class = 2);
	EXPECT_EINVAL(c.n_rules = BRAID_CLASSIFY_MAX_RULES + 1);
	EXPECT_EINVAL(c.rules = NULL);
	EXPECT_EINVAL(r[1].src_mask_len = 33);
	EXPECT_EINVAL(r[1].dst_mask_len = 40);
	EXPECT_EINVAL((r[1].sport_lo = 10, r[1].sport_hi = 9));
	EXPECT_EINVAL((r[1].dport_lo = 10, r[1].dport_hi = 9));
	EXPECT_EINVAL(r[1].dscp = 64);
	EXPECT_EINVAL(r[1].dscp = -2);
	EXPECT_EINVAL(r[1].in_port = 65536);
	EXPECT_EINVAL(r[1].in_port = -2);
	EXPECT_EINVAL(r[1].class_id = 2);
	EXPECT_EINVAL(r[1].class_id = BRAID_CLASSIFY_PUNT);   /* no ring */
	EXPECT_EINVAL((r[1].proto = IPPROTO_ICMP, r[1].dport_lo = 53,
		       r[1].dport_hi = 53));
#undef EXPECT_EINVAL

	/* The limits themselves are accepted. */
	c.name = next_name(name, sizeof(name));
	r[1].src_mask_len = 32;
	r[1].dscp = 63;
	r[1].in_port = 65535;
	r[1].proto = IPPROTO_ICMP;      /* no ports, full ranges: fine */
	cl = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	CU_ASSERT_EQUAL(braid_classify_n_classes(cl), 2);
	/* Same name again: rte_acl would hand back the same context. */
	rte_errno = 0;
	cl2 = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NULL(cl2);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	braid_classify_free(cl2);
	braid_classify_free(cl);
	/* Freed: the name is free again. */
	cl = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL(cl);
	braid_classify_free(cl);
	braid_classify_free(NULL);
}

/* The reference and the ACL on hand-computed expectations. */
static void
test_rule_semantics(void)
{
	struct braid_classify_rule r[10];
	struct braid_classify_conf c = {
		.rules = r, .n_rules = RTE_DIM(r), .n_classes = 10,
		.default_class = 0,
	};
	struct {
		uint8_t proto;
		uint32_t dst;
		bool ports;
		uint16_t dport;
		uint8_t dscp;
		uint16_t in_port;
		uint32_t want;
	} cases[] = {
		{ 17, IP4(10, 9, 9, 9), true, 80, 0, 0, 0 },
		{ 17, IP4(10, 1, 9, 9), true, 80, 0, 0, 0 },  /* tie: index 0 */
		{ 17, IP4(10, 1, 2, 3), true, 80, 0, 0, 2 },
		{ 17, IP4(10, 1, 2, 3), true, 5000, 0, 0, 3 },
		{ 17, IP4(10, 1, 2, 3), true, 5010, 0, 0, 3 },
		{ 17, IP4(10, 1, 2, 3), true, 5011, 0, 0, 2 },
		{ 17, IP4(10, 1, 2, 3), true, 4999, 0, 0, 2 },
		{ 17, IP4(10, 1, 2, 3), false, 0, 0, 0, 2 }, /* fragment */
		{ 6, IP4(10, 1, 2, 3), true, 5005, 0, 0, 2 },
		{ 1, IP4(192, 168, 0, 1), false, 0, 46, 0, 4 },
		{ 17, IP4(192, 168, 0, 1), true, 5005, 46, 0, 3 },
		{ 17, IP4(192, 168, 0, 1), true, 80, 45, 2, 5 },
		{ 17, IP4(192, 168, 0, 1), true, 80, 45, 1, BRAID_CLASSIFY_NO_MATCH },
		{ 17, IP4(172, 20, 0, 1), true, 5005, 46, 2, 6 },
		{ 17, IP4(172, 32, 0, 1), true, 1, 0, 0, BRAID_CLASSIFY_NO_MATCH },
		{ 17, IP4(11, 0, 0, 1), true, 1, 0, 0, BRAID_CLASSIFY_NO_MATCH },
	};
	struct braid_classify_key keys[RTE_DIM(cases)];
	const struct braid_classify_key *kp[RTE_DIM(cases)];
	uint32_t got[RTE_DIM(cases)];
	uint16_t cls[RTE_DIM(cases)];
	struct braid_classify *cl;
	char name[32];

	for (unsigned int i = 0; i < RTE_DIM(r); i++)
		r[i] = rule_any((uint16_t)i, 0);
	r[0].dst_ip = IP4(10, 0, 0, 0); r[0].dst_mask_len = 8; r[0].priority = 10;
	r[1].dst_ip = IP4(10, 1, 0, 0); r[1].dst_mask_len = 16; r[1].priority = 10;
	r[2].dst_ip = IP4(10, 1, 2, 0); r[2].dst_mask_len = 24; r[2].priority = 20;
	r[3].proto = 17; r[3].dport_lo = 5000; r[3].dport_hi = 5010; r[3].priority = 30;
	r[4].dscp = 46; r[4].priority = 25;
	r[5].in_port = 2; r[5].priority = 5;
	r[6].dst_ip = IP4(172, 16, 0, 0); r[6].dst_mask_len = 12;
	r[6].priority = UINT32_MAX;
	r[7] = r[6]; r[7].class_id = 7; r[7].priority = UINT32_MAX - 1;
	r[8] = r[6]; r[8].class_id = 8; r[8].priority = UINT32_MAX;
	/* priority 100 but source port 1 only: the keys below never have it */
	r[9].sport_lo = 1; r[9].sport_hi = 1; r[9].dst_ip = IP4(11, 0, 0, 0);
	r[9].dst_mask_len = 8; r[9].priority = 100;

	c.name = next_name(name, sizeof(name));
	cl = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		braid_classify_key_set(&keys[i], cases[i].proto, IP4(1, 2, 3, 4),
				       cases[i].dst, cases[i].ports, 40000,
				       cases[i].dport, cases[i].dscp,
				       cases[i].in_port);
		kp[i] = &keys[i];
		if (braid_classify_ref(r, RTE_DIM(r), &keys[i]) != cases[i].want) {
			fprintf(stderr, "ref case %u: got %u want %u\n", i,
				braid_classify_ref(r, RTE_DIM(r), &keys[i]),
				cases[i].want);
			CU_FAIL("reference");
		}
	}
	CU_ASSERT_EQUAL(braid_classify_lookup(cl, kp, RTE_DIM(cases), got, cls), 0);
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		uint16_t want_cls = cases[i].want == BRAID_CLASSIFY_NO_MATCH ? 0 :
				    r[cases[i].want].class_id;

		if (got[i] != cases[i].want || cls[i] != want_cls) {
			fprintf(stderr, "acl case %u: got %u/%u want %u/%u\n", i,
				got[i], cls[i], cases[i].want, want_cls);
			CU_FAIL("acl lookup");
		}
	}
	/* Only-class and only-rule outputs are optional. */
	CU_ASSERT_EQUAL(braid_classify_lookup(cl, kp, RTE_DIM(cases), NULL, cls), 0);
	CU_ASSERT_EQUAL(cls[2], 2);
	CU_ASSERT_EQUAL(braid_classify_lookup(cl, kp, 0, NULL, NULL), 0);
	braid_classify_free(cl);
}

static const enum rte_acl_classify_alg algs[] = {
	RTE_ACL_CLASSIFY_SCALAR, RTE_ACL_CLASSIFY_SSE, RTE_ACL_CLASSIFY_AVX2,
	RTE_ACL_CLASSIFY_AVX512X16, RTE_ACL_CLASSIFY_AVX512X32,
};
static const char *const alg_names[] = {
	"scalar", "sse", "avx2", "avx512x16", "avx512x32",
};

/*
 * rte_acl == reference on random keys, for several random rule sets and
 * every rte_acl implementation this CPU runs.
 */
static void
test_acl_vs_ref_random(void)
{
	static const struct {
		struct gen_params gp;
		uint32_t n_keys;
	} sets[] = {
		{ { 1, 2, false, false }, 5000 },
		{ { 16, 4, false, false }, 15000 },
		{ { 100, 8, false, true }, 15000 },
		{ { 512, 8, true, false }, 20000 },
		{ { 2048, 16, false, false }, 20000 },
		{ { 4096, 64, true, true }, 30000 },
	};
	uint64_t rs = seed ^ 0xac1;
	uint64_t total_keys = 0, total_ties = 0;

	gen_bases(&rs);
	for (unsigned int si = 0; si < RTE_DIM(sets); si++) {
		const struct gen_params *gp = &sets[si].gp;
		uint32_t nk = sets[si].n_keys;
		struct braid_classify_rule *r = calloc(gp->n_rules, sizeof(*r));
		struct braid_classify_key *keys = calloc(nk, sizeof(*keys));
		const struct braid_classify_key **kp = calloc(nk, sizeof(*kp));
		uint32_t *want = calloc(nk, sizeof(*want));
		uint32_t *got = calloc(nk, sizeof(*got));
		uint16_t *cls = calloc(nk, sizeof(*cls));
		struct rte_ring *punt = NULL;
		struct braid_classify_conf c = {
			.rules = r, .n_rules = gp->n_rules,
			.n_classes = gp->n_classes, .default_class = 1 % gp->n_classes,
		};
		struct braid_classify *cl;
		uint32_t matched = 0, ties = 0, bad = 0;
		char name[32];

		CU_ASSERT_FATAL(r && keys && kp && want && got && cls);
		gen_rules(&rs, gp, r);
		if (gp->with_punt) {
			punt = rte_ring_create(next_name(name, sizeof(name)), 64,
					       SOCKET_ID_ANY, 0);
			CU_ASSERT_PTR_NOT_NULL_FATAL(punt);
			c.punt_ring = punt;
		}
		c.name = next_name(name, sizeof(name));
		cl = braid_classify_create(&c, SOCKET_ID_ANY);
		if (cl == NULL)
			fprintf(stderr, "create %u rules: %s\n", gp->n_rules,
				rte_strerror(rte_errno));
		CU_ASSERT_PTR_NOT_NULL_FATAL(cl);

		for (uint32_t i = 0; i < nk; i++) {
			struct pkt_spec s;
			uint32_t top = 0;

			gen_spec(&rs, r, gp->n_rules, &s);
			/* keys may also carry protocols without ports */
			spec_key(&s, &keys[i]);
			kp[i] = &keys[i];
			want[i] = braid_classify_ref(r, gp->n_rules, &keys[i]);
			if (want[i] == BRAID_CLASSIFY_NO_MATCH)
				continue;
			matched++;
			/* count keys whose best priority is shared: ties */
			for (uint32_t j = 0; j < gp->n_rules; j++) {
				struct braid_classify_key *k = &keys[i];

				if (r[j].priority == r[want[i]].priority &&
				    braid_classify_ref(&r[j], 1, k) == 0)
					top++;
			}
			ties += top > 1;
		}
		total_keys += nk;

		/* The default implementation, then each one the CPU runs. */
		for (int a = -1; a < (int)RTE_DIM(algs); a++) {
			const char *an = a < 0 ? "default" : alg_names[a];

			if (a >= 0) {
				int ret = braid_classify_set_alg(cl, algs[a]);

				if (ret == -ENOTSUP) {
					printf("  set %u: %s not supported here\n", si, an);
					continue;
				}
				CU_ASSERT_EQUAL(ret, 0);
			}
			memset(got, 0xa5, sizeof(*got) * nk);
			CU_ASSERT_EQUAL(braid_classify_lookup(cl, kp, nk, got, cls), 0);
			bad = 0;
			for (uint32_t i = 0; i < nk; i++) {
				uint16_t wc = want[i] == BRAID_CLASSIFY_NO_MATCH ?
					      c.default_class : r[want[i]].class_id;

				if (got[i] == want[i] && cls[i] == wc)
					continue;
				if (bad++ < 3) {
					fprintf(stderr, "set %u alg %s key %u: acl %u ref %u\n",
						si, an, i, got[i], want[i]);
					print_key(&keys[i]);
				}
			}
			CU_ASSERT_EQUAL(bad, 0);
		}
		printf("  set %u: %u rules, %u keys, %u matched a rule, %u ties\n",
		       si, gp->n_rules, nk, matched, ties);
		/* The keys must exercise the rules, not only the default. */
		if (gp->n_rules >= 16)
			CU_ASSERT(matched > nk / 4);
		if (!gp->wide_prio)
			total_ties += ties;
		braid_classify_free(cl);
		rte_ring_free(punt);
		free(r);
		free(keys);
		free(kp);
		free(want);
		free(got);
		free(cls);
	}
	CU_ASSERT(total_keys >= 100000);
	/* equal priorities must have been decided by rule index */
	CU_ASSERT(total_ties > 0);
}

static void
run_burst(struct braid_classify *cl, struct rte_mbuf **pkts, uint16_t n,
	  struct braid_burst *out)
{
	out->n = 0;
	braid_classify_stage_ops.process(cl, pkts, n, out, 0);
}

/*
 * The stage on random frames: its class equals the reference applied to
 * the fields the test wrote; frames come out stripped and trimmed, in order.
 */
static void
test_stage_random_packets(void)
{
	static const struct gen_params sets[] = {
		{ 64, 8, false, false },
		{ 4096, 32, true, false },
	};
	const uint32_t n_pkts = 60000;
	static struct braid_burst out;
	uint64_t rs = seed ^ 0x5a6e;
	uint64_t total = 0;

	gen_bases(&rs);
	for (unsigned int si = 0; si < RTE_DIM(sets); si++) {
		const struct gen_params *gp = &sets[si];
		struct braid_classify_rule *r = calloc(gp->n_rules, sizeof(*r));
		struct braid_classify_conf c = {
			.rules = r, .n_rules = gp->n_rules,
			.n_classes = gp->n_classes, .default_class = 0,
		};
		uint64_t per_class[BRAID_CLASSIFY_MAX_CLASSES] = { 0 };
		uint64_t n_default = 0, n_frag = 0;
		uint32_t done = 0, bad = 0;
		struct braid_classify *cl;
		char name[32];

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		gen_rules(&rs, gp, r);
		c.name = next_name(name, sizeof(name));
		cl = braid_classify_create(&c, SOCKET_ID_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cl);

		while (done < n_pkts) {
			uint16_t n = (uint16_t)RTE_MIN(1 + rnd(&rs, BRAID_BURST),
						       n_pkts - done);
			struct pkt_spec spec[BRAID_BURST];
			struct rte_mbuf *pkts[BRAID_BURST];
			uint16_t want[BRAID_BURST];

			for (uint16_t i = 0; i < n; i++) {
				struct braid_classify_key k;
				uint32_t ri;

				gen_spec(&rs, r, gp->n_rules, &spec[i]);
				spec[i].vlan = rnd(&rs, 2);
				spec[i].ihl = rnd(&rs, 4) ? 5 : (uint8_t)(5 + rnd(&rs, 11));
				spec[i].pad = rnd(&rs, 3) ? 0 : (uint16_t)rnd(&rs, 40);
				if (spec[i].l4_len >= 4)
					spec[i].l4_len = (uint16_t)(4 + rnd(&rs, 200));
				spec_key(&spec[i], &k);
				ri = braid_classify_ref(r, gp->n_rules, &k);
				want[i] = ri == BRAID_CLASSIFY_NO_MATCH ?
					  c.default_class : r[ri].class_id;
				per_class[want[i]]++;
				n_default += ri == BRAID_CLASSIFY_NO_MATCH;
				n_frag += spec[i].frag_off != 0;
				pkts[i] = build_pkt(&spec[i]);
				CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
			}
			run_burst(cl, pkts, n, &out);
			CU_ASSERT_EQUAL(out.n, n);
			for (uint16_t i = 0; i < out.n && i < n; i++) {
				struct rte_mbuf *m = out.pkts[i];
				const struct rte_ipv4_hdr *ip =
					rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
				bool ok = braid_meta(m)->class_id == want[i] &&
					rte_pktmbuf_pkt_len(m) == spec_ip_len(&spec[i]) &&
					rte_pktmbuf_data_len(m) == spec_ip_len(&spec[i]) &&
					(ip->version_ihl >> 4) == 4 &&
					ip->src_addr == rte_cpu_to_be_32(spec[i].src) &&
					ip->dst_addr == rte_cpu_to_be_32(spec[i].dst);

				if (!ok && bad++ < 3) {
					struct braid_classify_key k;

					spec_key(&spec[i], &k);
					fprintf(stderr, "set %u pkt %u: class %u want %u len %u\n",
						si, done + i, braid_meta(m)->class_id,
						want[i], rte_pktmbuf_pkt_len(m));
					print_key(&k);
				}
			}
			rte_pktmbuf_free_bulk(out.pkts, out.n);
			done += n;
		}
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(stat_get(cl, "rx_packets"), n_pkts);
		CU_ASSERT_EQUAL(stat_get(cl, "tx_packets"), n_pkts);
		CU_ASSERT_EQUAL(stat_get(cl, "default_class_hits"), n_default);
		CU_ASSERT_EQUAL(stat_get(cl, "fragments_no_ports"), n_frag);
		for (unsigned int k = 0; k < gp->n_classes; k++)
			CU_ASSERT_EQUAL(class_stat(cl, k), per_class[k]);
		printf("  set %u: %u rules, %u frames, %" PRIu64 " default, %"
		       PRIu64 " non-first fragments\n", si, gp->n_rules, n_pkts,
		       n_default, n_frag);
		total += n_pkts;
		braid_classify_free(cl);
		free(r);
	}
	CU_ASSERT(total >= 100000);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* One frame through a stage with rules: r0 UDP dport 5004 -> class 1,
 * r1 proto UDP any port -> class 2, r2 dscp 46 -> class 3, r3 in_port 3
 * -> class 4, default 0. */
struct edge_env {
	struct braid_classify *cl;
	struct rte_ring *punt;
	struct braid_burst out;
};

static int
edge_env_init(struct edge_env *e, bool with_punt, bool sw_cksum)
{
	static struct braid_classify_rule r[5];
	struct braid_classify_conf c = {
		.rules = r, .n_rules = 4, .n_classes = 5, .default_class = 0,
		.sw_ip_cksum = sw_cksum,
	};
	char name[32];

	r[0] = rule_any(1, 40);
	r[0].proto = IPPROTO_UDP;
	r[0].dport_lo = r[0].dport_hi = 5004;
	r[1] = rule_any(2, 30);
	r[1].proto = IPPROTO_UDP;
	r[2] = rule_any(3, 35);
	r[2].dscp = 46;
	r[3] = rule_any(4, 50);
	r[3].in_port = 3;
	e->punt = NULL;
	if (with_punt) {
		/* ICMP to the gateway's own LAN address goes to the control path */
		r[4] = rule_any(BRAID_CLASSIFY_PUNT, 100);
		r[4].proto = IPPROTO_ICMP;
		r[4].dst_ip = IP4(192, 168, 1, 1);
		r[4].dst_mask_len = 32;
		c.n_rules = 5;
		e->punt = rte_ring_create(next_name(name, sizeof(name)), 4,
					  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (e->punt == NULL)
			return -1;
		c.punt_ring = e->punt;
	}
	c.name = next_name(name, sizeof(name));
	e->cl = braid_classify_create(&c, SOCKET_ID_ANY);
	return e->cl == NULL ? -1 : 0;
}

static void
edge_env_fini(struct edge_env *e)
{
	struct rte_mbuf *m;

	while (e->punt != NULL && rte_ring_dequeue(e->punt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	braid_classify_free(e->cl);
	rte_ring_free(e->punt);
}

/* Run one frame; return its class, or -1 if it did not come out. */
static int
edge_one(struct edge_env *e, struct rte_mbuf *m)
{
	int cls;

	run_burst(e->cl, &m, 1, &e->out);
	if (e->out.n != 1)
		return -1;
	cls = braid_meta(e->out.pkts[0])->class_id;
	return cls;
}

static void
edge_out_free(struct edge_env *e)
{
	rte_pktmbuf_free_bulk(e->out.pkts, e->out.n);
	e->out.n = 0;
}

static void
test_parse_edge_cases(void)
{
	static struct edge_env e;
	struct pkt_spec s;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	uint64_t bad = 0, runt = 0;

	CU_ASSERT_EQUAL_FATAL(edge_env_init(&e, false, false), 0);

	/* Plain UDP to 5004: stripped to the IPv4 packet. */
	default_spec(&s);
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), spec_ip_len(&s));
	CU_ASSERT_EQUAL(*rte_pktmbuf_mtod(m, uint8_t *), 0x45);
	edge_out_free(&e);

	/* 802.1Q tagged: same class, 18 bytes stripped. */
	s.vlan = true;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), spec_ip_len(&s));
	CU_ASSERT_EQUAL(*rte_pktmbuf_mtod(m, uint8_t *), 0x45);
	edge_out_free(&e);

	/* Two tags (QinQ with 0x8100 twice) is not IPv4 for us. */
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 18);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 16)[0] = 0x81;
	rte_pktmbuf_mtod_offset(m, uint8_t *, 16)[1] = 0x00;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_not_ipv4"), 1);

	/* IP options: ports found after a 28-byte header. */
	default_spec(&s);
	s.ihl = 7;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 28u + s.l4_len);
	edge_out_free(&e);

	/* Padding: a 28-byte ICMP packet in a 60-byte frame is trimmed. */
	default_spec(&s);
	s.proto = IPPROTO_ICMP;
	s.l4_len = 8;
	s.pad = 60 - 14 - 28;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 60);
	CU_ASSERT_EQUAL(edge_one(&e, m), 0);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 28);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), 28);
	edge_out_free(&e);

	/* Padding that fills a whole second segment: segment freed. */
	default_spec(&s);
	s.pad = 30;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL_FATAL(split_at(m, (uint16_t)(14 + spec_ip_len(&s) + 2)), 0);
	m->pkt_len = 14u + spec_ip_len(&s) + s.pad;
	CU_ASSERT_EQUAL(m->nb_segs, 2);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	CU_ASSERT_EQUAL(m->nb_segs, 1);
	CU_ASSERT_PTR_NULL(m->next);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), spec_ip_len(&s));
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), spec_ip_len(&s));
	edge_out_free(&e);

	/* Padding in a second segment that also holds data: it is cut; the
	 * ports straddle the two segments. */
	default_spec(&s);
	s.pad = 30;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL_FATAL(split_at(m, (uint16_t)(14 + 20 + 2)), 0);
	m->pkt_len = 14u + spec_ip_len(&s) + s.pad;
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	CU_ASSERT_EQUAL(m->nb_segs, 2);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), spec_ip_len(&s));
	CU_ASSERT_EQUAL(m->data_len + m->next->data_len, spec_ip_len(&s));
	edge_out_free(&e);

	/* Ports wholly in the second segment. */
	default_spec(&s);
	m = build_pkt(&s);
	CU_ASSERT_EQUAL_FATAL(split_at(m, 14 + 20), 0);
	m->pkt_len = 14u + spec_ip_len(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	edge_out_free(&e);

	/* IPv4 header split over segments: bad. */
	default_spec(&s);
	m = build_pkt(&s);
	CU_ASSERT_EQUAL_FATAL(split_at(m, 14 + 10), 0);
	m->pkt_len = 14u + spec_ip_len(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* IPv4 options split over segments: bad too. */
	default_spec(&s);
	s.ihl = 8;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL_FATAL(split_at(m, 14 + 24), 0);
	m->pkt_len = 14u + spec_ip_len(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* Runts: no room for the Ethernet or the 802.1Q header. */
	m = rte_pktmbuf_alloc(mp);
	memset(rte_pktmbuf_append(m, 10), 0, 10);
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_runt"), ++runt);
	default_spec(&s);
	s.vlan = true;
	m = build_pkt(&s);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - 16));
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_runt"), ++runt);

	/* Ethernet + 10 bytes of IPv4. */
	default_spec(&s);
	m = build_pkt(&s);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - 24));
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* Version 6 under ethertype IPv4. */
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->version_ihl = 0x65;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* ihl 4. */
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->version_ihl = 0x44;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* ihl 15 (60 bytes) in a frame with less IP data than that. */
	s.l4_len = 10;
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->version_ihl = 0x4f;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* Total length beyond the data (truncated frame). */
	default_spec(&s);
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(spec_ip_len(&s) + 1));
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* Total length below the header length. */
	m = build_pkt(&s);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->total_length = rte_cpu_to_be_16(19);
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), ++bad);

	/* Total length exactly the header: no ports, still IPv4. */
	default_spec(&s);
	s.l4_len = 0;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 2);   /* UDP, port rule not matched */
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 20);
	edge_out_free(&e);

	/* Fragments: the first one carries the ports, later ones do not,
	 * even though the bytes where ports would be say 5004. */
	default_spec(&s);
	s.mf = true;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	edge_out_free(&e);
	s.frag_off = 185;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 2);
	edge_out_free(&e);
	s.mf = false;           /* last fragment */
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 2);
	edge_out_free(&e);
	CU_ASSERT_EQUAL(stat_get(e.cl, "fragments_no_ports"), 2);

	/* ICMP with "port" bytes 5004: no ports, not the UDP class. */
	default_spec(&s);
	s.proto = IPPROTO_ICMP;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 0);
	edge_out_free(&e);

	/* DSCP 46 (EF) with ECN bits set; in_port 3 outranks it. */
	default_spec(&s);
	s.proto = IPPROTO_TCP;
	s.dscp = 46;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 3);
	edge_out_free(&e);
	s.port_in = 3;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 4);
	edge_out_free(&e);

	/* A NIC-reported bad checksum is dropped; a wrong checksum the NIC
	 * did not look at passes when software checking is off. */
	default_spec(&s);
	m = build_pkt(&s);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_cksum"), 1);
	m = build_pkt(&s);
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->hdr_checksum ^= 0x0101;
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	edge_out_free(&e);

	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_ipv4"), bad);
	edge_env_fini(&e);

	/* Software checksum verification. */
	CU_ASSERT_EQUAL_FATAL(edge_env_init(&e, false, true), 0);
	s.ihl = 6;
	m = build_pkt(&s);
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	edge_out_free(&e);
	m = build_pkt(&s);
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->hdr_checksum ^= 0x0101;
	CU_ASSERT_EQUAL(edge_one(&e, m), -1);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_bad_cksum"), 1);
	/* The NIC said good: trusted. */
	m = build_pkt(&s);
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->hdr_checksum ^= 0x0101;
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CU_ASSERT_EQUAL(edge_one(&e, m), 1);
	edge_out_free(&e);
	edge_env_fini(&e);

	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

static struct rte_mbuf *
build_l2(uint16_t ethertype, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	memset(p, 0x5c, len);
	p[12] = (uint8_t)(ethertype >> 8);
	p[13] = (uint8_t)ethertype;
	return m;
}

static void
test_punt(void)
{
	static struct edge_env e;
	struct rte_mbuf *pkts[8], *got[8];
	struct pkt_spec s;
	unsigned int n;

	CU_ASSERT_EQUAL_FATAL(edge_env_init(&e, true, false), 0);
	/* ring of 4 holds 3 */
	pkts[0] = build_l2(RTE_ETHER_TYPE_ARP, 60);
	pkts[1] = build_l2(RTE_ETHER_TYPE_IPV6, 80);
	default_spec(&s);
	pkts[2] = build_pkt(&s);                     /* data, class 1 */
	pkts[3] = build_l2(RTE_ETHER_TYPE_LLDP, 64);
	pkts[4] = build_l2(RTE_ETHER_TYPE_ARP, 60);  /* ring full */
	s.proto = IPPROTO_ICMP;
	s.l4_len = 8;
	s.dst = IP4(192, 168, 1, 1);
	s.pad = 18;
	pkts[5] = build_pkt(&s);                     /* punt rule, ring full */
	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
	run_burst(e.cl, pkts, 6, &e.out);
	CU_ASSERT_EQUAL(e.out.n, 1);
	CU_ASSERT_PTR_EQUAL(e.out.pkts[0], pkts[2]);
	CU_ASSERT_EQUAL(braid_meta(pkts[2])->class_id, 1);
	edge_out_free(&e);
	n = rte_ring_dequeue_burst(e.punt, (void **)got, 8, NULL);
	CU_ASSERT_EQUAL(n, 3);
	/* Punted frames are whole Ethernet frames, in arrival order. */
	CU_ASSERT_PTR_EQUAL(got[0], pkts[0]);
	CU_ASSERT_PTR_EQUAL(got[1], pkts[1]);
	CU_ASSERT_PTR_EQUAL(got[2], pkts[3]);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(got[0]), 60);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(got[1], uint8_t *)[12], 0x86);
	rte_pktmbuf_free_bulk(got, n);
	CU_ASSERT_EQUAL(stat_get(e.cl, "punted"), 3);
	CU_ASSERT_EQUAL(stat_get(e.cl, "punted_rule"), 0);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_punt_full"), 2);
	CU_ASSERT_EQUAL(stat_get(e.cl, "drop_not_ipv4"), 0);

	/* The punt rule: ICMP to the gateway goes up unstripped, trimmed;
	 * ICMP elsewhere is data. */
	pkts[0] = build_pkt(&s);
	s.dst = IP4(192, 168, 1, 2);
	pkts[1] = build_pkt(&s);
	run_burst(e.cl, pkts, 2, &e.out);
	CU_ASSERT_EQUAL(e.out.n, 1);
	CU_ASSERT_PTR_EQUAL(e.out.pkts[0], pkts[1]);
	CU_ASSERT_EQUAL(braid_meta(pkts[1])->class_id, 0);
	edge_out_free(&e);
	n = rte_ring_dequeue_burst(e.punt, (void **)got, 8, NULL);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_PTR_EQUAL(got[0], pkts[0]);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(got[0]), 14 + 28);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(got[0], uint8_t *)[12], 0x08);
	CU_ASSERT_EQUAL(braid_meta(got[0])->class_id, BRAID_CLASS_NONE);
	rte_pktmbuf_free(got[0]);
	CU_ASSERT_EQUAL(stat_get(e.cl, "punted_rule"), 1);

	edge_env_fini(&e);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/*
 * Mixed random traffic, valid and not: every frame is accounted for in
 * exactly one counter and the per-class counters sum to tx_packets.
 */
static void
test_counters_add_up(void)
{
	static struct braid_burst out;
	static struct braid_classify_rule r[64];
	struct braid_classify_conf c = {
		.rules = r, .n_rules = RTE_DIM(r), .n_classes = 8,
		.default_class = 7,
	};
	uint64_t rs = seed ^ 0xc0;
	uint64_t sent = 0, outs = 0, ring_got = 0, expect_default = 0;
	struct gen_params gp = { RTE_DIM(r), 8, false, true };
	struct braid_classify *cl;
	struct rte_ring *punt;
	uint64_t sum, drops;
	char name[32];

	gen_bases(&rs);
	gen_rules(&rs, &gp, r);
	r[0].class_id = BRAID_CLASSIFY_PUNT;    /* at least one punt rule */
	r[0].priority = 100;
	punt = rte_ring_create(next_name(name, sizeof(name)), 16, SOCKET_ID_ANY,
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(punt);
	c.punt_ring = punt;
	c.name = next_name(name, sizeof(name));
	cl = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);

	for (unsigned int it = 0; it < 2000; it++) {
		struct rte_mbuf *pkts[BRAID_BURST], *got[64];
		uint16_t n = (uint16_t)(1 + rnd(&rs, BRAID_BURST));

		for (uint16_t i = 0; i < n; i++) {
			struct pkt_spec s;

			gen_spec(&rs, r, RTE_DIM(r), &s);
			s.vlan = rnd(&rs, 2);
			switch (rnd(&rs, 10)) {
			case 0:
				pkts[i] = build_l2(RTE_ETHER_TYPE_ARP, 60);
				break;
			case 1:         /* truncated IPv4 */
				pkts[i] = build_pkt(&s);
				rte_pktmbuf_trim(pkts[i], 5);
				break;
			case 2:
				pkts[i] = build_l2(0, (uint16_t)rnd(&rs, 14));
				break;
			case 3:
				pkts[i] = build_pkt(&s);
				pkts[i]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
				break;
			default: {
				struct braid_classify_key k;

				s.pad = (uint16_t)rnd(&rs, 30);
				pkts[i] = build_pkt(&s);
				spec_key(&s, &k);
				expect_default += braid_classify_ref(r, RTE_DIM(r), &k) ==
						  BRAID_CLASSIFY_NO_MATCH;
				break;
			}
			}
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		}
		run_burst(cl, pkts, n, &out);
		outs += out.n;
		rte_pktmbuf_free_bulk(out.pkts, out.n);
		sent += n;
		/* drain the punt ring only now and then: it fills up */
		if (it % 8 == 0) {
			unsigned int k = rte_ring_dequeue_burst(punt, (void **)got,
								RTE_DIM(got), NULL);
			ring_got += k;
			rte_pktmbuf_free_bulk(got, k);
		}
	}
	{
		struct rte_mbuf *got[64];
		unsigned int k;

		while ((k = rte_ring_dequeue_burst(punt, (void **)got,
						   RTE_DIM(got), NULL)) > 0) {
			ring_got += k;
			rte_pktmbuf_free_bulk(got, k);
		}
	}
	sum = 0;
	for (unsigned int k = 0; k < c.n_classes; k++)
		sum += class_stat(cl, k);
	drops = stat_get(cl, "drop_runt") + stat_get(cl, "drop_not_ipv4") +
		stat_get(cl, "drop_bad_ipv4") + stat_get(cl, "drop_bad_cksum") +
		stat_get(cl, "drop_punt_full") + stat_get(cl, "drop_out_full");
	printf("  %" PRIu64 " frames: %" PRIu64 " out, %" PRIu64 " punted, %"
	       PRIu64 " dropped\n", sent, outs, ring_got, drops);
	CU_ASSERT_EQUAL(stat_get(cl, "rx_packets"), sent);
	CU_ASSERT_EQUAL(stat_get(cl, "tx_packets"), outs);
	CU_ASSERT_EQUAL(sum, outs);
	CU_ASSERT_EQUAL(stat_get(cl, "punted") + stat_get(cl, "punted_rule"),
			ring_got);
	CU_ASSERT_EQUAL(sent, outs + ring_got + drops);
	CU_ASSERT_EQUAL(stat_get(cl, "drop_not_ipv4"), 0);    /* punt ring */
	CU_ASSERT_EQUAL(stat_get(cl, "default_class_hits"), expect_default);
	CU_ASSERT(stat_get(cl, "drop_runt") > 0);
	CU_ASSERT(stat_get(cl, "drop_bad_ipv4") > 0);
	CU_ASSERT(stat_get(cl, "drop_bad_cksum") > 0);
	CU_ASSERT(stat_get(cl, "drop_punt_full") > 0);
	CU_ASSERT(stat_get(cl, "punted_rule") > 0);
	CU_ASSERT(stat_get(cl, "default_class_hits") <= class_stat(cl, 7));
	braid_classify_free(cl);
	rte_ring_free(punt);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* No rules: everything IPv4 is the default class; the output burst full
 * is a counted drop. */
static void
test_no_rules_and_out_full(void)
{
	static struct braid_burst out;
	struct braid_classify_conf c = { .n_classes = 3, .default_class = 2 };
	struct rte_mbuf *pkts[BRAID_BURST];
	struct braid_classify *cl;
	struct pkt_spec s;
	char name[32];

	c.name = next_name(name, sizeof(name));
	cl = braid_classify_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	CU_ASSERT_EQUAL(braid_classify_set_alg(cl, RTE_ACL_CLASSIFY_SCALAR), 0);
	default_spec(&s);
	for (unsigned int i = 0; i < 4; i++) {
		pkts[i] = build_pkt(&s);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
	}
	/* leave room for two only */
	out.n = BRAID_BURST_OUT_MAX - 2;
	braid_classify_stage_ops.process(cl, pkts, 4, &out, 0);
	CU_ASSERT_EQUAL(out.n, BRAID_BURST_OUT_MAX);
	CU_ASSERT_PTR_EQUAL(out.pkts[BRAID_BURST_OUT_MAX - 2], pkts[0]);
	CU_ASSERT_PTR_EQUAL(out.pkts[BRAID_BURST_OUT_MAX - 1], pkts[1]);
	CU_ASSERT_EQUAL(braid_meta(pkts[0])->class_id, 2);
	rte_pktmbuf_free_bulk(&out.pkts[BRAID_BURST_OUT_MAX - 2], 2);
	CU_ASSERT_EQUAL(stat_get(cl, "drop_out_full"), 2);
	CU_ASSERT_EQUAL(stat_get(cl, "tx_packets"), 2);
	CU_ASSERT_EQUAL(stat_get(cl, "default_class_hits"), 4);
	CU_ASSERT_EQUAL(class_stat(cl, 2), 2);
	CU_ASSERT_STRING_EQUAL(braid_classify_stage_ops.kind, "classify");
	CU_ASSERT_PTR_NULL(braid_classify_stage_ops.poll);
	CU_ASSERT_PTR_NULL(braid_classify_stage_ops.drain);
	braid_classify_free(cl);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* ------------------------------------------------------------- plumbing */

static int
suite_init(void)
{
	if (braid_test_eal_init(NULL, "0") != 0)
		return -1;
	if (braid_meta_register() != 0)
		return -1;
	/* let the AVX512 rte_acl paths be tested where the CPU has them */
	(void)rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	mp = rte_pktmbuf_pool_create("classify_mp", 4095, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		return -1;
	seed = braid_test_seed(0xc1a55f1eULL);
	printf("\ntest_classify seed: 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	return 0;
}

static int
suite_fini(void)
{
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("classify", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create validation", test_create_validation) == NULL ||
	    CU_add_test(s, "rule semantics", test_rule_semantics) == NULL ||
	    CU_add_test(s, "acl vs reference, random", test_acl_vs_ref_random) == NULL ||
	    CU_add_test(s, "stage vs reference, random frames",
			test_stage_random_packets) == NULL ||
	    CU_add_test(s, "parse edge cases", test_parse_edge_cases) == NULL ||
	    CU_add_test(s, "punt", test_punt) == NULL ||
	    CU_add_test(s, "counters add up", test_counters_add_up) == NULL ||
	    CU_add_test(s, "no rules, output full", test_no_rules_and_out_full) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("classify", register_tests);
}
