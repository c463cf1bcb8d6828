/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup path → (runtime, role, container id, pod uid): one line a case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"

#define ID "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
#define ID2 "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
#define POD "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define POD_U "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0"

#define C VG_ROLE_CONTAINER
#define H VG_ROLE_HOST
#define M VG_ROLE_MONITOR
#define P VG_ROLE_POD
#define DOCKER VG_RUNTIME_DOCKER
#define CTRD VG_RUNTIME_CONTAINERD
#define CRIO VG_RUNTIME_CRIO
#define PODMAN VG_RUNTIME_PODMAN
#define UNK VG_RUNTIME_UNKNOWN
#define NONE VG_RUNTIME_NONE

static const struct {
	const char *path;
	enum vg_cg_role role;
	enum vg_runtime runtime;
	const char *id;
	const char *pod;
	bool needs_confirm;
} paths[] = {
	{ "/", H, NONE, "", "", false },
	{ "/init.scope", H, NONE, "", "", false },
	{ "/user.slice/user-1000.slice/session-2.scope", H, NONE, "", "", false },
	{ "/system.slice/docker.service", H, NONE, "", "", false },
	{ "/docker/" ID, C, DOCKER, ID, "", false },
	{ "/docker/" ID "/", C, DOCKER, ID, "", false },
	{ "/system.slice/docker-" ID ".scope", C, DOCKER, ID, "", false },
	{ "/system.slice/docker-" ID ".scope/init.scope", C, DOCKER, ID, "", false },
	{ "/docker/" ID2 "/docker/" ID, C, DOCKER, ID, "", false },
	/* ids must be full: a short or non-hex id names nothing */
	{ "/docker/4f2a9c1d8e7b", H, NONE, "", "", false },
	{ "/system.slice/docker-XYZ.scope", H, NONE, "", "", false },
	{ "/docker/" ID "0", H, NONE, "", "", false },
	{ "/default/web-1", C, CTRD, "web-1", "", true },
	{ "/k8s.io/" ID, C, UNK, ID, "", true },
	/* --cgroup-parent: a hex leaf anywhere is a candidate */
	{ "/custom/parent/" ID, C, UNK, ID, "", true },
	{ "/default/web..1", H, NONE, "", "", false },
	{ "/default/web-1/extra", H, NONE, "", "", false },
	{ "/system.slice/cron.service", H, NONE, "", "", false },
	{ "/kubepods/burstable", H, NONE, "", "", false },
	{ "/system.slice/containerd.service/kubepods-burstable-pod" POD_U ".slice:cri-containerd:" ID, H, NONE, "", "", false },
	{ "/system.slice/cri-containerd-" ID ".scope", C, CTRD, ID, "", false },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U ".slice/cri-containerd-" ID ".scope", C, CTRD, ID, POD, false },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_U ".slice/crio-" ID ".scope", C, CRIO, ID, POD, false },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_U ".slice/crio-conmon-" ID ".scope", M, CRIO, ID, POD, false },
	{ "/kubepods.slice/kubepods-pod" POD_U ".slice/crio-" ID ".scope/container", C, CRIO, ID, POD, false },
	{ "/kubepods/burstable/pod" POD "/crio-" ID, C, CRIO, ID, POD, false },
	{ "/kubepods/burstable/pod" POD "/" ID, C, UNK, ID, POD, true },
	{ "/kubepods/pod" POD "/" ID, C, UNK, ID, POD, true },
	{ "/kubepods/besteffort/pod" POD, P, UNK, "", POD, false },
	/* a dashed uid in the systemd form, or underscores in cgroupfs, is
	 * not what kubelet writes */
	{ "/kubepods.slice/kubepods-pod" POD ".slice/crio-" ID ".scope", C, CRIO, ID, "", false },
	{ "/kubepods/burstable/pod" POD_U "/" ID, C, UNK, ID, "", true },
	/* a pod-looking name outside kubepods is not a pod: only containerd's
	 * /<ns>/<id> shape, which its state files must confirm */
	{ "/pod" POD "/" ID, C, UNK, ID, "", true },
	{ "/x/pod" POD "/" ID, C, UNK, ID, "", true },
	{ "/machine.slice/libpod-" ID ".scope", C, PODMAN, ID, "", false },
	{ "/machine.slice/libpod-" ID ".scope/container", C, PODMAN, ID, "", false },
	{ "/machine.slice/libpod-conmon-" ID ".scope", M, PODMAN, ID, "", false },
	{ "/libpod_parent/libpod-" ID, C, PODMAN, ID, "", false },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", C, PODMAN, ID, "", false },
	{ "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" POD_U ".slice/cri-containerd-" ID ".scope", C, CTRD, ID, POD, false },
	{ "/docker/" ID2 "/kubepods/besteffort/pod" POD "/" ID, C, UNK, ID, POD, true },
	/* a pod below the innermost container: in the pod, in no container */
	{ "/docker/" ID2 "/kubepods/besteffort/pod" POD, P, UNK, "", POD, false },
	/* a container nested in a pod's container: the pod is not its own */
	{ "/kubepods/besteffort/pod" POD "/" ID2 "/docker/" ID, C, DOCKER, ID, "", false },
	{ "", H, NONE, "", "", false },
	{ "////", H, NONE, "", "", false },
};

static void test_paths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct vg_cgroup_match m;

		vg_cgroup_parse_path(paths[i].path, strlen(paths[i].path), &m);
		if (m.role != paths[i].role || m.runtime != paths[i].runtime ||
		    strcmp(m.container_id, paths[i].id) != 0 ||
		    strcmp(m.pod_uid, paths[i].pod) != 0 ||
		    m.needs_confirm != paths[i].needs_confirm)
			fail_msg("%s\n got role=%s runtime=%s id='%s' pod='%s' "
				 "confirm=%d",
				 paths[i].path, vg_role_name(m.role),
				 vg_runtime_name(m.runtime), m.container_id,
				 m.pod_uid, m.needs_confirm);
	}
}

static void test_rootless_and_qos(void **state)
{
	struct vg_cgroup_match m;
	const char *p = "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope";
	const char *k = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U ".slice/crio-" ID ".scope";

	(void)state;
	vg_cgroup_parse_path(p, strlen(p), &m);
	assert_true(m.rootless);
	assert_int_equal(m.rootless_uid, 1000);
	vg_cgroup_parse_path(k, strlen(k), &m);
	assert_string_equal(m.pod_qos, "burstable");
	assert_false(m.rootless);
}

struct file_case {
	const char *text;
	enum vg_cgroup_error error;
	const char *id;
	const char *v2_path;
};

static const struct file_case files[] = {
	{ "0::/\n", VG_CGROUP_OK, "", "/" },
	{ "0::/docker/" ID "\n", VG_CGROUP_OK, ID, "/docker/" ID },
	{ "12:pids:/docker/" ID "\n1:name=systemd:/docker/" ID "\n0::/docker/" ID "\n", VG_CGROUP_OK, ID, "/docker/" ID },
	/* hybrid host where only v1 controllers carry the container */
	{ "4:memory:/docker/" ID "\n0::/\n", VG_CGROUP_OK, ID, "/" },
	/* pure v1: no 0:: line */
	{ "3:cpu,cpuacct:/docker/" ID "\n2:memory:/docker/" ID "\n", VG_CGROUP_OK, ID, NULL },
	/* no final newline */
	{ "0::/docker/" ID, VG_CGROUP_OK, ID, "/docker/" ID },
	/* a path holding ':' is split at the first two colons only */
	{ "0::/a:b:c\n", VG_CGROUP_OK, "", "/a:b:c" },
	{ "4:memory:/docker/" ID "\n0::/docker/" ID2 "\n", VG_CGROUP_CONFLICT, "", NULL },
	{ "4:memory:/kubepods/burstable/pod" POD "/" ID "\n0::/kubepods/burstable/podaaaabbbb-cccc-dddd-eeee-ffff00001111/" ID "\n", VG_CGROUP_CONFLICT, "", NULL },
	{ "4:memory:/machine.slice/libpod-" ID ".scope\n0::/system.slice/docker-" ID ".scope\n", VG_CGROUP_CONFLICT, "", NULL },
	{ "4:memory:/machine.slice/libpod-conmon-" ID ".scope\n0::/machine.slice/libpod-" ID ".scope\n", VG_CGROUP_CONFLICT, "", NULL },
	{ "", VG_CGROUP_EMPTY, "", NULL },
	{ "\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "0:/docker/" ID "\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "x:cpu:/docker/" ID "\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "0::relative\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "0::/\n0::/docker/" ID "\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "99999999999999999999:cpu:/\n", VG_CGROUP_MALFORMED, "", NULL },
	{ "0::/\n\n4:memory:/\n", VG_CGROUP_MALFORMED, "", NULL },
};

static void test_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct vg_cgroup_info info;

		assert_int_equal(vg_cgroup_parse_file(files[i].text,
						      strlen(files[i].text), &info),
				 0);
		if (info.error != files[i].error ||
		    strcmp(info.match.container_id, files[i].id) != 0)
			fail_msg("case %zu '%s': error %d (%s) id '%s'", i,
				 files[i].text, info.error, info.error_msg,
				 info.match.container_id);
		if (files[i].error == VG_CGROUP_OK) {
			if (files[i].v2_path)
				assert_string_equal(info.v2_path, files[i].v2_path);
			else
				assert_null(info.v2_path);
		} else {
			assert_true(strlen(info.error_msg) > 0);
		}
		vg_cgroup_info_release(&info);
	}
}

static void test_nul_and_too_many_lines(void **state)
{
	struct vg_cgroup_info info;
	const char nul[] = "0::/docker/\0" ID "\n";
	char *big;
	size_t len = 0;

	(void)state;
	assert_int_equal(vg_cgroup_parse_file(nul, sizeof(nul) - 1, &info), 0);
	assert_int_equal(info.error, VG_CGROUP_MALFORMED);
	vg_cgroup_info_release(&info);

	big = malloc(100 * 16);
	assert_non_null(big);
	for (int i = 1; i <= 100; i++)
		len += (size_t)sprintf(big + len, "%d:c%d:/\n", i, i);
	assert_int_equal(vg_cgroup_parse_file(big, len, &info), 0);
	assert_int_equal(info.error, VG_CGROUP_TOO_MANY);
	vg_cgroup_info_release(&info);
	free(big);
}

/* Names longer than the id buffers must be cut safely, never overflow. */
static void test_long_components(void **state)
{
	struct vg_cgroup_match m;
	size_t n = 100000;
	char *p = malloc(n + 1);

	(void)state;
	assert_non_null(p);
	memset(p, 'a', n);
	p[0] = '/';
	p[n / 2] = '/';
	p[n] = '\0';
	vg_cgroup_parse_path(p, n, &m);
	assert_int_equal(m.role, VG_ROLE_HOST);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_rootless_and_qos),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_nul_and_too_many_lines),
		cmocka_unit_test(test_long_components),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
