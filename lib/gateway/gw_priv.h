/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_GW_PRIV_H
#define BRAID_GW_PRIV_H

#include <pthread.h>
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
#include "braid_crypto.h"
#include "braid_decap.h"
#include "braid_dhcp.h"
#include "braid_encap.h"
#include "braid_fec.h"
#include "braid_fec_auto.h"
#include "braid_gateway.h"
#include "braid_lan.h"
#include "braid_link.h"
#include "braid_log.h"
#include "braid_mtu.h"
#include "braid_port.h"
#include "braid_reorder.h"
#include "braid_rtx.h"
#include "braid_runner.h"
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

/* The stages that take live commands (runner stage index in
 * gw->stage_id, set by build_runner()). */
enum gw_cmd_stage {
	GW_CMD_SCHED,         /* struct braid_sched_cmd */
	GW_CMD_FEC,           /* struct braid_fec_enc_cmd */
	GW_CMD_RTX,           /* struct braid_rtx_cmd */
	GW_CMD_CTRL,          /* struct braid_arq_tx_cmd (ctrl runs the ARQ sender) */
	GW_CMD_LINK_HEALTH,   /* struct braid_link_cmd */
	GW_CMD_REORDER,       /* struct braid_reorder_cmd */
	GW_CMD_ARQ_RX,        /* struct braid_arq_rx_cmd */
	GW_CMD_STAGES
};

/* One command of any stage, as a batch holds it. */
union gw_cmd_any {
	struct braid_sched_cmd sched;
	struct braid_fec_enc_cmd fec;
	struct braid_rtx_cmd rtx;
	struct braid_arq_tx_cmd arq_tx;
	struct braid_link_cmd link;
	struct braid_reorder_cmd reorder;
	struct braid_arq_rx_cmd arq_rx;
};

/* Commands one live change queues at most: per link 5, per class 10. */
#define GW_CMD_BATCH_MAX (5 * BRAID_CONFIG_MAX_LINKS + 10 * BRAID_CONFIG_MAX_CLASSES)

/* The commands of one change, queued all or none. */
struct gw_cmd_batch {
	unsigned int n;
	union gw_cmd_any cmd[GW_CMD_BATCH_MAX];
	struct braid_cmd_ref ref[GW_CMD_BATCH_MAX];
};

struct gw_ctrl;
struct gw_mgmt;

/* "fec": "auto": one controller per class, run by the main hook (the
 * rates are kept for every class: the others' share of the links). */
struct gw_fec_auto_class {
	struct braid_fec_auto ctl;
	uint64_t dequeued;             /* the scheduler's counts at the last tick */
	uint64_t bytes;
	uint32_t pkt_rate;             /* packets/s over the last tick */
	double wire_kbps;              /* its data's rate on the wire, smoothed */
	double total_kbps;             /* ... with its parity (every class) */
	uint64_t changes;              /* shapes sent */
	uint64_t send_failed;          /* not queued (ring full): retried */
};

struct gw_fec_auto {
	uint64_t last_ns;
	struct gw_fec_auto_class cls[BRAID_CONFIG_MAX_CLASSES];
};

/* Links in time for each class (gw_fit.c), run by the main hook;
 * shortfall and shortfalls are read by management. */
struct gw_fit_class {
	uint32_t mask;                 /* links in time, as the scheduler has it */
	uint64_t changes;              /* masks sent */
	uint64_t send_failed;          /* not queued (ring full): retried */
	uint64_t drops;                /* the scheduler's counts at the last tick */
	uint64_t late;
	uint64_t dequeued;
	uint64_t last_short_ns;        /* last tick that saw drops or late sends */
	bool shortfall;                /* its links in time cannot carry it */
	uint64_t shortfalls;           /* times it entered shortfall */
};

struct gw_fit {
	uint64_t last_ns;
	struct gw_fit_class cls[BRAID_CONFIG_MAX_CLASSES];
};

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
	struct braid_mtu *mtu;
	uint16_t inner_mtu;            /* largest inner packet every link carries */
	struct braid_sched *sched;
	struct braid_fec_enc *fec;
	struct braid_rtx *rtx;
	struct braid_arq_tx *arq_tx;    /* NACK policy, on rtx's lcore (ctrl) */
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

	/* control */
	struct rte_ring *ctrl_ring;    /* NACKs from link health */
	struct rte_ring *punt_ring;    /* ARP / ICMP from classify and decap */
	struct gw_ctrl *ctrl;

	/* crypto (crypto.psk_file set): seal after encap, open before
	 * rx_decap, the handshake on ctrl */
	bool crypto_on;
	struct braid_crypto_dev crypto_dev;
	struct braid_crypto_seal *seal;
	struct braid_crypto_open *open;
	struct rte_ring *hello_ring;   /* HELLOs from open to ctrl */
	struct gw_hello *hello;
	unsigned int seal_stage, open_stage;   /* runner indexes */
	struct braid_arp *arp;          /* owned by the ctrl stage's lcore */
	struct gw_dhcp *dhcp;           /* "dhcp" link ports' clients, on ctrl (NULL: none) */
	/* Each link's address and next hop in force: the config's, or a
	 * dhcp port's lease (0: none yet). Written on the ctrl lcore;
	 * link_local_ip is read by management (atomics). */
	uint32_t link_local_ip[BRAID_CONFIG_MAX_LINKS];
	uint32_t link_next_hop[BRAID_CONFIG_MAX_LINKS];

	struct gw_fec_auto fec_auto;   /* "fec": "auto" classes (gw_fec_auto.c) */
	struct gw_fit fit;             /* links in time per class (gw_fit.c) */
	/* Each class's deadline in force (ns, gw_class_deadline_ns() of the
	 * running configuration): written by management after a live change,
	 * read by the main hook (atomics). */
	uint64_t deadline_ns[BRAID_CONFIG_MAX_CLASSES];

	struct braid_runner *runner;
	unsigned int stage_id[GW_CMD_STAGES];   /* runner index, by enum gw_cmd_stage */
	struct braid_stats_console *console;
	pthread_t console_thread;      /* prints it (gw_run.c), not an lcore */
	uint32_t console_stop;         /* atomic */
	bool console_running;
	struct gw_mgmt *mgmt;          /* management server, running config (gw_mgmt_priv.h) */
	uint64_t duration_ns;          /* 0 = run until stopped */
	uint64_t started_ns;
};

/* Stage ops defined by the gateway. */
extern const struct braid_stage_ops gw_encap_stage_ops;

/* Link health -> scheduler (braid_link_change_fn). */
void gw_link_changed(void *arg, uint16_t link, enum braid_link_state state,
		     uint64_t usable_kbps);
extern const struct braid_stage_ops gw_ctrl_stage_ops;

/* Live changes (gw_diff.c): whether a changed document path is a live
 * setting (@p norm: the path to report, objects folded), or a member of
 * links[i] / classes[i] is; @p x with every
 * live setting of @p cur; the commands that turn @p cur into @p next
 * (-ERANGE: a FEC ratio the scheduler cannot take live, -ENOSPC); queue
 * them all or none (braid_runner_cmd_send_all()). */
bool gw_diff_path_is_live(const char *path, char *norm, size_t len);
bool gw_diff_live_key(bool of_class, const char *key);  /* member of links[i] / classes[i] */
void gw_diff_keep_live(struct braid_config *x, const struct braid_config *cur);
int gw_diff_commands(const struct braid_gateway *gw, const struct braid_config *cur,
		     const struct braid_config *next, struct gw_cmd_batch *batch);
int gw_cmd_batch_send(struct braid_gateway *gw, const struct gw_cmd_batch *batch);

/* The scheduler's link policy of a configured class (and its link mask). */
enum braid_sched_policy gw_sched_policy(const struct braid_config_class *c,
					uint32_t *link_mask);

/* The console thread wakes this often to see whether a table is due. */
#define GW_CONSOLE_POLL_US 10000

/* Main-lcore periodic work: --duration, links in time, automatic FEC. */
void gw_main_hook(void *arg, uint64_t now_ns);

/* Links in time (gw_fit.c): every class may use every link at start;
 * one decision per class every 250 ms (main hook, before automatic FEC,
 * which reads the mask); a class's state for management. */
void gw_fit_init(struct braid_gateway *gw);
void gw_fit_tick(struct braid_gateway *gw, uint64_t now_ns);
const struct gw_fit_class *gw_fit_class(const struct braid_gateway *gw, uint16_t k);

/* "fec": "auto" (gw_fec_auto.c): state from the configuration; one
 * decision per class every 250 ms (main hook); a class's controller
 * (NULL: not automatic), read by management (ctl.cur: the shape in use). */
void gw_fec_auto_init(struct braid_gateway *gw);
void gw_fec_auto_tick(struct braid_gateway *gw, uint64_t now_ns);
const struct gw_fec_auto_class *gw_fec_auto_class(const struct braid_gateway *gw,
						  uint16_t k);
/* What class @p k of @p n may fill of @p capacity_kbps when the others
 * send @p total_kbps (data and parity): the priority class @p prio (-1:
 * none) takes all it sends; each other class that sends takes what it
 * sends up to its DRR share of the rest (@p weight), the share of the
 * classes that send nothing is k's. */
double gw_fec_auto_room_kbps(double capacity_kbps, uint16_t k, uint16_t n,
			     const double *total_kbps, const uint32_t *weight, int prio);

struct gw_ctrl *gw_ctrl_create(struct braid_gateway *gw);
/* Shutdown: free what the control path still holds (pending packets). */
void gw_ctrl_release(struct gw_ctrl *c);
void gw_ctrl_free(struct gw_ctrl *c);

/* A UDP datagram the control stage sends whole on a link's port
 * (HELLOs, DHCP): addresses and ports in network byte order. */
struct gw_udp_frame {
	uint16_t link;                 /* leaves by this link's port (link_tx routes by link) */
	struct rte_ether_addr dst_mac;
	rte_be32_t src_ip, dst_ip;
	rte_be16_t src_port, dst_port;
	bool df;                       /* IPv4 don't-fragment */
	bool udp_cksum;                /* else 0 (a payload that authenticates itself) */
};
/* Its Ethernet, IPv4 and UDP headers in a new mbuf (gw_ctrl.c), around
 * @p len payload bytes the caller writes at the returned pointer; then
 * gw_udp_frame_send() adds the checksums and queues it on link_inject.
 * @return the payload (*m set), or NULL (no mbuf). */
uint8_t *gw_udp_frame_start(struct braid_gateway *gw, const struct gw_udp_frame *f,
			    uint16_t len, struct rte_mbuf **m);
/* @return 0, or -ENOBUFS (ring full: @p m freed). */
int gw_udp_frame_send(struct braid_gateway *gw, const struct gw_udp_frame *f, struct rte_mbuf *m);

/* Link @p l now sends from @p ip (0: it has none) through next hop
 * @p hop (gw_ctrl.c; on the ctrl lcore): encap, rx_decap and the
 * next-hop tracking follow. */
void gw_link_address_set(struct braid_gateway *gw, uint16_t l, uint32_t ip, uint32_t hop);

static inline uint32_t
gw_link_local_ip(const struct braid_gateway *gw, uint16_t l)
{
	return __atomic_load_n(&gw->link_local_ip[l], __ATOMIC_RELAXED);
}

/* DHCP ports (gw_dhcp.c), run by the control stage: a client for every
 * port with "ipv4": "dhcp" and a link (the object holds none when the
 * config has none); a punted frame that is a DHCP reply is taken (and
 * freed: true); timers and retransmissions. */
struct gw_dhcp;
struct gw_dhcp *gw_dhcp_create(struct braid_gateway *gw);
void gw_dhcp_free(struct gw_dhcp *d);
bool gw_dhcp_input(struct gw_dhcp *d, struct rte_mbuf *m, uint64_t now_ns);
unsigned int gw_dhcp_poll(struct gw_dhcp *d, uint64_t now_ns);
void gw_dhcp_stats(const struct gw_dhcp *d, braid_stat_fn fn, void *arg);
/* What management shows of a DHCP port. */
struct gw_dhcp_view {
	enum braid_dhcp_state state;
	struct braid_dhcp_lease lease;    /* ip 0: none; times braid_now_ns()'s */
	uint64_t leases, renewals, leases_lost, naks;
};
/* DHCP ports; the view of port @p i (0..gw_dhcp_ports()-1) and its
 * config index in @p port. Any thread. @return 0 or -ENOENT. */
uint16_t gw_dhcp_ports(const struct gw_dhcp *d);
int gw_dhcp_view(const struct gw_dhcp *d, uint16_t i, uint16_t *port, struct gw_dhcp_view *v);

/* The handshake (gw_hello.c), run by the control stage. */
struct gw_hello;
struct gw_hello *gw_hello_create(struct braid_gateway *gw, const uint8_t psk[32]);
void gw_hello_free(struct gw_hello *g);
unsigned int gw_hello_poll(struct gw_hello *g, uint64_t now_ns);
void gw_hello_stats(const struct gw_hello *g, braid_stat_fn fn, void *arg);
/* Is a peer session keyed (its id in @p peer_session)? Any thread. */
bool gw_hello_established(const struct gw_hello *g, uint32_t *peer_session);
/* The peer a learning link sends to now, if one is known. Any thread
 * (ip and port may be torn across a move: display only). */
bool gw_hello_peer(const struct gw_hello *g, uint16_t link, uint32_t *ip, uint16_t *port);
/* Did a HELLO fail its MAC in the last 10 s (@p now_ns: braid_now_ns())?
 * Any thread. */
bool gw_hello_auth_failing(const struct gw_hello *g, uint64_t now_ns);

/* The longest a class's packet waits for a gap at the receiver: its ARQ
 * deadline, or the configured reorder window (gw_build.c). */
uint64_t gw_class_deadline_ns(const struct braid_config *c, unsigned int k);
/* The deadline of class @p k in force now (follows live changes). */
static inline uint64_t
gw_class_deadline_now(const struct braid_gateway *gw, unsigned int k)
{
	return __atomic_load_n(&gw->deadline_ns[k], __ATOMIC_RELAXED);
}
/* Publish the deadlines of @p c (at build, after a live change). */
void gw_class_deadlines_set(struct braid_gateway *gw, const struct braid_config *c);

/* What an Ethernet frame costs on the wire beyond its bytes: preamble
 * and SFD (8), FCS (4), inter-frame gap (12), as rte_sched's default
 * frame overhead. The scheduler charges each packet as its tunnel frame
 * plus this, so a link's configured rate holds on the wire. */
#define GW_ETHER_L1_OVERHEAD 24

/* Bytes a tunnel frame has beyond its inner packet (with the crypto
 * stage's counter and tag when it runs). The scheduler charges a packet
 * this plus Ethernet's framing (the automatic FEC charges the same). */
static inline uint32_t
gw_frame_overhead(const struct braid_gateway *gw)
{
	return BRAID_WIRE_OVERHEAD + (gw->crypto_on ? BRAID_CRYPTO_OVERHEAD : 0);
}

/* Longest automatic FEC block timeout. */
#define GW_FEC_TIMEOUT_MAX_NS 50000000ULL

/* The encoder's FEC policy of class @p k (gw_build.c). */
void gw_fec_shape(const struct braid_config *c, unsigned int k,
		  struct braid_fec_class_conf *out);

/* Scheduler weight factor (per mille) of a link of configured weight
 * 1..1000: the weight itself, so the configured weights keep their ratio
 * (the scheduler's link quanta are capacity x factor). */
static inline uint16_t
gw_link_factor(uint16_t weight)
{
	return (uint16_t)RTE_MAX(RTE_MIN(weight, (uint16_t)1000), (uint16_t)1);
}

/* Management (gw_mgmt.c; its other files, gw_rpc.c gw_live.c gw_save.c
 * gw_metrics.c, share gw_mgmt_priv.h): create and start the server when
 * the conf and the config ask for it (0 without: nothing to do); stop
 * serving before the chains drain; free; after the main lcore's loop,
 * report a client's shutdown request to conf->on_shutdown. */
int gw_mgmt_create(struct braid_gateway *gw, const struct braid_gateway_conf *conf,
		   char *err, size_t errlen);
void gw_mgmt_stop(struct braid_gateway *gw);
void gw_mgmt_free(struct braid_gateway *gw);
void gw_mgmt_after_run(struct braid_gateway *gw);

/* DPDK object name "<gw>_<what>". */
void gw_objname(const struct braid_gateway *gw, const char *what, char *buf,
		size_t len);

#endif /* BRAID_GW_PRIV_H */
