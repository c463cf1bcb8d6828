/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/bpf/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "source/bpf/decode.h"
#include "source/bpf/sensor.h"

struct bpf_source {
	struct vg_source base;
	struct vg_sensor *sensor;
	struct vg_bpf_decoder dec;
	char (*labels)[2 * VG_TP_NAME_MAX + 2];
	const char **label_ptrs;
	struct vg_rec_writer *rec;
	uint64_t rec_lost[VG_E_KERNEL_TYPES]; /* last written to the recording */
	uint32_t filter_flags;
	/* the pump's callback, for the sensor's */
	vg_event_fn fn;
	void *fn_ctx;
};

static struct bpf_source *of(struct vg_source *s)
{
	return (struct bpf_source *)s;
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct bpf_source *b = ctx;

	if (b->rec && b->rec->f)
		vg_rec_write(b->rec, VG_REC_RING, rec, len);
	return vg_bpf_decode(&b->dec, rec, len, vg_clock_ns(CLOCK_MONOTONIC),
			     b->fn, b->fn_ctx);
}

static int bs_fd(struct vg_source *s)
{
	return vg_sensor_fd(of(s)->sensor);
}

static int bs_pump(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct bpf_source *b = of(s);

	b->fn = fn;
	b->fn_ctx = ctx;
	return all ? vg_sensor_drain(b->sensor, on_record, b)
		   : vg_sensor_poll(b->sensor, 0, on_record, b);
}

static bool bs_behind(struct vg_source *s)
{
	return vg_sensor_behind(of(s)->sensor);
}

static bool bs_pending(struct vg_source *s)
{
	return vg_sensor_pending(of(s)->sensor) > 0;
}

static void bs_tick(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);

	vg_bpf_decoder_flush(&of(s)->dec, now, all, fn, ctx);
	vg_sensor_reap_idle(of(s)->sensor, now, VG_SENSOR_DETACH_HOLD_NS);
}

static int bs_set_types(struct vg_source *s, uint64_t types, char *err,
			size_t errsz)
{
	struct bpf_source *b = of(s);
	int r = vg_sensor_attach(b->sensor, types, err, errsz);

	if (r < 0)
		return r;
	vg_sensor_set_types(b->sensor, types);
	return 0;
}

static int bs_set_types_async(struct vg_source *s, uint64_t types,
			      uint64_t *ret_gen, char *err, size_t errsz)
{
	struct bpf_source *b = of(s);
	int r = vg_sensor_attach_async(b->sensor, types, ret_gen, err, errsz);

	if (r < 0)
		return r;
	/* a type whose programs are still being attached passes as soon
	 * as each is */
	vg_sensor_set_types(b->sensor, types);
	return r;
}

static void bs_attach_poll(struct vg_source *s, uint64_t *ret_done,
			   uint64_t *ret_fail_lo, uint64_t *ret_fail_hi,
			   char *err, size_t errsz)
{
	vg_sensor_attach_poll(of(s)->sensor, ret_done, ret_fail_lo, ret_fail_hi,
			      err, errsz);
}

static void bs_drop_types(struct vg_source *s, uint64_t types)
{
	vg_sensor_drop_types(of(s)->sensor, types);
}

static int bs_drop_cgroup(struct vg_source *s, uint64_t cgid, bool add)
{
	return vg_sensor_drop_cgroup(of(s)->sensor, cgid, add);
}

static int bs_select_pid(struct vg_source *s, uint32_t pid, bool add)
{
	return vg_sensor_filter_pid(of(s)->sensor, pid, add);
}

static void bs_select_pids_on(struct vg_source *s, bool on)
{
	struct bpf_source *b = of(s);

	b->filter_flags = on ? b->filter_flags | VG_FILTER_PID
			     : b->filter_flags & ~(uint32_t)VG_FILTER_PID;
	vg_sensor_filter_enable(b->sensor, b->filter_flags);
}

static int bs_lost(struct vg_source *s, uint64_t by_type[VG_E_KERNEL_TYPES],
		   uint64_t *unmatched)
{
	struct bpf_source *b = of(s);
	int r = vg_sensor_lost(b->sensor, by_type);

	if (r < 0)
		return r;
	*unmatched = b->dec.unmatched;
	/* a recording keeps the counts as they grow */
	if (b->rec && b->rec->f &&
	    memcmp(b->rec_lost, by_type, sizeof(b->rec_lost)) != 0) {
		memcpy(b->rec_lost, by_type, sizeof(b->rec_lost));
		vg_rec_write(b->rec, VG_REC_LOST, by_type, sizeof(b->rec_lost));
	}
	return 0;
}

static void bs_fill(struct vg_source *s, uint64_t *waiting, uint64_t *size)
{
	*waiting = vg_sensor_pending(of(s)->sensor);
	*size = vg_sensor_ring_size(of(s)->sensor);
}

static int bs_programs(struct vg_source *s)
{
	return (int)vg_sensor_programs_attached(of(s)->sensor);
}

static void bs_free(struct vg_source *s)
{
	struct bpf_source *b = of(s);

	vg_sensor_free(b->sensor);
	vg_bpf_decoder_release(&b->dec);
	free(b->labels);
	free(b->label_ptrs);
	free(b);
}

/* The programs read no cwd: a filter on it could only be false. */
static const struct vg_source_lack bpf_lacks[] = {
	{ "proc.cwd", 0, "its programs do not read the working directory" },
	{ NULL, 0, NULL },
};

static const struct vg_source_ops bpf_ops = {
	.name = "bpf",
	.fd = bs_fd,
	.pump = bs_pump,
	.behind = bs_behind,
	.pending = bs_pending,
	.tick = bs_tick,
	.set_types = bs_set_types,
	.set_types_async = bs_set_types_async,
	.attach_poll = bs_attach_poll,
	.drop_types = bs_drop_types,
	.drop_cgroup = bs_drop_cgroup,
	.select_pid = bs_select_pid,
	.select_pids_on = bs_select_pids_on,
	.lost = bs_lost,
	.fill = bs_fill,
	.programs = bs_programs,
	.free = bs_free,
};

int vg_bpf_source_new(const struct vg_bpf_source_opts *o,
		      struct vg_source **ret, char *err, size_t errsz)
{
	struct bpf_source *b = calloc(1, sizeof(*b));
	struct vg_sensor_tp tps[64];
	int r;

	if (!b || vg_bpf_decoder_init(&b->dec) < 0 || o->n_tps > 64) {
		vg_set_err(err, errsz, o->n_tps > 64 ? "at most 64 tracepoints"
						     : "out of memory");
		if (b)
			bs_free(&b->base);
		return o->n_tps > 64 ? -E2BIG : -ENOMEM;
	}
	b->base.ops = &bpf_ops;
	b->base.caps = VG_SRC_LIVE | VG_SRC_DROP | VG_SRC_PIDS;
	b->base.lacks = bpf_lacks;
	b->rec = o->rec;
	if (o->n_tps) {
		b->labels = calloc(o->n_tps, sizeof(*b->labels));
		b->label_ptrs = calloc(o->n_tps, sizeof(*b->label_ptrs));
		if (!b->labels || !b->label_ptrs) {
			bs_free(&b->base);
			vg_set_err(err, errsz, "out of memory");
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < o->n_tps; i++) {
		tps[i] = (struct vg_sensor_tp){ o->tps[i].group, o->tps[i].name,
						o->tps[i].id, o->tps[i].record_size };
		snprintf(b->labels[i], sizeof(b->labels[i]), "%s:%s",
			 o->tps[i].group ? o->tps[i].group : "?", o->tps[i].name);
		b->label_ptrs[i] = b->labels[i];
	}
	b->dec.tps = o->tps;
	b->dec.tp_labels = b->label_ptrs;
	b->dec.n_tps = o->n_tps;
	struct vg_sensor_opts so = {
		.type_mask = o->types | VG_E_TABLE_TYPES |
			     ((o->types & VG_E_BIT(VG_E_EXEC)) ? VG_E_BIT(VG_E_EXEC_ARGS) : 0),
		.ring_bytes = o->ring_bytes,
		.syscalls = o->syscalls,
		.n_syscalls = o->n_syscalls,
		.tps = tps,
		.n_tps = o->n_tps,
		.tracefs = o->tracefs,
		.defer_mask = o->defer_types,
	};
	/* only the kernel's types go to the sensor */
	so.type_mask &= VG_E_BIT(VG_E_KERNEL_TYPES) - 1;
	so.defer_mask &= so.type_mask;
	r = vg_sensor_new(&so, &b->sensor, err, errsz);
	if (r < 0) {
		bs_free(&b->base);
		return r;
	}
	/* the sensor passes nothing but cgroup events until the engine
	 * sets the types (every program loaded is attached already: setting
	 * the same set later costs nothing) */
	*ret = &b->base;
	return 0;
}

struct vg_sensor *vg_bpf_source_sensor(struct vg_source *s)
{
	return of(s)->sensor;
}
