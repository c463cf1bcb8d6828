/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RUNTIME_RUNTIME_H
#define VG_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "base/kv.h"

/*
 * Container metadata, read from each runtime's own state files (the
 * Docker Engine API only for what docker's files lack). Everything here
 * is what a runtime wrote about the container: useful, but not identity.
 * Identity is the container id from the kernel's cgroup.
 *
 * Every state file is opened by vg_open_state_at() (base/util.h): paths
 * resolve inside the host root, symlinks included, and only regular
 * files are read, so a FIFO or a device node planted in a state
 * directory neither hangs the metadata worker nor is opened.
 */

/* State files larger than this are refused, not parsed: real ones are
 * kilobytes. */
#define VG_STATE_FILE_MAX (8u << 20)
/* Podman's libpod database holds every container: allow more. */
#define VG_LIBPOD_DB_MAX (64u << 20)
/* Mount tables (a rootfs's upper dir, a process's root mount) larger
 * than this are refused: real ones are kilobytes. */
#define VG_MOUNTINFO_MAX (16u << 20)

struct vg_runtime_cfg {
	/* All paths are relative to the host root, without a leading '/'. */
	const char *docker_root;   /* var/lib/docker */
	const char *docker_socket; /* run/docker.sock; NULL = never ask */
	const char *storage_root;  /* var/lib/containers/storage */
	const char *storage_run;   /* run/containers/storage */
	uint32_t api_timeout_ms;   /* Docker Engine API, whole request */
};

void vg_runtime_cfg_defaults(struct vg_runtime_cfg *cfg);

/* What a runtime's state says of one container. Strings are NULL when
 * the state does not say. */
struct vg_container_meta {
	enum vg_runtime runtime;
	char id[VG_CONTAINER_ID_MAX + 1];
	char *ctr_namespace; /* containerd namespace */
	char *name;
	char *image;    /* the reference as the user wrote it */
	char *image_id; /* digest, "sha256:..." */
	struct vg_kv labels; /* labels, and for OCI bundles the annotations */
	uint64_t created_ns; /* wall clock, ns since the epoch; 0 unknown */
	uint64_t started_ns;
	/* run with every privilege (docker run --privileged), where the
	 * runtime's state says: docker's HostConfig */
	bool privileged_known, privileged;
	int init_pid;        /* 0 unknown */
	char *state;         /* "running", "paused", "exited", ... */
	char *rootfs;        /* merged dir, host path */
	char *upperdir;      /* overlay upper dir, host path */
	char *source;        /* which state was read, e.g. "config.v2.json" */
	/* Incomplete: some of the above could not be read. @missing says
	 * what and why, for the user. @retry: the state may simply not be
	 * written yet (the container is being created). */
	bool incomplete;
	bool retry;
	char missing[256];
};

void vg_container_meta_release(struct vg_container_meta *m);

/* An image reference split as Falco's container.image.* fields show it:
 * [registry[:port]/]path[:tag][@digest]. Each part is @ref's bytes at
 * its offset and length; a length of 0: the reference has none. */
struct vg_image_ref {
	size_t repo_len;             /* from @ref's start */
	size_t tag_off, tag_len;
	size_t digest_off, digest_len; /* after the '@' */
};
void vg_image_ref_split(const char *ref, struct vg_image_ref *ret);

/*
 * Read the metadata of container @m->container_id of runtime @m->runtime
 * from the host root @root_fd. Always fills @ret (at least runtime and
 * id); returns 0, or -ENOMEM. A missing or malformed state file is not an
 * error: @ret is then incomplete and says why.
 */
int vg_runtime_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    const struct vg_cgroup_match *m,
		    struct vg_container_meta *ret);

/*
 * The container's init process as its runtime recorded it: the pid file
 * runc writes at create, before the container's command runs (the OCI
 * bundle's init.pid for containerd and docker's containerd, the
 * userdata pidfile for podman and CRI-O). Only these small files are
 * read, so a caller may ask while the container starts. Returns 0 and
 * the pid, -ENOENT when nothing is recorded (yet), or -errno.
 */
int vg_runtime_init_pid(const struct vg_runtime_cfg *cfg, int root_fd,
			const struct vg_cgroup_match *m, int *ret);
/* The same record, and when it was written (CLOCK_REALTIME ns). With
 * @rootless_uid >= 0, that user's own runtime directory
 * (run/user/UID/...) instead of the root-owned ones. */
int vg_runtime_init_record(const struct vg_runtime_cfg *cfg, int root_fd,
			   const struct vg_cgroup_match *m, int64_t rootless_uid,
			   int *ret, uint64_t *ret_mtime_ns);

/* The per-runtime readers behind vg_runtime_read(); each fills what its
 * files hold into @ret (runtime and id already set). */
void vg_docker_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    struct vg_container_meta *ret);
void vg_containerd_read(const struct vg_runtime_cfg *cfg, int root_fd,
			struct vg_container_meta *ret);
void vg_crio_read(const struct vg_runtime_cfg *cfg, int root_fd,
		  struct vg_container_meta *ret);
void vg_podman_read(const struct vg_runtime_cfg *cfg, int root_fd,
		    struct vg_container_meta *ret);

/* Parsers of one state file's text, for tests and fuzzing: they fill
 * @ret and return 0, or -EINVAL with @ret->missing saying why. */
int vg_docker_parse_config(const char *buf, size_t len,
			   struct vg_container_meta *ret);
int vg_oci_parse_config(const char *buf, size_t len,
			struct vg_container_meta *ret);
int vg_crio_apply_annotations(struct vg_container_meta *ret);
int vg_podman_parse_config(const char *buf, size_t len,
			   struct vg_container_meta *ret);

/* Helpers shared by the readers (runtime/common.c). */
void vg_meta_missing(struct vg_container_meta *m, bool retry,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* RFC 3339 time ("2026-11-24T08:18:56.507318785Z", offsets allowed) to
 * ns since the epoch; 0 for Go's zero time or garbage. */
uint64_t vg_parse_rfc3339(const char *s);
/* The upper dir of the overlay mounted at @mountpoint (a host path), from
 * the host's mount table; NULL when there is none. Caller frees. */
char *vg_overlay_upper_of(int root_fd, const char *mountpoint);
/* The same from mountinfo text @buf (changed in place). */
char *vg_mountinfo_overlay_upper(char *buf, const char *mountpoint);
/* The pid in the pidfile @path (a state file under @root_fd), unless
 * @ret has one already, and a state from whether it lives under the host
 * root's proc, unless @ret has one. */
void vg_read_init_pid(int root_fd, const char *path,
		      struct vg_container_meta *ret);
/* Replace *dst with a copy of @s (NULL clears). Returns 0 or -ENOMEM. */
int vg_set_str(char **dst, const char *s);

#endif
