/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_CLI_H
#define VG_CLI_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attrib/attrib.h"
#include "attrib/snapshot.h"
#include "base/caps.h"
#include "fs/rootfs.h"
#include "render/printer.h"

enum { EXIT_OK = 0, EXIT_PARTIAL = 1, EXIT_USAGE = 2 };

/* Options every command takes, before or after its name. */
struct cli_globals {
	const char *host_root;
	enum vg_output_mode output;
	struct vg_attrib_opts attrib; /* runtime state and kubelet settings */
};

enum {
	OPT_DOCKER_ROOT = 256,
	OPT_DOCKER_SOCKET,
	OPT_STORAGE_ROOT,
	OPT_STORAGE_RUN,
	OPT_API_TIMEOUT,
	OPT_NO_METADATA,
	OPT_KUBELET,
	OPT_KUBELET_TOKEN,
	OPT_KUBELET_CA,
	OPT_KUBELET_TIMEOUT,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
};

extern struct cli_globals cli;
extern const char *program_name;

/* Long options shared by all commands; commands append their own. */
#define CLI_GLOBAL_OPTIONS                                                     \
	{ "host-root", required_argument, NULL, 'R' },                        \
		{ "output", required_argument, NULL, 'o' },                   \
		{ "docker-root", required_argument, NULL, OPT_DOCKER_ROOT },  \
		{ "docker-socket", required_argument, NULL, OPT_DOCKER_SOCKET }, \
		{ "storage-root", required_argument, NULL, OPT_STORAGE_ROOT }, \
		{ "storage-run", required_argument, NULL, OPT_STORAGE_RUN },  \
		{ "api-timeout", required_argument, NULL, OPT_API_TIMEOUT },  \
		{ "no-metadata", no_argument, NULL, OPT_NO_METADATA },        \
		{ "kubelet", required_argument, NULL, OPT_KUBELET },          \
		{ "kubelet-token", required_argument, NULL, OPT_KUBELET_TOKEN }, \
		{ "kubelet-ca", required_argument, NULL, OPT_KUBELET_CA },    \
		{ "kubelet-timeout", required_argument, NULL, OPT_KUBELET_TIMEOUT }, \
		{ "help", no_argument, NULL, 'h' }
#define CLI_GLOBAL_SHORTOPTS "o:h"

/* The options of the commands that run as services (daemon, server):
 * the config file (config.h) and their own messages (log.h). */
#define CLI_SERVICE_OPTIONS                                                    \
	{ "config", required_argument, NULL, OPT_CONFIG },                    \
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },      \
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },    \
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL }
/* Their text for --help. */
#define CLI_SERVICE_HELP                                                       \
	"  --config FILE         read options from FILE's [%s] section first\n" \
	"                        (default: /etc/vigil/vigil.conf if it exists;\n" \
	"                        keys are long options; the command line wins)\n" \
	"  --check-config        check the file and options, then exit: 0 ok, 2 not\n" \
	"  --log-format FMT      text (default) or json: one object per line\n" \
	"  --log-level LEVEL     error, warning, info (default) or debug\n" \
	"SIGHUP reads the file again and applies the log level and format%s;\n" \
	"each other key that changed is named in the log as needing a restart.\n"

/* Handle a global option from getopt_long; returns 1 if handled, 0 if not
 * global, -1 on a bad value (message printed). */
int cli_global_option(int c, const char *arg);

/* A context for the host root and the settings above; prints why not
 * and returns NULL on failure. Free with vigil_ctx_free(). */
struct vigil_ctx *cli_ctx_new(void);

struct vg_snapshot;

/* A context and a snapshot of every process, for containers and tree.
 * Returns 0, or an exit status (message printed, nothing to free). */
int cli_snapshot(struct vigil_ctx **ret_ctx, struct vg_snapshot *ret);
/* The index of the container @ref names in @s, or -1 with the reason
 * printed (none, or ambiguous). */
int cli_find_container(const struct vg_snapshot *s, const char *ref);

/* The text of the global options, for each command's --help. */
extern const char cli_global_help[];

/* An error message on stderr: "vigil: MESSAGE", with where in the config
 * file while one is read, and as the log's lines once a command logs
 * (log.h). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A listening Unix stream socket at @path (its directory made, 0755, if
 * missing), mode @mode and, with @set_gid, group @gid, before anyone can
 * connect. A directory that another user owns or that others may write
 * is refused; so is a live socket there (another @who) or anything that
 * is not a socket, never removed; a stale socket is replaced. Returns
 * the fd or -errno, with the reason printed. */
/* Keep only the capabilities @keep (@n CAP_* numbers) and set
 * no_new_privs, once @who has set up and before it starts threads; a
 * @sensor keeps CAP_SYS_ADMIN too where that is what gives it eBPF.
 * Returns 0, or -1 with the reason printed. */
int cli_keep_caps(const char *who, bool sensor, const int *keep, size_t n);
/* What the sensor's commands (watch, daemon) keep: eBPF and perf events
 * to attach and detach as subscriptions change, and what reading other
 * processes' /proc files and the runtimes' state takes. */
#define CLI_SENSOR_CAPS { CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH }
/* What vigil server keeps: reading its peers' /proc files and state. */
#define CLI_SERVER_CAPS { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH }
/* Connected to the vigil daemon at @path, checked to be root's
 * (SO_PEERCRED): -EPERM otherwise. -errno with @err. */
int cli_daemon_connect(const char *path, char *err, size_t errsz);
int cli_listen_unix(const char *path, const char *who, mode_t mode, gid_t gid,
		    bool set_gid);
/* A connected Unix stream socket to @path, or -errno. */
int cli_unix_connect(const char *path);
/* --ring-size's value into *@ret: 0, or EXIT_USAGE (message printed). */
int cli_ring_size(const char *cmd, const char *arg, size_t *ret);
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A container named on the command line, its init process and root
 * filesystem (vigil rootfs, vigil diff). */
struct cli_ctr_root {
	struct vigil_ctx *ctx;
	struct vg_snapshot snap;
	const struct vg_snap_ctr *ctr; /* in @snap */
	int init_pid;
	struct vg_rootfs rf;
	bool have_rf;
};

/* Find container @ref (full id, id prefix or name) and read its root
 * filesystem. Returns 0, or an exit status with the reason printed;
 * close @ret with cli_ctr_root_close() after a 0. */
int cli_ctr_root_open(const char *ref, struct cli_ctr_root *ret);
void cli_ctr_root_close(struct cli_ctr_root *c);
/* "4f2a9c1d8e7b (web)", for messages, in @buf. */
const char *cli_ctr_label(const struct cli_ctr_root *c, char *buf,
			  size_t bufsz);
/* --source and the audit source's settings. */
enum cli_source_kind { CLI_SRC_BPF, CLI_SRC_AUDIT, CLI_SRC_AUTO, CLI_SRC_REPLAY };
struct cli_source_spec {
	enum cli_source_kind kind;
	const char *replay;            /* CLI_SRC_REPLAY: the recording */
	uint64_t audit_timeout_ms;     /* 0: the default (1 s) */
	uint64_t audit_exit_delay_ms;  /* 0: the default (1 s) */
	/* what cli_source_open() took (auto: bpf or audit) */
	enum cli_source_kind opened;
};
/* --source SPEC into @ret. Returns 0 or EXIT_USAGE (printed). */
int cli_source_arg(const char *cmd, const char *arg, struct cli_source_spec *ret);
/* --audit-timeout/--audit-exit-delay MS. Returns 0 or EXIT_USAGE. */
int cli_source_ms(const char *cmd, const char *opt, const char *arg,
		  uint64_t *ret);
struct vg_bpf_source_opts;
struct vg_source;
/* The source @spec names: the eBPF sensor, after the checks that name
 * what stops it, with @o; the audit source; for auto, the eBPF one, else
 * audit with one line saying why; or a recording (@o gives its tp:
 * formats), whose claim verdicts then verify @ctx's claims. NULL with
 * the reason printed. A tracefs in @o is released once the ids are
 * read. */
struct vg_source *cli_source_open(struct cli_source_spec *spec,
				  const struct vg_bpf_source_opts *o,
				  struct vigil_ctx *ctx);
/* The capabilities a source needs once it is set up. */
#define CLI_AUDIT_CAPS { CAP_AUDIT_CONTROL, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH }
/* Keep what the source @spec opened needs (cli_keep_caps()). */
int cli_keep_source_caps(const char *who, const struct cli_source_spec *spec);
/* SIGINT, SIGTERM and SIGHUP set *@stop; SIGPIPE is ignored. */
void cli_catch_stop(volatile sig_atomic_t *stop);
/* The same, but SIGHUP sets *@reload (and *@stop, to end the wait it
 * interrupts), and SIGINT and SIGTERM *@term before *@stop: after *@stop
 * is cleared, *@term says whether to go on. */
void cli_catch_stop_reload(volatile sig_atomic_t *stop,
			   volatile sig_atomic_t *term,
			   volatile sig_atomic_t *reload);

int cmd_pid(int argc, char **argv);
void cmd_pid_help(FILE *f);
int cmd_containers(int argc, char **argv);
void cmd_containers_help(FILE *f);
int cmd_tree(int argc, char **argv);
void cmd_tree_help(FILE *f);
int cmd_server(int argc, char **argv);
void cmd_server_help(FILE *f);
int cmd_client(int argc, char **argv);
void cmd_client_help(FILE *f);
int cmd_daemon(int argc, char **argv);
void cmd_daemon_help(FILE *f);
int cmd_watch(int argc, char **argv);
void cmd_watch_help(FILE *f);
int cmd_rootfs(int argc, char **argv);
void cmd_rootfs_help(FILE *f);
int cmd_diff(int argc, char **argv);
void cmd_diff_help(FILE *f);
int cmd_doctor(int argc, char **argv);
void cmd_doctor_help(FILE *f);
int cmd_rules(int argc, char **argv);
void cmd_rules_help(FILE *f);

struct vg_ruleset;
/* Falco's rule files @files (@n) loaded and compiled as one ruleset; NULL
 * with why printed (file:line). Caller frees with vg_ruleset_free(). */
struct vg_ruleset *cli_rules_load(char *const *files, size_t n);

#endif
