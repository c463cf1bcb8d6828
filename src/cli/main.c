/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shared/util.h"
#include "vigil/vigil.h"

struct cli_globals cli = { .host_root = NULL, .output = VG_OUTPUT_TEXT };
const char *program_name = "vigil";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *f);
	const char *summary;
};

static const struct command commands[] = {
	{ "pid", cmd_pid, cmd_pid_help,
	  "who a process is: its facts, cgroup, container and pod" },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", program_name, cmd ? " " : "",
		cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", program_name,
		cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

int cli_global_option(int c, const char *arg)
{
	switch (c) {
	case 'R':
		cli.host_root = arg;
		return 1;
	case 'o':
		if (strcmp(arg, "text") == 0)
			cli.output = VG_OUTPUT_TEXT;
		else if (strcmp(arg, "json") == 0)
			cli.output = VG_OUTPUT_JSON;
		else {
			cli_usage_error(NULL,
					"--output takes 'text' or 'json', not '%s'",
					arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

static void main_help(FILE *f)
{
	fprintf(f,
		"Usage: %s [--host-root DIR] [--output text|json] COMMAND [ARGS...]\n"
		"\n"
		"vigil tells who a process is (process, container, Kubernetes pod)\n"
		"from what the kernel records.\n"
		"\n"
		"Commands:\n",
		program_name);
	for (size_t i = 0; i < VG_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Options (also accepted after the command):\n"
		"  --host-root DIR     read /proc and runtime state under DIR\n"
		"                      (default: $VIGIL_HOST_ROOT, else /)\n"
		"  -o, --output FMT    text (default) or json (one object per line)\n"
		"  -h, --help          this help; '%s COMMAND --help' for a command\n"
		"  --version           print the version\n"
		"\n"
		"Exit status: 0 ok, 1 partial answer (a process not found or not\n"
		"attributable), 2 usage error.\n",
		program_name);
}

/* Levenshtein distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *env = getenv("VIGIL_HOST_ROOT");
	int c;

	if (env && *env)
		cli.host_root = env;

	/* '+': stop at the command name; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		int r;

		switch (c) {
		case 'h':
			main_help(stdout);
			return EXIT_OK;
		case 'V':
			printf("vigil %d.%d.%d\n", VIGIL_VERSION_MAJOR,
			       VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			r = cli_global_option(c, optarg);
			if (r < 0)
				return EXIT_USAGE;
			break;
		}
	}
	if (optind >= argc) {
		main_help(stderr);
		return EXIT_USAGE;
	}

	const char *name = argv[optind];
	if (strcmp(name, "help") == 0) {
		if (optind + 1 < argc)
			for (size_t i = 0; i < VG_ARRAY_SIZE(commands); i++)
				if (strcmp(argv[optind + 1], commands[i].name) == 0) {
					commands[i].help(stdout);
					return EXIT_OK;
				}
		main_help(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(commands); i++)
		if (strcmp(name, commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0; /* reset getopt for the command */
			return commands[i].run(sub_argc, sub_argv);
		}

	fprintf(stderr, "%s: unknown command '%s'", program_name, name);
	for (size_t i = 0; i < VG_ARRAY_SIZE(commands); i++)
		if (edit_distance(name, commands[i].name) <= 2) {
			fprintf(stderr, "; did you mean '%s'?", commands[i].name);
			break;
		}
	fprintf(stderr, "\nTry '%s --help'.\n", program_name);
	return EXIT_USAGE;
}
