/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_cycles.h>

#include "braid_classify.h"
#include "braid_counters.h"
#include "braid_log.h"
#include "braid_meta.h"

RTE_LOG_REGISTER(braid_classify_logtype, braid.classify, INFO);
#define CLASSIFY_LOG(level, ...) \
	BRAID_LOG(level, braid_classify_logtype, __VA_ARGS__)

/* Packets handled per rte_acl_classify() call: a stage input burst is at
 * most BRAID_BURST_OUT_MAX, so process() makes exactly one call. */
#define CLASSIFY_CHUNK BRAID_BURST_OUT_MAX


/* rte_acl field indexes, in the order of struct braid_classify_key. */
enum {
	FLD_PROTO,
	FLD_SRC,
	FLD_DST,
	FLD_SPORT,
	FLD_DPORT,
	FLD_DSCP,
	FLD_FLAGS,
	FLD_IN_PORT,
	FLD_NUM
};

RTE_ACL_RULE_DEF(classify_acl_rule, FLD_NUM);

/*
 * rte_acl reads the first field as one byte, then 4 bytes per input_index:
 * every group after the first must fill exactly 4 bytes. DSCP, the L4 flags
 * and in_port are not contiguous in any header, hence the key.
 */
static const struct rte_acl_field_def classify_field_defs[FLD_NUM] = {
	{ RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), FLD_PROTO, 0,
	  offsetof(struct braid_classify_key, proto) },
	{ RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), FLD_SRC, 1,
	  offsetof(struct braid_classify_key, src_ip) },
	{ RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), FLD_DST, 2,
	  offsetof(struct braid_classify_key, dst_ip) },
	{ RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), FLD_SPORT, 3,
	  offsetof(struct braid_classify_key, sport) },
	{ RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), FLD_DPORT, 3,
	  offsetof(struct braid_classify_key, dport) },
	{ RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), FLD_DSCP, 4,
	  offsetof(struct braid_classify_key, dscp) },
	{ RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), FLD_FLAGS, 4,
	  offsetof(struct braid_classify_key, flags) },
	{ RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint16_t), FLD_IN_PORT, 4,
	  offsetof(struct braid_classify_key, in_port) },
};

static_assert(sizeof(struct braid_classify_key) == 20, "key layout");
static_assert(offsetof(struct braid_classify_key, src_ip) == 4, "key layout");
static_assert(offsetof(struct braid_classify_key, dport) ==
	      offsetof(struct braid_classify_key, sport) + 2, "key group 3");
static_assert(offsetof(struct braid_classify_key, flags) ==
	      offsetof(struct braid_classify_key, dscp) + 1, "key group 4");
static_assert(offsetof(struct braid_classify_key, in_port) ==
	      offsetof(struct braid_classify_key, dscp) + 2, "key group 4");

struct braid_classify {
	struct braid_classify_stats cnt __rte_cache_aligned;
	uint64_t class_pkts[BRAID_CLASSIFY_MAX_CLASSES] __rte_cache_aligned;

	struct rte_acl_ctx *acl;        /* NULL when there are no rules */
	struct rte_ring *punt;
	uint16_t *rule_class;           /* class of each rule */
	uint32_t n_rules;
	uint16_t n_classes;
	uint16_t default_class;
	bool sw_ip_cksum;
	char name[RTE_ACL_NAMESIZE];

	/* Per-burst scratch, owned by the stage's lcore. */
	struct braid_classify_key keys[CLASSIFY_CHUNK] __rte_cache_aligned;
	const uint8_t *key_ptr[CLASSIFY_CHUNK];
	uint32_t results[CLASSIFY_CHUNK];
	uint16_t pkt_idx[CLASSIFY_CHUNK];
	uint16_t l2_len[CLASSIFY_CHUNK];
	struct rte_mbuf *punt_pkts[CLASSIFY_CHUNK];
};

/* ---- rule semantics, shared by the ACL builder and the reference ---- */

static inline bool
rule_constrains_ports(const struct braid_classify_rule *r)
{
	return r->sport_lo != 0 || r->sport_hi != UINT16_MAX ||
	       r->dport_lo != 0 || r->dport_hi != UINT16_MAX;
}

static inline uint32_t
prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static bool
proto_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

static inline bool
rule_matches(const struct braid_classify_rule *r,
	     const struct braid_classify_key *k)
{
	uint32_t src = rte_be_to_cpu_32(k->src_ip);
	uint32_t dst = rte_be_to_cpu_32(k->dst_ip);

	if (r->proto != 0 && r->proto != k->proto)
		return false;
	if (((src ^ r->src_ip) & prefix_mask(r->src_mask_len)) != 0)
		return false;
	if (((dst ^ r->dst_ip) & prefix_mask(r->dst_mask_len)) != 0)
		return false;
	if (rule_constrains_ports(r)) {
		uint16_t sp = rte_be_to_cpu_16(k->sport);
		uint16_t dp = rte_be_to_cpu_16(k->dport);

		if (k->flags & BRAID_CLASSIFY_KEY_F_NO_PORTS)
			return false;
		if (sp < r->sport_lo || sp > r->sport_hi ||
		    dp < r->dport_lo || dp > r->dport_hi)
			return false;
	}
	if (r->dscp >= 0 && (uint8_t)r->dscp != k->dscp)
		return false;
	if (r->in_port >= 0 &&
	    (uint16_t)r->in_port != rte_be_to_cpu_16(k->in_port))
		return false;
	return true;
}

uint32_t
braid_classify_ref(const struct braid_classify_rule *rules, uint32_t n,
		   const struct braid_classify_key *key)
{
	uint32_t best = BRAID_CLASSIFY_NO_MATCH;

	for (uint32_t i = 0; i < n; i++) {
		if (!rule_matches(&rules[i], key))
			continue;
		/* strict '>': an equal priority keeps the lower index */
		if (best == BRAID_CLASSIFY_NO_MATCH ||
		    rules[i].priority > rules[best].priority)
			best = i;
	}
	return best;
}

/* ---- create / free ---- */

static int
check_rule(const struct braid_classify_conf *conf, uint32_t i)
{
	const struct braid_classify_rule *r = &conf->rules[i];
	const char *why = NULL;

	if (r->src_mask_len > 32 || r->dst_mask_len > 32)
		why = "prefix length above 32";
	else if (r->sport_lo > r->sport_hi)
		why = "source port range low > high";
	else if (r->dport_lo > r->dport_hi)
		why = "destination port range low > high";
	else if (r->dscp < -1 || r->dscp > 63)
		why = "dscp not in -1..63";
	else if (r->in_port < -1 || r->in_port > UINT16_MAX)
		why = "in_port not in -1..65535";
	else if (r->class_id == BRAID_CLASSIFY_PUNT && conf->punt_ring == NULL)
		why = "punt rule without a punt ring";
	else if (r->class_id != BRAID_CLASSIFY_PUNT &&
		 r->class_id >= conf->n_classes)
		why = "class_id >= n_classes";
	else if (rule_constrains_ports(r) && r->proto != 0 &&
		 !proto_has_ports(r->proto))
		why = "port range on a protocol without ports (can never match)";
	if (why == NULL)
		return 0;
	CLASSIFY_LOG(ERR, "classify %s: rule %u: %s", conf->name, i, why);
	return -EINVAL;
}

static int
check_conf(const struct braid_classify_conf *conf)
{
	if (conf == NULL || conf->name == NULL || conf->name[0] == '\0' ||
	    strnlen(conf->name, RTE_ACL_NAMESIZE) > BRAID_CLASSIFY_NAMESIZE) {
		CLASSIFY_LOG(ERR, "classify: name missing or longer than %u",
			     BRAID_CLASSIFY_NAMESIZE);
		return -EINVAL;
	}
	if (conf->n_classes == 0 || conf->n_classes > BRAID_CLASSIFY_MAX_CLASSES) {
		CLASSIFY_LOG(ERR, "classify %s: n_classes %u not in 1..%u",
			     conf->name, conf->n_classes,
			     BRAID_CLASSIFY_MAX_CLASSES);
		return -EINVAL;
	}
	if (conf->default_class >= conf->n_classes) {
		CLASSIFY_LOG(ERR, "classify %s: default_class %u >= n_classes %u",
			     conf->name, conf->default_class, conf->n_classes);
		return -EINVAL;
	}
	if (conf->n_rules > BRAID_CLASSIFY_MAX_RULES ||
	    (conf->n_rules > 0 && conf->rules == NULL)) {
		CLASSIFY_LOG(ERR, "classify %s: %u rules (max %u)", conf->name,
			     conf->n_rules, BRAID_CLASSIFY_MAX_RULES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < conf->n_rules; i++) {
		int ret = check_rule(conf, i);

		if (ret != 0)
			return ret;
	}
	return 0;
}

struct prio_rank {
	uint32_t priority;
	uint32_t idx;
};

static int
prio_rank_cmp(const void *a, const void *b)
{
	const struct prio_rank *x = a;
	const struct prio_rank *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static void
acl_rule_from(struct classify_acl_rule *ar, const struct braid_classify_rule *r,
	      uint32_t idx, int32_t acl_priority)
{
	memset(ar, 0, sizeof(*ar));
	ar->data.category_mask = 1;
	ar->data.priority = acl_priority;
	ar->data.userdata = idx + 1;    /* 0 means "no match" to rte_acl */

	ar->field[FLD_PROTO].value.u8 = r->proto;
	ar->field[FLD_PROTO].mask_range.u8 = r->proto != 0 ? UINT8_MAX : 0;
	ar->field[FLD_SRC].value.u32 = r->src_ip;
	ar->field[FLD_SRC].mask_range.u32 = r->src_mask_len;
	ar->field[FLD_DST].value.u32 = r->dst_ip;
	ar->field[FLD_DST].mask_range.u32 = r->dst_mask_len;
	ar->field[FLD_SPORT].value.u16 = r->sport_lo;
	ar->field[FLD_SPORT].mask_range.u16 = r->sport_hi;
	ar->field[FLD_DPORT].value.u16 = r->dport_lo;
	ar->field[FLD_DPORT].mask_range.u16 = r->dport_hi;
	ar->field[FLD_DSCP].value.u8 = r->dscp >= 0 ? (uint8_t)r->dscp : 0;
	ar->field[FLD_DSCP].mask_range.u8 = r->dscp >= 0 ? UINT8_MAX : 0;
	/* A rule that looks at ports requires the ports to be known. */
	ar->field[FLD_FLAGS].value.u8 = 0;
	ar->field[FLD_FLAGS].mask_range.u8 =
		rule_constrains_ports(r) ? BRAID_CLASSIFY_KEY_F_NO_PORTS : 0;
	ar->field[FLD_IN_PORT].value.u16 =
		r->in_port >= 0 ? (uint16_t)r->in_port : 0;
	ar->field[FLD_IN_PORT].mask_range.u16 = r->in_port >= 0 ? UINT16_MAX : 0;
}

/*
 * rte_acl returns the highest-priority match but leaves ties unspecified
 * (it depends on the trie build order), so every rule gets a distinct
 * rte_acl priority: its rank in (priority desc, index asc), mapped to
 * n_rules..1. This keeps the full 32-bit user priority range.
 */
static int
build_acl(struct braid_classify *cl, const struct braid_classify_conf *conf,
	  int socket)
{
	struct rte_acl_param param = {
		.name = cl->name,
		.socket_id = socket,
		.rule_size = RTE_ACL_RULE_SZ(FLD_NUM),
		.max_rule_num = conf->n_rules,
	};
	struct rte_acl_config cfg = {
		.num_categories = 1,
		.num_fields = FLD_NUM,
		/* 0 would make rte_acl split tries at its smallest node
		 * count and run out of tries on large overlapping sets. */
		.max_size = conf->acl_max_size != 0 ? conf->acl_max_size :
			    BRAID_CLASSIFY_ACL_MAX_SIZE_DEFAULT,
	};
	struct classify_acl_rule *ar = NULL;
	struct prio_rank *rank = NULL;
	uint32_t n = conf->n_rules;
	uint64_t t0;
	int ret;

	if (rte_acl_find_existing(cl->name) != NULL) {
		CLASSIFY_LOG(ERR, "classify %s: an rte_acl context of that name exists",
			     cl->name);
		return -EEXIST;
	}
	rank = malloc(sizeof(*rank) * n);
	ar = malloc(sizeof(*ar) * n);
	if (rank == NULL || ar == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		rank[i].priority = conf->rules[i].priority;
		rank[i].idx = i;
	}
	qsort(rank, n, sizeof(*rank), prio_rank_cmp);
	for (uint32_t r = 0; r < n; r++) {
		uint32_t i = rank[r].idx;

		acl_rule_from(&ar[i], &conf->rules[i], i, (int32_t)(n - r));
	}

	cl->acl = rte_acl_create(&param);
	if (cl->acl == NULL) {
		ret = -rte_errno;
		CLASSIFY_LOG(ERR, "classify %s: rte_acl_create: %s", cl->name,
			     rte_strerror(rte_errno));
		goto out;
	}
	ret = rte_acl_add_rules(cl->acl, (const struct rte_acl_rule *)ar, n);
	if (ret != 0) {
		CLASSIFY_LOG(ERR, "classify %s: rte_acl_add_rules: %s", cl->name,
			     strerror(-ret));
		goto out;
	}
	memcpy(cfg.defs, classify_field_defs, sizeof(classify_field_defs));
	t0 = rte_get_timer_cycles();
	ret = rte_acl_build(cl->acl, &cfg);
	if (ret != 0) {
		CLASSIFY_LOG(ERR, "classify %s: rte_acl_build of %u rules within %zu bytes: %s",
			     cl->name, n, cfg.max_size, strerror(-ret));
		goto out;
	}
	CLASSIFY_LOG(DEBUG, "classify %s: %u rules built in %" PRIu64 " ms",
		     cl->name, n, (rte_get_timer_cycles() - t0) * 1000 /
		     rte_get_timer_hz());
out:
	free(ar);
	free(rank);
	return ret;
}

int
braid_classify_set_alg(struct braid_classify *cl, enum rte_acl_classify_alg alg)
{
	if (cl == NULL || (unsigned int)alg > RTE_ACL_CLASSIFY_AVX512X32)
		return -EINVAL;
	if (cl->acl == NULL)
		return 0;
	return rte_acl_set_ctx_classify(cl->acl, alg);
}

struct braid_classify *
braid_classify_create(const struct braid_classify_conf *conf, int socket)
{
	struct braid_classify *cl;
	int ret;

	ret = check_conf(conf);
	if (ret != 0) {
		rte_errno = -ret;
		return NULL;
	}
	cl = rte_zmalloc_socket("braid_classify", sizeof(*cl),
				RTE_CACHE_LINE_SIZE, socket);
	if (cl == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(cl->name, sizeof(cl->name), "%s", conf->name);
	cl->punt = conf->punt_ring;
	cl->n_rules = conf->n_rules;
	cl->n_classes = conf->n_classes;
	cl->default_class = conf->default_class;
	cl->sw_ip_cksum = conf->sw_ip_cksum;
	for (unsigned int i = 0; i < CLASSIFY_CHUNK; i++)
		cl->key_ptr[i] = (const uint8_t *)&cl->keys[i];

	if (conf->n_rules > 0) {
		cl->rule_class = rte_malloc_socket("braid_classify_rules",
						   sizeof(uint16_t) * conf->n_rules,
						   RTE_CACHE_LINE_SIZE, socket);
		if (cl->rule_class == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		for (uint32_t i = 0; i < conf->n_rules; i++)
			cl->rule_class[i] = conf->rules[i].class_id;
		ret = build_acl(cl, conf, socket);
		if (ret != 0)
			goto fail;
		if (conf->acl_alg != RTE_ACL_CLASSIFY_DEFAULT) {
			ret = braid_classify_set_alg(cl, conf->acl_alg);
			if (ret != 0) {
				CLASSIFY_LOG(ERR, "classify %s: acl_alg %d: %s",
					     cl->name, (int)conf->acl_alg,
					     strerror(-ret));
				goto fail;
			}
		}
	}
	CLASSIFY_LOG(DEBUG, "classify %s: %u rules, %u classes, default %u",
		     cl->name, cl->n_rules, cl->n_classes, cl->default_class);
	return cl;
fail:
	braid_classify_free(cl);
	rte_errno = -ret;
	return NULL;
}

void
braid_classify_free(struct braid_classify *cl)
{
	if (cl == NULL)
		return;
	rte_acl_free(cl->acl);
	rte_free(cl->rule_class);
	rte_free(cl);
}

uint16_t
braid_classify_n_classes(const struct braid_classify *cl)
{
	return cl->n_classes;
}

int
braid_classify_lookup(const struct braid_classify *cl,
		      const struct braid_classify_key *const keys[], uint32_t n,
		      uint32_t *rule_idx, uint16_t *class_id)
{
	uint32_t res[64];

	if (cl == NULL || (n > 0 && keys == NULL))
		return -EINVAL;
	for (uint32_t off = 0; off < n; off += RTE_DIM(res)) {
		uint32_t cnt = RTE_MIN(n - off, (uint32_t)RTE_DIM(res));

		if (cl->acl != NULL) {
			int ret = rte_acl_classify(cl->acl,
					(const uint8_t **)(uintptr_t)&keys[off],
					res, cnt, 1);
			if (ret != 0)
				return ret;
		} else {
			memset(res, 0, sizeof(res[0]) * cnt);
		}
		for (uint32_t i = 0; i < cnt; i++) {
			if (rule_idx != NULL)
				rule_idx[off + i] = res[i] - 1; /* 0 -> NO_MATCH */
			if (class_id != NULL)
				class_id[off + i] = res[i] != 0 ?
					cl->rule_class[res[i] - 1] :
					cl->default_class;
		}
	}
	return 0;
}

/* ---- the fast path ---- */

enum parse_verdict {
	PARSE_IPV4,
	PARSE_NOT_IPV4,
	PARSE_RUNT,
	PARSE_BAD_IPV4,
	PARSE_BAD_CKSUM,
};

/* Cut @p m to @p len bytes (len >= the first segment's headers, which the
 * caller checked), freeing segments that hold only padding. */
static void
trim_to(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	struct rte_mbuf *tail;
	uint32_t left = len;
	uint16_t nseg = 1;

	while (left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		nseg++;
	}
	seg->data_len = (uint16_t)left;
	tail = seg->next;
	seg->next = NULL;
	m->nb_segs = nseg;
	m->pkt_len = len;
	if (tail != NULL)
		rte_pktmbuf_free(tail);
}

/*
 * Parse and validate @p m; on PARSE_IPV4 fill @p key and @p l2_len and trim
 * the Ethernet padding. *frag_np is set for non-first fragments.
 */
static inline enum parse_verdict
parse_frame(const struct braid_classify *cl, struct rte_mbuf *m,
	    struct braid_classify_key *key, uint16_t *l2_len, bool *frag_np)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t dlen = rte_pktmbuf_data_len(m);
	const struct rte_ipv4_hdr *ip;
	uint16_t l2 = sizeof(struct rte_ether_hdr);
	rte_be16_t et;
	uint32_t hl, tot, frag;
	bool ports_known;

	if (unlikely(dlen < sizeof(struct rte_ether_hdr)))
		return PARSE_RUNT;
	et = ((const struct rte_ether_hdr *)p)->ether_type;
	if (et == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		l2 += sizeof(struct rte_vlan_hdr);
		if (unlikely(dlen < l2))
			return PARSE_RUNT;
		et = ((const struct rte_vlan_hdr *)(p + sizeof(struct rte_ether_hdr)))->eth_proto;
	}
	if (et != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return PARSE_NOT_IPV4;

	/* The IPv4 header must be whole in the first segment. */
	if (unlikely(dlen < (uint32_t)l2 + sizeof(struct rte_ipv4_hdr)))
		return PARSE_BAD_IPV4;
	ip = (const struct rte_ipv4_hdr *)(p + l2);
	if (unlikely((ip->version_ihl >> 4) != 4))
		return PARSE_BAD_IPV4;
	hl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) *
	     RTE_IPV4_IHL_MULTIPLIER;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(hl < sizeof(struct rte_ipv4_hdr) || dlen < l2 + hl ||
		     tot < hl || l2 + tot > rte_pktmbuf_pkt_len(m)))
		return PARSE_BAD_IPV4;

	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
		break;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return PARSE_BAD_CKSUM;
	default:
		if (cl->sw_ip_cksum && rte_raw_cksum(ip, hl) != UINT16_MAX)
			return PARSE_BAD_CKSUM;
		break;
	}

	if (rte_pktmbuf_pkt_len(m) > l2 + tot)
		trim_to(m, l2 + tot);

	frag = rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK;
	*frag_np = frag != 0;
	ports_known = frag == 0 && proto_has_ports(ip->next_proto_id) &&
		      tot >= hl + 4;

	key->proto = ip->next_proto_id;
	key->reserved[0] = 0;
	key->reserved[1] = 0;
	key->reserved[2] = 0;
	key->src_ip = ip->src_addr;
	key->dst_ip = ip->dst_addr;
	key->dscp = ip->type_of_service >> 2;
	key->in_port = rte_cpu_to_be_16(braid_meta(m)->port_in);
	key->flags = BRAID_CLASSIFY_KEY_F_NO_PORTS;
	key->sport = 0;
	key->dport = 0;
	if (ports_known) {
		rte_be16_t buf[2];
		const rte_be16_t *ports;

		/* TCP, UDP and SCTP all start with source, destination port. */
		ports = rte_pktmbuf_read(m, l2 + hl, sizeof(buf), buf);
		if (likely(ports != NULL)) {
			key->sport = ports[0];
			key->dport = ports[1];
			key->flags = 0;
		}
	}
	*l2_len = l2;
	return PARSE_IPV4;
}

static void
classify_chunk(struct braid_classify *cl, struct rte_mbuf **pkts, uint16_t n,
	       struct braid_burst *out)
{
	struct braid_classify_stats *c = &cl->cnt;
	uint32_t n_v4 = 0, n_punt = 0, n_punt_l2, n_tx = 0, n_default = 0;
	uint32_t n_runt = 0, n_not_ipv4 = 0, n_bad = 0, n_cksum = 0;
	uint32_t n_frag = 0, n_out_full = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bool frag_np = false;

		switch (parse_frame(cl, m, &cl->keys[n_v4], &cl->l2_len[n_v4],
				    &frag_np)) {
		case PARSE_IPV4:
			n_frag += frag_np;
			cl->pkt_idx[n_v4++] = i;
			break;
		case PARSE_NOT_IPV4:
			if (cl->punt != NULL) {
				cl->punt_pkts[n_punt++] = m;
			} else {
				n_not_ipv4++;
				rte_pktmbuf_free(m);
			}
			break;
		case PARSE_RUNT:
			n_runt++;
			rte_pktmbuf_free(m);
			break;
		case PARSE_BAD_CKSUM:
			n_cksum++;
			rte_pktmbuf_free(m);
			break;
		case PARSE_BAD_IPV4:
		default:
			n_bad++;
			rte_pktmbuf_free(m);
			break;
		}
	}
	n_punt_l2 = n_punt;

	if (n_v4 > 0) {
		if (cl->acl != NULL)
			(void)rte_acl_classify(cl->acl, cl->key_ptr, cl->results,
					       n_v4, 1);
		else
			memset(cl->results, 0, sizeof(cl->results[0]) * n_v4);
	}

	for (uint32_t j = 0; j < n_v4; j++) {
		struct rte_mbuf *m = pkts[cl->pkt_idx[j]];
		uint32_t r = cl->results[j];
		uint16_t cls;

		if (r != 0) {
			cls = cl->rule_class[r - 1];
			if (cls == BRAID_CLASSIFY_PUNT) {
				cl->punt_pkts[n_punt++] = m;
				continue;
			}
		} else {
			cls = cl->default_class;
			n_default++;
		}
		/* The LAN header stays readable in the headroom (lib/mtu answers
		 * with ICMP from it). */
		m->l2_len = cl->l2_len[j];
		rte_pktmbuf_adj(m, cl->l2_len[j]);
		braid_meta(m)->class_id = cls;
		if (unlikely(braid_burst_push(out, m) != 0)) {
			n_out_full++;
			rte_pktmbuf_free(m);
			continue;
		}
		cl->class_pkts[cls]++;
		n_tx++;
	}

	if (n_punt > 0) {
		uint32_t k = rte_ring_enqueue_burst(cl->punt, (void **)cl->punt_pkts,
						    n_punt, NULL);

		c->punted += RTE_MIN(k, n_punt_l2);
		c->punted_rule += k > n_punt_l2 ? k - n_punt_l2 : 0;
		c->drop_punt_full += n_punt - k;
		if (k < n_punt)
			rte_pktmbuf_free_bulk(&cl->punt_pkts[k], n_punt - k);
	}

	c->rx_packets += n;
	c->tx_packets += n_tx;
	c->default_class_hits += n_default;
	c->fragments_no_ports += n_frag;
	c->drop_runt += n_runt;
	c->drop_not_ipv4 += n_not_ipv4;
	c->drop_bad_ipv4 += n_bad;
	c->drop_bad_cksum += n_cksum;
	c->drop_out_full += n_out_full;
}

void
braid_classify_burst(struct braid_classify *cl, struct rte_mbuf **pkts,
		     uint16_t n, struct braid_burst *out)
{
	while (n > 0) {
		uint16_t cnt = RTE_MIN(n, (uint16_t)CLASSIFY_CHUNK);

		classify_chunk(cl, pkts, cnt, out);
		pkts += cnt;
		n -= cnt;
	}
}

void
braid_classify_stats(const struct braid_classify *cl, struct braid_classify_stats *st)
{
	*st = cl->cnt;
}

int
braid_classify_class_stats(const struct braid_classify *cl, uint16_t class_id,
			   struct braid_classify_class_stats *st)
{
	if (class_id >= cl->n_classes)
		return -ENOENT;
	st->packets = cl->class_pkts[class_id];
	return 0;
}

static void
classify_stage_process(void *ctx, struct rte_mbuf **pkts, uint16_t n,
		       struct braid_burst *out, uint64_t now_ns)
{
	RTE_SET_USED(now_ns);
	braid_classify_burst(ctx, pkts, n, out);
}

static void
classify_stage_stats(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_classify *cl = ctx;
	struct braid_stat_labels lb = { BRAID_STAT_NONE, BRAID_STAT_NONE };
	struct braid_classify_class_stats cs;

	BRAID_COUNTERS_REPORT(BRAID_CLASSIFY_COUNTERS, &cl->cnt, fn, arg);
	for (lb.class_id = 0; lb.class_id < cl->n_classes; lb.class_id++) {
		braid_classify_class_stats(cl, (uint16_t)lb.class_id, &cs);
		BRAID_COUNTERS_REPORT_LABELLED(BRAID_CLASSIFY_CLASS_COUNTERS, &cs,
					       &lb, fn, arg);
	}
}

const struct braid_stage_ops braid_classify_stage_ops = {
	.kind = "classify",
	.flags = 0,
	.process = classify_stage_process,
	.poll = NULL,
	.drain = NULL,
	.stats = classify_stage_stats,
};
