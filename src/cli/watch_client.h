/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_CLI_WATCH_CLIENT_H
#define VG_CLI_WATCH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/printer.h"

/* A daemon client's queue: no line the daemon sends is longer (a longer
 * event could never be queued; it is counted as lost instead). */
#define DAEMON_QUEUE_BYTES (4u << 20)

/* vigil watch's options, as one subscription to a vigil daemon. */
struct watch_client_opts {
	const char *socket;
	const char *const *events; /* type names */
	size_t n_events;
	const char *filter;
	const char *const *refs;
	size_t n_refs;
	const char *image, *pod; /* pod: NS/NAME */
	bool host;
	enum vg_output_mode mode;
	uint64_t max_count, duration_ms;
};

/* Subscribe on @fd (which it closes) and print until done; an exit
 * status. */
int watch_client_run(int fd, const struct watch_client_opts *o);

#endif
