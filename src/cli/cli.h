/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_CLI_H
#define VG_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "output/printer.h"

enum { EXIT_OK = 0, EXIT_PARTIAL = 1, EXIT_USAGE = 2 };

/* Options every command takes, before or after its name. */
struct cli_globals {
	const char *host_root;
	enum vg_output_mode output;
};

extern struct cli_globals cli;
extern const char *program_name;

/* Long options shared by all commands; commands append their own. */
#define CLI_GLOBAL_OPTIONS                                                     \
	{ "host-root", required_argument, NULL, 'R' },                        \
		{ "output", required_argument, NULL, 'o' },                   \
		{ "help", no_argument, NULL, 'h' }
#define CLI_GLOBAL_SHORTOPTS "o:h"

/* Handle a global option from getopt_long; returns 1 if handled, 0 if not
 * global, -1 on a bad value (message printed). */
int cli_global_option(int c, const char *arg);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_pid(int argc, char **argv);
void cmd_pid_help(FILE *f);

#endif
