/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_CURL_H
#define VG_BASE_CURL_H

#include <curl/curl.h>

/*
 * libcurl, loaded on first use. Only the Docker Engine API fallback and
 * the kubelet client speak HTTP; linking libcurl would make every vigil
 * start map it and its ~30 dependencies (TLS, Kerberos, LDAP...), about
 * 3 ms per run, a tenth of what `vigil pid --all` takes.
 */
struct vg_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* libcurl's functions, loaded and globally initialised once (thread-safe;
 * it stays loaded for the life of the process), or NULL when it cannot
 * be loaded; then vg_curl_error() says why. */
const struct vg_curl *vg_curl(void);
const char *vg_curl_error(void);

#endif
