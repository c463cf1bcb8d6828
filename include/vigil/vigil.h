/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvigil — who is a process: its facts, its container, its pod.
 *
 * Identity comes only from what the kernel records (cgroup membership,
 * the exe link, credentials), read under a host root, never from what a
 * process says about itself (comm, argv, environment, mountinfo).
 *
 * Conventions: functions return 0 or a negative errno; output parameters
 * are named ret and are left untouched on failure; every *_free() accepts
 * NULL. The library never prints and never exits.
 */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_VERSION_MAJOR 0
#define VIGIL_VERSION_MINOR 1
#define VIGIL_VERSION_PATCH 0

struct vigil_ctx;
struct vigil_identity;

/*
 * A context reads everything under @host_root ("/" when NULL or empty;
 * "/host" in a container with the host's / mounted there). Returns 0,
 * -ENOENT / -ENOTDIR when the root or its proc/ is missing, or -errno.
 * The caller frees *ret with vigil_ctx_free().
 */
int vigil_ctx_new(const char *host_root, struct vigil_ctx **ret);
void vigil_ctx_free(struct vigil_ctx *ctx);

/* Why an identity is not (fully) known. */
enum vigil_status {
	VIGIL_OK = 0,
	VIGIL_NOT_FOUND,       /* no such process, or it exited while read */
	VIGIL_CONFLICT,        /* its cgroups name two containers or pods */
	VIGIL_BAD_PROC_FILE,   /* a /proc file is not what the kernel writes */
	VIGIL_NO_CGROUP,       /* its cgroup file could not be read */
	VIGIL_ERROR,           /* any other failure; see the message */
};

/* Which side of a container boundary a process is on. */
enum vigil_role {
	VIGIL_ROLE_HOST = 0,   /* in no container */
	VIGIL_ROLE_CONTAINER,  /* a process of the container */
	VIGIL_ROLE_MONITOR,    /* the runtime's monitor (conmon) of it */
	VIGIL_ROLE_POD,        /* in a pod, in none of its containers */
};

/*
 * Identify process @pid. Returns 0 with *ret set whenever an answer can be
 * given — including "not found" and "conflict", which the identity's
 * status reports with a message — or -ENOMEM / -EINVAL. The caller frees
 * *ret with vigil_identity_free().
 */
int vigil_identify_pid(struct vigil_ctx *ctx, pid_t pid,
		       struct vigil_identity **ret);
void vigil_identity_free(struct vigil_identity *id);

enum vigil_status vigil_identity_status(const struct vigil_identity *id);
/* A sentence saying what went wrong; "" when the status is VIGIL_OK. */
const char *vigil_identity_message(const struct vigil_identity *id);
/* "ok", "not_found", "conflict", "bad_proc_file", "no_cgroup", "error" */
const char *vigil_status_name(enum vigil_status st);

pid_t vigil_identity_pid(const struct vigil_identity *id);
/* Stable across pid reuse: derived from (boot id, pid, start time). */
const char *vigil_identity_exec_id(const struct vigil_identity *id);
uid_t vigil_identity_uid(const struct vigil_identity *id);
gid_t vigil_identity_gid(const struct vigil_identity *id);
/* The kernel's exe link, or NULL when it could not be read. */
const char *vigil_identity_exe(const struct vigil_identity *id);

enum vigil_role vigil_identity_role(const struct vigil_identity *id);
/* "docker", "containerd", "cri-o", "podman", "unknown", or "none". */
const char *vigil_identity_runtime(const struct vigil_identity *id);
/* The full container id; "host" for a process in no container. */
const char *vigil_identity_container_id(const struct vigil_identity *id);
/* The pod uid (dashed), or NULL when not in a pod. */
const char *vigil_identity_pod_uid(const struct vigil_identity *id);
/* The cgroup v2 id (what bpf_get_current_cgroup_id() returns), 0 if none. */
uint64_t vigil_identity_cgroup_id(const struct vigil_identity *id);

/*
 * What the container's runtime recorded, or NULL when it did not say (or
 * the process is in no container). Valid as long as @id.
 */
const char *vigil_identity_container_name(const struct vigil_identity *id);
const char *vigil_identity_image(const struct vigil_identity *id);
/* One label (or, for OCI bundles, annotation) of the container. */
const char *vigil_identity_container_label(const struct vigil_identity *id,
					   const char *key);

/* The pod's namespace and name, or NULL. Check where they came from:
 * "kubelet" (verified against the cgroup's pod uid), "runtime-labels"
 * (the container's claim, unverified), "cgroup" (the uid alone) or
 * "none". */
const char *vigil_identity_pod_namespace(const struct vigil_identity *id);
const char *vigil_identity_pod_name(const struct vigil_identity *id);
const char *vigil_identity_pod_source(const struct vigil_identity *id);

/*
 * The identity as one line of JSON (no newline), in the field names vigil
 * prints. Returns a string the caller frees with free(), or NULL on -ENOMEM.
 */
char *vigil_identity_to_json(const struct vigil_identity *id);

#ifdef __cplusplus
}
#endif

#endif
