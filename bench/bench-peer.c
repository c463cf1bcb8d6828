// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-peer — the cost of knowing who connected, side by side in one run.
 *
 *   bench-peer [ROUNDS=5] [CONNECTIONS=2000]
 *
 * A server thread answers each connection with one line and closes it:
 *   bare:  accept, SO_PEERCRED, write {"pid":..,"uid":..,"gid":..}
 *   vigil: accept, vigil_peer_identify() (pidfd, /proc facts, cgroup,
 *          container and pod, liveness re-check), the identity as JSON,
 *          write it
 * The client measures each connection from connect() to the server's
 * EOF. Rounds alternate bare and vigil; the vigil cache is warmed first.
 * Reported: p50 and p99 of each, and the median over rounds of the
 * per-round ratios vigil/bare. Target: p50 ratio at most 3.
 *
 * Prints "RESULT name value target PASS|MISS" lines for run.sh.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"

enum mode { MODE_BARE, MODE_VIGIL, MODE_STOP };

struct server {
	int lfd;
	enum mode mode; /* set by the client between rounds */
	struct vigil_ctx *ctx;
	unsigned long failures;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);

		if (fd < 0)
			continue;
		enum mode m = __atomic_load_n(&s->mode, __ATOMIC_ACQUIRE);

		if (m == MODE_STOP) {
			close(fd);
			return NULL;
		}
		if (m == MODE_BARE) {
			struct ucred uc;
			socklen_t len = sizeof(uc);
			char line[128];
			int n;

			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
				s->failures++;
			n = snprintf(line, sizeof(line),
				     "{\"pid\":%d,\"uid\":%u,\"gid\":%u}\n",
				     (int)uc.pid, uc.uid, uc.gid);
			write_all(fd, line, (size_t)n);
		} else {
			struct vigil_identity *id = NULL;
			char *json = NULL;

			if (vigil_peer_identify(fd, s->ctx, 0, &id) < 0 ||
			    vigil_identity_status(id) != VIGIL_OK ||
			    !(json = vigil_identity_to_json(id))) {
				s->failures++;
			} else {
				write_all(fd, json, strlen(json));
				write_all(fd, "\n", 1);
			}
			free(json);
			vigil_identity_free(id);
		}
		close(fd);
	}
}

/* One connection, connect to EOF, in µs; < 0 on failure. */
static double one(const struct sockaddr_un *sa)
{
	char buf[65536];
	double t0 = now_us();
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n, got = 0;

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += n;
	close(fd);
	return got > 0 ? now_us() - t0 : -1;
}

static void run_round(struct server *s, const struct sockaddr_un *sa,
		      enum mode m, int conns, double *lat, double *ret_p50,
		      double *ret_p99, int *ret_failed)
{
	int k = 0;

	__atomic_store_n(&s->mode, m, __ATOMIC_RELEASE);
	for (int i = 0; i < conns; i++) {
		double t = one(sa);

		if (t < 0)
			(*ret_failed)++;
		else
			lat[k++] = t;
	}
	qsort(lat, (size_t)k, sizeof(double), cmp_double);
	*ret_p50 = k ? lat[k / 2] : 0;
	*ret_p99 = k ? lat[(size_t)((double)k * 0.99)] : 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	int conns = argc > 2 ? atoi(argv[2]) : 2000;
	char dir[] = "/tmp/vigil-bench-peer-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server s = { .mode = MODE_VIGIL };
	pthread_t t;
	int failed = 0;

	if (rounds < 3 || rounds > 32 || conns < 100 || conns > 1000000) {
		fprintf(stderr, "usage: bench-peer [ROUNDS 3-32] [CONNECTIONS 100-1000000]\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s.lfd, 128) < 0) {
		perror("listen");
		return 1;
	}
	if (vigil_ctx_new("/", &s.ctx) < 0) {
		fprintf(stderr, "bench-peer: no vigil context\n");
		return 1;
	}
	if (pthread_create(&t, NULL, server_main, &s)) {
		fprintf(stderr, "bench-peer: no thread\n");
		return 1;
	}

	double *lat = calloc((size_t)conns, sizeof(double));
	double p50r[32], p99r[32], bp50[32], bp99[32], vp50[32], vp99[32];

	if (!lat)
		return 1;
	/* warm: the vigil context's caches, and both code paths */
	double w50, w99;

	run_round(&s, &sa, MODE_VIGIL, 200, lat, &w50, &w99, &failed);
	run_round(&s, &sa, MODE_BARE, 200, lat, &w50, &w99, &failed);
	for (int r = 0; r < rounds; r++) {
		/* alternate which goes first */
		if (r % 2 == 0) {
			run_round(&s, &sa, MODE_BARE, conns, lat, &bp50[r], &bp99[r], &failed);
			run_round(&s, &sa, MODE_VIGIL, conns, lat, &vp50[r], &vp99[r], &failed);
		} else {
			run_round(&s, &sa, MODE_VIGIL, conns, lat, &vp50[r], &vp99[r], &failed);
			run_round(&s, &sa, MODE_BARE, conns, lat, &bp50[r], &bp99[r], &failed);
		}
		p50r[r] = vp50[r] / bp50[r];
		p99r[r] = vp99[r] / bp99[r];
	}
	__atomic_store_n(&s.mode, MODE_STOP, __ATOMIC_RELEASE);
	one(&sa);
	pthread_join(t, NULL);

	qsort(p50r, (size_t)rounds, sizeof(double), cmp_double);
	qsort(p99r, (size_t)rounds, sizeof(double), cmp_double);
	qsort(bp50, (size_t)rounds, sizeof(double), cmp_double);
	qsort(bp99, (size_t)rounds, sizeof(double), cmp_double);
	qsort(vp50, (size_t)rounds, sizeof(double), cmp_double);
	qsort(vp99, (size_t)rounds, sizeof(double), cmp_double);
	int m = rounds / 2;

	printf("peer identity per connection, warm cache (%d connections x %d rounds, connect to EOF)\n",
	       conns, rounds);
	printf("  bare accept + SO_PEERCRED: p50 %.1f us, p99 %.1f us\n", bp50[m], bp99[m]);
	printf("  vigil_peer_identify:       p50 %.1f us, p99 %.1f us\n", vp50[m], vp99[m]);
	printf("  ratio vigil/bare: p50 %.2f (min %.2f, max %.2f), p99 %.2f\n",
	       p50r[m], p50r[0], p50r[rounds - 1], p99r[m]);
	printf("  failed connections: %d, failed identifications: %lu\n", failed,
	       s.failures);
	printf("RESULT peer_identity_p50_ratio %.2f 3.00 %s\n", p50r[m],
	       p50r[m] <= 3.0 ? "PASS" : "MISS");
	printf("RESULT peer_identity_p99_ratio %.2f 3.00 %s\n", p99r[m],
	       p99r[m] <= 3.0 ? "PASS" : "MISS");

	free(lat);
	vigil_ctx_free(s.ctx);
	close(s.lfd);
	unlink(sa.sun_path);
	rmdir(dir);
	return failed || s.failures ? 1 : 0;
}
