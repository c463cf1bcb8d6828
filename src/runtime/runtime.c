/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"
#include "base/util.h"

/* The pid in pid file @path under @root_fd. */
static int pid_file(int root_fd, const char *path, int *ret)
{
	char buf[32];
	int pid;

	if (vg_read_small_at(root_fd, path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	buf[strcspn(buf, "\n")] = '\0';
	if (vg_parse_pid(buf, &pid) < 0 || pid <= 0)
		return -EBADMSG;
	*ret = pid;
	return 0;
}

int vg_runtime_init_pid(const struct vg_runtime_cfg *cfg, int root_fd,
			const struct vg_cgroup_match *m, int *ret)
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

	switch (m->runtime) {
	case VG_RUNTIME_DOCKER:
		ns = "moby";
		/* fall through */
	case VG_RUNTIME_CONTAINERD:
		for (size_t i = 0; i < VG_ARRAY_SIZE(tasks) && r < 0; i++) {
			snprintf(path, sizeof(path), "%s/%s/%s/init.pid", tasks[i],
				 ns, m->container_id);
			r = pid_file(root_fd, path, ret);
		}
		return r;
	case VG_RUNTIME_CRIO:
	case VG_RUNTIME_PODMAN:
		if (m->rootless)
			return -ENOENT; /* its storage is the user's */
		snprintf(path, sizeof(path), "%s/overlay-containers/%s/userdata/pidfile",
			 cfg->storage_run, m->container_id);
		return pid_file(root_fd, path, ret);
	default:
		return -ENOENT;
	}
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
