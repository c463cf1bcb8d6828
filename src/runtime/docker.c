/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * docker: <docker root>/containers/<id>/config.v2.json is the daemon's own
 * record of a container, written before the container starts. The root
 * filesystem is the overlay2 layer named by the layer store's mount-id.
 * The Engine API (GET /containers/<id>/json on the Unix socket) is asked
 * only when those files are missing or do not say.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/json.h"
#include "runtime/runtime.h"
#include "base/curl.h"
#include "base/util.h"

static const char *docker_state(const json_t *st)
{
	const char *status = vg_json_str(st, "Status"); /* the API's form */

	if (status)
		return status;
	if (json_is_true(json_object_get(st, "Dead")))
		return "dead";
	if (json_is_true(json_object_get(st, "Paused")))
		return "paused";
	if (json_is_true(json_object_get(st, "Restarting")))
		return "restarting";
	if (json_is_true(json_object_get(st, "Running")))
		return "running";
	if (json_is_true(json_object_get(st, "RemovalInProgress")))
		return "removing";
	if (vg_parse_rfc3339(vg_json_str(st, "StartedAt")) == 0)
		return "created";
	return "exited";
}

/* HostConfig's Privileged: the API's inspect answer holds HostConfig,
 * the daemon's files keep it apart in hostconfig.json. */
static void docker_privileged(const json_t *hc, struct vg_container_meta *ret)
{
	const json_t *p = json_object_get(hc, "Privileged");

	if (!json_is_boolean(p))
		return;
	ret->privileged_known = true;
	ret->privileged = json_is_true(p);
}

/* config.v2.json and the API's inspect answer share these fields. */
static int docker_apply(const json_t *root, struct vg_container_meta *ret)
{
	const json_t *config = json_object_get(root, "Config");
	const json_t *state = json_object_get(root, "State");
	const json_t *gd = json_object_get(json_object_get(root, "GraphDriver"),
					   "Data");
	const char *name = vg_json_str(root, "Name");
	const json_t *pid;
	int r = 0;

	if (name && *name == '/')
		name++;
	if (name && *name)
		r |= vg_set_str(&ret->name, name);
	if (vg_json_str(config, "Image"))
		r |= vg_set_str(&ret->image, vg_json_str(config, "Image"));
	if (vg_json_str(root, "Image"))
		r |= vg_set_str(&ret->image_id, vg_json_str(root, "Image"));
	if (vg_json_to_kv(json_object_get(config, "Labels"), &ret->labels) ==
	    -ENOMEM)
		r = -ENOMEM;
	docker_privileged(json_object_get(root, "HostConfig"), ret);
	ret->created_ns = vg_parse_rfc3339(vg_json_str(root, "Created"));
	if (json_is_object(state)) {
		ret->started_ns = vg_parse_rfc3339(vg_json_str(state, "StartedAt"));
		pid = json_object_get(state, "Pid");
		if (json_is_integer(pid) && json_integer_value(pid) > 0 &&
		    json_integer_value(pid) <= 0x3fffffff)
			ret->init_pid = (int)json_integer_value(pid);
		r |= vg_set_str(&ret->state, docker_state(state));
	}
	if (!ret->rootfs && vg_json_str(gd, "MergedDir"))
		r |= vg_set_str(&ret->rootfs, vg_json_str(gd, "MergedDir"));
	if (!ret->upperdir && vg_json_str(gd, "UpperDir"))
		r |= vg_set_str(&ret->upperdir, vg_json_str(gd, "UpperDir"));
	return r ? -ENOMEM : 0;
}

int vg_docker_parse_config(const char *buf, size_t len,
			   struct vg_container_meta *ret)
{
	json_t *root = vg_json_parse(buf, len, ret, "config.v2.json");
	int r;

	if (!root)
		return -EINVAL;
	r = docker_apply(root, ret);
	json_decref(root);
	return r;
}

/* hostconfig.json, beside config.v2.json: what `docker run` was told
 * about the host (privileges). Missing or unreadable, it leaves those
 * unknown and the rest of the metadata whole. */
static void docker_hostconfig(const struct vg_runtime_cfg *cfg, int root_fd,
			      struct vg_container_meta *ret)
{
	struct vg_container_meta tmp = { 0 };
	char path[512];
	json_t *hc;

	snprintf(path, sizeof(path), "%s/containers/%s/hostconfig.json",
		 cfg->docker_root, ret->id);
	hc = vg_json_load_at(root_fd, path, VG_STATE_FILE_MAX, &tmp, "hostconfig.json");
	docker_privileged(hc, ret);
	json_decref(hc);
	vg_container_meta_release(&tmp);
}

/* The overlay2 layer of the container's read-write layer. */
static void docker_layer(const struct vg_runtime_cfg *cfg, int root_fd,
			 const char *driver, struct vg_container_meta *ret)
{
	char path[512], mount_id[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/image/%s/layerdb/mounts/%s/mount-id",
		 cfg->docker_root, driver, ret->id);
	n = vg_read_state_small_at(root_fd, path, mount_id, sizeof(mount_id));
	if (n <= 0)
		return;
	mount_id[strcspn(mount_id, "\n")] = '\0';
	/* It names a directory: it must be one path component. */
	if (!*mount_id || strchr(mount_id, '/') || !strcmp(mount_id, "..") ||
	    !strcmp(mount_id, "."))
		return;
	snprintf(path, sizeof(path), "/%s/%s/%s/merged", cfg->docker_root,
		 driver, mount_id);
	vg_set_str(&ret->rootfs, path);
	snprintf(path, sizeof(path), "/%s/%s/%s/diff", cfg->docker_root,
		 driver, mount_id);
	vg_set_str(&ret->upperdir, path);
}

struct body {
	char *buf;
	size_t len, max;
	bool too_big;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	char *nb;

	if (n > b->max - b->len) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	nb = realloc(b->buf, b->len + n + 1);
	if (!nb)
		return 0;
	b->buf = nb;
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static void docker_api(const struct vg_runtime_cfg *cfg, int root_fd,
		       struct vg_container_meta *ret)
{
	const struct vg_curl *cu;
	char sock[64], url[160], errbuf[CURL_ERROR_SIZE] = "";
	struct body b = { .max = VG_STATE_FILE_MAX };
	_cleanup_close_ int sock_fd = -1;
	struct stat st;
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (!cfg->docker_socket)
		return;
	/* The socket resolved inside the host root, and connected to
	 * through our handle on it: no symlink on the way leads outside the
	 * host root, and sun_path stays short. */
	sock_fd = vg_open_in_root(root_fd, cfg->docker_socket, O_PATH);
	if (sock_fd < 0 || fstat(sock_fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	snprintf(sock, sizeof(sock), "/proc/self/fd/%d", sock_fd);
	snprintf(url, sizeof(url), "http://docker/containers/%s/json", ret->id);
	if (!(cu = vg_curl())) {
		vg_meta_missing(ret, false, "Docker API: %s", vg_curl_error());
		return;
	}
	c = cu->easy_init();
	if (!c) {
		vg_meta_missing(ret, false, "Docker API: out of memory");
		return;
	}
	cu->easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->api_timeout_ms);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->api_timeout_ms);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = cu->easy_perform(c);
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cu->easy_cleanup(c);
	if (rc != CURLE_OK) {
		vg_meta_missing(ret, false, "Docker API: %s",
				b.too_big ? "answer too large"
				: *errbuf ? errbuf : cu->easy_strerror(rc));
	} else if (status != 200) {
		vg_meta_missing(ret, status == 404, "Docker API: HTTP %ld", status);
	} else {
		json_t *root = vg_json_parse(b.buf, b.len, ret, "Docker API answer");

		if (root) {
			docker_apply(root, ret);
			vg_set_str(&ret->source, "docker-api");
			json_decref(root);
		}
	}
	free(b.buf);
}

void vg_docker_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    struct vg_container_meta *ret)
{
	char path[512];
	json_t *root;

	snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json",
		 cfg->docker_root, ret->id);
	root = vg_json_load_at(root_fd, path, VG_STATE_FILE_MAX, ret,
			       "config.v2.json");
	if (root) {
		const char *driver = vg_json_str(root, "Driver");

		if (docker_apply(root, ret) == 0)
			vg_set_str(&ret->source, "config.v2.json");
		if (driver && !strchr(driver, '/') && strcmp(driver, "..") &&
		    strcmp(driver, "."))
			docker_layer(cfg, root_fd, driver, ret);
		json_decref(root);
		docker_hostconfig(cfg, root_fd, ret);
	}
	if (!ret->rootfs) {
		/* The containerd image store keeps no overlay2 layer: the
		 * task's bundle names the root instead. */
		struct vg_container_meta tmp = { 0 };

		snprintf(path, sizeof(path),
			 "run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/%s/config.json",
			 ret->id);
		json_t *oci = vg_json_load_at(root_fd, path, VG_STATE_FILE_MAX,
					      &tmp, "bundle");
		const char *rp = vg_json_str(json_object_get(oci, "root"), "path");

		if (rp && *rp == '/') {
			vg_set_str(&ret->rootfs, rp);
			ret->upperdir = vg_overlay_upper_of(root_fd, rp);
		}
		json_decref(oci);
		vg_container_meta_release(&tmp);
	}
	if (!root || !ret->rootfs) {
		bool had_files = root != NULL;
		struct vg_container_meta api = { 0 };

		/* Ask the daemon; its answer replaces the note only when it
		 * actually filled the gap. */
		memcpy(api.id, ret->id, sizeof(api.id));
		docker_api(cfg, root_fd, &api);
		if (api.source && !had_files) {
			/* the daemon's answer stands in for the files; a root
			 * the bundle named stays */
			if (ret->rootfs) {
				free(api.rootfs);
				free(api.upperdir);
				api.rootfs = VG_TAKE_PTR(ret->rootfs);
				api.upperdir = VG_TAKE_PTR(ret->upperdir);
			}
			api.runtime = ret->runtime;
			vg_container_meta_release(ret);
			*ret = api;
			api = (struct vg_container_meta){ 0 };
		} else if (api.source) {
			if (!ret->rootfs && api.rootfs) {
				vg_set_str(&ret->rootfs, api.rootfs);
				vg_set_str(&ret->upperdir, api.upperdir);
			}
		} else if (api.incomplete) {
			/* why the daemon did not help */
			vg_meta_missing(ret, api.retry, "%s", api.missing);
		}
		vg_container_meta_release(&api);
	}
	if (!ret->rootfs)
		vg_meta_missing(ret, false, "root filesystem unknown");
}
