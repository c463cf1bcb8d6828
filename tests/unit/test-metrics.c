/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's metrics: the --metrics address parser (a table of cases),
 * the duration histogram's buckets, and the exposition of a daemon over
 * a recording, checked line by line against the text format's rules
 * (every sample of a declared family, one HELP and TYPE each, histogram
 * buckets cumulative and agreeing with the count, no series a replay
 * cannot have).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "base/hist.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "source/replay/replay.h"

static const struct addr_case {
	const char *in;
	int family;          /* 0: refused */
	const char *host;    /* as inet_ntop prints it */
	unsigned port;
} addr_cases[] = {
	{ "9477", AF_INET, "127.0.0.1", 9477 },
	{ "1", AF_INET, "127.0.0.1", 1 },
	{ "65535", AF_INET, "127.0.0.1", 65535 },
	{ "127.0.0.1:9477", AF_INET, "127.0.0.1", 9477 },
	{ "0.0.0.0:80", AF_INET, "0.0.0.0", 80 },
	{ "10.1.2.3:8080", AF_INET, "10.1.2.3", 8080 },
	{ "localhost:9477", AF_INET, "127.0.0.1", 9477 },
	{ "[::1]:9477", AF_INET6, "::1", 9477 },
	{ "[::]:9477", AF_INET6, "::", 9477 },
	{ "[2001:db8::5]:1", AF_INET6, "2001:db8::5", 1 },
	{ "", 0, NULL, 0 },
	{ "0", 0, NULL, 0 },
	{ "65536", 0, NULL, 0 },
	{ "99999999999999999999999", 0, NULL, 0 },
	{ "-1", 0, NULL, 0 },
	{ "+80", 0, NULL, 0 },
	{ " 80", 0, NULL, 0 },
	{ "80 ", 0, NULL, 0 },
	{ "0x50", 0, NULL, 0 },
	{ "abc", 0, NULL, 0 },
	{ ":80", 0, NULL, 0 },
	{ "127.0.0.1:", 0, NULL, 0 },
	{ "127.0.0.1", 0, NULL, 0 },  /* a host alone has no port */
	{ "127.1:80", 0, NULL, 0 },   /* inet_aton's shorthand */
	{ "1.2.3.4.5:80", 0, NULL, 0 },
	{ "256.0.0.1:80", 0, NULL, 0 },
	{ "example.com:80", 0, NULL, 0 }, /* no name is resolved */
	{ "::1:80", 0, NULL, 0 },     /* IPv6 without brackets */
	{ "[::1]", 0, NULL, 0 },
	{ "[::1]:", 0, NULL, 0 },
	{ "[::1]80", 0, NULL, 0 },
	{ "[::1:80", 0, NULL, 0 },
	{ "[]:80", 0, NULL, 0 },
	{ "[127.0.0.1]:80", 0, NULL, 0 },
	{ "[fe80::1%eth0]:80", 0, NULL, 0 },
	{ "127.0.0.1:80:80", 0, NULL, 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80", 0, NULL, 0 },
};

static void test_parse_addr(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct vg_metrics_addr a;
		char err[256] = "", host[INET6_ADDRSTRLEN], fmt[80], want[80];
		int r;

		memset(&a, 0xa5, sizeof(a));
		r = vg_metrics_parse_addr(c->in, &a, err, sizeof(err));
		if (!c->family) {
			if (r != -EINVAL)
				fail_msg("'%s': accepted, expected refused", c->in);
			if (!err[0])
				fail_msg("'%s': refused without a reason", c->in);
			/* untouched on failure */
			for (size_t k = 0; k < sizeof(a); k++)
				assert_int_equal(((unsigned char *)&a)[k], 0xa5);
			continue;
		}
		if (r != 0)
			fail_msg("'%s': refused (%s), expected accepted", c->in, err);
		assert_int_equal(a.ss.ss_family, c->family);
		if (c->family == AF_INET) {
			const struct sockaddr_in *in4 = (const void *)&a.ss;

			assert_int_equal(a.len, sizeof(*in4));
			inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
			assert_int_equal(ntohs(in4->sin_port), c->port);
			snprintf(want, sizeof(want), "%s:%u", c->host, c->port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)&a.ss;

			assert_int_equal(a.len, sizeof(*in6));
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			assert_int_equal(ntohs(in6->sin6_port), c->port);
			snprintf(want, sizeof(want), "[%s]:%u", c->host, c->port);
		}
		assert_string_equal(host, c->host);
		vg_metrics_addr_format(&a, fmt, sizeof(fmt));
		assert_string_equal(fmt, want);
	}
	/* NULL is refused too */
	{
		struct vg_metrics_addr a;
		char err[64];

		assert_int_equal(vg_metrics_parse_addr(NULL, &a, err, sizeof(err)), -EINVAL);
	}
}

static void test_hist(void **state)
{
	struct vg_hist h = { 0 }, s;
	uint64_t total = 0;

	(void)state;
	/* a bound itself is in its bucket (le: less or equal) */
	for (unsigned b = 0; b < VG_HIST_BUCKETS - 1; b++) {
		vg_hist_observe(&h, vg_hist_le_ns[b]);
		vg_hist_observe(&h, vg_hist_le_ns[b] + 1);
	}
	vg_hist_observe(&h, 0);
	vg_hist_snapshot(&h, &s);
	assert_int_equal(s.n[0], 2);  /* 0 and the first bound */
	for (unsigned b = 1; b < VG_HIST_BUCKETS - 1; b++)
		assert_int_equal(s.n[b], 2); /* the previous bound + 1, its own */
	assert_int_equal(s.n[VG_HIST_BUCKETS - 1], 1); /* past the last bound */
	for (unsigned b = 0; b < VG_HIST_BUCKETS; b++)
		total += s.n[b];
	assert_int_equal(total, 2 * (VG_HIST_BUCKETS - 1) + 1);
	for (unsigned b = 0; b + 1 < VG_HIST_BUCKETS - 1; b++)
		assert_true(vg_hist_le_ns[b] < vg_hist_le_ns[b + 1]);
}

/* The value of the sample line that starts with @prefix (name and
 * labels), or -1. */
static double sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, prefix, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

/* Every line a comment of the two kinds or a sample; every sample's
 * family declared before it, once, with HELP and TYPE. */
static void check_format(const char *text)
{
	char fams[128][96];
	size_t n_fams = 0;
	const char *l = text;

	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	while (*l) {
		const char *nl = strchr(l, '\n');
		char line[1024], name[96];
		size_t len = (size_t)(nl - l);

		assert_non_null(nl);
		assert_true(len < sizeof(line));
		memcpy(line, l, len);
		line[len] = '\0';
		l = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%95s", name), 1);
			for (size_t i = 0; i < n_fams; i++)
				if (strcmp(fams[i], name) == 0)
					fail_msg("family %s declared twice", name);
			assert_true(n_fams < 128);
			snprintf(fams[n_fams++], sizeof(fams[0]), "%s", name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%95s %31s", name, type), 2);
			assert_true(n_fams > 0);
			assert_string_equal(name, fams[n_fams - 1]);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
				    strcmp(type, "histogram") == 0);
			if (strcmp(type, "counter") == 0 &&
			    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0))
				fail_msg("counter %s does not end in _total", name);
			continue;
		}
		assert_true(line[0] != '#');
		/* a sample: NAME[{labels}] VALUE, of the family declared last */
		size_t k = strcspn(line, "{ ");
		const char *fam = fams[n_fams - 1];
		size_t fl = strlen(fam);

		assert_true(n_fams > 0);
		assert_true(strncmp(line, "vigil_", 6) == 0);
		if (!(k == fl && strncmp(line, fam, fl) == 0) &&
		    !(strncmp(line, fam, fl) == 0 &&
		      (strncmp(line + fl, "_bucket", 7) == 0 || strncmp(line + fl, "_sum", 4) == 0 ||
		       strncmp(line + fl, "_count", 6) == 0)))
			fail_msg("sample '%s' is not of family %s", line, fam);
		const char *v = strrchr(line, ' ');
		char *end;

		assert_non_null(v);
		strtod(v + 1, &end);
		if (*end || end == v + 1)
			fail_msg("sample '%s': the value is not a number", line);
	}
}

static void discard(struct vg_sink *sk, const char *line, size_t len,
		    const struct vg_event *e)
{
	(void)sk, (void)line, (void)len, (void)e;
}

static void test_render_replay(void **state)
{
	const char *fx = getenv("VIGIL_FIXTURES");
	char path[512], host[512], err[256], *text = NULL;
	struct vigil_ctx *ctx = NULL;
	struct vg_source *src;
	struct vg_engine *en;
	struct vg_daemon *d;
	struct vg_sink s = { .types = vg_event_std_mask(), .mode = VG_OUTPUT_JSON };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0;
	int lfd;

	(void)state;
	assert_non_null(fx);
	snprintf(path, sizeof(path), "%s/recordings/docker-lifecycle.rec", fx);
	snprintf(host, sizeof(host), "%s/recordings/host", fx);
	assert_int_equal(vigil_ctx_new(host, &ctx), 0);
	assert_int_equal(vg_replay_source_new(path, NULL, 0, &src, err, sizeof(err)), 0);
	vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);
	const struct vg_engine_opts o = { .ctx = ctx, .src = src };
	en = vg_engine_new(&o, err, sizeof(err));
	assert_non_null(en);
	/* an abstract socket: nothing on disk to clean up */
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "vigil-test-metrics-%d", getpid());
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	const struct vg_daemon_opts dopts = { .listen_fd = lfd, .group_name = "root" };
	d = vg_daemon_new(en, &dopts, err, sizeof(err));
	assert_non_null(d);

	/* before any event: the series are there, at zero */
	assert_int_equal(vg_metrics_render(d, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	check_format(text);
	assert_true(sample(text, "vigil_events_total{source=\"replay\",type=\"exec\"}") == 0);
	free(text);

	/* a sink of its own takes every event of the recording */
	s.emit = discard;
	assert_int_equal(vg_engine_add_sink(en, &s, NULL, 0), 0);
	vg_engine_start(en);
	while (!vg_engine_ended(en))
		vg_engine_pump(en);
	vg_engine_finish(en);
	assert_int_equal(vg_metrics_render(d, &text, &len), 0);
	check_format(text);
	assert_true(sample(text, "vigil_events_total{source=\"replay\",type=\"exec\"}") > 0);
	assert_true(sample(text, "vigil_events_total{source=\"replay\",type=\"container\"}") > 0);
	assert_true(sample(text, "vigil_build_info{version=\"0.1.0\"}") == 1);
	assert_true(sample(text, "vigil_start_time_seconds") > 1e9);
	assert_true(sample(text, "vigil_clients") == 0);
	assert_true(sample(text, "vigil_subscriptions") == 0);
	assert_true(sample(text, "vigil_process_table_entries") > 0);
	assert_true(sample(text, "vigil_kernel_lost_events_total{type=\"exec\"}") == 0);
	assert_true(sample(text, "vigil_attribution_cache_misses_total{cache=\"cgroup_id\"}") > 0);
	/* the histogram: cumulative, and its count is its +Inf bucket */
	{
		double prev = 0, inf = sample(text,
			"vigil_metadata_read_duration_seconds_bucket{le=\"+Inf\"}");
		char le[128];

		for (unsigned b = 0; b < VG_HIST_BUCKETS - 1; b++) {
			double v;

			snprintf(le, sizeof(le),
				 "vigil_metadata_read_duration_seconds_bucket{le=\"%.9g\"}",
				 (double)vg_hist_le_ns[b] / 1e9);
			v = sample(text, le);
			assert_true(v >= prev);
			prev = v;
		}
		assert_true(inf >= prev);
		assert_true(sample(text, "vigil_metadata_read_duration_seconds_count") == inf);
		/* every read is timed, those that failed too; the
		 * recording's two containers are read from the fixture
		 * host's state */
		assert_true(inf >= sample(text, "vigil_metadata_reads_total"));
		assert_true(inf >= 2);
		if (getenv("VIGIL_TEST_SHOW"))
			fputs(text, stderr);
	}
	/* a replay has no ring buffer and attaches nothing: no made-up
	 * numbers */
	assert_null(strstr(text, "vigil_ring_buffer"));
	assert_null(strstr(text, "vigil_programs_attached"));
	free(text);

	vg_daemon_free(d);
	vg_engine_remove_sink(en, &s);
	vg_engine_free(en);
	close(lfd);
	vigil_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_render_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
