/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder until the reader lands */
#include <errno.h>
#include "runtime/bolt.h"
int vg_bolt_open_at(int dirfd, const char *path, size_t max_size,
		    struct vg_bolt **ret, char *err, size_t errsz)
{ (void)dirfd; (void)path; (void)max_size; (void)ret; (void)err; (void)errsz; return -ENOSYS; }
void vg_bolt_free(struct vg_bolt *b) { (void)b; }
int vg_bolt_get(const struct vg_bolt *b, const char *const *buckets,
		size_t n, const char *key, const void **val, size_t *val_len)
{ (void)b; (void)buckets; (void)n; (void)key; (void)val; (void)val_len; return -ENOSYS; }
