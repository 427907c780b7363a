/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_MGMT_PRIV_H
#define BRAID_MGMT_PRIV_H

/*
 * Internals of lib/mgmt shared by its files: the server struct, client
 * connections, byte buffers, metric sample collection. Nothing outside
 * lib/mgmt includes this.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "braid_counters.h"
#include "braid_log.h"
#include "braid_mgmt.h"

extern int braid_mgmt_logtype;
#define MGMT_LOG(level, ...) BRAID_LOG(level, braid_mgmt_logtype, __VA_ARGS__)

#ifndef BRAID_VERSION
#define BRAID_VERSION "unknown"
#endif

/* Request and reply counters of one server. Written by the management
 * thread (and the telemetry thread for telemetry_requests and
 * metrics_invalid_samples) with relaxed atomics, read from anywhere. */
#define MGMT_COUNTERS(X) \
	X(requests)             /* JSON-RPC requests (batch members each) */ \
	X(responses)            /* reply lines written (a batch is one) */ \
	X(notifications)        /* requests without id: no reply */ \
	X(batches)              /* batch (array) requests */ \
	X(err_parse)            /* -32700 */ \
	X(err_invalid_request)  /* -32600 */ \
	X(err_method_not_found) /* -32601 */ \
	X(err_invalid_params)   /* -32602 */ \
	X(err_internal)         /* -32603 */ \
	X(err_unauthorized)     /* -32001 */ \
	X(err_too_large)        /* -32002 */ \
	X(err_other)            /* any other code (-32003..., method errors) */ \
	X(clients_accepted)     /* connections served (RPC and HTTP) */ \
	X(clients_closed)       /* of those, closed (any reason) */ \
	X(drop_client_limit)    /* connections refused: too many clients */ \
	X(drop_slow_client)     /* clients dropped: output over the bound */ \
	X(drop_idle)            /* clients closed by the idle timeout */ \
	X(drop_oversize)        /* clients closed after an oversize line */ \
	X(drop_incomplete_line) /* partial request line at disconnect */ \
	X(drop_io_error)        /* connections lost to a socket error */ \
	X(bytes_in)             /* bytes received (RPC and HTTP) */ \
	X(bytes_out)            /* bytes sent */ \
	X(http_requests)        /* HTTP requests on the metrics port */ \
	X(http_errors)          /* of those, answered 4xx/5xx */ \
	X(metrics_invalid_samples) /* walker samples left out (per walk) */ \
	X(telemetry_requests)   /* /braid/... telemetry commands served */ \
	X(shutdowns)            /* shutdown callbacks fired */

struct mgmt_counters {
	BRAID_COUNTERS_FIELDS(MGMT_COUNTERS)
} __rte_cache_aligned;

#define MGMT_CNT_ADD(srv, field, v) \
	__atomic_fetch_add(&(srv)->cnt.field, (uint64_t)(v), __ATOMIC_RELAXED)

/* A growable byte buffer; unsent/unparsed data is p[off..len). */
struct mgmt_buf {
	char *p;
	size_t off;
	size_t len;
	size_t cap;
};

int mgmt_buf_reserve(struct mgmt_buf *b, size_t extra);
int mgmt_buf_append(struct mgmt_buf *b, const void *data, size_t n);
int mgmt_buf_printf(struct mgmt_buf *b, const char *fmt, ...)
	__rte_format_printf(2, 3);
void mgmt_buf_free(struct mgmt_buf *b);

static inline size_t
mgmt_buf_pending(const struct mgmt_buf *b)
{
	return b->len - b->off;
}

enum mgmt_kind {
	MGMT_K_LISTEN_RPC,
	MGMT_K_LISTEN_HTTP,
	MGMT_K_WAKE,
	MGMT_K_RPC,
	MGMT_K_HTTP,
};

enum mgmt_state {
	MGMT_S_OPEN,     /* reading requests */
	MGMT_S_CLOSING,  /* no more input: flush the output, then linger */
	MGMT_S_LINGER,   /* write side shut: discard input until EOF */
};

/* One accepted connection (or, for the listener kinds, a tag). */
struct mgmt_conn {
	enum mgmt_kind kind;
	enum mgmt_state state;
	int fd;
	bool counted;          /* holds a client slot (not a refused one) */
	bool want_out;         /* EPOLLOUT registered */
	bool shutdown_after;   /* fire shutdown_cb once out is flushed */
	uint64_t last_ns;      /* last progress (bytes in or out) */
	uint64_t deadline_ns;  /* CLOSING/LINGER: close at the latest then */
	struct mgmt_buf in;
	struct mgmt_buf out;
	char peer[64];
};

/* What a request line did to its connection. */
struct mgmt_ctx {
	const char *peer;
	bool shutdown;         /* a `shutdown` was answered */
};

struct mgmt_method {
	char name[BRAID_MGMT_METHOD_LEN + 1];
	braid_mgmt_handler_t fn;
	void *arg;
	unsigned int flags;
	bool builtin;
};

/* One sample saved at reset time: `stats` subtracts it. */
struct mgmt_base {
	char *key;
	double value;
};

struct braid_mgmt {
	struct mgmt_counters cnt;

	char address[64];
	char metrics_address[64];
	char unix_path[108];            /* "" = TCP (sun_path's size) */
	uint16_t port;
	uint16_t metrics_port;
	bool metrics;
	bool metrics_auth;
	bool telemetry;
	enum braid_mgmt_thread thread_mode;
	char token[BRAID_MGMT_TOKEN_LEN + 1];
	size_t token_len;
	uint32_t max_clients;
	uint32_t max_request;
	uint32_t max_output;
	uint32_t idle_ms;
	uint32_t max_batch;
	uint32_t max_depth;
	char version[64];
	void (*shutdown_cb)(void *arg);
	void *shutdown_arg;

	int rpc_fd;
	int http_fd;
	int ep_fd;
	int ev_fd;
	struct mgmt_conn tag_rpc;
	struct mgmt_conn tag_http;
	struct mgmt_conn tag_wake;

	struct mgmt_conn **conns;
	unsigned int n_conns;
	unsigned int conns_cap;
	unsigned int n_rpc;    /* counted RPC clients (atomic reads elsewhere) */
	unsigned int n_http;

	struct mgmt_method *methods;   /* sorted by name */
	unsigned int n_methods;
	unsigned int methods_cap;
	struct mgmt_ctx *cur_ctx;        /* during a handler call */

	braid_mgmt_walk_fn walk;
	void *walk_arg;
	pthread_mutex_t walk_lock;     /* one walk at a time */

	struct mgmt_base *base;        /* sorted by key */
	size_t n_base;
	double reset_at;               /* unix time of the reset, < 0: none */

	pthread_t thread;
	bool running;
	int stop;                      /* atomic */
	bool shutdown_pending;
	bool shutdown_fired;
};

/* ---- mgmt_rpc.c ---- */

/* Handle one request line (no '\n'), append the reply line (with '\n'). */
void mgmt_rpc_line(struct braid_mgmt *srv, struct mgmt_ctx *ctx,
		   const char *line, size_t len, struct mgmt_buf *out);
/* Append a server-generated error line (id null) and count it. */
void mgmt_rpc_error_line(struct braid_mgmt *srv, struct mgmt_buf *out,
			 int code, const char *msg);
int mgmt_register(struct braid_mgmt *srv, const char *name,
		  braid_mgmt_handler_t fn, void *arg, unsigned int flags,
		  bool builtin);
void mgmt_unregister(struct braid_mgmt *srv, const char *name);
int mgmt_builtins_register(struct braid_mgmt *srv);
/* A JSON string from arbitrary bytes: invalid UTF-8 becomes '?'. */
json_t *mgmt_json_string(const char *s);
/* Constant-time token check; true when no token is configured. */
bool mgmt_token_ok(const struct braid_mgmt *srv, const char *tok, size_t len);

/* ---- mgmt_metrics.c ---- */

struct mgmt_sample {
	const char *name;
	const char *help;       /* NULL: none */
	const char *lname[BRAID_MGMT_MAX_LABELS];
	const char *lval[BRAID_MGMT_MAX_LABELS];
	unsigned int n_labels;
	const char *key;        /* name{l="v",...} as exposed, or name */
	double value;
	enum braid_mgmt_metric type;
	uint32_t seq;           /* emission order */
	char *blob;             /* owns every string above */
};

struct mgmt_samples {
	struct braid_mgmt *srv;
	struct mgmt_sample *s;
	size_t n;
	size_t cap;
	uint32_t next_seq;
	uint64_t invalid;       /* rejected by emit() */
	int err;                /* first allocation error, -ENOMEM */
};

/* Walk (walker + own counters), validate, sort by (name, key), remove
 * duplicates and type conflicts. 0 or -ENOMEM. */
int mgmt_samples_collect(struct braid_mgmt *srv, struct mgmt_samples *ss);
void mgmt_samples_free(struct mgmt_samples *ss);
/* A metric value as Prometheus writes it (shortest round-trip). */
void mgmt_fmt_value(double v, char *buf, size_t len);
/* filter: glob if it has * ? [, else substring; NULL/"" matches all. */
bool mgmt_filter_match(const char *filter, const char *name);
int mgmt_prom_render(struct braid_mgmt *srv, struct mgmt_buf *out);
/* Offset just past the end of the HTTP header block, 0 if incomplete. */
size_t mgmt_http_header_end(const char *buf, size_t len);
/* Answer one HTTP request (header block) into out. */
void mgmt_http_handle(struct braid_mgmt *srv, const char *req, size_t len,
		      struct mgmt_buf *out);
/* Append a bare HTTP error response. */
void mgmt_http_error(struct braid_mgmt *srv, struct mgmt_buf *out,
		     int status, const char *reason);
int mgmt_metrics_methods_register(struct braid_mgmt *srv);
void mgmt_base_free(struct braid_mgmt *srv);

/* ---- mgmt_telemetry.c ---- */

int mgmt_telemetry_attach(struct braid_mgmt *srv);
void mgmt_telemetry_detach(struct braid_mgmt *srv);

#endif /* BRAID_MGMT_PRIV_H */
