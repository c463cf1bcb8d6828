/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_K8S_POD_H
#define VG_K8S_POD_H

#include <stdbool.h>

#include "k8s/kubelet.h"
#include "base/kv.h"

/* Where a pod answer came from. Only the cgroup's pod uid is a kernel
 * fact; the kubelet confirms it; runtime labels are claims. */
enum vg_pod_source {
	VG_POD_SRC_NONE = 0,
	VG_POD_SRC_CGROUP,  /* the uid alone, from the cgroup path */
	VG_POD_SRC_LABELS,  /* names from the container's runtime labels */
	VG_POD_SRC_KUBELET, /* the kubelet's /pods, matched by cgroup uid */
};

struct vg_pod_meta {
	enum vg_pod_source source;
	bool verified;      /* the kubelet knows this uid */
	char *uid;          /* the cgroup's, else the labels' */
	char *ns;
	char *name;
	char *container_name;
	struct vg_kv labels;      /* pod labels (kubelet only) */
	struct vg_kv annotations; /* pod annotations (kubelet only) */
	char *labels_uid;   /* the uid the runtime labels claim, if any */
	char conflict[256]; /* labels and cgroup disagree: what and how */
	char note[256];     /* why the answer is partial (kubelet down...) */
};

void vg_pod_meta_release(struct vg_pod_meta *p);

/* The pod a container's runtime labels or annotations describe:
 * kubelet's docker labels (io.kubernetes.pod.*), CRI annotations
 * (io.kubernetes.cri.sandbox-*). Returns true if they name a pod. */
struct vg_pod_claim {
	const char *ns, *name, *uid, *container_name; /* borrowed */
};
bool vg_pod_claim_from_labels(const struct vg_kv *labels,
			      struct vg_pod_claim *ret);

/*
 * The pod answer for a container: @cgroup_uid from the kernel (may be
 * NULL), @labels from its runtime (may be NULL), @kubelet to ask (may be
 * NULL), @container_id to find the container's name in the kubelet's pod.
 * Fills @ret (source NONE when there is no pod at all). Returns 0 or
 * -ENOMEM.
 */
int vg_pod_resolve(const char *cgroup_uid, const struct vg_kv *labels,
		   struct vg_kubelet *kubelet, const char *container_id,
		   struct vg_pod_meta *ret);

const char *vg_pod_source_name(enum vg_pod_source s);

#endif
