/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil containers: every running container, all runtimes together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/snapshot.h"
#include "cli.h"
#include "render/escape.h"
#include "render/identity.h"
#include "base/util.h"
#include "fleet/fleet.h"

void cmd_containers_help(FILE *f)
{
	fprintf(f,
		"Usage: %s containers [ID|NAME...]\n"
		"       %s containers --nats URL [--nats-creds FILE] [--nats-ca FILE]\n"
		"\n"
		"List the containers running on the host, all runtimes together:\n"
		"runtime, id (short in text, full in JSON), name, image, pod\n"
		"(namespace/name), init pid, number of processes and cgroup id.\n"
		"A container is found by its processes' cgroups; its details come\n"
		"from its runtime's state. Name containers to show only those:\n"
		"a full id, a unique id prefix, or a name.\n"
		"\n"
		"  --nats URL         every node's containers instead, as their vigil\n"
		"                     daemons keep them in NATS JetStream (a nats\n"
		"                     export), with each one's node\n"
		"  --nats-creds FILE  a NATS credentials file\n"
		"  --nats-ca FILE     the CA that signed the NATS servers' certificates\n"
		"\n%s",
		program_name, program_name, cli_global_help);
}

static void print_container_json(struct vg_printer *p,
				 const struct vg_snap_ctr *c)
{
	const struct vg_cgroup_match *m = &c->first->attr;

	vg_pr_begin(p);
	vg_pr_obj_open(p, "container");
	vg_pr_str(p, "id", NULL, m->container_id);
	vg_pr_str(p, "runtime", NULL, vg_runtime_name(m->runtime));
	if (m->ctr_namespace[0])
		vg_pr_str(p, "namespace", NULL, m->ctr_namespace);
	if (c->meta)
		vg_print_claim(p, c->meta);
	if (m->nested_in[0]) {
		vg_pr_obj_open(p, "nested_in");
		vg_pr_str(p, "id", NULL, m->nested_in);
		vg_pr_str(p, "runtime", NULL, vg_runtime_name(m->nested_runtime));
		vg_pr_obj_close(p);
	}
	vg_pr_obj_close(p);
	vg_print_k8s(p, c->pod, m->pod_qos);
	vg_pr_obj_open(p, "proc");
	vg_pr_u64(p, "count", NULL, c->n_procs);
	if (c->init_pid)
		vg_pr_i64(p, "init_pid", NULL, c->init_pid);
	else
		vg_pr_null(p, "init_pid", NULL);
	vg_pr_obj_close(p);
	vg_pr_obj_open(p, "cgroup");
	if (c->cgroup_id)
		vg_pr_u64(p, "id", NULL, c->cgroup_id);
	else
		vg_pr_null(p, "id", NULL);
	vg_pr_str(p, "path", NULL, c->cgroup_path);
	vg_pr_obj_close(p);
}

/* Text: one row; a missing value is "-". */
static void text_row(const struct vg_snap_ctr *c)
{
	const struct vg_cgroup_match *m = &c->first->attr;
	const struct vg_container_meta *meta = c->meta ? &c->meta->meta : NULL;
	char pod[1100] = "-", cgid[24] = "-", ns[512], name[512], v1[1024], v2[1024];

	/* what runtimes and pods are named is anyone's: as text values */
	if (c->pod && (c->pod->ns || c->pod->name))
		snprintf(pod, sizeof(pod), "%s/%s%s",
			 vg_text_value_buf(ns, sizeof(ns), c->pod->ns ? c->pod->ns : "?", '/'),
			 vg_text_value_buf(name, sizeof(name),
					   c->pod->name ? c->pod->name : "?", '/'),
			 c->pod->verified ? "" : "*");
	else if (c->pod && c->pod->uid)
		snprintf(pod, sizeof(pod), "uid:%s",
			 vg_text_value_buf(name, sizeof(name), c->pod->uid, 0));
	if (c->cgroup_id)
		snprintf(cgid, sizeof(cgid), "%llu",
			 (unsigned long long)c->cgroup_id);
	printf("%-10s %-12.12s %-24s %-32s %-28s %7d %5zu %s\n",
	       vg_runtime_name(m->runtime), m->container_id,
	       meta && meta->name ? vg_text_value_buf(v1, sizeof(v1), meta->name, 0) : "-",
	       meta && meta->image ? vg_text_value_buf(v2, sizeof(v2), meta->image, 0) : "-",
	       pod, c->init_pid, c->n_procs, cgid);
}

/* vigil containers --nats: the fleet's, from the nodes' bucket. */
static int fleet_containers(const struct vg_fleet_conn_opts *c)
{
	json_t *list = NULL, *o;
	char err[512] = "", v1[1024], v2[1024], v3[512], pod[1100];
	size_t i;
	int r = vg_fleet_containers(c, &list, err, sizeof(err));

	if (r < 0) {
		cli_error("containers: %s", err);
		return EXIT_PARTIAL;
	}
	if (cli.output == VG_OUTPUT_TEXT)
		printf("%-20s %-10s %-12s %-24s %-32s %-28s %7s\n", "NODE", "RUNTIME",
		       "ID", "NAME", "IMAGE", "POD", "INIT");
	json_array_foreach(list, i, o) {
		if (cli.output == VG_OUTPUT_JSON) {
			json_object_del(o, "key");
			char *line = json_dumps(o, JSON_COMPACT);
			if (line)
				puts(line);
			free(line);
			continue;
		}
		const char *node = json_string_value(json_object_get(o, "node"));
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *image = json_string_value(json_object_get(o, "image"));
		const json_t *p = json_object_get(o, "pod");
		const char *pns = json_string_value(json_object_get(p, "namespace"));
		const char *pname = json_string_value(json_object_get(p, "name"));
		json_int_t init = json_integer_value(json_object_get(o, "init_pid"));

		/* what nodes, runtimes and pods are named is anyone's */
		snprintf(pod, sizeof(pod), "-");
		if (pns || pname) {
			char a[512], b[512];
			snprintf(pod, sizeof(pod), "%s/%s",
				 vg_text_value_buf(a, sizeof(a), pns ? pns : "?", '/'),
				 vg_text_value_buf(b, sizeof(b), pname ? pname : "?", '/'));
		}
		printf("%-20s %-10s %-12.12s %-24s %-32s %-28s %7lld\n",
		       node ? vg_text_value_buf(v3, sizeof(v3), node, 0) : "-",
		       json_string_value(json_object_get(o, "runtime")) ?: "-",
		       json_string_value(json_object_get(o, "id")) ?: "-",
		       name ? vg_text_value_buf(v1, sizeof(v1), name, 0) : "-",
		       image ? vg_text_value_buf(v2, sizeof(v2), image, 0) : "-",
		       pod, (long long)init);
	}
	json_decref(list);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_PARTIAL;
}

int cmd_containers(int argc, char **argv)
{
	enum { OPT_NATS = 1000, OPT_NATS_CREDS, OPT_NATS_CA };
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "nats", required_argument, NULL, OPT_NATS },
		{ "nats-creds", required_argument, NULL, OPT_NATS_CREDS },
		{ "nats-ca", required_argument, NULL, OPT_NATS_CA },
		{ 0 },
	};
	struct vg_fleet_conn_opts fleet = { 0 };
	struct vg_snapshot s;
	struct vigil_ctx *ctx;
	struct vg_printer *p;
	bool *show = NULL, failed = false, any_unverified = false;
	int c, r;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			cmd_containers_help(stdout);
			return EXIT_OK;
		case OPT_NATS:
			fleet.urls = optarg;
			break;
		case OPT_NATS_CREDS:
			fleet.creds = optarg;
			break;
		case OPT_NATS_CA:
			fleet.tls_ca = optarg;
			break;
		case '?':
			fprintf(stderr, "Try '%s containers --help'.\n",
				program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (fleet.urls) {
		if (optind < argc)
			return cli_usage_error("containers", "--nats lists every container");
		return fleet_containers(&fleet);
	}
	if (fleet.creds || fleet.tls_ca)
		return cli_usage_error("containers", "--nats-creds and --nats-ca are for --nats");
	r = cli_snapshot(&ctx, &s);
	if (r)
		return r;
	p = vg_printer_new(cli.output);
	show = calloc(s.n_ctrs + 1, sizeof(*show));
	if (!p || !show) {
		cli_error("out of memory");
		failed = true;
		goto out;
	}
	for (size_t k = 0; k < s.n_ctrs; k++)
		show[k] = optind >= argc;
	for (int i = optind; i < argc; i++) {
		int k = cli_find_container(&s, argv[i]);

		if (k >= 0)
			show[k] = true;
		else
			failed = true;
	}
	if (cli.output == VG_OUTPUT_TEXT)
		printf("%-10s %-12s %-24s %-32s %-28s %7s %5s %s\n", "RUNTIME",
		       "ID", "NAME", "IMAGE", "POD", "INIT", "PROCS",
		       "CGROUP-ID");
	for (size_t k = 0; k < s.n_ctrs; k++) {
		if (!show[k])
			continue;
		if (cli.output == VG_OUTPUT_TEXT) {
			text_row(&s.ctrs[k]);
			if (s.ctrs[k].pod && s.ctrs[k].pod->name &&
			    !s.ctrs[k].pod->verified)
				any_unverified = true;
		} else {
			print_container_json(p, &s.ctrs[k]);
			if (vg_pr_end(p, stdout) < 0) {
				failed = true;
				break;
			}
		}
	}
	if (any_unverified)
		printf("\n* pod named by runtime labels only, not confirmed by a kubelet\n");
out:
	free(show);
	vg_printer_free(p);
	vg_snapshot_release(&s);
	vigil_ctx_free(ctx);
	if (fflush(stdout) != 0)
		failed = true;
	return failed ? EXIT_PARTIAL : EXIT_OK;
}
