// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The syscalls behind vigil's opt-in events, each once, for
 * test-watch-syscalls.sh: a ptrace attach of a child and a
 * PTRACE_TRACEME, a packet socket (where CAP_NET_RAW allows), a TCP
 * connection on loopback whose socket is dup2'ed onto stdout, and a UDP
 * sendto on loopback. Prints what it did, one "name=value" a line, on
 * stderr (stdout is the socket for a moment).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "syscall-helper: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int st, l, c, u, saved, pk;
	pid_t child;

	/* ptrace: attach to a child, then let it go */
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		pause();
		_exit(0);
	}
	if (ptrace(PTRACE_ATTACH, child, NULL, NULL) < 0)
		die("PTRACE_ATTACH");
	waitpid(child, &st, 0);
	fprintf(stderr, "attached=%d\n", (int)child);
	ptrace(PTRACE_DETACH, child, NULL, NULL);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);

	/* PTRACE_TRACEME, in a child that then ends */
	child = fork();
	if (child == 0)
		_exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0);
	waitpid(child, &st, 0);
	fprintf(stderr, "traceme=%d\n", (int)child);

	/* a packet socket: refused without CAP_NET_RAW, seen either way */
	pk = socket(AF_PACKET, SOCK_RAW, 0);
	fprintf(stderr, "packet=%d\n", pk < 0 ? -errno : pk);
	if (pk >= 0)
		close(pk);

	/* TCP on loopback; the client's socket over stdout */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	fprintf(stderr, "tcp_fd=%d port=%d\n", c, ntohs(a.sin_port));
	saved = dup(1);
	if (saved < 0 || dup2(c, 1) < 0 || dup2(saved, 1) < 0)
		die("dup2");
	fprintf(stderr, "dup_saved=%d\n", saved);

	/* UDP sendto on loopback, to the same port number */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (u < 0 || sendto(u, "vigil", 5, 0, (struct sockaddr *)&a, sizeof(a)) != 5)
		die("sendto");
	fprintf(stderr, "udp_fd=%d\n", u);
	return 0;
}
