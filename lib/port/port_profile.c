/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver profiles: the strict JSON loader and the offload / RSS name
 * tables. Runs before or after EAL init (no DPDK state touched).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_string_fns.h>

#include "port_priv.h"

#define FLAG(n, b) { n, b }

static const struct port_flag_name rx_offload_names[] = {
	FLAG("vlan_strip", RTE_ETH_RX_OFFLOAD_VLAN_STRIP),
	FLAG("ipv4_cksum", RTE_ETH_RX_OFFLOAD_IPV4_CKSUM),
	FLAG("udp_cksum", RTE_ETH_RX_OFFLOAD_UDP_CKSUM),
	FLAG("tcp_cksum", RTE_ETH_RX_OFFLOAD_TCP_CKSUM),
	FLAG("tcp_lro", RTE_ETH_RX_OFFLOAD_TCP_LRO),
	FLAG("qinq_strip", RTE_ETH_RX_OFFLOAD_QINQ_STRIP),
	FLAG("outer_ipv4_cksum", RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM),
	FLAG("macsec_strip", RTE_ETH_RX_OFFLOAD_MACSEC_STRIP),
	FLAG("vlan_filter", RTE_ETH_RX_OFFLOAD_VLAN_FILTER),
	FLAG("vlan_extend", RTE_ETH_RX_OFFLOAD_VLAN_EXTEND),
	FLAG("scatter", RTE_ETH_RX_OFFLOAD_SCATTER),
	FLAG("timestamp", RTE_ETH_RX_OFFLOAD_TIMESTAMP),
	FLAG("security", RTE_ETH_RX_OFFLOAD_SECURITY),
	FLAG("keep_crc", RTE_ETH_RX_OFFLOAD_KEEP_CRC),
	FLAG("sctp_cksum", RTE_ETH_RX_OFFLOAD_SCTP_CKSUM),
	FLAG("outer_udp_cksum", RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM),
	FLAG("rss_hash", RTE_ETH_RX_OFFLOAD_RSS_HASH),
	FLAG("buffer_split", RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT),
	{ NULL, 0 },
};

static const struct port_flag_name tx_offload_names[] = {
	FLAG("vlan_insert", RTE_ETH_TX_OFFLOAD_VLAN_INSERT),
	FLAG("ipv4_cksum", RTE_ETH_TX_OFFLOAD_IPV4_CKSUM),
	FLAG("udp_cksum", RTE_ETH_TX_OFFLOAD_UDP_CKSUM),
	FLAG("tcp_cksum", RTE_ETH_TX_OFFLOAD_TCP_CKSUM),
	FLAG("sctp_cksum", RTE_ETH_TX_OFFLOAD_SCTP_CKSUM),
	FLAG("tcp_tso", RTE_ETH_TX_OFFLOAD_TCP_TSO),
	FLAG("udp_tso", RTE_ETH_TX_OFFLOAD_UDP_TSO),
	FLAG("outer_ipv4_cksum", RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM),
	FLAG("qinq_insert", RTE_ETH_TX_OFFLOAD_QINQ_INSERT),
	FLAG("vxlan_tnl_tso", RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO),
	FLAG("gre_tnl_tso", RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO),
	FLAG("ipip_tnl_tso", RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO),
	FLAG("geneve_tnl_tso", RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO),
	FLAG("macsec_insert", RTE_ETH_TX_OFFLOAD_MACSEC_INSERT),
	FLAG("mt_lockfree", RTE_ETH_TX_OFFLOAD_MT_LOCKFREE),
	FLAG("multi_segs", RTE_ETH_TX_OFFLOAD_MULTI_SEGS),
	FLAG("mbuf_fast_free", RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE),
	FLAG("security", RTE_ETH_TX_OFFLOAD_SECURITY),
	FLAG("udp_tnl_tso", RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO),
	FLAG("ip_tnl_tso", RTE_ETH_TX_OFFLOAD_IP_TNL_TSO),
	FLAG("outer_udp_cksum", RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM),
	FLAG("send_on_timestamp", RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP),
	{ NULL, 0 },
};

/* Single fields first (braid_port_flags_str renders with those), then the
 * aggregates the loader also accepts. */
static const struct port_flag_name rss_names[] = {
	FLAG("ipv4", RTE_ETH_RSS_IPV4),
	FLAG("frag_ipv4", RTE_ETH_RSS_FRAG_IPV4),
	FLAG("ipv4_tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP),
	FLAG("ipv4_udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP),
	FLAG("ipv4_sctp", RTE_ETH_RSS_NONFRAG_IPV4_SCTP),
	FLAG("ipv4_other", RTE_ETH_RSS_NONFRAG_IPV4_OTHER),
	FLAG("ipv6", RTE_ETH_RSS_IPV6),
	FLAG("frag_ipv6", RTE_ETH_RSS_FRAG_IPV6),
	FLAG("ipv6_tcp", RTE_ETH_RSS_NONFRAG_IPV6_TCP),
	FLAG("ipv6_udp", RTE_ETH_RSS_NONFRAG_IPV6_UDP),
	FLAG("ipv6_sctp", RTE_ETH_RSS_NONFRAG_IPV6_SCTP),
	FLAG("ipv6_other", RTE_ETH_RSS_NONFRAG_IPV6_OTHER),
	FLAG("l2_payload", RTE_ETH_RSS_L2_PAYLOAD),
	FLAG("ipv6_ex", RTE_ETH_RSS_IPV6_EX),
	FLAG("ipv6_tcp_ex", RTE_ETH_RSS_IPV6_TCP_EX),
	FLAG("ipv6_udp_ex", RTE_ETH_RSS_IPV6_UDP_EX),
	FLAG("port", RTE_ETH_RSS_PORT),
	FLAG("vxlan", RTE_ETH_RSS_VXLAN),
	FLAG("geneve", RTE_ETH_RSS_GENEVE),
	FLAG("nvgre", RTE_ETH_RSS_NVGRE),
	FLAG("gtpu", RTE_ETH_RSS_GTPU),
	FLAG("eth", RTE_ETH_RSS_ETH),
	FLAG("s_vlan", RTE_ETH_RSS_S_VLAN),
	FLAG("c_vlan", RTE_ETH_RSS_C_VLAN),
	FLAG("esp", RTE_ETH_RSS_ESP),
	FLAG("ah", RTE_ETH_RSS_AH),
	FLAG("l2tpv3", RTE_ETH_RSS_L2TPV3),
	FLAG("pfcp", RTE_ETH_RSS_PFCP),
	FLAG("pppoe", RTE_ETH_RSS_PPPOE),
	FLAG("ecpri", RTE_ETH_RSS_ECPRI),
	FLAG("mpls", RTE_ETH_RSS_MPLS),
	FLAG("ipv4_chksum", RTE_ETH_RSS_IPV4_CHKSUM),
	FLAG("l4_chksum", RTE_ETH_RSS_L4_CHKSUM),
	FLAG("l2tpv2", RTE_ETH_RSS_L2TPV2),
	FLAG("ip", RTE_ETH_RSS_IP),
	FLAG("tcp", RTE_ETH_RSS_TCP),
	FLAG("udp", RTE_ETH_RSS_UDP),
	FLAG("sctp", RTE_ETH_RSS_SCTP),
	{ NULL, 0 },
};

const struct port_flag_name *
port_flag_table(enum braid_port_flag_kind kind)
{
	switch (kind) {
	case BRAID_PORT_FLAG_RX_OFFLOAD:
		return rx_offload_names;
	case BRAID_PORT_FLAG_TX_OFFLOAD:
		return tx_offload_names;
	case BRAID_PORT_FLAG_RSS_HF:
		return rss_names;
	}
	return NULL;
}

uint64_t
braid_port_flag_parse(enum braid_port_flag_kind kind, const char *name)
{
	const struct port_flag_name *t = port_flag_table(kind);

	if (t == NULL || name == NULL)
		return 0;
	for (; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t->bits;
	return 0;
}

int
braid_port_flags_str(enum braid_port_flag_kind kind, uint64_t mask,
		     char *buf, size_t len)
{
	const struct port_flag_name *t = port_flag_table(kind);
	size_t off = 0;
	int n;

	if (buf == NULL || len == 0 || t == NULL)
		return -ENOSPC;
	buf[0] = '\0';
	for (; t->name != NULL && mask != 0; t++) {
		/* Only single-bit names render; aggregates are parse-only. */
		if ((t->bits & (t->bits - 1)) != 0 || (mask & t->bits) == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", t->name);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
		mask &= ~t->bits;
	}
	if (mask != 0) {
		n = snprintf(buf + off, len - off, "%s0x%" PRIx64, off ? "," : "", mask);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

/* ---- devargs template ---------------------------------------------------- */

/* A template may hold "%%" and at most one "%s". @return number of "%s",
 * or -1 if another conversion is present. */
static int
devargs_conversions(const char *t)
{
	int n = 0;

	for (; *t != '\0'; t++) {
		if (*t != '%')
			continue;
		t++;
		if (*t == 's')
			n++;
		else if (*t != '%')
			return -1;
	}
	return n;
}

int
braid_port_devargs(const struct braid_port_profile *p, const char *device,
		   const char *arg, char *buf, size_t len)
{
	size_t off;
	const char *t;
	int n;

	if (p == NULL || device == NULL || device[0] == '\0' || buf == NULL || len == 0)
		return -EINVAL;
	n = devargs_conversions(p->devargs);
	if (n < 0 || n > 1 || (n == 1 && (arg == NULL || arg[0] == '\0')))
		return -EINVAL;
	off = strlcpy(buf, device, len);
	if (off >= len)
		return -ENOSPC;
	if (p->devargs[0] == '\0')
		return 0;
	if (off + 1 >= len)
		return -ENOSPC;
	buf[off++] = ',';
	for (t = p->devargs; *t != '\0'; t++) {
		const char *piece = NULL;
		char c = *t;

		if (c == '%') {
			t++;
			if (*t == 's')
				piece = arg;
			else
				c = '%';
		}
		if (piece != NULL) {
			size_t pl = strlen(piece);

			if (off + pl >= len)
				return -ENOSPC;
			memcpy(buf + off, piece, pl);
			off += pl;
		} else {
			if (off + 1 >= len)
				return -ENOSPC;
			buf[off++] = c;
		}
	}
	buf[off] = '\0';
	return 0;
}

/* ---- strict loader --------------------------------------------------------- */

static int __rte_format_printf(4, 5)
perr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
get_uint(const json_t *v, const char *path, long long lo, long long hi,
	 long long *out, char *err, size_t errlen)
{
	long long x;

	if (!json_is_integer(v))
		return perr(err, errlen, path, "must be an integer %lld..%lld", lo, hi);
	x = (long long)json_integer_value(v);
	if (x < lo || x > hi)
		return perr(err, errlen, path, "must be %lld..%lld (got %lld)", lo, hi, x);
	*out = x;
	return 0;
}

static int
get_flags(const json_t *v, const char *path, enum braid_port_flag_kind kind,
	  const char *what, uint64_t *out, char *err, size_t errlen)
{
	char ipath[128];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return perr(err, errlen, path, "must be an array of %s names", what);
	*out = 0;
	json_array_foreach(v, i, e) {
		uint64_t bits;

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (!json_is_string(e))
			return perr(err, errlen, ipath, "must be a string (%s name)", what);
		bits = braid_port_flag_parse(kind, json_string_value(e));
		if (bits == 0)
			return perr(err, errlen, ipath, "unknown %s \"%s\"", what,
				    json_string_value(e));
		if ((*out & bits) == bits)
			return perr(err, errlen, ipath, "duplicate %s \"%s\"", what,
				    json_string_value(e));
		*out |= bits;
	}
	return 0;
}

static int
get_string(const json_t *v, const char *path, char *dst, size_t dstlen,
	   bool nonempty, char *err, size_t errlen)
{
	const char *s;

	if (!json_is_string(v))
		return perr(err, errlen, path, "must be a string");
	s = json_string_value(v);
	if (nonempty && s[0] == '\0')
		return perr(err, errlen, path, "must not be empty");
	if (dst != NULL && strlen(s) >= dstlen)
		return perr(err, errlen, path, "must be shorter than %zu characters", dstlen);
	if (dst != NULL)
		strlcpy(dst, s, dstlen);
	return 0;
}

static int
parse_rss(const json_t *v, struct braid_port_profile *p, char *err, size_t errlen)
{
	const json_t *enabled = NULL, *fields = NULL;
	const char *key;
	json_t *val;
	int ret;

	if (!json_is_object(v))
		return perr(err, errlen, "$.rss",
			    "must be an object {\"enabled\": bool, \"hash_fields\": [...]}");
	json_object_foreach((json_t *)(uintptr_t)v, key, val) {
		if (strcmp(key, "enabled") == 0)
			enabled = val;
		else if (strcmp(key, "hash_fields") == 0)
			fields = val;
		else
			return perr(err, errlen, "$.rss", "unknown key \"%s\"", key);
	}
	if (enabled == NULL)
		return perr(err, errlen, "$.rss.enabled", "missing");
	if (!json_is_boolean(enabled))
		return perr(err, errlen, "$.rss.enabled", "must be true or false");
	p->rss = json_is_true(enabled);
	p->rss_hf = 0;
	if (fields != NULL) {
		ret = get_flags(fields, "$.rss.hash_fields", BRAID_PORT_FLAG_RSS_HF,
				"RSS hash field", &p->rss_hf, err, errlen);
		if (ret != 0)
			return ret;
	}
	if (p->rss && p->rss_hf == 0)
		return perr(err, errlen, "$.rss.hash_fields",
			    "must list at least one field when RSS is enabled");
	return 0;
}

/* Keys of a profile; bit i of "seen" is keys[i]. */
enum {
	K_DRIVER, K_RX_DESC, K_TX_DESC, K_RX_QUEUES, K_TX_QUEUES, K_RSS,
	K_RX_OFFLOADS, K_TX_OFFLOADS, K_MTU, K_DEVARGS, K_LINK_WAIT_MS,
	K_PROMISCUOUS, K_DESCRIPTION, K_COUNT
};
static const char *const keys[K_COUNT] = {
	"driver", "rx_desc", "tx_desc", "rx_queues", "tx_queues", "rss",
	"rx_offloads", "tx_offloads", "mtu", "devargs", "link_wait_ms",
	"promiscuous", "description",
};
/* "devargs" and "description" may be left out. */
#define K_REQUIRED (((1u << K_COUNT) - 1) & ~(1u << K_DEVARGS) & ~(1u << K_DESCRIPTION))

static int
parse_key(int k, const json_t *v, const char *path, struct braid_port_profile *p,
	  char *err, size_t errlen)
{
	long long x = 0;
	int ret = 0;

	switch (k) {
	case K_DRIVER:
		ret = get_string(v, path, p->driver, sizeof(p->driver), true, err, errlen);
		if (ret == 0 && strspn(p->driver, "abcdefghijklmnopqrstuvwxyz0123456789_")
				!= strlen(p->driver))
			ret = perr(err, errlen, path,
				   "must be a PMD name ([a-z0-9_]), e.g. \"net_ixgbe\"");
		break;
	case K_RX_DESC:
	case K_TX_DESC:
		ret = get_uint(v, path, BRAID_PORT_DESC_MIN, BRAID_PORT_DESC_MAX, &x,
			       err, errlen);
		if (k == K_RX_DESC)
			p->rx_desc = (uint16_t)x;
		else
			p->tx_desc = (uint16_t)x;
		break;
	case K_RX_QUEUES:
	case K_TX_QUEUES:
		ret = get_uint(v, path, 1, BRAID_PORT_QUEUES_MAX, &x, err, errlen);
		if (k == K_RX_QUEUES)
			p->rx_queues = (uint16_t)x;
		else
			p->tx_queues = (uint16_t)x;
		break;
	case K_RSS:
		ret = parse_rss(v, p, err, errlen);
		break;
	case K_RX_OFFLOADS:
		ret = get_flags(v, path, BRAID_PORT_FLAG_RX_OFFLOAD, "rx offload",
				&p->rx_offloads, err, errlen);
		break;
	case K_TX_OFFLOADS:
		ret = get_flags(v, path, BRAID_PORT_FLAG_TX_OFFLOAD, "tx offload",
				&p->tx_offloads, err, errlen);
		/* Fast free assumes refcnt 1, direct mbufs from one pool: braid's
		 * FEC and retransmit cache hold references and encap chains
		 * header mbufs to indirect clones. */
		if (ret == 0 && (p->tx_offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)) {
			size_t i;
			json_t *e;
			char ipath[128];

			json_array_foreach(v, i, e)
				if (strcmp(json_string_value(e), "mbuf_fast_free") == 0)
					break;
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			ret = perr(err, errlen, ipath,
				   "\"mbuf_fast_free\" is unsafe in braid (FEC and the "
				   "retransmit cache hold mbuf references; encap sends "
				   "chained indirect mbufs)");
		}
		break;
	case K_MTU:
		ret = get_uint(v, path, BRAID_PORT_MTU_MIN, BRAID_PORT_MTU_MAX, &x,
			       err, errlen);
		p->mtu = (uint16_t)x;
		break;
	case K_DEVARGS:
		ret = get_string(v, path, p->devargs, sizeof(p->devargs), false, err, errlen);
		if (ret == 0) {
			int n = devargs_conversions(p->devargs);

			if (n < 0 || n > 1)
				ret = perr(err, errlen, path,
					   "template may hold one \"%%s\" and \"%%%%\" only");
		}
		break;
	case K_LINK_WAIT_MS:
		ret = get_uint(v, path, 0, BRAID_PORT_LINK_WAIT_MS_MAX, &x, err, errlen);
		p->link_wait_ms = (uint32_t)x;
		break;
	case K_PROMISCUOUS:
		if (!json_is_boolean(v))
			ret = perr(err, errlen, path, "must be true or false");
		else
			p->promiscuous = json_is_true(v);
		break;
	case K_DESCRIPTION:
		ret = get_string(v, path, NULL, 0, false, err, errlen);
		break;
	}
	return ret;
}

int
braid_port_profile_from_json(const struct json_t *obj, struct braid_port_profile *p,
			     char *err, size_t errlen)
{
	unsigned int seen = 0;
	const char *key;
	json_t *val;
	char path[80];
	int k, ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (p == NULL)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (obj == NULL || !json_is_object(obj))
		return perr(err, errlen, "$", "a profile must be a JSON object");
	json_object_foreach((json_t *)(uintptr_t)obj, key, val) {
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(key, keys[k]) == 0)
				break;
		if (k == K_COUNT) {
			ret = perr(err, errlen, "$", "unknown key \"%s\"", key);
			goto fail;
		}
		snprintf(path, sizeof(path), "$.%s", key);
		ret = parse_key(k, val, path, p, err, errlen);
		if (ret != 0)
			goto fail;
		seen |= 1u << k;
	}
	for (k = 0; k < K_COUNT; k++) {
		if ((K_REQUIRED & (1u << k)) && !(seen & (1u << k))) {
			snprintf(path, sizeof(path), "$.%s", keys[k]);
			ret = perr(err, errlen, path, "missing");
			goto fail;
		}
	}
	return 0;
fail:
	memset(p, 0, sizeof(*p));
	return ret;
}

int
braid_port_profile_load(const char *path, struct braid_port_profile *p,
			char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || p == NULL)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (err != NULL && errlen > 0) {
			if (jerr.line > 0)
				snprintf(err, errlen, "line %d column %d: %s",
					 jerr.line, jerr.column, jerr.text);
			else
				snprintf(err, errlen, "%s", jerr.text);
		}
		return -EINVAL;
	}
	ret = braid_port_profile_from_json(root, p, err, errlen);
	json_decref(root);
	return ret;
}
