/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Falco's rule files: the loader (YAML items into lists, macros and
 * rules, with append and override), the compiler (exceptions, lists,
 * macros, then vigil's filter compiler) and the evaluation.
 */
#include "rules/rules.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "base/util.h"
#include "event/event.h"

/* ------------------------------------------------------------ strings */

/* A growing string; after a failure (memory, or past @max) it stays
 * failed and every append is a no-op. */
struct sb {
	char *p;
	size_t len, cap, max;
	int err; /* 0, -ENOMEM, -E2BIG */
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->max) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* The string, owned by the caller, or NULL (and the buffer freed) after
 * a failure; *@ret_err says which. */
static char *sb_take(struct sb *b, int *ret_err)
{
	if (ret_err)
		*ret_err = b->err;
	if (b->err) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	return b->p ? b->p : strdup("");
}

static char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xstrdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* ------------------------------------------------------------ the set */

/* A YAML node of one of the ruleset's documents (kept until it goes). */
struct ynode {
	yaml_document_t *doc;
	yaml_node_t *n;
};

struct vg_rule_exc {
	char *name;
	struct ynode fields, comps; /* comps.n NULL: the default */
	struct ynode *values;
	size_t n_values;
};

struct list {
	char *name;
	char **items;
	size_t n_items;
	size_t index, visibility;
	char **expanded; /* with earlier lists' items in place of their names */
	size_t n_expanded;
	bool expanded_done;
};

enum { MS_NEW, MS_BUSY, MS_DONE, MS_FAILED };

struct macro {
	char *name;
	char *cond;
	size_t index, visibility;
	char *file;
	int line;
	/* the compiler's */
	int state;
	char *expanded;
	char *why;
};

struct vg_ruleset {
	yaml_document_t **docs;
	size_t n_docs;
	struct list *lists;
	size_t n_lists;
	struct macro *macros;
	size_t n_macros;
	struct vg_rule **rules;
	size_t n_rules;
	size_t cur_index; /* Falco's m_cur_index: definitions and updates */
	char *notes;
	size_t notes_len;
	uint64_t type_mask;
};

struct vg_ruleset *vg_ruleset_new(void)
{
	return calloc(1, sizeof(struct vg_ruleset));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void exc_free(struct vg_rule_exc *x, size_t n)
{
	for (size_t i = 0; x && i < n; i++) {
		free(x[i].name);
		free(x[i].values);
	}
	free(x);
}

static void rule_compiled_release(struct vg_rule *r)
{
	free(r->why);
	r->why = NULL;
	free(r->expanded);
	r->expanded = NULL;
	vg_filter_free(r->filter);
	r->filter = NULL;
	for (size_t i = 0; i < r->n_fields; i++) {
		free(r->fields[i].name);
		free(r->fields[i].key);
	}
	free(r->fields);
	r->fields = NULL;
	r->n_fields = 0;
	free(r->output_note);
	r->output_note = NULL;
	r->type_mask = 0;
}

static void rule_free(struct vg_rule *r)
{
	if (!r)
		return;
	rule_compiled_release(r);
	free(r->name);
	free(r->desc);
	free(r->condition);
	free(r->output);
	free(r->source);
	free_strv(r->tags, r->n_tags);
	free(r->file);
	exc_free(r->exc, r->n_exc);
	free(r);
}

static void macro_compiled_release(struct macro *m)
{
	free(m->expanded);
	m->expanded = NULL;
	free(m->why);
	m->why = NULL;
	m->state = MS_NEW;
}

void vg_ruleset_free(struct vg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_rules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->n_lists; i++) {
		free(rs->lists[i].name);
		free_strv(rs->lists[i].items, rs->lists[i].n_items);
		free_strv(rs->lists[i].expanded, rs->lists[i].n_expanded);
	}
	free(rs->lists);
	for (size_t i = 0; i < rs->n_macros; i++) {
		macro_compiled_release(&rs->macros[i]);
		free(rs->macros[i].name);
		free(rs->macros[i].cond);
		free(rs->macros[i].file);
	}
	free(rs->macros);
	for (size_t i = 0; i < rs->n_docs; i++) {
		yaml_document_delete(rs->docs[i]);
		free(rs->docs[i]);
	}
	free(rs->docs);
	free(rs->notes);
	free(rs);
}

const char *vg_ruleset_notes(const struct vg_ruleset *rs)
{
	return rs->notes ? rs->notes : "";
}

size_t vg_ruleset_count(const struct vg_ruleset *rs)
{
	return rs->n_rules;
}

const struct vg_rule *vg_ruleset_rule(const struct vg_ruleset *rs, size_t i)
{
	return i < rs->n_rules ? rs->rules[i] : NULL;
}

void vg_ruleset_tally(const struct vg_ruleset *rs, struct vg_rules_tally *ret)
{
	*ret = (struct vg_rules_tally){ .rules = rs ? rs->n_rules : 0 };
	for (size_t i = 0; rs && i < rs->n_rules; i++) {
		const struct vg_rule *r = rs->rules[i];

		if (!r->enabled)
			ret->disabled++;
		else if (r->status == VG_RULE_ACCEPTED)
			ret->accepted++;
		else if (r->status == VG_RULE_REFUSED)
			ret->refused++;
		else
			ret->skipped++;
	}
}

uint64_t vg_ruleset_type_mask(const struct vg_ruleset *rs)
{
	return rs->type_mask;
}

/* --------------------------------------------------------- priorities */

static const char *const pri_names[] = {
	"Emergency", "Alert", "Critical", "Error",
	"Warning", "Notice", "Informational", "Debug",
};

const char *vg_rule_priority_name(int pri)
{
	return pri >= 0 && pri < (int)(sizeof(pri_names) / sizeof(pri_names[0]))
		       ? pri_names[pri] : NULL;
}

int vg_rule_priority_parse(const char *s, int *ret)
{
	for (int i = 0; i < (int)(sizeof(pri_names) / sizeof(pri_names[0])); i++)
		if (strcasecmp(s, pri_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	/* Falco takes "info" for informational */
	if (strcasecmp(s, "info") == 0) {
		*ret = VG_PRI_INFORMATIONAL;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------- loader */

/* What the loader of one file needs at hand. */
struct load {
	struct vg_ruleset *rs;
	yaml_document_t *doc;
	const char *file;
	struct vg_rules_error *err;
	size_t walked; /* nodes looked at, bounded */
};

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int fail(struct load *l, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct load *l, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;

	if (l->err) {
		snprintf(l->err->file, sizeof(l->err->file), "%s", l->file);
		l->err->line = line_of(at);
		va_start(ap, fmt);
		vsnprintf(l->err->msg, sizeof(l->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void note(struct vg_ruleset *rs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct vg_ruleset *rs, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;
	char *p;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (rs->notes_len + n + 2 > 64 * 1024) /* bounded: later notes dropped */
		return;
	if (!(p = realloc(rs->notes, rs->notes_len + n + 2)))
		return;
	rs->notes = p;
	memcpy(p + rs->notes_len, line, n);
	p[rs->notes_len + n] = '\n';
	p[rs->notes_len + n + 1] = '\0';
	rs->notes_len += n + 1;
}

static yaml_node_t *node(struct load *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

/* A scalar's text (NUL-terminated by libyaml), or NULL: not a scalar, or
 * with a NUL inside (it would be cut where C reads it). */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* @map's value for @key, or NULL. */
static yaml_node_t *get(struct load *l, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(l, p->key));

		if (k && strcmp(k, key) == 0)
			return node(l, p->value);
	}
	return NULL;
}

/* A string value: a scalar, at most VG_RULES_MAX_STR bytes. */
static int get_str(struct load *l, yaml_node_t *item, const char *key,
		   bool required, const char **ret)
{
	yaml_node_t *v = get(l, item, key);
	const char *s;

	if (!v) {
		if (required)
			return fail(l, item, "item has no mapping for key '%s'", key);
		*ret = NULL;
		return 0;
	}
	if (!(s = scalar(v)))
		return fail(l, v, "'%s' must be a string", key);
	if (strlen(s) > VG_RULES_MAX_STR)
		return fail(l, v, "'%s' is longer than %u bytes", key, VG_RULES_MAX_STR);
	*ret = s;
	return 0;
}

/* YAML 1.1's booleans, as yaml-cpp reads them for Falco. */
static int get_bool(struct load *l, yaml_node_t *item, const char *key,
		    bool *ret, bool *ret_given)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off", "Off", "OFF", "n", "N" };
	yaml_node_t *v = get(l, item, key);
	const char *s;

	if (ret_given)
		*ret_given = v != NULL;
	if (!v)
		return 0;
	if (!(s = scalar(v)))
		return fail(l, v, "'%s' must be true or false", key);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return fail(l, v, "'%s' must be true or false, not '%s'", key, s);
}

/* A sequence of strings (or a null: none) into a new vector. */
static int get_strv(struct load *l, yaml_node_t *v, const char *key, size_t max,
		    char ***ret, size_t *ret_n)
{
	char **out;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!v || (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
		   v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(l, v, "'%s' must be a list of strings", key);
	size_t total = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);

	if (total > max)
		return fail(l, v, "'%s' has more than %zu items", key, max);
	if (!(out = calloc(total + 1, sizeof(*out))))
		return -ENOMEM;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(l, *it);
		const char *s = scalar(e);

		if (!s || strlen(s) > VG_RULES_MAX_STR) {
			free_strv(out, n);
			return fail(l, e ? e : v, "'%s' must be a list of strings", key);
		}
		if (!(out[n++] = strdup(s))) {
			free_strv(out, n);
			return -ENOMEM;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static struct list *find_list(struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_lists; i++)
		if (strcmp(rs->lists[i].name, name) == 0)
			return &rs->lists[i];
	return NULL;
}

static struct macro *find_macro(struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_macros; i++)
		if (strcmp(rs->macros[i].name, name) == 0)
			return &rs->macros[i];
	return NULL;
}

static struct vg_rule *find_rule(struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		if (strcmp(rs->rules[i]->name, name) == 0)
			return rs->rules[i];
	return NULL;
}

static bool too_many(struct vg_ruleset *rs)
{
	return rs->n_lists + rs->n_macros + rs->n_rules >= VG_RULES_MAX_ITEMS;
}

/*
 * override: a mapping of KEY: append|replace. Keys outside @app (for
 * append) or @rep (for replace) are errors. Each key found is a bit:
 * its index in @keys.
 */
static int read_override(struct load *l, yaml_node_t *item, const char *const *keys,
			 unsigned app, unsigned rep, unsigned *ret_app,
			 unsigned *ret_rep)
{
	yaml_node_t *o = get(l, item, "override");

	*ret_app = *ret_rep = 0;
	if (!o)
		return 0;
	if (o->type != YAML_MAPPING_NODE)
		return fail(l, o, "'override' must be a mapping of keys to append or replace");
	for (yaml_node_pair_t *p = o->data.mapping.pairs.start;
	     p < o->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(l, p->key));
		const char *v = scalar(node(l, p->value));
		int i;

		for (i = 0; k && keys[i]; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (!k || !keys[i])
			return fail(l, node(l, p->key), "key '%s' cannot be overridden",
				    k ? k : "?");
		if (v && strcmp(v, "append") == 0) {
			if (!(app & (1u << i)))
				return fail(l, node(l, p->value), "key '%s' cannot be appended to, "
					    "use 'replace' instead", k);
			*ret_app |= 1u << i;
		} else if (v && strcmp(v, "replace") == 0) {
			if (!(rep & (1u << i)))
				return fail(l, node(l, p->value), "key '%s' cannot be replaced", k);
			*ret_rep |= 1u << i;
		} else {
			return fail(l, node(l, p->value), "key '%s': override takes append "
				    "or replace", k);
		}
	}
	return 0;
}

/* Falco's bare string: no blank, comma, parenthesis or quote. */
static bool bare_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (strchr(" \t\r\n,()\"'", *s))
			return false;
	return true;
}

static bool identifier(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int read_list(struct load *l, yaml_node_t *item)
{
	static const char *const keys[] = { "items", NULL };
	struct vg_ruleset *rs = l->rs;
	const char *name;
	char **items;
	size_t n;
	bool append = false;
	unsigned app, rep;
	struct list *prev;
	int r;

	if ((r = get_str(l, item, "list", true, &name)) < 0)
		return r;
	if (!bare_name(name))
		return fail(l, item, "list name '%s' is not a bare string (no blanks, "
			    "commas, parentheses or quotes)", name);
	if ((r = get_bool(l, item, "append", &append, NULL)) < 0 ||
	    (r = read_override(l, item, keys, 1, 1, &app, &rep)) < 0)
		return r;
	if (append && (app | rep))
		return fail(l, item, "list %s: 'append' and 'override' cannot go together",
			    name);
	append |= app & 1;
	if (!get(l, item, "items"))
		return fail(l, item, "list %s: item has no mapping for key 'items'", name);
	if ((r = get_strv(l, get(l, item, "items"), "items", 65536, &items, &n)) < 0)
		return r;
	prev = find_list(rs, name);
	if (append) {
		char **p;

		if (!prev) {
			free_strv(items, n);
			return fail(l, item, "list %s has 'append' but no list by that "
				    "name was defined before", name);
		}
		if (prev->n_items + n > 65536 ||
		    !(p = realloc(prev->items, (prev->n_items + n + 1) * sizeof(*p)))) {
			free_strv(items, n);
			return prev->n_items + n > 65536
				       ? fail(l, item, "list %s: more than 65536 items", name)
				       : -ENOMEM;
		}
		memcpy(p + prev->n_items, items, n * sizeof(*p));
		prev->items = p;
		prev->n_items += n;
		free(items);
		prev->visibility = rs->cur_index++;
		return 0;
	}
	if (prev) {
		free_strv(prev->items, prev->n_items);
		prev->items = items;
		prev->n_items = n;
		prev->visibility = rs->cur_index++;
		return 0;
	}
	if (too_many(rs)) {
		free_strv(items, n);
		return fail(l, item, "more than %d lists, macros and rules", VG_RULES_MAX_ITEMS);
	}
	struct list *p = realloc(rs->lists, (rs->n_lists + 1) * sizeof(*p));

	if (!p) {
		free_strv(items, n);
		return -ENOMEM;
	}
	rs->lists = p;
	p = &rs->lists[rs->n_lists];
	memset(p, 0, sizeof(*p));
	if (!(p->name = strdup(name))) {
		free_strv(items, n);
		return -ENOMEM;
	}
	p->items = items;
	p->n_items = n;
	p->index = p->visibility = rs->cur_index++;
	rs->n_lists++;
	return 0;
}

static int read_macro(struct load *l, yaml_node_t *item)
{
	static const char *const keys[] = { "condition", NULL };
	struct vg_ruleset *rs = l->rs;
	const char *name, *cond;
	bool append = false;
	unsigned app, rep;
	struct macro *prev;
	int r;

	if ((r = get_str(l, item, "macro", true, &name)) < 0)
		return r;
	if (!identifier(name))
		return fail(l, item, "macro name '%s' is not an identifier (a letter, "
			    "then letters, digits and '_')", name);
	if ((r = get_str(l, item, "condition", true, &cond)) < 0 ||
	    (r = get_bool(l, item, "append", &append, NULL)) < 0 ||
	    (r = read_override(l, item, keys, 1, 1, &app, &rep)) < 0)
		return r;
	if (append && (app | rep))
		return fail(l, item, "macro %s: 'append' and 'override' cannot go together",
			    name);
	append |= app & 1;
	prev = find_macro(rs, name);
	if (append) {
		char *c;

		if (!prev)
			return fail(l, item, "macro %s has 'append' but no macro by that "
				    "name was defined before", name);
		if (strlen(prev->cond) + strlen(cond) + 1 > VG_RULES_MAX_STR)
			return fail(l, item, "macro %s: its condition grows past %u bytes",
				    name, VG_RULES_MAX_STR);
		if (!(c = xstrdup_printf("%s %s", prev->cond, cond)))
			return -ENOMEM;
		free(prev->cond);
		prev->cond = c;
		prev->visibility = rs->cur_index++;
		return 0;
	}
	char *c = strdup(cond), *f = strdup(l->file);

	if (!c || !f) {
		free(c);
		free(f);
		return -ENOMEM;
	}
	if (prev) {
		free(prev->cond);
		free(prev->file);
		prev->cond = c;
		prev->file = f;
		prev->line = line_of(item);
		prev->visibility = rs->cur_index++;
		return 0;
	}
	if (too_many(rs)) {
		free(c);
		free(f);
		return fail(l, item, "more than %d lists, macros and rules", VG_RULES_MAX_ITEMS);
	}
	struct macro *p = realloc(rs->macros, (rs->n_macros + 1) * sizeof(*p));

	if (!p) {
		free(c);
		free(f);
		return -ENOMEM;
	}
	rs->macros = p;
	p = &rs->macros[rs->n_macros];
	memset(p, 0, sizeof(*p));
	if (!(p->name = strdup(name))) {
		free(c);
		free(f);
		return -ENOMEM;
	}
	p->cond = c;
	p->file = f;
	p->line = line_of(item);
	p->index = p->visibility = rs->cur_index++;
	rs->n_macros++;
	return 0;
}

/* Falco's comparison operators (libsinsp's parser::supported_operators). */
static const char *const falco_ops[] = {
	"=", "==", "!=", "<=", ">=", "<", ">", "contains", "icontains",
	"bcontains", "glob", "iglob", "bstartswith", "bendswith", "startswith",
	"endswith", "in", "intersects", "pmatch", "exists", "regex", NULL,
};

static bool falco_op(const char *s)
{
	for (size_t i = 0; falco_ops[i]; i++)
		if (strcmp(s, falco_ops[i]) == 0)
			return true;
	return false;
}

static bool list_op(const char *s)
{
	return strcmp(s, "in") == 0 || strcmp(s, "intersects") == 0 ||
	       strcmp(s, "pmatch") == 0;
}

static size_t seq_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE
		       ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
		       : 0;
}

static yaml_node_t *seq_at(struct load *l, const yaml_node_t *n, size_t i)
{
	return node(l, n->data.sequence.items.start[i]);
}

/* A scalar, or a sequence of scalars; *@ret_list says which. */
static bool str_or_strs(struct load *l, yaml_node_t *n, bool *ret_list)
{
	*ret_list = n && n->type == YAML_SEQUENCE_NODE;
	if (!n)
		return false;
	if (!*ret_list)
		return scalar(n) != NULL;
	for (size_t i = 0; i < seq_len(n); i++)
		if (!scalar(seq_at(l, n, i)))
			return false;
	return true;
}

/* Falco's validate_exception_info(), for what the loader can check
 * (whether a field exists is the compiler's, when it is used). */
static int check_exception(struct load *l, yaml_node_t *ex, struct vg_rule_exc *x)
{
	bool fl, cl;
	yaml_node_t *f = x->fields.n, *c = x->comps.n;

	if (!f || !str_or_strs(l, f, &fl))
		return fail(l, ex, "exception %s: 'fields' must be a field or a list of "
			    "fields", x->name);
	if (c && !str_or_strs(l, c, &cl))
		return fail(l, c, "exception %s: 'comps' must be an operator or a list "
			    "of operators", x->name);
	if (fl) {
		if (c && (!cl || seq_len(c) != seq_len(f)))
			return fail(l, c, "exception %s: fields and comps lists must have "
				    "equal length", x->name);
		for (size_t i = 0; c && i < seq_len(c); i++)
			if (!falco_op(scalar(seq_at(l, c, i))))
				return fail(l, seq_at(l, c, i), "exception %s: '%s' is not a "
					    "supported comparison operator", x->name,
					    scalar(seq_at(l, c, i)));
	} else if (c) {
		const char *op = scalar(c);

		if (cl)
			return fail(l, c, "exception %s: fields and comps must both be "
				    "strings", x->name);
		if (!list_op(op))
			return fail(l, c, "exception %s: when fields is a single value, comps "
				    "must be one of (in, pmatch, intersects)", x->name);
	}
	return 0;
}

/* The exceptions of @item; with @update, an existing rule's: ones named
 * as @prev's add their values to them. */
static int read_exceptions(struct load *l, yaml_node_t *item, struct vg_rule *prev,
			   struct vg_rule_exc **ret, size_t *ret_n, bool update)
{
	yaml_node_t *xs = get(l, item, "exceptions");
	struct vg_rule_exc *out = NULL;
	size_t n = 0;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!xs)
		return 0;
	if (xs->type != YAML_SEQUENCE_NODE)
		return fail(l, xs, "'exceptions' must be a list");
	if (seq_len(xs) > 1024)
		return fail(l, xs, "more than 1024 exceptions");
	if (!(out = calloc(seq_len(xs) + 1, sizeof(*out))))
		return -ENOMEM;
	for (size_t i = 0; i < seq_len(xs); i++) {
		yaml_node_t *ex = seq_at(l, xs, i), *v;
		struct vg_rule_exc *x = &out[n], *old = NULL;
		const char *name;

		if (!ex || ex->type != YAML_MAPPING_NODE) {
			r = fail(l, ex ? ex : xs, "an exception must be a mapping");
			goto err;
		}
		if ((r = get_str(l, ex, "name", true, &name)) < 0)
			goto err;
		for (size_t j = 0; update && prev && j < prev->n_exc; j++)
			if (strcmp(prev->exc[j].name, name) == 0)
				old = &prev->exc[j];
		if (!(x->name = strdup(name))) {
			r = -ENOMEM;
			goto err;
		}
		n++;
		x->fields = (struct ynode){ l->doc, get(l, ex, "fields") };
		x->comps = (struct ynode){ l->doc, get(l, ex, "comps") };
		v = get(l, ex, "values");
		if (old && (x->fields.n || x->comps.n)) {
			r = fail(l, ex, "exception %s: can not append exception fields or "
				 "comps to an existing exception, only values", name);
			goto err;
		}
		if (!old && (r = check_exception(l, ex, x)) < 0)
			goto err;
		if (v && !(v->type == YAML_SEQUENCE_NODE ||
			   (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0))) {
			r = fail(l, v, "exception %s: 'values' must be a list", name);
			goto err;
		}
		if (update && !old && !seq_len(v)) {
			r = fail(l, ex, "exception %s: an appended exception must have values",
				 name);
			goto err;
		}
		if (seq_len(v) > 65536) {
			r = fail(l, v, "exception %s: more than 65536 values", name);
			goto err;
		}
		if (seq_len(v) && !(x->values = calloc(seq_len(v), sizeof(*x->values)))) {
			r = -ENOMEM;
			goto err;
		}
		for (size_t j = 0; j < seq_len(v); j++)
			x->values[x->n_values++] = (struct ynode){ l->doc, seq_at(l, v, j) };
	}
	*ret = out;
	*ret_n = n;
	return 0;
err:
	exc_free(out, n);
	return r;
}

/* Tags: a list of strings. */
static int read_tags(struct load *l, yaml_node_t *item, char ***ret, size_t *ret_n)
{
	return get_strv(l, get(l, item, "tags"), "tags", VG_RULES_MAX_TAGS, ret, ret_n);
}

enum { K_CONDITION, K_OUTPUT, K_DESC, K_TAGS, K_EXCEPTIONS, K_PRIORITY, K_ENABLED,
       K_WARN_EVTTYPES, K_SKIP_UNKNOWN };
static const char *const rule_keys[] = {
	"condition", "output", "desc", "tags", "exceptions", "priority", "enabled",
	"warn_evttypes", "skip-if-unknown-filter", NULL,
};
#define RULE_APPENDABLE 0x1fu
#define RULE_REPLACEABLE 0x1ffu

static int replace_str(char **dst, const char *s)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int append_str(struct load *l, yaml_node_t *at, char **dst, const char *s)
{
	char *c;

	if (!*s)
		return 0;
	if (strlen(*dst) + strlen(s) + 1 > VG_RULES_MAX_STR)
		return fail(l, at, "a rule's text grows past %u bytes", VG_RULES_MAX_STR);
	if (!(c = xstrdup_printf("%s %s", *dst, s)))
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int add_tags(struct vg_rule *r, char **tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool have = false;

		for (size_t j = 0; j < r->n_tags && !have; j++)
			have = strcmp(r->tags[j], tags[i]) == 0;
		if (have || r->n_tags >= VG_RULES_MAX_TAGS)
			continue;
		char **p = realloc(r->tags, (r->n_tags + 1) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->tags = p;
		if (!(r->tags[r->n_tags] = strdup(tags[i])))
			return -ENOMEM;
		r->n_tags++;
	}
	return 0;
}

/* Append (@replace false) or replace the keys @keys of @item to @prev. */
static int update_rule(struct load *l, yaml_node_t *item, struct vg_rule *prev,
		       unsigned keys, bool replace)
{
	const char *s;
	int r = 0;

	for (int k = K_CONDITION; k <= K_DESC && !r; k++) {
		char **dst = k == K_CONDITION ? &prev->condition
			     : k == K_OUTPUT  ? &prev->output : &prev->desc;

		if (!(keys & (1u << k)))
			continue;
		if ((r = get_str(l, item, rule_keys[k], true, &s)) < 0)
			return r;
		r = replace ? replace_str(dst, s) : append_str(l, item, dst, s);
	}
	if (r)
		return r;
	if (keys & (1u << K_TAGS)) {
		char **tags;
		size_t n;

		if ((r = read_tags(l, item, &tags, &n)) < 0)
			return r;
		if (replace) {
			free_strv(prev->tags, prev->n_tags);
			prev->tags = NULL;
			prev->n_tags = 0;
		}
		r = add_tags(prev, tags, n);
		free_strv(tags, n);
		if (r)
			return r;
	}
	if (keys & (1u << K_EXCEPTIONS)) {
		struct vg_rule_exc *x;
		size_t n;

		if ((r = read_exceptions(l, item, prev, &x, &n, !replace)) < 0)
			return r;
		if (replace) {
			exc_free(prev->exc, prev->n_exc);
			prev->exc = x;
			prev->n_exc = n;
		} else {
			/* values of ones named as before join them; the others
			 * are new */
			for (size_t i = 0; i < n && !r; i++) {
				struct vg_rule_exc *old = NULL;

				for (size_t j = 0; j < prev->n_exc; j++)
					if (strcmp(prev->exc[j].name, x[i].name) == 0)
						old = &prev->exc[j];
				if (old) {
					struct ynode *v = realloc(old->values,
						(old->n_values + x[i].n_values + 1) * sizeof(*v));

					if (!v) {
						r = -ENOMEM;
						break;
					}
					memcpy(v + old->n_values, x[i].values,
					       x[i].n_values * sizeof(*v));
					old->values = v;
					old->n_values += x[i].n_values;
					continue;
				}
				struct vg_rule_exc *p = realloc(prev->exc,
					(prev->n_exc + 1) * sizeof(*p));

				if (!p) {
					r = -ENOMEM;
					break;
				}
				prev->exc = p;
				prev->exc[prev->n_exc++] = x[i];
				memset(&x[i], 0, sizeof(x[i]));
			}
			exc_free(x, n);
			if (r)
				return r;
		}
	}
	if (keys & (1u << K_PRIORITY)) {
		yaml_node_t *pn = get(l, item, "priority");

		if ((r = get_str(l, item, "priority", true, &s)) < 0)
			return r;
		if (vg_rule_priority_parse(s, &prev->priority) < 0)
			return fail(l, pn, "invalid priority '%s'", s);
	}
	if ((keys & (1u << K_ENABLED)) &&
	    (r = get_bool(l, item, "enabled", &prev->enabled, NULL)) < 0)
		return r;
	return 0;
}

static int read_rule(struct load *l, yaml_node_t *item)
{
	struct vg_ruleset *rs = l->rs;
	const char *name, *s;
	bool append = false, given;
	unsigned app, rep;
	struct vg_rule *prev, *r = NULL;
	int ret;

	if ((ret = get_str(l, item, "rule", true, &name)) < 0)
		return ret;
	if ((ret = get_bool(l, item, "append", &append, NULL)) < 0 ||
	    (ret = read_override(l, item, rule_keys, RULE_APPENDABLE, RULE_REPLACEABLE,
				 &app, &rep)) < 0)
		return ret;
	if (append && (app | rep))
		return fail(l, item, "rule %s: 'append' and 'override' cannot go together",
			    name);
	prev = find_rule(rs, name);
	if (app | rep) {
		unsigned defined = 0;

		for (int k = 0; rule_keys[k]; k++)
			if (get(l, item, rule_keys[k]))
				defined |= 1u << k;
		for (int k = 0; rule_keys[k]; k++)
			if (((app | rep) & (1u << k)) && !(defined & (1u << k)))
				return fail(l, item, "rule %s: an override of '%s' was "
					    "specified but '%s' is not defined", name,
					    rule_keys[k], rule_keys[k]);
		for (int k = 0; rule_keys[k]; k++)
			if ((defined & (1u << k)) && !((app | rep) & (1u << k)))
				return fail(l, get(l, item, rule_keys[k]), "rule %s: unexpected "
					    "key '%s': no corresponding entry under 'override' "
					    "is defined", name, rule_keys[k]);
		if (!prev)
			return fail(l, item, "rule %s has 'override' but no rule by that "
				    "name was defined before", name);
		if (app && (ret = update_rule(l, item, prev, app, false)) < 0)
			return ret;
		if (rep && (ret = update_rule(l, item, prev, rep, true)) < 0)
			return ret;
		rs->cur_index++;
		return 0;
	}
	if (append) {
		unsigned keys = 0;

		if (!prev)
			return fail(l, item, "rule %s has 'append' but no rule by that name "
				    "was defined before", name);
		/* Falco's append: the condition and the exceptions */
		if (get(l, item, "condition"))
			keys |= 1u << K_CONDITION;
		if (get(l, item, "exceptions"))
			keys |= 1u << K_EXCEPTIONS;
		if ((ret = update_rule(l, item, prev, keys, false)) < 0)
			return ret;
		rs->cur_index++;
		return 0;
	}
	if (!get(l, item, "condition") && !get(l, item, "output") &&
	    !get(l, item, "desc") && !get(l, item, "priority")) {
		bool en = true;

		/* only 'enabled': of an earlier rule */
		if ((ret = get_bool(l, item, "enabled", &en, &given)) < 0)
			return ret;
		if (!given)
			return fail(l, item, "rule %s: item has no mapping for key "
				    "'condition'", name);
		if (!prev)
			return fail(l, item, "rule %s has 'enabled' but no rule by that "
				    "name was defined before", name);
		prev->enabled = en;
		return 0;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->enabled = true;
	if (!(r->name = strdup(name)) || !(r->file = strdup(l->file))) {
		ret = -ENOMEM;
		goto err;
	}
	r->line = line_of(item);
	if ((ret = get_str(l, item, "condition", true, &s)) < 0 ||
	    (ret = replace_str(&r->condition, s)) < 0 ||
	    (ret = get_str(l, item, "output", true, &s)) < 0)
		goto err;
	/* trimmed, as Falco does */
	while (*s && isspace((unsigned char)*s))
		s++;
	if (!(r->output = strdup(s))) {
		ret = -ENOMEM;
		goto err;
	}
	for (size_t n = strlen(r->output); n && isspace((unsigned char)r->output[n - 1]); n--)
		r->output[n - 1] = '\0';
	if ((ret = get_str(l, item, "desc", true, &s)) < 0 ||
	    (ret = replace_str(&r->desc, s)) < 0 ||
	    (ret = get_str(l, item, "priority", true, &s)) < 0)
		goto err;
	if (vg_rule_priority_parse(s, &r->priority) < 0) {
		ret = fail(l, get(l, item, "priority"), "rule %s: invalid priority '%s'",
			   name, s);
		goto err;
	}
	if ((ret = get_str(l, item, "source", false, &s)) < 0 ||
	    (ret = replace_str(&r->source, s ? s : "syscall")) < 0 ||
	    (ret = get_bool(l, item, "enabled", &r->enabled, NULL)) < 0 ||
	    (ret = read_tags(l, item, &r->tags, &r->n_tags)) < 0 ||
	    (ret = read_exceptions(l, item, NULL, &r->exc, &r->n_exc, false)) < 0)
		goto err;
	if (prev) {
		/* a definition again: in the earlier one's place */
		if (strcmp(prev->source, r->source) != 0) {
			ret = fail(l, item, "rule %s has been re-defined with a different "
				   "source", name);
			goto err;
		}
		for (size_t i = 0; i < rs->n_rules; i++)
			if (rs->rules[i] == prev) {
				r->index = prev->index;
				rs->rules[i] = r;
				rule_free(prev);
			}
		rs->cur_index++;
		return 0;
	}
	if (too_many(rs)) {
		ret = fail(l, item, "more than %d lists, macros and rules", VG_RULES_MAX_ITEMS);
		goto err;
	}
	struct vg_rule **p = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*p));

	if (!p) {
		ret = -ENOMEM;
		goto err;
	}
	rs->rules = p;
	r->index = rs->cur_index++;
	rs->rules[rs->n_rules++] = r;
	return 0;
err:
	rule_free(r);
	return ret;
}

static int read_item(struct load *l, yaml_node_t *item)
{
	yaml_node_t *v;

	if (item->type != YAML_MAPPING_NODE)
		return fail(l, item, "unexpected element type: each element should be a "
			    "YAML mapping");
	if ((v = get(l, item, "required_engine_version"))) {
		const char *s = scalar(v);

		if (!s)
			return fail(l, v, "required_engine_version must be a version");
		note(l->rs, "%s:%d: required_engine_version %s: noted; vigil implements "
		     "the syscall rules' language as documented in vigil-rules(8)",
		     l->file, line_of(v), s);
		return 0;
	}
	if ((v = get(l, item, "required_plugin_versions"))) {
		note(l->rs, "%s:%d: required_plugin_versions: ignored (vigil loads no "
		     "plugins; rules of plugin sources are skipped)", l->file, line_of(v));
		return 0;
	}
	if (get(l, item, "list"))
		return read_list(l, item);
	if (get(l, item, "macro"))
		return read_macro(l, item);
	if (get(l, item, "rule"))
		return read_rule(l, item);
	note(l->rs, "%s:%d: unknown top level item: ignored", l->file, line_of(item));
	return 0;
}

/*
 * The line where @buf's flow collections ([...], {...}) nest deeper than
 * VG_RULES_MAX_FLOW, or 0. libyaml's scanner takes time quadratic in
 * that depth (a 200 KB file of brackets, half a minute), so it is
 * bounded before libyaml sees the text. Quoted scalars and comments are
 * skipped; a quote counts only where a token can start.
 */
static int flow_too_deep(const char *buf, size_t len)
{
	int depth = 0, line = 1;
	char q = 0, prev = '\n';

	for (size_t i = 0; i < len; prev = buf[i], i++) {
		char c = buf[i];

		if (c == '\n')
			line++;
		if (q == '#') {
			if (c == '\n')
				q = 0;
			continue;
		}
		if (q == '\'') {
			if (c == '\'' && i + 1 < len && buf[i + 1] == '\'')
				i++;
			else if (c == '\'')
				q = 0;
			continue;
		}
		if (q == '"') {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				q = 0;
			continue;
		}
		bool token_start = strchr(" \t\r\n[{,:-", prev) != NULL;

		if ((c == '\'' || c == '"') && token_start)
			q = c;
		else if (c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'))
			q = '#';
		else if ((c == '[' || c == '{') && ++depth > VG_RULES_MAX_FLOW)
			return line;
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return 0;
}

int vg_ruleset_load_buf(struct vg_ruleset *rs, const char *name, const char *buf,
			size_t len, struct vg_rules_error *err)
{
	struct load l = { .rs = rs, .file = name, .err = err };
	yaml_parser_t parser;
	int r = 0;

	if (len > VG_RULES_MAX_FILE)
		return fail(&l, NULL, "larger than %u bytes", VG_RULES_MAX_FILE);
	int deep = flow_too_deep(buf, len);

	if (deep) {
		r = fail(&l, NULL, "YAML: [ and { nested deeper than %d", VG_RULES_MAX_FLOW);
		if (err)
			err->line = deep;
		return r;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_document_t *doc = calloc(1, sizeof(*doc)), **docs;
		yaml_node_t *root;

		if (!doc) {
			r = -ENOMEM;
			break;
		}
		if (!yaml_parser_load(&parser, doc)) {
			free(doc);
			if (err) {
				snprintf(err->file, sizeof(err->file), "%s", name);
				err->line = (int)parser.problem_mark.line + 1;
				snprintf(err->msg, sizeof(err->msg), "YAML: %s%s%s",
					 parser.problem ? parser.problem : "parse error",
					 parser.context ? " " : "",
					 parser.context ? parser.context : "");
			}
			r = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		if (!(root = yaml_document_get_root_node(doc))) {
			yaml_document_delete(doc);
			free(doc);
			break; /* the end */
		}
		if (!(docs = realloc(rs->docs, (rs->n_docs + 1) * sizeof(*docs)))) {
			yaml_document_delete(doc);
			free(doc);
			r = -ENOMEM;
			break;
		}
		rs->docs = docs;
		rs->docs[rs->n_docs++] = doc;
		l.doc = doc;
		if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
			continue; /* an empty document */
		if (root->type != YAML_SEQUENCE_NODE) {
			r = fail(&l, root, "rules content is not a YAML list of items");
			break;
		}
		for (yaml_node_item_t *it = root->data.sequence.items.start;
		     it < root->data.sequence.items.top && !r; it++) {
			yaml_node_t *item = node(&l, *it);

			if (!item || (item->type == YAML_SCALAR_NODE &&
				      item->data.scalar.length == 0 &&
				      item->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
				continue; /* null: Falco skips them */
			r = read_item(&l, item);
		}
		if (r)
			break;
	}
	yaml_parser_delete(&parser);
	if (r == -ENOMEM && err) {
		snprintf(err->file, sizeof(err->file), "%s", name);
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	return r;
}

int vg_ruleset_load_file(struct vg_ruleset *rs, const char *path,
			 struct vg_rules_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool cut = false;
	int r = vg_read_file_at(AT_FDCWD, path, VG_RULES_MAX_FILE, &buf, &len, &cut);

	if (r < 0) {
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		}
		return r;
	}
	if (cut) {
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg), "larger than %u bytes",
				 VG_RULES_MAX_FILE);
		}
		return -EINVAL;
	}
	return vg_ruleset_load_buf(rs, path, buf, len, err);
}

/* ----------------------------------------------------------- compiler */

/* Falco's quote_item(): an item with a blank, not quoted already, is
 * double-quoted. */
static void add_quoted(struct sb *b, const char *s)
{
	if (strchr(s, ' ') && s[0] != '"' && s[0] != '\'') {
		sb_add(b, "\"", 1);
		sb_str(b, s);
		sb_add(b, "\"", 1);
	} else {
		sb_str(b, s);
	}
}

/* The exceptions of @r as Falco's build_rule_exception_infos() writes
 * them: "(COND) and not (...)" per exception with values. Returns 0, or
 * -EINVAL with *@why. */
static int add_exceptions(const struct vg_rule *r, struct sb *b, char **why)
{
	sb_add(b, "(", 1);
	sb_str(b, r->condition);
	sb_add(b, ")", 1);
	for (size_t i = 0; i < r->n_exc; i++) {
		const struct vg_rule_exc *x = &r->exc[i];
		yaml_node_t *f = x->fields.n, *c = x->comps.n;
		struct load l = { .doc = x->fields.doc };
		struct sb ic = { .max = VG_RULES_MAX_EXPANDED };

		if (!x->n_values)
			continue;
		if (f->type != YAML_SEQUENCE_NODE) {
			const char *op = c ? scalar(c) : "in";

			for (size_t j = 0; j < x->n_values; j++) {
				const char *v = scalar(x->values[j].n);

				if (!v) {
					free(ic.p);
					*why = xstrdup_printf("exception %s: expected values "
							      "array to contain a list of strings",
							      x->name);
					return -EINVAL;
				}
				if (!j) {
					sb_add(&ic, "(", 1);
					sb_str(&ic, scalar(f));
					sb_add(&ic, " ", 1);
					sb_str(&ic, op);
					sb_add(&ic, " (", 2);
				} else {
					sb_add(&ic, ", ", 2);
				}
				add_quoted(&ic, v);
			}
			sb_add(&ic, "))", 2);
		} else {
			size_t nf = seq_len(f);

			sb_add(&ic, "(", 1);
			for (size_t j = 0; j < x->n_values; j++) {
				yaml_node_t *vals = x->values[j].n;
				struct load vl = { .doc = x->values[j].doc };

				if (seq_len(vals) != nf || vals->type != YAML_SEQUENCE_NODE) {
					free(ic.p);
					*why = xstrdup_printf("exception %s: fields and values "
							      "lists must have equal length",
							      x->name);
					return -EINVAL;
				}
				sb_str(&ic, j ? " or (" : "(");
				for (size_t k = 0; k < nf; k++) {
					const char *field = scalar(seq_at(&l, f, k));
					const char *op = c ? scalar(seq_at(&l, c, k)) : "=";
					yaml_node_t *v = seq_at(&vl, vals, k);
					bool is_list;

					if (!str_or_strs(&vl, v, &is_list)) {
						free(ic.p);
						*why = xstrdup_printf("exception %s: a value must be "
								      "a string or a list of strings",
								      x->name);
						return -EINVAL;
					}
					sb_str(&ic, k ? " and " : "");
					sb_add(&ic, " ", 1);
					sb_str(&ic, field);
					sb_add(&ic, " ", 1);
					sb_str(&ic, op);
					sb_add(&ic, " ", 1);
					if (is_list) {
						sb_add(&ic, "(", 1);
						for (size_t m = 0; m < seq_len(v); m++) {
							if (m)
								sb_add(&ic, ", ", 2);
							add_quoted(&ic, scalar(seq_at(&vl, v, m)));
						}
						sb_add(&ic, ")", 1);
					} else if (list_op(op) || strcmp(op, "in") == 0) {
						/* Falco's paren_item() */
						const char *s = scalar(v);

						if (s[0] == '(') {
							sb_str(&ic, s);
						} else {
							sb_add(&ic, "(", 1);
							sb_str(&ic, s);
							sb_add(&ic, ")", 1);
						}
					} else {
						add_quoted(&ic, scalar(v));
					}
				}
				sb_add(&ic, ")", 1);
			}
			sb_add(&ic, ")", 1);
		}
		if (ic.err) {
			free(ic.p);
			*why = strdup("the condition with its exceptions is too long");
			return -EINVAL;
		}
		sb_str(b, " and not ");
		sb_str(b, ic.p);
		free(ic.p);
	}
	return 0;
}

/* A list's items with earlier lists' names replaced by their items
 * (Falco does one level; nested lists are expanded all the way here,
 * each only by lists defined before it, so there is no cycle). */
static int list_expand(struct vg_ruleset *rs, struct list *li)
{
	char **out = NULL;
	size_t n = 0, cap = 0;

	if (li->expanded_done)
		return 0;
	for (size_t i = 0; i < li->n_items; i++) {
		struct list *ref = find_list(rs, li->items[i]);
		char **src = &li->items[i];
		size_t ns = 1;

		if (ref && ref != li && ref->index < li->visibility) {
			int r = list_expand(rs, ref);

			if (r < 0) {
				free_strv(out, n);
				return r;
			}
			src = ref->expanded;
			ns = ref->n_expanded;
		}
		if (n + ns > 65536) {
			free_strv(out, n);
			return -E2BIG;
		}
		if (n + ns > cap) {
			char **p;

			cap = (n + ns) * 2;
			if (!(p = realloc(out, cap * sizeof(*p)))) {
				free_strv(out, n);
				return -ENOMEM;
			}
			out = p;
		}
		for (size_t j = 0; j < ns; j++)
			if (!(out[n++] = strdup(src[j]))) {
				free_strv(out, n);
				return -ENOMEM;
			}
	}
	li->expanded = out;
	li->n_expanded = n;
	li->expanded_done = true;
	return 0;
}

/* Falco's resolve_list(): each occurrence of @li's name between blanks
 * or "(),=" becomes its items, comma-separated (an empty list takes a
 * neighbouring comma with it). Works on *@cnd in place. */
static int resolve_list(char **cnd, const struct list *li)
{
	static const char blanks[] = " \t\n\r";
	static const char delims[] = " \t\n\r(),=";
	size_t nl = strlen(li->name), start;
	char *s = *cnd, *hit;

	hit = strstr(s, li->name);
	while (hit) {
		size_t len = strlen(s), end;

		start = (size_t)(hit - s);
		end = start + nl;
		if ((start == 0 || strchr(delims, s[start - 1])) &&
		    (end >= len || strchr(delims, s[end]))) {
			struct sb b = { .max = VG_RULES_MAX_EXPANDED };
			struct sb sub = { .max = VG_RULES_MAX_EXPANDED };
			size_t sublen;

			while (start > 0 && strchr(blanks, s[start - 1]))
				start--;
			while (end < len && s[end] && strchr(blanks, s[end]))
				end++;
			for (size_t i = 0; i < li->n_expanded; i++) {
				if (i)
					sb_add(&sub, ", ", 2);
				add_quoted(&sub, li->expanded[i]);
			}
			sublen = sub.len;
			if (!sublen) {
				if (start > 0 && s[start - 1] == ',')
					start--;
				else if (end < len && s[end] == ',')
					end++;
			}
			if (start > 0) {
				sb_add(&b, s, start);
				sb_add(&b, " ", 1);
			}
			if (sub.p)
				sb_add(&b, sub.p, sub.len);
			sb_add(&b, " ", 1);
			if (end <= len)
				sb_str(&b, s + end);
			free(sub.p);
			if (b.err || sub.err) {
				int e = b.err ? b.err : sub.err;

				free(b.p);
				return e;
			}
			free(s);
			*cnd = s = b.p;
			start += sublen + 1;
		}
		hit = start + 1 < strlen(s) ? strstr(s + start + 1, li->name) : NULL;
	}
	return 0;
}

/* A token of a condition, for finding macro references. */
enum tok { T_END, T_LP, T_RP, T_COMMA, T_STR, T_OP, T_WORD };

struct lexer {
	const char *s;
	size_t i;
	size_t at, len; /* the last token */
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next token; a word in @value mode runs to a blank or "(),". */
static enum tok lex(struct lexer *x, bool value)
{
	const char *s = x->s;
	size_t i = x->i;

	while (s[i] && blank(s[i]))
		i++;
	x->at = i;
	if (!s[i]) {
		x->len = 0;
		x->i = i;
		return T_END;
	}
	enum tok t;

	if (s[i] == '(' || s[i] == ')' || s[i] == ',') {
		t = s[i] == '(' ? T_LP : s[i] == ')' ? T_RP : T_COMMA;
		i++;
	} else if (s[i] == '"' || s[i] == '\'') {
		char q = s[i++];

		while (s[i] && s[i] != q)
			i += s[i] == '\\' && s[i + 1] ? 2 : 1;
		if (s[i])
			i++;
		t = T_STR;
	} else if (!value && strchr("=<>!", s[i])) {
		i++;
		if (s[i] == '=')
			i++;
		t = T_OP;
	} else {
		while (s[i] && !blank(s[i]) && !strchr("(),", s[i]) &&
		       (value || !strchr("=<>!", s[i]))) {
			if (s[i] == '[') {
				while (s[i] && s[i] != ']')
					i++;
				if (!s[i])
					break;
			}
			i++;
		}
		t = T_WORD;
	}
	x->len = i - x->at;
	x->i = i;
	return t;
}

static bool tok_is(const struct lexer *x, const char *w)
{
	return x->len == strlen(w) && strncmp(x->s + x->at, w, x->len) == 0;
}

static bool tok_is_op_word(const struct lexer *x)
{
	for (size_t i = 0; falco_ops[i]; i++)
		if (isalpha((unsigned char)falco_ops[i][0]) && tok_is(x, falco_ops[i]))
			return true;
	return false;
}

static int macro_expand(struct vg_ruleset *rs, struct macro *m, int depth);

/*
 * @cnd with each macro reference (an identifier where a condition is
 * expected, not followed by an operator) replaced by "(its condition)".
 * Macros visible: those whose index is below @visibility (not @self).
 * Returns 0 with *@ret, or -EINVAL with *@why.
 */
static int resolve_macros(struct vg_ruleset *rs, const char *cnd, size_t visibility,
			  const struct macro *self, int depth, char **ret, char **why)
{
	struct lexer x = { .s = cnd };
	struct sb b = { .max = VG_RULES_MAX_EXPANDED };
	size_t copied = 0;
	enum { EXPR, OP, LISTOPEN, LIST, VALUE, AFTER } st = EXPR;
	int parens = 0;

	for (;;) {
		enum tok t = lex(&x, st == VALUE || st == LIST);

		if (t == T_END)
			break;
		switch (st) {
		case EXPR:
			if (t == T_LP) {
				parens++;
				break;
			}
			if (t != T_WORD) {
				st = AFTER;
				break;
			}
			if (tok_is(&x, "not"))
				break;
			{
				struct lexer peek = x;
				enum tok nt = lex(&peek, false);
				char name[256];
				struct macro *m;

				if (nt == T_OP || (nt == T_WORD && tok_is_op_word(&peek))) {
					st = OP;
					break;
				}
				st = AFTER;
				if (x.len >= sizeof(name)) {
					*why = xstrdup_printf("undefined macro '%.*s' used in filter",
							      (int)x.len, cnd + x.at);
					free(b.p);
					return -EINVAL;
				}
				memcpy(name, cnd + x.at, x.len);
				name[x.len] = '\0';
				m = find_macro(rs, name);
				if (!m || m == self || m->index >= visibility) {
					*why = xstrdup_printf("undefined macro '%s' used in filter",
							      name);
					free(b.p);
					return -EINVAL;
				}
				int r = macro_expand(rs, m, depth + 1);

				if (r < 0) {
					*why = xstrdup_printf("macro %s: %s", name,
							      m->why ? m->why
							      : r == -ELOOP ? "it refers back to itself"
							      : r == -E2BIG ? "macros nested too deep"
							      : strerror(-r));
					free(b.p);
					return -EINVAL;
				}
				sb_add(&b, cnd + copied, x.at - copied);
				sb_add(&b, "(", 1);
				sb_str(&b, m->expanded);
				sb_add(&b, ")", 1);
				copied = x.at + x.len;
			}
			break;
		case OP:
			if (tok_is(&x, "exists"))
				st = AFTER;
			else if (t == T_WORD && (tok_is(&x, "in") || tok_is(&x, "intersects") ||
						 tok_is(&x, "pmatch")))
				st = LISTOPEN;
			else
				st = VALUE;
			break;
		case LISTOPEN:
			st = t == T_LP ? LIST : AFTER;
			break;
		case LIST:
			if (t == T_RP)
				st = AFTER;
			break;
		case VALUE:
			if (t == T_LP) {
				/* a value in parentheses: to its end */
				while ((t = lex(&x, true)) != T_END && t != T_RP)
					;
			}
			st = AFTER;
			break;
		case AFTER:
			if (t == T_WORD && (tok_is(&x, "and") || tok_is(&x, "or")))
				st = EXPR;
			else if (t == T_RP && parens > 0)
				parens--;
			break;
		}
	}
	sb_str(&b, cnd + copied);
	if (b.err) {
		*why = strdup(b.err == -E2BIG ? "the condition, its macros and lists "
					      "resolved, is too long" : "out of memory");
		free(b.p);
		return -EINVAL;
	}
	*ret = b.p ? b.p : strdup("");
	return *ret ? 0 : -ENOMEM;
}

/* All lists of @rs resolved in @*cnd, in their order (Falco's
 * parse_condition()). */
static int resolve_lists(struct vg_ruleset *rs, char **cnd)
{
	for (size_t i = 0; i < rs->n_lists; i++) {
		int r = list_expand(rs, &rs->lists[i]);

		if (r == 0)
			r = resolve_list(cnd, &rs->lists[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int macro_expand(struct vg_ruleset *rs, struct macro *m, int depth)
{
	char *c;
	int r;

	if (m->state == MS_DONE)
		return 0;
	if (m->state == MS_FAILED)
		return -EINVAL;
	if (m->state == MS_BUSY)
		return -ELOOP; /* the frame expanding it says why */
	if (depth > 64)
		return -E2BIG;
	m->state = MS_BUSY;
	if (!(c = strdup(m->cond)))
		return -ENOMEM;
	if ((r = resolve_lists(rs, &c)) < 0) {
		free(c);
		m->state = MS_FAILED;
		m->why = strdup(r == -E2BIG ? "too long with its lists resolved"
					    : "out of memory");
		return -EINVAL;
	}
	r = resolve_macros(rs, c, m->visibility, m, depth, &m->expanded, &m->why);
	free(c);
	m->state = r < 0 ? MS_FAILED : MS_DONE;
	return r < 0 ? -EINVAL : 0;
}

/* vigil's field for one output reference (@name, @len bytes), with its
 * key or [argument]; -1 when vigil has none. Resolved as the filter
 * compiler resolves a field. */
static int output_field_lookup(const char *name, size_t len, size_t *ret_key_off,
			       size_t *ret_key_len)
{
	struct vg_filter_error fe;
	int id = -1;

	*ret_key_off = *ret_key_len = 0;
	if (vg_filter_field_lookup(name, len, &id, ret_key_off, ret_key_len, &fe) < 0)
		return -1;
	return id;
}

static bool field_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '/';
}

/* The %fields of @r's output, as Falco's formatter finds them: %NAME,
 * with an [argument] after it, or %(NAME). */
static int parse_output(struct vg_rule *r)
{
	const char *o = r->output;
	struct sb lacks = { .max = 4096 };

	for (size_t i = 0; o[i]; i++) {
		size_t start = i, ns, ne, end;
		struct vg_rule_field *f;

		if (o[i] != '%')
			continue;
		if (o[i + 1] == '(') {
			const char *close = strchr(o + i + 2, ')');

			if (!close)
				continue;
			ns = i + 2;
			ne = (size_t)(close - o);
			end = ne + 1;
		} else {
			ns = i + 1;
			ne = ns;
			while (o[ne] && (field_char(o[ne]) || o[ne] == '[')) {
				if (o[ne] == '[') {
					const char *close = strchr(o + ne, ']');

					if (!close)
						break;
					ne = (size_t)(close - o) + 1;
					break;
				}
				ne++;
			}
			/* a sentence's full stop or a dash after the name */
			while (ne > ns && (o[ne - 1] == '.' || o[ne - 1] == '-'))
				ne--;
			end = ne;
		}
		if (ne == ns)
			continue;
		if (r->n_fields >= VG_RULES_MAX_FIELDS)
			break;
		f = realloc(r->fields, (r->n_fields + 1) * sizeof(*f));
		if (!f) {
			free(lacks.p);
			return -ENOMEM;
		}
		r->fields = f;
		f = &r->fields[r->n_fields];
		memset(f, 0, sizeof(*f));
		if (!(f->name = strndup(o + ns, ne - ns))) {
			free(lacks.p);
			return -ENOMEM;
		}
		r->n_fields++;
		f->at = start;
		f->len = end - start;
		size_t koff, klen;

		f->id = output_field_lookup(f->name, ne - ns, &koff, &klen);
		if (f->id >= 0 && klen) {
			/* its own copy: the getter takes a NUL-terminated key */
			if (!(f->key = strndup(f->name + koff, klen))) {
				free(lacks.p);
				return -ENOMEM;
			}
			f->key_len = klen;
		}
		if (f->id < 0) {
			sb_str(&lacks, lacks.len ? ", " : "");
			sb_str(&lacks, f->name);
		}
		i = end - 1;
	}
	if (lacks.len) {
		r->output_note = xstrdup_printf("output fields vigil lacks print <NA>: %s%s",
						lacks.p, lacks.err ? "..." : "");
		free(lacks.p);
		if (!r->output_note)
			return -ENOMEM;
	}
	return 0;
}

/* A short excerpt of @s around byte @col (1-based), for a reason. */
static void excerpt(const char *s, int col, char *buf, size_t bufsz)
{
	size_t n = strlen(s), at = col > 0 ? (size_t)col - 1 : 0;
	size_t from = at > 20 ? at - 20 : 0;

	if (at > n)
		at = n;
	snprintf(buf, bufsz, "%s%.60s%s", from ? "..." : "", s + from,
		 n - from > 60 ? "..." : "");
	/* one line: the condition's own line breaks are blanks here */
	for (char *c = buf; *c; c++)
		if (*c == '\n' || *c == '\t' || *c == '\r')
			*c = ' ';
}

static int compile_rule(struct vg_ruleset *rs, struct vg_rule *r)
{
	struct sb b = { .max = VG_RULES_MAX_EXPANDED };
	struct vg_filter_error fe = { 0 };
	char *cnd, *why = NULL, ex[128];
	int ret;

	rule_compiled_release(r);
	if ((ret = parse_output(r)) < 0)
		return ret;
	if (strcmp(r->source, "syscall") != 0) {
		r->status = VG_RULE_SKIPPED;
		r->why = xstrdup_printf("source %s: vigil evaluates syscall rules only",
					r->source);
		return r->why ? 0 : -ENOMEM;
	}
	r->status = VG_RULE_REFUSED;
	if (add_exceptions(r, &b, &why) < 0) {
		free(b.p);
		r->why = why;
		return why ? 0 : -ENOMEM;
	}
	if (!(cnd = sb_take(&b, &ret))) {
		r->why = strdup("the condition with its exceptions is too long");
		return ret == -ENOMEM || !r->why ? -ENOMEM : 0;
	}
	if ((ret = resolve_lists(rs, &cnd)) < 0) {
		free(cnd);
		if (ret == -ENOMEM)
			return ret;
		r->why = strdup("the condition is too long with its lists resolved");
		return r->why ? 0 : -ENOMEM;
	}
	ret = resolve_macros(rs, cnd, SIZE_MAX, NULL, 0, &r->expanded, &why);
	free(cnd);
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		r->why = why;
		return why ? 0 : -ENOMEM;
	}
	ret = vg_filter_compile(r->expanded, &r->filter, &fe);
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		excerpt(r->expanded, fe.column, ex, sizeof(ex));
		r->why = xstrdup_printf("%s (at: %s)", fe.msg, ex);
		return r->why ? 0 : -ENOMEM;
	}
	r->type_mask = vg_filter_type_mask(r->filter, vg_event_type_bits, NULL);
	r->status = VG_RULE_ACCEPTED;
	return 0;
}

int vg_ruleset_compile(struct vg_ruleset *rs)
{
	int accepted = 0, r;

	for (size_t i = 0; i < rs->n_lists; i++) {
		free_strv(rs->lists[i].expanded, rs->lists[i].n_expanded);
		rs->lists[i].expanded = NULL;
		rs->lists[i].n_expanded = 0;
		rs->lists[i].expanded_done = false;
	}
	for (size_t i = 0; i < rs->n_macros; i++)
		macro_compiled_release(&rs->macros[i]);
	rs->type_mask = 0;
	for (size_t i = 0; i < rs->n_rules; i++) {
		struct vg_rule *rule = rs->rules[i];

		if ((r = compile_rule(rs, rule)) < 0)
			return r;
		if (rule->status != VG_RULE_ACCEPTED)
			continue;
		accepted++;
		if (rule->enabled)
			rs->type_mask |= rule->type_mask;
	}
	return accepted;
}

/* --------------------------------------------------------- evaluation */

size_t vg_ruleset_match(const struct vg_ruleset *rs, uint64_t type_bit,
			vg_filter_get_fn getf, void *get_ctx, bool first,
			void (*fn)(const struct vg_rule *r, void *arg), void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct vg_rule *r = rs->rules[i];

		if (r->status != VG_RULE_ACCEPTED || !r->enabled ||
		    !(r->type_mask & type_bit) || !vg_filter_match(r->filter, getf, get_ctx))
			continue;
		n++;
		if (fn)
			fn(r, arg);
		if (first)
			break;
	}
	return n;
}

int vg_rule_field_value(const struct vg_rule_field *f, vg_filter_get_fn getf,
			void *get_ctx, struct vg_fval *ret, bool *ret_num)
{
	struct vg_fval v;

	memset(&v, 0, sizeof(v));
	if (f->id < 0)
		return 0;
	*ret_num = vg_filter_field_type(f->id) == VG_FILTER_NUM;
	if (getf(get_ctx, f->id, f->key, f->key_len, &v) != 1)
		return 0;
	if (!*ret_num && !v.s)
		return 0;
	*ret = v;
	return 1;
}

char *vg_rule_format_output(const struct vg_rule *r, vg_filter_get_fn getf,
			    void *get_ctx)
{
	struct sb b = { .max = VG_RULES_MAX_STR * 4 };
	size_t at = 0;

	for (size_t i = 0; i < r->n_fields; i++) {
		const struct vg_rule_field *f = &r->fields[i];
		struct vg_fval v;
		bool num;
		char nb[32];

		sb_add(&b, r->output + at, f->at - at);
		if (!vg_rule_field_value(f, getf, get_ctx, &v, &num)) {
			sb_str(&b, "<NA>");
		} else if (num) {
			snprintf(nb, sizeof(nb), "%lld", (long long)v.n);
			sb_str(&b, nb);
		} else {
			sb_add(&b, v.s, v.len);
		}
		at = f->at + f->len;
	}
	sb_str(&b, r->output + at);
	if (b.err == -E2BIG) {
		b.err = 0; /* cut, not lost */
		return b.p;
	}
	return sb_take(&b, NULL);
}
