/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_EVENT_EVENT_H
#define VG_EVENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_attribution;

/*
 * The one event model: what a source decodes its records into, whatever
 * the source (eBPF, audit, a replay), and what the engine, the filters
 * and the renderers read. Strings point into the source's record (or a
 * held copy) and are valid while the event is dispatched.
 *
 * Types have the kernel's numbers where the kernel makes them (so a mask
 * of them is the eBPF side's own), and user space's above. One type is
 * one bit of a 64-bit mask.
 */

enum vg_event_type {
	VG_E_NONE = 0,
	VG_E_FORK = 1,
	VG_E_EXEC = 2,
	VG_E_EXIT = 3,
	VG_E_OPEN = 4,
	VG_E_CONNECT = 5,
	VG_E_ACCEPT = 6,
	VG_E_BIND = 7,
	VG_E_LISTEN = 8,
	VG_E_SYSCALL = 9,
	VG_E_TP = 10,
	VG_E_EXEC_ARGS = 11,    /* the kernel's: an exec's argv (no event) */
	VG_E_CGROUP_MKDIR = 12, /* internal: a cgroup appeared */
	VG_E_CGROUP_RMDIR = 13, /* internal: a cgroup went */
	VG_E_FILE = 14,
	VG_E_PTRACE = 15,
	VG_E_SOCKET = 16,
	VG_E_DUP = 17,
	VG_E_SEND = 18,
	VG_E_KERNEL_TYPES = 19, /* the kernel's numbers end here */
	VG_E_ALERT = 58,        /* a rule matched an event (the daemon's) */
	VG_E_PROC_SEED = 59,    /* internal: a process there before */
	VG_E_INIT_PID = 60,     /* internal: a runtime's record of an init */
	VG_E_LOST = 61,         /* events that could not be delivered */
	VG_E_CONTAINER = 62,    /* a container's lifecycle, made in user space */
};

#define VG_E_BIT(t) (1ull << (t))

/* Always traced: they keep the process table exact. */
#define VG_E_TABLE_TYPES (VG_E_BIT(VG_E_FORK) | VG_E_BIT(VG_E_EXEC) | VG_E_BIT(VG_E_EXIT))

/* What a type is, for every table of names: --event, evt.type in
 * filters and output, the daemon's subscriptions, the kernel's mask. */
struct vg_event_type_info {
	uint32_t type;
	const char *name;    /* evt.type, --event, subscriptions, filters */
	const char *aliases; /* other names of it, space-separated (Falco's
			      * syscall names: vg_event_syscalls) */
	bool std;            /* served by the daemon, filters and rules */
	/* std, but only when named (--event, evt.type in a filter or a
	 * rule): not in "all" nor in what no choice means, since the kernel
	 * pays for each call of the syscalls it traces */
	bool opt_in;
	const char *help;    /* one line */
};

/* The table, in the order it is shown. */
extern const struct vg_event_type_info vg_event_types[];
extern const size_t vg_n_event_types;

/* Falco's names of the system calls vigil's types observe: each with its
 * type and, where that type covers several calls (file), the file.action
 * values (space-separated) that single this one out: "evt.type = rename"
 * in a filter is "evt.type = file and file.action = rename". Those
 * without actions are aliases of their type everywhere (--event too). */
struct vg_event_syscall {
	const char *name;
	uint32_t type;
	const char *actions;
};
extern const struct vg_event_syscall vg_event_syscalls[];
extern const size_t vg_n_event_syscalls;

/* By name, alias or syscall alias (NULL: none). */
const struct vg_event_type_info *vg_event_type_find(const char *name);
/* The name of @type ("?" for none). */
const char *vg_event_type_name(uint32_t type);
/* The bits of the std types (opt-in ones included). */
uint64_t vg_event_std_mask(void);
/* The bits of "all": the std types but the opt-in ones. */
uint64_t vg_event_all_mask(void);
/* The bit of the type named @name (or alias), for vg_filter_type_mask(). */
uint64_t vg_event_type_bits(const char *name, void *ctx);
/* "exec, exit, fork, ..." of the std types, for messages. */
const char *vg_event_std_names(void);

/* A socket address, decoded: an IP and port, or a Unix path. */
struct vg_event_addr {
	uint16_t family; /* AF_INET, AF_INET6, AF_UNIX; 0: none */
	int32_t port;    /* -1: none */
	char text[112];  /* the IP, or the path ('@' first: abstract) */
};

/* Who did it: the kernel's record of the task. */
struct vg_event_task {
	uint64_t ktime_ns; /* CLOCK_BOOTTIME */
	uint64_t start_ns; /* the process's start, boot time */
	uint64_t cgroup_id;
	uint32_t cpu, pid, tid, ppid, uid, gid, mntns;
	char comm[16];     /* NUL-terminated */
	/* what the source could not give (audit): no CPU, thread id or
	 * mount namespace in its records; the start time not confirmed
	 * from /proc (the process was gone), so the exec id is a guess;
	 * the cgroup not read while the process lived */
	bool no_cpu, start_unknown, cgroup_unknown;
};

enum vg_file_action {
	VG_FA_NONE, VG_FA_CREATE, VG_FA_WRITE, VG_FA_TRUNCATE, VG_FA_DELETE,
	VG_FA_RMDIR, VG_FA_MKDIR, VG_FA_RENAME, VG_FA_LINK, VG_FA_SYMLINK,
	VG_FA_CHMOD, VG_FA_CHOWN, VG_FA_COUNT,
};
const char *vg_file_action_name(uint32_t a);

/* Falco's names: "PTRACE_ATTACH" (NULL: none known), "AF_INET" (NULL:
 * none known), the syscall of an x86-64 number among those vigil traces
 * ("dup2"; NULL: not one of them). */
const char *vg_ptrace_request_name(uint32_t req);
const char *vg_socket_family_name(uint32_t family);
const char *vg_syscall_name(uint32_t nr);
/* Falco's fd.type (or with @ch fd.typechar) of a file whose inode has
 * the S_IFMT bits @fd_mode, a socket's by its @family: "ipv4", "file",
 * "pipe"...; NULL for a kind Falco's fields do not name. */
const char *vg_fd_type_name(uint16_t family, uint32_t fd_mode, bool ch);

/* An event with a socket call's part (e->net): connect, accept, bind,
 * listen, socket, dup, send. */
static inline bool vg_event_is_net(uint32_t type)
{
	return (type >= VG_E_CONNECT && type <= VG_E_LISTEN) ||
	       (type >= VG_E_SOCKET && type <= VG_E_SEND);
}

/* Path quality (as the kernel side reports it). */
#define VG_EP_TRUNCATED (1u << 0)
#define VG_EP_UNRESOLVED (1u << 1)
/* The (first) name is the caller's words, normalized: absolute as given,
 * or joined to the kernel-resolved directory; "." and ".." taken
 * lexically, symlinks in it not followed. Without it the name is the
 * kernel's own path of the file (an open's result, an fd). */
#define VG_EP_USER (1u << 2)

/* Where an executed file lives, from its inode (the bpf source): a fact
 * of the file the kernel ran, not of a name. */
enum vg_exe_origin {
	VG_EXE_ORIGIN_UNKNOWN = 0, /* the source does not say */
	VG_EXE_ORIGIN_FILE,        /* a file system other than overlay */
	VG_EXE_ORIGIN_LOWER,       /* an overlay's lower layer (an image's) */
	VG_EXE_ORIGIN_UPPER,       /* an overlay's upper layer: written or
				    * copied up since the overlay was made */
	VG_EXE_ORIGIN_MEMFD,       /* a memfd_create() file */
};
/* "file", "lower", "upper", "memfd"; NULL for unknown */
const char *vg_exe_origin_name(unsigned origin);

struct vg_event {
	uint32_t type;
	bool has_task;            /* lost and container events have none */
	struct vg_event_task t;
	union {
		struct {
			const char *filename;  /* as given */
			const char *exe;       /* resolved, the kernel's */
			const char *args;      /* argv, NUL-separated */
			uint32_t args_len;     /* bytes of @args received */
			uint32_t args_bytes;   /* bytes of argv the kernel held */
			bool args_truncated;   /* cut, or a chunk was lost */
			bool args_incomplete;  /* a chunk was lost (or could
						* not be read): @args is the
						* part before the first gap */
			const char *cwd;       /* at the exec, where the source
						* has it (audit); NULL: not */
			uint8_t exe_origin;    /* enum vg_exe_origin */
		} exec;
		struct {
			uint32_t status;       /* as wait(2) */
			bool status_unknown;   /* seen gone from /proc, no
						* record of how (audit) */
		} exit;
		struct {
			uint32_t child_pid, child_tid;
			uint64_t child_start_ns;
			bool thread;
		} fork;
		struct {
			const char *path;      /* as given */
			const char *name;      /* absolute (resolved, or @path) */
			int64_t ret;           /* fd or -errno */
			int32_t dirfd;
			uint32_t flags, mode, path_flags;
		} open;
		struct {
			uint32_t action;       /* enum vg_file_action */
			const char *path, *name;   /* as given; absolute */
			const char *path2, *name2; /* rename/link source; symlink
						    * target (as given) */
			int64_t ret;
			uint32_t mode, uid, gid, flags, path_flags;
			int32_t fd;            /* by fd; -1 by path */
		} file;
		struct {
			int64_t ret;
			int32_t fd;            /* socket: the new one (-1: none);
						* dup: oldfd */
			uint32_t backlog;
			uint16_t family, sock_type;
			/* socket, dup, send: */
			uint32_t protocol;
			uint32_t nr;           /* the syscall (x86-64 numbers) */
			uint32_t flags;        /* socket: SOCK_NONBLOCK|SOCK_CLOEXEC;
						* dup3: O_CLOEXEC; send: MSG_* */
			int32_t newfd;         /* dup2, dup3: asked for; else -1 */
			uint32_t fd_mode;      /* dup: S_IFMT of the file; 0: none */
			uint64_t size;         /* sendto: bytes given; 0: not known */
			bool connected;        /* the socket had a peer */
			/* the peer (connect) or address (bind) is the one the
			 * caller asked for, not the socket's: the call failed */
			bool requested;
			/* connect: server = the peer, client = ours; accept:
			 * client = the peer, server = ours; bind, listen:
			 * server = ours; socket, dup, send: server = the
			 * peer (send: or where it went), client = ours */
			struct vg_event_addr server, client;
		} net;
		struct {
			uint64_t args[6];
			int64_t ret;
			uint32_t nr;
			uint64_t enter_ns;
		} syscall;
		struct {
			int64_t ret;
			uint64_t addr, data;
			uint32_t request;
			uint32_t pid;          /* the target, as given */
		} ptrace;
		struct {
			uint32_t id;
			const void *raw;       /* the tracepoint's own record */
			uint32_t len;
			const char *name;      /* GROUP:NAME */
			const void *format;    /* struct vg_tp_format, to decode */
		} tp;
		struct {
			uint64_t id;
			const char *path;
			uint32_t level;
			bool existing;         /* there before the source began */
		} cgroup;
		struct {
			int32_t pid, ppid;
			uint64_t start_ticks;
			const char *exe;
		} seed;                        /* a process there before */
		struct {
			uint64_t cgroup_id;
			int pid;
		} init;
		struct {
			const char *state;     /* created running exited destroyed */
			uint64_t cgroup_id;
			int init_pid;          /* 0: not known */
			int exit_status;       /* exited: as wait(2); else -1 */
			bool present;          /* running when the sensor
						* started: only for the sinks
						* that ask (vg_sink.present) */
		} container;
		struct {
			uint64_t total;
			uint64_t by_type[VG_E_KERNEL_TYPES];
			uint64_t unmatched;    /* argv chunks whose exec was gone */
			const char *reason;    /* NULL: the kernel's ring was full */
			bool count_unknown;    /* some were lost, how many is
						* not known (@total: 0) */
		} lost;
	};
	/* Filled by the engine before anything reads the event; the exec
	 * ids only when asked for (vg_event_ids()), since a storm's events
	 * mostly reuse what was rendered for the last of their thread. */
	struct {
		void (*fill_ids)(struct vg_event *e); /* the engine's */
		void *engine;
		bool ids_filled;
		const char *exec_id, *parent_exec_id;
		const char *exe;       /* the process table's (exec: its own) */
		uint8_t exe_origin;    /* the same's enum vg_exe_origin */
		uint64_t gen;          /* the table entry's version (0: none) */
		int attr_err;          /* 0: @attr is valid */
		const struct vg_attribution *attr; /* the task's cgroup's
						    * (container events: the
						    * container's) */
		uint64_t seq;          /* the engine's number for it, once some
					* sink takes it: monotonic */
		uint64_t num;          /* evt.num: the engine's number for
					* every event it enriched, from 1,
					* before any filter (so filters see
					* it); monotonic */
	} x;
	/* the engine's exec ids: the process's, its parent's, a fork's
	 * child's ("" when unknown) */
	char id_buf[3][64];
};

/* Make sure @e's exec ids (x.exec_id, x.parent_exec_id, a fork's child's
 * in id_buf[2]) are filled in. */
static inline void vg_event_ids(const struct vg_event *e)
{
	struct vg_event *m = (struct vg_event *)e; /* the lazy part only */

	if (!m->x.ids_filled && m->x.fill_ids) {
		m->x.fill_ids(m);
		m->x.ids_filled = true;
	}
}

/*
 * A copy of @e that owns its strings and raw bytes, in one allocation
 * (free() it), for an event that must wait; NULL on -ENOMEM. The engine's
 * part is kept (its exec ids and exe copied) but for the attribution,
 * which is looked up again when the copy goes out. A tracepoint's format
 * is borrowed as it is.
 */
struct vg_event *vg_event_dup(const struct vg_event *e);

#endif
