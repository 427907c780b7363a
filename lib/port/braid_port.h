/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_PORT_H
#define BRAID_PORT_H

/**
 * @file
 * Ethernet ports from driver profiles (drivers-cfg/<name>.json) and the RX
 * stage.
 *
 * A profile names the PMD it is written for and what braid asks of it:
 * descriptor and queue counts, RSS hash fields, RX/TX offloads, MTU, a
 * devargs template for hotplugged devices, how long to wait for link.
 * braid_port_setup() applies a profile to a port and records in a
 * struct braid_port_report everything the device refused (offloads, RSS
 * hash fields, MTU, MAC, promiscuous mode) instead of failing on it, with
 * a WARNING log line naming each refusal.
 *
 * Typical use (control path, after rte_eal_init() and braid_meta_register()):
 *
 *   braid_port_profile_load("drivers-cfg/ixgbe.json", &prof, err, sizeof(err));
 *   braid_port_devargs(&prof, "0000:03:00.0", NULL, dev, sizeof(dev));
 *   braid_port_resolve(dev, &port_id);
 *   braid_port_setup(port_id, &prof, &setup_conf, &report);
 *   rx = braid_port_rx_create(&(struct braid_port_rx_conf){ .port_id = port_id }, socket);
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct rte_mempool;
struct json_t;

/** Longest PMD name kept (dev_info.driver_name). */
#define BRAID_PORT_DRIVER_LEN 32
/** Longest devargs template. */
#define BRAID_PORT_DEVARGS_LEN 256

/** Profile limits (also the loader's error messages). */
#define BRAID_PORT_DESC_MIN 64
#define BRAID_PORT_DESC_MAX 32768
#define BRAID_PORT_QUEUES_MAX 128
#define BRAID_PORT_MTU_MIN 68
#define BRAID_PORT_MTU_MAX 16000
#define BRAID_PORT_LINK_WAIT_MS_MAX 60000

/** A driver profile, as loaded from drivers-cfg/<name>.json. */
struct braid_port_profile {
	char driver[BRAID_PORT_DRIVER_LEN];   /**< dev_info.driver_name, e.g. "net_ixgbe" */
	char devargs[BRAID_PORT_DEVARGS_LEN]; /**< template, at most one "%s" */
	uint16_t rx_desc;        /**< RX descriptors per queue (before clamping) */
	uint16_t tx_desc;        /**< TX descriptors per queue (before clamping) */
	uint16_t rx_queues;
	uint16_t tx_queues;
	bool rss;                /**< RSS requested */
	uint64_t rss_hf;         /**< RTE_ETH_RSS_* hash fields requested */
	uint64_t rx_offloads;    /**< RTE_ETH_RX_OFFLOAD_* requested */
	uint64_t tx_offloads;    /**< RTE_ETH_TX_OFFLOAD_* requested */
	uint16_t mtu;
	uint32_t link_wait_ms;   /**< wait at most this long for link up */
	bool promiscuous;
};

/**
 * Load and strictly validate a profile file. Unknown keys, wrong types,
 * out-of-range values and unknown offload / hash-field names are errors.
 *
 * @param path   JSON file.
 * @param p      filled on success (untouched fields are zeroed on error).
 * @param err    receives "<json path>: <reason>" (e.g. "$.rx_desc: must be
 *               an integer 64..32768") or "line L column C: <parse error>".
 * @param errlen size of @p err (may be 0).
 * @return 0 or -EINVAL.
 */
int braid_port_profile_load(const char *path, struct braid_port_profile *p,
			    char *err, size_t errlen);

/**
 * Validate a profile given as a parsed JSON object (a profile embedded in
 * a larger document). Error paths are relative to "$" = @p obj.
 * @return 0 or -EINVAL (message in @p err as for braid_port_profile_load()).
 */
int braid_port_profile_from_json(const struct json_t *obj,
				 struct braid_port_profile *p,
				 char *err, size_t errlen);

/** Which name table braid_port_flags_str() / braid_port_flag_parse() use. */
enum braid_port_flag_kind {
	BRAID_PORT_FLAG_RX_OFFLOAD,
	BRAID_PORT_FLAG_TX_OFFLOAD,
	BRAID_PORT_FLAG_RSS_HF,
};

/**
 * Render a flag mask as comma-separated profile names ("ipv4_cksum,tcp_lro").
 * Bits without a name are rendered as one hex value ("0x...").
 * @return length written (excluding NUL), or -ENOSPC if truncated.
 */
int braid_port_flags_str(enum braid_port_flag_kind kind, uint64_t mask,
			 char *buf, size_t len);

/**
 * Look up one profile name ("udp_cksum", "ipv4_tcp", "ip" ...).
 * @return the flag bits, or 0 if @p name is unknown.
 */
uint64_t braid_port_flag_parse(enum braid_port_flag_kind kind,
			       const char *name);

/**
 * Build the device string for braid_port_resolve(): "<device>" followed
 * by "," and the profile's devargs with "%s" replaced by @p arg, if the
 * profile has devargs. E.g. profile "iface=%s,qpairs=1", device
 * "net_af_packet0", arg "eth1" -> "net_af_packet0,iface=eth1,qpairs=1".
 * @return 0, -EINVAL if the template needs @p arg and it is NULL,
 *   -ENOSPC if @p buf is too small.
 */
int braid_port_devargs(const struct braid_port_profile *p, const char *device,
		       const char *arg, char *buf, size_t len);

/**
 * Find the ethdev for @p device, probing it if needed. @p device is an
 * ethdev name ("net_ring0", "0000:03:00.0"), a PCI address in any form
 * rte_pci_addr_parse() accepts, or either of those followed by
 * ",devargs". An existing port is returned as is (a WARNING is logged if
 * it was probed with other devargs); otherwise "net_*" virtual devices and
 * PCI addresses are hotplugged with rte_dev_probe().
 * @return 0 with *port_id set, -ENODEV if nothing matches, or the probe's
 *   -errno.
 */
int braid_port_resolve(const char *device, uint16_t *port_id);

/** What braid_port_setup() is given besides the profile. */
/** PMD power management modes (the values of enum rte_power_pmd_mgmt_type). */
enum braid_port_pm {
	BRAID_PORT_PM_OFF = 0,
	BRAID_PORT_PM_MONITOR = 1, /**< wait on the RX ring's address (PMD support) */
	BRAID_PORT_PM_PAUSE = 2,   /**< pause instructions after empty polls */
	BRAID_PORT_PM_SCALE = 3,   /**< lower the core frequency (cpufreq) */
};

/** "off", "pause", "monitor", "scale"; NULL for another value. */
const char *braid_port_pm_name(enum braid_port_pm pm);

struct braid_port_setup_conf {
	struct rte_mempool *mp;   /**< RX mbuf pool (required) */
	int socket;               /**< queue memory; SOCKET_ID_ANY = the port's */
	uint16_t mtu;             /**< 0 = the profile's */
	uint16_t rx_queues;       /**< 0 = the profile's */
	uint16_t tx_queues;       /**< 0 = the profile's */
	const struct rte_ether_addr *mac; /**< NULL = keep the device's */
	/** DPDK PMD power management (rte_power_pmd_mgmt) of every RX
	 * queue, set before the start: BRAID_PORT_PM_OFF (default), _PAUSE,
	 * _MONITOR or _SCALE; the queues are polled from @p rx_lcore. A
	 * mode the PMD or the machine refuses is reported (pm_refused) and
	 * the port runs without it. */
	enum braid_port_pm pm;
	unsigned int rx_lcore;
	/** Optional: polled while waiting for link; true aborts the wait
	 * (the port stays started). */
	bool (*cancel)(void *arg);
	void *cancel_arg;
};

/** What braid_port_setup() did, and what the device refused. */
struct braid_port_report {
	char driver[BRAID_PORT_DRIVER_LEN]; /**< dev_info.driver_name */
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t rx_desc_requested;
	uint16_t tx_desc_requested;
	uint16_t rx_desc;           /**< after rte_eth_dev_adjust_nb_rx_tx_desc() */
	uint16_t tx_desc;
	uint64_t rx_offloads;       /**< enabled */
	uint64_t rx_offloads_refused; /**< requested, not in rx_offload_capa */
	uint64_t tx_offloads;
	uint64_t tx_offloads_refused;
	bool rss;                   /**< RSS configured (mq_mode RSS) */
	uint64_t rss_hf;            /**< hash fields configured */
	uint64_t rss_hf_refused;    /**< requested, not in flow_type_rss_offloads */
	uint16_t mtu_requested;
	uint16_t mtu;               /**< the port's MTU after configure */
	bool mtu_refused;           /**< outside the device's MTU / frame limits */
	bool mtu_exceeds_mbuf;      /**< a full frame needs scatter, not enabled */
	bool mac_refused;           /**< conf->mac could not be set */
	bool promiscuous;           /**< promiscuous mode now */
	bool promiscuous_refused;   /**< the profile's mode could not be set */
	bool pm;                    /**< PMD power management on every RX queue */
	bool pm_refused;            /**< conf->pm asked, refused (errno in pm_error) */
	int pm_error;
	bool link_up;
	uint32_t link_speed_mbps;
	bool link_full_duplex;
	struct rte_ether_addr mac;  /**< the port's MAC now */
	unsigned int n_refused;     /**< individual refusals (bits + flags) */
};

/**
 * Configure, set up queues and start @p port_id from profile @p p.
 * The port must be stopped. Steps: check dev_info.driver_name against
 * p->driver; clamp nothing silently: queue counts above the device's
 * maximum are an error; offloads, RSS hash fields and MTU the device does
 * not support are left out and recorded in @p rep (WARNING per refusal);
 * descriptor counts go through rte_eth_dev_adjust_nb_rx_tx_desc(); MAC
 * set if given; start; promiscuous as the profile says; wait up to
 * p->link_wait_ms for link up (link down is reported, not an error).
 *
 * @return 0, or -EINVAL (bad arguments, driver mismatch, too many queues),
 *   or the failing ethdev call's -errno. @p rep is filled as far as
 *   setup got.
 */
int braid_port_setup(uint16_t port_id, const struct braid_port_profile *p,
		     const struct braid_port_setup_conf *c,
		     struct braid_port_report *rep);

/** Stop @p port_id (rte_eth_dev_stop; PMD power management, if set up,
 * is turned off once stopped). @return 0 or -errno. */
int braid_port_stop(uint16_t port_id);

/** Stop and close @p port_id (its port id is released). @return 0 or -errno. */
int braid_port_close(uint16_t port_id);

/** Port hardware/driver counters (rte_eth_stats_get). */
struct braid_port_stats {
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;    /**< dropped by the NIC: RX ring full */
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;  /**< RX mbuf allocation failures */
};

/** Read (never reset) the counters of @p port_id. @return 0 or -errno. */
int braid_port_stats(uint16_t port_id, struct braid_port_stats *st);

/* ---- RX stage ---------------------------------------------------------- */

/** RX stage counters (one instance, one lcore). */
#define BRAID_PORT_RX_COUNTERS(X) \
	X(rx_packets) X(rx_bytes) X(rx_bursts) X(rx_empty_polls)

struct braid_port_rx_stats {
	BRAID_COUNTERS_FIELDS(BRAID_PORT_RX_COUNTERS)
};

struct braid_port_rx;

#define BRAID_PORT_RX_MAX_INPUTS 16

/** One (port, queue) an RX stage reads. */
struct braid_port_rx_input {
	uint16_t port_id;
	uint16_t queue_id;
};

struct braid_port_rx_conf {
	uint16_t port_id;   /**< the input when n_inputs is 0 */
	uint16_t queue_id;
	uint16_t burst;   /**< packets per rte_eth_rx_burst, 1..BRAID_BURST; 0 = BRAID_BURST */
	/** Several inputs (e.g. every link port): 0 = just port_id/queue_id.
	 * poll() reads one burst from each, starting one further each call
	 * so no input is always served first. */
	uint16_t n_inputs;
	struct braid_port_rx_input inputs[BRAID_PORT_RX_MAX_INPUTS];
};

/**
 * Create an RX stage reading (port_id, queue_id), or each of inputs[],
 * which must be set up.
 * @return the stage context, or NULL with rte_errno (EINVAL, ENOMEM).
 */
struct braid_port_rx *braid_port_rx_create(const struct braid_port_rx_conf *c,
					   int socket);

/** Free the stage (NULL is a no-op). It holds no mbufs. */
void braid_port_rx_free(struct braid_port_rx *rx);

/** Read (never clear) the counters. */
void braid_port_rx_stats(const struct braid_port_rx *rx,
			 struct braid_port_rx_stats *st);

/**
 * The RX stage (flags BRAID_STAGE_F_SOURCE), ctx = struct braid_port_rx *.
 * poll() reads one burst (at most the room left in out), zeroes each
 * packet's braid_meta, sets rx_ns = now_ns, port_in, class_id =
 * BRAID_CLASS_NONE, link_id = BRAID_LINK_NONE and pushes it to out.
 */
extern const struct braid_stage_ops braid_port_rx_stage_ops;

#endif /* BRAID_PORT_H */
