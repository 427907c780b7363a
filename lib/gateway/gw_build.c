/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building a gateway from its configuration: pools, ports, then every
 * stage in pipeline order, then the runner that places them on lcores.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_string_fns.h>

#include "braid_engine.h"
#include "braid_meta.h"
#include "braid_wire.h"
#include "gw_priv.h"

RTE_LOG_REGISTER(braid_gateway_logtype, braid.gateway, INFO);

/* Small fixed pools next to the packet pool: header mbufs for chained
 * frames and control packets, and indirect mbufs for clones. */
#define GW_HDR_ROOM (RTE_PKTMBUF_HEADROOM + 256)

/* Policy the configuration does not expose, with why. */
/* IPv4's minimum: a link port reporting less is taken as this. */
#define GW_LINK_MTU_MIN 576
/* A lost tail is only noticed when something follows it: the cache
 * probes a class's last packet after this long without a successor. */
#define GW_TAIL_PROBE_NS 30000000ULL
/* Retransmissions may take half of the usable capacity, with a burst of
 * 100 ms of it (at least 64 KiB): enough to repair what a link lost
 * before it was found dead (a third of the traffic for a few probe
 * intervals), bounded so that a storm of NACKs cannot crowd out new
 * data. */
#define GW_RETX_SHARE_PPM 500000
#define GW_RETX_BURST_MS 100
#define GW_RETX_BURST_MIN 65536ULL
/* Reorder window of a class without ARQ when reorder.window_ms is 0. */
#define GW_REORDER_WINDOW_MS 100
/* Random loss is what FEC and ARQ are for (the scheduler charges their
 * bytes to the links), so "degraded" (loss above 10 %, back below 5 %)
 * is a state to show and to prefer other links by, not a cut of the
 * link's capacity. */
#define GW_DEGRADED_PERMILLE 1000
#define GW_DEGRADED_ENTER_PPM 100000
#define GW_DEGRADED_LEAVE_PPM 50000
/* NACKs per missing seq: the class deadline stops the repeats long
 * before this does. */
#define GW_NACK_MAX_TRIES 10
/* RTT assumed by the ARQ receiver until link health has measured one. */
#define GW_INIT_SRTT_NS 50000000ULL
/* LAN hosts waiting for ARP at once, and frames held per host. */
#define GW_ARP_PENDING_HOSTS 256
#define GW_ARP_PENDING_PACKETS 256
/* Reorder: duplicates are recognised this many seqs back at least; the
 * first packet of a stream may have overtaken at most this many. */
#define GW_DEDUP_WINDOW_MIN 65536u
#define GW_START_WINDOW_MAX 256u
/* FEC blocks the decoder tracks per class. */
#define GW_FEC_DEC_BLOCKS 256
/* Control rings: NACKs and punted ARP/ICMP in, frames for the LAN from
 * the control path; frames to the peer (probes, replies, NACKs,
 * retransmissions) take bursts of repairs. */
#define GW_CTRL_RING_SIZE 1024
#define GW_TO_PEER_RING_SIZE 4096
/* The main lcore's --duration and automatic FEC tick. */
#define GW_HOOK_PERIOD_US 1000

struct build_err {
	char *buf;
	size_t len;
};

static int
fail(struct build_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e->buf != NULL && e->len > 0) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -err;
}

void
gw_objname(const struct braid_gateway *gw, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "%s_%s", gw->name, what);
}

static unsigned int
next_pow2(unsigned int v)
{
	return rte_align32pow2(v < 2 ? 2 : v);
}

static int
build_pools(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config_mempool *mc = &gw->cfg.mempool;
	char name[RTE_MEMPOOL_NAMESIZE];

	gw_objname(gw, "pkt", name, sizeof(name));
	gw->pkt_pool = braid_pktmbuf_pool_create(name, mc->mbufs, mc->cache,
						 (uint16_t)mc->data_room, SOCKET_ID_ANY);
	gw_objname(gw, "hdr", name, sizeof(name));
	gw->hdr_pool = braid_pktmbuf_pool_create(name, mc->mbufs, mc->cache,
						 GW_HDR_ROOM, SOCKET_ID_ANY);
	gw_objname(gw, "clone", name, sizeof(name));
	gw->clone_pool = braid_pktmbuf_pool_create(name, mc->mbufs * 2 + 1,
						   mc->cache, 0, SOCKET_ID_ANY);
	if (gw->pkt_pool == NULL || gw->hdr_pool == NULL || gw->clone_pool == NULL)
		return fail(e, rte_errno, "mempools (%u mbufs of %u bytes): %s",
			    mc->mbufs, mc->data_room, rte_strerror(rte_errno));
	return 0;
}

/*
 * Device string for a port: the config's device ("net_af_packet0,iface=eth1"
 * or a PCI address) merged with the profile's devargs template: template
 * keys first, a "%s" value taken from the same key in the config, then the
 * config's other keys; a key given in both takes the config's value.
 */
static int
device_string(const struct braid_port_profile *prof, const char *device,
	      char *buf, size_t len)
{
	char name[BRAID_CONFIG_DEVICE_LEN], own[BRAID_CONFIG_DEVICE_LEN];
	char tmpl[sizeof(prof->devargs)];
	char *kv, *save = NULL;
	const char *comma = strchr(device, ',');
	size_t used;

	snprintf(name, sizeof(name), "%.*s", (int)(comma ? comma - device : (long)strlen(device)), device);
	snprintf(own, sizeof(own), "%s", comma ? comma + 1 : "");
	snprintf(tmpl, sizeof(tmpl), "%s", prof->devargs);
	used = (size_t)snprintf(buf, len, "%s", name);
	for (kv = strtok_r(tmpl, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char key[64], *eq = strchr(kv, '=');
		const char *val = eq ? eq + 1 : "";
		const char *o;

		snprintf(key, sizeof(key), "%.*s", (int)(eq ? eq - kv : (long)strlen(kv)), kv);
		/* The config's value for this key, if any. */
		o = NULL;
		for (const char *p = own; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
			size_t kl = strlen(key);

			if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
				o = p + kl + 1;
				break;
			}
		}
		if (o != NULL) {
			size_t vl = strcspn(o, ",");

			used += (size_t)snprintf(buf + RTE_MIN(used, len), len - RTE_MIN(used, len),
						 ",%s=%.*s", key, (int)vl, o);
		} else if (strcmp(val, "%s") == 0) {
			return -EINVAL;   /* the profile needs this key from the config */
		} else {
			used += (size_t)snprintf(buf + RTE_MIN(used, len), len - RTE_MIN(used, len),
						 ",%s", kv);
		}
	}
	/* The config's keys the template does not have. */
	for (const char *p = own; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t kl = strcspn(p, "=,");
		char key[64];

		snprintf(key, sizeof(key), ",%.*s=", (int)kl, p);
		if (strstr(prof->devargs, key + 1) == prof->devargs ||
		    strstr(prof->devargs, key) != NULL)
			continue;
		used += (size_t)snprintf(buf + RTE_MIN(used, len), len - RTE_MIN(used, len),
					 ",%.*s", (int)strcspn(p, ","), p);
	}
	return used < len ? 0 : -ENOSPC;
}

static int
build_port(struct braid_gateway *gw, unsigned int i, struct build_err *e)
{
	const struct braid_config_port *pc = &gw->cfg.ports[i];
	struct braid_port_profile prof;
	struct braid_port_setup_conf sc = { 0 };
	struct braid_port_report rep;
	char path[512], msg[256], dev[BRAID_CONFIG_DEVICE_LEN + 64];
	uint16_t pid;
	int ret;

	snprintf(path, sizeof(path), "%s/%s.json", gw->profile_dir, pc->profile);
	ret = braid_port_profile_load(path, &prof, msg, sizeof(msg));
	if (ret < 0)
		return fail(e, ret, "ports[%u] (%s): profile %s: %s", i, pc->name,
			    path, msg);
	ret = device_string(&prof, pc->device, dev, sizeof(dev));
	if (ret < 0)
		return fail(e, ret, "ports[%u] (%s): device \"%s\": %s", i,
			    pc->name, pc->device, ret == -EINVAL ?
			    "the profile's devargs need a value from the device string "
			    "(e.g. \"net_af_packet0,iface=eth1\")" : strerror(-ret));
	ret = braid_port_resolve(dev, &pid);
	if (ret < 0)
		return fail(e, ret, "ports[%u] (%s): no such device \"%s\": %s", i,
			    pc->name, dev, strerror(-ret));
	sc.mp = gw->pkt_pool;
	sc.socket = SOCKET_ID_ANY;
	sc.mtu = pc->mtu;
	sc.rx_queues = 1;
	sc.tx_queues = 1;
	sc.mac = pc->has_mac ? &pc->mac : NULL;
	/* The same values (enum rte_power_pmd_mgmt_type); the RX stage of a
	 * LAN port is lan_rx, of a link port link_rx. */
	sc.pm = (enum braid_port_pm)gw->cfg.lcores.power_mgmt;
	sc.rx_lcore = gw->cfg.lcores.stage_lcore[pc->role == BRAID_PORT_ROLE_LAN ?
						BRAID_STAGE_LAN_RX : BRAID_STAGE_LINK_RX];
	ret = braid_port_setup(pid, &prof, &sc, &rep);
	if (ret < 0)
		return fail(e, ret, "ports[%u] (%s): setup of %s failed: %s", i,
			    pc->name, dev, strerror(-ret));
	gw->port_id[i] = pid;
	gw->port_up[i] = true;
	/* A device that cannot take the configured MAC (net_ring, some VFs)
	 * still receives it in promiscuous mode: frames carry the configured
	 * one. */
	gw->port_mac[i] = pc->has_mac ? pc->mac : rep.mac;
	if (rte_is_zero_ether_addr(&gw->port_mac[i]))
		return fail(e, EINVAL, "ports[%u] (%s): device %s has no MAC address; "
			    "set \"mac\" in the port's configuration", i, pc->name, dev);
	gw->port_mtu[i] = rep.mtu;
	gw->port_txo[i] = rep.tx_offloads;
	rte_strscpy(gw->stats_ports[i].name, pc->name, sizeof(gw->stats_ports[i].name));
	gw->stats_ports[i].port_id = pid;
	gw->n_ports = (uint16_t)(i + 1);
	return 0;
}

static void
wire_link(const struct braid_gateway *gw, unsigned int l, struct braid_wire_link *w)
{
	const struct braid_config_link *lc = &gw->cfg.links[l];

	memset(w, 0, sizeof(*w));
	w->src_mac = gw->port_mac[lc->port];
	if (lc->has_next_hop_mac)
		w->dst_mac = lc->next_hop_mac;
	w->local_ip = lc->local_ip;
	w->peer_ip = lc->peer_ip;
	w->local_port = lc->local_port;
	w->peer_port = lc->peer_port;
	w->mtu = RTE_MAX(gw->port_mtu[lc->port], (uint16_t)GW_LINK_MTU_MIN);
	if (gw->crypto_on) {
		/* The seal stage adds its counter and tag, writes the IPv4
		 * checksum and a zero UDP checksum (the tag covers more). */
		w->mtu = (uint16_t)(w->mtu - BRAID_CRYPTO_OVERHEAD);
		return;
	}
	/* Every tunnel frame carries a UDP checksum: the IPv4 checksum covers
	 * only the outer IP header, and a damaged braid header (sequence,
	 * FEC block) must be a counted drop, not a wrong packet. The NIC
	 * computes it when the port has the offload, else software does. */
	if (gw->port_txo[lc->port] & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
		w->tx_offloads = BRAID_WIRE_TXO_UDP_CKSUM |
			(gw->port_txo[lc->port] & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM ?
			 BRAID_WIRE_TXO_IPV4_CKSUM : 0);
	else
		w->tx_offloads = BRAID_WIRE_TXO_UDP_SW;
}

static int
build_send_chain(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_port_rx_conf rxc = { 0 };
	struct braid_classify_rule *rules;
	struct braid_classify_conf clc = { 0 };
	struct braid_sched_conf *sc;
	struct braid_fec_enc_conf fc = { 0 };
	struct braid_rtx_class_conf rcc[BRAID_CONFIG_MAX_CLASSES];
	struct braid_rtx_conf rc = { 0 };
	struct braid_encap_conf ec = { 0 };
	struct braid_tx_conf tc = { 0 };
	char name[64];
	uint32_t max_inner = 0;
	uint64_t usable = 0;

	/* LAN RX: every LAN port. */
	for (unsigned int i = 0; i < c->n_ports; i++) {
		if (c->ports[i].role != BRAID_PORT_ROLE_LAN)
			continue;
		rxc.inputs[rxc.n_inputs++] = (struct braid_port_rx_input){ gw->port_id[i], 0 };
		if (gw->lan_port < 0)
			gw->lan_port = (int)i;
	}
	gw->lan_rx = braid_port_rx_create(&rxc, SOCKET_ID_ANY);
	if (gw->lan_rx == NULL)
		return fail(e, rte_errno, "lan_rx: %s", rte_strerror(rte_errno));

	/* Classify: the config's rules, plus ICMP to our LAN addresses
	 * punted to the control path. */
	rules = rte_calloc("gw_rules", c->n_rules + c->n_ports, sizeof(*rules), 0);
	if (rules == NULL)
		return fail(e, ENOMEM, "classify: no memory for rules");
	for (uint32_t i = 0; i < c->n_rules; i++) {
		const struct braid_config_rule *r = &c->rules[i];
		struct braid_classify_rule *o = &rules[clc.n_rules++];

		o->src_ip = r->src_ip;
		o->src_mask_len = r->src_prefix;
		o->dst_ip = r->dst_ip;
		o->dst_mask_len = r->dst_prefix;
		o->proto = r->has_proto ? r->proto : 0;
		o->sport_lo = r->src_port_lo;
		o->sport_hi = r->src_port_hi;
		o->dport_lo = r->dst_port_lo;
		o->dport_hi = r->dst_port_hi;
		o->dscp = r->has_dscp ? (int16_t)r->dscp : -1;
		o->in_port = r->has_in_port ? (int32_t)gw->port_id[r->in_port] : -1;
		o->priority = r->priority;
		o->class_id = r->class_idx;
	}
	for (unsigned int i = 0; i < c->n_ports; i++) {
		struct braid_classify_rule *o;

		if (c->ports[i].role != BRAID_PORT_ROLE_LAN || !c->ports[i].has_ipv4)
			continue;
		o = &rules[clc.n_rules++];
		memset(o, 0, sizeof(*o));
		o->dst_ip = c->ports[i].ipv4;
		o->dst_mask_len = 32;
		o->sport_hi = o->dport_hi = UINT16_MAX;
		o->dscp = -1;
		o->in_port = gw->port_id[i];
		o->priority = UINT32_MAX;
		o->class_id = BRAID_CLASSIFY_PUNT;
	}
	gw_objname(gw, "acl", name, sizeof(name));
	clc.name = name;
	clc.rules = rules;
	clc.n_classes = c->n_classes;
	clc.default_class = c->default_class;
	clc.punt_ring = gw->punt_ring;
	clc.acl_alg = RTE_ACL_CLASSIFY_DEFAULT;
	clc.sw_ip_cksum = true;
	gw->classify = braid_classify_create(&clc, SOCKET_ID_ANY);
	rte_free(rules);
	if (gw->classify == NULL)
		return fail(e, rte_errno, "classify: %s", rte_strerror(rte_errno));

	/* Largest inner packet any link carries. */
	for (unsigned int l = 0; l < c->n_links; l++) {
		uint32_t mtu = gw->port_mtu[c->links[l].port];
		uint32_t inner = mtu > gw_frame_overhead(gw) - RTE_ETHER_HDR_LEN ?
				 mtu - (uint32_t)(gw_frame_overhead(gw) - RTE_ETHER_HDR_LEN) : 64;

		max_inner = l == 0 ? inner : RTE_MIN(max_inner, inner);
	}
	max_inner = RTE_MAX(max_inner, 68u);
	gw->inner_mtu = (uint16_t)max_inner;

	/* mtu: what does not fit the tunnel is clamped, answered or split
	 * before the scheduler sees it. */
	{
		struct braid_mtu_conf mc = {
			.inner_mtu = (uint16_t)max_inner,
			.clamp_mss = c->mtu.clamp_mss,
			.icmp_per_s = c->mtu.icmp_per_s,
			.pool = gw->pkt_pool,
			.indirect_pool = gw->clone_pool,
			.lan_inject = gw->lan_inject,
		};

		if (gw->lan_port >= 0 && c->ports[gw->lan_port].has_ipv4) {
			mc.lan_mac = gw->port_mac[gw->lan_port];
			mc.lan_ip = c->ports[gw->lan_port].ipv4;
		} else {
			mc.icmp_per_s = 0;         /* no address to answer from */
		}
		gw->mtu = braid_mtu_create(&mc, SOCKET_ID_ANY);
		if (gw->mtu == NULL)
			return fail(e, rte_errno, "mtu: %s", rte_strerror(rte_errno));
	}

	/* Sched. */
	sc = rte_zmalloc("gw_sched_conf", sizeof(*sc), 0);
	if (sc == NULL)
		return fail(e, ENOMEM, "sched: no memory");
	sc->n_classes = c->n_classes;
	sc->n_links = c->n_links;
	sc->mtu = max_inner;
	sc->frame_overhead = gw_frame_overhead(gw) + GW_ETHER_L1_OVERHEAD;
	sc->clone_pool = gw->clone_pool;
	for (unsigned int k = 0; k < c->n_classes; k++) {
		const struct braid_config_class *cc = &c->classes[k];
		struct braid_sched_class_conf *o = &sc->classes[k];

		o->weight = cc->weight;
		o->queue_size = cc->queue_packets;
		o->priority = cc->priority;
		o->rate_cap_kbps = cc->rate_cap_kbps;
		o->fec_k = cc->fec_enabled ? cc->fec_k : 0;
		o->fec_m = cc->fec_enabled ? cc->fec_m : 0;
		o->policy = gw_sched_policy(cc, &o->link_mask);
		o->dup_copies = o->policy == BRAID_SCHED_DUPLICATE ? cc->copies : 0;
	}
	for (unsigned int l = 0; l < c->n_links; l++) {
		sc->links[l].capacity_kbps = c->links[l].capacity_kbps;
		sc->links[l].weight_factor = gw_link_factor(c->links[l].weight);
		sc->links[l].backup = c->links[l].backup;
		sc->links[l].start_down = !c->links[l].admin_up;
	}
	gw->sched = braid_sched_create(sc, SOCKET_ID_ANY);
	rte_free(sc);
	if (gw->sched == NULL)
		return fail(e, rte_errno, "sched: %s", rte_strerror(rte_errno));

	/* FEC encode. */
	fc.n_classes = c->n_classes;
	for (unsigned int k = 0; k < c->n_classes; k++)
		gw_fec_shape(c, k, &fc.classes[k]);
	fc.n_links = c->n_links;
	fc.pool = gw->pkt_pool;
	fc.max_len = (uint16_t)max_inner;
	fc.parity_pkt_type = BRAID_PKT_PARITY;
	gw->fec = braid_fec_enc_create(&fc, SOCKET_ID_ANY);
	if (gw->fec == NULL)
		return fail(e, rte_errno, "fec: %s", rte_strerror(rte_errno));

	/* Retransmit cache: ARQ classes keep window_ms of packets. Every
	 * class gets its ring, so that management can turn ARQ on live;
	 * the others are switched off below. */
	for (unsigned int k = 0; k < c->n_classes; k++) {
		rcc[k].window_ms = c->retransmit.window_ms;
		rcc[k].max_packets = c->retransmit.max_packets;
	}
	gw_objname(gw, "rtx", name, sizeof(name));
	rc.name = name;
	rc.n_classes = c->n_classes;
	rc.classes = rcc;
	rc.clone_pool = gw->clone_pool;
	/* A lost tail is only noticed when something follows it. */
	rc.tail_probe_ns = GW_TAIL_PROBE_NS;
	gw->rtx = braid_rtx_create(&rc, SOCKET_ID_ANY);
	if (gw->rtx == NULL)
		return fail(e, rte_errno, "rtx: %s", rte_strerror(rte_errno));
	for (unsigned int k = 0; k < c->n_classes; k++)
		if (!c->classes[k].arq_enabled)
			braid_rtx_class_enable(gw->rtx, (uint16_t)k, false);
	{
		struct braid_arq_tx_class_conf acc[BRAID_CONFIG_MAX_CLASSES];
		struct braid_arq_tx_conf atc = { 0 };

		for (unsigned int k = 0; k < c->n_classes; k++)
			acc[k].deadline_ns = c->classes[k].arq_enabled ?
				(uint64_t)c->classes[k].arq_deadline_ms * 1000000ULL : 0;
		gw_objname(gw, "arqtx", name, sizeof(name));
		atc.name = name;
		atc.rtx = gw->rtx;
		atc.n_classes = c->n_classes;
		atc.classes = acc;
		for (unsigned int l = 0; l < c->n_links; l++)
			usable += (uint64_t)c->links[l].capacity_kbps * 125;
		atc.capacity_ppm = GW_RETX_SHARE_PPM;
		atc.burst_bytes = (uint32_t)RTE_MIN(RTE_MAX(usable * GW_RETX_BURST_MS / 1000,
							    GW_RETX_BURST_MIN),
						    (uint64_t)BRAID_ARQ_MAX_BURST);
		gw->arq_tx = braid_arq_tx_create(&atc, SOCKET_ID_ANY);
		if (gw->arq_tx == NULL)
			return fail(e, rte_errno, "arq: %s", rte_strerror(rte_errno));
		braid_arq_tx_set_capacity(gw->arq_tx, usable);
	}

	/* Encap: one template per link. */
	ec.session_id = gw->session_id;
	ec.n_links = c->n_links;
	for (unsigned int l = 0; l < c->n_links; l++)
		wire_link(gw, l, &ec.links[l]);
	ec.hdr_pool = gw->hdr_pool;
	ec.clone_pool = gw->clone_pool;
	gw->encap = braid_encap_create(&ec, SOCKET_ID_ANY);
	if (gw->encap == NULL)
		return fail(e, rte_errno, "encap: %s", rte_strerror(rte_errno));

	/* Link TX: link id -> its port; control frames arrive on the inject
	 * ring already encapsulated. */
	tc.n_links = c->n_links;
	for (unsigned int l = 0; l < c->n_links; l++)
		tc.links[l] = (struct braid_tx_output){ gw->port_id[c->links[l].port], 0 };
	tc.drain_ns = (uint64_t)c->tx.drain_us * 1000;
	tc.inject = gw->link_inject;
	gw->link_tx = braid_tx_create(&tc, SOCKET_ID_ANY);
	if (gw->link_tx == NULL)
		return fail(e, rte_errno, "link_tx: %s", rte_strerror(rte_errno));
	return 0;
}

/* FEC of class @k as the encoder takes it: (k, m), and the block timeout
 * fec.block_timeout_us, or automatic (0): the class's packet rate sets
 * it, at most a quarter of the class's deadline (parity that comes later
 * repairs too late to matter) and GW_FEC_TIMEOUT_MAX_NS. */
void
gw_fec_shape(const struct braid_config *c, unsigned int k,
	     struct braid_fec_class_conf *out)
{
	const struct braid_config_class *cc = &c->classes[k];

	out->k = cc->fec_enabled ? cc->fec_k : 0;
	out->m = cc->fec_enabled ? cc->fec_m : 0;
	out->timeout_auto = c->fec.block_timeout_us == 0;
	out->timeout_ns = out->timeout_auto ?
		RTE_MAX(RTE_MIN(gw_class_deadline_ns(c, k) / 4, GW_FEC_TIMEOUT_MAX_NS),
			BRAID_FEC_AUTO_TIMEOUT_MIN_NS) :
		(uint64_t)c->fec.block_timeout_us * 1000;
}

/* The longest a class's packet may wait for a gap: its ARQ deadline, or
 * the configured reorder window. */
uint64_t
gw_class_deadline_ns(const struct braid_config *c, unsigned int k)
{
	if (c->classes[k].arq_enabled)
		return (uint64_t)c->classes[k].arq_deadline_ms * 1000000ULL;
	return (uint64_t)(c->reorder.window_ms != 0 ? c->reorder.window_ms :
			  GW_REORDER_WINDOW_MS) *
	       1000000ULL;
}

void
gw_class_deadlines_set(struct braid_gateway *gw, const struct braid_config *c)
{
	for (uint16_t k = 0; k < c->n_classes; k++)
		__atomic_store_n(&gw->deadline_ns[k], gw_class_deadline_ns(c, k), __ATOMIC_RELAXED);
}

/* Link health changed a link's state or usable capacity: tell the
 * scheduler (on its own lcore, through its control channel; a full
 * channel is counted there as cmds_dropped). */
void
gw_link_changed(void *arg, uint16_t link, enum braid_link_state state,
		uint64_t usable_kbps)
{
	struct braid_gateway *gw = arg;
	/* A suspect link (the peer's frames stopped arriving while other
	 * links still hear it) comes with usable capacity 0, which the
	 * scheduler takes as down until link health hears it again. */
	bool up = state == BRAID_LINK_UP || state == BRAID_LINK_DEGRADED;
	struct braid_sched_cmd c = { .op = BRAID_SCHED_CMD_LINK_STATE, .id = link,
		.link_state = { .up = up, .capacity_kbps = usable_kbps } };

	if (gw->runner != NULL)
		braid_runner_cmd_send(gw->runner, gw->stage_id[GW_CMD_SCHED], &c);
	__atomic_store_n(&gw->link_state[link], (uint8_t)state, __ATOMIC_RELAXED);
}

/* The payload of link @p l's MTU probes: as large as its port's MTU lets
 * the whole frame be (sealed, with crypto). 0 when a buffer of the pool
 * cannot hold that frame (no check). */
static uint16_t
gw_mtu_probe_len(const struct braid_gateway *gw, unsigned int l)
{
	uint32_t mtu = gw->port_mtu[gw->cfg.links[l].port];
	uint32_t ip_over = gw_frame_overhead(gw) - RTE_ETHER_HDR_LEN;
	uint32_t room = rte_pktmbuf_data_room_size(gw->pkt_pool) - RTE_PKTMBUF_HEADROOM;

	if (mtu <= ip_over || mtu + RTE_ETHER_HDR_LEN > room)
		return 0;
	return (uint16_t)(mtu - ip_over);
}

/* Link health: the peer's frames in, probes and replies to the peer
 * (ctrl_tx, encapsulated by the send chain's encap stage), NACKs to the
 * control stage (ctrl_ring). */
static int
build_link_health(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_link_conf lc;

	braid_link_conf_defaults(&lc);
	lc.n_links = c->n_links;
	for (unsigned int l = 0; l < c->n_links; l++) {
		lc.links[l].capacity_kbps = c->links[l].capacity_kbps;
		lc.links[l].admin_down = !c->links[l].admin_up;
		lc.links[l].mtu_probe_len = gw_mtu_probe_len(gw, l);
	}
	lc.probe_interval_ms = c->health.probe_interval_ms;
	lc.down_after_probes = c->health.down_after_probes;
	lc.up_hold_ms = c->health.up_hold_ms;
	lc.silence_gaps = (uint16_t)c->health.silence_gaps;
	lc.silence_min_ms = c->health.silence_min_ms;
	if (lc.hold_max_ms < lc.up_hold_ms)
		lc.hold_max_ms = lc.up_hold_ms;
	lc.degraded_permille = GW_DEGRADED_PERMILLE;
	lc.loss_enter_ppm = GW_DEGRADED_ENTER_PPM;
	lc.loss_leave_ppm = GW_DEGRADED_LEAVE_PPM;
	lc.pool = gw->hdr_pool;
	lc.mtu_pool = gw->pkt_pool;
	lc.tx_ring = gw->ctrl_tx;
	lc.ctrl_ring = gw->ctrl_ring;
	lc.on_change = gw_link_changed;
	lc.on_change_arg = gw;
	gw->link = braid_link_create(&lc, SOCKET_ID_ANY);
	if (gw->link == NULL)
		return fail(e, rte_errno, "link health: %s", rte_strerror(rte_errno));
	return 0;
}

/* The ARQ receiver: NACKs for reorder's gaps, on the two best links. */
static int
build_arq_rx(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_arq_rx_class_conf cc[BRAID_CONFIG_MAX_CLASSES];
	struct braid_arq_rx_conf ac = { 0 };
	char name[32];
	uint32_t track = rte_align32pow2(RTE_MAX(c->reorder.max_packets, 64u));

	/* Every class is tracked, so that management can turn ARQ on live;
	 * classes without it are switched off once created. */
	for (uint16_t k = 0; k < c->n_classes; k++)
		cc[k].track_seqs = RTE_MIN(RTE_MAX(track, BRAID_ARQ_MIN_TRACK),
					   BRAID_ARQ_MAX_TRACK);
	gw_objname(gw, "arqrx", name, sizeof(name));
	ac.name = name;
	ac.reorder = gw->reorder;
	ac.n_classes = c->n_classes;
	ac.classes = cc;
	/* The deadline stops the repeats long before this does. */
	ac.max_tries = GW_NACK_MAX_TRIES;
	ac.init_srtt_ns = GW_INIT_SRTT_NS;
	ac.link = gw->link;
	ac.pool = gw->hdr_pool;
	ac.tx_ring = gw->ctrl_tx;
	gw->arq_rx = braid_arq_rx_create(&ac, SOCKET_ID_ANY);
	if (gw->arq_rx == NULL)
		return fail(e, rte_errno, "arq (receiver): %s", rte_strerror(rte_errno));
	for (uint16_t k = 0; k < c->n_classes; k++)
		if (!c->classes[k].arq_enabled)
			braid_arq_rx_class_enable(gw->arq_rx, k, false);
	return 0;
}

/* LAN delivery on the first LAN port. */
static int
build_lan(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	const struct braid_config_port *pc;
	struct braid_lan_conf lc = { 0 };

	if (gw->lan_port < 0)
		return fail(e, EINVAL, "no LAN port to deliver to");
	pc = &c->ports[gw->lan_port];
	lc.arp = gw->arp;
	lc.port_id = gw->port_id[gw->lan_port];
	lc.src_mac = gw->port_mac[gw->lan_port];
	if (pc->has_ipv4) {
		lc.lan_ip = pc->ipv4;
		lc.lan_mask = pc->prefix == 0 ? 0 : ~0u << (32 - pc->prefix);
	}
	lc.hdr_pool = gw->hdr_pool;
	lc.tx.n_links = 1;
	lc.tx.single = true;
	lc.tx.links[0] = (struct braid_tx_output){ gw->port_id[gw->lan_port], 0 };
	lc.tx.drain_ns = (uint64_t)c->tx.drain_us * 1000;
	lc.tx.inject = gw->lan_inject;
	lc.pending_hosts = GW_ARP_PENDING_HOSTS;
	lc.pending_packets = GW_ARP_PENDING_PACKETS;
	gw->lan = braid_lan_create(&lc, SOCKET_ID_ANY);
	if (gw->lan == NULL)
		return fail(e, rte_errno, "lan_tx: %s", rte_strerror(rte_errno));
	return 0;
}

static int
build_recv_chain(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_port_rx_conf rxc = { 0 };
	struct braid_decap_conf dc = { 0 };
	struct braid_fec_dec_conf fdc = { 0 };
	struct braid_reorder_class_conf roc[BRAID_CONFIG_MAX_CLASSES];
	struct braid_reorder_conf ro = { 0 };
	uint64_t max_deadline = 0;
	char name[64];
	int ret;

	for (unsigned int i = 0; i < c->n_ports; i++)
		if (c->ports[i].role == BRAID_PORT_ROLE_LINK)
			rxc.inputs[rxc.n_inputs++] =
				(struct braid_port_rx_input){ gw->port_id[i], 0 };
	gw->link_rx = braid_port_rx_create(&rxc, SOCKET_ID_ANY);
	if (gw->link_rx == NULL)
		return fail(e, rte_errno, "link_rx: %s", rte_strerror(rte_errno));

	dc.n_links = c->n_links;
	for (unsigned int l = 0; l < c->n_links; l++)
		wire_link(gw, l, &dc.links[l]);
	dc.n_classes = c->n_classes;
	/* Control frames leave decap with the data: link health, the next
	 * stage, sees every frame. */
	dc.ctrl_ring = NULL;
	dc.punt_ring = gw->punt_ring;
	/* braid always sends UDP checksums (wire_link()). */
	dc.require_udp_cksum = true;
	dc.confirm_session = true;
	/* With crypto, only frames the open stage verified are taken. */
	dc.require_sealed = gw->crypto_on;
	for (unsigned int i = 0; i < c->n_ports; i++)
		if (c->ports[i].dhcp)
			dc.punt_udp_port = BRAID_DHCP_CLIENT_PORT;
	gw->decap = braid_decap_create(&dc, SOCKET_ID_ANY);
	if (gw->decap == NULL)
		return fail(e, rte_errno, "rx_decap: %s", rte_strerror(rte_errno));

	ret = build_link_health(gw, e);
	if (ret < 0)
		return ret;

	for (unsigned int k = 0; k < c->n_classes; k++) {
		uint32_t buf = next_pow2(c->reorder.max_packets);

		roc[k].buf_size = buf;
		roc[k].dedup_window = RTE_MAX(buf, GW_DEDUP_WINDOW_MIN);
		roc[k].deadline_ns = gw_class_deadline_ns(c, k);
		/* The first packet may have overtaken seq 0 on a faster link. */
		roc[k].start_window = RTE_MIN(buf / 4, GW_START_WINDOW_MAX);
		max_deadline = RTE_MAX(max_deadline, roc[k].deadline_ns);
	}
	fdc.n_classes = c->n_classes;
	fdc.max_blocks = GW_FEC_DEC_BLOCKS;
	fdc.timeout_ns = (c->fec.block_timeout_us != 0 ?
			  (uint64_t)c->fec.block_timeout_us * 1000 : GW_FEC_TIMEOUT_MAX_NS) +
			 max_deadline;
	fdc.pool = gw->pkt_pool;
	fdc.parity_pkt_type = BRAID_PKT_PARITY;
	fdc.data_pkt_type = BRAID_PKT_DATA;
	gw->fec_dec = braid_fec_dec_create(&fdc, SOCKET_ID_ANY);
	if (gw->fec_dec == NULL)
		return fail(e, rte_errno, "fec_decode: %s", rte_strerror(rte_errno));

	gw_objname(gw, "reorder", name, sizeof(name));
	ro.name = name;
	ro.n_classes = c->n_classes;
	ro.classes = roc;
	gw->reorder = braid_reorder_create(&ro, SOCKET_ID_ANY);
	if (gw->reorder == NULL)
		return fail(e, rte_errno, "reorder: %s", rte_strerror(rte_errno));
	ret = build_arq_rx(gw, e);
	if (ret < 0)
		return ret;


	return build_lan(gw, e);
}

/* ARP and ICMP on every port with an address; static next hops from the
 * links' next_hop_mac. */
static int
build_arp(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_arp_static st[BRAID_CONFIG_MAX_PORTS][BRAID_CONFIG_MAX_LINKS];
	struct braid_arp_conf ac;
	char name[64];

	braid_arp_conf_defaults(&ac);
	gw_objname(gw, "arp", name, sizeof(name));
	ac.name = name;
	ac.pool = gw->hdr_pool;
	ac.garp_count = 1;
	for (unsigned int i = 0; i < c->n_ports; i++) {
		struct braid_arp_port_conf *pc = &ac.ports[ac.n_ports++];
		uint16_t n_st = 0;

		pc->port_id = gw->port_id[i];
		pc->mac = gw->port_mac[i];
		if (c->ports[i].has_ipv4) {
			pc->n_addrs = 1;
			pc->addrs[0] = (struct braid_arp_addr){ c->ports[i].ipv4, c->ports[i].prefix };
		}
		for (unsigned int l = 0; l < c->n_links; l++)
			if (c->links[l].port == i && c->links[l].has_next_hop_mac)
				st[i][n_st++] = (struct braid_arp_static){
					c->links[l].next_hop, c->links[l].next_hop_mac };
		pc->n_static = n_st;
		pc->statics = st[i];
	}
	gw->arp = braid_arp_create(&ac, SOCKET_ID_ANY);
	if (gw->arp == NULL)
		return fail(e, rte_errno, "arp: %s", rte_strerror(rte_errno));
	return 0;
}

static int
build_rings(struct braid_gateway *gw, struct build_err *e)
{
	char name[RTE_RING_NAMESIZE];

	gw_objname(gw, "ctrl", name, sizeof(name));
	gw->ctrl_ring = rte_ring_create(name, GW_CTRL_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	gw_objname(gw, "punt", name, sizeof(name));
	gw->punt_ring = rte_ring_create(name, GW_CTRL_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	gw_objname(gw, "linj", name, sizeof(name));
	gw->link_inject = braid_tx_inject_ring_create(name, GW_TO_PEER_RING_SIZE, SOCKET_ID_ANY);
	gw_objname(gw, "ctx", name, sizeof(name));
	gw->ctrl_tx = rte_ring_create(name, GW_TO_PEER_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	gw_objname(gw, "lanj", name, sizeof(name));
	gw->lan_inject = braid_tx_inject_ring_create(name, GW_CTRL_RING_SIZE, SOCKET_ID_ANY);
	if (gw->ctrl_ring == NULL || gw->punt_ring == NULL ||
	    gw->link_inject == NULL || gw->lan_inject == NULL || gw->ctrl_tx == NULL)
		return fail(e, rte_errno, "control rings: %s", rte_strerror(rte_errno));
	return 0;
}

static void
add_stage(struct braid_runner_conf *rc, const struct braid_config *c,
	  const char *name, const struct braid_stage_ops *ops, void *ctx,
	  unsigned int chain, enum braid_stage_id placed_as)
{
	struct braid_runner_stage *s = &rc->stages[rc->n_stages++];

	snprintf(s->stage.name, sizeof(s->stage.name), "%s", name);
	s->stage.ops = ops;
	s->stage.ctx = ctx;
	s->chain = chain;
	s->lcore = c->lcores.stage_lcore[placed_as];
}

/* The stages of enum gw_cmd_stage, by name. */
static const char *const cmd_stage_name[GW_CMD_STAGES] = {
	[GW_CMD_SCHED] = "sched", [GW_CMD_FEC] = "fec", [GW_CMD_RTX] = "rtx",
	[GW_CMD_CTRL] = "ctrl", [GW_CMD_LINK_HEALTH] = "link_health",
	[GW_CMD_REORDER] = "reorder", [GW_CMD_ARQ_RX] = "arq_rx",
};

static int
build_runner(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config *c = &gw->cfg;
	struct braid_runner_conf *rc = rte_zmalloc("gw_runner_conf", sizeof(*rc), 0);

	if (rc == NULL)
		return fail(e, ENOMEM, "runner: no memory");
	rc->ring_size = c->lcores.ring_size;
	rc->idle_polls = c->lcores.idle_polls;
	rc->idle_sleep_max_us = c->lcores.idle_sleep_max_us;
	rc->main_hook = gw_main_hook;
	rc->main_hook_arg = gw;
	rc->hook_period_us = GW_HOOK_PERIOD_US;
	add_stage(rc, c, "lan_rx", &braid_port_rx_stage_ops, gw->lan_rx, 0, BRAID_STAGE_LAN_RX);
	add_stage(rc, c, "classify", &braid_classify_stage_ops, gw->classify, 0, BRAID_STAGE_CLASSIFY);
	add_stage(rc, c, "mtu", &braid_mtu_stage_ops, gw->mtu, 0, BRAID_STAGE_CLASSIFY);
	add_stage(rc, c, "sched", &braid_sched_stage_ops, gw->sched, 0, BRAID_STAGE_SCHED);
	add_stage(rc, c, "fec", &braid_fec_enc_stage_ops, gw->fec, 0, BRAID_STAGE_FEC);
	add_stage(rc, c, "rtx", &braid_rtx_stage_ops, gw->rtx, 0, BRAID_STAGE_RTX);
	add_stage(rc, c, "encap", &gw_encap_stage_ops, gw, 0, GW_ENCAP_WITH);
	if (gw->crypto_on)
		add_stage(rc, c, "seal", &braid_crypto_seal_stage_ops, gw->seal, 0,
			  GW_ENCAP_WITH);
	add_stage(rc, c, "link_tx", &braid_tx_stage_ops, gw->link_tx, 0, BRAID_STAGE_LINK_TX);
	add_stage(rc, c, "link_rx", &braid_port_rx_stage_ops, gw->link_rx, 1, BRAID_STAGE_LINK_RX);
	if (gw->crypto_on)
		add_stage(rc, c, "open", &braid_crypto_open_stage_ops, gw->open, 1,
			  BRAID_STAGE_RX_DECAP);
	add_stage(rc, c, "rx_decap", &braid_decap_stage_ops, gw->decap, 1, BRAID_STAGE_RX_DECAP);
	add_stage(rc, c, "link_health", &braid_link_stage_ops, gw->link, 1, GW_LINK_HEALTH_WITH);
	add_stage(rc, c, "fec_decode", &braid_fec_dec_stage_ops, gw->fec_dec, 1,
		  BRAID_STAGE_FEC_DECODE);
	add_stage(rc, c, "reorder", &braid_reorder_stage_ops, gw->reorder, 1,
		  BRAID_STAGE_REORDER);
	add_stage(rc, c, "arq_rx", &braid_arq_rx_stage_ops, gw->arq_rx, 1, GW_ARQ_RX_WITH);
	add_stage(rc, c, "lan_tx", &braid_lan_stage_ops, gw->lan, 1, BRAID_STAGE_LAN_TX);
	add_stage(rc, c, "ctrl", &gw_ctrl_stage_ops, gw->ctrl, 2, GW_CTRL_WITH);
	gw->runner = braid_runner_create(rc, SOCKET_ID_ANY);
	rte_free(rc);
	if (gw->runner == NULL)
		return fail(e, rte_errno, "runner: %s (is every lcore of lcores.map in EAL's -l?)",
			    rte_strerror(rte_errno));
	for (unsigned int i = 0; i < GW_CMD_STAGES; i++) {
		int idx = braid_runner_stage_find(gw->runner, cmd_stage_name[i]);

		if (idx < 0)
			return fail(e, ENOENT, "runner: no stage %s", cmd_stage_name[i]);
		gw->stage_id[i] = (unsigned int)idx;
	}
	if (gw->crypto_on) {
		int si = braid_runner_stage_find(gw->runner, "seal");
		int oi = braid_runner_stage_find(gw->runner, "open");

		if (si < 0 || oi < 0)
			return fail(e, ENOENT, "runner: no seal or open stage");
		gw->seal_stage = (unsigned int)si;
		gw->open_stage = (unsigned int)oi;
	}
	return 0;
}

/* The tunnel's encryption: the device, the two stages, the handshake. */
static int
build_crypto(struct braid_gateway *gw, struct build_err *e)
{
	const struct braid_config_crypto *k = &gw->cfg.crypto;
	struct braid_crypto_seal_conf sc = { 0 };
	struct braid_crypto_open_conf oc = { 0 };
	uint8_t psk[BRAID_CRYPTO_PSK_LEN];
	char why[320], name[64];
	int ret;

	if (!gw->crypto_on) {
		GW_LOG(WARNING, "crypto: no crypto.psk_file: the tunnel runs in clear "
		       "(anyone on the path reads and can inject LAN traffic)");
		return 0;
	}
	ret = braid_crypto_psk_read(k->psk_file, psk, why, sizeof(why));
	if (ret < 0)
		return fail(e, -ret, "crypto.psk_file: %s", why);
	ret = braid_crypto_dev_open(k->device, SOCKET_ID_ANY, 2, &gw->crypto_dev, why,
				    sizeof(why));
	if (ret < 0) {
		braid_crypto_wipe(psk, sizeof(psk));
		return fail(e, -ret, "crypto.device: %s", why);
	}
	gw_objname(gw, "hello", name, sizeof(name));
	gw->hello_ring = rte_ring_create(name, GW_CTRL_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	gw->hello = gw_hello_create(gw, psk);
	braid_crypto_wipe(psk, sizeof(psk));
	if (gw->hello_ring == NULL || gw->hello == NULL)
		return fail(e, ENOMEM, "crypto: no memory for the handshake");
	gw_objname(gw, "seal", name, sizeof(name));
	sc.name = name;
	sc.dev = &gw->crypto_dev;
	sc.qp = 0;
	sc.pool = gw->pkt_pool;
	sc.rekey_bytes = (uint64_t)k->rekey_mb << 20;
	sc.rekey_ns = (uint64_t)k->rekey_s * 1000000000ULL;
	gw->seal = braid_crypto_seal_create(&sc, SOCKET_ID_ANY);
	if (gw->seal == NULL)
		return fail(e, rte_errno, "seal: %s", rte_strerror(rte_errno));
	gw_objname(gw, "open", name, sizeof(name));
	oc.name = name;
	oc.dev = &gw->crypto_dev;
	oc.qp = 1;
	oc.n_links = gw->cfg.n_links;
	oc.hello_ring = gw->hello_ring;
	gw->open = braid_crypto_open_create(&oc, SOCKET_ID_ANY);
	if (gw->open == NULL)
		return fail(e, rte_errno, "open: %s", rte_strerror(rte_errno));
	GW_LOG(INFO, "crypto: AES-256-GCM on %s (%s)", gw->crypto_dev.name,
	       gw->crypto_dev.driver);
	return 0;
}

struct braid_gateway *
braid_gateway_create(const struct braid_gateway_conf *conf, char *err, size_t errlen)
{
	struct build_err e = { err, errlen };
	struct braid_gateway *gw;
	int ret;

	if (conf == NULL || conf->cfg == NULL || conf->profile_dir == NULL) {
		fail(&e, EINVAL, "no configuration");
		rte_errno = EINVAL;
		return NULL;
	}
	if (braid_meta_register() < 0) {
		fail(&e, rte_errno, "mbuf metadata field: %s", rte_strerror(rte_errno));
		return NULL;
	}
	gw = rte_zmalloc("braid_gateway", sizeof(*gw), RTE_CACHE_LINE_SIZE);
	if (gw == NULL) {
		fail(&e, ENOMEM, "no memory for the gateway");
		rte_errno = ENOMEM;
		return NULL;
	}
	gw->cfg = *conf->cfg;
	gw->lan_port = -1;
	snprintf(gw->name, sizeof(gw->name), "%.15s", gw->cfg.name);
	snprintf(gw->profile_dir, sizeof(gw->profile_dir), "%s", conf->profile_dir);
	gw->session_id = conf->session_id;
	gw->duration_ns = (uint64_t)conf->duration_s * 1000000000ULL;
	while (gw->session_id == 0)
		gw->session_id = (uint32_t)rte_rand();

	ret = build_pools(gw, &e);
	for (unsigned int i = 0; ret == 0 && i < gw->cfg.n_ports; i++)
		ret = build_port(gw, i, &e);
	if (ret == 0)
		ret = build_rings(gw, &e);
	if (ret == 0)
		ret = build_arp(gw, &e);
	gw->crypto_on = gw->cfg.crypto.psk_file[0] != '\0';
	if (ret == 0)
		ret = build_crypto(gw, &e);
	if (ret == 0)
		ret = build_send_chain(gw, &e);
	if (ret == 0)
		ret = build_recv_chain(gw, &e);
	for (unsigned int l = 0; l < gw->cfg.n_links; l++) {
		gw->link_local_ip[l] = gw->cfg.links[l].local_ip;
		gw->link_next_hop[l] = gw->cfg.links[l].next_hop;
	}
	if (ret == 0) {
		gw->dhcp = gw_dhcp_create(gw);
		if (gw->dhcp == NULL)
			ret = fail(&e, rte_errno, "dhcp: %s", rte_strerror(rte_errno));
	}
	if (ret == 0) {
		gw->ctrl = gw_ctrl_create(gw);
		if (gw->ctrl == NULL)
			ret = fail(&e, rte_errno, "ctrl: %s", rte_strerror(rte_errno));
	}
	if (ret == 0)
		ret = build_runner(gw, &e);
	if (ret == 0) {
		gw_class_deadlines_set(gw, &gw->cfg);
		gw_fit_init(gw);
		gw_fec_auto_init(gw);
	}
	if (ret == 0 && conf->console != NULL && gw->cfg.stats.console) {
		gw->console = braid_stats_console_create(gw->runner, gw->stats_ports,
				gw->n_ports, gw->cfg.stats.interval_ms, conf->console);
		if (gw->console == NULL)
			ret = fail(&e, rte_errno, "console stats: %s", rte_strerror(rte_errno));
	}
	if (ret == 0)
		ret = gw_mgmt_create(gw, conf, err, errlen);
	if (ret < 0) {
		braid_gateway_free(gw);
		rte_errno = -ret;
		return NULL;
	}
	GW_LOG(INFO, "gateway %s: %u ports, %u links, %u classes, session %08x",
	       gw->cfg.name, gw->n_ports, gw->cfg.n_links, gw->cfg.n_classes,
	       gw->session_id);
	return gw;
}
