/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_DAEMON_CLIENT_H
#define VG_DAEMON_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include "render/printer.h"

/* vigil watch's options, as one subscription to a vigil daemon. */
struct vg_watch_client_opts {
	const char *socket;
	const char *const *events; /* type names */
	size_t n_events;
	const char *filter;
	const char *const *refs;
	size_t n_refs;
	const char *image, *pod; /* pod: NS/NAME */
	const char *path;        /* --path */
	bool host;
	enum vg_output_mode mode; /* the daemon renders either form */
	uint64_t max_count, duration_ms;
	volatile sig_atomic_t *stop; /* set by the caller's signal handler */
	void (*subscribed)(void *ctx); /* the daemon took the subscription */
	void *ctx;
};

/*
 * Subscribe on @fd (which it closes) and print what comes until done.
 * Returns 0, -EPERM with the daemon's reason in @err (it refused the
 * subscription), or another -errno with @err (it went away).
 * *@ret_printed: the events printed.
 */
int vg_watch_client_run(int fd, const struct vg_watch_client_opts *o,
			uint64_t *ret_printed, char *err, size_t errsz);

#endif
