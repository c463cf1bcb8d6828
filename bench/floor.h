/* SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause) */
/* The record of floor_min (bench/floor.bpf.c), as bench/floor.c reads it. */
#ifndef VIGIL_BENCH_FLOOR_H
#define VIGIL_BENCH_FLOOR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct floor_ev {
	__u64 ktime_ns;
	__u32 pid;
	__s32 ret;
	char path[256];
};

#endif
