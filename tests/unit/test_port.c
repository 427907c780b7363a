/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/port (profiles, setup, resolve, RX stage) with lib/tx over net_ring
 * and net_null ports.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "braid_meta.h"
#include "braid_port.h"
#include "braid_tx.h"
#include "harness.h"
#include "port_priv.h"

#ifndef BRAID_SOURCE_ROOT
#define BRAID_SOURCE_ROOT "."
#endif
#define CFG_DIR BRAID_SOURCE_ROOT "/drivers-cfg"

static struct rte_mempool *mp;
static uint64_t seed;

/* ---- helpers ------------------------------------------------------------- */

static int
load_profile(const char *name, struct braid_port_profile *p)
{
	char path[512], err[256];
	int ret;

	snprintf(path, sizeof(path), CFG_DIR "/%s.json", name);
	ret = braid_port_profile_load(path, p, err, sizeof(err));
	if (ret != 0)
		fprintf(stderr, "%s: %s\n", path, err);
	return ret;
}

/* An mbuf whose payload starts with @p id, @p len bytes long. */
static struct rte_mbuf *
mk_pkt(uint32_t id, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d;

	if (m == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(m, len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (uint16_t i = 0; i < len; i++)
		d[i] = (uint8_t)(id * 7 + i);
	memcpy(d, &id, sizeof(id));
	return m;
}

static int
pkt_intact(struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t id = braid_test_pkt_id(m);

	for (uint16_t i = sizeof(id); i < m->data_len; i++)
		if (d[i] != (uint8_t)(id * 7 + i))
			return 0;
	return 1;
}

static unsigned int
drain_ring_free(struct rte_ring *r)
{
	void *objs[64];
	unsigned int n, total = 0;

	while ((n = rte_ring_dequeue_burst(r, objs, 64, NULL)) > 0) {
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
		total += n;
	}
	return total;
}

/* ---- profiles ------------------------------------------------------------ */

static const struct {
	const char *file;
	const char *driver;
} shipped[] = {
	{ "net_af_packet", "net_af_packet" }, { "net_memif", "net_memif" },
	{ "net_ring", "net_ring" }, { "net_null", "net_null" },
	{ "net_tap", "net_tap" }, { "virtio", "net_virtio" },
	{ "ixgbe", "net_ixgbe" }, { "i40e", "net_i40e" },
	{ "ice", "net_ice" }, { "mlx5", "mlx5_pci" },
};

static void
test_profiles_shipped(void)
{
	struct braid_port_profile p;
	unsigned int n_json = 0;
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < RTE_DIM(shipped); i++) {
		CU_ASSERT_EQUAL_FATAL(load_profile(shipped[i].file, &p), 0);
		CU_ASSERT_STRING_EQUAL(p.driver, shipped[i].driver);
		CU_ASSERT(p.rx_desc >= BRAID_PORT_DESC_MIN && p.tx_desc >= BRAID_PORT_DESC_MIN);
		CU_ASSERT(p.rx_queues >= 1 && p.tx_queues >= 1);
		CU_ASSERT(p.mtu >= 1500);
		/* Link ports carry chained header + indirect clone mbufs. */
		if (strcmp(shipped[i].file, "net_null") != 0)
			CU_ASSERT(p.tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
		CU_ASSERT(!(p.tx_offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE));
		CU_ASSERT(!p.rss || p.rss_hf != 0);
	}
	/* Spot checks of real values. */
	CU_ASSERT_EQUAL_FATAL(load_profile("ice", &p), 0);
	CU_ASSERT_EQUAL(p.rx_desc, 2048);
	CU_ASSERT(p.rss && (p.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP));
	CU_ASSERT_EQUAL_FATAL(load_profile("mlx5", &p), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.devargs, "mprq_en=1"));
	CU_ASSERT_EQUAL_FATAL(load_profile("net_af_packet", &p), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.devargs, "iface=%s"));

	/* Every file in drivers-cfg/ loads (a new broken one fails here). */
	d = opendir(CFG_DIR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char name[256];

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(l - 5), de->d_name);
		CU_ASSERT_EQUAL(load_profile(name, &p), 0);
		n_json++;
	}
	closedir(d);
	CU_ASSERT(n_json >= RTE_DIM(shipped));
}

static const char base_profile[] =
	"{\"driver\": \"net_ixgbe\", \"rx_desc\": 1024, \"tx_desc\": 1024,"
	" \"rx_queues\": 2, \"tx_queues\": 2,"
	" \"rss\": {\"enabled\": true, \"hash_fields\": [\"ipv4\", \"ipv4_udp\"]},"
	" \"rx_offloads\": [\"ipv4_cksum\"], \"tx_offloads\": [\"multi_segs\"],"
	" \"mtu\": 1500, \"devargs\": \"\", \"link_wait_ms\": 100,"
	" \"promiscuous\": true}";

/* Each case: set key to the JSON value (NULL: delete it), expect err. */
static const struct {
	const char *key;
	const char *value;
	const char *expect;
} bad_cases[] = {
	{ "rx_descs", "1024", "$: unknown key \"rx_descs\"" },
	{ "rx_desc", "16", "$.rx_desc: must be 64..32768 (got 16)" },
	{ "rx_desc", "40000", "$.rx_desc: must be 64..32768 (got 40000)" },
	{ "rx_desc", "\"1024\"", "$.rx_desc: must be an integer 64..32768" },
	{ "rx_desc", "1024.0", "$.rx_desc: must be an integer 64..32768" },
	{ "tx_queues", "0", "$.tx_queues: must be 1..128 (got 0)" },
	{ "rss", "true", "$.rss: must be an object" },
	{ "rss", "{\"enabled\": true}", "$.rss.hash_fields: must list at least one field" },
	{ "rss", "{\"enabled\": 1, \"hash_fields\": []}", "$.rss.enabled: must be true or false" },
	{ "rss", "{\"hash_fields\": [\"ipv4\"]}", "$.rss.enabled: missing" },
	{ "rss", "{\"enabled\": true, \"hash\": [\"ipv4\"]}", "$.rss: unknown key \"hash\"" },
	{ "rss", "{\"enabled\": true, \"hash_fields\": [\"ipv4\", \"bogus\"]}",
	  "$.rss.hash_fields[1]: unknown RSS hash field \"bogus\"" },
	{ "rx_offloads", "[\"ipv4_cksum\", 3]", "$.rx_offloads[1]: must be a string" },
	{ "rx_offloads", "[\"udp_cksum\", \"udp_cksum\"]",
	  "$.rx_offloads[1]: duplicate rx offload \"udp_cksum\"" },
	{ "rx_offloads", "\"ipv4_cksum\"", "$.rx_offloads: must be an array" },
	{ "tx_offloads", "[\"tcp_lro\"]", "$.tx_offloads[0]: unknown tx offload \"tcp_lro\"" },
	{ "tx_offloads", "[\"multi_segs\", \"mbuf_fast_free\"]",
	  "$.tx_offloads[1]: \"mbuf_fast_free\" is unsafe in braid" },
	{ "mtu", "20", "$.mtu: must be 68..16000 (got 20)" },
	{ "link_wait_ms", "-1", "$.link_wait_ms: must be 0..60000 (got -1)" },
	{ "promiscuous", "\"yes\"", "$.promiscuous: must be true or false" },
	{ "driver", NULL, "$.driver: missing" },
	{ "mtu", NULL, "$.mtu: missing" },
	{ "driver", "\"Net-IXGBE\"", "$.driver: must be a PMD name" },
	{ "driver", "\"\"", "$.driver: must not be empty" },
	{ "devargs", "\"iface=%s,n=%d\"", "$.devargs: template may hold one \"%s\"" },
	{ "devargs", "\"a=%s,b=%s\"", "$.devargs: template may hold one \"%s\"" },
	{ "description", "7", "$.description: must be a string" },
};

static void
test_profiles_bad(void)
{
	struct braid_port_profile p;
	json_error_t jerr;
	char err[256];
	json_t *base;

	base = json_loads(base_profile, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	/* The base itself is valid: each failure below is its one change. */
	CU_ASSERT_EQUAL_FATAL(braid_port_profile_from_json(base, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.rss_hf, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	CU_ASSERT_EQUAL(p.rx_offloads, RTE_ETH_RX_OFFLOAD_IPV4_CKSUM);
	CU_ASSERT_EQUAL(p.link_wait_ms, 100);

	for (size_t i = 0; i < RTE_DIM(bad_cases); i++) {
		json_t *o = json_deep_copy(base);
		int ret;

		if (bad_cases[i].value == NULL) {
			json_object_del(o, bad_cases[i].key);
		} else {
			json_t *v = json_loads(bad_cases[i].value, JSON_DECODE_ANY, &jerr);

			CU_ASSERT_PTR_NOT_NULL_FATAL(v);
			json_object_set_new(o, bad_cases[i].key, v);
		}
		memset(err, 0, sizeof(err));
		memset(&p, 0xa5, sizeof(p));
		ret = braid_port_profile_from_json(o, &p, err, sizeof(err));
		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (strncmp(err, bad_cases[i].expect, strlen(bad_cases[i].expect)) != 0) {
			fprintf(stderr, "case %zu: got \"%s\", want \"%s...\"\n", i, err,
				bad_cases[i].expect);
			CU_FAIL("error text");
		}
		CU_ASSERT_EQUAL(p.driver[0], '\0'); /* zeroed on error */
		json_decref(o);
	}
	/* Not an object. */
	{
		json_t *a = json_array();

		CU_ASSERT_EQUAL(braid_port_profile_from_json(a, &p, err, sizeof(err)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, "$: a profile must be a JSON object");
		json_decref(a);
	}
	json_decref(base);

	/* File level: syntax error with position, duplicate key, missing file. */
	{
		char path[] = "/tmp/braid_test_port_XXXXXX";
		int fd = mkstemp(path);
		FILE *f;

		CU_ASSERT_FATAL(fd >= 0);
		f = fdopen(fd, "w");
		fputs("{\n  \"driver\": \"net_ring\",\n  \"rx_desc\": 1024,,\n}\n", f);
		fclose(f);
		CU_ASSERT_EQUAL(braid_port_profile_load(path, &p, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3"));
		f = fopen(path, "w");
		fputs("{\"driver\": \"net_ring\", \"driver\": \"net_null\"}", f);
		fclose(f);
		CU_ASSERT_EQUAL(braid_port_profile_load(path, &p, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "duplicate"));
		unlink(path);
		CU_ASSERT_EQUAL(braid_port_profile_load(path, &p, err, sizeof(err)), -EINVAL);
		CU_ASSERT(err[0] != '\0');
	}
}

static void
test_flag_names(void)
{
	char buf[128];
	int n;

	n = braid_port_flags_str(BRAID_PORT_FLAG_RX_OFFLOAD,
				 RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO,
				 buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ipv4_cksum,tcp_lro");
	CU_ASSERT_EQUAL(n, (int)strlen("ipv4_cksum,tcp_lro"));
	braid_port_flags_str(BRAID_PORT_FLAG_TX_OFFLOAD,
			     RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_BIT64(40), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "multi_segs,0x10000000000");
	braid_port_flags_str(BRAID_PORT_FLAG_RSS_HF, RTE_ETH_RSS_IP, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ipv4,frag_ipv4,ipv4_other,ipv6,frag_ipv6,ipv6_other,ipv6_ex");
	CU_ASSERT_EQUAL(braid_port_flags_str(BRAID_PORT_FLAG_RX_OFFLOAD, 0, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(braid_port_flags_str(BRAID_PORT_FLAG_RX_OFFLOAD,
					     RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, buf, 5), -ENOSPC);

	CU_ASSERT_EQUAL(braid_port_flag_parse(BRAID_PORT_FLAG_RSS_HF, "udp"), RTE_ETH_RSS_UDP);
	CU_ASSERT_EQUAL(braid_port_flag_parse(BRAID_PORT_FLAG_TX_OFFLOAD, "udp_cksum"),
			RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	CU_ASSERT_EQUAL(braid_port_flag_parse(BRAID_PORT_FLAG_RX_OFFLOAD, "multi_segs"), 0);
	/* Every single-bit name renders back to itself, every name parses. */
	for (int k = BRAID_PORT_FLAG_RX_OFFLOAD; k <= BRAID_PORT_FLAG_RSS_HF; k++) {
		unsigned int singles = 0;

		for (const struct port_flag_name *t = port_flag_table(k); t->name; t++) {
			CU_ASSERT_EQUAL(braid_port_flag_parse(k, t->name), t->bits);
			if (__builtin_popcountll(t->bits) != 1)
				continue;
			singles++;
			braid_port_flags_str(k, t->bits, buf, sizeof(buf));
			CU_ASSERT_STRING_EQUAL(buf, t->name);
		}
		CU_ASSERT(singles >= 18);
	}
	braid_port_flags_str(BRAID_PORT_FLAG_RSS_HF, RTE_ETH_RSS_ECPRI | RTE_ETH_RSS_L2TPV2,
			     buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ecpri,l2tpv2");
}

static void
test_devargs(void)
{
	struct braid_port_profile p;
	char buf[256];

	CU_ASSERT_EQUAL_FATAL(load_profile("net_af_packet", &p), 0);
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "net_af_packet0", "eth1", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "net_af_packet0,iface=eth1,qpairs=1,blocksz=4096,"
			       "framesz=2048,framecnt=1024,qdisc_bypass=0");
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "net_af_packet0", NULL, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "net_af_packet0", "eth1", buf, 20), -ENOSPC);

	CU_ASSERT_EQUAL_FATAL(load_profile("mlx5", &p), 0);
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "0000:08:00.0", NULL, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "0000:08:00.0,mprq_en=1,rxqs_min_mprq=1");

	CU_ASSERT_EQUAL_FATAL(load_profile("ixgbe", &p), 0);
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "0000:03:00.1", "ignored", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "0000:03:00.1");

	strcpy(p.devargs, "path=/run/%s.sock,pct=100%%");
	CU_ASSERT_EQUAL(braid_port_devargs(&p, "net_x0", "m1", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "net_x0,path=/run/m1.sock,pct=100%");
}

/* A device like an 82599: the negotiation against it is exact. */
static void
fake_ixgbe(struct rte_eth_dev_info *di)
{
	memset(di, 0, sizeof(*di));
	di->driver_name = "net_ixgbe";
	di->max_rx_queues = 4;
	di->max_tx_queues = 4;
	di->rx_offload_capa = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			      RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_RSS_HASH |
			      RTE_ETH_RX_OFFLOAD_SCATTER;
	di->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
			      RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	di->flow_type_rss_offloads = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	di->min_mtu = 68;
	di->max_mtu = 9710;
	di->max_rx_pktlen = 9728;
}

static void
test_negotiate(void)
{
	struct braid_port_setup_conf c = { .mp = mp };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	uint64_t st = seed;

	CU_ASSERT_EQUAL_FATAL(load_profile("ixgbe", &p), 0);
	fake_ixgbe(&di);
	p.rx_offloads |= RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_RSS_HASH;
	p.rss_hf = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	p.mtu = 9800;
	memset(&rep, 0, sizeof(rep));
	CU_ASSERT_EQUAL_FATAL(port_negotiate(0, "fake", &p, &c, &di, &conf, &rep), 0);
	CU_ASSERT_EQUAL(rep.rx_offloads_refused, RTE_ETH_RX_OFFLOAD_TCP_LRO);
	CU_ASSERT_EQUAL(rep.rx_offloads, RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_RSS_HASH);
	CU_ASSERT_EQUAL(conf.rxmode.offloads, rep.rx_offloads);
	CU_ASSERT_EQUAL(rep.tx_offloads_refused, 0);
	CU_ASSERT(rep.rss);
	CU_ASSERT_EQUAL(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
	CU_ASSERT_EQUAL(conf.rx_adv_conf.rss_conf.rss_hf, RTE_ETH_RSS_IPV4);
	CU_ASSERT_EQUAL(rep.rss_hf_refused, RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	CU_ASSERT(rep.mtu_refused);
	CU_ASSERT_EQUAL(rep.mtu_requested, 9800);
	CU_ASSERT_EQUAL(conf.rxmode.mtu, 9710);
	/* 9728-byte frames do not fit a 2048-byte mbuf, but scatter is not
	 * requested by the profile. */
	CU_ASSERT(rep.mtu_exceeds_mbuf);
	CU_ASSERT_EQUAL(rep.n_refused, 3);
	CU_ASSERT_EQUAL(rep.rx_queues, 2);

	/* No RSS field supported: no RSS, and the RSS hash offload goes too. */
	p.rss_hf = RTE_ETH_RSS_IPV6;
	p.mtu = 1500;
	memset(&rep, 0, sizeof(rep));
	CU_ASSERT_EQUAL_FATAL(port_negotiate(0, "fake", &p, &c, &di, &conf, &rep), 0);
	CU_ASSERT(!rep.rss);
	CU_ASSERT_EQUAL(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
	CU_ASSERT(rep.rx_offloads_refused & RTE_ETH_RX_OFFLOAD_RSS_HASH);
	CU_ASSERT(!(conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_RSS_HASH));
	CU_ASSERT(!rep.mtu_refused);
	CU_ASSERT(!rep.mtu_exceeds_mbuf);
	CU_ASSERT_EQUAL(conf.rxmode.mtu, 1500);

	/* Queue counts above the device's: an error, not a silent clamp. */
	c.rx_queues = 5;
	CU_ASSERT_EQUAL(port_negotiate(0, "fake", &p, &c, &di, &conf, &rep), -EINVAL);
	c.rx_queues = 4;
	CU_ASSERT_EQUAL(port_negotiate(0, "fake", &p, &c, &di, &conf, &rep), 0);
	CU_ASSERT_EQUAL(rep.rx_queues, 4);
	c.rx_queues = 0;

	/* MTU below the device minimum goes up to it. */
	p.mtu = 68;
	di.min_mtu = 576;
	CU_ASSERT_EQUAL(port_negotiate(0, "fake", &p, &c, &di, &conf, &rep), 0);
	CU_ASSERT(rep.mtu_refused);
	CU_ASSERT_EQUAL(conf.rxmode.mtu, 576);

	/* Reference: on random capabilities and requests, enabled = req & capa
	 * and refused = req & ~capa, for every mask. */
	rte_log_set_level(braid_port_logtype, RTE_LOG_ERR); /* quiet warnings */
	for (int i = 0; i < 2000; i++) {
		uint64_t rxr = braid_test_rand(&st) & 0x1fffffULL;
		uint64_t txr = braid_test_rand(&st) & 0x3fffffULL &
			       ~RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
		uint64_t hf = braid_test_rand(&st) & 0x1fffffffcULL;

		fake_ixgbe(&di);
		di.rx_offload_capa = braid_test_rand(&st) & 0x1fffffULL;
		di.tx_offload_capa = braid_test_rand(&st) & 0x3fffffULL;
		di.flow_type_rss_offloads = braid_test_rand(&st) & 0x1fffffffcULL;
		p.rx_offloads = rxr;
		p.tx_offloads = txr;
		p.rss = hf != 0;
		p.rss_hf = hf;
		p.mtu = 1500;
		memset(&rep, 0, sizeof(rep));
		CU_ASSERT_EQUAL_FATAL(port_negotiate(0, "rand", &p, &c, &di, &conf, &rep), 0);
		bool rss_on = (hf & di.flow_type_rss_offloads) != 0;
		uint64_t rxr_eff = rss_on ? rxr : rxr & ~RTE_ETH_RX_OFFLOAD_RSS_HASH;

		CU_ASSERT_EQUAL(rep.rss, rss_on);
		CU_ASSERT_EQUAL(rep.rss_hf, rss_on ? (hf & di.flow_type_rss_offloads) : 0);
		CU_ASSERT_EQUAL(rep.rss_hf_refused, hf & ~di.flow_type_rss_offloads);
		CU_ASSERT_EQUAL(rep.rx_offloads, rxr_eff & di.rx_offload_capa);
		CU_ASSERT_EQUAL(rep.rx_offloads | rep.rx_offloads_refused, rxr);
		CU_ASSERT_EQUAL(rep.rx_offloads & rep.rx_offloads_refused, 0);
		CU_ASSERT_EQUAL(rep.tx_offloads, txr & di.tx_offload_capa);
		CU_ASSERT_EQUAL(rep.tx_offloads_refused, txr & ~di.tx_offload_capa);
		CU_ASSERT_EQUAL(conf.txmode.offloads, rep.tx_offloads);
		CU_ASSERT_EQUAL(conf.rxmode.offloads, rep.rx_offloads);
		CU_ASSERT_EQUAL(rep.n_refused,
				(unsigned int)(__builtin_popcountll(rep.rx_offloads_refused) +
					       __builtin_popcountll(rep.tx_offloads_refused) +
					       __builtin_popcountll(rep.rss_hf_refused)));
	}
	rte_log_set_level(braid_port_logtype, RTE_LOG_INFO);
}

/* ---- ports --------------------------------------------------------------- */

static void
test_setup_null(void)
{
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0xb1, 0xa1, 0x07 } }, now;
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY, .mac = &mac };
	struct braid_port_profile p;
	struct braid_port_report rep;
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(load_profile("net_null", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_resolve("net_null0", &port), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT_STRING_EQUAL(rep.driver, "net_null");
	CU_ASSERT_EQUAL(rep.n_refused, 0);
	CU_ASSERT(!rep.mac_refused);
	CU_ASSERT(rte_is_same_ether_addr(&rep.mac, &mac));
	CU_ASSERT_EQUAL(rte_eth_macaddr_get(port, &now), 0);
	CU_ASSERT(rte_is_same_ether_addr(&now, &mac));
	CU_ASSERT(rep.link_up);
	CU_ASSERT_EQUAL(rep.rx_desc, 1024);
	CU_ASSERT_EQUAL(rep.tx_desc, 1024);
	CU_ASSERT_EQUAL(rep.mtu, 1500);
	CU_ASSERT(rep.promiscuous);

	/* Setting up a started port fails; stop, then again with RSS over 2
	 * queues: null hashes IP fields but not eCPRI. */
	CU_ASSERT(braid_port_setup(port, &p, &c, &rep) < 0);
	CU_ASSERT_EQUAL(braid_port_stop(port), 0);
	p.rss = true;
	p.rss_hf = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_ECPRI;
	c.rx_queues = 2;
	c.mac = NULL;
	c.mtu = 1400;
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT(rep.rss);
	CU_ASSERT_EQUAL(rep.rss_hf, RTE_ETH_RSS_IPV4);
	CU_ASSERT_EQUAL(rep.rss_hf_refused, RTE_ETH_RSS_ECPRI);
	CU_ASSERT_EQUAL(rep.rx_queues, 2);
	CU_ASSERT_EQUAL(rep.mtu, 1400);
	CU_ASSERT_EQUAL(rep.n_refused, 1);
	CU_ASSERT_EQUAL(braid_port_stop(port), 0);

	/* The profile must match the driver. */
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL(braid_port_setup(port, &p, &c, &rep), -EINVAL);
	CU_ASSERT_STRING_EQUAL(rep.driver, "net_null");
	/* Missing mempool. */
	CU_ASSERT_EQUAL_FATAL(load_profile("net_null", &p), 0);
	c.mp = NULL;
	CU_ASSERT_EQUAL(braid_port_setup(port, &p, &c, &rep), -EINVAL);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

static void
test_setup_ring_refused(void)
{
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 0x42 } };
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY, .mac = &mac };
	struct braid_port_profile p;
	struct braid_port_report rep;
	char buf[128];
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	p.rx_offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO;
	p.tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	p.promiscuous = false;
	CU_ASSERT_EQUAL_FATAL(braid_port_resolve("net_ring0", &port), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT_EQUAL(rep.rx_offloads_refused,
			RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO);
	CU_ASSERT_EQUAL(rep.tx_offloads_refused, RTE_ETH_TX_OFFLOAD_TCP_TSO);
	CU_ASSERT_EQUAL(rep.tx_offloads, RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	CU_ASSERT(rep.mac_refused); /* net_ring has no mac_addr_set */
	CU_ASSERT_EQUAL(rep.n_refused, 4);
	CU_ASSERT(rep.link_up);
	/* net_ring has promiscuous ops: the profile's "off" is applied. */
	CU_ASSERT(!rep.promiscuous_refused);
	CU_ASSERT(!rep.promiscuous);
	CU_ASSERT_EQUAL(rte_eth_promiscuous_get(port), 0);
	braid_port_flags_str(BRAID_PORT_FLAG_RX_OFFLOAD, rep.rx_offloads_refused, buf,
			     sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ipv4_cksum,tcp_lro");
	CU_ASSERT_EQUAL(braid_port_stop(port), 0);
}

static void
test_resolve(void)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t ring0, p1, p2;

	CU_ASSERT_EQUAL(braid_port_resolve("net_ring0", &ring0), 0);
	CU_ASSERT_EQUAL(rte_eth_dev_get_name_by_port(ring0, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "net_ring0");
	/* Hotplug a vdev with devargs, then find it again. */
	CU_ASSERT_EQUAL_FATAL(braid_port_resolve("net_null7,size=128,copy=0", &p1), 0);
	CU_ASSERT_EQUAL(rte_eth_dev_get_name_by_port(p1, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "net_null7");
	CU_ASSERT_NOT_EQUAL(p1, ring0);
	CU_ASSERT_EQUAL(braid_port_resolve("net_null7,size=128,copy=0", &p2), 0);
	CU_ASSERT_EQUAL(p1, p2);
	CU_ASSERT_EQUAL(braid_port_resolve("net_null7", &p2), 0);
	CU_ASSERT_EQUAL(p1, p2);
	CU_ASSERT_EQUAL(braid_port_close(p1), 0);
	CU_ASSERT(!rte_eth_dev_is_valid_port(p1));
	/* Not a port, not a vdev name, not a PCI address. */
	CU_ASSERT_EQUAL(braid_port_resolve("eth0", &p2), -ENODEV);
	CU_ASSERT_EQUAL(braid_port_resolve("", &p2), -EINVAL);
	/* A vdev driver that does not exist, a PCI device with --no-pci. */
	CU_ASSERT(braid_port_resolve("net_nosuchpmd0", &p2) < 0);
	CU_ASSERT(braid_port_resolve("0000:7f:1f.7", &p2) < 0);
}

/* RX stage -> TX stage over two ring ports, with a fake clock. */
/*
 * PMD power management: "pause" works on any PMD (pause instructions in
 * an RX callback) and frames still arrive; "monitor" needs the PMD's
 * monitor address, which net_ring lacks: refused, reported, the port runs
 * without it; stop turns it off, so the port can be set up again.
 */
static void
test_power_mgmt(void)
{
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY,
					   .rx_lcore = rte_lcore_id() };
	struct rte_ring *r = rte_ring_create("t_pm", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct rte_mbuf *m[4];
	uint16_t port, got = 0;
	int pid;

	CU_ASSERT_FATAL(r != NULL);
	pid = rte_eth_from_rings("rtPM", &r, 1, &r, 1, 0);
	CU_ASSERT_FATAL(pid >= 0);
	port = (uint16_t)pid;
	CU_ASSERT_STRING_EQUAL(braid_port_pm_name(BRAID_PORT_PM_PAUSE), "pause");
	CU_ASSERT_PTR_NULL(braid_port_pm_name((enum braid_port_pm)9));
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);

	c.pm = BRAID_PORT_PM_PAUSE;
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT(rep.pm && !rep.pm_refused);
	/* The ring is its own TX and RX: what goes out comes back in. */
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, 4), 0);
	for (int i = 0; i < 4; i++)
		rte_pktmbuf_append(m[i], 64);
	CU_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, m, 4), 4);
	for (int i = 0; i < 2000 && got < 4; i++)
		got += rte_eth_rx_burst(port, 0, &m[got], (uint16_t)(4 - got));
	CU_ASSERT_EQUAL(got, 4);
	rte_pktmbuf_free_bulk(m, got);
	CU_ASSERT_EQUAL(braid_port_stop(port), 0);

	c.pm = BRAID_PORT_PM_MONITOR;
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT(!rep.pm && rep.pm_refused && rep.pm_error != 0);
	CU_ASSERT(rep.n_refused >= 1);
	CU_ASSERT_EQUAL(braid_port_stop(port), 0);

	/* Off again after a stop: set up without it, nothing refused. */
	c.pm = BRAID_PORT_PM_OFF;
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	CU_ASSERT(!rep.pm && !rep.pm_refused);
	CU_ASSERT_EQUAL(braid_port_close(port), 0);
	rte_ring_free(r);
}

static void
test_rx_tx_rings(void)
{
	const unsigned int N = 100, M = 10;
	const uint64_t drain_ns = 50000;
	struct rte_ring *rxr, *rxr2, *txr[2];
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct braid_port_rx_stats rs;
	struct braid_tx_stats ts;
	struct braid_tx_port_stats ps;
	struct braid_port_stats hw;
	struct braid_port_rx *rx;
	struct braid_tx *tx;
	struct braid_tx_conf tc;
	static struct braid_burst out;
	uint16_t pa, pb;
	uint64_t now = 1000000, bytes = 0, bytes_n = 0, link_bytes[2] = { 0, 0 };
	unsigned int got, polls = 0;
	int pa_i, pb_i;

	rxr = rte_ring_create("t_rx_a", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	rxr2 = rte_ring_create("t_rx_b", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr[0] = rte_ring_create("t_tx_a", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr[1] = rte_ring_create("t_tx_b", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(rxr && rxr2 && txr[0] && txr[1]);
	pa_i = rte_eth_from_rings("rtA", &rxr, 1, &txr[0], 1, 0);
	pb_i = rte_eth_from_rings("rtB", &rxr2, 1, &txr[1], 1, 0);
	CU_ASSERT_FATAL(pa_i >= 0 && pb_i >= 0);
	pa = (uint16_t)pa_i;
	pb = (uint16_t)pb_i;
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(pa, &p, &c, &rep), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(pb, &p, &c, &rep), 0);

	rx = braid_port_rx_create(&(struct braid_port_rx_conf){ .port_id = pa }, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rx);
	CU_ASSERT_PTR_NULL(braid_port_rx_create(&(struct braid_port_rx_conf){
		.port_id = pa, .queue_id = 1 }, 0));
	memset(&tc, 0, sizeof(tc));
	tc.n_links = 2;
	tc.links[0] = (struct braid_tx_output){ pa, 0 };
	tc.links[1] = (struct braid_tx_output){ pb, 0 };
	tc.buffer_size = 32;
	tc.drain_ns = drain_ns;
	tx = braid_tx_create(&tc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tx);

	/* N known packets into the port's RX ring. */
	for (unsigned int i = 0; i < N + M; i++) {
		struct rte_mbuf *m = mk_pkt(i, (uint16_t)(60 + i % 50));

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		bytes += m->pkt_len;
		link_bytes[i % 2] += m->pkt_len;
		if (i < N) {
			/* Stale metadata from an earlier life of the mbuf. */
			memset(braid_meta(m), 0xa5, sizeof(struct braid_meta));
			bytes_n += m->pkt_len;
			CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rxr, m), 0);
		} else {
			rte_pktmbuf_free(m); /* sizes only: rebuilt below */
		}
	}

	/* RX poll -> TX process until the RX ring is empty, all at time now. */
	got = 0;
	for (;;) {
		uint16_t n;

		out.n = 0;
		n = braid_port_rx_stage_ops.poll(rx, &out, now);
		polls++;
		if (n == 0)
			break;
		CU_ASSERT_EQUAL(out.n, n);
		CU_ASSERT(n <= BRAID_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct braid_meta *bm = braid_meta(out.pkts[i]);

			CU_ASSERT_EQUAL(braid_test_pkt_id(out.pkts[i]), got + i);
			CU_ASSERT_EQUAL(bm->rx_ns, now);
			CU_ASSERT_EQUAL(bm->port_in, pa);
			CU_ASSERT_EQUAL(bm->class_id, BRAID_CLASS_NONE);
			CU_ASSERT_EQUAL(bm->link_id, BRAID_LINK_NONE);
			CU_ASSERT_EQUAL(bm->seq, 0);
			CU_ASSERT_EQUAL(bm->flags, 0);
			CU_ASSERT_EQUAL(bm->block_id, 0);
			CU_ASSERT_EQUAL(bm->fec_k, 0);
			bm->link_id = (uint16_t)((got + i) % 2);
		}
		got += n;
		braid_tx_stage_ops.process(tx, out.pkts, n, &out, now);
	}
	CU_ASSERT_EQUAL(got, N);
	braid_port_rx_stats(rx, &rs);
	CU_ASSERT_EQUAL(rs.rx_packets, N);
	CU_ASSERT_EQUAL(rs.rx_bursts, (N + BRAID_BURST - 1) / BRAID_BURST);
	CU_ASSERT_EQUAL(rs.rx_empty_polls, 1);
	CU_ASSERT_EQUAL(rs.rx_bytes, bytes_n);

	/* 50 per link, buffer 32: one full send each, 18 waiting each. */
	CU_ASSERT_EQUAL(rte_ring_count(txr[0]), 32);
	CU_ASSERT_EQUAL(rte_ring_count(txr[1]), 32);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), 36);

	/* The drain timer sends nothing before drain_ns... */
	braid_tx_stage_ops.poll(tx, &out, now + drain_ns - 1);
	CU_ASSERT_EQUAL(rte_ring_count(txr[0]), 32);
	CU_ASSERT_EQUAL(rte_ring_count(txr[1]), 32);
	/* ...and everything at drain_ns. */
	CU_ASSERT(braid_tx_stage_ops.poll(tx, &out, now + drain_ns) > 0);
	CU_ASSERT_EQUAL(rte_ring_count(txr[0]), 50);
	CU_ASSERT_EQUAL(rte_ring_count(txr[1]), 50);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), 0);
	CU_ASSERT_EQUAL(braid_tx_stage_ops.poll(tx, &out, now + 2 * drain_ns), 0);

	/* M more packets straight to process(); drain() sends them. */
	now += 3 * drain_ns;
	for (unsigned int i = N; i < N + M; i++) {
		struct rte_mbuf *m = mk_pkt(i, (uint16_t)(60 + i % 50));

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		braid_meta(m)->link_id = (uint16_t)(i % 2);
		braid_tx_stage_ops.process(tx, &m, 1, &out, now);
	}
	CU_ASSERT_EQUAL(braid_tx_pending(tx), M);
	braid_tx_stage_ops.poll(tx, &out, now + drain_ns / 2);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), M);
	CU_ASSERT_EQUAL(braid_tx_stage_ops.drain(tx, &out, now + drain_ns / 2), 0);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), 0);
	CU_ASSERT_EQUAL(rte_ring_count(txr[0]), (N + M) / 2);
	CU_ASSERT_EQUAL(rte_ring_count(txr[1]), (N + M) / 2);

	/* The other side: exact counts, order kept per link, payload intact. */
	for (int l = 0; l < 2; l++) {
		struct rte_mbuf *m;
		uint32_t expect = (uint32_t)l;

		while (rte_ring_dequeue(txr[l], (void **)&m) == 0) {
			CU_ASSERT_EQUAL(braid_test_pkt_id(m), expect);
			CU_ASSERT_EQUAL(m->pkt_len, 60 + expect % 50);
			CU_ASSERT(pkt_intact(m));
			expect += 2;
			rte_pktmbuf_free(m);
		}
		CU_ASSERT_EQUAL(expect, N + M + (uint32_t)l);
	}

	braid_tx_stats(tx, &ts);
	CU_ASSERT_EQUAL(ts.tx_packets, N + M);
	CU_ASSERT_EQUAL(ts.tx_bytes, bytes);
	CU_ASSERT_EQUAL(ts.tx_flushes, 6); /* 2 full, 2 timer, 2 drain */
	CU_ASSERT_EQUAL(ts.drop_tx_full, 0);
	CU_ASSERT_EQUAL(ts.drop_bad_output, 0);
	CU_ASSERT_EQUAL(braid_tx_port_stats(tx, pb, &ps), 0);
	CU_ASSERT_EQUAL(ps.tx_packets, (N + M) / 2);
	CU_ASSERT_EQUAL(ps.tx_bytes, link_bytes[1]);
	CU_ASSERT_EQUAL(braid_tx_port_stats(tx, 999, &ps), -ENOENT);
	CU_ASSERT_EQUAL(braid_port_stats(pa, &hw), 0);
	CU_ASSERT_EQUAL(hw.ipackets, N);
	CU_ASSERT_EQUAL(hw.opackets, (N + M) / 2);

	braid_tx_free(tx);
	braid_port_rx_free(rx);
	CU_ASSERT_EQUAL(braid_port_close(pa), 0);
	CU_ASSERT_EQUAL(braid_port_close(pb), 0);
	rte_ring_free(rxr);
	rte_ring_free(rxr2);
	rte_ring_free(txr[0]);
	rte_ring_free(txr[1]);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* RX never overfills the output burst; a full burst is not an empty poll. */
static void
test_rx_room(void)
{
	struct rte_ring *rxr, *txr;
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct braid_port_rx_stats rs;
	static struct braid_burst out;
	struct braid_port_rx *rx;
	uint16_t port;
	int pi;

	rxr = rte_ring_create("t_room_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("t_room_tx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(rxr && txr);
	pi = rte_eth_from_rings("rtRoom", &rxr, 1, &txr, 1, 0);
	CU_ASSERT_FATAL(pi >= 0);
	port = (uint16_t)pi;
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	rx = braid_port_rx_create(&(struct braid_port_rx_conf){ .port_id = port, .burst = 8 }, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rx);
	for (uint32_t i = 0; i < 20; i++) {
		struct rte_mbuf *m = mk_pkt(i, 64);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rxr, m), 0);
	}
	out.n = BRAID_BURST_OUT_MAX;
	CU_ASSERT_EQUAL(braid_port_rx_stage_ops.poll(rx, &out, 1), 0);
	out.n = BRAID_BURST_OUT_MAX - 5;
	CU_ASSERT_EQUAL(braid_port_rx_stage_ops.poll(rx, &out, 2), 5);
	CU_ASSERT_EQUAL(out.n, BRAID_BURST_OUT_MAX);
	for (uint16_t i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(braid_test_pkt_id(out.pkts[BRAID_BURST_OUT_MAX - 5 + i]), i);
	rte_pktmbuf_free_bulk(&out.pkts[BRAID_BURST_OUT_MAX - 5], 5);
	out.n = 0;
	CU_ASSERT_EQUAL(braid_port_rx_stage_ops.poll(rx, &out, 3), 8); /* conf burst */
	CU_ASSERT_EQUAL(braid_port_rx_stage_ops.poll(rx, &out, 3), 7);
	CU_ASSERT_EQUAL(braid_port_rx_stage_ops.poll(rx, &out, 3), 0);
	CU_ASSERT_EQUAL(out.n, 15);
	for (uint16_t i = 0; i < 15; i++)
		CU_ASSERT_EQUAL(braid_test_pkt_id(out.pkts[i]), 5u + i);
	rte_pktmbuf_free_bulk(out.pkts, out.n);
	braid_port_rx_stats(rx, &rs);
	CU_ASSERT_EQUAL(rs.rx_packets, 20);
	CU_ASSERT_EQUAL(rs.rx_bytes, 20 * 64);
	CU_ASSERT_EQUAL(rs.rx_bursts, 3);
	CU_ASSERT_EQUAL(rs.rx_empty_polls, 1);
	CU_ASSERT_PTR_NULL(braid_port_rx_create(&(struct braid_port_rx_conf){
		.port_id = port, .burst = BRAID_BURST + 1 }, 0));
	braid_port_rx_free(rx);
	CU_ASSERT_EQUAL(braid_port_close(port), 0);
	rte_ring_free(rxr);
	rte_ring_free(txr);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* A port whose TX ring fills: what the PMD refuses is drop_tx_full. */
static void
test_tx_full(void)
{
	struct rte_ring *rxr, *txr;
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct braid_tx_stats ts;
	struct braid_tx_port_stats ps;
	struct braid_tx_conf tc;
	struct rte_mbuf *pkts[100];
	static struct braid_burst out;
	struct braid_tx *tx;
	uint64_t sent_bytes = 0;
	uint16_t port;
	int pi;

	rxr = rte_ring_create("t_full_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("t_full_tx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(rxr && txr);
	pi = rte_eth_from_rings("rtFull", &rxr, 1, &txr, 1, 0);
	CU_ASSERT_FATAL(pi >= 0);
	port = (uint16_t)pi;
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);

	memset(&tc, 0, sizeof(tc));
	tc.n_links = 1;
	tc.single = true; /* LAN TX: link_id ignored */
	tc.links[0] = (struct braid_tx_output){ port, 0 };
	tc.buffer_size = 32;
	tc.drain_ns = 20000;
	tx = braid_tx_create(&tc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tx);
	for (unsigned int i = 0; i < 100; i++) {
		pkts[i] = mk_pkt(i, (uint16_t)(64 + i));
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		braid_meta(pkts[i])->link_id = BRAID_LINK_NONE;
		if (i < 63)
			sent_bytes += pkts[i]->pkt_len;
	}
	/* The ring takes 63: sends at 32 (32 in), 64 (31 in, 1 refused),
	 * 96 (32 refused), drain (4 refused). */
	braid_tx_stage_ops.process(tx, pkts, 100, &out, 0);
	CU_ASSERT_EQUAL(rte_ring_count(txr), 63);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), 4);
	braid_tx_stage_ops.drain(tx, &out, 0);
	braid_tx_stats(tx, &ts);
	CU_ASSERT_EQUAL(ts.tx_packets, 63);
	CU_ASSERT_EQUAL(ts.drop_tx_full, 37);
	CU_ASSERT_EQUAL(ts.tx_flushes, 4);
	CU_ASSERT_EQUAL(ts.tx_bytes, sent_bytes);
	CU_ASSERT_EQUAL(ts.drop_bad_output, 0);
	CU_ASSERT_EQUAL(braid_tx_port_stats(tx, port, &ps), 0);
	CU_ASSERT_EQUAL(ps.drop_tx_full, 37);
	for (uint32_t i = 0; i < 63; i++) {
		struct rte_mbuf *m = NULL;

		CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(txr, (void **)&m), 0);
		CU_ASSERT_EQUAL(braid_test_pkt_id(m), i);
		rte_pktmbuf_free(m);
	}
	braid_tx_free(tx);
	CU_ASSERT_EQUAL(braid_port_close(port), 0);
	rte_ring_free(rxr);
	rte_ring_free(txr);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* Links sharing an output, two queues of one port, bad link ids. */
static void
test_tx_outputs(void)
{
	struct rte_ring *rxr, *txr[2];
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY, .tx_queues = 2 };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct braid_tx_stats ts;
	struct braid_tx_conf tc;
	struct rte_mbuf *pkts[40];
	static struct braid_burst out;
	struct braid_tx *tx;
	static const uint16_t ids[5] = { 0, 1, 2, 3, BRAID_LINK_NONE };
	uint16_t port;
	int pi;

	rxr = rte_ring_create("t_out_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr[0] = rte_ring_create("t_out_tx0", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr[1] = rte_ring_create("t_out_tx1", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(rxr && txr[0] && txr[1]);
	pi = rte_eth_from_rings("rtOut", &rxr, 1, txr, 2, 0);
	CU_ASSERT_FATAL(pi >= 0);
	port = (uint16_t)pi;
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);

	memset(&tc, 0, sizeof(tc));
	tc.n_links = 3;
	tc.links[0] = (struct braid_tx_output){ port, 0 };
	tc.links[1] = (struct braid_tx_output){ port, 1 };
	tc.links[2] = (struct braid_tx_output){ port, 0 }; /* shares link 0's */
	tc.drain_ns = 0;
	/* Create validates. */
	tc.links[2].queue_id = 2;
	CU_ASSERT_PTR_NULL(braid_tx_create(&tc, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tc.links[2].queue_id = 0;
	tc.drain_ns = BRAID_TX_DRAIN_NS_MAX + 1;
	CU_ASSERT_PTR_NULL(braid_tx_create(&tc, 0));
	tc.drain_ns = 0;
	tc.single = true;
	CU_ASSERT_PTR_NULL(braid_tx_create(&tc, 0));
	tc.single = false;
	tc.links[1].port_id = RTE_MAX_ETHPORTS - 1;
	CU_ASSERT_PTR_NULL(braid_tx_create(&tc, 0));
	tc.links[1].port_id = port;
	tx = braid_tx_create(&tc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tx);

	for (unsigned int i = 0; i < 40; i++) {
		pkts[i] = mk_pkt(i, 100);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		braid_meta(pkts[i])->link_id = ids[i % 5];
	}
	braid_tx_stage_ops.process(tx, pkts, 40, &out, 5);
	/* drain_ns 0: every poll sends what is buffered. */
	braid_tx_stage_ops.poll(tx, &out, 5);
	CU_ASSERT_EQUAL(braid_tx_pending(tx), 0);
	braid_tx_stats(tx, &ts);
	CU_ASSERT_EQUAL(ts.drop_bad_output, 16);
	CU_ASSERT_EQUAL(ts.tx_packets, 24);
	CU_ASSERT_EQUAL(ts.tx_flushes, 2);
	CU_ASSERT_EQUAL(rte_ring_count(txr[0]), 16);
	CU_ASSERT_EQUAL(rte_ring_count(txr[1]), 8);
	/* Queue 0: links 0 and 2 in arrival order; queue 1: link 1. */
	for (int q = 0; q < 2; q++) {
		struct rte_mbuf *m;
		uint32_t last = 0;
		bool first = true;

		while (rte_ring_dequeue(txr[q], (void **)&m) == 0) {
			uint16_t l = ids[braid_test_pkt_id(m) % 5];

			CU_ASSERT(q == 0 ? (l == 0 || l == 2) : l == 1);
			CU_ASSERT(first || braid_test_pkt_id(m) > last);
			first = false;
			last = braid_test_pkt_id(m);
			rte_pktmbuf_free(m);
		}
	}
	braid_tx_free(tx);
	CU_ASSERT_EQUAL(braid_port_close(port), 0);
	rte_ring_free(rxr);
	rte_ring_free(txr[0]);
	rte_ring_free(txr[1]);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* Inject ring: a producer on another lcore and the main lcore enqueue at
 * once; TX delivers both streams complete and in order. */
#define INJ_WORKER 3000u
#define INJ_MAIN 500u
#define INJ_MAIN_BASE 1000000u

static int
inject_producer(void *arg)
{
	struct rte_ring *r = arg;

	for (uint32_t i = 0; i < INJ_WORKER; i++) {
		struct rte_mbuf *m = mk_pkt(i, 80);

		if (m == NULL)
			return -1;
		braid_meta(m)->link_id = 0;
		while (rte_ring_mp_enqueue(r, m) != 0)
			rte_pause();
	}
	return 0;
}

static void
test_tx_inject(void)
{
	struct rte_ring *rxr, *txr, *inj;
	struct braid_port_setup_conf c = { .mp = mp, .socket = SOCKET_ID_ANY };
	struct braid_port_profile p;
	struct braid_port_report rep;
	struct braid_tx_stats ts;
	struct braid_tx_conf tc;
	static struct braid_burst out;
	struct braid_tx *tx;
	uint32_t next_w = 0, next_m = INJ_MAIN_BASE, main_sent = 0;
	unsigned int worker;
	uint64_t now = 0, iter, cap;
	uint16_t port;
	int pi;

	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		CU_FAIL("needs a worker lcore (EAL -l 0-1)");
		return;
	}
	rxr = rte_ring_create("t_inj_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("t_inj_tx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	inj = braid_tx_inject_ring_create("t_inj", 256, 0);
	CU_ASSERT_FATAL(rxr && txr && inj);
	pi = rte_eth_from_rings("rtInj", &rxr, 1, &txr, 1, 0);
	CU_ASSERT_FATAL(pi >= 0);
	port = (uint16_t)pi;
	CU_ASSERT_EQUAL_FATAL(load_profile("net_ring", &p), 0);
	CU_ASSERT_EQUAL_FATAL(braid_port_setup(port, &p, &c, &rep), 0);
	memset(&tc, 0, sizeof(tc));
	tc.n_links = 1;
	tc.links[0] = (struct braid_tx_output){ port, 0 };
	tc.buffer_size = 16;
	tc.drain_ns = 10000;
	tc.inject = inj;
	tx = braid_tx_create(&tc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tx);

	/* Until every packet of both producers is out (a count, however the
	 * worker is scheduled); the cap is only for a stuck machine. */
	cap = braid_test_deadline(120);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(inject_producer, inj, worker), 0);
	for (iter = 0; next_w < INJ_WORKER || next_m < INJ_MAIN_BASE + INJ_MAIN; iter++) {
		struct rte_mbuf *m;

		if ((iter & 0xffff) == 0 && braid_test_past(cap)) {
			printf("\n  machine stuck: 120 s and %u of %u worker, %u of %u main"
			       " packets out\n", next_w, INJ_WORKER, next_m - INJ_MAIN_BASE,
			       INJ_MAIN);
			/* let a worker blocked on the full ring return */
			while (rte_eal_get_lcore_state(worker) != WAIT)
				if (rte_ring_dequeue(inj, (void **)&m) == 0)
					rte_pktmbuf_free(m);
			break;
		}

		if (main_sent < INJ_MAIN && (iter & 3) == 0) {
			m = mk_pkt(INJ_MAIN_BASE + main_sent, 90);
			CU_ASSERT_PTR_NOT_NULL_FATAL(m);
			braid_meta(m)->link_id = 0;
			if (rte_ring_mp_enqueue(inj, m) == 0)
				main_sent++;
			else
				rte_pktmbuf_free(m);
		}
		now += 1000;
		braid_tx_stage_ops.poll(tx, &out, now);
		while (rte_ring_dequeue(txr, (void **)&m) == 0) {
			uint32_t id = braid_test_pkt_id(m);

			if (id >= INJ_MAIN_BASE) {
				CU_ASSERT_EQUAL(id, next_m);
				next_m = id + 1;
			} else {
				CU_ASSERT_EQUAL(id, next_w);
				next_w = id + 1;
			}
			rte_pktmbuf_free(m);
		}
	}
	CU_ASSERT_EQUAL(rte_eal_wait_lcore(worker), 0);
	CU_ASSERT_EQUAL(next_w, INJ_WORKER);
	CU_ASSERT_EQUAL(next_m, INJ_MAIN_BASE + INJ_MAIN);
	braid_tx_stage_ops.drain(tx, &out, now);
	braid_tx_stats(tx, &ts);
	CU_ASSERT_EQUAL(ts.inject_packets, INJ_WORKER + INJ_MAIN);
	CU_ASSERT_EQUAL(ts.tx_packets, INJ_WORKER + INJ_MAIN);
	CU_ASSERT_EQUAL(ts.drop_tx_full, 0);

	/* drain() also empties the inject ring. */
	for (uint32_t i = 0; i < 5; i++) {
		struct rte_mbuf *m = mk_pkt(i, 70);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		braid_meta(m)->link_id = (uint16_t)(i == 4 ? 9 : 0); /* one bad */
		CU_ASSERT_EQUAL(rte_ring_mp_enqueue(inj, m), 0);
	}
	braid_tx_stage_ops.drain(tx, &out, now);
	CU_ASSERT_EQUAL(rte_ring_count(inj), 0);
	CU_ASSERT_EQUAL(rte_ring_count(txr), 4);
	braid_tx_stats(tx, &ts);
	CU_ASSERT_EQUAL(ts.drop_bad_output, 1);
	CU_ASSERT_EQUAL(ts.inject_packets, INJ_WORKER + INJ_MAIN + 5);
	drain_ring_free(txr);

	braid_tx_free(tx);
	CU_ASSERT_EQUAL(braid_port_close(port), 0);
	rte_ring_free(rxr);
	rte_ring_free(txr);
	rte_ring_free(inj);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

/* Stage ops and counter names are API. */
static void
test_stage_ops(void)
{
	CU_ASSERT_STRING_EQUAL(braid_port_rx_stage_ops.kind, "port_rx");
	CU_ASSERT(braid_port_rx_stage_ops.flags & BRAID_STAGE_F_SOURCE);
	CU_ASSERT_PTR_NOT_NULL(braid_port_rx_stage_ops.poll);
	CU_ASSERT_PTR_NOT_NULL(braid_port_rx_stage_ops.stats);
	CU_ASSERT_STRING_EQUAL(braid_tx_stage_ops.kind, "tx");
	CU_ASSERT(!(braid_tx_stage_ops.flags & BRAID_STAGE_F_SOURCE));
	CU_ASSERT_PTR_NOT_NULL(braid_tx_stage_ops.process);
	CU_ASSERT_PTR_NOT_NULL(braid_tx_stage_ops.poll);
	CU_ASSERT_PTR_NOT_NULL(braid_tx_stage_ops.drain);
	CU_ASSERT_PTR_NULL(braid_port_rx_create(NULL, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(braid_port_rx_create(&(struct braid_port_rx_conf){
		.port_id = RTE_MAX_ETHPORTS - 1 }, 0));
}

static int
register_tests(void)
{
	static const char *const vdevs[] = { "net_ring0", "net_null0", NULL };
	CU_pSuite s;

	if (braid_test_eal_init(vdevs, "0-1") != 0)
		return -1;
	seed = braid_test_seed(0x9e3779b97f4a7c15ULL);
	printf("test_port: seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", seed);
	if (braid_meta_register() != 0)
		return -1;
	mp = rte_pktmbuf_pool_create("t_port_mp", 8191, 64, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL)
		return -1;

	s = CU_add_suite("profiles", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "shipped profiles load", test_profiles_shipped) == NULL ||
	    CU_add_test(s, "bad profiles name path and reason", test_profiles_bad) == NULL ||
	    CU_add_test(s, "flag names", test_flag_names) == NULL ||
	    CU_add_test(s, "devargs templates", test_devargs) == NULL ||
	    CU_add_test(s, "negotiation vs capabilities", test_negotiate) == NULL)
		return -1;
	s = CU_add_suite("ports", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "net_null setup, mac, rss", test_setup_null) == NULL ||
	    CU_add_test(s, "net_ring refused offloads reported", test_setup_ring_refused) == NULL ||
	    CU_add_test(s, "resolve and hotplug", test_resolve) == NULL ||
	    CU_add_test(s, "stage ops", test_stage_ops) == NULL)
		return -1;
	s = CU_add_suite("rx_tx", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "rx -> tx over rings, drain timer", test_rx_tx_rings) == NULL ||
	    CU_add_test(s, "rx respects output room", test_rx_room) == NULL ||
	    CU_add_test(s, "tx ring full counts drop_tx_full", test_tx_full) == NULL ||
	    CU_add_test(s, "shared outputs, queues, bad link ids", test_tx_outputs) == NULL ||
	    CU_add_test(s, "inject ring from two lcores", test_tx_inject) == NULL ||
	    CU_add_test(s, "PMD power management: pause, monitor refused", test_power_mgmt) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("port", register_tests);
}
