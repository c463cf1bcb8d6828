/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/audit/control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <libaudit.h>

#include "base/util.h"
#include "event/event.h"

#define STATE_VERSION 1
/* One record datagram, at most (the kernel's is MAX_AUDIT_MESSAGE_LENGTH). */
#define RECV_MAX 65536
/* Datagrams taken by one recvmmsg: a storm's records cost one system call
 * per RECV_SLOTS, not one each. Pages of a slot are touched only as far as
 * its records reach. */
#define RECV_SLOTS 32
/* Rules of one group: b64 and b32. */
#define GROUP_RULES 2

/* The rule groups: one per event type that needs its own syscalls. */
struct rule_group {
	uint32_t type;           /* VG_E_* */
	const char *syscalls[32];
	bool success;            /* only calls that succeeded */
	bool compat;             /* also for 32-bit tasks (the table's) */
};

static const struct rule_group groups[] = {
	{ VG_E_EXEC, { "execve", "execveat" }, true, true },
	{ VG_E_FORK, { "fork", "vfork", "clone", "clone3" }, true, true },
	{ VG_E_EXIT, { "exit_group" }, false, true },
	{ VG_E_OPEN, { "open", "openat", "openat2", "creat" }, false, false },
	{ VG_E_CONNECT, { "connect" }, false, false },
	{ VG_E_ACCEPT, { "accept", "accept4" }, false, false },
	{ VG_E_BIND, { "bind" }, false, false },
	{ VG_E_LISTEN, { "listen" }, false, false },
	/* file changes, and the opens that may write */
	{ VG_E_FILE, { "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod",
		       "mknodat", "chmod", "fchmodat", "fchmod", "chown", "lchown",
		       "fchownat", "fchown", "truncate", "ftruncate", "rename",
		       "renameat", "renameat2", "link", "linkat", "symlink",
		       "symlinkat", "open", "openat", "openat2", "creat" },
	  false, false },
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

struct saved {
	uint32_t enabled, backlog_limit;
	bool set_enabled, set_backlog, registered;
};

struct vg_audit_ctl {
	int fd;         /* libaudit's: status and rules */
	int read_fd;    /* records: registered, or the multicast group */
	int lock_fd;
	char state_path[PATH_MAX];
	bool multicast;
	struct saved saved;
	uint64_t types;
	struct audit_rule_data *rules[N_GROUPS][GROUP_RULES];
	char *buf;
};

static void quiet(void)
{
	set_aumessage_mode(MSG_QUIET, DBG_NO);
}

/* ------------------------------------------------------------ status */

static int get_status(int fd, struct audit_status *ret)
{
	struct audit_reply rep;
	int r;

	if (audit_request_status(fd) <= 0)
		return errno ? -errno : -EIO;
	for (int i = 0; i < 16; i++) {
		r = audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0);
		if (r <= 0)
			return r < 0 ? r : -EIO;
		if (rep.type == AUDIT_GET) {
			memset(ret, 0, sizeof(*ret));
			memcpy(ret, rep.status,
			       (size_t)rep.len < sizeof(*ret) ? (size_t)rep.len : sizeof(*ret));
			return 0;
		}
		if (rep.type == NLMSG_ERROR && rep.error->error)
			return rep.error->error;
	}
	return -EIO;
}

/* The kernel's status as vigil reports it (the rule counts apart). */
static void status_of(const struct audit_status *st, struct vg_audit_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->enabled = st->enabled;
	ret->failure = st->failure;
	ret->pid = st->pid;
	ret->rate_limit = st->rate_limit;
	ret->backlog_limit = st->backlog_limit;
	ret->lost = st->lost;
	ret->backlog = st->backlog;
	ret->backlog_wait_time = st->backlog_wait_time;
}

/* Whether field @f of a rule carries a string in the rule's buffer. */
static bool str_field(uint32_t f)
{
	return (f >= AUDIT_SUBJ_USER && f <= AUDIT_OBJ_LEV_HIGH && f != AUDIT_PPID) ||
	       f == AUDIT_WATCH || f == AUDIT_DIR || f == AUDIT_FILTERKEY ||
	       f == AUDIT_EXE;
}

/* The key of @rule ("" for none), bounded by its buffer. */
static void rule_key(const struct audit_rule_data *rule, size_t len, char *key,
		     size_t keysz)
{
	size_t off = 0, have;

	key[0] = '\0';
	if (len < sizeof(*rule))
		return;
	have = len - sizeof(*rule);
	if (rule->buflen < have)
		have = rule->buflen;
	for (uint32_t i = 0; i < rule->field_count && i < AUDIT_MAX_FIELDS; i++) {
		uint32_t f = rule->fields[i] & ~AUDIT_OPERATORS;

		if (!str_field(f))
			continue;
		if (rule->values[i] > have - off)
			return;
		if (f == AUDIT_FILTERKEY) {
			size_t n = rule->values[i] < keysz - 1 ? rule->values[i] : keysz - 1;

			memcpy(key, rule->buf + off, n);
			key[n] = '\0';
			return;
		}
		off += rule->values[i];
	}
}

struct rule_list {
	struct audit_rule_data **own; /* copies, to delete */
	size_t n_own, cap;
	unsigned all;
	bool never_task;
};

static int list_rules(int fd, struct rule_list *l)
{
	struct audit_reply rep;
	int r;

	memset(l, 0, sizeof(*l));
	if (audit_request_rules_list_data(fd) <= 0)
		return errno ? -errno : -EIO;
	for (int i = 0; i < 100000; i++) {
		char key[64];

		r = audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0);
		if (r <= 0)
			return r < 0 ? r : -EIO;
		if (rep.type == NLMSG_DONE)
			return 0;
		if (rep.type == NLMSG_ERROR) {
			if (rep.error->error)
				return rep.error->error;
			continue;
		}
		if (rep.type != AUDIT_LIST_RULES || rep.len < (int)sizeof(*rep.ruledata))
			continue;
		l->all++;
		if ((rep.ruledata->flags & ~AUDIT_FILTER_PREPEND) == AUDIT_FILTER_TASK &&
		    rep.ruledata->action == AUDIT_NEVER)
			l->never_task = true;
		rule_key(rep.ruledata, (size_t)rep.len, key, sizeof(key));
		if (strcmp(key, VG_AUDIT_KEY) != 0)
			continue;
		if (l->n_own == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			void *p = realloc(l->own, cap * sizeof(*l->own));

			if (!p)
				return -ENOMEM;
			l->own = p;
			l->cap = cap;
		}
		l->own[l->n_own] = malloc((size_t)rep.len);
		if (!l->own[l->n_own])
			return -ENOMEM;
		memcpy(l->own[l->n_own++], rep.ruledata, (size_t)rep.len);
	}
	return -EIO;
}

static void rule_list_release(struct rule_list *l)
{
	for (size_t i = 0; i < l->n_own; i++)
		free(l->own[i]);
	free(l->own);
}

int vg_audit_status_read(struct vg_audit_status *ret, char *err, size_t errsz)
{
	struct audit_status st;
	struct rule_list l;
	int fd, r;

	quiet();
	fd = audit_open();
	if (fd < 0) {
		r = -errno;
		vg_set_err(err, errsz, "cannot open the audit netlink socket: %s",
			   strerror(-r));
		return r;
	}
	r = get_status(fd, &st);
	if (r < 0) {
		vg_set_err(err, errsz, "cannot read audit's status: %s%s", strerror(-r),
			   r == -EPERM ? " (needs CAP_AUDIT_CONTROL)" : "");
		audit_close(fd);
		return r;
	}
	status_of(&st, ret);
	r = list_rules(fd, &l);
	if (r == 0) {
		ret->rules = l.all;
		ret->own_rules = (unsigned)l.n_own;
		ret->never_task = l.never_task;
	}
	rule_list_release(&l);
	audit_close(fd);
	return 0;
}

/* ------------------------------------------------------------- state */

static int state_write(struct vg_audit_ctl *c)
{
	char tmp[PATH_MAX + 8], text[256];
	int fd, n;

	n = snprintf(text, sizeof(text),
		     "version=%d\npid=%d\nset_enabled=%d\nenabled=%u\n"
		     "set_backlog=%d\nbacklog_limit=%u\nregistered=%d\n",
		     STATE_VERSION, (int)getpid(), c->saved.set_enabled,
		     c->saved.enabled, c->saved.set_backlog,
		     c->saved.backlog_limit, c->saved.registered);
	snprintf(tmp, sizeof(tmp), "%s.new", c->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
		int r = -errno;

		close(fd);
		unlink(tmp);
		return r ? r : -EIO;
	}
	close(fd);
	return rename(tmp, c->state_path) < 0 ? -errno : 0;
}

/* A state file a crashed vigil left: what it had changed. */
static int state_read(const char *path, struct saved *ret)
{
	char text[512], *save = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EBADMSG;
	text[n] = '\0';
	memset(ret, 0, sizeof(*ret));
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long v;
		char name[32];

		if (sscanf(line, "%31[a-z_]=%lu", name, &v) != 2 || v > UINT32_MAX)
			return -EBADMSG;
		if (strcmp(name, "set_enabled") == 0)
			ret->set_enabled = v != 0;
		else if (strcmp(name, "enabled") == 0)
			ret->enabled = (uint32_t)v;
		else if (strcmp(name, "set_backlog") == 0)
			ret->set_backlog = v != 0;
		else if (strcmp(name, "backlog_limit") == 0)
			ret->backlog_limit = (uint32_t)v;
		else if (strcmp(name, "registered") == 0)
			ret->registered = v != 0;
	}
	return 0;
}

static void restore(int fd, const struct saved *s, uint32_t own_pid)
{
	struct audit_status st;

	if (s->registered && get_status(fd, &st) == 0 && st.pid &&
	    (!own_pid || st.pid == own_pid))
		audit_set_pid(fd, 0, WAIT_NO);
	if (s->set_backlog)
		audit_set_backlog_limit(fd, s->backlog_limit);
	if (s->set_enabled && s->enabled < 2)
		audit_set_enabled(fd, s->enabled);
}

static int delete_own_rules(int fd)
{
	struct rule_list l;
	int r = list_rules(fd, &l);

	for (size_t i = 0; r == 0 && i < l.n_own; i++)
		audit_delete_rule_data(fd, l.own[i], l.own[i]->flags, l.own[i]->action);
	rule_list_release(&l);
	return r;
}

/* ------------------------------------------------------------- rules */

/* libaudit's own state while a rule is built, as auditctl keeps it: a
 * key is taken only once a syscall is in the rule, and the arch of the
 * syscall names is the last "arch=" given. Exported, not declared. */
extern int _audit_syscalladded, _audit_archadded, _audit_elf;

/* libaudit writes into the "name=value" it is given: a copy each time. */
static int add_pair(struct audit_rule_data **rule, const char *pair)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", pair);
	return audit_rule_fieldpair_data(rule, buf, AUDIT_FILTER_EXIT);
}

static struct audit_rule_data *make_rule(const struct rule_group *g,
					 const char *arch)
{
	struct audit_rule_data *rule = audit_rule_create_data();
	char pair[32];
	int added = 0;

	if (!rule)
		return NULL;
	_audit_syscalladded = _audit_archadded = _audit_elf = 0;
	snprintf(pair, sizeof(pair), "arch=%s", arch);
	if (add_pair(&rule, pair) != 0)
		goto fail;
	for (size_t i = 0; i < VG_ARRAY_SIZE(g->syscalls) && g->syscalls[i]; i++)
		if (audit_rule_syscallbyname_data(rule, g->syscalls[i]) == 0)
			added++;
	if (!added)
		goto fail;
	_audit_syscalladded = 1;
	/* not vigil's own calls: its reads of /proc would be open events
	 * of their own, without end (as the audit daemon the kernel skips
	 * them already; beside one, it does not) */
	snprintf(pair, sizeof(pair), "pid!=%d", (int)getpid());
	if (add_pair(&rule, pair) != 0)
		goto fail;
	if (g->success &&
	    add_pair(&rule, "success=1") != 0)
		goto fail;
	if (add_pair(&rule, "key=" VG_AUDIT_KEY) != 0)
		goto fail;
	_audit_syscalladded = _audit_archadded = _audit_elf = 0;
	return rule;
fail:
	_audit_syscalladded = _audit_archadded = _audit_elf = 0;
	audit_rule_free_data(rule);
	return NULL;
}

static void group_del(struct vg_audit_ctl *c, size_t gi)
{
	for (int k = 0; k < GROUP_RULES; k++) {
		struct audit_rule_data *rule = c->rules[gi][k];

		if (!rule)
			continue;
		audit_delete_rule_data(c->fd, rule, AUDIT_FILTER_EXIT, AUDIT_ALWAYS);
		audit_rule_free_data(rule);
		c->rules[gi][k] = NULL;
	}
	c->types &= ~VG_E_BIT(groups[gi].type);
}

static int group_add(struct vg_audit_ctl *c, size_t gi, char *err, size_t errsz)
{
	const struct rule_group *g = &groups[gi];
	bool compat = g->compat && audit_detect_machine() == MACH_86_64;
	const char *arches[GROUP_RULES] = { "b64", compat ? "b32" : NULL };

	for (int k = 0; k < GROUP_RULES; k++) {
		struct audit_rule_data *rule;
		int r;

		if (!arches[k])
			continue;
		rule = make_rule(g, arches[k]);
		if (!rule) {
			if (k > 0)
				continue; /* no such calls for 32-bit tasks */
			vg_set_err(err, errsz, "cannot build the audit rule for %s",
				   vg_event_type_name(g->type));
			group_del(c, gi);
			return -EINVAL;
		}
		r = audit_add_rule_data(c->fd, rule, AUDIT_FILTER_EXIT, AUDIT_ALWAYS);
		if (r <= 0) {
			r = r < 0 ? r : -EIO;
			vg_set_err(err, errsz, "cannot add the audit rule for %s: %s",
				   vg_event_type_name(g->type), strerror(-r));
			audit_rule_free_data(rule);
			group_del(c, gi);
			return r;
		}
		c->rules[gi][k] = rule;
	}
	c->types |= VG_E_BIT(g->type);
	return 0;
}

int vg_audit_ctl_set_types(struct vg_audit_ctl *c, uint64_t types, char *err,
			   size_t errsz)
{
	types |= VG_E_TABLE_TYPES;
	for (size_t gi = 0; gi < N_GROUPS; gi++) {
		uint64_t bit = VG_E_BIT(groups[gi].type);

		if ((types & bit) && !(c->types & bit)) {
			int r = group_add(c, gi, err, errsz);

			if (r < 0)
				return r;
		}
	}
	for (size_t gi = 0; gi < N_GROUPS; gi++) {
		uint64_t bit = VG_E_BIT(groups[gi].type);

		if (!(types & bit) && (c->types & bit))
			group_del(c, gi);
	}
	return 0;
}

uint64_t vg_audit_ctl_types(const struct vg_audit_ctl *c)
{
	return c->types;
}

/* -------------------------------------------------------------- open */

static int open_multicast(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1) };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_AUDIT);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int set_rcvbuf(int fd)
{
	int size = 8 << 20;

	/* as large as root may make it: a storm's records wait here */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

#define STATE_DIR "/run/vigil"

bool vg_audit_taken(const char *state_dir)
{
	char path[PATH_MAX];
	int fd;
	bool taken;

	snprintf(path, sizeof(path), "%s/audit.lock", state_dir ? state_dir : STATE_DIR);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	taken = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd);
	return taken;
}

int vg_audit_ctl_open(const struct vg_audit_ctl_opts *o,
		      struct vg_audit_ctl **ret, char *err, size_t errsz)
{
	const char *dir = o && o->state_dir ? o->state_dir : STATE_DIR;
	uint32_t want_backlog = o && o->backlog_limit ? o->backlog_limit : 8192;
	struct vg_audit_ctl *c = calloc(1, sizeof(*c));
	char lock_path[PATH_MAX];
	struct audit_status st;
	struct saved old;
	struct rule_list l;
	int r;

	quiet();
	if (!c || !(c->buf = malloc((size_t)RECV_SLOTS * RECV_MAX))) {
		free(c);
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	c->fd = c->read_fd = c->lock_fd = -1;
	/* the daemon's socket lives here too: searchable by its clients */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		vg_set_err(err, errsz, "cannot make %s: %s", dir, strerror(-r));
		goto fail;
	}
	snprintf(lock_path, sizeof(lock_path), "%s/audit.lock", dir);
	snprintf(c->state_path, sizeof(c->state_path), "%s/audit.state", dir);
	c->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0) {
		r = -errno;
		vg_set_err(err, errsz, "cannot open %s: %s", lock_path, strerror(-r));
		goto fail;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		vg_set_err(err, errsz, "another vigil runs the audit source (%s is locked)",
			   lock_path);
		goto fail;
	}
	c->fd = audit_open();
	if (c->fd < 0) {
		r = -errno;
		vg_set_err(err, errsz, "cannot open the audit netlink socket: %s",
			   strerror(-r));
		goto fail;
	}
	/* a vigil that crashed: its settings back, its rules gone */
	if (state_read(c->state_path, &old) == 0) {
		restore(c->fd, &old, 0);
		unlink(c->state_path);
	}
	r = delete_own_rules(c->fd);
	if (r < 0) {
		vg_set_err(err, errsz, "cannot list audit rules: %s%s", strerror(-r),
			   r == -EPERM ? " (needs CAP_AUDIT_CONTROL)" : "");
		goto fail;
	}
	r = get_status(c->fd, &st);
	if (r < 0) {
		vg_set_err(err, errsz, "cannot read audit's status: %s", strerror(-r));
		goto fail;
	}
	if (st.enabled == 2) {
		r = -EPERM;
		vg_set_err(err, errsz, "audit is locked (immutable, enabled=2): no "
			   "rule can be added until reboot");
		goto fail;
	}
	r = list_rules(c->fd, &l);
	bool never = r == 0 && l.never_task;
	rule_list_release(&l);
	if (never) {
		r = -ENOTSUP;
		vg_set_err(err, errsz, "a \"-a never,task\" audit rule (not vigil's) "
			   "turns syscall auditing off for every new task; vigil "
			   "does not remove other rules (auditctl -l shows it)");
		goto fail;
	}
	/* the originals first, then the changes */
	c->saved.enabled = st.enabled;
	c->saved.backlog_limit = st.backlog_limit;
	c->saved.set_enabled = st.enabled == 0;
	c->saved.set_backlog = st.backlog_limit < want_backlog;
	c->saved.registered = st.pid == 0;
	r = state_write(c);
	if (r < 0) {
		vg_set_err(err, errsz, "cannot write %s: %s", c->state_path, strerror(-r));
		goto fail;
	}
	if (c->saved.set_enabled && audit_set_enabled(c->fd, 1) <= 0) {
		r = -EPERM;
		vg_set_err(err, errsz, "cannot enable audit");
		goto fail;
	}
	if (c->saved.set_backlog)
		audit_set_backlog_limit(c->fd, want_backlog);
	if (c->saved.registered) {
		c->read_fd = audit_open();
		if (c->read_fd < 0 ||
		    audit_set_pid(c->read_fd, (uint32_t)getpid(), WAIT_YES) <= 0) {
			r = -EPERM;
			vg_set_err(err, errsz, "cannot register as the audit daemon");
			goto fail;
		}
		fcntl(c->read_fd, F_SETFL, fcntl(c->read_fd, F_GETFL) | O_NONBLOCK);
	} else {
		c->multicast = true;
		c->read_fd = open_multicast();
		if (c->read_fd < 0) {
			r = c->read_fd;
			vg_set_err(err, errsz, "cannot join audit's multicast group "
				   "beside the audit daemon (pid %u): %s%s",
				   st.pid, strerror(-r),
				   r == -EPERM ? " (needs CAP_AUDIT_READ)" : "");
			goto fail;
		}
	}
	set_rcvbuf(c->read_fd);
	*ret = c;
	return 0;
fail:
	vg_audit_ctl_close(c);
	return r;
}

int vg_audit_ctl_fd(const struct vg_audit_ctl *c)
{
	return c->read_fd;
}

const char *vg_audit_ctl_mode(const struct vg_audit_ctl *c)
{
	return c->multicast ? "multicast" : "daemon";
}

int vg_audit_ctl_read(struct vg_audit_ctl *c, int max, vg_audit_record_fn fn,
		      void *ctx, uint64_t *overruns)
{
	struct mmsghdr m[RECV_SLOTS];
	struct iovec iov[RECV_SLOTS];
	struct sockaddr_nl from[RECV_SLOTS];
	int n = 0;

	while (n < max) {
		int want = max - n < RECV_SLOTS ? max - n : RECV_SLOTS;
		int got;

		memset(m, 0, sizeof(m[0]) * (size_t)want);
		for (int i = 0; i < want; i++) {
			iov[i].iov_base = c->buf + (size_t)i * RECV_MAX;
			iov[i].iov_len = RECV_MAX;
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		got = recvmmsg(c->read_fd, m, (unsigned)want, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* the kernel's copies were
						 * dropped: how many, unknown */
				(*overruns)++;
				continue;
			}
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		for (int i = 0; i < got; i++) {
			struct nlmsghdr *h = iov[i].iov_base;
			size_t len = m[i].msg_len;

			/* the kernel's alone */
			if (m[i].msg_hdr.msg_namelen < sizeof(from[i]) ||
			    from[i].nl_pid != 0)
				continue;
			/* one record per datagram; its nlmsg_len is the
			 * text's length alone (the kernel leaves the header
			 * out of it), so the datagram's length is what
			 * bounds the text */
			n++;
			if (len < NLMSG_HDRLEN || h->nlmsg_type < 1300 ||
			    h->nlmsg_type >= 1400)
				continue;
			if (len > RECV_MAX)
				len = RECV_MAX;
			int r = fn(ctx, h->nlmsg_type, NLMSG_DATA(h), len - NLMSG_HDRLEN);

			if (r)
				return r < 0 ? r : n;
		}
		if (got < want)
			break; /* drained */
	}
	return n;
}

int vg_audit_ctl_status(struct vg_audit_ctl *c, struct vg_audit_status *ret)
{
	struct audit_status st;
	int r = get_status(c->fd, &st);

	if (r < 0)
		return r;
	status_of(&st, ret);
	return 0;
}

void vg_audit_ctl_close(struct vg_audit_ctl *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		for (size_t gi = 0; gi < N_GROUPS; gi++)
			group_del(c, gi);
		/* and any the kernel still has under the key */
		delete_own_rules(c->fd);
		if (c->state_path[0] && access(c->state_path, F_OK) == 0) {
			restore(c->fd, &c->saved, (uint32_t)getpid());
			unlink(c->state_path);
		}
		audit_close(c->fd);
	}
	if (c->read_fd >= 0)
		close(c->read_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->buf);
	free(c);
}
