/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_BPF_SENSOR_H
#define VG_SOURCE_BPF_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source/bpf/events.h"
#include "source/bpf/tracefs.h"

/*
 * The eBPF sensor: loads vigil's programs, attaches those the wanted
 * event types need, keeps the in-kernel filters, and hands ring-buffer
 * records to a callback.
 */

struct vg_sensor_tp {
	const char *group, *name;
	uint32_t id, record_size; /* from the tracepoint's format */
};

struct vg_sensor_opts {
	uint64_t type_mask;        /* VG_EV_BIT() of the types wanted; an
				    * exec's argv only with VG_EV_EXEC_ARGS */
	size_t ring_bytes;         /* power of two, >= 4096; 0: 8 MiB */
	size_t wakeup_bytes;       /* wake the reader at this much; 0: 256 KiB */
	const uint32_t *syscalls;  /* raw syscall numbers (VG_EV_SYSCALL) */
	size_t n_syscalls;
	const struct vg_sensor_tp *tps; /* tracepoints (VG_EV_TRACEPOINT) */
	size_t n_tps;
	/* Where tracepoint ids are read (syscall tracepoints, tp:): found
	 * or made on first need, kept by the caller. NULL: a private one
	 * for the call only. */
	struct vg_tracefs *tracefs;
	uint64_t defer_mask;       /* of type_mask: loaded, but attached
				    * only when vg_sensor_attach() asks */
};

struct vg_sensor;

/* Load and attach, paused: only cgroup creations pass until
 * vg_sensor_start(), so that filters can be set first. Returns 0, or
 * -errno with a sentence in @err. The caller frees *ret with
 * vg_sensor_free() (which detaches everything: in a detached child
 * process, so that the caller need not wait for the kernel). */
int vg_sensor_new(const struct vg_sensor_opts *o, struct vg_sensor **ret,
		  char *err, size_t errsz);
void vg_sensor_free(struct vg_sensor *s);

/* Each record: @rec is valid during the call only. A non-zero return
 * stops the poll and is returned by it. */
typedef int (*vg_sensor_cb)(void *ctx, const void *rec, size_t len);

/* Wait at most @timeout_ms for records and consume what is there, in
 * batches, until less than a wakeup's worth (vg_sensor_opts.wakeup_bytes)
 * waits, or an eighth of the ring has been read: a caller polls again when
 * the fd is readable, at once while vg_sensor_behind(), or on a timer,
 * which bounds the delivery latency. Returns the number consumed, or
 * -errno (-EINTR on a signal). */
int vg_sensor_poll(struct vg_sensor *s, int timeout_ms, vg_sensor_cb cb,
		   void *ctx);

/* Bytes of records waiting to be consumed. */
size_t vg_sensor_pending(const struct vg_sensor *s);
/* The ring buffer's data bytes. */
size_t vg_sensor_ring_size(const struct vg_sensor *s);
/* Programs attached in the kernel now: those of the wanted types, those
 * kept attached (gated) a while after no type needs them, and one link
 * per tracepoint of VG_EV_TRACEPOINT. */
unsigned vg_sensor_programs_attached(const struct vg_sensor *s);

/* A wakeup's worth or more waits (the last poll stopped at its bound):
 * poll again without waiting. The fd is edge-triggered and will not say
 * so again. */
bool vg_sensor_behind(const struct vg_sensor *s);

/* Consume every record committed when it is called, without waiting
 * (before stopping). */
int vg_sensor_drain(struct vg_sensor *s, vg_sensor_cb cb, void *ctx);

/* Readable (an epoll fd) when records wait; for callers that wait on
 * more than the sensor. */
int vg_sensor_fd(const struct vg_sensor *s);

/* Ring-buffer reserve failures so far, per type, summed over CPUs. */
int vg_sensor_lost(struct vg_sensor *s, uint64_t lost[VG_EV_TYPES]);

/* In-kernel selections. Enabling a selection with an empty set passes
 * nothing of that kind. */
int vg_sensor_filter_enable(struct vg_sensor *s, uint32_t flags);
int vg_sensor_filter_cgroup(struct vg_sensor *s, uint64_t cgid, bool add);
int vg_sensor_filter_mntns(struct vg_sensor *s, uint32_t mntns, bool add);
int vg_sensor_filter_pid(struct vg_sensor *s, uint32_t pid, bool add);
/* Events of the types in @mask from a cgroup in the drop set are not
 * sent; a cgroup outside it passes (VG_DROP_SET_MAX entries at most:
 * adding more fails with -E2BIG, and that cgroup passes). */
void vg_sensor_drop_types(struct vg_sensor *s, uint64_t mask);
int vg_sensor_drop_cgroup(struct vg_sensor *s, uint64_t cgid, bool add);
/* Let the event types of the options pass. */
void vg_sensor_start(struct vg_sensor *s);
/* Attach the programs of the types in @mask (of those loaded by
 * vg_sensor_new()); the others stay attached, gated by the type mask,
 * until vg_sensor_reap_idle() detaches them off the caller's thread.
 * Returns 0 or -errno with @err. */
int vg_sensor_attach(struct vg_sensor *s, uint64_t mask, char *err,
		     size_t errsz);
/* vg_sensor_attach() off the caller's thread: the programs to attach
 * are queued to a thread of the sensor's (behind any detach of the
 * same), and the sensor's fd becomes readable when they are done.
 * Returns 0 (nothing to wait for), 1 with *@ret_gen to wait for, or
 * -errno with @err. */
int vg_sensor_attach_async(struct vg_sensor *s, uint64_t mask, uint64_t *ret_gen,
			   char *err, size_t errsz);
/* What the thread has done: the links it made are the sensor's now.
 * *@ret_done: every vg_sensor_attach_async() generation up to it is
 * done; those in [*@ret_fail_lo, *@ret_fail_hi] (0: none) failed, with
 * the reason in @err. Returns 0. */
int vg_sensor_attach_poll(struct vg_sensor *s, uint64_t *ret_done,
			  uint64_t *ret_fail_lo, uint64_t *ret_fail_hi,
			  char *err, size_t errsz);
/* Change the event types passed, live. */
void vg_sensor_set_types(struct vg_sensor *s, uint64_t type_mask);
/* Programs no type needs, attached though unwanted for @hold_ns or more
 * (vg_sensor_attach() keeps them, gated, so that a type wanted again
 * costs nothing), are detached off the caller's thread. Returns how
 * many. */
#define VG_SENSOR_DETACH_HOLD_NS (5ull * 1000000000ull)
size_t vg_sensor_reap_idle(struct vg_sensor *s, uint64_t now, uint64_t hold_ns);


#endif
