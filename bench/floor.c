/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * floor — the reference columns of bench-watch: the cost of tracing
 * openat with a tracepoint program that does nothing (empty), or only
 * the least that delivers each open (min: one line "pid result path" per
 * open to standard output, read from the ring every 2 ms in batches).
 *
 *   floor empty|min
 *
 * Prints "floor: attached" on stderr once attached, and at SIGINT or
 * SIGTERM "floor: N events, lost M events".
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.h"
#include "floor.skel.h"

static volatile sig_atomic_t stop;
static unsigned long long events;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct floor_ev *e = data;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	events++;
	printf("%u %d %.*s\n", e->pid, e->ret, (int)sizeof(e->path), e->path);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	bool min;

	if (argc != 2 || (strcmp(argv[1], "empty") && strcmp(argv[1], "min"))) {
		fprintf(stderr, "usage: floor empty|min\n");
		return 2;
	}
	min = !strcmp(argv[1], "min");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: opening the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.floor_empty, !min);
	bpf_program__set_autoload(skel->progs.floor_min, min);
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: loading or attaching: %s\n", strerror(errno));
		floor_bpf__destroy(skel);
		return 1;
	}
	if (min) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_event, NULL, NULL);
		if (!rb) {
			fprintf(stderr, "floor: the ring buffer: %s\n", strerror(errno));
			floor_bpf__destroy(skel);
			return 1;
		}
	}
	fprintf(stderr, "floor: attached (%s)\n", argv[1]);
	while (!stop) {
		if (rb && ring_buffer__consume(rb) < 0 && errno != EINTR)
			break;
		usleep(2000);
	}
	if (rb)
		ring_buffer__consume(rb);
	fflush(stdout);
	fprintf(stderr, "floor: %llu events, lost %llu events\n", events,
		(unsigned long long)skel->bss->floor_lost);
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	return 0;
}
