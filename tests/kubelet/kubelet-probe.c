/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test driver for the kubelet client: one vg_kubelet, then each step in
 * order, one output line per lookup. Steps: a pod uid to look up;
 * "sleep:MS"; "token:TEXT" (rewrites --token-file with TEXT and a
 * newline, to check the token is read at each refresh).
 *
 *   kubelet-probe --url URL [--token-file F] [--ca-file F] [--timeout-ms N]
 *                 [--min-refresh-ms N] [--max-body N] STEP...
 *
 * A line: "rc=0 ms=N pod=NS/NAME uid=U qos=Q labels=N annotations=N
 * containers=NAME:RUNTIME:ID,..." or "rc=-ENOENT ms=N err=REASON".
 * Exit 0 when every step ran, 1 when the client could not be made, 2 on
 * usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s/kubelet.h"
#include "base/util.h"

static const char *errno_name(int e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ ENOENT, "ENOENT" },       { EACCES, "EACCES" },
		{ EPROTO, "EPROTO" },       { ETIMEDOUT, "ETIMEDOUT" },
		{ ECONNREFUSED, "ECONNREFUSED" }, { E2BIG, "E2BIG" },
		{ EAGAIN, "EAGAIN" },       { EINVAL, "EINVAL" },
		{ ENOMEM, "ENOMEM" },       { ECONNRESET, "ECONNRESET" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
		{ EIO, "EIO" },
	};

	for (size_t i = 0; i < VG_ARRAY_SIZE(names); i++)
		if (names[i].e == e)
			return names[i].name;
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_num(const char *s, uint64_t *ret)
{
	if (vg_parse_u64(s, ret) < 0) {
		fprintf(stderr, "kubelet-probe: not a number: %s\n", s);
		return -EINVAL;
	}
	return 0;
}

static void print_pod(const struct vg_pod_info *p)
{
	printf(" pod=%s/%s uid=%s qos=%s labels=%zu annotations=%zu containers=",
	       p->ns, p->name, p->uid, p->qos_class ? p->qos_class : "-",
	       p->labels.n, p->annotations.n);
	for (size_t i = 0; i < p->n_containers; i++) {
		const struct vg_pod_container *c = &p->containers[i];

		printf("%s%s:%s:%s", i ? "," : "", c->name,
		       c->runtime ? c->runtime : "-", c->id ? c->id : "-");
	}
}

static int write_token(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
		fprintf(stderr, "kubelet-probe: %s: %m\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "min-refresh-ms", required_argument, NULL, 'r' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vg_kubelet_cfg cfg = { 0 };
	struct vg_kubelet *k;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			cfg.url = optarg;
			break;
		case 't':
			cfg.token_file = optarg;
			break;
		case 'c':
			cfg.ca_file = optarg;
			break;
		case 'T':
		case 'r':
			if (parse_num(optarg, &v) < 0 || v > UINT32_MAX)
				return 2;
			if (c == 'T')
				cfg.timeout_ms = (uint32_t)v;
			else
				cfg.min_refresh_ms = (uint32_t)v;
			break;
		case 'm':
			if (parse_num(optarg, &v) < 0)
				return 2;
			cfg.max_body = (size_t)v;
			break;
		case 'h':
			printf("usage: %s --url URL [--token-file F] [--ca-file F] "
			       "[--timeout-ms N] [--min-refresh-ms N] [--max-body N] "
			       "UID|sleep:MS|token:TEXT...\n",
			       argv[0]);
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "kubelet-probe: no steps given\n");
		return 2;
	}

	k = vg_kubelet_new(&cfg);
	if (!k) {
		printf("new: %s\n", strerror(errno));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		struct vg_pod_info pod = { 0 };
		char err[512] = "";
		uint64_t t0;
		int r;

		if (vg_startswith(argv[i], "sleep:")) {
			if (parse_num(argv[i] + 6, &v) < 0)
				goto usage;
			usleep((useconds_t)(v * 1000));
			continue;
		}
		if (vg_startswith(argv[i], "token:")) {
			if (!cfg.token_file || write_token(cfg.token_file, argv[i] + 6) < 0)
				goto usage;
			continue;
		}
		t0 = now_ms();
		r = vg_kubelet_pod(k, argv[i], &pod, err, sizeof(err));
		if (r == 0)
			printf("rc=0");
		else if (errno_name(-r))
			printf("rc=-%s", errno_name(-r));
		else
			printf("rc=%d", r);
		printf(" ms=%llu", (unsigned long long)(now_ms() - t0));
		if (r == 0)
			print_pod(&pod);
		else
			printf(" err=%s", err);
		printf("\n");
		fflush(stdout);
		vg_pod_info_release(&pod);
	}
	vg_kubelet_free(k);
	return 0;
usage:
	vg_kubelet_free(k);
	return 2;
}
