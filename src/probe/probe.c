/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libaudit.h>

#include "source/audit/control.h"

#include "k8s/kubelet.h"
#include "probe.skel.h"
#include "proc/proc.h"
#include "base/caps.h"
#include "base/util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ------------------------------------------------------------- helpers */

bool vg_probe_has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* libbpf's warnings while probing: the last one, for the report, never
 * printed (a program kind that does not load is a finding, not an
 * error). */
static char probe_libbpf_last[256];

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	if (level == LIBBPF_WARN && fmt) {
		vsnprintf(probe_libbpf_last, sizeof(probe_libbpf_last), fmt, ap);
		probe_libbpf_last[strcspn(probe_libbpf_last, "\n")] = '\0';
	}
	return 0;
}

/* "6.18.44-fc" → 6, 18; false when it does not start so. */
static bool kernel_version(const char *release, int *major, int *minor)
{
	return sscanf(release, "%d.%d", major, minor) == 2;
}

/* The lockdown mode: the bracketed word of securityfs's lockdown file
 * ("none", "integrity", "confidentiality"), or NULL when there is none
 * (no securityfs, or a kernel without lockdown). */
static const char *lockdown_mode(char *buf, size_t bufsz)
{
	char *a, *b;

	if (vg_read_small_at(AT_FDCWD, "/sys/kernel/security/lockdown", buf,
			     bufsz) <= 0) {
		_cleanup_close_ int fd = vg_mount_private("securityfs");

		if (fd < 0 || vg_read_small_at(fd, "lockdown", buf, bufsz) <= 0)
			return NULL;
	}
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!a || !b)
		return NULL;
	*b = '\0';
	return a + 1;
}

static bool have_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

static bool have_ringbuf(void)
{
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
}

/* ---------------------------------------------------------- preflight */

int vg_probe_preflight(char *err, size_t errsz)
{
	struct utsname u;
	char lock[128];
	const char *mode;
	int major = 0, minor = 0;

	if (!(vg_probe_has_cap(CAP_BPF) && vg_probe_has_cap(CAP_PERFMON)) &&
	    !vg_probe_has_cap(CAP_SYS_ADMIN)) {
		char missing[64] = "";

		if (!vg_probe_has_cap(CAP_BPF))
			strcat(missing, "CAP_BPF");
		if (!vg_probe_has_cap(CAP_PERFMON))
			strcat(missing, missing[0] ? " and CAP_PERFMON" : "CAP_PERFMON");
		vg_set_err(err, errsz,
			   "missing capabilities: %s (or CAP_SYS_ADMIN), which "
			   "loading and attaching eBPF programs needs; run as root "
			   "(sudo), or grant them to vigil%s",
			   missing, geteuid() ? "" : " (this root has dropped them)");
		return -EPERM;
	}
	if (uname(&u) == 0 && kernel_version(u.release, &major, &minor) &&
	    (major < VG_KERNEL_MIN_MAJOR ||
	     (major == VG_KERNEL_MIN_MAJOR && minor < VG_KERNEL_MIN_MINOR))) {
		vg_set_err(err, errsz,
			   "kernel %s is too old: vigil's eBPF sensor needs Linux "
			   "%d.%d or later (BTF, the BPF ring buffer, bpf_loop); "
			   "upgrade the kernel, or use vigil pid and vigil server, "
			   "which need no eBPF",
			   u.release, VG_KERNEL_MIN_MAJOR, VG_KERNEL_MIN_MINOR);
		return -EOPNOTSUPP;
	}
	if (!have_btf()) {
		vg_set_err(err, errsz,
			   "no kernel BTF (/sys/kernel/btf/vmlinux is missing): "
			   "vigil's eBPF programs are compiled once and relocated "
			   "by it; use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	mode = lockdown_mode(lock, sizeof(lock));
	if (mode && strcmp(mode, "confidentiality") == 0) {
		vg_set_err(err, errsz,
			   "kernel lockdown is 'confidentiality', which forbids "
			   "eBPF programs to read kernel memory; boot with "
			   "lockdown=integrity (or none) to run the sensor");
		return -EPERM;
	}
	if (!have_ringbuf()) {
		vg_set_err(err, errsz,
			   "the kernel has no BPF ring buffer (Linux 5.8 or "
			   "later has one); upgrade the kernel");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* -------------------------------------------------------------- probes */

static void probe_kernel(struct vg_probe_env *env, struct vg_report *r)
{
	struct utsname u;
	char lock[128];
	const char *mode = lockdown_mode(lock, sizeof(lock));
	int major = 0, minor = 0;
	bool old;

	(void)env;
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	old = kernel_version(u.release, &major, &minor) &&
	      (major < VG_KERNEL_MIN_MAJOR ||
	       (major == VG_KERNEL_MIN_MAJOR && minor < VG_KERNEL_MIN_MINOR));
	vg_row_str(vg_report_row(r, "kernel.release", "release"), NULL, u.release);
	vg_row_str(vg_report_row(r, "kernel.machine", "machine"), NULL, u.machine);
	vg_row_bool(vg_report_row(r, "kernel.btf", "BTF"), NULL, have_btf());
	vg_row_str(vg_report_row(r, "kernel.lockdown", "lockdown"), NULL, mode);
	if (old)
		vg_report_blocker(r, "kernel %s is older than %d.%d, which the "
				  "eBPF sensor needs", u.release,
				  VG_KERNEL_MIN_MAJOR, VG_KERNEL_MIN_MINOR);
	if (!have_btf())
		vg_report_blocker(r, "no kernel BTF (/sys/kernel/btf/vmlinux): "
				  "use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	if (mode && strcmp(mode, "confidentiality") == 0)
		vg_report_blocker(r, "lockdown 'confidentiality' forbids eBPF "
				  "reads of kernel memory: boot with "
				  "lockdown=integrity");
}

static void probe_privileges(struct vg_probe_env *env, struct vg_report *r)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ CAP_BPF, "bpf" },
		{ CAP_PERFMON, "perfmon" },
		{ CAP_SYS_ADMIN, "sys_admin" },
		{ CAP_SYS_PTRACE, "sys_ptrace" },
		{ CAP_DAC_READ_SEARCH, "dac_read_search" },
		{ CAP_SYS_RESOURCE, "sys_resource" },
		{ CAP_AUDIT_CONTROL, "audit_control" },
		{ CAP_AUDIT_READ, "audit_read" },
	};
	struct vg_row *w = vg_report_row(r, "privileges.capabilities",
					 "capabilities");
	char err[512];

	(void)env;
	vg_row_int(vg_report_row(r, "privileges.euid", "euid"), NULL, geteuid());
	for (size_t i = 0; i < VG_ARRAY_SIZE(caps); i++)
		vg_row_bool(w, caps[i].name, vg_probe_has_cap(caps[i].cap));
	if (!(vg_probe_has_cap(CAP_BPF) && vg_probe_has_cap(CAP_PERFMON)) &&
	    !vg_probe_has_cap(CAP_SYS_ADMIN) &&
	    vg_probe_preflight(err, sizeof(err)) == -EPERM)
		vg_report_blocker(r, "%s", err);
}

static void probe_tracefs(struct vg_probe_env *env, struct vg_report *r)
{
	const char *where = NULL;
	int fd = vg_tracefs_open_mounted(&where);
	struct vg_row *w;
	char err[512];

	if (fd >= 0)
		close(fd);
	vg_row_str(vg_report_row(r, "tracefs.mounted", "mounted at"), NULL,
		   fd >= 0 ? where : NULL);
	fd = vg_tracefs_open_private();
	vg_row_bool(w = vg_report_row(r, "tracefs.private", "private mount"),
		    "possible", fd >= 0);
	if (fd < 0)
		vg_row_str(w, "error", strerror(-fd));
	else
		close(fd);
	if (vg_tracefs_ensure(env->tracefs, err, sizeof(err)) < 0) {
		vg_row_null(vg_report_row(r, "tracefs.used", "vigil uses"), NULL);
		vg_report_blocker(r, "%s", err);
		return;
	}
	vg_row_str(vg_report_row(r, "tracefs.used", "vigil uses"), NULL,
		   env->tracefs->how == VG_TRACEFS_PRIVATE
			   ? "a private mount (no mount table shows it)"
			   : env->tracefs->where);
}

enum kind { K_TRACEPOINT, K_RAW_TP, K_TP_BTF, K_KPROBE, K_FENTRY, K_LSM };

static struct bpf_program *kind_prog(struct probe_bpf *skel, enum kind k)
{
	switch (k) {
	case K_TRACEPOINT:
		return skel->progs.probe_tracepoint;
	case K_RAW_TP:
		return skel->progs.probe_raw_tp;
	case K_TP_BTF:
		return skel->progs.probe_tp_btf;
	case K_KPROBE:
		return skel->progs.probe_kprobe;
	case K_FENTRY:
		return skel->progs.probe_fentry;
	case K_LSM:
		return skel->progs.probe_lsm;
	}
	return NULL;
}

/* Load the program of kind @k alone, then attach it. */
static void try_kind(struct vg_probe_env *env, enum kind k, bool *ret_loads,
		     bool *ret_attaches, char *why, size_t whysz)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *p, *want;
	struct bpf_link *l = NULL;
	int r;

	*ret_loads = *ret_attaches = false;
	why[0] = '\0';
	if (!skel) {
		snprintf(why, whysz, "open: %s", strerror(errno));
		return;
	}
	want = kind_prog(skel, k);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == want);
	probe_libbpf_last[0] = '\0';
	r = probe_bpf__load(skel);
	if (r < 0) {
		snprintf(why, whysz, "load: %s", strerror(-r));
		goto out;
	}
	*ret_loads = true;
	if (k == K_TRACEPOINT) {
		uint32_t id;
		char err[256];

		r = vg_tracefs_ensure(env->tracefs, err, sizeof(err));
		if (r == 0)
			r = vg_tracefs_event_id(env->tracefs->fd, "syscalls",
						"sys_enter_getppid", &id);
		if (r < 0) {
			snprintf(why, whysz, "attach: no tracepoint id: %s",
				 strerror(-r));
			goto out;
		}
		l = vg_tracefs_attach(want, id, 0);
	} else {
		l = bpf_program__attach(want);
	}
	if (!l) {
		snprintf(why, whysz, "attach: %s", strerror(errno));
		goto out;
	}
	*ret_attaches = true;
out:
	bpf_link__destroy(l);
	probe_bpf__destroy(skel);
}

static void probe_programs(struct vg_probe_env *env, struct vg_report *r)
{
	static const struct {
		enum kind k;
		const char *key, *label;
	} kinds[] = {
		{ K_TRACEPOINT, "programs.tracepoint", "tracepoint" },
		{ K_RAW_TP, "programs.raw_tp", "raw_tp" },
		{ K_TP_BTF, "programs.tp_btf", "tp_btf" },
		{ K_KPROBE, "programs.kprobe", "kprobe" },
		{ K_FENTRY, "programs.fentry", "fentry" },
		{ K_LSM, "programs.lsm", "BPF LSM" },
	};
	struct vg_row *w;
	libbpf_print_fn_t old = libbpf_set_print(quiet_print);
	/* without them nothing loads, and the privileges say why */
	bool can = (vg_probe_has_cap(CAP_BPF) && vg_probe_has_cap(CAP_PERFMON)) ||
		   vg_probe_has_cap(CAP_SYS_ADMIN);

	for (size_t i = 0; i < VG_ARRAY_SIZE(kinds); i++) {
		bool loads, attaches;
		char why[300];

		try_kind(env, kinds[i].k, &loads, &attaches, why, sizeof(why));
		w = vg_report_row(r, kinds[i].key, kinds[i].label);
		vg_row_bool(w, "loads", loads);
		vg_row_bool(w, "attaches", attaches);
		if (why[0])
			vg_row_str(w, "error", why);
		/* vigil's sensor is built on these two kinds */
		if (can && (kinds[i].k == K_TRACEPOINT || kinds[i].k == K_TP_BTF) &&
		    !attaches)
			vg_report_blocker(r, "%s programs do not %s here (%s)",
					  kinds[i].label, loads ? "attach" : "load",
					  why);
	}
	libbpf_set_print(old);
	w = vg_report_row(r, "programs.ring_buffer", "ring buffer");
	if (!can) {
		vg_row_null(w, NULL); /* creating one needs CAP_BPF */
	} else {
		vg_row_bool(w, NULL, have_ringbuf());
		if (!have_ringbuf())
			vg_report_blocker(r, "no BPF ring buffer (Linux 5.8 or later)");
	}
}

static void probe_memlock(struct vg_probe_env *env, struct vg_report *r)
{
	struct rlimit rl;
	struct vg_row *w = vg_report_row(r, "limits.memlock", "memlock");

	(void)env;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
		vg_row_null(w, "soft");
		return;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		vg_row_str(w, "soft", "unlimited");
	else
		vg_row_int(w, "soft", (int64_t)rl.rlim_cur);
	if (rl.rlim_max == RLIM_INFINITY)
		vg_row_str(w, "hard", "unlimited");
	else
		vg_row_int(w, "hard", (int64_t)rl.rlim_max);
	/* since 5.11 BPF memory is charged to the cgroup, not memlock */
	vg_row_bool(w, "matters", false);
}

bool vg_probe_peerpidfd(void)
{
	int sv[2], pidfd = -1;
	socklen_t len = sizeof(pidfd);
	bool ok = false;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		if (getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 &&
		    pidfd >= 0) {
			ok = true;
			close(pidfd);
		}
		close(sv[0]);
		close(sv[1]);
	}
	return ok;
}

static void probe_peer(struct vg_probe_env *env, struct vg_report *r)
{
	int pfd;
	bool peerpidfd = vg_probe_peerpidfd(), getinfo = false;

	(void)env;
	pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pfd >= 0) {
		struct vg_pidfd_info info = { .mask = VG_PIDFD_INFO_PID };

		getinfo = ioctl(pfd, VG_PIDFD_GET_INFO, &info) == 0;
		close(pfd);
	}
	vg_row_bool(vg_report_row(r, "peer.so_peerpidfd", "SO_PEERPIDFD"), NULL,
		    peerpidfd);
	vg_row_bool(vg_report_row(r, "peer.pidfd_get_info", "PIDFD_GET_INFO"),
		    NULL, getinfo);
	vg_row_str(vg_report_row(r, "peer.method", "vigil server uses"), NULL,
		   peerpidfd ? "SO_PEERPIDFD (race-free)"
			     : "SO_PEERCRED and a /proc handle, checked after");
}

/* "audit=1" among the host's boot parameters. */
static bool booted_with_audit(int root_fd)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool cut;

	if (vg_read_file_at(root_fd, "proc/cmdline", 4096, &buf, &len, &cut) < 0)
		return false;
	for (char *s = strtok(buf, " \n"); s; s = strtok(NULL, " \n"))
		if (strcmp(s, "audit=1") == 0)
			return true;
	return false;
}

static void probe_audit(struct vg_probe_env *env, struct vg_report *r)
{
	struct vg_row *w = vg_report_row(r, "audit.status", "status");
	struct vg_row *rules = vg_report_row(r, "audit.rules", "rules");
	struct vg_row *src = vg_report_row(r, "audit.source", "vigil --source audit");
	struct vg_audit_status st;
	char err[256];
	bool boot = booted_with_audit(env->root_fd);

	if (vg_audit_status_read(&st, err, sizeof(err)) < 0) {
		vg_row_null(w, "enabled");
		vg_row_str(w, "error", err);
		vg_row_null(rules, "loaded");
		vg_row_bool(src, "usable", false);
		vg_row_str(src, "why", err);
	} else {
		vg_row_bool(w, "enabled", st.enabled != 0);
		vg_row_bool(w, "immutable", st.enabled == 2);
		vg_row_int(w, "daemon_pid", st.pid);
		vg_row_int(w, "backlog_limit", st.backlog_limit);
		vg_row_int(w, "rate_limit", st.rate_limit);
		vg_row_int(w, "lost", st.lost);
		vg_row_int(w, "backlog", st.backlog);
		vg_row_int(rules, "loaded", st.rules);
		vg_row_int(rules, "vigil", st.own_rules);
		vg_row_bool(rules, "never_task", st.never_task);
		bool busy = vg_audit_taken(NULL);

		if (st.enabled == 2) {
			vg_row_bool(src, "usable", false);
			vg_row_str(src, "why", "audit is immutable: no rule can be "
				   "added until reboot");
		} else if (st.never_task) {
			vg_row_bool(src, "usable", false);
			vg_row_str(src, "why", "a \"-a never,task\" rule turns syscall "
				   "auditing off for new tasks (auditctl -d never,task)");
		} else if (busy) {
			vg_row_bool(src, "usable", false);
			vg_row_str(src, "why", "another vigil runs the audit source");
		} else {
			vg_row_bool(src, "usable", true);
			vg_row_str(src, "reads", st.pid ? "the multicast group, beside "
				   "the audit daemon" : "as the audit daemon (none runs)");
		}
	}
	vg_row_bool(vg_report_row(r, "audit.boot_audit", "booted with audit=1"),
		    NULL, boot);
	if (!boot)
		vg_row_str(vg_report_row(r, "audit.boot_note", "without audit=1"), NULL,
			   "tasks forked before audit was first enabled log no fork "
			   "or exit; vigil --source audit fills its process table "
			   "from /proc for them");
}

static void probe_cgroup(struct vg_probe_env *env, struct vg_report *r)
{
	struct statfs sf;
	const char *layout = "unknown", *v2 = NULL;
	_cleanup_close_ int fd = -1, ufd = -1;

	fd = openat(env->root_fd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fstatfs(fd, &sf) == 0) {
		if ((uint64_t)sf.f_type == CGROUP2_SUPER_MAGIC) {
			layout = "v2";
			v2 = "/sys/fs/cgroup";
		} else {
			ufd = openat(fd, "unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (ufd >= 0 && fstatfs(ufd, &sf) == 0 &&
			    (uint64_t)sf.f_type == CGROUP2_SUPER_MAGIC) {
				layout = "hybrid";
				v2 = "/sys/fs/cgroup/unified";
			} else {
				layout = "v1";
			}
		}
	}
	vg_row_str(vg_report_row(r, "cgroup.layout", "layout"), NULL, layout);
	vg_row_str(vg_report_row(r, "cgroup.v2_mount", "v2 mount"), NULL, v2);
	vg_row_str(vg_report_row(r, "cgroup.event_ids", "events carry"), NULL,
		   v2 ? "cgroup v2 ids" : "no cgroup v2 id (v1 only): attributed by /proc");
}

/* Whether a Unix socket at host path @rel answers a connect. */
static bool socket_answers(struct vg_probe_env *env, const char *rel)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s",
		     strcmp(env->host_root, "/") == 0 ? "" : env->host_root, rel);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static bool exists(struct vg_probe_env *env, const char *rel)
{
	return faccessat(env->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* One runtime: the first of its state directories and sockets found. */
static void runtime_row(struct vg_probe_env *env, struct vg_report *r,
			const char *key, const char *label,
			const char *const *states, const char *const *socks)
{
	struct vg_row *w = vg_report_row(r, key, label);
	const char *state = NULL, *sock = NULL;
	char abs[512];

	for (; *states && !state; states++)
		if (exists(env, *states))
			state = *states;
	for (; *socks && !sock; socks++)
		if (exists(env, *socks))
			sock = *socks;
	vg_row_bool(w, "found", state || sock);
	if (state) {
		snprintf(abs, sizeof(abs), "/%s", state);
		vg_row_str(w, "state", abs);
	} else {
		vg_row_null(w, "state");
	}
	if (sock) {
		snprintf(abs, sizeof(abs), "/%s", sock);
		vg_row_str(w, "socket", abs);
		vg_row_bool(w, "reachable", socket_answers(env, sock));
	} else {
		vg_row_null(w, "socket");
		vg_row_bool(w, "reachable", false);
	}
}

static void probe_runtimes(struct vg_probe_env *env, struct vg_report *r)
{
	const struct vg_runtime_cfg *c = env->rt;
	const char *docker_state[] = { c->docker_root, NULL };
	const char *docker_sock[] = { c->docker_socket ? c->docker_socket : "run/docker.sock", NULL };
	const char *ctrd_state[] = { "run/containerd/io.containerd.runtime.v2.task",
				     "run/docker/containerd/daemon/io.containerd.runtime.v2.task",
				     "var/lib/containerd", NULL };
	const char *ctrd_sock[] = { "run/containerd/containerd.sock",
				    "run/docker/containerd/containerd.sock", NULL };
	const char *crio_state[] = { "var/lib/crio", "run/crio", NULL };
	const char *crio_sock[] = { "run/crio/crio.sock", NULL };
	const char *podman_state[] = { "run/libpod", c->storage_run, NULL };
	const char *podman_sock[] = { "run/podman/podman.sock", NULL };

	runtime_row(env, r, "runtimes.docker", "docker", docker_state, docker_sock);
	runtime_row(env, r, "runtimes.containerd", "containerd", ctrd_state, ctrd_sock);
	runtime_row(env, r, "runtimes.crio", "CRI-O", crio_state, crio_sock);
	runtime_row(env, r, "runtimes.podman", "podman", podman_state, podman_sock);
}

static void probe_kubelet(struct vg_probe_env *env, struct vg_report *r)
{
	struct vg_row *w;
	struct vg_pod_info pod;
	char err[256] = "";
	int rc;

	if (!env->kubelet)
		return;
	w = vg_report_row(r, "kubelet", "kubelet");
	vg_row_str(w, "url", env->kubelet_url);
	/* a pod uid no kubelet has: -ENOENT means it answered */
	rc = vg_kubelet_pod(env->kubelet, "vigil-doctor-no-such-pod", &pod, err,
			    sizeof(err));
	if (rc == 0)
		vg_pod_info_release(&pod);
	vg_row_bool(w, "reachable", rc == 0 || rc == -ENOENT);
	if (rc < 0 && rc != -ENOENT)
		vg_row_str(w, "error", err[0] ? err : strerror(-rc));
}

const struct vg_probe vg_probes[] = {
	{ "kernel", probe_kernel },
	{ "privileges", probe_privileges },
	{ "tracefs", probe_tracefs },
	{ "programs", probe_programs },
	{ "limits", probe_memlock },
	{ "peer", probe_peer },
	{ "audit", probe_audit },
	{ "cgroup", probe_cgroup },
	{ "runtimes", probe_runtimes },
	{ "kubelet", probe_kubelet },
};
const size_t vg_n_probes = VG_ARRAY_SIZE(vg_probes);

void vg_probe_run(const struct vg_probe *table, size_t n,
		  struct vg_probe_env *env, struct vg_report *r)
{
	for (size_t i = 0; i < n; i++)
		table[i].run(env, r);
}
