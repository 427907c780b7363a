/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_ENGINE_H
#define BRAID_ENGINE_H

/**
 * @file
 * Process-level set-up shared by the daemon, tests and benchmarks: EAL,
 * the mbuf metadata field, the engine clock, mempools.
 */
#include <stdint.h>
#include <rte_mempool.h>

/**
 * rte_eal_init() plus braid_meta_register() and braid_clock_init().
 * @return number of argv entries EAL consumed (as rte_eal_init), or -errno.
 */
int braid_engine_init(int argc, char **argv);

/**
 * Create a packet mbuf pool.
 * @param n       mbufs (a power of two minus one is most efficient)
 * @param cache   per-lcore cache size (<= RTE_MEMPOOL_CACHE_MAX_SIZE)
 * @param data_room data room per mbuf incl. headroom (RTE_MBUF_DEFAULT_BUF_SIZE)
 * @return the pool, or NULL with rte_errno set.
 */
struct rte_mempool *braid_pktmbuf_pool_create(const char *name, unsigned int n,
					      unsigned int cache,
					      uint16_t data_room, int socket);

/**
 * mbufs of @p mp not back in the pool (in use), counting per-lcore caches
 * as free. After shutdown this must be 0.
 */
unsigned int braid_mempool_in_use(const struct rte_mempool *mp);

#endif /* BRAID_ENGINE_H */
