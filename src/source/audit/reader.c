/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/audit/reader.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

/* A record in the buffer: its header, then its text, padded to 4. */
struct rec_hdr {
	uint32_t type, len;
};

#define REC_TEXT_MAX 65536 /* one datagram's, at most */
#define BATCH 256
/* After a read that found the socket drained, the thread lets records
 * gather this long before it looks again. The kernel sends an event's
 * records one by one as they are written; read as they come, each costs
 * two wake-ups (this thread's and the loop's), which on an exec storm
 * cost more than the records themselves. The socket's buffer (8 MiB)
 * holds far more than a millisecond of records. */
#define GATHER_MS 1

struct buf {
	uint8_t *b;
	size_t len, cap;
};

struct vg_audit_reader {
	struct vg_audit_ctl *ctl;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t space;
	struct buf fill;  /* the thread's, under mu */
	struct buf drain; /* the loop's */
	size_t drain_off; /* what of it was handed out */
	bool stop;        /* under mu */
	int wake_fd;      /* eventfd: records wait */
	int stop_fd;      /* eventfd: stop */
	uint64_t overruns, full; /* the thread's; read with atomics */
};

static size_t rec_size(size_t len)
{
	return sizeof(struct rec_hdr) + ((len + 3) & ~(size_t)3);
}

/* One record into the fill buffer, waiting for room. */
static int append(void *ctx, int type, const char *text, size_t len)
{
	struct vg_audit_reader *r = ctx;
	struct rec_hdr h = { (uint32_t)type, (uint32_t)len };
	size_t need = rec_size(len);

	if (len > REC_TEXT_MAX)
		return 0; /* not a record the kernel writes */
	pthread_mutex_lock(&r->mu);
	if (r->fill.len + need > r->fill.cap && !r->stop)
		__atomic_add_fetch(&r->full, 1, __ATOMIC_RELAXED);
	while (r->fill.len + need > r->fill.cap && !r->stop)
		pthread_cond_wait(&r->space, &r->mu);
	if (r->stop) {
		pthread_mutex_unlock(&r->mu);
		return -ECANCELED;
	}
	memcpy(r->fill.b + r->fill.len, &h, sizeof(h));
	memcpy(r->fill.b + r->fill.len + sizeof(h), text, len);
	r->fill.len += need;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void *run(void *arg)
{
	struct vg_audit_reader *r = arg;
	struct pollfd pf[2] = {
		{ .fd = vg_audit_ctl_fd(r->ctl), .events = POLLIN },
		{ .fd = r->stop_fd, .events = POLLIN },
	};
	uint64_t one = 1;

	prctl(PR_SET_NAME, "vigil-audit");
	for (;;) {
		uint64_t over = 0;
		int n;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		n = vg_audit_ctl_read(r->ctl, BATCH, append, r, &over);
		if (over)
			__atomic_add_fetch(&r->overruns, over, __ATOMIC_RELAXED);
		if (n == -ECANCELED)
			break;
		/* an eventfd counter: a write fails only at 2^64 - 1 */
		if (n > 0)
			(void)!write(r->wake_fd, &one, sizeof(one));
		/* drained: let the next records gather (a stop ends it) */
		if (n >= 0 && n < BATCH && poll(&pf[1], 1, GATHER_MS) > 0)
			break;
	}
	return NULL;
}

int vg_audit_reader_start(struct vg_audit_ctl *ctl, size_t bytes,
			  struct vg_audit_reader **ret)
{
	struct vg_audit_reader *r = calloc(1, sizeof(*r));
	sigset_t all, old;
	int e;

	if (!r)
		return -ENOMEM;
	if (!bytes)
		bytes = 8u << 20;
	if (bytes < 2 * rec_size(REC_TEXT_MAX))
		bytes = 2 * rec_size(REC_TEXT_MAX);
	r->ctl = ctl;
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->fill.b = malloc(bytes);
	r->drain.b = malloc(bytes);
	r->fill.cap = r->drain.cap = bytes;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->space, NULL);
	if (r->wake_fd < 0 || r->stop_fd < 0 || !r->fill.b || !r->drain.b) {
		e = r->wake_fd < 0 || r->stop_fd < 0 ? -errno : -ENOMEM;
		vg_audit_reader_stop(r);
		return e;
	}
	/* signals are the loop's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&r->thread, NULL, run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		vg_audit_reader_stop(r);
		return -e;
	}
	r->started = true;
	*ret = r;
	return 0;
}

int vg_audit_reader_fd(const struct vg_audit_reader *r)
{
	return r->wake_fd;
}

int vg_audit_reader_take(struct vg_audit_reader *r, vg_audit_record_fn fn,
			 void *ctx)
{
	uint64_t v;
	int n = 0, ret = 0;

	/* cleared; EAGAIN when not signalled (a take after a stop) */
	(void)!read(r->wake_fd, &v, sizeof(v));
	/* what the last take left (its callback stopped it) goes first */
	if (r->drain_off >= r->drain.len) {
		struct buf t;

		pthread_mutex_lock(&r->mu);
		t = r->fill;
		r->fill = r->drain;
		r->drain = t;
		r->fill.len = 0;
		pthread_cond_signal(&r->space);
		pthread_mutex_unlock(&r->mu);
		r->drain_off = 0;
	}
	while (r->drain_off + sizeof(struct rec_hdr) <= r->drain.len) {
		struct rec_hdr h;

		memcpy(&h, r->drain.b + r->drain_off, sizeof(h));
		ret = fn(ctx, (int)h.type,
			 (const char *)r->drain.b + r->drain_off + sizeof(h), h.len);
		r->drain_off += rec_size(h.len);
		n++;
		if (ret)
			return ret;
	}
	r->drain.len = r->drain_off = 0;
	return n;
}

bool vg_audit_reader_pending(struct vg_audit_reader *r)
{
	bool p = r->drain_off < r->drain.len;

	pthread_mutex_lock(&r->mu);
	p = p || r->fill.len > 0;
	pthread_mutex_unlock(&r->mu);
	return p;
}

void vg_audit_reader_stats(struct vg_audit_reader *r, uint64_t *overruns,
			   uint64_t *full)
{
	*overruns = __atomic_load_n(&r->overruns, __ATOMIC_RELAXED);
	*full = __atomic_load_n(&r->full, __ATOMIC_RELAXED);
}

void vg_audit_reader_stop(struct vg_audit_reader *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_broadcast(&r->space);
		pthread_mutex_unlock(&r->mu);
		/* the flag is set too: the thread sees it at its next record */
		(void)!write(r->stop_fd, &one, sizeof(one));
		pthread_join(r->thread, NULL);
	}
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->space);
	free(r->fill.b);
	free(r->drain.b);
	free(r);
}
