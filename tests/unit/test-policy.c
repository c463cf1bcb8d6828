/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "peer/policy.h"
#include "base/util.h"

/* ---- parser ----------------------------------------------------------- */

struct parse_case {
	const char *text;
	const char *err; /* NULL: valid; else a substring of the error */
	size_t n_rules;
};

static const struct parse_case parse_cases[] = {
	/* valid */
	{ "", NULL, 0 },
	{ "# only a comment\n\n   \n\t# another\n", NULL, 0 },
	{ "deny", NULL, 1 },
	{ "deny                       # matches everything\n", NULL, 1 },
	{ "allow container.image ~ \"docker.io/library/nginx:*\" k8s.ns.name = prod\n",
	  NULL, 1 },
	{ "deny user.uid = 0 # root\nallow user.uid = 1000\n", NULL, 2 },
	{ "allow proc.exe = /usr/bin/curl\r\ndeny\r\n", NULL, 2 },
	{ "allow container.label.com.example.team = \"a b\"", NULL, 1 },
	{ "allow container.name = \"\"", NULL, 1 },
	{ "allow proc.exe = \"a\\\"b\\\\c\"", NULL, 1 },
	{ "allow proc.exe = C:\\bare\\backslash", NULL, 1 },
	{ "allow proc.exe = \"#not a comment\"", NULL, 1 },
	{ "allow k8s.source = kubelet container.runtime != none", NULL, 1 },
	{ "allow k8s.source = runtime-labels\nallow k8s.source != cgroup", NULL, 2 },
	{ "allow k8s.source ~ \"k*\" container.runtime ~ cri-*", NULL, 1 },
	{ "allow user.uid = 4294967295 group.gid != 0", NULL, 1 },
	{ "allow k8s.pod.label.app = web k8s.pod.uid = x k8s.pod.name = y", NULL, 1 },
	{ "allow k8s.container.name = c container.id = x proc.name = sh", NULL, 1 },
	{ "allow proc.exe = /usr/bin/caf\xc3\xa9", NULL, 1 },
	{ "allow\nallow\nallow", NULL, 3 },

	/* invalid: the message names the file and the line */
	{ "permit user.uid = 0",
	  "policy.conf:1: expected 'allow' or 'deny', got 'permit'" },
	{ "Allow", "policy.conf:1: expected 'allow' or 'deny', got 'Allow'" },
	{ "\"allow\"", "policy.conf:1: expected 'allow' or 'deny', got a quoted string" },
	{ "allow\n\nallow user.name = x",
	  "policy.conf:3: unknown field 'user.name'" },
	{ "allow\nallow proc.exe = \"abc",
	  "policy.conf:2: unterminated quoted string" },
	{ "allow proc.exe = \"abc\\", "policy.conf:1: unterminated quoted string" },
	{ "allow user.uid = root", "policy.conf:1: user.uid needs a number, got 'root'" },
	{ "allow group.gid = -1", "policy.conf:1: group.gid needs a number, got '-1'" },
	{ "allow user.uid = \"\"", "policy.conf:1: user.uid needs a number, got ''" },
	{ "allow user.uid = 4294967296", "policy.conf:1: user.uid 4294967296 is out of range" },
	{ "allow user.uid ~ 1*", "policy.conf:1: '~' is not allowed on user.uid" },
	{ "allow group.gid ~ 1*", "policy.conf:1: '~' is not allowed on group.gid" },
	{ "allow user.uid=0",
	  "policy.conf:1: expected FIELD OP VALUE with spaces around the operator, got 'user.uid=0'" },
	{ "allow user.uid= 0", "with spaces around the operator, got 'user.uid='" },
	{ "allow user.uid =0", "policy.conf:1: expected FIELD OP VALUE with spaces around the operator, got '=0'" },
	{ "allow user.uid !=0", "with spaces around the operator, got '!=0'" },
	{ "allow proc.exe ~/usr/*", "with spaces around the operator, got '~/usr/*'" },
	{ "allow container.image~x", "with spaces around the operator" },
	{ "allow user.uid == 0", "policy.conf:1: unknown operator '=='" },
	{ "allow user.uid 0 x",
	  "policy.conf:1: expected an operator ('=', '!=' or '~') after user.uid, got '0'" },
	{ "allow user.uid \"=\" 0", "after user.uid, got a quoted string" },
	{ "allow user.uid", "policy.conf:1: user.uid needs an operator" },
	{ "allow user.uid =", "policy.conf:1: user.uid = needs a value" },
	{ "allow user.uid = 0 proc.exe", "policy.conf:1: proc.exe needs an operator" },
	{ "allow \"user.uid\" = 0", "policy.conf:1: expected a field name, got a quoted string" },
	{ "allow proc.exe = \"a\\nb\"", "policy.conf:1: unknown escape '\\n'" },
	{ "allow proc.exe = \"a\\'b\"", "unknown escape '\\''" },
	{ "allow proc.exe = a\"b\"", "policy.conf:1: '\"' inside a bare word" },
	{ "allow proc.exe = a#b", "policy.conf:1: '#' inside a bare word" },
	{ "deny#comment", "policy.conf:1: '#' inside a bare word" },
	{ "allow proc.exe = \"a\"b", "policy.conf:1: expected a space after the closing quote" },
	{ "allow proc.exe = \"a\"#c", "expected a space after the closing quote" },
	{ "allow container.label. = x", "policy.conf:1: container.label. needs a key" },
	{ "allow container.label = x", "policy.conf:1: container.label needs a key" },
	{ "allow k8s.pod.label = x", "k8s.pod.label needs a key" },
	{ "allow k8s.source = kublet",
	  "policy.conf:1: k8s.source is one of none, cgroup, runtime-labels, kubelet; got 'kublet'" },
	{ "allow container.runtime != dockr", "policy.conf:1: container.runtime is one of" },
	{ "allow proc.exe = a\x01" "b", "policy.conf:1: control character 0x01" },
	{ "allow proc.exe = \"a\x1b[2Jb\"", "policy.conf:1: control character 0x1b" },
	{ "allow proc.exe = a\x7f", "control character 0x7f" },
	{ "allow\n\n\n\nallow proc.pid = 1", "policy.conf:5: unknown field 'proc.pid'" },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct vigil_policy *p = NULL;
		char err[512] = "unset";
		int r;

		r = vigil_policy_parse(c->text, strlen(c->text), "policy.conf",
				       &p, err, sizeof(err));
		if (!c->err) {
			if (r != 0)
				fail_msg("case %zu (%s): %s", i, c->text, err);
			assert_string_equal(err, "");
			assert_int_equal(vg_policy_n_rules(p), c->n_rules);
			/* the normalized text of a rule is itself a valid rule */
			for (size_t k = 0; k < vg_policy_n_rules(p); k++) {
				const char *t = vg_policy_rule_text(p, k);
				struct vigil_policy *q = NULL;
				char e2[512];

				if (vigil_policy_parse(t, strlen(t), "again", &q,
						       e2, sizeof(e2)) != 0)
					fail_msg("case %zu: '%s' does not parse back: %s",
						 i, t, e2);
				assert_string_equal(vg_policy_rule_text(q, 0), t);
				vigil_policy_free(q);
			}
			vigil_policy_free(p);
			continue;
		}
		if (r != -EINVAL)
			fail_msg("case %zu (%s): returned %d, not -EINVAL", i,
				 c->text, r);
		assert_null(p);
		if (!strstr(err, c->err))
			fail_msg("case %zu (%s): got '%s', want '%s'", i,
				 c->text, err, c->err);
	}
}

static int parse_gen(const char *text, size_t len, struct vigil_policy **p,
		     char *err, size_t errsz)
{
	*p = NULL;
	return vigil_policy_parse(text, len, "gen", p, err, errsz);
}

/* Limits, on generated policies too large for the table. */
static void test_parse_limits(void **state)
{
	struct vigil_policy *p;
	char err[512], *buf;
	size_t cap = 64 * 1024, len;

	(void)state;
	buf = malloc(cap);
	assert_non_null(buf);

	/* 32 conditions, then 33 */
	len = (size_t)snprintf(buf, cap, "allow");
	for (int i = 0; i < VG_POLICY_MAX_CONDS; i++)
		len += (size_t)snprintf(buf + len, cap - len, " user.uid != %d", i);
	assert_int_equal(parse_gen(buf, len, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 1);
	vigil_policy_free(p);
	len += (size_t)snprintf(buf + len, cap - len, " proc.exe = x");
	assert_int_equal(parse_gen(buf, len, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:1: more than 32 conditions in one rule");

	/* a line of exactly 8192 bytes, then one more */
	memset(buf, ' ', VG_POLICY_MAX_LINE);
	memcpy(buf, "deny", 4);
	buf[VG_POLICY_MAX_LINE - 1] = 'x';
	buf[VG_POLICY_MAX_LINE - 2] = '#';
	assert_int_equal(parse_gen(buf, VG_POLICY_MAX_LINE, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 1);
	vigil_policy_free(p);
	buf[VG_POLICY_MAX_LINE] = '\n';
	assert_int_equal(parse_gen(buf, VG_POLICY_MAX_LINE + 1, &p, err, sizeof(err)), 0);
	vigil_policy_free(p);
	memcpy(buf, "allow\n", 6);
	memset(buf + 6, '#', VG_POLICY_MAX_LINE + 1);
	assert_int_equal(parse_gen(buf, 6 + VG_POLICY_MAX_LINE + 1, &p, err,
				   sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:2: line longer than 8192 bytes");

	/* the most tokens a line can hold: one-byte values, one space apart */
	len = (size_t)snprintf(buf, cap, "deny");
	while (len + 2 <= VG_POLICY_MAX_LINE)
		len += (size_t)snprintf(buf + len, cap - len, " x");
	assert_int_equal(parse_gen(buf, len, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:1: more than 32 conditions in one rule");

	/* a NUL byte, named by its line */
	memcpy(buf, "allow\ndeny\nal\0ow\n", 17);
	assert_int_equal(parse_gen(buf, 17, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:3: NUL byte in the text");
	/* even inside a comment */
	memcpy(buf, "# a\0b\n", 6);
	assert_int_equal(parse_gen(buf, 6, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:1: NUL byte in the text");
	free(buf);

	/* 4096 rules, then 4097 */
	cap = 16 * (VG_POLICY_MAX_RULES + 1);
	buf = malloc(cap);
	assert_non_null(buf);
	len = 0;
	for (int i = 0; i < VG_POLICY_MAX_RULES; i++)
		len += (size_t)snprintf(buf + len, cap - len, "deny\n");
	assert_int_equal(parse_gen(buf, len, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), VG_POLICY_MAX_RULES);
	assert_int_equal(vg_policy_rule_line(p, VG_POLICY_MAX_RULES - 1),
			 VG_POLICY_MAX_RULES);
	vigil_policy_free(p);
	len += (size_t)snprintf(buf + len, cap - len, "# fine\nallow\n");
	assert_int_equal(parse_gen(buf, len, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gen:4098: more than 4096 rules");
	free(buf);
}

static void test_parse_api(void **state)
{
	struct vigil_policy *p = NULL;
	char err[64], tiny[8];
	const char *bad = "permit";

	(void)state;
	/* no name: errors still say where */
	assert_int_equal(vigil_policy_parse(bad, 6, NULL, &p, err, sizeof(err)),
			 -EINVAL);
	assert_true(vg_startswith(err, "policy:1: "));
	/* a small buffer is cut, and terminated */
	assert_int_equal(vigil_policy_parse(bad, 6, "x", &p, tiny, sizeof(tiny)),
			 -EINVAL);
	assert_string_equal(tiny, "x:1: ex");
	/* no buffer at all */
	assert_int_equal(vigil_policy_parse(bad, 6, "x", &p, NULL, 0), -EINVAL);
	assert_null(p);
	/* only @len bytes are read: the rest of the string is not policy */
	assert_int_equal(vigil_policy_parse("deny permit", 4, "x", &p, err,
					    sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 1);
	vigil_policy_free(p);
	assert_int_equal(vigil_policy_parse(NULL, 0, "x", &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 0);
	vigil_policy_free(p);
	assert_int_equal(vigil_policy_parse(NULL, 1, "x", &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(vigil_policy_parse("deny", 4, "x", NULL, err,
					    sizeof(err)), -EINVAL);
	vigil_policy_free(NULL);
	assert_null(vg_policy_rule_text(NULL, 0));
}

/* ---- warnings --------------------------------------------------------- */

#define W_EXE "allow on proc.exe alone"
#define W_NAME "allow on proc.name alone"

/* Rules that load but admit more than they seem to: the warning, on the
 * rule's line. The policy still applies as written. */
static const struct {
	const char *text;
	unsigned line;   /* 0: no warning */
	const char *warn;
} warn_cases[] = {
	{ "allow proc.exe = /usr/bin/curl", 1, W_EXE },
	{ "allow proc.exe ~ \"/usr/bin/*\"", 1, W_EXE },
	{ "allow proc.exe != /bin/sh", 1, W_EXE },
	{ "allow proc.exe = /usr/bin/curl proc.exe != /x", 1, W_EXE },
	{ "# curl\n\nallow proc.exe = /usr/bin/curl # comment", 3, W_EXE },
	{ "allow proc.exe = /usr/bin/curl proc.name = curl", 1, W_EXE },
	{ "allow proc.name = curl", 1, W_NAME },
	{ "deny user.uid = 0\r\nallow proc.name ~ c*\r\n", 2, W_NAME },
	/* beside an identity condition, proc.exe narrows a rule: fine */
	{ "allow proc.exe = /usr/bin/curl container.runtime = none", 0, NULL },
	{ "allow proc.exe = /usr/bin/curl user.uid = 1000", 0, NULL },
	{ "allow container.image ~ \"nginx:*\" proc.exe = /usr/sbin/nginx", 0, NULL },
	{ "allow k8s.pod.label.app = web proc.name = sh", 0, NULL },
	/* deny rules only take away */
	{ "deny proc.exe = /bin/sh", 0, NULL },
	{ "deny proc.name = sh", 0, NULL },
	/* no condition: allows everything, and says so */
	{ "allow", 0, NULL },
	{ "allow user.uid = 0", 0, NULL },
};

static void test_warnings(void **state)
{
	struct vigil_policy *p = NULL;
	char err[256];
	unsigned line;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(warn_cases); i++) {
		const char *t = warn_cases[i].text;

		print_message("%s\n", t);
		assert_int_equal(vigil_policy_parse(t, strlen(t), "policy.conf",
						    &p, err, sizeof(err)), 0);
		assert_int_equal(vg_policy_n_warnings(p),
				 warn_cases[i].line ? 1 : 0);
		if (warn_cases[i].line) {
			line = 0;
			assert_non_null(vg_policy_warning(p, 0, &line));
			assert_true(vg_startswith(vg_policy_warning(p, 0, NULL),
						  warn_cases[i].warn));
			assert_int_equal(line, warn_cases[i].line);
		}
		assert_null(vg_policy_warning(p, 1, &line));
		vigil_policy_free(p);
		p = NULL;
	}

	/* one a rule, in order; the rules themselves unchanged */
	const char *text = "allow proc.exe = /a\n"
			   "deny user.uid = 0\n"
			   "allow proc.name = b\n"
			   "allow proc.exe = /c user.uid = 1\n"
			   "allow proc.exe ~ /d*\n";

	assert_int_equal(vigil_policy_parse(text, strlen(text), "x", &p, err,
					    sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 5);
	assert_int_equal(vg_policy_n_warnings(p), 3);
	assert_true(vg_startswith(vg_policy_warning(p, 0, &line), W_EXE));
	assert_int_equal(line, 1);
	assert_true(vg_startswith(vg_policy_warning(p, 1, &line), W_NAME));
	assert_int_equal(line, 3);
	assert_true(vg_startswith(vg_policy_warning(p, 2, &line), W_EXE));
	assert_int_equal(line, 5);
	/* the reason says why proc.exe is weak */
	assert_non_null(strstr(vg_policy_warning(p, 0, NULL), "container"));
	assert_non_null(strstr(vg_policy_warning(p, 0, NULL), "exec"));
	vigil_policy_free(p);

	assert_int_equal(vg_policy_n_warnings(NULL), 0);
	assert_null(vg_policy_warning(NULL, 0, &line));
}

/* Every name the runtime and pod-source functions print is a value the
 * closed fields accept. */
static void test_closed_values(void **state)
{
	char text[128], err[256];
	struct vigil_policy *p;

	(void)state;
	for (int r = VG_RUNTIME_NONE; r <= VG_RUNTIME_UNKNOWN; r++) {
		snprintf(text, sizeof(text), "allow container.runtime = %s",
			 vg_runtime_name((enum vg_runtime)r));
		assert_int_equal(parse_gen(text, strlen(text), &p, err, sizeof(err)), 0);
		vigil_policy_free(p);
	}
	for (int s = VG_POD_SRC_NONE; s <= VG_POD_SRC_KUBELET; s++) {
		snprintf(text, sizeof(text), "allow k8s.source != %s",
			 vg_pod_source_name((enum vg_pod_source)s));
		assert_int_equal(parse_gen(text, strlen(text), &p, err, sizeof(err)), 0);
		vigil_policy_free(p);
	}
}

/* A rule's text is bounded, and cut between UTF-8 characters. */
static void test_rule_text_bounded(void **state)
{
	char text[2048], err[256];
	struct vigil_policy *p;
	const char *t;
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "allow proc.exe = ");
	while (len < 1500)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\xc3\xa9");
	assert_int_equal(parse_gen(text, len, &p, err, sizeof(err)), 0);
	t = vg_policy_rule_text(p, 0);
	assert_true(strlen(t) <= VG_POLICY_TEXT_MAX);
	assert_true(vg_endswith_n(t, strlen(t), "\xc3\xa9..."));
	vigil_policy_free(p);

	/* spacing and comments are not part of the rule */
	len = (size_t)snprintf(text, sizeof(text),
			       "  allow\tuser.uid   =  0   proc.exe = \"/bin/sh\"  # root shells\r");
	assert_int_equal(parse_gen(text, len, &p, err, sizeof(err)), 0);
	assert_string_equal(vg_policy_rule_text(p, 0),
			    "allow user.uid = 0 proc.exe = \"/bin/sh\"");
	vigil_policy_free(p);
}

/* ---- decisions -------------------------------------------------------- */

static struct vigil_identity *host_process(uint32_t uid, uint32_t gid,
					   const char *exe, const char *comm)
{
	struct vigil_identity *id = calloc(1, sizeof(*id));

	assert_non_null(id);
	id->status = VIGIL_OK;
	id->have_proc = true;
	id->proc.pid = 4242;
	id->proc.uid = id->proc.euid = uid;
	id->proc.gid = id->proc.egid = gid;
	if (exe) {
		id->proc.exe = strdup(exe);
		assert_non_null(id->proc.exe);
	}
	snprintf(id->proc.comm, sizeof(id->proc.comm), "%s", comm);
	return id;
}

/* nginx in pod prod/web-0, as the kubelet and Docker describe it */
static struct vigil_identity *nginx_container(void)
{
	static const char cid[] =
		"3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";
	struct vigil_identity *id =
		host_process(101, 101, "/usr/sbin/nginx", "nginx");
	struct vg_meta_entry *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->refs = 1;
	e->meta.runtime = VG_RUNTIME_DOCKER;
	snprintf(e->meta.id, sizeof(e->meta.id), "%s", cid);
	e->meta.name = strdup("k8s_nginx_web-0_prod_1111");
	e->meta.image = strdup("docker.io/library/nginx:1.25");
	assert_non_null(e->meta.name);
	assert_non_null(e->meta.image);
	assert_int_equal(vg_kv_set(&e->meta.labels, "com.example.team", "edge"), 0);
	assert_int_equal(vg_kv_set(&e->meta.labels, "empty", ""), 0);
	e->pod.source = VG_POD_SRC_KUBELET;
	e->pod.verified = true;
	e->pod.uid = strdup("1111-2222");
	e->pod.ns = strdup("prod");
	e->pod.name = strdup("web-0");
	e->pod.container_name = strdup("nginx");
	assert_non_null(e->pod.container_name);
	assert_int_equal(vg_kv_set(&e->pod.labels, "app", "web"), 0);

	id->attr.role = VG_ROLE_CONTAINER;
	id->attr.runtime = VG_RUNTIME_DOCKER;
	snprintf(id->attr.container_id, sizeof(id->attr.container_id), "%s", cid);
	snprintf(id->attr.pod_uid, sizeof(id->attr.pod_uid), "1111-2222");
	id->meta = e;
	return id;
}

/* CRI-O's conmon, watching a container from outside it */
static struct vigil_identity *conmon_monitor(void)
{
	struct vigil_identity *id =
		host_process(0, 0, "/usr/bin/conmon", "conmon");

	id->attr.role = VG_ROLE_MONITOR;
	id->attr.runtime = VG_RUNTIME_CRIO;
	snprintf(id->attr.container_id, sizeof(id->attr.container_id), "abcd");
	return id;
}

enum { ID_ROOT, ID_USER, ID_NGINX, ID_CONMON, ID_GONE, ID_NOPROC, ID_ODD, N_IDS };

static struct vigil_identity *ids[N_IDS];

static int make_ids(void **state)
{
	(void)state;
	ids[ID_ROOT] = host_process(0, 0, "/usr/sbin/sshd", "sshd");
	ids[ID_USER] = host_process(1000, 1000, "/usr/bin/curl", "curl");
	ids[ID_NGINX] = nginx_container();
	ids[ID_CONMON] = conmon_monitor();
	/* the peer is refused, but its stale facts would match "allow" */
	ids[ID_GONE] = host_process(1000, 1000, "/usr/bin/curl", "curl");
	ids[ID_GONE]->status = VIGIL_PEER_GONE;
	snprintf(ids[ID_GONE]->message, sizeof(ids[ID_GONE]->message),
		 "the process that connected has exited");
	ids[ID_NOPROC] = host_process(0, 0, NULL, "");
	ids[ID_NOPROC]->have_proc = false;
	ids[ID_ODD] = host_process(1000, 1000, "/opt/a \"b\"\\c", "x");
	return 0;
}

static int free_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_IDS; i++)
		vigil_identity_free(ids[i]);
	return 0;
}

struct decision_case {
	const char *policy;
	int id;
	bool allow;
	const char *why; /* exact */
};

#define NGINX_RULE "allow container.image ~ \"docker.io/library/nginx:*\" k8s.ns.name = prod"

static const struct decision_case decision_cases[] = {
	/* an image glob, and a namespace */
	{ NGINX_RULE "\n", ID_NGINX, true, "rule at line 1: " NGINX_RULE },
	{ NGINX_RULE "\n", ID_USER, false, "no rule matched: default deny" },
	{ "allow container.image ~ \"docker.io/library/nginx:*\" k8s.ns.name = dev",
	  ID_NGINX, false, "no rule matched: default deny" },
	/* fnmatch without flags: '*' crosses '/' and ':' */
	{ "allow container.image ~ docker.io/*", ID_NGINX, true,
	  "rule at line 1: allow container.image ~ docker.io/*" },
	{ "allow proc.exe ~ /usr/*", ID_USER, true,
	  "rule at line 1: allow proc.exe ~ /usr/*" },
	{ "allow container.image ~ \"nginx*\"", ID_NGINX, false,
	  "no rule matched: default deny" },
	/* uid */
	{ "deny user.uid = 0\nallow\n", ID_ROOT, false, "rule at line 1: deny user.uid = 0" },
	{ "deny user.uid = 0\nallow\n", ID_USER, true, "rule at line 2: allow" },
	{ "allow user.uid = 1000 group.gid = 1000", ID_USER, true,
	  "rule at line 1: allow user.uid = 1000 group.gid = 1000" },
	{ "allow user.uid = 1000 group.gid != 1000", ID_USER, false,
	  "no rule matched: default deny" },
	/* pods */
	{ "# prod only\n\nallow k8s.ns.name = prod", ID_NGINX, true,
	  "rule at line 3: allow k8s.ns.name = prod" },
	{ "allow k8s.ns.name = prod", ID_ROOT, false, "no rule matched: default deny" },
	{ "allow k8s.pod.name ~ web-* k8s.pod.uid = 1111-2222 k8s.container.name = nginx",
	  ID_NGINX, true,
	  "rule at line 1: allow k8s.pod.name ~ web-* k8s.pod.uid = 1111-2222 k8s.container.name = nginx" },
	{ "allow k8s.source = kubelet", ID_NGINX, true, "rule at line 1: allow k8s.source = kubelet" },
	{ "allow k8s.source = none", ID_ROOT, true, "rule at line 1: allow k8s.source = none" },
	{ "allow k8s.source = none", ID_NGINX, false, "no rule matched: default deny" },
	/* labels */
	{ "allow container.label.com.example.team = edge", ID_NGINX, true,
	  "rule at line 1: allow container.label.com.example.team = edge" },
	{ "allow k8s.pod.label.app = web", ID_NGINX, true,
	  "rule at line 1: allow k8s.pod.label.app = web" },
	{ "allow k8s.pod.label.app = db", ID_NGINX, false, "no rule matched: default deny" },
	{ "allow container.label.empty = \"\"", ID_NGINX, true,
	  "rule at line 1: allow container.label.empty = \"\"" },
	{ "allow container.label.missing = \"\"", ID_NGINX, false,
	  "no rule matched: default deny" },
	{ "allow container.label.missing != x", ID_NGINX, true,
	  "rule at line 1: allow container.label.missing != x" },
	/* a field the identity lacks: never '=' or '~', always '!=' */
	{ "allow container.image != \"docker.io/library/nginx:1.25\"", ID_USER, true,
	  "rule at line 1: allow container.image != \"docker.io/library/nginx:1.25\"" },
	{ "allow container.image != \"docker.io/library/nginx:1.25\"", ID_NGINX, false,
	  "no rule matched: default deny" },
	{ "allow container.image ~ \"*\"", ID_USER, false, "no rule matched: default deny" },
	{ "allow container.name ~ \"*\"", ID_ROOT, false, "no rule matched: default deny" },
	{ "allow k8s.ns.name ~ \"*\"", ID_ROOT, false, "no rule matched: default deny" },
	{ "allow k8s.ns.name != prod", ID_ROOT, true, "rule at line 1: allow k8s.ns.name != prod" },
	/* a host process has no container id: "host" is not one */
	{ "allow container.id = host", ID_ROOT, false, "no rule matched: default deny" },
	{ "allow container.id ~ \"*\"", ID_ROOT, false, "no rule matched: default deny" },
	{ "allow container.runtime = none", ID_ROOT, true,
	  "rule at line 1: allow container.runtime = none" },
	{ "allow container.id ~ 3f4e* container.runtime = docker container.name ~ k8s_nginx_*",
	  ID_NGINX, true,
	  "rule at line 1: allow container.id ~ 3f4e* container.runtime = docker container.name ~ k8s_nginx_*" },
	/* a monitor is in no container, whatever it watches */
	{ "allow container.runtime = cri-o", ID_CONMON, false, "no rule matched: default deny" },
	{ "allow container.runtime = none container.id != abcd", ID_CONMON, true,
	  "rule at line 1: allow container.runtime = none container.id != abcd" },
	/* first match wins */
	{ "allow user.uid = 101\ndeny container.runtime = docker", ID_NGINX, true,
	  "rule at line 1: allow user.uid = 101" },
	{ "deny container.runtime = docker\nallow user.uid = 101", ID_NGINX, false,
	  "rule at line 1: deny container.runtime = docker" },
	{ "allow user.uid = 5\nallow proc.name = curl\ndeny", ID_USER, true,
	  "rule at line 2: allow proc.name = curl" },
	/* default deny, and no rules at all */
	{ "allow user.uid = 5", ID_USER, false, "no rule matched: default deny" },
	{ "", ID_USER, false, "the policy has no rules: default deny" },
	{ "# nothing here\n", ID_ROOT, false, "the policy has no rules: default deny" },
	/* a refused identity is denied, even by "allow" alone */
	{ "allow", ID_GONE, false,
	  "identity not established (peer_gone): the process that connected has exited" },
	/* no process facts: uid 0 is not known to be root */
	{ "allow user.uid = 0", ID_NOPROC, false, "no rule matched: default deny" },
	{ "allow proc.exe != /x proc.name != x", ID_NOPROC, true,
	  "rule at line 1: allow proc.exe != /x proc.name != x" },
	/* quoting: the reason shows the value as it must be written */
	{ "allow proc.exe = \"/opt/a \\\"b\\\"\\\\c\"", ID_ODD, true,
	  "rule at line 1: allow proc.exe = \"/opt/a \\\"b\\\"\\\\c\"" },
	{ "allow proc.exe = \"/usr/bin/curl\"", ID_USER, true,
	  "rule at line 1: allow proc.exe = \"/usr/bin/curl\"" },
};

static void test_decisions(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(decision_cases); i++) {
		const struct decision_case *c = &decision_cases[i];
		struct vigil_policy *p = NULL;
		char err[256], why[512];
		bool allow;

		if (vigil_policy_parse(c->policy, strlen(c->policy), "t.conf",
				       &p, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		allow = vigil_policy_allows(p, ids[c->id], why, sizeof(why));
		if (allow != c->allow || strcmp(why, c->why) != 0)
			fail_msg("case %zu (%s): got %s '%s', want %s '%s'", i,
				 c->policy, allow ? "allow" : "deny", why,
				 c->allow ? "allow" : "deny", c->why);
		/* the reason is optional */
		assert_true(vigil_policy_allows(p, ids[c->id], NULL, 0) == c->allow);
		vigil_policy_free(p);
	}
}

static void test_why_buffer(void **state)
{
	struct vigil_policy *p = NULL;
	char err[256], why[8];

	(void)state;
	assert_int_equal(vigil_policy_parse("allow", 5, "t", &p, err, sizeof(err)), 0);
	memset(why, 'x', sizeof(why));
	assert_true(vigil_policy_allows(p, ids[ID_USER], why, sizeof(why)));
	assert_string_equal(why, "rule at");
	memset(why, 'x', sizeof(why));
	assert_true(vigil_policy_allows(p, ids[ID_USER], why, 1));
	assert_int_equal(why[0], '\0');
	assert_int_equal(why[1], 'x');
	assert_true(vigil_policy_allows(p, ids[ID_USER], why, 0));
	assert_int_equal(why[0], '\0');
	/* no policy, no identity: denied, with a reason */
	assert_false(vigil_policy_allows(NULL, ids[ID_USER], why, sizeof(why)));
	assert_false(vigil_policy_allows(p, NULL, why, sizeof(why)));
	vigil_policy_free(p);
}

/* ---- files ------------------------------------------------------------ */

static char tmpdir[64];

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
	struct vigil_policy *p = NULL;
	char path[128], want[256], err[256];
	char *big;
	size_t i;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-policy.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	snprintf(path, sizeof(path), "%s/policy.conf", tmpdir);
	write_file(path, "deny user.uid = 0\nallow user.uid = 1000\n", 40);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 2);
	assert_false(vigil_policy_allows(p, ids[ID_ROOT], err, sizeof(err)));
	assert_true(vigil_policy_allows(p, ids[ID_USER], err, sizeof(err)));
	assert_string_equal(err, "rule at line 2: allow user.uid = 1000");
	assert_int_equal(vg_policy_n_warnings(p), 0);
	vigil_policy_free(p);
	p = NULL;

	/* a warning: loaded all the same, and the line is kept */
	write_file(path, "deny user.uid = 0\nallow proc.exe = /usr/bin/id\n", 47);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 2);
	assert_int_equal(vg_policy_n_warnings(p), 1);
	{
		unsigned line = 0;

		assert_non_null(vg_policy_warning(p, 0, &line));
		assert_int_equal(line, 2);
	}
	vigil_policy_free(p);
	p = NULL;

	/* a parse error names the file */
	write_file(path, "allow\npermit\n", 13);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: expected 'allow' or 'deny', got 'permit'", path);
	assert_string_equal(err, want);
	assert_null(p);

	/* a directory */
	assert_int_equal(vigil_policy_load(tmpdir, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_string_equal(err, want);

	/* a FIFO: refused, and the open does not wait for a writer */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));
	assert_int_equal(unlink(path), 0);

	/* missing */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(p);

	/* exactly 1 MiB of comments and one rule is fine; a byte more is not */
	big = malloc(VG_POLICY_MAX_FILE + 1);
	assert_non_null(big);
	for (i = 0; i < VG_POLICY_MAX_FILE; i += 64) {
		memset(big + i, '#', 63);
		big[i + 63] = '\n';
	}
	memcpy(big, "deny\n", 5);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	write_file(path, big, VG_POLICY_MAX_FILE);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), 0);
	assert_int_equal(vg_policy_n_rules(p), 1);
	vigil_policy_free(p);
	p = NULL;
	big[VG_POLICY_MAX_FILE] = '\n';
	write_file(path, big, VG_POLICY_MAX_FILE + 1);
	assert_int_equal(vigil_policy_load(path, &p, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than 1 MiB", path);
	assert_string_equal(err, want);
	assert_null(p);
	free(big);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/policy.conf", tmpdir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(tmpdir), 0);

	assert_int_equal(vigil_policy_load(NULL, &p, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_api),
		cmocka_unit_test(test_closed_values),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_rule_text_bounded),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_why_buffer),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, make_ids, free_ids);
}
