/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_BPF_TRACEFS_H
#define VG_SOURCE_BPF_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * tracefs, where the kernel numbers its tracepoints (events/G/N/id) and
 * describes their records (events/G/N/format). A fresh host, and every
 * container, has none mounted: then vigil makes a private one, a mount
 * that belongs to no mount table (fsopen + fsmount, detached) and that
 * no other process sees, and reads it through its fd. Only where that is
 * impossible (a kernel before 5.2, a seccomp profile that refuses
 * fsopen) is tracefs mounted at /sys/kernel/tracing, which the caller
 * says once.
 */

enum vg_tracefs_how {
	VG_TRACEFS_NONE = 0,  /* not looked for yet */
	VG_TRACEFS_MOUNTED,   /* the system's, at @where */
	VG_TRACEFS_PRIVATE,   /* vigil's own, detached */
	VG_TRACEFS_MOUNTED_NOW, /* mounted by vigil at @where: the caller
				 * tells the user */
};

struct vg_tracefs {
	int fd;                 /* the tracefs root; -1 until found */
	enum vg_tracefs_how how;
	char where[64];         /* mount point, or "private" */
	char why_not_private[160]; /* MOUNTED_NOW: why fsopen did not do */
};

/* An empty handle: nothing looked for yet. */
void vg_tracefs_init(struct vg_tracefs *t);

/*
 * Find tracefs, or make a private one, once; later calls return at
 * once. Returns 0, or -errno with a sentence in @err that names the
 * cause and the fix (-EPERM: not allowed to mount; -ENODEV: the kernel
 * has no tracefs).
 */
int vg_tracefs_ensure(struct vg_tracefs *t, char *err, size_t errsz);

/* Close the fd; the private mount goes with it. Accepts NULL and an
 * initialized, unused handle. */
void vg_tracefs_release(struct vg_tracefs *t);

/* The system's tracefs, where one is mounted: /sys/kernel/tracing, else
 * /sys/kernel/debug/tracing (an empty mount point does not count).
 * Returns an O_DIRECTORY fd the caller closes and the path in @where,
 * or -errno (-ENODEV: only unmounted mount points were found). */
int vg_tracefs_open_mounted(const char **where);

/* A private, detached, read-only tracefs: its root fd, or -errno. */
int vg_tracefs_open_private(void);

/* The id of tracepoint @group:@name (events/G/N/id under @dirfd).
 * Returns 0, -EINVAL for names that are not [A-Za-z0-9_]+, -ENOENT for
 * an unknown tracepoint, -EBADMSG for an id file that is not a number. */
int vg_tracefs_event_id(int dirfd, const char *group, const char *name,
			uint32_t *ret);

struct bpf_program;
struct bpf_link;

/*
 * Attach tracepoint program @p to the tracepoint of @id (read with
 * vg_tracefs_event_id()) through a perf event, as libbpf would, but
 * without libbpf's own look for tracefs, which finds none on a fresh
 * host or in a container. @cookie is the program's bpf_get_attach_cookie().
 * Returns the link, which owns the perf event, or NULL with errno set.
 */
struct bpf_link *vg_tracefs_attach(struct bpf_program *p, uint32_t id,
				   uint64_t cookie);

#endif
