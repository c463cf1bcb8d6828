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
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

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
	/* how the container claim is verified (NULL: not a container), and
	 * a part of why not */
	const char *verification, *why;
};

static const struct layout_case cases[] = {
	{ "host-hybrid", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL, NULL, NULL },
	{ "host-v2", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL, NULL, NULL },
	{ "docker-cgroupfs-v1", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "runtime", NULL },
	{ "docker-cgroupfs-v1only", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "runtime", NULL },
	{ "docker-systemd-v2", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "runtime", NULL },
	{ "docker-in-docker", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NODE, "enclosing", NULL },
	{ "containerd-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", "web-1", NULL, NULL, "runtime", NULL },
	{ "containerd-dockers-instance", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", "web-1", NULL, NULL, "runtime", NULL },
	{ "containerd-shape-no-task", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL, NULL, NULL },
	{ "cri-containerd-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL, "runtime", NULL },
	{ "crio-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "cri-o", ID, POD, NULL, "runtime", NULL },
	{ "crio-conmon", VIGIL_OK, VIGIL_ROLE_MONITOR, "cri-o", "host", POD, NULL, NULL, NULL },
	{ "crio-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "cri-o", ID, POD, NULL, "runtime", NULL },
	{ "podman-cgroupfs", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL, "runtime", NULL },
	{ "podman-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL, "runtime", NULL },
	{ "podman-rootless", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL, "user", NULL },
	{ "podman-conmon", VIGIL_OK, VIGIL_ROLE_MONITOR, "podman", "host", NULL, NULL, NULL, NULL },
	{ "k8s-cgroupfs-docker", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, POD, NULL, "runtime", NULL },
	{ "k8s-cgroupfs-unknown", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "unknown", ID, POD, NULL, "failed", "no runtime" },
	{ "k8s-guaranteed-systemd", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL, "runtime", NULL },
	{ "k8s-static-pod", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, STATIC_POD, NULL, "runtime", NULL },
	{ "k8s-pod-no-container", VIGIL_OK, VIGIL_ROLE_POD, "unknown", NULL, POD, NULL, NULL, NULL },
	{ "kind-nested", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NODE, "enclosing", NULL },
	{ "kind-node-process", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", NODE, NULL, NULL, "runtime", NULL },
	{ "k3s", VIGIL_OK, VIGIL_ROLE_CONTAINER, "containerd", ID, POD, NULL, "runtime", NULL },
	{ "docker-cgroup-parent", VIGIL_OK, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "runtime", NULL },
	{ "podman-cgroup-parent", VIGIL_OK, VIGIL_ROLE_CONTAINER, "podman", ID, NULL, NULL, "runtime", NULL },
	{ "hex-leaf-no-runtime", VIGIL_OK, VIGIL_ROLE_HOST, "none", "host", NULL, NULL, NULL, NULL },
	{ "conflict-container", VIGIL_CONFLICT, VIGIL_ROLE_HOST, "none", NULL, NULL, NULL, NULL, NULL },
	{ "conflict-pod", VIGIL_CONFLICT, VIGIL_ROLE_HOST, "none", NULL, NULL, NULL, NULL, NULL },
	/* a cgroup named like container ID's, made where its runtime did
	 * not put it: the claim is shown as such, never as ID */
	{ "forged-user-v2", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "pending", "the user's runtime has not recorded" },
	{ "forged-elsewhere-v2", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "failed", "where its runtime put its init process 90" },
	{ "forged-v1only", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "failed", "recorded /system.slice/docker-" },
	{ "forged-hybrid", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NULL, "failed", "claimed /user.slice/" },
	{ "forged-nested-v2", VIGIL_UNVERIFIED, VIGIL_ROLE_CONTAINER, "docker", ID, NULL, NODE, "pending", "its enclosing container 111111111111 records no init" },
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
	if (c->verification)
		assert_string_equal(vigil_identity_container_verified(id),
				    c->verification);
	else
		assert_null(vigil_identity_container_verified(id));
	if (c->why)
		assert_non_null(strstr(vigil_identity_message(id), c->why));
	if (c->status == VIGIL_UNVERIFIED) {
		/* the claim, as such; nothing of the container it names */
		assert_string_equal(vigil_identity_container_id(id), c->container_id);
		assert_null(vigil_identity_container_name(id));
		assert_null(vigil_identity_image(id));
		assert_null(vigil_identity_pod_uid(id));
		assert_null(vigil_identity_pod_name(id));
	} else if (c->status == VIGIL_OK) {
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

/* The record's own time: a record older than the boot, or written before
 * the process it names started (a pid reused since), verifies nothing. */
static void stale_case(const char *tmp, time_t mtime, const char *why)
{
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;
	char rec[1024];
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

	snprintf(rec, sizeof(rec), "%s/run/docker/containerd/daemon/"
		 "io.containerd.runtime.v2.task/moby/%s/init.pid", tmp, ID);
	assert_int_equal(utimensat(AT_FDCWD, rec, ts, 0), 0);
	assert_int_equal(vigil_ctx_new(tmp, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	if (!why) {
		assert_int_equal(vigil_identity_status(id), VIGIL_OK);
		assert_string_equal(vigil_identity_container_verified(id), "runtime");
	} else {
		assert_int_equal(vigil_identity_status(id), VIGIL_UNVERIFIED);
		assert_non_null(strstr(vigil_identity_message(id), why));
	}
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
}

static void test_stale_record(void **state)
{
	char tmp[] = "/tmp/vigil-attrib-XXXXXX", cmd[2048];
	char *root = fixture_path("docker-systemd-v2");

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", root, tmp);
	assert_int_equal(system(cmd), 0);
	/* the fixture booted at 1795000000; pid 100 started 123.45 s later */
	stale_case(tmp, 1795000000 + 600, NULL);
	stale_case(tmp, 1795000000 - 60, "from before this boot");
	stale_case(tmp, 1795000000 + 60, "another process now");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
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
		cmocka_unit_test(test_stale_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
