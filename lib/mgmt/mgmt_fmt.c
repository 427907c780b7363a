/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braidctl's human output: aligned tables from management results and the
 * `top` frame. Pure functions of their JSON input (tested in test_mgmt).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "braid_mgmt_fmt.h"

#define TBL_MAX_COLS 12
#define CELL_LEN 96

struct tbl {
	unsigned int ncol;
	const char *hdr[TBL_MAX_COLS];   /* hdr[0] NULL: no header line */
	bool right[TBL_MAX_COLS];
	char (*cells)[TBL_MAX_COLS][CELL_LEN];
	size_t nrows;
	size_t cap;
	int err;
};

static char (*tbl_row(struct tbl *t))[CELL_LEN]
{
	void *p;

	if (t->err != 0)
		return NULL;
	if (t->nrows == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 16;

		p = realloc(t->cells, cap * sizeof(*t->cells));
		if (p == NULL) {
			t->err = -ENOMEM;
			return NULL;
		}
		t->cells = p;
		t->cap = cap;
	}
	memset(t->cells[t->nrows], 0, sizeof(t->cells[0]));
	return t->cells[t->nrows++];
}

static void
tbl_print(FILE *f, const struct tbl *t)
{
	size_t w[TBL_MAX_COLS] = { 0 }, r, n;
	unsigned int c;

	for (c = 0; c < t->ncol; c++) {
		if (t->hdr[0] != NULL)
			w[c] = strlen(t->hdr[c]);
		for (r = 0; r < t->nrows; r++) {
			n = strlen(t->cells[r][c]);
			if (n > w[c])
				w[c] = n;
		}
	}
	for (r = 0; r <= t->nrows; r++) {
		if (r == 0 && t->hdr[0] == NULL)
			continue;
		for (c = 0; c < t->ncol; c++) {
			const char *s = r == 0 ? t->hdr[c] : t->cells[r - 1][c];
			bool last = c + 1 == t->ncol;

			if (t->right[c])
				fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fprintf(f, "%s", s);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

static void
tbl_free(struct tbl *t)
{
	free(t->cells);
	t->cells = NULL;
}

/* ---- units -------------------------------------------------------------------------- */

/* Three significant digits: 1.23, 12.3, 123. */
static void
sig3(double v, const char *unit, char *buf, size_t len)
{
	if (v < 10)
		snprintf(buf, len, "%.2f %s", v, unit);
	else if (v < 100)
		snprintf(buf, len, "%.1f %s", v, unit);
	else
		snprintf(buf, len, "%.0f %s", v, unit);
}

static void
scaled(double v, const char *const units[], unsigned int n_units, char *buf,
       size_t len)
{
	unsigned int i = 0;

	if (!isfinite(v) || v < 0) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 999.5 && i + 1 < n_units) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f %s", v, units[0]);
	else
		sig3(v, units[i], buf, len);
}

void
braid_mgmt_fmt_bps(double bps, char *buf, size_t len)
{
	static const char *const u[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };

	scaled(bps, u, RTE_DIM(u), buf, len);
}

void
braid_mgmt_fmt_bytes(double bytes, char *buf, size_t len)
{
	static const char *const u[] = { "B", "kB", "MB", "GB", "TB", "PB" };

	scaled(bytes, u, RTE_DIM(u), buf, len);
}

static void
fmt_us(double us, char *buf, size_t len)
{
	if (!isfinite(us) || us < 0)
		snprintf(buf, len, "-");
	else if (us < 999.5)
		snprintf(buf, len, "%.0f us", us);
	else if (us < 999500)
		sig3(us / 1000, "ms", buf, len);
	else
		sig3(us / 1e6, "s", buf, len);
}

/* ---- fields ------------------------------------------------------------------------- */

static bool
num(const json_t *o, const char *key, double *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return true;
}

static void
scalar_str(const json_t *j, char *buf, size_t len)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(j));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.15g", json_real_value(j));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "null");
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
}

static void
field(const json_t *o, const char *key, char *buf, size_t len)
{
	const json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_object(j) || json_is_array(j))
		snprintf(buf, len, "-");
	else
		scalar_str(j, buf, len);
}

static void
field_num(const json_t *o, const char *key, double scale,
	  void (*fmt)(double, char *, size_t), char *buf, size_t len)
{
	double v;

	if (num(o, key, &v))
		fmt(v * scale, buf, len);
	else
		snprintf(buf, len, "-");
}

static void
fmt_ppm_pct(double ppm, char *buf, size_t len)
{
	snprintf(buf, len, "%.2f %%", ppm / 1e4);
}

static void
fmt_bps_kbps(double bps, char *buf, size_t len)
{
	braid_mgmt_fmt_bps(bps, buf, len);
}

/* ---- results ------------------------------------------------------------------------ */

int
braid_mgmt_fmt_version(FILE *f, const json_t *r)
{
	char v[64], d[64], j[64];

	if (!json_is_object(r))
		return -EPROTO;
	field(r, "version", v, sizeof(v));
	field(r, "dpdk", d, sizeof(d));
	field(r, "jansson", j, sizeof(j));
	fprintf(f, "braid %s (%s, jansson %s)\n", v, d, j);
	return 0;
}

static void
flatten(struct tbl *t, const char *prefix, const json_t *j)
{
	char key[CELL_LEN], (*row)[CELL_LEN];
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j) && json_object_size(j) > 0) {
		json_object_foreach((json_t *)(uintptr_t)j, k, v) {
			snprintf(key, sizeof(key), "%s%s%s", prefix,
				 prefix[0] != '\0' ? "." : "", k);
			flatten(t, key, v);
		}
		return;
	}
	if (json_is_array(j) && json_array_size(j) > 0) {
		json_array_foreach(j, i, v) {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flatten(t, key, v);
		}
		return;
	}
	row = tbl_row(t);
	if (row == NULL)
		return;
	snprintf(row[0], CELL_LEN, "%s", prefix);
	if (json_is_object(j))
		snprintf(row[1], CELL_LEN, "{}");
	else if (json_is_array(j))
		snprintf(row[1], CELL_LEN, "[]");
	else
		scalar_str(j, row[1], CELL_LEN);
}

int
braid_mgmt_fmt_object(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 2 };

	if (!json_is_object(r))
		return -EPROTO;
	flatten(&t, "", r);
	if (t.err == 0)
		tbl_print(f, &t);
	tbl_free(&t);
	return t.err;
}

int
braid_mgmt_fmt_links(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 11,
		.hdr = { "NAME", "PORT", "ADMIN", "STATE", "WEIGHT", "CAPACITY",
			 "RTT", "JITTER", "LOSS", "TX", "RX" },
		.right = { false, false, false, false, true, true, true, true,
			   true, true, true } };
	const json_t *links = json_object_get(r, "links"), *l;
	char (*row)[CELL_LEN];
	size_t i;

	if (!json_is_array(links))
		return -EPROTO;
	json_array_foreach(links, i, l) {
		row = tbl_row(&t);
		if (row == NULL)
			break;
		field(l, "name", row[0], CELL_LEN);
		field(l, "port", row[1], CELL_LEN);
		field(l, "admin", row[2], CELL_LEN);
		field(l, "state", row[3], CELL_LEN);
		if (json_is_true(json_object_get(l, "backup")))
			strncat(row[3], " (backup)", CELL_LEN - strlen(row[3]) - 1);
		field(l, "weight", row[4], CELL_LEN);
		field_num(l, "capacity_kbps", 1000, fmt_bps_kbps, row[5], CELL_LEN);
		field_num(l, "rtt_us", 1, fmt_us, row[6], CELL_LEN);
		field_num(l, "jitter_us", 1, fmt_us, row[7], CELL_LEN);
		field_num(l, "loss_ppm", 1, fmt_ppm_pct, row[8], CELL_LEN);
		field_num(l, "tx_bytes", 1, braid_mgmt_fmt_bytes, row[9], CELL_LEN);
		field_num(l, "rx_bytes", 1, braid_mgmt_fmt_bytes, row[10], CELL_LEN);
	}
	if (t.err == 0)
		tbl_print(f, &t);
	tbl_free(&t);
	return t.err;
}

/* The FEC a class uses: "10+2", "off", or for "fec": "auto" the shape
 * braid chose ("auto 20+1", from fec_now). */
static void
class_fec(const json_t *c, char *buf, size_t len)
{
	const json_t *fec = json_object_get(c, "fec"), *now = json_object_get(c, "fec_now");
	double k, m;

	if (json_is_object(now) && num(now, "k", &k) && num(now, "m", &m))
		snprintf(buf, len, "auto %.0f+%.0f", k, m);
	else if (json_is_string(fec))
		snprintf(buf, len, "%s", json_string_value(fec));
	else if (json_is_object(fec) && num(fec, "k", &k) && num(fec, "m", &m))
		snprintf(buf, len, "%.0f+%.0f", k, m);
	else
		snprintf(buf, len, "-");
}

static void
class_arq(const json_t *c, char *buf, size_t len)
{
	const json_t *arq = json_object_get(c, "arq");
	const json_t *en = json_object_get(arq, "enabled");
	double d;

	if (!json_is_boolean(en))
		snprintf(buf, len, "-");
	else if (!json_is_true(en))
		snprintf(buf, len, "off");
	else if (num(arq, "deadline_ms", &d))
		snprintf(buf, len, "on %.0f ms", d);
	else
		snprintf(buf, len, "on");
}

static void
class_policy(const json_t *c, char *buf, size_t len)
{
	const json_t *p = json_object_get(c, "policy");
	const json_t *mode = json_object_get(p, "mode"), *links, *l;
	size_t i, n;
	double copies;

	if (!json_is_string(mode)) {
		snprintf(buf, len, "-");
		return;
	}
	n = (size_t)snprintf(buf, len, "%s", json_string_value(mode));
	if (num(p, "copies", &copies)) {
		snprintf(buf + RTE_MIN(n, len - 1), len - RTE_MIN(n, len - 1),
			 " x%.0f", copies);
		return;
	}
	links = json_object_get(p, "links");
	json_array_foreach(links, i, l) {
		if (!json_is_string(l) || n >= len - 1)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%c%s", i == 0 ? ' ' : ',',
				      json_string_value(l));
	}
}

int
braid_mgmt_fmt_classes(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 9,
		.hdr = { "NAME", "WEIGHT", "PRIO", "FEC", "ARQ", "POLICY", "QUEUED",
			 "TX_PACKETS", "DROPS" },
		.right = { false, true, false, false, false, false, true, true, true } };
	const json_t *classes = json_object_get(r, "classes"), *c;
	char (*row)[CELL_LEN];
	size_t i;

	if (!json_is_array(classes))
		return -EPROTO;
	json_array_foreach(classes, i, c) {
		row = tbl_row(&t);
		if (row == NULL)
			break;
		field(c, "name", row[0], CELL_LEN);
		field(c, "weight", row[1], CELL_LEN);
		if (json_is_boolean(json_object_get(c, "priority")))
			snprintf(row[2], CELL_LEN, "%s",
				 json_is_true(json_object_get(c, "priority")) ? "yes" : "no");
		else
			snprintf(row[2], CELL_LEN, "-");
		class_fec(c, row[3], CELL_LEN);
		class_arq(c, row[4], CELL_LEN);
		class_policy(c, row[5], CELL_LEN);
		field(c, "queued", row[6], CELL_LEN);
		field(c, "tx_packets", row[7], CELL_LEN);
		field(c, "drops", row[8], CELL_LEN);
	}
	if (t.err == 0)
		tbl_print(f, &t);
	tbl_free(&t);
	return t.err;
}

static void
sample_value(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.6g", json_real_value(v));
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else
		snprintf(buf, len, "-");
}

int
braid_mgmt_fmt_stats(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 3, .hdr = { "NAME", "LABELS", "VALUE" },
			 .right = { false, false, true } };
	const json_t *samples = json_object_get(r, "samples"), *s, *labels;
	const json_t *reset = json_object_get(r, "reset_at");
	char (*row)[CELL_LEN], tbuf[32];
	const char *k;
	json_t *lv;
	size_t i, n;
	time_t when;
	struct tm tm;

	if (!json_is_array(samples))
		return -EPROTO;
	json_array_foreach(samples, i, s) {
		row = tbl_row(&t);
		if (row == NULL)
			break;
		field(s, "name", row[0], CELL_LEN);
		labels = json_object_get(s, "labels");
		n = 0;
		json_object_foreach((json_t *)(uintptr_t)labels, k, lv) {
			if (n >= CELL_LEN - 1)
				break;
			n += (size_t)snprintf(row[1] + n, CELL_LEN - n, "%s%s=%s",
					      n > 0 ? "," : "", k,
					      json_is_string(lv) ? json_string_value(lv) : "?");
		}
		if (n == 0)
			snprintf(row[1], CELL_LEN, "-");
		sample_value(json_object_get(s, "value"), row[2], CELL_LEN);
	}
	if (t.err == 0) {
		tbl_print(f, &t);
		if (json_is_number(reset)) {
			when = (time_t)json_number_value(reset);
			gmtime_r(&when, &tm);
			strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
			fprintf(f, "(counters since counters.reset at %s)\n", tbuf);
		}
	}
	tbl_free(&t);
	return t.err;
}

int
braid_mgmt_fmt_methods(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 3, .hdr = { "METHOD", "BY", "MUTATING" } };
	char (*row)[CELL_LEN];
	const json_t *m;
	size_t i;

	if (!json_is_array(r))
		return -EPROTO;
	json_array_foreach(r, i, m) {
		row = tbl_row(&t);
		if (row == NULL)
			break;
		field(m, "name", row[0], CELL_LEN);
		snprintf(row[1], CELL_LEN, "%s",
			 json_is_true(json_object_get(m, "builtin")) ? "server" : "gateway");
		snprintf(row[2], CELL_LEN, "%s",
			 json_is_true(json_object_get(m, "mutating")) ? "yes" : "no");
	}
	if (t.err == 0)
		tbl_print(f, &t);
	tbl_free(&t);
	return t.err;
}

int
braid_mgmt_fmt_log_levels(FILE *f, const json_t *r)
{
	struct tbl t = { .ncol = 2, .hdr = { "TYPE", "LEVEL" } };
	const json_t *types = json_object_get(r, "types"), *ty;
	char (*row)[CELL_LEN], g[32];
	size_t i;

	if (!json_is_array(types))
		return -EPROTO;
	field(r, "global", g, sizeof(g));
	fprintf(f, "global level: %s\n", g);
	json_array_foreach(types, i, ty) {
		row = tbl_row(&t);
		if (row == NULL)
			break;
		field(ty, "type", row[0], CELL_LEN);
		field(ty, "level", row[1], CELL_LEN);
	}
	if (t.err == 0)
		tbl_print(f, &t);
	tbl_free(&t);
	return t.err;
}

void
braid_mgmt_fmt_error(FILE *f, const struct braid_mgmt_error *err)
{
	const json_t *path, *reason;
	char *text;

	fprintf(f, "error %d: %s\n", err->code, err->message);
	if (err->data == NULL)
		return;
	path = json_object_get(err->data, "path");
	reason = json_object_get(err->data, "reason");
	if (json_is_string(path) && json_is_string(reason)) {
		fprintf(f, "  at %s: %s\n", json_string_value(path),
			json_string_value(reason));
		return;
	}
	text = json_dumps(err->data, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text != NULL) {
		fprintf(f, "  %s\n", text);
		free(text);
	}
}

/* ---- top -------------------------------------------------------------------------------- */

static const json_t *
link_by_name(const json_t *links, const char *name)
{
	const json_t *l, *n;
	size_t i;

	json_array_foreach(links, i, l) {
		n = json_object_get(l, "name");
		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
			return l;
	}
	return NULL;
}

/* (now - prev) / dt for field @p key; NaN when unknown or decreasing. */
static double
rate(const json_t *now, const json_t *prev, const char *key, double dt)
{
	double a, b;

	if (prev == NULL || !num(now, key, &a) || !num(prev, key, &b) || a < b ||
	    dt <= 0)
		return NAN;
	return (a - b) / dt;
}

/* Sum of the samples of metric @p name (of class @p cls only, unless NULL). */
static double
metric_sum_class(const json_t *stats, const char *name, const char *cls, bool *found)
{
	const json_t *samples = json_object_get(stats, "samples"), *s, *n, *c;
	double sum = 0, v;
	size_t i;

	*found = false;
	json_array_foreach(samples, i, s) {
		n = json_object_get(s, "name");
		c = json_object_get(json_object_get(s, "labels"), "class");
		if (!json_is_string(n) || strcmp(json_string_value(n), name) != 0 ||
		    (cls != NULL && (!json_is_string(c) || strcmp(json_string_value(c), cls) != 0)) ||
		    !num(s, "value", &v))
			continue;
		sum += v;
		*found = true;
	}
	return sum;
}

static double
metric_sum(const json_t *stats, const char *name, bool *found)
{
	return metric_sum_class(stats, name, NULL, found);
}

static void
top_recovery(FILE *f, const struct braid_mgmt_top_view *v, const char *label,
	     const char *metric)
{
	bool have_now, have_prev;
	double now, prev;

	now = v->stats_now != NULL ? metric_sum(v->stats_now, metric, &have_now) : 0;
	if (v->stats_now == NULL || !have_now) {
		fprintf(f, "%s -", label);
		return;
	}
	prev = v->stats_prev != NULL ? metric_sum(v->stats_prev, metric, &have_prev) : 0;
	if (v->stats_prev != NULL && have_prev && now >= prev && v->interval_s > 0)
		fprintf(f, "%s %.0f (+%.1f/s)", label, now,
			(now - prev) / v->interval_s);
	else
		fprintf(f, "%s %.0f", label, now);
}

/* One repair count of class @p cls: "total" or "total +rate/s". */
static void
class_count(const struct braid_mgmt_top_view *v, const char *metric, const char *cls,
	    char *buf, size_t len)
{
	bool have_now, have_prev;
	double now, prev;

	now = v->stats_now != NULL ?
	      metric_sum_class(v->stats_now, metric, cls, &have_now) : 0;
	if (v->stats_now == NULL || !have_now) {
		snprintf(buf, len, "-");
		return;
	}
	prev = v->stats_prev != NULL ?
	       metric_sum_class(v->stats_prev, metric, cls, &have_prev) : 0;
	if (v->stats_prev != NULL && have_prev && now >= prev && v->interval_s > 0)
		snprintf(buf, len, "%.0f +%.0f/s", now, (now - prev) / v->interval_s);
	else
		snprintf(buf, len, "%.0f", now);
}

/* Per class: the FEC shape in use, the links in time for its deadline
 * (of all links), and how its losses were repaired: by FEC, by ARQ, or
 * not (lost); "SHORT" when its links in time cannot carry it. */
static void
top_classes(FILE *f, const struct braid_mgmt_top_view *v, size_t n_links)
{
	const json_t *classes = json_object_get(v->classes_now, "classes"), *c;
	char name[32], fec[24], fr[32], ar[32], lo[32], links[16];
	int namew = 5;
	size_t i;

	if (!json_is_array(classes))
		return;
	json_array_foreach(classes, i, c) {
		field(c, "name", name, sizeof(name));
		if ((int)strlen(name) > namew)
			namew = (int)strlen(name);
	}
	fprintf(f, "%-*s  %-10s  %6s  %16s  %16s  %14s\n", namew, "CLASS", "FEC", "LINKS",
		"FEC RECOVERED", "ARQ RECOVERED", "LOST");
	json_array_foreach(classes, i, c) {
		const json_t *fit = json_object_get(c, "links_in_time");
		const json_t *sf = json_object_get(json_object_get(c, "shortfall"), "now");

		field(c, "name", name, sizeof(name));
		class_fec(c, fec, sizeof(fec));
		if (json_is_array(fit))
			snprintf(links, sizeof(links), "%zu/%zu", json_array_size(fit), n_links);
		else
			snprintf(links, sizeof(links), "-");
		class_count(v, BRAID_MGMT_TOP_FEC_METRIC, name, fr, sizeof(fr));
		class_count(v, BRAID_MGMT_TOP_ARQ_METRIC, name, ar, sizeof(ar));
		class_count(v, BRAID_MGMT_TOP_LOST_METRIC, name, lo, sizeof(lo));
		fprintf(f, "%-*s  %-10s  %6s  %16s  %16s  %14s%s\n", namew, name, fec, links, fr,
			ar, lo, json_is_true(sf) ? "  SHORT" : "");
	}
	fputc('\n', f);
}

int
braid_mgmt_fmt_top(FILE *f, const struct braid_mgmt_top_view *v)
{
	const json_t *links, *prevs, *l, *p;
	char name[32], state[32], tx[24], rx[24], rtt[24], jit[24], loss[24];
	const char *color;
	unsigned int width, bar, fill, k;
	int namew = 4;
	double txbps, cap, frac;
	size_t i;

	if (v == NULL || !json_is_array(json_object_get(v->links_now, "links")))
		return -EPROTO;
	links = json_object_get(v->links_now, "links");
	prevs = v->links_prev != NULL ? json_object_get(v->links_prev, "links") : NULL;
	width = v->width >= 60 ? v->width : 80;
	json_array_foreach(links, i, l) {
		field(l, "name", name, sizeof(name));
		if ((int)strlen(name) > namew)
			namew = (int)strlen(name);
	}
	/* Everything but the bar takes about namew + 86 columns. */
	bar = width > (unsigned int)namew + 96 ? width - (unsigned int)namew - 86 : 10;
	if (bar > 40)
		bar = 40;
	fprintf(f, "braid top - %s - %zu links - every %.1f s - q quits\n\n",
		v->server != NULL ? v->server : "?", json_array_size(links),
		v->interval_s);
	fprintf(f, "%-*s  %-12s  %11s %-*s %4s  %11s  %8s  %8s  %7s\n", namew, "LINK",
		"STATE", "TX", (int)bar + 2, "", "CAP", "RX", "RTT", "JITTER", "LOSS");
	json_array_foreach(links, i, l) {
		field(l, "name", name, sizeof(name));
		field(l, "state", state, sizeof(state));
		if (json_is_string(json_object_get(l, "admin")) &&
		    strcmp(json_string_value(json_object_get(l, "admin")), "down") == 0)
			snprintf(state, sizeof(state), "admin-down");
		p = prevs != NULL ? link_by_name(prevs, name) : NULL;
		txbps = rate(l, p, "tx_bytes", v->interval_s) * 8;
		braid_mgmt_fmt_bps(txbps, tx, sizeof(tx));
		braid_mgmt_fmt_bps(rate(l, p, "rx_bytes", v->interval_s) * 8, rx, sizeof(rx));
		field_num(l, "rtt_us", 1, fmt_us, rtt, sizeof(rtt));
		field_num(l, "jitter_us", 1, fmt_us, jit, sizeof(jit));
		field_num(l, "loss_ppm", 1, fmt_ppm_pct, loss, sizeof(loss));
		frac = NAN;
		if (num(l, "capacity_kbps", &cap) && cap > 0 && !isnan(txbps))
			frac = txbps / (cap * 1000);
		fill = isnan(frac) ? 0 :
		       (unsigned int)lround(RTE_MIN(frac, 1.0) * bar);
		color = !v->color ? "" :
			strcmp(state, "up") == 0 ? "\033[32m" :
			strcmp(state, "degraded") == 0 ? "\033[33m" : "\033[31m";
		fprintf(f, "%-*s  %s%-12s%s  %11s [", namew, name, color, state,
			v->color ? "\033[0m" : "", tx);
		for (k = 0; k < bar; k++)
			fputc(k < fill ? '#' : '.', f);
		if (isnan(frac))
			fprintf(f, "] %4s", "-");
		else
			fprintf(f, "] %3.0f%%", frac * 100);
		fprintf(f, "  %11s  %8s  %8s  %7s\n", rx, rtt, jit, loss);
	}
	fputc('\n', f);
	if (v->classes_now != NULL)
		top_classes(f, v, json_array_size(links));
	top_recovery(f, v, "FEC recovered", BRAID_MGMT_TOP_FEC_METRIC);
	fputs("    ", f);
	top_recovery(f, v, "ARQ recovered", BRAID_MGMT_TOP_ARQ_METRIC);
	fputc('\n', f);
	return 0;
}
