/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_BPF_SOURCE_H
#define VG_SOURCE_BPF_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "event/tpformat.h"
#include "source/bpf/tracefs.h"
#include "source/record.h"
#include "source/source.h"

/*
 * The eBPF source: vigil's programs (tracepoints and tp_btf, CO-RE), the
 * ring buffer read in batches, records decoded into events. Programs of
 * the types loaded are attached and detached as the engine asks.
 */

struct vg_bpf_source_opts {
	uint64_t types;            /* VG_E_BIT()s that may be asked for */
	size_t ring_bytes;         /* 0: 8 MiB */
	const uint32_t *syscalls;  /* syscall:NR numbers */
	size_t n_syscalls;
	const struct vg_tp_format *tps; /* tp: formats, kept by the caller */
	size_t n_tps;
	struct vg_tracefs *tracefs; /* where tracepoint ids are read */
	struct vg_rec_writer *rec;  /* every record is written here too */
	uint64_t defer_types;       /* of types: attached only once asked
				     * for (the opt-in ones, in a daemon) */
};

/* Returns 0 and the source, or -errno with @err (the cause and the fix:
 * the caller runs vg_probe_preflight() first). */
int vg_bpf_source_new(const struct vg_bpf_source_opts *o,
		      struct vg_source **ret, char *err, size_t errsz);

/* The sensor under it, for what only the eBPF source has. */
struct vg_sensor *vg_bpf_source_sensor(struct vg_source *s);

#endif
