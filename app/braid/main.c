/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braid: the bonding gateway daemon.
 *
 *   braid [EAL options] -- [--config FILE] [--profile-dir DIR]
 *         [--no-stats] [--stats-interval MS] [--duration S]
 *   braid [EAL options] -- --check-config FILE
 *   braid -- --print-default-config
 *
 * EAL arguments first, then "--", then braid's own options (l2fwd, l3fwd).
 * --check-config and --print-default-config run before EAL is started.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "braid_clock.h"
#include "braid_config.h"
#include "braid_engine.h"
#include "braid_gateway.h"

#ifndef BRAID_PROFILE_DIR
#define BRAID_PROFILE_DIR "drivers-cfg"
#endif

struct app_opts {
	const char *config;
	const char *check_config;
	const char *profile_dir;
	bool print_default;
	bool no_stats;
	long stats_interval_ms;
	long duration_s;
};

/* The one pointer the signal handler needs; set once before signals are
 * installed. The handler only does an atomic store (runner stop). */
static struct braid_gateway *signal_gw;

static void
on_signal(int sig)
{
	(void)sig;
	if (signal_gw != NULL)
		braid_gateway_stop(signal_gw);
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [options]\n"
		"  --config FILE          gateway configuration (default: embedded)\n"
		"  --check-config FILE    validate FILE and exit (0 = valid)\n"
		"  --print-default-config print the embedded configuration\n"
		"  --profile-dir DIR      driver profiles (default: %s)\n"
		"  --no-stats             no periodic console table\n"
		"  --stats-interval MS    console table period\n"
		"  --duration S           stop after S seconds (0 = until signal)\n"
		"  --help\n", prog, BRAID_PROFILE_DIR);
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct app_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "print-default-config", no_argument, NULL, 'p' },
		{ "profile-dir", required_argument, NULL, 'd' },
		{ "no-stats", no_argument, NULL, 'n' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'k': o->check_config = optarg; break;
		case 'p': o->print_default = true; break;
		case 'd': o->profile_dir = optarg; break;
		case 'n': o->no_stats = true; break;
		case 'i':
			if (parse_long(optarg, 100, 3600000, &o->stats_interval_ms) < 0) {
				fprintf(stderr, "braid: --stats-interval: 100..3600000 ms\n");
				return -EINVAL;
			}
			break;
		case 't':
			if (parse_long(optarg, 0, 31536000, &o->duration_s) < 0) {
				fprintf(stderr, "braid: --duration: 0..31536000 s\n");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "braid: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* braid's own arguments: everything after the first "--". */
static int
app_args(int argc, char **argv, char ***out)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			/* Keep argv[0] as the program name for getopt. */
			argv[i] = argv[0];
			*out = &argv[i];
			return argc - i;
		}
	*out = argv;
	return 1;
}

static struct braid_config *
load_config(const struct app_opts *o)
{
	struct braid_config_errors errs;
	struct braid_config *cfg;

	if (o->config != NULL)
		cfg = braid_config_load_file(o->config, &errs);
	else
		cfg = braid_config_load_string(braid_config_default_json(), &errs);
	if (cfg == NULL) {
		fprintf(stderr, "braid: %s: invalid configuration\n",
			o->config != NULL ? o->config : "embedded default");
		braid_config_errors_print(&errs, stderr);
	}
	return cfg;
}

static int
check_config(const struct app_opts *o)
{
	struct app_opts c = *o;
	struct braid_config *cfg;

	c.config = o->check_config;
	cfg = load_config(&c);
	if (cfg == NULL)
		return 1;
	printf("%s: configuration is valid (%u ports, %u links, %u classes, %u rules)\n",
	       o->check_config, cfg->n_ports, cfg->n_links, cfg->n_classes, cfg->n_rules);
	braid_config_free(cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	struct app_opts o = { .profile_dir = BRAID_PROFILE_DIR };
	struct braid_gateway_conf gc = { 0 };
	struct braid_config *cfg;
	struct braid_gateway *gw;
	char **aargv, err[512];
	int aargc, ret, status = 0;

	aargc = app_args(argc, argv, &aargv);
	if (parse_opts(aargc, aargv, &o) < 0)
		return 2;
	if (braid_config_set_profile_dir(o.profile_dir) < 0) {
		fprintf(stderr, "braid: bad --profile-dir\n");
		return 2;
	}
	if (o.print_default) {
		fputs(braid_config_default_json(), stdout);
		return 0;
	}
	if (o.check_config != NULL)
		return check_config(&o);

	/* Validate before EAL touches any device. */
	cfg = load_config(&o);
	if (cfg == NULL)
		return 1;
	if (o.stats_interval_ms > 0)
		cfg->stats.interval_ms = (uint32_t)o.stats_interval_ms;
	if (o.no_stats)
		cfg->stats.console = false;

	/* EAL sees only its own arguments (up to "--"). */
	ret = braid_engine_init(argc - aargc + 1, argv);
	if (ret < 0) {
		fprintf(stderr, "braid: EAL init failed: %s\n", strerror(-ret));
		braid_config_free(cfg);
		return 1;
	}
	gc.cfg = cfg;
	gc.profile_dir = o.profile_dir;
	gc.console = stdout;
	gc.mgmt = true;
	gc.config_file = o.config;   /* config.save's default target */
	gc.duration_s = (uint32_t)o.duration_s;
	gw = braid_gateway_create(&gc, err, sizeof(err));
	braid_config_free(cfg);
	if (gw == NULL) {
		fprintf(stderr, "braid: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	signal_gw = gw;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = braid_gateway_start(gw);
	if (ret == 0)
		braid_gateway_run_main(gw);
	else
		fprintf(stderr, "braid: cannot start lcores: %s\n", strerror(-ret));
	if (braid_gateway_shutdown(gw) != 0)
		status = 1;
	signal_gw = NULL;
	braid_gateway_free(gw);
	rte_eal_cleanup();
	printf("braid: stopped%s\n", status == 0 ? ", every mbuf back in its pool" : "");
	return ret == 0 ? status : 1;
}
