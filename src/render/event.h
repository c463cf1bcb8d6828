/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RENDER_EVENT_H
#define VG_RENDER_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "render/printer.h"

/*
 * The one JSON and the one text form of an event, for vigil watch
 * embedded, the daemon's subscribers and every export alike. JSON is one
 * object per line; text one line per event:
 *
 *   TIME TYPE pid=P ppid=P uid=U COMM container=... WHAT
 *
 * where every value a process controls (comm, exe, argv, paths, names,
 * tracepoint strings) is one token by the rule of render/escape.h: bare
 * when plain, else quoted and escaped, so it cannot forge a field, a
 * line, or hide text. The renderer reads the event and
 * its engine-filled part (exec ids, the table's exe, the attribution),
 * and caches what repeats across events of one thread and one cgroup.
 */

struct vg_renderer;

/* NULL on -ENOMEM. */
struct vg_renderer *vg_renderer_new(void);
void vg_renderer_free(struct vg_renderer *r);

/* Wall time = an event's boot time + @boot_to_wall_ns. */
void vg_renderer_set_clock(struct vg_renderer *r, int64_t boot_to_wall_ns);
/* The mount namespace whose paths are host paths as they are. */
void vg_renderer_set_host_mntns(struct vg_renderer *r, uint32_t mntns);
/* Metadata changed: attribution members made before are stale. */
void vg_renderer_forget(struct vg_renderer *r);

/*
 * @e as one line without its newline; *@ret_len its length. Valid until
 * the next call for the same @mode. NULL when out of memory, or for an
 * event that has no form (internal ones).
 */
const char *vg_render_event(struct vg_renderer *r, const struct vg_event *e,
			    enum vg_output_mode mode, size_t *ret_len);

/* RFC 3339 UTC with microseconds of boot time @ktime_ns, in @buf (at
 * least 32 bytes). */
void vg_render_time(struct vg_renderer *r, uint64_t ktime_ns, char *buf,
		    size_t bufsz);

/* @e's "container" and "k8s" members, as its events carry them, into
 * the open JSON object of @p (for records about an event: alerts). */
void vg_render_attribution(const struct vg_event *e, struct vg_printer *p);

/* The errno name of @e (ENOENT), or NULL. */
const char *vg_errno_name(int e);

#endif
