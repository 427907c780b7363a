/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <rte_errno.h>

#include "braid_meta.h"

int braid_meta_offset = -1;

int
braid_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "braid_meta",
		.size = sizeof(struct braid_meta),
		.align = __alignof__(struct braid_meta),
	};
	int off;

	if (braid_meta_offset >= 0)
		return 0;
	off = rte_mbuf_dynfield_register(&desc);
	if (off < 0)
		return -rte_errno;
	braid_meta_offset = off;
	return 0;
}
