/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management client: one TCP connection, one request at a time, replies
 * matched by id. Used by braidctl and the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <rte_errno.h>

#include "braid_mgmt_client.h"

/* Largest reply accepted (config.get of a large rule set stays far below). */
#define CLIENT_MAX_REPLY (64u << 20)

struct braid_mgmt_client {
	int fd;
	int timeout_ms;
	json_int_t next_id;
	char token[BRAID_MGMT_TOKEN_LEN + 1];
	char *buf;              /* received, not yet consumed: buf[0..len) */
	size_t len;
	size_t cap;
};

int
braid_mgmt_parse_hostport(const char *s, char *host, size_t host_len,
			  uint16_t dflt_port, uint16_t *port)
{
	const char *h = s, *colon, *end;
	size_t hl;
	char *e;
	unsigned long p;

	if (s == NULL || host == NULL || port == NULL || host_len == 0)
		return -EINVAL;
	if (s[0] == '/') {   /* a Unix socket's path */
		if (strlen(s) >= host_len || strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		snprintf(host, host_len, "%s", s);
		*port = 0;
		return 0;
	}
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			colon = NULL;   /* bare IPv6 address, no port */
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0) {
		h = "127.0.0.1";
		hl = strlen(h);
	}
	if (hl >= host_len)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = dflt_port;
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &e, 10);
		if (colon[1] == '\0' || *e != '\0' || errno != 0 || p == 0 ||
		    p > 65535 || colon[1] == '-' || colon[1] == '+')
			return -EINVAL;
		*port = (uint16_t)p;
	}
	return 0;
}

int
braid_mgmt_read_token_file(const char *path, char *tok, size_t len)
{
	char buf[BRAID_MGMT_TOKEN_LEN + 3];
	size_t n;
	FILE *f;

	if (path == NULL || tok == NULL || len == 0)
		return -EINVAL;
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL)
		return -EINVAL;
	n = strcspn(buf, "\r\n");
	if (n == sizeof(buf) - 1)
		return -EINVAL;           /* first line too long */
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0 || n > BRAID_MGMT_TOKEN_LEN || n >= len)
		return -EINVAL;
	memcpy(tok, buf, n);
	tok[n] = '\0';
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* A Unix socket (local: connect() completes or fails at once). */
static int
connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* the calls wait in poll(), as on a TCP socket */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

struct braid_mgmt_client *
braid_mgmt_client_connect(const char *host, uint16_t port, int timeout_ms)
{
	struct braid_mgmt_client *c;
	struct addrinfo hints, *ai = NULL, *a;
	char portstr[8];
	int fd = -1, ret = -EINVAL, one = 1, soerr;
	socklen_t sl;
	int64_t deadline;

	if (host == NULL || timeout_ms <= 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	deadline = mono_ms() + timeout_ms;
	if (host[0] == '/') {
		fd = connect_unix(host);
		if (fd < 0) {
			rte_errno = -fd;
			return NULL;
		}
		goto connected;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		ret = -errno;
		if (errno == EINPROGRESS) {
			ret = wait_fd(fd, POLLOUT, deadline);
			sl = sizeof(soerr);
			if (ret == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
				ret = -soerr;
			if (ret == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		rte_errno = -ret;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
connected:
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		rte_errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	return c;
}

int
braid_mgmt_client_set_token(struct braid_mgmt_client *c, const char *token)
{
	size_t n = token != NULL ? strlen(token) : 0;

	if (c == NULL || n > BRAID_MGMT_TOKEN_LEN)
		return -EINVAL;
	memcpy(c->token, token != NULL ? token : "", n);
	c->token[n] = '\0';
	return 0;
}

static int
send_all(struct braid_mgmt_client *c, const char *p, size_t n, int64_t deadline)
{
	ssize_t r;
	int ret;

	while (n > 0) {
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = wait_fd(c->fd, POLLOUT, deadline);
			if (ret != 0)
				return ret;
			continue;
		}
		return -ECONNRESET;
	}
	return 0;
}

/* Next line (without '\n') into a new json_t. */
static int
read_reply(struct braid_mgmt_client *c, json_t **reply, int64_t deadline)
{
	json_error_t jerr;
	char *nl, *p;
	size_t cap, n;
	ssize_t r;
	int ret;

	for (;;) {
		nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl != NULL) {
			n = (size_t)(nl - c->buf);
			*reply = json_loadb(c->buf, n, 0, &jerr);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return *reply != NULL ? 0 : -EPROTO;
		}
		if (c->len >= CLIENT_MAX_REPLY)
			return -EPROTO;
		if (c->cap - c->len < 65536) {
			cap = c->cap != 0 ? c->cap * 2 : 131072;
			p = realloc(c->buf, cap);
			if (p == NULL)
				return -ENOMEM;
			c->buf = p;
			c->cap = cap;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -ECONNRESET;
		ret = wait_fd(c->fd, POLLIN, deadline);
		if (ret != 0)
			return ret;
	}
}

int
braid_mgmt_client_call(struct braid_mgmt_client *c, const char *method,
		       const json_t *params, json_t **result,
		       struct braid_mgmt_error *err)
{
	json_t *req, *reply = NULL, *e, *code, *msg;
	json_int_t id;
	int64_t deadline;
	char *text;
	int ret;

	if (c == NULL || method == NULL || result == NULL ||
	    (params != NULL && !json_is_object(params) && !json_is_array(params)))
		return -EINVAL;
	*result = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	deadline = mono_ms() + c->timeout_ms;
	id = c->next_id++;
	req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", id,
			"method", method);
	if (req == NULL)
		return -ENOMEM;
	if (params != NULL)
		json_object_set(req, "params", (json_t *)(uintptr_t)params);
	if (c->token[0] != '\0')
		json_object_set_new(req, "token", json_string(c->token));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return -ENOMEM;
	ret = send_all(c, text, strlen(text), deadline);
	if (ret == 0)
		ret = send_all(c, "\n", 1, deadline);
	free(text);
	if (ret != 0)
		return ret;
	ret = read_reply(c, &reply, deadline);
	if (ret != 0)
		return ret;
	ret = -EPROTO;
	if (!json_is_object(reply) ||
	    !json_is_string(json_object_get(reply, "jsonrpc")))
		goto out;
	e = json_object_get(reply, "error");
	if (e != NULL) {
		/* A server-initiated error (idle, busy...) carries id null. */
		code = json_object_get(e, "code");
		msg = json_object_get(e, "message");
		if (!json_is_integer(code))
			goto out;
		if (err != NULL) {
			err->code = (int)json_integer_value(code);
			snprintf(err->message, sizeof(err->message), "%s",
				 json_is_string(msg) ? json_string_value(msg) : "");
			err->data = json_incref(json_object_get(e, "data"));
		}
		ret = -EREMOTEIO;
		goto out;
	}
	if (!json_is_integer(json_object_get(reply, "id")) ||
	    json_integer_value(json_object_get(reply, "id")) != id ||
	    json_object_get(reply, "result") == NULL)
		goto out;
	*result = json_incref(json_object_get(reply, "result"));
	ret = 0;
out:
	json_decref(reply);
	return ret;
}

void
braid_mgmt_client_close(struct braid_mgmt_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	memset(c->token, 0, sizeof(c->token));
	free(c);
}
