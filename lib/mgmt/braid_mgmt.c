/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management server: listeners, the epoll loop of the control thread,
 * per-client buffers and limits. Request handling is in mgmt_rpc.c, the
 * metrics exposition in mgmt_metrics.c, telemetry in mgmt_telemetry.c.
 *
 * Connection life: OPEN (read lines, answer) -> CLOSING (no more input,
 * flush what is queued; entered on EOF, an oversize line, an HTTP answer,
 * a refused connection) -> LINGER (write side shut, input discarded until
 * the peer closes, so the last reply is not lost to a reset) -> closed.
 * CLOSING and LINGER have deadlines, so no client can hold a slot forever.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "braid_clock.h"
#include "mgmt_priv.h"

RTE_LOG_REGISTER(braid_mgmt_logtype, braid.mgmt, INFO);

#define MGMT_DEF_MAX_CLIENTS  8
#define MGMT_DEF_MAX_REQUEST  65536
#define MGMT_DEF_MAX_OUTPUT   (16u << 20)
#define MGMT_DEF_MAX_BATCH    64
#define MGMT_DEF_MAX_DEPTH    32
#define MGMT_MIN_REQUEST      64
#define MGMT_MAX_REQUEST      (64u << 20)
#define MGMT_MIN_OUTPUT       4096
#define MGMT_MAX_CLIENTS      4096
#define MGMT_MAX_BATCH        4096
#define MGMT_MAX_DEPTH        1024
#define MGMT_HTTP_MAX_HEADER  8192
#define MGMT_READ_CHUNK       65536
#define MGMT_CLOSING_NS       (5ULL * 1000000000ULL)  /* flush before close */
#define MGMT_LINGER_NS        (1ULL * 1000000000ULL)  /* wait for peer EOF */
#define MGMT_EVENTS           32
#define MGMT_POLL_MS          1000

/* ---- buffers ------------------------------------------------------------- */

int
mgmt_buf_reserve(struct mgmt_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->off > 0 && b->off == b->len) {
		b->off = 0;
		b->len = 0;
	}
	if (b->len + extra <= b->cap)
		return 0;
	if (b->off > 0) {           /* compact before growing */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + extra <= b->cap)
			return 0;
	}
	need = b->len + extra;
	if (need < b->len)
		return -ENOMEM;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
mgmt_buf_append(struct mgmt_buf *b, const void *data, size_t n)
{
	if (mgmt_buf_reserve(b, n + 1) != 0)
		return -ENOMEM;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
mgmt_buf_printf(struct mgmt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || mgmt_buf_reserve(b, (size_t)n + 1) != 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
mgmt_buf_free(struct mgmt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- errors for handlers -------------------------------------------------- */

int
braid_mgmt_error_set(struct braid_mgmt_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
braid_mgmt_error_param(struct braid_mgmt_error *err, const char *path,
		       const char *fmt, ...)
{
	char reason[BRAID_MGMT_ERRMSG_LEN];
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	err->code = BRAID_MGMT_ERR_INVALID_PARAMS;
	snprintf(err->message, sizeof(err->message), "invalid params: %.80s: %.150s",
		 path, reason);
	json_decref(err->data);
	err->data = json_object();
	if (err->data != NULL) {
		json_object_set_new(err->data, "path", mgmt_json_string(path));
		json_object_set_new(err->data, "reason", mgmt_json_string(reason));
	}
	return -EINVAL;
}

/* ---- sockets -------------------------------------------------------------- */

static int
mgmt_listen(const char *address, uint16_t port, uint16_t *bound)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[8];
	int fd, one = 1, ret;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	ret = getaddrinfo(address, portstr, &hints, &ai);
	if (ret != 0 || ai == NULL) {
		MGMT_LOG(ERR, "mgmt: bad listen address '%s': %s", address,
			 gai_strerror(ret));
		if (ai != NULL)
			freeaddrinfo(ai);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		freeaddrinfo(ai);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		ret = -errno;
		MGMT_LOG(ERR, "mgmt: cannot listen on %s port %u: %s", address,
			 port, strerror(-ret));
		close(fd);
		freeaddrinfo(ai);
		return ret;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6)
		*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A Unix socket at @p path, mode 0600: local control, guarded by the
 * file system. A socket already there that nobody answers on (a
 * previous run's) is replaced; a live one or any other file is not. */
static int
mgmt_listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int fd, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			ret = -errno;
			MGMT_LOG(ERR, "mgmt: cannot create %s: %s", dir, strerror(-ret));
			return ret;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != ECONNREFUSED) {
			MGMT_LOG(ERR, "mgmt: %s exists and is %s", path, S_ISSOCK(st.st_mode) ?
				 "in use (another braid?)" : "not a socket");
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	old = umask(0177);   /* the socket is born 0600: no window */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret != 0 || listen(fd, 64) != 0) {
		ret = -errno;
		MGMT_LOG(ERR, "mgmt: cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

static void
mgmt_peer_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_UNIX) {
		snprintf(buf, len, "unix");
	} else {
		snprintf(buf, len, "?");
	}
}

static int
mgmt_epoll_set(struct braid_mgmt *srv, struct mgmt_conn *c, int op,
	       uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	return epoll_ctl(srv->ep_fd, op, c->fd, &ev) == 0 ? 0 : -errno;
}

/* ---- connections ---------------------------------------------------------- */

static void
conn_close(struct braid_mgmt *srv, struct mgmt_conn *c)
{
	unsigned int i;

	epoll_ctl(srv->ep_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->shutdown_after)
		srv->shutdown_pending = true;
	if (c->counted) {
		if (c->kind == MGMT_K_RPC)
			__atomic_fetch_sub(&srv->n_rpc, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_sub(&srv->n_http, 1, __ATOMIC_RELAXED);
		MGMT_CNT_ADD(srv, clients_closed, 1);
	}
	for (i = 0; i < srv->n_conns; i++) {
		if (srv->conns[i] == c) {
			srv->conns[i] = srv->conns[--srv->n_conns];
			break;
		}
	}
	MGMT_LOG(DEBUG, "mgmt: %s closed", c->peer);
	mgmt_buf_free(&c->in);
	mgmt_buf_free(&c->out);
	free(c);
}

/* Stop reading; flush, then linger, then close. */
static void
conn_closing(struct braid_mgmt *srv, struct mgmt_conn *c, uint64_t now)
{
	if (c->state != MGMT_S_OPEN)
		return;
	c->state = MGMT_S_CLOSING;
	c->deadline_ns = now + MGMT_CLOSING_NS;
	c->in.off = 0;
	c->in.len = 0;
	c->want_out = true;
	mgmt_epoll_set(srv, c, EPOLL_CTL_MOD, EPOLLOUT);
}

static void
conn_linger(struct braid_mgmt *srv, struct mgmt_conn *c, uint64_t now)
{
	c->state = MGMT_S_LINGER;
	c->deadline_ns = now + MGMT_LINGER_NS;
	c->want_out = false;
	if (shutdown(c->fd, SHUT_WR) != 0 ||
	    mgmt_epoll_set(srv, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP) != 0)
		conn_close(srv, c);
}

/* Send what is queued. @return false when the connection was closed. */
static bool
conn_flush(struct braid_mgmt *srv, struct mgmt_conn *c, uint64_t now)
{
	struct mgmt_buf *o = &c->out;
	ssize_t r;

	while (o->off < o->len) {
		r = send(c->fd, o->p + o->off, o->len - o->off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			o->off += (size_t)r;
			MGMT_CNT_ADD(srv, bytes_out, r);
			c->last_ns = now;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		MGMT_CNT_ADD(srv, drop_io_error, 1);
		conn_close(srv, c);
		return false;
	}
	if (o->off < o->len) {
		if (!c->want_out) {
			c->want_out = true;
			mgmt_epoll_set(srv, c, EPOLL_CTL_MOD,
				       EPOLLIN | EPOLLOUT | EPOLLRDHUP);
		}
		return true;
	}
	o->off = 0;
	o->len = 0;
	if (c->shutdown_after) {
		c->shutdown_after = false;
		srv->shutdown_pending = true;
	}
	if (c->state == MGMT_S_CLOSING) {
		conn_linger(srv, c, now);
		return c->state == MGMT_S_LINGER;
	}
	if (c->want_out) {
		c->want_out = false;
		mgmt_epoll_set(srv, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
	}
	return true;
}

/* A client that does not read its replies loses its connection. */
static bool
conn_check_output(struct braid_mgmt *srv, struct mgmt_conn *c)
{
	if (mgmt_buf_pending(&c->out) <= srv->max_output)
		return true;
	MGMT_LOG(NOTICE, "mgmt: %s dropped: %zu reply bytes unread (limit %u)",
		 c->peer, mgmt_buf_pending(&c->out), srv->max_output);
	MGMT_CNT_ADD(srv, drop_slow_client, 1);
	conn_close(srv, c);
	return false;
}

/* Handle the complete lines in c->in. @return false when c was closed. */
static bool
conn_rpc_lines(struct braid_mgmt *srv, struct mgmt_conn *c, size_t scan_from,
	       uint64_t now)
{
	struct mgmt_buf *in = &c->in;
	struct mgmt_ctx ctx = { .peer = c->peer, .shutdown = false };
	size_t start = in->off, len;
	char *nl;

	for (;;) {
		nl = memchr(in->p + scan_from, '\n', in->len - scan_from);
		if (nl == NULL)
			break;
		len = (size_t)(nl - (in->p + start));
		scan_from = (size_t)(nl - in->p) + 1;
		if (len > 0 && in->p[start + len - 1] == '\r')
			len--;
		if (len > srv->max_request) {
			MGMT_CNT_ADD(srv, drop_oversize, 1);
			mgmt_rpc_error_line(srv, &c->out, BRAID_MGMT_ERR_TOO_LARGE,
					    "request line too long");
			conn_closing(srv, c, now);
			return conn_flush(srv, c, now);
		}
		mgmt_rpc_line(srv, &ctx, in->p + start, len, &c->out);
		if (ctx.shutdown) {
			c->shutdown_after = true;
			ctx.shutdown = false;
		}
		start = scan_from;
		if (!conn_check_output(srv, c))
			return false;
	}
	in->off = start;
	if (in->len - in->off > (size_t)srv->max_request + 1) {
		MGMT_CNT_ADD(srv, drop_oversize, 1);
		mgmt_rpc_error_line(srv, &c->out, BRAID_MGMT_ERR_TOO_LARGE,
				    "request line too long");
		conn_closing(srv, c, now);
	}
	return conn_flush(srv, c, now);
}

static bool
conn_http_request(struct braid_mgmt *srv, struct mgmt_conn *c, uint64_t now)
{
	struct mgmt_buf *in = &c->in;
	size_t end = mgmt_http_header_end(in->p + in->off, in->len - in->off);

	if (end == 0) {
		if (in->len - in->off < MGMT_HTTP_MAX_HEADER)
			return true;
		mgmt_http_error(srv, &c->out, 431,
				"Request Header Fields Too Large");
	} else {
		mgmt_http_handle(srv, in->p + in->off, end, &c->out);
	}
	conn_closing(srv, c, now);
	return conn_flush(srv, c, now);
}

static void
conn_read(struct braid_mgmt *srv, struct mgmt_conn *c, uint64_t now)
{
	size_t cap, old, pending, want;
	ssize_t r;
	char scratch[4096];

	if (c->state == MGMT_S_LINGER) {
		for (;;) {
			r = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
			if (r > 0) {
				MGMT_CNT_ADD(srv, bytes_in, r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			conn_close(srv, c);   /* EOF or error: done */
			return;
		}
	}
	if (c->state != MGMT_S_OPEN)
		return;
	/* Unparsed input never exceeds the longest acceptable line plus
	 * "\r\n" (RPC) or the header limit (HTTP): longer is refused. */
	cap = c->kind == MGMT_K_RPC ? (size_t)srv->max_request + 2 :
				      MGMT_HTTP_MAX_HEADER;
	pending = mgmt_buf_pending(&c->in);
	want = RTE_MIN(cap > pending ? cap - pending : 1, (size_t)MGMT_READ_CHUNK);
	if (mgmt_buf_reserve(&c->in, want + 1) != 0) {
		MGMT_CNT_ADD(srv, drop_io_error, 1);
		conn_close(srv, c);
		return;
	}
	old = c->in.len;    /* after reserve(), which may compact */
	r = recv(c->fd, c->in.p + c->in.len, want, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r < 0) {
		MGMT_CNT_ADD(srv, drop_io_error, 1);
		conn_close(srv, c);
		return;
	}
	if (r == 0) {
		/* Peer done sending: answer what is complete, then close. */
		if (c->in.len > c->in.off)
			MGMT_CNT_ADD(srv, drop_incomplete_line, 1);
		conn_closing(srv, c, now);
		conn_flush(srv, c, now);
		return;
	}
	MGMT_CNT_ADD(srv, bytes_in, r);
	c->last_ns = now;
	c->in.len += (size_t)r;
	if (c->kind == MGMT_K_RPC)
		conn_rpc_lines(srv, c, old, now);
	else
		conn_http_request(srv, c, now);
}

static void
conn_event(struct braid_mgmt *srv, struct mgmt_conn *c, uint32_t events,
	   uint64_t now)
{
	if (events & EPOLLERR) {
		MGMT_CNT_ADD(srv, drop_io_error, 1);
		conn_close(srv, c);
		return;
	}
	if (events & EPOLLOUT) {
		if (!conn_flush(srv, c, now))
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
		if (c->state == MGMT_S_CLOSING && (events & EPOLLHUP)) {
			conn_close(srv, c);   /* nobody left to read the reply */
			return;
		}
		conn_read(srv, c, now);
	}
}

static void
mgmt_accept(struct braid_mgmt *srv, int lfd, enum mgmt_kind kind, uint64_t now)
{
	struct sockaddr_storage ss;
	struct mgmt_conn *c;
	socklen_t sl;
	unsigned int *count = kind == MGMT_K_RPC ? &srv->n_rpc : &srv->n_http;
	bool refuse;
	int fd, one = 1;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				MGMT_LOG(WARNING, "mgmt: accept: %s", strerror(errno));
			return;
		}
		refuse = *count >= srv->max_clients;
		if (refuse) {
			MGMT_CNT_ADD(srv, drop_client_limit, 1);
			/* Too many being refused already: no polite answer. */
			if (srv->n_conns - srv->n_rpc - srv->n_http >=
			    2 * srv->max_clients) {
				close(fd);
				continue;
			}
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->kind = kind;
		c->fd = fd;
		c->state = MGMT_S_OPEN;
		c->last_ns = now;
		mgmt_peer_name(&ss, c->peer, sizeof(c->peer));
		if (ss.ss_family != AF_UNIX)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (mgmt_epoll_set(srv, c, EPOLL_CTL_ADD, EPOLLIN | EPOLLRDHUP) != 0) {
			close(fd);
			free(c);
			continue;
		}
		srv->conns[srv->n_conns++] = c;
		if (refuse) {
			MGMT_LOG(DEBUG, "mgmt: %s refused: %u clients", c->peer,
				 *count);
			if (kind == MGMT_K_RPC)
				mgmt_rpc_error_line(srv, &c->out, BRAID_MGMT_ERR_BUSY,
						    "too many clients");
			else
				mgmt_http_error(srv, &c->out, 503,
						"Service Unavailable");
			conn_closing(srv, c, now);
			conn_flush(srv, c, now);
			continue;
		}
		c->counted = true;
		__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
		MGMT_CNT_ADD(srv, clients_accepted, 1);
		MGMT_LOG(DEBUG, "mgmt: %s connected (%s)", c->peer,
			 kind == MGMT_K_RPC ? "json-rpc" : "http");
	}
}

/* Close idle clients and expired CLOSING/LINGER connections.
 * @return ms until the next deadline (capped). */
static int
mgmt_timers(struct braid_mgmt *srv, uint64_t now)
{
	uint64_t next = now + (uint64_t)MGMT_POLL_MS * 1000000ULL, dl;
	unsigned int i = 0;
	struct mgmt_conn *c;
	ssize_t r;

	while (i < srv->n_conns) {
		c = srv->conns[i];
		if (c->state != MGMT_S_OPEN) {
			dl = c->deadline_ns;
		} else if (srv->idle_ms != 0) {
			dl = c->last_ns + (uint64_t)srv->idle_ms * 1000000ULL;
		} else {
			i++;
			continue;
		}
		if (now < dl) {
			next = RTE_MIN(next, dl);
			i++;
			continue;
		}
		if (c->state == MGMT_S_OPEN) {
			MGMT_CNT_ADD(srv, drop_idle, 1);
			MGMT_LOG(DEBUG, "mgmt: %s idle, closing", c->peer);
			if (c->kind == MGMT_K_RPC) {
				mgmt_rpc_error_line(srv, &c->out, BRAID_MGMT_ERR_IDLE,
						    "idle timeout");
				/* One attempt: an idle peer gets no second chance. */
				r = send(c->fd, c->out.p + c->out.off,
					 mgmt_buf_pending(&c->out),
					 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (r > 0)
					MGMT_CNT_ADD(srv, bytes_out, r);
			}
		}
		conn_close(srv, c);   /* swaps another conn into slot i */
	}
	return (int)((next - now + 999999ULL) / 1000000ULL);
}

static void
mgmt_fire_shutdown(struct braid_mgmt *srv)
{
	if (!srv->shutdown_pending || srv->shutdown_fired)
		return;
	srv->shutdown_pending = false;
	srv->shutdown_fired = true;
	MGMT_CNT_ADD(srv, shutdowns, 1);
	MGMT_LOG(NOTICE, "mgmt: shutdown requested");
	if (srv->shutdown_cb != NULL)
		srv->shutdown_cb(srv->shutdown_arg);
}

static void *
mgmt_thread_main(void *arg)
{
	struct braid_mgmt *srv = arg;
	struct epoll_event ev[MGMT_EVENTS];
	struct mgmt_conn *c;
	uint64_t now, val;
	int n, i, timeout = 0;

	while (!__atomic_load_n(&srv->stop, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(srv->ep_fd, ev, MGMT_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			MGMT_LOG(ERR, "mgmt: epoll_wait: %s", strerror(errno));
			break;
		}
		now = braid_mono_ns();
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			switch (c->kind) {
			case MGMT_K_LISTEN_RPC:
				mgmt_accept(srv, srv->rpc_fd, MGMT_K_RPC, now);
				break;
			case MGMT_K_LISTEN_HTTP:
				mgmt_accept(srv, srv->http_fd, MGMT_K_HTTP, now);
				break;
			case MGMT_K_WAKE:
				if (read(srv->ev_fd, &val, sizeof(val)) < 0)
					val = 0;
				break;
			default:
				conn_event(srv, c, ev[i].events, now);
				break;
			}
		}
		mgmt_fire_shutdown(srv);
		timeout = mgmt_timers(srv, braid_mono_ns());
	}
	while (srv->n_conns > 0)
		conn_close(srv, srv->conns[srv->n_conns - 1]);
	mgmt_fire_shutdown(srv);
	return NULL;
}

/* ---- API ------------------------------------------------------------------ */

static int
conf_limit(uint32_t v, uint32_t dflt, uint32_t min, uint32_t max, uint32_t *out,
	   const char *what)
{
	if (v == 0)
		v = dflt;
	if (v < min || v > max) {
		MGMT_LOG(ERR, "mgmt: %s %u out of range %u..%u", what, v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
mgmt_conf_check(struct braid_mgmt *srv, const struct braid_mgmt_conf *conf)
{
	const char *a = conf->address != NULL ? conf->address : "127.0.0.1";
	const char *ma = conf->metrics_address != NULL ? conf->metrics_address : a;
	const char *v = conf->version != NULL ? conf->version : BRAID_VERSION;
	const char *up = conf->unix_path != NULL ? conf->unix_path : "";
	size_t tl = conf->token != NULL ? strlen(conf->token) : 0;

	if (up[0] != '\0' && (up[0] != '/' || strlen(up) >= sizeof(srv->unix_path))) {
		MGMT_LOG(ERR, "mgmt: unix_path must be absolute and shorter than %zu bytes",
			 sizeof(srv->unix_path));
		return -EINVAL;
	}
	snprintf(srv->unix_path, sizeof(srv->unix_path), "%s", up);
	if (strlen(a) >= sizeof(srv->address) || strlen(ma) >= sizeof(srv->metrics_address) ||
	    strlen(v) >= sizeof(srv->version) || tl > BRAID_MGMT_TOKEN_LEN) {
		MGMT_LOG(ERR, "mgmt: address, version or token too long");
		return -EINVAL;
	}
	if (conf->thread != BRAID_MGMT_THREAD_PTHREAD &&
	    conf->thread != BRAID_MGMT_THREAD_EAL_CTRL) {
		MGMT_LOG(ERR, "mgmt: bad thread mode %d", (int)conf->thread);
		return -EINVAL;
	}
	if (conf_limit(conf->max_clients, MGMT_DEF_MAX_CLIENTS, 1, MGMT_MAX_CLIENTS,
		       &srv->max_clients, "max_clients") != 0 ||
	    conf_limit(conf->max_request_bytes, MGMT_DEF_MAX_REQUEST, MGMT_MIN_REQUEST,
		       MGMT_MAX_REQUEST, &srv->max_request, "max_request_bytes") != 0 ||
	    conf_limit(conf->max_output_bytes, MGMT_DEF_MAX_OUTPUT, MGMT_MIN_OUTPUT,
		       UINT32_MAX, &srv->max_output, "max_output_bytes") != 0 ||
	    conf_limit(conf->max_batch, MGMT_DEF_MAX_BATCH, 1, MGMT_MAX_BATCH,
		       &srv->max_batch, "max_batch") != 0 ||
	    conf_limit(conf->max_depth, MGMT_DEF_MAX_DEPTH, 2, MGMT_MAX_DEPTH,
		       &srv->max_depth, "max_depth") != 0)
		return -EINVAL;
	snprintf(srv->address, sizeof(srv->address), "%s", a);
	snprintf(srv->metrics_address, sizeof(srv->metrics_address), "%s", ma);
	snprintf(srv->version, sizeof(srv->version), "%s", v);
	if (tl > 0)
		memcpy(srv->token, conf->token, tl);
	srv->token_len = tl;
	srv->port = conf->port;
	srv->metrics = conf->metrics;
	srv->metrics_port = conf->metrics_port;
	srv->metrics_auth = conf->metrics_auth;
	srv->idle_ms = conf->idle_timeout_ms;
	srv->thread_mode = conf->thread;
	srv->telemetry = conf->telemetry;
	srv->shutdown_cb = conf->shutdown_cb;
	srv->shutdown_arg = conf->shutdown_arg;
	return 0;
}

static void
mgmt_release(struct braid_mgmt *srv)
{
	unsigned int i;

	if (srv->telemetry)
		mgmt_telemetry_detach(srv);
	if (srv->rpc_fd >= 0) {
		close(srv->rpc_fd);
		if (srv->unix_path[0] != '\0')
			unlink(srv->unix_path);
	}
	if (srv->http_fd >= 0)
		close(srv->http_fd);
	if (srv->ep_fd >= 0)
		close(srv->ep_fd);
	if (srv->ev_fd >= 0)
		close(srv->ev_fd);
	for (i = 0; i < srv->n_conns; i++) {
		close(srv->conns[i]->fd);
		mgmt_buf_free(&srv->conns[i]->in);
		mgmt_buf_free(&srv->conns[i]->out);
		free(srv->conns[i]);
	}
	free(srv->conns);
	free(srv->methods);
	mgmt_base_free(srv);
	pthread_mutex_destroy(&srv->walk_lock);
	memset(srv->token, 0, sizeof(srv->token));
	free(srv);
}

struct braid_mgmt *
braid_mgmt_create(const struct braid_mgmt_conf *conf)
{
	struct braid_mgmt *srv;
	void *mem;
	int ret;

	if (conf == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (posix_memalign(&mem, RTE_CACHE_LINE_SIZE, sizeof(*srv)) != 0) {
		rte_errno = ENOMEM;
		return NULL;
	}
	srv = mem;
	memset(srv, 0, sizeof(*srv));
	srv->rpc_fd = srv->http_fd = srv->ep_fd = srv->ev_fd = -1;
	srv->reset_at = -1.0;
	pthread_mutex_init(&srv->walk_lock, NULL);
	ret = mgmt_conf_check(srv, conf);
	if (ret != 0)
		goto fail;
	/* Room for every RPC and HTTP client plus as many being refused. */
	srv->conns_cap = 4 * srv->max_clients;
	srv->conns = calloc(srv->conns_cap, sizeof(*srv->conns));
	if (srv->conns == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	srv->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	srv->ev_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->ep_fd < 0 || srv->ev_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (srv->unix_path[0] != '\0') {
		srv->port = 0;
		ret = mgmt_listen_unix(srv->unix_path);
	} else {
		ret = mgmt_listen(srv->address, srv->port, &srv->port);
	}
	if (ret < 0)
		goto fail;
	srv->rpc_fd = ret;
	if (srv->metrics) {
		ret = mgmt_listen(srv->metrics_address, srv->metrics_port,
				  &srv->metrics_port);
		if (ret < 0)
			goto fail;
		srv->http_fd = ret;
	} else {
		srv->metrics_port = 0;
	}
	srv->tag_rpc = (struct mgmt_conn){ .kind = MGMT_K_LISTEN_RPC, .fd = srv->rpc_fd };
	srv->tag_http = (struct mgmt_conn){ .kind = MGMT_K_LISTEN_HTTP, .fd = srv->http_fd };
	srv->tag_wake = (struct mgmt_conn){ .kind = MGMT_K_WAKE, .fd = srv->ev_fd };
	if ((ret = mgmt_epoll_set(srv, &srv->tag_rpc, EPOLL_CTL_ADD, EPOLLIN)) != 0 ||
	    (ret = mgmt_epoll_set(srv, &srv->tag_wake, EPOLL_CTL_ADD, EPOLLIN)) != 0 ||
	    (srv->http_fd >= 0 &&
	     (ret = mgmt_epoll_set(srv, &srv->tag_http, EPOLL_CTL_ADD, EPOLLIN)) != 0))
		goto fail;
	ret = mgmt_builtins_register(srv);
	if (ret != 0)
		goto fail;
	if (srv->telemetry) {
		ret = mgmt_telemetry_attach(srv);
		if (ret != 0) {
			srv->telemetry = false;
			goto fail;
		}
	}
	if (srv->unix_path[0] != '\0')
		MGMT_LOG(INFO, "mgmt: JSON-RPC on unix socket %s%s%s", srv->unix_path,
			 srv->token_len > 0 ? " (token required)" : "",
			 srv->metrics ? ", metrics on" : "");
	else
		MGMT_LOG(INFO, "mgmt: JSON-RPC on %s port %u%s%s", srv->address, srv->port,
			 srv->token_len > 0 ? " (token required)" : "",
			 srv->metrics ? ", metrics on" : "");
	if (srv->metrics)
		MGMT_LOG(INFO, "mgmt: Prometheus metrics on http://%s:%u/metrics",
			 srv->metrics_address, srv->metrics_port);
	return srv;
fail:
	mgmt_release(srv);
	rte_errno = -ret;
	return NULL;
}

int
braid_mgmt_start(struct braid_mgmt *srv)
{
	int ret;

	if (srv == NULL)
		return -EINVAL;
	if (srv->running)
		return -EALREADY;
	__atomic_store_n(&srv->stop, 0, __ATOMIC_RELEASE);
	if (srv->thread_mode == BRAID_MGMT_THREAD_EAL_CTRL)
		ret = rte_ctrl_thread_create(&srv->thread, "braid-mgmt", NULL,
					     mgmt_thread_main, srv);
	else
		ret = pthread_create(&srv->thread, NULL, mgmt_thread_main, srv);
	if (ret != 0) {
		ret = ret < 0 ? ret : -ret;
		MGMT_LOG(ERR, "mgmt: cannot start the management thread: %s",
			 strerror(-ret));
		return ret;
	}
	if (srv->thread_mode == BRAID_MGMT_THREAD_PTHREAD)
		pthread_setname_np(srv->thread, "braid-mgmt");
	srv->running = true;
	return 0;
}

int
braid_mgmt_stop(struct braid_mgmt *srv)
{
	uint64_t one = 1;

	if (srv == NULL)
		return -EINVAL;
	if (!srv->running)
		return 0;
	if (pthread_equal(pthread_self(), srv->thread))
		return -EDEADLK;
	__atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
	if (write(srv->ev_fd, &one, sizeof(one)) < 0)
		MGMT_LOG(WARNING, "mgmt: wake-up write: %s", strerror(errno));
	pthread_join(srv->thread, NULL);
	srv->running = false;
	return 0;
}

void
braid_mgmt_free(struct braid_mgmt *srv)
{
	if (srv == NULL)
		return;
	braid_mgmt_stop(srv);
	mgmt_release(srv);
}

uint16_t
braid_mgmt_port(const struct braid_mgmt *srv)
{
	return srv != NULL ? srv->port : 0;
}

uint16_t
braid_mgmt_metrics_port(const struct braid_mgmt *srv)
{
	return srv != NULL ? srv->metrics_port : 0;
}

int
braid_mgmt_register(struct braid_mgmt *srv, const char *name,
		    braid_mgmt_handler_t handler, void *arg, unsigned int flags)
{
	if (srv == NULL)
		return -EINVAL;
	if (srv->running)
		return -EBUSY;
	return mgmt_register(srv, name, handler, arg, flags, false);
}

int
braid_mgmt_set_stats_walker(struct braid_mgmt *srv, braid_mgmt_walk_fn walk,
			    void *arg)
{
	if (srv == NULL)
		return -EINVAL;
	if (srv->running)
		return -EBUSY;
	pthread_mutex_lock(&srv->walk_lock);
	srv->walk = walk;
	srv->walk_arg = arg;
	pthread_mutex_unlock(&srv->walk_lock);
	mgmt_base_free(srv);
	if (walk == NULL) {
		mgmt_unregister(srv, "stats");
		mgmt_unregister(srv, "counters.reset");
		return 0;
	}
	return mgmt_metrics_methods_register(srv);
}

char *
braid_mgmt_execute(struct braid_mgmt *srv, const char *line, size_t len)
{
	struct mgmt_ctx ctx = { .peer = "local", .shutdown = false };
	struct mgmt_buf out = { 0 };

	if (srv == NULL || (line == NULL && len > 0)) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (srv->running) {
		rte_errno = EBUSY;
		return NULL;
	}
	if (len > srv->max_request) {
		mgmt_rpc_error_line(srv, &out, BRAID_MGMT_ERR_TOO_LARGE,
				    "request line too long");
	} else {
		mgmt_rpc_line(srv, &ctx, line, len, &out);
	}
	if (ctx.shutdown) {
		srv->shutdown_pending = true;
		mgmt_fire_shutdown(srv);
	}
	if (out.len == 0) {
		mgmt_buf_free(&out);
		rte_errno = ENOMSG;
		return NULL;
	}
	if (out.p[out.len - 1] == '\n')
		out.p[--out.len] = '\0';
	return out.p;
}

char *
braid_mgmt_prometheus(struct braid_mgmt *srv, size_t *len)
{
	struct mgmt_buf out = { 0 };
	int ret;

	if (srv == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	ret = mgmt_prom_render(srv, &out);
	if (ret == 0)
		ret = mgmt_buf_append(&out, "", 0);   /* NUL-terminate */
	if (ret != 0) {
		mgmt_buf_free(&out);
		rte_errno = -ret;
		return NULL;
	}
	if (len != NULL)
		*len = out.len;
	return out.p;
}

void
braid_mgmt_stats_report(const struct braid_mgmt *srv, braid_stat_fn fn, void *arg)
{
	struct mgmt_counters c;

	if (srv == NULL || fn == NULL)
		return;
#define MGMT_CNT_LOAD_(n) c.n = __atomic_load_n(&srv->cnt.n, __ATOMIC_RELAXED);
	MGMT_COUNTERS(MGMT_CNT_LOAD_)
#undef MGMT_CNT_LOAD_
	BRAID_COUNTERS_REPORT(MGMT_COUNTERS, &c, fn, arg);
}
