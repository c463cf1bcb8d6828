/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers' lifecycle, made from cgroup and process events: created
 * (its cgroup appears), running (the init process its runtime recorded
 * execs the container's command), exited (that init ends), destroyed
 * (the cgroup goes). The init is the pid file runc writes at create,
 * before the command runs: the runtime's setup processes, which exec and
 * exit in the cgroup first, are never taken for it.
 */
#include "engine/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "runtime/runtime.h"

static struct life *life_find(struct vg_engine *en, uint64_t cgid)
{
	if (!cgid)
		return NULL;
	for (size_t i = 0; i < 8; i++) {
		struct life *l = &en->life[(cgid + i) % LIFE_MAX];

		if (l->cgroup_id == cgid)
			return l;
	}
	return NULL;
}

static struct life *life_add(struct vg_engine *en, uint64_t cgid)
{
	struct life *old = NULL;

	for (size_t i = 0; i < 8; i++) {
		struct life *l = &en->life[(cgid + i) % LIFE_MAX];

		if (!l->cgroup_id || l->cgroup_id == cgid) {
			old = l;
			break;
		}
		if (!old || l->seq < old->seq)
			old = l;
	}
	if (old->cgroup_id && old->cgroup_id != cgid)
		en->st.life_evicted++;
	*old = (struct life){ .cgroup_id = cgid, .seq = ++en->life_seq };
	return old;
}

/* A container event: @state of the container in cgroup @cgid, at the
 * time and on the cpu of @cause, the event that showed it. */
static void emit_state(struct vg_engine *en, const struct vg_event *cause,
		       uint64_t cgid, const char *state, int init_pid,
		       int exit_status)
{
	struct vg_event e = { .type = VG_E_CONTAINER };

	e.t.ktime_ns = cause->t.ktime_ns;
	e.t.cpu = cause->t.cpu;
	e.container.state = state;
	e.container.cgroup_id = cgid;
	e.container.init_pid = init_pid;
	e.container.exit_status = exit_status;
	engine_emit_made(en, &e);
}

void life_mkdir(struct vg_engine *en, const struct vg_event *e)
{
	struct vg_attribution a;

	if (vg_attrib_cgroup_id(en->ctx, e->cgroup.id, &a) < 0 ||
	    a.match.role != VG_ROLE_CONTAINER)
		return;
	life_add(en, e->cgroup.id);
	emit_state(en, e, e->cgroup.id, "created", 0, -1);
}

/* The runtime's record of @l's init pid, read while it is unknown. In a
 * replay the recording says it instead (life_init_fact). */
static void read_init(struct vg_engine *en, struct life *l)
{
	struct vg_attribution a;

	if (l->init_pid || l->lookups >= LIFE_LOOKUPS)
		return;
	if (!en->live) {
		const struct init_fact *f = &en->facts[l->cgroup_id % LIFE_MAX];

		if (f->cgroup_id == l->cgroup_id)
			l->init_pid = f->pid;
		return;
	}
	l->lookups++;
	if (vg_attrib_cgroup_id(en->ctx, l->cgroup_id, &a) < 0 ||
	    a.match.role != VG_ROLE_CONTAINER)
		return;
	if (vg_runtime_init_pid(&en->ctx->rt_cfg, en->ctx->root_fd, &a.match,
				&l->init_pid) < 0 &&
	    a.meta && a.meta->meta.init_pid > 0)
		l->init_pid = a.meta->meta.init_pid;
	if (l->init_pid && en->rec && en->rec->f) {
		struct vg_rec_init_pid f = { l->cgroup_id, l->init_pid, 0 };

		vg_rec_write(en->rec, VG_REC_INIT_PID, &f, sizeof(f));
	}
}

void life_init_fact(struct vg_engine *en, uint64_t cgid, int pid)
{
	en->facts[cgid % LIFE_MAX] = (struct init_fact){ cgid, pid };
}

void life_exec(struct vg_engine *en, const struct vg_event *e)
{
	struct life *l = life_find(en, e->t.cgroup_id);

	if (!l || l->running)
		return;
	read_init(en, l);
	if (!l->init_pid || l->init_pid != (int)e->t.pid)
		return;
	l->running = true;
	emit_state(en, e, e->t.cgroup_id, "running", l->init_pid, -1);
}

void life_exit(struct vg_engine *en, const struct vg_event *e)
{
	struct life *l = life_find(en, e->t.cgroup_id);

	if (!l) {
		/* a container running before the source began: known by
		 * the init pid its metadata holds */
		struct vg_attribution a;

		if (vg_attrib_cgroup_id(en->ctx, e->t.cgroup_id, &a) < 0 ||
		    a.match.role != VG_ROLE_CONTAINER || !a.meta ||
		    a.meta->meta.init_pid != (int)e->t.pid)
			return;
		l = life_add(en, e->t.cgroup_id);
		l->init_pid = (int)e->t.pid;
		l->running = true;
	}
	if (!l->running || l->exited || l->init_pid != (int)e->t.pid)
		return;
	l->exited = true;
	emit_state(en, e, e->t.cgroup_id, "exited", l->init_pid,
		   (int)e->exit.status);
}

void life_rmdir(struct vg_engine *en, const struct vg_event *e)
{
	struct life *l = life_find(en, e->cgroup.id);

	if (!l)
		return;
	emit_state(en, e, e->cgroup.id, "destroyed", l->init_pid, -1);
	l->cgroup_id = 0;
}

/* A container seen in /proc: the first of its processes' cgroups. */
struct present {
	int runtime;
	uint64_t cgroup_id;
	int init_pid;
	size_t order; /* its place in pid order */
	char id[VG_CONTAINER_ID_MAX + 1];
};

/* By container; a container's first process (the lowest pid) first. */
static int present_cmp(const void *a, const void *b)
{
	const struct present *x = a, *y = b;
	int c;

	if (x->runtime != y->runtime)
		return x->runtime < y->runtime ? -1 : 1;
	if ((c = strcmp(x->id, y->id)))
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool same_container(const struct present *x, const struct present *y)
{
	return x->runtime == y->runtime && !strcmp(x->id, y->id);
}

int vg_engine_tell_present(struct vg_engine *en)
{
	struct present *cs = NULL;
	bool wanted = false;
	int *pids = NULL, told = 0, r;
	size_t n = 0, nc = 0;

	for (struct vg_sink *k = en->sinks; k; k = k->next)
		if (k->present && (k->types & VG_E_BIT(VG_E_CONTAINER)))
			wanted = true;
	if (!wanted || !en->live)
		return 0;
	/* each process's cgroup file, as the daemon's warm-up reads it (the
	 * containers' metadata is cached by then): no more of /proc */
	r = vg_attrib_list_pids(en->ctx, &pids, &n);
	if (r < 0)
		return r;
	if (n && !(cs = calloc(n, sizeof(*cs)))) {
		free(pids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct vg_attribution a;

		if (vg_attrib_pid_cgroup(en->ctx, pids[i], &a) < 0 ||
		    a.match.role != VG_ROLE_CONTAINER || !a.cgroup_id ||
		    !a.match.container_id[0])
			continue;
		cs[nc] = (struct present){
			.runtime = (int)a.match.runtime, .cgroup_id = a.cgroup_id,
			/* the runtime's word only: the eldest process is no init */
			.init_pid = a.meta && a.meta->init_pid > 0 ? a.meta->init_pid : 0,
			.order = nc,
		};
		snprintf(cs[nc].id, sizeof(cs[nc].id), "%s", a.match.container_id);
		nc++;
	}
	free(pids);
	if (nc)
		qsort(cs, nc, sizeof(*cs), present_cmp);
	for (size_t i = 0; i < nc; i++) {
		struct vg_event e = { .type = VG_E_CONTAINER };

		if (i && same_container(&cs[i - 1], &cs[i]))
			continue;
		e.t.ktime_ns = vg_clock_ns(CLOCK_BOOTTIME);
		e.t.no_cpu = true;
		e.container.state = "running";
		e.container.cgroup_id = cs[i].cgroup_id;
		e.container.init_pid = cs[i].init_pid;
		e.container.exit_status = -1;
		e.container.present = true;
		engine_emit_made(en, &e);
		told++;
	}
	free(cs);
	return told;
}
