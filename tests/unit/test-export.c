/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exports' configuration: --export's words (a table of cases: quotes,
 * escapes, the errors and their columns), the names an export may have,
 * byte sizes, and the checks a start makes of a spec (the framework's
 * keys and the file kind's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/exports.h"

static const struct parse_case {
	const char *in;
	const char *want; /* "name|kind|target|k=v|..." or NULL: refused */
	const char *err;  /* in the message, when refused */
} parse_cases[] = {
	{ "a file /tmp/x", "a|file|/tmp/x", NULL },
	{ "  a\tfile   /tmp/x  ", "a|file|/tmp/x", NULL },
	{ "fleet nats nats://127.0.0.1:4222 events=exec,connect",
	  "fleet|nats|nats://127.0.0.1:4222|events=exec,connect", NULL },
	{ "s syslog tcp://127.0.0.1:514 filter=\"proc.name = sh\"",
	  "s|syslog|tcp://127.0.0.1:514|filter=proc.name = sh", NULL },
	{ "s syslog x \"filter=a b\"", "s|syslog|x|filter=a b", NULL },
	{ "s syslog x filter=\"a \\\"b\\\" \\\\ c\"", "s|syslog|x|filter=a \"b\" \\ c", NULL },
	{ "s syslog x filter=\"\"", "s|syslog|x|filter=", NULL },
	{ "s syslog \"/a b/c\"", "s|syslog|/a b/c", NULL },
	{ "s syslog x a=b=c", "s|syslog|x|a=b=c", NULL },
	{ "A-b_9 file /x", "A-b_9|file|/x", NULL },
	{ "", NULL, "NAME is missing" },
	{ "a", NULL, "KIND is missing" },
	{ "a file", NULL, "TARGET is missing" },
	{ "a file /x novalue", NULL, "column 11: expected KEY=VALUE" },
	{ "a file /x =v", NULL, "expected KEY=VALUE" },
	{ "a file /x k=\"open", NULL, "quote at column 13 is not closed" },
	{ "a file /x k=\"\\n\"", NULL, "column 14" },
	{ "a file /x k=1 k=2", NULL, "set already" },
	{ "a file /x kind=nats", NULL, "not a key" },
	{ "a file /x target=/y", NULL, "not a key" },
	{ "bad.name file /x", NULL, "cannot name an export" },
	{ "abcdefghijabcdefghijabcdefghijabc file /x", NULL, "cannot name" },
	{ "a \"\" /x", NULL, "KIND is empty" },
	{ "a file /x k=\001", NULL, "control character at column 13" },
};

static void format_spec(const struct vg_export_spec *s, char *buf, size_t bufsz)
{
	size_t n = (size_t)snprintf(buf, bufsz, "%s", s->name);

	for (size_t i = 0; i < s->n_kv && n < bufsz; i++) {
		if (strcmp(s->kv[i].key, "kind") == 0 || strcmp(s->kv[i].key, "target") == 0)
			n += (size_t)snprintf(buf + n, bufsz - n, "|%s", s->kv[i].value);
		else
			n += (size_t)snprintf(buf + n, bufsz - n, "|%s=%s", s->kv[i].key,
					      s->kv[i].value);
	}
}

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct vg_export_spec *s = NULL;
		char err[512] = "", got[1024];
		int r = vg_export_spec_parse(c->in, "--export", &s, err, sizeof(err));

		if (c->want) {
			if (r != 0)
				fail_msg("'%s': refused: %s", c->in, err);
			format_spec(s, got, sizeof(got));
			if (strcmp(got, c->want) != 0)
				fail_msg("'%s': got '%s', want '%s'", c->in, got, c->want);
			assert_string_equal(s->kv[0].where, "--export");
			vg_export_spec_free(s);
		} else {
			if (r != -EINVAL)
				fail_msg("'%s': taken (%d)", c->in, r);
			if (!strstr(err, c->err))
				fail_msg("'%s': message '%s' lacks '%s'", c->in, err, c->err);
		}
	}
}

static void test_long(void **state)
{
	size_t n = VG_EXPORT_SPEC_MAX + 16;
	char *text = malloc(n + 1), err[256];
	struct vg_export_spec *s = NULL;

	(void)state;
	assert_non_null(text);
	memset(text, 'a', n);
	memcpy(text, "a file /x k=", 12);
	text[n] = '\0';
	assert_int_equal(vg_export_spec_parse(text, "--export", &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	free(text);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(vg_export_name_ok("a"));
	assert_true(vg_export_name_ok("fleet-1_B"));
	assert_true(vg_export_name_ok("abcdefghijabcdefghijabcdefghijab"));
	assert_false(vg_export_name_ok(""));
	assert_false(vg_export_name_ok("abcdefghijabcdefghijabcdefghijabc"));
	assert_false(vg_export_name_ok("a b"));
	assert_false(vg_export_name_ok("a/b"));
	assert_false(vg_export_name_ok("é"));
}

static void test_bytes(void **state)
{
	static const struct {
		const char *in;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "64k", 0, 65536 }, { "8M", 0, 8u << 20 },
		{ "1G", 0, 1u << 30 }, { "2K", 0, 2048 }, { "", -EINVAL, 0 }, { "k", -EINVAL, 0 },
		{ "1T", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "1.5M", -EINVAL, 0 },
		{ "99999999999999999999G", -EINVAL, 0 }, { "17179869184G", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int r = vg_export_parse_bytes(cases[i].in, &v);

		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("'%s': %d %llu", cases[i].in, r, (unsigned long long)v);
	}
}

static const struct check_case {
	const char *in;
	const char *err; /* NULL: passes */
} check_cases[] = {
	{ "a file /tmp/x", NULL },
	{ "a file /tmp/x max-size=1M keep=0 fsync=never", NULL },
	{ "a file /tmp/x fsync=interval:500 events=exec,exit filter=\"proc.name = sh\"", NULL },
	{ "a file /tmp/x events=all container=abc,web image=nginx* pod=ns/p host=true "
	  "path=/etc/* queue=64k", NULL },
	{ "a file /tmp/x fsync=interval:0", "'fsync' takes" },
	{ "a file /tmp/x fsync=sometimes", "'fsync' takes" },
	{ "a file /tmp/x max-size=10", "'max-size' takes" },
	{ "a file /tmp/x keep=1001", "'keep' takes" },
	{ "a file /tmp/x colour=red", "no key 'colour'" },
	{ "a file relative/x", "absolute path" },
	{ "a carrier-pigeon x", "unknown kind 'carrier-pigeon'" },
	{ "a file /tmp/x events=exec,nope", "unknown event type 'nope'" },
	{ "a file /tmp/x filter=\"proc.name ==\"", "filter:" },
	{ "a file /tmp/x pod=nons", "NAMESPACE/NAME" },
	{ "a file /tmp/x host=maybe", "'host' takes true or false" },
	{ "a file /tmp/x container=a,,b", "'container' takes" },
	{ "a file /tmp/x queue=1k", "'queue' takes" },
	{ "a file /tmp/x queue=2G", "'queue' takes" },
	{ "s syslog unix:/dev/log", NULL },
	{ "s syslog udp://127.0.0.1:514 facility=local7", NULL },
	{ "s syslog tcp://[::1]:514 facility=auth", NULL },
	{ "s syslog tls://logs.example:6514 ca=/etc/ca.pem cert=/c.pem key=/k.pem", NULL },
	{ "s syslog relp://127.0.0.1:2514", NULL },
	{ "s syslog relp+tls://127.0.0.1:2514 ca=/etc/ca.pem cert=/c.pem key=/k.pem", NULL },
	{ "s syslog relp://127.0.0.1:2514 ca=/etc/ca.pem", "'ca' is for tls://" },
	{ "s syslog relp+tls://127.0.0.1", "a syslog target is" },
	{ "s syslog /dev/log", "a syslog target is" },
	{ "s syslog unix:dev/log", "a syslog target is" },
	{ "s syslog tcp://127.0.0.1", "a syslog target is" },
	{ "s syslog tcp://127.0.0.1:0", "a syslog target is" },
	{ "s syslog tcp://127.0.0.1:65536", "a syslog target is" },
	{ "s syslog tcp://::1:514", "a syslog target is" },
	{ "s syslog tcp://:514", "a syslog target is" },
	{ "s syslog smtp://127.0.0.1:25", "a syslog target is" },
	{ "s syslog udp://127.0.0.1:514 facility=local8", "'facility' takes" },
	{ "s syslog tcp://127.0.0.1:514 ca=/etc/ca.pem", "'ca' is for tls://" },
	{ "s syslog tls://127.0.0.1:514 ca=etc/ca.pem", "absolute path" },
	{ "s syslog tls://127.0.0.1:514 cert=/c.pem", "'cert' and 'key' go together" },
	{ "s syslog tls://127.0.0.1:514 max-size=1M", "no key 'max-size'" },
};

static void test_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		struct vg_export_spec *s = NULL;
		char err[1024] = "";
		int r;

		if (vg_export_spec_parse(c->in, "--export", &s, err, sizeof(err)) < 0)
			fail_msg("'%s': %s", c->in, err);
		r = vg_exports_check(s, err, sizeof(err));
		if (!c->err && r < 0)
			fail_msg("'%s': refused: %s", c->in, err);
		if (c->err && (r >= 0 || !strstr(err, c->err)))
			fail_msg("'%s': %d, '%s' lacks '%s'", c->in, r, err, c->err);
		vg_export_spec_free(s);
	}
}

/* A spec built key by key, as from a config file's section. */
static void test_spec_set(void **state)
{
	struct vg_export_spec *s = vg_export_spec_new("fleet", "f.conf:3");
	char err[512];

	(void)state;
	assert_non_null(s);
	assert_int_equal(vg_export_spec_set(s, "kind", "file", "f.conf:4", err, sizeof(err)), 0);
	assert_int_equal(vg_export_spec_set(s, "target", "/tmp/y", "f.conf:5", err,
					    sizeof(err)), 0);
	assert_int_equal(vg_export_spec_set(s, "kind", "nats", "f.conf:6", err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "f.conf:6"));
	assert_non_null(strstr(err, "f.conf:4"));
	assert_string_equal(vg_export_spec_get(s, "target"), "/tmp/y");
	assert_null(vg_export_spec_get(s, "filter"));
	assert_int_equal(vg_export_spec_set(s, "keep", "x", "f.conf:7", err, sizeof(err)), 0);
	assert_int_equal(vg_exports_check(s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "f.conf:7"));
	vg_export_spec_free(s);
	vg_export_spec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_spec_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
