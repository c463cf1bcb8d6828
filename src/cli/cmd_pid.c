/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attrib/attrib.h"
#include "cli.h"
#include "output/identity.h"
#include "shared/util.h"

#define PID_TOKEN_MAX 32

void cmd_pid_help(FILE *f)
{
	fprintf(f,
		"Usage: %s pid [--all | -] [PID...]\n"
		"\n"
		"Tell who each process is: pid, ppid, uid/gid, name, exe, argv, cwd,\n"
		"start time, exec_id, namespaces, cgroups, cgroup id, and its\n"
		"container (runtime, full id) and Kubernetes pod uid, from the\n"
		"kernel's own records (/proc/PID/cgroup, the exe link).\n"
		"\n"
		"  --all           every process on the host\n"
		"  -               read PIDs from standard input, separated by\n"
		"                  white space (e.g. from 'docker inspect')\n"
		"  --host-root DIR read under DIR instead of / (env VIGIL_HOST_ROOT)\n"
		"  -o, --output    text (default) or json: one object per line\n"
		"\n"
		"A PID that does not exist is reported as not found and the exit\n"
		"status is 1; the other PIDs are still answered. A process whose\n"
		"cgroups name two different containers or pods is reported as a\n"
		"conflict, never attributed to one of them.\n",
		program_name);
}

struct pid_run {
	struct vigil_ctx *ctx;
	struct vg_printer *pr;
	bool skip_vanished; /* --all: a process gone since readdir is no news */
	bool any_failed;
	size_t printed;
	int write_err;
};

static int show_pid(int pid, void *userdata)
{
	struct pid_run *run = userdata;
	struct vigil_identity *id = NULL;
	int r;

	r = vigil_identify_pid(run->ctx, pid, &id);
	if (r < 0) {
		cli_error("pid %d: %s", pid, strerror(-r));
		run->any_failed = true;
		return 0;
	}
	if (run->skip_vanished && vigil_identity_status(id) == VIGIL_NOT_FOUND) {
		vigil_identity_free(id);
		return 0;
	}
	if (vigil_identity_status(id) != VIGIL_OK)
		run->any_failed = true;

	if (cli.output == VG_OUTPUT_TEXT && run->printed > 0)
		fputc('\n', stdout);
	vg_print_identity(run->pr, id);
	r = vg_pr_end(run->pr, stdout);
	vigil_identity_free(id);
	run->printed++;
	if (r < 0) {
		run->write_err = r;
		return r; /* stop: nobody reads any more */
	}
	return 0;
}

/* PIDs from stdin, white-space separated; a bad token is reported and
 * skipped, and makes the answer partial. */
static void pids_from_stdin(struct pid_run *run)
{
	char tok[PID_TOKEN_MAX + 1];
	size_t len = 0;
	bool overlong = false;
	int ch;

	do {
		ch = getchar();
		if (ch == EOF || ch == ' ' || ch == '\t' || ch == '\n' ||
		    ch == '\r') {
			if (len == 0 && !overlong)
				continue;
			tok[len] = '\0';
			int pid;

			if (overlong || vg_parse_pid(tok, &pid) < 0) {
				cli_error("not a pid: '%s%s'", tok,
					  overlong ? "..." : "");
				run->any_failed = true;
			} else if (show_pid(pid, run) < 0) {
				return;
			}
			len = 0;
			overlong = false;
		} else if (len < PID_TOKEN_MAX) {
			tok[len++] = (char)ch;
		} else {
			overlong = true;
		}
	} while (ch != EOF);
}

int cmd_pid(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "all", no_argument, NULL, 'a' },
		{ 0 },
	};
	struct pid_run run = { 0 };
	bool all = false, from_stdin = false;
	int c, r, n_pids = 0;

	while ((c = getopt_long(argc, argv, "a" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			cmd_pid_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s pid --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		int pid;

		if (strcmp(argv[i], "-") == 0) {
			from_stdin = true;
			continue;
		}
		if (vg_parse_pid(argv[i], &pid) < 0)
			return cli_usage_error("pid", "not a pid: '%s'", argv[i]);
		n_pids++;
	}
	if (all && (n_pids || from_stdin))
		return cli_usage_error("pid", "--all takes no PIDs");
	if (!all && !n_pids && !from_stdin)
		return cli_usage_error("pid", "give PIDs, '-' or --all");

	r = vigil_ctx_new(cli.host_root, &run.ctx);
	if (r < 0) {
		cli_error("host root '%s': %s", cli.host_root ? cli.host_root : "/",
			  r == -ENOENT ? "no such directory, or no proc/ in it"
				       : strerror(-r));
		return EXIT_USAGE;
	}
	run.pr = vg_printer_new(cli.output);
	if (!run.pr) {
		vigil_ctx_free(run.ctx);
		cli_error("out of memory");
		return EXIT_PARTIAL;
	}

	if (all) {
		run.skip_vanished = true;
		r = vg_attrib_for_each_pid(run.ctx, show_pid, &run);
		if (r < 0 && !run.write_err) {
			cli_error("listing processes: %s", strerror(-r));
			run.any_failed = true;
		}
	} else {
		for (int i = optind; i < argc && !run.write_err; i++) {
			int pid;

			if (strcmp(argv[i], "-") == 0)
				pids_from_stdin(&run);
			else if (vg_parse_pid(argv[i], &pid) == 0)
				show_pid(pid, &run);
		}
	}

	vg_printer_free(run.pr);
	vigil_ctx_free(run.ctx);
	if (fflush(stdout) != 0 || run.write_err) {
		if (errno != EPIPE && run.write_err != -EPIPE)
			cli_error("writing output: %s", strerror(errno));
		return EXIT_PARTIAL;
	}
	return run.any_failed ? EXIT_PARTIAL : EXIT_OK;
}
