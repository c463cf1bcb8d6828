/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_BPF_DECODE_H
#define VG_SOURCE_BPF_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/tpformat.h"
#include "source/source.h"

/*
 * The eBPF sensor's records (source/bpf/events.h) into events: lengths
 * checked against the record before any string is read, argv
 * reassembled from its chunks, addresses decoded. Shared by the live
 * source and the replay of a recording.
 */

/* Execs whose argv chunks are still arriving, and how long they wait. */
#define VG_DECODE_PENDING 256
#define VG_DECODE_PENDING_NS (500ull * 1000000ull)

struct vg_bpf_pending;

struct vg_bpf_decoder {
	struct vg_bpf_pending *pending; /* VG_DECODE_PENDING slots */
	uint64_t unmatched;  /* argv chunks whose exec was gone */
	uint64_t bad;        /* records refused: too short, wrong version,
			      * an argv chunk at no chunk's place */
	const struct vg_tp_format *tps; /* tp: formats, borrowed */
	const char *const *tp_labels;   /* "group:name" of each */
	size_t n_tps;
	/* the caller's paths, normalized, for the event being delivered */
	char norm[2][4097];
};

/* Returns 0 or -ENOMEM. */
int vg_bpf_decoder_init(struct vg_bpf_decoder *d);
/* Absolute @path with "//", "." and ".." taken lexically (".." never
 * above "/"), into @buf; NULL when @path is not absolute or too long. */
const char *vg_path_normalize(const char *path, char *buf, size_t bufsz);
/* Frees pending execs without delivering them. */
void vg_bpf_decoder_release(struct vg_bpf_decoder *d);

/*
 * One record of @len bytes into zero or more events for @fn (an exec is
 * delivered when its last argv chunk is in). The record is its header's
 * size (at most @len); every length in it is checked against that
 * before anything is read. @now_ns: the clock that ages pending execs
 * (monotonic live, the recording's in a replay). Returns @fn's first
 * non-zero answer, else 0.
 */
int vg_bpf_decode(struct vg_bpf_decoder *d, const void *rec, size_t len,
		  uint64_t now_ns, vg_event_fn fn, void *ctx);

/* Deliver the execs waiting longer than VG_DECODE_PENDING_NS (@all:
 * every one), with their argv up to the first chunk that did not
 * arrive, marked incomplete (args_incomplete, args_truncated). */
void vg_bpf_decoder_flush(struct vg_bpf_decoder *d, uint64_t now_ns, bool all,
			  vg_event_fn fn, void *ctx);

#endif
