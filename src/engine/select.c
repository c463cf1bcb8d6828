/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which sink wants which event: types, selection, path, filter. */
#include "engine/internal.h"

#include <fnmatch.h>
#include <string.h>

#include "base/util.h"

/*
 * An image matches GLOB when the whole reference does, or its last path
 * component with or without the tag or digest (busybox:1.36, busybox),
 * so that 'busy*' selects busybox from whatever registry it came.
 */
static bool image_matches(const char *glob, const char *image)
{
	const char *last = strrchr(image, '/');
	char name[256];
	size_t n;

	if (fnmatch(glob, image, 0) == 0)
		return true;
	last = last ? last + 1 : image;
	if (fnmatch(glob, last, 0) == 0)
		return true;
	n = strcspn(last, ":@");
	if (n == strlen(last) || n >= sizeof(name))
		return false;
	memcpy(name, last, n);
	name[n] = '\0';
	return fnmatch(glob, name, 0) == 0;
}

bool vg_selector_matches(const struct vg_selector *sel,
			 const struct vg_attribution *a)
{
	const struct vg_cgroup_match *m = &a->match;
	const struct vg_container_meta *meta = a->meta ? &a->meta->meta : NULL;
	const struct vg_pod_meta *pod = a->meta ? &a->meta->pod : NULL;

	if (sel->host && m->role != VG_ROLE_CONTAINER)
		return true;
	/* a container only where its runtime put it: a claim that is not
	 * verified (or only by its own user) is selected by nothing */
	if (m->role != VG_ROLE_CONTAINER || !vg_meta_trusted(a->meta))
		return false;
	for (size_t i = 0; i < sel->n_refs; i++) {
		const char *ref = sel->refs[i];

		if (strcmp(ref, m->container_id) == 0 ||
		    (strlen(ref) >= 3 && vg_startswith(m->container_id, ref)) ||
		    (meta && meta->name && strcmp(ref, meta->name) == 0))
			return true;
	}
	if (sel->image_glob && meta && meta->image &&
	    image_matches(sel->image_glob, meta->image))
		return true;
	if (sel->pod_ns && pod && pod->ns && pod->name &&
	    strcmp(pod->ns, sel->pod_ns) == 0 &&
	    fnmatch(sel->pod_name, pod->name, 0) == 0)
		return true;
	return false;
}

/* --path: the resolved path, or a rename's or link's source. */
static bool path_matches(const char *glob, const struct vg_event *e)
{
	switch (e->type) {
	case VG_E_OPEN:
		return e->open.name && fnmatch(glob, e->open.name, 0) == 0;
	case VG_E_FILE:
		if (e->file.name && fnmatch(glob, e->file.name, 0) == 0)
			return true;
		return (e->file.action == VG_FA_RENAME ||
			e->file.action == VG_FA_LINK) &&
		       e->file.name2 && fnmatch(glob, e->file.name2, 0) == 0;
	default:
		return true;
	}
}

bool vg_engine_sink_selects(const struct vg_sink *s, const struct vg_event *e)
{
	if (s->sel && (e->x.attr_err || !e->x.attr ||
		       !vg_selector_matches(s->sel, e->x.attr)))
		return false;
	return !s->path_glob || path_matches(s->path_glob, e);
}

bool engine_sink_wants(struct vg_engine *en, struct vg_sink *s,
		       const struct vg_event *e)
{
	if (!(s->types & VG_E_BIT(e->type)))
		return false;
	if (e->type == VG_E_FORK && e->fork.thread && !s->threads)
		return false;
	if (e->type == VG_E_CONTAINER && (s->pids_only ||
					  (e->container.present && !s->present)))
		return false;
	if (s->sel) {
		if (e->x.attr_err || !e->x.attr ||
		    !vg_selector_matches(s->sel, e->x.attr))
			return false;
		/* the host's selection is of processes: no container events */
		if (e->type == VG_E_CONTAINER && !s->sel->n_refs &&
		    !s->sel->image_glob && !s->sel->pod_ns)
			return false;
	}
	if (s->path_glob && !path_matches(s->path_glob, e))
		return false;
	return !s->filter || engine_filter_matches(en, s->filter, e);
}
