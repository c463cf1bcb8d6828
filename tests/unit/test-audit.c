/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit source's reassembler against records as netlink gives them
 * (tests/fixtures/audit: "<type> <text>" a line, taken or adapted from a
 * real capture): events whose records interleave, argv in every encoding
 * the kernel uses and over several records, PATH items of execs and
 * creates, socket addresses, forks and exits, a missing EOE, garbage, and
 * a storm past the memory bound. Then the source under the engine: an
 * exit whose record comes before its fork's is held until the fork is in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "engine/engine.h"
#include "source/audit/reasm.h"
#include "source/audit/source.h"

#define SEC 1000000000ull
#define MS 1000000ull
/* the capture's clock: its records' wall time minus this is t.ktime_ns */
#define BOOT_TO_WALL (1796592000ll * 1000000000ll)

/* ------------------------------------------------------ the fixtures */

struct rec {
	int type;
	char *text;
	size_t len;
};

struct recs {
	struct rec *r;
	size_t n;
};

/* tests/fixtures/audit/@name: "<type> <text>" a line; '#' lines and
 * blank ones are comments. */
static struct recs load(const char *name)
{
	const char *base = getenv("VIGIL_FIXTURES");
	struct recs rs = { 0 };
	char path[1024], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	assert_non_null(base);
	snprintf(path, sizeof(path), "%s/audit/%s", base, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		char *end;
		long type;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		type = strtol(line, &end, 10);
		assert_true(end > line && *end == ' ');
		rs.r = realloc(rs.r, (rs.n + 1) * sizeof(*rs.r));
		assert_non_null(rs.r);
		rs.r[rs.n].type = (int)type;
		rs.r[rs.n].len = (size_t)(line + n - (end + 1));
		rs.r[rs.n].text = strndup(end + 1, rs.r[rs.n].len);
		assert_non_null(rs.r[rs.n].text);
		rs.n++;
	}
	free(line);
	fclose(f);
	assert_true(rs.n > 0);
	return rs;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].text);
	free(rs->r);
	*rs = (struct recs){ 0 };
}

/* ------------------------------------------------ what was delivered */

#define GOT_MAX 512

struct got {
	struct vg_event *e[GOT_MAX];
	unsigned flags[GOT_MAX];
	size_t n;
};

/* A copy that owns its strings: a read past one is ASan's error. */
static int collect(void *ctx, struct vg_event *e, unsigned flags)
{
	struct got *g = ctx;

	assert_true(g->n < GOT_MAX);
	g->e[g->n] = vg_event_dup(e);
	assert_non_null(g->e[g->n]);
	g->flags[g->n++] = flags;
	return 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->e[i]);
	g->n = 0;
}

static struct vg_audit_reasm *reasm_new(const struct vg_audit_reasm_opts *o)
{
	struct vg_audit_reasm_opts d = { .boot_to_wall_ns = BOOT_TO_WALL };
	struct vg_audit_reasm *r = NULL;

	assert_int_equal(vg_audit_reasm_new(o ? o : &d, &r), 0);
	return r;
}

static void feed(struct vg_audit_reasm *r, const struct rec *rec, uint64_t now,
		 struct got *g)
{
	assert_int_equal(vg_audit_reasm_record(r, rec->type, rec->text, rec->len,
					       now, collect, g), 0);
}

static void feed_all(struct vg_audit_reasm *r, const struct recs *rs,
		     uint64_t now, struct got *g)
{
	for (size_t i = 0; i < rs->n; i++)
		feed(r, &rs->r[i], now, g);
}

/* ------------------------------------------------- what is expected */

/* argv as the kernel held it: NUL-separated, each NUL-terminated */
#define ARGS(s) .args = s, .args_len = sizeof(s) - 1

struct want {
	uint32_t type, pid, ppid, uid;
	const char *comm;
	unsigned flags;              /* VG_AR_* */
	/* exec */
	const char *exe, *filename, *cwd, *args;
	size_t args_len;
	/* open */
	const char *path, *name;
	uint32_t oflags, mode, path_flags;
	int32_t dirfd;
	/* open, net */
	int64_t ret;
	/* net */
	int32_t fd;
	uint16_t family;
	const char *addr;            /* NULL: no address */
	int32_t port;
	uint32_t backlog;
	/* fork */
	uint32_t child;
	bool thread;
	/* exit */
	uint32_t status;
	/* file */
	uint32_t action, fmode, fuid, fgid;
	const char *fpath, *fname, *fpath2, *fname2;
	int32_t ffd;
};

static void str_eq(const char *what, const char *got, const char *want)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got) != 0)
		fail_msg("%s: \"%s\", not \"%s\"", what, got ? got : "(null)",
			 want ? want : "(null)");
}

static void check(const struct vg_event *e, unsigned flags, const struct want *w,
		  size_t i)
{
	print_message("event %zu: %s of %u\n", i, vg_event_type_name(w->type), w->pid);
	assert_int_equal(e->type, w->type);
	assert_true(e->has_task);
	assert_int_equal(e->t.pid, w->pid);
	assert_int_equal(e->t.tid, w->pid);
	assert_int_equal(e->t.ppid, w->ppid);
	assert_int_equal(e->t.uid, w->uid);
	str_eq("comm", e->t.comm, w->comm);
	assert_int_equal(flags, w->flags);
	switch (w->type) {
	case VG_E_EXEC:
		str_eq("exe", e->exec.exe, w->exe);
		str_eq("filename", e->exec.filename, w->filename);
		str_eq("cwd", e->exec.cwd, w->cwd);
		assert_int_equal(e->exec.args_len, w->args_len);
		assert_int_equal(e->exec.args_bytes, w->args_len);
		assert_memory_equal(e->exec.args, w->args, w->args_len);
		assert_false(e->exec.args_truncated);
		assert_false(e->exec.args_incomplete);
		break;
	case VG_E_OPEN:
		str_eq("path", e->open.path, w->path);
		str_eq("name", e->open.name, w->name);
		assert_int_equal(e->open.flags, w->oflags);
		assert_int_equal(e->open.mode, w->mode);
		assert_int_equal(e->open.path_flags, w->path_flags);
		assert_int_equal(e->open.dirfd, w->dirfd);
		assert_int_equal(e->open.ret, w->ret);
		break;
	case VG_E_CONNECT:
	case VG_E_ACCEPT:
	case VG_E_BIND:
	case VG_E_LISTEN: {
		/* accept: the address is the peer's, the client */
		const struct vg_event_addr *a = w->type == VG_E_ACCEPT
							? &e->net.client : &e->net.server;
		const struct vg_event_addr *other = w->type == VG_E_ACCEPT
							    ? &e->net.server : &e->net.client;

		assert_int_equal(e->net.ret, w->ret);
		assert_int_equal(e->net.fd, w->fd);
		assert_int_equal(e->net.family, w->family);
		assert_int_equal(e->net.backlog, w->backlog);
		assert_int_equal(a->family, w->family);
		str_eq("addr", a->text, w->addr ? w->addr : "");
		assert_int_equal(a->port, w->port);
		assert_int_equal(other->family, 0);
		assert_int_equal(other->port, -1);
		break;
	}
	case VG_E_FORK:
		assert_int_equal(e->fork.child_pid, w->child);
		assert_int_equal(e->fork.child_tid, w->child);
		assert_int_equal(e->fork.thread, w->thread);
		break;
	case VG_E_EXIT:
		assert_int_equal(e->exit.status, w->status);
		break;
	case VG_E_FILE:
		assert_int_equal(e->file.action, w->action);
		str_eq("file.path", e->file.path, w->fpath);
		str_eq("file.name", e->file.name, w->fname);
		str_eq("file.path2", e->file.path2, w->fpath2);
		str_eq("file.name2", e->file.name2, w->fname2);
		assert_int_equal(e->file.ret, w->ret);
		assert_int_equal(e->file.fd, w->ffd);
		assert_int_equal(e->file.mode, w->fmode);
		assert_int_equal(e->file.uid, w->fuid);
		assert_int_equal(e->file.gid, w->fgid);
		if (w->fpath)
			assert_true(e->file.path_flags & VG_EP_USER);
		break;
	}
}

static void check_all(const struct got *g, const struct want *w, size_t n)
{
	assert_int_equal(g->n, n);
	for (size_t i = 0; i < n; i++)
		check(g->e[i], g->flags[i], &w[i], i);
}

/* Every record of @name in, each EOE completing its event: @w, in
 * order, and nothing left open. */
static void run_fixture(const char *name, const struct want *w, size_t n)
{
	struct vg_audit_reasm *r = reasm_new(NULL);
	struct recs rs = load(name);
	struct vg_audit_reasm_stats st;
	struct got g = { 0 };

	feed_all(r, &rs, 5 * SEC, &g);
	check_all(&g, w, n);
	vg_audit_reasm_stats(r, &st);
	assert_int_equal(st.records, rs.n);
	assert_int_equal(st.events, n);
	assert_int_equal(st.garbage, 0);
	assert_int_equal(st.incomplete, 0);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.parse_errors, 0);
	assert_int_equal(st.open_groups, 0);
	assert_int_equal(st.open_bytes, 0);
	assert_int_equal(vg_audit_reasm_tick(r, 100 * SEC, true, collect, &g), 0);
	assert_int_equal(g.n, n);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

#define RUN(name, w) run_fixture(name, w, sizeof(w) / sizeof(w[0]))

/* ------------------------------------------------------------ events */

static void test_interleaved(void **state)
{
	static const struct want w[] = {
		{ .type = VG_E_EXEC, .pid = 3871, .ppid = 3870, .comm = "head",
		  .exe = "/usr/bin/head", .filename = "/usr/bin/head", .cwd = "/tmp",
		  ARGS("head\0-c\0" "3000\0/dev/zero\0") },
		{ .type = VG_E_OPEN, .pid = 3871, .ppid = 3870, .comm = "head",
		  .path = "/etc/ld.so.cache", .name = "/etc/ld.so.cache",
		  .oflags = 0x80000, .path_flags = VG_EP_USER, .dirfd = -100, .ret = 3 },
		/* its EOE came after the next open's */
		{ .type = VG_E_OPEN, .pid = 3871, .ppid = 3870, .comm = "head",
		  .path = "/lib/x86_64-linux-gnu/libc.so.6",
		  .name = "/lib/x86_64-linux-gnu/libc.so.6",
		  .oflags = 0x80000, .path_flags = VG_EP_USER, .dirfd = -100, .ret = 3 },
		/* "\0" as typed: a backslash and a zero */
		{ .type = VG_E_EXEC, .pid = 3872, .ppid = 3870, .comm = "tr",
		  .exe = "/usr/bin/tr", .filename = "/usr/bin/tr", .cwd = "/tmp",
		  ARGS("tr\0\\0\0A\0") },
	};
	struct vg_audit_reasm *r = reasm_new(NULL);
	struct recs rs = load("interleaved.txt");
	struct got g = { 0 };

	(void)state;
	RUN("interleaved.txt", w);
	/* the records' own time, as boot time */
	feed_all(r, &rs, 5 * SEC, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.e[0]->t.ktime_ns, 776 * SEC + 929 * MS);
	assert_true(g.e[0]->t.no_cpu == false && g.e[0]->t.start_ns == 0);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

static const char sh_script[] =
	"echo hi > /dev/null; /bin/echo \"a b\" $(printf \"x\\ty\") "
	"$(head -c 3000 /dev/zero | tr \"\\0\" A) >/dev/null; "
	"cat /etc/hostname >/dev/null; exec 3<>/dev/tcp/127.0.0.1/9 ";

static void test_exec_args(void **state)
{
	static char sh_args[512], echo_args[3100];
	size_t sl, el = 0;
	struct want w[] = {
		{ .type = VG_E_EXEC, .pid = 3868, .ppid = 3812, .comm = "sh",
		  .exe = "/usr/bin/dash", .filename = "/bin/sh", .cwd = "/tmp" },
		{ .type = VG_E_EXEC, .pid = 3873, .ppid = 3868, .comm = "echo",
		  .exe = "/usr/bin/echo", .filename = "/bin/echo", .cwd = "/tmp" },
	};
	static const struct want enc[] = {
		{ .type = VG_E_EXEC, .pid = 3901, .ppid = 3812, .uid = 1000,
		  .comm = "printf", .exe = "/usr/bin/printf",
		  .filename = "/usr/bin/printf", .cwd = "/home/u",
		  ARGS("printf\0\"quoted\"\0tab\there\0new\nline\0\0\xc3\xbcn\xc3\xaf\0") },
	};

	(void)state;
	/* the capture: /bin/sh -c SCRIPT (hex: spaces), and /bin/echo
	 * "a b" (hex) x y AAA...A (3000, quoted) */
	sl = sizeof("/bin/sh\0-c") + sizeof(sh_script);
	memcpy(sh_args, "/bin/sh\0-c\0", 11);
	memcpy(sh_args + 11, sh_script, sizeof(sh_script));
	assert_int_equal(sl, 11 + sizeof(sh_script));
	w[0].args = sh_args;
	w[0].args_len = sl;
	memcpy(echo_args, "/bin/echo\0a b\0x\0y\0", 18);
	el = 18;
	memset(echo_args + el, 'A', 3000);
	el += 3000;
	echo_args[el++] = '\0';
	w[1].args = echo_args;
	w[1].args_len = el;
	RUN("exec-args-capture.txt", w);
	RUN("exec-args-encoded.txt", enc);
}

static void test_exec_split(void **state)
{
	static const struct want w[] = {
		{ .type = VG_E_EXEC, .pid = 3902, .ppid = 3812, .uid = 1000,
		  .comm = "python3", .exe = "/usr/bin/python3.11",
		  .filename = "/usr/bin/python3", .cwd = "/home/u",
		  ARGS("python3\0-c\0import os;print(1)\0end\0") },
		{ .type = VG_E_EXEC, .pid = 3903, .ppid = 3812, .uid = 1000,
		  .comm = "ls", .exe = "/usr/bin/ls", .filename = "/usr/bin/ls",
		  .cwd = "/home/u", ARGS("ls\0-l\0/tmp dir\0") },
		{ .type = VG_E_EXEC, .pid = 3904, .ppid = 3812, .uid = 1000,
		  .comm = "x", .exe = "/usr/local/bin/x", .filename = "/usr/local/bin/x",
		  .cwd = "/home/u", ARGS("x\0abcd\0efgh\0z\0") },
	};

	(void)state;
	RUN("exec-split.txt", w);
}

/* argv longer than max_args: cut at a NUL, marked truncated */
static void test_exec_max_args(void **state)
{
	struct vg_audit_reasm_opts o = { .max_args = 16 };
	struct vg_audit_reasm *r;
	struct recs rs = load("exec-split.txt");
	struct got g = { 0 };

	(void)state;
	r = reasm_new(&o);
	feed_all(r, &rs, 5 * SEC, &g);
	assert_int_equal(g.n, 3);
	for (size_t i = 0; i < g.n; i++) {
		const struct vg_event *e = g.e[i];

		assert_true(e->exec.args_len <= 16);
		assert_int_equal(e->exec.args[e->exec.args_len - 1], '\0');
	}
	/* "python3\0-c\0impo\0": the split argument cut */
	assert_int_equal(g.e[0]->exec.args_len, 16);
	assert_memory_equal(g.e[0]->exec.args, "python3\0-c\0impo\0", 16);
	assert_true(g.e[0]->exec.args_truncated);
	/* "ls\0-l\0/tmp dir\0": 15, whole */
	assert_int_equal(g.e[1]->exec.args_len, 15);
	assert_false(g.e[1]->exec.args_truncated);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

static void test_exec_script(void **state)
{
	static const struct want w[] = {
		/* the script as given (item=0), not its interpreter (item=1) */
		{ .type = VG_E_EXEC, .pid = 3910, .ppid = 3812, .uid = 1000,
		  .comm = "run.sh", .exe = "/usr/bin/bash", .filename = "./run.sh",
		  .cwd = "/home/u/proj", ARGS("/bin/bash\0./run.sh\0--fast\0") },
	};

	(void)state;
	RUN("exec-script.txt", w);
}

#define OPEN(...) { .type = VG_E_OPEN, .pid = 3920, .ppid = 3812, .uid = 1000, \
		    .comm = "app", __VA_ARGS__ }

/* the file change an open that may write also is */
#define FOPEN(...) { .type = VG_E_FILE, .pid = 3920, .ppid = 3812, .uid = 1000, \
		     .comm = "app", .fuid = (uint32_t)-1, .fgid = (uint32_t)-1, \
		     __VA_ARGS__ }

static void test_open_paths(void **state)
{
	static const struct want w[] = {
		/* PARENT then CREATE: the CREATE item, joined to the cwd */
		OPEN(.path = "out.log", .name = "/tmp/out.log", .oflags = 0x241,
		     .mode = 0644, .path_flags = VG_EP_USER, .dirfd = -100, .ret = 3),
		/* an open that may write is a file change too */
		FOPEN(.action = VG_FA_CREATE, .fpath = "out.log", .fname = "/tmp/out.log",
		      .fmode = 0644, .ret = 3, .ffd = 3),
		OPEN(.path = "/var/log/new.txt", .name = "/var/log/new.txt",
		     .oflags = 0x441, .mode = 0600, .path_flags = VG_EP_USER,
		     .dirfd = -100, .ret = 4),
		FOPEN(.action = VG_FA_CREATE, .fpath = "/var/log/new.txt",
		      .fname = "/var/log/new.txt", .fmode = 0600, .ret = 4, .ffd = 4),
		/* PARENT then NORMAL (an existing file): the NORMAL item */
		OPEN(.path = "/etc/hosts", .name = "/etc/hosts", .oflags = 0x42,
		     .mode = 0666, .path_flags = VG_EP_USER, .dirfd = -100, .ret = 5),
		FOPEN(.action = VG_FA_WRITE, .fpath = "/etc/hosts", .fname = "/etc/hosts",
		      .fmode = 0666, .ret = 5, .ffd = 5),
		{ .type = VG_E_OPEN, .pid = 3875, .ppid = 3812, .comm = "bash",
		  .path = "/usr/share/locale/C.UTF-8/LC_MESSAGES/libc.mo",
		  .name = "/usr/share/locale/C.UTF-8/LC_MESSAGES/libc.mo",
		  .path_flags = VG_EP_USER, .dirfd = -100, .ret = -2 },
		/* relative to a dirfd: not joined to the cwd */
		OPEN(.path = "sub/file", .name = "sub/file",
		     .path_flags = VG_EP_USER | VG_EP_UNRESOLVED, .dirfd = 3, .ret = 6),
		OPEN(.path = "notes.txt", .name = "/home/u/notes.txt", .oflags = 0x80000,
		     .path_flags = VG_EP_USER, .dirfd = -100, .ret = 7),
		/* creat(): its flags are implied; in / no "//" */
		OPEN(.path = "made.txt", .name = "/made.txt", .oflags = 01101,
		     .mode = 0600, .path_flags = VG_EP_USER, .dirfd = -100, .ret = 8),
		FOPEN(.action = VG_FA_CREATE, .fpath = "made.txt", .fname = "/made.txt",
		      .fmode = 0600, .ret = 8, .ffd = 8),
		OPEN(.path = "my file", .name = "/home/u k/my file",
		     .path_flags = VG_EP_USER, .dirfd = -100, .ret = 9),
	};

	(void)state;
	RUN("open-paths.txt", w);
}

#define FILEC(...) { .type = VG_E_FILE, .pid = 3940, .ppid = 3812, .uid = 1000, \
			.comm = "fsops", .fuid = (uint32_t)-1, .fgid = (uint32_t)-1, \
			.ffd = -1, __VA_ARGS__ }

static void test_file_calls(void **state)
{
	static const struct want w[] = {
		/* unlink: the DELETE item, joined to the cwd */
		FILEC(.action = VG_FA_DELETE, .fpath = "old.txt", .fname = "/srv/old.txt"),
		/* unlinkat(AT_FDCWD, ..., AT_REMOVEDIR) */
		FILEC(.action = VG_FA_RMDIR, .fpath = "/srv/empty", .fname = "/srv/empty"),
		/* mkdir: the CREATE item and the mode */
		FILEC(.action = VG_FA_MKDIR, .fpath = "newdir", .fname = "/srv/newdir",
		      .fmode = 0750),
		/* rename: new name CREATE, old name DELETE */
		FILEC(.action = VG_FA_RENAME, .fpath = "b.txt", .fname = "/srv/b.txt",
		      .fpath2 = "a.txt", .fname2 = "/srv/a.txt"),
		/* link: new name CREATE, old name NORMAL */
		FILEC(.action = VG_FA_LINK, .fpath = "/srv/hard", .fname = "/srv/hard",
		      .fpath2 = "/srv/b.txt", .fname2 = "/srv/b.txt"),
		/* symlink: the link made; its target is in no record */
		FILEC(.action = VG_FA_SYMLINK, .fpath = "soft", .fname = "/srv/soft"),
		/* chmod by path */
		FILEC(.action = VG_FA_CHMOD, .fpath = "/srv/b.txt", .fname = "/srv/b.txt",
		      .fmode = 0600),
		/* fchown by fd: no name */
		{ .type = VG_E_FILE, .pid = 3940, .ppid = 3812, .uid = 1000,
		  .comm = "fsops", .action = VG_FA_CHOWN, .ffd = 4, .fuid = 1000,
		  .fgid = 100 },
		/* a failed truncate keeps its result */
		FILEC(.action = VG_FA_TRUNCATE, .fpath = "missing", .fname = "/srv/missing",
		      .ret = -2),
	};

	(void)state;
	RUN("file-calls.txt", w);
}

#define NET(t, ...) { .type = t, .pid = 3930, .ppid = 3812, .uid = 1000, \
		      .comm = "client", __VA_ARGS__ }

static void test_sockaddr(void **state)
{
	static const struct want w[] = {
		/* AF_NETLINK: not decoded */
		{ .type = VG_E_BIND, .pid = 3826, .ppid = 1, .comm = "python3",
		  .fd = 3, .port = -1 },
		{ .type = VG_E_CONNECT, .pid = 3875, .ppid = 3812, .comm = "bash",
		  .ret = -111, .fd = 3, .family = AF_INET, .addr = "127.0.0.1", .port = 9 },
		NET(VG_E_CONNECT, .fd = 5, .family = AF_INET6, .addr = "::1", .port = 443),
		NET(VG_E_CONNECT, .ret = -115, .fd = 6, .family = AF_INET6,
		    .addr = "2001:db8::5", .port = 8443),
		NET(VG_E_CONNECT, .fd = 7, .family = AF_UNIX,
		    .addr = "/run/dbus/system_bus_socket", .port = -1),
		NET(VG_E_CONNECT, .fd = 8, .family = AF_UNIX,
		    .addr = "@/tmp/.X11-unix/X0", .port = -1),
		NET(VG_E_BIND, .fd = 4, .family = AF_INET, .addr = "0.0.0.0", .port = 8080),
		NET(VG_E_LISTEN, .fd = 4, .backlog = 128, .port = -1),
		NET(VG_E_ACCEPT, .ret = 5, .fd = 4, .family = AF_INET,
		    .addr = "10.0.0.5", .port = 51000),
	};
	struct vg_audit_reasm *r = reasm_new(NULL);
	struct recs rs = load("sockaddr.txt");
	struct got g = { 0 };

	(void)state;
	RUN("sockaddr.txt", w);
	/* the address the caller gave; the call's outcome aside */
	feed_all(r, &rs, 5 * SEC, &g);
	assert_true(g.e[1]->net.requested && g.e[2]->net.requested);
	assert_false(g.e[8]->net.requested);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

static void test_fork_exit(void **state)
{
	static const struct want w[] = {
		{ .type = VG_E_FORK, .pid = 3868, .ppid = 3812, .comm = "sh", .child = 3869 },
		{ .type = VG_E_EXIT, .pid = 3869, .ppid = 3868, .comm = "sh", .status = 0 },
		/* vfork */
		{ .type = VG_E_FORK, .pid = 3868, .ppid = 3812, .comm = "sh", .child = 3873 },
		{ .type = VG_E_EXIT, .pid = 3868, .ppid = 3812, .comm = "sh",
		  .status = 2 << 8 },
		{ .type = VG_E_FORK, .pid = 3940, .ppid = 3812, .uid = 1000,
		  .comm = "worker", .child = 3941, .thread = true },
		/* clone3: the caller must look (the source asks /proc) */
		{ .type = VG_E_FORK, .pid = 3940, .ppid = 3812, .uid = 1000,
		  .comm = "worker", .child = 3942, .flags = VG_AR_THREAD_UNKNOWN },
		/* (the failed clone makes none) */
		{ .type = VG_E_EXIT, .pid = 3940, .ppid = 3812, .uid = 1000,
		  .comm = "worker", .status = 1 << 8 },
	};
	struct vg_audit_reasm *r = reasm_new(NULL);
	struct recs rs = load("fork-exit.txt");
	struct vg_audit_reasm_stats st;
	struct got g = { 0 };

	(void)state;
	RUN("fork-exit.txt", w);
	feed_all(r, &rs, 5 * SEC, &g);
	vg_audit_reasm_stats(r, &st);
	assert_int_equal(st.undecoded, 1);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

/* The syscalls vigil maps, by name; others none. */
static void test_syscall_names(void **state)
{
	static const struct {
		const char *name;
		uint32_t type;
	} t[] = {
		{ "execve", VG_E_EXEC }, { "execveat", VG_E_EXEC },
		{ "clone", VG_E_FORK }, { "clone3", VG_E_FORK }, { "vfork", VG_E_FORK },
		{ "exit_group", VG_E_EXIT }, { "openat", VG_E_OPEN },
		{ "creat", VG_E_OPEN }, { "connect", VG_E_CONNECT },
		{ "accept4", VG_E_ACCEPT }, { "bind", VG_E_BIND },
		{ "listen", VG_E_LISTEN }, { "exit", VG_E_NONE }, { "read", VG_E_NONE },
		{ "", VG_E_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(vg_audit_syscall_type(t[i].name), t[i].type);
}

/* ---------------------------------------------------- a missing EOE */

static void test_missing_eoe(void **state)
{
	struct vg_audit_reasm_opts o = { .eoe_timeout_ns = 2 * SEC,
					 .boot_to_wall_ns = BOOT_TO_WALL };
	static const struct want sleep = {
		.type = VG_E_EXEC, .pid = 3876, .ppid = 3812, .comm = "sleep",
		.exe = "/usr/bin/sleep", .filename = "/usr/bin/sleep", .cwd = "/tmp",
		ARGS("sleep\0" "3\0"), .flags = VG_AR_INCOMPLETE,
	};
	struct recs rs = load("missing-eoe.txt");
	struct vg_audit_reasm_stats st;

	(void)state;
	for (int all = 0; all < 2; all++) {
		struct vg_audit_reasm *r = reasm_new(&o);
		struct got g = { 0 };

		feed_all(r, &rs, 10 * SEC, &g);
		/* the whole open only */
		assert_int_equal(g.n, 1);
		assert_int_equal(g.e[0]->type, VG_E_OPEN);
		assert_int_equal(g.flags[0], 0);
		vg_audit_reasm_stats(r, &st);
		assert_int_equal(st.open_groups, 1);
		/* not before the timeout */
		assert_int_equal(vg_audit_reasm_tick(r, 10 * SEC, false, collect, &g), 0);
		assert_int_equal(vg_audit_reasm_tick(r, 12 * SEC - 1, false, collect, &g), 0);
		assert_int_equal(g.n, 1);
		if (all)
			assert_int_equal(vg_audit_reasm_tick(r, 10 * SEC, true, collect, &g), 0);
		else
			assert_int_equal(vg_audit_reasm_tick(r, 12 * SEC, false, collect, &g), 0);
		assert_int_equal(g.n, 2);
		check(g.e[1], g.flags[1], &sleep, 1);
		vg_audit_reasm_stats(r, &st);
		assert_int_equal(st.incomplete, 1);
		assert_int_equal(st.evicted, 0);
		assert_int_equal(st.events, 2);
		assert_int_equal(st.open_groups, 0);
		assert_int_equal(st.open_bytes, 0);
		/* an EOE after it went: nothing more */
		assert_int_equal(vg_audit_reasm_record(r, 1320, "audit(1796592776.965:876377): ",
						       30, 13 * SEC, collect, &g), 0);
		assert_int_equal(g.n, 2);
		got_free(&g);
		vg_audit_reasm_free(r);
	}
	recs_free(&rs);
}

/* An exec without its EXECVE records: argv unknown, said so. */
static void test_missing_execve(void **state)
{
	struct recs rs = load("missing-eoe.txt");
	struct vg_audit_reasm *r = reasm_new(NULL);
	struct got g = { 0 };

	(void)state;
	/* the SYSCALL record only */
	feed(r, &rs.r[0], 0, &g);
	assert_int_equal(vg_audit_reasm_tick(r, 0, true, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.flags[0], VG_AR_INCOMPLETE);
	assert_int_equal(g.e[0]->type, VG_E_EXEC);
	assert_true(g.e[0]->exec.args_incomplete);
	assert_int_equal(g.e[0]->exec.args_len, 0);
	assert_null(g.e[0]->exec.filename);
	assert_null(g.e[0]->exec.cwd);
	str_eq("exe", g.e[0]->exec.exe, "/usr/bin/sleep");
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

/* ----------------------------------------------------------- garbage */

#define BYTES(s) s, sizeof(s) - 1

static void test_garbage(void **state)
{
	static const char rnd[] = "\x8f\x00\xff\x13\x37\xde\xad\xbe\xef\x01\n\x7f";
	static const struct {
		const char *what;
		int type;
		const char *text;
		size_t len;
		int counted; /* 'g' garbage, 'i' ignored, 'u' undecoded, 0 */
	} t[] = {
		{ "no header", 1300, BYTES("arch=c000003e syscall=59 success=yes"), 'g' },
		{ "empty", 1300, "", 0, 'g' },
		{ "header alone, cut", 1300, BYTES("audit(1796592777.050:9000"), 'g' },
		{ "bad header: ms", 1300, BYTES("audit(1796592777.5000:900050): x=1"), 'g' },
		{ "bad header: no serial", 1300, BYTES("audit(1796592777.050): x=1"), 'g' },
		{ "bad header: letters", 1300, BYTES("audit(abc.def:ghi): x=1"), 'g' },
		{ "bad header: too long", 1300,
		  BYTES("audit(179659277700000000000000000000000000000000000000000000.1:1)"),
		  'g' },
		/* a ')' at the 64th byte: the header buffer's edge */
		{ "bad header: 64 bytes", 1300,
		  BYTES("audit(1796592777.050:000000000000000000000000000000000000000900)"
			": x=1"), 'g' },
		{ "embedded newline", 1300,
		  BYTES("audit(1796592777.050:900051): arch=c000003e\nsyscall=59"), 'g' },
		{ "embedded NUL", 1300,
		  BYTES("audit(1796592777.050:900052): arch=c000003e\0syscall=59"), 'g' },
		{ "random bytes", 1300, rnd, sizeof(rnd) - 1, 'g' },
		{ "random bytes, no type", 0, rnd, sizeof(rnd) - 1, 'g' },
		{ "an EOE alone", 1320, BYTES("audit(1796592777.050:900053): "), 'i' },
		{ "type below 1300", 1100,
		  BYTES("audit(1796592777.050:900054): pid=1 uid=0 msg='op=login'"), 'i' },
		{ "type 1400 (AVC)", 1400,
		  BYTES("audit(1796592777.050:900055): avc:  denied  { read }"), 'i' },
		{ "CONFIG_CHANGE", 1305,
		  BYTES("audit(1796592777.050:900056): op=set audit_enabled=1"), 'i' },
		{ "negative type", -1, BYTES("audit(1796592777.050:900057): x=1"), 'i' },
		/* a record of its own serial, cut mid-field: decoded as
		 * far as it goes (not an event), at its EOE */
		{ "truncated SYSCALL", 1300,
		  BYTES("audit(1796592777.050:900058): arch=c000003e syscall=5"), 'u' },
		{ "truncated SYSCALL, in a quote", 1300,
		  BYTES("audit(1796592777.050:900059): arch=c000003e syscall=59 "
			"success=yes exit=0 a0=1 items=0 ppid=1 pid=3 comm=\"ab"), 0 },
		{ "a PATH alone", 1302,
		  BYTES("audit(1796592777.050:900060): item=0 name=\"/x"), 'i' },
	};
	struct recs rs = load("interleaved.txt");

	(void)state;
	for (size_t c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		struct vg_audit_reasm *r = reasm_new(NULL);
		struct vg_audit_reasm_stats st;
		struct got g = { 0 };
		char eoe[64];
		int el = 0;

		print_message("%s\n", t[c].what);
		/* the bad record between every two good ones */
		for (size_t i = 0; i < rs.n; i++) {
			feed(r, &rs.r[i], SEC, &g);
			assert_int_equal(vg_audit_reasm_record(r, t[c].type, t[c].text,
							       t[c].len, SEC, collect,
							       &g), 0);
		}
		/* the EOE of a bad record's serial, where it has one */
		if (t[c].counted != 'g') {
			const char *end = memchr(t[c].text, ')', t[c].len);

			if (end)
				el = snprintf(eoe, sizeof(eoe), "%.*s: ",
					      (int)(end - t[c].text + 1), t[c].text);
		}
		if (el > 0 && el < (int)sizeof(eoe))
			assert_int_equal(vg_audit_reasm_record(r, 1320, eoe, (size_t)el,
							       SEC, collect, &g), 0);
		assert_int_equal(vg_audit_reasm_tick(r, SEC, true, collect, &g), 0);
		vg_audit_reasm_stats(r, &st);
		/* the good events are as they were; the bad records are
		 * in the count where they belong */
		assert_true(g.n >= 4);
		assert_int_equal(g.e[0]->type, VG_E_EXEC);
		assert_int_equal(g.e[0]->t.pid, 3871);
		assert_int_equal(g.e[0]->exec.args_len, sizeof("head\0-c\0" "3000\0/dev/zero"));
		assert_int_equal(g.e[3]->type, VG_E_EXEC);
		assert_int_equal(g.e[3]->t.pid, 3872);
		assert_memory_equal(g.e[3]->exec.args, "tr\0\\0\0A", 8);
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(g.flags[i], 0);
		assert_int_equal(st.records, 2 * rs.n + (el > 0));
		assert_int_equal(st.parse_errors, 0);
		switch (t[c].counted) {
		case 'g':
			assert_int_equal(st.garbage, rs.n);
			assert_int_equal(st.ignored, 0);
			assert_int_equal(g.n, 4);
			break;
		case 'i':
			assert_int_equal(st.garbage, 0);
			assert_true(st.ignored >= 1);
			assert_int_equal(g.n, 4);
			break;
		case 'u':
			assert_int_equal(st.garbage, 0);
			assert_int_equal(st.undecoded, 1);
			assert_int_equal(g.n, 4);
			break;
		default:
			assert_int_equal(st.garbage, 0);
			break;
		}
		got_free(&g);
		vg_audit_reasm_free(r);
	}
	recs_free(&rs);
}

/* ------------------------------------------------------------- storm */

/* Records of @n events that never end, each of @per records, their
 * serials interleaved in pairs, against a small bound. */
static void storm(size_t max_bytes, size_t max_groups, size_t n, int per,
		  size_t pad)
{
	struct vg_audit_reasm_opts o = { .max_bytes = max_bytes,
					 .max_groups = max_groups,
					 .boot_to_wall_ns = BOOT_TO_WALL };
	struct vg_audit_reasm *r = reasm_new(&o);
	struct vg_audit_reasm_stats st;
	struct got g = { 0 };
	char *padding = malloc(pad + 1), text[8192];
	uint64_t records = 0;

	assert_non_null(padding);
	memset(padding, 'A', pad);
	padding[pad] = '\0';
	for (size_t i = 0; i < n; i += 2)
		for (int k = 0; k < per; k++)
			for (size_t j = i; j < i + 2 && j < n; j++) {
				int len, type = k == 0 ? 1300 : 1309;

				if (k == 0)
					len = snprintf(text, sizeof(text),
						       "audit(1796592777.100:%zu): arch=c000003e "
						       "syscall=59 success=yes exit=0 a0=0 a1=0 "
						       "a2=0 a3=0 items=0 ppid=1 pid=%zu uid=0 "
						       "gid=0 comm=\"storm\" exe=\"/bin/storm\"",
						       1000000 + j, 10000 + j);
				else
					len = snprintf(text, sizeof(text),
						       "audit(1796592777.100:%zu): %sa%d=\"%s\"",
						       1000000 + j, k == 1 ? "argc=9 " : "",
						       k - 1, padding);
				assert_true(len > 0 && (size_t)len < sizeof(text));
				assert_int_equal(vg_audit_reasm_record(r, type, text, (size_t)len,
								       SEC, collect, &g), 0);
				records++;
				vg_audit_reasm_stats(r, &st);
				assert_true(st.open_bytes <= max_bytes);
				assert_true(st.open_groups <= max_groups);
				for (size_t e = 0; e < g.n; e++) {
					assert_int_equal(g.flags[e] & VG_AR_INCOMPLETE,
							 VG_AR_INCOMPLETE);
					assert_int_equal(g.e[e]->type, VG_E_EXEC);
					assert_true(g.e[e]->exec.args_len <= 32u << 10);
				}
				got_free(&g);
			}
	vg_audit_reasm_stats(r, &st);
	print_message("bound %zu bytes %zu groups: %llu evicted, %llu events, "
		      "%zu open\n", max_bytes, max_groups,
		      (unsigned long long)st.evicted, (unsigned long long)st.events,
		      st.open_groups);
	assert_int_equal(st.records, records);
	assert_true(st.evicted > 0);
	assert_int_equal(st.garbage, 0);
	/* the rest goes out at the end */
	assert_int_equal(vg_audit_reasm_tick(r, SEC, true, collect, &g), 0);
	vg_audit_reasm_stats(r, &st);
	assert_int_equal(st.open_groups, 0);
	assert_int_equal(st.open_bytes, 0);
	assert_int_equal(st.incomplete, st.events);
	for (size_t e = 0; e < g.n; e++)
		assert_int_equal(g.flags[e], VG_AR_INCOMPLETE);
	got_free(&g);
	free(padding);
	vg_audit_reasm_free(r);
}

/* A record over the bound alone is dropped; the open events stay. */
static void test_oversize_record(void **state)
{
	struct vg_audit_reasm_opts o = { .max_bytes = 4096 };
	struct vg_audit_reasm *r = reasm_new(&o);
	struct recs rs = load("missing-eoe.txt");
	struct vg_audit_reasm_stats st;
	struct got g = { 0 };
	char big[4400];
	int n;

	(void)state;
	feed(r, &rs.r[0], SEC, &g); /* the exec's SYSCALL */
	n = snprintf(big, sizeof(big), "audit(1796592776.965:876399): argc=1 a0=\"%04200d\"", 0);
	assert_int_equal(vg_audit_reasm_record(r, 1309, big, (size_t)n, SEC, collect, &g), 0);
	vg_audit_reasm_stats(r, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.open_groups, 1);
	assert_int_equal(g.n, 0);
	for (size_t i = 1; i < rs.n; i++)
		feed(r, &rs.r[i], SEC, &g);
	assert_int_equal(vg_audit_reasm_record(r, 1320, "audit(1796592776.965:876377): ",
					       30, SEC, collect, &g), 0);
	/* the open, then the exec whole (its records fit in 4 KiB) */
	assert_int_equal(g.n, 2);
	assert_int_equal(g.e[1]->type, VG_E_EXEC);
	assert_int_equal(g.flags[1], 0);
	assert_memory_equal(g.e[1]->exec.args, "sleep\0" "3", 8);
	got_free(&g);
	recs_free(&rs);
	vg_audit_reasm_free(r);
}

static void test_storm(void **state)
{
	(void)state;
	/* the group count binds */
	storm(1u << 20, 4, 200, 3, 10);
	/* the bytes bind: a few events' records at most */
	storm(4096, 64, 200, 4, 300);
	/* one event alone is more than the bound: it goes out in parts,
	 * its first part decoded */
	storm(2048, 64, 20, 12, 400);
	/* a record bigger than the bound: dropped, counted */
	storm(512, 8, 10, 3, 600);
}

/* ------------------------------------------- the source and the engine */

/* Two pids free on this host, and in the fixture root the engine reads
 * /proc from: where the engine asks /proc, nothing answers. */
static void free_pids(const char *root, int *parent, int *child)
{
	char path[1100];
	long max = 32768;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	struct stat sb;
	int found = 0;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 32768;
		fclose(f);
	}
	for (long p = max - 100; p > 300 && found < 2; p--) {
		snprintf(path, sizeof(path), "%s/proc/%ld", root, p);
		if (kill((pid_t)p, 0) == 0 || errno != ESRCH || stat(path, &sb) == 0)
			continue;
		if (found++ == 0)
			*parent = (int)p;
		else
			*child = (int)p;
	}
	assert_int_equal(found, 2);
}

struct order {
	uint32_t type[16], pid[16], child[16];
	size_t n;
};

static void on_line(struct vg_sink *s, const char *line, size_t len,
		    const struct vg_event *e)
{
	struct order *o = s->ctx;

	(void)line, (void)len;
	assert_true(o->n < 16);
	o->type[o->n] = e->type;
	o->pid[o->n] = e->t.pid;
	o->child[o->n] = e->type == VG_E_FORK ? e->fork.child_pid : 0;
	o->n++;
}

struct fed {
	struct vigil_ctx *ctx;
	struct vg_engine *en;
	struct vg_source *src;
	struct vg_sink sink;
	struct order got;
	int parent, child;
	uint64_t serial;
};

static void fed_start(struct fed *f, uint64_t exit_delay_ns)
{
	const char *base = getenv("VIGIL_FIXTURES");
	struct vg_audit_source_opts so = { .exit_delay_ns = exit_delay_ns };
	char root[1024], err[256] = "";
	struct vg_engine_opts eo = { 0 };

	assert_non_null(base);
	snprintf(root, sizeof(root), "%s/host-v2", base);
	memset(f, 0, sizeof(*f));
	free_pids(root, &f->parent, &f->child);
	assert_int_equal(vigil_ctx_new(root, &f->ctx), 0);
	so.proc_fd = f->ctx->proc_fd;
	assert_int_equal(vg_audit_source_new_fed(&so, &f->src), 0);
	assert_true(f->src->caps & VG_SRC_BY_PID);
	eo.ctx = f->ctx;
	eo.src = f->src;
	f->en = vg_engine_new(&eo, err, sizeof(err));
	if (!f->en)
		fail_msg("engine: %s", err);
	f->sink = (struct vg_sink){ .types = VG_E_TABLE_TYPES, .threads = true,
				    .mode = VG_OUTPUT_JSON, .emit = on_line,
				    .ctx = &f->got };
	assert_int_equal(vg_engine_add_sink(f->en, &f->sink, err, sizeof(err)), 0);
	vg_engine_start(f->en);
	/* the engine's callback into the source */
	vg_engine_pump(f->en);
	f->serial = 950000;
}

static void fed_stop(struct fed *f)
{
	vg_engine_free(f->en);
	vigil_ctx_free(f->ctx);
}

/* One event's records, as the kernel writes them, into the source. */
static void fed_event(struct fed *f, const char *syscall_fields, int pid, int ppid)
{
	char text[1024];
	uint64_t s = f->serial++;
	int n;

	n = snprintf(text, sizeof(text),
		     "audit(1796592778.000:%llu): arch=c000003e %s a1=0 a2=0 a3=0 "
		     "items=0 ppid=%d pid=%d auid=1000 uid=1000 gid=1000 euid=1000 "
		     "suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 "
		     "ses=3 comm=\"work\" exe=\"/usr/bin/work\" key=\"vigiltest\"",
		     (unsigned long long)s, syscall_fields, ppid, pid);
	assert_int_equal(vg_audit_source_feed(f->src, 1300, text, (size_t)n), 0);
	n = snprintf(text, sizeof(text), "audit(1796592778.000:%llu): proctitle=776F726B",
		     (unsigned long long)s);
	assert_int_equal(vg_audit_source_feed(f->src, 1327, text, (size_t)n), 0);
	n = snprintf(text, sizeof(text), "audit(1796592778.000:%llu): ",
		     (unsigned long long)s);
	assert_int_equal(vg_audit_source_feed(f->src, 1320, text, (size_t)n), 0);
}

static void fed_exit(struct fed *f)
{
	fed_event(f, "syscall=231 a0=0", f->child, f->parent);
}

static void fed_clone(struct fed *f)
{
	char fields[128];

	snprintf(fields, sizeof(fields), "syscall=56 success=yes exit=%d a0=1200011",
		 f->child);
	fed_event(f, fields, f->parent, 1);
}

/* Pump until @n events reached the sink (or 5 s). */
static void fed_wait(struct fed *f, size_t n)
{
	uint64_t end = vg_clock_ns(CLOCK_MONOTONIC) + 5 * SEC;

	while (f->got.n < n && vg_clock_ns(CLOCK_MONOTONIC) < end) {
		vg_engine_pump(f->en);
		usleep(1000);
	}
	assert_int_equal(f->got.n, n);
}

/* The child's exit record comes before its parent's clone record (the
 * clone's is written when the call returns; the child may have run and
 * exited by then). Held for the delay, the exit goes out after the
 * fork, and the table has the child exited. */
static void test_source_exit_held(void **state)
{
	struct vg_audit_source_stats st;
	const struct vg_pt_entry *pe;
	struct fed f;

	(void)state;
	fed_start(&f, 10 * MS);
	fed_exit(&f);
	fed_clone(&f);
	/* the fork is out at once, the exit held */
	assert_int_equal(f.got.n, 1);
	assert_int_equal(f.got.type[0], VG_E_FORK);
	vg_audit_source_stats(f.src, &st);
	assert_int_equal(st.held_exits, 1);
	assert_string_equal(st.mode, "fed");
	pe = vg_ptable_get(vg_engine_ptable(f.en), f.child);
	assert_non_null(pe);
	assert_false(pe->exited);
	fed_wait(&f, 2);
	assert_int_equal(f.got.type[0], VG_E_FORK);
	assert_int_equal(f.got.pid[0], (uint32_t)f.parent);
	assert_int_equal(f.got.child[0], (uint32_t)f.child);
	assert_int_equal(f.got.type[1], VG_E_EXIT);
	assert_int_equal(f.got.pid[1], (uint32_t)f.child);
	pe = vg_ptable_get(vg_engine_ptable(f.en), f.child);
	assert_non_null(pe);
	assert_true(pe->exited);
	assert_int_equal(pe->ppid, f.parent);
	vg_audit_source_stats(f.src, &st);
	assert_int_equal(st.held_exits, 0);
	assert_int_equal(st.events, 2);
	fed_stop(&f);
}

/* What the delay prevents: the exit let go before the fork came, the
 * fork makes the child anew, and the table has it alive (until the
 * engine's check of /proc finds it gone, seconds later). */
static void test_source_exit_early(void **state)
{
	const struct vg_pt_entry *pe;
	struct fed f;

	(void)state;
	fed_start(&f, 10 * MS);
	fed_exit(&f);
	fed_wait(&f, 1);
	assert_int_equal(f.got.type[0], VG_E_EXIT);
	fed_clone(&f);
	fed_wait(&f, 2);
	assert_int_equal(f.got.type[1], VG_E_FORK);
	pe = vg_ptable_get(vg_engine_ptable(f.en), f.child);
	assert_non_null(pe);
	assert_false(pe->exited); /* wrong: the child is gone */
	fed_stop(&f);
}

/* Exits still held at the end go out then (tick all); in order. */
static void test_source_finish(void **state)
{
	struct fed f;

	(void)state;
	fed_start(&f, 60 * SEC);
	fed_exit(&f);
	fed_clone(&f);
	assert_int_equal(f.got.n, 1);
	for (int i = 0; i < 5; i++)
		vg_engine_pump(f.en);
	assert_int_equal(f.got.n, 1);
	vg_engine_finish(f.en);
	assert_int_equal(f.got.n, 2);
	assert_int_equal(f.got.type[1], VG_E_EXIT);
	assert_true(vg_ptable_get(vg_engine_ptable(f.en), f.child)->exited);
	fed_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_exec_args),
		cmocka_unit_test(test_exec_split),
		cmocka_unit_test(test_exec_max_args),
		cmocka_unit_test(test_exec_script),
		cmocka_unit_test(test_open_paths),
		cmocka_unit_test(test_file_calls),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_fork_exit),
		cmocka_unit_test(test_syscall_names),
		cmocka_unit_test(test_missing_eoe),
		cmocka_unit_test(test_missing_execve),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_oversize_record),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_source_exit_held),
		cmocka_unit_test(test_source_exit_early),
		cmocka_unit_test(test_source_finish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
