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
#include <unistd.h>

#include "base/util.h"
#include "cli.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "source/bpf/source.h"

static volatile sig_atomic_t stop_signal;

void cmd_daemon_help(FILE *f)
{
	fprintf(f,
		"Usage: %s daemon [--socket PATH] [--group NAME] [--allow-uid UID]...\n"
		"                    [--allow-gid GID]... [--ring-size BYTES]\n"
		"                    [--max-clients-per-uid N] [--idle-timeout SECONDS]\n"
		"                    [--source bpf|audit|auto|replay:FILE]\n"
		"                    [--metrics [HOST:]PORT]\n"
		"\n"
		"Run the sensor once and serve its events to any number of clients\n"
		"over a Unix socket, newline-delimited JSON. Requests (one JSON object\n"
		"per line, with \"req\" and an optional \"id\" echoed in the reply):\n"
		"  hello        protocol version, sensor id, capabilities\n"
		"  subscribe    \"filter\": EXPR, \"events\": [TYPES: %s,\n"
		"               all], \"containers\": [ID|NAME], \"image\": GLOB,\n"
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
		"\n"
		"Try: echo '{\"req\":\"subscribe\",\"filter\":\"evt.type = exec\"}' |\n"
		"       socat - UNIX-CONNECT:%s | jq .\n"
		"\n%s",
		program_name, vg_event_std_names(), VG_DAEMON_SOCKET,
		VG_DAEMON_CLIENTS_PER_UID, VG_DAEMON_CLIENTS_MAX, VG_DAEMON_IDLE_TIMEOUT_S,
		VG_METRICS_PORT, VG_DAEMON_SOCKET, cli_global_help);
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

int cmd_daemon(int argc, char **argv)
{
	enum { OPT_SOCKET = 1000, OPT_GROUP, OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_RING,
	       OPT_SOURCE, OPT_PER_UID, OPT_IDLE, OPT_AUDIT_TIMEOUT,
	       OPT_AUDIT_EXIT_DELAY, OPT_METRICS };
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
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
		{ 0 },
	};
	uid_t allow_uid[VG_DAEMON_ALLOW_MAX];
	gid_t allow_gid[VG_DAEMON_ALLOW_MAX];
	struct vg_daemon_opts o = { .listen_fd = -1, .group_name = "vigil",
				    .allow_uid = allow_uid, .allow_gid = allow_gid,
				    .clients_per_uid = VG_DAEMON_CLIENTS_PER_UID,
				    .idle_timeout_s = VG_DAEMON_IDLE_TIMEOUT_S };
	const char *path = VG_DAEMON_SOCKET, *replay = NULL;
	struct cli_source_spec spec = { .kind = CLI_SRC_BPF };
	struct vigil_ctx *ctx = NULL;
	struct vg_engine *en = NULL;
	struct vg_daemon *d = NULL;
	struct vg_metrics_addr metrics_addr;
	struct vg_metrics *metrics = NULL;
	bool want_metrics = false;
	size_t ring = 0;
	uint64_t v;
	char err[512];
	int c, r, ret = EXIT_OK;
	bool group_given = false;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			path = optarg;
			break;
		case OPT_GROUP:
			o.group_name = optarg;
			group_given = true;
			break;
		case OPT_ALLOW_UID:
		case OPT_ALLOW_GID:
			if (vg_parse_u64(optarg, &v) < 0 || v > UINT32_MAX - 1)
				return cli_usage_error("daemon", "%s takes a number, not '%s'",
						       c == OPT_ALLOW_UID ? "--allow-uid"
									  : "--allow-gid", optarg);
			if (c == OPT_ALLOW_UID && o.n_allow_uid < VG_DAEMON_ALLOW_MAX)
				allow_uid[o.n_allow_uid++] = (uid_t)v;
			else if (c == OPT_ALLOW_GID && o.n_allow_gid < VG_DAEMON_ALLOW_MAX)
				allow_gid[o.n_allow_gid++] = (gid_t)v;
			else
				return cli_usage_error("daemon", "too many --allow-uid/--allow-gid");
			break;
		case OPT_RING:
			if (cli_ring_size("daemon", optarg, &ring))
				return EXIT_USAGE;
			break;
		case OPT_SOURCE:
			if (cli_source_arg("daemon", optarg, &spec))
				return EXIT_USAGE;
			replay = spec.replay;
			break;
		case OPT_AUDIT_TIMEOUT:
			if (cli_source_ms("daemon", "--audit-timeout", optarg,
					  &spec.audit_timeout_ms))
				return EXIT_USAGE;
			break;
		case OPT_AUDIT_EXIT_DELAY:
			if (cli_source_ms("daemon", "--audit-exit-delay", optarg,
					  &spec.audit_exit_delay_ms))
				return EXIT_USAGE;
			break;
		case OPT_PER_UID:
			if (vg_parse_u64(optarg, &v) < 0 || v > VG_DAEMON_CLIENTS_MAX)
				return cli_usage_error("daemon", "--max-clients-per-uid takes "
						       "0 to %d, not '%s'",
						       VG_DAEMON_CLIENTS_MAX, optarg);
			o.clients_per_uid = (unsigned)v;
			break;
		case OPT_IDLE:
			if (vg_parse_u64(optarg, &v) < 0 || v > 86400)
				return cli_usage_error("daemon", "--idle-timeout takes seconds, "
						       "0 to 86400, not '%s'", optarg);
			o.idle_timeout_s = (unsigned)v;
			break;
		case OPT_METRICS:
			if (vg_metrics_parse_addr(optarg, &metrics_addr, err, sizeof(err)) < 0)
				return cli_usage_error("daemon", "--metrics: %s", err);
			want_metrics = true;
			break;
		case 'h':
			cmd_daemon_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s daemon --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("daemon", "unexpected argument '%s'", argv[optind]);

	struct group *gr = getgrnam(o.group_name);

	if (gr) {
		o.gid = gr->gr_gid;
	} else if (group_given) {
		return cli_usage_error("daemon", "no group '%s'", o.group_name);
	} else {
		o.gid = 0;
		fprintf(stderr, "%s: no group 'vigil': only root (and --allow-uid/"
			"--allow-gid) may connect\n", program_name);
		o.group_name = "root";
	}

	/* one fd per client: let as many in as the hard limit allows */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* before the sensor is loaded: an address in use fails at once */
	if (want_metrics &&
	    (r = vg_metrics_new(&metrics_addr, &metrics, err, sizeof(err))) < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	ctx = cli_ctx_new();
	if (!ctx) {
		vg_metrics_free(metrics);
		return EXIT_USAGE;
	}
	en = open_engine(ctx, &spec, ring);
	if (!en) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (!replay)
		warm_containers(ctx);
	/* 0660 root:group from the moment anyone can connect */
	o.listen_fd = cli_listen_unix(path, "vigil daemon", 0660, o.gid, true);
	if (o.listen_fd >= 0 && fcntl(o.listen_fd, F_SETFL, O_NONBLOCK) < 0) {
		cli_error("%s: %s", path, strerror(errno));
		close(o.listen_fd);
		unlink(path);
		o.listen_fd = -1;
	}
	if (o.listen_fd < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	d = vg_daemon_new(en, &o, err, sizeof(err));
	if (!d) {
		cli_error("%s", err);
		ret = EXIT_PARTIAL;
		goto out;
	}
	if (metrics && (r = vg_metrics_serve(metrics, d)) < 0) {
		cli_error("metrics: %s", strerror(-r));
		ret = EXIT_PARTIAL;
		goto out;
	}
	/* set up: the socket bound, the programs loaded, the tracefs
	 * mount (if any) done; what is left needs no more than this */
	if (cli_keep_source_caps("vigil daemon", &spec) < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	if (!replay && (r = vg_meta_worker_start(ctx)) < 0)
		cli_error("warning: metadata is read in line (no worker thread: %s)",
			  strerror(-r));

	cli_catch_stop(&stop_signal);
	vg_engine_start(en); /* what is attached is attached before it says so */
	if (metrics) {
		char where[80];

		vg_metrics_addr_format(&metrics_addr, where, sizeof(where));
		fprintf(stderr, "%s: metrics at http://%s/metrics\n", program_name, where);
	}
	fprintf(stderr, "%s: daemon serving %s (sensor %s)\n", program_name, path,
		vg_daemon_sensor_id(d));
	r = vg_daemon_run(d, &stop_signal);
	if (r < 0) {
		cli_error("the daemon's loop: %s", strerror(-r));
		ret = EXIT_PARTIAL;
	}
out:
	vg_metrics_free(metrics);
	vg_daemon_free(d);
	if (o.listen_fd >= 0) {
		close(o.listen_fd);
		unlink(path);
	}
	vg_engine_free(en);
	vigil_ctx_free(ctx);
	return ret;
}
