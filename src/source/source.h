/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_SOURCE_H
#define VG_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "source/record.h"

/*
 * An event source: where events come from. The engine asks it for what
 * its subscribers want (types), tells it what no one wants (the cgroups
 * it may shed before they cost anything), and pumps it; the source
 * decodes its own records into struct vg_event. Adding a source is a
 * folder under src/source/ that fills these operations.
 */

/* Each decoded event; a non-zero return stops the pump and is returned
 * by it. @e may be changed by the callee. */
typedef int (*vg_event_fn)(void *ctx, struct vg_event *e);

/* What a source can do besides delivering events. */
#define VG_SRC_LIVE (1u << 0)  /* its events happen now: metadata may be
				* pending, runtimes may be read */
#define VG_SRC_DROP (1u << 1)  /* sheds cgroups in the kernel */
#define VG_SRC_PIDS (1u << 2)  /* selects pids in the kernel */
#define VG_SRC_BY_PID (1u << 3) /* its records carry no cgroup id or start
				 * time: the engine takes them from /proc by
				 * pid, and keeps the process table by /proc
				 * too (not every fork or exit is recorded) */

struct vg_source;

struct vg_source_ops {
	const char *name;
	/* Readable (an fd for epoll) when events wait; -1: pump when told. */
	int (*fd)(struct vg_source *s);
	/* Decode what waits, in a bounded batch, handing each event to @fn.
	 * @all: everything there when called, without waiting (the drain at
	 * exit). Returns the records read, or -errno. */
	int (*pump)(struct vg_source *s, bool all, vg_event_fn fn, void *ctx);
	/* A batch's worth or more still waits: pump again at once. */
	bool (*behind)(struct vg_source *s);
	/* Records wait, less than a batch. */
	bool (*pending)(struct vg_source *s);
	/* Periodic work: events complete only by age (an exec whose argv
	 * chunks are late); @all: every one, now. */
	void (*tick)(struct vg_source *s, bool all, vg_event_fn fn, void *ctx);
	/* A finite source (a replay) has delivered everything. */
	bool (*ended)(struct vg_source *s);
	/* Deliver the types of @types (VG_E_BIT()s), live. Returns 0 or
	 * -errno with @err. */
	int (*set_types)(struct vg_source *s, uint64_t types, char *err,
			 size_t errsz);
	/* set_types() without waiting for the kernel: 0 done, 1 with
	 * *@ret_gen when the programs are being attached (the source's fd
	 * is readable when they are; attach_poll() says which), or -errno.
	 * NULL: only set_types(). */
	int (*set_types_async)(struct vg_source *s, uint64_t types,
			       uint64_t *ret_gen, char *err, size_t errsz);
	/* The generations done up to *@ret_done; those in [*@ret_fail_lo,
	 * *@ret_fail_hi] failed, with @err. */
	void (*attach_poll)(struct vg_source *s, uint64_t *ret_done,
			    uint64_t *ret_fail_lo, uint64_t *ret_fail_hi,
			    char *err, size_t errsz);
	/* Shed the events of @types from the cgroups added; VG_SRC_DROP. */
	void (*drop_types)(struct vg_source *s, uint64_t types);
	int (*drop_cgroup)(struct vg_source *s, uint64_t cgid, bool add);
	/* Deliver only the events of these pids (and their children: the
	 * engine adds them); VG_SRC_PIDS. @on: the selection is in force. */
	int (*select_pid)(struct vg_source *s, uint32_t pid, bool add);
	void (*select_pids_on)(struct vg_source *s, bool on);
	/* What it lost so far: per kernel type, and argv chunks whose exec
	 * was gone. */
	int (*lost)(struct vg_source *s, uint64_t by_type[VG_E_KERNEL_TYPES],
		    uint64_t *unmatched);
	/* Ring-buffer fill, for stats: bytes waiting, and capacity (audit:
	 * the kernel's backlog and its limit, in records). NULL: no buffer
	 * of its own (a replay). */
	void (*fill)(struct vg_source *s, uint64_t *waiting, uint64_t *size);
	/* Programs attached in the kernel now, for metrics. NULL: the
	 * source attaches none. */
	int (*programs)(struct vg_source *s);
	/* The session facts (tty, loginuid, capabilities) recorded of
	 * process @pid started at @start_ticks: 0, or -ENOENT. NULL: the
	 * source has none of its own (a live one: /proc has them). */
	int (*session)(struct vg_source *s, int pid, uint64_t start_ticks,
		       struct vg_rec_session *ret);
	void (*free)(struct vg_source *s);
};

/* A filter field a source never fills, for some event types or all. */
struct vg_source_lack {
	const char *field;   /* its name in the filter language */
	uint64_t types;      /* VG_E_BIT()s it lacks it for; 0: every type */
	const char *why;
};

struct vg_source {
	const struct vg_source_ops *ops;
	unsigned caps;  /* VG_SRC_* */
	/* For exec ids and wall time: the host the events come from. */
	char boot_id[40];
	bool have_boot_id;
	int64_t boot_to_wall_ns; /* 0: this host's, as it is now */
	/* filter fields it never fills (ended by a NULL field; NULL: none):
	 * a filter on one is refused, not silently false */
	const struct vg_source_lack *lacks;
	/* the event types it can deliver (VG_E_BIT()s; 0: every one), the
	 * engine's that come of its events (container lifecycle) included:
	 * "all" means these */
	uint64_t types;
};

/* The std types ("all") that @s can deliver. */
static inline uint64_t vg_source_std_mask(const struct vg_source *s)
{
	return s->types ? vg_event_std_mask() & s->types : vg_event_std_mask();
}

static inline void vg_source_free(struct vg_source *s)
{
	if (s)
		s->ops->free(s);
}

#endif
