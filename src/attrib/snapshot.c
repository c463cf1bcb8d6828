/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attrib/snapshot.h"

#include "base/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *vg_snap_ctr_id(const struct vg_snap_ctr *c)
{
	return c->first->attr.container_id;
}

const char *vg_snap_ctr_name(const struct vg_snap_ctr *c)
{
	return c->meta && c->meta->meta.name ? c->meta->meta.name : "";
}

static int cmp_ctr(const void *a, const void *b)
{
	const struct vg_snap_ctr *x = a, *y = b;
	int c = (int)x->first->attr.runtime - (int)y->first->attr.runtime;

	if (c)
		return c;
	c = strcmp(vg_snap_ctr_name(x), vg_snap_ctr_name(y));
	return c ? c : strcmp(vg_snap_ctr_id(x), vg_snap_ctr_id(y));
}

/* One container: one claim (a rootless claim and a rootful container
 * never merge for sharing an id), else one id. */
static bool same_ctr(const struct vg_snap_ctr *c, const struct vigil_identity *id)
{
	if (c->meta || id->meta)
		return c->meta == id->meta;
	return strcmp(vg_snap_ctr_id(c), id->attr.container_id) == 0;
}

static size_t find_pid(const struct vg_snapshot *s, int pid)
{
	size_t lo = 0, hi = s->n_procs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int p = s->procs[mid].id->proc.pid;

		if (p == pid)
			return mid;
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

int vg_snapshot_take(struct vigil_ctx *ctx, struct vg_snapshot *ret)
{
	struct vg_snapshot s = { 0 };
	_cleanup_free_ int *pids = NULL;
	size_t n_pids = 0;
	bool brief = ctx->brief;
	int r;

	r = vg_attrib_list_pids(ctx, &pids, &n_pids);
	if (r < 0)
		goto fail;
	s.procs = calloc(n_pids ? n_pids : 1, sizeof(*s.procs));
	if (!s.procs) {
		r = -ENOMEM;
		goto fail;
	}
	ctx->brief = true;
	for (size_t i = 0; i < n_pids; i++) {
		struct vigil_identity *id;

		r = vigil_identify_pid(ctx, pids[i], &id);
		if (r < 0)
			goto fail;
		if (!id->have_proc) { /* gone since the listing */
			s.n_failed++;
			vigil_identity_free(id);
			continue;
		}
		s.procs[s.n_procs++] = (struct vg_snap_proc){ .id = id,
							      .parent = SIZE_MAX };
	}
	ctx->brief = brief;

	/* containers: one per distinct id among container processes */
	s.ctrs = calloc(s.n_procs ? s.n_procs : 1, sizeof(*s.ctrs));
	if (!s.ctrs) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < s.n_procs; i++) {
		const struct vigil_identity *id = s.procs[i].id;
		size_t k;

		if (id->status != VIGIL_OK || id->attr.role != VG_ROLE_CONTAINER)
			continue;
		for (k = 0; k < s.n_ctrs; k++)
			if (same_ctr(&s.ctrs[k], id))
				break;
		if (k == s.n_ctrs)
			s.ctrs[s.n_ctrs++] = (struct vg_snap_ctr){
				.first = id,
				.meta = id->meta,
				.pod = vg_identity_pod(id),
				.cgroup_id = id->cgroup_id,
				.cgroup_path = id->cg.v2_path ? id->cg.v2_path
							      : id->cg.v1_path,
			};
		s.ctrs[k].n_procs++;
	}
	qsort(s.ctrs, s.n_ctrs, sizeof(*s.ctrs), cmp_ctr);

	/* links: parent and children, and each process's container */
	for (size_t i = 0; i < s.n_procs; i++) {
		struct vg_snap_proc *p = &s.procs[i];
		size_t par = find_pid(&s, p->id->proc.ppid);

		if (p->id->status == VIGIL_OK &&
		    p->id->attr.role == VG_ROLE_CONTAINER)
			for (size_t k = 0; k < s.n_ctrs; k++)
				if (same_ctr(&s.ctrs[k], p->id)) {
					p->ctr = &s.ctrs[k];
					break;
				}
		if (par == SIZE_MAX || par == i)
			continue;
		struct vg_snap_proc *pp = &s.procs[par];
		size_t *nc = realloc(pp->children,
				     (pp->n_children + 1) * sizeof(*nc));

		if (!nc) {
			r = -ENOMEM;
			goto fail;
		}
		pp->children = nc;
		pp->children[pp->n_children++] = i;
		p->parent = par;
	}
	/* init pid: the runtime's, else the eldest process whose parent is
	 * outside the container */
	for (size_t k = 0; k < s.n_ctrs; k++) {
		struct vg_snap_ctr *c = &s.ctrs[k];

		if (c->meta && c->meta->meta.init_pid &&
		    find_pid(&s, c->meta->meta.init_pid) != SIZE_MAX) {
			c->init_pid = c->meta->meta.init_pid;
			continue;
		}
		uint64_t best = UINT64_MAX;

		for (size_t i = 0; i < s.n_procs; i++) {
			const struct vg_snap_proc *p = &s.procs[i];

			if (p->ctr != c || (p->parent != SIZE_MAX &&
					    s.procs[p->parent].ctr == c))
				continue;
			if (p->id->proc.start_ticks < best) {
				best = p->id->proc.start_ticks;
				c->init_pid = p->id->proc.pid;
			}
		}
	}
	*ret = s;
	return 0;
fail:
	ctx->brief = brief;
	vg_snapshot_release(&s);
	return r;
}

void vg_snapshot_release(struct vg_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_procs; i++) {
		vigil_identity_free(s->procs[i].id);
		free(s->procs[i].children);
	}
	free(s->procs);
	free(s->ctrs);
	memset(s, 0, sizeof(*s));
}

int vg_snapshot_find_ctr(const struct vg_snapshot *s, const char *ref,
			 size_t *ret_matches)
{
	size_t len = strlen(ref), matches = 0;
	int found = -ENOENT;

	if (!len)
		return -ENOENT;
	/* exact id or exact name first: a name that is also some other
	 * container's id prefix must still be reachable */
	for (size_t k = 0; k < s->n_ctrs; k++)
		if (!strcmp(vg_snap_ctr_id(&s->ctrs[k]), ref))
			return (int)k;
	for (size_t k = 0; k < s->n_ctrs; k++)
		if (!strcmp(vg_snap_ctr_name(&s->ctrs[k]), ref)) {
			matches++;
			found = (int)k;
		}
	if (matches == 1)
		return found;
	if (matches == 0 && len >= 3)
		for (size_t k = 0; k < s->n_ctrs; k++)
			if (!strncmp(vg_snap_ctr_id(&s->ctrs[k]), ref, len)) {
				matches++;
				found = (int)k;
			}
	if (ret_matches)
		*ret_matches = matches;
	if (matches > 1)
		return -EEXIST;
	return matches ? found : -ENOENT;
}
