/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_TP_H
#define VG_RENDER_TP_H

#include <stddef.h>

#include "event/tpformat.h"
#include "render/printer.h"

/*
 * Decode a raw record of @len bytes (starting with the common header)
 * into the printer as an object @key, one member per non-common field:
 * integers as numbers, char arrays and loc strings as strings, other
 * arrays as arrays of integers, pointers as "0x..." strings. A field the
 * record does not hold (cut short, or a loc pointing outside it) is null,
 * and the object gets one "_error" member saying what went wrong first
 * (which is why parse() refuses a field of that name).
 * Never reads outside [@rec, @rec + @len). Text mode prints each field
 * under its name as label.
 */
void vg_tp_decode(const struct vg_tp_format *f, const void *rec, size_t len,
		  struct vg_printer *p, const char *key);

#endif
