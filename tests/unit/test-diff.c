/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mount table and overlay option parsers (tables), and the upper
 * layer walker on trees built at test time in a temporary directory:
 * whiteouts and trusted.* xattrs cannot live in git, and need root (the
 * cases that need it say so and are skipped otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "fs/diff.h"
#include "fs/rootfs.h"
#include "render/escape.h"
#include "vigil/vigil.h"

/* ------------------------------------------------------------ mountinfo */

static void test_mountinfo_lines(void **state)
{
	static const struct {
		const char *line;
		int ret;
		int id, parent;
		unsigned ma, mi;
		const char *root, *mp, *fstype, *source, *opts;
	} cases[] = {
		{ "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
		  0, 36, 35, 98, 0, "/mnt1", "/mnt2", "ext3", "/dev/root",
		  "rw,errors=continue" },
		/* no optional fields; several of them */
		{ "75 50 0:39 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w",
		  0, 75, 50, 0, 39, "/", "/", "overlay", "overlay",
		  "rw,lowerdir=/l,upperdir=/u,workdir=/w" },
		{ "1 0 8:1 / / rw shared:1 master:2 propagate_from:3 unbindable - ext4 /dev/sda1 rw",
		  0, 1, 0, 8, 1, "/", "/", "ext4", "/dev/sda1", "rw" },
		/* escapes: space, tab, newline, backslash in names */
		{ "5 1 0:5 /a\\040b /mnt/x\\011y\\012z\\134w rw - tmpfs my\\040src rw",
		  0, 5, 1, 0, 5, "/a b", "/mnt/x\ty\nz\\w", "tmpfs", "my src", "rw" },
		/* \000 would cut the string: kept literally */
		{ "5 1 0:5 / /a\\000b rw - tmpfs t rw", 0, 5, 1, 0, 5, "/",
		  "/a\\000b", "tmpfs", "t", "rw" },
		/* nsfs roots do not start with '/' */
		{ "9 1 0:4 net:[4026531840] /run/netns/x rw - nsfs nsfs rw", 0, 9,
		  1, 0, 4, "net:[4026531840]", "/run/netns/x", "nsfs", "nsfs", "rw" },
		/* garbage */
		{ "", -EBADMSG },
		{ "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root", -EBADMSG },
		{ "36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw extra", -EBADMSG },
		{ "x 35 98:0 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98:0:1 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98:99999999999 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "99999999999 35 98:0 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98:0 / relative rw - ext3 /dev/root rw", -EBADMSG },
		{ "36  35 98:0 / / rw - ext3 /dev/root rw", -EBADMSG },
		{ "36 35 98:0 / / rw -  /dev/root rw", -EBADMSG },
		/* a line cut short by a bounded read */
		{ "75 50 0:39 / / rw,relatime - overl", -EBADMSG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line = strdup(cases[i].line);
		struct vg_mount m;
		int r = vg_mountinfo_parse_line(line, &m);

		if (r != cases[i].ret)
			fail_msg("case %zu '%s': %d, expected %d", i, cases[i].line,
				 r, cases[i].ret);
		if (r == 0) {
			assert_int_equal(m.id, cases[i].id);
			assert_int_equal(m.parent, cases[i].parent);
			assert_int_equal(m.major, cases[i].ma);
			assert_int_equal(m.minor, cases[i].mi);
			assert_string_equal(m.root, cases[i].root);
			assert_string_equal(m.mountpoint, cases[i].mp);
			assert_string_equal(m.fstype, cases[i].fstype);
			assert_string_equal(m.source, cases[i].source);
			assert_string_equal(m.superopts, cases[i].opts);
		}
		free(line);
	}
}

/* One overlay option string per line: what the layers are. Lower and
 * data layers are written joined by '|' in the table. */
static void join(char **v, size_t n, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), bufsz - strlen(buf), "%s%s",
			 i ? "|" : "", v[i]);
}

static void test_overlay_opts(void **state)
{
	static const struct {
		const char *opts;
		int ret;
		const char *upper, *work, *lowers, *data;
		bool userxattr;
	} cases[] = {
		{ "rw,lowerdir=/a:/b,upperdir=/u,workdir=/w", 0, "/u", "/w",
		  "/a|/b", "" },
		{ "rw,lowerdir=/only", 0, NULL, NULL, "/only", "" },
		/* octal escapes: a comma and a space in a path */
		{ "rw,lowerdir=/l,upperdir=/u\\054x\\040y,workdir=/w", 0,
		  "/u,x y", "/w", "/l", "" },
		/* a colon in a lower path: the kernel shows the user's "\:"
		 * with its backslash escaped, \134 */
		{ "rw,lowerdir=/a\\134:b:/c,upperdir=/u,workdir=/w", 0, "/u", "/w",
		  "/a:b|/c", "" },
		/* a backslash in a path: "\\" */
		{ "rw,lowerdir=/a\\134\\134b,upperdir=/u\\134\\134v,workdir=/w", 0,
		  "/u\\v", "/w", "/a\\b", "" },
		/* "::" starts data-only layers */
		{ "rw,lowerdir=/l1:/l2::/d1::/d2", -EBADMSG },
		{ "rw,lowerdir=/l1:/l2::/d1:/d2,upperdir=/u,workdir=/w", 0, "/u",
		  "/w", "/l1|/l2", "/d1|/d2" },
		/* the new mount API's options, taken literally */
		{ "rw,lowerdir+=/l1,lowerdir+=/a\\134:b,datadir+=/d,upperdir=/u,workdir=/w",
		  0, "/u", "/w", "/l1|/a\\:b", "/d" },
		{ "rw,lowerdir=/l1,lowerdir+=/l2", -EBADMSG },
		{ "rw,lowerdir=/a,lowerdir=/b", -EBADMSG },
		{ "rw,userxattr,lowerdir=/l,upperdir=/u,workdir=/w", 0, "/u", "/w",
		  "/l", "", true },
		/* later upperdir wins, as for any repeated kernel option */
		{ "rw,lowerdir=/l,upperdir=/u1,upperdir=/u2,workdir=/w", 0, "/u2",
		  "/w", "/l", "" },
		/* missing or empty pieces */
		{ "rw,upperdir=/u,workdir=/w", -EBADMSG },
		{ "rw,lowerdir=/l,upperdir=/u", -EBADMSG },
		{ "rw,lowerdir=/l,workdir=/w", -EBADMSG },
		{ "rw,lowerdir=", -EBADMSG },
		{ "rw,lowerdir=/a:", -EBADMSG },
		{ "rw,lowerdir=:/a", -EBADMSG },
		{ "rw,lowerdir=/a:::/b", -EBADMSG },
		{ "rw,lowerdir=/l,upperdir=,workdir=/w", -EBADMSG },
		{ "", -EBADMSG },
		/* a trailing backslash stays */
		{ "rw,lowerdir=/a\\134", 0, NULL, NULL, "/a\\", "" },
		/* cut by a bounded read in the middle of an escape */
		{ "rw,lowerdir=/a\\13", 0, NULL, NULL, "/a13", "" },
	};
	char lowers[512], data[512], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_overlay_opts o;
		int r = vg_overlay_parse_opts(cases[i].opts, &o, err, sizeof(err));

		if (r != cases[i].ret)
			fail_msg("case %zu '%s': %d, expected %d", i,
				 cases[i].opts, r, cases[i].ret);
		if (r < 0) {
			assert_true(err[0] != '\0');
			continue;
		}
		if (cases[i].upper)
			assert_string_equal(o.upperdir, cases[i].upper);
		else
			assert_null(o.upperdir);
		if (cases[i].work)
			assert_string_equal(o.workdir, cases[i].work);
		else
			assert_null(o.workdir);
		join(o.lowerdirs, o.n_lowerdirs, lowers, sizeof(lowers));
		join(o.datadirs, o.n_datadirs, data, sizeof(data));
		assert_string_equal(lowers, cases[i].lowers);
		assert_string_equal(data, cases[i].data);
		assert_int_equal(o.userxattr, cases[i].userxattr);
		vg_overlay_opts_release(&o);
	}
}

static void test_overlay_too_many_layers(void **state)
{
	size_t n = VG_OVERLAY_LAYERS_MAX + 1, len = strlen("rw,lowerdir=");
	char *s = malloc(len + n * 8 + 1), err[128];
	struct vg_overlay_opts o;

	(void)state;
	strcpy(s, "rw,lowerdir=");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s/l%04zu", i ? ":" : "", i);
	assert_int_equal(vg_overlay_parse_opts(s, &o, err, sizeof(err)), -E2BIG);
	/* one fewer is fine */
	*strrchr(s, ':') = '\0';
	assert_int_equal(vg_overlay_parse_opts(s, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_lowerdirs, VG_OVERLAY_LAYERS_MAX);
	vg_overlay_opts_release(&o);
	free(s);
}

/* A container's table: its root overlay, things mounted over it. */
static const char ctr_table[] =
	"garbage line\n"
	"75 50 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work\n"
	"76 75 0:42 / /proc rw,nosuid - proc proc rw\n"
	"77 75 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k\n"
	"78 75 254:0 /var/lib/docker/containers/abc/hosts /etc/hosts rw - ext4 /dev/vda rw\n";

static const char host_table[] =
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"43 27 254:0 /var/lib/docker /var/lib/docker rw - ext4 /dev/vda rw\n"
	"48 43 0:39 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work\n"
	"90 27 0:77 / /srv/data rw - tmpfs tmpfs rw\n";

/* The same device as the host's overlay, other layers: a host directory
 * as its lower layer. */
static const char forged_ctr_table[] =
	"75 50 0:39 / / rw - overlay overlay rw,lowerdir=/etc,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work\n";

static void test_rootfs_from_mountinfo(void **state)
{
	struct vg_rootfs rf;
	char *buf, err[256];

	(void)state;
	/* the topmost "/" mount */
	buf = strdup(ctr_table);
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)), 0);
	assert_int_equal(rf.mount_id, 75);
	assert_true(rf.overlay);
	assert_int_equal(rf.dev_major, 0);
	assert_int_equal(rf.dev_minor, 39);
	assert_string_equal(rf.ovl.upperdir, "/var/lib/docker/overlay2/abc/diff");
	assert_int_equal(rf.ovl.n_lowerdirs, 2);
	assert_string_equal(rf.ovl.lowerdirs[1], "/var/lib/docker/overlay2/l/B");
	free(buf);

	/* where the host sees it */
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_find_host_mount(buf, &rf, err, sizeof(err)), 0);
	assert_string_equal(rf.merged, "/var/lib/docker/overlay2/abc/merged");
	assert_true(rf.host_mount);
	assert_true(rf.layers_verified);
	assert_int_equal(rf.layers_pid, 0);
	free(buf);
	vg_rootfs_release(&rf);

	/* a container's table that disagrees with the host's about the
	 * layers of the same filesystem: refused, whichever way */
	buf = strdup(forged_ctr_table);
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)), 0);
	free(buf);
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_find_host_mount(buf, &rf, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "disagree"));
	assert_false(rf.layers_verified);
	assert_false(rf.host_mount);
	free(buf);
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_check_table(buf, &rf, err, sizeof(err)),
			 -EPERM);
	free(buf);
	vg_rootfs_release(&rf);
	/* ... or about what the filesystem is */
	buf = strdup("75 50 0:39 / / rw - tmpfs tmpfs rw\n");
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)), 0);
	free(buf);
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_find_host_mount(buf, &rf, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "tmpfs"));
	free(buf);
	vg_rootfs_release(&rf);

	/* by mount id: the kernel's answer wins over the "/" rule */
	buf = strdup(ctr_table);
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 77, &rf, err, sizeof(err)), 0);
	assert_string_equal(rf.fstype, "tmpfs");
	assert_false(rf.overlay);
	vg_rootfs_release(&rf);
	free(buf);
	/* an id that is not there: the "/" rule */
	buf = strdup(ctr_table);
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 4242, &rf, err, sizeof(err)), 0);
	assert_int_equal(rf.mount_id, 75);
	vg_rootfs_release(&rf);
	free(buf);

	/* two mounts stacked at "/": the one on top */
	buf = strdup("10 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		     "20 10 0:50 / / rw - tmpfs tmpfs rw\n"
		     "30 20 0:51 / /x rw - tmpfs tmpfs rw\n");
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)), 0);
	assert_int_equal(rf.mount_id, 20);
	vg_rootfs_release(&rf);
	free(buf);

	/* no root; an overlay root without lowerdir; a cut table */
	buf = strdup("30 20 0:51 / /x rw - tmpfs tmpfs rw\n");
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)),
			 -ENOENT);
	free(buf);
	buf = strdup("75 50 0:39 / / rw - overlay overlay rw,upperdir=/u,workdir=/w\n");
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "lower"));
	free(buf);
	buf = strndup(ctr_table, 40);
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)),
			 -ENOENT);
	free(buf);

	/* a plain directory as root, bind-mounted from the host's /srv/data:
	 * the host path is the mount point plus the rest of the root */
	buf = strdup("40 1 0:77 /rootfs/c1 / rw - tmpfs tmpfs rw\n");
	assert_int_equal(vg_rootfs_from_mountinfo(buf, 0, &rf, err, sizeof(err)), 0);
	free(buf);
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_find_host_mount(buf, &rf, err, sizeof(err)), 0);
	assert_string_equal(rf.merged, "/srv/data/rootfs/c1");
	assert_true(rf.layers_verified);
	free(buf);
	/* no host mount of that device */
	rf.dev_minor = 78;
	rf.layers_verified = false;
	buf = strdup(host_table);
	assert_int_equal(vg_rootfs_find_host_mount(buf, &rf, err, sizeof(err)),
			 -ENOENT);
	assert_false(rf.layers_verified);
	free(buf);
	vg_rootfs_release(&rf);
}

/* ------------------------------------------------------------ temp trees */

static char base[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	/* directories only: chmod() follows a symlink, and the trees hold
	 * links to / and /etc */
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		chmod(p, 0700);
	return remove(p);
}

static int setup_tree(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(base, sizeof(base), "%s/vigil-diff-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		return -1;
	/* readable by the unprivileged user of the unreadable case */
	chmod(base, 0755);
	return 0;
}

static int open_up(const char *p, const struct stat *st, int flag,
		   struct FTW *f)
{
	(void)f;
	if (flag != FTW_SL && flag != FTW_SLN &&
	    (flag == FTW_D || flag == FTW_DNR || S_ISDIR(st->st_mode)))
		chmod(p, 0700);
	return 0;
}

static int teardown_tree(void **state)
{
	(void)state;
	/* open up what a case made unreadable (parents first), then remove
	 * (children first) */
	nftw(base, open_up, 64, FTW_PHYS);
	nftw(base, rm_one, 64, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void path_of(char *buf, size_t bufsz, const char *rel)
{
	snprintf(buf, bufsz, "%s/%s", base, rel);
}

static void mkdirs(const char *rel)
{
	char p[1024], *s;

	path_of(p, sizeof(p), rel);
	for (s = p + strlen(base) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const char *rel, const char *content)
{
	char p[1024], dir[1024];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		mkdirs(dir);
	}
	path_of(p, sizeof(p), rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* Give @rel the mtime of @like (copy-up keeps it). */
static void same_mtime(const char *rel, const char *like)
{
	char p[1024], q[1024];
	struct stat st;

	path_of(p, sizeof(p), rel);
	path_of(q, sizeof(q), like);
	assert_int_equal(lstat(q, &st), 0);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };

	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A whiteout needs CAP_MKNOD: false (with the reason printed) without. */
static bool whiteout(const char *rel)
{
	char p[1024];

	path_of(p, sizeof(p), rel);
	if (mknod(p, S_IFCHR | 0, makedev(0, 0)) == 0)
		return true;
	printf("SKIP part: whiteouts need CAP_MKNOD (mknod %s: %s)\n", rel,
	       strerror(errno));
	return false;
}

/* Mark directory @rel opaque: trusted.overlay.opaque as root, else the
 * user.overlay.opaque of userxattr mounts. Returns whether it is the
 * user.* form. */
static bool opaque(const char *rel)
{
	char p[1024];

	path_of(p, sizeof(p), rel);
	if (setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0)
		return false;
	assert_int_equal(setxattr(p, "user.overlay.opaque", "y", 1, 0), 0);
	return true;
}

static int open_rel(const char *rel)
{
	char p[1024];
	int fd;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Walk upper "u" over lowers "l0", "l1"... ("" ends the list). Not as
 * root, trusted.* xattrs cannot be read (the walk would say so): the
 * user.* form of userxattr mounts is read instead. */
static void walk(const char *const *lowers, const struct vg_diff_opts *opts,
		 struct vg_diff *d)
{
	struct vg_diff_opts o = *opts;
	int ufd = open_rel("u"), lfd[8];
	size_t n = 0;

	if (geteuid() != 0)
		o.userxattr = true;
	for (; lowers[n] && *lowers[n]; n++)
		lfd[n] = open_rel(lowers[n]);
	assert_int_equal(vg_diff_layers(ufd, lfd, n, &o, d), 0);
	close(ufd);
	for (size_t i = 0; i < n; i++)
		close(lfd[i]);
}

/* The answer as "K /path" lines joined by ';'. */
static void lines(const struct vg_diff *d, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	for (size_t i = 0; i < d->n_entries; i++)
		snprintf(buf + strlen(buf), bufsz - strlen(buf), "%s%c %s",
			 i ? ";" : "", d->entries[i].kind, d->entries[i].path);
}

static const struct vg_diff_entry *find(const struct vg_diff *d,
					const char *path)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (strcmp(d->entries[i].path, path) == 0)
			return &d->entries[i];
	return NULL;
}

static void expect(const char *const *lowers, enum vg_diff_style style,
		   bool userxattr, const char *want)
{
	struct vg_diff_opts o = { .style = style, .userxattr = userxattr };
	struct vg_diff d;
	char got[4096];

	walk(lowers, &o, &d);
	lines(&d, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s style:\n got  %s\n want %s",
			 style == VG_DIFF_DOCKER ? "docker" : "podman", got, want);
	for (size_t i = 0; i < d.n_kept; i++)
		printf("problem: %s\n", d.problems[i]);
	assert_false(d.partial);
	vg_diff_release(&d);
}

static const char *const one_lower[] = { "l0", "" };

/* A and C by whether a lower layer has the path; copy-up that changed
 * nothing; parents. */
static void test_walk_add_change(void **state)
{
	(void)state;
	/* as many entries in each upper directory as in the lower one:
	 * on tmpfs a directory's size counts them, and podman compares it */
	put("l0/etc/passwd", "root\n");
	put("l0/etc/group", "root\n");
	put("l0/data/x", "x\n");
	put("l0/data/big", "0123456789\n");
	mkdirs("l0/keep");

	put("u/etc/passwd", "root and more\n"); /* changed */
	put("u/etc/group", "root\n");            /* copied up, same */
	same_mtime("u/etc/group", "l0/etc/group");
	put("u/data/x", "x\n");                 /* copied up, same */
	same_mtime("u/data/x", "l0/data/x");
	put("u/data/new", "n\n");               /* added */
	put("u/tmp/t", "");                     /* added, with its dir */
	mkdirs("u/keep");
	same_mtime("u/etc", "l0/etc");
	same_mtime("u/data", "l0/data");
	same_mtime("u/keep", "l0/keep");

	expect(one_lower, VG_DIFF_DOCKER, false,
	       "C /data;A /data/new;C /etc;C /etc/passwd;A /tmp;A /tmp/t");
	/* podman: a copied-up file is C, a directory the same as below is
	 * not, and only A and D make their parents C */
	expect(one_lower, VG_DIFF_PODMAN, false,
	       "C /data;A /data/new;C /data/x;C /etc/group;C /etc/passwd;"
	       "A /tmp;A /tmp/t");

	/* a mode change of a directory alone is a change of it */
	char p[1024];

	path_of(p, sizeof(p), "u/keep");
	chmod(p, 0700);
	expect(one_lower, VG_DIFF_DOCKER, false,
	       "C /data;A /data/new;C /etc;C /etc/passwd;C /keep;A /tmp;A /tmp/t");

	/* metadata of each answer */
	struct vg_diff_opts o = { 0 };
	struct vg_diff d;
	const struct vg_diff_entry *e;

	walk(one_lower, &o, &d);
	e = find(&d, "/etc/passwd");
	assert_non_null(e);
	assert_true(e->have_stat);
	assert_true(S_ISREG(e->st.mode));
	assert_int_equal(e->st.size, strlen("root and more\n"));
	assert_string_equal(vg_diff_type_name(e->st.mode), "file");
	e = find(&d, "/keep");
	assert_int_equal(e->st.mode & 07777, 0700);
	assert_string_equal(vg_diff_type_name(e->st.mode), "dir");
	assert_false(e->replaced);
	vg_diff_release(&d);
}

/* Whiteouts are deletions; a deleted directory is one D. */
static void test_walk_whiteouts(void **state)
{
	(void)state;
	put("l0/data/y", "y\n");
	put("l0/data/deep/er/z", "z\n");
	put("l0/data/x", "x\n");
	mkdirs("u/data");
	same_mtime("u/data", "l0/data");
	if (!whiteout("u/data/y") || !whiteout("u/data/deep") ||
	    !whiteout("u/ghost"))
		return;

	/* docker: a whiteout of nothing is nothing */
	expect(one_lower, VG_DIFF_DOCKER, false,
	       "C /data;D /data/deep;D /data/y");
	expect(one_lower, VG_DIFF_PODMAN, false,
	       "C /data;D /data/deep;D /data/y;D /ghost");

	struct vg_diff_opts o = { 0 };
	struct vg_diff d;

	walk(one_lower, &o, &d);
	/* D describes what was deleted */
	assert_true(find(&d, "/data/deep")->have_stat);
	assert_string_equal(vg_diff_type_name(find(&d, "/data/deep")->st.mode),
			    "dir");
	vg_diff_release(&d);
}

/* A replaced (opaque) directory: docker compares it with the one it
 * hides, podman calls it deleted. trusted.* as root; the user.* form of
 * userxattr mounts otherwise. */
static void test_walk_opaque(void **state)
{
	bool user;

	(void)state;
	put("l0/etc/ssl/a", "a\n");
	put("l0/etc/ssl/sub/b", "b\n");
	put("l0/etc/ssl/same", "s\n");
	put("l0/keep/k", "k\n");
	put("u/etc/ssl/x", "");
	put("u/etc/ssl/same", "s\n"); /* recreated as it was */
	same_mtime("u/etc/ssl/same", "l0/etc/ssl/same");
	mkdirs("u/keep");
	user = opaque("u/etc/ssl");
	opaque("u/keep");
	same_mtime("u/etc", "l0/etc");
	same_mtime("u/etc/ssl", "l0/etc/ssl");
	same_mtime("u/keep", "l0/keep");
	if (user)
		printf("note: not root: testing the user.overlay.opaque form\n");

	expect(one_lower, VG_DIFF_DOCKER, user,
	       "C /etc;C /etc/ssl;D /etc/ssl/a;D /etc/ssl/sub;A /etc/ssl/x;"
	       "C /keep;D /keep/k");
	expect(one_lower, VG_DIFF_PODMAN, user,
	       "C /etc;D /etc/ssl;C /etc/ssl/same;A /etc/ssl/x;D /keep");

	struct vg_diff_opts o = { .userxattr = user };
	struct vg_diff d;

	walk(one_lower, &o, &d);
	assert_true(find(&d, "/etc/ssl")->replaced);
	assert_true(find(&d, "/keep")->replaced);
	assert_false(find(&d, "/etc")->replaced);
	vg_diff_release(&d);

	/* the other xattr form is not read: not opaque then */
	if (!user) {
		o.userxattr = true;
		walk(one_lower, &o, &d);
		assert_null(find(&d, "/etc/ssl/a"));
		vg_diff_release(&d);
	}
}

#define CAP_BIT(c) (1ull << (c))

/*
 * Run @check (0: passed; it makes no cmocka asserts) without the
 * effective capabilities in @caps: as root in a child that drops them,
 * otherwise (they are not held anyway) directly.
 */
static void check_without_caps(uint64_t caps, int (*check)(void))
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		assert_int_equal(check(), 0);
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct c[2];

		if (syscall(SYS_capget, &h, c) < 0)
			_exit(12);
		c[0].effective &= ~(uint32_t)caps;
		c[1].effective &= ~(uint32_t)(caps >> 32);
		if (syscall(SYS_capset, &h, c) < 0)
			_exit(13);
		_exit(check());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Without CAP_SYS_ADMIN, trusted.* xattrs read as absent: the answer
 * says that replaced directories could not be told, rather than miss
 * them quietly. As root, in a child that drops the capability. */
static int no_admin_check(void)
{
	struct vg_diff_opts o = { 0 };
	struct vg_diff d;
	char u[1024], l[1024];
	int ufd, lfd, ok;

	path_of(u, sizeof(u), "u");
	path_of(l, sizeof(l), "l0");
	ufd = open(u, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	lfd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0 || lfd < 0 || vg_diff_layers(ufd, &lfd, 1, &o, &d) < 0)
		return 30;
	ok = d.partial && d.xattr_unsupported && d.n_kept >= 1 &&
	     strstr(d.problems[0], "CAP_SYS_ADMIN") && d.n_entries == 1;
	vg_diff_release(&d);
	if (!ok)
		return 31;
	/* a userxattr mount needs no privilege */
	o.userxattr = true;
	if (vg_diff_layers(ufd, &lfd, 1, &o, &d) < 0)
		return 32;
	ok = !d.partial;
	vg_diff_release(&d);
	return ok ? 0 : 33;
}

static void test_walk_no_cap_sys_admin(void **state)
{
	(void)state;
	mkdirs("l0");
	put("u/f", "");
	check_without_caps(CAP_BIT(CAP_SYS_ADMIN), no_admin_check);
}

/* Several lower layers: the image's view is their overlay, so what an
 * upper layer of the image hid does not count as there. */
static void test_walk_lower_stack(void **state)
{
	static const char *const two[] = { "l0", "l1", "" };
	bool user, wh;

	(void)state;
	put("l1/etc/hidden", "h\n");
	put("l1/etc/only", "1\n");
	put("l1/bin/gone", "g\n");
	put("l1/bin/kept", "k\n");
	put("l0/etc/only", "0\n");
	mkdirs("l0/bin");
	user = opaque("l0/etc"); /* the image's top layer replaced /etc */
	wh = whiteout("l0/bin/gone");

	put("u/etc/hidden", "h\n");
	put("u/etc/only", "changed\n");
	put("u/bin/kept", "k\n");
	same_mtime("u/bin/kept", "l1/bin/kept");
	if (wh)
		put("u/bin/gone", "g\n");
	same_mtime("u/etc", "l0/etc");
	same_mtime("u/bin", "l0/bin");

	expect(two, VG_DIFF_DOCKER, user,
	       wh ? "C /bin;A /bin/gone;C /etc;A /etc/hidden;C /etc/only"
		  : "C /etc;A /etc/hidden;C /etc/only");
}

/* Names with spaces, newlines, tabs, backslashes and bytes that are
 * not UTF-8 stay exact in the answer, and print escaped. */
static void test_walk_odd_names(void **state)
{
	static const char *const names[] = {
		"a b", "new\nline", "tab\tx", "back\\slash", "bad\xff\xfe",
		"caf\xc3\xa9",
	};
	struct vg_diff_opts o = { 0 };
	struct vg_diff d;
	char p[64];

	(void)state;
	mkdirs("l0");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "u/%s", names[i]);
		put(p, "");
	}
	walk(one_lower, &o, &d);
	assert_int_equal(d.n_entries, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "/%s", names[i]);
		assert_non_null(find(&d, p));
	}
	vg_diff_release(&d);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
		bool utf8;
	} cases[] = {
		{ "/plain/path", "/plain/path", true },
		{ "/a b", "/a b", true },
		{ "/new\nline", "/new\\nline", true },
		{ "/t\tr\r", "/t\\tr\\r", true },
		{ "/back\\slash", "/back\\\\slash", true },
		{ "/bell\a\x1b[31m", "/bell\\x07\\x1b[31m", true },
		{ "/del\x7f", "/del\\x7f", true },
		{ "/caf\xc3\xa9", "/caf\xc3\xa9", true },
		{ "/bad\xff\xfe", "/bad\\xff\\xfe", false },
		{ "/cut\xc3", "/cut\\xc3", false },
		{ "/overlong\xc0\xaf", "/overlong\\xc0\\xaf", false },
		{ "/surrogate\xed\xa0\x80", "/surrogate\\xed\\xa0\\x80", false },
		{ "", "", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		bool ok;

		assert_non_null(f);
		ok = vg_fputs_escaped(f, cases[i].in);
		fclose(f);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(ok, cases[i].utf8);
		assert_int_equal(vg_utf8_valid(cases[i].in), cases[i].utf8);
		free(buf);
	}
}

/* Symlinks are entries, never followed, loops included. */
static void test_walk_symlinks(void **state)
{
	char p[1024];

	(void)state;
	put("l0/s/inside", "i\n");
	mkdirs("u/d");
	path_of(p, sizeof(p), "u/loop");
	assert_int_equal(symlink("loop", p), 0);
	path_of(p, sizeof(p), "u/d/up");
	assert_int_equal(symlink("..", p), 0);
	path_of(p, sizeof(p), "u/self");
	assert_int_equal(symlink(".", p), 0);
	path_of(p, sizeof(p), "u/abs");
	assert_int_equal(symlink("/", p), 0);
	path_of(p, sizeof(p), "u/s"); /* a symlink over a lower directory */
	assert_int_equal(symlink("/etc", p), 0);

	expect(one_lower, VG_DIFF_DOCKER, false,
	       "A /abs;A /d;A /d/up;A /loop;C /s;A /self");

	struct vg_diff_opts o = { 0 };
	struct vg_diff d;

	walk(one_lower, &o, &d);
	assert_string_equal(vg_diff_type_name(find(&d, "/s")->st.mode),
			    "symlink");
	vg_diff_release(&d);
}

/* An unreadable directory makes the answer partial, naming it; the rest
 * is still answered. Root reads any directory, so as root the walk runs
 * in a child without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: then the
 * mode bits hold for it too (uid 0 stays, and owns the tree). */
static int unreadable_check(void)
{
	struct vg_diff_opts o = { .userxattr = geteuid() != 0 };
	struct vg_diff d;
	char got[4096], u[1024], l[1024];
	int ufd, lfd, ok;

	/* no cmocka asserts here: this may run in a child */
	path_of(u, sizeof(u), "u");
	path_of(l, sizeof(l), "l0");
	ufd = open(u, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	lfd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0 || lfd < 0) {
		fprintf(stderr, "opening %s: %s\n", u, strerror(errno));
		return 14;
	}
	if (vg_diff_layers(ufd, &lfd, 1, &o, &d) < 0)
		return 10;
	lines(&d, got, sizeof(got));
	ok = d.partial && d.n_kept >= 1 && strstr(d.problems[0], "/closed") &&
	     strstr(d.problems[0], "Permission denied") &&
	     strcmp(got, "A /closed;A /open;A /open/f") == 0;
	if (!ok)
		fprintf(stderr, "got '%s', partial %d, problem '%s'\n", got,
			d.partial, d.n_kept ? d.problems[0] : "");
	vg_diff_release(&d);
	return ok ? 0 : 11;
}

static void test_walk_unreadable(void **state)
{
	char p[1024];

	(void)state;
	mkdirs("l0");
	put("u/closed/secret", "s\n");
	put("u/open/f", "f\n");
	path_of(p, sizeof(p), "u/closed");
	assert_int_equal(chmod(p, 0), 0);
	check_without_caps(CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_DAC_READ_SEARCH),
			   unreadable_check);
}

/* The limit on entries stops the walk and says so. */
static void test_walk_limit(void **state)
{
	struct vg_diff_opts o = { .max_entries = 10 };
	struct vg_diff d;
	char p[64];

	(void)state;
	mkdirs("l0");
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "u/many/f%02d", i);
		put(p, "");
	}
	walk(one_lower, &o, &d);
	assert_int_equal(d.n_entries, 10);
	assert_true(d.partial);
	assert_true(d.truncated);
	assert_non_null(strstr(d.problems[0], "stopped after 10 changes"));
	vg_diff_release(&d);

	o.max_entries = 51;
	walk(one_lower, &o, &d);
	assert_int_equal(d.n_entries, 51);
	assert_false(d.partial);
	vg_diff_release(&d);
}

/* Depth is bounded: deeper directories are not walked, and the answer
 * says so. The default bound on a tree deeper than it, too. */
static void test_walk_depth(void **state)
{
	struct vg_diff_opts o = { .max_depth = 5 };
	struct vg_diff d;
	char rel[4096] = "u";

	(void)state;
	mkdirs("l0");
	for (int i = 0; i < VG_DIFF_DEPTH_MAX + 20; i++)
		strcat(rel, "/d");
	mkdirs(rel);
	walk(one_lower, &o, &d);
	assert_true(d.partial);
	assert_non_null(strstr(d.problems[0], "deeper than 5"));
	assert_int_equal(d.n_entries, 6); /* /d ... at depths 1 to 6 */
	vg_diff_release(&d);

	o.max_depth = 0;
	walk(one_lower, &o, &d);
	assert_true(d.partial);
	assert_int_equal(d.n_entries, VG_DIFF_DEPTH_MAX + 1);
	vg_diff_release(&d);
}

/* An upper layer on a filesystem without xattrs (ramfs): opaque
 * directories cannot be told; the answer is flagged. Needs root to
 * mount, in a mount namespace of its own. */
static int enotsup_check(void)
{
	char p[1024];
	struct vg_diff_opts o = { 0 };
	struct vg_diff d;
	int ufd, lfd, ok;

	path_of(p, sizeof(p), "u");
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("none", p, "ramfs", 0, NULL) < 0)
		return 20;
	snprintf(p, sizeof(p), "%s/u/dir", base);
	if (mkdir(p, 0755) < 0)
		return 23;
	path_of(p, sizeof(p), "u");
	ufd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	path_of(p, sizeof(p), "l0");
	lfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0 || lfd < 0)
		return 24;
	if (vg_diff_layers(ufd, &lfd, 1, &o, &d) < 0)
		return 21;
	ok = d.xattr_unsupported && d.partial && d.n_entries == 1 &&
	     strstr(d.problems[0], "no xattrs");
	vg_diff_release(&d);
	return ok ? 0 : 22;
}

static void test_walk_no_xattrs(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: mounting a filesystem without xattrs needs root\n");
		return;
	}
	mkdirs("l0");
	mkdirs("u");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(enotsup_check());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A directory redirected to another lower path (redirect_dir=on) shows
 * that directory's contents; in docker's comparison they are new at
 * the new path. Needs the trusted.* xattr: root. */
static void test_walk_redirect(void **state)
{
	char p[1024];

	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: trusted.overlay.redirect needs root\n");
		return;
	}
	put("l0/old/a", "a\n");
	put("l0/old/sub/b", "b\n");
	mkdirs("u/new");
	path_of(p, sizeof(p), "u/new");
	assert_int_equal(setxattr(p, "trusted.overlay.redirect", "/old", 4, 0), 0);
	if (!whiteout("u/old"))
		return;
	expect(one_lower, VG_DIFF_DOCKER, false,
	       "A /new;A /new/a;A /new/sub;A /new/sub/b;D /old");
}

/* ------------------------------------------------------------ of a pid */

/* A process of the fixture host: its parent, mount namespace, cgroup
 * and mount table. */
static void put_proc(int pid, int ppid, unsigned long mntns, const char *cg,
		     const char *mountinfo)
{
	char rel[64], line[128], p[1024];

	snprintf(rel, sizeof(rel), "host/proc/%d/stat", pid);
	snprintf(line, sizeof(line), "%d (x) S %d 1 1 0 -1\n", pid, ppid);
	put(rel, line);
	snprintf(rel, sizeof(rel), "host/proc/%d/cgroup", pid);
	put(rel, cg);
	snprintf(rel, sizeof(rel), "host/proc/%d/mountinfo", pid);
	put(rel, mountinfo);
	snprintf(rel, sizeof(rel), "host/proc/%d/root", pid);
	mkdirs(rel);
	snprintf(rel, sizeof(rel), "host/proc/%d/ns", pid);
	mkdirs(rel);
	snprintf(rel, sizeof(rel), "host/proc/%d/ns/mnt", pid);
	path_of(p, sizeof(p), rel);
	snprintf(line, sizeof(line), "mnt:[%lu]", mntns);
	assert_int_equal(symlink(line, p), 0);
}

#define CTR_CG "0::/system.slice/docker-c.scope\n"
#define OVL99 "75 50 0:99 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"

static void test_rootfs_of_pid(void **state)
{
	struct vigil_ctx *ctx;
	struct vg_rootfs rf;
	char root[1024], err[256];

	(void)state;
	put("host/proc/1/mountinfo", host_table);
	put("host/proc/77/mountinfo", ctr_table);
	put("host/proc/79/mountinfo", "1 0 0:1 / /x rw - tmpfs t rw\n");
	/* a runtime process (a kind node's shim, a rootless conmon): its own
	 * mount namespace and cgroup, the container's overlay in its table */
	put_proc(70, 1, 4026531840ul, "0::/system.slice/containerd.service\n",
		 "10 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		 "48 10 0:99 / /run/c/rootfs rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n");
	put_proc(78, 70, 4026532000ul, CTR_CG, OVL99);
	/* the same device, other layers: refused */
	put_proc(80, 70, 4026532001ul, CTR_CG,
		 "75 50 0:99 / / rw - overlay overlay rw,lowerdir=/etc,upperdir=/u,workdir=/w\n");
	/* a parent sharing the container's mount namespace */
	put_proc(82, 1, 4026532002ul, CTR_CG, OVL99);
	put_proc(81, 82, 4026532002ul, CTR_CG, OVL99);
	/* a parent in another namespace, but inside the container's cgroup */
	put_proc(84, 1, 4026532003ul,
		 "0::/system.slice/docker-c.scope/init\n", OVL99);
	put_proc(83, 84, 4026532004ul, CTR_CG, OVL99);
	/* a device no table outside the container holds */
	put_proc(85, 70, 4026532005ul, CTR_CG,
		 "75 50 0:98 / / rw - overlay overlay rw,lowerdir=/etc,upperdir=/tmp,workdir=/w\n");
	path_of(root, sizeof(root), "host");
	assert_int_equal(vigil_ctx_new(root, &ctx), 0);

	assert_int_equal(vg_rootfs_of_pid(ctx, 77, &rf, err, sizeof(err)), 0);
	assert_string_equal(rf.merged, "/var/lib/docker/overlay2/abc/merged");
	assert_true(rf.host_mount);
	assert_true(rf.layers_verified);
	assert_int_equal(rf.layers_pid, 0);
	assert_false(rf.have_layers_root_fd);
	assert_string_equal(rf.ovl.workdir, "/var/lib/docker/overlay2/abc/work");
	vg_rootfs_release(&rf);

	/* no host mount of it: its runtime's table, paths under its root */
	assert_int_equal(vg_rootfs_of_pid(ctx, 78, &rf, err, sizeof(err)), 0);
	assert_string_equal(rf.merged, "/proc/78/root");
	assert_false(rf.host_mount);
	assert_true(rf.layers_verified);
	assert_int_equal(rf.layers_pid, 70);
	assert_true(rf.have_layers_root_fd);
	vg_rootfs_release(&rf);

	assert_int_equal(vg_rootfs_of_pid(ctx, 80, &rf, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "runtime's disagree"));

	assert_int_equal(vg_rootfs_of_pid(ctx, 81, &rf, err, sizeof(err)), 0);
	assert_false(rf.layers_verified);
	assert_non_null(strstr(rf.layers_why, "shares its mount table"));
	vg_rootfs_release(&rf);

	assert_int_equal(vg_rootfs_of_pid(ctx, 83, &rf, err, sizeof(err)), 0);
	assert_false(rf.layers_verified);
	assert_non_null(strstr(rf.layers_why, "inside the container"));
	vg_rootfs_release(&rf);

	assert_int_equal(vg_rootfs_of_pid(ctx, 85, &rf, err, sizeof(err)), 0);
	assert_false(rf.layers_verified);
	assert_non_null(strstr(rf.layers_why, "no mount table outside"));
	assert_string_equal(rf.merged, "/proc/85/root");
	vg_rootfs_release(&rf);

	assert_int_equal(vg_rootfs_of_pid(ctx, 79, &rf, err, sizeof(err)), -ENOENT);
	assert_int_equal(vg_rootfs_of_pid(ctx, 4242, &rf, err, sizeof(err)), -ESRCH);
	assert_non_null(strstr(err, "no such process"));
	vigil_ctx_free(ctx);
}

/* Our own root, for real: whatever it is, it is found, and its host
 * mount is "/". */
static void test_rootfs_of_self(void **state)
{
	struct vigil_ctx *ctx;
	struct vg_rootfs rf;
	char err[256];

	(void)state;
	assert_int_equal(vigil_ctx_new("/", &ctx), 0);
	assert_int_equal(vg_rootfs_of_pid(ctx, getpid(), &rf, err, sizeof(err)), 0);
	assert_non_null(rf.fstype);
	assert_non_null(rf.merged);
	vg_rootfs_release(&rf);
	vigil_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_lines),
		cmocka_unit_test(test_overlay_opts),
		cmocka_unit_test(test_overlay_too_many_layers),
		cmocka_unit_test(test_rootfs_from_mountinfo),
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_walk_add_change, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_whiteouts, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_opaque, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_lower_stack, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_odd_names, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_symlinks, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_unreadable, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_limit, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_depth, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_no_xattrs, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_redirect, setup_tree,
						teardown_tree),
		cmocka_unit_test_setup_teardown(test_walk_no_cap_sys_admin,
						setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_rootfs_of_pid, setup_tree,
						teardown_tree),
		cmocka_unit_test(test_rootfs_of_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
