/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_EMU_NAT_H
#define BRAID_EMU_NAT_H

/**
 * @file
 * A NAT on one emulated link, in front of side a (a caller behind carrier
 * NAT): IPv4/UDP frames a sends leave with the source address and port of
 * the mapping in force; frames b sends to that mapping come back to a's own
 * address and port; frames to any other address (a mapping that was
 * replaced) are dropped, as a real NAT drops traffic for a binding it no
 * longer has. The mapping changes at given times: a new port is a
 * rebinding, a new address a modem's reconnect. Like any NAT it rewrites
 * the IPv4 checksum; it zeroes UDP checksums (allowed over IPv4; braid's
 * sealed frames carry none). Other frames (ARP) pass untouched.
 */
#include <stdbool.h>
#include <stdint.h>

#define EMU_NAT_MAX_STEPS 8u

/** One mapping: from at_ns (profile time) on. */
struct emu_nat_map {
	uint64_t at_ns;
	uint32_t addr;                 /**< host order */
	uint16_t port;
};

/** A link's NAT ("nat" in the profile). */
struct emu_nat_conf {
	bool on;
	unsigned int n_maps;           /**< maps[0].at_ns == 0 */
	struct emu_nat_map maps[EMU_NAT_MAX_STEPS + 1];
};

struct emu_nat {
	const struct emu_nat_conf *conf;
	uint64_t start_ns;
	bool have_inner;
	uint32_t inner_addr;           /**< a's own, as last seen (network order) */
	uint16_t inner_port;
	uint64_t translated[2];        /**< [0] a -> b, [1] b -> a */
	uint64_t dropped_stale;        /**< b -> a to a replaced mapping */
};

/** Start @p n at @p start_ns (the profile's time 0). */
void emu_nat_init(struct emu_nat *n, const struct emu_nat_conf *c, uint64_t start_ns);

/**
 * Translate frame @p d (@p len bytes, Ethernet first) going a -> b
 * (@p to_b) or b -> a at @p now_ns.
 * @return false: drop it (b -> a to a replaced mapping).
 */
bool emu_nat_frame(struct emu_nat *n, bool to_b, uint8_t *d, uint32_t len, uint64_t now_ns);

#endif /* BRAID_EMU_NAT_H */
