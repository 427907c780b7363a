/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_PORT_PRIV_H
#define BRAID_PORT_PRIV_H

/*
 * Internals of lib/port shared by its sources and its unit test; the rest
 * of the engine uses braid_port.h only.
 */
#include <rte_ethdev.h>

#include "braid_log.h"
#include "braid_port.h"

extern int braid_port_logtype;
#define PORT_LOG(level, ...) BRAID_LOG(level, braid_port_logtype, __VA_ARGS__)

/** One named flag of a profile array. */
struct port_flag_name {
	const char *name;
	uint64_t bits;
};

/** Name table of @p kind, terminated by a NULL name. */
const struct port_flag_name *port_flag_table(enum braid_port_flag_kind kind);

/**
 * Decide the ethdev configuration for profile @p p (with the overrides of
 * @p c) on a device described by @p di, without touching the device:
 * fills @p conf (rxmode/txmode offloads, mq_mode, RSS hash fields, MTU)
 * and the queue, offload, RSS and MTU fields of @p rep, logging a WARNING
 * for each refusal (@p port_id and @p name only label the log lines).
 * @return 0, or -EINVAL when the queue counts exceed the device's maximum.
 */
int port_negotiate(uint16_t port_id, const char *name,
		   const struct braid_port_profile *p,
		   const struct braid_port_setup_conf *c,
		   const struct rte_eth_dev_info *di,
		   struct rte_eth_conf *conf, struct braid_port_report *rep);

#endif /* BRAID_PORT_PRIV_H */
