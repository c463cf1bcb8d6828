/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil watch through a running vigil daemon: the same selection and
 * filter, sent as one subscription; the events it delivers printed as
 * vigil watch prints them.
 */
#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/util.h"
#include "watch_client.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* One line from @fd into @buf (bounded); 1, 0 at EOF, -errno, or
 * -ETIMEDOUT after @timeout_ms (-1: none). */
struct reader {
	char buf[DAEMON_QUEUE_BYTES + 1]; /* the longest line and its newline */
	size_t len;
};

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

/* Drop the line read last from the reader. */
static void consume(struct reader *rd)
{
	char *end = memchr(rd->buf, '\0', rd->len);
	size_t n = end ? (size_t)(end - rd->buf) + 1 : rd->len;

	memmove(rd->buf, rd->buf + n, rd->len - n);
	rd->len -= n;
}

static const char *jstr(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = json_object_get(o, path);
	return json_is_string(o) ? json_string_value(o) : NULL;
}

static long long jint(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* An event as vigil watch's text line; control characters made '?'. */
static void print_text(json_t *e)
{
	const char *type = jstr(e, "evt.type");
	char line[8192], ctr[256] = "";
	size_t n;

	if (type && strcmp(type, "lost") == 0) {
		printf("%s lost    %lld events\n", jstr(e, "evt.time") ? jstr(e, "evt.time") : "-",
		       jint(e, "lost", "total"));
		return;
	}
	if (jstr(e, "container.id") && strcmp(jstr(e, "container.id"), "host") != 0)
		snprintf(ctr, sizeof(ctr), "container=%s:%.12s%s%s%s%s",
			 jstr(e, "container.runtime") ? jstr(e, "container.runtime") : "?",
			 jstr(e, "container.id"), jstr(e, "container.name") ? " name=" : "",
			 jstr(e, "container.name") ? jstr(e, "container.name") : "",
			 jstr(e, "container.image") ? " image=" : "",
			 jstr(e, "container.image") ? jstr(e, "container.image") : "");
	else
		snprintf(ctr, sizeof(ctr), "container=host");
	n = (size_t)snprintf(line, sizeof(line), "%s %-7s pid=%lld ppid=%lld uid=%lld %s %s",
			     jstr(e, "evt.time") ? jstr(e, "evt.time") : "-",
			     type ? type : "?", jint(e, "proc", "pid"), jint(e, "proc", "ppid"),
			     jint(e, "user", "uid"),
			     jstr(e, "proc.name") ? jstr(e, "proc.name") : "?", ctr);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (type && strcmp(type, "exec") == 0) {
		json_t *args = json_object_get(json_object_get(e, "proc"), "args");
		size_t i;
		json_t *a;

		n += (size_t)snprintf(line + n, sizeof(line) - n, " exe=%s args=[",
				      jstr(e, "proc.exe") ? jstr(e, "proc.exe") : "?");
		json_array_foreach(args, i, a) {
			if (n >= sizeof(line))
				break;
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? " " : "",
					      json_string_value(a) ? json_string_value(a) : "");
		}
		if (n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "]");
	} else if (type && strcmp(type, "exit") == 0) {
		snprintf(line + n, sizeof(line) - n, " code=%lld", jint(e, "exit", "code"));
	} else if (type && strcmp(type, "open") == 0) {
		long long raw = jint(e, "evt_result", "rawres");
		char res[64];

		if (raw >= 0)
			snprintf(res, sizeof(res), "%lld", raw);
		else
			snprintf(res, sizeof(res), "%s", jstr(e, "evt_result.res") ?
				 jstr(e, "evt_result.res") : "?");
		snprintf(line + n, sizeof(line) - n, " %s %s = %s",
			 jstr(e, "fd.name") ? jstr(e, "fd.name") : "?",
			 jstr(e, "fd.flags_text") ? jstr(e, "fd.flags_text") : "", res);
	} else if (type && strcmp(type, "fork") == 0) {
		snprintf(line + n, sizeof(line) - n, " child=%lld", jint(e, "child", "pid"));
	} else if (type) {
		snprintf(line + n, sizeof(line) - n, " %s:%lld",
			 jstr(e, "fd.sip") ? jstr(e, "fd.sip") : "?", jint(e, "fd", "sport"));
	}
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	puts(line);
}

int watch_client_run(int fd, const struct watch_client_opts *o)
{
	static struct reader rd;
	json_t *q, *names = json_array(), *r;
	char *line, *s;
	uint64_t printed = 0, start = vg_clock_ns(CLOCK_MONOTONIC);
	int ret = EXIT_OK, n;

	for (size_t i = 0; names && i < o->n_events; i++)
		json_array_append_new(names, json_string(o->events[i]));
	q = json_pack("{s:s,s:o}", "req", "subscribe", "events", names);
	if (!q) {
		close(fd);
		return EXIT_PARTIAL;
	}
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
	if (o->host)
		json_object_set_new(q, "host", json_true());
	s = json_dumps(q, JSON_COMPACT);
	json_decref(q);
	if (!s) {
		close(fd);
		return EXIT_PARTIAL;
	}
	n = vg_send_all(fd, s, strlen(s));
	if (n == 0)
		n = vg_send_all(fd, "\n", 1);
	free(s);
	/* A daemon that refuses a peer says why and closes at once, maybe
	 * before the request is written: its reason is still there to read. */
	if (n < 0 && n != -EPIPE && n != -ECONNRESET) {
		cli_error("writing to the daemon: %s", strerror(-n));
		close(fd);
		return EXIT_PARTIAL;
	}
	n = read_line(fd, &rd, &line, 10000);
	r = n > 0 ? json_loads(line, 0, NULL) : NULL;
	if (!r || !json_is_integer(json_object_get(r, "sub"))) {
		const char *err = r ? json_string_value(json_object_get(r, "error")) : NULL;

		cli_error("the daemon refused the subscription: %s",
			  err ? err : n < 0 ? strerror(-n) : "no answer");
		json_decref(r);
		close(fd);
		return err ? EXIT_USAGE : EXIT_PARTIAL;
	}
	json_decref(r);
	consume(&rd);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "%s: watching through the daemon at %s\n", program_name,
		o->socket);
	while (!stop_signal) {
		uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);

		if (o->duration_ms && now - start >= o->duration_ms * 1000000ull)
			break;
		n = read_line(fd, &rd, &line, 100);
		if (n == -ETIMEDOUT || n == -EINTR) {
			fflush(stdout);
			continue;
		}
		if (n <= 0) {
			if (!stop_signal) {
				cli_error("the daemon went away%s%s", n < 0 ? ": " : "",
					  n < 0 ? strerror(-n) : "");
				ret = EXIT_PARTIAL;
			}
			break;
		}
		bool lost = strstr(line, "\"evt\":{\"type\":\"lost\"") != NULL;

		if (o->mode == VG_OUTPUT_JSON) {
			puts(line);
		} else {
			json_t *e = json_loads(line, 0, NULL);

			if (e)
				print_text(e);
			json_decref(e);
		}
		consume(&rd);
		if (!lost && ++printed >= o->max_count && o->max_count)
			break;
	}
	fflush(stdout);
	fprintf(stderr, "%s: %llu events\n", program_name, (unsigned long long)printed);
	close(fd);
	return ret;
}
