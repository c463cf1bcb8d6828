/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The format file is the kernel's own description of a tracepoint record
 * (kernel/trace/trace_events.c, f_show()). It is text meant for people, so
 * the parser is tolerant of spacing and of lines it does not know, but
 * strict about every number it will later use to index a record: the
 * records come from the kernel, the format from a file system a
 * container may fake, and neither may make decode() read out of bounds.
 */
#include "tpformat.h"

#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


struct span {
	const char *s;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static struct span trim(struct span v)
{
	while (v.n && is_blank(v.s[0]))
		v.s++, v.n--;
	while (v.n && is_blank(v.s[v.n - 1]))
		v.n--;
	return v;
}

/* Consume @prefix from the front of @v. */
static bool eat(struct span *v, const char *prefix)
{
	size_t n = strlen(prefix);

	if (v->n < n || memcmp(v->s, prefix, n) != 0)
		return false;
	v->s += n;
	v->n -= n;
	return true;
}

static bool span_eq(struct span v, const char *s)
{
	return v.n == strlen(s) && memcmp(v.s, s, v.n) == 0;
}

/* Decimal, saturating: a huge number must still fail the range checks
 * that follow rather than wrap into range. */
static bool parse_num(struct span v, uint64_t *ret)
{
	uint64_t x = 0;

	if (!v.n)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return false;
		if (x < UINT64_C(1) << 40)
			x = x * 10 + (uint64_t)(v.s[i] - '0');
	}
	*ret = x;
	return true;
}

static bool valid_ident(struct span v)
{
	if (!v.n || v.n > VG_TP_NAME_MAX)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (!is_ident(v.s[i]))
			return false;
	return true;
}

/* Integer element types of flexible arrays and loc arrays, which the
 * format gives no per-element size for. */
static const struct {
	const char *name;
	uint8_t size;
	bool is_signed;
} int_types[] = {
	{ "u8", 1, false },		{ "__u8", 1, false },
	{ "uint8_t", 1, false },	{ "unsigned char", 1, false },
	{ "bool", 1, false },		{ "s8", 1, true },
	{ "__s8", 1, true },		{ "int8_t", 1, true },
	{ "signed char", 1, true },	{ "u16", 2, false },
	{ "__u16", 2, false },		{ "uint16_t", 2, false },
	{ "unsigned short", 2, false }, { "s16", 2, true },
	{ "__s16", 2, true },		{ "int16_t", 2, true },
	{ "short", 2, true },		{ "u32", 4, false },
	{ "__u32", 4, false },		{ "uint32_t", 4, false },
	{ "unsigned int", 4, false },	{ "unsigned", 4, false },
	{ "s32", 4, true },		{ "__s32", 4, true },
	{ "int32_t", 4, true },		{ "int", 4, true },
	{ "pid_t", 4, true },		{ "u64", 8, false },
	{ "__u64", 8, false },		{ "uint64_t", 8, false },
	{ "unsigned long long", 8, false },
	{ "s64", 8, true },		{ "__s64", 8, true },
	{ "int64_t", 8, true },		{ "long long", 8, true },
	{ "unsigned long", sizeof(long), false },
	{ "size_t", sizeof(long), false },
	{ "long", sizeof(long), true },	{ "ssize_t", sizeof(long), true },
};

static bool int_type(struct span t, uint32_t *ret_size, bool *ret_signed)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(int_types); i++)
		if (span_eq(t, int_types[i].name)) {
			*ret_size = int_types[i].size;
			*ret_signed = int_types[i].is_signed;
			return true;
		}
	return false;
}

/* The element type of a declaration, without qualifiers or "[]". */
static struct span elem_type(struct span t)
{
	t = trim(t);
	if (t.n >= 2 && t.s[t.n - 2] == '[' && t.s[t.n - 1] == ']')
		t.n -= 2;
	t = trim(t);
	if (eat(&t, "const "))
		t = trim(t);
	return t;
}

/* Element size and signedness where the format gives no per-element
 * size: an unknown type is taken as bytes, which is never wrong. */
static void set_elem(struct vg_tp_field *f, struct span elem)
{
	if (span_eq(elem, "char")) {
		f->is_string = true;
		f->elem_size = 1;
		f->is_signed = false;
	} else if (!int_type(elem, &f->elem_size, &f->is_signed)) {
		f->elem_size = 1;
		f->is_signed = false;
	}
}

static void set_other(struct vg_tp_field *f)
{
	f->kind = VG_TPF_OTHER;
	f->elem_size = 1;
	f->n_elems = f->size;
	f->is_string = false;
}

/* @word and a blank: "__data_loc char[]", not a type named "__data_locx". */
static bool eat_word(struct span *v, const char *word)
{
	struct span t = *v;

	if (!eat(&t, word) || !t.n || !is_blank(t.s[0]))
		return false;
	*v = t;
	return true;
}

/* Decide how a field is decoded, from its type and sizes. Returns NULL
 * or what is wrong with it. */
static const char *classify(struct vg_tp_field *f, struct span type,
			    struct span bracket, bool is_array)
{
	bool flexible = is_array && !trim(bracket).n;
	struct span t = type;
	bool data_loc;
	uint64_t n;

	if (f->size == 0 && !flexible)
		return "size 0 outside a flexible array";
	data_loc = eat_word(&t, "__data_loc");
	if (data_loc || eat_word(&t, "__rel_loc")) {
		if (f->size != 4)
			return "a __data_loc or __rel_loc field is 4 bytes";
		f->kind = data_loc ? VG_TPF_DATA_LOC : VG_TPF_REL_LOC;
		set_elem(f, elem_type(t));
		return NULL;
	}
	if (flexible) {
		if (f->size != 0) {
			set_other(f);
			return NULL;
		}
		set_elem(f, elem_type(type));
		f->kind = f->is_string ? VG_TPF_STRING_ARRAY : VG_TPF_ARRAY;
		return NULL;
	}
	if (is_array) {
		/* a length the kernel printed as an expression is not ours
		 * to evaluate: the bytes are still right */
		if (!parse_num(trim(bracket), &n) || n == 0 ||
		    f->size % n != 0) {
			set_other(f);
			return NULL;
		}
		f->n_elems = (uint32_t)n;
		f->elem_size = f->size / (uint32_t)n;
		if (f->elem_size == 1 && span_eq(elem_type(type), "char")) {
			f->kind = VG_TPF_STRING_ARRAY;
			f->is_string = true;
		} else if (f->elem_size == 1 || f->elem_size == 2 ||
			   f->elem_size == 4 || f->elem_size == 8) {
			f->kind = VG_TPF_ARRAY;
		} else {
			set_other(f);
		}
		return NULL;
	}
	if (memchr(type.s, '*', type.n)) {
		if (f->size == 4 || f->size == 8)
			f->kind = VG_TPF_POINTER;
		else
			set_other(f);
	} else if (f->size == 1 || f->size == 2 || f->size == 4 ||
		   f->size == 8) {
		f->kind = VG_TPF_INT;
	} else {
		set_other(f);
	}
	return NULL;
}

static char *span_dup(struct span v, struct span suffix)
{
	char *s = malloc(v.n + suffix.n + 1);

	if (!s)
		return NULL;
	memcpy(s, v.s, v.n);
	if (suffix.n)
		memcpy(s + v.n, suffix.s, suffix.n);
	s[v.n + suffix.n] = '\0';
	return s;
}

struct parser {
	struct vg_tp_format *f;
	size_t cap;
	unsigned line;
	bool have_id; /* ID 0 is a number like any other */
	char *err;
	size_t errsz;
};

static int bad(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct parser *ps, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vg_set_err(ps->err, ps->errsz, "line %u: %s", ps->line, why);
	return -EBADMSG;
}

/* "offset:8;\tsize:4;\tsigned:1;": any order, all three, once each. */
static int parse_attrs(struct parser *ps, struct span rest, uint64_t v[3])
{
	static const char *const keys[3] = { "offset", "size", "signed" };
	bool seen[3] = { false, false, false };

	while (rest.n) {
		const char *semi = memchr(rest.s, ';', rest.n);
		struct span part = { rest.s, semi ? (size_t)(semi - rest.s) : rest.n };
		const char *colon;
		struct span key, val;
		size_t k;

		rest.s += part.n + (semi ? 1 : 0);
		rest.n -= part.n + (semi ? 1 : 0);
		part = trim(part);
		if (!part.n)
			continue;
		colon = memchr(part.s, ':', part.n);
		if (!colon)
			return bad(ps, "\"%.*s\" is not key:value", (int)part.n, part.s);
		key = trim((struct span){ part.s, (size_t)(colon - part.s) });
		val = trim((struct span){ colon + 1, part.n - (size_t)(colon - part.s) - 1 });
		for (k = 0; k < 3 && !span_eq(key, keys[k]); k++)
			;
		if (k == 3)
			continue; /* a newer kernel's addition */
		if (seen[k])
			return bad(ps, "%s given twice", keys[k]);
		if (!parse_num(val, &v[k]))
			return bad(ps, "%s is not a number", keys[k]);
		seen[k] = true;
	}
	for (size_t k = 0; k < 3; k++)
		if (!seen[k])
			return bad(ps, "field has no %s", keys[k]);
	if (v[2] > 1)
		return bad(ps, "signed is %" PRIu64 ", not 0 or 1", v[2]);
	return 0;
}

static int parse_field(struct parser *ps, struct span rest)
{
	struct vg_tp_format *f = ps->f;
	const char *semi = memchr(rest.s, ';', rest.n);
	struct span decl, type, bracket = { "", 0 }, name;
	struct vg_tp_field fl = {};
	bool is_array = false;
	const char *why;
	uint64_t v[3];
	size_t end;
	int r;

	if (!semi)
		return bad(ps, "field line without ';'");
	decl = trim((struct span){ rest.s, (size_t)(semi - rest.s) });
	rest.n -= (size_t)(semi - rest.s) + 1;
	rest.s = semi + 1;
	r = parse_attrs(ps, rest, v);
	if (r < 0)
		return r;

	end = decl.n;
	if (end && decl.s[end - 1] == ']') {
		const char *open = memrchr(decl.s, '[', end);

		if (!open)
			return bad(ps, "']' without '['");
		bracket = (struct span){ open + 1, end - 1 - (size_t)(open - decl.s) - 1 };
		end = (size_t)(open - decl.s);
		while (end && is_blank(decl.s[end - 1]))
			end--;
		is_array = true;
	}
	name.n = 0;
	while (name.n < end && is_ident(decl.s[end - name.n - 1]))
		name.n++;
	name.s = decl.s + end - name.n;
	if (!name.n || (name.s[0] >= '0' && name.s[0] <= '9'))
		return bad(ps, "no field name in \"%.*s\"", (int)decl.n, decl.s);
	if (name.n > VG_TP_NAME_MAX)
		return bad(ps, "field name longer than %d bytes", VG_TP_NAME_MAX);
	type = trim((struct span){ decl.s, (size_t)(name.s - decl.s) });
	if (!type.n)
		return bad(ps, "field %.*s has no type", (int)name.n, name.s);
	if (type.n + (is_array ? bracket.n + 2 : 0) > VG_TP_TYPE_MAX)
		return bad(ps, "type of %.*s longer than %d bytes", (int)name.n,
			   name.s, VG_TP_TYPE_MAX);

	if (v[0] > VG_TP_RECORD_MAX || v[1] > VG_TP_RECORD_MAX ||
	    v[0] + v[1] > VG_TP_RECORD_MAX)
		return bad(ps, "field %.*s (offset %" PRIu64 ", size %" PRIu64
			   ") ends past %d bytes", (int)name.n, name.s, v[0],
			   v[1], VG_TP_RECORD_MAX);
	/* decode() reports its errors under this key: one JSON key twice
	 * is a document half the readers get wrong */
	if (span_eq(name, "_error"))
		return bad(ps, "field name _error is reserved");
	for (size_t i = 0; i < f->n_fields; i++)
		if (span_eq(name, f->fields[i].name))
			return bad(ps, "field %.*s appears twice", (int)name.n,
				   name.s);
	if (f->n_fields >= VG_TP_FIELDS_MAX)
		return bad(ps, "more than %d fields", VG_TP_FIELDS_MAX);

	fl.offset = (uint32_t)v[0];
	fl.size = (uint32_t)v[1];
	fl.is_signed = v[2] == 1;
	why = classify(&fl, type, bracket, is_array);
	if (why)
		return bad(ps, "field %.*s: %s", (int)name.n, name.s, why);

	if (f->n_fields == ps->cap) {
		size_t ncap = ps->cap ? ps->cap * 2 : 16;
		struct vg_tp_field *nf = realloc(f->fields, ncap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		f->fields = nf;
		ps->cap = ncap;
	}
	fl.name = span_dup(name, (struct span){ "", 0 });
	if (is_array) {
		/* "char[16]": the name is all the declaration leaves out */
		char sfx[VG_TP_TYPE_MAX + 3];

		snprintf(sfx, sizeof(sfx), "[%.*s]", (int)bracket.n, bracket.s);
		fl.type = span_dup(type, (struct span){ sfx, strlen(sfx) });
	} else {
		fl.type = span_dup(type, (struct span){ "", 0 });
	}
	if (!fl.name || !fl.type) {
		free(fl.name);
		free(fl.type);
		return -ENOMEM;
	}
	f->fields[f->n_fields++] = fl;
	if (fl.offset + fl.size > f->record_size)
		f->record_size = fl.offset + fl.size;
	if (vg_startswith(fl.name, "common_") &&
	    fl.offset + fl.size > f->common_size)
		f->common_size = fl.offset + fl.size;
	return 0;
}

static int parse_line(struct parser *ps, struct span l, bool *ret_done)
{
	struct vg_tp_format *f = ps->f;
	uint64_t id;

	l = trim(l);
	if (memchr(l.s, '\0', l.n))
		return bad(ps, "NUL byte");
	/* the print format runs to the end and is not ours to read */
	if (eat(&l, "print fmt:")) {
		*ret_done = true;
		return 0;
	}
	if (eat(&l, "field:") || eat(&l, "field special:"))
		return parse_field(ps, l);
	if (eat(&l, "name:")) {
		l = trim(l);
		if (f->name)
			return bad(ps, "second name line");
		if (!valid_ident(l))
			return bad(ps, "event name is not [A-Za-z0-9_]{1,%d}",
				   VG_TP_NAME_MAX);
		f->name = span_dup(l, (struct span){ "", 0 });
		return f->name ? 0 : -ENOMEM;
	}
	if (eat(&l, "ID:")) {
		if (ps->have_id)
			return bad(ps, "second ID line");
		if (!parse_num(trim(l), &id) || id > UINT32_MAX)
			return bad(ps, "ID is not a 32-bit number");
		f->id = (uint32_t)id;
		ps->have_id = true;
		return 0;
	}
	/* "format:", blank lines, and whatever a later kernel adds */
	return 0;
}

int vg_tp_format_parse(const char *text, size_t len, struct vg_tp_format *ret,
		       char *err, size_t errsz)
{
	struct vg_tp_format f = {};
	struct parser ps = { .f = &f, .err = err, .errsz = errsz };
	bool done = false;
	size_t pos = 0;
	int r = 0;

	if (len > VG_TP_FORMAT_MAX) {
		vg_set_err(err, errsz, "format of %zu bytes, more than %d", len,
			   VG_TP_FORMAT_MAX);
		return -EBADMSG;
	}
	while (pos < len && !done) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps.line++;
		r = parse_line(&ps, (struct span){ text + pos, n }, &done);
		if (r < 0)
			goto fail;
		pos += n + (nl ? 1 : 0);
	}
	if (!f.name) {
		vg_set_err(err, errsz, "no name: line");
		r = -EBADMSG;
	} else if (!ps.have_id) {
		vg_set_err(err, errsz, "no ID: line");
		r = -EBADMSG;
	} else if (!f.n_fields) {
		vg_set_err(err, errsz, "no field: lines");
		r = -EBADMSG;
	}
	if (r < 0)
		goto fail;
	*ret = f;
	return 0;
fail:
	if (r == -ENOMEM)
		vg_set_err(err, errsz, "out of memory");
	vg_tp_format_release(&f);
	return r;
}

/* Group and event names become a path: nothing but identifier bytes. */
static bool valid_name(const char *s)
{
	return s && valid_ident((struct span){ s, strlen(s) });
}

int vg_tp_format_load(int tracefs_dirfd, const char *group, const char *name,
		      struct vg_tp_format *ret, char *err, size_t errsz)
{
	_cleanup_free_ char *buf = NULL;
	struct vg_tp_format f = {};
	char path[2 * VG_TP_NAME_MAX + 32], why[256];
	size_t len;
	bool cut;
	int r;

	if (!valid_name(group) || !valid_name(name)) {
		vg_set_err(err, errsz,
			   "tracepoint group and name must be [A-Za-z0-9_]{1,%d}",
			   VG_TP_NAME_MAX);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "events/%s/%s/format", group, name);
	r = vg_read_file_at(tracefs_dirfd, path, VG_TP_FORMAT_MAX, &buf, &len,
			    &cut);
	if (r < 0) {
		vg_set_err(err, errsz, "%s: %s", path, strerror(-r));
		return r;
	}
	if (cut) {
		vg_set_err(err, errsz, "%s: more than %d bytes", path,
			   VG_TP_FORMAT_MAX);
		return -EFBIG;
	}
	r = vg_tp_format_parse(buf, len, &f, why, sizeof(why));
	if (r < 0) {
		vg_set_err(err, errsz, "%s: %s", path, why);
		return r;
	}
	if (strcmp(f.name, name) != 0) {
		vg_set_err(err, errsz, "%s: describes event %s", path, f.name);
		vg_tp_format_release(&f);
		return -EBADMSG;
	}
	f.group = strdup(group);
	if (!f.group) {
		vg_set_err(err, errsz, "out of memory");
		vg_tp_format_release(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

void vg_tp_format_release(struct vg_tp_format *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_fields; i++) {
		free(f->fields[i].name);
		free(f->fields[i].type);
	}
	free(f->fields);
	free(f->group);
	free(f->name);
	*f = (struct vg_tp_format){};
}

const struct vg_tp_field *vg_tp_format_field(const struct vg_tp_format *f,
					     const char *name)
{
	if (!f || !name)
		return NULL;
	for (size_t i = 0; i < f->n_fields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	return NULL;
}

/* --- decoding ----------------------------------------------------------- */
