/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * race-helper: syscalls whose user-memory arguments a second thread
 * rewrites while they run, and what the kernel really did, for the
 * tests of vigil's paths and addresses.
 *
 *   race-helper open N PATH_A PATH_B
 *     N opens of one buffer that another thread flips between PATH_A and
 *     PATH_B (same length, so the string is always whole). For each open
 *     that succeeded: "open FD REALPATH" (from /proc/self/fd/FD).
 *   race-helper connect N PORT_A PORT_B
 *     N TCP connects to 127.0.0.1 with one sockaddr whose port another
 *     thread flips between PORT_A and PORT_B. For each that connected:
 *     "connect FD PORT" (from getpeername()).
 *
 * Static, so that it runs in any container image. Exit 0, or 2 on usage.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_bool stop;
static char path_buf[4096];
static const char *paths[2];
static struct sockaddr_in sa;
static unsigned short ports[2];

static void *flip_path(void *arg)
{
	size_t len = strlen(paths[0]) + 1;

	(void)arg;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		memcpy(path_buf, paths[i & 1], len);
	return NULL;
}

static void *flip_port(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		*(volatile unsigned short *)&sa.sin_port = htons(ports[i & 1]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int n;

	if (argc != 5 || (n = atoi(argv[2])) <= 0)
		goto usage;
	if (strcmp(argv[1], "open") == 0) {
		paths[0] = argv[3];
		paths[1] = argv[4];
		if (strlen(paths[0]) != strlen(paths[1]) ||
		    strlen(paths[0]) >= sizeof(path_buf))
			goto usage;
		strcpy(path_buf, paths[0]);
		pthread_create(&t, NULL, flip_path, NULL);
		for (int i = 0; i < n; i++) {
			char link[64], real[4096];
			int fd = open(path_buf, O_RDONLY | O_CLOEXEC);
			ssize_t k;

			if (fd < 0)
				continue;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			k = readlink(link, real, sizeof(real) - 1);
			real[k > 0 ? k : 0] = '\0';
			printf("open %d %s\n", fd, real);
			close(fd);
		}
	} else if (strcmp(argv[1], "connect") == 0) {
		ports[0] = (unsigned short)atoi(argv[3]);
		ports[1] = (unsigned short)atoi(argv[4]);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons(ports[0]);
		pthread_create(&t, NULL, flip_port, NULL);
		for (int i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			struct sockaddr_in peer;
			socklen_t pl = sizeof(peer);

			if (fd < 0)
				continue;
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			    getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
				printf("connect %d %u\n", fd, ntohs(peer.sin_port));
			close(fd);
		}
	} else {
		goto usage;
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	return 0;
usage:
	fprintf(stderr, "usage: race-helper open N PATH_A PATH_B | connect N PORT_A PORT_B\n");
	return 2;
}
