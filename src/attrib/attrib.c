/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attrib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "base/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Where runtimes keep one directory per live container; its presence is
 * the runtime's own word that the id is its container. */
static const char *const containerd_task_dirs[] = {
	"run/containerd/io.containerd.runtime.v2.task",
	"run/docker/containerd/daemon/io.containerd.runtime.v2.task",
	"run/k3s/containerd/io.containerd.runtime.v2.task",
	"run/containerd/io.containerd.runtime.v1.linux",
};

static int open_cgroup2(int root_fd)
{
	static const char *const candidates[] = { "sys/fs/cgroup/unified",
						  "sys/fs/cgroup" };

	for (size_t i = 0; i < VG_ARRAY_SIZE(candidates); i++) {
		struct statfs sfs;
		int fd = openat(root_fd, candidates[i],
				O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (fstatfs(fd, &sfs) == 0 &&
		    (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC)
			return fd;
		close(fd);
	}
	return -1;
}

static void read_boot_facts(struct vigil_ctx *ctx)
{
	_cleanup_free_ char *stat = NULL;
	char buf[64];
	ssize_t n;
	size_t len;

	n = vg_read_small_at(ctx->root_fd, "proc/sys/kernel/random/boot_id",
			     buf, sizeof(buf));
	if (n > 0) {
		size_t k = 0;

		/* keep the hex digits only: a fixed-width, dash-free token */
		for (ssize_t i = 0; i < n && k < 32; i++)
			if (vg_is_hex(buf + i, 1))
				ctx->boot_id[k++] = buf[i];
		ctx->boot_id[k] = '\0';
		ctx->have_boot_id = k == 32;
	}

	if (vg_read_file_at(ctx->root_fd, "proc/stat", 1024 * 1024, &stat, &len,
			    NULL) == 0) {
		const char *p = strstr(stat, "\nbtime ");
		uint64_t v;

		if (p) {
			char num[24];
			size_t k = strspn(p + 7, "0123456789");

			if (k > 0 && k < sizeof(num)) {
				memcpy(num, p + 7, k);
				num[k] = '\0';
				if (vg_parse_u64(num, &v) == 0) {
					ctx->btime = v;
					ctx->have_btime = true;
				}
			}
		}
	}
}

static bool same_file_as(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void cgid_table_release(struct vigil_ctx *ctx);

/* Drop every cached answer: by cgroup file text, by cgroup id, and the
 * container metadata. Entries never used are not touched, so a fresh
 * context's pages stay unfaulted. */
static void caches_release(struct vigil_ctx *ctx)
{
	for (size_t i = 0; i < VG_CG_CACHE_SIZE; i++) {
		struct vg_cg_cache_entry *e = &ctx->cache[i];

		if (!e->text && !e->meta)
			continue;
		free(e->text);
		vg_meta_unref(e->meta);
		*e = (struct vg_cg_cache_entry){ 0 };
	}
	cgid_table_release(ctx);
	vg_meta_cache_release(&ctx->meta);
}

int vigil_ctx_new(const char *host_root, struct vigil_ctx **ret)
{
	struct vigil_ctx *ctx;
	int r;

	if (!ret)
		return -EINVAL;
	if (!host_root || !*host_root)
		host_root = "/";
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->root_fd = ctx->proc_fd = ctx->cg2_fd = -1;
	ctx->host_root = strdup(host_root);
	if (!ctx->host_root) {
		r = -ENOMEM;
		goto fail;
	}
	ctx->root_fd = open(host_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root_fd < 0) {
		r = -errno;
		goto fail;
	}
	ctx->proc_fd = openat(ctx->root_fd, "proc",
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0) {
		r = -errno;
		goto fail;
	}
	ctx->cg2_fd = open_cgroup2(ctx->root_fd);
	ctx->own_proc = same_file_as(ctx->proc_fd, "/proc");
	ctx->use_pidfd = ctx->own_proc;
	ctx->clk_tck = sysconf(_SC_CLK_TCK);
	if (ctx->clk_tck <= 0)
		ctx->clk_tck = 100;
	read_boot_facts(ctx);
	vg_runtime_cfg_defaults(&ctx->rt_cfg);
	*ret = ctx;
	return 0;
fail:
	vigil_ctx_free(ctx);
	return r;
}

void vigil_ctx_free(struct vigil_ctx *ctx)
{
	if (!ctx)
		return;
	vg_meta_worker_stop(ctx); /* first: it uses the kubelet client */
	caches_release(ctx);
	vg_kubelet_free(ctx->kubelet);
	for (size_t i = 0; i < VG_ARRAY_SIZE(ctx->cfg_strings); i++)
		free(ctx->cfg_strings[i]);
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	if (ctx->cg2_fd >= 0)
		close(ctx->cg2_fd);
	free(ctx->host_root);
	free(ctx);
}

static bool exists_at(int dirfd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool exists_at(int dirfd, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return faccessat(dirfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool containerd_task_exists(struct vigil_ctx *ctx, const char *ns,
				   const char *id)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(containerd_task_dirs); i++)
		if (exists_at(ctx->root_fd, "%s/%s/%s", containerd_task_dirs[i],
			      ns, id))
			return true;
	return false;
}

/*
 * The path's shape named a container but not for certain whose: ask the
 * runtimes' state directories. Ids were validated by the parser (hex, or
 * containerd's grammar: no '/', no "..") so they are safe path parts.
 */
static void confirm_runtime(struct vigil_ctx *ctx, struct vg_cgroup_match *m)
{
	enum vg_runtime found = VG_RUNTIME_UNKNOWN;
	int hits = 0;

	m->needs_confirm = false;
	if (m->ctr_namespace[0] &&
	    containerd_task_exists(ctx, m->ctr_namespace, m->container_id)) {
		m->runtime = VG_RUNTIME_CONTAINERD;
		return;
	}
	if (strlen(m->container_id) == 64 && vg_is_hex(m->container_id, 64)) {
		if (exists_at(ctx->root_fd, "%s/containers/%s",
			      ctx->rt_cfg.docker_root, m->container_id))
			hits++, found = VG_RUNTIME_DOCKER;
		if (containerd_task_exists(ctx, "k8s.io", m->container_id))
			hits++, found = VG_RUNTIME_CONTAINERD;
		/* containers/storage serves CRI-O and podman alike: under a
		 * pod it is CRI-O's (podman makes no kubelet pods), else
		 * podman's. */
		if (exists_at(ctx->root_fd, "%s/overlay-containers/%s",
			      ctx->rt_cfg.storage_run, m->container_id) ||
		    exists_at(ctx->root_fd, "%s/overlay-containers/%s",
			      ctx->rt_cfg.storage_root, m->container_id))
			hits++, found = m->pod_uid[0] ? VG_RUNTIME_CRIO
						      : VG_RUNTIME_PODMAN;
	}
	/* Two runtimes claiming one id is not evidence for either. */
	if (hits == 1) {
		m->runtime = found;
		if (found == VG_RUNTIME_CONTAINERD)
			snprintf(m->ctr_namespace, sizeof(m->ctr_namespace),
				 "k8s.io");
		else
			m->ctr_namespace[0] = '\0';
		return;
	}
	if (m->shape_only) {
		/* nothing stands behind the shape: a plain cgroup */
		memset(m, 0, sizeof(*m));
		return;
	}
	m->runtime = VG_RUNTIME_UNKNOWN;
	m->ctr_namespace[0] = '\0';
}

static uint64_t lookup_cgroup_id(struct vigil_ctx *ctx, const char *path)
{
	struct stat st;
	const char *rel = path + strspn(path, "/");

	if (ctx->cg2_fd < 0)
		return 0;
	if (fstatat(ctx->cg2_fd, *rel ? rel : ".", &st, AT_SYMLINK_NOFOLLOW) <
	    0)
		return 0;
	return (uint64_t)st.st_ino;
}

static uint64_t now_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* The cache slot for cgroup file text @text; *hit when it holds this
 * text, resolved less than VG_CG_CACHE_TTL_NS ago. */
static struct vg_cg_cache_entry *cg_cache_slot(struct vigil_ctx *ctx,
					       const char *text, size_t len,
					       uint64_t now, bool *hit)
{
	struct vg_cg_cache_entry *e =
		&ctx->cache[vg_fnv1a64(text, len) % VG_CG_CACHE_SIZE];

	*hit = e->text && now - e->at_ns < VG_CG_CACHE_TTL_NS &&
	       strcmp(e->text, text) == 0;
	return e;
}

/* Replace what @e holds with @text's answer; @meta is referenced when
 * @fast_ready (the fast path filled it in). */
static void cg_cache_store(struct vg_cg_cache_entry *e, const char *text,
			   uint64_t now, uint64_t cgroup_id,
			   const struct vg_cgroup_match *m,
			   struct vg_meta_entry *meta, bool fast_ready)
{
	free(e->text);
	e->text = strdup(text);
	e->at_ns = now;
	e->cgroup_id = cgroup_id;
	e->resolved = *m;
	vg_meta_unref(e->meta);
	e->meta = vg_meta_ref(meta);
	e->fast_ready = fast_ready;
}

/*
 * Attribution from the cgroup file: the cgroup id and the runtime
 * confirmation cost file lookups, so they are cached by the file's text
 * for VG_CG_CACHE_TTL_NS.
 */
static void resolve(struct vigil_ctx *ctx, struct vigil_identity *id)
{
	const char *text = id->proc.cgroup_text;
	uint64_t now = now_ns();
	bool hit;
	struct vg_cg_cache_entry *e =
		cg_cache_slot(ctx, text, id->proc.cgroup_len, now, &hit);

	if (hit)
		ctx->cg_cache_hits++;
	else
		ctx->cg_cache_misses++;
	if (hit) {
		/* the kernel's own word on the cgroup id, where it gave it */
		id->cgroup_id = id->proc.cgroup_id ? id->proc.cgroup_id
						   : e->cgroup_id;
		id->attr = e->resolved;
		return;
	}

	if (id->attr.needs_confirm)
		confirm_runtime(ctx, &id->attr);
	if (id->proc.cgroup_id)
		id->cgroup_id = id->proc.cgroup_id;
	else if (id->cg.v2_path)
		id->cgroup_id = lookup_cgroup_id(ctx, id->cg.v2_path);

	cg_cache_store(e, text, now, id->cgroup_id, &id->attr, NULL, false);
}

static void set_status(struct vigil_identity *id, enum vigil_status st,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A pod-level cgroup (in a pod, in none of its containers) is the
 * kubelet's only in the host's own kubepods tree, which only root
 * writes; elsewhere the pod uid is a name anyone could have chosen. */
static bool pod_claim_trusted(const struct vg_cgroup_info *cg)
{
	const char *p = cg->v2_path && strcmp(cg->v2_path, "/") != 0
				? cg->v2_path : cg->v1_path;

	if (!p)
		return false;
	p += strspn(p, "/");
	return vg_startswith(p, "kubepods/") || vg_startswith(p, "kubepods.slice/");
}

/* Container metadata and the pod answer, once attribution is known. */
static int add_metadata(struct vigil_ctx *ctx, struct vigil_identity *id)
{
	const struct vg_cgroup_match *m = &id->attr;

	if (m->role == VG_ROLE_CONTAINER && m->runtime != VG_RUNTIME_NONE) {
		id->meta = vg_meta_get(ctx, m, &id->cg);
		if (!id->meta)
			return -ENOMEM;
		/* a claim its runtime does not stand behind: never an
		 * identity that policy may take for the container */
		if (!vg_meta_trusted(id->meta) &&
		    id->meta->verify != VG_VERIFY_USER)
			set_status(id, VIGIL_UNVERIFIED,
				   "container %.12s: %s: %s", m->container_id,
				   id->meta->verify == VG_VERIFY_PENDING
					   ? "not verified yet"
					   : "its cgroup's claim is not verified",
				   id->meta->verify_why);
		return 0;
	}
	if (ctx->no_meta)
		return 0;
	if (m->pod_uid[0])
		return vg_pod_resolve(m->pod_uid, NULL,
				      pod_claim_trusted(&id->cg) ? ctx->kubelet
								 : NULL,
				      m->role == VG_ROLE_CONTAINER
					      ? m->container_id : NULL,
				      &id->pod);
	return 0;
}

const struct vg_pod_meta *vg_identity_pod(const struct vigil_identity *id)
{
	return id->meta ? &id->meta->pod : &id->pod;
}

/* A host path from the user, as a path under the host root. */
static int host_rel(const char *in, char **slot, const char **out)
{
	const char *rel = in + strspn(in, "/");
	char *c;

	if (!*rel || strstr(rel, "..") || strlen(rel) > 256)
		return -EINVAL;
	c = strdup(rel);
	if (!c)
		return -ENOMEM;
	free(*slot);
	*slot = c;
	*out = c;
	return 0;
}

int vg_attrib_configure(struct vigil_ctx *ctx, const struct vg_attrib_opts *o)
{
	int r = 0;

	ctx->no_meta = o->no_meta;
	if (o->docker_root)
		r = host_rel(o->docker_root, &ctx->cfg_strings[0],
			     &ctx->rt_cfg.docker_root);
	if (!r && o->docker_socket) {
		if (!*o->docker_socket)
			ctx->rt_cfg.docker_socket = NULL;
		else
			r = host_rel(o->docker_socket, &ctx->cfg_strings[1],
				     &ctx->rt_cfg.docker_socket);
	}
	if (!r && o->storage_root)
		r = host_rel(o->storage_root, &ctx->cfg_strings[2],
			     &ctx->rt_cfg.storage_root);
	if (!r && o->storage_run)
		r = host_rel(o->storage_run, &ctx->cfg_strings[3],
			     &ctx->rt_cfg.storage_run);
	if (!r && o->api_timeout_ms)
		ctx->rt_cfg.api_timeout_ms = o->api_timeout_ms;
	if (!r && o->kubelet.url) {
		if (!vg_startswith(o->kubelet.url, "http://") &&
		    !vg_startswith(o->kubelet.url, "https://"))
			return -EINVAL;
		vg_kubelet_free(ctx->kubelet);
		ctx->kubelet = vg_kubelet_new(&o->kubelet);
		if (!ctx->kubelet)
			r = -ENOMEM;
	}
	/* cached answers were read under the old settings */
	caches_release(ctx);
	return r;
}

static void set_status(struct vigil_identity *id, enum vigil_status st,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_status(struct vigil_identity *id, enum vigil_status st,
		       const char *fmt, ...)
{
	va_list ap;

	id->status = st;
	va_start(ap, fmt);
	vsnprintf(id->message, sizeof(id->message), fmt, ap);
	va_end(ap);
}

int vigil_identify_pid(struct vigil_ctx *ctx, pid_t pid,
		       struct vigil_identity **ret)
{
	struct vigil_identity *id;
	const char *what = NULL;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	id->proc.pid = pid;

	if (pid <= 0) {
		set_status(id, VIGIL_NOT_FOUND, "no such process");
		*ret = id;
		return 0;
	}
	r = vg_proc_read(ctx->proc_fd, pid,
			 (ctx->use_pidfd ? VG_PROC_PIDFD : 0) |
				 (ctx->brief ? VG_PROC_BRIEF : 0),
			 &id->proc, &what);
	/* a kernel without PIDFD_GET_INFO: stop asking */
	if (r == 0 && (id->proc.pidfd_err == -ENOTTY ||
		       id->proc.pidfd_err == -ENOSYS))
		ctx->use_pidfd = false;
	if (r == -ENOMEM) {
		free(id);
		return r;
	}
	if (r < 0) {
		id->proc = (struct vg_proc){ .pid = pid };
		if (r == -ESRCH)
			set_status(id, VIGIL_NOT_FOUND, "no such process");
		else if (r == -EBADMSG)
			set_status(id, VIGIL_BAD_PROC_FILE,
				   "/proc/%d/%s is not in the kernel's format",
				   pid, what ? what : "?");
		else
			set_status(id, VIGIL_ERROR, "reading /proc/%d/%s: %s",
				   pid, what ? what : "", strerror(-r));
		*ret = id;
		return 0;
	}
	id->have_proc = true;

	vg_exec_id_format(ctx->have_boot_id ? ctx->boot_id : NULL, pid,
			  id->proc.start_ticks, id->exec_id, sizeof(id->exec_id));
	id->start_boot_ns =
		id->proc.start_ticks * (1000000000ull / (uint64_t)ctx->clk_tck);
	if (ctx->have_btime)
		id->start_wall_ns = ctx->btime * 1000000000ull + id->start_boot_ns;

	if (id->proc.cgroup_err < 0) {
		set_status(id, VIGIL_NO_CGROUP, "reading /proc/%d/cgroup: %s",
			   pid,
			   id->proc.cgroup_err == -EFBIG
				   ? "larger than any kernel writes"
				   : strerror(-id->proc.cgroup_err));
		*ret = id;
		return 0;
	}
	r = vg_cgroup_parse_file(id->proc.cgroup_text, id->proc.cgroup_len,
				 &id->cg);
	if (r < 0) {
		vigil_identity_free(id);
		return r;
	}
	id->have_cg = true;
	switch (id->cg.error) {
	case VG_CGROUP_OK:
		id->attr = id->cg.match;
		resolve(ctx, id);
		if (add_metadata(ctx, id) < 0) {
			vigil_identity_free(id);
			return -ENOMEM;
		}
		break;
	case VG_CGROUP_CONFLICT:
		set_status(id, VIGIL_CONFLICT, "%s", id->cg.error_msg);
		break;
	default:
		set_status(id, VIGIL_BAD_PROC_FILE, "/proc/%d/cgroup: %s", pid,
			   id->cg.error_msg);
		break;
	}
	*ret = id;
	return 0;
}

void vigil_identity_free(struct vigil_identity *id)
{
	if (!id)
		return;
	vg_proc_release(&id->proc);
	vg_cgroup_info_release(&id->cg);
	vg_meta_unref(id->meta);
	vg_pod_meta_release(&id->pod);
	free(id);
}

static int cmp_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int vg_attrib_list_pids(struct vigil_ctx *ctx, int **ret_pids, size_t *ret_n)
{
	_cleanup_free_ int *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = openat(ctx->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		int pid;

		if (vg_parse_pid(de->d_name, &pid) < 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			int *np = realloc(pids, ncap * sizeof(*np));

			if (!np) {
				r = -ENOMEM;
				break;
			}
			pids = np;
			cap = ncap;
		}
		pids[n++] = pid;
	}
	if (!r && !de && errno)
		r = -errno;
	closedir(d);
	if (r < 0)
		return r;
	/* procfs lists pids in order; another host root's directory need
	 * not, and no output should depend on it. */
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*ret_pids = VG_TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------
 * Fast paths: attribution alone (container, pod, metadata), by cgroup id
 * or by one read of a pid's cgroup file, for event streams.
 */

static void cgid_table_release(struct vigil_ctx *ctx)
{
	if (ctx->cgid) {
		for (size_t i = 0; i < VG_CGID_TABLE; i++) {
			vg_meta_unref(ctx->cgid[i].meta);
			free(ctx->cgid[i].path);
		}
		free(ctx->cgid);
		ctx->cgid = NULL;
	}
	ctx->cgid_used = 0;
}

/* Fills @ret from a resolved match: its container's metadata (cached),
 * or the pod of a pod-level cgroup. */
static int finish_attribution(struct vigil_ctx *ctx,
			      const struct vg_cgroup_info *cg,
			      struct vg_attribution *ret)
{
	const struct vg_cgroup_match *m = &ret->match;

	ret->meta = NULL;
	/* every container claim is verified; no_meta only skips reading
	 * the runtime's metadata */
	if (m->role == VG_ROLE_CONTAINER && m->runtime != VG_RUNTIME_NONE) {
		struct vg_meta_entry *e = vg_meta_get(ctx, m, cg);

		if (!e)
			return -ENOMEM;
		ret->meta = e; /* the cache keeps it; we drop our ref below */
		vg_meta_unref(e);
	}
	return 0;
}

/* Attribution of cgroup file text: parse, confirm the runtime where the
 * path's shape needs it, the cgroup id (@cgid, else from the v2 path),
 * then metadata. Returns 0, -EDEADLK (a conflict), -EBADMSG, -ENOMEM. */
static int attribute_text(struct vigil_ctx *ctx, const char *text,
			  size_t len, uint64_t cgid, struct vg_attribution *ret)
{
	struct vg_cgroup_info cg = { 0 };
	struct vg_attribution a = { 0 };
	int r;

	r = vg_cgroup_parse_file(text, len, &cg);
	if (r < 0)
		return r;
	if (cg.error != VG_CGROUP_OK) {
		r = cg.error == VG_CGROUP_CONFLICT ? -EDEADLK : -EBADMSG;
		vg_cgroup_info_release(&cg);
		return r;
	}
	a.match = cg.match;
	if (a.match.needs_confirm)
		confirm_runtime(ctx, &a.match);
	a.cgroup_id = cgid ? cgid
			   : cg.v2_path ? lookup_cgroup_id(ctx, cg.v2_path) : 0;
	r = finish_attribution(ctx, &cg, &a);
	vg_cgroup_info_release(&cg);
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

/* The cgroup v2 path of cgroup id @cgid, from the kernel: a file handle
 * on cgroupfs is the id itself. */
static int cgroup_path_of_id(struct vigil_ctx *ctx, uint64_t cgid, char *buf,
			     size_t bufsz)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = 0xfe },
		.id = cgid };
	char self[64], mnt[4096], full[4096];
	ssize_t n, m;
	int fd;

	if (ctx->cg2_fd < 0)
		return -ENOENT;
	/* the mount must be named by a real open, not an O_PATH handle */
	int mfd = openat(ctx->cg2_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (mfd < 0)
		return -errno;
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	close(mfd);
	if (fd < 0)
		return fd == -ESTALE ? -ENOENT : fd;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, full, sizeof(full) - 1);
	close(fd);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", ctx->cg2_fd);
	m = readlink(self, mnt, sizeof(mnt) - 1);
	if (n < 0 || m < 0 || n >= (ssize_t)sizeof(full) - 1)
		return -ENAMETOOLONG;
	full[n] = mnt[m] = '\0';
	if (strncmp(full, mnt, (size_t)m) != 0 ||
	    (full[m] != '/' && full[m] != '\0'))
		return -EXDEV; /* outside the mount we know */
	snprintf(buf, bufsz, "%s", full[m] ? full + m : "/");
	return 0;
}

/* The slot of @cgid in the id table, or NULL when it is not there (or
 * its cgroup went). Allocates the table on first use. */
static struct vg_cgid_entry *cgid_find(struct vigil_ctx *ctx, uint64_t cgid,
				       int *ret_err)
{
	size_t slot = (size_t)(cgid * 0x9e3779b97f4a7c15ull >> 52) % VG_CGID_TABLE;

	*ret_err = 0;
	if (!ctx->cgid &&
	    !(ctx->cgid = calloc(VG_CGID_TABLE, sizeof(*ctx->cgid)))) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	/* cgroup ids are never reused within a boot: an entry stays right
	 * for as long as the cgroup lives */
	for (size_t probe = 0; probe < 8; probe++) {
		struct vg_cgid_entry *e =
			&ctx->cgid[(slot + probe) % VG_CGID_TABLE];

		if (e->cgid == cgid)
			return e->meta && e->meta->dropped ? NULL : e;
		if (!e->cgid)
			break;
	}
	return NULL;
}

/* Attribute cgroup v2 path @path as @cgid's, and keep the answer. */
static int cgid_store(struct vigil_ctx *ctx, uint64_t cgid, const char *path,
		      struct vg_attribution *ret)
{
	size_t slot = (size_t)(cgid * 0x9e3779b97f4a7c15ull >> 52) % VG_CGID_TABLE;
	struct vg_attribution a = { 0 };
	/* one line, as /proc/<pid>/cgroup would say it */
	char line[4200];
	int len = snprintf(line, sizeof(line), "0::%s\n", path), r;

	if (len < 0 || (size_t)len >= sizeof(line))
		return -ENAMETOOLONG;
	ctx->attributing_cgid = cgid;
	ctx->attributing_path = path;
	r = attribute_text(ctx, line, (size_t)len, cgid, &a);
	ctx->attributing_cgid = 0;
	ctx->attributing_path = NULL;
	if (r < 0)
		return r == -EDEADLK ? -EBADMSG : r;

	/* store: the home slot or a free one nearby, else start over */
	struct vg_cgid_entry *dst = NULL;

	for (size_t probe = 0; probe < 8 && !dst; probe++) {
		struct vg_cgid_entry *e =
			&ctx->cgid[(slot + probe) % VG_CGID_TABLE];

		if (!e->cgid || e->cgid == cgid)
			dst = e;
	}
	if (!dst) {
		dst = &ctx->cgid[slot];
		ctx->cgid_evictions++;
	}
	if (!dst->cgid)
		ctx->cgid_used++;
	vg_meta_unref(dst->meta);
	free(dst->path);
	dst->path = strdup(path); /* NULL: not known, nothing worse */
	dst->cgid = cgid;
	dst->match = a.match;
	dst->meta = vg_meta_ref(a.meta);
	*ret = a;
	return 0;
}

/* @cgid's attribution: the table's, else by @path (NULL: the path the
 * kernel gives for the id). */
static int cgroup_attribution(struct vigil_ctx *ctx, uint64_t cgid,
			      const char *path, struct vg_attribution *ret)
{
	struct vg_cgid_entry *e;
	char buf[4096];
	int r;

	e = cgid_find(ctx, cgid, &r);
	if (r < 0)
		return r;
	if (e) {
		ctx->cgid_hits++;
		if (e->meta && vg_meta_recheck(ctx, e->meta, &e->match) < 0)
			return -ENOMEM;
		ret->match = e->match;
		ret->cgroup_id = cgid;
		ret->meta = e->meta;
		return 0;
	}
	if (!path) {
		r = cgroup_path_of_id(ctx, cgid, buf, sizeof(buf));
		if (r < 0)
			return r;
		path = buf;
	} else if (path[0] != '/') {
		return -EINVAL;
	}
	ctx->cgid_misses++;
	return cgid_store(ctx, cgid, path, ret);
}

const char *vg_attrib_cgid_path(struct vigil_ctx *ctx, uint64_t cgid)
{
	size_t slot = (size_t)(cgid * 0x9e3779b97f4a7c15ull >> 52) % VG_CGID_TABLE;

	if (cgid && cgid == ctx->attributing_cgid)
		return ctx->attributing_path;
	if (!ctx->cgid || !cgid)
		return NULL;
	for (size_t probe = 0; probe < 8; probe++) {
		const struct vg_cgid_entry *e =
			&ctx->cgid[(slot + probe) % VG_CGID_TABLE];

		if (e->cgid == cgid)
			return e->path;
		if (!e->cgid)
			break;
	}
	return NULL;
}

int vg_attrib_cgroup_id(struct vigil_ctx *ctx, uint64_t cgid,
			struct vg_attribution *ret)
{
	return cgroup_attribution(ctx, cgid, NULL, ret);
}

int vg_attrib_cgroup_learn(struct vigil_ctx *ctx, uint64_t cgid,
			   const char *path, struct vg_attribution *ret)
{
	struct vg_attribution a;

	if (!path)
		return -EINVAL;
	return cgroup_attribution(ctx, cgid, path, ret ? ret : &a);
}

int vg_attrib_pid_cgroup(struct vigil_ctx *ctx, int pid,
			 struct vg_attribution *ret)
{
	char name[32], text[VG_CG_FAST_MAX];
	_cleanup_close_ int fd = -1;
	struct vg_attribution a = { 0 };
	ssize_t n;
	int r;

	snprintf(name, sizeof(name), "%d/cgroup", pid);
	fd = openat(ctx->proc_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	if (n == 0)
		return -ESRCH; /* a zombie's cgroup file is empty */
	if ((size_t)n == sizeof(text) - 1)
		return -EFBIG; /* rare: vigil_identify_pid() reads it whole */
	text[n] = '\0';

	uint64_t now = now_ns();
	bool hit;
	struct vg_cg_cache_entry *e =
		cg_cache_slot(ctx, text, (size_t)n, now, &hit);

	if (hit && e->fast_ready && (!e->meta || !e->meta->dropped)) {
		ctx->cg_cache_hits++;
		if (e->meta && vg_meta_recheck(ctx, e->meta, &e->resolved) < 0)
			return -ENOMEM;
		ret->match = e->resolved;
		ret->cgroup_id = e->cgroup_id;
		ret->meta = e->meta;
		return 0;
	}
	/* not cached, or cached without its metadata */
	ctx->cg_cache_misses++;
	r = attribute_text(ctx, text, (size_t)n, 0, &a);
	if (r < 0)
		return r;
	cg_cache_store(e, text, now, a.cgroup_id, &a.match, a.meta, true);
	*ret = a;
	return 0;
}
