/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The walk: a stack of open upper directories, depth first. Each frame
 * also knows where its directory is in the lower layers: for docker's
 * comparison, the stack of lower directories overlay would merge under
 * it, in the container's view ("new") and in the image's ("old"); for
 * podman's, per layer, whether the path is a directory there or lies
 * under a whiteout. Where the new and old stacks are the same (anywhere
 * below plain directories, that is almost everywhere), only the upper
 * directory is listed and each of its entries is looked up below; only
 * a replaced (opaque) or redirected directory needs its lower
 * directories listed too.
 *
 * Lower layers are read as image layers are unpacked from archives:
 * their whiteouts and opaque directories count; redirects are followed
 * only from the upper layer, and the xattr whiteouts of nested overlays
 * (Linux 6.7) are not recognised: no layer unpacker writes either.
 */
#include "fs/diff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/util.h"

#ifndef __NR_getxattrat
#define __NR_getxattrat 464 /* the same number on every architecture */
#endif
#ifndef ENOTSUP
#define ENOTSUP EOPNOTSUPP
#endif

/* Where a name of a directory was listed. */
#define FROM_UPPER 1u
#define FROM_NEW 2u /* a lower directory of the container's view */
#define FROM_OLD 4u /* a lower directory of the image's view */

/* Names of one directory at most (beyond the entries limit, the rest
 * could not be reported anyway). */
#define NAMES_MIN_MAX 65536

/* A lower directory: layer, and path from that layer's root ("" for
 * the root itself). */
struct lentry {
	uint32_t layer;
	char *path;
};

struct lstack {
	struct lentry *v;
	size_t n;
};

struct nref {
	uint32_t off;
	uint8_t from;
};

/* The names of one directory: one buffer, offsets into it. */
struct names {
	char *buf;
	size_t len, cap;
	struct nref *v;
	size_t n, vcap;
};

/* podman: a path in one lower layer. */
enum { P_ABSENT, P_DIR, P_BLOCKED /* under a whiteout there */ };

struct frame {
	int fd;     /* the upper directory, or -1 (only in lower layers) */
	char *path; /* in the container: "" for the root, else "/a/b" */
	size_t path_len;
	struct lstack lo_new, lo_old; /* docker; lo_old unused when same */
	bool same;
	uint8_t *pst; /* podman: per lower layer */
	struct names names;
	size_t next;
	size_t entries_before;
	struct stat st; /* the directory as it now is */
	bool replaced;
	bool reported; /* has a record (podman: is in "changed dirs") */
	unsigned depth;
};

struct walker {
	const int *lower_fds;
	size_t n_lowers;
	enum vg_diff_style style;
	size_t max_entries;
	unsigned max_depth;
	size_t names_max;
	const char *xa_opaque, *xa_redirect;
	dev_t upper_dev;
	struct vg_diff *d;
	struct frame *frames;
	size_t n_frames, cap_frames;
	bool stop;
	int err; /* -ENOMEM: give up */
	/* podman: per layer, the child's lstat, cached while one entry is
	 * looked at */
	int8_t *pres;
	struct stat *pst_buf;
	char rel[PATH_MAX];
};

/* ---------------------------------------------------------------- helpers */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

const char *vg_diff_type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return "unknown";
}

static void problem(struct walker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct walker *w, const char *fmt, ...)
{
	struct vg_diff *d = w->d;
	va_list ap;

	d->partial = true;
	d->n_problems++;
	if (d->n_kept >= VG_DIFF_PROBLEMS_KEPT)
		return;
	va_start(ap, fmt);
	if (vasprintf(&d->problems[d->n_kept], fmt, ap) < 0)
		d->problems[d->n_kept] = NULL;
	else
		d->n_kept++;
	va_end(ap);
}

/* "/" for the root's own path in messages. */
static const char *shown(const char *path)
{
	return *path ? path : "/";
}

/* An xattr of @rel under @dirfd, never following a symlink. getxattrat()
 * (Linux 6.13) when the kernel has it, else through /proc/self/fd.
 * Returns its length or -errno. */
static ssize_t getxattr_at(int dirfd, const char *rel, const char *name,
			   void *buf, size_t size)
{
	static int no_getxattrat;
	char p[PATH_MAX + 32];
	ssize_t n;

	if (!__atomic_load_n(&no_getxattrat, __ATOMIC_RELAXED)) {
		struct {
			uint64_t value;
			uint32_t size;
			uint32_t flags;
		} args = { .value = (uintptr_t)buf, .size = (uint32_t)size };
		long k = syscall(__NR_getxattrat, dirfd, rel, AT_SYMLINK_NOFOLLOW,
				 name, &args, sizeof(args));

		if (k >= 0)
			return k;
		/* ENOSYS; EPERM is what a seccomp filter says of a syscall
		 * it does not know (reading an xattr never gives EPERM) */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		__atomic_store_n(&no_getxattrat, 1, __ATOMIC_RELAXED);
	}
	if ((size_t)snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, rel) >=
	    sizeof(p))
		return -ENAMETOOLONG;
	n = lgetxattr(p, name, buf, size);
	return n < 0 ? -errno : n;
}

/* 1 if the xattr is "y", 0 if not or absent, -errno when xattrs cannot
 * be read there. */
static int xattr_is_y(ssize_t n, const char *v)
{
	if (n == -ENODATA || n == -ERANGE)
		return 0;
	if (n < 0)
		return (int)n;
	return n == 1 && v[0] == 'y';
}

/* An upper directory's opaque mark. Unsupported xattrs: not opaque, and
 * the answer is flagged. */
static bool upper_opaque(struct walker *w, int fd, const char *path)
{
	char v[2];
	ssize_t n = fgetxattr(fd, w->xa_opaque, v, sizeof(v));
	int r = xattr_is_y(n < 0 ? -errno : n, v);

	if (r >= 0)
		return r == 1;
	if (r == -ENOTSUP || r == -EOPNOTSUPP) {
		if (!w->d->xattr_unsupported) {
			w->d->xattr_unsupported = true;
			problem(w, "%s: the upper layer's filesystem has no "
				"xattrs: replaced directories cannot be told",
				shown(path));
		}
		return false;
	}
	problem(w, "%s: reading %s: %s", shown(path), w->xa_opaque,
		strerror(-r));
	return false;
}

static int join_rel(struct walker *w, const char *dir, const char *name)
{
	int n = *dir ? snprintf(w->rel, sizeof(w->rel), "%s/%s", dir, name)
		     : snprintf(w->rel, sizeof(w->rel), "%s", name);

	return n < 0 || (size_t)n >= sizeof(w->rel) ? -ENAMETOOLONG : 0;
}

static void lstack_release(struct lstack *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int lstack_push(struct lstack *s, uint32_t layer, const char *path)
{
	struct lentry *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	nv[s->n].layer = layer;
	nv[s->n].path = strdup(path);
	if (!nv[s->n].path)
		return -ENOMEM;
	s->n++;
	return 0;
}

static bool lstack_equal(const struct lstack *a, const struct lstack *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].layer != b->v[i].layer ||
		    strcmp(a->v[i].path, b->v[i].path) != 0)
			return false;
	return true;
}

/*
 * @name below the lower directories @st, as overlay's lookup finds it:
 * the topmost layer that has it decides; a whiteout there hides it; a
 * directory merges with the directories of that name below it, down to
 * an opaque one or a layer where the name is something else. With
 * @ret_stack, those directories are collected. Sets *ret_found (and
 * *ret_st, *ret_idx: where it was found). Returns 0 or -ENOMEM; a lower
 * entry that cannot be read is a problem, and skipped.
 */
static int lookup(struct walker *w, const struct lstack *st, const char *name,
		  struct stat *ret_st, bool *ret_found, size_t *ret_idx,
		  struct lstack *ret_stack)
{
	bool found = false;

	for (size_t i = 0; i < st->n; i++) {
		int lfd = w->lower_fds[st->v[i].layer];
		struct stat s;

		if (join_rel(w, st->v[i].path, name) < 0) {
			problem(w, "lower layer %u: a path under %s is too long",
				st->v[i].layer, st->v[i].path);
			continue;
		}
		if (fstatat(lfd, w->rel, &s, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				problem(w, "lower layer %u: /%s: %s", st->v[i].layer,
					w->rel, strerror(errno));
			continue;
		}
		if (is_whiteout(&s))
			break;
		if (!found) {
			found = true;
			*ret_st = s;
			if (ret_idx)
				*ret_idx = i;
			if (!S_ISDIR(s.st_mode) || !ret_stack)
				break;
		} else if (!S_ISDIR(s.st_mode)) {
			break;
		}
		if (lstack_push(ret_stack, st->v[i].layer, w->rel) < 0)
			return -ENOMEM;
		if (i + 1 < st->n) {
			char v[2];
			int r = xattr_is_y(getxattr_at(lfd, w->rel, w->xa_opaque,
						       v, sizeof(v)), v);

			if (r == 1)
				break;
		}
	}
	*ret_found = found;
	return 0;
}

/* --------------------------------------------------------------- listing */

static int names_add(struct names *nl, const char *name, size_t len,
		     uint8_t from)
{
	if (nl->len + len + 1 > nl->cap) {
		size_t ncap = nl->cap ? nl->cap * 2 : 4096;
		char *nb;

		while (ncap < nl->len + len + 1)
			ncap *= 2;
		if (ncap > UINT32_MAX)
			return -E2BIG;
		nb = realloc(nl->buf, ncap);
		if (!nb)
			return -ENOMEM;
		nl->buf = nb;
		nl->cap = ncap;
	}
	if (nl->n == nl->vcap) {
		size_t ncap = nl->vcap ? nl->vcap * 2 : 64;
		struct nref *nv = realloc(nl->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		nl->v = nv;
		nl->vcap = ncap;
	}
	nl->v[nl->n].off = (uint32_t)nl->len;
	nl->v[nl->n].from = from;
	nl->n++;
	memcpy(nl->buf + nl->len, name, len + 1);
	nl->len += len + 1;
	return 0;
}

static void names_release(struct names *nl)
{
	free(nl->buf);
	free(nl->v);
	memset(nl, 0, sizeof(*nl));
}

struct vg_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Every name in directory @fd (from its start). Returns 0, or -errno
 * with a problem recorded for @what. */
static int list_dir(struct walker *w, int fd, uint8_t from, struct names *nl,
		    const char *what)
{
	char buf[32768] __attribute__((aligned(8)));

	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n < 0) {
			int r = -errno;

			problem(w, "%s: listing: %s", what, strerror(errno));
			return r;
		}
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct vg_dirent64 *de = (struct vg_dirent64 *)(buf + off);
			const char *s = de->d_name;
			int r;

			off += de->d_reclen;
			if (s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])))
				continue;
			if (nl->n >= w->names_max) {
				problem(w, "%s: more than %zu entries: the rest "
					"were not read", what, w->names_max);
				return -E2BIG;
			}
			r = names_add(nl, s, strlen(s), from);
			if (r == -ENOMEM)
				return r;
			if (r < 0) {
				problem(w, "%s: its names exceed 4 GiB", what);
				return r;
			}
		}
	}
}

static int cmp_names(const void *a, const void *b, void *buf)
{
	const struct nref *x = a, *y = b;

	return strcmp((const char *)buf + x->off, (const char *)buf + y->off);
}

/* Sort, and fold names listed by several layers into one. */
static void names_merge(struct names *nl)
{
	size_t o = 0;

	if (nl->n < 2)
		return;
	qsort_r(nl->v, nl->n, sizeof(*nl->v), cmp_names, nl->buf);
	for (size_t i = 0; i < nl->n; i++) {
		if (o > 0 && strcmp(nl->buf + nl->v[o - 1].off,
				    nl->buf + nl->v[i].off) == 0) {
			nl->v[o - 1].from |= nl->v[i].from;
			continue;
		}
		nl->v[o++] = nl->v[i];
	}
	nl->n = o;
}

static int list_lower(struct walker *w, const struct lstack *st, uint8_t from,
		      struct names *nl)
{
	for (size_t i = 0; i < st->n; i++) {
		const char *p = *st->v[i].path ? st->v[i].path : ".";
		int fd = openat(w->lower_fds[st->v[i].layer], p,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char what[64];
		int r;

		snprintf(what, sizeof(what), "lower layer %u", st->v[i].layer);
		if (fd < 0) {
			problem(w, "%s: /%s: %s", what, st->v[i].path,
				strerror(errno));
			continue;
		}
		r = list_dir(w, fd, from, nl, what);
		close(fd);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- output */

static void stat_to(struct vg_diff_stat *o, const struct stat *st)
{
	o->mode = st->st_mode;
	o->uid = st->st_uid;
	o->gid = st->st_gid;
	o->size = (uint64_t)st->st_size;
	o->mtime_sec = st->st_mtim.tv_sec;
	o->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
}

/* What podman itself leaves out of its diff: files it puts into every
 * container (libpod's initInodes). */
static bool podman_hidden(const char *path)
{
	static const char *const hidden[] = {
		"/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
		"/proc", "/run", "/run/notify", "/run/.containerenv",
		"/run/secrets", "/run/podman-init", "/sys", "/etc/mtab",
	};

	for (size_t i = 0; i < VG_ARRAY_SIZE(hidden); i++)
		if (strcmp(path, hidden[i]) == 0)
			return true;
	return false;
}

/* Record @dir/@name (or @dir itself when @name is NULL). */
static void emit(struct walker *w, const char *dir, const char *name,
		 char kind, const struct stat *st, bool replaced)
{
	struct vg_diff *d = w->d;
	struct vg_diff_entry *e;
	char *path;

	if (w->stop)
		return;
	if (name ? asprintf(&path, "%s/%s", dir, name) < 0
		 : !(path = strdup(dir))) {
		w->err = -ENOMEM;
		w->stop = true;
		return;
	}
	if (w->style == VG_DIFF_PODMAN && podman_hidden(path)) {
		free(path);
		return;
	}
	if (d->n_entries >= w->max_entries ||
	    d->bytes + strlen(path) + 1 > VG_DIFF_PATH_BYTES_MAX) {
		d->truncated = true;
		problem(w, "%s: stopped after %zu changes (the limit is %zu "
			"changes, %u MiB of paths)", path, d->n_entries,
			w->max_entries, VG_DIFF_PATH_BYTES_MAX >> 20);
		free(path);
		w->stop = true;
		return;
	}
	if (d->n_entries == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;
		struct vg_diff_entry *nv = realloc(d->entries, ncap * sizeof(*nv));

		if (!nv) {
			free(path);
			w->err = -ENOMEM;
			w->stop = true;
			return;
		}
		d->entries = nv;
		d->cap = ncap;
	}
	e = &d->entries[d->n_entries++];
	*e = (struct vg_diff_entry){ .path = path, .kind = kind,
				     .replaced = replaced, .have_stat = !!st };
	if (st)
		stat_to(&e->st, st);
	d->bytes += strlen(path) + 1;
}

/* ---------------------------------------------------------------- frames */

static void frame_release(struct frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	lstack_release(&f->lo_new);
	lstack_release(&f->lo_old);
	free(f->pst);
	names_release(&f->names);
}

/* Open upper directory @name of frame @pfd, never through a symlink. */
static int open_dir(struct walker *w, int pfd, const char *name,
		    const char *path)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					   O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT)
			problem(w, "%s: vanished while read", path);
		else
			problem(w, "%s: cannot open: %s%s", path, strerror(errno),
				errno == EMFILE ? " (too deep for the open files "
						  "limit)" : "");
	}
	return fd;
}

/*
 * Push a frame for directory @name of the frame at @pi (the root when
 * @pi is SIZE_MAX). Takes @fd, @lo_new, @lo_old and @pst whatever
 * happens. Lists the directory: the upper one, and the lower ones too
 * when the container's view and the image's differ there.
 */
static int push_frame(struct walker *w, size_t pi, const char *name, int fd,
		      struct lstack *lo_new, struct lstack *lo_old, bool same,
		      uint8_t *pst, const struct stat *st, bool replaced,
		      bool reported)
{
	struct frame f = { .fd = fd, .lo_new = *lo_new, .lo_old = *lo_old,
			   .same = same, .pst = pst, .st = *st,
			   .replaced = replaced, .reported = reported };
	int r = 0;

	*lo_new = (struct lstack){ 0 };
	*lo_old = (struct lstack){ 0 };
	if (pi == SIZE_MAX) {
		f.path = strdup("");
	} else {
		const struct frame *p = &w->frames[pi];

		f.depth = p->depth + 1;
		if (asprintf(&f.path, "%s/%s", p->path, name) < 0)
			f.path = NULL;
	}
	if (!f.path) {
		r = -ENOMEM;
		goto fail;
	}
	f.path_len = strlen(f.path);
	if (f.depth > w->max_depth) {
		problem(w, "%s: deeper than %u directories: not walked",
			f.path, w->max_depth);
		goto fail;
	}
	if (fd >= 0 && st->st_dev != w->upper_dev) {
		problem(w, "%s: another filesystem is mounted here: not walked",
			f.path);
		goto fail;
	}
	if (w->n_frames == w->cap_frames) {
		size_t ncap = w->cap_frames ? w->cap_frames * 2 : 16;
		struct frame *nv = realloc(w->frames, ncap * sizeof(*nv));

		if (!nv) {
			r = -ENOMEM;
			goto fail;
		}
		w->frames = nv;
		w->cap_frames = ncap;
	}
	if (fd >= 0) {
		r = list_dir(w, fd, FROM_UPPER, &f.names, shown(f.path));
		if (r == -ENOMEM)
			goto fail;
	}
	if (!same) {
		r = list_lower(w, &f.lo_new, FROM_NEW, &f.names);
		if (r == 0)
			r = list_lower(w, &f.lo_old, FROM_OLD, &f.names);
		if (r == -ENOMEM)
			goto fail;
		names_merge(&f.names);
	}
	f.entries_before = w->d->n_entries;
	w->frames[w->n_frames++] = f;
	return 0;
fail:
	frame_release(&f);
	if (r == -ENOMEM) {
		w->err = r;
		w->stop = true;
	}
	return r == -ENOMEM ? r : 0;
}

/* ---------------------------------------------------------------- docker */

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	/* as docker compares: a zero nanosecond part matches any */
	return a->tv_sec == b->tv_sec &&
	       (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

static ssize_t read_cap(int dirfd, const char *rel, char *buf, size_t size)
{
	ssize_t n = getxattr_at(dirfd, rel, "security.capability", buf, size);

	return n == -ENODATA || n == -ENOTSUP || n == -EOPNOTSUPP ? 0 : n;
}

/* docker's statDifferent(), and its file capabilities check. */
static bool docker_differs(struct walker *w, int new_dirfd,
			   const char *new_rel, const struct stat *n,
			   const struct lentry *old_at, const char *name,
			   const struct stat *o)
{
	char nc[256], oc[256];
	ssize_t nl, ol;

	if (n->st_mode != o->st_mode || n->st_uid != o->st_uid ||
	    n->st_gid != o->st_gid || n->st_rdev != o->st_rdev)
		return true;
	if (!S_ISDIR(o->st_mode) &&
	    (!same_time(&n->st_mtim, &o->st_mtim) || n->st_size != o->st_size))
		return true;
	nl = read_cap(new_dirfd, new_rel, nc, sizeof(nc));
	if (join_rel(w, old_at->path, name) < 0)
		return false;
	ol = read_cap(w->lower_fds[old_at->layer], w->rel, oc, sizeof(oc));
	if (nl < 0 || ol < 0)
		return nl != ol;
	return nl != ol || memcmp(nc, oc, (size_t)nl) != 0;
}

/* The lower directories an upper directory with a redirect xattr takes
 * its contents from: an absolute path from the layers' roots, or a name
 * beside it. */
static int redirect_stack(struct walker *w, const struct frame *p,
			  const char *target, struct lstack *ret)
{
	struct lstack cur = { 0 };
	_cleanup_free_ char *copy = strdup(target);
	char *s = copy, *comp;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (*s == '/') {
		for (size_t i = 0; i < w->n_lowers && r == 0; i++)
			r = lstack_push(&cur, (uint32_t)i, "");
		s++;
	} else {
		for (size_t i = 0; i < p->lo_new.n && r == 0; i++)
			r = lstack_push(&cur, p->lo_new.v[i].layer,
					p->lo_new.v[i].path);
	}
	while (r == 0 && (comp = strsep(&s, "/")) != NULL) {
		struct lstack next = { 0 };
		struct stat st;
		bool found = false;

		if (!*comp)
			continue;
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			problem(w, "%s: a redirect to '%s' is not followed",
				shown(p->path), target);
			lstack_release(&cur);
			break;
		}
		r = lookup(w, &cur, comp, &st, &found, NULL, &next);
		lstack_release(&cur);
		cur = next;
		if (!found || !S_ISDIR(st.st_mode))
			lstack_release(&cur);
	}
	if (r < 0) {
		lstack_release(&cur);
		return r;
	}
	*ret = cur;
	return 0;
}

static int docker_child(struct walker *w, size_t fi, const char *name,
			uint8_t from)
{
	struct frame *F = &w->frames[fi];
	const struct lstack *old_lo = F->same ? &F->lo_new : &F->lo_old;
	struct lstack new_child = { 0 }, old_child = { 0 };
	struct stat nst, ost;
	bool have_new = false, have_old = false, in_upper = from & FROM_UPPER;
	bool opaque = false, same, new_dir;
	size_t new_idx = 0, old_idx = 0;
	int fd = -1, r;
	char kind = 0;

	if (in_upper) {
		if (fstatat(F->fd, name, &nst, AT_SYMLINK_NOFOLLOW) < 0) {
			problem(w, "%s/%s: %s", F->path, name,
				errno == ENOENT ? "vanished while read"
						: strerror(errno));
			return 0;
		}
		have_new = !is_whiteout(&nst);
	} else {
		r = lookup(w, &F->lo_new, name, &nst, &have_new, &new_idx,
			   &new_child);
		if (r < 0)
			goto out;
	}
	new_dir = have_new && S_ISDIR(nst.st_mode);
	r = lookup(w, old_lo, name, &ost, &have_old, &old_idx,
		   new_dir ? &old_child : NULL);
	if (r < 0)
		goto out;

	if (new_dir && in_upper) {
		char target[PATH_MAX], p[PATH_MAX];
		ssize_t n;

		snprintf(p, sizeof(p), "%s/%s", F->path, name);
		fd = open_dir(w, F->fd, name, p);
		if (fd >= 0) {
			opaque = upper_opaque(w, fd, p);
			n = opaque ? -ENODATA
				   : fgetxattr(fd, w->xa_redirect, target,
					       sizeof(target) - 1);
		} else {
			n = -ENODATA;
		}
		if (opaque) {
			/* the container's view has nothing below it */
		} else if (n > 0) {
			target[n] = '\0';
			r = redirect_stack(w, F, target, &new_child);
		} else if (F->same) {
			for (size_t i = 0; i < old_child.n && r == 0; i++)
				r = lstack_push(&new_child, old_child.v[i].layer,
						old_child.v[i].path);
		} else {
			struct stat s;
			bool found;

			r = lookup(w, &F->lo_new, name, &s, &found, NULL,
				   &new_child);
			if (r == 0 && (!found || !S_ISDIR(s.st_mode)))
				lstack_release(&new_child);
		}
		if (r < 0)
			goto out;
	}

	if (have_new && !have_old)
		kind = 'A';
	else if (!have_new && have_old)
		kind = 'D';
	else if (have_new && have_old) {
		int nfd = in_upper ? F->fd
				   : w->lower_fds[F->lo_new.v[new_idx].layer];
		char nrel[PATH_MAX];

		if (in_upper)
			snprintf(nrel, sizeof(nrel), "%s", name);
		else if (join_rel(w, F->lo_new.v[new_idx].path, name) == 0)
			snprintf(nrel, sizeof(nrel), "%s", w->rel);
		else
			nrel[0] = '\0';
		if (docker_differs(w, nfd, nrel, &nst, &old_lo->v[old_idx],
				   name, &ost))
			kind = 'C';
	}
	if (kind)
		emit(w, F->path, name, kind, kind == 'D' ? &ost : &nst,
		     opaque && kind != 'D');

	if (!new_dir || (fd < 0 && in_upper))
		goto out;
	same = lstack_equal(&new_child, &old_child);
	if (fd < 0 && same)
		goto out; /* only in lower layers, the same in both views */
	if (same)
		lstack_release(&old_child);
	r = push_frame(w, fi, name, fd, &new_child, &old_child, same, NULL,
		       &nst, opaque, kind != 0);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	lstack_release(&new_child);
	lstack_release(&old_child);
	if (r == -ENOMEM) {
		w->err = r;
		w->stop = true;
	}
	return r;
}

/* A directory with changes below it is changed itself. */
static void docker_finish(struct walker *w, size_t fi)
{
	struct frame *F = &w->frames[fi];

	if (fi > 0 && !F->reported && w->d->n_entries > F->entries_before)
		emit(w, F->path, NULL, 'C', &F->st, F->replaced);
}

/* ---------------------------------------------------------------- podman */

enum { R_UNKNOWN = -1, R_NONE, R_WHITEOUT, R_DIR, R_OTHER };

/* podman looks the path up in each layer on its own. Cached per entry. */
static int podman_at(struct walker *w, const struct frame *F, size_t i,
		     const char *name)
{
	struct stat *s = &w->pst_buf[i];

	if (w->pres[i] != R_UNKNOWN)
		return w->pres[i];
	w->pres[i] = R_NONE;
	if (F->pst[i] != P_DIR)
		return R_NONE;
	if (join_rel(w, F->path_len ? F->path + 1 : "", name) < 0) {
		problem(w, "%s/%s: too long to look up in lower layers", F->path,
			name);
		return R_NONE;
	}
	if (fstatat(w->lower_fds[i], w->rel, s, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			problem(w, "lower layer %zu: /%s: %s", i, w->rel,
				strerror(errno));
		return R_NONE;
	}
	w->pres[i] = is_whiteout(s) ? R_WHITEOUT
				    : S_ISDIR(s->st_mode) ? R_DIR : R_OTHER;
	return w->pres[i];
}

static bool podman_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec &&
	       (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

static int podman_child(struct walker *w, size_t fi, const char *name)
{
	struct frame *F = &w->frames[fi];
	const struct stat *lst = NULL;
	struct stat ust;
	bool isdir, opaque = false, skip = false;
	uint8_t *pst = NULL;
	char kind = 0;
	int fd = -1, r = 0;

	if (fstatat(F->fd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
		problem(w, "%s/%s: %s", F->path, name,
			errno == ENOENT ? "vanished while read" : strerror(errno));
		return 0;
	}
	memset(w->pres, R_UNKNOWN, w->n_lowers);
	isdir = S_ISDIR(ust.st_mode);
	if (isdir) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/%s", F->path, name);
		fd = open_dir(w, F->fd, name, p);
		if (fd >= 0)
			opaque = upper_opaque(w, fd, p);
	}

	if (is_whiteout(&ust)) {
		kind = 'D';
	} else if (opaque) {
		/* replaced: deleted if a layer has it, unless a whiteout
		 * there hides it */
		for (size_t i = 0; i < w->n_lowers && !kind; i++) {
			int k;

			if (F->pst[i] == P_BLOCKED)
				break;
			k = podman_at(w, F, i, name);
			if (k == R_WHITEOUT)
				break;
			if (k != R_NONE)
				kind = 'D';
		}
	}
	if (!kind) {
		kind = 'A';
		for (size_t i = 0; i < w->n_lowers; i++) {
			int k;

			if (F->pst[i] == P_BLOCKED)
				break;
			k = podman_at(w, F, i, name);
			if (k == R_NONE)
				continue;
			if (k == R_WHITEOUT)
				break;
			const struct stat *s = &w->pst_buf[i];

			if (isdir && S_ISDIR(s->st_mode) &&
			    s->st_size == ust.st_size && s->st_mode == ust.st_mode &&
			    podman_same_time(&s->st_mtim, &ust.st_mtim))
				skip = true;
			else
				kind = 'C';
			break;
		}
	}
	if (kind == 'D') /* what was deleted, as the first layer shows it */
		for (size_t i = 0; i < w->n_lowers && !lst; i++) {
			int k = podman_at(w, F, i, name);

			if (k == R_DIR || k == R_OTHER)
				lst = &w->pst_buf[i];
		}

	if (!skip) {
		emit(w, F->path, name, kind, kind == 'D' ? lst : &ust, opaque);
		if (kind == 'A' || kind == 'D')
			for (size_t j = fi; j > 0 && !w->stop; j--) {
				struct frame *a = &w->frames[j];

				if (a->reported)
					continue;
				emit(w, a->path, NULL, 'C', &a->st, a->replaced);
				a->reported = true;
			}
	}
	if (!isdir || fd < 0)
		goto out;
	pst = malloc(w->n_lowers ? w->n_lowers : 1);
	if (!pst) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n_lowers; i++) {
		int k = F->pst[i] == P_DIR ? podman_at(w, F, i, name) : R_NONE;

		pst[i] = F->pst[i] == P_BLOCKED || k == R_WHITEOUT ? P_BLOCKED
			 : k == R_DIR				  ? P_DIR
								  : P_ABSENT;
	}
	{
		struct lstack none1 = { 0 }, none2 = { 0 };

		r = push_frame(w, fi, name, fd, &none1, &none2, true, pst, &ust,
			       opaque, !skip);
		fd = -1;
		pst = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(pst);
	if (r == -ENOMEM) {
		w->err = r;
		w->stop = true;
	}
	return r;
}

/* ---------------------------------------------------------------- walk */

/* trusted.* xattrs are invisible without CAP_SYS_ADMIN: a walk without
 * it would find no opaque directory, and say nothing. */
static bool can_read_trusted(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c) < 0)
		return true; /* cannot tell: let the reads speak */
	return c[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

/* The upper layer was deleted under the walk: the container was removed
 * meanwhile. The first problem said. */
static void layer_removed(struct walker *w)
{
	struct vg_diff *d = w->d;
	char *msg;

	if (asprintf(&msg, "/: the upper layer was deleted during the walk "
		     "(the container was removed?)") < 0)
		return;
	if (d->n_kept == VG_DIFF_PROBLEMS_KEPT)
		free(d->problems[--d->n_kept]);
	memmove(d->problems + 1, d->problems, d->n_kept * sizeof(*d->problems));
	d->problems[0] = msg;
	d->n_kept++;
	d->n_problems++;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct vg_diff_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void vg_diff_release(struct vg_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_entries; i++)
		free(d->entries[i].path);
	free(d->entries);
	for (size_t i = 0; i < d->n_kept; i++)
		free(d->problems[i]);
	memset(d, 0, sizeof(*d));
}

int vg_diff_layers(int upper_fd, const int *lower_fds, size_t n_lowers,
		   const struct vg_diff_opts *opts, struct vg_diff *ret)
{
	struct vg_diff d = { 0 };
	struct walker w = {
		.lower_fds = lower_fds,
		.n_lowers = n_lowers,
		.style = opts ? opts->style : VG_DIFF_DOCKER,
		.max_entries = opts && opts->max_entries ? opts->max_entries
							 : VG_DIFF_ENTRIES_MAX,
		.max_depth = opts && opts->max_depth ? opts->max_depth
						     : VG_DIFF_DEPTH_MAX,
		.xa_opaque = opts && opts->userxattr ? "user.overlay.opaque"
						     : "trusted.overlay.opaque",
		.xa_redirect = opts && opts->userxattr ? "user.overlay.redirect"
						       : "trusted.overlay.redirect",
		.d = &d,
	};
	struct lstack root = { 0 }, none = { 0 };
	uint8_t *pst = NULL;
	struct stat st;
	bool opaque;
	int fd, root_fd, r = 0;

	if (upper_fd < 0 || (n_lowers && !lower_fds) ||
	    n_lowers > VG_OVERLAY_LAYERS_MAX)
		return -EINVAL;
	w.names_max = w.max_entries * 2 > NAMES_MIN_MAX ? w.max_entries * 2
							: NAMES_MIN_MAX;
	/* a descriptor of our own: its own listing offset */
	fd = openat(upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	w.upper_dev = st.st_dev;
	w.pres = malloc(n_lowers ? n_lowers : 1);
	w.pst_buf = calloc(n_lowers ? n_lowers : 1, sizeof(*w.pst_buf));
	pst = malloc(n_lowers ? n_lowers : 1);
	if (!w.pres || !w.pst_buf || !pst) {
		close(fd);
		r = -ENOMEM;
		goto out;
	}
	memset(pst, P_DIR, n_lowers);
	if (!(opts && opts->userxattr) && !can_read_trusted()) {
		d.xattr_unsupported = true;
		problem(&w, "/: without CAP_SYS_ADMIN the trusted.overlay.* "
			"xattrs cannot be read: replaced directories cannot be "
			"told");
	}
	opaque = upper_opaque(&w, fd, "");
	for (size_t i = 0; i < n_lowers && r == 0; i++)
		r = lstack_push(&root, (uint32_t)i, "");
	if (r < 0) {
		close(fd);
		goto out;
	}
	if (w.style == VG_DIFF_PODMAN) {
		r = push_frame(&w, SIZE_MAX, NULL, fd, &none, &none, true, pst,
			       &st, opaque, true);
		pst = NULL;
	} else if (opaque) {
		r = push_frame(&w, SIZE_MAX, NULL, fd, &none, &root, false, NULL,
			       &st, true, true);
	} else {
		r = push_frame(&w, SIZE_MAX, NULL, fd, &root, &none, true, NULL,
			       &st, false, true);
	}
	root_fd = w.n_frames ? w.frames[0].fd : -1;
	while (r == 0 && w.n_frames > 0 && !w.stop) {
		size_t fi = w.n_frames - 1;
		struct frame *F = &w.frames[fi];

		if (F->next < F->names.n) {
			struct nref nr = F->names.v[F->next++];
			const char *name = F->names.buf + nr.off;

			if (w.style == VG_DIFF_PODMAN)
				r = podman_child(&w, fi, name);
			else
				r = docker_child(&w, fi, name, nr.from);
			continue;
		}
		if (w.style == VG_DIFF_DOCKER)
			docker_finish(&w, fi);
		/* a removed layer: say so first, not only each lost entry */
		if (fi == 0 && d.partial && fstat(root_fd, &st) == 0 &&
		    st.st_nlink == 0)
			layer_removed(&w);
		frame_release(&w.frames[fi]);
		w.n_frames--;
	}
	if (w.err)
		r = w.err;
out:
	while (w.n_frames > 0)
		frame_release(&w.frames[--w.n_frames]);
	free(w.frames);
	free(w.pres);
	free(w.pst_buf);
	free(pst);
	lstack_release(&root);
	if (r < 0) {
		vg_diff_release(&d);
		return r;
	}
	qsort(d.entries, d.n_entries, sizeof(*d.entries), cmp_entries);
	*ret = d;
	return 0;
}

/* A layer directory at host path @path under the host root @root_fd:
 * symlinks in the path resolve inside the host root. */
static int open_layer(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;
	int fd;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd < 0 ? -errno : fd;
	/* no openat2(): refuse what could climb out of the host root */
	if (strstr(path, "/../") || vg_startswith(rel, "../") ||
	    vg_endswith_n(rel, strlen(rel), "/..") || strcmp(rel, "..") == 0)
		return -EACCES;
	fd = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int vg_diff_rootfs(int root_fd, const struct vg_rootfs *rf,
		   const struct vg_diff_opts *opts, struct vg_diff *ret,
		   char *err, size_t errsz)
{
	struct vg_diff_opts o = opts ? *opts : (struct vg_diff_opts){ 0 };
	_cleanup_close_ int upper = -1;
	_cleanup_free_ int *lowers = NULL;
	size_t n = 0;
	int r;

	if (!rf->overlay || !rf->ovl.upperdir) {
		vg_set_err(err, errsz, "%s", !rf->overlay
			   ? "the root is not an overlay"
			   : "the overlay is read-only: it has no upper layer");
		return -EMEDIUMTYPE;
	}
	o.userxattr = rf->ovl.userxattr;
	lowers = calloc(rf->ovl.n_lowerdirs + 1, sizeof(*lowers));
	if (!lowers)
		return -ENOMEM;
	upper = open_layer(root_fd, rf->ovl.upperdir);
	if (upper < 0) {
		vg_set_err(err, errsz, "upper layer %s: %s", rf->ovl.upperdir,
			   strerror(-upper));
		return upper;
	}
	for (; n < rf->ovl.n_lowerdirs; n++) {
		lowers[n] = open_layer(root_fd, rf->ovl.lowerdirs[n]);
		if (lowers[n] < 0) {
			r = lowers[n];
			vg_set_err(err, errsz, "lower layer %s: %s",
				   rf->ovl.lowerdirs[n], strerror(-r));
			goto out;
		}
	}
	r = vg_diff_layers(upper, lowers, n, &o, ret);
	if (r < 0)
		vg_set_err(err, errsz, "%s", strerror(-r));
out:
	for (size_t i = 0; i < n; i++)
		close(lowers[i]);
	return r;
}
