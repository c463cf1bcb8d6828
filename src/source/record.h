/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_SOURCE_RECORD_H
#define VG_SOURCE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "source/bpf/events.h"

/*
 * A recording: the raw records the sensor delivered, as they came, with
 * what is needed to read them again elsewhere: a header (the kernel,
 * vigil's version, the boot id, the wall clock), the cgroups and
 * processes that existed when recording began, and the kernel's loss
 * counts as they grew. A replay feeds them to the same engine, so a
 * user can capture and share a reproduction, and tests can run the
 * engine without root.
 *
 * The file: a header, then entries, each a struct vg_rec_entry and
 * @len bytes, padded to 8. Integers are in the recording host's byte
 * order (the header says which); a reader refuses a file of the other.
 */

#define VG_REC_MAGIC "VIGILREC"
#define VG_REC_VERSION 1
#define VG_REC_ENTRY_MAX (1u << 20) /* bytes of one entry's body */

struct vg_rec_header {
	char magic[8];           /* VG_REC_MAGIC, no NUL */
	uint32_t version;        /* VG_REC_VERSION */
	uint32_t header_size;    /* sizeof(struct vg_rec_header) */
	uint32_t byte_order;     /* 0x01020304 as written */
	uint32_t events_version; /* VG_EVENTS_VERSION of the records */
	uint64_t boot_to_wall_ns; /* add to a record's ktime_ns for wall time */
	uint64_t clk_tck;
	char kernel[72];         /* uname -r */
	char machine[72];        /* uname -m */
	char vigil_version[32];
	char boot_id[40];        /* as /proc/sys/kernel/random/boot_id */
	char host_root[128];     /* where it was recorded from */
};

enum vg_rec_kind {
	VG_REC_RING = 1,   /* one ring-buffer record, as the kernel wrote it */
	VG_REC_CGROUP = 2, /* a cgroup that existed at start: u64 id, path */
	VG_REC_PROC = 3,   /* a process that existed at start: vg_rec_proc */
	VG_REC_LOST = 4,   /* the kernel's loss counts so far: u64[VG_EV_TYPES] */
	VG_REC_END = 5,    /* a clean end */
	VG_REC_INIT_PID = 6, /* a container's init as its runtime recorded
			      * it, when it was read: vg_rec_init_pid */
	VG_REC_CLAIM = 7,    /* how a container claim was verified, when it
			      * was decided: vg_rec_claim */
	VG_REC_SESSION = 8,  /* what /proc said of a process's session
			      * (tty, loginuid, capabilities), when a field
			      * asked for it: vg_rec_session */
};

/* A process's session facts as the live sensor read them from /proc:
 * a replay has no /proc of the recorded host, and says what it read.
 * A process read more than once (after an exec) keeps the last. */
#define VG_REC_SESSION_LOGINUID (1u << 0) /* loginuid read */
#define VG_REC_SESSION_STATUS (1u << 1)   /* vpid and caps read */
struct vg_rec_session {
	int32_t pid;
	uint32_t flags;       /* VG_REC_SESSION_* */
	uint64_t start_ticks; /* as in stat: which process of the pid */
	int32_t tty, sid;
	int64_t loginuid;     /* -1: never set */
	int32_t vpid;
	uint32_t pad0;
	uint64_t cap_inh, cap_prm, cap_eff;
};

/* Followed by the claim's key (key_len bytes with its NUL) and why it was
 * not verified (why_len bytes with its NUL). A replay verifies nothing
 * itself: it says what the live sensor found. */
struct vg_rec_claim {
	uint32_t level; /* enum vg_verify */
	int32_t init_pid, state_root_pid;
	uint32_t key_len, why_len;
	uint32_t pad0;
};

struct vg_rec_init_pid {
	uint64_t cgroup_id;
	int32_t pid;
	uint32_t pad0;
};

struct vg_rec_entry {
	uint32_t kind;
	uint32_t len;     /* bytes of the body that follows */
	uint64_t mono_ns; /* CLOCK_MONOTONIC when it was written */
};

/* A process that existed at start, followed by its exe (exe_len bytes
 * with its NUL; 0 when unknown). */
struct vg_rec_proc {
	int32_t pid, ppid;
	uint64_t start_ticks;
	char comm[16];
	uint32_t exe_len;
	uint32_t pad0;
};

/* ---------------------------------------------------------------- write */

struct vg_rec_writer {
	FILE *f;
	uint64_t entries, bytes;
	int error;        /* the first write error (-errno), then no more */
};

/* Start a recording at @path (created, or truncated) with @h (magic,
 * version, sizes and byte order are filled in here). Returns 0 or
 * -errno with @err. */
int vg_rec_open(struct vg_rec_writer *w, const char *path,
		const struct vg_rec_header *h, char *err, size_t errsz);
/* One entry. Returns 0, or the first write error. */
int vg_rec_write(struct vg_rec_writer *w, uint32_t kind, const void *body,
		 size_t len);
/* The cgroups under @cg2_fd (a cgroup2 mount), as entries; at most
 * 65,536, 32 levels deep. */
int vg_rec_write_cgroups(struct vg_rec_writer *w, int cg2_fd);
/* An END entry, flush and close. Returns 0 or the first write error. */
int vg_rec_close(struct vg_rec_writer *w);

/* ----------------------------------------------------------------- read */

struct vg_rec_reader {
	FILE *f;
	struct vg_rec_header h;
	void *buf;        /* the current entry's body, VG_REC_ENTRY_MAX + 8 */
	uint64_t entries;
	bool ended;       /* an END entry was read */
};

/* Open and check @path. Returns 0, or -errno with @err: -EBADMSG for a
 * file that is not a recording, or of another version or byte order. */
int vg_rec_read_open(struct vg_rec_reader *r, const char *path, char *err,
		     size_t errsz);
/* The next entry: 1 with its kind, body and length (valid until the next
 * call), 0 at the end of the file, -EBADMSG for a cut or corrupt entry. */
int vg_rec_read(struct vg_rec_reader *r, struct vg_rec_entry *ret,
		const void **ret_body);
void vg_rec_read_close(struct vg_rec_reader *r);

#endif
