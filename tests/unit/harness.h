/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_HARNESS_H
#define BRAID_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <CUnit/CUnit.h>

#include "braid_test_rand.h"   /* braid_test_rand() */

/**
 * Run every registered CUnit suite in basic mode and print one line
 * "BRAID_RESULT suite=<name> passed=P failed=F" that scripts/test.sh sums.
 *
 * @param name      suite file name (e.g. "sched").
 * @param register_fn adds suites and tests to the CUnit registry; 0 on success.
 * @return process exit code: 0 when every test passed.
 */
int braid_test_main(const char *name, int (*register_fn)(void));

/**
 * Initialise EAL for a test process: no hugepages (-m 512), no shared
 * config, no PCI, so suites run side by side on any machine.
 *
 * @param vdevs NULL-terminated list of --vdev arguments, or NULL.
 * @param lcores EAL -l argument (e.g. "0" or "0-1"), NULL for "0".
 * @return 0 or -errno.
 */
int braid_test_eal_init(const char *const *vdevs, const char *lcores);

/** Seed from BRAID_TEST_SEED in the environment, else @p dflt. */
uint64_t braid_test_seed(uint64_t dflt);

/**
 * Safety cap for a test that waits for another lcore or thread: a test
 * waits for a count (N lookups, M sleeps), never for a time; the cap only
 * turns a machine that is truly stuck into a clear failure.
 * @return CLOCK_MONOTONIC now + @p seconds, in ns.
 */
uint64_t braid_test_deadline(unsigned int seconds);

/** @p deadline (from braid_test_deadline()) has passed. */
bool braid_test_past(uint64_t deadline);

struct rte_mbuf;

/** The 32-bit id a test wrote at the start of @p m's data (unaligned). */
uint32_t braid_test_pkt_id(const struct rte_mbuf *m);

#endif /* BRAID_TEST_HARNESS_H */
