/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receiver half of ARQ, run on the reorder stage's lcore. The policy
 * is lib/arq's (braid_arq_rx: allowance before the first NACK, repeats
 * every RTO, no NACK a retransmission could not answer before the gap is
 * skipped, a bounded number of tries, a NACK byte budget, oldest gaps
 * first); the gateway gives it what only the gateway knows:
 *
 *  - the RTT of the best link (link health's smoothed RTT);
 *  - the delay spread: how late the peer's packets come on the links
 *    that carry them without being lost — the spread of the links'
 *    one-way delays (link health's owd_offset) plus twice their jitter
 *    and their queueing delay, and 1 ms; 50 ms for any link not measured
 *    yet (its first frames may still be on the way: the slowest link's
 *    come last). No more margin than that: a NACK for a packet that was
 *    only late costs one retransmission the receiver drops as a
 *    duplicate, a NACK sent late holds every packet behind the gap
 *    (with a quarter of the spread and 2 ms more, the e2e profiles'
 *    p99 was 3-5 ms higher);
 *
 * and builds each NACK frame for encap (ctrl_tx ring), on the two links
 * with the smallest RTT.
 */
#include <string.h>

#include "braid_wire.h"
#include "gw_priv.h"

#define ARQ_DEFAULT_RTT_NS 50000000ULL
#define ARQ_MIN_SPARE_NS   1000000ULL

int
gw_arq_rx_create(struct braid_gateway *gw)
{
	struct braid_arq_rx_class_conf cc[BRAID_CONFIG_MAX_CLASSES];
	struct braid_arq_rx_conf c = { 0 };
	char name[32];
	uint32_t track = rte_align32pow2(RTE_MAX(gw->cfg.reorder.max_packets, 64u));

	/* Every class is tracked, so that management can turn ARQ on live;
	 * classes without it are switched off once created. */
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		cc[k].track_seqs = RTE_MIN(RTE_MAX(track, BRAID_ARQ_MIN_TRACK),
					   BRAID_ARQ_MAX_TRACK);
	gw_objname(gw, "arqrx", name, sizeof(name));
	c.name = name;
	c.reorder = gw->reorder;
	c.n_classes = gw->cfg.n_classes;
	c.classes = cc;
	/* The deadline stops the repeats long before this does. */
	c.max_tries = 10;
	c.init_srtt_ns = ARQ_DEFAULT_RTT_NS;
	gw->arq.rx = braid_arq_rx_create(&c, SOCKET_ID_ANY);
	if (gw->arq.rx == NULL)
		return -rte_errno;
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		if (!gw->cfg.classes[k].arq_enabled)
			braid_arq_rx_class_enable(gw->arq.rx, k, false);
	return 0;
}

void
gw_arq_rx_free(struct braid_gateway *gw)
{
	braid_arq_rx_free(gw->arq.rx);
	gw->arq.rx = NULL;
}

void
gw_arq_rx_reset(struct braid_gateway *gw)
{
	for (uint16_t k = 0; k < gw->cfg.n_classes; k++)
		braid_arq_rx_reset(gw->arq.rx, k);
}

/* The two best links for NACKs, the best one's RTT, and the delay spread
 * (see top). */
static void
measure(struct braid_gateway *gw, uint16_t best[2], uint64_t *srtt,
	uint64_t *rttvar, uint64_t *spread)
{
	uint64_t best_rtt = UINT64_MAX, second_rtt = UINT64_MAX;

	best[0] = best[1] = 0;

	*srtt = 0;
	*rttvar = 0;
	*spread = 0;
	for (uint16_t l = 0; l < gw->cfg.n_links; l++) {
		struct braid_link_info li;
		uint64_t late;

		if (braid_link_info_get(gw->link, l, &li) != 0 ||
		    li.state == BRAID_LINK_ADMIN_DOWN)
			continue;
		if (li.rx_packets < 64) {
			*spread = RTE_MAX(*spread, ARQ_DEFAULT_RTT_NS);
		} else {
			late = (uint64_t)RTE_MAX(li.owd_offset_us, 0) * 1000 +
			       2ULL * li.jitter_us * 1000 + (uint64_t)li.owd_var_us * 1000;
			*spread = RTE_MAX(*spread, late);
		}
		if (!braid_link_info_usable(&li) || li.srtt_us == 0)
			continue;
		if ((uint64_t)li.srtt_us * 1000 < best_rtt) {
			second_rtt = best_rtt;
			best[1] = best[0];
			best_rtt = (uint64_t)li.srtt_us * 1000;
			best[0] = l;
			*srtt = best_rtt;
			*rttvar = (uint64_t)li.rttvar_us * 1000;
		} else if ((uint64_t)li.srtt_us * 1000 < second_rtt) {
			second_rtt = (uint64_t)li.srtt_us * 1000;
			best[1] = l;
		}
	}
	if (second_rtt == UINT64_MAX)
		best[1] = best[0];
	*spread += ARQ_MIN_SPARE_NS;
}

uint16_t
gw_arq_rx_poll(struct braid_gateway *gw, uint64_t now_ns)
{
	struct gw_arq *a = &gw->arq;
	struct braid_nack nacks[16];
	uint64_t srtt, rttvar, spread;
	uint16_t link[2], n;

	measure(gw, link, &srtt, &rttvar, &spread);
	if (srtt != 0)
		braid_arq_rx_set_rtt(a->rx, srtt, rttvar);
	braid_arq_rx_set_delay_spread(a->rx, spread);
	n = braid_arq_rx_poll(a->rx, now_ns, nacks, RTE_DIM(nacks));
	/* Each NACK on the two best links: it is small, and the best one
	 * may be the link that just died (its loss is what we repair). The
	 * sender's suppression window drops the second request. */
	for (uint16_t i = 0; i < n; i++)
		for (int k = 0; k < (link[1] != link[0] ? 2 : 1); k++) {
			struct rte_mbuf *m = braid_wire_nack_build(gw->hdr_pool, link[k],
								   &nacks[i]);

			if (m == NULL) {
				a->cnt.drop_no_mbuf++;
				continue;
			}
			if (rte_ring_mp_enqueue(gw->ctrl_tx, m) != 0) {
				rte_pktmbuf_free(m);
				a->cnt.drop_ctrl_full++;
				continue;
			}
			a->cnt.nack_frames++;
		}
	return n;
}

void
gw_arq_rx_stats(const struct braid_gateway *gw, braid_stat_fn fn, void *arg)
{
	BRAID_COUNTERS_REPORT(GW_ARQ_COUNTERS, &gw->arq.cnt, fn, arg);
	braid_arq_rx_stats(gw->arq.rx, fn, arg);
}
