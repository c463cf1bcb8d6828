/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil daemon: options and wiring; the daemon itself is src/daemon/. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"
#include "cli.h"
#include "cli/systemd.h"
#include "config.h"
#include "log.h"
#include "daemon/daemon.h"
#include "daemon/exports.h"
#include "daemon/metrics.h"
#include "rules/rules.h"
#include "source/bpf/source.h"

#define DAEMON_STATE_DIR "/var/lib/vigil"
#define DAEMON_RULE_FILES_MAX 64

static volatile sig_atomic_t stop_signal;

/* What the service manager hears from the loop. */
struct daemon_notify {
	struct cli_notify n;
	struct vg_daemon *d;
	const char *path;
};

static void status_line(struct daemon_notify *dn, const char *what, char *buf,
			size_t bufsz)
{
	struct vg_daemon_counts c;

	vg_daemon_counts(dn->d, &c);
	snprintf(buf, bufsz,
		 "%s %s: %llu events, %llu lost by the kernel, %llu lost in "
		 "subscriber queues, %zu clients",
		 what, dn->path, (unsigned long long)c.events,
		 (unsigned long long)c.kernel_lost,
		 (unsigned long long)c.queue_lost, c.clients);
}

static void notify_tick(void *arg)
{
	struct daemon_notify *dn = arg;
	char status[256];

	if (!cli_notify_tick(&dn->n))
		return;
	status_line(dn, "serving", status, sizeof(status));
	cli_notify_status(&dn->n, status);
}

void cmd_daemon_help(FILE *f)
{
	fprintf(f,
		"Usage: %s daemon [--socket PATH] [--group NAME] [--allow-uid UID]...\n"
		"                    [--allow-gid GID]... [--ring-size BYTES]\n"
		"                    [--max-clients-per-uid N] [--idle-timeout SECONDS]\n"
		"                    [--source bpf|audit|auto|replay:FILE]\n"
		"                    [--metrics [HOST:]PORT] [--export SPEC]...\n"
		"                    [--state-dir DIR] [--rules FILE]... [--replay-wait N]\n"
		"\n"
		"Run the sensor once and serve its events to any number of clients\n"
		"over a Unix socket, newline-delimited JSON. Requests (one JSON object\n"
		"per line, with \"req\" and an optional \"id\" echoed in the reply):\n"
		"  hello        protocol version, sensor id, capabilities\n"
		"  subscribe    \"filter\": EXPR, \"events\": [TYPES: %s,\n"
		"               alert (with --rules), all], \"containers\": [ID|NAME], \"image\": GLOB,\n"
		"               \"pod\": \"NS/NAME\", \"host\": true (processes in no\n"
		"               container), \"path\": GLOB, \"format\": \"json\" or\n"
		"               \"text\"; returns \"sub\": ID. Events then arrive as\n"
		"               lines (JSON with \"sub\", \"sensor\" and \"seq\" added)\n"
		"  unsubscribe  \"sub\": ID\n"
		"  containers   the containers the sensor knows\n"
		"  process      \"pid\": N or \"exec_id\": ID\n"
		"  stats        event counts, losses, subscribers, caches\n"
		"\n"
		"  --socket PATH     default %s\n"
		"  --group NAME      the socket's group (mode 0660); default vigil,\n"
		"                    root only when there is no such group\n"
		"  --allow-uid UID   also let this uid in; repeatable\n"
		"  --allow-gid GID   also let members of this group in; repeatable\n"
		"  --ring-size BYTES ring buffer size, a power of two (default 8 MiB)\n"
		"  --max-clients-per-uid N\n"
		"                    clients one uid may hold at once (default %d;\n"
		"                    0: only the total of %d)\n"
		"  --idle-timeout SECONDS\n"
		"                    close a client with no subscription that said\n"
		"                    nothing this long (default %d; 0: never)\n"
		"  --source SRC      bpf (the default); audit: Linux audit's records\n"
		"                    (hosts without eBPF); auto: bpf, else audit;\n"
		"                    --audit-timeout MS and --audit-exit-delay MS\n"
		"                    as for vigil watch; or replay:FILE: a recording\n"
		"                    (vigil watch --record) served as if live\n"
		"  --metrics ADDR    serve Prometheus metrics at http://ADDR/metrics;\n"
		"                    ADDR is PORT, HOST:PORT or [V6]:PORT, HOST a\n"
		"                    numeric address (default 127.0.0.1); off unless\n"
		"                    given (e.g. --metrics %d)\n"
		"  --export 'NAME KIND TARGET [KEY=VALUE]...'\n"
		"                    send events off the node; repeatable. KIND\n"
		"                    file (TARGET a path; max-size, keep, fsync),\n"
		"                    syslog (unix:PATH, udp://, tcp://, tls://,\n"
		"                    relp://, relp+tls:// HOST:PORT; facility, ca,\n"
		"                    cert, key) or\n"
		"                    nats; every kind takes events, filter,\n"
		"                    container, image, pod, host, path, queue.\n"
		"                    Values with blanks in double quotes. Config\n"
		"                    file: an [export NAME] section of the keys\n"
		"  --state-dir DIR   what exports keep on disk (default %s)\n"
		"  --rules FILE      Falco rule files (repeatable; later files append\n"
		"                    to and override earlier ones, as vigil rules\n"
		"                    check loads them), evaluated once per event:\n"
		"                    each rule an event matches (the first, as\n"
		"                    Falco) is an alert, in Falco's JSON shape, to\n"
		"                    the subscriptions and exports whose events\n"
		"                    include alert. Only the types the rules name\n"
		"                    are traced for them. Rules vigil cannot\n"
		"                    evaluate are counted (the reasons at log level\n"
		"                    info); none accepted is an error. SIGHUP reads\n"
		"                    the files again (a file with errors changes\n"
		"                    nothing)\n"
		"  --replay-wait N   with --source replay:FILE: the recording waits\n"
		"                    until N subscriptions are made, so that each\n"
		"                    sees it whole (tests, simulations)\n"
		CLI_SERVICE_HELP
		"\n"
		"Try: echo '{\"req\":\"subscribe\",\"filter\":\"evt.type = exec\"}' |\n"
		"       socat - UNIX-CONNECT:%s | jq .\n"
		"\n%s",
		program_name, vg_event_std_names(), VG_DAEMON_SOCKET,
		VG_DAEMON_CLIENTS_PER_UID, VG_DAEMON_CLIENTS_MAX, VG_DAEMON_IDLE_TIMEOUT_S,
		VG_METRICS_PORT, DAEMON_STATE_DIR, "daemon", "", VG_DAEMON_SOCKET,
		cli_global_help);
}

/* The engine over the eBPF sensor, or over a recording. NULL with the
 * reason printed. */
static struct vg_engine *open_engine(struct vigil_ctx *ctx,
				     struct cli_source_spec *spec, size_t ring)
{
	struct vg_tracefs tracefs;
	struct vg_source *src;
	struct vg_engine *en;
	char err[512] = "";

	vg_tracefs_init(&tracefs);
	const struct vg_bpf_source_opts o = {
		.types = vg_event_std_mask(),
		/* the opt-in types cost every call of their syscalls: not
		 * even for the moment before the first subscription */
		.defer_types = vg_event_std_mask() & ~vg_event_all_mask(),
		.ring_bytes = ring,
		.tracefs = &tracefs,
	};
	src = cli_source_open(spec, &o, ctx);
	vg_tracefs_release(&tracefs);
	if (!src)
		return NULL;
	const struct vg_engine_opts eo = { .ctx = ctx, .src = src,
					   .seed_from_proc = !spec->replay };

	en = vg_engine_new(&eo, err, sizeof(err));
	if (!en || err[0])
		cli_error("%s", err);
	return en;
}

/* The containers running now, attributed (and their metadata read)
 * before the first event: `containers` answers at once, and their first
 * events need not wait. */
static void warm_containers(struct vigil_ctx *ctx)
{
	int *pids = NULL;
	size_t n = 0;

	if (vg_attrib_list_pids(ctx, &pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct vg_attribution a;

		vg_attrib_pid_cgroup(ctx, pids[i], &a);
	}
	free(pids);
}

enum { OPT_SOCKET = 1000, OPT_GROUP, OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_RING,
       OPT_SOURCE, OPT_PER_UID, OPT_IDLE, OPT_AUDIT_TIMEOUT,
       OPT_AUDIT_EXIT_DELAY, OPT_METRICS, OPT_EXPORT, OPT_STATE_DIR, OPT_RULES,
       OPT_REPLAY_WAIT };

static const struct option daemon_opts[] = {
	CLI_GLOBAL_OPTIONS,
	CLI_SERVICE_OPTIONS,
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "allow-gid", required_argument, NULL, OPT_ALLOW_GID },
	{ "ring-size", required_argument, NULL, OPT_RING },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "audit-timeout", required_argument, NULL, OPT_AUDIT_TIMEOUT },
	{ "audit-exit-delay", required_argument, NULL, OPT_AUDIT_EXIT_DELAY },
	{ "max-clients-per-uid", required_argument, NULL, OPT_PER_UID },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "replay-wait", required_argument, NULL, OPT_REPLAY_WAIT },
	{ 0 },
};

/* Everything the options and the config file set. */
struct daemon_conf {
	struct vg_daemon_opts o;
	uid_t allow_uid[VG_DAEMON_ALLOW_MAX];
	gid_t allow_gid[VG_DAEMON_ALLOW_MAX];
	const char *path;
	struct cli_source_spec spec;
	size_t ring;
	bool group_given;
	struct cli_log_conf log;
	struct vg_metrics_addr metrics_addr;
	bool want_metrics;
	/* --export's and the file's [export NAME] sections' */
	struct vg_export_spec *exports[VG_EXPORTS_MAX];
	size_t n_exports;
	const char *state_dir;
	/* --rules' and the file's rules = FILE */
	char *rules[DAEMON_RULE_FILES_MAX];
	size_t n_rules;
};

static void daemon_conf_release(struct daemon_conf *c)
{
	for (size_t i = 0; i < c->n_exports; i++)
		vg_export_spec_free(c->exports[i]);
	c->n_exports = 0;
}

static void daemon_conf_init(struct daemon_conf *c)
{
	*c = (struct daemon_conf){
		.o = { .listen_fd = -1, .group_name = "vigil",
		       .clients_per_uid = VG_DAEMON_CLIENTS_PER_UID,
		       .idle_timeout_s = VG_DAEMON_IDLE_TIMEOUT_S },
		.path = VG_DAEMON_SOCKET,
		.spec = { .kind = CLI_SRC_BPF },
		.state_dir = DAEMON_STATE_DIR,
		.log = CLI_LOG_CONF_DEFAULT,
	};
}

/* One option's value, from the command line or the config file. */
static int daemon_apply(void *state, int c, const char *arg)
{
	struct daemon_conf *d = state;
	uint64_t v;

	switch (c) {
	case OPT_SOCKET:
		d->path = arg;
		return 0;
	case OPT_GROUP:
		d->o.group_name = arg;
		d->group_given = true;
		return 0;
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GID:
		if (vg_parse_u64(arg, &v) < 0 || v > UINT32_MAX - 1)
			return cli_usage_error("daemon", "%s takes a number, not '%s'",
					       c == OPT_ALLOW_UID ? "--allow-uid"
								  : "--allow-gid", arg);
		if (c == OPT_ALLOW_UID && d->o.n_allow_uid < VG_DAEMON_ALLOW_MAX)
			d->allow_uid[d->o.n_allow_uid++] = (uid_t)v;
		else if (c == OPT_ALLOW_GID && d->o.n_allow_gid < VG_DAEMON_ALLOW_MAX)
			d->allow_gid[d->o.n_allow_gid++] = (gid_t)v;
		else
			return cli_usage_error("daemon", "too many --allow-uid/--allow-gid");
		return 0;
	case OPT_RING:
		return cli_ring_size("daemon", arg, &d->ring);
	case OPT_SOURCE:
		return cli_source_arg("daemon", arg, &d->spec);
	case OPT_AUDIT_TIMEOUT:
		return cli_source_ms("daemon", "--audit-timeout", arg,
				     &d->spec.audit_timeout_ms);
	case OPT_AUDIT_EXIT_DELAY:
		return cli_source_ms("daemon", "--audit-exit-delay", arg,
				     &d->spec.audit_exit_delay_ms);
	case OPT_PER_UID:
		if (vg_parse_u64(arg, &v) < 0 || v > VG_DAEMON_CLIENTS_MAX)
			return cli_usage_error("daemon", "--max-clients-per-uid takes "
					       "0 to %d, not '%s'",
					       VG_DAEMON_CLIENTS_MAX, arg);
		d->o.clients_per_uid = (unsigned)v;
		return 0;
	case OPT_IDLE:
		if (vg_parse_u64(arg, &v) < 0 || v > 86400)
			return cli_usage_error("daemon", "--idle-timeout takes seconds, "
					       "0 to 86400, not '%s'", arg);
		d->o.idle_timeout_s = (unsigned)v;
		return 0;
	case OPT_METRICS: {
		char err[256];

		if (vg_metrics_parse_addr(arg, &d->metrics_addr, err, sizeof(err)) < 0)
			return cli_usage_error("daemon", "--metrics: %s", err);
		d->want_metrics = true;
		return 0;
	}
	case OPT_EXPORT: {
		const char *where = cli_conf_location();
		struct vg_export_spec *s;
		char err[512];

		if (d->n_exports >= VG_EXPORTS_MAX)
			return cli_usage_error("daemon", "more than %d exports",
					       VG_EXPORTS_MAX);
		if (vg_export_spec_parse(arg, where ? where : "--export", &s, err,
					 sizeof(err)) < 0)
			return cli_usage_error("daemon", "--export: %s", err);
		d->exports[d->n_exports++] = s;
		return 0;
	}
	case OPT_RULES:
		if (d->n_rules >= DAEMON_RULE_FILES_MAX)
			return cli_usage_error("daemon", "more than %d rule files",
					       DAEMON_RULE_FILES_MAX);
		d->rules[d->n_rules++] = (char *)arg;
		return 0;
	case OPT_REPLAY_WAIT:
		if (vg_parse_u64(arg, &v) < 0 || v < 1 || v > VG_DAEMON_SUBS_TOTAL)
			return cli_usage_error("daemon", "--replay-wait takes 1 to %d "
					       "subscriptions, not '%s'",
					       VG_DAEMON_SUBS_TOTAL, arg);
		d->o.hold_subs = (unsigned)v;
		return 0;
	case OPT_STATE_DIR:
		if (arg[0] != '/')
			return cli_usage_error("daemon", "--state-dir takes an absolute "
					       "path, not '%s'", arg);
		d->state_dir = arg;
		return 0;
	case OPT_LOG_LEVEL:
		return cli_log_level_arg("daemon", arg, &d->log.level);
	case OPT_LOG_FORMAT:
		return cli_log_format_arg("daemon", arg, &d->log.format);
	default:
		return cli_global_option(c, arg) < 0 ? EXIT_USAGE : 0;
	}
}

static void daemon_reset(void *state, int c)
{
	struct daemon_conf *d = state;

	if (c == OPT_ALLOW_UID)
		d->o.n_allow_uid = 0;
	else if (c == OPT_ALLOW_GID)
		d->o.n_allow_gid = 0;
	else if (c == OPT_EXPORT)
		daemon_conf_release(d);
	else if (c == OPT_RULES)
		d->n_rules = 0;
}

static const char *const daemon_repeatable[] = { "allow-uid", "allow-gid",
						 "export", "rules", NULL };

static const struct cli_conf_cmd daemon_cmd = {
	.name = "daemon",
	.opts = daemon_opts,
	.shortopts = CLI_GLOBAL_SHORTOPTS,
	.repeatable = daemon_repeatable,
	.apply = daemon_apply,
	.reset = daemon_reset,
	.named_section = "export",
};

/* The file's [export NAME] sections into @d's specs, after --export's
 * (a name said twice is an error). Returns 0, or EXIT_USAGE with every
 * error printed, FILE:LINE first. */
static int daemon_file_exports(const struct cli_conf_file *f, struct daemon_conf *d)
{
	char where[512], err[1024];
	int ret = 0;

	for (size_t i = 0; f && i < f->n_named; i++) {
		const struct cli_conf_named *n = &f->named[i];
		struct vg_export_spec *s = NULL;
		bool seen = false;

		snprintf(where, sizeof(where), "%s:%u", f->path, n->line);
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(f->named[j].name, n->name) == 0;
		if (!seen) {
			/* a new section: a new export */
			for (size_t k = 0; k < d->n_exports; k++)
				if (strcmp(d->exports[k]->name, n->name) == 0) {
					ret = cli_usage_error("daemon", "%s: a second export "
							      "named %s (also %s)", where,
							      n->name, d->exports[k]->where);
					seen = true;
				}
			if (seen)
				continue;
			if (!vg_export_name_ok(n->name)) {
				ret = cli_usage_error("daemon", "%s: [export %s]: an export's "
						      "name is 1 to 32 of a-z, A-Z, 0-9, "
						      "'_', '-'", where, n->name);
				continue;
			}
			if (d->n_exports >= VG_EXPORTS_MAX) {
				ret = cli_usage_error("daemon", "%s: more than %d exports",
						      where, VG_EXPORTS_MAX);
				continue;
			}
			s = vg_export_spec_new(n->name, where);
			if (!s) {
				cli_error("out of memory");
				return EXIT_USAGE;
			}
			d->exports[d->n_exports++] = s;
		}
		for (size_t k = 0; !s && k < d->n_exports; k++)
			if (strcmp(d->exports[k]->name, n->name) == 0)
				s = d->exports[k];
		if (s && vg_export_spec_set(s, n->key, n->value, where, err,
					    sizeof(err)) < 0)
			ret = cli_usage_error("daemon", "%s", err);
	}
	return ret;
}

/* What the keys set that the start would refuse, checked before anything
 * starts (and by --check-config and a reload); the group's id into
 * @d. @quiet: no word of a missing default group. Returns 0, or
 * EXIT_USAGE with every reason printed. */
static int daemon_validate(struct daemon_conf *d, bool quiet)
{
	struct group *gr = getgrnam(d->o.group_name);
	int ret = 0;

	if (gr) {
		d->o.gid = gr->gr_gid;
	} else if (d->group_given) {
		ret = cli_usage_error("daemon", "no group '%s'", d->o.group_name);
	} else {
		d->o.gid = 0;
		if (!quiet)
			cli_log(CLI_LOG_WARNING, "no group 'vigil': only root (and "
				"--allow-uid/--allow-gid) may connect");
		d->o.group_name = "root";
	}
	if (!*d->path || strlen(d->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		ret = cli_usage_error("daemon", "--socket takes a path of 1 to %zu "
				      "bytes, not '%s'",
				      sizeof(((struct sockaddr_un *)0)->sun_path) - 1,
				      d->path);
	if (d->spec.replay && access(d->spec.replay, R_OK) < 0)
		ret = cli_usage_error("daemon", "--source replay:%s: %s",
				      d->spec.replay, strerror(errno));
	if (d->o.hold_subs && !d->spec.replay)
		ret = cli_usage_error("daemon", "--replay-wait is for --source replay:FILE");
	for (size_t i = 0; i < d->n_exports; i++) {
		char err[1024];

		if (vg_exports_check(d->exports[i], err, sizeof(err)) < 0)
			ret = cli_usage_error("daemon", "%s", err);
	}
	return ret;
}

/*
 * --rules' files as one ruleset, into *@ret (NULL: no files). What vigil
 * cannot evaluate is counted (a warning) and each reason logged at info;
 * a file that does not load (its file and line named) or no enabled
 * rule accepted is an error. @what: "" or "reloading: ". Returns 0, or
 * EXIT_USAGE with the reason printed.
 */
static int daemon_rules(const struct daemon_conf *d, const char *what,
			struct vg_ruleset **ret)
{
	struct vg_rules_tally t;
	struct vg_ruleset *rs;

	*ret = NULL;
	if (!d->n_rules)
		return 0;
	rs = cli_rules_load(d->rules, d->n_rules);
	if (!rs) {
		cli_error("%s--rules: the rules do not load", what);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < vg_ruleset_count(rs); i++) {
		const struct vg_rule *r = vg_ruleset_rule(rs, i);

		if (!r->enabled)
			continue;
		if (r->status != VG_RULE_ACCEPTED)
			cli_log(CLI_LOG_INFO, "rule '%s' (%s:%d) %s: %s", r->name,
				r->file ? r->file : "?", r->line,
				r->status == VG_RULE_REFUSED ? "refused" : "skipped",
				r->why ? r->why : "?");
		else if (r->output_note)
			cli_log(CLI_LOG_DEBUG, "rule '%s' (%s:%d): %s", r->name,
				r->file ? r->file : "?", r->line, r->output_note);
	}
	if (*vg_ruleset_notes(rs))
		cli_log(CLI_LOG_DEBUG, "rules: %s", vg_ruleset_notes(rs));
	vg_ruleset_tally(rs, &t);
	if (t.refused || t.skipped)
		cli_log(CLI_LOG_WARNING, "rules: of the enabled rules, %zu refused and "
			"%zu skipped (another source)%s", t.refused, t.skipped,
			cli_log_enabled(CLI_LOG_INFO) ? ": the reasons above"
						      : "; --log-level info says why");
	if (!t.accepted) {
		cli_error("%s--rules: no enabled rule that vigil evaluates (vigil "
			  "rules check says why)", what);
		vg_ruleset_free(rs);
		return EXIT_USAGE;
	}
	cli_log(CLI_LOG_INFO, "rules: %zu accepted, %zu refused, %zu skipped, %zu "
		"disabled, from %zu file%s", t.accepted, t.refused, t.skipped, t.disabled,
		d->n_rules,
		d->n_rules == 1 ? "" : "s");
	*ret = rs;
	return 0;
}

/* The daemon's keys that a reload applies; any other that changed is
 * named as needing a restart. */
static const char *const daemon_live[] = { "log-level", "log-format", "export",
					   "rules" };

struct reload_ctx {
	const char *path;
	const char *const *live;
	size_t n_live;
};

static void say_restart(void *u, const char *key)
{
	const struct reload_ctx *rc = u;

	for (size_t i = 0; i < rc->n_live; i++)
		if (strcmp(rc->live[i], key) == 0)
			return;
	cli_log(CLI_LOG_WARNING, "%s: '%s' changed: it takes effect at the next "
		"restart", rc->path, key);
}

/*
 * SIGHUP: the file read again with the same command line, checked as a
 * start would check it, and what can change live changed. A file with
 * errors changes nothing. @running is the file the daemon started with,
 * which its settings point into: kept, so that a key changed and then
 * changed back is not named.
 */
static void say_export(void *u, bool error, const char *msg)
{
	(void)u;
	cli_log(error ? CLI_LOG_ERROR : CLI_LOG_WARNING, "%s", msg);
}

static void daemon_reload(const struct cli_conf_argv *args,
			  const struct cli_conf_file *running,
			  struct vg_daemon *d, struct vg_exports *exports)
{
	struct vg_ruleset *rs = NULL;
	char err[512];
	const struct cli_globals saved = cli;
	const struct reload_ctx rc = { cli_conf_path(args), daemon_live,
				       VG_ARRAY_SIZE(daemon_live) };
	struct cli_conf_file *nf = NULL;
	struct daemon_conf nd;
	int r;

	daemon_conf_init(&nd);
	r = cli_conf_read(&daemon_cmd, args, &nf);
	r |= cli_conf_apply(&daemon_cmd, nf, args, &nd);
	r |= daemon_file_exports(nf, &nd);
	if (!r)
		r = daemon_validate(&nd, true);
	/* the files read again, and the old rules kept unless they load */
	if (!r)
		r = daemon_rules(&nd, "reloading: ", &rs);
	/* the global options are the running context's: restart only */
	cli = saved;
	if (r) {
		cli_log(CLI_LOG_ERROR, "reloading %s: nothing changed", rc.path);
		daemon_conf_release(&nd);
		cli_conf_file_free(nf);
		return;
	}
	cli_log_start("daemon", &nd.log);
	/* between two events: filters, types and selections swapped, any
	 * other change of an export named as needing a restart */
	vg_exports_reload(exports, nd.exports, nd.n_exports, say_export, NULL);
	if (rs || vg_daemon_has_rules(d)) {
		if (vg_daemon_set_rules(d, rs, err, sizeof(err)) < 0)
			cli_log(CLI_LOG_ERROR, "reloading the rules: %s", err);
		else if (!rs)
			cli_log(CLI_LOG_INFO, "rules: none any more");
	}
	cli_conf_diff(&daemon_cmd, running, nf, args, say_restart, (void *)&rc);
	cli_log(CLI_LOG_INFO, "reloaded %s (log level %s, format %s)", rc.path,
		cli_log_level_name(nd.log.level),
		nd.log.format == CLI_LOG_JSON ? "json" : "text");
	daemon_conf_release(&nd);
	cli_conf_file_free(nf);
}

/* --check-config: everything a start checks short of starting. */
static int daemon_check(const struct cli_conf_argv *args,
			const struct cli_conf_file *f, struct daemon_conf *d)
{
	struct vigil_ctx *ctx;

	struct vg_ruleset *rs;

	if (daemon_validate(d, true) || daemon_rules(d, "", &rs))
		return EXIT_USAGE;
	vg_ruleset_free(rs);
	ctx = cli_ctx_new();
	if (!ctx)
		return EXIT_USAGE;
	vigil_ctx_free(ctx);
	if (f)
		printf("%s: ok\n", f->path);
	else
		printf("%s: not there; the defaults and options: ok\n",
		       cli_conf_path(args));
	return EXIT_OK;
}

int cmd_daemon(int argc, char **argv)
{
	static volatile sig_atomic_t term_signal, reload_signal;
	struct cli_conf_argv args;
	struct cli_conf_file *file = NULL;
	struct daemon_conf dc;
	struct vg_daemon_opts *o = &dc.o;
	struct vigil_ctx *ctx = NULL;
	struct vg_engine *en = NULL;
	struct vg_daemon *d = NULL;
	struct daemon_notify dn = { .path = NULL };
	struct vg_metrics *metrics = NULL;
	struct vg_exports *exports = NULL;
	struct vg_ruleset *rules = NULL;
	char err[1024];
	int r, ret = EXIT_OK;

	daemon_conf_init(&dc);
	o->allow_uid = dc.allow_uid;
	o->allow_gid = dc.allow_gid;
	ret = cli_conf_argv_parse(&daemon_cmd, argc, argv, &args);
	if (ret || args.help) {
		if (!ret)
			cmd_daemon_help(stdout);
		goto out;
	}
	/* every error at once, the file's and the values' */
	ret = cli_conf_read(&daemon_cmd, &args, &file);
	ret |= cli_conf_apply(&daemon_cmd, file, &args, &dc);
	ret |= daemon_file_exports(file, &dc);
	if (ret)
		goto out;
	if (args.check) {
		ret = daemon_check(&args, file, &dc);
		goto out;
	}
	cli_log_start("daemon", &dc.log);
	cli_log(CLI_LOG_DEBUG, "config %s: %s", cli_conf_path(&args),
		file ? "read" : "not there: the defaults and the options");
	if (daemon_validate(&dc, false) || daemon_rules(&dc, "", &rules)) {
		ret = EXIT_USAGE;
		goto out;
	}

	/* one fd per client: let as many in as the hard limit allows */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* before the sensor is loaded: an address in use fails at once */
	if (dc.want_metrics &&
	    vg_metrics_new(&dc.metrics_addr, &metrics, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		ret = EXIT_USAGE;
		goto out;
	}
	ctx = cli_ctx_new();
	if (!ctx) {
		ret = EXIT_USAGE;
		goto out;
	}
	en = open_engine(ctx, &dc.spec, dc.ring);
	if (!en) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (!dc.spec.replay)
		warm_containers(ctx);
	/* 0660 root:group from the moment anyone can connect */
	dn.path = dc.path;
	o->listen_fd = cli_listen_unix(dc.path, "vigil daemon", 0660, o->gid, true);
	if (o->listen_fd >= 0 && fcntl(o->listen_fd, F_SETFL, O_NONBLOCK) < 0) {
		cli_error("%s: %s", dc.path, strerror(errno));
		close(o->listen_fd);
		unlink(dc.path);
		o->listen_fd = -1;
	}
	if (o->listen_fd < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	cli_notify_init(&dn.n);
	o->tick = notify_tick;
	o->tick_arg = &dn;
	o->tick_ms = cli_notify_tick_ms(&dn.n);
	d = vg_daemon_new(en, o, err, sizeof(err));
	if (!d) {
		cli_error("%s", err);
		ret = EXIT_PARTIAL;
		goto out;
	}
	/* before the first event: every event they select is numbered */
	exports = vg_exports_new(d, dc.state_dir);
	if (!exports) {
		cli_error("out of memory");
		ret = EXIT_PARTIAL;
		goto out;
	}
	vg_daemon_set_exports(d, exports);
	/* before the first event, like the exports: the rules' types are
	 * traced from the start */
	r = rules ? vg_daemon_set_rules(d, rules, err, sizeof(err)) : 0;
	rules = NULL; /* the daemon's */
	if (r < 0) {
		cli_error("rules: %s", err);
		ret = EXIT_PARTIAL;
		goto out;
	}
	for (size_t i = 0; i < dc.n_exports; i++)
		if (vg_exports_add(exports, dc.exports[i], err, sizeof(err)) < 0) {
			cli_error("%s", err);
			ret = EXIT_USAGE;
			goto out;
		}
	if (metrics && (r = vg_metrics_serve(metrics, d)) < 0) {
		cli_error("metrics: %s", strerror(-r));
		ret = EXIT_PARTIAL;
		goto out;
	}
	/* set up: the socket bound, the programs loaded, the tracefs
	 * mount (if any) done; what is left needs no more than this */
	if (cli_keep_source_caps("vigil daemon", &dc.spec) < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	if (!dc.spec.replay && (r = vg_meta_worker_start(ctx)) < 0)
		cli_log(CLI_LOG_WARNING, "metadata is read in line (no worker "
			"thread: %s)", strerror(-r));

	cli_catch_stop_reload(&stop_signal, &term_signal, &reload_signal);
	vg_engine_start(en); /* what is attached is attached before it says so */
	if (vg_engine_error(en)) {
		cli_error("starting the sensor: %s", vg_engine_error_why(en));
		ret = EXIT_PARTIAL;
		goto out;
	}
	/* the containers running already, to the exports that keep them */
	if (!dc.spec.replay && (r = vg_engine_tell_present(en)) < 0)
		cli_log(CLI_LOG_WARNING, "the containers running now: %s", strerror(-r));
	if (metrics) {
		char where[80];

		vg_metrics_addr_format(&dc.metrics_addr, where, sizeof(where));
		cli_log(CLI_LOG_INFO, "metrics at http://%s/metrics", where);
	}
	cli_log(CLI_LOG_INFO, "daemon serving %s (sensor %s)", dc.path,
		vg_daemon_sensor_id(d));
	/* the sensor attached and the socket taking connections: ready */
	dn.d = d;
	status_line(&dn, "serving", err, sizeof(err));
	cli_notify_ready(&dn.n, err);
	for (;;) {
		r = vg_daemon_run(d, &stop_signal);
		if (r < 0) {
			cli_error("the daemon's loop: %s", strerror(-r));
			ret = EXIT_PARTIAL;
			break;
		}
		if (!reload_signal)
			break;
		/* in this order: a SIGTERM from now on is seen below or
		 * ends the next run */
		reload_signal = 0;
		stop_signal = 0;
		if (term_signal)
			break;
		daemon_reload(&args, file, d, exports);
	}
	status_line(&dn, "stopping", err, sizeof(err));
	cli_notify_stopping(&dn.n, err);
out:
	vg_metrics_free(metrics);
	if (d)
		vg_daemon_set_exports(d, NULL);
	/* what waits is sent, within a bound, while the engine is there */
	vg_exports_free(exports);
	vg_daemon_free(d);
	if (o->listen_fd >= 0) {
		close(o->listen_fd);
		unlink(dc.path);
	}
	vg_engine_free(en);
	vigil_ctx_free(ctx);
	vg_ruleset_free(rules);
	daemon_conf_release(&dc);
	cli_conf_file_free(file);
	cli_conf_argv_release(&args);
	return ret;
}
