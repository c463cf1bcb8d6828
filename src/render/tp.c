/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A raw tracepoint record decoded by its format's fields, into the
 * printer: what a tracepoint's bytes mean is learnt at run time, so a
 * tracepoint vigil was never built for is still shown by field name.
 */
#include "render/tp.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/util.h"

/* ------------------------------------------------------------ pointers */

static bool raw_pointers;

void vg_tp_set_raw_pointers(bool raw)
{
	__atomic_store_n(&raw_pointers, raw, __ATOMIC_RELAXED);
}

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static bool key_ready;
static uint64_t ptr_key[2];

/* The process's pointer key, from getrandom() when first needed. False
 * while the kernel has none to give yet (early boot): tried again at the
 * next pointer, never made from anything weaker. */
static bool pointer_key(uint64_t ret[2])
{
	if (!__atomic_load_n(&key_ready, __ATOMIC_ACQUIRE)) {
		uint64_t k[2];

		pthread_mutex_lock(&key_lock);
		if (!key_ready &&
		    getrandom(k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k)) {
			ptr_key[0] = k[0], ptr_key[1] = k[1];
			__atomic_store_n(&key_ready, true, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&key_lock);
		if (!__atomic_load_n(&key_ready, __ATOMIC_ACQUIRE))
			return false;
	}
	ret[0] = ptr_key[0], ret[1] = ptr_key[1];
	return true;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                          \
	do {                                                              \
		v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32); \
		v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                    \
		v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                    \
		v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 of one 64-bit word (an 8-byte message), as the kernel's
 * %p hashes pointers: without the key, the hash says nothing of the
 * address; with one key per process, equal pointers hash equal. */
static uint64_t siphash_u64(uint64_t m, const uint64_t k[2])
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull;
	uint64_t v3 = k[1] ^ 0x7465646279746573ull;
	uint64_t b = 8ull << 56;

	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t vg_tp_pointer_hash(uint64_t addr, bool *ret_ok)
{
	uint64_t k[2];

	*ret_ok = pointer_key(k);
	return *ret_ok ? siphash_u64(addr, k) : 0;
}

/* A kernel address as shown: "0x0" for NULL (no address), "0x..." with
 * raw pointers, else "hash:" and 16 hex digits ("hidden" without a key).
 * @buf holds 24. */
static const char *pointer_text(uint64_t v, char *buf, size_t bufsz)
{
	bool ok;
	uint64_t h;

	if (!v || __atomic_load_n(&raw_pointers, __ATOMIC_RELAXED)) {
		snprintf(buf, bufsz, "0x%" PRIx64, v);
		return buf;
	}
	h = vg_tp_pointer_hash(v, &ok);
	if (!ok)
		return "hidden";
	snprintf(buf, bufsz, "hash:%016" PRIx64, h);
	return buf;
}

/* ------------------------------------------------------------- decoding */

struct decoder {
	const uint8_t *rec;
	size_t len;
	struct vg_printer *p;
	/* one line of fields (" name=value"), not keyed fields */
	bool line;
	char err[192];
	bool have_err;
};

/* Only the first problem is reported: the rest usually follow from it. */
static void note(struct decoder *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct decoder *d, const char *fmt, ...)
{
	va_list ap;

	if (d->have_err)
		return;
	d->have_err = true;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

/* The record is in host byte order: it was written by this kernel. */
static uint64_t load_uint(const uint8_t *s, uint32_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, s, 1);
		return u8;
	case 2:
		memcpy(&u16, s, 2);
		return u16;
	case 4:
		memcpy(&u32, s, 4);
		return u32;
	default:
		memcpy(&u64, s, 8);
		return u64;
	}
}

static int64_t load_int(const uint8_t *s, uint32_t size)
{
	uint64_t v = load_uint(s, size);
	unsigned shift = 64 - 8 * size;

	return (int64_t)(v << shift) >> shift;
}

/* Line mode: " name=" before a value. */
static void line_key(struct decoder *d, const char *name)
{
	vg_pr_put(d->p, " ", 1);
	vg_pr_put_value(d->p, name, strlen(name), 0);
	vg_pr_put(d->p, "=", 1);
}

static void put_null(struct decoder *d, const char *name)
{
	if (!d->line) {
		vg_pr_null(d->p, name, name);
		return;
	}
	line_key(d, name);
	vg_pr_put(d->p, "-", 1);
}

static void put_int(struct decoder *d, const char *name, const uint8_t *s,
		    uint32_t size, bool is_signed)
{
	if (d->line) {
		line_key(d, name);
		if (is_signed)
			vg_pr_put_i64(d->p, load_int(s, size));
		else
			vg_pr_put_u64(d->p, load_uint(s, size));
	} else if (is_signed) {
		vg_pr_i64(d->p, name, name, load_int(s, size));
	} else {
		vg_pr_u64(d->p, name, name, load_uint(s, size));
	}
}

static void put_pointer(struct decoder *d, const char *name, const uint8_t *s,
			uint32_t size)
{
	char buf[24];
	const char *t = pointer_text(load_uint(s, size), buf, sizeof(buf));

	if (d->line) {
		line_key(d, name);
		vg_pr_put(d->p, t, strlen(t));
	} else {
		vg_pr_str(d->p, name, name, t);
	}
}

static void put_string(struct decoder *d, const char *name, const uint8_t *s,
		       size_t n)
{
	const uint8_t *nul = n ? memchr(s, '\0', n) : NULL;
	char small[256], *big = NULL, *out = small;
	size_t m = nul ? (size_t)(nul - s) : n;

	if (d->line) {
		line_key(d, name);
		vg_pr_put_value(d->p, (const char *)s, m, 0);
		return;
	}
	if (m >= sizeof(small)) {
		big = malloc(m + 1);
		if (!big) {
			put_null(d, name);
			note(d, "%s: out of memory", name);
			return;
		}
		out = big;
	}
	if (m)
		memcpy(out, s, m);
	out[m] = '\0';
	vg_pr_str(d->p, name, name, out);
	free(big);
}

/* Text mode shows the first elements on one line; the full array is for
 * JSON readers. */
#define TEXT_ELEMS_MAX 32

/* One element of an array into @buf (24 bytes): an integer, or (@ptr) a
 * kernel address. */
static void put_elem(const uint8_t *s, uint32_t elem, bool is_signed,
		     bool ptr, char *buf, size_t bufsz)
{
	if (ptr) {
		const char *t = pointer_text(load_uint(s, elem), buf, bufsz);

		if (t != buf)
			snprintf(buf, bufsz, "%s", t);
	} else if (is_signed) {
		snprintf(buf, bufsz, "%" PRId64, load_int(s, elem));
	} else {
		snprintf(buf, bufsz, "%" PRIu64, load_uint(s, elem));
	}
}

static void put_ints(struct decoder *d, const char *name, const uint8_t *s,
		     size_t n, uint32_t elem, bool is_signed, bool ptr)
{
	char line[TEXT_ELEMS_MAX * 26 + 32], one[24];
	size_t pos = 0;

	if (vg_printer_mode(d->p) == VG_OUTPUT_JSON) {
		vg_pr_arr_open(d->p, name);
		for (size_t i = 0; i < n; i++) {
			if (ptr) {
				put_elem(s + i * elem, elem, false, true, one,
					 sizeof(one));
				vg_pr_str(d->p, NULL, NULL, one);
			} else if (is_signed) {
				vg_pr_i64(d->p, NULL, NULL, load_int(s + i * elem, elem));
			} else {
				vg_pr_u64(d->p, NULL, NULL, load_uint(s + i * elem, elem));
			}
		}
		vg_pr_arr_close(d->p);
		return;
	}
	line[0] = '\0';
	for (size_t i = 0; i < n && i < TEXT_ELEMS_MAX && pos < sizeof(line);
	     i++) {
		put_elem(s + i * elem, elem, is_signed, ptr, one, sizeof(one));
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%s%s",
					i ? " " : "", one);
	}
	if (n > TEXT_ELEMS_MAX && pos < sizeof(line))
		snprintf(line + pos, sizeof(line) - pos, " ... (%zu in all)", n);
	if (!d->line) {
		vg_pr_str(d->p, NULL, name, line);
		return;
	}
	/* numbers and vigil's words only: as they are, in brackets */
	line_key(d, name);
	vg_pr_put(d->p, "[", 1);
	vg_pr_put(d->p, line, strlen(line));
	vg_pr_put(d->p, "]", 1);
}

/* Whether the elements of @fl are pointers: its type says so ("void
 * *[4]", "__data_loc void *[]"). */
static bool pointer_elems(const struct vg_tp_field *fl)
{
	return fl->type && strchr(fl->type, '*') &&
	       (fl->elem_size == 4 || fl->elem_size == 8);
}

/* Payload of a __data_loc/__rel_loc field whose u32 is in the record. */
static void put_loc(struct decoder *d, const struct vg_tp_field *fl)
{
	uint32_t v = (uint32_t)load_uint(d->rec + fl->offset, 4);
	size_t off = v & 0xffff, n = v >> 16;
	const char *what = fl->kind == VG_TPF_DATA_LOC ? "__data_loc"
						       : "__rel_loc";

	if (fl->kind == VG_TPF_REL_LOC)
		off += (size_t)fl->offset + fl->size;
	if (off > d->len || n > d->len - off) {
		put_null(d, fl->name);
		note(d, "%s: %s data at %zu+%zu is outside the %zu-byte record",
		     fl->name, what, off, n, d->len);
		return;
	}
	if (fl->is_string) {
		put_string(d, fl->name, d->rec + off, n);
	} else if (n % fl->elem_size) {
		put_null(d, fl->name);
		note(d, "%s: %s length %zu is not a multiple of %u", fl->name,
		     what, n, fl->elem_size);
	} else {
		put_ints(d, fl->name, d->rec + off, n / fl->elem_size,
			 fl->elem_size, fl->is_signed, pointer_elems(fl));
	}
}

static void put_field(struct decoder *d, const struct vg_tp_field *fl)
{
	const uint8_t *s;

	/* a flexible array: whatever the record holds past its start */
	if (fl->size == 0 && (fl->kind == VG_TPF_ARRAY ||
			      fl->kind == VG_TPF_STRING_ARRAY)) {
		size_t n;

		if (fl->offset > d->len) {
			put_null(d, fl->name);
			note(d, "%s: starts past the %zu-byte record", fl->name,
			     d->len);
			return;
		}
		n = d->len - fl->offset;
		s = d->rec + fl->offset;
		if (fl->is_string)
			put_string(d, fl->name, s, n);
		else
			put_ints(d, fl->name, s, n / fl->elem_size,
				 fl->elem_size, fl->is_signed, pointer_elems(fl));
		return;
	}
	if ((size_t)fl->offset + fl->size > d->len) {
		put_null(d, fl->name);
		note(d, "%s: ends past the %zu-byte record", fl->name, d->len);
		return;
	}
	s = d->rec + fl->offset;
	switch (fl->kind) {
	case VG_TPF_INT:
		put_int(d, fl->name, s, fl->size, fl->is_signed);
		break;
	case VG_TPF_POINTER:
		put_pointer(d, fl->name, s, fl->size);
		break;
	case VG_TPF_STRING_ARRAY:
		put_string(d, fl->name, s, fl->size);
		break;
	case VG_TPF_DATA_LOC:
	case VG_TPF_REL_LOC:
		put_loc(d, fl);
		break;
	case VG_TPF_ARRAY:
		put_ints(d, fl->name, s, fl->size / fl->elem_size,
			 fl->elem_size, fl->is_signed, pointer_elems(fl));
		break;
	case VG_TPF_OTHER:
		put_ints(d, fl->name, s, fl->size / fl->elem_size,
			 fl->elem_size, false, false);
		break;
	}
}

static void decode(struct decoder *d, const struct vg_tp_format *f)
{
	static const uint8_t empty[1];

	/* no arithmetic on a NULL record, even of 0 */
	if (!d->rec || !d->len) {
		d->rec = empty;
		d->len = 0;
	}
	if (d->len < f->record_size)
		note(d, "record of %zu bytes, the format's is %u", d->len,
		     f->record_size);
	for (size_t i = 0; i < f->n_fields; i++)
		if (!vg_startswith(f->fields[i].name, "common_"))
			put_field(d, &f->fields[i]);
}

void vg_tp_decode(const struct vg_tp_format *f, const void *rec, size_t len,
		  struct vg_printer *p, const char *key)
{
	struct decoder d = { .rec = rec, .len = len, .p = p };

	vg_pr_obj_open(p, key);
	decode(&d, f);
	if (d.have_err)
		vg_pr_str(p, "_error", "decode error", d.err);
	vg_pr_obj_close(p);
}

void vg_tp_decode_line(const struct vg_tp_format *f, const void *rec,
		       size_t len, struct vg_printer *p)
{
	struct decoder d = { .rec = rec, .len = len, .p = p, .line = true };

	if (vg_printer_mode(p) != VG_OUTPUT_TEXT)
		return;
	decode(&d, f);
	if (d.have_err) {
		line_key(&d, "_error");
		vg_pr_put_value(p, d.err, strlen(d.err), 0);
	}
}
