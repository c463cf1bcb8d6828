/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One exported record, read back: the filter's fields and vigil watch's
 * text line from the event's JSON, since a reader of the fleet has no
 * struct vg_event, only what the node sent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fleet.h"

/* The member at dotted @path ("proc.pid"), or NULL. */
static const json_t *jpath(const json_t *j, const char *path)
{
	char key[64];

	while (j && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key) || !json_is_object(j))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = json_object_get(j, key);
		path += n + (dot ? 1 : 0);
	}
	return j;
}

static const char *jstr(const json_t *j, const char *path)
{
	return json_string_value(jpath(j, path));
}

static bool jint(const json_t *j, const char *path, int64_t *ret)
{
	const json_t *v = jpath(j, path);

	if (!json_is_integer(v))
		return false;
	*ret = (int64_t)json_integer_value(v);
	return true;
}

static int str_val(const char *s, struct vg_fval *ret)
{
	if (!s)
		return 0;
	ret->s = s;
	ret->len = strlen(s);
	return 1;
}

static int num_of(const json_t *j, const char *path, struct vg_fval *ret)
{
	return jint(j, path, &ret->n) ? 1 : 0;
}

int vg_fleet_parse_time(const char *s, int64_t *ret_ns)
{
	struct tm tm = { 0 };
	int64_t frac = 0, scale = 1000000000;
	const char *p;

	if (!s)
		return -EINVAL;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	}
	time_t t = timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
			return -EINVAL;
		long off = (hh * 60 + mm) * 60;
		t += *p == '+' ? -off : off;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || t < 0)
		return -EINVAL;
	*ret_ns = (int64_t)t * 1000000000 + frac;
	return 0;
}

/* argv after argv[0] joined with spaces, or (cmdline) name first. */
static int args_val(struct vg_fleet_rec *r, bool cmdline, struct vg_fval *ret)
{
	const json_t *a = jpath(r->j, "proc.args");
	size_t need = 1, i, n = 0;
	const char *name = jstr(r->j, "proc.name");
	json_t *v;

	if (!json_is_array(a) || strcmp(jstr(r->j, "evt.type") ?: "", "exec") != 0)
		return 0;
	if (cmdline)
		need += strlen(name ? name : "") + 1;
	json_array_foreach(a, i, v)
		if (i > 0)
			need += strlen(json_string_value(v) ?: "") + 1;
	if (need > r->cap) {
		char *b = realloc(r->scratch, need);
		if (!b)
			return 0;
		r->scratch = b;
		r->cap = need;
	}
	if (cmdline) {
		n = strlen(name ? name : "");
		memcpy(r->scratch, name ? name : "", n);
		r->scratch[n++] = ' ';
	}
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v) ?: "";
		size_t l = strlen(s);
		if (i == 0)
			continue;
		memcpy(r->scratch + n, s, l);
		n += l;
		r->scratch[n++] = ' ';
	}
	while (n && r->scratch[n - 1] == ' ')
		n--;
	r->scratch[n] = '\0';
	ret->s = r->scratch;
	ret->len = n;
	return 1;
}

static bool is_net(const char *type)
{
	return type && (!strcmp(type, "connect") || !strcmp(type, "accept") ||
			!strcmp(type, "bind") || !strcmp(type, "listen"));
}

int vg_fleet_get_field(void *ctx, int field, const char *key, size_t key_len,
		       struct vg_fval *ret)
{
	struct vg_fleet_rec *r = ctx;
	const json_t *j = r->j;
	const char *type = jstr(j, "evt.type") ?: (jstr(j, "rule") ? "alert" : NULL);
	const char *cid = jstr(j, "container.id");
	bool in_container = cid && strcmp(cid, "host") != 0;
	/* metadata only for a claim its runtime stands behind, as the
	 * engine's getter: a record says "verified": false otherwise */
	bool trusted = json_is_true(jpath(j, "container.verified")) ||
		       (cid && !strcmp(cid, "host"));
	char path[160];
	int64_t t;

	(void)key_len;
	switch (field) {
	case VG_F_EVT_TYPE: return str_val(type, ret);
	case VG_F_EVT_TIME:
		if (vg_fleet_parse_time(jstr(j, "evt.time"), &t) < 0)
			return 0;
		ret->n = t;
		return 1;
	case VG_F_EVT_CPU: return num_of(j, "evt.cpu", ret);
	case VG_F_EVT_RES: return num_of(j, "evt_result.rawres", ret);
	case VG_F_PROC_PID: return num_of(j, "proc.pid", ret);
	case VG_F_PROC_TID: return num_of(j, "proc.tid", ret);
	case VG_F_PROC_PPID: return num_of(j, "proc.ppid", ret);
	case VG_F_PROC_NAME: return str_val(jstr(j, "proc.name"), ret);
	case VG_F_PROC_EXE: return str_val(jstr(j, "proc.exe"), ret);
	case VG_F_PROC_CWD: return str_val(jstr(j, "proc.cwd"), ret);
	case VG_F_PROC_ARGS: return args_val(r, false, ret);
	case VG_F_PROC_CMDLINE: return args_val(r, true, ret);
	case VG_F_PROC_EXEC_ID: return str_val(jstr(j, "proc.exec_id"), ret);
	case VG_F_PROC_IS_EXE_UPPER_LAYER:
	case VG_F_PROC_IS_EXE_FROM_MEMFD: {
		/* an exec's record says it */
		const char *o = jstr(j, "proc.exe_origin");

		if (!o)
			return 0;
		return str_val(!strcmp(o, field == VG_F_PROC_IS_EXE_UPPER_LAYER ? "upper"
										 : "memfd")
				       ? "true" : "false", ret);
	}
	case VG_F_USER_UID: return num_of(j, "user.uid", ret);
	case VG_F_GROUP_GID: return num_of(j, "group.gid", ret);
	case VG_F_CGROUP_ID: return num_of(j, "cgroup.id", ret);
	case VG_F_FD_NAME:
		return type && (!strcmp(type, "open") || !strcmp(type, "file"))
			       ? str_val(jstr(j, "fd.name"), ret) : 0;
	case VG_F_FILE_ACTION: return str_val(jstr(j, "file.action"), ret);
	case VG_F_FD_SIP: return is_net(type) ? str_val(jstr(j, "fd.sip"), ret) : 0;
	case VG_F_FD_CIP: return is_net(type) ? str_val(jstr(j, "fd.cip"), ret) : 0;
	case VG_F_FD_SPORT: return is_net(type) ? num_of(j, "fd.sport", ret) : 0;
	case VG_F_FD_CPORT: return is_net(type) ? num_of(j, "fd.cport", ret) : 0;
	case VG_F_CONTAINER_ID: return str_val(cid, ret);
	case VG_F_CONTAINER_RUNTIME: return str_val(jstr(j, "container.runtime"), ret);
	case VG_F_CONTAINER_VERIFICATION:
		if (!in_container)
			return 0;
		/* said only when it is not "runtime" */
		return str_val(jstr(j, "container.verification") ?: "runtime", ret);
	}
	if (!in_container || !trusted)
		return 0;
	switch (field) {
	case VG_F_CONTAINER_NAME: return str_val(jstr(j, "container.name"), ret);
	case VG_F_CONTAINER_IMAGE: return str_val(jstr(j, "container.image"), ret);
	case VG_F_CONTAINER_IMAGE_ID: return str_val(jstr(j, "container.image_id"), ret);
	case VG_F_CONTAINER_LABEL: {
		const json_t *l = jpath(j, "container.labels");
		return key ? str_val(json_string_value(json_object_get(l, key)), ret) : 0;
	}
	case VG_F_K8S_NS_NAME: return str_val(jstr(j, "k8s.ns.name"), ret);
	case VG_F_K8S_POD_NAME: return str_val(jstr(j, "k8s.pod.name"), ret);
	case VG_F_K8S_POD_UID: return str_val(jstr(j, "k8s.pod.uid"), ret);
	case VG_F_K8S_POD_LABEL: {
		const json_t *l = jpath(j, "k8s.pod.labels");
		return key ? str_val(json_string_value(json_object_get(l, key)), ret) : 0;
	}
	case VG_F_K8S_CONTAINER_NAME: return str_val(jstr(j, "k8s.container.name"), ret);
	}
	(void)path;
	return 0;
}

void vg_fleet_rec_release(struct vg_fleet_rec *r)
{
	if (!r)
		return;
	free(r->scratch);
	r->scratch = NULL;
	r->cap = 0;
}

char *vg_fleet_subject_token(const char *s)
{
	char *t = strdup(s && *s ? s : "unknown");

	if (!t)
		return NULL;
	for (char *p = t; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-')
			*p = '_';
	return t;
}

/* ---- text ---- */

static void put_int(struct vg_printer *l, const json_t *j, const char *path)
{
	int64_t v;

	if (jint(j, path, &v))
		vg_pr_put_i64(l, v);
	else
		VG_PR_PUT_LIT(l, "?");
}

/* "TIME TYPE node=NODE " with TYPE padded to 7, as the renderer does */
static void line_begin(struct vg_printer *l, const json_t *j, const char *type)
{
	static const char pad[] = "        ";
	const char *when = jstr(j, "evt.time");
	size_t n = type ? strlen(type) : 1;

	vg_pr_begin(l);
	vg_pr_put_str(l, when ? when : "-");
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str_value(l, type, 0);
	vg_pr_put(l, pad, n < 7 ? 8 - n : 1);
	VG_PR_PUT_LIT(l, "node=");
	vg_pr_put_str_value(l, json_string_value(json_object_get(j, "node")), 0);
	VG_PR_PUT_LIT(l, " ");
}

static void attribution_text(struct vg_printer *l, const json_t *j)
{
	const char *id = jstr(j, "container.id");
	const json_t *ver = jpath(j, "container.verified");

	if (!id) {
		VG_PR_PUT_LIT(l, "container=?");
	} else if (!strcmp(id, "host")) {
		VG_PR_PUT_LIT(l, "container=host");
	} else {
		VG_PR_PUT_LIT(l, "container=");
		vg_pr_put_str(l, jstr(j, "container.runtime") ?: "?");
		VG_PR_PUT_LIT(l, ":");
		vg_pr_put_value(l, id, strnlen(id, 12), 0);
		if (json_is_false(ver))
			VG_PR_PUT_LIT(l, "(unverified)");
		if (jstr(j, "container.name")) {
			VG_PR_PUT_LIT(l, " name=");
			vg_pr_put_str_value(l, jstr(j, "container.name"), 0);
		}
		if (jstr(j, "container.image")) {
			VG_PR_PUT_LIT(l, " image=");
			vg_pr_put_str_value(l, jstr(j, "container.image"), 0);
		}
	}
	if (json_is_object(json_object_get(j, "k8s"))) {
		VG_PR_PUT_LIT(l, " pod=");
		vg_pr_put_str_value(l, jstr(j, "k8s.ns.name"), '/');
		VG_PR_PUT_LIT(l, "/");
		vg_pr_put_str_value(l, jstr(j, "k8s.pod.name"), '/');
	}
}

static void line_task(struct vg_printer *l, const json_t *j, const char *type)
{
	line_begin(l, j, type);
	VG_PR_PUT_LIT(l, "pid=");
	put_int(l, j, "proc.pid");
	VG_PR_PUT_LIT(l, " ppid=");
	put_int(l, j, "proc.ppid");
	VG_PR_PUT_LIT(l, " uid=");
	put_int(l, j, "user.uid");
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str_value(l, jstr(j, "proc.name"), 0);
	VG_PR_PUT_LIT(l, " ");
	attribution_text(l, j);
	VG_PR_PUT_LIT(l, " ");
}

static void result_text(struct vg_printer *l, const json_t *j)
{
	int64_t v;

	if (!jint(j, "evt_result.rawres", &v))
		return;
	VG_PR_PUT_LIT(l, " = ");
	if (v >= 0)
		vg_pr_put_i64(l, v);
	else
		vg_pr_put_str(l, jstr(j, "evt_result.res") ?: "?");
}

/* "IP:PORT", "[IP6]:PORT", a Unix path, or "?", of side @s ('s', 'c') */
static bool addr_text(struct vg_printer *l, const json_t *fd, char s, bool need)
{
	char k[8];
	const char *ip, *path;
	int64_t port = -1;

	snprintf(k, sizeof(k), "%cip", s);
	ip = json_string_value(json_object_get(fd, k));
	snprintf(k, sizeof(k), "%cport", s);
	if (json_is_integer(json_object_get(fd, k)))
		port = (int64_t)json_integer_value(json_object_get(fd, k));
	snprintf(k, sizeof(k), "%cpath", s);
	path = json_string_value(json_object_get(fd, k));
	if (ip) {
		bool v6 = strchr(ip, ':') != NULL;
		if (!need)
			VG_PR_PUT_LIT(l, " local=");
		if (v6)
			VG_PR_PUT_LIT(l, "[");
		vg_pr_put_str(l, ip);
		vg_pr_put_str(l, v6 ? "]:" : ":");
		vg_pr_put_i64(l, port);
		return true;
	}
	if (path && *path) {
		if (!need)
			VG_PR_PUT_LIT(l, " local=");
		vg_pr_put_str_value(l, path, 0);
		return true;
	}
	if (need)
		VG_PR_PUT_LIT(l, "?");
	return false;
}

static void exec_text(struct vg_printer *l, const json_t *j)
{
	const json_t *a = jpath(j, "proc.args"), *v;
	size_t i;

	VG_PR_PUT_LIT(l, "exe=");
	vg_pr_put_str_value(l, jstr(j, "proc.exe"), 0);
	VG_PR_PUT_LIT(l, " args=[");
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v) ?: "";
		if (i)
			VG_PR_PUT_LIT(l, " ");
		vg_pr_put_value(l, s, strlen(s), 0);
	}
	VG_PR_PUT_LIT(l, "]");
	if (json_is_true(jpath(j, "proc.args_truncated")))
		VG_PR_PUT_LIT(l, " (truncated)");
}

static void exit_text(struct vg_printer *l, const json_t *j)
{
	int64_t v;

	if (json_is_false(jpath(j, "exit.status_known"))) {
		VG_PR_PUT_LIT(l, "status=unknown");
	} else if (jint(j, "exit.signal", &v)) {
		VG_PR_PUT_LIT(l, "signal=");
		vg_pr_put_i64(l, v);
		if (json_is_true(jpath(j, "exit.core_dumped")))
			VG_PR_PUT_LIT(l, " (core dumped)");
	} else {
		VG_PR_PUT_LIT(l, "code=");
		put_int(l, j, "exit.code");
	}
}

static void fork_text(struct vg_printer *l, const json_t *j)
{
	bool thread = json_is_true(jpath(j, "child.thread"));
	int64_t v;

	VG_PR_PUT_LIT(l, "child=");
	if (!jint(j, thread ? "child.tid" : "child.pid", &v))
		VG_PR_PUT_LIT(l, "unknown");
	else
		vg_pr_put_i64(l, v);
	if (thread)
		VG_PR_PUT_LIT(l, " (thread)");
}

static void file_text(struct vg_printer *l, const json_t *j)
{
	const char *action = jstr(j, "file.action") ?: "?";
	const char *path = jstr(j, "file.path"), *host = jstr(j, "file.host_path");
	int64_t v;

	vg_pr_put_str(l, action);
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str_value(l, path, 0);
	if (jstr(j, "file.from")) {
		VG_PR_PUT_LIT(l, " (from ");
		vg_pr_put_str_value(l, jstr(j, "file.from"), 0);
		VG_PR_PUT_LIT(l, ")");
	} else if (jstr(j, "file.target")) {
		VG_PR_PUT_LIT(l, " -> ");
		vg_pr_put_str_value(l, jstr(j, "file.target"), 0);
	} else if (!strcmp(action, "chmod") && jint(j, "file.mode", &v)) {
		char num[32];
		snprintf(num, sizeof(num), " mode %04o", (unsigned)v & 07777);
		vg_pr_put_str(l, num);
	} else if (!strcmp(action, "chown")) {
		VG_PR_PUT_LIT(l, " owner ");
		if (jint(j, "file.uid", &v))
			vg_pr_put_i64(l, v);
		else
			VG_PR_PUT_LIT(l, "-");
		VG_PR_PUT_LIT(l, ":");
		if (jint(j, "file.gid", &v))
			vg_pr_put_i64(l, v);
		else
			VG_PR_PUT_LIT(l, "-");
	}
	if (host && strcmp(host, path ? path : "") != 0) {
		VG_PR_PUT_LIT(l, " host ");
		vg_pr_put_str_value(l, host, 0);
	}
}

static void net_text(struct vg_printer *l, const json_t *j, const char *type)
{
	const json_t *fd = json_object_get(j, "fd");

	if (!strcmp(type, "connect")) {
		addr_text(l, fd, 's', true);
		addr_text(l, fd, 'c', false);
	} else if (!strcmp(type, "accept")) {
		addr_text(l, fd, 'c', true);
		addr_text(l, fd, 's', false);
	} else {
		addr_text(l, fd, 's', true);
	}
	result_text(l, j);
}

static void container_text(struct vg_printer *l, const json_t *j)
{
	int64_t v;

	line_begin(l, j, "container");
	attribution_text(l, j);
	VG_PR_PUT_LIT(l, " ");
	vg_pr_put_str_value(l, jstr(j, "state"), 0);
	if (jint(j, "host_pid", &v)) {
		VG_PR_PUT_LIT(l, " host_pid=");
		vg_pr_put_i64(l, v);
	}
	if (jint(j, "exit.code", &v)) {
		VG_PR_PUT_LIT(l, " code=");
		vg_pr_put_i64(l, v);
		if (jint(j, "exit.signal", &v)) {
			VG_PR_PUT_LIT(l, " signal=");
			vg_pr_put_i64(l, v);
		}
	}
}

static void lost_text(struct vg_printer *l, const json_t *j)
{
	const json_t *lost = json_object_get(j, "lost"), *v;
	const char *reason = jstr(j, "lost.reason"), *k;
	int64_t n;

	line_begin(l, j, "lost");
	if (json_is_true(json_object_get(lost, "count_unknown")))
		VG_PR_PUT_LIT(l, "an unknown number of");
	else if (jint(j, "lost.total", &n))
		vg_pr_put_i64(l, n);
	else
		VG_PR_PUT_LIT(l, "?");
	VG_PR_PUT_LIT(l, " events");
	if (reason) {
		VG_PR_PUT_LIT(l, " (");
		vg_pr_put_escaped(l, reason, strlen(reason));
		VG_PR_PUT_LIT(l, ")");
	} else {
		VG_PR_PUT_LIT(l, ":");
	}
	json_object_foreach((json_t *)lost, k, v) {
		if (!json_is_integer(v) || !strcmp(k, "total"))
			continue;
		VG_PR_PUT_LIT(l, " ");
		vg_pr_put_value(l, k, strlen(k), '=');
		VG_PR_PUT_LIT(l, "=");
		vg_pr_put_i64(l, (int64_t)json_integer_value(v));
	}
}

void vg_fleet_render_text(const json_t *j, struct vg_printer *l)
{
	const char *type = jstr(j, "evt.type");
	const char *output = jstr(j, "output");

	if (!type && output && jstr(j, "rule")) {
		/* an alert: Falco's line ("TIME: Priority MESSAGE"), then
		 * its node */
		vg_pr_begin(l);
		vg_pr_put_escaped(l, output, strlen(output));
		VG_PR_PUT_LIT(l, " node=");
		vg_pr_put_str_value(l, jstr(j, "node") ?: "?", 0);
		return;
	}
	if (!type) {
		line_task(l, j, NULL);
		return;
	}
	if (!strcmp(type, "container")) {
		container_text(l, j);
		return;
	}
	if (!strcmp(type, "lost")) {
		lost_text(l, j);
		return;
	}
	line_task(l, j, type);
	if (!strcmp(type, "exec")) {
		exec_text(l, j);
	} else if (!strcmp(type, "exit")) {
		exit_text(l, j);
	} else if (!strcmp(type, "fork")) {
		fork_text(l, j);
	} else if (!strcmp(type, "open")) {
		vg_pr_put_str_value(l, jstr(j, "fd.name"), 0);
		VG_PR_PUT_LIT(l, " ");
		vg_pr_put_str(l, jstr(j, "fd.flags_text") ?: "?");
		result_text(l, j);
	} else if (!strcmp(type, "file")) {
		file_text(l, j);
	} else if (is_net(type)) {
		net_text(l, j, type);
	} else if (!strcmp(type, "syscall")) {
		VG_PR_PUT_LIT(l, "nr=");
		put_int(l, j, "syscall.nr");
		result_text(l, j);
	} else if (!strcmp(type, "tp")) {
		vg_pr_put_str_value(l, jstr(j, "tp.name"), 0);
	}
}
