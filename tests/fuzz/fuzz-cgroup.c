/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/<pid>/cgroup text → lines, paths, container and pod. */
#include <stdint.h>
#include <string.h>

#include "cgroup/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_cgroup_info info;
	struct vg_cgroup_match m;

	if (vg_cgroup_parse_file((const char *)data, size, &info) == 0) {
		/* the combined answer is always a terminated, bounded string */
		if (strlen(info.match.container_id) > VG_CONTAINER_ID_MAX ||
		    strlen(info.match.pod_uid) > VG_POD_UID_MAX)
			__builtin_trap();
		if (info.error != VG_CGROUP_OK &&
		    (info.match.container_id[0] || !info.error_msg[0]))
			__builtin_trap();
		vg_cgroup_info_release(&info);
	}
	vg_cgroup_parse_path((const char *)data, size, &m);
	return 0;
}
