/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RUNTIME_BOLT_H
#define VG_RUNTIME_BOLT_H

#include <stdbool.h>
#include <stddef.h>

/* A read-only reader for bbolt database files (podman's libpod state,
 * containerd's metadata). The whole file is read into memory once;
 * every page reference is bounds-checked, every walk depth-limited, so a
 * corrupt or hostile file yields -EINVAL, never a crash. */
struct vg_bolt;

/* Reads @path (relative to @dirfd) if it is at most @max_size bytes and
 * has a valid meta page. Returns 0 and a handle the caller frees with
 * vg_bolt_free(); -ENOENT, -E2BIG, -EINVAL (err says why), -ENOMEM. */
int vg_bolt_open_at(int dirfd, const char *path, size_t max_size,
		    struct vg_bolt **ret, char *err, size_t errsz);

/* The same from the open file @fd (the caller keeps it; read from its
 * current offset); @what names it in @err. */
int vg_bolt_open_fd(int fd, const char *what, size_t max_size,
		    struct vg_bolt **ret, char *err, size_t errsz);

/* The same from a buffer (copied). */
int vg_bolt_open_buf(const void *buf, size_t len, struct vg_bolt **ret,
		     char *err, size_t errsz);

void vg_bolt_free(struct vg_bolt *b);

/* The value at bucket path @buckets[0..n-1] then @key. On success *val
 * points into the handle's memory (valid until vg_bolt_free()).
 * Returns 0, -ENOENT, -EISDIR (the key is a bucket), -EINVAL (corrupt). */
int vg_bolt_get(const struct vg_bolt *b, const char *const *buckets,
		size_t n, const char *key, const void **val, size_t *val_len);

/* Calls @cb for every key of the bucket at @buckets[0..n-1] (n = 0: the
 * root), in key order; @is_bucket tells a nested bucket (then @v is
 * NULL). A non-zero return from @cb stops the walk and is returned.
 * Returns 0, -ENOENT, -EINVAL (corrupt), or @cb's value. */
int vg_bolt_foreach(const struct vg_bolt *b, const char *const *buckets,
		    size_t n,
		    int (*cb)(const void *k, size_t klen, const void *v,
			      size_t vlen, bool is_bucket, void *userdata),
		    void *userdata);

#endif
