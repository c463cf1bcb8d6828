/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil doctor's report: built from a probe table the test fills, so the
 * rendering and the verdict are checked without the machine's own
 * facts, and the same facts must come out in text and in JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"

static void fake_kernel(struct vg_probe_env *env, struct vg_report *r)
{
	(void)env;
	vg_row_str(vg_report_row(r, "kernel.release", "release"), NULL, "6.18.0-test");
	vg_row_bool(vg_report_row(r, "kernel.btf", "BTF"), NULL, true);
	vg_row_null(vg_report_row(r, "kernel.lockdown", "lockdown"), NULL);
}

static void fake_programs(struct vg_probe_env *env, struct vg_report *r)
{
	struct vg_row *w;

	(void)env;
	w = vg_report_row(r, "programs.tracepoint", "tracepoint");
	vg_row_bool(w, "loads", true);
	vg_row_bool(w, "attaches", true);
	w = vg_report_row(r, "programs.kprobe", "kprobe");
	vg_row_bool(w, "loads", true);
	vg_row_bool(w, "attaches", false);
	vg_row_str(w, "error", "attach: No such file or directory");
	vg_row_int(vg_report_row(r, "programs.count", "count"), NULL, -42);
}

/* A hostile string: a newline must not start a line of its own in
 * text, and JSON must carry it exactly. */
static void fake_runtime(struct vg_probe_env *env, struct vg_report *r)
{
	struct vg_row *w = vg_report_row(r, "runtimes.docker", "docker");

	(void)env;
	vg_row_str(w, "state", "/var/lib/docker\nverdict: fine");
	vg_row_bool(w, "reachable", false);
}

static void fake_blocker(struct vg_probe_env *env, struct vg_report *r)
{
	(void)env;
	vg_row_bool(vg_report_row(r, "privileges.bpf", "CAP_BPF"), NULL, false);
	vg_report_blocker(r, "missing capabilities: CAP_BPF");
}

static const struct vg_probe ok_table[] = {
	{ "kernel", fake_kernel },
	{ "programs", fake_programs },
	{ "runtimes", fake_runtime },
};

static char *render(const struct vg_report *r, enum vg_output_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(vg_report_print(r, mode, f), 0);
	fclose(f);
	return buf;
}

/* The JSON member at dotted @key. */
static json_t *at(json_t *root, const char *key)
{
	char buf[128], *save = NULL;
	json_t *j = root;

	snprintf(buf, sizeof(buf), "%s", key);
	for (char *t = strtok_r(buf, ".", &save); t && j;
	     t = strtok_r(NULL, ".", &save))
		j = json_object_get(j, t);
	return j;
}

static void check_val(const struct vg_val *v, json_t *j, const char *text,
		      const char *label)
{
	char want[256];

	assert_non_null(j);
	switch (v->type) {
	case VG_VAL_NULL:
		assert_true(json_is_null(j));
		snprintf(want, sizeof(want), "%s", "-");
		break;
	case VG_VAL_BOOL:
		assert_true(json_is_boolean(j));
		assert_int_equal(json_is_true(j), v->b);
		snprintf(want, sizeof(want), "%s", v->b ? "yes" : "no");
		break;
	case VG_VAL_INT:
		assert_true(json_is_integer(j));
		assert_int_equal(json_integer_value(j), v->i);
		snprintf(want, sizeof(want), "%lld", (long long)v->i);
		break;
	case VG_VAL_STR:
		assert_true(json_is_string(j));
		assert_string_equal(json_string_value(j), v->s);
		/* text escapes control characters */
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(v->s, "\n"), v->s);
		break;
	}
	/* the label's line holds the value */
	const char *line = strstr(text, label);

	assert_non_null(line);
	size_t n = strcspn(line, "\n");
	char *l = strndup(line, n);

	if (!strstr(l, want))
		fail_msg("text line '%s' lacks '%s'", l, want);
	if (v->name && !strstr(l, v->name))
		fail_msg("text line '%s' lacks the name '%s'", l, v->name);
	free(l);
}

static void test_same_facts(void **state)
{
	struct vg_report r = { 0 };
	struct vg_probe_env env = { 0 };
	json_error_t err;
	json_t *root;
	char *text, *json;

	(void)state;
	vg_probe_run(ok_table, sizeof(ok_table) / sizeof(ok_table[0]), &env, &r);
	assert_false(r.oom);
	assert_int_equal(r.n, 7);
	text = render(&r, VG_OUTPUT_TEXT);
	json = render(&r, VG_OUTPUT_JSON);
	root = json_loads(json, 0, &err);
	if (!root)
		fail_msg("%s: %s", json, err.text);
	/* one JSON object, one line */
	assert_int_equal(strchr(json, '\n') - json, (long)strlen(json) - 1);
	for (size_t i = 0; i < r.n; i++) {
		const struct vg_row *w = &r.rows[i];

		for (size_t j = 0; j < w->n; j++) {
			json_t *v = at(root, w->key);

			if (w->v[j].name)
				v = json_object_get(v, w->v[j].name);
			check_val(&w->v[j], v, text, w->label);
		}
	}
	/* sections once each, in order */
	assert_non_null(strstr(text, "kernel\n  release"));
	assert_non_null(strstr(text, "\nprograms\n  tracepoint"));
	assert_null(strstr(text, "\nverdict: fine"));
	assert_non_null(strstr(text, "\\nverdict: fine"));
	/* the verdict: nothing blocks */
	assert_true(json_is_true(at(root, "verdict.watch")));
	assert_true(json_is_true(at(root, "verdict.daemon")));
	assert_int_equal(json_array_size(at(root, "verdict.reasons")), 0);
	assert_non_null(strstr(text, "vigil watch and vigil daemon can run here"));
	assert_non_null(vg_report_find(&r, "programs.kprobe"));
	assert_false(vg_row_val(vg_report_find(&r, "programs.kprobe"), "attaches")->b);
	json_decref(root);
	free(text);
	free(json);
	vg_report_release(&r);
}

static void test_blocked(void **state)
{
	static const struct vg_probe table[] = {
		{ "kernel", fake_kernel },
		{ "privileges", fake_blocker },
	};
	struct vg_report r = { 0 };
	struct vg_probe_env env = { 0 };
	json_t *root;
	char *text, *json;

	(void)state;
	vg_probe_run(table, 2, &env, &r);
	text = render(&r, VG_OUTPUT_TEXT);
	json = render(&r, VG_OUTPUT_JSON);
	root = json_loads(json, 0, NULL);
	assert_non_null(root);
	assert_true(json_is_false(at(root, "verdict.watch")));
	assert_string_equal(json_string_value(json_array_get(at(root, "verdict.reasons"), 0)),
			    "missing capabilities: CAP_BPF");
	assert_non_null(strstr(text, "cannot run here:\n  - missing capabilities: CAP_BPF\n"));
	json_decref(root);
	free(text);
	free(json);
	vg_report_release(&r);
}

/* Bounds: rows and values past the limits are refused and said so,
 * never written out of bounds. */
static void test_limits(void **state)
{
	struct vg_report r = { 0 };
	struct vg_row *w;
	char key[32];

	(void)state;
	for (int i = 0; i < VG_REPORT_MAX_ROWS + 5; i++) {
		snprintf(key, sizeof(key), "s.k%d", i);
		w = vg_report_row(&r, key, key);
		vg_row_int(w, NULL, i); /* NULL rows are ignored */
	}
	assert_int_equal(r.n, VG_REPORT_MAX_ROWS);
	assert_true(r.oom);
	w = &r.rows[0];
	for (int i = 0; i < VG_ROW_VALS + 3; i++)
		vg_row_bool(w, "b", true);
	assert_int_equal(w->n, VG_ROW_VALS);
	for (int i = 0; i < VG_REPORT_MAX_BLOCKERS + 2; i++)
		vg_report_blocker(&r, "reason %d", i);
	assert_int_equal(r.n_blockers, VG_REPORT_MAX_BLOCKERS);
	vg_report_release(&r);
	vg_report_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_facts),
		cmocka_unit_test(test_blocked),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
