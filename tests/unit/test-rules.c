/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules engine: Falco's rule files loaded, resolved and evaluated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "rules/rules.h"

/* A ruleset of @yaml (one file, "t.yaml"), compiled. */
static struct vg_ruleset *load(const char *yaml)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_rules_error e = { 0 };
	int r;

	assert_non_null(rs);
	r = vg_ruleset_load_buf(rs, "t.yaml", yaml, strlen(yaml), &e);
	if (r < 0)
		fail_msg("load: %s:%d: %s", e.file, e.line, e.msg);
	assert_true(vg_ruleset_compile(rs) >= 0);
	return rs;
}

/* The error loading @yaml gives: its line, and a message containing @what. */
static void load_fails(const char *yaml, int line, const char *what)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_rules_error e = { 0 };

	assert_int_equal(vg_ruleset_load_buf(rs, "t.yaml", yaml, strlen(yaml), &e), -EINVAL);
	if (!strstr(e.msg, what) || e.line != line)
		fail_msg("want line %d '%s', got %s:%d: %s", line, what, e.file, e.line, e.msg);
	assert_string_equal(e.file, "t.yaml");
	vg_ruleset_free(rs);
}

static const struct vg_rule *rule(struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < vg_ruleset_count(rs); i++)
		if (strcmp(vg_ruleset_rule(rs, i)->name, name) == 0)
			return vg_ruleset_rule(rs, i);
	fail_msg("no rule %s", name);
	return NULL;
}

#define RULE(name, cond) \
	"- rule: " name "\n  desc: d\n  condition: " cond "\n  output: o\n  priority: info\n"

static void test_lists_macros(void **state)
{
	(void)state;
	struct vg_ruleset *rs = load(
		"- list: a\n  items: [sh, bash]\n"
		"- list: b\n  items: [a, 'my shell', zsh]\n"
		"- list: empty\n  items: []\n"
		"- macro: m1\n  condition: proc.name in (b)\n"
		"- macro: m2\n  condition: m1 and evt.type = execve\n"
		RULE("r", "m2 or proc.name in (empty, dash)")
		RULE("undef", "nosuch and proc.name = x"));
	const struct vg_rule *r = rule(rs, "r");

	/* lists in lists; a quoted item with a blank; an empty list takes
	 * its comma; macros in parentheses */
	assert_string_equal(r->expanded,
			    "(((proc.name in ( sh, bash, \"my shell\", zsh )) and "
			    "evt.type = execve) or proc.name in (   dash))");
	assert_int_equal(r->status, VG_RULE_ACCEPTED);
	/* "or" with a side of any type */
	assert_true(r->type_mask == UINT64_MAX);
	r = rule(rs, "undef");
	assert_int_equal(r->status, VG_RULE_REFUSED);
	assert_string_equal(r->why, "undefined macro 'nosuch' used in filter");
	vg_ruleset_free(rs);
}

static void test_macro_visibility(void **state)
{
	(void)state;
	/* a macro sees only the macros before it; a rule sees them all */
	struct vg_ruleset *rs = load(
		"- macro: early\n  condition: late\n"
		"- macro: late\n  condition: proc.name = x\n"
		RULE("r1", "early")
		RULE("r2", "late"));

	assert_int_equal(rule(rs, "r1")->status, VG_RULE_REFUSED);
	assert_string_equal(rule(rs, "r1")->why,
			    "macro early: undefined macro 'late' used in filter");
	assert_int_equal(rule(rs, "r2")->status, VG_RULE_ACCEPTED);
	vg_ruleset_free(rs);
}

static void test_append_override(void **state)
{
	(void)state;
	struct vg_ruleset *rs = load(
		"- list: l\n  items: [a]\n"
		"- list: l\n  items: [b]\n  append: true\n"
		"- list: l\n  items: [c]\n  override:\n    items: append\n"
		"- macro: m\n  condition: proc.name in (l)\n"
		"- macro: m\n  condition: or proc.pid = 1\n  append: true\n"
		"- rule: r\n  desc: d\n  condition: m\n  output: out\n  priority: info\n"
		"  tags: [t1]\n"
		"- rule: r\n  condition: and user.uid = 0\n  append: true\n"
		"- rule: r\n  output: more\n  desc: more\n  tags: [t2]\n  priority: ERROR\n"
		"  override:\n    output: append\n    desc: replace\n    tags: append\n"
		"    priority: replace\n"
		"- rule: r\n  enabled: false\n");
	const struct vg_rule *r = rule(rs, "r");

	assert_string_equal(r->condition, "m and user.uid = 0");
	assert_string_equal(r->expanded, "((proc.name in ( a, b, c ) or proc.pid = 1) "
					 "and user.uid = 0)");
	assert_string_equal(r->output, "out more");
	assert_string_equal(r->desc, "more");
	assert_int_equal(r->n_tags, 2);
	assert_string_equal(r->tags[1], "t2");
	assert_int_equal(r->priority, VG_PRI_ERROR);
	assert_false(r->enabled);
	/* a disabled rule is still compiled (as Falco), not evaluated */
	assert_int_equal(r->status, VG_RULE_ACCEPTED);
	assert_int_equal(vg_ruleset_type_mask(rs), 0);
	vg_ruleset_free(rs);

	/* replaced in place: a definition again */
	rs = load(RULE("x", "proc.name = a") RULE("y", "proc.name = b")
		  RULE("x", "proc.name = c"));
	assert_int_equal(vg_ruleset_count(rs), 2);
	assert_string_equal(vg_ruleset_rule(rs, 0)->condition, "proc.name = c");
	vg_ruleset_free(rs);

	load_fails("- list: l\n  items: [a]\n  append: true\n", 1,
		   "no list by that name was defined before");
	load_fails(RULE("r", "proc.name = a")
		   "- rule: r\n  output: x\n  override:\n    output: append\n    desc: replace\n",
		   6, "an override of 'desc' was specified but 'desc' is not defined");
	load_fails(RULE("r", "proc.name = a")
		   "- rule: r\n  output: x\n  priority: info\n  override:\n    output: append\n",
		   8, "unexpected key 'priority'");
	load_fails(RULE("r", "proc.name = a")
		   "- rule: r\n  priority: info\n  override:\n    priority: append\n",
		   9, "key 'priority' cannot be appended to");
}

static void test_exceptions(void **state)
{
	(void)state;
	struct vg_ruleset *rs = load(
		"- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n"
		"  priority: warning\n"
		"  exceptions:\n"
		"    - name: single\n      fields: proc.name\n"
		"      values: [sh, my shell]\n"
		"    - name: pairs\n      fields: [proc.name, proc.args]\n"
		"      comps: [=, in]\n"
		"      values:\n        - [cat, [a, b c]]\n        - [ls, x]\n"
		"    - name: novalues\n      fields: [proc.name]\n"
		"- rule: r\n  append: true\n  exceptions:\n"
		"    - name: single\n      values: [zsh]\n");
	const struct vg_rule *r = rule(rs, "r");

	/* Falco's build_rule_exception_infos(), to the byte */
	assert_string_equal(r->expanded,
		"(evt.type = execve) and not (proc.name in (sh, \"my shell\", zsh)) "
		"and not (( proc.name = cat and  proc.args in (a, \"b c\")) or "
		"( proc.name = ls and  proc.args in (x)))");
	vg_ruleset_free(rs);

	load_fails("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: info\n"
		   "  exceptions:\n    - name: e\n      fields: proc.name\n      comps: =\n",
		   9, "comps must be one of (in, pmatch, intersects)");
	load_fails("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: info\n"
		   "  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [like]\n",
		   9, "'like' is not a supported comparison operator");
}

static void test_priorities_sources(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int want;
	} t[] = {
		{ "EMERGENCY", VG_PRI_EMERGENCY }, { "alert", VG_PRI_ALERT },
		{ "Critical", VG_PRI_CRITICAL }, { "error", VG_PRI_ERROR },
		{ "WARNING", VG_PRI_WARNING }, { "notice", VG_PRI_NOTICE },
		{ "INFO", VG_PRI_INFORMATIONAL }, { "informational", VG_PRI_INFORMATIONAL },
		{ "debug", VG_PRI_DEBUG }, { "severe", -1 }, { "", -1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int p = -1;

		assert_int_equal(vg_rule_priority_parse(t[i].s, &p), t[i].want < 0 ? -EINVAL : 0);
		if (t[i].want >= 0)
			assert_int_equal(p, t[i].want);
	}
	assert_string_equal(vg_rule_priority_name(VG_PRI_WARNING), "Warning");
	assert_null(vg_rule_priority_name(8));

	struct vg_ruleset *rs = load(
		"- rule: k\n  desc: d\n  condition: ka.verb = create\n  output: o\n"
		"  priority: info\n  source: k8s_audit\n");
	assert_int_equal(rule(rs, "k")->status, VG_RULE_SKIPPED);
	assert_non_null(strstr(rule(rs, "k")->why, "k8s_audit"));
	vg_ruleset_free(rs);
	load_fails("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: loud\n",
		   5, "invalid priority 'loud'");
}

static void test_bad_yaml(void **state)
{
	(void)state;
	char *deep;
	size_t n = 100000;
	struct vg_ruleset *rs0;

	load_fails("- rule: r\n  desc: [unclosed\n", 3, "YAML:");
	load_fails("rule: r\n", 1, "not a YAML list of items");
	/* brackets in quotes and comments are not nesting */
	rs0 = load("# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
		   "- list: l\n  items: ['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[']\n");
	vg_ruleset_free(rs0);
	load_fails("- 42\n", 1, "each element should be a YAML mapping");
	load_fails("- rule: r\n  desc: d\n  condition: [a]\n  output: o\n  priority: info\n",
		   3, "'condition' must be a string");
	load_fails("- rule: r\n  desc: d\n  output: o\n  priority: info\n", 1,
		   "no mapping for key 'condition'");
	load_fails("- macro: 'not an id'\n  condition: x\n", 1, "not an identifier");
	/* deep nesting: an error, never a crash */
	deep = malloc(2 * n + 16);
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	{
		struct vg_ruleset *rs = vg_ruleset_new();
		struct vg_rules_error e = { 0 };

		assert_int_equal(vg_ruleset_load_buf(rs, "t.yaml", deep, 2 * n, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "nested deeper than 64"));
		assert_int_equal(e.line, 1);
		vg_ruleset_free(rs);
	}
	free(deep);
	/* an alias where a string is expected */
	load_fails("- list: a\n  items: &x [a]\n- rule: r\n  desc: *x\n  condition: c\n"
		   "  output: o\n  priority: info\n", 2, "'desc' must be a string");
	/* empty documents and null items are nothing */
	struct vg_ruleset *rs = load("---\n---\n- \n");

	assert_int_equal(vg_ruleset_count(rs), 0);
	vg_ruleset_free(rs);
}

/* ---- output ---------------------------------------------------------- */

static int get(void *ctx, int id, const char *key, size_t key_len, struct vg_fval *ret)
{
	(void)ctx;
	(void)key_len;
	switch (id) {
	case VG_F_PROC_NAME: ret->s = "sh\nx"; ret->len = 4; return 1;
	case VG_F_PROC_PID: ret->n = 42; return 1;
	case VG_F_CONTAINER_LABEL:
		if (key && strcmp(key, "app") == 0) {
			ret->s = "web";
			ret->len = 3;
			return 1;
		}
		return 0;
	case VG_F_EVT_TYPE: ret->s = "exec"; ret->len = 4; return 1;
	}
	return 0;
}

static void test_output(void **state)
{
	(void)state;
	struct vg_ruleset *rs = load(
		"- rule: r\n  desc: d\n  condition: proc.name exists\n  priority: info\n"
		"  output: \"  p=%proc.name pid=%(proc.pid) app=%container.label.app "
		"x=%container.label.other cwd=%proc.cwd. nf=%proc.nosuch 100% t=%evt.type  \"\n");
	const struct vg_rule *r = rule(rs, "r");
	char *out = vg_rule_format_output(r, get, NULL);
	size_t n = 0;

	assert_string_equal(out, "p=sh\nx pid=42 app=web x=<NA> cwd=<NA>. nf=<NA> 100% t=exec");
	free(out);
	assert_int_equal(r->n_fields, 7);
	assert_string_equal(r->fields[2].name, "container.label.app");
	assert_string_equal(r->fields[5].name, "proc.nosuch");
	assert_int_equal(r->fields[5].id, -1);
	assert_non_null(strstr(r->output_note, "proc.nosuch"));
	n = vg_ruleset_match(rs, VG_E_BIT(VG_E_EXEC), get, NULL, true, NULL, NULL);
	assert_int_equal(n, 1);
	vg_ruleset_free(rs);
}

/* ---- Falco's pinned files ---------------------------------------------- */

static void check_file(const char *const *names, size_t n_names, size_t want_total,
		       int want_accepted)
{
	const char *dir = getenv("VIGIL_FIXTURES");
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_rules_error e = { 0 };
	char path[4096];

	assert_non_null(dir);
	for (size_t i = 0; i < n_names; i++) {
		snprintf(path, sizeof(path), "%s/falco/%s", dir, names[i]);
		if (vg_ruleset_load_file(rs, path, &e) < 0)
			fail_msg("%s:%d: %s", e.file, e.line, e.msg);
	}
	int acc = vg_ruleset_compile(rs);

	printf("%s%s: %d of %zu accepted\n", names[0], n_names > 1 ? " and more" : "",
	       acc, vg_ruleset_count(rs));
	assert_int_equal(vg_ruleset_count(rs), want_total);
	assert_int_equal(acc, want_accepted);
	struct vg_rules_tally t;

	vg_ruleset_tally(rs, &t);
	assert_int_equal(t.rules, want_total);
	assert_int_equal(t.disabled + t.accepted + t.refused + t.skipped, want_total);
	/* compile counts the accepted, disabled or not */
	assert_true(t.accepted <= (size_t)want_accepted);
	for (size_t i = 0; i < vg_ruleset_count(rs); i++) {
		const struct vg_rule *r = vg_ruleset_rule(rs, i);

		/* every refusal says what is missing */
		if (r->status != VG_RULE_ACCEPTED)
			assert_true(r->why && strlen(r->why) > 10);
		else
			assert_null(r->why);
	}
	vg_ruleset_free(rs);
}

static void test_falco_files(void **state)
{
	(void)state;
	static const char *const all[] = { "falco_rules.yaml", "falco-incubating_rules.yaml",
					   "falco-sandbox_rules.yaml" };
	/* the figures of the current filter compiler: raise them with it */
	check_file(&all[0], 1, 25, 22);
	check_file(&all[1], 1, 31, 23);
	check_file(&all[2], 1, 37, 29);
	check_file(all, 3, 93, 74);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_macros),
		cmocka_unit_test(test_macro_visibility),
		cmocka_unit_test(test_append_override),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_priorities_sources),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_falco_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
