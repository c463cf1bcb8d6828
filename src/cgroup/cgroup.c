/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cgroup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define FULL_ID_LEN 64

const char *vg_runtime_name(enum vg_runtime rt)
{
	switch (rt) {
	case VG_RUNTIME_NONE:
		return "none";
	case VG_RUNTIME_DOCKER:
		return "docker";
	case VG_RUNTIME_CONTAINERD:
		return "containerd";
	case VG_RUNTIME_CRIO:
		return "cri-o";
	case VG_RUNTIME_PODMAN:
		return "podman";
	case VG_RUNTIME_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

const char *vg_role_name(enum vg_cg_role role)
{
	switch (role) {
	case VG_ROLE_HOST:
		return "host";
	case VG_ROLE_CONTAINER:
		return "container";
	case VG_ROLE_MONITOR:
		return "monitor";
	case VG_ROLE_POD:
		return "pod";
	}
	return "host";
}

struct comp {
	const char *s;
	size_t len;
};

static bool comp_eq(struct comp c, const char *word)
{
	size_t wl = strlen(word);

	return c.len == wl && memcmp(c.s, word, wl) == 0;
}

static bool comp_has_prefix(struct comp c, const char *prefix)
{
	size_t pl = strlen(prefix);

	return c.len >= pl && memcmp(c.s, prefix, pl) == 0;
}

/* c == prefix + 64 hex + suffix → copy the id. */
static bool match_full_id(struct comp c, const char *prefix, const char *suffix,
			  char *ret_id)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (c.len != pl + FULL_ID_LEN + sl)
		return false;
	if (memcmp(c.s, prefix, pl) != 0 ||
	    memcmp(c.s + pl + FULL_ID_LEN, suffix, sl) != 0)
		return false;
	if (!vg_is_hex(c.s + pl, FULL_ID_LEN))
		return false;
	memcpy(ret_id, c.s + pl, FULL_ID_LEN);
	ret_id[FULL_ID_LEN] = '\0';
	return true;
}

/*
 * A pod uid as kubelet writes it: a dashed UUID, or 32 hex digits (static
 * pods use a hash). @sep is '-' for cgroupfs and '_' for the systemd form.
 */
static bool parse_pod_uid(const char *s, size_t len, char sep, char *ret_uid)
{
	if (len == 36) {
		for (size_t i = 0; i < 36; i++) {
			bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash_pos ? s[i] != sep : !vg_is_hex(s + i, 1))
				return false;
		}
	} else if (len == 32) {
		if (!vg_is_hex(s, 32))
			return false;
	} else {
		return false;
	}
	for (size_t i = 0; i < len; i++)
		ret_uid[i] = s[i] == sep ? '-' : s[i];
	ret_uid[len] = '\0';
	return true;
}

/* "kubepods-burstable-pod<uid_>.slice", optionally under a prefix such as
 * kind's "kubelet-". */
static bool match_pod_slice(struct comp c, char *ret_uid, char *ret_qos,
			    size_t qos_sz)
{
	static const struct {
		const char *tail;
		const char *qos;
	} qos_forms[] = {
		{ "kubepods-burstable", "burstable" },
		{ "kubepods-besteffort", "besteffort" },
		{ "kubepods", "guaranteed" },
	};
	const char *pod;
	size_t head_len;

	if (!vg_endswith_n(c.s, c.len, ".slice"))
		return false;
	/* The uid has no "-pod" in it, so the last one starts it. */
	pod = NULL;
	for (size_t i = 0; i + 4 <= c.len; i++)
		if (memcmp(c.s + i, "-pod", 4) == 0)
			pod = c.s + i;
	if (!pod)
		return false;
	head_len = (size_t)(pod - c.s);
	for (size_t i = 0; i < VG_ARRAY_SIZE(qos_forms); i++) {
		size_t tl = strlen(qos_forms[i].tail);

		if (head_len < tl ||
		    memcmp(pod - tl, qos_forms[i].tail, tl) != 0)
			continue;
		/* The tail must start the component or follow a '-'. */
		if (head_len != tl && pod[-(ptrdiff_t)tl - 1] != '-')
			continue;
		if (!parse_pod_uid(pod + 4,
				   c.len - head_len - 4 - strlen(".slice"), '_',
				   ret_uid))
			return false;
		snprintf(ret_qos, qos_sz, "%s", qos_forms[i].qos);
		return true;
	}
	return false;
}

/* containerd namespaces and container ids share one grammar:
 * [A-Za-z0-9]+([._-][A-Za-z0-9]+)*, at most 76 characters. */
static bool is_containerd_name(struct comp c)
{
	bool prev_sep = true;

	if (c.len == 0 || c.len > VG_CTR_NS_MAX)
		return false;
	for (size_t i = 0; i < c.len; i++) {
		char ch = c.s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');

		if (alnum) {
			prev_sep = false;
		} else if (ch == '.' || ch == '_' || ch == '-') {
			if (prev_sep)
				return false;
			prev_sep = true;
		} else {
			return false;
		}
	}
	return !prev_sep;
}

static bool is_systemd_unit(struct comp c)
{
	static const char *const suffixes[] = { ".slice", ".scope", ".service",
						".mount", ".socket" };

	for (size_t i = 0; i < VG_ARRAY_SIZE(suffixes); i++)
		if (vg_endswith_n(c.s, c.len, suffixes[i]))
			return true;
	return false;
}

/* The pod seen since the enclosing container, if any, is this container's
 * and is consumed: @pending_pod and @pending_qos are emptied. */
static void set_container(struct vg_cgroup_match *m, enum vg_runtime rt,
			  enum vg_cg_role role, const char *id,
			  char *pending_pod, char *pending_qos, size_t end)
{
	/* An enclosing container (kind node, docker-in-docker) stays known. */
	if (m->role == VG_ROLE_CONTAINER || m->role == VG_ROLE_MONITOR) {
		m->nested_runtime = m->runtime;
		snprintf(m->nested_in, sizeof(m->nested_in), "%s",
			 m->container_id);
		m->nested_end = m->scope_end;
	}
	m->scope_end = (uint32_t)end;
	m->runtime = rt;
	m->role = role;
	m->needs_confirm = false;
	m->shape_only = false;
	m->ctr_namespace[0] = '\0';
	snprintf(m->container_id, sizeof(m->container_id), "%s", id);
	/* Only a pod seen since the enclosing container belongs to this one. */
	snprintf(m->pod_uid, sizeof(m->pod_uid), "%s", pending_pod);
	snprintf(m->pod_qos, sizeof(m->pod_qos), "%s", pending_qos);
	pending_pod[0] = '\0';
	pending_qos[0] = '\0';
}

void vg_cgroup_parse_path(const char *path, size_t len,
			  struct vg_cgroup_match *ret)
{
	struct vg_cgroup_match m = { 0 };
	struct comp prev = { "", 0 }, first = { "", 0 }, second = { "", 0 };
	char pending_pod[VG_POD_UID_MAX + 1] = "";
	char pending_qos[16] = "";
	char id[FULL_ID_LEN + 1];
	bool seen_kubepods = false;
	size_t n_comps = 0, i = 0;

	while (i < len) {
		struct comp c;
		size_t j;

		while (i < len && path[i] == '/')
			i++;
		if (i >= len)
			break;
		for (j = i; j < len && path[j] != '/'; j++)
			;
		c.s = path + i;
		c.len = j - i;
		i = j;
		n_comps++;
		if (n_comps == 1)
			first = c;
		else if (n_comps == 2)
			second = c;

		if (comp_eq(c, "kubepods") || comp_eq(c, "kubepods.slice") ||
		    (comp_has_prefix(c, "kubelet-kubepods") &&
		     is_systemd_unit(c)))
			seen_kubepods = true;

		/* systemd-driver scopes, then their cgroupfs spellings. */
		if (match_full_id(c, "docker-", ".scope", id)) {
			set_container(&m, VG_RUNTIME_DOCKER, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
		} else if (match_full_id(c, "cri-containerd-", ".scope", id)) {
			set_container(&m, VG_RUNTIME_CONTAINERD,
				      VG_ROLE_CONTAINER, id, pending_pod,
				      pending_qos, i);
		} else if (match_full_id(c, "crio-conmon-", ".scope", id) ||
			   match_full_id(c, "crio-conmon-", "", id)) {
			set_container(&m, VG_RUNTIME_CRIO, VG_ROLE_MONITOR, id,
				      pending_pod, pending_qos, i);
		} else if (match_full_id(c, "crio-", ".scope", id) ||
			   match_full_id(c, "crio-", "", id)) {
			set_container(&m, VG_RUNTIME_CRIO, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
		} else if (match_full_id(c, "libpod-conmon-", ".scope", id) ||
			   match_full_id(c, "libpod-conmon-", "", id)) {
			set_container(&m, VG_RUNTIME_PODMAN, VG_ROLE_MONITOR,
				      id, pending_pod, pending_qos, i);
		} else if (match_full_id(c, "libpod-", ".scope", id) ||
			   match_full_id(c, "libpod-", "", id)) {
			set_container(&m, VG_RUNTIME_PODMAN, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
		} else if (comp_eq(prev, "docker") &&
			   match_full_id(c, "", "", id)) {
			set_container(&m, VG_RUNTIME_DOCKER, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
		} else if (pending_pod[0] && match_full_id(c, "", "", id)) {
			/* cgroupfs kubelet: <pod>/<id> is docker's, containerd's
			 * or k3s's; only their state files can tell. */
			set_container(&m, VG_RUNTIME_UNKNOWN, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
			m.needs_confirm = true;
		} else if (match_full_id(c, "", "", id)) {
			/* A full hex id as a leaf anywhere else: docker's or
			 * podman's --cgroup-parent, or containerd's
			 * /<ns>/<id>. A candidate until state files confirm. */
			set_container(&m, VG_RUNTIME_UNKNOWN, VG_ROLE_CONTAINER,
				      id, pending_pod, pending_qos, i);
			m.needs_confirm = true;
			m.shape_only = true;
			if (n_comps == 2 && is_containerd_name(prev) &&
			    !is_systemd_unit(prev))
				snprintf(m.ctr_namespace, sizeof(m.ctr_namespace),
					 "%.*s", (int)prev.len, prev.s);
		} else if (seen_kubepods && comp_has_prefix(c, "pod") &&
			   parse_pod_uid(c.s + 3, c.len - 3, '-', pending_pod)) {
			if (comp_eq(prev, "burstable") ||
			    comp_eq(prev, "besteffort"))
				snprintf(pending_qos, sizeof(pending_qos),
					 "%.*s", (int)prev.len, prev.s);
			else
				snprintf(pending_qos, sizeof(pending_qos),
					 "guaranteed");
		} else if (seen_kubepods &&
			   match_pod_slice(c, pending_pod, pending_qos,
					   sizeof(pending_qos))) {
			/* pending until its container appears */
		} else if (comp_has_prefix(c, "user@") &&
			   vg_endswith_n(c.s, c.len, ".service")) {
			char num[16];
			uint64_t uid;
			size_t nl = c.len - strlen("user@") - strlen(".service");

			if (nl > 0 && nl < sizeof(num)) {
				memcpy(num, c.s + strlen("user@"), nl);
				num[nl] = '\0';
				if (vg_parse_u64(num, &uid) == 0 &&
				    uid <= UINT32_MAX) {
					m.rootless = true;
					m.rootless_uid = (uint32_t)uid;
				}
			}
		}
		prev = c;
	}

	if (pending_pod[0]) {
		/* A pod after the innermost container: the process sits in the
		 * pod's cgroup, in none of its containers. */
		if (m.role == VG_ROLE_CONTAINER || m.role == VG_ROLE_MONITOR) {
			m.nested_runtime = m.runtime;
			snprintf(m.nested_in, sizeof(m.nested_in), "%s",
				 m.container_id);
		}
		m.role = VG_ROLE_POD;
		m.runtime = VG_RUNTIME_UNKNOWN;
		m.container_id[0] = '\0';
		snprintf(m.pod_uid, sizeof(m.pod_uid), "%s", pending_pod);
		snprintf(m.pod_qos, sizeof(m.pod_qos), "%s", pending_qos);
	}

	/* containerd's cgroupfs form, /<namespace>/<id>: a shape many host
	 * paths share, so it stays a candidate until its task is found. */
	if (m.role == VG_ROLE_HOST && n_comps == 2 && is_containerd_name(first) &&
	    is_containerd_name(second) && !is_systemd_unit(first) &&
	    !is_systemd_unit(second) && !comp_eq(first, "docker") &&
	    !comp_eq(first, "kubepods") && !comp_eq(first, "libpod_parent")) {
		m.role = VG_ROLE_CONTAINER;
		m.runtime = VG_RUNTIME_CONTAINERD;
		m.needs_confirm = true;
		m.shape_only = true;
		snprintf(m.ctr_namespace, sizeof(m.ctr_namespace), "%.*s",
			 (int)first.len, first.s);
		snprintf(m.container_id, sizeof(m.container_id), "%.*s",
			 (int)second.len, second.s);
		m.scope_end = (uint32_t)(second.s + second.len - path);
	}

	if (m.role == VG_ROLE_HOST)
		m.rootless = false;
	*ret = m;
}

void vg_cgroup_info_release(struct vg_cgroup_info *info)
{
	if (!info)
		return;
	free(info->buf);
	info->buf = NULL;
	info->n_lines = 0;
}

static void set_error(struct vg_cgroup_info *info, enum vg_cgroup_error err,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct vg_cgroup_info *info, enum vg_cgroup_error err,
		      const char *fmt, ...)
{
	va_list ap;

	info->error = err;
	va_start(ap, fmt);
	vsnprintf(info->error_msg, sizeof(info->error_msg), fmt, ap);
	va_end(ap);
}

/* Fold one line's match into the process's: equal facts merge, different
 * facts are a conflict, never a pick. */
static bool merge_match(struct vg_cgroup_info *info,
			const struct vg_cgroup_match *m, size_t line_no,
			size_t *first_line)
{
	struct vg_cgroup_match *c = &info->match;

	if (m->role == VG_ROLE_HOST)
		return true;
	if (c->role == VG_ROLE_HOST) {
		*c = *m;
		*first_line = line_no;
		return true;
	}
	if (strcmp(c->container_id, m->container_id) != 0 ||
	    c->role != m->role) {
		set_error(info, VG_CGROUP_CONFLICT,
			  "cgroup lines %zu and %zu name different containers: "
			  "%s %.80s and %s %.80s",
			  *first_line, line_no, vg_role_name(c->role),
			  c->container_id[0] ? c->container_id : "-",
			  vg_role_name(m->role),
			  m->container_id[0] ? m->container_id : "-");
		return false;
	}
	if (c->pod_uid[0] && m->pod_uid[0] &&
	    strcmp(c->pod_uid, m->pod_uid) != 0) {
		set_error(info, VG_CGROUP_CONFLICT,
			  "cgroup lines %zu and %zu name different pods: %s and %s",
			  *first_line, line_no, c->pod_uid, m->pod_uid);
		return false;
	}
	if (c->runtime != m->runtime) {
		if (c->runtime == VG_RUNTIME_UNKNOWN) {
			c->runtime = m->runtime;
			c->needs_confirm = m->needs_confirm;
		} else if (m->runtime != VG_RUNTIME_UNKNOWN) {
			set_error(info, VG_CGROUP_CONFLICT,
				  "cgroup lines %zu and %zu name different runtimes "
				  "for %.80s: %s and %s",
				  *first_line, line_no, c->container_id,
				  vg_runtime_name(c->runtime),
				  vg_runtime_name(m->runtime));
			return false;
		}
	}
	if (!c->pod_uid[0] && m->pod_uid[0]) {
		memcpy(c->pod_uid, m->pod_uid, sizeof(c->pod_uid));
		memcpy(c->pod_qos, m->pod_qos, sizeof(c->pod_qos));
	}
	return true;
}

int vg_cgroup_parse_file(const char *text, size_t len,
			 struct vg_cgroup_info *ret)
{
	struct vg_cgroup_info info = { 0 };
	size_t first_line = 0;
	char *p, *end;

	info.buf = malloc(len + 1);
	if (!info.buf)
		return -ENOMEM;
	memcpy(info.buf, text, len);
	info.buf[len] = '\0';
	p = info.buf;
	end = info.buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p, *c1, *c2;
		size_t line_no = info.n_lines + 1;
		uint64_t hier;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : end;

		if (memchr(line, '\0', (size_t)((nl ? nl : end) - line))) {
			set_error(&info, VG_CGROUP_MALFORMED,
				  "cgroup line %zu holds a NUL byte", line_no);
			goto out;
		}
		if (info.n_lines == VG_CGROUP_LINES_MAX) {
			set_error(&info, VG_CGROUP_TOO_MANY,
				  "cgroup file has more than %d lines",
				  VG_CGROUP_LINES_MAX);
			goto out;
		}
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c2[1] != '/') {
			set_error(&info, VG_CGROUP_MALFORMED,
				  "cgroup line %zu is not \"N:controllers:/path\"",
				  line_no);
			goto out;
		}
		*c1 = '\0';
		*c2 = '\0';
		if (vg_parse_u64(line, &hier) < 0 || hier > 65535) {
			set_error(&info, VG_CGROUP_MALFORMED,
				  "cgroup line %zu has no hierarchy number",
				  line_no);
			goto out;
		}
		info.lines[info.n_lines] = (struct vg_cgroup_line){
			.hierarchy = (unsigned)hier,
			.controllers = c1 + 1,
			.path = c2 + 1,
		};
		info.n_lines++;

		if (hier == 0 && c1[1] == '\0') {
			if (info.v2_path) {
				set_error(&info, VG_CGROUP_MALFORMED,
					  "cgroup line %zu is a second v2 line",
					  line_no);
				goto out;
			}
			info.v2_path = c2 + 1;
		} else if (!info.v1_path ||
			   strcmp(c1 + 1, "name=systemd") == 0) {
			info.v1_path = c2 + 1;
		}

		struct vg_cgroup_match m;
		vg_cgroup_parse_path(c2 + 1, strlen(c2 + 1), &m);
		if (!merge_match(&info, &m, line_no, &first_line))
			goto out;
	}
	if (info.n_lines == 0)
		set_error(&info, VG_CGROUP_EMPTY, "cgroup file is empty");
out:
	if (info.error != VG_CGROUP_OK)
		memset(&info.match, 0, sizeof(info.match));
	*ret = info;
	return 0;
}
