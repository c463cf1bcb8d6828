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
	/* A socket peer that cannot be identified safely (see
	 * vigil_peer_identify()); these are refusals, never partial answers. */
	VIGIL_PEER_GONE,       /* the process that connected has exited */
	VIGIL_PEER_REUSED,     /* its pid now names another process */
	VIGIL_PEER_HIDDEN,     /* in a pid namespace this process cannot see */
	VIGIL_PEER_CHANGED,    /* its credentials changed after it connected */
	/* Its cgroup claims a container that the container's runtime does
	 * not record there (a cgroup named like a container's, made by
	 * someone else), or has not recorded yet: the container id is the
	 * claim, shown as such; none of the runtime's metadata is. */
	VIGIL_UNVERIFIED,
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
/* "ok", "not_found", "conflict", "bad_proc_file", "no_cgroup", "error",
 * "peer_gone", "peer_reused", "peer_hidden", "peer_changed",
 * "unverified" */
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
/* The full container id; "host" for a process in no container. With
 * status VIGIL_UNVERIFIED, the id its cgroup claims. */
const char *vigil_identity_container_id(const struct vigil_identity *id);
/* How the container claim was verified: "runtime" (the runtime's own
 * record), "enclosing" (a nested container: the enclosing container's
 * record), "user" (rootless: that user's own record, which proves only
 * that user's word), "pending", "failed"; NULL when not in a container. */
const char *vigil_identity_container_verified(const struct vigil_identity *id);
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
 * Identify the process at the other end of @fd, a connected AF_UNIX
 * socket (an accepted one, or one end of a socketpair).
 *
 * Race-free: the peer is taken as a pidfd (SO_PEERPIDFD), its /proc facts
 * are read, and the pidfd then confirms that the same process is still
 * alive, so a pid reused in between is never named. Without SO_PEERPIDFD
 * (Linux < 6.5) the peer's pid comes from SO_PEERCRED and is confirmed by
 * an open /proc/<pid> handle, its start time, its credentials and its
 * holding the other end of the socket.
 *
 * Returns 0 with *ret set whenever an answer can be given; check its
 * status: anything but VIGIL_OK is a refusal (VIGIL_PEER_GONE when the
 * connecting process exited, even if a child holds the socket now;
 * VIGIL_PEER_HIDDEN when its pid is 0 here; VIGIL_PEER_CHANGED when its
 * effective uid or gid differ from those it connected with). Returns
 * -ENOTSOCK, -EAFNOSUPPORT (not AF_UNIX), -ENOTCONN, -ENOMEM or -EINVAL
 * otherwise. The process facts are those of the peer now: one that
 * exec()s another binary after connecting is reported as that binary.
 */
#define VIGIL_PEER_NO_PIDFD (1u << 0) /* take the SO_PEERCRED path */
int vigil_peer_identify(int fd, struct vigil_ctx *ctx, unsigned flags,
			struct vigil_identity **ret);

/* How a peer was taken: "pidfd", "peercred", or NULL for a pid lookup. */
const char *vigil_identity_peer_method(const struct vigil_identity *id);

/*
 * Access policy over identities: allow/deny rules, first match wins, and
 * deny when none matches. The format is in the README ("Peer policy").
 */
struct vigil_policy;

/* Parse @len bytes of policy text; @name labels error messages (a file
 * name). Returns 0, -ENOMEM, or -EINVAL with "NAME:LINE: what" written to
 * @errbuf. The caller frees *ret with vigil_policy_free(). */
int vigil_policy_parse(const char *text, size_t len, const char *name,
		       struct vigil_policy **ret, char *errbuf, size_t errsz);
/* As vigil_policy_parse() on the contents of file @path (at most 1 MiB).
 * Returns -errno, with the reason in @errbuf, when it cannot be read. */
int vigil_policy_load(const char *path, struct vigil_policy **ret,
		      char *errbuf, size_t errsz);
void vigil_policy_free(struct vigil_policy *p);

/*
 * Decide for @id. Returns true to allow. An identity whose status is not
 * VIGIL_OK is always denied. @why (may be NULL) receives the reason: the
 * rule that decided ("rule at line 3: deny user.uid = 0") or why none did.
 */
bool vigil_policy_allows(const struct vigil_policy *p,
			 const struct vigil_identity *id, char *why,
			 size_t whysz);

/*
 * The identity as one line of JSON (no newline), in the field names vigil
 * prints. Returns a string the caller frees with free(), or NULL on -ENOMEM.
 */
char *vigil_identity_to_json(const struct vigil_identity *id);

#ifdef __cplusplus
}
#endif

#endif
