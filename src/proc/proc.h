/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_PROC_PROC_H
#define VG_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/ioctl.h>

/*
 * One process, read from a host root's /proc. Every file is opened relative
 * to a handle on /proc/<pid> taken once, so facts of two processes that
 * share a reused pid are never mixed: when the process goes, the reads
 * fail with -ESRCH instead.
 */

/* Linux 6.13's pidfd information; Debian 12's headers predate it. */
struct vg_pidfd_info {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 ruid;
	__u32 rgid;
	__u32 euid;
	__u32 egid;
	__u32 suid;
	__u32 sgid;
	__u32 fsuid;
	__u32 fsgid;
	__u32 spare0[1];
};
_Static_assert(sizeof(struct vg_pidfd_info) == 64, "PIDFD_INFO_SIZE_VER0");
#define VG_PIDFD_GET_INFO _IOWR(0xFF, 11, struct vg_pidfd_info)
#define VG_PIDFD_INFO_PID (1ull << 0)
#define VG_PIDFD_INFO_CREDS (1ull << 1)
#define VG_PIDFD_INFO_CGROUPID (1ull << 2)

/* Limits on what a hostile or odd /proc file may make us read. */
#define VG_STAT_MAX 4096
#define VG_STATUS_MAX (64 * 1024)
#define VG_CGROUP_FILE_MAX (64 * 1024)
#define VG_CMDLINE_MAX (4 * 1024 * 1024)
#define VG_LINK_MAX 4096
#define VG_COMM_MAX 64

enum vg_ns_type {
	VG_NS_PID,
	VG_NS_MNT,
	VG_NS_NET,
	VG_NS_UTS,
	VG_NS_IPC,
	VG_NS_USER,
	VG_NS_CGROUP,
	VG_NS_COUNT,
};

struct vg_proc {
	int pid;  /* as asked: a tid is a valid answer to "which process" */
	int tgid;
	int ppid;
	char state;
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	char comm[VG_COMM_MAX];
	uint64_t start_ticks;   /* field 22 of stat: clock ticks since boot */
	int pgrp, session;      /* fields 5 and 6: in the pid namespace of
				 * the /proc read */
	int32_t tty_nr;         /* field 7: the controlling terminal's
				 * device number, 0 for none */

	/* NULL when the kernel does not say (kernel thread, zombie, EACCES);
	 * the matching *_err holds the -errno. */
	char *exe;
	int exe_err;
	char *cwd;
	int cwd_err;

	char *args_buf; /* argv strings, NUL-separated */
	size_t args_len;
	char **argv;    /* argc pointers into args_buf, NULL-terminated */
	size_t argc;
	bool args_truncated;

	uint64_t ns[VG_NS_COUNT];
	unsigned ns_valid; /* bit per enum vg_ns_type */

	uint64_t cgroup_id; /* from the pidfd, 0 when it was not asked */
	int pidfd_err;      /* why the pidfd could not answer, or 0 */

	char *cgroup_text; /* raw /proc/<pid>/cgroup */
	size_t cgroup_len;
	int cgroup_err;
};

/*
 * Read process @pid from @proc_dirfd (an open /proc, or a fixture's proc/).
 * Returns 0; -ESRCH when the process does not exist or vanished while being
 * read; -EBADMSG with *ret_what naming the file when stat or status is not
 * what the kernel writes; other -errno. On success the caller releases
 * @ret with vg_proc_release(); on failure @ret holds nothing to release.
 */
int vg_proc_read(int proc_dirfd, int pid, unsigned flags,
		 struct vg_proc *ret, const char **ret_what);

/* @proc_dirfd is this process's own /proc: credentials, tgid and the
 * cgroup id may come from a pidfd (PIDFD_GET_INFO, Linux 6.13) instead of
 * parsing status. Falls back to status where the kernel says no. */
#define VG_PROC_PIDFD (1u << 0)
/* Skip exe, cwd and namespaces (a tree or a container list needs none). */
#define VG_PROC_BRIEF (1u << 1)
void vg_proc_release(struct vg_proc *p);

/* Only @pid's stat (ppid, comm, start ticks...) into @ret, which needs
 * no release. Returns 0, -ESRCH when it is gone, or -EBADMSG. */
int vg_proc_read_stat(int proc_dirfd, int pid, struct vg_proc *ret);

/* The ids of task @task ("PID", or "PID/task/TID", under @proc_dirfd) in
 * each pid namespace it is in, outermost first: its status's NSpid line.
 * Returns how many were put in @ret (at most @max); 0 when the task is
 * gone, or the line is missing or not the kernel's. */
size_t vg_proc_read_nspid(int proc_dirfd, const char *task, int *ret,
			  size_t max);
/* Pid namespaces nest 32 deep at most, the host's included. */
#define VG_PIDNS_LEVELS 33

/* Parsers, exposed for tests and fuzzing. Return 0 or -EBADMSG. */
int vg_proc_parse_stat(const char *buf, size_t len, struct vg_proc *p);
int vg_proc_parse_status(const char *buf, size_t len, struct vg_proc *p);
/* From a status text: the capability sets (CapInh, CapPrm, CapEff, in
 * that order) and the pid in the innermost pid namespace (the last of
 * NSpid). Returns 0, or -EBADMSG when a line is missing or not the
 * kernel's. */
struct vg_proc_status_extra {
	uint64_t cap_inh, cap_prm, cap_eff;
	int vpid;
};
int vg_proc_parse_status_extra(const char *buf, size_t len,
			       struct vg_proc_status_extra *ret);
int vg_proc_split_args(char *buf, size_t len, char ***ret_argv,
		       size_t *ret_argc);
/* "pid:[4026531836]" → 4026531836 */
int vg_proc_parse_ns_link(const char *link, uint64_t *ret);

const char *vg_ns_name(enum vg_ns_type t);

/* exec_id for (boot id, pid, start ticks): the process's stable key,
 * as the sensor derives it too. */
void vg_exec_id_format(const char *boot_id, int pid, uint64_t start_ticks,
		       char *buf, size_t bufsz);

#endif
