/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The eBPF sensor's record decoder against records as the kernel side
 * leaves them when a read fails, and as a broken or hostile one might:
 * lengths of zero, -errno stored in an unsigned field, lengths whose sum
 * wraps, lengths past the record, records cut short, argv chunks empty,
 * late, doubled or never sent. Every record is handed over in a heap
 * block of exactly its size, so that a read past it is a sanitizer's
 * (or valgrind's) error, and what the decoder delivers is copied out
 * byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/bpf/decode.h"
#include "source/bpf/events.h"

#define NEG(e) ((uint32_t)-(e)) /* -errno as an unsigned field holds it */

/* ------------------------------------------------ what was delivered */

struct seen {
	uint32_t type;
	char *filename, *exe, *path, *name, *path2, *name2;
	char *args;
	uint32_t args_len, args_bytes;
	bool truncated, incomplete, has_args;
	struct vg_event_addr server, client;
	uint32_t tp_len;
	uint32_t request, pid; /* ptrace */
	int32_t fd, newfd;     /* socket, dup, send */
	uint32_t fd_mode;
	bool connected;
};

#define SEEN_MAX (VG_DECODE_PENDING + 8)

struct cap {
	struct seen ev[SEEN_MAX];
	size_t n;
};

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s); /* reads to the NUL: past the record, ASan says so */
	assert_non_null(d);
	return d;
}

static int on_event(void *ctx, struct vg_event *e)
{
	struct cap *c = ctx;
	struct seen *s;

	assert_true(c->n < SEEN_MAX);
	s = &c->ev[c->n++];
	*s = (struct seen){ .type = e->type };
	switch (e->type) {
	case VG_E_EXEC:
		s->filename = dup_or_null(e->exec.filename);
		s->exe = dup_or_null(e->exec.exe);
		s->has_args = e->exec.args != NULL;
		s->args_len = e->exec.args_len;
		s->args_bytes = e->exec.args_bytes;
		s->truncated = e->exec.args_truncated;
		s->incomplete = e->exec.args_incomplete;
		/* bytes said to be there and none otherwise */
		if (!e->exec.args)
			assert_int_equal(e->exec.args_len, 0);
		s->args = malloc(e->exec.args_len + 1);
		assert_non_null(s->args);
		if (e->exec.args_len)
			memcpy(s->args, e->exec.args, e->exec.args_len);
		s->args[e->exec.args_len] = '\0';
		break;
	case VG_E_OPEN:
		s->path = dup_or_null(e->open.path);
		s->name = dup_or_null(e->open.name);
		break;
	case VG_E_FILE:
		s->path = dup_or_null(e->file.path);
		s->name = dup_or_null(e->file.name);
		s->path2 = dup_or_null(e->file.path2);
		s->name2 = dup_or_null(e->file.name2);
		break;
	case VG_E_CGROUP_MKDIR:
	case VG_E_CGROUP_RMDIR:
		s->path = dup_or_null(e->cgroup.path);
		break;
	case VG_E_CONNECT:
	case VG_E_ACCEPT:
	case VG_E_BIND:
	case VG_E_LISTEN:
		s->server = e->net.server;
		s->client = e->net.client;
		/* the text is a C string within its array */
		assert_non_null(memchr(s->server.text, '\0', sizeof(s->server.text)));
		assert_non_null(memchr(s->client.text, '\0', sizeof(s->client.text)));
		break;
	case VG_E_SOCKET:
	case VG_E_DUP:
	case VG_E_SEND:
		s->server = e->net.server;
		s->client = e->net.client;
		s->fd = e->net.fd;
		s->newfd = e->net.newfd;
		s->fd_mode = e->net.fd_mode;
		s->connected = e->net.connected;
		assert_non_null(memchr(s->server.text, '\0', sizeof(s->server.text)));
		assert_non_null(memchr(s->client.text, '\0', sizeof(s->client.text)));
		break;
	case VG_E_PTRACE:
		s->request = e->ptrace.request;
		s->pid = e->ptrace.pid;
		break;
	case VG_E_TP: {
		const uint8_t *raw = e->tp.raw;
		unsigned sum = 0;

		for (uint32_t i = 0; i < e->tp.len; i++)
			sum += raw[i]; /* every byte said to be there is read */
		(void)sum;
		s->tp_len = e->tp.len;
		break;
	}
	default:
		break;
	}
	return 0;
}

static void cap_clear(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct seen *s = &c->ev[i];

		free(s->filename), free(s->exe), free(s->path), free(s->name);
		free(s->path2), free(s->name2), free(s->args);
	}
	c->n = 0;
}

/* ------------------------------------------------------ making records */

static uint64_t now = 1000000000ull;

static void hdr(struct vg_ev_hdr *h, uint16_t type, uint32_t size)
{
	*h = (struct vg_ev_hdr){ .type = type, .version = VG_EVENTS_VERSION,
				 .size = size, .ktime_ns = now, .pid = 300,
				 .tid = 300, .ppid = 1, .cgroup_id = 50 };
	memcpy(h->comm, "prog", 5);
}

/* @len bytes of @rec, from a heap block of exactly that size. */
static int feed(struct vg_bpf_decoder *d, const void *rec, size_t len, struct cap *c)
{
	void *b = malloc(len ? len : 1);
	int r;

	assert_non_null(b);
	memcpy(b, rec, len);
	r = vg_bpf_decode(d, b, len, now, on_event, c);
	free(b);
	return r;
}

/* An exec record: the two strings as given (their bytes, @fbytes and
 * @xbytes of them) and the length fields as given. Returns its size. */
static size_t mk_exec(uint8_t *buf, const char *f, size_t fbytes, uint32_t flen,
		      const char *x, size_t xbytes, uint32_t xlen,
		      uint32_t args_len, uint32_t args_sent, uint32_t chunks,
		      uint64_t seq)
{
	struct vg_ev_exec *e = (struct vg_ev_exec *)buf;
	size_t size = sizeof(*e) + fbytes + xbytes;

	memset(buf, 0, sizeof(*e));
	hdr(&e->h, VG_EV_EXEC, (uint32_t)size);
	memcpy(buf + sizeof(*e), f, fbytes);
	memcpy(buf + sizeof(*e) + fbytes, x, xbytes);
	e->filename_len = flen;
	e->exe_len = xlen;
	e->args_len = args_len;
	e->args_sent = args_sent;
	e->args_chunks = chunks;
	e->exec_seq = seq;
	return size;
}

/* An ordinary exec of @sent argv bytes in its chunks. */
static size_t mk_exec_args(uint8_t *buf, uint32_t sent, uint64_t seq)
{
	return mk_exec(buf, "/bin/prog", 10, 10, "/usr/bin/prog", 14, 14, sent, sent,
		       (sent + VG_ARGS_CHUNK - 1) / VG_ARGS_CHUNK, seq);
}

static uint8_t chunkbuf[sizeof(struct vg_ev_exec_args) + VG_ARGS_CHUNK];

/* An argv chunk: @bytes of @fill follow, the header says @len and
 * @size (0: the size the bytes make). Returns the record's size. */
static size_t mk_chunk(uint64_t seq, uint32_t offset, uint32_t len,
		       uint32_t bytes, char fill, uint32_t size)
{
	struct vg_ev_exec_args *a = (struct vg_ev_exec_args *)chunkbuf;

	assert_true(bytes <= VG_ARGS_CHUNK);
	hdr(&a->h, VG_EV_EXEC_ARGS, size ? size : (uint32_t)(sizeof(*a) + bytes));
	a->exec_seq = seq;
	a->offset = offset;
	a->len = len;
	memset(chunkbuf + sizeof(*a), fill, bytes);
	if (bytes)
		chunkbuf[sizeof(*a) + bytes - 1] = '\0'; /* one argument each */
	return sizeof(*a) + bytes;
}

/* A whole chunk @i of an argv of @sent bytes, filled with @fill. */
static size_t chunk_of(uint64_t seq, uint32_t sent, uint32_t i, char fill)
{
	uint32_t off = i * VG_ARGS_CHUNK;
	uint32_t n = sent - off < VG_ARGS_CHUNK ? sent - off : VG_ARGS_CHUNK;

	return mk_chunk(seq, off, n, n, fill, 0);
}

static void init(struct vg_bpf_decoder *d)
{
	assert_int_equal(vg_bpf_decoder_init(d), 0);
}

/* ------------------------------------------------ exec: its two strings */

static void test_exec_strings(void **state)
{
	static const struct {
		const char *what;
		const char *f;
		size_t fbytes;
		uint32_t flen;
		const char *x;
		size_t xbytes;
		uint32_t xlen;
		const char *want_f, *want_x;
	} t[] = {
		{ "both whole", "/bin/x", 7, 7, "/usr/bin/x", 11, 11, "/bin/x", "/usr/bin/x" },
		{ "filename read failed, sent as 0", "", 0, 0, "/usr/bin/x", 11, 11,
		  NULL, "/usr/bin/x" },
		{ "filename read failed, -EFAULT kept as a length", "", 0, NEG(EFAULT),
		  "/usr/bin/x", 11, 11, NULL, NULL },
		{ "exe -ENOMEM as a length", "/bin/x", 7, 7, "", 0, NEG(ENOMEM), NULL, NULL },
		{ "a sum that wraps in 32 bits", "/bin/x", 7, 0xffffffffu, "/usr/bin/x", 11, 19,
		  NULL, NULL },
		{ "filename one past the record", "/bin/x", 7, 8, "/usr/bin/x", 11, 11, NULL, NULL },
		{ "exe one past the record", "/bin/x", 7, 7, "/usr/bin/x", 11, 12, NULL, NULL },
		{ "filename without its NUL", "/bin/xy", 7, 6, "/usr/bin/x", 11, 11,
		  NULL, NULL },
		{ "exe without its NUL", "/bin/x", 7, 7, "/usr/bin/xy", 11, 11, "/bin/x", NULL },
		{ "both lengths 0", "", 0, 0, "", 0, 0, NULL, NULL },
		{ "both at most", "", 0, 0xffffffffu, "", 0, 0xffffffffu, NULL, NULL },
	};
	uint8_t buf[sizeof(struct vg_ev_exec) + 64];
	struct vg_bpf_decoder d;
	struct cap c = { 0 };

	(void)state;
	init(&d);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = mk_exec(buf, t[i].f, t[i].fbytes, t[i].flen, t[i].x,
				   t[i].xbytes, t[i].xlen, 0, 0, 0, i);

		feed(&d, buf, n, &c);
		if (c.n != 1)
			fail_msg("%s: %zu events", t[i].what, c.n);
		if ((t[i].want_f == NULL) != (c.ev[0].filename == NULL) ||
		    (t[i].want_f && strcmp(t[i].want_f, c.ev[0].filename)))
			fail_msg("%s: filename %s", t[i].what,
				 c.ev[0].filename ? c.ev[0].filename : "(none)");
		if ((t[i].want_x == NULL) != (c.ev[0].exe == NULL) ||
		    (t[i].want_x && strcmp(t[i].want_x, c.ev[0].exe)))
			fail_msg("%s: exe %s", t[i].what, c.ev[0].exe ? c.ev[0].exe : "(none)");
		/* argv not asked for: none, nothing lost */
		assert_false(c.ev[0].has_args);
		assert_false(c.ev[0].incomplete);
		cap_clear(&c);
	}
	assert_int_equal(d.bad, 0);
	vg_bpf_decoder_release(&d);
}

/* ------------------------------------------------- records cut or lying */

static void test_record_bounds(void **state)
{
	uint8_t buf[sizeof(struct vg_ev_exec) + 64];
	struct vg_ev_exec *e = (struct vg_ev_exec *)buf;
	struct vg_bpf_decoder d;
	struct cap c = { 0 };
	size_t n;

	(void)state;
	init(&d);
	n = mk_exec(buf, "/bin/x", 7, 7, "/usr/bin/x", 11, 11, 0, 0, 0, 1);
	/* shorter than a header, than an exec; a header that claims more
	 * than arrived */
	feed(&d, buf, sizeof(struct vg_ev_hdr) - 1, &c);
	e->h.size = sizeof(*e) - 1;
	feed(&d, buf, sizeof(*e) - 1, &c);
	e->h.size = (uint32_t)n + 1;
	feed(&d, buf, n, &c);
	e->h.size = 0xffffffffu;
	feed(&d, buf, n, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(d.bad, 4);
	/* a header that claims less: the record ends there, and strings
	 * past it are not read, whatever the buffer holds after it */
	e->h.size = (uint32_t)sizeof(*e) + 7;
	feed(&d, buf, n, &c);
	assert_int_equal(c.n, 1);
	assert_null(c.ev[0].filename);
	assert_null(c.ev[0].exe);
	cap_clear(&c);
	/* an unknown version or type */
	e->h.size = (uint32_t)n;
	e->h.version = VG_EVENTS_VERSION + 1;
	feed(&d, buf, n, &c);
	e->h.version = VG_EVENTS_VERSION;
	e->h.type = 0xffff;
	feed(&d, buf, n, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(d.bad, 6);
	vg_bpf_decoder_release(&d);
}

/* Every type's record one byte short of its fixed part: refused. */
static void test_short_records(void **state)
{
	static const struct {
		uint16_t type;
		size_t size;
	} t[] = {
		{ VG_EV_FORK, sizeof(struct vg_ev_fork) },
		{ VG_EV_EXEC, sizeof(struct vg_ev_exec) },
		{ VG_EV_EXEC_ARGS, sizeof(struct vg_ev_exec_args) },
		{ VG_EV_EXIT, sizeof(struct vg_ev_exit) },
		{ VG_EV_OPEN, sizeof(struct vg_ev_open) },
		{ VG_EV_FILE, sizeof(struct vg_ev_file) },
		{ VG_EV_CONNECT, sizeof(struct vg_ev_net) },
		{ VG_EV_ACCEPT, sizeof(struct vg_ev_net) },
		{ VG_EV_BIND, sizeof(struct vg_ev_net) },
		{ VG_EV_LISTEN, sizeof(struct vg_ev_net) },
		{ VG_EV_SYSCALL, sizeof(struct vg_ev_syscall) },
		{ VG_EV_TRACEPOINT, sizeof(struct vg_ev_tracepoint) },
		{ VG_EV_CGROUP_MKDIR, sizeof(struct vg_ev_cgroup) },
		{ VG_EV_CGROUP_RMDIR, sizeof(struct vg_ev_cgroup) },
		{ VG_EV_PTRACE, sizeof(struct vg_ev_ptrace) },
		{ VG_EV_SOCKET, sizeof(struct vg_ev_sock) },
		{ VG_EV_DUP, sizeof(struct vg_ev_sock) },
		{ VG_EV_SEND, sizeof(struct vg_ev_sock) },
	};
	uint8_t buf[1024] = { 0 };
	struct vg_bpf_decoder d;
	struct cap c = { 0 };

	(void)state;
	init(&d);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(t[i].size <= sizeof(buf));
		hdr((struct vg_ev_hdr *)buf, t[i].type, (uint32_t)t[i].size - 1);
		feed(&d, buf, t[i].size - 1, &c);
		assert_int_equal(c.n, 0);
		assert_int_equal(d.bad, i + 1);
	}
	vg_bpf_decoder_release(&d);
}

/* ------------------------------------------- paths, addresses, the rest */

static void test_other_lengths(void **state)
{
	uint8_t buf[sizeof(struct vg_ev_net) + 64];
	struct vg_bpf_decoder d;
	struct cap c = { 0 };
	size_t n;

	(void)state;
	init(&d);

	/* open: -EFAULT as the given path's length; a sum that wraps */
	{
		struct vg_ev_open *o = (struct vg_ev_open *)buf;
		static const uint32_t lens[][2] = {
			{ NEG(EFAULT), 0 }, { NEG(EFAULT), 7 }, { 0xffffffffu, 8 },
			{ 8, 0xffffffffu }, { 7, 9 }, { 6, 0 },
		};

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memset(buf, 0, sizeof(*o));
			n = sizeof(*o) + 7;
			hdr(&o->h, VG_EV_OPEN, (uint32_t)n);
			memcpy(buf + sizeof(*o), "/etc/xy", 7); /* no NUL */
			o->path_len = lens[i][0];
			o->abs_len = lens[i][1];
			o->ret = -14;
			feed(&d, buf, n, &c);
			assert_int_equal(c.n, 1);
			assert_null(c.ev[0].path);
			assert_null(c.ev[0].name);
			cap_clear(&c);
		}
	}

	/* file: four lengths whose 32-bit sum is small */
	{
		struct vg_ev_file *f = (struct vg_ev_file *)buf;

		memset(buf, 0, sizeof(*f));
		n = sizeof(*f) + 8;
		hdr(&f->h, VG_EV_FILE, (uint32_t)n);
		memcpy(buf + sizeof(*f), "/a\0/b\0/c", 8);
		f->op = VG_FILE_RENAME;
		f->path_len = 0x80000000u;
		f->abs_len = 0x80000000u;
		f->path2_len = 3;
		f->abs2_len = 3;
		feed(&d, buf, n, &c);
		f->path_len = 3;
		f->abs_len = NEG(EFAULT);
		f->path2_len = 17; /* the sum in 32 bits: 6 */
		f->abs2_len = 0;
		feed(&d, buf, n, &c);
		f->op = 0xffffffffu; /* no such action */
		f->path_len = 3;
		f->abs_len = 0;
		f->path2_len = 3;
		f->abs2_len = 2; /* "/c" has no NUL */
		feed(&d, buf, n, &c);
		assert_int_equal(c.n, 3);
		for (size_t i = 0; i < 2; i++) {
			assert_null(c.ev[i].path);
			assert_null(c.ev[i].name);
			assert_null(c.ev[i].path2);
			assert_null(c.ev[i].name2);
		}
		assert_string_equal(c.ev[2].path, "/a");
		assert_string_equal(c.ev[2].path2, "/b");
		assert_string_equal(c.ev[2].name2, "/b");
		cap_clear(&c);
	}

	/* cgroup: the path's length -EFAULT, 0, one past the record */
	{
		struct vg_ev_cgroup *g = (struct vg_ev_cgroup *)buf;
		static const uint32_t lens[] = { NEG(EFAULT), 0, 9, 8 };

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memset(buf, 0, sizeof(*g));
			n = sizeof(*g) + 8;
			hdr(&g->h, VG_EV_CGROUP_MKDIR, (uint32_t)n);
			memcpy(buf + sizeof(*g), "/docker", 8);
			g->path_len = lens[i];
			feed(&d, buf, n, &c);
			assert_int_equal(c.n, 1);
			if (lens[i] == 8)
				assert_string_equal(c.ev[0].path, "/docker");
			else
				assert_null(c.ev[0].path);
			cap_clear(&c);
		}
	}

	/* net: address lengths -EFAULT and past the array: no address */
	{
		struct vg_ev_net *e = (struct vg_ev_net *)buf;

		memset(buf, 0, sizeof(*e));
		hdr(&e->h, VG_EV_CONNECT, sizeof(*e));
		e->family = AF_UNIX;
		memset(e->addr, 'a', sizeof(e->addr));
		memset(e->local, 'l', sizeof(e->local));
		e->addr[0] = AF_UNIX, e->addr[1] = 0;
		e->local[0] = AF_UNIX, e->local[1] = 0;
		e->addr_len = NEG(EFAULT);
		e->local_len = VG_SOCKADDR_MAX + 1;
		feed(&d, buf, sizeof(*e), &c);
		/* at most: the whole array after the family, made a string */
		e->addr_len = VG_SOCKADDR_MAX;
		e->local_len = 0;
		feed(&d, buf, sizeof(*e), &c);
		assert_int_equal(c.n, 2);
		assert_int_equal(c.ev[0].server.family, 0);
		assert_int_equal(c.ev[0].client.family, 0);
		assert_int_equal(c.ev[1].server.family, AF_UNIX);
		assert_int_equal(strlen(c.ev[1].server.text), VG_SOCKADDR_MAX - 2);
		assert_int_equal(c.ev[1].client.family, 0);
		cap_clear(&c);
	}

	/* tracepoint: raw lengths -EFAULT and one past the record */
	{
		struct vg_ev_tracepoint *t = (struct vg_ev_tracepoint *)buf;
		struct vg_tp_format fmt = { .name = (char *)"x", .id = 7 };

		d.tps = &fmt;
		d.n_tps = 1;
		memset(buf, 0, sizeof(*t));
		n = sizeof(*t) + 16;
		hdr(&t->h, VG_EV_TRACEPOINT, (uint32_t)n);
		t->tp_id = 7;
		t->len = NEG(EFAULT);
		feed(&d, buf, n, &c);
		t->len = 17;
		feed(&d, buf, n, &c);
		assert_int_equal(c.n, 0);
		t->len = 16;
		feed(&d, buf, n, &c);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.ev[0].tp_len, 16);
		cap_clear(&c);
		d.tps = NULL;
		d.n_tps = 0;
	}
	vg_bpf_decoder_release(&d);
}

/* ------------------------------------------------------- argv in chunks */

#define SENT3 (2 * VG_ARGS_CHUNK + 100) /* three chunks, the last short */

/* Nothing of @s->args is @bad. */
static void no_byte(const struct seen *s, char bad)
{
	if (s->args_len && memchr(s->args, bad, s->args_len))
		fail_msg("argv holds '%c', a byte that was never received", bad);
}

/* The chunk records of one exec, in order, and how it comes out. */
struct chunk_case {
	const char *what;
	size_t (*make)(uint64_t seq, uint32_t i); /* NULL: lost */
	bool fed[3];
	bool delivered_at_last;  /* without waiting for the flush */
	uint32_t want_len;
	bool want_incomplete;
	uint64_t want_bad;
};

static size_t whole(uint64_t seq, uint32_t i)
{
	return chunk_of(seq, SENT3, i, (char)('A' + i));
}

/* As the kernel side leaves a chunk it could not read: len 0, and a
 * header that says so. */
static size_t failed_read(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK, 0, 0, 0, 0) : whole(seq, i);
}

/* As an earlier kernel side left it: len 0, the header still counting
 * the bytes that were to follow. */
static size_t failed_read_old(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK, 0, 0, 0,
				 sizeof(struct vg_ev_exec_args) + VG_ARGS_CHUNK)
		      : whole(seq, i);
}

/* -EFAULT kept as the chunk's length */
static size_t huge_len(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK, NEG(EFAULT), 64, 'Z', 0)
		      : whole(seq, i);
}

/* a length beyond the record: the chunk's, with 100 bytes of it */
static size_t past_record(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK, VG_ARGS_CHUNK, 100, 'Z', 0)
		      : whole(seq, i);
}

/* a short chunk that says it is short */
static size_t short_chunk(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK, 100, 100, 'Z', 0) : whole(seq, i);
}

/* the first chunk again where the second should be */
static size_t doubled(uint64_t seq, uint32_t i)
{
	return whole(seq, i == 1 ? 0 : i);
}

/* offsets that are no chunk of this argv */
static size_t misplaced(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, VG_ARGS_CHUNK + 1, 64, 64, 'Z', 0) : whole(seq, i);
}

static size_t beyond(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, 3 * VG_ARGS_CHUNK, 64, 64, 'Z', 0) : whole(seq, i);
}

static size_t at_most(uint64_t seq, uint32_t i)
{
	return i == 1 ? mk_chunk(seq, 0xffffffffu - 5, 64, 64, 'Z', 0) : whole(seq, i);
}

/* ptrace as recorded; a dup of a connected socket and a send with
 * lengths past their arrays: the addresses the record can hold, and no
 * more. */
static void test_opt_in_records(void **state)
{
	struct vg_ev_ptrace pt = { 0 };
	struct vg_ev_sock k = { 0 };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct vg_bpf_decoder d;
	struct cap c = { 0 };

	(void)state;
	init(&d);
	hdr(&pt.h, VG_EV_PTRACE, sizeof(pt));
	pt.request = 16;
	pt.pid = 42;
	feed(&d, &pt, sizeof(pt), &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].type, VG_E_PTRACE);
	assert_int_equal(c.ev[0].request, 16);
	assert_int_equal(c.ev[0].pid, 42);

	hdr(&k.h, VG_EV_DUP, sizeof(k));
	k.fd = 3;
	k.newfd = 1;
	k.ret = 1;
	k.fd_mode = 0140000;
	k.family = AF_INET;
	k.addr_flags = VG_NET_CONNECTED;
	in.sin_addr.s_addr = htonl(0x7f000001);
	memcpy(k.addr, &in, sizeof(in));
	k.addr_len = sizeof(in);
	memcpy(k.local, &in, sizeof(in));
	k.local_len = VG_SOCKADDR_MAX + 1; /* past the array: none */
	feed(&d, &k, sizeof(k), &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ev[1].type, VG_E_DUP);
	assert_int_equal(c.ev[1].fd, 3);
	assert_int_equal(c.ev[1].newfd, 1);
	assert_true(c.ev[1].connected);
	assert_string_equal(c.ev[1].server.text, "127.0.0.1");
	assert_int_equal(c.ev[1].server.port, 80);
	assert_int_equal(c.ev[1].client.family, 0);

	/* a Unix path of the whole array, with no NUL: cut, a C string */
	hdr(&k.h, VG_EV_SEND, sizeof(k));
	memset(k.addr, 'a', sizeof(k.addr));
	k.addr[0] = AF_UNIX;
	k.addr[1] = 0;
	k.addr_len = VG_SOCKADDR_MAX;
	k.addr_flags = VG_NET_REQUESTED;
	feed(&d, &k, sizeof(k), &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ev[2].type, VG_E_SEND);
	assert_int_equal(c.ev[2].server.family, AF_UNIX);
	assert_false(c.ev[2].connected);
	assert_int_equal(d.bad, 0);
	vg_bpf_decoder_release(&d);
}

static void test_argv_chunks(void **state)
{
	static const struct chunk_case t[] = {
		{ "whole", whole, { 1, 1, 1 }, true, SENT3, false, 0 },
		{ "the middle lost", whole, { 1, 0, 1 }, false, VG_ARGS_CHUNK, true, 0 },
		{ "the first lost", whole, { 0, 1, 1 }, false, 0, true, 0 },
		{ "the last lost", whole, { 1, 1, 0 }, false, 2 * VG_ARGS_CHUNK, true, 0 },
		{ "all lost", whole, { 0, 0, 0 }, false, 0, true, 0 },
		{ "the middle unreadable", failed_read, { 1, 1, 1 }, true, VG_ARGS_CHUNK, true, 0 },
		{ "the middle unreadable, header as before", failed_read_old, { 1, 1, 1 },
		  false, VG_ARGS_CHUNK, true, 1 },
		{ "the middle's length -EFAULT", huge_len, { 1, 1, 1 }, true, VG_ARGS_CHUNK,
		  true, 0 },
		{ "the middle's length past its record", past_record, { 1, 1, 1 }, true,
		  VG_ARGS_CHUNK, true, 0 },
		{ "the middle short", short_chunk, { 1, 1, 1 }, true, VG_ARGS_CHUNK, true, 0 },
		{ "the first twice, no middle", doubled, { 1, 1, 1 }, false, VG_ARGS_CHUNK,
		  true, 0 },
		{ "the middle misplaced", misplaced, { 1, 1, 1 }, false, VG_ARGS_CHUNK, true, 1 },
		{ "the middle beyond argv", beyond, { 1, 1, 1 }, false, VG_ARGS_CHUNK, true, 1 },
		{ "the middle at 4 GiB", at_most, { 1, 1, 1 }, false, VG_ARGS_CHUNK, true, 1 },
	};
	uint8_t buf[sizeof(struct vg_ev_exec) + 64];

	(void)state;
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct vg_bpf_decoder d;
		struct cap c = { 0 };
		const struct seen *s;
		uint64_t seq = 100 + k;
		size_t n;

		init(&d);
		/* an earlier exec, whole, its argv all 'G': whatever it left
		 * in the heap must not show through the next one's gaps */
		n = mk_exec_args(buf, SENT3, 1);
		feed(&d, buf, n, &c);
		for (uint32_t i = 0; i < 3; i++) {
			n = chunk_of(1, SENT3, i, 'G');
			feed(&d, chunkbuf, n, &c);
		}
		assert_int_equal(c.n, 1);
		assert_int_equal(c.ev[0].args_len, SENT3);
		cap_clear(&c);

		n = mk_exec_args(buf, SENT3, seq);
		feed(&d, buf, n, &c);
		for (uint32_t i = 0; i < 3; i++) {
			if (!t[k].fed[i])
				continue;
			n = t[k].make(seq, i);
			feed(&d, chunkbuf, n, &c);
		}
		if ((c.n == 1) != t[k].delivered_at_last)
			fail_msg("%s: %zu events before the flush", t[k].what, c.n);
		vg_bpf_decoder_flush(&d, now, true, on_event, &c);
		if (c.n != 1)
			fail_msg("%s: %zu events", t[k].what, c.n);
		s = &c.ev[0];
		if (s->args_len != t[k].want_len || s->incomplete != t[k].want_incomplete)
			fail_msg("%s: %u bytes of argv, incomplete %d", t[k].what,
				 s->args_len, s->incomplete);
		assert_true(s->truncated == t[k].want_incomplete);
		assert_int_equal(s->args_bytes, SENT3);
		assert_true(s->has_args == (t[k].want_len > 0));
		no_byte(s, 'G');
		no_byte(s, 'Z');
		/* the received prefix is each chunk's own bytes */
		for (uint32_t i = 0; i * VG_ARGS_CHUNK < s->args_len; i++)
			assert_int_equal(s->args[i * VG_ARGS_CHUNK], 'A' + (int)i);
		if (d.bad != t[k].want_bad)
			fail_msg("%s: %llu records refused", t[k].what,
				 (unsigned long long)d.bad);
		cap_clear(&c);
		vg_bpf_decoder_release(&d);
	}
}

/* Exec records whose account of their argv the kernel side never gives:
 * delivered at once, no argv, marked; their chunks find no exec. */
static void test_argv_accounts(void **state)
{
	static const struct {
		const char *what;
		uint32_t args_len, args_sent, chunks;
		bool incomplete, truncated;
	} t[] = {
		{ "no argv asked for", 5000, 0, 0, false, true },
		{ "an empty argv", 0, 0, 0, false, false },
		{ "sent with no chunks", 100, 100, 0, true, true },
		{ "more chunks than sent needs", 100, 100, 2, true, true },
		{ "fewer chunks than sent needs", 20000, 20000, 1, true, true },
		{ "sent more than held", 100, 200, 1, true, true },
		{ "sent past VG_ARGS_MAX", 0xffffffffu, VG_ARGS_MAX + 1,
		  VG_ARGS_MAX / VG_ARGS_CHUNK + 1, true, true },
		{ "chunks at most", 0xffffffffu, NEG(EFAULT), 0xffffffffu, true, true },
		{ "sent -EFAULT", 0xffffffffu, NEG(EFAULT), 0, true, true },
	};
	uint8_t buf[sizeof(struct vg_ev_exec) + 64];

	(void)state;
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct vg_bpf_decoder d;
		struct cap c = { 0 };
		size_t n;

		init(&d);
		n = mk_exec(buf, "/bin/prog", 10, 10, "/usr/bin/prog", 14, 14, t[k].args_len,
			    t[k].args_sent, t[k].chunks, 9);
		feed(&d, buf, n, &c);
		if (c.n != 1)
			fail_msg("%s: %zu events", t[k].what, c.n);
		if (c.ev[0].incomplete != t[k].incomplete ||
		    c.ev[0].truncated != t[k].truncated)
			fail_msg("%s: incomplete %d truncated %d", t[k].what,
				 c.ev[0].incomplete, c.ev[0].truncated);
		assert_false(c.ev[0].has_args);
		assert_int_equal(c.ev[0].args_len, 0);
		assert_string_equal(c.ev[0].exe, "/usr/bin/prog");
		n = mk_chunk(9, 0, 100, 100, 'Z', 0);
		feed(&d, chunkbuf, n, &c);
		assert_int_equal(c.n, 1);
		assert_int_equal(d.unmatched, 1);
		cap_clear(&c);
		vg_bpf_decoder_release(&d);
	}
}

/* More execs waiting than slots: the oldest goes out with what it has,
 * marked; a slot reused keeps nothing of its last exec. */
static void test_pending_full(void **state)
{
	uint8_t buf[sizeof(struct vg_ev_exec) + 64];
	struct vg_bpf_decoder d;
	struct cap c = { 0 };
	size_t n;

	(void)state;
	init(&d);
	for (uint64_t s = 1; s <= VG_DECODE_PENDING; s++) {
		n = mk_exec_args(buf, SENT3, s);
		now += 1000;
		feed(&d, buf, n, &c);
		n = chunk_of(s, SENT3, 1, 'G'); /* the middle only */
		feed(&d, chunkbuf, n, &c);
	}
	assert_int_equal(c.n, 0);
	n = mk_exec_args(buf, SENT3, 1000);
	now += 1000;
	feed(&d, buf, n, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].args_len, 0);
	assert_true(c.ev[0].incomplete);
	cap_clear(&c);
	/* the new exec took the freed slot: its first chunk only */
	n = chunk_of(1000, SENT3, 0, 'A');
	feed(&d, chunkbuf, n, &c);
	vg_bpf_decoder_flush(&d, now, true, on_event, &c);
	assert_int_equal(c.n, VG_DECODE_PENDING);
	for (size_t i = 0; i < c.n; i++) {
		no_byte(&c.ev[i], 'G');
		assert_true(c.ev[i].incomplete);
		if (c.ev[i].args_len) {
			assert_int_equal(c.ev[i].args_len, VG_ARGS_CHUNK);
			assert_int_equal(c.ev[i].args[0], 'A');
		}
	}
	cap_clear(&c);
	/* the flush by age: not before VG_DECODE_PENDING_NS */
	n = mk_exec_args(buf, 10, 2000);
	feed(&d, buf, n, &c);
	vg_bpf_decoder_flush(&d, now + VG_DECODE_PENDING_NS, false, on_event, &c);
	assert_int_equal(c.n, 0);
	vg_bpf_decoder_flush(&d, now + VG_DECODE_PENDING_NS + 1, false, on_event, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.ev[0].incomplete);
	cap_clear(&c);
	vg_bpf_decoder_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_strings),
		cmocka_unit_test(test_record_bounds),
		cmocka_unit_test(test_short_records),
		cmocka_unit_test(test_other_lengths),
		cmocka_unit_test(test_opt_in_records),
		cmocka_unit_test(test_argv_chunks),
		cmocka_unit_test(test_argv_accounts),
		cmocka_unit_test(test_pending_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
