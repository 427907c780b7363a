/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.save (the method is gw_rpc.c's): the running configuration
 * written as the file's JSON text, atomically: a temporary file in the
 * same directory with the old file's mode, fsync, rename over the file.
 * A reader of the file sees the old text or the new one, never a part.
 * It writes only inside one directory (gw_save_path()): a management
 * client cannot make braid write where its user can but the client's
 * owner should not.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_mgmt_priv.h"

/* Write @p text to @p path through a temporary file in the same
 * directory and a rename. @return 0 or -errno. */
static int
write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 16];
	const char *slash = strrchr(path, '/');
	struct stat st;
	mode_t mode = 0644;
	size_t off = 0;
	int fd, ret = 0;

	if (slash != NULL)
		snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			 slash + 1);
	else
		snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (ret == 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (ret == 0 && fchmod(fd, mode) != 0)
		ret = -errno;
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0)
		unlink(tmp);
	return ret;
}

/* The configuration as the file's text (indented, ending with a
 * newline), NULL without memory. */
static char *
config_text(const struct braid_config *c, size_t *len)
{
	json_t *doc = braid_config_to_json(c);
	char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	char *t;

	json_decref(doc);
	if (text == NULL)
		return NULL;
	*len = strlen(text);
	t = realloc(text, *len + 2);
	if (t == NULL) {
		free(text);
		return NULL;
	}
	t[(*len)++] = '\n';
	t[*len] = '\0';
	return t;
}

int
gw_save_running(struct gw_mgmt *m, const char *path, size_t *bytes)
{
	size_t len = 0;
	char *text;
	int ret;

	*bytes = 0;
	text = config_text(m->running, &len);
	if (text == NULL)
		return -ENOMEM;
	*bytes = len;
	ret = write_atomic(path, text, len);
	free(text);
	if (ret == 0 && strcmp(path, m->file) == 0)
		m->dirty = false;
	return ret;
}

int
gw_save_path(const struct gw_mgmt *m, const char *given, char *out, size_t out_len,
	     char *why, size_t why_len)
{
	char dir[PATH_MAX], want[PATH_MAX], real_dir[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX];
	const char *sd = m->running->management.save_dir;
	struct stat st;
	size_t n;

	if (sd[0] != '\0') {
		snprintf(dir, sizeof(dir), "%s", sd);
	} else if (m->file[0] != '\0') {
		snprintf(tmp, sizeof(tmp), "%s", m->file);
		snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	} else {
		snprintf(why, why_len, "no directory to save in: braid runs a configuration "
			 "that was not loaded from a file (set management.save_dir)");
		return -ENOENT;
	}
	if (realpath(dir, real_dir) == NULL) {
		snprintf(why, why_len, "save directory %.200s: %s", dir, strerror(errno));
		return -ENOENT;
	}
	/* The start file as braid was given it; a client's relative path
	 * from the save directory. */
	if (given == NULL)
		n = (size_t)snprintf(want, sizeof(want), "%s", m->file);
	else if (given[0] == '/')
		n = (size_t)snprintf(want, sizeof(want), "%s", given);
	else
		n = (size_t)snprintf(want, sizeof(want), "%s/%s", real_dir, given);
	if (n >= sizeof(want) || n >= out_len) {
		snprintf(why, why_len, "path too long");
		return -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), "%s", want);
	if (realpath(dirname(tmp), parent) == NULL ||
	    (strcmp(parent, real_dir) != 0 &&
	     (strncmp(parent, real_dir, strlen(real_dir)) != 0 ||
	      parent[strlen(real_dir)] != '/' || strcmp(real_dir, "/") == 0))) {
		snprintf(why, why_len, "outside the save directory %.200s", real_dir);
		return -EINVAL;
	}
	if (lstat(want, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s", S_ISLNK(st.st_mode) ? "a symbolic link" :
			 "not a regular file");
		return -EINVAL;
	}
	snprintf(out, out_len, "%s", want);
	return 0;
}
