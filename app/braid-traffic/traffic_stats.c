/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traffic_stats.h"

struct tbin {
	size_t first;   /* index of its first sample */
	uint64_t pkts;
	uint64_t bytes;
};

struct tstats {
	uint64_t t0_ns;
	uint64_t bin_ns;
	uint64_t *seen;      /* ring bitmap, bit (seq % TRAFFIC_SEQ_WINDOW) */
	int64_t *lat;        /* distinct packets, arrival order */
	size_t n_lat;
	size_t cap_lat;
	struct tbin *bins;
	size_t n_bins;
	size_t cap_bins;
	bool any;
	uint64_t max_seq;
	uint64_t end_sent;
	bool end_seen;
	uint64_t duplicates;
	uint64_t out_of_order;
	uint64_t max_reorder_dist;
	uint64_t invalid;
	uint64_t bytes;
	uint64_t first_ns;
	uint64_t last_ns;
};

static void
put_be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
get_be(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

void
traffic_encode(uint8_t *buf, size_t len, const struct traffic_hdr *h)
{
	uint8_t base = (uint8_t)(h->seq * 131u);

	put_be(buf + 0, TRAFFIC_MAGIC, 4);
	buf[4] = TRAFFIC_VERSION;
	buf[5] = h->type;
	put_be(buf + 6, TRAFFIC_HDR_LEN, 2);
	put_be(buf + 8, h->stream_id, 4);
	put_be(buf + 12, 0, 4);
	put_be(buf + 16, h->seq, 8);
	put_be(buf + 24, h->send_ns, 8);
	put_be(buf + 32, h->value, 8);
	for (size_t i = TRAFFIC_HDR_LEN; i < len; i++)
		buf[i] = (uint8_t)(base + i);
}

int
traffic_decode(const uint8_t *buf, size_t len, struct traffic_hdr *h)
{
	uint8_t base;

	if (len < TRAFFIC_HDR_LEN || get_be(buf, 4) != TRAFFIC_MAGIC ||
	    buf[4] != TRAFFIC_VERSION || get_be(buf + 6, 2) != TRAFFIC_HDR_LEN)
		return -EINVAL;
	h->type = buf[5];
	h->stream_id = (uint32_t)get_be(buf + 8, 4);
	h->seq = get_be(buf + 16, 8);
	h->send_ns = get_be(buf + 24, 8);
	h->value = get_be(buf + 32, 8);
	if (h->type == TRAFFIC_TYPE_END)
		return 0;
	if (h->type != TRAFFIC_TYPE_DATA || h->value != len)
		return -EINVAL;
	base = (uint8_t)(h->seq * 131u);
	for (size_t i = TRAFFIC_HDR_LEN; i < len; i++)
		if (buf[i] != (uint8_t)(base + i))
			return -EINVAL;
	return 0;
}

struct tstats *
tstats_create(uint64_t t0_ns, uint64_t bin_ns)
{
	struct tstats *s;

	if (bin_ns == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->seen = calloc(TRAFFIC_SEQ_WINDOW / 64, sizeof(*s->seen));
	if (s->seen == NULL) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->t0_ns = t0_ns;
	s->bin_ns = bin_ns;
	return s;
}

void
tstats_free(struct tstats *s)
{
	if (s == NULL)
		return;
	free(s->seen);
	free(s->lat);
	free(s->bins);
	free(s);
}

static int
grow(void **p, size_t *cap, size_t need, size_t elt)
{
	size_t n = *cap != 0 ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elt);
	if (q == NULL)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Forget the seqs that leave the window when the highest seq moves up to
 * @seq: their ring bits are those of the new seqs (max_seq, seq]. */
static void
seen_advance(struct tstats *s, uint64_t seq)
{
	uint64_t n = seq - s->max_seq;

	if (n >= TRAFFIC_SEQ_WINDOW) {
		memset(s->seen, 0, TRAFFIC_SEQ_WINDOW / 8);
		return;
	}
	for (uint64_t q = s->max_seq + 1; q <= seq; q++) {
		uint64_t i = q % TRAFFIC_SEQ_WINDOW;

		s->seen[i / 64] &= ~(1ull << (i % 64));
	}
}

int
tstats_data(struct tstats *s, uint64_t seq, uint64_t send_ns,
	    uint64_t recv_ns, uint32_t bytes)
{
	uint64_t idx = seq % TRAFFIC_SEQ_WINDOW;
	uint64_t *word = &s->seen[idx / 64];
	uint64_t bit = 1ull << (idx % 64);
	uint64_t bin;

	if (s->any && ((seq > s->max_seq &&
			seq - s->max_seq > TRAFFIC_SEQ_WINDOW) ||
		       (seq <= s->max_seq &&
			s->max_seq - seq >= TRAFFIC_SEQ_WINDOW))) {
		s->invalid++;
		return -ERANGE;
	}
	if (s->any && seq <= s->max_seq && (*word & bit)) {
		s->duplicates++;
		return 0;
	}
	/* Reserve before changing any state so -ENOMEM leaves none. */
	bin = recv_ns > s->t0_ns ? (recv_ns - s->t0_ns) / s->bin_ns : 0;
	if (s->n_bins != 0 && bin < s->n_bins - 1)
		bin = s->n_bins - 1; /* receive times never go back */
	if (grow((void **)&s->lat, &s->cap_lat, s->n_lat + 1,
		 sizeof(*s->lat)) != 0 ||
	    grow((void **)&s->bins, &s->cap_bins, (size_t)bin + 1,
		 sizeof(*s->bins)) != 0)
		return -ENOMEM;
	while (s->n_bins <= bin) {
		struct tbin *b = &s->bins[s->n_bins++];

		b->first = s->n_lat;
		b->pkts = 0;
		b->bytes = 0;
	}
	if (s->any && seq > s->max_seq)
		seen_advance(s, seq);
	*word |= bit;
	if (s->any && seq < s->max_seq) {
		s->out_of_order++;
		if (s->max_seq - seq > s->max_reorder_dist)
			s->max_reorder_dist = s->max_seq - seq;
	}
	if (!s->any || seq > s->max_seq)
		s->max_seq = seq;
	if (!s->any)
		s->first_ns = recv_ns;
	s->any = true;
	s->last_ns = recv_ns;
	s->lat[s->n_lat++] = (int64_t)(recv_ns - send_ns);
	s->bins[s->n_bins - 1].pkts++;
	s->bins[s->n_bins - 1].bytes += bytes;
	s->bytes += bytes;
	return 0;
}

void
tstats_end(struct tstats *s, uint64_t sent)
{
	s->end_seen = true;
	s->end_sent = sent;
}

void
tstats_invalid(struct tstats *s)
{
	s->invalid++;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
tstats_percentile(const int64_t *sorted, size_t n, double q)
{
	uint64_t ppm = (uint64_t)llround(q * 1e6);
	uint64_t rank;

	if (ppm > 1000000)
		ppm = 1000000;
	rank = (ppm * (uint64_t)n + 999999u) / 1000000u;
	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

int
tstats_result(const struct tstats *s, struct tstats_result *r)
{
	int64_t *v;
	double sum = 0;

	memset(r, 0, sizeof(*r));
	r->end_seen = s->end_seen;
	r->received = s->n_lat;
	r->sent = s->end_seen ? s->end_sent : (s->any ? s->max_seq + 1 : 0);
	r->lost = r->sent > r->received ? r->sent - r->received : 0;
	r->loss_pct = r->sent != 0 ? 100.0 * (double)r->lost / (double)r->sent :
				     0.0;
	r->duplicates = s->duplicates;
	r->out_of_order = s->out_of_order;
	r->max_reorder_dist = s->max_reorder_dist;
	r->invalid = s->invalid;
	r->bytes = s->bytes;
	if (s->n_lat == 0)
		return 0;
	r->duration_s = (double)(s->last_ns - s->first_ns) / 1e9;
	if (s->last_ns > s->first_ns)
		r->goodput_kbps = (double)s->bytes * 8.0 /
				  ((double)(s->last_ns - s->first_ns) / 1e9) /
				  1e3;
	v = malloc(s->n_lat * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memcpy(v, s->lat, s->n_lat * sizeof(*v));
	qsort(v, s->n_lat, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < s->n_lat; i++)
		sum += (double)v[i];
	r->lat_mean_ns = sum / (double)s->n_lat;
	r->lat_min_ns = v[0];
	r->lat_p50_ns = tstats_percentile(v, s->n_lat, 0.5);
	r->lat_p99_ns = tstats_percentile(v, s->n_lat, 0.99);
	r->lat_p999_ns = tstats_percentile(v, s->n_lat, 0.999);
	r->lat_max_ns = v[s->n_lat - 1];
	free(v);
	return 0;
}

int
tstats_series_csv(const struct tstats *s, FILE *f)
{
	int64_t *v = NULL;

	if (s->n_lat != 0) {
		v = malloc(s->n_lat * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
	}
	fprintf(f, "# t_s,rx_pkts,rx_bytes,lat_p50_ms,lat_max_ms\n");
	for (size_t b = 0; b < s->n_bins; b++) {
		const struct tbin *bin = &s->bins[b];
		double t = (double)b * (double)s->bin_ns / 1e9;

		if (bin->pkts == 0) {
			fprintf(f, "%.3f,0,0,NaN,NaN\n", t);
			continue;
		}
		memcpy(v, s->lat + bin->first, bin->pkts * sizeof(*v));
		qsort(v, bin->pkts, sizeof(*v), cmp_i64);
		fprintf(f, "%.3f,%" PRIu64 ",%" PRIu64 ",%.3f,%.3f\n", t,
			bin->pkts, bin->bytes,
			(double)tstats_percentile(v, bin->pkts, 0.5) / 1e6,
			(double)v[bin->pkts - 1] / 1e6);
	}
	free(v);
	return ferror(f) ? -EIO : 0;
}
