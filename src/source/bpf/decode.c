/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/util.h"
#include "source/bpf/events.h"

/* The event model's numbers are the kernel's: masks pass through. */
#define SAME(a, b) _Static_assert((int)VG_E_##a == (int)VG_EV_##b, #a)
SAME(FORK, FORK);
SAME(EXEC, EXEC);
SAME(EXIT, EXIT);
SAME(OPEN, OPEN);
SAME(CONNECT, CONNECT);
SAME(ACCEPT, ACCEPT);
SAME(BIND, BIND);
SAME(LISTEN, LISTEN);
SAME(SYSCALL, SYSCALL);
SAME(TP, TRACEPOINT);
SAME(EXEC_ARGS, EXEC_ARGS);
SAME(CGROUP_MKDIR, CGROUP_MKDIR);
SAME(CGROUP_RMDIR, CGROUP_RMDIR);
SAME(FILE, FILE);
SAME(PTRACE, PTRACE);
SAME(SOCKET, SOCKET);
SAME(DUP, DUP);
SAME(SEND, SEND);
SAME(KERNEL_TYPES, TYPES);
#undef SAME
_Static_assert((int)VG_FA_CREATE == VG_FILE_CREATE && (int)VG_FA_CHOWN == VG_FILE_CHOWN &&
		       (int)VG_FA_COUNT == VG_FILE_OPS,
	       "file actions");
_Static_assert(VG_EP_TRUNCATED == VG_PATH_TRUNCATED, "path flags");

#define CHUNKS_MAX (VG_ARGS_MAX / VG_ARGS_CHUNK)
#define CHUNK_WORDS ((CHUNKS_MAX + 63) / 64)

/*
 * An exec whose argv chunks are still arriving. Chunk i is bytes
 * [i * VG_ARGS_CHUNK, min((i + 1) * VG_ARGS_CHUNK, args_sent)) of argv;
 * its bit in @got says those bytes of @args were written from a record.
 * Only the run of chunks from the first up to the first one missing is
 * ever handed out: a chunk lost in the ring, or one the kernel could
 * not read, cuts the argv there.
 */
struct vg_bpf_pending {
	bool used;
	uint64_t seq;
	uint64_t born_ns;
	struct vg_ev_exec e;
	char *filename, *exe;
	char *args;         /* e.args_sent bytes, zeroed when made */
	uint32_t chunks;    /* distinct chunks whose record came, data or not */
	uint64_t seen[CHUNK_WORDS]; /* chunks whose record came */
	uint64_t got[CHUNK_WORDS];  /* chunks whose data came */
};

int vg_bpf_decoder_init(struct vg_bpf_decoder *d)
{
	*d = (struct vg_bpf_decoder){ 0 };
	d->pending = calloc(VG_DECODE_PENDING, sizeof(*d->pending));
	return d->pending ? 0 : -ENOMEM;
}

static void pending_release(struct vg_bpf_pending *pe)
{
	free(pe->filename);
	free(pe->exe);
	free(pe->args);
	*pe = (struct vg_bpf_pending){ 0 };
}

void vg_bpf_decoder_release(struct vg_bpf_decoder *d)
{
	if (!d->pending)
		return;
	for (size_t i = 0; i < VG_DECODE_PENDING; i++)
		pending_release(&d->pending[i]);
	free(d->pending);
	d->pending = NULL;
}

static void task_of(const struct vg_ev_hdr *h, struct vg_event *e)
{
	e->has_task = true;
	e->t.ktime_ns = h->ktime_ns;
	e->t.start_ns = h->start_ns;
	e->t.cgroup_id = h->cgroup_id;
	e->t.cpu = h->cpu;
	e->t.pid = h->pid;
	e->t.tid = h->tid;
	e->t.ppid = h->ppid;
	e->t.uid = h->uid;
	e->t.gid = h->gid;
	e->t.mntns = h->mntns;
	memcpy(e->t.comm, h->comm, VG_COMM_LEN);
	e->t.comm[sizeof(e->t.comm) - 1] = '\0';
}

/* The kernel side's path quality as the event's. */
static uint32_t path_quality(uint32_t f)
{
	return (f & VG_PATH_TRUNCATED ? VG_EP_TRUNCATED : 0) |
	       (f & (VG_PATH_UNREACHABLE | VG_PATH_RELATIVE_FAILED) ? VG_EP_UNRESOLVED : 0);
}

/* The kernel side's VG_EXE_* flags as an enum vg_exe_origin. */
static uint8_t exe_origin(uint32_t f)
{
	if (!(f & VG_EXE_KNOWN))
		return VG_EXE_ORIGIN_UNKNOWN; /* a recording from before */
	if (f & VG_EXE_MEMFD)
		return VG_EXE_ORIGIN_MEMFD;
	if (f & VG_EXE_OVERLAY)
		return f & VG_EXE_UPPER ? VG_EXE_ORIGIN_UPPER : VG_EXE_ORIGIN_LOWER;
	return VG_EXE_ORIGIN_FILE;
}

/* One of a record's strings: @len bytes at @at ending in a NUL, or NULL
 * when absent or not so. */
static const char *rec_str(const char *at, uint32_t len)
{
	return len && !at[len - 1] ? at : NULL;
}

/*
 * @path (absolute) with "//", "/./" and "/../" taken lexically into
 * @buf: ".." at the root stays at the root, as the kernel takes it. The
 * caller's words, joined to a kernel-resolved directory, in the form a
 * filter can match; symlinks in them are not followed (nothing can
 * follow them after the call). NULL when @path is not absolute.
 */
const char *vg_path_normalize(const char *path, char *buf, size_t bufsz)
{
	size_t n = 1; /* buf[0..n): "/" or "/a/b", no trailing '/' */

	if (!path || path[0] != '/' || bufsz < 2)
		return NULL;
	buf[0] = '/';
	for (const char *p = path; *p;) {
		const char *c;
		size_t len;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (!len || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			/* drop the last component and its '/' */
			while (n > 1 && buf[n - 1] != '/')
				n--;
			if (n > 1)
				n--;
			continue;
		}
		if (n > 1) {
			if (n + 1 >= bufsz)
				return NULL;
			buf[n++] = '/';
		}
		if (n + len >= bufsz)
			return NULL;
		memcpy(buf + n, c, len);
		n += len;
	}
	buf[n] = '\0';
	return buf;
}

static bool bit_get(const uint64_t *set, uint32_t i)
{
	return set[i / 64] & (1ull << (i % 64));
}

static void bit_set(uint64_t *set, uint32_t i)
{
	set[i / 64] |= 1ull << (i % 64);
}

/* The exec of @pe, with the argv received: its unbroken start only,
 * never bytes that did not arrive; args_incomplete when any did not. */
static int pending_deliver(struct vg_bpf_pending *pe, vg_event_fn fn, void *ctx)
{
	struct vg_event ev = { .type = VG_E_EXEC };
	uint32_t got = 0;
	int r;

	/* on_exec() took args_chunks <= CHUNKS_MAX and args_sent in them */
	for (uint32_t i = 0; i < pe->e.args_chunks && bit_get(pe->got, i); i++) {
		uint32_t end = (i + 1) * VG_ARGS_CHUNK;

		got = end < pe->e.args_sent ? end : pe->e.args_sent;
	}
	task_of(&pe->e.h, &ev);
	ev.exec.filename = pe->filename;
	ev.exec.exe = pe->exe;
	ev.exec.exe_origin = exe_origin(pe->e.exe_flags);
	ev.exec.args = got && pe->args ? pe->args : NULL;
	ev.exec.args_len = ev.exec.args ? got : 0;
	ev.exec.args_bytes = pe->e.args_len;
	ev.exec.args_incomplete = ev.exec.args_len < pe->e.args_sent;
	ev.exec.args_truncated = pe->e.args_sent < pe->e.args_len ||
				 ev.exec.args_incomplete;
	r = fn(ctx, &ev);
	pending_release(pe);
	return r;
}

static int on_exec(struct vg_bpf_decoder *d, const struct vg_ev_exec *e,
		   size_t len, uint64_t now, vg_event_fn fn, void *ctx)
{
	const char *base = (const char *)e + sizeof(*e);
	uint64_t flen = e->filename_len, xlen = e->exe_len;
	const char *filename = NULL, *exe = NULL;
	struct vg_bpf_pending *slot = NULL, *oldest = NULL;
	int r = 0;

	/* the lengths are the kernel's word, checked (in 64 bits: two
	 * huge ones must not wrap to a small sum) before anything is read */
	if (sizeof(*e) + flen + xlen <= len) {
		filename = rec_str(base, (uint32_t)flen);
		exe = rec_str(base + flen, (uint32_t)xlen);
	}
	/* no argv follows, or the record's account of it is not one the
	 * kernel side makes (args_sent in exactly args_chunks chunks, at
	 * most what the kernel held): no chunk is waited for, and argv
	 * that was to come is marked as not received */
	if (!e->args_chunks || e->args_sent > VG_ARGS_MAX ||
	    e->args_sent > e->args_len ||
	    e->args_chunks != (e->args_sent + VG_ARGS_CHUNK - 1) / VG_ARGS_CHUNK) {
		struct vg_event ev = { .type = VG_E_EXEC };

		task_of(&e->h, &ev);
		ev.exec.filename = filename;
		ev.exec.exe = exe;
		ev.exec.exe_origin = exe_origin(e->exe_flags);
		ev.exec.args_bytes = e->args_len;
		ev.exec.args_incomplete = e->args_sent > 0 || e->args_chunks > 0;
		ev.exec.args_truncated = e->args_sent < e->args_len ||
					 ev.exec.args_incomplete;
		return fn(ctx, &ev);
	}
	/* wait for the argv chunks; a full table delivers its oldest */
	for (size_t i = 0; i < VG_DECODE_PENDING; i++) {
		struct vg_bpf_pending *pe = &d->pending[i];

		if (!pe->used) {
			slot = pe;
			break;
		}
		if (!oldest || pe->born_ns < oldest->born_ns)
			oldest = pe;
	}
	if (!slot) {
		r = pending_deliver(oldest, fn, ctx);
		slot = oldest;
	}
	slot->used = true;
	slot->seq = e->exec_seq;
	slot->born_ns = now;
	slot->e = *e;
	slot->filename = filename ? strdup(filename) : NULL;
	slot->exe = exe ? strdup(exe) : NULL;
	/* zeroed: nothing of an earlier exec's argv (or anything else the
	 * heap held) is in it, whatever the bitmaps say */
	slot->args = calloc(1, e->args_sent);
	if (!slot->args) {
		int r2 = pending_deliver(slot, fn, ctx);

		return r ? r : r2;
	}
	return r;
}

/*
 * A chunk of argv. Its place is its offset, which must be a chunk's
 * start in the exec's argv; its data counts only when it is the whole
 * chunk, inside the record. An empty chunk (the kernel could not read
 * that part) or a short one is a chunk seen without its bytes. A record
 * that names no chunk of the exec is refused; one seen again adds
 * nothing.
 */
static int on_exec_args(struct vg_bpf_decoder *d, const struct vg_ev_exec_args *a,
			size_t len, vg_event_fn fn, void *ctx)
{
	for (size_t i = 0; i < VG_DECODE_PENDING; i++) {
		struct vg_bpf_pending *pe = &d->pending[i];
		uint32_t idx = a->offset / VG_ARGS_CHUNK, want;

		if (!pe->used || pe->seq != a->exec_seq)
			continue;
		if (a->offset % VG_ARGS_CHUNK || idx >= pe->e.args_chunks) {
			d->bad++;
			return 0;
		}
		/* idx < args_chunks: the chunk starts inside args_sent */
		want = pe->e.args_sent - a->offset < VG_ARGS_CHUNK
			       ? pe->e.args_sent - a->offset
			       : VG_ARGS_CHUNK;
		if (pe->args && !bit_get(pe->got, idx) && a->len == want &&
		    sizeof(*a) + (uint64_t)a->len <= len) {
			memcpy(pe->args + a->offset, (const char *)(a + 1), a->len);
			bit_set(pe->got, idx);
		}
		if (!bit_get(pe->seen, idx)) {
			bit_set(pe->seen, idx);
			pe->chunks++;
		}
		if (pe->chunks >= pe->e.args_chunks)
			return pending_deliver(pe, fn, ctx);
		return 0;
	}
	d->unmatched++;
	return 0;
}

void vg_bpf_decoder_flush(struct vg_bpf_decoder *d, uint64_t now_ns, bool all,
			  vg_event_fn fn, void *ctx)
{
	for (;;) {
		struct vg_bpf_pending *oldest = NULL;

		/* oldest first, so that execs go out in their order */
		for (size_t i = 0; i < VG_DECODE_PENDING; i++) {
			struct vg_bpf_pending *pe = &d->pending[i];

			if (pe->used && (all || now_ns - pe->born_ns > VG_DECODE_PENDING_NS) &&
			    (!oldest || pe->born_ns < oldest->born_ns))
				oldest = pe;
		}
		if (!oldest)
			return;
		pending_deliver(oldest, fn, ctx);
	}
}

/* A raw sockaddr of @len bytes into @ret. */
static void decode_addr(const uint8_t *a, uint32_t len, struct vg_event_addr *ret)
{
	uint16_t fam;

	*ret = (struct vg_event_addr){ .port = -1 };
	if (len < 2 || len > VG_SOCKADDR_MAX)
		return;
	memcpy(&fam, a, 2);
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in s;

		memcpy(&s, a, sizeof(s));
		inet_ntop(AF_INET, &s.sin_addr, ret->text, sizeof(ret->text));
		ret->port = ntohs(s.sin_port);
		ret->family = AF_INET;
	} else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 s;

		memcpy(&s, a, sizeof(s));
		inet_ntop(AF_INET6, &s.sin6_addr, ret->text, sizeof(ret->text));
		ret->port = ntohs(s.sin6_port);
		ret->family = AF_INET6;
	} else if (fam == AF_UNIX && len > 2) {
		size_t n = len - 2 < sizeof(ret->text) - 1 ? len - 2 : sizeof(ret->text) - 1;

		memcpy(ret->text, a + 2, n);
		ret->text[n] = '\0';
		if (!ret->text[0] && n > 1) /* abstract */
			ret->text[0] = '@';
		ret->family = AF_UNIX;
	}
}

static int on_net(const struct vg_ev_net *n, vg_event_fn fn, void *ctx)
{
	struct vg_event ev = { .type = n->h.type };
	uint32_t al = n->addr_len <= VG_SOCKADDR_MAX ? n->addr_len : 0;
	uint32_t ll = n->local_len <= VG_SOCKADDR_MAX ? n->local_len : 0;

	task_of(&n->h, &ev);
	ev.net.ret = n->ret;
	ev.net.fd = n->fd;
	ev.net.backlog = n->backlog;
	ev.net.family = n->family;
	ev.net.sock_type = n->sock_type;
	ev.net.requested = n->addr_flags & VG_NET_REQUESTED;
	ev.net.server.port = ev.net.client.port = -1;
	switch (n->h.type) {
	case VG_EV_CONNECT: /* we are the client */
		decode_addr(n->addr, al, &ev.net.server);
		decode_addr(n->local, ll, &ev.net.client);
		break;
	case VG_EV_ACCEPT: /* the peer is */
		decode_addr(n->addr, al, &ev.net.client);
		decode_addr(n->local, ll, &ev.net.server);
		break;
	default: /* bind, listen: our own address */
		if (al)
			decode_addr(n->addr, al, &ev.net.server);
		else
			decode_addr(n->local, ll, &ev.net.server);
		break;
	}
	return fn(ctx, &ev);
}

/* socket, dup, send: the peer (or a send's destination) is the server,
 * the socket's own address the client */
static int on_sock(const struct vg_ev_sock *k, vg_event_fn fn, void *ctx)
{
	struct vg_event ev = { .type = k->h.type };
	uint32_t al = k->addr_len <= VG_SOCKADDR_MAX ? k->addr_len : 0;
	uint32_t ll = k->local_len <= VG_SOCKADDR_MAX ? k->local_len : 0;

	task_of(&k->h, &ev);
	ev.net.ret = k->ret;
	ev.net.fd = k->fd;
	ev.net.family = k->family;
	ev.net.sock_type = k->sock_type;
	ev.net.protocol = k->protocol;
	ev.net.nr = k->syscall_nr;
	ev.net.flags = k->arg_flags;
	ev.net.newfd = k->newfd;
	ev.net.fd_mode = k->fd_mode;
	ev.net.size = k->size;
	ev.net.connected = k->addr_flags & VG_NET_CONNECTED;
	ev.net.requested = k->addr_flags & VG_NET_REQUESTED;
	decode_addr(k->addr, al, &ev.net.server);
	decode_addr(k->local, ll, &ev.net.client);
	return fn(ctx, &ev);
}

static int on_open(struct vg_bpf_decoder *d, const struct vg_ev_open *o,
		   size_t len, vg_event_fn fn, void *ctx)
{
	const char *base = (const char *)o + sizeof(*o);
	struct vg_event ev = { .type = VG_E_OPEN };

	task_of(&o->h, &ev);
	/* both strings end in the NUL the kernel side counts in their
	 * lengths; a record that says otherwise is not trusted */
	if (sizeof(*o) + (uint64_t)o->path_len + o->abs_len <= len) {
		ev.open.path = rec_str(base, o->path_len);
		ev.open.name = rec_str(base + o->path_len, o->abs_len);
	}
	if (!ev.open.name)
		ev.open.name = ev.open.path;
	ev.open.ret = o->ret;
	ev.open.dirfd = o->dirfd;
	ev.open.flags = o->flags;
	ev.open.mode = o->mode;
	ev.open.path_flags = path_quality(o->path_flags);
	if (!(o->path_flags & VG_PATH_KERNEL)) {
		/* no file: the caller's words, in a form filters can match */
		const char *n = vg_path_normalize(ev.open.name, d->norm[0],
						  sizeof(d->norm[0]));

		if (n)
			ev.open.name = n;
		ev.open.path_flags |= VG_EP_USER;
	}
	return fn(ctx, &ev);
}

static int on_file(struct vg_bpf_decoder *d, const struct vg_ev_file *f,
		   size_t len, vg_event_fn fn, void *ctx)
{
	const char *base = (const char *)f + sizeof(*f);
	uint64_t total = (uint64_t)f->path_len + f->abs_len + f->path2_len + f->abs2_len;
	struct vg_event ev = { .type = VG_E_FILE };

	task_of(&f->h, &ev);
	if (sizeof(*f) + total <= len) {
		const char *abs, *abs2;

		ev.file.path = rec_str(base, f->path_len);
		abs = rec_str(base + f->path_len, f->abs_len);
		base += f->path_len + f->abs_len;
		ev.file.path2 = rec_str(base, f->path2_len);
		abs2 = rec_str(base + f->path2_len, f->abs2_len);
		ev.file.name = abs ? abs : ev.file.path;
		/* a symlink's target is never resolved */
		ev.file.name2 = f->op == VG_FILE_SYMLINK ? ev.file.path2
				: abs2 ? abs2 : ev.file.path2;
	}
	ev.file.action = f->op < VG_FILE_OPS ? f->op : VG_FA_NONE;
	ev.file.ret = f->ret;
	ev.file.mode = f->mode;
	ev.file.uid = f->uid;
	ev.file.gid = f->gid;
	ev.file.flags = f->flags;
	ev.file.fd = f->fd;
	ev.file.path_flags = path_quality(f->path_flags);
	if (!(f->path_flags & VG_PATH_KERNEL)) {
		const char *n = vg_path_normalize(ev.file.name, d->norm[0],
						  sizeof(d->norm[0]));

		if (n)
			ev.file.name = n;
		ev.file.path_flags |= VG_EP_USER;
	}
	if (ev.file.name2 && f->op != VG_FILE_SYMLINK) {
		const char *n = vg_path_normalize(ev.file.name2, d->norm[1],
						  sizeof(d->norm[1]));

		if (n)
			ev.file.name2 = n;
	}
	return fn(ctx, &ev);
}

static int on_tp(struct vg_bpf_decoder *d, const struct vg_ev_tracepoint *t,
		 size_t len, vg_event_fn fn, void *ctx)
{
	struct vg_event ev = { .type = VG_E_TP };
	const struct vg_tp_format *f = NULL;
	const char *label = NULL;

	for (size_t i = 0; i < d->n_tps; i++)
		if (d->tps[i].id == t->tp_id) {
			f = &d->tps[i];
			label = d->tp_labels ? d->tp_labels[i] : f->name;
		}
	if (!f || sizeof(*t) + (uint64_t)t->len > len)
		return 0;
	task_of(&t->h, &ev);
	ev.tp.id = t->tp_id;
	ev.tp.raw = t + 1;
	ev.tp.len = t->len;
	ev.tp.format = f;
	ev.tp.name = label;
	return fn(ctx, &ev);
}

int vg_bpf_decode(struct vg_bpf_decoder *d, const void *rec, size_t len,
		  uint64_t now_ns, vg_event_fn fn, void *ctx)
{
	const struct vg_ev_hdr *h = rec;
	struct vg_event ev;

	if (len < sizeof(*h) || h->size > len || h->version != VG_EVENTS_VERSION) {
		d->bad++;
		return 0;
	}
	/* the record is what its header says, whatever follows it in the
	 * buffer: every length inside is checked against this */
	len = h->size;
	switch (h->type) {
	case VG_EV_FORK:
		if (len < sizeof(struct vg_ev_fork))
			break;
		{
			const struct vg_ev_fork *f = rec;

			ev = (struct vg_event){ .type = VG_E_FORK };
			task_of(h, &ev);
			ev.fork.child_pid = f->child_pid;
			ev.fork.child_tid = f->child_tid;
			ev.fork.child_start_ns = f->child_start_ns;
			ev.fork.thread = f->is_thread;
			return fn(ctx, &ev);
		}
	case VG_EV_EXEC:
		if (len >= sizeof(struct vg_ev_exec))
			return on_exec(d, rec, len, now_ns, fn, ctx);
		break;
	case VG_EV_EXEC_ARGS:
		if (len >= sizeof(struct vg_ev_exec_args))
			return on_exec_args(d, rec, len, fn, ctx);
		break;
	case VG_EV_EXIT:
		if (len < sizeof(struct vg_ev_exit))
			break;
		ev = (struct vg_event){ .type = VG_E_EXIT };
		task_of(h, &ev);
		ev.exit.status = ((const struct vg_ev_exit *)rec)->exit_code;
		return fn(ctx, &ev);
	case VG_EV_OPEN:
		if (len >= sizeof(struct vg_ev_open))
			return on_open(d, rec, len, fn, ctx);
		break;
	case VG_EV_FILE:
		if (len >= sizeof(struct vg_ev_file))
			return on_file(d, rec, len, fn, ctx);
		break;
	case VG_EV_CONNECT:
	case VG_EV_ACCEPT:
	case VG_EV_BIND:
	case VG_EV_LISTEN:
		if (len >= sizeof(struct vg_ev_net))
			return on_net(rec, fn, ctx);
		break;
	case VG_EV_SOCKET:
	case VG_EV_DUP:
	case VG_EV_SEND:
		if (len >= sizeof(struct vg_ev_sock))
			return on_sock(rec, fn, ctx);
		break;
	case VG_EV_PTRACE:
		if (len < sizeof(struct vg_ev_ptrace))
			break;
		{
			const struct vg_ev_ptrace *pt = rec;

			ev = (struct vg_event){ .type = VG_E_PTRACE };
			task_of(h, &ev);
			ev.ptrace.ret = pt->ret;
			ev.ptrace.addr = pt->addr;
			ev.ptrace.data = pt->data;
			ev.ptrace.request = pt->request;
			ev.ptrace.pid = pt->pid;
			return fn(ctx, &ev);
		}
	case VG_EV_SYSCALL:
		if (len < sizeof(struct vg_ev_syscall))
			break;
		{
			const struct vg_ev_syscall *s = rec;

			ev = (struct vg_event){ .type = VG_E_SYSCALL };
			task_of(h, &ev);
			memcpy(ev.syscall.args, s->args, sizeof(ev.syscall.args));
			ev.syscall.ret = s->ret;
			ev.syscall.nr = s->nr;
			ev.syscall.enter_ns = s->enter_ns;
			return fn(ctx, &ev);
		}
	case VG_EV_TRACEPOINT:
		if (len >= sizeof(struct vg_ev_tracepoint))
			return on_tp(d, rec, len, fn, ctx);
		break;
	case VG_EV_CGROUP_MKDIR:
	case VG_EV_CGROUP_RMDIR:
		if (len < sizeof(struct vg_ev_cgroup))
			break;
		{
			const struct vg_ev_cgroup *c = rec;

			ev = (struct vg_event){ .type = h->type };
			task_of(h, &ev);
			ev.cgroup.id = c->id;
			ev.cgroup.level = c->level;
			if (sizeof(*c) + (uint64_t)c->path_len <= len)
				ev.cgroup.path = rec_str((const char *)(c + 1), c->path_len);
			return fn(ctx, &ev);
		}
	default:
		break;
	}
	d->bad++;
	return 0;
}
