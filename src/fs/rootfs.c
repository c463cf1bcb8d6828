/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "runtime/runtime.h"
#include "base/util.h"

/* overlay's own quoting of its path options: a backslash takes the next
 * character literally (the kernel's ovl_unescape()). */
static void unescape_backslash(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		*o++ = *s;
	}
	*o = '\0';
}

static int parse_int(const char *s, int *ret)
{
	uint64_t v;

	if (vg_parse_u64(s, &v) < 0 || v > INT32_MAX)
		return -EBADMSG;
	*ret = (int)v;
	return 0;
}

static int parse_devno(char *s, unsigned *ret_major, unsigned *ret_minor)
{
	char *colon = strchr(s, ':');
	uint64_t ma, mi;

	if (!colon)
		return -EBADMSG;
	*colon = '\0';
	if (vg_parse_u64(s, &ma) < 0 || vg_parse_u64(colon + 1, &mi) < 0 ||
	    ma > UINT32_MAX || mi > UINT32_MAX) {
		*colon = ':';
		return -EBADMSG;
	}
	*colon = ':';
	*ret_major = (unsigned)ma;
	*ret_minor = (unsigned)mi;
	return 0;
}

int vg_mountinfo_parse_line(char *line, struct vg_mount *ret)
{
	/* id parent maj:min root mountpoint opts [optional...] - fstype
	 * source superopts; every field escaped, so single spaces split */
	char *f[6], *tail[3], *s = line, *tok;
	size_t n = 0, nt = 0;
	bool dash = false;
	struct vg_mount m;

	while ((tok = strsep(&s, " ")) != NULL) {
		if (n < 6) {
			f[n++] = tok;
		} else if (!dash) {
			if (strcmp(tok, "-") == 0)
				dash = true;
		} else if (nt < 3) {
			tail[nt++] = tok;
		} else {
			return -EBADMSG;
		}
	}
	if (n < 6 || !dash || nt < 3)
		return -EBADMSG;
	if (parse_int(f[0], &m.id) < 0 || parse_int(f[1], &m.parent) < 0 ||
	    parse_devno(f[2], &m.major, &m.minor) < 0)
		return -EBADMSG;
	if (!f[3][0] || f[4][0] != '/' || !tail[0][0])
		return -EBADMSG;
	vg_unescape_octal(f[3]);
	vg_unescape_octal(f[4]);
	vg_unescape_octal(tail[0]);
	vg_unescape_octal(tail[1]);
	m.root = f[3];
	m.mountpoint = f[4];
	m.fstype = tail[0];
	m.source = tail[1];
	m.superopts = tail[2];
	*ret = m;
	return 0;
}

void vg_overlay_opts_release(struct vg_overlay_opts *o)
{
	if (!o)
		return;
	free(o->upperdir);
	free(o->workdir);
	for (size_t i = 0; i < o->n_lowerdirs; i++)
		free(o->lowerdirs[i]);
	free(o->lowerdirs);
	for (size_t i = 0; i < o->n_datadirs; i++)
		free(o->datadirs[i]);
	free(o->datadirs);
	memset(o, 0, sizeof(*o));
}

static int push_layer(struct vg_overlay_opts *o, bool data, const char *path,
		      char *err, size_t errsz)
{
	char ***v = data ? &o->datadirs : &o->lowerdirs;
	size_t *n = data ? &o->n_datadirs : &o->n_lowerdirs;
	char **nv;

	if (!*path) {
		vg_set_err(err, errsz, "an empty layer path in the overlay's options");
		return -EBADMSG;
	}
	if (o->n_lowerdirs + o->n_datadirs >= VG_OVERLAY_LAYERS_MAX) {
		vg_set_err(err, errsz, "the overlay has more than %d layers",
			   VG_OVERLAY_LAYERS_MAX);
		return -E2BIG;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(path);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* lowerdir=: layers split at colons a backslash does not quote; "::"
 * starts the data-only layers (the kernel's
 * ovl_parse_param_split_lowerdirs()). @s is octal-unescaped already. */
static int split_lowerdir(struct vg_overlay_opts *o, char *s, char *err,
			  size_t errsz)
{
	bool data = false;
	char *start = s;
	int r;

	for (;; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s != ':' && *s)
			continue;
		bool end = !*s, dbl = !end && s[1] == ':';

		*s = '\0';
		unescape_backslash(start);
		r = push_layer(o, data, start, err, errsz);
		if (r < 0)
			return r;
		if (end)
			return 0;
		if (dbl) {
			if (data) {
				vg_set_err(err, errsz, "more than one '::' in lowerdir=");
				return -EBADMSG;
			}
			data = true;
			s++;
		}
		start = s + 1;
	}
}

static int set_path(char **dst, char *val, char *err, size_t errsz)
{
	unescape_backslash(val);
	if (!*val) {
		vg_set_err(err, errsz, "an empty path in the overlay's options");
		return -EBADMSG;
	}
	free(*dst);
	*dst = strdup(val);
	return *dst ? 0 : -ENOMEM;
}

int vg_overlay_parse_opts(const char *superopts, struct vg_overlay_opts *ret,
			  char *err, size_t errsz)
{
	struct vg_overlay_opts o = { 0 };
	_cleanup_free_ char *buf = strdup(superopts ? superopts : "");
	bool legacy = false, plus = false;
	char *s, *opt;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	s = buf;
	while ((opt = strsep(&s, ",")) != NULL && r == 0) {
		vg_unescape_octal(opt);
		if (vg_startswith(opt, "lowerdir=")) {
			if (legacy) {
				vg_set_err(err, errsz, "lowerdir= given twice");
				r = -EBADMSG;
				break;
			}
			legacy = true;
			r = split_lowerdir(&o, opt + strlen("lowerdir="), err, errsz);
		} else if (vg_startswith(opt, "lowerdir+=")) {
			plus = true;
			r = push_layer(&o, false, opt + strlen("lowerdir+="), err,
				       errsz);
		} else if (vg_startswith(opt, "datadir+=")) {
			plus = true;
			r = push_layer(&o, true, opt + strlen("datadir+="), err,
				       errsz);
		} else if (vg_startswith(opt, "upperdir=")) {
			r = set_path(&o.upperdir, opt + strlen("upperdir="), err,
				     errsz);
		} else if (vg_startswith(opt, "workdir=")) {
			r = set_path(&o.workdir, opt + strlen("workdir="), err,
				     errsz);
		} else if (strcmp(opt, "userxattr") == 0) {
			o.userxattr = true;
		}
	}
	if (r == 0 && legacy && plus) {
		vg_set_err(err, errsz, "lowerdir= mixed with lowerdir+= or datadir+=");
		r = -EBADMSG;
	}
	if (r == 0 && o.n_lowerdirs == 0) {
		vg_set_err(err, errsz, "the overlay's options name no lower layer");
		r = -EBADMSG;
	}
	if (r == 0 && !o.upperdir != !o.workdir) {
		vg_set_err(err, errsz, "the overlay's options name an upper dir "
			   "without a work dir, or the reverse");
		r = -EBADMSG;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			vg_set_err(err, errsz, "out of memory");
		vg_overlay_opts_release(&o);
		return r;
	}
	*ret = o;
	return 0;
}

void vg_rootfs_release(struct vg_rootfs *r)
{
	if (!r)
		return;
	free(r->fstype);
	free(r->source);
	free(r->root);
	free(r->merged);
	vg_overlay_opts_release(&r->ovl);
	if (r->have_layers_root_fd)
		close(r->layers_root_fd);
	memset(r, 0, sizeof(*r));
}

struct mount_table {
	struct vg_mount *v;
	size_t n;
};

/* Every well-formed line of @buf; others are skipped. */
static int table_parse(char *buf, struct mount_table *t)
{
	size_t cap = 0;

	t->v = NULL;
	t->n = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		struct vg_mount m;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (vg_mountinfo_parse_line(line, &m) < 0)
			continue;
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct vg_mount *nv = realloc(t->v, ncap * sizeof(*nv));

			if (!nv) {
				free(t->v);
				t->v = NULL;
				return -ENOMEM;
			}
			t->v = nv;
			cap = ncap;
		}
		t->v[t->n++] = m;
	}
	return 0;
}

/* The topmost mount at "/": one no other "/" mount is stacked on. */
static const struct vg_mount *top_root(const struct mount_table *t)
{
	const struct vg_mount *best = NULL;

	for (size_t i = 0; i < t->n; i++) {
		bool covered = false;

		if (strcmp(t->v[i].mountpoint, "/") != 0)
			continue;
		for (size_t j = 0; j < t->n && !covered; j++)
			covered = j != i && t->v[j].parent == t->v[i].id &&
				  strcmp(t->v[j].mountpoint, "/") == 0;
		if (!covered)
			best = &t->v[i];
	}
	return best;
}

int vg_rootfs_from_mountinfo(char *buf, int mnt_id, struct vg_rootfs *ret,
			     char *err, size_t errsz)
{
	struct mount_table t;
	const struct vg_mount *m = NULL;
	struct vg_rootfs rf = { 0 };
	int r;

	r = table_parse(buf, &t);
	if (r < 0) {
		vg_set_err(err, errsz, "out of memory");
		return r;
	}
	for (size_t i = 0; mnt_id > 0 && i < t.n && !m; i++)
		if (t.v[i].id == mnt_id)
			m = &t.v[i];
	if (!m)
		m = top_root(&t);
	if (!m) {
		free(t.v);
		vg_set_err(err, errsz, "no root mount in the mount table");
		return -ENOENT;
	}
	rf.mount_id = m->id;
	rf.dev_major = m->major;
	rf.dev_minor = m->minor;
	rf.fstype = strdup(m->fstype);
	rf.source = strdup(m->source);
	rf.root = strdup(m->root);
	if (!rf.fstype || !rf.source || !rf.root) {
		r = -ENOMEM;
		vg_set_err(err, errsz, "out of memory");
	} else if (strcmp(m->fstype, "overlay") == 0) {
		rf.overlay = true;
		r = vg_overlay_parse_opts(m->superopts, &rf.ovl, err, errsz);
	}
	free(t.v);
	if (r < 0) {
		vg_rootfs_release(&rf);
		return r;
	}
	*ret = rf;
	return 0;
}

/* Does @root (a path in a filesystem) hold @path? Returns the length of
 * @root that matched, or 0. */
static size_t root_holds(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return 1;
	if (strncmp(root, path, n) != 0 || (path[n] != '/' && path[n]))
		return 0;
	return n;
}

/* The mount of @r's filesystem in table @t: the same device, the root
 * that holds @r->root most closely. */
static const struct vg_mount *same_fs(const struct mount_table *t,
				      const struct vg_rootfs *r,
				      size_t *ret_len)
{
	const struct vg_mount *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct vg_mount *m = &t->v[i];
		size_t n;

		if (m->major != r->dev_major || m->minor != r->dev_minor)
			continue;
		n = root_holds(m->root, r->root);
		if (n > best_len) {
			best = m;
			best_len = n;
		}
	}
	*ret_len = best_len;
	return best;
}

static bool same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Does @m, a mount from a table the container cannot write, say what the
 * container's view @r says about its root? */
static int check_layers(const struct vg_mount *m, struct vg_rootfs *r,
			const char *whose, char *err, size_t errsz)
{
	struct vg_overlay_opts o;
	char why[256];
	bool same;
	int ret;

	if (strcmp(m->fstype, r->fstype) != 0) {
		vg_set_err(err, errsz, "the container's mount table says its "
			   "root is %s, %s says %s", r->fstype, whose,
			   m->fstype);
		return -EPERM;
	}
	if (!r->overlay) {
		r->layers_verified = true;
		return 0;
	}
	ret = vg_overlay_parse_opts(m->superopts, &o, why, sizeof(why));
	if (ret < 0) {
		vg_set_err(err, errsz, "%s: its overlay options: %s", whose, why);
		return ret == -E2BIG ? -EBADMSG : ret;
	}
	same = same_str(o.upperdir, r->ovl.upperdir) &&
	       same_str(o.workdir, r->ovl.workdir) &&
	       o.userxattr == r->ovl.userxattr &&
	       same_list(o.lowerdirs, o.n_lowerdirs, r->ovl.lowerdirs,
			 r->ovl.n_lowerdirs) &&
	       same_list(o.datadirs, o.n_datadirs, r->ovl.datadirs,
			 r->ovl.n_datadirs);
	vg_overlay_opts_release(&o);
	if (!same) {
		vg_set_err(err, errsz, "the container's mount table and %s "
			   "disagree about the layers of its root overlay "
			   "(device %u:%u)", whose, r->dev_major, r->dev_minor);
		return -EPERM;
	}
	r->layers_verified = true;
	r->layers_why = NULL;
	return 0;
}

int vg_rootfs_find_host_mount(char *buf, struct vg_rootfs *r, char *err,
			      size_t errsz)
{
	struct mount_table t;
	const struct vg_mount *best;
	size_t best_len;
	char *merged;
	int ret;

	ret = table_parse(buf, &t);
	if (ret < 0)
		return ret;
	best = same_fs(&t, r, &best_len);
	if (!best) {
		free(t.v);
		return -ENOENT;
	}
	ret = check_layers(best, r, "the host's", err, errsz);
	if (ret < 0) {
		free(t.v);
		return ret;
	}
	/* the part of the root below the host mount's root */
	const char *rest = strcmp(best->root, "/") == 0 ? r->root
							 : r->root + best_len;

	if (strcmp(rest, "/") == 0 || !*rest)
		merged = strdup(best->mountpoint);
	else if (strcmp(best->mountpoint, "/") == 0)
		merged = strdup(rest);
	else if (asprintf(&merged, "%s%s", best->mountpoint, rest) < 0)
		merged = NULL;
	free(t.v);
	if (!merged)
		return -ENOMEM;
	free(r->merged);
	r->merged = merged;
	r->host_mount = true;
	r->layers_pid = 0;
	return 0;
}

int vg_rootfs_check_table(char *buf, struct vg_rootfs *r, char *err,
			  size_t errsz)
{
	struct mount_table t;
	const struct vg_mount *m;
	size_t len;
	int ret;

	ret = table_parse(buf, &t);
	if (ret < 0)
		return ret;
	m = same_fs(&t, r, &len);
	ret = m ? check_layers(m, r, "its runtime's", err, errsz) : -ENOENT;
	free(t.v);
	return ret;
}

/* The host's mount table: PID 1's under the host root; our own only when
 * PID 1's cannot be read (then our namespace is the best guess). */
static int read_host_table(struct vigil_ctx *ctx, char **ret)
{
	static const char *const tables[] = { "1/mountinfo", "self/mountinfo" };
	int r = -ENOENT;

	for (size_t i = 0; i < VG_ARRAY_SIZE(tables); i++) {
		if (i == 1 && !ctx->own_proc)
			break;
		r = vg_read_file_at(ctx->proc_fd, tables[i], VG_MOUNTINFO_MAX,
				    ret, NULL, NULL);
		if (r == 0)
			return 0;
	}
	return r;
}

/* The parent of the process open at @pfd, from its stat line. */
static int parent_of(int pfd)
{
	_cleanup_free_ char *buf = NULL;
	const char *close;
	int ppid;

	if (vg_read_file_at(pfd, "stat", 4096, &buf, NULL, NULL) < 0)
		return -1;
	close = strrchr(buf, ')');
	if (!close || sscanf(close + 1, " %*c %d", &ppid) != 1 || ppid <= 0)
		return -1;
	return ppid;
}

static bool same_link(int afd, int bfd, const char *name)
{
	char a[64], b[64];
	ssize_t na = readlinkat(afd, name, a, sizeof(a) - 1);
	ssize_t nb = readlinkat(bfd, name, b, sizeof(b) - 1);

	if (na < 0 || nb < 0)
		return true; /* unknown: not proven different */
	return na == nb && memcmp(a, b, (size_t)na) == 0;
}

/* The path of line @key ("0:" or "4:memory:") in cgroup file @buf. */
static const char *cg_line(const char *buf, const char *key, size_t keylen,
			   size_t *ret_len)
{
	for (const char *l = buf; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (n > keylen && memcmp(l, key, keylen) == 0) {
			*ret_len = n - keylen;
			return l + keylen;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* Is the process with cgroup file @pcg inside the cgroup of the one with
 * @ccg (the container's), or below it? Every hierarchy where the
 * container is not at the root is compared; none compared counts as
 * inside. */
static bool cgroup_inside(const char *ccg, const char *pcg)
{
	bool compared = false;

	for (const char *l = ccg; l && *l;) {
		const char *line = l, *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		const char *c1, *c2, *cpath, *ppath;
		size_t keylen, clen, plen;

		l = nl ? nl + 1 : NULL;
		/* hierarchy:controllers:path */
		c1 = memchr(line, ':', n);
		c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
		if (!c2)
			continue;
		keylen = (size_t)(c2 + 1 - line);
		cpath = c2 + 1;
		clen = n - keylen;
		if (clen == 0 || (clen == 1 && cpath[0] == '/'))
			continue;
		ppath = cg_line(pcg, line, keylen, &plen);
		if (!ppath)
			continue;
		compared = true;
		if (plen >= clen && memcmp(ppath, cpath, clen) == 0 &&
		    (plen == clen || ppath[clen] == '/'))
			return true;
	}
	return !compared;
}

/*
 * No host mount of the container's root: the table of the runtime
 * process that made the container, its parent. It is trusted only when it
 * is outside the container's cgroup and mount namespace; a parent inside
 * the container (or sharing its table) is the container's own word.
 * Returns 0 (verified, or unverified with @r->layers_why), -EPERM when
 * the runtime's table disagrees, -ENOMEM.
 */
static int runtime_layers(struct vigil_ctx *ctx, int pfd, struct vg_rootfs *r,
			  char *err, size_t errsz)
{
	_cleanup_close_ int ppfd = -1;
	_cleanup_free_ char *ccg = NULL, *pcg = NULL, *table = NULL;
	char name[24];
	int ppid, r2;

	r->layers_why = "no mount table outside the container holds its root "
			"filesystem";
	ppid = parent_of(pfd);
	if (ppid <= 1)
		return 0;
	snprintf(name, sizeof(name), "%d", ppid);
	ppfd = openat(ctx->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* still the parent once the handle is held: not a reused pid */
	if (ppfd < 0 || parent_of(pfd) != ppid)
		return 0;
	if (same_link(pfd, ppfd, "ns/mnt")) {
		r->layers_why = "its parent shares its mount table, which the "
				"container can write";
		return 0;
	}
	if (vg_read_file_at(pfd, "cgroup", VG_CG_FAST_MAX, &ccg, NULL, NULL) < 0 ||
	    vg_read_file_at(ppfd, "cgroup", VG_CG_FAST_MAX, &pcg, NULL, NULL) < 0 ||
	    cgroup_inside(ccg, pcg)) {
		r->layers_why = "its parent is inside the container";
		return 0;
	}
	if (vg_read_file_at(ppfd, "mountinfo", VG_MOUNTINFO_MAX, &table, NULL,
			    NULL) < 0)
		return 0;
	r2 = vg_rootfs_check_table(table, r, err, errsz);
	if (r2 == -ENOENT)
		return 0;
	if (r2 < 0)
		return r2;
	r->layers_root_fd = openat(ppfd, "root",
				   O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->layers_root_fd < 0) {
		r->layers_verified = false;
		r->layers_why = "its runtime process exited";
		return 0;
	}
	r->have_layers_root_fd = true;
	r->layers_pid = ppid;
	return 0;
}

int vg_rootfs_of_pid(struct vigil_ctx *ctx, int pid, struct vg_rootfs *ret,
		     char *err, size_t errsz)
{
	_cleanup_close_ int pfd = -1;
	_cleanup_free_ char *buf = NULL, *host = NULL;
	struct vg_rootfs rf;
	struct statx stx;
	char name[24];
	bool cut = false;
	int mnt_id = 0, r;

	if (pid <= 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "%d", pid);
	/* one handle on the process: a pid reused meanwhile fails the reads */
	pfd = openat(ctx->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		r = errno == ENOENT ? -ESRCH : -errno;
		vg_set_err(err, errsz, "process %d: %s", pid,
			   r == -ESRCH ? "no such process" : strerror(-r));
		return r;
	}
	/* The mount of the process's root directory, from the kernel. A
	 * fixture's proc/ has no root link: then the topmost "/" mount. */
	if (statx(pfd, "root", AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id <= INT32_MAX)
		mnt_id = (int)stx.stx_mnt_id;

	r = vg_read_file_at(pfd, "mountinfo", VG_MOUNTINFO_MAX, &buf, NULL,
			    &cut);
	if (r < 0) {
		if (r == -ENOENT || r == -ESRCH || r == -EINVAL)
			r = -ESRCH;
		vg_set_err(err, errsz, "process %d: reading its mount table: %s",
			   pid, r == -ESRCH ? "the process exited" : strerror(-r));
		return r;
	}
	r = vg_rootfs_from_mountinfo(buf, mnt_id, &rf, err, errsz);
	if (r == -ENOENT && cut) {
		vg_set_err(err, errsz, "process %d: its mount table is larger "
			   "than %u MiB", pid, VG_MOUNTINFO_MAX >> 20);
		return -EFBIG;
	}
	if (r < 0)
		return r;

	if (read_host_table(ctx, &host) == 0)
		r = vg_rootfs_find_host_mount(host, &rf, err, errsz);
	else
		r = -ENOENT;
	if (r == -ENOENT) {
		r = runtime_layers(ctx, pfd, &rf, err, errsz);
		if (r == 0 && asprintf(&rf.merged, "/proc/%d/root", pid) < 0) {
			rf.merged = NULL;
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		if (r == -ENOMEM)
			vg_set_err(err, errsz, "out of memory");
		else if (r != -EPERM && r != -EBADMSG)
			vg_set_err(err, errsz, "%s", strerror(-r));
		vg_rootfs_release(&rf);
		return r;
	}
	*ret = rf;
	return 0;
}
