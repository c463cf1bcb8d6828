/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil tree: the process tree, with each container's processes grouped
 * under a container node wherever a process's container differs from its
 * parent's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/snapshot.h"
#include "cli.h"
#include "render/escape.h"
#include "render/identity.h"
#include "base/util.h"

/* Deeper chains are drawn flat at this depth: a fork chain can be as long
 * as pid_max, and neither a terminal nor a JSON reader wants that. */
#define TREE_DEPTH_MAX 100

void cmd_tree_help(FILE *f)
{
	fprintf(f,
		"Usage: %s tree [--container ID|NAME]\n"
		"\n"
		"Show the process tree, like pstree, with each container's\n"
		"processes under a container node (runtime, name, image, pod).\n"
		"JSON output is one nested tree per root process (or per\n"
		"container with --container).\n"
		"\n"
		"  -c, --container REF  only this container's processes: a full id,\n"
		"                       a unique id prefix, or a name\n"
		"\n%s",
		program_name, cli_global_help);
}

struct tree {
	const struct vg_snapshot *s;
	struct vg_printer *p;
	char prefix[TREE_DEPTH_MAX * 4 + 8];
};

/* argv as text fields: each element bare or quoted, as vigil watch
 * shows it, so that no element can pass for two or hide text. */
static const char *proc_args(const struct vigil_identity *id, char *buf,
			     size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < id->proc.argc && o + 2 < bufsz; i++) {
		if (i)
			buf[o++] = ' ';
		vg_text_value_buf(buf + o, bufsz - o, id->proc.argv[i], 0);
		o += strlen(buf + o);
	}
	return buf;
}

static void text_line(struct tree *t, const char *branch, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
static void text_line(struct tree *t, const char *branch, const char *fmt, ...)
{
	va_list ap;

	fputs(t->prefix, stdout);
	fputs(branch, stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void json_proc(struct vg_printer *p, const struct vigil_identity *id)
{
	vg_pr_i64(p, "pid", NULL, id->proc.pid);
	vg_pr_i64(p, "ppid", NULL, id->proc.ppid);
	vg_pr_str(p, "name", NULL, id->proc.comm);
	vg_pr_str_array(p, "args", NULL, id->proc.argv, id->proc.argc);
	vg_pr_u64(p, "uid", NULL, id->proc.uid);
	vg_pr_str(p, "exec_id", NULL, id->exec_id);
}

static void json_ctr(struct vg_printer *p, const struct vg_snap_ctr *c)
{
	const struct vg_cgroup_match *m = &c->first->attr;
	const struct vg_container_meta *meta = c->meta ? &c->meta->meta : NULL;

	vg_pr_obj_open(p, "container");
	vg_pr_str(p, "id", NULL, m->container_id);
	vg_pr_str(p, "runtime", NULL, vg_runtime_name(m->runtime));
	vg_pr_str(p, "name", NULL, meta ? meta->name : NULL);
	vg_pr_str(p, "image", NULL, meta ? meta->image : NULL);
	vg_pr_obj_close(p);
	vg_print_k8s(p, c->pod, m->pod_qos);
}

static void ctr_text(const struct vg_snap_ctr *c, char *buf, size_t bufsz)
{
	const struct vg_cgroup_match *m = &c->first->attr;
	const struct vg_container_meta *meta = c->meta ? &c->meta->meta : NULL;
	char v1[1024], v2[1024];
	int n = snprintf(buf, bufsz, "[%s %.12s", vg_runtime_name(m->runtime),
			 m->container_id);

	if (n > 0 && (size_t)n < bufsz && meta && meta->name)
		n += snprintf(buf + n, bufsz - (size_t)n, " %s",
			      vg_text_value_buf(v1, sizeof(v1), meta->name, 0));
	if (n > 0 && (size_t)n < bufsz && meta && meta->image)
		n += snprintf(buf + n, bufsz - (size_t)n, " image=%s",
			      vg_text_value_buf(v1, sizeof(v1), meta->image, 0));
	if (n > 0 && (size_t)n < bufsz && c->pod && c->pod->name)
		n += snprintf(buf + n, bufsz - (size_t)n, " pod=%s/%s%s",
			      vg_text_value_buf(v1, sizeof(v1),
						c->pod->ns ? c->pod->ns : "?", '/'),
			      vg_text_value_buf(v2, sizeof(v2), c->pod->name, '/'),
			      c->pod->verified ? "" : " (labels)");
	if (n > 0 && (size_t)n < bufsz)
		snprintf(buf + n, bufsz - (size_t)n, "]");
}

static void show_proc(struct tree *t, size_t i, int depth, bool last);

/*
 * The children of process @i at @depth: those in the same container as
 * @i directly, the others grouped under one node per container, in order
 * of their first process.
 */
static void show_children(struct tree *t, size_t i, int depth)
{
	const struct vg_snap_proc *pr = &t->s->procs[i];
	const struct vg_snap_ctr *mine = pr->ctr;
	size_t n = pr->n_children, n_own = 0, n_groups = 0, g = 0;

	/* Output order: one node per other container (host included), in
	 * order of its first process, then the children in our own. */
	for (size_t a = 0; a < n; a++) {
		const struct vg_snap_ctr *ca = t->s->procs[pr->children[a]].ctr;
		bool seen = false;

		if (ca == mine) {
			n_own++;
			continue;
		}
		for (size_t b = 0; b < a && !seen; b++)
			seen = t->s->procs[pr->children[b]].ctr == ca;
		n_groups += !seen;
	}
	for (size_t a = 0; a < n; a++) {
		const struct vg_snap_ctr *ca = t->s->procs[pr->children[a]].ctr;
		bool seen = false, group_last;
		size_t last_in = 0, plen = strlen(t->prefix);

		if (ca == mine)
			continue;
		for (size_t b = 0; b < a && !seen; b++)
			seen = t->s->procs[pr->children[b]].ctr == ca;
		if (seen)
			continue;
		group_last = ++g == n_groups && n_own == 0;
		for (size_t b = a; b < n; b++)
			if (t->s->procs[pr->children[b]].ctr == ca)
				last_in = b;

		if (cli.output == VG_OUTPUT_JSON) {
			vg_pr_obj_open(t->p, NULL);
			if (ca)
				json_ctr(t->p, ca);
			else
				vg_pr_str(t->p, "host", NULL, "host");
			vg_pr_arr_open(t->p, "children");
		} else {
			char label[512];

			if (ca)
				ctr_text(ca, label, sizeof(label));
			else
				snprintf(label, sizeof(label), "[host]");
			text_line(t, group_last ? "└─ " : "├─ ", "%s", label);
			if (depth < TREE_DEPTH_MAX)
				strcat(t->prefix, group_last ? "   " : "│  ");
		}
		for (size_t b = a; b < n; b++)
			if (t->s->procs[pr->children[b]].ctr == ca)
				show_proc(t, pr->children[b], depth + 1,
					  b == last_in);
		if (cli.output == VG_OUTPUT_JSON) {
			vg_pr_arr_close(t->p);
			vg_pr_obj_close(t->p);
		}
		t->prefix[plen] = '\0';
	}
	for (size_t b = 0, k = 0; b < n; b++)
		if (t->s->procs[pr->children[b]].ctr == mine)
			show_proc(t, pr->children[b], depth, ++k == n_own);
}

static void show_proc(struct tree *t, size_t i, int depth, bool last)
{
	const struct vigil_identity *id = t->s->procs[i].id;
	size_t plen = strlen(t->prefix);

	if (cli.output == VG_OUTPUT_JSON) {
		vg_pr_obj_open(t->p, NULL);
		json_proc(t->p, id);
		if (t->s->procs[i].n_children && depth >= TREE_DEPTH_MAX)
			vg_pr_bool(t->p, "children_flattened", NULL, true);
		if (depth < TREE_DEPTH_MAX)
			vg_pr_arr_open(t->p, "children");
	} else {
		char args[1024], comm[80];

		text_line(t, depth == 0 && plen == 0 ? "" : last ? "└─ " : "├─ ",
			  "%d %s", id->proc.pid, proc_args(id, args, sizeof(args))[0]
			  ? args : vg_text_value_buf(comm, sizeof(comm), id->proc.comm, 0));
		if (depth < TREE_DEPTH_MAX && !(depth == 0 && plen == 0))
			strcat(t->prefix, last ? "   " : "│  ");
	}
	if (depth < TREE_DEPTH_MAX) {
		show_children(t, i, depth + 1);
	} else if (cli.output == VG_OUTPUT_JSON) {
		/* too deep: close this node, the descendants follow flat */
		vg_pr_obj_close(t->p);
		show_children(t, i, depth);
		t->prefix[plen] = '\0';
		return;
	} else {
		show_children(t, i, depth);
	}
	if (cli.output == VG_OUTPUT_JSON) {
		vg_pr_arr_close(t->p);
		vg_pr_obj_close(t->p);
	}
	t->prefix[plen] = '\0';
}

int cmd_tree(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "container", required_argument, NULL, 'c' },
		{ 0 },
	};
	const char *ref = NULL;
	struct vg_snapshot s;
	struct vigil_ctx *ctx;
	struct tree t = { 0 };
	bool failed = false;
	int c, r, want = -1;

	while ((c = getopt_long(argc, argv, "c:" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			ref = optarg;
			break;
		case 'h':
			cmd_tree_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s tree --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("tree", "unexpected argument '%s'",
				       argv[optind]);
	r = cli_snapshot(&ctx, &s);
	if (r)
		return r;
	if (ref) {
		want = cli_find_container(&s, ref);
		if (want < 0) {
			failed = true;
			goto out;
		}
	}
	t.s = &s;
	t.p = vg_printer_new(cli.output);
	if (!t.p) {
		cli_error("out of memory");
		failed = true;
		goto out;
	}
	for (size_t i = 0; i < s.n_procs; i++) {
		const struct vg_snap_proc *pr = &s.procs[i];
		bool root;

		if (want >= 0) {
			/* the container's top processes: parent elsewhere */
			root = pr->ctr == &s.ctrs[want] &&
			       (pr->parent == SIZE_MAX ||
				s.procs[pr->parent].ctr != pr->ctr);
		} else {
			root = pr->parent == SIZE_MAX;
		}
		if (!root)
			continue;
		if (cli.output == VG_OUTPUT_JSON) {
			vg_pr_begin(t.p);
			if (want >= 0) {
				json_ctr(t.p, pr->ctr);
				vg_pr_arr_open(t.p, "children");
				show_proc(&t, i, 1, true);
				vg_pr_arr_close(t.p);
			} else if (pr->ctr) {
				/* a root inside a container (its parent is out
				 * of sight): under its container's node too */
				json_ctr(t.p, pr->ctr);
				vg_pr_arr_open(t.p, "children");
				show_proc(&t, i, 1, true);
				vg_pr_arr_close(t.p);
			} else {
				json_proc(t.p, pr->id);
				vg_pr_arr_open(t.p, "children");
				show_children(&t, i, 1);
				vg_pr_arr_close(t.p);
			}
			if (vg_pr_end(t.p, stdout) < 0) {
				failed = true;
				break;
			}
		} else {
			if (want >= 0 || pr->ctr) {
				char label[512];

				ctr_text(pr->ctr, label, sizeof(label));
				puts(label);
				show_proc(&t, i, 1, true);
			} else {
				show_proc(&t, i, 0, true);
			}
		}
	}
out:
	vg_printer_free(t.p);
	vg_snapshot_release(&s);
	vigil_ctx_free(ctx);
	if (fflush(stdout) != 0)
		failed = true;
	return failed ? EXIT_PARTIAL : EXIT_OK;
}
