/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "event.h"

#include <stdlib.h>
#include <string.h>

/* Every table of event names in vigil is this one. */
const struct vg_event_type_info vg_event_types[] = {
	{ VG_E_EXEC, "exec", "execve execveat", true,
	  "a program started: filename, exe, the whole argv" },
	{ VG_E_EXIT, "exit", "exit_group procexit", true,
	  "a process ended: its code, or the signal" },
	{ VG_E_FORK, "fork", "clone clone3 vfork", true,
	  "a process made (with --event thread, threads too)" },
	{ VG_E_OPEN, "open", "openat openat2 creat", true,
	  "open, openat, openat2, creat: path, flags, fd or errno" },
	{ VG_E_CONNECT, "connect", NULL, true, "connect: addresses, result" },
	{ VG_E_ACCEPT, "accept", "accept4", true, "accept: the peer, the new fd" },
	{ VG_E_BIND, "bind", NULL, true, "bind: the address" },
	{ VG_E_LISTEN, "listen", NULL, true, "listen: the address, backlog" },
	{ VG_E_FILE, "file", NULL, true,
	  "file changes: create, write, truncate, delete, rmdir, mkdir, "
	  "rename, link, symlink, chmod, chown" },
	{ VG_E_CONTAINER, "container", NULL, true,
	  "a container's lifecycle: created, running, exited, destroyed" },
	{ VG_E_SYSCALL, "syscall", NULL, false,
	  "syscall:NR, raw enter and exit of a syscall number" },
	{ VG_E_TP, "tp", "tracepoint", false,
	  "tp:GROUP:NAME, any tracepoint, its fields decoded by name" },
	{ VG_E_ALERT, "alert", NULL, false,
	  "an alert: a rule of the daemon's --rules matched an event" },
	{ VG_E_LOST, "lost", NULL, false,
	  "events that could not be delivered, counted (to everyone)" },
};
const size_t vg_n_event_types = sizeof(vg_event_types) / sizeof(vg_event_types[0]);

/* Whether @name is one of the space-separated words of @list. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t w = strcspn(p, " ");

		if (w == n && memcmp(p, name, n) == 0)
			return true;
		p += w;
		while (*p == ' ')
			p++;
	}
	return false;
}

const struct vg_event_type_info *vg_event_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < vg_n_event_types; i++)
		if (strcmp(vg_event_types[i].name, name) == 0 ||
		    in_list(vg_event_types[i].aliases, name))
			return &vg_event_types[i];
	return NULL;
}

const char *vg_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < vg_n_event_types; i++)
		if (vg_event_types[i].type == type)
			return vg_event_types[i].name;
	return "?";
}

uint64_t vg_event_std_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < vg_n_event_types; i++)
		if (vg_event_types[i].std)
			m |= VG_E_BIT(vg_event_types[i].type);
	return m;
}

uint64_t vg_event_type_bits(const char *name, void *ctx)
{
	const struct vg_event_type_info *t = vg_event_type_find(name);

	(void)ctx;
	return t ? VG_E_BIT(t->type) : 0;
}

const char *vg_event_std_names(void)
{
	static char buf[256];

	if (!buf[0])
		for (size_t i = 0; i < vg_n_event_types; i++)
			if (vg_event_types[i].std) {
				if (buf[0])
					strcat(buf, ", ");
				strcat(buf, vg_event_types[i].name);
			}
	return buf;
}

static const char *const file_actions[VG_FA_COUNT] = {
	[VG_FA_CREATE] = "create",     [VG_FA_WRITE] = "write",
	[VG_FA_TRUNCATE] = "truncate", [VG_FA_DELETE] = "delete",
	[VG_FA_RMDIR] = "rmdir",       [VG_FA_MKDIR] = "mkdir",
	[VG_FA_RENAME] = "rename",     [VG_FA_LINK] = "link",
	[VG_FA_SYMLINK] = "symlink",   [VG_FA_CHMOD] = "chmod",
	[VG_FA_CHOWN] = "chown",
};

const char *vg_file_action_name(uint32_t a)
{
	return a < VG_FA_COUNT && file_actions[a] ? file_actions[a] : "?";
}

/* ------------------------------------------------------------ copies */

struct dup_ctx {
	char *at;      /* where the next copy goes */
	size_t need;   /* first pass: bytes needed */
	bool copy;
};

static const void *dup_bytes(struct dup_ctx *c, const void *p, size_t n)
{
	void *at;

	if (!p)
		return NULL;
	if (!c->copy) {
		c->need += n;
		return p;
	}
	at = c->at;
	memcpy(at, p, n);
	c->at += n;
	return at;
}

static const char *dup_str(struct dup_ctx *c, const char *s)
{
	return s ? dup_bytes(c, s, strlen(s) + 1) : NULL;
}

/* A path as given and its absolute form, which may be one string: one
 * copy then. */
static void dup_pair(struct dup_ctx *c, const char **given, const char **abs)
{
	bool same = *given == *abs;

	*given = dup_str(c, *given);
	*abs = same ? *given : dup_str(c, *abs);
}

static void dup_fields(struct dup_ctx *c, struct vg_event *e)
{
	switch (e->type) {
	case VG_E_EXEC:
		e->exec.filename = dup_str(c, e->exec.filename);
		e->exec.exe = dup_str(c, e->exec.exe);
		e->exec.args = dup_bytes(c, e->exec.args, e->exec.args_len);
		e->exec.cwd = dup_str(c, e->exec.cwd);
		break;
	case VG_E_OPEN:
		dup_pair(c, &e->open.path, &e->open.name);
		break;
	case VG_E_FILE:
		dup_pair(c, &e->file.path, &e->file.name);
		dup_pair(c, &e->file.path2, &e->file.name2);
		break;
	case VG_E_TP:
		e->tp.raw = dup_bytes(c, e->tp.raw, e->tp.len);
		e->tp.name = dup_str(c, e->tp.name);
		break;
	case VG_E_CGROUP_MKDIR:
	case VG_E_CGROUP_RMDIR:
		e->cgroup.path = dup_str(c, e->cgroup.path);
		break;
	case VG_E_PROC_SEED:
		e->seed.exe = dup_str(c, e->seed.exe);
		break;
	default:
		break;
	}
	e->x.exe = dup_str(c, e->x.exe);
}

struct vg_event *vg_event_dup(const struct vg_event *e)
{
	struct vg_event tmp, *d;
	struct dup_ctx c = { 0 };

	vg_event_ids(e); /* frozen as they are now */
	tmp = *e;
	dup_fields(&c, &tmp);
	d = malloc(sizeof(*d) + c.need);
	if (!d)
		return NULL;
	*d = *e;
	c.copy = true;
	c.at = (char *)(d + 1);
	dup_fields(&c, d);
	if (e->x.exec_id)
		d->x.exec_id = d->id_buf[0];
	if (e->x.parent_exec_id)
		d->x.parent_exec_id = d->id_buf[1];
	d->x.attr = NULL;
	d->x.attr_err = 0;
	return d;
}
