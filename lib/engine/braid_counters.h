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
 * Counters of one class or one link (an array of such structs) are
 * reported with their labels (struct braid_stat_labels), under the same
 * names for every class or link:
 *
 *   struct braid_stat_labels lb = { .class_id = c, .link_id = BRAID_STAT_NONE };
 *   BRAID_COUNTERS_REPORT_LABELLED(SCHED_CLASS_COUNTERS, &s->ccnt[c], &lb, fn, arg);
 *
 * A counter struct belongs to one lcore (the stage's), is written once per
 * burst, and is never cleared by a read. Drop counters start with "drop_".
 */
#include <stddef.h>
#include <stdint.h>
#include <rte_common.h>

#include "braid_stage.h"

#define BRAID_CNT_FIELD_(n) uint64_t n;
#define BRAID_COUNTERS_FIELDS(LIST) LIST(BRAID_CNT_FIELD_)

/* Reports every counter of @p cnt to @p fn(@p arg, name, @p labels,
 * value): the arguments are evaluated once into the macro's own locals,
 * so any expression may be passed (no caller's local is used by name). */
#define BRAID_COUNTERS_REPORT_LABELLED(LIST, cnt, labels, fn, arg) do { \
	const __typeof__(*(cnt)) *braid_cnt_ = (cnt);                \
	const struct braid_stat_labels *braid_cnt_lb_ = (labels);    \
	braid_stat_fn braid_cnt_fn_ = (fn);                          \
	void *braid_cnt_arg_ = (arg);                                \
	LIST(BRAID_CNT_REPORT_1_)                                   \
} while (0)
#define BRAID_CNT_REPORT_1_(n) \
	braid_cnt_fn_(braid_cnt_arg_, #n, braid_cnt_lb_, braid_cnt_->n);

/* The same for counters of the whole stage (no labels). */
#define BRAID_COUNTERS_REPORT(LIST, cnt, fn, arg) \
	BRAID_COUNTERS_REPORT_LABELLED(LIST, cnt, NULL, fn, arg)

#endif /* BRAID_COUNTERS_H */
