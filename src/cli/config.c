/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file: see config.h. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "cli.h"
#include "config.h"
#include "render/escape.h"

/* The sections there are; a file serves both commands. */
static const char *const sections[] = { "daemon", "server" };
/* Options that say how to read the file, or do not run anything. */
static const char *const not_in_file[] = { "help", "config", "check-config" };

static __thread char where_buf[512];
static __thread bool where_set;

const char *cli_conf_location(void)
{
	return where_set ? where_buf : NULL;
}

static void where(const char *path, unsigned line)
{
	if (!path) {
		where_set = false;
		return;
	}
	if (line)
		snprintf(where_buf, sizeof(where_buf), "%s:%u", path, line);
	else
		snprintf(where_buf, sizeof(where_buf), "%s", path);
	where_set = true;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; list && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool repeatable(const struct cli_conf_cmd *cmd, const struct option *o)
{
	for (const char *const *r = cmd->repeatable; r && *r; r++)
		if (strcmp(*r, o->name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ argv */

int cli_conf_argv_parse(const struct cli_conf_cmd *cmd, int argc, char **argv,
			struct cli_conf_argv *ret)
{
	int c, idx;

	*ret = (struct cli_conf_argv){ 0 };
	ret->v = calloc((size_t)argc + 1, sizeof(*ret->v));
	if (!ret->v) {
		cli_error("out of memory");
		return EXIT_USAGE;
	}
	/* every option, by its table entry: short ones are found by val */
	while ((idx = -1, c = getopt_long(argc, argv, cmd->shortopts, cmd->opts,
					  &idx)) != -1) {
		const struct option *o = NULL;

		if (c == '?') {
			fprintf(stderr, "Try '%s %s --help'.\n", program_name,
				cmd->name);
			return EXIT_USAGE;
		}
		if (idx >= 0)
			o = &cmd->opts[idx];
		for (size_t i = 0; !o && cmd->opts[i].name; i++)
			if (cmd->opts[i].val == c && !cmd->opts[i].flag)
				o = &cmd->opts[i];
		if (!o)
			continue; /* cannot be: getopt knows only the table */
		if (strcmp(o->name, "help") == 0)
			ret->help = true;
		else if (strcmp(o->name, "config") == 0)
			ret->config = optarg;
		else if (strcmp(o->name, "check-config") == 0)
			ret->check = true;
		else
			ret->v[ret->n++] = (struct cli_conf_arg){ o, optarg };
	}
	if (optind < argc && !ret->help)
		return cli_usage_error(cmd->name, "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

void cli_conf_argv_release(struct cli_conf_argv *a)
{
	if (!a)
		return;
	free(a->v);
	*a = (struct cli_conf_argv){ 0 };
}

const char *cli_conf_path(const struct cli_conf_argv *a)
{
	const char *env = getenv("VIGIL_CONFIG");

	if (a->config)
		return a->config;
	return env && *env ? env : CLI_CONFIG_DEFAULT;
}

/* ------------------------------------------------------------ the file */

struct parse {
	const struct cli_conf_cmd *cmd;
	struct cli_conf_file *f;
	const char *p, *end;
	unsigned line;
	unsigned errors;
	bool oom;
	char last_section[64]; /* an unknown one, said once */
	unsigned *set_line;    /* per option: where it was set, 0 if not */
};

static void perr(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void perr(struct parse *ps, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(ps->f->path, ps->line);
	cli_usage_error(ps->cmd->name, "%s", msg);
	where(NULL, 0);
	ps->errors++;
}

/* What is left of a line once a ';' comment after a blank is gone:
 * libinih's rule, so that the syntax check below agrees with it. */
static size_t uncommented(const char *s, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (s[i] == ';' && (s[i - 1] == ' ' || s[i - 1] == '\t'))
			return i;
	return len;
}

/*
 * libinih's reader: one line at a time, which counts lines for the
 * messages and checks what libinih would take as it comes. Leading blanks
 * go (no line continues the one before: an indented key is a key), and a
 * line that is too long, not UTF-8 text, or neither a key, a section nor
 * a comment is reported here and handed on empty.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *s, *nl;
	size_t len, body;

	if (ps->p >= ps->end || num < 3)
		return NULL;
	s = ps->p;
	nl = memchr(s, '\n', (size_t)(ps->end - s));
	len = nl ? (size_t)(nl - s) : (size_t)(ps->end - s);
	ps->p = nl ? nl + 1 : ps->end;
	ps->line++;
	if (ps->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, len -= 3; /* a byte order mark */
	if (len && s[len - 1] == '\r')
		len--;
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	str[0] = '\n';
	str[1] = '\0';

	if (len > CLI_CONFIG_LINE_MAX || len + 2 > (size_t)num) {
		perr(ps, "line longer than %d bytes", CLI_CONFIG_LINE_MAX);
		return str;
	}
	for (size_t i = 0; i < len;) {
		size_t n = vg_utf8_seq((const unsigned char *)s + i, len - i);

		if (!n || ((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			perr(ps, "not UTF-8 text (a control character or an invalid "
				 "byte at column %zu)", i + 1);
			return str;
		}
		i += n;
	}
	body = uncommented(s, len);
	if (len && *s != ';' && *s != '#') {
		bool ok = *s == '[' ? memchr(s, ']', body) != NULL
				    : memchr(s, '=', body) || memchr(s, ':', body);

		if (!ok) {
			perr(ps, "expected 'key = value', a [section] or a comment");
			return str;
		}
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static bool bool_word(const char *v, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < VG_ARRAY_SIZE(yes); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*ret = true;
			return true;
		}
		if (strcmp(v, no[i]) == 0) {
			*ret = false;
			return true;
		}
	}
	return false;
}

/* A key of "[export NAME]": kept as said, checked by the command. */
static int on_named(struct parse *ps, const char *sname, const char *key,
		    const char *value)
{
	struct cli_conf_file *f = ps->f;
	struct cli_conf_named *n;

	while (*sname == ' ')
		sname++;
	if (!*value) {
		perr(ps, "'%s' needs a value", key);
		return 1;
	}
	if (f->n_named == f->cap_named) {
		size_t cap = f->cap_named ? f->cap_named * 2 : 16;

		n = realloc(f->named, cap * sizeof(*n));
		if (!n) {
			ps->oom = true;
			return 0;
		}
		f->named = n;
		f->cap_named = cap;
	}
	n = &f->named[f->n_named];
	*n = (struct cli_conf_named){ strdup(sname), strdup(key), strdup(value),
				      ps->line };
	if (!n->name || !n->key || !n->value) {
		free(n->name);
		free(n->key);
		free(n->value);
		ps->oom = true;
		return 0;
	}
	f->n_named++;
	return 1;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse *ps = user;
	const struct cli_conf_cmd *cmd = ps->cmd;
	const struct option *o = NULL;
	size_t k = 0;
	bool b;

	if (!*section) {
		perr(ps, "'%s' is outside a section: put it under [%s]", name,
		     cmd->name);
		return 1;
	}
	const char *sp = strchr(section, ' ');

	if (sp && (size_t)(sp - section) == strlen("export") &&
	    strncmp(section, "export", 6) == 0) {
		/* [export NAME]: the daemon's */
		if (!cmd->named_section || strcmp(cmd->named_section, "export") != 0)
			return 1;
		return on_named(ps, sp + 1, name, value);
	}
	if (!in_list(sections, VG_ARRAY_SIZE(sections), section)) {
		if (strcmp(ps->last_section, section) != 0) {
			snprintf(ps->last_section, sizeof(ps->last_section), "%s",
				 section);
			perr(ps, "unknown section [%s] (there are [daemon], "
				 "[export NAME] and [server])", section);
		}
		return 1;
	}
	if (strcmp(section, cmd->name) != 0)
		return 1; /* the other command's */

	for (; cmd->opts[k].name; k++)
		if (strcmp(cmd->opts[k].name, name) == 0) {
			o = &cmd->opts[k];
			break;
		}
	if (!o) {
		const char *best = NULL;
		size_t best_d = 3;

		for (size_t i = 0; cmd->opts[i].name; i++) {
			size_t d = vg_edit_distance(name, cmd->opts[i].name);

			if (d < best_d && !in_list(not_in_file,
						   VG_ARRAY_SIZE(not_in_file),
						   cmd->opts[i].name)) {
				best_d = d;
				best = cmd->opts[i].name;
			}
		}
		if (best)
			perr(ps, "unknown key '%s' in [%s]; did you mean '%s'?",
			     name, section, best);
		else
			perr(ps, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	if (in_list(not_in_file, VG_ARRAY_SIZE(not_in_file), name)) {
		perr(ps, "'%s' cannot be set in a config file", name);
		return 1;
	}
	if (ps->set_line[k] && !repeatable(cmd, o)) {
		perr(ps, "'%s' is set already, on line %u", name, ps->set_line[k]);
		return 1;
	}
	if (o->has_arg == no_argument) {
		if (!bool_word(value, &b)) {
			perr(ps, "'%s' takes true or false, not '%s'", name, value);
			return 1;
		}
		value = b ? "true" : "false";
	} else if (!*value) {
		perr(ps, "'%s' needs a value", name);
		return 1;
	}
	ps->set_line[k] = ps->line;

	if (ps->f->n == ps->f->cap) {
		size_t cap = ps->f->cap ? ps->f->cap * 2 : 16;
		struct cli_conf_entry *e = realloc(ps->f->e, cap * sizeof(*e));

		if (!e) {
			ps->oom = true;
			return 0;
		}
		ps->f->e = e;
		ps->f->cap = cap;
	}
	char *v = strdup(value);

	if (!v) {
		ps->oom = true;
		return 0;
	}
	ps->f->e[ps->f->n++] = (struct cli_conf_entry){ o, v, ps->line };
	return 1;
}

void cli_conf_file_free(struct cli_conf_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->e[i].value);
	free(f->e);
	for (size_t i = 0; i < f->n_named; i++) {
		free(f->named[i].name);
		free(f->named[i].key);
		free(f->named[i].value);
	}
	free(f->named);
	free(f->path);
	free(f);
}

int cli_conf_parse(const struct cli_conf_cmd *cmd, const char *path,
		   const char *text, size_t len, struct cli_conf_file **ret)
{
	struct parse ps = { .cmd = cmd, .p = text, .end = text + len };
	size_t n_opts = 0;
	const char *nul;
	int r;

	ps.f = calloc(1, sizeof(*ps.f));
	if (!ps.f || !(ps.f->path = strdup(path))) {
		free(ps.f);
		cli_error("out of memory");
		return EXIT_USAGE;
	}
	while (cmd->opts[n_opts].name)
		n_opts++;
	ps.set_line = calloc(n_opts + 1, sizeof(*ps.set_line));
	if (!ps.set_line) {
		cli_conf_file_free(ps.f);
		cli_error("out of memory");
		return EXIT_USAGE;
	}
	/* the reader works on lines: a NUL would end one early, unseen */
	nul = memchr(text, '\0', len);
	if (nul) {
		ps.line = 1;
		for (const char *q = text; q < nul; q++)
			ps.line += *q == '\n';
		perr(&ps, "a NUL byte: not a text file");
	} else {
		r = ini_parse_stream(read_line, &ps, on_key, &ps);
		if (ps.oom) {
			ps.line = 0;
			perr(&ps, "out of memory");
		} else if (r > 0 && !ps.errors) {
			/* what the reader let by and libinih did not take */
			ps.line = (unsigned)r;
			perr(&ps, "not understood");
		} else if (r < 0 && !ps.errors) {
			ps.line = 0;
			perr(&ps, "cannot be parsed (%d)", r);
		}
	}
	free(ps.set_line);
	*ret = ps.f;
	return ps.errors ? EXIT_USAGE : 0;
}

int cli_conf_read(const struct cli_conf_cmd *cmd, const struct cli_conf_argv *a,
		  struct cli_conf_file **ret)
{
	const char *path = cli_conf_path(a);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	bool cut = false;
	int r;

	*ret = NULL;
	/* O_NONBLOCK: a FIFO there must not hang the start */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && !a->config)
		return 0; /* no file: the defaults */
	if (fd < 0 || fstat(fd, &st) < 0) {
		cli_usage_error(cmd->name, "config file %s: %s", path,
				strerror(errno));
		return EXIT_USAGE;
	}
	if (!S_ISREG(st.st_mode)) {
		cli_usage_error(cmd->name, "config file %s: not a regular file",
				path);
		return EXIT_USAGE;
	}
	/* st_size is a hint; the read itself is bounded */
	if (st.st_size > CLI_CONFIG_MAX ||
	    (r = vg_read_fd(fd, CLI_CONFIG_MAX, &buf, &len, &cut)) < 0 || cut) {
		if (st.st_size > CLI_CONFIG_MAX || cut)
			cli_usage_error(cmd->name, "config file %s: larger than "
					"%u bytes", path, CLI_CONFIG_MAX);
		else
			cli_usage_error(cmd->name, "config file %s: %s", path,
					strerror(-r));
		return EXIT_USAGE;
	}
	return cli_conf_parse(cmd, path, buf, len, ret);
}

/* ------------------------------------------------------------ applying */

static bool argv_has(const struct cli_conf_argv *a, const struct option *o)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].opt == o)
			return true;
	return false;
}

int cli_conf_apply(const struct cli_conf_cmd *cmd, const struct cli_conf_file *f,
		   const struct cli_conf_argv *a, void *state)
{
	unsigned errors = 0;

	for (size_t i = 0; f && i < f->n; i++) {
		const struct cli_conf_entry *e = &f->e[i];
		bool flag = e->opt->has_arg == no_argument;

		if (flag && strcmp(e->value, "true") != 0)
			continue; /* false: as if not given */
		where(f->path, e->line);
		if (cmd->apply(state, e->opt->val, flag ? NULL : e->value))
			errors++;
		where(NULL, 0);
	}
	for (size_t i = 0; a && i < a->n; i++) {
		const struct option *o = a->v[i].opt;
		bool first = true;

		for (size_t j = 0; j < i; j++)
			first &= a->v[j].opt != o;
		/* the command line's list, not the file's and more */
		if (first && f && repeatable(cmd, o) && cmd->reset)
			cmd->reset(state, o->val);
		if (cmd->apply(state, o->val, a->v[i].arg))
			errors++;
	}
	return errors ? EXIT_USAGE : 0;
}

static bool same_values(const struct cli_conf_file *x, const struct cli_conf_file *y,
			const struct option *o)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (x && i < x->n && x->e[i].opt != o)
			i++;
		while (y && j < y->n && y->e[j].opt != o)
			j++;
		bool xe = !x || i >= x->n, ye = !y || j >= y->n;

		if (xe || ye)
			return xe && ye;
		if (strcmp(x->e[i].value, y->e[j].value) != 0)
			return false;
		i++;
		j++;
	}
}

void cli_conf_diff(const struct cli_conf_cmd *cmd, const struct cli_conf_file *old,
		   const struct cli_conf_file *new, const struct cli_conf_argv *a,
		   void (*fn)(void *u, const char *key), void *u)
{
	for (size_t k = 0; cmd->opts[k].name; k++) {
		const struct option *o = &cmd->opts[k];

		if (!argv_has(a, o) && !same_values(old, new, o))
			fn(u, o->name);
	}
}
