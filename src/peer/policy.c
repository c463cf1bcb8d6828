/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Access policy over identities: "allow|deny FIELD OP VALUE ...", one rule
 * a line, first match wins, deny when none does.
 *
 * The parser is strict on purpose: a policy guards access, so anything it
 * does not understand is an error naming the line, never a guess. A rule
 * that silently meant less than it says (a typo'd field that never
 * matches, a value cut at a '#') would fail open or closed without anyone
 * noticing.
 */
#include "peer/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attrib/attrib.h"
#include "base/util.h"

enum field {
	F_UID,
	F_GID,
	F_EXE,
	F_COMM,
	F_CTR_ID,
	F_CTR_NAME,
	F_CTR_RUNTIME,
	F_CTR_IMAGE,
	F_CTR_LABEL,
	F_K8S_NS,
	F_K8S_POD_NAME,
	F_K8S_POD_UID,
	F_K8S_POD_LABEL,
	F_K8S_CTR_NAME,
	F_K8S_SOURCE,
};

enum op { OP_EQ, OP_NE, OP_GLOB };

struct field_def {
	const char *name; /* a keyed field's name ends in '.': the key follows */
	enum field field;
	bool numeric;
};

static const struct field_def fields[] = {
	{ "user.uid", F_UID, true },
	{ "group.gid", F_GID, true },
	{ "proc.exe", F_EXE, false },
	/* comm is whatever the process wrote with prctl(PR_SET_NAME): data
	 * about it, not identity. Allowed because deny rules and logs find
	 * it useful, but an allow rule on it alone grants anyone who asks. */
	{ "proc.name", F_COMM, false },
	{ "container.id", F_CTR_ID, false },
	{ "container.name", F_CTR_NAME, false },
	{ "container.runtime", F_CTR_RUNTIME, false },
	{ "container.image", F_CTR_IMAGE, false },
	{ "container.label.", F_CTR_LABEL, false },
	{ "k8s.ns.name", F_K8S_NS, false },
	{ "k8s.pod.name", F_K8S_POD_NAME, false },
	{ "k8s.pod.uid", F_K8S_POD_UID, false },
	{ "k8s.pod.label.", F_K8S_POD_LABEL, false },
	{ "k8s.container.name", F_K8S_CTR_NAME, false },
	{ "k8s.source", F_K8S_SOURCE, false },
};

struct cond {
	const struct field_def *def;
	enum op op;
	bool quoted; /* written quoted: the rule's text shows it the same way */
	uint32_t num;
	char *key; /* the label key of a keyed field */
	char *value;
};

struct rule {
	bool allow;
	unsigned line;
	size_t n_conds;
	struct cond *conds;
	char *text; /* normalized, for the reason a decision gives */
};

struct warning {
	unsigned line;
	const char *text; /* static */
};

struct vigil_policy {
	struct rule *rules;
	size_t n_rules, cap;
	struct warning *warnings; /* at most one a rule */
	size_t n_warnings;
};

static void rule_release(struct rule *r)
{
	for (size_t i = 0; i < r->n_conds; i++) {
		free(r->conds[i].key);
		free(r->conds[i].value);
	}
	free(r->conds);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void vigil_policy_free(struct vigil_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	free(p->warnings);
	free(p);
}

size_t vg_policy_n_rules(const struct vigil_policy *p)
{
	return p ? p->n_rules : 0;
}

const char *vg_policy_rule_text(const struct vigil_policy *p, size_t i)
{
	return p && i < p->n_rules ? p->rules[i].text : NULL;
}

unsigned vg_policy_rule_line(const struct vigil_policy *p, size_t i)
{
	return p && i < p->n_rules ? p->rules[i].line : 0;
}

size_t vg_policy_n_warnings(const struct vigil_policy *p)
{
	return p ? p->n_warnings : 0;
}

const char *vg_policy_warning(const struct vigil_policy *p, size_t i,
			      unsigned *ret_line)
{
	if (!p || i >= p->n_warnings)
		return NULL;
	if (ret_line)
		*ret_line = p->warnings[i].line;
	return p->warnings[i].text;
}

/* ---- parsing ---------------------------------------------------------- */

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t errsz;
};

struct token {
	const char *s;
	bool quoted;
};

static int parse_error(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int parse_error(struct parser *ps, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_set_err(ps->err, ps->errsz, "%s:%u: %s", ps->name, ps->line, msg);
	return -EINVAL;
}

/* A token as an error message quotes it: bounded, so that what the
 * message says after it still fits a small buffer. */
static const char *shown(const char *s, char *buf, size_t bufsz)
{
	size_t n = strlen(s);

	if (n < bufsz)
		return s;
	n = bufsz - 4;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* not inside a UTF-8 sequence */
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

/* '\r' is whitespace so that a file written on Windows reads the same. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Control characters are refused rather than carried into a reason that
 * may end up in a log, where they could forge lines. */
static bool is_control(char c)
{
	return ((unsigned char)c < 0x20 && !is_space(c)) || c == 0x7f;
}

static int control_error(struct parser *ps, char c)
{
	return parse_error(ps, "control character 0x%02x", (unsigned char)c);
}

/*
 * Split one line (no '\n', no NUL) into tokens, decoded into @scratch
 * (room for @len + 1 bytes: a token and its NUL take no more than its
 * text and the space after it). A '#' starts a comment at the start of a token only:
 * one inside a bare word is an error, not a value silently cut short.
 */
static int tokenize(struct parser *ps, const char *line, size_t len,
		    char *scratch, struct token *tok, size_t *ret_n)
{
	char *out = scratch;
	size_t i = 0, n = 0;

	for (;;) {
		while (i < len && is_space(line[i]))
			i++;
		if (i == len || line[i] == '#')
			break;
		tok[n].s = out;
		tok[n].quoted = line[i] == '"';
		if (tok[n].quoted) {
			for (i++;;) {
				char c;

				if (i == len)
					return parse_error(ps, "unterminated quoted string");
				c = line[i++];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i == len)
						return parse_error(ps, "unterminated quoted string");
					c = line[i++];
					if (c != '"' && c != '\\') {
						if ((unsigned char)c < 0x20 ||
						    (unsigned char)c >= 0x7f)
							return parse_error(ps,
								"unknown escape (byte 0x%02x after '\\') in a quoted string; only \\\" and \\\\ are escapes",
								(unsigned char)c);
						return parse_error(ps,
							"unknown escape '\\%c' in a quoted string; only \\\" and \\\\ are escapes",
							c);
					}
				} else if (is_control(c)) {
					return control_error(ps, c);
				}
				*out++ = c;
			}
			if (i < len && !is_space(line[i]))
				return parse_error(ps, "expected a space after the closing quote");
		} else {
			for (; i < len && !is_space(line[i]); i++) {
				char c = line[i];

				if (c == '"')
					return parse_error(ps, "'\"' inside a bare word; quote the whole value");
				if (c == '#')
					return parse_error(ps, "'#' inside a bare word; quote the value, or put a space before a comment");
				if (is_control(c))
					return control_error(ps, c);
				*out++ = c;
			}
		}
		*out++ = '\0';
		n++;
	}
	*ret_n = n;
	return 0;
}

static const struct field_def *find_field(const char *s, const char **ret_key)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(fields); i++) {
		const char *name = fields[i].name;
		size_t n = strlen(name);

		if (name[n - 1] == '.' ? strncmp(s, name, n) == 0
				       : strcmp(s, name) == 0) {
			*ret_key = s + n;
			return &fields[i];
		}
	}
	return NULL;
}

/* A keyed field written without its key ("container.label"). */
static const struct field_def *find_keyless(const char *s)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(fields); i++) {
		const char *name = fields[i].name;
		size_t n = strlen(name);

		if (name[n - 1] == '.' && strncmp(s, name, n - 1) == 0 &&
		    s[n - 1] == '\0')
			return &fields[i];
	}
	return NULL;
}

static bool parse_op(const char *s, enum op *ret)
{
	if (strcmp(s, "=") == 0)
		*ret = OP_EQ;
	else if (strcmp(s, "!=") == 0)
		*ret = OP_NE;
	else if (strcmp(s, "~") == 0)
		*ret = OP_GLOB;
	else
		return false;
	return true;
}

static const char *op_name(enum op op)
{
	return op == OP_EQ ? "=" : op == OP_NE ? "!=" : "~";
}

/* The only values some fields take, so that "k8s.source = kublet" is a
 * typo caught at load, not a rule that never matches. Taken from the
 * name functions themselves, so the lists cannot drift from them. */
static size_t closed_values(enum field f, const char **list, size_t max)
{
	size_t n = 0;

	if (f == F_CTR_RUNTIME)
		for (int r = VG_RUNTIME_NONE; r <= VG_RUNTIME_UNKNOWN && n < max; r++)
			list[n++] = vg_runtime_name((enum vg_runtime)r);
	else if (f == F_K8S_SOURCE)
		for (int s = VG_POD_SRC_NONE; s <= VG_POD_SRC_KUBELET && n < max; s++)
			list[n++] = vg_pod_source_name((enum vg_pod_source)s);
	return n;
}

static int check_closed_value(struct parser *ps, const struct field_def *def,
			      const char *v)
{
	const char *list[8];
	char names[128], b[80];
	size_t n, len = 0;

	n = closed_values(def->field, list, VG_ARRAY_SIZE(list));
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return 0;
	names[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i ? ", " : "", list[i]);
	return parse_error(ps, "%s is one of %s; got '%s'", def->name, names,
			   shown(v, b, sizeof(b)));
}

static int spaces_error(struct parser *ps, const char *tok)
{
	char b[80];

	return parse_error(ps,
		"expected FIELD OP VALUE with spaces around the operator, got '%s'",
		shown(tok, b, sizeof(b)));
}

/* One FIELD OP VALUE from @t (@avail tokens left on the line). */
static int parse_cond(struct parser *ps, const struct token *t, size_t avail,
		      struct cond *c)
{
	const struct field_def *def;
	const char *key = NULL, *f = t[0].s;
	char b[80];
	int r;

	if (t[0].quoted)
		return parse_error(ps, "expected a field name, got a quoted string");
	/* no field name holds these: the operator is glued to it */
	if (strpbrk(f, "=~"))
		return spaces_error(ps, f);
	def = find_field(f, &key);
	if (!def) {
		def = find_keyless(f);
		if (def)
			return parse_error(ps, "%s needs a key: %sKEY", f,
					   def->name);
		return parse_error(ps, "unknown field '%s'",
				   shown(f, b, sizeof(b)));
	}
	if (def->name[strlen(def->name) - 1] == '.' && !*key)
		return parse_error(ps, "%s needs a key: %sKEY", f, def->name);
	if (avail < 2)
		return parse_error(ps, "%s needs an operator ('=', '!=' or '~') and a value",
				   f);
	if (t[1].quoted || !parse_op(t[1].s, &c->op)) {
		/* "==", "=~": another language's operator, not a glued value */
		if (!t[1].quoted && t[1].s[strspn(t[1].s, "=!~")] == '\0')
			return parse_error(ps, "unknown operator '%s'; use '=', '!=' or '~'",
					   shown(t[1].s, b, sizeof(b)));
		if (!t[1].quoted && (t[1].s[0] == '=' || t[1].s[0] == '~' ||
				     vg_startswith(t[1].s, "!=")))
			return spaces_error(ps, t[1].s);
		return parse_error(ps, "expected an operator ('=', '!=' or '~') after %s, got %s%s%s",
				   f, t[1].quoted ? "a quoted string" : "'",
				   t[1].quoted ? "" : shown(t[1].s, b, sizeof(b)),
				   t[1].quoted ? "" : "'");
	}
	if (avail < 3)
		return parse_error(ps, "%s %s needs a value", f, op_name(c->op));
	if (def->numeric) {
		uint64_t v;

		if (c->op == OP_GLOB)
			return parse_error(ps, "'~' is not allowed on %s", f);
		r = vg_parse_u64(t[2].s, &v);
		if (r == 0 && v > UINT32_MAX)
			r = -ERANGE;
		if (r == -ERANGE)
			return parse_error(ps, "%s %s is out of range", f,
					   shown(t[2].s, b, sizeof(b)));
		if (r < 0)
			return parse_error(ps, "%s needs a number, got '%s'", f,
					   shown(t[2].s, b, sizeof(b)));
		c->num = (uint32_t)v;
	} else if (c->op != OP_GLOB) {
		r = check_closed_value(ps, def, t[2].s);
		if (r < 0)
			return r;
	}
	c->def = def;
	c->quoted = t[2].quoted;
	c->value = strdup(t[2].s);
	if (!c->value)
		return -ENOMEM;
	if (*key) {
		c->key = strdup(key);
		if (!c->key)
			return -ENOMEM;
	}
	return 0;
}

/* Bounded text, cut on a UTF-8 boundary and marked when it overflows. */
struct text {
	char s[VG_POLICY_TEXT_MAX + 1];
	size_t len;
	bool cut;
};

static void text_put(struct text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t->len == VG_POLICY_TEXT_MAX) {
			t->cut = true;
			return;
		}
		t->s[t->len++] = s[i];
	}
}

static void text_puts(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

static bool needs_quotes(const char *v)
{
	return !*v || strpbrk(v, " \t\r\"#");
}

static char *rule_text(const struct rule *r)
{
	struct text t = { .len = 0 };

	text_puts(&t, r->allow ? "allow" : "deny");
	for (size_t i = 0; i < r->n_conds; i++) {
		const struct cond *c = &r->conds[i];
		bool q = c->quoted || needs_quotes(c->value);

		text_puts(&t, " ");
		text_puts(&t, c->def->name);
		if (c->key)
			text_puts(&t, c->key);
		text_puts(&t, " ");
		text_puts(&t, op_name(c->op));
		text_puts(&t, q ? " \"" : " ");
		for (const char *v = c->value; *v; v++) {
			if (q && (*v == '"' || *v == '\\'))
				text_puts(&t, "\\");
			text_put(&t, v, 1);
		}
		if (q)
			text_puts(&t, "\"");
	}
	if (t.cut) {
		t.len = VG_POLICY_TEXT_MAX - 3;
		while (t.len > 0 && ((unsigned char)t.s[t.len] & 0xc0) == 0x80)
			t.len--;
		memcpy(t.s + t.len, "...", 3);
		t.len += 3;
	}
	t.s[t.len] = '\0';
	return strdup(t.s);
}

/* Returns 1 with @r filled, 0 for a line without a rule, or -errno. */
static int parse_rule(struct parser *ps, const struct token *tok, size_t n,
		      struct rule *r)
{
	char b[80];
	size_t want;
	int ret;

	if (n == 0)
		return 0;
	if (tok[0].quoted || (strcmp(tok[0].s, "allow") != 0 &&
			      strcmp(tok[0].s, "deny") != 0))
		return parse_error(ps, "expected 'allow' or 'deny', got %s%s%s",
				   tok[0].quoted ? "a quoted string" : "'",
				   tok[0].quoted ? "" : shown(tok[0].s, b, sizeof(b)),
				   tok[0].quoted ? "" : "'");
	want = (n - 1 + 2) / 3;
	if (want > VG_POLICY_MAX_CONDS)
		return parse_error(ps, "more than %d conditions in one rule",
				   VG_POLICY_MAX_CONDS);
	r->allow = tok[0].s[0] == 'a';
	r->line = ps->line;
	if (want > 0) {
		r->conds = calloc(want, sizeof(*r->conds));
		if (!r->conds)
			return -ENOMEM;
	}
	for (size_t i = 1; i < n; i += 3) {
		/* counted before filling, so a failure frees what was set */
		r->n_conds++;
		ret = parse_cond(ps, tok + i, n - i, &r->conds[r->n_conds - 1]);
		if (ret < 0)
			return ret;
	}
	r->text = rule_text(r);
	return r->text ? 1 : -ENOMEM;
}

/*
 * An allow rule that names only what the process says of its own
 * program. proc.name is whatever it wrote with prctl(PR_SET_NAME).
 * proc.exe is the kernel's exe link, but inside a container it is a path
 * in the container's own filesystem, which its image chooses, and a
 * client can exec another binary once it has been identified and keep
 * its connection. Either alone admits more than it seems to; beside a
 * uid, container or pod condition it narrows a rule usefully.
 */
static const char *weak_allow(const struct rule *r)
{
	bool exe = false;

	if (!r->allow || r->n_conds == 0)
		return NULL;
	for (size_t i = 0; i < r->n_conds; i++) {
		enum field f = r->conds[i].def->field;

		if (f != F_EXE && f != F_COMM)
			return NULL;
		exe |= f == F_EXE;
	}
	if (exe)
		return "allow on proc.exe alone: in a container proc.exe is a "
		       "path in the container's own filesystem, and a client "
		       "can exec another binary after it connects; add a "
		       "condition on user.uid, the container or the pod";
	return "allow on proc.name alone: the process sets its name itself, "
	       "so any process can match; add a condition on user.uid, the "
	       "container or the pod";
}

static int policy_warn(struct vigil_policy *p, unsigned line, const char *text)
{
	struct warning *n;

	n = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->warnings = n;
	p->warnings[p->n_warnings++] = (struct warning){ line, text };
	return 0;
}

static int policy_add(struct vigil_policy *p, struct rule *r)
{
	if (p->n_rules == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct rule *n;

		if (ncap > VG_POLICY_MAX_RULES)
			ncap = VG_POLICY_MAX_RULES;
		n = realloc(p->rules, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->rules = n;
		p->cap = ncap;
	}
	p->rules[p->n_rules++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int vigil_policy_parse(const char *text, size_t len, const char *name,
		       struct vigil_policy **ret, char *errbuf, size_t errsz)
{
	struct parser ps = { .name = name && *name ? name : "policy",
			     .err = errbuf, .errsz = errsz };
	_cleanup_free_ char *scratch = NULL;
	_cleanup_free_ struct token *tok = NULL;
	struct vigil_policy *p = NULL;
	struct rule rule = { 0 };
	size_t pos = 0;
	int r;

	if (errbuf && errsz)
		errbuf[0] = '\0';
	if (!ret || (!text && len))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	scratch = malloc(VG_POLICY_MAX_LINE + 1);
	/* a bare token and the space after it are two bytes at least */
	tok = malloc((VG_POLICY_MAX_LINE / 2 + 1) * sizeof(*tok));
	if (!p || !scratch || !tok) {
		r = -ENOMEM;
		goto fail;
	}

	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t n = 0, ll;

		ps.line++;
		nl = memchr(line, '\n', len - pos);
		ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);

		if (memchr(line, '\0', ll)) {
			r = parse_error(&ps, "NUL byte in the text");
			goto fail;
		}
		if (ll > VG_POLICY_MAX_LINE) {
			r = parse_error(&ps, "line longer than %d bytes",
					VG_POLICY_MAX_LINE);
			goto fail;
		}
		r = tokenize(&ps, line, ll, scratch, tok, &n);
		if (r < 0)
			goto fail;
		r = parse_rule(&ps, tok, n, &rule);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		if (p->n_rules == VG_POLICY_MAX_RULES) {
			r = parse_error(&ps, "more than %d rules",
					VG_POLICY_MAX_RULES);
			goto fail;
		}
		const char *weak = weak_allow(&rule);

		if (weak) {
			r = policy_warn(p, rule.line, weak);
			if (r < 0)
				goto fail;
		}
		r = policy_add(p, &rule);
		if (r < 0)
			goto fail;
	}
	*ret = p;
	return 0;
fail:
	if (r == -ENOMEM)
		vg_set_err(errbuf, errsz, "%s: out of memory", ps.name);
	rule_release(&rule);
	vigil_policy_free(p);
	return r;
}

static int load_error(const char *path, int r, char *errbuf, size_t errsz)
{
	if (r == -EFBIG)
		vg_set_err(errbuf, errsz, "%s: larger than 1 MiB", path);
	else
		vg_set_err(errbuf, errsz, "%s: %s", path, strerror(-r));
	return r;
}

int vigil_policy_load(const char *path, struct vigil_policy **ret,
		      char *errbuf, size_t errsz)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (errbuf && errsz)
		errbuf[0] = '\0';
	if (!path || !ret)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open
	 * until a writer shows up; it is refused below like any non-file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return load_error(path, -errno, errbuf, errsz);
	if (!S_ISREG(st.st_mode)) {
		vg_set_err(errbuf, errsz, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > VG_POLICY_MAX_FILE)
		return load_error(path, -EFBIG, errbuf, errsz);
	/* the size fstat() gave is a hint only: the file may grow while it
	 * is read, and the read itself is bounded */
	bool cut = false;

	r = vg_read_fd(fd, VG_POLICY_MAX_FILE, &buf, &len, &cut);
	if (r == 0 && cut)
		r = -EFBIG;
	if (r < 0)
		return load_error(path, r, errbuf, errsz);
	return vigil_policy_parse(buf, len, path, ret, errbuf, errsz);
}

/* ---- decisions -------------------------------------------------------- */

/*
 * The value @c looks at, or false when the identity has none. Container
 * fields describe the container a process is in: a runtime's monitor
 * (conmon) or a process of a pod's cgroup outside its containers is in
 * none, so their container fields are absent and container.runtime is
 * "none" — an image rule must not admit the monitor beside its container.
 */
static bool field_value(const struct vigil_identity *id, const struct cond *c,
			const char **ret_s, uint32_t *ret_num)
{
	const struct vg_pod_meta *pod = vg_identity_pod(id);
	bool in_ctr = id->attr.role == VG_ROLE_CONTAINER;
	bool in_pod = pod->source != VG_POD_SRC_NONE;
	const char *s = NULL;

	switch (c->def->field) {
	/* Without proc facts the credentials read 0: "user.uid = 0" must
	 * not match an identity that never had any. */
	case F_UID:
		*ret_num = vigil_identity_uid(id);
		return id->have_proc;
	case F_GID:
		*ret_num = vigil_identity_gid(id);
		return id->have_proc;
	case F_EXE:
		s = id->have_proc ? vigil_identity_exe(id) : NULL;
		break;
	case F_COMM:
		s = id->have_proc ? id->proc.comm : NULL;
		break;
	case F_CTR_ID:
		/* not vigil_identity_container_id(): its "host" is no id */
		s = in_ctr && id->attr.container_id[0] ? id->attr.container_id
						       : NULL;
		break;
	case F_CTR_NAME:
		s = in_ctr ? vigil_identity_container_name(id) : NULL;
		break;
	case F_CTR_RUNTIME:
		s = in_ctr ? vigil_identity_runtime(id) : "none";
		break;
	case F_CTR_IMAGE:
		s = in_ctr ? vigil_identity_image(id) : NULL;
		break;
	case F_CTR_LABEL:
		s = in_ctr ? vigil_identity_container_label(id, c->key) : NULL;
		break;
	case F_K8S_NS:
		s = in_pod ? pod->ns : NULL;
		break;
	case F_K8S_POD_NAME:
		s = in_pod ? pod->name : NULL;
		break;
	case F_K8S_POD_UID:
		s = in_pod ? pod->uid : NULL;
		break;
	case F_K8S_POD_LABEL:
		s = in_pod ? vg_kv_get(&pod->labels, c->key) : NULL;
		break;
	case F_K8S_CTR_NAME:
		s = in_ctr && in_pod ? pod->container_name : NULL;
		break;
	case F_K8S_SOURCE:
		s = vg_pod_source_name(pod->source);
		break;
	}
	*ret_s = s;
	return s != NULL;
}

static bool cond_holds(const struct cond *c, const struct vigil_identity *id)
{
	const char *s = NULL;
	uint32_t num = 0;
	bool eq;

	/* a fact the identity lacks equals nothing, so differs from all */
	if (!field_value(id, c, &s, &num))
		return c->op == OP_NE;
	if (c->op == OP_GLOB)
		return fnmatch(c->value, s, 0) == 0;
	eq = c->def->numeric ? num == c->num : strcmp(s, c->value) == 0;
	return c->op == OP_EQ ? eq : !eq;
}

bool vigil_policy_allows(const struct vigil_policy *p,
			 const struct vigil_identity *id, char *why,
			 size_t whysz)
{
	enum vigil_status st;

	if (!id) {
		vg_set_err(why, whysz, "no identity: denied");
		return false;
	}
	st = vigil_identity_status(id);
	if (st != VIGIL_OK) {
		vg_set_err(why, whysz, "identity not established (%s): %s",
			   vigil_status_name(st), vigil_identity_message(id));
		return false;
	}
	if (!p) {
		vg_set_err(why, whysz, "no policy: default deny");
		return false;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		size_t k = 0;

		while (k < r->n_conds && cond_holds(&r->conds[k], id))
			k++;
		if (k == r->n_conds) {
			vg_set_err(why, whysz, "rule at line %u: %s", r->line,
				   r->text);
			return r->allow;
		}
	}
	vg_set_err(why, whysz, "%s",
		   p->n_rules ? "no rule matched: default deny"
			      : "the policy has no rules: default deny");
	return false;
}
