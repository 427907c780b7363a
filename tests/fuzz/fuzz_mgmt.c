/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/mgmt: arbitrary bytes into the JSON-RPC
 * request path (the same one network clients reach, minus the socket)
 * and into the HTTP request handler of the metrics port.
 *
 * Input: the first byte picks the target (even: JSON-RPC, odd: HTTP), the
 * rest is split at '\n' into request lines (JSON-RPC) or taken as one
 * request header block (HTTP).
 *
 * Oracle (JSON-RPC): no crash (ASan/UBSan), every reply is one line of
 * JSON that is a Response - {"jsonrpc":"2.0", "id": string|number|null,
 * exactly one of "result"/"error", error.code an integer and
 * error.message a string} - or a non-empty array of Responses. A line
 * with no reply must be a notification or blank. The token is set, so
 * only requests carrying it reach the methods.
 * Oracle (HTTP): the answer starts "HTTP/1.1 <status> " with status one
 * of 200 400 401 404 405 500, carries Content-Length and ends the header
 * block with CRLF CRLF.
 *
 * Built only with clang. With meson (snippet in tests/meson.build):
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz tests/fuzz_mgmt
 * or by hand from the source root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DALLOW_EXPERIMENTAL_API -Ilib/mgmt -Ilib/engine \
 *     $(pkg-config --cflags libdpdk jansson) \
 *     lib/mgmt/braid_mgmt.c lib/mgmt/mgmt_rpc.c lib/mgmt/mgmt_metrics.c \
 *     lib/mgmt/mgmt_telemetry.c lib/engine/braid_clock.c \
 *     tests/fuzz/fuzz_mgmt.c $(pkg-config --libs libdpdk jansson) \
 *     -o fuzz_mgmt
 * Run (the dictionary-free corpus grows fast from one request):
 *   mkdir -p corpus && printf '\0{"jsonrpc":"2.0","method":"version","id":1,"token":"t"}' > corpus/a
 *   ./fuzz_mgmt -max_len=4096 -max_total_time=600 corpus
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_errno.h>

#include "braid_mgmt.h"
#include "mgmt_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct braid_mgmt *srv;

static int
m_echo(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	(void)arg;
	(void)err;
	*result = params != NULL ? json_deep_copy(params) : NULL;
	return 0;
}

static int
m_check(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	const json_t *w = json_object_get(params, "weight");

	(void)arg;
	if (!json_is_integer(w) || json_integer_value(w) < 1 ||
	    json_integer_value(w) > 1000)
		return braid_mgmt_error_param(err, "$.weight", "must be 1..1000");
	*result = json_true();
	return 0;
}

static int
m_fail(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	(void)arg;
	(void)params;
	(void)result;
	(void)err;
	return -EIO;
}

static void
walker(void *arg, braid_mgmt_emit_fn emit, void *ea)
{
	struct braid_mgmt_label l = { "port", "lan\"0\\\n" };

	(void)arg;
	emit(ea, "braid_port_rx_packets_total", &l, 1, 12, BRAID_MGMT_COUNTER, "rx");
	emit(ea, "braid_rtt_seconds", NULL, 0, 0.01, BRAID_MGMT_GAUGE, NULL);
}

static void
setup(void)
{
	struct braid_mgmt_conf c;

	memset(&c, 0, sizeof(c));
	c.token = "t";
	c.max_request_bytes = 4096;
	c.max_batch = 16;
	c.metrics = false;
	srv = braid_mgmt_create(&c);
	if (srv == NULL ||
	    braid_mgmt_register(srv, "echo", m_echo, NULL, 0) != 0 ||
	    braid_mgmt_register(srv, "links.set", m_check, NULL, BRAID_MGMT_F_MUTATING) != 0 ||
	    braid_mgmt_register(srv, "fail", m_fail, NULL, 0) != 0 ||
	    braid_mgmt_set_stats_walker(srv, walker, NULL) != 0)
		abort();
	/* log.level may set levels: keep the fuzzer quiet whatever it sets. */
	rte_log_set_global_level(RTE_LOG_EMERG);
}

static void
check_response(const json_t *r)
{
	const json_t *id, *res, *err, *code, *msg, *ver;

	if (!json_is_object(r))
		abort();
	ver = json_object_get(r, "jsonrpc");
	id = json_object_get(r, "id");
	res = json_object_get(r, "result");
	err = json_object_get(r, "error");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0 ||
	    id == NULL || !(json_is_string(id) || json_is_number(id) || json_is_null(id)) ||
	    (res == NULL) == (err == NULL) || json_object_size(r) != 3)
		abort();
	if (err != NULL) {
		code = json_object_get(err, "code");
		msg = json_object_get(err, "message");
		if (!json_is_integer(code) || !json_is_string(msg) ||
		    json_integer_value(code) >= 0)
			abort();
	}
}

static void
fuzz_rpc(const char *p, size_t n)
{
	const char *nl;
	size_t len, k;
	json_t *r, *m;
	char *reply;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		reply = braid_mgmt_execute(srv, p, len);
		if (reply == NULL) {
			if (rte_errno != ENOMSG)
				abort();
		} else {
			if (strchr(reply, '\n') != NULL)
				abort();
			r = json_loads(reply, JSON_REJECT_DUPLICATES, NULL);
			if (r == NULL)
				abort();
			if (json_is_array(r)) {
				if (json_array_size(r) == 0)
					abort();
				json_array_foreach(r, k, m)
					check_response(m);
			} else {
				check_response(r);
			}
			json_decref(r);
			free(reply);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
		n -= len + 1;
	}
}

static void
fuzz_http(const char *p, size_t n)
{
	struct mgmt_buf out = { 0 };
	int status;

	mgmt_http_handle(srv, p, n, &out);
	if (out.len < 16 || memcmp(out.p, "HTTP/1.1 ", 9) != 0 ||
	    memmem(out.p, out.len, "\r\n\r\n", 4) == NULL ||
	    memmem(out.p, out.len, "\r\nContent-Length: ", 18) == NULL)
		abort();
	if (out.p[9] < '0' || out.p[9] > '9' || out.p[10] < '0' || out.p[10] > '9' ||
	    out.p[11] < '0' || out.p[11] > '9' || out.p[12] != ' ')
		abort();
	status = (out.p[9] - '0') * 100 + (out.p[10] - '0') * 10 + (out.p[11] - '0');
	if (status != 200 && status != 400 && status != 401 && status != 404 &&
	    status != 405 && status != 500)
		abort();
	mgmt_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (srv == NULL)
		setup();
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_rpc((const char *)data + 1, size - 1);
	else
		fuzz_http((const char *)data + 1, size - 1);
	return 0;
}
