/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Clients for the `vigil server` tests, built static so that one binary
 * runs on the host and inside any container image.
 *
 *   ask SOCK                  connect, print "self PID PROCPID" and the
 *                             server's line (PROCPID: /proc/self, i.e.
 *                             the pid in the pid namespace of /proc)
 *   handoff SOCK DIR          connect; fork a child that keeps the
 *                             socket; exit; the child gets the exited
 *                             parent's pid reused by a process without
 *                             the socket, writes DIR/ready ("PARENT
 *                             REUSER"), then prints the server's line
 *   setuid SOCK UID DIR       connect as is, then setresuid/gid(UID),
 *                             write DIR/ready, print the line
 *   exec SOCK PATH DIR        connect, then exec PATH (a copy of this
 *                             program) which writes DIR/ready and prints
 *                             the line read from the inherited socket
 *   many SOCK N               N clients connect at once; print
 *                             "ok=A denied=D failed=F"
 *   abuse SOCK SECONDS        50 connect-and-close, 20 garbage senders,
 *                             20 that never read (held SECONDS)
 *   storm SOCK N              N clients connect at once and exit at once,
 *                             without reading: the server identifies
 *                             processes that are exiting; prints
 *                             "connected=C"
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read up to a newline or EOF (bounded, 30 s); print it. 0 if a line. */
static int print_reply(int fd, char *out, size_t outsz)
{
	static char buf[1 << 20];
	size_t len = 0;
	struct timeval tv = { .tv_sec = 30 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len + 1 < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	if (out && outsz) {
		size_t k = len < outsz - 1 ? len : outsz - 1;

		memcpy(out, buf, k);
		out[k] = '\0';
	} else
		fputs(buf, stdout);
	fflush(stdout);
	return len && buf[len - 1] == '\n' ? 0 : 1;
}

static int proc_self(void)
{
	char link[32] = "";

	if (readlink("/proc/self", link, sizeof(link) - 1) < 0)
		return -1;
	return atoi(link);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, text, strlen(text));
	close(fd);
	rename(tmp, path);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Fork until a child gets pid @want (via ns_last_pid); the child closes
 * every fd above 2 and sleeps. Returns its pid, or the last tried. */
static pid_t reuse_pid(pid_t want)
{
	pid_t got = -1;

	for (int tries = 0; tries < 50; tries++) {
		char v[32];
		int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);

		if (fd >= 0) {
			snprintf(v, sizeof(v), "%d", want - 1);
			(void)!write(fd, v, strlen(v));
			close(fd);
		}
		got = fork();
		if (got == 0) {
			for (int i = 3; i < 1024; i++)
				close(i);
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
			pause();
			_exit(0);
		}
		if (got == want || got < 0)
			return got;
		kill(got, SIGKILL);
		waitpid(got, NULL, 0);
	}
	return got;
}

static int cmd_handoff(const char *sock, const char *dir)
{
	int fd = dial(sock), p[2];
	pid_t parent = getpid(), child;

	if (fd < 0 || pipe(p) < 0)
		return 3;
	child = fork();
	if (child < 0)
		return 3;
	if (child > 0) {
		/* the connecting process goes; its child keeps the socket */
		_exit(0);
	}
	close(p[0]);
	close(p[1]);
	/* wait until the parent is reaped (by init or the subreaper) */
	for (int i = 0; i < 500 && kill(parent, 0) == 0; i++)
		sleep_ms(10);
	pid_t reuser = reuse_pid(parent);
	char text[64];

	snprintf(text, sizeof(text), "%d %d\n", (int)parent, (int)reuser);
	write_file(dir, "ready", text);
	int rc = print_reply(fd, NULL, 0);

	if (reuser > 0) {
		kill(reuser, SIGKILL);
		waitpid(reuser, NULL, 0);
	}
	return rc;
}

static int cmd_setuid(const char *sock, const char *uid_s, const char *dir)
{
	int fd = dial(sock);
	uid_t uid = (uid_t)atoi(uid_s);

	if (fd < 0)
		return 3;
	if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
		perror("setresuid");
		return 3;
	}
	write_file(dir, "ready", "setuid\n");
	return print_reply(fd, NULL, 0);
}

static int cmd_exec(const char *self, const char *sock, const char *path,
		    const char *dir)
{
	int fd = dial(sock);
	char fds[16];

	(void)self;
	if (fd < 0)
		return 3;
	snprintf(fds, sizeof(fds), "%d", fd);
	execl(path, path, "readfd", fds, dir, (char *)NULL);
	perror("exec");
	return 3;
}

static int cmd_readfd(const char *fd_s, const char *dir)
{
	char text[64];

	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	write_file(dir, "ready", text);
	return print_reply(atoi(fd_s), NULL, 0);
}

static int cmd_many(const char *sock, int n)
{
	int ok = 0, denied = 0, failed = 0, go[2];

	if (n <= 0 || n > 5000 || pipe(go) < 0)
		return 3;
	for (int i = 0; i < n; i++) {
		pid_t c = fork();

		if (c < 0) {
			failed++;
			continue;
		}
		if (c == 0) {
			char b, reply[4096];
			int fd;

			close(go[1]);
			/* all connect when the pipe closes */
			(void)!read(go[0], &b, 1);
			fd = dial(sock);
			if (fd < 0)
				_exit(3);
			if (print_reply(fd, reply, sizeof(reply)) != 0)
				_exit(3);
			_exit(strstr(reply, "\"allowed\":true") ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]);
	for (;;) {
		int st;
		pid_t c = wait(&st);

		if (c < 0)
			break;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			denied++;
		else
			failed++;
	}
	printf("ok=%d denied=%d failed=%d\n", ok, denied, failed);
	return failed ? 1 : 0;
}

static int cmd_storm(const char *sock, int n)
{
	int connected = 0, go[2];

	if (n <= 0 || n > 5000 || pipe(go) < 0)
		return 3;
	for (int i = 0; i < n; i++) {
		pid_t c = fork();

		if (c == 0) {
			char b;

			close(go[1]);
			(void)!read(go[0], &b, 1);
			_exit(dial(sock) < 0 ? 1 : 0); /* and the socket goes too */
		}
	}
	close(go[0]);
	close(go[1]);
	for (;;) {
		int st;

		if (wait(&st) < 0)
			break;
		connected += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	printf("connected=%d\n", connected);
	return 0;
}

static int cmd_abuse(const char *sock, int secs)
{
	static char junk[64 * 1024];
	int held[20], nheld = 0, made = 0;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 50; i++) {
		int fd = dial(sock);

		if (fd >= 0) {
			made++;
			close(fd);
		}
	}
	for (int i = 0; i < 20; i++) {
		int fd = dial(sock);

		if (fd >= 0) {
			made++;
			fcntl(fd, F_SETFL, O_NONBLOCK);
			(void)!write(fd, junk, sizeof(junk));
			(void)!write(fd, "\n\n{\"x\":", 7);
			close(fd);
		}
	}
	for (int i = 0; i < 20; i++) {
		int fd = dial(sock);

		if (fd >= 0) {
			made++;
			held[nheld++] = fd;
		}
	}
	printf("connections=%d\n", made);
	fflush(stdout);
	sleep_ms(secs * 1000L);
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	return made == 90 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "ask") == 0) {
		int fd = dial(argv[2]);

		printf("self %d %d\n", (int)getpid(), proc_self());
		fflush(stdout);
		if (fd < 0) {
			perror("connect");
			return 3;
		}
		return print_reply(fd, NULL, 0);
	}
	if (argc >= 4 && strcmp(argv[1], "handoff") == 0)
		return cmd_handoff(argv[2], argv[3]);
	if (argc >= 5 && strcmp(argv[1], "setuid") == 0)
		return cmd_setuid(argv[2], argv[3], argv[4]);
	if (argc >= 5 && strcmp(argv[1], "exec") == 0)
		return cmd_exec(argv[0], argv[2], argv[3], argv[4]);
	if (argc >= 4 && strcmp(argv[1], "readfd") == 0)
		return cmd_readfd(argv[2], argv[3]);
	if (argc >= 4 && strcmp(argv[1], "many") == 0)
		return cmd_many(argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "abuse") == 0)
		return cmd_abuse(argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "storm") == 0)
		return cmd_storm(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of peer-helper.c\n");
	return 2;
}
