/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fleet's records read back: times, the filter's fields over the
 * JSON, the text line, the subject tokens, and finding a container in
 * the nodes' lists. (That the text and the filters agree with a local
 * vigil watch, record for record, is test-nats.sh's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

static void test_parse_time(void **state)
{
	static const struct {
		const char *s;
		int r;
		int64_t ns;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2026-12-06T17:39:42.574774Z", 0, 1796578782574774000ll },
		{ "2026-12-06T17:39:42Z", 0, 1796578782000000000ll },
		{ "2026-12-06T18:39:42+01:00", 0, 1796578782000000000ll },
		{ "2026-12-06T16:39:42.5-01:00", 0, 1796578782500000000ll },
		{ "2026-12-06T17:39:42.1234567891Z", 0, 1796578782123456789ll },
		{ "2026-12-06T17:39:42", -EINVAL, 0 },   /* no zone */
		{ "2026-12-06T17:39:42.Z", -EINVAL, 0 },
		{ "2026-12-06T17:39:42Zjunk", -EINVAL, 0 },
		{ "yesterday", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = -1;
		int r = vg_fleet_parse_time(cases[i].s, &ns);
		if (r != cases[i].r || (r == 0 && ns != cases[i].ns))
			fail_msg("'%s': %d %lld, want %d %lld", cases[i].s, r,
				 (long long)ns, cases[i].r, (long long)cases[i].ns);
	}
	assert_int_equal(vg_fleet_parse_time(NULL, &(int64_t){ 0 }), -EINVAL);
}

static const char exec_rec[] =
	"{\"node\":\"n1\",\"sensor\":\"s\",\"seq\":7,"
	"\"evt\":{\"type\":\"exec\",\"time\":\"2026-12-06T17:39:42.579170Z\",\"cpu\":1},"
	"\"proc\":{\"pid\":2368,\"tid\":2368,\"ppid\":2361,\"name\":\"docker\","
	"\"exec_id\":\"b-2368-1\",\"exe\":\"/usr/bin/docker\","
	"\"args\":[\"docker\",\"rm\",\"-f\",\"a b\"],\"args_truncated\":false,\"cwd\":\"/root\"},"
	"\"user\":{\"uid\":0},\"group\":{\"gid\":5},\"cgroup\":{\"id\":42},"
	"\"container\":{\"id\":\"0123456789abcdef\",\"runtime\":\"docker\",\"verified\":true,"
	"\"name\":\"web\",\"image\":\"busybox:1\",\"labels\":{\"team\":\"edge\"}},"
	"\"k8s\":{\"ns\":{\"name\":\"prod\"},\"pod\":{\"name\":\"web-1\",\"uid\":\"u-1\","
	"\"labels\":{\"app\":\"web\"}},\"container\":{\"name\":\"main\"}}}";

static json_t *load(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	assert_non_null(j);
	return j;
}

static bool match(const char *rec, const char *expr)
{
	struct vg_filter *f = NULL;
	struct vg_filter_error fe;
	json_t *j = load(rec);
	struct vg_fleet_rec r = { .j = j };
	if (vg_filter_compile(expr, &f, &fe) < 0)
		fail_msg("'%s': %s", expr, fe.msg);
	bool m = vg_filter_match(f, vg_fleet_get_field, &r);
	vg_filter_free(f);
	vg_fleet_rec_release(&r);
	json_decref(j);
	return m;
}

static void test_fields(void **state)
{
	static const struct {
		const char *expr;
		bool want;
	} cases[] = {
		{ "evt.type = exec", true },
		{ "evt.type = execve", true },
		{ "evt.type = open", false },
		{ "evt.cpu = 1", true },
		{ "evt.time > 1796578782000000000", true },
		{ "evt.time > 1796578783000000000", false },
		{ "proc.pid = 2368 and proc.ppid = 2361 and proc.tid = 2368", true },
		{ "proc.name = docker and proc.exe = /usr/bin/docker", true },
		{ "proc.args = \"rm -f a b\"", true },
		{ "proc.cmdline = \"docker rm -f a b\"", true },
		{ "proc.cwd = /root and proc.exec_id = b-2368-1", true },
		{ "user.uid = 0 and group.gid = 5 and cgroup.id = 42", true },
		{ "container.id startswith 0123 and container.runtime = docker", true },
		{ "container.name = web and container.image glob \"busy*\"", true },
		{ "container.label.team = edge", true },
		{ "container.label.nope exists", false },
		{ "container.verification = runtime", true },
		{ "k8s.ns.name = prod and k8s.pod.name = web-1 and k8s.pod.uid = u-1", true },
		{ "k8s.pod.label.app = web and k8s.container.name = main", true },
		{ "evt.res exists", false },  /* an exec has no result */
		{ "fd.name exists", false },
		{ "fd.sip exists", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (match(exec_rec, cases[i].expr) != cases[i].want)
			fail_msg("'%s' should %smatch", cases[i].expr,
				 cases[i].want ? "" : "not ");
}

/* An unverified claim: no name, image, labels or pod for the filter, as
 * the engine's getter gives none. */
static void test_unverified(void **state)
{
	static const char rec[] =
		"{\"evt\":{\"type\":\"open\"},\"proc\":{\"pid\":1},"
		"\"fd\":{\"name\":\"/etc/passwd\",\"flags_text\":\"O_RDONLY\"},"
		"\"evt_result\":{\"rawres\":-2,\"res\":\"ENOENT\"},"
		"\"container\":{\"id\":\"abc\",\"runtime\":\"docker\",\"verified\":false,"
		"\"verification\":\"failed\",\"name\":\"forged\"},"
		"\"k8s\":{\"ns\":{\"name\":\"x\"},\"pod\":{\"name\":\"y\"}}}";
	(void)state;
	assert_false(match(rec, "container.name exists"));
	assert_false(match(rec, "k8s.pod.name exists"));
	assert_true(match(rec, "container.id = abc"));
	assert_true(match(rec, "container.verification = failed"));
	assert_true(match(rec, "fd.name = /etc/passwd and evt.res = -2"));
}

static const char *text_of(const char *rec, struct vg_printer *p)
{
	json_t *j = load(rec);
	size_t n;
	vg_fleet_render_text(j, p);
	json_decref(j);
	return vg_pr_end_view(p, &n);
}

static void test_text(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	(void)state;
	assert_non_null(p);
	assert_string_equal(text_of(exec_rec, p),
			    "2026-12-06T17:39:42.579170Z exec    node=n1 pid=2368 ppid=2361 "
			    "uid=0 docker container=docker:0123456789ab name=web "
			    "image=busybox:1 pod=prod/web-1 exe=/usr/bin/docker "
			    "args=[docker rm -f \"a b\"]");
	assert_string_equal(text_of("{\"node\":\"n 2\",\"evt\":{\"type\":\"connect\","
				    "\"time\":\"T\"},\"proc\":{\"pid\":1,\"ppid\":0,\"name\":\"c\"},"
				    "\"user\":{\"uid\":3},\"fd\":{\"sip\":\"::1\",\"sport\":80,"
				    "\"cip\":\"::1\",\"cport\":5000},\"evt_result\":{\"rawres\":-111,"
				    "\"res\":\"ECONNREFUSED\"},\"container\":{\"id\":\"host\"}}", p),
			    "T connect node=\"n 2\" pid=1 ppid=0 uid=3 c container=host "
			    "[::1]:80 local=[::1]:5000 = ECONNREFUSED");
	assert_string_equal(text_of("{\"node\":\"n\",\"evt\":{\"type\":\"lost\"},"
				    "\"lost\":{\"total\":5,\"reason\":\"spool full\"}}", p),
			    "- lost    node=n 5 events (spool full)");
	/* a record of no known shape still gives its line's head */
	assert_string_equal(text_of("{}", p), "- ?       node=? pid=? ppid=? uid=? ? container=? ");
	vg_printer_free(p);
}

static void test_subject_token(void **state)
{
	char *t;
	(void)state;
	t = vg_fleet_subject_token("node-1.example.com");
	assert_string_equal(t, "node-1_example_com");
	free(t);
	t = vg_fleet_subject_token("a*b>c d\xc3\xa9");
	assert_string_equal(t, "a_b_c_d__");
	free(t);
	t = vg_fleet_subject_token("");
	assert_string_equal(t, "unknown");
	free(t);
}

static void test_find_container(void **state)
{
	json_t *list = load("[{\"key\":\"n1.aaa111\",\"id\":\"aaa111\",\"name\":\"web\"},"
			    "{\"key\":\"n2.aaa222\",\"id\":\"aaa222\",\"name\":\"db\"},"
			    "{\"key\":\"n3.bbb333\",\"id\":\"bbb333\",\"name\":\"web2\"}]");
	const char *node, *id;
	size_t nl;
	char err[256];
	(void)state;
	assert_int_equal(vg_fleet_find_container(list, "db", &node, &nl, &id, err, sizeof(err)), 0);
	assert_int_equal(nl, 2);
	assert_memory_equal(node, "n2", 2);
	assert_string_equal(id, "aaa222");
	assert_int_equal(vg_fleet_find_container(list, "bbb", &node, &nl, &id, err, sizeof(err)), 0);
	assert_string_equal(id, "bbb333");
	assert_int_equal(vg_fleet_find_container(list, "aaa", &node, &nl, &id, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_int_equal(vg_fleet_find_container(list, "aa", &node, &nl, &id, err, sizeof(err)),
			 -ENOENT); /* a prefix needs 3 characters */
	assert_int_equal(vg_fleet_find_container(list, "nope", &node, &nl, &id, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nope"));
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_unverified),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_subject_token),
		cmocka_unit_test(test_find_container),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
