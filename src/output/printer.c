/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "printer.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PR_DEPTH_MAX 8
#define LABEL_WIDTH 16

struct vg_printer {
	enum vg_output_mode mode;
	/* JSON: the open objects, [0] the record */
	json_t *stack[PR_DEPTH_MAX];
	int depth;
	/* text: the record being written */
	char *text;
	size_t text_len;
	FILE *tf;
};

struct vg_printer *vg_printer_new(enum vg_output_mode mode)
{
	struct vg_printer *p = calloc(1, sizeof(*p));

	if (p)
		p->mode = mode;
	return p;
}

static void reset(struct vg_printer *p)
{
	if (p->depth > 0)
		json_decref(p->stack[0]);
	p->depth = 0;
	if (p->tf)
		fclose(p->tf);
	p->tf = NULL;
	free(p->text);
	p->text = NULL;
	p->text_len = 0;
}

void vg_printer_free(struct vg_printer *p)
{
	if (!p)
		return;
	reset(p);
	free(p);
}

enum vg_output_mode vg_printer_mode(const struct vg_printer *p)
{
	return p->mode;
}

void vg_pr_begin(struct vg_printer *p)
{
	reset(p);
	if (p->mode == VG_OUTPUT_JSON) {
		p->stack[0] = json_object();
		p->depth = 1;
	} else {
		p->tf = open_memstream(&p->text, &p->text_len);
	}
}

/*
 * JSON strings must be UTF-8; /proc hands us arbitrary bytes. Invalid
 * sequences become U+FFFD so the record is still valid JSON and the rest of
 * the string is kept.
 */
static json_t *json_bytes(const char *s)
{
	size_t len = strlen(s), o = 0;
	json_t *j;
	char *fixed;

	j = json_stringn(s, len);
	if (j)
		return j;
	fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80	       ? 1
			   : (c >> 5) == 6  ? 2
			   : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4
					    : 0;
		bool ok = n > 0 && i + n <= len;

		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok && n > 1) {
			/* reject overlong forms and surrogates cheaply */
			json_t *t = json_stringn(s + i, n);

			ok = t != NULL;
			json_decref(t);
		}
		if (ok) {
			memcpy(fixed + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(fixed, o);
	free(fixed);
	return j;
}

static void json_put(struct vg_printer *p, const char *key, json_t *val)
{
	if (p->depth == 0 || !key) {
		json_decref(val);
		return;
	}
	json_object_set_new(p->stack[p->depth - 1], key, val ? val : json_null());
}

void vg_text_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void text_label(struct vg_printer *p, const char *label)
{
	fprintf(p->tf, "%-*s ", LABEL_WIDTH, label);
}

void vg_pr_obj_open(struct vg_printer *p, const char *key)
{
	if (p->mode != VG_OUTPUT_JSON || p->depth == 0)
		return;
	if (p->depth == PR_DEPTH_MAX) {
		p->depth++; /* counted so that close stays balanced */
		return;
	}
	json_t *o = json_object();

	json_object_set_new(p->stack[p->depth - 1], key, o);
	p->stack[p->depth++] = o;
}

void vg_pr_obj_close(struct vg_printer *p)
{
	if (p->mode == VG_OUTPUT_JSON && p->depth > 1)
		p->depth--;
}

void vg_pr_null(struct vg_printer *p, const char *key, const char *label)
{
	if (p->mode == VG_OUTPUT_JSON) {
		json_put(p, key, json_null());
	} else if (label && p->tf) {
		text_label(p, label);
		fputs("-\n", p->tf);
	}
}

void vg_pr_str(struct vg_printer *p, const char *key, const char *label,
	       const char *val)
{
	if (!val) {
		vg_pr_null(p, key, label);
		return;
	}
	if (p->mode == VG_OUTPUT_JSON) {
		json_put(p, key, json_bytes(val));
	} else if (label && p->tf) {
		text_label(p, label);
		vg_text_escape(p->tf, val);
		fputc('\n', p->tf);
	}
}

void vg_pr_u64(struct vg_printer *p, const char *key, const char *label,
	       uint64_t val)
{
	if (p->mode == VG_OUTPUT_JSON) {
		/* JSON numbers past 2^53 lose precision in most readers, but
		 * ids (inodes, cgroup ids) stay below; print them exactly. */
		json_put(p, key, json_integer((json_int_t)val));
	} else if (label && p->tf) {
		text_label(p, label);
		fprintf(p->tf, "%llu\n", (unsigned long long)val);
	}
}

void vg_pr_i64(struct vg_printer *p, const char *key, const char *label,
	       int64_t val)
{
	if (p->mode == VG_OUTPUT_JSON) {
		json_put(p, key, json_integer((json_int_t)val));
	} else if (label && p->tf) {
		text_label(p, label);
		fprintf(p->tf, "%lld\n", (long long)val);
	}
}

void vg_pr_bool(struct vg_printer *p, const char *key, const char *label,
		bool val)
{
	if (p->mode == VG_OUTPUT_JSON) {
		json_put(p, key, json_boolean(val));
	} else if (label && p->tf) {
		text_label(p, label);
		fputs(val ? "yes\n" : "no\n", p->tf);
	}
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_@%+=:,./-",
			    *s))
			return false;
	return true;
}

void vg_pr_str_array(struct vg_printer *p, const char *key, const char *label,
		     char *const *vals, size_t n)
{
	if (p->mode == VG_OUTPUT_JSON) {
		json_t *a = json_array();

		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, json_bytes(vals[i]));
		json_put(p, key, a);
		return;
	}
	if (!label || !p->tf)
		return;
	text_label(p, label);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', p->tf);
		if (shell_safe(vals[i])) {
			fputs(vals[i], p->tf);
		} else {
			fputc('\'', p->tf);
			for (const char *s = vals[i]; *s; s++) {
				char one[2] = { *s, 0 };

				if (*s == '\'')
					fputs("'\\''", p->tf);
				else
					vg_text_escape(p->tf, one);
			}
			fputc('\'', p->tf);
		}
	}
	fputc('\n', p->tf);
}

void vg_pr_text(struct vg_printer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->mode != VG_OUTPUT_TEXT || !p->tf)
		return;
	va_start(ap, fmt);
	vfprintf(p->tf, fmt, ap);
	va_end(ap);
}

char *vg_pr_end_string(struct vg_printer *p)
{
	char *out = NULL;

	if (p->mode == VG_OUTPUT_JSON) {
		if (p->depth > 0)
			out = json_dumps(p->stack[0], JSON_COMPACT |
							      JSON_PRESERVE_ORDER);
	} else if (p->tf) {
		int r = fclose(p->tf);

		p->tf = NULL;
		if (r == 0) {
			out = p->text;
			p->text = NULL;
		}
	}
	reset(p);
	return out;
}

int vg_pr_end(struct vg_printer *p, FILE *f)
{
	char *s = vg_pr_end_string(p);
	int r = 0;

	if (!s)
		return -ENOMEM;
	if (fputs(s, f) == EOF ||
	    (vg_printer_mode(p) == VG_OUTPUT_JSON && fputc('\n', f) == EOF))
		r = errno ? -errno : -EIO;
	free(s);
	return r;
}
