/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_REPLAY_REPLAY_H
#define VG_SOURCE_REPLAY_REPLAY_H

#include <stddef.h>

#include "event/tpformat.h"
#include "source/source.h"

/*
 * A recording (vigil watch --record) as a source: its records decoded as
 * the eBPF source decodes them, with the cgroups and processes that were
 * there when it began, the init pids the live engine read, and the
 * losses as they were counted. Events carry the recording host's boot
 * id and clock, so exec ids and times are as they were. It ends at the
 * end of the file.
 */

/* Returns 0 and the source, or -errno with @err. @tps (may be NULL): the
 * formats of the tp: events recorded, to decode their fields. */
int vg_replay_source_new(const char *path, const struct vg_tp_format *tps,
			 size_t n_tps, struct vg_source **ret, char *err,
			 size_t errsz);

/* The claims' verdicts the recording holds, as a verifier for the
 * attribution context (vigil_ctx.verify_fn): a claim it does not hold
 * was not verified. The source owns @ret_arg. */
#include "attrib/verify.h"
void vg_replay_verifier(struct vg_source *s, vg_verify_fn *ret_fn,
			void **ret_arg);

/* The recording's header fields, for messages. */
const char *vg_replay_kernel(struct vg_source *s);

#endif
