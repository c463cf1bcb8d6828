/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "runtime/runtime.h"

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
