/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filter text → a filter, evaluated against two events and a getter
 * that has every field, and one that has none. A filter that compiles
 * must format to text that compiles to the same text again; one that
 * does not must say where, inside the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"

struct event {
	const char *str;   /* every string field and label holds this */
	int64_t n;         /* every number field */
};

static int get_all(void *ctx, int id, const char *key, size_t key_len,
		   struct vg_fval *ret)
{
	const struct event *e = ctx;

	/* a key or argument is NUL-terminated at its length; the labels
	 * always have one */
	if ((id == VG_F_CONTAINER_LABEL || id == VG_F_K8S_POD_LABEL) && !key)
		abort();
	if (!key != !key_len || (key && strlen(key) != key_len))
		abort();
	/* a multi-valued field has three values; the others are asked
	 * for the first only */
	if (ret->idx >= 3)
		return 0;
	if (vg_filter_field_type(id) == VG_FILTER_NUM)
		ret->n = e->n;
	/* no NUL after the value: the filter goes by its length */
	ret->s = e->str;
	ret->len = strlen(e->str) - 1;
	return 1;
}

static int get_none(void *ctx, int id, const char *key, size_t key_len,
		    struct vg_fval *ret)
{
	(void)ctx, (void)id, (void)key, (void)key_len, (void)ret;
	return 0;
}

static uint64_t type_bits(const char *name, void *ctx)
{
	(void)ctx;
	return 1ull << (strlen(name) % 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct event evs[] = {
		{ "shX", 0 },
		{ "/etc/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*X", -111 },
	};
	struct vg_filter *f = NULL, *g = NULL;
	struct vg_filter_error err;
	char *text, *a, *b;
	int r, n;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = vg_filter_compile(text, &f, &err);
	if (r < 0) {
		if (r != -EINVAL || f || !err.msg[0] ||
		    !memchr(err.msg, '\0', sizeof(err.msg)) || err.column < 1 ||
		    (size_t)err.column > strlen(text) + 1)
			abort();
		free(text);
		return 0;
	}
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		vg_filter_match(f, get_all, (void *)&evs[i]);
	vg_filter_match(f, get_none, NULL);
	vg_filter_type_mask(f, type_bits, NULL);
	for (int id = 0; id < VG_F_COUNT; id++)
		vg_filter_uses_field(f, id);

	n = vg_filter_format(f, NULL, 0);
	a = malloc((size_t)n + 1);
	if (!a)
		abort();
	if (vg_filter_format(f, a, (size_t)n + 1) != n || strlen(a) != (size_t)n)
		abort();
	/* the canonical text puts spaces around operators, so an input
	 * near the size bound may format past it */
	if (n <= VG_FILTER_MAX_LEN) {
		if (vg_filter_compile(a, &g, &err) != 0)
			abort();
		/* and it means the same */
		for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
			if (vg_filter_match(f, get_all, (void *)&evs[i]) !=
			    vg_filter_match(g, get_all, (void *)&evs[i]))
				abort();
		if (vg_filter_match(f, get_none, NULL) !=
		    vg_filter_match(g, get_none, NULL) ||
		    vg_filter_type_mask(f, type_bits, NULL) !=
		    vg_filter_type_mask(g, type_bits, NULL))
			abort();
		b = malloc((size_t)n + 1);
		if (!b || vg_filter_format(g, b, (size_t)n + 1) != n ||
		    strcmp(a, b) != 0)
			abort();
		free(b);
		vg_filter_free(g);
	}
	free(a);
	vg_filter_free(f);
	free(text);
	return 0;
}
