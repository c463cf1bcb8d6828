/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/daemon.h"
#include "source/audit/source.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/exports.h"
#include "render/escape.h"
#include "render/identity.h"
#include "rules/alert.h"
#include "vigil/vigil.h"

struct client;
struct vg_daemon;

struct sub {
	uint64_t id;
	struct client *c;
	struct vg_sink sink;
	struct vg_selector sel;
	struct vg_filter *f;
	char **refs;     /* sel.refs, owned */
	char *image, *pod_ns, *pod_name, *path;
	size_t bytes; /* counted against the subscription budget */
	/* its programs are being attached: its reply waits, no event goes */
	uint64_t pending;
	json_t *reply, *reply_id;
	uint64_t delivered, dropped, dropped_told;
	bool alerts;     /* and the alerts of the events it selects */
	struct sub *next;
};

struct client {
	struct vg_daemon *d;
	int fd;
	uid_t uid;
	pid_t pid;
	char *in;
	size_t in_len;
	bool in_skip; /* the rest of an over-long line is discarded */
	char *pend;      /* received, not yet handled: read while paused */
	size_t pend_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool eof, dead, paused;
	bool more;       /* its turn ended with requests left */
	uint32_t ev_mask; /* what epoll watches for it */
	size_t next_flush; /* queued bytes at which to try the socket again */
	uint64_t last_active_ns; /* its last request */
	double tokens;           /* subscription changes it may make now */
	uint64_t tokens_ns;
	size_t sub_bytes;        /* its share of the subscription budget */
	struct sub *subs;
	size_t n_subs;
	struct client *next;
};

struct vg_daemon {
	struct vg_engine *en;
	struct vg_daemon_opts o;
	int epfd;
	char sensor_id[40];
	uint64_t next_sub;
	struct client *clients;
	size_t n_clients, n_subs, sub_bytes;
	uint64_t delivered, dropped, refused, requests, bad_requests;
	struct vg_daemon_limit_stats lim;
	bool listen_paused;        /* out of fds: not accepting */
	uint64_t listen_retry_ns;  /* when to try again regardless */
	uint64_t next_idle_check_ns;
	uint64_t next_tick_ns;     /* o.tick's */
	char tag_listen, tag_engine; /* epoll's data for what is not a client */
	uint64_t start_wall_ns;
	struct watch {
		int fd;
		vg_daemon_watch_fn fn;
		void *ctx;
		uint64_t due_ns; /* 0: only when readable */
		bool ready;
	} watch[VG_DAEMON_WATCH_MAX];
	size_t n_watch;
	struct vg_exports *exports;
	/* Falco's rules: one raw sink evaluates them for everyone */
	struct vg_ruleset *rules;
	struct vg_sink rules_sink;
	bool rules_added;
	struct vg_printer *alert_pr[2]; /* JSON, text */
	char hostname[256];
	const struct vg_event *cur;     /* the event the rules look at */
	struct vg_daemon_rules_stats rst;
	bool hold_done;                 /* o.hold_subs reached */
};

#define ALERT_BIT VG_E_BIT(VG_E_ALERT)

void vg_daemon_set_exports(struct vg_daemon *d, struct vg_exports *x)
{
	d->exports = x;
}

const struct vg_exports *vg_daemon_exports(const struct vg_daemon *d)
{
	return d->exports;
}

const char *vg_daemon_sensor_id(const struct vg_daemon *d)
{
	return d->sensor_id;
}

void vg_daemon_counts(const struct vg_daemon *d, struct vg_daemon_counts *ret)
{
	uint64_t lost[VG_E_KERNEL_TYPES] = { 0 }, unmatched = 0;
	struct vg_source *src = vg_engine_source(d->en);
	struct vg_engine_stats es;

	memset(ret, 0, sizeof(*ret));
	vg_engine_stats(d->en, &es);
	for (size_t t = 0; t < VG_ARRAY_SIZE(es.events); t++)
		ret->events += es.events[t];
	if (src->ops->lost)
		src->ops->lost(src, lost, &unmatched);
	for (size_t t = 0; t < VG_E_KERNEL_TYPES; t++)
		ret->kernel_lost += lost[t];
	ret->queue_lost = d->dropped;
	ret->clients = d->n_clients;
}

struct vg_engine *vg_daemon_engine(const struct vg_daemon *d)
{
	return d->en;
}

void vg_daemon_stats(const struct vg_daemon *d, struct vg_daemon_stats *ret)
{
	*ret = (struct vg_daemon_stats){
		.delivered = d->delivered,
		.dropped = d->dropped,
		.refused = d->refused,
		.requests = d->requests,
		.bad_requests = d->bad_requests,
		.clients = d->n_clients,
		.subscriptions = d->n_subs,
		.start_wall_ns = d->start_wall_ns,
		.lim = d->lim,
	};
}

int vg_daemon_foreach_sub(const struct vg_daemon *d,
			  int (*fn)(const struct vg_daemon_sub_info *s, void *ctx),
			  void *ctx)
{
	for (const struct client *c = d->clients; c; c = c->next)
		for (const struct sub *s = c->subs; s; s = s->next) {
			const struct vg_daemon_sub_info si = {
				.id = s->id, .uid = c->uid, .pid = c->pid,
				.delivered = s->delivered, .lost = s->dropped,
			};
			int r = fn(&si, ctx);

			if (r)
				return r;
		}
	return 0;
}

int vg_daemon_watch(struct vg_daemon *d, int fd, vg_daemon_watch_fn fn,
		    void *ctx)
{
	struct watch *w;
	struct epoll_event ev = { .events = EPOLLIN };

	if (d->n_watch >= VG_DAEMON_WATCH_MAX)
		return -E2BIG;
	w = &d->watch[d->n_watch];
	*w = (struct watch){ .fd = fd, .fn = fn, .ctx = ctx, .due_ns = 1 };
	ev.data.ptr = w;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	d->n_watch++;
	return 0;
}

/* @p is one of the watches' (else a client). */
static struct watch *watch_of(struct vg_daemon *d, void *p)
{
	for (size_t i = 0; i < d->n_watch; i++)
		if (p == &d->watch[i])
			return &d->watch[i];
	return NULL;
}

/* The watches that are readable or due; returns the wait, in ms, before
 * the next is due (-1: none). */
static int run_watches(struct vg_daemon *d, uint64_t now)
{
	int wait_ms = -1;

	for (size_t i = 0; i < d->n_watch; i++) {
		struct watch *w = &d->watch[i];

		if (w->ready || (w->due_ns && now >= w->due_ns)) {
			int ms = w->fn(w->ctx);

			w->ready = false;
			w->due_ns = ms >= 0 ? now + (uint64_t)ms * 1000000ull : 0;
		}
		if (w->due_ns) {
			uint64_t left = w->due_ns > now ? w->due_ns - now : 0;
			int ms = (int)((left + 999999) / 1000000);

			if (wait_ms < 0 || ms < wait_ms)
				wait_ms = ms;
		}
	}
	return wait_ms;
}

/* ------------------------------------------------------------- output */

static size_t waiting(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* What epoll watches for @c: input until its EOF and while its answers
 * are under the bound (level-triggered, a half-closed socket would wake
 * the loop forever), output while some waits. */
static void client_update_events(struct vg_daemon *d, struct client *c)
{
	uint32_t m = (c->eof || c->paused || c->pend_len ? 0 : EPOLLIN | EPOLLRDHUP) |
		     (waiting(c) ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = m, .data.ptr = c };

	if (c->ev_mask == m || c->dead)
		return;
	c->ev_mask = m;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue @na + @nb bytes and a newline for @c. Events are refused when
 * the queue is full (@bounded); replies always fit, up to a line more. */
static bool queue(struct client *c, const char *a, size_t na, const char *b,
		  size_t nb, bool bounded)
{
	size_t need = na + nb + 1, waiting = c->out_len - c->out_off;

	if (c->dead)
		return false;
	if (bounded && waiting + need > VG_DAEMON_QUEUE_MAX)
		return false;
	if (waiting + need > VG_DAEMON_QUEUE_HARD) {
		/* answers it asked for and never read: it goes */
		c->dead = true;
		c->d->lim.disconnected_slow++;
		return false;
	}
	if (c->out_off && c->out_len + need > c->out_cap) {
		memmove(c->out, c->out + c->out_off, waiting);
		c->out_len = waiting;
		c->out_off = 0;
	}
	if (c->out_len + need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;
		char *o;

		while (cap < c->out_len + need)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o)
			return false;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, a, na);
	if (nb)
		memcpy(c->out + c->out_len + na, b, nb);
	c->out[c->out_len + na + nb] = '\n';
	c->out_len += need;
	return true;
}

/* Every request is answered: an answer that could not be made is an
 * error reply, never silence. */
static void reply(struct client *c, json_t *r, json_t *id)
{
	char *s = NULL;

	if (r) {
		if (id)
			json_object_set(r, "id", id);
		s = json_dumps(r, JSON_COMPACT);
	}
	if (s && strlen(s) > VG_DAEMON_REPLY_MAX) {
		free(s);
		s = NULL;
		c->d->lim.replies_too_large++;
	}
	if (!s) {
		json_t *e = json_pack("{s:s}", "error", r ? "the answer could not be "
				      "made (too large, or out of memory)"
						       : "out of memory");

		if (e && id)
			json_object_set(e, "id", id);
		if (e && r && json_is_string(json_object_get(r, "reply")))
			json_object_set(e, "reply", json_object_get(r, "reply"));
		s = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	if (s)
		queue(c, s, strlen(s), NULL, 0, false);
	free(s);
	json_decref(r);
}

static void reply_error(struct client *c, json_t *id, const char *req,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reply_error(struct client *c, json_t *id, const char *req,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a request's words, cut by a bound, may end mid-character */
	for (size_t i = 0, n = strlen(msg); i < n;) {
		size_t k = vg_utf8_seq((const unsigned char *)msg + i, n - i);

		if (!k) {
			msg[i] = '?';
			k = 1;
		}
		i += k;
	}
	r = json_pack("{s:s}", "error", msg);
	if (r && req)
		json_object_set_new(r, "reply", json_string(req));
	reply(c, r, id);
}

static void flush_client(struct vg_daemon *d, struct client *c);

/* Tell @s's client how many of its events it lost, if it has room. */
static void tell_lost(struct vg_daemon *d, struct sub *s)
{
	char buf[256];
	uint64_t n = s->dropped - s->dropped_told;
	int len;

	if (!n)
		return;
	if (s->sink.mode == VG_OUTPUT_TEXT)
		len = snprintf(buf, sizeof(buf), "- lost    %llu events (subscriber queue full)",
			       (unsigned long long)n);
	else
		len = snprintf(buf, sizeof(buf),
			       "{\"sub\":%llu,\"sensor\":\"%s\",\"evt\":{\"type\":\"lost\"},"
			       "\"lost\":{\"total\":%llu,\"reason\":\"subscriber queue full\"}}",
			       (unsigned long long)s->id, d->sensor_id,
			       (unsigned long long)n);
	if (queue(s->c, buf, (size_t)len, NULL, 0, true))
		s->dropped_told = s->dropped;
}

/* The engine's sink: an event for subscription @sk. */
static void sub_emit(struct vg_sink *sk, const char *line, size_t len,
		     const struct vg_event *e)
{
	struct sub *s = sk->ctx;
	struct vg_daemon *d = s->c->d;
	char pre[128];
	int n = 0;
	bool ok;

	if (s->pending)
		return; /* not subscribed yet, as far as its client knows */
	if (s->dropped != s->dropped_told)
		tell_lost(d, s);
	/* a storm can fill the queue within one batch: hand the socket
	 * what it takes now, before giving up on events */
	if (s->c->out_len - s->c->out_off >= s->c->next_flush)
		flush_client(d, s->c);
	if (s->dropped != s->dropped_told) {
		ok = false;
	} else if (s->sink.mode == VG_OUTPUT_TEXT) {
		ok = queue(s->c, line, len, NULL, 0, true);
	} else {
		/* the record's members, after ours */
		n = snprintf(pre, sizeof(pre), "{\"sub\":%llu,\"sensor\":\"%s\",\"seq\":%llu%s",
			     (unsigned long long)s->id, d->sensor_id,
			     (unsigned long long)e->x.seq, len > 2 ? "," : "");
		ok = len >= 2 && queue(s->c, pre, (size_t)n, line + 1, len - 1, true);
	}
	if (ok) {
		s->delivered++;
		d->delivered++;
	} else {
		s->dropped++;
		d->dropped++;
	}
}

/* Write what @c has waiting, without blocking. */
static void flush_client(struct vg_daemon *d, struct client *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			c->dead = true; /* EPIPE, ECONNRESET */
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	/* a socket that took no more is tried again 256 KiB later: a
	 * stopped reader costs a failed send per few hundred events */
	c->next_flush = c->out_len - c->out_off + (256u << 10);
	/* caught up: it hears what it missed */
	for (struct sub *s = c->subs; s; s = s->next)
		if (s->dropped != s->dropped_told &&
		    c->out_len - c->out_off < VG_DAEMON_QUEUE_MAX / 2)
			tell_lost(d, s);
	client_update_events(d, c);
}

/* -------------------------------------------------------------- rules */

/* What an alert's consumers are checked against: the event that matched,
 * its fields, and "alert" for evt.type. */
struct alert_ctx {
	struct vg_daemon *d;
	const struct vg_event *e;
	vg_filter_get_fn get;
	void *get_ctx;
};

static int alert_get(void *ctx, int field_id, const char *key, size_t key_len,
		     struct vg_fval *ret)
{
	struct alert_ctx *ac = ctx;

	if (field_id == VG_F_EVT_TYPE) {
		ret->s = "alert";
		ret->len = 5;
		return 1;
	}
	return ac->get(ac->get_ctx, field_id, key, key_len, ret);
}

/* Whether the subscription or export of sink @s takes the alert. */
static bool alert_passes(const struct vg_sink *s, void *arg)
{
	struct alert_ctx *ac = arg;

	return vg_engine_sink_selects(s, ac->e) &&
	       vg_filter_match(s->filter, alert_get, ac);
}

/* The alert in form @m (0 JSON, 1 text), rendered at most once. */
static const char *alert_line(struct vg_daemon *d, const struct vg_rule_alert *ra,
			      int m, const char **line, size_t *len, bool *tried)
{
	if (!tried[m]) {
		tried[m] = true;
		vg_render_alert(d->alert_pr[m], &ra->a);
		line[m] = vg_pr_end_view(d->alert_pr[m], &len[m]);
		if (!line[m])
			d->rst.dropped++;
	}
	return line[m];
}

static void on_rule(const struct vg_rule *r, void *arg)
{
	struct alert_ctx *ac = arg;
	struct vg_daemon *d = ac->d;
	const char *line[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	bool tried[2] = { false, false };
	struct vg_rule_alert ra;

	vg_rule_alert_init(&ra, r, ac->e, ac->get, ac->get_ctx, d->hostname);
	d->rst.alerts_total++;
	if (r->priority >= 0 && r->priority < VG_DAEMON_PRIORITIES)
		d->rst.alerts[r->priority]++;
	d->rst.errors += ra.incomplete;
	for (struct client *c = d->clients; c; c = c->next)
		for (struct sub *s = c->subs; s; s = s->next) {
			int m = s->sink.mode == VG_OUTPUT_TEXT ? 1 : 0;

			if (!s->alerts || s->pending || c->dead ||
			    !alert_passes(&s->sink, ac) ||
			    !alert_line(d, &ra, m, line, len, tried))
				continue;
			/* as an event: "sub", "sensor" and the matching
			 * event's "seq" first */
			sub_emit(&s->sink, line[m], len[m], ac->e);
		}
	if (d->exports && vg_exports_want_alerts(d->exports) &&
	    alert_line(d, &ra, 0, line, len, tried))
		vg_exports_alert(d->exports, line[0], len[0], ac->e, alert_passes, ac);
	vg_rule_alert_release(&ra);
}

static void eval_rules(vg_filter_get_fn get, void *get_ctx, void *arg)
{
	struct vg_daemon *d = arg;
	struct alert_ctx ac = { .d = d, .e = d->cur, .get = get, .get_ctx = get_ctx };

	vg_ruleset_match(d->rules, VG_E_BIT(d->cur->type), get, get_ctx, true,
			 on_rule, &ac);
}

/* The rules' sink: every event of the rules' types, once. */
static void rules_emit(struct vg_sink *sk, const char *line, size_t len,
		       const struct vg_event *e)
{
	struct vg_daemon *d = sk->ctx;

	(void)line, (void)len;
	if (e->type == VG_E_LOST || !d->rules)
		return;
	d->cur = e;
	vg_engine_with_fields(d->en, e, eval_rules, d);
	d->cur = NULL;
}

static void count_rules(struct vg_daemon *d)
{
	struct vg_daemon_rules_stats *st = &d->rst;
	struct vg_rules_tally t;

	vg_ruleset_tally(d->rules, &t);
	st->loaded = d->rules != NULL;
	st->rules = t.rules;
	st->accepted = t.accepted;
	st->refused = t.refused;
	st->skipped = t.skipped;
	st->disabled = t.disabled;
}

int vg_daemon_set_rules(struct vg_daemon *d, struct vg_ruleset *rs, char *err,
			size_t errsz)
{
	uint64_t std = vg_source_std_mask(vg_engine_source(d->en)), m;
	int r = 0;

	if (rs && !d->alert_pr[0]) {
		d->alert_pr[0] = vg_printer_new(VG_OUTPUT_JSON);
		d->alert_pr[1] = vg_printer_new(VG_OUTPUT_TEXT);
		if (!d->alert_pr[0] || !d->alert_pr[1]) {
			vg_ruleset_free(rs);
			rs = NULL;
			vg_set_err(err, errsz, "out of memory");
			r = -ENOMEM;
		}
	}
	/* between two events: the old rules go, the new take their place */
	vg_ruleset_free(d->rules);
	d->rules = rs;
	if (rs)
		d->rst.loads++;
	count_rules(d);
	m = rs ? vg_ruleset_type_mask(rs) : 0;
	d->rules_sink.types = (m == UINT64_MAX ? std : m) & std;
	if (!rs && d->rules_added) {
		vg_engine_remove_sink(d->en, &d->rules_sink);
		d->rules_added = false;
	} else if (rs && !d->rules_added) {
		uint64_t ticket;

		r = vg_engine_add_sink_async(d->en, &d->rules_sink, &ticket, err, errsz);
		d->rules_added = r >= 0;
		if (r > 0)
			r = 0;
	} else if (rs) {
		r = vg_engine_update(d->en, err, errsz);
	}
	return r < 0 ? r : 0;
}

bool vg_daemon_has_rules(const struct vg_daemon *d)
{
	return d->rules != NULL;
}

void vg_daemon_rules_stats(const struct vg_daemon *d,
			   struct vg_daemon_rules_stats *ret)
{
	*ret = d->rst;
}

/* ------------------------------------------------------ subscriptions */

/* Off @s's client and the engine; freed by the caller. */
static void sub_unlink_counts(struct vg_daemon *d, struct sub *s)
{
	s->c->n_subs--;
	s->c->sub_bytes -= s->bytes;
	d->n_subs--;
	d->sub_bytes -= s->bytes;
	vg_engine_remove_sink(d->en, &s->sink);
}

static void sub_free(struct sub *s)
{
	if (!s)
		return;
	json_decref(s->reply);
	json_decref(s->reply_id);
	vg_filter_free(s->f);
	for (size_t i = 0; i < s->sel.n_refs; i++)
		free(s->refs[i]);
	free(s->refs);
	free(s->image);
	free(s->pod_ns);
	free(s->pod_name);
	free(s->path);
	free(s);
}

static json_t *types_json(uint64_t m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < vg_n_event_types; i++)
		if ((vg_event_types[i].std || vg_event_types[i].type == VG_E_ALERT) &&
		    (m & VG_E_BIT(vg_event_types[i].type)))
			json_array_append_new(a, json_string(vg_event_types[i].name));
	return a;
}

/* A subscription's "events": the std types they name. Returns 0, or -1
 * with the error replied. */
static int sub_types(struct client *c, json_t *id, json_t *je, uint64_t all,
		     uint64_t *ret)
{
	size_t i;
	json_t *t;

	json_array_foreach(je, i, t) {
		const char *name = json_string_value(t);
		const struct vg_event_type_info *ti = vg_event_type_find(name);

		if (name && strcmp(name, "all") == 0) {
			*ret |= all;
			continue;
		}
		if (ti && ti->type == VG_E_ALERT) {
			*ret |= ALERT_BIT;
			continue;
		}
		if (!ti || !ti->std) {
			reply_error(c, id, "subscribe",
				    "unknown event type %s%s%s; the daemon serves %s, "
				    "alert, all",
				    name ? "'" : "", name ? name : "(not a string)",
				    name ? "'" : "", vg_event_std_names());
			return -1;
		}
		*ret |= VG_E_BIT(ti->type);
	}
	return 0;
}

/* A subscription change costs the kernel state's recomputation: each
 * client may make VG_DAEMON_SUB_RATE a second, in bursts of
 * VG_DAEMON_SUB_BURST. Returns false with the error replied. */
static bool change_allowed(struct vg_daemon *d, struct client *c, json_t *id,
			   const char *req)
{
	uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);

	if (!c->tokens_ns) {
		c->tokens = VG_DAEMON_SUB_BURST;
	} else {
		c->tokens += (double)(now - c->tokens_ns) * VG_DAEMON_SUB_RATE / 1e9;
		if (c->tokens > VG_DAEMON_SUB_BURST)
			c->tokens = VG_DAEMON_SUB_BURST;
	}
	c->tokens_ns = now;
	if (c->tokens < 1.0) {
		d->lim.rate_limited++;
		reply_error(c, id, req, "rate limited: at most %d subscription changes "
			    "a second; try again in %.0f ms", VG_DAEMON_SUB_RATE,
			    (1.0 - c->tokens) * 1000.0 / VG_DAEMON_SUB_RATE + 1.0);
		return false;
	}
	c->tokens -= 1.0;
	return true;
}

/* What a subscription holds of the daemon's memory, for the budget. */
static size_t sub_cost(json_t *q)
{
	size_t n = sizeof(struct sub) + 4096; /* a compiled filter's floor */
	const char *k;
	json_t *v;

	json_object_foreach(q, k, v) {
		if (json_is_string(v))
			n += 4 * json_string_length(v); /* source and tree */
		else if (json_is_array(v))
			for (size_t i = 0; i < json_array_size(v); i++)
				n += 64 + (json_is_string(json_array_get(v, i))
						   ? json_string_length(json_array_get(v, i))
						   : 0);
	}
	return n;
}

static void req_subscribe(struct vg_daemon *d, struct client *c, json_t *q,
			  json_t *id)
{
	size_t cost = sub_cost(q);
	int r;
	json_t *jf = json_object_get(q, "filter"), *je = json_object_get(q, "events");
	json_t *jc = json_object_get(q, "containers"), *ji = json_object_get(q, "image");
	json_t *jp = json_object_get(q, "pod"), *jh = json_object_get(q, "host");
	json_t *jpa = json_object_get(q, "path"), *jfo = json_object_get(q, "format");
	struct sub *s;
	char canon[4096], err[256];
	bool has_sel = false;

	if (c->n_subs >= VG_DAEMON_SUBS_MAX) {
		d->lim.refused_subscriptions++;
		reply_error(c, id, "subscribe", "at most %d subscriptions per client",
			    VG_DAEMON_SUBS_MAX);
		return;
	}
	if (d->n_subs >= VG_DAEMON_SUBS_TOTAL ||
	    d->sub_bytes + cost > VG_DAEMON_SUB_BYTES_MAX) {
		d->lim.refused_subscriptions++;
		reply_error(c, id, "subscribe", "the daemon's subscription budget is "
			    "spent (%d subscriptions, %u MiB of filters and "
			    "selections for all clients)", VG_DAEMON_SUBS_TOTAL,
			    VG_DAEMON_SUB_BYTES_MAX >> 20);
		return;
	}
	if (!change_allowed(d, c, id, "subscribe"))
		return;
	if ((jf && !json_is_string(jf)) || (je && !json_is_array(je)) ||
	    (jc && !json_is_array(jc)) || (ji && !json_is_string(ji)) ||
	    (jp && !json_is_string(jp)) || (jh && !json_is_boolean(jh)) ||
	    (jpa && !json_is_string(jpa)) || (jfo && !json_is_string(jfo))) {
		reply_error(c, id, "subscribe",
			    "expected \"filter\": string, \"events\": [strings], "
			    "\"containers\": [strings], \"image\": string, "
			    "\"pod\": \"NS/NAME\", \"host\": boolean, \"path\": glob, "
			    "\"format\": \"json\" or \"text\"");
		return;
	}
	if (jfo && strcmp(json_string_value(jfo), "json") != 0 &&
	    strcmp(json_string_value(jfo), "text") != 0) {
		reply_error(c, id, "subscribe", "\"format\" is \"json\" or \"text\", not '%s'",
			    json_string_value(jfo));
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	if (jf) {
		struct vg_filter_error fe = { 0 };

		if (vg_filter_compile(json_string_value(jf), &s->f, &fe) < 0) {
			reply(c, json_pack("{s:s,s:s,s:i}", "reply", "subscribe", "error",
					   fe.msg[0] ? fe.msg : "out of memory",
					   "column", fe.column), id);
			sub_free(s);
			return;
		}
	}
	if (je) {
		if (sub_types(c, id, je,
			      vg_source_std_mask(vg_engine_source(d->en)) & vg_event_all_mask(),
			      &s->sink.types) < 0) {
			sub_free(s);
			return;
		}
	} else {
		/* what the filter can match, else everything but the
		 * opt-in types (alerts only when it names them) */
		uint64_t m = vg_filter_type_mask(s->f, vg_event_type_bits, NULL);

		s->sink.types = (m == UINT64_MAX ? vg_event_all_mask() : m) &
				vg_source_std_mask(vg_engine_source(d->en));
		if (m != UINT64_MAX)
			s->sink.types |= m & ALERT_BIT;
	}
	if (s->sink.types & ALERT_BIT) {
		if (!d->rules) {
			reply_error(c, id, "subscribe", "no alerts here: the daemon runs "
				    "no rules (vigil daemon --rules FILE)");
			sub_free(s);
			return;
		}
		/* alerts are the daemon's, not the engine's: its sink takes
		 * the events alone (none, for alerts only) */
		s->alerts = true;
		s->sink.types &= ~ALERT_BIT;
	}
	if (!s->sink.types && !s->alerts) {
		reply_error(c, id, "subscribe", "no event type to deliver");
		sub_free(s);
		return;
	}
	if (jc && json_array_size(jc)) {
		size_t i;
		json_t *t;

		s->refs = calloc(json_array_size(jc), sizeof(*s->refs));
		if (!s->refs) {
			sub_free(s);
			return;
		}
		json_array_foreach(jc, i, t) {
			if (!json_is_string(t) || !*json_string_value(t)) {
				reply_error(c, id, "subscribe",
					    "\"containers\" takes container ids or names");
				sub_free(s);
				return;
			}
			s->refs[s->sel.n_refs++] = strdup(json_string_value(t));
		}
		s->sel.refs = (const char *const *)s->refs;
		has_sel = true;
	}
	if (ji) {
		s->sel.image_glob = s->image = strdup(json_string_value(ji));
		has_sel = true;
	}
	if (jp) {
		const char *p = json_string_value(jp), *slash = strchr(p, '/');

		if (!slash || slash == p || !slash[1]) {
			reply_error(c, id, "subscribe", "\"pod\" takes NAMESPACE/NAME, not '%s'", p);
			sub_free(s);
			return;
		}
		s->sel.pod_ns = s->pod_ns = strndup(p, (size_t)(slash - p));
		s->sel.pod_name = s->pod_name = strdup(slash + 1);
		has_sel = true;
	}
	if (jh && json_is_true(jh)) {
		s->sel.host = true;
		has_sel = true;
	}
	if (jpa)
		s->sink.path_glob = s->path = strdup(json_string_value(jpa));
	s->id = ++d->next_sub;
	s->c = c;
	s->sink.sel = has_sel ? &s->sel : NULL;
	s->sink.filter = s->f;
	s->sink.mode = jfo && strcmp(json_string_value(jfo), "text") == 0
			       ? VG_OUTPUT_TEXT : VG_OUTPUT_JSON;
	s->sink.emit = sub_emit;
	s->sink.ctx = s;
	r = vg_engine_add_sink_async(d->en, &s->sink, &s->pending, err, sizeof(err));
	if (r < 0) {
		reply_error(c, id, "subscribe", "attaching: %s", err);
		sub_free(s);
		return;
	}
	if (!r)
		s->pending = 0;
	s->next = c->subs;
	c->subs = s;
	c->n_subs++;
	s->bytes = cost;
	c->sub_bytes += cost;
	d->n_subs++;
	d->sub_bytes += cost;
	vg_filter_format(s->f, canon, sizeof(canon));
	json_t *ok = json_pack("{s:s,s:I,s:s,s:o,s:s}", "reply", "subscribe", "sub",
			       (json_int_t)s->id, "filter", canon, "events",
			       types_json(s->sink.types | (s->alerts ? ALERT_BIT : 0)), "format",
			       s->sink.mode == VG_OUTPUT_TEXT ? "text" : "json");

	if (!s->pending) {
		reply(c, ok, id);
		return;
	}
	/* answered when its programs are attached (check_pending()) */
	s->reply = ok;
	s->reply_id = json_incref(id);
}

/* Subscriptions whose programs were being attached: answered now that
 * they are, or refused, and let go, if attaching failed. */
static void check_pending(struct vg_daemon *d)
{
	for (struct client *c = d->clients; c; c = c->next)
		for (struct sub **pp = &c->subs; *pp;) {
			struct sub *s = *pp;
			char err[256] = "";
			int r;

			if (!s->pending || (r = vg_engine_attach_status(d->en, s->pending,
									err, sizeof(err))) > 0) {
				pp = &s->next;
				continue;
			}
			s->pending = 0;
			if (r == 0) {
				reply(c, s->reply, s->reply_id);
				s->reply = NULL;
				pp = &s->next;
				continue;
			}
			reply_error(c, s->reply_id, "subscribe", "attaching: %s", err);
			*pp = s->next;
			sub_unlink_counts(d, s);
			sub_free(s);
		}
}

static void req_unsubscribe(struct vg_daemon *d, struct client *c, json_t *q,
			    json_t *id)
{
	json_t *js = json_object_get(q, "sub");
	json_int_t want = json_is_integer(js) ? json_integer_value(js) : -1;

	for (struct sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
		struct sub *s = *pp;

		if ((json_int_t)s->id != want)
			continue;
		if (!change_allowed(d, c, id, "unsubscribe"))
			return;
		*pp = s->next;
		sub_unlink_counts(d, s);
		reply(c, json_pack("{s:s,s:I,s:I,s:I}", "reply", "unsubscribe", "sub",
				   (json_int_t)s->id, "delivered",
				   (json_int_t)s->delivered, "lost",
				   (json_int_t)s->dropped), id);
		sub_free(s);
		return;
	}
	reply_error(c, id, "unsubscribe", "no subscription %lld of this client",
		    (long long)want);
}

static const char *const request_names[] = { "hello", "subscribe", "unsubscribe",
					     "containers", "process", "processes",
					     "stats" };

static void req_hello(struct vg_daemon *d, struct client *c, json_t *q,
		      json_t *id)
{
	json_t *reqs = json_array(), *fields = json_array();
	char version[32];

	(void)q;
	snprintf(version, sizeof(version), "%d.%d.%d", VIGIL_VERSION_MAJOR,
		 VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
	for (size_t i = 0; reqs && i < VG_ARRAY_SIZE(request_names); i++)
		json_array_append_new(reqs, json_string(request_names[i]));
	for (int i = 0; fields && i < VG_F_COUNT; i++)
		json_array_append_new(fields, json_string(vg_filter_field_name(i)));
	reply(c, json_pack("{s:s,s:i,s:s,s:s,s:{s:o,s:o,s:o,s:[s,s],s:i,s:i}}",
			   "reply", "hello", "protocol", VG_DAEMON_PROTOCOL,
			   "version", version, "sensor_id", d->sensor_id,
			   "capabilities", "events",
			   types_json(vg_source_std_mask(vg_engine_source(d->en))),
			   "requests", reqs, "filter_fields", fields, "formats",
			   "json", "text", "max_request_bytes", VG_DAEMON_LINE_MAX,
			   "queue_bytes", VG_DAEMON_QUEUE_MAX),
	      id);
}

/* The record @p made, as JSON; @p is freed. */
static json_t *printed_json(struct vg_printer *p)
{
	char *s = vg_pr_end_string(p);
	json_t *o = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	vg_printer_free(p);
	return o;
}

/* A container as the rest of vigil shows it: {"container":{...},
 * "k8s":...}, through the one printer. */
static json_t *container_json(const struct vg_meta_entry *e, const char *qos)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);

	if (!p)
		return NULL;
	vg_pr_begin(p);
	vg_pr_obj_open(p, "container");
	vg_pr_str(p, "id", NULL, e->meta.id);
	vg_pr_str(p, "runtime", NULL, vg_runtime_name(e->meta.runtime));
	if (e->meta.ctr_namespace)
		vg_pr_str(p, "namespace", NULL, e->meta.ctr_namespace);
	vg_print_claim(p, e);
	vg_pr_obj_close(p);
	vg_print_k8s(p, &e->pod, qos);
	return printed_json(p);
}

static void req_containers(struct vg_daemon *d, struct client *c, json_t *q,
			   json_t *id)
{
	struct vigil_ctx *ctx = vg_engine_ctx(d->en);
	json_t *a = json_array();

	(void)q;
	for (size_t b = 0; a && b < VG_META_BUCKETS; b++)
		for (struct vg_meta_entry *e = ctx->meta.buckets[b]; e; e = e->next) {
			json_t *o = container_json(e, NULL);

			if (o)
				json_array_append_new(a, o);
		}
	reply(c, json_pack("{s:s,s:o}", "reply", "containers", "containers", a), id);
}

/* A process-table entry's members: its ids, name and exe. */
static void proc_members(struct vg_printer *p, const struct vg_pt_entry *pe)
{
	vg_pr_i64(p, "pid", NULL, pe->pid);
	vg_pr_i64(p, "ppid", NULL, pe->ppid);
	vg_pr_str(p, "name", NULL, pe->comm);
	vg_pr_str(p, "exec_id", NULL, pe->exec_id);
	if (pe->parent_exec_id[0])
		vg_pr_str(p, "parent_exec_id", NULL, pe->parent_exec_id);
	if (pe->exe)
		vg_pr_str(p, "exe", NULL, pe->exe);
}

/* {"reply":"process","proc":{...}}: strings a process controls (its
 * comm, its exe) through the event printer, so that no bytes of theirs
 * can keep the answer from being made. */
static json_t *proc_json(const struct vg_pt_entry *pe)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);

	if (!p)
		return NULL;
	vg_pr_begin(p);
	vg_pr_str(p, "reply", NULL, "process");
	vg_pr_obj_open(p, "proc");
	proc_members(p, pe);
	vg_pr_bool(p, "exited", NULL, pe->exited);
	vg_pr_obj_close(p);
	return printed_json(p);
}

static void req_process(struct vg_daemon *d, struct client *c, json_t *q,
			json_t *id)
{
	json_t *jp = json_object_get(q, "pid"), *je = json_object_get(q, "exec_id");
	struct vg_ptable *pt = vg_engine_ptable(d->en);
	const struct vg_pt_entry *pe = NULL;
	json_int_t pid = -1;
	json_t *r;

	if (json_is_integer(jp)) {
		pid = json_integer_value(jp);
	} else if (json_is_string(je)) {
		/* BOOT-PID-START */
		const char *s = json_string_value(je), *dash = strchr(s, '-');

		if (dash)
			pid = strtoll(dash + 1, NULL, 10);
	} else {
		reply_error(c, id, "process", "expected \"pid\": number or \"exec_id\": string");
		return;
	}
	if (pid > 0 && pid <= INT32_MAX)
		pe = vg_ptable_get(pt, (int)pid);
	if (pe && json_is_string(je) && strcmp(pe->exec_id, json_string_value(je)) != 0)
		pe = NULL;
	if (!pe) {
		reply_error(c, id, "process", "no such process known to the sensor");
		return;
	}
	r = proc_json(pe);
	if (r && !pe->exited) {
		struct vg_attribution a;

		if (vg_attrib_pid_cgroup(vg_engine_ctx(d->en), pe->pid, &a) == 0) {
			json_t *o = a.match.role == VG_ROLE_CONTAINER && a.meta
					    ? container_json(a.meta, a.match.pod_qos) : NULL;

			if (o) {
				json_object_update(r, o);
				json_decref(o);
			} else {
				json_object_set_new(r, "container",
						    json_pack("{s:s}", "id",
							      a.match.role == VG_ROLE_CONTAINER
								      ? a.match.container_id
								      : "host"));
			}
		}
	}
	reply(c, r, id);
}

struct procs_ctx {
	struct vigil_ctx *ctx;
	struct vg_printer *p;
	const char *container; /* a full id, "host", or NULL: all */
	size_t n;
};

static int proc_item(const struct vg_pt_entry *pe, void *arg)
{
	struct procs_ctx *pc = arg;
	struct vg_printer *p = pc->p;

	if (pe->exited)
		return 0;
	if (pc->container) {
		struct vg_attribution a;
		const char *cid;

		/* the process's own cgroup file: an entry whose process is
		 * gone, or unreadable, is not this container's */
		if (vg_attrib_pid_cgroup(pc->ctx, pe->pid, &a) < 0)
			return 0;
		cid = a.match.role == VG_ROLE_CONTAINER ? a.match.container_id : "host";
		if (strcmp(cid, pc->container) != 0)
			return 0;
	}
	vg_pr_obj_open(p, NULL);
	proc_members(p, pe);
	vg_pr_obj_close(p);
	pc->n++;
	return 0;
}

/* {"reply":"processes","processes":[...]}: the live processes of the
 * process table, optionally of one container (its full id, or "host"):
 * the tree as the sensor keeps it, to set beside /proc's. */
static void req_processes(struct vg_daemon *d, struct client *c, json_t *q,
			  json_t *id)
{
	json_t *jc = json_object_get(q, "container"), *r;
	struct procs_ctx pc = { .ctx = vg_engine_ctx(d->en) };

	if (jc && !json_is_string(jc)) {
		reply_error(c, id, "processes", "\"container\" is a full container id or \"host\"");
		return;
	}
	pc.container = jc ? json_string_value(jc) : NULL;
	pc.p = vg_printer_new(VG_OUTPUT_JSON);
	if (!pc.p) {
		reply_error(c, id, "processes", "out of memory");
		return;
	}
	vg_pr_begin(pc.p);
	vg_pr_str(pc.p, "reply", NULL, "processes");
	vg_pr_arr_open(pc.p, "processes");
	vg_ptable_foreach(vg_engine_ptable(d->en), proc_item, &pc);
	vg_pr_arr_close(pc.p);
	r = printed_json(pc.p);
	if (!r) {
		reply_error(c, id, "processes", "the answer could not be made");
		return;
	}
	reply(c, r, id);
}

/* What the source says of itself: audit's counters (its losses carry no
 * type, and a socket overrun no count). */
static json_t *source_json(struct vg_source *src, const struct vg_engine_stats *es)
{
	struct vg_audit_source_stats as;
	json_t *o;

	if (strcmp(src->ops->name, "audit") != 0)
		return json_pack("{s:s}", "name", src->ops->name);
	vg_audit_source_stats(src, &as);
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		      "name", "audit", "mode", as.mode,
		      "records", (json_int_t)as.records,
		      "garbage", (json_int_t)as.garbage,
		      "events", (json_int_t)as.events,
		      "incomplete", (json_int_t)as.incomplete,
		      "evicted", (json_int_t)as.evicted,
		      "parse_errors", (json_int_t)as.parse_errors,
		      "overruns", (json_int_t)as.overruns,
		      "reader_full", (json_int_t)as.reader_full,
		      "forks_unresolved", (json_int_t)as.forks_unresolved,
		      "exits_early", (json_int_t)as.exits_early,
		      "kernel_lost", (json_int_t)as.kernel_lost,
		      "backlog", (json_int_t)as.backlog,
		      "backlog_limit", (json_int_t)as.backlog_limit,
		      "open_events", (json_int_t)as.open_events,
		      "open_bytes", (json_int_t)as.open_bytes,
		      "reconciled_new", (json_int_t)es->reconciled_new,
		      "reconciled_exits", (json_int_t)es->reconciled_exits);
	return o;
}

/* What `stats` says of the rules: null when there are none. */
static json_t *rules_json(const struct vg_daemon *d)
{
	const struct vg_daemon_rules_stats *st = &d->rst;
	json_t *by = json_object(), *r;

	if (!st->loaded && !st->loads) {
		json_decref(by);
		return json_null();
	}
	for (int p = 0; by && p < VG_DAEMON_PRIORITIES; p++)
		json_object_set_new(by, vg_rule_priority_name(p),
				    json_integer((json_int_t)st->alerts[p]));
	r = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:o},s:I,s:I}",
		      "loaded", st->loaded, "rules", (json_int_t)st->rules,
		      "accepted", (json_int_t)st->accepted,
		      "refused", (json_int_t)st->refused,
		      "skipped", (json_int_t)st->skipped,
		      "disabled", (json_int_t)st->disabled,
		      "loads", (json_int_t)st->loads,
		      "alerts", "total", (json_int_t)st->alerts_total,
		      "by_priority", by ? by : json_object(),
		      "errors", (json_int_t)st->errors,
		      "dropped", (json_int_t)st->dropped);
	return r ? r : json_null();
}

static void req_stats(struct vg_daemon *d, struct client *c, json_t *q,
		      json_t *id)
{
	uint64_t lost[VG_E_KERNEL_TYPES] = { 0 }, unmatched = 0;
	struct vigil_ctx *ctx = vg_engine_ctx(d->en);
	struct vg_source *src = vg_engine_source(d->en);
	struct vg_meta_worker_stats ws;
	struct vg_engine_stats es;
	json_t *ev = json_object(), *kl = json_object(), *subs = json_array(), *r;
	size_t n_subs = 0;

	(void)q;
	if (src->ops->lost)
		src->ops->lost(src, lost, &unmatched);
	vg_meta_worker_stats(ctx, &ws);
	vg_engine_stats(d->en, &es);
	for (size_t i = 0; i < vg_n_event_types; i++) {
		uint32_t t = vg_event_types[i].type;

		if (es.events[t])
			json_object_set_new(ev, vg_event_types[i].name,
					    json_integer((json_int_t)es.events[t]));
		if (t < VG_E_KERNEL_TYPES && lost[t])
			json_object_set_new(kl, vg_event_types[i].name,
					    json_integer((json_int_t)lost[t]));
	}
	if (lost[VG_E_EXEC_ARGS])
		json_object_set_new(kl, "exec_args", json_integer((json_int_t)lost[VG_E_EXEC_ARGS]));
	for (struct client *cl = d->clients; cl; cl = cl->next)
		for (struct sub *s = cl->subs; s; s = s->next, n_subs++)
			if (cl == c)
				json_array_append_new(subs, json_pack("{s:I,s:I,s:I}", "sub",
					(json_int_t)s->id, "delivered", (json_int_t)s->delivered,
					"lost", (json_int_t)s->dropped));
	r = json_pack("{s:s,s:s,s:I,s:o,s:o,s:I,s:I,s:i,s:i,s:I,s:o,s:{s:I,s:I,s:I,s:I},"
		      "s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},s:o}",
		      "reply", "stats", "sensor_id", d->sensor_id, "seq", (json_int_t)es.seq,
		      "events", ev, "kernel_lost", kl,
		      "delivered", (json_int_t)d->delivered,
		      "queue_lost", (json_int_t)d->dropped,
		      "clients", (int)d->n_clients, "subscriptions", (int)n_subs,
		      "refused_clients", (json_int_t)d->refused,
		      "traced", types_json(es.wanted),
		      "metadata_cache", "hits", (json_int_t)ctx->meta.hits, "reads",
		      (json_int_t)ctx->meta.reads, "entries", (json_int_t)ctx->meta.n,
		      "evictions", (json_int_t)ctx->meta.evictions,
		      "claims", "verified", (json_int_t)ctx->meta.verified,
		      "unverified", (json_int_t)ctx->meta.unverified,
		      "verifications", (json_int_t)ctx->meta.verifications,
		      "metadata_worker", "queued", (json_int_t)ws.queued, "done",
		      (json_int_t)ws.done, "refused", (json_int_t)ws.refused,
		      "your_subscriptions", subs);
	if (r)
		json_object_set_new(r, "limits", json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"clients_per_uid", (json_int_t)d->o.clients_per_uid,
			"refused_per_uid", (json_int_t)d->lim.refused_per_uid,
			"idle_timeout_s", (json_int_t)d->o.idle_timeout_s,
			"idle_closed", (json_int_t)d->lim.idle_closed,
			"refused_subscriptions", (json_int_t)d->lim.refused_subscriptions,
			"subscription_bytes", (json_int_t)d->sub_bytes,
			"rate_limited", (json_int_t)d->lim.rate_limited,
			"paused_reading", (json_int_t)d->lim.paused_reading,
			"disconnected_slow", (json_int_t)d->lim.disconnected_slow,
			"replies_too_large", (json_int_t)d->lim.replies_too_large,
			"accept_paused", (json_int_t)d->lim.accept_paused,
			"loop_max_pause_us", (json_int_t)(d->lim.loop_max_ns / 1000),
			"loop_pauses_over_100ms", (json_int_t)d->lim.loop_over_100ms));
	if (r)
		json_object_set_new(r, "rules", rules_json(d));
	if (r)
		json_object_set_new(r, "exports", d->exports ? vg_exports_json(d->exports)
							     : json_array());
	if (r)
		json_object_set_new(r, "engine", json_pack("{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}",
			"held", (json_int_t)es.held,
			"released_before_metadata", (json_int_t)es.held_early,
			"released_unverified", (json_int_t)es.held_unverified,
			"containers_not_followed", (json_int_t)es.life_evicted,
			"rendered", (json_int_t)es.rendered,
			"kernel_drop", "cgroups", (json_int_t)es.drop_cgroups,
			"set_full", (json_int_t)es.drop_full,
			"untracked", (json_int_t)es.drop_untracked));
	if (r)
		json_object_set_new(r, "source", source_json(src, &es));
	reply(c, r, id);
}

/* The protocol: each request by name. */
static const struct request {
	const char *name;
	void (*fn)(struct vg_daemon *d, struct client *c, json_t *q, json_t *id);
} requests[] = {
	{ "hello", req_hello },
	{ "subscribe", req_subscribe },
	{ "unsubscribe", req_unsubscribe },
	{ "containers", req_containers },
	{ "process", req_process },
	{ "processes", req_processes },
	{ "stats", req_stats },
};
_Static_assert(VG_ARRAY_SIZE(requests) == VG_ARRAY_SIZE(request_names), "requests");

static void handle_line(struct vg_daemon *d, struct client *c, const char *line,
			size_t len)
{
	json_error_t je;
	json_t *q, *id;
	const char *req;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	d->requests++;
	q = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!q) {
		d->bad_requests++;
		reply_error(c, NULL, NULL, "invalid JSON at column %d: %s",
			    je.column, je.text);
		return;
	}
	id = json_object_get(q, "id");
	req = json_string_value(json_object_get(q, "req"));
	if (!json_is_object(q) || !req) {
		d->bad_requests++;
		reply_error(c, id, NULL, "a request is an object with \"req\": "
			    "hello, subscribe, unsubscribe, containers, process or stats");
		json_decref(q);
		return;
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(requests); i++)
		if (strcmp(req, requests[i].name) == 0) {
			requests[i].fn(d, c, q, id);
			json_decref(q);
			return;
		}
	d->bad_requests++;
	reply_error(c, id, req, "unknown request '%.64s'; known: hello, subscribe, "
		    "unsubscribe, containers, process, stats", req);
	json_decref(q);
}

/* ------------------------------------------------------------ clients */

static void client_close(struct vg_daemon *d, struct client *c)
{
	for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d->n_clients--;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	while (c->subs) {
		struct sub *s = c->subs;

		c->subs = s->next;
		sub_unlink_counts(d, s);
		sub_free(s);
	}
	/* a slot is free: the listener may take one again */
	if (d->listen_paused)
		d->listen_retry_ns = 0;
	free(c->pend);
	free(c->in);
	free(c->out);
	free(c);
}

static bool peer_allowed(struct vg_daemon *d, int fd, struct ucred *cr)
{
	gid_t groups[256];
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
		return false;
	if (cr->uid == 0)
		return true;
	for (size_t i = 0; i < d->o.n_allow_uid; i++)
		if (cr->uid == d->o.allow_uid[i])
			return true;
	len = sizeof(groups);
	int n = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0
			? (int)(len / sizeof(gid_t)) : 0;

	for (int i = -1; i < n; i++) {
		gid_t g = i < 0 ? cr->gid : groups[i];

		if (d->o.gid && g == d->o.gid)
			return true;
		for (size_t j = 0; j < d->o.n_allow_gid; j++)
			if (g == d->o.allow_gid[j])
				return true;
	}
	return false;
}

static void refuse(int fd, const char *msg)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "{\"error\":\"%s\"}\n", msg);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* it is refused either way */
	}
	close(fd);
}

static size_t clients_of(const struct vg_daemon *d, uid_t uid)
{
	size_t n = 0;

	for (const struct client *c = d->clients; c; c = c->next)
		n += c->uid == uid;
	return n;
}

/* Out of fds: stop watching the listener (level-triggered, a pending
 * connection would wake the loop forever) until a client goes, or a
 * second has passed. */
static void listen_pause(struct vg_daemon *d, bool pause)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->tag_listen };

	if (pause == d->listen_paused)
		return;
	d->listen_paused = pause;
	if (pause) {
		d->lim.accept_paused++;
		d->listen_retry_ns = vg_clock_ns(CLOCK_MONOTONIC) + 1000000000ull;
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->o.listen_fd, NULL);
	} else {
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->o.listen_fd, &ev);
	}
}

static void accept_clients(struct vg_daemon *d)
{
	for (int i = 0; i < 256; i++) {
		int fd = accept4(d->o.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr = { 0 };
		struct client *c;
		char msg[256];

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				listen_pause(d, true);
			return; /* EAGAIN, or a connection that went */
		}
		if (!peer_allowed(d, fd, &cr)) {
			d->refused++;
			snprintf(msg, sizeof(msg),
				 "unauthorized: uid %u is not root, not allowed, and not in "
				 "group %s", (unsigned)cr.uid, d->o.group_name);
			refuse(fd, msg);
			continue;
		}
		if (d->n_clients >= VG_DAEMON_CLIENTS_MAX) {
			d->refused++;
			refuse(fd, "too many clients");
			continue;
		}
		if (d->o.clients_per_uid &&
		    clients_of(d, cr.uid) >= d->o.clients_per_uid) {
			d->refused++;
			d->lim.refused_per_uid++;
			snprintf(msg, sizeof(msg), "too many clients of uid %u (at most %u)",
				 (unsigned)cr.uid, d->o.clients_per_uid);
			refuse(fd, msg);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->last_active_ns = vg_clock_ns(CLOCK_MONOTONIC);
		c->ev_mask = EPOLLIN | EPOLLRDHUP;
		struct epoll_event ev = { .events = c->ev_mask, .data.ptr = c };

		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
	}
}

/* Handle the lines in @buf (@n bytes) while @c's answers are under their
 * bound and its turn (*@turn requests) lasts. Returns the bytes taken;
 * the rest waits. */
static size_t feed(struct vg_daemon *d, struct client *c, const char *buf,
		   size_t n, unsigned *turn)
{
	size_t i = 0;

	c->paused = false;
	while (i < n && !c->dead && *turn) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t chunk = nl ? (size_t)(nl - (buf + i)) : n - i;

		if (waiting(c) > VG_DAEMON_QUEUE_MAX) {
			/* it does not read what it asked for: nor do we */
			if (!c->paused)
				d->lim.paused_reading++;
			c->paused = true;
			return i;
		}
		if (c->in_skip) {
			/* the rest of an over-long request */
		} else if (c->in_len + chunk > VG_DAEMON_LINE_MAX) {
			reply_error(c, NULL, NULL, "request longer than %u bytes; "
				    "discarded", VG_DAEMON_LINE_MAX);
			d->bad_requests++;
			c->in_skip = true;
			c->in_len = 0;
		} else if (chunk) {
			if (!c->in) {
				c->in = malloc(VG_DAEMON_LINE_MAX);
				if (!c->in) {
					c->dead = true;
					return i;
				}
			}
			memcpy(c->in + c->in_len, buf + i, chunk);
			c->in_len += chunk;
		}
		i += chunk;
		if (nl) {
			if (!c->in_skip && c->in_len) {
				c->last_active_ns = vg_clock_ns(CLOCK_MONOTONIC);
				handle_line(d, c, c->in, c->in_len);
				(*turn)--;
			}
			c->in_skip = false;
			c->in_len = 0;
			i++;
			/* the 1 MiB buffer is held only while a line
			 * arrives */
			free(c->in);
			c->in = NULL;
		}
	}
	return i;
}

/* A turn of @c's: at most VG_DAEMON_REQS_PER_TURN requests, so that one
 * client's pipelined requests cannot hold up the loop; what is left is
 * handled at the next turn, before anything more is read. */
static void read_client(struct vg_daemon *d, struct client *c)
{
	char buf[65536];
	unsigned turn = VG_DAEMON_REQS_PER_TURN;

	/* what was read before, first */
	if (c->pend_len) {
		size_t k = feed(d, c, c->pend, c->pend_len, &turn);

		memmove(c->pend, c->pend + k, c->pend_len - k);
		c->pend_len -= k;
		if (c->pend_len)
			goto out;
		free(c->pend);
		c->pend = NULL;
	}
	for (int rounds = 0; rounds < 16 && !c->dead && !c->eof; rounds++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t k;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			break;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		k = feed(d, c, buf, (size_t)n, &turn);
		if (k < (size_t)n) {
			c->pend = malloc((size_t)n - k);
			if (!c->pend) {
				c->dead = true;
				break;
			}
			memcpy(c->pend, buf + k, (size_t)n - k);
			c->pend_len = (size_t)n - k;
			break;
		}
	}
out:
	c->more = c->pend_len > 0 && !c->paused;
	client_update_events(d, c);
}

/* Clients with no subscription that said nothing for the idle timeout
 * go, told why. */
static void close_idle(struct vg_daemon *d, uint64_t now)
{
	uint64_t limit = (uint64_t)d->o.idle_timeout_s * 1000000000ull;

	if (!d->o.idle_timeout_s || now < d->next_idle_check_ns)
		return;
	d->next_idle_check_ns = now + 250000000ull;
	for (struct client *c = d->clients; c; c = c->next) {
		char msg[128];

		/* one whose requests wait for it to read is not idle */
		if (c->subs || c->dead || c->paused || c->pend_len || waiting(c) ||
		    now < c->last_active_ns + limit)
			continue;
		snprintf(msg, sizeof(msg), "idle for %u s without a subscription; "
			 "closing", d->o.idle_timeout_s);
		reply_error(c, NULL, NULL, "%s", msg);
		flush_client(d, c);
		c->dead = true;
		d->lim.idle_closed++;
	}
}

/* ------------------------------------------------------------- daemon */

/* Whether events still wait for o.hold_subs subscriptions. */
static bool held(struct vg_daemon *d)
{
	size_t n = 0;

	if (!d->o.hold_subs || d->hold_done)
		return false;
	for (const struct client *c = d->clients; c; c = c->next)
		for (const struct sub *s = c->subs; s; s = s->next)
			n += !s->pending;
	d->hold_done = n >= d->o.hold_subs;
	return !d->hold_done;
}

static void make_sensor_id(struct vg_daemon *d)
{
	uint8_t b[16];
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, d->sensor_id, 36) : -1;

	if (fd >= 0)
		close(fd);
	if (n == 36) {
		d->sensor_id[36] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(vg_clock_ns(CLOCK_MONOTONIC) >> (i % 8));
	snprintf(d->sensor_id, sizeof(d->sensor_id), "%02x%02x%02x%02x-%d",
		 b[0], b[1], b[2], b[3], getpid());
}

struct vg_daemon *vg_daemon_new(struct vg_engine *en,
				const struct vg_daemon_opts *o, char *err,
				size_t errsz)
{
	struct vg_daemon *d = calloc(1, sizeof(*d));
	struct epoll_event ev = { .events = EPOLLIN };
	int fds[2], nfds;

	if (!d) {
		vg_set_err(err, errsz, "out of memory");
		return NULL;
	}
	d->en = en;
	d->o = *o;
	d->start_wall_ns = vg_clock_ns(CLOCK_REALTIME);
	/* a subscription never stalls the loop on the kernel */
	vg_engine_set_async_attach(en, true);
	make_sensor_id(d);
	if (gethostname(d->hostname, sizeof(d->hostname) - 1) < 0)
		d->hostname[0] = '\0';
	d->rules_sink = (struct vg_sink){ .mode = VG_OUTPUT_JSON, .raw = true,
					  .emit = rules_emit, .ctx = d };
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0) {
		vg_set_err(err, errsz, "epoll: %s", strerror(errno));
		free(d);
		return NULL;
	}
	ev.data.ptr = &d->tag_listen;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, o->listen_fd, &ev);
	nfds = vg_engine_fds(en, fds);
	for (int i = 0; i < nfds; i++) {
		ev.data.ptr = &d->tag_engine;
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, fds[i], &ev);
	}
	return d;
}

int vg_daemon_run(struct vg_daemon *d, volatile sig_atomic_t *stop)
{
	int wait_ms = 0, ret = 0;

	vg_engine_start(d->en);
	while (!*stop) {
		struct epoll_event evs[64];
		uint64_t now, busy;
		int n;

		/* timers of its own: the listener's retry, idle clients */
		if ((d->listen_paused || (d->o.idle_timeout_s && d->n_clients)) &&
		    (wait_ms < 0 || wait_ms > 250))
			wait_ms = 250;
		if (d->o.tick && d->o.tick_ms) {
			now = vg_clock_ns(CLOCK_MONOTONIC);
			uint64_t left = d->next_tick_ns > now
						? (d->next_tick_ns - now + 999999) / 1000000
						: 0;

			if (wait_ms < 0 || (uint64_t)wait_ms > left)
				wait_ms = (int)left;
		}
		n = epoll_wait(d->epfd, evs, 64, wait_ms);
		now = vg_clock_ns(CLOCK_MONOTONIC);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct client *cl = evs[i].data.ptr;

			if (evs[i].data.ptr == &d->tag_listen) {
				accept_clients(d);
				continue;
			}
			if (evs[i].data.ptr == &d->tag_engine)
				continue; /* pumped below */
			struct watch *w = watch_of(d, evs[i].data.ptr);

			if (w) {
				w->ready = true; /* run below */
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				read_client(d, cl);
			/* closed both ways (not a half-close, which still
			 * reads): no one will hear its events */
			if (evs[i].events & (EPOLLHUP | EPOLLERR))
				cl->dead = true;
		}
		wait_ms = held(d) ? 100 : vg_engine_pump(d->en);
		check_pending(d);
		for (struct client *cl = d->clients, *next; cl; cl = next) {
			next = cl->next;
			if (cl->out_off < cl->out_len ||
			    (cl->subs && cl->subs->dropped != cl->subs->dropped_told))
				flush_client(d, cl);
			/* its answers were read: its requests are again; or
			 * its next turn */
			if (!cl->dead && ((cl->paused && waiting(cl) <= VG_DAEMON_QUEUE_MAX / 2) ||
					  cl->more))
				read_client(d, cl);
			if (cl->more && !cl->dead)
				wait_ms = 0;
			/* gone, or done talking and with nothing to hear */
			if (cl->dead || (cl->eof && !cl->subs && !cl->pend_len &&
					 cl->out_off == cl->out_len))
				client_close(d, cl);
		}
		close_idle(d, now);
		int watch_ms = run_watches(d, vg_clock_ns(CLOCK_MONOTONIC));

		if (watch_ms >= 0 && (wait_ms < 0 || watch_ms < wait_ms))
			wait_ms = watch_ms;
		if (d->listen_paused && now >= d->listen_retry_ns) {
			listen_pause(d, false);
			accept_clients(d);
		}
		if (d->o.tick && d->o.tick_ms && now >= d->next_tick_ns) {
			d->o.tick(d->o.tick_arg);
			d->next_tick_ns = now + (uint64_t)d->o.tick_ms * 1000000ull;
		}
		/* the longest the loop went without reading the ring */
		busy = vg_clock_ns(CLOCK_MONOTONIC) - now;
		if (busy > d->lim.loop_max_ns)
			d->lim.loop_max_ns = busy;
		if (busy > 100000000ull)
			d->lim.loop_over_100ms++;
	}
	return ret;
}

void vg_daemon_free(struct vg_daemon *d)
{
	if (!d)
		return;
	while (d->clients)
		client_close(d, d->clients);
	if (d->rules_added)
		vg_engine_remove_sink(d->en, &d->rules_sink);
	vg_ruleset_free(d->rules);
	vg_printer_free(d->alert_pr[0]);
	vg_printer_free(d->alert_pr[1]);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d);
}
