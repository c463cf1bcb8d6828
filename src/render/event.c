/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "render/event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "attrib/attrib.h"
#include "base/util.h"
#include "render/identity.h"
#include "render/tp.h"

/* Serialized container and pod members per cgroup: direct-mapped slots,
 * trusted for this long of event time. */
#define ATTR_SLOTS 256
#define ATTR_NS 1000000000ull
/* A thread's proc, user, group, cgroup and ns members. */
#define PROC_SLOTS 64

struct proc_key {
	uint32_t pid, tid, ppid, uid, gid, mntns;
	uint64_t cgroup_id, start_ns;
	uint64_t gen; /* the process-table entry's version */
	char comm[16];
	uint8_t flags; /* what the source lacked */
};

struct vg_renderer {
	struct vg_printer *pr;   /* the JSON record being made */
	struct vg_printer *line; /* the text line, kept until the next */
	struct vg_printer *frag; /* parts made once, reused */
	int64_t boot_to_wall_ns;
	uint32_t host_mntns;
	/* vg_render_time(): the formatted second of the last event */
	int64_t time_sec;
	char time_prefix[32];
	size_t time_prefix_len;
	struct attr_slot {
		uint64_t cgroup_id, made_ns;
		const void *meta; /* what it was made from, and its version */
		uint32_t gen;
		char *json;
		size_t len;
	} attr[ATTR_SLOTS];
	struct proc_slot {
		struct proc_key k;
		bool used;
		char *json;
		size_t len;
	} proc[PROC_SLOTS];
	uint32_t last_flags;
	char last_flags_text[256];
};

struct vg_renderer *vg_renderer_new(void)
{
	struct vg_renderer *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pr = vg_printer_new(VG_OUTPUT_JSON);
	r->line = vg_printer_new(VG_OUTPUT_TEXT);
	r->frag = vg_printer_new(VG_OUTPUT_JSON);
	if (!r->pr || !r->line || !r->frag) {
		vg_renderer_free(r);
		return NULL;
	}
	return r;
}

void vg_renderer_free(struct vg_renderer *r)
{
	if (!r)
		return;
	vg_printer_free(r->pr);
	vg_printer_free(r->line);
	vg_printer_free(r->frag);
	for (size_t i = 0; i < ATTR_SLOTS; i++)
		free(r->attr[i].json);
	for (size_t i = 0; i < PROC_SLOTS; i++)
		free(r->proc[i].json);
	free(r);
}

void vg_renderer_set_clock(struct vg_renderer *r, int64_t boot_to_wall_ns)
{
	r->boot_to_wall_ns = boot_to_wall_ns;
	r->time_prefix_len = 0;
}

void vg_renderer_set_host_mntns(struct vg_renderer *r, uint32_t mntns)
{
	r->host_mntns = mntns;
}

void vg_renderer_forget(struct vg_renderer *r)
{
	for (size_t i = 0; i < ATTR_SLOTS; i++)
		r->attr[i].cgroup_id = 0;
}

/* ------------------------------------------------------------- pieces */

void vg_render_time(struct vg_renderer *r, uint64_t ktime, char *buf,
		    size_t bufsz)
{
	int64_t wall;
	int64_t sec;
	unsigned us;
	char frac[9];

	/* a recording's times are anyone's: one past the clock's range
	 * is shown as its start */
	if (ktime > INT64_MAX ||
	    __builtin_add_overflow((int64_t)ktime, r->boot_to_wall_ns, &wall))
		wall = -1;
	sec = wall / 1000000000;
	us = (unsigned)((wall % 1000000000) / 1000);
	if (wall < 0) {
		snprintf(buf, bufsz, "1970-01-01T00:00:00.000000Z");
		return;
	}
	/* the date and time of day, once per second of event time */
	if (sec != r->time_sec || !r->time_prefix_len) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		r->time_prefix_len = strftime(r->time_prefix, sizeof(r->time_prefix),
					      "%Y-%m-%dT%H:%M:%S", &tm);
		r->time_sec = sec;
	}
	frac[0] = '.';
	for (int i = 6; i >= 1; i--, us /= 10)
		frac[i] = (char)('0' + us % 10);
	frac[7] = 'Z';
	frac[8] = '\0';
	if (bufsz < r->time_prefix_len + sizeof(frac)) {
		if (bufsz)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, r->time_prefix, r->time_prefix_len);
	memcpy(buf + r->time_prefix_len, frac, sizeof(frac));
}

const char *vg_errno_name(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{ EPERM, "EPERM" },	      { ENOENT, "ENOENT" },
		{ EACCES, "EACCES" },	      { EEXIST, "EEXIST" },
		{ ENOTDIR, "ENOTDIR" },	      { EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" },	      { EMFILE, "EMFILE" },
		{ ENFILE, "ENFILE" },	      { EROFS, "EROFS" },
		{ ELOOP, "ELOOP" },	      { ENAMETOOLONG, "ENAMETOOLONG" },
		{ EAGAIN, "EAGAIN" },	      { EINTR, "EINTR" },
		{ EBADF, "EBADF" },	      { ENOTSOCK, "ENOTSOCK" },
		{ EADDRINUSE, "EADDRINUSE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ENETUNREACH, "ENETUNREACH" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ETIMEDOUT, "ETIMEDOUT" },   { EINPROGRESS, "EINPROGRESS" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ ECONNRESET, "ECONNRESET" }, { EISCONN, "EISCONN" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENOMEM, "ENOMEM" },
		{ ENOSPC, "ENOSPC" },	      { ETXTBSY, "ETXTBSY" },
		{ EFAULT, "EFAULT" },	      { ENXIO, "ENXIO" },
	};

	for (size_t i = 0; i < VG_ARRAY_SIZE(t); i++)
		if (t[i].e == e)
			return t[i].n;
	return NULL;
}

/* The name of the error @ret (< 0): its errno's (ENOENT), else "E<n>"
 * in @buf. */
static const char *error_name(int64_t ret, char *buf, size_t bufsz)
{
	const char *n = vg_errno_name((int)-ret);

	if (n)
		return n;
	snprintf(buf, bufsz, "E%lld", (long long)-ret);
	return buf;
}

/* evt_result's members. */
static void put_result(struct vg_printer *p, int64_t ret)
{
	char buf[32];

	vg_pr_obj_open(p, "evt_result");
	vg_pr_i64(p, "rawres", NULL, ret);
	vg_pr_str(p, "res", NULL,
		  ret >= 0 ? "SUCCESS" : error_name(ret, buf, sizeof(buf)));
	vg_pr_obj_close(p);
}

/* The container and pod of @e as members of @p. */
static void attribution_members(const struct vg_event *e, struct vg_printer *p)
{
	const struct vg_attribution *a = e->x.attr;
	const struct vg_meta_entry *me = !e->x.attr_err && a ? a->meta : NULL;
	const struct vg_container_meta *m =
		me && me->has_meta ? &me->meta : NULL;
	bool ok = vg_meta_trusted(me);

	vg_pr_obj_open(p, "container");
	if (e->x.attr_err || !a) {
		vg_pr_null(p, "id", NULL);
		vg_pr_str(p, "error", NULL,
			  strerror(e->x.attr_err ? -e->x.attr_err : ENOENT));
	} else if (a->match.role == VG_ROLE_CONTAINER) {
		vg_pr_str(p, "id", NULL, a->match.container_id);
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(a->match.runtime));
		if (me) {
			vg_pr_bool(p, "verified", NULL, ok);
			if (me->verify != VG_VERIFY_RUNTIME)
				vg_pr_str(p, "verification", NULL,
					  vg_verify_name(me->verify));
			if (!ok)
				vg_pr_str(p, "unverified", NULL, me->verify_why);
		}
		if (m) {
			vg_pr_str(p, "name", NULL, m->name);
			vg_pr_str(p, "image", NULL, m->image);
			vg_pr_str(p, "image_id", NULL, m->image_id);
			vg_print_kv(p, "labels", NULL, &m->labels);
			if (m->incomplete)
				vg_pr_str(p, "incomplete", NULL, m->missing);
		}
	} else {
		vg_pr_str(p, "id", NULL, "host");
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(a->match.runtime));
	}
	vg_pr_obj_close(p);
	if (!e->x.attr_err && a && a->meta &&
	    a->meta->pod.source != VG_POD_SRC_NONE)
		vg_print_k8s(p, &a->meta->pod, a->match.pod_qos);
}

void vg_render_attribution(const struct vg_event *e, struct vg_printer *p)
{
	attribution_members(e, p);
}

/*
 * Finish r->frag's record and add its members (the object without its
 * braces) to the record being made, keeping them in *@json, *@len for
 * reuse. False when out of memory: the caller writes them itself.
 */
static bool frag_to_cache(struct vg_renderer *r, char **json, size_t *len)
{
	char *obj = vg_pr_end_string(r->frag);
	size_t n = obj ? strlen(obj) : 0;

	if (n < 2) {
		free(obj);
		return false;
	}
	memmove(obj, obj + 1, n - 2);
	obj[n - 2] = '\0';
	free(*json);
	*json = obj;
	*len = n - 2;
	vg_pr_raw_members(r->pr, obj, n - 2);
	return true;
}

/* The container and pod members, serialized once per cgroup and reused
 * for ATTR_NS of event time. */
static void put_attribution(struct vg_renderer *r, const struct vg_event *e,
			    uint64_t cgroup_id, uint64_t ktime)
{
	struct attr_slot *c = &r->attr[(cgroup_id * 0x9e3779b97f4a7c15ull) >> 56];
	const struct vg_meta_entry *me = e->x.attr ? e->x.attr->meta : NULL;

	/* a source without cgroup ids (audit) may leave the id 0 for
	 * processes of different containers: no reuse then */
	bool keyed = !(e->has_task && e->t.cgroup_unknown);

	if (keyed && c->json && c->cgroup_id == cgroup_id && !e->x.attr_err &&
	    ktime - c->made_ns < ATTR_NS && c->meta == me &&
	    (!me || c->gen == me->gen)) {
		vg_pr_raw_members(r->pr, c->json, c->len);
		return;
	}
	vg_pr_begin(r->frag);
	attribution_members(e, r->frag);
	if (e->x.attr_err || !keyed || !frag_to_cache(r, &c->json, &c->len)) {
		attribution_members(e, r->pr);
		return;
	}
	c->cgroup_id = cgroup_id;
	c->made_ns = ktime;
	c->meta = me;
	c->gen = me ? me->gen : 0;
}

static void put_evt(struct vg_renderer *r, const struct vg_event *e,
		    uint64_t ktime, uint32_t cpu)
{
	char when[48];

	vg_render_time(r, ktime, when, sizeof(when));
	vg_pr_begin(r->pr);
	vg_pr_obj_open(r->pr, "evt");
	vg_pr_str(r->pr, "type", NULL, vg_event_type_name(e->type));
	vg_pr_str(r->pr, "time", NULL, when);
	vg_pr_u64(r->pr, "ktime_ns", NULL, ktime);
	if (e->has_task && e->t.no_cpu)
		vg_pr_null(r->pr, "cpu", NULL);
	else
		vg_pr_u64(r->pr, "cpu", NULL, cpu);
	vg_pr_obj_close(r->pr);
}

/* The proc object's identity members, left open for more. */
static void proc_open(const struct vg_event *e, struct vg_printer *p)
{
	vg_event_ids(e);
	vg_pr_obj_open(p, "proc");
	vg_pr_i64(p, "pid", NULL, e->t.pid);
	if (e->t.no_cpu) /* a source without thread ids */
		vg_pr_null(p, "tid", NULL);
	else
		vg_pr_i64(p, "tid", NULL, e->t.tid);
	vg_pr_i64(p, "ppid", NULL, e->t.ppid);
	vg_pr_str(p, "name", NULL, e->t.comm);
	vg_pr_str(p, "exec_id", NULL, e->x.exec_id);
	vg_pr_str(p, "parent_exec_id", NULL, e->x.parent_exec_id);
	if (e->t.start_unknown)
		vg_pr_bool(p, "exec_id_incomplete", NULL, true);
}

static void put_ids(struct vg_printer *p, const struct vg_event *e)
{
	vg_pr_obj_open(p, "user");
	vg_pr_u64(p, "uid", NULL, e->t.uid);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "group");
	vg_pr_u64(p, "gid", NULL, e->t.gid);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "cgroup");
	if (e->t.cgroup_unknown)
		vg_pr_null(p, "id", NULL);
	else
		vg_pr_u64(p, "id", NULL, e->t.cgroup_id);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "ns");
	if (e->t.no_cpu)
		vg_pr_null(p, "mnt", NULL);
	else
		vg_pr_u64(p, "mnt", NULL, e->t.mntns);
	vg_pr_obj_close(p);
}

static void proc_members(const struct vg_event *e, struct vg_printer *p)
{
	proc_open(e, p);
	vg_pr_str(p, "exe", NULL, e->x.exe);
	vg_pr_obj_close(p);
	put_ids(p, e);
}

/* evt, then proc (with exe), user, group, cgroup and ns: the head of
 * every record of a task but exec's. All but evt depend only on the
 * task's fields and its process-table entry, so they are serialized once
 * and reused while those stay the same. */
static void put_head(struct vg_renderer *r, const struct vg_event *e)
{
	struct proc_slot *c = &r->proc[e->t.tid % PROC_SLOTS];
	struct proc_key k;

	put_evt(r, e, e->t.ktime_ns, e->t.cpu);
	memset(&k, 0, sizeof(k));
	k.pid = e->t.pid, k.tid = e->t.tid, k.ppid = e->t.ppid;
	k.uid = e->t.uid, k.gid = e->t.gid, k.mntns = e->t.mntns;
	k.cgroup_id = e->t.cgroup_id, k.start_ns = e->t.start_ns;
	k.gen = e->x.gen;
	k.flags = (uint8_t)(e->t.no_cpu | e->t.start_unknown << 1 |
			    e->t.cgroup_unknown << 2);
	memcpy(k.comm, e->t.comm, sizeof(k.comm));
	if (c->used && c->json && memcmp(&c->k, &k, sizeof(k)) == 0) {
		vg_pr_raw_members(r->pr, c->json, c->len);
		return;
	}
	vg_pr_begin(r->frag);
	proc_members(e, r->frag);
	if (!frag_to_cache(r, &c->json, &c->len)) {
		proc_members(e, r->pr);
		c->used = false;
		return;
	}
	c->k = k;
	c->used = true;
}

/* ----------------------------------------------------------- text lines */

/*
 * The text form is made apart from the JSON one, straight into r->line:
 *
 *   TIME TYPE pid=P ppid=P uid=U COMM container=... [pod=NS/NAME] WHAT
 *
 * vigil's own words (numbers, flags, errno names, addresses from
 * inet_ntop) are put as they are; every value a process or a runtime
 * controls goes through vg_pr_put_value(), escape.h's one rule, so it is
 * one token that cannot forge a field. A line is as long as its values
 * make it: each is bounded where it is read (PATH_MAX, the argv the
 * kernel copied, the tracepoint record), and escaping at most
 * quadruples it.
 */

/* "TIME TYPE " with TYPE padded to 7. */
static struct vg_printer *line_begin(struct vg_renderer *r, uint64_t ktime,
				     const char *type)
{
	static const char pad[] = "        ";
	struct vg_printer *l = r->line;
	char when[48];
	size_t n = strlen(type);

	vg_render_time(r, ktime, when, sizeof(when));
	vg_pr_begin(l);
	vg_pr_put_str(l, when);
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put(l, type, n);
	vg_pr_put(l, pad, n < 7 ? 8 - n : 1);
	return l;
}

/* "container=RT:ID(unverified) name=N image=I pod=NS/NAME" */
static void attribution_text(const struct vg_event *e, struct vg_printer *l)
{
	const struct vg_attribution *a = e->x.attr;
	const struct vg_meta_entry *me = !e->x.attr_err && a ? a->meta : NULL;
	const struct vg_container_meta *m =
		me && me->has_meta ? &me->meta : NULL;

	if (e->x.attr_err || !a) {
		VG_PR_PUT_LIT(l, "container=?");
		return;
	}
	if (a->match.role == VG_ROLE_CONTAINER) {
		VG_PR_PUT_LIT(l, "container=");
		vg_pr_put_str(l, vg_runtime_name(a->match.runtime));
		VG_PR_PUT_LIT(l, ":");
		vg_pr_put_value(l, a->match.container_id,
				strnlen(a->match.container_id, 12), 0);
		if (me && !vg_meta_trusted(me))
			VG_PR_PUT_LIT(l, "(unverified)");
		if (m && m->name) {
			VG_PR_PUT_LIT(l, " name=");
			vg_pr_put_str_value(l, m->name, 0);
		}
		if (m && m->image) {
			VG_PR_PUT_LIT(l, " image=");
			vg_pr_put_str_value(l, m->image, 0);
		}
	} else {
		VG_PR_PUT_LIT(l, "container=host");
	}
	if (a->meta && a->meta->pod.source != VG_POD_SRC_NONE) {
		/* a '/' in either part is quoted: the first bare one splits */
		VG_PR_PUT_LIT(l, " pod=");
		vg_pr_put_str_value(l, a->meta->pod.ns, '/');
		VG_PR_PUT_LIT(l, "/");
		vg_pr_put_str_value(l, a->meta->pod.name, '/');
	}
}

/* "TIME TYPE pid=P ppid=P uid=U COMM ATTRIBUTION " */
static struct vg_printer *line_task(struct vg_renderer *r,
				    const struct vg_event *e)
{
	struct vg_printer *l = line_begin(r, e->t.ktime_ns,
					  vg_event_type_name(e->type));

	VG_PR_PUT_LIT(l, "pid=");
	vg_pr_put_u64(l, e->t.pid);
	VG_PR_PUT_LIT(l, " ppid=");
	vg_pr_put_u64(l, e->t.ppid);
	VG_PR_PUT_LIT(l, " uid=");
	vg_pr_put_u64(l, e->t.uid);
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_value(l, e->t.comm, strnlen(e->t.comm, sizeof(e->t.comm)), 0);
	VG_PR_PUT_LIT(l, " ");
	attribution_text(e, l);
	VG_PR_PUT_LIT(l, " ");
	return l;
}

/* " = 3", " = ENOENT" */
static void put_result_text(struct vg_printer *l, int64_t ret)
{
	char buf[32];

	VG_PR_PUT_LIT(l, " = ");
	if (ret >= 0)
		vg_pr_put_i64(l, ret);
	else
		vg_pr_put_str(l, error_name(ret, buf, sizeof(buf)));
}

/* ------------------------------------------------------------ by type */

static void exec_text(struct vg_renderer *r, const struct vg_event *e)
{
	struct vg_printer *l = line_task(r, e);
	const char *a = e->exec.args;
	size_t len = a ? e->exec.args_len : 0;

	VG_PR_PUT_LIT(l, "exe=");
	vg_pr_put_str_value(l, e->exec.exe, 0);
	/* the origins worth a look: written in the container, in memory */
	if (e->exec.exe_origin == VG_EXE_ORIGIN_UPPER)
		VG_PR_PUT_LIT(l, " (upper layer)");
	else if (e->exec.exe_origin == VG_EXE_ORIGIN_MEMFD)
		VG_PR_PUT_LIT(l, " (memfd)");
	/* the elements as vg_proc_split_args() makes them: NUL-separated,
	 * the last one maybe unterminated */
	VG_PR_PUT_LIT(l, " args=[");
	for (size_t i = 0; i < len;) {
		const char *nul = memchr(a + i, '\0', len - i);
		size_t n = nul ? (size_t)(nul - (a + i)) : len - i;

		if (i)
			VG_PR_PUT_LIT(l, " ");
		vg_pr_put_value(l, a + i, n, 0);
		i += n + 1;
	}
	VG_PR_PUT_LIT(l, "]");
	if (e->exec.args_truncated)
		VG_PR_PUT_LIT(l, " (truncated)");
}

static void render_exec(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;
	char **argv = NULL;
	size_t argc = 0;
	_cleanup_free_ char *copy = NULL;

	if (text) {
		exec_text(r, e);
		return;
	}
	if (e->exec.args_len) {
		copy = malloc(e->exec.args_len + 1);
		if (copy) {
			memcpy(copy, e->exec.args, e->exec.args_len);
			copy[e->exec.args_len] = '\0';
			vg_proc_split_args(copy, e->exec.args_len, &argv, &argc);
		}
	}
	put_evt(r, e, e->t.ktime_ns, e->t.cpu);
	proc_open(e, p);
	vg_pr_str(p, "exe", NULL, e->exec.exe);
	if (vg_exe_origin_name(e->exec.exe_origin))
		vg_pr_str(p, "exe_origin", NULL, vg_exe_origin_name(e->exec.exe_origin));
	vg_pr_str_array(p, "args", NULL, argv, argc);
	vg_pr_bool(p, "args_truncated", NULL, e->exec.args_truncated);
	vg_pr_bool(p, "args_incomplete", NULL, e->exec.args_incomplete);
	vg_pr_u64(p, "args_bytes", NULL, e->exec.args_bytes);
	vg_pr_str(p, "filename", NULL, e->exec.filename);
	if (e->exec.cwd)
		vg_pr_str(p, "cwd", NULL, e->exec.cwd);
	vg_pr_obj_close(p);
	put_ids(p, e);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
	free(argv);
}

static void render_exit(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;
	unsigned st = e->exit.status, sig = st & 0x7f, code = (st >> 8) & 0xff;

	if (text) {
		struct vg_printer *l = line_task(r, e);

		if (e->exit.status_unknown) {
			VG_PR_PUT_LIT(l, "status=unknown");
		} else if (sig) {
			VG_PR_PUT_LIT(l, "signal=");
			vg_pr_put_u64(l, sig);
			if (st & 0x80)
				VG_PR_PUT_LIT(l, " (core dumped)");
		} else {
			VG_PR_PUT_LIT(l, "code=");
			vg_pr_put_u64(l, code);
		}
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "exit");
	if (e->exit.status_unknown) {
		/* gone from /proc without a record of how */
		vg_pr_null(p, "status", NULL);
		vg_pr_null(p, "code", NULL);
		vg_pr_null(p, "signal", NULL);
		vg_pr_bool(p, "status_known", NULL, false);
	} else if (sig) {
		vg_pr_u64(p, "status", NULL, st);
		vg_pr_null(p, "code", NULL);
		vg_pr_u64(p, "signal", NULL, sig);
		vg_pr_bool(p, "core_dumped", NULL, st & 0x80);
	} else {
		vg_pr_u64(p, "status", NULL, st);
		vg_pr_u64(p, "code", NULL, code);
		vg_pr_null(p, "signal", NULL);
	}
	vg_pr_obj_close(p);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

static void render_fork(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;

	if (text) {
		struct vg_printer *l = line_task(r, e);

		VG_PR_PUT_LIT(l, "child=");
		if (!e->fork.child_pid) /* gone before its host pid was found */
			VG_PR_PUT_LIT(l, "unknown");
		else
			vg_pr_put_u64(l, e->fork.thread ? e->fork.child_tid
							: e->fork.child_pid);
		if (e->fork.thread)
			VG_PR_PUT_LIT(l, " (thread)");
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "child");
	if (!e->fork.child_pid) {
		/* a child in a pid namespace, gone before its host pid was
		 * found (the audit source) */
		vg_pr_null(p, "pid", NULL);
		vg_pr_null(p, "tid", NULL);
		vg_pr_bool(p, "thread", NULL, e->fork.thread);
		vg_pr_null(p, "exec_id", NULL);
		vg_pr_obj_close(p);
		put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
		return;
	}
	vg_pr_i64(p, "pid", NULL, e->fork.child_pid);
	vg_pr_i64(p, "tid", NULL, e->fork.child_tid);
	vg_pr_bool(p, "thread", NULL, e->fork.thread);
	vg_event_ids(e);
	vg_pr_str(p, "exec_id", NULL, e->id_buf[2]); /* the child's */
	vg_pr_obj_close(p);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}
/* The kernel's O_LARGEFILE, which it sets on every 64-bit open (glibc's
 * is 0 there). */
#if defined(__aarch64__)
#define K_O_LARGEFILE 0400000
#else
#define K_O_LARGEFILE 0100000
#endif

static void flags_text(uint32_t f, char *buf, size_t bufsz)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} t[] = {
		{ O_CREAT, "O_CREAT" },	   { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" },  { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" },  { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" },	   { O_DIRECT, "O_DIRECT" },
		{ K_O_LARGEFILE, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
		{ __O_TMPFILE, "O_TMPFILE" },
	};
	size_t n;

	n = (size_t)snprintf(buf, bufsz, "%s",
			     (f & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
			     : (f & O_ACCMODE) == O_RDWR ? "O_RDWR"
							 : "O_RDONLY");
	for (size_t i = 0; i < VG_ARRAY_SIZE(t) && n < bufsz; i++)
		if ((f & t[i].bit) == t[i].bit)
			n += (size_t)snprintf(buf + n, bufsz - n, "|%s", t[i].name);
}

static void render_open(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;

	if (e->open.flags != r->last_flags || !r->last_flags_text[0]) {
		flags_text(e->open.flags, r->last_flags_text,
			   sizeof(r->last_flags_text));
		r->last_flags = e->open.flags;
	}
	if (text) {
		struct vg_printer *l = line_task(r, e);

		vg_pr_put_str_value(l, e->open.name, 0);
		VG_PR_PUT_LIT(l, " ");
		vg_pr_put_str(l, r->last_flags_text);
		put_result_text(l, e->open.ret);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "fd");
	vg_pr_str(p, "name", NULL, e->open.name);
	vg_pr_str(p, "path", NULL, e->open.path);
	/* the opened file's own path, or (a failed open: no file) the
	 * caller's words */
	vg_pr_str(p, "path_source", NULL,
		  e->open.path_flags & VG_EP_USER ? "user" : "kernel");
	if (e->open.path_flags & VG_EP_TRUNCATED)
		vg_pr_bool(p, "name_truncated", NULL, true);
	if ((e->open.path_flags & VG_EP_UNRESOLVED) || e->open.ret < 0)
		vg_pr_bool(p, "name_unresolved", NULL, true);
	if (e->open.ret >= 0)
		vg_pr_i64(p, "num", NULL, e->open.ret);
	vg_pr_i64(p, "dirfd", NULL, e->open.dirfd);
	vg_pr_u64(p, "flags", NULL, e->open.flags);
	vg_pr_str(p, "flags_text", NULL, r->last_flags_text);
	/* the mode argument means something only when a file is made */
	if (e->open.flags & (O_CREAT | __O_TMPFILE))
		vg_pr_u64(p, "mode", NULL, e->open.mode);
	vg_pr_obj_close(p);
	put_result(p, e->open.ret);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}
/* The container's root filesystem on the host (the runtime's merged
 * directory), or NULL: not in a container, or not said (yet). */
static const char *container_root(const struct vg_event *e)
{
	const struct vg_attribution *a = e->x.attr;

	if (!e->x.attr_err && a && a->match.role == VG_ROLE_CONTAINER && a->meta &&
	    !a->meta->pending && a->meta->meta.rootfs &&
	    a->meta->meta.rootfs[0] == '/')
		return a->meta->meta.rootfs;
	return NULL;
}

/* Where the host sees @path of @e's process: under its container's root
 * filesystem, as it is for a process in the host's mount namespace, else
 * through /proc/PID/root. Empty when @path is not absolute. */
static void host_path_of(struct vg_renderer *r, const struct vg_event *e,
			 const char *root, const char *path, char *buf,
			 size_t bufsz)
{
	buf[0] = '\0';
	/* never a ".." that could climb out of the root it is joined to (a
	 * kernel path has none; this holds it) */
	if (!path || path[0] != '/' || strstr(path, "/../") ||
	    vg_endswith_n(path, strlen(path), "/.."))
		return;
	if (root)
		snprintf(buf, bufsz, "%s%s", root, strcmp(path, "/") ? path : "");
	else if (e->t.mntns == r->host_mntns)
		snprintf(buf, bufsz, "%s", path);
	else
		snprintf(buf, bufsz, "/proc/%u/root%s", e->t.pid, path);
}

static void file_text(struct vg_renderer *r, const struct vg_event *e,
		      const char *host)
{
	struct vg_printer *l = line_task(r, e);
	const char *name = e->file.name, *name2 = e->file.name2;
	bool two = e->file.action == VG_FA_RENAME || e->file.action == VG_FA_LINK;
	char num[32];

	vg_pr_put_str(l, vg_file_action_name(e->file.action));
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str_value(l, name, 0);
	if (two && name2) {
		VG_PR_PUT_LIT(l, " (from ");
		vg_pr_put_str_value(l, name2, 0);
		VG_PR_PUT_LIT(l, ")");
	} else if (e->file.action == VG_FA_SYMLINK && name2) {
		VG_PR_PUT_LIT(l, " -> ");
		vg_pr_put_str_value(l, name2, 0);
	} else if (e->file.action == VG_FA_CHMOD) {
		snprintf(num, sizeof(num), " mode %04o", e->file.mode & 07777);
		vg_pr_put_str(l, num);
	} else if (e->file.action == VG_FA_CHOWN) {
		/* "-": unchanged */
		VG_PR_PUT_LIT(l, " owner ");
		if (e->file.uid != (uint32_t)-1)
			vg_pr_put_u64(l, e->file.uid);
		else
			VG_PR_PUT_LIT(l, "-");
		VG_PR_PUT_LIT(l, ":");
		if (e->file.gid != (uint32_t)-1)
			vg_pr_put_u64(l, e->file.gid);
		else
			VG_PR_PUT_LIT(l, "-");
	}
	if (host[0] && strcmp(host, name ? name : "") != 0) {
		VG_PR_PUT_LIT(l, " host ");
		vg_pr_put_str_value(l, host, 0);
	}
}

static void render_file(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;
	const char *action = vg_file_action_name(e->file.action);
	const char *name = e->file.name, *name2 = e->file.name2;
	bool two = e->file.action == VG_FA_RENAME || e->file.action == VG_FA_LINK;
	char host[4096 + 64];
	const char *root = container_root(e);

	/* a host path only from a path the kernel resolved */
	host[0] = '\0';
	if (!(e->file.path_flags & VG_EP_USER))
		host_path_of(r, e, root, name, host, sizeof(host));
	if (text) {
		file_text(r, e, host);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "fd");
	vg_pr_str(p, "name", NULL, name);
	vg_pr_str(p, "path_source", NULL,
		  e->file.path_flags & VG_EP_USER ? "user" : "kernel");
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "file");
	vg_pr_str(p, "action", NULL, action);
	vg_pr_str(p, "path", NULL, name);
	if (host[0])
		vg_pr_str(p, "host_path", NULL, host);
	/* as given, when that was not the path itself (a relative one) */
	if (e->file.path && name && strcmp(e->file.path, name) != 0)
		vg_pr_str(p, "given", NULL, e->file.path);
	if (e->file.path_flags & VG_EP_TRUNCATED)
		vg_pr_bool(p, "path_truncated", NULL, true);
	if (e->file.path_flags & VG_EP_UNRESOLVED)
		vg_pr_bool(p, "path_unresolved", NULL, true);
	if (two && name2) {
		vg_pr_str(p, "from", NULL, name2);
	} else if (e->file.action == VG_FA_SYMLINK && name2) {
		vg_pr_str(p, "target", NULL, name2);
	}
	if (e->file.action == VG_FA_CHMOD || e->file.action == VG_FA_MKDIR ||
	    (e->file.action == VG_FA_CREATE && e->file.mode))
		vg_pr_u64(p, "mode", NULL, e->file.mode & 07777);
	if (e->file.action == VG_FA_CHOWN) {
		if (e->file.uid != (uint32_t)-1)
			vg_pr_u64(p, "uid", NULL, e->file.uid);
		if (e->file.gid != (uint32_t)-1)
			vg_pr_u64(p, "gid", NULL, e->file.gid);
	}
	if (e->file.fd >= 0)
		vg_pr_i64(p, "fd", NULL, e->file.fd);
	vg_pr_obj_close(p);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

/* An address as JSON members ("s" or "c" for the server and client side,
 * Falco's naming). */
static void put_addr(struct vg_printer *p, const struct vg_event_addr *a,
		     char side)
{
	char key[8];

	if (a->family == AF_INET || a->family == AF_INET6) {
		snprintf(key, sizeof(key), "%cip", side);
		vg_pr_str(p, key, NULL, a->text);
		snprintf(key, sizeof(key), "%cport", side);
		vg_pr_u64(p, key, NULL, (uint64_t)a->port);
	} else if (a->family == AF_UNIX) {
		snprintf(key, sizeof(key), "%cpath", side);
		vg_pr_str(p, key, NULL, a->text);
	}
}

/* Whether @a says an address: an IP, or a Unix socket's path (an
 * unnamed one has none). */
static bool addr_known(const struct vg_event_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6 ||
	       (a->family == AF_UNIX && a->text[0]);
}

/* An address as text: an IP (inet_ntop's) and port as they are, a Unix
 * path as a value; "?" for none. */
static void addr_text(struct vg_printer *l, const struct vg_event_addr *a)
{
	size_t n = strnlen(a->text, sizeof(a->text));

	if (!addr_known(a)) {
		VG_PR_PUT_LIT(l, "?");
	} else if (a->family == AF_UNIX) {
		vg_pr_put_value(l, a->text, n, 0);
	} else {
		if (a->family == AF_INET6)
			VG_PR_PUT_LIT(l, "[");
		vg_pr_put(l, a->text, n);
		vg_pr_put_str(l, a->family == AF_INET6 ? "]:" : ":");
		vg_pr_put_i64(l, a->port);
	}
}

static void net_text(struct vg_renderer *r, const struct vg_event *e)
{
	struct vg_printer *l = line_task(r, e);
	const struct vg_event_addr *peer = &e->net.server, *local = NULL;

	/* the peer first, then our own end */
	if (e->type == VG_E_CONNECT) {
		local = &e->net.client;
	} else if (e->type == VG_E_ACCEPT) {
		peer = &e->net.client;
		local = &e->net.server;
	}
	addr_text(l, peer);
	if (local && addr_known(local)) {
		VG_PR_PUT_LIT(l, " local=");
		addr_text(l, local);
	}
	put_result_text(l, e->net.ret);
}

static void render_net(struct vg_renderer *r, const struct vg_event *e,
		       bool text)
{
	struct vg_printer *p = r->pr;

	if (text) {
		net_text(r, e);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "fd");
	vg_pr_i64(p, "num", NULL, e->type == VG_E_ACCEPT ? e->net.ret : e->net.fd);
	vg_pr_str(p, "l4proto", NULL,
		  e->net.family == AF_UNIX	    ? "unix"
		  : e->net.sock_type == SOCK_STREAM ? "tcp"
		  : e->net.sock_type == SOCK_DGRAM  ? "udp"
						    : NULL);
	vg_pr_str(p, "family", NULL,
		  e->net.family == AF_INET    ? "ipv4"
		  : e->net.family == AF_INET6 ? "ipv6"
		  : e->net.family == AF_UNIX  ? "unix"
					      : NULL);
	/* the peer first, then our own end */
	if (e->type == VG_E_CONNECT) {
		put_addr(p, &e->net.server, 's');
		put_addr(p, &e->net.client, 'c');
	} else if (e->type == VG_E_ACCEPT) {
		put_addr(p, &e->net.client, 'c');
		put_addr(p, &e->net.server, 's');
	} else {
		put_addr(p, &e->net.server, 's');
	}
	if (e->type == VG_E_LISTEN)
		vg_pr_u64(p, "backlog", NULL, e->net.backlog);
	/* the caller's sockaddr, not the socket's: the call failed */
	if (e->net.requested)
		vg_pr_bool(p, "requested", NULL, true);
	vg_pr_obj_close(p);
	put_result(p, e->net.ret);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

/* socket, dup, send: "fd=N TYPE PEER local=ADDR" then what the call
 * adds. */
static void sock_text(struct vg_renderer *r, const struct vg_event *e)
{
	struct vg_printer *l = line_task(r, e);
	const char *type = vg_fd_type_name(e->net.family, e->net.fd_mode, false);
	const char *fam = vg_socket_family_name(e->net.family);

	if (e->type == VG_E_SOCKET) {
		vg_pr_put_str(l, fam ? fam : "AF_?");
		VG_PR_PUT_LIT(l, " type=");
		vg_pr_put_u64(l, e->net.sock_type);
		VG_PR_PUT_LIT(l, " proto=");
		vg_pr_put_u64(l, e->net.protocol);
		put_result_text(l, e->net.ret);
		return;
	}
	if (e->type == VG_E_DUP) {
		const char *call = vg_syscall_name(e->net.nr);

		vg_pr_put_str(l, call ? call : "dup");
		VG_PR_PUT_LIT(l, " ");
	}
	VG_PR_PUT_LIT(l, "fd=");
	vg_pr_put_i64(l, e->net.fd);
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str(l, type ? type : "?");
	if (addr_known(&e->net.server)) {
		VG_PR_PUT_LIT(l, " ");
		addr_text(l, &e->net.server);
	}
	if (addr_known(&e->net.client)) {
		VG_PR_PUT_LIT(l, " local=");
		addr_text(l, &e->net.client);
	}
	if (e->type == VG_E_SEND && e->net.size) {
		VG_PR_PUT_LIT(l, " size=");
		vg_pr_put_u64(l, e->net.size);
	}
	put_result_text(l, e->net.ret);
}

static void render_sock(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;
	const char *call = vg_syscall_name(e->net.nr);

	if (text) {
		sock_text(r, e);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "fd");
	if (e->net.fd >= 0)
		vg_pr_i64(p, "num", NULL, e->net.fd);
	vg_pr_str(p, "type", NULL, vg_fd_type_name(e->net.family, e->net.fd_mode, false));
	if (e->net.fd_mode == 0140000) {
		vg_pr_str(p, "l4proto", NULL,
			  e->net.family == AF_UNIX	    ? "unix"
			  : e->net.sock_type == SOCK_STREAM ? "tcp"
			  : e->net.sock_type == SOCK_DGRAM  ? "udp"
			  : e->net.sock_type == SOCK_RAW    ? "raw"
							    : NULL);
		/* a send's destination is its server, as a connect's
		 * peer; which end of a duplicated socket served is not
		 * known: its remote and local ends */
		put_addr(p, &e->net.server, e->type == VG_E_SEND ? 's' : 'r');
		put_addr(p, &e->net.client, e->type == VG_E_SEND ? 'c' : 'l');
		if (e->type != VG_E_SOCKET)
			vg_pr_bool(p, "connected", NULL, e->net.connected);
	}
	vg_pr_obj_close(p);
	/* the call's own arguments, by Falco's parameter names */
	vg_pr_obj_open(p, "evt_args");
	if (call && e->type != VG_E_SOCKET)
		vg_pr_str(p, "syscall", NULL, call);
	switch (e->type) {
	case VG_E_SOCKET:
		vg_pr_str(p, "domain", NULL, vg_socket_family_name(e->net.family));
		vg_pr_u64(p, "type", NULL, e->net.sock_type);
		vg_pr_u64(p, "proto", NULL, e->net.protocol);
		if (e->net.flags)
			vg_pr_u64(p, "flags", NULL, e->net.flags);
		break;
	case VG_E_DUP:
		vg_pr_i64(p, "oldfd", NULL, e->net.fd);
		if (e->net.newfd >= 0)
			vg_pr_i64(p, "newfd", NULL, e->net.newfd);
		if (e->net.flags)
			vg_pr_u64(p, "flags", NULL, e->net.flags);
		break;
	default: /* send */
		vg_pr_i64(p, "fd", NULL, e->net.fd);
		if (e->net.size)
			vg_pr_u64(p, "size", NULL, e->net.size);
		if (e->net.flags)
			vg_pr_u64(p, "flags", NULL, e->net.flags);
		break;
	}
	vg_pr_obj_close(p);
	put_result(p, e->net.ret);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

static void render_ptrace(struct vg_renderer *r, const struct vg_event *e,
			  bool text)
{
	struct vg_printer *p = r->pr;
	const char *req = vg_ptrace_request_name(e->ptrace.request);

	if (text) {
		struct vg_printer *l = line_task(r, e);

		if (req) {
			vg_pr_put_str(l, req);
		} else {
			VG_PR_PUT_LIT(l, "request=");
			vg_pr_put_u64(l, e->ptrace.request);
		}
		VG_PR_PUT_LIT(l, " pid=");
		vg_pr_put_u64(l, e->ptrace.pid);
		put_result_text(l, e->ptrace.ret);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "evt_args");
	if (req)
		vg_pr_str(p, "request", NULL, req);
	vg_pr_u64(p, "request_nr", NULL, e->ptrace.request);
	vg_pr_u64(p, "pid", NULL, e->ptrace.pid);
	vg_pr_u64(p, "addr", NULL, e->ptrace.addr);
	vg_pr_u64(p, "data", NULL, e->ptrace.data);
	vg_pr_obj_close(p);
	put_result(p, e->ptrace.ret);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

static void render_syscall(struct vg_renderer *r, const struct vg_event *e,
			   bool text)
{
	struct vg_printer *p = r->pr;

	if (text) {
		struct vg_printer *l = line_task(r, e);
		char args[128];

		snprintf(args, sizeof(args), "nr=%u (%#llx, %#llx, %#llx, ...)",
			 e->syscall.nr, (unsigned long long)e->syscall.args[0],
			 (unsigned long long)e->syscall.args[1],
			 (unsigned long long)e->syscall.args[2]);
		vg_pr_put_str(l, args);
		put_result_text(l, e->syscall.ret);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "syscall");
	vg_pr_u64(p, "nr", NULL, e->syscall.nr);
	vg_pr_arr_open(p, "args");
	for (int i = 0; i < 6; i++)
		vg_pr_u64(p, NULL, NULL, e->syscall.args[i]);
	vg_pr_arr_close(p);
	vg_pr_u64(p, "duration_ns", NULL, e->t.ktime_ns - e->syscall.enter_ns);
	vg_pr_obj_close(p);
	put_result(p, e->syscall.ret);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

static void render_tp(struct vg_renderer *r, const struct vg_event *e, bool text)
{
	struct vg_printer *p = r->pr;
	const struct vg_tp_format *f = e->tp.format;

	if (text) {
		/* NAME field=value...: the fields as values among fields */
		struct vg_printer *l = line_task(r, e);

		vg_pr_put_str_value(l, e->tp.name, 0);
		if (f)
			vg_tp_decode_line(f, e->tp.raw, e->tp.len, l);
		return;
	}
	put_head(r, e);
	vg_pr_obj_open(p, "tp");
	vg_pr_str(p, "name", NULL, e->tp.name);
	vg_pr_u64(p, "id", NULL, e->tp.id);
	if (f)
		vg_tp_decode(f, e->tp.raw, e->tp.len, p, "fields");
	vg_pr_obj_close(p);
	put_attribution(r, e, e->t.cgroup_id, e->t.ktime_ns);
}

static void render_container(struct vg_renderer *r, const struct vg_event *e,
			     bool text)
{
	struct vg_printer *p = r->pr;
	int st = e->container.exit_status;
	unsigned sig = (unsigned)st & 0x7f;
	/* as the runtimes record it: 128 + the signal when one ended it */
	unsigned code = sig ? 128 + sig : ((unsigned)st >> 8) & 0xff;

	if (text) {
		struct vg_printer *l = line_begin(r, e->t.ktime_ns, "container");

		attribution_text(e, l);
		VG_PR_PUT_LIT(l, " ");
		vg_pr_put_str_value(l, e->container.state, 0);
		if (e->container.init_pid > 0) {
			VG_PR_PUT_LIT(l, " host_pid=");
			vg_pr_put_i64(l, e->container.init_pid);
		}
		if (st >= 0) {
			VG_PR_PUT_LIT(l, " code=");
			vg_pr_put_u64(l, code);
			if (sig) {
				VG_PR_PUT_LIT(l, " signal=");
				vg_pr_put_u64(l, sig);
			}
		}
		return;
	}
	put_evt(r, e, e->t.ktime_ns, e->t.cpu);
	vg_pr_obj_open(p, "cgroup");
	vg_pr_u64(p, "id", NULL, e->container.cgroup_id);
	vg_pr_obj_close(p);
	vg_pr_str(p, "state", NULL, e->container.state);
	if (e->container.init_pid > 0)
		vg_pr_i64(p, "host_pid", NULL, e->container.init_pid);
	else
		vg_pr_null(p, "host_pid", NULL);
	if (st >= 0) {
		vg_pr_obj_open(p, "exit");
		vg_pr_u64(p, "status", NULL, (uint64_t)st);
		vg_pr_u64(p, "code", NULL, code);
		if (sig)
			vg_pr_u64(p, "signal", NULL, sig);
		else
			vg_pr_null(p, "signal", NULL);
		vg_pr_obj_close(p);
	}
	put_attribution(r, e, e->container.cgroup_id, e->t.ktime_ns);
}

/* The kernel's names: the argv chunks were "exec_args". */
static const char *lost_type_name(uint32_t t)
{
	return t == VG_E_EXEC_ARGS	 ? "exec_args"
	       : t == VG_E_TP		 ? "tracepoint"
	       : t == VG_E_CGROUP_MKDIR ? "cgroup_mkdir"
	       : t == VG_E_CGROUP_RMDIR ? "cgroup_rmdir"
					 : vg_event_type_name(t);
}

static void lost_text(struct vg_renderer *r, const struct vg_event *e)
{
	struct vg_printer *l = line_begin(r, e->t.ktime_ns, "lost");

	if (e->lost.count_unknown)
		VG_PR_PUT_LIT(l, "an unknown number of");
	else
		vg_pr_put_u64(l, e->lost.total);
	VG_PR_PUT_LIT(l, " events");
	if (e->lost.reason) {
		VG_PR_PUT_LIT(l, " (");
		vg_pr_put_escaped(l, e->lost.reason, strlen(e->lost.reason));
		VG_PR_PUT_LIT(l, ")");
	} else {
		VG_PR_PUT_LIT(l, ":");
	}
	for (uint32_t t = 1; t < VG_E_KERNEL_TYPES; t++) {
		if (!e->lost.by_type[t])
			continue;
		VG_PR_PUT_LIT(l, " ");
		vg_pr_put_str(l, lost_type_name(t));
		VG_PR_PUT_LIT(l, "=");
		vg_pr_put_u64(l, e->lost.by_type[t]);
	}
	if (e->lost.unmatched) {
		VG_PR_PUT_LIT(l, " exec_args_unmatched=");
		vg_pr_put_u64(l, e->lost.unmatched);
	}
}

static void render_lost(struct vg_renderer *r, const struct vg_event *e,
			bool text)
{
	struct vg_printer *p = r->pr;
	char when[48];

	if (text) {
		lost_text(r, e);
		return;
	}
	vg_render_time(r, e->t.ktime_ns, when, sizeof(when));
	vg_pr_begin(p);
	vg_pr_obj_open(p, "evt");
	vg_pr_str(p, "type", NULL, "lost");
	vg_pr_str(p, "time", NULL, when);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "lost");
	if (e->lost.count_unknown) {
		vg_pr_null(p, "total", NULL);
		vg_pr_bool(p, "count_unknown", NULL, true);
	} else {
		vg_pr_u64(p, "total", NULL, e->lost.total);
	}
	if (e->lost.reason)
		vg_pr_str(p, "reason", NULL, e->lost.reason);
	for (uint32_t t = 1; t < VG_E_KERNEL_TYPES; t++)
		if (e->lost.by_type[t])
			vg_pr_u64(p, lost_type_name(t), NULL, e->lost.by_type[t]);
	if (e->lost.unmatched)
		vg_pr_u64(p, "exec_args_unmatched", NULL, e->lost.unmatched);
	vg_pr_obj_close(p);
}

const char *vg_render_event(struct vg_renderer *r, const struct vg_event *e,
			    enum vg_output_mode mode, size_t *ret_len)
{
	bool text = mode == VG_OUTPUT_TEXT;

	switch (e->type) {
	case VG_E_EXEC: render_exec(r, e, text); break;
	case VG_E_EXIT: render_exit(r, e, text); break;
	case VG_E_FORK: render_fork(r, e, text); break;
	case VG_E_OPEN: render_open(r, e, text); break;
	case VG_E_FILE: render_file(r, e, text); break;
	case VG_E_CONNECT:
	case VG_E_ACCEPT:
	case VG_E_BIND:
	case VG_E_LISTEN: render_net(r, e, text); break;
	case VG_E_SOCKET:
	case VG_E_DUP:
	case VG_E_SEND: render_sock(r, e, text); break;
	case VG_E_PTRACE: render_ptrace(r, e, text); break;
	case VG_E_SYSCALL: render_syscall(r, e, text); break;
	case VG_E_TP: render_tp(r, e, text); break;
	case VG_E_CONTAINER: render_container(r, e, text); break;
	case VG_E_LOST: render_lost(r, e, text); break;
	default:
		return NULL;
	}
	return vg_pr_end_view(text ? r->line : r->pr, ret_len);
}
