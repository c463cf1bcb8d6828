/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_AUDIT_REASM_H
#define VG_SOURCE_AUDIT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

/*
 * Audit records into events. The kernel writes one syscall event as
 * several records (SYSCALL, EXECVE, CWD, PATH..., SOCKADDR, PROCTITLE)
 * sharing a serial and ending with EOE; events of different tasks
 * interleave. Records are grouped here by serial, in a bounded table,
 * and each whole group is handed to libauparse (its feed interface) to
 * be parsed, then decoded into one struct vg_event. A group whose EOE
 * does not come within the timeout, or that the memory bound pushes
 * out, goes as it is, marked incomplete.
 *
 * Nothing here reads the host: the event carries what the records say
 * (pid, ppid, ids, comm, exe, argv, cwd, paths, addresses); the caller
 * adds what only the host knows (start time, cgroup).
 */

/* What the decoder could not say from the records. */
#define VG_AR_INCOMPLETE (1u << 0)     /* EOE never came: records may miss */
#define VG_AR_THREAD_UNKNOWN (1u << 1) /* a clone3: thread or process? */
#define VG_AR_NO_START (1u << 2)       /* (the source's) start time unread */

/* Each decoded event; @flags VG_AR_*. Non-zero stops and is returned. */
typedef int (*vg_audit_event_fn)(void *ctx, struct vg_event *e, unsigned flags);

struct vg_audit_reasm_opts {
	uint64_t eoe_timeout_ns; /* 0: 1 s */
	size_t max_bytes;        /* of open groups' records; 0: 4 MiB */
	size_t max_groups;       /* open at once; 0: 1024 */
	size_t max_args;         /* bytes of an exec's argv kept; 0: 32 KiB */
	/* wall clock minus CLOCK_BOOTTIME, for t.ktime_ns */
	int64_t boot_to_wall_ns;
};

struct vg_audit_reasm_stats {
	uint64_t records;       /* handed in */
	uint64_t garbage;       /* not a record (no header, a newline...) */
	uint64_t ignored;       /* not of a syscall event */
	uint64_t events;        /* decoded and handed out */
	uint64_t undecoded;     /* a syscall event not of a type vigil maps */
	uint64_t incomplete;    /* went out without their EOE */
	uint64_t evicted;       /* of those, pushed out by the memory bound */
	uint64_t parse_errors;  /* libauparse refused the group */
	size_t open_groups, open_bytes;
};

struct vg_audit_reasm;

/* Returns 0 and the reassembler (free with vg_audit_reasm_free()), or
 * -ENOMEM. */
int vg_audit_reasm_new(const struct vg_audit_reasm_opts *o,
		       struct vg_audit_reasm **ret);
void vg_audit_reasm_free(struct vg_audit_reasm *r);

/* One record as netlink gave it: its type and text ("audit(SEC.MS:SERIAL):
 * fields", not NUL-terminated). @now_ns: CLOCK_MONOTONIC. Events that
 * this completes go to @fn. Returns 0, or what @fn returned. */
int vg_audit_reasm_record(struct vg_audit_reasm *r, int type, const char *text,
			  size_t len, uint64_t now_ns, vg_audit_event_fn fn,
			  void *ctx);

/* Groups open longer than the timeout go out, incomplete (@all: every
 * open group, now). */
int vg_audit_reasm_tick(struct vg_audit_reasm *r, uint64_t now_ns, bool all,
			vg_audit_event_fn fn, void *ctx);

void vg_audit_reasm_stats(const struct vg_audit_reasm *r,
			  struct vg_audit_reasm_stats *ret);

/* The event type a syscall of this name maps to (VG_E_NONE: none). */
uint32_t vg_audit_syscall_type(const char *name);

#endif
