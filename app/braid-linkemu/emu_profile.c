/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "emu_profile.h"

#define PATH_LEN 128

struct pctx {
	char *err;
	size_t errlen;
};

static int
fail(struct pctx *x, const char *path, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->err != NULL && x->errlen > 0)
		snprintf(x->err, x->errlen, "%s: %s", path[0] ? path : "(root)",
			 msg);
	return -EINVAL;
}

static void
child(char *out, const char *path, const char *key)
{
	int n;

	if (path[0] == '\0')
		n = snprintf(out, PATH_LEN, "%s", key);
	else
		n = snprintf(out, PATH_LEN, "%s.%s", path, key);
	if (n >= PATH_LEN) /* keys are short: cannot happen, but mark it */
		out[PATH_LEN - 2] = '~';
}

/* Every key of @o must be in the NULL-terminated @allowed list. */
static int
check_keys(struct pctx *x, const json_t *o, const char *path,
	   const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)o, key, val) {
		bool ok = false;
		char p[PATH_LEN];

		(void)val;
		for (unsigned int i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			child(p, path, key);
			return fail(x, p, "unknown key");
		}
	}
	return 0;
}

/*
 * Optional number in [lo, hi] (or (lo, hi] when lo_open). Returns 1 when
 * present (value in *out), 0 when absent, -EINVAL on error.
 */
static int
get_num(struct pctx *x, const json_t *o, const char *key, const char *path,
	double lo, bool lo_open, double hi, double *out)
{
	json_t *v = json_object_get(o, key);
	char p[PATH_LEN];
	double d;

	if (v == NULL)
		return 0;
	child(p, path, key);
	if (!json_is_number(v))
		return fail(x, p, "must be a number");
	d = json_number_value(v);
	if (!isfinite(d) || d > hi || (lo_open ? d <= lo : d < lo))
		return fail(x, p, "must be a number in %c%g, %g]",
			    lo_open ? '(' : '[', lo, hi);
	*out = d;
	return 1;
}

static uint64_t
ms_to_ns(double ms)
{
	return (uint64_t)llround(ms * 1e6);
}

static uint64_t
s_to_ns(double s)
{
	return (uint64_t)llround(s * 1e9);
}

static int
parse_ge(struct pctx *x, const json_t *o, const char *path,
	 struct emu_dir_conf *c)
{
	static const char *const keys[] = { "p", "r", "h", "k", "1-h", "1-k",
					    NULL };
	double v;
	int rc;

	if (!json_is_object(o))
		return fail(x, path, "must be an object {p, r, h|1-h, k|1-k}");
	rc = check_keys(x, o, path, keys);
	if (rc < 0)
		return rc;
	c->ge = true;
	c->ge_loss_bad = 1.0;  /* h = 0 */
	c->ge_loss_good = 0.0; /* k = 100 */
	rc = get_num(x, o, "p", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(x, path, "missing \"p\" (percent, good -> bad)");
	c->ge_p = v / 100.0;
	rc = get_num(x, o, "r", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(x, path, "missing \"r\" (percent, bad -> good)");
	c->ge_r = v / 100.0;
	if (json_object_get(o, "h") != NULL && json_object_get(o, "1-h") != NULL)
		return fail(x, path, "give \"h\" or \"1-h\", not both");
	if (json_object_get(o, "k") != NULL && json_object_get(o, "1-k") != NULL)
		return fail(x, path, "give \"k\" or \"1-k\", not both");
	rc = get_num(x, o, "h", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->ge_loss_bad = 1.0 - v / 100.0;
	rc = get_num(x, o, "1-h", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->ge_loss_bad = v / 100.0;
	rc = get_num(x, o, "k", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->ge_loss_good = 1.0 - v / 100.0;
	rc = get_num(x, o, "1-k", path, 0, false, 100, &v);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->ge_loss_good = v / 100.0;
	if (c->ge_p + c->ge_r <= 0.0)
		return fail(x, path, "p and r cannot both be 0");
	return 0;
}

static int
parse_outages(struct pctx *x, const json_t *a, const char *path,
	      struct emu_dir_conf *c)
{
	static const char *const keys[] = { "from_s", "to_s", NULL };
	size_t i;
	json_t *w;

	if (!json_is_array(a))
		return fail(x, path, "must be an array of {from_s, to_s}");
	if (json_array_size(a) > EMU_MAX_OUTAGES)
		return fail(x, path, "at most %u windows", EMU_MAX_OUTAGES);
	c->n_outages = 0;
	json_array_foreach(a, i, w) {
		char p[PATH_LEN];
		double from, to;
		int rc;

		if (snprintf(p, sizeof(p), "%s[%zu]", path, i) >= PATH_LEN)
			p[PATH_LEN - 2] = '~';
		if (!json_is_object(w))
			return fail(x, p, "must be an object {from_s, to_s}");
		rc = check_keys(x, w, p, keys);
		if (rc < 0)
			return rc;
		rc = get_num(x, w, "from_s", p, 0, false, 1e6, &from);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(x, p, "missing \"from_s\"");
		rc = get_num(x, w, "to_s", p, 0, false, 1e6, &to);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(x, p, "missing \"to_s\"");
		if (s_to_ns(to) <= s_to_ns(from)) {
			char q[PATH_LEN];

			child(q, p, "to_s");
			return fail(x, q, "must be greater than from_s");
		}
		c->outages[c->n_outages].from_ns = s_to_ns(from);
		c->outages[c->n_outages].to_ns = s_to_ns(to);
		c->n_outages++;
	}
	return 0;
}

static int
parse_flap(struct pctx *x, const json_t *o, const char *path,
	   struct emu_dir_conf *c)
{
	static const char *const keys[] = { "up_ms", "down_ms", "from_s",
					    "to_s", NULL };
	double up, down, from = 0, to = 0;
	int rc;

	if (!json_is_object(o))
		return fail(x, path,
			    "must be an object {up_ms, down_ms, from_s, to_s}");
	rc = check_keys(x, o, path, keys);
	if (rc < 0)
		return rc;
	rc = get_num(x, o, "up_ms", path, 0, true, 3.6e6, &up);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(x, path, "missing \"up_ms\"");
	rc = get_num(x, o, "down_ms", path, 0, true, 3.6e6, &down);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(x, path, "missing \"down_ms\"");
	rc = get_num(x, o, "from_s", path, 0, false, 1e6, &from);
	if (rc < 0)
		return rc;
	rc = get_num(x, o, "to_s", path, 0, true, 1e6, &to);
	if (rc < 0)
		return rc;
	if (rc == 1 && to <= from) {
		char q[PATH_LEN];

		child(q, path, "to_s");
		return fail(x, q, "must be greater than from_s");
	}
	c->flap_up_ns = ms_to_ns(up);
	c->flap_down_ns = ms_to_ns(down);
	c->flap_from_ns = s_to_ns(from);
	c->flap_to_ns = rc == 1 ? s_to_ns(to) : 0;
	if (c->flap_up_ns == 0 || c->flap_down_ns == 0)
		return fail(x, path, "up_ms and down_ms must be >= 1 ns");
	return 0;
}

/* "steps": [{"at_s", and any of "rate_kbps", "loss_pct", "delay_ms"}],
 * in time order: from at_s on, those replace the direction's values. */
static int
parse_steps(struct pctx *x, const json_t *a, const char *path, struct emu_dir_conf *c)
{
	static const char *const keys[] = { "at_s", "rate_kbps", "loss_pct", "delay_ms", NULL };
	size_t i;
	json_t *w;

	if (!json_is_array(a))
		return fail(x, path, "must be an array of {at_s, rate_kbps|loss_pct|delay_ms}");
	if (json_array_size(a) > EMU_MAX_STEPS)
		return fail(x, path, "at most %u steps", EMU_MAX_STEPS);
	c->n_steps = 0;
	json_array_foreach(a, i, w) {
		struct emu_step *st = &c->steps[c->n_steps];
		char p[PATH_LEN];
		double at, d;
		int rc;

		if (snprintf(p, sizeof(p), "%s[%zu]", path, i) >= PATH_LEN)
			p[PATH_LEN - 2] = '~';
		if (!json_is_object(w))
			return fail(x, p, "must be an object");
		rc = check_keys(x, w, p, keys);
		if (rc < 0)
			return rc;
		rc = get_num(x, w, "at_s", p, 0, false, 1e6, &at);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(x, p, "missing \"at_s\"");
		memset(st, 0, sizeof(*st));
		st->at_ns = s_to_ns(at);
		if (c->n_steps > 0 && st->at_ns < c->steps[c->n_steps - 1].at_ns)
			return fail(x, p, "at_s before the previous step's");
		rc = get_num(x, w, "rate_kbps", p, 0, false, 1e8, &d);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			st->set_rate = true;
			st->rate_bps = (uint64_t)llround(d * 1000.0);
		}
		rc = get_num(x, w, "loss_pct", p, 0, false, 100, &d);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			st->set_loss = true;
			st->loss = d / 100.0;
		}
		rc = get_num(x, w, "delay_ms", p, 0, false, 60000, &d);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			st->set_delay = true;
			st->delay_ns = ms_to_ns(d);
		}
		if (!st->set_rate && !st->set_loss && !st->set_delay)
			return fail(x, p, "sets nothing (rate_kbps, loss_pct or delay_ms)");
		c->n_steps++;
	}
	return 0;
}

/* Apply the keys present in @o on top of @c. */
static int
parse_dir(struct pctx *x, const json_t *o, const char *path,
	  struct emu_dir_conf *c)
{
	static const char *const keys[] = {
		"rate_kbps", "delay_ms", "jitter_ms", "jitter_dist", "reorder",
		"loss_pct", "ge", "dup_pct", "backlog_ms", "outages",
		"periodic_outage", "steps", NULL
	};
	char p[PATH_LEN];
	json_t *v;
	double d;
	int rc;

	if (!json_is_object(o))
		return fail(x, path, "must be an object");
	rc = check_keys(x, o, path, keys);
	if (rc < 0)
		return rc;
	rc = get_num(x, o, "rate_kbps", path, 0, false, 1e8, &d);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		c->rate_bps = (uint64_t)llround(d * 1000.0);
		if (d > 0 && c->rate_bps == 0)
			return fail(x, path, "rate_kbps rounds to 0 bit/s");
	}
	rc = get_num(x, o, "delay_ms", path, 0, false, 60000, &d);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->delay_ns = ms_to_ns(d);
	rc = get_num(x, o, "jitter_ms", path, 0, false, 60000, &d);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->jitter_ns = ms_to_ns(d);
	rc = get_num(x, o, "backlog_ms", path, 0, false, 60000, &d);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->backlog_ns = ms_to_ns(d);
	rc = get_num(x, o, "loss_pct", path, 0, false, 100, &d);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->loss = d / 100.0;
	rc = get_num(x, o, "dup_pct", path, 0, false, 100, &d);
	if (rc < 0)
		return rc;
	if (rc == 1)
		c->dup = d / 100.0;
	v = json_object_get(o, "jitter_dist");
	if (v != NULL) {
		child(p, path, "jitter_dist");
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "uniform") == 0)
			c->jitter_dist = EMU_JITTER_UNIFORM;
		else if (json_is_string(v) &&
			 strcmp(json_string_value(v), "normal") == 0)
			c->jitter_dist = EMU_JITTER_NORMAL;
		else
			return fail(x, p, "must be \"uniform\" or \"normal\"");
	}
	v = json_object_get(o, "reorder");
	if (v != NULL) {
		child(p, path, "reorder");
		if (!json_is_boolean(v))
			return fail(x, p, "must be true or false");
		c->reorder = json_is_true(v);
	}
	v = json_object_get(o, "ge");
	if (v != NULL) {
		child(p, path, "ge");
		rc = parse_ge(x, v, p, c);
		if (rc < 0)
			return rc;
	}
	v = json_object_get(o, "outages");
	if (v != NULL) {
		child(p, path, "outages");
		rc = parse_outages(x, v, p, c);
		if (rc < 0)
			return rc;
	}
	v = json_object_get(o, "periodic_outage");
	if (v != NULL) {
		child(p, path, "periodic_outage");
		rc = parse_flap(x, v, p, c);
		if (rc < 0)
			return rc;
	}
	v = json_object_get(o, "steps");
	if (v != NULL) {
		child(p, path, "steps");
		rc = parse_steps(x, v, p, c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
get_ifname(struct pctx *x, const json_t *o, const char *key, const char *path,
	   char *out)
{
	json_t *v = json_object_get(o, key);
	char p[PATH_LEN];
	size_t n;

	child(p, path, key);
	if (v == NULL)
		return fail(x, p, "missing (interface name)");
	if (!json_is_string(v))
		return fail(x, p, "must be a string");
	n = strlen(json_string_value(v));
	if (n == 0 || n >= EMU_IFNAME_LEN)
		return fail(x, p, "interface name must be 1..%u characters",
			    EMU_IFNAME_LEN - 1);
	if (strchr(json_string_value(v), '/') != NULL ||
	    strchr(json_string_value(v), ' ') != NULL)
		return fail(x, p, "not a valid interface name");
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

/* An IPv4 address string at @p key of @p o (optional). 1 present, 0 absent. */
static int
get_ipv4(struct pctx *x, const json_t *o, const char *key, const char *path, uint32_t *out)
{
	json_t *v = json_object_get(o, key);
	char p[PATH_LEN];
	struct in_addr a;

	if (v == NULL)
		return 0;
	child(p, path, key);
	if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &a) != 1 ||
	    a.s_addr == 0)
		return fail(x, p, "must be an IPv4 address a.b.c.d");
	*out = ntohl(a.s_addr);
	return 1;
}

/* "nat": {"addr", "port", "steps": [{"at_s", "addr" and/or "port"}]}. */
static int
parse_nat(struct pctx *x, const json_t *o, const char *path, struct emu_nat_conf *c)
{
	static const char *const keys[] = { "addr", "port", "steps", NULL };
	static const char *const step_keys[] = { "at_s", "addr", "port", NULL };
	char p[PATH_LEN], q[PATH_LEN + 24];
	const json_t *st, *w;
	size_t i;
	double d;
	int rc;

	if (!json_is_object(o))
		return fail(x, path, "must be an object {addr, port, steps}");
	rc = check_keys(x, o, path, keys);
	if (rc < 0)
		return rc;
	memset(c, 0, sizeof(*c));
	if ((rc = get_ipv4(x, o, "addr", path, &c->maps[0].addr)) <= 0)
		return rc < 0 ? rc : fail(x, path, "\"addr\" is required");
	if ((rc = get_num(x, o, "port", path, 1, false, 65535, &d)) <= 0)
		return rc < 0 ? rc : fail(x, path, "\"port\" is required");
	c->maps[0].port = (uint16_t)d;
	c->n_maps = 1;
	st = json_object_get(o, "steps");
	if (st != NULL) {
		child(p, path, "steps");
		if (!json_is_array(st) || json_array_size(st) > EMU_NAT_MAX_STEPS)
			return fail(x, p, "must be an array of at most %u {at_s, addr|port}",
				    EMU_NAT_MAX_STEPS);
		json_array_foreach(st, i, w) {
			struct emu_nat_map *m = &c->maps[c->n_maps];

			snprintf(q, sizeof(q), "%s[%zu]", p, i);
			if (!json_is_object(w))
				return fail(x, q, "must be an object");
			rc = check_keys(x, w, q, step_keys);
			if (rc < 0)
				return rc;
			*m = c->maps[c->n_maps - 1];
			if ((rc = get_num(x, w, "at_s", q, 0, true, 86400, &d)) <= 0)
				return rc < 0 ? rc : fail(x, q, "\"at_s\" is required");
			m->at_ns = s_to_ns(d);
			if (m->at_ns <= c->maps[c->n_maps - 1].at_ns)
				return fail(x, q, "at_s must grow from step to step");
			rc = get_ipv4(x, w, "addr", q, &m->addr);
			if (rc < 0)
				return rc;
			if (get_num(x, w, "port", q, 1, false, 65535, &d) == 1)
				m->port = (uint16_t)d;
			else if (rc == 0)
				return fail(x, q, "changes nothing (addr or port)");
			c->n_maps++;
		}
	}
	c->on = true;
	return 0;
}

static int
parse_link(struct pctx *x, const json_t *o, const char *path, unsigned int idx,
	   struct emu_link_conf *l)
{
	static const char *const keys[] = { "name", "a", "b", "both", "a_to_b",
					    "b_to_a", "nat", NULL };
	char p[PATH_LEN];
	json_t *v;
	int rc;

	if (!json_is_object(o))
		return fail(x, path, "must be an object");
	rc = check_keys(x, o, path, keys);
	if (rc < 0)
		return rc;
	v = json_object_get(o, "name");
	if (v != NULL) {
		child(p, path, "name");
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= EMU_LINK_NAME_LEN)
			return fail(x, p, "must be a string of 1..%u characters",
				    EMU_LINK_NAME_LEN - 1);
		snprintf(l->name, sizeof(l->name), "%s", json_string_value(v));
	} else {
		snprintf(l->name, sizeof(l->name), "link%u", idx);
	}
	rc = get_ifname(x, o, "a", path, l->ifname[0]);
	if (rc < 0)
		return rc;
	rc = get_ifname(x, o, "b", path, l->ifname[1]);
	if (rc < 0)
		return rc;
	if (strcmp(l->ifname[0], l->ifname[1]) == 0) {
		child(p, path, "b");
		return fail(x, p, "same interface as \"a\"");
	}
	emu_dir_conf_init(&l->dir[EMU_A_TO_B]);
	emu_dir_conf_init(&l->dir[EMU_B_TO_A]);
	v = json_object_get(o, "both");
	if (v != NULL) {
		child(p, path, "both");
		for (unsigned int d = 0; d < 2; d++) {
			rc = parse_dir(x, v, p, &l->dir[d]);
			if (rc < 0)
				return rc;
		}
	}
	v = json_object_get(o, "a_to_b");
	if (v != NULL) {
		child(p, path, "a_to_b");
		rc = parse_dir(x, v, p, &l->dir[EMU_A_TO_B]);
		if (rc < 0)
			return rc;
	}
	v = json_object_get(o, "b_to_a");
	if (v != NULL) {
		child(p, path, "b_to_a");
		rc = parse_dir(x, v, p, &l->dir[EMU_B_TO_A]);
		if (rc < 0)
			return rc;
	}
	for (unsigned int d = 0; d < 2; d++)
		if (emu_dir_conf_check(&l->dir[d]) != 0)
			return fail(x, path, "inconsistent settings");
	memset(&l->nat, 0, sizeof(l->nat));
	v = json_object_get(o, "nat");
	if (v != NULL) {
		child(p, path, "nat");
		rc = parse_nat(x, v, p, &l->nat);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
parse_root(struct pctx *x, const json_t *root, struct emu_profile *p)
{
	static const char *const keys[] = { "seed", "links", "stream_kbps",
					    "description", NULL };
	json_t *v, *links;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	p->seed = 1;
	if (!json_is_object(root))
		return fail(x, "", "profile must be a JSON object");
	rc = check_keys(x, root, "", keys);
	if (rc < 0)
		return rc;
	v = json_object_get(root, "seed");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail(x, "seed", "must be an integer >= 0");
		p->seed = (uint64_t)json_integer_value(v);
	}
	v = json_object_get(root, "description");
	if (v != NULL && !json_is_string(v))
		return fail(x, "description", "must be a string");
	rc = get_num(x, root, "stream_kbps", "", 0, false, 1e8,
		     &p->stream_kbps);
	if (rc < 0)
		return rc;
	links = json_object_get(root, "links");
	if (links == NULL)
		return fail(x, "links", "missing (array of links)");
	if (!json_is_array(links) || json_array_size(links) == 0 ||
	    json_array_size(links) > EMU_MAX_LINKS)
		return fail(x, "links", "must be an array of 1..%u links",
			    EMU_MAX_LINKS);
	json_array_foreach(links, i, v) {
		char path[PATH_LEN];
		struct emu_link_conf *l = &p->links[i];

		snprintf(path, sizeof(path), "links[%zu]", i);
		rc = parse_link(x, v, path, (unsigned int)i, l);
		if (rc < 0)
			return rc;
		/* An interface belongs to one link side only. */
		for (unsigned int s = 0; s < 2; s++) {
			for (size_t j = 0; j < i; j++) {
				const struct emu_link_conf *o = &p->links[j];

				if (strcmp(o->ifname[0], l->ifname[s]) != 0 &&
				    strcmp(o->ifname[1], l->ifname[s]) != 0)
					continue;
				snprintf(path, sizeof(path), "links[%zu].%s", i,
					 s == 0 ? "a" : "b");
				return fail(x, path,
					    "interface %s already used by links[%zu]",
					    l->ifname[s], j);
			}
		}
		p->n_links++;
	}
	return 0;
}

int
emu_profile_parse(const char *text, struct emu_profile *p, char *err,
		  size_t errlen)
{
	struct pctx x = { .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	rc = parse_root(&x, root, p);
	json_decref(root);
	return rc;
}

int
emu_profile_load(const char *path, struct emu_profile *p, char *err,
		 size_t errlen)
{
	struct pctx x = { .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: line %d column %d: %s", path,
				 jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	rc = parse_root(&x, root, p);
	json_decref(root);
	return rc;
}

uint64_t
emu_profile_dir_seed(uint64_t seed, unsigned int link, unsigned int dir)
{
	uint64_t z = seed ^ (0x9E3779B97F4A7C15ull * (2ull * link + dir + 1));

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
