/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_ENGINE_INTERNAL_H
#define VG_ENGINE_INTERNAL_H

/* The engine's parts, shared between its files; not for its users. */

#include "engine/engine.h"
#include "render/event.h"

/* Containers followed through their lifecycle at once; beyond, the
 * oldest is forgotten (and counted). */
#define LIFE_MAX 1024
/* Reads of a starting container's init pid record, at its execs. */
#define LIFE_LOOKUPS 32
/* Events of a container whose metadata is being read wait this long at
 * most, and this many at most. */
#define HOLD_NS (50ull * 1000000ull)
/* An event of a container whose runtime has not recorded its init yet
 * (runc records it at create) waits for the record this long at most. */
#define HOLD_VERIFY_NS (2000ull * 1000000ull)
#define HOLD_MAX 4096
/* The kernel's drop set: cgroups decided, at most half full. */
#define DROP_SLOTS 32768u
/* Types the drop set may shed: not the process table's. */
#define DROP_TYPES                                                             \
	(VG_E_BIT(VG_E_OPEN) | VG_E_BIT(VG_E_CONNECT) | VG_E_BIT(VG_E_ACCEPT) | \
	 VG_E_BIT(VG_E_BIND) | VG_E_BIT(VG_E_LISTEN) | VG_E_BIT(VG_E_FILE) |    \
	 VG_E_BIT(VG_E_SYSCALL) | VG_E_BIT(VG_E_TP))

/* A container's lifecycle, by its cgroup, and its init process as the
 * runtime recorded it (not the first process seen in its cgroup: the
 * runtime's setup processes come and go there first). */
struct life {
	uint64_t cgroup_id; /* 0: free */
	uint64_t seq;       /* age, for eviction */
	int init_pid;       /* 0: not known yet */
	uint8_t lookups;
	bool running, exited;
};

/* A table entry gone from /proc (a source by pid), since when. */
struct missing {
	int pid;
	uint64_t start_ticks;
	uint64_t since_ns;
};
#define MISSING_MAX 4096
/* Processes whose parent is gone, looked up again in /proc at one
 * reconciliation (a source by pid); the rest wait for the next. */
#define ORPHANS_MAX 1024
#define RECONCILE_GRACE_NS (3000ull * 1000000ull)

struct held {
	uint64_t cgroup_id;
	uint64_t since_ns; /* CLOCK_MONOTONIC */
	struct vg_event *e;
};

struct drop_slot {
	uint64_t id;
	uint8_t state; /* DS_* */
};

enum { DS_EMPTY, DS_KEEP, DS_DROP, DS_PENDING };

struct vg_engine {
	struct vigil_ctx *ctx;
	struct vg_source *src;
	struct vg_ptable *pt;
	struct vg_renderer *rend;
	struct vg_rec_writer *rec;
	struct vg_sink *sinks;
	bool live;
	bool started;
	bool stop;         /* a sink had enough: leave the batch */
	bool seeding;      /* seed entries came, the table is not finished */
	bool ended;
	int error;
	char error_why[256]; /* what failed, when it says more than errno */
	uint64_t types;    /* what the kernel traces now */
	/* programs attached off the loop (vg_engine_add_sink_async()) */
	bool async_attach;
	uint64_t attach_gen;            /* the last update's, when pending */
	uint64_t attach_done, attach_fail_lo, attach_fail_hi;
	char attach_err[256];
	bool pid_select;
	/* lifecycle */
	struct life life[LIFE_MAX];
	uint64_t life_seq;
	/* init pids a recording says its runtime recorded (replays only) */
	struct init_fact {
		uint64_t cgroup_id;
		int pid;
	} facts[LIFE_MAX];
	/* hold queue, oldest first */
	struct held held[HOLD_MAX];
	size_t n_held;
	/* the kernel's drop set */
	struct drop_slot *drop;
	size_t n_drop;
	uint64_t drop_types; /* the types it applies to; 0: off */
	/* loss reporting */
	uint64_t lost_seen[VG_E_KERNEL_TYPES];
	uint64_t unmatched_seen;
	/* periodic work */
	uint64_t last_lost_ns, last_clock_ns, last_reconcile_ns;
	/* a source by pid: table entries gone from /proc */
	struct missing *missing;
	size_t n_missing;
	int64_t boot_to_wall_ns;
	uint32_t host_mntns;
	struct vg_engine_stats st;
	uint64_t seq;      /* events some sink took */
	uint64_t num;      /* events some sink's types took (evt.num) */
	struct vg_userdb *userdb; /* user.name, group.name; made at the
				   * first lookup */
	/* the attribution of the event being dispatched, kept for the next
	 * of the same cgroup (a storm's come from one) until metadata is
	 * collected or a cgroup goes */
	struct vg_attribution attr;
	uint64_t attr_cgid;
	uint32_t attr_pid;  /* a source by pid: whose it is, */
	uint64_t attr_start; /* and that process's start */
	int attr_err;
	bool attr_valid;
};

/* select.c */
bool engine_sink_wants(struct vg_engine *en, struct vg_sink *s,
		       const struct vg_event *e);

/* fields.c: whether @e passes @f */
bool engine_filter_matches(struct vg_engine *en, const struct vg_filter *f,
			   const struct vg_event *e);

/* lifecycle.c */
void life_mkdir(struct vg_engine *en, const struct vg_event *e);
void life_exec(struct vg_engine *en, const struct vg_event *e);
void life_exit(struct vg_engine *en, const struct vg_event *e);
void life_rmdir(struct vg_engine *en, const struct vg_event *e);
void life_init_fact(struct vg_engine *en, uint64_t cgid, int pid);

/* drop.c */
void drop_consider(struct vg_engine *en, uint64_t id);
void drop_forget(struct vg_engine *en, uint64_t id);
int drop_update(struct vg_engine *en);
void drop_free(struct vg_engine *en);

/* engine.c: an event made by the engine itself (container lifecycle) */
void engine_emit_made(struct vg_engine *en, struct vg_event *e);
uint64_t engine_mono_ns(void);

#endif
