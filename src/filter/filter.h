/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_FILTER_FILTER_H
#define VG_FILTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Event filters, in the expression language of Falco's conditions (the
 * language of Falco's rule files that require engine 0.57.0):
 *
 *   evt.type in (execve, open) and container.image glob "busy*"
 *     and not proc.name = sh and proc.aname[2] in (sshd, 'cron')
 *
 * FIELD OP VALUE, FIELD OP (V, ...), FIELD exists; joined with and, or,
 * not (binding in that order: not tightest, or loosest) and parentheses.
 * Keywords and operators are lowercase.
 *
 * Fields. A field may take an argument in brackets right after its name:
 * proc.aname[2], container.mount.dest[/proc*], a bare text of anything
 * but space, quotes and brackets, or a quoted string. Whether a field
 * takes none, an optional or a required one, and whether it is a number,
 * is the field's. The keyed fields take their key after the prefix,
 * container.label.KEY (letters, digits and . _ / -), or in brackets,
 * container.label[KEY]. A Falco field vigil cannot provide is refused
 * with the reason ("fd.sip.name: not available in vigil: ..."), never
 * compiled into a comparison that is silently false.
 *
 * Operators, with Falco's meaning:
 *   = (or ==), !=      equal; <, <=, >, >= numbers, or bytes for strings
 *   contains, startswith, endswith      bytes
 *   icontains          contains, ASCII letters in either case (no locale)
 *   bcontains, bstartswith   the value is hex, two digits a byte
 *                      ("bcontains cafebabe"), compared as bytes
 *   glob, iglob        '*', '?', "[...]", "[!...]" over bytes ('*' also
 *                      crosses '/'); iglob folds ASCII case; no escape:
 *                      "[*]" is a literal star
 *   in (V, ...)        equal to one of the values
 *   intersects (V, ...) as in; on a list field, any of its values in the
 *                      set (and 'in': every value in the set)
 *   pmatch (P, ...)    path prefix: P's '/'-separated components are the
 *                      first ones of the value's ("/etc" matches "/etc"
 *                      and "/etc/x", not "/etcx"; empty components are
 *                      skipped); a component of P with * ? or [ is a glob
 *                      over one component
 *   exists             the event has the field
 * regex is Falco's too, and refused with the reason: no POSIX regex
 * engine here that is free of the locale and of allocation.
 * Lists may be empty, "in ()", which nothing matches, and may hold
 * parenthesised lists, flattened: "(a, (b, c))" is "(a, b, c)".
 *
 * Values. A bare word runs up to a space, '(', ')', ',' or a quote (and
 * may hold '\', as in Falco: "endswith \)" is a backslash before the
 * ')'). A quoted string is in double or single quotes with Falco's
 * escapes: \\ \/ \b \f \n \r \t \xHH, \" in "..." and \' in '...',
 * and Falco's "\ " which is a backslash. As in Falco, "evt.dir=<" is
 * the operator = and the value <. Number fields take decimal or
 * 0x hex integers, quoted or not. evt.type values are Falco's syscall
 * names or vigil's (see vg_filter_compile()).
 *
 * evt.res is Falco's: the text "SUCCESS" for a result >= 0, the errno's
 * name ("ENOENT") for a failure, so "evt.res = EINPROGRESS" and
 * "evt.res startswith E" work as in Falco. An integer value compares
 * the number instead ("evt.res = -2", "evt.res < 0"): where Falco would
 * compare the text "-2" with "ENOENT", vigil compares what was meant.
 *
 * Multi-valued fields (proc.aname without an index: every ancestor) are
 * true when the comparison is true for any value; Falco's list fields
 * take only in (all values in the set), intersects (any) and exists.
 * Fields of either end of a connection (fd.ip, fd.port, fd.net) are true
 * for =, in, <... when one end is, and for != when both ends are.
 *
 * IP fields take =, !=, in, intersects and exists. An address field
 * (fd.ip) compares addresses, not texts ("::1" is "0:0::1"); a network
 * field (fd.net, fd.snet) takes networks, "10.0.0.0/8", or addresses,
 * and = and in test that the address is inside one. An address of the
 * other family is inside none, as in Falco.
 *
 * A field the event lacks makes every comparison on it false, '!=' and
 * 'in' included, and 'exists' false; only 'not' turns that into a match.
 * So "proc.name != sh" passes only events that have a name that is not
 * sh, while "not proc.name = sh" also passes events without one.
 */

/* Bounds on what a compile accepts: beyond them a filter is an error,
 * never a deep recursion or an unbounded allocation. Both '(' and 'not'
 * count as one level of nesting. */
#define VG_FILTER_MAX_LEN   (64 * 1024)   /* bytes of expression text */
#define VG_FILTER_MAX_DEPTH 64
#define VG_FILTER_MAX_LIST  1024          /* values in one "in (...)" */
#define VG_FILTER_MAX_VALUES 4096         /* of one multi-valued field */

/* The fields, in the order vg_filter_field_name() lists them. */
enum vg_filter_field {
	VG_F_EVT_TYPE,
	VG_F_EVT_TIME,          /* ns */
	VG_F_EVT_CPU,
	VG_F_EVT_RES,
	VG_F_PROC_PID,
	VG_F_PROC_TID,
	VG_F_PROC_PPID,
	VG_F_PROC_NAME,
	VG_F_PROC_EXE,
	VG_F_PROC_ARGS,         /* argv after argv[0], joined with spaces */
	VG_F_PROC_CMDLINE,
	VG_F_PROC_CWD,
	VG_F_PROC_EXEC_ID,
	VG_F_USER_UID,
	VG_F_GROUP_GID,
	VG_F_FD_NAME,
	VG_F_FD_SIP,            /* the server side (as Falco): connect's peer */
	VG_F_FD_SPORT,
	VG_F_FD_CIP,            /* the client side: accept's peer */
	VG_F_FD_CPORT,
	VG_F_CONTAINER_ID,
	VG_F_CONTAINER_NAME,
	VG_F_CONTAINER_RUNTIME,
	VG_F_CONTAINER_IMAGE,
	VG_F_CONTAINER_IMAGE_ID,
	VG_F_CONTAINER_LABEL,   /* container.label.<key> */
	VG_F_K8S_NS_NAME,
	VG_F_K8S_POD_NAME,
	VG_F_K8S_POD_UID,
	VG_F_K8S_POD_LABEL,     /* k8s.pod.label.<key> */
	VG_F_K8S_CONTAINER_NAME,
	VG_F_CGROUP_ID,
	VG_F_FILE_ACTION,       /* file events: create, write, delete... */
	VG_F_CONTAINER_VERIFICATION, /* runtime, enclosing, user, pending, failed */
	/* Falco's, filled from what vigil knows (src/engine/fields.c) */
	VG_F_EVT_NUM,           /* the engine's number for the event, from 1 */
	VG_F_EVT_RAWRES,        /* the result as a number */
	VG_F_EVT_DIR,           /* "<": vigil reports a call once, at its exit */
	VG_F_EVT_IS_OPEN_READ,  /* "true"/"false" */
	VG_F_EVT_IS_OPEN_WRITE,
	VG_F_EVT_IS_OPEN_EXEC,
	VG_F_EVT_ARG,           /* evt.arg.<name>, evt.arg[N] */
	VG_F_PROC_EXEPATH,
	VG_F_PROC_PNAME,
	VG_F_PROC_PEXE,
	VG_F_PROC_PEXEPATH,
	VG_F_PROC_PCMDLINE,
	VG_F_PROC_ANAME,        /* proc.aname[N]; without N every ancestor */
	VG_F_PROC_APID,
	VG_F_PROC_AEXE,
	VG_F_PROC_AEXEPATH,
	VG_F_PROC_DURATION,     /* ns since the process started */
	VG_F_USER_NAME,         /* the host's /etc/passwd */
	VG_F_GROUP_NAME,        /* the host's /etc/group */
	VG_F_FD_NUM,
	VG_F_FD_TYPE,           /* file directory ipv4 ipv6 unix */
	VG_F_FD_TYPECHAR,       /* f d 4 6 u */
	VG_F_FD_DIRECTORY,
	VG_F_FD_FILENAME,
	VG_F_FD_L4PROTO,        /* tcp udp raw */
	VG_F_FD_LIP,            /* the local side, whichever the call */
	VG_F_FD_LPORT,
	VG_F_FD_RIP,            /* the remote side */
	VG_F_FD_RPORT,
	VG_F_FD_CONNECTED,      /* "true"/"false" */
	VG_F_CONTAINER_IMAGE_REPOSITORY,
	VG_F_CONTAINER_IMAGE_TAG,
	VG_F_CONTAINER_IMAGE_DIGEST,
	VG_F_CONTAINER_START_TS, /* ns since the epoch */
	VG_F_FD_NAMERAW,        /* the path as the call gave it */
	VG_F_PROC_TTY,          /* these four: /proc, while the process lives */
	VG_F_PROC_SNAME,
	VG_F_USER_LOGINUID,     /* -1: never set */
	VG_F_USER_LOGINNAME,
	VG_F_PROC_VPID,         /* /proc's NSpid, innermost */
	VG_F_THREAD_CAP_EFFECTIVE, /* /proc's: names, space-separated */
	VG_F_THREAD_CAP_PERMITTED,
	VG_F_THREAD_CAP_INHERITABLE,
	VG_F_FD_IP,             /* either end's address: many values */
	VG_F_FD_PORT,
	VG_F_FD_SOCKFAMILY,     /* ip, unix */
	VG_F_CONTAINER_PRIVILEGED, /* "true"/"false", where the runtime says */
	VG_F_FD_NET,            /* either end's address, against networks */
	VG_F_FD_SNET,           /* fd.sip's, fd.cip's, fd.lip's, fd.rip's */
	VG_F_FD_CNET,
	VG_F_FD_LNET,
	VG_F_FD_RNET,
	VG_F_PROC_IS_EXE_UPPER_LAYER,
	VG_F_PROC_IS_EXE_FROM_MEMFD,
	VG_F_COUNT
};

enum vg_filter_type {
	VG_FILTER_STR,
	VG_FILTER_NUM,
};

/* For --help: a field's name ("container.label.<key>" for the keyed
 * ones) and type. NULL, or VG_FILTER_STR, for an id out of range. */
const char *vg_filter_field_name(int field_id);
enum vg_filter_type vg_filter_field_type(int field_id);

struct vg_filter;

/* Where and why a compile failed. @column is 1-based, in bytes from the
 * start of the text (a newline does not restart it). */
struct vg_filter_error {
	int column;
	char msg[200];
};

/*
 * Compile @text into a filter; the caller frees *@ret with
 * vg_filter_free(). Literals are checked against the field's type and
 * converted here, once. evt.type values (=, != and in) are turned into
 * vigil's type names, so Falco's work: execve and execveat are exec;
 * open, openat, openat2 and creat are open; clone, clone3 and vfork are
 * fork; exit_group and procexit are exit; accept4 is accept. vigil's are
 * exec exit fork open connect accept bind listen syscall tp lost
 * container file. A Falco name that vigil observes as one of its types
 * with a file.action is expanded: "evt.type = rename" compiles to
 * "(evt.type = file and file.action = rename)". A Falco syscall vigil
 * does not trace is refused with the reason; any other name is an error.
 *
 * Returns 0; -EINVAL with @err (may be NULL) saying where and why, or
 * -ENOMEM. *@ret is untouched on failure.
 */
int vg_filter_compile(const char *text, struct vg_filter **ret,
		      struct vg_filter_error *err);

/*
 * Resolve one field reference, @len bytes at @name ("proc.aname[2]",
 * "container.label.app", "fd.name"), as the compiler does, with the same
 * errors (refusals included), for a rule's "%field" output. *@ret_id is
 * the field; *@ret_key_off and *@ret_key_len the bytes of @name that are
 * its key or argument (inside the quotes of a quoted argument), 0 and 0
 * for none. Returns 0, or -EINVAL with @err (may be NULL) and the
 * outputs untouched.
 */
int vg_filter_field_lookup(const char *name, size_t len, int *ret_id,
			   size_t *ret_key_off, size_t *ret_key_len,
			   struct vg_filter_error *err);

void vg_filter_free(struct vg_filter *f);

/*
 * A field's value, as the getter gives it: @s and @len for a string
 * field (@s need not be NUL-terminated, and needs to stay valid only
 * until the getter is called again or vg_filter_match() returns), @n for
 * a number field.
 */
struct vg_fval {
	const char *s;
	size_t len;
	int64_t n;
	/* in: which value of a multi-valued field is asked for, 0, 1, 2...;
	 * always 0 for the others, which ignore it */
	uint32_t idx;
};

/*
 * Returns 1 and fills *@ret when the event has the field, 0 when it does
 * not. @key and @key_len are the key of a keyed field or the [argument]
 * of a field given one (NUL-terminated too), NULL and 0 for the others.
 * A multi-valued field is asked again with @ret->idx 1, 2... until it
 * returns 0 (at most VG_FILTER_MAX_VALUES values are read). Called once for each
 * comparison the evaluation reaches, so a getter with costly fields
 * caches them, or skips them when vg_filter_uses_field() says so.
 */
typedef int (*vg_filter_get_fn)(void *ctx, int field_id, const char *key,
				size_t key_len, struct vg_fval *ret);

/* Whether the event @get describes passes @f. A NULL filter passes
 * everything. Allocates nothing, and calls nothing locale-dependent. */
bool vg_filter_match(const struct vg_filter *f, vg_filter_get_fn get,
		     void *ctx);

/*
 * The canonical text of @f, like snprintf(): at most @size bytes with
 * the NUL at @buf (NULL when @size is 0), and returns the length the
 * whole text needs. Parentheses only where precedence needs them, one
 * space around operators, values quoted only when they have to be, and
 * evt.type values in vigil's names; the text compiles to a filter whose
 * text is the same. A NULL filter is "".
 */
int vg_filter_format(const struct vg_filter *f, char *buf, size_t size);

/*
 * The event types @f can pass, for the in-kernel type mask: the union of
 * @type_bits(name) over the evt.type names of "evt.type = x" and
 * "evt.type in (...)", intersected across 'and', united across 'or';
 * anything else ('not', '!=', glob, other fields) may pass any type and
 * gives all ones, as does a NULL filter. @type_bits gets vigil's type
 * names, NUL-terminated.
 */
uint64_t vg_filter_type_mask(const struct vg_filter *f,
			     uint64_t (*type_bits)(const char *name, void *ctx),
			     void *ctx);

/* Whether any comparison of @f reads @field_id; false for NULL. */
bool vg_filter_uses_field(const struct vg_filter *f, int field_id);

#endif
