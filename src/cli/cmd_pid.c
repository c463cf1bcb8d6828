/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "cli.h"
#include "render/identity.h"
#include "base/util.h"

#define PID_TOKEN_MAX 32
/* --all: pids per unit of work, workers at most, and how many batches may
 * wait for output ahead of the writer (bounds memory on huge hosts). */
#define ALL_BATCH 32
#define ALL_WORKERS_MAX 8
#define ALL_WINDOW 64

void cmd_pid_help(FILE *f)
{
	fprintf(f,
		"Usage: %s pid [--all | -] [PID...]\n"
		"\n"
		"Tell who each process is: pid, ppid, uid/gid, name, exe, argv, cwd,\n"
		"start time, exec_id, namespaces, cgroups, cgroup id, and its\n"
		"container (runtime, full id) and Kubernetes pod uid, from the\n"
		"kernel's own records (/proc/PID/cgroup, the exe link); then what\n"
		"the runtime wrote of that container (name, image, labels, state,\n"
		"rootfs) and the pod's namespace, name and labels, each marked with\n"
		"where it came from.\n"
		"\n"
		"  --all           every process on the host, answered on all\n"
		"                  cores (VIGIL_THREADS=N to use at most N)\n"
		"  -               read PIDs from standard input, separated by\n"
		"                  white space (e.g. from 'docker inspect')\n"
		"\n%s\n"
		"A PID that does not exist is reported as not found and the exit\n"
		"status is 1; the other PIDs are still answered. A process whose\n"
		"cgroups name two different containers or pods is reported as a\n"
		"conflict, never attributed to one of them.\n",
		program_name, cli_global_help);
}

struct pid_run {
	struct vigil_ctx *ctx;
	struct vg_printer *pr;
	FILE *out;
	bool any_failed;
	size_t printed;
	int write_err;
};

/* Answer one pid onto run->out. Returns <0 only when output failed. */
static int show_pid(struct pid_run *run, int pid, bool skip_vanished)
{
	struct vigil_identity *id = NULL;
	int r;

	r = vigil_identify_pid(run->ctx, pid, &id);
	if (r < 0) {
		cli_error("pid %d: %s", pid, strerror(-r));
		run->any_failed = true;
		return 0;
	}
	/* --all: a process gone since the directory was listed is no news */
	if (skip_vanished && vigil_identity_status(id) == VIGIL_NOT_FOUND) {
		vigil_identity_free(id);
		return 0;
	}
	if (vigil_identity_status(id) != VIGIL_OK)
		run->any_failed = true;

	if (cli.output == VG_OUTPUT_TEXT && run->printed > 0)
		fputc('\n', run->out);
	vg_print_identity(run->pr, id);
	r = vg_pr_end(run->pr, run->out);
	vigil_identity_free(id);
	run->printed++;
	if (r < 0) {
		run->write_err = r;
		return r; /* stop: nobody reads any more */
	}
	return 0;
}

/*
 * --all: workers answer batches of pids in parallel, each with its own
 * context and printer; the calling thread writes finished batches in pid
 * order. Reading /proc is almost all kernel time, so this scales with
 * cores.
 */
struct batch {
	char *out;
	size_t len;
	size_t records;
	bool done;
	bool failed;
};

struct all_run {
	int *pids;
	size_t n_pids;
	struct batch *batches;
	size_t n_batches;
	size_t next_batch; /* next to hand out */
	size_t next_print; /* next to write */
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *all_worker(void *userdata)
{
	struct all_run *a = userdata;
	struct pid_run run = { 0 };

	/* A file table of its own: opens and closes then take no lock the
	 * other workers contend for, and the kernel skips the reference
	 * count on every descriptor this thread uses. Best effort. */
	(void)unshare(CLONE_FILES);
	if (!(run.ctx = cli_ctx_new()) ||
	    !(run.pr = vg_printer_new(cli.output))) {
		pthread_mutex_lock(&a->lock);
		a->stop = true; /* the writer reports the failed batch */
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		goto out;
	}
	for (;;) {
		struct batch *b;
		size_t i, first, last;

		pthread_mutex_lock(&a->lock);
		while (!a->stop && a->next_batch < a->n_batches &&
		       a->next_batch >= a->next_print + ALL_WINDOW)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->stop || a->next_batch >= a->n_batches) {
			pthread_mutex_unlock(&a->lock);
			break;
		}
		i = a->next_batch++;
		pthread_mutex_unlock(&a->lock);

		b = &a->batches[i];
		first = i * ALL_BATCH;
		last = first + ALL_BATCH < a->n_pids ? first + ALL_BATCH
						     : a->n_pids;
		run.out = open_memstream(&b->out, &b->len);
		run.printed = 0;
		run.any_failed = false;
		if (run.out) {
			for (size_t k = first; k < last; k++)
				show_pid(&run, a->pids[k], true);
			if (fclose(run.out) != 0)
				run.any_failed = true;
		} else {
			run.any_failed = true;
		}
		pthread_mutex_lock(&a->lock);
		b->records = run.printed;
		b->failed = run.any_failed || !run.out;
		b->done = true;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
	}
out:
	vg_printer_free(run.pr);
	vigil_ctx_free(run.ctx);
	return NULL;
}

/* How many workers --all starts: every core, or VIGIL_THREADS. */
static size_t worker_count(void)
{
	const char *env = getenv("VIGIL_THREADS");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t want;

	if (env && *env && vg_parse_u64(env, &want) == 0 && want > 0)
		return want < ALL_WORKERS_MAX ? (size_t)want : ALL_WORKERS_MAX;
	if (ncpu < 1)
		return 1;
	return ncpu < ALL_WORKERS_MAX ? (size_t)ncpu : ALL_WORKERS_MAX;
}

/* Returns the exit status. */
static int show_all(struct pid_run *run)
{
	struct all_run a = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .cond = PTHREAD_COND_INITIALIZER };
	pthread_t threads[ALL_WORKERS_MAX];
	size_t n_threads = 0, n_workers = worker_count(), printed = 0;
	bool failed = false;
	int r;

	r = vg_attrib_list_pids(run->ctx, &a.pids, &a.n_pids);
	if (r < 0) {
		cli_error("listing processes: %s", strerror(-r));
		return EXIT_PARTIAL;
	}
	a.n_batches = (a.n_pids + ALL_BATCH - 1) / ALL_BATCH;
	a.batches = calloc(a.n_batches ? a.n_batches : 1, sizeof(*a.batches));
	if (!a.batches) {
		cli_error("out of memory");
		free(a.pids);
		return EXIT_PARTIAL;
	}
	while (n_threads < n_workers &&
	       pthread_create(&threads[n_threads], NULL, all_worker, &a) == 0)
		n_threads++;
	if (n_threads == 0) {
		/* No thread to be had: answer here, in order. (A worker on this
		 * thread would wait on a writer that never runs.) */
		for (size_t k = 0; k < a.n_pids && !run->write_err; k++)
			show_pid(run, a.pids[k], true);
		free(a.batches);
		free(a.pids);
		return run->any_failed || run->write_err ? EXIT_PARTIAL : EXIT_OK;
	}

	for (size_t i = 0; i < a.n_batches; i++) {
		struct batch *b = &a.batches[i];

		pthread_mutex_lock(&a.lock);
		while (!b->done && !a.stop)
			pthread_cond_wait(&a.cond, &a.lock);
		pthread_mutex_unlock(&a.lock);
		if (!b->done) {
			cli_error("a worker could not start (out of memory or file descriptors)");
			failed = true;
			break;
		}
		failed |= b->failed;
		if (b->records > 0) {
			if (cli.output == VG_OUTPUT_TEXT && printed > 0)
				fputc('\n', stdout);
			if (fwrite(b->out, 1, b->len, stdout) != b->len) {
				failed = true;
				break;
			}
			printed += b->records;
		}
		free(b->out);
		b->out = NULL;
		pthread_mutex_lock(&a.lock);
		a.next_print = i + 1;
		pthread_cond_broadcast(&a.cond);
		pthread_mutex_unlock(&a.lock);
	}

	pthread_mutex_lock(&a.lock);
	a.stop = true;
	pthread_cond_broadcast(&a.cond);
	pthread_mutex_unlock(&a.lock);
	for (size_t t = 0; t < n_threads; t++)
		pthread_join(threads[t], NULL);
	for (size_t i = 0; i < a.n_batches; i++)
		free(a.batches[i].out);
	free(a.batches);
	free(a.pids);
	return failed ? EXIT_PARTIAL : EXIT_OK;
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
			} else if (show_pid(run, pid, false) < 0) {
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
	int c, n_pids = 0;

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

	run.ctx = cli_ctx_new();
	if (!run.ctx)
		return EXIT_USAGE;
	run.pr = vg_printer_new(cli.output);
	if (!run.pr) {
		vigil_ctx_free(run.ctx);
		cli_error("out of memory");
		return EXIT_PARTIAL;
	}

	run.out = stdout;
	if (all) {
		if (show_all(&run) != EXIT_OK)
			run.any_failed = true;
	} else {
		for (int i = optind; i < argc && !run.write_err; i++) {
			int pid;

			if (strcmp(argv[i], "-") == 0)
				pids_from_stdin(&run);
			else if (vg_parse_pid(argv[i], &pid) == 0)
				show_pid(&run, pid, false);
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
