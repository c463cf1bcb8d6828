/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_ESCAPE_H
#define VG_RENDER_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The one rule for text that a process controls (comm, exe, argv, paths,
 * container names, labels, images, pod names, tracepoint strings), in
 * every text output of vigil.
 *
 * Characters. A backslash is written \\, newline, tab and carriage return
 * \n \t \r, every other C0 control, DEL and each byte that is not part of
 * valid UTF-8 \xHH. Code points that are invisible or move text around
 * are written \u{XXXX} (hex, at least four digits): the C1 controls
 * U+0080-U+009F, U+00AD, U+061C, U+180E, U+200B-U+200F, U+2028-U+202E
 * (line and paragraph separators, bidi embeddings and overrides),
 * U+2060-U+206F (joiners, invisible operators, bidi isolates), U+FEFF,
 * U+FFF9-U+FFFB and the tags U+E0000-U+E007F. Other valid UTF-8 is
 * written as it is.
 *
 * Values among fields (key=value lines: vigil watch's events, vigil
 * server's log). A value is written bare when it is not empty, is not
 * "-" or "?" (vigil's words for none and unknown), and holds only
 * printable ASCII other than space, '"', '\\', '=', '[' and ']'.
 * Otherwise it is written in double quotes, with the escapes above and
 * '"' as \". So a value is always one token: it cannot end early, start
 * a field of its own or a list element, or look like vigil's words.
 * A list (argv) is "[" its elements, each a value, separated by one
 * space, "]".
 *
 * Values alone on the rest of a line (vigil pid's "label value" blocks,
 * vigil diff's paths) are written unquoted, with the escapes above: the
 * newline that ends them cannot be in them.
 */

/* Bytes out per byte in, at most (\xHH for one byte). */
#define VG_ESC_GROWTH 4

/*
 * The @len bytes at @s with the character escapes (and '"' as \" when
 * @quoted) into @out, which holds VG_ESC_GROWTH * @len bytes. No NUL is
 * added. Returns the bytes written.
 */
size_t vg_text_escape(char *out, const char *s, size_t len, bool quoted);

/* Whether the @len bytes at @s may stand bare among fields; @sep, unless
 * 0, is one more character that makes them quoted (the '/' between a
 * pod's namespace and name). */
bool vg_text_bare(const char *s, size_t len, char sep);

/* The @len bytes at @s as a value among fields, bare or quoted, into
 * @out, which holds VG_ESC_GROWTH * @len + 2 bytes. No NUL is added.
 * Returns the bytes written. */
size_t vg_text_value(char *out, const char *s, size_t len, char sep);

/* @s as a value among fields (vg_text_value()) into @buf, NUL-terminated;
 * a value too long for @buf is cut first. Returns @buf. */
char *vg_text_value_buf(char *buf, size_t bufsz, const char *s, char sep);

/* @s with the character escapes into @buf (NUL-terminated, cut at a
 * whole escape when it does not fit). Returns @buf. For messages that
 * carry what a process or a peer said. */
char *vg_text_escape_buf(char *buf, size_t bufsz, const char *s);

/* Write @s with the character escapes to @f. Returns false when @s was
 * not valid UTF-8. */
bool vg_fputs_escaped(FILE *f, const char *s);

/* Whether @s is valid UTF-8 (no overlong forms, surrogates, or code
 * points past U+10FFFF). */
bool vg_utf8_valid(const char *s);

/* The length of the valid UTF-8 sequence at @s (1-4), of the @left
 * bytes there, or 0 when it is not one (overlong, a surrogate, past
 * U+10FFFF, cut short). */
size_t vg_utf8_seq(const unsigned char *s, size_t left);

/* The same, and its code point in *@ret_cp (untouched on 0). */
size_t vg_utf8_decode(const unsigned char *s, size_t left, uint32_t *ret_cp);

/* Whether code point @cp is one that the escapes above hide (C1,
 * bidi, invisible format characters, separators). */
bool vg_unicode_hidden(uint32_t cp);

#endif
