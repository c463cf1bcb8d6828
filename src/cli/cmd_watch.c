/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil watch: options and wiring. The events come from a source (the
 * eBPF sensor, or a recording) through the engine to one sink, stdout;
 * or, when a vigil daemon answers, from it as one subscription.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "cli.h"
#include "daemon/client.h"
#include "daemon/daemon.h"
#include "engine/engine.h"
#include "event/tpformat.h"
#include "fleet/fleet.h"
#include "rules/alert.h"
#include "render/tp.h"
#include "rules/rules.h"
#include "source/bpf/source.h"
#include "source/replay/replay.h"

#define WATCH_MAX_SELECT 64
#define WATCH_MAX_TPS 16
#define WATCH_MAX_SYSCALLS 64
#define WATCH_MAX_RULES 64

static volatile sig_atomic_t stop_signal;

struct watch {
	uint64_t types;
	bool all;      /* "all", or no --event: what the source has */
	bool threads;
	/* selection */
	const char *refs[WATCH_MAX_SELECT];
	size_t n_refs;
	const char *image_glob, *pod_ns, *pod_name, *path_glob;
	bool host;
	int pids[WATCH_MAX_SELECT];
	size_t n_pids;
	/* raw syscalls and tracepoints */
	uint32_t syscalls[WATCH_MAX_SYSCALLS];
	size_t n_sys;
	struct vg_tracefs tracefs;
	struct vg_tp_format tpf[WATCH_MAX_TPS];
	size_t n_tpf;
	/* output */
	uint64_t printed, max_count;
	struct vg_engine *en;
	/* --rules: alerts instead of events */
	struct vg_ruleset *rules;
	struct vg_printer *alert_pr;
	char hostname[256];
	const struct vg_event *cur;
};

void cmd_watch_help(FILE *f)
{
	fprintf(f,
		"Usage: %s watch [--event LIST] [--container REF]... [--image GLOB]\n"
		"                   [--pod NS/NAME] [--host] [--pid PID]... [--path GLOB]\n"
		"                   [--filter EXPR] [--fields] [--record FILE] [--rules FILE]...\n"
		"                   [--source bpf|audit|auto|replay:FILE] [--raw-pointers]\n"
		"                   [--count N] [--duration S] [--output text|json]\n"
		"       %s watch --nats URL [--node NAME]... [--container REF] [--event LIST]\n"
		"                   [--filter EXPR] [--from TIME|SEQ] [--durable NAME] ...\n"
		"\n"
		"Print what processes do, as it happens, from eBPF: one line per\n"
		"event in text, one JSON object per line in JSON, each with its\n"
		"process, container and pod. Runs the sensor in this process, unless\n"
		"a vigil daemon answers.\n"
		"\n"
		"  -e, --event LIST     comma-separated: exec, exit, fork, thread (fork\n"
		"                       of threads too), open, connect, accept, bind,\n"
		"                       listen, file (changes: create, write, truncate,\n"
		"                       delete, rmdir, mkdir, rename, link, symlink,\n"
		"                       chmod, chown; with the path in the container and\n"
		"                       on the host), container (created, running, exited,\n"
		"                       destroyed), syscall:NR (raw enter/exit of syscall\n"
		"                       number NR), tp:GROUP:NAME (any tracepoint, its\n"
		"                       fields decoded by name), alert (from a daemon that\n"
		"                       runs rules: vigil daemon --rules, or with --nats\n"
		"                       what its exports published; Falco's line, or\n"
		"                       with -o json its JSON alert), all. Default: all\n"
		"                       (exec, exit, fork, open, connect, accept, bind,\n"
		"                       listen, file, container; not alert); with --path,\n"
		"                       open alone.\n"
		"  -c, --container REF  only this container (id, unique prefix, name);\n"
		"                       repeatable\n"
		"  --image GLOB         only containers whose image matches, including\n"
		"                       those that start later; GLOB is tried on the whole\n"
		"                       reference and on its last part (busybox:1.36,\n"
		"                       busybox)\n"
		"  --pod NS/NAME        only this pod's containers (NAME may be a glob)\n"
		"  --host               only processes in no container\n"
		"  -p, --pid PID        only this process and its descendants; repeatable\n"
		"  --path GLOB          only opens and file changes whose path (resolved\n"
		"                       in the kernel), or a rename's or link's source,\n"
		"                       matches GLOB\n"
		"  -f, --filter EXPR    only events EXPR matches, e.g. 'evt.type = open\n"
		"                       and fd.name startswith /etc/ and not proc.name = cat'\n"
		"                       (Falco's field names; --fields lists them). Without\n"
		"                       --event, only the types EXPR can match are traced\n"
		"  --fields             list the fields --filter knows, and exit\n"
		"  --rules FILE         Falco rule files (repeatable; later files append to\n"
		"                       and override earlier ones): print an alert for each\n"
		"                       event a rule matches (the first rule, in the files'\n"
		"                       order, as Falco's rule_matching: first), in Falco's\n"
		"                       format (-o json: its JSON alerts), instead of the\n"
		"                       events. Only the event types the rules name are\n"
		"                       traced. Rules vigil cannot evaluate are counted on\n"
		"                       stderr (vigil rules check says why); none accepted\n"
		"                       is an error. Runs the sensor here, never through a\n"
		"                       daemon\n"
		"  --socket PATH        a vigil daemon's socket (default $VIGIL_SOCKET, else\n"
		"                       %s): when one answers, events come\n"
		"                       from it, as one subscription\n"
		"  --embedded           run the sensor here even when a daemon answers\n"
		"  -n, --count N        stop after N events\n"
		"  -d, --duration S     stop after S seconds\n"
		"  --ring-size BYTES    ring buffer size, a power of two (default 8 MiB)\n"
		"  --record FILE        also write every record the sensor delivers to\n"
		"                       FILE, with the cgroups and processes there at\n"
		"                       start: a reproduction to replay or share\n"
		"  --source SRC         bpf (the default); audit: Linux audit's records,\n"
		"                       for hosts without eBPF (exec, fork, exit, open,\n"
		"                       connect, accept, bind, listen, file); auto: bpf, else\n"
		"                       audit; or replay:FILE, a recording, through the\n"
		"                       same engine (no root needed; the host root gives\n"
		"                       the containers' metadata)\n"
		"  --audit-timeout MS   audit: an event whose end record has not come\n"
		"                       after MS goes out marked incomplete (1000)\n"
		"  --audit-exit-delay MS  audit: exits are applied after MS, so a late\n"
		"                       fork record cannot undo them (1000)\n"
		"  --nats URL           the fleet: read the events every node's daemon\n"
		"                       exports to NATS JetStream (comma-separated\n"
		"                       nats:// or tls:// URLs), with --event, --filter,\n"
		"                       --count, --duration and --output as here; text\n"
		"                       lines say node=NAME after the type\n"
		"  --node NAME          --nats: only this node's events; repeatable\n"
		"                       (--container REF with --nats: the container of\n"
		"                       that id, id prefix or name, on whichever node\n"
		"                       lists it)\n"
		"  --from TIME|SEQ      --nats: start at a time (RFC 3339, e.g.\n"
		"                       2026-12-06T17:00:00Z) or a stream sequence\n"
		"                       number, not at new events\n"
		"  --durable NAME       --nats: a reader the server remembers: the next\n"
		"                       run with NAME resumes where this one stopped\n"
		"  --nats-creds FILE    --nats: a credentials file\n"
		"  --nats-ca FILE       --nats: the CA that signed the servers' certificates\n"
		"  --raw-pointers       show kernel addresses in tp: fields (those of a\n"
		"                       pointer type) as they are; by default each is\n"
		"                       hash:HEX, a hash keyed per run (equal addresses\n"
		"                       hash equal), and NULL is 0x0\n"
		"\n"
		"The kernel sheds the events of cgroups no selection wants (not fork,\n"
		"exec and exit, which keep the process table exact); --pid is enforced\n"
		"in the kernel. Events the kernel could not deliver are reported as\n"
		"'lost' records with their counts. Ctrl-C stops and detaches everything.\n"
		"Needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN where no\n"
		"tracefs is mounted); vigil doctor says what this host lacks.\n"
		"\n%s",
		program_name, program_name, VG_DAEMON_SOCKET, cli_global_help);
}

/* ------------------------------------------------------------- events */

/* One --event name into @w. Returns 0 or an exit status (printed). */
static int add_event(struct watch *w, const char *name)
{
	const struct vg_event_type_info *t;
	char err[512];
	int r;

	if (strcmp(name, "all") == 0) {
		w->types |= vg_event_all_mask();
		w->all = true;
		return 0;
	}
	if (strcmp(name, "thread") == 0) {
		w->types |= VG_E_BIT(VG_E_FORK);
		w->threads = true;
		return 0;
	}
	if (vg_startswith(name, "syscall:")) {
		uint64_t nr;

		if (vg_parse_u64(name + 8, &nr) < 0 || nr > 1023)
			return cli_usage_error("watch",
					       "syscall:NR takes a syscall number, not '%s'",
					       name + 8);
		if (w->n_sys >= WATCH_MAX_SYSCALLS)
			return cli_usage_error("watch", "at most %d syscalls",
					       WATCH_MAX_SYSCALLS);
		w->syscalls[w->n_sys++] = (uint32_t)nr;
		w->types |= VG_E_BIT(VG_E_SYSCALL);
		return 0;
	}
	if (vg_startswith(name, "tp:")) {
		char group[128], tpname[128];
		const char *colon = strchr(name + 3, ':');

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
		if (r == 0)
			r = vg_tp_format_load(w->tracefs.fd, group, tpname,
					      &w->tpf[w->n_tpf], err, sizeof(err));
		if (r < 0) {
			cli_error("tracepoint %s:%s: %s", group, tpname,
				  err[0] ? err : strerror(-r));
			return EXIT_USAGE;
		}
		w->n_tpf++;
		w->types |= VG_E_BIT(VG_E_TP);
		return 0;
	}
	t = vg_event_type_find(name);
	if (!t || t->type == VG_E_LOST || strcmp(t->name, name) != 0 ||
	    t->type == VG_E_SYSCALL || t->type == VG_E_TP)
		return cli_usage_error("watch", "unknown event '%s'; known: %s, thread, "
				       "syscall:NR, tp:GROUP:NAME, alert, all", name,
				       vg_event_std_names());
	w->types |= VG_E_BIT(t->type);
	return 0;
}

/* ------------------------------------------------------------- output */

static void to_stdout(struct vg_sink *s, const char *line, size_t len,
		      const struct vg_event *e)
{
	struct watch *w = s->ctx;

	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	if (e->type == VG_E_LOST)
		return;
	w->printed++;
	if (w->max_count && w->printed >= w->max_count)
		vg_engine_stop(w->en);
}

/* An alert for each rule @e matches (the first, as Falco). */
struct alert_ctx {
	struct watch *w;
	vg_filter_get_fn get;
	void *get_ctx;
};

static void on_rule(const struct vg_rule *r, void *arg)
{
	struct alert_ctx *ac = arg;
	struct watch *w = ac->w;
	struct vg_rule_alert ra;
	size_t len = 0;

	vg_rule_alert_init(&ra, r, w->cur, ac->get, ac->get_ctx, w->hostname);
	vg_render_alert(w->alert_pr, &ra.a);
	const char *line = vg_pr_end_view(w->alert_pr, &len);

	if (line) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	}
	vg_rule_alert_release(&ra);
	w->printed++;
	if (w->max_count && w->printed >= w->max_count)
		vg_engine_stop(w->en);
}

static void eval_rules(vg_filter_get_fn get, void *get_ctx, void *arg)
{
	struct alert_ctx ac = { .w = arg, .get = get, .get_ctx = get_ctx };

	vg_ruleset_match(ac.w->rules, VG_E_BIT(ac.w->cur->type), get, get_ctx, true,
			 on_rule, &ac);
}

static void to_alerts(struct vg_sink *s, const char *line, size_t len,
		      const struct vg_event *e)
{
	struct watch *w = s->ctx;

	(void)line;
	(void)len;
	if (e->type == VG_E_LOST)
		return; /* counted, and said at the end */
	w->cur = e;
	vg_engine_with_fields(w->en, e, eval_rules, w);
	w->cur = NULL;
}

/* ----------------------------------------------------------- the daemon */

static void say_subscribed(void *ctx)
{
	fprintf(stderr, "%s: watching through the daemon at %s\n", program_name,
		(const char *)ctx);
}

/* vigil watch as one subscription to the daemon on @fd. */
static int via_daemon(struct watch *w, int fd, const char *path,
		      const char *filter, uint64_t duration_ms)
{
	const char *events[64];
	char pod[512], err[512];
	uint64_t printed;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < vg_n_event_types && n < 64; i++)
		if ((vg_event_types[i].std || vg_event_types[i].type == VG_E_ALERT) &&
		    (w->types & VG_E_BIT(vg_event_types[i].type)))
			events[n++] = vg_event_types[i].name;
	if (w->pod_ns)
		snprintf(pod, sizeof(pod), "%s/%s", w->pod_ns, w->pod_name);
	const struct vg_watch_client_opts o = {
		.socket = path,
		.events = events, .n_events = n,
		.filter = filter,
		.refs = w->refs, .n_refs = w->n_refs,
		.image = w->image_glob, .pod = w->pod_ns ? pod : NULL,
		.path = w->path_glob,
		.host = w->host,
		.mode = cli.output,
		.max_count = w->max_count, .duration_ms = duration_ms,
		.stop = &stop_signal,
		.subscribed = say_subscribed,
		.ctx = (void *)path,
	};
	cli_catch_stop(&stop_signal);
	r = vg_watch_client_run(fd, &o, &printed, err, sizeof(err));
	if (r < 0)
		cli_error("%s", err);
	fprintf(stderr, "%s: %llu %s\n", program_name, (unsigned long long)printed,
		w->types == VG_E_BIT(VG_E_ALERT) ? "alerts" : "events");
	return r == -EPERM ? EXIT_USAGE : r < 0 ? EXIT_PARTIAL : EXIT_OK;
}

/* ------------------------------------------------------------- the fleet */

#define WATCH_MAX_NODES 64

static void say_nats(void *ctx, const char *subject)
{
	fprintf(stderr, "%s: watching %s at %s\n", program_name, subject,
		(const char *)ctx);
}

/* vigil watch --nats: the fleet's events from JetStream. */
static int via_nats(struct watch *w, const struct vg_fleet_watch_opts *base,
		    uint64_t duration_ms)
{
	struct vg_fleet_watch_opts o = *base;
	const char *types[64];
	char err[512] = "";
	uint64_t printed = 0;
	size_t n = 0;
	int r;

	/* every type asked for, unless that is all of them */
	if ((w->types & vg_event_std_mask()) != vg_event_std_mask())
		for (size_t i = 0; i < vg_n_event_types && n < 64; i++)
			if (vg_event_types[i].std &&
			    (w->types & VG_E_BIT(vg_event_types[i].type)))
				types[n++] = vg_event_types[i].name;
	if (w->types & VG_E_BIT(VG_E_ALERT)) {
		o.alerts = true;
		/* with the others asked for, or alone */
		if (n || w->types == VG_E_BIT(VG_E_ALERT))
			types[n++] = "alert";
	}
	o.types = types;
	o.n_types = n;
	o.mode = cli.output;
	o.max_count = w->max_count;
	o.duration_ms = duration_ms;
	o.stop = &stop_signal;
	o.out = stdout;
	o.subscribed = say_nats;
	o.ctx = (void *)o.conn.urls;
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1u << 20);
	cli_catch_stop(&stop_signal);
	r = vg_fleet_watch(&o, &printed, err, sizeof(err));
	if (err[0])
		cli_error("%s", err);
	fprintf(stderr, "%s: %llu events\n", program_name, (unsigned long long)printed);
	return r == -EINVAL || r == -EEXIST ? EXIT_USAGE : r < 0 ? EXIT_PARTIAL : EXIT_OK;
}

/* ------------------------------------------------------------- wiring */

/* Each --container REF names one running container. Returns 0 or an
 * exit status (printed). */
static int check_refs(struct watch *w, struct vigil_ctx *ctx)
{
	struct vg_snapshot s;
	int ret = 0;

	if (!w->n_refs)
		return 0;
	if (vg_snapshot_take(ctx, &s) < 0) {
		cli_error("reading processes: %s", strerror(errno));
		return EXIT_PARTIAL;
	}
	for (size_t i = 0; i < w->n_refs && !ret; i++)
		if (cli_find_container(&s, w->refs[i]) < 0)
			ret = EXIT_USAGE;
	vg_snapshot_release(&s);
	return ret;
}

static void final_report(struct watch *w, struct vg_rec_writer *rec,
			 const char *rec_path, int *status)
{
	struct vg_engine_stats es;
	struct vg_ptable_stats pts;

	vg_engine_stats(w->en, &es);
	if (w->rules) {
		/* what the rules were asked about, for a cost per event */
		uint64_t n = 0;

		for (unsigned t = 0; t < 64; t++)
			if (w->types & VG_E_BIT(t))
				n += es.events[t];
		fprintf(stderr, "%s: %llu events of the traced types\n", program_name,
			(unsigned long long)n);
	}
	fprintf(stderr, "%s: %llu %s, %llu lost\n", program_name,
		(unsigned long long)w->printed, w->rules ? "alerts" : "events", (unsigned long long)es.lost_reported);
	vg_ptable_stats(vg_engine_ptable(w->en), &pts);
	if (pts.evicted)
		fprintf(stderr, "%s: process table full (%zu): %llu entries "
			"evicted (events of those processes lack exe and parent_exec_id)\n",
			program_name, pts.max, (unsigned long long)pts.evicted);
	if (es.held_early)
		fprintf(stderr, "%s: %llu events went out before their container's "
			"metadata was read (the hold queue was full)\n",
			program_name, (unsigned long long)es.held_early);
	if (es.held_unverified)
		fprintf(stderr, "%s: %llu events went out before their container's "
			"claim was verified (its runtime recorded no init process "
			"in time): they say so (container.verified false)\n",
			program_name, (unsigned long long)es.held_unverified);
	if (es.lost_unknown)
		fprintf(stderr, "%s: and more lost %llu times, how many not known "
			"(the audit netlink socket overran)\n", program_name,
			(unsigned long long)es.lost_unknown);
	if (es.reconciled_exits)
		fprintf(stderr, "%s: %llu processes were seen gone from /proc with "
			"no exit record (killed, or forked before audit was on): "
			"their exits say status_known false\n", program_name,
			(unsigned long long)es.reconciled_exits);
	if (es.life_evicted)
		fprintf(stderr, "%s: %llu containers were followed no further "
			"(too many at once): their later lifecycle events are missing\n",
			program_name, (unsigned long long)es.life_evicted);
	if (rec_path) {
		uint64_t n = rec->entries, bytes = rec->bytes;
		int r = vg_rec_close(rec);

		if (r < 0) {
			cli_error("--record %s: %s (the recording is cut there)",
				  rec_path, strerror(-r));
			*status = EXIT_PARTIAL;
		} else {
			fprintf(stderr, "%s: recorded %llu entries, %llu bytes, in %s\n",
				program_name, (unsigned long long)n + 1,
				(unsigned long long)bytes, rec_path);
		}
	}
}

/* The loop: until ^C, --count, --duration, or the end of a recording. */
static int run(struct watch *w, uint64_t duration_ms)
{
	int fds[2], nfds = vg_engine_fds(w->en, fds), wait_ms = 0, status = EXIT_OK;
	int efd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t start = vg_clock_ns(CLOCK_MONOTONIC);

	for (int i = 0; efd >= 0 && i < nfds; i++)
		if (epoll_ctl(efd, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
			close(efd);
			efd = -1;
		}
	if (efd < 0) {
		cli_error("epoll: %s", strerror(errno));
		return EXIT_PARTIAL;
	}
	for (;;) {
		struct epoll_event got;

		if (wait_ms && epoll_wait(efd, &got, 1, wait_ms) < 0 && errno != EINTR) {
			cli_error("epoll_wait: %s", strerror(errno));
			status = EXIT_PARTIAL;
			break;
		}
		wait_ms = vg_engine_pump(w->en);
		fflush(stdout);
		if (vg_engine_error(w->en)) {
			cli_error("reading events: %s", vg_engine_error_why(w->en));
			status = EXIT_PARTIAL;
			break;
		}
		if (stop_signal || vg_engine_ended(w->en) ||
		    (w->max_count && w->printed >= w->max_count) ||
		    (duration_ms && vg_clock_ns(CLOCK_MONOTONIC) - start >=
					    duration_ms * 1000000ull))
			break;
	}
	close(efd);
	vg_engine_finish(w->en);
	fflush(stdout);
	return status;
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_IMAGE = 1000, OPT_POD, OPT_HOST, OPT_PATH, OPT_RING, OPT_FIELDS,
	       OPT_SOCKET, OPT_EMBEDDED, OPT_RECORD, OPT_SOURCE, OPT_RAW_POINTERS,
	       OPT_AUDIT_TIMEOUT, OPT_AUDIT_EXIT_DELAY, OPT_NATS, OPT_NODE, OPT_FROM,
	       OPT_DURABLE, OPT_NATS_CREDS, OPT_NATS_CA, OPT_RULES };
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
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "audit-timeout", required_argument, NULL, OPT_AUDIT_TIMEOUT },
		{ "audit-exit-delay", required_argument, NULL, OPT_AUDIT_EXIT_DELAY },
		{ "raw-pointers", no_argument, NULL, OPT_RAW_POINTERS },
		{ "nats", required_argument, NULL, OPT_NATS },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "durable", required_argument, NULL, OPT_DURABLE },
		{ "nats-creds", required_argument, NULL, OPT_NATS_CREDS },
		{ "nats-ca", required_argument, NULL, OPT_NATS_CA },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ 0 },
	};
	static struct watch w; /* large: tracepoint formats */
	static struct vg_rec_writer rec;
	struct vg_filter *filter = NULL;
	struct vigil_ctx *ctx = NULL;
	struct vg_source *src = NULL;
	size_t ring = 0;
	uint64_t duration_ms = 0, v;
	char err[512];
	int c, r;
	bool events_given = false, embedded = false, socket_given = false,
	     ring_given = false;
	const char *filter_text = NULL, *socket_path = getenv("VIGIL_SOCKET");
	const char *rec_path = NULL, *replay = NULL;
	struct cli_source_spec spec = { .kind = CLI_SRC_BPF };
	char *pod_ns = NULL;
	struct vg_fleet_watch_opts fleet = { 0 };
	json_t *fleet_ctrs = NULL;
	char *fleet_node = NULL;
	char *nodes[WATCH_MAX_NODES];
	size_t n_nodes = 0;
	bool embedded_only = false;
	char *rule_files[WATCH_MAX_RULES];
	size_t n_rule_files = 0;

	memset(&w, 0, sizeof(w));
	vg_tracefs_init(&w.tracefs);
	while ((c = getopt_long(argc, argv, "e:c:p:n:d:f:" CLI_GLOBAL_SHORTOPTS,
				opts, NULL)) != -1) {
		switch (c) {
		case 'e': {
			_cleanup_free_ char *list = strdup(optarg);
			char *save = NULL;

			if (!list)
				return EXIT_PARTIAL;
			events_given = true;
			for (char *t = strtok_r(list, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if ((r = add_event(&w, t)))
					goto out;
			break;
		}
		case 'c':
			if (w.n_refs >= WATCH_MAX_SELECT)
				return cli_usage_error("watch", "too many --container");
			w.refs[w.n_refs++] = optarg;
			break;
		case OPT_IMAGE:
			embedded_only = true;
			w.image_glob = optarg;
			break;
		case OPT_POD: {
			embedded_only = true;
			const char *slash = strchr(optarg, '/');

			if (!slash || slash == optarg || !slash[1])
				return cli_usage_error("watch",
						       "--pod takes NAMESPACE/NAME, not '%s'",
						       optarg);
			free(pod_ns);
			w.pod_ns = pod_ns = strndup(optarg, (size_t)(slash - optarg));
			w.pod_name = slash + 1;
			break;
		}
		case OPT_HOST:
			embedded_only = true;
			w.host = true;
			break;
		case 'p':
			embedded_only = true;
			if (vg_parse_u64(optarg, &v) < 0 || !v || v > INT32_MAX)
				return cli_usage_error("watch", "--pid takes a pid, not '%s'",
						       optarg);
			if (w.n_pids >= WATCH_MAX_SELECT)
				return cli_usage_error("watch", "too many --pid");
			w.pids[w.n_pids++] = (int)v;
			break;
		case OPT_PATH:
			embedded_only = true;
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
			embedded_only = true;
			if (cli_ring_size("watch", optarg, &ring))
				return EXIT_USAGE;
			ring_given = true;
			break;
		case 'f':
			filter_text = optarg;
			break;
		case OPT_SOCKET:
			embedded_only = true;
			socket_path = optarg;
			socket_given = true;
			break;
		case OPT_EMBEDDED:
			embedded_only = true;
			embedded = true;
			break;
		case OPT_RECORD:
			embedded_only = true;
			rec_path = optarg;
			embedded = true; /* the records are the sensor's */
			break;
		case OPT_RAW_POINTERS:
			embedded_only = true;
			vg_tp_set_raw_pointers(true);
			break;
		case OPT_SOURCE:
			embedded_only = true;
			if (cli_source_arg("watch", optarg, &spec))
				return EXIT_USAGE;
			replay = spec.replay;
			embedded = true;
			break;
		case OPT_AUDIT_TIMEOUT:
			embedded_only = true;
			if (cli_source_ms("watch", "--audit-timeout", optarg,
					  &spec.audit_timeout_ms))
				return EXIT_USAGE;
			break;
		case OPT_AUDIT_EXIT_DELAY:
			embedded_only = true;
			if (cli_source_ms("watch", "--audit-exit-delay", optarg,
					  &spec.audit_exit_delay_ms))
				return EXIT_USAGE;
			break;
		case OPT_NATS:
			fleet.conn.urls = optarg;
			break;
		case OPT_NODE:
			if (n_nodes >= WATCH_MAX_NODES) {
				r = cli_usage_error("watch", "at most %d --node", WATCH_MAX_NODES);
				goto out;
			}
			/* as the daemon makes its node's subject token */
			for (char *q = optarg; *q; q++)
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789_-", *q))
					*q = '_';
			nodes[n_nodes++] = optarg;
			break;
		case OPT_FROM:
			fleet.from_given = true;
			if (vg_parse_u64(optarg, &v) == 0 && v > 0) {
				fleet.from_seq = v;
			} else if (vg_fleet_parse_time(optarg, &fleet.from_time_ns) < 0) {
				r = cli_usage_error("watch", "--from takes a time (RFC 3339, "
						    "2026-12-06T17:00:00Z) or a stream sequence "
						    "number, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_DURABLE:
			for (const char *p = optarg; *p; p++)
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789_-", *p))
					optarg = NULL;
			if (!optarg || !*optarg || strlen(optarg) > 64) {
				r = cli_usage_error("watch", "--durable takes a name of letters, "
						    "digits, '_' and '-'");
				goto out;
			}
			fleet.durable = optarg;
			break;
		case OPT_NATS_CREDS:
			fleet.conn.creds = optarg;
			break;
		case OPT_NATS_CA:
			fleet.conn.tls_ca = optarg;
			break;
		case OPT_RULES:
			embedded_only = true;
			if (n_rule_files >= WATCH_MAX_RULES) {
				r = cli_usage_error("watch", "at most %d --rules", WATCH_MAX_RULES);
				goto out;
			}
			rule_files[n_rule_files++] = optarg;
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
	r = EXIT_OK;
	if (optind < argc) {
		r = cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (rec_path && replay) {
		r = cli_usage_error("watch", "--record takes the sensor's records; a "
				    "replay has them already");
		goto out;
	}
	if (filter_text) {
		struct vg_filter_error fe = { 0 };

		r = vg_filter_compile(filter_text, &filter, &fe);
		if (r == -EINVAL) {
			cli_error("watch: --filter, column %d: %s", fe.column, fe.msg);
			fprintf(stderr, "  %s\n  %*s^\n", filter_text,
				fe.column > 1 ? fe.column - 1 : 0, "");
			r = EXIT_USAGE;
			goto out;
		}
		if (r < 0) {
			r = EXIT_PARTIAL;
			goto out;
		}
		r = EXIT_OK;
	}
	if (n_rule_files) {
		struct vg_rules_tally t;

		if (!(w.rules = cli_rules_load(rule_files, n_rule_files))) {
			r = EXIT_USAGE;
			goto out;
		}
		vg_ruleset_tally(w.rules, &t);
		if (t.refused || t.skipped)
			fprintf(stderr, "%s: warning: of the enabled rules, %zu refused and "
				"%zu skipped (another source): vigil rules check says why\n",
				program_name, t.refused, t.skipped);
		if (!t.accepted) {
			r = cli_usage_error("watch", "--rules: no enabled rule that vigil "
					    "evaluates (vigil rules check says why)");
			goto out;
		}
		fprintf(stderr, "%s: %zu rules\n", program_name, t.accepted);
		if (!(w.alert_pr = vg_printer_new(cli.output))) {
			r = EXIT_PARTIAL;
			goto out;
		}
		if (gethostname(w.hostname, sizeof(w.hostname) - 1) < 0)
			w.hostname[0] = '\0';
		if (!events_given) {
			uint64_t m = vg_ruleset_type_mask(w.rules);

			w.types = m == UINT64_MAX ? vg_event_all_mask()
						  : m & vg_event_std_mask();
			w.all = true;
			events_given = true;
			if (!w.types) {
				r = cli_usage_error("watch", "--rules: the rules match no event "
						    "type vigil watch can show");
				goto out;
			}
		}
	}
	if (!events_given) {
		/* what the filter can match, else everything */
		uint64_t m = vg_filter_type_mask(filter, vg_event_type_bits, NULL);

		if (w.path_glob)
			w.types = VG_E_BIT(VG_E_OPEN);
		else if (m == UINT64_MAX)
			w.types = vg_event_all_mask();
		else
			w.types = m & (vg_event_std_mask() | VG_E_BIT(VG_E_ALERT));
		w.all = true;
		if (!w.types) {
			r = cli_usage_error("watch", "--filter matches no event type "
					    "vigil watch can show");
			goto out;
		}
	}
	if (w.path_glob && !(w.types & (VG_E_BIT(VG_E_OPEN) | VG_E_BIT(VG_E_FILE)))) {
		r = cli_usage_error("watch", "--path needs open or file events");
		goto out;
	}

	if (fleet.conn.urls) {
		if (embedded_only || w.n_sys || w.n_tpf || w.threads || w.n_refs > 1) {
			r = cli_usage_error("watch", "--nats takes --node, one --container, "
					    "--event (of %s), --filter, --from, --durable, "
					    "--count, --duration and --output",
					    vg_event_std_names());
			goto out;
		}
		fleet.nodes = (const char *const *)nodes;
		fleet.n_nodes = n_nodes;
		fleet.filter = filter;
		if (w.n_refs) {
			/* the container, on whichever node runs it: from the
			 * nodes' lists in the bucket */
			const char *node, *id;
			size_t node_len;

			r = vg_fleet_containers(&fleet.conn, &fleet_ctrs, err, sizeof(err));
			if (r == 0)
				r = vg_fleet_find_container(fleet_ctrs, w.refs[0], &node,
							    &node_len, &id, err, sizeof(err));
			if (r < 0) {
				cli_error("watch: --container: %s", err);
				r = r == -ECONNREFUSED || r == -EIO ? EXIT_PARTIAL : EXIT_USAGE;
				goto out;
			}
			if (!(fleet_node = strndup(node, node_len))) {
				r = EXIT_PARTIAL;
				goto out;
			}
			fleet.container_node = fleet_node;
			fleet.container_id = id;
			fprintf(stderr, "%s: container %s is %.12s on %s\n", program_name,
				w.refs[0], id, fleet_node);
		}
		r = via_nats(&w, &fleet, duration_ms);
		goto out;
	}
	if (n_nodes || fleet.from_given || fleet.durable || fleet.conn.creds ||
	    fleet.conn.tls_ca) {
		r = cli_usage_error("watch", "--node, --from, --durable, --nats-creds "
				    "and --nats-ca are for --nats");
		goto out;
	}

	/* A daemon that answers serves this too, unless it cannot: raw
	 * syscalls, tracepoints, threads, --pid and --ring-size are the
	 * embedded sensor's alone. */
	bool daemon_can = !w.n_sys && !w.n_tpf && !w.threads && !w.n_pids &&
			  !ring_given && !w.rules &&
			  !(w.types & ~(vg_event_std_mask() | VG_E_BIT(VG_E_ALERT)));

	if ((w.types & VG_E_BIT(VG_E_ALERT)) && (!daemon_can || embedded)) {
		r = cli_usage_error("watch", "--event alert comes from a vigil daemon "
				    "that runs rules (vigil daemon --rules), as one "
				    "subscription; here, vigil watch --rules FILE prints "
				    "the alerts");
		goto out;
	}

	if (!embedded && daemon_can) {
		const char *path = socket_path ? socket_path : VG_DAEMON_SOCKET;
		char cerr[256];
		int fd = cli_daemon_connect(path, cerr, sizeof(cerr));

		if (fd >= 0) {
			r = via_daemon(&w, fd, path, filter_text, duration_ms);
			goto out;
		}
		if (socket_given) {
			r = cli_usage_error("watch", "--socket %s: %s", path, cerr);
			goto out;
		}
		/* what answers there is not root: not heard, and said so */
		if (fd == -EPERM)
			fprintf(stderr, "%s: %s; running the sensor here\n",
				program_name, cerr);
	} else if (socket_given) {
		r = cli_usage_error("watch", "--socket: the daemon cannot serve "
				    "syscall:, tp:, thread, --pid, --ring-size or "
				    "--rules (it runs rules of its own: --event alert)");
		goto out;
	}

	ctx = cli_ctx_new();
	if (!ctx) {
		r = EXIT_USAGE;
		goto out;
	}
	if (!replay && (r = check_refs(&w, ctx)))
		goto out;
	const struct vg_bpf_source_opts so = {
		.types = w.types,
		.ring_bytes = ring,
		.syscalls = w.syscalls, .n_syscalls = w.n_sys,
		.tps = w.tpf, .n_tps = w.n_tpf,
		.tracefs = &w.tracefs,
		.rec = &rec,
	};
	if (rec_path && spec.kind != CLI_SRC_BPF) {
		r = cli_usage_error("watch", "--record takes the eBPF sensor's records "
				    "(--source bpf)");
		goto out;
	}
	if (!(src = cli_source_open(&spec, &so, ctx))) {
		r = EXIT_USAGE;
		goto out;
	}
	if (w.all && vg_source_std_mask(src) != vg_event_std_mask()) {
		/* everything this source has (audit: no tp: or syscall:) */
		uint64_t gone = w.types & ~vg_source_std_mask(src) & vg_event_std_mask();

		/* an opt-in type is there only because a filter or a rule
		 * named it: say that it will not come */
		for (size_t i = 0; i < vg_n_event_types; i++)
			if (vg_event_types[i].opt_in &&
			    (gone & VG_E_BIT(vg_event_types[i].type)))
				fprintf(stderr, "%s: the %s source has no %s events: "
					"what matches only them will not match\n",
					program_name, src->ops->name,
					vg_event_types[i].name);
		w.types &= vg_source_std_mask(src) | ~vg_event_std_mask();
		if (!w.types) {
			r = cli_usage_error("watch", "the %s source has none of the "
					    "event types asked for", src->ops->name);
			goto out;
		}
	}
	const struct vg_engine_opts eo = {
		.ctx = ctx, .src = src, .seed_from_proc = !replay, .rec = &rec,
	};
	w.en = vg_engine_new(&eo, err, sizeof(err));
	src = NULL; /* the engine's now */
	if (!w.en) {
		cli_error("%s", err);
		r = EXIT_PARTIAL;
		goto out;
	}
	if (rec_path && vg_engine_record(w.en, &rec, rec_path, err, sizeof(err)) < 0) {
		cli_error("--record: %s", err);
		r = EXIT_USAGE;
		goto out;
	}
	const struct vg_selector sel = {
		.refs = w.refs, .n_refs = w.n_refs, .image_glob = w.image_glob,
		.pod_ns = w.pod_ns, .pod_name = w.pod_name, .host = w.host,
	};
	struct vg_sink sink = {
		.types = w.types,
		.threads = w.threads,
		.sel = w.n_refs || w.image_glob || w.pod_ns || w.host ? &sel : NULL,
		.pids_only = w.n_pids > 0,
		.filter = filter,
		.path_glob = w.path_glob,
		.mode = cli.output,
		.raw = w.rules != NULL,
		.emit = w.rules ? to_alerts : to_stdout,
		.ctx = &w,
	};

	if (vg_engine_add_sink(w.en, &sink, err, sizeof(err)) < 0 ||
	    (w.n_pids && vg_engine_select_pids(w.en, w.pids, w.n_pids) < 0)) {
		cli_error("%s", err[0] ? err : "the source cannot select pids");
		r = EXIT_USAGE;
		goto out;
	}
	/* set up: what is left needs no more than this (before it says it
	 * is watching, and before any thread starts) */
	if (cli_keep_source_caps("vigil watch", &spec) < 0) {
		r = EXIT_PARTIAL;
		goto out;
	}
	/* Output is flushed after each batch, so a large buffer costs no
	 * latency; to a file or pipe it saves a write per few events in a
	 * storm. A terminal keeps its lines. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1u << 20);
	cli_catch_stop(&stop_signal);
	/* attached and passing events before it says so */
	vg_engine_start(w.en);
	fprintf(stderr, "%s: watching", program_name);
	for (size_t i = 0; i < vg_n_event_types; i++)
		if (w.types & VG_E_BIT(vg_event_types[i].type))
			fprintf(stderr, " %s", vg_event_types[i].name);
	if (replay)
		fprintf(stderr, " (a replay of %s, recorded on %s)", replay,
			vg_replay_kernel(vg_engine_source(w.en)));
	fputc('\n', stderr);
	/* from here on, metadata is read off the event path (a replay has
	 * no hurry: it reads in line, and every event has its metadata) */
	if (!replay && (r = vg_meta_worker_start(ctx)) < 0)
		cli_error("warning: metadata is read in line (no worker thread: %s)",
			  strerror(-r));
	r = run(&w, duration_ms);
	final_report(&w, &rec, rec_path, &r);
out:
	vg_engine_free(w.en);
	w.en = NULL;
	vg_source_free(src);
	vigil_ctx_free(ctx);
	vg_filter_free(filter);
	vg_ruleset_free(w.rules);
	vg_printer_free(w.alert_pr);
	for (size_t i = 0; i < w.n_tpf; i++)
		vg_tp_format_release(&w.tpf[i]);
	vg_tracefs_release(&w.tracefs);
	free(pod_ns);
	free(fleet_node);
	json_decref(fleet_ctrs);
	return r;
}
