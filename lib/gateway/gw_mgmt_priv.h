/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's side of the management port (doc/management-api.md),
 * shared by its files, one job each:
 *
 *   gw_mgmt.c     lifecycle: create the server, register the methods and
 *                 the stats walker, stop, free, report a shutdown request
 *   gw_rpc.c      the JSON-RPC methods: parse and check params, call one
 *                 function below, turn its outcome into a result or error
 *   gw_live.c     the running configuration and its changes: diff a
 *                 validated config against it, queue the commands
 *                 (gw_diff.c's table), make it the running one
 *   gw_save.c     config.save: the running configuration written to a file
 *                 atomically
 *   gw_metrics.c  the stats walker: every counter named the Prometheus way
 *
 * All of it runs in the management thread (the walker also in DPDK's
 * telemetry thread, serialised by lib/mgmt).
 */
#ifndef BRAID_GW_MGMT_PRIV_H
#define BRAID_GW_MGMT_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "braid_mgmt.h"
#include "gw_priv.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "unknown"
#endif

struct gw_mgmt {
	struct braid_gateway *gw;
	struct braid_mgmt *srv;
	/* The running configuration: the build config plus every live change.
	 * Read and written by the management thread only. */
	struct braid_config *running;
	char file[PATH_MAX];           /* "" = embedded default */
	uint64_t generation;           /* successful config.apply calls */
	bool dirty;                    /* running differs from the file */
	uint64_t created_ns;
	uint32_t shutdown;             /* atomic: a client asked for shutdown */
	bool shutdown_reported;        /* on_shutdown called */
	void (*on_shutdown)(void *arg);
	void *on_shutdown_arg;
};

/* ---- gw_rpc.c: the methods (braid_mgmt_handler_t, arg: struct gw_mgmt) -- */

int gw_rpc_status(void *arg, const json_t *params, json_t **result,
		  struct braid_mgmt_error *err);
int gw_rpc_links_list(void *arg, const json_t *params, json_t **result,
		      struct braid_mgmt_error *err);
int gw_rpc_links_set(void *arg, const json_t *params, json_t **result,
		     struct braid_mgmt_error *err);
int gw_rpc_classes_list(void *arg, const json_t *params, json_t **result,
			struct braid_mgmt_error *err);
int gw_rpc_classes_set(void *arg, const json_t *params, json_t **result,
		       struct braid_mgmt_error *err);
int gw_rpc_config_get(void *arg, const json_t *params, json_t **result,
		      struct braid_mgmt_error *err);
int gw_rpc_config_apply(void *arg, const json_t *params, json_t **result,
			struct braid_mgmt_error *err);
int gw_rpc_config_save(void *arg, const json_t *params, json_t **result,
		       struct braid_mgmt_error *err);

/* ---- gw_live.c: the running configuration and its changes --------------- */

/* What one change did: the paths it changed, or those that cannot change
 * while the gateway runs (then nothing changed), or why the loader
 * refused it. Paths are the document's without "$." ("links[0].weight"),
 * at most 64 of each. */
struct gw_live_change {
	json_t *changed;                   /* string array */
	json_t *restart;                   /* string array */
	struct braid_config_errors *errs;  /* -EINVAL: the loader's reasons */
};

/* Allocate the members (0 or -ENOMEM; fini in any case). */
int gw_live_change_init(struct gw_live_change *ch);
void gw_live_change_fini(struct gw_live_change *ch);

/*
 * Make @p next, a validated configuration, the running one: diff it
 * against the running copy, queue the commands that change the stages
 * (gw_diff.c), all or none, and only then copy it. Every function below
 * ends here and returns what it does:
 * @return 0 (also when nothing changed), -EPERM (@p ch->restart lists
 * what cannot change live; nothing changed), -ENOBUFS (a command ring is
 * full; nothing changed), -ERANGE (a FEC ratio the scheduler cannot take
 * live), -ENOSPC, -EINVAL (the runner refused a command), -ENOMEM.
 */
int gw_live_commit(struct gw_mgmt *m, const struct braid_config *next,
		   struct gw_live_change *ch);

/*
 * Change links[@p idx] / classes[@p idx] of the running configuration by
 * @p patch (members to set; "arq" members left out keep their value),
 * validated by the loader as the file is.
 * @return as gw_live_commit(), or -EINVAL with @p ch->errs->n > 0: the
 * loader's reasons, paths of the whole document ("$.links[2].weight").
 * (-EINVAL with none is a command the runner refused.)
 */
int gw_live_link_set(struct gw_mgmt *m, unsigned int idx, const json_t *patch,
		     struct gw_live_change *ch);
int gw_live_class_set(struct gw_mgmt *m, unsigned int idx, const json_t *patch,
		      struct gw_live_change *ch);

/*
 * Make the document @p doc the running configuration (config.apply);
 * counts in m->generation when it does.
 * @return as gw_live_link_set().
 */
int gw_live_apply(struct gw_mgmt *m, const json_t *doc, struct gw_live_change *ch);

/* "<prefix>a, b, c" for the string array @p paths, cut to @p len. */
void gw_live_path_list(const json_t *paths, const char *prefix, char *buf, size_t len);

/* ---- gw_save.c: config.save --------------------------------------------- */

/*
 * Write the running configuration as an indented JSON text file to
 * @p path atomically (a temporary file in the same directory, renamed);
 * the running configuration counts as saved when @p path is its file.
 * @return 0, or -errno: -ENOMEM with *@p bytes 0 when the text could not
 * be made (nothing written), else the write's error with *@p bytes the
 * text's size. On success *@p bytes is the file's size.
 */
int gw_save_running(struct gw_mgmt *m, const char *path, size_t *bytes);

/* Where config.save may write @p given (NULL: the file braid was started
 * with): inside management.save_dir, else the start file's directory; a
 * relative path is taken from there; the directory it names (symbolic
 * links resolved) must be that one or below it, and the file itself must
 * not be a symbolic link. @return 0 with the path in @p out, or -EINVAL /
 * -ENOENT with the reason in @p why. */
int gw_save_path(const struct gw_mgmt *m, const char *given, char *out, size_t out_len,
		 char *why, size_t why_len);

/* ---- gw_metrics.c: the stats walker (braid_mgmt_walk_fn) ---------------- */

void gw_metrics_walk(void *arg, braid_mgmt_emit_fn emit, void *emit_arg);

#endif /* BRAID_GW_MGMT_PRIV_H */
