/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_TEST_HARNESS_H
#define BRAID_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <CUnit/CUnit.h>

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

/** Deterministic RNG for property tests (xorshift64*); seed printed by tests. */
static inline uint64_t
braid_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

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

/* ---- a gateway's ports on rings the test owns (net_ring PMD) ---------- */

#define BRAID_TEST_LINKS 3

struct rte_ring;

/** One gateway's side: a LAN port and BRAID_TEST_LINKS link ports, each an
 * ethdev "net_ring_<pfx><tag>_lan" / "..._wan<i>" over two rings (rx = what
 * the test feeds to the gateway, tx = what the gateway sent). */
struct braid_test_side {
	char pfx[4];
	char tag;
	int me;                    /* 1 = the "a" end (10.9.x.1), 2 = "b" */
	struct rte_ring *lan_rx, *lan_tx;
	struct rte_ring *wan_rx[BRAID_TEST_LINKS], *wan_tx[BRAID_TEST_LINKS];
	uint16_t lan_port, wan_port[BRAID_TEST_LINKS];
};

/** Create the rings and ports of a side. @return 0 or -1. */
int braid_test_side_make(struct braid_test_side *s, const char *pfx, char tag, int me);

/** Free every mbuf in the side's rings. */
void braid_test_side_flush(struct braid_test_side *s);

/** Flush, remove the ports' vdevs and free the rings (after the gateway
 * that used the ports is freed: it closes them). */
void braid_test_side_destroy(struct braid_test_side *s);

#endif /* BRAID_TEST_HARNESS_H */
