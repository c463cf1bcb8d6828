// SPDX-License-Identifier: LGPL-2.1-or-later
#include "base/curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "base/util.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct vg_curl api;
static const struct vg_curl *loaded;
static char why[256] = "libcurl was not loaded";

/* The sonames of libcurl 7 and 8: the OpenSSL build, then the GnuTLS
 * one Debian ships under its own name. */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

#define SYM(fn, name)                                                          \
	do {                                                                   \
		*(void **)&(fn) = dlsym(h, name);                              \
		if (!(fn)) {                                                   \
			snprintf(why, sizeof(why), "%s lacks %s", so, name);   \
			goto fail;                                             \
		}                                                              \
	} while (0)

static void load(void)
{
	CURLcode (*global_init)(long flags);
	const char *so = NULL;
	void *h = NULL;

	for (size_t i = 0; i < VG_ARRAY_SIZE(sonames) && !h; i++) {
		so = sonames[i];
		h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h) {
		const char *e = dlerror();

		snprintf(why, sizeof(why), "libcurl could not be loaded: %s",
			 e ? e : "not found");
		return;
	}
	SYM(api.easy_init, "curl_easy_init");
	SYM(api.easy_setopt, "curl_easy_setopt");
	SYM(api.easy_perform, "curl_easy_perform");
	SYM(api.easy_getinfo, "curl_easy_getinfo");
	SYM(api.easy_cleanup, "curl_easy_cleanup");
	SYM(api.easy_strerror, "curl_easy_strerror");
	SYM(api.slist_append, "curl_slist_append");
	SYM(api.slist_free_all, "curl_slist_free_all");
	SYM(global_init, "curl_global_init");
	/* Once, here, before any thread can make a handle: curl_easy_init()
	 * would otherwise do it unlocked. Never undone: the library stays. */
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof(why), "libcurl could not initialise");
		goto fail;
	}
	loaded = &api;
	return;
fail:
	dlclose(h);
}

const struct vg_curl *vg_curl(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *vg_curl_error(void)
{
	pthread_once(&once, load);
	return loaded ? "" : why;
}
