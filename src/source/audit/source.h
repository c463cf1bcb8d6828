/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_AUDIT_SOURCE_H
#define VG_SOURCE_AUDIT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "source/source.h"

/*
 * The audit source: the kernel's audit records (control.h) reassembled
 * (reasm.h) into the same events as the eBPF source's, for hosts where
 * eBPF is not allowed. Its records carry no cgroup id, start time, CPU
 * or thread id: the engine takes the cgroup and the start from /proc by
 * pid (VG_SRC_BY_PID), and a filter on what it lacks is refused.
 *
 * Exits are held for a delay before they go out: a parent's clone
 * record is written when the call returns, which may be after its child
 * already ran and exited, so an exit applied at once could be undone by
 * the fork that comes after it.
 */

struct vg_audit_source_opts {
	const char *state_dir;     /* NULL: /run/vigil */
	int proc_fd;               /* the host's /proc (borrowed) */
	uint64_t eoe_timeout_ns;   /* 0: 1 s */
	uint64_t exit_delay_ns;    /* 0: 1 s */
	size_t max_bytes;          /* of records of open events; 0: 4 MiB */
	uint32_t backlog_limit;    /* raised to at least this; 0: 8192 */
};

/* Returns 0 and the source, or -errno with @err (the cause and the fix). */
int vg_audit_source_new(const struct vg_audit_source_opts *o,
			struct vg_source **ret, char *err, size_t errsz);

/* The same source without the kernel: records are handed in with
 * vg_audit_source_feed() (tests, simulations). It is live (VG_SRC_LIVE):
 * the engine reads /proc for what records lack. The engine must have
 * pumped it once (vg_engine_pump()) before the first record. */
int vg_audit_source_new_fed(const struct vg_audit_source_opts *o,
			    struct vg_source **ret);
/* One record, as netlink gives it. Returns 0, or what the engine's
 * callback returned. */
int vg_audit_source_feed(struct vg_source *s, int type, const char *text,
			 size_t len);

/* For stats and doctor: the mode ("daemon" or "multicast"), and counts. */
struct vg_audit_source_stats {
	const char *mode;
	uint64_t records, garbage, events, incomplete, evicted, parse_errors;
	uint64_t overruns;         /* netlink ENOBUFS: counts unknown */
	uint64_t reader_full;      /* the reading thread waited for room */
	uint64_t kernel_lost;      /* the kernel's lost counter, since start */
	uint32_t backlog, backlog_limit;
	size_t open_events, open_bytes, held_exits;
	uint64_t exits_early;      /* let go before their delay: the hold
				    * was full */
	uint64_t forks_unresolved; /* children in a pid namespace, gone
				    * before their host pid was found */
};
void vg_audit_source_stats(struct vg_source *s, struct vg_audit_source_stats *ret);

#endif
