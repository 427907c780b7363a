/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX stage: one or several (port, queue), one burst from each per
 * poll, packets stamped with arrival time and ingress port in their
 * braid_meta.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "braid_meta.h"
#include "port_priv.h"

struct braid_port_rx {
	uint16_t n_inputs;
	uint16_t next;        /* input served first at the next poll */
	uint16_t burst;
	struct braid_port_rx_input in[BRAID_PORT_RX_MAX_INPUTS];
	struct braid_port_rx_stats cnt __rte_cache_aligned;
};

struct braid_port_rx *
braid_port_rx_create(const struct braid_port_rx_conf *c, int socket)
{
	struct braid_port_rx_input one;
	const struct braid_port_rx_input *in;
	struct braid_port_rx *rx;
	uint16_t n;

	if (c == NULL || c->burst > BRAID_BURST ||
	    c->n_inputs > BRAID_PORT_RX_MAX_INPUTS) {
		rte_errno = EINVAL;
		return NULL;
	}
	one = (struct braid_port_rx_input){ c->port_id, c->queue_id };
	in = c->n_inputs > 0 ? c->inputs : &one;
	n = c->n_inputs > 0 ? c->n_inputs : 1;
	if (braid_meta_offset < 0) {
		PORT_LOG(ERR, "rx stage: braid_meta_register() was not called");
		rte_errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_eth_dev_info di;

		if (!rte_eth_dev_is_valid_port(in[i].port_id) ||
		    rte_eth_dev_info_get(in[i].port_id, &di) != 0 ||
		    in[i].queue_id >= di.nb_rx_queues) {
			PORT_LOG(ERR, "rx stage: port %u has no rx queue %u (set the port up first)",
				 in[i].port_id, in[i].queue_id);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	rx = rte_zmalloc_socket("braid_port_rx", sizeof(*rx), RTE_CACHE_LINE_SIZE,
				socket);
	if (rx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rx->n_inputs = n;
	memcpy(rx->in, in, n * sizeof(*in));
	rx->burst = c->burst != 0 ? c->burst : BRAID_BURST;
	return rx;
}

void
braid_port_rx_free(struct braid_port_rx *rx)
{
	rte_free(rx);
}

void
braid_port_rx_stats(const struct braid_port_rx *rx, struct braid_port_rx_stats *st)
{
	*st = rx->cnt;
}

/* One burst from one input into out; stamps the metadata. */
static uint16_t
rx_one(struct braid_port_rx *rx, const struct braid_port_rx_input *in,
       struct braid_burst *out, uint64_t now_ns, uint64_t *bytes)
{
	uint16_t room = braid_burst_room(out);
	struct rte_mbuf **pkts = &out->pkts[out->n];
	uint16_t n, i;

	if (room == 0)
		return 0; /* the NIC ring keeps them; next stage first */
	n = rte_eth_rx_burst(in->port_id, in->queue_id, pkts,
			     RTE_MIN(room, rx->burst));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct braid_meta *bm = braid_meta(m);

		memset(bm, 0, sizeof(*bm));
		bm->rx_ns = now_ns;
		bm->port_in = in->port_id;
		bm->class_id = BRAID_CLASS_NONE;
		bm->link_id = BRAID_LINK_NONE;
		*bytes += m->pkt_len;
	}
	out->n = (uint16_t)(out->n + n);
	return n;
}

static uint16_t
port_rx_poll(void *ctx, struct braid_burst *out, uint64_t now_ns)
{
	struct braid_port_rx *rx = ctx;
	uint64_t bytes = 0;
	uint16_t total = 0, bursts = 0;

	if (braid_burst_room(out) == 0)
		return 0; /* not an empty poll: the next stage is behind */
	for (uint16_t k = 0; k < rx->n_inputs; k++) {
		uint16_t i = (uint16_t)((rx->next + k) % rx->n_inputs);
		uint16_t n = rx_one(rx, &rx->in[i], out, now_ns, &bytes);

		total = (uint16_t)(total + n);
		bursts += n > 0;
	}
	rx->next = (uint16_t)((rx->next + 1) % rx->n_inputs);
	if (total == 0) {
		rx->cnt.rx_empty_polls++;
		return 0;
	}
	rx->cnt.rx_packets += total;
	rx->cnt.rx_bytes += bytes;
	rx->cnt.rx_bursts += bursts;
	return total;
}

static void
port_rx_report(const void *ctx, braid_stat_fn fn, void *arg)
{
	const struct braid_port_rx *rx = ctx;

	BRAID_COUNTERS_REPORT(BRAID_PORT_RX_COUNTERS, &rx->cnt, fn, arg);
}

const struct braid_stage_ops braid_port_rx_stage_ops = {
	.kind = "port_rx",
	.flags = BRAID_STAGE_F_SOURCE,
	.process = NULL,
	.poll = port_rx_poll,
	.drain = NULL,
	.stats = port_rx_report,
};
