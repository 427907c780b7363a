/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braid-traffic: constant-bit-rate UDP stream for braid's end-to-end tests.
 *
 *   braid-traffic send --dst IP:PORT --rate-kbps N [--size 1316]
 *                      --duration S [--stream-id N] [--bind IP:PORT]
 *                      [--end-count 8] [--end-gap-ms 20] [--json]
 *   braid-traffic recv --bind IP:PORT --duration S [--json FILE]
 *                      [--series FILE] [--stream-id N] [--bin-ms 100]
 *                      [--linger-ms 1000]
 *
 * The sender paces with absolute CLOCK_MONOTONIC deadlines
 * (clock_nanosleep TIMER_ABSTIME): packet k is due at start + k * size * 8
 * / rate; when late it sends every overdue packet back to back (catch-up
 * burst), never spins. --rate-kbps counts UDP payload bits. After the data
 * it sends --end-count end markers carrying the number of data packets.
 * The receiver stops at --duration, on SIGINT/SIGTERM, or --linger-ms after
 * the first end marker (0: wait for --duration).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "traffic_stats.h"

#define RX_BATCH 32
#define MAX_PAYLOAD 65507u
#define SOCKBUF (4 * 1024 * 1024)
#define JSON_OUT_FLAGS \
	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

static atomic_int g_stop; /* set by the signal handler only */

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, 1);
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* @return 0, or EINTR when a signal woke it early. */
static int
sleep_until_on(clockid_t clock, uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000ull),
			       .tv_nsec = (long)(t_ns % 1000000000ull) };

	return clock_nanosleep(clock, TIMER_ABSTIME, &ts, NULL);
}

static void
sleep_until(uint64_t t_ns)
{
	/* EINTR returns early; callers re-check g_stop and the clock. */
	sleep_until_on(CLOCK_MONOTONIC, t_ns);
}

/* --start-at (wall clock): a script starts several senders ahead and lets
 * them begin together, so that no process is being started while a
 * stream runs. */
static void
wait_start(uint64_t at_ns)
{
	while (at_ns != 0 && sleep_until_on(CLOCK_REALTIME, at_ns) == EINTR &&
	       !atomic_load(&g_stop))
		;
}

/* "1.2.3.4:5000" or "[::1]:5000" -> sockaddr. */
static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res;
	char host[128];
	const char *port, *colon;
	size_t hl;
	int rc;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		s++;
		port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host) || *port == '\0')
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_pos_double(const char *s, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 ||
	    v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

struct opts {
	const char *dst;
	const char *bind;
	const char *json_file;
	const char *series_file;
	const char *packets_file;
	bool json;
	uint64_t rate_kbps;
	uint64_t size;
	double duration;
	uint64_t stream_id;
	uint64_t end_count;
	uint64_t end_gap_ms;
	uint64_t bin_ms;
	uint64_t linger_ms;
	uint64_t start_at_ns;   /* send: CLOCK_REALTIME to start at, 0 = now */
};

static int
bad_opt(const char *name, const char *want)
{
	fprintf(stderr, "braid-traffic: %s: want %s\n", name, want);
	return 2;
}

static int
open_udp(const struct sockaddr_storage *ss)
{
	int buf = SOCKBUF;
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	return fd;
}

static int
do_send(const struct opts *o)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	struct traffic_hdr h = { .stream_id = (uint32_t)o->stream_id };
	uint64_t start, end, k = 0, errors = 0, max_late = 0, bytes = 0;
	uint64_t bits = o->size * 8u;
	uint8_t *buf;
	int fd;

	if (parse_addr(o->dst, &dst, &dlen) != 0)
		return bad_opt("--dst", "IP:PORT");
	if (o->bind != NULL && parse_addr(o->bind, &src, &slen) != 0)
		return bad_opt("--bind", "IP:PORT");
	buf = malloc(o->size);
	fd = open_udp(&dst);
	if (buf == NULL || fd < 0) {
		fprintf(stderr, "braid-traffic: socket: %s\n", strerror(errno));
		free(buf);
		return 1;
	}
	if (o->bind != NULL &&
	    bind(fd, (struct sockaddr *)&src, slen) < 0) {
		fprintf(stderr, "braid-traffic: bind %s: %s\n", o->bind,
			strerror(errno));
		close(fd);
		free(buf);
		return 1;
	}
	install_signals();
	wait_start(o->start_at_ns);
	start = mono_ns();
	end = start + (uint64_t)llround(o->duration * 1e9);
	while (!atomic_load(&g_stop)) {
		/* Deadline of packet k, exact integer arithmetic. */
		uint64_t due = start + (uint64_t)(((unsigned __int128)k * bits *
						   1000000u) / o->rate_kbps);
		uint64_t now;

		if (due >= end)
			break;
		now = mono_ns();
		if (due > now) {
			sleep_until(due);
			continue;
		}
		if (now - due > max_late)
			max_late = now - due;
		h.type = TRAFFIC_TYPE_DATA;
		h.seq = k;
		h.send_ns = mono_ns();
		h.value = o->size;
		traffic_encode(buf, o->size, &h);
		if (sendto(fd, buf, o->size, 0, (struct sockaddr *)&dst,
			   dlen) < 0)
			errors++;
		else
			bytes += o->size;
		k++;
	}
	for (uint64_t i = 0; i < o->end_count && !atomic_load(&g_stop); i++) {
		if (i != 0)
			sleep_until(mono_ns() + o->end_gap_ms * 1000000u);
		h.type = TRAFFIC_TYPE_END;
		h.seq = i;
		h.send_ns = mono_ns();
		h.value = k;
		traffic_encode(buf, TRAFFIC_HDR_LEN, &h);
		(void)sendto(fd, buf, TRAFFIC_HDR_LEN, 0,
			     (struct sockaddr *)&dst, dlen);
	}
	{
		double el = (double)(mono_ns() - start) / 1e9;

		if (o->json) {
			json_t *j = json_pack(
				"{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
				"role", "send", "dst", o->dst,
				"stream_id", (json_int_t)o->stream_id,
				"rate_kbps", (json_int_t)o->rate_kbps,
				"size", (json_int_t)o->size,
				"sent", (json_int_t)k,
				"bytes", (json_int_t)bytes,
				"send_errors", (json_int_t)errors,
				"elapsed_s", el,
				"max_late_ms", (double)max_late / 1e6);

			json_dumpf(j, stdout, JSON_OUT_FLAGS);
			fputc('\n', stdout);
			json_decref(j);
		} else {
			printf("sent %" PRIu64 " packets (%" PRIu64
			       " bytes, %" PRIu64 " send errors) in %.3f s, "
			       "max lateness %.3f ms\n",
			       k, bytes, errors, el, (double)max_late / 1e6);
		}
	}
	close(fd);
	free(buf);
	return errors == 0 ? 0 : 1;
}

static json_t *
result_json(const struct opts *o, const struct tstats_result *r,
	    uint64_t socket_drops)
{
	json_t *j = json_object();

	json_object_set_new(j, "role", json_string("recv"));
	json_object_set_new(j, "stream_id", json_integer((json_int_t)o->stream_id));
	json_object_set_new(j, "sent", json_integer((json_int_t)r->sent));
	json_object_set_new(j, "end_seen", json_boolean(r->end_seen));
	json_object_set_new(j, "received", json_integer((json_int_t)r->received));
	json_object_set_new(j, "lost", json_integer((json_int_t)r->lost));
	json_object_set_new(j, "loss_pct", json_real(r->loss_pct));
	json_object_set_new(j, "duplicates", json_integer((json_int_t)r->duplicates));
	json_object_set_new(j, "out_of_order",
			    json_integer((json_int_t)r->out_of_order));
	json_object_set_new(j, "max_reorder_dist",
			    json_integer((json_int_t)r->max_reorder_dist));
	json_object_set_new(j, "invalid", json_integer((json_int_t)r->invalid));
	json_object_set_new(j, "socket_drops", json_integer((json_int_t)socket_drops));
	json_object_set_new(j, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(j, "duration_s", json_real(r->duration_s));
	json_object_set_new(j, "goodput_kbps", json_real(r->goodput_kbps));
	json_object_set_new(j, "lat_min_ms", json_real((double)r->lat_min_ns / 1e6));
	json_object_set_new(j, "lat_mean_ms", json_real(r->lat_mean_ns / 1e6));
	json_object_set_new(j, "lat_p50_ms", json_real((double)r->lat_p50_ns / 1e6));
	json_object_set_new(j, "lat_p99_ms", json_real((double)r->lat_p99_ns / 1e6));
	json_object_set_new(j, "lat_p999_ms",
			    json_real((double)r->lat_p999_ns / 1e6));
	json_object_set_new(j, "lat_max_ms", json_real((double)r->lat_max_ns / 1e6));
	return j;
}

static int
do_recv(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[RX_BATCH];
	struct tstats_result r;
	struct tstats *st;
	uint8_t *bufs;
	FILE *pkts = NULL;
	uint64_t start, end, linger_end = 0, socket_drops = 0;
	int one = 1, fd, rc = 0;
	json_t *j;

	if (parse_addr(o->bind, &ss, &slen) != 0)
		return bad_opt("--bind", "IP:PORT");
	fd = open_udp(&ss);
	bufs = malloc((size_t)RX_BATCH * MAX_PAYLOAD);
	if (fd < 0 || bufs == NULL) {
		fprintf(stderr, "braid-traffic: socket: %s\n", strerror(errno));
		free(bufs);
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
		fprintf(stderr, "braid-traffic: bind %s: %s\n", o->bind,
			strerror(errno));
		close(fd);
		free(bufs);
		return 1;
	}
	if (o->packets_file != NULL) {
		pkts = fopen(o->packets_file, "w");
		if (pkts == NULL) {
			fprintf(stderr, "braid-traffic: %s: %s\n", o->packets_file,
				strerror(errno));
			close(fd);
			free(bufs);
			return 1;
		}
		fprintf(pkts, "# seq,send_ns,latency_us\n");
	}
	install_signals();
	wait_start(o->start_at_ns);
	start = mono_ns();
	end = start + (uint64_t)llround(o->duration * 1e9);
	st = tstats_create(start, o->bin_ms * 1000000u);
	if (st == NULL) {
		if (pkts != NULL)
			fclose(pkts);
		close(fd);
		free(bufs);
		return 1;
	}
	while (!atomic_load(&g_stop)) {
		uint64_t now = mono_ns(), stop_at = end;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n;

		if (linger_end != 0 && linger_end < stop_at)
			stop_at = linger_end;
		if (now >= stop_at)
			break;
		/* ms granularity only bounds the run time, not timestamps. */
		n = poll(&pfd, 1, (int)((stop_at - now + 999999u) / 1000000u));
		if (n <= 0)
			continue;
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = bufs + (size_t)i * MAX_PAYLOAD;
			iov[i].iov_len = MAX_PAYLOAD;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		now = mono_ns(); /* one receive time per batch */
		for (int i = 0; i < n; i++) {
			struct traffic_hdr h;
			struct cmsghdr *cm;

			for (cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm != NULL;
			     cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
				uint32_t drops;

				if (cm->cmsg_level != SOL_SOCKET ||
				    cm->cmsg_type != SO_RXQ_OVFL)
					continue;
				memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
				if (drops > socket_drops)
					socket_drops = drops;
			}
			if (traffic_decode(iov[i].iov_base, msgs[i].msg_len,
					   &h) != 0 ||
			    h.stream_id != o->stream_id) {
				tstats_invalid(st);
				continue;
			}
			if (h.type == TRAFFIC_TYPE_END) {
				tstats_end(st, h.value);
				if (linger_end == 0 && o->linger_ms != 0)
					linger_end = now + o->linger_ms *
								1000000u;
				continue;
			}
			if (pkts != NULL)
				fprintf(pkts, "%" PRIu64 ",%" PRIu64 ",%.1f\n", h.seq,
					h.send_ns, ((double)now - (double)h.send_ns) / 1e3);
			if (tstats_data(st, h.seq, h.send_ns, now,
					msgs[i].msg_len) == -ENOMEM) {
				fprintf(stderr, "braid-traffic: out of memory\n");
				atomic_store(&g_stop, 1);
			}
		}
	}
	if (tstats_result(st, &r) != 0) {
		fprintf(stderr, "braid-traffic: out of memory\n");
		rc = 1;
		goto out;
	}
	printf("stream %" PRIu64 ": sent %" PRIu64 "%s received %" PRIu64
	       " lost %" PRIu64 " (%.3f%%) dup %" PRIu64 " out-of-order %"
	       PRIu64 " invalid %" PRIu64 " socket-drops %" PRIu64 "\n",
	       o->stream_id, r.sent, r.end_seen ? "" : " (no end marker)",
	       r.received, r.lost, r.loss_pct, r.duplicates, r.out_of_order,
	       r.invalid, socket_drops);
	printf("latency ms: min %.3f mean %.3f p50 %.3f p99 %.3f p99.9 %.3f "
	       "max %.3f; goodput %.1f kbit/s over %.3f s\n",
	       (double)r.lat_min_ns / 1e6, r.lat_mean_ns / 1e6,
	       (double)r.lat_p50_ns / 1e6, (double)r.lat_p99_ns / 1e6,
	       (double)r.lat_p999_ns / 1e6, (double)r.lat_max_ns / 1e6,
	       r.goodput_kbps, r.duration_s);
	fflush(stdout);
	if (o->json_file != NULL) {
		j = result_json(o, &r, socket_drops);
		if (json_dump_file(j, o->json_file, JSON_OUT_FLAGS) != 0) {
			fprintf(stderr, "braid-traffic: cannot write %s\n",
				o->json_file);
			rc = 1;
		}
		json_decref(j);
	}
	if (o->series_file != NULL) {
		FILE *f = fopen(o->series_file, "w");

		if (f == NULL || tstats_series_csv(st, f) != 0) {
			fprintf(stderr, "braid-traffic: cannot write %s\n",
				o->series_file);
			rc = 1;
		}
		if (f != NULL && fclose(f) != 0)
			rc = 1;
	}
out:
	if (pkts != NULL && fclose(pkts) != 0) {
		fprintf(stderr, "braid-traffic: cannot write %s\n", o->packets_file);
		rc = 1;
	}
	tstats_free(st);
	close(fd);
	free(bufs);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: braid-traffic send --dst IP:PORT --rate-kbps N --duration S\n"
		"                          [--size 1316] [--stream-id 1] [--bind IP:PORT]\n"
		"                          [--end-count 8] [--end-gap-ms 20] [--json]\n"
		"                          [--start-at NS]\n"
		"       braid-traffic recv --bind IP:PORT --duration S [--json FILE]\n"
		"                          [--series FILE] [--stream-id 1] [--bin-ms 100]\n"
		"                          [--linger-ms 1000] [--packets FILE]\n"
		"  --packets FILE  one line per received packet: seq, send time (ns,\n"
		"                  CLOCK_MONOTONIC), one-way latency (us)\n");
}

int
main(int argc, char **argv)
{
	struct option lo[] = {
		{ "dst", required_argument, NULL, 'D' },
		{ "bind", required_argument, NULL, 'B' },
		{ "rate-kbps", required_argument, NULL, 'R' },
		{ "size", required_argument, NULL, 'Z' },
		{ "duration", required_argument, NULL, 'T' },
		{ "stream-id", required_argument, NULL, 'I' },
		{ "end-count", required_argument, NULL, 'E' },
		{ "end-gap-ms", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'J' }, /* recv: FILE */
		{ "series", required_argument, NULL, 'S' },
		{ "bin-ms", required_argument, NULL, 'N' },
		{ "linger-ms", required_argument, NULL, 'L' },
		{ "packets", required_argument, NULL, 'P' },
		{ "start-at", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .size = 1316, .stream_id = 1, .end_count = 8,
			  .end_gap_ms = 20, .bin_ms = 100, .linger_ms = 1000 };
	bool send;
	int opt;

	if (argc < 2 || (strcmp(argv[1], "send") != 0 &&
			 strcmp(argv[1], "recv") != 0)) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout :
								   stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	send = strcmp(argv[1], "send") == 0;
	for (unsigned int i = 0; lo[i].name != NULL; i++)
		if (strcmp(lo[i].name, "json") == 0)
			lo[i].has_arg = send ? no_argument : required_argument;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'D':
			o.dst = optarg;
			break;
		case 'B':
			o.bind = optarg;
			break;
		case 'R':
			if (parse_u64(optarg, 1, 100000000, &o.rate_kbps) != 0)
				return bad_opt("--rate-kbps", "1..100000000");
			break;
		case 'Z':
			if (parse_u64(optarg, TRAFFIC_HDR_LEN, MAX_PAYLOAD,
				      &o.size) != 0)
				return bad_opt("--size", "40..65507 bytes");
			break;
		case 'T':
			if (parse_pos_double(optarg, 1e6, &o.duration) != 0)
				return bad_opt("--duration", "seconds in (0, 1e6]");
			break;
		case 'I':
			if (parse_u64(optarg, 0, UINT32_MAX, &o.stream_id) != 0)
				return bad_opt("--stream-id", "0..4294967295");
			break;
		case 'E':
			if (parse_u64(optarg, 0, 1000, &o.end_count) != 0)
				return bad_opt("--end-count", "0..1000");
			break;
		case 'G':
			if (parse_u64(optarg, 0, 10000, &o.end_gap_ms) != 0)
				return bad_opt("--end-gap-ms", "0..10000");
			break;
		case 'J':
			o.json = true;
			o.json_file = optarg;
			break;
		case 'S':
			o.series_file = optarg;
			break;
		case 'N':
			if (parse_u64(optarg, 1, 3600000, &o.bin_ms) != 0)
				return bad_opt("--bin-ms", "1..3600000");
			break;
		case 'L':
			if (parse_u64(optarg, 0, 3600000, &o.linger_ms) != 0)
				return bad_opt("--linger-ms", "0..3600000");
			break;
		case 'A':
			if (parse_u64(optarg, 1, UINT64_MAX, &o.start_at_ns) != 0)
				return bad_opt("--start-at", "ns since the epoch");
			break;
		case 'P':
			o.packets_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o.duration <= 0) {
		usage(stderr);
		return 2;
	}
	if (send) {
		if (o.dst == NULL || o.rate_kbps == 0 || o.json_file != NULL ||
		    o.series_file != NULL || o.packets_file != NULL) {
			usage(stderr);
			return 2;
		}
		return do_send(&o);
	}
	if (o.bind == NULL || o.dst != NULL) {
		usage(stderr);
		return 2;
	}
	return do_recv(&o);
}
