/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_MGMT_FMT_H
#define BRAID_MGMT_FMT_H

/**
 * @file
 * Human-readable rendering of management results, as braidctl prints
 * them: tables from the result shapes documented in doc/management-api.md
 * and the `braidctl top` frame. Missing or mistyped fields print as "-"
 * (a newer gateway may add fields, an older one may lack some); a result
 * whose outer shape is wrong gives -EPROTO and prints nothing.
 */
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "braid_mgmt.h"

/** Metric families `braidctl top` sums for its recovery line and shows
 * per class (repaired by FEC, by ARQ, or lost). */
#define BRAID_MGMT_TOP_FEC_METRIC "braid_fec_recovered_packets_total"
#define BRAID_MGMT_TOP_ARQ_METRIC "braid_arq_recovered_packets_total"
#define BRAID_MGMT_TOP_LOST_METRIC "braid_class_lost_packets_total"
/** The `stats` filter `braidctl top` uses (matches the three families). */
#define BRAID_MGMT_TOP_STATS_FILTER "braid_*_packets_total"

/** `version` result: one line "braid 0.1.0 (DPDK ..., jansson ...)". @return 0/-EPROTO. */
int braid_mgmt_fmt_version(FILE *f, const json_t *result);

/** Any object as aligned "key  value" lines, nested keys joined by '.'
 * (`status`, `config.save`, `counters.reset`...). @return 0/-EPROTO. */
int braid_mgmt_fmt_object(FILE *f, const json_t *result);

/** `links.list` result {"links":[...]} as a table. @return 0/-EPROTO. */
int braid_mgmt_fmt_links(FILE *f, const json_t *result);

/** `classes.list` result {"classes":[...]} as a table. @return 0/-EPROTO. */
int braid_mgmt_fmt_classes(FILE *f, const json_t *result);

/** `stats` result {"reset_at","samples":[...]} as a table. @return 0/-EPROTO. */
int braid_mgmt_fmt_stats(FILE *f, const json_t *result);

/** `methods` result [{"name","builtin","mutating","params"}] as a table. */
int braid_mgmt_fmt_methods(FILE *f, const json_t *result);

/** `log.level` result {"global","types":[{"type","level"}]} as a table. */
int braid_mgmt_fmt_log_levels(FILE *f, const json_t *result);

/** "error <code>: <message>" plus, for data {"path","reason"}, "  at
 * <path>: <reason>", else the data as JSON. */
void braid_mgmt_fmt_error(FILE *f, const struct braid_mgmt_error *err);

/** Bits per second with a unit: "950 bit/s", "12.3 Mbit/s". */
void braid_mgmt_fmt_bps(double bps, char *buf, size_t len);

/** Bytes with an SI unit: "512 B", "1.23 MB". */
void braid_mgmt_fmt_bytes(double bytes, char *buf, size_t len);

/** What one `braidctl top` frame is computed from. */
struct braid_mgmt_top_view {
	const char *server;        /**< shown in the title */
	const json_t *links_prev;  /**< links.list result one interval ago, or NULL */
	const json_t *links_now;   /**< links.list result now */
	const json_t *stats_prev;  /**< stats result one interval ago, or NULL */
	const json_t *stats_now;   /**< stats result now, or NULL */
	const json_t *classes_now; /**< classes.list result now, or NULL */
	double interval_s;         /**< time between prev and now (> 0) */
	unsigned int width;        /**< terminal columns (>= 60 used) */
	bool color;                /**< ANSI colours for link states */
};

/**
 * Render one `top` frame (no screen control codes: the caller clears).
 * Per link: state, TX rate with a bar against capacity_kbps, RX rate,
 * RTT, jitter, loss; per class (with classes_now): the FEC shape in use,
 * links in time, FEC and ARQ recoveries and packets lost (totals and per
 * second), SHORT when in shortfall; then FEC and ARQ recoveries of all
 * classes.
 * Rates need the previous results; without them they print "-".
 * @return 0 or -EPROTO (links_now is not {"links":[...]}).
 */
int braid_mgmt_fmt_top(FILE *f, const struct braid_mgmt_top_view *v);

#endif /* BRAID_MGMT_FMT_H */
