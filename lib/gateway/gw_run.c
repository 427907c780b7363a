/* SPDX-License-Identifier: BSD-3-Clause */
/* Running, stopping and freeing a gateway; reading its counters. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "braid_clock.h"
#include "braid_engine.h"
#include "gw_priv.h"

/* The console table is printed by a control thread, never by an lcore:
 * a write to a file or a pipe can block (ext4 here held one for ~100 ms
 * during a journal commit), and on the main lcore that held every packet
 * of its stages. It reads the counters as management does. */
static void *
console_main(void *arg)
{
	struct braid_gateway *gw = arg;

	while (!__atomic_load_n(&gw->console_stop, __ATOMIC_ACQUIRE)) {
		braid_stats_console_tick(gw->console, braid_now_ns());
		rte_delay_us_sleep(GW_CONSOLE_POLL_US);
	}
	return NULL;
}

static void
console_join(struct braid_gateway *gw)
{
	if (!gw->console_running)
		return;
	__atomic_store_n(&gw->console_stop, 1, __ATOMIC_RELEASE);
	pthread_join(gw->console_thread, NULL);
	gw->console_running = false;
}

int
braid_gateway_start(struct braid_gateway *gw)
{
	int ret;

	gw->started_ns = braid_now_ns();
	if (gw->console != NULL && !gw->console_running) {
		gw->console_stop = 0;
		ret = rte_ctrl_thread_create(&gw->console_thread, "braid-console", NULL,
					     console_main, gw);
		if (ret != 0)
			return ret < 0 ? ret : -ret;
		gw->console_running = true;
	}
	ret = braid_runner_start(gw->runner);
	if (ret != 0)
		console_join(gw);
	return ret;
}

void
gw_main_hook(void *arg, uint64_t now_ns)
{
	struct braid_gateway *gw = arg;

	gw_fit_tick(gw, now_ns);
	gw_fec_auto_tick(gw, now_ns);
	if (gw->duration_ns != 0 && now_ns - gw->started_ns >= gw->duration_ns)
		braid_runner_stop(gw->runner);
}

int
braid_gateway_run_main(struct braid_gateway *gw)
{
	int ret = braid_runner_run_main(gw->runner);

	gw_mgmt_after_run(gw);
	return ret;
}

unsigned int
braid_gateway_step(struct braid_gateway *gw, uint64_t now_ns)
{
	unsigned int n = braid_runner_step(gw->runner, now_ns);

	/* The main hook's control work, at virtual time too. */
	gw_fit_tick(gw, now_ns);
	gw_fec_auto_tick(gw, now_ns);
	return n;
}

void
braid_gateway_stop(struct braid_gateway *gw)
{
	braid_runner_stop(gw->runner);
}

unsigned int
braid_gateway_mbufs_in_use(const struct braid_gateway *gw)
{
	unsigned int n = 0;

	if (gw->pkt_pool != NULL)
		n += braid_mempool_in_use(gw->pkt_pool);
	if (gw->hdr_pool != NULL)
		n += braid_mempool_in_use(gw->hdr_pool);
	if (gw->clone_pool != NULL)
		n += braid_mempool_in_use(gw->clone_pool);
	return n;
}

int
braid_gateway_shutdown(struct braid_gateway *gw)
{
	unsigned int in_use;
	int ret;

	/* No more management requests or console tables: they read what is
	 * being torn down. */
	gw_mgmt_stop(gw);
	console_join(gw);
	/* Stop RX first: nothing new enters while the chains drain. */
	braid_runner_stop(gw->runner);
	ret = braid_runner_shutdown(gw->runner);
	if (gw->console != NULL)
		braid_stats_console_print(gw->console, braid_now_ns());
	for (unsigned int i = 0; i < gw->n_ports; i++) {
		if (!gw->port_up[i])
			continue;
		braid_port_stop(gw->port_id[i]);
		gw->port_up[i] = false;
	}
	/* (lan_tx's drain freed the frames still waiting for ARP, counted.) */
	gw_ctrl_release(gw->ctrl);
	in_use = braid_gateway_mbufs_in_use(gw);
	if (in_use != 0) {
		GW_LOG(ERR, "gateway %s: %u mbufs still in use after shutdown "
		       "(packets %u, headers %u, clones %u)", gw->cfg.name, in_use,
		       braid_mempool_in_use(gw->pkt_pool),
		       braid_mempool_in_use(gw->hdr_pool),
		       braid_mempool_in_use(gw->clone_pool));
		return -EBUSY;
	}
	return ret;
}

static void
free_stages(struct braid_gateway *gw)
{
	braid_port_rx_free(gw->lan_rx);
	braid_classify_free(gw->classify);
	braid_mtu_free(gw->mtu);
	braid_sched_free(gw->sched);
	braid_fec_enc_free(gw->fec);
	braid_arq_tx_free(gw->arq_tx);
	braid_rtx_free(gw->rtx);
	braid_encap_free(gw->encap);
	braid_tx_free(gw->link_tx);
	braid_port_rx_free(gw->link_rx);
	braid_decap_free(gw->decap);
	braid_link_free(gw->link);
	braid_fec_dec_free(gw->fec_dec);
	braid_arq_rx_free(gw->arq_rx);
	braid_reorder_free(gw->reorder);
	braid_lan_free(gw->lan);
	gw_ctrl_free(gw->ctrl);
	gw_dhcp_free(gw->dhcp);
	braid_arp_free(gw->arp);
	gw_hello_free(gw->hello);
	braid_crypto_seal_free(gw->seal);
	braid_crypto_open_free(gw->open);
	braid_crypto_dev_close(&gw->crypto_dev);
}

void
braid_gateway_free(struct braid_gateway *gw)
{
	if (gw == NULL)
		return;
	gw_mgmt_free(gw);
	console_join(gw);
	braid_stats_console_free(gw->console);
	braid_runner_free(gw->runner);
	free_stages(gw);
	rte_ring_free(gw->ctrl_ring);
	rte_ring_free(gw->punt_ring);
	rte_ring_free(gw->link_inject);
	rte_ring_free(gw->lan_inject);
	rte_ring_free(gw->ctrl_tx);
	rte_ring_free(gw->hello_ring);
	for (unsigned int i = 0; i < gw->n_ports; i++) {
		/* braid_port_close() stops a started port first. */
		if (gw->port_up[i])
			braid_port_close(gw->port_id[i]);
		else
			rte_eth_dev_close(gw->port_id[i]);
	}
	rte_mempool_free(gw->pkt_pool);
	rte_mempool_free(gw->hdr_pool);
	rte_mempool_free(gw->clone_pool);
	rte_free(gw);
}

const struct braid_runner *
braid_gateway_runner(const struct braid_gateway *gw)
{
	return gw->runner;
}

void
braid_gateway_stats_walk(const struct braid_gateway *gw, braid_stats_fn fn, void *arg)
{
	braid_stats_walk(gw->runner, gw->stats_ports, gw->n_ports, fn, arg);
}

struct counter_pick {
	const char *owner, *name;
	uint64_t sum;
};

static void
pick_counter(void *arg, enum braid_stats_scope scope, const char *owner,
	     const char *name, const struct braid_stat_labels *labels, uint64_t v)
{
	struct counter_pick *p = arg;
	char flat[96];

	RTE_SET_USED(scope);
	if (strcmp(owner, p->owner) != 0)
		return;
	braid_stats_name(flat, sizeof(flat), name, labels);
	if (strcmp(flat, p->name) == 0)
		p->sum += v;
}

uint64_t
braid_gateway_counter(const struct braid_gateway *gw, const char *owner,
		      const char *name)
{
	struct counter_pick p = { owner, name, 0 };

	braid_gateway_stats_walk(gw, pick_counter, &p);
	return p.sum;
}

const struct braid_config *
braid_gateway_config(const struct braid_gateway *gw)
{
	return &gw->cfg;
}

uint32_t
braid_gateway_session_id(const struct braid_gateway *gw)
{
	return gw->session_id;
}

int
braid_gateway_port_id(const struct braid_gateway *gw, unsigned int idx)
{
	return idx < gw->n_ports ? gw->port_id[idx] : -ENOENT;
}
