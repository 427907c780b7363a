/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_errno.h>

#include "harness.h"

int
braid_test_main(const char *name, int (*register_fn)(void))
{
	unsigned int run, failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (register_fn() != 0) {
		fprintf(stderr, "%s: suite registration failed: %s\n", name,
			CU_get_error_msg());
		CU_cleanup_registry();
		printf("BRAID_RESULT suite=%s passed=0 failed=1\n", name);
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	/* A suite whose init failed runs nothing: count it as failed. */
	failed += CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	printf("\nBRAID_RESULT suite=%s passed=%u failed=%u\n", name,
	       run >= failed ? run - failed : 0, failed);
	fflush(stdout);
	return failed == 0 ? 0 : 1;
}

int
braid_test_eal_init(const char *const *vdevs, const char *lcores)
{
	char *argv[64];
	int argc = 0;
	int ret;

	argv[argc++] = (char *)"braid-test";
	argv[argc++] = (char *)"-l";
	argv[argc++] = (char *)(lcores != NULL ? lcores : "0");
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"512";
	argv[argc++] = (char *)"--no-shconf";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--log-level=lib.eal:warning";
	for (int i = 0; vdevs != NULL && vdevs[i] != NULL && argc < 62; i++) {
		argv[argc++] = (char *)"--vdev";
		argv[argc++] = (char *)vdevs[i];
	}
	ret = rte_eal_init(argc, argv);
	return ret < 0 ? -rte_errno : 0;
}

uint32_t
braid_test_pkt_id(const struct rte_mbuf *m)
{
	uint32_t id;

	memcpy(&id, rte_pktmbuf_mtod(m, const void *), sizeof(id));
	return id;
}

uint64_t
braid_test_seed(uint64_t dflt)
{
	const char *s = getenv("BRAID_TEST_SEED");
	char *end;
	uint64_t v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v == 0)
		return dflt;
	return v;
}

uint64_t
braid_test_deadline(unsigned int seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ((uint64_t)t.tv_sec + seconds) * 1000000000ULL + (uint64_t)t.tv_nsec;
}

bool
braid_test_past(uint64_t deadline)
{
	return braid_test_deadline(0) >= deadline;
}
