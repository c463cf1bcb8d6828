/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

struct entry {
	uint32_t id;
	uint32_t name; /* offset in the buffer, NUL-terminated there */
};

/* One file: its text (the names point into it) and its ids, sorted. */
struct db_file {
	const char *path;
	char *buf;
	struct entry *ents;
	size_t n;
	bool loaded;
	uint64_t checked_ns;
	/* what it was when read: a change of any is a new file */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct vg_userdb {
	int root_fd;
	struct db_file f[2]; /* passwd, group */
};

struct vg_userdb *vg_userdb_new(int root_fd)
{
	struct vg_userdb *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->root_fd = root_fd;
	db->f[0].path = "etc/passwd";
	db->f[1].path = "etc/group";
	return db;
}

static void file_clear(struct db_file *f)
{
	free(f->buf);
	free(f->ents);
	f->buf = NULL;
	f->ents = NULL;
	f->n = 0;
}

void vg_userdb_free(struct vg_userdb *db)
{
	if (!db)
		return;
	file_clear(&db->f[0]);
	file_clear(&db->f[1]);
	free(db);
}

static int by_id(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	/* equal ids in the file's order: the first line wins, as in
	 * getpwuid() */
	return x->name < y->name ? -1 : x->name > y->name;
}

/* "name:password:id:..." lines; anything else (comments, "+" NIS
 * entries, a line without a decimal id) is skipped. */
static int by_id_only(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void parse(struct db_file *f, size_t len)
{
	char *p = f->buf, *end = f->buf + len;

	while (p < end && f->n < VG_USERDB_ENTRIES_MAX) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p;
		char *c1, *c2, *c3;
		uint64_t id;

		if (!nl)
			nl = end;
		*nl = '\0';
		p = nl + 1;
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		c3 = c2 ? strchr(c2 + 1, ':') : NULL;
		if (!c3 || c1 == line || line[0] == '+' || line[0] == '-' ||
		    line[0] == '#')
			continue;
		*c1 = '\0';
		*c3 = '\0';
		if (vg_parse_u64(c2 + 1, &id) < 0 || id > UINT32_MAX)
			continue;
		f->ents[f->n++] = (struct entry){ (uint32_t)id,
						  (uint32_t)(line - f->buf) };
	}
	qsort(f->ents, f->n, sizeof(*f->ents), by_id);
}

static void refresh(struct vg_userdb *db, struct db_file *f, uint64_t now)
{
	struct stat st;
	size_t len = 0, max_ents;
	bool cut = false;

	if (f->loaded && now - f->checked_ns < VG_USERDB_RECHECK_NS)
		return;
	f->checked_ns = now;
	if (fstatat(db->root_fd, f->path, &st, 0) < 0) {
		file_clear(f);
		f->loaded = true;
		return;
	}
	if (f->loaded && st.st_dev == f->dev && st.st_ino == f->ino &&
	    st.st_size == f->size && st.st_mtim.tv_sec == f->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == f->mtime.tv_nsec)
		return;
	file_clear(f);
	f->loaded = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	if (vg_read_file_at(db->root_fd, f->path, VG_USERDB_FILE_MAX, &f->buf,
			    &len, &cut) < 0)
		return;
	/* a line holds at least "a:x:0:" */
	max_ents = len / 6 + 1;
	if (max_ents > VG_USERDB_ENTRIES_MAX)
		max_ents = VG_USERDB_ENTRIES_MAX;
	f->ents = calloc(max_ents, sizeof(*f->ents));
	if (!f->ents) {
		file_clear(f);
		/* try again at the next check */
		f->size = -1;
		return;
	}
	parse(f, len);
}

static const char *lookup(struct vg_userdb *db, struct db_file *f,
			  uint32_t id, uint64_t now)
{
	struct entry *e;
	const char *name;

	if (!db)
		return NULL;
	refresh(db, f, now);
	if (!f->n)
		return NULL;
	e = bsearch(&(struct entry){ .id = id }, f->ents, f->n, sizeof(*f->ents),
		    by_id_only);
	if (!e)
		return NULL;
	/* the first of equal ids */
	while (e > f->ents && e[-1].id == id)
		e--;
	name = f->buf + e->name;
	return name;
}

const char *vg_userdb_user(struct vg_userdb *db, uint32_t uid, uint64_t now_ns)
{
	return db ? lookup(db, &db->f[0], uid, now_ns) : NULL;
}

const char *vg_userdb_group(struct vg_userdb *db, uint32_t gid, uint64_t now_ns)
{
	return db ? lookup(db, &db->f[1], gid, now_ns) : NULL;
}
