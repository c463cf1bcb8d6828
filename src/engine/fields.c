/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a filter sees of an event: each field by its Falco name, from the
 * event, the process table's part the engine filled in, and the
 * attribution. A field the event lacks is absent, never a made-up value.
 */
#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/kv.h"

struct getter {
	struct vg_engine *en;
	const struct vg_event *e;
	char *scratch; /* proc.args joined */
	size_t cap;
};

static int str_val(const char *s, struct vg_fval *ret)
{
	if (!s)
		return 0;
	ret->s = s;
	ret->len = strlen(s);
	return 1;
}

static int num_val(int64_t n, struct vg_fval *ret)
{
	ret->n = n;
	return 1;
}

/* proc.args: argv after argv[0], joined with spaces (Falco's form);
 * proc.cmdline: the name, then those. */
static int args_val(struct getter *g, bool cmdline, struct vg_fval *ret)
{
	const struct vg_event *e = g->e;
	size_t skip = 0, n, pre, len;

	if (e->type != VG_E_EXEC || !e->exec.args)
		return 0;
	len = e->exec.args_len;
	while (skip < len && e->exec.args[skip])
		skip++;
	skip = skip < len ? skip + 1 : len;
	n = len - skip;
	pre = cmdline ? strlen(e->t.comm) + 1 : 0;
	if (pre + n + 1 > g->cap) {
		char *b = realloc(g->scratch, pre + n + 1);

		if (!b)
			return 0;
		g->scratch = b;
		g->cap = pre + n + 1;
	}
	if (cmdline) {
		memcpy(g->scratch, e->t.comm, pre - 1);
		g->scratch[pre - 1] = ' ';
	}
	for (size_t i = 0; i < n; i++)
		g->scratch[pre + i] = e->exec.args[skip + i] ? e->exec.args[skip + i] : ' ';
	while (n && g->scratch[pre + n - 1] == ' ')
		n--;
	ret->s = g->scratch;
	ret->len = pre + n;
	return 1;
}

/* The event's result, where it has one. */
static bool result_of(const struct vg_event *e, int64_t *ret)
{
	switch (e->type) {
	case VG_E_OPEN: *ret = e->open.ret; return true;
	case VG_E_FILE: *ret = e->file.ret; return true;
	case VG_E_CONNECT:
	case VG_E_ACCEPT:
	case VG_E_BIND:
	case VG_E_LISTEN: *ret = e->net.ret; return true;
	case VG_E_SYSCALL: *ret = e->syscall.ret; return true;
	default: return false;
	}
}

static const struct vg_event_addr *addr_of(const struct vg_event *e, bool server)
{
	if (e->type < VG_E_CONNECT || e->type > VG_E_LISTEN)
		return NULL;
	return server ? &e->net.server : &e->net.client;
}

static int get_field(void *ctx, int field, const char *key, size_t key_len,
		     struct vg_fval *ret)
{
	struct getter *g = ctx;
	const struct vg_event *e = g->e;
	const struct vg_attribution *a = !e->x.attr_err ? e->x.attr : NULL;
	/* a container's metadata only for a claim its runtime stands behind */
	const struct vg_meta_entry *m =
		a && a->match.role == VG_ROLE_CONTAINER &&
				vg_meta_trusted(a->meta)
			? a->meta
			: NULL;
	const struct vg_event_addr *ad;
	int64_t res;

	(void)key_len;
	if (!e->has_task && field >= VG_F_PROC_PID && field <= VG_F_GROUP_GID)
		return 0;
	switch (field) {
	case VG_F_EVT_TYPE: return str_val(vg_event_type_name(e->type), ret);
	case VG_F_EVT_TIME:
		return num_val((int64_t)e->t.ktime_ns + g->en->boot_to_wall_ns, ret);
	case VG_F_EVT_CPU: return num_val(e->t.cpu, ret);
	case VG_F_EVT_RES: return result_of(e, &res) ? num_val(res, ret) : 0;
	case VG_F_PROC_PID: return num_val(e->t.pid, ret);
	case VG_F_PROC_TID: return num_val(e->t.tid, ret);
	case VG_F_PROC_PPID: return num_val(e->t.ppid, ret);
	case VG_F_PROC_NAME: return str_val(e->t.comm, ret);
	case VG_F_PROC_EXE: return str_val(e->x.exe, ret);
	case VG_F_PROC_CWD:
		return e->type == VG_E_EXEC ? str_val(e->exec.cwd, ret) : 0;
	case VG_F_PROC_ARGS: return args_val(g, false, ret);
	case VG_F_PROC_CMDLINE: return args_val(g, true, ret);
	case VG_F_PROC_EXEC_ID:
		vg_event_ids(e);
		return str_val(e->x.exec_id, ret);
	case VG_F_USER_UID: return num_val(e->t.uid, ret);
	case VG_F_GROUP_GID: return num_val(e->t.gid, ret);
	case VG_F_CGROUP_ID:
		return num_val((int64_t)(e->type == VG_E_CONTAINER
						 ? e->container.cgroup_id
						 : e->t.cgroup_id), ret);
	case VG_F_FD_NAME:
		return str_val(e->type == VG_E_OPEN ? e->open.name
			       : e->type == VG_E_FILE ? e->file.name : NULL, ret);
	case VG_F_FILE_ACTION:
		return e->type == VG_E_FILE
			       ? str_val(vg_file_action_name(e->file.action), ret) : 0;
	case VG_F_FD_SIP:
	case VG_F_FD_CIP:
		ad = addr_of(e, field == VG_F_FD_SIP);
		return ad && ad->family ? str_val(ad->text, ret) : 0;
	case VG_F_FD_SPORT:
	case VG_F_FD_CPORT:
		ad = addr_of(e, field == VG_F_FD_SPORT);
		return ad && ad->port >= 0 ? num_val(ad->port, ret) : 0;
	case VG_F_CONTAINER_ID:
		if (!a)
			return 0;
		return str_val(a->match.role == VG_ROLE_CONTAINER
				       ? a->match.container_id : "host", ret);
	case VG_F_CONTAINER_RUNTIME:
		return a ? str_val(vg_runtime_name(a->match.runtime), ret) : 0;
	case VG_F_CONTAINER_VERIFICATION:
		return a && a->match.role == VG_ROLE_CONTAINER && a->meta
			       ? str_val(vg_verify_name(a->meta->verify), ret)
			       : 0;
	case VG_F_CONTAINER_NAME: return m ? str_val(m->meta.name, ret) : 0;
	case VG_F_CONTAINER_IMAGE: return m ? str_val(m->meta.image, ret) : 0;
	case VG_F_CONTAINER_IMAGE_ID: return m ? str_val(m->meta.image_id, ret) : 0;
	case VG_F_CONTAINER_LABEL:
		return m ? str_val(vg_kv_get(&m->meta.labels, key), ret) : 0;
	}
	/* the pod: of a container whose claim is verified */
	m = a && vg_meta_trusted(a->meta) ? a->meta : NULL;
	if (!m || m->pod.source == VG_POD_SRC_NONE)
		return 0;
	switch (field) {
	case VG_F_K8S_NS_NAME: return str_val(m->pod.ns, ret);
	case VG_F_K8S_POD_NAME: return str_val(m->pod.name, ret);
	case VG_F_K8S_POD_UID: return str_val(m->pod.uid, ret);
	case VG_F_K8S_POD_LABEL: return str_val(vg_kv_get(&m->pod.labels, key), ret);
	case VG_F_K8S_CONTAINER_NAME: return str_val(m->pod.container_name, ret);
	}
	return 0;
}

bool engine_filter_matches(struct vg_engine *en, const struct vg_filter *f,
			   const struct vg_event *e)
{
	struct getter g = { .en = en, .e = e };
	bool r = vg_filter_match(f, get_field, &g);

	free(g.scratch);
	return r;
}

void vg_engine_with_fields(struct vg_engine *en, const struct vg_event *e,
			   void (*fn)(vg_filter_get_fn get, void *get_ctx, void *arg),
			   void *arg)
{
	struct getter g = { .en = en, .e = e };

	fn(get_field, &g, arg);
	free(g.scratch);
}
