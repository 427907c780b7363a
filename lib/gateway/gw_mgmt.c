/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's management port (doc/management-api.md), its lifecycle:
 * create and start the lib/mgmt server when the configuration asks for
 * it, register the "gateway" methods (gw_rpc.c) and the stats walker
 * (gw_metrics.c), stop serving before the chains drain, free, and report
 * a client's shutdown request once the main lcore's loop is over.
 *
 * The files of the management side, one job each, are listed in
 * gw_mgmt_priv.h. None of them touches the data path but to read
 * counters and published snapshots; a change reaches a stage the one way
 * a control change does, as commands on its command channel (gw_live.c,
 * gw_diff.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "braid_clock.h"
#include "braid_mgmt.h"
#include "braid_mgmt_client.h"
#include "gw_mgmt_priv.h"

/* Every method of the gateway: name, handler (gw_rpc.c), flags. */
static const struct {
	const char *name;
	braid_mgmt_handler_t fn;
	unsigned int flags;
} gw_methods[] = {
	{ "status", gw_rpc_status, BRAID_MGMT_F_NO_PARAMS },
	{ "links.list", gw_rpc_links_list, BRAID_MGMT_F_NO_PARAMS },
	{ "links.set", gw_rpc_links_set, BRAID_MGMT_F_MUTATING },
	{ "classes.list", gw_rpc_classes_list, BRAID_MGMT_F_NO_PARAMS },
	{ "classes.set", gw_rpc_classes_set, BRAID_MGMT_F_MUTATING },
	{ "config.get", gw_rpc_config_get, BRAID_MGMT_F_NO_PARAMS },
	{ "config.apply", gw_rpc_config_apply, BRAID_MGMT_F_MUTATING },
	{ "config.save", gw_rpc_config_save, BRAID_MGMT_F_MUTATING },
};

/* The server calls this once the `shutdown` reply has left. */
static void
on_shutdown_request(void *arg)
{
	struct gw_mgmt *m = arg;

	__atomic_store_n(&m->shutdown, 1, __ATOMIC_RELEASE);
	braid_runner_stop(m->gw->runner);
}

static void
gw_mgmt_release(struct gw_mgmt *m)
{
	if (m == NULL)
		return;
	braid_mgmt_free(m->srv);
	free(m->running);
	free(m);
}

int
gw_mgmt_create(struct braid_gateway *gw, const struct braid_gateway_conf *conf,
	       char *errbuf, size_t errlen)
{
	const struct braid_config_mgmt *mc = &gw->cfg.management;
	struct braid_mgmt_conf c = { 0 };
	char token[BRAID_MGMT_TOKEN_LEN + 1] = "", addr[INET_ADDRSTRLEN];
	struct in_addr ia = { .s_addr = htonl(mc->address) };
	struct gw_mgmt *m;
	int ret = 0;

	if (!conf->mgmt || !mc->enabled)
		return 0;
	m = calloc(1, sizeof(*m));
	if (m != NULL)
		m->running = malloc(sizeof(*m->running));
	if (m == NULL || m->running == NULL) {
		gw_mgmt_release(m);
		snprintf(errbuf, errlen, "management: no memory");
		return -ENOMEM;
	}
	m->gw = gw;
	memcpy(m->running, &gw->cfg, sizeof(gw->cfg));
	m->created_ns = braid_now_ns();
	m->on_shutdown = conf->on_shutdown;
	m->on_shutdown_arg = conf->on_shutdown_arg;
	if (conf->config_file != NULL &&
	    snprintf(m->file, sizeof(m->file), "%s", conf->config_file) >= (int)sizeof(m->file)) {
		gw_mgmt_release(m);
		snprintf(errbuf, errlen, "management: configuration file name too long");
		return -ENAMETOOLONG;
	}
	if (mc->token_file[0] != '\0') {
		ret = braid_mgmt_read_token_file(mc->token_file, token, sizeof(token));
		if (ret < 0) {
			gw_mgmt_release(m);
			snprintf(errbuf, errlen, "management: token file %s: %s", mc->token_file,
				 ret == -EINVAL ? "empty, NUL byte or longer than 255 bytes" :
				 strerror(-ret));
			return ret;
		}
	}
	inet_ntop(AF_INET, &ia, addr, sizeof(addr));
	c.address = addr;
	c.port = conf->mgmt_ephemeral ? 0 : mc->port;
	c.unix_path = mc->unix_path;
	c.metrics = mc->metrics_port != 0;
	c.metrics_port = conf->mgmt_ephemeral ? 0 : mc->metrics_port;
	c.metrics_auth = true;
	c.token = token;
	c.max_clients = mc->max_clients;
	c.max_request_bytes = mc->max_request_bytes;
	c.idle_timeout_ms = mc->idle_timeout_s * 1000;
	c.thread = BRAID_MGMT_THREAD_EAL_CTRL;
	c.telemetry = true;
	c.version = BRAID_VERSION;
	c.shutdown_cb = on_shutdown_request;
	c.shutdown_arg = m;
	m->srv = braid_mgmt_create(&c);
	if (m->srv == NULL && rte_errno == EBUSY) {
		/* Telemetry belongs to another gateway of this process. */
		GW_LOG(NOTICE, "gateway %s: DPDK telemetry served by another gateway",
		       gw->cfg.name);
		c.telemetry = false;
		m->srv = braid_mgmt_create(&c);
	}
	memset(token, 0, sizeof(token));
	if (m->srv == NULL) {
		ret = -rte_errno;
		snprintf(errbuf, errlen, "management: cannot serve on %s:%u%s: %s", addr,
			 c.port, c.metrics ? " (and the metrics port)" : "",
			 rte_strerror(rte_errno));
		gw_mgmt_release(m);
		return ret;
	}
	for (unsigned int i = 0; ret == 0 && i < RTE_DIM(gw_methods); i++)
		ret = braid_mgmt_register(m->srv, gw_methods[i].name, gw_methods[i].fn, m,
					  gw_methods[i].flags);
	if (ret == 0)
		ret = braid_mgmt_set_stats_walker(m->srv, gw_metrics_walk, m);
	if (ret == 0) {
		gw->mgmt = m;
		ret = braid_mgmt_start(m->srv);
	}
	if (ret < 0) {
		gw->mgmt = NULL;
		snprintf(errbuf, errlen, "management: %s", strerror(-ret));
		gw_mgmt_release(m);
		return ret;
	}
	return 0;
}

void
gw_mgmt_stop(struct braid_gateway *gw)
{
	if (gw->mgmt != NULL)
		braid_mgmt_stop(gw->mgmt->srv);
}

void
gw_mgmt_free(struct braid_gateway *gw)
{
	gw_mgmt_release(gw->mgmt);
	gw->mgmt = NULL;
}

void
gw_mgmt_after_run(struct braid_gateway *gw)
{
	struct gw_mgmt *m = gw->mgmt;

	if (m == NULL || m->shutdown_reported ||
	    __atomic_load_n(&m->shutdown, __ATOMIC_ACQUIRE) == 0)
		return;
	m->shutdown_reported = true;
	GW_LOG(NOTICE, "gateway %s: stopping at a management client's request",
	       gw->cfg.name);
	if (m->on_shutdown != NULL)
		m->on_shutdown(m->on_shutdown_arg);
}

uint16_t
braid_gateway_mgmt_port(const struct braid_gateway *gw)
{
	return gw != NULL && gw->mgmt != NULL ? braid_mgmt_port(gw->mgmt->srv) : 0;
}

uint16_t
braid_gateway_metrics_port(const struct braid_gateway *gw)
{
	return gw != NULL && gw->mgmt != NULL ? braid_mgmt_metrics_port(gw->mgmt->srv) : 0;
}
