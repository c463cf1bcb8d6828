/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "nats" export: records published to a JetStream stream, with a
 * bounded on-disk spool for when no server takes them.
 *
 * The daemon's loop only copies a record into a bounded queue (push());
 * one thread of the kind's own does everything that can wait: connecting,
 * publishing, waiting for acks, writing and replaying the spool. libnats
 * has threads of its own for the socket; our thread is the only one that
 * touches the connection's publish side and the spool, so neither needs a
 * lock. What the loop reads (stats, state) is under one mutex, and every
 * change of state is signalled on an eventfd (the kind's fd).
 *
 * Publishing goes in windows of at most max-pending messages: published
 * with js_PublishMsgAsync, then the acks awaited (ack-wait). Unacked ones
 * are published again with the same Nats-Msg-Id (sensor id + "-" + seq),
 * which the stream's duplicate window drops if the first copy had been
 * stored after all. After three tries, or at once when the connection is
 * down, the rest goes to the spool; from then on every record goes to the
 * spool until it has been replayed, so the stream gets the records in
 * order.
 *
 * The spool: segment files "seg-<n>" in the export's state directory,
 * one record a line ("<msg-id> <subject> <json>\n"), appended, read back
 * oldest first, and unlinked once every record in them is acked. Past
 * spool-max bytes the oldest segment goes: its unsent records are counted
 * (spool_lost) and announced by a "lost" record published before the
 * rest of the spool. Segments left by an earlier run are replayed too:
 * their ids carry that run's sensor id, so they cannot collide.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "attrib/attrib.h"
#include "attrib/meta.h"
#include "base/util.h"
#include "daemon/export.h"
#include "fleet/fleet.h"
#include "fleet/nats_error.h"

#define NATS_ACK_TRIES 3
/* The node's containers in a key-value bucket: entries live KV_TTL_S
 * unless refreshed (every KV_REFRESH_S), so a dead node's go. */
#define KV_BUCKET "vigil_containers"
#define KV_TTL_S 60
#define KV_REFRESH_S 20
#define KV_MAX 4096          /* containers one node keeps there */
#define KV_SEEN 1024         /* the loop's cache of what it has said */
/* A spool line is one record: past this it is not one of ours. */
#define SPOOL_LINE_MAX (16u << 20)

struct rec {
	struct rec *next;
	uint32_t idlen, subjlen, jsonlen;
	bool acked;
	/* "<id> <subject> <json>\n": the spool's line as is */
	char line[];
};

static inline const char *rec_id(const struct rec *r) { return r->line; }
static inline const char *rec_subj(const struct rec *r) { return r->line + r->idlen + 1; }
static inline const char *rec_json(const struct rec *r)
{
	return r->line + r->idlen + 1 + r->subjlen + 1;
}
static inline size_t rec_linelen(const struct rec *r)
{
	return (size_t)r->idlen + 1 + r->subjlen + 1 + r->jsonlen + 1;
}

static struct rec *rec_new(const char *id, size_t idlen, const char *subj,
			   size_t subjlen, const char *json, size_t jsonlen)
{
	if (idlen > UINT32_MAX / 4 || subjlen > UINT32_MAX / 4 ||
	    jsonlen > UINT32_MAX / 4)
		return NULL;
	struct rec *r = malloc(sizeof(*r) + idlen + subjlen + jsonlen + 3);
	if (!r)
		return NULL;
	r->next = NULL;
	r->acked = false;
	r->idlen = (uint32_t)idlen;
	r->subjlen = (uint32_t)subjlen;
	r->jsonlen = (uint32_t)jsonlen;
	char *p = r->line;
	memcpy(p, id, idlen);
	p += idlen;
	*p++ = ' ';
	memcpy(p, subj, subjlen);
	p += subjlen;
	*p++ = ' ';
	memcpy(p, json, jsonlen);
	p += jsonlen;
	*p = '\n';
	return r;
}

/* The ids and subjects are written NUL-terminated for libnats: the
 * separators are swapped while a message is made, then put back. */
static void rec_list_free(struct rec *r)
{
	while (r) {
		struct rec *n = r->next;
		free(r);
		r = n;
	}
}

struct seg {
	uint64_t n;        /* the file is "seg-<n>" */
	uint64_t bytes;
	uint64_t records;
};

struct spool {
	int dirfd;
	struct seg *segs;  /* oldest first */
	size_t n_segs, cap_segs;
	int wfd;           /* appends to segs[n_segs - 1] */
	uint64_t next_n;
	uint64_t read_off, read_recs; /* acked in segs[0] */
	uint64_t bytes, records; /* in the spool, unacked */
	uint64_t max, seg_max;
};

/* One container's entry, as the thread keeps it. */
struct kv_ent {
	char *key;    /* "<node>.<container id>" */
	char *value;  /* JSON; NULL: to be deleted */
	bool dirty;
};

/* A change handed from the loop to the thread. */
struct kv_op {
	struct kv_op *next;
	char *key, *value; /* value NULL: delete */
};

struct nats_export {
	/* configuration, fixed after open() */
	char **urls;
	int n_urls;
	char *stream, *prefix, *node, *sensor, *creds, *tls_ca, *tls_cert,
		*tls_key, *state_dir;
	int64_t dup_window_ms, ack_wait_ms;
	int replicas;
	size_t max_pending, queue_max;

	bool kv_on;
	char *node_name;    /* as said, for the entries' "node" */
	/* the loop's: what it has told the thread, by id hash and the
	 * metadata's generation, to tell each change once */
	struct { uint64_t h; uint32_t gen; } seen[KV_SEEN];

	int efd;
	pthread_t thread;
	bool thread_started;

	/* shared with the loop */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct rec *q_head, *q_tail;
	size_t q_bytes, q_len;
	bool stop;
	bool refused;       /* push() said -ENOBUFS since the last take */
	uint64_t stop_deadline_ns;
	struct vg_export_kind_stats st;
	struct kv_op *kv_head, **kv_tail;
	size_t kv_n;

	/* the thread's own */
	kvStore *kv;
	struct kv_ent *ents;
	size_t n_ents;
	bool kv_dirty;
	uint64_t kv_next_refresh_ns, kv_retry_ns;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	bool stream_ok;
	struct spool sp;
	bool spool_ok;      /* the state directory could be opened */
	uint64_t lost_announce, lost_announced_total;
	uint64_t backoff_until_ns;
	char why[96];
	char spool_note[96]; /* "; no spool (DIR: why)" */
	char kv_why[96];     /* "; containers: why" */

	/* the window in flight, shared with libnats's ack callback */
	pthread_mutex_t bmu;
	struct rec **batch;
	size_t batch_n, batch_hint, batch_acked;
	char batch_err[96];
};

static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned lib_users;

static int lib_open(void)
{
	int r = 0;
	pthread_mutex_lock(&lib_mu);
	if (lib_users == 0 && nats_Open(-1) != NATS_OK)
		r = -ENOMEM;
	if (r == 0)
		lib_users++;
	pthread_mutex_unlock(&lib_mu);
	return r;
}

static void lib_close(void)
{
	pthread_mutex_lock(&lib_mu);
	if (lib_users > 0 && --lib_users == 0)
		nats_Close();
	pthread_mutex_unlock(&lib_mu);
}

static uint64_t now_ns(void)
{
	return vg_clock_ns(CLOCK_MONOTONIC);
}

static void notify(struct nats_export *s)
{
	uint64_t one = 1;
	if (write(s->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop has been told */
	}
}

static void set_state(struct nats_export *s, bool connected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_state(struct nats_export *s, bool connected, const char *fmt, ...)
{
	char buf[sizeof(s->st.state)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&s->mu);
	bool changed = connected != s->st.connected || strcmp(buf, s->st.state) != 0;
	s->st.connected = connected;
	memcpy(s->st.state, buf, sizeof(buf));
	pthread_mutex_unlock(&s->mu);
	if (changed)
		notify(s);
}

static void count(struct nats_export *s, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	*field += n;
	pthread_mutex_unlock(&s->mu);
}

/* ---- configuration ---- */

/* "256MiB", "64k", "1048576": bytes. */
static int parse_size(const char *v, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *v == '-')
		return -EINVAL;
	uint64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return -EINVAL;
		}
		end++;
		if (strcmp(end, "") != 0 && strcmp(end, "iB") != 0 &&
		    strcmp(end, "B") != 0)
			return -EINVAL;
	}
	if (n > UINT64_MAX / mul)
		return -ERANGE;
	*ret = n * mul;
	return 0;
}

/* "500ms", "30s", "2m", "1h"; a bare number is seconds. */
static int parse_ms(const char *v, int64_t *ret)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -EINVAL;
	int64_t mul;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		return -EINVAL;
	if (n > INT64_MAX / 1000000 / mul)
		return -ERANGE;
	*ret = n * mul;
	return 0;
}

static bool name_ok(const char *v, const char *extra)
{
	if (!*v || strlen(v) > 64)
		return false;
	for (const char *p = v; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-' &&
		    !strchr(extra, *p))
			return false;
	return true;
}

static int split_urls(struct nats_export *s, const char *target, char *err,
		      size_t errsz)
{
	if (!target || !*target) {
		vg_set_err(err, errsz, "nats: no server URL");
		return -EINVAL;
	}
	char *copy = strdup(target);
	if (!copy)
		return -ENOMEM;
	int r = 0;
	char *save = NULL;
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		if (!*u)
			continue;
		if (!vg_startswith(u, "nats://") && !vg_startswith(u, "tls://")) {
			vg_set_err(err, errsz, "nats: \"%s\" is not a nats:// or tls:// URL", u);
			r = -EINVAL;
			break;
		}
		if (s->n_urls >= 32) {
			vg_set_err(err, errsz, "nats: more than 32 server URLs");
			r = -E2BIG;
			break;
		}
		char **n = realloc(s->urls, sizeof(*n) * (size_t)(s->n_urls + 1));
		if (!n) {
			r = -ENOMEM;
			break;
		}
		s->urls = n;
		if (!(s->urls[s->n_urls] = strdup(u))) {
			r = -ENOMEM;
			break;
		}
		s->n_urls++;
	}
	free(copy);
	if (r == 0 && s->n_urls == 0) {
		vg_set_err(err, errsz, "nats: no server URL");
		r = -EINVAL;
	}
	return r;
}

static int set_str(char **field, const char *v)
{
	free(*field);
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

static void state_free(struct nats_export *s);

static int nats_open(const struct vg_export_conf *c, void **ret_state,
		     uint64_t *ret_observe, char *err, size_t errsz)
{
	struct nats_export *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->efd = -1;
	s->sp.dirfd = -1;
	s->sp.wfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->bmu, NULL);
	/* JetStream's own default, and what the spool is sized for: a
	 * message in flight when a connection dropped is dropped as a
	 * duplicate when it is sent again within this window; a longer
	 * outage may store it twice (the consumer sees the same sensor and
	 * seq twice and can tell). */
	s->dup_window_ms = 2 * 60 * 1000;
	s->ack_wait_ms = 2000;
	s->replicas = 1;
	s->max_pending = 1024;
	s->sp.max = 256ull << 20;
	s->queue_max = c->queue_bytes ? c->queue_bytes : 8u << 20;
	s->kv_on = true;
	s->kv_tail = &s->kv_head;
	snprintf(s->st.state, sizeof(s->st.state), "connecting");

	int r = split_urls(s, c->target, err, errsz);
	if (r < 0)
		goto fail;
	if ((r = set_str(&s->stream, "VIGIL")) < 0 ||
	    (r = set_str(&s->prefix, "vigil")) < 0)
		goto fail;
	for (size_t i = 0; i < c->n_kv; i++) {
		const struct vg_export_kv *kv = &c->kv[i];
		const char *k = kv->key, *v = kv->value;
		uint64_t u;
		int64_t ms;
		if (strcmp(k, "stream") == 0) {
			if (!name_ok(v, "")) {
				vg_set_err(err, errsz, "%s: stream \"%s\": only letters, digits, '_' and '-'",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			r = set_str(&s->stream, v);
		} else if (strcmp(k, "subject-prefix") == 0) {
			if (!name_ok(v, ".") || v[0] == '.' || vg_endswith_n(v, strlen(v), ".") ||
			    strstr(v, "..")) {
				vg_set_err(err, errsz, "%s: subject-prefix \"%s\": tokens of letters, digits, '_' and '-', joined by '.'",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			r = set_str(&s->prefix, v);
		} else if (strcmp(k, "creds") == 0) {
			r = set_str(&s->creds, v);
		} else if (strcmp(k, "tls-ca") == 0) {
			r = set_str(&s->tls_ca, v);
		} else if (strcmp(k, "tls-cert") == 0) {
			r = set_str(&s->tls_cert, v);
		} else if (strcmp(k, "tls-key") == 0) {
			r = set_str(&s->tls_key, v);
		} else if (strcmp(k, "dup-window") == 0 || strcmp(k, "ack-wait") == 0) {
			bool dup = k[0] == 'd';
			if (parse_ms(v, &ms) < 0 || ms < (dup ? 1000 : 100) ||
			    ms > (dup ? 7 * 24 * 3600 * 1000ll : 600 * 1000ll)) {
				vg_set_err(err, errsz, "%s: %s \"%s\": a duration (500ms, 30s, 2m) %s",
					   kv->where, k, v,
					   dup ? "from 1s to 7 days" : "from 100ms to 10m");
				r = -EINVAL;
				goto fail;
			}
			*(dup ? &s->dup_window_ms : &s->ack_wait_ms) = ms;
		} else if (strcmp(k, "max-pending") == 0) {
			if (vg_parse_u64(v, &u) < 0 || u < 1 || u > 65536) {
				vg_set_err(err, errsz, "%s: max-pending \"%s\": a number from 1 to 65536",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			s->max_pending = (size_t)u;
		} else if (strcmp(k, "replicas") == 0) {
			if (vg_parse_u64(v, &u) < 0 || u < 1 || u > 5) {
				vg_set_err(err, errsz, "%s: replicas \"%s\": a number from 1 to 5",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			s->replicas = (int)u;
		} else if (strcmp(k, "kv") == 0) {
			if (strcmp(v, "true") && strcmp(v, "false")) {
				vg_set_err(err, errsz, "%s: kv \"%s\": true or false",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			s->kv_on = v[0] == 't';
		} else if (strcmp(k, "spool-max") == 0) {
			if (parse_size(v, &u) < 0 || (u != 0 && u < 4096)) {
				vg_set_err(err, errsz, "%s: spool-max \"%s\": a size (64KiB, 256MiB), 0 for no spool, at least 4KiB",
					   kv->where, v);
				r = -EINVAL;
				goto fail;
			}
			s->sp.max = u;
		} else {
			vg_set_err(err, errsz, "%s: the nats export takes no key \"%s\" (it takes stream, subject-prefix, creds, tls-ca, tls-cert, tls-key, dup-window, ack-wait, max-pending, replicas, spool-max, kv)",
				   kv->where, k);
			r = -EINVAL;
			goto fail;
		}
		if (r < 0)
			goto fail;
	}
	if (!s->tls_cert != !s->tls_key) {
		vg_set_err(err, errsz, "nats: tls-cert and tls-key go together");
		r = -EINVAL;
		goto fail;
	}
	/* A segment small beside the cap, so that dropping the oldest one
	 * drops little more than the cap asks. */
	s->sp.seg_max = s->sp.max / 16;
	if (s->sp.seg_max > (4u << 20))
		s->sp.seg_max = 4u << 20;
	if (s->sp.seg_max < 1024)
		s->sp.seg_max = 1024;

	if (!(s->node = vg_fleet_subject_token(c->node)) ||
	    !(s->node_name = strdup(c->node && *c->node ? c->node : "unknown")) ||
	    !(s->sensor = vg_fleet_subject_token(c->sensor_id)) ||
	    (c->state_dir && !(s->state_dir = strdup(c->state_dir)))) {
		r = -ENOMEM;
		goto fail;
	}
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = lib_open()) < 0) {
		vg_set_err(err, errsz, "nats: the library could not start");
		goto fail;
	}
	natsStatus ns = natsOptions_Create(&s->opts);
	if (ns == NATS_OK)
		ns = natsOptions_SetServers(s->opts, (const char **)s->urls, s->n_urls);
	if (ns == NATS_OK)
		ns = natsOptions_SetTimeout(s->opts, 2000);
	if (ns == NATS_OK)
		ns = natsOptions_SetName(s->opts, "vigil");
	/* libnats reconnects on its own once connected; the first
	 * connection is ours to retry, from the thread. */
	if (ns == NATS_OK)
		ns = natsOptions_SetMaxReconnect(s->opts, -1);
	if (ns == NATS_OK)
		ns = natsOptions_SetReconnectWait(s->opts, 500);
	if (ns == NATS_OK)
		ns = natsOptions_SetPingInterval(s->opts, 5000);
	if (ns == NATS_OK)
		ns = natsOptions_SetMaxPingsOut(s->opts, 2);
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "nats: options: %s", natsStatus_GetText(ns));
		r = -EINVAL;
		lib_close();
		goto fail_opts;
	}
	if (s->creds && (ns = natsOptions_SetUserCredentialsFromFiles(s->opts, s->creds, NULL)) != NATS_OK) {
		vg_set_err(err, errsz, "nats: creds %s: %s", s->creds, natsStatus_GetText(ns));
		r = -EINVAL;
		lib_close();
		goto fail_opts;
	}
	if (s->tls_ca || s->tls_cert) {
		ns = natsOptions_SetSecure(s->opts, true);
		if (ns == NATS_OK && s->tls_ca)
			ns = natsOptions_LoadCATrustedCertificates(s->opts, s->tls_ca);
		if (ns == NATS_OK && s->tls_cert)
			ns = natsOptions_LoadCertificatesChain(s->opts, s->tls_cert, s->tls_key);
		if (ns != NATS_OK) {
			const char *le = nats_GetLastError(NULL);
			vg_set_err(err, errsz, "nats: TLS files: %s", le ? le : natsStatus_GetText(ns));
			r = -EINVAL;
			lib_close();
			goto fail_opts;
		}
	}
	/* the loop's first run() starts the thread */
	notify(s);
	*ret_state = s;
	/* containers appear (and are seen first, for those there before
	 * the daemon) by their lifecycle events and their execs */
	*ret_observe = s->kv_on ? VG_E_BIT(VG_E_CONTAINER) | VG_E_BIT(VG_E_EXEC) : 0;
	return 0;
fail_opts:
	natsOptions_Destroy(s->opts);
	s->opts = NULL;
fail:
	state_free(s);
	return r;
}

/* ---- the loop's side ---- */

static int nats_push(void *st, uint64_t seq, const char *json, size_t len,
		     const struct vg_event *e)
{
	struct nats_export *s = st;
	char id[160], subj[256];
	int idlen = snprintf(id, sizeof(id), "%s-%" PRIu64, s->sensor, seq);
	int subjlen = snprintf(subj, sizeof(subj), "%s.%s.%s", s->prefix, s->node,
			       e ? vg_event_type_name(e->type) : "lost");
	if (idlen < 0 || (size_t)idlen >= sizeof(id) || subjlen < 0 ||
	    (size_t)subjlen >= sizeof(subj))
		return -ENAMETOOLONG;
	/* '?' (an unnamed type) is a wildcard nowhere but still not a token
	 * we promise: keep subjects to the documented alphabet. */
	for (char *p = subj + subjlen - 1; p > subj && *p != '.'; p--)
		if (*p == '?')
			*p = '_';
	pthread_mutex_lock(&s->mu);
	if (s->stop || s->q_bytes + len > s->queue_max) {
		s->refused = true;
		pthread_mutex_unlock(&s->mu);
		return -ENOBUFS;
	}
	pthread_mutex_unlock(&s->mu);
	struct rec *r = rec_new(id, (size_t)idlen, subj, (size_t)subjlen, json, len);
	if (!r)
		return -ENOBUFS;
	pthread_mutex_lock(&s->mu);
	if (s->q_tail)
		s->q_tail->next = r;
	else
		s->q_head = r;
	s->q_tail = r;
	s->q_bytes += len;
	s->q_len++;
	s->st.buffered = s->q_len;
	/* wake the thread at the start of a burst, not at every record */
	if (s->q_len == 1 || s->q_len % 256 == 0)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int nats_fd(void *st)
{
	return ((struct nats_export *)st)->efd;
}

static int nats_run(void *st)
{
	struct nats_export *s = st;
	uint64_t v;
	while (read(s->efd, &v, sizeof(v)) == sizeof(v))
		;
	return -1;
}

static void nats_stats(void *st, struct vg_export_kind_stats *ret)
{
	struct nats_export *s = st;
	pthread_mutex_lock(&s->mu);
	*ret = s->st;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the node's containers (the loop's side) ---- */

static void kv_queue(struct nats_export *s, char *key, char *value)
{
	struct kv_op *op = calloc(1, sizeof(*op));

	pthread_mutex_lock(&s->mu);
	if (!op || s->kv_n >= KV_MAX || s->stop) {
		pthread_mutex_unlock(&s->mu);
		free(op);
		free(key);
		free(value);
		return;
	}
	op->key = key;
	op->value = value;
	*s->kv_tail = op;
	s->kv_tail = &op->next;
	s->kv_n++;
	pthread_mutex_unlock(&s->mu);
}

/* The entry of the container @a: {id, name, image, labels, pod, init_pid,
 * node}; what its runtime does not stand behind is left out. Caller
 * frees. */
static char *kv_value(struct nats_export *s, const struct vg_attribution *a,
		      int init_pid)
{
	const struct vg_meta_entry *me = a->meta;
	bool ok = me && vg_meta_trusted(me);
	const struct vg_container_meta *m = ok && me->has_meta ? &me->meta : NULL;
	json_t *o = json_object(), *labels = json_object();
	char *out = NULL;

	if (!o || !labels)
		goto out;
	json_object_set_new(o, "id", json_string(a->match.container_id));
	json_object_set_new(o, "runtime", json_string(vg_runtime_name(a->match.runtime)));
	json_object_set_new(o, "name", m && m->name ? json_string(m->name) : json_null());
	json_object_set_new(o, "image", m && m->image ? json_string(m->image) : json_null());
	for (size_t i = 0; m && i < m->labels.n; i++)
		json_object_set_new(labels, m->labels.pairs[i].key,
				    json_string(m->labels.pairs[i].value));
	json_object_set(o, "labels", labels);
	if (ok && me->pod.source != VG_POD_SRC_NONE) {
		json_t *pod = json_object();
		if (pod) {
			json_object_set_new(pod, "namespace", me->pod.ns ? json_string(me->pod.ns) : json_null());
			json_object_set_new(pod, "name", me->pod.name ? json_string(me->pod.name) : json_null());
			json_object_set_new(pod, "uid", me->pod.uid ? json_string(me->pod.uid) : json_null());
			json_object_set_new(o, "pod", pod);
		}
	} else {
		json_object_set_new(o, "pod", json_null());
	}
	if (init_pid <= 0 && me && me->init_pid > 0)
		init_pid = me->init_pid;
	json_object_set_new(o, "init_pid", init_pid > 0 ? json_integer(init_pid) : json_null());
	json_object_set_new(o, "node", json_string(s->node_name));
	json_object_set_new(o, "verified", json_boolean(ok));
	out = json_dumps(o, JSON_COMPACT);
out:
	json_decref(labels);
	json_decref(o);
	return out;
}

static void nats_observe(void *st, const struct vg_event *e)
{
	struct nats_export *s = st;
	const struct vg_attribution *a = e->x.attr_err ? NULL : e->x.attr;
	bool gone;

	if (!s->kv_on || !a || a->match.role != VG_ROLE_CONTAINER ||
	    !a->match.container_id[0])
		return;
	const char *id = a->match.container_id;
	uint64_t h = vg_fnv1a64(id, strlen(id)) | 1;
	uint32_t gen = a->meta ? a->meta->gen : 0;
	size_t slot = h % KV_SEEN;

	gone = e->type == VG_E_CONTAINER && e->container.state &&
	       (!strcmp(e->container.state, "exited") ||
		!strcmp(e->container.state, "destroyed"));
	/* an exec in a container already told, unchanged: the common case */
	if (!gone && e->type != VG_E_CONTAINER && s->seen[slot].h == h &&
	    s->seen[slot].gen == gen)
		return;
	char *key = NULL;
	if (asprintf(&key, "%s.%s", s->node, id) < 0)
		return;
	if (gone) {
		if (s->seen[slot].h == h)
			s->seen[slot].h = 0;
		kv_queue(s, key, NULL);
		return;
	}
	char *value = kv_value(s, a, e->type == VG_E_CONTAINER ? e->container.init_pid : 0);
	if (!value) {
		free(key);
		return;
	}
	s->seen[slot].h = h;
	s->seen[slot].gen = gen;
	kv_queue(s, key, value);
}

/* ---- the node's containers (the thread's side) ---- */

static struct kv_ent *kv_find(struct nats_export *s, const char *key)
{
	for (size_t i = 0; i < s->n_ents; i++)
		if (!strcmp(s->ents[i].key, key))
			return &s->ents[i];
	return NULL;
}

/* The loop's changes into the table: each entry dirty until sent. */
static void kv_take(struct nats_export *s)
{
	pthread_mutex_lock(&s->mu);
	struct kv_op *op = s->kv_head;
	s->kv_head = NULL;
	s->kv_tail = &s->kv_head;
	s->kv_n = 0;
	pthread_mutex_unlock(&s->mu);
	while (op) {
		struct kv_op *next = op->next;
		struct kv_ent *e = kv_find(s, op->key);
		if (!e && op->value && s->n_ents < KV_MAX) {
			struct kv_ent *n = realloc(s->ents, (s->n_ents + 1) * sizeof(*n));
			if (n) {
				s->ents = n;
				e = &s->ents[s->n_ents++];
				e->key = op->key;
				e->value = NULL;
				op->key = NULL;
			}
		}
		if (e) {
			free(e->value);
			e->value = op->value;
			op->value = NULL;
			e->dirty = true;
			s->kv_dirty = true;
		}
		free(op->key);
		free(op->value);
		free(op);
		op = next;
	}
}

static int kv_open(struct nats_export *s)
{
	if (s->kv)
		return 0;
	natsStatus ns = js_KeyValue(&s->kv, s->js, KV_BUCKET);
	if (ns == NATS_NOT_FOUND) {
		kvConfig kc;
		kvConfig_Init(&kc);
		kc.Bucket = KV_BUCKET;
		kc.History = 1;
		kc.TTL = KV_TTL_S * 1000000000ll; /* ns, as the stream's max age */
		kc.Replicas = s->replicas;
		ns = js_CreateKeyValue(&s->kv, s->js, &kc);
	}
	if (ns != NATS_OK) {
		snprintf(s->kv_why, sizeof(s->kv_why), "; containers: %s", vg_nats_error(ns));
		s->kv = NULL;
		return -EIO;
	}
	s->kv_why[0] = '\0';
	return 0;
}

/* Send what changed, and everything every KV_REFRESH_S; a failure waits
 * for the next try (the events do not wait for the bucket). */
static void kv_sync(struct nats_export *s)
{
	uint64_t now = now_ns();

	kv_take(s);
	if (now >= s->kv_next_refresh_ns) {
		for (size_t i = 0; i < s->n_ents; i++)
			s->ents[i].dirty = true;
		s->kv_dirty = s->n_ents > 0;
		s->kv_next_refresh_ns = now + KV_REFRESH_S * 1000000000ull;
	}
	if (!s->kv_dirty || now < s->kv_retry_ns)
		return;
	if (kv_open(s) < 0) {
		s->kv_retry_ns = now + 5000000000ull;
		return;
	}
	for (size_t i = 0; i < s->n_ents;) {
		struct kv_ent *e = &s->ents[i];
		natsStatus ns = NATS_OK;
		if (e->dirty)
			ns = e->value ? kvStore_PutString(NULL, s->kv, e->key, e->value)
				      : kvStore_Delete(s->kv, e->key);
		if (ns != NATS_OK) {
			s->kv_retry_ns = now + 5000000000ull;
			return;
		}
		e->dirty = false;
		if (!e->value) {
			free(e->key);
			s->ents[i] = s->ents[--s->n_ents];
			continue;
		}
		i++;
	}
	s->kv_dirty = false;
}

static void kv_free(struct nats_export *s)
{
	for (size_t i = 0; i < s->n_ents; i++) {
		free(s->ents[i].key);
		free(s->ents[i].value);
	}
	free(s->ents);
	s->ents = NULL;
	s->n_ents = 0;
	for (struct kv_op *op = s->kv_head, *n; op; op = n) {
		n = op->next;
		free(op->key);
		free(op->value);
		free(op);
	}
	s->kv_head = NULL;
	s->kv_tail = &s->kv_head;
}

/* ---- the spool (the thread's only) ---- */

static int seg_path(char *buf, size_t sz, uint64_t n)
{
	int l = snprintf(buf, sz, "seg-%020" PRIu64, n);
	return l < 0 || (size_t)l >= sz ? -ENAMETOOLONG : 0;
}

static void spool_sync_stats(struct nats_export *s)
{
	pthread_mutex_lock(&s->mu);
	s->st.spool_bytes = s->sp.bytes;
	pthread_mutex_unlock(&s->mu);
}

static int seg_push(struct spool *sp, uint64_t n, uint64_t bytes, uint64_t records)
{
	if (sp->n_segs == sp->cap_segs) {
		size_t nc = sp->cap_segs ? sp->cap_segs * 2 : 16;
		struct seg *ns = realloc(sp->segs, nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sp->segs = ns;
		sp->cap_segs = nc;
	}
	sp->segs[sp->n_segs++] = (struct seg){ n, bytes, records };
	return 0;
}

/* Count the records of a segment left by an earlier run: its lines. */
static int seg_scan(int dirfd, const char *name, uint64_t *ret_bytes,
		    uint64_t *ret_records)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char buf[65536];
	uint64_t bytes = 0, recs = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		bytes += (uint64_t)n;
		for (ssize_t i = 0; i < n; i++)
			recs += buf[i] == '\n';
	}
	int r = n < 0 ? -errno : 0;
	close(fd);
	*ret_bytes = bytes;
	*ret_records = recs;
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = ((const struct seg *)a)->n, y = ((const struct seg *)b)->n;
	return x < y ? -1 : x > y;
}

static void lost_note_load(struct nats_export *s);

static int spool_open(struct nats_export *s)
{
	struct spool *sp = &s->sp;
	if (!s->state_dir || sp->max == 0)
		return -ENOENT;
	if (mkdir(s->state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	sp->dirfd = open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0)
		return -errno;
	/* writable? (a spool that cannot be written is no spool) */
	if (faccessat(sp->dirfd, ".", W_OK, AT_EACCESS) < 0) {
		int r = -errno;
		close(sp->dirfd);
		sp->dirfd = -1;
		return r;
	}
	int dfd = dup(sp->dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t n, bytes, recs;
		if (!vg_startswith(de->d_name, "seg-") ||
		    vg_parse_u64(de->d_name + 4, &n) < 0)
			continue;
		if (seg_scan(sp->dirfd, de->d_name, &bytes, &recs) < 0)
			continue;
		if (seg_push(sp, n, bytes, recs) < 0)
			break;
		sp->bytes += bytes;
		sp->records += recs;
		if (n >= sp->next_n)
			sp->next_n = n + 1;
	}
	closedir(d);
	if (sp->n_segs > 1)
		qsort(sp->segs, sp->n_segs, sizeof(*sp->segs), cmp_u64);
	lost_note_load(s);
	return 0;
}

static void seg_unlink(struct spool *sp, uint64_t n)
{
	char name[64];
	if (seg_path(name, sizeof(name), n) == 0)
		(void)unlinkat(sp->dirfd, name, 0);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What the full spool dropped and no "lost" record has said yet, kept
 * in the spool's directory ("lost": "<count> <total>") so that it is
 * announced even when the daemon stops before a server is back. */
static void lost_note_save(struct nats_export *s)
{
	char buf[64];
	int l = snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 "\n",
			 s->lost_announce, s->lost_announced_total);
	if (s->lost_announce == 0) {
		(void)unlinkat(s->sp.dirfd, "lost", 0);
		return;
	}
	int fd = openat(s->sp.dirfd, "lost.tmp",
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	int e = write_all(fd, buf, (size_t)l);
	close(fd);
	if (e == 0)
		(void)renameat(s->sp.dirfd, "lost.tmp", s->sp.dirfd, "lost");
}

static void lost_note_load(struct nats_export *s)
{
	char buf[64];
	ssize_t n = vg_read_small_at(s->sp.dirfd, "lost", buf, sizeof(buf));
	unsigned long long a, b;
	if (n > 0 && sscanf(buf, "%llu %llu", &a, &b) == 2) {
		s->lost_announce = a;
		s->lost_announced_total = b;
	}
}

/* Drop the oldest segment: what was not acked in it is lost. */
static void spool_drop_oldest(struct nats_export *s)
{
	struct spool *sp = &s->sp;
	if (sp->n_segs == 0)
		return;
	struct seg *g = &sp->segs[0];
	uint64_t lost = g->records - sp->read_recs;
	sp->bytes -= g->bytes - sp->read_off;
	sp->records -= lost;
	if (sp->n_segs == 1 && sp->wfd >= 0) {
		close(sp->wfd);
		sp->wfd = -1;
	}
	seg_unlink(sp, g->n);
	memmove(sp->segs, sp->segs + 1, (sp->n_segs - 1) * sizeof(*sp->segs));
	sp->n_segs--;
	sp->read_off = sp->read_recs = 0;
	s->lost_announce += lost;
	lost_note_save(s);
	pthread_mutex_lock(&s->mu);
	s->st.spool_lost += lost;
	s->st.spool_bytes = sp->bytes;
	pthread_mutex_unlock(&s->mu);
}

/* Append @r; the oldest segments go when the cap would be passed. The
 * caller still owns @r. 0, or -errno (the record is then lost, and
 * counted by the caller). */
static int spool_append(struct nats_export *s, const struct rec *r)
{
	struct spool *sp = &s->sp;
	size_t len = rec_linelen(r);
	if (!s->spool_ok)
		return -EROFS;
	if (len > sp->max || len > SPOOL_LINE_MAX)
		return -EFBIG;
	while (sp->n_segs > 0 && sp->bytes + len > sp->max)
		spool_drop_oldest(s);
	struct seg *last = sp->n_segs ? &sp->segs[sp->n_segs - 1] : NULL;
	if (sp->wfd < 0 || !last || last->bytes + len > sp->seg_max) {
		if (sp->wfd >= 0) {
			close(sp->wfd);
			sp->wfd = -1;
		}
		char name[64];
		int e = seg_path(name, sizeof(name), sp->next_n);
		if (e < 0)
			return e;
		int fd = openat(sp->dirfd, name,
				O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if ((e = seg_push(sp, sp->next_n, 0, 0)) < 0) {
			close(fd);
			(void)unlinkat(sp->dirfd, name, 0);
			return e;
		}
		sp->next_n++;
		sp->wfd = fd;
		last = &sp->segs[sp->n_segs - 1];
	}
	int e = write_all(sp->wfd, r->line, len);
	if (e < 0) {
		/* a part may be written: the segment is closed, its partial
		 * line dropped at replay and counted there; an empty one
		 * goes at once */
		close(sp->wfd);
		sp->wfd = -1;
		if (last->bytes == 0) {
			seg_unlink(sp, last->n);
			sp->n_segs--;
		}
		return e;
	}
	last->bytes += len;
	last->records++;
	sp->bytes += len;
	sp->records++;
	return 0;
}

/* Spool a list of records (taking it), counting what the disk refused. */
static void spool_list(struct nats_export *s, struct rec *list, const char *why)
{
	uint64_t n = 0, lost = 0;
	for (struct rec *r = list; r; r = r->next) {
		if (spool_append(s, r) == 0)
			n++;
		else
			lost++;
	}
	rec_list_free(list);
	pthread_mutex_lock(&s->mu);
	s->st.spooled += n;
	s->st.lost += lost;
	s->st.spool_bytes = s->sp.bytes;
	pthread_mutex_unlock(&s->mu);
	(void)why;
	if (n || lost)
		notify(s);
}

/* Read up to @max records from the oldest segment, from the last acked
 * one on. *@ret_end: the offset after them, for spool_commit(). */
static int spool_read(struct nats_export *s, size_t max, struct rec **ret,
		      size_t *ret_n, uint64_t *ret_end, uint64_t *ret_bad)
{
	struct spool *sp = &s->sp;
	*ret = NULL;
	*ret_n = 0;
	*ret_bad = 0;
	*ret_end = sp->read_off;
	if (sp->n_segs == 0)
		return 0;
	char name[64];
	int e = seg_path(name, sizeof(name), sp->segs[0].n);
	if (e < 0)
		return e;
	int fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	if (fseeko(f, (off_t)sp->read_off, SEEK_SET) < 0) {
		fclose(f);
		return -EIO;
	}
	struct rec *head = NULL, **tail = &head;
	char *line = NULL;
	size_t cap = 0, n = 0;
	uint64_t off = sp->read_off;
	ssize_t l;
	while (n < max && (l = getline(&line, &cap, f)) > 0) {
		if (line[l - 1] != '\n')
			break; /* being written, or cut short by a crash */
		off += (uint64_t)l;
		char *sp1 = memchr(line, ' ', (size_t)l);
		char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line + l - sp1 - 1)) : NULL;
		struct rec *r = NULL;
		if (sp2 && (size_t)l <= SPOOL_LINE_MAX && sp1 > line && sp2 > sp1 + 1)
			r = rec_new(line, (size_t)(sp1 - line), sp1 + 1,
				    (size_t)(sp2 - sp1 - 1), sp2 + 1,
				    (size_t)(line + l - 1 - sp2 - 1));
		if (!r) {
			(*ret_bad)++;
			continue;
		}
		*tail = r;
		tail = &r->next;
		n++;
	}
	free(line);
	fclose(f);
	*ret = head;
	*ret_n = n;
	*ret_end = off;
	return 0;
}

/* @n records (and @bad unreadable lines) up to @end are done with. */
static void spool_commit(struct nats_export *s, size_t n, uint64_t bad, uint64_t end)
{
	struct spool *sp = &s->sp;
	if (sp->n_segs == 0)
		return;
	sp->bytes -= end - sp->read_off;
	sp->records -= n + bad;
	sp->read_recs += n + bad;
	sp->read_off = end;
	struct seg *g = &sp->segs[0];
	/* a segment from an earlier run ending in a cut line: that line
	 * will never end, it is lost */
	bool last = sp->n_segs == 1 && sp->wfd >= 0;
	if (!last && sp->read_off >= g->bytes) {
		if (g->records > sp->read_recs) {
			bad += g->records - sp->read_recs;
			sp->records -= g->records - sp->read_recs;
		}
		if (g->bytes > sp->read_off)
			sp->bytes -= g->bytes - sp->read_off;
		seg_unlink(sp, g->n);
		memmove(sp->segs, sp->segs + 1, (sp->n_segs - 1) * sizeof(*sp->segs));
		sp->n_segs--;
		sp->read_off = sp->read_recs = 0;
	} else if (last && sp->read_off >= g->bytes) {
		/* all of it acked: start afresh */
		close(sp->wfd);
		sp->wfd = -1;
		seg_unlink(sp, g->n);
		sp->n_segs = 0;
		sp->read_off = sp->read_recs = 0;
		sp->bytes = sp->records = 0;
	}
	if (bad)
		count(s, &s->st.lost, bad);
	spool_sync_stats(s);
}

static bool spool_empty(const struct nats_export *s)
{
	return s->sp.n_segs == 0;
}

/* ---- publishing (the thread's) ---- */

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	struct nats_export *s = closure;
	(void)js;
	const char *id = NULL;
	if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK)
		id = NULL;
	pthread_mutex_lock(&s->bmu);
	if (id && s->batch) {
		/* acks come back in order, nearly always: look from the
		 * last one on */
		for (size_t k = 0; k < s->batch_n; k++) {
			size_t i = (s->batch_hint + k) % s->batch_n;
			struct rec *r = s->batch[i];
			if (r->idlen == strlen(id) && memcmp(rec_id(r), id, r->idlen) == 0) {
				s->batch_hint = i + 1;
				if (pa && !pae && !r->acked) {
					r->acked = true;
					s->batch_acked++;
				} else if (pae) {
					snprintf(s->batch_err, sizeof(s->batch_err), "%s",
						 pae->ErrText ? pae->ErrText :
						 natsStatus_GetText(pae->Err));
				}
				break;
			}
		}
	}
	pthread_mutex_unlock(&s->bmu);
	natsMsg_Destroy(msg);
}

static bool connected(struct nats_export *s)
{
	return s->nc && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED;
}

static void disconnect(struct nats_export *s)
{
	kvStore_Destroy(s->kv);
	s->kv = NULL;
	jsCtx_Destroy(s->js);
	s->js = NULL;
	natsConnection_Destroy(s->nc);
	s->nc = NULL;
	s->stream_ok = false;
}

static int try_connect(struct nats_export *s)
{
	natsStatus ns = natsConnection_Connect(&s->nc, s->opts);
	if (ns != NATS_OK) {
		snprintf(s->why, sizeof(s->why), "%s", vg_nats_error(ns));
		s->nc = NULL;
		return -ECONNREFUSED;
	}
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = (int64_t)s->max_pending;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = s;
	jo.Wait = s->ack_wait_ms;
	ns = natsConnection_JetStream(&s->js, s->nc, &jo);
	if (ns != NATS_OK) {
		snprintf(s->why, sizeof(s->why), "jetstream: %s", natsStatus_GetText(ns));
		disconnect(s);
		return -EIO;
	}
	return 0;
}

static int ensure_stream(struct nats_export *s)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus ns = js_GetStreamInfo(&si, s->js, s->stream, NULL, &jerr);
	if (ns == NATS_OK) {
		jsStreamInfo_Destroy(si);
		s->stream_ok = true;
		return 0;
	}
	if (ns != NATS_NOT_FOUND) {
		snprintf(s->why, sizeof(s->why), "stream %s: %s", s->stream,
			 vg_nats_error(ns));
		return -EIO;
	}
	char subj[128];
	snprintf(subj, sizeof(subj), "%s.>", s->prefix);
	const char *subjs[] = { subj };
	jsStreamConfig cfg;
	jsStreamConfig_Init(&cfg);
	cfg.Name = s->stream;
	cfg.Subjects = subjs;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = s->replicas;
	cfg.Duplicates = s->dup_window_ms * 1000000;
	ns = js_AddStream(&si, s->js, &cfg, NULL, &jerr);
	if (ns != NATS_OK) {
		snprintf(s->why, sizeof(s->why), "creating stream %s: %s", s->stream,
			 vg_nats_error(ns));
		return -EIO;
	}
	jsStreamInfo_Destroy(si);
	s->stream_ok = true;
	return 0;
}

static natsStatus rec_publish(struct nats_export *s, struct rec *r)
{
	natsMsg *m = NULL;
	char *line = r->line;
	/* NUL-terminate the id and the subject in place for the call */
	line[r->idlen] = '\0';
	line[r->idlen + 1 + r->subjlen] = '\0';
	natsStatus ns = natsMsg_Create(&m, rec_subj(r), NULL, rec_json(r), (int)r->jsonlen);
	if (ns == NATS_OK)
		ns = natsMsgHeader_Set(m, "Nats-Msg-Id", rec_id(r));
	line[r->idlen] = ' ';
	line[r->idlen + 1 + r->subjlen] = ' ';
	if (ns == NATS_OK)
		ns = js_PublishMsgAsync(s->js, &m, NULL);
	natsMsg_Destroy(m);
	return ns;
}

/* Up to @max records off the queue. When push() refused one since the
 * last take, the loop is told there is room again (the kind's fd): the
 * framework's queue is drained only then, or at the export's next event,
 * which after a burst may be long in coming. */
static struct rec *queue_take(struct nats_export *s, size_t max)
{
	bool tell = false;

	pthread_mutex_lock(&s->mu);
	struct rec *head = s->q_head, *r = head, *last = NULL;
	size_t n = 0, bytes = 0;
	while (r && n < max) {
		bytes += r->jsonlen;
		last = r;
		r = r->next;
		n++;
	}
	if (last) {
		last->next = NULL;
		s->q_head = r;
		if (!r)
			s->q_tail = NULL;
		s->q_bytes -= bytes;
		s->q_len -= n;
		s->st.buffered = s->q_len;
		tell = s->refused;
		s->refused = false;
	}
	pthread_mutex_unlock(&s->mu);
	if (tell)
		notify(s);
	return last ? head : NULL;
}

/* Everything queued to the spool, keeping the order. */
static void queue_to_spool(struct nats_export *s, const char *why)
{
	struct rec *l;
	while ((l = queue_take(s, 4096)))
		spool_list(s, l, why);
}

/* Publish a window and await its acks. Returns how many are acked;
 * each acked record has ->acked. On a timeout the unacked are taken
 * back from libnats (their late acks are dropped, the duplicate window
 * makes a resend harmless). @drain: move the queue to the spool while
 * waiting (the spool is being replayed, new records go behind it). */
static size_t publish_window(struct nats_export *s, struct rec **v, size_t n, bool drain)
{
	pthread_mutex_lock(&s->bmu);
	s->batch = v;
	s->batch_n = n;
	s->batch_hint = 0;
	s->batch_acked = 0;
	s->batch_err[0] = '\0';
	pthread_mutex_unlock(&s->bmu);
	size_t sent = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i]->acked)
			continue;
		natsStatus ns = rec_publish(s, v[i]);
		if (ns != NATS_OK) {
			snprintf(s->why, sizeof(s->why), "publish: %s", natsStatus_GetText(ns));
			break;
		}
		sent++;
	}
	count(s, &s->st.sent, sent);
	uint64_t deadline = now_ns() + (uint64_t)s->ack_wait_ms * 1000000;
	for (;;) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = 50;
		natsStatus ns = js_PublishAsyncComplete(s->js, &po);
		if (ns == NATS_OK)
			break;
		if (drain)
			queue_to_spool(s, "replaying");
		if (now_ns() >= deadline || !connected(s))
			break;
	}
	natsMsgList pending = { 0 };
	if (js_PublishAsyncGetPendingList(&pending, s->js) == NATS_OK)
		natsMsgList_Destroy(&pending);
	pthread_mutex_lock(&s->bmu);
	size_t acked = s->batch_acked;
	if (s->batch_err[0])
		snprintf(s->why, sizeof(s->why), "%s", s->batch_err);
	s->batch = NULL;
	s->batch_n = 0;
	pthread_mutex_unlock(&s->bmu);
	count(s, &s->st.acked, acked);
	return acked;
}

/* The "lost" record for what the full spool dropped, published before
 * the rest of it is. */
static int announce_lost(struct nats_export *s)
{
	uint64_t total = s->lost_announced_total + s->lost_announce;
	char id[200], subj[256], json[512];
	snprintf(id, sizeof(id), "%s-spool-lost-%" PRIu64, s->sensor, total);
	snprintf(subj, sizeof(subj), "%s.%s.lost", s->prefix, s->node);
	char when[48];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%06ldZ", ts.tv_nsec / 1000);
	/* the node and sensor are subject-safe tokens: no escaping needed */
	int l = snprintf(json, sizeof(json),
			 "{\"node\":\"%s\",\"sensor\":\"%s\",\"evt\":{\"type\":\"lost\",\"time\":\"%s\"},"
			 "\"lost\":{\"total\":%" PRIu64 ",\"reason\":\"spool full\",\"sensor_total\":%" PRIu64 "}}",
			 s->node, s->sensor, when, s->lost_announce, total);
	struct rec *r = rec_new(id, strlen(id), subj, strlen(subj), json, (size_t)l);
	if (!r)
		return -ENOMEM;
	size_t acked = publish_window(s, &r, 1, true);
	free(r);
	if (acked != 1)
		return -EIO;
	s->lost_announced_total = total;
	s->lost_announce = 0;
	lost_note_save(s);
	return 0;
}

/* Replay one window of the spool; 0 when all of it was acked. */
static int replay_window(struct nats_export *s)
{
	struct rec *list;
	size_t n;
	uint64_t end, bad;
	int r = spool_read(s, s->max_pending, &list, &n, &end, &bad);
	if (r < 0) {
		snprintf(s->why, sizeof(s->why), "spool read: %s", vg_strerror(-r));
		/* an unreadable oldest segment would stop the replay for
		 * good: drop it, counted */
		spool_drop_oldest(s);
		return r;
	}
	if (n == 0) {
		if (end > s->sp.read_off || bad)
			spool_commit(s, 0, bad, end);
		else if (s->sp.n_segs > 1 || (s->sp.n_segs == 1 && s->sp.wfd < 0))
			/* an earlier run's last segment cut short: what is
			 * left of it is lost */
			spool_commit(s, 0, 0, s->sp.segs[0].bytes);
		return 0;
	}
	struct rec **v = malloc(n * sizeof(*v));
	if (!v) {
		rec_list_free(list);
		return -ENOMEM;
	}
	size_t i = 0;
	for (struct rec *x = list; x; x = x->next)
		v[i++] = x;
	size_t acked = 0;
	for (int t = 0; t < NATS_ACK_TRIES && acked < n && connected(s); t++)
		acked += publish_window(s, v, n, true);
	free(v);
	rec_list_free(list);
	if (acked < n)
		return -ETIMEDOUT;
	spool_commit(s, n, bad, end);
	return 0;
}

/* Publish one window from the queue; what is not acked goes to the
 * spool (which is empty: order is kept). */
static int direct_window(struct nats_export *s, struct rec *list)
{
	size_t n = 0;
	for (struct rec *x = list; x; x = x->next)
		n++;
	struct rec **v = malloc(n * sizeof(*v));
	if (!v) {
		spool_list(s, list, "no memory");
		return -ENOMEM;
	}
	size_t i = 0;
	for (struct rec *x = list; x; x = x->next)
		v[i++] = x;
	size_t acked = 0;
	for (int t = 0; t < NATS_ACK_TRIES && acked < n && connected(s); t++)
		acked += publish_window(s, v, n, false);
	free(v);
	if (acked == n) {
		rec_list_free(list);
		return 0;
	}
	/* the unacked, in order, to the spool */
	struct rec *keep = NULL, **tail = &keep;
	for (struct rec *x = list, *nx; x; x = nx) {
		nx = x->next;
		if (x->acked) {
			free(x);
		} else {
			x->next = NULL;
			*tail = x;
			tail = &x->next;
		}
	}
	spool_list(s, keep, "no acks");
	return -ETIMEDOUT;
}

/* Without a spool, records that cannot be sent are lost, counted. */
static void drop_list(struct nats_export *s, struct rec *l)
{
	uint64_t n = 0;
	for (struct rec *x = l; x; x = x->next)
		n++;
	rec_list_free(l);
	count(s, &s->st.lost, n);
}

static void park(struct nats_export *s)
{
	/* down: what comes in goes to the spool, or is lost */
	if (s->spool_ok) {
		queue_to_spool(s, s->why);
	} else {
		struct rec *l;
		while ((l = queue_take(s, 4096)))
			drop_list(s, l);
	}
}

/* Wait for records or for @ms, whichever comes first. */
static void wait_queue(struct nats_export *s, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	if (!s->q_head && !s->stop)
		pthread_cond_timedwait(&s->cond, &s->mu, &ts);
	pthread_mutex_unlock(&s->mu);
}

static bool stopping(struct nats_export *s, uint64_t *deadline)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stop;
	*deadline = s->stop_deadline_ns;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void went_down(struct nats_export *s, int backoff_ms)
{
	set_state(s, false, "down: %s%s", s->why[0] ? s->why : "no server",
		  s->spool_note);
	s->backoff_until_ns = now_ns() + (uint64_t)backoff_ms * 1000000;
}

static void *worker(void *arg)
{
	struct nats_export *s = arg;
	/* named, for top -H: libnats's threads for the connection and the
	 * acks, started from here, inherit the name */
	prctl(PR_SET_NAME, "vigil-nats");
	int r = spool_open(s);
	s->spool_ok = r == 0;
	if (r < 0 && r != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		s->st.lost_unknown++;
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&s->mu);
	s->st.spool_bytes = s->sp.bytes;
	pthread_mutex_unlock(&s->mu);
	if (r < 0 && r != -ENOENT)
		snprintf(s->spool_note, sizeof(s->spool_note), "; no spool (%s)",
			 vg_strerror(-r));

	for (;;) {
		uint64_t deadline;
		bool stop = stopping(s, &deadline);
		if (stop && (now_ns() >= deadline || !connected(s)))
			break;
		if (!stop && now_ns() < s->backoff_until_ns) {
			park(s);
			wait_queue(s, 100);
			continue;
		}
		if (s->nc && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CLOSED)
			disconnect(s);
		if (!connected(s)) {
			if (s->nc) {
				snprintf(s->why, sizeof(s->why), "reconnecting");
				went_down(s, 100);
				continue;
			}
			if (try_connect(s) < 0) {
				went_down(s, 1000);
				continue;
			}
		}
		if (!s->stream_ok && ensure_stream(s) < 0) {
			went_down(s, 1000);
			continue;
		}
		set_state(s, true, "connected%s%s", s->spool_note, s->kv_why);
		if (s->kv_on)
			kv_sync(s);
		if (s->lost_announce) {
			if (announce_lost(s) < 0)
				went_down(s, 1000);
			continue;
		}
		if (!spool_empty(s)) {
			queue_to_spool(s, "replaying");
			if (replay_window(s) < 0) {
				if (!s->why[0])
					snprintf(s->why, sizeof(s->why), "no acks within %" PRId64 " ms",
						 s->ack_wait_ms);
				went_down(s, 1000);
			}
			continue;
		}
		struct rec *l = queue_take(s, s->max_pending);
		if (!l) {
			if (stop)
				break;
			wait_queue(s, 200);
			continue;
		}
		s->why[0] = '\0';
		if (!s->spool_ok) {
			/* without a spool, retries are all there is */
			size_t n = 0;
			for (struct rec *x = l; x; x = x->next)
				n++;
			struct rec **v = malloc(n * sizeof(*v));
			size_t acked = 0;
			if (v) {
				size_t i = 0;
				for (struct rec *x = l; x; x = x->next)
					v[i++] = x;
				for (int t = 0; t < NATS_ACK_TRIES && acked < n && connected(s); t++)
					acked += publish_window(s, v, n, false);
				free(v);
			}
			rec_list_free(l);
			if (acked < n) {
				count(s, &s->st.lost, n - acked);
				if (!s->why[0])
					snprintf(s->why, sizeof(s->why), "no acks within %" PRId64 " ms",
						 s->ack_wait_ms);
				went_down(s, 1000);
			}
			continue;
		}
		if (direct_window(s, l) < 0) {
			if (!s->why[0])
				snprintf(s->why, sizeof(s->why), "no acks within %" PRId64 " ms",
					 s->ack_wait_ms);
			went_down(s, 1000);
		}
	}
	/* what is left waits in the spool for the next start */
	park(s);
	if (s->sp.wfd >= 0)
		(void)fsync(s->sp.wfd);
	disconnect(s);
	set_state(s, false, "closed");
	return NULL;
}

static int nats_start(struct nats_export *s)
{
	if (s->thread_started)
		return 0;
	int r = pthread_create(&s->thread, NULL, worker, s);
	if (r != 0)
		return -r;
	s->thread_started = true;
	return 0;
}

static void state_free(struct nats_export *s)
{
	if (!s)
		return;
	rec_list_free(s->q_head);
	kv_free(s);
	free(s->node_name);
	for (int i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	free(s->urls);
	free(s->stream);
	free(s->prefix);
	free(s->node);
	free(s->sensor);
	free(s->creds);
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->state_dir);
	free(s->sp.segs);
	if (s->sp.wfd >= 0)
		close(s->sp.wfd);
	if (s->sp.dirfd >= 0)
		close(s->sp.dirfd);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->bmu);
	free(s);
}

static void nats_close(void *st, unsigned timeout_ms)
{
	struct nats_export *s = st;
	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->stop_deadline_ns = now_ns() + (uint64_t)timeout_ms * 1000000;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	natsOptions_Destroy(s->opts);
	lib_close();
	state_free(s);
}

/* The thread starts at the first run() or push(): open() only checks
 * (vigil daemon --check-config must not connect). */
static int nats_run_start(void *st)
{
	struct nats_export *s = st;
	if (!s->thread_started && nats_start(s) < 0)
		set_state(s, false, "down: no thread");
	return nats_run(st);
}

static int nats_push_start(void *st, uint64_t seq, const char *rec, size_t len,
			   const struct vg_event *e)
{
	struct nats_export *s = st;
	if (!s->thread_started && nats_start(s) < 0)
		return -ENOBUFS;
	return nats_push(st, seq, rec, len, e);
}

const struct vg_export_kind vg_export_nats = {
	.name = "nats",
	.open = nats_open,
	.push = nats_push_start,
	.observe = nats_observe,
	.fd = nats_fd,
	.run = nats_run_start,
	.stats = nats_stats,
	.close = nats_close,
};
