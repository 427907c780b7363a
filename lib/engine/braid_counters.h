/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_COUNTERS_H
#define BRAID_COUNTERS_H

/**
 * @file
 * Counters are declared once in an X-macro so the struct field and its
 * reported name cannot drift:
 *
 *   #define SCHED_COUNTERS(X) X(enqueued) X(drop_queue_full)
 *   struct sched_counters { BRAID_COUNTERS_FIELDS(SCHED_COUNTERS) } __rte_cache_aligned;
 *   ...
 *   BRAID_COUNTERS_REPORT(SCHED_COUNTERS, &s->cnt, fn, arg);
 *
 * A counter struct belongs to one lcore (the stage's), is written once per
 * burst, and is never cleared by a read. Drop counters start with "drop_".
 */
#include <stdint.h>
#include <rte_common.h>

#include "braid_stage.h"

#define BRAID_CNT_FIELD_(n) uint64_t n;
#define BRAID_COUNTERS_FIELDS(LIST) LIST(BRAID_CNT_FIELD_)

/* Reports every counter of @p cnt to @p fn(@p arg, name, value): the
 * arguments are evaluated once into the macro's own locals, so any
 * expression may be passed (no caller's local is used by name). */
#define BRAID_COUNTERS_REPORT(LIST, cnt, fn, arg) do {              \
	const __typeof__(*(cnt)) *braid_cnt_ = (cnt);                \
	braid_stat_fn braid_cnt_fn_ = (fn);                          \
	void *braid_cnt_arg_ = (arg);                                \
	LIST(BRAID_CNT_REPORT_1_)                                   \
} while (0)
#define BRAID_CNT_REPORT_1_(n) braid_cnt_fn_(braid_cnt_arg_, #n, braid_cnt_->n);

#endif /* BRAID_COUNTERS_H */
