/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The printer writes each record straight into one growing buffer: JSON as
 * it is described (no tree is built), text as aligned "label value" lines.
 * `vigil pid --all` prints thousands of records, and building a JSON tree
 * per record cost more than reading the process (see bench/).
 */
#include "printer.h"
#include "escape.h"

#include "base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PR_DEPTH_MAX 512
#define LABEL_WIDTH 16

struct vg_printer {
	enum vg_output_mode mode;
	char *buf;
	size_t len, cap;
	bool oom;
	bool open; /* between vg_pr_begin() and the end */
	/* JSON: per open object, whether a member was written (for commas) */
	int depth;
	bool has_member[PR_DEPTH_MAX];
	bool in_array[PR_DEPTH_MAX]; /* elements take no key */
};

struct vg_printer *vg_printer_new(enum vg_output_mode mode)
{
	struct vg_printer *p = calloc(1, sizeof(*p));

	if (p)
		p->mode = mode;
	return p;
}

void vg_printer_free(struct vg_printer *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

enum vg_output_mode vg_printer_mode(const struct vg_printer *p)
{
	return p->mode;
}

static bool __attribute__((noinline)) grow(struct vg_printer *p, size_t more)
{
	size_t ncap;
	char *nbuf;

	if (p->oom)
		return false;
	ncap = p->cap ? p->cap : 1024;
	while (ncap < p->len + more + 1) {
		if (ncap > SIZE_MAX / 2) {
			p->oom = true;
			return false;
		}
		ncap *= 2;
	}
	nbuf = realloc(p->buf, ncap);
	if (!nbuf) {
		p->oom = true;
		return false;
	}
	p->buf = nbuf;
	p->cap = ncap;
	return true;
}

/* Room for @more bytes and a NUL. The common case, inline: vigil watch
 * calls this a hundred times per event. (After an allocation failure
 * cap stays below what is asked, so oom is seen in grow().) */
static inline bool reserve(struct vg_printer *p, size_t more)
{
	if (__builtin_expect(p->len + more + 1 <= p->cap && !p->oom, 1))
		return true;
	return grow(p, more);
}

static void put(struct vg_printer *p, const char *s, size_t n)
{
	if (!reserve(p, n))
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
}

static void puts_(struct vg_printer *p, const char *s)
{
	put(p, s, strlen(s));
}

static void putc_(struct vg_printer *p, char c)
{
	put(p, &c, 1);
}

static void vprintf_(struct vg_printer *p, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !reserve(p, (size_t)n))
		return;
	vsnprintf(p->buf + p->len, (size_t)n + 1, fmt, ap);
	p->len += (size_t)n;
}

static void put_u64(struct vg_printer *p, uint64_t v)
{
	char tmp[20];

	put(p, tmp, (size_t)(vg_u64_to_str(v, tmp) - tmp));
}

static void put_i64(struct vg_printer *p, int64_t v)
{
	if (v < 0) {
		putc_(p, '-');
		put_u64(p, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(p, (uint64_t)v);
	}
}


/*
 * A JSON string from arbitrary bytes (what /proc hands us): escapes as
 * JSON requires, and invalid UTF-8 becomes U+FFFD so the record stays
 * valid and the rest of the string is kept. The code points that
 * escape.h hides (C1, bidi, invisible ones) are written \uXXXX: a
 * parser reads the same string, a terminal showing the line is not
 * misled by them.
 */
/* Bytes JSON takes as they are: ASCII from 0x20, but for '"' (0x22),
 * '\\' (0x5c) and DEL. */
static const bool json_plain[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

static const char hex[] = "0123456789abcdef";

static void json_u(struct vg_printer *p, uint32_t u)
{
	char esc[6] = { '\\', 'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15],
			hex[(u >> 4) & 15], hex[u & 15] };

	put(p, esc, sizeof(esc));
}

static void json_string(struct vg_printer *p, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), run = 0, i = 0;

	/* the common case: nothing to escape, one copy */
	while (i < len && json_plain[u[i]])
		i++;
	if (i == len && reserve(p, len + 2)) {
		p->buf[p->len++] = '"';
		memcpy(p->buf + p->len, s, len);
		p->len += len;
		p->buf[p->len++] = '"';
		return;
	}
	run = i;
	putc_(p, '"');
	while (i < len) {
		unsigned char c = u[i];
		uint32_t cp;
		size_t n;

		if (json_plain[c]) {
			run++, i++;
			continue;
		}
		put(p, s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			putc_(p, '\\');
			putc_(p, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			if (c == '\n')
				puts_(p, "\\n");
			else if (c == '\t')
				puts_(p, "\\t");
			else if (c == '\r')
				puts_(p, "\\r");
			else
				json_u(p, c);
			i++;
		} else if ((n = vg_utf8_decode(u + i, len - i, &cp)) > 0) {
			if (!vg_unicode_hidden(cp)) {
				put(p, s + i, n);
			} else if (cp < 0x10000) {
				json_u(p, cp);
			} else {
				cp -= 0x10000;
				json_u(p, 0xd800 + (cp >> 10));
				json_u(p, 0xdc00 + (cp & 0x3ff));
			}
			i += n;
		} else {
			puts_(p, "\xef\xbf\xbd");
			i++;
		}
	}
	put(p, s + i - run, run);
	putc_(p, '"');
}

/* @n bytes of @s with escape.h's character escapes (unquoted: a value
 * alone on the rest of its line). */
static void text_escape(struct vg_printer *p, const char *s, size_t n)
{
	if (n > (SIZE_MAX - 2) / VG_ESC_GROWTH || !reserve(p, VG_ESC_GROWTH * n))
		return;
	p->len += vg_text_escape(p->buf + p->len, s, n, false);
}

/* @n bytes of @s as a value among fields, bare or quoted (escape.h). */
static void text_value(struct vg_printer *p, const char *s, size_t n, char sep)
{
	if (n > (SIZE_MAX - 4) / VG_ESC_GROWTH ||
	    !reserve(p, VG_ESC_GROWTH * n + 2))
		return;
	p->len += vg_text_value(p->buf + p->len, s, n, sep);
}

/* JSON: the comma and "key": before a member. */
static void json_key(struct vg_printer *p, const char *key)
{
	if (p->depth > 0 && p->depth <= PR_DEPTH_MAX) {
		if (p->has_member[p->depth - 1])
			putc_(p, ',');
		p->has_member[p->depth - 1] = true;
		if (p->in_array[p->depth - 1])
			return;
	}
	json_string(p, key);
	putc_(p, ':');
}

static void text_label(struct vg_printer *p, const char *label)
{
	size_t n = strlen(label);

	puts_(p, label);
	if (!reserve(p, LABEL_WIDTH + 1))
		return;
	do
		p->buf[p->len++] = ' ';
	while (++n < LABEL_WIDTH + 1);
}

/* Whether a field is written: JSON needs a key, text a label. */
static bool json_field(struct vg_printer *p, const char *key)
{
	bool element = p->depth > 0 && p->depth <= PR_DEPTH_MAX &&
		       p->in_array[p->depth - 1];

	if (p->mode != VG_OUTPUT_JSON || !p->open || (!key && !element))
		return false;
	json_key(p, key);
	return true;
}

static bool text_field(struct vg_printer *p, const char *label)
{
	if (p->mode != VG_OUTPUT_TEXT || !p->open || !label)
		return false;
	text_label(p, label);
	return true;
}

void vg_pr_begin(struct vg_printer *p)
{
	p->len = 0;
	p->oom = false;
	p->open = true;
	p->depth = 0;
	if (p->mode == VG_OUTPUT_JSON) {
		putc_(p, '{');
		p->depth = 1;
		p->has_member[0] = false;
		p->in_array[0] = false;
	}
}

void vg_pr_obj_open(struct vg_printer *p, const char *key)
{
	if (!json_field(p, key))
		return;
	putc_(p, '{');
	if (p->depth < PR_DEPTH_MAX) {
		p->has_member[p->depth] = false;
		p->in_array[p->depth] = false;
	}
	p->depth++;
}

void vg_pr_arr_open(struct vg_printer *p, const char *key)
{
	if (!json_field(p, key))
		return;
	putc_(p, '[');
	if (p->depth < PR_DEPTH_MAX) {
		p->has_member[p->depth] = false;
		p->in_array[p->depth] = true;
	}
	p->depth++;
}

void vg_pr_arr_close(struct vg_printer *p)
{
	if (p->mode != VG_OUTPUT_JSON || !p->open || p->depth <= 1)
		return;
	putc_(p, ']');
	p->depth--;
}

void vg_pr_obj_close(struct vg_printer *p)
{
	if (p->mode != VG_OUTPUT_JSON || !p->open || p->depth <= 1)
		return;
	putc_(p, '}');
	p->depth--;
}

void vg_pr_null(struct vg_printer *p, const char *key, const char *label)
{
	if (json_field(p, key))
		puts_(p, "null");
	else if (text_field(p, label))
		puts_(p, "-\n");
}

void vg_pr_str(struct vg_printer *p, const char *key, const char *label,
	       const char *val)
{
	if (!val) {
		vg_pr_null(p, key, label);
	} else if (json_field(p, key)) {
		json_string(p, val);
	} else if (text_field(p, label)) {
		text_escape(p, val, strlen(val));
		putc_(p, '\n');
	}
}

void vg_pr_u64(struct vg_printer *p, const char *key, const char *label,
	       uint64_t val)
{
	if (json_field(p, key)) {
		put_u64(p, val);
	} else if (text_field(p, label)) {
		put_u64(p, val);
		putc_(p, '\n');
	}
}

void vg_pr_i64(struct vg_printer *p, const char *key, const char *label,
	       int64_t val)
{
	if (json_field(p, key)) {
		put_i64(p, val);
	} else if (text_field(p, label)) {
		put_i64(p, val);
		putc_(p, '\n');
	}
}

void vg_pr_bool(struct vg_printer *p, const char *key, const char *label,
		bool val)
{
	if (json_field(p, key))
		puts_(p, val ? "true" : "false");
	else if (text_field(p, label))
		puts_(p, val ? "yes\n" : "no\n");
}

void vg_pr_raw_members(struct vg_printer *p, const char *members, size_t n)
{
	if (p->mode != VG_OUTPUT_JSON || !p->open || !n || p->depth < 1 ||
	    p->depth > PR_DEPTH_MAX || p->in_array[p->depth - 1])
		return;
	if (p->has_member[p->depth - 1])
		putc_(p, ',');
	p->has_member[p->depth - 1] = true;
	put(p, members, n);
}

void vg_pr_str_array(struct vg_printer *p, const char *key, const char *label,
		     char *const *vals, size_t n)
{
	if (json_field(p, key)) {
		putc_(p, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				putc_(p, ',');
			json_string(p, vals[i]);
		}
		putc_(p, ']');
		return;
	}
	if (!text_field(p, label))
		return;
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc_(p, ' ');
		text_value(p, vals[i], strlen(vals[i]), 0);
	}
	putc_(p, '\n');
}

void vg_pr_text(struct vg_printer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->mode != VG_OUTPUT_TEXT || !p->open)
		return;
	va_start(ap, fmt);
	vprintf_(p, fmt, ap);
	va_end(ap);
}

static bool text_open(const struct vg_printer *p)
{
	return p->mode == VG_OUTPUT_TEXT && p->open;
}

void vg_pr_put(struct vg_printer *p, const char *s, size_t n)
{
	if (text_open(p))
		put(p, s, n);
}

void vg_pr_put_u64(struct vg_printer *p, uint64_t v)
{
	if (text_open(p))
		put_u64(p, v);
}

void vg_pr_put_i64(struct vg_printer *p, int64_t v)
{
	if (text_open(p))
		put_i64(p, v);
}

void vg_pr_put_str(struct vg_printer *p, const char *s)
{
	vg_pr_put(p, s, strlen(s));
}

void vg_pr_put_str_value(struct vg_printer *p, const char *s, char sep)
{
	if (s)
		vg_pr_put_value(p, s, strlen(s), sep);
	else
		VG_PR_PUT_LIT(p, "?");
}

void vg_pr_put_value(struct vg_printer *p, const char *s, size_t n, char sep)
{
	if (text_open(p))
		text_value(p, s, n, sep);
}

void vg_pr_put_escaped(struct vg_printer *p, const char *s, size_t n)
{
	if (text_open(p))
		text_escape(p, s, n);
}

/* Close the record; returns its length, or -ENOMEM. */
static ssize_t finish(struct vg_printer *p)
{
	if (!p->open)
		return -EINVAL;
	p->open = false;
	if (p->mode == VG_OUTPUT_JSON)
		putc_(p, '}');
	if (p->oom || !reserve(p, 0))
		return -ENOMEM;
	p->buf[p->len] = '\0';
	return (ssize_t)p->len;
}

size_t vg_pr_len(const struct vg_printer *p)
{
	return p->len;
}

const char *vg_pr_end_view(struct vg_printer *p, size_t *ret_len)
{
	ssize_t n = finish(p);

	if (n < 0)
		return NULL;
	*ret_len = p->len;
	return p->buf;
}

char *vg_pr_end_string(struct vg_printer *p)
{
	ssize_t n = finish(p);

	return n < 0 ? NULL : strdup(p->buf);
}

int vg_pr_end(struct vg_printer *p, FILE *f)
{
	ssize_t n = finish(p);

	if (n < 0)
		return (int)n;
	if (p->mode == VG_OUTPUT_JSON)
		p->buf[p->len++] = '\n'; /* reserve() kept room for the NUL */
	if (fwrite(p->buf, 1, p->len, f) != p->len)
		return errno ? -errno : -EIO;
	return 0;
}
