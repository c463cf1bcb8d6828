/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vigil daemon: one sensor, many subscribers. Newline-delimited JSON over
 * a Unix socket; each client may hold several subscriptions (a filter,
 * event types, a container selection). The kernel traces the union of
 * what the subscriptions ask for, and nothing else.
 *
 * One thread: the ring buffer, the metadata worker's doorbell, the
 * listening socket and every client are in one epoll set. A client's
 * output is a bounded queue; a client that does not read loses its own
 * events (counted, and announced with a lost record when it reads
 * again), never anyone else's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/vigil.h"
#include "base/util.h"
#include "watch.h"
#include "watch_client.h"

#define API_PROTOCOL 1
#define API_DEFAULT_SOCKET "/run/vigil/vigil.sock"
#define API_LINE_MAX (1u << 20)  /* one request */
#define API_QUEUE_MAX DAEMON_QUEUE_BYTES /* a client's unsent output */
#define API_CLIENTS_MAX 2048
#define API_SUBS_MAX 64          /* per client */
#define API_ALLOW_MAX 64

struct client;

struct sub {
	uint64_t id;
	struct client *c;
	struct vg_filter *f;
	uint64_t types;
	bool has_sel;
	struct watch_selector sel;
	char **refs;     /* sel.refs, owned */
	char *image, *pod_ns, *pod_name;
	uint64_t delivered, dropped, dropped_told;
	struct sub *next;
};

struct client {
	int fd;
	uid_t uid;
	pid_t pid;
	char *in;
	size_t in_len;
	bool in_skip; /* the rest of an over-long line is discarded */
	char *out;
	size_t out_len, out_off, out_cap;
	bool eof, dead, epollout;
	size_t next_flush; /* queued bytes at which to try the socket again */
	struct sub *subs;
	size_t n_subs;
	struct client *next;
};

struct daemon {
	struct watch *w;
	int lfd, epfd;
	char sensor_id[40];
	uint64_t seq, next_sub;
	struct client *clients;
	size_t n_clients;
	uint64_t events[VG_EV_TYPES];
	uint64_t delivered, dropped, refused, requests, bad_requests;
	uint64_t types_now; /* what the kernel traces for the subscribers */
	gid_t gid;
	uid_t allow_uid[API_ALLOW_MAX];
	size_t n_allow_uid;
	gid_t allow_gid[API_ALLOW_MAX];
	size_t n_allow_gid;
	const char *group_name;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void cmd_daemon_help(FILE *f)
{
	fprintf(f,
		"Usage: %s daemon [--socket PATH] [--group NAME] [--allow-uid UID]...\n"
		"                    [--allow-gid GID]... [--ring-size BYTES]\n"
		"\n"
		"Run the sensor once and serve its events to any number of clients\n"
		"over a Unix socket, newline-delimited JSON. Requests (one JSON object\n"
		"per line, with \"req\" and an optional \"id\" echoed in the reply):\n"
		"  hello        protocol version, sensor id, capabilities\n"
		"  subscribe    \"filter\": EXPR, \"events\": [TYPES: exec, exit, fork,\n"
		"               open, connect, accept, bind, listen, file, container,\n"
		"               all],\n"
		"               \"containers\":\n"
		"               [ID|NAME], \"image\": GLOB, \"pod\": \"NS/NAME\", \"host\":\n"
		"               true; returns \"sub\": ID. Events then arrive as lines\n"
		"               with \"sub\", \"sensor\" and \"seq\" added\n"
		"  unsubscribe  \"sub\": ID\n"
		"  containers   the containers the sensor knows\n"
		"  process      \"pid\": N or \"exec_id\": ID\n"
		"  stats        event counts, losses, subscribers, caches\n"
		"\n"
		"  --socket PATH     default %s\n"
		"  --group NAME      the socket's group (mode 0660); default vigil,\n"
		"                    root only when there is no such group\n"
		"  --allow-uid UID   also let this uid in; repeatable\n"
		"  --allow-gid GID   also let members of this group in; repeatable\n"
		"  --ring-size BYTES ring buffer size, a power of two (default 8 MiB)\n"
		"\n"
		"Try: echo '{\"req\":\"subscribe\",\"filter\":\"evt.type = exec\"}' |\n"
		"       socat - UNIX-CONNECT:%s | jq .\n"
		"\n%s",
		program_name, API_DEFAULT_SOCKET, API_DEFAULT_SOCKET, cli_global_help);
}

/* ------------------------------------------------------------- output */

static void client_want_write(struct daemon *d, struct client *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
				  .data.ptr = c };

	if (c->epollout == on || c->dead)
		return;
	c->epollout = on;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue @n bytes (and a newline) for @c. Events are refused when the
 * queue is full (@bounded); replies always fit, up to a line more. */
static bool queue(struct client *c, const char *a, size_t na, const char *b,
		  size_t nb, bool bounded)
{
	size_t need = na + nb + 1, waiting = c->out_len - c->out_off;

	if (c->dead)
		return false;
	if (bounded && waiting + need > API_QUEUE_MAX)
		return false;
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

static void reply(struct client *c, json_t *r)
{
	char *s = json_dumps(r, JSON_COMPACT);

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
	r = json_pack("{s:s}", "error", msg);
	if (!r)
		return;
	if (req)
		json_object_set_new(r, "reply", json_string(req));
	if (id)
		json_object_set(r, "id", id);
	reply(c, r);
}

static void flush_client(struct daemon *d, struct client *c);

/* Tell @s's client how many of its events it lost, if it has room. */
static void tell_lost(struct daemon *d, struct sub *s)
{
	char buf[256];
	uint64_t n = s->dropped - s->dropped_told;
	int len;

	if (!n)
		return;
	len = snprintf(buf, sizeof(buf),
		       "{\"sub\":%llu,\"sensor\":\"%s\",\"evt\":{\"type\":\"lost\"},"
		       "\"lost\":{\"total\":%llu,\"reason\":\"subscriber queue full\"}}",
		       (unsigned long long)s->id, d->sensor_id, (unsigned long long)n);
	if (queue(s->c, buf, (size_t)len, NULL, 0, true))
		s->dropped_told = s->dropped;
}

static void deliver(struct daemon *d, struct sub *s, const char *line,
		    size_t len)
{
	char pre[128];
	int n;

	if (s->dropped != s->dropped_told)
		tell_lost(d, s);
	/* the record's members, after ours */
	n = snprintf(pre, sizeof(pre), "{\"sub\":%llu,\"sensor\":\"%s\",\"seq\":%llu,",
		     (unsigned long long)s->id, d->sensor_id,
		     (unsigned long long)d->seq);
	/* a storm can fill the queue within one batch of the ring: hand
	 * the socket what it takes now, before giving up on events */
	if (s->c->out_len - s->c->out_off >= s->c->next_flush)
		flush_client(d, s->c);
	if (s->dropped == s->dropped_told &&
	    queue(s->c, pre, (size_t)n, line + 1, len - 1, true)) {
		s->delivered++;
		d->delivered++;
	} else {
		s->dropped++;
		d->dropped++;
	}
}

/* The engine's sink: each rendered record, to whoever wants it. */
static void on_event(void *ctx, const char *line, size_t len,
		     const struct ev_view *v)
{
	struct daemon *d = ctx;
	uint32_t type;

	if (len < 2 || line[0] != '{')
		return;
	d->seq++;
	if (!v) { /* the kernel lost records: everyone is told */
		for (struct client *c = d->clients; c; c = c->next)
			for (struct sub *s = c->subs; s; s = s->next)
				deliver(d, s, line, len);
		return;
	}
	type = watch_view_type(v);
	if (type < VG_EV_TYPES)
		d->events[type]++;
	for (struct client *c = d->clients; c; c = c->next)
		for (struct sub *s = c->subs; s; s = s->next) {
			if (!(s->types & VG_EV_BIT(type)))
				continue;
			if (s->has_sel && !watch_view_selected(d->w, &s->sel, v))
				continue;
			if (s->f && !watch_view_matches(d->w, s->f, v))
				continue;
			deliver(d, s, line, len);
		}
}

/* Write what @c has waiting, without blocking. */
static void flush_client(struct daemon *d, struct client *c)
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
		    c->out_len - c->out_off < API_QUEUE_MAX / 2)
			tell_lost(d, s);
	client_want_write(d, c, c->out_off < c->out_len);
}

/* ------------------------------------------------------ subscriptions */

static void sub_free(struct sub *s)
{
	if (!s)
		return;
	vg_filter_free(s->f);
	for (size_t i = 0; i < s->sel.n_refs; i++)
		free(s->refs[i]);
	free(s->refs);
	free(s->image);
	free(s->pod_ns);
	free(s->pod_name);
	free(s);
}

/* The kernel traces what the subscriptions together need: the union of
 * their types, and, when each of those that want more than the process
 * table's types is limited to some containers or the host, only the
 * cgroups one of them selects. */
static void update_kernel(struct daemon *d)
{
	const uint64_t table = WATCH_TABLE_TYPES | VG_EV_BIT(WATCH_EV_CONTAINER);
	const struct watch_selector **sels = NULL;
	size_t n_sels = 0, cap = 0;
	uint64_t types = 0, narrow = 0;
	bool everything = false;
	char err[256];

	for (struct client *c = d->clients; c; c = c->next)
		cap += c->n_subs;
	if (cap)
		sels = malloc(cap * sizeof(*sels));
	for (struct client *c = d->clients; c; c = c->next)
		for (struct sub *s = c->subs; s; s = s->next) {
			types |= s->types;
			if (!(s->types & ~table))
				continue;
			if (!s->has_sel || !sels)
				everything = true;
			else
				sels[n_sels++] = &s->sel;
			narrow |= s->types & ~table;
		}
	if (watch_engine_set_drop(d->w, sels, everything ? 0 : n_sels, narrow) < 0)
		watch_engine_set_drop(d->w, NULL, 0, 0);
	free(sels);
	if (types == d->types_now)
		return;
	if (watch_engine_set_types(d->w, types, err, sizeof(err)) < 0)
		cli_error("attaching: %s", err);
	else
		d->types_now = types;
}

static const char *const std_types[] = { "exec", "exit", "fork", "open",
					 "connect", "accept", "bind", "listen",
					 "file", "container" };

static uint64_t all_std_types(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < VG_ARRAY_SIZE(std_types); i++)
		m |= watch_type_bits(std_types[i], NULL);
	return m;
}

static json_t *types_json(uint64_t m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < VG_ARRAY_SIZE(std_types); i++)
		if (m & watch_type_bits(std_types[i], NULL))
			json_array_append_new(a, json_string(std_types[i]));
	return a;
}

static void req_subscribe(struct daemon *d, struct client *c, json_t *q,
			  json_t *id)
{
	json_t *jf = json_object_get(q, "filter"), *je = json_object_get(q, "events");
	json_t *jc = json_object_get(q, "containers"), *ji = json_object_get(q, "image");
	json_t *jp = json_object_get(q, "pod"), *jh = json_object_get(q, "host");
	struct sub *s;
	char canon[4096];

	if (c->n_subs >= API_SUBS_MAX) {
		reply_error(c, id, "subscribe", "at most %d subscriptions per client",
			    API_SUBS_MAX);
		return;
	}
	if ((jf && !json_is_string(jf)) || (je && !json_is_array(je)) ||
	    (jc && !json_is_array(jc)) || (ji && !json_is_string(ji)) ||
	    (jp && !json_is_string(jp)) || (jh && !json_is_boolean(jh))) {
		reply_error(c, id, "subscribe",
			    "expected \"filter\": string, \"events\": [strings], "
			    "\"containers\": [strings], \"image\": string, "
			    "\"pod\": \"NS/NAME\", \"host\": boolean");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	if (jf) {
		struct vg_filter_error fe = { 0 };

		if (vg_filter_compile(json_string_value(jf), &s->f, &fe) < 0) {
			json_t *r = json_pack("{s:s,s:s,s:i}", "reply", "subscribe",
					      "error", fe.msg[0] ? fe.msg : "out of memory",
					      "column", fe.column);

			if (r && id)
				json_object_set(r, "id", id);
			if (r)
				reply(c, r);
			sub_free(s);
			return;
		}
	}
	if (je) {
		size_t i;
		json_t *t;

		json_array_foreach(je, i, t) {
			const char *name = json_string_value(t);
			uint64_t b = name ? watch_type_bits(name, NULL) & all_std_types() : 0;

			if (name && strcmp(name, "all") == 0)
				b = all_std_types();
			if (!b) {
				reply_error(c, id, "subscribe",
					    "unknown event type %s%s%s; the daemon serves exec, "
					    "exit, fork, open, connect, accept, bind, listen, "
					    "container, all",
					    name ? "'" : "", name ? name : "(not a string)",
					    name ? "'" : "");
				sub_free(s);
				return;
			}
			s->types |= b;
		}
	} else {
		/* what the filter can match, else everything */
		s->types = vg_filter_type_mask(s->f, watch_type_bits, NULL) &
			   all_std_types();
	}
	if (!s->types) {
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
		s->sel.refs = (const char **)s->refs;
		s->has_sel = true;
	}
	if (ji) {
		s->sel.image_glob = s->image = strdup(json_string_value(ji));
		s->has_sel = true;
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
		s->has_sel = true;
	}
	if (jh && json_is_true(jh)) {
		s->sel.host = true;
		s->has_sel = true;
	}
	s->id = ++d->next_sub;
	s->c = c;
	s->next = c->subs;
	c->subs = s;
	c->n_subs++;
	update_kernel(d);
	vg_filter_format(s->f, canon, sizeof(canon));
	json_t *r = json_pack("{s:s,s:I,s:s,s:o}", "reply", "subscribe", "sub",
			      (json_int_t)s->id, "filter", canon, "events",
			      types_json(s->types));
	if (r && id)
		json_object_set(r, "id", id);
	if (r)
		reply(c, r);
}

static void req_unsubscribe(struct daemon *d, struct client *c, json_t *q,
			    json_t *id)
{
	json_t *js = json_object_get(q, "sub");
	json_int_t want = json_is_integer(js) ? json_integer_value(js) : -1;

	for (struct sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
		struct sub *s = *pp;

		if ((json_int_t)s->id != want)
			continue;
		*pp = s->next;
		c->n_subs--;
		json_t *r = json_pack("{s:s,s:I,s:I,s:I}", "reply", "unsubscribe", "sub",
				      (json_int_t)s->id, "delivered",
				      (json_int_t)s->delivered, "lost",
				      (json_int_t)s->dropped);
		update_kernel(d); /* before: it forgets s's selection */
		sub_free(s);
		if (r && id)
			json_object_set(r, "id", id);
		if (r)
			reply(c, r);
		return;
	}
	reply_error(c, id, "unsubscribe", "no subscription %lld of this client",
		    (long long)want);
}

static void req_hello(struct daemon *d, struct client *c, json_t *id)
{
	json_t *reqs = json_pack("[s,s,s,s,s,s]", "hello", "subscribe", "unsubscribe",
				 "containers", "process", "stats");
	json_t *fields = json_array();
	json_t *r;
	char version[32];

	snprintf(version, sizeof(version), "%d.%d.%d", VIGIL_VERSION_MAJOR,
		 VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
	for (int i = 0; fields && i < VG_F_COUNT; i++)
		json_array_append_new(fields, json_string(vg_filter_field_name(i)));
	r = json_pack("{s:s,s:i,s:s,s:s,s:{s:o,s:o,s:o,s:i,s:i}}", "reply", "hello",
		      "protocol", API_PROTOCOL, "version", version,
		      "sensor_id", d->sensor_id, "capabilities", "events",
		      types_json(all_std_types()), "requests", reqs, "filter_fields",
		      fields, "max_request_bytes", API_LINE_MAX, "queue_bytes",
		      API_QUEUE_MAX);
	if (r && id)
		json_object_set(r, "id", id);
	if (r)
		reply(c, r);
}

static json_t *kv_json(const struct vg_kv *kv)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < kv->n; i++)
		json_object_set_new(o, kv->pairs[i].key, json_string(kv->pairs[i].value));
	return o;
}

static json_t *meta_json(const struct vg_meta_entry *e)
{
	const struct vg_container_meta *m = &e->meta;
	json_t *o = json_pack("{s:s,s:s}", "id", m->id, "runtime",
			      vg_runtime_name(m->runtime));

	if (!o)
		return NULL;
	if (m->name)
		json_object_set_new(o, "name", json_string(m->name));
	if (m->image)
		json_object_set_new(o, "image", json_string(m->image));
	if (m->image_id)
		json_object_set_new(o, "image_id", json_string(m->image_id));
	if (m->state)
		json_object_set_new(o, "state", json_string(m->state));
	if (m->init_pid)
		json_object_set_new(o, "init_pid", json_integer(m->init_pid));
	json_object_set_new(o, "labels", kv_json(&m->labels));
	if (m->incomplete)
		json_object_set_new(o, "incomplete", json_string(m->missing));
	if (e->pod.source != VG_POD_SRC_NONE) {
		json_t *k = json_object();

		if (k && e->pod.ns)
			json_object_set_new(k, "ns", json_string(e->pod.ns));
		if (k && e->pod.name)
			json_object_set_new(k, "pod", json_string(e->pod.name));
		if (k && e->pod.uid)
			json_object_set_new(k, "pod_uid", json_string(e->pod.uid));
		if (k && e->pod.container_name)
			json_object_set_new(k, "container", json_string(e->pod.container_name));
		if (k)
			json_object_set_new(o, "k8s", k);
	}
	return o;
}

static void req_containers(struct daemon *d, struct client *c, json_t *id)
{
	struct vigil_ctx *ctx = watch_engine_ctx(d->w);
	json_t *a = json_array(), *r;

	for (size_t b = 0; a && b < VG_META_BUCKETS; b++)
		for (struct vg_meta_entry *e = ctx->meta.buckets[b]; e; e = e->next)
			json_array_append_new(a, meta_json(e));
	r = json_pack("{s:s,s:o}", "reply", "containers", "containers", a);
	if (r && id)
		json_object_set(r, "id", id);
	if (r)
		reply(c, r);
}

static void req_process(struct daemon *d, struct client *c, json_t *q,
			json_t *id)
{
	json_t *jp = json_object_get(q, "pid"), *je = json_object_get(q, "exec_id");
	struct vg_ptable *pt = watch_engine_ptable(d->w);
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
	r = json_pack("{s:s,s:{s:i,s:i,s:s,s:s,s:s?,s:s?,s:b}}", "reply", "process",
		      "proc", "pid", pe->pid, "ppid", pe->ppid, "name", pe->comm,
		      "exec_id", pe->exec_id, "parent_exec_id",
		      pe->parent_exec_id[0] ? pe->parent_exec_id : NULL, "exe", pe->exe,
		      "exited", pe->exited);
	if (r && !pe->exited) {
		struct vg_attribution a;

		if (vg_attrib_pid_cgroup(watch_engine_ctx(d->w), pe->pid, &a) == 0) {
			if (a.match.role == VG_ROLE_CONTAINER && a.meta)
				json_object_set_new(r, "container", meta_json(a.meta));
			else if (a.match.role == VG_ROLE_CONTAINER)
				json_object_set_new(r, "container",
						    json_pack("{s:s}", "id", a.match.container_id));
			else
				json_object_set_new(r, "container", json_pack("{s:s}", "id", "host"));
		}
	}
	if (r && id)
		json_object_set(r, "id", id);
	if (r)
		reply(c, r);
}

static void req_stats(struct daemon *d, struct client *c, json_t *id)
{
	uint64_t lost[VG_EV_TYPES] = { 0 };
	struct vigil_ctx *ctx = watch_engine_ctx(d->w);
	struct vg_meta_worker_stats ws;
	json_t *ev = json_object(), *kl = json_object(), *subs = json_array(), *r;
	size_t n_subs = 0;

	struct watch_engine_stats es;

	vg_sensor_lost(watch_engine_sensor(d->w), lost);
	vg_meta_worker_stats(ctx, &ws);
	watch_engine_stats(d->w, &es);
	for (uint32_t t = 1; t < VG_EV_TYPES; t++) {
		if (d->events[t])
			json_object_set_new(ev, vg_ev_type_name(t), json_integer((json_int_t)d->events[t]));
		if (lost[t])
			json_object_set_new(kl, vg_ev_type_name(t), json_integer((json_int_t)lost[t]));
	}
	for (struct client *cl = d->clients; cl; cl = cl->next)
		for (struct sub *s = cl->subs; s; s = s->next, n_subs++)
			if (cl == c)
				json_array_append_new(subs, json_pack("{s:I,s:I,s:I}", "sub",
					(json_int_t)s->id, "delivered", (json_int_t)s->delivered,
					"lost", (json_int_t)s->dropped));
	r = json_pack("{s:s,s:s,s:I,s:o,s:o,s:I,s:I,s:i,s:i,s:I,s:o,s:{s:I,s:I,s:I,s:I},"
		      "s:{s:I,s:I,s:I},s:o}",
		      "reply", "stats", "sensor_id", d->sensor_id, "seq", (json_int_t)d->seq,
		      "events", ev, "kernel_lost", kl,
		      "delivered", (json_int_t)d->delivered,
		      "queue_lost", (json_int_t)d->dropped,
		      "clients", (int)d->n_clients, "subscriptions", (int)n_subs,
		      "refused_clients", (json_int_t)d->refused,
		      "traced", types_json(d->types_now),
		      "metadata_cache", "hits", (json_int_t)ctx->meta.hits, "reads",
		      (json_int_t)ctx->meta.reads, "entries", (json_int_t)ctx->meta.n,
		      "evictions", (json_int_t)ctx->meta.evictions,
		      "metadata_worker", "queued", (json_int_t)ws.queued, "done",
		      (json_int_t)ws.done, "refused", (json_int_t)ws.refused,
		      "your_subscriptions", subs);
	if (r)
		json_object_set_new(r, "engine", json_pack("{s:I,s:I,s:{s:I,s:I,s:I}}",
			"released_before_metadata", (json_int_t)es.held_early,
			"containers_not_followed", (json_int_t)es.life_evicted,
			"kernel_drop", "cgroups", (json_int_t)es.drop_cgroups,
			"set_full", (json_int_t)es.drop_full,
			"untracked", (json_int_t)es.drop_untracked));
	if (r && id)
		json_object_set(r, "id", id);
	if (r)
		reply(c, r);
}

static void handle_line(struct daemon *d, struct client *c, const char *line,
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
	} else if (strcmp(req, "hello") == 0) {
		req_hello(d, c, id);
	} else if (strcmp(req, "subscribe") == 0) {
		req_subscribe(d, c, q, id);
	} else if (strcmp(req, "unsubscribe") == 0) {
		req_unsubscribe(d, c, q, id);
	} else if (strcmp(req, "containers") == 0) {
		req_containers(d, c, id);
	} else if (strcmp(req, "process") == 0) {
		req_process(d, c, q, id);
	} else if (strcmp(req, "stats") == 0) {
		req_stats(d, c, id);
	} else {
		d->bad_requests++;
		reply_error(c, id, req, "unknown request '%.64s'; known: hello, subscribe, "
			    "unsubscribe, containers, process, stats", req);
	}
	json_decref(q);
}

/* ------------------------------------------------------------ clients */

static void client_close(struct daemon *d, struct client *c)
{
	bool had_subs = c->subs != NULL;

	for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d->n_clients--;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (had_subs)
		update_kernel(d); /* c is out of the list: its selections go */
	while (c->subs) {
		struct sub *s = c->subs;

		c->subs = s->next;
		sub_free(s);
	}
	free(c->in);
	free(c->out);
	free(c);
}

static bool peer_allowed(struct daemon *d, int fd, struct ucred *cr)
{
	gid_t groups[256];
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
		return false;
	if (cr->uid == 0)
		return true;
	for (size_t i = 0; i < d->n_allow_uid; i++)
		if (cr->uid == d->allow_uid[i])
			return true;
	len = sizeof(groups);
	int n = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0
			? (int)(len / sizeof(gid_t)) : 0;

	for (int i = -1; i < n; i++) {
		gid_t g = i < 0 ? cr->gid : groups[i];

		if (d->gid && g == d->gid)
			return true;
		for (size_t j = 0; j < d->n_allow_gid; j++)
			if (g == d->allow_gid[j])
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

static void accept_clients(struct daemon *d)
{
	for (;;) {
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr = { 0 };
		struct client *c;
		char msg[256];

		if (fd < 0)
			return; /* EAGAIN, or out of fds: try at the next wakeup */
		if (!peer_allowed(d, fd, &cr)) {
			d->refused++;
			snprintf(msg, sizeof(msg),
				 "unauthorized: uid %u is not root, not allowed, and not in "
				 "group %s", (unsigned)cr.uid, d->group_name);
			refuse(fd, msg);
			continue;
		}
		if (d->n_clients >= API_CLIENTS_MAX) {
			d->refused++;
			refuse(fd, "too many clients");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

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

static void read_client(struct daemon *d, struct client *c)
{
	char buf[65536];

	for (int rounds = 0; rounds < 16 && !c->dead; rounds++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		if (n == 0) {
			c->eof = true;
			return;
		}
		for (ssize_t i = 0; i < n;) {
			char *nl = memchr(buf + i, '\n', (size_t)(n - i));
			size_t chunk = nl ? (size_t)(nl - (buf + i)) : (size_t)(n - i);

			if (c->in_skip) {
				/* the rest of an over-long request */
			} else if (c->in_len + chunk > API_LINE_MAX) {
				reply_error(c, NULL, NULL, "request longer than %u bytes; "
					    "discarded", API_LINE_MAX);
				d->bad_requests++;
				c->in_skip = true;
				c->in_len = 0;
			} else {
				if (!c->in) {
					c->in = malloc(API_LINE_MAX);
					if (!c->in) {
						c->dead = true;
						return;
					}
				}
				memcpy(c->in + c->in_len, buf + i, chunk);
				c->in_len += chunk;
			}
			i += (ssize_t)chunk;
			if (nl) {
				if (!c->in_skip)
					handle_line(d, c, c->in, c->in_len);
				c->in_skip = false;
				c->in_len = 0;
				i++;
				/* the 1 MiB buffer is held only while a line
				 * arrives */
				free(c->in);
				c->in = NULL;
			}
		}
	}
}

/* ------------------------------------------------------------- socket */

static void make_sensor_id(struct daemon *d)
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

int cmd_daemon(int argc, char **argv)
{
	enum { OPT_SOCKET = 1000, OPT_GROUP, OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_RING };
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "allow-gid", required_argument, NULL, OPT_ALLOW_GID },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ 0 },
	};
	static struct daemon d;
	const char *path = API_DEFAULT_SOCKET;
	char err[512];
	size_t ring = 0;
	uint64_t v;
	int c, ret = EXIT_OK;
	bool group_given = false;

	memset(&d, 0, sizeof(d));
	d.lfd = d.epfd = -1;
	d.group_name = "vigil";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			path = optarg;
			break;
		case OPT_GROUP:
			d.group_name = optarg;
			group_given = true;
			break;
		case OPT_ALLOW_UID:
		case OPT_ALLOW_GID:
			if (vg_parse_u64(optarg, &v) < 0 || v > UINT32_MAX - 1)
				return cli_usage_error("daemon", "%s takes a number, not '%s'",
						       c == OPT_ALLOW_UID ? "--allow-uid"
									  : "--allow-gid", optarg);
			if (c == OPT_ALLOW_UID && d.n_allow_uid < API_ALLOW_MAX)
				d.allow_uid[d.n_allow_uid++] = (uid_t)v;
			else if (c == OPT_ALLOW_GID && d.n_allow_gid < API_ALLOW_MAX)
				d.allow_gid[d.n_allow_gid++] = (gid_t)v;
			else
				return cli_usage_error("daemon", "too many --allow-uid/--allow-gid");
			break;
		case OPT_RING:
			if (cli_ring_size("daemon", optarg, &ring))
				return EXIT_USAGE;
			break;
		case 'h':
			cmd_daemon_help(stdout);
			return EXIT_OK;
		case '?':
			fprintf(stderr, "Try '%s daemon --help'.\n", program_name);
			return EXIT_USAGE;
		default:
			if (cli_global_option(c, optarg) < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("daemon", "unexpected argument '%s'", argv[optind]);

	struct group *gr = getgrnam(d.group_name);

	if (gr) {
		d.gid = gr->gr_gid;
	} else if (group_given) {
		return cli_usage_error("daemon", "no group '%s'", d.group_name);
	} else {
		d.gid = 0;
		fprintf(stderr, "%s: no group 'vigil': only root (and --allow-uid/"
			"--allow-gid) may connect\n", program_name);
		d.group_name = "root";
	}

	/* one fd per client: let as many in as the hard limit allows */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	make_sensor_id(&d);
	d.w = watch_engine_new(on_event, &d, ring, err, sizeof(err));
	if (!d.w) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	/* 0660 root:group from the moment anyone can connect */
	d.lfd = cli_listen_unix(path, "vigil daemon", 0660, d.gid, true);
	if (d.lfd >= 0 && fcntl(d.lfd, F_SETFL, O_NONBLOCK) < 0) {
		cli_error("%s: %s", path, strerror(errno));
		close(d.lfd);
		unlink(path);
		d.lfd = -1;
	}
	if (d.epfd < 0 || d.lfd < 0) {
		ret = EXIT_PARTIAL;
		goto out;
	}
	static char tag_listen, tag_engine;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_listen };
	int fds[2], nfds = watch_engine_fds(d.w, fds);

	epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.lfd, &ev);
	for (int i = 0; i < nfds; i++) {
		ev.data.ptr = &tag_engine;
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, fds[i], &ev);
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "%s: daemon serving %s (sensor %s)\n", program_name, path,
		d.sensor_id);

	int wait_ms = 0;

	while (!stop_signal) {
		struct epoll_event evs[64];
		int n = epoll_wait(d.epfd, evs, 64, wait_ms);

		if (n < 0 && errno != EINTR) {
			cli_error("epoll_wait: %s", strerror(errno));
			ret = EXIT_PARTIAL;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_listen) {
				accept_clients(&d);
			} else if (evs[i].data.ptr != &tag_engine) {
				struct client *cl = evs[i].data.ptr;

				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					read_client(&d, cl);
				/* closed both ways (not a half-close, which
				 * still reads): no one will hear its events */
				if (evs[i].events & (EPOLLHUP | EPOLLERR))
					cl->dead = true;
			}
		}
		wait_ms = watch_engine_pump(d.w);
		for (struct client *cl = d.clients, *next; cl; cl = next) {
			next = cl->next;
			if (cl->out_off < cl->out_len ||
			    (cl->subs && cl->subs->dropped != cl->subs->dropped_told))
				flush_client(&d, cl);
			/* gone, or done talking and with nothing to hear */
			if (cl->dead || (cl->eof && !cl->subs && cl->out_off == cl->out_len))
				client_close(&d, cl);
		}
	}
out:
	while (d.clients)
		client_close(&d, d.clients);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink(path);
	}
	if (d.epfd >= 0)
		close(d.epfd);
	watch_engine_free(d.w);
	return ret;
}
