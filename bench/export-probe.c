// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * export-probe — the helpers of bench-export.sh that are not NATS:
 *
 *   export-probe stats SOCKET
 *       a vigil daemon's stats reply, one line of JSON (within 5 s)
 *
 *   export-probe ports N
 *       N TCP ports free on 127.0.0.1 now, on one line
 *
 *   export-probe stamp [--prefix-time] [--after-seq S] [--count N]
 *                      [--idle-ms MS]
 *       reads exported records, one JSON object a line, on stdin, until
 *       EOF, N records or MS without input (default 10000), and says
 *       what arrived: per sensor, every "seq" from the first seen to the
 *       last must be there exactly once (missing and duplicates are
 *       counted; a record of type "lost" takes a seq and its
 *       lost.total is summed); the latency of each record is its receipt
 *       time minus its evt.time (wall clock, microseconds), the receipt
 *       time being when the line was read, or with --prefix-time the
 *       RFC 3339 time that starts the line (rsyslog's timegenerated, the
 *       JSON being the first '{' on). Latency and the rate count the
 *       records of seq > S only (a warm-up left out). Prints one line:
 *         records R events E lost_records L lost_total T sensors K
 *         dups D missing M min_seq A max_seq B p50_us X p99_us Y
 *         max_us Z rate_eps V span_ms W
 *
 *   export-probe feed RECORDING OUT WARM REPS RATE [EVENTS-PER-REP]
 *       writes a recording (vigil watch --record) to OUT, a FIFO that a
 *       daemon replays (--source replay:OUT), as if it were live: the
 *       header's wall clock is this host's now, and each kernel record
 *       is stamped with CLOCK_BOOTTIME (its ktime) and CLOCK_MONOTONIC
 *       (the entry's) when it is written, so that a consumer's latency
 *       is from the moment the record entered the daemon. The replay
 *       reads its file twice (its facts first, then the records): OUT
 *       is written twice, the facts alone and then everything. The
 *       records between the first and the last kernel record are
 *       repeated: WARM times at once, then a pause of 2 s (the daemon
 *       connects its exports), then REPS times at RATE events a second
 *       (0: as fast as the daemon reads), an event being what the
 *       daemon makes of the records: EVENTS-PER-REP of them a
 *       repetition (default: its kernel records but exec argv chunks).
 *       Prints "feed: R records (W warm-up), X s" (X: after the warm-up).
 *
 * Exit status 0, 1 on an error (said on stderr), 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: export-probe stats SOCKET\n"
		"       export-probe ports N\n"
		"       export-probe stamp [--prefix-time] [--after-seq S] [--count N] [--idle-ms MS]\n"
		"       export-probe feed RECORDING OUT WARM REPS RATE [EVENTS-PER-REP]\n");
	exit(2);
}

static long long num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		usage();
	return v;
}

/* ---------------------------------------------------------------- stats */

static int cmd_stats(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[1 << 20];
	const char req[] = "{\"req\":\"stats\"}\n";
	size_t len = 0;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		usage();
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		fprintf(stderr, "export-probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (len < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&p, 1, 5000) <= 0) {
			fprintf(stderr, "export-probe: %s: no answer within 5 s\n", path);
			return 1;
		}
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		nl = memchr(buf, '\n', len);
		if (nl) {
			fwrite(buf, 1, (size_t)(nl - buf) + 1, stdout);
			close(fd);
			return 0;
		}
	}
	fprintf(stderr, "export-probe: %s: no whole answer\n", path);
	return 1;
}

/* ---------------------------------------------------------------- ports */

static int cmd_ports(long long n)
{
	int fds[64];

	if (n < 1 || n > 64)
		usage();
	/* all bound at once, so that no two are the same */
	for (long long i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) < 0) {
			fprintf(stderr, "export-probe: a port on 127.0.0.1: %s\n", strerror(errno));
			return 1;
		}
		printf("%s%u", i ? " " : "", ntohs(sa.sin_port));
	}
	printf("\n");
	for (long long i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/* ---------------------------------------------------------------- stamp */

#define SENSORS_MAX 256

struct sensor {
	char id[64];
	uint8_t *seen;        /* a byte per seq: how many times */
	uint64_t cap, min, max;
};

static struct sensor sensors[SENSORS_MAX];
static size_t n_sensors;

static struct sensor *sensor_of(const char *id, size_t len)
{
	size_t i;

	if (len >= sizeof(sensors[0].id))
		len = sizeof(sensors[0].id) - 1;
	for (i = 0; i < n_sensors; i++)
		if (strlen(sensors[i].id) == len && !memcmp(sensors[i].id, id, len))
			return &sensors[i];
	if (n_sensors == SENSORS_MAX)
		return NULL;
	memcpy(sensors[n_sensors].id, id, len);
	sensors[n_sensors].id[len] = '\0';
	sensors[n_sensors].min = UINT64_MAX;
	return &sensors[n_sensors++];
}

/* "2026-12-07T03:30:08.123456Z" or "...+00:00": ns since the epoch, or
 * -1. */
static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ns = 0, scale = 100000000;
	time_t t;

	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	t = timegm(&tm);
	if (*p == '+' || *p == '-') {
		int h, m;

		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
			return -1;
		t -= (*p == '+' ? 1 : -1) * (h * 3600 + m * 60);
	} else if (*p != 'Z') {
		return -1;
	}
	return (int64_t)t * 1000000000 + ns;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct stamp {
	bool prefix_time;
	uint64_t after_seq, count, idle_ms;
	uint64_t records, events, lost_records, lost_total, bad;
	int64_t *lat;
	size_t n_lat, cap_lat;
	int64_t first_ns, last_ns;
};

static void one_line(struct stamp *st, char *line, int64_t recv_ns)
{
	char *j = line, *p, *q;
	struct sensor *sn;
	uint64_t seq;
	int64_t t;

	if (st->prefix_time) {
		recv_ns = parse_time(line);
		j = strchr(line, '{');
	}
	if (!j || recv_ns < 0 || !(p = strstr(j, "\"sensor\":\"")) ||
	    !(q = strchr(p + 10, '"')) || !(sn = sensor_of(p + 10, (size_t)(q - p - 10))) ||
	    !(p = strstr(q, "\"seq\":"))) {
		st->bad++;
		return;
	}
	seq = strtoull(p + 6, NULL, 10);
	st->records++;
	if (seq >= sn->cap) {
		uint64_t cap = sn->cap ? sn->cap : 65536;
		uint8_t *n;

		while (cap <= seq)
			cap *= 2;
		n = realloc(sn->seen, cap);
		if (!n) {
			st->bad++;
			return;
		}
		memset(n + sn->cap, 0, cap - sn->cap);
		sn->seen = n;
		sn->cap = cap;
	}
	if (sn->seen[seq] < 255)
		sn->seen[seq]++;
	if (seq < sn->min)
		sn->min = seq;
	if (seq > sn->max)
		sn->max = seq;
	if ((p = strstr(j, "\"evt\":{\"type\":\"lost\""))) {
		st->lost_records++;
		if ((p = strstr(p, "\"total\":")))
			st->lost_total += strtoull(p + 8, NULL, 10);
		return;
	}
	st->events++;
	if (seq <= st->after_seq)
		return;
	if (!(p = strstr(j, "\"evt\":{")) || !(p = strstr(p, "\"time\":\"")) ||
	    (t = parse_time(p + 8)) < 0) {
		st->bad++;
		return;
	}
	if (!st->first_ns || recv_ns < st->first_ns)
		st->first_ns = recv_ns;
	if (recv_ns > st->last_ns)
		st->last_ns = recv_ns;
	if (st->n_lat == st->cap_lat) {
		size_t cap = st->cap_lat ? st->cap_lat * 2 : 65536;
		int64_t *n = realloc(st->lat, cap * sizeof(*n));

		if (!n)
			return;
		st->lat = n;
		st->cap_lat = cap;
	}
	st->lat[st->n_lat++] = recv_ns - t;
}

static int cmd_stamp(int argc, char **argv)
{
	struct stamp st = { .idle_ms = 10000 };
	static char buf[4 << 20];
	size_t len = 0;
	uint64_t dups = 0, missing = 0, min_seq = 0, max_seq = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--prefix-time"))
			st.prefix_time = true;
		else if (!strcmp(argv[i], "--after-seq") && i + 1 < argc)
			st.after_seq = (uint64_t)num(argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			st.count = (uint64_t)num(argv[++i]);
		else if (!strcmp(argv[i], "--idle-ms") && i + 1 < argc)
			st.idle_ms = (uint64_t)num(argv[++i]);
		else
			usage();
	}
	while (!st.count || st.records < st.count) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char *start = buf, *nl;
		int64_t now;
		ssize_t n;

		if (poll(&p, 1, (int)st.idle_ms) <= 0)
			break;
		n = read(0, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		now = (int64_t)clock_ns(CLOCK_REALTIME);
		len += (size_t)n;
		while ((nl = memchr(start, '\n', (size_t)(buf + len - start)))) {
			*nl = '\0';
			if (nl > start)
				one_line(&st, start, now);
			start = nl + 1;
		}
		len = (size_t)(buf + len - start);
		memmove(buf, start, len);
		if (len == sizeof(buf) - 1)
			len = 0; /* a line past 4 MiB: not a record */
	}
	for (size_t i = 0; i < n_sensors; i++) {
		struct sensor *sn = &sensors[i];

		for (uint64_t s = sn->min; s <= sn->max && s < sn->cap; s++) {
			if (!sn->seen[s])
				missing++;
			else if (sn->seen[s] > 1)
				dups += sn->seen[s] - 1u;
		}
		if (!min_seq || sn->min < min_seq)
			min_seq = sn->min;
		if (sn->max > max_seq)
			max_seq = sn->max;
		free(sn->seen);
	}
	qsort(st.lat, st.n_lat, sizeof(*st.lat), cmp_i64);
	double span = st.last_ns > st.first_ns ? (double)(st.last_ns - st.first_ns) / 1e9 : 0;
	printf("records %llu events %llu lost_records %llu lost_total %llu sensors %zu "
	       "dups %llu missing %llu min_seq %llu max_seq %llu p50_us %.0f p99_us %.0f "
	       "max_us %.0f rate_eps %.0f span_ms %.0f bad %llu\n",
	       (unsigned long long)st.records, (unsigned long long)st.events,
	       (unsigned long long)st.lost_records, (unsigned long long)st.lost_total,
	       n_sensors, (unsigned long long)dups, (unsigned long long)missing,
	       (unsigned long long)min_seq, (unsigned long long)max_seq,
	       st.n_lat ? (double)st.lat[st.n_lat / 2] / 1e3 : 0.0,
	       st.n_lat ? (double)st.lat[st.n_lat * 99 / 100] / 1e3 : 0.0,
	       st.n_lat ? (double)st.lat[st.n_lat - 1] / 1e3 : 0.0,
	       span > 0 ? (double)st.n_lat / span : 0.0, span * 1e3,
	       (unsigned long long)st.bad);
	free(st.lat);
	return 0;
}

/* ----------------------------------------------------------------- feed */

/* src/source/record.h's layout, which this must follow */
#define REC_HEADER_SIZE_OFF 12
#define REC_BOOT_TO_WALL_OFF 24
#define REC_RING 1
#define REC_INIT_PID 6
#define REC_CLAIM 7
#define EV_EXEC_ARGS 11
#define EV_KTIME_OFF 8

struct entry {
	uint32_t kind, len;
	uint64_t mono;
	unsigned char *body;
};

static int write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One entry into @out, its clocks now when it is a kernel record. */
static void put_entry(unsigned char **out, size_t *len, const struct entry *e)
{
	size_t pad = (8 - e->len % 8) % 8;
	unsigned char *p = *out + *len;
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);

	memcpy(p, &e->kind, 4);
	memcpy(p + 4, &e->len, 4);
	memcpy(p + 8, &mono, 8);
	memcpy(p + 16, e->body, e->len);
	memset(p + 16 + e->len, 0, pad);
	if (e->kind == REC_RING && e->len >= EV_KTIME_OFF + 8) {
		uint64_t kt = clock_ns(CLOCK_BOOTTIME);

		memcpy(p + 16 + EV_KTIME_OFF, &kt, 8);
	}
	*len += 16 + e->len + pad;
}

static bool is_event(const struct entry *e)
{
	uint16_t type;

	if (e->kind != REC_RING || e->len < 2)
		return false;
	memcpy(&type, e->body, 2);
	return type != EV_EXEC_ARGS;
}

static int cmd_feed(const char *in, const char *outp, long long warm, long long reps,
		    long long rate, long long ev_per_rep)
{
	FILE *f = fopen(in, "rb");
	unsigned char *file = NULL, *out;
	struct entry *v = NULL;
	size_t n = 0, cap = 0, size = 0, first = SIZE_MAX, last = 0, olen = 0, ocap;
	uint32_t hsz;
	uint64_t events = 0, warm_events = 0, per_rep = 0, t0, boot2wall;
	int fd;

	if (!f) {
		fprintf(stderr, "export-probe: %s: %s\n", in, strerror(errno));
		return 1;
	}
	for (;;) {
		unsigned char *nf = realloc(file, size + 65536);
		size_t got;

		if (!nf)
			return 1;
		file = nf;
		got = fread(file + size, 1, 65536, f);
		size += got;
		if (got < 65536)
			break;
	}
	fclose(f);
	if (size < 64 || memcmp(file, "VIGILREC", 8)) {
		fprintf(stderr, "export-probe: %s: not a recording\n", in);
		return 1;
	}
	memcpy(&hsz, file + REC_HEADER_SIZE_OFF, 4);
	for (size_t off = hsz; off + 16 <= size;) {
		struct entry e;

		memcpy(&e.kind, file + off, 4);
		memcpy(&e.len, file + off + 4, 4);
		memcpy(&e.mono, file + off + 8, 8);
		if (off + 16 + e.len > size)
			break;
		e.body = file + off + 16;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				return 1;
		}
		if (e.kind == REC_RING) {
			if (first == SIZE_MAX)
				first = n;
			last = n;
		}
		v[n++] = e;
		off += 16 + ((e.len + 7u) & ~7u);
	}
	if (first == SIZE_MAX) {
		fprintf(stderr, "export-probe: %s: no kernel records\n", in);
		return 1;
	}
	for (size_t i = first; i <= last; i++)
		per_rep += is_event(&v[i]);
	/* the k-th event record is due k * ns_per_rec after the start */
	double ns_per_rec = rate ? 1e9 / (double)rate *
				   (ev_per_rep && per_rep ? (double)ev_per_rep / (double)per_rep : 1.0)
				 : 0;
	ocap = size + hsz + 65536;
	out = malloc(ocap);
	if (!out)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	/* the header, with this host's clock */
	boot2wall = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	memcpy(out, file, hsz);
	memcpy(out + REC_BOOT_TO_WALL_OFF, &boot2wall, 8);
	/* the first reading: the facts alone, then the end of the file */
	olen = hsz;
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == REC_INIT_PID || v[i].kind == REC_CLAIM)
			put_entry(&out, &olen, &v[i]);
	fd = open(outp, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, out, olen) < 0)
		goto broken;
	close(fd);
	/* the reader closes at the end it saw and opens again: a writer
	 * that opened before it closed would write to the first reading */
	usleep(500000);
	fd = open(outp, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		goto broken;
	/* the second: everything; what precedes the records first */
	olen = hsz;
	for (size_t i = 0; i < first; i++)
		put_entry(&out, &olen, &v[i]);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (long long r = 0; r < warm + reps; r++) {
		if (r == warm && warm) {
			if (write_all(fd, out, olen) < 0)
				goto broken;
			olen = 0;
			usleep(2000000);
			t0 = clock_ns(CLOCK_MONOTONIC);
		}
		for (size_t i = first; i <= last; i++) {
			if (rate && is_event(&v[i])) {
				/* due at t0 + k / rate: what is written waits no longer */
				uint64_t due = t0 + (uint64_t)((double)(events - warm_events) *
							       ns_per_rec);
				uint64_t now = clock_ns(CLOCK_MONOTONIC);

				if (r >= warm && now < due) {
					if (olen && write_all(fd, out, olen) < 0)
						goto broken;
					olen = 0;
					now = clock_ns(CLOCK_MONOTONIC);
					if (now < due) {
						struct timespec ts = {
							.tv_sec = (time_t)((due - now) / 1000000000ull),
							.tv_nsec = (long)((due - now) % 1000000000ull),
						};
						nanosleep(&ts, NULL);
					}
				}
			}
			if (olen + 16 + v[i].len + 8 > ocap) {
				if (write_all(fd, out, olen) < 0)
					goto broken;
				olen = 0;
			}
			put_entry(&out, &olen, &v[i]);
			if (is_event(&v[i])) {
				events++;
				if (r < warm)
					warm_events++;
			}
			if (!rate && olen >= 16384) {
				if (write_all(fd, out, olen) < 0)
					goto broken;
				olen = 0;
			}
		}
	}
	for (size_t i = last + 1; i < n; i++)
		put_entry(&out, &olen, &v[i]);
	if (olen && write_all(fd, out, olen) < 0)
		goto broken;
	close(fd);
	printf("feed: %llu records (%llu warm-up), %.2f s\n", (unsigned long long)events,
	       (unsigned long long)warm_events,
	       (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	free(out);
	free(v);
	free(file);
	return 0;
broken:
	fprintf(stderr, "export-probe: writing %s: %s\n", outp, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "stats") && argc == 3)
		return cmd_stats(argv[2]);
	if (!strcmp(argv[1], "ports") && argc == 3)
		return cmd_ports(num(argv[2]));
	if (!strcmp(argv[1], "stamp"))
		return cmd_stamp(argc - 2, argv + 2);
	if (!strcmp(argv[1], "feed") && (argc == 7 || argc == 8))
		return cmd_feed(argv[2], argv[3], num(argv[4]), num(argv[5]), num(argv[6]),
				argc == 8 ? num(argv[7]) : 0);
	usage();
}
