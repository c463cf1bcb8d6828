/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The language is compiled in here, with four fields of the kinds its
 * table can hold, so that each kind is tested whatever fields the table
 * holds: an optional index and many values (as proc.aname), a required
 * text argument (as container.mount.dest[/proc]), a Falco list field,
 * many numbers (as proc.apid), and the IP fields: networks and
 * addresses of either end (fd.net, fd.ip), the server's network
 * (fd.snet), either end's port (fd.port). Before cmocka.h, whose fail()
 * is a macro.
 */
#define T_ANAME (VG_F_COUNT + 0)
#define T_MOUNT (VG_F_COUNT + 1)
#define T_TYPES (VG_F_COUNT + 2)
#define T_APID (VG_F_COUNT + 3)
#define T_NET (VG_F_COUNT + 4)
#define T_SNET (VG_F_COUNT + 5)
#define T_IP (VG_F_COUNT + 6)
#define T_PORT (VG_F_COUNT + 7)
#define VG_FILTER_TEST_FIELDS						\
	[T_ANAME] = FIELD("test.aname", VG_FILTER_STR,			\
			  FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),		\
	[T_MOUNT] = FIELD("test.mount", VG_FILTER_STR, FD_ARG_REQ),	\
	[T_TYPES] = FIELD("test.types", VG_FILTER_STR, FD_LIST),	\
	[T_APID] = FIELD("test.apid", VG_FILTER_NUM,			\
			 FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),		\
	[T_NET] = FIELD("test.net", VG_FILTER_STR,			\
			FD_IPNET | FD_MULTI | FD_EITHER),		\
	[T_SNET] = FIELD("test.snet", VG_FILTER_STR, FD_IPNET),	\
	[T_IP] = FIELD("test.ip", VG_FILTER_STR,			\
		       FD_IPADDR | FD_MULTI | FD_EITHER),		\
	[T_PORT] = FIELD("test.port", VG_FILTER_NUM, FD_MULTI | FD_EITHER),
#include "../../src/filter/filter.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---- fake events ------------------------------------------------------ */

struct label {
	const char *k, *v;
};

struct fake_ev {
	const char *str[VG_F_COUNT]; /* string fields; NULL: absent */
	int64_t num[VG_F_COUNT];
	uint64_t has_num;            /* bit per number field present */
	const struct label *ctr_labels, *pod_labels; /* end at k == NULL */
};

#define HAS(f) (1ull << (f))

static const struct label e0_ctr_labels[] = {
	{ "com.example.team", "edge" },
	{ "empty", "" },
	{ "under_score", "y" },
	{ NULL, NULL },
};

static const struct label e0_pod_labels[] = {
	{ "app", "web" },
	{ "app.kubernetes.io/name", "web" },
	{ NULL, NULL },
};

static const struct label e2_ctr_labels[] = {
	{ "x", "1" },
	{ NULL, NULL },
};

/* 0: an exec in a container of a pod; 1: an open on the host; 2: a
 * connect in a container outside any pod; 3: an exec with 100000 bytes
 * of 'a' as its arguments and little else (filled in by setup). */
static struct fake_ev evs[4] = {
	{
		.str = {
			[VG_F_EVT_TYPE] = "exec",
			[VG_F_PROC_NAME] = "sh",
			[VG_F_PROC_EXE] = "/bin/sh",
			[VG_F_PROC_ARGS] = "-c \"echo hi\" --privileged",
			[VG_F_PROC_CMDLINE] = "sh -c \"echo hi\" --privileged",
			[VG_F_PROC_CWD] = "/",
			[VG_F_PROC_EXEC_ID] = "cabb7c05ed1b46df-4242-561733",
			[VG_F_CONTAINER_ID] = "3f4e5d6c7b8a",
			[VG_F_CONTAINER_NAME] = "web",
			[VG_F_CONTAINER_RUNTIME] = "docker",
			[VG_F_CONTAINER_IMAGE] = "busybox:1.36",
			[VG_F_CONTAINER_IMAGE_ID] = "sha256:abcdef",
			[VG_F_K8S_NS_NAME] = "prod",
			[VG_F_K8S_POD_NAME] = "web-0",
			[VG_F_K8S_POD_UID] = "1111-2222",
			[VG_F_K8S_CONTAINER_NAME] = "nginx",
		},
		.num = {
			[VG_F_EVT_TIME] = 1000, [VG_F_EVT_CPU] = 3,
			[VG_F_EVT_RES] = 0, [VG_F_PROC_PID] = 4242,
			[VG_F_PROC_TID] = 4242, [VG_F_PROC_PPID] = 1,
			[VG_F_USER_UID] = 0, [VG_F_GROUP_GID] = 0,
			[VG_F_CGROUP_ID] = 2188,
		},
		.has_num = HAS(VG_F_EVT_TIME) | HAS(VG_F_EVT_CPU) |
			   HAS(VG_F_EVT_RES) | HAS(VG_F_PROC_PID) |
			   HAS(VG_F_PROC_TID) | HAS(VG_F_PROC_PPID) |
			   HAS(VG_F_USER_UID) | HAS(VG_F_GROUP_GID) |
			   HAS(VG_F_CGROUP_ID),
		.ctr_labels = e0_ctr_labels,
		.pod_labels = e0_pod_labels,
	},
	{
		.str = {
			[VG_F_EVT_TYPE] = "open",
			[VG_F_PROC_NAME] = "cat",
			[VG_F_PROC_EXE] = "/usr/bin/cat",
			[VG_F_PROC_ARGS] = "/etc/shadow",
			[VG_F_PROC_CMDLINE] = "cat /etc/shadow",
			[VG_F_PROC_CWD] = "/root/a \"b\"\\c",
			[VG_F_FD_NAME] = "/etc/shadow",
		},
		.num = {
			[VG_F_EVT_TIME] = 2000, [VG_F_EVT_CPU] = 0,
			[VG_F_EVT_RES] = -2, [VG_F_PROC_PID] = 77,
			[VG_F_USER_UID] = 1000, [VG_F_GROUP_GID] = 1000,
			[VG_F_CGROUP_ID] = 1,
		},
		.has_num = HAS(VG_F_EVT_TIME) | HAS(VG_F_EVT_CPU) |
			   HAS(VG_F_EVT_RES) | HAS(VG_F_PROC_PID) |
			   HAS(VG_F_USER_UID) | HAS(VG_F_GROUP_GID) |
			   HAS(VG_F_CGROUP_ID),
	},
	{
		.str = {
			[VG_F_EVT_TYPE] = "connect",
			[VG_F_PROC_NAME] = "curl",
			[VG_F_PROC_EXE] = "/usr/bin/curl",
			[VG_F_PROC_ARGS] = "-s https://x",
			[VG_F_FD_SIP] = "10.0.0.2",
			[VG_F_FD_CIP] = "10.0.0.9",
			[VG_F_CONTAINER_ID] = "abcd",
			[VG_F_CONTAINER_NAME] = "caf\xc3\xa9",
			[VG_F_CONTAINER_RUNTIME] = "containerd",
			[VG_F_CONTAINER_IMAGE] = "docker.io/library/curl:8",
		},
		.num = {
			[VG_F_EVT_TIME] = 3000, [VG_F_EVT_RES] = -111,
			[VG_F_USER_UID] = 65534, [VG_F_FD_SPORT] = 43210,
			[VG_F_FD_CPORT] = 443,
		},
		.has_num = HAS(VG_F_EVT_TIME) | HAS(VG_F_EVT_RES) |
			   HAS(VG_F_USER_UID) | HAS(VG_F_FD_SPORT) |
			   HAS(VG_F_FD_CPORT),
		.ctr_labels = e2_ctr_labels,
	},
	{
		.str = { [VG_F_EVT_TYPE] = "exec" },
		.num = { [VG_F_USER_UID] = 0 },
		.has_num = HAS(VG_F_USER_UID),
	},
};

#define LONG_ARGS 100000

/* Values are handed out of a scratch buffer with junk after them and no
 * NUL: the filter must go by the length alone. */
static char *scratch;

static int fake_get(void *ctx, int id, const char *key, size_t key_len,
		    struct vg_fval *ret)
{
	const struct fake_ev *e = ctx;
	const struct label *l = NULL;
	const char *s = NULL;
	size_t n;

	if (id < 0 || id >= VG_F_COUNT)
		fail_msg("field id %d", id);
	if (vg_filter_field_type(id) == VG_FILTER_NUM) {
		if (key || !(e->has_num & HAS(id)))
			return 0;
		ret->n = e->num[id];
		return 1;
	}
	if (id == VG_F_CONTAINER_LABEL)
		l = e->ctr_labels;
	else if (id == VG_F_K8S_POD_LABEL)
		l = e->pod_labels;
	else
		s = e->str[id];
	if (id == VG_F_CONTAINER_LABEL || id == VG_F_K8S_POD_LABEL) {
		assert_non_null(key);
		assert_int_equal(strlen(key), key_len);
		for (; l && l->k; l++)
			if (strlen(l->k) == key_len && memcmp(l->k, key, key_len) == 0)
				s = l->v;
	} else {
		assert_null(key);
		assert_int_equal(key_len, 0);
	}
	if (!s)
		return 0;
	n = strlen(s);
	memcpy(scratch, s, n);
	memcpy(scratch + n, "\xff" "a*", 3);
	ret->s = scratch;
	ret->len = n;
	return 1;
}

static int setup(void **state)
{
	char *args = malloc(LONG_ARGS + 1);

	(void)state;
	assert_non_null(args);
	memset(args, 'a', LONG_ARGS);
	args[LONG_ARGS] = '\0';
	evs[3].str[VG_F_PROC_ARGS] = args;
	scratch = malloc(LONG_ARGS + 8);
	assert_non_null(scratch);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free((char *)evs[3].str[VG_F_PROC_ARGS]);
	free(scratch);
	return 0;
}

/* ---- valid expressions ------------------------------------------------ */

static void check_round_trip(const struct vg_filter *f, const char *text)
{
	struct vg_filter_error err;
	struct vg_filter *g = NULL;
	char a[1024], b[1024];
	int n;

	n = vg_filter_format(f, a, sizeof(a));
	assert_true(n >= 0 && (size_t)n < sizeof(a));
	assert_int_equal(strlen(a), n);
	assert_int_equal(vg_filter_format(f, NULL, 0), n);
	if (vg_filter_compile(a, &g, &err) != 0)
		fail_msg("'%s' formats as '%s', which does not compile: column %d: %s",
			 text, a, err.column, err.msg);
	assert_int_equal(vg_filter_format(g, b, sizeof(b)), n);
	if (strcmp(a, b) != 0)
		fail_msg("'%s': '%s' formats again as '%s'", text, a, b);
	vg_filter_free(g);
}

struct match_case {
	const char *text;
	const char *want; /* per event: '1' passes, '0' does not */
};

static const struct match_case match_cases[] = {
	/* numbers: every operator, negative values, edges of int64 */
	{ "user.uid = 0", "1001" },
	{ "user.uid == 0", "1001" },
	{ "user.uid != 0", "0110" },
	{ "user.uid < 1000", "1001" },
	{ "user.uid <= 1000", "1101" },
	{ "user.uid > 1000", "0010" },
	{ "user.uid >= 1000", "0110" },
	{ "user.uid in (0, 65534)", "1011" },
	{ "user.uid in (5)", "0000" },
	{ "user.uid = 0000", "1001" },
	{ "user.uid = \"0\"", "1001" },
	{ "user.uid<1000", "1001" },
	{ "user.uid>=-1", "1111" },
	{ "evt.res = -2", "0100" },
	{ "evt.res < 0", "0110" },
	{ "evt.res >= -111", "1110" },
	{ "evt.res in (-2, -111)", "0110" },
	{ "evt.time > 1500", "0110" },
	{ "evt.time > -9223372036854775808", "1110" },
	{ "evt.time < 9223372036854775807", "1110" },
	{ "evt.cpu = 3", "1000" },
	{ "cgroup.id = 2188", "1000" },
	{ "group.gid = 1000", "0100" },
	{ "proc.pid = 4242 and proc.tid = 4242 and proc.ppid = 1", "1000" },
	{ "fd.cport = 443", "0010" },
	{ "fd.sport = 43210", "0010" },
	/* an absent field: every comparison is false, != too */
	{ "fd.cport != 443", "0000" },
	{ "fd.cport != 80", "0010" },
	{ "not fd.cport = 443", "1101" },
	{ "fd.sport exists", "0010" },
	{ "proc.name != sh", "0110" },
	{ "not proc.name = sh", "0111" },
	{ "proc.name exists", "1110" },
	/* strings */
	{ "proc.name = sh", "1000" },
	{ "proc.name = \"sh\"", "1000" },
	{ "proc.name in (sh, cat)", "1100" },
	{ "proc.name in (\"sh\")", "1000" },
	{ "proc.name in (\"c d\", curl, 3)", "0010" },
	{ "proc.name != and", "1110" },
	{ "proc.exe startswith /usr/", "0110" },
	{ "proc.exe endswith /sh", "1000" },
	{ "proc.exe endswith \"\"", "1110" },
	{ "proc.exe startswith /usr/bin/curl/", "0000" },
	{ "proc.args contains \"--privileged\"", "1000" },
	{ "proc.args contains \"\"", "1111" },
	{ "proc.args contains aaaa", "0001" },
	{ "proc.cmdline contains \"\\\"echo hi\\\"\"", "1000" },
	{ "proc.cwd = /", "1000" },
	{ "proc.cwd = \"/root/a \\\"b\\\"\\\\c\"", "0100" },
	{ "proc.cwd endswith \\c", "0100" },
	{ "proc.exec_id startswith cabb", "1000" },
	{ "fd.name startswith /etc/", "0100" },
	{ "fd.name = /etc/shadow", "0100" },
	{ "fd.sip = 10.0.0.2 and fd.cip = 10.0.0.9", "0010" },
	{ "container.id exists", "1010" },
	{ "not container.id exists", "0101" },
	{ "container.name = web", "1000" },
	{ "container.name = caf\xc3\xa9", "0010" },
	{ "container.runtime in (docker, containerd)", "1010" },
	{ "container.image glob \"busy*\"", "1000" },
	{ "container.image.id startswith sha256:", "1000" },
	{ "k8s.ns.name = prod and k8s.pod.name = web-0 and k8s.pod.uid = 1111-2222 and k8s.container.name = nginx",
	  "1000" },
	/* labels */
	{ "k8s.pod.label.app = web", "1000" },
	{ "k8s.pod.label.app.kubernetes.io/name = web", "1000" },
	{ "k8s.pod.label.app != web", "0000" },
	{ "k8s.pod.label.app != db", "1000" },
	{ "container.label.com.example.team = edge", "1000" },
	{ "container.label.x exists", "0010" },
	{ "container.label.x in (1, 2)", "0010" },
	{ "container.label.empty = \"\"", "1000" },
	{ "container.label.empty exists", "1000" },
	{ "container.label.missing exists", "0000" },
	{ "not container.label.missing exists", "1111" },
	{ "container.label.under_score = y", "1000" },
	{ "container.label.x=1", "0010" },
	/* evt.type, in Falco's names and vigil's */
	{ "evt.type = execve", "1001" },
	{ "evt.type = execveat", "1001" },
	{ "evt.type = \"exec\"", "1001" },
	{ "evt.type in (execve, open)", "1101" },
	{ "evt.type in (openat, openat2, creat)", "0100" },
	{ "evt.type = connect", "0010" },
	{ "evt.type != exec", "0110" },
	{ "evt.type in (clone, clone3, fork, vfork)", "0000" },
	{ "evt.type in (exit, exit_group, procexit)", "0000" },
	{ "evt.type = accept4 or evt.type = accept", "0000" },
	{ "evt.type in (bind, listen, syscall, tp, lost, container, file)", "0000" },
	{ "evt.type glob \"ex*\"", "1001" },
	{ "evt.type glob execve", "0000" },
	{ "evt.type startswith con", "0010" },
	{ "evt.type exists", "1111" },
	/* precedence and parentheses */
	{ "proc.name = sh or proc.name = cat and user.uid = 0", "1000" },
	{ "(proc.name = sh or proc.name = cat) and user.uid = 1000", "0100" },
	{ "not proc.name = sh and user.uid = 0", "0001" },
	{ "not (proc.name = sh and user.uid = 0)", "0111" },
	{ "not not proc.name = sh", "1000" },
	{ "not(proc.name = sh)", "0111" },
	{ "((((proc.name = sh))))", "1000" },
	{ "proc.name=sh", "1000" },
	{ "(proc.name=sh)or(proc.name=cat)", "1100" },
	{ "  proc.name = sh  \n\t", "1000" },
	{ "proc.name = sh\nor\rproc.name = cat", "1100" },
	{ "proc.name = sh or proc.name = cat or proc.name = curl", "1110" },
	{ "proc.name = sh or (proc.name = cat or proc.name = curl)", "1110" },
	{ "(proc.name = sh and user.uid = 0) and evt.type = exec", "1000" },
	{ "user.uid = 0 and proc.name = sh or fd.cport = 443 and not evt.res = 0",
	  "1010" },
	{ "evt.type = exec and (proc.name = sh or not proc.name exists)", "1001" },
	{ "not (evt.type = exec or evt.type = open) and not not user.uid > 0",
	  "0010" },
	{ "evt.type in (execve, open) and container.image glob \"busy*\" and not proc.name = sh",
	  "0000" },
	/* glob */
	{ "proc.name glob *", "1110" },
	{ "proc.name glob ??", "1000" },
	{ "proc.name glob \"?\"", "0000" },
	{ "proc.name glob c*", "0110" },
	{ "proc.name glob c?t", "0100" },
	{ "proc.name glob \"[cs]*\"", "1110" },
	{ "proc.name glob \"[!c]*\"", "1000" },
	{ "proc.name glob \"[a-c]at\"", "0100" },
	{ "proc.name glob \"[]x]*\"", "0000" },
	{ "proc.name glob \"[!]x]*\"", "1110" },
	{ "proc.name glob \"c[a-]*\"", "0100" },
	{ "proc.name glob \"[*]\"", "0000" },
	{ "proc.name glob sh*", "1000" },
	{ "proc.name glob \"sh**\"", "1000" },
	{ "proc.name glob s", "0000" },
	{ "proc.name glob \"\"", "0000" },
	{ "fd.name glob \"/etc/*w\"", "0100" },
	{ "fd.name glob \"**/shadow\"", "0100" },
	{ "fd.name glob /etc/", "0000" },
	{ "container.image glob \"*:1.36\"", "1000" },
	{ "proc.exe glob \"/usr/bin/c[!a]*\"", "0010" },
	{ "proc.args glob \"a*a*a*a*a*b\"", "0000" },
	{ "proc.args glob \"a*a*a*a*a*\"", "0001" },
	{ "proc.args glob \"*a\"", "0001" },
	{ "proc.args glob \"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c\"", "0000" },
};

static void test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct vg_filter_error err;
		struct vg_filter *f = NULL;

		memset(&err, 'x', sizeof(err));
		if (vg_filter_compile(c->text, &f, &err) != 0)
			fail_msg("case %zu (%s): column %d: %s", i, c->text,
				 err.column, err.msg);
		assert_int_equal(err.column, 0);
		assert_string_equal(err.msg, "");
		for (size_t e = 0; e < VG_ARRAY_SIZE(evs); e++) {
			bool want = c->want[e] == '1';

			if (vg_filter_match(f, fake_get, &evs[e]) != want)
				fail_msg("case %zu (%s): event %zu %s, want %s", i,
					 c->text, e, want ? "fails" : "passes",
					 want ? "passes" : "fails");
		}
		check_round_trip(f, c->text);
		vg_filter_free(f);
	}
}

struct format_case {
	const char *text, *want;
};

static const struct format_case format_cases[] = {
	{ "evt.type in (execve, open) and container.image glob \"busy*\" and not proc.name = sh",
	  "evt.type in (exec, open) and container.image glob busy* and not proc.name = sh" },
	{ "proc.name==sh", "proc.name = sh" },
	{ "((proc.name exists))", "proc.name exists" },
	{ "(proc.name = a or proc.name = b) and proc.pid = 1",
	  "(proc.name = a or proc.name = b) and proc.pid = 1" },
	{ "proc.name = a or (proc.name = b and proc.pid = 1)",
	  "proc.name = a or proc.name = b and proc.pid = 1" },
	{ "not (not proc.name = a)", "not not proc.name = a" },
	{ "not (proc.name = a or proc.pid = 1)", "not (proc.name = a or proc.pid = 1)" },
	{ "user.uid in (007,-0, -12)", "user.uid in (7, 0, -12)" },
	{ "evt.time = -9223372036854775808", "evt.time = -9223372036854775808" },
	{ "proc.name = \"a b\"", "proc.name = \"a b\"" },
	{ "proc.name = \"\"", "proc.name = \"\"" },
	{ "proc.name = \"x\\\\y\\\"z\"", "proc.name = \"x\\\\y\\\"z\"" },
	{ "proc.name = x\\y", "proc.name = \"x\\\\y\"" },
	{ "proc.name = \"sh\"", "proc.name = sh" },
	{ "proc.name = caf\xc3\xa9", "proc.name = \"caf\xc3\xa9\"" },
	{ "proc.name in (\"a,b\", \"(c)\")", "proc.name in (\"a,b\", \"(c)\")" },
	{ "evt.type = creat", "evt.type = open" },
	{ "evt.type glob creat", "evt.type glob creat" },
	{ "container.label.a/b-c_d.e exists", "container.label.a/b-c_d.e exists" },
	{ "k8s.pod.label.app=web", "k8s.pod.label.app = web" },
};

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		struct vg_filter_error err;
		struct vg_filter *f = NULL;
		char buf[512];
		int r;

		r = vg_filter_compile(c->text, &f, &err);
		if (r != 0)
			fail_msg("case %zu (%s): %s", i, c->text, err.msg);
		assert_int_equal(vg_filter_format(f, buf, sizeof(buf)), strlen(c->want));
		assert_string_equal(buf, c->want);
		check_round_trip(f, c->text);
		vg_filter_free(f);
	}
}

/* ---- invalid expressions ---------------------------------------------- */

struct error_case {
	const char *text;
	int column;
	const char *msg; /* a substring of the message */
};

static const struct error_case error_cases[] = {
	/* unknown fields, and the one meant */
	{ "proc.nmae = sh", 1, "unknown field 'proc.nmae' (did you mean proc.name?)" },
	{ "procname = x", 1, "(did you mean proc.name?)" },
	{ "user.id = 0", 1, "unknown field 'user.id' (did you mean user.uid?)" },
	{ "proc.pid = 1 and evt.typ = exec", 18, "(did you mean evt.type?)" },
	{ "container.lable.app = x", 1,
	  "unknown field 'container.lable.app' (did you mean container.label.app?)" },
	{ "container.labels = x", 1, "(did you mean container.label.<key>?)" },
	{ "foo.bar = 1", 1, "unknown field 'foo.bar'" },
	{ "container.label = x", 1, "container.label needs a key: container.label.<key>" },
	{ "k8s.pod.label. = x", 1, "k8s.pod.label needs a key: k8s.pod.label.<key>" },
	{ "container.label.a:b = x", 18,
	  "expected a label key of letters, digits, '.', '_', '/' and '-', found ':b'" },
	/* missing pieces */
	{ "proc.name =", 12, "expected a value after '=', found end of input" },
	{ "proc.name = ", 13, "expected a value after '=', found end of input" },
	{ "proc.name contains", 19, "expected a value after 'contains', found end of input" },
	{ "proc.name", 10, "expected an operator after proc.name, found end of input" },
	{ "proc.name sh", 11, "expected an operator after proc.name, found 'sh'" },
	{ "proc.name equals sh", 11, "expected an operator after proc.name, found 'equals'" },
	{ "proc.name === sh", 11, "unknown operator '===' after proc.name" },
	{ "proc.name =>sh", 11, "unknown operator '=>'" },
	{ "proc.name => sh", 14, "expected 'and', 'or' or end of input, found 'sh'" },
	{ "proc.name <=> sh", 11, "unknown operator '<=>'" },
	{ "proc.name ! = sh", 11, "unknown operator '!'" },
	{ "", 1, "expected a field name, 'not' or '(', found end of input" },
	{ "   ", 4, "expected a field name, 'not' or '(', found end of input" },
	{ "not", 4, "expected a field name, 'not' or '(', found end of input" },
	{ "()", 2, "expected a field name, 'not' or '(', found ')'" },
	{ "= sh", 1, "expected a field name, 'not' or '(', found '='" },
	{ "proc.name = sh and", 19, "expected a field name, 'not' or '(', found end of input" },
	{ "proc.name = sh and and user.uid = 0", 20,
	  "expected a field name, 'not' or '(', found 'and'" },
	{ "proc.name = (sh)", 13, "expected a value after '=', found '('" },
	/* parentheses */
	{ "(proc.name = sh", 16,
	  "expected 'and', 'or' or ')' to close the '(' at column 1, found end of input" },
	{ "((proc.name = sh)", 18, "to close the '(' at column 1, found end of input" },
	{ "(proc.name = sh or (user.uid = 0) user.uid = 1)", 35,
	  "to close the '(' at column 1, found 'user.uid'" },
	{ "proc.name = sh)", 15, "expected 'and', 'or' or end of input, found ')'" },
	/* trailing garbage */
	{ "proc.name = sh bash", 16, "expected 'and', 'or' or end of input, found 'bash'" },
	{ "proc.name = sh AND user.uid = 0", 16, "found 'AND'" },
	{ "proc.name exists sh", 18, "expected 'and', 'or' or end of input, found 'sh'" },
	{ "proc.name = sh or-x", 16, "found 'or-x'" },
	/* strings */
	{ "proc.name = \"sh", 13, "expected a closing '\"' for this string, found end of input" },
	{ "proc.name = \"sh\\", 13, "expected a closing '\"'" },
	{ "proc.name = \"s\\qh\"", 15,
	  "unknown escape '\\q' in a quoted string; the escapes are" },
	{ "proc.name = 's\\\"h'", 15, "escape '\\\"' in a '-quoted string; write \" alone" },
	{ "proc.name = \"s\\'h\"", 15, "escape '\\'' in a \"-quoted string; write ' alone" },
	{ "proc.name = \"s\\x4\"", 15, "expected two hex digits after '\\x'" },
	{ "proc.name = 'sh", 13, "expected a closing ''' for this string, found end of input" },
	{ "proc.name = a'b'", 14, "''' inside a bare word; quote the whole value" },
	{ "proc.name = \"s\\\xc3\xa9\"", 15, "unknown escape (byte 0xc3 after '\\')" },
	{ "proc.name = a\"b\"", 14, "'\"' inside a bare word; quote the whole value" },
	{ "proc.name = \"a\x01\"", 15, "control character 0x01" },
	{ "proc.name = a\x01", 14, "control character 0x01" },
	{ "proc.name = a\x7f", 14, "control character 0x7f" },
	/* types */
	{ "user.uid = root", 12, "expected a number after '=' (user.uid is a number), found 'root'" },
	{ "user.uid in (0, root)", 17, "expected a number after ',' (user.uid is a number), found 'root'" },
	{ "user.uid = 1.5", 12, "expected a number" },
	{ "user.uid = -", 12, "expected a number" },
	{ "user.uid = --1", 12, "expected a number" },
	{ "user.uid = 0x", 12, "expected a number" },
	{ "user.uid = 0xg1", 12, "expected a number" },
	{ "user.uid = \"\"", 12, "expected a number after '=' (user.uid is a number), found '\"\"'" },
	{ "user.uid = 9223372036854775808", 12, "number '9223372036854775808' is out of range" },
	{ "user.uid = -9223372036854775809", 12, "is out of range" },
	{ "user.uid pmatch (/a)", 10, "'pmatch' needs a string field, found user.uid (a number)" },
	{ "user.uid icontains 1", 10, "'icontains' needs a string field" },
	{ "user.uid bcontains 01", 10, "'bcontains' needs a string field" },
	{ "user.uid contains 1", 10, "'contains' needs a string field, found user.uid (a number)" },
	{ "user.uid glob 1*", 10, "'glob' needs a string field" },
	{ "fd.cport startswith 4", 10, "'startswith' needs a string field" },
	{ "fd.cport endswith 4", 10, "'endswith' needs a string field" },
	/* event types */
	{ "evt.type = exce", 12,
	  "unknown event type 'exce': expected exec, exit, fork, open, connect, accept, bind, listen, syscall, tp, lost, container, file or alert" },
	{ "evt.type in (execve, nope)", 22, "unknown event type 'nope'" },
	{ "evt.type != EXECVE", 13, "unknown event type 'EXECVE'" },
	{ "evt.type = \"\"", 12, "unknown event type '\"\"'" },
	/* lists */
	{ "user.uid in 0", 13, "expected '(' after 'in', found '0'" },
	{ "user.uid in", 12, "expected '(' after 'in', found end of input" },
	{ "user.uid in (,)", 14, "expected a value after '(', found ','" },
	{ "user.uid in (1,)", 16, "expected a value after ',', found ')'" },
	{ "proc.name in (a, (b, )", 22, "expected a value after ',', found ')'" },
	{ "user.uid in (1,)", 16, "expected a value after ',', found ')'" },
	{ "user.uid in (1 2)", 16, "expected ',' or ')' in the list, found '2'" },
	{ "user.uid in (1", 15, "expected ',' or ')' in the list, found end of input" },
	{ "user.uid in (1,,2)", 16, "expected a value after ',', found ','" },
	/* glob patterns */
	{ "proc.name glob \"[ab\"", 16,
	  "expected a ']' to close the '[' of this glob pattern, found end of pattern" },
	{ "proc.name glob \"[]\"", 16, "expected a ']' to close the '['" },
	{ "proc.name glob \"x[!]\"", 16, "expected a ']' to close the '['" },
	/* keywords are lowercase */
	{ "NOT proc.name = sh", 1, "unknown field 'NOT'" },
	{ "proc.name = sh Or proc.name = x", 16, "found 'Or'" },
	{ "proc.name IN (a)", 11, "expected an operator after proc.name, found 'IN'" },
	/* messages quote at most 40 bytes of a token */
	{ "proc.name = sh xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  16, "found 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'" },
};

static void check_error(const char *text, int column, const char *msg)
{
	struct vg_filter_error err;
	struct vg_filter *f = (struct vg_filter *)0x1;
	int r;

	memset(&err, 'x', sizeof(err));
	r = vg_filter_compile(text, &f, &err);
	if (r != -EINVAL)
		fail_msg("'%.60s': returned %d, not -EINVAL", text, r);
	/* untouched on failure */
	assert_ptr_equal(f, (struct vg_filter *)0x1);
	assert_non_null(memchr(err.msg, '\0', sizeof(err.msg)));
	if (err.column != column || !strstr(err.msg, msg))
		fail_msg("'%.60s': got column %d '%s', want column %d '%s'", text,
			 err.column, err.msg, column, msg);
	/* and the same without a place to say why */
	assert_int_equal(vg_filter_compile(text, &f, NULL), -EINVAL);
	assert_ptr_equal(f, (struct vg_filter *)0x1);
}

static void test_error_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(error_cases); i++)
		check_error(error_cases[i].text, error_cases[i].column,
			    error_cases[i].msg);
}

static void compile_ok(const char *text)
{
	struct vg_filter_error err;
	struct vg_filter *f = NULL;

	if (vg_filter_compile(text, &f, &err) != 0)
		fail_msg("'%.60s...': column %d: %s", text, err.column, err.msg);
	/* evaluating it is bounded too */
	for (size_t e = 0; e < VG_ARRAY_SIZE(evs); e++)
		vg_filter_match(f, fake_get, &evs[e]);
	vg_filter_free(f);
}

/* Generated expressions at and just past each bound. */
static void test_limits(void **state)
{
	size_t cap = VG_FILTER_MAX_LEN + 64, len, col;
	char *buf = malloc(cap), msg[80];

	(void)state;
	assert_non_null(buf);

	/* 64 levels of parentheses, then 65 */
	for (int depth = VG_FILTER_MAX_DEPTH; depth <= VG_FILTER_MAX_DEPTH + 1; depth++) {
		len = 0;
		for (int i = 0; i < depth; i++)
			buf[len++] = '(';
		len += (size_t)snprintf(buf + len, cap - len, "proc.name = sh");
		for (int i = 0; i < depth; i++)
			buf[len++] = ')';
		buf[len] = '\0';
		if (depth == VG_FILTER_MAX_DEPTH)
			compile_ok(buf);
		else
			check_error(buf, depth, "nesting deeper than 64 levels");
	}

	/* 'not' counts: 32 of them inside 32 parentheses, then one more */
	len = 0;
	for (int i = 0; i < 32; i++)
		len += (size_t)snprintf(buf + len, cap - len, "not (");
	len += (size_t)snprintf(buf + len, cap - len, "proc.name = sh");
	for (int i = 0; i < 32; i++)
		buf[len++] = ')';
	buf[len] = '\0';
	compile_ok(buf);
	memmove(buf + 4, buf, len + 1);
	memcpy(buf, "not ", 4);
	check_error(buf, 4 + 31 * 5 + 4 + 1, "nesting deeper than 64 levels");

	/* a long 'not' chain is nesting too */
	len = 0;
	for (int i = 0; i <= VG_FILTER_MAX_DEPTH; i++)
		len += (size_t)snprintf(buf + len, cap - len, "not ");
	snprintf(buf + len, cap - len, "proc.name = sh");
	check_error(buf, VG_FILTER_MAX_DEPTH * 4 + 1, "nesting deeper than 64 levels");
	compile_ok(buf + 4);

	/* but a long chain of 'and' and 'or' is not */
	len = (size_t)snprintf(buf, cap, "proc.pid = 0");
	while (len + 40 < VG_FILTER_MAX_LEN)
		len += (size_t)snprintf(buf + len, cap - len,
					len % 3 ? " and proc.pid != %zu" : " or proc.pid = %zu",
					len);
	compile_ok(buf);

	/* 1024 values in a list, then 1025 */
	len = (size_t)snprintf(buf, cap, "user.uid in (0");
	for (int i = 1; i < VG_FILTER_MAX_LIST; i++)
		len += (size_t)snprintf(buf + len, cap - len, ", %d", i);
	col = len + 3;
	snprintf(buf + len, cap - len, ")");
	compile_ok(buf);
	snprintf(buf + len, cap - len, ", 1024)");
	check_error(buf, (int)col, "more than 1024 values in a list");

	/* 64 KiB of expression, then a byte more */
	len = (size_t)snprintf(buf, cap, "proc.args = ");
	memset(buf + len, 'a', VG_FILTER_MAX_LEN - len);
	buf[VG_FILTER_MAX_LEN] = '\0';
	compile_ok(buf);
	buf[VG_FILTER_MAX_LEN] = 'a';
	buf[VG_FILTER_MAX_LEN + 1] = '\0';
	snprintf(msg, sizeof(msg), "expected at most %d bytes of filter, found more",
		 VG_FILTER_MAX_LEN);
	check_error(buf, VG_FILTER_MAX_LEN + 1, msg);

	/* a long value in a message is cut, on a UTF-8 boundary */
	len = (size_t)snprintf(buf, cap, "proc.name = sh ");
	for (int i = 0; i < 30; i++)
		len += (size_t)snprintf(buf + len, cap - len, "\xc3\xa9");
	check_error(buf, 16, "found '\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			     "\xc3\xa9\xc3\xa9\xc3\xa9...'");
	free(buf);
}

/* ---- the event-type mask ---------------------------------------------- */

static const char *const type_names[] = {
	"exec", "exit", "fork", "open", "connect", "accept", "bind",
	"listen", "syscall", "tp", "lost", "container", "file",
	"ptrace", "socket", "dup", "send",
};

static uint64_t type_bits(const char *name, void *ctx)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(type_names); i++)
		if (strcmp(name, type_names[i]) == 0)
			return 1ull << i;
	(*(int *)ctx)++; /* never a name but vigil's */
	return 0;
}

#define T(n) (1ull << (n))
enum { EXEC, EXIT, FORK, OPEN, CONNECT, ACCEPT, BIND, FILE_ = 12, PTRACE, SOCKET,
       DUP, SEND };

struct mask_case {
	const char *text;
	uint64_t want;
};

static const struct mask_case mask_cases[] = {
	{ "evt.type = execve", T(EXEC) },
	{ "evt.type = exec", T(EXEC) },
	{ "evt.type in (open, connect, openat)", T(OPEN) | T(CONNECT) },
	{ "evt.type = exec and proc.name = sh", T(EXEC) },
	{ "proc.name = sh and evt.type in (exec, fork)", T(EXEC) | T(FORK) },
	{ "evt.type = exec or proc.name = sh", UINT64_MAX },
	{ "evt.type = exec or evt.type = accept4", T(EXEC) | T(ACCEPT) },
	{ "evt.type = exec and evt.type = open", 0 },
	{ "(evt.type in (exec, open) and evt.type in (open, connect)) or evt.type = bind",
	  T(OPEN) | T(BIND) },
	{ "not evt.type = exec", UINT64_MAX },
	{ "evt.type != exec", UINT64_MAX },
	{ "evt.type glob \"ex*\"", UINT64_MAX },
	{ "evt.type startswith exec", UINT64_MAX },
	{ "evt.type exists", UINT64_MAX },
	{ "proc.name = sh", UINT64_MAX },
	{ "not not evt.type = exec", UINT64_MAX },
	{ "evt.type = exit and (evt.type = exit or user.uid = 0)", T(EXIT) },
	/* Falco's: a syscall name with a file action is the file type's */
	{ "evt.type = rename", T(FILE_) },
	{ "evt.type in (rename, open, mkdirat)", T(FILE_) | T(OPEN) },
	{ "evt.type in (rename) and proc.name = mv", T(FILE_) },
	{ "evt.type != rename", UINT64_MAX },
	{ "evt.type intersects (open, execve)", T(OPEN) | T(EXEC) },
	{ "evt.type in ()", 0 },
	{ "evt.type in () or evt.type = fork", T(FORK) },
	{ "evt.type pmatch (open)", UINT64_MAX },
	/* the opt-in events, by Falco's names */
	{ "evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH", T(PTRACE) },
	{ "evt.type = socket", T(SOCKET) },
	{ "evt.type in (dup, dup2, dup3)", T(DUP) },
	{ "evt.type in (sendto, sendmsg) or evt.type = connect", T(SEND) | T(CONNECT) },
};

static void test_type_mask(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(mask_cases); i++) {
		struct vg_filter *f = NULL;
		uint64_t m;

		assert_int_equal(vg_filter_compile(mask_cases[i].text, &f, NULL), 0);
		m = vg_filter_type_mask(f, type_bits, &bad);
		if (m != mask_cases[i].want)
			fail_msg("case %zu (%s): mask %#llx, want %#llx", i,
				 mask_cases[i].text, (unsigned long long)m,
				 (unsigned long long)mask_cases[i].want);
		assert_int_equal(vg_filter_type_mask(f, NULL, NULL), UINT64_MAX);
		vg_filter_free(f);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(vg_filter_type_mask(NULL, type_bits, &bad), UINT64_MAX);
}

/* ---- evaluation allocates nothing ------------------------------------- */

/*
 * This binary's malloc(), calloc() and realloc() stand in for everyone's
 * and count the calls, so that an allocation freed before match returns
 * shows too; mallinfo2() sees only what is still held. A sanitizer
 * brings its own allocator, and there the count stays off.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static unsigned long n_allocs;

void *malloc(size_t n);
void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size);
void *calloc(size_t n, size_t size)
{
	n_allocs++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n);
void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}
#endif

static void test_match_no_alloc(void **state)
{
	static const char *const texts[] = {
		"evt.type in (execve, open) and container.image glob \"busy*\" and not proc.name = sh",
		"proc.args contains \"--privileged\" or fd.name startswith /etc/ or k8s.pod.label.app = web",
		"user.uid < 1000 and evt.res in (-2, -111) or proc.args glob \"a*a*b\"",
	};
	struct vg_filter *f[VG_ARRAY_SIZE(texts)];
	struct mallinfo2 before, after;
	unsigned long allocs = 0;
	size_t passed = 0;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(texts); i++)
		assert_int_equal(vg_filter_compile(texts[i], &f[i], NULL), 0);
	before = mallinfo2();
#if COUNT_ALLOCS
	allocs = n_allocs;
#endif
	for (int round = 0; round < 100000; round++) {
		size_t e = (size_t)round % 3; /* event 3's glob is the slow one */

		for (size_t i = 0; i < VG_ARRAY_SIZE(texts); i++)
			passed += vg_filter_match(f[i], fake_get, &evs[e]);
	}
	after = mallinfo2();
#if COUNT_ALLOCS
	allocs = n_allocs - allocs;
	{
		/* and the count does count */
		unsigned long mark = n_allocs;
		void *volatile p = malloc(1);

		free(p);
		assert_int_equal(n_allocs, mark + 1);
	}
#endif
	assert_int_equal(allocs, 0);
	/* under a sanitizer both read 0, and valgrind counts instead */
	assert_int_equal(after.uordblks, before.uordblks);
	assert_int_equal(after.arena, before.arena);
	assert_true(passed > 0);
	for (size_t i = 0; i < VG_ARRAY_SIZE(texts); i++)
		vg_filter_free(f[i]);
}

/* ---- the rest of the API ---------------------------------------------- */

static int count_get(void *ctx, int id, const char *key, size_t key_len,
		     struct vg_fval *ret)
{
	(void)id, (void)key, (void)key_len, (void)ret;
	(*(int *)ctx)++;
	return 0;
}

static void test_api(void **state)
{
	struct vg_filter_error err;
	struct vg_filter *f = NULL;
	char buf[16];
	int calls = 0;

	(void)state;
	/* no filter passes everything, and formats as nothing */
	assert_true(vg_filter_match(NULL, fake_get, &evs[0]));
	assert_true(vg_filter_match(NULL, NULL, NULL));
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(vg_filter_format(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_false(vg_filter_uses_field(NULL, VG_F_EVT_TYPE));
	vg_filter_free(NULL);

	assert_int_equal(vg_filter_compile(NULL, &f, &err), -EINVAL);
	assert_int_equal(vg_filter_compile("proc.pid = 1", NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "no filter text");

	/* format is snprintf: cut with a NUL, the whole length returned */
	assert_int_equal(vg_filter_compile("proc.name   =   \"abcdefghijklmnop\"", &f, &err), 0);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(vg_filter_format(f, buf, 8), 28);
	assert_string_equal(buf, "proc.na");
	assert_int_equal(buf[8], 'x');
	assert_int_equal(vg_filter_format(f, buf, 1), 28);
	assert_string_equal(buf, "");
	assert_int_equal(vg_filter_format(f, buf, 0), 28);
	assert_int_equal(vg_filter_format(f, NULL, 100), 28);
	assert_true(vg_filter_uses_field(f, VG_F_PROC_NAME));
	assert_false(vg_filter_uses_field(f, VG_F_PROC_PID));
	assert_false(vg_filter_uses_field(f, -1));
	/* without a getter, every field is absent */
	assert_false(vg_filter_match(f, NULL, NULL));
	vg_filter_free(f);

	/* the getter is asked only what evaluation reaches */
	assert_int_equal(vg_filter_compile("proc.pid = 1 and (proc.name = a or not container.label.k exists)",
					   &f, &err), 0);
	assert_false(vg_filter_match(f, count_get, &calls));
	assert_int_equal(calls, 1);
	assert_true(vg_filter_uses_field(f, VG_F_CONTAINER_LABEL));
	assert_false(vg_filter_uses_field(f, VG_F_K8S_POD_LABEL));
	vg_filter_free(f);
	assert_int_equal(vg_filter_compile("not proc.pid = 1 and (proc.name = a or not container.label.k exists)",
					   &f, &err), 0);
	calls = 0;
	assert_true(vg_filter_match(f, count_get, &calls));
	assert_int_equal(calls, 3);
	vg_filter_free(f);
}

static void test_fields(void **state)
{
	(void)state;
	assert_null(vg_filter_field_name(-1));
	assert_null(vg_filter_field_name(VG_F_COUNT));
	assert_string_equal(vg_filter_field_name(VG_F_EVT_TYPE), "evt.type");
	assert_string_equal(vg_filter_field_name(VG_F_CONTAINER_LABEL),
			    "container.label.<key>");
	assert_int_equal(vg_filter_field_type(VG_F_USER_UID), VG_FILTER_NUM);
	assert_int_equal(vg_filter_field_type(VG_F_PROC_NAME), VG_FILTER_STR);
	/* every field: listed once, and usable as it is listed */
	for (int i = 0; i < VG_F_COUNT; i++) {
		const char *name = vg_filter_field_name(i);
		char text[128], *key;
		struct vg_filter *f = NULL;

		assert_non_null(name);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, vg_filter_field_name(j));
		snprintf(text, sizeof(text), "%s exists", name);
		key = strstr(text, "<key>");
		if (key) {
			memmove(key + 1, key + 5, strlen(key + 5) + 1);
			key[0] = 'k';
		}
		if (vg_filter_compile(text, &f, NULL) != 0)
			fail_msg("'%s' does not compile", text);
		assert_true(vg_filter_uses_field(f, i));
		vg_filter_free(f);
	}
}

/* File events: file.action and fd.name, the path. */
static void test_file_events(void **state)
{
	struct fake_ev ev = {
		.str = { [VG_F_EVT_TYPE] = "file", [VG_F_FILE_ACTION] = "delete",
			 [VG_F_FD_NAME] = "/etc/ssl/certs/ca.pem",
			 [VG_F_CONTAINER_NAME] = "web" },
	};
	static const struct {
		const char *expr;
		bool match;
	} t[] = {
		{ "evt.type = file and file.action = delete", true },
		{ "file.action in (create, write, truncate)", false },
		{ "file.action in (delete, rmdir) and fd.name startswith /etc/ssl/", true },
		{ "evt.type = file and not file.action = delete", false },
		{ "file.action exists and container.name = web", true },
		{ "file.action glob \"d*\"", true },
		{ "evt.type = open and file.action = delete", false },
	};
	struct vg_filter_error fe;
	struct vg_filter *f;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(vg_filter_compile(t[i].expr, &f, &fe), 0);
		if (vg_filter_match(f, fake_get, &ev) != t[i].match)
			fail_msg("%s: expected %d", t[i].expr, t[i].match);
		vg_filter_free(f);
	}
	/* an absent action (an open event) matches nothing but "not" */
	ev.str[VG_F_FILE_ACTION] = NULL;
	assert_int_equal(vg_filter_compile("file.action exists", &f, &fe), 0);
	assert_false(vg_filter_match(f, fake_get, &ev));
	vg_filter_free(f);
}

/* ---- Falco's language ------------------------------------------------- */

/* Events for Falco's operators, quoting, arguments, multi-valued and
 * list fields, evt.res and the syscall names with a file action. */
struct lang_ev {
	const char *type, *action, *name, *fd_name, *cmdline;
	bool has_res;
	int64_t res;
	const char *aname[4];  /* test.aname: the process, its parent...; NULL ends */
	int64_t apid[4];       /* test.apid, as many as aname */
	const char *types[4];  /* test.types; NULL ends, none: absent */
	const char *mount;     /* test.mount[KEY]: KEY's value */
	const char *mount_val;
	const char *ip[2];     /* test.ip, test.net: client, server */
	int64_t port[2];       /* test.port */
};

/* 0: socat run by bash under sshd; 1: cat opening /etc/shadow, which
 * succeeds; 2: Python3 failing to open /etcx/passwd (ENOENT); 3: mv
 * renaming a key, the call in progress (EINPROGRESS). */
static const struct lang_ev lang_evs[] = {
	{ .type = "exec", .name = "socat",
	  .cmdline = "socat TCP4:1.2.3.4:443 EXEC:/bin/SH",
	  .aname = { "socat", "bash", "sshd" }, .apid = { 100, 50, 1 },
	  .types = { "ipv4", "file" }, .mount = "/proc", .mount_val = "ro",
	  .ip = { "10.0.0.5", "1.2.3.4" }, .port = { 40000, 443 } },
	{ .type = "open", .name = "cat", .fd_name = "/etc/shadow",
	  .cmdline = "cat /etc/shadow", .has_res = true, .res = 3,
	  .aname = { "cat", "sh" }, .apid = { 200, 100 }, .types = { "file" } },
	{ .type = "open", .name = "Python3", .fd_name = "/etcx/passwd",
	  .cmdline = "Python3 -c 'import socket'", .has_res = true, .res = -2,
	  .aname = { "Python3" }, .apid = { 300 },
	  .ip = { "::1", "0::1" }, .port = { 5000, 5001 } },
	{ .type = "file", .action = "rename", .name = "mv",
	  .fd_name = "/home/u/.ssh/id_rsa", .cmdline = "mv a\\ b\\",
	  .has_res = true, .res = -115,
	  .types = { "ipv4", "ipv6", "unix" },
	  .ip = { "127.0.0.1", "127.0.0.1" }, .port = { 80, 80 } },
};

static const char *last_mount_key;

static int str_out(const char *s, struct vg_fval *ret)
{
	if (!s)
		return 0;
	ret->s = s;
	ret->len = strlen(s);
	return 1;
}

static int lang_get(void *ctx, int id, const char *key, size_t key_len,
		    struct vg_fval *ret)
{
	const struct lang_ev *e = ctx;
	uint32_t i = ret->idx;
	size_t n = 0;

	if (key)
		assert_int_equal(strlen(key), key_len);
	else
		assert_int_equal(key_len, 0);
	if (id != T_ANAME && id != T_APID && id != T_TYPES && id != T_NET &&
	    id != T_IP && id != T_PORT)
		assert_int_equal(i, 0);
	if (id != T_ANAME && id != T_APID && id != T_MOUNT)
		assert_null(key);
	switch (id) {
	case VG_F_EVT_TYPE: return str_out(e->type, ret);
	case VG_F_FILE_ACTION: return str_out(e->action, ret);
	case VG_F_PROC_NAME: return str_out(e->name, ret);
	case VG_F_FD_NAME: return str_out(e->fd_name, ret);
	case VG_F_PROC_CMDLINE: return str_out(e->cmdline, ret);
	case VG_F_EVT_RES:
		ret->n = e->res;
		return e->has_res;
	case VG_F_USER_UID:
		ret->n = 0;
		return 1;
	case T_ANAME:
	case T_APID:
		while (n < 4 && e->aname[n])
			n++;
		if (key) { /* [N]: that one only */
			if (i > 0 || (size_t)atoi(key) >= n)
				return 0;
			i = (uint32_t)atoi(key);
		} else if (i >= n) {
			return 0;
		}
		ret->n = e->apid[i];
		return str_out(e->aname[i], ret);
	case T_TYPES:
		return i < 4 ? str_out(e->types[i], ret) : 0;
	case T_NET:
	case T_IP:
		return i < 2 ? str_out(e->ip[i], ret) : 0;
	case T_SNET:
		return str_out(e->ip[1], ret);
	case T_PORT:
		ret->n = e->port[i < 2 ? i : 0];
		return i < 2 && e->ip[0];
	case T_MOUNT:
		assert_non_null(key);
		last_mount_key = key;
		return e->mount && strcmp(key, e->mount) == 0
			       ? str_out(e->mount_val, ret) : 0;
	}
	fail_msg("field %d asked for", id);
	return 0;
}

static const struct match_case lang_cases[] = {
	/* quoting: single and double quotes, Falco's escapes */
	{ "proc.name = 'socat'", "1000" },
	{ "proc.name = \"socat\"", "1000" },
	{ "proc.name='socat'", "1000" },
	{ "proc.name in ('socat', \"cat\", mv)", "1101" },
	{ "proc.cmdline contains 'EXEC:'", "1000" },
	{ "proc.cmdline contains \"-c 'import\"", "0010" },
	{ "proc.cmdline contains '-c \\'import'", "0010" },
	{ "proc.name = \"\\x73ocat\"", "1000" },
	{ "proc.name = 'soc\\x61t'", "1000" },
	{ "proc.name = \"s\\/o\\bc\"", "0000" },
	{ "proc.name = \"\"", "0000" },
	{ "proc.name = ''", "0000" },
	{ "proc.name != ''", "1111" },
	/* Falco's "\ " is a backslash, and a bare word may hold one */
	{ "proc.cmdline contains \"\\ \"", "0001" },
	{ "(proc.cmdline contains \"\\ \" or proc.cmdline endswith \\)", "0001" },
	{ "proc.cmdline endswith \\", "0001" },
	{ "proc.cmdline endswith \"\\\\\"", "0001" },
	/* empty lists match nothing; lists of lists are flattened */
	{ "proc.name in ()", "0000" },
	{ "proc.name in ( )", "0000" },
	{ "not proc.name in ()", "1111" },
	{ "proc.name intersects ()", "0000" },
	{ "fd.name pmatch ()", "0000" },
	{ "test.types intersects ()", "0000" },
	{ "evt.res in ()", "0000" },
	{ "evt.type in ()", "0000" },
	{ "user.uid in ((), ())", "0000" },
	{ "proc.name in (socat, (cat, (mv)), ())", "1101" },
	{ "proc.name in(cat)", "0100" },
	/* Falco's spacing: none needed before '(' or around symbols */
	{ "not(proc.name = cat)", "1011" },
	{ "proc.name = cat or(proc.name = mv)", "0101" },
	{ "proc.name = mv and(evt.res<0)", "0001" },
	{ "test.apid>=200", "0110" },
	/* Falco's "evt.dir=<": the operator, then the value < */
	{ "proc.name=<", "0000" },
	{ "proc.name!=>", "1111" },
	{ "proc.name==<", "0000" },
	{ "(proc.name=<)", "0000" },
	/* icontains: ASCII either case, nothing else folded */
	{ "proc.cmdline icontains exec:/bin/sh", "1000" },
	{ "proc.cmdline contains exec:/bin/sh", "0000" },
	{ "proc.name icontains PYTHON", "0010" },
	{ "proc.name icontains pYtHoN3", "0010" },
	{ "proc.name icontains ''", "1111" },
	{ "proc.name icontains python4", "0000" },
	{ "proc.name icontains \"PYTHON3\\xc3\\x89\"", "0000" },
	/* iglob */
	{ "proc.name iglob 'py*'", "0010" },
	{ "proc.name glob 'py*'", "0000" },
	{ "proc.name iglob '[p]YTHON?'", "0010" },
	{ "proc.name iglob '[!p]*'", "1101" },
	/* bcontains, bstartswith: hex */
	{ "proc.name bcontains 736f636174", "1000" },
	{ "proc.name bcontains 6F63", "1000" },
	{ "proc.name bstartswith 6d76", "0001" },
	{ "proc.name bstartswith 76", "0000" },
	{ "proc.name bcontains ''", "1111" },
	/* pmatch: path prefixes, by components */
	{ "fd.name pmatch (/etc)", "0100" },
	{ "fd.name pmatch (/etc/)", "0100" },
	{ "fd.name pmatch (//etc//)", "0100" },
	{ "fd.name pmatch (/etc/shadow)", "0100" },
	{ "fd.name pmatch (/etc/shadow/x)", "0000" },
	{ "fd.name pmatch (/et)", "0000" },
	{ "fd.name pmatch (/)", "0111" },
	{ "fd.name pmatch (/home/*/.ssh)", "0001" },
	{ "fd.name pmatch (/ho*)", "0001" },
	{ "fd.name pmatch ('/etc?')", "0010" },
	{ "fd.name pmatch (/nope, /etcx)", "0010" },
	{ "fd.name pmatch (/etc, \"/home/u\")", "0101" },
	/* intersects and in: on a list field, any and all */
	{ "test.types intersects (ipv4, ipv6)", "1001" },
	{ "test.types in (ipv4, ipv6, unix)", "0001" },
	{ "test.types in (file, ipv4)", "1100" },
	{ "test.types exists", "1101" },
	{ "not test.types exists", "0010" },
	{ "proc.name intersects (cat, mv)", "0101" },
	/* a multi-valued field: true for any value; [N] one value */
	{ "test.aname = bash", "1000" },
	{ "test.aname[1] = bash", "1000" },
	{ "test.aname[2] = sshd", "1000" },
	{ "test.aname[1] = sshd", "0000" },
	{ "test.aname[0] = socat", "1000" },
	{ "test.aname['1'] = bash", "1000" },
	{ "test.aname in (sh, sshd)", "1100" },
	{ "test.aname != socat", "1110" },
	{ "test.aname exists", "1110" },
	{ "test.aname[3] exists", "0000" },
	{ "test.aname startswith Py", "0010" },
	{ "test.apid = 1", "1000" },
	{ "test.apid[1] = 100", "0100" },
	{ "test.apid > 150", "0110" },
	{ "test.apid in (50, 300)", "1010" },
	/* a required argument, passed as the key */
	{ "test.mount[/proc] = ro", "1000" },
	{ "test.mount['/proc'] exists", "1000" },
	{ "test.mount[\"/pro c\"] exists", "0000" },
	/* evt.res: Falco's text, or the number for an integer */
	{ "evt.res = SUCCESS", "0100" },
	{ "evt.res = ENOENT", "0010" },
	{ "evt.res = EINPROGRESS", "0001" },
	{ "evt.res startswith E", "0011" },
	{ "evt.res != SUCCESS", "0011" },
	{ "evt.res in (ENOENT, EINPROGRESS)", "0011" },
	{ "evt.res in (0, ENOENT)", "0010" },
	{ "(evt.res >= 0 or evt.res = EINPROGRESS)", "0101" },
	{ "evt.res = -2", "0010" },
	{ "evt.res < 0", "0011" },
	{ "evt.res = 3", "0100" },
	{ "evt.res = 0x3", "0100" },
	{ "evt.res = \"3\"", "0100" },
	{ "evt.res exists", "0111" },
	{ "evt.res glob 'E*S'", "0001" },
	/* strings compare by bytes with <, <=, >, >= */
	{ "proc.name < d", "0110" },
	{ "proc.name >= socat", "1000" },
	{ "proc.name <= cat", "0110" },
	{ "proc.name > socat", "0000" },
	/* Falco's syscall names that are vigil's file events with an action */
	{ "evt.type = rename", "0001" },
	{ "evt.type in (renameat2, mkdir)", "0001" },
	{ "evt.type in (rename, open)", "0111" },
	{ "evt.type in (open, execve, renameat)", "1111" },
	{ "evt.type intersects (renameat)", "0001" },
	{ "evt.type != rename", "1110" },
	{ "evt.type = mkdir", "0000" },
	{ "evt.type in (file, rename)", "0001" },
	{ "not evt.type in (rename) and proc.name = mv", "0000" },
	/* IP networks and addresses, either end of a connection */
	{ "test.net = \"10.0.0.0/8\"", "1000" },
	{ "test.net = 10.200.1.1/8", "1000" },
	{ "test.net != \"127.0.0.0/8\"", "1010" },
	{ "not test.net = \"127.0.0.0/8\"", "1110" },
	{ "test.net in (\"192.168.0.0/16\", \"1.2.0.0/16\")", "1000" },
	{ "test.net intersects (127.0.0.0/8)", "0001" },
	{ "test.snet in (\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\")", "0000" },
	{ "test.snet = 1.2.3.0/24", "1000" },
	{ "test.snet = 1.2.3.0/25", "1000" },
	{ "test.snet = 1.2.3.128/25", "0000" },
	{ "test.snet = 1.2.3.5/31", "1000" },
	{ "test.snet = 1.2.3.6/31", "0000" },
	{ "test.net = ::1/128", "0010" },
	{ "test.net = \"::/0\"", "0010" },
	{ "test.net = 0.0.0.0/0", "1001" },
	{ "test.net = 1.2.3.4", "1000" },
	{ "test.net exists", "1011" },
	{ "test.ip = 1.2.3.4", "1000" },
	{ "test.ip != \"0.0.0.0\"", "1011" },
	{ "test.ip != 127.0.0.1", "1010" },
	{ "test.ip = \"0:0::1\"", "0010" },
	{ "test.ip in (127.0.0.1, ::1)", "0011" },
	{ "test.port = 443", "1000" },
	{ "test.port != 443", "0011" },
	{ "test.port > 1024", "1010" },
	{ "test.port in (80, 5001)", "0011" },
	/* numbers: hex and a sign, as Falco's */
	{ "test.apid = 0x64", "1100" },
	{ "test.apid = +50", "1000" },
};

static void test_falco_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(lang_cases); i++) {
		const struct match_case *c = &lang_cases[i];
		struct vg_filter_error err;
		struct vg_filter *f = NULL;

		if (vg_filter_compile(c->text, &f, &err) != 0)
			fail_msg("case %zu (%s): column %d: %s", i, c->text,
				 err.column, err.msg);
		for (size_t e = 0; e < VG_ARRAY_SIZE(lang_evs); e++) {
			bool want = c->want[e] == '1';

			if (vg_filter_match(f, lang_get, (void *)&lang_evs[e]) != want)
				fail_msg("case %zu (%s): event %zu %s, want %s", i,
					 c->text, e, want ? "fails" : "passes",
					 want ? "passes" : "fails");
		}
		check_round_trip(f, c->text);
		vg_filter_free(f);
	}
}

static const struct format_case falco_format_cases[] = {
	{ "proc.name = 'socat'", "proc.name = socat" },
	{ "proc.name = 'a b'", "proc.name = \"a b\"" },
	{ "proc.name = 'say \"hi\"'", "proc.name = \"say \\\"hi\\\"\"" },
	{ "proc.name = \"it's\"", "proc.name = \"it's\"" },
	{ "proc.name = \"a\\tb\\x01\\n\\r\\f\\b\\/\"", "proc.name = \"a\\tb\\x01\\n\\r\\f\\b/\"" },
	{ "proc.name = \"\\ \"", "proc.name = \"\\\\\"" },
	{ "proc.name in ()", "proc.name in ()" },
	{ "proc.name in (a, (b, c), ())", "proc.name in (a, b, c)" },
	{ "proc.name pmatch (/etc, \"/a b\")", "proc.name pmatch (/etc, \"/a b\")" },
	{ "evt.type = rename", "evt.type = file and file.action = rename" },
	{ "evt.type in (open, renameat, mkdir, execve)",
	  "evt.type in (open, exec) or evt.type = file and file.action in (rename, mkdir)" },
	{ "evt.type in (rename, renameat)", "evt.type = file and file.action = rename" },
	{ "evt.type != renameat2", "not (evt.type = file and file.action = rename)" },
	{ "evt.type = rename and proc.name = mv",
	  "evt.type = file and file.action = rename and proc.name = mv" },
	{ "proc.name bcontains CAFEbabe", "proc.name bcontains cafebabe" },
	{ "proc.name bstartswith ''", "proc.name bstartswith \"\"" },
	{ "evt.res = EINPROGRESS", "evt.res = EINPROGRESS" },
	{ "evt.res = 0x10", "evt.res = 16" },
	{ "evt.res in (0, ENOENT)", "evt.res in (0, ENOENT)" },
	{ "evt.res startswith 1", "evt.res startswith 1" },
	{ "test.aname[2] = sshd", "test.aname[2] = sshd" },
	{ "test.aname['2'] = sshd", "test.aname[2] = sshd" },
	{ "test.mount['/a b'] exists", "test.mount[\"/a b\"] exists" },
	{ "test.mount[/proc*] exists", "test.mount[/proc*] exists" },
	{ "test.mount['say \"x\"'] exists", "test.mount['say \"x\"'] exists" },
	{ "container.label[app] = x", "container.label.app = x" },
	{ "container.label[\"a b\"] = x", "container.label[\"a b\"] = x" },
	{ "proc.name icontains A and proc.name iglob 'x*'",
	  "proc.name icontains A and proc.name iglob x*" },
	{ "test.types intersects (a,b)", "test.types intersects (a, b)" },
	{ "test.net != '127.0.0.0/8'", "test.net != 127.0.0.0/8" },
	{ "test.ip in (\"::1\", 10.0.0.1)", "test.ip in (::1, 10.0.0.1)" },
};

static void test_falco_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(falco_format_cases); i++) {
		const struct format_case *c = &falco_format_cases[i];
		struct vg_filter_error err;
		struct vg_filter *f = NULL;
		char buf[512];

		if (vg_filter_compile(c->text, &f, &err) != 0)
			fail_msg("case %zu (%s): %s", i, c->text, err.msg);
		vg_filter_format(f, buf, sizeof(buf));
		if (strcmp(buf, c->want) != 0)
			fail_msg("case %zu (%s): '%s', want '%s'", i, c->text, buf,
				 c->want);
		check_round_trip(f, c->text);
		vg_filter_free(f);
	}
}

static const struct error_case falco_error_cases[] = {
	/* refused: Falco's, with the reason */
	{ "fd.sip.name = x", 1, "fd.sip.name: not available in vigil: " },
	{ "proc.name = a or fd.lip.name exists", 18, "fd.lip.name: not available in vigil: " },
	{ "evt.rawarg.res < 0", 1, "evt.rawarg.res: not available in vigil: " },
	{ "evt.type = init_module", 12, "evt.type init_module: not available in vigil: " },
	{ "evt.type in (open, finit_module)", 20, "evt.type finit_module: not available in vigil: " },
	{ "evt.type = sendmmsg", 12, "evt.type sendmmsg: not available in vigil: " },
	{ "evt.type = socketpair", 12, "evt.type socketpair: not available in vigil: " },
	{ "proc.name regex 'a.*'", 11, "regex: not available in vigil: " },
	/* unknown stays unknown */
	{ "fd.nope = x", 1, "unknown field 'fd.nope'" },
	/* list fields */
	{ "test.types = ipv4", 12, "'=' does not apply to test.types, a list field: use in, intersects or exists" },
	{ "test.types contains ip", 12, "'contains' does not apply to test.types" },
	/* arguments */
	{ "proc.name[1] = x", 10, "proc.name takes no [argument]" },
	{ "test.mount = x", 11, "test.mount needs an argument: test.mount[...]" },
	{ "test.mount exists", 11, "test.mount needs an argument" },
	{ "test.aname[x] = a", 12, "expected an index (decimal digits) as the argument of test.aname, found 'x'" },
	{ "test.aname[-1] = a", 12, "expected an index" },
	{ "test.aname[] = a", 11, "expected an argument between the brackets of test.aname" },
	{ "test.aname[1 = a", 13, "expected ']' to close the argument of test.aname, found ' '" },
	{ "test.aname[1", 13, "expected ']' to close the argument of test.aname, found end of input" },
	{ "test.mount[\"a\\\"b\"] exists", 14, "escape in the argument of test.mount" },
	{ "test.mount['/a exists", 12, "expected a closing ''' for this argument" },
	{ "test.mount[a[b]] exists", 13, "expected ']' to close the argument" },
	{ "container.label.app[1] = x", 20, "container.label.app has its key already" },
	{ "container.label[] = x", 16, "expected an argument between the brackets" },
	/* IP fields */
	{ "test.net = 1.2.3.4/33", 12, "expected an IP network (ADDRESS/BITS) or address after '=' (test.net is an IP address), found '1.2.3.4/33'" },
	{ "test.net = ::/129", 12, "expected an IP network" },
	{ "test.net = 10.0.0.0/", 12, "expected an IP network" },
	{ "test.net = 10.0.0.0/+8", 12, "expected an IP network" },
	{ "test.net in (10.0.0.0/8, bogus)", 26, "expected an IP network (ADDRESS/BITS) or address after ','" },
	{ "test.ip = 1.2.3.0/24", 11, "expected an IP address after '=' (test.ip is an IP address)" },
	{ "test.ip = 1.2.3", 11, "expected an IP address" },
	{ "test.net contains 10", 10, "'contains' does not apply to test.net, an IP address compared with networks" },
	{ "test.ip startswith 10", 9, "'startswith' does not apply to test.ip, an IP address:" },
	{ "test.snet < 1.2.3.4", 11, "'<' does not apply to test.snet" },
	/* operators' values */
	{ "proc.name bcontains xyz1", 21, "expected hex digits, two a byte, after 'bcontains', found 'xyz1'" },
	{ "proc.name bstartswith abc", 23, "expected hex digits" },
	{ "proc.name pmatch /etc", 18, "expected '(' after 'pmatch', found '/etc'" },
	{ "proc.name intersects x", 22, "expected '(' after 'intersects', found 'x'" },
	{ "proc.name iglob \"[a\"", 17, "expected a ']' to close the '[' of this glob pattern" },
	{ "proc.name in (a", 16, "expected ',' or ')' in the list, found end of input" },
	{ "user.uid in ((1)", 17, "expected ',' or ')' in the list, found end of input" },
	{ "evt.type in (open, (bogus))", 21, "unknown event type 'bogus'" },
};

static void test_falco_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(falco_error_cases); i++)
		check_error(falco_error_cases[i].text, falco_error_cases[i].column,
			    falco_error_cases[i].msg);
}

/* A list's nesting counts as nesting. */
static void test_falco_list_depth(void **state)
{
	char text[256];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text, sizeof(text), "proc.name in ");
	for (int i = 0; i < VG_FILTER_MAX_DEPTH + 1; i++)
		text[n++] = '(';
	text[n++] = 'a';
	for (int i = 0; i < VG_FILTER_MAX_DEPTH + 1; i++)
		text[n++] = ')';
	text[n] = '\0';
	check_error(text, 14 + VG_FILTER_MAX_DEPTH, "nesting deeper than");
	/* and the deepest allowed compiles */
	memmove(text + 13, text + 14, strlen(text + 14) + 1);
	text[strlen(text) - 1] = '\0';
	compile_ok(text);
}

/* The argument reaches the getter as it was written, NUL-terminated. */
static void test_falco_arg_key(void **state)
{
	struct vg_filter *f = NULL;

	(void)state;
	assert_int_equal(vg_filter_compile("test.mount[/proc*] exists", &f, NULL), 0);
	last_mount_key = NULL;
	assert_false(vg_filter_match(f, lang_get, (void *)&lang_evs[0]));
	assert_non_null(last_mount_key);
	assert_string_equal(last_mount_key, "/proc*");
	assert_true(vg_filter_uses_field(f, T_MOUNT));
	vg_filter_free(f);
}

/* Falco's text of a result, for each kind. */
static void test_falco_res_text(void **state)
{
	static const struct {
		int64_t n;
		const char *want;
	} cases[] = {
		{ 0, "SUCCESS" }, { 42, "SUCCESS" }, { -1, "EPERM" },
		{ -13, "EACCES" }, { -115, "EINPROGRESS" }, { -41, "-41" },
		{ -512, "ERESTARTSYS" }, { -4095, "-4095" },
		{ INT64_MIN, "-9223372036854775808" },
	};
	char b[24];
	const char *s;
	size_t n;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		n = res_text(cases[i].n, b, &s);
		assert_int_equal(n, strlen(cases[i].want));
		assert_memory_equal(s, cases[i].want, n);
	}
}

static void test_field_lookup(void **state)
{
	static const struct {
		const char *name;
		int id;
		size_t off, len;
	} ok[] = {
		{ "proc.name", VG_F_PROC_NAME, 0, 0 },
		{ "container.label.app", VG_F_CONTAINER_LABEL, 16, 3 },
		{ "container.label[a b]", -1, 0, 0 }, /* a bare argument has no space */
		{ "container.label['a b']", VG_F_CONTAINER_LABEL, 17, 3 },
		{ "test.aname[2]", T_ANAME, 11, 1 },
		{ "test.aname", T_ANAME, 0, 0 },
		{ "test.mount[/proc*]", T_MOUNT, 11, 6 },
		{ "test.mount[\"/a b\"]", T_MOUNT, 12, 4 },
		{ "evt.res", VG_F_EVT_RES, 0, 0 },
	};
	static const struct {
		const char *name;
		int column;
		const char *msg;
	} bad[] = {
		{ "proc.nmae", 1, "unknown field 'proc.nmae' (did you mean proc.name?)" },
		{ "fd.sip.name", 1, "fd.sip.name: not available in vigil: " },
		{ "proc.name x", 10, "expected the end of the field name, found ' '" },
		{ "proc.name,", 10, "expected the end of the field name, found ','" },
		{ "test.mount", 11, "test.mount needs an argument" },
		{ "test.aname[x]", 12, "expected an index" },
		{ "", 1, "expected a field name" },
		{ "proc.name\n", 10, "control character 0x0a" },
	};

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(ok); i++) {
		struct vg_filter_error err;
		int id = -7, r;
		size_t off = 77, len = 77;

		r = vg_filter_field_lookup(ok[i].name, strlen(ok[i].name), &id,
					   &off, &len, &err);
		if (ok[i].id < 0) {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(id, -7);
			assert_int_equal(off, 77);
			assert_int_equal(len, 77);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", ok[i].name, err.msg);
		assert_int_equal(id, ok[i].id);
		assert_int_equal(off, ok[i].off);
		assert_int_equal(len, ok[i].len);
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(bad); i++) {
		struct vg_filter_error err;
		int id = -7;
		size_t off = 77, len = 77;

		assert_int_equal(vg_filter_field_lookup(bad[i].name, strlen(bad[i].name),
							&id, &off, &len, &err),
				 -EINVAL);
		assert_int_equal(id, -7);
		assert_int_equal(off, 77);
		assert_int_equal(len, 77);
		if (err.column != bad[i].column || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: column %d '%s', want column %d '%s'", bad[i].name,
				 err.column, err.msg, bad[i].column, bad[i].msg);
	}
	/* only the @len bytes count; a NULL @err is fine */
	{
		int id = -1;
		size_t off, len;

		assert_int_equal(vg_filter_field_lookup("proc.name = sh", 9, &id, &off,
							&len, NULL), 0);
		assert_int_equal(id, VG_F_PROC_NAME);
		assert_int_equal(vg_filter_field_lookup("test.aname[12]]", 14, &id,
							&off, &len, NULL), 0);
		assert_int_equal(id, T_ANAME);
		assert_int_equal(off, 11);
		assert_int_equal(len, 2);
		assert_int_equal(vg_filter_field_lookup(NULL, 0, &id, &off, &len, NULL),
				 -EINVAL);
	}
}

/* A multi-valued field asks no more than VG_FILTER_MAX_VALUES values of
 * a getter that never says it is done. */
static int endless_get(void *ctx, int id, const char *key, size_t key_len,
		       struct vg_fval *ret)
{
	unsigned *calls = ctx;

	(void)id, (void)key, (void)key_len;
	(*calls)++;
	ret->s = "x";
	ret->len = 1;
	return 1;
}

static void test_falco_values_bound(void **state)
{
	struct vg_filter *f = NULL;
	unsigned calls = 0;

	(void)state;
	assert_int_equal(vg_filter_compile("test.aname = y", &f, NULL), 0);
	assert_false(vg_filter_match(f, endless_get, &calls));
	assert_int_equal(calls, VG_FILTER_MAX_VALUES);
	vg_filter_free(f);
	calls = 0;
	assert_int_equal(vg_filter_compile("test.types in (x)", &f, NULL), 0);
	assert_true(vg_filter_match(f, endless_get, &calls));
	assert_int_equal(calls, VG_FILTER_MAX_VALUES);
	vg_filter_free(f);
}

/* Long lists are searched in a sorted copy: the same answers as a scan,
 * for strings (by length, then bytes) and numbers, and the list keeps
 * its order in the text. */
struct probe {
	const char *s;
	int64_t n;
};

static int probe_get(void *ctx, int id, const char *key, size_t key_len,
		     struct vg_fval *ret)
{
	const struct probe *p = ctx;

	(void)key, (void)key_len;
	if (id == VG_F_PROC_NAME || id == T_ANAME) {
		if (ret->idx > 0)
			return 0;
		ret->s = p->s;
		ret->len = strlen(p->s);
		return 1;
	}
	ret->n = p->n;
	return 1;
}

static void test_long_lists(void **state)
{
	static const char *const words[] = {
		"", "a", "b", "ab", "ba", "abc", "abd", "b\\xff", "zz", "zzz",
		"\\x00", "\\x00a", "sh", "bash", "python3", "node",
	};
	static const char *const raw[] = {
		"", "a", "b", "ab", "ba", "abc", "abd", "b\xff", "zz", "zzz",
		"", "", "sh", "bash", "python3", "node",
	};
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 400; round++) {
		char text[4096], back[4096];
		size_t n = 1 + (size_t)(round % 40), pos;
		bool in_s[VG_ARRAY_SIZE(words)] = { false };
		int64_t nums[64];
		bool by_name = round % 2 == 0, multi = round % 4 == 0;
		struct vg_filter *f = NULL;
		struct vg_filter_error err;

		pos = (size_t)snprintf(text, sizeof(text), "%s %s (",
				       by_name ? (multi ? "test.aname" : "proc.name") : "user.uid",
				       round % 3 ? "in" : "intersects");
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			if (by_name) {
				size_t w = (seed >> 8) % VG_ARRAY_SIZE(words);

				/* \x00 and \x00a stand for themselves only */
				if (w == 10 || w == 11)
					w = 9;
				in_s[w] = true;
				pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
							"%s\"%s\"", i ? ", " : "", words[w]);
			} else {
				nums[i] = (int64_t)((seed >> 4) % 41) - 20;
				pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
							"%s%lld", i ? ", " : "",
							(long long)nums[i]);
			}
		}
		snprintf(text + pos, sizeof(text) - pos, ")");
		if (vg_filter_compile(text, &f, &err) != 0)
			fail_msg("%s: %s", text, err.msg);
		if (by_name) {
			for (size_t w = 0; w < VG_ARRAY_SIZE(raw); w++) {
				struct probe p = { .s = raw[w] };

				if (w == 10 || w == 11)
					continue;
				if (vg_filter_match(f, probe_get, &p) != in_s[w])
					fail_msg("%s: '%s' %s", text, raw[w],
						 in_s[w] ? "not found" : "found");
			}
		} else {
			for (int64_t v = -22; v <= 22; v++) {
				struct probe p = { .n = v };
				bool want = false;

				for (size_t i = 0; i < n; i++)
					want |= nums[i] == v;
				if (vg_filter_match(f, probe_get, &p) != want)
					fail_msg("%s: %lld %s", text, (long long)v,
						 want ? "not found" : "found");
			}
		}
		/* the text keeps the list's order */
		vg_filter_format(f, back, sizeof(back));
		if (!by_name && strcmp(strchr(back, '('), strchr(text, '(')) != 0)
			fail_msg("'%s' formats as '%s'", text, back);
		check_round_trip(f, text);
		vg_filter_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_type_mask),
		cmocka_unit_test(test_match_no_alloc),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_file_events),
		cmocka_unit_test(test_falco_match),
		cmocka_unit_test(test_falco_format),
		cmocka_unit_test(test_falco_errors),
		cmocka_unit_test(test_falco_list_depth),
		cmocka_unit_test(test_falco_arg_key),
		cmocka_unit_test(test_falco_res_text),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_falco_values_bound),
		cmocka_unit_test(test_long_lists),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
