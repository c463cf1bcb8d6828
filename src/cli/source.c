/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vigil watch and vigil daemon share: --source, opening the source,
 * and the signals that stop them. */
#include <signal.h>
#include <string.h>

#include "base/util.h"
#include "cli.h"
#include "log.h"
#include "probe/probe.h"
#include "source/bpf/source.h"
#include "attrib/attrib.h"
#include "source/replay/replay.h"
#include "source/audit/source.h"

int cli_source_arg(const char *cmd, const char *arg, struct cli_source_spec *ret)
{
	if (vg_startswith(arg, "replay:") && arg[7]) {
		ret->kind = CLI_SRC_REPLAY;
		ret->replay = arg + 7;
		return 0;
	}
	ret->replay = NULL;
	if (strcmp(arg, "bpf") == 0)
		ret->kind = CLI_SRC_BPF;
	else if (strcmp(arg, "audit") == 0)
		ret->kind = CLI_SRC_AUDIT;
	else if (strcmp(arg, "auto") == 0)
		ret->kind = CLI_SRC_AUTO;
	else
		return cli_usage_error(cmd, "--source is bpf, audit, auto or "
				       "replay:FILE, not '%s'", arg);
	return 0;
}

int cli_source_ms(const char *cmd, const char *opt, const char *arg,
		  uint64_t *ret)
{
	uint64_t v;

	if (vg_parse_u64(arg, &v) < 0 || v < 10 || v > 60000)
		return cli_usage_error(cmd, "%s takes milliseconds, 10 to 60000, "
				       "not '%s'", opt, arg);
	*ret = v;
	return 0;
}

static struct vg_source *open_bpf(const struct vg_bpf_source_opts *o,
				  char *why, size_t whysz)
{
	struct vg_source *src = NULL;
	int r = vg_probe_preflight(why, whysz);

	if (r == 0)
		r = vg_bpf_source_new(o, &src, why, whysz);
	if (r < 0)
		return NULL;
	if (o->tracefs && o->tracefs->how == VG_TRACEFS_MOUNTED_NOW)
		cli_log(CLI_LOG_INFO, "note: tracefs was mounted at %s (%s)",
			o->tracefs->where, o->tracefs->why_not_private);
	return src;
}

static struct vg_source *open_audit(const struct cli_source_spec *spec,
				    struct vigil_ctx *ctx)
{
	const struct vg_audit_source_opts ao = {
		.proc_fd = ctx->proc_fd,
		.eoe_timeout_ns = spec->audit_timeout_ms * 1000000ull,
		.exit_delay_ns = spec->audit_exit_delay_ms * 1000000ull,
	};
	struct vg_source *src = NULL;
	char why[512];

	if (strcmp(ctx->host_root, "/") != 0) {
		cli_error("cannot start the audit source: its records are this "
			  "host's, and --host-root is %s", ctx->host_root);
		return NULL;
	}
	if (vg_audit_source_new(&ao, &src, why, sizeof(why)) < 0) {
		cli_error("cannot start the audit source: %s", why);
		return NULL;
	}
	return src;
}

struct vg_source *cli_source_open(struct cli_source_spec *spec,
				  const struct vg_bpf_source_opts *o,
				  struct vigil_ctx *ctx)
{
	struct vg_source *src = NULL;
	char why[512];
	int r;

	spec->opened = spec->kind;
	switch (spec->kind) {
	case CLI_SRC_REPLAY:
		r = vg_replay_source_new(spec->replay, o->tps, o->n_tps, &src, why,
					 sizeof(why));
		if (r < 0) {
			cli_error("--source replay: %s", why);
			return NULL;
		}
		/* what the live sensor found, not this host */
		vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);
		return src;
	case CLI_SRC_AUDIT:
		return open_audit(spec, ctx);
	case CLI_SRC_AUTO:
	case CLI_SRC_BPF:
		src = open_bpf(o, why, sizeof(why));
		/* the ids are read: no tracefs is needed any more */
		if (o->tracefs)
			vg_tracefs_release(o->tracefs);
		if (src) {
			spec->opened = CLI_SRC_BPF;
			return src;
		}
		if (spec->kind == CLI_SRC_BPF) {
			cli_error("cannot start the eBPF sensor: %s", why);
			return NULL;
		}
		cli_log(CLI_LOG_INFO, "note: no eBPF (%s); using the audit source",
			why);
		spec->opened = CLI_SRC_AUDIT;
		return open_audit(spec, ctx);
	}
	return NULL;
}

int cli_keep_source_caps(const char *who, const struct cli_source_spec *spec)
{
	static const int sensor[] = CLI_SENSOR_CAPS, audit[] = CLI_AUDIT_CAPS;

	if (spec->opened == CLI_SRC_AUDIT)
		return cli_keep_caps(who, false, audit, VG_ARRAY_SIZE(audit));
	return cli_keep_caps(who, true, sensor, VG_ARRAY_SIZE(sensor));
}

static volatile sig_atomic_t *stop_flag, *term_flag, *reload_flag;

static void on_stop(int sig)
{
	if (sig == SIGHUP && reload_flag)
		*reload_flag = 1;
	else if (term_flag)
		*term_flag = sig;
	*stop_flag = sig;
}

void cli_catch_stop(volatile sig_atomic_t *stop)
{
	struct sigaction sa = { .sa_handler = on_stop };

	stop_flag = stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_catch_stop_reload(volatile sig_atomic_t *stop,
			   volatile sig_atomic_t *term,
			   volatile sig_atomic_t *reload)
{
	term_flag = term;
	reload_flag = reload;
	cli_catch_stop(stop);
}
