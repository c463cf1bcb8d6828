/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_ESCAPE_H
#define VG_RENDER_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Paths and names as one unbroken line of text: newline, tab and
 * carriage return as \n \t \r, a backslash as \\, other control
 * characters (and DEL) and every byte that is not part of valid UTF-8
 * as \xNN. Valid UTF-8 and all other printable bytes, spaces included,
 * are written as they are, so a plain path prints unchanged and any
 * path can be told from any other.
 */

/* Write @s escaped to @f. Returns false when @s was not valid UTF-8. */
bool vg_fputs_escaped(FILE *f, const char *s);

/* Whether @s is valid UTF-8 (no overlong forms, surrogates, or code
 * points past U+10FFFF). */
bool vg_utf8_valid(const char *s);

/* The length of the valid UTF-8 sequence at @s (1-4), of the @left
 * bytes there, or 0 when it is not one (overlong, a surrogate, past
 * U+10FFFF, cut short). */
size_t vg_utf8_seq(const unsigned char *s, size_t left);

#endif
