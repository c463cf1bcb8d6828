/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_FS_ROOTFS_H
#define VG_FS_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A process's root filesystem, from the kernel's mount table of that
 * process (/proc/<pid>/mountinfo, read under the host root): the mount
 * its root directory is on, and for an overlay its layers, as host
 * paths, and where the host sees the merged tree.
 *
 * The layer paths are the overlay's options as the kernel shows them:
 * paths in the mount namespace that mounted it. A container that may
 * mount can put a root of its own making under itself, with any layers
 * it likes (host directories among them), so the layers are taken only
 * from a mount table the container cannot write:
 *
 *  - the host's (PID 1's): docker, containerd, podman and CRI-O mount
 *    there; the paths are host paths, read under the host root;
 *  - else the table of the runtime process that made the container (its
 *    shim or conmon: the init's parent, outside the container's cgroup
 *    and in another mount namespace), for a rootless container or one
 *    made inside another (a kind node); the paths are read under that
 *    process's root.
 *
 * Both must hold the same filesystem (the device of the container's
 * root) with the same layers as the container's own view; a table that
 * disagrees is refused. When neither holds it, the layers are
 * unverified and @layers_verified is false: they are the container's
 * word only.
 */

struct vigil_ctx;

/* Layers of one overlay (the kernel allows 500). */
#define VG_OVERLAY_LAYERS_MAX 512

/* One line of a mountinfo file. The strings point into the caller's
 * line, unescaped in place (\ooo octal escapes), except @superopts,
 * which is left as the kernel wrote it: its options are split at commas
 * first, and only then unescaped (a comma in a value is written \054). */
struct vg_mount {
	int id;
	int parent;
	unsigned major, minor;
	const char *root;       /* the mount's root within its filesystem */
	const char *mountpoint; /* relative to the reading process's root */
	const char *fstype;
	const char *source;
	const char *superopts;
};

/* Split one mountinfo line (no newline) in place. Returns 0 or -EBADMSG. */
int vg_mountinfo_parse_line(char *line, struct vg_mount *ret);

/* An overlay's options. Paths are unescaped as the kernel unescapes them
 * when it mounts: octal escapes first, then for lowerdir=, upperdir= and
 * workdir= a backslash quotes the next character ("\:" is a colon inside
 * one lowerdir= path); lowerdir+= and datadir+= are taken literally. */
struct vg_overlay_opts {
	char *upperdir;   /* NULL: a read-only overlay */
	char *workdir;
	char **lowerdirs; /* the merged layers, top first */
	size_t n_lowerdirs;
	char **datadirs;  /* data-only layers ("::" or datadir+=) */
	size_t n_datadirs;
	bool userxattr;   /* overlay's own xattrs are user.overlay.* */
};

/* Parse @superopts (the last mountinfo field of an overlay). Returns 0,
 * -EBADMSG (no lower layer, an empty or malformed path, lowerdir= mixed
 * with lowerdir+=), -E2BIG (more than VG_OVERLAY_LAYERS_MAX layers) or
 * -ENOMEM, with the reason in @err. On success release @ret with
 * vg_overlay_opts_release(); on failure it holds nothing. */
int vg_overlay_parse_opts(const char *superopts, struct vg_overlay_opts *ret,
			  char *err, size_t errsz);
void vg_overlay_opts_release(struct vg_overlay_opts *o);

struct vg_rootfs {
	int mount_id;
	unsigned dev_major, dev_minor; /* the filesystem's device (st_dev) */
	char *fstype;
	char *source;
	char *root;     /* the mount's root within its filesystem */
	/* Where the host sees the process's root: the mount point of the
	 * same filesystem in the host's mount table (a host path), else
	 * "/proc/<pid>/root", which reaches it while the process lives. */
	char *merged;
	bool host_mount; /* @merged is a host mount of this filesystem */
	bool overlay;    /* fstype "overlay": @ovl is filled in */
	struct vg_overlay_opts ovl;
	/* The layers (@ovl) come from a table the container cannot write:
	 * the host's (@layers_pid 0, paths under the host root) or the
	 * runtime process @layers_pid's (paths under @layers_root_fd, its
	 * root, held open). When false, @layers_why says why not. */
	bool layers_verified;
	int layers_pid;
	bool have_layers_root_fd;
	int layers_root_fd;
	const char *layers_why;
};

/*
 * The root filesystem of process @pid: the mount of its root directory
 * (by the mount id statx() reports for /proc/<pid>/root, else the
 * topmost mount at "/" in its table), then the host's mount of the same
 * filesystem (/proc/1/mountinfo), else the runtime process's (see
 * above). Bounded reads and a statx; no state. Returns 0; -ESRCH when
 * the process does not exist or exits meanwhile; -ENOENT when no root
 * mount is in its table; -EFBIG when the table is larger than
 * VG_MOUNTINFO_MAX (runtime.h); -EBADMSG when its overlay options make
 * no sense; -EPERM when the host's or the runtime's table disagrees
 * with the container's about its root; -ENOMEM. @err says why. On
 * success the caller
 * releases @ret with vg_rootfs_release(); on failure it holds nothing.
 */
int vg_rootfs_of_pid(struct vigil_ctx *ctx, int pid, struct vg_rootfs *ret,
		     char *err, size_t errsz);
void vg_rootfs_release(struct vg_rootfs *r);

/* The parts of vg_rootfs_of_pid(), for tests and fuzzing. */
/* The root mount in mountinfo text @buf (changed in place): mount
 * @mnt_id, or when it is 0 or absent the topmost mount at "/". Fills
 * everything but @merged and @host_mount. Returns as above. */
int vg_rootfs_from_mountinfo(char *buf, int mnt_id, struct vg_rootfs *ret,
			     char *err, size_t errsz);
/* Set @r->merged to where the host's mountinfo text @buf (changed in
 * place) mounts @r's filesystem: a mount of the same device whose root
 * holds @r->root, the closest one. Then check the layers: for an
 * overlay, the host's mount must have the same options as @r's, and
 * @r->layers_verified is set. Returns 0, -ENOENT (no mount of the
 * device), -EPERM (the host's mount disagrees: @err says how), -EBADMSG
 * (the host's options make no sense) or -ENOMEM. */
int vg_rootfs_find_host_mount(char *buf, struct vg_rootfs *r, char *err,
			      size_t errsz);
/* The same check against the mount table @buf of a runtime process
 * (changed in place): the same device with the same layers, @r->merged
 * left alone. Returns as above; on success @r->layers_verified is set
 * (the caller fills in whose table it was). */
int vg_rootfs_check_table(char *buf, struct vg_rootfs *r, char *err,
			  size_t errsz);

#endif
