/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_LOG_H
#define VG_CLI_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/*
 * The long-running commands' own messages (vigil daemon, vigil server),
 * on stderr, where journald and Kubernetes collect them.
 *
 * text: "vigil: MESSAGE" at info, "vigil: LEVEL: MESSAGE" otherwise;
 * json: one object a line, {"ts":RFC3339,"level":..,"cmd":..,"msg":..}.
 *
 * Before cli_log_start() (every other command), cli_error()'s lines stay
 * "vigil: MESSAGE" and nothing is JSON. Level and format may change at
 * any time (SIGHUP) while other threads log: each line is written whole.
 */

enum cli_log_level { CLI_LOG_ERROR, CLI_LOG_WARNING, CLI_LOG_INFO, CLI_LOG_DEBUG };
enum cli_log_format { CLI_LOG_TEXT, CLI_LOG_JSON };

struct cli_log_conf {
	enum cli_log_level level;
	enum cli_log_format format;
};
#define CLI_LOG_CONF_DEFAULT { .level = CLI_LOG_INFO, .format = CLI_LOG_TEXT }

/* --log-level and --log-format's values for @cmd's messages. Return 0,
 * or EXIT_USAGE with the reason printed. */
int cli_log_level_arg(const char *cmd, const char *arg, enum cli_log_level *ret);
int cli_log_format_arg(const char *cmd, const char *arg, enum cli_log_format *ret);
const char *cli_log_level_name(enum cli_log_level l);

/* From now on @cmd's messages ("daemon") follow @c; called again, only
 * @c changes. @cmd must outlive the process (a literal). */
void cli_log_start(const char *cmd, const struct cli_log_conf *c);
bool cli_log_started(void);
bool cli_log_enabled(enum cli_log_level l);

void cli_log(enum cli_log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_logv(enum cli_log_level l, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* An error line whatever the level: cli_error()'s and cli_usage_error()'s
 * (main.c), with the level said once a command logs. */
void cli_log_error_line(const char *msg);
/* Now, UTC, to the millisecond: "2026-12-07T12:00:00.000Z". */
void cli_now_rfc3339(char *buf, size_t bufsz);

/* One message into @buf as a JSON string's contents: '"', '\\' and
 * control characters escaped, each byte that is not valid UTF-8 as
 * \ufffd; cut at a whole character when it does not fit. Returns @buf. */
char *cli_log_json_escape(char *buf, size_t bufsz, const char *s);

#endif
