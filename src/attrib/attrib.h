/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ATTRIB_ATTRIB_H
#define VG_ATTRIB_ATTRIB_H

#include <stdbool.h>
#include <stdint.h>

#include "attrib/meta.h"
#include "cgroup/cgroup.h"
#include "k8s/kubelet.h"
#include "k8s/pod.h"
#include "runtime/runtime.h"
#include "proc/proc.h"
#include "vigil/vigil.h"

#define VG_EXEC_ID_MAX 64
#define VG_CG_CACHE_SIZE 256

/* What a cgroup file resolved to, keyed by its whole text: every process
 * of one container shares it, so --all resolves each container once. */
struct vg_cg_cache_entry {
	char *text;
	uint64_t at_ns;     /* CLOCK_MONOTONIC when resolved */
	uint64_t cgroup_id; /* 0 when unknown */
	struct vg_cgroup_match resolved;
	struct vg_meta_entry *meta; /* a reference, for the fast path */
	bool fast_ready; /* @meta is filled in (NULL: no container) */
};

/* cgroup id → attribution, for events that carry the id (open
 * addressing, 8 probes) */
#define VG_CGID_TABLE 8192
struct vg_cgid_entry {
	uint64_t cgid; /* 0: free */
	char *path;    /* its v2 path, as the kernel named it */
	struct vg_cgroup_match match;
	struct vg_meta_entry *meta; /* a reference */
};

/* The fast path reads a pid's cgroup file into a stack buffer. */
#define VG_CG_FAST_MAX 8192

/* Cached answers are reused this long: a cgroup recreated under the same
 * path, or a task directory written late, is seen after at most this. */
#define VG_CG_CACHE_TTL_NS (2ull * 1000000000ull)

struct vigil_ctx {
	char *host_root;
	int root_fd;
	int proc_fd;
	int cg2_fd; /* the cgroup2 mount under the host root, or -1 */
	char boot_id[40];
	bool have_boot_id;
	uint64_t btime; /* boot time, seconds since the epoch */
	bool have_btime;
	long clk_tck;
	bool own_proc;  /* proc/ is our own: our pids and pidfds name its
			 * processes */
	bool use_pidfd; /* own_proc, and the kernel has PIDFD_GET_INFO */
	bool brief;     /* read no exe, cwd or namespaces */
	struct vg_cg_cache_entry cache[VG_CG_CACHE_SIZE];
	/* container and pod metadata */
	bool no_meta;
	struct vg_runtime_cfg rt_cfg; /* strings owned, see cfg_strings */
	char *cfg_strings[4];
	struct vg_kubelet *kubelet;   /* NULL: not configured */
	struct vg_meta_cache meta;
	struct vg_meta_worker *meta_worker; /* NULL: reads are synchronous */
	/* VG_CGID_TABLE entries, allocated on the first lookup by id: a
	 * context that never looks one up (each `pid --all` worker) does not
	 * fault in, or clear, half a megabyte */
	struct vg_cgid_entry *cgid;
	size_t cgid_used;
	uint64_t cgid_evictions;
	/* lookups answered by the id table, and those that attributed the
	 * cgroup afresh; the same of the cgroup-file cache */
	uint64_t cgid_hits, cgid_misses;
	uint64_t cg_cache_hits, cg_cache_misses;
	/* claims verified by this instead of the host (a replay says what
	 * the live sensor found); NULL: the host's records */
	vg_verify_fn verify_fn;
	void *verify_arg;
	/* what a live sensor saw of process @pid: the cgroup of its last
	 * exec or fork and its start (boot ns); for a claim whose recorded
	 * init is already gone from /proc. Returns 0 or -ENOENT. */
	int (*witness_fn)(void *arg, int pid, uint64_t *ret_cgid,
			  uint64_t *ret_start_boot_ns);
	void *witness_arg;
	/* the cgroup being attributed by id right now (its path is not in
	 * the table yet) */
	uint64_t attributing_cgid;
	const char *attributing_path;
};

/* The v2 path the cgroup id table holds for @cgid, or NULL. Borrowed. */
const char *vg_attrib_cgid_path(struct vigil_ctx *ctx, uint64_t cgid);

/* Settings beyond the host root; NULL/0 members keep the default. Paths
 * are host paths ("/var/lib/docker"), read under the host root. */
struct vg_attrib_opts {
	bool no_meta; /* attribution only: read no runtime state */
	const char *docker_root;
	const char *docker_socket; /* "" = never ask the Engine API */
	const char *storage_root;
	const char *storage_run;
	uint32_t api_timeout_ms;
	struct vg_kubelet_cfg kubelet; /* .url NULL = no kubelet */
};

/* Returns 0, -ENOMEM, or -EINVAL (a path with "..", a bad URL). */
int vg_attrib_configure(struct vigil_ctx *ctx, const struct vg_attrib_opts *o);

struct vigil_identity {
	enum vigil_status status;
	char message[512];
	bool have_proc; /* proc facts below are valid */
	struct vg_proc proc;
	struct vg_cgroup_info cg;
	bool have_cg;
	struct vg_cgroup_match attr; /* the resolved attribution */
	uint64_t cgroup_id;
	char exec_id[VG_EXEC_ID_MAX];
	uint64_t start_boot_ns;
	uint64_t start_wall_ns; /* 0 when btime is unknown */
	struct vg_meta_entry *meta; /* a container's metadata (a reference) */
	struct vg_pod_meta pod;     /* the pod of a non-container process
				     * (pod cgroup, monitor) */
	/* a socket peer: how it was taken, and what it connected with */
	const char *peer_method; /* "pidfd", "peercred"; NULL: not a peer */
	int peer_pid;            /* SO_PEERCRED's pid (0: not visible) */
	uint32_t peer_uid, peer_gid; /* effective ids at connect */
};

/* Attribution alone: no process facts. @meta is borrowed from the
 * context's cache: valid until the next call on the context. */
struct vg_attribution {
	struct vg_cgroup_match match;
	uint64_t cgroup_id;
	struct vg_meta_entry *meta; /* NULL: not a known container */
};

/* By cgroup v2 id (an event's bpf_get_current_cgroup_id()). Warm: one
 * hash probe. Cold: the path from the kernel (open_by_handle_at, needs
 * CAP_DAC_READ_SEARCH), then as for a pid. Returns 0, -ENOENT (no such
 * cgroup), -EPERM, -EBADMSG, or -ENOMEM. */
int vg_attrib_cgroup_id(struct vigil_ctx *ctx, uint64_t cgid,
			struct vg_attribution *ret);

/* As vg_attrib_cgroup_id(), for a cgroup whose v2 path is known (the
 * kernel said it when the cgroup was made, or a recording did): no look
 * up by handle. @ret may be NULL. */
int vg_attrib_cgroup_learn(struct vigil_ctx *ctx, uint64_t cgid,
			   const char *path, struct vg_attribution *ret);

/* By one read of /proc/<pid>/cgroup and the caches. Returns 0, -ESRCH,
 * -EDEADLK (the lines name two containers or pods: never a pick),
 * -EBADMSG, -EFBIG, or -ENOMEM. */
int vg_attrib_pid_cgroup(struct vigil_ctx *ctx, int pid,
			 struct vg_attribution *ret);

/* The pod answer for @id: its container's, or its own. */
const struct vg_pod_meta *vg_identity_pod(const struct vigil_identity *id);

/* Every pid under the context's proc/, in ascending order. Returns 0 and
 * an array the caller frees with free() (NULL when there are none), or
 * -errno. */
int vg_attrib_list_pids(struct vigil_ctx *ctx, int **ret_pids, size_t *ret_n);

#endif
