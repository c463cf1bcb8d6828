/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil diff: the files a container added, changed and deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "attrib/snapshot.h"
#include "cli.h"
#include "fs/diff.h"
#include "render/escape.h"
#include "base/util.h"

void cmd_diff_help(FILE *f)
{
	fprintf(f,
		"Usage: %s diff [--like docker|podman] CONTAINER\n"
		"\n"
		"List the files the container added (A), changed (C) and deleted\n"
		"(D) in its root filesystem, one per line, sorted by path, as\n"
		"'docker diff' and 'podman diff' print them. CONTAINER is a full\n"
		"id, a unique id prefix or a name. The layers (its root overlay's\n"
		"upperdir and lowerdirs) come from a mount table the container\n"
		"cannot write: the host's, else that of the runtime process that\n"
		"made it (its shim or conmon), and must agree with the container's\n"
		"own; when neither holds its root, or they disagree, vigil refuses\n"
		"rather than read layers the container chose. The\n"
		"upper layer is compared with the lower ones, whiteouts are\n"
		"deletions and opaque directories replacements. Works for any\n"
		"runtime that mounts an overlay: docker, containerd, podman, CRI-O.\n"
		"\n"
		"  --like RUNTIME     answer as RUNTIME's own diff does: 'docker'\n"
		"                     (the container's view against its image's;\n"
		"                     the default for docker and containerd) or\n"
		"                     'podman' (the upper layer as containers/storage\n"
		"                     reads it; the default for podman and CRI-O)\n"
		"  --max-entries N    stop after N changes (default %d)\n"
		"  --max-depth N      walk at most N directory levels (default %d)\n"
		"\n%s\n"
		"JSON: one object per change: kind, path, type (file, dir, symlink,\n"
		"char, block, fifo, socket), size, mode (octal), uid, gid, mtime\n"
		"(UTC), and replaced: true for a directory that replaces the one\n"
		"below it. For D, the fields describe what was deleted. A path\n"
		"that is not UTF-8 is given as path (bad bytes as U+FFFD) and\n"
		"path_escaped (as in text). A partial answer ends with\n"
		"{\"partial\":true,...} saying why.\n"
		"\n"
		"Text paths escape newlines, control characters, backslashes and\n"
		"invalid UTF-8 as C does (\\n, \\\\, \\xNN), so one change is one line.\n"
		"\n"
		"Exit status: 0 ok; 1 no such container, a root that is not an\n"
		"overlay, or a partial answer (something unreadable, or a limit\n"
		"hit: the reasons go to stderr); 2 usage.\n",
		program_name, VG_DIFF_ENTRIES_MAX, VG_DIFF_DEPTH_MAX,
		cli_global_help);
}

static void format_mtime(const struct vg_diff_stat *st, char *buf, size_t bufsz)
{
	time_t secs = (time_t)st->mtime_sec;
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, bufsz, "?");
		return;
	}
	snprintf(buf + strlen(buf), bufsz - strlen(buf), ".%09uZ",
		 st->mtime_nsec);
}

static int print_json(struct vg_printer *p, const struct vg_diff_entry *e)
{
	char kind[2] = { e->kind, 0 }, mode[8], mtime[48];

	vg_pr_begin(p);
	vg_pr_str(p, "kind", NULL, kind);
	vg_pr_str(p, "path", NULL, e->path);
	if (!vg_utf8_valid(e->path)) {
		char *esc = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&esc, &len);

		if (m) {
			vg_fputs_escaped(m, e->path);
			if (fclose(m) == 0)
				vg_pr_str(p, "path_escaped", NULL, esc);
		}
		free(esc);
	}
	if (e->have_stat) {
		vg_pr_str(p, "type", NULL, vg_diff_type_name(e->st.mode));
		vg_pr_u64(p, "size", NULL, e->st.size);
		snprintf(mode, sizeof(mode), "%04o", e->st.mode & 07777);
		vg_pr_str(p, "mode", NULL, mode);
		vg_pr_u64(p, "uid", NULL, e->st.uid);
		vg_pr_u64(p, "gid", NULL, e->st.gid);
		format_mtime(&e->st, mtime, sizeof(mtime));
		vg_pr_str(p, "mtime", NULL, mtime);
	}
	if (e->replaced)
		vg_pr_bool(p, "replaced", NULL, true);
	return vg_pr_end(p, stdout);
}

static int print_partial_json(struct vg_printer *p, const struct vg_diff *d)
{
	vg_pr_begin(p);
	vg_pr_bool(p, "partial", NULL, true);
	vg_pr_u64(p, "problem_count", NULL, d->n_problems);
	vg_pr_str_array(p, "problems", NULL, d->problems, d->n_kept);
	if (d->truncated)
		vg_pr_bool(p, "truncated", NULL, true);
	if (d->xattr_unsupported)
		vg_pr_bool(p, "xattr_unsupported", NULL, true);
	return vg_pr_end(p, stdout);
}

/* Deep trees keep one descriptor per level: make room, as far as the
 * hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum { OPT_LIKE = 1000, OPT_MAX_ENTRIES, OPT_MAX_DEPTH };

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "like", required_argument, NULL, OPT_LIKE },
		{ "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ 0 },
	};
	struct vg_diff_opts o = { 0 };
	struct vg_diff d = { 0 };
	struct cli_ctr_root c;
	struct vg_printer *p = NULL;
	const char *like = NULL;
	char err[512] = "", label[128];
	int ch, r, status = EXIT_OK;
	uint64_t v;

	while ((ch = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts,
				 NULL)) != -1) {
		switch (ch) {
		case OPT_LIKE:
			if (strcmp(optarg, "docker") && strcmp(optarg, "podman"))
				return cli_usage_error("diff", "--like takes 'docker' "
						       "or 'podman', not '%s'",
						       optarg);
			like = optarg;
			break;
		case OPT_MAX_ENTRIES:
			if (vg_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > 100000000)
				return cli_usage_error("diff", "--max-entries takes "
						       "1 to 100000000, not '%s'",
						       optarg);
			o.max_entries = (size_t)v;
			break;
		case OPT_MAX_DEPTH:
			if (vg_parse_u64(optarg, &v) < 0 || v == 0 || v > 4096)
				return cli_usage_error("diff", "--max-depth takes 1 "
						       "to 4096, not '%s'", optarg);
			o.max_depth = (unsigned)v;
			break;
		case 'h':
			cmd_diff_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s diff --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(ch, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("diff", "give one container (id, id "
				       "prefix or name)");
	raise_nofile();
	r = cli_ctr_root_open(argv[optind], &c);
	if (r)
		return r;
	cli_ctr_label(&c, label, sizeof(label));
	if (!c.rf.overlay) {
		cli_error("the root of container %s is not an overlay (it is "
			  "%s, %s): there is no upper layer to compare with "
			  "its image", label, c.rf.fstype, c.rf.source);
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	if (!c.rf.ovl.upperdir) {
		cli_error("note: the root overlay of container %s is read-only: "
			  "it has no upper layer, so nothing was changed", label);
		cli_ctr_root_close(&c);
		return EXIT_OK;
	}
	if (!c.rf.layers_verified) {
		cli_error("container %s: its layers cannot be verified: %s; "
			  "refusing to read layers the container may have "
			  "chosen", label, c.rf.layers_why);
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}
	if (like)
		o.style = strcmp(like, "podman") == 0 ? VG_DIFF_PODMAN
						      : VG_DIFF_DOCKER;
	else
		o.style = c.ctr->first->attr.runtime == VG_RUNTIME_PODMAN ||
				  c.ctr->first->attr.runtime == VG_RUNTIME_CRIO
			  ? VG_DIFF_PODMAN
			  : VG_DIFF_DOCKER;

	/* layer paths are read under the root of the table they came from */
	r = vg_diff_rootfs(c.rf.have_layers_root_fd ? c.rf.layers_root_fd
						    : c.ctx->root_fd,
			   &c.rf, &o, &d, err, sizeof(err));
	if (r < 0) {
		cli_error("container %s: %s", label, err);
		cli_ctr_root_close(&c);
		return EXIT_PARTIAL;
	}

	if (cli.output == VG_OUTPUT_JSON) {
		p = vg_printer_new(VG_OUTPUT_JSON);
		if (!p) {
			cli_error("out of memory");
			status = EXIT_PARTIAL;
			goto out;
		}
	}
	for (size_t i = 0; i < d.n_entries; i++) {
		const struct vg_diff_entry *e = &d.entries[i];

		if (p) {
			if (print_json(p, e) < 0)
				break;
		} else {
			putchar(e->kind);
			putchar(' ');
			vg_fputs_escaped(stdout, e->path);
			if (putchar('\n') == EOF)
				break;
		}
	}
	if (d.partial) {
		status = EXIT_PARTIAL;
		for (size_t i = 0; i < d.n_kept; i++) {
			fprintf(stderr, "%s: diff: ", program_name);
			vg_fputs_escaped(stderr, d.problems[i]);
			fputc('\n', stderr);
		}
		cli_error("the answer for container %s is partial: %zu "
			  "problem%s%s", label, d.n_problems,
			  d.n_problems == 1 ? "" : "s",
			  d.n_problems > d.n_kept ? " (the first ones above)" : "");
		if (p)
			print_partial_json(p, &d);
	}
out:
	vg_printer_free(p);
	vg_diff_release(&d);
	cli_ctr_root_close(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			cli_error("writing output: %s", strerror(errno));
		status = EXIT_PARTIAL;
	}
	return status;
}
