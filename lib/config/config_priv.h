/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_CONFIG_PRIV_H
#define BRAID_CONFIG_PRIV_H

/*
 * Internals of lib/config: the validation context, the error list, JSON
 * path helpers and the strict scalar parsers. Nothing here is API.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_common.h>

#include "braid_config.h"
#include "braid_log.h"

extern int braid_config_logtype;
#define CONFIG_LOG(level, ...) BRAID_LOG(level, braid_config_logtype, __VA_ARGS__)

/** Room for a JSON path, as in struct braid_config_error. */
#define CFG_PATH_LEN 160
/** Errors kept while validating, before sorting into document order. */
#define CFG_ERR_CAP 256
/** Largest configuration file read. */
#define CFG_FILE_MAX (16u << 20)

struct cfg_err {
	char path[CFG_PATH_LEN];
	char msg[256];
};

/** State of one load. Heap-allocated (the error list is large). */
struct cfg_ctx {
	struct braid_config *c;
	const json_t *root;          /**< for document-order sorting */
	const char *profile_dir;     /**< NULL: profiles not checked */
	bool nomem;
	unsigned int total;          /**< errors found */
	unsigned int n_err;          /**< errors kept (<= CFG_ERR_CAP) */
	struct cfg_err err[CFG_ERR_CAP];
	/* Which entries have a usable value for cross-checks, so one bad
	 * field does not cascade into errors elsewhere. */
	bool port_named[BRAID_CONFIG_MAX_PORTS];
	bool port_role_ok[BRAID_CONFIG_MAX_PORTS];
	bool port_ip_ok[BRAID_CONFIG_MAX_PORTS];
	bool link_named[BRAID_CONFIG_MAX_LINKS];
	bool link_port_ok[BRAID_CONFIG_MAX_LINKS];
	bool class_named[BRAID_CONFIG_MAX_CLASSES];
	bool ports_ok;               /**< $.ports parsed as an array */
	bool links_ok;               /**< $.links parsed as an array */
	bool classes_ok;             /**< $.classes parsed as an array */
};

/* --- errors and paths (config_text.c) --------------------------------- */

/** Record an error at @p path. */
void cfg_err(struct cfg_ctx *x, const char *path, const char *fmt, ...)
	__rte_format_printf(3, 4);

/** Sort the kept errors into document order (stable). */
void cfg_err_sort(struct cfg_ctx *x);

/** @p out = parent + "." + key (or parent + "[\"key\"]" if key is odd). */
void cfg_path_key(char out[CFG_PATH_LEN], const char *parent, const char *key);

/** @p out = parent + "[idx]". */
void cfg_path_idx(char out[CFG_PATH_LEN], const char *parent, size_t idx);

/** A short description of @p v for messages: 40, 1.5, "abc", array... */
void cfg_describe(const json_t *v, char *buf, size_t len);

/** Type word of @p v: "integer", "string", "object"... */
const char *cfg_type_word(const json_t *v);

/* --- strict text parsers (config_text.c); 0 or -1 ---------------------- */

/** Dotted quad of exactly @p len chars: no leading zeros, no spaces. */
int cfg_parse_ipv4(const char *s, size_t len, uint32_t *ip);
/** Decimal 0..65535 of exactly @p len chars (1..5 digits). */
int cfg_parse_u16(const char *s, size_t len, uint16_t *v);
/** "xx:xx:xx:xx:xx:xx" (hex, either case), nothing else. */
int cfg_parse_mac(const char *s, struct rte_ether_addr *mac);
/** 1..31 chars of [A-Za-z0-9_.-]. */
bool cfg_name_ok(const char *s);
/** 1..31 chars of [a-z0-9_]. */
bool cfg_profile_ok(const char *s);
/** vdev name with optional devargs, or PCI address with optional devargs. */
bool cfg_device_ok(const char *s);
/** Length of the device name part (before the first ','). */
size_t cfg_device_base_len(const char *s);
/** Edit distance, capped at 3 (for "did you mean"). */
unsigned int cfg_edit_distance(const char *a, const char *b);

/** Netmask of a prefix length, host byte order. */
static inline uint32_t
cfg_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

/* --- validation (config_validate.c) ------------------------------------ */

/** Fill x->c from x->root, recording every error. */
void cfg_validate(struct cfg_ctx *x);

/* --- rendering (config_emit.c) ------------------------------------------ */

/** Format helpers shared with messages. */
void cfg_fmt_ipv4(uint32_t ip, char buf[16]);
void cfg_fmt_mac(const struct rte_ether_addr *mac, char buf[18]);

#endif /* BRAID_CONFIG_PRIV_H */
