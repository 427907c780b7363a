/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_MGMT_CLIENT_H
#define BRAID_MGMT_CLIENT_H

/**
 * @file
 * A JSON-RPC client for the management port (braidctl, tests, scripts in
 * C). Blocking calls with a timeout; no EAL needed.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "braid_mgmt.h"

struct braid_mgmt_client;

/** Default management port (config "management.port"). */
#define BRAID_MGMT_DEFAULT_PORT 9099

/**
 * Split "HOST:PORT", "[V6ADDR]:PORT", "HOST" or ":PORT" (host defaults
 * to 127.0.0.1, port to @p dflt_port); "/PATH" is a Unix socket (host =
 * the path, port 0).
 * @return 0 or -EINVAL (bad port, host too long for @p host_len).
 */
int braid_mgmt_parse_hostport(const char *s, char *host, size_t host_len,
			      uint16_t dflt_port, uint16_t *port);

/**
 * Read a token file: the first line, trailing blanks and CR/LF removed.
 * @return 0, -EINVAL (empty, NUL byte or longer than
 *   BRAID_MGMT_TOKEN_LEN), or -errno of open/read.
 */
int braid_mgmt_read_token_file(const char *path, char *tok, size_t len);

/**
 * Connect to @p host (name or address) port @p port, or to the Unix
 * socket @p host when it starts with '/' (port unused).
 * @param timeout_ms for the connect and, later, for each call (> 0).
 * @return the client, or NULL with rte_errno (ECONNREFUSED, ETIMEDOUT,
 *   EINVAL for an unresolvable host, ENOMEM...).
 */
struct braid_mgmt_client *braid_mgmt_client_connect(const char *host,
						    uint16_t port,
						    int timeout_ms);

/**
 * Send @p token (top-level "token" member) with every request; NULL or ""
 * sends none.
 * @return 0 or -EINVAL (longer than BRAID_MGMT_TOKEN_LEN).
 */
int braid_mgmt_client_set_token(struct braid_mgmt_client *c, const char *token);

/**
 * Call @p method and wait for its reply.
 * @param params  object or array (borrowed), or NULL for none.
 * @param result  on success: a new reference (json_decref() it).
 * @param err     on -EREMOTEIO: the JSON-RPC error (json_decref(err->data)).
 * @return 0; -EREMOTEIO (JSON-RPC error reply, @p err filled); -ETIMEDOUT;
 *   -ECONNRESET (connection closed); -EPROTO (reply not JSON-RPC or for
 *   another id); -EINVAL; -ENOMEM.
 */
int braid_mgmt_client_call(struct braid_mgmt_client *c, const char *method,
			   const json_t *params, json_t **result,
			   struct braid_mgmt_error *err);

/** Close and free. NULL is a no-op. */
void braid_mgmt_client_close(struct braid_mgmt_client *c);

#endif /* BRAID_MGMT_CLIENT_H */
