/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_LOG_H
#define BRAID_LOG_H

/*
 * One log type per library:
 *
 *   RTE_LOG_REGISTER(braid_sched_logtype, braid.sched, INFO);
 *   #define SCHED_LOG(level, ...) BRAID_LOG(level, braid_sched_logtype, __VA_ARGS__)
 *
 * BRAID_LOG adds the newline (22.11 has no RTE_LOG_LINE). Fast-path
 * code uses BRAID_LOG_DP, compiled out above RTE_LOG_DP_LEVEL.
 */
#include <rte_log.h>

#define BRAID_LOG(level, type, ...) \
	rte_log(RTE_LOG_ ## level, (type), \
		RTE_FMT("braid: " RTE_FMT_HEAD(__VA_ARGS__,) "\n", \
			RTE_FMT_TAIL(__VA_ARGS__,)))

#define BRAID_LOG_DP(level, type, ...) \
	RTE_LOG_DP_IMPL(level, type, __VA_ARGS__)

/* RTE_LOG_DP needs a logtype constant; this form takes the dynamic id. */
#define RTE_LOG_DP_IMPL(level, type, ...) \
	(void)((RTE_LOG_ ## level <= RTE_LOG_DP_LEVEL) ? \
	       BRAID_LOG(level, type, __VA_ARGS__) : 0)

#endif /* BRAID_LOG_H */
