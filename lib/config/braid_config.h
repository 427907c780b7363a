/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CONFIG_H
#define BRAID_CONFIG_H

/**
 * @file
 * braid's configuration: one JSON document per gateway (doc/config.md).
 *
 * The loader validates strictly: unknown keys, wrong types, out-of-range
 * values, duplicate names and dangling references are each an error that
 * names the JSON path ("$.classes[2].fec.k") and the reason. Up to
 * BRAID_CONFIG_MAX_ERRORS errors are collected, in document order.
 *
 * struct braid_config is a plain, fully typed struct the rest of the
 * engine reads directly: fixed-size arrays, names as C strings, addresses
 * and UDP ports in host byte order, references resolved to indices. It
 * holds no pointers, so two configs compare with memcmp() (the loader
 * zeroes the struct, padding included, before filling it).
 *
 * Loading needs no EAL: the daemon may validate its configuration before
 * rte_eal_init(), and so may a CLI tool or a fuzzer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <rte_ether.h>

#define BRAID_CONFIG_NAME_LEN    32    /**< names: 1..31 chars + NUL */
#define BRAID_CONFIG_DEVICE_LEN  256   /**< device string incl. devargs */
#define BRAID_CONFIG_FILE_LEN    256   /**< file paths (token_file) */
#define BRAID_CONFIG_MAX_PORTS   16
#define BRAID_CONFIG_MAX_LINKS   16
#define BRAID_CONFIG_MAX_CLASSES 16
#define BRAID_CONFIG_MAX_RULES   4096  /**< match rules, all classes together */
#define BRAID_CONFIG_MAX_ERRORS  16
#define BRAID_CONFIG_FEC_MAX_K   32    /**< data packets per FEC block */
#define BRAID_CONFIG_FEC_MAX_M   16    /**< parity packets per FEC block */
#define BRAID_CONFIG_FEC_MAX_N   48    /**< k + m */
/** "fec": "auto": default ceiling of parity per data packet, percent. */
#define BRAID_CONFIG_FEC_AUTO_OVERHEAD_PCT 25

/** Canonical pipeline stages, in braid_stage_names[] order. */
enum braid_stage_id {
	BRAID_STAGE_LAN_RX,
	BRAID_STAGE_CLASSIFY,
	BRAID_STAGE_SCHED,
	BRAID_STAGE_FEC,
	BRAID_STAGE_RTX,
	BRAID_STAGE_LINK_TX,
	BRAID_STAGE_LINK_RX,
	BRAID_STAGE_RX_DECAP,
	BRAID_STAGE_FEC_DECODE,
	BRAID_STAGE_REORDER,
	BRAID_STAGE_LAN_TX,
	BRAID_STAGE_COUNT
};

/** Stage names as written in "lcores.map": "lan_rx", ...; NULL-terminated. */
extern const char *const braid_stage_names[];

enum braid_port_role {
	BRAID_PORT_ROLE_LAN,   /**< faces the LAN: traffic to carry */
	BRAID_PORT_ROLE_LINK,  /**< carries WAN links (UDP tunnel) */
};

enum braid_link_policy {
	BRAID_POLICY_STRIPE,     /**< spread packets over the links */
	BRAID_POLICY_DUPLICATE,  /**< send each packet on `copies` links */
	BRAID_POLICY_PIN,        /**< only the listed links, in that order */
};

struct braid_config_mempool {
	uint32_t mbufs;       /**< mbufs in the pool */
	uint32_t cache;       /**< per-lcore cache size */
	uint32_t data_room;   /**< data room per mbuf, headroom included */
};

struct braid_config_port {
	char name[BRAID_CONFIG_NAME_LEN];
	enum braid_port_role role;
	char profile[BRAID_CONFIG_NAME_LEN];  /**< drivers-cfg/<profile>.json */
	/** vdev name ("net_ring0,devarg=x") or PCI address ("0000:01:00.0"). */
	char device[BRAID_CONFIG_DEVICE_LEN];
	bool has_mac;                 /**< false: the device's own MAC */
	struct rte_ether_addr mac;
	bool has_ipv4;                /**< a static address (link ports: or dhcp) */
	/** "ipv4": "dhcp" (link ports): the address, prefix and router come
	 * from a DHCP server on the port (lib/dhcp); ipv4 and prefix are 0. */
	bool dhcp;
	uint32_t ipv4;                /**< host byte order */
	uint8_t prefix;               /**< 1..32 */
	uint16_t mtu;                 /**< 0: the profile's */
};

struct braid_config_link {
	char name[BRAID_CONFIG_NAME_LEN];
	uint16_t port;                /**< index in ports[], a link port */
	uint32_t local_ip;            /**< == ports[port].ipv4; 0 on a dhcp port */
	uint16_t local_port;          /**< UDP */
	uint32_t peer_ip;             /**< 0 with learn_peer */
	uint16_t peer_port;           /**< 0: any source port (peer behind NAT) */
	/** "peer": "learn": the peer's endpoint is learned from the frames
	 * that authenticate on this link (needs crypto.psk_file). */
	bool learn_peer;
	/** Resolved next hop: as configured, else the peer (on-link); on a
	 * dhcp port 0 unless configured (the lease's router, or the peer
	 * when the lease puts it on-link). */
	uint32_t next_hop;
	bool has_next_hop_mac;        /**< static ARP entry for next_hop */
	struct rte_ether_addr next_hop_mac;
	uint32_t capacity_kbps;
	uint16_t weight;
	bool admin_up;
	bool backup;                  /**< used only when no primary is up */
};

struct braid_config_class {
	char name[BRAID_CONFIG_NAME_LEN];
	uint16_t weight;              /**< DWRR weight */
	bool priority;                /**< strict priority (at most one class) */
	uint32_t rate_cap_kbps;       /**< 0: no cap; > 0 when priority */
	uint32_t queue_packets;
	bool fec_enabled;
	uint8_t fec_k;                /**< 0 when FEC is off; auto: the start */
	uint8_t fec_m;
	bool fec_auto;                /**< "fec": "auto": braid picks (k, m) */
	uint8_t fec_max_overhead_pct; /**< auto: m / k at most, 1..100 */
	bool arq_enabled;
	uint32_t arq_deadline_ms;
	enum braid_link_policy policy;
	uint8_t copies;               /**< DUPLICATE only, else 0 */
	uint8_t n_pin;                /**< PIN only, else 0 */
	uint8_t pin[BRAID_CONFIG_MAX_LINKS];  /**< link indices, in order */
	uint32_t rule_first;          /**< this class's rules[] slice */
	uint32_t rule_count;
};

/** One classification rule. Absent fields match anything. */
struct braid_config_rule {
	uint16_t class_idx;
	uint16_t priority;            /**< higher wins */
	uint32_t src_ip;              /**< masked: host bits are zero */
	uint8_t src_prefix;           /**< 0 = any */
	uint8_t dst_prefix;
	uint32_t dst_ip;
	bool has_proto;
	uint8_t proto;
	bool has_dscp;
	uint8_t dscp;
	uint16_t src_port_lo;         /**< 0..65535 when absent */
	uint16_t src_port_hi;
	uint16_t dst_port_lo;
	uint16_t dst_port_hi;
	bool has_in_port;
	uint16_t in_port;             /**< index in ports[], a LAN port */
};

struct braid_config_fec {
	uint32_t block_timeout_us;
};

struct braid_config_retransmit {
	uint32_t window_ms;
	uint32_t max_packets;
};

struct braid_config_reorder {
	uint32_t window_ms;           /**< 0: auto from measured delay spread */
	uint32_t max_packets;
};

struct braid_config_health {
	uint32_t probe_interval_ms;
	uint32_t down_after_probes;
	uint32_t up_hold_ms;
	uint32_t silence_gaps;
	uint32_t silence_min_ms;
};

struct braid_config_tx {
	uint32_t drain_us;
};

struct braid_config_lcore_map {
	uint16_t lcore;
	uint8_t n_stages;
	uint8_t stages[BRAID_STAGE_COUNT];   /**< enum braid_stage_id, in order */
};

/** lcores.power_mgmt: DPDK PMD power management of the RX queues (the
 * values of enum rte_power_pmd_mgmt_type; 0 = off). */
enum braid_config_pm {
	BRAID_CONFIG_PM_OFF = 0,
	BRAID_CONFIG_PM_MONITOR,
	BRAID_CONFIG_PM_PAUSE,
	BRAID_CONFIG_PM_SCALE,
};

/** "off", "monitor", "pause", "scale", NULL: enum braid_config_pm order. */
extern const char *const braid_config_pm_names[];

struct braid_config_lcores {
	uint32_t ring_size;
	uint32_t idle_polls;
	uint32_t idle_sleep_max_us;
	uint8_t power_mgmt;                  /**< enum braid_config_pm */
	uint8_t n_map;
	struct braid_config_lcore_map map[BRAID_STAGE_COUNT];
	uint16_t stage_lcore[BRAID_STAGE_COUNT];  /**< derived from map[] */
};

struct braid_config_mgmt {
	bool enabled;
	uint32_t address;             /**< IPv4, host byte order */
	uint16_t port;
	char token_file[BRAID_CONFIG_FILE_LEN];  /**< "" = no token */
	uint32_t max_clients;
	uint32_t max_request_bytes;
	uint32_t idle_timeout_s;      /**< 0: never */
	uint16_t metrics_port;        /**< 0: no Prometheus endpoint */
	/** JSON-RPC on this Unix socket (mode 0600) instead of address:port;
	 * "" = TCP. Default /run/braid/<name>.sock when neither token_file,
	 * address nor port is given. */
	char unix_path[108];
	/** config.save writes only inside this directory; "" = the
	 * directory of the file braid was started with. */
	char save_dir[BRAID_CONFIG_FILE_LEN];
};

/** What happens to LAN packets larger than the tunnel carries (lib/mtu). */
struct braid_config_mtu {
	bool clamp_mss;               /**< clamp TCP SYNs' MSS option */
	uint32_t icmp_per_s;          /**< "fragmentation needed" answers per second */
};

/** The tunnel's encryption (lib/crypto, doc/security.md). */
struct braid_config_crypto {
	char psk_file[BRAID_CONFIG_FILE_LEN];  /**< "" = the tunnel runs in clear */
	char device[64];              /**< "auto", a cryptodev name or vdev driver */
	uint32_t rekey_s;             /**< next key epoch after this long */
	uint32_t rekey_mb;            /**< ... or after this many MiB sent */
};

struct braid_config_stats {
	bool console;
	uint32_t interval_ms;
};

/** A gateway's whole configuration. */
struct braid_config {
	char name[BRAID_CONFIG_NAME_LEN];
	struct braid_config_mempool mempool;
	uint16_t n_ports;
	uint16_t n_links;
	uint16_t n_classes;
	uint16_t default_class;       /**< index in classes[] */
	struct braid_config_port ports[BRAID_CONFIG_MAX_PORTS];
	struct braid_config_link links[BRAID_CONFIG_MAX_LINKS];
	struct braid_config_class classes[BRAID_CONFIG_MAX_CLASSES];
	struct braid_config_fec fec;
	struct braid_config_retransmit retransmit;
	struct braid_config_reorder reorder;
	struct braid_config_health health;
	struct braid_config_tx tx;
	struct braid_config_lcores lcores;
	struct braid_config_mgmt management;
	struct braid_config_crypto crypto;
	struct braid_config_mtu mtu;
	struct braid_config_stats stats;
	uint32_t n_rules;
	struct braid_config_rule rules[BRAID_CONFIG_MAX_RULES];
};

/** One validation error: where and why. */
struct braid_config_error {
	char path[160];   /**< JSON path, always starts with '$' */
	char msg[256];
};

/** Errors of one load, in document order. */
struct braid_config_errors {
	unsigned int n;       /**< entries filled in e[] */
	unsigned int total;   /**< errors found (> n when some were left out) */
	struct braid_config_error e[BRAID_CONFIG_MAX_ERRORS];
};

/**
 * Parse and validate the JSON file @p path.
 *
 * @param path file to read (at most 16 MiB).
 * @param errs filled with the errors (n = 0 on success); may be NULL.
 * @return a new config (free with braid_config_free()), or NULL with
 *   rte_errno set: EINVAL invalid document, ENOMEM, or the errno of a
 *   failed open/read (the error entry then has path "$").
 */
struct braid_config *braid_config_load_file(const char *path,
					    struct braid_config_errors *errs);

/**
 * Parse and validate a NUL-terminated JSON document.
 * @return as braid_config_load_file() (EINVAL or ENOMEM).
 */
struct braid_config *braid_config_load_string(const char *json,
					      struct braid_config_errors *errs);

/**
 * Parse and validate @p len bytes of JSON text (need not be
 * NUL-terminated; a NUL byte inside is an error).
 * @return as braid_config_load_file() (EINVAL or ENOMEM).
 */
struct braid_config *braid_config_load_buffer(const char *buf, size_t len,
					      struct braid_config_errors *errs);

/**
 * Validate an already parsed document (e.g. from the management port).
 * @p root is not modified nor kept.
 * @return as braid_config_load_file() (EINVAL or ENOMEM).
 */
struct braid_config *braid_config_load_json(const json_t *root,
					    struct braid_config_errors *errs);

/**
 * The embedded default configuration (virtual devices only), as JSON text.
 * @return a static string; it always loads when no profile directory is
 *   set, and with one that holds the net_ring profile.
 */
const char *braid_config_default_json(void);

/**
 * Render @p c as a complete JSON document, every field explicit (defaults
 * included). Loading the result gives a config equal to @p c.
 * @return a new reference (json_decref() it), or NULL with rte_errno
 *   (EINVAL for a NULL @p c, ENOMEM).
 */
json_t *braid_config_to_json(const struct braid_config *c);

/** Free a config from a load function. NULL is a no-op. */
void braid_config_free(struct braid_config *c);

/**
 * Print one "path: message" line per error to @p f, and a last line when
 * some were left out.
 */
void braid_config_errors_print(const struct braid_config_errors *errs,
			       FILE *f);

/**
 * Set the directory that must hold a "<profile>.json" for every port's
 * profile; loads fail with an error on the port otherwise. Process-wide:
 * call it at start-up, before loading (not thread-safe against loads).
 *
 * @param dir directory, or NULL to stop checking profiles (the default).
 * @return 0, -EINVAL for an empty string, -ENAMETOOLONG.
 */
int braid_config_set_profile_dir(const char *dir);

/**
 * Index of the port named @p name.
 * @return index, -ENOENT if none, -EINVAL for NULL arguments.
 */
int braid_config_find_port(const struct braid_config *c, const char *name);

/** Index of the link named @p name; as braid_config_find_port(). */
int braid_config_find_link(const struct braid_config *c, const char *name);

/** Index of the class named @p name; as braid_config_find_port(). */
int braid_config_find_class(const struct braid_config *c, const char *name);

/**
 * Stage id of @p name ("lan_rx", ...).
 * @return enum braid_stage_id value, -ENOENT if unknown, -EINVAL for NULL.
 */
int braid_config_stage_id(const char *name);

#endif /* BRAID_CONFIG_H */
