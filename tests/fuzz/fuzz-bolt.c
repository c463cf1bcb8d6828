/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Any bytes as a bbolt file: open, then walk every bucket it reaches with
 * foreach and read every key back with get. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/bolt.h"
#include "base/util.h"

/* The reader bounds each call; these bound the harness, which could
 * otherwise follow many bucket entries to one shared subtree again and
 * again. */
#define MAX_DEPTH 8
#define MAX_WALKS 256

struct ctx {
	const struct vg_bolt *b;
	const char *path[MAX_DEPTH];
	size_t depth;
	unsigned walks;
	volatile uint8_t sink;
};

static int walk(struct ctx *c);

static int visit(const void *k, size_t klen, const void *v, size_t vlen,
		 bool is_bucket, void *userdata)
{
	struct ctx *c = userdata;
	const void *gv = NULL;
	size_t gl = 0;
	char *key;
	int r;

	/* Every byte handed out must be readable (ASan checks the range). */
	for (size_t i = 0; i < klen; i++)
		c->sink ^= ((const uint8_t *)k)[i];
	if (is_bucket ? v != NULL || vlen != 0 : v == NULL && vlen != 0)
		__builtin_trap();
	if (v)
		for (size_t i = 0; i < vlen; i++)
			c->sink ^= ((const uint8_t *)v)[i];

	/* The API names keys as C strings: one with a NUL cannot be asked. */
	if (memchr(k, 0, klen))
		return 0;
	key = strndup(k, klen);
	if (!key)
		return 0;
	r = vg_bolt_get(c->b, c->path, c->depth, key, &gv, &gl);
	if (r != 0 && r != -ENOENT && r != -EISDIR && r != -EINVAL)
		__builtin_trap();
	if (r == 0)
		for (size_t i = 0; i < gl; i++)
			c->sink ^= ((const uint8_t *)gv)[i];
	if (is_bucket && c->depth < MAX_DEPTH) {
		c->path[c->depth++] = key;
		walk(c);
		c->depth--;
	}
	free(key);
	return 0;
}

static int walk(struct ctx *c)
{
	int r;

	if (c->walks++ >= MAX_WALKS)
		return 0;
	r = vg_bolt_foreach(c->b, c->path, c->depth, visit, c);
	if (r != 0 && r != -ENOENT && r != -EINVAL)
		__builtin_trap();
	return r;
}

static void run(const uint8_t *data, size_t size)
{
	struct vg_bolt *b = NULL;
	char err[128];
	struct ctx c = { 0 };
	int r;

	err[0] = '\0';
	r = vg_bolt_open_buf(data, size, &b, err, sizeof(err));
	if (r < 0) {
		/* a refusal always says why */
		if (r != -EINVAL || !err[0] || b)
			__builtin_trap();
		return;
	}
	c.b = b;
	walk(&c);
	vg_bolt_free(b);
}

/* A mutated meta almost never keeps its checksum, which would keep the
 * fuzzer out of the pages; so each input is also tried with both metas
 * (at 0 and at the page size meta 0 names) sealed again. */
static void reseal(uint8_t *d, size_t size)
{
	uint32_t ps;
	uint64_t sum;

	if (size < 96)
		return;
	memcpy(&ps, d + 24, sizeof(ps));
	sum = vg_fnv1a64(d + 16, 56);
	memcpy(d + 72, &sum, sizeof(sum));
	if (ps >= 96 && ps <= size - 96) {
		sum = vg_fnv1a64(d + ps + 16, 56);
		memcpy(d + ps + 72, &sum, sizeof(sum));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	run(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	reseal(copy, size);
	run(copy, size);
	free(copy);
	return 0;
}
