/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "render/escape.h"

struct vg_row *vg_report_row(struct vg_report *r, const char *key,
			     const char *label)
{
	struct vg_row *w;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct vg_row *nr;

		if (cap > VG_REPORT_MAX_ROWS ||
		    !(nr = realloc(r->rows, cap * sizeof(*nr)))) {
			r->oom = true;
			return NULL;
		}
		r->rows = nr;
		r->cap = cap;
	}
	w = &r->rows[r->n];
	*w = (struct vg_row){ .key = strdup(key), .label = strdup(label) };
	if (!w->key || !w->label) {
		free(w->key);
		free(w->label);
		r->oom = true;
		return NULL;
	}
	r->n++;
	return w;
}

static struct vg_val *add(struct vg_row *w, const char *name,
			  enum vg_val_type type)
{
	struct vg_val *v;

	if (!w || w->n == VG_ROW_VALS)
		return NULL;
	v = &w->v[w->n++];
	*v = (struct vg_val){ .name = name, .type = type };
	return v;
}

void vg_row_bool(struct vg_row *w, const char *name, bool b)
{
	struct vg_val *v = add(w, name, VG_VAL_BOOL);

	if (v)
		v->b = b;
}

void vg_row_int(struct vg_row *w, const char *name, int64_t i)
{
	struct vg_val *v = add(w, name, VG_VAL_INT);

	if (v)
		v->i = i;
}

void vg_row_null(struct vg_row *w, const char *name)
{
	add(w, name, VG_VAL_NULL);
}

void vg_row_str(struct vg_row *w, const char *name, const char *s)
{
	struct vg_val *v;

	if (!s) {
		vg_row_null(w, name);
		return;
	}
	v = add(w, name, VG_VAL_STR);
	if (v && !(v->s = strdup(s)))
		v->type = VG_VAL_NULL;
}

void vg_row_strf(struct vg_row *w, const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vg_row_str(w, name, buf);
}

void vg_report_blocker(struct vg_report *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (r->n_blockers == VG_REPORT_MAX_BLOCKERS) {
		r->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!(r->blockers[r->n_blockers] = strdup(buf)))
		r->oom = true;
	else
		r->n_blockers++;
}

const struct vg_row *vg_report_find(const struct vg_report *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->rows[i].key, key) == 0)
			return &r->rows[i];
	return NULL;
}

const struct vg_val *vg_row_val(const struct vg_row *w, const char *name)
{
	for (size_t i = 0; w && i < w->n; i++)
		if (name ? (w->v[i].name && strcmp(w->v[i].name, name) == 0)
			 : !w->v[i].name)
			return &w->v[i];
	return NULL;
}

void vg_report_release(struct vg_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->rows[i].key);
		free(r->rows[i].label);
		for (size_t j = 0; j < r->rows[i].n; j++)
			free(r->rows[i].v[j].s);
	}
	free(r->rows);
	for (size_t i = 0; i < r->n_blockers; i++)
		free(r->blockers[i]);
	*r = (struct vg_report){ 0 };
}

/* ---------------------------------------------------------------- text */

static void text_val(FILE *f, const struct vg_val *v)
{
	switch (v->type) {
	case VG_VAL_NULL:
		fputs("-", f);
		break;
	case VG_VAL_BOOL:
		fputs(v->b ? "yes" : "no", f);
		break;
	case VG_VAL_INT:
		fprintf(f, "%" PRId64, v->i);
		break;
	case VG_VAL_STR:
		vg_fputs_escaped(f, v->s);
		break;
	}
}

/* The length of the section part of @key (up to its first dot). */
static size_t section_len(const char *key)
{
	return strcspn(key, ".");
}

static void print_text(const struct vg_report *r, FILE *f)
{
	const char *section = NULL;
	size_t slen = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct vg_row *w = &r->rows[i];
		size_t l = section_len(w->key);

		if (!section || l != slen || strncmp(section, w->key, l) != 0) {
			section = w->key;
			slen = l;
			fprintf(f, "%s%.*s\n", i ? "\n" : "", (int)l, w->key);
		}
		fputs("  ", f);
		vg_fputs_escaped(f, w->label);
		for (size_t n = strlen(w->label); n < 22; n++)
			fputc(' ', f);
		fputc(' ', f);
		for (size_t j = 0; j < w->n; j++) {
			if (j)
				fputs(", ", f);
			if (w->v[j].name)
				fprintf(f, "%s ", w->v[j].name);
			text_val(f, &w->v[j]);
		}
		fputc('\n', f);
	}
	fputs("\nverdict\n", f);
	if (!r->n_blockers) {
		fputs("  vigil watch and vigil daemon can run here\n", f);
		return;
	}
	fputs("  vigil watch and vigil daemon cannot run here:\n", f);
	for (size_t i = 0; i < r->n_blockers; i++) {
		fputs("  - ", f);
		vg_fputs_escaped(f, r->blockers[i]);
		fputc('\n', f);
	}
}

/* ---------------------------------------------------------------- JSON */

static void json_val(struct vg_printer *p, const char *key,
		     const struct vg_val *v)
{
	switch (v->type) {
	case VG_VAL_NULL:
		vg_pr_null(p, key, NULL);
		break;
	case VG_VAL_BOOL:
		vg_pr_bool(p, key, NULL, v->b);
		break;
	case VG_VAL_INT:
		vg_pr_i64(p, key, NULL, v->i);
		break;
	case VG_VAL_STR:
		vg_pr_str(p, key, NULL, v->s);
		break;
	}
}

#define KEY_DEPTH 8

/* Split a copy of @key at its dots: at most KEY_DEPTH parts. */
static size_t split_key(char *key, char *parts[KEY_DEPTH])
{
	size_t n = 0;

	for (char *s = key; s && n < KEY_DEPTH;) {
		parts[n++] = s;
		s = strchr(s, '.');
		if (s)
			*s++ = '\0';
	}
	return n;
}

static int print_json(const struct vg_report *r, FILE *f)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	char *open_buf = NULL, *open[KEY_DEPTH];
	size_t n_open = 0;
	int ret;

	if (!p)
		return -ENOMEM;
	vg_pr_begin(p);
	for (size_t i = 0; i < r->n; i++) {
		const struct vg_row *w = &r->rows[i];
		char *buf = strdup(w->key), *parts[KEY_DEPTH];
		size_t n, objs, common = 0;

		if (!buf)
			continue;
		n = split_key(buf, parts);
		/* the objects the row lives in: all parts but the last,
		 * unless its values are named (then the row is one too) */
		objs = (w->n == 1 && !w->v[0].name) ? n - 1 : n;
		while (common < n_open && common < objs &&
		       strcmp(open[common], parts[common]) == 0)
			common++;
		while (n_open > common) {
			vg_pr_obj_close(p);
			n_open--;
		}
		for (size_t k = 0; k < n_open; k++)
			open[k] = parts[k]; /* the same names, in @buf */
		for (size_t k = n_open; k < objs; k++) {
			vg_pr_obj_open(p, parts[k]);
			open[n_open++] = parts[k];
		}
		if (objs == n) {
			for (size_t j = 0; j < w->n; j++)
				json_val(p, w->v[j].name ? w->v[j].name : "value",
					 &w->v[j]);
		} else {
			json_val(p, parts[n - 1], &w->v[0]);
		}
		/* @open points into @buf now: the last one can go */
		free(open_buf);
		open_buf = buf;
	}
	while (n_open--)
		vg_pr_obj_close(p);
	free(open_buf);
	vg_pr_obj_open(p, "verdict");
	vg_pr_bool(p, "watch", NULL, r->n_blockers == 0);
	vg_pr_bool(p, "daemon", NULL, r->n_blockers == 0);
	vg_pr_arr_open(p, "reasons");
	for (size_t i = 0; i < r->n_blockers; i++)
		vg_pr_str(p, NULL, NULL, r->blockers[i]);
	vg_pr_arr_close(p);
	vg_pr_obj_close(p);
	ret = vg_pr_end(p, f);
	vg_printer_free(p);
	return ret;
}

int vg_report_print(const struct vg_report *r, enum vg_output_mode mode,
		    FILE *f)
{
	if (mode == VG_OUTPUT_JSON)
		return print_json(r, f);
	print_text(r, f);
	return ferror(f) ? -EIO : 0;
}
