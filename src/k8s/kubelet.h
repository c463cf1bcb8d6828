/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_K8S_KUBELET_H
#define VG_K8S_KUBELET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/kv.h"

/* Bounds on what one PodList may make us hold. A list with more items is
 * refused (-E2BIG); a pod's container statuses past the limit are
 * ignored. Kubelets default to 110 pods per node. */
#define VG_PODLIST_MAX_PODS 100000
#define VG_POD_MAX_CONTAINERS 1024
/* The bearer token file; service account tokens are ~1 KiB. */
#define VG_KUBELET_TOKEN_MAX (64 * 1024)

/* One pod as the kubelet's /pods endpoint describes it. */
struct vg_pod_container {
	char *name; /* spec name, e.g. "nginx" */
	char *id;   /* runtime container id, "docker://" etc. stripped; NULL
		     * when the status has none yet */
	char *runtime; /* the stripped scheme ("containerd", "cri-o",
			* "docker"), or NULL */
};

struct vg_pod_info {
	char *ns;
	char *name;
	char *uid;
	char *qos_class; /* status.qosClass, or NULL */
	struct vg_kv labels;
	struct vg_kv annotations;
	struct vg_pod_container *containers; /* spec, init and ephemeral
					      * container statuses */
	size_t n_containers;
};

struct vg_pod_list {
	struct vg_pod_info *pods;
	size_t n_pods;
};

void vg_pod_info_release(struct vg_pod_info *p);
void vg_pod_info_free(struct vg_pod_info *p);
int vg_pod_info_copy(const struct vg_pod_info *src, struct vg_pod_info *ret);
void vg_pod_list_release(struct vg_pod_list *l);

/* The container of @pod whose runtime id is @container_id, or NULL.
 * @container_id may also be spelled as in the status, "cri-o://<id>";
 * the runtime must then agree. Ids match whole, never by prefix. */
const struct vg_pod_container *
vg_pod_find_container(const struct vg_pod_info *pod, const char *container_id);

/* Parses a PodList (JSON, "kind":"PodList") from @buf. Pods without
 * metadata.uid are skipped; strings are bounded as in shared/kv.h.
 * Returns 0, -EINVAL (err says why), -E2BIG, or -ENOMEM.
 * Pods whose uid, namespace or name is missing, not a string, empty or
 * over VG_KV_MAX_KEY are skipped, so ns/name/uid are never NULL. Labels
 * and annotations that are not strings or over the kv.h limits are
 * skipped one by one; so are container statuses without a usable name.
 * "items": null (a kubelet with no pods) is an empty list. On success
 * the caller releases @ret with vg_pod_list_release(). */
int vg_kubelet_parse_podlist(const char *buf, size_t len,
			     struct vg_pod_list *ret, char *err, size_t errsz);

struct vg_kubelet_cfg {
	const char *url;        /* "http://127.0.0.1:10255" or
				 * "https://<node>:10250"; NULL = off */
	const char *token_file; /* bearer token, read at each refresh */
	const char *ca_file;    /* CA bundle to verify https against */
	uint32_t timeout_ms;    /* whole request; 0 = 2000 */
	uint32_t min_refresh_ms;/* a miss refreshes at most this often;
				 * 0 = 2000 */
	size_t max_body;        /* 0 = 64 MiB */
};

struct vg_kubelet;

/* Returns a client, or NULL on -ENOMEM (errno set). No I/O yet.
 * Also NULL with errno EINVAL when @cfg is unusable: no url, a url that
 * is not http:// or https://, or holds '?', '#', spaces or control
 * characters, or a token_file with a plain http:// url (a bearer token
 * is never sent in clear). The client copies what it needs of @cfg.
 * Calls may come from several threads; they are serialized, and a miss
 * waits for a fetch already under way rather than starting another. */
struct vg_kubelet *vg_kubelet_new(const struct vg_kubelet_cfg *cfg);
void vg_kubelet_free(struct vg_kubelet *k);

/* The pod with @uid. Served from the cached PodList; on a miss the list
 * is fetched again, at most once per min_refresh_ms. On success @ret is
 * a copy the caller releases with vg_pod_info_release().
 * Returns 0; -ENOENT when the kubelet answered and has no such pod;
 * -ETIMEDOUT, -ECONNREFUSED, -EPROTO (HTTP error status, bad JSON),
 * -E2BIG (body over max_body), -EACCES (401/403, or the token file is
 * unreadable, empty or not a token), -EAGAIN (refresh rate-limited and
 * the last fetch failed); err holds a one-line reason. Connecting may
 * also fail with -EHOSTUNREACH or -ENETUNREACH (or an unresolvable
 * host), a dropped connection with -ECONNRESET, TLS verification with
 * -EPROTO. -ENOENT only ever means "the kubelet has no such pod". */
int vg_kubelet_pod(struct vg_kubelet *k, const char *uid,
		   struct vg_pod_info *ret, char *err, size_t errsz);

#endif
