/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kubelet.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/curl.h"
#include "base/util.h"

#define DEFAULT_TIMEOUT_MS 2000u
#define DEFAULT_MIN_REFRESH_MS 2000u
#define DEFAULT_MAX_BODY ((size_t)64 << 20)
/* A scheme in "containerd://<id>" is a short word; anything longer is
 * not one, and the whole string is taken as the id. */
#define RUNTIME_SCHEME_MAX 32

/* ---- pods ---------------------------------------------------------- */

static void container_release(struct vg_pod_container *c)
{
	free(c->name);
	free(c->id);
	free(c->runtime);
	*c = (struct vg_pod_container){ 0 };
}

void vg_pod_info_release(struct vg_pod_info *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->qos_class);
	vg_kv_release(&p->labels);
	vg_kv_release(&p->annotations);
	for (size_t i = 0; i < p->n_containers; i++)
		container_release(&p->containers[i]);
	free(p->containers);
	*p = (struct vg_pod_info){ 0 };
}

void vg_pod_info_free(struct vg_pod_info *p)
{
	vg_pod_info_release(p);
	free(p);
}

void vg_pod_list_release(struct vg_pod_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_pods; i++)
		vg_pod_info_release(&l->pods[i]);
	free(l->pods);
	*l = (struct vg_pod_list){ 0 };
}

/* strdup() that keeps NULL as NULL; *ok goes false when memory ran out. */
static char *dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

int vg_pod_info_copy(const struct vg_pod_info *src, struct vg_pod_info *ret)
{
	struct vg_pod_info out = { 0 };
	bool ok = true;

	if (!src || !ret)
		return -EINVAL;
	out.ns = dup_or_null(src->ns, &ok);
	out.name = dup_or_null(src->name, &ok);
	out.uid = dup_or_null(src->uid, &ok);
	out.qos_class = dup_or_null(src->qos_class, &ok);
	if (ok && src->n_containers) {
		out.containers = calloc(src->n_containers, sizeof(*out.containers));
		if (!out.containers)
			ok = false;
	}
	for (size_t i = 0; ok && i < src->n_containers; i++) {
		const struct vg_pod_container *s = &src->containers[i];
		struct vg_pod_container *d = &out.containers[i];

		out.n_containers++;
		d->name = dup_or_null(s->name, &ok);
		d->id = dup_or_null(s->id, &ok);
		d->runtime = dup_or_null(s->runtime, &ok);
	}
	if (ok && vg_kv_copy(&src->labels, &out.labels) < 0)
		ok = false;
	if (ok && vg_kv_copy(&src->annotations, &out.annotations) < 0)
		ok = false;
	if (!ok) {
		vg_pod_info_release(&out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

const struct vg_pod_container *
vg_pod_find_container(const struct vg_pod_info *pod, const char *container_id)
{
	const char *sep;
	size_t scheme_len;

	if (!pod || !container_id || !container_id[0])
		return NULL;
	for (size_t i = 0; i < pod->n_containers; i++)
		if (pod->containers[i].id &&
		    strcmp(pod->containers[i].id, container_id) == 0)
			return &pod->containers[i];
	/* Also take the status's own "containerd://<id>" spelling; the
	 * scheme must then agree too. */
	sep = strstr(container_id, "://");
	if (!sep)
		return NULL;
	scheme_len = (size_t)(sep - container_id);
	for (size_t i = 0; i < pod->n_containers; i++) {
		const struct vg_pod_container *c = &pod->containers[i];

		if (c->id && c->runtime && strcmp(c->id, sep + 3) == 0 &&
		    strlen(c->runtime) == scheme_len &&
		    strncmp(c->runtime, container_id, scheme_len) == 0)
			return c;
	}
	return NULL;
}

/* ---- PodList parsing --------------------------------------------------- */

/* @v as a new string if it is a non-empty string of at most @max bytes
 * without NULs. Returns 0, -EINVAL (absent, wrong type, empty, too long),
 * or -ENOMEM. */
static int json_dup_str(const json_t *v, size_t max, char **ret)
{
	const char *s;
	size_t len;
	char *d;

	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > max || strlen(s) != len)
		return -EINVAL;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* Copy the string members of @obj into @kv, skipping the rest and what
 * the kv.h limits refuse: one oversized annotation must not cost the
 * pod its identity. Returns 0 or -ENOMEM. */
static int json_to_kv(const json_t *obj, struct vg_kv *kv)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach((json_t *)obj, key, v) {
		int r;

		if (!json_is_string(v))
			continue;
		if (strlen(json_string_value(v)) != json_string_length(v))
			continue;
		r = vg_kv_set(kv, key, json_string_value(v));
		if (r == -ENOMEM)
			return r;
		/* -E2BIG: too long, or the map is full; keep what fits */
	}
	return 0;
}

/* "containerd://<id>" → runtime "containerd", id "<id>". A string with no
 * plausible scheme is all id; an empty one (a container not yet created)
 * leaves both NULL. Returns 0 or -ENOMEM. */
static int split_container_id(const char *s, struct vg_pod_container *c)
{
	const char *sep = strstr(s, "://");
	size_t n = sep ? (size_t)(sep - s) : 0;

	if (sep && n > 0 && n <= RUNTIME_SCHEME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789+.-") == n) {
		if (sep[3] == '\0')
			return 0;
		c->runtime = strndup(s, n);
		c->id = strdup(sep + 3);
		if (!c->runtime || !c->id)
			goto nomem;
		return 0;
	}
	if (s[0] == '\0')
		return 0;
	c->id = strdup(s);
	return c->id ? 0 : -ENOMEM;
nomem:
	free(c->id);
	free(c->runtime);
	c->id = c->runtime = NULL;
	return -ENOMEM;
}

/* Appends the usable entries of a container status array to @p. */
static int parse_statuses(const json_t *arr, struct vg_pod_info *p)
{
	size_t i;
	json_t *st;

	if (!json_is_array(arr))
		return 0;
	json_array_foreach(arr, i, st) {
		struct vg_pod_container c = { 0 };
		const json_t *cid;
		int r;

		if (p->n_containers >= VG_POD_MAX_CONTAINERS)
			return 0;
		if (!json_is_object(st))
			continue;
		r = json_dup_str(json_object_get(st, "name"), VG_KV_MAX_KEY,
				 &c.name);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		cid = json_object_get(st, "containerID");
		if (json_is_string(cid) &&
		    json_string_length(cid) <= VG_KV_MAX_KEY &&
		    strlen(json_string_value(cid)) == json_string_length(cid)) {
			r = split_container_id(json_string_value(cid), &c);
			if (r < 0) {
				container_release(&c);
				return r;
			}
		}
		p->containers[p->n_containers++] = c;
	}
	return 0;
}

static size_t array_len(const json_t *arr)
{
	return json_is_array(arr) ? json_array_size(arr) : 0;
}

/* One item of the list into @p. Returns 0, -EINVAL (skip the pod), or
 * -ENOMEM. */
static int parse_pod(const json_t *item, struct vg_pod_info *p)
{
	const json_t *md, *status;
	static const char *const status_keys[] = {
		"containerStatuses",
		"initContainerStatuses",
		"ephemeralContainerStatuses",
	};
	size_t n = 0;
	int r;

	if (!json_is_object(item))
		return -EINVAL;
	md = json_object_get(item, "metadata");
	if (!json_is_object(md))
		return -EINVAL;
	r = json_dup_str(json_object_get(md, "uid"), VG_KV_MAX_KEY, &p->uid);
	if (r < 0)
		return r;
	r = json_dup_str(json_object_get(md, "namespace"), VG_KV_MAX_KEY,
			 &p->ns);
	if (r < 0)
		return r;
	r = json_dup_str(json_object_get(md, "name"), VG_KV_MAX_KEY, &p->name);
	if (r < 0)
		return r;
	r = json_to_kv(json_object_get(md, "labels"), &p->labels);
	if (r < 0)
		return r;
	r = json_to_kv(json_object_get(md, "annotations"), &p->annotations);
	if (r < 0)
		return r;

	status = json_object_get(item, "status");
	if (!json_is_object(status))
		return 0;
	r = json_dup_str(json_object_get(status, "qosClass"), VG_KV_MAX_KEY,
			 &p->qos_class);
	if (r == -ENOMEM)
		return r;
	for (size_t i = 0; i < VG_ARRAY_SIZE(status_keys); i++) {
		size_t m = array_len(json_object_get(status, status_keys[i]));

		n += m < VG_POD_MAX_CONTAINERS ? m : VG_POD_MAX_CONTAINERS;
	}
	if (n > VG_POD_MAX_CONTAINERS)
		n = VG_POD_MAX_CONTAINERS;
	if (n == 0)
		return 0;
	p->containers = calloc(n, sizeof(*p->containers));
	if (!p->containers)
		return -ENOMEM;
	for (size_t i = 0; i < VG_ARRAY_SIZE(status_keys); i++) {
		r = parse_statuses(json_object_get(status, status_keys[i]), p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int podlist_from_json(const json_t *root, struct vg_pod_list *ret,
			     char *err, size_t errsz)
{
	struct vg_pod_list out = { 0 };
	const json_t *kind, *items, *item;
	size_t i, n;

	if (!json_is_object(root)) {
		vg_set_err(err, errsz, "PodList is not a JSON object");
		return -EINVAL;
	}
	kind = json_object_get(root, "kind");
	if (kind && (!json_is_string(kind) ||
		     strcmp(json_string_value(kind), "PodList") != 0)) {
		vg_set_err(err, errsz, "not a PodList (\"kind\" is %s)",
			json_is_string(kind) ? "another kind" : "not a string");
		return -EINVAL;
	}
	items = json_object_get(root, "items");
	if (json_is_null(items)) {
		/* Go writes an empty slice as null: a node with no pods */
		*ret = out;
		return 0;
	}
	if (!json_is_array(items)) {
		vg_set_err(err, errsz, "PodList has no \"items\" array");
		return -EINVAL;
	}
	n = json_array_size(items);
	if (n > VG_PODLIST_MAX_PODS) {
		vg_set_err(err, errsz, "PodList has %zu items, more than %d", n,
			VG_PODLIST_MAX_PODS);
		return -E2BIG;
	}
	if (n) {
		out.pods = calloc(n, sizeof(*out.pods));
		if (!out.pods)
			goto nomem;
	}
	json_array_foreach(items, i, item) {
		struct vg_pod_info *p = &out.pods[out.n_pods];
		int r = parse_pod(item, p);

		if (r == -ENOMEM) {
			vg_pod_info_release(p);
			goto nomem;
		}
		if (r < 0) {
			vg_pod_info_release(p);
			continue;
		}
		out.n_pods++;
	}
	*ret = out;
	return 0;
nomem:
	vg_pod_list_release(&out);
	vg_set_err(err, errsz, "out of memory parsing the PodList");
	return -ENOMEM;
}

int vg_kubelet_parse_podlist(const char *buf, size_t len,
			     struct vg_pod_list *ret, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root;
	int r;

	if (!buf || !ret) {
		vg_set_err(err, errsz, "no PodList given");
		return -EINVAL;
	}
	/* jansson refuses NULs in strings and nesting past its depth limit
	 * on its own; nothing here recurses on the input. */
	root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		vg_set_err(err, errsz, "invalid JSON: %s (line %d, column %d)",
			jerr.text, jerr.line, jerr.column);
		return json_error_code(&jerr) == json_error_out_of_memory
			       ? -ENOMEM
			       : -EINVAL;
	}
	r = podlist_from_json(root, ret, err, errsz);
	json_decref(root);
	return r;
}

/* ---- the client -------------------------------------------------------- */

struct vg_kubelet {
	pthread_mutex_t lock;
	char *pods_url; /* base url + "/pods" */
	char *token_file;
	char *ca_file;
	bool https;
	uint32_t timeout_ms;
	uint32_t min_refresh_ms;
	size_t max_body;

	struct vg_pod_list list;
	bool fetched;          /* a fetch was tried at least once */
	uint64_t last_fetch_ms; /* monotonic, when the last fetch ended */
	int last_r;            /* its result, 0 or -errno */
	char last_err[256];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool url_ok(const char *url, bool *ret_https)
{
	const char *rest;

	if (vg_startswith(url, "https://")) {
		*ret_https = true;
		rest = url + strlen("https://");
	} else if (vg_startswith(url, "http://")) {
		*ret_https = false;
		rest = url + strlen("http://");
	} else
		return false;
	if (rest[0] == '\0' || rest[0] == '/')
		return false;
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '?' ||
		    *c == '#')
			return false;
	return strlen(url) <= 4096;
}

struct vg_kubelet *vg_kubelet_new(const struct vg_kubelet_cfg *cfg)
{
	struct vg_kubelet *k;
	bool https;
	size_t n;

	if (!cfg || !cfg->url || !url_ok(cfg->url, &https) ||
	    (cfg->token_file && !https)) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		goto nomem;
	if (pthread_mutex_init(&k->lock, NULL) != 0) {
		free(k);
		goto nomem;
	}
	k->https = https;
	n = strlen(cfg->url);
	while (n > 0 && cfg->url[n - 1] == '/')
		n--;
	if (asprintf(&k->pods_url, "%.*s/pods", (int)n, cfg->url) < 0) {
		k->pods_url = NULL;
		goto nomem_k;
	}
	if (cfg->token_file && !(k->token_file = strdup(cfg->token_file)))
		goto nomem_k;
	if (cfg->ca_file && !(k->ca_file = strdup(cfg->ca_file)))
		goto nomem_k;
	k->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	/* libcurl takes a long, 32 bits on some targets */
	if (k->timeout_ms > INT32_MAX)
		k->timeout_ms = INT32_MAX;
	k->min_refresh_ms = cfg->min_refresh_ms ? cfg->min_refresh_ms
						: DEFAULT_MIN_REFRESH_MS;
	k->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
	/* body_write() counts to max_body + 1 */
	if (k->max_body > SIZE_MAX / 2)
		k->max_body = SIZE_MAX / 2;
	return k;

nomem_k:
	pthread_mutex_destroy(&k->lock);
	free(k->pods_url);
	free(k->token_file);
	free(k->ca_file);
	free(k);
nomem:
	errno = ENOMEM;
	return NULL;
}

void vg_kubelet_free(struct vg_kubelet *k)
{
	if (!k)
		return;
	vg_pod_list_release(&k->list);
	pthread_mutex_destroy(&k->lock);
	free(k->pods_url);
	free(k->token_file);
	free(k->ca_file);
	free(k);
}

/* Reads the token afresh (kubelet-rotated tokens change on disk) and
 * returns the whole header line. Anything wrong with it is -EACCES: the
 * request could not be authenticated. */
static int token_header(const char *path, char **ret, char *err, size_t errsz)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool truncated;
	char *hdr;
	int r;

	r = vg_read_file_at(AT_FDCWD, path, VG_KUBELET_TOKEN_MAX, &buf, &len,
			    &truncated);
	if (r < 0) {
		vg_set_err(err, errsz, "token file %s: %s", path, strerror(-r));
		return -EACCES;
	}
	if (truncated) {
		explicit_bzero(buf, len);
		vg_set_err(err, errsz, "token file %s is larger than %d bytes",
			path, VG_KUBELET_TOKEN_MAX);
		return -EACCES;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	/* A token is printable ASCII without spaces; anything else could
	 * split the header and smuggle another one in. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] <= ' ' ||
		    (unsigned char)buf[i] >= 0x7f) {
			explicit_bzero(buf, len);
			vg_set_err(err, errsz,
				"token file %s holds control characters or spaces",
				path);
			return -EACCES;
		}
	if (len == 0) {
		vg_set_err(err, errsz, "token file %s is empty", path);
		return -EACCES;
	}
	r = asprintf(&hdr, "Authorization: Bearer %s", buf);
	explicit_bzero(buf, len);
	if (r < 0) {
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	*ret = hdr;
	return 0;
}

struct body {
	char *buf;
	size_t len, cap, max;
	bool too_big, nomem;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n, need;

	if (__builtin_mul_overflow(size, nmemb, &n) ||
	    __builtin_add_overflow(b->len, n, &need) || need > b->max) {
		b->too_big = true;
		return 0; /* anything but n aborts the transfer */
	}
	if (need + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64 * 1024;
		char *nbuf;

		while (ncap < need + 1)
			ncap = ncap > (b->max + 1) / 2 ? b->max + 1 : ncap * 2;
		nbuf = realloc(b->buf, ncap);
		if (!nbuf) {
			b->nomem = true;
			return 0;
		}
		b->buf = nbuf;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len = need;
	b->buf[b->len] = '\0';
	return n;
}

/* The first line of an error body, printable and short, for err. */
static void body_snippet(const struct body *b, char *out, size_t outsz)
{
	size_t j = 0;

	for (size_t i = 0; i < b->len && j + 1 < outsz; i++) {
		unsigned char c = (unsigned char)b->buf[i];

		if (c == '\n' || c == '\r')
			break;
		out[j++] = (c < ' ' || c >= 0x7f) ? '?' : (char)c;
	}
	out[j] = '\0';
}

static int curl_errno(const struct vg_curl *cu, CURL *h, CURLcode rc,
		      const struct body *b)
{
	long os_err = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		cu->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_err);
		if (os_err == EHOSTUNREACH || os_err == ENETUNREACH)
			return -(int)os_err;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	case CURLE_WRITE_ERROR:
		if (b->nomem)
			return -ENOMEM;
		return b->too_big ? -E2BIG : -EIO;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return -ECONNRESET;
	default:
		/* TLS failures, bad peer certificate, a garbled answer */
		return -EPROTO;
	}
}

#define SETOPT(h, opt, val)                                                    \
	do {                                                                   \
		if (cu->easy_setopt((h), (opt), (val)) != CURLE_OK) {             \
			vg_set_err(err, errsz, "libcurl refused " #opt);          \
			r = -EPROTO;                                           \
			goto out;                                              \
		}                                                              \
	} while (0)

/* GET /pods into a new list. Returns 0 or -errno, err set. */
static int fetch(struct vg_kubelet *k, struct vg_pod_list *ret, char *err,
		 size_t errsz)
{
	const struct vg_curl *cu = vg_curl();
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *t;
	struct body b = { .max = k->max_body };
	char *auth = NULL;
	long status = 0;
	CURLcode rc;
	CURL *h;
	int r;

	if (!cu) {
		vg_set_err(err, errsz, "%s", vg_curl_error());
		return -ELIBACC;
	}
	h = cu->easy_init();
	if (!h) {
		vg_set_err(err, errsz, "libcurl could not start a request");
		return -ENOMEM;
	}
	if (k->token_file) {
		r = token_header(k->token_file, &auth, err, errsz);
		if (r < 0)
			goto out;
		t = cu->slist_append(hdrs, auth);
		if (!t)
			goto nomem;
		hdrs = t;
	}
	t = cu->slist_append(hdrs, "Accept: application/json");
	if (!t)
		goto nomem;
	hdrs = t;

	SETOPT(h, CURLOPT_URL, k->pods_url);
	SETOPT(h, CURLOPT_ERRORBUFFER, curl_err);
	/* Timeouts by alarm() would touch the caller's signals; with the
	 * threaded resolver they are bounded without them. */
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, (long)k->timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* "" turns off proxies from the environment too: the kubelet is
	 * asked directly, and the token goes nowhere else. */
	SETOPT(h, CURLOPT_PROXY, "");
	SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (k->ca_file)
		SETOPT(h, CURLOPT_CAINFO, k->ca_file);
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(h, CURLOPT_USERAGENT, "vigil");
	/* Refuses an announced oversized body before any of it arrives;
	 * body_write() caps the rest. */
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)k->max_body);
	SETOPT(h, CURLOPT_WRITEFUNCTION, body_write);
	SETOPT(h, CURLOPT_WRITEDATA, &b);

	rc = cu->easy_perform(h);
	if (rc != CURLE_OK) {
		r = curl_errno(cu, h, rc, &b);
		if (r == -E2BIG)
			vg_set_err(err, errsz, "kubelet answer is larger than %zu bytes",
				k->max_body);
		else if (r == -ENOMEM)
			vg_set_err(err, errsz, "out of memory reading the kubelet answer");
		else
			vg_set_err(err, errsz, "kubelet request failed: %s",
				curl_err[0] ? curl_err : cu->easy_strerror(rc));
		goto out;
	}
	cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char snip[96];

		body_snippet(&b, snip, sizeof(snip));
		vg_set_err(err, errsz, "kubelet answered HTTP %ld%s%s", status,
			snip[0] ? ": " : "", snip);
		r = (status == 401 || status == 403) ? -EACCES : -EPROTO;
		goto out;
	}
	r = vg_kubelet_parse_podlist(b.buf ? b.buf : "", b.len, ret, err, errsz);
	if (r == -EINVAL)
		r = -EPROTO;
	goto out;

nomem:
	vg_set_err(err, errsz, "out of memory");
	r = -ENOMEM;
out:
	cu->easy_cleanup(h);
	for (t = hdrs; t; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	cu->slist_free_all(hdrs);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(b.buf);
	return r;
}

static const struct vg_pod_info *list_find(const struct vg_pod_list *l,
					   const char *uid)
{
	for (size_t i = 0; i < l->n_pods; i++)
		if (strcmp(l->pods[i].uid, uid) == 0)
			return &l->pods[i];
	return NULL;
}

/* Copies the cached pod @uid into @ret: 0, -ENOENT, or -ENOMEM. */
static int lookup(struct vg_kubelet *k, const char *uid,
		  struct vg_pod_info *ret, char *err, size_t errsz)
{
	const struct vg_pod_info *p = list_find(&k->list, uid);

	if (!p)
		return -ENOENT;
	if (vg_pod_info_copy(p, ret) < 0) {
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int vg_kubelet_pod(struct vg_kubelet *k, const char *uid,
		   struct vg_pod_info *ret, char *err, size_t errsz)
{
	struct vg_pod_list fresh = { 0 };
	int r;

	if (!k || !uid || !ret) {
		vg_set_err(err, errsz, "invalid arguments");
		return -EINVAL;
	}
	pthread_mutex_lock(&k->lock);
	r = lookup(k, uid, ret, err, errsz);
	if (r != -ENOENT)
		goto out;

	if (k->fetched && now_ms() - k->last_fetch_ms < k->min_refresh_ms) {
		if (k->last_r < 0) {
			vg_set_err(err, errsz, "not asking the kubelet again yet: %s",
				k->last_err);
			r = -EAGAIN;
		} else {
			vg_set_err(err, errsz, "kubelet has no pod %s", uid);
			r = -ENOENT;
		}
		goto out;
	}

	k->last_err[0] = '\0';
	r = fetch(k, &fresh, k->last_err, sizeof(k->last_err));
	k->fetched = true;
	k->last_fetch_ms = now_ms();
	k->last_r = r;
	if (r < 0) {
		/* Keep the old list: its pods are still what they were. */
		vg_set_err(err, errsz, "%s", k->last_err);
		goto out;
	}
	vg_pod_list_release(&k->list);
	k->list = fresh;
	r = lookup(k, uid, ret, err, errsz);
	if (r == -ENOENT)
		vg_set_err(err, errsz, "kubelet has no pod %s", uid);
out:
	pthread_mutex_unlock(&k->lock);
	return r;
}
