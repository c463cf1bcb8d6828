/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <errno.h>
#include <sys/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

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
	size_t len = 0;

	if (bufsz < 2)
		return -EINVAL;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
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
