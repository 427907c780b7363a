/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TRAFFIC_STATS_H
#define BRAID_TRAFFIC_STATS_H

/**
 * @file
 * braid-traffic receive statistics and the stream's wire format. Pure code
 * (times are arguments), so the unit suite checks it against references.
 *
 * Wire format of a UDP payload (big endian), TRAFFIC_HDR_LEN bytes then
 * padding byte i (counted from the payload start) = (seq * 131 + i) & 0xff:
 *   0 u32 magic TRAFFIC_MAGIC     4 u8 version (1)   5 u8 type (0 data, 1 end)
 *   6 u16 header length           8 u32 stream id    12 u32 reserved (0)
 *  16 u64 seq (data: 0, 1, ...; end: marker index)
 *  24 u64 send time, CLOCK_MONOTONIC ns
 *  32 u64 data: payload size; end: number of data packets sent
 *
 * Definitions used by the results:
 *  - received: distinct data sequence numbers seen;
 *  - duplicates: data packets whose seq was already seen;
 *  - out_of_order: distinct packets whose seq is below the highest seq
 *    seen before them (RFC 4737 "reordered");
 *  - sent: the count carried by the end markers, else highest seq + 1;
 *  - lost: sent - received (residual loss);
 *  - latency: recv - send of each distinct packet; percentiles are exact
 *    nearest-rank values over every stored sample (rank ceil(q * n));
 *  - goodput: distinct payload bits / (last - first distinct receive time).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRAFFIC_MAGIC 0x42525431u /* "BRT1" */
#define TRAFFIC_VERSION 1u
#define TRAFFIC_HDR_LEN 40u
#define TRAFFIC_TYPE_DATA 0u
#define TRAFFIC_TYPE_END 1u
/** Duplicate detection remembers the last TRAFFIC_SEQ_WINDOW sequence
 * numbers below the highest one seen (a 2 MiB ring bitmap, any 64-bit
 * seq). A data packet older than that, or jumping more than that above
 * the highest seq, is counted invalid (-ERANGE from tstats_data()). */
#define TRAFFIC_SEQ_WINDOW (1ull << 24)

/** Decoded header. */
struct traffic_hdr {
	uint8_t type;
	uint32_t stream_id;
	uint64_t seq;
	uint64_t send_ns;
	uint64_t value; /**< data: payload size; end: data packets sent */
};

/** Final figures of one stream (see the file comment for definitions). */
struct tstats_result {
	uint64_t sent;
	bool end_seen;
	uint64_t received;
	uint64_t lost;
	double loss_pct;
	uint64_t duplicates;
	uint64_t out_of_order;
	uint64_t max_reorder_dist; /**< largest (highest seq seen - seq) */
	uint64_t invalid;          /**< bad header, bad padding, wrong stream */
	uint64_t bytes;            /**< distinct payload bytes */
	double goodput_kbps;
	double duration_s;         /**< first to last distinct receive */
	int64_t lat_min_ns;
	int64_t lat_p50_ns;
	int64_t lat_p99_ns;
	int64_t lat_p999_ns;
	int64_t lat_max_ns;
	double lat_mean_ns;
};

struct tstats;

/**
 * Write a packet: header, then the padding pattern up to @p len.
 *
 * @param buf output buffer of at least @p len bytes.
 * @param len payload length (>= TRAFFIC_HDR_LEN).
 * @param h header fields.
 */
void traffic_encode(uint8_t *buf, size_t len, const struct traffic_hdr *h);

/**
 * Decode and check a packet (magic, version, header length, and for data
 * packets the declared size and the whole padding pattern).
 *
 * @param buf payload.
 * @param len payload length.
 * @param h out: header fields.
 * @return 0, or -EINVAL for anything malformed or corrupted.
 */
int traffic_decode(const uint8_t *buf, size_t len, struct traffic_hdr *h);

/**
 * Create a statistics accumulator.
 *
 * @param t0_ns time origin of the series (receiver start).
 * @param bin_ns series bin width (> 0), e.g. 100 ms.
 * @return the accumulator, or NULL with errno set (EINVAL, ENOMEM).
 */
struct tstats *tstats_create(uint64_t t0_ns, uint64_t bin_ns);

/**
 * Free an accumulator. NULL is accepted.
 *
 * @param s accumulator.
 */
void tstats_free(struct tstats *s);

/**
 * Account one data packet. Receive times must not decrease.
 *
 * @param s accumulator.
 * @param seq sequence number.
 * @param send_ns sender timestamp.
 * @param recv_ns receive timestamp (same clock).
 * @param bytes payload bytes.
 * @return 0, -ERANGE (seq outside the TRAFFIC_SEQ_WINDOW around the
 *         highest seq, counted invalid) or
 *         -ENOMEM (the packet is not accounted).
 */
int tstats_data(struct tstats *s, uint64_t seq, uint64_t send_ns,
		uint64_t recv_ns, uint32_t bytes);

/**
 * Account an end marker.
 *
 * @param s accumulator.
 * @param sent data packets the sender sent.
 */
void tstats_end(struct tstats *s, uint64_t sent);

/**
 * Count a packet that is not a valid data or end packet of this stream.
 *
 * @param s accumulator.
 */
void tstats_invalid(struct tstats *s);

/**
 * Compute the results (sorts a copy of the samples).
 *
 * @param s accumulator.
 * @param r out: results.
 * @return 0 or -ENOMEM.
 */
int tstats_result(const struct tstats *s, struct tstats_result *r);

/**
 * Write the time series as CSV: one line per bin from t0 to the last
 * packet: "t_s,rx_pkts,rx_bytes,lat_p50_ms,lat_max_ms" (distinct packets;
 * latency columns are NaN for empty bins).
 *
 * @param s accumulator.
 * @param f output.
 * @return 0, -ENOMEM or -EIO.
 */
int tstats_series_csv(const struct tstats *s, FILE *f);

/**
 * Nearest-rank percentile of sorted samples: the value at rank
 * ceil(q * n) (1-based), rank 1 for q == 0.
 *
 * @param sorted samples in ascending order.
 * @param n number of samples (> 0).
 * @param q quantile in [0, 1].
 * @return the percentile.
 */
int64_t tstats_percentile(const int64_t *sorted, size_t n, double q);

#endif /* BRAID_TRAFFIC_STATS_H */
