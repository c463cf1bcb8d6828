// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nats-floor — the floor column of bench-export.sh: the least a program
 * can do to put records into a JetStream stream the way vigil's nats
 * export does, so that the export's CPU per event has something to be
 * compared with.
 *
 *   nats-floor dump URL SUBJECT N OUT
 *       the first N messages of the stream on SUBJECT (an ordered
 *       consumer from the stream's start) into OUT, one a line:
 *       "<Nats-Msg-Id> <subject> <payload>\n" (vigil's spool lines)
 *
 *   nats-floor mkstream URL REPLICAS
 *       the stream vigil's export makes (VIGIL, subjects vigil.>, file
 *       storage, a duplicate window of 2 minutes), with REPLICAS, made
 *       now when it is not there, so that a reader can subscribe before
 *       any daemon has published
 *
 *   nats-floor pub URL FILE ID-PREFIX MAX-PENDING window|stream
 *       publishes every line of FILE (as dump writes them) with its
 *       subject and payload, as is, and a Nats-Msg-Id of ID-PREFIX-<n>
 *       (a new id, so that the stream's duplicate window keeps them):
 *       js_PublishMsgAsync with at most MAX-PENDING acks in flight, and
 *       an ack handler that counts.
 *         window: MAX-PENDING messages published, then their acks awaited
 *                 (js_PublishAsyncComplete, polled every 50 ms), then
 *                 the next: vigil's export's batches exactly;
 *         stream: published without a pause, libnats holding a publish
 *                 while MAX-PENDING are in flight, the acks awaited at
 *                 the end.
 *       The stream (VIGIL, subjects vigil.>) is made as vigil makes it
 *       when it is not there. The file is read, the connection made and
 *       a tenth of the lines published once (ids ID-PREFIX-w<n>: a
 *       warm-up, as a running daemon's heap and connection are warm)
 *       before the clock starts. Prints
 *         floor: mode M events N acked A errors E cpu_us C wall_us W
 *       C being the process's user + system time (every thread: libnats's
 *       too) from the first publish to the last ack.
 *
 * Exit status 0; 1 on an error (said on stderr); 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <nats/nats.h>

#define STREAM "VIGIL"
#define STREAM_SUBJECTS "vigil.>"
#define DUP_WINDOW_NS (2ll * 60 * 1000000000)
#define ACK_WAIT_MS 2000

struct line {
	char *id, *subj, *data;
	int len;
};

static atomic_ullong acked, errors;

static uint64_t now_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: nats-floor dump URL SUBJECT N OUT\n"
			"       nats-floor mkstream URL REPLICAS\n"
			"       nats-floor pub URL FILE ID-PREFIX MAX-PENDING window|stream\n");
	exit(2);
}

static int fail(const char *what, natsStatus s)
{
	const char *le = nats_GetLastError(NULL);

	fprintf(stderr, "nats-floor: %s: %s%s%s\n", what, natsStatus_GetText(s),
		le ? ": " : "", le ? le : "");
	return 1;
}

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	(void)js, (void)closure;
	if (pa && !pae)
		atomic_fetch_add_explicit(&acked, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
	natsMsg_Destroy(msg);
}

static int connect_js(const char *url, int64_t max_pending, natsConnection **nc,
		      jsCtx **js)
{
	natsOptions *o = NULL;
	jsOptions jo;
	char *copy = strdup(url), *save = NULL;
	const char *urls[16];
	int n = 0;
	natsStatus s = copy ? natsOptions_Create(&o) : NATS_NO_MEMORY;

	/* a comma-separated list, as vigil's URLs */
	for (char *u = copy ? strtok_r(copy, ",", &save) : NULL; u && n < 16;
	     u = strtok_r(NULL, ",", &save))
		urls[n++] = u;
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	natsOptions_Destroy(o);
	free(copy);
	if (s != NATS_OK)
		return fail(url, s);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = max_pending;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.StallWait = ACK_WAIT_MS;
	jo.Wait = ACK_WAIT_MS;
	s = natsConnection_JetStream(js, *nc, &jo);
	return s == NATS_OK ? 0 : fail("jetstream", s);
}

/* ----------------------------------------------------------------- dump */

static int cmd_dump(const char *url, const char *subject, long n, const char *path)
{
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	jsCtx *js = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	FILE *out = fopen(path, "w");
	natsStatus s;
	long got = 0;

	if (!out) {
		fprintf(stderr, "nats-floor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (connect_js(url, 1024, &nc, &js))
		return 1;
	jsSubOptions_Init(&so);
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr);
	if (s != NATS_OK)
		return fail(subject, s);
	while (got < n) {
		natsMsg *m = NULL;
		const char *id = NULL;

		s = natsSubscription_NextMsg(&m, sub, 5000);
		if (s != NATS_OK)
			break;
		if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id) {
			fprintf(out, "%s %s ", id, natsMsg_GetSubject(m));
			fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), out);
			fputc('\n', out);
			got++;
		}
		natsMsg_Destroy(m);
	}
	natsConnection_Destroy(nc);
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	if (fclose(out) != 0 || got < n) {
		fprintf(stderr, "nats-floor: dump: %ld of %ld messages (%s)\n", got, n,
			natsStatus_GetText(s));
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ pub */

static int load(const char *path, const char *prefix, struct line **ret, size_t *ret_n)
{
	FILE *f = fopen(path, "r");
	struct line *v = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	char *l = NULL;
	ssize_t len;

	if (!f) {
		fprintf(stderr, "nats-floor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((len = getline(&l, &lcap, f)) > 0) {
		char *sp1 = memchr(l, ' ', (size_t)len), *sp2;

		if (l[len - 1] == '\n')
			l[--len] = '\0';
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(l + len - sp1 - 1)) : NULL;
		if (!sp2)
			continue;
		*sp2 = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				return 1;
		}
		if (asprintf(&v[n].id, "%s-%zu", prefix, n + 1) < 0 ||
		    !(v[n].subj = strdup(sp1 + 1)) || !(v[n].data = strdup(sp2 + 1)))
			return 1;
		v[n].len = (int)(l + len - sp2 - 1);
		n++;
	}
	free(l);
	fclose(f);
	*ret = v;
	*ret_n = n;
	return n ? 0 : 1;
}

static int ensure_stream(jsCtx *js, int replicas)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	const char *subjs[] = { STREAM_SUBJECTS };
	natsStatus s = js_GetStreamInfo(&si, js, STREAM, NULL, &jerr);

	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	jsStreamConfig_Init(&cfg);
	cfg.Name = STREAM;
	cfg.Subjects = subjs;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Duplicates = DUP_WINDOW_NS;
	cfg.Replicas = replicas;
	s = js_AddStream(&si, js, &cfg, NULL, &jerr);
	if (s != NATS_OK)
		return fail("creating the stream", s);
	jsStreamInfo_Destroy(si);
	return 0;
}

static natsStatus publish(jsCtx *js, const struct line *l)
{
	natsMsg *m = NULL;
	natsStatus s = natsMsg_Create(&m, l->subj, NULL, l->data, l->len);

	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", l->id);
	if (s == NATS_OK)
		s = js_PublishMsgAsync(js, &m, NULL);
	natsMsg_Destroy(m);
	return s;
}

/* Until every publish so far is acked, as vigil's export waits: 50 ms
 * at a time, ACK_WAIT_MS at most. */
static int complete(jsCtx *js)
{
	uint64_t deadline = now_us(CLOCK_MONOTONIC) + ACK_WAIT_MS * 1000u;

	for (;;) {
		jsPubOptions po;
		natsStatus s;

		jsPubOptions_Init(&po);
		po.MaxWait = 50;
		s = js_PublishAsyncComplete(js, &po);
		if (s == NATS_OK)
			return 0;
		if (now_us(CLOCK_MONOTONIC) >= deadline)
			return fail("awaiting acks", s);
	}
}

/* @v[0..@n) published in @mode's way; 0 or 1 (said) */
static int pub_all(jsCtx *js, const struct line *v, size_t n, bool window,
		   long max_pending)
{
	int r = 0;

	for (size_t i = 0; i < n && !r; i++) {
		natsStatus s = publish(js, &v[i]);

		/* stream: a publish held past StallWait is tried again */
		while (s == NATS_TIMEOUT && !window)
			s = publish(js, &v[i]);
		if (s != NATS_OK)
			r = fail("publish", s);
		else if (window && ((i + 1) % (size_t)max_pending == 0 || i + 1 == n))
			r = complete(js);
	}
	if (!r && !window)
		r = complete(js);
	return r;
}

static int cmd_pub(const char *url, const char *path, const char *prefix,
		   long max_pending, const char *mode)
{
	bool window = !strcmp(mode, "window");
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	struct line *v = NULL, *w = NULL;
	size_t n = 0, nw;
	uint64_t c0, w0, c1, w1, warm_acked;
	int r = 0;

	if (!window && strcmp(mode, "stream"))
		usage();
	if (load(path, prefix, &v, &n)) {
		fprintf(stderr, "nats-floor: %s: no records\n", path);
		return 1;
	}
	if (connect_js(url, max_pending, &nc, &js) || ensure_stream(js, 1))
		return 1;
	/* the warm-up: the first tenth, with ids of its own */
	nw = n / 10 ? n / 10 : 1;
	w = calloc(nw, sizeof(*w));
	for (size_t i = 0; w && i < nw; i++) {
		w[i] = v[i];
		if (asprintf(&w[i].id, "%s-w%zu", prefix, i + 1) < 0)
			return 1;
	}
	if (!w || pub_all(js, w, nw, window, max_pending))
		return 1;
	warm_acked = atomic_load(&acked);
	c0 = cpu_us();
	w0 = now_us(CLOCK_MONOTONIC);
	r = pub_all(js, v, n, window, max_pending);
	c1 = cpu_us();
	w1 = now_us(CLOCK_MONOTONIC);
	printf("floor: mode %s events %zu acked %llu errors %llu cpu_us %llu wall_us %llu\n",
	       mode, n, (unsigned long long)(atomic_load(&acked) - warm_acked),
	       (unsigned long long)atomic_load(&errors), (unsigned long long)(c1 - c0),
	       (unsigned long long)(w1 - w0));
	natsConnection_Destroy(nc);
	jsCtx_Destroy(js);
	for (size_t i = 0; i < nw; i++)
		free(w[i].id);
	free(w);
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].subj);
		free(v[i].data);
	}
	free(v);
	return r;
}

int main(int argc, char **argv)
{
	char *end;
	long n;
	int r;

	if (argc < 2)
		usage();
	if (nats_Open(-1) != NATS_OK) {
		fprintf(stderr, "nats-floor: the library did not start\n");
		return 1;
	}
	if (!strcmp(argv[1], "dump") && argc == 6) {
		n = strtol(argv[4], &end, 10);
		if (*end || n < 1)
			usage();
		r = cmd_dump(argv[2], argv[3], n, argv[5]);
	} else if (!strcmp(argv[1], "mkstream") && argc == 4) {
		natsConnection *nc = NULL;
		jsCtx *js = NULL;

		n = strtol(argv[3], &end, 10);
		if (*end || n < 1 || n > 5)
			usage();
		r = connect_js(argv[2], 1024, &nc, &js) || ensure_stream(js, (int)n);
		natsConnection_Destroy(nc);
		jsCtx_Destroy(js);
	} else if (!strcmp(argv[1], "pub") && argc == 7) {
		n = strtol(argv[5], &end, 10);
		if (*end || n < 1 || n > 65536)
			usage();
		r = cmd_pub(argv[2], argv[3], argv[4], n, argv[6]);
	} else {
		usage();
	}
	nats_Close();
	return r;
}
