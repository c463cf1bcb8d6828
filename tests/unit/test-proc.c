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
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "proc/proc.h"

#define STAT_TAIL " S 7 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 1000000 100\n"

static void test_parse_stat(void **state)
{
	static const struct {
		const char *text;
		int ret;
		const char *comm;
	} cases[] = {
		{ "100 (sleep)" STAT_TAIL, 0, "sleep" },
		{ "100 (a b)" STAT_TAIL, 0, "a b" },
		{ "100 (x) S 9 (y)" STAT_TAIL, 0, "x) S 9 (y" },
		{ "100 ())" STAT_TAIL, 0, ")" },
		{ "100 (new\nline)" STAT_TAIL, 0, "new\nline" },
		{ "100 ()" STAT_TAIL, 0, "" },
		{ "", -EBADMSG, NULL },
		{ "100 (sleep", -EBADMSG, NULL },
		{ "100 sleep)" STAT_TAIL, -EBADMSG, NULL },
		{ "100 (sleep) S 7 100", -EBADMSG, NULL },
		{ "100 (sleep) S x 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777\n", -EBADMSG, NULL },
		{ "100 (sleep) S 7 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 -5\n", -EBADMSG, NULL },
		{ "100 (sleep) SS 7 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 5\n", -EBADMSG, NULL },
		{ "100 (sleep) S 7 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 5\nextra\n", -EBADMSG, NULL },
		{ "100 (0123456789012345678901234567890123456789012345678901234567890123456789)" STAT_TAIL, -EBADMSG, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_proc p = { 0 };
		int r = vg_proc_parse_stat(cases[i].text, strlen(cases[i].text), &p);

		if (r != cases[i].ret)
			fail_msg("case %zu: got %d want %d", i, r, cases[i].ret);
		if (r == 0) {
			assert_string_equal(p.comm, cases[i].comm);
			assert_int_equal(p.ppid, 7);
			assert_int_equal(p.start_ticks, 777);
			assert_int_equal(p.state, 'S');
			assert_int_equal(p.pgrp, 100);
			assert_int_equal(p.session, 100);
			assert_int_equal(p.tty_nr, 0);
		}
	}
	/* the controlling terminal (pts/0), and a number printed negative */
	{
		static const char pts[] = "9 (bash) S 7 9 8 34816 -1 4194560 100 0 0 0 1 2 0 0 "
					  "20 0 1 0 777 1000000 100\n";
		static const char neg[] = "9 (bash) S 7 9 8 -2147483648 -1 4194560 100 0 0 0 1 "
					  "2 0 0 20 0 1 0 777 1000000 100\n";
		static const char bad[] = "9 (bash) S 7 9 8 -2147483649 -1 4194560 100 0 0 0 1 "
					  "2 0 0 20 0 1 0 777 1000000 100\n";
		struct vg_proc p = { 0 };

		assert_int_equal(vg_proc_parse_stat(pts, strlen(pts), &p), 0);
		assert_int_equal(p.tty_nr, 34816);
		assert_int_equal(p.pgrp, 9);
		assert_int_equal(p.session, 8);
		assert_int_equal(vg_proc_parse_stat(neg, strlen(neg), &p), 0);
		assert_int_equal(p.tty_nr, INT32_MIN);
		assert_int_equal(vg_proc_parse_stat(bad, strlen(bad), &p), -EBADMSG);
	}
}

static void test_parse_status(void **state)
{
	const char *ok = "Name:\tx\nTgid:\t42\nPPid:\t1\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nNSpid:\t42\t7\n";
	const char *no_uid = "Name:\tx\nTgid:\t42\nGid:\t5\t6\t7\t8\n";
	const char *bad_uid = "Tgid:\t42\nUid:\t1\t2\nGid:\t5\t6\t7\t8\n";
	const char *huge_uid = "Tgid:\t42\nUid:\t1\t2\t3\t99999999999\nGid:\t5\t6\t7\t8\n";
	struct vg_proc p = { 0 };
	char *long_groups;

	(void)state;
	assert_int_equal(vg_proc_parse_status(ok, strlen(ok), &p), 0);
	assert_int_equal(p.uid, 1);
	assert_int_equal(p.euid, 2);
	assert_int_equal(p.fsuid, 4);
	assert_int_equal(p.egid, 6);
	assert_int_equal(p.tgid, 42);
	assert_int_equal(vg_proc_parse_status(no_uid, strlen(no_uid), &p), -EBADMSG);
	assert_int_equal(vg_proc_parse_status(bad_uid, strlen(bad_uid), &p), -EBADMSG);
	assert_int_equal(vg_proc_parse_status(huge_uid, strlen(huge_uid), &p), -EBADMSG);
	assert_int_equal(vg_proc_parse_status("", 0, &p), -EBADMSG);

	/* a Groups: line far longer than the line buffer is skipped */
	long_groups = malloc(20000);
	assert_non_null(long_groups);
	strcpy(long_groups, "Groups:");
	for (int i = 0; i < 2000; i++)
		strcat(long_groups, " 1234");
	strcat(long_groups, "\nTgid:\t42\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n");
	assert_int_equal(vg_proc_parse_status(long_groups, strlen(long_groups), &p), 0);
	free(long_groups);
}

static void test_split_args(void **state)
{
	char a[] = "ls\0-l\0/tmp\0";
	char b[] = "rewritten title";
	char c[] = "x\0\0y\0";
	char **argv = NULL;
	size_t argc = 0;

	(void)state;
	assert_int_equal(vg_proc_split_args(a, sizeof(a) - 1, &argv, &argc), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[2], "/tmp");
	assert_null(argv[3]);
	free(argv);
	assert_int_equal(vg_proc_split_args(b, sizeof(b) - 1, &argv, &argc), 0);
	assert_int_equal(argc, 1);
	assert_string_equal(argv[0], "rewritten title");
	free(argv);
	assert_int_equal(vg_proc_split_args(c, sizeof(c) - 1, &argv, &argc), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[1], "");
	free(argv);
	assert_int_equal(vg_proc_split_args(c, 0, &argv, &argc), 0);
	assert_int_equal(argc, 0);
	free(argv);
}

static void test_ns_link(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vg_proc_parse_ns_link("pid:[4026531836]", &v), 0);
	assert_int_equal(v, 4026531836ull);
	assert_int_equal(vg_proc_parse_ns_link("pid:4026531836", &v), -EBADMSG);
	assert_int_equal(vg_proc_parse_ns_link("pid:[]", &v), -EBADMSG);
	assert_int_equal(vg_proc_parse_ns_link("pid:[12]x", &v), -EBADMSG);
	assert_int_equal(vg_proc_parse_ns_link("pid:[1x]", &v), -EBADMSG);
}

/* Each process of the bad-input fixture: a clear answer, no crash. */
static void test_bad_input_fixture(void **state)
{
	static const struct {
		int pid;
		enum vigil_status status;
		const char *comm;
	} cases[] = {
		{ 200, VIGIL_OK, "we ird) (x" },
		{ 201, VIGIL_OK, "new\nline" },
		{ 202, VIGIL_BAD_PROC_FILE, NULL }, /* empty stat */
		{ 203, VIGIL_BAD_PROC_FILE, NULL }, /* truncated stat */
		{ 204, VIGIL_BAD_PROC_FILE, NULL }, /* cgroup line without fields */
		{ 205, VIGIL_BAD_PROC_FILE, NULL }, /* empty cgroup */
		{ 206, VIGIL_BAD_PROC_FILE, NULL }, /* garbage status */
		{ 207, VIGIL_OK, "kthread" },        /* no exe, no cwd, no argv */
		{ 208, VIGIL_BAD_PROC_FILE, NULL }, /* non-numeric hierarchy */
		{ 209, VIGIL_NOT_FOUND, NULL },     /* status gone: vanished */
		{ 210, VIGIL_NOT_FOUND, NULL },     /* no such pid */
	};
	const char *base = getenv("VIGIL_FIXTURES");
	struct vigil_ctx *ctx = NULL;
	char *root;

	(void)state;
	assert_non_null(base);
	assert_true(asprintf(&root, "%s/bad-input", base) > 0);
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vigil_identity *id = NULL;
		char *json;

		assert_int_equal(vigil_identify_pid(ctx, cases[i].pid, &id), 0);
		if (vigil_identity_status(id) != cases[i].status)
			fail_msg("pid %d: %s (%s)", cases[i].pid,
				 vigil_status_name(vigil_identity_status(id)),
				 vigil_identity_message(id));
		if (cases[i].comm)
			assert_string_equal(id->proc.comm, cases[i].comm);
		if (cases[i].status != VIGIL_OK)
			assert_true(strlen(vigil_identity_message(id)) > 0);
		json = vigil_identity_to_json(id);
		assert_non_null(json);
		free(json);
		vigil_identity_free(id);
	}
	vigil_ctx_free(ctx);
	free(root);
}

static void write_file(const char *dir, const char *name, const void *buf,
		       size_t len)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* tmpl/proc/300 with stat, status and cgroup; returns tmpl/proc. */
static char *make_proc_root(char *tmpl, char **ret_pdir)
{
	static const char stat[] = "300 (big)" STAT_TAIL;
	static const char status[] = "Tgid:\t300\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
	char *procdir, *pdir;

	assert_non_null(mkdtemp(tmpl));
	assert_true(asprintf(&procdir, "%s/proc", tmpl) > 0);
	assert_true(asprintf(&pdir, "%s/300", procdir) > 0);
	assert_int_equal(mkdir(procdir, 0755), 0);
	assert_int_equal(mkdir(pdir, 0755), 0);
	write_file(pdir, "stat", stat, sizeof(stat) - 1);
	write_file(pdir, "status", status, sizeof(status) - 1);
	write_file(pdir, "cgroup", "0::/\n", 5);
	*ret_pdir = pdir;
	return procdir;
}

static void cleanup_tree(const char *root)
{
	char *cmd;

	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* A 2 MiB argv is read whole; past the cap it is cut and flagged. */
static void test_huge_argv(void **state)
{
	char tmpl[] = "/tmp/vigil-test-XXXXXX";
	struct vg_proc p;
	const char *what;
	char *pdir, *procdir, *args;
	size_t n = 2 * 1024 * 1024;
	int proc_fd;

	(void)state;
	procdir = make_proc_root(tmpl, &pdir);
	args = malloc(VG_CMDLINE_MAX + 100);
	assert_non_null(args);
	memset(args, 'a', VG_CMDLINE_MAX + 100);
	args[n - 1] = '\0';
	args[10] = '\0';
	write_file(pdir, "cmdline", args, n);

	proc_fd = open(procdir, O_RDONLY | O_DIRECTORY);
	assert_true(proc_fd >= 0);
	assert_int_equal(vg_proc_read(proc_fd, 300, 0, &p, &what), 0);
	assert_int_equal(p.argc, 2);
	assert_int_equal(strlen(p.argv[1]), n - 12);
	assert_false(p.args_truncated);
	vg_proc_release(&p);

	args[n - 1] = 'a';
	args[VG_CMDLINE_MAX + 99] = '\0';
	write_file(pdir, "cmdline", args, VG_CMDLINE_MAX + 100);
	assert_int_equal(vg_proc_read(proc_fd, 300, 0, &p, &what), 0);
	assert_true(p.args_truncated);
	assert_int_equal(p.args_len, VG_CMDLINE_MAX);
	vg_proc_release(&p);

	/* a cgroup file larger than any kernel writes is refused, not cut */
	memset(args, 'a', VG_CGROUP_FILE_MAX + 10);
	memcpy(args, "0::/", 4);
	write_file(pdir, "cgroup", args, VG_CGROUP_FILE_MAX + 10);
	assert_int_equal(vg_proc_read(proc_fd, 300, 0, &p, &what), 0);
	assert_int_equal(p.cgroup_err, -EFBIG);
	assert_null(p.cgroup_text);
	vg_proc_release(&p);

	/* a stat file larger than any kernel writes is malformed */
	memset(args, '1', 8192);
	write_file(pdir, "stat", args, 8192);
	assert_int_equal(vg_proc_read(proc_fd, 300, 0, &p, &what), -EBADMSG);
	assert_string_equal(what, "stat");

	close(proc_fd);
	free(args);
	cleanup_tree(tmpl);
	free(pdir);
	free(procdir);
}

/* The pidfd's credentials and the status file's agree, for a live
 * process of ours (skipped, with the reason, where the kernel lacks the
 * ioctl). */
static void test_pidfd_matches_status(void **state)
{
	struct vg_proc a, b;
	const char *what;
	int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(proc_fd >= 0);
	assert_int_equal(vg_proc_read(proc_fd, getpid(), 0, &a, &what), 0);
	assert_int_equal(vg_proc_read(proc_fd, getpid(), VG_PROC_PIDFD, &b, &what), 0);
	if (b.pidfd_err) {
		print_message("SKIP: no PIDFD_GET_INFO here (%s)\n", strerror(-b.pidfd_err));
	} else {
		assert_int_equal(a.uid, b.uid);
		assert_int_equal(a.euid, b.euid);
		assert_int_equal(a.fsgid, b.fsgid);
		assert_int_equal(a.tgid, b.tgid);
		assert_int_equal(a.ppid, b.ppid);
		assert_true(b.cgroup_id != 0);
	}
	assert_int_equal(a.start_ticks, b.start_ticks);
	vg_proc_release(&a);
	vg_proc_release(&b);
	/* a pid that does not exist is "gone" on both paths */
	assert_int_equal(vg_proc_read(proc_fd, 4194304, VG_PROC_PIDFD, &b, &what), -ESRCH);
	close(proc_fd);
}

/* Capabilities and the innermost pid from status; a missing or
 * malformed line is an error, not a zero. */
static void test_parse_status_extra(void **state)
{
	static const char ok[] = "Name:\tcat\nNSpid:\t800\t5\nCapInh:\t0000000000000000\n"
				 "CapPrm:\t000001ffffffffff\nCapEff:\t0000000000200002\n";
	static const char host[] = "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nNSpid:\t42\n";
	static const char *const bad[] = {
		"NSpid:\t800\nCapInh:\t0\nCapPrm:\t0\n",              /* no CapEff */
		"NSpid:\t800\nCapInh:\t0\nCapPrm:\t0\nCapEff:\tzz\n", /* not hex */
		"NSpid:\t800\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t00000000000000001\n",
		"CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\n",               /* no NSpid */
		"CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nNSpid:\t800\tx\n",
		"CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nNSpid:\t0\n",
		"CapInh:\t\nCapPrm:\t0\nCapEff:\t0\nNSpid:\t1\n",
	};
	struct vg_proc_status_extra x;

	(void)state;
	assert_int_equal(vg_proc_parse_status_extra(ok, strlen(ok), &x), 0);
	assert_int_equal(x.vpid, 5);
	assert_true(x.cap_inh == 0);
	assert_true(x.cap_prm == 0x1ffffffffffull);
	assert_true(x.cap_eff == 0x200002ull);
	assert_int_equal(vg_proc_parse_status_extra(host, strlen(host), &x), 0);
	assert_int_equal(x.vpid, 42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vg_proc_parse_status_extra(bad[i], strlen(bad[i]), &x) != -EBADMSG)
			fail_msg("case %zu parsed", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_status_extra),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_split_args),
		cmocka_unit_test(test_ns_link),
		cmocka_unit_test(test_bad_input_fixture),
		cmocka_unit_test(test_huge_argv),
		cmocka_unit_test(test_pidfd_matches_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
