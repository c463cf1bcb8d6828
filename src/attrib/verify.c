/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attrib/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "proc/proc.h"

/* Nested containers: how deep, and how many members of the claimed
 * cgroup are looked at for the init the enclosing state recorded. */
#define NEST_MAX 4
#define MEMBERS_MAX 4096

const char *vg_verify_name(enum vg_verify v)
{
	switch (v) {
	case VG_VERIFY_PENDING:
		return "pending";
	case VG_VERIFY_RUNTIME:
		return "runtime";
	case VG_VERIFY_ENCLOSING:
		return "enclosing";
	case VG_VERIFY_USER:
		return "user";
	case VG_VERIFY_FAILED:
		return "failed";
	}
	return "failed";
}

/* Does one line's path name container @m? Sets *ret_end to where the
 * naming component ends. */
static bool line_names(const char *path, const struct vg_cgroup_match *m,
		       uint32_t *ret_end)
{
	struct vg_cgroup_match lm;

	vg_cgroup_parse_path(path, strlen(path), &lm);
	if (lm.role != m->role || strcmp(lm.container_id, m->container_id) != 0 ||
	    !lm.scope_end)
		return false;
	*ret_end = lm.scope_end;
	return true;
}

int vg_claim_key(const struct vg_cgroup_info *cg,
		 const struct vg_cgroup_match *m, char *buf, size_t bufsz)
{
	const struct vg_cgroup_line *best = NULL;
	uint32_t end = 0, e;
	int n;

	for (size_t i = 0; i < cg->n_lines; i++) {
		const struct vg_cgroup_line *l = &cg->lines[i];
		bool v2 = l->hierarchy == 0 && !l->controllers[0];

		if (!line_names(l->path, m, &e))
			continue;
		/* the v2 line; else name=systemd; else the first */
		if (!best || v2 ||
		    (strcmp(l->controllers, "name=systemd") == 0 &&
		     !(best->hierarchy == 0 && !best->controllers[0]))) {
			best = l;
			end = e;
		}
		if (v2)
			break;
	}
	if (!best)
		return -ENOENT;
	n = snprintf(buf, bufsz, "%u:%s:%.*s", best->hierarchy,
		     best->controllers, (int)end, best->path);
	if (n < 0 || (size_t)n >= bufsz)
		return -ENAMETOOLONG;
	return 0;
}

/* Split key "h:ctrl:path" into its line prefix ("h:ctrl:") and path. */
static bool split_key(const char *key, size_t *ret_prefix, const char **path)
{
	const char *c1 = strchr(key, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2 || c2[1] != '/')
		return false;
	*ret_prefix = (size_t)(c2 + 1 - key);
	*path = c2 + 1;
	return true;
}

/* The cgroup2 tree: the mount, else sys/fs/cgroup under the host root
 * (a copied host root has no mount). Returns a file descriptor the caller
 * closes, or -1. */
static int v2_dir(const struct vg_verify_env *env)
{
	if (env->cg2_fd >= 0)
		return fcntl(env->cg2_fd, F_DUPFD_CLOEXEC, 3);
	return openat(env->root_fd, "sys/fs/cgroup",
		      O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The id of cgroup @path of the hierarchy in key prefix @prefix: its
 * directory's inode (a cgroup v2 id is just that). 0 when not found. */
static uint64_t cgroup_ino(const struct vg_verify_env *env, const char *prefix,
			   size_t prefix_len, const char *path, size_t len)
{
	char rel[VG_CLAIM_KEY_MAX + 64];
	struct stat st;
	int r;

	if (prefix_len == 3 && memcmp(prefix, "0::", 3) == 0) {
		_cleanup_close_ int fd = v2_dir(env);

		if (fd < 0)
			return 0;
		while (len && *path == '/')
			path++, len--;
		r = snprintf(rel, sizeof(rel), "%.*s", (int)len, path);
		if (r < 0 || (size_t)r >= sizeof(rel))
			return 0;
		if (fstatat(fd, *rel ? rel : ".", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			return 0;
		return (uint64_t)st.st_ino;
	}
	/* a v1 hierarchy: sys/fs/cgroup/<controllers, name= dropped> */
	const char *c1 = memchr(prefix, ':', prefix_len);
	const char *ctl = c1 ? c1 + 1 : prefix;
	size_t ctl_len = (size_t)(prefix + prefix_len - 1 - ctl);

	if (ctl_len > 5 && memcmp(ctl, "name=", 5) == 0)
		ctl += 5, ctl_len -= 5;
	r = snprintf(rel, sizeof(rel), "sys/fs/cgroup/%.*s%.*s", (int)ctl_len,
		     ctl, (int)len, path);
	if (r < 0 || (size_t)r >= sizeof(rel))
		return 0;
	if (fstatat(env->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

/* Process @pid's start (ns since boot) from its stat line. */
static int start_boot_ns(const struct vg_verify_env *env, int pid,
			 uint64_t *ret)
{
	char name[32], buf[1024];
	const char *close;
	unsigned long long ticks;
	ssize_t n;

	snprintf(name, sizeof(name), "%d/stat", pid);
	n = vg_read_small_at(env->proc_fd, name, buf, sizeof(buf));
	if (n <= 0)
		return -ESRCH;
	close = strrchr(buf, ')');
	/* state is field 3; starttime field 22 */
	if (!close || sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u "
			     "%*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			     &ticks) != 1)
		return -EBADMSG;
	*ret = (uint64_t)ticks * (1000000000ull / (uint64_t)env->clk_tck);
	return 0;
}


static void failed(struct vg_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void failed(struct vg_verdict *v, const char *fmt, ...)
{
	va_list ap;

	v->level = VG_VERIFY_FAILED;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* The scope of container @m in process @pid's cgroup line for hierarchy
 * @prefix: *ret_path and *ret_len point into @buf. */
static int init_scope(const struct vg_verify_env *env, int pid,
		      const struct vg_cgroup_match *m, const char *prefix,
		      size_t prefix_len, char *buf, size_t bufsz,
		      const char **ret_path, size_t *ret_len)
{
	char name[32];
	ssize_t n;

	snprintf(name, sizeof(name), "%d/cgroup", pid);
	n = vg_read_small_at(env->proc_fd, name, buf, bufsz);
	if (n <= 0)
		return -ESRCH;
	for (char *l = buf, *nl; l && *l; l = nl) {
		uint32_t end;

		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		if (strncmp(l, prefix, prefix_len) != 0)
			continue;
		if (!line_names(l + prefix_len, m, &end))
			return -ENOENT;
		*ret_path = l + prefix_len;
		*ret_len = end;
		return 0;
	}
	return -ENOENT;
}

/* Is the record's pid @pid the container's init, in the claimed cgroup?
 * Fills @v (level left to the caller on success). */
static bool check_init(const struct vg_verify_env *env,
		       const struct vg_cgroup_match *m, const char *key,
		       int pid, uint64_t mtime_ns, struct vg_verdict *v)
{
	char cg[8192];
	const char *claim, *path;
	size_t prefix, len;
	uint64_t start, a, b;

	if (!split_key(key, &prefix, &claim)) {
		failed(v, "the claimed cgroup is not a cgroup path");
		return false;
	}
	v->record_pid = pid;
	v->record_mtime_ns = mtime_ns;
	if (start_boot_ns(env, pid, &start) < 0) {
		failed(v, "its runtime's init process %d is gone", pid);
		v->init_gone = true;
		return false;
	}
	/* a record is of a process only if it started before the record
	 * was written (so not a pid reused since) */
	if (mtime_ns && env->boot_wall_ns) {
		if (mtime_ns < env->boot_wall_ns) {
			failed(v, "its runtime's record of init process %d is "
			       "from before this boot", pid);
			return false;
		}
		if (start > mtime_ns - env->boot_wall_ns + env->slack_ns) {
			failed(v, "pid %d, recorded as its init, is another "
			       "process now (started after the record)", pid);
			return false;
		}
	}
	int sr = init_scope(env, pid, m, key, prefix, cg, sizeof(cg), &path, &len);

	if (sr == -ESRCH) {
		failed(v, "its runtime's init process %d is gone", pid);
		v->init_gone = true;
		return false;
	}
	if (sr < 0) {
		failed(v, "its runtime's init process %d is not in container "
		       "%.12s's cgroup", pid, m->container_id);
		return false;
	}
	/* the same cgroup: by id where the kernel has one, else by path */
	a = cgroup_ino(env, key, prefix, claim, strlen(claim));
	b = cgroup_ino(env, key, prefix, path, len);
	if ((a && b) ? a != b
		     : (strlen(claim) != len || memcmp(claim, path, len) != 0)) {
		failed(v, "not in the cgroup where its runtime put its init "
		       "process %d: claimed %s, recorded %.*s", pid, claim,
		       (int)len, path);
		return false;
	}
	v->init_pid = pid;
	return true;
}

/* The uid of a user@UID.service component in @path before @end, or -1. */
static int64_t delegated_uid(const char *path, size_t end)
{
	for (const char *p = path; p < path + end;) {
		const char *s = memchr(p, '/', (size_t)(path + end - p));
		size_t n = s ? (size_t)(s - p) : (size_t)(path + end - p);
		char num[16];
		uint64_t uid;

		if (n > 13 && memcmp(p, "user@", 5) == 0 &&
		    memcmp(p + n - 8, ".service", 8) == 0 && n - 13 < sizeof(num)) {
			memcpy(num, p + 5, n - 13);
			num[n - 13] = '\0';
			if (vg_parse_u64(num, &uid) == 0 && uid <= UINT32_MAX)
				return (int64_t)uid;
		}
		p = s ? s + 1 : path + end;
	}
	return -1;
}

/* The pid, in the pid namespace of process @outer, of host process
 * @pid: its NSpid at @outer's depth. 0 when not there. */
static int nspid_at(const struct vg_verify_env *env, int pid, size_t depth)
{
	int ids[VG_PIDNS_LEVELS];
	char task[16];
	size_t n;

	snprintf(task, sizeof(task), "%d", pid);
	n = vg_proc_read_nspid(env->proc_fd, task, ids, VG_PIDNS_LEVELS);
	return depth < n ? ids[depth] : 0;
}

static size_t nspid_depth(const struct vg_verify_env *env, int pid)
{
	int ids[VG_PIDNS_LEVELS];
	char task[16];
	size_t n;

	snprintf(task, sizeof(task), "%d", pid);
	n = vg_proc_read_nspid(env->proc_fd, task, ids, VG_PIDNS_LEVELS);
	return n ? n - 1 : 0;
}

/* The host pid of the member of cgroup @claim (v2) whose pid in the
 * namespace at @depth is @inner. */
static int member_with_nspid(const struct vg_verify_env *env,
			     const char *claim, size_t depth, int inner)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_close_ int fd = v2_dir(env);
	char rel[VG_CLAIM_KEY_MAX + 32];
	size_t count = 0;
	int r;

	if (fd < 0)
		return 0;
	r = snprintf(rel, sizeof(rel), "%s/cgroup.procs",
		     claim + strspn(claim, "/"));
	if (r < 0 || (size_t)r >= sizeof(rel) ||
	    vg_read_file_at(fd, rel, 1u << 20, &procs, NULL, NULL) < 0)
		return 0;
	for (char *l = procs, *nl; l && *l && count < MEMBERS_MAX;
	     l = nl, count++) {
		int pid;

		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		if (vg_parse_pid(l, &pid) == 0 && pid > 0 &&
		    nspid_at(env, pid, depth) == inner)
			return pid;
	}
	return 0;
}

static int verify(const struct vg_verify_env *env,
		  const struct vg_cgroup_match *m, const char *key,
		  unsigned depth, struct vg_verdict *ret);

/*
 * A nested claim: the enclosing container is verified first; its own
 * runtime state, read through its init's root, must record an init for
 * the inner id that is a member of the claimed cgroup.
 */
static int verify_nested(const struct vg_verify_env *env,
			 const struct vg_cgroup_match *m, const char *key,
			 unsigned depth, struct vg_verdict *v)
{
	struct vg_cgroup_match om;
	struct vg_verdict ov;
	struct vg_runtime_cfg cfg;
	const char *claim;
	size_t prefix;
	char okey[VG_CLAIM_KEY_MAX], root[48];
	_cleanup_close_ int root_fd = -1;
	uint64_t mtime = 0;
	int inner = 0, host, r;

	if (!split_key(key, &prefix, &claim) || !m->nested_end ||
	    m->nested_end > strlen(claim)) {
		failed(v, "the enclosing container's cgroup is not known");
		return 0;
	}
	if (depth >= NEST_MAX) {
		failed(v, "nested more than %d deep", NEST_MAX);
		return 0;
	}
	r = snprintf(okey, sizeof(okey), "%.*s%.*s", (int)prefix, key,
		     (int)m->nested_end, claim);
	if (r < 0 || (size_t)r >= sizeof(okey)) {
		failed(v, "the claimed cgroup's path is too long");
		return 0;
	}
	vg_cgroup_parse_path(okey + prefix, strlen(okey + prefix), &om);
	if (om.role != VG_ROLE_CONTAINER) {
		failed(v, "the enclosing cgroup names no container");
		return 0;
	}
	if (m->runtime == VG_RUNTIME_UNKNOWN || om.runtime == VG_RUNTIME_UNKNOWN) {
		failed(v, "the runtime of a nested container is known only "
		       "from its cgroup's name (docker-, cri-containerd-, "
		       "crio-, libpod-)");
		return 0;
	}
	r = verify(env, &om, okey, depth + 1, &ov);
	if (r < 0)
		return r;
	if (!vg_verify_trusted(ov.level)) {
		if (ov.level == VG_VERIFY_PENDING) {
			*v = ov;
			return 0;
		}
		failed(v, "its enclosing container %.12s is not verified: %s",
		       om.container_id, ov.why);
		return 0;
	}
	/* the enclosing container's own state, through its root */
	snprintf(root, sizeof(root), "%d/root", ov.init_pid);
	root_fd = openat(env->proc_fd, root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		failed(v, "the root of its enclosing container %.12s: %s",
		       om.container_id, strerror(errno));
		return 0;
	}
	vg_runtime_cfg_defaults(&cfg);
	r = vg_runtime_init_record(&cfg, root_fd, m, -1, &inner, &mtime);
	if (r == -ENOENT) {
		v->level = VG_VERIFY_PENDING;
		snprintf(v->why, sizeof(v->why), "the state of its enclosing "
			 "container %.12s records no init process for it (yet)",
			 om.container_id);
		return 0;
	}
	if (r < 0) {
		failed(v, "the state of its enclosing container %.12s: %s",
		       om.container_id, strerror(-r));
		return 0;
	}
	host = member_with_nspid(env, claim, nspid_depth(env, ov.init_pid),
				 inner);
	if (!host) {
		failed(v, "no process of its cgroup is init process %d that "
		       "its enclosing container %.12s recorded", inner,
		       om.container_id);
		return 0;
	}
	if (!check_init(env, m, key, host, mtime, v))
		return 0;
	v->level = VG_VERIFY_ENCLOSING;
	v->state_root_pid = ov.init_pid;
	v->why[0] = '\0';
	return 0;
}

static int verify(const struct vg_verify_env *env,
		  const struct vg_cgroup_match *m, const char *key,
		  unsigned depth, struct vg_verdict *v)
{
	const char *claim;
	size_t prefix;
	struct vg_cgroup_match km;
	uint64_t mtime = 0;
	int64_t uid;
	int pid = 0, r;

	*v = (struct vg_verdict){ .level = VG_VERIFY_FAILED };
	if (m->role != VG_ROLE_CONTAINER) {
		failed(v, "not a container");
		return 0;
	}
	if (!split_key(key, &prefix, &claim)) {
		failed(v, "the claimed cgroup is not a cgroup path");
		return 0;
	}
	/* the claim's own shape, up to the container: nested or not */
	vg_cgroup_parse_path(claim, strlen(claim), &km);
	if (km.nested_in[0]) {
		if (km.role != VG_ROLE_CONTAINER ||
		    strcmp(km.container_id, m->container_id) != 0) {
			failed(v, "the claimed cgroup names another container");
			return 0;
		}
		return verify_nested(env, &km, key, depth, v);
	}
	uid = delegated_uid(claim, strlen(claim));
	if (m->runtime == VG_RUNTIME_UNKNOWN || m->runtime == VG_RUNTIME_NONE) {
		failed(v, "no runtime on this host knows it");
		return 0;
	}
	r = vg_runtime_init_record(env->cfg, env->root_fd, m, uid, &pid, &mtime);
	if (r == -ENOENT) {
		v->level = VG_VERIFY_PENDING;
		snprintf(v->why, sizeof(v->why), "%s has not recorded its init "
			 "process (yet)", uid >= 0 ? "the user's runtime"
						   : "its runtime");
		return 0;
	}
	if (r < 0) {
		failed(v, "its runtime's record of its init process: %s",
		       strerror(-r));
		return 0;
	}
	if (!check_init(env, m, key, pid, mtime, v))
		return 0;
	v->level = uid >= 0 ? VG_VERIFY_USER : VG_VERIFY_RUNTIME;
	if (uid >= 0)
		snprintf(v->why, sizeof(v->why), "rootless: under uid %" PRId64
			 "'s delegated cgroup, verified by that user's own "
			 "runtime state", uid);
	else
		v->why[0] = '\0';
	return 0;
}

int vg_verify_claim(const struct vg_verify_env *env,
		    const struct vg_cgroup_match *m, const char *key,
		    struct vg_verdict *ret)
{
	return verify(env, m, key, 0, ret);
}
