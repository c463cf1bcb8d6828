/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_PRINTER_H
#define VG_RENDER_PRINTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One print path for text and JSON: callers describe a record once, as
 * keyed fields with an optional text label. JSON mode builds one object
 * per record (one line); text mode prints the labelled fields as an
 * aligned block. Fields with a NULL label are JSON-only.
 *
 * Text values are written by the rule of render/escape.h: a string
 * field's value, alone on the rest of its line, with the character
 * escapes; the elements of a string array as values among fields.
 */

enum vg_output_mode { VG_OUTPUT_TEXT, VG_OUTPUT_JSON };

struct vg_printer;

/* Caller frees with vg_printer_free(). NULL on -ENOMEM. */
struct vg_printer *vg_printer_new(enum vg_output_mode mode);
void vg_printer_free(struct vg_printer *p);
enum vg_output_mode vg_printer_mode(const struct vg_printer *p);

void vg_pr_begin(struct vg_printer *p);
void vg_pr_obj_open(struct vg_printer *p, const char *key);
void vg_pr_obj_close(struct vg_printer *p);
/* A JSON array (text: nothing); inside it, members are written with a
 * NULL key: vg_pr_obj_open(p, NULL), vg_pr_str(p, NULL, ...). Nesting is
 * bounded by the printer's depth (512): callers keep below it. */
void vg_pr_arr_open(struct vg_printer *p, const char *key);
void vg_pr_arr_close(struct vg_printer *p);
void vg_pr_null(struct vg_printer *p, const char *key, const char *label);
/* NULL @val prints as JSON null and text "-". */
void vg_pr_str(struct vg_printer *p, const char *key, const char *label,
	       const char *val);
void vg_pr_u64(struct vg_printer *p, const char *key, const char *label,
	       uint64_t val);
void vg_pr_i64(struct vg_printer *p, const char *key, const char *label,
	       int64_t val);
void vg_pr_bool(struct vg_printer *p, const char *key, const char *label,
		bool val);
/* JSON array of strings; text shows them on one line, each a value
 * among fields (bare or quoted, escape.h), separated by a space. */
void vg_pr_str_array(struct vg_printer *p, const char *key, const char *label,
		     char *const *vals, size_t n);
/* JSON only: @n bytes of members already serialized ("k":v,"k2":v2, as
 * a vg_pr_end_string() object without its braces), added to the open
 * object as they are. For parts that repeat across records. */
void vg_pr_raw_members(struct vg_printer *p, const char *members, size_t n);
/* JSON: the bytes of the record so far. With vg_pr_end_string(), where
 * members added later are to be spliced in (after a comma). */
size_t vg_pr_len(const struct vg_printer *p);
/* Text-only line, e.g. a heading; ignored in JSON. */
void vg_pr_text(struct vg_printer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Text-only pieces of a record that is one line of fields (vigil watch's
 * events, vigil server's log), appended as given; ignored in JSON mode.
 * vg_pr_put(): vigil's own words, as they are. vg_pr_put_value(): @n
 * bytes a process controls, as a value among fields (bare or quoted;
 * @sep, unless 0, one more character that makes it quoted).
 * vg_pr_put_escaped(): the same with the character escapes only, for a
 * value that ends the line.
 */
void vg_pr_put(struct vg_printer *p, const char *s, size_t n);
void vg_pr_put_u64(struct vg_printer *p, uint64_t v);
void vg_pr_put_i64(struct vg_printer *p, int64_t v);
void vg_pr_put_value(struct vg_printer *p, const char *s, size_t n, char sep);
void vg_pr_put_escaped(struct vg_printer *p, const char *s, size_t n);
/* vg_pr_put() of a string literal (only: its size is taken), and of a C
 * string; vg_pr_put_value() of a C string, NULL as '?' (unknown: a
 * value "?" is quoted). */
#define VG_PR_PUT_LIT(p, lit) vg_pr_put((p), ("" lit), sizeof(lit) - 1)
void vg_pr_put_str(struct vg_printer *p, const char *s);
void vg_pr_put_str_value(struct vg_printer *p, const char *s, char sep);

/* Finish the record and write it to @f (JSON: one line). Returns 0 or
 * -errno (-EPIPE when the reader went away). */
int vg_pr_end(struct vg_printer *p, FILE *f);
/* Finish the record and return it in the printer's own buffer, valid
 * until the next vg_pr_begin(); its length in *@ret_len. NULL on
 * -ENOMEM. For a caller that copies or writes it at once. */
const char *vg_pr_end_view(struct vg_printer *p, size_t *ret_len);
/* Finish the record and return it as a string (no trailing newline for
 * JSON). Caller frees with free(). NULL on -ENOMEM. */
char *vg_pr_end_string(struct vg_printer *p);

#endif
