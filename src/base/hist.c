/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/hist.h"

/* A metadata read is a few state files (tens of microseconds), a
 * runtime's API or the kubelet over HTTP (milliseconds), or a slow
 * runtime that times out (seconds): bounds that tell these apart. */
const uint64_t vg_hist_le_ns[VG_HIST_BUCKETS - 1] = {
	100000ull,     /* 100 us */
	1000000ull,    /* 1 ms */
	5000000ull,    /* 5 ms */
	25000000ull,   /* 25 ms */
	100000000ull,  /* 100 ms */
	500000000ull,  /* 500 ms */
	2500000000ull, /* 2.5 s */
};

void vg_hist_observe(struct vg_hist *h, uint64_t ns)
{
	unsigned b = 0;

	while (b < VG_HIST_BUCKETS - 1 && ns > vg_hist_le_ns[b])
		b++;
	__atomic_fetch_add(&h->sum_ns, ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->n[b], 1, __ATOMIC_RELAXED);
}

void vg_hist_snapshot(const struct vg_hist *h, struct vg_hist *ret)
{
	for (unsigned b = 0; b < VG_HIST_BUCKETS; b++)
		ret->n[b] = __atomic_load_n(&h->n[b], __ATOMIC_RELAXED);
	ret->sum_ns = __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
}
