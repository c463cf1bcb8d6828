/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's and server's own messages: see log.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "render/escape.h"

#define LOG_LINE_MAX 4096

/* read by every thread that logs, changed by the one that reloads */
static _Atomic int log_level = CLI_LOG_INFO;
static _Atomic int log_format = CLI_LOG_TEXT;
static const char *_Atomic log_cmd;

static const char *const level_names[] = {
	[CLI_LOG_ERROR] = "error",
	[CLI_LOG_WARNING] = "warning",
	[CLI_LOG_INFO] = "info",
	[CLI_LOG_DEBUG] = "debug",
};

const char *cli_log_level_name(enum cli_log_level l)
{
	return (unsigned)l < 4 ? level_names[l] : "?";
}

int cli_log_level_arg(const char *cmd, const char *arg, enum cli_log_level *ret)
{
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(arg, level_names[i]) == 0) {
			*ret = (enum cli_log_level)i;
			return 0;
		}
	return cli_usage_error(cmd, "--log-level takes error, warning, info or "
			       "debug, not '%s'", arg);
}

int cli_log_format_arg(const char *cmd, const char *arg, enum cli_log_format *ret)
{
	if (strcmp(arg, "text") == 0)
		*ret = CLI_LOG_TEXT;
	else if (strcmp(arg, "json") == 0)
		*ret = CLI_LOG_JSON;
	else
		return cli_usage_error(cmd, "--log-format takes 'text' or 'json', "
				       "not '%s'", arg);
	return 0;
}

void cli_log_start(const char *cmd, const struct cli_log_conf *c)
{
	atomic_store(&log_level, (int)c->level);
	atomic_store(&log_format, (int)c->format);
	atomic_store(&log_cmd, cmd);
}

bool cli_log_started(void)
{
	return atomic_load(&log_cmd) != NULL;
}

bool cli_log_enabled(enum cli_log_level l)
{
	return (int)l <= atomic_load(&log_level);
}

static size_t put_u(char *out, unsigned v)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'u';
	for (int i = 0; i < 4; i++)
		out[2 + i] = hex[(v >> (12 - 4 * i)) & 0xf];
	return 6;
}

char *cli_log_json_escape(char *buf, size_t bufsz, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t left = strlen(s), o = 0;

	if (!bufsz)
		return buf;
	while (left) {
		char tmp[16];
		size_t n = 1, k = 0;
		uint32_t cp = 0;

		if (*u == '"' || *u == '\\') {
			tmp[k++] = '\\';
			tmp[k++] = (char)*u;
		} else if (*u == '\n') {
			memcpy(tmp, "\\n", 2), k = 2;
		} else if (*u == '\t') {
			memcpy(tmp, "\\t", 2), k = 2;
		} else if (*u < 0x20 || *u == 0x7f) {
			k = put_u(tmp, *u);
		} else if (*u < 0x80) {
			tmp[k++] = (char)*u;
		} else if (!(n = vg_utf8_decode(u, left, &cp))) {
			n = 1; /* one byte that is not UTF-8 */
			k = put_u(tmp, 0xfffd);
		} else if (vg_unicode_hidden(cp)) {
			/* bidi overrides and the like, visible as escapes */
			if (cp > 0xffff) {
				cp -= 0x10000;
				k = put_u(tmp, 0xd800 | (cp >> 10));
				k += put_u(tmp + k, 0xdc00 | (cp & 0x3ff));
			} else {
				k = put_u(tmp, cp);
			}
		} else {
			memcpy(tmp, u, n);
			k = n;
		}
		if (o + k >= bufsz)
			break;
		memcpy(buf + o, tmp, k);
		o += k;
		u += n;
		left -= n;
	}
	buf[o] = '\0';
	return buf;
}

void cli_now_rfc3339(char *buf, size_t bufsz)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, bufsz - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* One line, written whole: threads log at once. @word: the level said
 * in text (every command but the two that log says none for errors). */
static void emit(enum cli_log_level l, bool word, const char *msg)
{
	const char *cmd = atomic_load(&log_cmd);
	char line[LOG_LINE_MAX * 6 + 128];
	int n;

	if (cmd && atomic_load(&log_format) == CLI_LOG_JSON) {
		char esc[LOG_LINE_MAX * 6], when[40];

		cli_now_rfc3339(when, sizeof(when));
		cli_log_json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"ts\":\"%s\",\"level\":\"%s\",\"cmd\":\"%s\","
			     "\"msg\":\"%s\"}\n", when, cli_log_level_name(l),
			     cmd, esc);
	} else if (word && l != CLI_LOG_INFO) {
		n = snprintf(line, sizeof(line), "%s: %s: %s\n", program_name,
			     cli_log_level_name(l), msg);
	} else {
		n = snprintf(line, sizeof(line), "%s: %s\n", program_name, msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	flockfile(stderr);
	fwrite(line, 1, (size_t)n, stderr);
	fflush(stderr);
	funlockfile(stderr);
}

void cli_logv(enum cli_log_level l, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	if (!cli_log_enabled(l))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(l, true, msg);
}

void cli_log(enum cli_log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_logv(l, fmt, ap);
	va_end(ap);
}

/* cli_error() and cli_usage_error() (main.c) come here once a command
 * logs, so that its errors are lines like the rest. */
void cli_log_error_line(const char *msg)
{
	if (cli_log_enabled(CLI_LOG_ERROR))
		emit(CLI_LOG_ERROR, cli_log_started(), msg);
}
