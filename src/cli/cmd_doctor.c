/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil doctor: what this host offers vigil, and whether it can run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probe/probe.h"

void cmd_doctor_help(FILE *f)
{
	fprintf(f,
		"Usage: %s doctor [--output text|json]\n"
		"\n"
		"What this host offers vigil and what vigil will use, found by\n"
		"trying, not by reading version numbers: the kernel (release, BTF,\n"
		"lockdown), this process's capabilities, tracefs (mounted where,\n"
		"or a private mount), each eBPF program kind (tracepoint, raw_tp,\n"
		"tp_btf, kprobe, fentry, BPF LSM: loaded, then attached), the BPF\n"
		"ring buffer, memlock, SO_PEERPIDFD and PIDFD_GET_INFO, audit\n"
		"(enabled, its daemon, limits, and whether the kernel was booted\n"
		"with audit=1), the cgroup layout, the container runtimes found\n"
		"(state directories and sockets, reachable or not), and with\n"
		"--kubelet the kubelet. Files are read under --host-root.\n"
		"\n"
		"Exit status: 0 when vigil watch and vigil daemon can run here,\n"
		"1 when they cannot (each reason is listed under 'verdict', with\n"
		"its fix), 2 usage.\n"
		"\n%s",
		program_name, cli_global_help);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct vg_report report = { 0 };
	struct vg_tracefs tracefs;
	struct vigil_ctx *ctx;
	int ch, status;

	while ((ch = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cmd_doctor_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s doctor --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(ch, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("doctor", "unexpected argument '%s'",
				       argv[optind]);
	ctx = cli_ctx_new();
	if (!ctx)
		return EXIT_USAGE;
	vg_tracefs_init(&tracefs);
	struct vg_probe_env env = {
		.host_root = ctx->host_root,
		.root_fd = ctx->root_fd,
		.rt = &ctx->rt_cfg,
		.kubelet = ctx->kubelet,
		.kubelet_url = cli.attrib.kubelet.url,
		.tracefs = &tracefs,
	};

	vg_probe_run(vg_probes, vg_n_probes, &env, &report);
	status = report.n_blockers ? EXIT_PARTIAL : EXIT_OK;
	if (vg_report_print(&report, cli.output, stdout) < 0 || report.oom) {
		cli_error("the report could not be written whole");
		status = EXIT_PARTIAL;
	}
	vg_report_release(&report);
	vg_tracefs_release(&tracefs);
	vigil_ctx_free(ctx);
	if (fflush(stdout) != 0)
		status = EXIT_PARTIAL;
	return status;
}
