/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int vg_rootfs_find_host_mount(char *buf, struct vg_rootfs *r)
{
	struct mount_table t;
	const struct vg_mount *best = NULL;
	size_t best_len = 0;
	char *merged;
	int ret;

	ret = table_parse(buf, &t);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < t.n; i++) {
		const struct vg_mount *m = &t.v[i];
		size_t n;

		if (m->major != r->dev_major || m->minor != r->dev_minor)
			continue;
		n = root_holds(m->root, r->root);
		if (n > best_len) {
			best = m;
			best_len = n;
		}
	}
	if (!best) {
		free(t.v);
		return -ENOENT;
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
	return 0;
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
		r = vg_rootfs_find_host_mount(host, &rf);
	else
		r = -ENOENT;
	if (r == -ENOENT) {
		r = 0;
		if (asprintf(&rf.merged, "/proc/%d/root", pid) < 0) {
			rf.merged = NULL;
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		vg_set_err(err, errsz, "out of memory");
		vg_rootfs_release(&rf);
		return r;
	}
	*ret = rf;
	return 0;
}
