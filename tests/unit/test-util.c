/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

static void test_parse_numbers(void **state)
{
	uint64_t v;
	int pid;

	(void)state;
	assert_int_equal(vg_parse_u64("0", &v), 0);
	assert_int_equal(vg_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(vg_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(vg_parse_u64("", &v), -EINVAL);
	assert_int_equal(vg_parse_u64("12a", &v), -EINVAL);
	assert_int_equal(vg_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(vg_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(vg_parse_pid("1", &pid), 0);
	assert_int_equal(vg_parse_pid("4194304", &pid), 0);
	assert_int_equal(vg_parse_pid("4194305", &pid), -ERANGE);
	assert_int_equal(vg_parse_pid("0", &pid), -ERANGE);
	assert_int_equal(vg_parse_pid("abc", &pid), -EINVAL);
}

/* /dev/zero never ends: the read must stop at the cap and say so. */
static void test_read_bounded(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	bool cut = false;
	char small[8];

	(void)state;
	assert_int_equal(vg_read_file_at(AT_FDCWD, "/dev/zero", 100000, &buf,
					 &len, &cut), 0);
	assert_int_equal(len, 100000);
	assert_true(cut);
	free(buf);

	assert_int_equal(vg_read_file_at(AT_FDCWD, "/dev/null", 10, &buf, &len,
					 &cut), 0);
	assert_int_equal(len, 0);
	assert_false(cut);
	assert_string_equal(buf, "");
	free(buf);

	assert_int_equal(vg_read_file_at(AT_FDCWD, "/nonexistent", 10, &buf,
					 &len, &cut), -ENOENT);
	assert_int_equal(vg_read_small_at(AT_FDCWD, "/dev/zero", small,
					  sizeof(small)), -EFBIG);
	assert_int_equal(vg_read_small_at(AT_FDCWD, "/dev/null", small,
					  sizeof(small)), 0);
}

static void test_strings(void **state)
{
	(void)state;
	assert_true(vg_is_hex("0123abcdef", 10));
	assert_false(vg_is_hex("ABCDEF", 6));
	assert_false(vg_is_hex("", 0));
	assert_true(vg_startswith("docker-x", "docker-"));
	assert_false(vg_startswith("dock", "docker-"));
	assert_true(vg_endswith_n("a.scope", 7, ".scope"));
	assert_false(vg_endswith_n("scope", 5, ".scope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_read_bounded),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
