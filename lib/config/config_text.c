/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error list, JSON paths and the strict scalar parsers of lib/config.
 * Parsers take exact lengths and accept nothing but the documented
 * forms: no whitespace, no signs, no octal-looking leading zeros.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int
hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Largest length <= @p n at which @p s does not end inside a UTF-8
 * sequence: messages are cut to fit their buffers, and the management
 * port sends them as JSON strings, which must be valid UTF-8.
 */
static size_t
utf8_cut(const char *s, size_t n)
{
	for (size_t back = 1; back <= 4 && back <= n; back++) {
		unsigned char ch = (unsigned char)s[n - back];
		size_t len;

		if ((ch & 0xc0) == 0x80)
			continue;            /* continuation byte */
		if (ch < 0x80)
			return n;
		len = (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : 4;
		return back < len ? n - back : n;
	}
	return n;
}

/* ---- errors ------------------------------------------------------------ */

void
cfg_err(struct cfg_ctx *x, const char *path, const char *fmt, ...)
{
	struct cfg_err *e;
	va_list ap;

	x->total++;
	if (x->n_err >= CFG_ERR_CAP)
		return;
	e = &x->err[x->n_err++];
	snprintf(e->path, sizeof(e->path), "%s", path);
	if (fmt == NULL) {          /* never: keeps gcc's sanitizer build quiet */
		e->msg[0] = '\0';
	} else {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	e->path[utf8_cut(e->path, strlen(e->path))] = '\0';
	e->msg[utf8_cut(e->msg, strlen(e->msg))] = '\0';
}

#define POS_DEPTH 16

/* Position of a path's node in the document: per component, the index of
 * the key in its object (in document order) or the array index. A key the
 * object lacks sorts after the object's last key (it was noticed at the
 * closing brace), and so does an error on the object itself. */
static unsigned int
path_position(const json_t *root, const char *p, uint32_t pos[POS_DEPTH])
{
	const json_t *cur = root;
	char key[CFG_PATH_LEN];
	unsigned int d = 0;

	if (*p != '$')
		return 0;
	p++;
	while (*p != '\0' && d < POS_DEPTH) {
		size_t kl = 0;
		bool is_key = true;
		size_t idx = 0;

		if (p[0] == '.') {
			p++;
			while (*p != '\0' && *p != '.' && *p != '[' &&
			       kl < sizeof(key) - 1)
				key[kl++] = *p++;
		} else if (p[0] == '[' && p[1] == '"') {
			p += 2;
			while (*p != '\0' && *p != '"' && kl < sizeof(key) - 1) {
				if (p[0] == '\\' && p[1] == 'u' && p[2] != '\0' &&
				    p[3] != '\0' && p[4] != '\0' && p[5] != '\0') {
					int hi = hex_val(p[4]), lo = hex_val(p[5]);

					key[kl++] = (char)(hi < 0 || lo < 0 ?
							   '?' : hi * 16 + lo);
					p += 6;
				} else if (p[0] == '\\' && p[1] != '\0') {
					key[kl++] = p[1];
					p += 2;
				} else {
					key[kl++] = *p++;
				}
			}
			if (p[0] != '"' || p[1] != ']')
				break;
			p += 2;
		} else if (p[0] == '[') {
			p++;
			if (!is_digit(*p))
				break;
			while (is_digit(*p) && idx < UINT32_MAX)
				idx = idx * 10 + (size_t)(*p++ - '0');
			if (*p != ']')
				break;
			p++;
			is_key = false;
		} else {
			break;
		}
		key[kl] = '\0';

		if (is_key && json_is_object(cur)) {
			uint32_t i = 0;
			const char *k;
			json_t *v;
			const json_t *next = NULL;

			json_object_foreach((json_t *)(uintptr_t)cur, k, v) {
				if (strcmp(k, key) == 0) {
					next = v;
					break;
				}
				i++;
			}
			pos[d++] = i;
			cur = next;
		} else if (!is_key && json_is_array(cur)) {
			pos[d++] = (uint32_t)RTE_MIN(idx, (size_t)UINT32_MAX);
			cur = json_array_get(cur, idx);
		} else {
			pos[d++] = 0;
			cur = NULL;
		}
	}
	return d;
}

static int
pos_cmp(const uint32_t *a, unsigned int na, const uint32_t *b, unsigned int nb)
{
	unsigned int n = RTE_MIN(na, nb);

	for (unsigned int i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	/* A container's own error (a summary found at its closing bracket)
	 * comes after the errors inside it. */
	return na == nb ? 0 : (na > nb ? -1 : 1);
}

void
cfg_err_sort(struct cfg_ctx *x)
{
	uint32_t (*pos)[POS_DEPTH];
	unsigned int *depth, *order;
	struct cfg_err *tmp;
	unsigned int n = x->n_err;

	if (n < 2 || x->root == NULL)
		return;
	pos = calloc(n, sizeof(*pos));
	depth = calloc(n, sizeof(*depth));
	order = calloc(n, sizeof(*order));
	tmp = calloc(n, sizeof(*tmp));
	if (pos != NULL && depth != NULL && order != NULL && tmp != NULL) {
		for (unsigned int i = 0; i < n; i++) {
			depth[i] = path_position(x->root, x->err[i].path, pos[i]);
			order[i] = i;
		}
		/* Insertion sort: stable, n <= CFG_ERR_CAP. */
		for (unsigned int i = 1; i < n; i++) {
			unsigned int o = order[i], j = i;

			while (j > 0 && pos_cmp(pos[o], depth[o], pos[order[j - 1]],
						 depth[order[j - 1]]) < 0) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = o;
		}
		for (unsigned int i = 0; i < n; i++)
			tmp[i] = x->err[order[i]];
		memcpy(x->err, tmp, n * sizeof(*tmp));
	}
	/* Out of memory: the errors stay in the order they were found. */
	free(pos);
	free(depth);
	free(order);
	free(tmp);
}

/* ---- paths --------------------------------------------------------------- */

static bool
ident_ok(const char *k)
{
	if (*k == '\0' || is_digit(*k))
		return false;
	for (; *k != '\0'; k++)
		if (!(is_digit(*k) || (*k >= 'a' && *k <= 'z') ||
		      (*k >= 'A' && *k <= 'Z') || *k == '_'))
			return false;
	return true;
}

void
cfg_path_key(char out[CFG_PATH_LEN], const char *parent, const char *key)
{
	const char *k;
	size_t o;

	if (ident_ok(key)) {
		snprintf(out, CFG_PATH_LEN, "%s.%s", parent, key);
		return;
	}
	snprintf(out, CFG_PATH_LEN, "%s[\"", parent);
	o = strlen(out);
	for (k = key; *k != '\0' && o + 8 < CFG_PATH_LEN; k++) {
		unsigned char ch = (unsigned char)*k;

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, CFG_PATH_LEN - o,
					      "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	if (*k != '\0')
		o = utf8_cut(out, o);
	if (o + 3 <= CFG_PATH_LEN) {
		out[o++] = '"';
		out[o++] = ']';
	}
	out[RTE_MIN(o, (size_t)CFG_PATH_LEN - 1)] = '\0';
}

void
cfg_path_idx(char out[CFG_PATH_LEN], const char *parent, size_t idx)
{
	snprintf(out, CFG_PATH_LEN, "%s[%zu]", parent, idx);
}

const char *
cfg_type_word(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "?";
}

void
cfg_describe(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, len, "%.17g", json_real_value(v));
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), o = 0, i;

		if (len < 8) {
			snprintf(buf, len, "string");
			return;
		}
		buf[o++] = '"';
		for (i = 0; i < n && o + 5 < len; i++) {
			unsigned char ch = (unsigned char)s[i];

			buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
		}
		if (i < n && o >= 4) {
			o = utf8_cut(buf, o - 3);
			memcpy(buf + o, "...", 3);
			o += 3;
		}
		buf[o++] = '"';
		buf[o] = '\0';
	} else {
		snprintf(buf, len, "%s", cfg_type_word(v));
	}
}

/* ---- scalar parsers ---------------------------------------------------- */

int
cfg_parse_u16(const char *s, size_t len, uint16_t *v)
{
	uint32_t n = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		n = n * 10 + (uint32_t)(s[i] - '0');
	}
	if (n > UINT16_MAX)
		return -1;
	*v = (uint16_t)n;
	return 0;
}

int
cfg_parse_ipv4(const char *s, size_t len, uint32_t *ip)
{
	uint32_t addr = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		uint32_t octet = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			start = ++i;
		}
		while (i < len && is_digit(s[i]) && i - start < 3)
			octet = octet * 10 + (uint32_t)(s[i++] - '0');
		if (i == start || octet > 255)
			return -1;
		/* "010" means 8 to inet_aton and 10 to a human: refuse both. */
		if (s[start] == '0' && i - start > 1)
			return -1;
		addr = addr << 8 | octet;
	}
	if (i != len)
		return -1;
	*ip = addr;
	return 0;
}

int
cfg_parse_mac(const char *s, struct rte_ether_addr *mac)
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hex_val(s[3 * i]), lo = hex_val(s[3 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		if (i < 5 && s[3 * i + 2] != ':')
			return -1;
		mac->addr_bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool
cfg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= BRAID_CONFIG_NAME_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!(is_digit(*s) || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '.' ||
		      *s == '-'))
			return false;
	return true;
}

bool
cfg_profile_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= BRAID_CONFIG_NAME_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!(is_digit(*s) || (*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

size_t
cfg_device_base_len(const char *s)
{
	const char *comma = strchr(s, ',');

	return comma != NULL ? (size_t)(comma - s) : strlen(s);
}

/* [dddd:]bb:dd.f, hex, device 00..1f, function 0..7. */
static bool
pci_addr_ok(const char *s, size_t len)
{
	static const char full[] = "hhhh:hh:dh.f";
	const char *form = full;
	size_t flen = sizeof(full) - 1;

	if (len == flen - 5) {
		form += 5;
		flen -= 5;
	}
	if (len != flen)
		return false;
	for (size_t i = 0; i < len; i++) {
		switch (form[i]) {
		case 'h':
			if (hex_val(s[i]) < 0)
				return false;
			break;
		case 'd':
			if (s[i] != '0' && s[i] != '1')
				return false;
			break;
		case 'f':
			if (s[i] < '0' || s[i] > '7')
				return false;
			break;
		default:
			if (s[i] != form[i])
				return false;
		}
	}
	return true;
}

static bool
vdev_name_ok(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
			  (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
			return false;
	return true;
}

bool
cfg_device_ok(const char *s)
{
	size_t base = cfg_device_base_len(s);
	const char *a;

	if (strlen(s) >= BRAID_CONFIG_DEVICE_LEN)
		return false;
	if (!pci_addr_ok(s, base) && !vdev_name_ok(s, base))
		return false;
	if (s[base] == '\0')
		return true;
	/* devargs: non-empty comma-separated items of printable non-blank
	 * characters ("role=server,socket=/run/memif.sock"). */
	a = s + base + 1;
	if (*a == '\0' || *a == ',')
		return false;
	for (; *a != '\0'; a++) {
		if (*a == ',' && (a[1] == ',' || a[1] == '\0'))
			return false;
		if ((unsigned char)*a <= 0x20 || (unsigned char)*a >= 0x7f)
			return false;
	}
	return true;
}

unsigned int
cfg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[BRAID_CONFIG_NAME_LEN + 1];

	if (la > BRAID_CONFIG_NAME_LEN || lb > BRAID_CONFIG_NAME_LEN)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			best = RTE_MIN(best, up + 1);
			best = RTE_MIN(best, row[j - 1] + 1);
			row[j] = best;
			diag = up;
		}
	}
	return RTE_MIN(row[lb], 3u);
}
