/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ATTRIB_SNAPSHOT_H
#define VG_ATTRIB_SNAPSHOT_H

#include <stddef.h>

#include "attrib/attrib.h"

/*
 * Every process on the host with its container, and every container
 * with its processes: what `vigil containers` and `vigil tree` show.
 */
struct vg_snap_ctr;

struct vg_snap_proc {
	struct vigil_identity *id; /* owned */
	struct vg_snap_ctr *ctr;   /* NULL: on the host */
	size_t parent;             /* index of the parent, or SIZE_MAX */
	size_t *children;          /* indexes, in pid order */
	size_t n_children;
};

struct vg_snap_ctr {
	const struct vigil_identity *first; /* a process of it (borrowed) */
	struct vg_meta_entry *meta;         /* borrowed from @first */
	const struct vg_pod_meta *pod;
	size_t n_procs;
	int init_pid;   /* the runtime's word, else the eldest process */
	uint64_t cgroup_id;
	const char *cgroup_path;
};

struct vg_snapshot {
	struct vg_snap_proc *procs; /* in pid order */
	size_t n_procs;
	struct vg_snap_ctr *ctrs;   /* by runtime, then name, then id */
	size_t n_ctrs;
	size_t n_failed; /* processes that vanished or could not be read */
};

/* Reads every process under @ctx's proc/. Returns 0 or -errno. The
 * caller releases @ret with vg_snapshot_release(). */
int vg_snapshot_take(struct vigil_ctx *ctx, struct vg_snapshot *ret);
void vg_snapshot_release(struct vg_snapshot *s);

/* The container named by @ref: a full id, a unique id prefix (at least 3
 * characters), or a name. Returns its index, -ENOENT, or -EEXIST when
 * @ref is ambiguous (then @ret_matches, if not NULL, counts them). */
int vg_snapshot_find_ctr(const struct vg_snapshot *s, const char *ref,
			 size_t *ret_matches);

const char *vg_snap_ctr_id(const struct vg_snap_ctr *c);
const char *vg_snap_ctr_name(const struct vg_snap_ctr *c);

#endif
