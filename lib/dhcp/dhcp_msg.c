/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DHCP messages (RFC 2131 section 2, options of RFC 2132): the client's
 * DISCOVER/REQUEST/RELEASE built, a server's reply parsed and checked.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "braid_dhcp.h"

/* BOOTP fixed part (RFC 2131 figure 1). */
#define OFF_OP       0
#define OFF_HTYPE    1
#define OFF_HLEN     2
#define OFF_XID      4
#define OFF_SECS     8
#define OFF_CIADDR   12
#define OFF_YIADDR   16
#define OFF_CHADDR   28
#define OFF_COOKIE   236
#define HTYPE_ETHER  1
#define BOOTP_MIN_LEN 300

/* Options (RFC 2132). */
#define OPT_PAD        0
#define OPT_MASK       1
#define OPT_ROUTER     3
#define OPT_HOSTNAME   12
#define OPT_MTU        26
#define OPT_REQ_IP     50
#define OPT_LEASE      51
#define OPT_TYPE       53
#define OPT_SERVER_ID  54
#define OPT_PARAMS     55
#define OPT_MAX_SIZE   57
#define OPT_T1         58
#define OPT_T2         59
#define OPT_CLIENT_ID  61
#define OPT_END        255
#define HOSTNAME_MAX   63

static const uint8_t magic_cookie[4] = { 99, 130, 83, 99 };

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, sizeof(v));
}

/* A netmask as a prefix length; -1 if not contiguous. */
static int
mask_prefix(uint32_t mask)
{
	int n = __builtin_popcount(mask);

	if (mask != 0 && mask != (UINT32_MAX << (32 - n)))
		return -1;
	return n;
}

/* One option of the reply: @return 0 or -EINVAL (a length the option
 * cannot have). Unknown options are skipped. */
static int
take_option(struct braid_dhcp_msg *m, uint8_t code, const uint8_t *v, uint8_t len)
{
	int prefix;

	switch (code) {
	case OPT_TYPE:
		if (len != 1)
			return -EINVAL;
		m->type = v[0];
		return 0;
	case OPT_MASK:
		if (len != 4 || (prefix = mask_prefix(get32(v))) <= 0)
			return -EINVAL;
		m->prefix = (uint8_t)prefix;
		return 0;
	case OPT_ROUTER:
		if (len < 4 || len % 4 != 0)
			return -EINVAL;
		m->router = get32(v);
		return 0;
	case OPT_MTU:
		if (len != 2)
			return -EINVAL;
		m->mtu = (uint16_t)(v[0] << 8 | v[1]);
		return m->mtu >= 68 ? 0 : -EINVAL;
	case OPT_REQ_IP:
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2:
	case OPT_SERVER_ID:
		if (len != 4)
			return -EINVAL;
		if (code == OPT_LEASE)
			m->lease_s = get32(v);
		else if (code == OPT_T1)
			m->t1_s = get32(v);
		else if (code == OPT_T2)
			m->t2_s = get32(v);
		else if (code == OPT_REQ_IP)
			m->requested = get32(v);
		else
			m->server_id = get32(v);
		return 0;
	default:
		return 0;
	}
}

int
braid_dhcp_parse(const uint8_t *p, size_t len, struct braid_dhcp_msg *m)
{
	size_t i = BRAID_DHCP_HDR_LEN;

	memset(m, 0, sizeof(*m));
	if (p == NULL || len < BRAID_DHCP_HDR_LEN || p[OFF_HTYPE] != HTYPE_ETHER ||
	    p[OFF_HLEN] != RTE_ETHER_ADDR_LEN ||
	    memcmp(p + OFF_COOKIE, magic_cookie, sizeof(magic_cookie)) != 0)
		return -EINVAL;
	m->op = p[OFF_OP];
	m->xid = get32(p + OFF_XID);
	m->ciaddr = get32(p + OFF_CIADDR);
	m->yiaddr = get32(p + OFF_YIADDR);
	memcpy(&m->chaddr, p + OFF_CHADDR, RTE_ETHER_ADDR_LEN);
	while (i < len && p[i] != OPT_END) {
		uint8_t code = p[i], olen;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return -EINVAL;
		olen = p[i + 1];
		if (take_option(m, code, p + i + 2, olen) != 0)
			return -EINVAL;
		i += 2 + (size_t)olen;
	}
	if (i >= len || m->type < BRAID_DHCP_DISCOVER || m->type > BRAID_DHCP_INFORM)
		return -EINVAL;   /* no end option, or no known message type */
	return 0;
}

size_t
braid_dhcp_build(const struct braid_dhcp_build *b, uint8_t *buf)
{
	static const uint8_t params[] = { OPT_MASK, OPT_ROUTER, OPT_MTU, OPT_LEASE,
					  OPT_SERVER_ID, OPT_T1, OPT_T2 };
	size_t i = BRAID_DHCP_HDR_LEN, hl;

	memset(buf, 0, BRAID_DHCP_MSG_MAX);
	buf[OFF_OP] = 1;   /* BOOTREQUEST */
	buf[OFF_HTYPE] = HTYPE_ETHER;
	buf[OFF_HLEN] = RTE_ETHER_ADDR_LEN;
	put32(buf + OFF_XID, b->xid);
	buf[OFF_SECS] = (uint8_t)(b->secs >> 8);
	buf[OFF_SECS + 1] = (uint8_t)b->secs;
	put32(buf + OFF_CIADDR, b->ciaddr);
	memcpy(buf + OFF_CHADDR, &b->mac, RTE_ETHER_ADDR_LEN);
	memcpy(buf + OFF_COOKIE, magic_cookie, sizeof(magic_cookie));

	buf[i++] = OPT_TYPE;
	buf[i++] = 1;
	buf[i++] = b->type;
	buf[i++] = OPT_CLIENT_ID;
	buf[i++] = 1 + RTE_ETHER_ADDR_LEN;
	buf[i++] = HTYPE_ETHER;
	memcpy(buf + i, &b->mac, RTE_ETHER_ADDR_LEN);
	i += RTE_ETHER_ADDR_LEN;
	if (b->requested != 0) {
		buf[i++] = OPT_REQ_IP;
		buf[i++] = 4;
		put32(buf + i, b->requested);
		i += 4;
	}
	if (b->server_id != 0) {
		buf[i++] = OPT_SERVER_ID;
		buf[i++] = 4;
		put32(buf + i, b->server_id);
		i += 4;
	}
	if (b->type != BRAID_DHCP_RELEASE) {
		buf[i++] = OPT_MAX_SIZE;
		buf[i++] = 2;
		buf[i++] = (uint8_t)((BRAID_DHCP_MSG_MAX + 28) >> 8);
		buf[i++] = (uint8_t)(BRAID_DHCP_MSG_MAX + 28);
		buf[i++] = OPT_PARAMS;
		buf[i++] = sizeof(params);
		memcpy(buf + i, params, sizeof(params));
		i += sizeof(params);
	}
	hl = b->hostname != NULL ? strnlen(b->hostname, HOSTNAME_MAX) : 0;
	if (hl > 0) {
		buf[i++] = OPT_HOSTNAME;
		buf[i++] = (uint8_t)hl;
		memcpy(buf + i, b->hostname, hl);
		i += hl;
	}
	buf[i++] = OPT_END;
	return i < BOOTP_MIN_LEN ? BOOTP_MIN_LEN : i;
}
