/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_USERDB_H
#define VG_BASE_USERDB_H

#include <stdint.h>

/*
 * Names of user and group ids from the host's files, <root>/etc/passwd
 * and <root>/etc/group, never this process's own user database (which,
 * in a container, is the container's) and never NSS: a lookup must not
 * block on a directory service. Each file is read whole (bounded) on the
 * first lookup and again when it changed, looked at no more often than
 * every VG_USERDB_RECHECK_NS.
 */

#define VG_USERDB_FILE_MAX (4u << 20)   /* bytes of a file read at most */
#define VG_USERDB_ENTRIES_MAX 65536     /* ids kept of a file at most */
#define VG_USERDB_RECHECK_NS (2000ull * 1000000ull)

struct vg_userdb;

/* For the host root open at @root_fd (kept by the caller). NULL on
 * -ENOMEM. */
struct vg_userdb *vg_userdb_new(int root_fd);
void vg_userdb_free(struct vg_userdb *db);

/* The name of user @uid (group @gid), as of @now_ns (CLOCK_MONOTONIC):
 * the first line that has the id, as getpwuid() answers; NULL when the
 * file has none or cannot be read. Valid until the next call. */
const char *vg_userdb_user(struct vg_userdb *db, uint32_t uid, uint64_t now_ns);
const char *vg_userdb_group(struct vg_userdb *db, uint32_t gid, uint64_t now_ns);

#endif
