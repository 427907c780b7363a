/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/config: arbitrary bytes into the loader.
 *
 * Oracle: the loader never crashes (ASan/UBSan watch memory), a rejected
 * document has 1..16 errors whose paths start with '$' and whose text is
 * valid UTF-8, and an accepted one survives the round trip
 * load(to_json(c)) == c.
 *
 * Built only with clang (libFuzzer). With meson (tests/meson.build builds
 * it when the compiler is clang, compiling lib/config's sources in so
 * they are instrumented):
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz tests/fuzz_config
 * or by hand from the source root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DALLOW_EXPERIMENTAL_API -Ilib/config -Ilib/engine \
 *     $(pkg-config --cflags libdpdk jansson) \
 *     lib/config/braid_config.c lib/config/config_validate.c \
 *     lib/config/config_text.c lib/config/config_emit.c \
 *     lib/config/config_default.c tests/fuzz/fuzz_config.c \
 *     $(pkg-config --libs libdpdk jansson) -o fuzz_config
 * Run with the sample configuration as seed corpus:
 *   mkdir -p corpus && cp tests/unit/configs/full.json corpus/
 *   ./fuzz_config -max_len=8192 -max_total_time=600 corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "braid_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_errors(const struct braid_config_errors *errs)
{
	if (errs->n < 1 || errs->n > BRAID_CONFIG_MAX_ERRORS ||
	    errs->total < errs->n)
		abort();
	for (unsigned int i = 0; i < errs->n; i++) {
		json_t *p, *m;

		if (errs->e[i].path[0] != '$' || errs->e[i].msg[0] == '\0' ||
		    memchr(errs->e[i].path, '\0', sizeof(errs->e[i].path)) == NULL ||
		    memchr(errs->e[i].msg, '\0', sizeof(errs->e[i].msg)) == NULL)
			abort();
		/* Valid UTF-8: the management port sends errors as JSON. */
		p = json_string(errs->e[i].path);
		m = json_string(errs->e[i].msg);
		if (p == NULL || m == NULL)
			abort();
		json_decref(p);
		json_decref(m);
	}
}

static void
check_round_trip(const struct braid_config *c)
{
	struct braid_config_errors errs;
	struct braid_config *c2;
	json_t *j = braid_config_to_json(c);

	if (j == NULL)
		abort();
	c2 = braid_config_load_json(j, &errs);
	if (c2 == NULL || memcmp(c, c2, sizeof(*c)) != 0)
		abort();
	braid_config_free(c2);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct braid_config_errors errs;
	struct braid_config *c;

	c = braid_config_load_buffer((const char *)data, size, &errs);
	if (c == NULL) {
		check_errors(&errs);
		return 0;
	}
	if (errs.n != 0)
		abort();
	check_round_trip(c);
	braid_config_free(c);
	return 0;
}
