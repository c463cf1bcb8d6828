/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_DAEMON_EXPORTS_H
#define VG_DAEMON_EXPORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/export.h"
#include "engine/engine.h"

/*
 * The daemon's side of the exports (export.c): what an export was told
 * (a spec, from --export or a config file's [export NAME] section), and
 * the set of exports a daemon runs. See export.h for what an export is.
 */

#define VG_EXPORTS_MAX 16
#define VG_EXPORT_SPEC_MAX 65536        /* one --export, in bytes */
#define VG_EXPORT_KEYS_MAX 64           /* keys of one export */
#define VG_EXPORT_QUEUE_DEFAULT (8u << 20)
#define VG_EXPORT_CLOSE_MS 2000         /* at exit, per export */

/* What one export was told: every key, "kind" and "target" too, each
 * with where it was said. */
struct vg_export_spec {
	char *name;
	char *where;                  /* of the whole: "--export", FILE:LINE */
	struct vg_export_kv *kv;      /* strings owned by the spec */
	size_t n_kv;
};

/* An empty spec named @name, said at @where. NULL: out of memory. Free
 * with vg_export_spec_free(). */
struct vg_export_spec *vg_export_spec_new(const char *name, const char *where);
/* One more key. -EEXIST (with @err) when @key was set already, -E2BIG
 * past VG_EXPORT_KEYS_MAX, -ENOMEM. */
int vg_export_spec_set(struct vg_export_spec *s, const char *key,
		       const char *value, const char *where, char *err,
		       size_t errsz);
/* The value of @key, NULL when not set. */
const char *vg_export_spec_get(const struct vg_export_spec *s, const char *key);
/*
 * --export's text: NAME KIND TARGET [KEY=VALUE]..., words split at blanks;
 * a double-quoted part of a word keeps its blanks, and inside it \" and \\
 * stand for " and \. @where: where it was said ("--export"). Returns 0
 * and a new spec, or -EINVAL with @err (naming the column).
 */
int vg_export_spec_parse(const char *text, const char *where,
			 struct vg_export_spec **ret, char *err, size_t errsz);
void vg_export_spec_free(struct vg_export_spec *s);

/* Whether @name may name an export: [a-zA-Z0-9_-]{1,32}. */
bool vg_export_name_ok(const char *name);

struct vg_daemon;
struct vg_exports;

/* Exports for @d, whose kinds keep what they keep on disk under
 * @state_dir/export/NAME. NULL: out of memory. */
struct vg_exports *vg_exports_new(struct vg_daemon *d, const char *state_dir);

/* @s checked as a start would check it (its keys, its filter, its kind's
 * keys), without starting anything: --check-config. 0 or -errno with
 * @err. */
int vg_exports_check(const struct vg_export_spec *s, char *err, size_t errsz);

/* Start the export @s says: an engine sink from now on, its fd on the
 * daemon's loop. 0 or -errno with @err. */
int vg_exports_add(struct vg_exports *x, const struct vg_export_spec *s,
		   char *err, size_t errsz);

/*
 * A reload: @specs are what the configuration says now. An export whose
 * events, filter or selection changed gets them between two events;
 * any other change (a new export, one gone, its kind, target, queue or
 * kind's keys) takes a restart, and @say is told so. Nothing changes
 * when any spec has an error (told to @say). Returns 0 or -EINVAL.
 */
int vg_exports_reload(struct vg_exports *x,
		      struct vg_export_spec *const *specs, size_t n,
		      void (*say)(void *u, bool error, const char *msg),
		      void *u);

/*
 * An alert of the daemon's rules: its JSON object (@len bytes), made of
 * the event @e, to each export whose events include alert and whose
 * selection, path and filter @pass lets through (the daemon's check,
 * with @u). Numbered and sent as the export's events are.
 */
bool vg_exports_want_alerts(const struct vg_exports *x);
void vg_exports_alert(struct vg_exports *x, const char *json, size_t len,
		      const struct vg_event *e,
		      bool (*pass)(const struct vg_sink *s, void *u), void *u);

/* Each export sends what is waiting within VG_EXPORT_CLOSE_MS, and
 * goes. NULL-safe. */
void vg_exports_free(struct vg_exports *x);

/* What one export did, for stats and metrics. */
struct vg_export_info {
	const char *name, *kind, *target;
	uint64_t offered;    /* events the export's filter passed */
	uint64_t queue_lost; /* dropped by the framework: its queue was full */
	uint64_t lost_told;  /* of those, announced in a "lost" record */
	uint64_t queued;     /* records in the framework's queue now */
	uint64_t queued_bytes;
	struct vg_export_kind_stats k;
};
int vg_exports_foreach(const struct vg_exports *x,
		       int (*fn)(const struct vg_export_info *i, void *ctx),
		       void *ctx);
/* The "exports" array of the stats reply. NULL: out of memory. */
json_t *vg_exports_json(const struct vg_exports *x);

#endif
