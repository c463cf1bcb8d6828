/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_SYSTEMD_H
#define VG_CLI_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The service manager's side of a long-running command, where systemd
 * started it: readiness, the watchdog and a status line (sd_notify), and
 * a listening socket it made (socket activation). Started any other way
 * (no NOTIFY_SOCKET, no LISTEN_FDS), each of these does nothing.
 */

/* How often the status line may change: a few times a minute. */
#define CLI_NOTIFY_STATUS_MS 15000

struct cli_notify {
	bool on;                   /* NOTIFY_SOCKET was set */
	uint64_t watchdog_usec;    /* 0: no watchdog asked for */
	uint64_t next_watchdog_ns; /* CLOCK_MONOTONIC */
	uint64_t next_status_ns;
	char status[256];          /* the last status sent */
};

/* Read what the service manager asked for from the environment. The
 * watchdog's settings are cleared from there, so that a program this
 * process starts does not take them for its own. */
void cli_notify_init(struct cli_notify *n);
/* The longest the caller may go between cli_notify_tick() calls, in ms:
 * half the watchdog's interval, or the status period; 0: no calls
 * needed (not under systemd). */
unsigned cli_notify_tick_ms(const struct cli_notify *n);
/* READY=1 with a first status line. */
void cli_notify_ready(struct cli_notify *n, const char *status);
/* WATCHDOG=1 when due. True when a new status line is due: the caller
 * then gives it to cli_notify_status(). */
bool cli_notify_tick(struct cli_notify *n);
/* STATUS=@status, if it says something new. */
void cli_notify_status(struct cli_notify *n, const char *status);
/* STOPPING=1, with a last status line (NULL: none). */
void cli_notify_stopping(struct cli_notify *n, const char *status);

/* The listening socket systemd passed, for @who: its fd (close-on-exec)
 * and, in @path (@pathsz bytes), the path it is bound to; 0 when systemd
 * passed none (bind one as usual); -1 with the reason printed when what
 * it passed is not one listening Unix stream socket. */
int cli_sd_listen_fd(const char *who, char *path, size_t pathsz);

#endif
