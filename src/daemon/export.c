/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exports: the framework (see export.h and exports.h). */
#include "daemon/exports.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/daemon.h"

/* Built only with libnats: absent otherwise, and refused by name. */
extern const struct vg_export_kind vg_export_nats __attribute__((weak));

static const struct vg_export_kind *find_kind(const char *name)
{
	const struct vg_export_kind *kinds[] = { &vg_export_file, &vg_export_syslog,
						 &vg_export_nats };

	for (size_t i = 0; i < VG_ARRAY_SIZE(kinds); i++)
		if (kinds[i] && strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

/* ------------------------------------------------------------- specs */

bool vg_export_name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
		      (name[n] >= '0' && name[n] <= '9') || name[n] == '_' || name[n] == '-'))
			return false;
	return n >= 1 && n <= 32;
}

struct vg_export_spec *vg_export_spec_new(const char *name, const char *where)
{
	struct vg_export_spec *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = strdup(name);
	s->where = strdup(where);
	if (!s->name || !s->where) {
		vg_export_spec_free(s);
		return NULL;
	}
	return s;
}

void vg_export_spec_free(struct vg_export_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_kv; i++) {
		free((char *)s->kv[i].key);
		free((char *)s->kv[i].value);
		free((char *)s->kv[i].where);
	}
	free(s->kv);
	free(s->name);
	free(s->where);
	free(s);
}

const char *vg_export_spec_get(const struct vg_export_spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return s->kv[i].value;
	return NULL;
}

int vg_export_spec_set(struct vg_export_spec *s, const char *key,
		       const char *value, const char *where, char *err,
		       size_t errsz)
{
	struct vg_export_kv *kv;

	for (size_t i = 0; i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0) {
			vg_set_err(err, errsz, "%s: export %s: '%s' is set already (%s)",
				   where, s->name, key, s->kv[i].where);
			return -EEXIST;
		}
	if (s->n_kv >= VG_EXPORT_KEYS_MAX) {
		vg_set_err(err, errsz, "%s: export %s: more than %d keys", where,
			   s->name, VG_EXPORT_KEYS_MAX);
		return -E2BIG;
	}
	kv = realloc(s->kv, (s->n_kv + 1) * sizeof(*kv));
	if (!kv)
		goto oom;
	s->kv = kv;
	kv = &s->kv[s->n_kv];
	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->where = strdup(where);
	if (!kv->key || !kv->value || !kv->where) {
		free((char *)kv->key);
		free((char *)kv->value);
		free((char *)kv->where);
		goto oom;
	}
	s->n_kv++;
	return 0;
oom:
	vg_set_err(err, errsz, "out of memory");
	return -ENOMEM;
}

/* The next word of @p into @out (room for strlen(@p) + 1); *@col: the
 * column it began at. Returns 1 with a word, 0 at the end, -EINVAL with
 * @err. */
static int next_word(const char **p, char *out, size_t *col, const char *text,
		     char *err, size_t errsz)
{
	const char *s = *p;
	bool quoted = false;
	size_t qcol = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*p = s;
		return 0;
	}
	*col = (size_t)(s - text) + 1;
	for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if ((unsigned char)*s < 0x20 && *s != '\t') {
			vg_set_err(err, errsz, "a control character at column %zu",
				   (size_t)(s - text) + 1);
			return -EINVAL;
		}
		if (*s == '"') {
			quoted = !quoted;
			qcol = (size_t)(s - text) + 1;
			continue;
		}
		if (quoted && *s == '\\') {
			if (s[1] != '"' && s[1] != '\\') {
				vg_set_err(err, errsz, "column %zu: inside quotes, '\\' "
					   "comes before '\"' or '\\' only",
					   (size_t)(s - text) + 1);
				return -EINVAL;
			}
			s++;
		}
		*out++ = *s;
	}
	if (quoted) {
		vg_set_err(err, errsz, "the quote at column %zu is not closed", qcol);
		return -EINVAL;
	}
	*out = '\0';
	*p = s;
	return 1;
}

int vg_export_spec_parse(const char *text, const char *where,
			 struct vg_export_spec **ret, char *err, size_t errsz)
{
	static const char *const heads[] = { "NAME", "KIND", "TARGET" };
	struct vg_export_spec *s = NULL;
	size_t len = strlen(text), col = 0, n = 0;
	const char *p = text;
	char *word;
	int r;

	if (len > VG_EXPORT_SPEC_MAX) {
		vg_set_err(err, errsz, "longer than %d bytes", VG_EXPORT_SPEC_MAX);
		return -EINVAL;
	}
	word = malloc(len + 1);
	if (!word) {
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	while ((r = next_word(&p, word, &col, text, err, errsz)) > 0) {
		if (n < 3) {
			if (!*word) {
				vg_set_err(err, errsz, "column %zu: %s is empty", col, heads[n]);
				r = -EINVAL;
				break;
			}
			if (n == 0 && !vg_export_name_ok(word)) {
				vg_set_err(err, errsz, "'%s' cannot name an export "
					   "(1 to 32 of a-z, A-Z, 0-9, '_', '-')", word);
				r = -EINVAL;
				break;
			}
			if (n == 0) {
				s = vg_export_spec_new(word, where);
				if (!s) {
					r = -ENOMEM;
					break;
				}
			} else if ((r = vg_export_spec_set(s, n == 1 ? "kind" : "target",
							   word, where, err, errsz)) < 0) {
				break;
			}
			n++;
			continue;
		}
		char *eq = strchr(word, '=');

		if (!eq || eq == word) {
			vg_set_err(err, errsz, "column %zu: expected KEY=VALUE, not '%s'",
				   col, word);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		if (strcmp(word, "kind") == 0 || strcmp(word, "target") == 0) {
			vg_set_err(err, errsz, "column %zu: the %s is the %s word, not "
				   "a key", col, word, strcmp(word, "kind") == 0
				   ? "second" : "third");
			r = -EINVAL;
			break;
		}
		if ((r = vg_export_spec_set(s, word, eq + 1, where, err, errsz)) < 0)
			break;
		n++;
	}
	free(word);
	if (r == 0 && n < 3) {
		vg_set_err(err, errsz, "expected NAME KIND TARGET [KEY=VALUE]..., "
			   "%s is missing", heads[n]);
		r = -EINVAL;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			vg_set_err(err, errsz, "out of memory");
		vg_export_spec_free(s);
		return r == -ENOMEM ? r : -EINVAL;
	}
	*ret = s;
	return 0;
}

/* ------------------------------------------------- the framework's keys */

/* What the framework takes of a spec: the sink's part. */
struct sel_conf {
	uint64_t types;
	bool alerts;     /* the daemon's alerts too (events=alert) */
	struct vg_filter *f;
	struct vg_selector sel;
	bool has_sel;
	char **refs;
	char *image, *pod_ns, *pod_name, *path;
	/* as said, to tell a reload what changed */
	char *said;
};

static void sel_conf_release(struct sel_conf *c)
{
	vg_filter_free(c->f);
	for (size_t i = 0; c->refs && i < c->sel.n_refs; i++)
		free(c->refs[i]);
	free(c->refs);
	free(c->image);
	free(c->pod_ns);
	free(c->pod_name);
	free(c->path);
	free(c->said);
	*c = (struct sel_conf){ 0 };
}

static const char *const sel_keys[] = { "events", "filter", "container", "image",
					"pod", "host", "path" };

static bool is_sel_key(const char *k)
{
	for (size_t i = 0; i < VG_ARRAY_SIZE(sel_keys); i++)
		if (strcmp(sel_keys[i], k) == 0)
			return true;
	return false;
}

/* A size: a number of bytes, or with k, M, G (powers of 1024). */
static int parse_bytes(const char *s, uint64_t *ret)
{
	char num[32];
	size_t n = strlen(s);
	uint64_t v, mul = 1;

	if (!n || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mul = 1ull << 10; break;
	case 'm': case 'M': mul = 1ull << 20; break;
	case 'g': case 'G': mul = 1ull << 30; break;
	default: break;
	}
	if (mul > 1)
		num[n - 1] = '\0';
	if (vg_parse_u64(num, &v) < 0 || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

int vg_export_parse_bytes(const char *s, uint64_t *ret)
{
	return parse_bytes(s, ret);
}

/* @s's selection keys into @c, @std the types served. */
static int sel_conf_parse(const struct vg_export_spec *s, uint64_t std,
			  struct sel_conf *c, char *err, size_t errsz)
{
	const char *ev = NULL;
	size_t said_len = 0;
	char *said = NULL;
	FILE *sf = open_memstream(&said, &said_len);

	*c = (struct sel_conf){ 0 };
	if (!sf) {
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct vg_export_kv *kv = &s->kv[i];

		if (!is_sel_key(kv->key))
			continue;
		fprintf(sf, "%s=%s%c", kv->key, kv->value, '\0');
		if (strcmp(kv->key, "events") == 0) {
			ev = kv->value;
		} else if (strcmp(kv->key, "filter") == 0) {
			struct vg_filter_error fe = { 0 };

			if (vg_filter_compile(kv->value, &c->f, &fe) < 0) {
				vg_set_err(err, errsz, "%s: export %s: filter: %s (column %d)",
					   kv->where, s->name, fe.msg[0] ? fe.msg : "out of memory",
					   fe.column);
				goto fail;
			}
		} else if (strcmp(kv->key, "container") == 0) {
			/* comma-separated ids or names */
			size_t n = 1;

			for (const char *q = kv->value; *q; q++)
				n += *q == ',';
			c->refs = calloc(n, sizeof(*c->refs));
			if (!c->refs)
				goto oom;
			for (const char *q = kv->value;;) {
				const char *e = strchr(q, ',');
				size_t len = e ? (size_t)(e - q) : strlen(q);

				if (!len) {
					vg_set_err(err, errsz, "%s: export %s: 'container' takes "
						   "ids or names, with commas between", kv->where,
						   s->name);
					goto fail;
				}
				if (!(c->refs[c->sel.n_refs++] = strndup(q, len)))
					goto oom;
				if (!e)
					break;
				q = e + 1;
			}
			c->sel.refs = (const char *const *)c->refs;
			c->has_sel = true;
		} else if (strcmp(kv->key, "image") == 0) {
			if (!(c->sel.image_glob = c->image = strdup(kv->value)))
				goto oom;
			c->has_sel = true;
		} else if (strcmp(kv->key, "pod") == 0) {
			const char *slash = strchr(kv->value, '/');

			if (!slash || slash == kv->value || !slash[1]) {
				vg_set_err(err, errsz, "%s: export %s: 'pod' takes NAMESPACE/NAME, "
					   "not '%s'", kv->where, s->name, kv->value);
				goto fail;
			}
			c->sel.pod_ns = c->pod_ns = strndup(kv->value, (size_t)(slash - kv->value));
			c->sel.pod_name = c->pod_name = strdup(slash + 1);
			if (!c->pod_ns || !c->pod_name)
				goto oom;
			c->has_sel = true;
		} else if (strcmp(kv->key, "host") == 0) {
			if (strcmp(kv->value, "true") == 0) {
				c->sel.host = true;
				c->has_sel = true;
			} else if (strcmp(kv->value, "false") != 0) {
				vg_set_err(err, errsz, "%s: export %s: 'host' takes true or "
					   "false, not '%s'", kv->where, s->name, kv->value);
				goto fail;
			}
		} else if (strcmp(kv->key, "path") == 0) {
			if (!(c->path = strdup(kv->value)))
				goto oom;
		}
	}
	if (ev) {
		for (const char *q = ev;;) {
			const char *e = strchr(q, ',');
			size_t len = e ? (size_t)(e - q) : strlen(q);
			char name[64];
			const struct vg_event_type_info *ti;

			snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), q);
			ti = vg_event_type_find(name);
			if (strcmp(name, "all") == 0) {
				c->types |= std;
			} else if (ti && ti->type == VG_E_ALERT && len < sizeof(name)) {
				c->alerts = true;
			} else if (!ti || !ti->std || len >= sizeof(name)) {
				vg_set_err(err, errsz, "%s: export %s: unknown event type '%s'; "
					   "there are %s, alert, all", s->name, s->name, name,
					   vg_event_std_names());
				goto fail;
			} else {
				c->types |= VG_E_BIT(ti->type);
			}
			if (!e)
				break;
			q = e + 1;
		}
		c->types &= std;
	} else {
		uint64_t m = vg_filter_type_mask(c->f, vg_event_type_bits, NULL);

		c->types = m & std;
		/* alerts when the filter names them, not by default */
		c->alerts = m != UINT64_MAX && (m & VG_E_BIT(VG_E_ALERT));
	}
	if (!c->types && !c->alerts) {
		vg_set_err(err, errsz, "%s: export %s: no event type to export",
			   s->where, s->name);
		goto fail;
	}
	if (fclose(sf) != 0) {
		sf = NULL;
		goto oom;
	}
	c->said = said;
	return 0;
oom:
	vg_set_err(err, errsz, "out of memory");
fail:
	if (sf)
		fclose(sf);
	free(said);
	sel_conf_release(c);
	return -EINVAL;
}

/* ------------------------------------------------------------ exports */

/* A record the kind had no room for yet: its event copied. */
struct rec {
	struct rec *next;
	uint64_t seq;
	struct vg_event *e; /* vg_event_dup()'s: no attribution */
	size_t len;
	char text[];
};

struct vg_export {
	struct vg_exports *x;
	char *name, *target, *kind_said;
	const struct vg_export_kind *kind;
	void *st;
	struct vg_sink sink, obs_sink;
	struct sel_conf sc;
	bool sink_added, obs_added;
	int wake_fd;          /* the loop's fd for a kind without one */
	uint64_t seq, offered, queue_lost, lost_told;
	struct rec *q_head, **q_tail;
	size_t q_n, q_bytes, q_max;
	char *buf;            /* a record being made */
	size_t buf_cap;
};

struct vg_exports {
	struct vg_daemon *d;
	char *state_dir;
	char node[256];
	char node_json[2048]; /* "node":"...","sensor":"...", escaped */
	struct vg_export *ex[VG_EXPORTS_MAX];
	size_t n;
};

/* @s, JSON-escaped into @out (room for 6 * strlen + 1). */
static void json_escape(char *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			*out++ = '\\';
			*out++ = (char)ch;
		} else if (ch < 0x20) {
			out += sprintf(out, "\\u%04x", ch);
		} else {
			*out++ = (char)ch;
		}
	}
	*out = '\0';
}

static void node_name(char *buf, size_t bufsz)
{
	const char *env = getenv("NODE_NAME");

	if (env && *env && strlen(env) < bufsz) {
		snprintf(buf, bufsz, "%s", env);
		return;
	}
	if (gethostname(buf, bufsz) < 0 || !*buf)
		snprintf(buf, bufsz, "localhost");
	buf[bufsz - 1] = '\0';
}

struct vg_exports *vg_exports_new(struct vg_daemon *d, const char *state_dir)
{
	struct vg_exports *x = calloc(1, sizeof(*x));
	char node[sizeof(x->node) * 6 + 1], sensor[48 * 6 + 1];

	if (!x)
		return NULL;
	x->d = d;
	x->state_dir = strdup(state_dir);
	if (!x->state_dir) {
		free(x);
		return NULL;
	}
	node_name(x->node, sizeof(x->node));
	json_escape(node, x->node);
	json_escape(sensor, vg_daemon_sensor_id(d));
	snprintf(x->node_json, sizeof(x->node_json), "\"node\":\"%s\",\"sensor\":\"%s\"",
		 node, sensor);
	return x;
}

/* Room for @n bytes in @ex's record buffer. */
static bool buf_room(struct vg_export *ex, size_t n)
{
	if (n <= ex->buf_cap)
		return true;
	size_t cap = ex->buf_cap ? ex->buf_cap : 4096;

	while (cap < n)
		cap *= 2;
	char *b = realloc(ex->buf, cap);

	if (!b)
		return false;
	ex->buf = b;
	ex->buf_cap = cap;
	return true;
}

/* The loss not yet told, as a "lost" record, when the kind takes it. */
static void tell_lost(struct vg_export *ex)
{
	uint64_t n = ex->queue_lost - ex->lost_told;
	char rec[768];
	int len;

	if (!n || ex->q_head)
		return;
	len = snprintf(rec, sizeof(rec),
		       "{%s,\"seq\":%llu,\"evt\":{\"type\":\"lost\"},\"lost\":{\"total\":%llu,"
		       "\"reason\":\"export queue full\"}}",
		       ex->x->node_json, (unsigned long long)(ex->seq + 1),
		       (unsigned long long)n);
	if (len <= 0 || (size_t)len >= sizeof(rec))
		return;
	/* numbered only when taken: a record never sent leaves no gap */
	if (ex->kind->push(ex->st, ex->seq + 1, rec, (size_t)len, NULL) == 0) {
		ex->seq++;
		ex->lost_told += n;
	}
}

/* What waits in the framework's queue, to the kind while it has room. */
static void drain(struct vg_export *ex)
{
	while (ex->q_head) {
		struct rec *r = ex->q_head;

		if (ex->kind->push(ex->st, r->seq, r->text, r->len, r->e) == -ENOBUFS)
			return;
		ex->q_head = r->next;
		if (!ex->q_head)
			ex->q_tail = &ex->q_head;
		ex->q_n--;
		ex->q_bytes -= r->len + sizeof(*r);
		free(r->e);
		free(r);
	}
	tell_lost(ex);
}

static void export_emit(struct vg_sink *sk, const char *line, size_t len,
			const struct vg_event *e)
{
	struct vg_export *ex = sk->ctx;
	uint64_t seq = ++ex->seq;
	char pre[64];
	int n;

	ex->offered++;
	if (len < 2 || line[0] != '{')
		return; /* not a JSON object: cannot be */
	if (ex->q_head || ex->queue_lost != ex->lost_told)
		drain(ex);
	n = snprintf(pre, sizeof(pre), ",\"seq\":%llu%s", (unsigned long long)seq,
		     len > 2 ? "," : "");
	size_t head = 1 + strlen(ex->x->node_json) + (size_t)n, total = head + len - 1;

	if (!buf_room(ex, total + 1)) {
		ex->queue_lost++;
		return;
	}
	ex->buf[0] = '{';
	memcpy(ex->buf + 1, ex->x->node_json, strlen(ex->x->node_json));
	memcpy(ex->buf + 1 + strlen(ex->x->node_json), pre, (size_t)n);
	memcpy(ex->buf + head, line + 1, len - 1);
	ex->buf[total] = '\0';
	if (!ex->q_head && ex->kind->push(ex->st, seq, ex->buf, total, e) != -ENOBUFS)
		return;
	/* the kind is full: wait in the framework's queue, within its bound */
	struct rec *r = NULL;

	if (ex->q_bytes + sizeof(*r) + total <= ex->q_max &&
	    (r = malloc(sizeof(*r) + total + 1)) && (r->e = vg_event_dup(e))) {
		r->next = NULL;
		r->seq = seq;
		r->len = total;
		memcpy(r->text, ex->buf, total + 1);
		*ex->q_tail = r;
		ex->q_tail = &r->next;
		ex->q_n++;
		ex->q_bytes += sizeof(*r) + total;
		return;
	}
	free(r);
	ex->queue_lost++;
}

bool vg_exports_want_alerts(const struct vg_exports *x)
{
	for (size_t i = 0; x && i < x->n; i++)
		if (x->ex[i]->sc.alerts)
			return true;
	return false;
}

void vg_exports_alert(struct vg_exports *x, const char *json, size_t len,
		      const struct vg_event *e,
		      bool (*pass)(const struct vg_sink *s, void *u), void *u)
{
	/* numbered, queued and sent as an event of type "alert" (NATS:
	 * the subject PREFIX.NODE.alert) */
	struct vg_event ae = { .type = VG_E_ALERT, .has_task = e->has_task,
			       .t = e->t };

	/* only what is the alert's: a queued copy holds no pointer into
	 * the event that matched */
	ae.x.seq = e->x.seq;
	ae.x.num = e->x.num;
	for (size_t i = 0; x && i < x->n; i++) {
		struct vg_export *ex = x->ex[i];

		if (ex->sc.alerts && ex->sink_added && pass(&ex->sink, u))
			export_emit(&ex->sink, json, len, &ae);
	}
}

static void export_observe(struct vg_sink *sk, const char *line, size_t len,
			   const struct vg_event *e)
{
	struct vg_export *ex = sk->ctx;

	(void)line, (void)len;
	ex->kind->observe(ex->st, e);
}

/* The daemon's loop: the kind's fd is readable, or its wait is over. */
static int export_ready(void *arg)
{
	struct vg_export *ex = arg;
	uint64_t v;
	int ms;

	if (ex->wake_fd >= 0 && read(ex->wake_fd, &v, sizeof(v)) < 0)
		(void)0; /* not signalled: the wait is over */
	ms = ex->kind->run ? ex->kind->run(ex->st) : -1;
	drain(ex);
	/* a kind whose room comes back says so on its fd; this is for
	 * one that does not */
	if ((ex->q_head || ex->queue_lost != ex->lost_told) && (ms < 0 || ms > 50))
		ms = 50;
	return ms;
}

static void export_free(struct vg_export *ex, unsigned timeout_ms)
{
	struct vg_engine *en;

	if (!ex)
		return;
	en = ex->x && ex->x->d ? vg_daemon_engine(ex->x->d) : NULL;
	if (ex->sink_added)
		vg_engine_remove_sink(en, &ex->sink);
	if (ex->obs_added)
		vg_engine_remove_sink(en, &ex->obs_sink);
	if (ex->st) {
		drain(ex);
		ex->kind->close(ex->st, timeout_ms);
	}
	while (ex->q_head) {
		struct rec *r = ex->q_head;

		ex->q_head = r->next;
		free(r->e);
		free(r);
	}
	if (ex->wake_fd >= 0)
		close(ex->wake_fd);
	sel_conf_release(&ex->sc);
	free(ex->name);
	free(ex->target);
	free(ex->kind_said);
	free(ex->buf);
	free(ex);
}

/* What a spec says that only a restart changes: its kind's part. */
static char *kind_said(const struct vg_export_spec *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < s->n_kv; i++)
		if (!is_sel_key(s->kv[i].key))
			fprintf(f, "%s=%s%c", s->kv[i].key, s->kv[i].value, '\0');
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static bool same_said(const char *a, const char *b)
{
	/* both are NUL-separated, ending in an empty string's NUL; compare
	 * as blocks */
	for (;;) {
		if (!*a || !*b)
			return !*a && !*b;
		if (strcmp(a, b) != 0)
			return false;
		a += strlen(a) + 1;
		b += strlen(b) + 1;
	}
}

/*
 * @s into a new export: the kind opened (no connection yet), the sink
 * made. @x NULL: a check only (the std types of any source, no state
 * directory made). Returns 0 or -errno with @err.
 */
static int export_make(struct vg_exports *x, const struct vg_export_spec *s,
		       struct vg_export **ret, char *err, size_t errsz)
{
	const char *kind = vg_export_spec_get(s, "kind"),
		   *target = vg_export_spec_get(s, "target"), *q;
	struct vg_export_kv *kkv = NULL;
	struct vg_export_conf c = { 0 };
	struct vg_export *ex;
	uint64_t std = x ? vg_source_std_mask(vg_engine_source(vg_daemon_engine(x->d)))
			 : vg_event_std_mask();
	uint64_t qb = VG_EXPORT_QUEUE_DEFAULT, observe = 0;
	char dir[PATH_MAX], node[256];
	int r;

	if (!vg_export_name_ok(s->name)) {
		vg_set_err(err, errsz, "%s: '%s' cannot name an export (1 to 32 of "
			   "a-z, A-Z, 0-9, '_', '-')", s->where, s->name);
		return -EINVAL;
	}
	if (!kind || !target) {
		vg_set_err(err, errsz, "%s: export %s: no '%s'", s->where, s->name,
			   kind ? "target" : "kind");
		return -EINVAL;
	}
	c.kind = kind;
	if (!find_kind(kind)) {
		vg_set_err(err, errsz, "%s: export %s: unknown kind '%s' (there are "
			   "file, syslog%s)", s->where, s->name, kind,
			   &vg_export_nats ? ", nats" : "; nats is not built in");
		return -EINVAL;
	}
	if ((q = vg_export_spec_get(s, "queue")) &&
	    (parse_bytes(q, &qb) < 0 || qb < (64u << 10) || qb > (1ull << 30))) {
		vg_set_err(err, errsz, "export %s: 'queue' takes bytes from 64k to "
			   "1G, not '%s'", s->name, q);
		return -EINVAL;
	}
	ex = calloc(1, sizeof(*ex));
	kkv = calloc(s->n_kv + 1, sizeof(*kkv));
	if (!ex || !kkv) {
		free(ex);
		free(kkv);
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	ex->x = x;
	ex->wake_fd = -1;
	ex->kind = find_kind(kind);
	ex->q_tail = &ex->q_head;
	ex->q_max = (size_t)qb;
	ex->name = strdup(s->name);
	ex->target = strdup(target);
	ex->kind_said = kind_said(s);
	if (!ex->name || !ex->target || !ex->kind_said) {
		r = -ENOMEM;
		vg_set_err(err, errsz, "out of memory");
		goto fail;
	}
	r = sel_conf_parse(s, std, &ex->sc, err, errsz);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < s->n_kv; i++)
		if (!is_sel_key(s->kv[i].key) && strcmp(s->kv[i].key, "kind") != 0 &&
		    strcmp(s->kv[i].key, "target") != 0 && strcmp(s->kv[i].key, "queue") != 0)
			kkv[c.n_kv++] = s->kv[i];
	if (x) {
		snprintf(dir, sizeof(dir), "%s/export/%s", x->state_dir, s->name);
		snprintf(node, sizeof(node), "%s", x->node);
	} else {
		snprintf(dir, sizeof(dir), "/nonexistent/export/%s", s->name);
		node_name(node, sizeof(node));
	}
	c.name = s->name;
	c.target = target;
	c.kv = kkv;
	c.node = node;
	c.sensor_id = x ? vg_daemon_sensor_id(x->d) : "check";
	c.state_dir = dir;
	c.queue_bytes = (size_t)qb;
	r = ex->kind->open(&c, &ex->st, &observe, err, errsz);
	if (r < 0) {
		ex->st = NULL;
		goto fail;
	}
	free(kkv);
	ex->sink = (struct vg_sink){
		.types = ex->sc.types,
		.sel = ex->sc.has_sel ? &ex->sc.sel : NULL,
		.filter = ex->sc.f,
		.path_glob = ex->sc.path,
		.mode = VG_OUTPUT_JSON,
		.emit = export_emit,
		.ctx = ex,
	};
	if (observe && ex->kind->observe)
		ex->obs_sink = (struct vg_sink){
			.types = observe & std, .mode = VG_OUTPUT_JSON,
			.present = true, /* what was there before the daemon */
			.emit = export_observe, .ctx = ex,
		};
	*ret = ex;
	return 0;
fail:
	free(kkv);
	export_free(ex, 0);
	return r;
}

int vg_exports_check(const struct vg_export_spec *s, char *err, size_t errsz)
{
	struct vg_export *ex;
	int r = export_make(NULL, s, &ex, err, errsz);

	if (r == 0)
		export_free(ex, 0);
	return r;
}

/* mkdir -p, 0700 for what is made. */
static int make_dirs(const char *path)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (!(*s = c))
			break;
	}
	return 0;
}

int vg_exports_add(struct vg_exports *x, const struct vg_export_spec *s,
		   char *err, size_t errsz)
{
	struct vg_engine *en = vg_daemon_engine(x->d);
	struct vg_export *ex;
	uint64_t ticket;
	char dir[PATH_MAX];
	int fd, r;

	if (x->n >= VG_EXPORTS_MAX) {
		vg_set_err(err, errsz, "%s: more than %d exports", s->where, VG_EXPORTS_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->ex[i]->name, s->name) == 0) {
			vg_set_err(err, errsz, "%s: a second export named %s", s->where,
				   s->name);
			return -EEXIST;
		}
	snprintf(dir, sizeof(dir), "%s/export/%s", x->state_dir, s->name);
	r = make_dirs(dir);
	if (r < 0) {
		vg_set_err(err, errsz, "export %s: %s: %s", s->name, dir, strerror(-r));
		return r;
	}
	r = export_make(x, s, &ex, err, errsz);
	if (r < 0)
		return r;
	fd = ex->kind->fd ? ex->kind->fd(ex->st) : -1;
	if (fd < 0) {
		/* never signalled: the loop's wait for run() needs an fd */
		fd = ex->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			r = -errno;
			vg_set_err(err, errsz, "export %s: eventfd: %s", s->name, strerror(-r));
			goto fail;
		}
	}
	r = vg_engine_add_sink_async(en, &ex->sink, &ticket, err, errsz);
	if (r < 0)
		goto fail;
	ex->sink_added = true;
	if (ex->obs_sink.emit) {
		r = vg_engine_add_sink_async(en, &ex->obs_sink, &ticket, err, errsz);
		if (r < 0)
			goto fail;
		ex->obs_added = true;
	}
	/* its first run at the loop's first turn: connecting starts then,
	 * not at the first event */
	r = vg_daemon_watch(x->d, fd, export_ready, ex);
	if (r < 0) {
		vg_set_err(err, errsz, "export %s: the daemon's loop: %s", s->name,
			   strerror(-r));
		goto fail;
	}
	x->ex[x->n++] = ex;
	return 0;
fail:
	export_free(ex, 0);
	return r;
}

static struct vg_export *find_export(struct vg_exports *x, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->ex[i]->name, name) == 0)
			return x->ex[i];
	return NULL;
}

static void sayf(void (*say)(void *u, bool error, const char *msg), void *u,
		 bool error, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void sayf(void (*say)(void *u, bool error, const char *msg), void *u,
		 bool error, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(u, error, msg);
}

int vg_exports_reload(struct vg_exports *x,
		      struct vg_export_spec *const *specs, size_t n,
		      void (*say)(void *u, bool error, const char *msg),
		      void *u)
{
	struct vg_engine *en = vg_daemon_engine(x->d);
	uint64_t std = vg_source_std_mask(vg_engine_source(en));
	struct sel_conf *nc = calloc(n + 1, sizeof(*nc));
	bool *swap = calloc(n + 1, sizeof(*swap));
	char err[1024];
	int ret = 0;

	if (!nc || !swap) {
		free(nc);
		free(swap);
		say(u, true, "exports: out of memory");
		return -ENOMEM;
	}
	/* every spec checked before anything changes */
	for (size_t i = 0; i < n; i++) {
		struct vg_export *ex = find_export(x, specs[i]->name);

		if (vg_exports_check(specs[i], err, sizeof(err)) < 0 ||
		    sel_conf_parse(specs[i], std, &nc[i], err, sizeof(err)) < 0) {
			say(u, true, err);
			ret = -EINVAL;
			continue;
		}
		if (!ex) {
			sayf(say, u, false, "export %s is new: it starts at the next "
			     "restart", specs[i]->name);
			continue;
		}
		char *ks = kind_said(specs[i]);

		if (ks && !same_said(ks, ex->kind_said))
			sayf(say, u, false, "export %s: its kind, target, queue or the "
			     "kind's keys changed: that takes effect at the next restart",
			     ex->name);
		free(ks);
		swap[i] = !same_said(nc[i].said, ex->sc.said);
	}
	for (size_t j = 0; j < x->n; j++) {
		bool still = false;

		for (size_t i = 0; i < n; i++)
			still |= strcmp(specs[i]->name, x->ex[j]->name) == 0;
		if (!still)
			sayf(say, u, false, "export %s is gone from the configuration: it "
			     "stops at the next restart", x->ex[j]->name);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct vg_export *ex = find_export(x, specs[i]->name);

		if (!ex || !swap[i])
			continue;
		/* on the loop's thread, between two events */
		sel_conf_release(&ex->sc);
		ex->sc = nc[i];
		nc[i] = (struct sel_conf){ 0 };
		ex->sink.types = ex->sc.types;
		ex->sink.sel = ex->sc.has_sel ? &ex->sc.sel : NULL;
		ex->sink.filter = ex->sc.f;
		ex->sink.path_glob = ex->sc.path;
		sayf(say, u, false, "export %s: its events, filter and selection "
		     "changed", ex->name);
	}
	if (!ret && vg_engine_update(en, err, sizeof(err)) < 0)
		say(u, true, err);
	for (size_t i = 0; i < n; i++)
		sel_conf_release(&nc[i]);
	free(nc);
	free(swap);
	return ret;
}

void vg_exports_free(struct vg_exports *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		export_free(x->ex[i], VG_EXPORT_CLOSE_MS);
	free(x->state_dir);
	free(x);
}

int vg_exports_foreach(const struct vg_exports *x,
		       int (*fn)(const struct vg_export_info *i, void *ctx),
		       void *ctx)
{
	for (size_t i = 0; x && i < x->n; i++) {
		const struct vg_export *ex = x->ex[i];
		struct vg_export_info in = {
			.name = ex->name, .kind = ex->kind->name, .target = ex->target,
			.offered = ex->offered, .queue_lost = ex->queue_lost,
			.lost_told = ex->lost_told, .queued = ex->q_n,
			.queued_bytes = ex->q_bytes,
		};
		int r;

		ex->kind->stats(ex->st, &in.k);
		r = fn(&in, ctx);
		if (r)
			return r;
	}
	return 0;
}

static int info_json(const struct vg_export_info *i, void *ctx)
{
	json_t *o = json_pack(
		"{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s}",
		"name", i->name, "kind", i->kind, "target", i->target,
		"offered", (json_int_t)i->offered, "sent", (json_int_t)i->k.sent,
		"acked", (json_int_t)i->k.acked, "queue_lost", (json_int_t)i->queue_lost,
		"lost", (json_int_t)i->k.lost, "lost_unknown", (json_int_t)i->k.lost_unknown,
		"spooled", (json_int_t)i->k.spooled, "spool_lost", (json_int_t)i->k.spool_lost,
		"spool_bytes", (json_int_t)i->k.spool_bytes, "queued", (json_int_t)i->queued,
		"buffered", (json_int_t)i->k.buffered, "lost_announced",
		(json_int_t)i->lost_told, "connected", i->k.connected, "state", i->k.state);

	if (!o)
		return -ENOMEM;
	return json_array_append_new(ctx, o) < 0 ? -ENOMEM : 0;
}

json_t *vg_exports_json(const struct vg_exports *x)
{
	json_t *a = json_array();

	if (a && vg_exports_foreach(x, info_json, a) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}
