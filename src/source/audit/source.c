/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/audit/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "proc/proc.h"
#include "source/audit/control.h"
#include "source/audit/reader.h"
#include "source/audit/reasm.h"

/* Exits held for their delay, at most; beyond, the oldest goes early. */
#define HELD_EXITS_MAX 8192
/* Tasks of one caller looked through for a clone's child. */
#define RESOLVE_TASKS_MAX 4096

/* What audit records give (the rest of the kernel's types are the eBPF
 * source's own: cgroups made, argv chunks, syscalls, tracepoints). */
#define AUDIT_TYPES                                                            \
	(VG_E_TABLE_TYPES | VG_E_BIT(VG_E_OPEN) | VG_E_BIT(VG_E_CONNECT) |     \
	 VG_E_BIT(VG_E_ACCEPT) | VG_E_BIT(VG_E_BIND) | VG_E_BIT(VG_E_LISTEN) | \
	 VG_E_BIT(VG_E_FILE))
#define INTERNAL_TYPES                                                         \
	(VG_E_BIT(VG_E_EXEC_ARGS) | VG_E_BIT(VG_E_CGROUP_MKDIR) |              \
	 VG_E_BIT(VG_E_CGROUP_RMDIR))

#define NO_ID "audit records carry no CPU or thread id"
#define ONE_SIDE "an audit record holds one address: the one the caller gave " \
		 "(connect, bind) or was given (accept)"
#define SERVER_TYPES (VG_E_BIT(VG_E_CONNECT) | VG_E_BIT(VG_E_BIND) | VG_E_BIT(VG_E_LISTEN))
#define CLIENT_TYPES (VG_E_BIT(VG_E_ACCEPT) | VG_E_BIT(VG_E_LISTEN))
static const struct vg_source_lack audit_lacks[] = {
	{ "evt.cpu", 0, NO_ID },
	{ "proc.tid", 0, NO_ID },
	{ "fd.cip", SERVER_TYPES, ONE_SIDE },
	{ "fd.cport", SERVER_TYPES, ONE_SIDE },
	{ "fd.sip", CLIENT_TYPES, ONE_SIDE },
	{ "fd.sport", CLIENT_TYPES, ONE_SIDE },
	{ "proc.cwd", AUDIT_TYPES & ~VG_E_BIT(VG_E_EXEC),
	  "vigil takes the cwd from an exec's records only" },
	{ NULL, 0, NULL },
};

struct held_exit {
	uint64_t due_ns;
	struct vg_event *e;
};

struct audit_source {
	struct vg_source base;
	struct vg_audit_ctl *ctl;
	struct vg_audit_reader *reader; /* NULL: fed */
	struct vg_audit_reasm *reasm;
	int proc_fd;
	uint64_t host_pidns;      /* the host's pid namespace (vigil's) */
	uint64_t forks_unresolved; /* a child in a pid namespace, gone before
				    * its host pid was found */
	uint64_t exit_delay_ns;
	struct held_exit *held;   /* ring, oldest first */
	size_t held_head, n_held;
	uint64_t held_early;
	/* loss */
	uint64_t overruns, overruns_reported;
	uint64_t reader_full;     /* the reader's buffer was full: the kernel
				   * held its records meanwhile */
	uint32_t lost_base, lost_last;
	bool have_lost_base;
	struct vg_audit_status st;
	uint64_t last_status_ns;
	/* the pump's callback */
	vg_event_fn fn;
	void *fn_ctx;
};

static struct audit_source *of(struct vg_source *s)
{
	return (struct audit_source *)s;
}

static uint64_t now_mono(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

/* A clone3's child: a thread of the caller when /proc lists it among
 * the caller's tasks. */
static bool is_thread(struct audit_source *a, uint32_t pid, uint32_t child)
{
	char path[48];

	if (a->proc_fd < 0 || child == pid)
		return false;
	snprintf(path, sizeof(path), "%u/task/%u", pid, child);
	return faccessat(a->proc_fd, path, F_OK, 0) == 0;
}

/* The inode of @pid's pid namespace, 0 when unknown. */
static uint64_t pidns_of(struct audit_source *a, uint32_t pid)
{
	char path[48];
	struct stat st;

	snprintf(path, sizeof(path), "%u/ns/pid", pid);
	return fstatat(a->proc_fd, path, &st, 0) == 0 ? (uint64_t)st.st_ino : 0;
}

/* What the task at @dir under /proc is called in its own pid namespace
 * (the innermost of its NSpid ids). 0 when gone or unreadable. */
static uint32_t inner_pid(struct audit_source *a, const char *dir)
{
	int ids[VG_PIDNS_LEVELS];
	size_t n = vg_proc_read_nspid(a->proc_fd, dir, ids, VG_PIDNS_LEVELS);

	return n ? (uint32_t)ids[n - 1] : 0;
}

/* A clone's return value is the child's id in the caller's own pid
 * namespace, not the host's: find the host id among the caller's tasks
 * (a thread) and their children (a process). 0: the child is gone. */
static uint32_t resolve_child(struct audit_source *a, uint32_t pid,
			      uint32_t nschild, bool *ret_thread)
{
	char path[64], dir[320], buf[4096];
	int fd, n_tasks = 0;
	struct dirent *de;
	uint32_t found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%u/task", pid);
	fd = openat(a->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	/* a thread: one of the caller's tasks */
	while (!found && n_tasks < RESOLVE_TASKS_MAX && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n_tasks++;
		snprintf(dir, sizeof(dir), "%u/task/%s", pid, de->d_name);
		if (inner_pid(a, dir) == nschild) {
			found = (uint32_t)strtoul(de->d_name, NULL, 10);
			*ret_thread = true;
		}
	}
	/* a process: a child of one of them */
	rewinddir(d);
	n_tasks = 0;
	while (!found && n_tasks < RESOLVE_TASKS_MAX && (de = readdir(d))) {
		char *tok, *save = NULL;
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n_tasks++;
		snprintf(dir, sizeof(dir), "%u/task/%s/children", pid, de->d_name);
		n = vg_read_small_at(a->proc_fd, dir, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (tok = strtok_r(buf, " \n", &save); tok && !found;
		     tok = strtok_r(NULL, " \n", &save)) {
			snprintf(dir, sizeof(dir), "%s", tok);
			if (inner_pid(a, dir) == nschild) {
				found = (uint32_t)strtoul(tok, NULL, 10);
				*ret_thread = false;
			}
		}
	}
	closedir(d);
	return found;
}

/* The fork's child by its host id: the clone's return value is that
 * already for a caller in the host's pid namespace. */
static void fork_child(struct audit_source *a, struct vg_event *e, unsigned flags)
{
	uint64_t ns = a->proc_fd >= 0 ? pidns_of(a, e->t.pid) : 0;
	bool thread = e->fork.thread;
	uint32_t host;

	if (!ns || !a->host_pidns || ns == a->host_pidns) {
		if (flags & VG_AR_THREAD_UNKNOWN)
			e->fork.thread = is_thread(a, e->t.pid, e->fork.child_pid);
		return;
	}
	host = resolve_child(a, e->t.pid, e->fork.child_pid, &thread);
	if (!host) {
		/* gone already: which host process it was is not known */
		a->forks_unresolved++;
		e->fork.child_pid = e->fork.child_tid = 0;
		return;
	}
	e->fork.child_pid = e->fork.child_tid = host;
	e->fork.thread = thread;
}

static int release_exit(struct audit_source *a)
{
	struct held_exit *h = &a->held[a->held_head];
	struct vg_event *e = h->e;
	int r;

	a->held_head = (a->held_head + 1) % HELD_EXITS_MAX;
	a->n_held--;
	r = a->fn ? a->fn(a->fn_ctx, e) : 0;
	free(e);
	return r;
}

static int hold_exit(struct audit_source *a, const struct vg_event *e)
{
	struct vg_event *c;
	int r = 0;

	if (a->n_held == HELD_EXITS_MAX) {
		a->held_early++;
		r = release_exit(a);
	}
	c = vg_event_dup(e);
	if (!c)
		return a->fn(a->fn_ctx, (struct vg_event *)e);
	a->held[(a->held_head + a->n_held) % HELD_EXITS_MAX] =
		(struct held_exit){ .due_ns = now_mono() + a->exit_delay_ns, .e = c };
	a->n_held++;
	return r;
}

static int on_decoded(void *ctx, struct vg_event *e, unsigned flags)
{
	struct audit_source *a = ctx;

	e->t.no_cpu = true;
	if ((flags & VG_AR_INCOMPLETE) && e->type == VG_E_EXEC)
		e->exec.args_incomplete = true;
	if (e->type == VG_E_FORK)
		fork_child(a, e, flags);
	if (e->type == VG_E_EXIT)
		return hold_exit(a, e);
	return a->fn(a->fn_ctx, e);
}

static int on_record(void *ctx, int type, const char *text, size_t len)
{
	struct audit_source *a = ctx;

	return vg_audit_reasm_record(a->reasm, type, text, len, now_mono(),
				     on_decoded, a);
}

static int as_fd(struct vg_source *s)
{
	return of(s)->reader ? vg_audit_reader_fd(of(s)->reader) : -1;
}

static int as_pump(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct audit_source *a = of(s);
	int n, total = 0;

	a->fn = fn;
	a->fn_ctx = ctx;
	if (!a->reader)
		return 0; /* fed by vg_audit_source_feed() */
	do {
		n = vg_audit_reader_take(a->reader, on_record, a);
		if (n < 0)
			return n;
		total += n;
	} while (all && n > 0);
	return total;
}

static bool as_behind(struct vg_source *s)
{
	return of(s)->reader && vg_audit_reader_pending(of(s)->reader);
}

static int emit_lost(struct audit_source *a, uint64_t n, bool unknown,
		     const char *why)
{
	struct vg_event e = { .type = VG_E_LOST };

	e.t.ktime_ns = vg_clock_ns(CLOCK_BOOTTIME);
	e.lost.total = unknown ? 0 : n;
	e.lost.count_unknown = unknown;
	e.lost.reason = why;
	return a->fn(a->fn_ctx, &e);
}

/* The kernel's loss counter, and the socket's overruns, as lost events. */
static void check_loss(struct audit_source *a, uint64_t now)
{
	if (now - a->last_status_ns < 1000000000ull)
		return;
	a->last_status_ns = now;
	if (vg_audit_ctl_status(a->ctl, &a->st) == 0) {
		if (!a->have_lost_base) {
			a->lost_base = a->lost_last = a->st.lost;
			a->have_lost_base = true;
		} else if (a->st.lost != a->lost_last) {
			uint32_t d = a->st.lost - a->lost_last; /* wraps as the kernel's */

			a->lost_last = a->st.lost;
			emit_lost(a, d, false,
				  "audit: records the kernel dropped (backlog or rate "
				  "limit; its counter is shared by every audit reader)");
		}
	}
	if (a->reader)
		vg_audit_reader_stats(a->reader, &a->overruns, &a->reader_full);
	if (a->overruns != a->overruns_reported) {
		a->overruns_reported = a->overruns;
		emit_lost(a, 0, true, "audit: the netlink socket overran (ENOBUFS)");
	}
}

static void as_tick(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct audit_source *a = of(s);
	uint64_t now = now_mono();

	a->fn = fn;
	a->fn_ctx = ctx;
	if (vg_audit_reasm_tick(a->reasm, now, all, on_decoded, a))
		return;
	while (a->n_held && (all || a->held[a->held_head].due_ns <= now))
		if (release_exit(a))
			return;
	if (a->ctl)
		check_loss(a, now);
}

static int as_set_types(struct vg_source *s, uint64_t types, char *err,
			size_t errsz)
{
	uint64_t other = types & (VG_E_BIT(VG_E_KERNEL_TYPES) - 1) &
			 ~(AUDIT_TYPES | INTERNAL_TYPES);

	if (other) {
		for (uint32_t t = 0; t < VG_E_KERNEL_TYPES; t++)
			if (other & VG_E_BIT(t)) {
				vg_set_err(err, errsz, "the audit source has no %s "
					   "events (it has exec, fork, exit, open, "
					   "connect, accept, bind, listen and file)",
					   vg_event_type_name(t));
				break;
			}
		return -EOPNOTSUPP;
	}
	return of(s)->ctl ? vg_audit_ctl_set_types(of(s)->ctl, types, err, errsz) : 0;
}

static int as_lost(struct vg_source *s, uint64_t by_type[VG_E_KERNEL_TYPES],
		   uint64_t *unmatched)
{
	(void)s;
	/* audit's losses have no type: they go out as lost events with
	 * their reason (check_loss()) */
	memset(by_type, 0, VG_E_KERNEL_TYPES * sizeof(by_type[0]));
	*unmatched = 0;
	return 0;
}

static void as_fill(struct vg_source *s, uint64_t *waiting, uint64_t *size)
{
	*waiting = of(s)->st.backlog;
	*size = of(s)->st.backlog_limit;
}

static void as_free(struct vg_source *s)
{
	struct audit_source *a = of(s);

	/* the reader first (it reads the control's socket), then the
	 * rules: records stop coming */
	vg_audit_reader_stop(a->reader);
	vg_audit_ctl_close(a->ctl);
	vg_audit_reasm_free(a->reasm);
	while (a->n_held) {
		free(a->held[a->held_head].e);
		a->held_head = (a->held_head + 1) % HELD_EXITS_MAX;
		a->n_held--;
	}
	free(a->held);
	free(a);
}

static const struct vg_source_ops audit_ops = {
	.name = "audit",
	.fd = as_fd,
	.pump = as_pump,
	.behind = as_behind,
	.tick = as_tick,
	.set_types = as_set_types,
	.lost = as_lost,
	.fill = as_fill,
	.free = as_free,
};

static int source_new(const struct vg_audit_source_opts *o, bool live,
		      struct vg_source **ret, char *err, size_t errsz)
{
	struct audit_source *a = calloc(1, sizeof(*a));
	struct vg_audit_reasm_opts ro = {
		.eoe_timeout_ns = o->eoe_timeout_ns,
		.max_bytes = o->max_bytes,
		.boot_to_wall_ns = (int64_t)vg_clock_ns(CLOCK_REALTIME) -
				   (int64_t)vg_clock_ns(CLOCK_BOOTTIME),
	};
	struct vg_audit_ctl_opts co = { .state_dir = o->state_dir,
					.backlog_limit = o->backlog_limit };
	int r;

	if (!a || !(a->held = calloc(HELD_EXITS_MAX, sizeof(*a->held))) ||
	    vg_audit_reasm_new(&ro, &a->reasm) < 0) {
		if (a) {
			free(a->held);
			free(a);
		}
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	a->base.ops = &audit_ops;
	a->base.caps = VG_SRC_LIVE | VG_SRC_BY_PID;
	a->base.lacks = audit_lacks;
	/* no container lifecycle: it follows cgroups made and removed,
	 * which audit does not record */
	a->base.types = AUDIT_TYPES;
	a->proc_fd = o->proc_fd;
	/* vigil's own: the audit source runs in the host's pid namespace
	 * (its records' pids are the host's); pid 1 may refuse the look */
	a->host_pidns = a->proc_fd >= 0 ? pidns_of(a, (uint32_t)getpid()) : 0;
	a->exit_delay_ns = o->exit_delay_ns ? o->exit_delay_ns : 1000000000ull;
	if (!live) {
		*ret = &a->base;
		return 0;
	}
	r = vg_audit_ctl_open(&co, &a->ctl, err, errsz);
	if (r == 0 && (r = vg_audit_reader_start(a->ctl, 0, &a->reader)) < 0)
		vg_set_err(err, errsz, "cannot start the audit reading thread: %s",
			   strerror(-r));
	if (r < 0) {
		vg_audit_ctl_close(a->ctl);
		vg_audit_reasm_free(a->reasm);
		free(a->held);
		free(a);
		return r;
	}
	if (vg_audit_ctl_status(a->ctl, &a->st) == 0) {
		a->lost_base = a->lost_last = a->st.lost;
		a->have_lost_base = true;
	}
	a->last_status_ns = now_mono();
	*ret = &a->base;
	return 0;
}

int vg_audit_source_new(const struct vg_audit_source_opts *o,
			struct vg_source **ret, char *err, size_t errsz)
{
	return source_new(o, true, ret, err, errsz);
}

int vg_audit_source_new_fed(const struct vg_audit_source_opts *o,
			    struct vg_source **ret)
{
	return source_new(o, false, ret, NULL, 0);
}

int vg_audit_source_feed(struct vg_source *s, int type, const char *text,
			 size_t len)
{
	struct audit_source *a = of(s);

	if (!a->fn)
		return -EINVAL; /* pumped once first: the engine's callback */
	return on_record(a, type, text, len);
}

void vg_audit_source_stats(struct vg_source *s, struct vg_audit_source_stats *ret)
{
	struct audit_source *a = of(s);
	struct vg_audit_reasm_stats rs;

	vg_audit_reasm_stats(a->reasm, &rs);
	memset(ret, 0, sizeof(*ret));
	ret->mode = a->ctl ? vg_audit_ctl_mode(a->ctl) : "fed";
	ret->records = rs.records;
	ret->garbage = rs.garbage;
	ret->events = rs.events;
	ret->incomplete = rs.incomplete;
	ret->evicted = rs.evicted;
	ret->parse_errors = rs.parse_errors;
	ret->overruns = a->overruns;
	ret->reader_full = a->reader_full;
	ret->kernel_lost = (uint32_t)(a->lost_last - a->lost_base);
	ret->backlog = a->st.backlog;
	ret->backlog_limit = a->st.backlog_limit;
	ret->open_events = rs.open_groups;
	ret->open_bytes = rs.open_bytes;
	ret->held_exits = a->n_held;
	ret->exits_early = a->held_early;
	ret->forks_unresolved = a->forks_unresolved;
}
