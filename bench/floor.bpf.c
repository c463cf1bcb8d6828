// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * The floor of tracepoint-based open tracing on this kernel, for
 * bench-watch: what the least a tool can do costs the workloads.
 *   floor_empty  a program on syscalls:sys_exit_openat that does nothing:
 *                the price of the tracepoint itself (and of the syscall
 *                slow path it puts every task on)
 *   floor_min    pid, time, result and the path as given, into a ring
 *                buffer record, no wakeup: the least that delivers each
 *                open; no process, container or user fields, no
 *                absolute path
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "floor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

struct sc_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

volatile __u64 floor_lost;

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_empty(struct sc_exit *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_min(struct sc_exit *ctx)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct floor_ev *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&floor_lost, 1);
		return 0;
	}
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ret = ctx->ret;
	bpf_probe_read_user_str(e->path, sizeof(e->path), (const void *)r->si);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
