/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "braid_engine.h"
#include "perf_common.h"

int
perf_eal_init(int *argc, char ***argv)
{
	char **av = *argv;
	char *dflt[] = {
		av[0], "-l", "0", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
		"--log-level=lib.eal:warning", "--log-level=braid.*:warning",
	};
	int ret;

	if (*argc < 2 || strcmp(av[1], "--") == 0) {
		ret = braid_engine_init((int)RTE_DIM(dflt), dflt);
		if (ret >= 0 && *argc >= 2) {
			av[1] = av[0];   /* drop the "--", keep the name first */
			ret = 1;
		} else if (ret >= 0) {
			ret = 0;
		}
	} else {
		/* EAL leaves the program name in argv[ret]. */
		ret = braid_engine_init(*argc, av);
	}
	if (ret < 0) {
		fprintf(stderr, "%s: EAL init: %s\n", av[0], rte_strerror(-ret));
		return -1;
	}
	*argc -= ret;
	*argv = av + ret;
	return 0;
}
