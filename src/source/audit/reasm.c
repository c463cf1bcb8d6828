/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/audit/reasm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <auparse.h>
#include <libaudit.h>

#define AR_TYPE_SYSCALL 1300
#define AR_TYPE_PATH 1302
#define AR_TYPE_SOCKADDR 1306
#define AR_TYPE_CWD 1307
#define AR_TYPE_EXECVE 1309
#define AR_TYPE_EOE 1320
#define AR_TYPE_PROCTITLE 1327

/* A record's text, at most (the kernel's is 8970 bytes). */
#define AR_RECORD_MAX 16384
#define AR_STR_MAX 4096
#define AR_ARCHS 4
#define AR_NR_MAX 1024
#define AR_ITEMS 6

struct group {
	uint64_t serial;
	uint64_t first_ns;     /* CLOCK_MONOTONIC when its first record came */
	int64_t wall_ns;       /* the records' own time */
	char *text;            /* the records as auparse reads them */
	size_t len, cap;
	bool has_syscall;
};

struct arch_map {
	uint32_t arch;         /* AUDIT_ARCH_*, 0: free */
	uint8_t type[AR_NR_MAX];
};

struct vg_audit_reasm {
	struct vg_audit_reasm_opts o;
	struct group *groups;  /* open, oldest first */
	size_t n_groups;
	size_t bytes;
	auparse_state_t *au;
	struct arch_map archs[AR_ARCHS];
	struct vg_audit_reasm_stats st;
	/* the group being decoded, and where its event goes */
	const struct group *cur;
	bool cur_incomplete;
	vg_audit_event_fn fn;
	void *fn_ctx;
	int fn_ret;
	/* the decoded event's strings */
	char exe[AR_STR_MAX], cwd[AR_STR_MAX], filename[AR_STR_MAX];
	char path[AR_STR_MAX], name[2 * AR_STR_MAX + 2];
	/* a file change's PATH items, in order (rename has four) */
	struct {
		char name[AR_STR_MAX];
		char type; /* 'P'arent, 'C'reate, 'D'elete, 'N'ormal, '?' */
	} items[AR_ITEMS];
	size_t n_items;
	char name2[2 * AR_STR_MAX + 2];
	char *args;
	size_t args_len;
};

static const struct {
	const char *name;
	uint32_t type;
} syscalls[] = {
	{ "execve", VG_E_EXEC },	{ "execveat", VG_E_EXEC },
	{ "fork", VG_E_FORK },		{ "vfork", VG_E_FORK },
	{ "clone", VG_E_FORK },		{ "clone3", VG_E_FORK },
	{ "exit_group", VG_E_EXIT },	{ "open", VG_E_OPEN },
	{ "openat", VG_E_OPEN },	{ "openat2", VG_E_OPEN },
	{ "creat", VG_E_OPEN },		{ "connect", VG_E_CONNECT },
	{ "accept", VG_E_ACCEPT },	{ "accept4", VG_E_ACCEPT },
	{ "bind", VG_E_BIND },		{ "listen", VG_E_LISTEN },
	{ "unlink", VG_E_FILE },	{ "unlinkat", VG_E_FILE },
	{ "rmdir", VG_E_FILE },		{ "mkdir", VG_E_FILE },
	{ "mkdirat", VG_E_FILE },	{ "mknod", VG_E_FILE },
	{ "mknodat", VG_E_FILE },	{ "chmod", VG_E_FILE },
	{ "fchmodat", VG_E_FILE },	{ "fchmod", VG_E_FILE },
	{ "chown", VG_E_FILE },		{ "lchown", VG_E_FILE },
	{ "fchownat", VG_E_FILE },	{ "fchown", VG_E_FILE },
	{ "truncate", VG_E_FILE },	{ "ftruncate", VG_E_FILE },
	{ "rename", VG_E_FILE },	{ "renameat", VG_E_FILE },
	{ "renameat2", VG_E_FILE },	{ "link", VG_E_FILE },
	{ "linkat", VG_E_FILE },	{ "symlink", VG_E_FILE },
	{ "symlinkat", VG_E_FILE },
};

/* A file change: what it does, which argument is its directory fd (-1:
 * none, relative to the cwd; -2: by fd, a0), and its mode, uid and gid
 * arguments (-1: none). */
static const struct file_call {
	const char *name;
	uint8_t action;
	int8_t dirfd, mode, uid, gid;
} file_calls[] = {
	{ "unlink", VG_FA_DELETE, -1, -1, -1, -1 },
	{ "unlinkat", VG_FA_DELETE, 0, -1, -1, -1 },
	{ "rmdir", VG_FA_RMDIR, -1, -1, -1, -1 },
	{ "mkdir", VG_FA_MKDIR, -1, 1, -1, -1 },
	{ "mkdirat", VG_FA_MKDIR, 0, 2, -1, -1 },
	{ "mknod", VG_FA_CREATE, -1, 1, -1, -1 },
	{ "mknodat", VG_FA_CREATE, 0, 2, -1, -1 },
	{ "chmod", VG_FA_CHMOD, -1, 1, -1, -1 },
	{ "fchmodat", VG_FA_CHMOD, 0, 2, -1, -1 },
	{ "fchmod", VG_FA_CHMOD, -2, 1, -1, -1 },
	{ "chown", VG_FA_CHOWN, -1, -1, 1, 2 },
	{ "lchown", VG_FA_CHOWN, -1, -1, 1, 2 },
	{ "fchownat", VG_FA_CHOWN, 0, -1, 2, 3 },
	{ "fchown", VG_FA_CHOWN, -2, -1, 1, 2 },
	{ "truncate", VG_FA_TRUNCATE, -1, -1, -1, -1 },
	{ "ftruncate", VG_FA_TRUNCATE, -2, -1, -1, -1 },
	{ "rename", VG_FA_RENAME, -1, -1, -1, -1 },
	{ "renameat", VG_FA_RENAME, 2, -1, -1, -1 },
	{ "renameat2", VG_FA_RENAME, 2, -1, -1, -1 },
	{ "link", VG_FA_LINK, -1, -1, -1, -1 },
	{ "linkat", VG_FA_LINK, 2, -1, -1, -1 },
	{ "symlink", VG_FA_SYMLINK, -1, -1, -1, -1 },
	{ "symlinkat", VG_FA_SYMLINK, 1, -1, -1, -1 },
};

uint32_t vg_audit_syscall_type(const char *name)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (strcmp(syscalls[i].name, name) == 0)
			return syscalls[i].type;
	return VG_E_NONE;
}

/* The event type of syscall @nr of @arch, through a table per arch
 * built from libaudit's own syscall tables. */
static uint32_t syscall_type(struct vg_audit_reasm *r, uint32_t arch, long nr)
{
	struct arch_map *m = NULL;

	if (nr < 0 || nr >= AR_NR_MAX)
		return VG_E_NONE;
	for (size_t i = 0; i < AR_ARCHS && !m; i++)
		if (r->archs[i].arch == arch)
			m = &r->archs[i];
	if (!m) {
		int machine = audit_elf_to_machine(arch);

		if (machine < 0)
			return VG_E_NONE;
		for (size_t i = 0; i < AR_ARCHS && !m; i++)
			if (!r->archs[i].arch)
				m = &r->archs[i];
		if (!m)
			return VG_E_NONE; /* more arches than any host has */
		m->arch = arch;
		memset(m->type, 0, sizeof(m->type));
		for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
			int n = audit_name_to_syscall(syscalls[i].name, machine);

			if (n >= 0 && n < AR_NR_MAX)
				m->type[n] = (uint8_t)syscalls[i].type;
		}
	}
	return m->type[nr];
}

/* ------------------------------------------------------------ helpers */

static bool parse_i64(const char *s, int base, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

static bool parse_u64(const char *s, int base, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* The value of the current field, decoded (quoted, or hex-encoded when
 * the kernel found characters it would not print). */
static const char *field_text(auparse_state_t *au)
{
	const char *v = auparse_interpret_field(au);

	return v ? v : auparse_get_field_str(au);
}

static bool hexval(char c, unsigned *ret)
{
	if (c >= '0' && c <= '9')
		*ret = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*ret = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*ret = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* A SOCKADDR record's saddr (hex of the caller's struct sockaddr). */
static void decode_sockaddr(const char *hex, struct vg_event_addr *ret)
{
	uint8_t b[128];
	size_t n = 0, len = hex ? strlen(hex) : 0;
	uint16_t fam;

	memset(ret, 0, sizeof(*ret));
	ret->port = -1;
	if (len % 2 || len / 2 > sizeof(b))
		return;
	for (size_t i = 0; i < len; i += 2) {
		unsigned hi, lo;

		if (!hexval(hex[i], &hi) || !hexval(hex[i + 1], &lo))
			return;
		b[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (n < 2)
		return;
	memcpy(&fam, b, 2);
	if (fam == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;

		memcpy(&in, b, sizeof(in));
		inet_ntop(AF_INET, &in.sin_addr, ret->text, sizeof(ret->text));
		ret->port = ntohs(in.sin_port);
		ret->family = AF_INET;
	} else if (fam == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;

		memcpy(&in6, b, sizeof(in6));
		inet_ntop(AF_INET6, &in6.sin6_addr, ret->text, sizeof(ret->text));
		ret->port = ntohs(in6.sin6_port);
		ret->family = AF_INET6;
	} else if (fam == AF_UNIX) {
		size_t pl = n - 2, o = 0;
		const uint8_t *p = b + 2;

		ret->family = AF_UNIX;
		if (pl && p[0] == 0) { /* abstract: '@' and the bytes */
			ret->text[o++] = '@';
			p++;
			pl--;
		}
		for (size_t i = 0; i < pl && o + 1 < sizeof(ret->text); i++) {
			if (!p[i] && ret->text[0] != '@')
				break;
			ret->text[o++] = p[i] ? (char)p[i] : '@';
		}
		ret->text[o] = '\0';
	}
}

/* @path into @dst, joined to the cwd when relative and the call had no
 * dirfd of its own; the caller's words either way. */
static void absolute_to(struct vg_audit_reasm *r, char *dst, size_t dstsz,
			const char *path, bool at_cwd, uint32_t *path_flags)
{
	*path_flags |= VG_EP_USER;
	if (path[0] == '/') {
		copy_str(dst, dstsz, path);
	} else if (at_cwd && r->cwd[0]) {
		snprintf(dst, dstsz, "%s%s%s", r->cwd, strcmp(r->cwd, "/") ? "/" : "",
			 path);
	} else {
		copy_str(dst, dstsz, path);
		*path_flags |= VG_EP_UNRESOLVED; /* relative to a dirfd */
	}
}

static void absolute(struct vg_audit_reasm *r, const char *path, bool at_cwd,
		     uint32_t *path_flags)
{
	absolute_to(r, r->name, sizeof(r->name), path, at_cwd, path_flags);
}

/* The first PATH item of @type ('C', 'D', 'N'), or NULL. */
static const char *item_of(const struct vg_audit_reasm *r, char type)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (r->items[i].type == type)
			return r->items[i].name;
	return NULL;
}

/* ------------------------------------------------------------- decode */

struct decoded {
	struct vg_event e;
	unsigned flags;
	uint32_t arch;
	int64_t nr, exit;
	bool have_exit, success;
	uint64_t a[4];
	const char *key;
	bool exec_args_bad;
	bool in_pieces;        /* an argument's pieces, maybe continued in
				* the next EXECVE record */
	uint64_t argc;
	int path_items;
	bool path_parent;      /* r->path is a PARENT item's */
	char addr_hex[260];
	bool have_addr;
};

static void args_put(struct vg_audit_reasm *r, const char *s, bool *truncated)
{
	size_t n = strlen(s);

	if (r->args_len + n + 1 > r->o.max_args) {
		*truncated = true;
		n = r->args_len + 1 < r->o.max_args ? r->o.max_args - r->args_len - 1 : 0;
		if (!n)
			return;
	}
	memcpy(r->args + r->args_len, s, n);
	r->args_len += n;
	r->args[r->args_len++] = '\0';
}

/* An EXECVE record: aN="..." or hex; a long one in pieces aN_len=,
 * aN[0]=, aN[1]=..., each piece quoted or hex. The pieces of one
 * argument are joined, across records too (the kernel starts a new
 * record when one is full, in the middle of the pieces); the last
 * argument is closed by close_args() at the end of the event. */
static void decode_execve(struct vg_audit_reasm *r, auparse_state_t *au,
			  struct decoded *d)
{
	bool in_pieces = d->in_pieces;

	if (auparse_first_field(au) <= 0)
		return;
	do {
		const char *n = auparse_get_field_name(au);
		char *end;
		unsigned long idx;

		if (!n)
			continue;
		if (strcmp(n, "argc") == 0) {
			uint64_t v;

			if (parse_u64(auparse_get_field_str(au), 10, &v))
				d->argc = v;
			continue;
		}
		if (n[0] != 'a' || n[1] < '0' || n[1] > '9')
			continue;
		idx = strtoul(n + 1, &end, 10);
		(void)idx;
		if (strcmp(end, "_len") == 0) {
			/* a new split argument: close the last one */
			if (in_pieces && r->args_len < r->o.max_args)
				r->args[r->args_len++] = '\0';
			in_pieces = true;
			continue;
		}
		if (*end == '[') {
			const char *v = field_text(au);
			size_t l = v ? strlen(v) : 0;

			if (!in_pieces) {
				d->exec_args_bad = true;
				continue;
			}
			if (r->args_len + l + 1 > r->o.max_args) {
				d->e.exec.args_truncated = true;
				l = r->args_len + 1 < r->o.max_args
					    ? r->o.max_args - r->args_len - 1 : 0;
			}
			memcpy(r->args + r->args_len, v, l);
			r->args_len += l;
			continue;
		}
		if (*end)
			continue;
		if (in_pieces) {
			if (r->args_len < r->o.max_args)
				r->args[r->args_len++] = '\0';
			in_pieces = false;
		}
		args_put(r, field_text(au), &d->e.exec.args_truncated);
	} while (auparse_next_field(au) > 0);
	d->in_pieces = in_pieces;
}

/* The pieces of the last argument, ended. */
static void close_args(struct vg_audit_reasm *r, struct decoded *d)
{
	if (d->in_pieces && r->args_len < r->o.max_args)
		r->args[r->args_len++] = '\0';
	d->in_pieces = false;
}

static void decode_syscall(struct vg_audit_reasm *r, auparse_state_t *au,
			   struct decoded *d)
{
	if (auparse_first_field(au) <= 0)
		return;
	do {
		const char *n = auparse_get_field_name(au);
		const char *v = auparse_get_field_str(au);
		uint64_t u;
		int64_t i;

		if (!n || !v)
			continue;
		switch (n[0]) {
		case 'a':
			if (strcmp(n, "arch") == 0 && parse_u64(v, 16, &u))
				d->arch = (uint32_t)u;
			else if (n[1] >= '0' && n[1] <= '3' && !n[2] &&
				 parse_u64(v, 16, &u))
				d->a[n[1] - '0'] = u;
			break;
		case 'c':
			if (strcmp(n, "comm") == 0)
				copy_str(d->e.t.comm, sizeof(d->e.t.comm), field_text(au));
			break;
		case 'e':
			if (strcmp(n, "exit") == 0 && parse_i64(v, 10, &i)) {
				d->exit = i;
				d->have_exit = true;
			} else if (strcmp(n, "exe") == 0) {
				copy_str(r->exe, sizeof(r->exe), field_text(au));
			}
			break;
		case 'g':
			if (strcmp(n, "gid") == 0 && parse_u64(v, 10, &u))
				d->e.t.gid = (uint32_t)u;
			break;
		case 'k':
			if (strcmp(n, "key") == 0)
				d->key = v;
			break;
		case 'p':
			if (strcmp(n, "pid") == 0 && parse_u64(v, 10, &u) && u <= INT_MAX)
				d->e.t.pid = d->e.t.tid = (uint32_t)u;
			else if (strcmp(n, "ppid") == 0 && parse_u64(v, 10, &u) &&
				 u <= INT_MAX)
				d->e.t.ppid = (uint32_t)u;
			break;
		case 's':
			if (strcmp(n, "syscall") == 0 && parse_i64(v, 10, &i))
				d->nr = i;
			else if (strcmp(n, "success") == 0)
				d->success = strcmp(v, "yes") == 0;
			break;
		case 'u':
			if (strcmp(n, "uid") == 0 && parse_u64(v, 10, &u))
				d->e.t.uid = (uint32_t)u;
			break;
		}
	} while (auparse_next_field(au) > 0);
}

/* A PATH record: the first (item=0) is what the caller named; of an
 * open with O_CREAT, the item after the PARENT one is the file: CREATE
 * when it was made, NORMAL when it was there (kernels before 6.12). */
static void decode_path(struct vg_audit_reasm *r, auparse_state_t *au,
			struct decoded *d)
{
	const char *name = NULL, *nametype = NULL;
	bool parent;

	if (auparse_first_field(au) <= 0)
		return;
	do {
		const char *n = auparse_get_field_name(au);

		if (!n)
			continue;
		if (strcmp(n, "name") == 0)
			name = field_text(au);
		else if (strcmp(n, "nametype") == 0)
			nametype = auparse_get_field_str(au);
	} while (auparse_next_field(au) > 0);
	if (!name)
		return;
	if (r->n_items < AR_ITEMS) {
		copy_str(r->items[r->n_items].name, sizeof(r->items[0].name), name);
		r->items[r->n_items++].type = !nametype ? '?'
					      : strcmp(nametype, "PARENT") == 0 ? 'P'
					      : strcmp(nametype, "CREATE") == 0 ? 'C'
					      : strcmp(nametype, "DELETE") == 0 ? 'D'
					      : strcmp(nametype, "NORMAL") == 0 ? 'N' : '?';
	}
	parent = nametype && strcmp(nametype, "PARENT") == 0;
	if (d->path_items++ == 0 || (nametype && strcmp(nametype, "CREATE") == 0) ||
	    (d->path_parent && !parent)) {
		copy_str(r->path, sizeof(r->path), name);
		d->path_parent = parent;
		if (d->path_items == 1)
			copy_str(r->filename, sizeof(r->filename), name);
	}
}

static const char *field_of(auparse_state_t *au, const char *want)
{
	if (auparse_first_field(au) <= 0)
		return NULL;
	do {
		const char *n = auparse_get_field_name(au);

		if (n && strcmp(n, want) == 0)
			return field_text(au);
	} while (auparse_next_field(au) > 0);
	return NULL;
}

/* A file change, from its call's arguments and PATH items: the item the
 * kernel named CREATE or DELETE is the file made or removed; a rename's
 * old name is its DELETE item, a link's its NORMAL one; by fd, no name.
 * A symlink's target is in no record: it is absent. */
static void file_event(struct vg_audit_reasm *r, struct decoded *d)
{
	struct vg_event *e = &d->e;
	int machine = audit_elf_to_machine(d->arch);
	const char *sc = machine >= 0 ? audit_syscall_to_name((int)d->nr, machine) : NULL;
	const struct file_call *fc = NULL;
	const char *path = NULL, *path2 = NULL;
	bool at_cwd;

	for (size_t i = 0; sc && i < sizeof(file_calls) / sizeof(file_calls[0]); i++)
		if (strcmp(file_calls[i].name, sc) == 0)
			fc = &file_calls[i];
	e->file.ret = d->have_exit ? d->exit : 0;
	e->file.fd = -1;
	e->file.uid = e->file.gid = (uint32_t)-1;
	if (!fc)
		return;
	e->file.action = fc->action;
	if (fc->action == VG_FA_DELETE && fc->dirfd == 0 && (d->a[2] & 0x200))
		e->file.action = VG_FA_RMDIR; /* unlinkat(AT_REMOVEDIR) */
	if (strcmp(fc->name, "unlinkat") == 0)
		e->file.flags = (uint32_t)d->a[2];
	if (fc->mode >= 0)
		e->file.mode = (uint32_t)d->a[fc->mode];
	if (fc->uid >= 0) {
		e->file.uid = (uint32_t)d->a[fc->uid];
		e->file.gid = (uint32_t)d->a[fc->gid];
	}
	if (fc->dirfd == -2) {
		e->file.fd = (int32_t)(uint32_t)d->a[0];
		return;
	}
	at_cwd = fc->dirfd == -1 || (int32_t)(uint32_t)d->a[fc->dirfd] == -100;
	switch (e->file.action) {
	case VG_FA_DELETE:
	case VG_FA_RMDIR:
		path = item_of(r, 'D');
		break;
	case VG_FA_MKDIR:
	case VG_FA_CREATE:
	case VG_FA_SYMLINK:
		path = item_of(r, 'C');
		break;
	case VG_FA_RENAME:
		path = item_of(r, 'C');
		path2 = item_of(r, 'D');
		break;
	case VG_FA_LINK:
		path = item_of(r, 'C');
		path2 = item_of(r, 'N');
		break;
	default:
		path = item_of(r, 'N');
		break;
	}
	if (!path && r->n_items)
		path = r->items[r->n_items - 1].name;
	if (path) {
		e->file.path = path;
		absolute(r, path, at_cwd, &e->file.path_flags);
		e->file.name = r->name;
	}
	if (path2) {
		uint32_t f2 = 0;

		/* a rename's or link's old name: the old directory fd is a0 */
		e->file.path2 = path2;
		absolute_to(r, r->name2, sizeof(r->name2), path2,
			    fc->dirfd == -1 || (int32_t)(uint32_t)d->a[0] == -100, &f2);
		e->file.name2 = r->name2;
	}
}

/* An open that may write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC) and
 * succeeded is a file change too: a create when the kernel made the
 * file (its CREATE item), else a write. */
static bool open_file_event(struct vg_audit_reasm *r, const struct vg_event *o,
			    struct vg_event *ret)
{
	if (o->open.ret < 0 || !(o->open.flags & (01 | 02 | 0100 | 01000)))
		return false;
	*ret = *o;
	memset(&ret->file, 0, sizeof(ret->file));
	ret->type = VG_E_FILE;
	ret->file.action = item_of(r, 'C') ? VG_FA_CREATE : VG_FA_WRITE;
	ret->file.path = o->open.path;
	ret->file.name = o->open.name;
	ret->file.path_flags = o->open.path_flags;
	ret->file.ret = o->open.ret;
	ret->file.mode = o->open.mode;
	ret->file.flags = o->open.flags;
	ret->file.uid = ret->file.gid = (uint32_t)-1;
	ret->file.fd = (int32_t)o->open.ret;
	return true;
}

static void finish_event(struct vg_audit_reasm *r, struct decoded *d,
			 uint32_t type)
{
	struct vg_event *e = &d->e;
	int64_t res = d->have_exit ? d->exit : 0;

	e->type = type;
	e->has_task = true;
	switch (type) {
	case VG_E_EXEC:
		e->exec.exe = r->exe[0] ? r->exe : NULL;
		e->exec.filename = r->filename[0] ? r->filename : NULL;
		e->exec.args = r->args;
		e->exec.args_len = (uint32_t)r->args_len;
		e->exec.args_bytes = (uint32_t)r->args_len;
		e->exec.cwd = r->cwd[0] ? r->cwd : NULL;
		if (d->exec_args_bad)
			e->exec.args_incomplete = true;
		if (e->exec.args_truncated)
			e->exec.args_incomplete = false;
		break;
	case VG_E_FORK:
		e->fork.child_pid = e->fork.child_tid = (uint32_t)res;
		/* clone's flags are its first argument on every arch vigil
		 * knows but s390x; clone3's are in user memory */
		if (d->nr >= 0 && syscall_type(r, d->arch, d->nr) == VG_E_FORK) {
			int machine = audit_elf_to_machine(d->arch);
			const char *sc = machine >= 0
						 ? audit_syscall_to_name((int)d->nr, machine)
						 : NULL;

			if (sc && strcmp(sc, "clone") == 0)
				e->fork.thread = (d->a[0] & 0x00010000) != 0; /* CLONE_THREAD */
			else if (sc && strcmp(sc, "clone3") == 0)
				d->flags |= VG_AR_THREAD_UNKNOWN;
		}
		break;
	case VG_E_EXIT:
		e->exit.status = (uint32_t)((d->a[0] & 0xff) << 8);
		break;
	case VG_E_OPEN: {
		int machine = audit_elf_to_machine(d->arch);
		const char *sc = machine >= 0 ? audit_syscall_to_name((int)d->nr, machine)
					      : NULL;
		bool at = sc && (strcmp(sc, "openat") == 0 || strcmp(sc, "openat2") == 0);

		e->open.ret = res;
		e->open.dirfd = at ? (int32_t)(uint32_t)d->a[0] : -100;
		if (sc && strcmp(sc, "open") == 0) {
			e->open.flags = (uint32_t)d->a[1];
			e->open.mode = (uint32_t)d->a[2];
		} else if (sc && strcmp(sc, "openat") == 0) {
			e->open.flags = (uint32_t)d->a[2];
			e->open.mode = (uint32_t)d->a[3];
		} else if (sc && strcmp(sc, "creat") == 0) {
			e->open.flags = 01101; /* O_CREAT|O_WRONLY|O_TRUNC */
			e->open.mode = (uint32_t)d->a[1];
		}
		if (r->path[0]) {
			e->open.path = r->path;
			absolute(r, r->path, e->open.dirfd == -100, &e->open.path_flags);
			e->open.name = r->name;
		}
		break;
	}
	case VG_E_FILE:
		file_event(r, d);
		break;
	case VG_E_CONNECT:
	case VG_E_ACCEPT:
	case VG_E_BIND:
	case VG_E_LISTEN: {
		struct vg_event_addr a;

		e->net.ret = res;
		e->net.fd = (int32_t)(uint32_t)d->a[0];
		e->net.server.port = e->net.client.port = -1;
		if (type == VG_E_LISTEN)
			e->net.backlog = (uint32_t)d->a[1];
		if (!d->have_addr)
			break;
		decode_sockaddr(d->addr_hex, &a);
		e->net.family = a.family;
		/* the address the caller gave (connect, bind) or was given
		 * (accept): audit has no other side */
		if (type == VG_E_ACCEPT)
			e->net.client = a;
		else
			e->net.server = a;
		e->net.requested = type != VG_E_ACCEPT;
		break;
	}
	}
}

static void on_event(auparse_state_t *au, auparse_cb_event_t cb_type,
		     void *arg)
{
	struct vg_audit_reasm *r = arg;
	struct decoded d = { 0 };
	uint32_t type;

	if (cb_type != AUPARSE_CB_EVENT_READY || !r->cur || r->fn_ret)
		return;
	d.nr = -1;
	r->exe[0] = r->cwd[0] = r->filename[0] = r->path[0] = r->name[0] = '\0';
	r->n_items = 0;
	r->args_len = 0;
	if (auparse_first_record(au) <= 0) {
		r->st.parse_errors++;
		return;
	}
	do {
		switch (auparse_get_type(au)) {
		case AR_TYPE_SYSCALL: decode_syscall(r, au, &d); break;
		case AR_TYPE_EXECVE: decode_execve(r, au, &d); break;
		case AR_TYPE_PATH: decode_path(r, au, &d); break;
		case AR_TYPE_CWD:
			copy_str(r->cwd, sizeof(r->cwd), field_of(au, "cwd"));
			break;
		case AR_TYPE_SOCKADDR: {
			const char *h;

			/* the raw hex, not libauparse's words for it */
			if (auparse_first_field(au) > 0 &&
			    (h = auparse_find_field(au, "saddr")) != NULL) {
				copy_str(d.addr_hex, sizeof(d.addr_hex), h);
				d.have_addr = true;
			}
			break;
		}
		}
	} while (auparse_next_record(au) > 0);
	close_args(r, &d);
	type = d.nr >= 0 ? syscall_type(r, d.arch, d.nr) : VG_E_NONE;
	if (type == VG_E_NONE || !d.e.t.pid ||
	    ((type == VG_E_EXEC || type == VG_E_FORK) && (!d.success || d.exit < 0)) ||
	    (type == VG_E_FORK && d.exit <= 0)) {
		r->st.undecoded++;
		return;
	}
	if (r->cur_incomplete)
		d.flags |= VG_AR_INCOMPLETE;
	d.e.t.ktime_ns = (uint64_t)(r->cur->wall_ns - r->o.boot_to_wall_ns);
	finish_event(r, &d, type);
	if (type == VG_E_EXEC && r->cur_incomplete && !d.argc)
		d.e.exec.args_incomplete = true;
	r->st.events++;
	r->fn_ret = r->fn(r->fn_ctx, &d.e, d.flags);
	if (type == VG_E_OPEN && !r->fn_ret) {
		struct vg_event f;

		if (open_file_event(r, &d.e, &f)) {
			r->st.events++;
			r->fn_ret = r->fn(r->fn_ctx, &f, d.flags);
		}
	}
}

/* ------------------------------------------------------------- groups */

int vg_audit_reasm_new(const struct vg_audit_reasm_opts *o,
		       struct vg_audit_reasm **ret)
{
	struct vg_audit_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->o = *o;
	if (!r->o.eoe_timeout_ns)
		r->o.eoe_timeout_ns = 1000000000ull;
	if (!r->o.max_bytes)
		r->o.max_bytes = 4u << 20;
	if (!r->o.max_groups)
		r->o.max_groups = 1024;
	if (!r->o.max_args)
		r->o.max_args = 32u << 10;
	r->groups = calloc(r->o.max_groups, sizeof(*r->groups));
	r->args = malloc(r->o.max_args);
	r->au = auparse_init(AUSOURCE_FEED, NULL);
	if (!r->groups || !r->args || !r->au) {
		vg_audit_reasm_free(r);
		return -ENOMEM;
	}
	auparse_set_escape_mode(r->au, AUPARSE_ESC_RAW);
	auparse_add_callback(r->au, on_event, r, NULL);
	*ret = r;
	return 0;
}

void vg_audit_reasm_free(struct vg_audit_reasm *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_groups; i++)
		free(r->groups[i].text);
	free(r->groups);
	free(r->args);
	if (r->au)
		auparse_destroy(r->au);
	free(r);
}

/* Group @i out (decoded when it is a syscall event), and gone. */
static int emit(struct vg_audit_reasm *r, size_t i, bool incomplete,
		vg_audit_event_fn fn, void *ctx)
{
	struct group g = r->groups[i];

	r->n_groups--;
	memmove(&r->groups[i], &r->groups[i + 1],
		(r->n_groups - i) * sizeof(r->groups[0]));
	r->bytes -= g.len;
	if (!g.has_syscall) {
		r->st.ignored++;
		free(g.text);
		return 0;
	}
	if (incomplete)
		r->st.incomplete++;
	r->cur = &g;
	r->cur_incomplete = incomplete;
	r->fn = fn;
	r->fn_ctx = ctx;
	r->fn_ret = 0;
	/* one whole event in, flushed out: libauparse holds nothing between
	 * groups, so its own timeout and memory never come into play */
	if (auparse_feed(r->au, g.text, g.len) < 0)
		r->st.parse_errors++;
	/* even after a failed feed: nothing of this group may stay in
	 * libauparse to be joined to the next */
	if (auparse_flush_feed(r->au) < 0)
		r->st.parse_errors++;
	r->cur = NULL;
	free(g.text);
	return r->fn_ret;
}

/* "audit(SEC.MS:SERIAL): " at the start of @text: its length. */
/* Digits at *@p (at most 20, none past @end) into *@ret, and past
 * them; false when there are none or they overflow. */
static bool digits(const char **p, const char *end, unsigned long long *ret)
{
	unsigned long long v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*p = s;
	*ret = v;
	return true;
}

/* "audit(SEC.MS:SERIAL): " at the start of @text: its length, or 0. */
static size_t parse_header(const char *text, size_t len, int64_t *ret_wall_ns,
			   uint64_t *ret_serial)
{
	/* a header is short: 63 bytes at most */
	const char *p = text + 6, *end = text + (len < 63 ? len : 63);
	unsigned long long sec, ms, serial;
	size_t n;

	if (len < 7 || memcmp(text, "audit(", 6) != 0 || !digits(&p, end, &sec) ||
	    p >= end || *p++ != '.' || !digits(&p, end, &ms) || p >= end ||
	    *p++ != ':' || !digits(&p, end, &serial) || p >= end || *p++ != ')' ||
	    ms > 999 || sec > (unsigned long long)INT64_MAX / 1000000000ull - 1)
		return 0;
	*ret_wall_ns = (int64_t)(sec * 1000000000ull + ms * 1000000ull);
	*ret_serial = serial;
	n = (size_t)(p - text);
	if (n < len && text[n] == ':')
		n++;
	return n;
}

/* Syscall events' records are the kernel's 1300-1399; the rest
 * (AVC, user messages, daemon records) are no concern of this. */
static bool event_record(int type)
{
	return type >= 1300 && type < 1400 && type != 1305 /* CONFIG_CHANGE */;
}

/* Of an event's records, those the decoder reads: the rest (PROCTITLE,
 * whose hex is the longest, BPRM_FCAPS, MMAP...) are not kept. */
static bool decoded_record(int type)
{
	switch (type) {
	case AR_TYPE_SYSCALL: case AR_TYPE_PATH: case AR_TYPE_SOCKADDR:
	case AR_TYPE_CWD: case AR_TYPE_EXECVE: case AR_TYPE_EOE:
		return true;
	default:
		return false;
	}
}

int vg_audit_reasm_record(struct vg_audit_reasm *r, int type, const char *text,
			  size_t len, uint64_t now_ns, vg_audit_event_fn fn,
			  void *ctx)
{
	const char *tname;
	int64_t wall;
	uint64_t serial;
	size_t hl, need, i;
	struct group *g = NULL;
	int ret = 0;

	r->st.records++;
	while (len && (text[len - 1] == '\0' || text[len - 1] == '\n'))
		len--;
	if (len > AR_RECORD_MAX || memchr(text, '\n', len) || memchr(text, '\0', len) ||
	    !(hl = parse_header(text, len, &wall, &serial))) {
		r->st.garbage++;
		return 0;
	}
	if (!event_record(type)) {
		r->st.ignored++;
		return 0;
	}
	if (!decoded_record(type))
		return 0; /* a part of an event vigil does not read */
	for (i = r->n_groups; i-- > 0;)
		if (r->groups[i].serial == serial) {
			g = &r->groups[i];
			break;
		}
	if (type == AR_TYPE_EOE) {
		if (g)
			return emit(r, i, false, fn, ctx);
		r->st.ignored++; /* its records went out already, or none came */
		return 0;
	}
	tname = audit_msg_type_to_name(type);
	need = strlen("type=") + (tname ? strlen(tname) : 24) + strlen(" msg=") + len + 2;
	if (need > r->o.max_bytes) {
		/* alone over the bound: it goes, not the open events */
		r->st.evicted++;
		return 0;
	}
	/* the bound: the oldest open events go first, incomplete */
	while (r->n_groups &&
	       ((!g && r->n_groups == r->o.max_groups) || r->bytes + need > r->o.max_bytes)) {
		bool self = g == &r->groups[0];
		uint64_t keep = g ? g->serial : 0;

		r->st.evicted++;
		ret = emit(r, 0, true, fn, ctx);
		g = NULL;
		/* the rest of an event pushed out starts a group of its own,
		 * without its SYSCALL record: it is not decoded */
		for (i = r->n_groups; keep && !self && i-- > 0;)
			if (r->groups[i].serial == keep) {
				g = &r->groups[i];
				break;
			}
		if (ret)
			return ret;
	}
	if (!g) {
		g = &r->groups[r->n_groups++];
		*g = (struct group){ .serial = serial, .first_ns = now_ns, .wall_ns = wall };
	}
	if (g->len + need > g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 1024;
		char *t;

		while (cap < g->len + need)
			cap *= 2;
		t = realloc(g->text, cap);
		if (!t) {
			r->st.evicted++;
			return 0;
		}
		g->text = t;
		g->cap = cap;
	}
	size_t before = g->len;

	if (tname)
		g->len += (size_t)sprintf(g->text + g->len, "type=%s msg=", tname);
	else
		g->len += (size_t)sprintf(g->text + g->len, "type=UNKNOWN[%d] msg=", type);
	memcpy(g->text + g->len, text, len);
	g->len += len;
	g->text[g->len++] = '\n';
	r->bytes += g->len - before;
	if (type == AR_TYPE_SYSCALL)
		g->has_syscall = true;
	return 0;
}

int vg_audit_reasm_tick(struct vg_audit_reasm *r, uint64_t now_ns, bool all,
			vg_audit_event_fn fn, void *ctx)
{
	while (r->n_groups &&
	       (all || now_ns - r->groups[0].first_ns >= r->o.eoe_timeout_ns)) {
		int ret = emit(r, 0, true, fn, ctx);

		if (ret)
			return ret;
	}
	return 0;
}

void vg_audit_reasm_stats(const struct vg_audit_reasm *r,
			  struct vg_audit_reasm_stats *ret)
{
	*ret = r->st;
	ret->open_groups = r->n_groups;
	ret->open_bytes = r->bytes;
}
