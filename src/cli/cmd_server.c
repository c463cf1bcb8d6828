/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil server: a Unix socket that tells each client who it is — and,
 * with a policy, whether it may stay.
 *
 * The main thread accepts; a few workers, each with its own context and
 * caches, identify the peer, decide, answer one JSON line and close. A
 * client can cost a worker at most the send timeout; it cannot stop the
 * accept loop or the other workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "cli.h"
#include "cli/systemd.h"
#include "config.h"
#include "log.h"
#include "probe/probe.h"
#include "peer/policy.h"
#include "render/identity.h"
#include "base/util.h"

#define SERVER_DEFAULT_SOCKET "/run/vigil/peer.sock"
#define SERVER_QUEUE 1024      /* accepted, not yet answered */
#define SERVER_WORKERS_MAX 64
#define SERVER_SEND_TIMEOUT_MS 1000
#define SERVER_PROTO "vigil-peer/1"

struct server {
	int listen_fd;
	const char *path;
	bool bound;             /* the socket is ours to remove */
	/* swapped whole by a reload: a worker decides one client on one
	 * policy, holding the lock for reading while it does */
	pthread_rwlock_t policy_lock;
	struct vigil_policy *policy;
	char *policy_path; /* the one loaded, for messages */
	unsigned peer_flags;
	enum vg_output_mode output;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int queue[SERVER_QUEUE];
	size_t head, count;
	bool stopping;

	pthread_mutex_t out_lock; /* one log line at a time */
	/* counters, under lock */
	uint64_t accepted, allowed, denied, refused, busy, send_failed;
};

struct worker {
	struct server *s;
	struct vigil_ctx *ctx;
	pthread_t thread;
};

void cmd_server_help(FILE *f)
{
	fprintf(f,
		"Usage: %s server [--socket PATH] [--policy FILE] [--mode OCTAL]\n"
		"                    [--group GROUP] [--workers N]\n"
		"\n"
		"Listen on a Unix socket and tell each client who it is: the\n"
		"process, container and pod behind the connection, taken as a\n"
		"pidfd so a reused pid is never named. Each client gets one JSON\n"
		"line, {\"protocol\":\"" SERVER_PROTO "\",\"allowed\":...,\n"
		"\"reason\":...,\"identity\":{...}}, and the connection is closed.\n"
		"A line per client goes to standard output (JSON with -o json).\n"
		"\n"
		"  -s, --socket PATH   where to listen (default " SERVER_DEFAULT_SOCKET ")\n"
		"  -p, --policy FILE   allow or deny clients by the rules in FILE\n"
		"                      (first match wins; no match denies). Without\n"
		"                      it every identified client is allowed.\n"
		"  -m, --mode OCTAL    the socket's permissions (default 0660); it is\n"
		"                      created 0600 and widened to this once bound\n"
		"  -g, --group GROUP   the socket's group (name or number)\n"
		"  -w, --workers N     identifying threads (default 4, at most %d)\n"
		"  --peercred          take peers by SO_PEERCRED and /proc checks, as\n"
		"                      on kernels before 6.5 (for testing)\n"
		"\n"
		"Clients that exited, whose pid was reused, that sit in a pid\n"
		"namespace this server cannot see, or whose credentials changed\n"
		"since they connected are always refused, with the reason.\n"
		"SIGINT or SIGTERM stops the server and removes the socket.\n"
		"\n"
		"Started by systemd with a listening socket (socket activation,\n"
		"vigil-peer.socket), it serves that one instead: its path, owner\n"
		"and mode are the unit's, --socket, --mode and --group do not\n"
		"apply, and the socket is left in place at exit.\n"
		"\n"
		CLI_SERVICE_HELP
		"\n%s",
		program_name, SERVER_WORKERS_MAX, "server", ",\n  and reads the policy again",
		cli_global_help);
}

static void put_words(struct vg_printer *p, const char *s)
{
	vg_pr_put(p, s, strlen(s));
}

/* What the client controls, as one token (render/escape.h), of at
 * most @max bytes (0: all); NULL: ?. */
static void put_value(struct vg_printer *p, const char *s, size_t max,
		      char sep)
{
	if (s)
		vg_pr_put_value(p, s, max ? strnlen(s, max) : strlen(s), sep);
	else
		put_words(p, "?");
}

/*
 * One line per client:
 *
 *   TIME allow|deny pid=P uid=U gid=G exe=EXE container=RT:ID name=N
 *        image=I pod=NS/NAME (SOURCE) reason=WHY
 *   TIME refuse pid=P reason=WHY
 *
 * Everything the client has a say in (its exe, its container's name and
 * image, its pod, and the reason, which may quote them) is a value by
 * render/escape.h's rule: one token, so a client can forge neither a
 * field nor a line, nor hide text.
 */
static void log_text(struct server *s, const struct vigil_identity *id,
		     bool allowed, bool by_policy, const char *why)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	const char *cid = vigil_identity_container_id(id);
	const char *name = vigil_identity_container_name(id);
	const char *image = vigil_identity_image(id);
	const char *pns = vigil_identity_pod_namespace(id);
	const char *pod = vigil_identity_pod_name(id);
	const char *line;
	char when[40];
	size_t len;

	if (!p)
		return;
	cli_now_rfc3339(when, sizeof(when));
	vg_pr_begin(p);
	put_words(p, when);
	if (vigil_identity_status(id) != VIGIL_OK) {
		put_words(p, " refuse pid=");
		vg_pr_put_i64(p, vigil_identity_pid(id));
		put_words(p, " reason=");
		put_value(p, why, 0, 0);
	} else {
		put_words(p, allowed ? " allow pid=" : " deny pid=");
		vg_pr_put_i64(p, vigil_identity_pid(id));
		put_words(p, " uid=");
		vg_pr_put_u64(p, vigil_identity_uid(id));
		put_words(p, " gid=");
		vg_pr_put_u64(p, vigil_identity_gid(id));
		put_words(p, " exe=");
		put_value(p, vigil_identity_exe(id), 0, 0);
		if (vigil_identity_role(id) == VIGIL_ROLE_CONTAINER) {
			put_words(p, " container=");
			put_words(p, vigil_identity_runtime(id));
			put_words(p, ":");
			put_value(p, cid, 12, 0);
			if (name) {
				put_words(p, " name=");
				put_value(p, name, 0, 0);
			}
			if (image) {
				put_words(p, " image=");
				put_value(p, image, 0, 0);
			}
		} else {
			put_words(p, " container=host");
		}
		if (pod) {
			/* a '/' in either part is quoted: the first bare one
			 * splits them */
			put_words(p, " pod=");
			put_value(p, pns, 0, '/');
			put_words(p, "/");
			put_value(p, pod, 0, '/');
			put_words(p, " (");
			put_words(p, vigil_identity_pod_source(id));
			put_words(p, ")");
		}
		if (by_policy) {
			put_words(p, " reason=");
			put_value(p, why, 0, 0);
		}
	}
	line = vg_pr_end_view(p, &len);
	if (line) {
		pthread_mutex_lock(&s->out_lock);
		fwrite(line, 1, len, stdout);
		putchar('\n');
		fflush(stdout);
		pthread_mutex_unlock(&s->out_lock);
	}
	vg_printer_free(p);
}

/* {"time":..,"allowed":..,"reason":..,"identity":{..}} for the log, or
 * without "time" for the client. */
static char *decision_json(const struct vigil_identity *id, bool allowed,
			   const char *why, bool with_time)
{
	_cleanup_free_ char *ident = vigil_identity_to_json(id);
	struct vg_printer *p;
	char when[40];
	char *out;

	if (!ident)
		return NULL;
	p = vg_printer_new(VG_OUTPUT_JSON);
	if (!p)
		return NULL;
	vg_pr_begin(p);
	if (with_time) {
		cli_now_rfc3339(when, sizeof(when));
		vg_pr_str(p, "time", NULL, when);
	} else {
		vg_pr_str(p, "protocol", NULL, SERVER_PROTO);
	}
	vg_pr_bool(p, "allowed", NULL, allowed);
	vg_pr_str(p, "reason", NULL, why);
	out = vg_pr_end_string(p);
	vg_printer_free(p);
	if (!out)
		return NULL;
	/* splice the identity in as one more member */
	size_t lo = strlen(out), li = strlen(ident);
	char *full = malloc(lo + li + 16);

	if (full && lo >= 2 && out[lo - 1] == '}')
		snprintf(full, lo + li + 16, "%.*s,\"identity\":%s}",
			 (int)(lo - 1), out, ident);
	else if (full)
		snprintf(full, lo + li + 16, "%s", out);
	free(out);
	return full;
}

static void count(struct server *s, uint64_t *c)
{
	pthread_mutex_lock(&s->lock);
	(*c)++;
	pthread_mutex_unlock(&s->lock);
}

static void serve_one(struct worker *w, int fd)
{
	struct server *s = w->s;
	struct vigil_identity *id = NULL;
	struct timeval tv = { .tv_sec = SERVER_SEND_TIMEOUT_MS / 1000,
			      .tv_usec = (SERVER_SEND_TIMEOUT_MS % 1000) * 1000 };
	char why[1024];
	bool allowed = false, by_policy;
	int r;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	r = vigil_peer_identify(fd, w->ctx, s->peer_flags, &id);
	if (r < 0) {
		char line[256];

		snprintf(line, sizeof(line),
			 "{\"protocol\":\"" SERVER_PROTO "\",\"allowed\":false,"
			 "\"reason\":\"the peer could not be identified: %s\"}\n",
			 strerror(-r));
		vg_send_all(fd, line, strlen(line));
		cli_log(CLI_LOG_WARNING, "a client could not be identified: %s",
			strerror(-r));
		count(s, &s->refused);
		return;
	}

	pthread_rwlock_rdlock(&s->policy_lock);
	by_policy = s->policy != NULL;
	if (by_policy)
		allowed = vigil_policy_allows(s->policy, id, why, sizeof(why));
	pthread_rwlock_unlock(&s->policy_lock);
	if (!by_policy) {
		allowed = vigil_identity_status(id) == VIGIL_OK;
		if (allowed)
			snprintf(why, sizeof(why), "no policy: every identified "
						   "client is allowed");
		else
			snprintf(why, sizeof(why),
				 "identity not established (%s): %s",
				 vigil_status_name(vigil_identity_status(id)),
				 vigil_identity_message(id));
	}
	count(s, vigil_identity_status(id) != VIGIL_OK ? &s->refused
			 : allowed			     ? &s->allowed
							     : &s->denied);

	_cleanup_free_ char *reply = decision_json(id, allowed, why, false);
	if (!reply || vg_send_all(fd, reply, strlen(reply)) < 0 ||
	    vg_send_all(fd, "\n", 1) < 0)
		count(s, &s->send_failed);

	if (s->output == VG_OUTPUT_JSON) {
		_cleanup_free_ char *line = decision_json(id, allowed, why, true);

		if (line) {
			pthread_mutex_lock(&s->out_lock);
			puts(line);
			fflush(stdout);
			pthread_mutex_unlock(&s->out_lock);
		}
	} else {
		log_text(s, id, allowed, by_policy, why);
	}
	vigil_identity_free(id);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->s;

	for (;;) {
		int fd;

		pthread_mutex_lock(&s->lock);
		while (!s->count && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->count) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		fd = s->queue[s->head];
		s->head = (s->head + 1) % SERVER_QUEUE;
		s->count--;
		pthread_mutex_unlock(&s->lock);

		serve_one(w, fd);
		/* What a client sent is never read: nothing it says changes
		 * who it is. */
		close(fd);
	}
}

/* Queue @fd for a worker; false when the queue is full. */
static bool enqueue(struct server *s, int fd)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = s->count < SERVER_QUEUE;
	if (ok) {
		s->queue[(s->head + s->count) % SERVER_QUEUE] = fd;
		s->count++;
		s->accepted++;
		pthread_cond_signal(&s->cond);
	} else {
		s->busy++;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int parse_group(const char *arg, gid_t *ret)
{
	uint64_t v;
	struct group *g;

	if (vg_parse_u64(arg, &v) == 0 && v < (gid_t)-1) {
		*ret = (gid_t)v;
		return 0;
	}
	g = getgrnam(arg);
	if (!g)
		return -ENOENT;
	*ret = g->gr_gid;
	return 0;
}

/* Until a signal (its number in *@ret_sig) or an error (-errno). */
static int accept_loop(struct server *s, int sfd, int *ret_sig)
{
	struct pollfd pfd[2] = {
		{ .fd = s->listen_fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents) {
			/* consume it, or it is delivered again once the
			 * mask is restored */
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			*ret_sig = (int)si.ssi_signo;
			return 0;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* let the workers close some; the client
				 * waits in the backlog meanwhile */
				struct timespec ts = { 0, 10 * 1000000 };

				nanosleep(&ts, NULL);
				continue;
			}
			return -errno;
		}
		if (!enqueue(s, fd)) {
			static const char busy[] =
				"{\"protocol\":\"" SERVER_PROTO "\","
				"\"allowed\":false,\"reason\":\"server busy\"}\n";

			(void)!send(fd, busy, sizeof(busy) - 1,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
		}
	}
}

static const struct option server_opts[] = {
	CLI_GLOBAL_OPTIONS,
	CLI_SERVICE_OPTIONS,
	{ "socket", required_argument, NULL, 's' },
	{ "policy", required_argument, NULL, 'p' },
	{ "mode", required_argument, NULL, 'm' },
	{ "group", required_argument, NULL, 'g' },
	{ "workers", required_argument, NULL, 'w' },
	{ "peercred", no_argument, NULL, 'P' },
	{ 0 },
};

/* Everything the options and the config file set. */
struct server_conf {
	const char *path;
	const char *policy_path;
	size_t n_workers;
	mode_t mode;
	gid_t gid;
	bool set_gid;
	unsigned peer_flags;
	struct cli_log_conf log;
};

static void server_conf_init(struct server_conf *c)
{
	*c = (struct server_conf){
		.path = SERVER_DEFAULT_SOCKET,
		.n_workers = 4,
		.mode = 0660,
		.log = CLI_LOG_CONF_DEFAULT,
	};
}

/* One option's value, from the command line or the config file. */
static int server_apply(void *state, int c, const char *arg)
{
	struct server_conf *sc = state;
	uint64_t v;

	switch (c) {
	case 's':
		sc->path = arg;
		return 0;
	case 'p':
		sc->policy_path = arg;
		return 0;
	case 'm': {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(arg, &end, 8);
		if (errno || !*arg || *end || m > 0777)
			return cli_usage_error(
				"server",
				"--mode takes octal permissions such as 0660, not '%s'",
				arg);
		sc->mode = (mode_t)m;
		return 0;
	}
	case 'g':
		if (parse_group(arg, &sc->gid) < 0)
			return cli_usage_error("server", "no group '%s'", arg);
		sc->set_gid = true;
		return 0;
	case 'w':
		if (vg_parse_u64(arg, &v) < 0 || v == 0 || v > SERVER_WORKERS_MAX)
			return cli_usage_error("server", "--workers takes 1-%d, not '%s'",
					       SERVER_WORKERS_MAX, arg);
		sc->n_workers = (size_t)v;
		return 0;
	case 'P':
		sc->peer_flags |= VIGIL_PEER_NO_PIDFD;
		return 0;
	case OPT_LOG_LEVEL:
		return cli_log_level_arg("server", arg, &sc->log.level);
	case OPT_LOG_FORMAT:
		return cli_log_format_arg("server", arg, &sc->log.format);
	default:
		return cli_global_option(c, arg) < 0 ? EXIT_USAGE : 0;
	}
}

static const struct cli_conf_cmd server_cmd = {
	.name = "server",
	.opts = server_opts,
	.shortopts = "s:p:m:g:w:" CLI_GLOBAL_SHORTOPTS,
	.apply = server_apply,
};

/* The policy at @path compiled into *@ret, its warnings logged unless
 * @quiet. Returns 0, or EXIT_USAGE with the reason printed. */
static int load_policy(const char *path, bool quiet, struct vigil_policy **ret)
{
	char err[512];
	int r = vigil_policy_load(path, ret, err, sizeof(err));

	if (r < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; !quiet && i < vg_policy_n_warnings(*ret); i++) {
		unsigned line = 0;
		const char *w = vg_policy_warning(*ret, i, &line);

		cli_log(CLI_LOG_WARNING, "policy %s:%u: %s", path, line, w);
	}
	return 0;
}

static const char *const server_live[] = { "log-level", "log-format", "policy" };

static void say_restart(void *u, const char *key)
{
	const char *path = u;

	for (size_t i = 0; i < VG_ARRAY_SIZE(server_live); i++)
		if (strcmp(server_live[i], key) == 0)
			return;
	cli_log(CLI_LOG_WARNING, "%s: '%s' changed: it takes effect at the next "
		"restart", path, key);
}

/*
 * SIGHUP: the file read again with the same command line; the log's
 * level and format, and the policy (read again even if its path is the
 * same), change at once. A file or a policy with errors changes
 * nothing: the old policy stays. Dropping the policy altogether would
 * let every client in: that takes a restart. @running is the file the
 * server started with, which its settings point into.
 */
static void server_reload(struct server *s, const struct cli_conf_argv *args,
			  const struct cli_conf_file *running)
{
	const struct cli_globals saved = cli;
	const char *path = cli_conf_path(args);
	struct cli_conf_file *nf = NULL;
	struct vigil_policy *np = NULL, *old;
	struct server_conf nc;
	char *npath = NULL;
	int r;

	server_conf_init(&nc);
	r = cli_conf_read(&server_cmd, args, &nf);
	r |= cli_conf_apply(&server_cmd, nf, args, &nc);
	cli = saved; /* the global options are the workers' contexts' */
	if (!r && !nc.policy_path && s->policy) {
		cli_error("%s: no policy any more: that would allow every client; "
			  "it takes a restart", path);
		r = EXIT_USAGE;
	}
	if (!r && nc.policy_path) {
		r = load_policy(nc.policy_path, false, &np);
		if (!r && !(npath = strdup(nc.policy_path)))
			r = -ENOMEM;
	}
	if (r) {
		cli_log(CLI_LOG_ERROR, "reloading %s: nothing changed%s%s", path,
			s->policy ? "; the policy stays " : "",
			s->policy ? s->policy_path : "");
		vigil_policy_free(np);
		cli_conf_file_free(nf);
		return;
	}
	cli_log_start("server", &nc.log);
	pthread_rwlock_wrlock(&s->policy_lock);
	old = s->policy;
	s->policy = np;
	pthread_rwlock_unlock(&s->policy_lock);
	vigil_policy_free(old);
	free(s->policy_path);
	s->policy_path = npath;
	cli_conf_diff(&server_cmd, running, nf, args, say_restart, (void *)path);
	cli_log(CLI_LOG_INFO, "reloaded %s (log level %s, format %s%s%s)", path,
		cli_log_level_name(nc.log.level),
		nc.log.format == CLI_LOG_JSON ? "json" : "text",
		np ? ", policy " : "", np ? npath : "");
	cli_conf_file_free(nf);
}

int cmd_server(int argc, char **argv)
{
	struct server s = {
		.listen_fd = -1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
		.out_lock = PTHREAD_MUTEX_INITIALIZER,
		.policy_lock = PTHREAD_RWLOCK_INITIALIZER,
	};
	struct cli_conf_argv args;
	struct cli_conf_file *file = NULL;
	struct server_conf sc;
	struct worker workers[SERVER_WORKERS_MAX] = { 0 };
	size_t n_workers = 0, started = 0;
	char sd_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 32];
	int r, ret = EXIT_OK, sfd = -1;
	sigset_t mask, old_mask;

	server_conf_init(&sc);
	ret = cli_conf_argv_parse(&server_cmd, argc, argv, &args);
	if (ret || args.help) {
		if (!ret)
			cmd_server_help(stdout);
		goto out;
	}
	/* every error at once, the file's and the values' */
	ret = cli_conf_read(&server_cmd, &args, &file);
	ret |= cli_conf_apply(&server_cmd, file, &args, &sc);
	if (ret)
		goto out;
	s.path = sc.path;
	s.peer_flags = sc.peer_flags;
	s.output = cli.output;
	if (args.check) {
		struct vigil_ctx *ctx;

		if (sc.policy_path &&
		    (ret = load_policy(sc.policy_path, false, &s.policy)))
			goto out;
		if (strlen(s.path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			ret = cli_usage_error("server", "--socket '%s' is longer "
					      "than a socket path may be", s.path);
			goto out;
		}
		ctx = cli_ctx_new();
		if (!ctx) {
			ret = EXIT_USAGE;
			goto out;
		}
		vigil_ctx_free(ctx);
		if (file)
			printf("%s: ok\n", file->path);
		else
			printf("%s: not there; the defaults and options: ok\n",
			       cli_conf_path(&args));
		goto out;
	}
	cli_log_start("server", &sc.log);
	cli_log(CLI_LOG_DEBUG, "config %s: %s", cli_conf_path(&args),
		file ? "read" : "not there: the defaults and the options");

	if (sc.policy_path) {
		ret = load_policy(sc.policy_path, false, &s.policy);
		if (ret)
			goto out;
		s.policy_path = strdup(sc.policy_path);
		if (!s.policy_path) {
			cli_error("out of memory");
			ret = EXIT_PARTIAL;
			goto out;
		}
	}

	n_workers = sc.n_workers;
	for (size_t i = 0; i < n_workers; i++) {
		workers[i].s = &s;
		workers[i].ctx = cli_ctx_new();
		if (!workers[i].ctx) {
			ret = EXIT_USAGE;
			goto out;
		}
	}

	/* Signals are taken by signalfd in the accept loop; the workers
	 * inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, &old_mask);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		cli_error("signalfd: %s", strerror(errno));
		ret = EXIT_PARTIAL;
		goto out;
	}

	/* systemd's socket, made with the unit's owner and mode; else one
	 * of its own */
	s.listen_fd = cli_sd_listen_fd("vigil server", sd_path, sizeof(sd_path));
	if (s.listen_fd > 0) {
		if (strcmp(sc.path, SERVER_DEFAULT_SOCKET) != 0 || sc.mode != 0660 ||
		    sc.set_gid)
			cli_log(CLI_LOG_WARNING, "serving the socket systemd passed (%s): "
				"--socket, --mode and --group do not apply "
				"(ListenStream=, SocketMode= and SocketGroup= "
				"in the .socket unit do)", sd_path);
		s.path = sd_path;
	} else if (s.listen_fd == 0) {
		s.listen_fd = cli_listen_unix(s.path, "server", sc.mode, sc.gid,
					      sc.set_gid);
		s.bound = s.listen_fd >= 0;
	}
	if (s.listen_fd < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	/* no eBPF here at all: reading its peers is all it does. Without
	 * pidfds, a peer is confirmed by unix_diag in its own network
	 * namespace, which setns() enters: that takes CAP_SYS_ADMIN. */
	static const int keep[] = CLI_SERVER_CAPS;
	int keep_fallback[VG_ARRAY_SIZE(keep) + 1];
	size_t n_keep = VG_ARRAY_SIZE(keep);

	memcpy(keep_fallback, keep, sizeof(keep));
	if ((s.peer_flags & VIGIL_PEER_NO_PIDFD) || !vg_probe_peerpidfd())
		keep_fallback[n_keep++] = CAP_SYS_ADMIN;
	if (cli_keep_caps("vigil server", false, keep_fallback, n_keep) < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	for (; started < n_workers; started++) {
		r = pthread_create(&workers[started].thread, NULL, worker_main,
				   &workers[started]);
		if (r) {
			cli_error("starting a worker: %s", strerror(r));
			if (!started) {
				ret = EXIT_PARTIAL;
				goto out;
			}
			break;
		}
	}
	cli_log(CLI_LOG_INFO, "listening on %s (%zu workers%s%s)", s.path, started,
		s.policy ? ", policy " : "", s.policy ? s.policy_path : "");

	for (;;) {
		int sig = 0;

		r = accept_loop(&s, sfd, &sig);
		if (r < 0) {
			cli_error("accepting: %s", strerror(-r));
			ret = EXIT_PARTIAL;
			break;
		}
		if (sig != SIGHUP)
			break;
		server_reload(&s, &args, file);
	}
out:
	if (s.listen_fd >= 0) {
		close(s.listen_fd);
		/* systemd's socket stays: it listens for the next start */
		if (s.bound)
			unlink(s.path);
	}
	pthread_mutex_lock(&s.lock);
	s.stopping = true;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	for (size_t i = 0; i < n_workers; i++)
		vigil_ctx_free(workers[i].ctx);
	if (sfd >= 0)
		close(sfd);
	if (started)
		cli_log(CLI_LOG_INFO,
			"stopped: %llu clients, %llu allowed, %llu denied, "
			"%llu refused, %llu turned away busy, %llu answers "
			"not delivered",
			(unsigned long long)s.accepted,
			(unsigned long long)s.allowed,
			(unsigned long long)s.denied,
			(unsigned long long)s.refused,
			(unsigned long long)s.busy,
			(unsigned long long)s.send_failed);
	if (sfd >= 0)
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	vigil_policy_free(s.policy);
	free(s.policy_path);
	cli_conf_file_free(file);
	cli_conf_argv_release(&args);
	return ret;
}
