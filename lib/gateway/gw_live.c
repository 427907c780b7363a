/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running configuration and its changes (links.set, classes.set,
 * config.apply; the methods themselves are gw_rpc.c's).
 *
 * The running configuration is a copy only the management thread
 * touches: every live change is validated by the configuration loader
 * (the same rules and JSON paths as the file), diffed as a document
 * against the running copy, turned into commands that are all queued or
 * none (gw_diff.c's table of live settings), and only then becomes the
 * running configuration. The commands reach the data path the one way a
 * control change does: the stages' command channels (lib/engine runner),
 * applied by each stage's own lcore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_mgmt_priv.h"

int
gw_live_change_init(struct gw_live_change *ch)
{
	ch->changed = json_array();
	ch->restart = json_array();
	ch->errs = calloc(1, sizeof(*ch->errs));
	return ch->changed != NULL && ch->restart != NULL && ch->errs != NULL ?
	       0 : -ENOMEM;
}

void
gw_live_change_fini(struct gw_live_change *ch)
{
	json_decref(ch->changed);
	json_decref(ch->restart);
	free(ch->errs);
	memset(ch, 0, sizeof(*ch));
}

/* ---- diff of two configuration documents -------------------------------- */

/* Paths one diff reports at most (a document rewriting every rule would
 * otherwise list thousands). */
#define GW_LIVE_MAX_PATHS 64

/* Add @p s to the string array @p arr unless it is there (or full). */
static int
add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) >= GW_LIVE_MAX_PATHS)
		return 0;
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 0;
	return json_array_append_new(arr, json_string(s)) == 0 ? 0 : -ENOMEM;
}

/* Paths (without "$.") where @p a and @p b differ: a member present in
 * one only, a value of another type or value, an array of another size. */
static int
json_diff(const json_t *a, const json_t *b, char *path, size_t cap, json_t *out)
{
	size_t plen = strlen(path);
	const char *key;
	json_t *va;
	int ret = 0;

	if (json_typeof(a) != json_typeof(b))
		return add_unique(out, path);
	if (json_is_object(a)) {
		json_object_foreach((json_t *)(uintptr_t)a, key, va) {
			const json_t *vb = json_object_get(b, key);

			snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", key);
			ret = vb == NULL ? add_unique(out, path) : json_diff(va, vb, path, cap, out);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		json_object_foreach((json_t *)(uintptr_t)b, key, va) {
			if (json_object_get(a, key) != NULL)
				continue;
			snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", key);
			ret = add_unique(out, path);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return add_unique(out, path);
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(path + plen, cap - plen, "[%zu]", i);
			ret = json_diff(json_array_get(a, i), json_array_get(b, i), path, cap, out);
			path[plen] = '\0';
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	return json_equal(a, b) ? 0 : add_unique(out, path);
}

void
gw_live_path_list(const json_t *paths, const char *prefix, char *buf, size_t len)
{
	size_t i, off;
	json_t *v;

	off = (size_t)snprintf(buf, len, "%s", prefix);
	json_array_foreach(paths, i, v) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					json_string_value(v));
	}
}

/* ---- commit: a validated configuration becomes the running one ---------- */

int
gw_live_commit(struct gw_mgmt *m, const struct braid_config *next,
	       struct gw_live_change *ch)
{
	struct braid_gateway *gw = m->gw;
	json_t *changed = ch->changed, *restart = ch->restart;
	struct gw_cmd_batch *batch;
	struct braid_config *probe;
	json_t *a, *b, *paths;
	char path[256] = "", norm[256];
	size_t i;
	json_t *v;
	int ret;

	a = braid_config_to_json(m->running);
	b = braid_config_to_json(next);
	paths = json_array();
	ret = a == NULL || b == NULL || paths == NULL ? -ENOMEM :
	      json_diff(a, b, path, sizeof(path), paths);
	json_decref(a);
	json_decref(b);
	json_array_foreach(paths, i, v) {
		if (ret < 0)
			break;
		ret = add_unique(gw_diff_path_is_live(json_string_value(v), norm, sizeof(norm)) ?
				 changed : restart, norm);
	}
	json_decref(paths);
	if (ret < 0)
		return ret;
	/* Whatever the document shows, the structs must differ in live
	 * fields only. */
	probe = malloc(sizeof(*probe));
	if (probe == NULL)
		return -ENOMEM;
	memcpy(probe, next, sizeof(*probe));
	gw_diff_keep_live(probe, m->running);
	if (memcmp(probe, m->running, sizeof(*probe)) != 0 &&
	    json_array_size(restart) == 0)
		ret = add_unique(restart, "(a setting the document does not show)");
	free(probe);
	if (ret < 0)
		return ret;
	if (json_array_size(restart) > 0)
		return -EPERM;
	if (json_array_size(changed) == 0)
		return 0;

	batch = malloc(sizeof(*batch));
	if (batch == NULL)
		return -ENOMEM;
	ret = gw_diff_commands(gw, m->running, next, batch);
	if (ret == 0)
		ret = gw_cmd_batch_send(gw, batch);
	free(batch);
	if (ret < 0)
		return ret;
	memcpy(m->running, next, sizeof(*next));
	gw_class_deadlines_set(gw, m->running);
	m->dirty = true;
	{
		char list[BRAID_MGMT_ERRMSG_LEN];

		gw_live_path_list(changed, "", list, sizeof(list));
		GW_LOG(NOTICE, "gateway %s: live change queued: %s", gw->cfg.name, list);
	}
	return 0;
}

/* ---- the changes -------------------------------------------------------- */

/* The loader's verdict on @p doc, committed when valid. */
static int
load_commit(struct gw_mgmt *m, const json_t *doc, struct gw_live_change *ch)
{
	struct braid_config *next;
	int ret;

	next = braid_config_load_json(doc, ch->errs);
	if (next == NULL)
		return ch->errs->n == 0 ? -ENOMEM : -EINVAL;
	ret = gw_live_commit(m, next, ch);
	braid_config_free(next);
	return ret;
}

/* The running configuration as a document, @p patch merged into
 * @p section[@p idx], through the loader and committed. */
static int
entry_set(struct gw_mgmt *m, const char *section, unsigned int idx,
	  const json_t *patch, struct gw_live_change *ch)
{
	const char *key;
	json_t *doc, *obj, *v;
	int ret;

	doc = braid_config_to_json(m->running);
	obj = doc != NULL ? json_array_get(json_object_get(doc, section), idx) : NULL;
	if (obj == NULL) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_object_foreach((json_t *)(uintptr_t)patch, key, v) {
		json_t *cur = json_object_get(obj, key);

		/* arq: members left out keep their value. */
		if (strcmp(key, "arq") == 0 && json_is_object(v) && json_is_object(cur))
			json_object_update(cur, (json_t *)(uintptr_t)v);
		else
			json_object_set(obj, key, (json_t *)(uintptr_t)v);
	}
	ret = load_commit(m, doc, ch);
	json_decref(doc);
	return ret;
}

int
gw_live_link_set(struct gw_mgmt *m, unsigned int idx, const json_t *patch,
		 struct gw_live_change *ch)
{
	return entry_set(m, "links", idx, patch, ch);
}

int
gw_live_class_set(struct gw_mgmt *m, unsigned int idx, const json_t *patch,
		  struct gw_live_change *ch)
{
	return entry_set(m, "classes", idx, patch, ch);
}

int
gw_live_apply(struct gw_mgmt *m, const json_t *doc, struct gw_live_change *ch)
{
	int ret = load_commit(m, doc, ch);

	if (ret == 0)
		__atomic_store_n(&m->generation, m->generation + 1, __ATOMIC_RELAXED);
	return ret;
}
