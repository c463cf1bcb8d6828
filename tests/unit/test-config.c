/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file (src/cli/config.c): its mapping of keys onto a
 * command's options, the errors with FILE:LINE, and the command line's
 * precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/log.h"

/* ---- what the CLI provides, captured ---------------------------------- */

const char *program_name = "vigil";
static char errs[16384];
static unsigned n_errs;

static void capture(const char *fmt, va_list ap)
{
	size_t n = strlen(errs);
	const char *where = cli_conf_location();

	if (where)
		n += (size_t)snprintf(errs + n, sizeof(errs) - n, "%s: ", where);
	if (n < sizeof(errs))
		n += (size_t)vsnprintf(errs + n, sizeof(errs) - n, fmt, ap);
	if (n + 1 < sizeof(errs))
		strcat(errs, "\n");
	n_errs++;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	capture(fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	(void)cmd;
	va_start(ap, fmt);
	capture(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* ---- a command -------------------------------------------------------- */

enum { O_SOCKET = 1000, O_ALLOW, O_RING, O_FLAG, O_CONFIG, O_CHECK, O_LEVEL };

static const struct option opts[] = {
	{ "host-root", required_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "check-config", no_argument, NULL, O_CHECK },
	{ "log-level", required_argument, NULL, O_LEVEL },
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "allow-uid", required_argument, NULL, O_ALLOW },
	{ "ring-size", required_argument, NULL, O_RING },
	{ "peercred", no_argument, NULL, O_FLAG },
	{ 0 },
};

struct state {
	const char *socket, *host_root, *level;
	uint64_t allow[8];
	size_t n_allow;
	uint64_t ring;
	bool flag;
	unsigned applied;
};

static int apply(void *u, int c, const char *arg)
{
	struct state *s = u;
	uint64_t v;

	s->applied++;
	switch (c) {
	case O_SOCKET:
		s->socket = arg;
		return 0;
	case 'R':
		s->host_root = arg;
		return 0;
	case O_LEVEL:
		s->level = arg;
		return 0;
	case O_FLAG:
		assert_null(arg);
		s->flag = true;
		return 0;
	case O_RING:
		if (vg_parse_u64(arg, &v) < 0)
			return cli_usage_error("test", "--ring-size takes a number, "
					       "not '%s'", arg);
		s->ring = v;
		return 0;
	case O_ALLOW:
		if (vg_parse_u64(arg, &v) < 0 || s->n_allow == 8)
			return cli_usage_error("test", "--allow-uid takes a number, "
					       "not '%s'", arg);
		s->allow[s->n_allow++] = v;
		return 0;
	}
	fail_msg("option %d applied", c);
	return EXIT_USAGE;
}

static void reset(void *u, int c)
{
	struct state *s = u;

	assert_int_equal(c, O_ALLOW);
	s->n_allow = 0;
}

static const char *const rep[] = { "allow-uid", NULL };
static const struct cli_conf_cmd cmd = {
	.name = "daemon", .opts = opts, .shortopts = "h", .repeatable = rep,
	.apply = apply, .reset = reset,
};

static void clear(void)
{
	errs[0] = '\0';
	n_errs = 0;
}

/* The last run()'s file: the state's values point into it. */
static struct cli_conf_file *last;

/* @text parsed and applied with no command line: 0 or EXIT_USAGE. */
static int run(const char *text, size_t len, struct state *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	clear();
	cli_conf_file_free(last);
	last = NULL;
	r = cli_conf_parse(&cmd, "f.conf", text, len, &last);
	assert_non_null(last); /* the keys understood, even with errors */
	r |= cli_conf_apply(&cmd, last, NULL, s);
	return r;
}

/* ---- the table -------------------------------------------------------- */

struct conf_case {
	const char *text;
	const char *err; /* NULL: valid; else in the messages */
	unsigned n_errs;
	const char *socket;
	size_t n_allow;
	bool flag;
};

static const struct conf_case cases[] = {
	{ "", NULL, 0, NULL, 0, false },
	{ "# comment\n; another\n\n   \n[daemon]\n", NULL, 0, NULL, 0, false },
	{ "\xef\xbb\xbf[daemon]\nsocket = /s\n", NULL, 0, "/s", 0, false },
	{ "[daemon]\nsocket = /run/x.sock ; why\nallow-uid = 1\n"
	  "allow-uid=2\npeercred = yes\n", NULL, 0, "/run/x.sock", 2, true },
	{ "[daemon]\r\nsocket = /c\r\n", NULL, 0, "/c", 0, false },
	/* an indented line is a key of its own, not a continuation */
	{ "[daemon]\nsocket = /a\n   allow-uid = 7\n", NULL, 0, "/a", 1, false },
	{ "[daemon]\npeercred = false\n", NULL, 0, NULL, 0, false },
	{ "[daemon]\nsocket = /a\n[server]\nsocket = /b\nanything = 1\n", NULL, 0,
	  "/a", 0, false },
	{ "[daemon]\nsocket=/a#b\n", NULL, 0, "/a#b", 0, false },
	{ "[daemon]\nsocket = /caf\xc3\xa9\n", NULL, 0, "/caf\xc3\xa9", 0, false },

	{ "[daemon]\nsockt = /a\n",
	  "f.conf:2: unknown key 'sockt' in [daemon]; did you mean 'socket'?", 1 },
	{ "[daemon]\nzzzzzzzz = 1\n", "f.conf:2: unknown key 'zzzzzzzz' in [daemon]\n", 1 },
	{ "[daemon]\n\nring-size = big\n",
	  "f.conf:3: --ring-size takes a number, not 'big'", 1 },
	{ "[daemon]\nsocket = /a\nsocket = /b\n",
	  "f.conf:3: 'socket' is set already, on line 2", 1 },
	{ "[daemon]\nsocket =\n", "f.conf:2: 'socket' needs a value", 1 },
	{ "[daemon]\npeercred = maybe\n",
	  "f.conf:2: 'peercred' takes true or false, not 'maybe'", 1 },
	{ "socket = /a\n", "f.conf:1: 'socket' is outside a section", 1 },
	{ "[deamon]\nsocket = /a\nring-size = 1\n",
	  "f.conf:2: unknown section [deamon]", 1 },
	{ "[daemon]\nconfig = /etc/x\n",
	  "f.conf:2: 'config' cannot be set in a config file", 1 },
	{ "[daemon]\nhelp = true\ncheck-config = true\n",
	  "f.conf:3: 'check-config' cannot be set", 2 },
	{ "[daemon]\njust words\n",
	  "f.conf:2: expected 'key = value', a [section] or a comment", 1 },
	{ "[daemon\nsocket = /a\n", "f.conf:1: expected", 2 },
	{ "[daemon]\nsocket = /a\xff\n", "f.conf:2: not UTF-8 text", 1 },
	{ "[daemon]\nsocket = \xc0\xaf\n", "f.conf:2: not UTF-8 text", 1 },
	{ "[daemon]\nsocket = a\x1b[31m\n", "f.conf:2: not UTF-8 text", 1 },
	/* every error, each with its line; good keys still applied */
	{ "[daemon]\nsockt = 1\nring-size = x\nsocket = /ok\nallow-uid = -1\n",
	  "f.conf:5: --allow-uid takes a number, not '-1'", 3, "/ok" },
};

static void test_table(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		const struct conf_case *c = &cases[i];
		struct state s;
		int r = run(c->text, strlen(c->text), &s);

		if (!c->err) {
			if (r != 0)
				fail_msg("case %zu: errors: %s", i, errs);
			assert_int_equal(n_errs, 0);
		} else {
			if (r != EXIT_USAGE || !strstr(errs, c->err))
				fail_msg("case %zu: r=%d, wanted '%s' in:\n%s", i, r,
					 c->err, errs);
			if (n_errs != c->n_errs)
				fail_msg("case %zu: %u errors, not %u:\n%s", i,
					 n_errs, c->n_errs, errs);
		}
		if (c->socket)
			assert_string_equal(s.socket, c->socket);
		else if (!c->err)
			assert_null(s.socket);
		if (!c->err) {
			assert_int_equal(s.n_allow, c->n_allow);
			assert_int_equal(s.flag, c->flag);
		}
	}
}

static void test_long_lines(void **unused)
{
	char text[1024];
	struct state s;

	(void)unused;
	/* the longest line taken, and one byte more */
	snprintf(text, sizeof(text), "[daemon]\nsocket=/%0*d\n",
		 CLI_CONFIG_LINE_MAX - 8, 0);
	assert_int_equal(run(text, strlen(text), &s), 0);
	assert_int_equal(strlen(s.socket), CLI_CONFIG_LINE_MAX - 7);
	snprintf(text, sizeof(text), "[daemon]\nsocket=/%0*d\nring-size = 1\n",
		 CLI_CONFIG_LINE_MAX - 7, 0);
	assert_int_equal(run(text, strlen(text), &s), EXIT_USAGE);
	assert_non_null(strstr(errs, "f.conf:2: line longer than"));
	assert_int_equal(n_errs, 1);
	/* what follows is read as lines of its own, numbered right */
	assert_int_equal(s.ring, 1);
	memset(text, 'a', 900);
	text[900] = '\0';
	strcat(text, "\n[daemon]\nsockt = 1\n");
	assert_int_equal(run(text, strlen(text), &s), EXIT_USAGE);
	assert_non_null(strstr(errs, "f.conf:1: line longer than"));
	assert_non_null(strstr(errs, "f.conf:3: unknown key 'sockt'"));
}

static void test_nul(void **unused)
{
	static const char text[] = "[daemon]\nsocket = /a\0b\n";
	struct state s;

	(void)unused;
	assert_int_equal(run(text, sizeof(text) - 1, &s), EXIT_USAGE);
	assert_non_null(strstr(errs, "f.conf:2: a NUL byte"));
	assert_int_equal(s.applied, 0);
}

/* The command line after the file: it wins, and a repeatable option
 * there replaces the file's list. */
static void test_overrides(void **unused)
{
	static const char text[] = "[daemon]\nsocket = /file\nallow-uid = 1\n"
				   "allow-uid = 2\nring-size = 4096\n";
	char *argv1[] = { "daemon", "--socket", "/argv", "--allow-uid", "3",
			  "--allow-uid", "4", NULL };
	char *argv2[] = { "daemon", "--config", "/x", "--check-config", NULL };
	struct cli_conf_file *f = NULL;
	struct cli_conf_argv a;
	struct state s = { 0 };

	(void)unused;
	clear();
	assert_int_equal(cli_conf_parse(&cmd, "f.conf", text, strlen(text), &f), 0);

	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 7, argv1, &a), 0);
	assert_int_equal(cli_conf_apply(&cmd, f, &a, &s), 0);
	assert_string_equal(s.socket, "/argv");
	assert_int_equal(s.n_allow, 2);
	assert_int_equal(s.allow[0], 3);
	assert_int_equal(s.allow[1], 4);
	assert_int_equal(s.ring, 4096);
	assert_null(a.config);
	assert_false(a.check);
	cli_conf_argv_release(&a);

	memset(&s, 0, sizeof(s));
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 4, argv2, &a), 0);
	assert_string_equal(a.config, "/x");
	assert_true(a.check);
	assert_int_equal(a.n, 0);
	assert_string_equal(cli_conf_path(&a), "/x");
	assert_int_equal(cli_conf_apply(&cmd, f, &a, &s), 0);
	assert_string_equal(s.socket, "/file");
	assert_int_equal(s.n_allow, 2);
	cli_conf_argv_release(&a);
	cli_conf_file_free(f);
}

static void test_argv_errors(void **unused)
{
	char *argv1[] = { "daemon", "stray", NULL };
	char *argv2[] = { "daemon", "--help", NULL };
	struct cli_conf_argv a;

	(void)unused;
	clear();
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 2, argv1, &a), EXIT_USAGE);
	assert_non_null(strstr(errs, "unexpected argument 'stray'"));
	cli_conf_argv_release(&a);
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 2, argv2, &a), 0);
	assert_true(a.help);
	cli_conf_argv_release(&a);
}

static char changed[256];

static void note(void *u, const char *key)
{
	(void)u;
	strcat(changed, key);
	strcat(changed, " ");
}

static void test_diff(void **unused)
{
	static const char t1[] = "[daemon]\nsocket = /a\nallow-uid = 1\n"
				 "log-level = info\nring-size = 4096\n";
	static const char t2[] = "[daemon]\nring-size = 4096\nsocket = /b\n"
				 "allow-uid = 1\nallow-uid = 2\nlog-level = debug\n"
				 "host-root = /h\n";
	char *argv[] = { "daemon", "--log-level", "error", NULL };
	struct cli_conf_file *f1 = NULL, *f2 = NULL;
	struct cli_conf_argv a;

	(void)unused;
	clear();
	assert_int_equal(cli_conf_parse(&cmd, "f", t1, strlen(t1), &f1), 0);
	assert_int_equal(cli_conf_parse(&cmd, "f", t2, strlen(t2), &f2), 0);
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 3, argv, &a), 0);
	changed[0] = '\0';
	cli_conf_diff(&cmd, f1, f2, &a, note, NULL);
	/* in the table's order; log-level is the command line's */
	assert_string_equal(changed, "host-root socket allow-uid ");
	changed[0] = '\0';
	cli_conf_diff(&cmd, f1, f1, NULL, note, NULL);
	assert_string_equal(changed, "");
	changed[0] = '\0';
	cli_conf_diff(&cmd, NULL, f1, NULL, note, NULL);
	assert_string_equal(changed, "log-level socket allow-uid ring-size ");
	cli_conf_argv_release(&a);
	cli_conf_file_free(f1);
	cli_conf_file_free(f2);
}

/* Files: a 2 MiB one is refused before it is parsed; --config's must
 * exist, the default need not. */
static void test_files(void **unused)
{
	char dir[] = "/tmp/vigil-test-config.XXXXXX", path[64], missing[64];
	char *argv[] = { "daemon", "--config", path, NULL };
	struct cli_conf_file *f = NULL;
	struct cli_conf_argv a;
	struct state s = { 0 };
	FILE *fp;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[daemon]\n", fp);
	for (int i = 0; i < (2 << 20) / 16; i++)
		fputs("; padding.......\n", fp);
	fclose(fp);

	clear();
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 3, argv, &a), 0);
	assert_int_equal(cli_conf_read(&cmd, &a, &f), EXIT_USAGE);
	assert_null(f);
	assert_non_null(strstr(errs, "larger than 1048576 bytes"));

	/* at the limit: read */
	assert_int_equal(truncate(path, CLI_CONFIG_MAX), 0);
	clear();
	assert_int_equal(cli_conf_read(&cmd, &a, &f), 0);
	assert_non_null(f);
	assert_int_equal(f->n, 0);
	cli_conf_file_free(f);
	f = NULL;

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[daemon]\nsocket = /from-file\n", fp);
	fclose(fp);
	assert_int_equal(cli_conf_read(&cmd, &a, &f), 0);
	assert_int_equal(cli_conf_apply(&cmd, f, &a, &s), 0);
	assert_string_equal(s.socket, "/from-file");
	cli_conf_file_free(f);
	f = NULL;
	cli_conf_argv_release(&a);

	/* the default path, absent: no file, no error */
	setenv("VIGIL_CONFIG", missing, 1);
	char *argv0[] = { "daemon", NULL };

	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 1, argv0, &a), 0);
	clear();
	assert_int_equal(cli_conf_read(&cmd, &a, &f), 0);
	assert_null(f);
	assert_int_equal(n_errs, 0);
	cli_conf_argv_release(&a);
	/* named by --config: an error */
	snprintf(path, sizeof(path), "%s", missing);
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 3, argv, &a), 0);
	assert_int_equal(cli_conf_read(&cmd, &a, &f), EXIT_USAGE);
	assert_non_null(strstr(errs, "No such file"));
	cli_conf_argv_release(&a);
	/* a directory is not a config file */
	snprintf(path, sizeof(path), "%s", dir);
	optind = 0;
	assert_int_equal(cli_conf_argv_parse(&cmd, 3, argv, &a), 0);
	clear();
	assert_int_equal(cli_conf_read(&cmd, &a, &f), EXIT_USAGE);
	assert_non_null(strstr(errs, "not a regular file"));
	cli_conf_argv_release(&a);
	unsetenv("VIGIL_CONFIG");

	snprintf(path, sizeof(path), "%s/big.conf", dir);
	unlink(path);
	rmdir(dir);
}

/* The JSON logs' message escaping: whatever a message carries (a path,
 * a peer's exe), the line stays one valid object. */
static void test_json_escape(void **unused)
{
	static const struct {
		const char *in, *out;
	} esc_cases[] = {
		{ "plain", "plain" },
		{ "a \"q\" \\ b", "a \\\"q\\\" \\\\ b" },
		{ "line\nbreak\ttab\r", "line\\nbreak\\ttab\\u000d" },
		{ "bad \xff byte", "bad \\ufffd byte" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "rl\xe2\x80\xaeo", "rl\\u202eo" },
		{ "tag\xf3\xa0\x80\x81", "tag\\udb40\\udc01" },
		{ "\x7f\x01", "\\u007f\\u0001" },
	};
	char buf[128];

	(void)unused;
	for (size_t i = 0; i < VG_ARRAY_SIZE(esc_cases); i++)
		assert_string_equal(cli_log_json_escape(buf, sizeof(buf), esc_cases[i].in),
				    esc_cases[i].out);
	/* cut at a whole escape, never inside one */
	assert_string_equal(cli_log_json_escape(buf, 8, "ab\"cd\"ef"), "ab\\\"cd");
	assert_string_equal(cli_log_json_escape(buf, 8, "abcd\xff"), "abcd");
	assert_string_equal(cli_log_json_escape(buf, 6, "ab\xc3\xa9\xc3\xa9"),
			    "ab\xc3\xa9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_argv_errors),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_json_escape),
	};

	int r = cmocka_run_group_tests(tests, NULL, NULL);

	cli_conf_file_free(last);
	return r;
}
