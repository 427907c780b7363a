/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port setup from a driver profile, device resolution and hotplug, port
 * counters. Control path only: may log and sleep.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pci.h>
#include <rte_power_pmd_mgmt.h>
#include <rte_string_fns.h>

#include "port_priv.h"

RTE_LOG_REGISTER(braid_port_logtype, braid.port, INFO);

/* Log one WARNING per refused flag bit. */
static void
warn_refused(uint16_t port_id, const char *name, const char *drv,
	     enum braid_port_flag_kind kind, uint64_t refused, const char *why)
{
	static const char *const what[] = {
		[BRAID_PORT_FLAG_RX_OFFLOAD] = "rx offload",
		[BRAID_PORT_FLAG_TX_OFFLOAD] = "tx offload",
		[BRAID_PORT_FLAG_RSS_HF] = "RSS hash field",
	};
	char buf[64];

	while (refused != 0) {
		uint64_t bit = refused & -refused;

		refused &= ~bit;
		if (braid_port_flags_str(kind, bit, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "0x%" PRIx64, bit);
		PORT_LOG(WARNING, "port %u (%s): %s \"%s\" refused: %s %s",
			 port_id, name, what[kind], buf, why, drv);
	}
}

/* Frame overhead the way ethdev computes it for MTU checks. */
static uint32_t
frame_overhead(const struct rte_eth_dev_info *di)
{
	if (di->max_mtu != UINT16_MAX && di->max_rx_pktlen > di->max_mtu)
		return di->max_rx_pktlen - di->max_mtu;
	return RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
}

int
port_negotiate(uint16_t port_id, const char *name,
	       const struct braid_port_profile *p,
	       const struct braid_port_setup_conf *c,
	       const struct rte_eth_dev_info *di,
	       struct rte_eth_conf *conf, struct braid_port_report *rep)
{
	const char *drv = di->driver_name != NULL ? di->driver_name : "?";
	uint16_t nrxq = c->rx_queues != 0 ? c->rx_queues : p->rx_queues;
	uint16_t ntxq = c->tx_queues != 0 ? c->tx_queues : p->tx_queues;
	uint64_t rx_req = p->rx_offloads, tx_req = p->tx_offloads;
	uint32_t overhead, mtu, max_mtu;

	memset(conf, 0, sizeof(*conf));
	rep->rx_queues = nrxq;
	rep->tx_queues = ntxq;
	rep->rx_desc_requested = p->rx_desc;
	rep->tx_desc_requested = p->tx_desc;
	if (nrxq == 0 || ntxq == 0 || nrxq > di->max_rx_queues ||
	    ntxq > di->max_tx_queues) {
		PORT_LOG(ERR, "port %u (%s): %u rx / %u tx queues asked, %s has %u / %u",
			 port_id, name, nrxq, ntxq, drv, di->max_rx_queues,
			 di->max_tx_queues);
		return -EINVAL;
	}

	/* RSS: keep the hash fields the device has; none left -> no RSS. */
	if (p->rss) {
		uint64_t hf = p->rss_hf & di->flow_type_rss_offloads;

		rep->rss_hf_refused = p->rss_hf & ~di->flow_type_rss_offloads;
		warn_refused(port_id, name, drv, BRAID_PORT_FLAG_RSS_HF,
			     rep->rss_hf_refused, "not in flow_type_rss_offloads of");
		if (hf != 0) {
			conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf->rx_adv_conf.rss_conf.rss_hf = hf;
			conf->rx_adv_conf.rss_conf.rss_key = NULL; /* PMD default */
			rep->rss = true;
			rep->rss_hf = hf;
		} else {
			PORT_LOG(WARNING, "port %u (%s): RSS refused: %s hashes none of the requested fields",
				 port_id, name, drv);
		}
	}
	conf->txmode.mq_mode = RTE_ETH_MQ_TX_NONE;

	/* Offloads: the device's capabilities decide; refusals are recorded.
	 * ethdev rejects the RSS hash offload without RSS mq_mode. */
	if ((rx_req & RTE_ETH_RX_OFFLOAD_RSS_HASH) && !rep->rss) {
		rep->rx_offloads_refused |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
		warn_refused(port_id, name, drv, BRAID_PORT_FLAG_RX_OFFLOAD,
			     RTE_ETH_RX_OFFLOAD_RSS_HASH, "RSS is not active on");
		rx_req &= ~RTE_ETH_RX_OFFLOAD_RSS_HASH;
	}
	rep->rx_offloads = rx_req & di->rx_offload_capa;
	warn_refused(port_id, name, drv, BRAID_PORT_FLAG_RX_OFFLOAD,
		     rx_req & ~di->rx_offload_capa, "not in rx_offload_capa of");
	rep->rx_offloads_refused |= rx_req & ~di->rx_offload_capa;
	rep->tx_offloads = tx_req & di->tx_offload_capa;
	rep->tx_offloads_refused = tx_req & ~di->tx_offload_capa;
	warn_refused(port_id, name, drv, BRAID_PORT_FLAG_TX_OFFLOAD,
		     rep->tx_offloads_refused, "not in tx_offload_capa of");
	conf->rxmode.offloads = rep->rx_offloads;
	conf->txmode.offloads = rep->tx_offloads;

	/* MTU: the checks rte_eth_dev_configure() makes; out of range -> the
	 * nearest MTU the device takes, recorded as refused. */
	mtu = c->mtu != 0 ? c->mtu : p->mtu;
	rep->mtu_requested = (uint16_t)mtu;
	overhead = frame_overhead(di);
	max_mtu = di->max_mtu;
	if (di->max_rx_pktlen > overhead && di->max_rx_pktlen - overhead < max_mtu)
		max_mtu = di->max_rx_pktlen - overhead;
	if (mtu < di->min_mtu || mtu > max_mtu) {
		uint32_t use = mtu < di->min_mtu ? di->min_mtu : max_mtu;

		PORT_LOG(WARNING, "port %u (%s): MTU %u refused: %s takes %u..%u; using %u",
			 port_id, name, mtu, drv, di->min_mtu, max_mtu, use);
		rep->mtu_refused = true;
		mtu = use;
	}
	conf->rxmode.mtu = mtu;
	rep->mtu = (uint16_t)mtu;
	if (c->mp != NULL) {
		uint32_t room = rte_pktmbuf_data_room_size(c->mp);

		room = room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
		if (mtu + overhead > room &&
		    !(rep->rx_offloads & RTE_ETH_RX_OFFLOAD_SCATTER)) {
			PORT_LOG(WARNING, "port %u (%s): %u-byte frames (MTU %u) exceed the %u-byte mbuf data room and \"scatter\" is off",
				 port_id, name, mtu + overhead, mtu, room);
			rep->mtu_exceeds_mbuf = true;
		}
	}
	rep->n_refused = (unsigned int)(__builtin_popcountll(rep->rx_offloads_refused) +
		__builtin_popcountll(rep->tx_offloads_refused) +
		__builtin_popcountll(rep->rss_hf_refused)) + rep->mtu_refused;
	return 0;
}

static void
wait_link(uint16_t port_id, const struct braid_port_profile *p,
	  const struct braid_port_setup_conf *c, struct braid_port_report *rep)
{
	const uint32_t step_ms = 10;
	struct rte_eth_link link;
	uint32_t waited = 0;

	for (;;) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			break;
		if (waited >= p->link_wait_ms)
			break;
		if (c->cancel != NULL && c->cancel(c->cancel_arg))
			break;
		rte_delay_us_sleep(step_ms * 1000);
		waited += step_ms;
	}
	rep->link_up = link.link_status == RTE_ETH_LINK_UP;
	rep->link_speed_mbps = rep->link_up ? link.link_speed : 0;
	rep->link_full_duplex = rep->link_up &&
		link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
}

/* PMD power management set up per port: the lcore and queue count, to
 * turn it off again (it must be, before the queues are set up again). */
static struct {
	unsigned int lcore;
	uint16_t rx_queues;
} port_pm[RTE_MAX_ETHPORTS];

const char *
braid_port_pm_name(enum braid_port_pm pm)
{
	switch (pm) {
	case BRAID_PORT_PM_OFF: return "off";
	case BRAID_PORT_PM_MONITOR: return "monitor";
	case BRAID_PORT_PM_PAUSE: return "pause";
	case BRAID_PORT_PM_SCALE: return "scale";
	}
	return NULL;
}

static void
port_pm_disable(uint16_t port_id)
{
	for (uint16_t q = 0; q < port_pm[port_id].rx_queues; q++)
		rte_power_ethdev_pmgmt_queue_disable(port_pm[port_id].lcore, port_id, q);
	port_pm[port_id].rx_queues = 0;
}

/* rte_power_ethdev_pmgmt_queue_enable() on every RX queue of the stopped
 * port; a refusal (the PMD has no monitor address, no cpufreq for
 * scale, queues shared by lcores) is reported and the port runs without
 * it, with braid's own idle back-off. */
static void
port_pm_enable(uint16_t port_id, const char *name, const struct braid_port_setup_conf *c,
	       struct braid_port_report *rep)
{
	uint16_t q;
	int ret = 0;

	port_pm_disable(port_id);   /* a port set up again */
	if (c->pm == BRAID_PORT_PM_OFF)
		return;
	for (q = 0; q < rep->rx_queues; q++) {
		ret = rte_power_ethdev_pmgmt_queue_enable(c->rx_lcore, port_id, q,
							  (enum rte_power_pmd_mgmt_type)c->pm);
		if (ret != 0)
			break;
	}
	if (ret != 0) {
		while (q-- > 0)
			rte_power_ethdev_pmgmt_queue_disable(c->rx_lcore, port_id, q);
		PORT_LOG(WARNING, "port %u (%s): PMD power management \"%s\" refused by %s "
			 "on lcore %u: %s; polling without it", port_id, name,
			 braid_port_pm_name(c->pm), rep->driver, c->rx_lcore, rte_strerror(-ret));
		rep->pm_refused = true;
		rep->pm_error = -ret;
		rep->n_refused++;
		return;
	}
	port_pm[port_id].lcore = c->rx_lcore;
	port_pm[port_id].rx_queues = rep->rx_queues;
	rep->pm = true;
	PORT_LOG(INFO, "port %u (%s): PMD power management \"%s\" on %u RX queue(s), lcore %u",
		 port_id, name, braid_port_pm_name(c->pm), rep->rx_queues, c->rx_lcore);
}


int
braid_port_setup(uint16_t port_id, const struct braid_port_profile *p,
		 const struct braid_port_setup_conf *c,
		 struct braid_port_report *rep)
{
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	char rxo[256], txo[256];
	struct rte_eth_dev_info di;
	struct rte_eth_rxconf rxq_conf;
	struct rte_eth_txconf txq_conf;
	struct rte_eth_conf conf;
	uint16_t nrxd, ntxd, q;
	int socket, ret;

	if (rep == NULL)
		return -EINVAL;
	memset(rep, 0, sizeof(*rep));
	if (p == NULL || c == NULL || c->mp == NULL ||
	    !rte_eth_dev_is_valid_port(port_id))
		return -EINVAL;
	rte_eth_dev_get_name_by_port(port_id, name);
	ret = rte_eth_dev_info_get(port_id, &di);
	if (ret != 0) {
		PORT_LOG(ERR, "port %u (%s): dev_info: %s", port_id, name, rte_strerror(-ret));
		return ret;
	}
	strlcpy(rep->driver, di.driver_name != NULL ? di.driver_name : "",
		sizeof(rep->driver));
	if (strcmp(rep->driver, p->driver) != 0) {
		PORT_LOG(ERR, "port %u (%s): driver is %s, the profile is for %s",
			 port_id, name, rep->driver, p->driver);
		return -EINVAL;
	}
	ret = port_negotiate(port_id, name, p, c, &di, &conf, rep);
	if (ret != 0)
		return ret;

	ret = rte_eth_dev_configure(port_id, rep->rx_queues, rep->tx_queues, &conf);
	if (ret != 0) {
		PORT_LOG(ERR, "port %u (%s): configure: %s", port_id, name, rte_strerror(-ret));
		return ret;
	}
	nrxd = p->rx_desc;
	ntxd = p->tx_desc;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrxd, &ntxd);
	if (ret != 0) {
		PORT_LOG(ERR, "port %u (%s): descriptor limits: %s", port_id, name,
			 rte_strerror(-ret));
		return ret;
	}
	if (nrxd != p->rx_desc || ntxd != p->tx_desc)
		PORT_LOG(NOTICE, "port %u (%s): descriptors %u/%u adjusted to %u/%u by %s limits",
			 port_id, name, p->rx_desc, p->tx_desc, nrxd, ntxd, rep->driver);
	rep->rx_desc = nrxd;
	rep->tx_desc = ntxd;
	if (rte_eth_dev_get_mtu(port_id, &rep->mtu) != 0)
		rep->mtu = (uint16_t)conf.rxmode.mtu;

	socket = c->socket;
	if (socket == SOCKET_ID_ANY)
		socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	rxq_conf = di.default_rxconf;
	rxq_conf.offloads = conf.rxmode.offloads;
	for (q = 0; q < rep->rx_queues; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, nrxd, (unsigned int)socket,
					     &rxq_conf, c->mp);
		if (ret != 0) {
			PORT_LOG(ERR, "port %u (%s): rx queue %u: %s", port_id, name, q,
				 rte_strerror(-ret));
			return ret;
		}
	}
	txq_conf = di.default_txconf;
	txq_conf.offloads = conf.txmode.offloads;
	for (q = 0; q < rep->tx_queues; q++) {
		ret = rte_eth_tx_queue_setup(port_id, q, ntxd, (unsigned int)socket,
					     &txq_conf);
		if (ret != 0) {
			PORT_LOG(ERR, "port %u (%s): tx queue %u: %s", port_id, name, q,
				 rte_strerror(-ret));
			return ret;
		}
	}
	if (c->mac != NULL) {
		struct rte_ether_addr mac = *c->mac;

		ret = rte_eth_dev_default_mac_addr_set(port_id, &mac);
		if (ret != 0) {
			PORT_LOG(WARNING, "port %u (%s): MAC " RTE_ETHER_ADDR_PRT_FMT " refused by %s: %s",
				 port_id, name, RTE_ETHER_ADDR_BYTES(&mac), rep->driver,
				 rte_strerror(-ret));
			rep->mac_refused = true;
			rep->n_refused++;
		}
	}

	port_pm_enable(port_id, name, c, rep);
	ret = rte_eth_dev_start(port_id);
	if (ret != 0) {
		PORT_LOG(ERR, "port %u (%s): start: %s", port_id, name, rte_strerror(-ret));
		port_pm_disable(port_id);
		return ret;
	}
	/* Only ask for a change: PMDs without the ops (memif) are already in
	 * the state they report. */
	ret = 0;
	if ((rte_eth_promiscuous_get(port_id) == 1) != p->promiscuous)
		ret = p->promiscuous ? rte_eth_promiscuous_enable(port_id)
				     : rte_eth_promiscuous_disable(port_id);
	if (ret != 0) {
		PORT_LOG(WARNING, "port %u (%s): promiscuous %s refused by %s: %s", port_id,
			 name, p->promiscuous ? "on" : "off", rep->driver, rte_strerror(-ret));
		rep->promiscuous_refused = true;
		rep->n_refused++;
	}
	rep->promiscuous = rte_eth_promiscuous_get(port_id) == 1;

	wait_link(port_id, p, c, rep);
	rte_eth_macaddr_get(port_id, &rep->mac);
	if (!rep->link_up)
		PORT_LOG(WARNING, "port %u (%s): link down after %u ms", port_id, name,
			 p->link_wait_ms);
	if (braid_port_flags_str(BRAID_PORT_FLAG_RX_OFFLOAD, rep->rx_offloads, rxo,
				 sizeof(rxo)) < 0)
		strlcpy(rxo, "...", sizeof(rxo));
	if (braid_port_flags_str(BRAID_PORT_FLAG_TX_OFFLOAD, rep->tx_offloads, txo,
				 sizeof(txo)) < 0)
		strlcpy(txo, "...", sizeof(txo));
	PORT_LOG(INFO, "port %u (%s, %s): %u rxq x %u desc, %u txq x %u desc, mtu %u, rss %s, rx [%s], tx [%s], mac " RTE_ETHER_ADDR_PRT_FMT ", link %s %u Mbps, %u refused",
		 port_id, name, rep->driver, rep->rx_queues, rep->rx_desc, rep->tx_queues,
		 rep->tx_desc, rep->mtu, rep->rss ? "on" : "off", rxo, txo,
		 RTE_ETHER_ADDR_BYTES(&rep->mac), rep->link_up ? "up" : "down",
		 rep->link_speed_mbps, rep->n_refused);
	return 0;
}

/* Port named @p name (ethdev name, or a PCI address in any parseable form). */
static int
find_port(const char *name, uint16_t *port_id)
{
	struct rte_pci_addr addr;
	char full[RTE_DEV_NAME_MAX_LEN];

	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	if (rte_pci_addr_parse(name, &addr) == 0) {
		rte_pci_device_name(&addr, full, sizeof(full));
		if (rte_eth_dev_get_port_by_name(full, port_id) == 0)
			return 0;
	}
	return -ENODEV;
}

int
braid_port_resolve(const char *device, uint16_t *port_id)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	struct rte_pci_addr addr;
	const char *args;
	size_t nlen;
	bool is_pci;
	int ret;

	if (device == NULL || port_id == NULL)
		return -EINVAL;
	args = strchr(device, ',');
	nlen = args != NULL ? (size_t)(args - device) : strlen(device);
	if (nlen == 0 || nlen >= sizeof(name))
		return -EINVAL;
	memcpy(name, device, nlen);
	name[nlen] = '\0';
	if (args != NULL)
		args++;

	if (find_port(name, port_id) == 0) {
		struct rte_eth_dev_info di;
		const struct rte_devargs *da = NULL;

		if (args != NULL && rte_eth_dev_info_get(*port_id, &di) == 0 &&
		    di.device != NULL)
			da = rte_dev_devargs(di.device);
		if (args != NULL && (da == NULL || da->args == NULL ||
				     strcmp(da->args, args) != 0))
			PORT_LOG(WARNING, "%s: already probed (port %u); devargs \"%s\" not applied",
				 name, *port_id, args);
		return 0;
	}
	is_pci = rte_pci_addr_parse(name, &addr) == 0;
	if (!is_pci && strncmp(name, "net_", 4) != 0) {
		PORT_LOG(ERR, "%s: no such port (neither a net_* virtual device nor a PCI address)",
			 name);
		return -ENODEV;
	}
	ret = rte_dev_probe(device);
	if (ret != 0) {
		PORT_LOG(ERR, "%s: probe failed: %s", device, rte_strerror(-ret));
		return ret < 0 ? ret : -EIO;
	}
	if (find_port(name, port_id) != 0) {
		PORT_LOG(ERR, "%s: probed, but no ethdev port appeared", device);
		return -ENODEV;
	}
	PORT_LOG(INFO, "%s: probed as port %u", device, *port_id);
	return 0;
}

int
braid_port_stop(uint16_t port_id)
{
	int ret;

	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	ret = rte_eth_dev_stop(port_id);
	if (ret == 0)
		port_pm_disable(port_id);
	return ret;
}

int
braid_port_close(uint16_t port_id)
{
	int ret;

	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	ret = rte_eth_dev_stop(port_id);
	if (ret != 0)
		PORT_LOG(WARNING, "port %u: stop: %s", port_id, rte_strerror(-ret));
	else
		port_pm_disable(port_id);
	return rte_eth_dev_close(port_id);
}

int
braid_port_stats(uint16_t port_id, struct braid_port_stats *st)
{
	struct rte_eth_stats s;
	int ret;

	if (st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	ret = rte_eth_stats_get(port_id, &s);
	if (ret != 0)
		return ret;
	st->ipackets = s.ipackets;
	st->opackets = s.opackets;
	st->ibytes = s.ibytes;
	st->obytes = s.obytes;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->oerrors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	return 0;
}
