/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_MGMT_H
#define BRAID_MGMT_H

/**
 * @file
 * The management port: a JSON-RPC 2.0 server over TCP (one message per
 * '\n'-terminated line, batches supported), a Prometheus text exposition
 * (format 0.0.4) over HTTP `GET /metrics`, and DPDK telemetry commands
 * under `/braid/...`. See doc/management-api.md.
 *
 * The server is generic: the gateway registers its methods
 * (braid_mgmt_register()) and a stats walker (braid_mgmt_set_stats_walker())
 * that reports every metric sample; the server owns the transport, the
 * request validation, authentication, limits and the exposition formats.
 *
 * Everything runs in one control thread (epoll over non-blocking sockets),
 * never on a data-path lcore: method handlers and the walker are called
 * from that thread (the walker also from DPDK's telemetry thread, never
 * concurrently: calls are serialised). A handler that changes the data
 * path must hand the change over the way stages take control changes
 * (request ring or pointer swap); it must not block for long, every
 * client waits for it.
 *
 * Built-in methods: `version`, `methods`, `log.level`, `shutdown`, and,
 * once a stats walker is set, `stats` and `counters.reset`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_common.h>

#include "braid_stage.h"

struct braid_mgmt;

/** JSON-RPC error codes the server and the documented methods use. */
enum braid_mgmt_errcode {
	BRAID_MGMT_ERR_PARSE = -32700,            /**< not JSON (or NUL bytes) */
	BRAID_MGMT_ERR_INVALID_REQUEST = -32600,  /**< not a valid Request */
	BRAID_MGMT_ERR_METHOD_NOT_FOUND = -32601,
	BRAID_MGMT_ERR_INVALID_PARAMS = -32602,   /**< data: {"path","reason"} */
	BRAID_MGMT_ERR_INTERNAL = -32603,
	BRAID_MGMT_ERR_UNAUTHORIZED = -32001,     /**< token missing or wrong */
	BRAID_MGMT_ERR_TOO_LARGE = -32002,        /**< request line too long; closes */
	BRAID_MGMT_ERR_BUSY = -32003,             /**< too many clients; closes */
	BRAID_MGMT_ERR_IDLE = -32004,             /**< idle timeout; closes */
	BRAID_MGMT_ERR_UNAVAILABLE = -32005,      /**< method cannot run here/now */
	BRAID_MGMT_ERR_RESPONSE_TOO_LARGE = -32006,
	BRAID_MGMT_ERR_FAILED = -32010,           /**< valid request, operation failed */
};

/** Longest error message kept (longer ones are truncated). */
#define BRAID_MGMT_ERRMSG_LEN 256
/** Longest method name, without the NUL. */
#define BRAID_MGMT_METHOD_LEN 63
/** Longest token, without the NUL. */
#define BRAID_MGMT_TOKEN_LEN 255
/** Most labels one metric sample may carry. */
#define BRAID_MGMT_MAX_LABELS 8

/** What a failing handler reports; the server turns it into the reply. */
struct braid_mgmt_error {
	int code;                              /**< JSON-RPC code, < 0 */
	char message[BRAID_MGMT_ERRMSG_LEN];   /**< short, human readable */
	json_t *data;  /**< optional; the server takes the reference */
};

/**
 * A method handler, called in the management thread.
 *
 * @param arg     as given to braid_mgmt_register().
 * @param params  the request's params (object or array) without the
 *   "token" member, or NULL when the request has none or they are empty
 *   ({} or []). Borrowed.
 * @param result  on success: a new reference (NULL means JSON null).
 * @param err     on failure: code, message, optional data (zeroed on entry).
 * @return 0, or < 0 with @p err filled (a zero code becomes -32603).
 */
typedef int (*braid_mgmt_handler_t)(void *arg, const json_t *params,
				    json_t **result,
				    struct braid_mgmt_error *err);

/** The method takes no params: any non-empty params give -32602. */
#define BRAID_MGMT_F_NO_PARAMS 0x1
/** The method changes state: every call is logged at NOTICE with the
 * client's address, and `methods` lists it as mutating. */
#define BRAID_MGMT_F_MUTATING 0x2
/** Replace a method of the same name (e.g. a built-in) instead of -EEXIST. */
#define BRAID_MGMT_F_REPLACE 0x4

/** Which thread runs the server. */
enum braid_mgmt_thread {
	BRAID_MGMT_THREAD_PTHREAD,   /**< plain pthread: no EAL needed */
	BRAID_MGMT_THREAD_EAL_CTRL,  /**< rte_ctrl_thread_create(): after rte_eal_init() */
};

/** Server configuration. Strings are copied by braid_mgmt_create(). */
struct braid_mgmt_conf {
	/** IPv4 or IPv6 literal to bind; NULL = "127.0.0.1". */
	const char *address;
	uint16_t port;              /**< 0 = ephemeral (see braid_mgmt_port()) */
	/** JSON-RPC on this Unix socket instead of address/port (an absolute
	 * path, 1..107 bytes; mode 0600, its directory created 0700 if
	 * missing; a stale socket there is replaced, anything else refused;
	 * removed by braid_mgmt_free()). NULL or "" = TCP. Metrics stay
	 * on TCP (metrics_address). */
	const char *unix_path;
	/** Serve Prometheus `GET /metrics` over HTTP/1.1. */
	bool metrics;
	const char *metrics_address; /**< NULL = same as @p address */
	uint16_t metrics_port;      /**< 0 = ephemeral */
	/** With a token set: /metrics wants "Authorization: Bearer <token>". */
	bool metrics_auth;
	/** Shared secret required on every request ("token" member at top
	 * level or in params); NULL or "" = none. 1..255 bytes. */
	const char *token;
	uint32_t max_clients;       /**< per listener, 0 = 8 */
	uint32_t max_request_bytes; /**< per line, 0 = 65536 (min 64) */
	/** Unsent reply bytes one client may hold; more and the client is
	 * dropped (it does not read). 0 = 16 MiB (min 4096). */
	uint32_t max_output_bytes;
	uint32_t idle_timeout_ms;   /**< close a silent client; 0 = never */
	uint32_t max_batch;         /**< requests per batch, 0 = 64 */
	uint32_t max_depth;         /**< JSON nesting per line, 0 = 32 (max 1024) */
	enum braid_mgmt_thread thread;
	/** Register the /braid/... DPDK telemetry commands (process-wide:
	 * one server at a time; works before or after rte_eal_init()). */
	bool telemetry;
	const char *version;        /**< reported by `version`; NULL = braid's */
	/** Called once from the management thread after the `shutdown`
	 * reply went out (or its client went away). Must not call
	 * braid_mgmt_stop()/braid_mgmt_free(): set a flag the main loop
	 * reads. NULL: `shutdown` answers -32005. */
	void (*shutdown_cb)(void *arg);
	void *shutdown_arg;
};

/** Metric kinds (Prometheus TYPE). */
enum braid_mgmt_metric {
	BRAID_MGMT_COUNTER,  /**< monotonic since start */
	BRAID_MGMT_GAUGE,
};

/** One label of a metric sample. */
struct braid_mgmt_label {
	const char *name;    /**< [a-zA-Z_][a-zA-Z0-9_]*, not "__..." */
	const char *value;   /**< any UTF-8 */
};

/**
 * Report one metric sample. Strings are copied; they need not outlive the
 * call. A sample with an invalid name, label or UTF-8, more than
 * BRAID_MGMT_MAX_LABELS labels, a type differing from its family's first
 * sample, or the same name and labels as an earlier sample is left out
 * and counted (metrics_invalid_samples). A family's HELP is its first
 * sample's.
 *
 * @param name   metric family, [a-zA-Z_:][a-zA-Z0-9_:]*, e.g.
 *   "braid_port_rx_packets_total".
 * @param help   one line of text, or NULL.
 */
typedef void (*braid_mgmt_emit_fn)(void *emit_arg, const char *name,
				   const struct braid_mgmt_label *labels,
				   unsigned int n_labels, double value,
				   enum braid_mgmt_metric type, const char *help);

/** Walk every metric: call @p emit once per sample, in any order. */
typedef void (*braid_mgmt_walk_fn)(void *arg, braid_mgmt_emit_fn emit,
				   void *emit_arg);

/**
 * Validate @p conf, bind and listen (so a busy port fails here) and
 * register the built-in methods. The thread starts with braid_mgmt_start().
 * @return the server, or NULL with rte_errno: EINVAL (bad conf), ENOMEM,
 *   EBUSY (telemetry owned by another server), or the errno of a failed
 *   socket call (EADDRINUSE...).
 */
struct braid_mgmt *braid_mgmt_create(const struct braid_mgmt_conf *conf);

/**
 * Start the management thread.
 * @return 0, -EALREADY, or the error of the thread creation.
 */
int braid_mgmt_start(struct braid_mgmt *srv);

/**
 * Stop the thread and close every client connection (listeners stay
 * open: the server can be started again). Idempotent.
 * @return 0, or -EDEADLK when called from the management thread itself.
 */
int braid_mgmt_stop(struct braid_mgmt *srv);

/** Stop (if running), detach telemetry, close everything, free. NULL ok. */
void braid_mgmt_free(struct braid_mgmt *srv);

/** The bound JSON-RPC port (useful with conf.port 0); 0 on a Unix socket. */
uint16_t braid_mgmt_port(const struct braid_mgmt *srv);

/** The bound metrics port, 0 when metrics are off. */
uint16_t braid_mgmt_metrics_port(const struct braid_mgmt *srv);

/**
 * Register a method. Only while the server is not running.
 * @param name    1..63 of [A-Za-z0-9_.-], not starting with "rpc.".
 * @param flags   BRAID_MGMT_F_*.
 * @return 0, -EINVAL, -EEXIST (name taken, no F_REPLACE), -EBUSY
 *   (running), -ENOMEM.
 */
int braid_mgmt_register(struct braid_mgmt *srv, const char *name,
			braid_mgmt_handler_t handler, void *arg,
			unsigned int flags);

/**
 * Set the stats walker (NULL removes it) and with it the `stats` and
 * `counters.reset` methods. Only while the server is not running.
 * @return 0, -EBUSY (running), -ENOMEM.
 */
int braid_mgmt_set_stats_walker(struct braid_mgmt *srv, braid_mgmt_walk_fn walk,
				void *arg);

/**
 * Run one request line (without the '\n') through the same path as a
 * network client, in the calling thread. For tests, fuzzers and
 * in-process callers; not while the server runs.
 * @return the reply line without '\n' (free() it), or NULL with rte_errno:
 *   ENOMSG (no reply: notification or blank line), EBUSY (running), ENOMEM.
 */
char *braid_mgmt_execute(struct braid_mgmt *srv, const char *line, size_t len);

/**
 * The Prometheus text exposition (format 0.0.4) as served on /metrics:
 * the walker's samples plus the server's own braid_mgmt_* counters.
 * @return a NUL-terminated string (free() it), or NULL with rte_errno.
 */
char *braid_mgmt_prometheus(struct braid_mgmt *srv, size_t *len);

/**
 * Report the server's counters: requests, responses, notifications,
 * batches, err_* per JSON-RPC code, clients_*, drop_* per reason,
 * bytes_in/out, http_*, metrics_invalid_samples, telemetry_requests.
 * Safe from any thread; reads never clear.
 */
void braid_mgmt_stats_report(const struct braid_mgmt *srv, braid_stat_fn fn,
			     void *arg);

/**
 * Fill @p err for a handler's failure.
 * @return -EINVAL, so handlers can `return braid_mgmt_error_set(...)`.
 */
int braid_mgmt_error_set(struct braid_mgmt_error *err, int code,
			 const char *fmt, ...) __rte_format_printf(3, 4);

/**
 * Invalid params at @p path: code -32602, message "invalid params:
 * <path>: <reason>", data {"path": path, "reason": reason}.
 * @param path  JSON path of the offending value, e.g. "$.classes[0].weight".
 * @return -EINVAL.
 */
int braid_mgmt_error_param(struct braid_mgmt_error *err, const char *path,
			   const char *fmt, ...) __rte_format_printf(3, 4);

#endif /* BRAID_MGMT_H */
