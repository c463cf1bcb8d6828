/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * podman: containers/storage's containers.json names each container's
 * layer, image and names; libpod's own database (bbolt) holds the config
 * podman was given — labels included — and the container's state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/bolt.h"
#include "runtime/json.h"
#include "runtime/runtime.h"
#include "base/util.h"

/* libpod's ContainerState.State values. */
static const char *const libpod_states[] = {
	"unknown", "configured", "created", "running", "stopped",
	"paused",  "exited",     "removing", "stopping",
};

/* One libpod container config (its "config" key in the database). */
int vg_podman_parse_config(const char *buf, size_t len,
			   struct vg_container_meta *ret)
{
	json_t *root = vg_json_parse(buf, len, ret, "libpod config");
	const char *s;
	int r = 0;

	if (!root)
		return -EINVAL;
	if ((s = vg_json_str(root, "name")))
		r |= vg_set_str(&ret->name, s);
	/* the reference as the user wrote it; rootfsImageName is what it
	 * resolved to */
	if (((s = vg_json_str(root, "RawImageName")) && *s) ||
	    ((s = vg_json_str(root, "rootfsImageName")) && *s))
		r |= vg_set_str(&ret->image, s);
	if ((s = vg_json_str(root, "rootfsImageID")) && *s && !ret->image_id)
		r |= vg_set_str(&ret->image_id, s);
	if (vg_json_to_kv(json_object_get(root, "labels"), &ret->labels) ==
	    -ENOMEM)
		r = -ENOMEM;
	if ((s = vg_json_str(root, "createdTime")))
		ret->created_ns = vg_parse_rfc3339(s);
	json_decref(root);
	return r ? -ENOMEM : 0;
}

static void podman_state(const char *buf, size_t len,
			 struct vg_container_meta *ret)
{
	struct vg_container_meta tmp = { 0 };
	json_t *root = vg_json_parse(buf, len, &tmp, "libpod state");
	const json_t *st, *pid;

	vg_container_meta_release(&tmp);
	if (!root)
		return;
	st = json_object_get(root, "state");
	if (json_is_integer(st) && json_integer_value(st) >= 0 &&
	    json_integer_value(st) < (json_int_t)VG_ARRAY_SIZE(libpod_states))
		vg_set_str(&ret->state, libpod_states[json_integer_value(st)]);
	pid = json_object_get(root, "pid");
	if (json_is_integer(pid) && json_integer_value(pid) > 0 &&
	    json_integer_value(pid) <= 0x3fffffff)
		ret->init_pid = (int)json_integer_value(pid);
	ret->started_ns = vg_parse_rfc3339(vg_json_str(root, "startedTime"));
	json_decref(root);
}

/* containers.json: [{"id", "names", "image", "layer", "metadata",
 * "created"}, ...] */
static void podman_storage(const struct vg_runtime_cfg *cfg, int root_fd,
			   struct vg_container_meta *ret)
{
	char path[512];
	json_t *arr, *c, *found = NULL;
	size_t i;
	struct vg_container_meta tmp = { 0 };
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool cut = false;
	json_error_t jerr;
	int r;

	snprintf(path, sizeof(path), "%s/overlay-containers/containers.json",
		 cfg->storage_root);
	r = vg_read_state_at(root_fd, path, VG_LIBPOD_DB_MAX, &buf, &len, &cut);
	if (r < 0 || cut) {
		vg_meta_missing(ret, r == -ENOENT, "containers.json: %s",
				cut ? "too large, not read" : vg_strerror(-r));
		return;
	}
	arr = json_loadb(buf, len, 0, &jerr);
	if (!json_is_array(arr)) {
		vg_meta_missing(ret, false, "containers.json is malformed (%s)",
				arr ? "not an array" : jerr.text);
		json_decref(arr);
		return;
	}
	json_array_foreach(arr, i, c) {
		const char *cid = vg_json_str(c, "id");

		if (cid && !strcmp(cid, ret->id)) {
			found = c;
			break;
		}
	}
	if (!found) {
		vg_meta_missing(ret, true, "not in containers.json yet");
		json_decref(arr);
		return;
	}
	const json_t *names = json_object_get(found, "names");
	const char *layer = vg_json_str(found, "layer");
	const char *md = vg_json_str(found, "metadata");

	if (json_is_array(names) && json_is_string(json_array_get(names, 0)))
		vg_set_str(&ret->name, json_string_value(json_array_get(names, 0)));
	if (vg_json_str(found, "image"))
		vg_set_str(&ret->image_id, vg_json_str(found, "image"));
	ret->created_ns = vg_parse_rfc3339(vg_json_str(found, "created"));
	if (md) {
		json_t *m = vg_json_parse(md, strlen(md), &tmp, "metadata");

		if (vg_json_str(m, "image-name"))
			vg_set_str(&ret->image, vg_json_str(m, "image-name"));
		json_decref(m);
	}
	if (layer && *layer && !strchr(layer, '/') && strcmp(layer, "..") &&
	    strcmp(layer, ".")) {
		snprintf(path, sizeof(path), "/%s/overlay/%s/merged",
			 cfg->storage_root, layer);
		vg_set_str(&ret->rootfs, path);
		snprintf(path, sizeof(path), "/%s/overlay/%s/diff",
			 cfg->storage_root, layer);
		vg_set_str(&ret->upperdir, path);
	}
	vg_set_str(&ret->source, "containers.json");
	vg_container_meta_release(&tmp);
	json_decref(arr);
}

static void podman_libpod(const struct vg_runtime_cfg *cfg, int root_fd,
			  struct vg_container_meta *ret)
{
	const char *bucket[] = { "ctr", ret->id };
	struct vg_bolt *db = NULL;
	char path[512], err[256] = "";
	_cleanup_close_ int fd = -1;
	const void *v;
	size_t vl;
	int r;

	snprintf(path, sizeof(path), "%s/libpod/bolt_state.db", cfg->storage_root);
	fd = vg_open_state_at(root_fd, path, 0, NULL);
	r = fd < 0 ? fd : vg_bolt_open_fd(fd, path, VG_LIBPOD_DB_MAX, &db, err,
					  sizeof(err));
	if (r < 0) {
		vg_meta_missing(ret, false, "libpod database: %s",
				*err ? err : vg_strerror(-r));
		return;
	}
	r = vg_bolt_get(db, bucket, 2, "config", &v, &vl);
	if (r == 0) {
		if (vg_podman_parse_config(v, vl, ret) == 0)
			vg_set_str(&ret->source, "libpod database");
	} else {
		vg_meta_missing(ret, r == -ENOENT,
				"labels: container not in the libpod database%s",
				r == -EINVAL ? " (corrupt)" : "");
	}
	if (vg_bolt_get(db, bucket, 2, "state", &v, &vl) == 0)
		podman_state(v, vl, ret);
	vg_bolt_free(db);
}

void vg_podman_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    struct vg_container_meta *ret)
{
	char path[512];

	podman_storage(cfg, root_fd, ret);
	podman_libpod(cfg, root_fd, ret);
	if (!ret->init_pid || !ret->state) {
		snprintf(path, sizeof(path), "%s/overlay-containers/%s/userdata/pidfile",
			 cfg->storage_run, ret->id);
		vg_read_init_pid(root_fd, path, ret);
	}
}
