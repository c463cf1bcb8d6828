/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CGROUP_CGROUP_H
#define VG_CGROUP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * cgroup path → (runtime, container id, pod uid). Pure parsing: no file
 * access, so every layout is testable from a string. Where the path's shape
 * alone cannot name the runtime, the match says so (needs_confirm) and the
 * attribution layer checks the runtime's own state files.
 */

enum vg_runtime {
	VG_RUNTIME_NONE = 0,
	VG_RUNTIME_DOCKER,
	VG_RUNTIME_CONTAINERD,
	VG_RUNTIME_CRIO,
	VG_RUNTIME_PODMAN,
	VG_RUNTIME_UNKNOWN, /* a container id, but the path does not say whose */
};

enum vg_cg_role {
	VG_ROLE_HOST = 0,  /* in no container */
	VG_ROLE_CONTAINER, /* a process of container_id */
	VG_ROLE_MONITOR,   /* a runtime monitor (conmon) serving container_id */
	VG_ROLE_POD,       /* in a pod's cgroup but in none of its containers */
};

#define VG_CONTAINER_ID_MAX 128
#define VG_POD_UID_MAX 64
#define VG_CTR_NS_MAX 76

struct vg_cgroup_match {
	enum vg_runtime runtime;
	enum vg_cg_role role;
	/* Only the path's shape says "container" (containerd's /<ns>/<id>, or
	 * a bare id under a pod): state files must confirm the runtime. */
	bool needs_confirm;
	/* Only the shape says "container" (a hex leaf anywhere, /<ns>/<id>):
	 * with no runtime state behind it, it is a plain cgroup. */
	bool shape_only;
	bool rootless;
	uint32_t rootless_uid;
	char container_id[VG_CONTAINER_ID_MAX + 1];
	char ctr_namespace[VG_CTR_NS_MAX + 1]; /* containerd namespace, if known */
	char pod_uid[VG_POD_UID_MAX + 1];      /* dashed form */
	char pod_qos[16];                      /* guaranteed, burstable, besteffort */
	/* Nested layouts (kind, docker-in-docker): the enclosing container. */
	enum vg_runtime nested_runtime;
	char nested_in[VG_CONTAINER_ID_MAX + 1];
	/* Of the path parsed (one line's, by vg_cgroup_parse_path()): where
	 * the component naming the container ends (the container's own
	 * cgroup is the path up to there), and that of the enclosing
	 * container; 0 when none. */
	uint32_t scope_end, nested_end;
};

/* Parse one cgroup path ("/docker/<id>", "/kubepods.slice/..."). Never
 * fails: a path that names nothing is VG_ROLE_HOST. */
void vg_cgroup_parse_path(const char *path, size_t len,
			  struct vg_cgroup_match *ret);

struct vg_cgroup_line {
	unsigned hierarchy;
	const char *controllers; /* points into vg_cgroup_info.buf */
	const char *path;
};

#define VG_CGROUP_LINES_MAX 64

enum vg_cgroup_error {
	VG_CGROUP_OK = 0,
	VG_CGROUP_EMPTY,      /* no lines at all */
	VG_CGROUP_MALFORMED,  /* a line is not "N:controllers:/path" */
	VG_CGROUP_TOO_MANY,   /* more lines than any kernel has hierarchies */
	VG_CGROUP_CONFLICT,   /* lines name different containers or pods */
};

struct vg_cgroup_info {
	char *buf; /* owned copy of the file, lines split in place */
	size_t n_lines;
	struct vg_cgroup_line lines[VG_CGROUP_LINES_MAX];
	const char *v2_path;  /* the "0::" line's path, or NULL (pure v1) */
	const char *v1_path;  /* a v1 path to use when there is no v2 line */
	struct vg_cgroup_match match; /* combined over all lines */
	enum vg_cgroup_error error;
	char error_msg[384];
};

/*
 * Parse the text of /proc/<pid>/cgroup. Returns 0 when the text was parsed
 * (even when it holds a conflict or a malformed line: see ret->error and
 * ret->error_msg), or -ENOMEM. The caller releases with
 * vg_cgroup_info_release().
 */
int vg_cgroup_parse_file(const char *text, size_t len,
			 struct vg_cgroup_info *ret);
void vg_cgroup_info_release(struct vg_cgroup_info *info);

const char *vg_runtime_name(enum vg_runtime rt);
const char *vg_role_name(enum vg_cg_role role);

#endif
