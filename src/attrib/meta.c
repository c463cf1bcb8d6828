/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attrib/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "base/util.h"

static uint64_t mono_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

static size_t bucket_of(const char *id)
{
	return vg_fnv1a64(id, strlen(id)) % VG_META_BUCKETS;
}

struct vg_meta_entry *vg_meta_ref(struct vg_meta_entry *e)
{
	if (e)
		e->refs++;
	return e;
}

void vg_meta_unref(struct vg_meta_entry *e)
{
	if (!e || --e->refs > 0)
		return;
	vg_container_meta_release(&e->meta);
	vg_pod_meta_release(&e->pod);
	free(e->cg_path);
	free(e);
}

static void unlink_entry(struct vg_meta_cache *c, struct vg_meta_entry *e)
{
	struct vg_meta_entry **pp = &c->buckets[bucket_of(e->meta.id)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			e->next = NULL;
			e->dropped = true;
			c->n--;
			vg_meta_unref(e);
			return;
		}
}

struct vg_meta_entry *vg_meta_peek(struct vigil_ctx *ctx, const char *id)
{
	for (struct vg_meta_entry *e = ctx->meta.buckets[bucket_of(id)]; e;
	     e = e->next)
		if (strcmp(e->meta.id, id) == 0)
			return e;
	return NULL;
}

static bool cgroup_exists(struct vigil_ctx *ctx, const struct vg_meta_entry *e)
{
	static const char *const v2_bases[] = { "sys/fs/cgroup/unified",
						"sys/fs/cgroup" };
	struct stat st;
	const char *rel;
	char path[4096];
	bool any_base = false;

	if (!e->cg_path)
		return true; /* nothing to check by: keep */
	rel = e->cg_path + strspn(e->cg_path, "/");
	if (!e->cg_v2)
		return fstatat(ctx->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (ctx->cg2_fd >= 0)
		return fstatat(ctx->cg2_fd, *rel ? rel : ".", &st,
			       AT_SYMLINK_NOFOLLOW) == 0;
	/* no cgroup2 mount found (a copied host root): look where it would
	 * be; with no cgroup tree at all there is nothing to tell by */
	for (size_t i = 0; i < sizeof(v2_bases) / sizeof(v2_bases[0]); i++) {
		if (fstatat(ctx->root_fd, v2_bases[i], &st, 0) < 0)
			continue;
		any_base = true;
		snprintf(path, sizeof(path), "%s/%s", v2_bases[i], rel);
		if (fstatat(ctx->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	}
	return !any_base;
}

size_t vg_meta_sweep(struct vigil_ctx *ctx)
{
	struct vg_meta_cache *c = &ctx->meta;
	size_t dropped = 0;

	c->last_sweep_ns = mono_ns();
	for (size_t b = 0; b < VG_META_BUCKETS; b++) {
		struct vg_meta_entry *e = c->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			if (!cgroup_exists(ctx, e)) {
				unlink_entry(c, e);
				c->drops++;
				dropped++;
			}
		}
	}
	return dropped;
}

/* Remember the cgroup: the v2 path where there is one, else the first
 * v1 hierarchy's directory under sys/fs/cgroup. */
static char *cgroup_check_path(const struct vg_cgroup_info *cg, bool *v2)
{
	char buf[4096];

	if (!cg)
		return NULL;
	if (cg->v2_path) {
		*v2 = true;
		return strdup(cg->v2_path);
	}
	for (size_t i = 0; i < cg->n_lines; i++) {
		const char *ctl = cg->lines[i].controllers;

		if (!*ctl)
			continue;
		if (vg_startswith(ctl, "name="))
			ctl += 5;
		if ((size_t)snprintf(buf, sizeof(buf), "sys/fs/cgroup/%s%s", ctl,
				     cg->lines[i].path) >= sizeof(buf))
			return NULL;
		*v2 = false;
		return strdup(buf);
	}
	return NULL;
}

static int read_into(struct vigil_ctx *ctx, const struct vg_cgroup_match *m,
		     struct vg_meta_entry *e)
{
	struct vg_container_meta meta;
	struct vg_pod_meta pod;
	int r;

	r = vg_runtime_read(&ctx->rt_cfg, ctx->root_fd, m, &meta);
	if (r < 0)
		return r;
	r = vg_pod_resolve(m->pod_uid, &meta.labels, ctx->kubelet,
			   m->container_id, &pod);
	if (r < 0) {
		vg_container_meta_release(&meta);
		return r;
	}
	vg_container_meta_release(&e->meta);
	vg_pod_meta_release(&e->pod);
	e->meta = meta;
	e->pod = pod;
	e->read_ns = mono_ns();
	ctx->meta.reads++;
	return 0;
}

static bool worker_submit(struct vigil_ctx *ctx, struct vg_meta_entry *e,
			  const struct vg_cgroup_match *m);
static void set_missing(struct vg_meta_entry *e, const char *why);

static void evict_one(struct vg_meta_cache *c)
{
	struct vg_meta_entry *oldest = NULL;

	for (size_t b = 0; b < VG_META_BUCKETS; b++)
		for (struct vg_meta_entry *e = c->buckets[b]; e; e = e->next)
			if (!oldest || e->read_ns < oldest->read_ns)
				oldest = e;
	if (oldest) {
		unlink_entry(c, oldest);
		c->evictions++;
	}
}

struct vg_meta_entry *vg_meta_get(struct vigil_ctx *ctx,
				  const struct vg_cgroup_match *m,
				  const struct vg_cgroup_info *cg)
{
	struct vg_meta_cache *c = &ctx->meta;
	struct vg_meta_entry *e;
	uint64_t now = mono_ns();

	if (now - c->last_sweep_ns >= VG_META_SWEEP_NS && c->n > 0)
		vg_meta_sweep(ctx);
	e = vg_meta_peek(ctx, m->container_id);
	if (e && e->meta.runtime == m->runtime) {
		bool stale = e->meta.retry &&
			     now - e->first_seen_ns < VG_META_RETRY_WINDOW_NS &&
			     now - e->read_ns >= VG_META_RETRY_NS;
		/* The kubelet may know the pod by now (its client bounds how
		 * often it asks). */
		bool pod_stale = ctx->kubelet && m->pod_uid[0] &&
				 e->pod.source != VG_POD_SRC_KUBELET &&
				 now - e->read_ns >= VG_META_RETRY_NS;

		if (ctx->meta_worker && (stale || pod_stale)) {
			if (!e->pending)
				worker_submit(ctx, e, m);
		} else if (stale) {
			if (read_into(ctx, m, e) < 0)
				return NULL;
		} else if (pod_stale) {
			struct vg_pod_meta pod;

			if (vg_pod_resolve(m->pod_uid, &e->meta.labels,
					   ctx->kubelet, m->container_id,
					   &pod) == 0) {
				vg_pod_meta_release(&e->pod);
				e->pod = pod;
				e->read_ns = now;
			}
		} else {
			c->hits++;
		}
		return vg_meta_ref(e);
	}
	if (e) /* another runtime now claims the id: start over */
		unlink_entry(c, e);

	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->refs = 1; /* the cache's */
	e->first_seen_ns = now;
	e->cg_path = cgroup_check_path(cg, &e->cg_v2);
	if (ctx->meta_worker) {
		/* known at once by its id; the rest follows */
		snprintf(e->meta.id, sizeof(e->meta.id), "%s", m->container_id);
		e->meta.runtime = m->runtime;
		e->meta.retry = true;
		set_missing(e, "metadata being read");
		worker_submit(ctx, e, m);
	} else if (read_into(ctx, m, e) < 0) {
		vg_meta_unref(e);
		return NULL;
	}
	if (c->n >= VG_META_MAX)
		evict_one(c);
	size_t b = bucket_of(e->meta.id);

	e->next = c->buckets[b];
	c->buckets[b] = e;
	c->n++;
	return vg_meta_ref(e);
}

void vg_meta_cache_release(struct vg_meta_cache *c)
{
	for (size_t b = 0; b < VG_META_BUCKETS; b++) {
		struct vg_meta_entry *e = c->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = NULL;
			e->dropped = true;
			vg_meta_unref(e);
		}
		c->buckets[b] = NULL;
	}
	c->n = 0;
}

/* ------------------------------------------------------- the worker */

struct meta_job {
	struct vg_cgroup_match m;
	/* the answer */
	int err;
	struct vg_container_meta meta;
	struct vg_pod_meta pod;
};

struct vg_meta_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int efd;
	bool stop;
	/* jobs to do (FIFO) and jobs done (FIFO), both under @lock */
	struct meta_job *todo[VG_META_WORKER_QUEUE];
	size_t todo_head, todo_n;
	struct meta_job *done[VG_META_WORKER_QUEUE];
	size_t done_head, done_n;
	uint64_t queued, finished, refused;
	/* what the worker reads with; fixed while it runs */
	const struct vg_runtime_cfg *rt_cfg;
	int root_fd;
	struct vg_kubelet *kubelet;
	/* VIGIL_TEST_META_DELAY_MS: a slow runtime, for the tests of what
	 * waits for the worker */
	unsigned delay_ms;
};

static void job_free(struct meta_job *j)
{
	if (!j)
		return;
	vg_container_meta_release(&j->meta);
	vg_pod_meta_release(&j->pod);
	free(j);
}

static void set_missing(struct vg_meta_entry *e, const char *why)
{
	e->meta.incomplete = true;
	snprintf(e->meta.missing, sizeof(e->meta.missing), "%s", why);
}

/* Queue a read of @e's container. False (and @e says why) when the
 * queue is full: the entry stays incomplete, and is asked for again by
 * the next lookup after VG_META_RETRY_NS. */
static bool worker_submit(struct vigil_ctx *ctx, struct vg_meta_entry *e,
			  const struct vg_cgroup_match *m)
{
	struct vg_meta_worker *w = ctx->meta_worker;
	struct meta_job *j = calloc(1, sizeof(*j));
	bool ok = false;

	e->read_ns = mono_ns();
	if (!j) {
		set_missing(e, "out of memory");
		return false;
	}
	j->m = *m;
	pthread_mutex_lock(&w->lock);
	/* done jobs are also held until collected: bound both */
	if (w->todo_n < VG_META_WORKER_QUEUE &&
	    w->todo_n + w->done_n < VG_META_WORKER_QUEUE) {
		w->todo[(w->todo_head + w->todo_n++) % VG_META_WORKER_QUEUE] = j;
		w->queued++;
		ok = true;
		pthread_cond_signal(&w->wake);
	} else {
		w->refused++;
	}
	pthread_mutex_unlock(&w->lock);
	if (!ok) {
		free(j);
		set_missing(e, "metadata reads queue full");
		return false;
	}
	e->pending = true;
	return true;
}

static void *worker_main(void *arg)
{
	struct vg_meta_worker *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->todo_n)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		struct meta_job *j = w->todo[w->todo_head];

		w->todo_head = (w->todo_head + 1) % VG_META_WORKER_QUEUE;
		w->todo_n--;
		pthread_mutex_unlock(&w->lock);

		if (w->delay_ms)
			usleep(w->delay_ms * 1000u);
		/* the slow part: state files, the Engine API, the kubelet */
		j->err = vg_runtime_read(w->rt_cfg, w->root_fd, &j->m, &j->meta);
		if (j->err == 0) {
			j->err = vg_pod_resolve(j->m.pod_uid, &j->meta.labels,
						w->kubelet, j->m.container_id,
						&j->pod);
			if (j->err < 0)
				vg_container_meta_release(&j->meta);
		}

		pthread_mutex_lock(&w->lock);
		w->done[(w->done_head + w->done_n++) % VG_META_WORKER_QUEUE] = j;
		w->finished++;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* the counter is only a doorbell: full is still rung */
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int vg_meta_worker_start(struct vigil_ctx *ctx)
{
	struct vg_meta_worker *w;
	int r;

	if (ctx->meta_worker)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->rt_cfg = &ctx->rt_cfg;
	w->root_fd = ctx->root_fd;
	w->kubelet = ctx->kubelet;
	const char *delay = getenv("VIGIL_TEST_META_DELAY_MS");

	if (delay)
		w->delay_ms = (unsigned)strtoul(delay, NULL, 10) % 10000u;
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		close(w->efd);
		free(w);
		return r;
	}
	ctx->meta_worker = w;
	return 0;
}

int vg_meta_worker_fd(const struct vigil_ctx *ctx)
{
	return ctx->meta_worker ? ctx->meta_worker->efd : -1;
}

size_t vg_meta_worker_collect(struct vigil_ctx *ctx)
{
	struct vg_meta_worker *w = ctx->meta_worker;
	struct meta_job *got[64];
	size_t n, changed = 0;
	uint64_t count;

	if (!w)
		return 0;
	if (read(w->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: nothing rung; the queue is checked anyway */
	}
	do {
		pthread_mutex_lock(&w->lock);
		for (n = 0; n < VG_ARRAY_SIZE(got) && w->done_n; n++) {
			got[n] = w->done[w->done_head];
			w->done_head = (w->done_head + 1) % VG_META_WORKER_QUEUE;
			w->done_n--;
		}
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; i < n; i++) {
			struct meta_job *j = got[i];
			struct vg_meta_entry *e = vg_meta_peek(ctx, j->m.container_id);

			/* gone, or claimed by another runtime meanwhile */
			if (e && e->meta.runtime == j->m.runtime && e->pending) {
				e->pending = false;
				e->read_ns = mono_ns();
				if (j->err < 0) {
					char why[200];

					snprintf(why, sizeof(why),
						 "reading its metadata: %s",
						 strerror(-j->err));
					set_missing(e, why);
				} else {
					vg_container_meta_release(&e->meta);
					vg_pod_meta_release(&e->pod);
					e->meta = j->meta;
					e->pod = j->pod;
					memset(&j->meta, 0, sizeof(j->meta));
					memset(&j->pod, 0, sizeof(j->pod));
					ctx->meta.reads++;
				}
				changed++;
			}
			job_free(j);
		}
	} while (n == VG_ARRAY_SIZE(got));
	return changed;
}

void vg_meta_worker_stats(const struct vigil_ctx *ctx,
			  struct vg_meta_worker_stats *ret)
{
	struct vg_meta_worker *w = ctx->meta_worker;

	memset(ret, 0, sizeof(*ret));
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	ret->queued = w->queued;
	ret->done = w->finished;
	ret->refused = w->refused;
	ret->waiting = w->todo_n;
	pthread_mutex_unlock(&w->lock);
}

void vg_meta_worker_stop(struct vigil_ctx *ctx)
{
	struct vg_meta_worker *w = ctx->meta_worker;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->todo_n; i++)
		job_free(w->todo[(w->todo_head + i) % VG_META_WORKER_QUEUE]);
	for (size_t i = 0; i < w->done_n; i++)
		job_free(w->done[(w->done_head + i) % VG_META_WORKER_QUEUE]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	close(w->efd);
	free(w);
	ctx->meta_worker = NULL;
	/* entries left pending would never be read again */
	for (size_t b = 0; b < VG_META_BUCKETS; b++)
		for (struct vg_meta_entry *e = ctx->meta.buckets[b]; e; e = e->next)
			e->pending = false;
}
