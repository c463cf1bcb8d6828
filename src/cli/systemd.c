/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd's notification and socket-activation protocols, through
 * libsystemd: linked into the command only, never into libvigil. */
#include "cli/systemd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "base/util.h"
#include "cli.h"
#include "log.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A failure to notify costs the service its readiness or its watchdog:
 * said once, not at every tick. */
static void send_state(struct cli_notify *n, const char *state)
{
	static bool told;
	int r;

	if (!n->on)
		return;
	r = sd_notify(0, state);
	if (r < 0 && !told) {
		told = true;
		cli_log(CLI_LOG_WARNING, "telling the service manager (NOTIFY_SOCKET): %s",
			  strerror(-r));
	}
}

void cli_notify_init(struct cli_notify *n)
{
	const char *e = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;

	memset(n, 0, sizeof(*n));
	n->on = e && *e;
	/* WATCHDOG_PID, when set, names the process the watchdog is for */
	if (sd_watchdog_enabled(1, &usec) > 0 && n->on)
		n->watchdog_usec = usec;
}

unsigned cli_notify_tick_ms(const struct cli_notify *n)
{
	uint64_t ms;

	if (!n->on)
		return 0;
	ms = CLI_NOTIFY_STATUS_MS;
	/* half the interval: one late turn is not a missed ping */
	if (n->watchdog_usec && n->watchdog_usec / 2000 < ms)
		ms = n->watchdog_usec / 2000;
	return ms ? (unsigned)ms : 1;
}

void cli_notify_ready(struct cli_notify *n, const char *status)
{
	char buf[sizeof(n->status) + 32];
	uint64_t now = mono_ns();

	if (!n->on)
		return;
	snprintf(n->status, sizeof(n->status), "%s", status);
	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", n->status);
	send_state(n, buf);
	if (n->watchdog_usec) {
		send_state(n, "WATCHDOG=1");
		n->next_watchdog_ns = now + n->watchdog_usec * 1000 / 2;
	}
	n->next_status_ns = now + CLI_NOTIFY_STATUS_MS * 1000000ull;
}

bool cli_notify_tick(struct cli_notify *n)
{
	uint64_t now;

	if (!n->on)
		return false;
	now = mono_ns();
	if (n->watchdog_usec && now >= n->next_watchdog_ns) {
		send_state(n, "WATCHDOG=1");
		n->next_watchdog_ns = now + n->watchdog_usec * 1000 / 2;
	}
	if (now < n->next_status_ns)
		return false;
	n->next_status_ns = now + CLI_NOTIFY_STATUS_MS * 1000000ull;
	return true;
}

void cli_notify_status(struct cli_notify *n, const char *status)
{
	char buf[sizeof(n->status) + 16];

	if (!n->on || !strncmp(n->status, status, sizeof(n->status) - 1))
		return;
	snprintf(n->status, sizeof(n->status), "%s", status);
	snprintf(buf, sizeof(buf), "STATUS=%s", n->status);
	send_state(n, buf);
}

void cli_notify_stopping(struct cli_notify *n, const char *status)
{
	char buf[sizeof(n->status) + 32];

	if (!n->on)
		return;
	if (status) {
		snprintf(n->status, sizeof(n->status), "%s", status);
		snprintf(buf, sizeof(buf), "STOPPING=1\nSTATUS=%s", n->status);
		send_state(n, buf);
	} else {
		send_state(n, "STOPPING=1");
	}
}

int cli_sd_listen_fd(const char *who, char *path, size_t pathsz)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int n, fd = SD_LISTEN_FDS_START;

	/* the variables are cleared: they are this process's alone */
	n = sd_listen_fds(1);
	if (n < 0) {
		cli_error("%s: the sockets systemd passed (LISTEN_FDS): %s", who,
			  strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		cli_error("%s: systemd passed %d sockets; it takes one listening "
			  "Unix stream socket (ListenStream=/path in the .socket unit)",
			  who, n);
		return -1;
	}
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		cli_error("%s: the socket systemd passed (fd %d) is not a listening "
			  "Unix stream socket: check ListenStream= in the .socket "
			  "unit (a path, and Accept=no)", who, fd);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == '\0')
		snprintf(path, pathsz, "(fd %d from systemd)", fd);
	else
		snprintf(path, pathsz, "%.*s",
			 (int)(len - offsetof(struct sockaddr_un, sun_path)),
			 sa.sun_path);
	return fd;
}
