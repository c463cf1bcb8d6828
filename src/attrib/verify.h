/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ATTRIB_VERIFY_H
#define VG_ATTRIB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "runtime/runtime.h"

/*
 * A cgroup's name is a claim: anyone who may create a cgroup (a user in
 * their delegated subtree, a container with a writable cgroupfs) may
 * call it docker-<id>.scope. A claim is verified against the runtime's
 * own record of the container: the init process it recorded (containerd's
 * init.pid, conmon's pidfile), which must have started before the record
 * was written (so not a reused pid), and whose cgroup, as the kernel
 * reports it, must be the claimed container's cgroup (compared by cgroup
 * id where the kernel has one). The claimant may be in that cgroup or
 * below it.
 *
 *  - runtime:   a root-owned record of a runtime on the host agrees;
 *  - enclosing: a nested container (kind, docker-in-docker): the record
 *               in the enclosing container's own state, read through its
 *               root, agrees, and the enclosing container is verified;
 *  - user:      a rootless container, under user UID's delegated cgroup:
 *               that user's own runtime state agrees. It proves only that
 *               user's word, so it never stands for a container selected
 *               by id, name, image or pod;
 *  - pending:   the runtime has not recorded the init yet (a container
 *               being created);
 *  - failed:    none of the above; @why says what did not hold.
 */
enum vg_verify {
	VG_VERIFY_PENDING = 0,
	VG_VERIFY_RUNTIME,
	VG_VERIFY_ENCLOSING,
	VG_VERIFY_USER,
	VG_VERIFY_FAILED,
};

const char *vg_verify_name(enum vg_verify v);

/* Verified by a record the claimant cannot write: a claim that may stand
 * for the container in selections, filters and policy. */
static inline bool vg_verify_trusted(enum vg_verify v)
{
	return v == VG_VERIFY_RUNTIME || v == VG_VERIFY_ENCLOSING;
}

/* The longest claim key. */
#define VG_CLAIM_KEY_MAX 4200

/*
 * What a process claims, as one key: "<hierarchy>:<controllers>:<path>",
 * the path of its cgroup cut after the component that names container
 * @m (the v2 line's, else name=systemd's, else the first v1 line that
 * names it). Every process of one container has the same key; a forged
 * cgroup elsewhere has another. Returns 0, or -ENOENT when no line names
 * the container, -ENAMETOOLONG.
 */
struct vg_cgroup_info;
int vg_claim_key(const struct vg_cgroup_info *cg,
		 const struct vg_cgroup_match *m, char *buf, size_t bufsz);

/* What verification reads: the host root and its proc/ and cgroup2
 * mount (-1: none), the runtimes' paths. */
struct vg_verify_env {
	int root_fd;
	int proc_fd;
	int cg2_fd;
	const struct vg_runtime_cfg *cfg;
	long clk_tck;
	/* when the host booted, CLOCK_REALTIME ns (0: unknown), and how
	 * exactly: a record written within this of a process's start may be
	 * of it */
	uint64_t boot_wall_ns, slack_ns;
};

struct vg_verdict {
	enum vg_verify level;
	/* the container's init process, a host pid (0: unknown) */
	int init_pid;
	/* where its runtime's state is: 0 the host root, else the root of
	 * this (the enclosing container's init) process */
	int state_root_pid;
	/* the record read (pid 0: none), and whether its process was gone
	 * from /proc when it was checked (a container that already ended:
	 * the sensor's own record of it may still verify the claim) */
	int record_pid;
	uint64_t record_mtime_ns;
	bool init_gone;
	char why[512];
};

/*
 * Verify claim @key (vg_claim_key()) of container @m->container_id, of
 * runtime @m->runtime. A few small reads: a pid file, the init's stat
 * and cgroup files, two stats; for a nested claim the same for the
 * enclosing container first, and the members of the claimed cgroup.
 * Returns 0 with @ret filled in, or -ENOMEM.
 */
int vg_verify_claim(const struct vg_verify_env *env,
		    const struct vg_cgroup_match *m, const char *key,
		    struct vg_verdict *ret);

/* Another verifier, for a context that should not look at its host (see
 * vigil_ctx.verify_fn); same contract as vg_verify_claim(). */
typedef int (*vg_verify_fn)(void *arg, const struct vg_cgroup_match *m,
			    const char *key, struct vg_verdict *ret);

#endif
