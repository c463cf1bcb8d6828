/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sensor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sensor.skel.h"
#include "base/util.h"

/* The layouts the kernel side writes (source/bpf/events.h). */
_Static_assert(sizeof(struct vg_ev_hdr) == 80, "vg_ev_hdr");
_Static_assert(offsetof(struct vg_ev_hdr, cgroup_id) == 24, "cgroup_id");
_Static_assert(offsetof(struct vg_ev_hdr, comm) == 64, "comm");
_Static_assert(sizeof(struct vg_ev_fork) == 104, "vg_ev_fork");
_Static_assert(sizeof(struct vg_ev_exec) == 120, "vg_ev_exec");
_Static_assert(sizeof(struct vg_ev_exec_args) == 96, "vg_ev_exec_args");
_Static_assert(sizeof(struct vg_ev_exit) == 88, "vg_ev_exit");
_Static_assert(sizeof(struct vg_ev_open) == 120, "vg_ev_open");
_Static_assert(sizeof(struct vg_ev_net) == 344, "vg_ev_net");
_Static_assert(sizeof(struct vg_ev_syscall) == 152, "vg_ev_syscall");
_Static_assert(sizeof(struct vg_ev_tracepoint) == 88, "vg_ev_tracepoint");
_Static_assert(sizeof(struct vg_ev_cgroup) == 96, "vg_ev_cgroup");
_Static_assert(sizeof(struct vg_ev_ptrace) == 112, "vg_ev_ptrace");
_Static_assert(sizeof(struct vg_ev_sock) == 360, "vg_ev_sock");
_Static_assert(offsetof(struct vg_ev_sock, addr) == 136, "vg_ev_sock.addr");

#define MAX_LINKS 64
#define PROGS_MAX 64 /* entries of prog_uses[] */
/* always traced: containers come and go */
#define VG_CGROUP_EVENTS (VG_EV_BIT(VG_EV_CGROUP_MKDIR) | VG_EV_BIT(VG_EV_CGROUP_RMDIR))

/*
 * The ring buffer, read in batches. libbpf's reader (1.1) chases the
 * producer record by record and publishes its position after each one;
 * under a storm that keeps the consumer a few records behind the
 * producing CPU, and the cache lines they share cost each traced open
 * about 75 ns more here (an open storm at 800 ns per open with the reader
 * running, 725 with it stopped). This one consumes what was there when it
 * looked, publishes its position every eighth of the ring, and goes back
 * to sleep while less than a wakeup's worth is waiting: the kernel side
 * wakes it when the waiting data crosses that mark, and the caller's timer
 * bounds the latency. (Each publication can make the mark be crossed
 * again, and a wakeup is an interrupt on the producing CPU, a VM exit in
 * a guest: publishing every 64 KiB put 1% of an open storm's time into
 * the APIC writes of wakeups.)
 */
struct ring {
	int epfd;
	size_t size; /* data bytes, a power of two */
	size_t mmap_data;
	uint64_t *consumer_pos;  /* the consumer page, ours */
	const uint64_t *producer_pos; /* the producer page, then the data twice */
	const uint8_t *data;
	uint64_t wake_bytes;
	uint64_t release_bytes; /* publish the position at least this often */
};

struct vg_sensor {
	struct sensor_bpf *skel;
	struct ring rb;
	struct bpf_link *links[MAX_LINKS]; /* tracepoints by name */
	size_t n_links;
	struct bpf_link *plinks[PROGS_MAX]; /* by prog_uses[] index */
	/* tracepoint programs: their tracepoint's id, read from tracefs at
	 * load (0: not a tracepoint program, or none on this kernel), so
	 * that attaching later needs no tracefs */
	uint32_t tp_ids[PROGS_MAX];
	uint64_t loaded, attached;   /* type masks */
	/* a program no one wants stays attached, gated by the type mask,
	 * for VG_SENSOR_DETACH_HOLD_NS: churn costs no teardown */
	uint64_t idle_since[PROGS_MAX];
	int ncpus;
	uint64_t mask; /* for vg_sensor_start() */
	struct reaper *reaper;
	bool inflight[PROGS_MAX];  /* an attach of it is queued to the reaper */
	/* the programs are verified in two objects at once, which share
	 * skel's maps: each program's object (skel, without the split) */
	struct sensor_bpf *half[2];
	struct sensor_bpf *ps[PROGS_MAX];
	uint64_t gen;       /* of the last vg_sensor_attach_async() */
};

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* The programs each event type needs. */
struct prog_use {
	uint64_t types; /* VG_EV_BIT()s: any of them needs it */
	size_t off; /* of the struct bpf_program * in skel->progs */
	bool optional; /* a syscall this architecture may lack */
};

#define P(t, name, opt)                                                        \
	{ VG_EV_BIT(t), offsetof(struct sensor_bpf, progs.name), opt }
/* the open programs make file events too */
#define PO(name, opt)                                                          \
	{ VG_EV_BIT(VG_EV_OPEN) | VG_EV_BIT(VG_EV_FILE),                       \
	  offsetof(struct sensor_bpf, progs.name), opt }
#define PF(name) P(VG_EV_FILE, handle_exit_##name, true)
static const struct prog_use prog_uses[] = {
	P(VG_EV_FORK, handle_fork, false),
	P(VG_EV_EXEC, handle_exec, false),
	P(VG_EV_EXIT, handle_exit, false),
	P(VG_EV_CGROUP_MKDIR, handle_cgroup_mkdir, false),
	P(VG_EV_CGROUP_RMDIR, handle_cgroup_rmdir, false),
	PO(handle_exit_openat, false),
	PO(handle_exit_open, true),
	PO(handle_exit_creat, true),
	PO(handle_exit_openat2, true),
	P(VG_EV_CONNECT, handle_exit_connect, false),
	P(VG_EV_ACCEPT, handle_exit_accept, true),
	P(VG_EV_ACCEPT, handle_exit_accept4, false),
	P(VG_EV_BIND, handle_exit_bind, false),
	P(VG_EV_LISTEN, handle_exit_listen, false),
	P(VG_EV_SYSCALL, handle_raw_enter, false),
	P(VG_EV_SYSCALL, handle_raw_exit, false),
	P(VG_EV_TRACEPOINT, handle_tracepoint, false),
	P(VG_EV_PTRACE, handle_exit_ptrace, false),
	P(VG_EV_SOCKET, handle_exit_socket, false),
	P(VG_EV_DUP, handle_exit_dup, false),
	P(VG_EV_DUP, handle_exit_dup2, true),
	P(VG_EV_DUP, handle_exit_dup3, false),
	P(VG_EV_SEND, handle_exit_sendto, false),
	P(VG_EV_SEND, handle_exit_sendmsg, false),
	PF(unlink), PF(unlinkat), PF(rmdir), PF(mkdir), PF(mkdirat),
	PF(mknod), PF(mknodat), PF(chmod), PF(fchmodat), PF(fchmodat2),
	PF(fchmod), PF(chown), PF(lchown), PF(fchownat), PF(fchown),
	PF(truncate), PF(ftruncate), PF(rename), PF(renameat), PF(renameat2),
	PF(link), PF(linkat), PF(symlink), PF(symlinkat),
};
#undef PF
#undef PO
#undef P

static struct bpf_program *prog_of(struct sensor_bpf *skel,
				   const struct prog_use *u)
{
	return *(struct bpf_program **)((char *)skel + u->off);
}

_Static_assert(VG_ARRAY_SIZE(prog_uses) <= PROGS_MAX, "plinks");

/* "tracepoint/GROUP/NAME" (or "tp/..."): true, with the group and name
 * when @group is not NULL. */
static bool tp_section(const char *sec, char *group, size_t gsz, char *name,
		       size_t nsz)
{
	const char *rest, *slash;

	if (vg_startswith(sec, "tracepoint/"))
		rest = sec + strlen("tracepoint/");
	else if (vg_startswith(sec, "tp/"))
		rest = sec + strlen("tp/");
	else
		return false;
	slash = strchr(rest, '/');
	if (!slash)
		return false;
	if (!group)
		return true;
	if ((size_t)(slash - rest) >= gsz || strlen(slash + 1) >= nsz)
		return false;
	memcpy(group, rest, (size_t)(slash - rest));
	group[slash - rest] = '\0';
	snprintf(name, nsz, "%s", slash + 1);
	return true;
}

/* The ids of the loaded tracepoint programs' tracepoints. */
static int resolve_tp_ids(struct vg_sensor *s, struct vg_tracefs *tfs,
			  char *err, size_t errsz)
{
	struct vg_tracefs own;
	int r = 0;

	vg_tracefs_init(&own);
	if (!tfs)
		tfs = &own;
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++) {
		const struct prog_use *u = &prog_uses[i];
		struct bpf_program *p = prog_of(s->ps[i], u);
		char group[64], name[128];

		if (!bpf_program__autoload(p) ||
		    !tp_section(bpf_program__section_name(p), group,
				sizeof(group), name, sizeof(name)))
			continue;
		r = vg_tracefs_ensure(tfs, err, errsz);
		if (r < 0)
			break;
		r = vg_tracefs_event_id(tfs->fd, group, name, &s->tp_ids[i]);
		if (r == -ENOENT && u->optional) {
			r = 0; /* a syscall this kernel lacks */
			continue;
		}
		if (r < 0) {
			set_err(err, errsz, "tracepoint %s:%s: %s%s", group, name,
				strerror(-r),
				r == -ENOENT ? " (the kernel lacks it: "
					       "CONFIG_FTRACE_SYSCALLS is needed)" : "");
			break;
		}
	}
	vg_tracefs_release(&own);
	return r;
}

/*
 * Detaching a tracepoint program takes the kernel tens of milliseconds
 * (it waits for an RCU grace period), one link at a time, and attaching
 * every program takes it most of a second. The reaper is a thread that
 * does both off the caller's loop, in order: a link it has not started
 * to destroy can be taken back when its program is wanted again, and an
 * attach queued after a detach of the same program runs after it, so a
 * program is never attached twice (each event would be sent twice).
 */
struct job {
	enum { JOB_DETACH, JOB_ATTACH, JOB_MARK } kind;
	int idx;            /* prog_uses[] index; -1: a tracepoint by name */
	struct bpf_link *l; /* JOB_DETACH */
	uint64_t gen;       /* JOB_ATTACH, JOB_MARK */
};

struct reaper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct vg_sensor *s; /* its programs: fixed once loaded */
	struct job queue[2 * PROGS_MAX + MAX_LINKS + 8];
	size_t n;
	bool stop;
	int efd; /* readable: attaches done, for vg_sensor_attach_poll() */
	/* done, for the caller to collect */
	struct { int idx; struct bpf_link *l; } done[PROGS_MAX];
	size_t n_done;
	uint64_t done_gen, fail_gen, fail_lo, fail_hi;
	char fail_err[256];
};

static struct bpf_link *attach_one(const struct vg_sensor *s, size_t i);

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;

	prctl(PR_SET_NAME, "vigil-links");
	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct job q;
		struct bpf_link *l;
		uint64_t one = 1;
		int e;

		while (!r->n && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		q = r->queue[0];
		memmove(r->queue, r->queue + 1, --r->n * sizeof(*r->queue));
		pthread_mutex_unlock(&r->lock);
		l = NULL;
		e = 0;
		if (q.kind == JOB_DETACH) {
			bpf_link__destroy(q.l);
		} else if (q.kind == JOB_ATTACH) {
			l = attach_one(r->s, (size_t)q.idx);
			e = l ? 0 : errno;
		}
		pthread_mutex_lock(&r->lock);
		if (q.kind == JOB_ATTACH) {
			r->done[r->n_done].idx = q.idx;
			r->done[r->n_done++].l = l;
			if (!l && !prog_uses[q.idx].optional && !r->fail_gen) {
				r->fail_gen = q.gen;
				snprintf(r->fail_err, sizeof(r->fail_err), "attaching %s: %s",
					 bpf_program__name(prog_of(r->s->ps[q.idx],
								   &prog_uses[q.idx])),
					 strerror(e));
			}
		} else if (q.kind == JOB_MARK) {
			r->done_gen = q.gen;
			if (r->fail_gen) {
				r->fail_lo = r->fail_gen;
				r->fail_hi = q.gen;
				r->fail_gen = 0;
			}
			if (write(r->efd, &one, sizeof(one)) < 0) {
				/* the counter is full: it is readable anyway */
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* The reaper, started on first use; NULL when it cannot be. */
static struct reaper *reaper_of(struct vg_sensor *s)
{
	struct reaper *r = s->reaper;
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t all, old;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->s = s;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	/* the caller's poll wakes when attaches are done */
	if (r->efd >= 0 && s->rb.epfd >= 0)
		epoll_ctl(s->rb.epfd, EPOLL_CTL_ADD, r->efd, &ev);
	/* signals are the caller's threads' to take */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (r->efd < 0 || pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
		if (r->efd >= 0)
			close(r->efd);
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
		r = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	s->reaper = r;
	return r;
}

/* Queue @j; false when there is no reaper or no room. A mark after a
 * mark is one mark, of the later generation. */
static bool enqueue(struct vg_sensor *s, struct job j)
{
	struct reaper *r = reaper_of(s);
	bool ok = false;

	if (!r)
		return false;
	pthread_mutex_lock(&r->lock);
	if (j.kind == JOB_MARK && r->n && r->queue[r->n - 1].kind == JOB_MARK) {
		r->queue[r->n - 1].gen = j.gen;
		ok = true;
	} else if (r->n < VG_ARRAY_SIZE(r->queue)) {
		r->queue[r->n++] = j;
		ok = true;
	}
	if (ok)
		pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* Hand @l (of prog_uses[@idx], or -1) to the reaper; destroyed here
 * when there is none. */
static void reap(struct vg_sensor *s, struct bpf_link *l, int idx)
{
	if (!enqueue(s, (struct job){ .kind = JOB_DETACH, .idx = idx, .l = l }))
		bpf_link__destroy(l);
}

/* prog_uses[@idx]'s link, if the reaper has not started to destroy it:
 * back to the caller. */
static struct bpf_link *unreap(struct vg_sensor *s, int idx)
{
	struct reaper *r = s->reaper;
	struct bpf_link *got = NULL;

	if (!r)
		return NULL;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n && !got; i++)
		if (r->queue[i].kind == JOB_DETACH && r->queue[i].idx == idx) {
			got = r->queue[i].l;
			memmove(r->queue + i, r->queue + i + 1,
				(--r->n - i) * sizeof(*r->queue));
		}
	pthread_mutex_unlock(&r->lock);
	return got;
}

/* Wait until the reaper has done everything queued so far (the sync
 * path's attach must not race a detach of the same program). */
static void reaper_drain(struct vg_sensor *s)
{
	struct reaper *r = s->reaper;
	uint64_t gen = ++s->gen;

	if (!r || !enqueue(s, (struct job){ .kind = JOB_MARK, .gen = gen }))
		return;
	pthread_mutex_lock(&r->lock);
	while (r->done_gen < gen && !r->stop) {
		pthread_mutex_unlock(&r->lock);
		usleep(1000);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Every link the reaper holds, out of it, and the reaper stopped (for
 * the teardown). */
static size_t reaper_take_all(struct vg_sensor *s, struct bpf_link **out,
			      size_t max)
{
	struct reaper *r = s->reaper;
	size_t n = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	for (size_t i = 0; i < r->n && n < max; i++)
		if (r->queue[i].kind == JOB_DETACH)
			out[n++] = r->queue[i].l;
	for (size_t i = 0; i < r->n_done && n < max; i++)
		if (r->done[i].l)
			out[n++] = r->done[i].l;
	close(r->efd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	s->reaper = NULL;
	return n;
}

/* prog_uses[@i] attached; NULL with errno. */
static struct bpf_link *attach_one(const struct vg_sensor *s, size_t i)
{
	struct bpf_program *p = prog_of(s->ps[i], &prog_uses[i]);

	if (s->tp_ids[i])
		return vg_tracefs_attach(p, s->tp_ids[i], 0);
	return bpf_program__attach(p);
}

/* Whether prog_uses[@i] can be attached on this kernel at all. */
static bool attachable(const struct vg_sensor *s, size_t i)
{
	struct bpf_program *p = prog_of(s->ps[i], &prog_uses[i]);

	/* a tracepoint this kernel lacks: optional, and skipped */
	return s->tp_ids[i] ||
	       !tp_section(bpf_program__section_name(p), NULL, 0, NULL, 0);
}

int vg_sensor_attach_poll(struct vg_sensor *s, uint64_t *ret_done,
			  uint64_t *ret_fail_lo, uint64_t *ret_fail_hi,
			  char *err, size_t errsz)
{
	struct reaper *r = s->reaper;
	uint64_t v, now = vg_clock_ns(CLOCK_MONOTONIC);

	if (!r) {
		*ret_done = s->gen;
		*ret_fail_lo = *ret_fail_hi = 0;
		return 0;
	}
	if (read(r->efd, &v, sizeof(v)) < 0) {
		/* nothing new, or it was read before */
	}
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_done; i++) {
		int idx = r->done[i].idx;

		s->inflight[idx] = false;
		if (!r->done[i].l)
			continue;
		s->plinks[idx] = r->done[i].l;
		/* no longer wanted by the time it came: gated, and held */
		if (!(s->attached & prog_uses[idx].types) && !s->idle_since[idx])
			s->idle_since[idx] = now;
	}
	r->n_done = 0;
	*ret_done = r->done_gen;
	*ret_fail_lo = r->fail_lo;
	*ret_fail_hi = r->fail_hi;
	if (r->fail_lo)
		set_err(err, errsz, "%s", r->fail_err);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/*
 * The programs of @mask attached, the others left attached but gated
 * (detached by vg_sensor_reap_idle() after the hold). @async: what must
 * be attached is queued to the reaper (1 and *@ret_gen), else attached
 * here. Returns 0, 1, or -errno with @err.
 */
static int attach_mask(struct vg_sensor *s, uint64_t mask, bool async,
		       uint64_t *ret_gen, char *err, size_t errsz)
{
	uint64_t now = vg_clock_ns(CLOCK_MONOTONIC), done, lo, hi;
	bool waiting = false;

	mask |= VG_CGROUP_EVENTS;
	if (mask & ~s->loaded & ~VG_EV_BIT(VG_EV_EXEC_ARGS)) {
		set_err(err, errsz, "event types not loaded at start");
		return -EINVAL;
	}
	/* in line: what the reaper has under way, done first */
	if (!async)
		reaper_drain(s);
	vg_sensor_attach_poll(s, &done, &lo, &hi, NULL, 0);
	s->gen++;
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++) {
		const struct prog_use *u = &prog_uses[i];
		bool want = (mask & u->types) &&
			    u->types != VG_EV_BIT(VG_EV_TRACEPOINT);
		struct bpf_link *l;

		if (!want) {
			if (s->plinks[i] && !s->idle_since[i])
				s->idle_since[i] = now;
			continue;
		}
		s->idle_since[i] = 0;
		if (s->plinks[i] || !attachable(s, i))
			continue;
		if (s->inflight[i]) {
			waiting = true;
			continue;
		}
		l = unreap(s, (int)i);
		if (l) {
			s->plinks[i] = l;
			continue;
		}
		if (async && enqueue(s, (struct job){ .kind = JOB_ATTACH, .idx = (int)i,
						      .gen = s->gen })) {
			s->inflight[i] = true;
			waiting = true;
			continue;
		}
		l = attach_one(s, i);
		if (!l) {
			int r = -errno;

			if (u->optional)
				continue;
			set_err(err, errsz, "attaching %s: %s",
				bpf_program__name(prog_of(s->ps[i], u)), strerror(errno));
			return r;
		}
		s->plinks[i] = l;
	}
	s->attached = mask;
	if (!waiting)
		return 0;
	if (!enqueue(s, (struct job){ .kind = JOB_MARK, .gen = s->gen })) {
		set_err(err, errsz, "attaching: the queue is full");
		return -EAGAIN;
	}
	*ret_gen = s->gen;
	return 1;
}

int vg_sensor_attach_async(struct vg_sensor *s, uint64_t mask, uint64_t *ret_gen,
			   char *err, size_t errsz)
{
	return attach_mask(s, mask, true, ret_gen, err, errsz);
}

int vg_sensor_attach(struct vg_sensor *s, uint64_t mask, char *err,
		     size_t errsz)
{
	uint64_t gen;
	int r = attach_mask(s, mask, false, &gen, err, errsz);

	return r < 0 ? r : 0;
}

size_t vg_sensor_reap_idle(struct vg_sensor *s, uint64_t now, uint64_t hold_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++) {
		if (!s->plinks[i] || !s->idle_since[i] ||
		    now - s->idle_since[i] < hold_ns)
			continue;
		reap(s, s->plinks[i], (int)i);
		s->plinks[i] = NULL;
		s->idle_since[i] = 0;
		n++;
	}
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Every link detached, without making the caller wait for the kernel:
 * the programs are gated first (type mask 0), then a detached grandchild
 * holds the links' fds and closes them one at a time while the caller's
 * own copies are closed at once (the kernel detaches a program when its
 * last reference goes). Without fork(), here, one by one.
 */
static void teardown(struct vg_sensor *s)
{
	struct bpf_link *all[VG_ARRAY_SIZE(s->plinks) + MAX_LINKS + 48 + MAX_LINKS];
	int fds[VG_ARRAY_SIZE(all) + 1], gate[2] = { -1, -1 };
	size_t n = 0, nf = 0;
	pid_t pid;

	for (size_t i = 0; i < VG_ARRAY_SIZE(s->plinks); i++)
		if (s->plinks[i])
			all[n++] = s->plinks[i];
	for (size_t i = 0; i < s->n_links; i++)
		all[n++] = s->links[i];
	n += reaper_take_all(s, all + n, VG_ARRAY_SIZE(all) - n);
	if (!n)
		return;
	if (s->skel && s->skel->bss)
		s->skel->bss->vg_type_mask = 0;
	for (size_t i = 0; i < n; i++)
		if (bpf_link__fd(all[i]) >= 0)
			fds[nf++] = bpf_link__fd(all[i]);
	/* the grandchild closes its copies only once ours are closed: the
	 * last close of a link is the one that waits for the kernel */
	if (nf && pipe2(gate, O_CLOEXEC) == 0)
		fds[nf++] = gate[0];
	qsort(fds, nf, sizeof(*fds), cmp_int);
	pid = gate[0] >= 0 ? fork() : -1;
	if (pid == 0) {
		/* only what the links need: no terminal, no pipe held open */
		unsigned lo = 0;
		char c;

		if (fork() != 0)
			_exit(0);
		setsid();
		prctl(PR_SET_NAME, "vigil-detach");
		for (size_t i = 0; i < nf; i++) {
			if ((unsigned)fds[i] > lo)
				close_range(lo, (unsigned)fds[i] - 1, 0);
			lo = (unsigned)fds[i] + 1;
		}
		close_range(lo, ~0u, 0);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		for (size_t i = 0; i < nf; i++)
			close(fds[i]);
		_exit(0);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	for (size_t i = 0; i < n; i++)
		bpf_link__destroy(all[i]);
	if (gate[0] >= 0) {
		close(gate[0]);
		close(gate[1]);
	}
	memset(s->plinks, 0, sizeof(s->plinks));
	s->n_links = 0;
}

static void ring_close(struct ring *r)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (r->consumer_pos)
		munmap(r->consumer_pos, (size_t)pg);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->mmap_data);
	if (r->epfd >= 0)
		close(r->epfd);
	r->consumer_pos = NULL;
	r->producer_pos = NULL;
	r->epfd = -1;
}

static int ring_open(struct ring *r, int map_fd, size_t size, uint64_t wake_bytes)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	void *p;

	r->size = size;
	r->wake_bytes = wake_bytes;
	r->release_bytes = size / 8;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return -errno;
	/* edge-triggered: ready on the kernel side's wakeups, not while
	 * the records below the wakeup mark wait */
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto fail;
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->consumer_pos = p;
	/* the data is mapped twice in a row: a record that wraps reads on */
	r->mmap_data = (size_t)pg + 2 * size;
	p = mmap(NULL, r->mmap_data, PROT_READ, MAP_SHARED, map_fd, pg);
	if (p == MAP_FAILED)
		goto fail;
	r->producer_pos = p;
	r->data = (const uint8_t *)p + pg;
	return 0;
fail:;
	int e = -errno;

	ring_close(r);
	return e;
}

/*
 * Consume the records committed when it looked, in turns, until less
 * than a wakeup's worth waits (@all: until nothing does, or a record
 * being written is next). Either way it stops after an eighth of the
 * ring (@all: at what had been produced when it was called), so that a
 * producer faster than the reader cannot keep the caller from its other
 * work: signals, clients, timers. Returns the number given to @cb, or its
 * negative answer.
 */
static int ring_consume(struct ring *r, bool all, vg_sensor_cb cb, void *ctx)
{
	uint64_t cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
	uint64_t released = cons;
	uint64_t limit = all ? __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE)
			     : cons + r->release_bytes;
	int n = 0, cr = 0;

	for (;;) {
		uint64_t prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		bool busy = false;

		if (prod > limit)
			prod = limit;
		if (cons >= prod)
			break;
		while (cons < prod) {
			const uint32_t *hdr = (const uint32_t *)(r->data + (cons & (r->size - 1)));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint32_t body = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT |
							  BPF_RINGBUF_DISCARD_BIT);

			if (len & BPF_RINGBUF_BUSY_BIT) {
				busy = true;
				break;
			}
			cons += (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				cr = cb(ctx, hdr + 2, body);
				if (cr < 0)
					break;
				n++;
			}
			if (cons - released >= r->release_bytes) {
				__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
				released = cons;
			}
		}
		if (cons != released) {
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			released = cons;
		}
		if (cr < 0)
			return cr;
		if (busy)
			break; /* committed soon; read at the next turn */
		if (!all && __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) - cons <
				    r->wake_bytes)
			break;
	}
	return n;
}

/* libbpf's own messages: kept, the last warning goes into our error;
 * printed only with VIGIL_BPF_DEBUG set. */
static char libbpf_last[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	static bool debug = false, checked = false;

	if (!fmt)
		return 0;
	if (!checked) {
		debug = getenv("VIGIL_BPF_DEBUG") != NULL;
		checked = true;
	}
	if (debug) {
		va_list ap2;

		va_copy(ap2, ap);
		vfprintf(stderr, fmt, ap2);
		va_end(ap2);
	}
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
		libbpf_last[strcspn(libbpf_last, "\n")] = '\0';
	}
	return 0;
}

static bool is_pow2(size_t v)
{
	return v && !(v & (v - 1));
}

/* handle_tracepoint, in the object that loaded it. */
static struct bpf_program *tp_prog(const struct vg_sensor *s)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++)
		if (prog_uses[i].types == VG_EV_BIT(VG_EV_TRACEPOINT))
			return prog_of(s->ps[i], &prog_uses[i]);
	return s->skel->progs.handle_tracepoint;
}

static void *load_half(void *arg)
{
	struct sensor_bpf *skel = arg;

	return (void *)(intptr_t)sensor_bpf__load(skel);
}

/* Another open of the object, sharing @s->skel's maps, loading none of
 * its programs yet. NULL with errno. */
static struct sensor_bpf *open_half(struct vg_sensor *s, uint32_t ring)
{
	struct sensor_bpf *h = sensor_bpf__open();
	struct bpf_map *m;

	if (!h)
		return NULL;
	bpf_map__set_max_entries(h->maps.rb, ring);
	bpf_object__for_each_map(m, h->obj) {
		struct bpf_map *own = bpf_object__find_map_by_name(s->skel->obj,
								   bpf_map__name(m));
		int r = own ? bpf_map__reuse_fd(m, bpf_map__fd(own)) : -ENOENT;

		if (r < 0) {
			sensor_bpf__destroy(h);
			errno = -r;
			return NULL;
		}
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++)
		bpf_program__set_autoload(prog_of(h, &prog_uses[i]), false);
	return h;
}

/*
 * The programs of @mask loaded. The kernel verifies a program in the
 * loading thread, one after the other, and that is most of a start-up:
 * s->skel creates the maps, and two more opens of the object share them
 * and load half the programs each (by instructions), in two threads.
 * Where that cannot be, s->skel loads them all. Returns 0 or -errno.
 */
static int load_programs(struct vg_sensor *s, uint64_t mask, uint32_t ring)
{
	size_t order[VG_ARRAY_SIZE(prog_uses)], n = 0, weight[2] = { 0, 0 };
	pthread_t t;
	void *tr = NULL;
	int r;

	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++) {
		s->ps[i] = s->skel;
		if (mask & prog_uses[i].types)
			order[n++] = i;
	}
	/* a few programs: not worth two more opens of the object */
	if (n < 8)
		return sensor_bpf__load(s->skel);
	/* the maps alone, first */
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++)
		bpf_program__set_autoload(prog_of(s->skel, &prog_uses[i]), false);
	r = sensor_bpf__load(s->skel);
	if (r < 0)
		return r;
	for (int k = 0; k < 2; k++)
		if (!(s->half[k] = open_half(s, ring)))
			return -errno;
	/* the largest first, each to the lighter half */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (bpf_program__insn_cnt(prog_of(s->skel, &prog_uses[order[b]])) >
			    bpf_program__insn_cnt(prog_of(s->skel, &prog_uses[order[a]]))) {
				size_t x = order[a];

				order[a] = order[b];
				order[b] = x;
			}
	for (size_t a = 0; a < n; a++) {
		size_t i = order[a];
		int k = weight[0] <= weight[1] ? 0 : 1;

		s->ps[i] = s->half[k];
		bpf_program__set_autoload(prog_of(s->half[k], &prog_uses[i]), true);
		weight[k] += bpf_program__insn_cnt(prog_of(s->skel, &prog_uses[i]));
	}
	if (pthread_create(&t, NULL, load_half, s->half[1]) != 0)
		return -EAGAIN;
	r = sensor_bpf__load(s->half[0]);
	pthread_join(t, &tr);
	if (r < 0)
		return r;
	return (int)(intptr_t)tr;
}

int vg_sensor_new(const struct vg_sensor_opts *o, struct vg_sensor **ret,
		  char *err, size_t errsz)
{
	struct vg_sensor *s;
	size_t ring = o->ring_bytes ? o->ring_bytes : 8u << 20;
	uint64_t mask = o->type_mask | VG_CGROUP_EVENTS;
	int r;

	if (!is_pow2(ring) || ring < 4096 || ring > (1u << 30)) {
		set_err(err, errsz, "the ring buffer size must be a power of two "
				    "between 4 KiB and 1 GiB");
		return -EINVAL;
	}
	libbpf_set_print(libbpf_print);
	libbpf_last[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rb.epfd = -1;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		free(s);
		set_err(err, errsz, "cannot count the CPUs");
		return -EIO;
	}
	s->skel = sensor_bpf__open();
	if (!s->skel) {
		r = -errno;
		set_err(err, errsz, "opening the eBPF object: %s", strerror(errno));
		goto fail;
	}
	bpf_map__set_max_entries(s->skel->maps.rb, (uint32_t)ring);
	for (size_t i = 0; i < VG_ARRAY_SIZE(prog_uses); i++) {
		struct bpf_program *p = prog_of(s->skel, &prog_uses[i]);

		bpf_program__set_autoload(p, !!(mask & prog_uses[i].types));
	}
	s->mask = mask;
	/* paused until vg_sensor_start(), but for cgroup creations */
	s->skel->bss->vg_type_mask = mask & VG_CGROUP_EVENTS;
	s->skel->bss->vg_self_tgid = (uint32_t)getpid();
	s->skel->bss->vg_wakeup_bytes =
		o->wakeup_bytes ? o->wakeup_bytes : 256u << 10;
	if (s->skel->bss->vg_wakeup_bytes > ring / 4)
		s->skel->bss->vg_wakeup_bytes = ring / 4;

	r = load_programs(s, mask, (uint32_t)ring);
	if (r < 0) {
		set_err(err, errsz,
			"loading the eBPF programs: %s (root, or CAP_BPF and "
			"CAP_PERFMON, and a kernel with BTF are needed)%s%s",
			strerror(-r), libbpf_last[0] ? "; libbpf: " : "",
			libbpf_last);
		goto fail;
	}
	for (size_t i = 0; i < o->n_syscalls; i++) {
		uint8_t one = 1;

		bpf_map__update_elem(s->skel->maps.syscall_nrs, &o->syscalls[i],
				     sizeof(uint32_t), &one, 1, BPF_ANY);
	}
	for (size_t i = 0; i < o->n_tps; i++) {
		bpf_map__update_elem(s->skel->maps.tp_sizes, &o->tps[i].id,
				     sizeof(uint32_t), &o->tps[i].record_size,
				     sizeof(uint32_t), BPF_ANY);
	}

	r = resolve_tp_ids(s, o->tracefs, err, errsz);
	if (r < 0)
		goto fail;
	s->loaded = mask;
	r = vg_sensor_attach(s, mask & ~o->defer_mask, err, errsz);
	if (r < 0)
		goto fail;
	for (size_t i = 0; (mask & VG_EV_BIT(VG_EV_TRACEPOINT)) && i < o->n_tps; i++) {
		struct bpf_link *l;

		if (s->n_links >= MAX_LINKS) {
			r = -E2BIG;
			set_err(err, errsz, "too many tracepoints");
			goto fail;
		}
		/* the cookie tells the one program which tracepoint fired */
		l = vg_tracefs_attach(tp_prog(s), o->tps[i].id,
				 o->tps[i].id);
		if (!l) {
			r = -errno;
			set_err(err, errsz, "attaching tracepoint %s:%s: %s",
				o->tps[i].group, o->tps[i].name, strerror(errno));
			goto fail;
		}
		s->links[s->n_links++] = l;
	}

	r = ring_open(&s->rb, bpf_map__fd(s->skel->maps.rb), ring,
		      s->skel->bss->vg_wakeup_bytes);
	if (r < 0) {
		set_err(err, errsz, "opening the ring buffer: %s", strerror(-r));
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	vg_sensor_free(s);
	return r < 0 ? r : -EIO;
}

void vg_sensor_free(struct vg_sensor *s)
{
	if (!s)
		return;
	teardown(s);
	ring_close(&s->rb);
	sensor_bpf__destroy(s->half[0]);
	sensor_bpf__destroy(s->half[1]);
	sensor_bpf__destroy(s->skel);
	free(s);
}

int vg_sensor_fd(const struct vg_sensor *s)
{
	return s->rb.epfd;
}

static int sensor_read(struct vg_sensor *s, int timeout_ms, vg_sensor_cb cb,
		       void *ctx, bool all)
{
	struct epoll_event ev;

	/* takes the wakeup, so that the fd is not readable again until the
	 * next one */
	if (epoll_wait(s->rb.epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return ring_consume(&s->rb, all, cb, ctx);
}

int vg_sensor_poll(struct vg_sensor *s, int timeout_ms, vg_sensor_cb cb,
		   void *ctx)
{
	return sensor_read(s, timeout_ms, cb, ctx, false);
}

size_t vg_sensor_pending(const struct vg_sensor *s)
{
	return (size_t)(__atomic_load_n(s->rb.producer_pos, __ATOMIC_ACQUIRE) -
			__atomic_load_n(s->rb.consumer_pos, __ATOMIC_RELAXED));
}

size_t vg_sensor_ring_size(const struct vg_sensor *s)
{
	return s->rb.size;
}

unsigned vg_sensor_programs_attached(const struct vg_sensor *s)
{
	unsigned n = (unsigned)s->n_links;

	for (size_t i = 0; i < VG_ARRAY_SIZE(s->plinks); i++)
		n += s->plinks[i] != NULL;
	return n;
}

bool vg_sensor_behind(const struct vg_sensor *s)
{
	return vg_sensor_pending(s) >= s->rb.wake_bytes;
}

int vg_sensor_drain(struct vg_sensor *s, vg_sensor_cb cb, void *ctx)
{
	return sensor_read(s, 0, cb, ctx, true);
}

int vg_sensor_lost(struct vg_sensor *s, uint64_t lost[VG_EV_TYPES])
{
	uint64_t *v = calloc((size_t)s->ncpus, sizeof(uint64_t));

	if (!v)
		return -ENOMEM;
	for (uint32_t t = 0; t < VG_EV_TYPES; t++) {
		lost[t] = 0;
		if (bpf_map__lookup_elem(s->skel->maps.lost, &t, sizeof(t), v,
					 sizeof(uint64_t) * (size_t)s->ncpus, 0) == 0)
			for (int c = 0; c < s->ncpus; c++)
				lost[t] += v[c];
	}
	free(v);
	return 0;
}

int vg_sensor_filter_enable(struct vg_sensor *s, uint32_t flags)
{
	s->skel->bss->vg_filter_flags = flags;
	return 0;
}

static int set_member(struct bpf_map *m, const void *key, size_t ksz, bool add)
{
	uint8_t one = 1;
	int r = add ? bpf_map__update_elem(m, key, ksz, &one, 1, BPF_ANY)
		    : bpf_map__delete_elem(m, key, ksz, 0);

	return r == -ENOENT && !add ? 0 : r;
}

int vg_sensor_filter_cgroup(struct vg_sensor *s, uint64_t cgid, bool add)
{
	return set_member(s->skel->maps.filter_cgroups, &cgid, sizeof(cgid), add);
}

int vg_sensor_filter_mntns(struct vg_sensor *s, uint32_t mntns, bool add)
{
	return set_member(s->skel->maps.filter_mntns, &mntns, sizeof(mntns), add);
}

int vg_sensor_filter_pid(struct vg_sensor *s, uint32_t pid, bool add)
{
	return set_member(s->skel->maps.filter_pids, &pid, sizeof(pid), add);
}

void vg_sensor_drop_types(struct vg_sensor *s, uint64_t mask)
{
	s->skel->bss->vg_drop_types = mask;
}

int vg_sensor_drop_cgroup(struct vg_sensor *s, uint64_t cgid, bool add)
{
	return set_member(s->skel->maps.drop_cgroups, &cgid, sizeof(cgid), add);
}

void vg_sensor_start(struct vg_sensor *s)
{
	s->skel->bss->vg_type_mask = s->mask;
}

void vg_sensor_set_types(struct vg_sensor *s, uint64_t type_mask)
{
	s->skel->bss->vg_type_mask = type_mask | VG_CGROUP_EVENTS;
}
