/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hist.h"
#include "base/util.h"
#include "daemon/exports.h"
#include "rules/rules.h"
#include "source/audit/source.h"
#include "vigil/vigil.h"

/* ----------------------------------------------------------- address */

static int parse_port(const char *s, in_port_t *ret)
{
	uint64_t v;

	if (vg_parse_u64(s, &v) < 0 || v < 1 || v > 65535)
		return -EINVAL;
	*ret = htons((in_port_t)v);
	return 0;
}

int vg_metrics_parse_addr(const char *s, struct vg_metrics_addr *ret,
			  char *err, size_t errsz)
{
	struct vg_metrics_addr a = { 0 };
	const char *port = s, *colon;
	char host[64];
	in_port_t p;

	if (!s || !*s) {
		vg_set_err(err, errsz, "an address is PORT, HOST:PORT or [V6]:PORT");
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;
		size_t n = close ? (size_t)(close - s - 1) : 0;

		if (!close || close[1] != ':' || !n || n >= sizeof(host)) {
			vg_set_err(err, errsz, "'%s': an IPv6 address is [V6]:PORT", s);
			return -EINVAL;
		}
		memcpy(host, s + 1, n);
		host[n] = '\0';
		port = close + 2;
		/* a zone (fe80::1%eth0) would be an interface name to look up */
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			vg_set_err(err, errsz, "'%s' is not a numeric IPv6 address", host);
			return -EINVAL;
		}
		in6->sin6_family = AF_INET6;
		a.len = sizeof(*in6);
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&a.ss;

		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon) {
			vg_set_err(err, errsz, "'%s': an IPv6 address goes in brackets, "
				   "[V6]:PORT", s);
			return -EINVAL;
		}
		if (colon) {
			size_t n = (size_t)(colon - s);

			if (!n || n >= sizeof(host)) {
				vg_set_err(err, errsz, "'%s': the host before ':' is missing "
					   "or too long", s);
				return -EINVAL;
			}
			memcpy(host, s, n);
			host[n] = '\0';
			port = colon + 1;
		} else {
			snprintf(host, sizeof(host), "127.0.0.1");
		}
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		/* inet_pton, not inet_aton: no "127.1" or octal */
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) {
			vg_set_err(err, errsz, "'%s' is not a numeric IPv4 address "
				   "(or localhost; IPv6 in brackets)", host);
			return -EINVAL;
		}
		in4->sin_family = AF_INET;
		a.len = sizeof(*in4);
	}
	if (parse_port(port, &p) < 0) {
		vg_set_err(err, errsz, "'%s': the port is 1 to 65535, not '%s'", s, port);
		return -EINVAL;
	}
	if (a.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a.ss)->sin6_port = p;
	else
		((struct sockaddr_in *)&a.ss)->sin_port = p;
	*ret = a;
	return 0;
}

void vg_metrics_addr_format(const struct vg_metrics_addr *a, char *buf, size_t bufsz)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, bufsz, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in4 = (const void *)&a->ss;

		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, bufsz, "%s:%u", host, ntohs(in4->sin_port));
	}
}

/* ------------------------------------------------------------ render */

/* A label value as the format has it: backslash, quote and newline
 * escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A series without labels. */
static void value(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* A series with one label. */
static void value1(FILE *f, const char *name, const char *label,
		   const char *lv, uint64_t v)
{
	fprintf(f, "%s{%s=\"", name, label);
	label_value(f, lv);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	value(f, name, v);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "gauge", help);
	value(f, name, v);
}

static void gauge_f(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %.13g\n", name, v); /* ms of an epoch time */
}

struct subs_out {
	FILE *f;
	const char *name;
	bool lost;
};

static int sub_series(const struct vg_daemon_sub_info *s, void *arg)
{
	struct subs_out *o = arg;

	fprintf(o->f, "%s{sub=\"%llu\",uid=\"%u\",pid=\"%d\"} %llu\n", o->name,
		(unsigned long long)s->id, (unsigned)s->uid, (int)s->pid,
		(unsigned long long)(o->lost ? s->lost : s->delivered));
	return 0;
}

static void render_subs(FILE *f, struct vg_daemon *d)
{
	struct subs_out o = { .f = f };

	o.name = "vigil_subscription_delivered_events_total";
	family(f, o.name, "counter",
	       "Events queued to a subscription, by subscription id and its "
	       "client's uid and pid.");
	vg_daemon_foreach_sub(d, sub_series, &o);
	o.name = "vigil_subscription_lost_events_total";
	o.lost = true;
	family(f, o.name, "counter",
	       "Events a subscription lost because its client's queue was full.");
	vg_daemon_foreach_sub(d, sub_series, &o);
}

static void render_events(FILE *f, struct vg_source *src,
			  const struct vg_engine_stats *es)
{
	family(f, "vigil_events_total", "counter",
	       "Events the engine dispatched, by type and source.");
	for (size_t i = 0; i < vg_n_event_types; i++) {
		uint32_t t = vg_event_types[i].type;

		if (t == VG_E_ALERT)
			continue; /* the daemon's, not the engine's: vigil_alerts_total */
		fputs("vigil_events_total{source=\"", f);
		label_value(f, src->ops->name);
		fputs("\",type=\"", f);
		label_value(f, vg_event_types[i].name);
		fprintf(f, "\"} %llu\n",
			(unsigned long long)(t < VG_ARRAY_SIZE(es->events) ? es->events[t] : 0));
	}
}

/* What the kernel lost before vigil read it: per type from the eBPF
 * ring buffer (and a replay's record of it); audit's counter has no
 * type. */
static void render_kernel_lost(FILE *f, struct vg_source *src)
{
	static const char name[] = "vigil_kernel_lost_events_total";
	uint64_t lost[VG_E_KERNEL_TYPES] = { 0 }, unmatched = 0;

	if (strcmp(src->ops->name, "audit") == 0) {
		struct vg_audit_source_stats as;

		vg_audit_source_stats(src, &as);
		family(f, name, "counter",
		       "Events the kernel lost before vigil read them, by type "
		       "(audit: \"unknown\", its counter has none).");
		value1(f, name, "type", "unknown", as.kernel_lost);
		return;
	}
	if (!src->ops->lost || src->ops->lost(src, lost, &unmatched) < 0)
		return;
	family(f, name, "counter",
	       "Events the kernel lost before vigil read them (ring buffer "
	       "full), by type.");
	for (size_t i = 0; i < vg_n_event_types; i++) {
		uint32_t t = vg_event_types[i].type;

		if (t < VG_E_KERNEL_TYPES)
			value1(f, name, "type", vg_event_types[i].name, lost[t]);
	}
	value1(f, name, "type", "exec_args", lost[VG_E_EXEC_ARGS]);
}

static void render_hist(FILE *f, const char *name, const char *help,
			const struct vg_hist *h)
{
	struct vg_hist s;
	uint64_t cum = 0;

	vg_hist_snapshot(h, &s);
	family(f, name, "histogram", help);
	for (unsigned b = 0; b < VG_HIST_BUCKETS; b++) {
		cum += s.n[b];
		if (b < VG_HIST_BUCKETS - 1)
			fprintf(f, "%s_bucket{le=\"%.9g\"} %llu\n", name,
				(double)vg_hist_le_ns[b] / 1e9, (unsigned long long)cum);
		else
			fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
				(unsigned long long)cum);
	}
	fprintf(f, "%s_sum %.9f\n", name, (double)s.sum_ns / 1e9);
	/* the buckets' own total: the count always agrees with them */
	fprintf(f, "%s_count %llu\n", name, (unsigned long long)cum);
}

static void render_cache(FILE *f, const struct vigil_ctx *ctx)
{
	static const char *const caches[] = { "cgroup_id", "cgroup_file", "metadata" };
	const uint64_t hits[] = { ctx->cgid_hits, ctx->cg_cache_hits, ctx->meta.hits };
	const uint64_t misses[] = { ctx->cgid_misses, ctx->cg_cache_misses,
				    ctx->meta.misses };

	family(f, "vigil_attribution_cache_hits_total", "counter",
	       "Attribution lookups answered from a cache: by cgroup id, by "
	       "cgroup file text, and container metadata by claim.");
	for (size_t i = 0; i < VG_ARRAY_SIZE(caches); i++)
		value1(f, "vigil_attribution_cache_hits_total", "cache", caches[i], hits[i]);
	family(f, "vigil_attribution_cache_misses_total", "counter",
	       "Attribution lookups that had to attribute afresh (a cgroup not "
	       "seen before, or whose entry expired).");
	for (size_t i = 0; i < VG_ARRAY_SIZE(caches); i++)
		value1(f, "vigil_attribution_cache_misses_total", "cache", caches[i],
		       misses[i]);
	family(f, "vigil_attribution_cache_evictions_total", "counter",
	       "Cache entries evicted to make room.");
	value1(f, "vigil_attribution_cache_evictions_total", "cache", "cgroup_id",
	       ctx->cgid_evictions);
	value1(f, "vigil_attribution_cache_evictions_total", "cache", "metadata",
	       ctx->meta.evictions);
	gauge(f, "vigil_metadata_cache_entries", "Containers in the metadata cache.",
	      ctx->meta.n);
	counter(f, "vigil_metadata_reads_total",
		"Reads of a container's metadata from its runtime (and its pod's) "
		"that succeeded.", ctx->meta.reads);
	render_hist(f, "vigil_metadata_read_duration_seconds",
		    "Time to read a container's metadata from its runtime's state, "
		    "API and the kubelet, whether it succeeded or not.",
		    &ctx->meta.read_time);
}

/* The rules' (vigil daemon --rules): nothing when there are none. */
static void render_rules(FILE *f, struct vg_daemon *d)
{
	struct vg_daemon_rules_stats st;
	static const char *const states[] = { "accepted", "refused", "skipped",
					      "disabled" };

	vg_daemon_rules_stats(d, &st);
	if (!st.loaded && !st.loads)
		return;
	const size_t n[] = { st.accepted, st.refused, st.skipped, st.disabled };

	family(f, "vigil_rules", "gauge",
	       "Rules loaded now, by state: accepted (evaluated), refused (vigil "
	       "cannot evaluate them), skipped (another source), disabled.");
	for (size_t i = 0; i < VG_ARRAY_SIZE(states); i++)
		value1(f, "vigil_rules", "state", states[i], n[i]);
	family(f, "vigil_alerts_total", "counter",
	       "Alerts the rules made, by priority.");
	for (int p = 0; p < VG_DAEMON_PRIORITIES; p++)
		value1(f, "vigil_alerts_total", "priority", vg_rule_priority_name(p),
		       st.alerts[p]);
	counter(f, "vigil_alert_errors_total",
		"Alerts made without a value or their message, or not made, for "
		"want of memory.", st.errors + st.dropped);
	counter(f, "vigil_rules_loads_total",
		"Rule sets taken: the start's and each reload's.", st.loads);
}

/* The source's own buffer and programs, where it has them: nothing is
 * made up for a source that has none (a replay). */
static void render_source(FILE *f, struct vg_source *src)
{
	uint64_t waiting = 0, size = 0;

	if (src->ops->fill) {
		src->ops->fill(src, &waiting, &size);
		if (size) {
			gauge_f(f, "vigil_ring_buffer_fill_ratio",
				"What waits unread in the source's buffer, of its "
				"capacity (bpf: ring buffer bytes; audit: the "
				"kernel's backlog of records).",
				(double)(waiting > size ? size : waiting) / (double)size);
		}
		if (size && strcmp(src->ops->name, "bpf") == 0) {
			gauge(f, "vigil_ring_buffer_used_bytes",
			      "Bytes of records waiting in the eBPF ring buffer.", waiting);
			gauge(f, "vigil_ring_buffer_size_bytes",
			      "The eBPF ring buffer's size.", size);
		}
	}
	if (src->ops->programs) {
		int n = src->ops->programs(src);

		if (n >= 0)
			gauge(f, "vigil_programs_attached",
			      "eBPF programs attached in the kernel now.", (uint64_t)n);
	}
}

/* One series of every export, labelled export and kind. */
struct export_out {
	FILE *f;
	const char *name;
	size_t field; /* which value: an offset in the table below */
};

static uint64_t export_value(const struct vg_export_info *i, size_t field)
{
	const uint64_t v[] = {
		i->offered, i->k.sent, i->k.acked, i->queue_lost, i->k.lost,
		i->k.lost_unknown, i->k.spooled, i->k.spool_lost, i->k.spool_bytes,
		i->queued_bytes, i->k.buffered, i->k.connected,
		i->lost_told,
	};

	return field < VG_ARRAY_SIZE(v) ? v[field] : 0;
}

static int export_series(const struct vg_export_info *i, void *arg)
{
	struct export_out *o = arg;

	fprintf(o->f, "%s{export=\"", o->name);
	label_value(o->f, i->name);
	fprintf(o->f, "\",kind=\"");
	label_value(o->f, i->kind);
	fprintf(o->f, "\"} %llu\n", (unsigned long long)export_value(i, o->field));
	return 0;
}

static void render_exports(FILE *f, const struct vg_exports *x)
{
	static const struct {
		const char *name, *type, *help;
	} series[] = {
		{ "vigil_export_offered_events_total", "counter",
		  "Events an export's filter passed, each numbered in its seq." },
		{ "vigil_export_sent_events_total", "counter",
		  "Records an export handed to its transport." },
		{ "vigil_export_acked_events_total", "counter",
		  "Records the receiver confirmed (JetStream acks, RELP); 0 where "
		  "the transport cannot say." },
		{ "vigil_export_queue_lost_events_total", "counter",
		  "Events an export dropped because its queue was full." },
		{ "vigil_export_lost_events_total", "counter",
		  "Records the transport lost, counted (a full buffer while the "
		  "receiver was down, write errors)." },
		{ "vigil_export_lost_unknown_total", "counter",
		  "Failures whose loss the transport cannot count (UDP send "
		  "errors, a TCP connection reset): how many times." },
		{ "vigil_export_spooled_events_total", "counter",
		  "Records written to an export's disk spool." },
		{ "vigil_export_spool_lost_events_total", "counter",
		  "Records dropped from a full spool, oldest first." },
		{ "vigil_export_spool_bytes", "gauge", "Bytes in an export's spool now." },
		{ "vigil_export_queued_bytes", "gauge",
		  "Bytes waiting in an export's queue now." },
		{ "vigil_export_buffered_events", "gauge",
		  "Records waiting in the transport's own buffer now." },
		{ "vigil_export_connected", "gauge",
		  "1 while an export's receiver is connected (or, for a file, "
		  "writable), else 0." },
		{ "vigil_export_lost_announced_events_total", "counter",
		  "Queue losses an export announced in-band with a lost record." },
	};

	if (!x)
		return;
	for (size_t k = 0; k < VG_ARRAY_SIZE(series); k++) {
		struct export_out o = { f, series[k].name, k };

		family(f, o.name, series[k].type, series[k].help);
		vg_exports_foreach(x, export_series, &o);
	}
}

static void render(FILE *f, struct vg_daemon *d)
{
	struct vg_engine *en = vg_daemon_engine(d);
	struct vg_source *src = vg_engine_source(en);
	struct vigil_ctx *ctx = vg_engine_ctx(en);
	struct vg_ptable_stats ps;
	struct vg_engine_stats es;
	struct vg_daemon_stats ds;

	vg_daemon_stats(d, &ds);
	vg_engine_stats(en, &es);
	vg_ptable_stats(vg_engine_ptable(en), &ps);

	family(f, "vigil_build_info", "gauge", "vigil's version, as a label; always 1.");
	fprintf(f, "vigil_build_info{version=\"%d.%d.%d\"} 1\n", VIGIL_VERSION_MAJOR,
		VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
	gauge_f(f, "vigil_start_time_seconds",
		"When the daemon started, in seconds since the epoch.",
		(double)ds.start_wall_ns / 1e9);

	render_events(f, src, &es);
	render_kernel_lost(f, src);
	counter(f, "vigil_lost_events_announced_total",
		"Lost events announced to subscribers in-band (lost records).",
		es.lost_reported);
	counter(f, "vigil_delivered_events_total",
		"Events queued to subscribers, every subscription since start.",
		ds.delivered);
	counter(f, "vigil_queue_lost_events_total",
		"Events subscribers lost to a full queue, every subscription since "
		"start.", ds.dropped);
	render_subs(f, d);
	render_exports(f, vg_daemon_exports(d));
	render_rules(f, d);
	gauge(f, "vigil_clients", "Clients connected to the daemon's socket.", ds.clients);
	gauge(f, "vigil_subscriptions", "Subscriptions of all clients.", ds.subscriptions);
	counter(f, "vigil_refused_clients_total",
		"Connections refused: not authorized, or over a client limit.",
		ds.refused);
	counter(f, "vigil_requests_total", "Requests clients made.", ds.requests);
	counter(f, "vigil_bad_requests_total",
		"Requests that were not valid JSON, too long, or unknown.",
		ds.bad_requests);
	gauge_f(f, "vigil_loop_max_pause_seconds",
		"The longest the daemon's loop went without reading its source.",
		(double)ds.lim.loop_max_ns / 1e9);

	gauge(f, "vigil_process_table_entries",
	      "Processes in the process table (exited ones kept a while included).",
	      ps.entries);
	gauge(f, "vigil_process_table_max_entries", "The process table's bound.", ps.max);
	counter(f, "vigil_process_table_evictions_total",
		"Processes evicted from the full process table.", ps.evicted);
	render_cache(f, ctx);
	render_source(f, src);
}

int vg_metrics_render(struct vg_daemon *d, char **ret_text, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	render(f, d);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

/* ------------------------------------------------------------- serve */

struct vg_metrics {
	struct MHD_Daemon *mhd;
	struct vg_daemon *d;
	int epfd; /* MHD's, for the daemon's loop */
};

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status,
				    const char *text, bool allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct vg_metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;
	size_t len;

	(void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "only GET and HEAD of /metrics\n", true);
	if (strcmp(url, "/metrics") != 0)
		return respond_text(conn, MHD_HTTP_NOT_FOUND,
				    "not found: vigil serves /metrics\n", false);
	if (!m->d || vg_metrics_render(m->d, &text, &len) < 0)
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "the metrics could not be made (out of memory)\n", false);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The daemon's loop: MHD's epoll fd is readable, or its timeout is due. */
static int on_ready(void *arg)
{
	struct vg_metrics *m = arg;
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->mhd);
	if (MHD_get_timeout(m->mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int vg_metrics_new(const struct vg_metrics_addr *addr, struct vg_metrics **ret,
		   char *err, size_t errsz)
{
	const union MHD_DaemonInfo *info;
	struct vg_metrics *m;
	char where[INET6_ADDRSTRLEN + 16];
	int fd, one = 1, r;

	vg_metrics_addr_format(addr, where, sizeof(where));
	/* the socket is ours, so that a bind that fails says why */
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		vg_set_err(err, errsz, "metrics: socket: %s", strerror(errno));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    listen(fd, 16) < 0) {
		r = -errno;
		vg_set_err(err, errsz, "metrics: cannot listen on %s: %s", where,
			   r == -EADDRINUSE ? "the address is in use" : strerror(-r));
		close(fd);
		return r;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	m->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | (addr->ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, m,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)VG_METRICS_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)VG_METRICS_CONNECTIONS_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)VG_METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)VG_METRICS_HEADER_BYTES,
		MHD_OPTION_END);
	if (!m->mhd) {
		vg_set_err(err, errsz, "metrics: the HTTP server could not start on "
			   "%s", where);
		close(fd);
		free(m);
		return -EIO;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		vg_set_err(err, errsz, "metrics: the HTTP server has no epoll fd");
		vg_metrics_free(m);
		return -EIO;
	}
	m->epfd = info->epoll_fd;
	*ret = m;
	return 0;
}

int vg_metrics_serve(struct vg_metrics *m, struct vg_daemon *d)
{
	m->d = d;
	return vg_daemon_watch(d, m->epfd, on_ready, m);
}

void vg_metrics_free(struct vg_metrics *m)
{
	if (!m)
		return;
	/* closes the listening socket it was given too */
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	free(m);
}
