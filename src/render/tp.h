/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_TP_H
#define VG_RENDER_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/tpformat.h"
#include "render/printer.h"

/*
 * Decode a raw record of @len bytes (starting with the common header)
 * into the printer as an object @key, one member per non-common field:
 * integers as numbers, char arrays and loc strings as strings, other
 * arrays as arrays of integers, pointers (a field whose type is a
 * pointer type, or the elements of an array of pointers) as strings
 * (see vg_tp_set_raw_pointers()). A field the record does not hold
 * (cut short, or a loc pointing outside it) is null, and the object gets
 * one "_error" member saying what went wrong first (which is why parse()
 * refuses a field of that name).
 * Never reads outside [@rec, @rec + @len). Text mode prints each field
 * under its name as label.
 */
void vg_tp_decode(const struct vg_tp_format *f, const void *rec, size_t len,
		  struct vg_printer *p, const char *key);

/* The same as one line of fields, appended to text printer @p's record:
 * " name=value" per field, strings as values among fields (escape.h),
 * arrays as "[1 2 3]", a missing field as "-", then " _error=..." if
 * something went wrong. */
void vg_tp_decode_line(const struct vg_tp_format *f, const void *rec,
		       size_t len, struct vg_printer *p);

/*
 * Kernel addresses in decoded records: by default a NULL pointer is
 * "0x0" and any other "hash:" and 16 hex digits, SipHash-2-4 of the
 * address under a key this process draws from getrandom() (equal
 * pointers hash equal within one run, the address is not revealed);
 * "hidden" while the kernel cannot give a key yet. With @raw (vigil
 * watch --raw-pointers), "0x" and the address. Process-wide: set before
 * events are rendered.
 */
void vg_tp_set_raw_pointers(bool raw);

/* The keyed hash of @addr; *@ret_ok false (and 0) when there is no key
 * yet. For tests. */
uint64_t vg_tp_pointer_hash(uint64_t addr, bool *ret_ok);

#endif
