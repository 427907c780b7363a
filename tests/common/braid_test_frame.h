/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_FRAME_H
#define BRAID_TEST_FRAME_H

/**
 * @file
 * A tunnel frame as encap writes it (Ethernet, IPv4 10.9.1.1 -> 10.9.1.2
 * with its checksum, UDP 7000 -> 7000, braid header of @p type on link
 * @p link of session @p sid), for the crypto stages' tests, fuzzer and
 * benchmark: only the payload is left to the caller.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "braid_meta.h"
#include "braid_wire.h"

/** Bytes before the payload. */
#define BRAID_TEST_FRAME_HDRS 82u

/** Append the frame's headers and @p plen payload bytes (not written) to
 * the empty mbuf @p m, meta zeroed but link_id. @return the payload. */
static inline uint8_t *
braid_test_frame(struct rte_mbuf *m, uint8_t type, uint16_t link, uint32_t sid,
		 uint16_t plen)
{
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(BRAID_TEST_FRAME_HDRS + plen));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct braid_hdr *bh = (struct braid_hdr *)(udp + 1);

	if (f == NULL)
		return NULL;
	memset(f, 0, BRAID_TEST_FRAME_HDRS);
	((struct rte_ether_hdr *)f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(BRAID_TEST_FRAME_HDRS -
						       RTE_ETHER_HDR_LEN + plen));
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = RTE_BE32(0x0a090101);
	ip->dst_addr = RTE_BE32(0x0a090102);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = RTE_BE16(7000);
	udp->dst_port = RTE_BE16(7000);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + sizeof(*bh) + plen));
	bh->magic = RTE_BE16(BRAID_WIRE_MAGIC);
	bh->version = BRAID_WIRE_VERSION;
	bh->type = type;
	bh->link_id = rte_cpu_to_be_16(link);
	bh->inner_len = rte_cpu_to_be_16(plen);
	bh->session_id = rte_cpu_to_be_32(sid);
	memset(braid_meta(m), 0, sizeof(struct braid_meta));
	braid_meta(m)->link_id = link;
	return f + BRAID_TEST_FRAME_HDRS;
}

#endif /* BRAID_TEST_FRAME_H */
