// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spawn — start N idle processes for benchmarks that walk /proc.
 *
 *   spawn [-f] N
 *
 * Each child re-executes this binary with a realistic-looking argv and
 * comm (python3, nginx, node, postgres, java) and blocks reading a pipe.
 * "-f" skips the exec: children are plain forks that share our argv.
 * Once every child is up, "ready N" is printed on stdout.  When stdin
 * reaches end-of-file, or on SIGTERM/SIGINT/SIGHUP, every child is
 * killed and reaped and spawn exits 0.
 *
 * No leaks: children hold the read end of a pipe whose only write end
 * is ours, so they see EOF and exit however we die, and they also carry
 * PR_SET_PDEATHSIG = SIGKILL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPAWN_MAX        20000
#define CHILD_ENV        "BENCH_SPAWN_CHILD"
#define HOLD_FD          3   /* child: read end of the hold pipe */
#define READY_FD         4   /* child: write end of the ready pipe */
#define READY_TIMEOUT_MS 120000

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
        stop_signal = sig;
}

/* Child side, after exec: announce, then block until the parent is gone. */
static int child_main(const char *ppid_str, const char *comm)
{
        char c;
        ssize_t n;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(1);
        /* The parent may have died before the death signal was armed. */
        if (getppid() != (pid_t)strtol(ppid_str, NULL, 10))
                _exit(1);
        if (comm)
                prctl(PR_SET_NAME, comm);
        c = 'r';
        if (write(READY_FD, &c, 1) != 1)
                _exit(1);
        close(READY_FD);
        do
                n = read(HOLD_FD, &c, 1);
        while (n > 0 || (n < 0 && errno == EINTR));
        _exit(0);
}

struct tmpl {
        const char *comm;
        const char *fmt[8];   /* argv; "%d" is replaced by the index */
};

static const struct tmpl tmpls[] = {
        { "python3",  { "/usr/bin/python3", "-m", "worker.main", "--queue",
                        "jobs-%d", "--concurrency=4", NULL } },
        { "nginx",    { "nginx: worker process", NULL } },
        { "node",     { "/usr/bin/node", "/srv/app/server.js", "--port", "%d",
                        "--env=production", NULL } },
        { "postgres", { "postgres: app app_db 127.0.0.1(%d) idle", NULL } },
        { "java",     { "/opt/java/bin/java", "-Xmx256m", "-jar",
                        "/srv/svc-%d.jar", "--spring.profiles.active=prod",
                        NULL } },
};

#define N_TMPLS (sizeof(tmpls) / sizeof(tmpls[0]))

/* Runs in the forked child: set up fds and exec ourselves in child mode. */
static void child_exec(const char *self, int hold_rd, int ready_wr,
                       pid_t parent, unsigned idx)
{
        const struct tmpl *t = &tmpls[idx % N_TMPLS];
        char buf[8][96];
        char *argv[9];
        char envv[3][64];
        char *envp[4];
        unsigned i;

        /*
         * Move both ends above the target numbers first, so that neither
         * dup2() clobbers the other and both targets lose O_CLOEXEC (a
         * dup2() onto the same number would keep it).
         */
        hold_rd = fcntl(hold_rd, F_DUPFD_CLOEXEC, 10);
        ready_wr = fcntl(ready_wr, F_DUPFD_CLOEXEC, 10);
        if (hold_rd < 0 || ready_wr < 0 ||
            dup2(hold_rd, HOLD_FD) < 0 || dup2(ready_wr, READY_FD) < 0)
                _exit(1);
        for (i = 0; i < 8 && t->fmt[i]; i++) {
                const char *f = t->fmt[i];
                const char *pct = strstr(f, "%d");

                if (pct)
                        snprintf(buf[i], sizeof(buf[i]), "%.*s%u%s",
                                 (int)(pct - f), f, 1000 + idx, pct + 2);
                else
                        snprintf(buf[i], sizeof(buf[i]), "%s", f);
                argv[i] = buf[i];
        }
        argv[i] = NULL;
        snprintf(envv[0], sizeof(envv[0]), "%s=%d", CHILD_ENV, (int)parent);
        snprintf(envv[1], sizeof(envv[1]), "BENCH_SPAWN_COMM=%s", t->comm);
        snprintf(envv[2], sizeof(envv[2]), "PATH=/usr/bin:/bin");
        envp[0] = envv[0];
        envp[1] = envv[1];
        envp[2] = envv[2];
        envp[3] = NULL;
        execve(self, argv, envp);
        _exit(127);
}

static void usage(void)
{
        fprintf(stderr, "usage: spawn [-f] N   (1 <= N <= %d)\n", SPAWN_MAX);
        exit(2);
}

int main(int argc, char **argv)
{
        const char *env = getenv(CHILD_ENV);
        struct sigaction sa;
        sigset_t block, orig;
        char self[PATH_MAX];
        int hold[2], ready[2];
        int fork_only = 0, rc = 0;
        long n = 0, started = 0, acked = 0;
        pid_t parent = getpid();
        pid_t *pids;
        ssize_t len;
        char *end;
        int i;

        if (env)
                return child_main(env, getenv("BENCH_SPAWN_COMM"));

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-f") == 0) {
                        fork_only = 1;
                } else {
                        errno = 0;
                        n = strtol(argv[i], &end, 10);
                        if (errno || *end || end == argv[i])
                                usage();
                }
        }
        if (n < 1 || n > SPAWN_MAX)
                usage();

        len = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (len < 0) {
                perror("spawn: readlink /proc/self/exe");
                return 1;
        }
        self[len] = '\0';

        pids = calloc((size_t)n, sizeof(*pids));
        if (!pids) {
                perror("spawn: calloc");
                return 1;
        }
        /* Our end of each pipe must not leak into the children. */
        if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
                perror("spawn: pipe");
                return 1;
        }

        /* Signals stay blocked except inside ppoll(), so none is missed. */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &orig);

        for (started = 0; started < n; started++) {
                pid_t pid = fork();

                if (pid < 0) {
                        fprintf(stderr, "spawn: fork #%ld: %s\n", started,
                                strerror(errno));
                        rc = 1;
                        goto out;
                }
                if (pid == 0) {
                        sigprocmask(SIG_SETMASK, &orig, NULL);
                        signal(SIGTERM, SIG_DFL);
                        signal(SIGINT, SIG_DFL);
                        signal(SIGHUP, SIG_DFL);
                        signal(SIGPIPE, SIG_DFL);
                        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
                            getppid() != parent)
                                _exit(1);
                        if (fork_only) {
                                char c;
                                ssize_t r;

                                close(ready[0]);
                                close(ready[1]);
                                close(hold[1]);
                                do
                                        r = read(hold[0], &c, 1);
                                while (r > 0 || (r < 0 && errno == EINTR));
                                _exit(0);
                        }
                        child_exec(self, hold[0], ready[1], parent,
                                   (unsigned)started);
                }
                pids[started] = pid;
        }

        /* Wait until every exec'd child has announced itself. */
        close(ready[1]);
        ready[1] = -1;
        while (!fork_only && acked < n) {
                struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
                struct timespec ts = { READY_TIMEOUT_MS / 1000, 0 };
                char buf[4096];
                ssize_t r;
                int p = ppoll(&pfd, 1, &ts, &orig);

                if (p < 0 && errno == EINTR)
                        goto out;
                if (p <= 0) {
                        fprintf(stderr, "spawn: only %ld of %ld children "
                                "ready\n", acked, n);
                        rc = 1;
                        goto out;
                }
                r = read(ready[0], buf, sizeof(buf));
                if (r <= 0) {
                        fprintf(stderr, "spawn: %ld of %ld children ready, "
                                "the others failed\n", acked, n);
                        rc = 1;
                        goto out;
                }
                acked += r;
        }
        printf("ready %ld\n", n);
        fflush(stdout);

        /* Idle until stdin closes or a signal asks us to stop. */
        for (;;) {
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                char buf[256];
                int p = ppoll(&pfd, 1, NULL, &orig);

                if (p < 0 && errno == EINTR)
                        break;
                if (p < 0) {
                        perror("spawn: ppoll");
                        rc = 1;
                        break;
                }
                if (pfd.revents & POLLNVAL)
                        break;
                if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
                        break;
        }

out:
        for (i = 0; i < started; i++)
                kill(pids[i], SIGKILL);
        close(hold[1]);
        for (i = 0; i < started; i++)
                while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                        ;
        free(pids);
        return rc;
}
