/* SPDX-License-Identifier: BSD-3-Clause */
/* The emulated NAT of one link (emu_nat.h). */
#include <arpa/inet.h>
#include <string.h>

#include "emu_nat.h"

void
emu_nat_init(struct emu_nat *n, const struct emu_nat_conf *c, uint64_t start_ns)
{
	memset(n, 0, sizeof(*n));
	n->conf = c;
	n->start_ns = start_ns;
}

static const struct emu_nat_map *
map_now(const struct emu_nat *n, uint64_t now_ns)
{
	const struct emu_nat_conf *c = n->conf;
	uint64_t t = now_ns > n->start_ns ? now_ns - n->start_ns : 0;
	unsigned int i = 0;

	while (i + 1 < c->n_maps && t >= c->maps[i + 1].at_ns)
		i++;
	return &c->maps[i];
}

static uint16_t
ip_cksum(const uint8_t *h, unsigned int len)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i + 1 < len; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

bool
emu_nat_frame(struct emu_nat *n, bool to_b, uint8_t *d, uint32_t len, uint64_t now_ns)
{
	const struct emu_nat_map *m;
	unsigned int hl;
	uint8_t *ip, *udp;
	uint32_t a;
	uint16_t p, ck;

	if (n->conf == NULL || !n->conf->on || len < 14 + 20 + 8 || d[12] != 0x08 || d[13] != 0x00)
		return true;
	ip = d + 14;
	hl = (unsigned int)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || hl < 20 || ip[9] != 17 || len < 14 + hl + 8 ||
	    (ip[6] & 0x1f) != 0 || ip[7] != 0)        /* fragments: not ours */
		return true;
	udp = ip + hl;
	m = map_now(n, now_ns);
	if (to_b) {
		memcpy(&n->inner_addr, ip + 12, 4);
		memcpy(&n->inner_port, udp, 2);
		n->have_inner = true;
		a = htonl(m->addr);
		p = htons(m->port);
		memcpy(ip + 12, &a, 4);
		memcpy(udp, &p, 2);
	} else {
		a = htonl(m->addr);
		p = htons(m->port);
		if (memcmp(ip + 16, &a, 4) != 0 || memcmp(udp + 2, &p, 2) != 0) {
			/* Only what is addressed to a mapping: b's other
			 * frames (none in the testbed) pass. */
			for (unsigned int i = 0; i < n->conf->n_maps; i++) {
				uint32_t oa = htonl(n->conf->maps[i].addr);
				uint16_t op = htons(n->conf->maps[i].port);

				if (memcmp(ip + 16, &oa, 4) == 0 && memcmp(udp + 2, &op, 2) == 0) {
					n->dropped_stale++;
					return false;
				}
			}
			return true;
		}
		if (!n->have_inner) {
			n->dropped_stale++;
			return false;
		}
		memcpy(ip + 16, &n->inner_addr, 4);
		memcpy(udp + 2, &n->inner_port, 2);
	}
	udp[6] = udp[7] = 0;
	ip[10] = ip[11] = 0;
	ck = ip_cksum(ip, hl);
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	n->translated[to_b ? 0 : 1]++;
	return true;
}
