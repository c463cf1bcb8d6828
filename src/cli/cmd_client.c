/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil client: connect to a vigil server and show who it says we are.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "cli.h"
#include "base/util.h"
#include "render/escape.h"

#define CLIENT_DEFAULT_SOCKET "/run/vigil/peer.sock"
#define CLIENT_REPLY_MAX (1024 * 1024)
#define CLIENT_EXIT_UNREACHABLE 3

void cmd_client_help(FILE *f)
{
	fprintf(f,
		"Usage: %s client [--socket PATH] [--timeout MS]\n"
		"\n"
		"Connect to a vigil server and print the identity it saw for this\n"
		"process (\"who am I\"): process, container and pod. With -o json,\n"
		"the server's reply line as it came.\n"
		"\n"
		"  -s, --socket PATH   the server's socket (default " CLIENT_DEFAULT_SOCKET ")\n"
		"  -t, --timeout MS    how long to wait for the answer (default 5000)\n"
		"  -h, --help          help\n"
		"  -o, --output FMT    text (default) or json\n"
		"\n"
		"Exit status: 0 allowed, 1 denied or refused (the server's reason\n"
		"on standard error), 2 usage error, 3 no server or no valid answer.\n",
		program_name);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One line (without its newline), at most CLIENT_REPLY_MAX bytes, within
 * @timeout_ms. Returns the length, or -ETIMEDOUT, -EFBIG, -EBADMSG (EOF
 * before a newline), -errno. */
static ssize_t read_line(int fd, char *buf, size_t bufsz, uint32_t timeout_ms)
{
	uint64_t deadline = mono_ms() + timeout_ms;
	size_t len = 0;

	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (len + 1 >= bufsz)
			return -EFBIG;
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return len ? -EBADMSG : -ECONNRESET;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return nl - buf;
		}
	}
}

/* @n bytes of @s as a value among fields (render/escape.h). Caller
 * frees. */
static char *value_of(const char *s, size_t n)
{
	char *out = malloc(VG_ESC_GROWTH * n + 3);

	if (out)
		out[vg_text_value(out, s, n, 0)] = '\0';
	return out;
}

/*
 * The identity as "key.path  value" lines, scalars only. What the server
 * says comes from the client's process and container (names, paths,
 * labels): a key part is a value among fields (a label key with a space
 * is quoted), a string value alone on its line is escaped, the elements
 * of an array are values; so nothing forges a line or hides text.
 */
static void print_flat(const char *prefix, json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, m) {
			_cleanup_free_ char *kv = value_of(k, strlen(k));
			_cleanup_free_ char *key = NULL;

			if (!kv || asprintf(&key, "%s%s%s", prefix,
					    *prefix ? "." : "", kv) < 0) {
				key = NULL;
				continue;
			}
			print_flat(key, m);
		}
		return;
	case JSON_ARRAY:
		printf("%-28s", prefix);
		json_array_foreach(v, i, m) {
			if (json_is_string(m)) {
				_cleanup_free_ char *e = value_of(
					json_string_value(m), json_string_length(m));

				printf(" %s", e ? e : "?");
			} else if (json_is_integer(m)) {
				printf(" %" JSON_INTEGER_FORMAT, json_integer_value(m));
			}
		}
		putchar('\n');
		return;
	case JSON_STRING: {
		size_t n = json_string_length(v);
		_cleanup_free_ char *e = malloc(VG_ESC_GROWTH * n + 1);

		if (e)
			e[vg_text_escape(e, json_string_value(v), n, false)] = '\0';
		printf("%-28s %s\n", prefix, e ? e : "?");
		return;
	}
	case JSON_INTEGER:
		printf("%-28s %" JSON_INTEGER_FORMAT "\n", prefix,
		       json_integer_value(v));
		return;
	case JSON_REAL:
		printf("%-28s %g\n", prefix, json_real_value(v));
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		printf("%-28s %s\n", prefix, json_is_true(v) ? "true" : "false");
		return;
	case JSON_NULL:
		return;
	}
}

int cmd_client(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = CLIENT_DEFAULT_SOCKET;
	uint32_t timeout_ms = 5000;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	json_error_t jerr;
	json_t *reply, *allowed, *reason, *identity;
	ssize_t n;
	uint64_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 't':
			if (vg_parse_u64(optarg, &v) < 0 || v == 0 || v > 600000)
				return cli_usage_error(
					"client",
					"--timeout takes milliseconds (1-600000), not '%s'",
					optarg);
			timeout_ms = (uint32_t)v;
			break;
		case 'o':
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			cmd_client_help(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s client --help'.\n", program_name);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("client", "unexpected argument '%s'",
				       argv[optind]);

	fd = cli_unix_connect(path);
	if (fd < 0) {
		cli_error("connecting to %s: %s", path, strerror(-fd));
		return CLIENT_EXIT_UNREACHABLE;
	}
	buf = malloc(CLIENT_REPLY_MAX + 1);
	if (!buf) {
		cli_error("%s", strerror(ENOMEM));
		return CLIENT_EXIT_UNREACHABLE;
	}
	n = read_line(fd, buf, CLIENT_REPLY_MAX + 1, timeout_ms);
	if (n < 0) {
		cli_error("reading the answer from %s: %s", path,
			  n == -EFBIG    ? "longer than 1 MiB"
			  : n == -EBADMSG ? "it closed the connection mid-line"
			  : n == -ECONNRESET
				  ? "it closed the connection without answering"
				  : strerror((int)-n));
		return CLIENT_EXIT_UNREACHABLE;
	}
	reply = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	allowed = reply ? json_object_get(reply, "allowed") : NULL;
	if (!reply || !json_is_object(reply) || !json_is_boolean(allowed)) {
		cli_error("%s did not answer as a vigil server does%s%s",
			  path, reply ? "" : ": ", reply ? "" : jerr.text);
		json_decref(reply);
		return CLIENT_EXIT_UNREACHABLE;
	}
	reason = json_object_get(reply, "reason");
	identity = json_object_get(reply, "identity");

	if (cli.output == VG_OUTPUT_JSON) {
		fwrite(buf, 1, (size_t)n, stdout);
		putchar('\n');
	} else {
		if (json_is_object(identity))
			print_flat("", identity);
		printf("%-28s %s\n", "allowed",
		       json_is_true(allowed) ? "true" : "false");
	}
	ret = json_is_true(allowed) ? EXIT_OK : EXIT_PARTIAL;
	if (ret != EXIT_OK) {
		char why[2048];

		cli_error("the server refused: %s",
			  json_is_string(reason)
				  ? vg_text_escape_buf(why, sizeof(why),
						       json_string_value(reason))
				  : "(no reason given)");
	}
	json_decref(reply);
	return ret;
}
