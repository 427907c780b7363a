/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_DECAP_H
#define BRAID_DECAP_H

/**
 * @file
 * Receive side of the tunnel: validate a frame from a link port, strip the
 * outer headers, fill braid_meta(m) (function braid_decap_one()), and the
 * "rx_decap" stage built on it.
 *
 * braid_decap_one() checks, in this order, and reports the first failure
 * (doc/wire-format.md lists every check): Ethernet type, IPv4 header
 * (version, IHL, total length vs data, checksum, not a fragment),
 * protocol, UDP (length = IP payload, destination port configured,
 * checksum when non-zero), braid header (magic, version, type), the link
 * (link id known, outer addresses = that link's local and peer),
 * lengths, class, FEC fields. It never writes packet bytes: on success
 * it moves data_off past the outer and braid headers and trims Ethernet
 * padding; on failure the mbuf is untouched and the caller frees it.
 *
 * After a successful decap the braid header stays in the buffer right
 * before the data: braid_decap_hdr(m) reads it (session, link_seq, tx_us)
 * until somebody prepends to the mbuf.
 *
 * The stage additionally tracks the peer's session id (a new one resets
 * the per-link views; frames of the session it replaced are dropped as
 * stale; the first data or parity frame of a session that replaced
 * another carries BRAID_META_F_SESSION, counted peer_restarts, so that
 * the receive stages after it reset their per-peer state in band, right
 * before that packet), counts per-link receive and loss from link_seq (the view probe
 * replies carry), sends control frames (nack, probe, probe_reply) to an
 * optional control ring and ARP / ICMP to an optional punt ring.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "braid_counters.h"
#include "braid_encap.h"
#include "braid_stage.h"
#include "braid_wire.h"

struct braid_decap;
struct rte_ring;

/** Outcome of braid_decap_one(). */
enum braid_decap_verdict {
	BRAID_DECAP_OK = 0,          /**< tunnel frame: stripped, meta filled */
	BRAID_DECAP_PUNT,            /**< ARP or ICMP: for the control path */
	BRAID_DECAP_DROP_SHORT,      /**< fewer bytes than a header says */
	BRAID_DECAP_DROP_HDR_SPLIT,  /**< headers not in the first segment */
	BRAID_DECAP_DROP_NOT_IPV4,   /**< other ethertype, bad version/IHL/length */
	BRAID_DECAP_DROP_BAD_CKSUM,  /**< IPv4 or (non-zero) UDP checksum */
	BRAID_DECAP_DROP_FRAGMENT,   /**< MF set or fragment offset != 0 */
	BRAID_DECAP_DROP_NOT_UDP,    /**< IPv4 protocol not UDP (nor ICMP) */
	BRAID_DECAP_DROP_BAD_UDP,    /**< UDP length or destination port */
	BRAID_DECAP_DROP_FOREIGN,    /**< unknown link or addresses not its own */
	BRAID_DECAP_DROP_BAD_MAGIC,
	BRAID_DECAP_DROP_BAD_VERSION,
	BRAID_DECAP_DROP_BAD_TYPE,   /**< unknown type or inner protocol */
	BRAID_DECAP_DROP_BAD_CLASS,  /**< class id >= n_classes */
	BRAID_DECAP_DROP_BAD_LENGTH, /**< inner/payload lengths inconsistent */
	BRAID_DECAP_DROP_BAD_FEC,    /**< k/m/index/block out of range */
	BRAID_DECAP_DROP_UNSEALED,   /**< in clear where crypto is required */
	BRAID_DECAP_DROP_SEALED,     /**< sealed or a HELLO, and this gateway has no crypto */
	BRAID_DECAP_VERDICT_MAX
};

/** What braid_decap_one() read from the braid header. */
struct braid_decap_info {
	uint32_t session_id;
	uint32_t link_seq;
	uint32_t tx_us;
	uint16_t link_id;
	uint8_t type;           /**< BRAID_PKT_* */
	uint8_t flags;          /**< BRAID_WIRE_F_* as received */
};

/** rx_decap configuration. Links use local_ip/local_port (frame
 * destination) and peer_ip/peer_port (frame source; port 0 = any, for a
 * peer behind NAT); MACs, MTU, TOS and offloads are ignored. */
struct braid_decap_conf {
	uint16_t n_links;               /**< 1..BRAID_WIRE_MAX_LINKS */
	struct braid_wire_link links[BRAID_WIRE_MAX_LINKS];
	uint16_t n_classes;             /**< class ids 0..n_classes-1 accepted */
	/** Control frames (nack, probe, probe_reply) go here; NULL: they
	 * leave the stage with the data (meta pkt_type tells them apart). */
	struct rte_ring *ctrl_ring;
	/** ARP and ICMP frames, untouched; NULL: counted drop_no_punt. */
	struct rte_ring *punt_ring;
	/** UDP datagrams to this port go to punt_ring too (68: the DHCP
	 * replies of a port addressed by DHCP); 0: none. */
	uint16_t punt_udp_port;
	/** Refuse tunnel frames without a UDP checksum (drop_bad_cksum):
	 * when the peer always sends one, a zero checksum is damage. */
	bool require_udp_cksum;
	/** Adopt a new peer session on its second frame, not its first
	 * (drop_session_unconfirmed): one damaged or forged frame cannot
	 * reset the receive state. false: the first frame switches. */
	bool confirm_session;
	/** Take braid frames only when the crypto open stage verified them
	 * (BRAID_META_F_OPENED); others are drop_unsealed. Opened frames
	 * need no UDP checksum: their tag covers more. */
	bool require_sealed;
};

/**
 * rx_decap counters. Every input frame lands in exactly one of data,
 * parity, control, punted or a drop_ counter. bytes = inner bytes passed.
 */
#define BRAID_DECAP_COUNTERS(X) \
	X(rx_packets) \
	X(data) \
	X(parity) \
	X(control) \
	X(punted) \
	X(bytes) \
	X(session_changes) \
	X(peer_restarts) \
	X(drop_short) \
	X(drop_hdr_split) \
	X(drop_not_ipv4) \
	X(drop_bad_cksum) \
	X(drop_fragment) \
	X(drop_not_udp) \
	X(drop_bad_udp) \
	X(drop_foreign) \
	X(drop_bad_magic) \
	X(drop_bad_version) \
	X(drop_bad_type) \
	X(drop_bad_class) \
	X(drop_bad_length) \
	X(drop_bad_fec) \
	X(drop_unsealed) \
	X(drop_sealed) \
	X(drop_stale_session) \
	X(drop_session_unconfirmed) \
	X(drop_ctrl_full) \
	X(drop_punt_full) \
	X(drop_no_punt) \
	X(drop_burst_full)

/** Counter snapshot of one rx_decap instance. */
struct braid_decap_stats {
	BRAID_COUNTERS_FIELDS(BRAID_DECAP_COUNTERS)
} __rte_cache_aligned;

/** The receiver's view of one link, as a probe reply reports it. */
struct braid_decap_link_view {
	uint64_t rx_packets;    /**< frames accepted on the link this session */
	uint64_t lost;          /**< expected - received (>= 0): link_seq gaps */
	uint32_t max_link_seq;  /**< highest link_seq seen */
	uint32_t session_id;    /**< peer session the view belongs to */
};

/**
 * Validate @p conf and allocate a decap instance.
 * @return the instance, or NULL with rte_errno EINVAL (no links, too
 *   many, broadcast address, zero local port, n_classes 0) or ENOMEM.
 */
struct braid_decap *braid_decap_create(const struct braid_decap_conf *conf, int socket);

/** Free @p d (NULL is a no-op). */
void braid_decap_free(struct braid_decap *d);

/**
 * Validate one frame and, if it is a braid tunnel frame, strip it. Reads
 * only the immutable part of @p d: several lcores may call it at once.
 * On BRAID_DECAP_OK: data is the payload (inner IPv4 packet, parity piece
 * or control payload), pkt_len = inner_len; meta pkt_type, flags
 * (F_RETX/F_DUP/F_PARITY), class_id, link_id, seq, block_id, block_idx,
 * fec_k, fec_m, fec_len are set (rx_ns and port_in kept); @p info (may be
 * NULL) is filled. Otherwise @p m is unchanged.
 */
enum braid_decap_verdict braid_decap_one(const struct braid_decap *d,
					 struct rte_mbuf *m,
					 struct braid_decap_info *info);

/**
 * The braid header of a frame braid_decap_one() accepted: it sits right
 * before the data in the first segment. Valid until the mbuf is
 * prepended to or freed.
 */
static inline const struct braid_hdr *
braid_decap_hdr(const struct rte_mbuf *m)
{
	return (const struct braid_hdr *)((const char *)m->buf_addr +
					  m->data_off - sizeof(struct braid_hdr));
}

/**
 * The stage's burst: decap pkts[0..n-1], apply the session rule, count
 * link views, send control and punt frames to their rings, free and count
 * drops. pkts[] is compacted: the first return-value entries are the
 * data and parity frames (and control frames when there is no ctrl ring),
 * in input order. The first data or parity frame of a new peer session
 * (not the first session) gets BRAID_META_F_SESSION (peer_restarts).
 * @return number of packets left in pkts[].
 */
uint16_t braid_decap_burst(struct braid_decap *d, struct rte_mbuf **pkts, uint16_t n);

/**
 * Make a payload braid_decap_one() accepted contiguous for the stages
 * after the tunnel (FEC decoder, reorder, LAN): a frame received as a
 * chain (virtual PMDs pass the sender's header mbuf + clone; NICs with
 * scatter RX split jumbo frames) leaves its outer headers in an empty
 * first segment, which is dropped from the chain (*@p m becomes the next
 * segment; rx flags, packet type and dynfields move with it); what is
 * still segmented is linearized (rte_pktmbuf_linearize()). Call it after
 * the last reader of braid_decap_hdr(): the header lives in the dropped
 * segment.
 * @param unchained incremented once per empty segment dropped.
 * @return 0 (contiguous, no copy), 1 (linearized), or -ENOMEM (no room
 *   to linearize: the caller still owns *@p m, frees and counts it).
 */
int braid_decap_flatten(struct rte_mbuf **m, uint64_t *unchained);

/**
 * Link @p link_id's address is now @p local_ip (host byte order; 0: it
 * has none, nothing is taken for it), as a DHCP lease changes it. Any
 * thread: the stage sees the old or the new address.
 * @return 0 or -EINVAL (bad id).
 */
int braid_decap_link_local_set(struct braid_decap *d, uint16_t link_id, uint32_t local_ip);

/** Current peer session id; @return false if none seen yet. */
bool braid_decap_session(const struct braid_decap *d, uint32_t *session_id);

/**
 * Read the view of link @p link_id (any thread; never clears).
 * @return 0 or -EINVAL.
 */
int braid_decap_link_view(const struct braid_decap *d, uint16_t link_id,
			  struct braid_decap_link_view *v);

/** Copy the counters of @p d into @p c (never clears). */
void braid_decap_stats(const struct braid_decap *d,
		       struct braid_decap_stats *c);

/** Name of @p v ("ok", "punt", or the drop counter name, e.g.
 * "drop_bad_cksum"). */
const char *braid_decap_verdict_name(enum braid_decap_verdict v);

/** Stage ops for the runner ("rx_decap"); ctx is a struct braid_decap *. */
extern const struct braid_stage_ops braid_decap_stage_ops;

#endif /* BRAID_DECAP_H */
