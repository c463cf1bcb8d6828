/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bbolt (go.etcd.io/bbolt) files, read-only.
 *
 * A file is an array of pages of one size. Pages 0 and 1 are meta pages;
 * the valid one with the higher transaction id names the root bucket's
 * page. A bucket is a B+tree of branch and leaf pages; a leaf element
 * flagged as a bucket holds a 16-byte header {root pgid, sequence}, and a
 * root of 0 means the bucket's single leaf page follows the header inside
 * the value ("inline bucket").
 *
 * bbolt writes its structs with Go's unsafe casts, so a file is in the
 * byte order of the host that wrote it. The magic number tells which;
 * reading either lets the little-endian test fixtures pass on any host.
 *
 * Everything here treats the file as hostile: a page is used only after
 * its id, span, type and element table are checked against the file,
 * every key and value slice is checked before it is formed, descents stop
 * at VG_BOLT_MAX_DEPTH and a walk visits at most as many pages as the
 * file has, so no input loops or reads out of bounds.
 */
#include "runtime/bolt.h"

#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

#define BOLT_MAGIC   0xED0CDAEDu
#define BOLT_VERSION 2u

#define PAGE_HDR_SIZE     16u /* id u64, flags u16, count u16, overflow u32 */
#define BRANCH_ELEM_SIZE  16u /* pos u32, ksize u32, pgid u64 */
#define LEAF_ELEM_SIZE    16u /* flags u32, pos u32, ksize u32, vsize u32 */
#define BUCKET_HDR_SIZE   16u /* root pgid u64, sequence u64 */
#define META_SIZE         64u
#define META_SUMMED_BYTES 56u /* all of the meta before the checksum */

#define PAGE_BRANCH   0x01u
#define PAGE_LEAF     0x02u
#define LEAF_IS_BUCKET 0x01u

/* bbolt pages are the OS page size (4 KiB to 64 KiB) unless an option says
 * otherwise; bbolt itself looks for the second meta up to 16 MiB. */
#define MIN_PAGE_SIZE 1024u
#define MAX_PAGE_SIZE (16u * 1024 * 1024)

/* A bbolt tree of depth 64 would need more keys than any file can hold;
 * deeper means a cycle. */
#define VG_BOLT_MAX_DEPTH 64

struct vg_bolt {
	uint8_t *data;
	size_t len;
	uint32_t page_size;
	bool swap;          /* the file's byte order is not the host's */
	uint64_t npages;    /* pages that exist: in the file and below the
			     * meta's high-water mark */
	uint64_t root;      /* the root bucket's page */
	uint64_t txid;
};

/* A checked view of one branch or leaf page: @count elements whose table
 * and slices all lie inside p[0..span). */
struct page_view {
	const uint8_t *p;
	size_t span;
	uint16_t flags;
	uint16_t count;
};

/* Where a bucket's tree starts: a page id, or an inline page. */
struct bucket_ref {
	uint64_t root;
	const uint8_t *inline_page;
	size_t inline_len;
};

/* Unaligned loads: inline pages sit at any offset inside a value. */
static uint16_t ld16(bool swap, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? bswap_16(v) : v;
}

static uint32_t ld32(bool swap, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? bswap_32(v) : v;
}

static uint64_t ld64(bool swap, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? bswap_64(v) : v;
}

struct meta {
	uint32_t page_size;
	uint64_t root, freelist, hwm, txid;
};

/* The meta at @off (a page start) if magic, version and checksum hold.
 * The checksum covers raw bytes, so it is compared in file order too. */
static bool meta_parse(const uint8_t *data, size_t len, size_t off, bool swap,
		       struct meta *ret)
{
	const uint8_t *m;

	if (off > len || len - off < PAGE_HDR_SIZE + META_SIZE)
		return false;
	m = data + off + PAGE_HDR_SIZE;
	if (ld32(swap, m) != BOLT_MAGIC || ld32(swap, m + 4) != BOLT_VERSION)
		return false;
	if (ld64(swap, m + META_SUMMED_BYTES) != vg_fnv1a64(m, META_SUMMED_BYTES))
		return false;
	ret->page_size = ld32(swap, m + 8);
	ret->root = ld64(swap, m + 16);
	ret->freelist = ld64(swap, m + 32);
	ret->hwm = ld64(swap, m + 40);
	ret->txid = ld64(swap, m + 48);
	return true;
}

static bool meta_parse_any(const uint8_t *data, size_t len, size_t off,
			   bool *swap, struct meta *ret)
{
	if (meta_parse(data, len, off, false, ret)) {
		*swap = false;
		return true;
	}
	if (meta_parse(data, len, off, true, ret)) {
		*swap = true;
		return true;
	}
	return false;
}

static bool page_size_ok(uint32_t ps)
{
	return ps >= MIN_PAGE_SIZE && ps <= MAX_PAGE_SIZE;
}

/* The page size, as bbolt finds it: from meta 0, else from the first valid
 * meta at 1 KiB, 2 KiB, … 16 MiB (meta 1 sits one page in). */
static int find_page_size(const uint8_t *data, size_t len, uint32_t *ret_ps,
			  bool *ret_swap)
{
	struct meta m;
	bool swap;

	if (meta_parse_any(data, len, 0, &swap, &m) && page_size_ok(m.page_size)) {
		*ret_ps = m.page_size;
		*ret_swap = swap;
		return 0;
	}
	for (size_t off = MIN_PAGE_SIZE; off <= MAX_PAGE_SIZE && off < len;
	     off *= 2)
		if (meta_parse_any(data, len, off, &swap, &m) &&
		    m.page_size == off) {
			*ret_ps = m.page_size;
			*ret_swap = swap;
			return 0;
		}
	return -EINVAL;
}

/* A meta is usable when it agrees on the page size and byte order and the
 * file holds every page below its high-water mark: bbolt grows the file
 * before it commits, so a shorter file was cut (then *need_pages says how
 * many pages the meta wanted). */
static bool meta_usable(const struct vg_bolt *b, unsigned idx, struct meta *ret,
			uint64_t *need_pages)
{
	struct meta m;

	if (!meta_parse(b->data, b->len, (size_t)idx * b->page_size, b->swap, &m))
		return false;
	if (m.page_size != b->page_size)
		return false;
	if (m.hwm > b->len / b->page_size) {
		*need_pages = m.hwm;
		return false;
	}
	if (m.hwm < 3 || m.root < 2 || m.root >= m.hwm)
		return false;
	*ret = m;
	return true;
}

static int bolt_init(struct vg_bolt *b, char *err, size_t errsz)
{
	struct meta m0, m1, *use;
	uint64_t need = 0;
	bool ok0, ok1;

	if (b->len == 0) {
		vg_set_err(err, errsz, "empty file");
		return -EINVAL;
	}
	if (find_page_size(b->data, b->len, &b->page_size, &b->swap) < 0) {
		vg_set_err(err, errsz, "no valid bbolt meta page");
		return -EINVAL;
	}
	if (b->len / b->page_size < 2) {
		vg_set_err(err, errsz, "file of %zu bytes is shorter than two %u-byte pages",
			b->len, b->page_size);
		return -EINVAL;
	}
	ok0 = meta_usable(b, 0, &m0, &need);
	ok1 = meta_usable(b, 1, &m1, &need);
	if (!ok0 && !ok1) {
		if (need)
			vg_set_err(err, errsz,
				"truncated: %zu bytes, the meta names %llu pages of %u",
				b->len, (unsigned long long)need, b->page_size);
		else
			vg_set_err(err, errsz, "both meta pages are corrupt");
		return -EINVAL;
	}
	/* The newer transaction wins; the older meta is the fallback for a
	 * write that was cut short. */
	if (ok0 && ok1)
		use = m1.txid > m0.txid ? &m1 : &m0;
	else
		use = ok0 ? &m0 : &m1;
	b->npages = use->hwm;
	b->root = use->root;
	b->txid = use->txid;
	return 0;
}

void vg_bolt_free(struct vg_bolt *b)
{
	if (!b)
		return;
	free(b->data);
	free(b);
}

/* Takes @data (malloc'ed) in all cases. */
static int bolt_new(uint8_t *data, size_t len, struct vg_bolt **ret, char *err,
		    size_t errsz)
{
	struct vg_bolt *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b) {
		free(data);
		return -ENOMEM;
	}
	b->data = data;
	b->len = len;
	r = bolt_init(b, err, errsz);
	if (r < 0) {
		vg_bolt_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

int vg_bolt_open_buf(const void *buf, size_t len, struct vg_bolt **ret,
		     char *err, size_t errsz)
{
	uint8_t *copy;

	if (!ret || (!buf && len)) {
		vg_set_err(err, errsz, "invalid argument");
		return -EINVAL;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, buf, len);
	return bolt_new(copy, len, ret, err, errsz);
}

int vg_bolt_open_at(int dirfd, const char *path, size_t max_size,
		    struct vg_bolt **ret, char *err, size_t errsz)
{
	_cleanup_close_ int fd = -1;

	if (!path || !ret) {
		vg_set_err(err, errsz, "invalid argument");
		return -EINVAL;
	}
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open; it
	 * is then refused as not a regular file. */
	fd = openat(dirfd, path,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int r = -errno;

		vg_set_err(err, errsz, "open %s: %s", path, strerror(-r));
		return r;
	}
	return vg_bolt_open_fd(fd, path, max_size, ret, err, errsz);
}

int vg_bolt_open_fd(int fd, const char *what, size_t max_size,
		    struct vg_bolt **ret, char *err, size_t errsz)
{
	_cleanup_free_ uint8_t *data = NULL;
	const char *path = what ? what : "database";
	struct stat st;
	size_t size, len = 0;

	if (fd < 0 || !ret) {
		vg_set_err(err, errsz, "invalid argument");
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		vg_set_err(err, errsz, "stat %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		vg_set_err(err, errsz, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max_size) {
		vg_set_err(err, errsz, "%s is %lld bytes, more than %zu", path,
			(long long)st.st_size, max_size);
		return -E2BIG;
	}
	/* The size as of fstat(): a file that grows meanwhile is read as it
	 * was, a file that shrinks as far as it goes. Either way the meta
	 * checks below decide whether what was read is usable. */
	size = (size_t)st.st_size;
	data = malloc(size ? size : 1);
	if (!data)
		return -ENOMEM;
	while (len < size) {
		ssize_t n = read(fd, data + len, size - len);

		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			vg_set_err(err, errsz, "read %s: %s", path, strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return bolt_new(VG_TAKE_PTR(data), len, ret, err, errsz);
}

/* Checks that the element table fits and returns the view. */
static int view_init(const struct vg_bolt *b, const uint8_t *p, size_t span,
		     struct page_view *ret)
{
	uint16_t flags = ld16(b->swap, p + 8), count = ld16(b->swap, p + 10);

	if (flags != PAGE_BRANCH && flags != PAGE_LEAF)
		return -EINVAL;
	/* bbolt never writes an empty branch, and searching one would have
	 * no child to follow. */
	if (flags == PAGE_BRANCH && count == 0)
		return -EINVAL;
	if ((uint64_t)count * LEAF_ELEM_SIZE > span - PAGE_HDR_SIZE)
		return -EINVAL;
	*ret = (struct page_view){ .p = p, .span = span, .flags = flags,
				   .count = count };
	return 0;
}

static int page_load(const struct vg_bolt *b, uint64_t pgid,
		     struct page_view *ret)
{
	const uint8_t *p;
	uint32_t overflow;

	/* Pages 0 and 1 are metas, never part of a tree. */
	if (pgid < 2 || pgid >= b->npages)
		return -EINVAL;
	p = b->data + pgid * b->page_size;
	if (ld64(b->swap, p) != pgid)
		return -EINVAL;
	overflow = ld32(b->swap, p + 12);
	if ((uint64_t)overflow >= b->npages - pgid)
		return -EINVAL;
	return view_init(b, p, ((size_t)overflow + 1) * b->page_size, ret);
}

static int bucket_view(const struct vg_bolt *b, const struct bucket_ref *br,
		       struct page_view *ret)
{
	struct page_view v;
	int r;

	if (!br->inline_page)
		return page_load(b, br->root, ret);
	if (br->inline_len < PAGE_HDR_SIZE)
		return -EINVAL;
	r = view_init(b, br->inline_page, br->inline_len, &v);
	if (r < 0)
		return r;
	/* An inline bucket is one leaf: it has no pages to branch to. */
	if (v.flags != PAGE_LEAF)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A slice at element offset + @pos of @n bytes, checked against the page. */
static int slice_at(const struct page_view *v, size_t elem_off, uint64_t pos,
		    uint64_t n, const uint8_t **ret)
{
	uint64_t start = (uint64_t)elem_off + pos;

	if (start > v->span || n > v->span - start)
		return -EINVAL;
	*ret = v->p + start;
	return 0;
}

static int branch_elem(const struct vg_bolt *b, const struct page_view *v,
		       unsigned i, const uint8_t **ret_key, size_t *ret_klen,
		       uint64_t *ret_pgid)
{
	size_t off = PAGE_HDR_SIZE + (size_t)i * BRANCH_ELEM_SIZE;
	const uint8_t *e = v->p + off;
	uint32_t ksize = ld32(b->swap, e + 4);
	int r;

	r = slice_at(v, off, ld32(b->swap, e), ksize, ret_key);
	if (r < 0)
		return r;
	*ret_klen = ksize;
	*ret_pgid = ld64(b->swap, e + 8);
	return 0;
}

struct leaf_item {
	const uint8_t *key, *val;
	size_t klen, vlen;
	bool is_bucket;
};

static int leaf_elem(const struct vg_bolt *b, const struct page_view *v,
		     unsigned i, struct leaf_item *ret)
{
	size_t off = PAGE_HDR_SIZE + (size_t)i * LEAF_ELEM_SIZE;
	const uint8_t *e = v->p + off;
	uint32_t flags = ld32(b->swap, e), pos = ld32(b->swap, e + 4);
	uint32_t ksize = ld32(b->swap, e + 8), vsize = ld32(b->swap, e + 12);
	const uint8_t *k, *val;
	int r;

	r = slice_at(v, off, pos, ksize, &k);
	if (r < 0)
		return r;
	r = slice_at(v, off, (uint64_t)pos + ksize, vsize, &val);
	if (r < 0)
		return r;
	*ret = (struct leaf_item){ .key = k, .klen = ksize, .val = val,
				   .vlen = vsize,
				   .is_bucket = flags & LEAF_IS_BUCKET };
	return 0;
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *c, size_t clen)
{
	int d = memcmp(a, c, alen < clen ? alen : clen);

	if (d)
		return d;
	return alen < clen ? -1 : alen > clen;
}

/* bbolt's Cursor.seek: in a branch, the last element whose key is ≤ @key
 * (or the first); in a leaf, the element equal to @key. Binary search on
 * unsorted (hostile) keys gives a wrong answer, never a bad access. */
static int bucket_find(const struct vg_bolt *b, const struct bucket_ref *br,
		       const uint8_t *key, size_t klen, struct leaf_item *ret)
{
	struct page_view v;
	int r;

	r = bucket_view(b, br, &v);
	if (r < 0)
		return r;
	for (unsigned depth = 0;; depth++) {
		unsigned lo = 0, hi = v.count;
		bool exact = false;

		if (depth >= VG_BOLT_MAX_DEPTH)
			return -EINVAL;
		if (v.flags == PAGE_LEAF) {
			struct leaf_item it;

			while (lo < hi) {
				unsigned mid = lo + (hi - lo) / 2;

				r = leaf_elem(b, &v, mid, &it);
				if (r < 0)
					return r;
				if (key_cmp(it.key, it.klen, key, klen) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == v.count)
				return -ENOENT;
			r = leaf_elem(b, &v, lo, &it);
			if (r < 0)
				return r;
			if (key_cmp(it.key, it.klen, key, klen) != 0)
				return -ENOENT;
			*ret = it;
			return 0;
		}

		const uint8_t *k;
		size_t kl;
		uint64_t child;

		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			int c;

			r = branch_elem(b, &v, mid, &k, &kl, &child);
			if (r < 0)
				return r;
			c = key_cmp(k, kl, key, klen);
			if (c == 0)
				exact = true;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* lo < count: an exact hit lies below count, and a miss at
		 * count steps back (a branch is never empty). */
		if (!exact && lo > 0)
			lo--;
		r = branch_elem(b, &v, lo, &k, &kl, &child);
		if (r < 0)
			return r;
		r = page_load(b, child, &v);
		if (r < 0)
			return r;
	}
}

static int bucket_ref_from(const struct vg_bolt *b, const struct leaf_item *it,
			   struct bucket_ref *ret)
{
	if (it->vlen < BUCKET_HDR_SIZE)
		return -EINVAL;
	*ret = (struct bucket_ref){ .root = ld64(b->swap, it->val) };
	if (ret->root == 0) {
		ret->inline_page = it->val + BUCKET_HDR_SIZE;
		ret->inline_len = it->vlen - BUCKET_HDR_SIZE;
	}
	return 0;
}

/* The bucket at @buckets[0..n-1]. A name that holds a value rather than a
 * bucket is "no such bucket", as bbolt's Bucket() has it. */
static int bucket_resolve(const struct vg_bolt *b, const char *const *buckets,
			  size_t n, struct bucket_ref *ret)
{
	struct bucket_ref br = { .root = b->root };

	if (n && !buckets)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct leaf_item it;
		int r;

		if (!buckets[i])
			return -EINVAL;
		r = bucket_find(b, &br, (const uint8_t *)buckets[i],
				strlen(buckets[i]), &it);
		if (r < 0)
			return r;
		if (!it.is_bucket)
			return -ENOENT;
		r = bucket_ref_from(b, &it, &br);
		if (r < 0)
			return r;
	}
	*ret = br;
	return 0;
}

int vg_bolt_get(const struct vg_bolt *b, const char *const *buckets,
		size_t n, const char *key, const void **val, size_t *val_len)
{
	struct bucket_ref br;
	struct leaf_item it;
	int r;

	if (!b || !key)
		return -EINVAL;
	r = bucket_resolve(b, buckets, n, &br);
	if (r < 0)
		return r;
	r = bucket_find(b, &br, (const uint8_t *)key, strlen(key), &it);
	if (r < 0)
		return r;
	if (it.is_bucket)
		return -EISDIR;
	if (val)
		*val = it.val;
	if (val_len)
		*val_len = it.vlen;
	return 0;
}

struct walk {
	const struct vg_bolt *b;
	uint64_t budget;      /* pages this walk may still visit */
	uint64_t elem_budget; /* elements it may still read */
	const uint8_t *last;
	size_t last_len;
	bool have_last;
	int (*cb)(const void *k, size_t klen, const void *v, size_t vlen,
		  bool is_bucket, void *userdata);
	void *userdata;
};

static int walk_page(struct walk *w, const struct page_view *v, unsigned depth)
{
	int r;

	/* A valid tree shows each page once per walk; more visits than there
	 * are pages means pages are shared or cyclic. */
	if (depth >= VG_BOLT_MAX_DEPTH || w->budget == 0)
		return -EINVAL;
	w->budget--;

	/* Each element of a valid tree has its own 16 bytes of the file, so
	 * reading more than len / 16 of them means something is read twice;
	 * with this the work of a walk is linear in the file size. */
	if (v->count > w->elem_budget)
		return -EINVAL;
	w->elem_budget -= v->count;

	for (unsigned i = 0; i < v->count; i++) {
		if (v->flags == PAGE_BRANCH) {
			struct page_view child;
			const uint8_t *k;
			size_t kl;
			uint64_t pgid;

			r = branch_elem(w->b, v, i, &k, &kl, &pgid);
			if (r < 0)
				return r;
			r = page_load(w->b, pgid, &child);
			if (r < 0)
				return r;
			r = walk_page(w, &child, depth + 1);
			if (r != 0)
				return r;
			continue;
		}

		struct leaf_item it;

		r = leaf_elem(w->b, v, i, &it);
		if (r < 0)
			return r;
		/* Keys of a bucket are unique and sorted; checking it keeps
		 * the promised order and stops a page reached twice from
		 * reporting its keys twice. */
		if (w->have_last &&
		    key_cmp(w->last, w->last_len, it.key, it.klen) >= 0)
			return -EINVAL;
		w->last = it.key;
		w->last_len = it.klen;
		w->have_last = true;
		if (it.is_bucket) {
			struct bucket_ref br;

			/* Report only well-formed buckets. */
			r = bucket_ref_from(w->b, &it, &br);
			if (r < 0)
				return r;
			r = w->cb(it.key, it.klen, NULL, 0, true, w->userdata);
		} else
			r = w->cb(it.key, it.klen, it.val, it.vlen, false,
				  w->userdata);
		if (r != 0)
			return r;
	}
	return 0;
}

int vg_bolt_foreach(const struct vg_bolt *b, const char *const *buckets,
		    size_t n,
		    int (*cb)(const void *k, size_t klen, const void *v,
			      size_t vlen, bool is_bucket, void *userdata),
		    void *userdata)
{
	struct bucket_ref br;
	struct page_view v;
	struct walk w;
	int r;

	if (!b || !cb)
		return -EINVAL;
	r = bucket_resolve(b, buckets, n, &br);
	if (r < 0)
		return r;
	r = bucket_view(b, &br, &v);
	if (r < 0)
		return r;
	w = (struct walk){ .b = b, .budget = b->npages,
			   .elem_budget = b->len / LEAF_ELEM_SIZE, .cb = cb,
			   .userdata = userdata };
	return walk_page(&w, &v, 0);
}
