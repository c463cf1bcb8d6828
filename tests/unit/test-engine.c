/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine without root: events from a source the test fills (the
 * source interface is the engine's only input), a recording replayed
 * (tests/fixtures/recordings), and a host root made here with the
 * runtime state of a few containers. Checked: the process table's ids,
 * argv in chunks, the container lifecycle as real runc starts make it,
 * the hold queue, every selection kind, the kernel drop set's decisions,
 * filters on every field, and the JSON and text of every event type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "engine/engine.h"
#include "event/tpformat.h"
#include "source/bpf/decode.h"
#include "source/bpf/events.h"
#include "source/record.h"
#include "source/replay/replay.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_K "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define POD "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
enum { CG_ROOT = 1, CG_HOST = 50, CG_A = 101, CG_B = 102, CG_K = 103 };

/* ------------------------------------------------------ a host root */

static char root[256];

static void put(const char *rel, const char *fmt, ...)
{
	char path[1024], *slash;
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* A docker container with init @pid: its state, its runtime's record of
 * the init (that its cgroup's claim is verified against), the init. */
static void docker(const char *id, const char *name, const char *image,
		   const char *labels, const char *cg, int pid)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "var/lib/docker/containers/%s/config.v2.json", id);
	put(rel, "{\"State\":{\"Running\":true,\"Pid\":%d,\"StartedAt\":"
		 "\"2026-11-24T08:18:56.507318785Z\"},\"ID\":\"%s\",\"Created\":"
		 "\"2026-11-24T08:18:56.342072114Z\",\"Config\":{\"Image\":\"%s\","
		 "\"Labels\":%s},\"Image\":\"sha256:5f94\",\"Name\":\"/%s\"}",
	    pid, id, image, labels, name);
	snprintf(rel, sizeof(rel), "sys/fs/cgroup%s/cgroup.procs", cg);
	put(rel, "%d\n", pid);
	snprintf(rel, sizeof(rel), "run/docker/containerd/daemon/"
		 "io.containerd.runtime.v2.task/moby/%s/init.pid", id);
	put(rel, "%d\n", pid);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	put(rel, "%d (init) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		 "12345 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 "
		 "0 17 0 0 0 0 0 0\n", pid, pid, pid);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
	put(rel, "0::%s\n", cg);
}

static int make_root(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vigil-test-engine.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("proc/sys/kernel/random/boot_id", "cabb7c05-ed1b-46df-9a11-5c3e2f1d0b9a\n");
	put("proc/stat", "cpu  1 2 3 4\nbtime 1795000000\n");
	put("proc/1/mountinfo", "");
	/* the host's user database (user.name, group.name): uid 0 twice,
	 * the first line wins */
	put("etc/passwd", "# the host's\nroot:x:0:0:root:/root:/bin/sh\n"
			  "toor:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\n"
			  "broken line\n+nis::::::\n");
	put("etc/group", "root:x:0:\nusers:x:100:alice\n");
	/* docker run --privileged: K; not: A; B's says nothing */
	put("var/lib/docker/containers/" ID_K "/hostconfig.json", "{\"Privileged\":true}");
	put("var/lib/docker/containers/" ID_A "/hostconfig.json",
	    "{\"Privileged\":false,\"NetworkMode\":\"bridge\"}");
	put("var/lib/docker/containers/" ID_B "/hostconfig.json", "{\"Privileged\":\"yes\"}");
	/* the processes of test_falco_fields, as a live /proc shows them:
	 * cat 800 on pts/0 in bash 700's session, logged in as 1000; pid
	 * 600 another process than the table's (another start) */
	put("proc/800/stat", "800 (cat) R 700 800 700 34816 800 0 0 0 0 0 0 0 0 0 20 0 1 0 "
			     "800 1000000 100\n");
	put("proc/800/loginuid", "1000");
	put("proc/800/status", "Name:\tcat\nNSpid:\t800\t5\nCapInh:\t0000000000000000\n"
			       "CapPrm:\t0000000000200002\nCapEff:\t0000000000200002\n");
	put("proc/700/stat", "700 (bash) S 600 700 700 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
			     "700 1000000 100\n");
	put("proc/700/loginuid", "4294967295");
	put("proc/600/stat", "600 (sshd) S 1 600 600 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
			     "599 1000000 100\n");
	put("proc/600/loginuid", "0");
	docker(ID_A, "web", "nginx:1.25", "{\"team\":\"blue\"}", "/docker/" ID_A,
	       4201);
	docker(ID_B, "db", "docker.io/library/busybox:1.36", "{}", "/docker/" ID_B,
	       4202);
	docker(ID_K, "k8s_nginx_web-0_prod_" POD "_0", "nginx:1.25",
	       "{\"io.kubernetes.container.name\":\"nginx\","
	       "\"io.kubernetes.pod.name\":\"web-0\","
	       "\"io.kubernetes.pod.namespace\":\"prod\","
	       "\"io.kubernetes.pod.uid\":\"" POD "\","
	       "\"io.kubernetes.docker.type\":\"container\"}",
	       "/kubepods/burstable/pod" POD "/" ID_K, 4203);
	return 0;
}

static int remove_root(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------ a source to fill */

#define QMAX 256

struct fake {
	struct vg_source base;
	struct vg_event *q[QMAX];
	size_t n, next;
	uint64_t types, drop_types;
	uint64_t dropped[64];
	size_t n_dropped;
};

static int fk_pump(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct fake *f = (struct fake *)s;
	int n = 0;

	(void)all;
	while (f->next < f->n) {
		struct vg_event *e = f->q[f->next++];
		int r = fn(ctx, e);

		free(e);
		n++;
		if (r)
			return r;
	}
	return n;
}

static int fk_set_types(struct vg_source *s, uint64_t types, char *err,
			size_t errsz)
{
	(void)err, (void)errsz;
	((struct fake *)s)->types = types;
	return 0;
}

static void fk_drop_types(struct vg_source *s, uint64_t types)
{
	((struct fake *)s)->drop_types = types;
}

static int fk_drop_cgroup(struct vg_source *s, uint64_t cgid, bool add)
{
	struct fake *f = (struct fake *)s;

	for (size_t i = 0; i < f->n_dropped; i++)
		if (f->dropped[i] == cgid) {
			if (!add)
				f->dropped[i] = f->dropped[--f->n_dropped];
			return 0;
		}
	if (add && f->n_dropped < 64)
		f->dropped[f->n_dropped++] = cgid;
	return 0;
}

static bool is_dropped(struct fake *f, uint64_t cgid)
{
	for (size_t i = 0; i < f->n_dropped; i++)
		if (f->dropped[i] == cgid)
			return true;
	return false;
}

static void fk_free(struct vg_source *s)
{
	struct fake *f = (struct fake *)s;

	while (f->next < f->n)
		free(f->q[f->next++]);
	free(f);
}

static const struct vg_source_ops fake_ops = {
	.name = "fake",
	.pump = fk_pump,
	.set_types = fk_set_types,
	.drop_types = fk_drop_types,
	.drop_cgroup = fk_drop_cgroup,
	.free = fk_free,
};

static struct fake *fake_new(unsigned caps)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base.ops = &fake_ops;
	f->base.caps = caps;
	f->base.boot_to_wall_ns = 1795000000ll * 1000000000ll;
	return f;
}

static void push(struct fake *f, const struct vg_event *e)
{
	assert_true(f->n < QMAX);
	f->q[f->n] = vg_event_dup(e);
	assert_non_null(f->q[f->n]);
	f->n++;
}

static uint64_t clock_ns = 1000000000ull;

static struct vg_event task(uint32_t type, uint32_t pid, uint32_t ppid,
			    uint64_t cgid, const char *comm)
{
	struct vg_event e = { .type = type, .has_task = true };

	e.t.ktime_ns = clock_ns += 1000;
	e.t.start_ns = (uint64_t)pid * 10000000ull;
	e.t.cgroup_id = cgid;
	e.t.pid = e.t.tid = pid;
	e.t.ppid = ppid;
	e.t.uid = 1000;
	e.t.gid = 100;
	e.t.mntns = 4026531840u;
	snprintf(e.t.comm, sizeof(e.t.comm), "%s", comm);
	return e;
}

/* The cgroups the tests know, as a source says they exist. */
static void push_cgroups(struct fake *f)
{
	static const struct {
		uint64_t id;
		const char *path;
	} cg[] = {
		{ CG_ROOT, "/" }, { CG_HOST, "/system.slice/sshd.service" },
		{ CG_A, "/docker/" ID_A }, { CG_B, "/docker/" ID_B },
		{ CG_K, "/kubepods/burstable/pod" POD "/" ID_K },
	};

	for (size_t i = 0; i < sizeof(cg) / sizeof(cg[0]); i++) {
		struct vg_event e = { .type = VG_E_CGROUP_MKDIR };

		e.cgroup.id = cg[i].id;
		e.cgroup.path = cg[i].path;
		e.cgroup.existing = true;
		push(f, &e);
	}
}

/* ------------------------------------------------------------ sinks */

#define LINES_MAX 512

struct got {
	char *line[LINES_MAX];
	size_t n;
};

static void collect(struct vg_sink *s, const char *line, size_t len,
		    const struct vg_event *e)
{
	struct got *g = s->ctx;

	(void)e;
	assert_true(g->n < LINES_MAX);
	g->line[g->n++] = strndup(line, len);
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->line[i]);
	g->n = 0;
}

static json_t *js(const struct got *g, size_t i)
{
	json_error_t err;
	json_t *j = json_loads(g->line[i], 0, &err);

	if (!j)
		fail_msg("line %zu is not JSON (%s): %s", i, err.text, g->line[i]);
	return j;
}

static const char *jstr(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(j, a), b);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static struct vigil_ctx *ctx_new(void)
{
	struct vigil_ctx *ctx = NULL;

	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	return ctx;
}

static struct vg_engine *engine_new(struct vigil_ctx *ctx, struct fake *f)
{
	char err[256] = "";
	/* a table for a test's few processes, not a host's: an engine is
	 * made for each of hundreds of cases, under valgrind and ASan too */
	const struct vg_engine_opts o = { .ctx = ctx, .src = &f->base,
					  .ptable_max = 1024 };
	struct vg_engine *en = vg_engine_new(&o, err, sizeof(err));

	if (!en)
		fail_msg("engine: %s", err);
	return en;
}

/* Everything queued, through the engine. */
static void run(struct vg_engine *en)
{
	for (int i = 0; i < 4; i++)
		vg_engine_pump(en);
}

/* ------------------------------------------------------ process table */

static void test_table_ids(void **state)
{
	struct vigil_ctx *ctx = ctx_new();
	struct fake *f = fake_new(0);
	struct vg_engine *en = engine_new(ctx, f);
	struct got g = { 0 };
	struct vg_sink s = { .types = vg_event_std_mask(), .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_event e;
	json_t *fork, *exec, *exit;

	(void)state;
	push_cgroups(f);
	/* bash was there before: the table knows it */
	e = (struct vg_event){ .type = VG_E_PROC_SEED };
	e.seed.pid = 100;
	e.seed.ppid = 1;
	e.seed.start_ticks = 100;
	e.seed.exe = "/usr/bin/bash";
	push(f, &e);
	e = task(VG_E_FORK, 100, 1, CG_HOST, "bash");
	e.fork.child_pid = e.fork.child_tid = 200;
	e.fork.child_start_ns = 200 * 10000000ull;
	push(f, &e);
	e = task(VG_E_EXEC, 200, 100, CG_HOST, "cat");
	e.exec.filename = "/bin/cat";
	e.exec.exe = "/usr/bin/cat";
	e.exec.args = "cat\0/etc/hostname";
	e.exec.args_len = 18;
	e.exec.args_bytes = 18;
	push(f, &e);
	e = task(VG_E_EXIT, 200, 100, CG_HOST, "cat");
	e.exit.status = 3 << 8;
	push(f, &e);
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	run(en);
	assert_int_equal(g.n, 3);
	fork = js(&g, 0), exec = js(&g, 1), exit = js(&g, 2);
	assert_string_equal(jstr(fork, "evt", "type"), "fork");
	/* the child's exec id is the id its own events carry */
	assert_string_equal(jstr(fork, "child", "exec_id"), jstr(exec, "proc", "exec_id"));
	assert_string_equal(jstr(exec, "proc", "parent_exec_id"), jstr(fork, "proc", "exec_id"));
	assert_string_equal(jstr(exec, "proc", "exe"), "/usr/bin/cat");
	/* exit after exec: the table's exe is the new one */
	assert_string_equal(jstr(exit, "proc", "exe"), "/usr/bin/cat");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(exit, "exit"), "code")), 3);
	assert_string_equal(jstr(exit, "container", "id"), "host");
	json_decref(fork), json_decref(exec), json_decref(exit);
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
}

/* ------------------------------------------------- argv in chunks */

/* One exec of pid 300 (@seq) into @w, with @n chunks of @sizes, given
 * in @order, some missing (@order[i] < 0). Argument i is @tag, the digit
 * i, then @pad up to its chunk's end. */
static void put_exec(struct vg_rec_writer *w, uint64_t seq, const uint32_t *sizes,
		     size_t n, const int *order, size_t n_order, const char *tag,
		     char pad)
{
	uint8_t rec[sizeof(struct vg_ev_exec) + 64];
	struct vg_ev_exec *e = (struct vg_ev_exec *)rec;
	size_t tl = strlen(tag);
	uint32_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += sizes[i];
	memset(rec, 0, sizeof(rec));
	e->h.type = VG_EV_EXEC;
	e->h.version = VG_EVENTS_VERSION;
	e->h.pid = e->h.tid = 300;
	e->h.ppid = 1;
	e->h.cgroup_id = CG_HOST;
	e->h.ktime_ns = 5000000000ull;
	memcpy(e->h.comm, "prog", 5);
	memcpy(rec + sizeof(*e), "/bin/prog", 10);
	memcpy(rec + sizeof(*e) + 10, "/usr/bin/prog", 14);
	e->filename_len = 10;
	e->exe_len = 14;
	e->args_len = total;
	e->args_sent = total;
	e->args_chunks = (uint32_t)n;
	e->exec_seq = seq;
	e->h.size = sizeof(*e) + 24;
	assert_int_equal(vg_rec_write(w, VG_REC_RING, rec, e->h.size), 0);
	for (size_t k = 0; k < n_order; k++) {
		int i = order[k];
		static uint8_t chunk[sizeof(struct vg_ev_exec_args) + VG_ARGS_CHUNK];
		struct vg_ev_exec_args *a = (struct vg_ev_exec_args *)chunk;

		if (i < 0)
			continue;
		memset(chunk, 0, sizeof(*a));
		a->h = e->h;
		a->h.type = VG_EV_EXEC_ARGS;
		a->exec_seq = seq;
		a->offset = (uint32_t)i * VG_ARGS_CHUNK;
		a->len = sizes[i];
		/* argv[i] is @tag, I, padded with @pad, NUL-terminated */
		assert_true(sizes[i] > tl + 1);
		memset(chunk + sizeof(*a), pad, sizes[i]);
		memcpy(chunk + sizeof(*a), tag, tl);
		chunk[sizeof(*a) + tl] = (uint8_t)('0' + i % 10);
		chunk[sizeof(*a) + sizes[i] - 1] = '\0';
		a->h.size = (uint32_t)(sizeof(*a) + sizes[i]);
		assert_int_equal(vg_rec_write(w, VG_REC_RING, chunk, a->h.size), 0);
	}
}

/* A recording of one exec with @n chunks of @sizes, given in @order,
 * some missing (@order[i] < 0). */
static void write_exec_recording(const char *path, const uint32_t *sizes,
				 size_t n, const int *order, size_t n_order)
{
	struct vg_rec_writer w;
	struct vg_rec_header h = { 0 };
	char err[256];

	snprintf(h.boot_id, sizeof(h.boot_id), "cabb7c05-ed1b-46df");
	assert_int_equal(vg_rec_open(&w, path, &h, err, sizeof(err)), 0);
	put_exec(&w, 77, sizes, n, order, n_order, "chunk", 'x');
	assert_int_equal(vg_rec_close(&w), 0);
}

/* The execs of a recording through the engine, as JSON lines into @g,
 * those that match @filter (NULL: all). */
static void replay_execs(const char *path, const char *filter, struct got *g)
{
	struct vigil_ctx *ctx = ctx_new();
	struct vg_source *src;
	struct vg_engine *en;
	struct vg_filter *flt = NULL;
	struct vg_filter_error fe = { 0 };
	struct vg_sink s = { .types = VG_E_BIT(VG_E_EXEC), .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = g };
	char err[256];

	if (filter && vg_filter_compile(filter, &flt, &fe) < 0)
		fail_msg("'%s': %s", filter, fe.msg);
	s.filter = flt;
	assert_int_equal(vg_replay_source_new(path, NULL, 0, &src, err, sizeof(err)), 0);
	/* claims as the live sensor verified them */
	vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);
	const struct vg_engine_opts o = { .ctx = ctx, .src = src };
	en = vg_engine_new(&o, err, sizeof(err));
	assert_non_null(en);
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	while (!vg_engine_ended(en))
		vg_engine_pump(en);
	vg_engine_finish(en);
	vg_engine_free(en);
	vg_filter_free(flt);
	vigil_ctx_free(ctx);
}

static json_t *replay_one(const char *path)
{
	struct got g = { 0 };
	json_t *j;

	replay_execs(path, NULL, &g);
	assert_int_equal(g.n, 1);
	j = js(&g, 0);
	got_free(&g);
	return j;
}

static void test_argv_chunks(void **state)
{
	const uint32_t sizes[3] = { VG_ARGS_CHUNK, VG_ARGS_CHUNK, 100 };
	const int whole[3] = { 0, 1, 2 }, lost[3] = { 0, -1, 2 }, reversed[3] = { 2, 1, 0 };
	char path[300];
	json_t *j, *args;

	(void)state;
	snprintf(path, sizeof(path), "%s/exec.rec", root);
	/* complete */
	write_exec_recording(path, sizes, 3, whole, 3);
	j = replay_one(path);
	args = json_object_get(json_object_get(j, "proc"), "args");
	assert_int_equal(json_array_size(args), 3);
	assert_true(json_is_false(json_object_get(json_object_get(j, "proc"), "args_truncated")));
	assert_int_equal(strlen(json_string_value(json_array_get(args, 1))), VG_ARGS_CHUNK - 1);
	json_decref(j);
	/* the middle chunk lost: what follows the gap is not shown, and no
	 * byte that did not arrive is */
	write_exec_recording(path, sizes, 3, lost, 3);
	j = replay_one(path);
	args = json_object_get(json_object_get(j, "proc"), "args");
	assert_int_equal(json_array_size(args), 1);
	assert_true(json_is_true(json_object_get(json_object_get(j, "proc"), "args_truncated")));
	assert_non_null(strstr(json_string_value(json_array_get(args, 0)), "chunk0"));
	json_decref(j);
	/* out of order: whole again */
	write_exec_recording(path, sizes, 3, reversed, 3);
	j = replay_one(path);
	args = json_object_get(json_object_get(j, "proc"), "args");
	assert_int_equal(json_array_size(args), 3);
	assert_true(json_is_false(json_object_get(json_object_get(j, "proc"), "args_truncated")));
	json_decref(j);
	unlink(path);
}

/*
 * A chunk lost (a ring overflow) after another exec of the same pid went
 * through the same reassembly slot: what is shown and filtered on is the
 * argv up to the gap, nothing of the earlier argv and nothing after the
 * gap, and the argv is marked incomplete.
 */
static void test_argv_lost_chunk_stale(void **state)
{
	const uint32_t sizes[3] = { VG_ARGS_CHUNK, VG_ARGS_CHUNK, 100 };
	const int whole[3] = { 0, 1, 2 }, lost[3] = { 0, -1, 2 };
	struct vg_rec_header h = { 0 };
	struct vg_rec_writer w;
	char path[300], err[256];
	struct got g = { 0 };
	json_t *j, *proc, *args;
	const char *a0;

	(void)state;
	snprintf(path, sizeof(path), "%s/stale.rec", root);
	snprintf(h.boot_id, sizeof(h.boot_id), "cabb7c05-ed1b-46df");
	assert_int_equal(vg_rec_open(&w, path, &h, err, sizeof(err)), 0);
	put_exec(&w, 76, sizes, 3, whole, 3, "SECRET", 'S');
	put_exec(&w, 77, sizes, 3, lost, 3, "chunk", 'x');
	assert_int_equal(vg_rec_close(&w), 0);

	replay_execs(path, NULL, &g);
	assert_int_equal(g.n, 2);
	/* the first whole; the second with its first chunk only */
	j = js(&g, 0);
	proc = json_object_get(j, "proc");
	assert_int_equal(json_array_size(json_object_get(proc, "args")), 3);
	assert_true(json_is_false(json_object_get(proc, "args_incomplete")));
	json_decref(j);
	assert_null(strstr(g.line[1], "SECRET"));
	assert_null(strstr(g.line[1], "SS"));
	assert_null(strstr(g.line[1], "chunk2"));
	j = js(&g, 1);
	proc = json_object_get(j, "proc");
	args = json_object_get(proc, "args");
	assert_int_equal(json_array_size(args), 1);
	a0 = json_string_value(json_array_get(args, 0));
	assert_non_null(a0);
	assert_int_equal(strncmp(a0, "chunk0", 6), 0);
	assert_int_equal(strspn(a0 + 6, "x") + 7, VG_ARGS_CHUNK);
	assert_true(json_is_true(json_object_get(proc, "args_incomplete")));
	assert_true(json_is_true(json_object_get(proc, "args_truncated")));
	assert_int_equal(json_integer_value(json_object_get(proc, "args_bytes")),
			 2 * VG_ARGS_CHUNK + 100);
	json_decref(j);
	got_free(&g);

	/* filters see what is shown: the earlier argv matches only its own
	 * exec, the bytes after the gap match nothing */
	replay_execs(path, "proc.args contains SECRET", &g);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.line[0], "SECRET0"));
	got_free(&g);
	replay_execs(path, "proc.args contains chunk2", &g);
	assert_int_equal(g.n, 0);
	replay_execs(path, "proc.cmdline contains S", &g);
	assert_int_equal(g.n, 1);
	got_free(&g);
	unlink(path);
}

/* ---------------------------------------- a recorded runc lifecycle */

static void test_recorded_lifecycle(void **state)
{
	char path[1024], host[1024], err[256];
	const char *fx = getenv("VIGIL_FIXTURES");
	struct vigil_ctx *ctx = NULL;
	struct vg_source *src;
	struct vg_engine *en;
	struct got g = { 0 };
	struct vg_sink s = { .types = VG_E_BIT(VG_E_CONTAINER) | VG_E_BIT(VG_E_EXEC),
			     .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	int seen = 0;

	(void)state;
	assert_non_null(fx);
	snprintf(path, sizeof(path), "%s/recordings/docker-lifecycle.rec", fx);
	snprintf(host, sizeof(host), "%s/recordings/host", fx);
	assert_int_equal(vigil_ctx_new(host, &ctx), 0);
	assert_int_equal(vg_replay_source_new(path, NULL, 0, &src, err, sizeof(err)), 0);
	/* claims as the live sensor verified them */
	vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);
	const struct vg_engine_opts o = { .ctx = ctx, .src = src };
	en = vg_engine_new(&o, err, sizeof(err));
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	while (!vg_engine_ended(en))
		vg_engine_pump(en);
	vg_engine_finish(en);
	/* per container: the states in order, "running" and "exited"
	 * around the command's exec by the init the runtime recorded, and
	 * runc's own setup processes exec'd in the cgroup first */
	for (const char *name = "rec-exit7"; name; name = strcmp(name, "rec-exit7") == 0 ? "rec-kill" : NULL) {
		const char *want[4] = { "created", "running", "exited", "destroyed" };
		int k = 0, init = 0, cmd_at = -1, run_at = -1, exit_at = -1, setup = 0;
		json_t *exited = NULL;

		for (size_t i = 0; i < g.n; i++) {
			json_t *j = js(&g, i);

			if (!jstr(j, "container", "name") ||
			    strcmp(jstr(j, "container", "name"), name) != 0) {
				json_decref(j);
				continue;
			}
			/* verified live, and the recording says so */
			assert_true(json_is_true(json_object_get(
				json_object_get(j, "container"), "verified")));
			if (strcmp(jstr(j, "evt", "type"), "container") == 0) {
				const char *st = json_string_value(json_object_get(j, "state"));

				assert_true(k < 4);
				assert_string_equal(st, want[k]);
				k++;
				if (strcmp(st, "running") == 0) {
					run_at = (int)i;
					init = (int)json_integer_value(json_object_get(j, "host_pid"));
				}
				if (strcmp(st, "exited") == 0) {
					exit_at = (int)i;
					exited = json_incref(j);
				}
			} else {
				int pid = (int)json_integer_value(json_object_get(json_object_get(j, "proc"), "pid"));

				if (run_at < 0 && pid != init)
					setup++;
				if (pid == init && init && cmd_at < 0)
					cmd_at = (int)i;
			}
			json_decref(j);
		}
		assert_int_equal(k, 4);
		assert_true(setup > 0);
		assert_true(run_at < cmd_at && cmd_at < exit_at);
		json_t *x = json_object_get(exited, "exit");

		if (strcmp(name, "rec-exit7") == 0) {
			assert_int_equal(json_integer_value(json_object_get(x, "code")), 7);
			assert_true(json_is_null(json_object_get(x, "signal")));
		} else {
			assert_int_equal(json_integer_value(json_object_get(x, "code")), 137);
			assert_int_equal(json_integer_value(json_object_get(x, "signal")), 9);
		}
		json_decref(exited);
		seen++;
	}
	assert_int_equal(seen, 2);
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
}

/* --------------------------------------------------------- selection */

static size_t count_in(struct got *g, uint64_t cg_want)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n; i++) {
		json_t *j = js(g, i);
		json_t *cg = json_object_get(json_object_get(j, "cgroup"), "id");

		n += json_integer_value(cg) == (json_int_t)cg_want;
		json_decref(j);
	}
	return n;
}

static const char *const ref_a[] = { ID_A }, *const ref_prefix[] = { "aaaa" },
	*const ref_short[] = { "aa" }, *const ref_db[] = { "db" },
	*const ref_web_db[] = { "web", "db" }, *const ref_web[] = { "web" };

static void test_selections(void **state)
{
	static const struct {
		struct vg_selector sel;
		bool a, b, k, host;
	} cases[] = {
		{ { .refs = ref_a, .n_refs = 1 }, 1, 0, 0, 0 },
		{ { .refs = ref_prefix, .n_refs = 1 }, 1, 0, 0, 0 },
		{ { .refs = ref_short, .n_refs = 1 }, 0, 0, 0, 0 },
		{ { .refs = ref_db, .n_refs = 1 }, 0, 1, 0, 0 },
		{ { .refs = ref_web_db, .n_refs = 2 }, 1, 1, 0, 0 },
		{ { .image_glob = "busy*" }, 0, 1, 0, 0 },
		{ { .image_glob = "nginx:1.25" }, 1, 0, 1, 0 },
		{ { .pod_ns = "prod", .pod_name = "web-*" }, 0, 0, 1, 0 },
		{ { .pod_ns = "dev", .pod_name = "web-*" }, 0, 0, 0, 0 },
		{ { .host = true }, 0, 0, 0, 1 },
		{ { .host = true, .refs = ref_db, .n_refs = 1 }, 0, 1, 0, 1 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct vigil_ctx *ctx = ctx_new();
		struct fake *f = fake_new(0);
		struct vg_engine *en = engine_new(ctx, f);
		struct got g = { 0 };
		struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN), .sel = &cases[c].sel,
				     .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
		const uint64_t cgs[4] = { CG_A, CG_B, CG_K, CG_HOST };

		push_cgroups(f);
		for (int i = 0; i < 4; i++) {
			struct vg_event e = task(VG_E_OPEN, 400 + (uint32_t)i, 1, cgs[i], "cat");

			e.open.path = e.open.name = "/etc/passwd";
			push(f, &e);
		}
		assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
		vg_engine_start(en);
		run(en);
		if (count_in(&g, CG_A) != cases[c].a || count_in(&g, CG_B) != cases[c].b ||
		    count_in(&g, CG_K) != cases[c].k || count_in(&g, CG_HOST) != cases[c].host)
			fail_msg("selection case %zu: got %zu lines", c, g.n);
		got_free(&g);
		vg_engine_free(en);
		vigil_ctx_free(ctx);
	}
}

/* --path: the resolved path, or a rename's or link's source */
static void test_path_glob(void **state)
{
	struct vigil_ctx *ctx = ctx_new();
	struct fake *f = fake_new(0);
	struct vg_engine *en = engine_new(ctx, f);
	struct got g = { 0 };
	struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN) | VG_E_BIT(VG_E_FILE),
			     .path_glob = "/etc/*", .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_event e;

	(void)state;
	push_cgroups(f);
	e = task(VG_E_OPEN, 500, 1, CG_HOST, "cat");
	e.open.path = "passwd"; /* relative, resolved */
	e.open.name = "/etc/passwd";
	push(f, &e);
	e.open.path = "/etc/shadow-as-given";
	e.open.name = "/tmp/elsewhere";
	push(f, &e);
	e = task(VG_E_FILE, 501, 1, CG_HOST, "mv");
	e.file.action = VG_FA_RENAME;
	e.file.path = e.file.name = "/tmp/x";
	e.file.path2 = e.file.name2 = "/etc/hosts";
	e.file.fd = -1;
	push(f, &e);
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	run(en);
	assert_int_equal(g.n, 2);
	assert_non_null(strstr(g.line[0], "\"name\":\"/etc/passwd\""));
	assert_non_null(strstr(g.line[1], "\"from\":\"/etc/hosts\""));
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
}

/* ------------------------------------------------------- the drop set */

static void test_drop_set(void **state)
{
	struct vigil_ctx *ctx = ctx_new();
	struct fake *f = fake_new(VG_SRC_DROP);
	struct vg_engine *en = engine_new(ctx, f);
	struct got g = { 0 };
	const struct vg_selector web = { .refs = ref_web, .n_refs = 1 };
	const struct vg_selector host = { .host = true };
	struct vg_sink s1 = { .types = VG_E_BIT(VG_E_OPEN), .sel = &web, .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_sink s2 = { .types = VG_E_BIT(VG_E_OPEN), .sel = &host, .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_sink all = { .types = VG_E_BIT(VG_E_OPEN), .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_sink table = { .types = VG_E_TABLE_TYPES, .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	const uint64_t cgs[5] = { CG_A, CG_B, CG_K, CG_HOST, CG_ROOT };

	(void)state;
	push_cgroups(f);
	for (int i = 0; i < 5; i++) {
		struct vg_event e = task(VG_E_OPEN, 600 + (uint32_t)i, 1, cgs[i], "cat");

		e.open.path = e.open.name = "/x";
		push(f, &e);
	}
	assert_int_equal(vg_engine_add_sink(en, &s1, NULL, 0), 0);
	vg_engine_start(en);
	run(en);
	/* one subscription to "web": every other cgroup is shed, but the
	 * root (everyone's, where v2 is not used) */
	assert_true(f->drop_types & VG_E_BIT(VG_E_OPEN));
	assert_false(f->drop_types & VG_E_TABLE_TYPES);
	assert_false(is_dropped(f, CG_A));
	assert_true(is_dropped(f, CG_B) && is_dropped(f, CG_K) && is_dropped(f, CG_HOST));
	assert_false(is_dropped(f, CG_ROOT));
	/* a host subscription keeps the host's cgroups */
	assert_int_equal(vg_engine_add_sink(en, &s2, NULL, 0), 0);
	assert_false(is_dropped(f, CG_HOST));
	assert_true(is_dropped(f, CG_B));
	/* one that wants only the process table changes nothing */
	assert_int_equal(vg_engine_add_sink(en, &table, NULL, 0), 0);
	assert_true(is_dropped(f, CG_B));
	/* one that wants everything: the set is off and empty */
	assert_int_equal(vg_engine_add_sink(en, &all, NULL, 0), 0);
	assert_int_equal(f->drop_types, 0);
	assert_int_equal(f->n_dropped, 0);
	vg_engine_remove_sink(en, &all);
	vg_engine_remove_sink(en, &s2);
	vg_engine_remove_sink(en, &table);
	vg_engine_remove_sink(en, &s1);
	assert_int_equal(f->drop_types, 0);
	assert_int_equal(f->n_dropped, 0);
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
}

/* ------------------------------------------------------ the hold queue */

static void test_hold(void **state)
{
	struct vigil_ctx *ctx;
	struct fake *f;

#ifndef VG_TEST_HOOKS
	skip(); /* a slow runtime is made by a test hook */
#endif
	struct vg_engine *en;
	struct got g = { 0 };
	struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN), .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
	struct vg_event e;

	(void)state;
	/* metadata that arrives within the wait: the events wait for it,
	 * in their order */
	setenv("VIGIL_TEST_META_DELAY_MS", "20", 1);
	ctx = ctx_new();
	assert_int_equal(vg_meta_worker_start(ctx), 0);
	f = fake_new(VG_SRC_LIVE);
	en = engine_new(ctx, f);
	push_cgroups(f);
	for (int i = 0; i < 3; i++) {
		e = task(VG_E_OPEN, 700, 1, CG_A, "cat");
		e.open.ret = i;
		e.open.path = e.open.name = "/held";
		push(f, &e);
	}
	/* a held copy reads as the event itself: an absolute path is not
	 * also "given" */
	e = task(VG_E_FILE, 700, 1, CG_A, "cat");
	e.file.action = VG_FA_DELETE;
	e.file.path = e.file.name = "/held";
	e.file.fd = -1;
	push(f, &e);
	s.types |= VG_E_BIT(VG_E_FILE);
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	vg_engine_pump(en);
	assert_int_equal(g.n, 0); /* waiting */
	for (int i = 0; i < 100 && g.n < 4; i++) {
		usleep(5000);
		vg_engine_pump(en);
	}
	assert_int_equal(g.n, 4);
	assert_null(strstr(g.line[3], "\"given\""));
	for (size_t i = 0; i < 3; i++) {
		json_t *j = js(&g, i);

		assert_string_equal(jstr(j, "container", "name"), "web");
		assert_true(!jstr(j, "container", "incomplete") ||
			    strcmp(jstr(j, "container", "incomplete"), "metadata being read") != 0);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "fd"), "num")),
				 (json_int_t)i);
		json_decref(j);
	}
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
	s.types = VG_E_BIT(VG_E_OPEN);
	/* metadata slower than the wait: out after 50 ms, marked so */
	setenv("VIGIL_TEST_META_DELAY_MS", "400", 1);
	ctx = ctx_new();
	assert_int_equal(vg_meta_worker_start(ctx), 0);
	f = fake_new(VG_SRC_LIVE);
	en = engine_new(ctx, f);
	push_cgroups(f);
	e = task(VG_E_OPEN, 701, 1, CG_B, "cat");
	e.open.path = e.open.name = "/late";
	push(f, &e);
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	vg_engine_pump(en);
	assert_int_equal(g.n, 0);
	usleep(60000);
	vg_engine_pump(en);
	assert_int_equal(g.n, 1);
	{
		json_t *j = js(&g, 0);

		assert_string_equal(jstr(j, "container", "incomplete"), "metadata being read");
		assert_string_equal(jstr(j, "container", "id"), ID_B);
		json_decref(j);
	}
	got_free(&g);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
	unsetenv("VIGIL_TEST_META_DELAY_MS");
}

/* ----------------------------------------------------------- filters */

static void test_filter_fields(void **state)
{
	/* for each field: an expression the event matches, and one it
	 * does not */
	static const struct {
		int field;
		const char *yes, *no;
	} t[] = {
		{ VG_F_EVT_TYPE, "evt.type = open", "evt.type = exec" },
		{ VG_F_EVT_TIME, "evt.time > 1795000000000000000", "evt.time < 1" },
		{ VG_F_EVT_CPU, "evt.cpu = 0", "evt.cpu = 1" },
		{ VG_F_EVT_RES, "evt.res = -2", "evt.res = 0" },
		{ VG_F_PROC_PID, "proc.pid = 800", "proc.pid = 801" },
		{ VG_F_PROC_TID, "proc.tid = 800", "proc.tid = 1" },
		{ VG_F_PROC_PPID, "proc.ppid = 1", "proc.ppid = 2" },
		{ VG_F_PROC_NAME, "proc.name = cat", "proc.name = ls" },
		{ VG_F_PROC_EXE, "proc.exe = /usr/bin/cat", "proc.exe = /bin/ls" },
		{ VG_F_PROC_ARGS, "proc.args = \"-n /etc/passwd\"", "proc.args contains shadow" },
		{ VG_F_PROC_CMDLINE, "proc.cmdline startswith \"cat -n\"", "proc.cmdline = cat" },
		{ VG_F_PROC_CWD, "not proc.cwd exists", "proc.cwd exists" },
		{ VG_F_PROC_EXEC_ID, "proc.exec_id contains -800-", "proc.exec_id = x" },
		{ VG_F_USER_UID, "user.uid = 1000", "user.uid = 0" },
		{ VG_F_GROUP_GID, "group.gid = 100", "group.gid = 0" },
		{ VG_F_FD_NAME, "fd.name = /etc/passwd", "fd.name = /x" },
		{ VG_F_FD_SIP, "fd.sip = 127.0.0.1", "fd.sip = 10.0.0.1" },
		{ VG_F_FD_SPORT, "fd.sport = 7777", "fd.sport = 80" },
		{ VG_F_FD_CIP, "fd.cip = 127.0.0.1", "fd.cip exists and fd.cip != 127.0.0.1" },
		{ VG_F_FD_CPORT, "fd.cport = 40000", "fd.cport = 1" },
		{ VG_F_CONTAINER_ID, "container.id = " ID_K, "container.id = host" },
		{ VG_F_CONTAINER_NAME, "container.name startswith k8s_nginx", "container.name = db" },
		{ VG_F_CONTAINER_RUNTIME, "container.runtime = docker", "container.runtime = podman" },
		{ VG_F_CONTAINER_VERIFICATION, "container.verification = runtime", "container.verification = failed" },
		{ VG_F_CONTAINER_IMAGE, "container.image = nginx:1.25", "container.image glob busy*" },
		{ VG_F_CONTAINER_IMAGE_ID, "container.image.id = sha256:5f94", "container.image.id = x" },
		{ VG_F_CONTAINER_LABEL, "container.label.io.kubernetes.pod.name = web-0",
		  "container.label.team exists" },
		{ VG_F_K8S_NS_NAME, "k8s.ns.name = prod", "k8s.ns.name = dev" },
		{ VG_F_K8S_POD_NAME, "k8s.pod.name = web-0", "k8s.pod.name = web-1" },
		{ VG_F_K8S_POD_UID, "k8s.pod.uid = " POD, "k8s.pod.uid = x" },
		{ VG_F_K8S_POD_LABEL, "not k8s.pod.label.app exists", "k8s.pod.label.app exists" },
		{ VG_F_K8S_CONTAINER_NAME, "k8s.container.name = nginx", "k8s.container.name = sidecar" },
		{ VG_F_CGROUP_ID, "cgroup.id = 103", "cgroup.id = 1" },
		{ VG_F_FILE_ACTION, "file.action = delete", "file.action = create" },
	};
	bool covered[VG_F_COUNT] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int want = 1; want >= 0; want--) {
			struct vigil_ctx *ctx = ctx_new();
			struct fake *f = fake_new(0);
			struct vg_engine *en = engine_new(ctx, f);
			struct got g = { 0 };
			struct vg_filter *flt = NULL;
			struct vg_filter_error fe = { 0 };
			const char *expr = want ? t[i].yes : t[i].no;
			struct vg_sink s = { .types = vg_event_std_mask(), .emit = collect,
					     .ctx = &g, .mode = VG_OUTPUT_JSON };
			struct vg_event e;

			if (vg_filter_compile(expr, &flt, &fe) < 0)
				fail_msg("'%s': %s", expr, fe.msg);
			s.filter = flt;
			push_cgroups(f);
			/* the exec makes the table's exe and the argv */
			e = task(VG_E_EXEC, 800, 1, CG_K, "cat");
			e.exec.exe = "/usr/bin/cat";
			e.exec.args = "cat\0-n\0/etc/passwd";
			e.exec.args_len = 19;
			push(f, &e);
			if (t[i].field >= VG_F_FD_SIP && t[i].field <= VG_F_FD_CPORT) {
				e = task(VG_E_CONNECT, 800, 1, CG_K, "cat");
				e.net.family = AF_INET;
				e.net.server = (struct vg_event_addr){ AF_INET, 7777, "127.0.0.1" };
				e.net.client = (struct vg_event_addr){ AF_INET, 40000, "127.0.0.1" };
				s.types = VG_E_BIT(VG_E_CONNECT);
			} else if (t[i].field == VG_F_FILE_ACTION) {
				e = task(VG_E_FILE, 800, 1, CG_K, "cat");
				e.file.action = VG_FA_DELETE;
				e.file.path = e.file.name = "/etc/passwd";
				e.file.fd = -1;
				s.types = VG_E_BIT(VG_E_FILE);
			} else if (t[i].field == VG_F_PROC_ARGS || t[i].field == VG_F_PROC_CMDLINE) {
				s.types = VG_E_BIT(VG_E_EXEC);
			} else {
				e = task(VG_E_OPEN, 800, 1, CG_K, "cat");
				e.open.path = e.open.name = "/etc/passwd";
				e.open.ret = -2;
				s.types = VG_E_BIT(VG_E_OPEN);
			}
			if (s.types != VG_E_BIT(VG_E_EXEC))
				push(f, &e);
			assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
			vg_engine_start(en);
			run(en);
			if ((g.n == 1) != want)
				fail_msg("'%s' should %smatch (%zu lines)", expr,
					 want ? "" : "not ", g.n);
			covered[t[i].field] = true;
			got_free(&g);
			vg_filter_free(flt);
			vg_engine_free(en);
			vigil_ctx_free(ctx);
		}
	}
	/* Falco's fields: test_falco_fields */
	for (int i = 0; i < VG_F_EVT_NUM; i++)
		if (!covered[i])
			fail_msg("no filter test for field %s", vg_filter_field_name(i));
}

/* What test_falco_fields filters on. */
enum fk {
	K_OPEN,      /* cat (pid 800, child of bash 700, of sshd 600) writes
		      * /var/log/syslog: fd 3, O_WRONLY|O_CREAT|O_TRUNC, 0755 */
	K_OPEN_FAIL, /* its open of /etc/shadow fails: ENOENT */
	K_OPEN_DIR,  /* it opens /etc with O_DIRECTORY */
	K_ORPHAN,    /* pid 900, uid 4242, no table entry, on the host */
	K_CONNECT,   /* tcp 10.0.0.5:40000 -> 192.0.2.10:22 */
	K_RENAME,    /* /tmp/a -> /tmp/b */
	K_SYMLINK,   /* /tmp/l -> ../etc/shadow */
	K_UNLINK,    /* /tmp/gone */
	/* a live source: /proc (the host root's) says more */
	K_LIVE,      /* K_OPEN: 800 on pts/0 (34816), session 700, login 1000 */
	K_LIVE_BASH, /* bash 700 opens: its own session, no terminal, no login */
	K_LIVE_REUSED, /* sshd 600 opens: /proc/600 is another process now */
	K_WEB,       /* K_OPEN in container A (not privileged) */
	K_DB,        /* ... in B (its hostconfig.json says nothing usable) */
};

/* A process tree: sshd 600 (from /proc: no argv) forks bash 700, bash
 * forks 800, which runs cat. */
static void push_tree(struct fake *f)
{
	struct vg_event e;

	e = task(VG_E_EXEC, 600, 1, CG_K, "sshd");
	e.exec.exe = "/usr/sbin/sshd";
	e.exec.args = "sshd\0-D";
	e.exec.args_len = 8;
	e.exec.args_truncated = true; /* a cut argv is not kept */
	push(f, &e);
	e = task(VG_E_FORK, 600, 1, CG_K, "sshd");
	e.fork.child_pid = e.fork.child_tid = 700;
	e.fork.child_start_ns = 700 * 10000000ull;
	push(f, &e);
	e = task(VG_E_EXEC, 700, 600, CG_K, "bash");
	e.exec.exe = "/usr/bin/bash";
	e.exec.exe_origin = VG_EXE_ORIGIN_MEMFD;
	e.exec.args = "bash\0-i";
	e.exec.args_len = 8;
	push(f, &e);
	e = task(VG_E_FORK, 700, 600, CG_K, "bash");
	e.fork.child_pid = e.fork.child_tid = 800;
	e.fork.child_start_ns = 800 * 10000000ull;
	push(f, &e);
	e = task(VG_E_EXEC, 800, 700, CG_K, "cat");
	e.exec.exe = "/usr/bin/cat";
	e.exec.exe_origin = VG_EXE_ORIGIN_UPPER;
	e.exec.args = "cat\0-n\0/etc/passwd";
	e.exec.args_len = 19;
	push(f, &e);
}

static struct vg_event falco_event(enum fk k)
{
	bool file = k >= K_RENAME && k <= K_UNLINK;
	struct vg_event e = task(file ? VG_E_FILE
				 : k == K_CONNECT ? VG_E_CONNECT : VG_E_OPEN,
				 k == K_ORPHAN ? 900 : k == K_LIVE_BASH ? 700
				 : k == K_LIVE_REUSED ? 600 : 800,
				 k == K_LIVE_BASH ? 600 : k == K_LIVE_REUSED ? 1 : 700,
				 k == K_ORPHAN ? CG_HOST : k == K_WEB ? CG_A
				 : k == K_DB ? CG_B : CG_K,
				 k == K_LIVE_BASH ? "bash" : k == K_LIVE_REUSED ? "sshd" : "cat");

	/* 5 µs into the process's life */
	e.t.ktime_ns = e.t.start_ns + 5000;
	switch (k) {
	case K_OPEN:
	case K_ORPHAN:
	case K_LIVE:
	case K_LIVE_BASH:
	case K_LIVE_REUSED:
	case K_WEB:
	case K_DB:
		e.open.path = e.open.name = "/var/log/syslog";
		e.open.ret = 3;
		e.open.flags = O_WRONLY | O_CREAT | O_TRUNC;
		e.open.mode = 0755;
		e.t.uid = k == K_ORPHAN ? 4242 : 1000;
		e.t.gid = k == K_ORPHAN ? 4242 : 100;
		break;
	case K_OPEN_FAIL:
		e.open.path = e.open.name = "/etc/shadow";
		e.open.ret = -2;
		break;
	case K_OPEN_DIR:
		e.open.path = "../etc";
		e.open.name = "/etc";
		e.open.ret = 4;
		e.open.flags = O_RDONLY | O_DIRECTORY;
		break;
	case K_CONNECT:
		e.net.fd = 5;
		e.net.family = AF_INET;
		e.net.sock_type = SOCK_STREAM;
		e.net.server = (struct vg_event_addr){ AF_INET, 22, "192.0.2.10" };
		e.net.client = (struct vg_event_addr){ AF_INET, 40000, "10.0.0.5" };
		break;
	case K_RENAME:
		e.file.action = VG_FA_RENAME;
		e.file.path = "b";
		e.file.name = "/tmp/b";
		e.file.path2 = "a";
		e.file.name2 = "/tmp/a";
		e.file.fd = -1;
		break;
	case K_SYMLINK:
		e.file.action = VG_FA_SYMLINK;
		e.file.path = e.file.name = "/tmp/l";
		e.file.path2 = "../etc/shadow";
		e.file.fd = -1;
		break;
	case K_UNLINK:
		e.file.action = VG_FA_DELETE;
		e.file.path = e.file.name = "/tmp/gone";
		e.file.fd = -1;
		break;
	}
	return e;
}

/* Falco's fields, each on an event that has it (and one the filter
 * does not match), and on one that lacks it: absent, never made up. */
static void test_falco_fields(void **state)
{
	static const struct {
		int field;
		enum fk k;
		const char *yes, *no;
	} t[] = {
		{ VG_F_EVT_NUM, K_OPEN, "evt.num = 1", "evt.num = 0" },
		{ VG_F_EVT_RAWRES, K_OPEN_FAIL, "evt.rawres = -2", "evt.rawres >= 0" },
		{ VG_F_EVT_RAWRES, K_OPEN, "evt.rawres = 3", "evt.rawres < 0" },
		{ VG_F_EVT_DIR, K_OPEN, "evt.dir = \"<\"", "evt.dir = \">\"" },
		{ VG_F_EVT_IS_OPEN_READ, K_OPEN, "evt.is_open_read = false", "evt.is_open_read = true" },
		{ VG_F_EVT_IS_OPEN_READ, K_OPEN_DIR, "evt.is_open_read = true", "evt.is_open_read = false" },
		{ VG_F_EVT_IS_OPEN_READ, K_RENAME, "evt.is_open_read = false", "not evt.is_open_read exists" },
		{ VG_F_EVT_IS_OPEN_WRITE, K_OPEN, "evt.is_open_write = true", "evt.is_open_write = false" },
		{ VG_F_EVT_IS_OPEN_WRITE, K_OPEN_DIR, "evt.is_open_write = false", "evt.is_open_write = true" },
		{ VG_F_EVT_IS_OPEN_EXEC, K_OPEN, "evt.is_open_exec = true", "evt.is_open_exec = false" },
		{ VG_F_EVT_IS_OPEN_EXEC, K_OPEN_DIR, "evt.is_open_exec = false", "evt.is_open_exec = true" },
		{ VG_F_EVT_ARG, K_OPEN, "evt.arg.flags = O_WRONLY|O_CREAT|O_TRUNC",
		  "evt.arg.flags contains O_RDONLY" },
		{ VG_F_EVT_ARG, K_OPEN_DIR, "evt.arg.flags = O_RDONLY|O_DIRECTORY and evt.arg.name = /etc",
		  "evt.arg.flags contains O_TRUNC" },
		{ VG_F_EVT_ARG, K_RENAME, "evt.arg.oldpath = /tmp/a and evt.arg.newpath = /tmp/b",
		  "evt.arg.flags exists or evt.arg.target exists" },
		{ VG_F_EVT_ARG, K_SYMLINK, "evt.arg.target = ../etc/shadow and evt.arg.linkpath = /tmp/l",
		  "evt.arg.oldpath exists" },
		{ VG_F_EVT_ARG, K_UNLINK, "evt.arg.name = /tmp/gone and evt.arg.path = /tmp/gone",
		  "evt.arg.newpath exists" },
		{ VG_F_EVT_ARG, K_CONNECT, "not evt.arg.flags exists", "evt.arg.name exists" },
		{ VG_F_PROC_EXEPATH, K_OPEN, "proc.exepath = /usr/bin/cat", "proc.exepath = /usr/bin/bash" },
		{ VG_F_PROC_PNAME, K_OPEN, "proc.pname = bash", "proc.pname = sshd" },
		{ VG_F_PROC_PNAME, K_ORPHAN, "not proc.pname exists", "proc.pname exists" },
		{ VG_F_PROC_PEXE, K_OPEN, "proc.pexe = /usr/bin/bash", "proc.pexe = /usr/bin/cat" },
		{ VG_F_PROC_PEXEPATH, K_OPEN, "proc.pexepath = /usr/bin/bash", "proc.pexepath = /usr/bin/cat" },
		{ VG_F_PROC_PEXEPATH, K_ORPHAN, "not proc.pexepath exists", "proc.pexepath exists" },
		{ VG_F_PROC_PCMDLINE, K_OPEN, "proc.pcmdline = \"bash -i\"", "proc.pcmdline = bash" },
		{ VG_F_PROC_PCMDLINE, K_ORPHAN, "not proc.pcmdline exists", "proc.pcmdline exists" },
		{ VG_F_PROC_ANAME, K_OPEN, "proc.aname = bash", "proc.aname = cat" },
		{ VG_F_PROC_ANAME, K_OPEN, "proc.aname = sshd", "proc.aname in (init, systemd)" },
		{ VG_F_PROC_ANAME, K_OPEN, "proc.aname[0] = cat and proc.aname[1] = bash",
		  "proc.aname[1] = sshd" },
		{ VG_F_PROC_ANAME, K_OPEN, "proc.aname[2] = sshd and not proc.aname[3] exists",
		  "proc.aname[3] exists" },
		{ VG_F_PROC_APID, K_OPEN, "proc.apid[2] = 600 and proc.apid[0] = 800",
		  "proc.apid = 1" },
		{ VG_F_PROC_AEXEPATH, K_OPEN, "proc.aexepath[2] = /usr/sbin/sshd",
		  "proc.aexepath[1] = /usr/sbin/sshd" },
		{ VG_F_PROC_ANAME, K_ORPHAN, "not proc.aname exists", "proc.aname exists" },
		{ VG_F_PROC_APID, K_OPEN, "proc.apid = 700", "proc.apid = 800" },
		{ VG_F_PROC_AEXE, K_OPEN, "proc.aexe = /usr/bin/bash", "proc.aexe = /usr/bin/cat" },
		{ VG_F_PROC_AEXEPATH, K_OPEN, "proc.aexepath = /usr/bin/bash", "proc.aexepath = /usr/bin/cat" },
		{ VG_F_PROC_DURATION, K_OPEN, "proc.duration = 5000", "proc.duration > 5000" },
		{ VG_F_USER_NAME, K_OPEN, "user.name = alice", "user.name = root" },
		{ VG_F_USER_NAME, K_ORPHAN, "not user.name exists", "user.name exists" },
		{ VG_F_GROUP_NAME, K_OPEN, "group.name = users", "group.name = root" },
		{ VG_F_GROUP_NAME, K_ORPHAN, "not group.name exists", "group.name exists" },
		{ VG_F_FD_NUM, K_OPEN, "fd.num = 3", "fd.num = 4" },
		{ VG_F_FD_NUM, K_OPEN_FAIL, "fd.num < 0", "fd.num >= 0" },
		{ VG_F_FD_NUM, K_CONNECT, "fd.num = 5", "fd.num = 3" },
		{ VG_F_FD_NUM, K_RENAME, "not fd.num exists", "fd.num exists" },
		{ VG_F_FD_TYPE, K_OPEN, "fd.type = file", "fd.type = directory" },
		{ VG_F_FD_TYPE, K_OPEN_DIR, "fd.type = directory", "fd.type = file" },
		{ VG_F_FD_TYPE, K_CONNECT, "fd.type = ipv4", "fd.type = ipv6" },
		{ VG_F_FD_TYPE, K_OPEN_FAIL, "not fd.type exists", "fd.type exists" },
		{ VG_F_FD_TYPECHAR, K_OPEN, "fd.typechar = f", "fd.typechar = d" },
		{ VG_F_FD_TYPECHAR, K_OPEN_DIR, "fd.typechar = d", "fd.typechar = f" },
		{ VG_F_FD_TYPECHAR, K_CONNECT, "fd.typechar = 4", "fd.typechar = 6" },
		{ VG_F_FD_TYPECHAR, K_OPEN_FAIL, "not fd.typechar exists", "fd.typechar exists" },
		{ VG_F_FD_DIRECTORY, K_OPEN, "fd.directory = /var/log", "fd.directory = /var" },
		{ VG_F_FD_DIRECTORY, K_OPEN_DIR, "fd.directory = /etc", "fd.directory = /" },
		{ VG_F_FD_DIRECTORY, K_OPEN_FAIL, "fd.directory = /etc", "fd.directory = /etc/shadow" },
		{ VG_F_FD_DIRECTORY, K_CONNECT, "not fd.directory exists", "fd.directory exists" },
		{ VG_F_FD_FILENAME, K_OPEN, "fd.filename = syslog", "fd.filename = /var/log/syslog" },
		{ VG_F_FD_FILENAME, K_UNLINK, "fd.filename = gone", "fd.filename = tmp" },
		{ VG_F_FD_FILENAME, K_OPEN_DIR, "not fd.filename exists", "fd.filename exists" },
		{ VG_F_FD_L4PROTO, K_CONNECT, "fd.l4proto = tcp", "fd.l4proto = udp" },
		{ VG_F_FD_L4PROTO, K_OPEN, "not fd.l4proto exists", "fd.l4proto exists" },
		{ VG_F_FD_LIP, K_CONNECT, "fd.lip = 10.0.0.5", "fd.lip = 192.0.2.10" },
		{ VG_F_FD_LPORT, K_CONNECT, "fd.lport = 40000", "fd.lport = 22" },
		{ VG_F_FD_RIP, K_CONNECT, "fd.rip = 192.0.2.10", "fd.rip = 10.0.0.5" },
		{ VG_F_FD_RPORT, K_CONNECT, "fd.rport = 22", "fd.rport = 40000" },
		{ VG_F_FD_RPORT, K_OPEN, "not fd.rport exists", "fd.rport exists" },
		{ VG_F_FD_CONNECTED, K_CONNECT, "fd.connected = true", "fd.connected = false" },
		{ VG_F_FD_CONNECTED, K_OPEN, "not fd.connected exists", "fd.connected exists" },
		{ VG_F_CONTAINER_IMAGE_REPOSITORY, K_OPEN, "container.image.repository = nginx",
		  "container.image.repository = nginx:1.25" },
		{ VG_F_CONTAINER_IMAGE_REPOSITORY, K_ORPHAN, "not container.image.repository exists",
		  "container.image.repository exists" },
		{ VG_F_CONTAINER_IMAGE_TAG, K_OPEN, "container.image.tag = 1.25", "container.image.tag = latest" },
		{ VG_F_CONTAINER_IMAGE_DIGEST, K_OPEN, "not container.image.digest exists",
		  "container.image.digest exists" },
		{ VG_F_CONTAINER_START_TS, K_OPEN, "container.start_ts = 1795508336507318785",
		  "container.start_ts = 0" },
		{ VG_F_CONTAINER_START_TS, K_ORPHAN, "not container.start_ts exists",
		  "container.start_ts exists" },
		{ VG_F_FD_NAMERAW, K_OPEN_DIR, "fd.nameraw = ../etc", "fd.nameraw = /etc" },
		{ VG_F_FD_NAMERAW, K_RENAME, "fd.nameraw = b", "fd.nameraw = /tmp/b" },
		{ VG_F_FD_NAMERAW, K_CONNECT, "not fd.nameraw exists", "fd.nameraw exists" },
		{ VG_F_PROC_TTY, K_LIVE, "proc.tty = 34816", "proc.tty = 0" },
		{ VG_F_PROC_TTY, K_LIVE_BASH, "proc.tty = 0", "proc.tty != 0" },
		{ VG_F_PROC_TTY, K_LIVE_REUSED, "not proc.tty exists", "proc.tty exists" },
		{ VG_F_PROC_TTY, K_OPEN, "not proc.tty exists", "proc.tty exists" }, /* a replay */
		{ VG_F_PROC_SNAME, K_LIVE, "proc.sname = bash", "proc.sname = cat" },
		{ VG_F_PROC_SNAME, K_LIVE_BASH, "proc.sname = bash", "proc.sname = sshd" },
		{ VG_F_PROC_SNAME, K_LIVE_REUSED, "not proc.sname exists", "proc.sname exists" },
		{ VG_F_USER_LOGINUID, K_LIVE, "user.loginuid = 1000", "user.loginuid = -1" },
		{ VG_F_USER_LOGINUID, K_LIVE_BASH, "user.loginuid = -1", "user.loginuid >= 0" },
		{ VG_F_USER_LOGINUID, K_LIVE_REUSED, "not user.loginuid exists", "user.loginuid exists" },
		{ VG_F_USER_LOGINNAME, K_LIVE, "user.loginname = alice", "user.loginname = root" },
		{ VG_F_PROC_VPID, K_LIVE, "proc.vpid = 5", "proc.vpid = 800" },
		{ VG_F_PROC_VPID, K_LIVE_BASH, "not proc.vpid exists", "proc.vpid exists" },
		{ VG_F_THREAD_CAP_EFFECTIVE, K_LIVE,
		  "thread.cap_effective = \"CAP_DAC_OVERRIDE CAP_SYS_ADMIN\"",
		  "thread.cap_effective contains CAP_CHOWN" },
		{ VG_F_THREAD_CAP_EFFECTIVE, K_LIVE_BASH, "not thread.cap_effective exists",
		  "thread.cap_effective exists" },
		{ VG_F_THREAD_CAP_PERMITTED, K_LIVE, "thread.cap_permitted contains CAP_SYS_ADMIN",
		  "thread.cap_permitted contains CAP_SYS_MODULE" },
		{ VG_F_THREAD_CAP_INHERITABLE, K_LIVE, "thread.cap_inheritable = \"\"",
		  "thread.cap_inheritable contains CAP" },
		{ VG_F_FD_IP, K_CONNECT, "fd.ip = 192.0.2.10 and fd.ip = 10.0.0.5", "fd.ip = 127.0.0.1" },
		{ VG_F_FD_IP, K_OPEN, "not fd.ip exists", "fd.ip exists" },
		{ VG_F_FD_PORT, K_CONNECT, "fd.port = 22 and fd.port = 40000", "fd.port = 80" },
		{ VG_F_FD_NAME, K_CONNECT, "fd.name = \"10.0.0.5:40000->192.0.2.10:22\"",
		  "fd.name startswith 192.0.2.10" },
		{ VG_F_FD_NET, K_CONNECT, "fd.net = \"192.0.2.0/24\" and fd.net in (\"10.0.0.0/8\") and fd.net != \"127.0.0.0/8\"",
		  "fd.net = \"127.0.0.0/8\" or fd.net != \"10.0.0.0/8\"" },
		{ VG_F_FD_NET, K_OPEN, "not fd.net exists", "fd.net = \"0.0.0.0/0\"" },
		{ VG_F_FD_SNET, K_CONNECT, "fd.snet = \"192.0.2.0/24\"", "fd.snet = \"10.0.0.0/8\"" },
		{ VG_F_FD_CNET, K_CONNECT, "fd.cnet = \"10.0.0.0/8\"", "fd.cnet in (\"192.0.2.0/24\", \"127.0.0.0/8\")" },
		{ VG_F_FD_LNET, K_CONNECT, "fd.lnet = \"10.0.0.0/24\"", "fd.lnet = \"10.0.1.0/24\"" },
		{ VG_F_FD_RNET, K_CONNECT, "fd.rnet = \"192.0.2.8/29\"", "fd.rnet = \"192.0.2.0/29\"" },
		{ VG_F_FD_SOCKFAMILY, K_CONNECT, "fd.sockfamily = ip", "fd.sockfamily = unix" },
		{ VG_F_FD_SOCKFAMILY, K_OPEN, "not fd.sockfamily exists", "fd.sockfamily exists" },
		{ VG_F_CONTAINER_PRIVILEGED, K_OPEN, "container.privileged = true",
		  "container.privileged = false" },
		{ VG_F_CONTAINER_PRIVILEGED, K_WEB, "container.privileged = false",
		  "container.privileged = true" },
		{ VG_F_CONTAINER_PRIVILEGED, K_DB, "not container.privileged exists",
		  "container.privileged exists" },
		{ VG_F_CONTAINER_PRIVILEGED, K_ORPHAN, "not container.privileged exists",
		  "container.privileged exists" },
		{ VG_F_USER_LOGINNAME, K_LIVE_BASH, "not user.loginname exists", "user.loginname exists" },
		{ VG_F_PROC_IS_EXE_UPPER_LAYER, K_OPEN, "proc.is_exe_upper_layer = true",
		  "proc.is_exe_upper_layer = false" },
		{ VG_F_PROC_IS_EXE_UPPER_LAYER, K_ORPHAN, "not proc.is_exe_upper_layer exists",
		  "proc.is_exe_upper_layer exists" },
		{ VG_F_PROC_IS_EXE_FROM_MEMFD, K_OPEN, "proc.is_exe_from_memfd = false",
		  "proc.is_exe_from_memfd = true" },
		{ VG_F_PROC_IS_EXE_FROM_MEMFD, K_LIVE_BASH,
		  "proc.is_exe_from_memfd = true and proc.is_exe_upper_layer = false",
		  "proc.is_exe_from_memfd = false" },
		{ VG_F_PROC_IS_EXE_FROM_MEMFD, K_ORPHAN, "not proc.is_exe_from_memfd exists",
		  "proc.is_exe_from_memfd exists" },
	};
	bool covered[VG_F_COUNT] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int want = 1; want >= 0; want--) {
			struct vigil_ctx *ctx = ctx_new();
			struct fake *f = fake_new(t[i].k >= K_LIVE && t[i].k <= K_LIVE_REUSED
							  ? VG_SRC_LIVE : 0);
			struct vg_engine *en = engine_new(ctx, f);
			struct got g = { 0 };
			struct vg_filter *flt = NULL;
			struct vg_filter_error fe = { 0 };
			const char *expr = want ? t[i].yes : t[i].no;
			struct vg_event e = falco_event(t[i].k);
			struct vg_sink s = { .types = VG_E_BIT(e.type), .emit = collect,
					     .ctx = &g, .mode = VG_OUTPUT_JSON };

			if (vg_filter_compile(expr, &flt, &fe) < 0)
				fail_msg("'%s': %s", expr, fe.msg);
			s.filter = flt;
			push_cgroups(f);
			push_tree(f);
			push(f, &e);
			assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
			vg_engine_start(en);
			run(en);
			if ((g.n == 1) != want)
				fail_msg("'%s' should %smatch (%zu lines)", expr,
					 want ? "" : "not ", g.n);
			covered[t[i].field] = true;
			got_free(&g);
			vg_filter_free(flt);
			vg_engine_free(en);
			vigil_ctx_free(ctx);
		}
	}
	for (int i = VG_F_EVT_NUM; i < VG_F_COUNT; i++)
		if (!covered[i])
			fail_msg("no filter test for field %s", vg_filter_field_name(i));
}

/* ------------------------------------------------- every type, rendered */

/* ------------------------------------------------- forged and pending */

/* A cgroup named like container A's, made where its runtime did not put
 * it (a user's session): its events say the claim and that it is not
 * verified, carry nothing of A's, and no selection or filter of A takes
 * them. */
static void test_forged_claim(void **state)
{
	static const char *const names[] = { "web" };
	struct vg_selector by_name = { .refs = names, .n_refs = 1 };
	struct vg_selector by_id = { .refs = ref_a, .n_refs = 1 };
	struct vg_selector by_image = { .image_glob = "nginx*" };
	struct vg_selector *sels[] = { &by_name, &by_id, &by_image, NULL };
	const char *filters[] = { "container.name = web", "container.image = nginx:1.25",
				  "container.label.team = blue",
				  "container.verification = failed" };

	(void)state;
	for (size_t c = 0; c < 4 + 4; c++) {
		struct vigil_ctx *ctx = ctx_new();
		struct fake *f = fake_new(0);
		struct vg_engine *en = engine_new(ctx, f);
		struct got g = { 0 };
		struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN),
				     .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
		struct vg_event e = { .type = VG_E_CGROUP_MKDIR };
		struct vg_filter *flt = NULL;
		struct vg_filter_error fe;

		push_cgroups(f);
		e.cgroup.id = 104;
		e.cgroup.path = "/user.slice/user-1000.slice/session-3.scope/docker-" ID_A ".scope";
		e.cgroup.existing = true;
		push(f, &e);
		for (uint64_t cg = CG_A; cg <= 104; cg += 104 - CG_A) {
			e = task(VG_E_OPEN, cg == CG_A ? 600 : 601, 1, cg, "cat");
			e.open.path = e.open.name = "/x";
			push(f, &e);
		}
		if (c < 4) {
			s.sel = sels[c];
		} else {
			assert_int_equal(vg_filter_compile(filters[c - 4], &flt, &fe), 0);
			s.filter = flt;
		}
		assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
		vg_engine_start(en);
		run(en);
		if (c == 3) {
			/* no selection: both, the forged one as a claim */
			json_t *j;

			assert_int_equal(g.n, 2);
			j = js(&g, 1);
			assert_string_equal(jstr(j, "container", "id"), ID_A);
			assert_true(json_is_false(json_object_get(json_object_get(j, "container"), "verified")));
			assert_non_null(strstr(jstr(j, "container", "unverified"),
					       "where its runtime put its init"));
			assert_null(jstr(j, "container", "name"));
			assert_null(jstr(j, "container", "image"));
			json_decref(j);
			j = js(&g, 0);
			assert_string_equal(jstr(j, "container", "name"), "web");
			json_decref(j);
		} else if (c == 7) {
			/* the one filter that takes it: what it is */
			assert_int_equal(g.n, 1);
			assert_non_null(strstr(g.line[0], "\"pid\":601"));
		} else {
			if (g.n != 1 || !strstr(g.line[0], "\"pid\":600"))
				fail_msg("case %zu: %zu lines, want only A's own", c, g.n);
		}
		got_free(&g);
		vg_engine_free(en);
		vg_filter_free(flt);
		vigil_ctx_free(ctx);
	}
}

/* A container whose runtime has not recorded its init yet: its events
 * wait, and go out verified once the record is there; with no record,
 * they go out after the bound as claims, counted. */
static void test_verify_pending(void **state)
{
	for (int late = 0; late < 2; late++) {
		struct vigil_ctx *ctx = ctx_new();
		struct fake *f = fake_new(VG_SRC_LIVE);
		struct vg_engine *en = engine_new(ctx, f);
		struct got g = { 0 };
		struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN),
				     .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
		struct vg_engine_stats st;
		struct vg_event e = { .type = VG_E_CGROUP_MKDIR };
		char rec[512], aside[512];
		json_t *j;

		(void)state;
		snprintf(rec, sizeof(rec), "%s/run/docker/containerd/daemon/"
			 "io.containerd.runtime.v2.task/moby/%s/init.pid", root, ID_B);
		/* in this run's own root: another run of the suite at the
		 * same time has its own */
		snprintf(aside, sizeof(aside), "%s/init.pid.aside", root);
		assert_int_equal(rename(rec, aside), 0);
		push_cgroups(f);
		e = task(VG_E_OPEN, 700, 1, CG_B, "cat");
		e.open.path = e.open.name = "/early";
		push(f, &e);
		assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
		vg_engine_start(en);
		vg_engine_pump(en);
		assert_int_equal(g.n, 0); /* held */
		if (!late)
			assert_int_equal(rename(aside, rec), 0);
		for (int i = 0; i < 400 && g.n < 1; i++) {
			usleep(10000);
			vg_engine_pump(en);
		}
		assert_int_equal(g.n, 1);
		j = js(&g, 0);
		vg_engine_stats(en, &st);
		if (!late) {
			assert_true(json_is_true(json_object_get(json_object_get(j, "container"), "verified")));
			assert_string_equal(jstr(j, "container", "name"), "db");
			assert_int_equal(st.held_unverified, 0);
		} else {
			assert_true(json_is_false(json_object_get(json_object_get(j, "container"), "verified")));
			assert_string_equal(jstr(j, "container", "verification"), "pending");
			assert_null(jstr(j, "container", "name"));
			assert_int_equal(st.held_unverified, 1);
			assert_int_equal(rename(aside, rec), 0);
		}
		json_decref(j);
		got_free(&g);
		vg_engine_free(en);
		vigil_ctx_free(ctx);
	}
}

/* A container that ran for a moment: its recorded init is gone from
 * /proc by the time its events are attributed, but the sensor saw it
 * exec in the claimed cgroup, started before the record: verified. A
 * pid the sensor saw elsewhere verifies nothing. */
static void test_verify_witness(void **state)
{
	static const char *const ids[2] = {
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
	};

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct vigil_ctx *ctx = ctx_new();
		struct fake *f = fake_new(VG_SRC_LIVE);
		struct vg_engine *en = engine_new(ctx, f);
		struct got g = { 0 };
		struct vg_sink s = { .types = VG_E_BIT(VG_E_OPEN),
				     .mode = VG_OUTPUT_JSON, .emit = collect, .ctx = &g };
		struct vg_event e = { .type = VG_E_CGROUP_MKDIR };
		char rel[512], path[256];
		json_t *j;

		snprintf(path, sizeof(path), "/docker/%s", ids[k]);
		snprintf(rel, sizeof(rel), "run/docker/containerd/daemon/"
			 "io.containerd.runtime.v2.task/moby/%s/init.pid", ids[k]);
		put(rel, "%d\n", 4300 + k); /* no /proc/4300: it is gone */
		push_cgroups(f);
		e.cgroup.id = 110 + (uint64_t)k;
		e.cgroup.path = path;
		e.cgroup.existing = true;
		push(f, &e);
		/* the init's exec, where the sensor saw it: in the container's
		 * cgroup, or (k = 1) on the host */
		e = task(VG_E_EXEC, 4300 + (uint32_t)k, 1, k ? CG_HOST : 110, "sh");
		e.t.start_ns = 100000000ull; /* 0.1 s after boot */
		e.exec.exe = "/bin/sh";
		push(f, &e);
		e = task(VG_E_OPEN, 4310, 1, 110 + (uint64_t)k, "cat");
		e.open.path = e.open.name = "/x";
		push(f, &e);
		assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
		vg_engine_start(en);
		run(en);
		for (int i = 0; i < 300 && g.n < 1; i++) {
			usleep(10000);
			vg_engine_pump(en);
		}
		assert_int_equal(g.n, 1);
		j = js(&g, 0);
		if (k == 0) {
			assert_true(json_is_true(json_object_get(json_object_get(j, "container"), "verified")));
		} else {
			assert_true(json_is_false(json_object_get(json_object_get(j, "container"), "verified")));
			assert_non_null(strstr(jstr(j, "container", "unverified"), "is gone"));
		}
		json_decref(j);
		got_free(&g);
		vg_engine_free(en);
		vigil_ctx_free(ctx);
	}
}

/* The caller's words, taken lexically: what a by-path event names. */
static void test_path_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "/", "/" },
		{ "/etc/x", "/etc/x" },
		{ "/./etc/x", "/etc/x" },
		{ "//etc//x", "/etc/x" },
		{ "/tmp/../etc/x", "/etc/x" },
		{ "/../../../etc/x", "/etc/x" }, /* never above the root */
		{ "/a/b/..", "/a" },
		{ "/a/..", "/" },
		{ "/a/./b/./", "/a/b" },
		{ "/a/b/../../..", "/" },
		{ "/.../x", "/.../x" },
		{ "/..a/x", "/..a/x" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *r = vg_path_normalize(c[i].in, buf, sizeof(buf));

		if (!r || strcmp(r, c[i].out) != 0)
			fail_msg("'%s' normalised to '%s', want '%s'", c[i].in,
				 r ? r : "(null)", c[i].out);
	}
	assert_null(vg_path_normalize("relative/x", buf, sizeof(buf)));
	assert_null(vg_path_normalize(NULL, buf, sizeof(buf)));
	/* too long for the buffer: no answer rather than a cut one */
	assert_null(vg_path_normalize("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				      buf, sizeof(buf)));
}

static void test_render_types(void **state)
{
	struct vigil_ctx *ctx = ctx_new();
	struct fake *f = fake_new(0);
	struct vg_engine *en = engine_new(ctx, f);
	struct got gj = { 0 }, gt = { 0 };
	struct vg_sink sj = { .types = ~0ull, .threads = true, .mode = VG_OUTPUT_JSON,
			      .emit = collect, .ctx = &gj };
	struct vg_sink st = { .types = ~0ull, .threads = true, .mode = VG_OUTPUT_TEXT,
			      .emit = collect, .ctx = &gt };
	struct vg_tp_format fmt;
	char ferr[256];
	static const char fmt_text[] =
		"name: signal_generate\nID: 261\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n";
	uint8_t raw[16] = { 0 };
	/* what each line must hold, JSON and text */
	static const struct {
		const char *json, *text;
	} want[] = {
		{ "\"args\":[\"ls\",\"-l\"]", "exe=/bin/ls args=[ls -l]" },
		{ "\"signal\":9", "signal=9" },
		{ "\"code\":3", "code=3" },
		{ "\"thread\":false", "child=901" },
		{ "\"thread\":true", "child=902 (thread)" },
		{ "\"flags_text\":\"O_RDONLY\"", "/etc/hosts O_RDONLY = ENOENT" },
		{ "\"action\":\"rename\"", "rename /b (from /a)" },
		{ "\"action\":\"chmod\"", "chmod /b mode 0600" },
		{ "\"sip\":\"10.0.0.9\"", "10.0.0.9:443 local=10.0.0.1:5000 = 0" },
		{ "\"cip\":\"::1\"", "[::1]:6000 local=[::1]:22 = 5" },
		{ "\"spath\":\"/run/x.sock\"", "/run/x.sock = 0" },
		{ "\"backlog\":128", "0.0.0.0:80 = 0" },
		{ "\"nr\":39", "nr=39 (0x1, 0x2, 0x3, ...) = 77" },
		{ "\"fields\":{\"sig\":12}", "signal:signal_generate sig=12" },
		{ "\"state\":\"exited\"", "exited host_pid=903 code=137 signal=9" },
		{ "\"lost\":{\"total\":5", "lost    5 events: open=5" },
	};
	struct vg_event e;

	(void)state;
	assert_int_equal(vg_tp_format_parse(fmt_text, sizeof(fmt_text) - 1, &fmt, ferr,
					    sizeof(ferr)), 0);
	push_cgroups(f);
	e = task(VG_E_EXEC, 900, 1, CG_A, "ls");
	e.exec.exe = "/bin/ls";
	e.exec.args = "ls\0-l";
	e.exec.args_len = 6;
	push(f, &e);
	e = task(VG_E_EXIT, 900, 1, CG_A, "ls");
	e.exit.status = 9;
	push(f, &e);
	e.exit.status = 3 << 8;
	push(f, &e);
	e = task(VG_E_FORK, 900, 1, CG_A, "ls");
	e.fork.child_pid = e.fork.child_tid = 901;
	push(f, &e);
	e.fork.child_pid = 900, e.fork.child_tid = 902, e.fork.thread = true;
	push(f, &e);
	e = task(VG_E_OPEN, 900, 1, CG_HOST, "cat");
	e.open.path = e.open.name = "/etc/hosts";
	e.open.ret = -2;
	push(f, &e);
	e = task(VG_E_FILE, 900, 1, CG_HOST, "mv");
	e.file.action = VG_FA_RENAME;
	e.file.path = e.file.name = "/b";
	e.file.path2 = e.file.name2 = "/a";
	e.file.fd = -1;
	push(f, &e);
	e.file.action = VG_FA_CHMOD;
	e.file.mode = 0600;
	push(f, &e);
	e = task(VG_E_CONNECT, 900, 1, CG_HOST, "curl");
	e.net.family = AF_INET;
	e.net.sock_type = SOCK_STREAM;
	e.net.server = (struct vg_event_addr){ AF_INET, 443, "10.0.0.9" };
	e.net.client = (struct vg_event_addr){ AF_INET, 5000, "10.0.0.1" };
	push(f, &e);
	e = task(VG_E_ACCEPT, 900, 1, CG_HOST, "sshd");
	e.net.family = AF_INET6;
	e.net.ret = 5;
	e.net.client = (struct vg_event_addr){ AF_INET6, 6000, "::1" };
	e.net.server = (struct vg_event_addr){ AF_INET6, 22, "::1" };
	push(f, &e);
	e = task(VG_E_BIND, 900, 1, CG_HOST, "srv");
	e.net.family = AF_UNIX;
	e.net.server = (struct vg_event_addr){ AF_UNIX, -1, "/run/x.sock" };
	push(f, &e);
	e = task(VG_E_LISTEN, 900, 1, CG_HOST, "srv");
	e.net.family = AF_INET;
	e.net.backlog = 128;
	e.net.server = (struct vg_event_addr){ AF_INET, 80, "0.0.0.0" };
	push(f, &e);
	e = task(VG_E_SYSCALL, 900, 1, CG_HOST, "x");
	e.syscall.nr = 39;
	e.syscall.args[0] = 1, e.syscall.args[1] = 2, e.syscall.args[2] = 3;
	e.syscall.ret = 77;
	push(f, &e);
	e = task(VG_E_TP, 900, 1, CG_HOST, "kill");
	raw[8] = 12;
	e.tp.id = 261;
	e.tp.raw = raw;
	e.tp.len = sizeof(raw);
	e.tp.name = "signal:signal_generate";
	e.tp.format = &fmt;
	push(f, &e);
	/* a container's exited, made by the engine from its init's exit */
	e = (struct vg_event){ .type = VG_E_INIT_PID };
	e.init.cgroup_id = CG_B;
	e.init.pid = 903;
	push(f, &e);
	e = (struct vg_event){ .type = VG_E_CGROUP_MKDIR };
	e.cgroup.id = CG_B;
	e.cgroup.path = "/docker/" ID_B;
	push(f, &e);
	e = task(VG_E_EXEC, 903, 1, CG_B, "sleep");
	push(f, &e);
	e = task(VG_E_EXIT, 903, 1, CG_B, "sleep");
	e.exit.status = 9;
	push(f, &e);
	e = (struct vg_event){ .type = VG_E_LOST };
	e.lost.total = 5;
	e.lost.by_type[VG_E_OPEN] = 5;
	push(f, &e);
	assert_int_equal(vg_engine_add_sink(en, &sj, NULL, 0), 0);
	assert_int_equal(vg_engine_add_sink(en, &st, NULL, 0), 0);
	vg_engine_start(en);
	run(en);
	assert_int_equal(gj.n, gt.n);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bool found = false;

		for (size_t i = 0; i < gj.n && !found; i++)
			if (strstr(gj.line[i], want[w].json)) {
				json_decref(js(&gj, i)); /* one JSON object */
				if (!strstr(gt.line[i], want[w].text))
					fail_msg("text line %zu '%s' lacks '%s'", i,
						 gt.line[i], want[w].text);
				found = true;
			}
		if (!found)
			fail_msg("no JSON line with %s", want[w].json);
	}
	/* every line of a task names its process and container in text */
	for (size_t i = 0; i < gt.n; i++)
		if (!strstr(gt.line[i], " lost ") && !strstr(gt.line[i], "container="))
			fail_msg("text line without its container: %s", gt.line[i]);
	got_free(&gj);
	got_free(&gt);
	vg_tp_format_release(&fmt);
	vg_engine_free(en);
	vigil_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_ids),
		cmocka_unit_test(test_argv_chunks),
		cmocka_unit_test(test_argv_lost_chunk_stale),
		cmocka_unit_test(test_recorded_lifecycle),
		cmocka_unit_test(test_selections),
		cmocka_unit_test(test_path_glob),
		cmocka_unit_test(test_drop_set),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_filter_fields),
		cmocka_unit_test(test_falco_fields),
		cmocka_unit_test(test_forged_claim),
		cmocka_unit_test(test_verify_pending),
		cmocka_unit_test(test_verify_witness),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_render_types),
	};

	return cmocka_run_group_tests(tests, make_root, remove_root);
}
