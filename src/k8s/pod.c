/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "k8s/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_pod_meta_release(struct vg_pod_meta *p)
{
	if (!p)
		return;
	free(p->uid);
	free(p->ns);
	free(p->name);
	free(p->container_name);
	vg_kv_release(&p->labels);
	vg_kv_release(&p->annotations);
	free(p->labels_uid);
	memset(p, 0, sizeof(*p));
}

const char *vg_pod_source_name(enum vg_pod_source s)
{
	switch (s) {
	case VG_POD_SRC_CGROUP: return "cgroup";
	case VG_POD_SRC_LABELS: return "runtime-labels";
	case VG_POD_SRC_KUBELET: return "kubelet";
	default: return "none";
	}
}

static const char *first(const struct vg_kv *kv, const char *a, const char *b)
{
	const char *v = vg_kv_get(kv, a);

	return v && *v ? v : (b && (v = vg_kv_get(kv, b)) && *v ? v : NULL);
}

bool vg_pod_claim_from_labels(const struct vg_kv *labels,
			      struct vg_pod_claim *ret)
{
	struct vg_pod_claim c = { 0 };

	if (!labels)
		return false;
	/* dockershim / cri-dockerd and CRI-O labels, then containerd's CRI
	 * annotations */
	c.ns = first(labels, "io.kubernetes.pod.namespace",
		     "io.kubernetes.cri.sandbox-namespace");
	c.name = first(labels, "io.kubernetes.pod.name",
		       "io.kubernetes.cri.sandbox-name");
	c.uid = first(labels, "io.kubernetes.pod.uid",
		      "io.kubernetes.cri.sandbox-uid");
	c.container_name = first(labels, "io.kubernetes.container.name",
				 "io.kubernetes.cri.container-name");
	if (!c.ns && !c.name && !c.uid)
		return false;
	*ret = c;
	return true;
}

static int dup_to(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int vg_pod_resolve(const char *cgroup_uid, const struct vg_kv *labels,
		   struct vg_kubelet *kubelet, const char *container_id,
		   struct vg_pod_meta *ret)
{
	struct vg_pod_meta out = { 0 };
	struct vg_pod_claim claim;
	bool have_claim = vg_pod_claim_from_labels(labels, &claim);
	int r = 0;

	if (cgroup_uid && !*cgroup_uid)
		cgroup_uid = NULL;
	if (!cgroup_uid && !have_claim) {
		*ret = out;
		return 0;
	}
	if (have_claim)
		r |= dup_to(&out.labels_uid, claim.uid);
	if (cgroup_uid && have_claim && claim.uid &&
	    strcmp(claim.uid, cgroup_uid) != 0)
		snprintf(out.conflict, sizeof(out.conflict),
			 "runtime labels name pod uid %s, the cgroup says %s",
			 claim.uid, cgroup_uid);

	if (cgroup_uid && kubelet) {
		struct vg_pod_info pod = { 0 };
		char err[256] = "";
		int k = vg_kubelet_pod(kubelet, cgroup_uid, &pod, err, sizeof(err));

		if (k == 0) {
			const struct vg_pod_container *pc =
				vg_pod_find_container(&pod, container_id);

			out.source = VG_POD_SRC_KUBELET;
			out.verified = true;
			r |= dup_to(&out.uid, cgroup_uid);
			r |= dup_to(&out.ns, pod.ns);
			r |= dup_to(&out.name, pod.name);
			if (pc)
				r |= dup_to(&out.container_name, pc->name);
			else if (container_id && *container_id)
				snprintf(out.note, sizeof(out.note),
					 "the kubelet's pod lists no container %.64s yet",
					 container_id);
			r |= vg_kv_copy(&pod.labels, &out.labels);
			r |= vg_kv_copy(&pod.annotations, &out.annotations);
			vg_pod_info_release(&pod);
			goto done;
		}
		if (k == -ENOMEM) {
			r = -ENOMEM;
			goto done;
		}
		snprintf(out.note, sizeof(out.note), "kubelet: %s",
			 *err ? err : strerror(-k));
	}
	if (have_claim) {
		out.source = VG_POD_SRC_LABELS;
		/* The kernel's uid stands; the names are the labels' claim. */
		r |= dup_to(&out.uid, cgroup_uid ? cgroup_uid : claim.uid);
		r |= dup_to(&out.ns, claim.ns);
		r |= dup_to(&out.name, claim.name);
		r |= dup_to(&out.container_name, claim.container_name);
		if (!cgroup_uid && !out.note[0])
			snprintf(out.note, sizeof(out.note),
				 "the container's cgroup is in no pod; only its labels name one");
	} else {
		out.source = VG_POD_SRC_CGROUP;
		r |= dup_to(&out.uid, cgroup_uid);
	}
done:
	if (r) {
		vg_pod_meta_release(&out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}
