/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_DHCP_H
#define BRAID_TEST_DHCP_H

/**
 * @file
 * A DHCP server's reply as dnsmasq lays it out, for lib/dhcp's unit test
 * and fuzzer (host byte order; a 0 leaves its option out).
 */
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "braid_dhcp.h"

struct braid_test_dhcp_reply {
	uint8_t type;                   /**< enum braid_dhcp_type */
	uint32_t xid;
	uint32_t yiaddr;
	uint32_t server_id;             /**< option 54 */
	uint32_t mask;                  /**< option 1 */
	uint32_t router;                /**< option 3 */
	uint32_t lease_s, t1_s, t2_s;   /**< options 51, 58, 59 */
	struct rte_ether_addr chaddr;
};

static inline void
braid_test_dhcp_opt32(uint8_t *b, size_t *i, uint8_t code, uint32_t v)
{
	if (v == 0)
		return;
	b[(*i)++] = code;
	b[(*i)++] = 4;
	v = rte_cpu_to_be_32(v);
	memcpy(b + *i, &v, 4);
	*i += 4;
}

/** Write @p r into @p b (BRAID_DHCP_MSG_MAX bytes). @return its length. */
static inline size_t
braid_test_dhcp_write(const struct braid_test_dhcp_reply *r, uint8_t *b)
{
	size_t i = BRAID_DHCP_HDR_LEN;
	uint32_t v;

	memset(b, 0, BRAID_DHCP_MSG_MAX);
	b[0] = 2;     /* BOOTREPLY, Ethernet, 6-byte addresses */
	b[1] = 1;
	b[2] = 6;
	v = rte_cpu_to_be_32(r->xid);
	memcpy(b + 4, &v, 4);
	v = rte_cpu_to_be_32(r->yiaddr);
	memcpy(b + 16, &v, 4);
	memcpy(b + 28, &r->chaddr, 6);
	b[236] = 99, b[237] = 130, b[238] = 83, b[239] = 99;
	b[i++] = 53;
	b[i++] = 1;
	b[i++] = r->type;
	braid_test_dhcp_opt32(b, &i, 54, r->server_id);
	braid_test_dhcp_opt32(b, &i, 51, r->lease_s);
	braid_test_dhcp_opt32(b, &i, 58, r->t1_s);
	braid_test_dhcp_opt32(b, &i, 59, r->t2_s);
	braid_test_dhcp_opt32(b, &i, 1, r->mask);
	braid_test_dhcp_opt32(b, &i, 3, r->router);
	b[i++] = 255;
	return i;
}

#endif /* BRAID_TEST_DHCP_H */
