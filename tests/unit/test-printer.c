/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil writes JSON itself; a real parser must read back what it meant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attrib/attrib.h"
#include "render/escape.h"
#include "render/event.h"
#include "render/identity.h"
#include "render/printer.h"

static const struct {
	const char *in;
	const char *out; /* what the parser must read back */
} strings[] = {
	{ "plain", "plain" },
	{ "", "" },
	{ "quote\" back\\slash", "quote\" back\\slash" },
	{ "new\nline\ttab\rcr", "new\nline\ttab\rcr" },
	{ "\x01\x1f\x7f", "\x01\x1f\x7f" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
	{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	/* hidden code points: escaped, and read back as they were */
	{ "csi \xc2\x9b" "2J", "csi \xc2\x9b" "2J" },
	{ "rlo \xe2\x80\xae" "txt", "rlo \xe2\x80\xae" "txt" },
	{ "tag \xf3\xa0\x81\x81", "tag \xf3\xa0\x81\x81" },
	{ "del \x7f bom \xef\xbb\xbf", "del \x7f bom \xef\xbb\xbf" },
};

static void test_json_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
		char *argv[2] = { (char *)strings[i].in, (char *)"x" };
		json_error_t err;
		json_t *root;
		char *s;

		assert_non_null(p);
		vg_pr_begin(p);
		vg_pr_str(p, "s", "label", strings[i].in);
		vg_pr_str_array(p, "a", "args", argv, 2);
		s = vg_pr_end_string(p);
		assert_non_null(s);
		root = json_loads(s, 0, &err);
		if (!root)
			fail_msg("case %zu: %s: %s", i, s, err.text);
		assert_string_equal(json_string_value(json_object_get(root, "s")),
				    strings[i].out);
		assert_string_equal(json_string_value(json_array_get(
					    json_object_get(root, "a"), 0)),
				    strings[i].out);
		json_decref(root);
		free(s);
		vg_printer_free(p);
	}
}

static void test_json_structure(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	char *s;

	(void)state;
	vg_pr_begin(p);
	vg_pr_obj_open(p, "a");
	vg_pr_i64(p, "neg", NULL, -5);
	vg_pr_u64(p, "big", NULL, UINT64_C(18446744073709551615));
	vg_pr_obj_open(p, "empty");
	vg_pr_obj_close(p);
	vg_pr_obj_close(p);
	vg_pr_null(p, "n", NULL);
	vg_pr_bool(p, "t", NULL, true);
	vg_pr_str(p, NULL, "text only", "ignored");
	vg_pr_text(p, "ignored too\n");
	s = vg_pr_end_string(p);
	assert_string_equal(s, "{\"a\":{\"neg\":-5,\"big\":18446744073709551615,"
			       "\"empty\":{}},\"n\":null,\"t\":true}");
	free(s);
	/* the printer is reusable, and a record starts clean */
	vg_pr_begin(p);
	vg_pr_u64(p, "x", NULL, 1);
	s = vg_pr_end_string(p);
	assert_string_equal(s, "{\"x\":1}");
	free(s);
	vg_printer_free(p);
}

static void test_raw_members(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	struct vg_printer *t = vg_printer_new(VG_OUTPUT_TEXT);
	char *s;

	(void)state;
	/* first member, after a member, inside an object; ignored in an
	 * array, empty, and in text mode */
	vg_pr_begin(p);
	vg_pr_raw_members(p, "\"a\":1", 5);
	vg_pr_u64(p, "b", NULL, 2);
	vg_pr_raw_members(p, "\"c\":{\"d\":3}", 11);
	vg_pr_obj_open(p, "o");
	vg_pr_raw_members(p, "\"e\":\"f\"", 7);
	vg_pr_obj_close(p);
	vg_pr_arr_open(p, "arr");
	vg_pr_raw_members(p, "\"g\":1", 5);
	vg_pr_arr_close(p);
	vg_pr_raw_members(p, "", 0);
	s = vg_pr_end_string(p);
	assert_string_equal(s, "{\"a\":1,\"b\":2,\"c\":{\"d\":3},\"o\":{\"e\":\"f\"},\"arr\":[]}");
	free(s);
	vg_pr_begin(t);
	vg_pr_raw_members(t, "\"a\":1", 5);
	vg_pr_u64(t, "u", "count", 1);
	s = vg_pr_end_string(t);
	assert_string_equal(s, "count            1\n");
	free(s);
	vg_printer_free(p);
	vg_printer_free(t);
}

static void test_text(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	char *argv[] = { (char *)"ls", (char *)"a b", (char *)"it's", (char *)"nl\nx", (char *)"" };
	char *s;

	(void)state;
	vg_pr_begin(p);
	vg_pr_str(p, "k", "name", "evil\nname 1234");
	vg_pr_str(p, "k2", NULL, "json only");
	vg_pr_str_array(p, "a", "args", argv, 5);
	vg_pr_null(p, "n", "none");
	vg_pr_u64(p, "u", "count", 42);
	s = vg_pr_end_string(p);
	assert_string_equal(s,
			    "name             evil\\nname 1234\n"
			    "args             ls \"a b\" it's \"nl\\nx\" \"\"\n"
			    "none             -\n"
			    "count            42\n");
	free(s);
	vg_printer_free(p);
}

/* ------------------------------------------------------- the text rule */

static const struct {
	const char *in;
	size_t len;       /* 0: strlen(in) */
	const char *value; /* among fields */
	const char *alone; /* alone on the rest of a line */
} rule[] = {
	{ "plain", 0, "plain", "plain" },
	{ "/usr/bin/x-y_z.1:2,3@+%~#!'()*&^$;|<>?{}`", 0,
	  "/usr/bin/x-y_z.1:2,3@+%~#!'()*&^$;|<>?{}`",
	  "/usr/bin/x-y_z.1:2,3@+%~#!'()*&^$;|<>?{}`" },
	{ "", 0, "\"\"", "" },
	{ "-", 0, "\"-\"", "-" },
	{ "?", 0, "\"?\"", "?" },
	{ "--", 0, "--", "--" },
	{ "a b", 0, "\"a b\"", "a b" },
	{ "x uid=0", 0, "\"x uid=0\"", "x uid=0" },
	{ "k=v", 0, "\"k=v\"", "k=v" },
	{ "[x]", 0, "\"[x]\"", "[x]" },
	{ "q\"x", 0, "\"q\\\"x\"", "q\"x" },
	{ "b\\s", 0, "\"b\\\\s\"", "b\\\\s" },
	{ "n\nl\tt\rr", 0, "\"n\\nl\\tt\\rr\"", "n\\nl\\tt\\rr" },
	{ "\x1b[31mred", 0, "\"\\x1b[31mred\"", "\\x1b[31mred" },
	{ "\a\x7f", 0, "\"\\x07\\x7f\"", "\\x07\\x7f" },
	{ "a\0b", 3, "\"a\\x00b\"", "a\\x00b" },
	/* C1 (CSI, NEL), bidi, invisible */
	{ "\xc2\x9b" "2J", 0, "\"\\u{009b}2J\"", "\\u{009b}2J" },
	{ "a\xc2\x85" "b", 0, "\"a\\u{0085}b\"", "a\\u{0085}b" },
	{ "x\xe2\x80\xae" "exe.txt", 0, "\"x\\u{202e}exe.txt\"", "x\\u{202e}exe.txt" },
	{ "\xe2\x81\xa6" "i\xe2\x81\xa9", 0, "\"\\u{2066}i\\u{2069}\"", "\\u{2066}i\\u{2069}" },
	{ "\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f", 0, "\"\\u{061c}\\u{200e}\\u{200f}\"",
	  "\\u{061c}\\u{200e}\\u{200f}" },
	{ "z\xe2\x80\x8b\xe2\x80\x8d\xef\xbb\xbf", 0, "\"z\\u{200b}\\u{200d}\\u{feff}\"",
	  "z\\u{200b}\\u{200d}\\u{feff}" },
	{ "l\xe2\x80\xa8p\xe2\x80\xa9", 0, "\"l\\u{2028}p\\u{2029}\"", "l\\u{2028}p\\u{2029}" },
	{ "t\xf3\xa0\x81\x81", 0, "\"t\\u{e0041}\"", "t\\u{e0041}" },
	/* readable UTF-8 stays, in quotes */
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"", "caf\xc3\xa9" },
	{ "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", 0,
	  "\"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" },
	/* U+2003 looks like a space: quoted, so it cannot pass for one */
	{ "a\xe2\x80\x83uid=0", 0, "\"a\xe2\x80\x83uid=0\"", "a\xe2\x80\x83uid=0" },
	/* invalid UTF-8, byte by byte */
	{ "bad\xff\xfe", 0, "\"bad\\xff\\xfe\"", "bad\\xff\\xfe" },
	{ "cut\xe2\x80", 0, "\"cut\\xe2\\x80\"", "cut\\xe2\\x80" },
	{ "over\xc0\xaf", 0, "\"over\\xc0\\xaf\"", "over\\xc0\\xaf" },
	{ "sur\xed\xa0\x80", 0, "\"sur\\xed\\xa0\\x80\"", "sur\\xed\\xa0\\x80" },
	{ "c1bad\xc2", 0, "\"c1bad\\xc2\"", "c1bad\\xc2" },
};

static void test_text_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		size_t len = rule[i].len ? rule[i].len : strlen(rule[i].in);
		char *out = malloc(VG_ESC_GROWTH * len + 3);
		size_t n;

		assert_non_null(out);
		n = vg_text_value(out, rule[i].in, len, 0);
		out[n] = '\0';
		if (strcmp(out, rule[i].value))
			fail_msg("case %zu value: %s, want %s", i, out, rule[i].value);
		assert_int_equal(vg_text_bare(rule[i].in, len, 0), out[0] != '"');
		n = vg_text_escape(out, rule[i].in, len, false);
		out[n] = '\0';
		if (strcmp(out, rule[i].alone))
			fail_msg("case %zu alone: %s, want %s", i, out, rule[i].alone);
		free(out);
	}
}

static void test_text_rule_more(void **state)
{
	char buf[64], *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	(void)state;
	/* the one extra separator */
	assert_true(vg_text_bare("a/b", 3, 0));
	assert_false(vg_text_bare("a/b", 3, '/'));
	/* a message in a buffer: cut at a whole escape */
	assert_string_equal(vg_text_escape_buf(buf, sizeof(buf), "x\n\xe2\x80\xae" "y"),
			    "x\\n\\u{202e}y");
	assert_string_equal(vg_text_escape_buf(buf, 6, "ab\xe2\x80\xae" "c"), "ab");
	assert_string_equal(vg_text_escape_buf(buf, 1, "abc"), "");
	/* vigil diff's and rootfs's form */
	f = open_memstream(&mem, &memlen);
	assert_non_null(f);
	assert_true(vg_fputs_escaped(f, "/a b/\xc2\x9b\xe2\x80\xae"));
	assert_false(vg_fputs_escaped(f, "|\xff"));
	fclose(f);
	assert_string_equal(mem, "/a b/\\u{009b}\\u{202e}|\\xff");
	free(mem);
	/* long: each escape whole across vg_fputs_escaped()'s pieces */
	{
		size_t n = 5000;
		char *in = malloc(3 * n + 1), *want = malloc(8 * n + 1);

		assert_non_null(in);
		assert_non_null(want);
		for (size_t i = 0; i < n; i++) {
			memcpy(in + 3 * i, "\xe2\x80\xae", 3);
			memcpy(want + 8 * i, "\\u{202e}", 8);
		}
		in[3 * n] = want[8 * n] = '\0';
		mem = NULL;
		f = open_memstream(&mem, &memlen);
		assert_true(vg_fputs_escaped(f, in));
		fclose(f);
		assert_string_equal(mem, want);
		free(mem);
		free(in);
		free(want);
	}
	assert_true(vg_unicode_hidden(0x80));
	assert_true(vg_unicode_hidden(0x9f));
	assert_false(vg_unicode_hidden(0xa0));
	assert_false(vg_unicode_hidden(0xe9));
	assert_false(vg_unicode_hidden(0x2003));
	assert_true(vg_unicode_hidden(0x202a));
	assert_false(vg_unicode_hidden(0x2030));
	assert_true(vg_unicode_hidden(0xe007f));
	assert_false(vg_unicode_hidden(0xe0080));
}

/* JSON writes hidden code points as \u escapes (a surrogate pair past
 * U+FFFF), never as raw bytes, and stays valid on any input. */
static void test_json_hidden(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	char *s;

	(void)state;
	vg_pr_begin(p);
	vg_pr_str(p, "s", NULL, "\xc2\x9b\xe2\x80\xae\xf3\xa0\x81\x81\x7f\xff");
	s = vg_pr_end_string(p);
	assert_string_equal(s, "{\"s\":\"\\u009b\\u202e\\udb40\\udc41\\u007f\xef\xbf\xbd\"}");
	free(s);
	vg_printer_free(p);
}

static void test_text_block(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	struct vg_kv kv = VG_KV_INIT;
	char *s;

	(void)state;
	assert_int_equal(vg_kv_set(&kv, "a=b", "c d"), 0);
	assert_int_equal(vg_kv_set(&kv, "app", "web"), 0);
	assert_int_equal(vg_kv_set(&kv, "x", "y\nlabel           forged=1"), 0);
	vg_pr_begin(p);
	vg_pr_str(p, "n", "name", "a\xc2\x85" "b\xe2\x80\xae" "c \"q\"");
	vg_print_kv(p, "labels", "label", &kv);
	s = vg_pr_end_string(p);
	assert_string_equal(s,
			    "name             a\\u{0085}b\\u{202e}c \"q\"\n"
			    "label            \"a=b\"=\"c d\"\n"
			    "label            app=web\n"
			    "label            x=\"y\\nlabel           forged=1\"\n");
	free(s);
	vg_kv_release(&kv);

	/* a pod's NS/NAME: a '/' inside either part is quoted */
	{
		struct vg_pod_meta pod = { .source = VG_POD_SRC_LABELS };

		pod.ns = (char *)"a/b";
		pod.name = (char *)"c d";
		vg_pr_begin(p);
		vg_print_k8s(p, &pod, NULL);
		s = vg_pr_end_string(p);
		assert_non_null(strstr(s, "\npod              \"a/b\"/\"c d\" "
					  "(from runtime labels, unverified claim)\n"));
		free(s);
		pod.ns = NULL;
		pod.name = (char *)"?";
		vg_pr_begin(p);
		vg_print_k8s(p, &pod, NULL);
		s = vg_pr_end_string(p);
		assert_non_null(strstr(s, "\npod              ?/\"?\" ("));
		free(s);
	}
	vg_printer_free(p);
}

/* ------------------------------------------------- event lines, hostile */

/*
 * The value of the one field @key= of @line, as a reader splits a line:
 * tokens between spaces outside double quotes (where a backslash escapes
 * the next character). Fails unless there is exactly one.
 */
static void one_field(const char *line, const char *key, char *val, size_t valsz)
{
	size_t klen = strlen(key), found = 0;
	const char *t = line;

	while (*t) {
		const char *end = t;
		bool q = false;

		while (*end && (q || *end != ' ')) {
			if (q && *end == '\\' && end[1])
				end++;
			else if (*end == '"')
				q = !q;
			end++;
		}
		if (q)
			fail_msg("unterminated quote in %s", line);
		if ((size_t)(end - t) > klen && !strncmp(t, key, klen) &&
		    t[klen] == '=') {
			snprintf(val, valsz, "%.*s", (int)(end - t - klen - 1),
				 t + klen + 1);
			found++;
		}
		t = *end ? end + 1 : end;
	}
	if (found != 1)
		fail_msg("%zu fields %s= in %s", found, key, line);
}

/* No byte a terminal would act on, nor a hidden code point, raw. */
static void assert_inert(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		uint32_t cp;
		size_t n;

		if (c < 0x20 || c == 0x7f)
			fail_msg("control byte %#x at %zu of %s", c, i, line);
		if (c < 0x80)
			continue;
		n = vg_utf8_decode((const unsigned char *)line + i, len - i, &cp);
		if (!n)
			fail_msg("invalid UTF-8 at %zu of %s", i, line);
		if (vg_unicode_hidden(cp))
			fail_msg("U+%04X raw at %zu of %s", cp, i, line);
		i += n - 1;
	}
}

struct hostile {
	struct vg_meta_entry me;
	struct vg_attribution a;
	struct vg_event e;
};

static void hostile_init(struct hostile *h, uint32_t type, const char *comm)
{
	memset(h, 0, sizeof(*h));
	h->me.has_meta = true;
	h->me.verify = VG_VERIFY_RUNTIME;
	h->me.meta.name = (char *)"web uid=0";
	h->me.meta.image = (char *)"img\n2026-01-01T00:00:00.000000Z exec";
	h->me.pod.source = VG_POD_SRC_KUBELET;
	h->me.pod.ns = (char *)"a/b";
	h->me.pod.name = (char *)"c";
	h->a.match.role = VG_ROLE_CONTAINER;
	h->a.match.runtime = VG_RUNTIME_DOCKER;
	snprintf(h->a.match.container_id, sizeof(h->a.match.container_id),
		 "0123456789abcdef");
	h->a.meta = &h->me;
	h->e.type = type;
	h->e.has_task = true;
	h->e.t.pid = 42;
	h->e.t.tid = 42;
	h->e.t.ppid = 1;
	h->e.t.uid = 1000;
	h->e.t.cgroup_id = 7;
	snprintf(h->e.t.comm, sizeof(h->e.t.comm), "%s", comm);
	h->e.x.attr = &h->a;
}

static const char *line_of(struct vg_renderer *r, const struct vg_event *e,
			   size_t *len)
{
	const char *l = vg_render_event(r, e, VG_OUTPUT_TEXT, len);

	assert_non_null(l);
	assert_int_equal(strlen(l), *len);
	assert_inert(l, *len);
	return l;
}

#define WHEN "1970-01-01T00:00:00.000000Z "
#define ATTR "container=docker:0123456789ab name=\"web uid=0\" " \
	"image=\"img\\n2026-01-01T00:00:00.000000Z exec\" pod=\"a/b\"/c"

static void test_event_hostile(void **state)
{
	static const char args[] =
		"/tmp/a b\0uid=0\0x\ny\0\x1b[31mred\0\xc2\x9b" "2J\0"
		"\xe2\x80\xae" "fdp.exe\0bad\xff\0\0caf\xc3\xa9\0]\0-\0ok";
	struct vg_renderer *r = vg_renderer_new();
	struct hostile h;
	const char *l;
	char val[256];
	size_t len;

	(void)state;
	assert_non_null(r);
	vg_renderer_set_clock(r, 0);

	/* exec: comm, exe, every argv element, container name, image, pod */
	hostile_init(&h, VG_E_EXEC, "x uid=0 pid=1");
	h.e.exec.exe = "/tmp/a b";
	h.e.exec.args = args;
	h.e.exec.args_len = sizeof(args) - 1;
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "exec    pid=42 ppid=1 uid=1000 \"x uid=0 pid=1\" "
			    ATTR " exe=\"/tmp/a b\" args=[\"/tmp/a b\" \"uid=0\" \"x\\ny\" "
			    "\"\\x1b[31mred\" \"\\u{009b}2J\" \"\\u{202e}fdp.exe\" "
			    "\"bad\\xff\" \"\" \"caf\xc3\xa9\" \"]\" \"-\" ok]");
	one_field(l, "uid", val, sizeof(val));
	assert_string_equal(val, "1000");
	one_field(l, "pid", val, sizeof(val));
	assert_string_equal(val, "42");
	one_field(l, "name", val, sizeof(val));
	assert_string_equal(val, "\"web uid=0\"");
	one_field(l, "image", val, sizeof(val));
	one_field(l, "exe", val, sizeof(val));
	assert_string_equal(val, "\"/tmp/a b\"");
	one_field(l, "container", val, sizeof(val));
	assert_string_equal(val, "docker:0123456789ab");

	/* the JSON line of the same: valid, the same strings (invalid UTF-8
	 * as U+FFFD), hidden code points escaped */
	{
		json_error_t err;
		json_t *root, *a;
		const char *js = vg_render_event(r, &h.e, VG_OUTPUT_JSON, &len);

		assert_non_null(js);
		assert_null(strstr(js, "\xe2\x80\xae"));
		assert_null(strstr(js, "\xc2\x9b"));
		assert_non_null(strstr(js, "\\u202e"));
		root = json_loadb(js, len, 0, &err);
		if (!root)
			fail_msg("%s: %s", js, err.text);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(root, "proc"), "name")),
				    "x uid=0 pid=1");
		a = json_object_get(json_object_get(root, "proc"), "args");
		assert_int_equal(json_array_size(a), 12);
		assert_string_equal(json_string_value(json_array_get(a, 5)),
				    "\xe2\x80\xae" "fdp.exe");
		assert_string_equal(json_string_value(json_array_get(a, 6)),
				    "bad\xef\xbf\xbd");
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(root, "container"), "image")),
				    "img\n2026-01-01T00:00:00.000000Z exec");
		json_decref(root);
	}

	/* open: a path that would end the line early and add fields */
	hostile_init(&h, VG_E_OPEN, "cat");
	h.e.open.name = h.e.open.path = "/tmp/x = 3 uid=0\r\x1b[2K";
	h.e.open.ret = -2;
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "open    pid=42 ppid=1 uid=1000 cat " ATTR
			    " \"/tmp/x = 3 uid=0\\r\\x1b[2K\" O_RDONLY = ENOENT");
	one_field(l, "uid", val, sizeof(val));
	assert_string_equal(val, "1000");

	/* a rename's two paths and a symlink's target */
	hostile_init(&h, VG_E_FILE, "mv");
	h.e.file.action = VG_FA_RENAME;
	h.e.file.name = h.e.file.path = "/a (from /etc/shadow)";
	h.e.file.name2 = h.e.file.path2 = "/b\xe2\x81\xa6";
	h.e.file.path_flags = VG_EP_USER;
	h.e.file.fd = -1;
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "file    pid=42 ppid=1 uid=1000 mv " ATTR
			    " rename \"/a (from /etc/shadow)\" (from \"/b\\u{2066}\")");
	h.e.file.action = VG_FA_SYMLINK;
	h.e.file.name2 = "-> x";
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "file    pid=42 ppid=1 uid=1000 mv " ATTR
			    " symlink \"/a (from /etc/shadow)\" -> \"-> x\"");

	/* a Unix socket path */
	hostile_init(&h, VG_E_CONNECT, "nc");
	h.e.net.family = AF_UNIX;
	h.e.net.server.family = AF_UNIX;
	snprintf(h.e.net.server.text, sizeof(h.e.net.server.text), "@x local=1.2.3.4:5");
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "connect pid=42 ppid=1 uid=1000 nc " ATTR
			    " \"@x local=1.2.3.4:5\" = 0");
	one_field(l, "uid", val, sizeof(val));

	/* no metadata: the container id alone; unknown exe as "?" */
	hostile_init(&h, VG_E_EXEC, "?");
	h.a.meta = NULL;
	l = line_of(r, &h.e, &len);
	assert_string_equal(l, WHEN "exec    pid=42 ppid=1 uid=1000 \"?\" "
			    "container=docker:0123456789ab exe=? args=[]");
	vg_renderer_free(r);
}

/* Long values are whole: no cut, however much escaping grows them. */
static void test_event_long(void **state)
{
	struct vg_renderer *r = vg_renderer_new();
	size_t n = 100000, len;
	char *path = malloc(n + 1), *want;
	struct hostile h;
	const char *l;

	(void)state;
	assert_non_null(r);
	assert_non_null(path);
	hostile_init(&h, VG_E_OPEN, "cat");
	h.a.meta = NULL;
	path[0] = '/';
	memset(path + 1, 'a', n - 1);
	path[n] = '\0';
	h.e.open.name = path;
	l = line_of(r, &h.e, &len);
	assert_non_null(strstr(l, path));
	assert_true(len > n);
	assert_string_equal(l + len - 12, "O_RDONLY = 0");

	/* every byte escaped: four times as long, still whole */
	memset(path + 1, '\x01', n - 1);
	l = line_of(r, &h.e, &len);
	want = malloc(4 * n + 64);
	assert_non_null(want);
	{
		size_t o = (size_t)sprintf(want, " \"/");

		for (size_t i = 1; i < n; i++)
			o += (size_t)sprintf(want + o, "\\x01");
		sprintf(want + o, "\" O_RDONLY = 0");
	}
	assert_non_null(strstr(l, want));
	free(want);
	free(path);
	vg_renderer_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_structure),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_raw_members),
		cmocka_unit_test(test_text_rule),
		cmocka_unit_test(test_text_rule_more),
		cmocka_unit_test(test_json_hidden),
		cmocka_unit_test(test_text_block),
		cmocka_unit_test(test_event_hostile),
		cmocka_unit_test(test_event_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
