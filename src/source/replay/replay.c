/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "source/replay/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "source/bpf/decode.h"
#include "source/record.h"

/* Entries read per pump (the engine comes back at once while behind). */
#define BATCH 4096

struct replay {
	struct vg_source base;
	struct vg_rec_reader rd;
	struct vg_bpf_decoder dec;
	bool eof;
	int error;
	uint64_t last_mono;  /* the recording's clock, for argv timeouts */
	uint64_t last_ktime; /* the last record's, for lost events */
	uint64_t lost[VG_E_KERNEL_TYPES];
	/* the recording's init pid facts, delivered first: the live engine
	 * learnt each at the exec that it explains, which comes before it
	 * in the file */
	struct vg_rec_init_pid *facts;
	size_t n_facts, facts_sent;
	/* the recording's claim verdicts, the last of each key */
	struct claim {
		char *key;
		struct vg_verdict v;
	} *claims;
	size_t n_claims;
	/* the recording's session facts, sorted by process, the last of
	 * each process first among its own */
	struct session {
		struct vg_rec_session s;
		size_t order;
	} *sessions;
	size_t n_sessions;
};

static struct replay *of(struct vg_source *s)
{
	return (struct replay *)s;
}

static int deliver_lost(struct replay *r, const uint64_t *now, vg_event_fn fn,
			void *ctx)
{
	struct vg_event e = { .type = VG_E_LOST };

	for (int t = 0; t < VG_E_KERNEL_TYPES; t++) {
		uint64_t d = now[t] > r->lost[t] ? now[t] - r->lost[t] : 0;

		e.lost.by_type[t] = d;
		e.lost.total += d;
		r->lost[t] = now[t];
	}
	if (!e.lost.total)
		return 0;
	e.t.ktime_ns = r->last_ktime;
	return fn(ctx, &e);
}

/* One entry into events. */
static int entry(struct replay *r, const struct vg_rec_entry *en,
		 const void *body, vg_event_fn fn, void *ctx)
{
	struct vg_event e = { 0 };

	r->last_mono = en->mono_ns;
	switch (en->kind) {
	case VG_REC_RING:
		if (en->len >= 16) {
			uint64_t kt;

			memcpy(&kt, (const char *)body + 8, sizeof(kt));
			r->last_ktime = kt;
		}
		return vg_bpf_decode(&r->dec, body, en->len, en->mono_ns, fn, ctx);
	case VG_REC_CGROUP: {
		const char *path = (const char *)body + 8;

		if (en->len <= 8 || ((const char *)body)[en->len - 1])
			return 0;
		e.type = VG_E_CGROUP_MKDIR;
		memcpy(&e.cgroup.id, body, 8);
		e.cgroup.path = path;
		e.cgroup.existing = true;
		return fn(ctx, &e);
	}
	case VG_REC_PROC: {
		struct vg_rec_proc p;
		const char *exe = (const char *)body + sizeof(p);

		if (en->len < sizeof(p))
			return 0;
		memcpy(&p, body, sizeof(p));
		if ((uint64_t)sizeof(p) + p.exe_len > en->len ||
		    (p.exe_len && exe[p.exe_len - 1]))
			return 0;
		e.type = VG_E_PROC_SEED;
		e.seed.pid = p.pid;
		e.seed.ppid = p.ppid;
		e.seed.start_ticks = p.start_ticks;
		e.seed.exe = p.exe_len ? exe : NULL;
		memcpy(e.t.comm, p.comm, sizeof(e.t.comm));
		e.t.comm[sizeof(e.t.comm) - 1] = '\0';
		return fn(ctx, &e);
	}
	case VG_REC_INIT_PID: {
		struct vg_rec_init_pid f;

		if (en->len < sizeof(f))
			return 0;
		memcpy(&f, body, sizeof(f));
		e.type = VG_E_INIT_PID;
		e.init.cgroup_id = f.cgroup_id;
		e.init.pid = f.pid;
		return fn(ctx, &e);
	}
	case VG_REC_LOST: {
		uint64_t now[VG_E_KERNEL_TYPES] = { 0 };
		size_t n = en->len < sizeof(now) ? en->len : sizeof(now);

		/* a recording of fewer types has fewer counts: the
		 * others were not there to lose */
		if (n < 8)
			return 0;
		memcpy(now, body, n - n % 8);
		return deliver_lost(r, now, fn, ctx);
	}
	default: /* END, or a kind of a later version: skipped */
		return 0;
	}
}

static int rp_pump(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct replay *r = of(s);
	int n = 0;

	while (r->facts_sent < r->n_facts) {
		struct vg_event e = { .type = VG_E_INIT_PID };
		int k;

		e.init.cgroup_id = r->facts[r->facts_sent].cgroup_id;
		e.init.pid = r->facts[r->facts_sent].pid;
		r->facts_sent++;
		if ((k = fn(ctx, &e)))
			return k;
	}

	while (!r->eof && (all || n < BATCH)) {
		struct vg_rec_entry en;
		const void *body;
		int k = vg_rec_read(&r->rd, &en, &body);

		if (k <= 0) {
			r->eof = true;
			if (k < 0)
				r->error = k;
			break;
		}
		n++;
		k = entry(r, &en, body, fn, ctx);
		if (k)
			return k;
	}
	return r->error ? r->error : n;
}

static bool rp_behind(struct vg_source *s)
{
	return !of(s)->eof;
}

static void rp_tick(struct vg_source *s, bool all, vg_event_fn fn, void *ctx)
{
	struct replay *r = of(s);

	vg_bpf_decoder_flush(&r->dec, r->last_mono, all || r->eof, fn, ctx);
}

static bool rp_ended(struct vg_source *s)
{
	return of(s)->eof;
}

static int rp_set_types(struct vg_source *s, uint64_t types, char *err,
			size_t errsz)
{
	/* what was recorded is what there is */
	(void)s, (void)types, (void)err, (void)errsz;
	return 0;
}

static int rp_lost(struct vg_source *s, uint64_t by_type[VG_E_KERNEL_TYPES],
		   uint64_t *unmatched)
{
	memcpy(by_type, of(s)->lost, sizeof(of(s)->lost));
	*unmatched = of(s)->dec.unmatched;
	return 0;
}

static void rp_free(struct vg_source *s)
{
	struct replay *r = of(s);

	vg_rec_read_close(&r->rd);
	vg_bpf_decoder_release(&r->dec);
	free(r->facts);
	for (size_t i = 0; i < r->n_claims; i++)
		free(r->claims[i].key);
	free(r->claims);
	free(r->sessions);
	free(r);
}

static int rp_session(struct vg_source *s, int pid, uint64_t start_ticks,
		      struct vg_rec_session *ret)
{
	struct replay *r = of(s);
	size_t lo = 0, hi = r->n_sessions;

	/* the first of the process's entries: the last recorded */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vg_rec_session *m = &r->sessions[mid].s;

		if (m->pid < pid || (m->pid == pid && m->start_ticks < start_ticks))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n_sessions || r->sessions[lo].s.pid != pid ||
	    r->sessions[lo].s.start_ticks != start_ticks)
		return -ENOENT;
	*ret = r->sessions[lo].s;
	return 0;
}

static const struct vg_source_ops replay_ops = {
	.name = "replay",
	.pump = rp_pump,
	.behind = rp_behind,
	.tick = rp_tick,
	.ended = rp_ended,
	.set_types = rp_set_types,
	.lost = rp_lost,
	.session = rp_session,
	.free = rp_free,
};

/* One claim verdict entry, kept (the last for a key wins). */
static void keep_claim(struct replay *r, const void *body, uint32_t len,
		       size_t *cap)
{
	struct vg_rec_claim c;
	const char *key, *why;
	struct claim *k = NULL;

	if (len < sizeof(c) || r->n_claims >= 65536)
		return;
	memcpy(&c, body, sizeof(c));
	if (c.key_len == 0 || c.why_len == 0 ||
	    (uint64_t)sizeof(c) + c.key_len + c.why_len > len ||
	    c.level > VG_VERIFY_FAILED)
		return;
	key = (const char *)body + sizeof(c);
	why = key + c.key_len;
	if (key[c.key_len - 1] || why[c.why_len - 1])
		return;
	for (size_t i = 0; i < r->n_claims && !k; i++)
		if (strcmp(r->claims[i].key, key) == 0)
			k = &r->claims[i];
	if (!k) {
		if (r->n_claims == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			void *p = realloc(r->claims, nc * sizeof(*r->claims));

			if (!p)
				return;
			r->claims = p;
			*cap = nc;
		}
		k = &r->claims[r->n_claims];
		if (!(k->key = strdup(key)))
			return;
		r->n_claims++;
	}
	k->v = (struct vg_verdict){ .level = (enum vg_verify)c.level,
				    .init_pid = c.init_pid,
				    .state_root_pid = c.state_root_pid };
	snprintf(k->v.why, sizeof(k->v.why), "%s", why);
}

static int replay_verify(void *arg, const struct vg_cgroup_match *m,
			 const char *key, struct vg_verdict *ret)
{
	struct replay *r = arg;

	(void)m;
	for (size_t i = 0; i < r->n_claims; i++)
		if (strcmp(r->claims[i].key, key) == 0) {
			*ret = r->claims[i].v;
			/* the state of a nested container is not here to read */
			ret->state_root_pid = 0;
			return 0;
		}
	*ret = (struct vg_verdict){ .level = VG_VERIFY_FAILED };
	snprintf(ret->why, sizeof(ret->why),
		 "the recording holds no verification of this claim");
	return 0;
}

void vg_replay_verifier(struct vg_source *s, vg_verify_fn *ret_fn,
			void **ret_arg)
{
	*ret_fn = replay_verify;
	*ret_arg = of(s);
}

/* One session entry, kept: the facts of a process are looked up at its
 * events, which come before the entry in the file (the live sensor read
 * them while it evaluated the first that asked). */
static void keep_session(struct replay *r, const void *body, uint32_t len,
			 size_t *cap)
{
	if (len < sizeof(struct vg_rec_session) || r->n_sessions >= 65536)
		return;
	if (r->n_sessions == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *p = realloc(r->sessions, nc * sizeof(*r->sessions));

		if (!p)
			return;
		r->sessions = p;
		*cap = nc;
	}
	memcpy(&r->sessions[r->n_sessions].s, body, sizeof(r->sessions->s));
	r->sessions[r->n_sessions].order = r->n_sessions;
	r->n_sessions++;
}

static int session_cmp(const void *a, const void *b)
{
	const struct session *x = a, *y = b;

	if (x->s.pid != y->s.pid)
		return x->s.pid < y->s.pid ? -1 : 1;
	if (x->s.start_ticks != y->s.start_ticks)
		return x->s.start_ticks < y->s.start_ticks ? -1 : 1;
	return x->order > y->order ? -1 : x->order < y->order;
}

/* Read @path's init pid facts, claim verdicts and session facts ahead
 * (at most 65,536 of each). */
static int scan_facts(struct replay *r, const char *path, char *err, size_t errsz)
{
	struct vg_rec_reader rd;
	struct vg_rec_entry en;
	const void *body;
	size_t cap = 0, claims_cap = 0, sessions_cap = 0;
	int k;

	k = vg_rec_read_open(&rd, path, err, errsz);
	if (k < 0)
		return k;
	while ((k = vg_rec_read(&rd, &en, &body)) > 0) {
		if (en.kind == VG_REC_CLAIM) {
			keep_claim(r, body, en.len, &claims_cap);
			continue;
		}
		if (en.kind == VG_REC_SESSION) {
			keep_session(r, body, en.len, &sessions_cap);
			continue;
		}
		if (en.kind != VG_REC_INIT_PID || en.len < sizeof(*r->facts) ||
		    r->n_facts >= 65536)
			continue;
		if (r->n_facts == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p = realloc(r->facts, nc * sizeof(*r->facts));

			if (!p)
				break;
			r->facts = p;
			cap = nc;
		}
		memcpy(&r->facts[r->n_facts++], body, sizeof(*r->facts));
	}
	vg_rec_read_close(&rd);
	if (r->n_sessions)
		qsort(r->sessions, r->n_sessions, sizeof(*r->sessions), session_cmp);
	return 0;
}

/* The eBPF sensor's records: what it lacks, a recording of it lacks. */
static const struct vg_source_lack replay_lacks[] = {
	{ "proc.cwd", 0, "the eBPF sensor's records hold no working directory" },
	{ NULL, 0, NULL },
};

int vg_replay_source_new(const char *path, const struct vg_tp_format *tps,
			 size_t n_tps, struct vg_source **ret, char *err,
			 size_t errsz)
{
	struct replay *r = calloc(1, sizeof(*r));
	int e;

	if (!r || vg_bpf_decoder_init(&r->dec) < 0) {
		free(r);
		vg_set_err(err, errsz, "out of memory");
		return -ENOMEM;
	}
	e = scan_facts(r, path, err, errsz);
	if (e == 0)
		e = vg_rec_read_open(&r->rd, path, err, errsz);
	if (e < 0) {
		for (size_t i = 0; i < r->n_claims; i++)
			free(r->claims[i].key);
		free(r->claims);
		free(r->facts);
		free(r->sessions);
		vg_bpf_decoder_release(&r->dec);
		free(r);
		return e;
	}
	r->base.ops = &replay_ops;
	r->base.caps = 0;
	r->base.lacks = replay_lacks;
	r->dec.tps = tps;
	r->dec.n_tps = n_tps;
	if (r->rd.h.boot_id[0]) {
		snprintf(r->base.boot_id, sizeof(r->base.boot_id), "%s",
			 r->rd.h.boot_id);
		r->base.have_boot_id = true;
	}
	r->base.boot_to_wall_ns = (int64_t)r->rd.h.boot_to_wall_ns;
	*ret = &r->base;
	return 0;
}

const char *vg_replay_kernel(struct vg_source *s)
{
	return of(s)->rd.h.kernel;
}
