// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * storm — the workloads of bench-watch.sh: N operations of one kind, as
 * fast as they go, timed as a whole.
 *
 *   storm exec N         fork + execve("/bin/true") + waitpid, N times
 *   storm open N PATH    open(PATH, O_RDONLY) + close, N times
 *   storm connect N      TCP connect + accept + close on 127.0.0.1, N times,
 *                        to a port this program listens on itself
 *   storm getppid N      getppid(), N times (a syscall nobody watches)
 *
 * On success prints, on stdout:
 *   ops N
 *   ns_per_op X          elapsed wall time / N, in nanoseconds
 *   cpu_ns_per_op X      CPU time (user + system) of this process and of
 *                        the children it waited for, / N: what the
 *                        operations cost where they ran, kernel hooks
 *                        included, less sensitive than wall time to other
 *                        processes taking the CPUs
 *   port P               (connect only) the listening port, so that the
 *                        harness can find these connections in tools'
 *                        output
 * and exits 0. Any failed operation ends the run with a message on stderr
 * and exit status 1; usage errors exit 2.
 *
 * connect only ever touches 127.0.0.1: the listener is bound there and
 * every connection goes to it. The accepted side closes first, so the
 * TIME_WAIT state stays on the listener's port and the client's
 * ephemeral ports are free again at once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORM_MAX 100000000L

extern char **environ;

static double now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* user + system time of this process and its waited-for children */
static double cpu_ns(void)
{
        struct rusage self, kids;

        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        return ((double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
                         kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) * 1e9 +
                (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
                         kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) * 1e3);
}

static int fail(const char *what, long i)
{
        fprintf(stderr, "storm: %s (operation %ld): %s\n", what, i,
                strerror(errno));
        return 1;
}

static int storm_exec(long n)
{
        char *const argv[] = { "/bin/true", NULL };
        long i;

        for (i = 0; i < n; i++) {
                int st;
                pid_t pid = fork();

                if (pid < 0)
                        return fail("fork", i);
                if (pid == 0) {
                        execve(argv[0], argv, environ);
                        _exit(127);
                }
                while (waitpid(pid, &st, 0) < 0)
                        if (errno != EINTR)
                                return fail("waitpid", i);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                        fprintf(stderr, "storm: %s failed (operation %ld, "
                                "status 0x%x)\n", argv[0], i, st);
                        return 1;
                }
        }
        return 0;
}

static int storm_open(long n, const char *path)
{
        long i;

        for (i = 0; i < n; i++) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);

                if (fd < 0)
                        return fail(path, i);
                close(fd);
        }
        return 0;
}

static int storm_connect(long n, unsigned *port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof(sa);
        int one = 1, lfd;
        long i;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                return fail("socket", -1);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(lfd, 128) < 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
                return fail("listen on 127.0.0.1", -1);
        /* Connect to exactly what we listen on: 127.0.0.1, our port. */
        if (sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
                fprintf(stderr, "storm: listener is not on 127.0.0.1\n");
                return 1;
        }
        *port = ntohs(sa.sin_port);

        for (i = 0; i < n; i++) {
                int cfd, afd;

                cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (cfd < 0)
                        return fail("socket", i);
                if (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                        return fail("connect to 127.0.0.1", i);
                afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (afd < 0)
                        return fail("accept", i);
                close(afd);
                close(cfd);
        }
        close(lfd);
        return 0;
}

static int storm_getppid(long n)
{
        volatile pid_t sink = 0;
        long i;

        for (i = 0; i < n; i++)
                sink += getppid();
        (void)sink;
        return 0;
}

static void __attribute__((noreturn)) usage(void)
{
        fprintf(stderr,
                "usage: storm exec N | storm open N PATH | storm connect N |"
                " storm getppid N   (1 <= N <= %ld)\n", STORM_MAX);
        exit(2);
}

int main(int argc, char **argv)
{
        const char *mode;
        unsigned port = 0;
        double t0, t1, c0, c1;
        char *end;
        long n;
        int rc;

        if (argc < 3)
                usage();
        mode = argv[1];
        errno = 0;
        n = strtol(argv[2], &end, 10);
        if (errno || *end || end == argv[2] || n < 1 || n > STORM_MAX)
                usage();
        if (strcmp(mode, "open") == 0 ? argc != 4 : argc != 3)
                usage();

        c0 = cpu_ns();
        t0 = now_ns();
        if (strcmp(mode, "exec") == 0)
                rc = storm_exec(n);
        else if (strcmp(mode, "open") == 0)
                rc = storm_open(n, argv[3]);
        else if (strcmp(mode, "connect") == 0)
                rc = storm_connect(n, &port);
        else if (strcmp(mode, "getppid") == 0)
                rc = storm_getppid(n);
        else
                usage();
        t1 = now_ns();
        c1 = cpu_ns();
        if (rc)
                return rc;

        printf("ops %ld\n", n);
        printf("ns_per_op %.1f\n", (t1 - t0) / (double)n);
        printf("cpu_ns_per_op %.1f\n", (c1 - c0) / (double)n);
        if (port)
                printf("port %u\n", port);
        return fflush(stdout) == 0 ? 0 : 1;
}
