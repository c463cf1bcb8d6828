/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The nats export's kind driven alone, as the daemon's loop drives it:
 * COUNT records at RATE a second (0: as fast as push() takes them),
 * with the kind's fd polled between them. Every 100 ms, and at the end,
 * one JSON line of the kind's stats on stdout, with the longest a call
 * into the kind took (the loop must never wait on the network).
 *
 *   nats-feed URLS STATE_DIR COUNT RATE [KEY=VALUE]...
 *
 * Keys are the kind's, plus node=, sensor=, close=MS (how long to wait,
 * after the last record and hold, for everything to be acked, and then
 * the close timeout), pad=BYTES (a filler field, to make records bigger)
 * and hold=MS (keep running that long after the last record, for a test
 * to act meanwhile).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "daemon/export.h"

static uint64_t mono_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

static void print_stats(void *st, uint64_t pushed, uint64_t refused,
			uint64_t max_call_us)
{
	struct vg_export_kind_stats ks;
	vg_export_nats.stats(st, &ks);
	printf("{\"pushed\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"max_call_us\":%" PRIu64
	       ",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"lost\":%" PRIu64
	       ",\"lost_unknown\":%" PRIu64 ",\"spooled\":%" PRIu64
	       ",\"spool_lost\":%" PRIu64 ",\"spool_bytes\":%" PRIu64
	       ",\"buffered\":%" PRIu64 ",\"connected\":%s,\"state\":\"%s\"}\n",
	       pushed, refused, max_call_us, ks.sent, ks.acked, ks.lost,
	       ks.lost_unknown, ks.spooled, ks.spool_lost, ks.spool_bytes,
	       ks.buffered, ks.connected ? "true" : "false", ks.state);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s URLS STATE_DIR COUNT RATE [KEY=VALUE]...\n", argv[0]);
		return 2;
	}
	uint64_t total, rate;
	if (vg_parse_u64(argv[3], &total) < 0 || vg_parse_u64(argv[4], &rate) < 0) {
		fprintf(stderr, "COUNT and RATE are numbers\n");
		return 2;
	}
	const char *node = "node-1", *sensor = "s1";
	unsigned close_ms = 5000;
	uint64_t pad = 0, hold_ms = 0;
	struct vg_export_kv kv[32];
	size_t n_kv = 0;
	for (int i = 5; i < argc && n_kv < 32; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			fprintf(stderr, "%s: not KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		const char *k = argv[i], *v = eq + 1;
		uint64_t u = 0;
		if (strcmp(k, "node") == 0)
			node = v;
		else if (strcmp(k, "sensor") == 0)
			sensor = v;
		else if (strcmp(k, "close") == 0 && vg_parse_u64(v, &u) == 0)
			close_ms = (unsigned)u;
		else if (strcmp(k, "pad") == 0 && vg_parse_u64(v, &u) == 0 && u < 65536)
			pad = u;
		else if (strcmp(k, "hold") == 0 && vg_parse_u64(v, &u) == 0)
			hold_ms = u;
		else
			kv[n_kv++] = (struct vg_export_kv){ k, v, "nats-feed" };
	}
	struct vg_export_conf c = {
		.name = "feed", .kind = "nats", .target = argv[1],
		.kv = kv, .n_kv = n_kv, .node = node, .sensor_id = sensor,
		.state_dir = argv[2], .queue_bytes = 8u << 20,
	};
	char err[512] = "";
	void *st = NULL;
	uint64_t observe;
	int r = vg_export_nats.open(&c, &st, &observe, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "open: %s (%s)\n", err, vg_strerror(-r));
		return 1;
	}
	char *padding = calloc(1, pad + 1);
	if (!padding)
		return 1;
	memset(padding, 'x', pad);
	struct vg_event e = { .type = VG_E_EXEC };
	uint64_t start = mono_ns(), last_print = 0, pushed = 0, refused = 0,
		 max_call = 0, done_at = 0;
	int fd = vg_export_nats.fd(st);
	char rec[70000];
	for (;;) {
		uint64_t now = mono_ns();
		if (pushed + refused < total) {
			uint64_t due = rate ? (now - start) * rate / 1000000000ull : total;
			if (due > total)
				due = total;
			while (pushed + refused < due) {
				uint64_t seq = pushed + refused + 1;
				int l = snprintf(rec, sizeof(rec),
						 "{\"node\":\"%s\",\"sensor\":\"%s\",\"seq\":%" PRIu64
						 ",\"evt\":{\"type\":\"exec\"},\"pad\":\"%s\"}",
						 node, sensor, seq, padding);
				uint64_t t0 = mono_ns();
				r = vg_export_nats.push(st, seq, rec, (size_t)l, &e);
				uint64_t dt = mono_ns() - t0;
				if (dt > max_call)
					max_call = dt;
				if (r == 0)
					pushed++;
				else
					refused++;
				if (!rate && (pushed + refused) % 1024 == 0)
					break; /* let the fd be polled */
			}
		} else if (!done_at) {
			done_at = now;
		}
		if (done_at && now - done_at >= hold_ms * 1000000ull)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, rate || done_at ? 1 : 0) > 0) {
			uint64_t t0 = mono_ns();
			vg_export_nats.run(st);
			uint64_t dt = mono_ns() - t0;
			if (dt > max_call)
				max_call = dt;
		}
		if (now - last_print >= 100000000ull) {
			print_stats(st, pushed, refused, max_call / 1000);
			last_print = now;
		}
	}
	/* then until all is acked (the queue and the spool empty, and a
	 * server there), at most the close timeout: the last line says
	 * where it ended */
	uint64_t t_end = mono_ns() + close_ms * 1000000ull;
	for (;;) {
		struct vg_export_kind_stats ks;
		vg_export_nats.stats(st, &ks);
		if ((ks.connected && !ks.buffered && !ks.spool_bytes &&
		     ks.acked + ks.lost >= pushed) || mono_ns() >= t_end)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			vg_export_nats.run(st);
		if (mono_ns() - last_print >= 100000000ull) {
			print_stats(st, pushed, refused, max_call / 1000);
			last_print = mono_ns();
		}
	}
	print_stats(st, pushed, refused, max_call / 1000);
	vg_export_nats.close(st, close_ms);
	free(padding);
	return 0;
}
