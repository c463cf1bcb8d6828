/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "attrib/snapshot.h"
#include "base/caps.h"
#include "base/util.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "probe/probe.h"
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
	{ "containers", cmd_containers, cmd_containers_help,
	  "the containers running on the host, all runtimes together" },
	{ "tree", cmd_tree, cmd_tree_help,
	  "the process tree, grouped by container" },
	{ "server", cmd_server, cmd_server_help,
	  "tell Unix socket clients who they are; allow or deny by policy" },
	{ "client", cmd_client, cmd_client_help,
	  "ask a vigil server who this process is" },
	{ "watch", cmd_watch, cmd_watch_help,
	  "live events (exec, exit, open, connect...) with container and pod" },
	{ "daemon", cmd_daemon, cmd_daemon_help,
	  "one sensor, many subscribers: events over a Unix socket" },
	{ "diff", cmd_diff, cmd_diff_help,
	  "files a container added, changed and deleted (its overlay)" },
	{ "rootfs", cmd_rootfs, cmd_rootfs_help,
	  "where the host sees a container's root filesystem" },
	{ "doctor", cmd_doctor, cmd_doctor_help,
	  "what this host offers vigil, and whether watch and daemon can run" },
	{ "rules", cmd_rules, cmd_rules_help,
	  "check Falco rule files: which rules vigil evaluates, and why not" },
};

int cli_unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* See cli.h. Everything after the directory is opened goes through its
 * fd: the socket is bound under the umask that gives it @mode from the
 * moment it exists, and its group is set without following a link. */
int cli_listen_unix(const char *path, const char *who, mode_t mode, gid_t gid,
		    bool set_gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1, dfd = -1;
	struct stat st;
	const char *name;
	mode_t old;
	int r;

	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_error("socket path '%s' is longer than %zu bytes", path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);

	/* the directory: the last component made if missing, 0755 */
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!dir)
		return -ENOMEM;
	if (!slash) {
		free(dir);
		dir = strdup(".");
		if (!dir)
			return -ENOMEM;
		name = path;
	} else {
		name = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!*name) {
		cli_error("socket path '%s' names a directory", path);
		return -EINVAL;
	}
	old = umask(0022);
	r = mkdir(dir, 0755);
	umask(old);
	if (r < 0 && errno != EEXIST) {
		r = -errno;
		cli_error("creating %s: %s", dir, strerror(errno));
		return r;
	}
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		r = -errno;
		cli_error("%s: %s", dir, strerror(errno));
		return r;
	}
	/* whoever else may write there may replace the socket */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		cli_error("%s is %s: refusing to put the %s socket there (the "
			  "directory must be owned by root%s and writable by its "
			  "owner only)", dir,
			  st.st_mode & 022 ? "writable by others" : "owned by another user",
			  who, geteuid() ? " or this user" : "");
		return -EPERM;
	}

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			cli_error("%s exists and is not a socket; not removing it",
				  path);
			return -EEXIST;
		}
		_cleanup_close_ int probe =
			socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			cli_error("another %s is listening on %s", who, path);
			return -EADDRINUSE;
		}
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			cli_error("removing the stale socket %s: %s", path,
				  strerror(errno));
			return r;
		}
	}

	/* bound in the directory opened, whatever its path means now */
	r = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path))
		memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = -errno;
		cli_error("binding %s: %s", path, strerror(errno));
		return r;
	}
	errno = 0;
	if ((set_gid && fchownat(dfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 07777) != (mode & 07777)) {
		r = errno ? -errno : -EPERM;
		cli_error("setting the owner or mode of %s: %s", path,
			  errno ? strerror(errno) : "not the socket bound");
		unlinkat(dfd, name, 0);
		return r;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		cli_error("listening on %s: %s", path, strerror(errno));
		unlinkat(dfd, name, 0);
		return r;
	}
	return VG_TAKE_FD(fd);
}

/* See cli.h. */
int cli_keep_caps(const char *who, bool sensor, const int *keep, size_t n)
{
	int caps[16];
	size_t k = 0;
	char err[256];

	for (size_t i = 0; i < n && k < VG_ARRAY_SIZE(caps) - 1; i++)
		caps[k++] = keep[i];
	/* where CAP_SYS_ADMIN is what lets it use eBPF (a container given
	 * it, on a kernel or runtime without CAP_BPF), it stays */
	if (sensor && !(vg_probe_has_cap(CAP_BPF) && vg_probe_has_cap(CAP_PERFMON)))
		caps[k++] = CAP_SYS_ADMIN;
	if (vg_caps_limit(caps, k, err, sizeof(err)) < 0) {
		cli_error("%s: %s", who, err);
		return -1;
	}
	return 0;
}

/* See cli.h. */
int cli_daemon_connect(const char *path, char *err, size_t errsz)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd = cli_unix_connect(path);

	if (fd < 0) {
		vg_set_err(err, errsz, "%s", strerror(-fd));
		return fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0) {
		vg_set_err(err, errsz, "the process serving %s runs as uid %u, not "
			   "root: not a vigil daemon to trust", path,
			   (unsigned)cr.uid);
		close(fd);
		return -EPERM;
	}
	return fd;
}

int cli_ring_size(const char *cmd, const char *arg, size_t *ret)
{
	uint64_t v;

	if (vg_parse_u64(arg, &v) < 0 || v < 4096 || v > (1u << 30) || (v & (v - 1)))
		return cli_usage_error(cmd, "--ring-size takes a power of two from "
				       "4096 to 1 GiB, not '%s'", arg);
	*ret = (size_t)v;
	return 0;
}

/* @fmt's message, after where in the config file it is about, if any. */
static void format_msg(char *buf, size_t bufsz, const char *fmt, va_list ap)
{
	const char *where = cli_conf_location();
	size_t n = 0;

	if (where)
		n = (size_t)snprintf(buf, bufsz, "%s: ", where);
	if (n < bufsz)
		vsnprintf(buf + n, bufsz - n, fmt, ap);
}

void cli_error(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	format_msg(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_log_error_line(msg);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	format_msg(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a running service's (a reload's) errors are log lines */
	if (cli_log_started()) {
		cli_log_error_line(msg);
		return EXIT_USAGE;
	}
	fprintf(stderr, "%s%s%s: %s\n", program_name, cmd ? " " : "",
		cmd ? cmd : "", msg);
	/* a file's error is fixed in the file */
	if (!cli_conf_location())
		fprintf(stderr, "Try '%s%s%s --help'.\n", program_name,
			cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

static int parse_ms(const char *opt, const char *arg, uint32_t *ret)
{
	uint64_t v;

	if (vg_parse_u64(arg, &v) < 0 || v == 0 || v > 600000) {
		cli_usage_error(NULL, "%s takes milliseconds (1-600000), not '%s'",
				opt, arg);
		return -1;
	}
	*ret = (uint32_t)v;
	return 1;
}

int cli_global_option(int c, const char *arg)
{
	struct vg_attrib_opts *a = &cli.attrib;

	switch (c) {
	case OPT_DOCKER_ROOT:
		a->docker_root = arg;
		return 1;
	case OPT_DOCKER_SOCKET:
		a->docker_socket = strcmp(arg, "none") == 0 ? "" : arg;
		return 1;
	case OPT_STORAGE_ROOT:
		a->storage_root = arg;
		return 1;
	case OPT_STORAGE_RUN:
		a->storage_run = arg;
		return 1;
	case OPT_API_TIMEOUT:
		return parse_ms("--api-timeout", arg, &a->api_timeout_ms);
	case OPT_NO_METADATA:
		a->no_meta = true;
		return 1;
	case OPT_KUBELET:
		a->kubelet.url = arg;
		return 1;
	case OPT_KUBELET_TOKEN:
		a->kubelet.token_file = arg;
		return 1;
	case OPT_KUBELET_CA:
		a->kubelet.ca_file = arg;
		return 1;
	case OPT_KUBELET_TIMEOUT:
		return parse_ms("--kubelet-timeout", arg, &a->kubelet.timeout_ms);
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

struct vigil_ctx *cli_ctx_new(void)
{
	struct vigil_ctx *ctx = NULL;
	int r = vigil_ctx_new(cli.host_root, &ctx);

	if (r < 0) {
		cli_error("host root '%s': %s", cli.host_root ? cli.host_root : "/",
			  r == -ENOENT ? "no such directory, or no proc/ in it"
				       : strerror(-r));
		return NULL;
	}
	r = vg_attrib_configure(ctx, &cli.attrib);
	if (r < 0) {
		cli_error("%s", r == -EINVAL
			  ? "a runtime path holds '..', or --kubelet is not an http(s) URL"
			  : strerror(-r));
		vigil_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int cli_snapshot(struct vigil_ctx **ret_ctx, struct vg_snapshot *ret)
{
	struct vigil_ctx *ctx = cli_ctx_new();
	int r;

	if (!ctx)
		return EXIT_USAGE;
	r = vg_snapshot_take(ctx, ret);
	if (r < 0) {
		cli_error("reading processes: %s", strerror(-r));
		vigil_ctx_free(ctx);
		return EXIT_PARTIAL;
	}
	*ret_ctx = ctx;
	return 0;
}

int cli_find_container(const struct vg_snapshot *s, const char *ref)
{
	size_t matches = 0;
	int k = vg_snapshot_find_ctr(s, ref, &matches);

	if (k == -EEXIST)
		cli_error("'%s' names %zu containers; give more of the id", ref,
			  matches);
	else if (k < 0)
		cli_error("no running container '%s'", ref);
	return k < 0 ? -1 : k;
}

const char cli_global_help[] =
	"Options (also accepted after the command):\n"
	"  --host-root DIR       read /proc and runtime state under DIR\n"
	"                        (default: $VIGIL_HOST_ROOT, else /)\n"
	"  -o, --output FMT      text (default) or json (one object per line)\n"
	"  --no-metadata         attribute only; read no runtime state\n"
	"  --docker-root DIR     docker's data root (default /var/lib/docker)\n"
	"  --docker-socket PATH  Engine API socket, asked only for what docker's\n"
	"                        files lack (default /run/docker.sock; 'none')\n"
	"  --storage-root DIR    containers/storage root for podman and CRI-O\n"
	"                        (default /var/lib/containers/storage)\n"
	"  --storage-run DIR     its run root (default /run/containers/storage)\n"
	"  --api-timeout MS      Docker Engine API timeout (default 1000)\n"
	"  --kubelet URL         ask the kubelet's /pods for pod details, e.g.\n"
	"                        http://127.0.0.1:10255 or https://NODE:10250\n"
	"                        (default: $VIGIL_KUBELET_URL, else none)\n"
	"  --kubelet-token FILE  bearer token for the kubelet\n"
	"  --kubelet-ca FILE     CA bundle to verify the kubelet's certificate\n"
	"  --kubelet-timeout MS  whole-request timeout (default 2000)\n"
	"  -h, --help            help\n";

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
		"\n%s"
		"  --version             print the version\n"
		"'%s COMMAND --help' describes a command.\n"
		"\n"
		"Exit status: 0 ok, 1 partial answer (a process not found or not\n"
		"attributable), 2 usage error.\n",
		cli_global_help, program_name);
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
	env = getenv("VIGIL_KUBELET_URL");
	if (env && *env)
		cli.attrib.kubelet.url = env;

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
	size_t best = SIZE_MAX, best_d = 3;

	/* the closest, not the first close one: 'dif' is 'diff', not 'pid' */
	for (size_t i = 0; i < VG_ARRAY_SIZE(commands); i++) {
		size_t dist = vg_edit_distance(name, commands[i].name);

		if (dist < best_d) {
			best = i;
			best_d = dist;
		}
	}
	if (best != SIZE_MAX)
		fprintf(stderr, "; did you mean '%s'?", commands[best].name);
	fprintf(stderr, "\nTry '%s --help'.\n", program_name);
	return EXIT_USAGE;
}
