/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_PTABLE_PTABLE_H
#define VG_PTABLE_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The live process table: seeded from /proc, then kept by fork, exec
 * and exit events. Keyed by pid; each entry carries the stable exec_id
 * (boot id, pid, start time) and its parent's. Bounded: when full, an
 * old entry is evicted and counted.
 */

#define VG_PT_EXEC_ID_MAX 64
/* Bytes of argv an entry keeps: a longer one is not kept (a cut argv
 * would compare as another command line). */
#define VG_PT_ARGS_MAX 4096
/* How many exited processes stay findable; the longest gone leaves first. */
#define VG_PT_EXITED_KEEP 1024

/* What /proc says of a live process that its event records do not:
 * read at the first event that asks (vg_ptable_read_session()), and
 * again after its next exec. */
struct vg_pt_session {
	bool ok;            /* read, and of this process (its start matched) */
	int32_t tty;        /* stat's tty_nr: 0 none */
	int sid;            /* its session, in the pid namespace of the /proc */
	bool has_loginuid;  /* the kernel keeps one (CONFIG_AUDIT) */
	int64_t loginuid;   /* -1: never set */
	bool has_status;    /* status read: the rest */
	int vpid;           /* in its own pid namespace */
	uint64_t cap_inh, cap_prm, cap_eff;
};

struct vg_pt_entry {
	int pid;                /* 0: free */
	int ppid;
	uint64_t start_ticks;   /* clock ticks since boot, as in stat */
	char exec_id[VG_PT_EXEC_ID_MAX];
	char parent_exec_id[VG_PT_EXEC_ID_MAX]; /* "" when unknown */
	char comm[16];
	char *exe;              /* owned; NULL when unknown */
	char *args;             /* owned: argv, NUL-separated (at most
				 * VG_PT_ARGS_MAX bytes); NULL when unknown
				 * or longer than that */
	uint32_t args_len;
	uint64_t seq;           /* insertion order, for eviction */
	bool exited;            /* gone; kept a while for late events */
	uint64_t cgroup_id;     /* its cgroup at its last exec or fork: the
				 * kernel's word at the event (0: unknown) */
	uint64_t gen;           /* changes whenever the entry does */
	uint8_t exe_origin;     /* enum vg_exe_origin at its exec (a fork:
				 * its parent's); 0: unknown */
	/* owned; NULL: not read since its exec. Apart, so that the table's
	 * slots stay small (it is allocated whole, for the most processes
	 * a host may have) */
	struct vg_pt_session *sess;
};

struct vg_ptable;

/* @max entries at most (rounded up to a power of two for the table).
 * @boot_id may be NULL. NULL on -ENOMEM. */
struct vg_ptable *vg_ptable_new(size_t max, const char *boot_id, long clk_tck);
void vg_ptable_free(struct vg_ptable *t);

/* Every process under @proc_dirfd (a /proc). Returns the number seeded,
 * or -errno. */
int vg_ptable_seed(struct vg_ptable *t, int proc_dirfd);

/* One process there before the events: seed entries, then finish
 * (which links each to its parent). Returns 0, -EINVAL or -ENOMEM. */
int vg_ptable_seed_entry(struct vg_ptable *t, int pid, int ppid,
			 uint64_t start_ticks, const char *comm, const char *exe);
void vg_ptable_seed_finish(struct vg_ptable *t);

/* The entry of @pid, or NULL. Valid until the next change. */
const struct vg_pt_entry *vg_ptable_get(const struct vg_ptable *t, int pid);

/* A new process @pid (started @start_ns, boot time) forked by @ppid. */
int vg_ptable_fork(struct vg_ptable *t, int ppid, int pid, uint64_t start_ns);
/* @pid (started @start_ns) ran @exe; @comm its new name. Creates the
 * entry when the process was not known. */
int vg_ptable_exec(struct vg_ptable *t, int pid, int ppid, uint64_t start_ns,
		   const char *exe, const char *comm);
/* @pid's argv is @args (@len bytes, NUL-separated), whole; NULL (or
 * longer than VG_PT_ARGS_MAX): not known. A fork's child inherits it.
 * Returns 0, or -ENOMEM (the entry's argv is then unknown). */
int vg_ptable_set_args(struct vg_ptable *t, int pid, const char *args,
		       size_t len);
/* @pid's entry, its session part read from @proc_dirfd (a /proc) if it
 * has not been since its exec; NULL when the table has no entry. The
 * part is not ok for a pid whose start in /proc is not the entry's (the
 * process is gone), and stays NULL for an exited entry or when memory
 * is short. */
const struct vg_pt_entry *vg_ptable_read_session(struct vg_ptable *t,
						 int proc_dirfd, int pid);
/* @pid's parent is @ppid now (its parent exited: it was reparented to a
 * subreaper or init). */
void vg_ptable_reparent(struct vg_ptable *t, int pid, int ppid);
/* @pid was in cgroup @cgid at an event (exec, fork). */
void vg_ptable_set_cgroup(struct vg_ptable *t, int pid, uint64_t cgid);
/* Where @pid's executable lives (enum vg_exe_origin), said at its exec. */
void vg_ptable_set_exe_origin(struct vg_ptable *t, int pid, unsigned origin);
/* @pid exited. Its entry stays findable (exited set) until
 * VG_PT_EXITED_KEEP later exits, for events that arrive after it. */
void vg_ptable_exit(struct vg_ptable *t, int pid);

/* The exec_id of (pid, start_ns) under this table's boot id. */
void vg_ptable_exec_id(const struct vg_ptable *t, int pid, uint64_t start_ns,
		       char *buf, size_t bufsz);

/* Call @fn for each entry, in no order; a non-zero return stops it and
 * is returned. The table must not change meanwhile. */
int vg_ptable_foreach(const struct vg_ptable *t,
		      int (*fn)(const struct vg_pt_entry *e, void *ctx),
		      void *ctx);

struct vg_ptable_stats {
	size_t entries, max;
	uint64_t seeded, evicted, forks, execs, exits, misses, reparented;
};
void vg_ptable_stats(const struct vg_ptable *t, struct vg_ptable_stats *ret);

#endif
