/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_AUDIT_READER_H
#define VG_SOURCE_AUDIT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source/audit/control.h"

/*
 * The audit socket drained by a thread of its own into a bounded buffer,
 * which the event loop takes whole. The kernel's audit thread waits on
 * vigil's socket while it is full, and syscalls that log records wait on
 * the kernel's backlog while that is: whatever vigil does with a record
 * (parse, attribute, render, write) must not be on that path. When the
 * buffer is full the thread stops reading: the kernel holds the records
 * (its backlog, then its own accounting of loss), nothing is dropped
 * here.
 */

struct vg_audit_reader;

/* Start reading @ctl's socket (borrowed until vg_audit_reader_stop()).
 * @bytes: the buffer's size (0: 8 MiB). Returns 0 or -errno. */
int vg_audit_reader_start(struct vg_audit_ctl *ctl, size_t bytes,
			  struct vg_audit_reader **ret);
/* Readable when records wait. */
int vg_audit_reader_fd(const struct vg_audit_reader *r);
/* Everything read so far, to @fn, in order. Returns the records handed
 * out, or what @fn returned (the records after it are dropped then). */
int vg_audit_reader_take(struct vg_audit_reader *r, vg_audit_record_fn fn,
			 void *ctx);
/* Records wait that the last take did not see. */
bool vg_audit_reader_pending(struct vg_audit_reader *r);
/* Netlink overruns (ENOBUFS) so far, and the times the buffer was full. */
void vg_audit_reader_stats(struct vg_audit_reader *r, uint64_t *overruns,
			   uint64_t *full);
/* The thread stopped and joined, the buffers freed. NULL is fine. */
void vg_audit_reader_stop(struct vg_audit_reader *r);

#endif
