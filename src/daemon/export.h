/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_DAEMON_EXPORT_H
#define VG_DAEMON_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

/*
 * Exports: the daemon's events sent off the node, to NATS JetStream, to
 * syslog, or to a file, so that a fleet's events can be read in one
 * place. Each export is an engine sink of its own, with its own event
 * types, container selection and filter (the filter language), and its
 * own bounded queue: an export that cannot keep up loses its own events,
 * counted, never anyone else's, and never stalls the daemon's loop.
 *
 * Every record an export sends is one event's JSON object with "node"
 * (the node's name), "sensor" (the daemon's id, new at every start) and
 * "seq" first. "seq" is the export's own count of the events offered to
 * it, 1, 2, ... from each start: an event the export had to drop keeps
 * its number, so a consumer sees every loss as a gap in one sensor's
 * numbers, and the export also says it with a record of type "lost"
 * ({"evt":{"type":"lost"},"lost":{"total":N,"reason":"..."}}) when it can.
 * A lost record takes the next number too, once the kind has taken it,
 * so that every record a kind is handed has a number of its own (a
 * JetStream message id); a consumer counts it as no event.
 *
 * The framework (export.c) owns the sink, the filter, the sequence and
 * the counting; a kind (export_file.c, export_syslog.c, export_nats.c)
 * owns the transport, through struct vg_export_kind.
 */

/* One "key = value" an export was configured with, and where it was said
 * ("/etc/vigil/vigil.conf:12", or "--export"), for error messages. */
struct vg_export_kv {
	const char *key, *value, *where;
};

/*
 * One export's configuration. Config file: a section per export,
 *
 *   [export fleet]
 *   kind = nats
 *   target = nats://10.0.0.5:4222
 *   events = exec,connect
 *   filter = container.id != ""
 *
 * Command line (repeatable): --export 'NAME KIND TARGET [KEY=VALUE]...',
 * values in double quotes where they hold blanks (\" and \\ inside).
 * Keys every kind takes (the framework's): events, filter, container,
 * image, pod, host, path, queue (bytes, default 8 MiB). Any other key is
 * the kind's; a key no one takes is an error naming where it was said.
 */
struct vg_export_conf {
	const char *name;         /* [a-zA-Z0-9_-]{1,32} */
	const char *kind;         /* "nats", "syslog", "file" */
	const char *target;       /* the kind's: URL, address, path */
	const struct vg_export_kv *kv; /* the kind's own keys only */
	size_t n_kv;
	const char *node;         /* NODE_NAME, else the host name */
	const char *sensor_id;
	const char *state_dir;    /* a directory of the export's own for what
				   * it keeps on disk (spools): created 0700 */
	size_t queue_bytes;       /* the framework's queue; a kind may keep its
				   * own bounded buffers beyond it */
};

/* What a kind counts; the framework adds what it counts itself. */
struct vg_export_kind_stats {
	uint64_t sent;            /* handed to the transport */
	uint64_t acked;           /* confirmed by the receiver (JetStream acks,
				   * RELP): 0 where the transport cannot say */
	uint64_t lost;            /* lost by the transport, known and counted */
	uint64_t lost_unknown;    /* events of failures whose count the
				   * transport cannot tell (UDP errors, a TCP
				   * connection reset): how many times */
	uint64_t spooled;         /* written to the disk spool */
	uint64_t spool_lost;      /* dropped from a full spool, oldest first */
	uint64_t spool_bytes;     /* in the spool now */
	uint64_t buffered;        /* waiting in the kind's own buffer now */
	bool connected;
	char state[128];          /* "connected", "down: <why>", ... */
};

/*
 * A kind. Every function runs on the daemon's loop unless said otherwise,
 * and must not block it: connecting, writing and waiting for acks happen
 * when the loop says the kind's fd is ready or its wait is over, or on a
 * thread of the kind's own.
 */
struct vg_export_kind {
	const char *name;
	/* Check @c (every key of @c->kv is the kind's to take or refuse,
	 * naming kv->where) and set up, without connecting yet.
	 * *@ret_observe: the event types the kind wants to see whatever the
	 * export's filter (see observe), 0 for none. Returns 0, or -errno
	 * with @err. */
	int (*open)(const struct vg_export_conf *c, void **ret_state,
		    uint64_t *ret_observe, char *err, size_t errsz);
	/* One record, @rec (JSON, no newline) numbered @seq, of event @e
	 * (NULL for a "lost" record). 0: taken; -ENOBUFS: no room, the
	 * framework counts the loss and the gap stays. Never blocks. */
	int (*push)(void *st, uint64_t seq, const char *rec, size_t len,
		    const struct vg_event *e);
	/* Optional: every event of the types open() asked to observe,
	 * before any filter (NATS keeps the node's containers this way). */
	void (*observe)(void *st, const struct vg_event *e);
	/* The fd the daemon's loop watches for the kind (-1: none; a
	 * kind with a thread may hand an eventfd), and the work done when
	 * it is readable or the wait run() last returned is over. run()
	 * returns the next wait in ms, -1 for none. */
	int (*fd)(void *st);
	int (*run)(void *st);
	void (*stats)(void *st, struct vg_export_kind_stats *ret);
	/* At exit: send what is waiting within @timeout_ms (a kind with a
	 * spool writes the rest there), then free. NULL-safe. */
	void (*close)(void *st, unsigned timeout_ms);
};

/* For kinds' keys: a size in bytes, or with k, M, G (powers of 1024).
 * 0 or -EINVAL. */
int vg_export_parse_bytes(const char *s, uint64_t *ret);

extern const struct vg_export_kind vg_export_file, vg_export_syslog,
	vg_export_nats;

#endif
