/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braid-traffic stats module: wire format round trip and corruption
 * detection, nearest-rank percentiles against a counting reference, and
 * loss/duplicate/reorder/latency results against a plain reference on
 * seeded random arrival sequences, plus the per-bin time series.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "traffic_stats.h"

#define MS 1000000ull

static uint64_t g_seed;

static void
test_wire_roundtrip(void)
{
	uint64_t st = g_seed;
	uint8_t buf[2048];

	for (int i = 0; i < 2000; i++) {
		struct traffic_hdr h = {
			.type = TRAFFIC_TYPE_DATA,
			.stream_id = (uint32_t)braid_test_rand(&st),
			.seq = braid_test_rand(&st), /* full 64-bit range */
			.send_ns = braid_test_rand(&st),
		}, g;
		size_t len = TRAFFIC_HDR_LEN + braid_test_rand(&st) % 1400;
		size_t at;

		h.value = len;
		traffic_encode(buf, len, &h);
		CU_ASSERT_EQUAL_FATAL(traffic_decode(buf, len, &g), 0);
		CU_ASSERT_EQUAL(g.type, h.type);
		CU_ASSERT_EQUAL(g.stream_id, h.stream_id);
		CU_ASSERT_EQUAL(g.seq, h.seq);
		CU_ASSERT_EQUAL(g.send_ns, h.send_ns);
		CU_ASSERT_EQUAL(g.value, len);
		/* A flipped byte is caught where the format can see it:
		 * magic, version, header length, seq low byte (it seeds the
		 * padding), size, padding. Type, stream id, the other seq
		 * bytes and the timestamp decode as another valid packet. */
		at = braid_test_rand(&st) % len;
		if (!(at <= 4 || at == 6 || at == 7 ||
		      (at == 23 && len > TRAFFIC_HDR_LEN) || at >= 32))
			continue;
		buf[at] ^= (uint8_t)(1u + braid_test_rand(&st) % 255);
		CU_ASSERT_EQUAL(traffic_decode(buf, len, &g), -EINVAL);
	}
}

static void
test_wire_errors(void)
{
	struct traffic_hdr h = { .type = TRAFFIC_TYPE_DATA, .stream_id = 1,
				 .seq = 5, .send_ns = 7, .value = 100 }, g;
	uint8_t buf[128];

	traffic_encode(buf, 100, &h);
	CU_ASSERT_EQUAL(traffic_decode(buf, 100, &g), 0);
	CU_ASSERT_EQUAL(traffic_decode(buf, 99, &g), -EINVAL); /* size */
	CU_ASSERT_EQUAL(traffic_decode(buf, 39, &g), -EINVAL); /* short */
	buf[0] ^= 1;
	CU_ASSERT_EQUAL(traffic_decode(buf, 100, &g), -EINVAL); /* magic */
	buf[0] ^= 1;
	buf[4] = 2;
	CU_ASSERT_EQUAL(traffic_decode(buf, 100, &g), -EINVAL); /* version */
	buf[4] = TRAFFIC_VERSION;
	buf[5] = 7;
	CU_ASSERT_EQUAL(traffic_decode(buf, 100, &g), -EINVAL); /* type */
	buf[5] = TRAFFIC_TYPE_DATA;
	buf[99] ^= 0x80;
	CU_ASSERT_EQUAL(traffic_decode(buf, 100, &g), -EINVAL); /* padding */
	/* End marker: header only, carries the sent count. */
	h.type = TRAFFIC_TYPE_END;
	h.value = 123456789012ull;
	traffic_encode(buf, TRAFFIC_HDR_LEN, &h);
	CU_ASSERT_EQUAL(traffic_decode(buf, TRAFFIC_HDR_LEN, &g), 0);
	CU_ASSERT_EQUAL(g.type, TRAFFIC_TYPE_END);
	CU_ASSERT_EQUAL(g.value, 123456789012ull);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
test_percentiles(void)
{
	static const double qs[] = { 0.0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999,
				     1.0 };
	int64_t small[10] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
	int64_t *v = malloc(5000 * sizeof(*v));
	int64_t *k = malloc(1000 * sizeof(*k));
	uint64_t st = g_seed ^ 0x1234;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	/* Hand-computed nearest-rank values. */
	CU_ASSERT_EQUAL(tstats_percentile(small, 10, 0.5), 50);
	CU_ASSERT_EQUAL(tstats_percentile(small, 10, 0.51), 60);
	CU_ASSERT_EQUAL(tstats_percentile(small, 10, 0.99), 100);
	CU_ASSERT_EQUAL(tstats_percentile(small, 10, 0.0), 10);
	CU_ASSERT_EQUAL(tstats_percentile(small, 10, 1.0), 100);
	CU_ASSERT_EQUAL(tstats_percentile(small, 1, 0.999), 10);
	for (int i = 0; i < 1000; i++)
		k[i] = i + 1;
	CU_ASSERT_EQUAL(tstats_percentile(k, 1000, 0.999), 999);
	CU_ASSERT_EQUAL(tstats_percentile(k, 1000, 0.99), 990);
	CU_ASSERT_EQUAL(tstats_percentile(k, 100, 0.99), 99);

	/* Random multisets with ties: the value at rank r = ceil(q n)
	 * satisfies #{x < v} < r <= #{x <= v}. */
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + braid_test_rand(&st) % 5000;
		uint64_t spread = 1 + braid_test_rand(&st) % 1000;

		for (size_t i = 0; i < n; i++)
			v[i] = (int64_t)(braid_test_rand(&st) % spread) - 50;
		qsort(v, n, sizeof(*v), cmp_i64);
		for (size_t qi = 0; qi < sizeof(qs) / sizeof(qs[0]); qi++) {
			int64_t p = tstats_percentile(v, n, qs[qi]);
			size_t below = 0, upto = 0, rank;

			/* rank from exact integer arithmetic on q * 1e6 */
			rank = (size_t)(((uint64_t)llround(qs[qi] * 1e6) * n +
					 999999) / 1000000);
			if (rank == 0)
				rank = 1;
			for (size_t i = 0; i < n; i++) {
				below += v[i] < p;
				upto += v[i] <= p;
			}
			CU_ASSERT(below < rank && rank <= upto);
		}
	}
	free(v);
	free(k);
}

struct arrival {
	uint64_t seq;
	uint64_t send_ns;
	uint64_t recv_ns;
};

/* Reference: what each result field must be, computed the plain way. */
static void
reference(const struct arrival *a, size_t n, uint64_t sent, bool end,
	  struct tstats_result *r, int64_t *lat_sorted, size_t *n_lat)
{
	uint8_t *seen = calloc(sent + 1, 1);
	uint64_t max = 0;
	bool any = false;

	memset(r, 0, sizeof(*r));
	*n_lat = 0;
	for (size_t i = 0; i < n; i++) {
		if (seen[a[i].seq]) {
			r->duplicates++;
			continue;
		}
		seen[a[i].seq] = 1;
		r->received++;
		if (any && a[i].seq < max) {
			r->out_of_order++;
			if (max - a[i].seq > r->max_reorder_dist)
				r->max_reorder_dist = max - a[i].seq;
		}
		if (!any || a[i].seq > max)
			max = a[i].seq;
		any = true;
		lat_sorted[(*n_lat)++] = (int64_t)(a[i].recv_ns - a[i].send_ns);
	}
	r->sent = end ? sent : max + 1;
	r->lost = r->sent - r->received;
	qsort(lat_sorted, *n_lat, sizeof(*lat_sorted), cmp_i64);
	free(seen);
}

static void
test_stream_vs_reference(void)
{
	uint64_t st = g_seed ^ 0x777;

	for (int round = 0; round < 60; round++) {
		size_t sent = 100 + braid_test_rand(&st) % 20000, n = 0;
		struct arrival *a = calloc(sent * 2 + 1, sizeof(*a));
		int64_t *lat = calloc(sent * 2 + 1, sizeof(*lat));
		struct tstats_result got, want;
		struct tstats *s = tstats_create(0, 100 * MS);
		uint64_t now = 5 * MS, bytes = 0;
		bool end = braid_test_rand(&st) & 1;
		unsigned int loss = braid_test_rand(&st) % 30;
		size_t n_lat;

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_PTR_NOT_NULL_FATAL(lat);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		/* loss, duplicates, adjacent and far swaps */
		for (uint64_t seq = 0; seq < sent; seq++) {
			uint64_t r = braid_test_rand(&st) % 100;

			if (r < loss)
				continue;
			a[n].seq = seq;
			a[n].send_ns = seq * MS;
			n++;
			if (r >= 95) {
				a[n] = a[n - 1];
				n++;
			}
		}
		for (size_t i = 0; i + 1 < n; i++) {
			uint64_t r = braid_test_rand(&st) % 100;

			if (r < 5) {
				size_t j = i + 1 + braid_test_rand(&st) % 40;
				struct arrival t;

				if (j >= n)
					j = n - 1;
				t = a[i];
				a[i] = a[j];
				a[j] = t;
			}
		}
		for (size_t i = 0; i < n; i++) {
			now += braid_test_rand(&st) % (2 * MS);
			a[i].recv_ns = now;
			if (a[i].recv_ns < a[i].send_ns)
				a[i].send_ns = a[i].recv_ns -
					       braid_test_rand(&st) % MS;
			CU_ASSERT_EQUAL_FATAL(tstats_data(s, a[i].seq,
				a[i].send_ns, a[i].recv_ns, 1316), 0);
		}
		if (end)
			tstats_end(s, sent);
		reference(a, n, sent, end, &want, lat, &n_lat);
		CU_ASSERT_EQUAL_FATAL(tstats_result(s, &got), 0);
		CU_ASSERT_EQUAL(got.end_seen, end);
		CU_ASSERT_EQUAL(got.sent, want.sent);
		CU_ASSERT_EQUAL(got.received, want.received);
		CU_ASSERT_EQUAL(got.lost, want.lost);
		CU_ASSERT_EQUAL(got.duplicates, want.duplicates);
		CU_ASSERT_EQUAL(got.out_of_order, want.out_of_order);
		CU_ASSERT_EQUAL(got.max_reorder_dist, want.max_reorder_dist);
		CU_ASSERT(fabs(got.loss_pct - 100.0 * (double)want.lost /
			       (double)want.sent) < 1e-9);
		bytes = want.received * 1316;
		CU_ASSERT_EQUAL(got.bytes, bytes);
		if (n_lat > 0) {
			CU_ASSERT_EQUAL(got.lat_min_ns, lat[0]);
			CU_ASSERT_EQUAL(got.lat_max_ns, lat[n_lat - 1]);
			CU_ASSERT_EQUAL(got.lat_p50_ns,
					lat[(n_lat * 500000 + 999999) / 1000000 - 1]);
			CU_ASSERT_EQUAL(got.lat_p99_ns,
					lat[(n_lat * 990000 + 999999) / 1000000 - 1]);
			CU_ASSERT_EQUAL(got.lat_p999_ns,
					lat[(n_lat * 999000 + 999999) / 1000000 - 1]);
		}
		tstats_free(s);
		free(a);
		free(lat);
	}
}

static void
test_seq_bounds(void)
{
	struct tstats *s = tstats_create(0, 100 * MS);
	struct tstats_result r;
	const uint64_t base = (1ull << 32) - 3; /* crosses 2^32: no wrap */

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (uint64_t q = base; q < base + 10; q++)
		CU_ASSERT_EQUAL_FATAL(tstats_data(s, q, 0, 10, 100), 0);
	/* 2^32 + 5 seen twice; 5 is 2^32 behind: outside the window. */
	CU_ASSERT_EQUAL(tstats_data(s, (1ull << 32) + 5, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 5, 0, 10, 100), -ERANGE);
	/* Jumps: exactly the window is accepted, one more is not. */
	CU_ASSERT_EQUAL(tstats_data(s, base + 9 + TRAFFIC_SEQ_WINDOW, 0, 10,
				    100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, base + 10 + 2 * TRAFFIC_SEQ_WINDOW, 0,
				    10, 100), -ERANGE);
	/* After the jump every old bit is forgotten: base + 9 is now exactly
	 * one window behind (refused), base + 10 + 1 is a late arrival. */
	CU_ASSERT_EQUAL(tstats_data(s, base + 9, 0, 10, 100), -ERANGE);
	CU_ASSERT_EQUAL(tstats_data(s, base + 11, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, base + 11, 0, 10, 100), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_result(s, &r), 0);
	CU_ASSERT_EQUAL(r.received, 12);
	CU_ASSERT_EQUAL(r.duplicates, 2);
	CU_ASSERT_EQUAL(r.invalid, 3);
	CU_ASSERT_EQUAL(r.out_of_order, 1);
	CU_ASSERT_EQUAL(r.max_reorder_dist, TRAFFIC_SEQ_WINDOW - 2);
	CU_ASSERT_EQUAL(r.sent, base + 10 + TRAFFIC_SEQ_WINDOW); /* no end */
	tstats_free(s);

	/* Ring reuse: 3 + W shares 3's bit; moving the top past 3 + W must
	 * forget 3, so a late 3 + W is new, not a duplicate. */
	s = tstats_create(0, 100 * MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(tstats_data(s, 3, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 3 + TRAFFIC_SEQ_WINDOW / 2, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 3 + TRAFFIC_SEQ_WINDOW + 5, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 3 + TRAFFIC_SEQ_WINDOW, 0, 10, 100), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_result(s, &r), 0);
	CU_ASSERT_EQUAL(r.received, 4);
	CU_ASSERT_EQUAL(r.duplicates, 0);
	tstats_free(s);

	/* A stream may start anywhere in the 64-bit space. */
	s = tstats_create(0, 100 * MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(tstats_data(s, UINT64_MAX - 1, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, UINT64_MAX - 2, 0, 10, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, UINT64_MAX - 1, 0, 10, 100), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_result(s, &r), 0);
	CU_ASSERT_EQUAL(r.received, 2);
	CU_ASSERT_EQUAL(r.duplicates, 1);
	CU_ASSERT_EQUAL(r.out_of_order, 1);
	tstats_free(s);
}

static void
test_series(void)
{
	struct tstats *s = tstats_create(1000 * MS, 100 * MS);
	struct tstats_result r;
	char line[256];
	FILE *f = tmpfile();
	int lineno = 0, bins = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* bin 0: latencies 1, 2, 9 ms; bin 1: empty; bin 2: 4 ms (x2,
	 * one duplicate that must not count). Receive 1000..1250 ms. */
	CU_ASSERT_EQUAL(tstats_data(s, 0, 999 * MS, 1000 * MS, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 1, 1008 * MS, 1010 * MS, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 2, 1090 * MS, 1099 * MS, 100), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 3, 1246 * MS, 1250 * MS, 200), 0);
	CU_ASSERT_EQUAL(tstats_data(s, 3, 1246 * MS, 1251 * MS, 200), 0);
	CU_ASSERT_EQUAL(tstats_series_csv(s, f), 0);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (lineno == 1) {
			CU_ASSERT_EQUAL(line[0], '#');
			continue;
		}
		bins++;
		if (bins == 1)
			CU_ASSERT_STRING_EQUAL(line, "0.000,3,300,2.000,9.000\n");
		if (bins == 2)
			CU_ASSERT_STRING_EQUAL(line, "0.100,0,0,NaN,NaN\n");
		if (bins == 3)
			CU_ASSERT_STRING_EQUAL(line, "0.200,1,200,4.000,4.000\n");
	}
	CU_ASSERT_EQUAL(bins, 3);
	CU_ASSERT_EQUAL_FATAL(tstats_result(s, &r), 0);
	/* goodput: 500 B distinct over 250 ms = 16 kbit/s */
	CU_ASSERT(fabs(r.goodput_kbps - 16.0) < 1e-9);
	CU_ASSERT(fabs(r.lat_mean_ns - 4.0 * MS) < 1e-3);
	CU_ASSERT_EQUAL(r.duplicates, 1);
	fclose(f);
	tstats_free(s);
	CU_ASSERT_PTR_NULL(tstats_create(0, 0));
}

static int
register_tests(void)
{
	CU_pSuite s;

	g_seed = braid_test_seed(0x7472616666696Cull);
	printf("test_traffic: seed 0x%" PRIx64 " (BRAID_TEST_SEED)\n", g_seed);
	s = CU_add_suite("traffic", NULL, NULL);
	if (s == NULL)
		return -1;
	if (CU_add_test(s, "wire_roundtrip", test_wire_roundtrip) == NULL ||
	    CU_add_test(s, "wire_errors", test_wire_errors) == NULL ||
	    CU_add_test(s, "percentiles", test_percentiles) == NULL ||
	    CU_add_test(s, "stream_vs_reference", test_stream_vs_reference) == NULL ||
	    CU_add_test(s, "seq_bounds", test_seq_bounds) == NULL ||
	    CU_add_test(s, "series", test_series) == NULL)
		return -1;
	return 0;
}

int
main(void)
{
	return braid_test_main("traffic", register_tests);
}
