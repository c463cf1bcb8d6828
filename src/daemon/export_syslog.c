/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syslog export: RFC 5424 messages, the event's JSON record as the
 * message and its key fields as structured data, over a Unix datagram
 * socket (/dev/log), UDP, TCP (RFC 6587 octet counting), TLS (GnuTLS),
 * RELP, or RELP over TLS (rsyslog's imrelp with tls="on").
 *
 * Each export has a thread of its own: connecting, a TLS handshake and a
 * receiver that stops reading all block, and the daemon's loop must not.
 * push() only copies the record into a bounded buffer under a lock;
 * when it had to refuse one, the thread says on an eventfd that there
 * is room again, so that the framework's queue drains.
 *
 * RELP is spoken here rather than through librelp: librelp's client
 * resends what was not acknowledged after a reconnect, but does not tell
 * its caller which messages the receiver acknowledged, and counting
 * those (acked) is what RELP is for. The protocol is small: frames
 * "TXNR SP COMMAND SP DATALEN [SP DATA] LF", an "open" exchange, one
 * "rsp" per command, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/export.h"

#define SL_IO_TIMEOUT_MS 5000    /* a receiver that takes nothing this long */
#define SL_CONNECT_TIMEOUT_MS 2000
#define SL_BACKOFF_MIN_MS 100
#define SL_BACKOFF_MAX_MS 5000
#define SL_BATCH_MAX 256          /* messages per turn of the thread */
#define SL_BATCH_BYTES (256u << 10)
#define SL_RELP_WINDOW 128        /* unacknowledged RELP messages */
#define SL_RELP_TXNR_MAX 999999999u
#define SL_SD_ID "vigil@32473"    /* a private enterprise number's SD-ID */
#define SL_UDP_MAX 65507

enum transport { T_UNIX, T_UDP, T_TCP, T_TLS, T_RELP };

static const char *const transport_names[] = { "unix", "udp", "tcp", "tls", "relp" };

struct msg {
	struct msg *next;
	uint64_t seq;
	uint32_t txnr;    /* RELP's, while unacknowledged */
	char *wire;       /* the RFC 5424 message, once made */
	size_t wire_len;
	size_t len;
	char rec[];
};

struct sl {
	enum transport t;
	bool use_tls;             /* tls://, relp+tls:// */
	char *name, *path, *host, *port, *ca, *cert, *key;
	int facility;
	char node[256], sensor[64];
	long pid;
	/* shared with the thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *head, **tail;
	size_t n, bytes, max_bytes;
	bool stop, refused;
	uint64_t deadline_ns;     /* at close */
	struct vg_export_kind_stats st;
	int efd;
	pthread_t thr;
	bool thr_started;
	/* the thread's own */
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	bool connected;
	unsigned backoff_ms;
	uint64_t sent_since_connect;
	struct msg *unacked, **unacked_tail;
	size_t n_unacked;
	uint32_t txnr;
	char *rbuf;               /* RELP responses being read */
	size_t rlen, rcap;
	char *wbuf;               /* frames being written */
	size_t wlen, wcap;
};

/* ------------------------------------------------------------- setup */

static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 }, { "auth", 4 },
	{ "syslog", 5 }, { "lpr", 6 }, { "news", 7 }, { "uucp", 8 }, { "cron", 9 },
	{ "authpriv", 10 }, { "ftp", 11 }, { "local0", 16 }, { "local1", 17 },
	{ "local2", 18 }, { "local3", 19 }, { "local4", 20 }, { "local5", 21 },
	{ "local6", 22 }, { "local7", 23 },
};

/* "HOST:PORT" or "[V6]:PORT" after the scheme. */
static int split_hostport(const char *s, char **host, char **port)
{
	const char *colon;
	uint64_t v;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || close == s + 1)
			return -EINVAL;
		*host = strndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || strchr(s, ':') != colon)
			return -EINVAL;
		*host = strndup(s, (size_t)(colon - s));
	}
	if (vg_parse_u64(colon + 1, &v) < 0 || v < 1 || v > 65535) {
		free(*host);
		*host = NULL;
		return -EINVAL;
	}
	*port = strdup(colon + 1);
	return *host && *port ? 0 : -ENOMEM;
}

/* What RFC 5424 lets a header field hold: printable US-ASCII, @max. */
static void header_field(char *out, size_t outsz, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n + 1 < outsz && n < max; s++)
		out[n++] = (*s > 32 && *s < 127) ? *s : '_';
	if (!n)
		out[n++] = '-';
	out[n] = '\0';
}

static void sl_free(struct sl *s)
{
	if (!s)
		return;
	for (struct msg *m = s->head, *next; m; m = next) {
		next = m->next;
		free(m->wire);
		free(m);
	}
	for (struct msg *m = s->unacked, *next; m; m = next) {
		next = m->next;
		free(m->wire);
		free(m);
	}
	if (s->efd >= 0)
		close(s->efd);
	if (s->cred)
		gnutls_certificate_free_credentials(s->cred);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->name);
	free(s->path);
	free(s->host);
	free(s->port);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s->rbuf);
	free(s->wbuf);
	free(s);
}

static void *sl_thread(void *arg);

static int sl_open(const struct vg_export_conf *c, void **ret_state,
		   uint64_t *ret_observe, char *err, size_t errsz)
{
	struct sl *s = calloc(1, sizeof(*s));
	const char *t = c->target;
	pthread_condattr_t ca;
	int r = -EINVAL;

	if (!s) {
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	s->efd = -1;
	s->fd = -1;
	s->facility = 16;
	s->tail = &s->head;
	s->unacked_tail = &s->unacked;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->name = strdup(c->name);
	if (!s->name)
		goto oom;
	if (vg_startswith(t, "unix:") && t[5] == '/') {
		s->t = T_UNIX;
		if (strlen(t + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			vg_set_err(err, errsz, "export %s: the socket path is too long",
				   c->name);
			goto fail;
		}
		if (!(s->path = strdup(t + 5)))
			goto oom;
	} else {
		static const char *const schemes[] = { "udp://", "tcp://", "tls://", "relp://",
							"relp+tls://" };
		size_t i = 0;

		while (i < VG_ARRAY_SIZE(schemes) && !vg_startswith(t, schemes[i]))
			i++;
		if (i == VG_ARRAY_SIZE(schemes) ||
		    (r = split_hostport(t + strlen(schemes[i]), &s->host, &s->port)) < 0) {
			if (r == -ENOMEM)
				goto oom;
			vg_set_err(err, errsz, "export %s: a syslog target is unix:PATH, "
				   "udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, "
				   "relp://HOST:PORT or relp+tls://HOST:PORT, not '%s'",
				   c->name, t);
			r = -EINVAL;
			goto fail;
		}
		s->t = i == 4 ? T_RELP : (enum transport)(T_UDP + i);
		s->use_tls = s->t == T_TLS || i == 4;
	}
	for (size_t i = 0; i < c->n_kv; i++) {
		const struct vg_export_kv *kv = &c->kv[i];

		if (strcmp(kv->key, "facility") == 0) {
			size_t k = 0;

			while (k < VG_ARRAY_SIZE(facilities) &&
			       strcmp(facilities[k].name, kv->value) != 0)
				k++;
			if (k == VG_ARRAY_SIZE(facilities)) {
				vg_set_err(err, errsz, "%s: export %s: 'facility' takes kern, "
					   "user, mail, daemon, auth, syslog, lpr, news, uucp, "
					   "cron, authpriv, ftp or local0..local7, not '%s'",
					   kv->where, c->name, kv->value);
				goto fail;
			}
			s->facility = facilities[k].code;
		} else if (strcmp(kv->key, "ca") == 0 || strcmp(kv->key, "cert") == 0 ||
			   strcmp(kv->key, "key") == 0) {
			char **dst = kv->key[0] == 'c' ? (kv->key[1] == 'a' ? &s->ca : &s->cert)
						       : &s->key;

			if (!s->use_tls) {
				vg_set_err(err, errsz, "%s: export %s: '%s' is for tls:// "
					   "and relp+tls:// targets", kv->where, c->name, kv->key);
				goto fail;
			}
			if (kv->value[0] != '/') {
				vg_set_err(err, errsz, "%s: export %s: '%s' takes an absolute "
					   "path, not '%s'", kv->where, c->name, kv->key,
					   kv->value);
				goto fail;
			}
			if (!(*dst = strdup(kv->value)))
				goto oom;
		} else {
			vg_set_err(err, errsz, "%s: export %s: a syslog export has no key "
				   "'%s' (it takes facility; ca, cert, key with tls:// "
				   "and relp+tls://)",
				   kv->where, c->name, kv->key);
			goto fail;
		}
	}
	if (!s->cert != !s->key) {
		vg_set_err(err, errsz, "export %s: 'cert' and 'key' go together", c->name);
		goto fail;
	}
	header_field(s->node, sizeof(s->node), c->node, 255);
	snprintf(s->sensor, sizeof(s->sensor), "%s", c->sensor_id);
	s->pid = (long)getpid();
	s->max_bytes = c->queue_bytes;
	snprintf(s->st.state, sizeof(s->st.state), "not connected yet");
	*ret_state = s;
	*ret_observe = 0;
	return 0;
oom:
	vg_set_err(err, errsz, "out of memory");
	r = -ENOMEM;
fail:
	sl_free(s);
	return r < 0 ? r : -EINVAL;
}

/* The thread starts at the first run(): a check (--check-config) opens
 * and closes a kind without one. */
static int sl_start(struct sl *s)
{
	int r;

	if (s->thr_started)
		return 0;
	if (s->use_tls) {
		r = gnutls_certificate_allocate_credentials(&s->cred);
		if (r == GNUTLS_E_SUCCESS) {
			r = s->ca ? gnutls_certificate_set_x509_trust_file(s->cred, s->ca,
									GNUTLS_X509_FMT_PEM)
				  : gnutls_certificate_set_x509_system_trust(s->cred);
			if (r >= 0 && s->cert)
				r = gnutls_certificate_set_x509_key_file(s->cred, s->cert, s->key,
									 GNUTLS_X509_FMT_PEM);
		}
		if (r < 0) {
			pthread_mutex_lock(&s->mu);
			snprintf(s->st.state, sizeof(s->st.state), "down: certificate files: %s",
				 gnutls_strerror(r));
			pthread_mutex_unlock(&s->mu);
			/* no thread: everything is refused, and counted */
		}
	}
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0)
		return -errno;
	r = pthread_create(&s->thr, NULL, sl_thread, s);
	if (r)
		return -r;
	s->thr_started = true;
	return 0;
}

/* ------------------------------------------------------- the loop's side */

static int sl_push(void *st, uint64_t seq, const char *rec, size_t len,
		   const struct vg_event *e)
{
	struct sl *s = st;
	struct msg *m;

	(void)e;
	pthread_mutex_lock(&s->mu);
	if (!s->thr_started || s->bytes + len + sizeof(*m) > s->max_bytes) {
		s->refused = true;
		pthread_mutex_unlock(&s->mu);
		return -ENOBUFS;
	}
	pthread_mutex_unlock(&s->mu);
	m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return -ENOBUFS;
	*m = (struct msg){ .seq = seq, .len = len };
	memcpy(m->rec, rec, len);
	m->rec[len] = '\0';
	pthread_mutex_lock(&s->mu);
	*s->tail = m;
	s->tail = &m->next;
	s->n++;
	s->bytes += len + sizeof(*m);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int sl_fd(void *st)
{
	struct sl *s = st;

	if (sl_start(s) < 0)
		return -1;
	return s->efd;
}

static int sl_run(void *st)
{
	struct sl *s = st;
	uint64_t v;

	if (s->efd >= 0 && read(s->efd, &v, sizeof(v)) < 0)
		(void)0; /* not signalled: nothing to read */
	return -1;
}

static void sl_stats(void *st, struct vg_export_kind_stats *ret)
{
	struct sl *s = st;

	pthread_mutex_lock(&s->mu);
	*ret = s->st;
	ret->buffered = s->n + s->n_unacked;
	pthread_mutex_unlock(&s->mu);
}

static void sl_close(void *st, unsigned timeout_ms)
{
	struct sl *s = st;

	if (!s)
		return;
	if (s->thr_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->deadline_ns = vg_clock_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ull;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thr, NULL);
	}
	sl_free(s);
}

/* ----------------------------------------------------- the thread's side */

/* The state, for stats (the thread's words). */
static void set_state(struct sl *s, bool connected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_state(struct sl *s, bool connected, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->mu);
	va_start(ap, fmt);
	vsnprintf(s->st.state, sizeof(s->st.state), fmt, ap);
	va_end(ap);
	s->st.connected = connected;
	pthread_mutex_unlock(&s->mu);
}

static void count(struct sl *s, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	*field += n;
	pthread_mutex_unlock(&s->mu);
}

/* @m is waiting for its RELP response (stats read how many wait). */
static void unacked_add(struct sl *s, struct msg *m)
{
	m->next = NULL;
	*s->unacked_tail = m;
	s->unacked_tail = &m->next;
	pthread_mutex_lock(&s->mu);
	s->n_unacked++;
	pthread_mutex_unlock(&s->mu);
}

/* Tell the loop there is room: the framework's queue drains. */
static void wake_loop(struct sl *s)
{
	uint64_t one = 1;
	bool was;

	pthread_mutex_lock(&s->mu);
	was = s->refused;
	s->refused = false;
	pthread_mutex_unlock(&s->mu);
	if (was && write(s->efd, &one, sizeof(one)) < 0)
		(void)0; /* already signalled */
}

/* Append to the thread's write buffer. */
static bool wput(struct sl *s, const void *p, size_t n)
{
	if (s->wlen + n > s->wcap) {
		size_t cap = s->wcap ? s->wcap : 65536;

		while (cap < s->wlen + n)
			cap *= 2;
		char *b = realloc(s->wbuf, cap);

		if (!b)
			return false;
		s->wbuf = b;
		s->wcap = cap;
	}
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return true;
}

/* SD-PARAM-VALUE: '"', '\' and ']' escaped (RFC 5424, 6.3.3). */
static void sd_param(FILE *f, const char *name, const char *v)
{
	if (!v || !*v)
		return;
	fprintf(f, " %s=\"", name);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

static const char *jstr(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

/* @m's RFC 5424 message, into m->wire. */
static int make_wire(struct sl *s, struct msg *m)
{
	char *out = NULL, ts[64], msgid[40], pid[24] = "", pod[512] = "";
	size_t len = 0;
	struct timespec now;
	struct tm tm;
	json_t *o = json_loadb(m->rec, m->len, 0, NULL);
	const char *type = jstr(o, "evt", "type", NULL), *ns, *pn;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	header_field(msgid, sizeof(msgid), type ? type : "-", 32);
	if (json_is_integer(json_object_get(json_object_get(o, "proc"), "pid")))
		snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(
				 json_object_get(json_object_get(o, "proc"), "pid")));
	ns = jstr(o, "k8s", "ns", "name");
	pn = jstr(o, "k8s", "pod", "name");
	if (ns && pn)
		snprintf(pod, sizeof(pod), "%s/%s", ns, pn);
	f = open_memstream(&out, &len);
	if (!f) {
		json_decref(o);
		return -ENOMEM;
	}
	fprintf(f, "<%d>1 %s.%06ldZ %s vigil %ld %s [" SL_SD_ID, s->facility * 8 + 6, ts,
		now.tv_nsec / 1000, s->node, s->pid, msgid);
	sd_param(f, "sensor", s->sensor);
	fprintf(f, " seq=\"%llu\"", (unsigned long long)m->seq);
	sd_param(f, "type", type);
	sd_param(f, "pid", pid);
	sd_param(f, "container", jstr(o, "container", "id", NULL));
	sd_param(f, "pod", pod);
	fputs("] \xef\xbb\xbf", f);
	fwrite(m->rec, 1, m->len, f);
	json_decref(o);
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	m->wire = out;
	m->wire_len = len;
	return 0;
}

static void disconnect(struct sl *s)
{
	if (s->tls) {
		gnutls_deinit(s->tls);
		s->tls = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connected = false;
	s->rlen = 0;
}

/* Wait for @fd to be @events, at most @ms; 1 ready, 0 timeout, -errno. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int do_connect(struct sl *s, char *why, size_t whysz)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	int r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (s->t == T_UNIX) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
		struct timeval tv = { .tv_sec = SL_IO_TIMEOUT_MS / 1000 };

		s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		/* a reader that stops: a send gives up, never blocks for good */
		if (s->fd >= 0)
			setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			r = -errno;
			snprintf(why, whysz, "connect %s: %s", s->path, strerror(-r));
			disconnect(s);
			return r;
		}
		goto done;
	}
	hints.ai_socktype = s->t == T_UDP ? SOCK_DGRAM : SOCK_STREAM;
	r = getaddrinfo(s->host, s->port, &hints, &ai);
	if (r) {
		snprintf(why, whysz, "resolve %s: %s", s->host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		r = -errno;
		snprintf(why, whysz, "socket: %s", strerror(-r));
		freeaddrinfo(ai);
		return r;
	}
	r = connect(s->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0 && errno == EINPROGRESS) {
		r = wait_fd(s->fd, POLLOUT, SL_CONNECT_TIMEOUT_MS);
		if (r == 0) {
			errno = ETIMEDOUT;
			r = -1;
		} else if (r > 0 && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			   soerr) {
			errno = soerr;
			r = -1;
		} else if (r > 0) {
			r = 0;
		}
	}
	if (r < 0) {
		r = -errno;
		snprintf(why, whysz, "connect %s:%s: %s", s->host, s->port, strerror(-r));
		disconnect(s);
		return r;
	}
	if (s->t != T_UDP) {
		int one = 1;

		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (s->use_tls) {
		unsigned status = 0;

		if (!s->cred) {
			snprintf(why, whysz, "certificate files could not be read");
			disconnect(s);
			return -EINVAL;
		}
		gnutls_init(&s->tls, GNUTLS_CLIENT);
		gnutls_set_default_priority(s->tls);
		gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, s->cred);
		if (!strchr(s->host, ':') && !(s->host[0] >= '0' && s->host[0] <= '9'))
			gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, s->host, strlen(s->host));
		gnutls_session_set_verify_cert(s->tls, s->host, 0);
		gnutls_transport_set_int(s->tls, s->fd);
		uint64_t until = vg_clock_ns(CLOCK_MONOTONIC) +
				 SL_CONNECT_TIMEOUT_MS * 1000000ull;

		do {
			r = gnutls_handshake(s->tls);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				wait_fd(s->fd, gnutls_record_get_direction(s->tls) ? POLLOUT : POLLIN,
					SL_CONNECT_TIMEOUT_MS);
			if (r < 0 && vg_clock_ns(CLOCK_MONOTONIC) >= until)
				r = GNUTLS_E_TIMEDOUT;
		} while (r < 0 && !gnutls_error_is_fatal(r));
		if (r < 0) {
			if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				gnutls_datum_t d = { 0 };

				status = gnutls_session_get_verify_cert_status(s->tls);
				gnutls_certificate_verification_status_print(
					status, GNUTLS_CRT_X509, &d, 0);
				snprintf(why, whysz, "certificate of %s: %s", s->host,
					 d.data ? (char *)d.data : "not trusted");
				gnutls_free(d.data);
			} else {
				snprintf(why, whysz, "TLS handshake with %s:%s: %s", s->host,
					 s->port, gnutls_strerror(r));
			}
			disconnect(s);
			return -EPROTO;
		}
	}
done:
	s->connected = true;
	s->sent_since_connect = 0;
	return 0;
}

/* Write all of @p; 0, or -errno (-ETIMEDOUT: the receiver took nothing
 * for SL_IO_TIMEOUT_MS). */
static int write_all(struct sl *s, const char *p, size_t n)
{
	while (n) {
		ssize_t w;

		if (s->tls) {
			w = gnutls_record_send(s->tls, p, n);
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
				w = -1;
				errno = EAGAIN;
			} else if (w < 0) {
				return -EPIPE;
			}
		} else {
			w = send(s->fd, p, n, MSG_NOSIGNAL);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			int r = wait_fd(s->fd, POLLOUT, SL_IO_TIMEOUT_MS);

			if (r <= 0)
				return r < 0 ? r : -ETIMEDOUT;
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Whether a stream's peer closed it (nothing is expected from it, but
 * for RELP, which reads its responses itself). */
static bool peer_closed(struct sl *s)
{
	char b[256];
	ssize_t r;

	if (s->t == T_UNIX || s->t == T_UDP || s->t == T_RELP || s->fd < 0)
		return false;
	if (wait_fd(s->fd, POLLIN, 0) <= 0)
		return false;
	if (s->tls) {
		r = gnutls_record_recv(s->tls, b, sizeof(b));
		return r == 0 || (r < 0 && gnutls_error_is_fatal((int)r));
	}
	r = recv(s->fd, b, sizeof(b), MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
}

/* ------------------------------------------------------------- RELP */

static int relp_frame(struct sl *s, uint32_t txnr, const char *cmd, const char *data,
		      size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%u %s %zu%s", txnr, cmd, len, len ? " " : "");

	return wput(s, head, (size_t)n) && wput(s, data, len) && wput(s, "\n", 1)
		       ? 0 : -ENOMEM;
}

static uint32_t next_txnr(struct sl *s)
{
	s->txnr = s->txnr >= SL_RELP_TXNR_MAX ? 1 : s->txnr + 1;
	return s->txnr;
}

/*
 * One response frame from the receiver, waiting at most @ms: 1 with
 * *@txnr and *@ok, 0 on a timeout, -errno when the connection is gone
 * (a "serverclose" too).
 */
static int relp_read(struct sl *s, int ms, uint32_t *txnr, bool *ok)
{
	uint64_t until = vg_clock_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	for (;;) {
		char *nl, *sp1, *sp2, *end;
		unsigned long long t, dl;

		/* a whole frame: TXNR SP CMD SP LEN [SP DATA] LF */
		if (s->rlen && (sp1 = memchr(s->rbuf, ' ', s->rlen)) &&
		    (sp2 = memchr(sp1 + 1, ' ', s->rlen - (size_t)(sp1 + 1 - s->rbuf)))) {
			char *lp = sp2 + 1;

			t = strtoull(s->rbuf, &end, 10);
			dl = strtoull(lp, &end, 10);
			if (end == lp || dl > (1u << 20))
				return -EPROTO;
			size_t hdr = (size_t)(end - s->rbuf) + (dl ? 1 : 0);

			if (s->rlen >= hdr + dl + 1) {
				nl = s->rbuf + hdr + dl;
				if (*nl != '\n')
					return -EPROTO;
				bool rsp = (size_t)(sp2 - sp1 - 1) == 3 && !memcmp(sp1 + 1, "rsp", 3);
				bool closing = (size_t)(sp2 - sp1 - 1) == 11 &&
					       !memcmp(sp1 + 1, "serverclose", 11);

				size_t used = (size_t)(nl + 1 - s->rbuf);

				*txnr = (uint32_t)t;
				*ok = dl >= 3 && !memcmp(s->rbuf + hdr, "200", 3);
				memmove(s->rbuf, nl + 1, s->rlen - used);
				s->rlen -= used;
				if (closing)
					return -ECONNRESET;
				if (rsp)
					return 1;
				continue; /* another command: not for a client */
			}
		}
		if (s->rcap - s->rlen < 4096) {
			size_t cap = s->rcap ? s->rcap * 2 : 65536;
			char *b;

			if (cap > (2u << 20) || !(b = realloc(s->rbuf, cap)))
				return -EPROTO;
			s->rbuf = b;
			s->rcap = cap;
		}
		uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);
		int left = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
		/* TLS may hold a record already read off the socket */
		int r = s->tls && gnutls_record_check_pending(s->tls) ? 1
								    : wait_fd(s->fd, POLLIN, left);
		ssize_t n;

		if (r <= 0)
			return r;
		if (s->tls) {
			n = gnutls_record_recv(s->tls, s->rbuf + s->rlen, s->rcap - s->rlen);
			if (n < 0 && gnutls_error_is_fatal((int)n))
				return -ECONNRESET;
			if (n < 0)
				errno = EAGAIN; /* a part of a record: more to come */
		} else {
			n = recv(s->fd, s->rbuf + s->rlen, s->rcap - s->rlen, MSG_DONTWAIT);
		}
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n < 0) {
			/* woken for less than a record: wait on, within @ms */
			if (left)
				continue;
			return 0;
		}
		s->rlen += (size_t)n;
	}
}

/* The response to @txnr, the others counted as they come. */
static int relp_ack(struct sl *s, uint32_t t, bool ok)
{
	struct msg **pp = &s->unacked, *m;

	while (*pp && (*pp)->txnr != t)
		pp = &(*pp)->next;
	if (!(m = *pp))
		return 0; /* not one of ours (the open's, or a stale one) */
	*pp = m->next;
	if (!*pp)
		s->unacked_tail = pp;
	pthread_mutex_lock(&s->mu);
	s->n_unacked--;
	if (ok)
		s->st.acked++;
	else
		s->st.lost++; /* the receiver said no */
	pthread_mutex_unlock(&s->mu);
	free(m->wire);
	free(m);
	return 0;
}

/* The open exchange, then every unacknowledged message again. */
static int relp_open(struct sl *s, char *why, size_t whysz)
{
	static const char offers[] = "relp_version=0\nrelp_software=vigil\ncommands=syslog";
	uint32_t t, open_txnr;
	bool ok = false;
	int r;

	s->txnr = 0;
	s->wlen = 0;
	open_txnr = next_txnr(s);
	if ((r = relp_frame(s, open_txnr, "open", offers, sizeof(offers) - 1)) < 0 ||
	    (r = write_all(s, s->wbuf, s->wlen)) < 0) {
		snprintf(why, whysz, "RELP open: %s", strerror(-r));
		return r;
	}
	s->wlen = 0;
	do
		r = relp_read(s, SL_CONNECT_TIMEOUT_MS, &t, &ok);
	while (r == 1 && t != open_txnr);
	if (r <= 0 || !ok) {
		snprintf(why, whysz, "RELP open: %s", r == 0 ? "no answer" : r < 0 ?
			 strerror(-r) : "refused by the receiver");
		return r < 0 ? r : -EPROTO;
	}
	/* again, in order, with new numbers: the receiver may have them
	 * (a response lost with the connection), but cannot have more */
	for (struct msg *m = s->unacked; m; m = m->next) {
		m->txnr = next_txnr(s);
		if (relp_frame(s, m->txnr, "syslog", m->wire, m->wire_len) < 0)
			return -ENOMEM;
	}
	r = write_all(s, s->wbuf, s->wlen);
	s->wlen = 0;
	if (r < 0)
		snprintf(why, whysz, "RELP resend: %s", strerror(-r));
	return r;
}

/* ------------------------------------------------------------- sending */

/* @batch to the receiver. Returns 0 with *@rest NULL when all went;
 * -errno when the connection is gone, *@rest the messages not handed
 * over (to go again after a reconnect). */
static int send_batch(struct sl *s, struct msg *batch, struct msg **rest)
{
	struct msg *m = batch, *next;
	int r = 0;

	*rest = NULL;
	if (s->t == T_UNIX || s->t == T_UDP) {
		for (; m; m = next) {
			ssize_t w = -1;
			int e = EMSGSIZE;

			next = m->next;
			if (s->t == T_UNIX || m->wire_len <= SL_UDP_MAX) {
				w = send(s->fd, m->wire, m->wire_len, MSG_NOSIGNAL);
				e = errno;
			}
			free(m->wire);
			free(m);
			if (w >= 0) {
				count(s, &s->st.sent, 1);
				s->sent_since_connect++;
			} else if (s->t == T_UDP && e != EMSGSIZE) {
				/* this one was not sent; the refusal (ICMP) was
				 * of an earlier one, which no one can name */
				count(s, &s->st.lost, 1);
				count(s, &s->st.lost_unknown, 1);
			} else {
				count(s, &s->st.lost, 1);
				if (e != EMSGSIZE) {
					/* a reader gone (a restart) takes what its
					 * socket held: not known how much */
					if (s->sent_since_connect)
						count(s, &s->st.lost_unknown, 1);
					*rest = next; /* not tried: again */
					return -e;
				}
			}
		}
		return 0;
	}
	if (s->t == T_RELP) {
		for (; m; m = next) {
			next = m->next;
			/* the window: wait for responses before more */
			while (s->n_unacked >= SL_RELP_WINDOW) {
				uint32_t t;
				bool ok;

				r = relp_read(s, SL_IO_TIMEOUT_MS, &t, &ok);
				if (r == 0)
					r = -ETIMEDOUT;
				if (r < 0) {
					*rest = m;
					return r;
				}
				relp_ack(s, t, ok);
			}
			m->txnr = next_txnr(s);
			s->wlen = 0;
			r = relp_frame(s, m->txnr, "syslog", m->wire, m->wire_len);
			if (r == 0)
				r = write_all(s, s->wbuf, s->wlen);
			/* kept until answered: after a reconnect, it goes again
			 * (counted sent once) */
			unacked_add(s, m);
			count(s, &s->st.sent, 1);
			if (r < 0) {
				*rest = next;
				return r;
			}
		}
		/* what has come back by now */
		for (;;) {
			uint32_t t;
			bool ok;

			r = relp_read(s, 0, &t, &ok);
			if (r <= 0)
				return r;
			relp_ack(s, t, ok);
		}
	}
	/* TCP, TLS: octet counting, a batch in one write */
	s->wlen = 0;
	for (struct msg *q = m; q; q = q->next) {
		char head[24];
		int n = snprintf(head, sizeof(head), "%zu ", q->wire_len);

		if (!wput(s, head, (size_t)n) || !wput(s, q->wire, q->wire_len)) {
			*rest = m;
			return -ENOMEM;
		}
	}
	r = write_all(s, s->wbuf, s->wlen);
	s->wlen = 0;
	if (r < 0) {
		/* not known how much of it the receiver got: all of it again
		 * (a duplicate is a seq seen twice), the loss of what the
		 * kernel held before counted once */
		*rest = m;
		return r;
	}
	for (; m; m = next) {
		next = m->next;
		count(s, &s->st.sent, 1);
		s->sent_since_connect++;
		free(m->wire);
		free(m);
	}
	return 0;
}

/* Messages back at the head of the buffer, in order. */
static void put_back(struct sl *s, struct msg *rest)
{
	struct msg *last = rest;
	size_t n = 0, bytes = 0;

	if (!rest)
		return;
	for (struct msg *m = rest;; m = m->next) {
		n++;
		bytes += m->len + sizeof(*m);
		last = m;
		if (!m->next)
			break;
	}
	pthread_mutex_lock(&s->mu);
	last->next = s->head;
	if (!s->head)
		s->tail = &last->next;
	s->head = rest;
	s->n += n;
	s->bytes += bytes;
	pthread_mutex_unlock(&s->mu);
}

static void free_list(struct sl *s, struct msg *m, bool lost)
{
	size_t n = 0;

	for (struct msg *next; m; m = next, n++) {
		next = m->next;
		free(m->wire);
		free(m);
	}
	if (lost && n)
		count(s, &s->st.lost, n);
}

/* Sleep @ms, or until told to stop. */
static void nap(struct sl *s, unsigned ms)
{
	struct timespec ts;
	uint64_t until = vg_clock_ns(CLOCK_MONOTONIC) + ms * 1000000ull;

	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	pthread_mutex_lock(&s->mu);
	while (!s->stop && vg_clock_ns(CLOCK_MONOTONIC) < until)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->mu);
}

static int relp_ack(struct sl *s, uint32_t t, bool ok);
static int relp_read(struct sl *s, int ms, uint32_t *txnr, bool *ok);

static void went_down(struct sl *s, int err, bool had_sent)
{
	/* the responses that came before the end are still to be read:
	 * each one read is a message not sent again */
	if (s->t == T_RELP && s->fd >= 0) {
		uint32_t t;
		bool ok;

		while (relp_read(s, 0, &t, &ok) > 0)
			relp_ack(s, t, ok);
	}
	/* what the kernel held for a stream is gone with it, uncounted */
	if (had_sent && (s->t == T_TCP || s->t == T_TLS))
		count(s, &s->st.lost_unknown, 1);
	if (s->t == T_UNIX)
		set_state(s, false, "down: send %s: %s", s->path, strerror(-err));
	else
		set_state(s, false, "down: %s:%s: %s (reconnecting)", s->host, s->port,
			  strerror(-err));
	disconnect(s);
}

static void *sl_thread(void *arg)
{
	struct sl *s = arg;
	char why[256];

	for (;;) {
		struct msg *batch = NULL, **bt = &batch, *rest = NULL;
		size_t n = 0, bytes = 0;
		bool stop;
		int r;

		pthread_mutex_lock(&s->mu);
		while (!s->head && !s->stop) {
			struct timespec ts;
			uint64_t until = vg_clock_ns(CLOCK_MONOTONIC) + 1000000000ull;

			ts.tv_sec = (time_t)(until / 1000000000ull);
			ts.tv_nsec = (long)(until % 1000000000ull);
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
				break; /* a look at the connection, now and then */
		}
		stop = s->stop;
		if (stop && (!s->head || vg_clock_ns(CLOCK_MONOTONIC) >= s->deadline_ns)) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		while (s->head && n < SL_BATCH_MAX && bytes < SL_BATCH_BYTES) {
			struct msg *m = s->head;

			s->head = m->next;
			if (!s->head)
				s->tail = &s->head;
			s->n--;
			s->bytes -= m->len + sizeof(*m);
			bytes += m->len;
			n++;
			m->next = NULL;
			*bt = m;
			bt = &m->next;
		}
		pthread_mutex_unlock(&s->mu);

		if (s->connected && peer_closed(s))
			went_down(s, -ECONNRESET, s->sent_since_connect > 0);
		if (s->connected && s->t == T_RELP && s->n_unacked) {
			uint32_t t;
			bool ok;

			while ((r = relp_read(s, 0, &t, &ok)) > 0)
				relp_ack(s, t, ok);
			if (r < 0)
				went_down(s, r, false);
		}
		if (!s->connected) {
			r = do_connect(s, why, sizeof(why));
			if (r == 0 && s->t == T_RELP)
				r = relp_open(s, why, sizeof(why));
			if (r < 0) {
				disconnect(s);
				put_back(s, batch);
				set_state(s, false, "down: %s (retry in %u ms)", why,
					  s->backoff_ms ? s->backoff_ms : SL_BACKOFF_MIN_MS);
				s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : SL_BACKOFF_MIN_MS;
				if (s->backoff_ms > SL_BACKOFF_MAX_MS)
					s->backoff_ms = SL_BACKOFF_MAX_MS;
				if (stop)
					break;
				nap(s, s->backoff_ms);
				continue;
			}
			s->backoff_ms = 0;
			set_state(s, true, "connected (%s) to %s%s%s%s",
				  s->t == T_RELP && s->use_tls ? "relp+tls" : transport_names[s->t],
				  s->t == T_UNIX ? s->path : s->host, s->t == T_UNIX ? "" : ":",
				  s->t == T_UNIX ? "" : s->port,
				  s->t == T_UDP ? ": best effort, losses on the way unknown" : "");
		}
		for (struct msg **pp = &batch; *pp;) {
			struct msg *m = *pp;

			if (m->wire || make_wire(s, m) == 0) {
				pp = &m->next;
				continue;
			}
			*pp = m->next; /* out of memory: lost */
			m->next = NULL;
			free_list(s, m, true);
		}
		r = send_batch(s, batch, &rest);
		if (r < 0) {
			went_down(s, r, s->sent_since_connect > 0);
			put_back(s, rest);
		}
		/* room now, unless it all came back */
		if (n)
			wake_loop(s);
	}
	/* the rest, within the close's bound: RELP's answers, then what is
	 * left counted lost */
	while (s->connected && s->t == T_RELP && s->n_unacked &&
	       vg_clock_ns(CLOCK_MONOTONIC) < s->deadline_ns) {
		uint32_t t;
		bool ok;
		int r = relp_read(s, 100, &t, &ok);

		if (r < 0)
			break;
		if (r > 0)
			relp_ack(s, t, ok);
	}
	if (s->connected && s->t == T_RELP) {
		s->wlen = 0;
		if (relp_frame(s, next_txnr(s), "close", "", 0) == 0)
			write_all(s, s->wbuf, s->wlen);
	}
	pthread_mutex_lock(&s->mu);
	s->st.lost += s->n + s->n_unacked;
	pthread_mutex_unlock(&s->mu);
	disconnect(s);
	return NULL;
}

const struct vg_export_kind vg_export_syslog = {
	.name = "syslog",
	.open = sl_open,
	.push = sl_push,
	.fd = sl_fd,
	.run = sl_run,
	.stats = sl_stats,
	.close = sl_close,
};
