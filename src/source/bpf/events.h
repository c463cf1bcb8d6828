/* SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause) */
/*
 * The whole contract between vigil's eBPF programs and user space: event
 * records in the ring buffer, the maps user space fills, and their
 * limits. Fixed-width fields, explicit padding, no packing; the user side
 * checks sizes and offsets with _Static_assert (sensor/sensor.c).
 */
#ifndef VG_BPF_EVENTS_H
#define VG_BPF_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_EVENTS_VERSION 2

enum vg_ev_type {
	VG_EV_NONE = 0,
	VG_EV_FORK = 1,
	VG_EV_EXEC = 2,
	VG_EV_EXIT = 3,
	VG_EV_OPEN = 4,
	VG_EV_CONNECT = 5,
	VG_EV_ACCEPT = 6,
	VG_EV_BIND = 7,
	VG_EV_LISTEN = 8,
	VG_EV_SYSCALL = 9,
	VG_EV_TRACEPOINT = 10,
	VG_EV_EXEC_ARGS = 11,  /* a chunk of an exec's argv; follows it */
	VG_EV_CGROUP_MKDIR = 12, /* internal: a cgroup appeared */
	VG_EV_CGROUP_RMDIR = 13, /* internal: a cgroup went */
	VG_EV_FILE = 14,       /* a file changed: created, written, deleted... */
	VG_EV_PTRACE = 15,     /* ptrace: a request and its target */
	VG_EV_SOCKET = 16,     /* socket: a socket made */
	VG_EV_DUP = 17,        /* dup, dup2, dup3: an fd duplicated */
	VG_EV_SEND = 18,       /* sendto, sendmsg: data sent on a socket */
	VG_EV_TYPES = 19,
};

#define VG_EV_BIT(t) (1ull << (t))

/* Limits. A path is at most PATH_MAX; argv is sent in chunks up to the
 * kernel's own limit on it. */
#define VG_COMM_LEN 16
#define VG_PATH_MAX 4096
#define VG_PATH_DEPTH 64       /* components walked up from a dentry */
#define VG_ARGS_CHUNK 16000    /* bytes of argv per VG_EV_EXEC_ARGS */
#define VG_ARGS_MAX (128u * VG_ARGS_CHUNK) /* argv bytes sent at most */
#define VG_SOCKADDR_MAX 112    /* sockaddr_un is 110 bytes */
#define VG_TP_COPY_MAX 4096  /* raw tracepoint bytes copied */

/* In-kernel filters: which selections are active (vg_filter_flags). An
 * event passes when its type is in vg_type_mask, and — if any container
 * selection is active — its cgroup id or mount ns is in a set, and — if
 * the pid selection is active — its tgid is in the pid set. */
#define VG_FILTER_CGROUP (1u << 0)
#define VG_FILTER_MNTNS (1u << 1)
#define VG_FILTER_PID (1u << 2)

#define VG_FILTER_SET_MAX 4096

/* The cgroups no one wants (vigil daemon): events of the types in
 * vg_drop_types from a cgroup in this set are not sent. A cgroup not in
 * it passes, so one that appears is seen until user space has decided. */
#define VG_DROP_SET_MAX 16384

/* Every record starts so. */
struct vg_ev_hdr {
	__u16 type;      /* enum vg_ev_type */
	__u16 version;   /* VG_EVENTS_VERSION */
	__u32 size;      /* bytes of the whole record */
	__u64 ktime_ns;  /* CLOCK_BOOTTIME */
	__u64 start_ns;  /* the process's (thread group leader's) start,
			  * boot-time ns: with pid, a stable process key */
	__u64 cgroup_id; /* cgroup v2 id */
	__u32 cpu;
	__u32 pid;       /* tgid */
	__u32 tid;
	__u32 ppid;      /* real parent's tgid */
	__u32 uid;       /* real ids */
	__u32 gid;
	__u32 mntns;     /* mount namespace inode */
	__u32 pad0;
	char comm[VG_COMM_LEN];
};

struct vg_ev_fork {
	struct vg_ev_hdr h;
	__u32 child_pid;  /* tgid of the child */
	__u32 child_tid;
	__u64 child_start_ns;
	__u32 is_thread;  /* 1: a thread of the same process */
	__u32 pad0;
};

/* Followed by the filename as given (filename_len bytes, with its NUL)
 * and the resolved exe path (exe_len bytes, with its NUL). The argv
 * comes after in args_chunks VG_EV_EXEC_ARGS records. */
struct vg_ev_exec {
	struct vg_ev_hdr h;
	__u32 old_tid;     /* the thread that called execve */
	__u32 filename_len;
	__u32 exe_len;
	__u32 exe_flags;   /* VG_PATH_* */
	__u32 args_len;    /* bytes of argv the kernel holds */
	__u32 args_sent;   /* bytes of it sent (< args_len: truncated) */
	__u32 args_chunks;
	__u32 pad0;
	__u64 exec_seq;    /* per-CPU sequence, matched by the chunks */
};

struct vg_ev_exec_args {
	struct vg_ev_hdr h;
	__u64 exec_seq;
	__u32 offset;      /* of this chunk within argv */
	__u32 len;         /* bytes following */
	/* char data[len] */
};

/* A path walked up from a dentry: flags saying how good it is. */
#define VG_PATH_TRUNCATED (1u << 0) /* deeper than VG_PATH_DEPTH or longer
				     * than VG_PATH_MAX: the start is cut */
#define VG_PATH_UNREACHABLE (1u << 1) /* not under this root (another
				       * mount ns, a deleted dir) */
#define VG_PATH_RELATIVE_FAILED (1u << 2) /* dirfd/cwd could not be read */
/* The (first) absolute path is the kernel's: walked up from the object
 * itself (the file an open returned, an fd's file) to the process's root.
 * Without it the path is the caller's words: absolute as given, or joined
 * to the kernel-resolved directory (dirfd, cwd), not resolved further. */
#define VG_PATH_KERNEL (1u << 3)

/* An exec's exe_flags beside the VG_PATH_* ones: where the file the
 * kernel executes lives, from the file itself (its inode), not a name.
 * VG_EXE_KNOWN says the rest were looked at (a sensor that sets them). */
#define VG_EXE_KNOWN (1u << 8)
#define VG_EXE_OVERLAY (1u << 9) /* on an overlay file system */
#define VG_EXE_UPPER (1u << 10)  /* ... and in its upper layer: written or
				  * copied up since the overlay was made */
#define VG_EXE_MEMFD (1u << 11)  /* a memfd_create() file: in memory, in
				  * no directory */

struct vg_ev_exit {
	struct vg_ev_hdr h;
	__u32 exit_code;   /* status as wait(2) reports it */
	__u32 pad0;
};

/* Followed by the path as given (path_len, with NUL) and, for relative
 * paths, the resolved absolute path (abs_len, with NUL; 0 when the path
 * was absolute). */
struct vg_ev_open {
	struct vg_ev_hdr h;
	__s64 ret;         /* fd, or -errno */
	__s32 dirfd;       /* AT_FDCWD = -100 */
	__u32 flags;
	__u32 mode;
	__u32 syscall_nr;
	__u32 path_len;
	__u32 abs_len;
	__u32 path_flags;  /* VG_PATH_* for the absolute path */
	__u32 pad0;
};

/* connect, accept, bind, listen. The addresses are raw sockaddrs as the
 * socket holds them at the call's exit, or (VG_NET_REQUESTED) as the
 * caller gave them. */
struct vg_ev_net {
	struct vg_ev_hdr h;
	__s64 ret;
	__s32 fd;
	__u32 syscall_nr;
	__u32 backlog;     /* listen */
	__u16 family;      /* AF_INET, AF_INET6, AF_UNIX */
	__u16 sock_type;
	__u32 addr_len;    /* of addr, the address given or the peer */
	__u32 local_len;   /* of local, the socket's own address */
	__u32 addr_flags;  /* VG_NET_* */
	__u32 pad0;
	__u8 addr[VG_SOCKADDR_MAX];
	__u8 local[VG_SOCKADDR_MAX];
};

/* addr is what the caller asked for (its sockaddr, read from its memory
 * at exit): the socket holds no such address (a failed connect, a failed
 * bind). Otherwise addr and local are the socket's own, at exit. */
#define VG_NET_REQUESTED (1u << 0)
/* The socket had a peer at the call's exit (vg_ev_sock). */
#define VG_NET_CONNECTED (1u << 1)

/* ptrace(2): the request and its target as the caller gave them. */
struct vg_ev_ptrace {
	struct vg_ev_hdr h;
	__s64 ret;
	__u64 addr, data;
	__u32 request;
	__u32 pid;         /* the target: a thread id in the caller's pid ns */
};

/*
 * socket, dup, send: a call about one fd, and what that fd is at the
 * call's exit. A socket is described as the kernel holds it (family,
 * type, protocol, its own address in local, its peer in addr); another
 * file by its inode's type only. For socket the family, type and
 * protocol are the ones asked for, whatever the call's result.
 */
struct vg_ev_sock {
	struct vg_ev_hdr h;
	__s64 ret;
	__u64 size;        /* sendto: the bytes given; else 0 */
	__s32 fd;          /* socket: the new fd (-1: none); dup: oldfd;
			    * send: the socket */
	__u32 syscall_nr;
	__u32 arg_flags;   /* socket: type's SOCK_NONBLOCK/SOCK_CLOEXEC;
			    * dup3: its flags; send: the MSG_* flags */
	__s32 newfd;       /* dup2, dup3: the fd asked for; else -1 */
	__u32 fd_mode;     /* S_IFMT bits of the fd's inode; 0: no file */
	__u16 family, sock_type;
	__u32 protocol;
	__u32 addr_len;    /* of addr: the peer, or (send) the destination
			    * the caller gave an unconnected socket */
	__u32 local_len;   /* of local, the socket's own address */
	__u32 addr_flags;  /* VG_NET_* */
	__u8 addr[VG_SOCKADDR_MAX];
	__u8 local[VG_SOCKADDR_MAX];
};

struct vg_ev_syscall {
	struct vg_ev_hdr h;
	__u64 args[6];
	__s64 ret;
	__u32 nr;
	__u32 pad0;
	__u64 enter_ns;
};

struct vg_ev_tracepoint {
	struct vg_ev_hdr h;
	__u32 tp_id;       /* the format's ID, also in the record */
	__u32 len;         /* raw record bytes following */
};

struct vg_ev_cgroup {
	struct vg_ev_hdr h;
	__u64 id;          /* the new cgroup's id */
	__u32 level;
	__u32 path_len;    /* following, with NUL */
};

/* Per-tid state between a syscall's enter and exit. */
/* What a file event did (vg_ev_file.op). */
enum vg_file_op {
	VG_FILE_CREATE = 1,   /* open with O_CREAT that created it, creat, mknod */
	VG_FILE_WRITE = 2,    /* opened for writing (an existing file) */
	VG_FILE_TRUNCATE = 3, /* truncate, ftruncate */
	VG_FILE_DELETE = 4,   /* unlink */
	VG_FILE_RMDIR = 5,
	VG_FILE_MKDIR = 6,
	VG_FILE_RENAME = 7,   /* path2: the old name */
	VG_FILE_LINK = 8,     /* path2: the existing name */
	VG_FILE_SYMLINK = 9,  /* path2: the link's target, as given */
	VG_FILE_CHMOD = 10,
	VG_FILE_CHOWN = 11,
	VG_FILE_OPS = 12,
};

/* A successful change to a file. Followed by: the path as given
 * (path_len, with NUL; 0 when by fd), its absolute form (abs_len, with
 * NUL, else 0: the fd's file as the kernel has it, or, by path, the given
 * path joined to the kernel-resolved directory), then the same for the
 * second path (path2_len, abs2_len; a symlink's target is never
 * resolved). Absolute paths are relative to the process's own root. */
struct vg_ev_file {
	struct vg_ev_hdr h;
	__s64 ret;
	__u32 op;          /* enum vg_file_op */
	__u32 syscall_nr;
	__u32 mode;        /* chmod, mkdir, create */
	__u32 uid, gid;    /* chown; (u32)-1: unchanged */
	__u32 flags;       /* open's, or the *at call's */
	__s32 fd;          /* by fd (fchmod, ftruncate...), else -1 */
	__u32 path_len, abs_len, path2_len, abs2_len;
	__u32 path_flags;  /* VG_PATH_* of either absolute path */
};

struct vg_pending {
	__u64 args[6];
	__u64 enter_ns;
	__u32 nr;
	__u32 pad0;
};

#endif
