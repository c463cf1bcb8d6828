// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon-sub — a vigil daemon subscriber for bench-daemon.sh, fast enough
 * not to be the bottleneck: subscribes with FILTER, then counts event
 * lines and lost records and samples the kernel-to-subscriber latency
 * (CLOCK_BOOTTIME at receipt minus the newest evt.ktime_ns of each read)
 * until it has N events or hears nothing for 3 s. Prints
 *   events E lost L p50_us X p99_us Y
 *
 *   daemon-sub SOCKET FILTER N READY_FILE
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF (4u << 20)
#define SAMPLES 100000

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[BUF];
	static long long lat[SAMPLES];
	size_t len = 0, nlat = 0;
	long long got = 0, lost = 0, want;
	int fd, replied = 0;
	FILE *f;

	if (argc != 5) {
		fprintf(stderr, "usage: daemon-sub SOCKET FILTER N READY_FILE\n");
		return 2;
	}
	want = atoll(argv[3]);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	dprintf(fd, "{\"req\":\"subscribe\",\"filter\":\"%s\"}\n", argv[2]);
	f = fopen(argv[4], "w");
	if (f)
		fclose(f);
	while (got + lost < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec ts;
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			break;
		n = read(fd, buf + len, BUF - len);
		if (n <= 0)
			break;
		clock_gettime(CLOCK_BOOTTIME, &ts);
		len += (size_t)n;
		char *start = buf, *nl, *last = NULL;

		while ((nl = memchr(start, '\n', (size_t)(buf + len - start)))) {
			*nl = '\0';
			if (!replied) {
				replied = 1;
			} else if (strstr(start, "\"type\":\"lost\"")) {
				char *t = strstr(start, "\"total\":");

				lost += t ? atoll(t + 8) : 0;
			} else {
				got++;
				last = start;
			}
			start = nl + 1;
		}
		if (last && nlat < SAMPLES) {
			char *k = strstr(last, "\"ktime_ns\":");

			if (k)
				lat[nlat++] = ts.tv_sec * 1000000000ll + ts.tv_nsec - atoll(k + 11);
		}
		len = (size_t)(buf + len - start);
		memmove(buf, start, len);
	}
	qsort(lat, nlat, sizeof(lat[0]), cmp);
	printf("events %lld lost %lld p50_us %.1f p99_us %.1f\n", got, lost,
	       nlat ? lat[nlat / 2] / 1e3 : 0.0,
	       nlat ? lat[nlat * 99 / 100] / 1e3 : 0.0);
	return 0;
}
