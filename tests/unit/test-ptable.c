/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process table: fork/exec/exit bookkeeping, exec ids and parent links,
 * exited entries kept for late events, eviction when full (counted), pid
 * reuse, deletion under collisions (against a model), and seeding from a
 * fake /proc with hostile files.
 */
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

#include "ptable/ptable.h"

#define BOOT "0123456789abcdef0123456789abcdef"
#define TICK 10000000ull /* ns per tick at 100 Hz */

static void test_fork_exec_exit(void **state)
{
	struct vg_ptable *t = vg_ptable_new(64, BOOT, 100);
	const struct vg_pt_entry *p, *c;
	struct vg_ptable_stats st;
	char id[VG_PT_EXEC_ID_MAX];

	(void)state;
	assert_non_null(t);
	assert_int_equal(vg_ptable_exec(t, 100, 1, 5 * TICK, "/bin/sh", "sh"), 0);
	p = vg_ptable_get(t, 100);
	assert_non_null(p);
	assert_string_equal(p->exe, "/bin/sh");
	assert_string_equal(p->comm, "sh");
	assert_string_equal(p->parent_exec_id, ""); /* pid 1 unknown */

	assert_int_equal(vg_ptable_fork(t, 100, 101, 7 * TICK), 0);
	c = vg_ptable_get(t, 101);
	assert_non_null(c);
	assert_string_equal(c->exe, "/bin/sh"); /* inherited until exec */
	assert_string_equal(c->comm, "sh");
	assert_string_equal(c->parent_exec_id, vg_ptable_get(t, 100)->exec_id);
	assert_string_not_equal(c->exec_id, c->parent_exec_id);

	/* exec keeps the start time, hence the exec id */
	char before[VG_PT_EXEC_ID_MAX];
	snprintf(before, sizeof(before), "%s", c->exec_id);
	assert_int_equal(vg_ptable_exec(t, 101, 100, 7 * TICK, "/bin/cat", "cat"), 0);
	c = vg_ptable_get(t, 101);
	assert_string_equal(c->exe, "/bin/cat");
	assert_string_equal(c->comm, "cat");
	assert_string_equal(c->exec_id, before);

	/* vg_ptable_exec_id: the entry's own when it is this process,
	 * computed alike when it is not in the table */
	vg_ptable_exec_id(t, 101, 7 * TICK, id, sizeof(id));
	assert_string_equal(id, before);
	vg_ptable_exec_id(t, 555, 9 * TICK, id, sizeof(id));
	assert_non_null(strstr(id, "-555-"));
	vg_ptable_exec_id(t, 101, 7 * TICK, id, 4); /* bounded */
	assert_int_equal(strlen(id), 3);

	/* an exited process stays findable for late events */
	vg_ptable_exit(t, 101);
	c = vg_ptable_get(t, 101);
	assert_non_null(c);
	assert_true(c->exited);
	vg_ptable_exit(t, 101); /* twice: no harm */

	/* its pid reused: a fresh entry */
	assert_int_equal(vg_ptable_fork(t, 100, 101, 50 * TICK), 0);
	c = vg_ptable_get(t, 101);
	assert_false(c->exited);
	assert_string_not_equal(c->exec_id, before);

	/* exec of a process never seen: created, counted as a miss */
	assert_int_equal(vg_ptable_exec(t, 300, 100, 60 * TICK, NULL, NULL), 0);
	assert_null(vg_ptable_get(t, 300)->exe);
	vg_ptable_stats(t, &st);
	assert_int_equal(st.forks, 2);
	assert_int_equal(st.execs, 3);
	assert_int_equal(st.exits, 2);
	assert_int_equal(st.misses, 2); /* pid 100's exec, pid 300's */
	assert_int_equal(st.evicted, 0);

	assert_int_equal(vg_ptable_fork(t, 1, 0, 0), -EINVAL);
	assert_int_equal(vg_ptable_exec(t, -4, 1, 0, NULL, NULL), -EINVAL);
	assert_null(vg_ptable_get(t, 0));
	assert_null(vg_ptable_get(t, -1));
	vg_ptable_exit(t, 0);
	vg_ptable_exit(t, 999);
	vg_ptable_free(t);
}

static void test_exited_kept_then_removed(void **state)
{
	struct vg_ptable *t = vg_ptable_new(8192, NULL, 100);
	struct vg_ptable_stats st;

	(void)state;
	assert_non_null(t);
	for (int pid = 1000; pid < 1000 + VG_PT_EXITED_KEEP + 10; pid++) {
		assert_int_equal(vg_ptable_fork(t, 1, pid, (uint64_t)pid * TICK), 0);
		vg_ptable_exit(t, pid);
	}
	/* the first ten are gone, the rest kept */
	for (int pid = 1000; pid < 1010; pid++)
		assert_null(vg_ptable_get(t, pid));
	for (int pid = 1010; pid < 1000 + VG_PT_EXITED_KEEP + 10; pid++)
		assert_non_null(vg_ptable_get(t, pid));
	vg_ptable_stats(t, &st);
	assert_int_equal(st.entries, VG_PT_EXITED_KEEP);

	/* a reused pid whose old exit is popped later stays */
	assert_int_equal(vg_ptable_fork(t, 1, 1010, 99999 * TICK), 0);
	for (int pid = 5000; pid < 5020; pid++) {
		assert_int_equal(vg_ptable_fork(t, 1, pid, (uint64_t)pid * TICK), 0);
		vg_ptable_exit(t, pid);
	}
	assert_non_null(vg_ptable_get(t, 1010));
	assert_false(vg_ptable_get(t, 1010)->exited);
	vg_ptable_free(t);
}

static void test_eviction_counted(void **state)
{
	struct vg_ptable *t = vg_ptable_new(16, NULL, 100);
	struct vg_ptable_stats st;

	(void)state;
	assert_non_null(t);
	for (int pid = 1; pid <= 40; pid++)
		assert_int_equal(vg_ptable_fork(t, 1, pid, (uint64_t)pid * TICK), 0);
	vg_ptable_stats(t, &st);
	assert_int_equal(st.max, 16);
	assert_int_equal(st.entries, 16);
	assert_int_equal(st.evicted, 24);
	/* the oldest went */
	assert_null(vg_ptable_get(t, 1));
	assert_null(vg_ptable_get(t, 24));
	for (int pid = 25; pid <= 40; pid++)
		assert_non_null(vg_ptable_get(t, pid));
	vg_ptable_free(t);
}

/* Random forks and exits against a plain array: every pid the model has
 * is found with its start time, every other is not (deletion by backward
 * shift must keep probe chains whole). */
static void test_against_model(void **state)
{
	enum { PIDS = 4096, MAX = 1024 };
	struct vg_ptable *t = vg_ptable_new(MAX * 4, NULL, 100);
	static uint64_t model[PIDS]; /* start tick, 0 = absent */
	uint32_t x = 12345;

	(void)state;
	assert_non_null(t);
	memset(model, 0, sizeof(model));
	for (int step = 0; step < 200000; step++) {
		int pid;

		x = x * 1103515245u + 12345u;
		pid = 1 + (int)((x >> 8) % (PIDS - 1));
		if ((x >> 4) & 1) {
			model[pid] = (uint64_t)step + 1;
			assert_int_equal(vg_ptable_fork(t, 1, pid, model[pid] * TICK), 0);
		} else if (model[pid]) {
			vg_ptable_exit(t, pid);
			/* exited entries may stay or go: take them out of
			 * the model's "must be there" set */
			model[pid] = 0;
		}
	}
	for (int pid = 1; pid < PIDS; pid++) {
		const struct vg_pt_entry *e = vg_ptable_get(t, pid);

		if (model[pid]) {
			assert_non_null(e);
			assert_false(e->exited);
			assert_int_equal(e->start_ticks, model[pid]);
		} else if (e) {
			assert_true(e->exited);
		}
	}
	vg_ptable_free(t);
}

static char *mkroot(void)
{
	char *d = strdup("/tmp/vigil-ptable-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void put_file(const char *root, const char *rel, const char *content,
		     size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void mk(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void test_seed(void **state)
{
	char *root = mkroot();
	struct vg_ptable *t = vg_ptable_new(64, BOOT, 100);
	const struct vg_pt_entry *e;
	char big[8192];
	int dfd, n;

	(void)state;
	/* 1: a normal process with an exe link */
	mk(root, "1");
	{
		const char *s = "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n";

		put_file(root, "1/stat", s, strlen(s));
	}
	{
		char link[512];

		snprintf(link, sizeof(link), "%s/1/exe", root);
		assert_int_equal(symlink("/sbin/init", link), 0);
	}
	/* 7: a comm with spaces and parentheses, child of 1, no exe */
	mk(root, "7");
	{
		const char *s = "7 (a) b) (c) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n";

		put_file(root, "7/stat", s, strlen(s));
	}
	/* hostile ones: empty, garbage, huge, not a pid, no stat */
	mk(root, "8");
	put_file(root, "8/stat", "", 0);
	mk(root, "9");
	put_file(root, "9/stat", "\x01\x02garbage)))", 12);
	mk(root, "10");
	memset(big, 'x', sizeof(big));
	put_file(root, "10/stat", big, sizeof(big));
	mk(root, "self");
	mk(root, "11");
	mk(root, "99999999999");

	dfd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	n = vg_ptable_seed(t, dfd);
	assert_int_equal(n, 2);
	e = vg_ptable_get(t, 1);
	assert_non_null(e);
	assert_string_equal(e->comm, "init");
	assert_string_equal(e->exe, "/sbin/init");
	assert_int_equal(e->start_ticks, 42);
	e = vg_ptable_get(t, 7);
	assert_non_null(e);
	assert_string_equal(e->comm, "a) b) (c");
	assert_null(e->exe);
	assert_int_equal(e->ppid, 1);
	assert_string_equal(e->parent_exec_id, vg_ptable_get(t, 1)->exec_id);
	for (int pid = 8; pid <= 11; pid++)
		assert_null(vg_ptable_get(t, pid));
	assert_int_equal(vg_ptable_seed(t, -1), -EBADF);
	close(dfd);
	vg_ptable_free(t);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
	free(root);
}

/* argv kept whole or not at all, inherited by a fork, gone at an exec. */
static void test_args(void **state)
{
	struct vg_ptable *t = vg_ptable_new(64, BOOT, 100);
	const struct vg_pt_entry *e;
	static char big[VG_PT_ARGS_MAX + 1];

	(void)state;
	assert_int_equal(vg_ptable_exec(t, 100, 1, 5 * TICK, "/bin/sh", "sh"), 0);
	assert_null(vg_ptable_get(t, 100)->args);
	assert_int_equal(vg_ptable_set_args(t, 100, "sh\0-c\0x", 7), 0);
	e = vg_ptable_get(t, 100);
	assert_int_equal(e->args_len, 7);
	assert_memory_equal(e->args, "sh\0-c\0x", 7);
	assert_int_equal(vg_ptable_fork(t, 100, 101, 7 * TICK), 0);
	e = vg_ptable_get(t, 101);
	assert_int_equal(e->args_len, 7);
	assert_memory_equal(e->args, "sh\0-c\0x", 7);
	/* a new program: not its parent's argv */
	assert_int_equal(vg_ptable_exec(t, 101, 100, 7 * TICK, "/bin/cat", "cat"), 0);
	assert_null(vg_ptable_get(t, 101)->args);
	/* too long: not kept, the old one dropped */
	memset(big, 'a', sizeof(big));
	assert_int_equal(vg_ptable_set_args(t, 100, big, sizeof(big)), 0);
	assert_null(vg_ptable_get(t, 100)->args);
	assert_int_equal(vg_ptable_set_args(t, 100, big, VG_PT_ARGS_MAX), 0);
	assert_int_equal(vg_ptable_get(t, 100)->args_len, VG_PT_ARGS_MAX);
	/* an unknown pid: nothing to do */
	assert_int_equal(vg_ptable_set_args(t, 555, "x", 1), 0);
	vg_ptable_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_exited_kept_then_removed),
		cmocka_unit_test(test_eviction_counted),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
