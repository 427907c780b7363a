/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/config entry points: read the text, parse it with jansson (duplicate
 * keys rejected), validate (config_validate.c), hand back the struct or
 * the errors in document order.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_log.h>

#include "config_priv.h"

RTE_LOG_REGISTER(braid_config_logtype, braid.config, INFO);

const char *const braid_config_pm_names[] = {
	[BRAID_CONFIG_PM_OFF] = "off",
	[BRAID_CONFIG_PM_MONITOR] = "monitor",
	[BRAID_CONFIG_PM_PAUSE] = "pause",
	[BRAID_CONFIG_PM_SCALE] = "scale",
	[BRAID_CONFIG_PM_SCALE + 1] = NULL,
};

const char *const braid_stage_names[] = {
	[BRAID_STAGE_LAN_RX] = "lan_rx",
	[BRAID_STAGE_CLASSIFY] = "classify",
	[BRAID_STAGE_SCHED] = "sched",
	[BRAID_STAGE_FEC] = "fec",
	[BRAID_STAGE_RTX] = "rtx",
	[BRAID_STAGE_LINK_TX] = "link_tx",
	[BRAID_STAGE_LINK_RX] = "link_rx",
	[BRAID_STAGE_RX_DECAP] = "rx_decap",
	[BRAID_STAGE_FEC_DECODE] = "fec_decode",
	[BRAID_STAGE_REORDER] = "reorder",
	[BRAID_STAGE_LAN_TX] = "lan_tx",
	[BRAID_STAGE_COUNT] = NULL,
};

/* Process-wide, set once at start-up (braid_config_set_profile_dir()). */
static char profile_dir[PATH_MAX];

static void
errs_one(struct braid_config_errors *errs, const char *fmt, ...)
	__rte_format_printf(2, 3);

/* Report a failure that happened before validation could run. */
static void
errs_one(struct braid_config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (errs == NULL)
		return;
	memset(errs, 0, sizeof(*errs));
	errs->n = 1;
	errs->total = 1;
	snprintf(errs->e[0].path, sizeof(errs->e[0].path), "$");
	va_start(ap, fmt);
	vsnprintf(errs->e[0].msg, sizeof(errs->e[0].msg), fmt, ap);
	va_end(ap);
}

struct braid_config *
braid_config_load_json(const json_t *root, struct braid_config_errors *errs)
{
	struct braid_config *c;
	struct cfg_ctx *x;

	if (errs != NULL)
		memset(errs, 0, sizeof(*errs));
	if (root == NULL) {
		errs_one(errs, "no document");
		rte_errno = EINVAL;
		return NULL;
	}
	/* calloc: every byte, padding included, starts at zero, so configs
	 * compare with memcmp(). */
	c = calloc(1, sizeof(*c));
	x = calloc(1, sizeof(*x));
	if (c == NULL || x == NULL) {
		free(c);
		free(x);
		errs_one(errs, "out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	x->c = c;
	x->root = root;
	x->profile_dir = profile_dir[0] != '\0' ? profile_dir : NULL;
	cfg_validate(x);
	if (x->total == 0) {
		CONFIG_LOG(DEBUG, "config \"%s\": %u ports, %u links, %u classes, %u rules",
			   c->name, c->n_ports, c->n_links, c->n_classes,
			   c->n_rules);
		free(x);
		return c;
	}
	cfg_err_sort(x);
	if (errs != NULL) {
		errs->total = x->total;
		errs->n = RTE_MIN(x->n_err, (unsigned int)BRAID_CONFIG_MAX_ERRORS);
		for (unsigned int i = 0; i < errs->n; i++) {
			memcpy(errs->e[i].path, x->err[i].path,
			       sizeof(errs->e[i].path));
			memcpy(errs->e[i].msg, x->err[i].msg,
			       sizeof(errs->e[i].msg));
		}
	}
	free(x);
	free(c);
	rte_errno = EINVAL;
	return NULL;
}

struct braid_config *
braid_config_load_buffer(const char *buf, size_t len,
			 struct braid_config_errors *errs)
{
	struct braid_config *c;
	json_error_t jerr;
	json_t *root;
	size_t i;

	if (buf == NULL) {
		errs_one(errs, "no document");
		rte_errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r')
			break;
	if (i == len) {
		errs_one(errs, "empty document");
		rte_errno = EINVAL;
		return NULL;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		errs_one(errs, "invalid JSON at line %d, column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		rte_errno = EINVAL;
		return NULL;
	}
	c = braid_config_load_json(root, errs);
	json_decref(root);
	return c;
}

struct braid_config *
braid_config_load_string(const char *json, struct braid_config_errors *errs)
{
	if (json == NULL) {
		errs_one(errs, "no document");
		rte_errno = EINVAL;
		return NULL;
	}
	return braid_config_load_buffer(json, strlen(json), errs);
}

struct braid_config *
braid_config_load_file(const char *path, struct braid_config_errors *errs)
{
	struct braid_config *c;
	size_t len = 0, got;
	char *buf;
	FILE *f;
	int err;

	if (path == NULL) {
		errs_one(errs, "no file name");
		rte_errno = EINVAL;
		return NULL;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		err = errno;
		errs_one(errs, "cannot open \"%s\": %s", path, strerror(err));
		rte_errno = err;
		return NULL;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		errs_one(errs, "out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	while ((got = fread(buf + len, 1, CFG_FILE_MAX + 1 - len, f)) > 0)
		len += got;
	err = ferror(f) ? EIO : 0;
	fclose(f);
	if (err == 0 && len > CFG_FILE_MAX)
		err = EFBIG;
	if (err != 0) {
		errs_one(errs, "cannot read \"%s\": %s", path,
			 err == EFBIG ? "larger than 16 MiB" : strerror(err));
		free(buf);
		rte_errno = err;
		return NULL;
	}
	c = braid_config_load_buffer(buf, len, errs);
	err = rte_errno;
	free(buf);
	rte_errno = err;
	return c;
}

void
braid_config_free(struct braid_config *c)
{
	free(c);
}

void
braid_config_errors_print(const struct braid_config_errors *errs, FILE *f)
{
	if (errs == NULL || f == NULL)
		return;
	for (unsigned int i = 0; i < errs->n && i < BRAID_CONFIG_MAX_ERRORS; i++)
		fprintf(f, "%s: %s\n", errs->e[i].path, errs->e[i].msg);
	if (errs->total > errs->n)
		fprintf(f, "(%u more errors not shown)\n", errs->total - errs->n);
}

int
braid_config_set_profile_dir(const char *dir)
{
	size_t n;

	if (dir == NULL) {
		profile_dir[0] = '\0';
		return 0;
	}
	n = strlen(dir);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(profile_dir) - BRAID_CONFIG_NAME_LEN - 8)
		return -ENAMETOOLONG;
	memcpy(profile_dir, dir, n + 1);
	return 0;
}

int
braid_config_find_port(const struct braid_config *c, const char *name)
{
	if (c == NULL || name == NULL)
		return -EINVAL;
	for (unsigned int i = 0; i < c->n_ports && i < BRAID_CONFIG_MAX_PORTS; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
braid_config_find_link(const struct braid_config *c, const char *name)
{
	if (c == NULL || name == NULL)
		return -EINVAL;
	for (unsigned int i = 0; i < c->n_links && i < BRAID_CONFIG_MAX_LINKS; i++)
		if (strcmp(c->links[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
braid_config_find_class(const struct braid_config *c, const char *name)
{
	if (c == NULL || name == NULL)
		return -EINVAL;
	for (unsigned int i = 0;
	     i < c->n_classes && i < BRAID_CONFIG_MAX_CLASSES; i++)
		if (strcmp(c->classes[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
braid_config_stage_id(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	for (int i = 0; i < BRAID_STAGE_COUNT; i++)
		if (strcmp(braid_stage_names[i], name) == 0)
			return i;
	return -ENOENT;
}
