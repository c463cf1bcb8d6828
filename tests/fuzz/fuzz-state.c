/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runtime state files → container metadata: docker's config.v2.json, OCI
 * bundle config.json (containerd, CRI-O annotations), libpod's config,
 * and the mount table a rootfs's upper dir is found in.
 * The first byte picks the parser, so one corpus covers them all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/pod.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_container_meta m = { 0 };
	struct vg_pod_meta pod;
	const char *buf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	char *z;

	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		vg_docker_parse_config(buf, len, &m);
		break;
	case 1:
		if (vg_oci_parse_config(buf, len, &m) == 0)
			vg_crio_apply_annotations(&m);
		break;
	case 2:
		vg_podman_parse_config(buf, len, &m);
		break;
	case 3:
		z = strndup(buf, len);
		if (z) {
			vg_parse_rfc3339(z);
			free(z);
		}
		break;
	default: /* a mount table */
		z = strndup(buf, len);
		if (z) {
			free(vg_mountinfo_overlay_upper(z, "/run/c/rootfs"));
			free(z);
		}
		break;
	}
	/* whatever the labels say, the pod answer is well-formed */
	if (vg_pod_resolve("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", &m.labels,
			   NULL, "abc", &pod) == 0) {
		if (pod.source == VG_POD_SRC_NONE || !pod.uid)
			__builtin_trap();
		vg_pod_meta_release(&pod);
	}
	if (strlen(m.missing) >= sizeof(m.missing))
		__builtin_trap();
	vg_container_meta_release(&m);
	return 0;
}
