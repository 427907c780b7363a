/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_WIRE_H
#define BRAID_WIRE_H

/**
 * @file
 * braid's tunnel format (doc/wire-format.md is the specification): an
 * outer Ethernet / IPv4 / UDP frame, then the 40-byte braid header, then
 * the type's payload:
 *
 *   data         the inner IPv4 packet
 *   parity       one Reed-Solomon parity piece (fec_len bytes)
 *   nack         struct braid_nack_wire + bitmap words + ranges
 *   probe        struct braid_probe_wire
 *   probe_reply  struct braid_probe_reply_wire
 *
 * All multi-byte fields are big endian. Header fields sit at their natural
 * alignment relative to the start of the braid header; the header itself
 * follows 42 bytes of Ethernet/IPv4/UDP, so the structs are declared packed
 * with 2-byte alignment and must be accessed through their members.
 *
 * This header also has the wraparound-safe sequence helpers (RFC 1982
 * serial number arithmetic on 32 bits) and the builders/parsers of the
 * control payloads. The encap stage is in braid_encap.h, decap/validate
 * and the "rx_decap" stage in braid_decap.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

struct rte_mbuf;
struct rte_mempool;

/** First two bytes of every braid header. */
#define BRAID_WIRE_MAGIC   0xBA1D
/** Version this code writes and accepts. */
#define BRAID_WIRE_VERSION 1

/** Packet types: the header's type field and braid_meta(m)->pkt_type. */
#define BRAID_PKT_DATA        1 /**< an inner LAN packet */
#define BRAID_PKT_PARITY      2 /**< a Reed-Solomon parity piece */
#define BRAID_PKT_NACK        3 /**< retransmission request */
#define BRAID_PKT_PROBE       4 /**< link probe */
#define BRAID_PKT_PROBE_REPLY 5 /**< answer to a probe */
#define BRAID_PKT_TYPE_MAX    5 /**< largest type rx_decap accepts */
/** Key exchange (lib/crypto), sent in clear and authenticated by the
 * pre-shared key. Built whole by the control stage (not by encap) with
 * link_seq 0: the open stage takes it before rx_decap, so it never counts
 * in a link's loss. */
#define BRAID_PKT_HELLO       6

/** Header flags. Unknown bits are sent as zero and ignored on receive. */
#define BRAID_WIRE_F_RETX 0x01 /**< a retransmission (BRAID_META_F_RETX) */
#define BRAID_WIRE_F_DUP  0x02 /**< a duplicate copy (BRAID_META_F_DUP) */
/** Sealed by lib/crypto: an 8-byte counter follows the header, a 16-byte
 * tag ends the payload, reserved0 holds the key epoch's low 8 bits. */
#define BRAID_WIRE_F_SEALED 0x04

/** Inner protocol of data packets (an ethertype). */
#define BRAID_WIRE_PROTO_IPV4 RTE_ETHER_TYPE_IPV4

/** The braid header. 40 bytes, big endian. */
struct braid_hdr {
	rte_be16_t magic;       /**< BRAID_WIRE_MAGIC */
	uint8_t version;        /**< BRAID_WIRE_VERSION */
	uint8_t type;           /**< BRAID_PKT_* */
	uint8_t flags;          /**< BRAID_WIRE_F_* */
	uint8_t reserved0;      /**< 0 */
	rte_be16_t class_id;    /**< traffic class (data, parity, nack) */
	rte_be16_t link_id;     /**< link the frame was sent on */
	rte_be16_t inner_len;   /**< bytes of payload after this header */
	rte_be32_t session_id;  /**< sender's random id, new per start */
	rte_be32_t seq;         /**< class stream seq; parity: block's first seq */
	rte_be32_t link_seq;    /**< per-link frame counter */
	rte_be32_t tx_us;       /**< send time, engine clock in us, mod 2^32 */
	rte_be32_t block_id;    /**< FEC block of the class */
	uint8_t block_idx;      /**< 0..k-1 data, k..k+m-1 parity */
	uint8_t fec_k;          /**< data pieces of the block, 0 = FEC off */
	uint8_t fec_m;          /**< parity pieces of the block */
	uint8_t reserved1;      /**< 0 */
	rte_be16_t inner_proto; /**< data: ethertype of the payload (0x0800) */
	rte_be16_t fec_len;     /**< parity: protected (padded) length */
} __rte_packed __rte_aligned(2);

/** Outer Ethernet + IPv4 (no options) + UDP as braid sends them. */
#define BRAID_WIRE_OUTER_LEN \
	(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
/** Bytes encap adds in front of the inner packet. */
#define BRAID_WIRE_OVERHEAD (BRAID_WIRE_OUTER_LEN + sizeof(struct braid_hdr))
/** IP-level overhead (counted against the link MTU). */
#define BRAID_WIRE_IP_OVERHEAD (BRAID_WIRE_OVERHEAD - RTE_ETHER_HDR_LEN)

/** Largest link ids + 1 a stage accepts. */
#define BRAID_WIRE_MAX_LINKS 32
/** Link MTU range (outer IPv4 total length limit). */
#define BRAID_WIRE_MTU_MIN 576
#define BRAID_WIRE_MTU_MAX 9216
/** Largest k + m of a Reed-Solomon block over GF(2^8). */
#define BRAID_WIRE_FEC_MAX_N 256

/* ---- NACK payload ---- */

/** Bitmap words a NACK may carry (8 x 32 = 256 sequence numbers). */
#define BRAID_NACK_BITMAP_WORDS 8
/** Ranges a NACK may carry. */
#define BRAID_NACK_MAX_RANGES 16
/** Largest count of one range (half the sequence space). */
#define BRAID_NACK_RANGE_MAX 0x7fffffffu

/** Fixed part of a NACK payload; followed by bitmap_words big-endian
 * uint32 words, then n_ranges struct braid_nack_range_wire. */
struct braid_nack_wire {
	rte_be32_t base_seq;    /**< seq of bit 0 of word 0 */
	uint8_t bitmap_words;   /**< 0..BRAID_NACK_BITMAP_WORDS */
	uint8_t n_ranges;       /**< 0..BRAID_NACK_MAX_RANGES */
	rte_be16_t reserved;    /**< 0 */
} __rte_packed __rte_aligned(2);

/** One missing range in a NACK: seqs first .. first + count - 1. */
struct braid_nack_range_wire {
	rte_be32_t first;
	rte_be32_t count;       /**< 1..BRAID_NACK_RANGE_MAX */
} __rte_packed __rte_aligned(2);

/** Largest NACK payload. */
#define BRAID_NACK_MAX_LEN (sizeof(struct braid_nack_wire) + \
	BRAID_NACK_BITMAP_WORDS * 4 + \
	BRAID_NACK_MAX_RANGES * sizeof(struct braid_nack_range_wire))

/** A missing range in host order. */
struct braid_seq_range {
	uint32_t first;
	uint32_t count;
};

/**
 * A NACK in host order. Missing seqs are: for each set bit b of
 * bitmap[w] (bit 0 = least significant), base_seq + 32 * w + b; and every
 * seq of every range. At least one seq must be named.
 */
struct braid_nack {
	uint16_t class_id;      /**< class whose seqs are listed (header) */
	uint32_t base_seq;
	uint8_t bitmap_words;
	uint8_t n_ranges;
	uint32_t bitmap[BRAID_NACK_BITMAP_WORDS];
	struct braid_seq_range ranges[BRAID_NACK_MAX_RANGES];
};

/* ---- probe payloads ---- */

/** Probe payload, 16 bytes. */
struct braid_probe_wire {
	rte_be32_t probe_id;
	rte_be32_t reserved;    /**< 0 */
	rte_be64_t tx_ns;       /**< prober's engine clock at send */
} __rte_packed __rte_aligned(2);

/** Probe reply payload, 56 bytes. Times are ns; the replier's times are
 * on its own clock, so only differences of them mean something. */
struct braid_probe_reply_wire {
	rte_be32_t probe_id;        /**< echoed */
	rte_be32_t reserved0;       /**< 0 */
	rte_be64_t probe_tx_ns;     /**< echoed */
	rte_be64_t probe_rx_ns;     /**< replier: probe received */
	rte_be64_t reply_tx_ns;     /**< replier: reply sent */
	rte_be64_t link_rx_packets; /**< replier: frames received on the link */
	rte_be64_t link_lost;       /**< replier: link_seq gaps on the link */
	rte_be32_t link_max_seq;    /**< replier: highest link_seq seen */
	rte_be32_t link_rx_bytes;   /**< replier: frame bytes received on the
				     *   link, modulo 2^32 */
} __rte_packed __rte_aligned(2);

/** A probe in host order. */
struct braid_probe {
	uint32_t probe_id;
	uint64_t tx_ns;
};

/** A probe reply in host order. */
struct braid_probe_reply {
	uint32_t probe_id;
	uint64_t probe_tx_ns;
	uint64_t probe_rx_ns;
	uint64_t reply_tx_ns;
	uint64_t link_rx_packets;
	uint64_t link_lost;
	uint32_t link_max_seq;
	uint32_t link_rx_bytes;   /**< modulo 2^32: use differences */
};

/* ---- sequence numbers (RFC 1982, SERIAL_BITS = 32) ---- */

/**
 * Signed distance a - b between two 32-bit sequence numbers, correct
 * while the true distance is within [-2^31, 2^31 - 1]. Two numbers exactly
 * 2^31 apart are undefined in RFC 1982; here the result is INT32_MIN.
 */
static inline int32_t
braid_seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/** a precedes b (RFC 1982 "s1 < s2"). */
static inline bool
braid_seq_lt(uint32_t a, uint32_t b)
{
	return braid_seq_diff(a, b) < 0;
}

/** a precedes or equals b. */
static inline bool
braid_seq_le(uint32_t a, uint32_t b)
{
	return braid_seq_diff(a, b) <= 0;
}

/** a follows b. */
static inline bool
braid_seq_gt(uint32_t a, uint32_t b)
{
	return braid_seq_diff(a, b) > 0;
}

/** a follows or equals b. */
static inline bool
braid_seq_ge(uint32_t a, uint32_t b)
{
	return braid_seq_diff(a, b) >= 0;
}

/**
 * Extend a 32-bit sequence number to 64 bits: the value whose low 32 bits
 * are @p s and that is nearest to @p ref (|result - ref| <= 2^31). A
 * result that would be negative (s "before" the first cycle) is taken
 * from the first cycle instead, so the result is always >= 0.
 */
static inline uint64_t
braid_seq_extend(uint64_t ref, uint32_t s)
{
	int64_t d = braid_seq_diff(s, (uint32_t)ref);

	if (d < 0 && (uint64_t)-d > ref)
		return s;
	return ref + (uint64_t)d;
}

/* ---- control payload codecs ---- */

/**
 * Bytes the NACK @p nack takes on the wire (payload only).
 * @return length, or -EINVAL if @p nack is invalid (too many words or
 *   ranges, a range count of 0 or > BRAID_NACK_RANGE_MAX, nothing named).
 */
int braid_wire_nack_len(const struct braid_nack *nack);

/**
 * Write the NACK payload of @p nack into @p buf.
 * @return bytes written, -EINVAL (invalid nack), -ENOSPC (@p size short).
 */
int braid_wire_nack_encode(void *buf, size_t size, const struct braid_nack *nack);

/**
 * Validate and decode a NACK payload of exactly @p len bytes. class_id is
 * left untouched (it travels in the braid header).
 * @return 0, or -EINVAL if the payload is malformed (length inconsistent
 *   with its counts, counts out of range, a range count 0 or too large,
 *   nothing named).
 */
int braid_wire_nack_decode(const void *buf, size_t len, struct braid_nack *nack);

/**
 * Allocate from @p mp an mbuf whose data is the NACK payload of @p nack,
 * ready for the encap stage: meta zeroed, then pkt_type BRAID_PKT_NACK,
 * class_id nack->class_id, link_id @p link_id.
 * @return the mbuf, or NULL with rte_errno EINVAL (bad nack) or ENOMEM.
 */
struct rte_mbuf *braid_wire_nack_build(struct rte_mempool *mp, uint16_t link_id,
				       const struct braid_nack *nack);

/**
 * Allocate a probe mbuf (payload struct braid_probe_wire) for @p link_id;
 * meta pkt_type BRAID_PKT_PROBE, class_id 0.
 * @return the mbuf, or NULL with rte_errno ENOMEM (or EINVAL if the pool's
 *   data room is too small).
 */
struct rte_mbuf *braid_wire_probe_build(struct rte_mempool *mp, uint16_t link_id,
					const struct braid_probe *probe);

/**
 * braid_wire_probe_build() with @p len payload bytes: the 16 of the probe
 * then zeros (an MTU probe, as large as the link carries); @p len below
 * 16 builds a plain probe. NULL with rte_errno ENOMEM or EINVAL (more
 * than the pool's data room).
 */
struct rte_mbuf *braid_wire_probe_build_padded(struct rte_mempool *mp, uint16_t link_id,
					       const struct braid_probe *probe, uint16_t len);

/**
 * Allocate a probe reply mbuf for @p link_id (the link the probe came in
 * on); meta pkt_type BRAID_PKT_PROBE_REPLY, class_id 0.
 * @return the mbuf, or NULL with rte_errno ENOMEM or EINVAL.
 */
struct rte_mbuf *
braid_wire_probe_reply_build(struct rte_mempool *mp, uint16_t link_id,
			     const struct braid_probe_reply *reply);

/**
 * Decode the NACK carried by @p m after decap (data = NACK payload);
 * class_id is taken from braid_meta(m).
 * @return 0 or -EINVAL (not a NACK, or malformed).
 */
int braid_wire_nack_parse(struct rte_mbuf *m, struct braid_nack *nack);

/**
 * Decode the probe carried by @p m after decap.
 * @return 0 or -EINVAL (not a probe, or wrong length).
 */
int braid_wire_probe_parse(struct rte_mbuf *m, struct braid_probe *probe);

/**
 * Decode the probe reply carried by @p m after decap.
 * @return 0 or -EINVAL (not a probe reply, or wrong length).
 */
int braid_wire_probe_reply_parse(struct rte_mbuf *m, struct braid_probe_reply *reply);

/** Name of packet type @p type ("data", "parity", "nack", "probe",
 * "probe_reply"), "unknown" otherwise. */
const char *braid_wire_type_name(uint8_t type);

#endif /* BRAID_WIRE_H */
