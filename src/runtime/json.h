/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RUNTIME_JSON_H
#define VG_RUNTIME_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "runtime/runtime.h"

/* Parse @buf as one JSON object. On failure returns NULL and notes in
 * @m->missing that @what was malformed (with jansson's reason). */
json_t *vg_json_parse(const char *buf, size_t len,
		      struct vg_container_meta *m, const char *what);

/*
 * Read @path (relative to @root_fd; at most @max bytes) and parse it.
 * A missing file is noted with retry set (it may not be written yet); a
 * larger one is refused and noted. Returns a reference, or NULL.
 */
json_t *vg_json_load_at(int root_fd, const char *path, size_t max,
			struct vg_container_meta *m, const char *what);

/* @obj[@key] if it is a string, else NULL. @obj may be NULL. */
const char *vg_json_str(const json_t *obj, const char *key);

/* Copy the string members of @obj into @kv; others are skipped. Returns
 * how many were skipped (too long, not strings), or -ENOMEM. */
int vg_json_to_kv(const json_t *obj, struct vg_kv *kv);

#endif
