/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The filter language of filter.h: a recursive-descent compiler to a
 * flat array of nodes, and an evaluator over that array.
 *
 * Compile does everything that can be done once: it checks each value
 * against its field's type, parses numbers, unescapes strings and keeps
 * their lengths, validates glob patterns, and turns Falco's event type
 * names into vigil's. What is left for each event is comparing bytes and
 * integers, with no allocation, no strlen() and nothing that depends on
 * the locale.
 *
 * The nodes are in preorder and each records the size of its subtree, so
 * a node's children follow it and the next sibling is a fixed offset
 * away. 'and' and 'or' chains are one node with many children: the
 * depth of the tree, and with it the recursion of every pass over it, is
 * bounded by the nesting the parser allows, however long the chains.
 */
#include "filter/filter.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---- fields ----------------------------------------------------------- */

struct field_def {
	const char *name;  /* as --help lists it */
	enum vg_filter_type type;
	size_t prefix_len; /* a keyed field: the key follows these bytes */
};

#define STR(n) { n, VG_FILTER_STR, 0 }
#define NUM(n) { n, VG_FILTER_NUM, 0 }
#define KEYED(p) { p "<key>", VG_FILTER_STR, sizeof(p) - 1 }

static const struct field_def fields[VG_F_COUNT] = {
	[VG_F_EVT_TYPE] = STR("evt.type"),
	[VG_F_EVT_TIME] = NUM("evt.time"),
	[VG_F_EVT_CPU] = NUM("evt.cpu"),
	[VG_F_EVT_RES] = NUM("evt.res"),
	[VG_F_PROC_PID] = NUM("proc.pid"),
	[VG_F_PROC_TID] = NUM("proc.tid"),
	[VG_F_PROC_PPID] = NUM("proc.ppid"),
	[VG_F_PROC_NAME] = STR("proc.name"),
	[VG_F_PROC_EXE] = STR("proc.exe"),
	[VG_F_PROC_ARGS] = STR("proc.args"),
	[VG_F_PROC_CMDLINE] = STR("proc.cmdline"),
	[VG_F_PROC_CWD] = STR("proc.cwd"),
	[VG_F_PROC_EXEC_ID] = STR("proc.exec_id"),
	[VG_F_USER_UID] = NUM("user.uid"),
	[VG_F_GROUP_GID] = NUM("group.gid"),
	[VG_F_FD_NAME] = STR("fd.name"),
	[VG_F_FD_SIP] = STR("fd.sip"),
	[VG_F_FD_SPORT] = NUM("fd.sport"),
	[VG_F_FD_CIP] = STR("fd.cip"),
	[VG_F_FD_CPORT] = NUM("fd.cport"),
	[VG_F_CONTAINER_ID] = STR("container.id"),
	[VG_F_CONTAINER_NAME] = STR("container.name"),
	[VG_F_CONTAINER_RUNTIME] = STR("container.runtime"),
	[VG_F_CONTAINER_IMAGE] = STR("container.image"),
	[VG_F_CONTAINER_IMAGE_ID] = STR("container.image.id"),
	[VG_F_CONTAINER_LABEL] = KEYED("container.label."),
	[VG_F_K8S_NS_NAME] = STR("k8s.ns.name"),
	[VG_F_K8S_POD_NAME] = STR("k8s.pod.name"),
	[VG_F_K8S_POD_UID] = STR("k8s.pod.uid"),
	[VG_F_K8S_POD_LABEL] = KEYED("k8s.pod.label."),
	[VG_F_K8S_CONTAINER_NAME] = STR("k8s.container.name"),
	[VG_F_CGROUP_ID] = NUM("cgroup.id"),
	[VG_F_FILE_ACTION] = STR("file.action"),
	[VG_F_CONTAINER_VERIFICATION] = STR("container.verification"),
	/* Falco's, filled from what vigil knows (src/engine/fields.c) */
	[VG_F_EVT_NUM] = NUM("evt.num"),
	[VG_F_EVT_RAWRES] = NUM("evt.rawres"),
	[VG_F_EVT_DIR] = STR("evt.dir"),
	[VG_F_EVT_IS_OPEN_READ] = STR("evt.is_open_read"),
	[VG_F_EVT_IS_OPEN_WRITE] = STR("evt.is_open_write"),
	[VG_F_EVT_IS_OPEN_EXEC] = STR("evt.is_open_exec"),
	[VG_F_EVT_ARG] = KEYED("evt.arg."),
	[VG_F_PROC_EXEPATH] = STR("proc.exepath"),
	[VG_F_PROC_PNAME] = STR("proc.pname"),
	[VG_F_PROC_PEXE] = STR("proc.pexe"),
	[VG_F_PROC_PEXEPATH] = STR("proc.pexepath"),
	[VG_F_PROC_PCMDLINE] = STR("proc.pcmdline"),
	[VG_F_PROC_ANAME] = STR("proc.aname"),
	[VG_F_PROC_APID] = NUM("proc.apid"),
	[VG_F_PROC_AEXE] = STR("proc.aexe"),
	[VG_F_PROC_AEXEPATH] = STR("proc.aexepath"),
	[VG_F_PROC_DURATION] = NUM("proc.duration"),
	[VG_F_USER_NAME] = STR("user.name"),
	[VG_F_GROUP_NAME] = STR("group.name"),
	[VG_F_FD_NUM] = NUM("fd.num"),
	[VG_F_FD_TYPE] = STR("fd.type"),
	[VG_F_FD_TYPECHAR] = STR("fd.typechar"),
	[VG_F_FD_DIRECTORY] = STR("fd.directory"),
	[VG_F_FD_FILENAME] = STR("fd.filename"),
	[VG_F_FD_L4PROTO] = STR("fd.l4proto"),
	[VG_F_FD_LIP] = STR("fd.lip"),
	[VG_F_FD_LPORT] = NUM("fd.lport"),
	[VG_F_FD_RIP] = STR("fd.rip"),
	[VG_F_FD_RPORT] = NUM("fd.rport"),
	[VG_F_FD_CONNECTED] = STR("fd.connected"),
	[VG_F_CONTAINER_IMAGE_REPOSITORY] = STR("container.image.repository"),
	[VG_F_CONTAINER_IMAGE_TAG] = STR("container.image.tag"),
	[VG_F_CONTAINER_IMAGE_DIGEST] = STR("container.image.digest"),
	[VG_F_CONTAINER_START_TS] = NUM("container.start_ts"),
	[VG_F_FD_NAMERAW] = STR("fd.nameraw"),
	[VG_F_PROC_TTY] = NUM("proc.tty"),
	[VG_F_PROC_SNAME] = STR("proc.sname"),
	[VG_F_USER_LOGINUID] = NUM("user.loginuid"),
	[VG_F_USER_LOGINNAME] = STR("user.loginname"),
};

const char *vg_filter_field_name(int field_id)
{
	if (field_id < 0 || field_id >= VG_F_COUNT)
		return NULL;
	return fields[field_id].name;
}

enum vg_filter_type vg_filter_field_type(int field_id)
{
	if (field_id < 0 || field_id >= VG_F_COUNT)
		return VG_FILTER_STR;
	return fields[field_id].type;
}

/* vigil's event type names, and the Falco names that mean the same. */
static const char *const ev_types[] = {
	"exec", "exit", "fork", "open", "connect", "accept", "bind",
	"listen", "syscall", "tp", "lost", "container", "file",
};

static const struct {
	const char *from, *to;
} ev_aliases[] = {
	{ "execve", "exec" },   { "execveat", "exec" },  { "openat", "open" },
	{ "openat2", "open" },  { "creat", "open" },     { "clone", "fork" },
	{ "clone3", "fork" },   { "vfork", "fork" },     { "exit_group", "exit" },
	{ "procexit", "exit" }, { "accept4", "accept" },
};

/* ---- the compiled form ------------------------------------------------ */

enum kind { N_OR, N_AND, N_NOT, N_CMP };

enum op {
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_CONTAINS,
	OP_STARTSWITH, OP_ENDSWITH, OP_GLOB, OP_EXISTS,
};

static const char *const op_names[] = {
	[OP_EQ] = "=",		 [OP_NE] = "!=",	 [OP_LT] = "<",
	[OP_LE] = "<=",		 [OP_GT] = ">",		 [OP_GE] = ">=",
	[OP_IN] = "in",		 [OP_CONTAINS] = "contains",
	[OP_STARTSWITH] = "startswith",			 [OP_ENDSWITH] = "endswith",
	[OP_GLOB] = "glob",	 [OP_EXISTS] = "exists",
};

struct node {
	uint8_t kind;  /* enum kind */
	uint8_t op;    /* enum op, for N_CMP */
	uint8_t field; /* enum vg_filter_field, for N_CMP */
	bool num;      /* the field is a number */
	uint32_t size; /* nodes in this subtree, this one included */
	uint32_t lit, n_lits;  /* the values: lits[lit .. lit + n_lits) */
	uint32_t key, key_len; /* a keyed field's key, in the pool */
};

/* Strings live in one pool, by offset, each NUL-terminated too: the
 * pool can move while compiling, and type_bits() wants C strings. */
struct lit {
	int64_t n;
	uint32_t s, len;
};

/* One allocation: this header, then the nodes, the values, the pool. */
struct vg_filter {
	const struct node *nodes;
	const struct lit *lits;
	const char *pool;
	size_t n_nodes;
};

void vg_filter_free(struct vg_filter *f)
{
	free(f);
}

/* ---- characters ------------------------------------------------------- */

/* ASCII by hand: <ctype.h> answers by the locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* What field names, label keys and keywords are made of. */
static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       c == '.' || c == '_' || c == '-' || c == '/';
}

static bool is_opchar(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>';
}

/* What ends a bare value. */
static bool is_delim(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == ',' || c == '"';
}

static bool is_control(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* ---- parsing ---------------------------------------------------------- */

struct parser {
	const char *text;
	size_t len, pos;
	int depth;
	struct vg_filter_error *err;

	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct lit *lits;
	size_t n_lits, cap_lits;
	char *pool;
	size_t pool_len, cap_pool;
};

static int grow(void *p, size_t *cap, size_t need, size_t elem)
{
	void **pp = p, *q;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = reallocarray(*pp, n, elem);
	if (!q)
		return -ENOMEM;
	*pp = q;
	*cap = n;
	return 0;
}

static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (!ps->err)
		return -EINVAL;
	ps->err->column = (int)pos + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define SHOWN_MAX 40

/* @n bytes of @s for a message: cut on a UTF-8 boundary, marked with
 * "...", control characters as '?', so that a message stays short and
 * one line whatever the input held. */
static const char *shown(const char *s, size_t n, char buf[static SHOWN_MAX + 1])
{
	bool cut = n > SHOWN_MAX;
	size_t i;

	if (cut) {
		n = SHOWN_MAX - 3;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		buf[i] = is_control(s[i]) ? '?' : s[i];
	if (cut) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* The token at @pos, quoted, or "end of input". */
static const char *found(const struct parser *ps, size_t pos, char *buf,
			 size_t bufsz)
{
	const char *t = ps->text + pos;
	size_t n = 0, rest = ps->len - pos;
	char b[SHOWN_MAX + 1];

	if (pos >= ps->len)
		return "end of input";
	if (*t == '(' || *t == ')' || *t == ',') {
		n = 1;
	} else if (is_opchar(*t)) {
		while (n < rest && is_opchar(t[n]))
			n++;
	} else if (*t == '"') {
		for (n = 1; n < rest && t[n] != '"'; n++)
			if (t[n] == '\\' && n + 1 < rest)
				n++;
		n += n < rest;
	} else {
		while (n < rest && !is_delim(t[n]))
			n++;
	}
	snprintf(buf, bufsz, "'%s'", shown(t, n, b));
	return buf;
}

static void skip_space(struct parser *ps)
{
	while (ps->pos < ps->len && is_space(ps->text[ps->pos]))
		ps->pos++;
}

static size_t word_len(const struct parser *ps, size_t pos)
{
	size_t n = 0;

	while (pos + n < ps->len && is_word(ps->text[pos + n]))
		n++;
	return n;
}

/* Whether the next word is @kw; consumes nothing. */
static bool at_keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	skip_space(ps);
	return word_len(ps, ps->pos) == n &&
	       memcmp(ps->text + ps->pos, kw, n) == 0;
}

static int insert_node(struct parser *ps, size_t at, const struct node *nd)
{
	int r = grow(&ps->nodes, &ps->cap_nodes, ps->n_nodes + 1,
		     sizeof(*ps->nodes));

	if (r < 0)
		return r;
	memmove(ps->nodes + at + 1, ps->nodes + at,
		(ps->n_nodes - at) * sizeof(*ps->nodes));
	ps->nodes[at] = *nd;
	ps->n_nodes++;
	return 0;
}

/* Optimal string alignment distance (a swap of neighbours is one edit),
 * for "did you mean". Both strings are at most 64 bytes. */
static unsigned edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	unsigned rows[3][65], *pp = rows[0], *p = rows[1], *c = rows[2];

	for (size_t j = 0; j <= m; j++)
		p[j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		c[0] = (unsigned)i;
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1], v = p[j - 1] + cost;

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		unsigned *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[m];
}

static unsigned distance_to(const char *w, size_t n, const char *name,
			    size_t m)
{
	if (n > 64 || m > 64 || (n > m ? n - m : m - n) > 2)
		return 3;
	return edit_distance(w, n, name, m);
}

/* The field closest to the unknown @w, within two edits, into @buf;
 * false when none is. A keyed field is also suggested for a misspelt
 * prefix with a key after it ("container.lable.app"). */
static bool suggest_field(const char *w, size_t n, char *buf, size_t bufsz)
{
	unsigned best = 3;
	char k[SHOWN_MAX + 1];

	for (size_t i = 0; i < VG_ARRAY_SIZE(fields); i++) {
		const struct field_def *fd = &fields[i];
		size_t plen = fd->prefix_len;
		unsigned d;

		if (!plen) {
			d = distance_to(w, n, fd->name, strlen(fd->name));
			if (d < best) {
				best = d;
				snprintf(buf, bufsz, "%s", fd->name);
			}
			continue;
		}
		/* the prefix without its '.', then at each '.' of @w */
		d = distance_to(w, n, fd->name, plen - 1);
		if (d < best) {
			best = d;
			snprintf(buf, bufsz, "%s", fd->name);
		}
		for (size_t dot = 1; dot + 1 < n; dot++) {
			if (w[dot] != '.')
				continue;
			d = distance_to(w, dot, fd->name, plen - 1);
			if (d < best) {
				best = d;
				snprintf(buf, bufsz, "%.*s%s", (int)plen,
					 fd->name,
					 shown(w + dot + 1, n - dot - 1, k));
			}
		}
	}
	return best <= 2;
}

/* The field named by the word of @n bytes at @pos. */
static int parse_field(struct parser *ps, size_t pos, size_t n, int *ret_id,
		       size_t *ret_key_at)
{
	const char *w = ps->text + pos;
	char b[SHOWN_MAX + 1], s[96];

	for (size_t i = 0; i < VG_ARRAY_SIZE(fields); i++) {
		const struct field_def *fd = &fields[i];
		size_t plen = fd->prefix_len;

		if (!plen ? strlen(fd->name) == n && memcmp(w, fd->name, n) == 0
			  : n > plen && memcmp(w, fd->name, plen) == 0) {
			*ret_id = (int)i;
			*ret_key_at = plen;
			return 0;
		}
		if (plen && (n == plen || n == plen - 1) &&
		    memcmp(w, fd->name, n) == 0)
			return fail(ps, pos, "%.*s needs a key: %s",
				    (int)(plen - 1), fd->name, fd->name);
	}
	if ((n == 3 && memcmp(w, "and", 3) == 0) ||
	    (n == 2 && memcmp(w, "or", 2) == 0))
		return fail(ps, pos, "expected a field name, 'not' or '(', found '%.*s'",
			    (int)n, w);
	shown(w, n, b);
	if (suggest_field(w, n, s, sizeof(s)))
		return fail(ps, pos, "unknown field '%s' (did you mean %s?)", b, s);
	return fail(ps, pos, "unknown field '%s'", b);
}

/* A decimal integer, the whole of s[0..n). */
static int parse_int(const char *s, size_t n, int64_t *ret)
{
	bool neg = n > 0 && s[0] == '-';
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i;

	if (n == (size_t)neg)
		return -EINVAL;
	for (i = neg; i < n; i++)
		if (!is_digit(s[i]))
			return -EINVAL;
	for (i = neg; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (limit - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (!neg)
		*ret = (int64_t)v;
	else
		*ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return 0;
}

/* The index just past the ']' that closes a class opened before @i, or
 * 0 when none does. A ']' first in the class (after a '!') is itself. */
static size_t class_end(const char *p, size_t n, size_t i)
{
	if (i < n && p[i] == '!')
		i++;
	if (i < n && p[i] == ']')
		i++;
	while (i < n && p[i] != ']')
		i++;
	return i < n ? i + 1 : 0;
}

static bool glob_valid(const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (p[i] != '[') {
			i++;
			continue;
		}
		i = class_end(p, n, i + 1);
		if (!i)
			return false;
	}
	return true;
}

/* Turn the evt.type name at @l into vigil's, in place: vigil's name is
 * never longer than the Falco name it replaces. */
static bool canonical_type(struct parser *ps, struct lit *l)
{
	char *s = ps->pool + l->s;
	const char *to = NULL;

	for (size_t i = 0; i < VG_ARRAY_SIZE(ev_types) && !to; i++)
		if (strlen(ev_types[i]) == l->len &&
		    memcmp(s, ev_types[i], l->len) == 0)
			to = ev_types[i];
	for (size_t i = 0; i < VG_ARRAY_SIZE(ev_aliases) && !to; i++)
		if (strlen(ev_aliases[i].from) == l->len &&
		    memcmp(s, ev_aliases[i].from, l->len) == 0)
			to = ev_aliases[i].to;
	if (!to)
		return false;
	l->len = (uint32_t)strlen(to);
	memcpy(s, to, l->len + 1);
	ps->pool_len = l->s + l->len + 1;
	return true;
}

/* A bare word or a quoted string at ps->pos, decoded into the pool. */
static int read_value(struct parser *ps, const char *after, struct lit *l,
		      size_t *ret_pos)
{
	size_t pos, start;
	char b[64];
	int r;

	skip_space(ps);
	pos = start = ps->pos;
	if (pos == ps->len || ps->text[pos] == '(' || ps->text[pos] == ')' ||
	    ps->text[pos] == ',')
		return fail(ps, pos, "expected a value after '%s', found %s",
			    after, found(ps, pos, b, sizeof(b)));
	/* decoding never makes a value longer than its text */
	r = grow(&ps->pool, &ps->cap_pool, ps->pool_len + (ps->len - pos) + 1, 1);
	if (r < 0)
		return r;
	l->s = (uint32_t)ps->pool_len;
	if (ps->text[pos] == '"') {
		for (pos++;; pos++) {
			char c;

			if (pos == ps->len)
				return fail(ps, start,
					    "expected a closing '\"' for this string, found end of input");
			c = ps->text[pos];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++pos == ps->len)
					return fail(ps, start,
						    "expected a closing '\"' for this string, found end of input");
				c = ps->text[pos];
				if (c != '"' && c != '\\') {
					if (c > 0x20 && c < 0x7f)
						return fail(ps, pos - 1,
							    "unknown escape '\\%c' in a quoted string; only \\\" and \\\\ are escapes",
							    c);
					return fail(ps, pos - 1,
						    "unknown escape (byte 0x%02x after '\\') in a quoted string; only \\\" and \\\\ are escapes",
						    (unsigned char)c);
				}
			} else if (is_control(c)) {
				return fail(ps, pos,
					    "control character 0x%02x in a quoted string",
					    (unsigned char)c);
			}
			ps->pool[ps->pool_len++] = c;
		}
		pos++;
	} else {
		for (; pos < ps->len && !is_delim(ps->text[pos]); pos++)
			ps->pool[ps->pool_len++] = ps->text[pos];
		if (pos < ps->len && ps->text[pos] == '"')
			return fail(ps, pos,
				    "'\"' inside a bare word; quote the whole value");
	}
	l->len = (uint32_t)(ps->pool_len - l->s);
	ps->pool[ps->pool_len++] = '\0';
	ps->pos = pos;
	*ret_pos = start;
	return 0;
}

/* One value of a comparison on @nd, checked and converted for its field. */
static int parse_literal(struct parser *ps, const struct node *nd,
			 const char *after)
{
	const char *fname = fields[nd->field].name;
	struct lit l = { 0 };
	size_t vpos = 0;
	char b[64];
	int r;

	r = read_value(ps, after, &l, &vpos);
	if (r < 0)
		return r;
	if (nd->num) {
		r = parse_int(ps->pool + l.s, l.len, &l.n);
		if (r == -ERANGE)
			return fail(ps, vpos, "number %s is out of range",
				    found(ps, vpos, b, sizeof(b)));
		if (r < 0)
			return fail(ps, vpos, "expected a number after '%s' (%s is a number), found %s",
				    after, fname, found(ps, vpos, b, sizeof(b)));
		ps->pool_len = l.s;
		l.s = l.len = 0;
	} else if (nd->field == VG_F_EVT_TYPE &&
		   (nd->op == OP_EQ || nd->op == OP_NE || nd->op == OP_IN)) {
		if (!canonical_type(ps, &l))
			return fail(ps, vpos,
				    "unknown event type %s: expected exec, exit, fork, open, connect, accept, bind, listen, syscall, tp, lost, container or file",
				    found(ps, vpos, b, sizeof(b)));
	} else if (nd->op == OP_GLOB && !glob_valid(ps->pool + l.s, l.len)) {
		return fail(ps, vpos,
			    "expected a ']' to close the '[' of this glob pattern, found end of pattern");
	}
	r = grow(&ps->lits, &ps->cap_lits, ps->n_lits + 1, sizeof(*ps->lits));
	if (r < 0)
		return r;
	ps->lits[ps->n_lits++] = l;
	return 0;
}

static int parse_list(struct parser *ps, struct node *nd)
{
	char b[64];
	int r;

	skip_space(ps);
	if (ps->pos == ps->len || ps->text[ps->pos] != '(')
		return fail(ps, ps->pos, "expected '(' after 'in', found %s",
			    found(ps, ps->pos, b, sizeof(b)));
	ps->pos++;
	for (const char *after = "(";; after = ",") {
		skip_space(ps);
		if (nd->n_lits == VG_FILTER_MAX_LIST)
			return fail(ps, ps->pos, "more than %d values in a list",
				    VG_FILTER_MAX_LIST);
		r = parse_literal(ps, nd, after);
		if (r < 0)
			return r;
		nd->n_lits++;
		skip_space(ps);
		if (ps->pos < ps->len && ps->text[ps->pos] == ',') {
			ps->pos++;
			continue;
		}
		if (ps->pos < ps->len && ps->text[ps->pos] == ')') {
			ps->pos++;
			return 0;
		}
		return fail(ps, ps->pos, "expected ',' or ')' in the list, found %s",
			    found(ps, ps->pos, b, sizeof(b)));
	}
}

static int parse_op(struct parser *ps, const char *field, enum op *ret)
{
	size_t pos = ps->pos, n = 0;
	const char *t = ps->text + pos;
	char b[64];

	if (pos < ps->len && is_opchar(*t)) {
		while (pos + n < ps->len && is_opchar(t[n]))
			n++;
		if (n == 2 && memcmp(t, "==", 2) == 0) {
			*ret = OP_EQ;
			ps->pos += n;
			return 0;
		}
	} else {
		n = word_len(ps, pos);
	}
	for (size_t i = 0; n && i < VG_ARRAY_SIZE(op_names); i++)
		if (strlen(op_names[i]) == n && memcmp(t, op_names[i], n) == 0) {
			*ret = (enum op)i;
			ps->pos += n;
			return 0;
		}
	if (n && is_opchar(*t))
		return fail(ps, pos, "unknown operator %s after %s",
			    found(ps, pos, b, sizeof(b)), field);
	return fail(ps, pos, "expected an operator after %s, found %s", field,
		    found(ps, pos, b, sizeof(b)));
}

/* FIELD OP VALUE, FIELD in (...), FIELD exists. */
static int parse_cmp(struct parser *ps)
{
	struct node nd = { .kind = N_CMP, .size = 1 };
	size_t fpos = ps->pos, n = word_len(ps, fpos), key_at = 0, opos;
	char b[64], fname[SHOWN_MAX + 1];
	int id = 0, r;
	enum op op = OP_EQ;

	if (n == 0)
		return fail(ps, fpos, "expected a field name, 'not' or '(', found %s",
			    found(ps, fpos, b, sizeof(b)));
	r = parse_field(ps, fpos, n, &id, &key_at);
	if (r < 0)
		return r;
	shown(ps->text + fpos, n, fname);
	ps->pos += n;
	if (key_at && ps->pos < ps->len && !is_delim(ps->text[ps->pos]) &&
	    !is_opchar(ps->text[ps->pos]))
		return fail(ps, ps->pos,
			    "expected a label key of letters, digits, '.', '_', '/' and '-', found %s",
			    found(ps, ps->pos, b, sizeof(b)));

	nd.field = (uint8_t)id;
	nd.num = fields[id].type == VG_FILTER_NUM;
	if (key_at) {
		size_t klen = n - key_at;

		r = grow(&ps->pool, &ps->cap_pool, ps->pool_len + klen + 1, 1);
		if (r < 0)
			return r;
		nd.key = (uint32_t)ps->pool_len;
		nd.key_len = (uint32_t)klen;
		memcpy(ps->pool + ps->pool_len, ps->text + fpos + key_at, klen);
		ps->pool_len += klen;
		ps->pool[ps->pool_len++] = '\0';
	}

	skip_space(ps);
	opos = ps->pos;
	r = parse_op(ps, fname, &op);
	if (r < 0)
		return r;
	nd.op = (uint8_t)op;
	if (op >= OP_LT && op <= OP_GE && !nd.num)
		return fail(ps, opos, "'%s' needs a number field, found %s (a string)",
			    op_names[op], fname);
	if (op >= OP_CONTAINS && op <= OP_GLOB && nd.num)
		return fail(ps, opos, "'%s' needs a string field, found %s (a number)",
			    op_names[op], fname);

	nd.lit = (uint32_t)ps->n_lits;
	if (op == OP_IN) {
		r = parse_list(ps, &nd);
	} else if (op != OP_EXISTS) {
		r = parse_literal(ps, &nd, op_names[op]);
		nd.n_lits = 1;
	}
	if (r < 0)
		return r;
	return insert_node(ps, ps->n_nodes, &nd);
}

static int parse_chain(struct parser *ps, enum kind kind);

static int enter(struct parser *ps, size_t pos)
{
	if (++ps->depth > VG_FILTER_MAX_DEPTH)
		return fail(ps, pos, "nesting deeper than %d levels ('(' and 'not' each open one)",
			    VG_FILTER_MAX_DEPTH);
	return 0;
}

static int parse_unary(struct parser *ps)
{
	size_t at = ps->n_nodes, open;
	char b[64];
	int r;

	if (at_keyword(ps, "not")) {
		r = enter(ps, ps->pos);
		if (r < 0)
			return r;
		ps->pos += 3;
		r = insert_node(ps, at, &(struct node){ .kind = N_NOT });
		if (r < 0)
			return r;
		r = parse_unary(ps);
		if (r < 0)
			return r;
		ps->nodes[at].size = (uint32_t)(ps->n_nodes - at);
		ps->depth--;
		return 0;
	}
	if (ps->pos == ps->len || ps->text[ps->pos] != '(')
		return parse_cmp(ps);
	open = ps->pos;
	r = enter(ps, open);
	if (r < 0)
		return r;
	ps->pos++;
	r = parse_chain(ps, N_OR);
	if (r < 0)
		return r;
	skip_space(ps);
	if (ps->pos == ps->len || ps->text[ps->pos] != ')')
		return fail(ps, ps->pos,
			    "expected 'and', 'or' or ')' to close the '(' at column %zu, found %s",
			    open + 1, found(ps, ps->pos, b, sizeof(b)));
	ps->pos++;
	ps->depth--;
	return 0;
}

static int parse_operand(struct parser *ps, enum kind kind)
{
	return kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
}

/* A chain of operands joined by 'or' (of 'and' chains) or 'and' (of
 * unary terms), as one node over them all. Only the keyword after the
 * first operand shows that a chain starts, so its node is slipped in
 * before that operand: a move of the operand's subtree, at most once for
 * each level of nesting above a node. */
static int parse_chain(struct parser *ps, enum kind kind)
{
	const char *kw = kind == N_OR ? "or" : "and";
	size_t start = ps->n_nodes;
	int r;

	r = parse_operand(ps, kind);
	if (r < 0 || !at_keyword(ps, kw))
		return r;
	r = insert_node(ps, start, &(struct node){ .kind = (uint8_t)kind });
	if (r < 0)
		return r;
	while (at_keyword(ps, kw)) {
		ps->pos += strlen(kw);
		r = parse_operand(ps, kind);
		if (r < 0)
			return r;
	}
	ps->nodes[start].size = (uint32_t)(ps->n_nodes - start);
	return 0;
}

static int check_text(struct parser *ps)
{
	char b[64];
	int r;

	for (size_t i = 0; i < ps->len; i++)
		if (is_control(ps->text[i]) && !is_space(ps->text[i]))
			return fail(ps, i, "control character 0x%02x",
				    (unsigned char)ps->text[i]);
	r = parse_chain(ps, N_OR);
	if (r < 0)
		return r;
	skip_space(ps);
	if (ps->pos < ps->len)
		return fail(ps, ps->pos, "expected 'and', 'or' or end of input, found %s",
			    found(ps, ps->pos, b, sizeof(b)));
	return 0;
}

#define ALIGN_TO(x, a) (((x) + (a) - 1) / (a) * (a))

int vg_filter_compile(const char *text, struct vg_filter **ret,
		      struct vg_filter_error *err)
{
	struct parser ps = { .text = text, .err = err };
	size_t off_nodes, off_lits, off_pool, total;
	struct vg_filter *f;
	char *block;
	int r;

	if (err) {
		err->column = 0;
		err->msg[0] = '\0';
	}
	if (!text || !ret) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "no filter text");
		return -EINVAL;
	}
	ps.len = strnlen(text, VG_FILTER_MAX_LEN + 1);
	if (ps.len > VG_FILTER_MAX_LEN) {
		r = fail(&ps, VG_FILTER_MAX_LEN,
			 "expected at most %d bytes of filter, found more",
			 VG_FILTER_MAX_LEN);
		goto out;
	}
	r = check_text(&ps);
	if (r < 0)
		goto out;

	off_nodes = ALIGN_TO(sizeof(*f), _Alignof(struct node));
	off_lits = ALIGN_TO(off_nodes + ps.n_nodes * sizeof(struct node),
			    _Alignof(struct lit));
	off_pool = off_lits + ps.n_lits * sizeof(struct lit);
	total = off_pool + ps.pool_len + 1;
	block = malloc(total);
	if (!block) {
		r = -ENOMEM;
		goto out;
	}
	f = (struct vg_filter *)block;
	memcpy(block + off_nodes, ps.nodes, ps.n_nodes * sizeof(struct node));
	if (ps.n_lits)
		memcpy(block + off_lits, ps.lits, ps.n_lits * sizeof(struct lit));
	if (ps.pool_len)
		memcpy(block + off_pool, ps.pool, ps.pool_len);
	block[off_pool + ps.pool_len] = '\0';
	f->nodes = (const struct node *)(block + off_nodes);
	f->lits = (const struct lit *)(block + off_lits);
	f->pool = block + off_pool;
	f->n_nodes = ps.n_nodes;
	*ret = f;
out:
	if (r == -ENOMEM && err) {
		err->column = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	free(ps.nodes);
	free(ps.lits);
	free(ps.pool);
	return r;
}

/* ---- evaluation ------------------------------------------------------- */

static bool bytes_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool class_match(const char *p, size_t i, size_t end, unsigned char c)
{
	bool neg = p[i] == '!', hit = false;

	i += neg;
	/* the first member may be ']': it is before @end, the closing one */
	while (i < end) {
		unsigned char lo = (unsigned char)p[i], hi = lo;

		if (i + 2 < end && p[i + 1] == '-') {
			hi = (unsigned char)p[i + 2];
			i += 3;
		} else {
			i++;
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	return hit != neg;
}

/*
 * Iterative, with one backtrack point: the last '*' seen. An earlier
 * star never needs to be revisited, since the later one can absorb
 * whatever it would have, so the cost is at most pattern × subject,
 * never exponential.
 */
static bool glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn) {
			char c = p[pi];
			size_t end;

			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			end = c == '[' ? class_end(p, pn, pi + 1) : 0;
			if (end ? class_match(p, pi + 1, end - 1,
					      (unsigned char)s[si])
				: c == s[si]) {
				pi = end ? end : pi + 1;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool num_holds(enum op op, int64_t v, const struct lit *l, size_t n)
{
	switch (op) {
	case OP_EQ:
		return v == l->n;
	case OP_NE:
		return v != l->n;
	case OP_LT:
		return v < l->n;
	case OP_LE:
		return v <= l->n;
	case OP_GT:
		return v > l->n;
	case OP_GE:
		return v >= l->n;
	case OP_IN:
		for (size_t i = 0; i < n; i++)
			if (v == l[i].n)
				return true;
		return false;
	default:
		return false;
	}
}

static bool str_holds(const struct vg_filter *f, enum op op, const char *s,
		      size_t len, const struct lit *l, size_t n)
{
	const char *ls = f->pool + l->s;

	switch (op) {
	case OP_EQ:
		return bytes_eq(s, len, ls, l->len);
	case OP_NE:
		return !bytes_eq(s, len, ls, l->len);
	case OP_IN:
		for (size_t i = 0; i < n; i++)
			if (bytes_eq(s, len, f->pool + l[i].s, l[i].len))
				return true;
		return false;
	case OP_CONTAINS:
		return l->len == 0 ||
		       (len >= l->len && memmem(s, len, ls, l->len) != NULL);
	case OP_STARTSWITH:
		return len >= l->len && bytes_eq(s, l->len, ls, l->len);
	case OP_ENDSWITH:
		return len >= l->len &&
		       bytes_eq(s + len - l->len, l->len, ls, l->len);
	case OP_GLOB:
		return glob_match(ls, l->len, s, len);
	default:
		return false;
	}
}

static bool cmp_holds(const struct vg_filter *f, const struct node *nd,
		      vg_filter_get_fn get, void *ctx)
{
	struct vg_fval v = { .s = NULL };

	if (!get || get(ctx, nd->field, nd->key_len ? f->pool + nd->key : NULL,
			nd->key_len, &v) <= 0)
		return false;
	if (nd->op == OP_EXISTS)
		return true;
	if (nd->num)
		return num_holds(nd->op, v.n, f->lits + nd->lit, nd->n_lits);
	if (!v.s)
		v.len = 0;
	return str_holds(f, nd->op, v.s, v.len, f->lits + nd->lit, nd->n_lits);
}

static bool eval(const struct vg_filter *f, size_t i, vg_filter_get_fn get,
		 void *ctx)
{
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;

	switch (nd->kind) {
	case N_AND:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			if (!eval(f, c, get, ctx))
				return false;
		return true;
	case N_OR:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			if (eval(f, c, get, ctx))
				return true;
		return false;
	case N_NOT:
		return !eval(f, i + 1, get, ctx);
	default:
		return cmp_holds(f, nd, get, ctx);
	}
}

bool vg_filter_match(const struct vg_filter *f, vg_filter_get_fn get,
		     void *ctx)
{
	return !f || eval(f, 0, get, ctx);
}

/* ---- the rest --------------------------------------------------------- */

static uint64_t type_mask(const struct vg_filter *f, size_t i,
			  uint64_t (*type_bits)(const char *name, void *ctx),
			  void *ctx)
{
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;
	uint64_t m;

	switch (nd->kind) {
	case N_AND:
		m = UINT64_MAX;
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			m &= type_mask(f, c, type_bits, ctx);
		return m;
	case N_OR:
		m = 0;
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			m |= type_mask(f, c, type_bits, ctx);
		return m;
	case N_CMP:
		if (nd->field != VG_F_EVT_TYPE ||
		    (nd->op != OP_EQ && nd->op != OP_IN))
			return UINT64_MAX;
		m = 0;
		for (size_t k = 0; k < nd->n_lits; k++)
			m |= type_bits(f->pool + f->lits[nd->lit + k].s, ctx);
		return m;
	default:
		return UINT64_MAX;
	}
}

uint64_t vg_filter_type_mask(const struct vg_filter *f,
			     uint64_t (*type_bits)(const char *name, void *ctx),
			     void *ctx)
{
	if (!f || !type_bits)
		return UINT64_MAX;
	return type_mask(f, 0, type_bits, ctx);
}

bool vg_filter_uses_field(const struct vg_filter *f, int field_id)
{
	for (size_t i = 0; f && i < f->n_nodes; i++)
		if (f->nodes[i].kind == N_CMP && f->nodes[i].field == field_id)
			return true;
	return false;
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 < o->size) {
		size_t room = o->size - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void puts_out(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Bare when it reads back as the same word: printable ASCII that does
 * not end a word or open an escape. */
static bool bare_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || is_delim(s[i]) || s[i] == '\\')
			return false;
	return true;
}

static void put_lit(struct out *o, const struct vg_filter *f, bool num,
		    const struct lit *l)
{
	const char *s = f->pool + l->s;

	if (num) {
		char b[24], *e;
		uint64_t u = l->n < 0 ? 0 - (uint64_t)l->n : (uint64_t)l->n;

		e = vg_u64_to_str(u, b + 1);
		b[0] = '-';
		if (l->n < 0)
			put(o, b, (size_t)(e - b));
		else
			put(o, b + 1, (size_t)(e - b - 1));
		return;
	}
	if (bare_ok(s, l->len)) {
		put(o, s, l->len);
		return;
	}
	put(o, "\"", 1);
	for (size_t i = 0; i < l->len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
	put(o, "\"", 1);
}

static void format_node(struct out *o, const struct vg_filter *f, size_t i,
			int parent)
{
	/* precedence: or < and < not < a comparison */
	static const int prec[] = { [N_OR] = 1, [N_AND] = 2, [N_NOT] = 3, [N_CMP] = 4 };
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;
	bool paren = prec[nd->kind] < parent;
	const struct lit *l;

	if (paren)
		put(o, "(", 1);
	switch (nd->kind) {
	case N_AND:
	case N_OR:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size) {
			if (c > i + 1)
				puts_out(o, nd->kind == N_OR ? " or " : " and ");
			format_node(o, f, c, prec[nd->kind]);
		}
		break;
	case N_NOT:
		puts_out(o, "not ");
		format_node(o, f, i + 1, prec[N_NOT]);
		break;
	default:
		if (fields[nd->field].prefix_len) {
			put(o, fields[nd->field].name, fields[nd->field].prefix_len);
			put(o, f->pool + nd->key, nd->key_len);
		} else {
			puts_out(o, fields[nd->field].name);
		}
		put(o, " ", 1);
		puts_out(o, op_names[nd->op]);
		l = f->lits + nd->lit;
		if (nd->op == OP_IN) {
			put(o, " (", 2);
			for (size_t k = 0; k < nd->n_lits; k++) {
				if (k)
					put(o, ", ", 2);
				put_lit(o, f, nd->num, &l[k]);
			}
			put(o, ")", 1);
		} else if (nd->op != OP_EXISTS) {
			put(o, " ", 1);
			put_lit(o, f, nd->num, l);
		}
		break;
	}
	if (paren)
		put(o, ")", 1);
}

int vg_filter_format(const struct vg_filter *f, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = buf ? size : 0 };

	if (f)
		format_node(&o, f, 0, 0);
	if (o.size)
		buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return o.len > INT_MAX ? INT_MAX : (int)o.len;
}
