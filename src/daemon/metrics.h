/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_DAEMON_METRICS_H
#define VG_DAEMON_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

#include "daemon/daemon.h"

/*
 * The daemon's counters for Prometheus: GET /metrics over TCP, in the
 * text exposition format 0.0.4, served by libmicrohttpd on the daemon's
 * own loop (its epoll fd is one of the loop's), so that every counter is
 * read on the thread that changes it, with no lock and no copy.
 *
 * Bounded: a few connections at once and per address, a timeout for each,
 * request headers in a small buffer; only GET and HEAD of /metrics are
 * answered (404 for another path, 405 for another method).
 */

#define VG_METRICS_PORT 9477
#define VG_METRICS_CONNECTIONS 32       /* at once */
#define VG_METRICS_CONNECTIONS_PER_IP 8
#define VG_METRICS_TIMEOUT_S 10         /* an idle or slow connection */
#define VG_METRICS_HEADER_BYTES 16384   /* a request's headers */

struct vg_metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* @s is PORT, HOST:PORT or [V6]:PORT; HOST is a numeric IPv4 address or
 * "localhost" (names are not resolved: a sensor does no DNS lookup for
 * its own address), and 127.0.0.1 when absent. Returns 0, or -EINVAL
 * with why in @err (*@ret untouched). */
int vg_metrics_parse_addr(const char *s, struct vg_metrics_addr *ret,
			  char *err, size_t errsz);

/* @a as HOST:PORT or [V6]:PORT, for messages. */
void vg_metrics_addr_format(const struct vg_metrics_addr *a, char *buf,
			    size_t bufsz);

struct vg_metrics;

/* Listen on @addr now, before anything slower is set up: an address in
 * use fails here (-EADDRINUSE), with @err. Nothing is served until
 * vg_metrics_serve(). The caller frees *@ret with vg_metrics_free(). */
int vg_metrics_new(const struct vg_metrics_addr *addr, struct vg_metrics **ret,
		   char *err, size_t errsz);

/* Serve @d's counters from its loop (vg_daemon_watch()); @d must outlive
 * the loop's run. Returns 0 or -errno. */
int vg_metrics_serve(struct vg_metrics *m, struct vg_daemon *d);

/* Closes the listener and every connection. */
void vg_metrics_free(struct vg_metrics *m);

/* The exposition of @d's counters now: 0 and a NUL-terminated text the
 * caller frees with free(), or -ENOMEM. */
int vg_metrics_render(struct vg_daemon *d, char **ret_text, size_t *ret_len);

#endif
