/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A raw tracepoint record decoded by its format's fields, into the
 * printer: what a tracepoint's bytes mean is learnt at run time, so a
 * tracepoint vigil was never built for is still shown by field name.
 */
#include "render/tp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"


struct decoder {
	const uint8_t *rec;
	size_t len;
	struct vg_printer *p;
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

static void put_int(struct vg_printer *p, const char *key, const char *label,
		    const uint8_t *s, uint32_t size, bool is_signed)
{
	if (is_signed)
		vg_pr_i64(p, key, label, load_int(s, size));
	else
		vg_pr_u64(p, key, label, load_uint(s, size));
}

static void put_string(struct decoder *d, const char *name, const uint8_t *s,
		       size_t n)
{
	const uint8_t *nul = n ? memchr(s, '\0', n) : NULL;
	char small[256], *big = NULL, *out = small;
	size_t m = nul ? (size_t)(nul - s) : n;

	if (m >= sizeof(small)) {
		big = malloc(m + 1);
		if (!big) {
			vg_pr_null(d->p, name, name);
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

static void put_ints(struct decoder *d, const char *name, const uint8_t *s,
		     size_t n, uint32_t elem, bool is_signed)
{
	char line[TEXT_ELEMS_MAX * 22 + 32];
	size_t pos = 0;

	if (vg_printer_mode(d->p) == VG_OUTPUT_JSON) {
		vg_pr_arr_open(d->p, name);
		for (size_t i = 0; i < n; i++)
			put_int(d->p, NULL, NULL, s + i * elem, elem, is_signed);
		vg_pr_arr_close(d->p);
		return;
	}
	line[0] = '\0';
	for (size_t i = 0; i < n && i < TEXT_ELEMS_MAX && pos < sizeof(line);
	     i++) {
		if (is_signed)
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos,
						"%s%" PRId64, i ? " " : "",
						load_int(s + i * elem, elem));
		else
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos,
						"%s%" PRIu64, i ? " " : "",
						load_uint(s + i * elem, elem));
	}
	if (n > TEXT_ELEMS_MAX && pos < sizeof(line))
		snprintf(line + pos, sizeof(line) - pos, " ... (%zu in all)", n);
	vg_pr_str(d->p, NULL, name, line);
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
		vg_pr_null(d->p, fl->name, fl->name);
		note(d, "%s: %s data at %zu+%zu is outside the %zu-byte record",
		     fl->name, what, off, n, d->len);
		return;
	}
	if (fl->is_string) {
		put_string(d, fl->name, d->rec + off, n);
	} else if (n % fl->elem_size) {
		vg_pr_null(d->p, fl->name, fl->name);
		note(d, "%s: %s length %zu is not a multiple of %u", fl->name,
		     what, n, fl->elem_size);
	} else {
		put_ints(d, fl->name, d->rec + off, n / fl->elem_size,
			 fl->elem_size, fl->is_signed);
	}
}

static void put_field(struct decoder *d, const struct vg_tp_field *fl)
{
	const uint8_t *s;
	char addr[24];

	/* a flexible array: whatever the record holds past its start */
	if (fl->size == 0 && (fl->kind == VG_TPF_ARRAY ||
			      fl->kind == VG_TPF_STRING_ARRAY)) {
		size_t n;

		if (fl->offset > d->len) {
			vg_pr_null(d->p, fl->name, fl->name);
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
				 fl->elem_size, fl->is_signed);
		return;
	}
	if ((size_t)fl->offset + fl->size > d->len) {
		vg_pr_null(d->p, fl->name, fl->name);
		note(d, "%s: ends past the %zu-byte record", fl->name, d->len);
		return;
	}
	s = d->rec + fl->offset;
	switch (fl->kind) {
	case VG_TPF_INT:
		put_int(d->p, fl->name, fl->name, s, fl->size, fl->is_signed);
		break;
	case VG_TPF_POINTER:
		snprintf(addr, sizeof(addr), "0x%" PRIx64,
			 load_uint(s, fl->size));
		vg_pr_str(d->p, fl->name, fl->name, addr);
		break;
	case VG_TPF_STRING_ARRAY:
		put_string(d, fl->name, s, fl->size);
		break;
	case VG_TPF_DATA_LOC:
	case VG_TPF_REL_LOC:
		put_loc(d, fl);
		break;
	case VG_TPF_ARRAY:
	case VG_TPF_OTHER:
		put_ints(d, fl->name, s, fl->size / fl->elem_size,
			 fl->elem_size, fl->is_signed && fl->kind == VG_TPF_ARRAY);
		break;
	}
}

void vg_tp_decode(const struct vg_tp_format *f, const void *rec, size_t len,
		  struct vg_printer *p, const char *key)
{
	static const uint8_t empty[1];
	struct decoder d = { .rec = rec, .len = len, .p = p };

	/* no arithmetic on a NULL record, even of 0 */
	if (!rec || !len) {
		d.rec = empty;
		d.len = 0;
	}
	vg_pr_obj_open(p, key);
	if (d.len < f->record_size)
		note(&d, "record of %zu bytes, the format's is %u", d.len,
		     f->record_size);
	for (size_t i = 0; i < f->n_fields; i++)
		if (!vg_startswith(f->fields[i].name, "common_"))
			put_field(&d, &f->fields[i]);
	if (d.have_err)
		vg_pr_str(p, "_error", "decode error", d.err);
	vg_pr_obj_close(p);
}
