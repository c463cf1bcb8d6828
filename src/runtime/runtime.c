/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"
#include "base/util.h"

/* The pid in pid file @path under @root_fd, and when it was written. */
static int pid_file(int root_fd, const char *path, int *ret,
		    uint64_t *ret_mtime_ns)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char buf[32];
	ssize_t n;
	int pid;

	/* the runtime writes the file itself: a symlink there is not its
	 * record */
	fd = vg_open_state_at(root_fd, path, O_NOFOLLOW, &st);
	if (fd == -VG_ENOTREG)
		return -EBADMSG;
	if (fd < 0)
		return -ENOENT;
	n = vg_read_small_fd(fd, buf, sizeof(buf));
	if (n == -EFBIG)
		return -EBADMSG;
	if (n <= 0)
		return -ENOENT; /* being written */
	buf[strcspn(buf, "\n")] = '\0';
	if (vg_parse_pid(buf, &pid) < 0 || pid <= 0)
		return -EBADMSG;
	*ret = pid;
	if (ret_mtime_ns)
		*ret_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
				(uint64_t)st.st_mtim.tv_nsec;
	return 0;
}

int vg_runtime_init_record(const struct vg_runtime_cfg *cfg, int root_fd,
			   const struct vg_cgroup_match *m, int64_t rootless_uid,
			   int *ret, uint64_t *ret_mtime_ns)
{
	/* containerd's task bundles, by namespace: docker's own instance
	 * (namespace moby) first for docker */
	static const char *const tasks[] = {
		"run/docker/containerd/daemon/io.containerd.runtime.v2.task",
		"run/containerd/io.containerd.runtime.v2.task",
		"run/k3s/containerd/io.containerd.runtime.v2.task",
	};
	const char *ns = m->ctr_namespace[0] ? m->ctr_namespace : "k8s.io";
	char path[512];
	int r = -ENOENT;

	if (rootless_uid >= 0) {
		/* the user's own runtime directory: podman's run root, and
		 * rootless docker's containerd */
		unsigned long uid = (unsigned long)rootless_uid;

		if (m->runtime == VG_RUNTIME_PODMAN) {
			snprintf(path, sizeof(path), "run/user/%lu/containers/"
				 "overlay-containers/%s/userdata/pidfile", uid,
				 m->container_id);
			return pid_file(root_fd, path, ret, ret_mtime_ns);
		}
		if (m->runtime == VG_RUNTIME_DOCKER) {
			snprintf(path, sizeof(path), "run/user/%lu/docker/"
				 "containerd/daemon/io.containerd.runtime.v2.task/"
				 "moby/%s/init.pid", uid, m->container_id);
			return pid_file(root_fd, path, ret, ret_mtime_ns);
		}
		return -ENOENT;
	}
	switch (m->runtime) {
	case VG_RUNTIME_DOCKER:
		ns = "moby";
		/* fall through */
	case VG_RUNTIME_CONTAINERD:
		for (size_t i = 0; i < VG_ARRAY_SIZE(tasks) && r == -ENOENT; i++) {
			snprintf(path, sizeof(path), "%s/%s/%s/init.pid", tasks[i],
				 ns, m->container_id);
			r = pid_file(root_fd, path, ret, ret_mtime_ns);
		}
		return r;
	case VG_RUNTIME_CRIO:
	case VG_RUNTIME_PODMAN:
		snprintf(path, sizeof(path), "%s/overlay-containers/%s/userdata/pidfile",
			 cfg->storage_run, m->container_id);
		return pid_file(root_fd, path, ret, ret_mtime_ns);
	default:
		return -ENOENT;
	}
}

int vg_runtime_init_pid(const struct vg_runtime_cfg *cfg, int root_fd,
			const struct vg_cgroup_match *m, int *ret)
{
	if (m->rootless)
		return -ENOENT; /* its state is the user's */
	return vg_runtime_init_record(cfg, root_fd, m, -1, ret, NULL);
}

int vg_runtime_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    const struct vg_cgroup_match *m,
		    struct vg_container_meta *ret)
{
	struct vg_container_meta out = { 0 };

	out.runtime = m->runtime;
	memcpy(out.id, m->container_id, sizeof(out.id));
	if (m->ctr_namespace[0] && vg_set_str(&out.ctr_namespace,
					      m->ctr_namespace) < 0)
		return -ENOMEM;

	switch (m->runtime) {
	case VG_RUNTIME_DOCKER:
		vg_docker_read(cfg, root_fd, &out);
		break;
	case VG_RUNTIME_CONTAINERD:
		vg_containerd_read(cfg, root_fd, &out);
		break;
	case VG_RUNTIME_CRIO:
		vg_crio_read(cfg, root_fd, &out);
		break;
	case VG_RUNTIME_PODMAN:
		if (m->rootless)
			/* its storage is in the user's home, not read */
			vg_meta_missing(&out, false,
					"rootless podman storage of uid %u not read",
					m->rootless_uid);
		else
			vg_podman_read(cfg, root_fd, &out);
		break;
	default:
		vg_meta_missing(&out, false, "runtime unknown: no state to read");
		break;
	}
	*ret = out;
	return 0;
}
