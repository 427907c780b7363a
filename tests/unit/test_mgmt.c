/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mgmt: JSON-RPC server over real loopback TCP (built-ins, hostile
 * input, auth, limits, concurrency), Prometheus exposition checked by a
 * strict 0.0.4 parser, HTTP status codes, stats/counters.reset, the
 * client library and braidctl's formatters; with EAL: the control-thread
 * mode and the /braid telemetry commands over DPDK's telemetry socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "braid_mgmt.h"
#include "braid_mgmt_client.h"
#include "braid_mgmt_fmt.h"
#include "harness.h"

#define IO_TIMEOUT_MS 10000
#define TEST_TOKEN "s3cret-token-0123"

/* ---- test methods and walker ---------------------------------------------------- */

struct test_state {
	int mut_calls;          /* atomic */
	int shutdowns;          /* atomic */
	double lan0_rx;         /* walker counter, set by tests */
	unsigned int many;      /* extra samples to emit (telemetry truncation) */
};
static struct test_state ts = { .lan0_rx = 10 };

static int
m_echo(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	(void)arg;
	(void)err;
	*result = params != NULL ? json_deep_copy(params) : json_null();
	return 0;
}

static int
m_add(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	json_t *a = json_object_get(params, "a"), *b = json_object_get(params, "b");

	(void)arg;
	if (!json_is_object(params))
		return braid_mgmt_error_param(err, "$", "must be an object {\"a\", \"b\"}");
	if (!json_is_integer(a))
		return braid_mgmt_error_param(err, "$.a", "must be an integer");
	if (!json_is_integer(b))
		return braid_mgmt_error_param(err, "$.b", "must be an integer");
	*result = json_integer(json_integer_value(a) + json_integer_value(b));
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

static int
m_fail_data(void *arg, const json_t *params, json_t **result,
	    struct braid_mgmt_error *err)
{
	(void)arg;
	(void)params;
	(void)result;
	braid_mgmt_error_param(err, "$.classes[0].weight", "must be 1..1000");
	err->code = BRAID_MGMT_ERR_FAILED;
	return -EINVAL;
}

static int
m_blob(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	json_int_t n = json_integer_value(json_object_get(params, "n"));
	char *s;

	(void)arg;
	if (n <= 0 || n > (1 << 24))
		return braid_mgmt_error_param(err, "$.n", "must be 1..16777216");
	s = malloc((size_t)n);
	if (s == NULL)
		return -ENOMEM;
	memset(s, 'x', (size_t)n);
	*result = json_stringn(s, (size_t)n);
	free(s);
	return 0;
}

static int
m_mut(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	(void)arg;
	(void)params;
	(void)err;
	*result = json_integer(__atomic_add_fetch(&ts.mut_calls, 1, __ATOMIC_SEQ_CST));
	return 0;
}

static void
on_shutdown(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&ts.shutdowns, 1, __ATOMIC_SEQ_CST);
}

/* Tricky but valid text for label values and help. */
#define WEIRD_VALUE "quote\"back\\slash\nnew line \xc3\xbc" "n\xc3\xaf" "code"
#define WEIRD_HELP "help with \\ backslash\nand a newline"

static void
walker(void *arg, braid_mgmt_emit_fn emit, void *ea)
{
	struct braid_mgmt_label l0[] = { { "port", "lan0" } };
	struct braid_mgmt_label l1[] = { { "port", "lan1" } };
	struct braid_mgmt_label lk[] = { { "link", "lte-a" } };
	struct braid_mgmt_label lw[] = { { "v", WEIRD_VALUE }, { "a", "first" } };
	struct braid_mgmt_label bad_name[] = { { "bad-name", "x" } };
	struct braid_mgmt_label reserved[] = { { "__name", "x" } };
	struct braid_mgmt_label bad_utf8[] = { { "port", "\xff\xfe" } };
	struct braid_mgmt_label dup_label[] = { { "a", "1" }, { "a", "2" } };
	struct braid_mgmt_label nine[9];
	char many_name[16];
	unsigned int i;

	(void)arg;
	emit(ea, "braid_port_rx_packets_total", l0, 1, ts.lan0_rx,
	     BRAID_MGMT_COUNTER, "Packets received on a port");
	emit(ea, "braid_link_rtt_seconds", lk, 1, 0.0451, BRAID_MGMT_GAUGE,
	     "Smoothed round-trip time");
	/* Same family again, not contiguous: must come out grouped. */
	emit(ea, "braid_port_rx_packets_total", l1, 1, 20, BRAID_MGMT_COUNTER,
	     "Packets received on a port");
	emit(ea, "braid_weird", lw, 2, 1, BRAID_MGMT_GAUGE, WEIRD_HELP);
	emit(ea, "braid_uptime_seconds_total", NULL, 0, 1234.5, BRAID_MGMT_COUNTER, NULL);
	emit(ea, "braid_big_total", NULL, 0, 1152921504606846976.0, BRAID_MGMT_COUNTER,
	     "2^60");
	emit(ea, "braid_nan", NULL, 0, NAN, BRAID_MGMT_GAUGE, "not a number");
	emit(ea, "braid_inf", NULL, 0, -INFINITY, BRAID_MGMT_GAUGE, "minus infinity");
	emit(ea, "braid_fec_recovered_packets_total", lk, 1, 7, BRAID_MGMT_COUNTER,
	     "Packets rebuilt by FEC");
	/* Invalid, each left out and counted: 7 samples. */
	emit(ea, "9bad", NULL, 0, 1, BRAID_MGMT_GAUGE, NULL);
	emit(ea, "braid_x", bad_name, 1, 1, BRAID_MGMT_GAUGE, NULL);
	emit(ea, "braid_x", reserved, 1, 1, BRAID_MGMT_GAUGE, NULL);
	emit(ea, "braid_x", bad_utf8, 1, 1, BRAID_MGMT_GAUGE, NULL);
	emit(ea, "braid_x", dup_label, 2, 1, BRAID_MGMT_GAUGE, NULL);
	for (i = 0; i < 9; i++) {
		nine[i].name = i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" : i == 3 ? "d" :
			       i == 4 ? "e" : i == 5 ? "f" : i == 6 ? "g" : i == 7 ? "h" : "i";
		nine[i].value = "v";
	}
	emit(ea, "braid_x", nine, 9, 1, BRAID_MGMT_GAUGE, NULL);
	emit(ea, "braid_port_rx_packets_total", l0, 1, 99, BRAID_MGMT_COUNTER, NULL);
	emit(ea, "braid_port_rx_packets_total", lk, 1, 5, BRAID_MGMT_GAUGE, NULL);
	for (i = 0; i < ts.many; i++) {
		struct braid_mgmt_label lm[] = { { "i", many_name } };

		snprintf(many_name, sizeof(many_name), "n%u", i);
		emit(ea, "braid_many_total", lm, 1, i, BRAID_MGMT_COUNTER, "many");
	}
}
#define WALKER_INVALID 8

/* ---- plumbing --------------------------------------------------------------------- */

struct tconn {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static int
tcp_connect_opt(uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct tconn *
tc_open(uint16_t port)
{
	struct tconn *tc = calloc(1, sizeof(*tc));

	if (tc == NULL)
		return NULL;
	tc->fd = tcp_connect_opt(port, 0);
	if (tc->fd < 0) {
		free(tc);
		return NULL;
	}
	return tc;
}

static void
tc_close(struct tconn *tc)
{
	if (tc == NULL)
		return;
	close(tc->fd);
	free(tc);
}

static int
send_raw(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t r;

	while (n > 0) {
		r = send(fd, c, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Next line without '\n' into a malloc'd string; NULL on EOF/timeout
 * (*eof tells which). */
static char *
tc_line(struct tconn *tc, bool *eof)
{
	int64_t deadline = now_ms() + IO_TIMEOUT_MS;
	struct pollfd p = { .fd = tc->fd, .events = POLLIN };
	char *nl, *line;
	size_t n;
	ssize_t r;

	*eof = false;
	for (;;) {
		nl = memchr(tc->buf, '\n', tc->len);
		if (nl != NULL) {
			n = (size_t)(nl - tc->buf);
			line = strndup(tc->buf, n);
			memmove(tc->buf, nl + 1, tc->len - n - 1);
			tc->len -= n + 1;
			return line;
		}
		if (tc->len == sizeof(tc->buf))
			return NULL;
		if (poll(&p, 1, (int)RTE_MAX(deadline - now_ms(), (int64_t)0)) <= 0)
			return NULL;
		r = recv(tc->fd, tc->buf + tc->len, sizeof(tc->buf) - tc->len, 0);
		if (r <= 0) {
			*eof = true;
			return NULL;
		}
		tc->len += (size_t)r;
	}
}

static bool
json_equal_text(const json_t *j, const char *text)
{
	json_t *t = json_loads(text, 0, NULL);
	bool eq = t != NULL && json_equal(j, t);

	json_decref(t);
	return eq;
}

static json_t *
tc_reply(struct tconn *tc)
{
	bool eof;
	char *line = tc_line(tc, &eof);
	json_t *j;

	if (line == NULL)
		return NULL;
	j = json_loads(line, 0, NULL);
	if (j == NULL)
		fprintf(stderr, "unparsable reply: %s\n", line);
	free(line);
	return j;
}

static json_t *
tc_rpc(struct tconn *tc, const char *line)
{
	if (send_raw(tc->fd, line, strlen(line)) != 0 || send_raw(tc->fd, "\n", 1) != 0)
		return NULL;
	return tc_reply(tc);
}

/* Error code of a reply, 0 for a result, 1 for neither. */
static int
reply_code(const json_t *r)
{
	const json_t *e = json_object_get(r, "error");

	if (e != NULL)
		return (int)json_integer_value(json_object_get(e, "code"));
	return json_object_get(r, "result") != NULL ? 0 : 1;
}

/* True when the peer closes within the timeout (lines before are skipped). */
static bool
tc_wait_eof(struct tconn *tc)
{
	bool eof;
	char *line;

	for (;;) {
		line = tc_line(tc, &eof);
		if (line == NULL)
			return eof;
		free(line);
	}
}

static bool
server_answers(uint16_t port)
{
	struct tconn *tc = tc_open(port);
	json_t *r;
	bool ok;

	if (tc == NULL)
		return false;
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":40,\"b\":2},\"id\":\"chk\"}");
	ok = r != NULL && json_integer_value(json_object_get(r, "result")) == 42 &&
	     strcmp(json_string_value(json_object_get(r, "id")), "chk") == 0;
	json_decref(r);
	tc_close(tc);
	return ok;
}

struct stat_find {
	const char *name;
	uint64_t value;
	bool found;
};

static void
stat_cb(void *arg, const char *name,
	const struct braid_stat_labels *labels, uint64_t value)
{
	struct stat_find *f = arg;

	RTE_SET_USED(labels);
	if (strcmp(name, f->name) == 0) {
		f->value = value;
		f->found = true;
	}
}

static uint64_t
srv_stat(const struct braid_mgmt *srv, const char *name)
{
	struct stat_find f = { .name = name };

	braid_mgmt_stats_report(srv, stat_cb, &f);
	CU_ASSERT(f.found);
	return f.value;
}

/* Wait until counter @p name reaches @p min. */
static bool
wait_stat(const struct braid_mgmt *srv, const char *name, uint64_t min)
{
	int64_t deadline = now_ms() + IO_TIMEOUT_MS;

	while (now_ms() < deadline) {
		if (srv_stat(srv, name) >= min)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void
base_conf(struct braid_mgmt_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->address = "127.0.0.1";
	c->version = "9.9.9-test";
	c->max_clients = 16;
	c->max_batch = 8;
}

static struct braid_mgmt *
server_new(const struct braid_mgmt_conf *conf, bool with_walker)
{
	struct braid_mgmt *srv = braid_mgmt_create(conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT(braid_mgmt_register(srv, "echo", m_echo, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "add", m_add, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "fail", m_fail, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "fail_data", m_fail_data, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "blob", m_blob, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "mut", m_mut, NULL,
				      BRAID_MGMT_F_MUTATING | BRAID_MGMT_F_NO_PARAMS) == 0);
	if (with_walker)
		CU_ASSERT(braid_mgmt_set_stats_walker(srv, walker, NULL) == 0);
	CU_ASSERT_FATAL(braid_mgmt_start(srv) == 0);
	return srv;
}

static struct braid_mgmt *
server_default(void)
{
	struct braid_mgmt_conf c;

	base_conf(&c);
	c.shutdown_cb = on_shutdown;
	return server_new(&c, true);
}

/* ---- built-in methods ------------------------------------------------------------- */

static void
test_builtin_version_methods(void)
{
	struct braid_mgmt *srv = server_default();
	struct tconn *tc = tc_open(braid_mgmt_port(srv));
	json_t *r, *res, *m;
	const char *prev = "";
	bool seen_version = false, seen_mut = false;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	CU_ASSERT(braid_mgmt_port(srv) != 0);
	CU_ASSERT(braid_mgmt_metrics_port(srv) == 0);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":7}");
	res = json_object_get(r, "result");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "name")), "braid");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "version")), "9.9.9-test");
	CU_ASSERT(strncmp(json_string_value(json_object_get(res, "dpdk")), "DPDK ", 5) == 0);
	CU_ASSERT(json_integer_value(json_object_get(r, "id")) == 7);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
	json_decref(r);
	/* version takes no params */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":{\"x\":1},\"id\":8}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INVALID_PARAMS);
	json_decref(r);
	/* empty params are no params */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":[],\"id\":9}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);

	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"methods\",\"id\":\"m\"}");
	res = json_object_get(r, "result");
	CU_ASSERT_FATAL(json_is_array(res));
	json_array_foreach(res, i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));

		CU_ASSERT(strcmp(prev, n) < 0);     /* sorted, unique */
		prev = n;
		if (strcmp(n, "version") == 0) {
			seen_version = true;
			CU_ASSERT(json_is_true(json_object_get(m, "builtin")));
			CU_ASSERT(json_is_false(json_object_get(m, "mutating")));
		}
		if (strcmp(n, "mut") == 0) {
			seen_mut = true;
			CU_ASSERT(json_is_false(json_object_get(m, "builtin")));
			CU_ASSERT(json_is_true(json_object_get(m, "mutating")));
		}
	}
	CU_ASSERT(seen_version && seen_mut);
	/* 4 always-there built-ins + stats, counters.reset + 6 test methods */
	CU_ASSERT(json_array_size(res) == 12);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv);
}

static const char *
type_level(const json_t *res, const char *type)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(res, "types"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "type")), type) == 0)
			return json_string_value(json_object_get(t, "level"));
	return NULL;
}

static void
test_builtin_log_level(void)
{
	static const struct {
		const char *params;
		const char *path;    /* expected data.path */
	} bad[] = {
		{ "{\"type\":\"braid.mgmt\",\"level\":\"loud\"}", "$.level" },
		{ "{\"type\":\"braid.mgmt\",\"level\":9}", "$.level" },
		{ "{\"type\":\"braid.mgmt\",\"level\":0}", "$.level" },
		{ "{\"type\":\"braid.mgmt\",\"level\":true}", "$.level" },
		{ "{\"level\":\"debug\"}", "$.type" },
		{ "{\"type\":\"\"}", "$.type" },
		{ "{\"type\":7}", "$.type" },
		{ "{\"typo\":\"x\"}", "$" },
		{ "[\"braid.*\"]", "$" },
	};
	struct braid_mgmt *srv = server_default();
	struct tconn *tc = tc_open(braid_mgmt_port(srv));
	char line[256];
	json_t *r, *res;
	const char *lvl;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	/* get, all types */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"id\":1}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_is_string(json_object_get(res, "global")));
	CU_ASSERT(json_array_size(json_object_get(res, "types")) > 10);
	lvl = type_level(res, "braid.mgmt");
	CU_ASSERT(lvl != NULL && strcmp(lvl, "info") == 0);
	CU_ASSERT_PTR_NOT_NULL(type_level(res, "lib.eal"));
	json_decref(r);
	/* get by pattern */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"type\":\"braid.*\"},\"id\":2}");
	res = json_object_get(r, "result");
	CU_ASSERT_PTR_NOT_NULL(type_level(res, "braid.mgmt"));
	CU_ASSERT_PTR_NULL(type_level(res, "lib.eal"));
	json_decref(r);
	/* set, then read back; an integer level works too */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"type\":\"braid.mg*\",\"level\":\"warning\"},\"id\":3}");
	lvl = type_level(json_object_get(r, "result"), "braid.mgmt");
	CU_ASSERT(lvl != NULL && strcmp(lvl, "warning") == 0);
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"type\":\"braid.mgmt\"},\"id\":4}");
	lvl = type_level(json_object_get(r, "result"), "braid.mgmt");
	CU_ASSERT(lvl != NULL && strcmp(lvl, "warning") == 0);
	CU_ASSERT(json_array_size(json_object_get(json_object_get(r, "result"), "types")) == 1);
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"type\":\"braid.mgmt\",\"level\":7},\"id\":5}");
	lvl = type_level(json_object_get(r, "result"), "braid.mgmt");
	CU_ASSERT(lvl != NULL && strcmp(lvl, "info") == 0);
	json_decref(r);
	for (i = 0; i < RTE_DIM(bad); i++) {
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":%s,\"id\":%zu}",
			 bad[i].params, i);
		r = tc_rpc(tc, line);
		CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INVALID_PARAMS);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(
			json_object_get(r, "error"), "data"), "path")), bad[i].path);
		json_decref(r);
	}
	tc_close(tc);
	braid_mgmt_free(srv);
}

static void
test_builtin_shutdown(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv = server_default(), *srv2;
	struct tconn *tc = tc_open(braid_mgmt_port(srv));
	int64_t deadline;
	json_t *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	__atomic_store_n(&ts.shutdowns, 0, __ATOMIC_SEQ_CST);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"shutdown\",\"id\":1}");
	CU_ASSERT(json_is_true(json_object_get(json_object_get(r, "result"), "stopping")));
	json_decref(r);
	deadline = now_ms() + IO_TIMEOUT_MS;
	while (__atomic_load_n(&ts.shutdowns, __ATOMIC_SEQ_CST) == 0 && now_ms() < deadline)
		sleep_ms(5);
	CU_ASSERT(__atomic_load_n(&ts.shutdowns, __ATOMIC_SEQ_CST) == 1);
	/* The server keeps answering until the owner stops it; the callback
	 * fires once. */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"shutdown\",\"id\":2}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	CU_ASSERT(__atomic_load_n(&ts.shutdowns, __ATOMIC_SEQ_CST) == 1);
	CU_ASSERT(srv_stat(srv, "shutdowns") == 1);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"shutdown\",\"params\":{\"now\":1},\"id\":3}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INVALID_PARAMS);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv);

	/* Without a callback: -32005. */
	base_conf(&c);
	srv2 = server_new(&c, false);
	tc = tc_open(braid_mgmt_port(srv2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"shutdown\",\"id\":1}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_UNAVAILABLE);
	json_decref(r);
	/* No walker: no stats methods. */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"id\":2}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_METHOD_NOT_FOUND);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv2);
}

static void
test_method_errors(void)
{
	struct braid_mgmt *srv = server_default();
	struct tconn *tc = tc_open(braid_mgmt_port(srv));
	json_t *r, *e, *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":\"2\"},\"id\":\"x\"}");
	e = json_object_get(r, "error");
	d = json_object_get(e, "data");
	CU_ASSERT(json_integer_value(json_object_get(e, "code")) == -32602);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "path")), "$.b");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "reason")), "must be an integer");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "id")), "x");
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":1}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INTERNAL);
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"fail_data\",\"id\":null}");
	e = json_object_get(r, "error");
	CU_ASSERT(json_integer_value(json_object_get(e, "code")) == BRAID_MGMT_ERR_FAILED);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(e, "data"), "path")),
			       "$.classes[0].weight");
	CU_ASSERT(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	/* params reach the handler intact (minus the token) */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"a\":[1,{\"b\":null}],\"token\":\"t\"},\"id\":2.5}");
	CU_ASSERT(json_equal_text(json_object_get(r, "result"), "{\"a\":[1,{\"b\":null}]}"));
	CU_ASSERT(json_real_value(json_object_get(r, "id")) == 2.5);
	json_decref(r);
	/* a batch: results in order, notifications silent */
	r = tc_rpc(tc, "[{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":1},\"id\":1},"
		       "{\"jsonrpc\":\"2.0\",\"method\":\"mut\"},"
		       "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2},"
		       "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":2,\"b\":2},\"id\":3}]");
	CU_ASSERT_FATAL(json_is_array(r));
	CU_ASSERT(json_array_size(r) == 3);
	CU_ASSERT(json_integer_value(json_object_get(json_array_get(r, 0), "result")) == 2);
	CU_ASSERT(reply_code(json_array_get(r, 1)) == BRAID_MGMT_ERR_METHOD_NOT_FOUND);
	CU_ASSERT(json_integer_value(json_object_get(json_array_get(r, 2), "id")) == 3);
	CU_ASSERT(json_integer_value(json_object_get(json_array_get(r, 2), "result")) == 4);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv);
}

/* ---- hostile input ------------------------------------------------------------------ */

#define EXP_NONE   1    /* no reply at all */
#define EXP_RESULT 0    /* a result */
#define S(x) x, sizeof(x) - 1

static void
test_hostile_table(void)
{
	static char deep[200], deep_params[300], long_id[1200];
	static struct {
		const char *raw;
		size_t len;
		int expect;
	} cases[] = {
		{ S("{"), -32700 },
		{ S("not json"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1"), -32700 },
		{ S("["), -32700 },
		{ S("]"), -32700 },
		{ S("\"just a string\""), -32600 },
		{ S("42"), -32600 },
		{ S("null"), -32600 },
		{ S("true"), -32600 },
		{ S("{}"), -32600 },
		{ S("{\"jsonrpc\":\"1.0\",\"method\":\"version\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":2.0,\"method\":\"version\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0 \",\"method\":\"version\",\"id\":1}"), -32600 },
		{ S("{\"method\":\"version\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":[\"version\"],\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":{}}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":[1]}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":true}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":5,\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":\"x\",\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":null,\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1,\"extra\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":5,\"id\":1}"), -32600 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":1}"), -32601 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"VERSION\",\"id\":1}"), -32601 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\\u0000x\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"rpc.discover\",\"id\":1}"), -32601 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":\"x\",\"b\":1},\"id\":1}"), -32602 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":1}"), -32602 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"methods\",\"params\":{\"x\":1},\"id\":1}"), -32602 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":1}"), -32603 },
		{ S("[]"), -32600 },
		{ S("[1,2,3,4,5,6,7,8,9]"), -32600 },           /* over max_batch 8 */
		{ S("[1,\"x\"]"), -32600 },                      /* each member -32600 */
		{ S("\xff\xfe\x00\x01garbage\x80"), -32700 },
		{ S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), -32700 },  /* TLS hello */
		{ S("GET / HTTP/1.1"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\x28\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\x00\"method\":\"version\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"method\":\"x\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":123456789012345678901234567890}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}{\"x\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"ver\x01sion\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"\\ud800\",\"id\":1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1,}"), -32700 },
		{ S("{'jsonrpc':'2.0','method':'version','id':1}"), -32700 },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"), EXP_NONE },   /* notification */
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}"), EXP_NONE },
		{ S("[{\"jsonrpc\":\"2.0\",\"method\":\"mut\"}]"), EXP_NONE },
		{ S("   \t "), EXP_NONE },
		{ S(""), EXP_NONE },
		{ S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}\r"), EXP_RESULT },
		{ S("  {\"jsonrpc\" : \"2.0\" , \"id\" : -1 , \"method\" : \"version\"}  "), EXP_RESULT },
		{ NULL, 0, -32600 },      /* deep: 200 '[' */
		{ NULL, 0, -32600 },      /* deep params */
		{ NULL, 0, EXP_RESULT },  /* 1100-char string id */
	};
	size_t nc = RTE_DIM(cases), i, k;
	struct braid_mgmt *srv = server_default();
	uint16_t port = braid_mgmt_port(srv);
	struct tconn *tc;
	json_t *r, *m;
	int n;

	memset(deep, '[', sizeof(deep));
	cases[nc - 3].raw = deep;
	cases[nc - 3].len = sizeof(deep);
	n = snprintf(deep_params, sizeof(deep_params),
		     "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1,\"params\":{\"a\":");
	for (k = 0; k < 40; k++)
		deep_params[n++] = '[';
	for (k = 0; k < 40; k++)
		deep_params[n++] = ']';
	n += snprintf(deep_params + n, sizeof(deep_params) - (size_t)n, "}}");
	cases[nc - 2].raw = deep_params;
	cases[nc - 2].len = (size_t)n;
	n = snprintf(long_id, sizeof(long_id), "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":\"");
	for (k = 0; k < 1100; k++)
		long_id[n++] = 'i';
	n += snprintf(long_id + n, sizeof(long_id) - (size_t)n, "\"}");
	cases[nc - 1].raw = long_id;
	cases[nc - 1].len = (size_t)n;
	CU_ASSERT(nc >= 40);

	for (i = 0; i < nc; i++) {
		tc = tc_open(port);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
		CU_ASSERT_FATAL(send_raw(tc->fd, cases[i].raw, cases[i].len) == 0);
		CU_ASSERT_FATAL(send_raw(tc->fd, "\n", 1) == 0);
		if (cases[i].expect != EXP_NONE) {
			r = tc_reply(tc);
			CU_ASSERT_PTR_NOT_NULL(r);
			if (json_is_array(r)) {
				CU_ASSERT(json_array_size(r) > 0);
				json_array_foreach(r, k, m)
					CU_ASSERT(reply_code(m) == cases[i].expect);
			} else if (reply_code(r) != cases[i].expect) {
				CU_FAIL("unexpected reply code");
				fprintf(stderr, "case %zu: expected %d, got %d\n", i,
					cases[i].expect, reply_code(r));
			}
			json_decref(r);
		}
		/* The connection still serves: the next reply is this one. */
		r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":2},\"id\":\"after\"}");
		if (r == NULL || json_integer_value(json_object_get(r, "result")) != 3 ||
		    strcmp(json_string_value(json_object_get(r, "id")), "after") != 0) {
			CU_FAIL("connection broken after a hostile line");
			fprintf(stderr, "case %zu: no valid answer after it\n", i);
		}
		json_decref(r);
		tc_close(tc);
	}
	/* Half a line, then disconnect: a clean close, no reply. */
	tc = tc_open(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	send_raw(tc->fd, "{\"jsonrpc\":\"2.0\",\"meth", 22);
	shutdown(tc->fd, SHUT_WR);
	CU_ASSERT(tc_wait_eof(tc));
	CU_ASSERT(tc->len == 0);
	tc_close(tc);
	CU_ASSERT(wait_stat(srv, "drop_incomplete_line", 1));
	/* Requests then half-close: every complete line is answered first. */
	tc = tc_open(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	send_raw(tc->fd, S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}\n"
			   "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":2}\n"));
	shutdown(tc->fd, SHUT_WR);
	r = tc_reply(tc);
	CU_ASSERT(json_integer_value(json_object_get(r, "id")) == 1);
	json_decref(r);
	r = tc_reply(tc);
	CU_ASSERT(json_integer_value(json_object_get(r, "id")) == 2);
	json_decref(r);
	CU_ASSERT(tc_wait_eof(tc));
	tc_close(tc);
	/* Abrupt reset mid-request. */
	tc = tc_open(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	{
		struct linger lg = { 1, 0 };

		send_raw(tc->fd, "{\"jsonrpc\":", 11);
		setsockopt(tc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	tc_close(tc);
	CU_ASSERT(server_answers(port));
	CU_ASSERT(srv_stat(srv, "err_parse") >= 10);
	CU_ASSERT(srv_stat(srv, "err_invalid_request") >= 15);
	CU_ASSERT(srv_stat(srv, "notifications") >= 3);
	braid_mgmt_free(srv);
}

/* ---- authentication ------------------------------------------------------------------ */

static void
test_token_auth(void)
{
	static const struct {
		const char *line;
		int expect;
	} cases[] = {
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"wrong\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"s3cret-token-0124\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"s3cret-token-01\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"s3cret-token-01234\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"s3cret-token-0123\\u0000\",\"id\":1}", -32700 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":{\"token\":\"nope\"},\"id\":1}", -32001 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"" TEST_TOKEN "\",\"id\":1}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":{\"token\":\"" TEST_TOKEN "\"},\"id\":1}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"token\":\"" TEST_TOKEN "\",\"id\":1}", -32601 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"" TEST_TOKEN "\",\"params\":{\"token\":\"x\"},\"id\":1}", 0 },
	};
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	struct tconn *tc;
	json_t *r;
	size_t i;

	base_conf(&c);
	c.token = TEST_TOKEN;
	c.shutdown_cb = on_shutdown;
	srv = server_new(&c, true);
	tc = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	for (i = 0; i < RTE_DIM(cases); i++) {
		r = tc_rpc(tc, cases[i].line);
		if (reply_code(r) != cases[i].expect) {
			CU_FAIL("auth case");
			fprintf(stderr, "auth case %zu: expected %d got %d\n", i,
				cases[i].expect, reply_code(r));
		}
		json_decref(r);
	}
	/* A token authorises its own request only, not the connection. */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":1},\"token\":\"" TEST_TOKEN "\",\"id\":1}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":1},\"id\":2}");
	CU_ASSERT(reply_code(r) == -32001);
	json_decref(r);
	/* The handler never sees the token. */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"k\":1,\"token\":\"" TEST_TOKEN "\"},\"id\":3}");
	CU_ASSERT(json_equal_text(json_object_get(r, "result"), "{\"k\":1}"));
	json_decref(r);
	/* An unauthorised notification does not run. */
	__atomic_store_n(&ts.mut_calls, 0, __ATOMIC_SEQ_CST);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"mut\"}\n"
		       "{\"jsonrpc\":\"2.0\",\"method\":\"mut\",\"token\":\"" TEST_TOKEN "\",\"id\":9}");
	CU_ASSERT(json_integer_value(json_object_get(r, "result")) == 1);
	json_decref(r);
	/* Unauthorised shutdown does not fire. */
	__atomic_store_n(&ts.shutdowns, 0, __ATOMIC_SEQ_CST);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"shutdown\",\"token\":\"x\",\"id\":4}");
	CU_ASSERT(reply_code(r) == -32001);
	json_decref(r);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"" TEST_TOKEN "\",\"id\":5}");
	json_decref(r);
	CU_ASSERT(__atomic_load_n(&ts.shutdowns, __ATOMIC_SEQ_CST) == 0);
	CU_ASSERT(srv_stat(srv, "err_unauthorized") == 11);
	tc_close(tc);
	braid_mgmt_free(srv);

	/* Auth off: a token is accepted and ignored. */
	base_conf(&c);
	srv = server_new(&c, false);
	tc = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"token\":\"anything\",\"id\":1}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv);

	/* A token longer than 255 bytes is a configuration error. */
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		base_conf(&c);
		c.token = big;
		CU_ASSERT_PTR_NULL(braid_mgmt_create(&c));
		CU_ASSERT(rte_errno == EINVAL);
	}
}

/* ---- concurrency and limits ------------------------------------------------------- */

#define CC_THREADS 8
#define CC_REQS 200
#define CC_PIPE 10

struct cc_arg {
	uint16_t port;
	int tid;
	int ok;
};

static void *
cc_worker(void *p)
{
	struct cc_arg *a = p;
	struct tconn *tc = tc_open(a->port);
	char line[160];
	json_t *r;
	int i, k;

	if (tc == NULL)
		return NULL;
	for (i = 0; i < CC_REQS; i += CC_PIPE) {
		/* Pipelined: CC_PIPE requests, then their replies in order. */
		for (k = i; k < i + CC_PIPE; k++) {
			snprintf(line, sizeof(line),
				 "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":%d,\"b\":%d},\"id\":%d}\n",
				 a->tid * 100000, k, k);
			if (send_raw(tc->fd, line, strlen(line)) != 0)
				goto out;
		}
		for (k = i; k < i + CC_PIPE; k++) {
			r = tc_reply(tc);
			if (json_integer_value(json_object_get(r, "id")) == k &&
			    json_integer_value(json_object_get(r, "result")) ==
			    a->tid * 100000 + k)
				a->ok++;
			json_decref(r);
		}
	}
out:
	tc_close(tc);
	return NULL;
}

static void
test_concurrent_clients(void)
{
	struct braid_mgmt *srv = server_default();
	struct cc_arg args[CC_THREADS];
	pthread_t th[CC_THREADS];
	int i, total = 0;

	for (i = 0; i < CC_THREADS; i++) {
		args[i] = (struct cc_arg){ .port = braid_mgmt_port(srv), .tid = i };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, cc_worker, &args[i]) == 0);
	}
	for (i = 0; i < CC_THREADS; i++) {
		pthread_join(th[i], NULL);
		total += args[i].ok;
	}
	CU_ASSERT(total == CC_THREADS * CC_REQS);
	CU_ASSERT(srv_stat(srv, "requests") >= CC_THREADS * CC_REQS);
	CU_ASSERT(wait_stat(srv, "clients_closed", CC_THREADS));
	braid_mgmt_free(srv);
}

static void
test_client_limit(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	struct tconn *a, *b, *x;
	int64_t deadline;
	json_t *r;
	bool ok = false;

	base_conf(&c);
	c.max_clients = 2;
	srv = server_new(&c, false);
	a = tc_open(braid_mgmt_port(srv));
	b = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	r = tc_rpc(a, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	r = tc_rpc(b, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	/* The third gets one error line, then the connection closes, even
	 * when it sent a request first. */
	x = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	send_raw(x->fd, S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}\n"));
	r = tc_reply(x);
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_BUSY);
	CU_ASSERT(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	CU_ASSERT(tc_wait_eof(x));
	tc_close(x);
	CU_ASSERT(srv_stat(srv, "drop_client_limit") == 1);
	/* The first two still work; once one leaves, a newcomer gets in. */
	r = tc_rpc(a, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":2}");
	CU_ASSERT(reply_code(r) == 0);
	json_decref(r);
	tc_close(b);
	deadline = now_ms() + IO_TIMEOUT_MS;
	while (!ok && now_ms() < deadline) {
		CU_ASSERT_FATAL(wait_stat(srv, "clients_closed", 1));
		ok = server_answers(braid_mgmt_port(srv));
	}
	CU_ASSERT(ok);
	tc_close(a);
	braid_mgmt_free(srv);
}

static void
test_oversize_line(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	struct tconn *tc;
	char line[2100];
	size_t pre, k;
	json_t *r;
	int n;

	base_conf(&c);
	c.max_request_bytes = 1024;
	srv = server_new(&c, false);
	/* Exactly at the limit: served. One byte more: refused. */
	for (k = 1024; k <= 1025; k++) {
		tc = tc_open(braid_mgmt_port(srv));
		CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
		n = snprintf(line, sizeof(line),
			     "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1,\"params\":{\"s\":\"");
		pre = (size_t)n;
		memset(line + pre, 'y', k - pre - 3);
		memcpy(line + k - 3, "\"}}", 3);
		line[k] = '\n';
		CU_ASSERT_FATAL(send_raw(tc->fd, line, k + 1) == 0);
		r = tc_reply(tc);
		CU_ASSERT(reply_code(r) == (k == 1024 ? 0 : BRAID_MGMT_ERR_TOO_LARGE));
		json_decref(r);
		if (k == 1025)
			CU_ASSERT(tc_wait_eof(tc));
		tc_close(tc);
	}
	/* A line that never ends: error, then close, while still sending. */
	tc = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	memset(line, 'z', sizeof(line));
	CU_ASSERT(send_raw(tc->fd, line, sizeof(line)) == 0);
	r = tc_reply(tc);
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_TOO_LARGE);
	json_decref(r);
	send_raw(tc->fd, line, sizeof(line));   /* may fail: it is closing */
	CU_ASSERT(tc_wait_eof(tc));
	tc_close(tc);
	CU_ASSERT(srv_stat(srv, "drop_oversize") == 2);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	braid_mgmt_free(srv);
}

static void
test_idle_timeout(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	struct tconn *idle, *busy;
	int64_t end;
	json_t *r;
	bool alive = true;

	base_conf(&c);
	c.idle_timeout_ms = 1500;
	srv = server_new(&c, false);
	idle = tc_open(braid_mgmt_port(srv));
	busy = tc_open(braid_mgmt_port(srv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(idle);
	CU_ASSERT_PTR_NOT_NULL_FATAL(busy);
	/* A client talking every 100 ms outlives several timeouts' worth... */
	end = now_ms() + 2500;
	while (now_ms() < end && alive) {
		r = tc_rpc(busy, "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}");
		alive = reply_code(r) == 0;
		json_decref(r);
		sleep_ms(100);
	}
	CU_ASSERT(alive);
	/* ...the silent one is told and closed. */
	r = tc_reply(idle);
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_IDLE);
	json_decref(r);
	CU_ASSERT(tc_wait_eof(idle));
	CU_ASSERT(srv_stat(srv, "drop_idle") >= 1);
	tc_close(idle);
	tc_close(busy);
	braid_mgmt_free(srv);
}

static void
test_slow_reader(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"blob\",\"params\":{\"n\":16384},\"id\":1}\n";
	int fd, i;

	base_conf(&c);
	c.max_output_bytes = 65536;
	srv = server_new(&c, false);
	fd = tcp_connect_opt(braid_mgmt_port(srv), 4096);
	CU_ASSERT_FATAL(fd >= 0);
	/* 1000 x 16 KiB of replies, never read: more than any socket
	 * buffer holds, so the server's output bound trips. */
	for (i = 0; i < 1000; i++)
		if (send_raw(fd, req, strlen(req)) != 0)
			break;
	CU_ASSERT(wait_stat(srv, "drop_slow_client", 1));
	/* Meanwhile (and after) everyone else is served. */
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	close(fd);
	braid_mgmt_free(srv);
}

/* ---- Prometheus -------------------------------------------------------------------- */

#define PM_MAX 128

struct pm_family {
	char name[128];
	char type[16];
	char help[256];
	bool has_help, has_type, closed;
	int samples;
};

struct pm_sample {
	char family[128];
	char key[512];          /* name + sorted unescaped labels */
	char lname[8][64];
	char lval[8][256];
	int nl;
	double v;
};

struct pm {
	struct pm_family f[PM_MAX];
	int nf;
	struct pm_sample s[PM_MAX];
	int ns;
	int cur;                /* current family index, -1 */
};

static bool
pm_name(const char **p, char *out, size_t len, bool metric)
{
	size_t n = 0;
	const char *s = *p;

	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
	       (metric && *s == ':') || (n > 0 && *s >= '0' && *s <= '9')) {
		if (n + 1 >= len)
			return false;
		out[n++] = *s++;
	}
	out[n] = '\0';
	*p = s;
	return n > 0;
}

static struct pm_family *
pm_family(struct pm *pm, const char *name)
{
	int i;

	for (i = 0; i < pm->nf; i++)
		if (strcmp(pm->f[i].name, name) == 0)
			return &pm->f[i];
	if (pm->nf == PM_MAX)
		return NULL;
	memset(&pm->f[pm->nf], 0, sizeof(pm->f[0]));
	snprintf(pm->f[pm->nf].name, sizeof(pm->f[0].name), "%s", name);
	return &pm->f[pm->nf++];
}

/* Make @p f the current family: the previous one is closed for good. */
static bool
pm_enter(struct pm *pm, struct pm_family *f)
{
	int idx = (int)(f - pm->f);

	if (pm->cur == idx)
		return true;
	if (f->closed || f->samples > 0)
		return false;
	if (pm->cur >= 0)
		pm->f[pm->cur].closed = true;
	pm->cur = idx;
	return true;
}

/* Unescape help (\\ \n) or a label value (\\ \" \n) up to @p end. */
static bool
pm_unescape(const char **p, char *out, size_t len, char end, bool quote)
{
	const char *s = *p;
	size_t n = 0;

	while (*s != end) {
		char c = *s++;

		if (c == '\0' || (c == '\n' && end != '\n') || n + 1 >= len)
			return false;
		if (c == '\\') {
			c = *s++;
			if (c == 'n')
				c = '\n';
			else if (!(c == '\\' || (quote && c == '"')))
				return false;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s;
	return true;
}

static bool
pm_value(const char *s, double *v)
{
	char *end;

	if (strcmp(s, "NaN") == 0) {
		*v = NAN;
		return true;
	}
	if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0) {
		*v = s[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	if (strpbrk(s, "infINFxX") != NULL || s[0] == '\0')
		return false;
	*v = strtod(s, &end);
	return *end == '\0';
}

static int
pm_parse(const char *text, struct pm *pm, char *why, size_t wlen)
{
	const char *p = text, *eol;
	char name[128], buf[512];
	struct pm_family *f;
	struct pm_sample *s;
	size_t n;
	int i, k;

	memset(pm, 0, sizeof(*pm));
	pm->cur = -1;
#define PM_FAIL(...) do { snprintf(why, wlen, __VA_ARGS__); return -1; } while (0)
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		PM_FAIL("no final newline");
	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		if (p == eol)
			continue;
		if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
			bool help = p[2] == 'H';

			p += 7;
			if (!pm_name(&p, name, sizeof(name), true) || *p != ' ')
				PM_FAIL("bad name in HELP/TYPE");
			p++;
			f = pm_family(pm, name);
			if (f == NULL || !pm_enter(pm, f))
				PM_FAIL("HELP/TYPE for %s after its samples", name);
			if (help) {
				if (f->has_help)
					PM_FAIL("second HELP for %s", name);
				if (!pm_unescape(&p, f->help, sizeof(f->help), '\n', false))
					PM_FAIL("bad HELP escape for %s", name);
				f->has_help = true;
			} else {
				n = (size_t)(eol - p);
				if (f->has_type)
					PM_FAIL("second TYPE for %s", name);
				if (n >= sizeof(f->type))
					PM_FAIL("bad TYPE");
				memcpy(f->type, p, n);
				f->type[n] = '\0';
				if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") &&
				    strcmp(f->type, "histogram") && strcmp(f->type, "summary") &&
				    strcmp(f->type, "untyped"))
					PM_FAIL("bad TYPE %s", f->type);
				f->has_type = true;
			}
			continue;
		}
		if (*p == '#')
			continue;
		if (pm->ns == PM_MAX)
			PM_FAIL("too many samples");
		s = &pm->s[pm->ns];
		memset(s, 0, sizeof(*s));
		if (!pm_name(&p, name, sizeof(name), true))
			PM_FAIL("bad sample name");
		f = pm_family(pm, name);
		if (f == NULL || !pm_enter(pm, f))
			PM_FAIL("family %s not contiguous", name);
		snprintf(s->family, sizeof(s->family), "%s", name);
		if (*p == '{') {
			p++;
			while (*p != '}') {
				if (s->nl == 8)
					PM_FAIL("too many labels");
				if (!pm_name(&p, s->lname[s->nl], sizeof(s->lname[0]), false) ||
				    *p++ != '=' || *p++ != '"' ||
				    !pm_unescape(&p, s->lval[s->nl], sizeof(s->lval[0]), '"', true))
					PM_FAIL("bad label in %s", name);
				p++;    /* closing quote */
				for (k = 0; k < s->nl; k++)
					if (strcmp(s->lname[k], s->lname[s->nl]) == 0)
						PM_FAIL("duplicate label in %s", name);
				s->nl++;
				if (*p == ',')
					p++;
				else if (*p != '}')
					PM_FAIL("bad label list in %s", name);
			}
			p++;
		}
		if (*p++ != ' ')
			PM_FAIL("no value separator in %s", name);
		n = (size_t)(eol - p);
		if (n == 0 || n >= sizeof(buf))
			PM_FAIL("bad value in %s", name);
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (strchr(buf, ' ') != NULL)
			*strchr(buf, ' ') = '\0';   /* optional timestamp */
		if (!pm_value(buf, &s->v))
			PM_FAIL("bad value '%.40s' in %.60s", buf, name);
		/* canonical key: labels sorted by name */
		{
			char key[sizeof(s->key)];
			int ord[8], m;

			n = (size_t)snprintf(key, sizeof(key), "%s", name);
			for (k = 0; k < s->nl; k++) {
				for (m = k; m > 0 && strcmp(s->lname[ord[m - 1]], s->lname[k]) > 0; m--)
					ord[m] = ord[m - 1];
				ord[m] = k;
			}
			for (i = 0; i < s->nl && n < sizeof(key); i++)
				n += (size_t)snprintf(key + n, sizeof(key) - n, "|%s=%s",
						      s->lname[ord[i]], s->lval[ord[i]]);
			memcpy(s->key, key, sizeof(key));
		}
		for (i = 0; i < pm->ns; i++)
			if (strcmp(pm->s[i].key, s->key) == 0)
				PM_FAIL("duplicate series %s", s->key);
		f->samples++;
		pm->ns++;
	}
	for (i = 0; i < pm->nf; i++)
		if (pm->f[i].samples == 0)
			PM_FAIL("family %s without samples", pm->f[i].name);
	return 0;
#undef PM_FAIL
}

static const struct pm_sample *
pm_find(const struct pm *pm, const char *family, const char *lname, const char *lval)
{
	int i, k;

	for (i = 0; i < pm->ns; i++) {
		if (strcmp(pm->s[i].family, family) != 0)
			continue;
		if (lname == NULL)
			return &pm->s[i];
		for (k = 0; k < pm->s[i].nl; k++)
			if (strcmp(pm->s[i].lname[k], lname) == 0 &&
			    strcmp(pm->s[i].lval[k], lval) == 0)
				return &pm->s[i];
	}
	return NULL;
}

static const struct pm_family *
pm_fam(const struct pm *pm, const char *name)
{
	int i;

	for (i = 0; i < pm->nf; i++)
		if (strcmp(pm->f[i].name, name) == 0)
			return &pm->f[i];
	return NULL;
}

static void
check_exposition(const char *body)
{
	static struct pm pm;
	const struct pm_sample *s;
	const struct pm_family *f;
	char why[160] = "";
	int i, n;

	if (pm_parse(body, &pm, why, sizeof(why)) != 0) {
		CU_FAIL("strict Prometheus parse failed");
		fprintf(stderr, "parse: %s\n", why);
		return;
	}
	f = pm_fam(&pm, "braid_port_rx_packets_total");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_STRING_EQUAL(f->type, "counter");
	CU_ASSERT_STRING_EQUAL(f->help, "Packets received on a port");
	CU_ASSERT(f->samples == 2);       /* dup and type conflict left out */
	s = pm_find(&pm, "braid_port_rx_packets_total", "port", "lan0");
	CU_ASSERT(s != NULL && s->v == ts.lan0_rx);
	s = pm_find(&pm, "braid_port_rx_packets_total", "port", "lan1");
	CU_ASSERT(s != NULL && s->v == 20);
	CU_ASSERT_PTR_NULL(pm_find(&pm, "braid_port_rx_packets_total", "link", "lte-a"));
	s = pm_find(&pm, "braid_link_rtt_seconds", "link", "lte-a");
	CU_ASSERT(s != NULL && s->v == 0.0451);
	CU_ASSERT_STRING_EQUAL(pm_fam(&pm, "braid_link_rtt_seconds")->type, "gauge");
	s = pm_find(&pm, "braid_weird", "v", WEIRD_VALUE);
	CU_ASSERT(s != NULL && s->nl == 2);
	f = pm_fam(&pm, "braid_weird");
	CU_ASSERT(f != NULL && f->has_help && strcmp(f->help, WEIRD_HELP) == 0);
	f = pm_fam(&pm, "braid_uptime_seconds_total");
	CU_ASSERT(f != NULL && !f->has_help && f->has_type);
	s = pm_find(&pm, "braid_uptime_seconds_total", NULL, NULL);
	CU_ASSERT(s != NULL && s->v == 1234.5 && s->nl == 0);
	s = pm_find(&pm, "braid_big_total", NULL, NULL);
	CU_ASSERT(s != NULL && s->v == 1152921504606846976.0);
	s = pm_find(&pm, "braid_nan", NULL, NULL);
	CU_ASSERT(s != NULL && isnan(s->v));
	s = pm_find(&pm, "braid_inf", NULL, NULL);
	CU_ASSERT(s != NULL && isinf(s->v) && s->v < 0);
	CU_ASSERT_PTR_NULL(pm_fam(&pm, "braid_x"));
	CU_ASSERT_PTR_NULL(pm_fam(&pm, "9bad"));
	s = pm_find(&pm, "braid_mgmt_errors_total", "code", "-32700");
	CU_ASSERT_PTR_NOT_NULL(s);
	s = pm_find(&pm, "braid_mgmt_invalid_samples_total", NULL, NULL);
	CU_ASSERT(s != NULL && s->v >= WALKER_INVALID);
	/* every family has a TYPE */
	for (i = 0, n = 0; i < pm.nf; i++)
		n += pm.f[i].has_type;
	CU_ASSERT(n == pm.nf);
}

/* One HTTP exchange; returns the whole response (malloc'd). */
static char *
http_req(uint16_t port, const char *req, size_t len)
{
	int fd = tcp_connect_opt(port, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (fd < 0 || buf == NULL || send_raw(fd, req, len) != 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
			break;
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int
http_status(const char *resp)
{
	int st = 0;

	if (resp == NULL || sscanf(resp, "HTTP/1.1 %d ", &st) != 1)
		return -1;
	return st;
}

static const char *
http_body(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b != NULL ? b + 4 : NULL;
}

static void
test_prometheus_http(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	uint16_t mp;
	char *resp, *direct, big[9000];
	const char *body;
	size_t dlen, clen = 0;

	base_conf(&c);
	c.metrics = true;
	srv = server_new(&c, true);
	mp = braid_mgmt_metrics_port(srv);
	CU_ASSERT_FATAL(mp != 0 && mp != braid_mgmt_port(srv));

	resp = http_req(mp, S("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"));
	CU_ASSERT_FATAL(http_status(resp) == 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	body = http_body(resp);
	CU_ASSERT_FATAL(body != NULL);
	CU_ASSERT(sscanf(strstr(resp, "Content-Length: "), "Content-Length: %zu", &clen) == 1);
	CU_ASSERT(clen == strlen(body));
	check_exposition(body);
	free(resp);

	direct = braid_mgmt_prometheus(srv, &dlen);
	CU_ASSERT_FATAL(direct != NULL);
	CU_ASSERT(dlen == strlen(direct));
	check_exposition(direct);
	free(direct);

	resp = http_req(mp, S("HEAD /metrics HTTP/1.0\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 200);
	CU_ASSERT(http_body(resp) != NULL && http_body(resp)[0] == '\0');
	CU_ASSERT(strstr(resp, "Content-Length: 0\r\n") == NULL);
	free(resp);
	resp = http_req(mp, S("GET /metrics?name[]=x HTTP/1.1\n\n"));
	CU_ASSERT(http_status(resp) == 200);
	free(resp);
	resp = http_req(mp, S("GET /other HTTP/1.1\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 404);
	free(resp);
	resp = http_req(mp, S("GET / HTTP/1.1\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 404);
	free(resp);
	resp = http_req(mp, S("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 405);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
	free(resp);
	resp = http_req(mp, S("DELETE /metrics HTTP/1.1\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 405);
	free(resp);
	resp = http_req(mp, S("garbage\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 400);
	free(resp);
	resp = http_req(mp, S("GET /metrics HTTP/2.0\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 400);
	free(resp);
	resp = http_req(mp, S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}\n\n"));
	CU_ASSERT(http_status(resp) == 400);
	free(resp);
	memset(big, 'h', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	resp = http_req(mp, big, sizeof(big));
	CU_ASSERT(http_status(resp) == 431);
	free(resp);
	CU_ASSERT(srv_stat(srv, "http_errors") == 8);
	CU_ASSERT(srv_stat(srv, "http_requests") == 11);
	braid_mgmt_free(srv);

	/* Bearer token on /metrics. */
	base_conf(&c);
	c.metrics = true;
	c.metrics_auth = true;
	c.token = TEST_TOKEN;
	srv = server_new(&c, true);
	mp = braid_mgmt_metrics_port(srv);
	resp = http_req(mp, S("GET /metrics HTTP/1.1\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "WWW-Authenticate: Bearer"));
	free(resp);
	resp = http_req(mp, S("GET /metrics HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n"));
	CU_ASSERT(http_status(resp) == 401);
	free(resp);
	resp = http_req(mp, S("GET /metrics HTTP/1.1\r\nauthorization:  bearer " TEST_TOKEN "  \r\n\r\n"));
	CU_ASSERT(http_status(resp) == 200);
	free(resp);
	braid_mgmt_free(srv);
}

/* ---- seeded property test: escaping and values round-trip ------------------------- */

#define RND_N 48

struct rnd_set {
	char lval[RND_N][64];
	char help[RND_N][64];
	double v[RND_N];
};

static struct rnd_set rnd;

static void
rnd_string(uint64_t *st, char *out, size_t len)
{
	static const char *const atoms[] = { "\"", "\\", "\n", "a", "Z", " ", "{", "}",
		"=", ",", "#", "\xc3\xa9", "\xe2\x82\xac", "0", "\\n", "\t" };
	size_t n = 0, k = braid_test_rand(st) % 12, a;

	while (k-- > 0) {
		const char *t = atoms[braid_test_rand(st) % RTE_DIM(atoms)];

		a = strlen(t);
		if (t[0] == '\t' || n + a + 1 > len)
			continue;           /* control characters are refused: skip */
		memcpy(out + n, t, a);
		n += a;
	}
	out[n] = '\0';
}

static double
rnd_value(uint64_t *st)
{
	uint64_t r = braid_test_rand(st);
	double d;

	switch (r % 5) {
	case 0:
		return (double)(braid_test_rand(st) >> (r % 60));        /* integers */
	case 1:
		return -(double)(braid_test_rand(st) >> 40);
	case 2:
		return (double)(braid_test_rand(st) >> 11) / 9007199254740992.0; /* [0,1) */
	case 3:
		r = braid_test_rand(st);
		memcpy(&d, &r, sizeof(d));      /* any finite double */
		return isfinite(d) ? d : 1.5;
	default:
		return ldexp((double)(braid_test_rand(st) >> 11), (int)(r % 200) - 100);
	}
}

static void
rnd_walker(void *arg, braid_mgmt_emit_fn emit, void *ea)
{
	struct braid_mgmt_label l[2];
	char idx[8], name[32];
	int i;

	(void)arg;
	for (i = 0; i < RND_N; i++) {
		snprintf(idx, sizeof(idx), "%d", i);
		l[0] = (struct braid_mgmt_label){ "i", idx };
		l[1] = (struct braid_mgmt_label){ "v", rnd.lval[i] };
		/* one family per sample so each carries its own help */
		snprintf(name, sizeof(name), "braid_rnd_%d", i);
		emit(ea, name, l, 2, rnd.v[i], (i & 1) ? BRAID_MGMT_GAUGE : BRAID_MGMT_COUNTER,
		     rnd.help[i][0] != '\0' ? rnd.help[i] : NULL);
	}
}

static void
test_prometheus_random(void)
{
	static struct pm pm;
	uint64_t seed = braid_test_seed(0x6d676d7470726f6dULL), st;
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	const struct pm_sample *s;
	const struct pm_family *f;
	char why[160], name[32], idx[8], *text;
	int round, i, bad = 0;

	printf("(seed 0x%" PRIx64 ") ", seed);
	st = seed;
	base_conf(&c);
	srv = braid_mgmt_create(&c);
	CU_ASSERT_FATAL(srv != NULL);
	CU_ASSERT_FATAL(braid_mgmt_set_stats_walker(srv, rnd_walker, NULL) == 0);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < RND_N; i++) {
			rnd_string(&st, rnd.lval[i], sizeof(rnd.lval[i]));
			rnd_string(&st, rnd.help[i], sizeof(rnd.help[i]));
			rnd.v[i] = rnd_value(&st);
		}
		text = braid_mgmt_prometheus(srv, NULL);
		CU_ASSERT_FATAL(text != NULL);
		if (pm_parse(text, &pm, why, sizeof(why)) != 0) {
			fprintf(stderr, "round %d: %s\n", round, why);
			bad++;
			free(text);
			continue;
		}
		for (i = 0; i < RND_N; i++) {
			snprintf(name, sizeof(name), "braid_rnd_%d", i);
			snprintf(idx, sizeof(idx), "%d", i);
			s = pm_find(&pm, name, "i", idx);
			f = pm_fam(&pm, name);
			if (s == NULL || f == NULL || s->v != rnd.v[i] || s->nl != 2 ||
			    strcmp(s->lname[1], "v") != 0 || strcmp(s->lval[1], rnd.lval[i]) != 0 ||
			    f->has_help != (rnd.help[i][0] != '\0') ||
			    (f->has_help && strcmp(f->help, rnd.help[i]) != 0) ||
			    strcmp(f->type, (i & 1) ? "gauge" : "counter") != 0) {
				fprintf(stderr, "round %d sample %d differs (value %.17g)\n",
					round, i, rnd.v[i]);
				bad++;
			}
		}
		free(text);
	}
	CU_ASSERT(bad == 0);
	braid_mgmt_free(srv);
}

/* ---- stats and counters.reset ------------------------------------------------------ */

static const json_t *
stat_sample(const json_t *res, const char *name, const char *lname, const char *lval)
{
	const json_t *s, *lv;
	size_t i;

	json_array_foreach(json_object_get(res, "samples"), i, s) {
		if (strcmp(json_string_value(json_object_get(s, "name")), name) != 0)
			continue;
		if (lname == NULL)
			return s;
		lv = json_object_get(json_object_get(s, "labels"), lname);
		if (json_is_string(lv) && strcmp(json_string_value(lv), lval) == 0)
			return s;
	}
	return NULL;
}

static void
test_stats_reset(void)
{
	struct braid_mgmt *srv = server_default();
	struct tconn *tc = tc_open(braid_mgmt_port(srv));
	const json_t *s;
	json_t *r, *res;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	ts.lan0_rx = 10;
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"filter\":\"braid_port\"},\"id\":1}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_is_null(json_object_get(res, "reset_at")));
	CU_ASSERT(json_array_size(json_object_get(res, "samples")) == 2);
	s = stat_sample(res, "braid_port_rx_packets_total", "port", "lan0");
	CU_ASSERT(json_integer_value(json_object_get(s, "value")) == 10);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "type")), "counter");
	json_decref(r);
	/* glob filter */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"filter\":\"braid_*_rtt_*\"},\"id\":2}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_array_size(json_object_get(res, "samples")) == 1);
	s = stat_sample(res, "braid_link_rtt_seconds", "link", "lte-a");
	CU_ASSERT(json_real_value(json_object_get(s, "value")) == 0.0451);
	json_decref(r);
	/* non-finite values as strings */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"id\":3}");
	res = json_object_get(r, "result");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		stat_sample(res, "braid_nan", NULL, NULL), "value")), "NaN");
	CU_ASSERT(json_array_size(json_object_get(res, "samples")) > 20);
	json_decref(r);

	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"counters.reset\",\"id\":4}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_real_value(json_object_get(res, "reset_at")) > 1e9);
	CU_ASSERT(json_integer_value(json_object_get(res, "counters")) > 10);
	json_decref(r);
	ts.lan0_rx = 15;
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"filter\":\"braid_\"},\"id\":5}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_real_value(json_object_get(res, "reset_at")) > 1e9);
	CU_ASSERT(json_integer_value(json_object_get(stat_sample(res,
		"braid_port_rx_packets_total", "port", "lan0"), "value")) == 5);
	CU_ASSERT(json_integer_value(json_object_get(stat_sample(res,
		"braid_port_rx_packets_total", "port", "lan1"), "value")) == 0);
	/* gauges are not baselined */
	CU_ASSERT(json_real_value(json_object_get(stat_sample(res,
		"braid_link_rtt_seconds", NULL, NULL), "value")) == 0.0451);
	/* the server's own counters go through the same baseline */
	CU_ASSERT(json_integer_value(json_object_get(stat_sample(res,
		"braid_mgmt_requests_total", NULL, NULL), "value")) <= 2);
	json_decref(r);
	/* raw: the monotonic value */
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"raw\":true,\"filter\":\"braid_port\"},\"id\":6}");
	res = json_object_get(r, "result");
	CU_ASSERT(json_is_null(json_object_get(res, "reset_at")));
	CU_ASSERT(json_integer_value(json_object_get(stat_sample(res,
		"braid_port_rx_packets_total", "port", "lan0"), "value")) == 15);
	json_decref(r);
	/* a counter that went backwards (restarted) reads raw */
	ts.lan0_rx = 3;
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"filter\":\"braid_port\"},\"id\":7}");
	CU_ASSERT(json_integer_value(json_object_get(stat_sample(json_object_get(r, "result"),
		"braid_port_rx_packets_total", "port", "lan0"), "value")) == 3);
	json_decref(r);
	ts.lan0_rx = 10;
	{
		static const char *const bad[] = {
			"{\"filter\":5}", "{\"raw\":1}", "{\"x\":1}", "[\"braid\"]" };

		for (i = 0; i < RTE_DIM(bad); i++) {
			char line[160];

			snprintf(line, sizeof(line),
				 "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":%s,\"id\":8}", bad[i]);
			r = tc_rpc(tc, line);
			CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INVALID_PARAMS);
			json_decref(r);
		}
	}
	r = tc_rpc(tc, "{\"jsonrpc\":\"2.0\",\"method\":\"counters.reset\",\"params\":{\"a\":1},\"id\":9}");
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_INVALID_PARAMS);
	json_decref(r);
	tc_close(tc);
	braid_mgmt_free(srv);
}

/* ---- API, execute, counters --------------------------------------------------------- */

static int
m_replaced(void *arg, const json_t *params, json_t **result, struct braid_mgmt_error *err)
{
	(void)arg;
	(void)params;
	(void)err;
	*result = json_string("replaced");
	return 0;
}

static void
test_register_execute(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	char name[80], *out;
	json_t *r;

	base_conf(&c);
	srv = braid_mgmt_create(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT(braid_mgmt_register(srv, "", m_echo, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, NULL, m_echo, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, "rpc.x", m_echo, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, "a b", m_echo, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, "a\"b", m_echo, NULL, 0) == -EINVAL);
	memset(name, 'm', 64);
	name[64] = '\0';
	CU_ASSERT(braid_mgmt_register(srv, name, m_echo, NULL, 0) == -EINVAL);
	name[63] = '\0';
	CU_ASSERT(braid_mgmt_register(srv, name, m_echo, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "x", NULL, NULL, 0) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, "x", m_echo, NULL, 0x100) == -EINVAL);
	CU_ASSERT(braid_mgmt_register(srv, "links.list", m_echo, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_register(srv, "links.list", m_echo, NULL, 0) == -EEXIST);
	CU_ASSERT(braid_mgmt_register(srv, "version", m_replaced, NULL, 0) == -EEXIST);
	CU_ASSERT(braid_mgmt_register(srv, "version", m_replaced, NULL,
				      BRAID_MGMT_F_REPLACE) == 0);

	/* execute: the same path without a socket */
	out = braid_mgmt_execute(srv, S("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1}"));
	CU_ASSERT_FATAL(out != NULL);
	r = json_loads(out, 0, NULL);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "result")), "replaced");
	CU_ASSERT(strchr(out, '\n') == NULL);
	json_decref(r);
	free(out);
	CU_ASSERT_PTR_NULL(braid_mgmt_execute(srv, S("{\"jsonrpc\":\"2.0\",\"method\":\"version\"}")));
	CU_ASSERT(rte_errno == ENOMSG);
	out = braid_mgmt_execute(srv, S("{"));
	r = json_loads(out, 0, NULL);
	CU_ASSERT(reply_code(r) == BRAID_MGMT_ERR_PARSE);
	json_decref(r);
	free(out);

	CU_ASSERT(braid_mgmt_start(srv) == 0);
	CU_ASSERT(braid_mgmt_start(srv) == -EALREADY);
	CU_ASSERT(braid_mgmt_register(srv, "late", m_echo, NULL, 0) == -EBUSY);
	CU_ASSERT(braid_mgmt_set_stats_walker(srv, walker, NULL) == -EBUSY);
	CU_ASSERT_PTR_NULL(braid_mgmt_execute(srv, S("{}")));
	CU_ASSERT(rte_errno == EBUSY);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)) == false);  /* no "add" here */
	CU_ASSERT(braid_mgmt_stop(srv) == 0);
	CU_ASSERT(braid_mgmt_stop(srv) == 0);
	/* stopped: registration works again, and a restart serves it */
	CU_ASSERT(braid_mgmt_register(srv, "add", m_add, NULL, 0) == 0);
	CU_ASSERT(braid_mgmt_start(srv) == 0);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	CU_ASSERT(srv_stat(srv, "requests") >= 4);
	CU_ASSERT(srv_stat(srv, "err_parse") == 1);
	CU_ASSERT(srv_stat(srv, "clients_accepted") == 2);
	CU_ASSERT(srv_stat(srv, "bytes_in") > 100);
	braid_mgmt_free(srv);

	/* bad configurations */
	base_conf(&c);
	c.max_request_bytes = 10;
	CU_ASSERT_PTR_NULL(braid_mgmt_create(&c));
	base_conf(&c);
	c.address = "not-an-address";
	CU_ASSERT_PTR_NULL(braid_mgmt_create(&c));
	CU_ASSERT(rte_errno == EINVAL);
	base_conf(&c);
	c.thread = (enum braid_mgmt_thread)7;
	CU_ASSERT_PTR_NULL(braid_mgmt_create(&c));
	CU_ASSERT_PTR_NULL(braid_mgmt_create(NULL));
	/* a taken port */
	base_conf(&c);
	srv = braid_mgmt_create(&c);
	CU_ASSERT_FATAL(srv != NULL);
	c.port = braid_mgmt_port(srv);
	CU_ASSERT_PTR_NULL(braid_mgmt_create(&c));
	CU_ASSERT(rte_errno == EADDRINUSE);
	braid_mgmt_free(srv);
	/* IPv6 loopback, when the host has it */
	base_conf(&c);
	c.address = "::1";
	srv = braid_mgmt_create(&c);
	if (srv != NULL) {
		struct braid_mgmt_client *cl;
		struct braid_mgmt_error err;

		CU_ASSERT(braid_mgmt_start(srv) == 0);
		cl = braid_mgmt_client_connect("::1", braid_mgmt_port(srv), IO_TIMEOUT_MS);
		CU_ASSERT_FATAL(cl != NULL);
		CU_ASSERT(braid_mgmt_client_call(cl, "version", NULL, &r, &err) == 0);
		json_decref(r);
		braid_mgmt_client_close(cl);
		braid_mgmt_free(srv);
	}
}

/* ---- client library ------------------------------------------------------------------- */

/* management.unix_path: a socket born 0600 in a directory made 0700,
 * the same JSON-RPC as over TCP (and a client's garbage answered, the
 * server lives on), a stale socket replaced, a live one or a plain file
 * refused, the socket removed at free. */
static void
test_unix_socket(void)
{
	char dir[] = "/tmp/braid_mgmt_unixXXXXXX", sub[64], path[96], host[128];
	struct braid_mgmt_conf c;
	struct braid_mgmt_client *cl;
	struct braid_mgmt_error err;
	struct braid_mgmt *srv, *srv2;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	uint16_t port;
	json_t *r, *p;
	int fd;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(path, sizeof(path), "%s/gw.sock", sub);
	CU_ASSERT(braid_mgmt_parse_hostport(path, host, sizeof(host), 9099, &port) == 0);
	CU_ASSERT(strcmp(host, path) == 0 && port == 0);

	base_conf(&c);
	c.unix_path = path;
	srv = server_new(&c, true);
	CU_ASSERT(braid_mgmt_port(srv) == 0);
	CU_ASSERT_FATAL(lstat(path, &st) == 0);
	CU_ASSERT(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
	CU_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
	cl = braid_mgmt_client_connect(path, 0, IO_TIMEOUT_MS);
	CU_ASSERT_FATAL(cl != NULL);
	p = json_pack("{s:i, s:i}", "a", 2, "b", 3);
	CU_ASSERT(braid_mgmt_client_call(cl, "add", p, &r, &err) == 0);
	CU_ASSERT(json_integer_value(r) == 5);
	json_decref(r);
	json_decref(p);
	/* garbage gets an error reply; the connection and server live on */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CU_ASSERT_FATAL(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT(write(fd, "{nonsense\n", 10) == 10);
	{
		char buf[512];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		CU_ASSERT(n > 0);
		buf[n > 0 ? n : 0] = '\0';
		CU_ASSERT(strstr(buf, "-32700") != NULL);
	}
	close(fd);
	CU_ASSERT(braid_mgmt_client_call(cl, "version", NULL, &r, &err) == 0);
	json_decref(r);
	braid_mgmt_client_close(cl);

	/* a live socket: a second server is refused, the first keeps it */
	srv2 = braid_mgmt_create(&c);
	CU_ASSERT(srv2 == NULL && rte_errno == EADDRINUSE);
	CU_ASSERT(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	braid_mgmt_free(srv);
	CU_ASSERT(lstat(path, &st) != 0 && errno == ENOENT);

	/* a stale socket (nobody listens) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	srv = server_new(&c, false);
	cl = braid_mgmt_client_connect(path, 0, IO_TIMEOUT_MS);
	CU_ASSERT(cl != NULL);
	braid_mgmt_client_close(cl);
	braid_mgmt_free(srv);

	/* a plain file is not ours to replace */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	srv2 = braid_mgmt_create(&c);
	CU_ASSERT(srv2 == NULL && rte_errno == EADDRINUSE);
	CU_ASSERT(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(path);
	/* relative: refused */
	c.unix_path = "gw.sock";
	CU_ASSERT(braid_mgmt_create(&c) == NULL && rte_errno == EINVAL);
	rmdir(sub);
	rmdir(dir);
}

static void
test_client_lib(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;
	struct braid_mgmt_client *cl;
	struct braid_mgmt_error err;
	char host[64], tok[300], path[] = "/tmp/braid_mgmt_tokXXXXXX";
	json_t *r, *p;
	uint16_t port;
	int fd;

	CU_ASSERT(braid_mgmt_parse_hostport("10.1.2.3:9100", host, sizeof(host), 1, &port) == 0);
	CU_ASSERT(strcmp(host, "10.1.2.3") == 0 && port == 9100);
	CU_ASSERT(braid_mgmt_parse_hostport("gw-a", host, sizeof(host), 9099, &port) == 0);
	CU_ASSERT(strcmp(host, "gw-a") == 0 && port == 9099);
	CU_ASSERT(braid_mgmt_parse_hostport(":7000", host, sizeof(host), 1, &port) == 0);
	CU_ASSERT(strcmp(host, "127.0.0.1") == 0 && port == 7000);
	CU_ASSERT(braid_mgmt_parse_hostport("[::1]:80", host, sizeof(host), 1, &port) == 0);
	CU_ASSERT(strcmp(host, "::1") == 0 && port == 80);
	CU_ASSERT(braid_mgmt_parse_hostport("fe80::1", host, sizeof(host), 5, &port) == 0);
	CU_ASSERT(strcmp(host, "fe80::1") == 0 && port == 5);
	CU_ASSERT(braid_mgmt_parse_hostport("h:0", host, sizeof(host), 1, &port) == -EINVAL);
	CU_ASSERT(braid_mgmt_parse_hostport("h:65536", host, sizeof(host), 1, &port) == -EINVAL);
	CU_ASSERT(braid_mgmt_parse_hostport("h:12x", host, sizeof(host), 1, &port) == -EINVAL);
	CU_ASSERT(braid_mgmt_parse_hostport("h:", host, sizeof(host), 1, &port) == -EINVAL);
	CU_ASSERT(braid_mgmt_parse_hostport("[::1", host, sizeof(host), 1, &port) == -EINVAL);
	CU_ASSERT(braid_mgmt_parse_hostport("h:-1", host, sizeof(host), 1, &port) == -EINVAL);

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, TEST_TOKEN "  \r\nsecond line\n", strlen(TEST_TOKEN) + 16) > 0);
	close(fd);
	CU_ASSERT(braid_mgmt_read_token_file(path, tok, sizeof(tok)) == 0);
	CU_ASSERT_STRING_EQUAL(tok, TEST_TOKEN);
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT(write(fd, "\n", 1) == 1);
	close(fd);
	CU_ASSERT(braid_mgmt_read_token_file(path, tok, sizeof(tok)) == -EINVAL);
	unlink(path);
	CU_ASSERT(braid_mgmt_read_token_file(path, tok, sizeof(tok)) == -ENOENT);

	base_conf(&c);
	c.token = TEST_TOKEN;
	srv = server_new(&c, true);
	port = braid_mgmt_port(srv);
	cl = braid_mgmt_client_connect("127.0.0.1", port, IO_TIMEOUT_MS);
	CU_ASSERT_FATAL(cl != NULL);
	CU_ASSERT(braid_mgmt_client_call(cl, "version", NULL, &r, &err) == -EREMOTEIO);
	CU_ASSERT(err.code == BRAID_MGMT_ERR_UNAUTHORIZED);
	CU_ASSERT_STRING_EQUAL(err.message, "unauthorized");
	CU_ASSERT(braid_mgmt_client_set_token(cl, TEST_TOKEN) == 0);
	CU_ASSERT(braid_mgmt_client_call(cl, "version", NULL, &r, &err) == 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "name")), "braid");
	json_decref(r);
	p = json_pack("{s:i, s:s}", "a", 1, "b", "x");
	CU_ASSERT(braid_mgmt_client_call(cl, "add", p, &r, &err) == -EREMOTEIO);
	CU_ASSERT(err.code == BRAID_MGMT_ERR_INVALID_PARAMS);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(err.data, "path")), "$.b");
	json_decref(err.data);
	json_decref(p);
	/* a large reply */
	p = json_pack("{s:i}", "n", 1 << 20);
	CU_ASSERT(braid_mgmt_client_call(cl, "blob", p, &r, &err) == 0);
	CU_ASSERT(json_string_length(r) == 1u << 20);
	json_decref(r);
	json_decref(p);
	braid_mgmt_client_close(cl);
	braid_mgmt_free(srv);
	/* the server is gone: refused */
	CU_ASSERT_PTR_NULL(braid_mgmt_client_connect("127.0.0.1", port, 1000));
	CU_ASSERT(rte_errno == ECONNREFUSED);
}

/* ---- braidctl formatting ---------------------------------------------------------------- */

static char *
render(int (*fn)(FILE *, const json_t *), const char *json, int *ret)
{
	json_t *j = json_loads(json, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*ret = fn(f, j);
	fclose(f);
	json_decref(j);
	return text;
}

static void
expect_render(int (*fn)(FILE *, const json_t *), const char *json, const char *want)
{
	int ret;
	char *got = render(fn, json, &ret);

	CU_ASSERT(ret == 0);
	if (strcmp(got, want) != 0) {
		CU_FAIL("formatted output differs");
		fprintf(stderr, "want:\n%s\ngot:\n%s\n", want, got);
	}
	free(got);
}

static void
test_fmt_tables(void)
{
	char buf[32];
	int ret;
	char *s;

	braid_mgmt_fmt_bps(950, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "950 bit/s");
	braid_mgmt_fmt_bps(12345678, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "12.3 Mbit/s");
	braid_mgmt_fmt_bps(999999, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1.00 Mbit/s");
	braid_mgmt_fmt_bps(NAN, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "-");
	braid_mgmt_fmt_bytes(1234567890, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1.23 GB");
	braid_mgmt_fmt_bytes(512, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "512 B");

	expect_render(braid_mgmt_fmt_links,
		"{\"links\":[{\"name\":\"lte-a\",\"port\":\"modem0\",\"admin\":\"up\",\"state\":\"up\","
		"\"weight\":3,\"capacity_kbps\":20000,\"rtt_us\":45100,\"jitter_us\":850,"
		"\"loss_ppm\":1000,\"tx_bytes\":1234567890,\"rx_bytes\":512,\"backup\":false},"
		"{\"name\":\"dsl\",\"port\":\"dsl\",\"admin\":\"down\",\"state\":\"down\","
		"\"weight\":10,\"backup\":true,\"future_field\":{\"x\":1}}]}",
		"NAME   PORT    ADMIN  STATE          WEIGHT     CAPACITY      RTT  JITTER    LOSS       TX     RX\n"
		"lte-a  modem0  up     up                  3  20.0 Mbit/s  45.1 ms  850 us  0.10 %  1.23 GB  512 B\n"
		"dsl    dsl     down   down (backup)      10            -        -       -       -        -      -\n");
	expect_render(braid_mgmt_fmt_classes,
		"{\"classes\":[{\"name\":\"voice\",\"weight\":1,\"priority\":true,\"fec\":{\"k\":2,\"m\":2},"
		"\"arq\":{\"enabled\":false,\"deadline_ms\":50},\"policy\":{\"mode\":\"duplicate\",\"copies\":3},"
		"\"queued\":0,\"tx_packets\":1200,\"drops\":0},"
		"{\"name\":\"video\",\"weight\":6,\"priority\":false,\"fec\":\"off\","
		"\"arq\":{\"enabled\":true,\"deadline_ms\":400},\"policy\":{\"mode\":\"pin\",\"links\":[\"lte-b\",\"lte-a\"]},"
		"\"queued\":17,\"tx_packets\":99,\"drops\":2}]}",
		"NAME   WEIGHT  PRIO  FEC  ARQ        POLICY           QUEUED  TX_PACKETS  DROPS\n"
		"voice       1  yes   2+2  off        duplicate x3          0        1200      0\n"
		"video       6  no    off  on 400 ms  pin lte-b,lte-a      17          99      2\n");
	expect_render(braid_mgmt_fmt_stats,
		"{\"reset_at\":null,\"samples\":[{\"name\":\"braid_port_rx_packets_total\","
		"\"labels\":{\"port\":\"lan0\"},\"type\":\"counter\",\"value\":10},"
		"{\"name\":\"braid_link_rtt_seconds\",\"labels\":{\"link\":\"lte-a\",\"dir\":\"tx\"},"
		"\"type\":\"gauge\",\"value\":0.0451},{\"name\":\"braid_up\",\"labels\":{},"
		"\"type\":\"gauge\",\"value\":\"NaN\"}]}",
		"NAME                         LABELS              VALUE\n"
		"braid_port_rx_packets_total  port=lan0              10\n"
		"braid_link_rtt_seconds       link=lte-a,dir=tx  0.0451\n"
		"braid_up                     -                     NaN\n");
	expect_render(braid_mgmt_fmt_stats,
		"{\"reset_at\":86400.5,\"samples\":[]}",
		"NAME  LABELS  VALUE\n(counters since counters.reset at 1970-01-02T00:00:00Z)\n");
	expect_render(braid_mgmt_fmt_version,
		"{\"name\":\"braid\",\"version\":\"0.1.0\",\"dpdk\":\"DPDK 22.11.11\",\"jansson\":\"2.14\"}",
		"braid 0.1.0 (DPDK 22.11.11, jansson 2.14)\n");
	expect_render(braid_mgmt_fmt_log_levels,
		"{\"global\":\"debug\",\"types\":[{\"type\":\"braid.mgmt\",\"level\":\"info\"}]}",
		"global level: debug\nTYPE        LEVEL\nbraid.mgmt  info\n");
	expect_render(braid_mgmt_fmt_methods,
		"[{\"name\":\"links.set\",\"builtin\":false,\"mutating\":true},"
		"{\"name\":\"version\",\"builtin\":true,\"mutating\":false}]",
		"METHOD     BY       MUTATING\nlinks.set  gateway  yes\nversion    server   no\n");
	/* wrong outer shapes */
	s = render(braid_mgmt_fmt_links, "{\"links\":5}", &ret);
	CU_ASSERT(ret == -EPROTO && s[0] == '\0');
	free(s);
	s = render(braid_mgmt_fmt_stats, "[1]", &ret);
	CU_ASSERT(ret == -EPROTO);
	free(s);
	s = render(braid_mgmt_fmt_methods, "{}", &ret);
	CU_ASSERT(ret == -EPROTO);
	free(s);
}

static void
test_fmt_object_error(void)
{
	struct braid_mgmt_error err = { .code = -32602 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	expect_render(braid_mgmt_fmt_object,
		"{\"name\":\"gw-a\",\"links\":{\"up\":2,\"down\":1},"
		"\"lcores\":[{\"lcore\":1,\"stages\":[\"lan_rx\",\"classify\"]}],\"dirty\":false,"
		"\"empty\":{}}",
		"name                 gw-a\n"
		"links.up             2\n"
		"links.down           1\n"
		"lcores[0].lcore      1\n"
		"lcores[0].stages[0]  lan_rx\n"
		"lcores[0].stages[1]  classify\n"
		"dirty                false\n"
		"empty                {}\n");
	snprintf(err.message, sizeof(err.message), "invalid params: $.classes[0].weight: must be 1..1000");
	err.data = json_pack("{s:s, s:s}", "path", "$.classes[0].weight", "reason", "must be 1..1000");
	f = open_memstream(&text, &len);
	braid_mgmt_fmt_error(f, &err);
	json_decref(err.data);
	err.code = -32601;
	snprintf(err.message, sizeof(err.message), "method not found");
	err.data = json_pack("{s:s}", "method", "x");
	braid_mgmt_fmt_error(f, &err);
	json_decref(err.data);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(text,
		"error -32602: invalid params: $.classes[0].weight: must be 1..1000\n"
		"  at $.classes[0].weight: must be 1..1000\n"
		"error -32601: method not found\n"
		"  {\"method\":\"x\"}\n");
	free(text);
}

static void
test_fmt_top(void)
{
	json_t *lp = json_loads("{\"links\":[{\"name\":\"lte-a\",\"state\":\"up\",\"admin\":\"up\","
				"\"capacity_kbps\":20000,\"tx_bytes\":1000000,\"rx_bytes\":0},"
				"{\"name\":\"lte-b\",\"state\":\"degraded\",\"admin\":\"up\","
				"\"capacity_kbps\":0,\"tx_bytes\":0,\"rx_bytes\":0}]}", 0, NULL);
	json_t *ln = json_loads("{\"links\":[{\"name\":\"lte-a\",\"state\":\"up\",\"admin\":\"up\","
				"\"capacity_kbps\":20000,\"tx_bytes\":3500000,\"rx_bytes\":125000,"
				"\"rtt_us\":45100,\"jitter_us\":3200,\"loss_ppm\":1000},"
				"{\"name\":\"lte-b\",\"state\":\"degraded\",\"admin\":\"up\","
				"\"capacity_kbps\":0,\"tx_bytes\":100,\"rx_bytes\":0},"
				"{\"name\":\"dsl\",\"state\":\"down\",\"admin\":\"down\",\"capacity_kbps\":50000}]}",
				0, NULL);
	json_t *sp = json_loads("{\"samples\":[{\"name\":\"braid_fec_recovered_packets_total\","
				"\"labels\":{\"class\":\"a\"},\"value\":100},"
				"{\"name\":\"braid_fec_recovered_packets_total\",\"labels\":{\"class\":\"b\"},"
				"\"value\":10}]}", 0, NULL);
	json_t *sn = json_loads("{\"samples\":[{\"name\":\"braid_fec_recovered_packets_total\","
				"\"labels\":{\"class\":\"a\"},\"value\":110},"
				"{\"name\":\"braid_fec_recovered_packets_total\",\"labels\":{\"class\":\"b\"},"
				"\"value\":20},{\"name\":\"braid_arq_recovered_packets_total\",\"labels\":{},"
				"\"value\":5}]}", 0, NULL);
	struct braid_mgmt_top_view v = { .server = "127.0.0.1:9099", .links_prev = lp,
		.links_now = ln, .stats_prev = sp, .stats_now = sn, .interval_s = 2.0,
		.width = 80, .color = false };
	const char *want =
		"braid top - 127.0.0.1:9099 - 3 links - every 2.0 s - q quits\n"
		"\n"
		"LINK   STATE                  TX               CAP           RX       RTT    JITTER     LOSS\n"
		"lte-a  up            10.0 Mbit/s [#####.....]  50%   500 kbit/s   45.1 ms   3.20 ms   0.10 %\n"
		"lte-b  degraded        400 bit/s [..........]    -      0 bit/s         -         -        -\n"
		"dsl    admin-down              - [..........]    -            -         -         -        -\n"
		"\n"
		"FEC recovered 130 (+10.0/s)    ARQ recovered 5\n";
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT(braid_mgmt_fmt_top(f, &v) == 0);
	fclose(f);
	if (strcmp(text, want) != 0) {
		CU_FAIL("top frame differs");
		fprintf(stderr, "want:\n%s\ngot:\n%s\n", want, text);
	}
	free(text);
	/* first frame: no rates, no recovery rate */
	v.links_prev = NULL;
	v.stats_prev = NULL;
	text = NULL;
	f = open_memstream(&text, &len);
	CU_ASSERT(braid_mgmt_fmt_top(f, &v) == 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "FEC recovered 130    ARQ recovered 5\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "Mbit/s"));
	free(text);
	/* Per class: the shape braid chose, links in time, repairs, shortfall. */
	{
		json_t *cl = json_loads("{\"classes\":[{\"name\":\"a\",\"fec\":\"auto\","
					"\"fec_now\":{\"k\":20,\"m\":1},\"links_in_time\":[\"lte-a\"],"
					"\"shortfall\":{\"now\":true,\"count\":1}},"
					"{\"name\":\"b\",\"fec\":{\"k\":10,\"m\":2},"
					"\"links_in_time\":[\"lte-a\",\"lte-b\",\"dsl\"]}]}", 0, NULL);

		v.links_prev = lp;
		v.stats_prev = sp;
		v.classes_now = cl;
		text = NULL;
		f = open_memstream(&text, &len);
		CU_ASSERT(braid_mgmt_fmt_top(f, &v) == 0);
		fclose(f);
		CU_ASSERT_PTR_NOT_NULL(strstr(text,
			"CLASS  FEC          LINKS     FEC RECOVERED     ARQ RECOVERED            LOST\n"
			"a      auto 20+1      1/3          110 +5/s                 -               -  SHORT\n"
			"b      10+2           3/3           20 +5/s                 -               -\n"));
		free(text);
		v.classes_now = NULL;
		json_decref(cl);
	}
	v.links_now = sn;      /* not {"links":[...]} */
	f = open_memstream(&text, &len);
	CU_ASSERT(braid_mgmt_fmt_top(f, &v) == -EPROTO);
	fclose(f);
	free(text);
	json_decref(lp);
	json_decref(ln);
	json_decref(sp);
	json_decref(sn);
}

/* ---- EAL: control thread and telemetry ---------------------------------------------------- */

static bool eal_up;

static int
eal_suite_init(void)
{
	char prefix[64];
	char *argv[] = { "test_mgmt", "-l", "0", "--no-huge", "-m", "64", "--no-pci",
			 "--no-shconf", prefix, "--log-level=lib.eal:error", NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=braid_mgmt_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	eal_up = true;
	return 0;
}

/* The suite's own EAL runtime directory (unique --file-prefix) goes away
 * with it, telemetry socket included. */
static int
eal_suite_clean(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	if (!eal_up)
		return 0;
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (strstr(dir, "braid_mgmt_") == NULL)
		return 0;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	return 0;
}

static void
test_ctrl_thread(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv;

	base_conf(&c);
	c.thread = BRAID_MGMT_THREAD_EAL_CTRL;
	srv = server_new(&c, false);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	CU_ASSERT(braid_mgmt_stop(srv) == 0);
	CU_ASSERT(braid_mgmt_start(srv) == 0);
	CU_ASSERT(server_answers(braid_mgmt_port(srv)));
	braid_mgmt_free(srv);
}

/* One telemetry exchange over DPDK's v2 socket. */
static json_t *
tel_cmd(const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[1 << 15];
	json_t *j = NULL;
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto out;
	n = recv(fd, buf, sizeof(buf) - 1, 0);      /* the info greeting */
	if (n <= 0 || send(fd, cmd, strlen(cmd), 0) < 0)
		goto out;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	j = json_loads(buf, 0, NULL);
	if (j == NULL)
		fprintf(stderr, "telemetry reply not JSON: %s\n", buf);
out:
	close(fd);
	return j;
}

static void
test_telemetry(void)
{
	struct braid_mgmt_conf c;
	struct braid_mgmt *srv, *other;
	json_t *r, *d;
	const char *k;
	json_t *v;
	size_t i;
	bool found = false;

	base_conf(&c);
	c.telemetry = true;
	c.thread = BRAID_MGMT_THREAD_EAL_CTRL;
	srv = server_new(&c, true);
	/* one owner per process */
	other = braid_mgmt_create(&c);
	CU_ASSERT_PTR_NULL(other);
	CU_ASSERT(rte_errno == EBUSY);

	r = tel_cmd("/braid/version");
	d = json_object_get(r, "/braid/version");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "name")), "braid");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "version")), "9.9.9-test");
	json_decref(r);
	r = tel_cmd("/");
	json_array_foreach(json_object_get(r, "/"), i, v)
		found |= strcmp(json_string_value(v), "/braid/stats") == 0;
	CU_ASSERT(found);
	json_decref(r);

	ts.lan0_rx = 10;
	r = tel_cmd("/braid/stats");
	d = json_object_get(r, "/braid/stats");
	CU_ASSERT_FATAL(json_is_object(d));
	CU_ASSERT(json_integer_value(json_object_get(d, "braid_port_rx_packets_total/lan0")) == 10);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "braid_link_rtt_seconds/lte_a")),
			       "0.0451");
	CU_ASSERT(json_integer_value(json_object_get(d, "braid_big_total")) ==
		  1152921504606846976LL);
	CU_ASSERT_PTR_NULL(json_object_get(d, "truncated"));
	json_decref(r);
	r = tel_cmd("/braid/stats,braid_port");
	d = json_object_get(r, "/braid/stats");
	CU_ASSERT(json_object_size(d) == 2);
	json_object_foreach(d, k, v)
		CU_ASSERT(strncmp(k, "braid_port_rx_packets_total/", 28) == 0);
	json_decref(r);
	r = tel_cmd("/braid/metrics");
	d = json_object_get(r, "/braid/metrics");
	CU_ASSERT(json_is_array(d) && json_array_size(d) > 10);
	json_decref(r);
	/* more samples than a telemetry dict holds: cut, and says so */
	ts.many = 400;
	r = tel_cmd("/braid/stats");
	d = json_object_get(r, "/braid/stats");
	CU_ASSERT(json_integer_value(json_object_get(d, "truncated")) > 100);
	CU_ASSERT(json_object_size(d) <= 256);
	json_decref(r);
	ts.many = 0;
	CU_ASSERT(srv_stat(srv, "telemetry_requests") == 5);
	braid_mgmt_free(srv);
	/* detached: the commands answer null */
	r = tel_cmd("/braid/version");
	CU_ASSERT(r != NULL && json_is_null(json_object_get(r, "/braid/version")));
	json_decref(r);
	/* and a new server may take them */
	srv = braid_mgmt_create(&c);
	CU_ASSERT_PTR_NOT_NULL(srv);
	braid_mgmt_free(srv);

	/* dpdk-telemetry.py, when installed */
	if (access("/usr/bin/dpdk-telemetry.py", X_OK) == 0 && system("python3 -c '' 2>/dev/null") == 0) {
		char cmd[256], out[4096];
		size_t n;
		FILE *p;

		srv = server_new(&c, true);
		snprintf(cmd, sizeof(cmd),
			 "echo /braid/version | python3 /usr/bin/dpdk-telemetry.py -f braid_mgmt_%d 2>&1",
			 (int)getpid());
		p = popen(cmd, "r");
		CU_ASSERT_FATAL(p != NULL);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		pclose(p);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"9.9.9-test\""));
		printf("(dpdk-telemetry.py checked) ");
		braid_mgmt_free(srv);
	}
}

/* ---- registration --------------------------------------------------------------------- */

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("mgmt", NULL, NULL);
	CU_pSuite e;

	if (s == NULL ||
	    CU_add_test(s, "builtin_version_methods", test_builtin_version_methods) == NULL ||
	    CU_add_test(s, "builtin_log_level", test_builtin_log_level) == NULL ||
	    CU_add_test(s, "builtin_shutdown", test_builtin_shutdown) == NULL ||
	    CU_add_test(s, "method_errors_batch", test_method_errors) == NULL ||
	    CU_add_test(s, "hostile_table", test_hostile_table) == NULL ||
	    CU_add_test(s, "token_auth", test_token_auth) == NULL ||
	    CU_add_test(s, "concurrent_clients", test_concurrent_clients) == NULL ||
	    CU_add_test(s, "client_limit", test_client_limit) == NULL ||
	    CU_add_test(s, "oversize_line", test_oversize_line) == NULL ||
	    CU_add_test(s, "idle_timeout", test_idle_timeout) == NULL ||
	    CU_add_test(s, "slow_reader", test_slow_reader) == NULL ||
	    CU_add_test(s, "prometheus_http", test_prometheus_http) == NULL ||
	    CU_add_test(s, "prometheus_random", test_prometheus_random) == NULL ||
	    CU_add_test(s, "stats_reset", test_stats_reset) == NULL ||
	    CU_add_test(s, "register_execute", test_register_execute) == NULL ||
	    CU_add_test(s, "client_lib", test_client_lib) == NULL ||
	    CU_add_test(s, "unix_socket", test_unix_socket) == NULL ||
	    CU_add_test(s, "fmt_tables", test_fmt_tables) == NULL ||
	    CU_add_test(s, "fmt_object_error", test_fmt_object_error) == NULL ||
	    CU_add_test(s, "fmt_top", test_fmt_top) == NULL)
		return -1;
	e = CU_add_suite("mgmt_eal", eal_suite_init, eal_suite_clean);
	if (e == NULL ||
	    CU_add_test(e, "ctrl_thread", test_ctrl_thread) == NULL ||
	    CU_add_test(e, "telemetry", test_telemetry) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("mgmt", register_tests);
}
