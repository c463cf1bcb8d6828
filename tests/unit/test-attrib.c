/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One fixture host root per cgroup layout: what vigil must answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/attrib.h"

#define ID "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
#define NODE "1111111111111111111111111111111111111111111111111111111111111111"
#define POD "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define STATIC_POD "3a6b1e0b7f5c1d6a2b3c4d5e6f7a8b9c"

struct layout_case {
	const char *fixture;
	enum vigil_status status;
	enum vigil_role role;
	const char *runtime;
	const char *container_id; /* NULL: none */
	const char *pod_uid;      /* NULL: none */
	const char *nested_in;    /* NULL: none */
};

static const struct layout_case cases[] = {
	{ "host-hybrid", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL },
	{ "host-v2", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL },
	{ "docker-cgroupfs-v1", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL },
	{ "docker-cgroupfs-v1only", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL },
	{ "docker-systemd-v2", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL },
	{ "docker-in-docker", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NODE },
	{ "containerd-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", "web-1", NULL, NULL },
	{ "containerd-dockers-instance", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", "web-1", NULL, NULL },
	{ "containerd-shape-no-task", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL },
	{ "cri-containerd-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL },
	{ "crio-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "cri-o", ID, POD, NULL },
	{ "crio-conmon", VIGIL_OK, VIGIL_ROLE_MONITOR, "cri-o", "host", POD, NULL },
	{ "crio-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "cri-o", ID, POD, NULL },
	{ "podman-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL },
	{ "podman-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL },
	{ "podman-rootless", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL },
	{ "podman-conmon", VIGIL_OK, VIGIL_ROLE_MONITOR, "podman", "host", NULL, NULL },
	{ "k8s-cgroupfs-docker", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, POD, NULL },
	{ "k8s-cgroupfs-unknown", VIGIL_OK, VIGIL_ROLE_CONTAINER, "unknown", ID, POD, NULL },
	{ "k8s-guaranteed-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL },
	{ "k8s-static-pod", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, STATIC_POD, NULL },
	{ "k8s-pod-no-container", VIGIL_OK, VIGIL_ROLE_POD, "unknown", NULL, POD, NULL },
	{ "kind-nested", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NODE },
	{ "kind-node-process", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", NODE, NULL, NULL },
	{ "k3s", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL },
	{ "docker-cgroup-parent", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL },
	{ "podman-cgroup-parent", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL },
	{ "hex-leaf-no-runtime", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL },
	{ "conflict-container", VIGIL_CONFLICT, VIGIL_ROLE_HOST, "none", NULL, NULL, NULL },
	{ "conflict-pod", VIGIL_CONFLICT, VIGIL_ROLE_HOST, "none", NULL, NULL, NULL },
};

static char *fixture_path(const char *name)
{
	const char *base = getenv("VIGIL_FIXTURES");
	char *p;

	assert_non_null(base);
	assert_true(asprintf(&p, "%s/%s", base, name) > 0);
	return p;
}

static void check_case(const struct layout_case *c)
{
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;
	char *root = fixture_path(c->fixture);

	print_message("layout %s\n", c->fixture);
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	if (vigil_identity_status(id) != c->status)
		fail_msg("%s: status %s (%s), want %s", c->fixture,
			 vigil_status_name(vigil_identity_status(id)),
			 vigil_identity_message(id), vigil_status_name(c->status));
	if (c->status == VIGIL_OK) {
		const char *pod = vigil_identity_pod_uid(id);
		const char *cid = vigil_identity_container_id(id);

		assert_int_equal(vigil_identity_role(id), c->role);
		assert_string_equal(vigil_identity_runtime(id), c->runtime);
		if (c->container_id)
			assert_string_equal(cid, c->container_id);
		else
			assert_null(cid);
		if (c->pod_uid)
			assert_string_equal(pod, c->pod_uid);
		else
			assert_null(pod);
		if (c->nested_in)
			assert_string_equal(id->attr.nested_in, c->nested_in);
		else
			assert_string_equal(id->attr.nested_in, "");
	} else {
		/* a conflict names no container at all, and says why */
		assert_null(vigil_identity_container_id(id));
		assert_null(vigil_identity_pod_uid(id));
		assert_non_null(strstr(vigil_identity_message(id), "different"));
	}
	/* the process facts are read whatever the attribution */
	assert_string_equal(vigil_identity_exec_id(id),
			    "cabb7c05ed1b46df-100-12345");
	assert_int_equal(vigil_identity_uid(id), 1000);
	assert_string_equal(vigil_identity_exe(id), "/usr/bin/sleep");
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	free(root);
}

static void test_layouts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* A second look at the same cgroup (the cache) answers the same. */
static void test_cache_consistent(void **state)
{
	struct vigil_ctx *ctx = NULL;
	char *root = fixture_path("k3s");

	(void)state;
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	for (int i = 0; i < 3; i++) {
		struct vigil_identity *id = NULL;

		assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
		assert_string_equal(vigil_identity_runtime(id), "containerd");
		assert_string_equal(vigil_identity_container_id(id), ID);
		vigil_identity_free(id);
	}
	vigil_ctx_free(ctx);
	free(root);
}

static void test_start_time(void **state)
{
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;
	char *root = fixture_path("host-v2");
	char *json;

	(void)state;
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	/* 12345 ticks at 100 Hz after a boot at 1795000000 */
	assert_int_equal(id->start_boot_ns, 123450000000ull);
	assert_int_equal(id->start_wall_ns, 1795000123450000000ull);
	json = vigil_identity_to_json(id);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"wall\":\"2026-11-18T11:08:43.450Z\""));
	assert_non_null(strstr(json, "\"container\":{\"id\":\"host\",\"runtime\":\"none\""));
	free(json);
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	free(root);
}

static void test_missing_root(void **state)
{
	struct vigil_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(vigil_ctx_new("/nonexistent/vigil-root", &ctx), -ENOENT);
	assert_null(ctx);
	vigil_ctx_free(NULL);
	vigil_identity_free(NULL);
}

static void test_not_found(void **state)
{
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;
	char *root = fixture_path("host-v2");

	(void)state;
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 4242, &id), 0);
	assert_int_equal(vigil_identity_status(id), VIGIL_NOT_FOUND);
	assert_null(vigil_identity_exec_id(id));
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_cache_consistent),
		cmocka_unit_test(test_start_time),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test(test_not_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
