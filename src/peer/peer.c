/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who is at the other end of a Unix socket.
 *
 * The pid a socket reports (SO_PEERCRED) is only a number: the process
 * that connected may have exited and its pid gone to another process by
 * the time the server reads /proc. So the peer is held as a pidfd
 * (SO_PEERPIDFD), which names that one process whatever happens to its
 * number; its /proc facts are read; then the pidfd must show the process
 * still alive. A live process keeps its pid, so everything read in
 * between was read from it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/types.h>
#include <linux/unix_diag.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "attrib/attrib.h"
#include "base/util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif


const char *vigil_identity_peer_method(const struct vigil_identity *id)
{
	return id ? id->peer_method : NULL;
}

/* Forget every fact read: a refused peer's facts may be another
 * process's, and must not reach the caller. */
static void refuse(struct vigil_identity *id, enum vigil_status st,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct vigil_identity *id, enum vigil_status st,
		   const char *fmt, ...)
{
	int pid = id->proc.pid;
	va_list ap;

	vg_proc_release(&id->proc);
	vg_cgroup_info_release(&id->cg);
	vg_meta_unref(id->meta);
	vg_pod_meta_release(&id->pod);
	id->meta = NULL;
	id->proc = (struct vg_proc){ .pid = pid };
	id->cg = (struct vg_cgroup_info){ 0 };
	id->attr = (struct vg_cgroup_match){ 0 };
	id->have_proc = id->have_cg = false;
	id->cgroup_id = 0;
	id->exec_id[0] = '\0';
	id->start_boot_ns = id->start_wall_ns = 0;
	id->status = st;
	va_start(ap, fmt);
	vsnprintf(id->message, sizeof(id->message), fmt, ap);
	va_end(ap);
}

static struct vigil_identity *identity_for_peer(int pid,
						const struct ucred *uc,
						const char *method)
{
	struct vigil_identity *id = calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	id->proc.pid = pid;
	id->peer_method = method;
	id->peer_pid = uc->pid;
	id->peer_uid = uc->uid;
	id->peer_gid = uc->gid;
	return id;
}

/* The pid a pidfd names here, from its fdinfo: -1 when the process has
 * exited, 0 when it is outside this pid namespace. Works on every kernel
 * that has pidfds; PIDFD_GET_INFO cannot tell those two cases apart. */
static int pidfd_fdinfo_pid(int pidfd, int *ret)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	long v;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	n = vg_read_small_at(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nPid:\t");
	if (!p)
		return -EOPNOTSUPP;
	errno = 0;
	v = strtol(p + 6, NULL, 10);
	if (errno || v < -1 || v > INT32_MAX)
		return -EBADMSG;
	*ret = (int)v;
	return 0;
}

/* Is the pidfd's process alive? 1, 0, or -errno. With the kernel's info
 * when it offers it (creds, cgroup id), else by a null signal. */
static int pidfd_alive(int pidfd, struct vg_pidfd_info *info, bool *have)
{
	*have = false;
	*info = (struct vg_pidfd_info){
		.mask = VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS | VG_PIDFD_INFO_CGROUPID,
	};
	if (ioctl(pidfd, VG_PIDFD_GET_INFO, info) == 0) {
		*have = (info->mask & (VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS)) ==
			(VG_PIDFD_INFO_PID | VG_PIDFD_INFO_CREDS);
		return 1;
	}
	if (errno == ESRCH) {
		/* gone, or (6.13+) alive but its pid or parent is not
		 * visible here: fdinfo tells which */
		int pid;

		if (pidfd_fdinfo_pid(pidfd, &pid) == 0)
			return pid > 0;
		return 0;
	}
	if (errno != ENOTTY && errno != EINVAL && errno != EOPNOTSUPP)
		return -errno;
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0)
		return 1;
	return errno == ESRCH ? 0 : errno == EPERM ? 1 : -errno;
}

static int start_ticks_at(int dfd, uint64_t *ret);

/* Does @pid name a live process (not a zombie) now? */
static bool pid_alive_now(const struct vigil_ctx *ctx, int pid)
{
	char name[16];
	uint64_t t;
	int dfd;

	snprintf(name, sizeof(name), "%d", pid);
	dfd = openat(ctx->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	bool alive = start_ticks_at(dfd, &t) == 0;
	close(dfd);
	return alive;
}

/* The peer is gone: say whether its pid already names another process,
 * which is what a server that trusted the pid would have reported. */
static void refuse_gone(struct vigil_ctx *ctx, struct vigil_identity *id,
			int pid, const char *when)
{
	if (pid > 0 && pid_alive_now(ctx, pid))
		refuse(id, VIGIL_PEER_REUSED,
		       "the process that connected (pid %d) exited %s; "
		       "pid %d now names another process",
		       pid, when, pid);
	else
		refuse(id, VIGIL_PEER_GONE,
		       "the process that connected (pid %d) exited %s", pid,
		       when);
}

/* The connect-time credentials against the process's now. */
static bool creds_changed(struct vigil_identity *id, uint32_t euid,
			  uint32_t egid)
{
	if (euid == id->peer_uid && egid == id->peer_gid)
		return false;
	refuse(id, VIGIL_PEER_CHANGED,
	       "its credentials changed after it connected: euid %u egid %u "
	       "then, euid %u egid %u now",
	       id->peer_uid, id->peer_gid, euid, egid);
	return true;
}

/* Facts of @pid into @id (which keeps its peer fields). */
static int read_facts(struct vigil_ctx *ctx, struct vigil_identity *id,
		      int pid)
{
	struct vigil_identity *facts = NULL;
	int r;

	r = vigil_identify_pid(ctx, pid, &facts);
	if (r < 0)
		return r;
	facts->peer_method = id->peer_method;
	facts->peer_pid = id->peer_pid;
	facts->peer_uid = id->peer_uid;
	facts->peer_gid = id->peer_gid;
	/* swap the filled identity in; @id's own fields hold nothing */
	struct vigil_identity tmp = *id;
	*id = *facts;
	*facts = tmp;
	vigil_identity_free(facts);
	return 0;
}

/* The first fact of @id that was not read, or NULL when all were: an
 * identity with a fact missing is no identity (a policy must never read
 * "no exe" as "not that exe"). */
static const char *missing_fact(const struct vigil_identity *id, int *ret_err)
{
	*ret_err = 0;
	if (!id->have_proc)
		return "process";
	if (!id->proc.exe) {
		*ret_err = id->proc.exe_err;
		return "exe";
	}
	if (!id->proc.cwd) {
		*ret_err = id->proc.cwd_err;
		return "cwd";
	}
	if (!id->proc.args_buf)
		return "argv";
	for (int i = 0; i < VG_NS_COUNT; i++)
		if (!(id->proc.ns_valid & (1u << i)))
			return vg_ns_name((enum vg_ns_type)i);
	if (!id->have_cg)
		return "cgroup";
	return NULL;
}

#define PF_EXITING 0x00000004 /* include/linux/sched.h */

/* Whether process @pid is exiting (or gone): its stat's flags. */
static bool exiting(struct vigil_ctx *ctx, int pid)
{
	char path[32], buf[1024];
	const char *p;
	unsigned long flags;
	ssize_t n;

	snprintf(path, sizeof(path), "%d/stat", pid);
	n = vg_read_small_at(ctx->proc_fd, path, buf, sizeof(buf));
	if (n <= 0)
		return true;
	/* the fields after the comm, which may hold anything but ')' last */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & PF_EXITING;
}

/* After the reads: every fact there, or a refusal that says why. True
 * when @id may stand. */
static bool all_facts(struct vigil_ctx *ctx, struct vigil_identity *id,
		      int pid)
{
	int err;
	const char *what = missing_fact(id, &err);

	if (!what)
		return true;
	if (exiting(ctx, pid))
		refuse(id, VIGIL_PEER_GONE,
		       "the process that connected (pid %d) is exiting: its "
		       "%s is gone", pid, what);
	else
		refuse(id, VIGIL_ERROR, "its %s could not be read%s%s", what,
		       err ? ": " : "", err ? strerror(-err) : "");
	return false;
}

static int identify_pidfd(struct vigil_ctx *ctx, struct vigil_identity *id,
			  int pidfd)
{
	struct vg_pidfd_info info;
	bool have_info;
	int pid = id->peer_pid, r;

	r = pidfd_alive(pidfd, &info, &have_info);
	if (r < 0)
		return r;
	if (r == 0) {
		refuse_gone(ctx, id, pid, "before it was identified");
		return 0;
	}
	if (have_info && (int)info.pid != pid) {
		/* both name the socket's one struct pid; a mismatch means
		 * a kernel this code does not understand */
		refuse(id, VIGIL_ERROR,
		       "SO_PEERCRED says pid %d, its pidfd pid %u", pid,
		       info.pid);
		return 0;
	}

	r = read_facts(ctx, id, pid);
	if (r < 0)
		return r;
	if (id->status == VIGIL_NOT_FOUND ||
	    (id->have_proc && (id->proc.state == 'Z' || id->proc.state == 'X'))) {
		/* a zombie still has its pid, but has exited */
		refuse(id, VIGIL_PEER_GONE,
		       "the process that connected (pid %d) has exited", pid);
		return 0;
	}

	/* Still alive now, so it held @pid all along: everything above was
	 * read from it. */
	r = pidfd_alive(pidfd, &info, &have_info);
	if (r < 0)
		return r;
	if (r == 0) {
		refuse_gone(ctx, id, pid, "while it was identified");
		return 0;
	}
	if (have_info) {
		if (creds_changed(id, info.euid, info.egid))
			return 0;
		if (id->have_proc &&
		    (info.ruid != id->proc.uid || info.euid != id->proc.euid ||
		     info.rgid != id->proc.gid || info.egid != id->proc.egid)) {
			refuse(id, VIGIL_PEER_CHANGED,
			       "its credentials changed while it was "
			       "identified");
			return 0;
		}
		if ((info.mask & VG_PIDFD_INFO_CGROUPID) && info.cgroupid &&
		    id->cgroup_id && info.cgroupid != id->cgroup_id) {
			refuse(id, VIGIL_PEER_CHANGED,
			       "it moved to another cgroup while it was "
			       "identified");
			return 0;
		}
	} else if (id->have_proc) {
		if (creds_changed(id, id->proc.euid, id->proc.egid))
			return 0;
	}
	if (id->status == VIGIL_OK)
		all_facts(ctx, id, pid);
	return 0;
}

struct diag_in_ns {
	int nsfd;
	int fd; /* out: a sock_diag socket in that namespace, or -errno */
};

/* setns() moves only the calling thread: a short-lived thread makes the
 * socket there, and the socket keeps that namespace. */
static void *diag_socket_thread(void *arg)
{
	struct diag_in_ns *d = arg;

	if (setns(d->nsfd, CLONE_NEWNET) < 0) {
		d->fd = -errno;
		return NULL;
	}
	d->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (d->fd < 0)
		d->fd = -errno;
	return NULL;
}

/* A sock_diag socket in the network namespace of the process behind
 * @dfd (-1: our own). Returns the fd or -errno. */
static int diag_socket(int dfd)
{
	struct diag_in_ns d = { .fd = -EIO };
	pthread_t t;
	int r;

	if (dfd < 0) {
		r = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			   NETLINK_SOCK_DIAG);
		return r < 0 ? -errno : r;
	}
	d.nsfd = openat(dfd, "ns/net", O_RDONLY | O_CLOEXEC);
	if (d.nsfd < 0)
		return -errno;
	r = pthread_create(&t, NULL, diag_socket_thread, &d);
	if (r == 0)
		pthread_join(t, NULL);
	close(d.nsfd);
	return r ? -r : d.fd;
}

/* The inode of the socket at the other end of unix socket @ino, from
 * sock_diag. A server's end of a connection lives in the client's network
 * namespace, so the lookup is made there when @dfd (the client's /proc
 * handle) is given. Returns 0, -ENOENT (no such socket there), -ENOTCONN,
 * or -errno (no unix_diag). */
static int unix_peer_ino(int dfd, uint32_t ino, uint32_t *ret)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = ~0u,
			.udiag_ino = ino,
			.udiag_show = UDIAG_SHOW_PEER,
			.udiag_cookie = { ~0u, ~0u },
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	_cleanup_close_ int nl = -1;
	union {
		char buf[8192];
		struct nlmsghdr align;
	} u;
	ssize_t n;

	nl = diag_socket(dfd);
	if (nl < 0)
		return nl;
	if (sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	n = recv(nl, u.buf, sizeof(u.buf), 0);
	if (n < 0)
		return -errno;
	for (struct nlmsghdr *h = &u.align; NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error ? e->error : -ENOTCONN;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
			continue;
		const struct unix_diag_msg *m = NLMSG_DATA(h);
		size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
		const struct nlattr *a = (const void *)(m + 1);

		if (m->udiag_ino != ino)
			continue;
		while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) &&
		       a->nla_len <= left) {
			if ((a->nla_type & NLA_TYPE_MASK) == UNIX_DIAG_PEER &&
			    a->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
				memcpy(ret, (const char *)a + NLA_HDRLEN,
				       sizeof(uint32_t));
				return 0;
			}
			size_t step = NLA_ALIGN(a->nla_len);

			if (step >= left)
				break;
			left -= step;
			a = (const void *)((const char *)a + step);
		}
		return -ENOTCONN;
	}
	return -ENOTCONN;
}

/* Does the process behind @dfd hold socket inode @ino? 1, 0, -errno. */
static int holds_socket(int dfd, uint32_t ino)
{
	char want[40], link[64];
	struct dirent *de;
	DIR *d;
	int fdfd, found = 0;

	snprintf(want, sizeof(want), "socket:[%u]", ino);
	fdfd = openat(dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0)
		return -errno;
	d = fdopendir(fdfd);
	if (!d) {
		close(fdfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (vg_readlink_at(fdfd, de->d_name, link, sizeof(link)) >= 0 &&
		    strcmp(link, want) == 0) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

/* Start time (stat field 22) of the process behind @dfd; -ESRCH for a
 * zombie, which holds nothing any more. */
static int start_ticks_at(int dfd, uint64_t *ret)
{
	char buf[VG_STAT_MAX];
	struct vg_proc p = { 0 };
	ssize_t n;

	n = vg_read_small_at(dfd, "stat", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (vg_proc_parse_stat(buf, (size_t)n, &p) < 0)
		return -EBADMSG;
	if (p.state == 'Z' || p.state == 'X')
		return -ESRCH;
	*ret = p.start_ticks;
	return 0;
}

/*
 * Without SO_PEERPIDFD: a handle on /proc/<pid> is taken and must hold
 * the other end of the connection; the facts read afterwards must come
 * from a process with the handle's start time, and the handle's process
 * must still be alive at the end.
 */
static int identify_peercred(struct vigil_ctx *ctx, struct vigil_identity *id,
			     int sock)
{
	int pid = id->peer_pid, r;
	_cleanup_close_ int dfd = -1;
	uint64_t t0, t1;
	uint32_t peer_ino;
	struct stat st;
	char name[16];

	if (fstat(sock, &st) < 0)
		return -errno;
	snprintf(name, sizeof(name), "%d", pid);
	dfd = openat(ctx->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || start_ticks_at(dfd, &t0) < 0) {
		refuse_gone(ctx, id, pid, "before it was identified");
		return 0;
	}
	/* our network namespace first (the usual case), then the one of
	 * the process at @pid: if that is not the client, the socket is
	 * not found there and the peer is refused */
	r = unix_peer_ino(-1, (uint32_t)st.st_ino, &peer_ino);
	if (r == -ENOENT)
		r = unix_peer_ino(dfd, (uint32_t)st.st_ino, &peer_ino);
	if (r == -ENOENT) {
		refuse(id, VIGIL_PEER_REUSED,
		       "pid %d is not in the network namespace of the "
		       "connection: the process that connected has exited "
		       "and its pid was reused",
		       pid);
		return 0;
	}
	if (r < 0) {
		refuse(id, VIGIL_ERROR,
		       "cannot confirm the peer: no SO_PEERPIDFD, and "
		       "unix_diag says: %s",
		       strerror(-r));
		return 0;
	}
	r = holds_socket(dfd, peer_ino);
	if (r < 0) {
		if (start_ticks_at(dfd, &t1) < 0)
			refuse_gone(ctx, id, pid, "before it was identified");
		else
			refuse(id, VIGIL_ERROR,
			       "cannot confirm the peer: reading "
			       "/proc/%d/fd: %s",
			       pid, strerror(-r));
		return 0;
	}
	if (r == 0) {
		refuse(id, VIGIL_PEER_REUSED,
		       "pid %d does not hold the connection: the process "
		       "that connected has exited and its pid was reused",
		       pid);
		return 0;
	}

	r = read_facts(ctx, id, pid);
	if (r < 0)
		return r;
	if (id->status == VIGIL_NOT_FOUND ||
	    start_ticks_at(dfd, &t1) < 0) {
		refuse_gone(ctx, id, pid, "while it was identified");
		return 0;
	}
	if (id->have_proc && id->proc.start_ticks != t0) {
		refuse(id, VIGIL_PEER_REUSED,
		       "pid %d changed hands while it was identified", pid);
		return 0;
	}
	if (id->have_proc && creds_changed(id, id->proc.euid, id->proc.egid))
		return 0;
	if (id->status == VIGIL_OK)
		all_facts(ctx, id, pid);
	return 0;
}

int vigil_peer_identify(int fd, struct vigil_ctx *ctx, unsigned flags,
			struct vigil_identity **ret)
{
	struct vigil_identity *id;
	struct sockaddr_un sa;
	socklen_t len = sizeof(int);
	struct ucred uc;
	int domain, r;
	_cleanup_close_ int pidfd = -1;
	const char *method = "pidfd";

	if (fd < 0 || !ctx || !ret || (flags & ~VIGIL_PEER_NO_PIDFD))
		return -EINVAL;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return -errno;
	if (domain != AF_UNIX)
		return -EAFNOSUPPORT;
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;

	if (!(flags & VIGIL_PEER_NO_PIDFD)) {
		len = sizeof(pidfd);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
			pidfd = -1;
			if (errno != ENOPROTOOPT && errno != ESRCH &&
			    errno != EINVAL && errno != ENODATA)
				return -errno;
			if (errno == ENOPROTOOPT)
				method = "peercred";
		}
	} else {
		method = "peercred";
	}

	id = identity_for_peer(uc.pid, &uc, method);
	if (!id)
		return -ENOMEM;
	if (!ctx->own_proc) {
		/* the context reads another /proc (--host-root): its pids
		 * need not be this process's */
		refuse(id, VIGIL_ERROR,
		       "the host root's /proc is not this process's own: "
		       "socket peers cannot be looked up in it");
		goto out;
	}
	if (uc.pid == 0) {
		refuse(id, VIGIL_PEER_HIDDEN,
		       "the peer is in a pid namespace this process cannot "
		       "see (its pid here is 0)");
		goto out;
	}
	if (strcmp(method, "pidfd") == 0 && pidfd < 0) {
		/* the kernel could make no pidfd: the process has exited */
		refuse_gone(ctx, id, uc.pid, "before it was identified");
		goto out;
	}
	r = pidfd >= 0 ? identify_pidfd(ctx, id, pidfd)
		       : identify_peercred(ctx, id, fd);
	if (r < 0) {
		vigil_identity_free(id);
		return r;
	}
out:
	*ret = id;
	return 0;
}
