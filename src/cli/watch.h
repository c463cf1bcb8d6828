/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_WATCH_H
#define VG_CLI_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attrib/attrib.h"
#include "filter/filter.h"
#include "ptable/ptable.h"
#include "source/bpf/sensor.h"

/*
 * vigil watch's event pipeline, for the daemon: the sensor, the process
 * table, attribution and rendering, with each finished record handed to
 * a sink instead of stdout.
 */

struct watch;
struct ev_view;

/* Container lifecycle events: made in user space from cgroup and process
 * events; their bit in a types mask. */
#define WATCH_EV_CONTAINER 62

/* Always traced: they keep the process table exact. */
#define WATCH_TABLE_TYPES                                                     \
	(VG_EV_BIT(VG_EV_EXEC) | VG_EV_BIT(VG_EV_EXIT) | VG_EV_BIT(VG_EV_FORK))

/* Each rendered record (one JSON object, no newline) and what a filter
 * sees of it. @v is NULL for a lost record, which is for everyone. */
typedef void (*watch_sink_fn)(void *ctx, const char *line, size_t len,
			      const struct ev_view *v);

/* A container selection, as --container, --image, --pod and --host. */
struct watch_selector {
	const char **refs; /* ids, unique prefixes, names */
	size_t n_refs;
	const char *image_glob;
	const char *pod_ns, *pod_name; /* pod_name may be a glob */
	bool host;
};

/* Load the sensor (all of vigil watch's standard types loaded, only the
 * process table's attached), seed the process table, start. Returns
 * NULL with @err on failure. Free with watch_engine_free(). */
struct watch *watch_engine_new(watch_sink_fn sink, void *sink_ctx,
			       size_t ring_bytes, char *err, size_t errsz);
void watch_engine_free(struct watch *w);

/* What to wait on: the ring buffer and the metadata worker. */
int watch_engine_fds(struct watch *w, int fds[2]);
/* Read what is there and do the periodic work; never blocks. Returns
 * the wait, in ms, before it should be called again at the latest. */
int watch_engine_pump(struct watch *w);
/* The types to trace (VG_EV_BIT()s of exec..listen), live: programs of
 * other types are detached. Returns 0 or -errno with @err. */
int watch_engine_set_types(struct watch *w, uint64_t types, char *err,
			   size_t errsz);

/* Let the kernel drop the events of the types in @types (of open,
 * connect, accept, bind, listen) from the cgroups none of the @n
 * selections wants; @n == 0 turns that off (someone wants everything).
 * The selections are the caller's, and must stay valid until the next
 * call. Returns 0 or -ENOMEM. */
int watch_engine_set_drop(struct watch *w,
			  const struct watch_selector *const *sels, size_t n,
			  uint64_t types);

/* What the engine gave up on, counted. */
struct watch_engine_stats {
	uint64_t held_early;   /* went out before their metadata: hold full */
	uint64_t life_evicted; /* containers no longer followed: table full */
	uint64_t drop_cgroups; /* cgroups whose events the kernel drops now */
	uint64_t drop_full;    /* not dropped: the kernel's set was full */
	uint64_t drop_untracked; /* decided per event: the table was full */
};
void watch_engine_stats(struct watch *w, struct watch_engine_stats *ret);

struct vigil_ctx *watch_engine_ctx(struct watch *w);
struct vg_ptable *watch_engine_ptable(struct watch *w);
struct vg_sensor *watch_engine_sensor(struct watch *w);

/* About one event (@v from the sink). */
uint32_t watch_view_type(const struct ev_view *v);  /* VG_EV_* */
bool watch_view_matches(struct watch *w, const struct vg_filter *f,
			const struct ev_view *v);
bool watch_view_selected(struct watch *w, const struct watch_selector *s,
			 const struct ev_view *v);
/* A cgroup's container, selected by @s. */
bool watch_cgroup_selected(struct watch *w, const struct watch_selector *s,
			   uint64_t cgroup_id);

/* The kernel types behind a filter or --event name ("exec", "tp"...);
 * 0 for none. */
uint64_t watch_type_bits(const char *name, void *unused);

#endif
