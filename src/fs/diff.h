/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_FS_DIFF_H
#define VG_FS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/rootfs.h"

/*
 * What a container changed in its root filesystem, from its overlay's
 * upper layer: files added (A), changed (C) and deleted (D), as the
 * container's runtime's own diff reports them.
 *
 * The walk never follows a symlink (every lookup is *at() relative to
 * an open directory, with AT_SYMLINK_NOFOLLOW or O_NOFOLLOW), never
 * leaves the layer's filesystem, keeps one descriptor per directory
 * level, and stops at limits on depth, entries and path bytes. Whatever
 * could not be read makes the answer partial, and says why.
 */

/* Defaults for struct vg_diff_opts. */
#define VG_DIFF_ENTRIES_MAX 1000000
#define VG_DIFF_DEPTH_MAX 256
/* Bytes of paths kept for the answer (a bound on memory). */
#define VG_DIFF_PATH_BYTES_MAX (256u << 20)
/* Problems whose message is kept (all are counted). */
#define VG_DIFF_PROBLEMS_KEPT 16

enum vg_diff_style {
	/* docker's (and what containerd users expect): the container's
	 * view compared with its image's. A directory is changed when its
	 * owner or mode is, or when anything under it is; a file when its
	 * type, mode, owner, size, mtime or file capabilities are. A
	 * deleted directory is one D; a replaced (opaque) one is compared
	 * with the one it hides: what is gone from it is D. */
	VG_DIFF_DOCKER,
	/* podman's and CRI-O's (containers/storage): every entry of the
	 * upper layer is A or C by whether a lower layer has its path,
	 * unless it is a directory the same as the lower one; a whiteout is
	 * D; a replaced directory is D (and what it holds now, A). The
	 * parents of an A or D are C. podman's runtime files (/etc/hosts,
	 * /run/.containerenv, ...) are not reported. */
	VG_DIFF_PODMAN,
};

struct vg_diff_opts {
	enum vg_diff_style style;
	bool userxattr;     /* overlay's xattrs are user.overlay.* */
	size_t max_entries; /* 0: VG_DIFF_ENTRIES_MAX */
	unsigned max_depth; /* directory levels below the root; 0: default */
};

struct vg_diff_stat {
	uint32_t mode; /* st_mode: type and permission bits */
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

struct vg_diff_entry {
	char *path;     /* absolute in the container; any bytes but NUL */
	char kind;      /* 'A', 'C' or 'D' */
	bool replaced;  /* a directory made opaque: it hides the one below */
	bool have_stat; /* A, C: the entry now; D: what was deleted, when
			 * a lower layer still shows it */
	struct vg_diff_stat st;
};

struct vg_diff {
	struct vg_diff_entry *entries; /* sorted by path (bytewise) */
	size_t n_entries;
	/* Partial: something could not be read or a limit was hit. */
	bool partial;
	bool truncated;         /* stopped at max_entries or the path bytes */
	bool xattr_unsupported; /* opaque directories could not be told: the
				 * upper layer's filesystem has no xattrs, or
				 * trusted.* ones cannot be read (no
				 * CAP_SYS_ADMIN) */
	size_t n_problems;
	char *problems[VG_DIFF_PROBLEMS_KEPT]; /* the first ones, "PATH: why" */
	size_t n_kept;
	/* internal */
	size_t cap, bytes;
};

/*
 * Compare upper layer @upper_fd with the lower layers @lower_fds (top
 * first), all open directories the caller keeps. Returns 0 with @ret
 * filled (check ret->partial), or -ENOMEM / -EINVAL; @ret is then
 * empty. The caller releases @ret with vg_diff_release().
 */
int vg_diff_layers(int upper_fd, const int *lower_fds, size_t n_lowers,
		   const struct vg_diff_opts *opts, struct vg_diff *ret);

/*
 * The same for an overlay root found by vg_rootfs_of_pid(): its layers
 * are opened under @root_fd (the host root; symlinks in their paths stay
 * inside it). Returns 0; -EMEDIUMTYPE when @rf is not an overlay with an
 * upper layer; -ENOENT, -EACCES... when a layer cannot be opened;
 * -ENOMEM. @err says why.
 */
int vg_diff_rootfs(int root_fd, const struct vg_rootfs *rf,
		   const struct vg_diff_opts *opts, struct vg_diff *ret,
		   char *err, size_t errsz);

void vg_diff_release(struct vg_diff *d);

/* "file", "dir", "symlink", "char", "block", "fifo", "socket", "unknown" */
const char *vg_diff_type_name(uint32_t mode);

#endif
