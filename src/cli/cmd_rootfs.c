/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil rootfs: where the host sees a container's root filesystem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/snapshot.h"
#include "cli.h"
#include "fs/rootfs.h"
#include "render/escape.h"
#include "base/util.h"

void cmd_rootfs_help(FILE *f)
{
	fprintf(f,
		"Usage: %s rootfs [--layers] CONTAINER\n"
		"\n"
		"Print where the host sees the container's root filesystem (its\n"
		"merged overlay), so its files can be read from the host.\n"
		"CONTAINER is a full id, a unique id prefix or a name. The answer\n"
		"comes from the kernel's mount table of the container's init\n"
		"process: the mount of its root directory, and the host's mount of\n"
		"the same filesystem; when the host has none, /proc/PID/root,\n"
		"which reaches it while the container runs. Paths are host paths\n"
		"(under --host-root when one is given).\n"
		"\n"
		"  -l, --layers    also the overlay's upper, work and lower\n"
		"                  directories, one per line, labelled. They come\n"
		"                  only from a mount table the container cannot\n"
		"                  write (the host's, else its shim's or conmon's,\n"
		"                  whose root they are relative to: 'from'); vigil\n"
		"                  refuses when there is none or it disagrees\n"
		"\n%s\n"
		"Text paths escape newlines, control characters, backslashes and\n"
		"invalid UTF-8 as C does (\\n, \\\\, \\xNN). Exit status: 0 ok, 1 no\n"
		"such container or its mount table could not be read, 2 usage.\n",
		program_name, cli_global_help);
}

int cli_ctr_root_open(const char *ref, struct cli_ctr_root *ret)
{
	struct cli_ctr_root c = { 0 };
	char err[512] = "";
	int k, r;

	r = cli_snapshot(&c.ctx, &c.snap);
	if (r)
		return r;
	k = cli_find_container(&c.snap, ref);
	if (k < 0) {
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	c.ctr = &c.snap.ctrs[k];
	c.init_pid = c.ctr->init_pid;
	if (c.init_pid <= 0) {
		cli_error("container %.12s has no process to read its mounts from",
			  vg_snap_ctr_id(c.ctr));
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	r = vg_rootfs_of_pid(c.ctx, c.init_pid, &c.rf, err, sizeof(err));
	if (r < 0) {
		cli_error("container %.12s: %s", vg_snap_ctr_id(c.ctr),
			  r == -ENOMEM ? "out of memory" : err);
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	c.have_rf = true;
	*ret = c;
	return 0;
}

void cli_ctr_root_close(struct cli_ctr_root *c)
{
	if (c->have_rf)
		vg_rootfs_release(&c->rf);
	vg_snapshot_release(&c->snap);
	vigil_ctx_free(c->ctx);
	memset(c, 0, sizeof(*c));
}

const char *cli_ctr_label(const struct cli_ctr_root *c, char *buf,
			  size_t bufsz)
{
	const char *name = vg_snap_ctr_name(c->ctr), *id = vg_snap_ctr_id(c->ctr);
	bool named = *name && strcmp(name, id) != 0;

	snprintf(buf, bufsz, "%.12s%s%s%s", id, named ? " (" : "", named ? name : "",
		 named ? ")" : "");
	return buf;
}

static void text_line(const char *label, const char *path)
{
	printf("%-8s ", label);
	vg_fputs_escaped(stdout, path);
	putchar('\n');
}

int cmd_rootfs(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "layers", no_argument, NULL, 'l' },
		{ 0 },
	};
	struct cli_ctr_root c;
	struct vg_printer *p = NULL;
	bool layers = false;
	char devno[32], label[128], from[48];
	int ch, r, status = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "l" CLI_GLOBAL_SHORTOPTS, opts,
				 NULL)) != -1) {
		switch (ch) {
		case 'l':
			layers = true;
			break;
		case 'h':
			cmd_rootfs_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s rootfs --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(ch, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("rootfs", "give one container (id, id "
				       "prefix or name)");
	r = cli_ctr_root_open(argv[optind], &c);
	if (r)
		return r;
	const struct vg_rootfs *rf = &c.rf;

	if (layers && !rf->layers_verified) {
		cli_error("container %s: its layers cannot be verified: %s",
			  cli_ctr_label(&c, label, sizeof(label)),
			  rf->layers_why);
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	if (!rf->host_mount)
		cli_error("note: the host's mount table has no mount of %s's "
			  "root; %s reaches it while the container runs",
			  cli_ctr_label(&c, label, sizeof(label)), rf->merged);
	if (rf->layers_pid)
		snprintf(from, sizeof(from), "/proc/%d/root", rf->layers_pid);
	else
		snprintf(from, sizeof(from), "/");
	snprintf(devno, sizeof(devno), "%u:%u", rf->dev_major, rf->dev_minor);
	if (cli.output == VG_OUTPUT_TEXT) {
		if (!layers) {
			vg_fputs_escaped(stdout, rf->merged);
			putchar('\n');
		} else {
			text_line("merged", rf->merged);
			text_line("fstype", rf->fstype);
			text_line("device", devno);
			if (rf->overlay)
				text_line("from", from);
			if (rf->ovl.upperdir) {
				text_line("upper", rf->ovl.upperdir);
				text_line("work", rf->ovl.workdir);
			}
			for (size_t i = 0; i < rf->ovl.n_lowerdirs; i++)
				text_line("lower", rf->ovl.lowerdirs[i]);
			for (size_t i = 0; i < rf->ovl.n_datadirs; i++)
				text_line("data", rf->ovl.datadirs[i]);
			if (!rf->overlay)
				text_line("root", rf->root);
		}
	} else {
		p = vg_printer_new(VG_OUTPUT_JSON);
		if (!p) {
			cli_error("out of memory");
			cli_ctr_root_close(&c);
			return EXIT_PARTIAL;
		}
		vg_pr_begin(p);
		vg_pr_obj_open(p, "container");
		vg_pr_str(p, "id", NULL, vg_snap_ctr_id(c.ctr));
		vg_pr_str(p, "name", NULL,
			  *vg_snap_ctr_name(c.ctr) ? vg_snap_ctr_name(c.ctr) : NULL);
		vg_pr_str(p, "runtime", NULL,
			  vg_runtime_name(c.ctr->first->attr.runtime));
		vg_pr_i64(p, "init_pid", NULL, c.init_pid);
		vg_pr_obj_close(p);
		vg_pr_obj_open(p, "rootfs");
		vg_pr_str(p, "merged", NULL, rf->merged);
		vg_pr_str(p, "merged_from", NULL,
			  rf->host_mount ? "host_mount" : "proc_root");
		vg_pr_str(p, "fstype", NULL, rf->fstype);
		vg_pr_str(p, "source", NULL, rf->source);
		vg_pr_str(p, "root", NULL, rf->root);
		vg_pr_str(p, "device", NULL, devno);
		vg_pr_i64(p, "mount_id", NULL, rf->mount_id);
		vg_pr_bool(p, "layers_verified", NULL, rf->layers_verified);
		if (!rf->layers_verified)
			vg_pr_str(p, "layers_unverified", NULL, rf->layers_why);
		if (rf->overlay && rf->layers_verified) {
			vg_pr_str(p, "layers_from", NULL, from);
			vg_pr_str(p, "upperdir", NULL, rf->ovl.upperdir);
			vg_pr_str(p, "workdir", NULL, rf->ovl.workdir);
			vg_pr_str_array(p, "lowerdirs", NULL, rf->ovl.lowerdirs,
					rf->ovl.n_lowerdirs);
			if (rf->ovl.n_datadirs)
				vg_pr_str_array(p, "datadirs", NULL,
						rf->ovl.datadirs,
						rf->ovl.n_datadirs);
			vg_pr_bool(p, "userxattr", NULL, rf->ovl.userxattr);
		}
		vg_pr_obj_close(p);
		if (vg_pr_end(p, stdout) < 0)
			status = EXIT_PARTIAL;
	}
	vg_printer_free(p);
	cli_ctr_root_close(&c);
	if (fflush(stdout) != 0)
		status = EXIT_PARTIAL;
	return status;
}
