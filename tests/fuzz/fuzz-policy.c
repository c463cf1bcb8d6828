/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy text → rules, then decisions for a host process and a container,
 * so every condition a parse accepts is also evaluated. Each rule's
 * normalized text must parse back to itself: the reason a decision gives
 * is then always a rule one could write. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/attrib.h"
#include "peer/policy.h"

static struct vigil_identity *host_id, *ctr_id;

static struct vigil_identity *new_process(uint32_t uid, const char *exe,
					  const char *comm)
{
	struct vigil_identity *id = calloc(1, sizeof(*id));

	if (!id)
		abort();
	id->status = VIGIL_OK;
	id->have_proc = true;
	id->proc.uid = id->proc.gid = uid;
	id->proc.exe = strdup(exe);
	snprintf(id->proc.comm, sizeof(id->proc.comm), "%s", comm);
	return id;
}

static void make_identities(void)
{
	struct vg_meta_entry *e;

	host_id = new_process(0, "/usr/sbin/sshd", "sshd");
	ctr_id = new_process(101, "/usr/sbin/nginx", "nginx");
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->refs = 1;
	e->meta.runtime = VG_RUNTIME_DOCKER;
	snprintf(e->meta.id, sizeof(e->meta.id), "3f4e5d6c7b8a");
	e->meta.name = strdup("web");
	e->meta.image = strdup("docker.io/library/nginx:1.25");
	vg_kv_set(&e->meta.labels, "com.example.team", "edge");
	e->pod.source = VG_POD_SRC_KUBELET;
	e->pod.uid = strdup("1111-2222");
	e->pod.ns = strdup("prod");
	e->pod.name = strdup("web-0");
	e->pod.container_name = strdup("nginx");
	vg_kv_set(&e->pod.labels, "app", "web");
	ctr_id->attr.role = VG_ROLE_CONTAINER;
	ctr_id->attr.runtime = VG_RUNTIME_DOCKER;
	snprintf(ctr_id->attr.container_id, sizeof(ctr_id->attr.container_id),
		 "3f4e5d6c7b8a");
	ctr_id->meta = e;
}

static void decide(const struct vigil_policy *p,
		   const struct vigil_identity *id)
{
	char why[600], tiny[5];
	bool a, b;

	memset(why, 'x', sizeof(why));
	a = vigil_policy_allows(p, id, why, sizeof(why));
	if (!memchr(why, '\0', sizeof(why)) || !why[0])
		__builtin_trap();
	/* the same answer with a cut reason, or none */
	memset(tiny, 'x', sizeof(tiny));
	b = vigil_policy_allows(p, id, tiny, sizeof(tiny));
	if (a != b || tiny[sizeof(tiny) - 1] != '\0')
		__builtin_trap();
	if (vigil_policy_allows(p, id, NULL, 0) != a)
		__builtin_trap();
	/* only a rule allows */
	if (a && strncmp(why, "rule at line ", 13) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_policy *p = NULL;
	char err[256];

	if (!host_id)
		make_identities();
	err[0] = '\0';
	if (vigil_policy_parse((const char *)data, size, "fuzz", &p, err,
			       sizeof(err)) < 0) {
		/* every failure says where */
		if (p || strncmp(err, "fuzz:", 5) != 0)
			__builtin_trap();
		return 0;
	}
	if (vg_policy_n_rules(p) > VG_POLICY_MAX_RULES)
		__builtin_trap();
	for (size_t i = 0; i < vg_policy_n_rules(p); i++) {
		const char *t = vg_policy_rule_text(p, i);
		struct vigil_policy *q = NULL;
		size_t n = strlen(t);

		if (n > VG_POLICY_TEXT_MAX)
			__builtin_trap();
		if (n >= 3 && strcmp(t + n - 3, "...") == 0)
			continue; /* cut: not a whole rule any more */
		if (vigil_policy_parse(t, n, "again", &q, err, sizeof(err)) < 0 ||
		    vg_policy_n_rules(q) != 1 ||
		    strcmp(vg_policy_rule_text(q, 0), t) != 0)
			__builtin_trap();
		vigil_policy_free(q);
	}
	decide(p, host_id);
	decide(p, ctr_id);
	vigil_policy_free(p);
	return 0;
}
