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
			    "args             ls 'a b' 'it'\\''s' 'nl\\nx' ''\n"
			    "none             -\n"
			    "count            42\n");
	free(s);
	vg_printer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_structure),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_raw_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
