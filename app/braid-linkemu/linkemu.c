/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * braid-linkemu: WAN link emulator for braid's testbed (the kernel there has
 * no netem). Bridges pairs of interfaces with raw AF_PACKET sockets and
 * applies, per direction, the impairments of emu_model.c. Event driven:
 * epoll over the sockets, one timerfd armed at the earliest release time,
 * one signalfd; it sleeps whenever nothing is due.
 *
 *   braid-linkemu --profile FILE [--stats-file FILE] [--duration S]
 *                 [--seed N] [--pool N] [--ready-file FILE] [--check]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>

#include <jansson.h>

#include "emu_model.h"
#include "emu_profile.h"

#define EMU_BATCH 32u
#define EMU_RX_ROUNDS 4u
#define EMU_DEFAULT_POOL 8192u
#define EMU_SOCKBUF (4 * 1024 * 1024)
#define EV_TIMER 0xFFFF0001ull
#define EV_SIGNAL 0xFFFF0002ull
#define JSON_OUT_FLAGS \
	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* One frame in flight: the virtio header seen on RX, then the frame. */
struct pkt {
	struct virtio_net_hdr vh;
	uint32_t len;
	uint32_t idx;
	uint8_t data[];
};

struct pool {
	uint8_t *mem;
	size_t slot_sz;
	uint32_t data_cap;
	uint32_t n;
	uint32_t n_free;
	uint32_t *free_idx;
};

struct port {
	int fd;
	int ifindex;
	uint32_t mtu;
	const char *name;
};

struct link {
	const struct emu_link_conf *conf;
	struct port port[2];       /* [0] side a, [1] side b */
	struct emu_dir *dir[2];    /* [EMU_A_TO_B] rx on a, tx on b */
	struct emu_pq *q[2];
	struct emu_nat nat;        /* in front of side a (conf->nat.on) */
};

struct emu {
	struct emu_profile prof;
	unsigned int n_links;
	struct link links[EMU_MAX_LINKS];
	struct pool pool;
	struct pkt *scratch;       /* receives frames when the pool is empty */
	int ep;
	int tfd;
	int sfd;
	uint64_t start_ns;
	uint64_t end_ns;           /* 0: run until a signal */
	uint64_t armed_ns;         /* timerfd target, UINT64_MAX: disarmed */
	const char *stats_file;
	bool stop;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pkt *
pool_slot(struct pool *p, uint32_t idx)
{
	return (struct pkt *)(p->mem + (size_t)idx * p->slot_sz);
}

static struct pkt *
pool_get(struct pool *p)
{
	if (p->n_free == 0)
		return NULL;
	return pool_slot(p, p->free_idx[--p->n_free]);
}

static void
pool_put(struct pool *p, struct pkt *k)
{
	p->free_idx[p->n_free++] = k->idx;
}

static int
pool_init(struct pool *p, uint32_t n, uint32_t data_cap)
{
	p->data_cap = data_cap;
	p->slot_sz = (offsetof(struct pkt, data) + data_cap + 63u) & ~(size_t)63;
	p->mem = aligned_alloc(64, p->slot_sz * n);
	p->free_idx = calloc(n, sizeof(*p->free_idx));
	if (p->mem == NULL || p->free_idx == NULL)
		return -ENOMEM;
	p->n = n;
	for (uint32_t i = 0; i < n; i++) {
		pool_slot(p, i)->idx = i;
		p->free_idx[i] = n - 1 - i;
	}
	p->n_free = n;
	return 0;
}

/* Finish a CHECKSUM_PARTIAL frame the way skb_checksum_help() does: the
 * field holds the pseudo-header sum; fold everything from csum_start. */
static bool
csum_complete(uint8_t *d, uint32_t len, uint32_t start, uint32_t off)
{
	uint32_t sum = 0, i;
	uint16_t c;

	if (start + off + 2 > len)
		return false;
	for (i = start; i + 1 < len; i += 2)
		sum += ((uint32_t)d[i] << 8) | d[i + 1];
	if (i < len)
		sum += (uint32_t)d[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	c = (uint16_t)~sum;
	if (c == 0)
		c = 0xFFFF;
	d[start + off] = (uint8_t)(c >> 8);
	d[start + off + 1] = (uint8_t)c;
	return true;
}

/* Make the frame valid on any receiver; returns wire segments it stands for. */
static uint32_t
prepare_frame(struct pkt *k)
{
	struct virtio_net_hdr *vh = &k->vh;
	uint16_t gso_size = le16toh(vh->gso_size);
	uint16_t hdr_len = le16toh(vh->hdr_len);

	if ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) {
		/* GSO frame: pass the header through; the egress segments it. */
		if (gso_size == 0 || hdr_len >= k->len)
			return 1;
		return (k->len - hdr_len + gso_size - 1u) / gso_size;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		csum_complete(k->data, k->len, le16toh(vh->csum_start),
			      le16toh(vh->csum_offset));
	memset(vh, 0, sizeof(*vh));
	return 1;
}

static int
port_open(struct port *pt, const char *name)
{
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	struct ifreq ifr;
	int one = 1, buf = EMU_SOCKBUF;
	int fd, rc;

	pt->name = name;
	pt->fd = -1;
	pt->ifindex = (int)if_nametoindex(name);
	if (pt->ifindex == 0) {
		rc = -errno;
		fprintf(stderr, "braid-linkemu: interface %s: %s\n", name,
			strerror(errno));
		return rc;
	}
	/* Protocol 0 until bound: nothing is queued from other interfaces. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	pt->fd = fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		goto err;
	/* Frames we send must not come back on this socket; the pkttype
	 * check in rx_port() covers kernels without this option. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = pt->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err;
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = pt->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		goto err;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		goto err;
	pt->mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		fprintf(stderr, "braid-linkemu: warning: %s is down\n", name);
	return 0;
err:
	rc = -errno;
	fprintf(stderr, "braid-linkemu: %s: %s\n", name, strerror(errno));
	return rc;
}

/* Queue one copy; the pool bounds the queues so a push cannot fail. */
static void
enqueue(struct emu *e, struct link *l, unsigned int d, struct pkt *k,
	uint64_t t_ns)
{
	if (emu_pq_push(l->q[d], t_ns, k) != 0) {
		emu_dir_counters(l->dir[d])->drop_nobuf++;
		pool_put(&e->pool, k);
	}
}

static void
rx_port(struct emu *e, struct link *l, unsigned int side)
{
	unsigned int d = side; /* frames received on side a go a -> b */
	struct emu_dir_counters *cnt = emu_dir_counters(l->dir[d]);
	struct mmsghdr msgs[EMU_BATCH];
	struct iovec iov[EMU_BATCH][2];
	struct sockaddr_ll sll[EMU_BATCH];
	struct pkt *slots[EMU_BATCH];
	int fd = l->port[side].fd;

	for (unsigned int round = 0; round < EMU_RX_ROUNDS; round++) {
		unsigned int n = 0;
		uint64_t now;
		int r;

		while (n < EMU_BATCH && (slots[n] = pool_get(&e->pool)) != NULL)
			n++;
		if (n == 0) {
			/* Pool empty: read into scratch and count, so the
			 * socket drains and epoll does not spin. */
			struct sockaddr_ll a;
			socklen_t al = sizeof(a);
			ssize_t got = recvfrom(fd, e->scratch->data,
					       e->pool.data_cap, MSG_DONTWAIT,
					       (struct sockaddr *)&a, &al);

			if (got < 0)
				return;
			if (a.sll_pkttype != PACKET_OUTGOING) {
				cnt->rx++;
				cnt->drop_nobuf++;
			}
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			iov[i][0].iov_base = &slots[i]->vh;
			iov[i][0].iov_len = sizeof(slots[i]->vh);
			iov[i][1].iov_base = slots[i]->data;
			iov[i][1].iov_len = e->pool.data_cap;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = iov[i];
			msgs[i].msg_hdr.msg_iovlen = 2;
			msgs[i].msg_hdr.msg_name = &sll[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(sll[i]);
		}
		r = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
		now = mono_ns();
		for (int i = 0; i < r; i++) {
			struct pkt *k = slots[i];
			struct emu_verdict v;
			uint32_t segs;

			slots[i] = NULL;
			if (sll[i].sll_pkttype == PACKET_OUTGOING) {
				pool_put(&e->pool, k);
				continue;
			}
			if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    msgs[i].msg_len < sizeof(k->vh) + ETH_HLEN) {
				cnt->rx++;
				cnt->drop_oversize++;
				pool_put(&e->pool, k);
				continue;
			}
			k->len = msgs[i].msg_len - (uint32_t)sizeof(k->vh);
			segs = prepare_frame(k);
			if (!emu_nat_frame(&l->nat, d == EMU_A_TO_B, k->data, k->len, now)) {
				cnt->rx++;
				cnt->drop_nat++;
				pool_put(&e->pool, k);
				continue;
			}
			emu_dir_admit(l->dir[d], now, k->len, segs, &v);
			if (v.n == 0) {
				pool_put(&e->pool, k);
				continue;
			}
			if (v.n == 2) {
				struct pkt *c = pool_get(&e->pool);

				if (c == NULL) {
					cnt->drop_nobuf++;
				} else {
					c->vh = k->vh;
					c->len = k->len;
					memcpy(c->data, k->data, k->len);
					enqueue(e, l, d, c, v.release_ns[1]);
				}
			}
			enqueue(e, l, d, k, v.release_ns[0]);
		}
		for (unsigned int i = r > 0 ? (unsigned int)r : 0; i < n; i++)
			pool_put(&e->pool, slots[i]);
		if (r < (int)n)
			return;
	}
}

static void
tx_dir(struct emu *e, struct link *l, unsigned int d, uint64_t now)
{
	struct emu_dir_counters *cnt = emu_dir_counters(l->dir[d]);
	int fd = l->port[1 - d].fd;
	struct mmsghdr msgs[EMU_BATCH];
	struct iovec iov[EMU_BATCH][2];
	struct pkt *ks[EMU_BATCH];
	uint64_t t;

	while (emu_pq_peek(l->q[d], &t) && t <= now) {
		unsigned int n = 0, sent = 0;

		while (n < EMU_BATCH && emu_pq_peek(l->q[d], &t) && t <= now) {
			ks[n] = emu_pq_pop(l->q[d], NULL);
			iov[n][0].iov_base = &ks[n]->vh;
			iov[n][0].iov_len = sizeof(ks[n]->vh);
			iov[n][1].iov_base = ks[n]->data;
			iov[n][1].iov_len = ks[n]->len;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = iov[n];
			msgs[n].msg_hdr.msg_iovlen = 2;
			n++;
		}
		while (sent < n) {
			int r = sendmmsg(fd, &msgs[sent], n - sent,
					 MSG_DONTWAIT);

			if (r <= 0) {
				cnt->drop_tx++; /* skip the frame that failed */
				sent++;
				continue;
			}
			for (int i = 0; i < r; i++) {
				cnt->forwarded++;
				cnt->bytes += ks[sent + (unsigned int)i]->len;
			}
			sent += (unsigned int)r;
		}
		for (unsigned int i = 0; i < n; i++)
			pool_put(&e->pool, ks[i]);
	}
}

static void
arm_timer(struct emu *e)
{
	uint64_t next = e->end_ns != 0 ? e->end_ns : UINT64_MAX;
	struct itimerspec its;
	uint64_t t;

	for (unsigned int i = 0; i < e->n_links; i++)
		for (unsigned int d = 0; d < 2; d++)
			if (emu_pq_peek(e->links[i].q[d], &t) && t < next)
				next = t;
	if (next == e->armed_ns)
		return;
	memset(&its, 0, sizeof(its));
	if (next != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
	}
	timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	e->armed_ns = next;
}

/* Add the kernel's socket drops (the read clears the kernel's counter). */
static void
harvest_kernel_drops(struct emu *e)
{
	for (unsigned int i = 0; i < e->n_links; i++) {
		for (unsigned int s = 0; s < 2; s++) {
			struct tpacket_stats st;
			socklen_t len = sizeof(st);

			if (getsockopt(e->links[i].port[s].fd, SOL_PACKET,
				       PACKET_STATISTICS, &st, &len) == 0)
				emu_dir_counters(e->links[i].dir[s])
					->drop_kernel += st.tp_drops;
		}
	}
}

#define EMU_JSON_CNT_(n) \
	json_object_set_new(o, #n, json_integer((json_int_t)c->n));

static json_t *
dir_json(struct link *l, unsigned int d)
{
	const struct emu_dir_counters *c = emu_dir_counters(l->dir[d]);
	json_t *o = json_object();

	EMU_DIR_COUNTERS(EMU_JSON_CNT_)
	json_object_set_new(o, "queued", json_integer(emu_pq_count(l->q[d])));
	return o;
}

static json_t *
stats_json(struct emu *e)
{
	json_t *root = json_object(), *links = json_array();

	harvest_kernel_drops(e);
	json_object_set_new(root, "elapsed_s",
			    json_real((double)(mono_ns() - e->start_ns) / 1e9));
	json_object_set_new(root, "seed", json_integer((json_int_t)e->prof.seed));
	for (unsigned int i = 0; i < e->n_links; i++) {
		struct link *l = &e->links[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(l->conf->name));
		json_object_set_new(o, "a", json_string(l->conf->ifname[0]));
		json_object_set_new(o, "b", json_string(l->conf->ifname[1]));
		json_object_set_new(o, "a_to_b", dir_json(l, EMU_A_TO_B));
		json_object_set_new(o, "b_to_a", dir_json(l, EMU_B_TO_A));
		if (l->conf->nat.on)
			json_object_set_new(o, "nat", json_pack("{s:I, s:I, s:I}",
				"translated_a_to_b", (json_int_t)l->nat.translated[0],
				"translated_b_to_a", (json_int_t)l->nat.translated[1],
				"dropped_stale", (json_int_t)l->nat.dropped_stale));
		json_array_append_new(links, o);
	}
	json_object_set_new(root, "links", links);
	return root;
}

static void
report(struct emu *e)
{
	json_t *j = stats_json(e);
	char tmp[4096];

	json_dumpf(j, stdout, JSON_OUT_FLAGS);
	fputc('\n', stdout);
	fflush(stdout);
	if (e->stats_file != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", e->stats_file);
		if (json_dump_file(j, tmp, JSON_OUT_FLAGS) != 0 ||
		    rename(tmp, e->stats_file) != 0)
			fprintf(stderr, "braid-linkemu: cannot write %s\n",
				e->stats_file);
	}
	json_decref(j);
}

static void
on_signal(struct emu *e)
{
	struct signalfd_siginfo si;

	while (read(e->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			report(e);
		else
			e->stop = true;
	}
}

static int
ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int
setup(struct emu *e, uint32_t pool_n)
{
	uint32_t max_mtu = 1500, cap;
	sigset_t ss;
	int rc;

	e->n_links = e->prof.n_links;
	e->armed_ns = UINT64_MAX;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGUSR1);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	e->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (e->ep < 0 || e->tfd < 0 || e->sfd < 0)
		return -errno;
	for (unsigned int i = 0; i < e->n_links; i++) {
		struct link *l = &e->links[i];

		l->conf = &e->prof.links[i];
		for (unsigned int s = 0; s < 2; s++) {
			rc = port_open(&l->port[s], l->conf->ifname[s]);
			if (rc < 0)
				return rc;
			if (l->port[s].mtu > max_mtu)
				max_mtu = l->port[s].mtu;
		}
	}
	/* Room for the largest frame of any port plus a VLAN tag. */
	cap = max_mtu + ETH_HLEN + 4;
	if (pool_init(&e->pool, pool_n + 1, cap) != 0)
		return -ENOMEM;
	e->scratch = pool_get(&e->pool);
	e->start_ns = mono_ns();
	for (unsigned int i = 0; i < e->n_links; i++) {
		struct link *l = &e->links[i];

		emu_nat_init(&l->nat, &l->conf->nat, e->start_ns);
		for (unsigned int d = 0; d < 2; d++) {
			l->dir[d] = emu_dir_create(&l->conf->dir[d],
				emu_profile_dir_seed(e->prof.seed, i, d),
				e->start_ns);
			l->q[d] = emu_pq_create(pool_n);
			if (l->dir[d] == NULL || l->q[d] == NULL)
				return -ENOMEM;
		}
		for (unsigned int s = 0; s < 2; s++) {
			rc = ep_add(e->ep, l->port[s].fd, ((uint64_t)i << 1) | s);
			if (rc < 0)
				return rc;
		}
	}
	rc = ep_add(e->ep, e->tfd, EV_TIMER);
	if (rc == 0)
		rc = ep_add(e->ep, e->sfd, EV_SIGNAL);
	return rc;
}

static void
run(struct emu *e)
{
	struct epoll_event evs[64];

	while (!e->stop) {
		int n = epoll_wait(e->ep, evs, 64, -1);
		uint64_t now;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "braid-linkemu: epoll_wait: %s\n",
				strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == EV_TIMER) {
				uint64_t exp;
				ssize_t got = read(e->tfd, &exp, sizeof(exp));

				(void)got; /* expirations are not needed */
				e->armed_ns = UINT64_MAX; /* fired: re-arm */
			} else if (tag == EV_SIGNAL) {
				on_signal(e);
			} else {
				rx_port(e, &e->links[tag >> 1],
					(unsigned int)(tag & 1));
			}
		}
		now = mono_ns();
		for (unsigned int i = 0; i < e->n_links; i++)
			for (unsigned int d = 0; d < 2; d++)
				tx_dir(e, &e->links[i], d, now);
		if (e->end_ns != 0 && now >= e->end_ns)
			e->stop = true;
		arm_timer(e);
	}
}

static void
teardown(struct emu *e)
{
	for (unsigned int i = 0; i < e->n_links; i++) {
		struct link *l = &e->links[i];

		for (unsigned int d = 0; d < 2; d++) {
			struct pkt *k;

			while (l->q[d] != NULL &&
			       (k = emu_pq_pop(l->q[d], NULL)) != NULL) {
				emu_dir_counters(l->dir[d])->drop_flush++;
				pool_put(&e->pool, k);
			}
		}
	}
}

static void
cleanup(struct emu *e)
{
	for (unsigned int i = 0; i < e->n_links; i++) {
		struct link *l = &e->links[i];

		for (unsigned int s = 0; s < 2; s++) {
			if (l->port[s].fd >= 0)
				close(l->port[s].fd);
			emu_dir_free(l->dir[s]);
			emu_pq_free(l->q[s]);
		}
	}
	if (e->ep >= 0)
		close(e->ep);
	if (e->tfd >= 0)
		close(e->tfd);
	if (e->sfd >= 0)
		close(e->sfd);
	free(e->pool.mem);
	free(e->pool.free_idx);
}

static void
print_conf(const struct emu_profile *p)
{
	fprintf(stderr, "braid-linkemu: seed %" PRIu64 ", %u link(s)\n",
		p->seed, p->n_links);
	for (unsigned int i = 0; i < p->n_links; i++) {
		const struct emu_link_conf *l = &p->links[i];

		for (unsigned int d = 0; d < 2; d++) {
			const struct emu_dir_conf *c = &l->dir[d];

			fprintf(stderr,
				"  %s %s->%s: rate %.0f kbit/s backlog %.1f ms "
				"delay %.3f ms jitter %.3f ms %s%s loss %.3f%% "
				"ge %s dup %.3f%% outages %u%s\n",
				l->name, l->ifname[d], l->ifname[1 - d],
				(double)c->rate_bps / 1e3,
				(double)c->backlog_ns / 1e6,
				(double)c->delay_ns / 1e6,
				(double)c->jitter_ns / 1e6,
				c->jitter_dist == EMU_JITTER_NORMAL ? "normal" :
								      "uniform",
				c->reorder ? " reorder" : "", c->loss * 100.0,
				c->ge ? "on" : "off", c->dup * 100.0,
				c->n_outages,
				c->flap_up_ns != 0 ? " periodic" : "");
		}
	}
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 ||
	    v > 1e6)
		return -EINVAL;
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: braid-linkemu --profile FILE [options]\n"
		"  --profile FILE     JSON profile (see doc/testing.md)\n"
		"  --stats-file FILE  also write the final counters (JSON) here;\n"
		"                     SIGUSR1 rewrites it and prints them\n"
		"  --duration S       stop after S seconds (default: on SIGINT/SIGTERM)\n"
		"  --seed N           override the profile's seed\n"
		"  --pool N           frames buffered at most (default %u)\n"
		"  --ready-file FILE  create FILE once every socket is bound\n"
		"  --check            validate the profile, print it, exit\n",
		EMU_DEFAULT_POOL);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'S' },
		{ "pool", required_argument, NULL, 'P' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct emu *e;
	const char *profile = NULL, *ready = NULL;
	uint64_t seed = 0, pool_n = EMU_DEFAULT_POOL;
	bool seed_set = false, check = false;
	double duration = 0;
	char err[256];
	int opt, rc;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return 1;
	e->ep = e->tfd = e->sfd = -1;
	for (unsigned int i = 0; i < EMU_MAX_LINKS; i++)
		e->links[i].port[0].fd = e->links[i].port[1].fd = -1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			profile = optarg;
			break;
		case 's':
			e->stats_file = optarg;
			break;
		case 'd':
			if (parse_seconds(optarg, &duration) != 0) {
				fprintf(stderr, "braid-linkemu: --duration: "
					"want seconds in (0, 1e6]\n");
				return 2;
			}
			break;
		case 'S':
			if (parse_u64(optarg, UINT64_MAX, &seed) != 0) {
				fprintf(stderr, "braid-linkemu: --seed: "
					"want an unsigned integer\n");
				return 2;
			}
			seed_set = true;
			break;
		case 'P':
			if (parse_u64(optarg, 1u << 22, &pool_n) != 0 ||
			    pool_n < 64) {
				fprintf(stderr, "braid-linkemu: --pool: "
					"want 64..4194304\n");
				return 2;
			}
			break;
		case 'r':
			ready = optarg;
			break;
		case 'c':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (profile == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	rc = emu_profile_load(profile, &e->prof, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "braid-linkemu: %s\n", err);
		return 2;
	}
	if (seed_set)
		e->prof.seed = seed;
	print_conf(&e->prof);
	if (check) {
		free(e);
		return 0;
	}
	/* Release times are hrtimer deadlines: no 50 us default slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rc = setup(e, (uint32_t)pool_n);
	if (rc != 0) {
		fprintf(stderr, "braid-linkemu: setup failed: %s\n",
			strerror(-rc));
		cleanup(e);
		free(e);
		return 1;
	}
	if (duration > 0)
		e->end_ns = e->start_ns + (uint64_t)llround(duration * 1e9);
	if (ready != NULL) {
		FILE *f = fopen(ready, "w");

		if (f != NULL)
			fclose(f);
		else
			fprintf(stderr, "braid-linkemu: cannot create %s\n",
				ready);
	}
	arm_timer(e);
	run(e);
	teardown(e);
	report(e);
	cleanup(e);
	free(e);
	return 0;
}
