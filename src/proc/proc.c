/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "base/util.h"


static const char *const ns_names[VG_NS_COUNT] = {
	[VG_NS_PID] = "pid",   [VG_NS_MNT] = "mnt",   [VG_NS_NET] = "net",
	[VG_NS_UTS] = "uts",   [VG_NS_IPC] = "ipc",   [VG_NS_USER] = "user",
	[VG_NS_CGROUP] = "cgroup",
};

const char *vg_ns_name(enum vg_ns_type t)
{
	return (unsigned)t < VG_NS_COUNT ? ns_names[t] : "?";
}

void vg_proc_release(struct vg_proc *p)
{
	if (!p)
		return;
	free(p->exe);
	free(p->cwd);
	free(p->args_buf);
	free(p->argv);
	free(p->cgroup_text);
	p->exe = p->cwd = p->args_buf = p->cgroup_text = NULL;
	p->argv = NULL;
	p->argc = 0;
}

/* Split into whitespace-separated tokens, in place, up to @max. */
static size_t tokenize(char *s, char **tok, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		tok[n++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

int vg_proc_parse_stat(const char *buf, size_t len, struct vg_proc *p)
{
	char rest[VG_STAT_MAX];
	const char *open, *close;
	char *tok[24];
	uint64_t v;
	size_t n, comm_len, rest_len;

	/* comm may hold spaces, parentheses and newlines: it runs from the
	 * first '(' to the last ')'. */
	open = memchr(buf, '(', len);
	close = NULL;
	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == ')') {
			close = buf + i - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EBADMSG;
	comm_len = (size_t)(close - open - 1);
	if (comm_len >= VG_COMM_MAX)
		return -EBADMSG;
	memcpy(p->comm, open + 1, comm_len);
	p->comm[comm_len] = '\0';
	if (memchr(p->comm, '\0', comm_len))
		return -EBADMSG;

	rest_len = len - (size_t)(close + 1 - buf);
	if (rest_len >= sizeof(rest))
		return -EBADMSG;
	memcpy(rest, close + 1, rest_len);
	rest[rest_len] = '\0';
	if (rest_len && rest[rest_len - 1] == '\n')
		rest[--rest_len] = '\0';
	if (strchr(rest, '\n') || strlen(rest) != rest_len)
		return -EBADMSG;

	n = tokenize(rest, tok, VG_ARRAY_SIZE(tok));
	/* tok[0] is field 3 (state), so field k is tok[k - 3]. */
	if (n < 20 || strlen(tok[0]) != 1)
		return -EBADMSG;
	p->state = tok[0][0];
	if (vg_parse_u64(tok[1], &v) < 0 || v > INT32_MAX)
		return -EBADMSG;
	p->ppid = (int)v;
	if (vg_parse_u64(tok[19], &p->start_ticks) < 0)
		return -EBADMSG;
	if (vg_parse_u64(tok[2], &v) < 0 || v > INT32_MAX)
		return -EBADMSG;
	p->pgrp = (int)v;
	if (vg_parse_u64(tok[3], &v) < 0 || v > INT32_MAX)
		return -EBADMSG;
	p->session = (int)v;
	/* printed as a signed int: a device number with the top bit set
	 * reads negative */
	if (tok[4][0] == '-' ? vg_parse_u64(tok[4] + 1, &v) < 0 || v > 0x80000000u
			     : vg_parse_u64(tok[4], &v) < 0 || v > INT32_MAX)
		return -EBADMSG;
	p->tty_nr = (int32_t)(tok[4][0] == '-' ? -(int64_t)v : (int64_t)v);
	return 0;
}

static int parse_id_quad(const char *s, uint32_t out[4])
{
	for (int i = 0; i < 4; i++) {
		char *end;
		unsigned long v;

		while (*s == '\t' || *s == ' ')
			s++;
		if (*s < '0' || *s > '9')
			return -EBADMSG;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || v > UINT32_MAX)
			return -EBADMSG;
		out[i] = (uint32_t)v;
		s = end;
	}
	while (*s == '\t' || *s == ' ')
		s++;
	return *s ? -EBADMSG : 0;
}

int vg_proc_read_stat(int proc_dirfd, int pid, struct vg_proc *ret)
{
	char path[32], buf[VG_STAT_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%d/stat", pid);
	n = vg_read_small_at(proc_dirfd, path, buf, sizeof(buf));
	if (n <= 0)
		return n == -EFBIG ? -EBADMSG : -ESRCH;
	memset(ret, 0, sizeof(*ret));
	return vg_proc_parse_stat(buf, (size_t)n, ret);
}

size_t vg_proc_read_nspid(int proc_dirfd, const char *task, int *ret,
			  size_t max)
{
	char path[320], buf[4096];
	const char *l;
	size_t n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/status", task);
	len = vg_read_small_at(proc_dirfd, path, buf, sizeof(buf));
	if (len <= 0 || !(l = strstr(buf, "\nNSpid:")))
		return 0;
	l += strlen("\nNSpid:");
	while (n < max) {
		char *end;
		long v;

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l < '0' || *l > '9')
			break;
		v = strtol(l, &end, 10);
		if (end == l || v <= 0 || v > INT32_MAX)
			return 0;
		ret[n++] = (int)v;
		l = end;
	}
	return n;
}

int vg_proc_parse_status(const char *buf, size_t len, struct vg_proc *p)
{
	const char *line = buf, *end = buf + len;
	bool have_uid = false, have_gid = false, have_tgid = false;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t ll = (size_t)((nl ? nl : end) - line);
		char l[512];
		const char *val;

		if (ll < sizeof(l)) {
			memcpy(l, line, ll);
			l[ll] = '\0';
			val = strchr(l, ':');
			if (val) {
				val++;
				while (*val == '\t' || *val == ' ')
					val++;
			}
			if (val && vg_startswith(l, "Uid:")) {
				uint32_t q[4];

				if (parse_id_quad(val, q) < 0)
					return -EBADMSG;
				p->uid = q[0], p->euid = q[1];
				p->suid = q[2], p->fsuid = q[3];
				have_uid = true;
			} else if (val && vg_startswith(l, "Gid:")) {
				uint32_t q[4];

				if (parse_id_quad(val, q) < 0)
					return -EBADMSG;
				p->gid = q[0], p->egid = q[1];
				p->sgid = q[2], p->fsgid = q[3];
				have_gid = true;
			} else if (val && vg_startswith(l, "Tgid:")) {
				if (vg_parse_pid(val, &p->tgid) < 0)
					return -EBADMSG;
				have_tgid = true;
			}
		}
		/* Longer lines (Groups: of a huge group list) carry nothing we
		 * need and are skipped, not cut. */
		line = nl ? nl + 1 : end;
	}
	return have_uid && have_gid && have_tgid ? 0 : -EBADMSG;
}

int vg_proc_split_args(char *buf, size_t len, char ***ret_argv,
		       size_t *ret_argc)
{
	size_t argc = 0, i = 0;
	char **argv;

	for (size_t k = 0; k < len; k++)
		if (buf[k] == '\0')
			argc++;
	if (len > 0 && buf[len - 1] != '\0')
		argc++; /* an unterminated last argument (cut, or rewritten) */

	argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t a = 0; a < argc; a++) {
		argv[a] = buf + i;
		i += strlen(buf + i) + 1;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	return 0;
}

int vg_proc_parse_ns_link(const char *link, uint64_t *ret)
{
	const char *lb = strchr(link, '[');
	char num[24];
	size_t n;

	if (!lb)
		return -EBADMSG;
	lb++;
	n = strcspn(lb, "]");
	if (n == 0 || n >= sizeof(num) || lb[n] != ']' || lb[n + 1] != '\0')
		return -EBADMSG;
	memcpy(num, lb, n);
	num[n] = '\0';
	return vg_parse_u64(num, ret) < 0 ? -EBADMSG : 0;
}

/* A read that failed because the process is gone. */
static bool gone(int r)
{
	return r == -ENOENT || r == -ESRCH;
}

static int read_link_dup(int dirfd, const char *name, char **ret)
{
	char buf[VG_LINK_MAX + 32];
	ssize_t n = vg_readlink_at(dirfd, name, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/*
 * Credentials, tgid and cgroup id from a pidfd. Returns 0, -ESRCH when the
 * process is gone, or another -errno when the kernel cannot say (older
 * kernel, a thread id): the caller then parses status.
 */
static int read_pidfd_info(int pid, struct vg_proc *p)
{
	struct vg_pidfd_info info = {
		.mask = VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS |
			VG_PIDFD_INFO_CGROUPID,
	};
	int fd, r = 0;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, VG_PIDFD_GET_INFO, &info) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	if ((info.mask & (VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS)) !=
		    (VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS) ||
	    info.pid != (__u32)pid)
		return -EOPNOTSUPP;
	p->tgid = (int)info.tgid;
	p->uid = info.ruid, p->euid = info.euid;
	p->suid = info.suid, p->fsuid = info.fsuid;
	p->gid = info.rgid, p->egid = info.egid;
	p->sgid = info.sgid, p->fsgid = info.fsgid;
	if (info.mask & VG_PIDFD_INFO_CGROUPID)
		p->cgroup_id = info.cgroupid;
	return 0;
}

int vg_proc_read(int proc_dirfd, int pid, unsigned flags, struct vg_proc *ret,
		 const char **ret_what)
{
	struct vg_proc p = { .pid = pid };
	_cleanup_close_ int dfd = -1;
	char name[16], buf[VG_STAT_MAX];
	bool have_creds = false;
	ssize_t n;
	int r;

	*ret_what = NULL;
	snprintf(name, sizeof(name), "%d", pid);
	dfd = openat(proc_dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ESRCH : -errno;

	/* The pidfd is taken after dfd and before stat is read through dfd:
	 * if that read succeeds, dfd's process still existed after the
	 * pidfd was opened, so the pid was not reused in between and both
	 * name the same process. */
	if (flags & VG_PROC_PIDFD) {
		r = read_pidfd_info(pid, &p);
		if (r == -ESRCH)
			return -ESRCH;
		have_creds = r == 0;
		p.pidfd_err = r;
	}

	n = vg_read_small_at(dfd, "stat", buf, sizeof(buf));
	if (n < 0) {
		*ret_what = "stat";
		return gone((int)n) ? -ESRCH : n == -EFBIG ? -EBADMSG : (int)n;
	}
	if (vg_proc_parse_stat(buf, (size_t)n, &p) < 0) {
		*ret_what = "stat";
		return -EBADMSG;
	}

	if (!have_creds) {
		_cleanup_free_ char *status = NULL;
		size_t status_len;

		r = vg_read_proc_at(dfd, "status", VG_STATUS_MAX, &status,
				    &status_len, NULL);
		if (r < 0) {
			*ret_what = "status";
			return gone(r) ? -ESRCH : r;
		}
		if (vg_proc_parse_status(status, status_len, &p) < 0) {
			*ret_what = "status";
			return -EBADMSG;
		}
	}

	r = vg_read_proc_at(dfd, "cmdline", VG_CMDLINE_MAX, &p.args_buf,
			    &p.args_len, &p.args_truncated);
	if (r < 0) {
		vg_proc_release(&p);
		if (gone(r))
			return -ESRCH;
		*ret_what = "cmdline";
		return r;
	}
	r = vg_proc_split_args(p.args_buf, p.args_len, &p.argv, &p.argc);
	if (r < 0)
		goto fail;

	if (!(flags & VG_PROC_BRIEF)) {
		p.exe_err = read_link_dup(dfd, "exe", &p.exe);
		p.cwd_err = read_link_dup(dfd, "cwd", &p.cwd);
		if (p.exe_err == -ENOMEM || p.cwd_err == -ENOMEM) {
			r = -ENOMEM;
			goto fail;
		}

		/* One handle on ns/ spares each link a path step through procfs. */
		int nsfd = openat(dfd, "ns", O_PATH | O_DIRECTORY | O_CLOEXEC);

		for (int t = 0; nsfd >= 0 && t < VG_NS_COUNT; t++) {
			char link[64];

			if (vg_readlink_at(nsfd, ns_names[t], link, sizeof(link)) >= 0 &&
			    vg_proc_parse_ns_link(link, &p.ns[t]) == 0)
				p.ns_valid |= 1u << t;
		}
		if (nsfd >= 0)
			close(nsfd);
	} else {
		p.exe_err = p.cwd_err = -ENODATA;
	}

	bool cg_cut = false;
	p.cgroup_err = vg_read_proc_at(dfd, "cgroup", VG_CGROUP_FILE_MAX,
				       &p.cgroup_text, &p.cgroup_len, &cg_cut);
	if (p.cgroup_err == -ENOMEM) {
		r = -ENOMEM;
		goto fail;
	}
	if (p.cgroup_err == 0 && cg_cut) {
		/* A cut cgroup file could hide a conflicting line. */
		free(p.cgroup_text);
		p.cgroup_text = NULL;
		p.cgroup_err = -EFBIG;
	}

	/* No final liveness check is needed: every read above went through
	 * dfd, which stays bound to this process; once it is reaped, opening
	 * through dfd fails, so no file of a later process with the same pid
	 * can have been read. */
	*ret = p;
	return 0;
fail:
	vg_proc_release(&p);
	return r;
}

void vg_exec_id_format(const char *boot_id, int pid, uint64_t start_ticks,
		       char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%.16s-%d-%llu",
		 boot_id && *boot_id ? boot_id : "0000000000000000", pid,
		 (unsigned long long)start_ticks);
}

/* The value of line "@key:\t..." of @buf, up to its newline, into @out. */
static bool status_line(const char *buf, size_t len, const char *key,
			char *out, size_t outsz)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i + kl < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (end - i > kl && memcmp(buf + i, key, kl) == 0 &&
		    buf[i + kl] == ':') {
			size_t s = i + kl + 1, n;

			while (s < end && (buf[s] == '\t' || buf[s] == ' '))
				s++;
			n = end - s;
			if (n >= outsz)
				return false;
			memcpy(out, buf + s, n);
			out[n] = '\0';
			return true;
		}
		i = end + 1;
	}
	return false;
}

static int parse_hex64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; *s; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else
			return -EBADMSG;
		if (n == 16)
			return -EBADMSG;
		v = v << 4 | d;
	}
	if (!n)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int vg_proc_parse_status_extra(const char *buf, size_t len,
			       struct vg_proc_status_extra *ret)
{
	struct vg_proc_status_extra x = { 0 };
	char line[512], *last;
	uint64_t v;

	if (!status_line(buf, len, "CapInh", line, sizeof(line)) ||
	    parse_hex64(line, &x.cap_inh) < 0 ||
	    !status_line(buf, len, "CapPrm", line, sizeof(line)) ||
	    parse_hex64(line, &x.cap_prm) < 0 ||
	    !status_line(buf, len, "CapEff", line, sizeof(line)) ||
	    parse_hex64(line, &x.cap_eff) < 0 ||
	    !status_line(buf, len, "NSpid", line, sizeof(line)))
		return -EBADMSG;
	/* the innermost namespace's is the last */
	last = strrchr(line, '\t');
	last = last ? last + 1 : line;
	if (vg_parse_u64(last, &v) < 0 || !v || v > INT32_MAX)
		return -EBADMSG;
	x.vpid = (int)v;
	*ret = x;
	return 0;
}
