/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_PROBE_PROBE_H
#define VG_PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/report.h"
#include "runtime/runtime.h"
#include "source/bpf/tracefs.h"

/*
 * What this host offers vigil, found by trying: each program kind is
 * loaded and attached, each socket connected, each file read. The
 * probes fill a report (vigil doctor prints it); start-up uses the
 * quick ones to say why the sensor cannot run, with the fix.
 */

struct vg_kubelet;

struct vg_probe_env {
	const char *host_root;            /* "/" or --host-root */
	int root_fd;                      /* file facts are read under it */
	const struct vg_runtime_cfg *rt;  /* runtime paths, host-relative */
	struct vg_kubelet *kubelet;       /* NULL: none configured */
	const char *kubelet_url;
	struct vg_tracefs *tracefs;       /* found or made when needed */
};

struct vg_probe {
	const char *name;
	void (*run)(struct vg_probe_env *env, struct vg_report *r);
};

/* vigil's probes, in the order of the report. */
extern const struct vg_probe vg_probes[];
extern const size_t vg_n_probes;

/* Run @n probes of @table into @r, in order. */
void vg_probe_run(const struct vg_probe *table, size_t n,
		  struct vg_probe_env *env, struct vg_report *r);

/* The kernel version vigil's sensor needs (bpf_loop: 5.17). */
#define VG_KERNEL_MIN_MAJOR 5
#define VG_KERNEL_MIN_MINOR 17

/*
 * Before loading the sensor: whether this process and kernel can run it
 * (capabilities, BTF, kernel version, lockdown, BPF ring buffer).
 * Returns 0, or -errno with one sentence in @err that names the cause
 * and the fix (-EPERM: capabilities, -EOPNOTSUPP: the kernel).
 */
int vg_probe_preflight(char *err, size_t errsz);

/* Capabilities in this process's effective set, by number; false when
 * they cannot be read. */
bool vg_probe_has_cap(int cap);
/* Whether this kernel hands out a Unix socket peer's pidfd
 * (SO_PEERPIDFD), tried on a socketpair. */
bool vg_probe_peerpidfd(void);

#endif
