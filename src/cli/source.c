/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vigil watch and vigil daemon share: --source, opening the source,
 * and the signals that stop them. */
#include <signal.h>
#include <string.h>

#include "base/util.h"
#include "cli.h"
#include "probe/probe.h"
#include "source/bpf/source.h"
#include "attrib/attrib.h"
#include "source/replay/replay.h"

int cli_source_arg(const char *cmd, const char *arg, const char **ret_replay)
{
	if (vg_startswith(arg, "replay:") && arg[7]) {
		*ret_replay = arg + 7;
		return 0;
	}
	if (strcmp(arg, "bpf") == 0) {
		*ret_replay = NULL;
		return 0;
	}
	return cli_usage_error(cmd, "--source is bpf or replay:FILE, not '%s'", arg);
}

struct vg_source *cli_source_open(const char *replay,
				  const struct vg_bpf_source_opts *o,
				  struct vigil_ctx *ctx)
{
	struct vg_source *src = NULL;
	char why[512];
	int r;

	if (replay) {
		r = vg_replay_source_new(replay, o->tps, o->n_tps, &src, why,
					 sizeof(why));
		if (r < 0) {
			cli_error("--source replay: %s", why);
			return NULL;
		}
		/* what the live sensor found, not this host */
		vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);
		return src;
	}
	r = vg_probe_preflight(why, sizeof(why));
	if (r == 0)
		r = vg_bpf_source_new(o, &src, why, sizeof(why));
	if (r < 0) {
		cli_error("cannot start the eBPF sensor: %s", why);
		return NULL;
	}
	if (o->tracefs && o->tracefs->how == VG_TRACEFS_MOUNTED_NOW)
		cli_error("note: tracefs was mounted at %s (%s)", o->tracefs->where,
			  o->tracefs->why_not_private);
	/* the ids are read: no tracefs is needed any more */
	if (o->tracefs)
		vg_tracefs_release(o->tracefs);
	return src;
}

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
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
