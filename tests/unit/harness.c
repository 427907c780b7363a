/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
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

#define SIDE_RING_SZ 8192

static int
side_port(const char *name, struct rte_ring **rx, struct rte_ring **tx, uint16_t *port)
{
	char rn[RTE_RING_NAMESIZE];
	int p;

	snprintf(rn, sizeof(rn), "%s_r", name);
	*rx = rte_ring_create(rn, SIDE_RING_SZ, SOCKET_ID_ANY, 0);
	snprintf(rn, sizeof(rn), "%s_t", name);
	*tx = rte_ring_create(rn, SIDE_RING_SZ, SOCKET_ID_ANY, 0);
	if (*rx == NULL || *tx == NULL)
		return -1;
	/* The ethdev is named "net_ring_<name>". */
	p = rte_eth_from_rings(name, rx, 1, tx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int
braid_test_side_make(struct braid_test_side *s, const char *pfx, char tag, int me)
{
	char name[64];

	memset(s, 0, sizeof(*s));
	snprintf(s->pfx, sizeof(s->pfx), "%s", pfx);
	s->tag = tag;
	s->me = me;
	snprintf(name, sizeof(name), "%s%c_lan", s->pfx, tag);
	if (side_port(name, &s->lan_rx, &s->lan_tx, &s->lan_port) != 0)
		return -1;
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		snprintf(name, sizeof(name), "%s%c_wan%d", s->pfx, tag, i);
		if (side_port(name, &s->wan_rx[i], &s->wan_tx[i], &s->wan_port[i]) != 0)
			return -1;
	}
	return 0;
}

static void
side_ring_free_all(struct rte_ring *r)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while (r != NULL && (n = rte_ring_dequeue_burst(r, (void **)m, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
}

void
braid_test_side_flush(struct braid_test_side *s)
{
	side_ring_free_all(s->lan_rx);
	side_ring_free_all(s->lan_tx);
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		side_ring_free_all(s->wan_rx[i]);
		side_ring_free_all(s->wan_tx[i]);
	}
}

void
braid_test_side_destroy(struct braid_test_side *s)
{
	char name[64];

	braid_test_side_flush(s);
	snprintf(name, sizeof(name), "net_ring_%s%c_lan", s->pfx, s->tag);
	rte_vdev_uninit(name);
	rte_ring_free(s->lan_rx);
	rte_ring_free(s->lan_tx);
	for (int i = 0; i < BRAID_TEST_LINKS; i++) {
		snprintf(name, sizeof(name), "net_ring_%s%c_wan%d", s->pfx, s->tag, i);
		rte_vdev_uninit(name);
		rte_ring_free(s->wan_rx[i]);
		rte_ring_free(s->wan_tx[i]);
	}
}
