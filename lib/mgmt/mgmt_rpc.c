/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 over lines: validation, authentication, dispatch, the
 * method registry and the built-in methods version, methods, log.level,
 * shutdown.
 *
 * Order of checks for one line: blank (ignored) -> NUL bytes (-32700) ->
 * nesting depth (-32600) -> JSON parse (-32700) -> per request: shape
 * (-32600) -> token (-32001) -> method (-32601) -> params (-32602) ->
 * handler. A request without "id" is a notification: it runs, and gets no
 * reply even when it fails; a request too broken to be a notification
 * (not an object, bad members) is answered with id null.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_version.h>

#include "mgmt_priv.h"

#define MGMT_MAX_METHODS 256

/* ---- helpers --------------------------------------------------------------- */

static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

json_t *
mgmt_json_string(const char *s)
{
	size_t n = strlen(s), i;
	json_t *j;
	char *c;

	if (utf8_valid((const unsigned char *)s, n))
		return json_stringn(s, n);
	c = strdup(s);
	if (c == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_stringn(c, n);
	free(c);
	return j;
}

bool
mgmt_token_ok(const struct braid_mgmt *srv, const char *tok, size_t len)
{
	volatile unsigned int diff;
	size_t i;

	if (srv->token_len == 0)
		return true;
	if (tok == NULL)
		return false;
	/* Time depends on the configured length only, never on where the
	 * first difference is. */
	diff = len != srv->token_len;
	for (i = 0; i < srv->token_len; i++)
		diff |= (unsigned char)srv->token[i] ^
			(unsigned char)(i < len ? tok[i] : 0);
	return diff == 0;
}

static void
count_error(struct braid_mgmt *srv, int code)
{
	switch (code) {
	case BRAID_MGMT_ERR_PARSE:
		MGMT_CNT_ADD(srv, err_parse, 1);
		break;
	case BRAID_MGMT_ERR_INVALID_REQUEST:
		MGMT_CNT_ADD(srv, err_invalid_request, 1);
		break;
	case BRAID_MGMT_ERR_METHOD_NOT_FOUND:
		MGMT_CNT_ADD(srv, err_method_not_found, 1);
		break;
	case BRAID_MGMT_ERR_INVALID_PARAMS:
		MGMT_CNT_ADD(srv, err_invalid_params, 1);
		break;
	case BRAID_MGMT_ERR_INTERNAL:
		MGMT_CNT_ADD(srv, err_internal, 1);
		break;
	case BRAID_MGMT_ERR_UNAUTHORIZED:
		MGMT_CNT_ADD(srv, err_unauthorized, 1);
		break;
	case BRAID_MGMT_ERR_TOO_LARGE:
		MGMT_CNT_ADD(srv, err_too_large, 1);
		break;
	default:
		MGMT_CNT_ADD(srv, err_other, 1);
		break;
	}
}

/* {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}; steals data. */
static json_t *
error_reply(struct braid_mgmt *srv, json_t *id, int code, const char *msg,
	    json_t *data)
{
	json_t *e = json_object(), *r = json_object();

	count_error(srv, code);
	if (e == NULL || r == NULL) {
		json_decref(e);
		json_decref(r);
		json_decref(data);
		return NULL;
	}
	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", mgmt_json_string(msg));
	if (data != NULL)
		json_object_set_new(e, "data", data);
	json_object_set_new(r, "jsonrpc", json_string("2.0"));
	json_object_set(r, "id", id != NULL ? id : json_null());
	json_object_set_new(r, "error", e);
	return r;
}

static json_t *
reason_data(const char *fmt, const char *arg)
{
	char reason[BRAID_MGMT_ERRMSG_LEN];
	json_t *d = json_object();

	if (d == NULL)
		return NULL;
	snprintf(reason, sizeof(reason), fmt, arg);
	json_object_set_new(d, "reason", mgmt_json_string(reason));
	return d;
}

static int
dump_cb(const char *buf, size_t size, void *data)
{
	return mgmt_buf_append(data, buf, size);
}

/* Append @p reply + '\n' unless it exceeds the output bound; steals it. */
static void
emit_reply(struct braid_mgmt *srv, json_t *reply, struct mgmt_buf *out)
{
	size_t before = out->len;
	json_t *id, *tmp;

	if (reply == NULL)
		return;
	if (json_dump_callback(reply, dump_cb, out,
			       JSON_COMPACT | JSON_REAL_PRECISION(15)) != 0 ||
	    out->len - before > srv->max_output) {
		out->len = before;
		id = json_is_object(reply) ? json_object_get(reply, "id") : NULL;
		tmp = error_reply(srv, id, BRAID_MGMT_ERR_RESPONSE_TOO_LARGE,
				  "response too large", NULL);
		json_decref(reply);
		reply = tmp;
		if (reply == NULL ||
		    json_dump_callback(reply, dump_cb, out, JSON_COMPACT) != 0) {
			out->len = before;
			json_decref(reply);
			return;
		}
	}
	json_decref(reply);
	if (mgmt_buf_append(out, "\n", 1) != 0) {
		out->len = before;
		return;
	}
	MGMT_CNT_ADD(srv, responses, 1);
}

void
mgmt_rpc_error_line(struct braid_mgmt *srv, struct mgmt_buf *out, int code,
		    const char *msg)
{
	emit_reply(srv, error_reply(srv, NULL, code, msg, NULL), out);
}

/* True when the bracket nesting of @p s goes deeper than @p max. */
static bool
too_deep(const char *s, size_t n, unsigned int max)
{
	unsigned int d = 0;
	bool in_str = false, esc = false;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++d > max)
				return true;
		} else if ((c == ']' || c == '}') && d > 0) {
			d--;
		}
	}
	return false;
}

static const struct mgmt_method *
method_find(const struct braid_mgmt *srv, const char *name)
{
	unsigned int lo = 0, hi = srv->n_methods;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int c = strcmp(name, srv->methods[mid].name);

		if (c == 0)
			return &srv->methods[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool
params_empty(const json_t *p)
{
	return p == NULL || json_is_null(p) ||
	       (json_is_object(p) && json_object_size(p) == 0) ||
	       (json_is_array(p) && json_array_size(p) == 0);
}

/* One request object. @return the reply, or NULL for none. */
static json_t *
rpc_single(struct braid_mgmt *srv, struct mgmt_ctx *ctx, json_t *req)
{
	static const char *const members[] = {
		"jsonrpc", "id", "method", "params", "token", NULL };
	struct braid_mgmt_error err;
	const struct mgmt_method *m;
	json_t *id, *ver, *meth, *params, *tok, *ptok, *hparams = NULL;
	json_t *result = NULL, *reply;
	const char *key, *name;
	json_t *val;
	bool notification;
	int ret, i;

	MGMT_CNT_ADD(srv, requests, 1);
	if (!json_is_object(req))
		return error_reply(srv, NULL, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: not an object", NULL);
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_string(id) && !json_is_number(id) &&
	    !json_is_null(id))
		return error_reply(srv, NULL, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: id must be a string, a number or null",
				   NULL);
	notification = id == NULL;
	json_object_foreach(req, key, val) {
		for (i = 0; members[i] != NULL; i++)
			if (strcmp(key, members[i]) == 0)
				break;
		if (members[i] == NULL)
			return error_reply(srv, id, BRAID_MGMT_ERR_INVALID_REQUEST,
					   "invalid request: unknown member",
					   reason_data("unknown member \"%.64s\"", key));
	}
	ver = json_object_get(req, "jsonrpc");
	if (!json_is_string(ver) || json_string_length(ver) != 3 ||
	    memcmp(json_string_value(ver), "2.0", 3) != 0)
		return error_reply(srv, id, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
	meth = json_object_get(req, "method");
	if (!json_is_string(meth) || json_string_length(meth) == 0)
		return error_reply(srv, id, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: \"method\" must be a non-empty string",
				   NULL);
	params = json_object_get(req, "params");
	if (params != NULL && !json_is_object(params) && !json_is_array(params))
		return error_reply(srv, id, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: \"params\" must be an object or an array",
				   NULL);
	tok = json_object_get(req, "token");
	ptok = json_is_object(params) ? json_object_get(params, "token") : NULL;
	if ((tok != NULL && !json_is_string(tok)) ||
	    (ptok != NULL && !json_is_string(ptok)))
		return error_reply(srv, id, BRAID_MGMT_ERR_INVALID_REQUEST,
				   "invalid request: \"token\" must be a string", NULL);
	if (tok == NULL)
		tok = ptok;
	if (!mgmt_token_ok(srv, tok != NULL ? json_string_value(tok) : NULL,
			   tok != NULL ? json_string_length(tok) : 0)) {
		MGMT_LOG(DEBUG, "mgmt: %s: unauthorized request", ctx->peer);
		reply = error_reply(srv, id, BRAID_MGMT_ERR_UNAUTHORIZED,
				    "unauthorized", NULL);
		goto done;
	}
	name = json_string_value(meth);
	m = strlen(name) == json_string_length(meth) ? method_find(srv, name) : NULL;
	if (m == NULL) {
		json_t *d = json_object();

		if (d != NULL)
			json_object_set_new(d, "method", mgmt_json_string(name));
		reply = error_reply(srv, id, BRAID_MGMT_ERR_METHOD_NOT_FOUND,
				    "method not found", d);
		goto done;
	}
	if (ptok != NULL) {     /* handlers never see the token */
		hparams = json_copy(params);
		if (hparams == NULL) {
			reply = error_reply(srv, id, BRAID_MGMT_ERR_INTERNAL,
					    "out of memory", NULL);
			goto done;
		}
		json_object_del(hparams, "token");
	} else if (params != NULL) {
		hparams = json_incref(params);
	}
	if ((m->flags & BRAID_MGMT_F_NO_PARAMS) && !params_empty(hparams)) {
		reply = error_reply(srv, id, BRAID_MGMT_ERR_INVALID_PARAMS,
				    "invalid params: the method takes no params", NULL);
		goto done;
	}
	if (m->flags & BRAID_MGMT_F_MUTATING)
		MGMT_LOG(NOTICE, "mgmt: %s calls %s", ctx->peer, m->name);
	memset(&err, 0, sizeof(err));
	srv->cur_ctx = ctx;
	ret = m->fn(m->arg, params_empty(hparams) ? NULL : hparams, &result, &err);
	srv->cur_ctx = NULL;
	if (ret < 0) {
		json_decref(result);
		if (err.code == 0) {
			err.code = BRAID_MGMT_ERR_INTERNAL;
			if (err.message[0] == '\0')
				snprintf(err.message, sizeof(err.message),
					 "internal error (%s)", strerror(-ret));
		}
		if (err.message[0] == '\0')
			snprintf(err.message, sizeof(err.message), "error");
		reply = error_reply(srv, id, err.code, err.message, err.data);
		goto done;
	}
	json_decref(err.data);
	reply = json_object();
	if (reply != NULL) {
		json_object_set_new(reply, "jsonrpc", json_string("2.0"));
		json_object_set(reply, "id", id != NULL ? id : json_null());
		json_object_set_new(reply, "result",
				    result != NULL ? result : json_null());
	} else {
		json_decref(result);
	}
done:
	json_decref(hparams);
	if (notification) {
		MGMT_CNT_ADD(srv, notifications, 1);
		json_decref(reply);
		return NULL;
	}
	return reply;
}

void
mgmt_rpc_line(struct braid_mgmt *srv, struct mgmt_ctx *ctx, const char *line,
	      size_t len, struct mgmt_buf *out)
{
	json_error_t jerr;
	json_t *root, *replies, *r;
	size_t i, n;
	char reason[128];

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;                 /* blank line: keep-alive, no reply */
	if (memchr(line, '\0', len) != NULL) {
		MGMT_CNT_ADD(srv, requests, 1);
		emit_reply(srv, error_reply(srv, NULL, BRAID_MGMT_ERR_PARSE,
					    "parse error: NUL byte", NULL), out);
		return;
	}
	if (too_deep(line, len, srv->max_depth)) {
		MGMT_CNT_ADD(srv, requests, 1);
		snprintf(reason, sizeof(reason), "nesting deeper than %u",
			 srv->max_depth);
		emit_reply(srv, error_reply(srv, NULL, BRAID_MGMT_ERR_INVALID_REQUEST,
					    "invalid request: too deep",
					    reason_data("%s", reason)), out);
		return;
	}
	root = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		json_t *d = json_object();

		MGMT_CNT_ADD(srv, requests, 1);
		if (d != NULL) {
			json_object_set_new(d, "column", json_integer(jerr.column));
			json_object_set_new(d, "reason", mgmt_json_string(jerr.text));
		}
		emit_reply(srv, error_reply(srv, NULL, BRAID_MGMT_ERR_PARSE,
					    "parse error", d), out);
		return;
	}
	if (!json_is_array(root)) {
		emit_reply(srv, rpc_single(srv, ctx, root), out);
		json_decref(root);
		return;
	}
	MGMT_CNT_ADD(srv, batches, 1);
	n = json_array_size(root);
	if (n == 0 || n > srv->max_batch) {
		MGMT_CNT_ADD(srv, requests, 1);
		snprintf(reason, sizeof(reason), n == 0 ? "empty batch" :
			 "batch of %zu requests, at most %u", n, srv->max_batch);
		emit_reply(srv, error_reply(srv, NULL, BRAID_MGMT_ERR_INVALID_REQUEST,
					    "invalid request: bad batch",
					    reason_data("%s", reason)), out);
		json_decref(root);
		return;
	}
	replies = json_array();
	for (i = 0; i < n && replies != NULL; i++) {
		r = rpc_single(srv, ctx, json_array_get(root, i));
		if (r != NULL)
			json_array_append_new(replies, r);
	}
	json_decref(root);
	if (replies == NULL) {
		mgmt_rpc_error_line(srv, out, BRAID_MGMT_ERR_INTERNAL, "out of memory");
		return;
	}
	if (json_array_size(replies) == 0) {
		json_decref(replies);   /* all notifications: nothing to say */
		return;
	}
	emit_reply(srv, replies, out);
}

/* ---- registry ---------------------------------------------------------------- */

static bool
method_name_ok(const char *name)
{
	size_t n, i;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > BRAID_MGMT_METHOD_LEN || strncmp(name, "rpc.", 4) == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int
mgmt_register(struct braid_mgmt *srv, const char *name, braid_mgmt_handler_t fn,
	      void *arg, unsigned int flags, bool builtin)
{
	struct mgmt_method *m;
	unsigned int i;

	if (!method_name_ok(name) || fn == NULL ||
	    (flags & ~(BRAID_MGMT_F_NO_PARAMS | BRAID_MGMT_F_MUTATING |
		       BRAID_MGMT_F_REPLACE)) != 0)
		return -EINVAL;
	for (i = 0; i < srv->n_methods; i++) {
		int c = strcmp(name, srv->methods[i].name);

		if (c == 0) {
			if (!(flags & BRAID_MGMT_F_REPLACE))
				return -EEXIST;
			m = &srv->methods[i];
			goto fill;
		}
		if (c < 0)
			break;
	}
	if (srv->n_methods >= MGMT_MAX_METHODS)
		return -ENOMEM;
	if (srv->n_methods == srv->methods_cap) {
		unsigned int cap = srv->methods_cap != 0 ? srv->methods_cap * 2 : 16;

		m = realloc(srv->methods, cap * sizeof(*m));
		if (m == NULL)
			return -ENOMEM;
		srv->methods = m;
		srv->methods_cap = cap;
	}
	memmove(&srv->methods[i + 1], &srv->methods[i],
		(srv->n_methods - i) * sizeof(*m));
	srv->n_methods++;
	m = &srv->methods[i];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
fill:
	m->fn = fn;
	m->arg = arg;
	m->flags = flags & ~BRAID_MGMT_F_REPLACE;
	m->builtin = builtin;
	return 0;
}

void
mgmt_unregister(struct braid_mgmt *srv, const char *name)
{
	const struct mgmt_method *m = method_find(srv, name);
	unsigned int i;

	if (m == NULL)
		return;
	i = (unsigned int)(m - srv->methods);
	memmove(&srv->methods[i], &srv->methods[i + 1],
		(srv->n_methods - i - 1) * sizeof(*m));
	srv->n_methods--;
}

/* ---- built-in methods -------------------------------------------------------- */

static int
m_version(void *arg, const json_t *params, json_t **result,
	  struct braid_mgmt_error *err)
{
	struct braid_mgmt *srv = arg;

	RTE_SET_USED(params);
	*result = json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "braid",
			    "version", srv->version, "dpdk", rte_version(),
			    "jansson", JANSSON_VERSION, "api", 1);
	return *result != NULL ? 0 :
	       braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
}

static int
m_methods(void *arg, const json_t *params, json_t **result,
	  struct braid_mgmt_error *err)
{
	struct braid_mgmt *srv = arg;
	json_t *a = json_array(), *o;
	unsigned int i;

	RTE_SET_USED(params);
	for (i = 0; a != NULL && i < srv->n_methods; i++) {
		const struct mgmt_method *m = &srv->methods[i];

		o = json_pack("{s:s, s:b, s:b, s:b}", "name", m->name,
			      "builtin", m->builtin,
			      "mutating", (m->flags & BRAID_MGMT_F_MUTATING) != 0,
			      "params", (m->flags & BRAID_MGMT_F_NO_PARAMS) == 0);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	if (a == NULL)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	*result = a;
	return 0;
}

/* rte_log levels: index = RTE_LOG_* value. */
static const char *const log_level_names[] = {
	NULL, "emergency", "alert", "critical", "error", "warning", "notice",
	"info", "debug" };

static int
log_level_parse(const json_t *v, uint32_t *level)
{
	static const struct { const char *name; uint32_t level; } alias[] = {
		{ "emerg", RTE_LOG_EMERG }, { "crit", RTE_LOG_CRIT },
		{ "err", RTE_LOG_ERR }, { "warn", RTE_LOG_WARNING } };
	const char *s;
	unsigned int i;

	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (x < RTE_LOG_EMERG || x > RTE_LOG_DEBUG)
			return -EINVAL;
		*level = (uint32_t)x;
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	for (i = RTE_LOG_EMERG; i <= RTE_LOG_DEBUG; i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*level = i;
			return 0;
		}
	}
	for (i = 0; i < RTE_DIM(alias); i++) {
		if (strcasecmp(s, alias[i].name) == 0) {
			*level = alias[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *
log_level_name(int level)
{
	return level >= (int)RTE_LOG_EMERG && level <= (int)RTE_LOG_DEBUG ?
	       log_level_names[level] : "unknown";
}

/* Log types matching @p pattern (fnmatch, as rte_log_set_level_pattern),
 * read from rte_log_dump(): 22.11 has no other way to list them. */
static json_t *
log_types(const char *pattern)
{
	json_t *types = json_array(), *o;
	char *text = NULL, *line, *save = NULL;
	char name[128];
	size_t size = 0;
	unsigned int id;
	FILE *f;

	if (types == NULL)
		return NULL;
	f = open_memstream(&text, &size);
	if (f == NULL) {
		json_decref(types);
		return NULL;
	}
	rte_log_dump(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "id %u: %127[^,], level is", &id, name) != 2)
			continue;
		if (fnmatch(pattern, name, 0) != 0)
			continue;
		o = json_pack("{s:s, s:s}", "type", name, "level",
			      log_level_name(rte_log_get_level(id)));
		if (o == NULL || json_array_append_new(types, o) != 0) {
			json_decref(types);
			types = NULL;
			break;
		}
	}
	free(text);
	return types;
}

static int
m_log_level(void *arg, const json_t *params, json_t **result,
	    struct braid_mgmt_error *err)
{
	const json_t *type = NULL, *level = NULL, *v;
	const char *pattern = "*", *key;
	uint32_t lvl = 0;
	json_t *types;

	RTE_SET_USED(arg);
	if (params != NULL && !json_is_object(params))
		return braid_mgmt_error_param(err, "$", "must be an object {\"type\", \"level\"}");
	json_object_foreach((json_t *)(uintptr_t)params, key, v) {
		if (strcmp(key, "type") == 0)
			type = v;
		else if (strcmp(key, "level") == 0)
			level = v;
		else
			return braid_mgmt_error_param(err, "$", "unknown member \"%.64s\"", key);
	}
	if (type != NULL) {
		if (!json_is_string(type) || json_string_length(type) == 0 ||
		    json_string_length(type) > 127 ||
		    strlen(json_string_value(type)) != json_string_length(type))
			return braid_mgmt_error_param(err, "$.type",
				"must be a log type pattern of 1..127 characters, e.g. \"braid.*\"");
		pattern = json_string_value(type);
	}
	if (level != NULL) {
		if (type == NULL)
			return braid_mgmt_error_param(err, "$.type",
				"required when setting a level");
		if (log_level_parse(level, &lvl) != 0)
			return braid_mgmt_error_param(err, "$.level",
				"must be one of emergency, alert, critical, error, warning, notice, info, debug (or 1..8)");
		if (rte_log_set_level_pattern(pattern, lvl) != 0)
			return braid_mgmt_error_set(err, BRAID_MGMT_ERR_FAILED,
				"rte_log_set_level_pattern failed");
	}
	types = log_types(pattern);
	*result = types == NULL ? NULL :
		  json_pack("{s:s, s:o}", "global",
			    log_level_name((int)rte_log_get_global_level()),
			    "types", types);
	if (*result == NULL)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_INTERNAL, "out of memory");
	return 0;
}

static int
m_shutdown(void *arg, const json_t *params, json_t **result,
	   struct braid_mgmt_error *err)
{
	struct braid_mgmt *srv = arg;

	RTE_SET_USED(params);
	if (srv->shutdown_cb == NULL)
		return braid_mgmt_error_set(err, BRAID_MGMT_ERR_UNAVAILABLE,
					    "shutdown is not available");
	if (srv->cur_ctx != NULL)
		srv->cur_ctx->shutdown = true;
	*result = json_pack("{s:b}", "stopping", 1);
	return 0;
}

int
mgmt_builtins_register(struct braid_mgmt *srv)
{
	int ret;

	if ((ret = mgmt_register(srv, "version", m_version, srv,
				 BRAID_MGMT_F_NO_PARAMS, true)) != 0 ||
	    (ret = mgmt_register(srv, "methods", m_methods, srv,
				 BRAID_MGMT_F_NO_PARAMS, true)) != 0 ||
	    (ret = mgmt_register(srv, "log.level", m_log_level, srv,
				 BRAID_MGMT_F_MUTATING, true)) != 0 ||
	    (ret = mgmt_register(srv, "shutdown", m_shutdown, srv,
				 BRAID_MGMT_F_NO_PARAMS | BRAID_MGMT_F_MUTATING,
				 true)) != 0)
		return ret;
	return 0;
}
