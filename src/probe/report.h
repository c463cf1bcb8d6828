/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_PROBE_REPORT_H
#define VG_PROBE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/printer.h"

/*
 * A report of facts, rendered as text or as one JSON object from the
 * same rows. A row is one line of text ("label   name value, name
 * value") and one JSON member at its dotted key: a row of one unnamed
 * value is that value ("kernel.release": "6.18"), a row of named values
 * an object of them ("programs.kprobe": {"loads": true, ...}). Rows of a
 * section (the key's first part) are kept together by their order.
 * Blockers are the reasons vigil watch and vigil daemon cannot run.
 */

enum vg_val_type { VG_VAL_NULL, VG_VAL_BOOL, VG_VAL_INT, VG_VAL_STR };

struct vg_val {
	const char *name; /* static; NULL: the row's one value */
	enum vg_val_type type;
	bool b;
	int64_t i;
	char *s;
};

#define VG_ROW_VALS 8
#define VG_REPORT_MAX_ROWS 256
#define VG_REPORT_MAX_BLOCKERS 32

struct vg_row {
	char *key;   /* "kernel.release", "programs.kprobe" */
	char *label; /* "release", "kprobe" */
	struct vg_val v[VG_ROW_VALS];
	size_t n;
};

struct vg_report {
	struct vg_row *rows;
	size_t n, cap;
	char *blockers[VG_REPORT_MAX_BLOCKERS];
	size_t n_blockers;
	bool oom; /* something could not be added */
};

/* A new row at the end; NULL (and @r->oom set) when out of memory or
 * rows, after which the value calls below do nothing. */
struct vg_row *vg_report_row(struct vg_report *r, const char *key,
			     const char *label);
void vg_row_bool(struct vg_row *w, const char *name, bool v);
void vg_row_int(struct vg_row *w, const char *name, int64_t v);
/* NULL @v is null. */
void vg_row_str(struct vg_row *w, const char *name, const char *v);
void vg_row_strf(struct vg_row *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vg_row_null(struct vg_row *w, const char *name);

/* A reason vigil watch and vigil daemon cannot run here, with its fix. */
void vg_report_blocker(struct vg_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The row at @key, or NULL. */
const struct vg_row *vg_report_find(const struct vg_report *r, const char *key);
/* Its value @name (NULL: the unnamed one), or NULL. */
const struct vg_val *vg_row_val(const struct vg_row *w, const char *name);

/* Text, or one JSON object on one line, to @f. The verdict closes both.
 * Returns 0 or -errno. */
int vg_report_print(const struct vg_report *r, enum vg_output_mode mode,
		    FILE *f);

void vg_report_release(struct vg_report *r);

#endif
