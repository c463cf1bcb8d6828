/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public libvigil accessors over the attribution layer. */
#include "attrib/attrib.h"
#include "render/identity.h"
#include "render/printer.h"

const char *vigil_status_name(enum vigil_status st)
{
	switch (st) {
	case VIGIL_OK:
		return "ok";
	case VIGIL_NOT_FOUND:
		return "not_found";
	case VIGIL_CONFLICT:
		return "conflict";
	case VIGIL_BAD_PROC_FILE:
		return "bad_proc_file";
	case VIGIL_NO_CGROUP:
		return "no_cgroup";
	case VIGIL_ERROR:
		return "error";
	case VIGIL_PEER_GONE:
		return "peer_gone";
	case VIGIL_PEER_REUSED:
		return "peer_reused";
	case VIGIL_PEER_HIDDEN:
		return "peer_hidden";
	case VIGIL_PEER_CHANGED:
		return "peer_changed";
	case VIGIL_UNVERIFIED:
		return "unverified";
	}
	return "error";
}

enum vigil_status vigil_identity_status(const struct vigil_identity *id)
{
	return id->status;
}

const char *vigil_identity_message(const struct vigil_identity *id)
{
	return id->message;
}

pid_t vigil_identity_pid(const struct vigil_identity *id)
{
	return id->proc.pid;
}

const char *vigil_identity_exec_id(const struct vigil_identity *id)
{
	return id->have_proc ? id->exec_id : NULL;
}

uid_t vigil_identity_uid(const struct vigil_identity *id)
{
	return id->proc.uid;
}

gid_t vigil_identity_gid(const struct vigil_identity *id)
{
	return id->proc.gid;
}

const char *vigil_identity_exe(const struct vigil_identity *id)
{
	return id->proc.exe;
}

enum vigil_role vigil_identity_role(const struct vigil_identity *id)
{
	switch (id->attr.role) {
	case VG_ROLE_CONTAINER:
		return VIGIL_ROLE_CONTAINER;
	case VG_ROLE_MONITOR:
		return VIGIL_ROLE_MONITOR;
	case VG_ROLE_POD:
		return VIGIL_ROLE_POD;
	case VG_ROLE_HOST:
		break;
	}
	return VIGIL_ROLE_HOST;
}

const char *vigil_identity_runtime(const struct vigil_identity *id)
{
	return vg_runtime_name(id->attr.runtime);
}

const char *vigil_identity_container_id(const struct vigil_identity *id)
{
	if (id->status == VIGIL_UNVERIFIED)
		return id->attr.container_id; /* the claim, said to be one */
	if (id->status != VIGIL_OK)
		return NULL;
	if (id->attr.role == VG_ROLE_CONTAINER)
		return id->attr.container_id;
	return id->attr.role == VG_ROLE_POD ? NULL : "host";
}

const char *vigil_identity_container_verified(const struct vigil_identity *id)
{
	if ((id->status != VIGIL_OK && id->status != VIGIL_UNVERIFIED) ||
	    id->attr.role != VG_ROLE_CONTAINER || !id->meta)
		return NULL;
	return vg_verify_name(id->meta->verify);
}

const char *vigil_identity_pod_uid(const struct vigil_identity *id)
{
	return id->status == VIGIL_OK && id->attr.pod_uid[0] ? id->attr.pod_uid
							     : NULL;
}

uint64_t vigil_identity_cgroup_id(const struct vigil_identity *id)
{
	return id->cgroup_id;
}

static const struct vg_container_meta *meta_of(const struct vigil_identity *id)
{
	return id && id->meta ? &id->meta->meta : NULL;
}

const char *vigil_identity_container_name(const struct vigil_identity *id)
{
	return meta_of(id) ? meta_of(id)->name : NULL;
}

const char *vigil_identity_image(const struct vigil_identity *id)
{
	return meta_of(id) ? meta_of(id)->image : NULL;
}

const char *vigil_identity_container_label(const struct vigil_identity *id,
					   const char *key)
{
	return meta_of(id) && key ? vg_kv_get(&meta_of(id)->labels, key) : NULL;
}

const char *vigil_identity_pod_namespace(const struct vigil_identity *id)
{
	return id ? vg_identity_pod(id)->ns : NULL;
}

const char *vigil_identity_pod_name(const struct vigil_identity *id)
{
	return id ? vg_identity_pod(id)->name : NULL;
}

const char *vigil_identity_pod_source(const struct vigil_identity *id)
{
	return vg_pod_source_name(id ? vg_identity_pod(id)->source
				     : VG_POD_SRC_NONE);
}

char *vigil_identity_to_json(const struct vigil_identity *id)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	char *s;

	if (!p)
		return NULL;
	vg_print_identity(p, id);
	s = vg_pr_end_string(p);
	vg_printer_free(p);
	return s;
}
