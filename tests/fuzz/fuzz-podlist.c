/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kubelet /pods JSON → PodList, then copies and container lookups of what
 * came out, so the whole result is walked and freed. */
#include <stdint.h>
#include <string.h>

#include "k8s/kubelet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_pod_list l;
	char err[256];

	err[0] = '\0';
	if (vg_kubelet_parse_podlist((const char *)data, size, &l, err,
				     sizeof(err)) < 0) {
		/* every failure says why */
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	if (l.n_pods > VG_PODLIST_MAX_PODS)
		__builtin_trap();
	for (size_t i = 0; i < l.n_pods; i++) {
		const struct vg_pod_info *p = &l.pods[i];
		struct vg_pod_info copy;

		if (!p->uid[0] || !p->ns[0] || !p->name[0] ||
		    strlen(p->uid) > VG_KV_MAX_KEY ||
		    p->n_containers > VG_POD_MAX_CONTAINERS ||
		    p->labels.n > VG_KV_MAX_PAIRS ||
		    p->annotations.n > VG_KV_MAX_PAIRS)
			__builtin_trap();
		for (size_t j = 0; j < p->n_containers; j++) {
			const struct vg_pod_container *c = &p->containers[j];

			/* a runtime never comes without an id */
			if (!c->name || (c->runtime && !c->id))
				__builtin_trap();
			if (c->id && !vg_pod_find_container(p, c->id))
				__builtin_trap();
		}
		if (vg_pod_info_copy(p, &copy) == 0) {
			if (strcmp(copy.uid, p->uid) != 0 ||
			    !vg_kv_equal(&copy.labels, &p->labels))
				__builtin_trap();
			vg_pod_info_release(&copy);
		}
	}
	vg_pod_list_release(&l);
	return 0;
}
