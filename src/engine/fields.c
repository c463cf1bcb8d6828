/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a filter sees of an event: each field by its Falco name, from the
 * event, the process table's part the engine filled in, and the
 * attribution. A field the event lacks is absent, never a made-up value.
 */
#include "engine/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/caps.h"
#include "base/kv.h"
#include "base/userdb.h"
#include "base/util.h"
#include "ptable/ptable.h"

/* Ancestors walked at most (proc.aname without an index): a table that
 * is wrong somewhere must not loop. */
#define ANCESTORS_MAX 64

struct getter {
	struct vg_engine *en;
	const struct vg_event *e;
	char *scratch; /* proc.args joined */
	size_t cap;
	char text[160]; /* a value made here: evt.arg.flags */
	char net[256];  /* fd.name of a socket */
	char caps[41 * 24]; /* thread.cap_*: every name Falco has */
	struct vg_pt_session sess; /* a replay's recorded session facts */
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

/* @name, then the words of @args (NUL-separated, @len bytes) after
 * argv[0], joined with spaces: Falco's proc.cmdline (proc.args without
 * the name, when @name is NULL). */
static int join_args(struct getter *g, const char *name, const char *args,
		     size_t len, struct vg_fval *ret)
{
	size_t skip = 0, n, pre;

	while (skip < len && args[skip])
		skip++;
	skip = skip < len ? skip + 1 : len;
	n = len - skip;
	pre = name ? strlen(name) + 1 : 0;
	if (pre + n + 1 > g->cap) {
		char *b = realloc(g->scratch, pre + n + 1);

		if (!b)
			return 0;
		g->scratch = b;
		g->cap = pre + n + 1;
	}
	if (name) {
		memcpy(g->scratch, name, pre - 1);
		g->scratch[pre - 1] = ' ';
	}
	for (size_t i = 0; i < n; i++)
		g->scratch[pre + i] = args[skip + i] ? args[skip + i] : ' ';
	while (n && g->scratch[pre + n - 1] == ' ')
		n--;
	/* no arguments: the name alone, without the space */
	if (name && !n)
		pre--;
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
	case VG_E_LISTEN:
	case VG_E_SOCKET:
	case VG_E_DUP:
	case VG_E_SEND: *ret = e->net.ret; return true;
	case VG_E_PTRACE: *ret = e->ptrace.ret; return true;
	case VG_E_SYSCALL: *ret = e->syscall.ret; return true;
	default: return false;
	}
}

/* fd.sip, fd.cip: a socket call's server and client; a send's
 * destination is its server, as a connect's peer is. A socket or dup
 * event cannot tell which end served: only fd.lip and fd.rip then. */
static const struct vg_event_addr *addr_of(const struct vg_event *e, bool server)
{
	if ((e->type < VG_E_CONNECT || e->type > VG_E_LISTEN) && e->type != VG_E_SEND)
		return NULL;
	return server ? &e->net.server : &e->net.client;
}

/* "true" or "false": how Falco's boolean fields read in filters and
 * output alike. */
static int bool_val(bool b, struct vg_fval *ret)
{
	return str_val(b ? "true" : "false", ret);
}

/* The process table's entry of @e's process, when it is that process
 * (not an earlier one with its pid). */
static const struct vg_pt_entry *self_entry(const struct getter *g)
{
	const struct vg_event *e = g->e;
	const struct vg_pt_entry *pe = vg_ptable_get(g->en->pt, (int)e->t.pid);
	uint64_t tick_ns = 1000000000ull / (uint64_t)g->en->ctx->clk_tck;

	if (!pe || e->t.start_unknown || pe->start_ticks != e->t.start_ns / tick_ns)
		return NULL;
	return pe;
}

/* @c's parent as the table linked them at its fork or exec: the entry
 * of its parent's pid only while that is still the same process. */
static const struct vg_pt_entry *parent_entry(const struct getter *g,
					      const struct vg_pt_entry *c)
{
	const struct vg_pt_entry *p = vg_ptable_get(g->en->pt, c->ppid);

	if (!p || !c->parent_exec_id[0] || strcmp(p->exec_id, c->parent_exec_id))
		return NULL;
	return p;
}

/* Ancestor @n of @e's process (1: its parent); NULL when the table does
 * not know it. The parent is the kernel's word at the event when the
 * table has not followed a reparenting yet. */
static const struct vg_pt_entry *ancestor(const struct getter *g, uint32_t n)
{
	const struct vg_event *e = g->e;
	const struct vg_pt_entry *a = self_entry(g), *p;

	if (!a || !n || n > ANCESTORS_MAX)
		return NULL;
	if (e->t.ppid && (int)e->t.ppid != a->ppid) {
		p = vg_ptable_get(g->en->pt, (int)e->t.ppid);
		a = p && !p->exited ? p : NULL;
	} else {
		a = parent_entry(g, a);
	}
	while (a && --n)
		a = parent_entry(g, a);
	return a;
}

/* proc.args: argv after argv[0], joined with spaces (Falco's form);
 * proc.cmdline: the name, then those. An exec's own, else (any other
 * event of the process: Falco has them on every one) its argv as the
 * process table keeps it. */
static int args_val(struct getter *g, bool cmdline, struct vg_fval *ret)
{
	const struct vg_event *e = g->e;
	const struct vg_pt_entry *pe;

	if (e->type == VG_E_EXEC)
		return e->exec.args ? join_args(g, cmdline ? e->t.comm : NULL,
						e->exec.args, e->exec.args_len, ret)
				    : 0;
	pe = self_entry(g);
	if (!pe || !pe->args)
		return 0;
	return join_args(g, cmdline ? pe->comm : NULL, pe->args, pe->args_len, ret);
}

/* The ancestor a field names: [N] (0: the process itself, which the
 * caller answers), or without one each ancestor in turn by @ret->idx
 * (Falco's "any ancestor"). */
static bool ancestor_index(const char *key, const struct vg_fval *ret,
			   uint32_t *n)
{
	uint64_t v;

	if (!key) {
		*n = ret->idx + 1;
		return true;
	}
	if (vg_parse_u64(key, &v) < 0 || v > ANCESTORS_MAX)
		return false;
	*n = (uint32_t)v;
	return true;
}

/* Open's flags by Falco's names, the access mode first. */
static int open_flags_val(struct getter *g, uint32_t flags, struct vg_fval *ret)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ O_CREAT, "O_CREAT" },     { O_APPEND, "O_APPEND" },
		{ O_DSYNC, "O_DSYNC" },     { O_EXCL, "O_EXCL" },
		{ O_NONBLOCK, "O_NONBLOCK" }, { O_TRUNC, "O_TRUNC" },
		{ O_DIRECT, "O_DIRECT" },   { O_DIRECTORY, "O_DIRECTORY" },
		{ O_LARGEFILE, "O_LARGEFILE" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_NOCTTY, "O_NOCTTY" },   { O_PATH, "O_PATH" },
	};
	uint32_t acc = flags & O_ACCMODE;
	size_t n;

	n = (size_t)snprintf(g->text, sizeof(g->text), "%s",
			     acc == O_WRONLY ? "O_WRONLY"
			     : acc == O_RDWR ? "O_RDWR" : "O_RDONLY");
	/* O_SYNC holds O_DSYNC's bit: named once, as the larger */
	if ((flags & O_SYNC) == O_SYNC) {
		n += (size_t)snprintf(g->text + n, sizeof(g->text) - n, "|O_SYNC");
		flags &= ~(uint32_t)O_SYNC;
	}
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		n += (size_t)snprintf(g->text + n, sizeof(g->text) - n, "|O_TMPFILE");
		flags &= ~(uint32_t)O_TMPFILE;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit && n < sizeof(g->text))
			n += (size_t)snprintf(g->text + n, sizeof(g->text) - n,
					      "|%s", names[i].name);
	return str_val(g->text, ret);
}

/* An absolute path when there is one, else the path as given. */
static int path_val(const char *abs, const char *given, struct vg_fval *ret)
{
	return str_val(abs ? abs : given, ret);
}

/* evt.arg.NAME: the event's arguments under Falco's parameter names,
 * for the calls vigil records; paths absolute where vigil resolved them
 * (as Falco's filters see a relative path resolved). */
static int arg_val(struct getter *g, const char *key, struct vg_fval *ret)
{
	const struct vg_event *e = g->e;

	if (!key)
		return 0;
	switch (e->type) {
	case VG_E_OPEN:
		if (!strcmp(key, "flags"))
			return open_flags_val(g, e->open.flags, ret);
		if (!strcmp(key, "name") || !strcmp(key, "path"))
			return path_val(e->open.name, e->open.path, ret);
		if (!strcmp(key, "fd"))
			return e->open.ret >= 0 ? num_val(e->open.ret, ret) : 0;
		return 0;
	case VG_E_EXEC:
		if (!strcmp(key, "filename"))
			return str_val(e->exec.filename, ret);
		return 0;
	case VG_E_FILE:
		break;
	case VG_E_PTRACE:
		if (!strcmp(key, "request")) {
			const char *n = vg_ptrace_request_name(e->ptrace.request);

			if (n)
				return str_val(n, ret);
			snprintf(g->text, sizeof(g->text), "%u", e->ptrace.request);
			return str_val(g->text, ret);
		}
		if (!strcmp(key, "pid"))
			return num_val(e->ptrace.pid, ret);
		if (!strcmp(key, "addr"))
			return num_val((int64_t)e->ptrace.addr, ret);
		if (!strcmp(key, "data"))
			return num_val((int64_t)e->ptrace.data, ret);
		return 0;
	case VG_E_SOCKET:
		if (!strcmp(key, "domain"))
			return str_val(vg_socket_family_name(e->net.family), ret);
		if (!strcmp(key, "type"))
			return num_val(e->net.sock_type | e->net.flags, ret);
		if (!strcmp(key, "proto"))
			return num_val(e->net.protocol, ret);
		if (!strcmp(key, "fd"))
			return e->net.ret >= 0 ? num_val(e->net.ret, ret) : 0;
		return 0;
	case VG_E_DUP:
		if (!strcmp(key, "oldfd") || !strcmp(key, "fd"))
			return num_val(e->net.fd, ret);
		if (!strcmp(key, "newfd"))
			return e->net.newfd >= 0 ? num_val(e->net.newfd, ret)
			       : e->net.ret >= 0 ? num_val(e->net.ret, ret) : 0;
		if (!strcmp(key, "flags"))
			return e->net.nr == 292 /* dup3 */
				       ? str_val(e->net.flags & O_CLOEXEC ? "O_CLOEXEC" : "", ret)
				       : 0;
		return 0;
	case VG_E_SEND:
		if (!strcmp(key, "fd"))
			return num_val(e->net.fd, ret);
		if (!strcmp(key, "size"))
			return e->net.size ? num_val((int64_t)e->net.size, ret) : 0;
		return 0;
	default:
		return 0;
	}
	switch (e->file.action) {
	case VG_FA_RENAME:
	case VG_FA_LINK:
		/* path2: the old, existing name */
		if (!strcmp(key, "oldpath"))
			return path_val(e->file.name2, e->file.path2, ret);
		if (!strcmp(key, "newpath"))
			return path_val(e->file.name, e->file.path, ret);
		return 0;
	case VG_FA_SYMLINK:
		/* a target is never resolved: it is a link's text */
		if (!strcmp(key, "target"))
			return str_val(e->file.path2, ret);
		if (!strcmp(key, "linkpath"))
			return path_val(e->file.name, e->file.path, ret);
		return 0;
	case VG_FA_DELETE:
	case VG_FA_RMDIR:
	case VG_FA_MKDIR:
	case VG_FA_CHMOD:
	case VG_FA_CHOWN:
		/* unlink, rmdir, mkdir say path; unlinkat name; chmod and
		 * chown filename: vigil's file event is either */
		if (!strcmp(key, "path") || !strcmp(key, "name") ||
		    !strcmp(key, "filename"))
			return path_val(e->file.name, e->file.path, ret);
		return 0;
	default:
		return 0;
	}
}

/* The fd an event is about, where Falco's fd.num would have one: an
 * open's result (negative: the open failed, as Falco shows it), a
 * socket call's, a file change made through an fd. */
static bool fd_of(const struct vg_event *e, int64_t *ret)
{
	switch (e->type) {
	case VG_E_OPEN: *ret = e->open.ret; return true;
	case VG_E_ACCEPT: *ret = e->net.ret; return true;
	case VG_E_CONNECT:
	case VG_E_BIND:
	case VG_E_LISTEN:
	case VG_E_DUP: /* the old fd: the one duplicated, as Falco's */
	case VG_E_SEND: *ret = e->net.fd; return true;
	case VG_E_SOCKET:
		*ret = e->net.fd;
		return e->net.fd >= 0;
	case VG_E_FILE:
		*ret = e->file.fd;
		return e->file.fd >= 0;
	default: return false;
	}
}

/* fd.type and fd.typechar: the file an open made (a directory when it
 * asked for one), a socket's family. A failed open made no fd. */
static const char *fd_type(const struct vg_event *e, bool ch)
{
	if (e->type == VG_E_OPEN) {
		if (e->open.ret < 0)
			return NULL;
		if (e->open.flags & O_DIRECTORY)
			return ch ? "d" : "directory";
		return ch ? "f" : "file";
	}
	if (e->type == VG_E_FILE)
		return e->file.fd >= 0 ? (ch ? "f" : "file") : NULL;
	if (e->type >= VG_E_SOCKET && e->type <= VG_E_SEND)
		return vg_fd_type_name(e->net.family, e->net.fd_mode, ch);
	if (e->type < VG_E_CONNECT || e->type > VG_E_LISTEN)
		return NULL;
	switch (e->net.family) {
	case AF_INET: return ch ? "4" : "ipv4";
	case AF_INET6: return ch ? "6" : "ipv6";
	case AF_UNIX: return ch ? "u" : "unix";
	default: return NULL;
	}
}

/* The file's name an event is about: absolute, as fd.name. */
static const char *fd_name_of(const struct vg_event *e)
{
	return e->type == VG_E_OPEN ? e->open.name
	       : e->type == VG_E_FILE ? e->file.name : NULL;
}

/* fd.directory and fd.filename: fd.name split at its last '/'; a
 * directory's fd.directory is itself, and it has no fd.filename. */
static int dir_or_file(const struct vg_event *e, bool dir, struct vg_fval *ret)
{
	const char *name = fd_name_of(e), *slash;

	if (!name || name[0] != '/')
		return 0;
	if ((e->type == VG_E_OPEN && (e->open.flags & O_DIRECTORY)) ||
	    (e->type == VG_E_FILE && (e->file.action == VG_FA_MKDIR ||
				      e->file.action == VG_FA_RMDIR)))
		return dir ? str_val(name, ret) : 0;
	slash = strrchr(name, '/');
	if (!dir)
		return str_val(slash + 1, ret);
	ret->s = name;
	ret->len = slash == name ? 1 : (size_t)(slash - name);
	return 1;
}

/* The local and remote ends of a socket call: connect's peer is the
 * server, accept's the client; bind and listen have only their own. */
static const struct vg_event_addr *end_of(const struct vg_event *e, bool local)
{
	const struct vg_event_addr *a;

	if (!vg_event_is_net(e->type))
		return NULL;
	if (e->type == VG_E_CONNECT || e->type >= VG_E_SOCKET)
		a = local ? &e->net.client : &e->net.server;
	else if (e->type == VG_E_ACCEPT)
		a = local ? &e->net.server : &e->net.client;
	else
		a = local ? &e->net.server : NULL;
	return a && (a->family == AF_INET || a->family == AF_INET6) ? a : NULL;
}

/* fd.name of a socket, as Falco writes it: "cip:cport->sip:sport" once
 * both ends are known, the one end ("sip:sport", a bound or listening
 * socket) otherwise, or a unix socket's path. */
static int net_name(struct getter *g, struct vg_fval *ret)
{
	const struct vg_event *e = g->e;
	const struct vg_event_addr *c = &e->net.client, *sv = &e->net.server;
	bool cip = (c->family == AF_INET || c->family == AF_INET6) && c->port >= 0;
	bool sip = (sv->family == AF_INET || sv->family == AF_INET6) && sv->port >= 0;
	int n;

	if (!vg_event_is_net(e->type))
		return 0;
	if (cip && sip)
		n = snprintf(g->net, sizeof(g->net), "%s:%d->%s:%d", c->text,
			     c->port, sv->text, sv->port);
	else if (sip || cip)
		n = snprintf(g->net, sizeof(g->net), "%s:%d", sip ? sv->text : c->text,
			     sip ? sv->port : c->port);
	else if (sv->family == AF_UNIX && sv->text[0])
		return str_val(sv->text, ret);
	else if (c->family == AF_UNIX && c->text[0])
		return str_val(c->text, ret);
	else
		return 0;
	return n > 0 && (size_t)n < sizeof(g->net) ? str_val(g->net, ret) : 0;
}

static int l4proto_val(const struct vg_event *e, struct vg_fval *ret)
{
	if (!vg_event_is_net(e->type) ||
	    (e->net.family != AF_INET && e->net.family != AF_INET6))
		return 0;
	switch (e->net.sock_type) {
	case SOCK_STREAM: return str_val("tcp", ret);
	case SOCK_DGRAM: return str_val("udp", ret);
	case SOCK_RAW: return str_val("raw", ret);
	default: return 0;
	}
}

/* container.image.repository, .tag, .digest of a reference. */
static int image_part(const char *ref, int field, struct vg_fval *ret)
{
	struct vg_image_ref r;

	if (!ref)
		return 0;
	vg_image_ref_split(ref, &r);
	switch (field) {
	case VG_F_CONTAINER_IMAGE_REPOSITORY:
		ret->s = ref;
		ret->len = r.repo_len;
		return r.repo_len > 0;
	case VG_F_CONTAINER_IMAGE_TAG:
		ret->s = ref + r.tag_off;
		ret->len = r.tag_len;
		return r.tag_len > 0;
	default:
		ret->s = ref + r.digest_off;
		ret->len = r.digest_len;
		return r.digest_len > 0;
	}
}

/* A session part read live into the recording, so that a replay gives
 * the rules that ask for it (proc.tty, thread.cap_effective...) what the
 * live sensor saw. */
static void record_session(struct vg_engine *en, const struct vg_pt_entry *pe)
{
	const struct vg_pt_session *ss = pe->sess;
	struct vg_rec_session r = {
		.pid = pe->pid, .start_ticks = pe->start_ticks, .tty = ss->tty,
		.sid = ss->sid, .loginuid = ss->loginuid, .vpid = ss->vpid,
		.cap_inh = ss->cap_inh, .cap_prm = ss->cap_prm,
		.cap_eff = ss->cap_eff,
	};

	r.flags = (ss->has_loginuid ? VG_REC_SESSION_LOGINUID : 0) |
		  (ss->has_status ? VG_REC_SESSION_STATUS : 0);
	vg_rec_write(en->rec, VG_REC_SESSION, &r, sizeof(r));
}

/* The session part of @e's process: read from /proc while it lives (only
 * a live source's process is the one /proc shows), or as a recording
 * says the live sensor read it. */
static const struct vg_pt_session *session_of(struct getter *g)
{
	const struct vg_pt_entry *pe = self_entry(g);
	struct vg_engine *en = g->en;
	struct vg_rec_session r;
	bool fresh;

	if (!pe)
		return NULL;
	if (!en->live) {
		if (!en->src || !en->src->ops->session ||
		    en->src->ops->session(en->src, pe->pid, pe->start_ticks, &r) < 0)
			return NULL;
		g->sess = (struct vg_pt_session){
			.ok = true, .tty = r.tty, .sid = r.sid,
			.has_loginuid = r.flags & VG_REC_SESSION_LOGINUID,
			.loginuid = r.loginuid,
			.has_status = r.flags & VG_REC_SESSION_STATUS,
			.vpid = r.vpid, .cap_inh = r.cap_inh,
			.cap_prm = r.cap_prm, .cap_eff = r.cap_eff,
		};
		return &g->sess;
	}
	if (pe->exited)
		return NULL;
	fresh = !pe->sess;
	pe = vg_ptable_read_session(en->pt, en->ctx->proc_fd, pe->pid);
	if (!pe || !pe->sess || !pe->sess->ok)
		return NULL;
	if (fresh && en->rec && en->rec->f)
		record_session(en, pe);
	return pe->sess;
}

/* proc.sname: the name of the session's leader, the process whose pid
 * is the session id, while it lives. */
static int sname_val(struct getter *g, struct vg_fval *ret)
{
	const struct vg_pt_session *s = session_of(g);
	const struct vg_pt_entry *l;

	if (!s || s->sid <= 0)
		return 0;
	if ((uint32_t)s->sid == g->e->t.pid)
		return str_val(g->e->t.comm, ret);
	l = vg_ptable_get(g->en->pt, s->sid);
	return l && !l->exited ? str_val(l->comm, ret) : 0;
}

/* A capability set by Falco's names, space-separated, lowest first. */
static int caps_val(struct getter *g, uint64_t caps, struct vg_fval *ret)
{
	size_t n = 0;

	g->caps[0] = '\0';
	for (unsigned c = 0; c < 64; c++) {
		const char *name = vg_cap_name(c);

		if (!(caps & (1ull << c)) || !name)
			continue;
		n += (size_t)snprintf(g->caps + n, sizeof(g->caps) - n, "%s%s",
				      n ? " " : "", name);
		if (n >= sizeof(g->caps))
			return 0;
	}
	return str_val(g->caps, ret);
}

/* fd.ip, fd.port: each end of a socket call's, one value at a time. */
static int either_end(const struct vg_event *e, bool port, struct vg_fval *ret)
{
	const struct vg_event_addr *a = end_of(e, true), *b = end_of(e, false);
	const struct vg_event_addr *v = ret->idx == 0 ? (a ? a : b)
					: ret->idx == 1 && a ? b : NULL;

	if (!v)
		return 0;
	if (!port)
		return str_val(v->text, ret);
	return v->port >= 0 ? num_val(v->port, ret) : 0;
}

static struct vg_userdb *userdb(struct vg_engine *en)
{
	if (!en->userdb)
		en->userdb = vg_userdb_new(en->ctx->root_fd);
	return en->userdb;
}

/* The fields of the process table: ancestors, and the process's own
 * entry. -1: not one of them. */
static int table_field(struct getter *g, int field, const char *key,
		       struct vg_fval *ret)
{
	const struct vg_event *e = g->e;
	const struct vg_pt_entry *a;
	uint32_t n = 1;

	switch (field) {
	case VG_F_PROC_PNAME:
	case VG_F_PROC_PEXE:
	case VG_F_PROC_PEXEPATH:
	case VG_F_PROC_PCMDLINE:
		break;
	case VG_F_PROC_ANAME:
	case VG_F_PROC_APID:
	case VG_F_PROC_AEXE:
	case VG_F_PROC_AEXEPATH:
		if (!ancestor_index(key, ret, &n))
			return 0;
		if (n > 0)
			break;
		/* [0]: the process itself */
		if (field == VG_F_PROC_ANAME)
			return str_val(e->t.comm, ret);
		if (field == VG_F_PROC_APID)
			return num_val(e->t.pid, ret);
		return str_val(e->x.exe, ret);
	default:
		return -1;
	}
	a = ancestor(g, n);
	if (!a)
		return 0;
	switch (field) {
	case VG_F_PROC_PNAME:
	case VG_F_PROC_ANAME: return str_val(a->comm, ret);
	case VG_F_PROC_APID: return num_val(a->pid, ret);
	case VG_F_PROC_PCMDLINE:
		return a->args ? join_args(g, a->comm, a->args, a->args_len, ret) : 0;
	default: return str_val(a->exe, ret);
	}
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
	int r;

	(void)key_len;
	if (!e->has_task &&
	    ((field >= VG_F_PROC_PID && field <= VG_F_GROUP_GID) ||
	     (field >= VG_F_EVT_DIR && field <= VG_F_GROUP_NAME) ||
	     (field >= VG_F_PROC_TTY && field <= VG_F_THREAD_CAP_INHERITABLE)))
		return 0;
	r = table_field(g, field, key, ret);
	if (r >= 0)
		return r;
	switch (field) {
	case VG_F_EVT_NUM: return e->x.num ? num_val((int64_t)e->x.num, ret) : 0;
	case VG_F_EVT_RAWRES: return result_of(e, &res) ? num_val(res, ret) : 0;
	case VG_F_EVT_DIR: return str_val("<", ret);
	case VG_F_EVT_IS_OPEN_READ:
		return bool_val(e->type == VG_E_OPEN &&
				(e->open.flags & O_ACCMODE) != O_WRONLY, ret);
	case VG_F_EVT_IS_OPEN_WRITE:
		return bool_val(e->type == VG_E_OPEN &&
				(e->open.flags & O_ACCMODE) != O_RDONLY, ret);
	case VG_F_EVT_IS_OPEN_EXEC:
		/* a file created executable */
		return bool_val(e->type == VG_E_OPEN && (e->open.flags & O_CREAT) &&
				(e->open.mode & 0111), ret);
	case VG_F_EVT_ARG: return arg_val(g, key, ret);
	case VG_F_PROC_EXEPATH: return str_val(e->x.exe, ret);
	/* the kernel's word on the executed file (exec, then the table) */
	case VG_F_PROC_IS_EXE_UPPER_LAYER:
		return e->has_task && e->x.exe_origin != VG_EXE_ORIGIN_UNKNOWN
			       ? bool_val(e->x.exe_origin == VG_EXE_ORIGIN_UPPER, ret) : 0;
	case VG_F_PROC_IS_EXE_FROM_MEMFD:
		return e->has_task && e->x.exe_origin != VG_EXE_ORIGIN_UNKNOWN
			       ? bool_val(e->x.exe_origin == VG_EXE_ORIGIN_MEMFD, ret) : 0;
	case VG_F_PROC_DURATION:
		return !e->t.start_unknown && e->t.start_ns &&
			       e->t.ktime_ns >= e->t.start_ns
			       ? num_val((int64_t)(e->t.ktime_ns - e->t.start_ns), ret)
			       : 0;
	case VG_F_USER_NAME:
		return str_val(vg_userdb_user(userdb(g->en), e->t.uid,
					      engine_mono_ns()), ret);
	case VG_F_GROUP_NAME:
		return str_val(vg_userdb_group(userdb(g->en), e->t.gid,
					       engine_mono_ns()), ret);
	case VG_F_PROC_TTY: {
		const struct vg_pt_session *ss = session_of(g);

		return ss ? num_val(ss->tty, ret) : 0;
	}
	case VG_F_PROC_SNAME: return sname_val(g, ret);
	case VG_F_USER_LOGINUID:
	case VG_F_USER_LOGINNAME: {
		const struct vg_pt_session *ss = session_of(g);

		if (!ss || !ss->has_loginuid)
			return 0;
		if (field == VG_F_USER_LOGINUID)
			return num_val(ss->loginuid, ret);
		return ss->loginuid >= 0
			       ? str_val(vg_userdb_user(userdb(g->en),
							(uint32_t)ss->loginuid,
							engine_mono_ns()), ret)
			       : 0;
	}
	case VG_F_PROC_VPID:
	case VG_F_THREAD_CAP_EFFECTIVE:
	case VG_F_THREAD_CAP_PERMITTED:
	case VG_F_THREAD_CAP_INHERITABLE: {
		const struct vg_pt_session *ss = session_of(g);

		if (!ss || !ss->has_status)
			return 0;
		if (field == VG_F_PROC_VPID)
			return num_val(ss->vpid, ret);
		return caps_val(g, field == VG_F_THREAD_CAP_EFFECTIVE ? ss->cap_eff
				   : field == VG_F_THREAD_CAP_PERMITTED ? ss->cap_prm
				   : ss->cap_inh, ret);
	}
	case VG_F_FD_IP: return either_end(e, false, ret);
	case VG_F_FD_PORT: return either_end(e, true, ret);
	case VG_F_FD_SOCKFAMILY:
		if (!vg_event_is_net(e->type) ||
		    (e->type >= VG_E_SOCKET && e->net.fd_mode != 0140000))
			return 0;
		return str_val(e->net.family == AF_INET || e->net.family == AF_INET6
				       ? "ip" : e->net.family == AF_UNIX ? "unix" : NULL, ret);
	case VG_F_FD_NAMERAW:
		return str_val(e->type == VG_E_OPEN ? e->open.path
			       : e->type == VG_E_FILE ? e->file.path : NULL, ret);
	case VG_F_FD_NUM: return fd_of(e, &res) ? num_val(res, ret) : 0;
	case VG_F_FD_TYPE: return str_val(fd_type(e, false), ret);
	case VG_F_FD_TYPECHAR: return str_val(fd_type(e, true), ret);
	case VG_F_FD_DIRECTORY: return dir_or_file(e, true, ret);
	case VG_F_FD_FILENAME: return dir_or_file(e, false, ret);
	case VG_F_FD_L4PROTO: return l4proto_val(e, ret);
	case VG_F_FD_LIP:
	case VG_F_FD_RIP:
		ad = end_of(e, field == VG_F_FD_LIP);
		return ad ? str_val(ad->text, ret) : 0;
	case VG_F_FD_LPORT:
	case VG_F_FD_RPORT:
		ad = end_of(e, field == VG_F_FD_LPORT);
		return ad && ad->port >= 0 ? num_val(ad->port, ret) : 0;
	case VG_F_FD_CONNECTED:
		/* a socket connected by this call, or one accept made;
		 * dup, send: whether it had a peer */
		if (e->type == VG_E_DUP || e->type == VG_E_SEND)
			return e->net.fd_mode == 0140000 ? bool_val(e->net.connected, ret) : 0;
		if (e->type < VG_E_CONNECT || e->type > VG_E_LISTEN)
			return 0;
		return bool_val((e->type == VG_E_CONNECT && e->net.ret == 0) ||
				(e->type == VG_E_ACCEPT && e->net.ret >= 0), ret);
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
		if (vg_event_is_net(e->type))
			return net_name(g, ret);
		return str_val(e->type == VG_E_OPEN ? e->open.name
			       : e->type == VG_E_FILE ? e->file.name : NULL, ret);
	case VG_F_FILE_ACTION:
		return e->type == VG_E_FILE
			       ? str_val(vg_file_action_name(e->file.action), ret) : 0;
	case VG_F_FD_NET: return either_end(e, false, ret);
	case VG_F_FD_LNET:
	case VG_F_FD_RNET:
		ad = end_of(e, field == VG_F_FD_LNET);
		return ad ? str_val(ad->text, ret) : 0;
	case VG_F_FD_SIP:
	case VG_F_FD_CIP:
	case VG_F_FD_SNET:
	case VG_F_FD_CNET:
		ad = addr_of(e, field == VG_F_FD_SIP || field == VG_F_FD_SNET);
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
	case VG_F_CONTAINER_IMAGE_REPOSITORY:
	case VG_F_CONTAINER_IMAGE_TAG:
	case VG_F_CONTAINER_IMAGE_DIGEST:
		return m ? image_part(m->meta.image, field, ret) : 0;
	case VG_F_CONTAINER_PRIVILEGED:
		return m && m->meta.privileged_known
			       ? bool_val(m->meta.privileged, ret) : 0;
	case VG_F_CONTAINER_START_TS:
		return m && m->meta.started_ns
			       ? num_val((int64_t)m->meta.started_ns, ret) : 0;
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
