/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil watch through a running vigil daemon: the same selection, path
 * and filter, sent as one subscription in the form asked for; the daemon
 * renders each event with the same renderer as vigil watch embedded, so
 * the lines are printed as they come.
 */
#include "daemon/client.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/daemon.h"
#include "render/escape.h"

/* One line from the daemon, bounded by the longest it sends. */
struct reader {
	char buf[VG_DAEMON_QUEUE_MAX + 1];
	size_t len;
};

/* 1 and the line in *@ret, 0 at EOF, -ETIMEDOUT after @timeout_ms, or
 * -errno. */
static int read_line(int fd, struct reader *rd, char **ret, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(rd->buf, '\n', rd->len);

		if (nl) {
			*nl = '\0';
			*ret = rd->buf;
			return 1;
		}
		if (rd->len == sizeof(rd->buf))
			return -EMSGSIZE;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, timeout_ms);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		ssize_t got = read(fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len);

		if (got < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (got == 0)
			return 0;
		rd->len += (size_t)got;
	}
}

/* Drop the line read last. */
static void consume(struct reader *rd)
{
	char *end = memchr(rd->buf, '\0', rd->len);
	size_t n = end ? (size_t)(end - rd->buf) + 1 : rd->len;

	memmove(rd->buf, rd->buf + n, rd->len - n);
	rd->len -= n;
}

static json_t *request(const struct vg_watch_client_opts *o)
{
	json_t *q, *names = json_array();

	for (size_t i = 0; names && i < o->n_events; i++)
		json_array_append_new(names, json_string(o->events[i]));
	q = json_pack("{s:s,s:o,s:s}", "req", "subscribe", "events", names, "format",
		      o->mode == VG_OUTPUT_TEXT ? "text" : "json");
	if (!q)
		return NULL;
	if (o->filter)
		json_object_set_new(q, "filter", json_string(o->filter));
	if (o->n_refs) {
		json_t *a = json_array();

		for (size_t i = 0; a && i < o->n_refs; i++)
			json_array_append_new(a, json_string(o->refs[i]));
		json_object_set_new(q, "containers", a);
	}
	if (o->image)
		json_object_set_new(q, "image", json_string(o->image));
	if (o->pod)
		json_object_set_new(q, "pod", json_string(o->pod));
	if (o->path)
		json_object_set_new(q, "path", json_string(o->path));
	if (o->host)
		json_object_set_new(q, "host", json_true());
	return q;
}

/* Whether a text line is a "lost" record: TIME, then the word "lost" as
 * its type (a value a process controls can hold " lost " too, but never
 * in that place). */
static bool text_lost(const char *line)
{
	const char *sp = strchr(line, ' ');

	return sp && strncmp(sp + 1, "lost ", 5) == 0;
}

int vg_watch_client_run(int fd, const struct vg_watch_client_opts *o,
			uint64_t *ret_printed, char *err, size_t errsz)
{
	static struct reader rd;
	json_t *q = request(o), *r;
	char *line, *s;
	uint64_t printed = 0, start = vg_clock_ns(CLOCK_MONOTONIC);
	int ret = 0, n;

	*ret_printed = 0;
	rd.len = 0;
	s = q ? json_dumps(q, JSON_COMPACT) : NULL;
	json_decref(q);
	if (!s) {
		close(fd);
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	n = vg_send_all(fd, s, strlen(s));
	if (n == 0)
		n = vg_send_all(fd, "\n", 1);
	free(s);
	/* A daemon that refuses a peer says why and closes at once, maybe
	 * before the request is written: its reason is still there to read. */
	if (n < 0 && n != -EPIPE && n != -ECONNRESET) {
		vg_set_err(err, errsz, "writing to the daemon: %s", strerror(-n));
		close(fd);
		return n;
	}
	n = read_line(fd, &rd, &line, 10000);
	r = n > 0 ? json_loads(line, 0, NULL) : NULL;
	if (!r || !json_is_integer(json_object_get(r, "sub"))) {
		const char *why = r ? json_string_value(json_object_get(r, "error")) : NULL;
		char why_esc[512];

		/* it may quote the filter or a name back: one line, escaped */
		if (why)
			why = vg_text_escape_buf(why_esc, sizeof(why_esc), why);
		vg_set_err(err, errsz, "the daemon refused the subscription: %s",
			   why ? why : n < 0 ? strerror(-n) : "no answer");
		json_decref(r);
		close(fd);
		return why ? -EPERM : -EIO;
	}
	json_decref(r);
	consume(&rd);
	if (o->subscribed)
		o->subscribed(o->ctx);
	while (!*o->stop) {
		uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);
		bool lost;

		if (o->duration_ms && now - start >= o->duration_ms * 1000000ull)
			break;
		n = read_line(fd, &rd, &line, 100);
		if (n == -ETIMEDOUT || n == -EINTR) {
			fflush(stdout);
			continue;
		}
		if (n <= 0) {
			if (!*o->stop) {
				vg_set_err(err, errsz, "the daemon went away%s%s",
					   n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
				ret = n < 0 ? n : -EPIPE;
			}
			break;
		}
		lost = o->mode == VG_OUTPUT_TEXT ? text_lost(line)
			       : strstr(line, "\"evt\":{\"type\":\"lost\"") != NULL;
		puts(line);
		consume(&rd);
		if (!lost && ++printed >= o->max_count && o->max_count)
			break;
	}
	fflush(stdout);
	close(fd);
	*ret_printed = printed;
	return ret;
}
