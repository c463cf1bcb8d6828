/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container metadata and pod answers from fixture runtime state. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "attrib/attrib.h"
#include "attrib/meta.h"
#include "k8s/pod.h"
#include "runtime/runtime.h"

#define ID "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
#define POD "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

static char fixtures[PATH_MAX];

static const char *meta_root(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/meta/%s", fixtures, name);
	return path;
}

static int setup(void **state)
{
	const char *f = getenv("VIGIL_FIXTURES");

	(void)state;
	snprintf(fixtures, sizeof(fixtures), "%s", f ? f : "tests/fixtures");
	return 0;
}

static struct vigil_identity *identify(const char *fixture,
				       struct vigil_ctx **ret_ctx)
{
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;

	assert_int_equal(vigil_ctx_new(meta_root(fixture), &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	assert_int_equal(id->status, VIGIL_OK);
	*ret_ctx = ctx;
	return id;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* One fixture host root per runtime: what vigil pid must say. */
struct meta_case {
	const char *fixture;
	enum vg_runtime runtime;
	const char *name, *image, *image_id, *state, *rootfs, *upper;
	const char *label_key, *label_value;
	bool complete;
	const char *missing_part; /* in meta.missing when incomplete */
	enum vg_pod_source pod_source;
	const char *pod_ns, *pod_name, *k8s_container;
	bool conflict;
};

#define OV2 "/var/lib/docker/overlay2/7c3e1f0a9b8d2c4e6f1a3b5d7e9f0a2c4b6d8e0f1a3c5e7b9d2f4a6c8e0b1d3f"
#define CS "/var/lib/containers/storage/overlay/c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1"

static const struct meta_case meta_cases[] = {
	{ "docker-plain", VG_RUNTIME_DOCKER, "web", "nginx:1.25",
	  "sha256:5f944b8f904f51b53512df8154acdd9b0febabbc2c08b4ac733ffe5ec03ac062",
	  "running", OV2 "/merged", OV2 "/diff", "com.example.tier", "front",
	  true, NULL, VG_POD_SRC_NONE, NULL, NULL, NULL, false },
	{ "docker-k8s", VG_RUNTIME_DOCKER, "k8s_nginx_web-0_prod_" POD "_0",
	  "nginx:1.25", NULL, "running", OV2 "/merged", OV2 "/diff", "team",
	  "blue", true, NULL, VG_POD_SRC_LABELS, "prod", "web-0", "nginx",
	  false },
	{ "docker-label-conflict", VG_RUNTIME_DOCKER, NULL, "nginx:1.25", NULL,
	  "running", NULL, NULL, NULL, NULL, true, NULL, VG_POD_SRC_LABELS,
	  "prod", "web-0", "nginx", true },
	{ "docker-label-claim", VG_RUNTIME_DOCKER, "fake", NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, true, NULL, VG_POD_SRC_LABELS, "kube-system",
	  "kube-apiserver", NULL, false },
	{ "docker-no-state", VG_RUNTIME_DOCKER, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, false, "not written yet", VG_POD_SRC_NONE, NULL,
	  NULL, NULL, false },
	{ "docker-truncated", VG_RUNTIME_DOCKER, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, false, "malformed", VG_POD_SRC_NONE, NULL, NULL,
	  NULL, false },
	{ "docker-wrong-types", VG_RUNTIME_DOCKER, NULL, NULL, NULL, NULL, NULL,
	  NULL, "b", "ok", false, "root filesystem", VG_POD_SRC_NONE, NULL,
	  NULL, NULL, false },
	{ "containerd-cri", VG_RUNTIME_CONTAINERD, "api",
	  "registry.example/api:2.1", NULL, "running",
	  "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/rootfs",
	  "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/32/fs",
	  "io.kubernetes.cri.sandbox-name", "api-7f9c", true, NULL,
	  VG_POD_SRC_LABELS, "default", "api-7f9c", "api", false },
	{ "containerd-plain", VG_RUNTIME_CONTAINERD, "web-1", NULL, NULL,
	  "running", "/run/containerd/io.containerd.runtime.v2.task/default/web-1/rootfs",
	  NULL, "team", "red", false, "image", VG_POD_SRC_NONE, NULL, NULL,
	  NULL, false },
	{ "crio", VG_RUNTIME_CRIO, "redis", "docker.io/library/redis:7",
	  "sha256:aa11bb22cc33dd44ee55ff6677889900aabbccddeeff00112233445566778899",
	  "running", CS "/merged", CS "/diff", "io.kubernetes.pod.name",
	  "cache-0", true, NULL, VG_POD_SRC_LABELS, "data", "cache-0", "redis",
	  false },
	{ "podman", VG_RUNTIME_PODMAN, "db", "docker.io/library/postgres:16",
	  "0cdbd28744cb267776e2537ec83d241d8871ca4a69193cd624d7b3350969bec0",
	  "running", CS "/merged", CS "/diff", "app", "billing", true, NULL,
	  VG_POD_SRC_LABELS, NULL, "db-0", NULL, false },
};

static void test_meta_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(meta_cases) / sizeof(meta_cases[0]); i++) {
		const struct meta_case *c = &meta_cases[i];
		struct vigil_ctx *ctx;
		struct vigil_identity *id;
		const struct vg_container_meta *m;
		const struct vg_pod_meta *pod;

		print_message("fixture %s\n", c->fixture);
		id = identify(c->fixture, &ctx);
		assert_int_equal(id->attr.runtime, c->runtime);
		assert_non_null(id->meta);
		m = &id->meta->meta;
		if (c->name || !c->complete)
			assert_str_or_null(m->name, c->name);
		if (c->image || c->runtime != VG_RUNTIME_DOCKER || !c->complete)
			assert_str_or_null(m->image, c->image);
		if (c->image_id)
			assert_str_or_null(m->image_id, c->image_id);
		if (c->state)
			assert_str_or_null(m->state, c->state);
		if (c->state)
			assert_int_equal(m->init_pid, 100);
		if (c->rootfs)
			assert_str_or_null(m->rootfs, c->rootfs);
		if (c->upper)
			assert_str_or_null(m->upperdir, c->upper);
		if (c->label_key)
			assert_str_or_null(vg_kv_get(&m->labels, c->label_key),
					   c->label_value);
		assert_int_equal(!m->incomplete, c->complete);
		if (c->missing_part)
			assert_non_null(strstr(m->missing, c->missing_part));
		pod = vg_identity_pod(id);
		assert_int_equal(pod->source, c->pod_source);
		assert_false(pod->verified); /* no kubelet here */
		assert_str_or_null(pod->ns, c->pod_ns);
		assert_str_or_null(pod->name, c->pod_name);
		if (c->k8s_container)
			assert_str_or_null(pod->container_name, c->k8s_container);
		assert_int_equal(pod->conflict[0] != '\0', c->conflict);
		if (c->conflict)
			/* the kernel's uid stands, not the labels' */
			assert_string_equal(pod->uid,
					    "99999999-8888-7777-6666-555555555555");
		vigil_identity_free(id);
		vigil_ctx_free(ctx);
	}
}

/* docker's times, pid and state. */
static void test_docker_times(void **state)
{
	struct vigil_ctx *ctx;
	struct vigil_identity *id = identify("docker-plain", &ctx);
	const struct vg_container_meta *m = &id->meta->meta;

	(void)state;
	assert_true(m->created_ns == 1795508336342072114ull);
	assert_true(m->started_ns == 1795508336507318785ull);
	assert_string_equal(m->source, "config.v2.json");
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
}

/* The public getters. */
static void test_public_getters(void **state)
{
	struct vigil_ctx *ctx;
	struct vigil_identity *id = identify("docker-k8s", &ctx);

	(void)state;
	assert_string_equal(vigil_identity_image(id), "nginx:1.25");
	assert_string_equal(vigil_identity_container_label(id, "team"), "blue");
	assert_null(vigil_identity_container_label(id, "nope"));
	assert_string_equal(vigil_identity_pod_namespace(id), "prod");
	assert_string_equal(vigil_identity_pod_name(id), "web-0");
	assert_string_equal(vigil_identity_pod_source(id), "runtime-labels");
	assert_non_null(vigil_identity_container_name(id));
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	id = identify("docker-plain", &ctx);
	assert_null(vigil_identity_pod_name(id));
	assert_string_equal(vigil_identity_pod_source(id), "none");
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
}

static void test_rfc3339(void **state)
{
	static const struct {
		const char *in;
		uint64_t want;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 }, /* the epoch reads as unknown */
		{ "1970-01-01T00:00:01Z", 1000000000ull },
		{ "2026-11-24T08:18:56.507318785Z", 1795508336507318785ull },
		{ "2026-11-24T08:18:56.5Z", 1795508336500000000ull },
		{ "2026-11-24T09:18:56+01:00", 1795508336000000000ull },
		{ "2026-11-24 08:18:56.302787897 +0000 UTC", 0 },
		{ "0001-01-01T00:00:00Z", 0 },
		{ "2026-13-01T00:00:00Z", 0 },
		{ "2026-11-24T08:18:56", 0 },
		{ "2026-11-24T08:18:56.Z", 0 },
		{ "", 0 },
		{ "garbage", 0 },
	};

	(void)state;
	assert_true(vg_parse_rfc3339(NULL) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].in);
		assert_true(vg_parse_rfc3339(cases[i].in) == cases[i].want);
	}
}

/* The overlay upper dir of a mount point, from a mount table. */
static void test_mountinfo_upper(void **state)
{
	static const char table[] =
		"22 1 0:21 / /proc rw - proc proc rw\n"
		"59 27 0:50 / /run/a\\040b/rootfs rw - overlay overlay rw,lowerdir=/l,upperdir=/up\\0401,workdir=/w\n"
		"60 27 0:51 / /run/x/rootfs rw - tmpfs tmpfs rw,upperdir=/not-overlay\n"
		"61 27 0:52 / /run/y/rootfs rw shared:5 master:1 - overlay overlay rw,upperdir=/first\n"
		"62 27 0:53 / /run/y/rootfs rw - overlay overlay rw,upperdir=/second\n"
		"garbage without the separator\n"
		"1 2 - overlay\n";
	static const struct {
		const char *mp, *want;
	} cases[] = {
		{ "/run/a b/rootfs", "/up 1" }, /* escapes undone */
		{ "/run/x/rootfs", NULL },      /* not an overlay */
		{ "/run/y/rootfs", "/second" }, /* the last mount is seen */
		{ "/proc", NULL },
		{ "/nowhere", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = strdup(table), *got;

		assert_non_null(buf);
		got = vg_mountinfo_overlay_upper(buf, cases[i].mp);
		assert_str_or_null(got, cases[i].want);
		free(got);
		free(buf);
	}
}

/* Parsers on hostile text: never crash, say why. */
static void test_parsers_bad_input(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "\"x\"", "{\"Name\":", "{}garbage",
		"{\"a\":\"\\u0000\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vg_container_meta m = { 0 };

		assert_int_equal(vg_docker_parse_config(bad[i], strlen(bad[i]), &m),
				 -EINVAL);
		assert_true(m.incomplete);
		assert_true(m.missing[0] != '\0');
		vg_container_meta_release(&m);
		assert_int_equal(vg_oci_parse_config(bad[i], strlen(bad[i]), &m),
				 -EINVAL);
		vg_container_meta_release(&m);
		assert_int_equal(vg_podman_parse_config(bad[i], strlen(bad[i]), &m),
				 -EINVAL);
		vg_container_meta_release(&m);
	}
	/* CRI-O's labels annotation that is not JSON */
	struct vg_container_meta m = { 0 };

	assert_int_equal(vg_kv_set(&m.labels, "io.kubernetes.cri-o.Labels", "{"), 0);
	assert_int_equal(vg_crio_apply_annotations(&m), 0);
	assert_true(m.incomplete);
	vg_container_meta_release(&m);
}

/* A copy of a fixture root in a temp dir, for cases that change it. */
static char *copy_fixture(const char *name)
{
	char tmpl[] = "/tmp/vigil-test-XXXXXX", cmd[PATH_MAX * 2 + 64];
	char *dir = mkdtemp(tmpl), *out;

	assert_non_null(dir);
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", meta_root(name), dir);
	assert_int_equal(system(cmd), 0);
	out = strdup(dir);
	assert_non_null(out);
	return out;
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A 50 MiB config.v2.json is refused, not read. */
static void test_huge_state_file(void **state)
{
	char *root = copy_fixture("docker-plain"), path[PATH_MAX];
	struct vigil_ctx *ctx;
	struct vigil_identity *id;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/" ID
		 "/config.v2.json", root);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 50 << 20), 0);
	assert_int_equal(pwrite(fd, "{", 1, 0), 1);
	close(fd);
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	assert_true(id->meta->meta.incomplete);
	assert_non_null(strstr(id->meta->meta.missing, "larger than"));
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	rm_rf(root);
	free(root);
}

/* Unreadable and missing runtime roots: an incomplete answer. */
static void test_missing_roots(void **state)
{
	char *root = copy_fixture("podman");
	char path[PATH_MAX];
	struct vigil_ctx *ctx;
	struct vigil_identity *id;

	(void)state;
	snprintf(path, sizeof(path), "rm -rf '%s/var/lib/containers'", root);
	assert_int_equal(system(path), 0);
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	/* attribution needs no state: podman by the cgroup's libpod- */
	assert_int_equal(id->attr.runtime, VG_RUNTIME_PODMAN);
	assert_true(id->meta->meta.incomplete);
	assert_non_null(strstr(id->meta->meta.missing, "containers.json"));
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	rm_rf(root);
	free(root);
}

/* Seconds a state-file test may take before SIGALRM ends it: a FIFO
 * that hung a read would otherwise hang the suite. */
#define STATE_ALARM_S 5

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Replace @rel under @root with a FIFO (nobody ever writes to it). */
static void plant_fifo(const char *root, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
}

#define DOCKER_CONFIG "var/lib/docker/containers/" ID "/config.v2.json"
#define CTRD_BUNDLE "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID
#define CS_USERDATA "overlay-containers/" ID "/userdata"

/*
 * A FIFO planted at a runtime's state file: the lookup answers at once,
 * incomplete and saying why, and never waits for a writer.
 */
static void test_fifo_state_files(void **state)
{
	static const struct {
		const char *fixture, *rel, *missing;
	} cases[] = {
		{ "docker-plain", DOCKER_CONFIG,
		  "config.v2.json: not a regular file" },
		{ "docker-plain",
		  "var/lib/docker/image/overlay2/layerdb/mounts/" ID "/mount-id",
		  "root filesystem unknown" },
		{ "containerd-cri", CTRD_BUNDLE "/config.json",
		  "bundle config.json: not a regular file" },
		{ "crio", "run/containers/storage/" CS_USERDATA "/config.json",
		  "CRI-O config.json: not a regular file" },
		{ "podman",
		  "var/lib/containers/storage/overlay-containers/containers.json",
		  "containers.json: not a regular file" },
		{ "podman", "var/lib/containers/storage/libpod/bolt_state.db",
		  "libpod database: not a regular file" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *root = copy_fixture(cases[i].fixture);
		struct vigil_ctx *ctx;
		struct vigil_identity *id;
		struct timespec t0;
		double secs;

		print_message("%s: FIFO at %s\n", cases[i].fixture, cases[i].rel);
		plant_fifo(root, cases[i].rel);
		alarm(STATE_ALARM_S);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(vigil_ctx_new(root, &ctx), 0);
		assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
		secs = elapsed_s(&t0);
		alarm(0);
		print_message("answered in %.3f s: %s\n", secs,
			      id->meta->meta.missing);
		assert_true(secs < 1.0);
		assert_true(id->meta->meta.incomplete);
		assert_non_null(strstr(id->meta->meta.missing, cases[i].missing));
		vigil_identity_free(id);
		vigil_ctx_free(ctx);
		rm_rf(root);
		free(root);
	}
}

/* The runtime's record of the init process: a FIFO or a symlink there is
 * no record; a symlinked directory on the way resolves inside the root. */
static void test_init_record_files(void **state)
{
	char *root = copy_fixture("containerd-cri"), path[PATH_MAX * 2];
	struct vg_runtime_cfg cfg;
	struct vg_cgroup_match m = { .runtime = VG_RUNTIME_CONTAINERD,
				     .role = VG_ROLE_CONTAINER };
	uint64_t mtime = 0;
	int root_fd, pid = 0;

	(void)state;
	vg_runtime_cfg_defaults(&cfg);
	snprintf(m.container_id, sizeof(m.container_id), "%s", ID);
	snprintf(m.ctr_namespace, sizeof(m.ctr_namespace), "k8s.io");
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root_fd >= 0);
	assert_int_equal(vg_runtime_init_record(&cfg, root_fd, &m, -1, &pid,
						&mtime), 0);
	assert_int_equal(pid, 100);
	assert_true(mtime > 0);

	/* containerd's state moved elsewhere in the host, and linked: the
	 * absolute link is the host's path, not the test's */
	snprintf(path, sizeof(path), "mkdir -p '%s/state' && mv '%s/run/containerd' "
		 "'%s/state/containerd' && ln -s /state/containerd '%s/run/containerd'",
		 root, root, root, root);
	assert_int_equal(system(path), 0);
	pid = 0;
	assert_int_equal(vg_runtime_init_record(&cfg, root_fd, &m, -1, &pid,
						NULL), 0);
	assert_int_equal(pid, 100);

	/* the pid file itself a symlink: not the runtime's record */
	snprintf(path, sizeof(path), "cd '%s/state/containerd/io.containerd."
		 "runtime.v2.task/k8s.io/" ID "' && mv init.pid real.pid && "
		 "ln -s real.pid init.pid", root);
	assert_int_equal(system(path), 0);
	assert_int_equal(vg_runtime_init_record(&cfg, root_fd, &m, -1, &pid,
						NULL), -ENOENT);

	/* a FIFO: refused at once */
	plant_fifo(root, "state/containerd/io.containerd.runtime.v2.task/"
			 "k8s.io/" ID "/init.pid");
	alarm(STATE_ALARM_S);
	assert_int_equal(vg_runtime_init_record(&cfg, root_fd, &m, -1, &pid,
						NULL), -EBADMSG);
	alarm(0);
	close(root_fd);
	rm_rf(root);
	free(root);
}

/* config.v2.json's name, read from the fixture root @root. */
static char *docker_name(const char *root, char *why, size_t whysz)
{
	struct vigil_ctx *ctx;
	struct vigil_identity *id;
	char *name;

	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	name = id->meta->meta.name ? strdup(id->meta->meta.name) : NULL;
	snprintf(why, whysz, "%s", id->meta->meta.missing);
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	return name;
}

/*
 * Symlinks in state paths resolve inside the host root: an absolute
 * target is the host's path, and ".." stops at the host root. Outside
 * it, in the test's own filesystem, a file of the same path says
 * "outside": it must never be read.
 */
static void test_state_symlinks_in_root(void **state)
{
	char *root = copy_fixture("docker-plain");
	char out_tmpl[] = "/tmp/vigil-outside-XXXXXX", *out = mkdtemp(out_tmpl);
	char cmd[PATH_MAX * 4], why[256], *name;
	static const struct {
		const char *target; /* of config.v2.json; %s: the outside dir */
		bool mirror;        /* the host root has the target too */
		const char *name, *missing;
	} cases[] = {
		/* the same absolute path: the host root's copy */
		{ "%s/config.v2.json", true, "inside", NULL },
		/* only outside the host root: not there */
		{ "%s/config.v2.json", false, NULL, "not written yet" },
		/* climbing out stops at the host root */
		{ "../../../../../../../../../..%s/config.v2.json", true,
		  "inside", NULL },
		/* vigil's own /etc/passwd exists, the host root's does not */
		{ "/etc/passwd", false, NULL, "not written yet" },
	};

	(void)state;
	assert_non_null(out);
	/* the same container, named "outside" and "inside" */
	snprintf(cmd, sizeof(cmd), "sed 's|\"Name\":\"/web\"|\"Name\":\"/outside\"|' "
		 "'%s/" DOCKER_CONFIG "' > '%s/config.v2.json' && "
		 "mv '%s/" DOCKER_CONFIG "' '%s/config.orig'", root, out, root,
		 root);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char target[PATH_MAX];

		snprintf(target, sizeof(target), cases[i].target, out);
		print_message("config.v2.json -> %s%s\n", target,
			      cases[i].mirror ? " (in the host root too)" : "");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s%s' && cd '%s' && "
			 "ln -sfn '%s' " DOCKER_CONFIG, root, out, root, target);
		assert_int_equal(system(cmd), 0);
		if (cases[i].mirror) {
			snprintf(cmd, sizeof(cmd), "mkdir -p '%s%s' && sed "
				 "'s|\"Name\":\"/web\"|\"Name\":\"/inside\"|' "
				 "'%s/config.orig' > '%s%s/config.v2.json'",
				 root, out, root, root, out);
			assert_int_equal(system(cmd), 0);
		}
		name = docker_name(root, why, sizeof(why));
		print_message("name %s: %s\n", name ? name : "(none)", why);
		assert_str_or_null(name, cases[i].name);
		if (cases[i].missing)
			assert_non_null(strstr(why, cases[i].missing));
		free(name);
	}
	rm_rf(out);
	rm_rf(root);
	free(root);
}

/* A listening socket at run/docker.sock under @root. */
static int listen_docker_socket(const char *root)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run", root);
	mkdir(sa.sun_path, 0755);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run/docker.sock", root);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 8), 0);
	return s;
}

/*
 * A Docker socket that accepts and never answers: the API fallback gives
 * up after its timeout, and the answer says why.
 */
static void test_docker_api_hangs(void **state)
{
	char *root = copy_fixture("docker-no-state");
	struct vg_attrib_opts o = { .api_timeout_ms = 300 };
	struct vigil_ctx *ctx;
	struct vigil_identity *id;
	struct timespec t0, t1;
	double secs;
	int s;

	(void)state;
	s = listen_docker_socket(root); /* and never accept */

	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vg_attrib_configure(ctx, &o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("answered in %.3f s: %s\n", secs, id->meta->meta.missing);
	assert_true(secs < 2.0);
	assert_true(id->meta->meta.incomplete);
	assert_non_null(strstr(id->meta->meta.missing, "Docker API"));
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	close(s);
	rm_rf(root);
	free(root);
}

/* A Docker Engine that answers one inspect request. */
static void *docker_answer_once(void *arg)
{
	static const char body[] =
		"{\"Id\":\"" ID "\",\"Name\":\"/from-api\","
		"\"Created\":\"2026-11-24T08:18:56.342072114Z\","
		"\"Image\":\"sha256:abcd\",\"Config\":{\"Image\":\"nginx:1.25\","
		"\"Labels\":{\"team\":\"api\"}},\"State\":{\"Status\":\"running\","
		"\"Pid\":100,\"StartedAt\":\"2026-11-24T08:18:56.507318785Z\"},"
		"\"HostConfig\":{\"Privileged\":true},"
		"\"GraphDriver\":{\"Name\":\"overlay2\",\"Data\":{"
		"\"MergedDir\":\"/var/lib/docker/overlay2/x/merged\","
		"\"UpperDir\":\"/var/lib/docker/overlay2/x/diff\"}}}";
	char req[4096], head[256];
	int s = *(int *)arg, c = accept(s, NULL, NULL);
	ssize_t n;

	if (c < 0)
		return NULL;
	n = read(c, req, sizeof(req) - 1); /* one small GET */
	req[n > 0 ? n : 0] = '\0';
	if (strstr(req, "GET /containers/" ID "/json ")) {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n", strlen(body));
		if (write(c, head, strlen(head)) < 0 ||
		    write(c, body, strlen(body)) < 0)
			print_message("fake docker: write failed\n");
	}
	close(c);
	return NULL;
}

/* No config.v2.json: the Engine API fills in what the files lack. */
static void test_docker_api_answers(void **state)
{
	char *root = copy_fixture("docker-no-state");
	struct vigil_ctx *ctx;
	struct vigil_identity *id;
	const struct vg_container_meta *m;
	pthread_t t;
	int s;

	(void)state;
	s = listen_docker_socket(root);
	assert_int_equal(pthread_create(&t, NULL, docker_answer_once, &s), 0);

	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &id), 0);
	pthread_join(t, NULL);
	m = &id->meta->meta;
	assert_string_equal(m->source, "docker-api");
	assert_false(m->incomplete);
	assert_string_equal(m->name, "from-api");
	assert_string_equal(m->image, "nginx:1.25");
	assert_string_equal(m->image_id, "sha256:abcd");
	assert_string_equal(vg_kv_get(&m->labels, "team"), "api");
	assert_string_equal(m->state, "running");
	assert_int_equal(m->init_pid, 100);
	assert_true(m->privileged_known && m->privileged);
	assert_string_equal(m->rootfs, "/var/lib/docker/overlay2/x/merged");
	assert_string_equal(m->upperdir, "/var/lib/docker/overlay2/x/diff");
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	close(s);
	rm_rf(root);
	free(root);
}

/* Metadata is read once per container, and dropped once its cgroup is. */
static void test_cache_and_sweep(void **state)
{
	char *root = copy_fixture("docker-plain"), path[PATH_MAX];
	struct vigil_ctx *ctx;
	struct vigil_identity *a, *b;

	(void)state;
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &a), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &b), 0);
	assert_ptr_equal(a->meta, b->meta);
	assert_int_equal(ctx->meta.reads, 1);
	assert_non_null(vg_meta_peek(ctx, ID));

	/* the cgroup stays: nothing dropped */
	assert_int_equal(vg_meta_sweep(ctx), 0);
	snprintf(path, sizeof(path), "%s/sys/fs/cgroup/docker/" ID, root);
	rm_rf(path);
	assert_int_equal(vg_meta_sweep(ctx), 1);
	assert_null(vg_meta_peek(ctx, ID));
	/* identities still hold what they were given */
	assert_string_equal(a->meta->meta.name, "web");
	assert_true(a->meta->dropped);
	vigil_identity_free(a);
	vigil_identity_free(b);
	vigil_ctx_free(ctx);
	rm_rf(root);
	free(root);
}

/* State written late is read again on a later sighting. */
static void test_retry_when_written(void **state)
{
	char *root = copy_fixture("docker-no-state"), cmd[PATH_MAX * 3];
	struct vigil_ctx *ctx;
	struct vigil_identity *a, *b;
	struct timespec pause = { 0, (long)VG_META_RETRY_NS + 10000000L };

	(void)state;
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);
	assert_int_equal(vigil_identify_pid(ctx, 100, &a), 0);
	assert_true(a->meta->meta.incomplete && a->meta->meta.retry);
	snprintf(cmd, sizeof(cmd),
		 "cp '%s/var/lib/docker/containers/" ID "/config.v2.json' "
		 "'%s/var/lib/docker/containers/" ID "/'",
		 meta_root("docker-plain"), root);
	assert_int_equal(system(cmd), 0);
	nanosleep(&pause, NULL);
	assert_int_equal(vigil_identify_pid(ctx, 100, &b), 0);
	assert_string_equal(b->meta->meta.name, "web");
	assert_int_equal(ctx->meta.reads, 2);
	vigil_identity_free(a);
	vigil_identity_free(b);
	vigil_ctx_free(ctx);
	rm_rf(root);
	free(root);
}

/* The fast path by pid: one read of the cgroup file and the caches. */
static void test_fast_path_by_pid(void **state)
{
	char path[PATH_MAX + 32];
	struct vigil_ctx *ctx;
	struct vg_attribution a, b;

	(void)state;
	assert_int_equal(vigil_ctx_new(meta_root("docker-k8s"), &ctx), 0);
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 100, &a), 0);
	assert_int_equal(a.match.role, VG_ROLE_CONTAINER);
	assert_int_equal(a.match.runtime, VG_RUNTIME_DOCKER);
	assert_string_equal(a.match.container_id, ID);
	assert_string_equal(a.match.pod_uid, POD);
	assert_non_null(a.meta);
	assert_string_equal(a.meta->meta.image, "nginx:1.25");
	assert_string_equal(a.meta->pod.name, "web-0");
	/* warm: the same answer from the caches, no second read of state */
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 100, &b), 0);
	assert_ptr_equal(b.meta, a.meta);
	assert_int_equal(ctx->meta.reads, 1);
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 4242, &b), -ESRCH);
	vigil_ctx_free(ctx);

	/* two containers in one file: never a pick */
	snprintf(path, sizeof(path), "%s/conflict-container", fixtures);
	assert_int_equal(vigil_ctx_new(path, &ctx), 0);
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 100, &b), -EDEADLK);
	vigil_ctx_free(ctx);
	/* a host process: no container, no metadata */
	snprintf(path, sizeof(path), "%s/host-v2", fixtures);
	assert_int_equal(vigil_ctx_new(path, &ctx), 0);
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 100, &b), 0);
	assert_int_equal(b.match.role, VG_ROLE_HOST);
	assert_null(b.meta);
	assert_int_equal(vg_attrib_pid_cgroup(ctx, 100, &b), 0);
	assert_null(b.meta);
	vigil_ctx_free(ctx);
}

/* The fast path by cgroup id, on the real cgroup2 mount (root only). */
static void test_fast_path_by_cgroup_id(void **state)
{
	static const char *const mounts[] = { "/sys/fs/cgroup/unified",
					      "/sys/fs/cgroup" };
	char base[256] = "", pod[512], ctr[768], probe[900];
	struct vigil_ctx *ctx;
	struct vg_attribution a, b;
	struct stat st;
	uint64_t id;

	(void)state;
	for (size_t i = 0; i < 2 && !base[0]; i++) {
		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", mounts[i]);
		if (access(probe, F_OK) == 0)
			snprintf(base, sizeof(base), "%s/vigil-test-%d.slice",
				 mounts[i], getpid());
	}
	if (geteuid() != 0 || !base[0]) {
		print_message("skipped: needs root and a cgroup2 mount\n");
		skip();
	}
	snprintf(pod, sizeof(pod),
		 "%s/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice",
		 base, "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0");
	snprintf(ctr, sizeof(ctr), "%s/crio-" ID ".scope", pod);
	snprintf(probe, sizeof(probe), "mkdir -p '%s'", ctr);
	assert_int_equal(system(probe) == 0 ? 0 : -1, 0);
	assert_int_equal(stat(ctr, &st), 0);
	id = (uint64_t)st.st_ino;

	assert_int_equal(vigil_ctx_new("/", &ctx), 0);
	assert_int_equal(vg_attrib_cgroup_id(ctx, id, &a), 0);
	assert_int_equal(a.match.role, VG_ROLE_CONTAINER);
	assert_int_equal(a.match.runtime, VG_RUNTIME_CRIO);
	assert_string_equal(a.match.container_id, ID);
	assert_string_equal(a.match.pod_uid, POD);
	assert_true(a.cgroup_id == id);
	assert_int_equal(vg_attrib_cgroup_id(ctx, id, &b), 0); /* warm */
	assert_ptr_equal(b.meta, a.meta);
	vigil_ctx_free(ctx);

	snprintf(probe, sizeof(probe), "find '%s' -depth -type d -exec rmdir {} +",
		 base);
	assert_int_equal(system(probe), 0);
	assert_int_equal(vigil_ctx_new("/", &ctx), 0);
	assert_int_equal(vg_attrib_cgroup_id(ctx, id, &b), -ENOENT); /* gone */
	vigil_ctx_free(ctx);
}

/* The pod answer's rules, without a kubelet. */
static void test_pod_resolve(void **state)
{
	struct vg_kv labels = VG_KV_INIT;
	struct vg_pod_meta p;

	(void)state;
	/* nothing at all */
	assert_int_equal(vg_pod_resolve(NULL, NULL, NULL, NULL, &p), 0);
	assert_int_equal(p.source, VG_POD_SRC_NONE);
	vg_pod_meta_release(&p);
	/* the cgroup's uid alone */
	assert_int_equal(vg_pod_resolve(POD, NULL, NULL, ID, &p), 0);
	assert_int_equal(p.source, VG_POD_SRC_CGROUP);
	assert_string_equal(p.uid, POD);
	assert_null(p.name);
	vg_pod_meta_release(&p);
	/* CRI annotations */
	vg_kv_set(&labels, "io.kubernetes.cri.sandbox-namespace", "ns1");
	vg_kv_set(&labels, "io.kubernetes.cri.sandbox-name", "p1");
	vg_kv_set(&labels, "io.kubernetes.cri.sandbox-uid", POD);
	vg_kv_set(&labels, "io.kubernetes.cri.container-name", "c1");
	assert_int_equal(vg_pod_resolve(POD, &labels, NULL, ID, &p), 0);
	assert_int_equal(p.source, VG_POD_SRC_LABELS);
	assert_false(p.verified);
	assert_string_equal(p.ns, "ns1");
	assert_string_equal(p.name, "p1");
	assert_string_equal(p.container_name, "c1");
	assert_string_equal(p.conflict, "");
	vg_pod_meta_release(&p);
	/* dockershim labels win over CRI annotations when both are there */
	vg_kv_set(&labels, "io.kubernetes.pod.name", "p2");
	assert_int_equal(vg_pod_resolve(POD, &labels, NULL, ID, &p), 0);
	assert_string_equal(p.name, "p2");
	vg_pod_meta_release(&p);
	/* labels and cgroup disagree */
	assert_int_equal(vg_pod_resolve("11111111-2222-3333-4444-555555555555",
					&labels, NULL, ID, &p), 0);
	assert_non_null(strstr(p.conflict, POD));
	assert_string_equal(p.uid, "11111111-2222-3333-4444-555555555555");
	assert_string_equal(p.labels_uid, POD);
	vg_pod_meta_release(&p);
	vg_kv_release(&labels);
}

/* Output keeps the source and claim visible. */
static void test_kv(void **state)
{
	struct vg_kv a = VG_KV_INIT, b = VG_KV_INIT;
	char big[VG_KV_MAX_KEY + 2];

	(void)state;
	assert_int_equal(vg_kv_set(&a, "b", "2"), 0);
	assert_int_equal(vg_kv_set(&a, "a", "1"), 0);
	assert_int_equal(vg_kv_set(&a, "c", "3"), 0);
	assert_int_equal(vg_kv_set(&a, "b", "two"), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.pairs[0].key, "a");
	assert_string_equal(a.pairs[2].key, "c");
	assert_string_equal(vg_kv_get(&a, "b"), "two");
	assert_null(vg_kv_get(&a, "zz"));
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(vg_kv_set(&a, big, "v"), -E2BIG);
	assert_int_equal(vg_kv_copy(&a, &b), 0);
	assert_true(vg_kv_equal(&a, &b));
	vg_kv_set(&b, "a", "x");
	assert_false(vg_kv_equal(&a, &b));
	for (int i = 0; i < VG_KV_MAX_PAIRS + 10; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%05d", i);
		if (vg_kv_set(&b, k, "v") == -E2BIG)
			break;
	}
	assert_int_equal(b.n, VG_KV_MAX_PAIRS);
	vg_kv_release(&a);
	vg_kv_release(&b);
	vg_kv_release(&b); /* twice is fine */
}

/* Falco's container.image.repository, .tag, .digest of a reference. */
static void test_image_ref_split(void **state)
{
	static const struct {
		const char *ref, *repo, *tag, *digest;
	} t[] = {
		{ "nginx", "nginx", "", "" },
		{ "nginx:1.25", "nginx", "1.25", "" },
		{ "docker.io/library/busybox:1.36", "docker.io/library/busybox", "1.36", "" },
		{ "localhost:5000/app", "localhost:5000/app", "", "" },
		{ "localhost:5000/app:v1", "localhost:5000/app", "v1", "" },
		{ "repo@sha256:abcd", "repo", "", "sha256:abcd" },
		{ "reg:443/a/b:t@sha256:ef", "reg:443/a/b", "t", "sha256:ef" },
		{ "", "", "", "" },
		{ ":x", "", "x", "" },
	};
	struct vg_image_ref r;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *s = t[i].ref;

		vg_image_ref_split(s, &r);
		if (strlen(t[i].repo) != r.repo_len || strncmp(s, t[i].repo, r.repo_len) ||
		    strlen(t[i].tag) != r.tag_len ||
		    strncmp(s + r.tag_off, t[i].tag, r.tag_len) ||
		    strlen(t[i].digest) != r.digest_len ||
		    strncmp(s + r.digest_off, t[i].digest, r.digest_len))
			fail_msg("'%s': repo '%.*s' tag '%.*s' digest '%.*s'", s,
				 (int)r.repo_len, s, (int)r.tag_len, s + r.tag_off,
				 (int)r.digest_len, s + r.digest_off);
	}
	vg_image_ref_split(NULL, &r);
	assert_int_equal(r.repo_len + r.tag_len + r.digest_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_fixtures),
		cmocka_unit_test(test_docker_times),
		cmocka_unit_test(test_public_getters),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_mountinfo_upper),
		cmocka_unit_test(test_parsers_bad_input),
		cmocka_unit_test(test_huge_state_file),
		cmocka_unit_test(test_missing_roots),
		cmocka_unit_test(test_fifo_state_files),
		cmocka_unit_test(test_init_record_files),
		cmocka_unit_test(test_state_symlinks_in_root),
		cmocka_unit_test(test_docker_api_hangs),
		cmocka_unit_test(test_docker_api_answers),
		cmocka_unit_test(test_cache_and_sweep),
		cmocka_unit_test(test_retry_when_written),
		cmocka_unit_test(test_fast_path_by_pid),
		cmocka_unit_test(test_fast_path_by_cgroup_id),
		cmocka_unit_test(test_pod_resolve),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_image_ref_split),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
