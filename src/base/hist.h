/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_HIST_H
#define VG_BASE_HIST_H

#include <stdint.h>

/*
 * A histogram of durations with fixed buckets, for metrics. Observed from
 * any thread (a worker reading metadata, the loop reading it in line) and
 * read from another without a lock: each count is an atomic add. A reader
 * takes each bucket's count and derives the total from them, so the
 * buckets and the count it reports always agree; the sum may lag them by
 * an observation made meanwhile, which Prometheus tolerates.
 *
 * Zero-initialised is empty: it can sit in a calloc'd structure.
 */

/* Upper bounds, in ns, of every bucket but the last (+Inf). */
#define VG_HIST_BUCKETS 8
extern const uint64_t vg_hist_le_ns[VG_HIST_BUCKETS - 1];

struct vg_hist {
	uint64_t n[VG_HIST_BUCKETS]; /* per bucket, not cumulative */
	uint64_t sum_ns;
};

/* Count one duration of @ns. */
void vg_hist_observe(struct vg_hist *h, uint64_t ns);

/* What @h holds now, into @ret (plain reads of it need no atomics). */
void vg_hist_snapshot(const struct vg_hist *h, struct vg_hist *ret);

#endif
