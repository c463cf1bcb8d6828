/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's loop: events from the source through the process table,
 * the container lifecycle, attribution, the hold queue, each sink's
 * selection and filter, rendering (once per form some sink wants) and
 * out. The loop never waits on I/O of its own: metadata is read by the
 * attribution's worker, and what it has not read yet is waited for only
 * in the hold queue.
 */
#include "engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "base/userdb.h"
#include "base/util.h"
#include "proc/proc.h"

/* Records a batch left in the source are read this soon; otherwise it
 * is read at least this often. */
#define TAIL_MS 5
#define LATENCY_MS 100

uint64_t engine_mono_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

static int64_t wall_offset_now(void)
{
	return (int64_t)vg_clock_ns(CLOCK_REALTIME) -
	       (int64_t)vg_clock_ns(CLOCK_BOOTTIME);
}

/* ------------------------------------------------------------- enrich */

/* The attribution of cgroup @cgid (of @pid's task): by the cgroup id,
 * else, on a host without cgroup v2, by the pid's cgroup file. */
/* What the process table saw of @pid: for a container claim whose
 * recorded init is gone from /proc already. */
static int engine_witness(void *arg, int pid, uint64_t *ret_cgid,
			  uint64_t *ret_start_boot_ns)
{
	struct vg_engine *en = arg;
	const struct vg_pt_entry *pe = vg_ptable_get(en->pt, pid);

	if (!pe || !pe->cgroup_id)
		return -ENOENT;
	*ret_cgid = pe->cgroup_id;
	*ret_start_boot_ns = pe->start_ticks *
			     (1000000000ull / (uint64_t)en->ctx->clk_tck);
	return 0;
}

/* A claim's verdict into the recording, once it is decided: a replay
 * says what the live sensor found. */
static void record_claim(struct vg_engine *en, struct vg_meta_entry *m)
{
	struct vg_rec_claim c = { 0 };
	char body[sizeof(c) + VG_CLAIM_KEY_MAX + sizeof(m->verify_why)];
	size_t kl = strlen(m->key) + 1, wl = strlen(m->verify_why) + 1;

	m->claim_recorded = true;
	if (sizeof(c) + kl + wl > sizeof(body))
		return;
	c.level = (uint32_t)m->verify;
	c.init_pid = m->init_pid;
	c.state_root_pid = m->state_root_pid;
	c.key_len = (uint32_t)kl;
	c.why_len = (uint32_t)wl;
	memcpy(body, &c, sizeof(c));
	memcpy(body + sizeof(c), m->key, kl);
	memcpy(body + sizeof(c) + kl, m->verify_why, wl);
	vg_rec_write(en->rec, VG_REC_CLAIM, body, sizeof(c) + kl + wl);
}

static int attribute(struct vg_engine *en, uint64_t cgid, uint32_t pid,
		     struct vg_attribution *ret)
{
	int r;

	if ((en->src->caps & VG_SRC_BY_PID) && pid) {
		/* the process's own cgroup file, while it lives; once it is
		 * gone, the cgroup it was seen in, never its parent's */
		r = vg_attrib_pid_cgroup(en->ctx, (int)pid, ret);
		if (r == -ESRCH && cgid)
			r = vg_attrib_cgroup_id(en->ctx, cgid, ret);
	} else {
		r = vg_attrib_cgroup_id(en->ctx, cgid, ret);
		if (r < 0 && en->ctx->cg2_fd < 0 && pid && en->live)
			r = vg_attrib_pid_cgroup(en->ctx, (int)pid, ret);
	}
	if (r == 0 && ret->meta && !ret->meta->claim_recorded &&
	    ret->meta->key && ret->meta->verify != VG_VERIFY_PENDING &&
	    en->rec && en->rec->f)
		record_claim(en, ret->meta);
	return r;
}

/* The exec ids of @e, from the process table as it is now. */
static void fill_ids(struct vg_event *e)
{
	struct vg_engine *en = e->x.engine;
	const struct vg_pt_entry *pe = vg_ptable_get(en->pt, (int)e->t.pid);

	vg_ptable_exec_id(en->pt, (int)e->t.pid, e->t.start_ns, e->id_buf[0],
			  sizeof(e->id_buf[0]));
	e->x.exec_id = e->id_buf[0];
	if (pe && pe->parent_exec_id[0]) {
		snprintf(e->id_buf[1], sizeof(e->id_buf[1]), "%s", pe->parent_exec_id);
		e->x.parent_exec_id = e->id_buf[1];
	} else {
		e->x.parent_exec_id = NULL;
	}
	if (e->type == VG_E_FORK)
		vg_ptable_exec_id(en->pt, (int)e->fork.child_pid, e->fork.child_start_ns,
				  e->id_buf[2], sizeof(e->id_buf[2]));
}

/* What the process table and attribution say of @e: the table's exe
 * and version, the container; the exec ids when asked for. */
static void enrich(struct vg_engine *en, struct vg_event *e)
{
	uint64_t cgid = e->type == VG_E_CONTAINER ? e->container.cgroup_id
						  : e->t.cgroup_id;

	if (e->has_task) {
		const struct vg_pt_entry *pe = vg_ptable_get(en->pt, (int)e->t.pid);

		e->x.engine = en;
		e->x.fill_ids = fill_ids;
		e->x.ids_filled = false;
		e->x.exe = e->type == VG_E_EXEC ? e->exec.exe : pe ? pe->exe : NULL;
		e->x.exe_origin = e->type == VG_E_EXEC ? e->exec.exe_origin
				  : pe ? pe->exe_origin : VG_EXE_ORIGIN_UNKNOWN;
		e->x.gen = pe ? pe->gen : 0;
	}
	bool by_pid = (en->src->caps & VG_SRC_BY_PID) && e->has_task;

	if (!en->attr_valid || en->attr_cgid != cgid ||
	    (by_pid && (en->attr_pid != e->t.pid || en->attr_start != e->t.start_ns)) ||
	    (en->attr.meta && en->attr.meta->dropped)) {
		en->attr_err = attribute(en, cgid, e->has_task ? e->t.pid : 0, &en->attr);
		en->attr_cgid = cgid;
		en->attr_pid = e->has_task ? e->t.pid : 0;
		en->attr_start = e->has_task ? e->t.start_ns : 0;
		/* on a host without cgroup v2 the pid decides, not the id;
		 * a source by pid: the same process's next event (a reused
		 * pid has another start) */
		en->attr_valid = en->ctx->cg2_fd >= 0 || !en->live || by_pid;
	}
	e->x.attr_err = en->attr_err;
	e->x.attr = &en->attr;
}

/* ------------------------------------------------------------ deliver */

/* Whether any sink takes events of @e's type (a cheap first look). */
static bool some_sink_takes(struct vg_engine *en, const struct vg_event *e)
{
	for (struct vg_sink *s = en->sinks; s; s = s->next)
		if ((s->types & VG_E_BIT(e->type)) &&
		    (e->type != VG_E_FORK || !e->fork.thread || s->threads) &&
		    (e->type != VG_E_CONTAINER || !e->container.present || s->present))
			return true;
	return false;
}

/* @e to every sink that wants it, rendered once per form. */
static void to_sinks(struct vg_engine *en, struct vg_event *e, bool all)
{
	const char *line[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	bool tried[2] = { false, false }, taken = false;

	for (struct vg_sink *s = en->sinks, *next; s; s = next) {
		int m = s->mode == VG_OUTPUT_TEXT ? 1 : 0;

		next = s->next; /* a sink may go in its emit */
		if (!all && !engine_sink_wants(en, s, e))
			continue;
		if (!taken)
			e->x.seq = ++en->seq;
		taken = true;
		if (s->raw) {
			s->delivered++;
			s->emit(s, NULL, 0, e);
			continue;
		}
		if (!tried[m]) {
			tried[m] = true;
			line[m] = vg_render_event(en->rend, e, s->mode, &len[m]);
			en->st.rendered++;
		}
		if (!line[m])
			continue;
		s->delivered++;
		s->emit(s, line[m], len[m], e);
	}
}

/* Still to be known of @m: its claim's verification (the runtime has not
 * recorded the container's init yet), or its metadata (with the worker). */
static bool meta_waiting(struct vg_engine *en, const struct vg_meta_entry *m)
{
	return m && (m->verify == VG_VERIFY_PENDING ||
		     (en->ctx->meta_worker && m->pending && m->meta.incomplete));
}

static bool metadata_pending(struct vg_engine *en, const struct vg_event *e)
{
	const struct vg_attribution *a = e->x.attr;

	return en->live && !e->x.attr_err && a && meta_waiting(en, a->meta);
}

static uint64_t cgroup_of(const struct vg_event *e)
{
	return e->type == VG_E_CONTAINER ? e->container.cgroup_id : e->t.cgroup_id;
}

/* Let held event @h go, with its container as it is known now. */
static void release_one(struct vg_engine *en, struct held *h)
{
	struct vg_event *e = h->e;

	e->x.attr_err = attribute(en, cgroup_of(e), e->has_task ? e->t.pid : 0,
				  &en->attr);
	e->x.attr = &en->attr;
	en->attr_valid = false;
	to_sinks(en, e, false);
	free(e);
	h->e = NULL;
}

/* Held events of @cgid go out now, before a later one of it that need
 * not wait: a container's events keep their order. */
static void release_held_of(struct vg_engine *en, uint64_t cgid)
{
	size_t kept = 0;

	for (size_t i = 0; i < en->n_held; i++) {
		if (en->held[i].cgroup_id == cgid)
			release_one(en, &en->held[i]);
		else
			en->held[kept++] = en->held[i];
	}
	en->n_held = kept;
}

/* Let held events go, oldest first: those whose metadata is read, and
 * those held too long (@all: every one). */
static void release_held(struct vg_engine *en, bool all)
{
	uint64_t now = engine_mono_ns();
	size_t kept = 0;

	for (size_t i = 0; i < en->n_held; i++) {
		struct held *h = &en->held[i];
		struct vg_attribution a;
		bool pending = false, verifying = false;

		if (attribute(en, h->cgroup_id, 0, &a) == 0 && a.meta) {
			verifying = a.meta->verify == VG_VERIFY_PENDING;
			pending = !all && meta_waiting(en, a.meta) &&
				  now - h->since_ns < (verifying ? HOLD_VERIFY_NS
								 : HOLD_NS);
		}
		if (pending) {
			en->held[kept++] = *h;
		} else {
			if (verifying)
				en->st.held_unverified++;
			release_one(en, h);
		}
	}
	en->n_held = kept;
}

static void hold(struct vg_engine *en, const struct vg_event *e)
{
	struct vg_event *c;

	if (en->n_held == HOLD_MAX) {
		/* full: the oldest goes out as it is, and is counted */
		release_one(en, &en->held[0]);
		memmove(&en->held[0], &en->held[1],
			(en->n_held - 1) * sizeof(en->held[0]));
		en->n_held--;
		en->st.held_early++;
	}
	c = vg_event_dup(e);
	if (!c) { /* out of memory: out now, as it is */
		to_sinks(en, (struct vg_event *)e, false);
		return;
	}
	en->held[en->n_held++] = (struct held){
		.cgroup_id = cgroup_of(e), .since_ns = engine_mono_ns(), .e = c,
	};
	en->st.held++;
}

/* An event of a task or a container, to the sinks that want it: after
 * its container's metadata when that is being read. */
static void deliver(struct vg_engine *en, struct vg_event *e)
{
	if (!some_sink_takes(en, e))
		return;
	e->x.num = ++en->num;
	enrich(en, e);
	if (metadata_pending(en, e)) {
		hold(en, e);
		return;
	}
	if (en->n_held)
		release_held_of(en, cgroup_of(e));
	to_sinks(en, e, false);
}

void engine_emit_made(struct vg_engine *en, struct vg_event *e)
{
	/* a container told as present is no event that happened */
	if (e->type != VG_E_CONTAINER || !e->container.present)
		en->st.events[e->type]++;
	deliver(en, e);
}

/* ------------------------------------------------------------ dispatch */

static void seed_finish(struct vg_engine *en)
{
	if (en->seeding) {
		vg_ptable_seed_finish(en->pt);
		en->seeding = false;
	}
}

/* ------------------------------------------------------------ by pid */

/* The start of @pid (boot ns) as /proc says now; false when it is gone. */
static bool proc_start(struct vg_engine *en, uint32_t pid, uint64_t *ret)
{
	struct vg_proc p;

	if (pid > INT32_MAX || vg_proc_read_stat(en->ctx->proc_fd, (int)pid, &p) < 0)
		return false;
	*ret = p.start_ticks * (1000000000ull / (uint64_t)en->ctx->clk_tck);
	return true;
}

/* What a source by pid (audit) cannot say: the start time, from the
 * process table or /proc (the exec id is flagged when neither knows),
 * and the cgroup, read while the process lives. */
static void by_pid_fill(struct vg_engine *en, struct vg_event *e)
{
	const struct vg_pt_entry *pe = vg_ptable_get(en->pt, (int)e->t.pid);
	uint64_t tick_ns = 1000000000ull / (uint64_t)en->ctx->clk_tck;
	bool live = pe && !pe->exited, read_cgroup = false;
	struct vg_attribution a;

	/* an exec keeps the start; /proc confirms the pid's is this
	 * process's and not a reused pid's */
	bool read = !e->t.start_ns && (e->type == VG_E_EXEC || !live) &&
		    proc_start(en, e->t.pid, &e->t.start_ns);

	if (!e->t.start_ns && !read && pe)
		e->t.start_ns = pe->start_ticks * tick_ns;
	/* neither /proc nor the table knew it: the exec id is a guess */
	if (!e->t.start_ns)
		e->t.start_unknown = true;
	if (e->type == VG_E_FORK && !e->fork.child_start_ns)
		proc_start(en, e->fork.child_pid, &e->fork.child_start_ns);
	/* the cgroup only as the process's own cgroup file said it: at an
	 * exec read now (runc moves its child before the exec), else as
	 * read at an earlier event of it; never its parent's */
	if (e->type != VG_E_EXEC && pe && pe->cgroup_id) {
		e->t.cgroup_id = pe->cgroup_id;
	} else if (vg_attrib_pid_cgroup(en->ctx, (int)e->t.pid, &a) == 0 &&
		   a.cgroup_id) {
		e->t.cgroup_id = a.cgroup_id;
		if (pe && e->type != VG_E_EXEC)
			vg_ptable_set_cgroup(en->pt, (int)e->t.pid, a.cgroup_id);
		/* read just now: this event's attribution (enrich() reads
		 * the file no second time), and its next ones' */
		en->attr = a;
		en->attr_err = 0;
		en->attr_cgid = a.cgroup_id;
		en->attr_pid = e->t.pid;
		en->attr_start = e->t.start_ns;
		en->attr_valid = true;
		read_cgroup = true;
	} else {
		e->t.cgroup_unknown = true;
	}
	/* every record says the parent as it is now: a process whose
	 * parent exited has been reparented */
	if (live && e->t.ppid && pe->ppid != (int)e->t.ppid && e->type != VG_E_EXEC)
		vg_ptable_reparent(en->pt, (int)e->t.pid, (int)e->t.ppid);
	/* an exec whose process was gone before its file was read: never
	 * as it was attributed before the exec (its runtime may have moved
	 * it since) */
	if (!read_cgroup && e->type == VG_E_EXEC)
		en->attr_valid = false;
}

static int on_event(void *ctx, struct vg_event *e);

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

struct recon {
	const struct vg_ptable *pt;
	int *pids;      /* /proc's, ascending */
	size_t n;
	int orphans[ORPHANS_MAX]; /* processes whose parent is gone */
	size_t n_orphans;
	struct missing *now;
	size_t n_now;
};

static int recon_entry(const struct vg_pt_entry *pe, void *arg)
{
	struct recon *rc = arg;
	const struct vg_pt_entry *parent;

	/* a process whose parent is gone was reparented (to a subreaper or
	 * init), which no record says: its parent from /proc */
	if (!pe->exited && pe->ppid > 0 && rc->n_orphans < ORPHANS_MAX &&
	    (!(parent = vg_ptable_get(rc->pt, pe->ppid)) || parent->exited))
		rc->orphans[rc->n_orphans++] = pe->pid;
	if (pe->exited || rc->n_now == MISSING_MAX ||
	    bsearch(&pe->pid, rc->pids, rc->n, sizeof(int), cmp_int))
		return 0;
	rc->now[rc->n_now++] = (struct missing){ .pid = pe->pid,
						 .start_ticks = pe->start_ticks };
	return 0;
}

/* The process table against /proc, for a source that does not record
 * every fork and exit (audit: tasks forked before audit was enabled
 * have no audit context, and a process killed by a signal makes no exit
 * call). A process in /proc the table lacks is added; one the table
 * holds that has been gone from /proc for RECONCILE_GRACE_NS (longer
 * than an exit record takes) exits, its status unknown. */
static void reconcile(struct vg_engine *en, uint64_t now)
{
	struct recon rc = { .pt = en->pt };
	uint64_t tick_ns = 1000000000ull / (uint64_t)en->ctx->clk_tck;

	if (vg_attrib_list_pids(en->ctx, &rc.pids, &rc.n) < 0)
		return;
	for (size_t i = 0; i < rc.n; i++) {
		const struct vg_pt_entry *pe = vg_ptable_get(en->pt, rc.pids[i]);
		struct vg_proc p;
		char path[32], exe[4096];
		ssize_t n;

		if ((pe && !pe->exited) ||
		    vg_proc_read_stat(en->ctx->proc_fd, rc.pids[i], &p) < 0)
			continue;
		snprintf(path, sizeof(path), "%d/exe", rc.pids[i]);
		n = vg_readlink_at(en->ctx->proc_fd, path, exe, sizeof(exe));
		vg_ptable_exec(en->pt, rc.pids[i], p.ppid, p.start_ticks * tick_ns,
			       n > 0 ? exe : NULL, p.comm);
		en->st.reconciled_new++;
	}
	rc.now = calloc(MISSING_MAX, sizeof(*rc.now));
	if (!rc.now) {
		free(rc.pids);
		return;
	}
	vg_ptable_foreach(en->pt, recon_entry, &rc);
	free(rc.pids);
	for (size_t i = 0; i < rc.n_orphans; i++) {
		struct vg_proc p;

		if (vg_proc_read_stat(en->ctx->proc_fd, rc.orphans[i], &p) == 0)
			vg_ptable_reparent(en->pt, rc.orphans[i], p.ppid);
	}
	for (size_t i = 0; i < rc.n_now; i++) {
		struct missing *m = &rc.now[i];

		m->since_ns = now;
		for (size_t j = 0; j < en->n_missing; j++)
			if (en->missing[j].pid == m->pid &&
			    en->missing[j].start_ticks == m->start_ticks) {
				m->since_ns = en->missing[j].since_ns;
				break;
			}
	}
	free(en->missing);
	en->missing = rc.now;
	en->n_missing = rc.n_now;
	for (size_t i = 0; i < en->n_missing;) {
		struct missing m = en->missing[i];
		const struct vg_pt_entry *pe;
		struct vg_event e = { .type = VG_E_EXIT, .has_task = true };

		if (now - m.since_ns < RECONCILE_GRACE_NS) {
			i++;
			continue;
		}
		en->missing[i] = en->missing[--en->n_missing];
		pe = vg_ptable_get(en->pt, m.pid);
		if (!pe || pe->exited || pe->start_ticks != m.start_ticks)
			continue;
		e.t.pid = e.t.tid = (uint32_t)m.pid;
		e.t.ppid = (uint32_t)pe->ppid;
		e.t.start_ns = m.start_ticks * tick_ns;
		e.t.ktime_ns = vg_clock_ns(CLOCK_BOOTTIME);
		e.t.no_cpu = true;
		e.t.cgroup_id = pe->cgroup_id;
		memcpy(e.t.comm, pe->comm, sizeof(e.t.comm));
		e.exit.status_unknown = true;
		en->st.reconciled_exits++;
		on_event(en, &e);
	}
}

static int on_event(void *ctx, struct vg_event *e)
{
	struct vg_engine *en = ctx;

	if (e->type < 64)
		en->st.events[e->type]++;
	switch (e->type) {
	case VG_E_PROC_SEED:
		vg_ptable_seed_entry(en->pt, e->seed.pid, e->seed.ppid,
				     e->seed.start_ticks, e->t.comm, e->seed.exe);
		en->seeding = true;
		return 0;
	case VG_E_CGROUP_MKDIR:
		en->attr_valid = false;
		/* attributed now, while it exists: a short-lived container's
		 * cgroup may be gone when its events are read; its metadata
		 * is read meanwhile, off this path */
		if (e->cgroup.path)
			vg_attrib_cgroup_learn(en->ctx, e->cgroup.id, e->cgroup.path,
					       NULL);
		if (!e->cgroup.existing)
			life_mkdir(en, e);
		return en->stop ? -ECANCELED : 0;
	case VG_E_CGROUP_RMDIR:
		en->attr_valid = false;
		life_rmdir(en, e);
		drop_forget(en, e->cgroup.id);
		return en->stop ? -ECANCELED : 0;
	case VG_E_INIT_PID:
		life_init_fact(en, e->init.cgroup_id, e->init.pid);
		return 0;
	case VG_E_LOST:
		en->st.lost_reported += e->lost.total;
		if (e->lost.count_unknown)
			en->st.lost_unknown++;
		to_sinks(en, e, true);
		return en->stop ? -ECANCELED : 0;
	default:
		break;
	}
	if (!e->has_task)
		return 0;
	seed_finish(en);
	if (en->src->caps & VG_SRC_BY_PID)
		by_pid_fill(en, e);
	if (e->type < 64 && (en->drop_types & VG_E_BIT(e->type)))
		drop_consider(en, e->t.cgroup_id);
	switch (e->type) {
	case VG_E_FORK:
		if (!e->fork.thread && e->fork.child_pid) {
			vg_ptable_fork(en->pt, (int)e->t.pid, (int)e->fork.child_pid,
				       e->fork.child_start_ns);
			/* the kernel's word at the fork; a source by pid has
			 * only the parent's file then: the child's own is
			 * read at its first event */
			if (!(en->src->caps & VG_SRC_BY_PID))
				vg_ptable_set_cgroup(en->pt, (int)e->fork.child_pid,
						     e->t.cgroup_id);
			/* a pid selection follows descendants */
			if (en->pid_select && en->src->ops->select_pid)
				en->src->ops->select_pid(en->src, e->fork.child_pid,
							 true);
		}
		deliver(en, e);
		break;
	case VG_E_EXEC:
		/* the kernel's comm at the exec is the new program's */
		vg_ptable_exec(en->pt, (int)e->t.pid, (int)e->t.ppid, e->t.start_ns,
			       e->exec.exe, e->t.comm);
		/* kept whole only: its children's proc.pcmdline */
		if (!e->exec.args_truncated && !e->exec.args_incomplete)
			vg_ptable_set_args(en->pt, (int)e->t.pid, e->exec.args,
					   e->exec.args_len);
		vg_ptable_set_cgroup(en->pt, (int)e->t.pid, e->t.cgroup_id);
		vg_ptable_set_exe_origin(en->pt, (int)e->t.pid, e->exec.exe_origin);
		life_exec(en, e); /* "running" comes before the exec itself */
		deliver(en, e);
		break;
	case VG_E_EXIT:
		deliver(en, e);
		life_exit(en, e);
		vg_ptable_exit(en->pt, (int)e->t.pid);
		if (en->pid_select && en->src->ops->select_pid)
			en->src->ops->select_pid(en->src, e->t.pid, false);
		break;
	default:
		deliver(en, e);
		break;
	}
	return en->stop ? -ECANCELED : 0;
}

/* New losses since the last report, as a lost event for every sink. */
static void report_lost(struct vg_engine *en)
{
	uint64_t now[VG_E_KERNEL_TYPES] = { 0 }, unmatched = 0;
	struct vg_event e = { .type = VG_E_LOST };

	if (!en->src->ops->lost ||
	    en->src->ops->lost(en->src, now, &unmatched) < 0)
		return;
	for (int t = 0; t < VG_E_KERNEL_TYPES; t++) {
		uint64_t d = now[t] >= en->lost_seen[t] ? now[t] - en->lost_seen[t] : 0;

		e.lost.by_type[t] = d;
		e.lost.total += d;
		en->lost_seen[t] = now[t];
	}
	if (unmatched > en->unmatched_seen) {
		e.lost.unmatched = unmatched - en->unmatched_seen;
		e.lost.total += e.lost.unmatched;
	}
	en->unmatched_seen = unmatched;
	if (!e.lost.total)
		return;
	e.t.ktime_ns = vg_clock_ns(CLOCK_BOOTTIME);
	en->st.lost_reported += e.lost.total;
	en->st.events[VG_E_LOST]++;
	to_sinks(en, &e, true);
}

/* ------------------------------------------------------------ the loop */

static void attach_poll(struct vg_engine *en);

int vg_engine_pump(struct vg_engine *en)
{
	struct vg_source *src = en->src;
	uint64_t now;
	int r;

	if (vg_meta_worker_collect(en->ctx)) {
		vg_renderer_forget(en->rend);
		en->attr_valid = false;
	}
	/* attaches done off the loop: their links taken, their wakeup read */
	if (en->async_attach)
		attach_poll(en);
	/* a recording plays when someone listens */
	if (en->ended || (!en->live && !en->sinks))
		return LATENCY_MS;
	en->stop = false;
	r = src->ops->pump(src, false, on_event, en);
	if (r < 0 && r != -EINTR && r != -ECANCELED)
		en->error = r;
	if (src->ops->tick)
		src->ops->tick(src, false, on_event, en);
	if ((src->caps & VG_SRC_BY_PID) && en->live &&
	    engine_mono_ns() - en->last_reconcile_ns >= 1000000000ull) {
		en->last_reconcile_ns = engine_mono_ns();
		reconcile(en, en->last_reconcile_ns);
	}
	if (en->n_held)
		release_held(en, false);
	now = engine_mono_ns();
	if (en->live && now - en->last_lost_ns >= 1000000000ull) {
		report_lost(en);
		en->last_lost_ns = now;
	}
	if (en->live && now - en->last_clock_ns >= 60ull * 1000000000ull) {
		en->boot_to_wall_ns = wall_offset_now();
		vg_renderer_set_clock(en->rend, en->boot_to_wall_ns);
		en->last_clock_ns = now;
	}
	if (src->ops->ended && src->ops->ended(src)) {
		en->ended = true;
		return LATENCY_MS;
	}
	if (src->ops->behind && src->ops->behind(src))
		return 0;
	if (src->ops->pending && src->ops->pending(src))
		return TAIL_MS;
	return en->n_held ? 10 : LATENCY_MS;
}

void vg_engine_finish(struct vg_engine *en)
{
	struct vg_source *src = en->src;

	if (!en->stop) {
		src->ops->pump(src, true, on_event, en);
		if (src->ops->tick)
			src->ops->tick(src, true, on_event, en);
	}
	seed_finish(en);
	/* the last reads still under way are given a moment */
	for (int i = 0; i < 10 && en->n_held; i++) {
		if (vg_meta_worker_collect(en->ctx))
			vg_renderer_forget(en->rend);
		release_held(en, false);
		if (en->n_held)
			usleep(10000);
	}
	release_held(en, true);
	if (en->live)
		report_lost(en);
}

/* ------------------------------------------------------------- sinks */

/* What the kernel must trace for the sinks: their types, the process
 * table's always, and an exec's argv only when someone shows execs. */
static uint64_t kernel_types(struct vg_engine *en)
{
	uint64_t t = 0;

	for (struct vg_sink *s = en->sinks; s; s = s->next)
		t |= s->types;
	t &= VG_E_BIT(VG_E_KERNEL_TYPES) - 1;
	if (t & VG_E_BIT(VG_E_EXEC))
		t |= VG_E_BIT(VG_E_EXEC_ARGS);
	return t | VG_E_TABLE_TYPES;
}

int vg_engine_update(struct vg_engine *en, char *err, size_t errsz)
{
	uint64_t t = kernel_types(en);
	int r;

	if (drop_update(en) < 0)
		vg_set_err(err, errsz, "the kernel's drop set: out of memory");
	if (!en->started || t == en->types)
		return 0;
	if (en->async_attach && en->src->ops->set_types_async) {
		uint64_t gen = 0;

		r = en->src->ops->set_types_async(en->src, t, &gen, err, errsz);
		if (r < 0)
			return r;
		en->types = t;
		if (r > 0)
			en->attach_gen = gen;
		return r;
	}
	r = en->src->ops->set_types(en->src, t, err, errsz);
	if (r < 0)
		return r;
	en->types = t;
	return 0;
}

void vg_engine_set_async_attach(struct vg_engine *en, bool on)
{
	en->async_attach = on;
}

/* "connect, bind" of @types, for messages (a static buffer). */
static const char *type_names(uint64_t types)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t t = 0; t < 64 && o < sizeof(buf); t++)
		if (types & VG_E_BIT(t))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
					      o ? ", " : "", vg_event_type_name(t));
	return buf;
}

int vg_engine_add_sink_async(struct vg_engine *en, struct vg_sink *s,
			     uint64_t *ret_ticket, char *err, size_t errsz)
{
	int r;

	/* a field the source never fills would make the filter silently
	 * false (or true under "not"): refused, with why */
	uint64_t fmask = s->filter ? vg_filter_type_mask(s->filter, vg_event_type_bits, NULL)
				   : 0;

	for (const struct vg_source_lack *l = en->src->lacks; s->filter && l && l->field; l++)
		for (int id = 0; id < VG_F_COUNT; id++)
			if (strcmp(vg_filter_field_name(id), l->field) == 0 &&
			    vg_filter_uses_field(s->filter, id) &&
			    (!l->types || (l->types & s->types & fmask))) {
				vg_set_err(err, errsz, "the %s source has no %s%s%s: %s",
					   en->src->ops->name, l->field,
					   l->types ? " for " : "",
					   l->types ? type_names(l->types & s->types & fmask)
						    : "", l->why);
				return -EOPNOTSUPP;
			}
	uint64_t lacking = en->src->types ? s->types & ~en->src->types : 0;

	for (uint32_t t = 0; lacking && t < 64; t++)
		if (lacking & VG_E_BIT(t)) {
			vg_set_err(err, errsz, "the %s source has no %s events",
				   en->src->ops->name, vg_event_type_name(t));
			return -EOPNOTSUPP;
		}
	s->next = en->sinks;
	en->sinks = s;
	s->delivered = 0;
	r = vg_engine_update(en, err, errsz);
	if (r < 0)
		vg_engine_remove_sink(en, s);
	else if (r > 0)
		*ret_ticket = en->attach_gen;
	return r;
}

/* What the source's thread has done. */
static void attach_poll(struct vg_engine *en)
{
	if (en->src->ops->attach_poll)
		en->src->ops->attach_poll(en->src, &en->attach_done,
					  &en->attach_fail_lo, &en->attach_fail_hi,
					  en->attach_err, sizeof(en->attach_err));
}

int vg_engine_attach_status(struct vg_engine *en, uint64_t ticket, char *err,
			    size_t errsz)
{
	attach_poll(en);
	if (ticket > en->attach_done)
		return 1;
	if (en->attach_fail_lo && ticket >= en->attach_fail_lo &&
	    ticket <= en->attach_fail_hi) {
		vg_set_err(err, errsz, "%s", en->attach_err);
		return -EIO;
	}
	return 0;
}

int vg_engine_add_sink(struct vg_engine *en, struct vg_sink *s, char *err,
		       size_t errsz)
{
	uint64_t ticket;
	int r = vg_engine_add_sink_async(en, s, &ticket, err, errsz);

	return r < 0 ? r : 0;
}

void vg_engine_remove_sink(struct vg_engine *en, struct vg_sink *s)
{
	for (struct vg_sink **pp = &en->sinks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->next = NULL;
	vg_engine_update(en, NULL, 0);
}

int vg_engine_select_pids(struct vg_engine *en, const int *pids, size_t n)
{
	if (!(en->src->caps & VG_SRC_PIDS))
		return -EOPNOTSUPP;
	for (size_t i = 0; i < n; i++)
		en->src->ops->select_pid(en->src, (uint32_t)pids[i], true);
	en->src->ops->select_pids_on(en->src, true);
	en->pid_select = true;
	return 0;
}

void vg_engine_start(struct vg_engine *en)
{
	char err[256];

	if (en->started)
		return;
	en->started = true;
	en->types = 0;
	err[0] = '\0';
	if (vg_engine_update(en, err, sizeof(err)) < 0) {
		en->error = -EIO;
		snprintf(en->error_why, sizeof(en->error_why), "%s", err);
	}
	en->last_lost_ns = en->last_clock_ns = engine_mono_ns();
}

void vg_engine_stop(struct vg_engine *en)
{
	en->stop = true;
}

/* ---------------------------------------------------------- recording */

static int rec_proc(const struct vg_pt_entry *e, void *ctx)
{
	struct vg_rec_writer *w = ctx;
	size_t xl = e->exe ? strlen(e->exe) + 1 : 0;
	uint8_t body[sizeof(struct vg_rec_proc) + 4097];
	struct vg_rec_proc p = {
		.pid = e->pid, .ppid = e->ppid, .start_ticks = e->start_ticks,
	};

	if (xl > 4097)
		xl = 0;
	p.exe_len = (uint32_t)xl;
	memcpy(p.comm, e->comm, sizeof(p.comm));
	memcpy(body, &p, sizeof(p));
	if (xl)
		memcpy(body + sizeof(p), e->exe, xl);
	return vg_rec_write(w, VG_REC_PROC, body, sizeof(p) + xl);
}

int vg_engine_record(struct vg_engine *en, struct vg_rec_writer *w,
		     const char *path, char *err, size_t errsz)
{
	struct vg_rec_header h = { 0 };
	struct utsname u;
	int r;

	h.boot_to_wall_ns = (uint64_t)en->boot_to_wall_ns;
	h.clk_tck = (uint64_t)en->ctx->clk_tck;
	if (uname(&u) == 0) {
		snprintf(h.kernel, sizeof(h.kernel), "%s", u.release);
		snprintf(h.machine, sizeof(h.machine), "%s", u.machine);
	}
	snprintf(h.vigil_version, sizeof(h.vigil_version), "%d.%d.%d",
		 VIGIL_VERSION_MAJOR, VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
	if (en->ctx->have_boot_id)
		snprintf(h.boot_id, sizeof(h.boot_id), "%s", en->ctx->boot_id);
	snprintf(h.host_root, sizeof(h.host_root), "%s", en->ctx->host_root);
	r = vg_rec_open(w, path, &h, err, errsz);
	if (r < 0)
		return r;
	r = vg_rec_write_cgroups(w, en->ctx->cg2_fd);
	if (!r)
		r = vg_ptable_foreach(en->pt, rec_proc, w);
	if (r < 0) {
		vg_set_err(err, errsz, "%s: %s", path, strerror(-r));
		vg_rec_close(w);
	}
	en->rec = w;
	return r;
}

/* --------------------------------------------------------- the object */

struct vg_engine *vg_engine_new(const struct vg_engine_opts *o, char *err,
				size_t errsz)
{
	struct vg_engine *en = calloc(1, sizeof(*en));
	struct vg_source *src = o->src;
	struct stat st;
	const char *boot_id;

	if (!en) {
		vg_set_err(err, errsz, "out of memory");
		vg_source_free(src);
		return NULL;
	}
	en->ctx = o->ctx;
	en->src = src;
	en->rec = o->rec;
	en->live = src->caps & VG_SRC_LIVE;
	boot_id = src->have_boot_id ? src->boot_id
		  : en->ctx->have_boot_id ? en->ctx->boot_id : NULL;
	en->pt = vg_ptable_new(o->ptable_max ? o->ptable_max : 65536, boot_id,
			       en->ctx->clk_tck);
	en->rend = vg_renderer_new();
	if (!en->pt || !en->rend) {
		vg_set_err(err, errsz, "out of memory");
		vg_engine_free(en);
		return NULL;
	}
	en->boot_to_wall_ns = src->boot_to_wall_ns ? src->boot_to_wall_ns
						   : wall_offset_now();
	vg_renderer_set_clock(en->rend, en->boot_to_wall_ns);
	/* a live sensor's process table witnesses the inits of containers
	 * that end before their claim is verified */
	if (en->live && !en->ctx->witness_fn) {
		en->ctx->witness_fn = engine_witness;
		en->ctx->witness_arg = en;
	}
	/* whose paths are host paths as they are: the host's (pid 1's), or,
	 * where that is not readable, vigil's own */
	if (fstatat(en->ctx->proc_fd, "1/ns/mnt", &st, 0) == 0 ||
	    fstatat(en->ctx->proc_fd, "self/ns/mnt", &st, 0) == 0)
		en->host_mntns = (uint32_t)st.st_ino;
	vg_renderer_set_host_mntns(en->rend, en->host_mntns);
	if (o->seed_from_proc) {
		int r = vg_ptable_seed(en->pt, en->ctx->proc_fd);

		if (r < 0)
			vg_set_err(err, errsz, "seeding the process table: %s",
				   strerror(-r));
	}
	return en;
}

void vg_engine_free(struct vg_engine *en)
{
	if (!en)
		return;
	for (size_t i = 0; i < en->n_held; i++)
		free(en->held[i].e);
	drop_free(en);
	free(en->missing);
	if (en->ctx && en->ctx->witness_arg == (void *)en) {
		en->ctx->witness_fn = NULL;
		en->ctx->witness_arg = NULL;
	}
	/* a replay's verdicts go with it */
	if (en->ctx && en->ctx->verify_arg == (void *)en->src) {
		en->ctx->verify_fn = NULL;
		en->ctx->verify_arg = NULL;
	}
	vg_source_free(en->src);
	vg_renderer_free(en->rend);
	vg_ptable_free(en->pt);
	vg_userdb_free(en->userdb);
	free(en);
}

int vg_engine_fds(struct vg_engine *en, int fds[2])
{
	int n = 0, fd = en->src->ops->fd ? en->src->ops->fd(en->src) : -1;

	if (fd >= 0)
		fds[n++] = fd;
	fd = vg_meta_worker_fd(en->ctx);
	if (fd >= 0)
		fds[n++] = fd;
	return n;
}

bool vg_engine_ended(const struct vg_engine *en)
{
	return en->ended;
}

const char *vg_engine_error_why(const struct vg_engine *en)
{
	return en->error_why[0] ? en->error_why : vg_strerror(-en->error);
}

int vg_engine_error(const struct vg_engine *en)
{
	return en->error;
}

void vg_engine_stats(const struct vg_engine *en, struct vg_engine_stats *ret)
{
	*ret = en->st;
	ret->types = en->types;
	ret->seq = en->seq;
	ret->wanted = 0;
	for (const struct vg_sink *s = en->sinks; s; s = s->next)
		ret->wanted |= s->types;
}

struct vigil_ctx *vg_engine_ctx(struct vg_engine *en)
{
	return en->ctx;
}

struct vg_ptable *vg_engine_ptable(struct vg_engine *en)
{
	return en->pt;
}

struct vg_source *vg_engine_source(struct vg_engine *en)
{
	return en->src;
}
