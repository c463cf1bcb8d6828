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
	free(e->key);
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
	struct vg_meta_entry *any = NULL;

	for (struct vg_meta_entry *e = ctx->meta.buckets[bucket_of(id)]; e;
	     e = e->next)
		if (strcmp(e->meta.id, id) == 0) {
			if (vg_meta_trusted(e))
				return e;
			any = any ? any : e;
		}
	return any;
}

/* The entry of claim @key to container @id. */
static struct vg_meta_entry *find_claim(struct vigil_ctx *ctx, const char *id,
					const char *key)
{
	for (struct vg_meta_entry *e = ctx->meta.buckets[bucket_of(id)]; e;
	     e = e->next)
		if (strcmp(e->meta.id, id) == 0 && e->key &&
		    strcmp(e->key, key) == 0)
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

/*
 * Read the runtime's metadata of @m under host root @root_fd: the host's
 * runtimes, or (@state_root_pid) those of the enclosing container whose
 * init that is, through its root, with default paths, no Engine API and
 * no kubelet (the host's knows none of its pods).
 */
static bool worker_submit(struct vigil_ctx *ctx, struct vg_meta_entry *e,
			  const struct vg_cgroup_match *m);
static void set_missing(struct vg_meta_entry *e, const char *why);

static int read_meta(const struct vg_runtime_cfg *host_cfg, int root_fd,
		     struct vg_kubelet *kubelet, const struct vg_cgroup_match *m,
		     int state_root_pid, int init_pid,
		     struct vg_container_meta *ret_meta,
		     struct vg_pod_meta *ret_pod)
{
	struct vg_runtime_cfg nested;
	const struct vg_runtime_cfg *cfg = host_cfg;
	_cleanup_close_ int nested_fd = -1;
	int r;

	if (state_root_pid > 0) {
		char path[48];

		snprintf(path, sizeof(path), "proc/%d/root", state_root_pid);
		nested_fd = openat(root_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (nested_fd < 0)
			return -ESRCH;
		vg_runtime_cfg_defaults(&nested);
		nested.docker_socket = NULL;
		cfg = &nested;
		root_fd = nested_fd;
		kubelet = NULL;
	}
	r = vg_runtime_read(cfg, root_fd, m, ret_meta);
	if (r < 0)
		return r;
	/* the init the verification found, as a host pid */
	if (init_pid > 0)
		ret_meta->init_pid = init_pid;
	r = vg_pod_resolve(m->pod_uid, &ret_meta->labels, kubelet,
			   m->container_id, ret_pod);
	if (r < 0)
		vg_container_meta_release(ret_meta);
	return r;
}

static int read_into(struct vigil_ctx *ctx, const struct vg_cgroup_match *m,
		     struct vg_meta_entry *e)
{
	struct vg_container_meta meta;
	struct vg_pod_meta pod;
	uint64_t t0 = mono_ns();
	int r;

	r = read_meta(&ctx->rt_cfg, ctx->root_fd, ctx->kubelet, m,
		      e->state_root_pid, e->init_pid, &meta, &pod);
	vg_hist_observe(&ctx->meta.read_time, mono_ns() - t0);
	if (r == -ESRCH) {
		set_missing(e, "the enclosing container's root is gone");
		e->read_ns = mono_ns();
		return 0;
	}
	if (r < 0)
		return r;
	vg_container_meta_release(&e->meta);
	vg_pod_meta_release(&e->pod);
	e->meta = meta;
	e->pod = pod;
	e->read_ns = mono_ns();
	e->gen++;
	ctx->meta.reads++;
	return 0;
}


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

static void verify_env(struct vigil_ctx *ctx, struct vg_verify_env *env)
{
	*env = (struct vg_verify_env){
		.root_fd = ctx->root_fd,
		.proc_fd = ctx->proc_fd,
		.cg2_fd = ctx->cg2_fd,
		.cfg = &ctx->rt_cfg,
		.clk_tck = ctx->clk_tck,
	};
	if (ctx->own_proc) {
		/* our own clocks: the offset to the ns, start times to the
		 * tick */
		env->boot_wall_ns = vg_clock_ns(CLOCK_REALTIME) -
				    vg_clock_ns(CLOCK_BOOTTIME);
		env->slack_ns = 50ull * 1000000ull;
	} else if (ctx->have_btime) {
		/* another host root: its btime, to the second */
		env->boot_wall_ns = ctx->btime * 1000000000ull;
		env->slack_ns = 1000000000ull;
	}
}

/*
 * A claim whose recorded init is already gone from /proc (a container
 * that ran for a moment): what the sensor saw of that process is a
 * kernel fact too. Its last exec was in cgroup X: the claim holds if X
 * is the claimed container's cgroup or below it, and the process started
 * before the record was written.
 */
static void witness(struct vigil_ctx *ctx, const struct vg_verify_env *env,
		    const struct vg_cgroup_match *m, const char *key,
		    struct vg_verdict *v)
{
	uint64_t cgid = 0, start = 0;
	struct vg_cgroup_match im;
	const char *path;
	size_t klen;

	if (!ctx->witness_fn || !v->init_gone || !v->record_pid ||
	    !vg_startswith(key, "0::") || m->nested_in[0])
		return;
	if (ctx->witness_fn(ctx->witness_arg, v->record_pid, &cgid, &start) < 0 ||
	    !cgid) {
		/* its events may be further on in the stream: wait for them
		 * (as for a record not written yet) */
		v->level = VG_VERIFY_PENDING;
		snprintf(v->why, sizeof(v->why), "its runtime's init process "
			 "%d is gone; waiting for the sensor's own record of it",
			 v->record_pid);
		return;
	}
	if (!(path = vg_attrib_cgid_path(ctx, cgid)))
		return;
	if (v->record_mtime_ns && env->boot_wall_ns &&
	    (v->record_mtime_ns < env->boot_wall_ns ||
	     start > v->record_mtime_ns - env->boot_wall_ns + env->slack_ns))
		return;
	vg_cgroup_parse_path(path, strlen(path), &im);
	klen = strlen(key + 3);
	if (im.role != VG_ROLE_CONTAINER ||
	    strcmp(im.container_id, m->container_id) != 0 ||
	    im.scope_end != klen || strncmp(path, key + 3, klen) != 0)
		return;
	v->level = VG_VERIFY_RUNTIME;
	v->init_pid = v->record_pid;
	v->why[0] = '\0';
}

/* Verify @e's claim (again). Returns 0 or -ENOMEM. */
static int verify_entry(struct vigil_ctx *ctx, const struct vg_cgroup_match *m,
			struct vg_meta_entry *e, uint64_t now)
{
	struct vg_verify_env env;
	struct vg_verdict v;
	int r;

	verify_env(ctx, &env);
	r = ctx->verify_fn ? ctx->verify_fn(ctx->verify_arg, m, e->key, &v)
			   : vg_verify_claim(&env, m, e->key, &v);
	if (r < 0)
		return r;
	if (v.level == VG_VERIFY_FAILED && !ctx->verify_fn)
		witness(ctx, &env, m, e->key, &v);
	ctx->meta.verifications++;
	e->verify_ns = now;
	if (v.level == VG_VERIFY_PENDING &&
	    now - e->first_seen_ns >= VG_META_RETRY_WINDOW_NS) {
		v.level = VG_VERIFY_FAILED;
		snprintf(v.why, sizeof(v.why), "its runtime recorded no init "
			 "process for it within %llu s",
			 VG_META_RETRY_WINDOW_NS / 1000000000ull);
	}
	if (v.level == e->verify && strcmp(v.why, e->verify_why) == 0)
		return 0;
	e->verify = v.level;
	e->init_pid = v.init_pid;
	e->state_root_pid = v.state_root_pid;
	snprintf(e->verify_why, sizeof(e->verify_why), "%s", v.why);
	e->gen++;
	if (vg_verify_trusted(v.level))
		ctx->meta.verified++;
	else if (v.level != VG_VERIFY_PENDING)
		ctx->meta.unverified++;
	/* the state says no more than the verification: not a container
	 * of its runtime's, or not yet */
	if (!vg_verify_trusted(v.level)) {
		char why[600];

		snprintf(why, sizeof(why), "%s: %s",
			 v.level == VG_VERIFY_PENDING ? "not verified yet"
			 : v.level == VG_VERIFY_USER  ? "rootless"
						      : "not verified",
			 v.why);
		set_missing(e, why);
		e->meta.retry = v.level == VG_VERIFY_PENDING;
	}
	return 0;
}

/* Start reading a verified claim's metadata: by the worker, else now. */
static int start_read(struct vigil_ctx *ctx, const struct vg_cgroup_match *m,
		      struct vg_meta_entry *e)
{
	if (ctx->no_meta || e->has_meta || !vg_verify_trusted(e->verify))
		return 0;
	e->has_meta = true;
	if (ctx->meta_worker) {
		e->meta.retry = true;
		set_missing(e, "metadata being read");
		worker_submit(ctx, e, m);
		return 0;
	}
	return read_into(ctx, m, e);
}

int vg_meta_recheck(struct vigil_ctx *ctx, struct vg_meta_entry *e,
		    const struct vg_cgroup_match *m)
{
	uint64_t now;

	if (!e || e->verify != VG_VERIFY_PENDING || e->dropped)
		return 0;
	now = mono_ns();
	if (now - e->verify_ns < VG_VERIFY_RETRY_NS)
		return 0;
	if (verify_entry(ctx, m, e, now) < 0)
		return -ENOMEM;
	return start_read(ctx, m, e);
}

struct vg_meta_entry *vg_meta_get(struct vigil_ctx *ctx,
				  const struct vg_cgroup_match *m,
				  const struct vg_cgroup_info *cg)
{
	struct vg_meta_cache *c = &ctx->meta;
	struct vg_meta_entry *e;
	uint64_t now = mono_ns();
	char key[VG_CLAIM_KEY_MAX];

	if (now - c->last_sweep_ns >= VG_META_SWEEP_NS && c->n > 0)
		vg_meta_sweep(ctx);
	/* a claim no line of the cgroup file makes whole (cannot be: @m is
	 * parsed from it) is verified as one that fails */
	if (!cg || vg_claim_key(cg, m, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "?");
	e = find_claim(ctx, m->container_id, key);
	if (e && e->meta.runtime == m->runtime) {
		if (e->verify == VG_VERIFY_PENDING &&
		    now - e->verify_ns >= VG_VERIFY_RETRY_NS) {
			if (verify_entry(ctx, m, e, now) < 0 ||
			    start_read(ctx, m, e) < 0)
				return NULL;
			return vg_meta_ref(e);
		}
		if (!e->has_meta) {
			c->hits++;
			return vg_meta_ref(e);
		}
		bool stale = e->meta.retry &&
			     now - e->first_seen_ns < VG_META_RETRY_WINDOW_NS &&
			     now - e->read_ns >= VG_META_RETRY_NS;
		/* The kubelet may know the pod by now (its client bounds how
		 * often it asks). */
		bool pod_stale = ctx->kubelet && m->pod_uid[0] &&
				 !e->state_root_pid &&
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
				e->gen++;
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
	c->misses++;
	e->refs = 1; /* the cache's */
	e->first_seen_ns = e->read_ns = now;
	e->key = strdup(key);
	e->cg_path = cgroup_check_path(cg, &e->cg_v2);
	snprintf(e->meta.id, sizeof(e->meta.id), "%s", m->container_id);
	e->meta.runtime = m->runtime;
	e->verify = VG_VERIFY_PENDING;
	if (!e->key || verify_entry(ctx, m, e, now) < 0 ||
	    start_read(ctx, m, e) < 0) {
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
	struct vg_meta_entry *e; /* a reference, touched on the main thread only */
	int state_root_pid, init_pid;
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
	struct vg_hist *read_time; /* the cache's; atomic adds */
#ifdef VG_TEST_HOOKS
	/* VIGIL_TEST_META_DELAY_MS: a slow runtime, for the tests of what
	 * waits for the worker. Only in builds with -Dtest_hooks. */
	unsigned delay_ms;
#endif
};

static void job_free(struct meta_job *j)
{
	if (!j)
		return;
	vg_meta_unref(j->e);
	vg_container_meta_release(&j->meta);
	vg_pod_meta_release(&j->pod);
	free(j);
}

static void set_missing(struct vg_meta_entry *e, const char *why)
{
	e->meta.incomplete = true;
	snprintf(e->meta.missing, sizeof(e->meta.missing), "%.*s",
		 (int)sizeof(e->meta.missing) - 1, why);
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
	j->state_root_pid = e->state_root_pid;
	j->init_pid = e->init_pid;
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
	j->e = vg_meta_ref(e);
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

#ifdef VG_TEST_HOOKS
		if (w->delay_ms)
			usleep(w->delay_ms * 1000u);
#endif
		/* the slow part: state files, the Engine API, the kubelet */
		uint64_t t0 = mono_ns();

		j->err = read_meta(w->rt_cfg, w->root_fd, w->kubelet, &j->m,
				   j->state_root_pid, j->init_pid, &j->meta,
				   &j->pod);
		vg_hist_observe(w->read_time, mono_ns() - t0);

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
	w->read_time = &ctx->meta.read_time;
#ifdef VG_TEST_HOOKS
	const char *delay = getenv("VIGIL_TEST_META_DELAY_MS");

	if (delay)
		w->delay_ms = (unsigned)strtoul(delay, NULL, 10) % 10000u;
#endif
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
			struct vg_meta_entry *e = j->e;

			/* gone meanwhile */
			if (!e->dropped && e->pending) {
				e->pending = false;
				e->read_ns = mono_ns();
				if (j->err < 0) {
					char why[200];

					snprintf(why, sizeof(why),
						 "reading its metadata: %s",
						 strerror(-j->err));
					set_missing(e, why);
				} else {
					/* the verified init, as a host pid */
					if (e->init_pid > 0)
						j->meta.init_pid = e->init_pid;
					vg_container_meta_release(&e->meta);
					vg_pod_meta_release(&e->pod);
					e->meta = j->meta;
					e->pod = j->pod;
					memset(&j->meta, 0, sizeof(j->meta));
					memset(&j->pod, 0, sizeof(j->pod));
					ctx->meta.reads++;
				}
				e->gen++;
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
