/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The schema walk: every section of the document is checked and copied
 * into struct braid_config. Each problem is recorded with its JSON path
 * and the walk goes on, so one load reports every error it can (they are
 * sorted into document order afterwards). Sections are visited in
 * dependency order: ports, links (name ports), classes (name links and
 * ports), then the rest.
 *
 * doc/config.md documents every key, default and range used here; the
 * two must change together.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "config_priv.h"

/* Known keys of each object, in the order doc/config.md lists them. */
static const char *const k_root[] = {
	"name", "mempool", "ports", "links", "classes", "default_class",
	"fec", "retransmit", "reorder", "health", "tx", "lcores",
	"management", "crypto", "mtu", "stats", NULL };
static const char *const k_mempool[] = { "mbufs", "cache", "data_room", NULL };
static const char *const k_port[] = {
	"name", "role", "profile", "device", "mac", "ipv4", "mtu", NULL };
static const char *const k_link[] = {
	"name", "port", "local", "peer", "next_hop", "next_hop_mac",
	"capacity_kbps", "weight", "admin", "backup", NULL };
static const char *const k_class[] = {
	"name", "weight", "priority", "rate_cap_kbps", "queue_packets", "fec",
	"arq", "policy", "match", NULL };
static const char *const k_class_fec[] = { "k", "m", NULL };
static const char *const k_class_fec_auto[] = { "auto", "max_overhead_pct", NULL };
static const char *const k_arq[] = { "enabled", "deadline_ms", NULL };
static const char *const k_policy[] = { "mode", "copies", "links", NULL };
static const char *const k_rule[] = {
	"priority", "src", "dst", "proto", "src_port", "dst_port", "dscp",
	"in_port", NULL };
static const char *const k_fec[] = { "block_timeout_us", NULL };
static const char *const k_retransmit[] = { "window_ms", "max_packets", NULL };
static const char *const k_reorder[] = { "window_ms", "max_packets", NULL };
static const char *const k_health[] = {
	"probe_interval_ms", "down_after_probes", "up_hold_ms", "silence_gaps",
	"silence_min_ms", NULL };
static const char *const k_tx[] = { "drain_us", NULL };
static const char *const k_lcores[] = {
	"ring_size", "idle_polls", "idle_sleep_max_us", "power_mgmt", "map", NULL };
static const char *const k_map[] = { "lcore", "stages", NULL };
static const char *const k_mgmt[] = {
	"enabled", "address", "port", "token_file", "max_clients",
	"max_request_bytes", "idle_timeout_s", "metrics_port", "save_dir", "unix_path", NULL };
static const char *const k_crypto[] = { "psk_file", "device", "rekey_s", "rekey_mb", NULL };
static const char *const k_mtu[] = { "clamp_mss", "icmp_per_s", NULL };
static const char *const k_stats[] = { "console", "interval_ms", NULL };

static const char *const v_role[] = { "lan", "link", NULL };
static const char *const v_admin[] = { "up", "down", NULL };
static const char *const v_mode[] = { "stripe", "duplicate", "pin", NULL };

/** Default lcore for every stage when "lcores.map" is omitted. */
#define DEFAULT_STAGE_LCORE 1

/* ---- generic member access ------------------------------------------- */

static const json_t *
member(const json_t *obj, const char *key)
{
	return obj == NULL ? NULL : json_object_get(obj, key);
}

static void
err_type(struct cfg_ctx *x, const char *path, const char *want,
	 const json_t *v)
{
	char got[64];

	cfg_describe(v, got, sizeof(got));
	cfg_err(x, path, "must be %s (got %s)", want, got);
}

/*
 * @p v must be an object whose keys are all in @p keys.
 * @return false if @p v is not an object (error recorded).
 */
static bool
want_object(struct cfg_ctx *x, const json_t *v, const char *path,
	    const char *const keys[])
{
	const char *key;
	json_t *val;

	if (!json_is_object(v)) {
		err_type(x, path, "an object", v);
		return false;
	}
	json_object_foreach((json_t *)(uintptr_t)v, key, val) {
		const char *best = NULL;
		unsigned int best_d = 3;
		char p[CFG_PATH_LEN];
		bool known = false;

		for (unsigned int i = 0; keys[i] != NULL; i++) {
			unsigned int d;

			if (strcmp(key, keys[i]) == 0) {
				known = true;
				break;
			}
			d = cfg_edit_distance(key, keys[i]);
			if (d < best_d && strlen(key) > 2) {
				best_d = d;
				best = keys[i];
			}
		}
		if (known)
			continue;
		cfg_path_key(p, path, key);
		if (best != NULL)
			cfg_err(x, p, "unknown key (did you mean \"%s\"?)", best);
		else
			cfg_err(x, p, "unknown key");
	}
	return true;
}

/*
 * Optional section @p key of @p obj: NULL when absent or not an object
 * (error recorded), so its members take their defaults.
 */
static const json_t *
section(struct cfg_ctx *x, const json_t *obj, const char *key,
	const char *const keys[])
{
	const json_t *v = member(obj, key);
	char p[CFG_PATH_LEN];

	if (v == NULL)
		return NULL;
	cfg_path_key(p, "$", key);
	return want_object(x, v, p, keys) ? v : NULL;
}

/*
 * Integer member in lo..hi. Absent: @p dflt, or an error when required.
 * @return true when *out holds a valid value.
 */
static bool
get_int(struct cfg_ctx *x, const json_t *obj, const char *path,
	const char *key, bool required, int64_t lo, int64_t hi, int64_t dflt,
	int64_t *out)
{
	const json_t *v = member(obj, key);
	char p[CFG_PATH_LEN], want[80];
	json_int_t n;

	*out = dflt;
	if (v == NULL) {
		if (!required)
			return true;
		cfg_path_key(p, path, key);
		cfg_err(x, p, "required (an integer in %" PRId64 "..%" PRId64 ")",
			lo, hi);
		return false;
	}
	n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (!json_is_integer(v) || n < lo || n > hi) {
		cfg_path_key(p, path, key);
		snprintf(want, sizeof(want), "an integer in %" PRId64 "..%" PRId64,
			 lo, hi);
		err_type(x, p, want, v);
		return false;
	}
	*out = n;
	return true;
}

static bool
get_u32(struct cfg_ctx *x, const json_t *obj, const char *path,
	const char *key, bool required, uint32_t lo, uint32_t hi,
	uint32_t dflt, uint32_t *out)
{
	int64_t n;
	bool ok = get_int(x, obj, path, key, required, lo, hi, dflt, &n);

	*out = (uint32_t)n;
	return ok;
}

static bool
get_u16(struct cfg_ctx *x, const json_t *obj, const char *path,
	const char *key, bool required, uint16_t lo, uint16_t hi,
	uint16_t dflt, uint16_t *out)
{
	int64_t n;
	bool ok = get_int(x, obj, path, key, required, lo, hi, dflt, &n);

	*out = (uint16_t)n;
	return ok;
}

static bool
get_u8(struct cfg_ctx *x, const json_t *obj, const char *path,
       const char *key, bool required, uint8_t lo, uint8_t hi,
       uint8_t dflt, uint8_t *out)
{
	int64_t n;
	bool ok = get_int(x, obj, path, key, required, lo, hi, dflt, &n);

	*out = (uint8_t)n;
	return ok;
}

static bool
get_bool(struct cfg_ctx *x, const json_t *obj, const char *path,
	 const char *key, bool dflt, bool *out)
{
	const json_t *v = member(obj, key);
	char p[CFG_PATH_LEN];

	*out = dflt;
	if (v == NULL)
		return true;
	if (!json_is_boolean(v)) {
		cfg_path_key(p, path, key);
		err_type(x, p, "true or false", v);
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* A string without NUL bytes, else an error. */
static const char *
str_value(struct cfg_ctx *x, const json_t *v, const char *path)
{
	const char *s;

	if (!json_is_string(v)) {
		err_type(x, path, "a string", v);
		return NULL;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		cfg_err(x, path, "must not contain NUL characters");
		return NULL;
	}
	return s;
}

/*
 * String member. @return the string; NULL when absent (error if required;
 * *bad false) or invalid (error recorded, *bad true).
 */
static const char *
get_str(struct cfg_ctx *x, const json_t *obj, const char *path,
	const char *key, bool required, bool *bad)
{
	const json_t *v = member(obj, key);
	char p[CFG_PATH_LEN];
	const char *s;

	*bad = false;
	cfg_path_key(p, path, key);
	if (v == NULL) {
		if (required) {
			cfg_err(x, p, "required");
			*bad = true;
		}
		return NULL;
	}
	s = str_value(x, v, p);
	*bad = s == NULL;
	return s;
}

/* Name member ([A-Za-z0-9_.-], 1..31) copied to @p out. */
static bool
get_name(struct cfg_ctx *x, const json_t *obj, const char *path,
	 const char *key, bool required, char out[BRAID_CONFIG_NAME_LEN])
{
	char p[CFG_PATH_LEN];
	bool bad;
	const char *s = get_str(x, obj, path, key, required, &bad);

	if (s == NULL)
		return false;
	if (!cfg_name_ok(s)) {
		cfg_path_key(p, path, key);
		err_type(x, p, "1..31 characters of A-Z a-z 0-9 _ . -",
			 member(obj, key));
		return false;
	}
	snprintf(out, BRAID_CONFIG_NAME_LEN, "%s", s);
	return true;
}

/* String member that must be one of @p vals; *out = its index. */
static bool
get_enum(struct cfg_ctx *x, const json_t *obj, const char *path,
	 const char *key, bool required, const char *const vals[], int dflt,
	 int *out)
{
	char p[CFG_PATH_LEN], want[128];
	size_t o = 0;
	bool bad;
	const char *s = get_str(x, obj, path, key, required, &bad);

	*out = dflt;
	if (s == NULL)
		return !bad;
	for (int i = 0; vals[i] != NULL; i++) {
		if (strcmp(s, vals[i]) == 0) {
			*out = i;
			return true;
		}
	}
	o += (size_t)snprintf(want, sizeof(want), "one of");
	for (int i = 0; vals[i] != NULL && o < sizeof(want); i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s \"%s\"",
				      i == 0 ? "" : ",", vals[i]);
	cfg_path_key(p, path, key);
	err_type(x, p, want, member(obj, key));
	return false;
}

/* Array member of 0..max elements. NULL when absent or invalid. */
static const json_t *
get_array(struct cfg_ctx *x, const json_t *obj, const char *path,
	  const char *key, bool required, size_t min, size_t max,
	  const char *what)
{
	const json_t *v = member(obj, key);
	char p[CFG_PATH_LEN], want[96];

	cfg_path_key(p, path, key);
	if (v == NULL) {
		if (required)
			cfg_err(x, p, "required (an array of %zu..%zu %s)",
				min, max, what);
		return NULL;
	}
	if (!json_is_array(v)) {
		snprintf(want, sizeof(want), "an array of %s", what);
		err_type(x, p, want, v);
		return NULL;
	}
	if (json_array_size(v) < min) {
		cfg_err(x, p, "must have at least %zu %s", min, what);
		return NULL;
	}
	if (json_array_size(v) > max) {
		cfg_err(x, p, "must have at most %zu %s (got %zu)", max, what,
			json_array_size(v));
		return NULL;
	}
	return v;
}

/* ---- addresses --------------------------------------------------------- */

/* Why @p ip cannot be a unicast host address, or NULL. */
static const char *
host_problem(uint32_t ip)
{
	if ((ip >> 24) == 0)
		return "is in 0.0.0.0/8";
	if ((ip >> 24) == 127)
		return "is a loopback address";
	if ((ip >> 28) == 0xe)
		return "is a multicast address";
	if ((ip >> 28) == 0xf)
		return "is a reserved or broadcast address";
	return NULL;
}

/* Why @p ip cannot be a host address in its /@p prefix, or NULL. */
static const char *
subnet_problem(uint32_t ip, uint8_t prefix)
{
	uint32_t host = ip & ~cfg_mask(prefix);

	if (prefix > 30)
		return NULL;
	if (host == 0)
		return "is the network address of its subnet";
	if (host == ~cfg_mask(prefix))
		return "is the broadcast address of its subnet";
	return NULL;
}

static bool
on_link(const struct braid_config_port *pt, uint32_t ip)
{
	uint32_t m = cfg_mask(pt->prefix);

	return pt->prefix < 32 && (ip & m) == (pt->ipv4 & m) &&
	       ip != pt->ipv4 && subnet_problem(ip, pt->prefix) == NULL;
}

/* "on port "wan0"'s subnet 10.1.1.0/24" */
static void
fmt_subnet(const struct braid_config_port *pt, char *buf, size_t len)
{
	char a[16];

	cfg_fmt_ipv4(pt->ipv4 & cfg_mask(pt->prefix), a);
	snprintf(buf, len, "port \"%s\"'s subnet %s/%u", pt->name, a,
		 pt->prefix);
}

/*
 * "a.b.c.d/n" (or "a.b.c.d" = /32 when @p need_prefix is false) into
 * @p ip/@p prefix, prefix in min_prefix..32.
 */
static bool
parse_prefix(struct cfg_ctx *x, const char *path, const json_t *v,
	     const char *s, bool need_prefix, uint8_t min_prefix,
	     uint32_t *ip, uint8_t *prefix)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint16_t n;

	if (cfg_parse_ipv4(s, alen, ip) != 0 ||
	    (slash == NULL && need_prefix)) {
		err_type(x, path, need_prefix ? "an address with prefix length a.b.c.d/n" :
			 "an IPv4 prefix a.b.c.d/n or address a.b.c.d", v);
		return false;
	}
	if (slash == NULL) {
		*prefix = 32;
		return true;
	}
	if (cfg_parse_u16(slash + 1, strlen(slash + 1), &n) != 0 ||
	    (slash[1] == '0' && slash[2] != '\0') || n < min_prefix ||
	    n > 32) {
		cfg_err(x, path, "prefix length must be %u..32 (got \"%s\")",
			min_prefix, slash + 1);
		return false;
	}
	*prefix = (uint8_t)n;
	return true;
}

/* "a.b.c.d:port", a unicast host address and UDP port 1..65535. */
static bool
parse_endpoint(struct cfg_ctx *x, const char *path, const json_t *v,
	       const char *s, uint32_t *ip, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *why;
	char a[16];

	if (colon == NULL || cfg_parse_ipv4(s, (size_t)(colon - s), ip) != 0 ||
	    cfg_parse_u16(colon + 1, strlen(colon + 1), port) != 0) {
		err_type(x, path, "an endpoint a.b.c.d:port", v);
		return false;
	}
	if (*port == 0) {
		cfg_err(x, path, "UDP port must be 1..65535 (got 0)");
		return false;
	}
	why = host_problem(*ip);
	if (why != NULL) {
		cfg_fmt_ipv4(*ip, a);
		cfg_err(x, path, "must be a unicast host address (%s %s)", a, why);
		return false;
	}
	return true;
}

/* Optional MAC member: unicast, not zero. @return true if set. */
static bool
get_mac(struct cfg_ctx *x, const json_t *obj, const char *path,
	const char *key, struct rte_ether_addr *mac)
{
	char p[CFG_PATH_LEN];
	bool bad;
	const char *s = get_str(x, obj, path, key, false, &bad);

	if (s == NULL)
		return false;
	cfg_path_key(p, path, key);
	if (cfg_parse_mac(s, mac) != 0) {
		err_type(x, p, "a MAC address xx:xx:xx:xx:xx:xx",
			 member(obj, key));
		return false;
	}
	if (!rte_is_unicast_ether_addr(mac)) {
		cfg_err(x, p, "must be a unicast MAC address (%s has the group bit set)",
			s);
		return false;
	}
	if (rte_is_zero_ether_addr(mac)) {
		cfg_err(x, p, "must not be 00:00:00:00:00:00");
		return false;
	}
	return true;
}

/* ---- name lookups -------------------------------------------------------- */

static int
port_by_name(const struct cfg_ctx *x, const char *s)
{
	for (unsigned int i = 0; i < x->c->n_ports; i++)
		if (x->port_named[i] && strcmp(x->c->ports[i].name, s) == 0)
			return (int)i;
	return -1;
}

static int
link_by_name(const struct cfg_ctx *x, const char *s)
{
	for (unsigned int i = 0; i < x->c->n_links; i++)
		if (x->link_named[i] && strcmp(x->c->links[i].name, s) == 0)
			return (int)i;
	return -1;
}

static int
class_by_name(const struct cfg_ctx *x, const char *s)
{
	for (unsigned int i = 0; i < x->c->n_classes; i++)
		if (x->class_named[i] && strcmp(x->c->classes[i].name, s) == 0)
			return (int)i;
	return -1;
}

/* ---- top level scalars and small sections -------------------------------- */

static void
parse_mempool(struct cfg_ctx *x)
{
	struct braid_config_mempool *mp = &x->c->mempool;
	const json_t *o = section(x, x->root, "mempool", k_mempool);
	bool ok;

	ok = get_u32(x, o, "$.mempool", "mbufs", false, 255, 16777215, 16383,
		     &mp->mbufs);
	ok &= get_u32(x, o, "$.mempool", "cache", false, 0,
		      RTE_MEMPOOL_CACHE_MAX_SIZE, 256, &mp->cache);
	get_u32(x, o, "$.mempool", "data_room", false,
		RTE_PKTMBUF_HEADROOM + 128, UINT16_MAX,
		RTE_MBUF_DEFAULT_BUF_SIZE, &mp->data_room);
	/* rte_mempool_create() refuses a cache above n / 1.5. */
	if (ok && (uint64_t)mp->cache * 3 > (uint64_t)mp->mbufs * 2)
		cfg_err(x, "$.mempool.cache",
			"must be at most mbufs / 1.5 = %u (got %u)",
			mp->mbufs * 2 / 3, mp->cache);
}

static void
parse_small_sections(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;
	const json_t *o;

	o = section(x, x->root, "fec", k_fec);
	/* 0: automatic (follows each class's packet rate). */
	if (get_u32(x, o, "$.fec", "block_timeout_us", false, 0, 1000000, 0,
		    &c->fec.block_timeout_us) &&
	    c->fec.block_timeout_us != 0 && c->fec.block_timeout_us < 50)
		cfg_err(x, "$.fec.block_timeout_us",
			"0 (automatic) or 50..1000000 (got %u)", c->fec.block_timeout_us);

	o = section(x, x->root, "retransmit", k_retransmit);
	get_u32(x, o, "$.retransmit", "window_ms", false, 10, 60000, 1000,
		&c->retransmit.window_ms);
	get_u32(x, o, "$.retransmit", "max_packets", false, 64, 1048576, 65536,
		&c->retransmit.max_packets);

	o = section(x, x->root, "reorder", k_reorder);
	get_u32(x, o, "$.reorder", "window_ms", false, 0, 10000, 0,
		&c->reorder.window_ms);
	get_u32(x, o, "$.reorder", "max_packets", false, 64, 1048576, 4096,
		&c->reorder.max_packets);

	o = section(x, x->root, "health", k_health);
	get_u32(x, o, "$.health", "probe_interval_ms", false, 10, 1000, 50,
		&c->health.probe_interval_ms);
	get_u32(x, o, "$.health", "down_after_probes", false, 1, 100, 3,
		&c->health.down_after_probes);
	get_u32(x, o, "$.health", "up_hold_ms", false, 0, 600000, 2000,
		&c->health.up_hold_ms);
	get_u32(x, o, "$.health", "silence_gaps", false, 0, 1000, 8,
		&c->health.silence_gaps);
	get_u32(x, o, "$.health", "silence_min_ms", false, 0, 10000, 10,
		&c->health.silence_min_ms);

	o = section(x, x->root, "tx", k_tx);
	get_u32(x, o, "$.tx", "drain_us", false, 1, 100, 100, &c->tx.drain_us);

	o = section(x, x->root, "stats", k_stats);
	get_bool(x, o, "$.stats", "console", true, &c->stats.console);
	get_u32(x, o, "$.stats", "interval_ms", false, 100, 60000, 1000,
		&c->stats.interval_ms);
}

/* ---- ports --------------------------------------------------------------- */

static void
check_profile(struct cfg_ctx *x, const char *path, const char *profile)
{
	char file[4096];
	int n;

	if (x->profile_dir == NULL)
		return;
	n = snprintf(file, sizeof(file), "%s/%s.json", x->profile_dir, profile);
	if (n < 0 || (size_t)n >= sizeof(file) || access(file, R_OK) != 0)
		cfg_err(x, path, "no profile \"%s\" (%s: %s)", profile, file,
			n < 0 || (size_t)n >= sizeof(file) ?
			"path too long" : strerror(errno));
}

static void
parse_port(struct cfg_ctx *x, const json_t *v, const char *path,
	   unsigned int i)
{
	struct braid_config_port *pt = &x->c->ports[i];
	char p[CFG_PATH_LEN];
	const char *s, *why;
	bool bad;
	int role;

	if (!want_object(x, v, path, k_port))
		return;
	x->port_named[i] = get_name(x, v, path, "name", true, pt->name);
	x->port_role_ok[i] = get_enum(x, v, path, "role", true, v_role, 0,
				      &role) && member(v, "role") != NULL;
	pt->role = role == 1 ? BRAID_PORT_ROLE_LINK : BRAID_PORT_ROLE_LAN;

	s = get_str(x, v, path, "profile", true, &bad);
	cfg_path_key(p, path, "profile");
	if (s != NULL && !cfg_profile_ok(s))
		err_type(x, p, "a profile name: 1..31 characters of a-z 0-9 _",
			 member(v, "profile"));
	else if (s != NULL) {
		snprintf(pt->profile, sizeof(pt->profile), "%s", s);
		check_profile(x, p, s);
	}

	s = get_str(x, v, path, "device", true, &bad);
	cfg_path_key(p, path, "device");
	if (s != NULL && !cfg_device_ok(s))
		err_type(x, p, "a vdev name with optional devargs (net_ring0,k=v) "
			 "or a PCI address (0000:01:00.0)", member(v, "device"));
	else if (s != NULL)
		snprintf(pt->device, sizeof(pt->device), "%s", s);

	pt->has_mac = get_mac(x, v, path, "mac", &pt->mac);

	s = get_str(x, v, path, "ipv4", false, &bad);
	cfg_path_key(p, path, "ipv4");
	if (s != NULL && strcmp(s, "dhcp") == 0) {
		if (x->port_role_ok[i] && pt->role != BRAID_PORT_ROLE_LINK)
			cfg_err(x, p, "\"dhcp\" is for ports with role \"link\"");
		else
			pt->dhcp = true;
	} else if (s != NULL &&
	    parse_prefix(x, p, member(v, "ipv4"), s, true, 1, &pt->ipv4,
			 &pt->prefix)) {
		char a[16];

		cfg_fmt_ipv4(pt->ipv4, a);
		why = host_problem(pt->ipv4);
		if (why == NULL)
			why = subnet_problem(pt->ipv4, pt->prefix);
		if (why != NULL) {
			cfg_err(x, p, "must be a unicast host address (%s %s)",
				a, why);
		} else {
			pt->has_ipv4 = true;
			x->port_ip_ok[i] = true;
		}
	} else if (s == NULL && !bad && x->port_role_ok[i] &&
		   pt->role == BRAID_PORT_ROLE_LINK) {
		cfg_err(x, p, "required for a port with role \"link\" (a.b.c.d/n or \"dhcp\")");
	}
	get_u16(x, v, path, "mtu", false, 576, 9600, 0, &pt->mtu);
}

static void
parse_ports(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;
	const json_t *a = get_array(x, x->root, "$", "ports", true, 1,
				    BRAID_CONFIG_MAX_PORTS, "ports");
	bool roles_known = true, have_lan = false;
	char p[CFG_PATH_LEN];

	if (a == NULL)
		return;
	x->ports_ok = true;
	c->n_ports = (uint16_t)json_array_size(a);
	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct braid_config_port *pt = &c->ports[i];

		cfg_path_idx(p, "$.ports", i);
		parse_port(x, json_array_get(a, i), p, i);
		roles_known &= x->port_role_ok[i];
		have_lan |= x->port_role_ok[i] && pt->role == BRAID_PORT_ROLE_LAN;
		for (unsigned int j = 0; j < i; j++) {
			const struct braid_config_port *q = &c->ports[j];
			char pp[CFG_PATH_LEN];
			size_t bl = cfg_device_base_len(pt->device);

			if (x->port_named[i] && x->port_named[j] &&
			    strcmp(pt->name, q->name) == 0) {
				cfg_path_key(pp, p, "name");
				cfg_err(x, pp, "duplicate port name \"%s\" (also $.ports[%u])",
					pt->name, j);
				x->port_named[i] = false;
			}
			if (pt->device[0] != '\0' &&
			    bl == cfg_device_base_len(q->device) &&
			    strncmp(pt->device, q->device, bl) == 0) {
				cfg_path_key(pp, p, "device");
				cfg_err(x, pp, "device \"%.*s\" already used by $.ports[%u]",
					(int)bl, pt->device, j);
			}
		}
	}
	if (roles_known && !have_lan)
		cfg_err(x, "$.ports", "needs at least one port with role \"lan\"");
}

/* ---- links ----------------------------------------------------------------- */

static void
parse_link(struct cfg_ctx *x, const json_t *v, const char *path,
	   unsigned int i)
{
	struct braid_config *c = x->c;
	struct braid_config_link *l = &c->links[i];
	const struct braid_config_port *pt = NULL;
	bool bad, local_ok = false, peer_ok = false;
	char p[CFG_PATH_LEN], got[64], a[16], b[16], sub[96];
	const char *s;
	int admin;

	if (!want_object(x, v, path, k_link))
		return;
	x->link_named[i] = get_name(x, v, path, "name", true, l->name);

	s = get_str(x, v, path, "port", true, &bad);
	cfg_path_key(p, path, "port");
	if (s != NULL) {
		int pi = port_by_name(x, s);

		cfg_describe(member(v, "port"), got, sizeof(got));
		if (pi < 0) {
			if (x->ports_ok)
				cfg_err(x, p, "no port named %s", got);
		} else if (x->port_role_ok[pi] &&
			   c->ports[pi].role != BRAID_PORT_ROLE_LINK) {
			cfg_err(x, p, "port %s has role \"lan\"; a link needs a port with role \"link\"",
				got);
		} else if (x->port_role_ok[pi]) {
			l->port = (uint16_t)pi;
			x->link_port_ok[i] = true;
			if (x->port_ip_ok[pi])
				pt = &c->ports[pi];
		}
	}

	s = get_str(x, v, path, "local", true, &bad);
	cfg_path_key(p, path, "local");
	if (s != NULL && x->link_port_ok[i] && c->ports[l->port].dhcp) {
		/* The address is the lease's: only the UDP port is ours. */
		if (strncmp(s, "dhcp:", 5) != 0 ||
		    cfg_parse_u16(s + 5, strlen(s + 5), &l->local_port) != 0 ||
		    l->local_port == 0)
			cfg_err(x, p, "port \"%s\" takes its address by DHCP: "
				"\"dhcp:<udp port 1..65535>\"", c->ports[l->port].name);
		l->local_ip = 0;
	} else if (s != NULL) {
		local_ok = parse_endpoint(x, p, member(v, "local"), s,
					  &l->local_ip, &l->local_port);
	}
	if (local_ok && pt != NULL && l->local_ip != pt->ipv4) {
		cfg_fmt_ipv4(l->local_ip, a);
		cfg_fmt_ipv4(pt->ipv4, b);
		cfg_err(x, p, "address %s is not port \"%s\"'s address %s",
			a, pt->name, b);
		local_ok = false;
	}

	s = get_str(x, v, path, "peer", true, &bad);
	cfg_path_key(p, path, "peer");
	if (s != NULL && strcmp(s, "learn") == 0) {
		/* A listener: the peer's address is whatever its frames
		 * authenticate from (checked against crypto below). */
		l->learn_peer = true;
		l->peer_ip = 0;
		l->peer_port = 0;
		s = NULL;
		peer_ok = false;
	} else if (s != NULL) {
		peer_ok = parse_endpoint(x, p, member(v, "peer"), s,
					 &l->peer_ip, &l->peer_port);
	}
	if (peer_ok && local_ok && l->peer_ip == l->local_ip) {
		cfg_err(x, p, "peer address must differ from the local address");
		peer_ok = false;
	}

	s = get_str(x, v, path, "next_hop", false, &bad);
	cfg_path_key(p, path, "next_hop");
	if (s != NULL) {
		if (cfg_parse_ipv4(s, strlen(s), &l->next_hop) != 0) {
			err_type(x, p, "an IPv4 address a.b.c.d",
				 member(v, "next_hop"));
		} else if (pt != NULL && !on_link(pt, l->next_hop)) {
			cfg_fmt_ipv4(l->next_hop, a);
			fmt_subnet(pt, sub, sizeof(sub));
			cfg_err(x, p, "%s is not a neighbour on %s", a, sub);
		}
	} else if (!bad && pt != NULL && peer_ok && !l->learn_peer) {
		if (on_link(pt, l->peer_ip)) {
			l->next_hop = l->peer_ip;
		} else {
			cfg_fmt_ipv4(l->peer_ip, a);
			fmt_subnet(pt, sub, sizeof(sub));
			cfg_err(x, p, "required: peer %s is not on %s", a, sub);
		}
	}

	l->has_next_hop_mac = get_mac(x, v, path, "next_hop_mac",
				      &l->next_hop_mac);
	get_u32(x, v, path, "capacity_kbps", true, 1, 100000000, 0,
		&l->capacity_kbps);
	get_u16(x, v, path, "weight", false, 1, 1000, 1, &l->weight);
	get_enum(x, v, path, "admin", false, v_admin, 0, &admin);
	l->admin_up = admin == 0;
	get_bool(x, v, path, "backup", false, &l->backup);
}

static void
parse_links(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;
	const json_t *a = get_array(x, x->root, "$", "links", true, 1,
				    BRAID_CONFIG_MAX_LINKS, "links");
	unsigned int backups = 0;
	char p[CFG_PATH_LEN], pp[CFG_PATH_LEN];

	if (a == NULL)
		return;
	x->links_ok = true;
	c->n_links = (uint16_t)json_array_size(a);
	for (unsigned int i = 0; i < c->n_links; i++) {
		const struct braid_config_link *l = &c->links[i];

		cfg_path_idx(p, "$.links", i);
		parse_link(x, json_array_get(a, i), p, i);
		backups += l->backup;
		for (unsigned int j = 0; j < i; j++) {
			const struct braid_config_link *k = &c->links[j];

			if (x->link_named[i] && x->link_named[j] &&
			    strcmp(l->name, k->name) == 0) {
				cfg_path_key(pp, p, "name");
				cfg_err(x, pp, "duplicate link name \"%s\" (also $.links[%u])",
					l->name, j);
				x->link_named[i] = false;
			}
			/* Received packets are matched to a link by port and
			 * both endpoints: they must tell links apart. */
			if (l->local_port != 0 && l->peer_port != 0 &&
			    x->link_port_ok[i] && x->link_port_ok[j] &&
			    l->port == k->port && l->local_ip == k->local_ip &&
			    l->local_port == k->local_port &&
			    l->peer_ip == k->peer_ip &&
			    l->peer_port == k->peer_port) {
				cfg_path_key(pp, p, "peer");
				cfg_err(x, pp, "same port, local and peer as $.links[%u]",
					j);
			}
		}
	}
	if (backups == c->n_links)
		cfg_err(x, "$.links", "at least one link must not be a backup link");
}

/* ---- classes ----------------------------------------------------------------- */

static void
parse_port_match(struct cfg_ctx *x, const json_t *r, const char *path,
		 const char *key, uint16_t *lo, uint16_t *hi, bool *set)
{
	const json_t *v = member(r, key);
	const char *s, *dash;
	char p[CFG_PATH_LEN];

	*lo = 0;
	*hi = UINT16_MAX;
	*set = false;
	if (v == NULL)
		return;
	cfg_path_key(p, path, key);
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= UINT16_MAX) {
		*lo = *hi = (uint16_t)json_integer_value(v);
		*set = true;
		return;
	}
	s = json_is_string(v) && strlen(json_string_value(v)) ==
	    json_string_length(v) ? json_string_value(v) : NULL;
	dash = s != NULL ? strchr(s, '-') : NULL;
	if (s == NULL || dash == NULL ||
	    cfg_parse_u16(s, (size_t)(dash - s), lo) != 0 ||
	    cfg_parse_u16(dash + 1, strlen(dash + 1), hi) != 0) {
		*lo = 0;
		*hi = UINT16_MAX;
		err_type(x, p, "a port 0..65535 or a range \"lo-hi\"", v);
		return;
	}
	if (*lo > *hi) {
		cfg_err(x, p, "range must have lo <= hi (got \"%s\")", s);
		*lo = 0;
		*hi = UINT16_MAX;
		return;
	}
	*set = true;
}

static void
parse_rule_prefix(struct cfg_ctx *x, const json_t *r, const char *path,
		  const char *key, uint32_t *ip, uint8_t *prefix)
{
	char p[CFG_PATH_LEN], a[16];
	bool bad;
	const char *s = get_str(x, r, path, key, false, &bad);

	*ip = 0;
	*prefix = 0;
	if (s == NULL)
		return;
	cfg_path_key(p, path, key);
	if (!parse_prefix(x, p, member(r, key), s, false, 0, ip, prefix))
		return;
	if ((*ip & ~cfg_mask(*prefix)) != 0) {
		cfg_fmt_ipv4(*ip & cfg_mask(*prefix), a);
		cfg_err(x, p, "host bits set (did you mean \"%s/%u\"?)", a,
			*prefix);
	}
	*ip &= cfg_mask(*prefix);
}

static void
parse_rule(struct cfg_ctx *x, const json_t *v, const char *path,
	   struct braid_config_rule *r)
{
	struct braid_config *c = x->c;
	const json_t *pv;
	char p[CFG_PATH_LEN], got[64];
	bool proto_ok = true, sp_set, dp_set, bad;
	const char *s;

	if (!want_object(x, v, path, k_rule))
		return;
	get_u16(x, v, path, "priority", false, 0, UINT16_MAX, 0, &r->priority);
	parse_rule_prefix(x, v, path, "src", &r->src_ip, &r->src_prefix);
	parse_rule_prefix(x, v, path, "dst", &r->dst_ip, &r->dst_prefix);

	pv = member(v, "proto");
	if (pv != NULL) {
		static const struct { const char *name; uint8_t num; } protos[] = {
			{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },
			{ "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP } };

		proto_ok = false;
		if (json_is_integer(pv) && json_integer_value(pv) >= 0 &&
		    json_integer_value(pv) <= UINT8_MAX) {
			r->proto = (uint8_t)json_integer_value(pv);
			proto_ok = true;
		} else if (json_is_string(pv)) {
			for (unsigned int i = 0; i < RTE_DIM(protos); i++)
				if (strcmp(json_string_value(pv), protos[i].name) == 0) {
					r->proto = protos[i].num;
					proto_ok = true;
				}
		}
		cfg_path_key(p, path, "proto");
		if (!proto_ok)
			err_type(x, p, "\"tcp\", \"udp\", \"icmp\", \"sctp\" or an integer in 0..255",
				 pv);
		r->has_proto = proto_ok;
	}
	parse_port_match(x, v, path, "src_port", &r->src_port_lo,
			 &r->src_port_hi, &sp_set);
	parse_port_match(x, v, path, "dst_port", &r->dst_port_lo,
			 &r->dst_port_hi, &dp_set);
	if (proto_ok && (!r->has_proto || (r->proto != IPPROTO_TCP &&
					   r->proto != IPPROTO_UDP &&
					   r->proto != IPPROTO_SCTP))) {
		if (sp_set) {
			cfg_path_key(p, path, "src_port");
			cfg_err(x, p, "needs \"proto\": \"tcp\", \"udp\" or \"sctp\"");
		}
		if (dp_set) {
			cfg_path_key(p, path, "dst_port");
			cfg_err(x, p, "needs \"proto\": \"tcp\", \"udp\" or \"sctp\"");
		}
	}
	r->has_dscp = member(v, "dscp") != NULL &&
		      get_u8(x, v, path, "dscp", false, 0, 63, 0, &r->dscp);

	s = get_str(x, v, path, "in_port", false, &bad);
	if (s != NULL) {
		int pi = port_by_name(x, s);

		cfg_path_key(p, path, "in_port");
		cfg_describe(member(v, "in_port"), got, sizeof(got));
		if (pi < 0) {
			if (x->ports_ok)
				cfg_err(x, p, "no port named %s", got);
		} else if (x->port_role_ok[pi] &&
			   c->ports[pi].role != BRAID_PORT_ROLE_LAN) {
			cfg_err(x, p, "port %s has role \"link\"; in_port needs a port with role \"lan\"",
				got);
		} else {
			r->has_in_port = true;
			r->in_port = (uint16_t)pi;
		}
	}
}

/* "auto": braid picks the shape (lib/fec/braid_fec_auto.h); it starts at
 * k = 10 with the parity the ceiling allows. */
static void
set_class_fec_auto(struct braid_config_class *k, uint8_t max_overhead_pct)
{
	k->fec_enabled = true;
	k->fec_auto = true;
	k->fec_max_overhead_pct = max_overhead_pct;
	k->fec_k = 10;
	k->fec_m = (uint8_t)RTE_MAX(1, 10 * max_overhead_pct / 100);
}

static void
parse_class_fec(struct cfg_ctx *x, const json_t *cls, const char *path,
		struct braid_config_class *k)
{
	const json_t *v = member(cls, "fec");
	char p[CFG_PATH_LEN];
	bool ok, on = false;
	uint8_t pct = BRAID_CONFIG_FEC_AUTO_OVERHEAD_PCT;

	if (v == NULL)
		return;
	cfg_path_key(p, path, "fec");
	if (json_is_string(v) && strcmp(json_string_value(v), "off") == 0 &&
	    json_string_length(v) == 3)
		return;
	if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0 &&
	    json_string_length(v) == 4) {
		set_class_fec_auto(k, pct);
		return;
	}
	if (!json_is_object(v)) {
		err_type(x, p, "\"off\", \"auto\", {\"k\": 1..32, \"m\": 1..16} or "
			 "{\"auto\": true, \"max_overhead_pct\": 1..100}", v);
		return;
	}
	if (member(v, "auto") != NULL) {
		want_object(x, v, p, k_class_fec_auto);
		ok = get_bool(x, v, p, "auto", false, &on);
		ok &= get_u8(x, v, p, "max_overhead_pct", false, 1, 100,
			     BRAID_CONFIG_FEC_AUTO_OVERHEAD_PCT, &pct);
		if (ok && !on)
			cfg_err(x, p, "\"auto\": false: give {\"k\", \"m\"} or \"off\"");
		else if (ok)
			set_class_fec_auto(k, pct);
		return;
	}
	want_object(x, v, p, k_class_fec);
	ok = get_u8(x, v, p, "k", true, 1, BRAID_CONFIG_FEC_MAX_K, 0, &k->fec_k);
	ok &= get_u8(x, v, p, "m", true, 1, BRAID_CONFIG_FEC_MAX_M, 0, &k->fec_m);
	if (ok && k->fec_k + k->fec_m > BRAID_CONFIG_FEC_MAX_N)
		cfg_err(x, p, "k + m must be at most %u (got %u)",
			BRAID_CONFIG_FEC_MAX_N, k->fec_k + k->fec_m);
	k->fec_enabled = ok;
}

static void
parse_policy(struct cfg_ctx *x, const json_t *cls, const char *path,
	     struct braid_config_class *k)
{
	const struct braid_config *c = x->c;
	const json_t *v = member(cls, "policy"), *a;
	char p[CFG_PATH_LEN], pp[CFG_PATH_LEN], ep[CFG_PATH_LEN], got[64];
	int mode;

	k->policy = BRAID_POLICY_STRIPE;
	if (v == NULL)
		return;
	cfg_path_key(p, path, "policy");
	if (!want_object(x, v, p, k_policy))
		return;
	if (!get_enum(x, v, p, "mode", true, v_mode, 0, &mode) ||
	    member(v, "mode") == NULL)
		return;
	k->policy = (enum braid_link_policy)mode;
	if (k->policy != BRAID_POLICY_DUPLICATE && member(v, "copies") != NULL) {
		cfg_path_key(pp, p, "copies");
		cfg_err(x, pp, "only valid with mode \"duplicate\"");
	}
	if (k->policy != BRAID_POLICY_PIN && member(v, "links") != NULL) {
		cfg_path_key(pp, p, "links");
		cfg_err(x, pp, "only valid with mode \"pin\"");
	}
	if (k->policy == BRAID_POLICY_DUPLICATE) {
		unsigned int max = x->links_ok ? c->n_links :
			BRAID_CONFIG_MAX_LINKS;

		if (max < 2) {
			cfg_path_key(pp, p, "mode");
			cfg_err(x, pp, "\"duplicate\" needs at least 2 links (there is %u)",
				max);
			return;
		}
		get_u8(x, v, p, "copies", false, 2, (uint8_t)max, 2, &k->copies);
	} else if (k->policy == BRAID_POLICY_PIN) {
		a = get_array(x, v, p, "links", true, 1, BRAID_CONFIG_MAX_LINKS,
			      "link names");
		if (a == NULL)
			return;
		cfg_path_key(pp, p, "links");
		for (size_t j = 0; j < json_array_size(a); j++) {
			const json_t *e = json_array_get(a, j);
			const char *s;
			int li;

			cfg_path_idx(ep, pp, j);
			s = str_value(x, e, ep);
			if (s == NULL)
				continue;
			cfg_describe(e, got, sizeof(got));
			li = link_by_name(x, s);
			if (li < 0) {
				if (x->links_ok)
					cfg_err(x, ep, "no link named %s", got);
				continue;
			}
			for (unsigned int q = 0; q < k->n_pin; q++) {
				if (k->pin[q] == li) {
					cfg_err(x, ep, "link %s listed twice", got);
					li = -1;
					break;
				}
			}
			if (li >= 0)
				k->pin[k->n_pin++] = (uint8_t)li;
		}
	}
}

static void
parse_class(struct cfg_ctx *x, const json_t *v, const char *path,
	    unsigned int i)
{
	struct braid_config *c = x->c;
	struct braid_config_class *k = &c->classes[i];
	const json_t *o, *a;
	char p[CFG_PATH_LEN], rp[CFG_PATH_LEN];
	bool cap_ok;

	k->rule_first = c->n_rules;
	if (!want_object(x, v, path, k_class))
		return;
	x->class_named[i] = get_name(x, v, path, "name", true, k->name);
	get_u16(x, v, path, "weight", false, 1, 1000, 1, &k->weight);
	get_bool(x, v, path, "priority", false, &k->priority);
	cap_ok = get_u32(x, v, path, "rate_cap_kbps", false, 0, 100000000, 0,
			 &k->rate_cap_kbps);
	if (cap_ok && k->priority && k->rate_cap_kbps == 0) {
		cfg_path_key(p, path, "rate_cap_kbps");
		cfg_err(x, p, "%s when priority is true (a strict-priority class "
			"needs a rate cap)",
			member(v, "rate_cap_kbps") == NULL ? "required (> 0)" :
			"must be > 0");
	}
	get_u32(x, v, path, "queue_packets", false, 16, 65536, 1024,
		&k->queue_packets);
	parse_class_fec(x, v, path, k);

	k->arq_enabled = true;
	k->arq_deadline_ms = 200;
	o = member(v, "arq");
	if (o != NULL) {
		cfg_path_key(p, path, "arq");
		if (want_object(x, o, p, k_arq)) {
			get_bool(x, o, p, "enabled", true, &k->arq_enabled);
			get_u32(x, o, p, "deadline_ms", false, 1, 10000, 200,
				&k->arq_deadline_ms);
		}
	}
	parse_policy(x, v, path, k);

	a = get_array(x, v, path, "match", false, 0, BRAID_CONFIG_MAX_RULES,
		      "rules");
	if (a == NULL)
		return;
	cfg_path_key(p, path, "match");
	for (size_t j = 0; j < json_array_size(a); j++) {
		struct braid_config_rule *r;

		cfg_path_idx(rp, p, j);
		if (c->n_rules >= BRAID_CONFIG_MAX_RULES) {
			cfg_err(x, rp, "too many match rules (at most %u in all classes)",
				BRAID_CONFIG_MAX_RULES);
			break;
		}
		r = &c->rules[c->n_rules++];
		r->class_idx = (uint16_t)i;
		parse_rule(x, json_array_get(a, j), rp, r);
		k->rule_count++;
	}
}

static void
parse_classes(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;
	const json_t *a = get_array(x, x->root, "$", "classes", true, 1,
				    BRAID_CONFIG_MAX_CLASSES, "classes");
	char p[CFG_PATH_LEN], pp[CFG_PATH_LEN];
	int prio = -1;

	if (a == NULL)
		return;
	x->classes_ok = true;
	c->n_classes = (uint16_t)json_array_size(a);
	for (unsigned int i = 0; i < c->n_classes; i++) {
		const struct braid_config_class *k = &c->classes[i];

		cfg_path_idx(p, "$.classes", i);
		parse_class(x, json_array_get(a, i), p, i);
		for (unsigned int j = 0; j < i; j++) {
			if (x->class_named[i] && x->class_named[j] &&
			    strcmp(k->name, c->classes[j].name) == 0) {
				cfg_path_key(pp, p, "name");
				cfg_err(x, pp, "duplicate class name \"%s\" (also $.classes[%u])",
					k->name, j);
				x->class_named[i] = false;
			}
		}
		if (k->priority && prio >= 0) {
			cfg_path_key(pp, p, "priority");
			cfg_err(x, pp, "only one class may have priority (already $.classes[%d])",
				prio);
		} else if (k->priority) {
			prio = (int)i;
		}
	}
}

static void
parse_default_class(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;
	char got[64];
	bool bad;
	const char *s = get_str(x, x->root, "$", "default_class", false, &bad);
	int ci;

	if (s == NULL) {
		/* Omitted: the last class catches the rest, like a last rule. */
		c->default_class = c->n_classes > 0 ?
			(uint16_t)(c->n_classes - 1) : 0;
		return;
	}
	ci = class_by_name(x, s);
	if (ci < 0 && x->classes_ok) {
		cfg_describe(member(x->root, "default_class"), got, sizeof(got));
		cfg_err(x, "$.default_class", "no class named %s", got);
	}
	if (ci >= 0)
		c->default_class = (uint16_t)ci;
}

/* ---- lcores ----------------------------------------------------------------- */

/* One error naming every stage the map leaves out. */
static void
report_unplaced(struct cfg_ctx *x, const int seen_entry[BRAID_STAGE_COUNT])
{
	char list[200];
	unsigned int n = 0;
	size_t o = 0;

	list[0] = '\0';
	for (unsigned int s = 0; s < BRAID_STAGE_COUNT; s++) {
		if (seen_entry[s] >= 0)
			continue;
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"%s\"",
					      n > 0 ? ", " : "", braid_stage_names[s]);
		n++;
	}
	if (n == 1)
		cfg_err(x, "$.lcores.map", "stage %s is not placed on any lcore",
			list);
	else if (n > 1)
		cfg_err(x, "$.lcores.map", "stages %s are not placed on any lcore",
			list);
}

static void
parse_lcore_map(struct cfg_ctx *x, const json_t *lc)
{
	struct braid_config_lcores *L = &x->c->lcores;
	/* Where each stage was placed: map entry and position, -1 = not. */
	int seen_entry[BRAID_STAGE_COUNT], seen_pos[BRAID_STAGE_COUNT];
	bool lcore_ok[BRAID_STAGE_COUNT] = { false };
	char p[CFG_PATH_LEN], sp[CFG_PATH_LEN], ep[CFG_PATH_LEN], got[64];
	const json_t *a;
	bool complete = true;

	a = get_array(x, lc, "$.lcores", "map", false, 1, BRAID_STAGE_COUNT,
		      "entries (one per lcore)");
	if (a == NULL) {
		if (member(lc, "map") != NULL)
			return;
		/* Omitted: every stage on one worker lcore. */
		L->n_map = 1;
		L->map[0].lcore = DEFAULT_STAGE_LCORE;
		L->map[0].n_stages = BRAID_STAGE_COUNT;
		for (unsigned int s = 0; s < BRAID_STAGE_COUNT; s++) {
			L->map[0].stages[s] = (uint8_t)s;
			L->stage_lcore[s] = DEFAULT_STAGE_LCORE;
		}
		return;
	}
	for (unsigned int s = 0; s < BRAID_STAGE_COUNT; s++)
		seen_entry[s] = seen_pos[s] = -1;
	L->n_map = (uint8_t)json_array_size(a);
	for (unsigned int i = 0; i < L->n_map; i++) {
		struct braid_config_lcore_map *m = &L->map[i];
		const json_t *e = json_array_get(a, i), *st;

		cfg_path_idx(p, "$.lcores.map", i);
		if (!want_object(x, e, p, k_map)) {
			complete = false;
			continue;
		}
		lcore_ok[i] = get_u16(x, e, p, "lcore", true, 0,
				      RTE_MAX_LCORE - 1, 0, &m->lcore);
		for (unsigned int j = 0; lcore_ok[i] && j < i; j++) {
			if (lcore_ok[j] && L->map[j].lcore == m->lcore) {
				cfg_path_key(sp, p, "lcore");
				cfg_err(x, sp, "lcore %u already used by $.lcores.map[%u]",
					m->lcore, j);
				break;
			}
		}
		st = get_array(x, e, p, "stages", true, 1, BRAID_STAGE_COUNT,
			       "stage names");
		if (st == NULL) {
			complete = false;
			continue;
		}
		cfg_path_key(sp, p, "stages");
		for (size_t j = 0; j < json_array_size(st); j++) {
			const json_t *sv = json_array_get(st, j);
			const char *s;
			int id;

			cfg_path_idx(ep, sp, j);
			s = str_value(x, sv, ep);
			if (s == NULL) {
				complete = false;
				continue;
			}
			id = braid_config_stage_id(s);
			cfg_describe(sv, got, sizeof(got));
			if (id < 0) {
				cfg_err(x, ep, "unknown stage %s (stages: lan_rx classify sched fec rtx link_tx link_rx rx_decap fec_decode reorder lan_tx)",
					got);
				complete = false;
				continue;
			}
			if (seen_entry[id] >= 0) {
				cfg_err(x, ep, "stage %s already placed at $.lcores.map[%d].stages[%d]",
					got, seen_entry[id], seen_pos[id]);
				continue;
			}
			seen_entry[id] = (int)i;
			seen_pos[id] = (int)j;
			m->stages[m->n_stages++] = (uint8_t)id;
			L->stage_lcore[id] = m->lcore;
		}
	}
	/* A stage missing because its entry was broken is already reported. */
	if (complete)
		report_unplaced(x, seen_entry);
}

static void
parse_lcores(struct cfg_ctx *x)
{
	struct braid_config_lcores *L = &x->c->lcores;
	const json_t *lc = section(x, x->root, "lcores", k_lcores);

	if (get_u32(x, lc, "$.lcores", "ring_size", false, 64, 65536, 1024,
		    &L->ring_size) && !rte_is_power_of_2(L->ring_size))
		cfg_err(x, "$.lcores.ring_size",
			"must be a power of two in 64..65536 (got %u)",
			L->ring_size);
	get_u32(x, lc, "$.lcores", "idle_polls", false, 1, 1000000, 64,
		&L->idle_polls);
	get_u32(x, lc, "$.lcores", "idle_sleep_max_us", false, 0, 10000, 0,
		&L->idle_sleep_max_us);
	{
		int pm;

		get_enum(x, lc, "$.lcores", "power_mgmt", false, braid_config_pm_names, BRAID_CONFIG_PM_OFF, &pm);
		L->power_mgmt = (uint8_t)pm;
	}
	parse_lcore_map(x, lc);
}

/* ---- management -------------------------------------------------------------- */

static void
parse_management(struct cfg_ctx *x)
{
	struct braid_config_mgmt *m = &x->c->management;
	const json_t *o = section(x, x->root, "management", k_mgmt);
	const json_t *tf = member(o, "token_file");
	bool addr_ok = true, port_ok, bad, tf_ok = true;
	char a[16];
	const char *s, *why;

	get_bool(x, o, "$.management", "enabled", true, &m->enabled);
	m->address = RTE_IPV4(127, 0, 0, 1);
	s = get_str(x, o, "$.management", "address", false, &bad);
	addr_ok = !bad;
	if (s != NULL) {
		if (cfg_parse_ipv4(s, strlen(s), &m->address) != 0) {
			err_type(x, "$.management.address", "an IPv4 address a.b.c.d",
				 member(o, "address"));
			addr_ok = false;
		} else if ((m->address >> 28) >= 0xe) {
			why = host_problem(m->address);
			cfg_fmt_ipv4(m->address, a);
			cfg_err(x, "$.management.address",
				"must be a local unicast address or 0.0.0.0 (%s %s)",
				a, why);
			addr_ok = false;
		}
	}
	port_ok = get_u16(x, o, "$.management", "port", false, 1, UINT16_MAX,
			  9099, &m->port);
	if (tf != NULL && !json_is_null(tf)) {
		s = json_is_string(tf) ? str_value(x, tf, "$.management.token_file") :
			NULL;
		if (!json_is_string(tf) ||
		    (s != NULL && (s[0] == '\0' ||
				   strlen(s) >= BRAID_CONFIG_FILE_LEN))) {
			err_type(x, "$.management.token_file",
				 "null or a file path of 1..255 characters", tf);
			s = NULL;
		}
		if (s != NULL)
			snprintf(m->token_file, sizeof(m->token_file), "%s", s);
		tf_ok = s != NULL;
	}
	get_u32(x, o, "$.management", "max_clients", false, 1, 1024, 8,
		&m->max_clients);
	get_u32(x, o, "$.management", "max_request_bytes", false, 1024,
		16777216, 65536, &m->max_request_bytes);
	get_u32(x, o, "$.management", "idle_timeout_s", false, 0, 86400, 300,
		&m->idle_timeout_s);
	if (get_u16(x, o, "$.management", "metrics_port", false, 0,
		    UINT16_MAX, 0, &m->metrics_port) &&
	    port_ok && m->metrics_port != 0 && m->metrics_port == m->port)
		cfg_err(x, "$.management.metrics_port",
			"must differ from the management port (%u)", m->port);
	{
		const json_t *sd = member(o, "save_dir");

		if (sd != NULL && !json_is_null(sd)) {
			s = json_is_string(sd) ? str_value(x, sd, "$.management.save_dir") : NULL;
			if (s == NULL || s[0] != '/' || strlen(s) >= BRAID_CONFIG_FILE_LEN)
				err_type(x, "$.management.save_dir",
					 "null or an absolute directory path of 1..255 characters", sd);
			else
				snprintf(m->save_dir, sizeof(m->save_dir), "%s", s);
		}
	}
	{
		const json_t *up = member(o, "unix_path");

		if (up != NULL && !json_is_null(up)) {
			s = json_is_string(up) ? str_value(x, up, "$.management.unix_path") : NULL;
			if (s == NULL || s[0] != '/' || strlen(s) >= sizeof(m->unix_path))
				err_type(x, "$.management.unix_path",
					 "null or an absolute path of 1..107 characters", up);
			else
				snprintf(m->unix_path, sizeof(m->unix_path), "%s", s);
		} else if (up == NULL && m->token_file[0] == '\0' &&
			   member(o, "address") == NULL && member(o, "port") == NULL) {
			/* No token and no TCP endpoint asked for: local control
			 * through a socket only root can open. */
			snprintf(m->unix_path, sizeof(m->unix_path), "/run/braid/%s.sock",
				 x->c->name);
		}
	}
	/* Anyone who reaches the port can change the data path. */
	if (m->enabled && addr_ok && tf_ok && (m->address >> 24) != 127 &&
	    m->token_file[0] == '\0') {
		cfg_fmt_ipv4(m->address, a);
		cfg_err(x, "$.management.token_file",
			"required when the address is not loopback (%s)", a);
	}
}

/* ---- crypto ------------------------------------------------------------------ */

static void
parse_crypto(struct cfg_ctx *x)
{
	struct braid_config_crypto *k = &x->c->crypto;
	const json_t *o = section(x, x->root, "crypto", k_crypto);
	const json_t *pf = member(o, "psk_file");
	const char *s;
	bool bad;

	if (pf != NULL && !json_is_null(pf)) {
		s = json_is_string(pf) ? str_value(x, pf, "$.crypto.psk_file") : NULL;
		if (s == NULL || s[0] == '\0' || strlen(s) >= BRAID_CONFIG_FILE_LEN)
			err_type(x, "$.crypto.psk_file",
				 "null or a file path of 1..255 characters", pf);
		else
			snprintf(k->psk_file, sizeof(k->psk_file), "%s", s);
	}
	snprintf(k->device, sizeof(k->device), "auto");
	s = get_str(x, o, "$.crypto", "device", false, &bad);
	if (s != NULL) {
		if (s[0] == '\0' || strlen(s) >= sizeof(k->device))
			err_type(x, "$.crypto.device",
				 "\"auto\", a crypto device name or a vdev driver (1..63 characters)",
				 member(o, "device"));
		else
			snprintf(k->device, sizeof(k->device), "%s", s);
	}
	get_u32(x, o, "$.crypto", "rekey_s", false, 1, 86400, 120, &k->rekey_s);
	get_u32(x, o, "$.crypto", "rekey_mb", false, 1, 1048576, 4096, &k->rekey_mb);
}

/* ---- entry ------------------------------------------------------------------- */

void
cfg_validate(struct cfg_ctx *x)
{
	struct braid_config *c = x->c;

	if (!json_is_object(x->root)) {
		err_type(x, "$", "an object", x->root);
		return;
	}
	want_object(x, x->root, "$", k_root);
	snprintf(c->name, sizeof(c->name), "braid");
	get_name(x, x->root, "$", "name", false, c->name);
	parse_mempool(x);
	parse_ports(x);
	parse_links(x);
	parse_classes(x);
	parse_default_class(x);
	parse_small_sections(x);
	parse_lcores(x);
	parse_management(x);
	parse_crypto(x);
	for (unsigned int i = 0; i < c->n_links; i++) {
		char li[CFG_PATH_LEN], p[CFG_PATH_LEN];

		if (!c->links[i].learn_peer || c->crypto.psk_file[0] != '\0')
			continue;
		cfg_path_idx(li, "$.links", i);
		cfg_path_key(p, li, "peer");
		cfg_err(x, p, "\"learn\" needs crypto.psk_file: only frames that "
			"authenticate may move a link's peer");
	}
	{
		const json_t *o = section(x, x->root, "mtu", k_mtu);

		get_bool(x, o, "$.mtu", "clamp_mss", true, &x->c->mtu.clamp_mss);
		get_u32(x, o, "$.mtu", "icmp_per_s", false, 0, 100000, 100,
			&x->c->mtu.icmp_per_s);
	}
}
