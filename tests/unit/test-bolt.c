/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bbolt reader against a real podman 4.3 state file, files written by
 * tests/fixtures/bolt/mkbolt.py, and those files damaged on purpose: each
 * damage must give an error, never a crash or a loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/bolt.h"
#include "base/util.h"

#define MiB (1024 * 1024)
#define PODMAN_CTR "5738b5f7f510d5325a04373557c2f74dbd37de4c4dbb69c40f614425aade652e"
#define NESTED_PS 4096

static int fixtures_fd = -1;

static int setup(void **state)
{
	const char *base = getenv("VIGIL_FIXTURES");
	char path[4096];

	(void)state;
	if (!base)
		return -1;
	snprintf(path, sizeof(path), "%s/bolt", base);
	fixtures_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fixtures_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fixtures_fd >= 0)
		close(fixtures_fd);
	return 0;
}

static uint8_t *load(const char *name, size_t *ret_len)
{
	char *buf = NULL;
	bool cut = true;

	assert_int_equal(vg_read_file_at(fixtures_fd, name, 16 * MiB, &buf,
					 ret_len, &cut), 0);
	assert_false(cut);
	return (uint8_t *)buf;
}

static struct vg_bolt *open_ok(const uint8_t *d, size_t len)
{
	struct vg_bolt *b = NULL;
	char err[256] = "";

	assert_int_equal(vg_bolt_open_buf(d, len, &b, err, sizeof(err)), 0);
	assert_non_null(b);
	return b;
}

/* Opening must fail with @want and say why. */
static void open_fails(const uint8_t *d, size_t len, int want)
{
	struct vg_bolt *b = (struct vg_bolt *)0x1;
	char err[256] = "";

	assert_int_equal(vg_bolt_open_buf(d, len, &b, err, sizeof(err)), want);
	assert_ptr_equal(b, (struct vg_bolt *)0x1); /* ret_* untouched */
	assert_true(err[0] != '\0');
}

/* Little-endian field access for damaging the fixtures. */
static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Meta @idx's fields start 16 bytes into its page. */
static uint8_t *meta(uint8_t *d, int idx)
{
	return d + (size_t)idx * NESTED_PS + 16;
}

static void meta_reseal(uint8_t *d, int idx)
{
	put64(meta(d, idx) + 56, fnv(meta(d, idx), 56));
}

/* The file offset of @key's element in the leaf page @pgid. */
static size_t leaf_elem_off(const uint8_t *d, uint64_t pgid, const char *key)
{
	const uint8_t *p = d + pgid * NESTED_PS;
	unsigned count = p[10] | p[11] << 8;

	assert_int_equal(p[8], 0x02);
	for (unsigned i = 0; i < count; i++) {
		size_t e = pgid * NESTED_PS + 16 + 16 * i;
		uint32_t pos = get32(d + e + 4), ksize = get32(d + e + 8);

		if (ksize == strlen(key) && memcmp(d + e + pos, key, ksize) == 0)
			return e;
	}
	fail_msg("no key %s in page %llu", key, (unsigned long long)pgid);
	return 0;
}

static const uint8_t *elem_value(const uint8_t *d, size_t e)
{
	return d + e + get32(d + e + 4) + get32(d + e + 8);
}

static uint64_t root_pgid(const uint8_t *d)
{
	return get64(d + NESTED_PS + 16 + 16); /* meta 1 has the higher txid */
}

/* The root page of top-level bucket @name. */
static uint64_t bucket_pgid(const uint8_t *d, const char *name)
{
	return get64(elem_value(d, leaf_elem_off(d, root_pgid(d), name)));
}

/* foreach results, flattened to "key" / "key/" (bucket) / "key=value". */
struct collect {
	char out[8192];
	size_t n;
	int stop_after;
};

static int collect_cb(const void *k, size_t klen, const void *v, size_t vlen,
		      bool is_bucket, void *userdata)
{
	struct collect *c = userdata;
	size_t used = strlen(c->out);

	if (is_bucket)
		assert_null(v);
	snprintf(c->out + used, sizeof(c->out) - used, "%s%.*s%s%.*s",
		 c->n ? " " : "", (int)klen, (const char *)k,
		 is_bucket ? "/" : (vlen <= 16 ? "=" : ""),
		 vlen <= 16 ? (int)vlen : 0, v ? (const char *)v : "");
	c->n++;
	if (c->stop_after && (int)c->n == c->stop_after)
		return 42;
	return 0;
}

static void expect_get(const struct vg_bolt *b, const char *const *bk, size_t n,
		       const char *key, const char *want)
{
	const void *v = NULL;
	size_t vl = 0;

	assert_int_equal(vg_bolt_get(b, bk, n, key, &v, &vl), 0);
	assert_int_equal(vl, strlen(want));
	assert_memory_equal(v, want, vl);
}

static void test_nested(void **state)
{
	size_t len;
	_cleanup_free_ uint8_t *d = load("nested.db", &len);
	struct vg_bolt *b = open_ok(d, len);
	const char *alpha[] = { "alpha" }, *sub[] = { "alpha", "sub" };
	const char *deeper[] = { "alpha", "deep", "deeper" };
	const char *deep[] = { "alpha", "deep" }, *inl[] = { "inl" };
	const char *big[] = { "big" }, *many[] = { "many" };
	const char *voidb[] = { "void" }, *through[] = { "alpha", "k1" };
	const char *nob[] = { "nope" };
	struct collect c = { 0 };
	const void *v = (void *)0x1;
	size_t vl = 7;

	(void)state;
	expect_get(b, alpha, 1, "k1", "v1");
	expect_get(b, alpha, 1, "k2", "v2");
	expect_get(b, alpha, 1, "empty", "");
	expect_get(b, sub, 2, "x", "1");     /* inline bucket */
	expect_get(b, sub, 2, "y", "2");
	expect_get(b, deep, 2, "name", "deep");
	expect_get(b, deeper, 3, "leaf", "yes");
	expect_get(b, inl, 1, "b", "2");
	expect_get(b, big, 1, "small", "s");

	/* a value over two pages, in an overflow page */
	assert_int_equal(vg_bolt_get(b, big, 1, "blob", &v, &vl), 0);
	assert_int_equal(vl, 10000);
	for (size_t i = 0; i < vl; i++)
		assert_int_equal(((const uint8_t *)v)[i], (i * 7) % 251);

	/* three levels of pages: every key found by search */
	for (int i = 0; i < 300; i++) {
		char k[16], want[16];

		snprintf(k, sizeof(k), "key%03d", i);
		snprintf(want, sizeof(want), "value%03d", i);
		expect_get(b, many, 1, k, want);
	}

	v = (void *)0x1;
	vl = 7;
	assert_int_equal(vg_bolt_get(b, alpha, 1, "k0", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, alpha, 1, "k3", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, alpha, 1, "", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, many, 1, "key300", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, many, 1, "a", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, nob, 1, "k1", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, through, 2, "x", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, voidb, 1, "x", &v, &vl), -ENOENT);
	assert_int_equal(vg_bolt_get(b, alpha, 1, "sub", &v, &vl), -EISDIR);
	assert_int_equal(vg_bolt_get(b, alpha, 1, "deep", &v, &vl), -EISDIR);
	assert_int_equal(vg_bolt_get(b, NULL, 0, "alpha", &v, &vl), -EISDIR);
	assert_ptr_equal(v, (void *)0x1);
	assert_int_equal(vl, 7);

	assert_int_equal(vg_bolt_foreach(b, NULL, 0, collect_cb, &c), 0);
	assert_string_equal(c.out, "alpha/ big/ inl/ many/ void/");
	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, alpha, 1, collect_cb, &c), 0);
	assert_string_equal(c.out, "deep/ empty= k1=v1 k2=v2 sub/");
	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, sub, 2, collect_cb, &c), 0);
	assert_string_equal(c.out, "x=1 y=2");
	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, big, 1, collect_cb, &c), 0);
	assert_string_equal(c.out, "blob small=s");
	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, voidb, 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, many, 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 300);
	assert_true(vg_startswith(c.out, "key000=value000 key001=value001 "));
	assert_true(vg_endswith_n(c.out, strlen(c.out), " key299=value299"));
	c = (struct collect){ .stop_after = 10 };
	assert_int_equal(vg_bolt_foreach(b, many, 1, collect_cb, &c), 42);
	assert_int_equal(c.n, 10);
	assert_int_equal(vg_bolt_foreach(b, nob, 1, collect_cb, &c), -ENOENT);
	assert_int_equal(vg_bolt_foreach(b, through, 2, collect_cb, &c), -ENOENT);

	vg_bolt_free(b);
	vg_bolt_free(NULL);
}

/* A file from a big-endian host reads the same. */
static void test_big_endian(void **state)
{
	size_t len;
	_cleanup_free_ uint8_t *d = load("big-endian.db", &len);
	struct vg_bolt *b = open_ok(d, len);
	const char *x[] = { "a", "x" }, *m[] = { "m" };
	struct collect c = { 0 };

	(void)state;
	expect_get(b, x, 2, "y", "z");
	expect_get(b, m, 1, "39", "v39");
	assert_int_equal(vg_bolt_foreach(b, m, 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 40);
	vg_bolt_free(b);
}

struct names {
	char ids[4][65];
	size_t n;
};

static int ids_cb(const void *k, size_t klen, const void *v, size_t vlen,
		  bool is_bucket, void *userdata)
{
	struct names *nm = userdata;

	(void)v;
	(void)vlen;
	(void)is_bucket;
	assert_true(klen < sizeof(nm->ids[0]));
	assert_true(nm->n < VG_ARRAY_SIZE(nm->ids));
	memcpy(nm->ids[nm->n], k, klen);
	nm->ids[nm->n][klen] = '\0';
	nm->n++;
	return 0;
}

static json_t *get_json(const struct vg_bolt *b, const char *const *bk,
			size_t n, const char *key)
{
	const void *v;
	size_t vl;
	json_error_t jerr;
	json_t *j;

	assert_int_equal(vg_bolt_get(b, bk, n, key, &v, &vl), 0);
	j = json_loadb(v, vl, 0, &jerr);
	if (!j)
		fail_msg("%s: %s", key, jerr.text);
	return j;
}

/* podman 4.3's libpod state (Debian 12), copied from a live machine with
 * one running container, metapod1. */
static void test_podman(void **state)
{
	struct vg_bolt *b = NULL;
	char err[256] = "";
	const char *all[] = { "all-ctrs" }, *ctr[] = { "ctr", PODMAN_CTR };
	const char *names[] = { "name-registry" }, *ctrs[] = { "ctr" };
	struct names nm = { 0 };
	struct collect c = { 0 };
	json_t *cfg, *st;

	(void)state;
	assert_int_equal(vg_bolt_open_at(fixtures_fd, "podman-4.3.db", 4 * MiB,
					 &b, err, sizeof(err)), 0);

	assert_int_equal(vg_bolt_foreach(b, NULL, 0, collect_cb, &c), 0);
	assert_string_equal(c.out,
		"all-ctrs/ allPods/ allVolumes/ ctr/ exec/ exit-code/ "
		"exit-code-time-stamp/ id-registry/ name-registry/ "
		"ns-registry/ pod/ runtime-config/ vol/ volume-ctrs/");

	/* the container list: id → name */
	assert_int_equal(vg_bolt_foreach(b, all, 1, ids_cb, &nm), 0);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.ids[0], PODMAN_CTR);
	expect_get(b, all, 1, PODMAN_CTR, "metapod1");
	expect_get(b, names, 1, "metapod1", PODMAN_CTR);

	c = (struct collect){ 0 };
	assert_int_equal(vg_bolt_foreach(b, ctr, 2, collect_cb, &c), 0);
	assert_string_equal(c.out, "config dependencies/ state");
	assert_int_equal(vg_bolt_get(b, ctrs, 1, PODMAN_CTR, NULL, NULL),
			 -EISDIR);

	/* config: 11 KiB of JSON, so on overflow pages */
	cfg = get_json(b, ctr, 2, "config");
	assert_string_equal(json_string_value(json_object_get(cfg, "name")),
			    "metapod1");
	assert_string_equal(json_string_value(json_object_get(cfg, "id")),
			    PODMAN_CTR);
	assert_string_equal(json_string_value(json_object_get(cfg, "rootfsImageName")),
			    "localhost/vigil-test/busybox:1");
	assert_string_equal(json_string_value(json_object_get(cfg, "RawImageName")),
			    "localhost/vigil-test/busybox:1");
	assert_string_equal(json_string_value(json_object_get(cfg, "rootfsImageID")),
			    "0cdbd28744cb267776e2537ec83d241d8871ca4a69193cd624d7b3350969bec0");
	assert_string_equal(json_string_value(json_object_get(cfg, "createdTime")),
			    "2026-11-24T08:19:06.290862103Z");
	json_t *labels = json_object_get(cfg, "labels");
	assert_string_equal(json_string_value(json_object_get(labels, "team")),
			    "green");
	assert_string_equal(json_string_value(json_object_get(labels,
				"io.kubernetes.pod.name")), "db-0");
	json_decref(cfg);

	st = get_json(b, ctr, 2, "state");
	assert_int_equal(json_integer_value(json_object_get(st, "state")), 3);
	assert_int_equal(json_integer_value(json_object_get(st, "pid")), 29203);
	json_decref(st);

	vg_bolt_free(b);
}

static void test_open_at(void **state)
{
	struct vg_bolt *b = (struct vg_bolt *)0x1;
	char err[256] = "";
	char dir[] = "/tmp/test-bolt-XXXXXX", path[64];
	int fd;

	(void)state;
	/* over the size cap: refused before reading */
	assert_int_equal(vg_bolt_open_at(fixtures_fd, "podman-4.3.db", 131071,
					 &b, err, sizeof(err)), -E2BIG);
	assert_true(strstr(err, "131072") != NULL);
	assert_int_equal(vg_bolt_open_at(fixtures_fd, "missing.db", MiB, &b,
					 err, sizeof(err)), -ENOENT);
	/* a directory is not a database */
	assert_int_equal(vg_bolt_open_at(fixtures_fd, ".", MiB, &b, err,
					 sizeof(err)), -EINVAL);
	assert_ptr_equal(b, (struct vg_bolt *)0x1);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/empty.db", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vg_bolt_open_at(AT_FDCWD, path, MiB, &b, err,
					 sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty file");
	/* the last component is never followed */
	snprintf(path, sizeof(path), "%s/link.db", dir);
	assert_int_equal(symlinkat("empty.db", AT_FDCWD, path), 0);
	assert_int_equal(vg_bolt_open_at(AT_FDCWD, path, MiB, &b, err,
					 sizeof(err)), -ELOOP);
	/* nor does a FIFO hang the open */
	snprintf(path, sizeof(path), "%s/fifo.db", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(vg_bolt_open_at(AT_FDCWD, path, MiB, &b, err,
					 sizeof(err)), -EINVAL);
	assert_ptr_equal(b, (struct vg_bolt *)0x1);

	unlink(path);
	snprintf(path, sizeof(path), "%s/link.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/empty.db", dir);
	unlink(path);
	rmdir(dir);
}

static void test_metas(void **state)
{
	size_t len;
	_cleanup_free_ uint8_t *orig = load("nested.db", &len);
	_cleanup_free_ uint8_t *d = malloc(len);
	const char *alpha[] = { "alpha" };
	struct vg_bolt *b;

	(void)state;
	assert_non_null(d);

	open_fails(orig, 0, -EINVAL);
	open_fails(orig, 100, -EINVAL);
	open_fails(orig, NESTED_PS, -EINVAL);

	/* both metas damaged */
	memcpy(d, orig, len);
	meta(d, 0)[56] ^= 1;
	meta(d, 1)[56] ^= 1;
	open_fails(d, len, -EINVAL);
	{
		char err[256] = "";

		vg_bolt_open_buf(d, len, &b, err, sizeof(err));
		assert_string_equal(err, "no valid bbolt meta page");
	}

	/* wrong version, however well sealed */
	memcpy(d, orig, len);
	put32(meta(d, 0) + 4, 1);
	meta_reseal(d, 0);
	put32(meta(d, 1) + 4, 3);
	meta_reseal(d, 1);
	open_fails(d, len, -EINVAL);

	/* the newer meta (1) damaged: the older one serves */
	memcpy(d, orig, len);
	meta(d, 1)[20] ^= 0xff;
	b = open_ok(d, len);
	expect_get(b, alpha, 1, "k1", "v1");
	vg_bolt_free(b);

	/* meta 0 damaged: the page size is found from meta 1 */
	memcpy(d, orig, len);
	memset(meta(d, 0), 0, 64);
	b = open_ok(d, len);
	expect_get(b, alpha, 1, "k1", "v1");
	vg_bolt_free(b);

	/* the higher txid wins: meta 0 pointing at a non-page is ignored
	 * while older, used (and caught) once newer */
	memcpy(d, orig, len);
	put64(meta(d, 0) + 16, 2); /* the freelist page */
	meta_reseal(d, 0);
	b = open_ok(d, len);
	expect_get(b, alpha, 1, "k1", "v1");
	vg_bolt_free(b);
	put64(meta(d, 0) + 48, 6);
	meta_reseal(d, 0);
	b = open_ok(d, len);
	assert_int_equal(vg_bolt_get(b, alpha, 1, "k1", NULL, NULL), -EINVAL);
	vg_bolt_free(b);

	/* a page size no bbolt writes */
	memcpy(d, orig, len);
	for (int i = 0; i < 2; i++) {
		put32(meta(d, i) + 8, 16);
		meta_reseal(d, i);
	}
	open_fails(d, len, -EINVAL);

	/* cut short of the high-water mark, at and off a page boundary */
	{
		char err[256] = "";

		assert_int_equal(vg_bolt_open_buf(orig, len / 2, &b, err,
						  sizeof(err)), -EINVAL);
		assert_string_equal(err, "truncated: 112640 bytes, the meta "
					 "names 53 pages of 4096");
	}
	open_fails(orig, len / 2 + 100, -EINVAL);
	open_fails(orig, 3 * NESTED_PS, -EINVAL);

	/* the spare pages past the high-water mark are not needed */
	b = open_ok(orig, len - 2 * NESTED_PS);
	expect_get(b, alpha, 1, "k2", "v2");
	vg_bolt_free(b);
}

static int count_cb(const void *k, size_t klen, const void *v, size_t vlen,
		    bool is_bucket, void *userdata)
{
	(void)k;
	(void)klen;
	(void)v;
	(void)vlen;
	(void)is_bucket;
	(*(size_t *)userdata)++;
	return 0;
}

/* Each damage to the pages: the damaged bucket reports -EINVAL, the rest
 * of the file still reads. */
static void test_pages(void **state)
{
	size_t len, n;
	_cleanup_free_ uint8_t *orig = load("nested.db", &len);
	_cleanup_free_ uint8_t *d = malloc(len);
	const char *alpha[] = { "alpha" }, *big[] = { "big" };
	const char *many[] = { "many" }, *sub[] = { "alpha", "sub" };
	uint64_t many_pg, big_pg, alpha_pg;
	unsigned many_count;
	size_t e;
	struct vg_bolt *b;

	(void)state;
	assert_non_null(d);
	many_pg = bucket_pgid(orig, "many");
	big_pg = bucket_pgid(orig, "big");
	alpha_pg = bucket_pgid(orig, "alpha");
	assert_int_equal(orig[many_pg * NESTED_PS + 8], 0x01); /* a branch */
	many_count = orig[many_pg * NESTED_PS + 10];
	assert_true(many_count >= 2);

#define REOPEN()                                                               \
	do {                                                                   \
		vg_bolt_free(b);                                               \
		b = open_ok(d, len);                                           \
	} while (0)
	b = NULL;

	/* a bucket root beyond the file */
	memcpy(d, orig, len);
	e = leaf_elem_off(d, root_pgid(d), "big");
	put64((uint8_t *)elem_value(d, e), 1000000000);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "small", NULL, NULL), -EINVAL);
	assert_int_equal(vg_bolt_foreach(b, big, 1, count_cb, &n), -EINVAL);
	expect_get(b, alpha, 1, "k1", "v1");
	/* … or at a meta page, or at UINT64_MAX */
	put64((uint8_t *)elem_value(d, e), 1);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "small", NULL, NULL), -EINVAL);
	put64((uint8_t *)elem_value(d, e), UINT64_MAX);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "small", NULL, NULL), -EINVAL);

	/* a page that says it is another page */
	memcpy(d, orig, len);
	put64(d + big_pg * NESTED_PS, big_pg + 1);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "small", NULL, NULL), -EINVAL);

	/* an overflow running past the file */
	memcpy(d, orig, len);
	put32(d + big_pg * NESTED_PS + 12, 0xffffffff);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "blob", NULL, NULL), -EINVAL);

	/* a value longer than its page */
	memcpy(d, orig, len);
	e = leaf_elem_off(d, big_pg, "blob");
	put32(d + e + 12, 3 * NESTED_PS);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "blob", NULL, NULL), -EINVAL);
	put32(d + e + 12, 0xffffffff);
	put32(d + e + 4, 0xfffffff0);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, big, 1, "blob", NULL, NULL), -EINVAL);

	/* a huge element count */
	memcpy(d, orig, len);
	put16(d + alpha_pg * NESTED_PS + 10, 0xffff);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, alpha, 1, "k1", NULL, NULL), -EINVAL);
	assert_int_equal(vg_bolt_foreach(b, alpha, 1, count_cb, &n), -EINVAL);
	/* … also in the root page */
	put16(d + root_pgid(d) * NESTED_PS + 10, 0xffff);
	REOPEN();
	assert_int_equal(vg_bolt_foreach(b, NULL, 0, count_cb, &n), -EINVAL);

	/* a page of an unknown type */
	memcpy(d, orig, len);
	put16(d + alpha_pg * NESTED_PS + 8, 0x10);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, alpha, 1, "k1", NULL, NULL), -EINVAL);

	/* a branch that points at itself: no endless descent or walk */
	memcpy(d, orig, len);
	for (unsigned i = 0; i < many_count; i++)
		put64(d + many_pg * NESTED_PS + 16 + 16 * i + 8, many_pg);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, many, 1, "key150", NULL, NULL), -EINVAL);
	n = 0;
	assert_int_equal(vg_bolt_foreach(b, many, 1, count_cb, &n), -EINVAL);
	assert_int_equal(n, 0);

	/* every branch element at the same child: keys would repeat */
	memcpy(d, orig, len);
	{
		uint64_t child = get64(d + many_pg * NESTED_PS + 16 + 8);

		for (unsigned i = 1; i < many_count; i++)
			put64(d + many_pg * NESTED_PS + 16 + 16 * i + 8, child);
	}
	REOPEN();
	n = 0;
	assert_int_equal(vg_bolt_foreach(b, many, 1, count_cb, &n), -EINVAL);
	assert_true(n <= 64); /* stopped at the first repeat */

	/* a bucket header cut short */
	memcpy(d, orig, len);
	e = leaf_elem_off(d, alpha_pg, "sub");
	put32(d + e + 12, 8);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, sub, 2, "x", NULL, NULL), -EINVAL);
	assert_int_equal(vg_bolt_foreach(b, alpha, 1, count_cb, &n), -EINVAL);

	/* an inline page claiming more elements than the value holds, or
	 * claiming to be a branch */
	memcpy(d, orig, len);
	e = leaf_elem_off(d, alpha_pg, "sub");
	put16((uint8_t *)elem_value(d, e) + 16 + 10, 200);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, sub, 2, "x", NULL, NULL), -EINVAL);
	memcpy(d, orig, len);
	put16((uint8_t *)elem_value(d, e) + 16 + 8, 0x01);
	REOPEN();
	assert_int_equal(vg_bolt_get(b, sub, 2, "x", NULL, NULL), -EINVAL);
	expect_get(b, alpha, 1, "k2", "v2");

	vg_bolt_free(b);
#undef REOPEN
}

/* Every single-byte change to the first pages of a small file: whatever
 * opens must walk without error other than -EINVAL/-ENOENT/-EISDIR. */
static void test_flip_every_byte(void **state)
{
	size_t len, n;
	_cleanup_free_ uint8_t *orig = load("nested.db", &len);
	_cleanup_free_ uint8_t *d = malloc(len);
	const char *alpha[] = { "alpha" };
	size_t root_off = root_pgid(orig) * NESTED_PS;

	(void)state;
	assert_non_null(d);
	memcpy(d, orig, len);
	/* the root page and alpha's page hold the structure */
	for (size_t off = root_off; off < root_off + 400; off++) {
		for (int bit = 0; bit < 8; bit += 3) {
			struct vg_bolt *b = NULL;
			int r;

			d[off] ^= (uint8_t)(1u << bit);
			assert_int_equal(vg_bolt_open_buf(d, len, &b, NULL, 0), 0);
			n = 0;
			r = vg_bolt_foreach(b, NULL, 0, count_cb, &n);
			assert_true(r == 0 || r == -EINVAL || r == -ENOENT);
			r = vg_bolt_get(b, alpha, 1, "k1", NULL, NULL);
			assert_true(r == 0 || r == -EINVAL || r == -ENOENT ||
				    r == -EISDIR);
			vg_bolt_free(b);
			d[off] = orig[off];
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_open_at),
		cmocka_unit_test(test_metas),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_flip_every_byte),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
