/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "identity.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrib/attrib.h"
#include "base/util.h"

/* Text lines composed here carry what processes and runtimes say (label
 * keys and values, pod names, container ids, error messages): those go
 * through vg_pr_put_value() or vg_pr_put_escaped(), never a format. */

/* "LABEL           ", the start of a text line. */
static void text_head(struct vg_printer *p, const char *label)
{
	vg_pr_text(p, "%-16s ", label);
}

/* @s as a value among fields (@sep: see vg_pr_put_value()); NULL as a
 * bare '?', unknown (a value "?" is quoted). */
static void put_value_sep(struct vg_printer *p, const char *s, char sep)
{
	if (s)
		vg_pr_put_value(p, s, strlen(s), sep);
	else
		vg_pr_put(p, "?", 1);
}

static void put_value(struct vg_printer *p, const char *s)
{
	put_value_sep(p, s, 0);
}

static void format_wall(uint64_t ns, char *buf, size_t bufsz)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, bufsz, "?");
		return;
	}
	snprintf(buf + strlen(buf), bufsz - strlen(buf), ".%03lluZ",
		 (unsigned long long)(ns / 1000000ull % 1000ull));
}

static void print_proc(struct vg_printer *p, const struct vigil_identity *id)
{
	const struct vg_proc *pr = &id->proc;
	char wall[40], state[2] = { pr->state, 0 };

	vg_pr_obj_open(p, "proc");
	vg_pr_i64(p, "pid", "pid", pr->pid);
	vg_pr_i64(p, "tgid", pr->tgid != pr->pid ? "tgid" : NULL, pr->tgid);
	vg_pr_i64(p, "ppid", "ppid", pr->ppid);
	vg_pr_str(p, "name", "name", pr->comm);
	vg_pr_str(p, "state", NULL, state);
	vg_pr_str(p, "exe", "exe", pr->exe);
	if (!pr->exe)
		vg_pr_str(p, "exe_error", NULL, strerror(-pr->exe_err));
	vg_pr_str_array(p, "args", "args", pr->argv, pr->argc);
	if (pr->args_truncated || vg_printer_mode(p) == VG_OUTPUT_JSON)
		vg_pr_bool(p, "args_truncated", "args truncated",
			   pr->args_truncated);

	/* Falco's proc.cmdline: the arguments joined by spaces (JSON only;
	 * text shows args). */
	if (vg_printer_mode(p) == VG_OUTPUT_JSON) {
		char *cmdline = malloc(pr->args_len + 1);

		if (cmdline) {
			size_t o = 0;

			for (size_t i = 0; i < pr->argc; i++) {
				size_t l = strlen(pr->argv[i]);

				if (i)
					cmdline[o++] = ' ';
				memcpy(cmdline + o, pr->argv[i], l);
				o += l;
			}
			cmdline[o] = '\0';
			vg_pr_str(p, "cmdline", NULL, cmdline);
			free(cmdline);
		}
	}

	vg_pr_str(p, "cwd", "cwd", pr->cwd);
	vg_pr_str(p, "exec_id", "exec_id", id->exec_id);
	vg_pr_obj_open(p, "start_time");
	vg_pr_u64(p, "boot_ns", NULL, id->start_boot_ns);
	if (id->start_wall_ns) {
		format_wall(id->start_wall_ns, wall, sizeof(wall));
		vg_pr_str(p, "wall", "started", wall);
	} else {
		vg_pr_null(p, "wall", "started");
	}
	vg_pr_obj_close(p);
	vg_pr_obj_close(p);

	vg_pr_obj_open(p, "user");
	vg_pr_u64(p, "uid", "uid", pr->uid);
	vg_pr_u64(p, "euid", pr->euid != pr->uid ? "euid" : NULL, pr->euid);
	vg_pr_u64(p, "suid", NULL, pr->suid);
	vg_pr_u64(p, "fsuid", NULL, pr->fsuid);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "group");
	vg_pr_u64(p, "gid", "gid", pr->gid);
	vg_pr_u64(p, "egid", pr->egid != pr->gid ? "egid" : NULL, pr->egid);
	vg_pr_u64(p, "sgid", NULL, pr->sgid);
	vg_pr_u64(p, "fsgid", NULL, pr->fsgid);
	vg_pr_obj_close(p);

	vg_pr_obj_open(p, "ns");
	for (int t = 0; t < VG_NS_COUNT; t++) {
		if (pr->ns_valid & (1u << t))
			vg_pr_u64(p, vg_ns_name(t), NULL, pr->ns[t]);
		else
			vg_pr_null(p, vg_ns_name(t), NULL);
	}
	vg_pr_obj_close(p);
	if (vg_printer_mode(p) == VG_OUTPUT_TEXT) {
		char line[VG_NS_COUNT * 32], *o = line;

		for (int t = 0; t < VG_NS_COUNT; t++) {
			o = stpcpy(o, t ? " " : "");
			o = stpcpy(o, vg_ns_name(t));
			*o++ = ':';
			if (pr->ns_valid & (1u << t))
				o = vg_u64_to_str(pr->ns[t], o);
			else
				*o++ = '-';
		}
		*o = '\0';
		vg_pr_str(p, NULL, "namespaces", line);
	}
}

static void print_cgroup(struct vg_printer *p, const struct vigil_identity *id)
{
	const struct vg_cgroup_info *cg = &id->cg;
	char *lines[VG_CGROUP_LINES_MAX];
	size_t n = 0;

	vg_pr_obj_open(p, "cgroup");
	if (id->cgroup_id)
		vg_pr_u64(p, "id", "cgroup id", id->cgroup_id);
	else
		vg_pr_null(p, "id", NULL);
	if (!id->have_cg) {
		vg_pr_null(p, "path", NULL);
		vg_pr_obj_close(p);
		return;
	}
	vg_pr_str(p, "path", NULL, cg->v2_path ? cg->v2_path : cg->v1_path);
	/* JSON: the lines as the kernel wrote them; text: one per line. */
	for (size_t i = 0; i < cg->n_lines; i++) {
		const struct vg_cgroup_line *l = &cg->lines[i];

		size_t cl = strlen(l->controllers), pl = strlen(l->path);
		char *s = malloc(24 + cl + pl);

		if (!s)
			continue;
		char *o = vg_u64_to_str(l->hierarchy, s);
		*o++ = ':';
		o = mempcpy(o, l->controllers, cl);
		*o++ = ':';
		o = mempcpy(o, l->path, pl);
		*o = '\0';
		lines[n++] = s;
	}
	vg_pr_str_array(p, "lines", NULL, lines, n);
	for (size_t i = 0; i < n; i++) {
		vg_pr_str(p, NULL, "cgroup", lines[i]);
		free(lines[i]);
	}
	vg_pr_obj_close(p);
}

/* A label map: a JSON object; text, one "key=value" line each under
 * @label, key and value each a value among fields (so a key holding '='
 * cannot pass for another split). */
void vg_print_kv(struct vg_printer *p, const char *key, const char *label,
		 const struct vg_kv *kv)
{
	vg_pr_obj_open(p, key);
	for (size_t i = 0; i < kv->n; i++)
		vg_pr_str(p, kv->pairs[i].key, NULL, kv->pairs[i].value);
	vg_pr_obj_close(p);
	if (label && vg_printer_mode(p) == VG_OUTPUT_TEXT)
		for (size_t i = 0; i < kv->n; i++) {
			text_head(p, label);
			put_value(p, kv->pairs[i].key);
			vg_pr_put(p, "=", 1);
			put_value(p, kv->pairs[i].value);
			vg_pr_put(p, "\n", 1);
		}
}

static void print_time(struct vg_printer *p, const char *key,
		       const char *label, uint64_t ns)
{
	char wall[40];

	if (!ns) {
		vg_pr_null(p, key, NULL);
		return;
	}
	format_wall(ns, wall, sizeof(wall));
	vg_pr_str(p, key, label, wall);
}

void vg_print_container_meta(struct vg_printer *p,
			     const struct vg_container_meta *c)
{
	vg_pr_str(p, "name", "name", c->name);
	vg_pr_str(p, "image", "image", c->image);
	vg_pr_str(p, "image_id", "image id", c->image_id);
	vg_print_kv(p, "labels", "label", &c->labels);
	print_time(p, "created", "created", c->created_ns);
	print_time(p, "started", NULL, c->started_ns);
	if (c->init_pid)
		vg_pr_i64(p, "init_pid", "init pid", c->init_pid);
	else
		vg_pr_null(p, "init_pid", NULL);
	vg_pr_str(p, "state", "state", c->state);
	vg_pr_str(p, "rootfs", "rootfs", c->rootfs);
	vg_pr_str(p, "upperdir", "upper dir", c->upperdir);
	vg_pr_obj_open(p, "metadata");
	vg_pr_bool(p, "complete", NULL, !c->incomplete);
	vg_pr_str(p, "source", NULL, c->source);
	if (c->incomplete)
		vg_pr_str(p, "missing", "incomplete", c->missing);
	vg_pr_obj_close(p);
}

void vg_print_claim(struct vg_printer *p, const struct vg_meta_entry *e)
{
	bool ok = vg_meta_trusted(e);

	vg_pr_bool(p, "verified", NULL, ok);
	vg_pr_str(p, "verification", NULL, vg_verify_name(e->verify));
	if (!ok)
		vg_pr_str(p, "unverified", NULL,
			  e->verify_why[0] ? e->verify_why : "not verified");
	if (ok) {
		vg_pr_text(p, "%-16s yes, by %s\n", "verified",
			   e->verify == VG_VERIFY_ENCLOSING
				   ? "the enclosing container's own record"
				   : "its runtime's record");
	} else {
		/* why: may quote the cgroup path or the runtime's record */
		const char *why = e->verify_why[0] ? e->verify_why : "-";

		vg_pr_text(p, "%-16s no (%s): ", "verified",
			   vg_verify_name(e->verify));
		vg_pr_put_escaped(p, why, strlen(why));
		vg_pr_put(p, "\n", 1);
	}
	if (e->has_meta)
		vg_print_container_meta(p, &e->meta);
}

void vg_print_k8s(struct vg_printer *p, const struct vg_pod_meta *pod,
		  const char *qos)
{
	if (pod->source == VG_POD_SRC_NONE) {
		vg_pr_null(p, "k8s", NULL);
		return;
	}
	vg_pr_obj_open(p, "k8s");
	vg_pr_obj_open(p, "ns");
	vg_pr_str(p, "name", NULL, pod->ns);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "pod");
	vg_pr_str(p, "name", NULL, pod->name);
	vg_pr_str(p, "uid", "pod uid", pod->uid);
	if (qos && *qos)
		vg_pr_str(p, "qos", "pod qos", qos);
	if (pod->source == VG_POD_SRC_KUBELET) {
		vg_print_kv(p, "labels", "pod label", &pod->labels);
		vg_print_kv(p, "annotations", NULL, &pod->annotations);
	}
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "container");
	vg_pr_str(p, "name", "k8s container", pod->container_name);
	vg_pr_obj_close(p);
	vg_pr_str(p, "source", NULL, vg_pod_source_name(pod->source));
	vg_pr_bool(p, "verified", NULL, pod->verified);
	if (pod->name || pod->ns) {
		/* NS/NAME: a '/' in either is quoted, so the first bare one
		 * splits them */
		text_head(p, "pod");
		put_value_sep(p, pod->ns, '/');
		vg_pr_put(p, "/", 1);
		put_value_sep(p, pod->name, '/');
		vg_pr_text(p, " (%s%s)\n",
			   pod->source == VG_POD_SRC_KUBELET ? "from the kubelet"
							     : "from runtime labels",
			   pod->verified ? ", verified" : ", unverified claim");
	}
	if (pod->labels_uid && (!pod->uid || strcmp(pod->labels_uid, pod->uid)))
		vg_pr_str(p, "labels_uid", NULL, pod->labels_uid);
	if (pod->conflict[0])
		vg_pr_str(p, "conflict", "pod conflict", pod->conflict);
	if (pod->note[0])
		vg_pr_str(p, "note", "pod note", pod->note);
	vg_pr_obj_close(p);
}

static void print_attribution(struct vg_printer *p,
			      const struct vigil_identity *id)
{
	const struct vg_cgroup_match *m = &id->attr;
	bool in_container = m->role == VG_ROLE_CONTAINER;

	vg_pr_obj_open(p, "container");
	if (m->role == VG_ROLE_POD) {
		vg_pr_null(p, "id", NULL);
		vg_pr_text(p, "%-16s in pod ", "container");
		put_value(p, m->pod_uid);
		vg_pr_text(p, ", in none of its containers\n");
	} else {
		vg_pr_str(p, "id", NULL, in_container ? m->container_id : "host");
		if (in_container) {
			vg_pr_text(p, "%-16s %s ", "container",
				   vg_runtime_name(m->runtime));
			put_value(p, m->container_id);
			vg_pr_put(p, "\n", 1);
		} else if (m->role == VG_ROLE_MONITOR) {
			vg_pr_text(p, "%-16s host (%s monitor of ", "container",
				   vg_runtime_name(m->runtime));
			put_value(p, m->container_id);
			vg_pr_put(p, ")\n", 2);
		} else {
			vg_pr_text(p, "%-16s host\n", "container");
		}
	}
	vg_pr_str(p, "runtime", NULL, vg_runtime_name(m->runtime));
	vg_pr_str(p, "role", NULL, vg_role_name(m->role));
	if (m->role == VG_ROLE_MONITOR)
		vg_pr_str(p, "monitor_of", NULL, m->container_id);
	if (m->ctr_namespace[0])
		vg_pr_str(p, "namespace", "ctr namespace", m->ctr_namespace);
	if (m->rootless) {
		vg_pr_bool(p, "rootless", NULL, true);
		vg_pr_u64(p, "rootless_uid", "rootless uid", m->rootless_uid);
	}
	if (m->nested_in[0]) {
		vg_pr_obj_open(p, "nested_in");
		vg_pr_str(p, "id", NULL, m->nested_in);
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(m->nested_runtime));
		vg_pr_obj_close(p);
		vg_pr_text(p, "%-16s %s ", "nested in",
			   vg_runtime_name(m->nested_runtime));
		put_value(p, m->nested_in);
		vg_pr_put(p, "\n", 1);
	}
	if (id->meta)
		vg_print_claim(p, id->meta);
	vg_pr_obj_close(p);

	vg_print_k8s(p, vg_identity_pod(id), m->pod_qos);
}

void vg_print_identity(struct vg_printer *p, const struct vigil_identity *id)
{
	vg_pr_begin(p);
	if (!id->have_proc) {
		vg_pr_obj_open(p, "proc");
		vg_pr_i64(p, "pid", "pid", id->proc.pid);
		vg_pr_obj_close(p);
	} else {
		print_proc(p, id);
		print_cgroup(p, id);
		if (id->status == VIGIL_OK || id->status == VIGIL_UNVERIFIED)
			print_attribution(p, id);
		else
			vg_pr_null(p, "container", NULL);
	}
	if (id->peer_method) {
		vg_pr_obj_open(p, "peer");
		vg_pr_str(p, "method", "peer via", id->peer_method);
		vg_pr_i64(p, "pid", NULL, id->peer_pid);
		vg_pr_u64(p, "uid", NULL, id->peer_uid);
		vg_pr_u64(p, "gid", NULL, id->peer_gid);
		vg_pr_obj_close(p);
	}
	if (id->status != VIGIL_OK) {
		vg_pr_obj_open(p, "error");
		vg_pr_str(p, "code", NULL, vigil_status_name(id->status));
		vg_pr_str(p, "message", NULL, id->message);
		vg_pr_obj_close(p);
		vg_pr_text(p, "%-16s %s: ", "error",
			   vigil_status_name(id->status));
		vg_pr_put_escaped(p, id->message, strlen(id->message));
		vg_pr_put(p, "\n", 1);
	}
}
