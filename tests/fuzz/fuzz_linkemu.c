/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for braid-linkemu's profile parser (the e2e profiles'
 * JSON) and the impairment model it configures.
 *
 * Input: the profile text. Oracle: the parser never crashes (ASan/UBSan);
 * a rejected profile has a non-empty error ("<path>: <reason>"); an
 * accepted one has 1..EMU_MAX_LINKS links with NUL-terminated names,
 * each direction passes emu_dir_conf_check(), and its model, created and
 * fed 64 frames at rising times, releases every copy at or after the
 * frame's arrival and counts each frame once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu_model.h"
#include "emu_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_model(const struct emu_dir_conf *c, uint64_t seed)
{
	struct emu_dir *d = emu_dir_create(c, seed, 1000);
	struct emu_verdict v;
	uint64_t now = 1000;

	if (d == NULL)
		abort();   /* a checked configuration must build */
	for (unsigned int i = 0; i < 64; i++) {
		now += (seed >> (i % 48)) % 2000000;
		emu_dir_admit(d, now, 60 + (uint32_t)(i * 97 % 1400), 1, &v);
		for (unsigned int k = 0; k < v.n; k++)
			if (v.release_ns[k] < now)
				abort();
	}
	if (emu_dir_counters(d)->rx != 64)
		abort();
	emu_dir_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emu_profile p;
	char err[256] = "";
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (emu_profile_parse(text, &p, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		free(text);
		return 0;
	}
	free(text);
	if (p.n_links < 1 || p.n_links > EMU_MAX_LINKS)
		abort();
	for (unsigned int l = 0; l < p.n_links; l++) {
		const struct emu_link_conf *lc = &p.links[l];

		if (memchr(lc->name, '\0', sizeof(lc->name)) == NULL ||
		    memchr(lc->ifname[0], '\0', sizeof(lc->ifname[0])) == NULL ||
		    memchr(lc->ifname[1], '\0', sizeof(lc->ifname[1])) == NULL)
			abort();
		for (unsigned int d = 0; d < 2; d++) {
			if (emu_dir_conf_check(&lc->dir[d]) != 0)
				abort();
			check_model(&lc->dir[d], emu_profile_dir_seed(p.seed, l, d));
		}
	}
	return 0;
}
