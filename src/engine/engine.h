/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ENGINE_ENGINE_H
#define VG_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attrib/attrib.h"
#include "event/event.h"
#include "filter/filter.h"
#include "ptable/ptable.h"
#include "render/printer.h"
#include "source/record.h"
#include "source/source.h"

/*
 * The one event engine, for vigil watch embedded, the daemon and every
 * later sink: events from a source, then
 *
 *   state     the process table (fork, exec, exit), containers' lifecycle
 *             (created, running, exited, destroyed), cgroups learnt;
 *   enrich    exec ids, the table's exe, the attribution of the cgroup;
 *   wait      an event of a container whose metadata is being read waits
 *             for it, briefly (the hold queue), keeping its container's
 *             order;
 *   select    each sink's types, container selection, path and filter;
 *   render    once per form (JSON, text) that some sink still wants;
 *   emit      to each sink that wants it.
 *
 * The kernel is asked for the union of what the sinks want, and told to
 * shed the cgroups none of them selects (never fork, exec and exit,
 * which keep the process table exact).
 */

/* A container selection: --container, --image, --pod, --host. */
struct vg_selector {
	const char *const *refs; /* ids, unique prefixes (3+), names */
	size_t n_refs;
	const char *image_glob;  /* tried on the reference and its last part */
	const char *pod_ns, *pod_name; /* pod_name may be a glob */
	bool host;               /* processes in no container */
};

/* Whether @sel selects what @a attributes. */
bool vg_selector_matches(const struct vg_selector *sel,
			 const struct vg_attribution *a);

struct vg_sink;
/* A rendered event for @s: @line (no newline) in @s->mode. */
typedef void (*vg_sink_fn)(struct vg_sink *s, const char *line, size_t len,
			   const struct vg_event *e);

/* A consumer of events: a subscription, or vigil watch's stdout. */
struct vg_sink {
	uint64_t types;                 /* VG_E_BIT()s */
	bool threads;                   /* forks of threads too */
	const struct vg_selector *sel;  /* NULL: every container and the host */
	bool pids_only;                 /* selected by pid in the kernel: no
					 * container events */
	const struct vg_filter *filter; /* NULL: everything */
	const char *path_glob;          /* opens and file changes of the
					 * resolved path, or a rename's or
					 * link's source, matching */
	bool present;                   /* also a "running" container event
					 * for each container there before
					 * (vg_engine_tell_present()) */
	enum vg_output_mode mode;
	bool raw;                       /* renders itself: emit gets no line */
	vg_sink_fn emit;
	void *ctx;
	/* the engine's */
	struct vg_sink *next;
	uint64_t delivered;
};

struct vg_engine_opts {
	struct vigil_ctx *ctx;     /* attribution and metadata; the caller's */
	struct vg_source *src;     /* the engine's from here on */
	bool seed_from_proc;       /* the process table from ctx's /proc */
	size_t ptable_max;         /* 0: 65,536 */
	struct vg_rec_writer *rec; /* facts learnt are recorded here too */
};

struct vg_engine;

/* Returns NULL with @err on failure (the source is freed then too). */
struct vg_engine *vg_engine_new(const struct vg_engine_opts *o, char *err,
				size_t errsz);
void vg_engine_free(struct vg_engine *en);

/* Add or remove a sink (the caller's memory, kept until removed); the
 * kernel is told what the sinks want now. Returns 0 or -errno with @err
 * (the sink is not added then). */
int vg_engine_add_sink(struct vg_engine *en, struct vg_sink *s, char *err,
		       size_t errsz);
void vg_engine_remove_sink(struct vg_engine *en, struct vg_sink *s);
/* The sinks changed what they want (types, selection): tell the kernel. */
int vg_engine_update(struct vg_engine *en, char *err, size_t errsz);

/* From now on, programs are attached off the caller's loop where the
 * source can (a daemon's subscriptions). */
void vg_engine_set_async_attach(struct vg_engine *en, bool on);
/* vg_engine_add_sink(), without waiting for the kernel: 0 added and
 * attached, 1 added with *@ret_ticket for vg_engine_attach_status(),
 * or -errno with @err (not added). */
int vg_engine_add_sink_async(struct vg_engine *en, struct vg_sink *s,
			     uint64_t *ret_ticket, char *err, size_t errsz);
/* 1 while @ticket's programs are being attached, 0 once they are,
 * -EIO with @err when attaching failed. */
int vg_engine_attach_status(struct vg_engine *en, uint64_t ticket, char *err,
			    size_t errsz);

/* Start recording to @path in @w (the writer the source was given): the
 * header, the cgroups and the processes there now; the source's records
 * follow. Returns 0 or -errno with @err. */
int vg_engine_record(struct vg_engine *en, struct vg_rec_writer *w,
		     const char *path, char *err, size_t errsz);

/* Only these pids and their descendants, in the kernel (VG_SRC_PIDS). */
int vg_engine_select_pids(struct vg_engine *en, const int *pids, size_t n);

/* What to wait on: the source and the metadata worker. */
int vg_engine_fds(struct vg_engine *en, int fds[2]);
/* Let events flow (after the sinks are in). */
void vg_engine_start(struct vg_engine *en);
/* Read what is there and do the periodic work; never blocks. Returns the
 * wait, in ms, before the next call at the latest; 0: at once. */
int vg_engine_pump(struct vg_engine *en);
/* A finite source is through. */
bool vg_engine_ended(const struct vg_engine *en);
/* The last read error of the source (0: none). */
int vg_engine_error(const struct vg_engine *en);
/* The error in words: what failed (the source's message), or errno's. */
const char *vg_engine_error_why(const struct vg_engine *en);
/* Stop dispatching now (within the batch): a sink has had enough. */
void vg_engine_stop(struct vg_engine *en);
/* At the end: what is still in the source, execs still waiting for
 * argv, held events (after a last short wait for their metadata), and
 * the losses. */
void vg_engine_finish(struct vg_engine *en);

struct vg_engine_stats {
	uint64_t events[64];      /* dispatched, by type */
	uint64_t lost_reported;   /* lost events announced */
	uint64_t held, held_early; /* held; let go before their metadata */
	/* let go before their container's claim was verified: the runtime
	 * recorded no init within the bound (they carry the claim,
	 * unverified) */
	uint64_t held_unverified;
	uint64_t life_evicted;    /* containers no longer followed */
	uint64_t drop_cgroups;    /* cgroups whose events the kernel sheds */
	uint64_t drop_full;       /* not shed: the kernel's set was full */
	uint64_t drop_untracked;  /* decided per event: the table was full */
	uint64_t types;           /* the kernel traces now */
	uint64_t wanted;          /* the sinks ask for */
	uint64_t rendered;        /* renders (an event once per form) */
	uint64_t seq;             /* events some sink took */
	/* a source by pid: processes found in /proc that no record
	 * announced, and exits seen only as absence from /proc */
	uint64_t reconciled_new, reconciled_exits;
	uint64_t lost_unknown;    /* losses reported without a count */
};
void vg_engine_stats(const struct vg_engine *en, struct vg_engine_stats *ret);

/*
 * A "running" container event (container.present set) for each container
 * running now, as /proc shows it, to the sinks with vg_sink.present: the
 * containers that were there before the sensor and show no activity are
 * known to them too. Each waits for its metadata like any event. Live
 * sources only, after vg_engine_start(); nothing to do when no sink asks.
 * Returns the number told, or -errno.
 */
int vg_engine_tell_present(struct vg_engine *en);

/* Calls @fn with the field getter the filters see for @e (valid during
 * the call only), for a sink that evaluates expressions of its own (the
 * rules engine). */
void vg_engine_with_fields(struct vg_engine *en, const struct vg_event *e,
			   void (*fn)(vg_filter_get_fn get, void *get_ctx, void *arg),
			   void *arg);

/* Whether @s's container selection and path take @e (not its types
 * nor its filter): for what a sink is given of an event besides the
 * event itself (the daemon's alerts). */
bool vg_engine_sink_selects(const struct vg_sink *s, const struct vg_event *e);

struct vigil_ctx *vg_engine_ctx(struct vg_engine *en);
struct vg_ptable *vg_engine_ptable(struct vg_engine *en);
struct vg_source *vg_engine_source(struct vg_engine *en);

#endif
