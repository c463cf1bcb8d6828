/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil watch: live events from the eBPF sensor, each attributed to its
 * process, container and pod.
 *
 * The loop only drains the ring buffer, looks up caches and prints: the
 * attribution of a cgroup id is one hash probe once known, and a new
 * cgroup is resolved when it appears, before its processes run.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>

#include "attrib/snapshot.h"
#include "filter/filter.h"
#include "cli.h"
#include "watch.h"
#include "watch_client.h"
#include "render/identity.h"
#include "ptable/ptable.h"
#include "source/bpf/sensor.h"
#include "probe/probe.h"
#include "source/record.h"
#include "source/bpf/tpformat.h"
#include "base/util.h"

#define WATCH_LATENCY_MS 100
/* What a batch left in the ring is read this soon: the end of a storm
 * does not wait for the next wakeup or the 100 ms drain. */
#define WATCH_TAIL_MS 5
/* Containers followed through their lifecycle at once; beyond, the
 * oldest is forgotten (and counted). */
#define WATCH_LIFE_MAX 1024
/* Reads of a starting container's init pid record, at its execs, before
 * giving up: setup processes exec a few times before the init does. */
#define WATCH_LIFE_LOOKUPS 32
/* The types `--event all` means, and the daemon serves. */
#define WATCH_STD_TYPES                                                       \
	(VG_EV_BIT(VG_EV_EXEC) | VG_EV_BIT(VG_EV_EXIT) | VG_EV_BIT(VG_EV_FORK) | \
	 VG_EV_BIT(VG_EV_OPEN) | VG_EV_BIT(VG_EV_CONNECT) |                     \
	 VG_EV_BIT(VG_EV_ACCEPT) | VG_EV_BIT(VG_EV_BIND) |                      \
	 VG_EV_BIT(VG_EV_LISTEN) | VG_EV_BIT(VG_EV_FILE))
#define WATCH_PENDING_EXECS 256
#define WATCH_PENDING_AGE_NS (500ull * 1000000ull)
#define WATCH_MAX_SELECT 64
/* New cgroups whose runtime state is awaited (a container selection). */
#define WATCH_NEW_CGROUPS 1024
#define WATCH_MAX_TPS 16
#define WATCH_MAX_SYSCALLS 64
#define WATCH_NEW_CGROUP_RETRY_NS (3ull * 1000000000ull)
/* Records of a container whose metadata is still being read are held,
 * rendered but for their container and pod, for at most WATCH_HOLD_NS;
 * then they go out as they are, marked incomplete. */
#define WATCH_HOLD_NS (50ull * 1000000ull)
#define WATCH_HOLD_MAX 4096
/* The daemon's kernel drop set: cgroups decided, at most half full. */
#define DROP_SLOTS 32768u

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Cached container/pod members per cgroup: direct-mapped slots, and how
 * long (event time) a slot is trusted before attribution runs again. */
#define ATTR_CACHE_SLOTS 256
#define ATTR_CACHE_NS 1000000000ull

/* print_head()'s cache: a thread's proc, user, group, cgroup and ns
 * members, and what they were made from. */
#define PROC_CACHE_SLOTS 64
struct proc_key {
	uint32_t pid, tid, ppid, uid, gid, mntns;
	uint64_t cgroup_id, start_ns;
	uint64_t gen; /* the process-table entry's (unique per version) */
	char comm[VG_COMM_LEN];
};
struct proc_cached {
	struct proc_key k;
	char *json;
	size_t len;
};

/* An exec whose argv chunks are still arriving. */
struct pending_exec {
	bool used;
	uint64_t seq;
	uint64_t born_ns; /* CLOCK_MONOTONIC, for the timeout */
	struct vg_ev_exec e;
	char *filename, *exe;
	char *args;       /* args_sent bytes */
	uint32_t received;
	uint32_t chunks;
};

/* What a filter sees of the event being printed: the header, and what
 * the record adds. Strings point into the record (or, for a held
 * record, into copies it owns). */
struct ev_view {
	struct vg_ev_hdr h;
	const char *type;      /* the filter's name: exec, fork, tp... */
	const char *exe;       /* exec: the new one; else the table's */
	const char *fd_name;
	const char *action;    /* file: create, write... (static) */
	const char *args;      /* exec: argv, NUL-separated */
	uint32_t args_len;
	char sip[112], cip[112]; /* server and client address (or path) */
	int64_t sport, cport;  /* -1: none */
	int64_t res;
	bool has_res;
	char *owned;           /* held copies: one block */
};

/* A container's lifecycle: its cgroup, and its init process as the
 * runtime recorded it (not the first process seen in the cgroup: the
 * runtime's setup processes come and go there first). */
struct ctr_life {
	uint64_t cgroup_id; /* 0: free */
	uint64_t seq;       /* age, for eviction */
	int init_pid;       /* the runtime's record; 0: not read yet */
	uint8_t lookups;    /* reads of that record so far */
	bool running, exited;
};

/* A record held for its container's metadata: @line lacks only the
 * container and pod, which go in at @off. */
struct held_record {
	uint64_t cgroup_id;
	uint64_t since_ns; /* CLOCK_MONOTONIC */
	char *line;
	size_t off;
	struct ev_view *view; /* for the filter, evaluated when let go */
};

/* A cgroup that appeared while a container selection is active, whose
 * metadata may not be written yet. */
struct new_cgroup {
	uint64_t id;
	uint64_t seen_ns;
};

struct watch {
	struct vigil_ctx *ctx;
	struct vg_ptable *pt;
	struct vg_sensor *sensor;
	struct vg_printer *pr;
	enum vg_output_mode mode;
	uint64_t types;  /* asked for */
	bool show_threads;
	/* selections */
	const char *container_refs[WATCH_MAX_SELECT];
	size_t n_container_refs;
	const char *image_glob, *pod_ns, *pod_name, *path_glob;
	bool host;
	int pids[WATCH_MAX_SELECT];
	size_t n_pids;
	bool ctr_select; /* a container selection is active */
	/* tracepoints, and where their ids and formats are read */
	struct vg_tracefs tracefs;
	struct vg_tp_format tpf[WATCH_MAX_TPS];
	size_t n_tpf;
	/* state */
	struct pending_exec pending[WATCH_PENDING_EXECS];
	struct new_cgroup newcg[WATCH_NEW_CGROUPS];
	size_t n_newcg;
	uint64_t newcg_given_up; /* evicted undecided: reported at the end */
	uint64_t printed, max_count;
	uint64_t lost_seen[VG_EV_TYPES];
	uint64_t user_dropped; /* argv chunks whose exec was gone */
	uint64_t lost_reported;
	int64_t boot_to_wall_ns;
	/* fmt_time(): the formatted second of the last event */
	int64_t time_sec;
	char time_prefix[32];
	size_t time_prefix_len;
	/* print_attribution(), JSON: each cgroup's container and pod
	 * members, serialized once and reused for ATTR_CACHE_NS */
	struct attr_cached {
		uint64_t cgroup_id, made_ns; /* made_ns: event time, boot */
		char *json;
		size_t len;
	} attr_cache[ATTR_CACHE_SLOTS];
	struct vg_printer *frag; /* serializes them */
	struct proc_cached proc_cache[PROC_CACHE_SLOTS];
	/* --filter, and the event being printed as it sees it */
	struct vg_filter *filter;
	struct ev_view view;
	char *scratch; /* proc.args joined, for the filter */
	size_t scratch_cap;
	/* --record: every ring-buffer record, as it came */
	struct vg_rec_writer rec;
	const char *rec_path;
	/* the daemon's: each record goes here instead of stdout */
	void (*sink)(void *ctx, const char *line, size_t len,
		     const struct ev_view *v);
	void *sink_ctx;
	uint64_t last_lost, last_offset; /* watch_engine_pump() */
	struct ctr_life life[WATCH_LIFE_MAX];
	uint64_t life_seq, life_evicted;
	/* text mode: the line of the record being built */
	char *tline;
	size_t tline_off;
	/* records held for metadata, oldest first */
	struct held_record held[WATCH_HOLD_MAX];
	size_t n_held;
	uint64_t held_cgroup; /* the record being built is to be held */
	size_t held_off;
	uint64_t held_early; /* released unresolved: the queue was full */
	/* print_open(): the last flags and their text */
	uint32_t last_flags;
	char last_flags_text[256];
	uint32_t host_mntns; /* pid 1's mount namespace */
	/* the daemon's kernel filter: the cgroups no selection wants */
	const struct watch_selector **drop_sels;
	size_t n_drop_sels;
	uint64_t drop_types; /* the types it applies to; 0: off */
	struct drop_slot {
		uint64_t id;
		uint8_t state; /* DS_* */
	} *drop;
	size_t n_drop;        /* slots used */
	uint64_t n_dropping;  /* cgroups in the kernel's drop set */
	uint64_t drop_full;   /* the kernel's set was full: they pass */
	uint64_t drop_untracked; /* the table was full: decided per event */
};

void cmd_watch_help(FILE *f)
{
	fprintf(f,
		"Usage: %s watch [--event LIST] [--container REF]... [--image GLOB]\n"
		"                   [--pod NS/NAME] [--host] [--pid PID]... [--path GLOB]\n"
		"                   [--filter EXPR] [--fields]\n"
		"                   [--count N] [--duration S] [--output text|json]\n"
		"\n"
		"Print what processes do, as it happens, from eBPF: one line per\n"
		"event in text, one JSON object per line in JSON, each with its\n"
		"process, container and pod. Runs the sensor in this process.\n"
		"\n"
		"  -e, --event LIST     comma-separated: exec, exit, fork, thread (fork\n"
		"                       of threads too), open, connect, accept, bind,\n"
		"                       listen, file (changes: create, write, truncate,\n"
		"                       delete, rmdir, mkdir, rename, link, symlink,\n"
		"                       chmod, chown; with the path in the container and\n"
		"                       on the host), container (created, running, exited,\n"
		"                       destroyed), syscall:NR (raw enter/exit of syscall\n"
		"                       number NR), tp:GROUP:NAME (any tracepoint, its\n"
		"                       fields decoded by name), all. Default: all (exec,\n"
		"                       exit, fork, open, connect, accept, bind, listen,\n"
		"                       file, container); with --path, open alone.\n"
		"  -c, --container REF  only this container (id, unique prefix, name);\n"
		"                       repeatable\n"
		"  --image GLOB         only containers whose image matches, including\n"
		"                       those that start later; GLOB is tried on the whole\n"
		"                       reference and on its last part (busybox:1.36,\n"
		"                       busybox)\n"
		"  --pod NS/NAME        only this pod's containers (NAME may be a glob)\n"
		"  --host               only processes in the host's mount namespace\n"
		"  -p, --pid PID        only this process and its descendants; repeatable\n"
		"  --path GLOB          only opens and file changes of paths matching GLOB\n"
		"  -f, --filter EXPR    only events EXPR matches, e.g. 'evt.type = open\n"
		"                       and fd.name startswith /etc/ and not proc.name = cat'\n"
		"                       (Falco's field names; --fields lists them). Without\n"
		"                       --event, only the types EXPR can match are traced\n"
		"  --fields             list the fields --filter knows, and exit\n"
		"  --socket PATH        a vigil daemon's socket (default $VIGIL_SOCKET, else\n"
		"                       /run/vigil/vigil.sock): when one answers, events come\n"
		"                       from it, as one subscription\n"
		"  --embedded           run the sensor here even when a daemon answers\n"
		"  -n, --count N        stop after N events\n"
		"  -d, --duration S     stop after S seconds\n"
		"  --ring-size BYTES    ring buffer size, a power of two (default 8 MiB)\n"
		"  --record FILE        also write every record the sensor delivers to\n"
		"                       FILE, with the cgroups and processes there at\n"
		"                       start: a reproduction to replay or share\n"
		"\n"
		"Container selections are enforced in the kernel by cgroup and mount\n"
		"namespace. Events the kernel could not deliver are reported as 'lost'\n"
		"records with their counts. Ctrl-C stops and detaches everything.\n"
		"Needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN where no\n"
		"tracefs is mounted); vigil doctor says what this host lacks.\n"
		"\n%s",
		program_name, cli_global_help);
}

static uint64_t mono_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

static void compute_wall_offset(struct watch *w)
{
	int64_t rt = (int64_t)vg_clock_ns(CLOCK_REALTIME);
	int64_t bt = (int64_t)vg_clock_ns(CLOCK_BOOTTIME);

	w->boot_to_wall_ns = rt - bt;
}

/* RFC 3339 UTC with microseconds. The date and time of day are formatted
 * once per second of event time. */
static void fmt_time(struct watch *w, uint64_t ktime, char *buf, size_t bufsz)
{
	int64_t wall = (int64_t)ktime + w->boot_to_wall_ns;
	int64_t sec = wall / 1000000000;
	unsigned us = (unsigned)((wall % 1000000000) / 1000);
	char frac[9];

	if (wall < 0) {
		snprintf(buf, bufsz, "1970-01-01T00:00:00.000000Z");
		return;
	}
	if (sec != w->time_sec || !w->time_prefix_len) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		w->time_prefix_len = strftime(w->time_prefix,
					      sizeof(w->time_prefix),
					      "%Y-%m-%dT%H:%M:%S", &tm);
		w->time_sec = sec;
	}
	frac[0] = '.';
	for (int i = 6; i >= 1; i--, us /= 10)
		frac[i] = (char)('0' + us % 10);
	frac[7] = 'Z';
	frac[8] = '\0';
	if (bufsz < w->time_prefix_len + sizeof(frac)) {
		if (bufsz)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, w->time_prefix, w->time_prefix_len);
	memcpy(buf + w->time_prefix_len, frac, sizeof(frac));
}

/* ------------------------------------------------------------ output */

static const char *errno_name(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{ EPERM, "EPERM" },	      { ENOENT, "ENOENT" },
		{ EACCES, "EACCES" },	      { EEXIST, "EEXIST" },
		{ ENOTDIR, "ENOTDIR" },	      { EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" },	      { EMFILE, "EMFILE" },
		{ ENFILE, "ENFILE" },	      { EROFS, "EROFS" },
		{ ELOOP, "ELOOP" },	      { ENAMETOOLONG, "ENAMETOOLONG" },
		{ EAGAIN, "EAGAIN" },	      { EINTR, "EINTR" },
		{ EBADF, "EBADF" },	      { ENOTSOCK, "ENOTSOCK" },
		{ EADDRINUSE, "EADDRINUSE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ENETUNREACH, "ENETUNREACH" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ETIMEDOUT, "ETIMEDOUT" },   { EINPROGRESS, "EINPROGRESS" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ ECONNRESET, "ECONNRESET" }, { EISCONN, "EISCONN" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENOMEM, "ENOMEM" },
		{ ENOSPC, "ENOSPC" },	      { ETXTBSY, "ETXTBSY" },
		{ EFAULT, "EFAULT" },	      { ENXIO, "ENXIO" },
	};

	for (size_t i = 0; i < VG_ARRAY_SIZE(t); i++)
		if (t[i].e == e)
			return t[i].n;
	return NULL;
}

/* evt_result's members; in text mode also "= RESULT" in @text. */
static void print_result(struct watch *w, int64_t ret, char *text,
			 size_t textsz)
{
	struct vg_printer *p = w->pr;
	bool want_text = w->mode == VG_OUTPUT_TEXT;
	char buf[32];

	text[0] = '\0';
	vg_pr_obj_open(p, "evt_result");
	vg_pr_i64(p, "rawres", NULL, ret);
	if (ret >= 0) {
		vg_pr_str(p, "res", NULL, "SUCCESS");
		if (want_text)
			snprintf(text, textsz, "= %lld", (long long)ret);
	} else {
		const char *n = errno_name((int)-ret);

		if (!n) {
			snprintf(buf, sizeof(buf), "E%lld", (long long)-ret);
			n = buf;
		}
		vg_pr_str(p, "res", NULL, n);
		if (want_text)
			snprintf(text, textsz, "= %s", n);
	}
	vg_pr_obj_close(p);
}

/* The container and pod of @h's cgroup, as members of @p, and a short
 * text. */
static void attribution_members(struct watch *w, struct vg_printer *p,
				uint64_t cgroup_id, char *text, size_t textsz)
{
	struct vg_attribution a;
	int r = vg_attrib_cgroup_id(w->ctx, cgroup_id, &a);
	const struct vg_container_meta *m = r == 0 && a.meta ? &a.meta->meta : NULL;

	text[0] = '\0';
	vg_pr_obj_open(p, "container");
	if (r < 0) {
		vg_pr_null(p, "id", NULL);
		vg_pr_str(p, "error", NULL, strerror(-r));
		snprintf(text, textsz, "container=?");
	} else if (a.match.role == VG_ROLE_CONTAINER) {
		vg_pr_str(p, "id", NULL, a.match.container_id);
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(a.match.runtime));
		if (m) {
			vg_pr_str(p, "name", NULL, m->name);
			vg_pr_str(p, "image", NULL, m->image);
			vg_pr_str(p, "image_id", NULL, m->image_id);
			vg_print_kv(p, "labels", NULL, &m->labels);
			if (m->incomplete)
				vg_pr_str(p, "incomplete", NULL, m->missing);
		}
		snprintf(text, textsz, "container=%s:%.12s%s%s%s%s",
			 vg_runtime_name(a.match.runtime), a.match.container_id,
			 m && m->name ? " name=" : "", m && m->name ? m->name : "",
			 m && m->image ? " image=" : "",
			 m && m->image ? m->image : "");
	} else {
		vg_pr_str(p, "id", NULL, "host");
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(a.match.runtime));
		snprintf(text, textsz, "container=host");
	}
	vg_pr_obj_close(p);
	if (r == 0 && a.meta && a.meta->pod.source != VG_POD_SRC_NONE) {
		size_t n = strlen(text);

		vg_print_k8s(p, &a.meta->pod, a.match.pod_qos);
		snprintf(text + n, textsz - n, " pod=%s/%s",
			 a.meta->pod.ns ? a.meta->pod.ns : "?",
			 a.meta->pod.name ? a.meta->pod.name : "?");
	}
}

/* Metadata changed: serialized members made before are stale. */
static void attr_cache_forget(struct watch *w)
{
	for (size_t i = 0; i < ATTR_CACHE_SLOTS; i++)
		w->attr_cache[i].cgroup_id = 0;
}

/* Whether @cgroup_id's container metadata is still being read: its
 * records wait for it (briefly, see WATCH_HOLD_NS). */
static bool metadata_pending(struct watch *w, uint64_t cgroup_id)
{
	struct vg_attribution a;

	return w->ctx->meta_worker &&
	       vg_attrib_cgroup_id(w->ctx, cgroup_id, &a) == 0 && a.meta &&
	       a.meta->pending && a.meta->meta.incomplete;
}

/*
 * Finish w->frag's record, keep its members (the object without its
 * braces) in *@json, *@len for vg_pr_raw_members(), and add them to the
 * record being printed. False when out of memory: the caller writes the
 * members itself, uncached.
 */
static bool frag_to_cache(struct watch *w, char **json, size_t *len)
{
	char *obj = vg_pr_end_string(w->frag);
	size_t n = obj ? strlen(obj) : 0;

	if (n < 2) {
		free(obj);
		return false;
	}
	memmove(obj, obj + 1, n - 2);
	obj[n - 2] = '\0';
	free(*json);
	*json = obj;
	*len = n - 2;
	vg_pr_raw_members(w->pr, obj, n - 2);
	return true;
}

/* The container and pod of @h's cgroup: JSON members of the record, and
 * in text mode a short text. In JSON they come serialized from the cache
 * when this cgroup was attributed less than ATTR_CACHE_NS ago. */
static void print_attribution(struct watch *w, const struct vg_ev_hdr *h,
			      char *text, size_t textsz)
{
	struct attr_cached *c;

	text[0] = '\0';
	if (w->mode == VG_OUTPUT_TEXT) {
		if (metadata_pending(w, h->cgroup_id))
			w->held_cgroup = h->cgroup_id;
		else
			attribution_members(w, w->pr, h->cgroup_id, text, textsz);
		return;
	}
	c = &w->attr_cache[(h->cgroup_id * 0x9e3779b97f4a7c15ull) >> 56];
	if (c->json && c->cgroup_id == h->cgroup_id &&
	    h->ktime_ns - c->made_ns < ATTR_CACHE_NS) {
		vg_pr_raw_members(w->pr, c->json, c->len);
		return;
	}
	if (metadata_pending(w, h->cgroup_id)) {
		/* the members go in here when the record is let go */
		w->held_cgroup = h->cgroup_id;
		w->held_off = vg_pr_len(w->pr);
		return;
	}
	vg_pr_begin(w->frag);
	attribution_members(w, w->frag, h->cgroup_id, text, textsz);
	if (!frag_to_cache(w, &c->json, &c->len)) {
		attribution_members(w, w->pr, h->cgroup_id, text, textsz);
		return;
	}
	c->cgroup_id = h->cgroup_id;
	c->made_ns = h->ktime_ns;
}

/* Everything every event has: evt, proc, user, group, cgroup, ns. */
static void view_begin(struct watch *w, const struct vg_ev_hdr *h,
		       const char *type);

/* A record's start: its evt object. */
static void print_evt(struct watch *w, const struct vg_ev_hdr *h,
		      const char *type)
{
	struct vg_printer *p = w->pr;
	char when[48];

	view_begin(w, h, strcmp(type, "clone") == 0	    ? "fork"
			 : strcmp(type, "tracepoint") == 0 ? "tp"
							   : type);
	fmt_time(w, h->ktime_ns, when, sizeof(when));
	vg_pr_begin(p);
	vg_pr_obj_open(p, "evt");
	vg_pr_str(p, "type", NULL, type);
	vg_pr_str(p, "time", NULL, when);
	vg_pr_u64(p, "ktime_ns", NULL, h->ktime_ns);
	vg_pr_u64(p, "cpu", NULL, h->cpu);
	vg_pr_obj_close(p);
}

/* The proc object's identity members, left open for more. */
static void proc_open(struct watch *w, struct vg_printer *p,
		      const struct vg_ev_hdr *h, const struct vg_pt_entry *pe)
{
	char exec_id[VG_PT_EXEC_ID_MAX], comm[VG_COMM_LEN + 1];

	memcpy(comm, h->comm, VG_COMM_LEN);
	comm[VG_COMM_LEN] = '\0';
	vg_ptable_exec_id(w->pt, (int)h->pid, h->start_ns, exec_id, sizeof(exec_id));
	vg_pr_obj_open(p, "proc");
	vg_pr_i64(p, "pid", NULL, h->pid);
	vg_pr_i64(p, "tid", NULL, h->tid);
	vg_pr_i64(p, "ppid", NULL, h->ppid);
	vg_pr_str(p, "name", NULL, comm);
	vg_pr_str(p, "exec_id", NULL, exec_id);
	vg_pr_str(p, "parent_exec_id", NULL,
		  pe && pe->parent_exec_id[0] ? pe->parent_exec_id : NULL);
}

static void print_ids(struct vg_printer *p, const struct vg_ev_hdr *h)
{
	vg_pr_obj_open(p, "user");
	vg_pr_u64(p, "uid", NULL, h->uid);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "group");
	vg_pr_u64(p, "gid", NULL, h->gid);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "cgroup");
	vg_pr_u64(p, "id", NULL, h->cgroup_id);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "ns");
	vg_pr_u64(p, "mnt", NULL, h->mntns);
	vg_pr_obj_close(p);
}

/* proc (with exe), user, group, cgroup and ns. */
static void proc_members(struct watch *w, struct vg_printer *p,
			 const struct vg_ev_hdr *h, const struct vg_pt_entry *pe)
{
	proc_open(w, p, h, pe);
	vg_pr_str(p, "exe", NULL, pe ? pe->exe : NULL);
	vg_pr_obj_close(p);
	print_ids(p, h);
}

/* evt and proc (left open) of an exec, which adds its own members. */
static void print_common(struct watch *w, const struct vg_ev_hdr *h,
			 const char *type)
{
	print_evt(w, h, type);
	proc_open(w, w->pr, h, vg_ptable_get(w->pt, (int)h->pid));
}

/*
 * evt, then proc (with exe), user, group, cgroup and ns: the head of every
 * record but exec's. All but evt depend only on the thread's header fields
 * and its process-table entry, so they are serialized once and reused
 * while those stay the same (in a storm, for every event of the thread).
 */
static void print_head(struct watch *w, const struct vg_ev_hdr *h,
		       const char *type)
{
	const struct vg_pt_entry *pe = vg_ptable_get(w->pt, (int)h->pid);
	struct proc_cached *c = &w->proc_cache[h->tid % PROC_CACHE_SLOTS];
	struct proc_key k;

	print_evt(w, h, type);
	memset(&k, 0, sizeof(k));
	k.pid = h->pid, k.tid = h->tid, k.ppid = h->ppid;
	k.uid = h->uid, k.gid = h->gid, k.mntns = h->mntns;
	k.cgroup_id = h->cgroup_id, k.start_ns = h->start_ns;
	k.gen = pe ? pe->gen : 0;
	memcpy(k.comm, h->comm, sizeof(k.comm));
	if (c->json && memcmp(&c->k, &k, sizeof(k)) == 0) {
		vg_pr_raw_members(w->pr, c->json, c->len);
		return;
	}
	vg_pr_begin(w->frag);
	proc_members(w, w->frag, h, pe);
	if (!frag_to_cache(w, &c->json, &c->len)) {
		proc_members(w, w->pr, h, pe);
		return;
	}
	c->k = k;
}

/* control characters in names and arguments must not forge lines */
static void sanitize_text(char *line)
{
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static void hold_record(struct watch *w, char *line, size_t off);
static void emit(struct watch *w, const char *line, size_t len,
		 const struct ev_view *v);

/* A text line: "PREFIX ATTR REST". Held, without ATTR, when the
 * record's metadata is pending. */
static void text_line(struct watch *w, const char *prefix, const char *attr,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void text_line(struct watch *w, const char *prefix, const char *attr,
		      const char *fmt, ...)
{
	char line[8192];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "%s %s ", prefix,
		     w->held_cgroup ? "" : attr);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(line);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	sanitize_text(line);
	free(w->tline);
	w->tline = strdup(line);
	w->tline_off = strlen(prefix) + 1;
}

/* Write held record @hr, with its container and pod as they are now. */
static void write_held(struct watch *w, struct held_record *hr)
{
	char text[512], *out = NULL, *obj = NULL;
	size_t n = 0, rest = strlen(hr->line + hr->off);

	vg_pr_begin(w->frag);
	attribution_members(w, w->frag, hr->cgroup_id, text, sizeof(text));
	if (w->mode == VG_OUTPUT_TEXT) {
		free(vg_pr_end_string(w->frag));
		sanitize_text(text);
		obj = strdup(text);
		n = obj ? strlen(obj) : 0;
	} else {
		obj = vg_pr_end_string(w->frag);
		n = obj ? strlen(obj) : 0;
		if (n >= 2) { /* the members, after a comma */
			obj[0] = ',';
			n--;
		} else {
			n = 0;
		}
	}
	out = malloc(hr->off + n + rest + 1);
	if (out) {
		memcpy(out, hr->line, hr->off);
		memcpy(out + hr->off, obj, n);
		memcpy(out + hr->off + n, hr->line + hr->off, rest + 1);
		emit(w, out, hr->off + n + rest, hr->view);
	} else {
		emit(w, hr->line, hr->off + rest, hr->view); /* without */
	}
	free(out);
	free(obj);
	free(hr->line);
	hr->line = NULL;
	free(hr->view->owned);
	free(hr->view);
	hr->view = NULL;
}

/*
 * Let held records go, oldest first: those whose metadata is read, and
 * those held too long (@all: every one). A container's records stay in
 * their order: a later one is never let go before an earlier one.
 */
static void release_held(struct watch *w, bool all)
{
	uint64_t now = mono_ns();
	size_t kept = 0;

	for (size_t i = 0; i < w->n_held; i++) {
		struct held_record *hr = &w->held[i];

		if (all || now - hr->since_ns >= WATCH_HOLD_NS ||
		    !metadata_pending(w, hr->cgroup_id))
			write_held(w, hr);
		else
			w->held[kept++] = *hr;
	}
	w->n_held = kept;
}

/* ------------------------------------------------- filter and output */

static void view_begin(struct watch *w, const struct vg_ev_hdr *h,
		       const char *type)
{
	struct ev_view *v = &w->view;

	memset(v, 0, offsetof(struct ev_view, sip));
	v->sip[0] = v->cip[0] = '\0';
	v->sport = v->cport = -1;
	v->has_res = false;
	v->owned = NULL;
	v->h = *h;
	v->type = type;
}

/* A copy of @v that owns its strings, for a held record; NULL on
 * -ENOMEM (the record then goes out at once, without its container). */
static struct ev_view *view_dup(const struct ev_view *v)
{
	size_t ne = v->exe ? strlen(v->exe) + 1 : 0;
	size_t nf = v->fd_name ? strlen(v->fd_name) + 1 : 0;
	struct ev_view *c = malloc(sizeof(*c));
	char *o;

	if (!c)
		return NULL;
	*c = *v;
	o = c->owned = malloc(ne + nf + v->args_len + 1);
	if (!o) {
		free(c);
		return NULL;
	}
	if (ne)
		c->exe = memcpy(o, v->exe, ne);
	if (nf)
		c->fd_name = memcpy(o + ne, v->fd_name, nf);
	if (v->args_len)
		c->args = memcpy(o + ne + nf, v->args, v->args_len);
	return c;
}

struct getter {
	struct watch *w;
	const struct ev_view *v;
	int attr_state; /* 0 not looked up, 1 found, -1 none */
	struct vg_attribution a;
	char buf[VG_PT_EXEC_ID_MAX > 64 ? VG_PT_EXEC_ID_MAX : 64];
	char comm[VG_COMM_LEN + 1];
};

static int str_val(const char *s, struct vg_fval *ret)
{
	if (!s)
		return 0;
	ret->s = s;
	ret->len = strlen(s);
	return 1;
}

static int num_val(int64_t n, struct vg_fval *ret)
{
	ret->n = n;
	return 1;
}

/* proc.args: argv after argv[0], joined with spaces (Falco's form);
 * proc.cmdline: the name, then those. */
static int args_val(struct getter *g, bool cmdline, struct vg_fval *ret)
{
	const struct ev_view *v = g->v;
	struct watch *w = g->w;
	size_t skip = 0, n, pre;

	if (!v->args)
		return 0;
	while (skip < v->args_len && v->args[skip])
		skip++;
	skip = skip < v->args_len ? skip + 1 : v->args_len;
	n = v->args_len - skip;
	pre = cmdline ? strlen(g->comm) + 1 : 0;
	if (pre + n + 1 > w->scratch_cap) {
		char *b = realloc(w->scratch, pre + n + 1);

		if (!b)
			return 0;
		w->scratch = b;
		w->scratch_cap = pre + n + 1;
	}
	if (cmdline) {
		memcpy(w->scratch, g->comm, pre - 1);
		w->scratch[pre - 1] = ' ';
	}
	for (size_t i = 0; i < n; i++)
		w->scratch[pre + i] = v->args[skip + i] ? v->args[skip + i] : ' ';
	while (n && w->scratch[pre + n - 1] == ' ')
		n--;
	ret->s = w->scratch;
	ret->len = pre + n;
	return 1;
}

static int get_field(void *ctx, int field, const char *key, size_t key_len,
		     struct vg_fval *ret)
{
	struct getter *g = ctx;
	const struct ev_view *v = g->v;
	const struct vg_ev_hdr *h = &v->h;
	const struct vg_pt_entry *pe;
	const struct vg_meta_entry *m;

	(void)key_len;
	if (field >= VG_F_CONTAINER_ID && field <= VG_F_K8S_CONTAINER_NAME &&
	    !g->attr_state)
		g->attr_state = vg_attrib_cgroup_id(g->w->ctx, h->cgroup_id,
						    &g->a) == 0 ? 1 : -1;
	m = g->attr_state == 1 && g->a.match.role == VG_ROLE_CONTAINER
		    ? g->a.meta : NULL;
	switch (field) {
	case VG_F_EVT_TYPE: return str_val(v->type, ret);
	case VG_F_EVT_TIME:
		return num_val((int64_t)h->ktime_ns + g->w->boot_to_wall_ns, ret);
	case VG_F_EVT_CPU: return num_val(h->cpu, ret);
	case VG_F_EVT_RES: return v->has_res ? num_val(v->res, ret) : 0;
	case VG_F_PROC_PID: return num_val(h->pid, ret);
	case VG_F_PROC_TID: return num_val(h->tid, ret);
	case VG_F_PROC_PPID: return num_val(h->ppid, ret);
	case VG_F_PROC_NAME: return str_val(g->comm, ret);
	case VG_F_PROC_EXE:
		if (v->exe)
			return str_val(v->exe, ret);
		pe = vg_ptable_get(g->w->pt, (int)h->pid);
		return str_val(pe ? pe->exe : NULL, ret);
	case VG_F_PROC_ARGS: return args_val(g, false, ret);
	case VG_F_PROC_CMDLINE: return args_val(g, true, ret);
	case VG_F_PROC_EXEC_ID:
		vg_ptable_exec_id(g->w->pt, (int)h->pid, h->start_ns, g->buf,
				  sizeof(g->buf));
		return str_val(g->buf, ret);
	case VG_F_USER_UID: return num_val(h->uid, ret);
	case VG_F_GROUP_GID: return num_val(h->gid, ret);
	case VG_F_CGROUP_ID: return num_val((int64_t)h->cgroup_id, ret);
	case VG_F_FD_NAME: return str_val(v->fd_name, ret);
	case VG_F_FILE_ACTION: return str_val(v->action, ret);
	case VG_F_FD_SIP: return v->sip[0] ? str_val(v->sip, ret) : 0;
	case VG_F_FD_SPORT: return v->sport >= 0 ? num_val(v->sport, ret) : 0;
	case VG_F_FD_CIP: return v->cip[0] ? str_val(v->cip, ret) : 0;
	case VG_F_FD_CPORT: return v->cport >= 0 ? num_val(v->cport, ret) : 0;
	case VG_F_CONTAINER_ID:
		if (g->attr_state != 1)
			return 0;
		return str_val(g->a.match.role == VG_ROLE_CONTAINER
				       ? g->a.match.container_id : "host", ret);
	case VG_F_CONTAINER_RUNTIME:
		return g->attr_state == 1
			       ? str_val(vg_runtime_name(g->a.match.runtime), ret) : 0;
	case VG_F_CONTAINER_NAME: return m ? str_val(m->meta.name, ret) : 0;
	case VG_F_CONTAINER_IMAGE: return m ? str_val(m->meta.image, ret) : 0;
	case VG_F_CONTAINER_IMAGE_ID: return m ? str_val(m->meta.image_id, ret) : 0;
	case VG_F_CONTAINER_LABEL:
		return m ? str_val(vg_kv_get(&m->meta.labels, key), ret) : 0;
	}
	/* the pod: of a container, or of a pod's own cgroup */
	m = g->attr_state == 1 ? g->a.meta : NULL;
	if (!m || m->pod.source == VG_POD_SRC_NONE)
		return 0;
	switch (field) {
	case VG_F_K8S_NS_NAME: return str_val(m->pod.ns, ret);
	case VG_F_K8S_POD_NAME: return str_val(m->pod.name, ret);
	case VG_F_K8S_POD_UID: return str_val(m->pod.uid, ret);
	case VG_F_K8S_POD_LABEL: return str_val(vg_kv_get(&m->pod.labels, key), ret);
	case VG_F_K8S_CONTAINER_NAME: return str_val(m->pod.container_name, ret);
	}
	return 0;
}

/* Whether the event @v passes @f. */
static bool view_matches(struct watch *w, const struct vg_filter *f,
			 const struct ev_view *v)
{
	struct getter g = { .w = w, .v = v };

	memcpy(g.comm, v->h.comm, VG_COMM_LEN);
	g.comm[VG_COMM_LEN] = '\0';
	return vg_filter_match(f, get_field, &g);
}

/* A finished record: to the daemon's subscribers, or through --filter
 * to stdout. */
static void emit(struct watch *w, const char *line, size_t len,
		 const struct ev_view *v)
{
	if (w->sink) {
		w->sink(w->sink_ctx, line, len, v);
		w->printed++;
		return;
	}
	if (w->filter && !view_matches(w, w->filter, v))
		return;
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	w->printed++;
}

static void hold_record(struct watch *w, char *line, size_t off)
{
	if (w->n_held == WATCH_HOLD_MAX) {
		/* full: the oldest goes out as it is, and is counted */
		write_held(w, &w->held[0]);
		memmove(&w->held[0], &w->held[1],
			(w->n_held - 1) * sizeof(w->held[0]));
		w->n_held--;
		w->held_early++;
	}
	struct ev_view *v = view_dup(&w->view);

	if (!v) { /* out of memory: out now, as it is */
		emit(w, line, strlen(line), &w->view);
		free(line);
		return;
	}
	w->held[w->n_held++] = (struct held_record){
		.cgroup_id = w->held_cgroup, .since_ns = mono_ns(),
		.line = line, .off = off, .view = v,
	};
}

/* Records of @cgid still held go out now, before a later record of it
 * that need not wait: a container's records keep their order. */
static void release_held_of(struct watch *w, uint64_t cgid)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->n_held; i++) {
		if (w->held[i].cgroup_id == cgid)
			write_held(w, &w->held[i]);
		else
			w->held[kept++] = w->held[i];
	}
	w->n_held = kept;
}

static void finish_record(struct watch *w)
{
	char *line;

	if (!w->held_cgroup && w->n_held)
		release_held_of(w, w->view.h.cgroup_id);
	if (w->mode == VG_OUTPUT_JSON) {
		if (w->held_cgroup && (line = vg_pr_end_string(w->pr))) {
			hold_record(w, line, w->held_off);
		} else if (!w->filter && !w->sink) {
			vg_pr_end(w->pr, stdout);
			w->printed++;
		} else if ((line = vg_pr_end_string(w->pr))) {
			emit(w, line, strlen(line), &w->view);
			free(line);
		}
	} else {
		free(vg_pr_end_string(w->pr));
		if (w->tline && w->held_cgroup)
			hold_record(w, w->tline, w->tline_off);
		else if (w->tline)
			emit(w, w->tline, strlen(w->tline), &w->view);
		if (!w->held_cgroup)
			free(w->tline);
		w->tline = NULL;
	}
	w->held_cgroup = 0;
}

static const char *text_prefix(struct watch *w, const struct vg_ev_hdr *h,
			       const char *type, char *buf, size_t bufsz)
{
	char when[48], comm[VG_COMM_LEN + 1];

	memcpy(comm, h->comm, VG_COMM_LEN);
	comm[VG_COMM_LEN] = '\0';
	fmt_time(w, h->ktime_ns, when, sizeof(when));
	snprintf(buf, bufsz, "%s %-7s pid=%u ppid=%u uid=%u %s", when, type,
		 h->pid, h->ppid, h->uid, comm);
	return buf;
}

static void args_text(const char *args, uint32_t len, char *out, size_t outsz)
{
	size_t o = 0;

	for (uint32_t i = 0; i < len && o + 2 < outsz; i++)
		out[o++] = args[i] ? args[i] : ' ';
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void print_exec(struct watch *w, const struct vg_ev_exec *e,
		       const char *filename, const char *exe, const char *args,
		       uint32_t args_got, bool lost_chunks)
{
	struct vg_printer *p = w->pr;
	char attr[512], prefix[256];
	char **argv = NULL;
	size_t argc = 0;
	_cleanup_free_ char *copy = NULL;
	bool truncated = e->args_sent < e->args_len || lost_chunks;

	if (args_got) {
		copy = malloc(args_got + 1);
		if (copy) {
			memcpy(copy, args, args_got);
			copy[args_got] = '\0';
			vg_proc_split_args(copy, args_got, &argv, &argc);
		}
	}
	print_common(w, &e->h, "exec");
	w->view.exe = exe;
	w->view.args = args;
	w->view.args_len = args ? args_got : 0;
	vg_pr_str(p, "exe", NULL, exe);
	vg_pr_str_array(p, "args", NULL, argv, argc);
	vg_pr_bool(p, "args_truncated", NULL, truncated);
	vg_pr_u64(p, "args_bytes", NULL, e->args_len);
	vg_pr_str(p, "filename", NULL, filename);
	vg_pr_obj_close(p);
	print_ids(p, &e->h);
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT) {
		char at[2048];

		args_text(args ? args : "", args_got, at, sizeof(at));
		text_line(w, text_prefix(w, &e->h, "exec", prefix, sizeof(prefix)),
			  attr, "exe=%s args=[%s]%s", exe ? exe : "?", at, truncated ? " (truncated)" : "");
	}
	finish_record(w);
	free(argv);
}

static void pending_release(struct pending_exec *pe)
{
	free(pe->filename);
	free(pe->exe);
	free(pe->args);
	*pe = (struct pending_exec){ 0 };
}

static void pending_flush(struct watch *w, struct pending_exec *pe, bool lost)
{
	print_exec(w, &pe->e, pe->filename, pe->exe, pe->args, pe->received,
		   lost);
	pending_release(pe);
}

/* ---------------------------------------------- container lifecycle */

static bool ctr_selected(struct watch *w, const struct vg_cgroup_match *m,
			 const struct vg_container_meta *meta,
			 const struct vg_pod_meta *pod);
static bool life_selected(struct watch *w, uint64_t cgid);

static struct ctr_life *life_find(struct watch *w, uint64_t cgid)
{
	if (!cgid)
		return NULL;
	for (size_t i = 0; i < 8; i++) {
		struct ctr_life *l = &w->life[(cgid + i) % WATCH_LIFE_MAX];

		if (l->cgroup_id == cgid)
			return l;
	}
	return NULL;
}

static struct ctr_life *life_add(struct watch *w, uint64_t cgid)
{
	struct ctr_life *old = NULL;

	for (size_t i = 0; i < 8; i++) {
		struct ctr_life *l = &w->life[(cgid + i) % WATCH_LIFE_MAX];

		if (!l->cgroup_id || l->cgroup_id == cgid) {
			old = l;
			break;
		}
		if (!old || l->seq < old->seq)
			old = l;
	}
	if (old->cgroup_id && old->cgroup_id != cgid)
		w->life_evicted++;
	*old = (struct ctr_life){ .cgroup_id = cgid, .seq = ++w->life_seq };
	return old;
}

/* A container event: @state of the container in cgroup @cgid, at the
 * time and on the cpu of @h (the event that showed it); @init_pid, its
 * init's host pid, once known (0: not); @exit_status, wait(2)'s status
 * for "exited" (else -1). */
static void print_container(struct watch *w, const struct vg_ev_hdr *h,
			    uint64_t cgid, const char *state, int init_pid,
			    int exit_status)
{
	struct vg_printer *p = w->pr;
	struct vg_ev_hdr ch;
	char attr[512], prefix[96], when[48], what[96];
	unsigned sig = (unsigned)exit_status & 0x7f;
	/* as the runtimes record it: 128 + the signal when one ended it */
	unsigned code = sig ? 128 + sig : ((unsigned)exit_status >> 8) & 0xff;
	size_t n;

	if (!life_selected(w, cgid))
		return;
	memset(&ch, 0, sizeof(ch));
	ch.type = WATCH_EV_CONTAINER;
	ch.ktime_ns = h->ktime_ns;
	ch.cpu = h->cpu;
	ch.cgroup_id = cgid;
	print_evt(w, &ch, "container");
	vg_pr_obj_open(p, "cgroup");
	vg_pr_u64(p, "id", NULL, cgid);
	vg_pr_obj_close(p);
	vg_pr_str(p, "state", NULL, state);
	if (init_pid > 0)
		vg_pr_i64(p, "host_pid", NULL, init_pid);
	else
		vg_pr_null(p, "host_pid", NULL);
	n = (size_t)snprintf(what, sizeof(what), "%s", state);
	if (init_pid > 0)
		n += (size_t)snprintf(what + n, sizeof(what) - n, " host_pid=%d", init_pid);
	if (exit_status >= 0) {
		vg_pr_obj_open(p, "exit");
		vg_pr_u64(p, "status", NULL, (uint64_t)exit_status);
		vg_pr_u64(p, "code", NULL, code);
		if (sig)
			vg_pr_u64(p, "signal", NULL, sig);
		else
			vg_pr_null(p, "signal", NULL);
		vg_pr_obj_close(p);
		snprintf(what + n, sizeof(what) - n, sig ? " code=%u signal=%u" : " code=%u",
			 code, sig);
	}
	print_attribution(w, &ch, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT) {
		fmt_time(w, h->ktime_ns, when, sizeof(when));
		snprintf(prefix, sizeof(prefix), "%s %-7s", when, "container");
		text_line(w, prefix, attr, "%s", what);
	}
	finish_record(w);
}

static bool life_wanted(struct watch *w)
{
	return w->types & VG_EV_BIT(WATCH_EV_CONTAINER);
}

/* vigil watch's own selection, for events the kernel did not select:
 * --host and --pid show no containers; --container, --image and --pod
 * those they select by what is known now. */
static bool life_selected(struct watch *w, uint64_t cgid)
{
	struct vg_attribution a;

	if (w->host || w->n_pids)
		return false;
	if (!w->ctr_select)
		return true;
	return vg_attrib_cgroup_id(w->ctx, cgid, &a) == 0 &&
	       ctr_selected(w, &a.match, a.meta ? &a.meta->meta : NULL,
			    a.meta ? &a.meta->pod : NULL);
}

/* A cgroup appeared: a container's is "created". */
static void life_mkdir(struct watch *w, const struct vg_ev_cgroup *e)
{
	struct vg_attribution a;

	if (!life_wanted(w) || vg_attrib_cgroup_id(w->ctx, e->id, &a) < 0 ||
	    a.match.role != VG_ROLE_CONTAINER)
		return;
	life_add(w, e->id);
	print_container(w, &e->h, e->id, "created", 0, -1);
}

/* The runtime's record of @l's init pid, read while it is unknown: the
 * runtime writes it at create, before the container's command runs. */
static void life_read_init(struct watch *w, struct ctr_life *l)
{
	struct vg_attribution a;

	if (l->init_pid || l->lookups >= WATCH_LIFE_LOOKUPS)
		return;
	l->lookups++;
	if (vg_attrib_cgroup_id(w->ctx, l->cgroup_id, &a) < 0 ||
	    a.match.role != VG_ROLE_CONTAINER)
		return;
	if (vg_runtime_init_pid(&w->ctx->rt_cfg, w->ctx->root_fd, &a.match,
				&l->init_pid) < 0 &&
	    a.meta && a.meta->meta.init_pid > 0)
		l->init_pid = a.meta->meta.init_pid;
	if (l->init_pid && w->rec.f) {
		struct vg_rec_init_pid f = { l->cgroup_id, l->init_pid, 0 };

		vg_rec_write(&w->rec, VG_REC_INIT_PID, &f, sizeof(f));
	}
}

/* The init process runs the container's command: "running", before
 * that exec's own event. */
static void life_exec(struct watch *w, const struct vg_ev_hdr *h)
{
	struct ctr_life *l;

	if (!life_wanted(w) || !(l = life_find(w, h->cgroup_id)) || l->running)
		return;
	life_read_init(w, l);
	if (!l->init_pid || l->init_pid != (int)h->pid)
		return;
	l->running = true;
	print_container(w, h, h->cgroup_id, "running", l->init_pid, -1);
}

/* The init process gone: "exited", with its status. A container that
 * was running before vigil started is known by the runtime's record
 * read with its metadata. */
static void life_exit(struct watch *w, const struct vg_ev_exit *e)
{
	struct ctr_life *l;

	if (!life_wanted(w))
		return;
	l = life_find(w, e->h.cgroup_id);
	if (!l) {
		struct vg_attribution a;

		if (vg_attrib_cgroup_id(w->ctx, e->h.cgroup_id, &a) < 0 ||
		    a.match.role != VG_ROLE_CONTAINER || !a.meta ||
		    a.meta->meta.init_pid != (int)e->h.pid)
			return;
		l = life_add(w, e->h.cgroup_id);
		l->init_pid = (int)e->h.pid;
		l->running = true;
	}
	if (!l->running || l->exited || l->init_pid != (int)e->h.pid)
		return;
	l->exited = true;
	print_container(w, &e->h, e->h.cgroup_id, "exited", l->init_pid,
			(int)e->exit_code);
}

/* The cgroup went: "destroyed". */
static void life_rmdir(struct watch *w, const struct vg_ev_cgroup *e)
{
	struct ctr_life *l;

	if (!life_wanted(w) || !(l = life_find(w, e->id)))
		return;
	print_container(w, &e->h, e->id, "destroyed", l->init_pid, -1);
	l->cgroup_id = 0;
}

static void on_exec(struct watch *w, const struct vg_ev_exec *e, size_t len)
{
	const char *base = (const char *)e + sizeof(*e);
	size_t flen = e->filename_len, xlen = e->exe_len;
	char *filename = NULL, *exe = NULL;

	if (sizeof(*e) + flen + xlen > len)
		flen = xlen = 0;
	life_exec(w, &e->h);
	if (flen)
		filename = strndup(base, flen);
	if (xlen)
		exe = strndup(base + flen, xlen);
	vg_ptable_exec(w->pt, (int)e->h.pid, (int)e->h.ppid, e->h.start_ns,
		       exe, NULL);
	if (!(w->types & VG_EV_BIT(VG_EV_EXEC)) || !e->args_chunks) {
		if (w->types & VG_EV_BIT(VG_EV_EXEC))
			print_exec(w, e, filename, exe, NULL, 0, false);
		free(filename);
		free(exe);
		return;
	}
	/* wait for the argv chunks; a full table flushes its oldest */
	struct pending_exec *slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < WATCH_PENDING_EXECS; i++) {
		struct pending_exec *pe = &w->pending[i];

		if (!pe->used) {
			slot = pe;
			break;
		}
		if (!oldest || pe->born_ns < oldest->born_ns)
			oldest = pe;
	}
	if (!slot) {
		pending_flush(w, oldest, true);
		slot = oldest;
	}
	slot->used = true;
	slot->seq = e->exec_seq;
	slot->born_ns = mono_ns();
	slot->e = *e;
	slot->filename = filename;
	slot->exe = exe;
	slot->args = malloc(e->args_sent ? e->args_sent : 1);
	slot->received = 0;
	slot->chunks = 0;
	if (!slot->args)
		pending_flush(w, slot, true);
}

static void on_exec_args(struct watch *w, const struct vg_ev_exec_args *a,
			 size_t len)
{
	for (size_t i = 0; i < WATCH_PENDING_EXECS; i++) {
		struct pending_exec *pe = &w->pending[i];

		if (!pe->used || pe->seq != a->exec_seq)
			continue;
		if (sizeof(*a) + a->len <= len && a->offset <= pe->e.args_sent &&
		    a->len <= pe->e.args_sent - a->offset) {
			memcpy(pe->args + a->offset, (const char *)(a + 1), a->len);
			if (a->offset + a->len > pe->received)
				pe->received = a->offset + a->len;
		}
		if (++pe->chunks >= pe->e.args_chunks)
			pending_flush(w, pe, pe->received < pe->e.args_sent);
		return;
	}
	w->user_dropped++;
}

static void flush_old_execs(struct watch *w, bool all)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < WATCH_PENDING_EXECS; i++)
		if (w->pending[i].used &&
		    (all || now - w->pending[i].born_ns > WATCH_PENDING_AGE_NS))
			pending_flush(w, &w->pending[i], true);
}

static void print_exit(struct watch *w, const struct vg_ev_exit *e)
{
	struct vg_printer *p = w->pr;
	char attr[512], prefix[256], what[64];
	unsigned sig = e->exit_code & 0x7f, code = (e->exit_code >> 8) & 0xff;

	print_head(w, &e->h, "exit");
	vg_pr_obj_open(p, "exit");
	vg_pr_u64(p, "status", NULL, e->exit_code);
	if (sig) {
		vg_pr_null(p, "code", NULL);
		vg_pr_u64(p, "signal", NULL, sig);
		vg_pr_bool(p, "core_dumped", NULL, e->exit_code & 0x80);
		snprintf(what, sizeof(what), "signal=%u%s", sig,
			 (e->exit_code & 0x80) ? " (core dumped)" : "");
	} else {
		vg_pr_u64(p, "code", NULL, code);
		vg_pr_null(p, "signal", NULL);
		snprintf(what, sizeof(what), "code=%u", code);
	}
	vg_pr_obj_close(p);
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT)
		text_line(w, text_prefix(w, &e->h, "exit", prefix, sizeof(prefix)),
			  attr, "%s", what);
	finish_record(w);
}

static void print_fork(struct watch *w, const struct vg_ev_fork *e)
{
	struct vg_printer *p = w->pr;
	char attr[512], prefix[256], child_id[VG_PT_EXEC_ID_MAX];

	vg_ptable_exec_id(w->pt, (int)e->child_pid, e->child_start_ns, child_id,
			  sizeof(child_id));
	print_head(w, &e->h, e->is_thread ? "clone" : "fork");
	vg_pr_obj_open(p, "child");
	vg_pr_i64(p, "pid", NULL, e->child_pid);
	vg_pr_i64(p, "tid", NULL, e->child_tid);
	vg_pr_bool(p, "thread", NULL, e->is_thread);
	vg_pr_str(p, "exec_id", NULL, child_id);
	vg_pr_obj_close(p);
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT)
		text_line(w, text_prefix(w, &e->h, e->is_thread ? "clone" : "fork",
					 prefix, sizeof(prefix)),
			  attr, "child=%u%s", e->is_thread ? e->child_tid : e->child_pid,
			  e->is_thread ? " (thread)" : "");
	finish_record(w);
}

static void flags_text(uint32_t f, char *buf, size_t bufsz)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} t[] = {
		{ O_CREAT, "O_CREAT" },	   { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" },  { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" },  { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" },	   { O_DIRECT, "O_DIRECT" },
		{ O_LARGEFILE, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
		{ __O_TMPFILE, "O_TMPFILE" },
	};
	size_t n;

	n = (size_t)snprintf(buf, bufsz, "%s",
			     (f & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
			     : (f & O_ACCMODE) == O_RDWR ? "O_RDWR"
							 : "O_RDONLY");
	for (size_t i = 0; i < VG_ARRAY_SIZE(t) && n < bufsz; i++)
		if ((f & t[i].bit) == t[i].bit)
			n += (size_t)snprintf(buf + n, bufsz - n, "|%s", t[i].name);
}

/* One of a record's strings: @len bytes at @at ending in a NUL, or
 * NULL when absent or not so. */
static const char *rec_str(const char *at, uint32_t len)
{
	return len && !at[len - 1] ? at : NULL;
}

static void print_open(struct watch *w, const struct vg_ev_open *e, size_t len)
{
	struct vg_printer *p = w->pr;
	const char *base = (const char *)e + sizeof(*e);
	char attr[512], prefix[256], res[64];
	const char *path = NULL, *abs = NULL, *flags;

	/* both strings end in the NUL the kernel side counts in their
	 * lengths; a record that says otherwise is not trusted */
	if (sizeof(*e) + (uint64_t)e->path_len + e->abs_len <= len) {
		path = rec_str(base, e->path_len);
		abs = rec_str(base + e->path_len, e->abs_len);
	}
	const char *name = abs ? abs : path;

	if (w->path_glob && (!name || fnmatch(w->path_glob, name, 0) != 0) &&
	    (!path || fnmatch(w->path_glob, path, 0) != 0))
		return;
	if (e->flags != w->last_flags || !w->last_flags_text[0]) {
		flags_text(e->flags, w->last_flags_text,
			   sizeof(w->last_flags_text));
		w->last_flags = e->flags;
	}
	flags = w->last_flags_text;
	print_head(w, &e->h, "open");
	w->view.fd_name = name;
	w->view.res = e->ret;
	w->view.has_res = true;
	vg_pr_obj_open(p, "fd");
	vg_pr_str(p, "name", NULL, name);
	vg_pr_str(p, "path", NULL, path);
	if (e->path_flags & VG_PATH_TRUNCATED)
		vg_pr_bool(p, "name_truncated", NULL, true);
	if (e->path_flags & (VG_PATH_UNREACHABLE | VG_PATH_RELATIVE_FAILED))
		vg_pr_bool(p, "name_unresolved", NULL, true);
	if (e->ret >= 0)
		vg_pr_i64(p, "num", NULL, e->ret);
	vg_pr_i64(p, "dirfd", NULL, e->dirfd);
	vg_pr_u64(p, "flags", NULL, e->flags);
	vg_pr_str(p, "flags_text", NULL, flags);
	/* the mode argument means something only when a file is made */
	if (e->flags & (O_CREAT | __O_TMPFILE))
		vg_pr_u64(p, "mode", NULL, e->mode);
	vg_pr_obj_close(p);
	print_result(w, e->ret, res, sizeof(res));
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT)
		text_line(w, text_prefix(w, &e->h, "open", prefix, sizeof(prefix)),
			  attr, "%s %s %s", name ? name : "?", flags, res);
	finish_record(w);
}

static const char *const file_actions[VG_FILE_OPS] = {
	[VG_FILE_CREATE] = "create",	 [VG_FILE_WRITE] = "write",
	[VG_FILE_TRUNCATE] = "truncate", [VG_FILE_DELETE] = "delete",
	[VG_FILE_RMDIR] = "rmdir",	 [VG_FILE_MKDIR] = "mkdir",
	[VG_FILE_RENAME] = "rename",	 [VG_FILE_LINK] = "link",
	[VG_FILE_SYMLINK] = "symlink",	 [VG_FILE_CHMOD] = "chmod",
	[VG_FILE_CHOWN] = "chown",
};

/* The container's root filesystem on the host (the runtime's merged
 * directory) for the process of @h, or NULL: not in a container, or the
 * runtime did not say (yet). */
static const char *container_root(struct watch *w, const struct vg_ev_hdr *h)
{
	struct vg_attribution a;

	if (vg_attrib_cgroup_id(w->ctx, h->cgroup_id, &a) == 0 &&
	    a.match.role == VG_ROLE_CONTAINER && a.meta && !a.meta->pending &&
	    a.meta->meta.rootfs && a.meta->meta.rootfs[0] == '/')
		return a.meta->meta.rootfs;
	return NULL;
}

/*
 * Where the host sees @path of the process of @h: under its container's
 * root filesystem (@root, from container_root()), as it is for a host
 * process in the host's mount namespace, else through /proc/PID/root
 * (a container whose root the runtime did not say). Empty when @path is
 * not absolute.
 */
static void host_path_of(struct watch *w, const struct vg_ev_hdr *h,
			 const char *root, const char *path, char *buf,
			 size_t bufsz)
{
	buf[0] = '\0';
	if (!path || path[0] != '/')
		return;
	if (root)
		snprintf(buf, bufsz, "%s%s", root, strcmp(path, "/") ? path : "");
	else if (h->mntns == w->host_mntns)
		snprintf(buf, bufsz, "%s", path);
	else
		snprintf(buf, bufsz, "/proc/%u/root%s", h->pid, path);
}

static void print_file(struct watch *w, const struct vg_ev_file *e, size_t len)
{
	struct vg_printer *p = w->pr;
	const char *base = (const char *)e + sizeof(*e);
	const char *path = NULL, *abs = NULL, *path2 = NULL, *abs2 = NULL;
	const char *action = e->op < VG_FILE_OPS && file_actions[e->op]
				     ? file_actions[e->op] : "?";
	char attr[512], prefix[256], host[VG_PATH_MAX + 64], host2[VG_PATH_MAX + 64];
	const char *root;
	uint64_t total = (uint64_t)e->path_len + e->abs_len + e->path2_len + e->abs2_len;

	if (sizeof(*e) + total <= len) {
		path = rec_str(base, e->path_len);
		abs = rec_str(base + e->path_len, e->abs_len);
		base += e->path_len + e->abs_len;
		path2 = rec_str(base, e->path2_len);
		abs2 = rec_str(base + e->path2_len, e->abs2_len);
	}
	const char *name = abs ? abs : path;
	const char *name2 = e->op == VG_FILE_SYMLINK ? path2 : (abs2 ? abs2 : path2);
	bool two = e->op == VG_FILE_RENAME || e->op == VG_FILE_LINK;

	if (w->path_glob && (!name || fnmatch(w->path_glob, name, 0) != 0) &&
	    (!two || !name2 || fnmatch(w->path_glob, name2, 0) != 0))
		return;
	print_head(w, &e->h, "file");
	w->view.fd_name = name;
	w->view.action = action;
	w->view.res = e->ret;
	w->view.has_res = true;
	root = container_root(w, &e->h);
	host_path_of(w, &e->h, root, name, host, sizeof(host));
	vg_pr_obj_open(p, "fd");
	vg_pr_str(p, "name", NULL, name);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "file");
	vg_pr_str(p, "action", NULL, action);
	vg_pr_str(p, "path", NULL, name);
	if (host[0])
		vg_pr_str(p, "host_path", NULL, host);
	if (path && abs)
		vg_pr_str(p, "given", NULL, path);
	if (e->path_flags & VG_PATH_TRUNCATED)
		vg_pr_bool(p, "path_truncated", NULL, true);
	if (e->path_flags & (VG_PATH_UNREACHABLE | VG_PATH_RELATIVE_FAILED))
		vg_pr_bool(p, "path_unresolved", NULL, true);
	host2[0] = '\0';
	if (two && name2) {
		vg_pr_str(p, "from", NULL, name2);
		host_path_of(w, &e->h, root, name2, host2, sizeof(host2));
		if (host2[0])
			vg_pr_str(p, "from_host_path", NULL, host2);
	} else if (e->op == VG_FILE_SYMLINK && name2) {
		vg_pr_str(p, "target", NULL, name2);
	}
	if (e->op == VG_FILE_CHMOD || e->op == VG_FILE_MKDIR ||
	    (e->op == VG_FILE_CREATE && e->mode))
		vg_pr_u64(p, "mode", NULL, e->mode & 07777);
	if (e->op == VG_FILE_CHOWN) {
		if (e->uid != (uint32_t)-1)
			vg_pr_u64(p, "uid", NULL, e->uid);
		if (e->gid != (uint32_t)-1)
			vg_pr_u64(p, "gid", NULL, e->gid);
	}
	if (e->fd >= 0)
		vg_pr_i64(p, "fd", NULL, e->fd);
	vg_pr_obj_close(p);
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT) {
		char extra[VG_PATH_MAX + 80] = "", u[16] = "-", g[16] = "-";

		if (two && name2)
			snprintf(extra, sizeof(extra), " (from %s)", name2);
		else if (e->op == VG_FILE_SYMLINK && name2)
			snprintf(extra, sizeof(extra), " -> %s", name2);
		else if (e->op == VG_FILE_CHMOD)
			snprintf(extra, sizeof(extra), " mode %04o", e->mode & 07777);
		else if (e->op == VG_FILE_CHOWN) {
			/* "-": unchanged */
			if (e->uid != (uint32_t)-1)
				snprintf(u, sizeof(u), "%u", e->uid);
			if (e->gid != (uint32_t)-1)
				snprintf(g, sizeof(g), "%u", e->gid);
			snprintf(extra, sizeof(extra), " owner %s:%s", u, g);
		}
		text_line(w, text_prefix(w, &e->h, "file", prefix, sizeof(prefix)),
			  attr, "%s %s%s%s%s", action, name ? name : "?", extra,
			  host[0] && strcmp(host, name ? name : "") ? " host " : "",
			  host[0] && strcmp(host, name ? name : "") ? host : "");
	}
	finish_record(w);
}

/* A raw sockaddr as JSON members (prefix "c" or "s" for client/server,
 * Falco's naming) and text. */
static void print_sockaddr(struct vg_printer *p, const uint8_t *a, uint32_t len,
			   const char *ip_key, const char *port_key,
			   char *text, size_t textsz, char ip[112], int64_t *port)
{
	uint16_t fam;

	text[0] = '\0';
	ip[0] = '\0';
	if (len < 2)
		return;
	memcpy(&fam, a, 2);
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in s;

		memcpy(&s, a, sizeof(s));
		inet_ntop(AF_INET, &s.sin_addr, ip, 112);
		*port = ntohs(s.sin_port);
		vg_pr_str(p, ip_key, NULL, ip);
		vg_pr_u64(p, port_key, NULL, ntohs(s.sin_port));
		snprintf(text, textsz, "%s:%u", ip, ntohs(s.sin_port));
	} else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 s;

		memcpy(&s, a, sizeof(s));
		inet_ntop(AF_INET6, &s.sin6_addr, ip, 112);
		*port = ntohs(s.sin6_port);
		vg_pr_str(p, ip_key, NULL, ip);
		vg_pr_u64(p, port_key, NULL, ntohs(s.sin6_port));
		snprintf(text, textsz, "[%s]:%u", ip, ntohs(s.sin6_port));
	} else if (fam == AF_UNIX && len > 2) {
		char path[VG_SOCKADDR_MAX];
		size_t n = len - 2 < sizeof(path) - 1 ? len - 2 : sizeof(path) - 1;

		memcpy(path, a + 2, n);
		path[n] = '\0';
		if (!path[0] && n > 1) /* abstract */
			path[0] = '@';
		vg_pr_str(p, ip_key[0] == 'c' ? "cpath" : "spath", NULL, path);
		snprintf(text, textsz, "%s", path);
		snprintf(ip, 112, "%s", path);
	}
}

static void print_net(struct watch *w, const struct vg_ev_net *e)
{
	struct vg_printer *p = w->pr;
	const char *type = vg_ev_type_name(e->h.type);
	char attr[512], prefix[256], res[64], ta[160] = "", tl[160] = "";

	print_head(w, &e->h, type);
	vg_pr_obj_open(p, "fd");
	vg_pr_i64(p, "num", NULL, e->h.type == VG_EV_ACCEPT ? e->ret : e->fd);
	vg_pr_str(p, "l4proto", NULL,
		  e->family == AF_UNIX		? "unix"
		  : e->sock_type == SOCK_STREAM ? "tcp"
		  : e->sock_type == SOCK_DGRAM	? "udp"
						: NULL);
	vg_pr_str(p, "family", NULL,
		  e->family == AF_INET	  ? "ipv4"
		  : e->family == AF_INET6 ? "ipv6"
		  : e->family == AF_UNIX  ? "unix"
					  : NULL);
	/* connect: we are the client; accept, bind, listen: the server */
	struct ev_view *v = &w->view;

	v->res = e->ret;
	v->has_res = true;
	if (e->h.type == VG_EV_CONNECT) {
		print_sockaddr(p, e->addr, e->addr_len, "sip", "sport", ta,
			       sizeof(ta), v->sip, &v->sport);
		print_sockaddr(p, e->local, e->local_len, "cip", "cport", tl,
			       sizeof(tl), v->cip, &v->cport);
	} else if (e->h.type == VG_EV_ACCEPT) {
		print_sockaddr(p, e->addr, e->addr_len, "cip", "cport", ta,
			       sizeof(ta), v->cip, &v->cport);
		print_sockaddr(p, e->local, e->local_len, "sip", "sport", tl,
			       sizeof(tl), v->sip, &v->sport);
	} else {
		print_sockaddr(p, e->addr_len ? e->addr : e->local,
			       e->addr_len ? e->addr_len : e->local_len, "sip",
			       "sport", ta, sizeof(ta), v->sip, &v->sport);
	}
	if (e->h.type == VG_EV_LISTEN)
		vg_pr_u64(p, "backlog", NULL, e->backlog);
	vg_pr_obj_close(p);
	print_result(w, e->ret, res, sizeof(res));
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT)
		text_line(w, text_prefix(w, &e->h, type, prefix, sizeof(prefix)),
			  attr, "%s%s%s %s", ta[0] ? ta : "?", tl[0] ? " local=" : "", tl, res);
	finish_record(w);
}

static void print_syscall(struct watch *w, const struct vg_ev_syscall *e)
{
	struct vg_printer *p = w->pr;
	char attr[512], prefix[256], res[64];

	print_head(w, &e->h, "syscall");
	w->view.res = e->ret;
	w->view.has_res = true;
	vg_pr_obj_open(p, "syscall");
	vg_pr_u64(p, "nr", NULL, e->nr);
	vg_pr_arr_open(p, "args");
	for (int i = 0; i < 6; i++)
		vg_pr_u64(p, NULL, NULL, e->args[i]);
	vg_pr_arr_close(p);
	vg_pr_u64(p, "duration_ns", NULL, e->h.ktime_ns - e->enter_ns);
	vg_pr_obj_close(p);
	print_result(w, e->ret, res, sizeof(res));
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT)
		text_line(w, text_prefix(w, &e->h, "syscall", prefix, sizeof(prefix)),
			  attr, "nr=%u (%#llx, %#llx, %#llx, ...) %s", e->nr, (unsigned long long)e->args[0],
			  (unsigned long long)e->args[1],
			  (unsigned long long)e->args[2], res);
	finish_record(w);
}

static void print_tracepoint(struct watch *w, const struct vg_ev_tracepoint *e,
			     size_t len)
{
	struct vg_printer *p = w->pr;
	const struct vg_tp_format *f = NULL;
	char attr[512], prefix[256], label[300];

	for (size_t i = 0; i < w->n_tpf; i++)
		if (w->tpf[i].id == e->tp_id)
			f = &w->tpf[i];
	if (!f || sizeof(*e) + e->len > len)
		return;
	snprintf(label, sizeof(label), "%s:%s", f->group, f->name);
	print_head(w, &e->h, "tracepoint");
	vg_pr_obj_open(p, "tp");
	vg_pr_str(p, "name", NULL, label);
	vg_pr_u64(p, "id", NULL, e->tp_id);
	vg_tp_decode(f, e + 1, e->len, p, "fields");
	vg_pr_obj_close(p);
	print_attribution(w, &e->h, attr, sizeof(attr));
	if (w->mode == VG_OUTPUT_TEXT) {
		/* the fields as one JSON object on the line */
		struct vg_printer *jp = vg_printer_new(VG_OUTPUT_JSON);
		char *fields = NULL;

		if (jp) {
			vg_pr_begin(jp);
			vg_tp_decode(f, e + 1, e->len, jp, "f");
			fields = vg_pr_end_string(jp);
			vg_printer_free(jp);
		}
		text_line(w, text_prefix(w, &e->h, "tp", prefix, sizeof(prefix)),
			  attr, "%s %s", label, fields ? fields : "");
		free(fields);
	}
	finish_record(w);
}

/* ------------------------------------------------- container selection */

/*
 * --image GLOB against an image reference: the whole reference as the
 * runtime recorded it (docker.io/library/busybox:1.36), or its last path
 * component with or without the tag or digest (busybox:1.36, busybox), so
 * that 'busy*' selects busybox from whatever registry it came.
 */
static bool image_matches(const char *glob, const char *image)
{
	const char *last = strrchr(image, '/');
	char name[256];
	size_t n;

	if (fnmatch(glob, image, 0) == 0)
		return true;
	last = last ? last + 1 : image;
	if (fnmatch(glob, last, 0) == 0)
		return true;
	n = strcspn(last, ":@");
	if (n == strlen(last) || n >= sizeof(name))
		return false;
	memcpy(name, last, n);
	name[n] = '\0';
	return fnmatch(glob, name, 0) == 0;
}

static bool selector_matches(const struct watch_selector *s,
			     const struct vg_cgroup_match *m,
			     const struct vg_container_meta *meta,
			     const struct vg_pod_meta *pod)
{
	if (m->role != VG_ROLE_CONTAINER)
		return false;
	for (size_t i = 0; i < s->n_refs; i++) {
		const char *ref = s->refs[i];

		if (strcmp(ref, m->container_id) == 0 ||
		    (strlen(ref) >= 3 && vg_startswith(m->container_id, ref)) ||
		    (meta && meta->name && strcmp(ref, meta->name) == 0))
			return true;
	}
	if (s->image_glob && meta && meta->image &&
	    image_matches(s->image_glob, meta->image))
		return true;
	if (s->pod_ns && pod && pod->ns && pod->name &&
	    strcmp(pod->ns, s->pod_ns) == 0 &&
	    fnmatch(s->pod_name, pod->name, 0) == 0)
		return true;
	return false;
}

static bool ctr_selected(struct watch *w, const struct vg_cgroup_match *m,
			 const struct vg_container_meta *meta,
			 const struct vg_pod_meta *pod)
{
	const struct watch_selector s = {
		.refs = w->container_refs, .n_refs = w->n_container_refs,
		.image_glob = w->image_glob, .pod_ns = w->pod_ns,
		.pod_name = w->pod_name,
	};

	return selector_matches(&s, m, meta, pod);
}

/* Whether @s selects what @a attributes. */
static bool attribution_selected(const struct watch_selector *s,
				 const struct vg_attribution *a)
{
	if (s->host && a->match.role != VG_ROLE_CONTAINER)
		return true;
	return selector_matches(s, &a->match, a->meta ? &a->meta->meta : NULL,
				a->meta ? &a->meta->pod : NULL);
}

bool watch_cgroup_selected(struct watch *w, const struct watch_selector *s,
			   uint64_t cgroup_id)
{
	struct vg_attribution a;

	return vg_attrib_cgroup_id(w->ctx, cgroup_id, &a) == 0 &&
	       attribution_selected(s, &a);
}

bool watch_view_selected(struct watch *w, const struct watch_selector *s,
			 const struct ev_view *v)
{
	return watch_cgroup_selected(w, s, v->h.cgroup_id);
}

static void select_mntns_of(struct watch *w, int pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "%d/ns/mnt", pid);
	if (pid > 0 && fstatat(w->ctx->proc_fd, path, &st, 0) == 0)
		vg_sensor_filter_mntns(w->sensor, (uint32_t)st.st_ino, true);
}

/* The containers running now that the selection names. Returns how many,
 * or -1 when a --container REF names none (message printed). */
static int select_existing(struct watch *w)
{
	struct vg_snapshot s;
	int n = 0;

	if (vg_snapshot_take(w->ctx, &s) < 0) {
		cli_error("reading processes: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < w->n_container_refs; i++) {
		if (cli_find_container(&s, w->container_refs[i]) < 0) {
			vg_snapshot_release(&s);
			return -1;
		}
	}
	for (size_t i = 0; i < s.n_ctrs; i++) {
		const struct vg_snap_ctr *c = &s.ctrs[i];

		if (!ctr_selected(w, &c->first->attr,
				  c->meta ? &c->meta->meta : NULL, c->pod))
			continue;
		/* by its own cgroup; by mount namespace only where it has
		 * no cgroup v2 of its own (v1-only hosts): runtimes' setup
		 * processes enter that namespace while still in theirs.
		 * (Id 1 is the root cgroup: everyone's, when v2 is unused.) */
		if (c->cgroup_id > 1)
			vg_sensor_filter_cgroup(w->sensor, c->cgroup_id, true);
		else
			select_mntns_of(w, c->init_pid);
		n++;
	}
	vg_snapshot_release(&s);
	return n;
}

/* A new cgroup: if it is a selected container, let its events through.
 * Returns true when decided (selected or not a container at all). */
static bool consider_cgroup(struct watch *w, uint64_t id)
{
	struct vg_attribution a;
	int r = vg_attrib_cgroup_id(w->ctx, id, &a);

	if (r < 0)
		return r == -ENOENT;
	if (a.match.role != VG_ROLE_CONTAINER)
		return true;
	if (ctr_selected(w, &a.match, a.meta ? &a.meta->meta : NULL,
			 a.meta ? &a.meta->pod : NULL)) {
		vg_sensor_filter_cgroup(w->sensor, id, true);
		return true;
	}
	/* the runtime may not have written its state yet */
	return a.meta && !a.meta->meta.incomplete;
}

static void on_cgroup_mkdir(struct watch *w, const struct vg_ev_cgroup *e)
{
	if (!w->ctr_select) {
		/* Attribute it now, while it exists: a short-lived
		 * container's cgroup may be gone by the time its events are
		 * read. Its metadata is read meanwhile, off this path. */
		struct vg_attribution a;

		vg_attrib_cgroup_id(w->ctx, e->id, &a);
		return;
	}
	if (consider_cgroup(w, e->id))
		return;
	if (w->n_newcg == WATCH_NEW_CGROUPS) {
		/* full: the oldest has had the most tries; give it up, and
		 * say so */
		size_t old = 0;

		for (size_t i = 1; i < w->n_newcg; i++)
			if (w->newcg[i].seen_ns < w->newcg[old].seen_ns)
				old = i;
		if (!w->newcg_given_up++)
			cli_error("warning: more than %d new cgroups await their "
				  "runtime's state; the oldest are no longer examined",
				  WATCH_NEW_CGROUPS);
		w->newcg[old] = w->newcg[--w->n_newcg];
	}
	w->newcg[w->n_newcg++] = (struct new_cgroup){ e->id, mono_ns() };
}

static void retry_new_cgroups(struct watch *w)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < w->n_newcg;) {
		if (consider_cgroup(w, w->newcg[i].id) ||
		    now - w->newcg[i].seen_ns > WATCH_NEW_CGROUP_RETRY_NS)
			w->newcg[i] = w->newcg[--w->n_newcg];
		else
			i++;
	}
}

/* ------------------------------------------------ the daemon's drop set
 *
 * With every subscription limited to some containers (or the host), the
 * kernel is told which cgroups none of them wants, and their events of
 * the selectable types are not even sent. A cgroup is decided when its
 * first event arrives: until then it passes, so a new container's first
 * events are never lost to a decision not yet made; one whose metadata
 * is still being read passes until it is known. The process table's
 * types (fork, exec, exit) always pass. Selections are still applied
 * exactly to each record; the kernel only sheds what no one wants.
 */

enum { DS_EMPTY, DS_KEEP, DS_DROP, DS_PENDING };

static size_t drop_hash(uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 40) & (DROP_SLOTS - 1);
}

static struct drop_slot *drop_find(struct watch *w, uint64_t id)
{
	for (size_t i = drop_hash(id);; i = (i + 1) & (DROP_SLOTS - 1)) {
		if (w->drop[i].state == DS_EMPTY)
			return NULL;
		if (w->drop[i].id == id)
			return &w->drop[i];
	}
}

static struct drop_slot *drop_insert(struct watch *w, uint64_t id)
{
	size_t i = drop_hash(id);

	if (w->n_drop >= DROP_SLOTS / 2)
		return NULL;
	while (w->drop[i].state != DS_EMPTY)
		i = (i + 1) & (DROP_SLOTS - 1);
	w->drop[i].id = id;
	w->n_drop++;
	return &w->drop[i];
}

/* What the selections make of cgroup @id. */
static uint8_t drop_verdict(struct watch *w, uint64_t id)
{
	struct vg_attribution a;

	/* the root cgroup holds everyone where cgroup v2 is unused */
	if (id <= 1 || vg_attrib_cgroup_id(w->ctx, id, &a) < 0)
		return DS_KEEP;
	for (size_t i = 0; i < w->n_drop_sels; i++)
		if (attribution_selected(w->drop_sels[i], &a))
			return DS_KEEP;
	if (a.match.role == VG_ROLE_CONTAINER && a.meta && a.meta->pending)
		return DS_PENDING;
	return DS_DROP;
}

static void drop_apply(struct watch *w, struct drop_slot *s, uint8_t v)
{
	if (v == s->state)
		return;
	if (s->state == DS_DROP) {
		vg_sensor_drop_cgroup(w->sensor, s->id, false);
		w->n_dropping--;
	}
	if (v == DS_DROP) {
		if (vg_sensor_drop_cgroup(w->sensor, s->id, true) < 0) {
			w->drop_full++;
			v = DS_KEEP;
		} else {
			w->n_dropping++;
		}
	}
	s->state = v;
}

static void drop_consider(struct watch *w, uint64_t id)
{
	struct drop_slot *s = drop_find(w, id);
	uint8_t v;

	if (s && s->state != DS_PENDING)
		return;
	v = drop_verdict(w, id);
	if (!s && !(s = drop_insert(w, id))) {
		w->drop_untracked++;
		return;
	}
	drop_apply(w, s, v);
}

/* A cgroup went: out of the table (linear probing, backward shift). */
static void drop_forget(struct watch *w, uint64_t id)
{
	struct drop_slot *s;
	size_t i, j;

	if (!w->drop || !(s = drop_find(w, id)))
		return;
	drop_apply(w, s, DS_KEEP);
	i = (size_t)(s - w->drop);
	for (j = (i + 1) & (DROP_SLOTS - 1); w->drop[j].state != DS_EMPTY;
	     j = (j + 1) & (DROP_SLOTS - 1)) {
		size_t k = drop_hash(w->drop[j].id);

		/* stays unless its home is cyclically outside (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			w->drop[i] = w->drop[j];
			i = j;
		}
	}
	w->drop[i].state = DS_EMPTY;
	w->n_drop--;
}

int watch_engine_set_drop(struct watch *w,
			  const struct watch_selector *const *sels, size_t n,
			  uint64_t types)
{
	const struct watch_selector **copy = NULL;

	types &= WATCH_STD_TYPES & ~(uint64_t)WATCH_TABLE_TYPES;
	if (!n || !types) {
		/* off: the kernel stops consulting the set, then it empties */
		vg_sensor_drop_types(w->sensor, 0);
		w->drop_types = 0;
		if (w->drop)
			for (size_t i = 0; i < DROP_SLOTS; i++)
				if (w->drop[i].state == DS_DROP)
					vg_sensor_drop_cgroup(w->sensor, w->drop[i].id,
							      false);
		free(w->drop);
		w->drop = NULL;
		w->n_drop = 0;
		w->n_dropping = 0;
		free(w->drop_sels);
		w->drop_sels = NULL;
		w->n_drop_sels = 0;
		return 0;
	}
	if (!w->drop && !(w->drop = calloc(DROP_SLOTS, sizeof(*w->drop))))
		return -ENOMEM;
	copy = malloc(n * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, sels, n * sizeof(*copy));
	free(w->drop_sels);
	w->drop_sels = copy;
	w->n_drop_sels = n;
	/* what is decided is decided again; the rest as it shows up */
	for (size_t i = 0; i < DROP_SLOTS; i++)
		if (w->drop[i].state != DS_EMPTY)
			drop_apply(w, &w->drop[i], drop_verdict(w, w->drop[i].id));
	vg_sensor_drop_types(w->sensor, types);
	w->drop_types = types;
	return 0;
}

/* ------------------------------------------------------------ the loop */

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct watch *w = ctx;
	const struct vg_ev_hdr *h = rec;

	if (w->rec.f)
		vg_rec_write(&w->rec, VG_REC_RING, rec, len);
	if (len < sizeof(*h) || h->size > len || h->version != VG_EVENTS_VERSION)
		return 0;
	if (h->type < 64 && (w->drop_types & VG_EV_BIT(h->type)))
		drop_consider(w, h->cgroup_id);
	switch (h->type) {
	case VG_EV_FORK:
		if (len >= sizeof(struct vg_ev_fork)) {
			const struct vg_ev_fork *e = rec;

			if (!e->is_thread) {
				vg_ptable_fork(w->pt, (int)e->h.pid, (int)e->child_pid,
					       e->child_start_ns);
				/* --pid follows descendants */
				if (w->n_pids)
					vg_sensor_filter_pid(w->sensor, e->child_pid, true);
			}
			if ((w->types & VG_EV_BIT(VG_EV_FORK)) &&
			    (!e->is_thread || w->show_threads))
				print_fork(w, e);
		}
		break;
	case VG_EV_EXEC:
		if (len >= sizeof(struct vg_ev_exec))
			on_exec(w, rec, len);
		break;
	case VG_EV_EXEC_ARGS:
		if (len >= sizeof(struct vg_ev_exec_args))
			on_exec_args(w, rec, len);
		break;
	case VG_EV_EXIT:
		if (len >= sizeof(struct vg_ev_exit)) {
			if (w->types & VG_EV_BIT(VG_EV_EXIT))
				print_exit(w, rec);
			life_exit(w, rec);
			vg_ptable_exit(w->pt, (int)h->pid);
			if (w->n_pids)
				vg_sensor_filter_pid(w->sensor, h->pid, false);
		}
		break;
	case VG_EV_OPEN:
		if (len >= sizeof(struct vg_ev_open))
			print_open(w, rec, len);
		break;
	case VG_EV_FILE:
		if (len >= sizeof(struct vg_ev_file))
			print_file(w, rec, len);
		break;
	case VG_EV_CONNECT:
	case VG_EV_ACCEPT:
	case VG_EV_BIND:
	case VG_EV_LISTEN:
		if (len >= sizeof(struct vg_ev_net))
			print_net(w, rec);
		break;
	case VG_EV_SYSCALL:
		if (len >= sizeof(struct vg_ev_syscall))
			print_syscall(w, rec);
		break;
	case VG_EV_TRACEPOINT:
		if (len >= sizeof(struct vg_ev_tracepoint))
			print_tracepoint(w, rec, len);
		break;
	case VG_EV_CGROUP_MKDIR:
		if (len >= sizeof(struct vg_ev_cgroup)) {
			on_cgroup_mkdir(w, rec);
			life_mkdir(w, rec);
		}
		break;
	case VG_EV_CGROUP_RMDIR:
		if (len >= sizeof(struct vg_ev_cgroup)) {
			life_rmdir(w, rec);
			drop_forget(w, ((const struct vg_ev_cgroup *)rec)->id);
		}
		break;
	}
	/* libbpf stops consuming only on a negative return */
	if (w->max_count && w->printed >= w->max_count)
		return -ECANCELED;
	return 0;
}

/* New kernel-side losses since the last report, as a lost record. */
static void report_lost(struct watch *w)
{
	uint64_t now[VG_EV_TYPES], total = 0;
	struct vg_printer *p = w->pr;
	char text[512];
	size_t n = 0;

	if (vg_sensor_lost(w->sensor, now) < 0)
		return;
	for (int t = 0; t < VG_EV_TYPES; t++)
		total += now[t] - w->lost_seen[t];
	if (w->rec.f && total)
		vg_rec_write(&w->rec, VG_REC_LOST, now, sizeof(now));
	total += w->user_dropped;
	if (!total)
		return;
	vg_pr_begin(p);
	vg_pr_obj_open(p, "evt");
	vg_pr_str(p, "type", NULL, "lost");
	char when[48];

	fmt_time(w, vg_clock_ns(CLOCK_BOOTTIME), when, sizeof(when));
	vg_pr_str(p, "time", NULL, when);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "lost");
	vg_pr_u64(p, "total", NULL, total);
	n = (size_t)snprintf(text, sizeof(text), "%s lost    %llu events:", when,
			     (unsigned long long)total);
	for (int t = 1; t < VG_EV_TYPES; t++) {
		uint64_t d = now[t] - w->lost_seen[t];

		if (!d)
			continue;
		vg_pr_u64(p, vg_ev_type_name((uint32_t)t), NULL, d);
		if (n < sizeof(text))
			n += (size_t)snprintf(text + n, sizeof(text) - n, " %s=%llu",
					      vg_ev_type_name((uint32_t)t),
					      (unsigned long long)d);
		w->lost_seen[t] = now[t];
	}
	if (w->user_dropped) {
		vg_pr_u64(p, "exec_args_unmatched", NULL, w->user_dropped);
		if (n < sizeof(text))
			snprintf(text + n, sizeof(text) - n,
				 " exec_args_unmatched=%llu",
				 (unsigned long long)w->user_dropped);
		w->user_dropped = 0;
	}
	vg_pr_obj_close(p);
	/* every reader is told, whatever its filter */
	if (w->mode == VG_OUTPUT_TEXT) {
		free(vg_pr_end_string(p));
		sanitize_text(text);
		puts(text);
	} else if (w->sink) {
		char *line = vg_pr_end_string(p);

		if (line)
			w->sink(w->sink_ctx, line, strlen(line), NULL);
		free(line);
	} else {
		vg_pr_end(p, stdout);
	}
	w->lost_reported += total;
}

/* The context, process table and printers of @w. Returns 0, -EINVAL
 * (the host root: the reason is printed) or -ENOMEM (in @err). */
static int watch_open(struct watch *w, char *err, size_t errsz)
{
	err[0] = '\0';
	w->ctx = cli_ctx_new();
	if (!w->ctx)
		return -EINVAL;
	w->pt = vg_ptable_new(65536, w->ctx->have_boot_id ? w->ctx->boot_id : NULL,
			      w->ctx->clk_tck);
	w->pr = vg_printer_new(VG_OUTPUT_JSON);
	w->frag = vg_printer_new(VG_OUTPUT_JSON);
	if (!w->pt || !w->pr || !w->frag) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	compute_wall_offset(w);
	/* whose paths are host paths as they are: the host's (pid 1's),
	 * or, where that is not readable, vigil's own */
	struct stat st;

	if (fstatat(w->ctx->proc_fd, "1/ns/mnt", &st, 0) == 0 ||
	    fstatat(w->ctx->proc_fd, "self/ns/mnt", &st, 0) == 0)
		w->host_mntns = (uint32_t)st.st_ino;
	return 0;
}

/* Everything @w holds (not @w itself); a half-made @w too. */
static void watch_release(struct watch *w)
{
	vg_sensor_free(w->sensor);
	vg_tracefs_release(&w->tracefs);
	for (size_t i = 0; i < WATCH_PENDING_EXECS; i++)
		pending_release(&w->pending[i]);
	for (size_t i = 0; i < w->n_tpf; i++)
		vg_tp_format_release(&w->tpf[i]);
	for (size_t i = 0; i < w->n_held; i++) {
		free(w->held[i].line);
		free(w->held[i].view->owned);
		free(w->held[i].view);
	}
	vg_filter_free(w->filter);
	free(w->drop);
	free(w->drop_sels);
	free(w->scratch);
	free(w->tline);
	vg_printer_free(w->pr);
	vg_printer_free(w->frag);
	for (size_t i = 0; i < ATTR_CACHE_SLOTS; i++)
		free(w->attr_cache[i].json);
	for (size_t i = 0; i < PROC_CACHE_SLOTS; i++)
		free(w->proc_cache[i].json);
	vg_ptable_free(w->pt);
	vigil_ctx_free(w->ctx);
	free((char *)w->pod_ns);
}

/*
 * What is there to read, and the periodic work: metadata the worker has
 * read, the ring buffer, execs whose argv is late, held records, new
 * cgroups awaiting their state, losses each second, the wall clock each
 * minute. *@ret_poll: the ring buffer's answer. Returns how long to wait
 * (ms) before the next call at the latest.
 */
static int pump(struct watch *w, int *ret_poll)
{
	uint64_t now;

	if (vg_meta_worker_collect(w->ctx))
		attr_cache_forget(w);
	*ret_poll = vg_sensor_poll(w->sensor, 0, on_record, w);
	flush_old_execs(w, false);
	if (w->n_held)
		release_held(w, false);
	if (w->n_newcg)
		retry_new_cgroups(w);
	now = mono_ns();
	if (now - w->last_lost >= 1000000000ull) {
		report_lost(w);
		w->last_lost = now;
	}
	if (now - w->last_offset >= 60ull * 1000000000ull) {
		compute_wall_offset(w);
		w->last_offset = now;
	}
	if (vg_sensor_behind(w->sensor))
		return 0;
	if (vg_sensor_pending(w->sensor))
		return WATCH_TAIL_MS;
	return w->n_held ? 10 : WATCH_LATENCY_MS;
}

/*
 * The sensor, after the checks that name what stops it (capabilities,
 * kernel, BTF, lockdown, ring buffer) with their fix. A tracefs vigil had
 * to mount where others see it is said once; a private one is not, as
 * nothing changed for anyone. Returns 0 or -errno with @err.
 */
static int watch_sensor_new(struct watch *w, const struct vg_sensor_opts *so,
			    char *err, size_t errsz)
{
	char why[512];
	int r;

	r = vg_probe_preflight(why, sizeof(why));
	if (r < 0) {
		snprintf(err, errsz, "cannot start the eBPF sensor: %s", why);
		return r;
	}
	r = vg_sensor_new(so, &w->sensor, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errsz, "cannot start the eBPF sensor: %s", why);
		return r;
	}
	if (w->tracefs.how == VG_TRACEFS_MOUNTED_NOW)
		cli_error("note: tracefs was mounted at %s (%s)", w->tracefs.where,
			  w->tracefs.why_not_private);
	/* the ids are read: the tracefs is needed no more */
	vg_tracefs_release(&w->tracefs);
	return 0;
}

static int rec_proc(const struct vg_pt_entry *e, void *ctx)
{
	struct watch *w = ctx;
	size_t xl = e->exe ? strlen(e->exe) + 1 : 0;
	uint8_t body[sizeof(struct vg_rec_proc) + VG_PATH_MAX + 1];
	struct vg_rec_proc p = {
		.pid = e->pid, .ppid = e->ppid, .start_ticks = e->start_ticks,
		.exe_len = (uint32_t)xl,
	};

	if (xl > VG_PATH_MAX + 1)
		xl = p.exe_len = 0;
	memcpy(p.comm, e->comm, sizeof(p.comm));
	memcpy(body, &p, sizeof(p));
	if (xl)
		memcpy(body + sizeof(p), e->exe, xl);
	return vg_rec_write(&w->rec, VG_REC_PROC, body, sizeof(p) + xl);
}

/* --record: the header, the cgroups and processes there now; the ring's
 * records follow as they come. Returns 0 or -errno with @err. */
static int watch_record_start(struct watch *w, char *err, size_t errsz)
{
	struct vg_rec_header h = { 0 };
	struct utsname u;
	int r;

	h.boot_to_wall_ns = (uint64_t)w->boot_to_wall_ns;
	h.clk_tck = (uint64_t)w->ctx->clk_tck;
	if (uname(&u) == 0) {
		snprintf(h.kernel, sizeof(h.kernel), "%s", u.release);
		snprintf(h.machine, sizeof(h.machine), "%s", u.machine);
	}
	snprintf(h.vigil_version, sizeof(h.vigil_version), "%d.%d.%d",
		 VIGIL_VERSION_MAJOR, VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
	if (w->ctx->have_boot_id)
		snprintf(h.boot_id, sizeof(h.boot_id), "%s", w->ctx->boot_id);
	snprintf(h.host_root, sizeof(h.host_root), "%s", w->ctx->host_root);
	r = vg_rec_open(&w->rec, w->rec_path, &h, err, errsz);
	if (r < 0)
		return r;
	r = vg_rec_write_cgroups(&w->rec, w->ctx->cg2_fd);
	if (!r)
		r = vg_ptable_foreach(w->pt, rec_proc, w);
	if (r < 0) {
		vg_set_err(err, errsz, "%s: %s", w->rec_path, strerror(-r));
		vg_rec_close(&w->rec);
	}
	return r;
}

/* vigil watch as one subscription to the daemon on @fd. */
static int via_daemon(struct watch *w, int fd, const char *path,
		      const char *filter_text, uint64_t duration_ms)
{
	const char *events[VG_EV_TYPES];
	char pod[512];
	char *filter = NULL;
	size_t n = 0;
	int r;

	for (uint32_t t = 1; t < VG_EV_TYPES; t++)
		if ((w->types & VG_EV_BIT(t)) && (WATCH_STD_TYPES & VG_EV_BIT(t)))
			events[n++] = vg_ev_type_name(t);
	if (w->types & VG_EV_BIT(WATCH_EV_CONTAINER))
		events[n++] = "container";
	if (w->path_glob) {
		/* --path as the filter says it, quoted */
		size_t len = strlen(w->path_glob), o = 0;
		char *q = malloc(2 * len + 3);

		if (!q) {
			close(fd);
			return EXIT_PARTIAL;
		}
		q[o++] = '"';
		for (size_t i = 0; i < len; i++) {
			if (w->path_glob[i] == '"' || w->path_glob[i] == '\\')
				q[o++] = '\\';
			q[o++] = w->path_glob[i];
		}
		q[o++] = '"';
		q[o] = '\0';
		if (asprintf(&filter, "%s%s%sfd.name glob %s",
			     filter_text ? "(" : "", filter_text ? filter_text : "",
			     filter_text ? ") and " : "", q) < 0)
			filter = NULL;
		free(q);
		if (!filter) {
			close(fd);
			return EXIT_PARTIAL;
		}
	}
	if (w->pod_ns)
		snprintf(pod, sizeof(pod), "%s/%s", w->pod_ns, w->pod_name);
	const struct watch_client_opts o = {
		.socket = path,
		.events = events, .n_events = n,
		.filter = filter ? filter : filter_text,
		.refs = w->container_refs, .n_refs = w->n_container_refs,
		.image = w->image_glob, .pod = w->pod_ns ? pod : NULL,
		.host = w->host,
		.mode = w->mode,
		.max_count = w->max_count, .duration_ms = duration_ms,
	};

	r = watch_client_run(fd, &o);
	free(filter);
	return r;
}

/* vg_filter_type_mask()'s names: the kernel types behind each. */
uint64_t watch_type_bits(const char *name, void *ctx)
{
	(void)ctx;
	for (uint32_t t = 1; t < VG_EV_TYPES; t++)
		if (strcmp(name, vg_ev_type_name(t)) == 0)
			return VG_EV_BIT(t);
	if (strcmp(name, "tp") == 0)
		return VG_EV_BIT(VG_EV_TRACEPOINT);
	if (strcmp(name, "container") == 0)
		return VG_EV_BIT(WATCH_EV_CONTAINER);
	return 0; /* lost: none of these */
}

static int add_event(struct watch *w, const char *name, uint32_t *syscalls,
		     size_t *n_sys)
{
	static const struct {
		const char *name;
		uint64_t mask;
	} names[] = {
		{ "exec", VG_EV_BIT(VG_EV_EXEC) },
		{ "exit", VG_EV_BIT(VG_EV_EXIT) },
		{ "fork", VG_EV_BIT(VG_EV_FORK) },
		{ "open", VG_EV_BIT(VG_EV_OPEN) },
		{ "connect", VG_EV_BIT(VG_EV_CONNECT) },
		{ "accept", VG_EV_BIT(VG_EV_ACCEPT) },
		{ "bind", VG_EV_BIT(VG_EV_BIND) },
		{ "listen", VG_EV_BIT(VG_EV_LISTEN) },
		{ "file", VG_EV_BIT(VG_EV_FILE) },
		{ "container", VG_EV_BIT(WATCH_EV_CONTAINER) },
		{ "all", WATCH_STD_TYPES | VG_EV_BIT(WATCH_EV_CONTAINER) },
	};

	if (strcmp(name, "thread") == 0) {
		w->types |= VG_EV_BIT(VG_EV_FORK);
		w->show_threads = true;
		return 0;
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i].name) == 0) {
			w->types |= names[i].mask;
			return 0;
		}
	if (vg_startswith(name, "syscall:")) {
		uint64_t nr;

		if (vg_parse_u64(name + 8, &nr) < 0 || nr > 1023)
			return cli_usage_error("watch",
					       "syscall:NR takes a syscall number, not '%s'",
					       name + 8);
		if (*n_sys >= WATCH_MAX_SYSCALLS)
			return cli_usage_error("watch", "at most %d syscalls",
					       WATCH_MAX_SYSCALLS);
		syscalls[(*n_sys)++] = (uint32_t)nr;
		w->types |= VG_EV_BIT(VG_EV_SYSCALL);
		return 0;
	}
	if (vg_startswith(name, "tp:")) {
		char group[128], tpname[128], err[512];
		const char *colon = strchr(name + 3, ':');
		int r;

		if (!colon || colon == name + 3 || !colon[1] ||
		    (size_t)(colon - name - 3) >= sizeof(group) ||
		    strlen(colon + 1) >= sizeof(tpname))
			return cli_usage_error("watch", "tp:GROUP:NAME, not '%s'", name);
		if (w->n_tpf >= WATCH_MAX_TPS)
			return cli_usage_error("watch", "at most %d tracepoints",
					       WATCH_MAX_TPS);
		memcpy(group, name + 3, (size_t)(colon - name - 3));
		group[colon - name - 3] = '\0';
		snprintf(tpname, sizeof(tpname), "%s", colon + 1);
		r = vg_tracefs_ensure(&w->tracefs, err, sizeof(err));
		if (r < 0) {
			cli_error("%s", err);
			return EXIT_USAGE;
		}
		r = vg_tp_format_load(w->tracefs.fd, group, tpname,
				      &w->tpf[w->n_tpf], err, sizeof(err));
		if (r < 0) {
			cli_error("tracepoint %s:%s: %s", group, tpname,
				  err[0] ? err : strerror(-r));
			return EXIT_USAGE;
		}
		w->n_tpf++;
		w->types |= VG_EV_BIT(VG_EV_TRACEPOINT);
		return 0;
	}
	return cli_usage_error("watch", "unknown event '%s'", name);
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_IMAGE = 1000, OPT_POD, OPT_HOST, OPT_PATH, OPT_RING, OPT_FIELDS,
	       OPT_SOCKET, OPT_EMBEDDED, OPT_RECORD };
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "event", required_argument, NULL, 'e' },
		{ "container", required_argument, NULL, 'c' },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "host", no_argument, NULL, OPT_HOST },
		{ "pid", required_argument, NULL, 'p' },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "filter", required_argument, NULL, 'f' },
		{ "fields", no_argument, NULL, OPT_FIELDS },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "embedded", no_argument, NULL, OPT_EMBEDDED },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ 0 },
	};
	static struct watch w; /* large: pending execs, formats */
	uint32_t syscalls[WATCH_MAX_SYSCALLS];
	size_t n_sys = 0, ring = 0;
	uint64_t duration_ms = 0, v;
	char err[512];
	int c, r, ret = EXIT_OK;
	bool events_given = false;
	const char *filter_text = NULL;
	const char *socket_path = getenv("VIGIL_SOCKET");
	bool embedded = false, socket_given = false, ring_given = false;

	memset(&w, 0, sizeof(w));
	vg_tracefs_init(&w.tracefs);
	while ((c = getopt_long(argc, argv, "e:c:p:n:d:f:" CLI_GLOBAL_SHORTOPTS,
				opts, NULL)) != -1) {
		switch (c) {
		case 'e': {
			_cleanup_free_ char *list = strdup(optarg);
			char *save = NULL;

			if (!list)
				return EXIT_USAGE;
			events_given = true;
			for (char *t = strtok_r(list, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				r = add_event(&w, t, syscalls, &n_sys);
				if (r)
					return r;
			}
			break;
		}
		case 'c':
			if (w.n_container_refs >= WATCH_MAX_SELECT)
				return cli_usage_error("watch", "too many --container");
			w.container_refs[w.n_container_refs++] = optarg;
			break;
		case OPT_IMAGE:
			w.image_glob = optarg;
			break;
		case OPT_POD: {
			const char *slash = strchr(optarg, '/');

			if (!slash || slash == optarg || !slash[1])
				return cli_usage_error("watch",
						       "--pod takes NAMESPACE/NAME, not '%s'",
						       optarg);
			w.pod_ns = strndup(optarg, (size_t)(slash - optarg));
			w.pod_name = slash + 1;
			break;
		}
		case OPT_HOST:
			w.host = true;
			break;
		case 'p':
			if (vg_parse_u64(optarg, &v) < 0 || !v || v > INT32_MAX)
				return cli_usage_error("watch", "--pid takes a pid, not '%s'",
						       optarg);
			if (w.n_pids >= WATCH_MAX_SELECT)
				return cli_usage_error("watch", "too many --pid");
			w.pids[w.n_pids++] = (int)v;
			break;
		case OPT_PATH:
			w.path_glob = optarg;
			break;
		case 'n':
			if (vg_parse_u64(optarg, &v) < 0 || !v)
				return cli_usage_error("watch", "--count takes a positive number, not '%s'",
						       optarg);
			w.max_count = v;
			break;
		case 'd':
			if (vg_parse_u64(optarg, &v) < 0 || !v || v > 31536000)
				return cli_usage_error("watch", "--duration takes seconds, not '%s'",
						       optarg);
			duration_ms = v * 1000;
			break;
		case OPT_RING:
			if (cli_ring_size("watch", optarg, &ring))
				return EXIT_USAGE;
			ring_given = true;
			break;
		case 'f':
			filter_text = optarg;
			break;
		case OPT_SOCKET:
			socket_path = optarg;
			socket_given = true;
			break;
		case OPT_EMBEDDED:
			embedded = true;
			break;
		case OPT_RECORD:
			w.rec_path = optarg;
			embedded = true; /* the records are the sensor's */
			break;
		case OPT_FIELDS:
			for (int i = 0; i < VG_F_COUNT; i++)
				printf("%-24s %s\n", vg_filter_field_name(i),
				       vg_filter_field_type(i) == VG_FILTER_NUM
					       ? "number" : "string");
			return EXIT_OK;
		case 'h':
			cmd_watch_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s watch --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (filter_text) {
		struct vg_filter_error fe = { 0 };

		r = vg_filter_compile(filter_text, &w.filter, &fe);
		if (r == -EINVAL) {
			cli_error("watch: --filter, column %d: %s", fe.column, fe.msg);
			fprintf(stderr, "  %s\n  %*s^\n", filter_text,
				fe.column > 1 ? fe.column - 1 : 0, "");
			return EXIT_USAGE;
		}
		if (r < 0)
			return EXIT_PARTIAL;
	}
	if (!events_given) {
		/* what the filter can match, else everything */
		uint64_t m = vg_filter_type_mask(w.filter, watch_type_bits, NULL);

		if (w.path_glob) {
			add_event(&w, "open", syscalls, &n_sys);
		} else if (m == UINT64_MAX) {
			add_event(&w, "all", syscalls, &n_sys);
		} else {
			for (int t = 1; t < VG_EV_TYPES; t++)
				if (m & VG_EV_BIT(t))
					add_event(&w, vg_ev_type_name((uint32_t)t),
						  syscalls, &n_sys);
			if (!w.types) {
				vg_filter_free(w.filter);
				return cli_usage_error("watch", "--filter matches no event "
						       "type vigil watch can show");
			}
		}
	}
	if (w.path_glob && !(w.types & (VG_EV_BIT(VG_EV_OPEN) | VG_EV_BIT(VG_EV_FILE))))
		return cli_usage_error("watch", "--path needs open or file events");
	w.mode = cli.output;
	w.ctr_select = w.n_container_refs || w.image_glob || w.pod_ns;

	/* A daemon that answers serves this too, unless it cannot: raw
	 * syscalls, tracepoints, threads, --pid and --ring-size are the
	 * embedded sensor's alone. */
	if (!embedded && !n_sys && !w.n_tpf && !w.show_threads && !w.n_pids &&
	    !ring_given &&
	    !(w.types & ~(WATCH_STD_TYPES | VG_EV_BIT(WATCH_EV_CONTAINER)))) {
		const char *path = socket_path ? socket_path : "/run/vigil/vigil.sock";
		int fd = cli_unix_connect(path);

		if (fd >= 0) {
			r = via_daemon(&w, fd, path, filter_text, duration_ms);
			vg_filter_free(w.filter);
			free((char *)w.pod_ns);
			return r;
		}
		if (socket_given)
			return cli_usage_error("watch", "--socket %s: %s", path,
					       strerror(-fd));
	} else if (socket_given) {
		return cli_usage_error("watch", "--socket: the daemon cannot serve "
				       "syscall:, tp:, thread, --pid or --ring-size");
	}

	r = watch_open(&w, err, sizeof(err));
	if (r < 0) {
		if (err[0])
			cli_error("%s", err);
		ret = r == -EINVAL ? EXIT_USAGE : EXIT_PARTIAL;
		goto out;
	}
	/* Output is flushed after each batch the ring buffer hands over, so
	 * a large buffer costs no latency; to a file or pipe it saves a
	 * write per few events in a storm. A terminal keeps its lines. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1u << 20);

	struct vg_sensor_tp tps[WATCH_MAX_TPS];
	for (size_t i = 0; i < w.n_tpf; i++)
		tps[i] = (struct vg_sensor_tp){ w.tpf[i].group, w.tpf[i].name,
						w.tpf[i].id, w.tpf[i].record_size };
	struct vg_sensor_opts so = {
		.type_mask = w.types | WATCH_TABLE_TYPES |
			     ((w.types & VG_EV_BIT(VG_EV_EXEC)) ? VG_EV_BIT(VG_EV_EXEC_ARGS) : 0),
		.ring_bytes = ring,
		.syscalls = syscalls,
		.n_syscalls = n_sys,
		.tps = tps,
		.n_tps = w.n_tpf,
		.tracefs = &w.tracefs,
	};
	r = watch_sensor_new(&w, &so, err, sizeof(err));
	if (r < 0) {
		cli_error("%s", err);
		ret = EXIT_USAGE;
		goto out;
	}

	/* selections, before the first event is read */
	uint32_t fflags = 0;
	if (w.ctr_select) {
		int n = select_existing(&w);

		if (n < 0) {
			ret = EXIT_USAGE;
			goto out;
		}
		fflags |= VG_FILTER_CGROUP | VG_FILTER_MNTNS;
	}
	if (w.host) {
		select_mntns_of(&w, 1);
		fflags |= VG_FILTER_MNTNS;
	}
	if (w.n_pids) {
		for (size_t i = 0; i < w.n_pids; i++)
			vg_sensor_filter_pid(w.sensor, (uint32_t)w.pids[i], true);
		fflags |= VG_FILTER_PID;
	}
	vg_sensor_filter_enable(w.sensor, fflags);
	/* events from now on, then the processes already there: one that
	 * forks during the scan is known either way */
	vg_sensor_start(w.sensor);
	r = vg_ptable_seed(w.pt, w.ctx->proc_fd);
	if (r < 0)
		cli_error("seeding the process table: %s", strerror(-r));
	if (w.rec_path && watch_record_start(&w, err, sizeof(err)) < 0) {
		cli_error("--record: %s", err);
		ret = EXIT_USAGE;
		goto out;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "%s: watching", program_name);
	for (int t = 1; t < VG_EV_TYPES; t++)
		if (w.types & VG_EV_BIT(t))
			fprintf(stderr, " %s", vg_ev_type_name((uint32_t)t));
	if (w.ctr_select || w.host || w.n_pids)
		fprintf(stderr, " (selection enforced in the kernel)");
	fputc('\n', stderr);

	/* From here on, container metadata is read off the event path (the
	 * containers already running were read above, for the selection). */
	r = vg_meta_worker_start(w.ctx);
	if (r < 0)
		cli_error("warning: metadata is read in line (no worker thread: %s)",
			  strerror(-r));
	/* Wait for records and for the metadata worker alike: held records
	 * go out as soon as their container is known. */
	int efd = epoll_create1(EPOLL_CLOEXEC), wfd = vg_meta_worker_fd(w.ctx);
	struct epoll_event ev = { .events = EPOLLIN };

	if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, vg_sensor_fd(w.sensor), &ev) < 0 ||
	    (wfd >= 0 && epoll_ctl(efd, EPOLL_CTL_ADD, wfd, &ev) < 0)) {
		cli_error("epoll: %s", strerror(errno));
		ret = EXIT_PARTIAL;
		if (efd >= 0)
			close(efd);
		goto out;
	}
	uint64_t start = mono_ns();
	int wait_ms = WATCH_LATENCY_MS;

	w.last_lost = w.last_offset = start;
	for (;;) {
		struct epoll_event got;

		if (epoll_wait(efd, &got, 1, wait_ms) < 0 && errno != EINTR) {
			cli_error("epoll_wait: %s", strerror(errno));
			ret = EXIT_PARTIAL;
			break;
		}
		wait_ms = pump(&w, &r);
		uint64_t now = mono_ns();

		if (r < 0 && r != -EINTR && r != -ECANCELED) {
			cli_error("reading events: %s", strerror(-r));
			ret = EXIT_PARTIAL;
			break;
		}
		fflush(stdout);
		if (stop_signal || (w.max_count && w.printed >= w.max_count) ||
		    (duration_ms && now - start >= duration_ms * 1000000ull))
			break;
	}
	/* what is still in the ring buffer and the pending execs */
	if (!(w.max_count && w.printed >= w.max_count))
		vg_sensor_drain(w.sensor, on_record, &w);
	flush_old_execs(&w, true);
	/* the last reads still under way are given a moment */
	for (int i = 0; i < 10 && w.n_held; i++) {
		if (vg_meta_worker_collect(w.ctx))
			attr_cache_forget(&w);
		release_held(&w, false);
		if (w.n_held)
			usleep(10000);
	}
	release_held(&w, true);
	close(efd);
	report_lost(&w);
	fflush(stdout);
	fprintf(stderr, "%s: %llu events, %llu lost\n", program_name,
		(unsigned long long)w.printed, (unsigned long long)w.lost_reported);
	if (w.rec_path) {
		uint64_t n = w.rec.entries, bytes = w.rec.bytes;

		r = vg_rec_close(&w.rec);
		if (r < 0) {
			cli_error("--record %s: %s (the recording is cut there)",
				  w.rec_path, strerror(-r));
			ret = EXIT_PARTIAL;
		} else {
			fprintf(stderr, "%s: recorded %llu entries, %llu bytes, in %s\n",
				program_name, (unsigned long long)n + 1,
				(unsigned long long)bytes, w.rec_path);
		}
	}
	struct vg_ptable_stats pts;

	vg_ptable_stats(w.pt, &pts);
	if (pts.evicted)
		fprintf(stderr, "%s: process table full (%zu): %llu entries "
			"evicted (events of those processes lack exe and parent_exec_id)\n",
			program_name, pts.max, (unsigned long long)pts.evicted);
	if (w.held_early)
		fprintf(stderr, "%s: %llu events went out before their container's "
			"metadata was read (more than %d were waiting)\n",
			program_name, (unsigned long long)w.held_early,
			WATCH_HOLD_MAX);
	if (w.life_evicted)
		fprintf(stderr, "%s: %llu containers were followed no further "
			"(more than %d at once): their later lifecycle events are "
			"missing\n", program_name,
			(unsigned long long)w.life_evicted, WATCH_LIFE_MAX);
	if (w.newcg_given_up)
		fprintf(stderr, "%s: %llu new cgroups given up before their "
			"runtime's state was readable\n", program_name,
			(unsigned long long)w.newcg_given_up);
out:
	watch_release(&w);
	return ret;
}

/* ------------------------------------------------- the daemon's engine */

/* The containers running now, attributed (and their metadata read)
 * before the first event: `containers` answers at once, and their first
 * events need not wait. */
static void warm_containers(struct watch *w)
{
	DIR *dir = NULL;
	int fd = openat(w->ctx->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct vg_attribution a;
		uint64_t pid;

		if (vg_parse_u64(de->d_name, &pid) == 0 && pid && pid <= INT32_MAX)
			vg_attrib_pid_cgroup(w->ctx, (int)pid, &a);
	}
	closedir(dir);
}

struct watch *watch_engine_new(watch_sink_fn sink, void *sink_ctx,
			       size_t ring_bytes, char *err, size_t errsz)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->mode = VG_OUTPUT_JSON;
	vg_tracefs_init(&w->tracefs);
	if (watch_open(w, err, errsz) < 0) {
		if (!err[0])
			snprintf(err, errsz, "cannot open the host root");
		goto fail;
	}
	struct vg_sensor_opts so = {
		.type_mask = WATCH_STD_TYPES | VG_EV_BIT(VG_EV_EXEC_ARGS),
		.ring_bytes = ring_bytes,
		.tracefs = &w->tracefs,
	};
	r = watch_sensor_new(w, &so, err, errsz);
	if (r < 0)
		goto fail;
	/* nothing but what keeps the process table, until asked */
	if (vg_sensor_attach(w->sensor, WATCH_TABLE_TYPES, err, errsz) < 0)
		goto fail;
	vg_sensor_set_types(w->sensor, WATCH_TABLE_TYPES);
	w->types = 0;
	r = vg_ptable_seed(w->pt, w->ctx->proc_fd);
	if (r < 0)
		cli_error("seeding the process table: %s", strerror(-r));
	warm_containers(w);
	r = vg_meta_worker_start(w->ctx);
	if (r < 0)
		cli_error("warning: metadata is read in line (no worker thread: %s)",
			  strerror(-r));
	w->last_lost = w->last_offset = mono_ns();
	return w;
fail:
	watch_engine_free(w);
	return NULL;
}

void watch_engine_free(struct watch *w)
{
	if (!w)
		return;
	watch_release(w);
	free(w);
}

int watch_engine_fds(struct watch *w, int fds[2])
{
	fds[0] = vg_sensor_fd(w->sensor);
	fds[1] = vg_meta_worker_fd(w->ctx);
	return fds[1] >= 0 ? 2 : 1;
}

int watch_engine_pump(struct watch *w)
{
	int r;

	return pump(w, &r);
}

int watch_engine_set_types(struct watch *w, uint64_t types, char *err,
			   size_t errsz)
{
	uint64_t life = types & VG_EV_BIT(WATCH_EV_CONTAINER);
	int r;

	types &= WATCH_STD_TYPES;
	r = vg_sensor_attach(w->sensor, types | WATCH_TABLE_TYPES, err, errsz);
	if (r < 0)
		return r;
	/* an exec's argv only when someone shows execs */
	vg_sensor_set_types(w->sensor, types | WATCH_TABLE_TYPES |
				       ((types & VG_EV_BIT(VG_EV_EXEC))
						? VG_EV_BIT(VG_EV_EXEC_ARGS) : 0));
	w->types = types | life;
	return 0;
}

struct vigil_ctx *watch_engine_ctx(struct watch *w)
{
	return w->ctx;
}

struct vg_ptable *watch_engine_ptable(struct watch *w)
{
	return w->pt;
}

struct vg_sensor *watch_engine_sensor(struct watch *w)
{
	return w->sensor;
}

void watch_engine_stats(struct watch *w, struct watch_engine_stats *ret)
{
	ret->held_early = w->held_early;
	ret->life_evicted = w->life_evicted;
	ret->drop_cgroups = w->n_dropping;
	ret->drop_full = w->drop_full;
	ret->drop_untracked = w->drop_untracked;
}

uint32_t watch_view_type(const struct ev_view *v)
{
	return v->h.type;
}

bool watch_view_matches(struct watch *w, const struct vg_filter *f,
			const struct ev_view *v)
{
	return view_matches(w, f, v);
}
