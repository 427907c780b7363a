/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Metric samples from the stats walker: collection and validation, the
 * Prometheus text exposition format 0.0.4, the minimal HTTP/1.1 server
 * for GET /metrics, and the `stats` / `counters.reset` methods.
 *
 * Counters stay monotonic everywhere (Prometheus and telemetry see raw
 * values): `counters.reset` records a baseline that `stats` subtracts.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mgmt_priv.h"

/* ---- names and values ----------------------------------------------------------- */

static bool
metric_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == ':'))
			return false;
	}
	return i <= 200;
}

static bool
label_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') ||
	    (s[0] == '_' && s[1] == '_'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return i <= 100;
}

/* Printable UTF-8 without control characters other than '\n' (labels
 * and help are escaped, but raw control bytes help no one). */
static bool
text_ok(const char *s, size_t max)
{
	json_t *j;
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
			return false;
	if (i > max)
		return false;
	j = json_stringn(s, i);         /* jansson validates UTF-8 */
	if (j == NULL)
		return false;
	json_decref(j);
	return true;
}

void
mgmt_fmt_value(double v, char *buf, size_t len)
{
	int p;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == trunc(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (p = 15; p <= 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

bool
mgmt_filter_match(const char *filter, const char *name)
{
	if (filter == NULL || filter[0] == '\0')
		return true;
	if (strpbrk(filter, "*?[") != NULL)
		return fnmatch(filter, name, 0) == 0;
	return strstr(name, filter) != NULL;
}

/* Escaped length of a label value (\\, \", \n) or help text (\\, \n). */
static size_t
esc_len(const char *s, bool quote)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += (*s == '\\' || *s == '\n' || (quote && *s == '"')) ? 2 : 1;
	return n;
}

static char *
esc_copy(char *d, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || (quote && *s == '"')) {
			*d++ = '\\';
			*d++ = *s;
		} else if (*s == '\n') {
			*d++ = '\\';
			*d++ = 'n';
		} else {
			*d++ = *s;
		}
	}
	return d;
}

/* ---- collection ----------------------------------------------------------------- */

static void
samples_emit(void *emit_arg, const char *name, const struct braid_mgmt_label *labels,
	     unsigned int n_labels, double value, enum braid_mgmt_metric type,
	     const char *help)
{
	struct mgmt_samples *ss = emit_arg;
	unsigned int order[BRAID_MGMT_MAX_LABELS];
	struct mgmt_sample *s;
	size_t need, i, j;
	char *p;

	if (ss->err != 0)
		return;
	if (!metric_name_ok(name) || n_labels > BRAID_MGMT_MAX_LABELS ||
	    (n_labels > 0 && labels == NULL) ||
	    (type != BRAID_MGMT_COUNTER && type != BRAID_MGMT_GAUGE) ||
	    (help != NULL && !text_ok(help, 1024)))
		goto invalid;
	/* Labels sorted by name: the key is canonical, so duplicates show. */
	for (i = 0; i < n_labels; i++) {
		if (!label_name_ok(labels[i].name) || labels[i].value == NULL ||
		    !text_ok(labels[i].value, 1024))
			goto invalid;
		for (j = i; j > 0 && strcmp(labels[order[j - 1]].name,
					    labels[i].name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = (unsigned int)i;
	}
	for (i = 1; i < n_labels; i++)
		if (strcmp(labels[order[i - 1]].name, labels[order[i]].name) == 0)
			goto invalid;
	need = 2 * strlen(name) + 3 + (help != NULL ? strlen(help) + 1 : 0);
	for (i = 0; i < n_labels; i++)
		need += 2 * (strlen(labels[i].name) + 1) + strlen(labels[i].value) + 1 +
			esc_len(labels[i].value, true) + 4;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap != 0 ? ss->cap * 2 : 64;

		s = realloc(ss->s, cap * sizeof(*s));
		if (s == NULL)
			goto nomem;
		ss->s = s;
		ss->cap = cap;
	}
	s = &ss->s[ss->n];
	memset(s, 0, sizeof(*s));
	s->blob = malloc(need);
	if (s->blob == NULL)
		goto nomem;
	p = s->blob;
	s->name = p;
	p = stpcpy(p, name) + 1;
	if (help != NULL && help[0] != '\0') {
		s->help = p;
		p = stpcpy(p, help) + 1;
	}
	for (i = 0; i < n_labels; i++) {
		s->lname[i] = p;
		p = stpcpy(p, labels[order[i]].name) + 1;
		s->lval[i] = p;
		p = stpcpy(p, labels[order[i]].value) + 1;
	}
	s->key = p;
	p = stpcpy(p, name);
	for (i = 0; i < n_labels; i++) {
		*p++ = i == 0 ? '{' : ',';
		p = stpcpy(p, s->lname[i]);
		*p++ = '=';
		*p++ = '"';
		p = esc_copy(p, s->lval[i], true);
		*p++ = '"';
	}
	if (n_labels > 0)
		*p++ = '}';
	*p = '\0';
	s->n_labels = n_labels;
	s->value = value;
	s->type = type;
	s->seq = ss->next_seq++;
	ss->n++;
	return;
invalid:
	ss->invalid++;
	return;
nomem:
	ss->err = -ENOMEM;
}

static void
self_emit1(struct mgmt_samples *ss, const char *name, const char *lname,
	   const char *lval, uint64_t v, enum braid_mgmt_metric type,
	   const char *help)
{
	struct braid_mgmt_label l = { lname, lval };

	samples_emit(ss, name, &l, lname != NULL ? 1 : 0, (double)v, type, help);
}

/* The server's own counters, as braid_mgmt_* metrics. */
static void
self_emit(struct braid_mgmt *srv, struct mgmt_samples *ss)
{
	static const struct {
		size_t off;
		const char *code;
	} errs[] = {
		{ offsetof(struct mgmt_counters, err_parse), "-32700" },
		{ offsetof(struct mgmt_counters, err_invalid_request), "-32600" },
		{ offsetof(struct mgmt_counters, err_method_not_found), "-32601" },
		{ offsetof(struct mgmt_counters, err_invalid_params), "-32602" },
		{ offsetof(struct mgmt_counters, err_internal), "-32603" },
		{ offsetof(struct mgmt_counters, err_unauthorized), "-32001" },
		{ offsetof(struct mgmt_counters, err_too_large), "-32002" },
		{ offsetof(struct mgmt_counters, err_other), "other" },
	};
	static const struct {
		size_t off;
		const char *reason;
	} drops[] = {
		{ offsetof(struct mgmt_counters, drop_client_limit), "client_limit" },
		{ offsetof(struct mgmt_counters, drop_slow_client), "slow_client" },
		{ offsetof(struct mgmt_counters, drop_idle), "idle" },
		{ offsetof(struct mgmt_counters, drop_oversize), "oversize" },
		{ offsetof(struct mgmt_counters, drop_io_error), "io_error" },
	};
	const struct mgmt_counters *c = &srv->cnt;
	const char *base = (const char *)c;
	unsigned int i;

#define LD(f) __atomic_load_n(&c->f, __ATOMIC_RELAXED)
#define LDO(o) __atomic_load_n((const uint64_t *)(uintptr_t)(base + (o)), __ATOMIC_RELAXED)
	self_emit1(ss, "braid_mgmt_requests_total", NULL, NULL, LD(requests),
		   BRAID_MGMT_COUNTER, "JSON-RPC requests received (each batch member counts)");
	self_emit1(ss, "braid_mgmt_responses_total", NULL, NULL, LD(responses),
		   BRAID_MGMT_COUNTER, "JSON-RPC reply lines sent");
	self_emit1(ss, "braid_mgmt_notifications_total", NULL, NULL, LD(notifications),
		   BRAID_MGMT_COUNTER, "JSON-RPC notifications (requests without id)");
	self_emit1(ss, "braid_mgmt_batches_total", NULL, NULL, LD(batches),
		   BRAID_MGMT_COUNTER, "JSON-RPC batch requests");
	for (i = 0; i < RTE_DIM(errs); i++)
		self_emit1(ss, "braid_mgmt_errors_total", "code", errs[i].code,
			   LDO(errs[i].off), BRAID_MGMT_COUNTER,
			   "JSON-RPC error replies by code");
	self_emit1(ss, "braid_mgmt_clients_accepted_total", NULL, NULL,
		   LD(clients_accepted), BRAID_MGMT_COUNTER,
		   "Management connections accepted (JSON-RPC and HTTP)");
	self_emit1(ss, "braid_mgmt_clients_closed_total", NULL, NULL,
		   LD(clients_closed), BRAID_MGMT_COUNTER,
		   "Accepted management connections closed");
	for (i = 0; i < RTE_DIM(drops); i++)
		self_emit1(ss, "braid_mgmt_clients_dropped_total", "reason",
			   drops[i].reason, LDO(drops[i].off), BRAID_MGMT_COUNTER,
			   "Management connections refused or dropped by reason");
	self_emit1(ss, "braid_mgmt_incomplete_lines_total", NULL, NULL,
		   LD(drop_incomplete_line), BRAID_MGMT_COUNTER,
		   "Partial request lines discarded at disconnect");
	self_emit1(ss, "braid_mgmt_bytes_total", "direction", "in", LD(bytes_in),
		   BRAID_MGMT_COUNTER, "Bytes received and sent on the management ports");
	self_emit1(ss, "braid_mgmt_bytes_total", "direction", "out", LD(bytes_out),
		   BRAID_MGMT_COUNTER, "Bytes received and sent on the management ports");
	self_emit1(ss, "braid_mgmt_http_requests_total", NULL, NULL, LD(http_requests),
		   BRAID_MGMT_COUNTER, "HTTP requests on the metrics port");
	self_emit1(ss, "braid_mgmt_http_errors_total", NULL, NULL, LD(http_errors),
		   BRAID_MGMT_COUNTER, "HTTP requests on the metrics port answered 4xx/5xx");
	self_emit1(ss, "braid_mgmt_invalid_samples_total", NULL, NULL,
		   LD(metrics_invalid_samples), BRAID_MGMT_COUNTER,
		   "Walker samples left out as invalid, counted per walk");
	self_emit1(ss, "braid_mgmt_telemetry_requests_total", NULL, NULL,
		   LD(telemetry_requests), BRAID_MGMT_COUNTER,
		   "DPDK telemetry /braid commands served");
	self_emit1(ss, "braid_mgmt_clients", "listener", "rpc",
		   __atomic_load_n(&srv->n_rpc, __ATOMIC_RELAXED), BRAID_MGMT_GAUGE,
		   "Connected management clients");
	self_emit1(ss, "braid_mgmt_clients", "listener", "http",
		   __atomic_load_n(&srv->n_http, __ATOMIC_RELAXED), BRAID_MGMT_GAUGE,
		   "Connected management clients");
#undef LD
#undef LDO
}

static int
sample_cmp(const void *a, const void *b)
{
	const struct mgmt_sample *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->key, y->key);
	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	return c;
}

void
mgmt_samples_free(struct mgmt_samples *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++)
		free(ss->s[i].blob);
	free(ss->s);
	memset(ss, 0, sizeof(*ss));
}

/* Sort by (name, key), then per family: the first emitted sample sets
 * TYPE and HELP; a sample of another type or an already-seen series is
 * left out. @return how many were left out. */
static uint64_t
samples_finish(struct mgmt_samples *ss)
{
	size_t a, b, i, k = 0, def, last;
	uint64_t dropped = 0;

	if (ss->n > 1)
		qsort(ss->s, ss->n, sizeof(*ss->s), sample_cmp);
	for (a = 0; a < ss->n; a = b) {
		def = a;
		for (b = a + 1; b < ss->n && strcmp(ss->s[b].name, ss->s[a].name) == 0; b++)
			if (ss->s[b].seq < ss->s[def].seq)
				def = b;
		last = SIZE_MAX;
		for (i = a; i < b; i++) {
			struct mgmt_sample *s = &ss->s[i];

			if (s->type != ss->s[def].type ||
			    (last != SIZE_MAX && strcmp(s->key, ss->s[last].key) == 0)) {
				s->type = (enum braid_mgmt_metric)-1;  /* left out */
				continue;
			}
			s->help = ss->s[def].help;
			last = i;
		}
		for (i = a; i < b; i++) {
			if ((int)ss->s[i].type == -1) {
				free(ss->s[i].blob);
				dropped++;
				continue;
			}
			ss->s[k++] = ss->s[i];
		}
	}
	ss->n = k;
	return dropped;
}

int
mgmt_samples_collect(struct braid_mgmt *srv, struct mgmt_samples *ss)
{
	uint64_t invalid;

	memset(ss, 0, sizeof(*ss));
	ss->srv = srv;
	pthread_mutex_lock(&srv->walk_lock);
	if (srv->walk != NULL)
		srv->walk(srv->walk_arg, samples_emit, ss);
	pthread_mutex_unlock(&srv->walk_lock);
	/* Count this walk's rejects before reporting the counter itself. */
	invalid = ss->invalid + samples_finish(ss);
	if (invalid > 0)
		MGMT_CNT_ADD(srv, metrics_invalid_samples, invalid);
	self_emit(srv, ss);
	invalid = samples_finish(ss);    /* a walker sample named braid_mgmt_* */
	if (invalid > 0)
		MGMT_CNT_ADD(srv, metrics_invalid_samples, invalid);
	ss->invalid = 0;
	if (ss->err != 0) {
		mgmt_samples_free(ss);
		return -ENOMEM;
	}
	return 0;
}

/* ---- Prometheus ------------------------------------------------------------------ */

int
mgmt_prom_render(struct braid_mgmt *srv, struct mgmt_buf *out)
{
	struct mgmt_samples ss;
	char v[40];
	size_t i;
	int ret;

	ret = mgmt_samples_collect(srv, &ss);
	if (ret != 0)
		return ret;
	for (i = 0; i < ss.n && ret == 0; i++) {
		const struct mgmt_sample *s = &ss.s[i];

		if (i == 0 || strcmp(s->name, ss.s[i - 1].name) != 0) {
			if (s->help != NULL) {
				ret = mgmt_buf_reserve(out, strlen(s->name) +
						       esc_len(s->help, false) + 16);
				if (ret != 0)
					break;
				out->len += (size_t)sprintf(out->p + out->len,
							    "# HELP %s ", s->name);
				out->len = (size_t)(esc_copy(out->p + out->len,
							     s->help, false) - out->p);
				out->p[out->len++] = '\n';
			}
			ret = mgmt_buf_printf(out, "# TYPE %s %s\n", s->name,
					      s->type == BRAID_MGMT_COUNTER ?
					      "counter" : "gauge");
			if (ret != 0)
				break;
		}
		mgmt_fmt_value(s->value, v, sizeof(v));
		ret = mgmt_buf_printf(out, "%s %s\n", s->key, v);
	}
	mgmt_samples_free(&ss);
	return ret;
}

/* ---- HTTP ------------------------------------------------------------------------- */

size_t
mgmt_http_header_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void
http_response(struct braid_mgmt *srv, struct mgmt_buf *out, int status,
	      const char *reason, const char *ctype, const char *extra,
	      const char *body, size_t body_len, bool head)
{
	MGMT_CNT_ADD(srv, http_requests, 1);
	if (status >= 400)
		MGMT_CNT_ADD(srv, http_errors, 1);
	if (mgmt_buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			    status, reason, ctype, body_len,
			    extra != NULL ? extra : "") != 0)
		return;
	if (!head && body_len > 0)
		mgmt_buf_append(out, body, body_len);
}

void
mgmt_http_error(struct braid_mgmt *srv, struct mgmt_buf *out, int status,
		const char *reason)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	http_response(srv, out, status, reason, "text/plain; charset=utf-8",
		      status == 405 ? "Allow: GET, HEAD\r\n" :
		      status == 401 ? "WWW-Authenticate: Bearer realm=\"braid\"\r\n" :
		      NULL, body, (size_t)n, false);
}

/* "Authorization: Bearer <token>" among the header lines. */
static bool
http_authorized(const struct braid_mgmt *srv, const char *req, size_t len)
{
	const char *p = req, *end = req + len, *eol, *v;
	size_t n;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n < 14 || strncasecmp(p, "authorization:", 14) != 0)
			continue;
		v = p + 14;
		n -= 14;
		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n < 7 || strncasecmp(v, "bearer ", 7) != 0)
			return false;
		v += 7;
		n -= 7;
		while (n > 0 && *v == ' ') {
			v++;
			n--;
		}
		return mgmt_token_ok(srv, v, n);
	}
	return false;
}

void
mgmt_http_handle(struct braid_mgmt *srv, const char *req, size_t len,
		 struct mgmt_buf *out)
{
	const char *eol = memchr(req, '\n', len), *sp1, *sp2, *q;
	struct mgmt_buf body = { 0 };
	size_t line, mlen, plen, i;
	bool head;

	line = eol != NULL ? (size_t)(eol - req) : len;
	if (line > 0 && req[line - 1] == '\r')
		line--;
	sp1 = memchr(req, ' ', line);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - req)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == req || sp2 == sp1 + 1 ||
	    (size_t)(req + line - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1')) {
		mgmt_http_error(srv, out, 400, "Bad Request");
		return;
	}
	mlen = (size_t)(sp1 - req);
	for (i = 0; i < mlen; i++) {
		if (req[i] < 'A' || req[i] > 'Z') {
			mgmt_http_error(srv, out, 400, "Bad Request");
			return;
		}
	}
	q = sp1 + 1;
	plen = (size_t)(sp2 - q);
	for (i = 0; i < plen; i++)
		if (q[i] == '?' || q[i] == '#')
			break;
	plen = i;
	if (plen != 8 || memcmp(q, "/metrics", 8) != 0) {
		mgmt_http_error(srv, out, 404, "Not Found");
		return;
	}
	head = mlen == 4 && memcmp(req, "HEAD", 4) == 0;
	if (!head && !(mlen == 3 && memcmp(req, "GET", 3) == 0)) {
		mgmt_http_error(srv, out, 405, "Method Not Allowed");
		return;
	}
	if (srv->metrics_auth && srv->token_len > 0 &&
	    !http_authorized(srv, req, len)) {
		mgmt_http_error(srv, out, 401, "Unauthorized");
		return;
	}
	if (mgmt_prom_render(srv, &body) != 0) {
		mgmt_buf_free(&body);
		mgmt_http_error(srv, out, 500, "Internal Server Error");
		return;
	}
	http_response(srv, out, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
		      NULL, body.p, body.len, head);
	mgmt_buf_free(&body);
}

/* ---- stats / counters.reset ------------------------------------------------------- */

void
mgmt_base_free(struct braid_mgmt *srv)
{
	size_t i;

	for (i = 0; i < srv->n_base; i++)
		free(srv->base[i].key);
	free(srv->base);
	srv->base = NULL;
	srv->n_base = 0;
	srv->reset_at = -1.0;
}

static int
base_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mgmt_base *)a)->key,
		      ((const struct mgmt_base *)b)->key);
}

static const struct mgmt_base *
base_find(const struct braid_mgmt *srv, const char *key)
{
	struct mgmt_base k = { .key = (char *)(uintptr_t)key };

	if (srv->n_base == 0)
		return NULL;
	return bsearch(&k, srv->base, srv->n_base, sizeof(k), base_cmp);
}

static json_t *
json_number(double v)
{
	char buf[40];

	if (v == trunc(v) && fabs(v) <= 9007199254740992.0)
		return json_integer((json_int_t)v);
	if (isfinite(v))
		return json_real(v);
	mgmt_fmt_value(v, buf, sizeof(buf));
	return json_string(buf);
}

static double
unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
}

static int
m_stats(void *arg, const json_t *params, json_t **result,
	struct braid_mgmt_error *err)
{
	struct braid_mgmt *srv = arg;
	const char *filter = NULL, *key;
	const struct mgmt_base *b;
	struct mgmt_samples ss;
	json_t *arr, *o, *labels, *v;
	bool raw = false;
	unsigned int k;
	double val;
	size_t i;

	if (params != NULL && !json_is_object(params))
		return braid_mgmt_error_param(err, "$", "must be an object {\"filter\", \"raw\"}");
	json_object_foreach((json_t *)(uintptr_t)params, key, v) {
		if (strcmp(key, "filter") == 0) {
			if (!json_is_string(v) || json_string_length(v) > 200)
				return braid_mgmt_error_param(err, "$.filter",
					"must be a string of at most 200 characters");
			filter = json_string_value(v);
		} else if (strcmp(key, "raw") == 0) {
			if (!json_is_boolean(v))
				return braid_mgmt_error_param(err, "$.raw", "must be true or false");
			raw = json_is_true(v);
		} else {
			return braid_mgmt_error_param(err, "$", "unknown member \"%.64s\"", key);
		}
	}
	if (mgmt_samples_collect(srv, &ss) != 0)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	arr = json_array();
	for (i = 0; arr != NULL && i < ss.n; i++) {
		const struct mgmt_sample *s = &ss.s[i];

		if (!mgmt_filter_match(filter, s->name))
			continue;
		val = s->value;
		if (!raw && s->type == BRAID_MGMT_COUNTER &&
		    (b = base_find(srv, s->key)) != NULL && val >= b->value)
			val -= b->value;
		labels = json_object();
		for (k = 0; labels != NULL && k < s->n_labels; k++)
			json_object_set_new(labels, s->lname[k], json_string(s->lval[k]));
		o = labels == NULL ? NULL :
		    json_pack("{s:s, s:o, s:s, s:o}", "name", s->name, "labels", labels,
			      "type", s->type == BRAID_MGMT_COUNTER ? "counter" : "gauge",
			      "value", json_number(val));
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	mgmt_samples_free(&ss);
	*result = arr == NULL ? NULL :
		  json_pack("{s:o, s:o}", "reset_at",
			    srv->reset_at >= 0 && !raw ? json_real(srv->reset_at) :
			    json_null(), "samples", arr);
	if (*result == NULL)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	return 0;
}

static int
m_counters_reset(void *arg, const json_t *params, json_t **result,
		 struct braid_mgmt_error *err)
{
	struct braid_mgmt *srv = arg;
	struct mgmt_samples ss;
	struct mgmt_base *base;
	size_t i, n = 0;

	RTE_SET_USED(params);
	if (mgmt_samples_collect(srv, &ss) != 0)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	base = calloc(ss.n + 1, sizeof(*base));
	for (i = 0; base != NULL && i < ss.n; i++) {
		if (ss.s[i].type != BRAID_MGMT_COUNTER)
			continue;
		base[n].key = strdup(ss.s[i].key);
		base[n].value = ss.s[i].value;
		if (base[n].key == NULL) {
			while (n > 0)
				free(base[--n].key);
			free(base);
			base = NULL;
			break;
		}
		n++;
	}
	mgmt_samples_free(&ss);
	if (base == NULL)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	qsort(base, n, sizeof(*base), base_cmp);
	mgmt_base_free(srv);
	srv->base = base;
	srv->n_base = n;
	srv->reset_at = unix_now();
	*result = json_pack("{s:f, s:I}", "reset_at", srv->reset_at,
			    "counters", (json_int_t)n);
	return 0;
}

int
mgmt_metrics_methods_register(struct braid_mgmt *srv)
{
	int ret;

	ret = mgmt_register(srv, "stats", m_stats, srv, BRAID_MGMT_F_REPLACE, true);
	if (ret == 0)
		ret = mgmt_register(srv, "counters.reset", m_counters_reset, srv,
				    BRAID_MGMT_F_NO_PARAMS | BRAID_MGMT_F_MUTATING |
				    BRAID_MGMT_F_REPLACE, true);
	return ret;
}
