/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CLASSIFY_H
#define BRAID_CLASSIFY_H

/**
 * @file
 * Multi-field classification of LAN frames into traffic classes (sender
 * pipeline stage 2), built on rte_acl.
 *
 * The stage parses Ethernet (+ one 802.1Q tag) and IPv4, validates the
 * IPv4 header, trims Ethernet padding, builds a small key per packet
 * (struct braid_classify_key), classifies the whole burst with one
 * rte_acl_classify() call, writes braid_meta(m)->class_id and strips the
 * Ethernet header: from here on the mbuf data is the inner IPv4 packet.
 * Non-IPv4 frames go, unstripped, to an optional punt ring (the control
 * path: ARP, IPv6 ND, LLDP...) or are counted drops.
 *
 * Rule semantics (see doc/classify.md): a packet matches a rule when every
 * field matches; among matching rules the highest priority wins, equal
 * priorities go to the lower rule index; no match gives the default class.
 * Packets without known L4 ports (protocols other than TCP/UDP/SCTP,
 * non-first fragments, first fragments too short to hold the ports) match
 * only rules whose port ranges are both 0..65535.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_stage.h"

struct braid_classify;
struct rte_ring;

/** Largest rule set braid_classify_create() accepts. */
#define BRAID_CLASSIFY_MAX_RULES 16384
/** Largest number of traffic classes. */
#define BRAID_CLASSIFY_MAX_CLASSES 64
/** Rule class_id that sends matching IPv4 frames to the punt ring
 * (unstripped) instead of the data path, e.g. ICMP or BFD addressed to
 * the gateway itself. Needs a punt ring. */
#define BRAID_CLASSIFY_PUNT 0xfffe
/** Rule index reported when no rule matches. */
#define BRAID_CLASSIFY_NO_MATCH UINT32_MAX
/** rte_acl run-time memory budget when the conf gives none: with a budget
 * rte_acl starts from large tries and splits them only when the budget is
 * exceeded (a 4096-rule set of overlapping prefixes and port ranges takes
 * ~50 MB, most real sets far less). */
#define BRAID_CLASSIFY_ACL_MAX_SIZE_DEFAULT ((size_t)128 << 20)
/** Longest context name, without the terminating NUL. */
#define BRAID_CLASSIFY_NAMESIZE (RTE_ACL_NAMESIZE - 1)

/** One classification rule. Addresses and ports are in host byte order. */
struct braid_classify_rule {
	uint32_t src_ip;        /**< source prefix */
	uint32_t dst_ip;        /**< destination prefix */
	uint8_t src_mask_len;   /**< 0..32, 0 = any source */
	uint8_t dst_mask_len;   /**< 0..32, 0 = any destination */
	uint8_t proto;          /**< IP protocol, 0 = any */
	uint16_t sport_lo;      /**< source port range, inclusive */
	uint16_t sport_hi;
	uint16_t dport_lo;      /**< destination port range, inclusive */
	uint16_t dport_hi;
	int16_t dscp;           /**< 0..63, -1 = any */
	int32_t in_port;        /**< ingress ethdev port 0..65535, -1 = any */
	uint32_t priority;      /**< larger wins; ties go to the lower index */
	uint16_t class_id;      /**< < n_classes, or BRAID_CLASSIFY_PUNT */
};

/** Flag in braid_classify_key.flags: the packet has no usable L4 ports. */
#define BRAID_CLASSIFY_KEY_F_NO_PORTS 0x01

/**
 * The per-packet lookup key, laid out as rte_acl reads it: one byte
 * (proto), then groups of four bytes. All multi-byte fields are in network
 * byte order, as in the packet. When F_NO_PORTS is set the ports are 0.
 */
struct braid_classify_key {
	uint8_t proto;
	uint8_t reserved[3];    /**< zero */
	rte_be32_t src_ip;
	rte_be32_t dst_ip;
	rte_be16_t sport;
	rte_be16_t dport;
	uint8_t dscp;           /**< 0..63 */
	uint8_t flags;          /**< BRAID_CLASSIFY_KEY_F_* */
	rte_be16_t in_port;
};

/** Configuration of one classify instance. */
struct braid_classify_conf {
	/** Unique name (<= BRAID_CLASSIFY_NAMESIZE chars); names the rte_acl
	 * context. */
	const char *name;
	const struct braid_classify_rule *rules; /**< may be NULL if n_rules 0 */
	uint32_t n_rules;       /**< <= BRAID_CLASSIFY_MAX_RULES */
	uint16_t n_classes;     /**< 1..BRAID_CLASSIFY_MAX_CLASSES */
	uint16_t default_class; /**< class of packets no rule matches */
	/** Where non-IPv4 frames (and PUNT-rule matches) go, unstripped.
	 * NULL: they are dropped under drop_not_ipv4. The stage enqueues
	 * from its own lcore: single-producer unless others share it. */
	struct rte_ring *punt_ring;
	/** rte_acl implementation, RTE_ACL_CLASSIFY_DEFAULT = the best the
	 * CPU and EAL's max SIMD bitwidth allow. */
	enum rte_acl_classify_alg acl_alg;
	/** Limit on the rte_acl run-time structures in bytes, 0 =
	 * BRAID_CLASSIFY_ACL_MAX_SIZE_DEFAULT. A set that does not fit even
	 * when split into rte_acl's 8 tries fails with ENOMEM. */
	size_t acl_max_size;
	/** Verify the IPv4 header checksum in software when the NIC did not
	 * report it good. A NIC-reported bad checksum is always dropped. */
	bool sw_ip_cksum;
};

/**
 * Validate @p conf, build the rte_acl context and allocate the stage.
 * Errors are logged with the offending rule index.
 *
 * @param conf    rules are copied; conf need not outlive the call.
 * @param socket  NUMA socket for the context (SOCKET_ID_ANY allowed).
 * @return the instance, or NULL with rte_errno: EINVAL (bad conf), EEXIST
 *   (an rte_acl context of that name exists), ENOMEM, ENOTSUP (acl_alg
 *   not supported on this CPU / SIMD bitwidth).
 */
struct braid_classify *braid_classify_create(const struct braid_classify_conf *conf,
					     int socket);

/** Free @p cl and its rte_acl context. NULL is a no-op. */
void braid_classify_free(struct braid_classify *cl);

/**
 * Select the rte_acl implementation. Control path: not while the stage
 * runs on another lcore.
 * @return 0, -EINVAL, or -ENOTSUP if the CPU or EAL's max SIMD bitwidth
 *   does not allow @p alg.
 */
int braid_classify_set_alg(struct braid_classify *cl, enum rte_acl_classify_alg alg);

/**
 * Classify prepared keys with the rte_acl context (rte_acl_classify over
 * chunks of 64 keys). Read-only on @p cl: safe from any lcore.
 *
 * @param keys     @p n key pointers.
 * @param rule_idx if not NULL: index of the winning rule, or
 *   BRAID_CLASSIFY_NO_MATCH.
 * @param class_id if not NULL: the class (BRAID_CLASSIFY_PUNT for a punt
 *   rule; the default class if no rule matched).
 * @return 0 or -EINVAL.
 */
int braid_classify_lookup(const struct braid_classify *cl,
			  const struct braid_classify_key *const keys[], uint32_t n,
			  uint32_t *rule_idx, uint16_t *class_id);

/**
 * Scalar reference: linear scan with the same semantics as the rte_acl
 * lookup (for tests and as a benchmark baseline). @p rules must be valid
 * for braid_classify_create().
 * @return index of the winning rule, or BRAID_CLASSIFY_NO_MATCH.
 */
uint32_t braid_classify_ref(const struct braid_classify_rule *rules, uint32_t n,
			    const struct braid_classify_key *key);

/**
 * Fill @p key from host-order values (helper for tests and management
 * queries). @p ports_known false sets F_NO_PORTS and zero ports.
 */
static inline void
braid_classify_key_set(struct braid_classify_key *key, uint8_t proto,
		       uint32_t src_ip, uint32_t dst_ip, bool ports_known,
		       uint16_t sport, uint16_t dport, uint8_t dscp,
		       uint16_t in_port)
{
	key->proto = proto;
	key->reserved[0] = 0;
	key->reserved[1] = 0;
	key->reserved[2] = 0;
	key->src_ip = rte_cpu_to_be_32(src_ip);
	key->dst_ip = rte_cpu_to_be_32(dst_ip);
	key->sport = ports_known ? rte_cpu_to_be_16(sport) : 0;
	key->dport = ports_known ? rte_cpu_to_be_16(dport) : 0;
	key->dscp = dscp;
	key->flags = ports_known ? 0 : BRAID_CLASSIFY_KEY_F_NO_PORTS;
	key->in_port = rte_cpu_to_be_16(in_port);
}

/**
 * The stage's burst function: classify pkts[0..n-1] (frames as received,
 * meta port_in set) and push the IPv4 ones, stripped and with meta
 * class_id set, to @p out in their original order. Every other mbuf is
 * punted or freed under a counted reason.
 */
void braid_classify_burst(struct braid_classify *cl, struct rte_mbuf **pkts,
			  uint16_t n, struct braid_burst *out);

/** Counters of the classifier (names are API: the X-macro). */
#define BRAID_CLASSIFY_COUNTERS(X) \
	X(rx_packets)          /* frames handed to the stage */ \
	X(tx_packets)          /* IPv4 packets pushed to the next stage */ \
	X(default_class_hits)  /* of those, no rule matched */ \
	X(punted)              /* non-IPv4 frames put on the punt ring */ \
	X(punted_rule)         /* IPv4 frames put there by a PUNT rule */ \
	X(fragments_no_ports)  /* non-first IPv4 fragments (ports unknown) */ \
	X(drop_runt)           /* shorter than its Ethernet/802.1Q header */ \
	X(drop_not_ipv4)       /* not IPv4 and no punt ring */ \
	X(drop_bad_ipv4)       /* version, ihl, total length, truncation */ \
	X(drop_bad_cksum)      /* IPv4 header checksum wrong */ \
	X(drop_punt_full)      /* punt ring full */ \
	X(drop_out_full)       /* output burst full */

/** The classifier's counters (braid_classify_stats()). */
struct braid_classify_stats {
	BRAID_COUNTERS_FIELDS(BRAID_CLASSIFY_COUNTERS)
};

/** Counters of one class. */
#define BRAID_CLASSIFY_CLASS_COUNTERS(X) \
	X(packets)             /* IPv4 packets given this class */

/** One class's counters (braid_classify_class_stats()). */
struct braid_classify_class_stats {
	BRAID_COUNTERS_FIELDS(BRAID_CLASSIFY_CLASS_COUNTERS)
};

/** Copy the counters to @p st (never clears). */
void braid_classify_stats(const struct braid_classify *cl,
			  struct braid_classify_stats *st);

/**
 * Copy the counters of class @p class_id to @p st (never clears).
 * @return 0 or -ENOENT.
 */
int braid_classify_class_stats(const struct braid_classify *cl,
			       uint16_t class_id,
			       struct braid_classify_class_stats *st);

/** Number of classes of @p cl (to size per-class tables). */
uint16_t braid_classify_n_classes(const struct braid_classify *cl);

/** Stage ops, kind "classify": process = braid_classify_burst on a
 * struct braid_classify context; stats reports BRAID_CLASSIFY_COUNTERS, then
 * BRAID_CLASSIFY_CLASS_COUNTERS of each class, labelled with the class. */
extern const struct braid_stage_ops braid_classify_stage_ops;

#endif /* BRAID_CLASSIFY_H */
