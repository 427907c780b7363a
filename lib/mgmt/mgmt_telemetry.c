/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands under /braid/, so dpdk-telemetry.py works
 * against a running gateway:
 *
 *   /braid/version          {"name","version","dpdk"}
 *   /braid/stats[,FILTER]   {"<family>[/<label value>...]": value, ...}
 *   /braid/metrics          ["<family>", ...]
 *
 * DPDK 22.11 semantics this follows: rte_telemetry_register_cmd() only
 * fills a process-wide table (usable before or after rte_eal_init(); the
 * socket is served from EAL's telemetry thread once EAL is up, unless
 * --no-telemetry), commands cannot be unregistered, at most 64 exist.
 * So the commands are registered once per process and look up the server
 * that currently owns them; braid_mgmt_free() detaches it under a lock.
 *
 * 22.11 dictionary keys allow only [A-Za-z0-9_/] (no braces, quotes or
 * '='), a reply holds at most 256 entries and 16 KiB of JSON: /braid/stats
 * keys are "family/value/value" with other characters mapped to '_',
 * and a reply that would not fit ends with a "truncated" entry counting
 * what was left out (narrow it with FILTER, e.g. /braid/stats,braid_link).
 * Values are the raw monotonic counters (no counters.reset baseline).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>
#include <rte_version.h>

#include "mgmt_priv.h"

/* A reply must stay under telemetry's MAX_OUTPUT_LEN (16 KiB) with the
 * command prefix; entries beyond this budget are left out. */
#define TEL_BUDGET 15000

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct braid_mgmt *tel_owner;    /* under tel_lock */
static bool tel_registered;             /* under tel_lock */

static void
tel_key(const struct mgmt_sample *s, char *key, size_t len)
{
	size_t n = 0, i;
	unsigned int k;
	const char *p;

	for (k = 0; k <= s->n_labels && n + 1 < len; k++) {
		p = k == 0 ? s->name : s->lval[k - 1];
		if (k > 0)
			key[n++] = '/';
		for (i = 0; p[i] != '\0' && n + 1 < len; i++) {
			char c = p[i];

			key[n++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				    (c >= '0' && c <= '9') || c == '_') ? c : '_';
		}
	}
	key[n] = '\0';
}

static int
tel_add_value(struct rte_tel_data *d, const char *key, double v)
{
	char buf[40];

	if (v == trunc(v) && v >= 0 && v < 18446744073709551616.0)
		return rte_tel_data_add_dict_u64(d, key, (uint64_t)v);
	if (v == trunc(v) && v < 0 && v >= -2147483648.0)
		return rte_tel_data_add_dict_int(d, key, (int)v);
	mgmt_fmt_value(v, buf, sizeof(buf));
	return rte_tel_data_add_dict_string(d, key, buf);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mgmt_samples ss;
	char key[RTE_TEL_MAX_STRING_LEN];
	unsigned int entries = 0, left_out = 0;
	size_t used = 0, i;
	int ret = 0;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&tel_lock);
	if (tel_owner == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENODEV;
	}
	MGMT_CNT_ADD(tel_owner, telemetry_requests, 1);
	if (mgmt_samples_collect(tel_owner, &ss) != 0) {
		pthread_mutex_unlock(&tel_lock);
		return -ENOMEM;
	}
	pthread_mutex_unlock(&tel_lock);
	rte_tel_data_start_dict(d);
	for (i = 0; i < ss.n; i++) {
		const struct mgmt_sample *s = &ss.s[i];

		if (!mgmt_filter_match(params, s->name))
			continue;
		tel_key(s, key, sizeof(key));
		/* "key": up to 20 digits, quotes, colon and comma. */
		if (entries + 1 >= RTE_TEL_MAX_DICT_ENTRIES ||
		    used + strlen(key) + 26 > TEL_BUDGET ||
		    tel_add_value(d, key, s->value) != 0) {
			left_out++;
			continue;
		}
		used += strlen(key) + 26;
		entries++;
	}
	mgmt_samples_free(&ss);
	if (left_out > 0)
		ret = rte_tel_data_add_dict_u64(d, "truncated", left_out);
	return ret < 0 ? ret : 0;
}

static int
tel_metrics(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mgmt_samples ss;
	size_t used = 0, i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tel_lock);
	if (tel_owner == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENODEV;
	}
	MGMT_CNT_ADD(tel_owner, telemetry_requests, 1);
	if (mgmt_samples_collect(tel_owner, &ss) != 0) {
		pthread_mutex_unlock(&tel_lock);
		return -ENOMEM;
	}
	pthread_mutex_unlock(&tel_lock);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (i = 0; i < ss.n; i++) {
		if (i > 0 && strcmp(ss.s[i].name, ss.s[i - 1].name) == 0)
			continue;
		used += strlen(ss.s[i].name) + 3;
		if (used > TEL_BUDGET ||
		    rte_tel_data_add_array_string(d, ss.s[i].name) != 0)
			break;
	}
	mgmt_samples_free(&ss);
	return 0;
}

static int
tel_version(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char version[64];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tel_lock);
	if (tel_owner == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENODEV;
	}
	MGMT_CNT_ADD(tel_owner, telemetry_requests, 1);
	snprintf(version, sizeof(version), "%s", tel_owner->version);
	pthread_mutex_unlock(&tel_lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", "braid");
	rte_tel_data_add_dict_string(d, "version", version);
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	return 0;
}

int
mgmt_telemetry_attach(struct braid_mgmt *srv)
{
	int ret = 0;

	pthread_mutex_lock(&tel_lock);
	if (tel_owner != NULL && tel_owner != srv) {
		MGMT_LOG(ERR, "mgmt: telemetry commands belong to another server");
		ret = -EBUSY;
		goto out;
	}
	if (!tel_registered) {
		if ((ret = rte_telemetry_register_cmd("/braid/version", tel_version,
				"braid version. No parameters")) != 0 ||
		    (ret = rte_telemetry_register_cmd("/braid/stats", tel_stats,
				"braid metrics. Parameter: name filter (substring/glob)")) != 0 ||
		    (ret = rte_telemetry_register_cmd("/braid/metrics", tel_metrics,
				"braid metric family names. No parameters")) != 0) {
			MGMT_LOG(ERR, "mgmt: rte_telemetry_register_cmd: %s",
				 strerror(-ret));
			goto out;
		}
		tel_registered = true;
	}
	tel_owner = srv;
out:
	pthread_mutex_unlock(&tel_lock);
	return ret;
}

void
mgmt_telemetry_detach(struct braid_mgmt *srv)
{
	pthread_mutex_lock(&tel_lock);
	if (tel_owner == srv)
		tel_owner = NULL;
	pthread_mutex_unlock(&tel_lock);
}
