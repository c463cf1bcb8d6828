/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <errno.h>
#include <sys/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* After a read that filled the buffer: is there more? */
static bool more_to_read(int fd)
{
	char probe;
	ssize_t n;

	do
		n = read(fd, &probe, 1);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

static int read_fd(int fd, size_t max, bool short_is_eof, char **ret_buf,
		   size_t *ret_len, bool *ret_truncated)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;

	/* /proc files report size 0; start small and grow up to the cap. */
	cap = max < 4096 ? max : 4096;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap;
			char *nbuf;

			if (cap >= max)
				break;
			ncap = cap > max / 2 ? max : cap * 2;
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (short_is_eof && len < cap)
			break;
	}

	/* Full to the cap: find out whether there was more. */
	bool truncated = len == max && more_to_read(fd);

	buf[len] = '\0';
	*ret_buf = VG_TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	if (ret_truncated)
		*ret_truncated = truncated;
	return 0;
}

static int read_file_at(int dirfd, const char *path, size_t max,
			bool short_is_eof, char **ret_buf, size_t *ret_len,
			bool *ret_truncated)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd(fd, max, short_is_eof, ret_buf, ret_len, ret_truncated);
}

int vg_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len,
	       bool *ret_truncated)
{
	return read_fd(fd, max, false, ret_buf, ret_len, ret_truncated);
}

int vg_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t vg_read_small_at(int dirfd, const char *path, char *buf, size_t bufsz)
{
	_cleanup_close_ int fd = -1;

	if (bufsz < 2)
		return -EINVAL;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return vg_read_small_fd(fd, buf, bufsz);
}

ssize_t vg_read_small_fd(int fd, char *buf, size_t bufsz)
{
	size_t len = 0;

	if (bufsz < 2)
		return -EINVAL;
	for (;;) {
		ssize_t n = read(fd, buf + len, bufsz - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len < bufsz - 1)
			break; /* short read: the end (see vg_read_file_at) */
		if (len == bufsz - 1) {
			if (more_to_read(fd))
				return -EFBIG;
			break;
		}
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t vg_readlink_at(int dirfd, const char *path, char *buf, size_t bufsz)
{
	ssize_t n;

	if (bufsz < 2)
		return -EINVAL;
	n = readlinkat(dirfd, path, buf, bufsz);
	if (n < 0)
		return -errno;
	if ((size_t)n >= bufsz)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return n;
}

int vg_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

int vg_parse_pid(const char *s, int *ret)
{
	uint64_t v;
	int r = vg_parse_u64(s, &v);

	if (r < 0)
		return r;
	/* PID_MAX_LIMIT is 2^22; anything above cannot be a pid. */
	if (v == 0 || v > (1u << 22))
		return -ERANGE;
	*ret = (int)v;
	return 0;
}

char *vg_u64_to_str(uint64_t v, char *out)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(out, tmp + i, sizeof(tmp) - i);
	return out + sizeof(tmp) - i;
}

bool vg_is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return len > 0;
}

void vg_unescape_octal(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7' &&
		    (s[1] != '0' || s[2] != '0' || s[3] != '0')) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

bool vg_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t vg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

bool vg_endswith_n(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

int vg_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf,
		    size_t *ret_len, bool *ret_truncated)
{
	return read_file_at(dirfd, path, max, false, ret_buf, ret_len,
			    ret_truncated);
}

int vg_read_proc_at(int dirfd, const char *path, size_t max, char **ret_buf,
		    size_t *ret_len, bool *ret_truncated)
{
	return read_file_at(dirfd, path, max, true, ret_buf, ret_len,
			    ret_truncated);
}

void vg_set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

uint64_t vg_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t vg_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vg_mount_private(const char *fstype)
{
	_cleanup_close_ int fs = -1;
	int m;

	fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					     MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	return m < 0 ? -errno : m;
}

/* ---- files under a host root ----------------------------------------- */

#define WALK_LINKS_MAX 40 /* the kernel's own limit (MAXSYMLINKS) */
#define WALK_DEPTH_MAX 64

/* Set once openat2() answered ENOSYS: the kernel predates it. */
static int no_openat2;

struct walk {
	int root_fd;
	int dirs[WALK_DEPTH_MAX]; /* the directories below the root; owned */
	size_t depth;
};

static int walk_cur(const struct walk *w)
{
	return w->depth ? w->dirs[w->depth - 1] : w->root_fd;
}

static void walk_pop(struct walk *w, size_t to)
{
	while (w->depth > to)
		close(w->dirs[--w->depth]);
}

/*
 * The last component: @fd is its O_PATH handle (taken), @st its stat.
 * O_PATH callers get that handle; others a real open of the same name,
 * which must still be the same file (it may have been swapped meanwhile).
 */
static int walk_last(const struct walk *w, const char *name, int fd,
		     const struct stat *st, int flags, bool dir)
{
	_cleanup_close_ int pfd = fd;
	struct stat nst;
	int nfd;

	if ((dir || (flags & O_DIRECTORY)) && !S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (flags & O_PATH)
		return VG_TAKE_FD(pfd);
	nfd = openat(walk_cur(w), name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	if (fstat(nfd, &nst) < 0 || nst.st_dev != st->st_dev ||
	    nst.st_ino != st->st_ino) {
		close(nfd);
		return -ESTALE;
	}
	return nfd;
}

int vg_open_in_root_walk(int root_fd, const char *path, int flags)
{
	struct walk w = { .root_fd = root_fd };
	_cleanup_free_ char *rest = NULL;
	unsigned links = 0;
	char *p;
	int r;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL;
	if (!path || !*path)
		return -ENOENT;
	rest = strdup(path);
	if (!rest)
		return -ENOMEM;
	for (p = rest;;) {
		char *name, *end, *next;
		bool last, trailing;
		struct stat st;
		int fd;

		while (*p == '/')
			p++;
		if (!*p) {
			/* ended on a directory: the root, or after "." or ".." */
			fd = openat(walk_cur(&w), ".", O_PATH | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0) {
				r = -errno;
				if (fd >= 0)
					close(fd);
				goto out;
			}
			r = walk_last(&w, ".", fd, &st, flags, true);
			goto out;
		}
		name = p;
		end = name + strcspn(name, "/");
		trailing = *end == '/';
		for (p = end; *p == '/'; p++)
			;
		last = !*p;
		*end = '\0';
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			/* the root is its own parent */
			walk_pop(&w, w.depth ? w.depth - 1 : 0);
			continue;
		}
		fd = openat(walk_cur(&w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode) && last && !trailing &&
		    (flags & O_NOFOLLOW)) {
			/* as open(2): O_PATH gets the link itself */
			if (flags & O_PATH) {
				r = fd;
				goto out;
			}
			close(fd);
			r = -ELOOP;
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			size_t tail = strlen(p);
			bool sep = !last || trailing;
			ssize_t n;

			if (++links > WALK_LINKS_MAX) {
				close(fd);
				r = -ELOOP;
				goto out;
			}
			n = readlinkat(fd, "", target, sizeof(target));
			r = n < 0 ? -errno : 0;
			close(fd);
			if (r < 0)
				goto out;
			if (n == 0 || (size_t)n >= sizeof(target)) {
				r = n == 0 ? -ENOENT : -ENAMETOOLONG;
				goto out;
			}
			if (target[0] == '/')
				walk_pop(&w, 0);
			/* the target, then what followed the link; a '/'
			 * after the link still asks for a directory */
			next = malloc((size_t)n + sep + tail + 1);
			if (!next) {
				r = -ENOMEM;
				goto out;
			}
			memcpy(next, target, (size_t)n);
			if (sep)
				next[n] = '/';
			memcpy(next + n + sep, p, tail + 1);
			free(rest);
			rest = p = next;
			continue;
		}
		if (last) {
			r = walk_last(&w, name, fd, &st, flags, trailing);
			goto out;
		}
		if (!S_ISDIR(st.st_mode) || w.depth == WALK_DEPTH_MAX) {
			r = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
			close(fd);
			goto out;
		}
		w.dirs[w.depth++] = fd;
	}
out:
	walk_pop(&w, 0);
	return r;
}

int vg_open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL; /* existing files only */
	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how,
				      sizeof(how));

		if (fd >= 0)
			return fd;
		if (errno == ENOSYS)
			__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
		else if (errno != EPERM)
			return -errno;
		/* EPERM: a seccomp filter older than openat2; a real
		 * permission error comes back from the walk as well */
	}
	return vg_open_in_root_walk(root_fd, path, flags);
}

const char *vg_strerror(int errnum)
{
	return errnum == VG_ENOTREG ? "not a regular file" : strerror(errnum);
}

int vg_open_state_at(int root_fd, const char *path, int flags,
		     struct stat *ret_st)
{
	_cleanup_close_ int pfd = -1;
	struct stat st, nst;
	char proc[32];
	int fd;

	if (flags & ~O_NOFOLLOW)
		return -EINVAL;
	pfd = vg_open_in_root(root_fd, path, O_PATH | flags);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -VG_ENOTREG;
	/* The very file just checked, through its handle. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno != ENOENT)
		return -errno;
	if (fd < 0) {
		/* no /proc: resolve again; O_NONBLOCK keeps a FIFO swapped
		 * in meanwhile from hanging the open, and it is refused as
		 * another file */
		fd = vg_open_in_root(root_fd, path, O_RDONLY | O_NOCTTY |
					 O_NONBLOCK | flags);
		if (fd < 0)
			return fd;
		if (fstat(fd, &nst) < 0 || nst.st_dev != st.st_dev ||
		    nst.st_ino != st.st_ino) {
			close(fd);
			return -ESTALE;
		}
	}
	if (ret_st)
		*ret_st = st;
	return fd;
}

int vg_read_state_at(int root_fd, const char *path, size_t max,
		     char **ret_buf, size_t *ret_len, bool *ret_truncated)
{
	_cleanup_close_ int fd = vg_open_state_at(root_fd, path, 0, NULL);

	if (fd < 0)
		return fd;
	return read_fd(fd, max, false, ret_buf, ret_len, ret_truncated);
}

ssize_t vg_read_state_small_at(int root_fd, const char *path, char *buf,
			       size_t bufsz)
{
	_cleanup_close_ int fd = -1;

	if (bufsz < 2)
		return -EINVAL;
	fd = vg_open_state_at(root_fd, path, 0, NULL);
	if (fd < 0)
		return fd;
	return vg_read_small_fd(fd, buf, bufsz);
}
