/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_IDENTITY_H
#define VG_RENDER_IDENTITY_H

#include "k8s/pod.h"
#include "render/printer.h"
#include "runtime/runtime.h"
#include "base/kv.h"
#include "vigil/vigil.h"

/* Describe @id as one record on @p (begins the record; the caller ends
 * it with vg_pr_end()). */
void vg_print_identity(struct vg_printer *p, const struct vigil_identity *id);

/* Pieces shared with `vigil containers` and `vigil tree`. */
void vg_print_kv(struct vg_printer *p, const char *key, const char *label,
		 const struct vg_kv *kv);
void vg_print_container_meta(struct vg_printer *p,
			     const struct vg_container_meta *c);
/* How a container claim was verified ("verified", "verification",
 * "unverified": why), then its runtime's metadata when it was read. */
struct vg_meta_entry;
void vg_print_claim(struct vg_printer *p, const struct vg_meta_entry *e);
/* The "k8s" member (null when there is no pod). */
void vg_print_k8s(struct vg_printer *p, const struct vg_pod_meta *pod,
		  const char *qos);

#endif
