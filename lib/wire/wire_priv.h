/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_WIRE_PRIV_H
#define BRAID_WIRE_PRIV_H

/* Internals of lib/wire shared by its .c files; not for other libs. */
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "braid_encap.h"
#include "braid_log.h"

extern int braid_wire_logtype;
#define WIRE_LOG(level, ...) BRAID_LOG(level, braid_wire_logtype, __VA_ARGS__)

/* The one header layout the rest of the code relies on. */
_Static_assert(sizeof(struct braid_hdr) == 40, "braid header is 40 bytes");
_Static_assert(offsetof(struct braid_hdr, session_id) == 12, "layout");
_Static_assert(offsetof(struct braid_hdr, tx_us) == 24, "layout");
_Static_assert(offsetof(struct braid_hdr, block_idx) == 32, "layout");
_Static_assert(offsetof(struct braid_hdr, fec_len) == 38, "layout");
_Static_assert(sizeof(struct braid_nack_wire) == 8, "nack header");
_Static_assert(sizeof(struct braid_nack_range_wire) == 8, "nack range");
_Static_assert(sizeof(struct braid_probe_wire) == 16, "probe");
_Static_assert(sizeof(struct braid_probe_reply_wire) == 56, "probe reply");
_Static_assert(BRAID_WIRE_OVERHEAD == 82, "overhead");

/* Link validation shared by encap and decap. @p for_encap also demands
 * a peer port, a unicast source MAC, a unicast or zero next hop, an MTU
 * in range and consistent offload bits. Logs the reason. */
bool wire_link_valid(const struct braid_wire_link *l, unsigned int idx,
		     bool for_encap);

struct rte_mbuf;
struct rte_ipv4_hdr;

/*
 * One's complement sum (folded, not complemented) of the UDP pseudo
 * header of @p ip plus @p l4_len bytes of @p m from @p l4_off, across
 * segments. DPDK 22.11's rte_raw_cksum_mbuf() truncates the partial sum
 * of a segment that starts at an odd offset before swapping it (carries
 * lost), so this walks the chain itself. Caller checks the bounds.
 */
uint16_t wire_udp_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		      uint32_t l4_off, uint32_t l4_len);

#endif /* BRAID_WIRE_PRIV_H */
