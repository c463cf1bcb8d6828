/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_ALERT_H
#define VG_RENDER_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "render/printer.h"

/*
 * An alert: a rule an event matched, in Falco's JSON output shape, so
 * that what consumes Falco's alerts takes vigil's:
 *
 *   {"time":"2026-07-22T16:45:43.123456789Z","rule":"...","priority":
 *    "Warning","output":"16:45:43.123456789: Warning ...","output_fields":
 *    {"evt.time":...,"proc.name":"sh",...},"tags":[...],"source":"syscall",
 *    "hostname":"node1", "container":{...},"k8s":{...},"proc":{"exec_id":..}}
 *
 * (container, k8s and proc are vigil's additions, as its events carry
 * them). Text, as Falco prints to stdout: "TIME: Priority OUTPUT", the
 * output's control characters escaped (render/escape.h).
 */

/* One %field of the output with its value. */
struct vg_alert_field {
	const char *name;
	bool present;      /* false: <NA>, JSON null */
	bool num;
	const char *s;     /* @len bytes, not NUL-terminated */
	size_t len;
	int64_t n;
};

struct vg_alert {
	const struct vg_event *e;   /* the event that matched */
	int64_t time_ns;            /* wall clock, ns */
	const char *rule, *priority, *source, *hostname;
	const char *output;         /* the message, %fields substituted */
	char *const *tags;
	size_t n_tags;
	const struct vg_alert_field *fields;
	size_t n_fields;
	const char *exec_id;        /* NULL: none */
};

/* "2026-07-22T16:45:43.123456789Z" of @ns (wall), in @buf (32 bytes at
 * least). */
void vg_render_time_ns(int64_t ns, char *buf, size_t bufsz);

/* @a as one record of @p (begun here; the caller ends it). */
void vg_render_alert(struct vg_printer *p, const struct vg_alert *a);

#endif
