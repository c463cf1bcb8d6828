/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/libbpf.h>

#include "base/util.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC 0x64626720
#endif

#define TRACEFS_PATH "/sys/kernel/tracing"

void vg_tracefs_init(struct vg_tracefs *t)
{
	*t = (struct vg_tracefs){ .fd = -1 };
}

void vg_tracefs_release(struct vg_tracefs *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	vg_tracefs_init(t);
}

/* Which failure says most about why no tracefs was found. */
static int err_rank(int r)
{
	switch (r) {
	case -EACCES:
	case -EPERM:
		return 3;
	case -ENODEV:
		return 2;
	case -ENOENT:
		return 0;
	default:
		return 1;
	}
}

int vg_tracefs_open_mounted(const char **where)
{
	/* the debugfs path is an automount of tracefs, or on kernels before
	 * 4.1 tracing's files live in debugfs itself */
	static const char *const paths[] = { TRACEFS_PATH,
					     "/sys/kernel/debug/tracing" };
	int best = -ENOENT;

	for (size_t i = 0; i < VG_ARRAY_SIZE(paths); i++) {
		_cleanup_close_ int fd = -1;
		struct statfs sf;
		int r;

		fd = open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
		} else if (fstatfs(fd, &sf) < 0) {
			r = -errno;
		} else if ((uint64_t)sf.f_type == TRACEFS_MAGIC ||
			   (uint64_t)sf.f_type == DEBUGFS_MAGIC) {
			if (where)
				*where = paths[i];
			return VG_TAKE_FD(fd);
		} else {
			r = -ENODEV; /* the bare mount point in sysfs */
		}
		if (err_rank(r) > err_rank(best))
			best = r;
	}
	return best;
}

int vg_tracefs_open_private(void)
{
	/* read-only: vigil only reads ids and formats */
	return vg_mount_private("tracefs");
}

/* The last resort: mount it where the system would have. */
static int mount_system(void)
{
	if (mount("tracefs", TRACEFS_PATH, "tracefs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return vg_tracefs_open_mounted(NULL);
}

int vg_tracefs_ensure(struct vg_tracefs *t, char *err, size_t errsz)
{
	const char *where = NULL;
	int fd, pr, r;

	if (t->fd >= 0)
		return 0;
	fd = vg_tracefs_open_mounted(&where);
	if (fd >= 0) {
		t->fd = fd;
		t->how = VG_TRACEFS_MOUNTED;
		snprintf(t->where, sizeof(t->where), "%s", where);
		return 0;
	}
	pr = vg_tracefs_open_private();
	if (pr >= 0) {
		t->fd = pr;
		t->how = VG_TRACEFS_PRIVATE;
		snprintf(t->where, sizeof(t->where), "private");
		return 0;
	}
	r = mount_system();
	if (r >= 0) {
		t->fd = r;
		t->how = VG_TRACEFS_MOUNTED_NOW;
		snprintf(t->where, sizeof(t->where), "%s", TRACEFS_PATH);
		snprintf(t->why_not_private, sizeof(t->why_not_private),
			 "a private mount failed: fsopen: %s", strerror(-pr));
		return 0;
	}
	if (pr == -ENODEV || r == -ENODEV)
		vg_set_err(err, errsz,
			   "tracefs unavailable: this kernel has no tracefs "
			   "(CONFIG_TRACING is off), which syscall tracepoints need");
	else if (pr == -EPERM || r == -EPERM)
		vg_set_err(err, errsz,
			   "tracefs unavailable: none is mounted and mounting one "
			   "was refused (%s); run as root or with CAP_SYS_ADMIN, "
			   "or mount it: mount -t tracefs tracefs " TRACEFS_PATH,
			   strerror(-pr));
	else
		vg_set_err(err, errsz,
			   "tracefs unavailable: none is mounted, a private mount "
			   "failed (%s) and mounting at " TRACEFS_PATH
			   " failed (%s); mount it: mount -t tracefs tracefs "
			   TRACEFS_PATH,
			   strerror(-pr), strerror(-r));
	return pr == -EPERM || r == -EPERM ? -EPERM : (r < 0 ? r : -ENODEV);
}

static bool valid_name(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return n > 0 && n <= 128;
}

int vg_tracefs_event_id(int dirfd, const char *group, const char *name,
			uint32_t *ret)
{
	char path[300], buf[32];
	uint64_t v;
	ssize_t n;

	if (!valid_name(group) || !valid_name(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "events/%s/%s/id", group, name);
	n = vg_read_small_at(dirfd, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n == -EFBIG ? -EBADMSG : (int)n;
	buf[strcspn(buf, "\n")] = '\0';
	if (vg_parse_u64(buf, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

struct bpf_link *vg_tracefs_attach(struct bpf_program *p, uint32_t id,
				   uint64_t cookie)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = id,
	};
	LIBBPF_OPTS(bpf_perf_event_opts, o, .bpf_cookie = cookie);
	struct bpf_link *l;
	int pfd, e;

	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1,
			   PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	l = bpf_program__attach_perf_event_opts(p, pfd, &o);
	if (!l) {
		e = errno;
		close(pfd);
		errno = e;
	}
	return l;
}
