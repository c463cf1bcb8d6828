/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/json.h"
#include "runtime/runtime.h"
#include "base/util.h"

void vg_runtime_cfg_defaults(struct vg_runtime_cfg *cfg)
{
	*cfg = (struct vg_runtime_cfg){
		.docker_root = "var/lib/docker",
		.docker_socket = "run/docker.sock",
		.storage_root = "var/lib/containers/storage",
		.storage_run = "run/containers/storage",
		.api_timeout_ms = 1000,
	};
}

void vg_container_meta_release(struct vg_container_meta *m)
{
	if (!m)
		return;
	free(m->ctr_namespace);
	free(m->name);
	free(m->image);
	free(m->image_id);
	vg_kv_release(&m->labels);
	free(m->state);
	free(m->rootfs);
	free(m->upperdir);
	free(m->source);
	memset(m, 0, sizeof(*m));
}

int vg_set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s && !(c = strdup(s)))
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

void vg_meta_missing(struct vg_container_meta *m, bool retry,
		     const char *fmt, ...)
{
	size_t used = strlen(m->missing);
	va_list ap;

	m->incomplete = true;
	m->retry |= retry;
	/* Several reasons are joined; the first ones matter most. */
	if (used && used + 2 < sizeof(m->missing)) {
		memcpy(m->missing + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= sizeof(m->missing))
		return;
	va_start(ap, fmt);
	vsnprintf(m->missing + used, sizeof(m->missing) - used, fmt, ap);
	va_end(ap);
}

static int digits(const char **s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*ret = v;
	return 0;
}

uint64_t vg_parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, off = 0;
	uint64_t frac = 0;
	time_t t;

	if (!s || digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't' &&
						 *s != ' '))
		return 0;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &se))
		return 0;
	if (*s == '.') {
		int n = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, n++)
			if (n < 9)
				frac = frac * 10 + (uint64_t)(*s - '0');
		if (n == 0)
			return 0;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;

		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return 0;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return 0;
	}
	if (*s || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || se > 60)
		return 0; /* also Go's zero time, 0001-01-01 */
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1 || t - off < 0)
		return 0;
	return (uint64_t)(t - off) * 1000000000ull + frac;
}

char *vg_mountinfo_overlay_upper(char *buf, const char *mountpoint)
{
	char *result = NULL;

	for (char *line = buf, *next; line && *line; line = next) {
		char *f[12], *save = NULL, *sep;
		int n = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* id parent maj:min root mountpoint opts [optional...] -
		 * fstype source superopts */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (char *t = strtok_r(line, " ", &save); t && n < 5;
		     t = strtok_r(NULL, " ", &save))
			f[n++] = t;
		if (n < 5)
			continue;
		vg_unescape_octal(f[4]);
		if (strcmp(f[4], mountpoint) != 0)
			continue;
		save = NULL;
		n = 0;
		for (char *t = strtok_r(sep + 3, " ", &save); t && n < 3;
		     t = strtok_r(NULL, " ", &save))
			f[n++] = t;
		if (n < 3 || strcmp(f[0], "overlay") != 0)
			continue;
		/* the last mount on a point is the one that is seen */
		for (char *o = strtok_r(f[2], ",", &save); o;
		     o = strtok_r(NULL, ",", &save)) {
			if (vg_startswith(o, "upperdir=")) {
				vg_unescape_octal(o);
				free(result);
				result = strdup(o + strlen("upperdir="));
			}
		}
	}
	return result;
}

char *vg_overlay_upper_of(int root_fd, const char *mountpoint)
{
	/* The host's mount table: PID 1's, under the host root (vigil may
	 * itself run in a container with the host at /host). */
	static const char *const tables[] = { "proc/1/mountinfo",
					      "proc/self/mountinfo" };
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool cut = false;

	for (size_t i = 0; i < VG_ARRAY_SIZE(tables) && !buf; i++)
		if (vg_read_file_at(root_fd, tables[i], VG_MOUNTINFO_MAX, &buf,
				    &len, &cut) < 0)
			buf = NULL;
	return buf ? vg_mountinfo_overlay_upper(buf, mountpoint) : NULL;
}

json_t *vg_json_parse(const char *buf, size_t len,
		      struct vg_container_meta *m, const char *what)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr);

	if (!root) {
		vg_meta_missing(m, false, "%s is malformed (line %d: %s)", what,
				jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		vg_meta_missing(m, false, "%s is not a JSON object", what);
		return NULL;
	}
	return root;
}

json_t *vg_json_load_at(int root_fd, const char *path, size_t max,
			struct vg_container_meta *m, const char *what)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool cut = false;
	int r;

	r = vg_read_state_at(root_fd, path, max, &buf, &len, &cut);
	if (r == -ENOENT) {
		vg_meta_missing(m, true, "%s not written yet", what);
		return NULL;
	}
	if (r < 0) {
		vg_meta_missing(m, false, "%s: %s", what, vg_strerror(-r));
		return NULL;
	}
	if (cut) {
		vg_meta_missing(m, false, "%s is larger than %zu MiB, not read",
				what, max >> 20);
		return NULL;
	}
	return vg_json_parse(buf, len, m, what);
}

const char *vg_json_str(const json_t *obj, const char *key)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int vg_json_to_kv(const json_t *obj, struct vg_kv *kv)
{
	const char *key;
	json_t *v;
	int skipped = 0;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach((json_t *)obj, key, v) {
		int r;

		if (!json_is_string(v)) {
			skipped++;
			continue;
		}
		r = vg_kv_set(kv, key, json_string_value(v));
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			skipped++;
	}
	return skipped;
}

void vg_read_init_pid(int root_fd, const char *path,
		      struct vg_container_meta *ret)
{
	char buf[32], proc[32];
	int pid;

	if (vg_read_state_small_at(root_fd, path, buf, sizeof(buf)) <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (vg_parse_pid(buf, &pid) < 0 || pid <= 0)
		return;
	if (!ret->init_pid)
		ret->init_pid = pid;
	snprintf(proc, sizeof(proc), "proc/%d", pid);
	if (!ret->state)
		vg_set_str(&ret->state, faccessat(root_fd, proc, F_OK, 0) == 0
					       ? "running" : "stopped");
}

void vg_image_ref_split(const char *ref, struct vg_image_ref *ret)
{
	const char *at, *slash, *colon;
	size_t end;

	*ret = (struct vg_image_ref){ 0 };
	if (!ref)
		return;
	end = strlen(ref);
	at = strchr(ref, '@');
	if (at) {
		ret->digest_off = (size_t)(at - ref) + 1;
		ret->digest_len = end - ret->digest_off;
		end = (size_t)(at - ref);
	}
	/* a tag's ':' comes after the last '/': one before it is a
	 * registry's port */
	slash = memrchr(ref, '/', end);
	colon = memrchr(slash ? slash + 1 : ref, ':',
			end - (slash ? (size_t)(slash + 1 - ref) : 0));
	if (colon) {
		ret->tag_off = (size_t)(colon - ref) + 1;
		ret->tag_len = end - ret->tag_off;
		end = (size_t)(colon - ref);
	}
	ret->repo_len = end;
}
