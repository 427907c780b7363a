/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_GATEWAY_H
#define BRAID_GATEWAY_H

/**
 * @file
 * A braid gateway built from a validated struct braid_config: mempools,
 * ports from driver profiles, every stage of the two chains, the control
 * stage, and the runner that places them on lcores.
 *
 *   chain 0 (send):    lan_rx -> classify -> sched -> fec -> rtx -> encap -> link_tx
 *   chain 1 (receive): link_rx -> rx_decap -> fec_decode -> reorder -> lan_tx
 *   chain 2 (control): ctrl (probes, link health, NACKs, ARP/ICMP)
 *
 * Several gateways may live in one process (tests, a loopback pair): every
 * DPDK object name carries the gateway's name.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "braid_config.h"
#include "braid_runner.h"
#include "braid_stats.h"

struct braid_gateway;

struct braid_gateway_conf {
	const struct braid_config *cfg;   /**< copied */
	/** Directory of driver profiles (drivers-cfg/). */
	const char *profile_dir;
	/** Session id carried in every tunnel header; 0 = random. */
	uint32_t session_id;
	/** Console statistics table (NULL or cfg stats.console false: off). */
	FILE *console;
	/** Run the management server (cfg management.enabled as well). */
	bool mgmt;
	/** Bind the management and metrics ports to ephemeral ports instead
	 * of the configured ones (tests; braid_gateway_mgmt_port()). */
	bool mgmt_ephemeral;
	/** The file @p cfg was loaded from: status, and where config.save
	 * writes by default. NULL: not from a file (embedded default). */
	const char *config_file;
	/** Stop by itself after this many seconds (0 = until stopped). */
	uint32_t duration_s;
	/** Called from the main lcore (braid_gateway_run_main(), after its
	 * loop ended) when a management client asked for shutdown; the
	 * gateway has already stopped its runner. */
	void (*on_shutdown)(void *arg);
	void *on_shutdown_arg;
};

/**
 * Build the gateway: mempools, ports (started), stages, runner. Nothing
 * runs yet.
 * @param err filled with a readable reason on failure.
 * @return the gateway, or NULL with rte_errno set.
 */
struct braid_gateway *braid_gateway_create(const struct braid_gateway_conf *conf,
					   char *err, size_t errlen);

/** Launch the worker lcores, and the control thread that prints the
 * console table ("braid-console"). @return 0 or -errno. */
int braid_gateway_start(struct braid_gateway *gw);

/**
 * Run the main lcore until stopped: its stages if any, periodic control
 * work (--duration, automatic FEC). @return 0.
 */
int braid_gateway_run_main(struct braid_gateway *gw);

/**
 * Simulation: run every stage once on the calling thread at virtual time
 * @p now_ns (braid_runner_step()); only while the gateway is not started.
 * @return packets moved.
 */
unsigned int braid_gateway_step(struct braid_gateway *gw, uint64_t now_ns);

/** Ask everything to stop. Async-signal-safe. */
void braid_gateway_stop(struct braid_gateway *gw);

/**
 * Stop: wait for lcores, drain every chain, stop ports.
 * @return 0, or -EBUSY if mbufs are still in use after the drain (a
 *   leak: logged with the pool name and count).
 */
int braid_gateway_shutdown(struct braid_gateway *gw);

/** Free everything (ports closed). NULL is a no-op. */
void braid_gateway_free(struct braid_gateway *gw);

/** The runner (stage and lcore counters). */
const struct braid_runner *braid_gateway_runner(const struct braid_gateway *gw);

/** Walk every counter of the gateway (ports, stages, lcores). */
void braid_gateway_stats_walk(const struct braid_gateway *gw,
			      braid_stats_fn fn, void *arg);

/**
 * One counter by where it lives, e.g. ("fec_decode", "pieces_recovered"),
 * ("wan0", "rx_packets") or ("sched", "class0_enqueued"): the sum of the
 * samples of that flat name (braid_stats_name()) in a walk (0 if none).
 */
uint64_t braid_gateway_counter(const struct braid_gateway *gw, const char *owner,
			       const char *name);

/** mbufs in use across the gateway's pools. */
unsigned int braid_gateway_mbufs_in_use(const struct braid_gateway *gw);

/** The configuration the gateway was built with (live changes made
 * through the management port show in its config.get). */
const struct braid_config *braid_gateway_config(const struct braid_gateway *gw);

/** The bound JSON-RPC management port, 0 when there is no server. */
uint16_t braid_gateway_mgmt_port(const struct braid_gateway *gw);

/** The bound Prometheus metrics port, 0 when not served. */
uint16_t braid_gateway_metrics_port(const struct braid_gateway *gw);

/** This gateway's session id. */
uint32_t braid_gateway_session_id(const struct braid_gateway *gw);

/** Ethdev port id of configured port @p idx, or -ENOENT. */
int braid_gateway_port_id(const struct braid_gateway *gw, unsigned int idx);

#endif /* BRAID_GATEWAY_H */
