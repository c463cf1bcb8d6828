/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * containerd and CRI-O run containers from OCI bundles: the bundle's
 * config.json carries the annotations (CRI's pod and container names,
 * CRI-O's own record), the root path and, beside it, the init pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/json.h"
#include "runtime/runtime.h"
#include "base/util.h"

/* Where containerd instances keep their tasks' bundles: its own, docker's,
 * k3s's, and the v1 shim's. */
static const char *const task_dirs[] = {
	"run/containerd/io.containerd.runtime.v2.task",
	"run/docker/containerd/daemon/io.containerd.runtime.v2.task",
	"run/k3s/containerd/io.containerd.runtime.v2.task",
	"run/containerd/io.containerd.runtime.v1.linux",
};

int vg_oci_parse_config(const char *buf, size_t len,
			struct vg_container_meta *ret)
{
	json_t *root = vg_json_parse(buf, len, ret, "config.json");
	const char *rp;
	int r = 0;

	if (!root)
		return -EINVAL;
	if (vg_json_to_kv(json_object_get(root, "annotations"), &ret->labels) ==
	    -ENOMEM)
		r = -ENOMEM;
	rp = vg_json_str(json_object_get(root, "root"), "path");
	if (rp && *rp)
		r |= vg_set_str(&ret->rootfs, rp);
	json_decref(root);
	return r ? -ENOMEM : 0;
}

/* The bundle @dir's config.json (a host-root path) into @ret; @what
 * names it in a note. Returns 0, or -1 when it could not be read or
 * parsed (noted in @ret). */
static int read_bundle_config(int root_fd, const char *dir, const char *what,
			      struct vg_container_meta *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[600];
	size_t len;
	bool cut = false;
	int r;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	r = vg_read_state_at(root_fd, path, VG_STATE_FILE_MAX, &buf, &len, &cut);
	if (r < 0 || cut) {
		vg_meta_missing(ret, r == -ENOENT, "%s: %s", what,
				cut ? "too large, not read" : vg_strerror(-r));
		return -1;
	}
	if (vg_oci_parse_config(buf, len, ret) < 0)
		return -1;
	return vg_set_str(&ret->source, what) < 0 ? -1 : 0;
}

/* When the bundle @dir's file @name was written; 0 unknown. */
static uint64_t stat_mtime_ns(int root_fd, const char *dir, const char *name)
{
	_cleanup_close_ int fd = -1;
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = vg_open_in_root(root_fd, path, O_PATH);
	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	return (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
	       (uint64_t)st.st_mtim.tv_nsec;
}

/* Whether @dir under the host root is a directory. */
static bool is_dir_in_root(int root_fd, const char *dir)
{
	_cleanup_close_ int fd = vg_open_in_root(root_fd, dir,
						 O_PATH | O_DIRECTORY);

	return fd >= 0;
}

/* The task bundle of @ns/@id: its host-root path into @path. */
static int find_bundle(int root_fd, const char *ns, const char *id,
		       char *path, size_t pathsz)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(task_dirs); i++) {
		snprintf(path, pathsz, "%s/%s/%s", task_dirs[i], ns, id);
		if (is_dir_in_root(root_fd, path))
			return 0;
	}
	return -ENOENT;
}

void vg_containerd_read(const struct vg_runtime_cfg *cfg, int root_fd,
			struct vg_container_meta *ret)
{
	const char *ns = ret->ctr_namespace ? ret->ctr_namespace : "k8s.io";
	char bundle[512], path[600];

	(void)cfg;
	if (!ret->ctr_namespace)
		vg_set_str(&ret->ctr_namespace, ns);
	if (find_bundle(root_fd, ns, ret->id, bundle, sizeof(bundle)) < 0) {
		vg_meta_missing(ret, true, "no containerd task bundle for %s/%s",
				ns, ret->id);
		return;
	}
	read_bundle_config(root_fd, bundle, "bundle config.json", ret);
	/* A relative root is inside the bundle. */
	if (ret->rootfs && ret->rootfs[0] != '/') {
		char abs[1024];

		snprintf(abs, sizeof(abs), "/%s/%s", bundle, ret->rootfs);
		vg_set_str(&ret->rootfs, abs);
	}
	if (ret->rootfs) {
		free(ret->upperdir);
		ret->upperdir = vg_overlay_upper_of(root_fd, ret->rootfs);
	}
	ret->created_ns = stat_mtime_ns(root_fd, bundle, "config.json");
	ret->started_ns = stat_mtime_ns(root_fd, bundle, "init.pid");
	snprintf(path, sizeof(path), "%s/init.pid", bundle);
	vg_read_init_pid(root_fd, path, ret);

	/* What the kubelet's CRI plugin wrote, when it made the container. */
	const char *cname = vg_kv_get(&ret->labels,
				      "io.kubernetes.cri.container-name");
	const char *img = vg_kv_get(&ret->labels, "io.kubernetes.cri.image-name");

	vg_set_str(&ret->name, cname ? cname : ret->id);
	if (img)
		vg_set_str(&ret->image, img);
	else
		/* plain containerd keeps the image in its metadata
		 * database only */
		vg_meta_missing(ret, false, "image: not in the task bundle");
}

/* ------------------------------------------------------------------ CRI-O */

/* CRI-O's annotations name the container, its image and its root, and
 * carry the kubelet's container labels as one JSON string. */
int vg_crio_apply_annotations(struct vg_container_meta *ret)
{
	const char *labels = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.Labels");
	const char *name, *mp, *img, *ref, *created;
	int r = 0;

	if (labels) {
		struct vg_container_meta tmp = { 0 };
		json_t *j = vg_json_parse(labels, strlen(labels), &tmp,
					  "io.kubernetes.cri-o.Labels");

		if (j) {
			struct vg_kv kv = VG_KV_INIT;

			if (vg_json_to_kv(j, &kv) == -ENOMEM)
				r = -ENOMEM;
			/* annotations first, labels on top: merge */
			for (size_t i = 0; i < kv.n && !r; i++)
				if (vg_kv_set(&ret->labels, kv.pairs[i].key,
					      kv.pairs[i].value) == -ENOMEM)
					r = -ENOMEM;
			vg_kv_release(&kv);
			json_decref(j);
		} else {
			vg_meta_missing(ret, false, "%s", tmp.missing);
		}
		vg_container_meta_release(&tmp);
	}
	/* looked up after the merge, which may move the map's storage */
	name = vg_kv_get(&ret->labels, "io.kubernetes.container.name");
	mp = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.MountPoint");
	img = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.ImageName");
	ref = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.ImageRef");
	created = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.Created");
	if (!name)
		name = vg_kv_get(&ret->labels, "io.kubernetes.cri-o.ContainerName");
	if (name)
		r |= vg_set_str(&ret->name, name);
	if (img)
		r |= vg_set_str(&ret->image, img);
	if (ref)
		r |= vg_set_str(&ret->image_id, ref);
	if (mp && *mp == '/')
		r |= vg_set_str(&ret->rootfs, mp);
	if (created)
		ret->created_ns = vg_parse_rfc3339(created);
	return r ? -ENOMEM : 0;
}

void vg_crio_read(const struct vg_runtime_cfg *cfg, int root_fd,
		  struct vg_container_meta *ret)
{
	const char *roots[] = { cfg->storage_run, cfg->storage_root };
	char dir[512], path[600];
	bool found = false;

	for (size_t i = 0; i < VG_ARRAY_SIZE(roots) && !found; i++) {
		_cleanup_close_ int fd = -1;

		snprintf(dir, sizeof(dir), "%s/overlay-containers/%s/userdata",
			 roots[i], ret->id);
		snprintf(path, sizeof(path), "%s/config.json", dir);
		fd = vg_open_in_root(root_fd, path, O_PATH);
		found = fd >= 0;
	}
	if (!found) {
		vg_meta_missing(ret, true, "no CRI-O config.json for %s", ret->id);
		return;
	}
	if (read_bundle_config(root_fd, dir, "CRI-O config.json", ret) < 0)
		return;
	/* The bundle's root.path is the merged dir too; the annotation, when
	 * present, is CRI-O's own word for it. */
	vg_crio_apply_annotations(ret);
	if (ret->rootfs)
		ret->upperdir = vg_overlay_upper_of(root_fd, ret->rootfs);
	if (!ret->upperdir && ret->rootfs) {
		/* containers/storage: <layer>/merged beside <layer>/diff */
		char *d = strdup(ret->rootfs), upper[1024];

		if (d && vg_endswith_n(d, strlen(d), "/merged")) {
			snprintf(upper, sizeof(upper), "%s", dirname(d));
			strncat(upper, "/diff", sizeof(upper) - strlen(upper) - 1);
			vg_set_str(&ret->upperdir, upper);
		}
		free(d);
	}
	snprintf(path, sizeof(path), "%s/pidfile", dir);
	vg_read_init_pid(root_fd, path, ret);
	if (!ret->name)
		vg_meta_missing(ret, false, "container name not in annotations");
	if (!ret->image)
		vg_meta_missing(ret, false, "image not in annotations");
}
