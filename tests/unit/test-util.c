/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/userdb.h"
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

/* ---- files under a host root ----------------------------------------- */

static char tree[32]; /* T: T/root is the host root, T/out beside it */

static void put(const char *rel, const char *text)
{
	char path[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *target, const char *rel)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void mkdir_at(const char *rel)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/*
 * T/out/secret      "outside": vigil's filesystem, outside the host root
 * T/root/T/out/secret "mirror": the host root's file of that same path
 * T/root/etc/secret  "inside"
 * and symlinks, a FIFO and a socket in T/root.
 */
static int make_tree(void)
{
	char path[256], target[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, root_fd;

	snprintf(tree, sizeof(tree), "/tmp/test-util-XXXXXX");
	assert_non_null(mkdtemp(tree));
	mkdir_at("out");
	put("out/secret", "outside");
	mkdir_at("root");
	mkdir_at("root/etc");
	mkdir_at("root/dir");
	put("root/etc/secret", "inside");
	snprintf(path, sizeof(path), "mkdir -p '%s/root%s/out'", tree, tree);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "root%s/out/secret", tree);
	put(path, "mirror");
	link_at("secret", "root/etc/rel");
	snprintf(target, sizeof(target), "%s/out/secret", tree);
	link_at(target, "root/abs");
	snprintf(target, sizeof(target), "../../../../../../../../..%s/out/secret",
		 tree);
	link_at(target, "root/dir/up");
	link_at("/etc", "root/etcabs");
	link_at("/etc/passwd", "root/passwd");
	link_at("loop", "root/loop");
	link_at("chain2", "root/chain1");
	link_at("/etc/rel", "root/chain2");
	link_at("/nope", "root/dangling");
	/* l0 -> l1 -> ... -> l40 -> etc/secret: l1 is 40 links, l0 41 */
	for (int i = 0; i <= 40; i++) {
		char name[32];

		snprintf(name, sizeof(name), "root/l%d", i);
		if (i < 40)
			snprintf(target, sizeof(target), "l%d", i + 1);
		else
			snprintf(target, sizeof(target), "etc/secret");
		link_at(target, name);
	}
	snprintf(path, sizeof(path), "%s/root/fifo", tree);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/root/sock", tree);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	snprintf(path, sizeof(path), "%s/root", tree);
	root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root_fd >= 0);
	return root_fd;
}

static void remove_tree(int root_fd)
{
	char cmd[64];

	close(root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	assert_int_equal(system(cmd), 0);
}

/* What @fd reads, or the error it is. */
static const char *got(int fd, char *buf, size_t bufsz)
{
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, bufsz, "-%s", strerrorname_np(-fd));
		return buf;
	}
	n = read(fd, buf, bufsz - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

/* One table for openat2() and for the walk that stands in for it on
 * kernels without: both must answer the same. */
static const struct {
	const char *path;
	int flags;
	const char *want; /* the content, or "-ERRNO" */
} in_root_cases[] = {
	{ "etc/secret", 0, "inside" },
	{ "/etc/secret", 0, "inside" },             /* '/' is the root */
	{ "//etc//./secret", 0, "inside" },
	{ "../../etc/secret", 0, "inside" },        /* the root is its parent */
	{ "dir/../../../etc/secret", 0, "inside" },
	{ "etc/rel", 0, "inside" },                 /* relative link */
	{ "abs", 0, "mirror" },                     /* absolute: the root's */
	{ "dir/up", 0, "mirror" },                  /* climbing stops at it */
	{ "etcabs/secret", 0, "inside" },           /* a directory link */
	{ "etcabs/rel", 0, "inside" },
	{ "etcabs/../etc/secret", 0, "inside" },    /* ".." of /etc is the root */
	{ "chain1", 0, "inside" },
	{ "l1", 0, "inside" },                      /* 40 links */
	{ "l0", 0, "-ELOOP" },                      /* 41 */
	{ "loop", 0, "-ELOOP" },
	{ "passwd", 0, "-ENOENT" },                 /* vigil's /etc/passwd: no */
	{ "dangling", 0, "-ENOENT" },
	{ "nope", 0, "-ENOENT" },
	{ "", 0, "-ENOENT" },
	{ "etc/secret/", 0, "-ENOTDIR" },
	{ "etc/secret/x", 0, "-ENOTDIR" },
	{ "etc/rel/", 0, "-ENOTDIR" },
	{ "etc/rel", O_NOFOLLOW, "-ELOOP" },
	{ "abs", O_NOFOLLOW, "-ELOOP" },
	{ "etcabs/secret", O_NOFOLLOW, "inside" },  /* only the last one */
	{ "etc/secret", O_DIRECTORY, "-ENOTDIR" },
	{ "fifo", 0, "" },                          /* O_NONBLOCK: no writer */
};

static void test_open_in_root(void **state)
{
	int (*const fns[])(int, const char *, int) = { vg_open_in_root,
						       vg_open_in_root_walk };
	int root_fd = make_tree();
	char buf[64];
	struct stat st;
	int fd;

	(void)state;
	alarm(10); /* a FIFO opened without O_NONBLOCK would hang */
	for (size_t f = 0; f < VG_ARRAY_SIZE(fns); f++) {
		for (size_t i = 0; i < VG_ARRAY_SIZE(in_root_cases); i++) {
			const char *path = in_root_cases[i].path;
			int flags = in_root_cases[i].flags;

			print_message("%s: '%s' 0%o\n", f ? "walk" : "openat2",
				      path, (unsigned)flags);
			fd = fns[f](root_fd, path, O_RDONLY | O_NONBLOCK | flags);
			assert_string_equal(got(fd, buf, sizeof(buf)),
					    in_root_cases[i].want);
		}
		/* O_PATH: directories, and a link itself with O_NOFOLLOW */
		fd = fns[f](root_fd, "etcabs", O_PATH | O_DIRECTORY);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		close(fd);
		fd = fns[f](root_fd, "etc/rel", O_PATH | O_NOFOLLOW);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
		close(fd);
		fd = fns[f](root_fd, "dir/..", O_PATH | O_DIRECTORY);
		assert_true(fd >= 0);
		close(fd);
	}
	alarm(0);
	remove_tree(root_fd);
}

/* Runtime state files: regular files only, and never a wait. */
static void test_open_state(void **state)
{
	static const struct {
		const char *path;
		int flags;
		const char *want;
	} cases[] = {
		{ "etc/secret", 0, "inside" },
		{ "abs", 0, "mirror" },
		{ "etc/rel", 0, "inside" },
		{ "etc/rel", O_NOFOLLOW, "-ELOOP" },
		{ "etcabs/secret", O_NOFOLLOW, "inside" },
		{ "fifo", 0, "-EMEDIUMTYPE" },   /* VG_ENOTREG */
		{ "sock", 0, "-EMEDIUMTYPE" },
		{ "dir", 0, "-EMEDIUMTYPE" },
		{ "etcabs", 0, "-EMEDIUMTYPE" },
		{ "passwd", 0, "-ENOENT" },
		{ "etc/secret", O_DIRECTORY, "-EINVAL" }, /* not a choice */
	};
	int root_fd = make_tree();
	char buf[64], *big = NULL;
	size_t len = 0;
	bool cut = true;
	struct stat st;
	int fd;

	(void)state;
	alarm(10);
	for (size_t i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		print_message("'%s' 0%o\n", cases[i].path, (unsigned)cases[i].flags);
		fd = vg_open_state_at(root_fd, cases[i].path, cases[i].flags, &st);
		if (fd >= 0) {
			/* reopened for reading, without blocking */
			assert_int_equal(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
					 O_RDONLY | O_NONBLOCK);
			assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
			assert_true(S_ISREG(st.st_mode));
		}
		assert_string_equal(got(fd, buf, sizeof(buf)), cases[i].want);
	}
	assert_string_equal(vg_strerror(VG_ENOTREG), "not a regular file");
	assert_string_equal(vg_strerror(ENOENT), strerror(ENOENT));

	assert_int_equal(vg_read_state_at(root_fd, "abs", 100, &big, &len, &cut), 0);
	assert_string_equal(big, "mirror");
	assert_int_equal(len, 6);
	assert_false(cut);
	free(big);
	assert_int_equal(vg_read_state_at(root_fd, "etc/secret", 3, &big, &len,
					  &cut), 0);
	assert_string_equal(big, "ins");
	assert_true(cut);
	free(big);
	big = (char *)0x1;
	assert_int_equal(vg_read_state_at(root_fd, "fifo", 100, &big, &len, &cut),
			 -VG_ENOTREG);
	assert_ptr_equal(big, (char *)0x1);
	assert_int_equal(vg_read_state_small_at(root_fd, "etc/rel", buf,
						sizeof(buf)), 6);
	assert_string_equal(buf, "inside");
	assert_int_equal(vg_read_state_small_at(root_fd, "etc/rel", buf, 4),
			 -EFBIG);
	assert_int_equal(vg_read_state_small_at(root_fd, "fifo", buf,
						sizeof(buf)), -VG_ENOTREG);
	assert_int_equal(vg_read_state_small_at(root_fd, "sock", buf,
						sizeof(buf)), -VG_ENOTREG);
	alarm(0);
	remove_tree(root_fd);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Names from <root>/etc/passwd and group: the first line of an id, odd
 * lines skipped, a changed file read again at the next check only, a
 * missing one answers nothing. */
static void test_userdb(void **state)
{
	char dir[] = "/tmp/vigil-test-userdb.XXXXXX", etc[600], cmd[700];
	struct vg_userdb *db;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	assert_int_equal(mkdir(etc, 0755), 0);
	write_file(etc, "passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n"
				  "#bob:x:7:7::/:/bin/sh\n+:::\nnoid:x::1::/:\n"
				  "big:x:4294967296:1::/:\nalice:x:1000:100::/:/bin/sh");
	write_file(etc, "group", "users:x:100:alice\n");
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	db = vg_userdb_new(fd);
	assert_non_null(db);
	assert_string_equal(vg_userdb_user(db, 0, 1), "root");
	assert_string_equal(vg_userdb_user(db, 1000, 1), "alice"); /* no newline */
	assert_null(vg_userdb_user(db, 7, 1));
	assert_null(vg_userdb_user(db, 1, 1));
	assert_string_equal(vg_userdb_group(db, 100, 1), "users");
	assert_null(vg_userdb_group(db, 0, 1));

	/* changed: seen at the next check, not before */
	write_file(etc, "passwd", "carol:x:1000:100::/:/bin/sh\n");
	assert_string_equal(vg_userdb_user(db, 1000, 2), "alice");
	assert_string_equal(vg_userdb_user(db, 1000, 2 + VG_USERDB_RECHECK_NS), "carol");
	assert_null(vg_userdb_user(db, 0, 2 + VG_USERDB_RECHECK_NS));
	/* gone: nothing */
	snprintf(cmd, sizeof(cmd), "%s/passwd", etc);
	assert_int_equal(unlink(cmd), 0);
	assert_null(vg_userdb_user(db, 1000, 3 + 2 * VG_USERDB_RECHECK_NS));
	vg_userdb_free(db);
	vg_userdb_free(NULL);
	assert_null(vg_userdb_user(NULL, 0, 0));
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_userdb),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_read_bounded),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_open_in_root),
		cmocka_unit_test(test_open_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
