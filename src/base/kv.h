/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_KV_H
#define VG_BASE_KV_H

#include <stdbool.h>
#include <stddef.h>

/* A string map (labels, annotations), kept sorted by key so output is
 * deterministic and lookups are a binary search. Keys are unique. */
struct vg_kv_pair {
	char *key;
	char *value;
};

struct vg_kv {
	struct vg_kv_pair *pairs;
	size_t n, cap;
};

#define VG_KV_INIT { 0 }

/* Limits that keep a hostile state file from growing a map without end. */
#define VG_KV_MAX_PAIRS 4096
#define VG_KV_MAX_KEY   1024
#define VG_KV_MAX_VALUE (256 * 1024)

void vg_kv_release(struct vg_kv *kv);

/* Sets @key to @value (both copied), replacing an existing value.
 * Returns 0, -ENOMEM, or -E2BIG when a limit above is hit (nothing
 * changed). */
int vg_kv_set(struct vg_kv *kv, const char *key, const char *value);

/* The value for @key, or NULL. Borrowed: valid until @kv changes. */
const char *vg_kv_get(const struct vg_kv *kv, const char *key);

/* Deep copy into an empty @ret. Returns 0 or -ENOMEM (@ret left empty). */
int vg_kv_copy(const struct vg_kv *src, struct vg_kv *ret);

bool vg_kv_equal(const struct vg_kv *a, const struct vg_kv *b);

#endif
