/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_CONFIG_H
#define VG_CLI_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The config file (/etc/vigil/vigil.conf) of the commands that run as
 * services: an INI file read with libinih, one section per command
 * ([daemon], [server]) whose keys are that command's long options
 * without "--", so an option added to a command is a key at once.
 *
 *   [daemon]
 *   socket = /run/vigil/vigil.sock   ; a comment after " ;"
 *   allow-uid = 1000                 # only at the start of a line
 *   allow-uid = 1001
 *   no-metadata = true
 *
 * A flag takes true or false (yes/no, on/off, 1/0); an option with a
 * value needs one (no quotes: they would be part of it). Only the
 * repeatable options may repeat. Each value goes through the same code
 * as the command line's, the file's first, so that the command line
 * overrides it; a repeatable option given on the command line replaces
 * the file's list. A command may also have named sections, e.g.
 * "[export fleet]", whose keys it checks itself. The file is UTF-8 text without NUL bytes, at most
 * CLI_CONFIG_MAX bytes, and lines of at most CLI_CONFIG_LINE_MAX bytes
 * (libinih's line buffer). Errors name FILE:LINE; every one is printed.
 */

#define CLI_CONFIG_DEFAULT "/etc/vigil/vigil.conf"
#define CLI_CONFIG_MAX (1u << 20)
#define CLI_CONFIG_LINE_MAX 196 /* libinih's 200, less "\r\n" and NUL */

/* What a command that reads the file tells this module. */
struct cli_conf_cmd {
	const char *name;              /* "daemon": the section and messages */
	const struct option *opts;     /* its getopt_long table */
	const char *shortopts;
	const char *const *repeatable; /* long names that may repeat; NULL-ended */
	/* Option @c's value (@arg NULL for a flag) into @state, exactly as
	 * from the command line: 0, or EXIT_USAGE with the reason printed. */
	int (*apply)(void *state, int c, const char *arg);
	/* Forget repeatable option @c's values so far. */
	void (*reset)(void *state, int c);
	/* Sections "[WORD NAME]" of this command ("export"), NULL: none.
	 * Their keys are not options: they are kept as said (named[]),
	 * for the command to check. */
	const char *named_section;
};

/* A key of a named section ([export fleet]). */
struct cli_conf_named {
	char *name;  /* "fleet" */
	char *key, *value;
	unsigned line;
};

struct cli_conf_entry {
	const struct option *opt; /* in the command's table */
	char *value;              /* a flag's: "true" or "false" */
	unsigned line;
};

/* What one file's section said. */
struct cli_conf_file {
	char *path;
	struct cli_conf_entry *e;
	size_t n, cap;
	struct cli_conf_named *named; /* in the file's order */
	size_t n_named, cap_named;
};

struct cli_conf_arg {
	const struct option *opt;
	const char *arg; /* in argv */
};

/* The command line, taken before the file is read. */
struct cli_conf_argv {
	struct cli_conf_arg *v;
	size_t n;
	const char *config; /* --config FILE, or NULL */
	bool check;         /* --check-config */
	bool help;          /* --help */
};

/* @argv's options into @ret (release it with cli_conf_argv_release()).
 * Returns 0, or EXIT_USAGE with the reason printed. */
int cli_conf_argv_parse(const struct cli_conf_cmd *cmd, int argc, char **argv,
			struct cli_conf_argv *ret);
void cli_conf_argv_release(struct cli_conf_argv *a);

/* The file to read: --config's, else $VIGIL_CONFIG, else the default.
 * Only --config's must exist. */
const char *cli_conf_path(const struct cli_conf_argv *a);

/* @cmd's section of @len bytes of config text, labelled @path, into a
 * new *@ret (free with cli_conf_file_free()). Returns 0, or EXIT_USAGE
 * with every error printed (FILE:LINE: ...); *@ret then holds the keys
 * that were understood, so that their values can be checked too. */
int cli_conf_parse(const struct cli_conf_cmd *cmd, const char *path,
		   const char *text, size_t len, struct cli_conf_file **ret);
/* The same on the file cli_conf_path() names; *@ret is NULL when it is
 * the default one and does not exist, or when it cannot be read. */
int cli_conf_read(const struct cli_conf_cmd *cmd, const struct cli_conf_argv *a,
		  struct cli_conf_file **ret);
void cli_conf_file_free(struct cli_conf_file *f);

/* @f's values (may be NULL), then @a's, into @state through @cmd.
 * Returns 0, or EXIT_USAGE with every error printed, a file's with its
 * FILE:LINE. @f must outlive @state: values point into it. */
int cli_conf_apply(const struct cli_conf_cmd *cmd, const struct cli_conf_file *f,
		   const struct cli_conf_argv *a, void *state);

/* Calls @fn with each long option whose values differ between @old and
 * @new (either may be NULL), but for those @a gives: the command line
 * wins over any file. */
void cli_conf_diff(const struct cli_conf_cmd *cmd, const struct cli_conf_file *old,
		   const struct cli_conf_file *new, const struct cli_conf_argv *a,
		   void (*fn)(void *u, const char *key), void *u);

/* "FILE:LINE" while a file's value is parsed or applied (this thread),
 * else NULL: messages about a value say where it was. */
const char *cli_conf_location(void);

#endif
