/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braidctl: the management client of a braid gateway.
 *
 *   braidctl [-s HOST:PORT|/PATH] [-t TOKENFILE] [--json] [-T MS] COMMAND ...
 *
 * Human tables by default (lib/mgmt/braid_mgmt_fmt.h), --json prints the
 * raw result. Exit codes: 0 ok, 1 JSON-RPC error (message printed),
 * 2 usage (or unreadable local file), 3 connection failure.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include <jansson.h>
#include <rte_errno.h>

#include "braid_mgmt_client.h"
#include "braid_mgmt_fmt.h"

#define EXIT_RPC   1
#define EXIT_USAGE 2
#define EXIT_CONN  3

/* Set by the signal handler only; `top` polls it. */
static atomic_int quit_flag;

struct ctl {
	char host[256];
	uint16_t port;
	char token[BRAID_MGMT_TOKEN_LEN + 1];
	bool json;
	int timeout_ms;
	struct braid_mgmt_client *cl;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: braidctl [-s HOST:PORT|/PATH] [-t TOKENFILE] [--json] [-T MS] COMMAND\n"
"\n"
"  -s, --server HOST:PORT   management port (default 127.0.0.1:%u); a path\n"
"                           (/run/braid/NAME.sock): its Unix socket\n"
"  -t, --token-file FILE    send the token read from FILE\n"
"  -j, --json               print the raw JSON result\n"
"  -T, --timeout MS         connect and per-call timeout (default 5000)\n"
"\n"
"commands:\n"
"  status | version | methods | links | classes\n"
"  stats [FILTER]                    FILTER: substring or glob of metric names\n"
"  config get | config apply FILE | config save [PATH]\n"
"  set link NAME weight N | capacity KBPS | admin up|down | backup on|off\n"
"  set class NAME weight N | fec K M | fec off | arq on|off [DEADLINE_MS]\n"
"                 | priority on CAP_KBPS | priority off\n"
"                 | policy stripe | policy duplicate COPIES | policy pin LINK...\n"
"  counters reset\n"
"  log level [TYPE [LEVEL]]          e.g. log level 'braid.*' debug\n"
"  shutdown\n"
"  call METHOD [JSON-PARAMS]         raw call, prints the result as JSON\n"
"  top                               live link view (q or Ctrl-C quits)\n"
"\n"
"exit status: 0 ok, 1 JSON-RPC error, 2 usage, 3 connection failure\n",
		BRAID_MGMT_DEFAULT_PORT);
}

static int
parse_u32(const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int
on_off(const char *s, bool *v)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "on") == 0 || strcmp(s, "up") == 0) {
		*v = true;
		return 0;
	}
	if (strcmp(s, "off") == 0 || strcmp(s, "down") == 0) {
		*v = false;
		return 0;
	}
	return -EINVAL;
}

static int
ctl_connect(struct ctl *c)
{
	c->cl = braid_mgmt_client_connect(c->host, c->port, c->timeout_ms);
	if (c->cl == NULL) {
		fprintf(stderr, "braidctl: cannot connect to %s:%u: %s\n", c->host,
			c->port, strerror(rte_errno));
		return EXIT_CONN;
	}
	if (braid_mgmt_client_set_token(c->cl, c->token) != 0)
		return EXIT_USAGE;
	return 0;
}

/* One call; prints errors. @return exit code, *result set on 0. */
static int
ctl_call(struct ctl *c, const char *method, json_t *params, json_t **result)
{
	struct braid_mgmt_error err;
	int ret;

	ret = braid_mgmt_client_call(c->cl, method, params, result, &err);
	if (ret == 0)
		return 0;
	if (ret == -EREMOTEIO) {
		fprintf(stderr, "braidctl: %s: ", method);
		braid_mgmt_fmt_error(stderr, &err);
		json_decref(err.data);
		return EXIT_RPC;
	}
	fprintf(stderr, "braidctl: %s: %s\n", method,
		ret == -EPROTO ? "bad reply from the server" : strerror(-ret));
	return EXIT_CONN;
}

static void
print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
		   JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
}

typedef int (*fmt_fn)(FILE *f, const json_t *result);

/* Run @p method (params stolen), print the result with @p fmt. */
static int
ctl_run(struct ctl *c, const char *method, json_t *params, fmt_fn fmt)
{
	json_t *result = NULL;
	int ret;

	ret = ctl_call(c, method, params, &result);
	json_decref(params);
	if (ret != 0)
		return ret;
	if (c->json || fmt == NULL) {
		print_json(result);
	} else if (json_is_null(result)) {
		printf("ok\n");
	} else if (fmt(stdout, result) != 0) {
		fprintf(stderr, "braidctl: %s: unexpected result shape, raw JSON:\n",
			method);
		print_json(result);
	}
	json_decref(result);
	return 0;
}

static int
fmt_ok_or_object(FILE *f, const json_t *r)
{
	if (json_is_object(r) && json_object_size(r) > 0)
		return braid_mgmt_fmt_object(f, r);
	fprintf(f, "ok\n");
	return 0;
}

/* ---- set link / set class ---------------------------------------------------- */

static int
cmd_set(struct ctl *c, int argc, char **argv)
{
	bool link, b;
	uint32_t a, m;
	json_t *p;

	if (argc < 4)
		return -EINVAL;
	link = strcmp(argv[0], "link") == 0;
	if (!link && strcmp(argv[0], "class") != 0)
		return -EINVAL;
	p = json_pack("{s:s}", "name", argv[1]);
	if (p == NULL)
		return -ENOMEM;
	if (strcmp(argv[2], "weight") == 0 && argc == 4 && parse_u32(argv[3], &a) == 0) {
		json_object_set_new(p, "weight", json_integer(a));
	} else if (link && strcmp(argv[2], "capacity") == 0 && argc == 4 &&
		   parse_u32(argv[3], &a) == 0) {
		json_object_set_new(p, "capacity_kbps", json_integer(a));
	} else if (link && strcmp(argv[2], "admin") == 0 && argc == 4 &&
		   (strcmp(argv[3], "up") == 0 || strcmp(argv[3], "down") == 0)) {
		json_object_set_new(p, "admin", json_string(argv[3]));
	} else if (link && strcmp(argv[2], "backup") == 0 && argc == 4 &&
		   on_off(argv[3], &b) == 0) {
		json_object_set_new(p, "backup", json_boolean(b));
	} else if (!link && strcmp(argv[2], "fec") == 0 && argc == 4 &&
		   strcmp(argv[3], "off") == 0) {
		json_object_set_new(p, "fec", json_string("off"));
	} else if (!link && strcmp(argv[2], "fec") == 0 && argc == 5 &&
		   parse_u32(argv[3], &a) == 0 && parse_u32(argv[4], &m) == 0) {
		json_object_set_new(p, "fec", json_pack("{s:i, s:i}", "k", (int)a,
							"m", (int)m));
	} else if (!link && strcmp(argv[2], "arq") == 0 && argc == 4 &&
		   on_off(argv[3], &b) == 0) {
		json_object_set_new(p, "arq", json_pack("{s:b}", "enabled", b));
	} else if (!link && strcmp(argv[2], "arq") == 0 && argc == 5 &&
		   on_off(argv[3], &b) == 0 && b && parse_u32(argv[4], &a) == 0) {
		json_object_set_new(p, "arq", json_pack("{s:b, s:i}", "enabled", 1,
							"deadline_ms", (int)a));
	} else if (!link && strcmp(argv[2], "priority") == 0 && argc == 4 &&
		   on_off(argv[3], &b) == 0 && !b) {
		json_object_set_new(p, "priority", json_false());
	} else if (!link && strcmp(argv[2], "priority") == 0 && argc == 5 &&
		   on_off(argv[3], &b) == 0 && b && parse_u32(argv[4], &a) == 0) {
		json_object_set_new(p, "priority", json_true());
		json_object_set_new(p, "rate_cap_kbps", json_integer(a));
	} else if (!link && strcmp(argv[2], "policy") == 0 && argc == 4 &&
		   strcmp(argv[3], "stripe") == 0) {
		json_object_set_new(p, "policy", json_pack("{s:s}", "mode", "stripe"));
	} else if (!link && strcmp(argv[2], "policy") == 0 && argc == 5 &&
		   strcmp(argv[3], "duplicate") == 0 && parse_u32(argv[4], &a) == 0) {
		json_object_set_new(p, "policy", json_pack("{s:s, s:i}", "mode", "duplicate",
							   "copies", (int)a));
	} else if (!link && strcmp(argv[2], "policy") == 0 && argc >= 5 &&
		   strcmp(argv[3], "pin") == 0) {
		json_t *links = json_array();

		for (int i = 4; i < argc; i++)
			json_array_append_new(links, json_string(argv[i]));
		json_object_set_new(p, "policy", json_pack("{s:s, s:o}", "mode", "pin",
							   "links", links));
	} else {
		json_decref(p);
		return -EINVAL;
	}
	if (ctl_connect(c) != 0) {
		json_decref(p);
		return EXIT_CONN;
	}
	return ctl_run(c, link ? "links.set" : "classes.set", p, fmt_ok_or_object);
}

/* ---- top ---------------------------------------------------------------------- */

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&quit_flag, 1);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_top(struct ctl *c)
{
	struct braid_mgmt_top_view v = { 0 };
	json_t *links_prev = NULL, *stats_prev = NULL, *links = NULL, *stats, *classes, *fp;
	struct braid_mgmt_error err;
	struct termios saved, raw;
	struct sigaction sa;
	struct winsize ws;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	double t_prev = 0, t_now, deadline;
	char server[300], *frame = NULL, ch;
	size_t frame_len = 0;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int ret = 0, r;
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);   /* ISIG stays: Ctrl-C */
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	fputs("\033[?1049h\033[?25l", stdout);
	if (c->host[0] == '/')
		snprintf(server, sizeof(server), "%s", c->host);
	else
		snprintf(server, sizeof(server), "%s:%u", c->host, c->port);
	fp = json_pack("{s:s}", "filter", BRAID_MGMT_TOP_STATS_FILTER);
	while (!atomic_load(&quit_flag)) {
		ret = ctl_call(c, "links.list", NULL, &links);
		if (ret != 0)
			break;
		/* No stats walker (or an old gateway): top still shows links. */
		stats = NULL;
		r = braid_mgmt_client_call(c->cl, "stats", fp, &stats, &err);
		if (r == -EREMOTEIO)
			json_decref(err.data);
		else if (r != 0) {
			json_decref(links);
			fprintf(stderr, "braidctl: stats: %s\n", strerror(-r));
			ret = EXIT_CONN;
			break;
		}
		/* Per class (shape, links in time, repairs); none from an old
		 * gateway. */
		classes = NULL;
		r = braid_mgmt_client_call(c->cl, "classes.list", NULL, &classes, &err);
		if (r == -EREMOTEIO)
			json_decref(err.data);
		else if (r != 0) {
			json_decref(links);
			json_decref(stats);
			fprintf(stderr, "braidctl: classes.list: %s\n", strerror(-r));
			ret = EXIT_CONN;
			break;
		}
		t_now = mono_s();
		v.server = server;
		v.classes_now = classes;
		v.links_prev = links_prev;
		v.links_now = links;
		v.stats_prev = stats_prev;
		v.stats_now = stats;
		v.interval_s = links_prev != NULL ? t_now - t_prev : 1.0;
		v.width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 80;
		v.color = isatty(STDOUT_FILENO);
		f = open_memstream(&frame, &frame_len);
		if (f != NULL) {
			fputs("\033[H\033[2J", f);
			braid_mgmt_fmt_top(f, &v);
			fclose(f);
			fwrite(frame, 1, frame_len, stdout);
			fflush(stdout);
			free(frame);
			frame = NULL;
		}
		json_decref(classes);
		json_decref(links_prev);
		json_decref(stats_prev);
		links_prev = links;
		stats_prev = stats;
		t_prev = t_now;
		deadline = t_now + 1.0;
		while (!atomic_load(&quit_flag) && mono_s() < deadline) {
			r = poll(&pfd, 1, (int)((deadline - mono_s()) * 1000) + 1);
			if (r > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
			    (ch == 'q' || ch == 'Q' || ch == 3))
				atomic_store(&quit_flag, 1);
			if (r > 0 && !tty)
				pfd.fd = -1;    /* stdin at EOF: ignore it */
		}
	}
	json_decref(links_prev);
	json_decref(stats_prev);
	json_decref(fp);
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return ret;
}

/* ---- main ----------------------------------------------------------------------- */

static int
cmd_config(struct ctl *c, int argc, char **argv)
{
	json_error_t jerr;
	json_t *doc;

	if (argc == 1 && strcmp(argv[0], "get") == 0)
		return ctl_connect(c) ? EXIT_CONN : ctl_run(c, "config.get", NULL, NULL);
	if (argc >= 1 && argc <= 2 && strcmp(argv[0], "save") == 0) {
		doc = argc == 2 ? json_pack("{s:s}", "path", argv[1]) : NULL;
		if (ctl_connect(c) != 0) {
			json_decref(doc);
			return EXIT_CONN;
		}
		return ctl_run(c, "config.save", doc, fmt_ok_or_object);
	}
	if (argc == 2 && strcmp(argv[0], "apply") == 0) {
		doc = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
		if (doc == NULL) {
			fprintf(stderr, "braidctl: %s:%d:%d: %s\n", argv[1], jerr.line,
				jerr.column, jerr.text);
			return EXIT_USAGE;
		}
		if (!json_is_object(doc)) {
			fprintf(stderr, "braidctl: %s: not a JSON object\n", argv[1]);
			json_decref(doc);
			return EXIT_USAGE;
		}
		if (ctl_connect(c) != 0) {
			json_decref(doc);
			return EXIT_CONN;
		}
		return ctl_run(c, "config.apply", doc, fmt_ok_or_object);
	}
	return -EINVAL;
}

static int
dispatch(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	json_error_t jerr;
	json_t *p = NULL;

	if (strcmp(cmd, "config") == 0)
		return cmd_config(c, argc - 1, argv + 1);
	if (strcmp(cmd, "set") == 0)
		return cmd_set(c, argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0 && argc <= 2) {
		if (argc == 2)
			p = json_pack("{s:s}", "filter", argv[1]);
	} else if (strcmp(cmd, "log") == 0 && argc >= 2 && argc <= 4 &&
		   strcmp(argv[1], "level") == 0) {
		p = json_object();
		if (argc >= 3)
			json_object_set_new(p, "type", json_string(argv[2]));
		if (argc == 4)
			json_object_set_new(p, "level", json_string(argv[3]));
	} else if (strcmp(cmd, "counters") == 0) {
		if (argc != 2 || strcmp(argv[1], "reset") != 0)
			return -EINVAL;
	} else if (strcmp(cmd, "call") == 0 && (argc == 2 || argc == 3)) {
		if (argc == 3) {
			p = json_loads(argv[2], JSON_REJECT_DUPLICATES, &jerr);
			if (!json_is_object(p) && !json_is_array(p)) {
				fprintf(stderr, "braidctl: params must be a JSON object or array%s%s\n",
					p == NULL ? ": " : "", p == NULL ? jerr.text : "");
				json_decref(p);
				return EXIT_USAGE;
			}
		}
	} else if (argc != 1) {
		return -EINVAL;
	}
	if (ctl_connect(c) != 0) {
		json_decref(p);
		return EXIT_CONN;
	}
	if (strcmp(cmd, "status") == 0)
		return ctl_run(c, "status", p, braid_mgmt_fmt_object);
	if (strcmp(cmd, "version") == 0)
		return ctl_run(c, "version", p, braid_mgmt_fmt_version);
	if (strcmp(cmd, "methods") == 0)
		return ctl_run(c, "methods", p, braid_mgmt_fmt_methods);
	if (strcmp(cmd, "links") == 0)
		return ctl_run(c, "links.list", p, braid_mgmt_fmt_links);
	if (strcmp(cmd, "classes") == 0)
		return ctl_run(c, "classes.list", p, braid_mgmt_fmt_classes);
	if (strcmp(cmd, "stats") == 0)
		return ctl_run(c, "stats", p, braid_mgmt_fmt_stats);
	if (strcmp(cmd, "log") == 0)
		return ctl_run(c, "log.level", p, braid_mgmt_fmt_log_levels);
	if (strcmp(cmd, "counters") == 0)
		return ctl_run(c, "counters.reset", p, fmt_ok_or_object);
	if (strcmp(cmd, "shutdown") == 0)
		return ctl_run(c, "shutdown", p, fmt_ok_or_object);
	if (strcmp(cmd, "call") == 0)
		return ctl_run(c, argv[1], p, NULL);
	if (strcmp(cmd, "top") == 0)
		return cmd_top(c);
	json_decref(p);
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c;
	uint32_t t;
	int opt, ret;

	memset(&c, 0, sizeof(c));
	snprintf(c.host, sizeof(c.host), "127.0.0.1");
	c.port = BRAID_MGMT_DEFAULT_PORT;
	c.timeout_ms = 5000;
	while ((opt = getopt_long(argc, argv, "s:t:jT:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (braid_mgmt_parse_hostport(optarg, c.host, sizeof(c.host),
						      BRAID_MGMT_DEFAULT_PORT,
						      &c.port) != 0) {
				fprintf(stderr, "braidctl: bad server '%s' (HOST:PORT or /PATH)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			ret = braid_mgmt_read_token_file(optarg, c.token, sizeof(c.token));
			if (ret != 0) {
				fprintf(stderr, "braidctl: token file %s: %s\n", optarg,
					ret == -EINVAL ? "empty or malformed" : strerror(-ret));
				return EXIT_USAGE;
			}
			break;
		case 'j':
			c.json = true;
			break;
		case 'T':
			if (parse_u32(optarg, &t) != 0 || t == 0 || t > 3600000) {
				fprintf(stderr, "braidctl: bad timeout '%s'\n", optarg);
				return EXIT_USAGE;
			}
			c.timeout_ms = (int)t;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = dispatch(&c, argc - optind, argv + optind);
	braid_mgmt_client_close(c.cl);
	memset(c.token, 0, sizeof(c.token));
	if (ret < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return ret;
}
