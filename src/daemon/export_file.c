/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file export: JSON lines for log shippers, rotated by size
 * (FILE.1 the newest rotated, FILE.N the oldest kept), never a line
 * split across two files. Writes are to a local file and done in line:
 * a write error loses that record, counted, with the reason in the
 * state, and the file is tried again a second later.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/export.h"

#define FILE_MAX_SIZE_DEFAULT (100ull << 20)
#define FILE_KEEP_DEFAULT 5
#define FILE_KEEP_MAX 1000
#define FILE_RETRY_MS 1000

enum fsync_policy { FSYNC_NEVER, FSYNC_ROTATE, FSYNC_INTERVAL, FSYNC_EVERY };

struct file_export {
	char *path;
	uint64_t max_size;
	unsigned keep;
	enum fsync_policy fsync;
	unsigned interval_ms;
	int fd;
	uint64_t size;        /* of the open file */
	bool dirty;           /* written since the last fsync */
	uint64_t retry_ns;    /* when to try opening again after an error */
	uint64_t next_sync_ns;
	uint64_t rotations;
	char last_error[64];  /* kept in the state once writing again */
	struct vg_export_kind_stats st;
};

static void set_down(struct file_export *f, const char *what, int err)
{
	snprintf(f->st.state, sizeof(f->st.state), "down: %s %s: %s", what, f->path,
		 strerror(err));
	snprintf(f->last_error, sizeof(f->last_error), "%s: %s", what, strerror(err));
	f->st.connected = false;
}

static int file_open(const struct vg_export_conf *c, void **ret_state,
		     uint64_t *ret_observe, char *err, size_t errsz)
{
	struct file_export *f;

	if (c->target[0] != '/') {
		vg_set_err(err, errsz, "export %s: a file export's target is an "
			   "absolute path, not '%s'", c->name, c->target);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(c->target))) {
		free(f);
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	f->fd = -1;
	f->max_size = FILE_MAX_SIZE_DEFAULT;
	f->keep = FILE_KEEP_DEFAULT;
	f->fsync = FSYNC_ROTATE;
	for (size_t i = 0; i < c->n_kv; i++) {
		const struct vg_export_kv *kv = &c->kv[i];
		uint64_t v;

		if (strcmp(kv->key, "max-size") == 0) {
			if (vg_export_parse_bytes(kv->value, &v) < 0 || v < 1024 ||
			    v > (1ull << 40)) {
				vg_set_err(err, errsz, "%s: export %s: 'max-size' takes bytes "
					   "from 1k to 1024G, not '%s'", kv->where, c->name,
					   kv->value);
				goto fail;
			}
			f->max_size = v;
		} else if (strcmp(kv->key, "keep") == 0) {
			if (vg_parse_u64(kv->value, &v) < 0 || v > FILE_KEEP_MAX) {
				vg_set_err(err, errsz, "%s: export %s: 'keep' takes 0 to %d "
					   "rotated files, not '%s'", kv->where, c->name,
					   FILE_KEEP_MAX, kv->value);
				goto fail;
			}
			f->keep = (unsigned)v;
		} else if (strcmp(kv->key, "fsync") == 0) {
			if (strcmp(kv->value, "never") == 0) {
				f->fsync = FSYNC_NEVER;
			} else if (strcmp(kv->value, "rotate") == 0) {
				f->fsync = FSYNC_ROTATE;
			} else if (strcmp(kv->value, "every") == 0) {
				f->fsync = FSYNC_EVERY;
			} else if (vg_startswith(kv->value, "interval:") &&
				   vg_parse_u64(kv->value + 9, &v) == 0 && v >= 1 &&
				   v <= 3600000) {
				f->fsync = FSYNC_INTERVAL;
				f->interval_ms = (unsigned)v;
			} else {
				vg_set_err(err, errsz, "%s: export %s: 'fsync' takes never, "
					   "rotate, interval:MS or every, not '%s'", kv->where,
					   c->name, kv->value);
				goto fail;
			}
		} else {
			vg_set_err(err, errsz, "%s: export %s: a file export has no key "
				   "'%s' (it takes max-size, keep, fsync)", kv->where,
				   c->name, kv->key);
			goto fail;
		}
	}
	if (strlen(f->path) + 8 >= PATH_MAX) {
		vg_set_err(err, errsz, "export %s: the path is too long", c->name);
		goto fail;
	}
	snprintf(f->st.state, sizeof(f->st.state), "not opened yet");
	*ret_state = f;
	*ret_observe = 0;
	return 0;
fail:
	free(f->path);
	free(f);
	return -EINVAL;
}

/* Open (or create) the file to append to; 0 or -errno, state set. */
static int open_file(struct file_export *f)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
		     O_NONBLOCK, 0640);
	if (f->fd < 0 || fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = f->fd < 0 ? errno : S_ISREG(st.st_mode) ? errno : EINVAL;

		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		set_down(f, e == EINVAL ? "not a regular file:" : "open", e);
		f->retry_ns = vg_clock_ns(CLOCK_MONOTONIC) + FILE_RETRY_MS * 1000000ull;
		return -e;
	}
	f->size = (uint64_t)st.st_size;
	f->st.connected = true;
	if (f->last_error[0])
		snprintf(f->st.state, sizeof(f->st.state), "writing (the last error: %s)",
			 f->last_error);
	else
		snprintf(f->st.state, sizeof(f->st.state), "writing");
	return 0;
}

static void sync_file(struct file_export *f)
{
	if (f->fd >= 0 && f->dirty)
		fdatasync(f->fd);
	f->dirty = false;
}

/* FILE → FILE.1 → ... → FILE.keep, the oldest beyond it removed. */
static int rotate(struct file_export *f)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (f->fsync == FSYNC_ROTATE || f->fsync == FSYNC_INTERVAL)
		sync_file(f);
	close(f->fd);
	f->fd = -1;
	if (f->keep == 0) {
		if (unlink(f->path) < 0 && errno != ENOENT)
			return -errno;
	} else {
		snprintf(to, sizeof(to), "%s.%u", f->path, f->keep);
		if (unlink(to) < 0 && errno != ENOENT)
			return -errno;
		for (unsigned i = f->keep - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", f->path, i);
			snprintf(to, sizeof(to), "%s.%u", f->path, i + 1);
			if (rename(from, to) < 0 && errno != ENOENT)
				return -errno;
		}
		snprintf(to, sizeof(to), "%s.1", f->path);
		if (rename(f->path, to) < 0 && errno != ENOENT)
			return -errno;
	}
	f->rotations++;
	return open_file(f);
}

static int file_push(void *st, uint64_t seq, const char *rec, size_t len,
		     const struct vg_event *e)
{
	struct file_export *f = st;
	struct iovec iov[2] = { { (void *)rec, len }, { (void *)"\n", 1 } };
	ssize_t n;
	int r;

	(void)seq, (void)e;
	if (f->fd < 0) {
		if (vg_clock_ns(CLOCK_MONOTONIC) < f->retry_ns || open_file(f) < 0) {
			f->st.lost++;
			return 0;
		}
	}
	/* a line alone in a file when it is longer than max-size */
	if (f->size && f->size + len + 1 > f->max_size && (r = rotate(f)) < 0) {
		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
		}
		set_down(f, "rotate", -r);
		f->retry_ns = vg_clock_ns(CLOCK_MONOTONIC) + FILE_RETRY_MS * 1000000ull;
		f->st.lost++;
		return 0;
	}
	if (f->fd < 0) {
		f->st.lost++;
		return 0;
	}
	n = writev(f->fd, iov, 2);
	if (n != (ssize_t)len + 1) {
		int er = n < 0 ? errno : ENOSPC;

		/* a part written: cut it off, the file's lines stay whole */
		if (n > 0 && ftruncate(f->fd, (off_t)f->size) < 0)
			(void)0;
		set_down(f, "write", er);
		close(f->fd);
		f->fd = -1;
		f->retry_ns = vg_clock_ns(CLOCK_MONOTONIC) + FILE_RETRY_MS * 1000000ull;
		f->st.lost++;
		return 0;
	}
	f->size += len + 1;
	f->dirty = true;
	f->st.sent++;
	if (f->fsync == FSYNC_EVERY)
		sync_file(f);
	return 0;
}

static int file_fd(void *st)
{
	(void)st;
	return -1;
}

static int file_run(void *st)
{
	struct file_export *f = st;
	uint64_t now = vg_clock_ns(CLOCK_MONOTONIC);

	if (f->fd < 0 && now >= f->retry_ns)
		open_file(f); /* the state says at once whether it can */
	if (f->fsync != FSYNC_INTERVAL)
		return f->fd < 0 ? FILE_RETRY_MS : -1;
	if (now >= f->next_sync_ns) {
		sync_file(f);
		f->next_sync_ns = now + f->interval_ms * 1000000ull;
	}
	return (int)((f->next_sync_ns - now + 999999) / 1000000);
}

static void file_stats(void *st, struct vg_export_kind_stats *ret)
{
	*ret = ((struct file_export *)st)->st;
}

static void file_close(void *st, unsigned timeout_ms)
{
	struct file_export *f = st;

	(void)timeout_ms;
	if (!f)
		return;
	if (f->fd >= 0) {
		if (f->fsync != FSYNC_NEVER)
			sync_file(f);
		close(f->fd);
	}
	free(f->path);
	free(f);
}

const struct vg_export_kind vg_export_file = {
	.name = "file",
	.open = file_open,
	.push = file_push,
	.fd = file_fd,
	.run = file_run,
	.stats = file_stats,
	.close = file_close,
};
