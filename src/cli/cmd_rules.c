/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil rules: options and wiring for Falco's rule files (src/rules/).
 * check loads them as one ruleset and says, per rule, whether vigil
 * evaluates it, or why not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rules/rules.h"

void cmd_rules_help(FILE *f)
{
	fprintf(f,
		"Usage: %s rules check [--output text|json] FILE...\n"
		"\n"
		"Falco's rule files, as vigil runs them (vigil watch --rules).\n"
		"\n"
		"  check FILE...        load the files as one ruleset (a later file's\n"
		"                       items append to or override an earlier one's, as\n"
		"                       in Falco) and say, for each rule, whether vigil\n"
		"                       evaluates it (accepted) or why not (refused: the\n"
		"                       field, operator or syscall vigil lacks), and which\n"
		"                       are skipped (rules of another source than syscall)\n"
		"                       or disabled; then the counts\n"
		"  -o, --output FMT     text (default) or json: one object with every rule\n"
		"\n"
		"Exit status: 0 every rule of the syscall source is accepted; 1 some are\n"
		"refused (the rest would run); 2 a file does not load (its file and line\n"
		"are named) or a usage error.\n"
		"\n%s",
		program_name, cli_global_help);
}

struct vg_ruleset *cli_rules_load(char *const *files, size_t n)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_rules_error e;
	int r;

	if (!rs) {
		cli_error("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		r = vg_ruleset_load_file(rs, files[i], &e);
		if (r < 0) {
			if (e.line)
				cli_error("%s:%d: %s", e.file, e.line, e.msg);
			else
				cli_error("%s: %s", e.file[0] ? e.file : files[i],
					  e.msg[0] ? e.msg : strerror(-r));
			vg_ruleset_free(rs);
			return NULL;
		}
	}
	r = vg_ruleset_compile(rs);
	if (r < 0) {
		cli_error("compiling the rules: %s", strerror(-r));
		vg_ruleset_free(rs);
		return NULL;
	}
	return rs;
}

static const char *status_name(const struct vg_rule *r)
{
	switch (r->status) {
	case VG_RULE_ACCEPTED: return "accepted";
	case VG_RULE_REFUSED: return "refused";
	case VG_RULE_SKIPPED: return "skipped";
	}
	return "?";
}

static int check(char *const *files, size_t n)
{
	struct vg_ruleset *rs = cli_rules_load(files, n);
	struct vg_printer *p;
	size_t acc = 0, ref = 0, skip = 0, dis = 0;
	const char *notes;
	int r;

	if (!rs)
		return EXIT_USAGE;
	if (!(p = vg_printer_new(cli.output))) {
		vg_ruleset_free(rs);
		return EXIT_PARTIAL;
	}
	vg_pr_begin(p);
	vg_pr_arr_open(p, "rules");
	for (size_t i = 0; i < vg_ruleset_count(rs); i++) {
		const struct vg_rule *rule = vg_ruleset_rule(rs, i);

		acc += rule->status == VG_RULE_ACCEPTED;
		ref += rule->status == VG_RULE_REFUSED;
		skip += rule->status == VG_RULE_SKIPPED;
		dis += !rule->enabled;
		vg_pr_obj_open(p, NULL);
		vg_pr_str(p, "rule", NULL, rule->name);
		vg_pr_str(p, "file", NULL, rule->file);
		vg_pr_i64(p, "line", NULL, rule->line);
		vg_pr_str(p, "status", NULL, status_name(rule));
		if (rule->why)
			vg_pr_str(p, "reason", NULL, rule->why);
		vg_pr_bool(p, "enabled", NULL, rule->enabled);
		vg_pr_str(p, "priority", NULL, vg_rule_priority_name(rule->priority));
		vg_pr_str(p, "source", NULL, rule->source);
		if (rule->output_note)
			vg_pr_str(p, "output_note", NULL, rule->output_note);
		vg_pr_obj_close(p);
		vg_pr_text(p, "%s:%d: %s: %s%s%s%s\n", rule->file, rule->line, rule->name,
			   status_name(rule), rule->why ? ": " : "",
			   rule->why ? rule->why : "", rule->enabled ? "" : " (disabled)");
	}
	vg_pr_arr_close(p);
	notes = vg_ruleset_notes(rs);
	vg_pr_arr_open(p, "notes");
	for (const char *s = notes, *nl; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			break;
		char *line = strndup(s, (size_t)(nl - s));

		if (line) {
			vg_pr_str(p, NULL, NULL, line);
			vg_pr_text(p, "note: %s\n", line);
		}
		free(line);
	}
	vg_pr_arr_close(p);
	vg_pr_u64(p, "total", NULL, vg_ruleset_count(rs));
	vg_pr_u64(p, "accepted", NULL, acc);
	vg_pr_u64(p, "refused", NULL, ref);
	vg_pr_u64(p, "skipped", NULL, skip);
	vg_pr_u64(p, "disabled", NULL, dis);
	vg_pr_text(p, "%zu rules: %zu accepted, %zu refused, %zu skipped (other "
		   "sources); %zu disabled\n", vg_ruleset_count(rs), acc, ref, skip, dis);
	r = vg_pr_end(p, stdout);
	vg_printer_free(p);
	vg_ruleset_free(rs);
	if (r < 0)
		return EXIT_PARTIAL;
	return ref ? EXIT_PARTIAL : EXIT_OK;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cmd_rules_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s rules --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("rules", "a subcommand: check FILE...");
	if (strcmp(argv[optind], "check") != 0)
		return cli_usage_error("rules", "unknown subcommand '%s'; known: check",
				       argv[optind]);
	optind++;
	if (optind >= argc)
		return cli_usage_error("rules", "check takes one or more rule files");
	return check(argv + optind, (size_t)(argc - optind));
}
