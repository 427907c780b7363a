/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "braid_clock.h"
#include "braid_engine.h"
#include "braid_meta.h"

int
braid_engine_init(int argc, char **argv)
{
	int consumed, ret;

	consumed = rte_eal_init(argc, argv);
	if (consumed < 0)
		return -rte_errno;
	ret = braid_meta_register();
	if (ret < 0)
		return ret;
	braid_clock_init();
	return consumed;
}

struct rte_mempool *
braid_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache,
			  uint16_t data_room, int socket)
{
	if (braid_meta_register() < 0)
		return NULL;
	return rte_pktmbuf_pool_create(name, n, cache, 0, data_room, socket);
}

unsigned int
braid_mempool_in_use(const struct rte_mempool *mp)
{
	return rte_mempool_in_use_count(mp);
}
