/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_EMU_PROFILE_H
#define BRAID_EMU_PROFILE_H

/**
 * @file
 * braid-linkemu JSON profile: strict parsing (unknown keys, wrong types and
 * out-of-range values are errors naming the JSON path) into emu_dir_conf
 * pairs. The format is documented in doc/testing.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "emu_model.h"
#include "emu_nat.h"

/** Most links in one profile. */
#define EMU_MAX_LINKS 16u
/** Interface name buffer (IFNAMSIZ). */
#define EMU_IFNAME_LEN 16u
/** Link name buffer. */
#define EMU_LINK_NAME_LEN 32u

/** Direction index in emu_link_conf.dir. */
enum emu_dir_idx {
	EMU_A_TO_B = 0,
	EMU_B_TO_A = 1,
};

/** One emulated link: two interfaces and the settings of each direction. */
struct emu_link_conf {
	char name[EMU_LINK_NAME_LEN];
	char ifname[2][EMU_IFNAME_LEN]; /**< [0] = side "a", [1] = side "b" */
	struct emu_dir_conf dir[2];     /**< indexed by enum emu_dir_idx */
	struct emu_nat_conf nat;        /**< a NAT in front of side a */
};

/** A whole profile. */
struct emu_profile {
	uint64_t seed;
	double stream_kbps; /**< informative: e2e stream rate (0: not given) */
	unsigned int n_links;
	struct emu_link_conf links[EMU_MAX_LINKS];
};

/**
 * Parse and validate a profile held in a string.
 *
 * @param text JSON text.
 * @param p out: the profile (fully written on success).
 * @param err out: "<json path>: <reason>" on error.
 * @param errlen size of @p err.
 * @return 0, or -EINVAL (err says why).
 */
int emu_profile_parse(const char *text, struct emu_profile *p, char *err,
		      size_t errlen);

/**
 * Parse and validate a profile file.
 *
 * @param path file name.
 * @param p out: the profile.
 * @param err out: the reason on error (file errors included).
 * @param errlen size of @p err.
 * @return 0, -EINVAL (invalid profile) or -errno of the failed open/read.
 */
int emu_profile_load(const char *path, struct emu_profile *p, char *err,
		     size_t errlen);

/**
 * Seed of one direction, derived from the profile seed so that directions
 * are independent yet repeatable.
 *
 * @param seed profile seed.
 * @param link link index.
 * @param dir enum emu_dir_idx.
 * @return the direction's seed.
 */
uint64_t emu_profile_dir_seed(uint64_t seed, unsigned int link,
			      unsigned int dir);

#endif /* BRAID_EMU_PROFILE_H */
