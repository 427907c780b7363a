/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_GW_PRIV_H
#define BRAID_GW_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ring.h>

#include "braid_arp.h"
#include "braid_arq.h"
#include "braid_classify.h"
#include "braid_counters.h"
#include "braid_meta.h"
#include "braid_config.h"
#include "braid_decap.h"
#include "braid_encap.h"
#include "braid_fec.h"
#include "braid_gateway.h"
#include "braid_lan.h"
#include "braid_link.h"
#include "braid_log.h"
#include "braid_port.h"
#include "braid_reorder.h"
#include "braid_rtx.h"
#include "braid_sched.h"
#include "braid_stats.h"
#include "braid_tx.h"

extern int braid_gateway_logtype;
#define GW_LOG(level, ...) BRAID_LOG(level, braid_gateway_logtype, __VA_ARGS__)

/* Stages placed on the lcore of another stage of the config's map. */
#define GW_ENCAP_WITH  BRAID_STAGE_RTX
/* ctrl serves NACKs from the retransmit cache, which rtx's lcore owns. */
#define GW_CTRL_WITH   BRAID_STAGE_RTX
/* Link health reads the braid header of every frame rx_decap accepts
 * (it is the header's last reader): next to it, no ring between. */
#define GW_LINK_HEALTH_WITH BRAID_STAGE_RX_DECAP
/* The ARQ receiver reads reorder's gaps and resets: reorder's lcore. */
#define GW_ARQ_RX_WITH BRAID_STAGE_REORDER

/* A control-path change for a stage on another lcore: queued on that
 * stage's command ring, applied by the stage's own lcore (no locks). */
enum gw_cmd_op {
	GW_CMD_LINK_UP,         /* a = link, b = up */
	GW_CMD_LINK_CAPACITY,   /* a = link, v = kbps (decap ring: link health's configured) */
	GW_CMD_LINK_WEIGHT,     /* a = link, b = factor (per mille) */
	GW_CMD_CLASS_WEIGHT,    /* a = class, b = weight */
	GW_CMD_CLASS_FEC,       /* a = class, b = k, c = m, v = timeout ns */
	GW_CMD_LINK_ADMIN,      /* a = link, b = down (link health, decap lcore) */
	GW_CMD_LINK_CHARGE,     /* a = link, v = bytes sent outside sched (repairs) */
	GW_CMD_CLASS_ARQ,       /* a = class, b = on, c = reorder deadline ms,
				 * v = ARQ deadline ns (rtx + arq_tx; reorder + arq_rx) */
	GW_CMD_CLASS_PRIORITY,  /* a = class, b = priority, v = rate cap kbps */
	GW_CMD_CLASS_POLICY,    /* a = class, b = enum braid_sched_policy,
				 * c = copies, v = link mask */
};

struct gw_cmd {
	uint16_t op;
	uint16_t a;
	uint32_t b;
	uint32_t c;
	uint64_t v;
};

/* A wrapped stage: applies queued commands, then runs the real stage. */
struct gw_wrap {
	const struct braid_stage_ops *inner;
	void *inner_ctx;
	struct rte_ring *cmds;                  /* MP/SC, of struct gw_cmd * */
	struct braid_gateway *gw;
	uint64_t cmds_applied;
	uint64_t cmds_failed;
};

struct gw_ctrl;
struct gw_mgmt;

struct braid_gateway {
	struct braid_config cfg;
	char name[24];
	uint32_t session_id;
	char profile_dir[256];

	struct rte_mempool *pkt_pool;
	struct rte_mempool *hdr_pool;
	struct rte_mempool *clone_pool;

	uint16_t n_ports;
	uint16_t port_id[BRAID_CONFIG_MAX_PORTS];
	bool port_up[BRAID_CONFIG_MAX_PORTS];
	struct rte_ether_addr port_mac[BRAID_CONFIG_MAX_PORTS];
	uint16_t port_mtu[BRAID_CONFIG_MAX_PORTS];
	uint64_t port_txo[BRAID_CONFIG_MAX_PORTS];   /* TX offloads enabled */
	struct braid_stats_port stats_ports[BRAID_CONFIG_MAX_PORTS];
	int lan_port;                  /* index of the LAN port delivering */

	/* send chain */
	struct braid_port_rx *lan_rx;
	struct braid_classify *classify;
	struct braid_sched *sched;
	struct gw_wrap sched_wrap;
	struct braid_fec_enc *fec;
	struct gw_wrap fec_wrap;
	struct braid_rtx *rtx;
	struct gw_wrap rtx_wrap;        /* rtx + arq_tx class changes */
	struct braid_arq_tx *arq_tx;    /* NACK policy, on rtx's lcore */
	struct braid_encap *encap;
	struct braid_tx *link_tx;
	struct rte_ring *link_inject;  /* finished frames to links (unused by braid's own control path) */
	struct rte_ring *ctrl_tx;      /* to the peer: NACK, probe, reply and
					* retransmission payloads for encap */

	/* receive chain: link_rx -> rx_decap -> link_health -> fec_decode ->
	 * reorder -> arq_rx -> lan_tx */
	struct braid_port_rx *link_rx;
	struct braid_decap *decap;
	struct braid_link *link;        /* link health, on rx_decap's lcore */
	uint8_t link_state[BRAID_CONFIG_MAX_LINKS];   /* enum braid_link_state */
	struct braid_fec_dec *fec_dec;
	struct braid_reorder *reorder;
	struct braid_arq_rx *arq_rx;    /* on reorder's lcore */
	struct braid_lan *lan;          /* LAN delivery and its TX */
	struct rte_ring *lan_inject;   /* frames from other chains to the LAN */

	/* Transition until gw_mgmt.c and gw_wrap.c send the receive stages'
	 * own commands (struct braid_link_cmd, braid_reorder_cmd,
	 * braid_arq_rx_cmd): they still queue struct gw_cmd here, and
	 * gw_rx_cmds_forward() (gw_rx_cmds.c) translates them. */
	struct rte_ring *decap_cmds;    /* GW_CMD_LINK_ADMIN/CAPACITY */
	struct gw_wrap reorder_wrap;    /* only its cmds: GW_CMD_CLASS_ARQ */
	struct {
		struct braid_arq_rx *rx;        /* = arq_rx */
		const uint64_t *recovered;      /* braid_arq_rx_recovered_by_class() */
	} arq;

	/* control */
	struct rte_ring *ctrl_ring;    /* NACKs from link health */
	struct rte_ring *punt_ring;    /* ARP / ICMP from classify and decap */
	struct gw_ctrl *ctrl;
	struct braid_arp *arp;          /* owned by the ctrl stage's lcore */

	struct braid_runner *runner;
	struct braid_stats_console *console;
	struct gw_mgmt *mgmt;          /* management server, running config (gw_mgmt.c) */
	uint64_t duration_ns;          /* 0 = run until stopped */
	uint64_t started_ns;
};

/* Stage ops defined by the gateway. */
extern const struct braid_stage_ops gw_wrap_ops;
extern const struct braid_stage_ops gw_encap_ops;

/* Transition (see decap_cmds above): gw_wrap.c names the reorder
 * wrapper's inner stage. */
#define gw_reorder_ops braid_reorder_stage_ops

/* Transition: queue the struct gw_cmd found on decap_cmds and
 * reorder_wrap.cmds as the receive stages' own commands (runner control
 * channels). Called by braid_gateway_step() and the main lcore's hook. */
void gw_rx_cmds_forward(struct braid_gateway *gw);

/* Link health -> scheduler (braid_link_change_fn). */
void gw_link_changed(void *arg, uint16_t link, enum braid_link_state state,
		     uint64_t usable_kbps);
extern const struct braid_stage_ops gw_ctrl_ops;

int gw_wrap_init(struct gw_wrap *w, struct braid_gateway *gw, const char *what,
		 const struct braid_stage_ops *inner, void *inner_ctx);
void gw_wrap_fini(struct gw_wrap *w);
int gw_wrap_send(struct gw_wrap *w, const struct gw_cmd *cmd);

/* Main-lcore periodic work: console, --duration, management. */
void gw_main_hook(void *arg, uint64_t now_ns);

struct gw_ctrl *gw_ctrl_create(struct braid_gateway *gw);
/* Shutdown: free what the control path still holds (pending packets). */
void gw_ctrl_release(struct gw_ctrl *c);
void gw_ctrl_free(struct gw_ctrl *c);

/* The longest a class's packet waits for a gap at the receiver: its ARQ
 * deadline, or the configured reorder window (gw_build.c). */
uint64_t gw_class_deadline_ns(const struct braid_config *c, unsigned int k);

/* Scheduler weight factor (per mille) of a link of configured weight
 * 1..1000: the weight itself, so the configured weights keep their ratio
 * (the scheduler's link quanta are capacity x factor). */
static inline uint16_t
gw_link_factor(uint16_t weight)
{
	return (uint16_t)RTE_MAX(RTE_MIN(weight, (uint16_t)1000), (uint16_t)1);
}

/* Management (gw_mgmt.c): create and start the server when the conf and
 * the config ask for it (0 without: nothing to do); stop serving before
 * the chains drain; free; after the main lcore's loop, report a client's
 * shutdown request to conf->on_shutdown. */
int gw_mgmt_create(struct braid_gateway *gw, const struct braid_gateway_conf *conf,
		   char *err, size_t errlen);
void gw_mgmt_stop(struct braid_gateway *gw);
void gw_mgmt_free(struct braid_gateway *gw);
void gw_mgmt_after_run(struct braid_gateway *gw);

/* DPDK object name "<gw>_<what>". */
void gw_objname(const struct braid_gateway *gw, const char *what, char *buf,
		size_t len);

#endif /* BRAID_GW_PRIV_H */
