/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ptable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "base/util.h"

/* Open addressing, linear probing, deletion by backward shift; the table
 * is kept at most half full so probes stay short. */
struct vg_ptable {
	struct vg_pt_entry *slots;
	size_t cap;  /* power of two, >= 2 * max */
	size_t n, max;
	uint64_t seq, gen;
	char boot_id[40];
	bool have_boot_id;
	uint64_t ns_per_tick;
	struct vg_ptable_stats st;
	/* Exited processes stay findable until VG_PT_EXITED_KEEP more have
	 * exited: events of a process can arrive after its exit (other
	 * CPUs, the parent's SIGCHLD). A FIFO of (pid, start). */
	struct { int pid; uint64_t start_ticks; } exited[VG_PT_EXITED_KEEP];
	size_t exited_head, n_exited;
};

static size_t slot_of(const struct vg_ptable *t, int pid)
{
	uint32_t h = (uint32_t)pid * 2654435761u;

	return h & (t->cap - 1);
}

struct vg_ptable *vg_ptable_new(size_t max, const char *boot_id, long clk_tck)
{
	struct vg_ptable *t = calloc(1, sizeof(*t));
	size_t cap = 16;

	if (!t)
		return NULL;
	if (max < 16)
		max = 16;
	while (cap < 2 * max)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->cap = cap;
	t->max = max;
	if (boot_id && *boot_id) {
		snprintf(t->boot_id, sizeof(t->boot_id), "%s", boot_id);
		t->have_boot_id = true;
	}
	t->ns_per_tick = clk_tck > 0 ? 1000000000ull / (uint64_t)clk_tck
				     : 10000000ull;
	return t;
}

/* The slots are one allocation for the most processes the table may
 * hold; at 256 bytes a slot the default table stays within what glibc
 * keeps on its heap after a first free (32 MiB), rather than a fresh
 * mmap whose every page faults again: engines made and freed in a row
 * (tests, replays) pay that each time. */
_Static_assert(sizeof(struct vg_pt_entry) <= 256, "a process table slot grew");

/* What an entry owns. */
static void entry_release(struct vg_pt_entry *e)
{
	free(e->exe);
	free(e->args);
	free(e->sess);
}

void vg_ptable_free(struct vg_ptable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		entry_release(&t->slots[i]);
	free(t->slots);
	free(t);
}

static struct vg_pt_entry *find(const struct vg_ptable *t, int pid)
{
	for (size_t i = slot_of(t, pid), k = 0; k < t->cap;
	     i = (i + 1) & (t->cap - 1), k++) {
		if (t->slots[i].pid == pid)
			return &t->slots[i];
		if (!t->slots[i].pid)
			return NULL;
	}
	return NULL;
}

const struct vg_pt_entry *vg_ptable_get(const struct vg_ptable *t, int pid)
{
	return pid > 0 ? find(t, pid) : NULL;
}

static void remove_slot(struct vg_ptable *t, size_t i)
{
	entry_release(&t->slots[i]);
	t->slots[i] = (struct vg_pt_entry){ 0 };
	t->n--;
	/* backward shift: entries after the hole that probed past it move
	 * into it */
	for (size_t j = (i + 1) & (t->cap - 1); t->slots[j].pid;
	     j = (j + 1) & (t->cap - 1)) {
		size_t home = slot_of(t, t->slots[j].pid);

		if (((j - home) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
			t->slots[i] = t->slots[j];
			t->slots[j] = (struct vg_pt_entry){ 0 };
			i = j;
		}
	}
}

/* The oldest entry goes when the table is full: a scan, but only then. */
static void evict_oldest(struct vg_ptable *t)
{
	size_t victim = t->cap;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].pid &&
		    (victim == t->cap || t->slots[i].seq < t->slots[victim].seq))
			victim = i;
	if (victim < t->cap) {
		remove_slot(t, victim);
		t->st.evicted++;
	}
}

static struct vg_pt_entry *insert(struct vg_ptable *t, int pid)
{
	struct vg_pt_entry *e = find(t, pid);

	if (e) {
		/* a stale entry (a missed exit): start afresh */
		entry_release(e);
		*e = (struct vg_pt_entry){ .pid = pid };
		e->seq = ++t->seq;
		e->gen = ++t->gen;
		return e;
	}
	if (t->n >= t->max)
		evict_oldest(t);
	for (size_t i = slot_of(t, pid);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i].pid) {
			e = &t->slots[i];
			e->pid = pid;
			e->seq = ++t->seq;
			e->gen = ++t->gen;
			t->n++;
			return e;
		}
	}
}

void vg_ptable_exec_id(const struct vg_ptable *t, int pid, uint64_t start_ns,
		       char *buf, size_t bufsz)
{
	const struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;

	/* the entry's own, already formatted, when it is this process */
	if (e && e->start_ticks == start_ns / t->ns_per_tick && bufsz) {
		size_t n = strnlen(e->exec_id, sizeof(e->exec_id));

		if (n >= bufsz)
			n = bufsz - 1;
		memcpy(buf, e->exec_id, n);
		buf[n] = '\0';
		return;
	}
	vg_exec_id_format(t->have_boot_id ? t->boot_id : NULL, pid,
			  start_ns / t->ns_per_tick, buf, bufsz);
}

static void set_ids(struct vg_ptable *t, struct vg_pt_entry *e)
{
	const struct vg_pt_entry *p = e->ppid > 0 ? find(t, e->ppid) : NULL;

	vg_exec_id_format(t->have_boot_id ? t->boot_id : NULL, e->pid,
			  e->start_ticks, e->exec_id, sizeof(e->exec_id));
	snprintf(e->parent_exec_id, sizeof(e->parent_exec_id), "%s",
		 p ? p->exec_id : "");
	e->gen = ++t->gen;
}

int vg_ptable_fork(struct vg_ptable *t, int ppid, int pid, uint64_t start_ns)
{
	const struct vg_pt_entry *p;
	struct vg_pt_entry *e;

	if (pid <= 0)
		return -EINVAL;
	t->st.forks++;
	e = insert(t, pid);
	e->ppid = ppid;
	e->start_ticks = start_ns / t->ns_per_tick;
	p = find(t, ppid);
	if (p) {
		memcpy(e->comm, p->comm, sizeof(e->comm));
		e->exe_origin = p->exe_origin;
		if (p->exe && !(e->exe = strdup(p->exe)))
			return -ENOMEM;
		if (p->args && !(e->args = malloc(p->args_len))) {
			set_ids(t, e);
			return -ENOMEM;
		}
		if (p->args) {
			memcpy(e->args, p->args, p->args_len);
			e->args_len = p->args_len;
		}
	} else {
		t->st.misses++;
	}
	set_ids(t, e);
	return 0;
}

int vg_ptable_exec(struct vg_ptable *t, int pid, int ppid, uint64_t start_ns,
		   const char *exe, const char *comm)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;
	uint64_t ticks = start_ns / t->ns_per_tick;

	if (pid <= 0)
		return -EINVAL;
	t->st.execs++;
	if (!e || e->start_ticks != ticks) {
		if (!e)
			t->st.misses++;
		e = insert(t, pid);
		e->start_ticks = ticks;
	}
	e->ppid = ppid;
	free(e->exe);
	e->exe = NULL;
	e->exe_origin = 0;
	/* a new program: the old argv is not its; its login and terminal
	 * are read again (a login's child sets them before the exec) */
	free(e->sess);
	e->sess = NULL;
	free(e->args);
	e->args = NULL;
	e->args_len = 0;
	if (exe && !(e->exe = strdup(exe)))
		return -ENOMEM;
	if (comm)
		snprintf(e->comm, sizeof(e->comm), "%s", comm);
	set_ids(t, e);
	return 0;
}

int vg_ptable_set_args(struct vg_ptable *t, int pid, const char *args,
		       size_t len)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;

	if (!e)
		return 0;
	free(e->args);
	e->args = NULL;
	e->args_len = 0;
	if (!args || !len || len > VG_PT_ARGS_MAX)
		return 0;
	e->args = malloc(len);
	if (!e->args)
		return -ENOMEM;
	memcpy(e->args, args, len);
	e->args_len = (uint32_t)len;
	e->gen = ++t->gen;
	return 0;
}

const struct vg_pt_entry *vg_ptable_read_session(struct vg_ptable *t,
						 int proc_dirfd, int pid)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;
	char path[32], buf[32], *status = NULL;
	struct vg_proc_status_extra x;
	struct vg_pt_session *ss;
	struct vg_proc p;
	size_t len = 0;
	bool cut = false;
	uint64_t v;
	ssize_t n;

	if (!e || e->sess || e->exited)
		return e;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return e;
	/* loginuid and status first, then stat: a start that matches says
	 * they were this process's (a pid reused between has another) */
	snprintf(path, sizeof(path), "%d/loginuid", pid);
	n = vg_read_small_at(proc_dirfd, path, buf, sizeof(buf));
	if (n > 0) {
		buf[n] = '\0';
		if (buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (vg_parse_u64(buf, &v) == 0 && v <= UINT32_MAX) {
			ss->has_loginuid = true;
			/* (uid_t)-1: no login set it, as Falco shows it */
			ss->loginuid = v == UINT32_MAX ? -1 : (int64_t)v;
		}
	}
	snprintf(path, sizeof(path), "%d/status", pid);
	if (vg_read_proc_at(proc_dirfd, path, 16384, &status, &len, &cut) == 0 &&
	    !cut && vg_proc_parse_status_extra(status, len, &x) == 0) {
		ss->has_status = true;
		ss->vpid = x.vpid;
		ss->cap_inh = x.cap_inh;
		ss->cap_prm = x.cap_prm;
		ss->cap_eff = x.cap_eff;
	}
	free(status);
	if (vg_proc_read_stat(proc_dirfd, pid, &p) == 0 &&
	    p.start_ticks == e->start_ticks) {
		ss->ok = true;
		ss->tty = p.tty_nr;
		ss->sid = p.session;
	} else {
		*ss = (struct vg_pt_session){ 0 };
	}
	e->sess = ss;
	return e;
}

void vg_ptable_reparent(struct vg_ptable *t, int pid, int ppid)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;

	if (!e || e->exited || e->ppid == ppid || ppid < 0)
		return;
	e->ppid = ppid;
	set_ids(t, e);
	t->st.reparented++;
}

void vg_ptable_set_cgroup(struct vg_ptable *t, int pid, uint64_t cgid)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;

	if (e)
		e->cgroup_id = cgid;
}

void vg_ptable_set_exe_origin(struct vg_ptable *t, int pid, unsigned origin)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;

	if (e)
		e->exe_origin = (uint8_t)origin;
}

void vg_ptable_exit(struct vg_ptable *t, int pid)
{
	struct vg_pt_entry *e = pid > 0 ? find(t, pid) : NULL;
	size_t tail;

	t->st.exits++;
	if (!e || e->exited)
		return;
	e->exited = true;
	if (t->n_exited == VG_PT_EXITED_KEEP) {
		/* the longest gone goes now, unless its pid was reused */
		int old = t->exited[t->exited_head].pid;
		uint64_t st = t->exited[t->exited_head].start_ticks;
		struct vg_pt_entry *o = find(t, old);

		if (o && o->exited && o->start_ticks == st)
			remove_slot(t, (size_t)(o - t->slots));
		t->exited_head = (t->exited_head + 1) % VG_PT_EXITED_KEEP;
		t->n_exited--;
		e = find(t, pid); /* the removal may have moved it */
	}
	tail = (t->exited_head + t->n_exited) % VG_PT_EXITED_KEEP;
	t->exited[tail].pid = pid;
	t->exited[tail].start_ticks = e->start_ticks;
	t->n_exited++;
}

int vg_ptable_seed_entry(struct vg_ptable *t, int pid, int ppid,
			 uint64_t start_ticks, const char *comm, const char *exe)
{
	struct vg_pt_entry *e;

	if (pid <= 0)
		return -EINVAL;
	e = insert(t, pid);
	e->ppid = ppid;
	e->start_ticks = start_ticks;
	snprintf(e->comm, sizeof(e->comm), "%s", comm ? comm : "");
	free(e->exe);
	e->exe = NULL;
	e->exe_origin = 0;
	free(e->args);
	e->args = NULL;
	e->args_len = 0;
	free(e->sess);
	e->sess = NULL;
	if (exe && !(e->exe = strdup(exe)))
		return -ENOMEM;
	t->st.seeded++;
	return 0;
}

void vg_ptable_seed_finish(struct vg_ptable *t)
{
	/* parents are known only once every process is in */
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].pid)
			set_ids(t, &t->slots[i]);
}

/* A seeded process's argv, from its cmdline, when it is whole (a
 * kernel thread has none). */
static void seed_args(struct vg_ptable *t, int proc_dirfd, int pid)
{
	char path[32], *buf = NULL;
	size_t len = 0;
	bool cut = false;

	snprintf(path, sizeof(path), "%d/cmdline", pid);
	if (vg_read_proc_at(proc_dirfd, path, VG_PT_ARGS_MAX, &buf, &len, &cut) == 0 &&
	    !cut && len)
		vg_ptable_set_args(t, pid, buf, len);
	free(buf);
}

int vg_ptable_seed(struct vg_ptable *t, int proc_dirfd)
{
	int dfd = dup(proc_dirfd), n = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct vg_proc p;
		char path[64], link[VG_LINK_MAX], comm[16];
		uint64_t pid;

		if (vg_parse_u64(de->d_name, &pid) < 0 || !pid || pid > INT32_MAX)
			continue;
		if (vg_proc_read_stat(proc_dirfd, (int)pid, &p) < 0)
			continue;
		memcpy(comm, p.comm, sizeof(comm) - 1);
		comm[sizeof(comm) - 1] = '\0';
		snprintf(path, sizeof(path), "%d/exe", (int)pid);
		if (vg_ptable_seed_entry(t, (int)pid, p.ppid, p.start_ticks, comm,
					 vg_readlink_at(proc_dirfd, path, link,
							sizeof(link)) >= 0 ? link : NULL) < 0) {
			closedir(d);
			return -ENOMEM;
		}
		seed_args(t, proc_dirfd, (int)pid);
		n++;
	}
	closedir(d);
	vg_ptable_seed_finish(t);
	return n;
}

int vg_ptable_foreach(const struct vg_ptable *t,
		      int (*fn)(const struct vg_pt_entry *e, void *ctx),
		      void *ctx)
{
	for (size_t i = 0; i < t->cap; i++) {
		int r;

		if (t->slots[i].pid && (r = fn(&t->slots[i], ctx)) != 0)
			return r;
	}
	return 0;
}

void vg_ptable_stats(const struct vg_ptable *t, struct vg_ptable_stats *ret)
{
	*ret = t->st;
	ret->entries = t->n;
	ret->max = t->max;
}
