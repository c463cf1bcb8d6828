/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define BYTE_ORDER_MARK 0x01020304u
#define WALK_MAX 65536
#define WALK_DEPTH 32

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int vg_rec_open(struct vg_rec_writer *w, const char *path,
		const struct vg_rec_header *h, char *err, size_t errsz)
{
	struct vg_rec_header hh = *h;
	int fd;

	*w = (struct vg_rec_writer){ 0 };
	memcpy(hh.magic, VG_REC_MAGIC, sizeof(hh.magic));
	hh.version = VG_REC_VERSION;
	hh.header_size = sizeof(hh);
	hh.byte_order = BYTE_ORDER_MARK;
	hh.events_version = VG_EVENTS_VERSION;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		int r = -errno;

		vg_set_err(err, errsz, "%s: %s", path, strerror(errno));
		return r;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		close(fd);
		vg_set_err(err, errsz, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	setvbuf(w->f, NULL, _IOFBF, 1u << 20);
	if (fwrite(&hh, sizeof(hh), 1, w->f) != 1) {
		vg_set_err(err, errsz, "%s: %s", path, strerror(errno));
		fclose(w->f);
		w->f = NULL;
		return -EIO;
	}
	w->bytes = sizeof(hh);
	return 0;
}

int vg_rec_write(struct vg_rec_writer *w, uint32_t kind, const void *body,
		 size_t len)
{
	static const uint8_t zeros[8];
	struct vg_rec_entry e = {
		.kind = kind,
		.len = (uint32_t)len,
		.mono_ns = vg_clock_ns(CLOCK_MONOTONIC),
	};
	size_t pad = pad8(len) - len;

	if (!w->f || w->error)
		return w->error;
	if (len > VG_REC_ENTRY_MAX)
		return 0; /* never written by the sensor; not recordable */
	if (fwrite(&e, sizeof(e), 1, w->f) != 1 ||
	    (len && fwrite(body, len, 1, w->f) != 1) ||
	    (pad && fwrite(zeros, pad, 1, w->f) != 1)) {
		w->error = errno ? -errno : -EIO;
		return w->error;
	}
	w->entries++;
	w->bytes += sizeof(e) + len + pad;
	return 0;
}

/* Depth-first: each directory's id (its inode: cgroup v2 ids are) and
 * path relative to the mount. */
static int walk(struct vg_rec_writer *w, int dfd, char *path, size_t plen,
		int depth, size_t *n)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > WALK_DEPTH)
		return 0;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) && *n < WALK_MAX && !r) {
		size_t nl = strlen(de->d_name);
		struct stat st;
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    plen + 1 + nl + 1 > 4096)
			continue;
		cfd = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cfd < 0 || fstat(cfd, &st) < 0) {
			if (cfd >= 0)
				close(cfd);
			continue;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, nl + 1);
		uint8_t body[8 + 4096];
		uint64_t id = (uint64_t)st.st_ino;

		memcpy(body, &id, 8);
		memcpy(body + 8, path, plen + 1 + nl + 1);
		r = vg_rec_write(w, VG_REC_CGROUP, body, 8 + plen + 1 + nl + 1);
		(*n)++;
		if (!r)
			r = walk(w, cfd, path, plen + 1 + nl, depth + 1, n);
		else
			close(cfd);
		path[plen] = '\0';
	}
	closedir(d);
	return r;
}

int vg_rec_write_cgroups(struct vg_rec_writer *w, int cg2_fd)
{
	char path[4096] = "";
	uint8_t body[8 + 2];
	struct stat st;
	size_t n = 0;
	int dfd, r;

	if (cg2_fd < 0)
		return 0;
	dfd = openat(cg2_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	/* the root first: where every process of the host is, on a hybrid
	 * or v1 host */
	if (fstat(dfd, &st) == 0) {
		uint64_t id = (uint64_t)st.st_ino;

		memcpy(body, &id, 8);
		memcpy(body + 8, "/", 2);
		r = vg_rec_write(w, VG_REC_CGROUP, body, sizeof(body));
		if (r < 0) {
			close(dfd);
			return r;
		}
	}
	return walk(w, dfd, path, 0, 0, &n);
}

void vg_rec_read_close(struct vg_rec_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	*r = (struct vg_rec_reader){ 0 };
}

int vg_rec_read_open(struct vg_rec_reader *r, const char *path, char *err,
		     size_t errsz)
{
	*r = (struct vg_rec_reader){ 0 };
	r->f = fopen(path, "re");
	if (!r->f) {
		int e = -errno;

		vg_set_err(err, errsz, "%s: %s", path, strerror(errno));
		return e;
	}
	if (fread(&r->h, sizeof(r->h), 1, r->f) != 1 ||
	    memcmp(r->h.magic, VG_REC_MAGIC, sizeof(r->h.magic)) != 0) {
		vg_set_err(err, errsz, "%s: not a vigil recording", path);
		goto bad;
	}
	if (r->h.byte_order != BYTE_ORDER_MARK) {
		vg_set_err(err, errsz, "%s: recorded on a host of the other byte order",
			   path);
		goto bad;
	}
	if (r->h.version != VG_REC_VERSION || r->h.header_size != sizeof(r->h) ||
	    r->h.events_version != VG_EVENTS_VERSION) {
		vg_set_err(err, errsz, "%s: recording version %u (records %u); this "
			   "vigil reads version %u (records %u)", path, r->h.version,
			   r->h.events_version, VG_REC_VERSION, VG_EVENTS_VERSION);
		goto bad;
	}
	/* the strings are the writer's: they must end inside their fields */
	r->h.kernel[sizeof(r->h.kernel) - 1] = '\0';
	r->h.machine[sizeof(r->h.machine) - 1] = '\0';
	r->h.vigil_version[sizeof(r->h.vigil_version) - 1] = '\0';
	r->h.boot_id[sizeof(r->h.boot_id) - 1] = '\0';
	r->h.host_root[sizeof(r->h.host_root) - 1] = '\0';
	r->buf = malloc(VG_REC_ENTRY_MAX + 8);
	if (!r->buf) {
		vg_set_err(err, errsz, "out of memory");
		vg_rec_read_close(r);
		return -ENOMEM;
	}
	return 0;
bad:
	vg_rec_read_close(r);
	return -EBADMSG;
}

int vg_rec_read(struct vg_rec_reader *r, struct vg_rec_entry *ret,
		const void **ret_body)
{
	struct vg_rec_entry e;
	size_t n;

	if (r->ended)
		return 0;
	n = fread(&e, 1, sizeof(e), r->f);
	if (n == 0)
		return 0;
	if (n != sizeof(e) || e.len > VG_REC_ENTRY_MAX)
		return -EBADMSG;
	n = pad8(e.len);
	if (n && fread(r->buf, n, 1, r->f) != 1)
		return -EBADMSG;
	r->entries++;
	if (e.kind == VG_REC_END)
		r->ended = true;
	*ret = e;
	*ret_body = r->buf;
	return 1;
}

int vg_rec_close(struct vg_rec_writer *w)
{
	int r;

	if (!w->f)
		return w->error;
	vg_rec_write(w, VG_REC_END, NULL, 0);
	r = w->error;
	if (fclose(w->f) != 0 && !r)
		r = -errno;
	w->f = NULL;
	return r;
}
