/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attrib/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "shared/util.h"

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

		if (stale) {
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
	if (read_into(ctx, m, e) < 0) {
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
