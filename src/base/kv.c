/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vg_kv_release(struct vg_kv *kv)
{
	if (!kv)
		return;
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->pairs[i].key);
		free(kv->pairs[i].value);
	}
	free(kv->pairs);
	*kv = (struct vg_kv)VG_KV_INIT;
}

/* Index of @key, or of where it would go (*found false). */
static size_t kv_find(const struct vg_kv *kv, const char *key, bool *found)
{
	size_t lo = 0, hi = kv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(kv->pairs[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int vg_kv_set(struct vg_kv *kv, const char *key, const char *value)
{
	bool found;
	size_t at;
	char *v;

	if (strlen(key) > VG_KV_MAX_KEY || strlen(value) > VG_KV_MAX_VALUE)
		return -E2BIG;
	at = kv_find(kv, key, &found);
	if (!found && kv->n >= VG_KV_MAX_PAIRS)
		return -E2BIG;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (found) {
		free(kv->pairs[at].value);
		kv->pairs[at].value = v;
		return 0;
	}
	if (kv->n == kv->cap) {
		size_t ncap = kv->cap ? kv->cap * 2 : 8;
		struct vg_kv_pair *np = realloc(kv->pairs, ncap * sizeof(*np));

		if (!np) {
			free(v);
			return -ENOMEM;
		}
		kv->pairs = np;
		kv->cap = ncap;
	}
	char *k = strdup(key);

	if (!k) {
		free(v);
		return -ENOMEM;
	}
	memmove(&kv->pairs[at + 1], &kv->pairs[at],
		(kv->n - at) * sizeof(*kv->pairs));
	kv->pairs[at] = (struct vg_kv_pair){ k, v };
	kv->n++;
	return 0;
}

const char *vg_kv_get(const struct vg_kv *kv, const char *key)
{
	bool found;
	size_t at;

	if (!kv || kv->n == 0)
		return NULL;
	at = kv_find(kv, key, &found);
	return found ? kv->pairs[at].value : NULL;
}

int vg_kv_copy(const struct vg_kv *src, struct vg_kv *ret)
{
	struct vg_kv out = VG_KV_INIT;

	if (src->n) {
		out.pairs = calloc(src->n, sizeof(*out.pairs));
		if (!out.pairs)
			return -ENOMEM;
		out.cap = src->n;
	}
	for (size_t i = 0; i < src->n; i++) {
		out.pairs[i].key = strdup(src->pairs[i].key);
		out.pairs[i].value = strdup(src->pairs[i].value);
		out.n++;
		if (!out.pairs[i].key || !out.pairs[i].value) {
			vg_kv_release(&out);
			return -ENOMEM;
		}
	}
	*ret = out;
	return 0;
}

bool vg_kv_equal(const struct vg_kv *a, const struct vg_kv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->pairs[i].key, b->pairs[i].key) ||
		    strcmp(a->pairs[i].value, b->pairs[i].value))
			return false;
	return true;
}
