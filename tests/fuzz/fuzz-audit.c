/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit records, as netlink gives them, through the reassembler (and
 * libauparse behind it): the records are written by the kernel from
 * what processes control (argv, paths, comm, socket addresses), and
 * anything else on the host may send to the multicast group's readers.
 * The input is records a line, "<type> <text>" as in
 * tests/fixtures/audit (no type: 1300); the text may hold any byte but a
 * newline. The bounds are small so that eviction is reached. Nothing
 * may crash, leak or read out of bounds, the bounds must hold after
 * every record, and every event handed out must be whole. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/audit/reasm.h"

#define MAX_BYTES 8192
#define MAX_GROUPS 8
#define MAX_ARGS 512

static int check_event(void *ctx, struct vg_event *e, unsigned flags)
{
	struct vg_event *d;

	(void)ctx;
	if (!e->has_task || !e->t.pid || e->type == VG_E_NONE ||
	    memchr(e->t.comm, '\0', sizeof(e->t.comm)) == NULL ||
	    (flags & ~(VG_AR_INCOMPLETE | VG_AR_THREAD_UNKNOWN)))
		abort();
	if (e->type == VG_E_EXEC &&
	    (e->exec.args_len > MAX_ARGS || e->exec.args_len != e->exec.args_bytes ||
	     (e->exec.args_len && e->exec.args[e->exec.args_len - 1] != '\0')))
		abort();
	/* every string and byte it points at, read (ASan checks them) */
	d = vg_event_dup(e);
	if (!d)
		abort();
	free(d);
	return 0;
}

/* libauparse before 3.1.1 leaks the first value of a CWD record with
 * two cwd fields (fixed upstream: "the most common fuzzer fault"); the
 * kernel writes one, its path hex-encoded when it has a space. Such
 * records stay out, so that the fuzzer finds vigil's faults. */
static bool auparse_leaks(int type, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *c;
	int n = 0;

	if (type != 1307)
		return false;
	while (p < end && (c = memmem(p, (size_t)(end - p), "cwd=", 4)) != NULL) {
		if (++n > 1)
			return true;
		p = c + 4;
	}
	return false;
}

static void check_bounds(const struct vg_audit_reasm *r)
{
	struct vg_audit_reasm_stats st;

	vg_audit_reasm_stats(r, &st);
	if (st.open_bytes > MAX_BYTES || st.open_groups > MAX_GROUPS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vg_audit_reasm_opts o = {
		.eoe_timeout_ns = 50000000ull,
		.max_bytes = MAX_BYTES,
		.max_groups = MAX_GROUPS,
		.max_args = MAX_ARGS,
		.boot_to_wall_ns = 1795000000ll * 1000000000ll,
	};
	const char *p = (const char *)data, *end = p + size;
	struct vg_audit_reasm *r;
	struct vg_audit_reasm_stats st;
	uint64_t now = 1000000000ull, n = 0;

	if (vg_audit_reasm_new(&o, &r) < 0)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		int type = 0, digits = 0;

		while (p < eol && digits < 5 && *p >= '0' && *p <= '9') {
			type = type * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits)
			type = 1300;
		if (p < eol && *p == ' ')
			p++;
		if (auparse_leaks(type, p, (size_t)(eol - p))) {
			p = nl ? nl + 1 : end;
			continue;
		}
		vg_audit_reasm_record(r, type, p, (size_t)(eol - p), now, check_event,
				      NULL);
		check_bounds(r);
		n++;
		/* time passes: a millisecond a record, a tick every 16 */
		now += 1000000ull;
		if (n % 16 == 0) {
			vg_audit_reasm_tick(r, now, false, check_event, NULL);
			check_bounds(r);
		}
		p = nl ? nl + 1 : end;
	}
	vg_audit_reasm_tick(r, now, true, check_event, NULL);
	vg_audit_reasm_stats(r, &st);
	if (st.open_groups || st.open_bytes || st.records != n)
		abort();
	vg_audit_reasm_free(r);
	return 0;
}
