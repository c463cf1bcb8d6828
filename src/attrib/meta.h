/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ATTRIB_META_H
#define VG_ATTRIB_META_H

#include <stdbool.h>
#include <stdint.h>

#include "attrib/verify.h"
#include "base/hist.h"
#include "cgroup/cgroup.h"
#include "k8s/pod.h"
#include "runtime/runtime.h"

/*
 * Container metadata by claim: container id and the cgroup that claims
 * it (vg_claim_key()), so that a forged cgroup of the same name never
 * shares the real container's entry. Each claim is verified against its
 * runtime's record (attrib/verify.h) at its first sighting, and again
 * every VG_VERIFY_RETRY_NS while its runtime has not recorded it yet,
 * until VG_META_RETRY_WINDOW_NS. Only a verified claim has its runtime's
 * metadata read, at its first sighting, kept while its cgroup exists. State not written yet (a
 * container being created) is read again, at most every
 * VG_META_RETRY_NS, until VG_META_RETRY_WINDOW_NS after the first
 * sighting; after that the answer stays incomplete, with its reason.
 */
#define VG_META_RETRY_NS        (200ull * 1000000ull)
#define VG_VERIFY_RETRY_NS      (20ull * 1000000ull)
#define VG_META_RETRY_WINDOW_NS (10ull * 1000000000ull)
#define VG_META_SWEEP_NS        (1000ull * 1000000ull)
#define VG_META_MAX             4096
#define VG_META_BUCKETS         1024

struct vg_meta_entry {
	int refs;
	struct vg_meta_entry *next; /* hash chain */
	struct vg_container_meta meta;
	struct vg_pod_meta pod;
	uint64_t first_seen_ns, read_ns;
	/* the claim, and what its verification found */
	char *key;
	enum vg_verify verify;
	char verify_why[512];
	int state_root_pid; /* nested: whose root holds its runtime's state */
	int init_pid;       /* the verified init, a host pid */
	uint64_t verify_ns;
	/* the runtime's metadata was read (or is being): only of a verified
	 * claim, and not with no_meta */
	bool has_meta;
	/* bumped whenever what the entry says changes */
	uint32_t gen;
	bool claim_recorded; /* its verdict is in the recording (engine's) */
	/* the container's cgroup, to notice it go: relative to the cgroup2
	 * mount (v2) or to the host root (a v1 hierarchy dir) */
	char *cg_path;
	bool cg_v2;
	bool dropped; /* out of the cache; held by identities only */
	bool pending; /* a read is with the worker (vg_meta_worker_start) */
};

struct vg_meta_cache {
	struct vg_meta_entry *buckets[VG_META_BUCKETS];
	size_t n;
	uint64_t last_sweep_ns;
	uint64_t reads, hits, drops, evictions; /* counters */
	uint64_t misses; /* a claim seen for the first time: an entry made */
	/* how long each read of a runtime's metadata (and pod) took, in
	 * line or on the worker: the worker adds to it too */
	struct vg_hist read_time;
	/* claims verified, claims that failed, verifications tried */
	uint64_t verified, unverified, verifications;
};

struct vg_meta_entry *vg_meta_ref(struct vg_meta_entry *e);
void vg_meta_unref(struct vg_meta_entry *e);

struct vigil_ctx;

/*
 * The entry of the claim a process with cgroup file @cg makes to the
 * container @m names (role container): verified, and its metadata read
 * when it is, on a miss. Returns a reference (release with
 * vg_meta_unref()), or NULL on -ENOMEM.
 */
struct vg_meta_entry *vg_meta_get(struct vigil_ctx *ctx,
				  const struct vg_cgroup_match *m,
				  const struct vg_cgroup_info *cg);

/* The cached entry for @id whose claim is verified (else any), without
 * reading; NULL if none. Borrowed. */
struct vg_meta_entry *vg_meta_peek(struct vigil_ctx *ctx, const char *id);
/* Is the entry's claim verified by a record its claimant cannot write? */
static inline bool vg_meta_trusted(const struct vg_meta_entry *e)
{
	return e && vg_verify_trusted(e->verify);
}

/* For a cached answer: verify @e's claim again when it is pending and
 * due, and read its metadata once it is verified. Returns 0 or -ENOMEM. */
int vg_meta_recheck(struct vigil_ctx *ctx, struct vg_meta_entry *e,
		    const struct vg_cgroup_match *m);
/* Drop entries whose cgroup is gone. Returns how many were dropped. */
size_t vg_meta_sweep(struct vigil_ctx *ctx);

void vg_meta_cache_release(struct vg_meta_cache *c);

/*
 * Reading in the background. Once started, vg_meta_get() never reads
 * itself: a new container gets an entry at once, incomplete and marked
 * pending, and its state files and pod are read by a worker thread; so
 * are the re-reads of incomplete entries. The caller applies what the
 * worker has read with vg_meta_worker_collect(), on its own thread: the
 * cache itself is only ever touched there. The kubelet client then
 * belongs to the worker. Stopped (and joined) by vigil_ctx_free().
 */
#define VG_META_WORKER_QUEUE 1024

struct vg_meta_worker_stats {
	uint64_t queued, done, refused; /* refused: the queue was full */
	size_t waiting;                 /* queued, not yet done */
};

/* Returns 0, or -errno (the thread or the eventfd could not be made). */
int vg_meta_worker_start(struct vigil_ctx *ctx);
/* Readable (an eventfd) when reads are done; -1 without a worker. */
int vg_meta_worker_fd(const struct vigil_ctx *ctx);
/* Apply finished reads to the cache. Returns how many entries changed. */
size_t vg_meta_worker_collect(struct vigil_ctx *ctx);
void vg_meta_worker_stats(const struct vigil_ctx *ctx,
			  struct vg_meta_worker_stats *ret);
void vg_meta_worker_stop(struct vigil_ctx *ctx);

#endif
