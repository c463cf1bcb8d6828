/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Config file text → the [daemon] section's keys, applied to a command
 * whose options take anything: what libinih and the reader in front of
 * it let through must be a key of the table with a value it may take.
 * The CLI's error printers are stubbed: messages are counted, not
 * printed. */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "render/escape.h"

const char *program_name = "vigil";
static unsigned n_msgs;

void cli_error(const char *fmt, ...)
{
	(void)fmt;
	n_msgs++;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	n_msgs++;
	return EXIT_USAGE;
}

static const struct option opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, 1 },
	{ "socket", required_argument, NULL, 2 },
	{ "allow-uid", required_argument, NULL, 3 },
	{ "peercred", no_argument, NULL, 4 },
	{ 0 },
};

static int apply(void *state, int c, const char *arg)
{
	(void)state;
	if (c == 'h' || c == 1)
		abort(); /* refused in a file */
	if (c == 4 ? arg != NULL : !arg || !*arg || !vg_utf8_valid(arg))
		abort();
	if (arg && strlen(arg) > CLI_CONFIG_LINE_MAX)
		abort();
	return 0;
}

static const char *const rep[] = { "allow-uid", NULL };
static const struct cli_conf_cmd cmd = {
	.name = "daemon", .opts = opts, .shortopts = "h", .repeatable = rep,
	.apply = apply,
};

static void changed(void *u, const char *key)
{
	(void)u;
	if (!key || !*key)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_conf_file *f = NULL;
	int r = cli_conf_parse(&cmd, "fuzz.conf", (const char *)data, size, &f);

	if (!f || (r != 0) != (n_msgs != 0))
		abort(); /* an error is always said, and only then */
	cli_conf_apply(&cmd, f, NULL, NULL);
	cli_conf_diff(&cmd, f, NULL, NULL, changed, NULL);
	cli_conf_file_free(f);
	n_msgs = 0;
	return 0;
}
