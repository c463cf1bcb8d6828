/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The filter language of filter.h: a recursive-descent compiler to a
 * flat array of nodes, and an evaluator over that array.
 *
 * Compile does everything that can be done once: it checks each value
 * against its field's type, parses numbers, unescapes strings and keeps
 * their lengths, validates glob patterns, decodes hex and IP networks,
 * sorts long lists, and turns Falco's event type names into vigil's
 * (expanding those that are a file event with an action). What is left
 * for each event is comparing bytes and integers, with no allocation, no
 * strlen() and nothing that depends on the locale.
 *
 * The nodes are in preorder and each records the size of its subtree, so
 * a node's children follow it and the next sibling is a fixed offset
 * away. 'and' and 'or' chains are one node with many children: the
 * depth of the tree, and with it the recursion of every pass over it, is
 * bounded by the nesting the parser allows (and the three levels an
 * evt.type expansion adds), however long the chains.
 */
#include "filter/filter.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "base/util.h"
#include "event/event.h"

/* ---- fields ----------------------------------------------------------- */

/* What a field takes and gives, beyond its type. */
enum {
	FD_ARG_OPT = 1u << 0, /* an [argument] may follow its name */
	FD_ARG_REQ = 1u << 1, /* one must */
	FD_ARG_NUM = 1u << 2, /* the argument is an index: decimal digits */
	FD_MULTI = 1u << 3,   /* many values (proc.aname): a comparison is
			       * true when it is true for one of them */
	FD_LIST = 1u << 4,    /* Falco's list field: many values, and only
			       * in (all of them in the set), intersects
			       * (one in the set) and exists */
	FD_RES = 1u << 5,     /* a syscall's result, which Falco compares as
			       * text: "SUCCESS" or the errno's name */
	FD_IPNET = 1u << 6,   /* an IP address (its text) compared with
			       * networks, "10.0.0.0/8": =, != and in test
			       * that it is inside (fd.net, fd.snet) */
	FD_IPADDR = 1u << 7,  /* an IP address compared as one, whatever its
			       * text: "::1" is "0:0::1" (fd.ip, fd.sip) */
	FD_EITHER = 1u << 8,  /* with FD_MULTI, either end of a connection
			       * (fd.ip, fd.net, fd.port): != is true when
			       * both ends differ, as Falco's */
};

struct field_def {
	const char *name;  /* as --help lists it */
	enum vg_filter_type type;
	size_t prefix_len; /* a keyed field: the key follows these bytes */
	unsigned flags;    /* FD_* */
};

#define STR(n) { n, VG_FILTER_STR, 0, 0 }
#define NUM(n) { n, VG_FILTER_NUM, 0, 0 }
#define KEYED(p) { p "<key>", VG_FILTER_STR, sizeof(p) - 1, 0 }
/* Any other: FIELD("proc.aname", VG_FILTER_STR, FD_ARG_OPT | FD_ARG_NUM |
 * FD_MULTI) */
#define FIELD(n, t, fl) { n, t, 0, fl }

static const struct field_def fields[] = {
	[VG_F_EVT_TYPE] = STR("evt.type"),
	[VG_F_EVT_TIME] = NUM("evt.time"),
	[VG_F_EVT_CPU] = NUM("evt.cpu"),
	[VG_F_EVT_RES] = FIELD("evt.res", VG_FILTER_NUM, FD_RES),
	[VG_F_PROC_PID] = NUM("proc.pid"),
	[VG_F_PROC_TID] = NUM("proc.tid"),
	[VG_F_PROC_PPID] = NUM("proc.ppid"),
	[VG_F_PROC_NAME] = STR("proc.name"),
	[VG_F_PROC_EXE] = STR("proc.exe"),
	[VG_F_PROC_ARGS] = STR("proc.args"),
	[VG_F_PROC_CMDLINE] = STR("proc.cmdline"),
	[VG_F_PROC_CWD] = STR("proc.cwd"),
	[VG_F_PROC_EXEC_ID] = STR("proc.exec_id"),
	[VG_F_USER_UID] = NUM("user.uid"),
	[VG_F_GROUP_GID] = NUM("group.gid"),
	[VG_F_FD_NAME] = STR("fd.name"),
	[VG_F_FD_SIP] = STR("fd.sip"),
	[VG_F_FD_SPORT] = NUM("fd.sport"),
	[VG_F_FD_CIP] = STR("fd.cip"),
	[VG_F_FD_CPORT] = NUM("fd.cport"),
	[VG_F_CONTAINER_ID] = STR("container.id"),
	[VG_F_CONTAINER_NAME] = STR("container.name"),
	[VG_F_CONTAINER_RUNTIME] = STR("container.runtime"),
	[VG_F_CONTAINER_IMAGE] = STR("container.image"),
	[VG_F_CONTAINER_IMAGE_ID] = STR("container.image.id"),
	[VG_F_CONTAINER_LABEL] = KEYED("container.label."),
	[VG_F_K8S_NS_NAME] = STR("k8s.ns.name"),
	[VG_F_K8S_POD_NAME] = STR("k8s.pod.name"),
	[VG_F_K8S_POD_UID] = STR("k8s.pod.uid"),
	[VG_F_K8S_POD_LABEL] = KEYED("k8s.pod.label."),
	[VG_F_K8S_CONTAINER_NAME] = STR("k8s.container.name"),
	[VG_F_CGROUP_ID] = NUM("cgroup.id"),
	[VG_F_FILE_ACTION] = STR("file.action"),
	[VG_F_CONTAINER_VERIFICATION] = STR("container.verification"),
	/* Falco's, filled from what vigil knows (src/engine/fields.c) */
	[VG_F_EVT_NUM] = NUM("evt.num"),
	[VG_F_EVT_RAWRES] = NUM("evt.rawres"),
	[VG_F_EVT_DIR] = STR("evt.dir"),
	[VG_F_EVT_IS_OPEN_READ] = STR("evt.is_open_read"),
	[VG_F_EVT_IS_OPEN_WRITE] = STR("evt.is_open_write"),
	[VG_F_EVT_IS_OPEN_EXEC] = STR("evt.is_open_exec"),
	[VG_F_EVT_ARG] = KEYED("evt.arg."),
	[VG_F_PROC_EXEPATH] = STR("proc.exepath"),
	[VG_F_PROC_PNAME] = STR("proc.pname"),
	[VG_F_PROC_PEXE] = STR("proc.pexe"),
	[VG_F_PROC_PEXEPATH] = STR("proc.pexepath"),
	[VG_F_PROC_PCMDLINE] = STR("proc.pcmdline"),
	[VG_F_PROC_ANAME] = FIELD("proc.aname", VG_FILTER_STR, FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),
	[VG_F_PROC_APID] = FIELD("proc.apid", VG_FILTER_NUM, FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),
	[VG_F_PROC_AEXE] = FIELD("proc.aexe", VG_FILTER_STR, FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),
	[VG_F_PROC_AEXEPATH] = FIELD("proc.aexepath", VG_FILTER_STR, FD_ARG_OPT | FD_ARG_NUM | FD_MULTI),
	[VG_F_PROC_DURATION] = NUM("proc.duration"),
	[VG_F_USER_NAME] = STR("user.name"),
	[VG_F_GROUP_NAME] = STR("group.name"),
	[VG_F_FD_NUM] = NUM("fd.num"),
	[VG_F_FD_TYPE] = STR("fd.type"),
	[VG_F_FD_TYPECHAR] = STR("fd.typechar"),
	[VG_F_FD_DIRECTORY] = STR("fd.directory"),
	[VG_F_FD_FILENAME] = STR("fd.filename"),
	[VG_F_FD_L4PROTO] = STR("fd.l4proto"),
	[VG_F_FD_LIP] = STR("fd.lip"),
	[VG_F_FD_LPORT] = NUM("fd.lport"),
	[VG_F_FD_RIP] = STR("fd.rip"),
	[VG_F_FD_RPORT] = NUM("fd.rport"),
	[VG_F_FD_CONNECTED] = STR("fd.connected"),
	[VG_F_CONTAINER_IMAGE_REPOSITORY] = STR("container.image.repository"),
	[VG_F_CONTAINER_IMAGE_TAG] = STR("container.image.tag"),
	[VG_F_CONTAINER_IMAGE_DIGEST] = STR("container.image.digest"),
	[VG_F_CONTAINER_START_TS] = NUM("container.start_ts"),
	[VG_F_FD_NAMERAW] = STR("fd.nameraw"),
	[VG_F_PROC_TTY] = NUM("proc.tty"),
	[VG_F_PROC_SNAME] = STR("proc.sname"),
	[VG_F_USER_LOGINUID] = NUM("user.loginuid"),
	[VG_F_USER_LOGINNAME] = STR("user.loginname"),
	[VG_F_PROC_VPID] = NUM("proc.vpid"),
	[VG_F_THREAD_CAP_EFFECTIVE] = STR("thread.cap_effective"),
	[VG_F_THREAD_CAP_PERMITTED] = STR("thread.cap_permitted"),
	[VG_F_THREAD_CAP_INHERITABLE] = STR("thread.cap_inheritable"),
	[VG_F_FD_IP] = FIELD("fd.ip", VG_FILTER_STR, FD_IPADDR | FD_MULTI | FD_EITHER),
	[VG_F_FD_PORT] = FIELD("fd.port", VG_FILTER_NUM, FD_MULTI | FD_EITHER),
	[VG_F_FD_SOCKFAMILY] = STR("fd.sockfamily"),
	[VG_F_CONTAINER_PRIVILEGED] = STR("container.privileged"),
	[VG_F_FD_NET] = FIELD("fd.net", VG_FILTER_STR, FD_IPNET | FD_MULTI | FD_EITHER),
	[VG_F_FD_SNET] = FIELD("fd.snet", VG_FILTER_STR, FD_IPNET),
	[VG_F_FD_CNET] = FIELD("fd.cnet", VG_FILTER_STR, FD_IPNET),
	[VG_F_FD_LNET] = FIELD("fd.lnet", VG_FILTER_STR, FD_IPNET),
	[VG_F_FD_RNET] = FIELD("fd.rnet", VG_FILTER_STR, FD_IPNET),
	[VG_F_PROC_IS_EXE_UPPER_LAYER] = STR("proc.is_exe_upper_layer"),
	[VG_F_PROC_IS_EXE_FROM_MEMFD] = STR("proc.is_exe_from_memfd"),
	/* the unit test's own rows, [VG_F_COUNT + i], to test each kind of
	 * field whatever the fields above are */
#ifdef VG_FILTER_TEST_FIELDS
	VG_FILTER_TEST_FIELDS
#endif
};
_Static_assert(VG_ARRAY_SIZE(fields) >= VG_F_COUNT, "a row for every field");

const char *vg_filter_field_name(int field_id)
{
	if (field_id < 0 || field_id >= VG_F_COUNT)
		return NULL;
	return fields[field_id].name;
}

enum vg_filter_type vg_filter_field_type(int field_id)
{
	if (field_id < 0 || field_id >= VG_F_COUNT)
		return VG_FILTER_STR;
	return fields[field_id].type;
}

/*
 * Falco's field names vigil does not provide, and why: compiling one is
 * an error that says so, where an unknown name is only "unknown field".
 * A name ending in '*' stands for every field that starts with the rest.
 */
static const struct {
	const char *name, *why;
} refused_fields[] = {
	{ "fd.sip.name", "the server's DNS name needs a resolver's answer for the address, and vigil resolves no names" },
	{ "fd.cip.name", "the client's DNS name needs a resolver's answer for the address, and vigil resolves no names" },
	{ "fd.rip.name", "the remote DNS name needs a resolver's answer for the address, and vigil resolves no names" },
	{ "fd.lip.name", "the local DNS name needs a resolver's answer for the address, and vigil resolves no names" },
	{ "evt.buffer", "vigil does not capture the data of reads and writes" },
	{ "evt.rawarg.*", "vigil keeps no raw syscall arguments beyond the decoded ones" },
	{ "evt.args", "vigil does not render a call's whole argument list; evt.arg.NAME gives each" },
	{ "fd.name_changed", "vigil does not follow a file descriptor's name from call to call" },
	{ "container.mount*", "vigil's runtime readers do not read a container's mounts" },
	{ "container.healthcheck", "vigil's runtime readers do not read containers' health checks" },
	{ "container.liveness_probe", "vigil's runtime readers do not read containers' health checks" },
	{ "container.readiness_probe", "vigil's runtime readers do not read containers' health checks" },
	{ "proc.is_container_*", "vigil's runtime readers do not read containers' health checks" },
	{ "proc.env", "vigil does not read processes' environments" },
	{ "proc.aenv", "vigil does not read processes' environments" },
	{ "proc.exe_ino*", "vigil's exec record has no inode of the executable" },
	{ "proc.is_exe_writable", "vigil's exec record does not say whether the executable is writable by its user" },
	{ "proc.vpgid", "vigil reads no process groups" },
	{ "proc.is_vpgid_leader", "vigil reads no process groups" },
	{ "proc.is_sid_leader", "vigil reads a process's session only as its leader's name (proc.sname)" },
};

/* Falco syscall names vigil does not trace, and why. */
static const struct {
	const char *name, *why;
} ev_refused[] = {
	{ "init_module", "vigil does not trace the loading of kernel modules" },
	{ "finit_module", "vigil does not trace the loading of kernel modules" },
	{ "delete_module", "vigil does not trace the unloading of kernel modules" },
	{ "mknod", "vigil's file event records a mknod as a create, not told apart from an open that creates" },
	{ "mknodat", "vigil's file event records a mknod as a create, not told apart from an open that creates" },
	{ "sendmmsg", "vigil traces sendto and sendmsg (the send event), not sendmmsg" },
	{ "recvfrom", "vigil does not trace recvfrom: it sees connect, accept, bind and listen" },
	{ "recvmsg", "vigil does not trace recvmsg: it sees connect, accept, bind and listen" },
	{ "recvmmsg", "vigil does not trace recvmmsg: it sees connect, accept, bind and listen" },
	{ "socketpair", "vigil traces socket (the socket event), not socketpair" },
	{ "setuid", "vigil does not trace changes of credentials" },
	{ "setgid", "vigil does not trace changes of credentials" },
	{ "setresuid", "vigil does not trace changes of credentials" },
	{ "setresgid", "vigil does not trace changes of credentials" },
	{ "setreuid", "vigil does not trace changes of credentials" },
	{ "setregid", "vigil does not trace changes of credentials" },
	{ "capset", "vigil does not trace changes of credentials" },
	{ "setns", "vigil does not trace changes of namespaces" },
	{ "unshare", "vigil does not trace changes of namespaces" },
	{ "mount", "vigil does not trace mounts" },
	{ "umount", "vigil does not trace mounts" },
	{ "umount2", "vigil does not trace mounts" },
	{ "pivot_root", "vigil does not trace mounts" },
	{ "chroot", "vigil does not trace chroot" },
	{ "bpf", "vigil does not trace the bpf() system call" },
	{ "userfaultfd", "vigil does not trace userfaultfd" },
	{ "memfd_create", "vigil does not trace memfd_create" },
	{ "kill", "vigil does not trace signals" },
	{ "tgkill", "vigil does not trace signals" },
	{ "tkill", "vigil does not trace signals" },
	{ "prctl", "vigil does not trace prctl" },
	{ "read", "vigil does not trace reads and writes" },
	{ "write", "vigil does not trace reads and writes" },
	{ "close", "vigil does not trace close" },
	{ "open_by_handle_at", "vigil does not trace open_by_handle_at" },
	{ "mprotect", "vigil does not trace memory mappings" },
	{ "mmap", "vigil does not trace memory mappings" },
	{ "fcntl", "vigil does not trace fcntl" },
	{ "ioctl", "vigil does not trace ioctl" },
	{ "shutdown", "vigil does not trace shutdown" },
	{ "signalfd", "vigil does not trace signalfd" },
	{ "signalfd4", "vigil does not trace signalfd" },
	{ "inotify_init", "vigil does not trace inotify" },
	{ "inotify_init1", "vigil does not trace inotify" },
	{ "seccomp", "vigil does not trace seccomp" },
	{ "io_uring_setup", "vigil does not trace io_uring" },
	{ "io_uring_enter", "vigil does not trace io_uring" },
	{ "io_uring_register", "vigil does not trace io_uring" },
};

/* ---- the compiled form ------------------------------------------------ */

enum kind { N_OR, N_AND, N_NOT, N_CMP };

enum op {
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_CONTAINS,
	OP_STARTSWITH, OP_ENDSWITH, OP_GLOB, OP_EXISTS, OP_ICONTAINS,
	OP_BCONTAINS, OP_BSTARTSWITH, OP_IGLOB, OP_PMATCH, OP_INTERSECTS,
	OP_REGEX,
};

static const char *const op_names[] = {
	[OP_EQ] = "=",		 [OP_NE] = "!=",	 [OP_LT] = "<",
	[OP_LE] = "<=",		 [OP_GT] = ">",		 [OP_GE] = ">=",
	[OP_IN] = "in",		 [OP_CONTAINS] = "contains",
	[OP_STARTSWITH] = "startswith",			 [OP_ENDSWITH] = "endswith",
	[OP_GLOB] = "glob",	 [OP_EXISTS] = "exists",
	[OP_ICONTAINS] = "icontains", [OP_BCONTAINS] = "bcontains",
	[OP_BSTARTSWITH] = "bstartswith", [OP_IGLOB] = "iglob",
	[OP_PMATCH] = "pmatch",	 [OP_INTERSECTS] = "intersects",
	[OP_REGEX] = "regex",
};

static bool op_takes_list(enum op op)
{
	return op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH;
}

/* Whether @op compares text only (never numbers). */
static bool op_text_only(enum op op)
{
	return op == OP_CONTAINS || op == OP_STARTSWITH || op == OP_ENDSWITH ||
	       op == OP_GLOB || op == OP_ICONTAINS || op == OP_BCONTAINS ||
	       op == OP_BSTARTSWITH || op == OP_IGLOB || op == OP_PMATCH ||
	       op == OP_REGEX;
}

enum {
	NF_NUM = 1u << 0,   /* compare numbers */
	NF_TEXT = 1u << 1,  /* a result field compared as Falco's text */
	NF_ARG = 1u << 2,   /* the key is an [argument] */
	NF_MULTI = 1u << 3, /* the field's FD_MULTI or FD_LIST, copied here
			     * so that a match reads only the node */
	NF_LIST = 1u << 4,  /* its FD_LIST */
	NF_IPNET = 1u << 5, /* its FD_IPNET: the values are networks */
	NF_IPADDR = 1u << 6, /* its FD_IPADDR: the values are addresses */
	NF_EITHER = 1u << 7, /* its FD_EITHER */
	NF_SORTED = 1u << 8, /* a long list: its values sorted follow them */
};

/* From this many values on, in and intersects search a sorted copy. */
#define SORTED_MIN 8

/* 24 bytes: a comparison's node is one cache line with its neighbours */
struct node {
	uint8_t kind;   /* enum kind */
	uint8_t op;     /* enum op, for N_CMP */
	uint16_t field; /* enum vg_filter_field, for N_CMP */
	uint32_t size;  /* nodes in this subtree, this one included */
	uint32_t lit;   /* the values: lits[lit .. lit + n_lits) */
	uint16_t n_lits; /* at most VG_FILTER_MAX_LIST */
	uint16_t flags; /* NF_*, for N_CMP */
	uint32_t key, key_len; /* a key or argument, in the pool */
};
_Static_assert(VG_FILTER_MAX_LIST <= UINT16_MAX, "n_lits holds a list");

/* Strings live in one pool, by offset, each NUL-terminated too: the
 * pool can move while compiling, and type_bits() wants C strings. */
struct lit {
	int64_t n;
	uint32_t s, len;
};

/* One allocation: this header, then the nodes, the values, the pool. */
struct vg_filter {
	const struct node *nodes;
	const struct lit *lits;
	const char *pool;
	size_t n_nodes;
};

void vg_filter_free(struct vg_filter *f)
{
	free(f);
}

/* ---- characters ------------------------------------------------------- */

/* ASCII by hand: <ctype.h> answers by the locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* What field names, label keys and keywords are made of. */
static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       c == '.' || c == '_' || c == '-' || c == '/';
}

static bool is_opchar(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>';
}

static bool is_quote(char c)
{
	return c == '"' || c == '\'';
}

/* What ends a bare value. */
static bool is_delim(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == ',' || is_quote(c);
}

static bool is_control(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* ---- parsing ---------------------------------------------------------- */

struct parser {
	const char *text;
	size_t len, pos;
	int depth;
	struct vg_filter_error *err;

	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct lit *lits;
	size_t n_lits, cap_lits;
	char *pool;
	size_t pool_len, cap_pool;
};

static int grow(void *p, size_t *cap, size_t need, size_t elem)
{
	void **pp = p, *q;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = reallocarray(*pp, n, elem);
	if (!q)
		return -ENOMEM;
	*pp = q;
	*cap = n;
	return 0;
}

static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (!ps->err)
		return -EINVAL;
	ps->err->column = (int)pos + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define SHOWN_MAX 40

/* @n bytes of @s for a message: cut on a UTF-8 boundary, marked with
 * "...", control characters as '?', so that a message stays short and
 * one line whatever the input held. */
static const char *shown(const char *s, size_t n, char buf[static SHOWN_MAX + 1])
{
	bool cut = n > SHOWN_MAX;
	size_t i;

	if (cut) {
		n = SHOWN_MAX - 3;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		buf[i] = is_control(s[i]) ? '?' : s[i];
	if (cut) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* The token at @pos, quoted, or "end of input". */
static const char *found(const struct parser *ps, size_t pos, char *buf,
			 size_t bufsz)
{
	const char *t = ps->text + pos;
	size_t n = 0, rest = ps->len - pos;
	char b[SHOWN_MAX + 1];

	if (pos >= ps->len)
		return "end of input";
	if (*t == '(' || *t == ')' || *t == ',') {
		n = 1;
	} else if (is_opchar(*t)) {
		while (n < rest && is_opchar(t[n]))
			n++;
	} else if (is_quote(*t)) {
		for (n = 1; n < rest && t[n] != *t; n++)
			if (t[n] == '\\' && n + 1 < rest)
				n++;
		n += n < rest;
	} else {
		while (n < rest && !is_delim(t[n]))
			n++;
	}
	/* a space, or a character no token starts with: itself */
	if (n == 0)
		n = 1;
	snprintf(buf, bufsz, "'%s'", shown(t, n, b));
	return buf;
}

static void skip_space(struct parser *ps)
{
	while (ps->pos < ps->len && is_space(ps->text[ps->pos]))
		ps->pos++;
}

static size_t word_len(const struct parser *ps, size_t pos)
{
	size_t n = 0;

	while (pos + n < ps->len && is_word(ps->text[pos + n]))
		n++;
	return n;
}

/* Whether the next word is @kw; consumes nothing. */
static bool at_keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	skip_space(ps);
	return word_len(ps, ps->pos) == n &&
	       memcmp(ps->text + ps->pos, kw, n) == 0;
}

static int insert_node(struct parser *ps, size_t at, const struct node *nd)
{
	int r = grow(&ps->nodes, &ps->cap_nodes, ps->n_nodes + 1,
		     sizeof(*ps->nodes));

	if (r < 0)
		return r;
	memmove(ps->nodes + at + 1, ps->nodes + at,
		(ps->n_nodes - at) * sizeof(*ps->nodes));
	ps->nodes[at] = *nd;
	ps->n_nodes++;
	return 0;
}

/* Optimal string alignment distance (a swap of neighbours is one edit),
 * for "did you mean". Both strings are at most 64 bytes. */
static unsigned edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	unsigned rows[3][65], *pp = rows[0], *p = rows[1], *c = rows[2];

	for (size_t j = 0; j <= m; j++)
		p[j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		c[0] = (unsigned)i;
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1], v = p[j - 1] + cost;

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		unsigned *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[m];
}

static unsigned distance_to(const char *w, size_t n, const char *name,
			    size_t m)
{
	if (n > 64 || m > 64 || (n > m ? n - m : m - n) > 2)
		return 3;
	return edit_distance(w, n, name, m);
}

/* The field closest to the unknown @w, within two edits, into @buf;
 * false when none is. A keyed field is also suggested for a misspelt
 * prefix with a key after it ("container.lable.app"). */
static bool suggest_field(const char *w, size_t n, char *buf, size_t bufsz)
{
	unsigned best = 3;
	char k[SHOWN_MAX + 1];

	for (size_t i = 0; i < VG_ARRAY_SIZE(fields); i++) {
		const struct field_def *fd = &fields[i];
		size_t plen = fd->prefix_len;
		unsigned d;

		if (!fd->name)
			continue;
		if (!plen) {
			d = distance_to(w, n, fd->name, strlen(fd->name));
			if (d < best) {
				best = d;
				snprintf(buf, bufsz, "%s", fd->name);
			}
			continue;
		}
		/* the prefix without its '.', then at each '.' of @w */
		d = distance_to(w, n, fd->name, plen - 1);
		if (d < best) {
			best = d;
			snprintf(buf, bufsz, "%s", fd->name);
		}
		for (size_t dot = 1; dot + 1 < n; dot++) {
			if (w[dot] != '.')
				continue;
			d = distance_to(w, dot, fd->name, plen - 1);
			if (d < best) {
				best = d;
				snprintf(buf, bufsz, "%.*s%s", (int)plen,
					 fd->name,
					 shown(w + dot + 1, n - dot - 1, k));
			}
		}
	}
	return best <= 2;
}

/* A field reference in the text: the field, where the reference ends,
 * and its key or argument as bytes of the text (0, 0: none). */
struct field_ref {
	int id;
	size_t end;
	size_t key_off, key_len;
	bool arg; /* the key came in brackets */
};

/* Fails when the word of @n bytes at @pos is a Falco field vigil
 * refuses; 0 when it is not one. */
static int refused_field(struct parser *ps, size_t pos, size_t n)
{
	const char *w = ps->text + pos;
	char b[SHOWN_MAX + 1];

	for (size_t i = 0; i < VG_ARRAY_SIZE(refused_fields); i++) {
		const char *r = refused_fields[i].name;
		size_t m = strlen(r);
		bool hit = r[m - 1] == '*'
				   ? n >= m - 1 && memcmp(w, r, m - 1) == 0
				   : n == m && memcmp(w, r, m) == 0;

		if (hit)
			return fail(ps, pos, "%s: not available in vigil: %s",
				    shown(w, n, b), refused_fields[i].why);
	}
	return 0;
}

/* The [argument] whose '[' is at @pos, for the field @fname. Bare: up to
 * a space, quote or bracket, as Falco's; or a quoted string, taken as it
 * is between its quotes (so that it stays bytes of the text). */
static int parse_arg(struct parser *ps, size_t pos, const char *fname,
		     struct field_ref *ref)
{
	size_t i = pos + 1, start = i;
	char b[64];

	if (i < ps->len && is_quote(ps->text[i])) {
		char q = ps->text[i];

		start = ++i;
		while (i < ps->len && ps->text[i] != q) {
			if (ps->text[i] == '\\')
				return fail(ps, i, "escape in the argument of %s: a field's argument takes none",
					    fname);
			i++;
		}
		if (i == ps->len)
			return fail(ps, start - 1,
				    "expected a closing '%c' for this argument, found end of input", q);
		ref->key_len = i++ - start;
	} else {
		while (i < ps->len && ps->text[i] != ']' && ps->text[i] != '[' &&
		       !is_quote(ps->text[i]) && !is_space(ps->text[i]))
			i++;
		ref->key_len = i - start;
	}
	if (i == ps->len || ps->text[i] != ']')
		return fail(ps, i, "expected ']' to close the argument of %s, found %s",
			    fname, found(ps, i, b, sizeof(b)));
	if (ref->key_len == 0)
		return fail(ps, pos, "expected an argument between the brackets of %s",
			    fname);
	ref->key_off = start;
	ref->arg = true;
	ref->end = i + 1;
	return 0;
}

/* The field reference at @pos: a name, and its key or [argument]. */
static int field_ref(struct parser *ps, size_t pos, struct field_ref *ref)
{
	const char *w = ps->text + pos;
	size_t n = word_len(ps, pos);
	const struct field_def *fd;
	bool bracket = pos + n < ps->len && ps->text[pos + n] == '[';
	char b[SHOWN_MAX + 1], s[96];
	int r;

	*ref = (struct field_ref){ .id = -1, .end = pos + n };
	if (n == 0)
		return fail(ps, pos, "expected a field name, 'not' or '(', found %s",
			    found(ps, pos, s, sizeof(s)));
	for (size_t i = 0; i < VG_ARRAY_SIZE(fields) && ref->id < 0; i++) {
		size_t plen;

		fd = &fields[i];
		plen = fd->prefix_len;
		if (!fd->name)
			continue;
		if (!plen) {
			if (strlen(fd->name) == n && memcmp(w, fd->name, n) == 0)
				ref->id = (int)i;
		} else if (n > plen && memcmp(w, fd->name, plen) == 0) {
			ref->id = (int)i;
			ref->key_off = pos + plen;
			ref->key_len = n - plen;
		} else if (bracket && n == plen - 1 && memcmp(w, fd->name, n) == 0) {
			ref->id = (int)i;
		} else if ((n == plen || n == plen - 1) &&
			   memcmp(w, fd->name, n) == 0) {
			return fail(ps, pos, "%.*s needs a key: %s or %.*s[KEY]",
				    (int)(plen - 1), fd->name, fd->name,
				    (int)(plen - 1), fd->name);
		}
	}
	if (ref->id < 0) {
		if ((n == 3 && memcmp(w, "and", 3) == 0) ||
		    (n == 2 && memcmp(w, "or", 2) == 0))
			return fail(ps, pos, "expected a field name, 'not' or '(', found '%.*s'",
				    (int)n, w);
		r = refused_field(ps, pos, n);
		if (r < 0)
			return r;
		shown(w, n, b);
		if (suggest_field(w, n, s, sizeof(s)))
			return fail(ps, pos, "unknown field '%s' (did you mean %s?)", b, s);
		return fail(ps, pos, "unknown field '%s'", b);
	}

	fd = &fields[ref->id];
	shown(w, n, b);
	if (fd->prefix_len) {
		if (bracket && ref->key_len)
			return fail(ps, pos + n, "%s has its key already: no [argument] after it",
				    b);
		if (bracket)
			return parse_arg(ps, pos + n, b, ref);
		if (pos + n < ps->len && !is_delim(ps->text[pos + n]) &&
		    !is_opchar(ps->text[pos + n]))
			return fail(ps, pos + n,
				    "expected a label key of letters, digits, '.', '_', '/' and '-', found %s",
				    found(ps, pos + n, s, sizeof(s)));
		return 0;
	}
	if (!bracket) {
		if (fd->flags & FD_ARG_REQ)
			return fail(ps, pos + n, "%s needs an argument: %s[...]", b, b);
		return 0;
	}
	if (!(fd->flags & (FD_ARG_OPT | FD_ARG_REQ)))
		return fail(ps, pos + n, "%s takes no [argument]", b);
	r = parse_arg(ps, pos + n, b, ref);
	if (r < 0)
		return r;
	if (fd->flags & FD_ARG_NUM)
		for (size_t i = 0; i < ref->key_len; i++)
			if (!is_digit(ps->text[ref->key_off + i]))
				return fail(ps, ref->key_off,
					    "expected an index (decimal digits) as the argument of %s, found '%s'",
					    b, shown(ps->text + ref->key_off, ref->key_len, s));
	return 0;
}

int vg_filter_field_lookup(const char *name, size_t len, int *ret_id,
			   size_t *ret_key_off, size_t *ret_key_len,
			   struct vg_filter_error *err)
{
	struct parser ps = { .text = name, .len = len, .err = err };
	struct field_ref ref;
	char b[64];
	int r;

	if (err) {
		err->column = 0;
		err->msg[0] = '\0';
	}
	if (!name || len > VG_FILTER_MAX_LEN)
		return fail(&ps, 0, "no field name");
	for (size_t i = 0; i < len; i++)
		if (is_control(name[i]))
			return fail(&ps, i, "control character 0x%02x",
				    (unsigned char)name[i]);
	r = field_ref(&ps, 0, &ref);
	if (r < 0)
		return r;
	if (ref.end != len)
		return fail(&ps, ref.end, "expected the end of the field name, found %s",
			    found(&ps, ref.end, b, sizeof(b)));
	if (ret_id)
		*ret_id = ref.id;
	if (ret_key_off)
		*ret_key_off = ref.key_len ? ref.key_off : 0;
	if (ret_key_len)
		*ret_key_len = ref.key_len;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* An integer, the whole of s[0..n): decimal or 0x hex, with an optional
 * sign, as Falco's number values. */
static int parse_int(const char *s, size_t n, int64_t *ret)
{
	size_t i = 0;
	bool neg = false;
	unsigned base = 10;
	uint64_t v = 0, limit;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	if (i == n)
		return -EINVAL;
	for (size_t j = i; j < n; j++)
		if ((unsigned)hex_digit(s[j]) >= base)
			return -EINVAL;
	limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned)hex_digit(s[i]);

		if (v > (limit - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (!neg)
		*ret = (int64_t)v;
	else
		*ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return 0;
}

/* The index just past the ']' that closes a class opened before @i, or
 * 0 when none does. A ']' first in the class (after a '!') is itself. */
static size_t class_end(const char *p, size_t n, size_t i)
{
	if (i < n && p[i] == '!')
		i++;
	if (i < n && p[i] == ']')
		i++;
	while (i < n && p[i] != ']')
		i++;
	return i < n ? i + 1 : 0;
}

static bool glob_valid(const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (p[i] != '[') {
			i++;
			continue;
		}
		i = class_end(p, n, i + 1);
		if (!i)
			return false;
	}
	return true;
}

/* A copy of @s into the pool; its offset. */
static int pool_add(struct parser *ps, const char *s, size_t n, uint32_t *ret)
{
	int r = grow(&ps->pool, &ps->cap_pool, ps->pool_len + n + 1, 1);

	if (r < 0)
		return r;
	*ret = (uint32_t)ps->pool_len;
	memcpy(ps->pool + ps->pool_len, s, n);
	ps->pool_len += n;
	ps->pool[ps->pool_len++] = '\0';
	return 0;
}

static bool lit_is(const struct parser *ps, const struct lit *l, const char *s)
{
	return strlen(s) == l->len && memcmp(ps->pool + l->s, s, l->len) == 0;
}

/* The type name of vg_event_syscalls[@n - 1]. */
static const char *alias_type(int64_t n)
{
	return vg_event_type_name(vg_event_syscalls[n - 1].type);
}

/* Turn the evt.type name at @l, the last string of the pool, into
 * vigil's. l->n becomes 1 + the row of vg_event_syscalls[] for a
 * syscall with file actions. Returns 1, 0 for a name unknown, -EINVAL (said) for a
 * syscall vigil does not trace. */
static int canonical_type(struct parser *ps, struct lit *l, size_t vpos)
{
	const char *to = NULL;
	char b[SHOWN_MAX + 1];
	size_t n;

	for (size_t i = 0; i < vg_n_event_types && !to; i++)
		if (lit_is(ps, l, vg_event_types[i].name))
			to = vg_event_types[i].name;
	for (size_t i = 0; i < vg_n_event_syscalls && !to; i++)
		if (lit_is(ps, l, vg_event_syscalls[i].name)) {
			to = vg_event_type_name(vg_event_syscalls[i].type);
			if (vg_event_syscalls[i].actions)
				l->n = (int64_t)i + 1;
		}
	for (size_t i = 0; i < VG_ARRAY_SIZE(ev_refused) && !to; i++)
		if (lit_is(ps, l, ev_refused[i].name))
			return fail(ps, vpos, "evt.type %s: not available in vigil: %s",
				    shown(ps->pool + l->s, l->len, b),
				    ev_refused[i].why);
	if (!to)
		return 0;
	n = strlen(to);
	if (n > l->len) {
		int r = grow(&ps->pool, &ps->cap_pool, l->s + n + 1, 1);

		if (r < 0)
			return r;
	}
	l->len = (uint32_t)n;
	memcpy(ps->pool + l->s, to, n + 1);
	ps->pool_len = l->s + n + 1;
	return 1;
}

/* A bare word or a quoted string at ps->pos, decoded into the pool. */
static int read_value(struct parser *ps, const char *after, struct lit *l,
		      size_t *ret_pos)
{
	size_t pos, start;
	char b[64];
	int r;

	skip_space(ps);
	pos = start = ps->pos;
	if (pos == ps->len || ps->text[pos] == '(' || ps->text[pos] == ')' ||
	    ps->text[pos] == ',')
		return fail(ps, pos, "expected a value after '%s', found %s",
			    after, found(ps, pos, b, sizeof(b)));
	/* decoding never makes a value longer than its text */
	r = grow(&ps->pool, &ps->cap_pool, ps->pool_len + (ps->len - pos) + 1, 1);
	if (r < 0)
		return r;
	l->s = (uint32_t)ps->pool_len;
	if (is_quote(ps->text[pos])) {
		char q = ps->text[pos];

		for (pos++;; pos++) {
			char c;
			int hi, lo;

			if (pos == ps->len)
				return fail(ps, start,
					    "expected a closing '%c' for this string, found end of input",
					    q);
			c = ps->text[pos];
			if (c == q)
				break;
			if (is_control(c) && !is_space(c))
				return fail(ps, pos,
					    "control character 0x%02x in a quoted string",
					    (unsigned char)c);
			if (c != '\\') {
				ps->pool[ps->pool_len++] = c;
				continue;
			}
			if (++pos == ps->len)
				return fail(ps, start,
					    "expected a closing '%c' for this string, found end of input",
					    q);
			c = ps->text[pos];
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '\\':
			case '/':
				break;
			case ' ': /* Falco's: a backslash (and the space dropped) */
				c = '\\';
				break;
			case '"':
			case '\'':
				if (c != q)
					return fail(ps, pos - 1,
						    "escape '\\%c' in a %c-quoted string; write %c alone",
						    c, q, c);
				break;
			case 'x':
				hi = pos + 1 < ps->len ? hex_digit(ps->text[pos + 1]) : 99;
				lo = pos + 2 < ps->len ? hex_digit(ps->text[pos + 2]) : 99;
				if (hi > 15 || lo > 15)
					return fail(ps, pos - 1,
						    "expected two hex digits after '\\x' in a quoted string");
				c = (char)(hi * 16 + lo);
				pos += 2;
				break;
			default:
				if (c > 0x20 && c < 0x7f)
					return fail(ps, pos - 1,
						    "unknown escape '\\%c' in a quoted string; the escapes are \\\\ \\/ \\b \\f \\n \\r \\t \\xHH and the quote's own",
						    c);
				return fail(ps, pos - 1,
					    "unknown escape (byte 0x%02x after '\\') in a quoted string",
					    (unsigned char)c);
			}
			ps->pool[ps->pool_len++] = c;
		}
		pos++;
	} else {
		for (; pos < ps->len && !is_delim(ps->text[pos]); pos++)
			ps->pool[ps->pool_len++] = ps->text[pos];
		if (pos < ps->len && is_quote(ps->text[pos]))
			return fail(ps, pos,
				    "'%c' inside a bare word; quote the whole value",
				    ps->text[pos]);
	}
	l->len = (uint32_t)(ps->pool_len - l->s);
	ps->pool[ps->pool_len++] = '\0';
	ps->pos = pos;
	*ret_pos = start;
	return 0;
}

/* Hex digits, two a byte, into those bytes, in place; false for any
 * other text. */
static bool unhex(char *s, uint32_t *len)
{
	if (*len % 2)
		return false;
	for (uint32_t i = 0; i < *len; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi > 15 || lo > 15)
			return false;
		s[i / 2] = (char)(hi * 16 + lo);
	}
	*len /= 2;
	return true;
}

/* IP addresses and networks, compared as bytes: [4 or 6][prefix bits]
 * [16 bytes of address]. inet_pton() knows no locale and allocates
 * nothing. */
#define IP_BIN 18

/* The address in s[0..n) into @out ([family][address]); false when it
 * is none. */
static bool ip_parse(const char *s, size_t n, uint8_t out[static 17])
{
	char b[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(b))
		return false;
	memcpy(b, s, n);
	b[n] = '\0';
	memset(out, 0, 17);
	if (inet_pton(AF_INET, b, out + 1) == 1)
		out[0] = 4;
	else if (inet_pton(AF_INET6, b, out + 1) == 1)
		out[0] = 6;
	else
		return false;
	return true;
}

/* The address or network at @l, appended to the pool in IP_BIN bytes
 * after its text, l->n their offset. -EINVAL: not one. */
static int ip_value(struct parser *ps, struct lit *l, bool net)
{
	const char *s = ps->pool + l->s, *slash = memchr(s, '/', l->len);
	size_t alen = slash ? (size_t)(slash - s) : l->len;
	uint8_t a[17], bin[IP_BIN];
	int64_t bits;
	uint32_t off;
	int r;

	if ((slash && !net) || !ip_parse(s, alen, a))
		return -EINVAL;
	bits = a[0] == 4 ? 32 : 128;
	if (slash) {
		int64_t max = bits;

		if (parse_int(slash + 1, l->len - alen - 1, &bits) < 0 ||
		    !is_digit(slash[1]) || bits < 0 || bits > max)
			return -EINVAL;
	}
	bin[0] = a[0];
	bin[1] = (uint8_t)bits;
	memcpy(bin + 2, a + 1, 16);
	r = pool_add(ps, (const char *)bin, IP_BIN, &off);
	if (r < 0)
		return r;
	l->n = off;
	return 0;
}

/* One value of a comparison on @nd, checked and converted for its field
 * and operator. */
static int parse_literal(struct parser *ps, const struct node *nd,
			 const char *after)
{
	const char *fname = fields[nd->field].name;
	struct lit l = { 0 };
	size_t vpos = 0;
	char b[64];
	int r;

	r = read_value(ps, after, &l, &vpos);
	if (r < 0)
		return r;
	if (nd->flags & (NF_IPNET | NF_IPADDR)) {
		r = ip_value(ps, &l, nd->flags & NF_IPNET);
		if (r == -EINVAL)
			return fail(ps, vpos, "expected an IP %s after '%s' (%s is an IP address), found %s",
				    nd->flags & NF_IPNET ? "network (ADDRESS/BITS) or address" : "address",
				    after, fname, found(ps, vpos, b, sizeof(b)));
		if (r < 0)
			return r;
	} else if (nd->flags & NF_NUM) {
		r = parse_int(ps->pool + l.s, l.len, &l.n);
		if (r == -ERANGE)
			return fail(ps, vpos, "number %s is out of range",
				    found(ps, vpos, b, sizeof(b)));
		if (r < 0)
			return fail(ps, vpos, "expected a number after '%s' (%s is a number), found %s",
				    after, fname, found(ps, vpos, b, sizeof(b)));
		ps->pool_len = l.s;
		l.s = l.len = 0;
	} else if (nd->field == VG_F_EVT_TYPE &&
		   (nd->op == OP_EQ || nd->op == OP_NE || nd->op == OP_IN ||
		    nd->op == OP_INTERSECTS)) {
		r = canonical_type(ps, &l, vpos);
		if (r < 0)
			return r;
		if (r == 0)
			return fail(ps, vpos,
				    "unknown event type %s: expected exec, exit, fork, open, connect, accept, bind, listen, syscall, tp, lost, container, file or alert",
				    found(ps, vpos, b, sizeof(b)));
	} else if ((nd->op == OP_GLOB || nd->op == OP_IGLOB) &&
		   !glob_valid(ps->pool + l.s, l.len)) {
		return fail(ps, vpos,
			    "expected a ']' to close the '[' of this glob pattern, found end of pattern");
	} else if (nd->op == OP_BCONTAINS || nd->op == OP_BSTARTSWITH) {
		if (!unhex(ps->pool + l.s, &l.len))
			return fail(ps, vpos, "expected hex digits, two a byte, after '%s', found %s",
				    after, found(ps, vpos, b, sizeof(b)));
		ps->pool[l.s + l.len] = '\0';
		ps->pool_len = l.s + l.len + 1;
	}
	r = grow(&ps->lits, &ps->cap_lits, ps->n_lits + 1, sizeof(*ps->lits));
	if (r < 0)
		return r;
	ps->lits[ps->n_lits++] = l;
	return 0;
}

static int enter(struct parser *ps, size_t pos);

/* "(V, ...)" at ps->pos, into @nd's values: empty, or holding lists of
 * its own, which are flattened (what expanding a list of lists gives). */
static int parse_list(struct parser *ps, struct node *nd)
{
	char b[64];
	int r;

	r = enter(ps, ps->pos);
	if (r < 0)
		return r;
	ps->pos++;
	skip_space(ps);
	if (ps->pos < ps->len && ps->text[ps->pos] == ')') {
		ps->pos++;
		ps->depth--;
		return 0;
	}
	for (const char *after = "(";; after = ",") {
		skip_space(ps);
		if (ps->pos < ps->len && ps->text[ps->pos] == '(') {
			r = parse_list(ps, nd);
		} else if (nd->n_lits == VG_FILTER_MAX_LIST) {
			return fail(ps, ps->pos, "more than %d values in a list",
				    VG_FILTER_MAX_LIST);
		} else {
			r = parse_literal(ps, nd, after);
			nd->n_lits++;
		}
		if (r < 0)
			return r;
		skip_space(ps);
		if (ps->pos < ps->len && ps->text[ps->pos] == ',') {
			ps->pos++;
			continue;
		}
		if (ps->pos < ps->len && ps->text[ps->pos] == ')') {
			ps->pos++;
			ps->depth--;
			return 0;
		}
		return fail(ps, ps->pos, "expected ',' or ')' in the list, found %s",
			    found(ps, ps->pos, b, sizeof(b)));
	}
}

static int parse_op(struct parser *ps, const char *field, enum op *ret)
{
	size_t pos = ps->pos, n = 0;
	const char *t = ps->text + pos;
	char b[64];

	if (pos < ps->len && is_opchar(*t)) {
		while (pos + n < ps->len && is_opchar(t[n]))
			n++;
		/* Falco reads "evt.dir=<" as = and the value <: an operator
		 * then one '<' or '>' that ends the word */
		if ((n == 2 || n == 3) && (t[n - 1] == '<' || t[n - 1] == '>') &&
		    (pos + n == ps->len || is_delim(t[n])) &&
		    ((n == 2 && t[0] == '=') ||
		     (n == 3 && (t[1] == '=') && t[0] != '<' && t[0] != '>')))
			n--;
		if (n == 2 && memcmp(t, "==", 2) == 0) {
			*ret = OP_EQ;
			ps->pos += n;
			return 0;
		}
	} else {
		n = word_len(ps, pos);
	}
	for (size_t i = 0; n && i < VG_ARRAY_SIZE(op_names); i++)
		if (strlen(op_names[i]) == n && memcmp(t, op_names[i], n) == 0) {
			*ret = (enum op)i;
			ps->pos += n;
			return 0;
		}
	if (n && is_opchar(*t))
		return fail(ps, pos, "unknown operator %s after %s",
			    found(ps, pos, b, sizeof(b)), field);
	return fail(ps, pos, "expected an operator after %s, found %s", field,
		    found(ps, pos, b, sizeof(b)));
}

/* Whether @op applies to the field @fd; fails saying why not. */
static int check_op(struct parser *ps, size_t opos, const struct field_def *fd,
		    enum op op, const char *fname)
{
	if (op == OP_REGEX)
		return fail(ps, opos, "regex: not available in vigil: it has no regular expression engine that is free of the locale and of allocation; use glob, pmatch, startswith or contains");
	if ((fd->flags & FD_LIST) && op != OP_IN && op != OP_INTERSECTS &&
	    op != OP_EXISTS)
		return fail(ps, opos, "'%s' does not apply to %s, a list field: use in, intersects or exists",
			    op_names[op], fname);
	if ((fd->flags & (FD_IPNET | FD_IPADDR)) && op != OP_EQ && op != OP_NE &&
	    op != OP_IN && op != OP_INTERSECTS && op != OP_EXISTS)
		return fail(ps, opos, "'%s' does not apply to %s, an IP %s: use =, !=, in, intersects or exists",
			    op_names[op], fname,
			    fd->flags & FD_IPNET ? "address compared with networks" : "address");
	if (fd->type == VG_FILTER_NUM && !(fd->flags & FD_RES) &&
	    op_text_only(op))
		return fail(ps, opos, "'%s' needs a string field, found %s (a number)",
			    op_names[op], fname);
	return 0;
}

/* evt.res: numbers when every value is an integer and the operator
 * compares numbers, Falco's text ("SUCCESS", "ENOENT") otherwise. */
static void settle_res(struct parser *ps, struct node *nd)
{
	int64_t n;

	if (!op_text_only(nd->op))
		for (uint32_t k = 0; k < nd->n_lits; k++) {
			struct lit *l = &ps->lits[nd->lit + k];

			if (parse_int(ps->pool + l->s, l->len, &n) < 0)
				goto text;
		}
	else
		goto text;
	nd->flags |= NF_NUM;
	for (uint32_t k = 0; k < nd->n_lits; k++) {
		struct lit *l = &ps->lits[nd->lit + k];

		parse_int(ps->pool + l->s, l->len, &l->n);
		l->s = l->len = 0;
	}
	return;
text:
	nd->flags |= NF_TEXT;
}

static int push_lit(struct parser *ps, const char *s, size_t n)
{
	struct lit l = { 0 };
	int r = pool_add(ps, s, n, &l.s);

	if (r < 0)
		return r;
	l.len = (uint32_t)n;
	r = grow(&ps->lits, &ps->cap_lits, ps->n_lits + 1, sizeof(*ps->lits));
	if (r < 0)
		return r;
	ps->lits[ps->n_lits++] = l;
	return 0;
}

/*
 * evt.type compared with Falco names that are one of vigil's types with
 * a file action: @nd becomes
 *   [not] (evt.type in (PLAIN...) or evt.type = T and file.action in (A...) or ...)
 * one "and" for each type T, whatever the order of the names.
 */
static int expand_types(struct parser *ps, struct node *nd)
{
	size_t n = nd->n_lits, at = ps->n_nodes, n_plain = 0, n_groups = 0;
	struct lit *tmp = malloc(n * sizeof(*tmp));
	const char *groups[64]; /* a type each, at most: types are bits of 64 */
	struct node cmp = *nd;
	int r = 0;

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, ps->lits + nd->lit, n * sizeof(*tmp));
	ps->n_lits = nd->lit;
	for (size_t k = 0; k < n; k++) {
		const char *to;
		size_t g;

		if (!tmp[k].n) {
			n_plain++;
			continue;
		}
		to = alias_type(tmp[k].n);
		for (g = 0; g < n_groups && strcmp(groups[g], to); g++)
			;
		if (g == n_groups)
			groups[n_groups++] = to;
	}

	if (nd->op == OP_NE)
		r = insert_node(ps, ps->n_nodes, &(struct node){ .kind = N_NOT });
	if (r == 0 && n_plain + n_groups > 1)
		r = insert_node(ps, ps->n_nodes, &(struct node){ .kind = N_OR });
	if (r == 0 && n_plain) {
		cmp.op = nd->op == OP_NE ? OP_EQ : nd->op;
		cmp.lit = (uint32_t)ps->n_lits;
		cmp.n_lits = (uint16_t)n_plain;
		r = grow(&ps->lits, &ps->cap_lits, ps->n_lits + n_plain,
			 sizeof(*ps->lits));
		for (size_t k = 0; r == 0 && k < n; k++)
			if (!tmp[k].n)
				ps->lits[ps->n_lits++] = tmp[k];
		if (r == 0)
			r = insert_node(ps, ps->n_nodes, &cmp);
	}
	for (size_t g = 0; r == 0 && g < n_groups; g++) {
		struct node t = { .kind = N_CMP, .size = 1, .op = OP_EQ,
				  .field = VG_F_EVT_TYPE };
		struct node a = { .kind = N_CMP, .size = 1, .op = OP_IN,
				  .field = VG_F_FILE_ACTION };

		r = insert_node(ps, ps->n_nodes, &(struct node){ .kind = N_AND, .size = 3 });
		t.lit = (uint32_t)ps->n_lits;
		t.n_lits = 1;
		if (r == 0)
			r = push_lit(ps, groups[g], strlen(groups[g]));
		if (r == 0)
			r = insert_node(ps, ps->n_nodes, &t);
		a.lit = (uint32_t)ps->n_lits;
		/* the actions of every name of this type, each once */
		for (size_t k = 0; r == 0 && k < n; k++) {
			const char *p;

			if (!tmp[k].n || strcmp(alias_type(tmp[k].n), groups[g]))
				continue;
			for (p = vg_event_syscalls[tmp[k].n - 1].actions; r == 0 && *p;) {
				size_t w = strcspn(p, " "), j;

				for (j = a.lit; j < ps->n_lits; j++)
					if (ps->lits[j].len == w &&
					    memcmp(ps->pool + ps->lits[j].s, p, w) == 0)
						break;
				if (j == ps->n_lits)
					r = push_lit(ps, p, w);
				p += w;
				p += *p == ' ';
			}
		}
		a.n_lits = (uint16_t)(ps->n_lits - a.lit);
		if (a.n_lits == 1)
			a.op = OP_EQ;
		if (r == 0)
			r = insert_node(ps, ps->n_nodes, &a);
	}
	free(tmp);
	if (r < 0)
		return r;
	for (size_t i = ps->n_nodes; i-- > at;)
		if (ps->nodes[i].kind != N_CMP && ps->nodes[i].kind != N_AND)
			ps->nodes[i].size = (uint32_t)(ps->n_nodes - i);
	return 0;
}

/* The order of the sorted copy of a long list: numbers by value, strings
 * by length, then bytes. */
static int lit_order(const void *a, const void *b, void *pool)
{
	const struct lit *x = a, *y = b;

	if (!pool)
		return (x->n > y->n) - (x->n < y->n);
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->len ? memcmp((const char *)pool + x->s,
			       (const char *)pool + y->s, x->len) : 0;
}

/* A long list of plain values gets a sorted copy after it, for a binary
 * search; the list itself keeps its order, for vg_filter_format(). */
static int sort_list(struct parser *ps, struct node *nd)
{
	int r;

	if ((nd->op != OP_IN && nd->op != OP_INTERSECTS) ||
	    nd->n_lits < SORTED_MIN ||
	    (nd->flags & (NF_TEXT | NF_IPNET | NF_IPADDR)))
		return 0;
	r = grow(&ps->lits, &ps->cap_lits, ps->n_lits + nd->n_lits,
		 sizeof(*ps->lits));
	if (r < 0)
		return r;
	memcpy(ps->lits + ps->n_lits, ps->lits + nd->lit,
	       nd->n_lits * sizeof(*ps->lits));
	qsort_r(ps->lits + ps->n_lits, nd->n_lits, sizeof(*ps->lits), lit_order,
		nd->flags & NF_NUM ? NULL : ps->pool);
	ps->n_lits += nd->n_lits;
	nd->flags |= NF_SORTED;
	return 0;
}

/* FIELD OP VALUE, FIELD OP (...), FIELD exists. */
static int parse_cmp(struct parser *ps)
{
	struct node nd = { .kind = N_CMP, .size = 1 };
	struct field_ref ref;
	const struct field_def *fd;
	size_t opos;
	char b[64], fname[SHOWN_MAX + 1];
	enum op op = OP_EQ;
	bool actions = false;
	int r;

	r = field_ref(ps, ps->pos, &ref);
	if (r < 0)
		return r;
	fd = &fields[ref.id];
	shown(ps->text + ps->pos, ref.end - ps->pos, fname);
	ps->pos = ref.end;
	nd.field = (uint16_t)ref.id;
	if (ref.key_len) {
		r = pool_add(ps, ps->text + ref.key_off, ref.key_len, &nd.key);
		if (r < 0)
			return r;
		nd.key_len = (uint32_t)ref.key_len;
		if (ref.arg)
			nd.flags |= NF_ARG;
	}

	skip_space(ps);
	opos = ps->pos;
	r = parse_op(ps, fname, &op);
	if (r < 0)
		return r;
	nd.op = (uint8_t)op;
	r = check_op(ps, opos, fd, op, fname);
	if (r < 0)
		return r;
	if (fd->type == VG_FILTER_NUM && !(fd->flags & FD_RES))
		nd.flags |= NF_NUM;
	if (fd->flags & (FD_MULTI | FD_LIST))
		nd.flags |= NF_MULTI;
	if (fd->flags & FD_LIST)
		nd.flags |= NF_LIST;
	if (fd->flags & FD_IPNET)
		nd.flags |= NF_IPNET;
	if (fd->flags & FD_IPADDR)
		nd.flags |= NF_IPADDR;
	if (fd->flags & FD_EITHER)
		nd.flags |= NF_EITHER;

	nd.lit = (uint32_t)ps->n_lits;
	if (op_takes_list(op)) {
		skip_space(ps);
		if (ps->pos == ps->len || ps->text[ps->pos] != '(')
			return fail(ps, ps->pos, "expected '(' after '%s', found %s",
				    op_names[op], found(ps, ps->pos, b, sizeof(b)));
		r = parse_list(ps, &nd);
	} else if (op != OP_EXISTS) {
		r = parse_literal(ps, &nd, op_names[op]);
		nd.n_lits = 1;
	}
	if (r < 0)
		return r;
	if (fd->flags & FD_RES)
		settle_res(ps, &nd);
	if (nd.field == VG_F_EVT_TYPE && !(nd.flags & NF_NUM))
		for (uint32_t k = 0; k < nd.n_lits; k++)
			actions |= ps->lits[nd.lit + k].n != 0;
	if (actions)
		return expand_types(ps, &nd);
	r = sort_list(ps, &nd);
	if (r < 0)
		return r;
	return insert_node(ps, ps->n_nodes, &nd);
}

static int parse_chain(struct parser *ps, enum kind kind);

static int enter(struct parser *ps, size_t pos)
{
	if (++ps->depth > VG_FILTER_MAX_DEPTH)
		return fail(ps, pos, "nesting deeper than %d levels ('(' and 'not' each open one)",
			    VG_FILTER_MAX_DEPTH);
	return 0;
}

static int parse_unary(struct parser *ps)
{
	size_t at = ps->n_nodes, open;
	char b[64];
	int r;

	if (at_keyword(ps, "not")) {
		r = enter(ps, ps->pos);
		if (r < 0)
			return r;
		ps->pos += 3;
		r = insert_node(ps, at, &(struct node){ .kind = N_NOT });
		if (r < 0)
			return r;
		r = parse_unary(ps);
		if (r < 0)
			return r;
		ps->nodes[at].size = (uint32_t)(ps->n_nodes - at);
		ps->depth--;
		return 0;
	}
	if (ps->pos == ps->len || ps->text[ps->pos] != '(')
		return parse_cmp(ps);
	open = ps->pos;
	r = enter(ps, open);
	if (r < 0)
		return r;
	ps->pos++;
	r = parse_chain(ps, N_OR);
	if (r < 0)
		return r;
	skip_space(ps);
	if (ps->pos == ps->len || ps->text[ps->pos] != ')')
		return fail(ps, ps->pos,
			    "expected 'and', 'or' or ')' to close the '(' at column %zu, found %s",
			    open + 1, found(ps, ps->pos, b, sizeof(b)));
	ps->pos++;
	ps->depth--;
	return 0;
}

static int parse_operand(struct parser *ps, enum kind kind)
{
	return kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
}

/* A chain of operands joined by 'or' (of 'and' chains) or 'and' (of
 * unary terms), as one node over them all. Only the keyword after the
 * first operand shows that a chain starts, so its node is slipped in
 * before that operand: a move of the operand's subtree, at most once for
 * each level of nesting above a node. */
static int parse_chain(struct parser *ps, enum kind kind)
{
	const char *kw = kind == N_OR ? "or" : "and";
	size_t start = ps->n_nodes;
	int r;

	r = parse_operand(ps, kind);
	if (r < 0 || !at_keyword(ps, kw))
		return r;
	r = insert_node(ps, start, &(struct node){ .kind = (uint8_t)kind });
	if (r < 0)
		return r;
	while (at_keyword(ps, kw)) {
		ps->pos += strlen(kw);
		r = parse_operand(ps, kind);
		if (r < 0)
			return r;
	}
	ps->nodes[start].size = (uint32_t)(ps->n_nodes - start);
	return 0;
}

static int check_text(struct parser *ps)
{
	char b[64];
	int r;

	for (size_t i = 0; i < ps->len; i++)
		if (is_control(ps->text[i]) && !is_space(ps->text[i]))
			return fail(ps, i, "control character 0x%02x",
				    (unsigned char)ps->text[i]);
	r = parse_chain(ps, N_OR);
	if (r < 0)
		return r;
	skip_space(ps);
	if (ps->pos < ps->len)
		return fail(ps, ps->pos, "expected 'and', 'or' or end of input, found %s",
			    found(ps, ps->pos, b, sizeof(b)));
	return 0;
}

#define ALIGN_TO(x, a) (((x) + (a) - 1) / (a) * (a))

int vg_filter_compile(const char *text, struct vg_filter **ret,
		      struct vg_filter_error *err)
{
	struct parser ps = { .text = text, .err = err };
	size_t off_nodes, off_lits, off_pool, total;
	struct vg_filter *f;
	char *block;
	int r;

	if (err) {
		err->column = 0;
		err->msg[0] = '\0';
	}
	if (!text || !ret) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "no filter text");
		return -EINVAL;
	}
	ps.len = strnlen(text, VG_FILTER_MAX_LEN + 1);
	if (ps.len > VG_FILTER_MAX_LEN) {
		r = fail(&ps, VG_FILTER_MAX_LEN,
			 "expected at most %d bytes of filter, found more",
			 VG_FILTER_MAX_LEN);
		goto out;
	}
	r = check_text(&ps);
	if (r < 0)
		goto out;

	off_nodes = ALIGN_TO(sizeof(*f), _Alignof(struct node));
	off_lits = ALIGN_TO(off_nodes + ps.n_nodes * sizeof(struct node),
			    _Alignof(struct lit));
	off_pool = off_lits + ps.n_lits * sizeof(struct lit);
	total = off_pool + ps.pool_len + 1;
	block = malloc(total);
	if (!block) {
		r = -ENOMEM;
		goto out;
	}
	f = (struct vg_filter *)block;
	memcpy(block + off_nodes, ps.nodes, ps.n_nodes * sizeof(struct node));
	if (ps.n_lits)
		memcpy(block + off_lits, ps.lits, ps.n_lits * sizeof(struct lit));
	if (ps.pool_len)
		memcpy(block + off_pool, ps.pool, ps.pool_len);
	block[off_pool + ps.pool_len] = '\0';
	f->nodes = (const struct node *)(block + off_nodes);
	f->lits = (const struct lit *)(block + off_lits);
	f->pool = block + off_pool;
	f->n_nodes = ps.n_nodes;
	*ret = f;
out:
	if (r == -ENOMEM && err) {
		err->column = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	free(ps.nodes);
	free(ps.lits);
	free(ps.pool);
	return r;
}

/* ---- evaluation ------------------------------------------------------- */

static bool bytes_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* memcmp's order, then the shorter first: strcmp's on strings without
 * a NUL, which is what Falco's <, <=, >, >= on text do. */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;

	return c ? c : (an > bn) - (an < bn);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* icontains: ASCII letters in either case, other bytes as they are. */
static bool icontains(const char *s, size_t n, const char *p, size_t m)
{
	if (m == 0)
		return true;
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;

		while (j < m && lower(s[i + j]) == lower(p[j]))
			j++;
		if (j == m)
			return true;
	}
	return false;
}

static inline __attribute__((always_inline)) bool
class_match(const char *p, size_t i, size_t end, unsigned char c, bool fold)
{
	bool neg = p[i] == '!', hit = false;
	unsigned char lc = (unsigned char)lower((char)c), uc = (unsigned char)upper((char)c);

	i += neg;
	/* the first member may be ']': it is before @end, the closing one */
	while (i < end) {
		unsigned char lo = (unsigned char)p[i], hi = lo;

		if (i + 2 < end && p[i + 1] == '-') {
			hi = (unsigned char)p[i + 2];
			i += 3;
		} else {
			i++;
		}
		if ((lo <= c && c <= hi) ||
		    (fold && ((lo <= lc && lc <= hi) || (lo <= uc && uc <= hi))))
			hit = true;
	}
	return hit != neg;
}

/*
 * Iterative, with one backtrack point: the last '*' seen. An earlier
 * star never needs to be revisited, since the later one can absorb
 * whatever it would have, so the cost is at most pattern × subject,
 * never exponential. Inlined where it is called, so that glob pays
 * nothing for iglob's case folding.
 */
static inline __attribute__((always_inline)) bool glob_match(const char *p, size_t pn, const char *s, size_t sn,
		       bool fold)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn) {
			char c = p[pi];
			size_t end;

			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			end = c == '[' ? class_end(p, pn, pi + 1) : 0;
			if (end ? class_match(p, pi + 1, end - 1,
					      (unsigned char)s[si], fold)
				: c == s[si] || (fold && lower(c) == lower(s[si]))) {
				pi = end ? end : pi + 1;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* The next '/'-separated component of s[*i..n), skipping empty ones;
 * false at the end. */
static bool next_component(const char *s, size_t n, size_t *i, size_t *ret_at,
			   size_t *ret_len)
{
	size_t j;

	while (*i < n && s[*i] == '/')
		(*i)++;
	if (*i == n)
		return false;
	for (j = *i; j < n && s[j] != '/'; j++)
		;
	*ret_at = *i;
	*ret_len = j - *i;
	*i = j;
	return true;
}

/* Falco's pmatch: @p's components are the first ones of @s's; one of
 * @p's with a wildcard is a glob over one component of @s. */
static bool path_prefix(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, pa, pl, sa, sl;

	while (next_component(p, pn, &pi, &pa, &pl)) {
		bool wild = false;

		if (!next_component(s, sn, &si, &sa, &sl))
			return false;
		for (size_t k = 0; k < pl && !wild; k++)
			wild = p[pa + k] == '*' || p[pa + k] == '?' || p[pa + k] == '[';
		if (wild ? !glob_match(p + pa, pl, s + sa, sl, false)
			 : !bytes_eq(p + pa, pl, s + sa, sl))
			return false;
	}
	return true;
}

/* Inlined, as str_holds() and value_holds(): a call each comparison
 * costs a tenth of a simple match. */
static inline __attribute__((always_inline)) bool
num_holds(enum op op, int64_t v, const struct lit *l, size_t n, bool sorted)
{
	switch (op) {
	case OP_EQ:
		return v == l->n;
	case OP_NE:
		return v != l->n;
	case OP_LT:
		return v < l->n;
	case OP_LE:
		return v <= l->n;
	case OP_GT:
		return v > l->n;
	case OP_GE:
		return v >= l->n;
	case OP_IN:
	case OP_INTERSECTS:
		if (sorted) {
			const struct lit *a = l + n;
			size_t lo = 0, hi = n;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (a[mid].n == v)
					return true;
				if (a[mid].n < v)
					lo = mid + 1;
				else
					hi = mid;
			}
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (v == l[i].n)
				return true;
		return false;
	default:
		return false;
	}
}

static inline __attribute__((always_inline)) bool
str_holds(const struct vg_filter *f, enum op op, const char *s, size_t len,
	  const struct lit *l, size_t n, bool sorted)
{
	/* an empty list has no first value to read */
	const char *ls = n ? f->pool + l->s : NULL;

	switch (op) {
	case OP_EQ:
		return bytes_eq(s, len, ls, l->len);
	case OP_NE:
		return !bytes_eq(s, len, ls, l->len);
	case OP_LT:
		return bytes_cmp(s, len, ls, l->len) < 0;
	case OP_LE:
		return bytes_cmp(s, len, ls, l->len) <= 0;
	case OP_GT:
		return bytes_cmp(s, len, ls, l->len) > 0;
	case OP_GE:
		return bytes_cmp(s, len, ls, l->len) >= 0;
	case OP_IN:
	case OP_INTERSECTS:
		if (sorted) {
			const struct lit *a = l + n;
			size_t lo = 0, hi = n;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				int c = a[mid].len != len
						? (a[mid].len < len ? -1 : 1)
						: len ? memcmp(f->pool + a[mid].s, s, len) : 0;

				if (c == 0)
					return true;
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (bytes_eq(s, len, f->pool + l[i].s, l[i].len))
				return true;
		return false;
	case OP_PMATCH:
		for (size_t i = 0; i < n; i++)
			if (path_prefix(f->pool + l[i].s, l[i].len, s, len))
				return true;
		return false;
	case OP_CONTAINS:
	case OP_BCONTAINS:
		return l->len == 0 ||
		       (len >= l->len && memmem(s, len, ls, l->len) != NULL);
	case OP_ICONTAINS:
		return icontains(s, len, ls, l->len);
	case OP_STARTSWITH:
	case OP_BSTARTSWITH:
		return len >= l->len && bytes_eq(s, l->len, ls, l->len);
	case OP_ENDSWITH:
		return len >= l->len &&
		       bytes_eq(s + len - l->len, l->len, ls, l->len);
	case OP_GLOB:
		return glob_match(ls, l->len, s, len, false);
	case OP_IGLOB:
		return glob_match(ls, l->len, s, len, true);
	default:
		return false;
	}
}

/* Falco's names of errno values, as its evt.res gives them. */
#define E(n, name) [n] = { #name, sizeof(#name) - 1 }
static const struct {
	const char *name;
	uint8_t len;
} errno_names[] = {
	E(1, EPERM), E(2, ENOENT), E(3, ESRCH), E(4, EINTR), E(5, EIO),
	E(6, ENXIO), E(7, E2BIG), E(8, ENOEXEC), E(9, EBADF), E(10, ECHILD),
	E(11, EAGAIN), E(12, ENOMEM), E(13, EACCES), E(14, EFAULT),
	E(15, ENOTBLK), E(16, EBUSY), E(17, EEXIST), E(18, EXDEV),
	E(19, ENODEV), E(20, ENOTDIR), E(21, EISDIR), E(22, EINVAL),
	E(23, ENFILE), E(24, EMFILE), E(25, ENOTTY), E(26, ETXTBSY),
	E(27, EFBIG), E(28, ENOSPC), E(29, ESPIPE), E(30, EROFS),
	E(31, EMLINK), E(32, EPIPE), E(33, EDOM), E(34, ERANGE),
	E(35, EDEADLK), E(36, ENAMETOOLONG), E(37, ENOLCK), E(38, ENOSYS),
	E(39, ENOTEMPTY), E(40, ELOOP), E(42, ENOMSG), E(43, EIDRM),
	E(44, ECHRNG), E(45, EL2NSYNC), E(46, EL3HLT), E(47, EL3RST),
	E(48, ELNRNG), E(49, EUNATCH), E(50, ENOCSI), E(51, EL2HLT),
	E(52, EBADE), E(53, EBADR), E(54, EXFULL), E(55, ENOANO),
	E(56, EBADRQC), E(57, EBADSLT), E(59, EBFONT), E(60, ENOSTR),
	E(61, ENODATA), E(62, ETIME), E(63, ENOSR), E(64, ENONET),
	E(65, ENOPKG), E(66, EREMOTE), E(67, ENOLINK), E(68, EADV),
	E(69, ESRMNT), E(70, ECOMM), E(71, EPROTO), E(72, EMULTIHOP),
	E(73, EDOTDOT), E(74, EBADMSG), E(75, EOVERFLOW), E(76, ENOTUNIQ),
	E(77, EBADFD), E(78, EREMCHG), E(79, ELIBACC), E(80, ELIBBAD),
	E(81, ELIBSCN), E(82, ELIBMAX), E(83, ELIBEXEC), E(84, EILSEQ),
	E(85, ERESTART), E(86, ESTRPIPE), E(87, EUSERS), E(88, ENOTSOCK),
	E(89, EDESTADDRREQ), E(90, EMSGSIZE), E(91, EPROTOTYPE),
	E(92, ENOPROTOOPT), E(93, EPROTONOSUPPORT), E(94, ESOCKTNOSUPPORT),
	E(95, EOPNOTSUPP), E(96, EPFNOSUPPORT), E(97, EAFNOSUPPORT),
	E(98, EADDRINUSE), E(99, EADDRNOTAVAIL), E(100, ENETDOWN),
	E(101, ENETUNREACH), E(102, ENETRESET), E(103, ECONNABORTED),
	E(104, ECONNRESET), E(105, ENOBUFS), E(106, EISCONN),
	E(107, ENOTCONN), E(108, ESHUTDOWN), E(109, ETOOMANYREFS),
	E(110, ETIMEDOUT), E(111, ECONNREFUSED), E(112, EHOSTDOWN),
	E(113, EHOSTUNREACH), E(114, EALREADY), E(115, EINPROGRESS),
	E(116, ESTALE), E(117, EUCLEAN), E(118, ENOTNAM), E(119, ENAVAIL),
	E(120, EISNAM), E(121, EREMOTEIO), E(122, EDQUOT), E(123, ENOMEDIUM),
	E(124, EMEDIUMTYPE), E(125, ECANCELED), E(512, ERESTARTSYS),
	E(513, ERESTARTNOINTR), E(514, ERESTARTNOHAND), E(515, ENOIOCTLCMD),
	E(516, ERESTART_RESTARTBLOCK), E(521, EBADHANDLE), E(522, ENOTSYNC),
	E(523, EBADCOOKIE), E(524, ENOTSUPP), E(525, ETOOSMALL),
	E(526, ESERVERFAULT), E(527, EBADTYPE), E(528, EJUKEBOX),
	E(529, EIOCBQUEUED), E(530, EIOCBRETRY),
};
#undef E

/* A result as Falco's evt.res: "SUCCESS", the errno's name, or the
 * number for one without a name. */
static size_t res_text(int64_t n, char buf[static 24], const char **ret)
{
	uint64_t u;
	char *e;

	if (n >= 0) {
		*ret = "SUCCESS";
		return 7;
	}
	u = 0 - (uint64_t)n;
	if (u < VG_ARRAY_SIZE(errno_names) && errno_names[u].name) {
		*ret = errno_names[u].name;
		return errno_names[u].len;
	}
	buf[0] = '-';
	e = vg_u64_to_str(u, buf + 1);
	*ret = buf;
	return (size_t)(e - buf);
}

/* Whether the address @a ([family][address]) is the value @b (IP_BIN
 * bytes): inside it for a network, the same for an address. */
static bool ip_in(const uint8_t *b, const uint8_t *a)
{
	unsigned bits = b[1], full = bits / 8, rest = bits % 8;

	if (b[0] != a[0] ||
	    (full && memcmp(b + 2, a + 1, full) != 0))
		return false;
	return !rest || !((b[2 + full] ^ a[1 + full]) & (0xff00u >> rest) & 0xff);
}

/* An IP field: = and in, inside one of the values; != outside it. An
 * address of the other family is outside, as in Falco. */
static bool ip_holds(const struct vg_filter *f, const struct node *nd,
		     enum op op, const struct vg_fval *v)
{
	uint8_t a[17];
	bool hit = false;

	if (!v->s || !ip_parse(v->s, v->len, a))
		return false;
	for (uint32_t k = 0; k < nd->n_lits && !hit; k++)
		hit = ip_in((const uint8_t *)f->pool + f->lits[nd->lit + k].n, a);
	return op == OP_NE ? !hit : hit;
}

/* @nd's comparison on one value of its field. */
static inline __attribute__((always_inline)) bool value_holds(const struct vg_filter *f, const struct node *nd,
			enum op op, const struct vg_fval *v)
{
	const struct lit *l = f->lits + nd->lit;
	char b[24];
	const char *s = v->s;
	size_t len = s ? v->len : 0;

	if (nd->flags & NF_NUM)
		return num_holds(op, v->n, l, nd->n_lits, nd->flags & NF_SORTED);
	if (nd->flags & (NF_IPNET | NF_IPADDR))
		return ip_holds(f, nd, op, v);
	if (nd->flags & NF_TEXT)
		len = res_text(v->n, b, &s);
	return str_holds(f, op, s, len, l, nd->n_lits, nd->flags & NF_SORTED);
}

static bool cmp_holds(const struct vg_filter *f, const struct node *nd,
		      vg_filter_get_fn get, void *ctx)
{
	const char *key = nd->key_len ? f->pool + nd->key : NULL;
	struct vg_fval v = { .s = NULL };
	uint32_t i;
	bool all;

	if (!get)
		return false;
	if (!(nd->flags & NF_MULTI)) {
		if (get(ctx, nd->field, key, nd->key_len, &v) <= 0)
			return false;
		return nd->op == OP_EXISTS || value_holds(f, nd, nd->op, &v);
	}
	/* a list field's 'in', and '!=' on either end of a connection:
	 * every value must pass; otherwise one is enough */
	all = ((nd->flags & NF_LIST) && nd->op == OP_IN) ||
	      ((nd->flags & NF_EITHER) && nd->op == OP_NE);
	for (i = 0; i < VG_FILTER_MAX_VALUES; i++) {
		v = (struct vg_fval){ .idx = i };
		if (get(ctx, nd->field, key, nd->key_len, &v) <= 0)
			break;
		if (nd->op == OP_EXISTS)
			return true;
		if (value_holds(f, nd, nd->op, &v) != all)
			return !all;
	}
	return i > 0 && all;
}

static bool eval(const struct vg_filter *f, size_t i, vg_filter_get_fn get,
		 void *ctx)
{
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;

	switch (nd->kind) {
	case N_AND:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			if (!eval(f, c, get, ctx))
				return false;
		return true;
	case N_OR:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			if (eval(f, c, get, ctx))
				return true;
		return false;
	case N_NOT:
		return !eval(f, i + 1, get, ctx);
	default:
		return cmp_holds(f, nd, get, ctx);
	}
}

bool vg_filter_match(const struct vg_filter *f, vg_filter_get_fn get,
		     void *ctx)
{
	return !f || eval(f, 0, get, ctx);
}

/* ---- the rest --------------------------------------------------------- */

static uint64_t type_mask(const struct vg_filter *f, size_t i,
			  uint64_t (*type_bits)(const char *name, void *ctx),
			  void *ctx)
{
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;
	uint64_t m;

	switch (nd->kind) {
	case N_AND:
		m = UINT64_MAX;
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			m &= type_mask(f, c, type_bits, ctx);
		return m;
	case N_OR:
		m = 0;
		for (size_t c = i + 1; c < end; c += f->nodes[c].size)
			m |= type_mask(f, c, type_bits, ctx);
		return m;
	case N_CMP:
		if (nd->field != VG_F_EVT_TYPE ||
		    (nd->op != OP_EQ && nd->op != OP_IN &&
		     nd->op != OP_INTERSECTS))
			return UINT64_MAX;
		m = 0;
		for (size_t k = 0; k < nd->n_lits; k++)
			m |= type_bits(f->pool + f->lits[nd->lit + k].s, ctx);
		return m;
	default:
		return UINT64_MAX;
	}
}

uint64_t vg_filter_type_mask(const struct vg_filter *f,
			     uint64_t (*type_bits)(const char *name, void *ctx),
			     void *ctx)
{
	if (!f || !type_bits)
		return UINT64_MAX;
	return type_mask(f, 0, type_bits, ctx);
}

bool vg_filter_uses_field(const struct vg_filter *f, int field_id)
{
	for (size_t i = 0; f && i < f->n_nodes; i++)
		if (f->nodes[i].kind == N_CMP && f->nodes[i].field == field_id)
			return true;
	return false;
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 < o->size) {
		size_t room = o->size - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void puts_out(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Bare when it reads back as the same word: printable ASCII that does
 * not end a word or open an escape. */
static bool bare_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || is_delim(s[i]) || s[i] == '\\')
			return false;
	return true;
}

/* @s in double quotes, escaped so that it reads back as the same bytes. */
static void put_quoted(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		char x[4] = { '\\', 'x', hex[(unsigned char)s[i] >> 4],
			      hex[(unsigned char)s[i] & 15] };

		switch (s[i]) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		}
		if (e)
			put(o, e, 2);
		else if (is_control(s[i]))
			put(o, x, 4);
		else
			put(o, s + i, 1);
	}
	put(o, "\"", 1);
}

static void put_lit(struct out *o, const struct vg_filter *f,
		    const struct node *nd, const struct lit *l)
{
	const char *s = f->pool + l->s;

	if (nd->flags & NF_NUM) {
		char b[24], *e;
		uint64_t u = l->n < 0 ? 0 - (uint64_t)l->n : (uint64_t)l->n;

		e = vg_u64_to_str(u, b + 1);
		b[0] = '-';
		if (l->n < 0)
			put(o, b, (size_t)(e - b));
		else
			put(o, b + 1, (size_t)(e - b - 1));
		return;
	}
	if (nd->op == OP_BCONTAINS || nd->op == OP_BSTARTSWITH) {
		static const char hex[] = "0123456789abcdef";

		if (!l->len)
			put(o, "\"\"", 2);
		for (size_t i = 0; i < l->len; i++) {
			put(o, &hex[(unsigned char)s[i] >> 4], 1);
			put(o, &hex[(unsigned char)s[i] & 15], 1);
		}
		return;
	}
	if (bare_ok(s, l->len))
		put(o, s, l->len);
	else
		put_quoted(o, s, l->len);
}

/* The field of @nd, with its key or argument. */
static void put_field(struct out *o, const struct vg_filter *f,
		      const struct node *nd)
{
	const struct field_def *fd = &fields[nd->field];
	const char *k = f->pool + nd->key;
	bool word = true, bare = true, dq = false;

	if (!nd->key_len) {
		puts_out(o, fd->name);
		return;
	}
	for (size_t i = 0; i < nd->key_len; i++) {
		word &= is_word(k[i]);
		bare &= !is_space(k[i]) && !is_quote(k[i]) && k[i] != '[' &&
			k[i] != ']';
		dq |= k[i] == '"';
	}
	if (fd->prefix_len && word) {
		put(o, fd->name, fd->prefix_len);
		put(o, k, nd->key_len);
		return;
	}
	put(o, fd->name, fd->prefix_len ? fd->prefix_len - 1 : strlen(fd->name));
	put(o, "[", 1);
	/* an argument has no escapes: quoted in the quote it does not hold */
	if (bare) {
		put(o, k, nd->key_len);
	} else {
		put(o, dq ? "'" : "\"", 1);
		put(o, k, nd->key_len);
		put(o, dq ? "'" : "\"", 1);
	}
	put(o, "]", 1);
}

static void format_node(struct out *o, const struct vg_filter *f, size_t i,
			int parent)
{
	/* precedence: or < and < not < a comparison */
	static const int prec[] = { [N_OR] = 1, [N_AND] = 2, [N_NOT] = 3, [N_CMP] = 4 };
	const struct node *nd = &f->nodes[i];
	size_t end = i + nd->size;
	bool paren = prec[nd->kind] < parent;
	const struct lit *l;

	if (paren)
		put(o, "(", 1);
	switch (nd->kind) {
	case N_AND:
	case N_OR:
		for (size_t c = i + 1; c < end; c += f->nodes[c].size) {
			if (c > i + 1)
				puts_out(o, nd->kind == N_OR ? " or " : " and ");
			format_node(o, f, c, prec[nd->kind]);
		}
		break;
	case N_NOT:
		puts_out(o, "not ");
		format_node(o, f, i + 1, prec[N_NOT]);
		break;
	default:
		put_field(o, f, nd);
		put(o, " ", 1);
		puts_out(o, op_names[nd->op]);
		l = f->lits + nd->lit;
		if (op_takes_list(nd->op)) {
			put(o, " (", 2);
			for (size_t k = 0; k < nd->n_lits; k++) {
				if (k)
					put(o, ", ", 2);
				put_lit(o, f, nd, &l[k]);
			}
			put(o, ")", 1);
		} else if (nd->op != OP_EXISTS) {
			put(o, " ", 1);
			put_lit(o, f, nd, l);
		}
		break;
	}
	if (paren)
		put(o, ")", 1);
}

int vg_filter_format(const struct vg_filter *f, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = buf ? size : 0 };

	if (f)
		format_node(&o, f, 0, 0);
	if (o.size)
		buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return o.len > INT_MAX ? INT_MAX : (int)o.len;
}
