/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_AUDIT_CONTROL_H
#define VG_SOURCE_AUDIT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Linux audit as vigil uses it, through libaudit: the kernel's state,
 * vigil's own rules (one key, "vigil"), and the netlink socket records
 * are read from.
 *
 * Before it changes any setting, vigil writes the originals to a state
 * file (/run/vigil/audit.state); on close it removes exactly the rules
 * with its key and puts back every setting it changed. A start after a
 * crash finds the state file and the keyed rules and does the same
 * first. A lock beside the state file keeps two vigils from sharing the
 * rules. vigil never sets audit immutable.
 *
 * With an audit daemon running (auditd), vigil reads the kernel's
 * multicast group, read-only, and auditd keeps its log; with none, vigil
 * registers as the audit daemon (so records are not printed to the
 * kernel log) and unregisters at close.
 */

#define VG_AUDIT_KEY "vigil"

struct vg_audit_status {
	uint32_t enabled;       /* 0 off, 1 on, 2 locked (immutable) */
	uint32_t failure, pid, rate_limit, backlog_limit, lost, backlog;
	uint32_t backlog_wait_time;
	unsigned rules;         /* loaded, all keys */
	unsigned own_rules;     /* with vigil's key */
	bool never_task;        /* a "-a never,task" rule: no new task is
				 * audited */
};

/* The kernel's audit state now. Returns 0, or -errno with @err (no
 * permission: CAP_AUDIT_CONTROL). */
int vg_audit_status_read(struct vg_audit_status *ret, char *err, size_t errsz);

/* Another vigil runs the audit source now (it holds the lock in
 * @state_dir; NULL: /run/vigil). */
bool vg_audit_taken(const char *state_dir);

struct vg_audit_ctl_opts {
	const char *state_dir;  /* NULL: /run/vigil */
	uint32_t backlog_limit; /* raised to at least this; 0: 8192 */
};

struct vg_audit_ctl;

/* Take audit over as above (recovering from a crashed start first).
 * Returns 0, or -errno with @err: -EBUSY another vigil has it, -EPERM
 * locked or not permitted, -ENOTSUP a never,task rule. */
int vg_audit_ctl_open(const struct vg_audit_ctl_opts *o,
		      struct vg_audit_ctl **ret, char *err, size_t errsz);
/* Rules for @types (VG_E_BIT()s; the process table's always). Returns 0
 * or -errno with @err; the rules of the types before stay then. */
int vg_audit_ctl_set_types(struct vg_audit_ctl *c, uint64_t types, char *err,
			   size_t errsz);
/* The types rules exist for (those the kernel took). */
uint64_t vg_audit_ctl_types(const struct vg_audit_ctl *c);
/* Where records are read: readable when some wait. */
int vg_audit_ctl_fd(const struct vg_audit_ctl *c);
/* "multicast" (beside an audit daemon) or "daemon" (registered). */
const char *vg_audit_ctl_mode(const struct vg_audit_ctl *c);

/* Up to @max records that wait, to @fn (type, text, length). Returns the
 * number read, or -errno. A socket overrun (ENOBUFS) is counted in
 * *@overruns and reading goes on: it carries no count of its own. A
 * nonzero return of @fn stops the read; records already taken with it in
 * one batch are not handed out, so @fn stops only when reading ends. */
typedef int (*vg_audit_record_fn)(void *ctx, int type, const char *text,
				  size_t len);
int vg_audit_ctl_read(struct vg_audit_ctl *c, int max, vg_audit_record_fn fn,
		      void *ctx, uint64_t *overruns);

/* The kernel's counters now (lost, backlog). Returns 0 or -errno. */
int vg_audit_ctl_status(struct vg_audit_ctl *c, struct vg_audit_status *ret);

/* Rules removed, settings restored, the state file gone. NULL is fine. */
void vg_audit_ctl_close(struct vg_audit_ctl *c);

#endif
