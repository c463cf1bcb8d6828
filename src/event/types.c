/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "event.h"

#include <stdlib.h>
#include <string.h>

/* Every table of event names in vigil is this one. */
const struct vg_event_type_info vg_event_types[] = {
	{ VG_E_EXEC, "exec", NULL, true, false,
	  "a program started: filename, exe, the whole argv" },
	{ VG_E_EXIT, "exit", NULL, true, false,
	  "a process ended: its code, or the signal" },
	{ VG_E_FORK, "fork", NULL, true, false,
	  "a process made (with --event thread, threads too)" },
	{ VG_E_OPEN, "open", NULL, true, false,
	  "open, openat, openat2, creat: path, flags, fd or errno" },
	{ VG_E_CONNECT, "connect", NULL, true, false, "connect: addresses, result" },
	{ VG_E_ACCEPT, "accept", NULL, true, false, "accept: the peer, the new fd" },
	{ VG_E_BIND, "bind", NULL, true, false, "bind: the address" },
	{ VG_E_LISTEN, "listen", NULL, true, false, "listen: the address, backlog" },
	{ VG_E_FILE, "file", NULL, true, false,
	  "file changes: create, write, truncate, delete, rmdir, mkdir, "
	  "rename, link, symlink, chmod, chown" },
	{ VG_E_CONTAINER, "container", NULL, true, false,
	  "a container's lifecycle: created, running, exited, destroyed" },
	{ VG_E_PTRACE, "ptrace", NULL, true, true,
	  "ptrace: the request, the target (only when named)" },
	{ VG_E_SOCKET, "socket", NULL, true, true,
	  "socket: family, type, protocol, the fd (only when named)" },
	{ VG_E_DUP, "dup", NULL, true, true,
	  "dup, dup2, dup3: the fds, what the file is (only when named)" },
	{ VG_E_SEND, "send", NULL, true, true,
	  "sendto, sendmsg: the socket, where to, bytes (only when named)" },
	{ VG_E_SYSCALL, "syscall", NULL, false, false,
	  "syscall:NR, raw enter and exit of a syscall number" },
	{ VG_E_TP, "tp", "tracepoint", false, false,
	  "tp:GROUP:NAME, any tracepoint, its fields decoded by name" },
	{ VG_E_ALERT, "alert", NULL, false, false,
	  "an alert: a rule of the daemon's --rules matched an event" },
	{ VG_E_LOST, "lost", NULL, false, false,
	  "events that could not be delivered, counted (to everyone)" },
};
const size_t vg_n_event_types = sizeof(vg_event_types) / sizeof(vg_event_types[0]);

const struct vg_event_syscall vg_event_syscalls[] = {
	{ "execve", VG_E_EXEC, NULL },     { "execveat", VG_E_EXEC, NULL },
	{ "openat", VG_E_OPEN, NULL },     { "openat2", VG_E_OPEN, NULL },
	{ "creat", VG_E_OPEN, NULL },      { "clone", VG_E_FORK, NULL },
	{ "clone3", VG_E_FORK, NULL },     { "vfork", VG_E_FORK, NULL },
	{ "exit_group", VG_E_EXIT, NULL }, { "procexit", VG_E_EXIT, NULL },
	{ "accept4", VG_E_ACCEPT, NULL },
	{ "dup2", VG_E_DUP, NULL },        { "dup3", VG_E_DUP, NULL },
	{ "sendto", VG_E_SEND, NULL },     { "sendmsg", VG_E_SEND, NULL },
	/* the file event: vigil reports the changes that succeeded, so a
	 * rule on a failed unlink sees nothing (Falco sees the attempt) */
	{ "rename", VG_E_FILE, "rename" }, { "renameat", VG_E_FILE, "rename" },
	{ "renameat2", VG_E_FILE, "rename" },
	{ "mkdir", VG_E_FILE, "mkdir" },   { "mkdirat", VG_E_FILE, "mkdir" },
	{ "unlink", VG_E_FILE, "delete" }, { "unlinkat", VG_E_FILE, "delete rmdir" },
	{ "rmdir", VG_E_FILE, "rmdir" },
	{ "link", VG_E_FILE, "link" },     { "linkat", VG_E_FILE, "link" },
	{ "symlink", VG_E_FILE, "symlink" }, { "symlinkat", VG_E_FILE, "symlink" },
	{ "chmod", VG_E_FILE, "chmod" },   { "fchmod", VG_E_FILE, "chmod" },
	{ "fchmodat", VG_E_FILE, "chmod" }, { "fchmodat2", VG_E_FILE, "chmod" },
	{ "chown", VG_E_FILE, "chown" },   { "lchown", VG_E_FILE, "chown" },
	{ "fchown", VG_E_FILE, "chown" },  { "fchownat", VG_E_FILE, "chown" },
	{ "truncate", VG_E_FILE, "truncate" }, { "ftruncate", VG_E_FILE, "truncate" },
};
const size_t vg_n_event_syscalls = sizeof(vg_event_syscalls) / sizeof(vg_event_syscalls[0]);

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
	/* a syscall that is the whole of its type (not "rename": a part
	 * of the file event) */
	for (size_t i = 0; i < vg_n_event_syscalls; i++)
		if (!vg_event_syscalls[i].actions && strcmp(vg_event_syscalls[i].name, name) == 0)
			for (size_t k = 0; k < vg_n_event_types; k++)
				if (vg_event_types[k].type == vg_event_syscalls[i].type)
					return &vg_event_types[k];
	return NULL;
}

const char *vg_exe_origin_name(unsigned origin)
{
	static const char *const names[] = {
		[VG_EXE_ORIGIN_FILE] = "file", [VG_EXE_ORIGIN_LOWER] = "lower",
		[VG_EXE_ORIGIN_UPPER] = "upper", [VG_EXE_ORIGIN_MEMFD] = "memfd",
	};

	return origin < sizeof(names) / sizeof(names[0]) ? names[origin] : NULL;
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

uint64_t vg_event_all_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < vg_n_event_types; i++)
		if (vg_event_types[i].std && !vg_event_types[i].opt_in)
			m |= VG_E_BIT(vg_event_types[i].type);
	return m;
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

struct num_name {
	uint32_t n;
	const char *name;
};

static const char *name_of(const struct num_name *t, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].n == v)
			return t[i].name;
	return NULL;
}

#define NAME_OF(t, v) name_of(t, sizeof(t) / sizeof(t[0]), v)

/* The kernel's numbers (include/uapi/linux/ptrace.h, x86's
 * asm/ptrace-abi.h), Falco's names. */
static const struct num_name ptrace_requests[] = {
	{ 0, "PTRACE_TRACEME" },        { 1, "PTRACE_PEEKTEXT" },
	{ 2, "PTRACE_PEEKDATA" },       { 3, "PTRACE_PEEKUSR" },
	{ 4, "PTRACE_POKETEXT" },       { 5, "PTRACE_POKEDATA" },
	{ 6, "PTRACE_POKEUSR" },        { 7, "PTRACE_CONT" },
	{ 8, "PTRACE_KILL" },           { 9, "PTRACE_SINGLESTEP" },
	{ 12, "PTRACE_GETREGS" },       { 13, "PTRACE_SETREGS" },
	{ 14, "PTRACE_GETFPREGS" },     { 15, "PTRACE_SETFPREGS" },
	{ 16, "PTRACE_ATTACH" },        { 17, "PTRACE_DETACH" },
	{ 18, "PTRACE_GETFPXREGS" },    { 19, "PTRACE_SETFPXREGS" },
	{ 24, "PTRACE_SYSCALL" },       { 25, "PTRACE_GET_THREAD_AREA" },
	{ 26, "PTRACE_SET_THREAD_AREA" }, { 30, "PTRACE_ARCH_PRCTL" },
	{ 31, "PTRACE_SYSEMU" },        { 32, "PTRACE_SYSEMU_SINGLESTEP" },
	{ 33, "PTRACE_SINGLEBLOCK" },
	{ 0x4200, "PTRACE_SETOPTIONS" }, { 0x4201, "PTRACE_GETEVENTMSG" },
	{ 0x4202, "PTRACE_GETSIGINFO" }, { 0x4203, "PTRACE_SETSIGINFO" },
	{ 0x4204, "PTRACE_GETREGSET" }, { 0x4205, "PTRACE_SETREGSET" },
	{ 0x4206, "PTRACE_SEIZE" },     { 0x4207, "PTRACE_INTERRUPT" },
	{ 0x4208, "PTRACE_LISTEN" },    { 0x4209, "PTRACE_PEEKSIGINFO" },
	{ 0x420a, "PTRACE_GETSIGMASK" }, { 0x420b, "PTRACE_SETSIGMASK" },
	{ 0x420c, "PTRACE_SECCOMP_GET_FILTER" },
	{ 0x420d, "PTRACE_SECCOMP_GET_METADATA" },
	{ 0x420e, "PTRACE_GET_SYSCALL_INFO" },
	{ 0x420f, "PTRACE_GET_RSEQ_CONFIGURATION" },
	{ 0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG" },
	{ 0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG" },
};

const char *vg_ptrace_request_name(uint32_t req)
{
	return NAME_OF(ptrace_requests, req);
}

/* include/linux/socket.h */
static const struct num_name families[] = {
	{ 0, "AF_UNSPEC" },   { 1, "AF_UNIX" },      { 2, "AF_INET" },
	{ 3, "AF_AX25" },     { 4, "AF_IPX" },       { 5, "AF_APPLETALK" },
	{ 6, "AF_NETROM" },   { 7, "AF_BRIDGE" },    { 8, "AF_ATMPVC" },
	{ 9, "AF_X25" },      { 10, "AF_INET6" },    { 11, "AF_ROSE" },
	{ 12, "AF_DECnet" },  { 13, "AF_NETBEUI" },  { 14, "AF_SECURITY" },
	{ 15, "AF_KEY" },     { 16, "AF_NETLINK" },  { 17, "AF_PACKET" },
	{ 18, "AF_ASH" },     { 19, "AF_ECONET" },   { 20, "AF_ATMSVC" },
	{ 21, "AF_RDS" },     { 22, "AF_SNA" },      { 23, "AF_IRDA" },
	{ 24, "AF_PPPOX" },   { 25, "AF_WANPIPE" },  { 26, "AF_LLC" },
	{ 27, "AF_IB" },      { 28, "AF_MPLS" },     { 29, "AF_CAN" },
	{ 30, "AF_TIPC" },    { 31, "AF_BLUETOOTH" }, { 32, "AF_IUCV" },
	{ 33, "AF_RXRPC" },   { 34, "AF_ISDN" },     { 35, "AF_PHONET" },
	{ 36, "AF_IEEE802154" }, { 37, "AF_CAIF" },  { 38, "AF_ALG" },
	{ 39, "AF_NFC" },     { 40, "AF_VSOCK" },    { 41, "AF_KCM" },
	{ 42, "AF_QIPCRTR" }, { 43, "AF_SMC" },      { 44, "AF_XDP" },
	{ 45, "AF_MCTP" },
};

const char *vg_socket_family_name(uint32_t family)
{
	return NAME_OF(families, family);
}

/* x86-64's numbers of the calls the socket, dup and send events stand
 * for (the sensor reads x86-64's registers). */
static const struct num_name syscalls[] = {
	{ 32, "dup" },  { 33, "dup2" }, { 292, "dup3" }, { 41, "socket" },
	{ 44, "sendto" }, { 46, "sendmsg" }, { 101, "ptrace" },
};

const char *vg_fd_type_name(uint16_t family, uint32_t fd_mode, bool ch)
{
	switch (fd_mode) {
	case 0140000: /* S_IFSOCK */
		switch (family) {
		case 2: return ch ? "4" : "ipv4";
		case 10: return ch ? "6" : "ipv6";
		case 1: return ch ? "u" : "unix";
		case 16: return ch ? "n" : "netlink";
		default: return NULL;
		}
	case 0100000: /* S_IFREG */
	case 0020000: /* S_IFCHR */
	case 0060000: /* S_IFBLK */
		return ch ? "f" : "file";
	case 0040000: return ch ? "d" : "directory";
	case 0010000: return ch ? "p" : "pipe";
	default: return NULL;
	}
}

const char *vg_syscall_name(uint32_t nr)
{
	return NAME_OF(syscalls, nr);
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
