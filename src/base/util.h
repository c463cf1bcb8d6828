/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_UTIL_H
#define VG_BASE_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#define VG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void vg_freep(void *p) { free(*(void **)p); }
static inline void vg_closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(vg_freep)))
#define _cleanup_close_ __attribute__((cleanup(vg_closep)))

/* Hand ownership out of a _cleanup_ variable. */
#define VG_TAKE_PTR(p)                                                         \
	({                                                                     \
		__typeof__(p) _t = (p);                                        \
		(p) = NULL;                                                    \
		_t;                                                            \
	})
#define VG_TAKE_FD(fd)                                                         \
	({                                                                     \
		int _t = (fd);                                                 \
		(fd) = -1;                                                     \
		_t;                                                            \
	})

/*
 * Read at most @max bytes of @path (relative to @dirfd) into a new
 * NUL-terminated buffer. Files larger than @max are cut and *ret_truncated
 * is set; a read never grows past @max + 1 bytes of memory, however large
 * (or endless) the file is. Returns 0 or -errno; on success the caller
 * frees *ret_buf with free().
 */
int vg_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf,
		    size_t *ret_len, bool *ret_truncated);

/* The same for an open @fd (the caller keeps it), read to its end. */
int vg_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len,
	       bool *ret_truncated);

/*
 * The same for a per-process /proc file the kernel writes as one record
 * (stat, status, cgroup: single_open; cmdline): a read shorter than asked
 * is the end, which saves the read that would return 0. Not for
 * multi-record seq files (mountinfo, /proc/net/...), where a short read
 * only means the next record did not fit.
 */
int vg_read_proc_at(int dirfd, const char *path, size_t max, char **ret_buf,
		    size_t *ret_len, bool *ret_truncated);

/*
 * Read a small file (≤ @bufsz - 1 bytes) into a caller buffer. Returns
 * the length, -EFBIG when the file does not fit, or -errno.
 */
ssize_t vg_read_small_at(int dirfd, const char *path, char *buf, size_t bufsz);

/* The same for an open @fd (the caller keeps it). */
ssize_t vg_read_small_fd(int fd, char *buf, size_t bufsz);

/*
 * Files under a host root. @root_fd is the host root (or a container's
 * root, /proc/PID/root); @path is relative to it, and a leading '/' means
 * the root too. Every symlink on the way, absolute or relative, and every
 * "..", resolves inside the root, never against vigil's own: the host
 * root behaves as "/" for the path, as chroot(2) would make it.
 */

/*
 * open(2) the existing file @path inside the root @root_fd with @flags
 * (O_CLOEXEC is always added; O_CREAT and O_TMPFILE are -EINVAL). openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); on kernels
 * without openat2 (before 5.6), or where a seccomp filter refuses it
 * (EPERM), vg_open_in_root_walk(). Returns the fd or -errno.
 */
int vg_open_in_root(int root_fd, const char *path, int flags);

/*
 * The same without openat2: the path is walked a component at a time,
 * each opened O_PATH | O_NOFOLLOW relative to the directory before it,
 * and symlinks are read and followed by hand: an absolute target restarts
 * at @root_fd, ".." never climbs above it (the walk keeps its own stack
 * of directories, so a directory moved meanwhile cannot lead out). A
 * magic link (/proc/PID/fd/N) is followed as the text it reads as, inside
 * the root, never to the kernel object behind it. At most 40 symlinks and
 * 64 directories deep (-ELOOP, -ENAMETOOLONG). Exposed for tests and for
 * those kernels; use vg_open_in_root().
 */
int vg_open_in_root_walk(int root_fd, const char *path, int flags);

/* What the state readers return for a path that is not a regular file (a
 * FIFO, a socket, a device node, a directory). Linux has no EFTYPE; open
 * and read never answer EMEDIUMTYPE for files on disk. vg_strerror()
 * names it "not a regular file". */
#define VG_ENOTREG EMEDIUMTYPE

/* strerror(), knowing vigil's own meaning of VG_ENOTREG. @errnum > 0. */
const char *vg_strerror(int errnum);

/*
 * Open a runtime's state file @path inside the root @root_fd for reading:
 * resolved as vg_open_in_root() does, and only if it is a regular file
 * (else -VG_ENOTREG). The file is first reached with O_PATH and checked,
 * then reopened through that handle, so nothing else is ever opened for
 * reading: a FIFO planted at the path is not waited on, a device node's
 * driver never sees an open. The fd is O_RDONLY | O_CLOEXEC | O_NOCTTY |
 * O_NONBLOCK. @flags is 0, or O_NOFOLLOW: a symlink as the last
 * component is refused (-ELOOP). *ret_st (may be NULL) gets the file's
 * stat. Returns the fd, or -errno.
 */
int vg_open_state_at(int root_fd, const char *path, int flags,
		     struct stat *ret_st);

/* vg_read_file_at() and vg_read_small_at() for state files, opened by
 * vg_open_state_at(root_fd, path, 0, NULL). */
int vg_read_state_at(int root_fd, const char *path, size_t max,
		     char **ret_buf, size_t *ret_len, bool *ret_truncated);
ssize_t vg_read_state_small_at(int root_fd, const char *path, char *buf,
			       size_t bufsz);

/* Send all of @buf on the (blocking) socket @fd, retrying on EINTR,
 * without raising SIGPIPE. Returns 0 or -errno (-EPIPE: the peer closed). */
int vg_send_all(int fd, const void *buf, size_t len);

/* readlinkat() into a NUL-terminated caller buffer; -ENAMETOOLONG if cut. */
ssize_t vg_readlink_at(int dirfd, const char *path, char *buf, size_t bufsz);

/* Strict decimal parsers: the whole string must be a number in range. */
int vg_parse_u64(const char *s, uint64_t *ret);
int vg_parse_pid(const char *s, int *ret);

/* Write @v in decimal at @out (room for 20 bytes, no NUL); returns the
 * end. For hot paths where printf's cost shows. */
char *vg_u64_to_str(uint64_t v, char *out);

/* True when s[0..len) is all lowercase hex digits. */
bool vg_is_hex(const char *s, size_t len);

bool vg_startswith(const char *s, const char *prefix);

/* Levenshtein distance between @a and @b, for "did you mean"; strings of
 * 32 bytes or more are far from everything (99). */
size_t vg_edit_distance(const char *a, const char *b);

/* Undo mountinfo's \ooo escapes (space, tab, newline, backslash, and in
 * option values commas) in place. A \000 would end the string: kept as
 * it is. */
void vg_unescape_octal(char *s);

/* FNV-1a, 64 bits: cache slots, and bbolt's meta checksum. */
uint64_t vg_fnv1a64(const void *data, size_t len);

/* @clock (CLOCK_MONOTONIC, ..._COARSE) in nanoseconds. */
uint64_t vg_clock_ns(clockid_t clock);

/* printf into a caller's error buffer; does nothing when @err is NULL or
 * @errsz is 0. */
void vg_set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vg_endswith_n(const char *s, size_t len, const char *suffix);

/* A private, detached, read-only mount of @fstype ("tracefs",
 * "securityfs"): it belongs to no mount table and no other process sees
 * it. Returns the fd of its root, or -errno. */
int vg_mount_private(const char *fstype);

#endif
