// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * vigil's kernel side: process, file and network events from tracepoints
 * (this kernel family may have no kprobes, fentry or BPF LSM), filtered
 * here by event type, cgroup, mount namespace and pid before any
 * ring-buffer space is spent, and counted when the ring buffer is full.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AT_FDCWD -100
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define O_CREAT 0100
#define O_WRONLY 01
#define O_TRUNC 01000
#define O_RDWR 02
#define AT_REMOVEDIR 0x200
#define FMODE_CREATED 0x100000 /* include/linux/fs.h */
#define SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */
#define OVERLAYFS_SUPER_MAGIC 0x794c7630 /* include/uapi/linux/magic.h */
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6

/* Set by user space, live: the skeleton maps .bss. */
volatile __u64 vg_type_mask;
volatile __u32 vg_filter_flags;
/* Types subject to drop_cgroups. */
volatile __u64 vg_drop_types;
/* Wake the reader only once this much is waiting (it also polls on a
 * timer, which bounds the latency). */
volatile __u64 vg_wakeup_bytes;
/* vigil's own process: its reads of /proc would feed back. */
volatile __u32 vg_self_tgid;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* set by user space before load */
} rb SEC(".maps");

/* Ring-buffer reserve failures, per event type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_EV_TYPES);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_FILTER_SET_MAX);
	__type(key, __u64);
	__type(value, __u8);
} filter_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_FILTER_SET_MAX);
	__type(key, __u32);
	__type(value, __u8);
} filter_mntns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_FILTER_SET_MAX);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_DROP_SET_MAX);
	__type(key, __u64);
	__type(value, __u8);
} drop_cgroups SEC(".maps");

/* Syscall arguments between enter and exit, per thread. LRU: a thread
 * that dies inside a syscall leaves no entry behind for long. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vg_pending);
} pending SEC(".maps");

/* Raw syscall numbers asked for (VG_EV_SYSCALL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u8);
} syscall_nrs SEC(".maps");

/* Tracepoint event id → bytes of its record (from its format). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} tp_sizes SEC(".maps");

/* Records are assembled here and copied out at their real size, so an
 * event with a short path takes little ring-buffer space. (A per-CPU
 * value is at most 32 KiB, hence two maps.) */
#define SCRATCH_SIZE 32768
#define PATH_BUF 16384
struct scratch {
	__u8 rec[SCRATCH_SIZE];
};

struct pathbuf {
	char path[PATH_BUF];
	__u64 exec_seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} path_map SEC(".maps");

/* v & mask, in a way the compiler cannot drop when it believes v is
 * already in range: the verifier needs to see the AND itself. */
#define BOUND(v, mask)                                                         \
	({                                                                     \
		__u64 __b = (v);                                               \
		asm volatile("%0 &= %1" : "+r"(__b) : "i"(mask));              \
		__b;                                                           \
	})

/* BOUND() as a helper's size argument (a __u32: every mask here is one). */
#define BOUND32(v, mask) ((__u32)BOUND(v, mask))

static __always_inline struct scratch *get_scratch(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&scratch_map, &k);
}

static __always_inline struct pathbuf *get_pathbuf(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&path_map, &k);
}

static __always_inline void count_lost(__u32 type)
{
	__u64 *v = bpf_map_lookup_elem(&lost, &type);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Fields of the current task are read by direct loads through its BTF
 * pointer (the verifier turns them into fault-safe loads), not by
 * bpf_probe_read_kernel calls: an event reads a dozen of them, and the
 * helper calls cost a storm more than the rest of the program.
 */
static __always_inline __u32 task_mntns(struct task_struct *t)
{
	return t->nsproxy->mnt_ns->ns.inum;
}

/* Which of the event types @bits (VG_EV_BIT()s) from the current task @t
 * pass the filters: a subset of @bits. */
static __always_inline __u64 wanted_bits(__u64 bits, struct task_struct *t)
{
	__u32 flags = vg_filter_flags;
	__u32 tgid;

	bits &= vg_type_mask;
	if (!bits)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == vg_self_tgid)
		return 0;
	if (vg_drop_types & bits) {
		__u64 cgid = bpf_get_current_cgroup_id();

		if (bpf_map_lookup_elem(&drop_cgroups, &cgid)) {
			bits &= ~vg_drop_types;
			if (!bits)
				return 0;
		}
	}
	if (flags & (VG_FILTER_CGROUP | VG_FILTER_MNTNS)) {
		bool in = false;

		if (flags & VG_FILTER_CGROUP) {
			__u64 cgid = bpf_get_current_cgroup_id();

			if (bpf_map_lookup_elem(&filter_cgroups, &cgid))
				in = true;
		}
		if (!in && (flags & VG_FILTER_MNTNS)) {
			__u32 mntns = task_mntns(t);

			if (bpf_map_lookup_elem(&filter_mntns, &mntns))
				in = true;
		}
		if (!in)
			return 0;
	}
	if ((flags & VG_FILTER_PID) && !bpf_map_lookup_elem(&filter_pids, &tgid))
		return 0;
	return bits;
}

/* Does an event of @type from the current task @t pass the filters? */
static __always_inline bool wanted(__u32 type, struct task_struct *t)
{
	return wanted_bits(VG_EV_BIT(type), t) != 0;
}

static __always_inline bool wanted_current(__u32 type)
{
	return wanted(type, (struct task_struct *)bpf_get_current_task_btf());
}

static __always_inline void fill_hdr(struct vg_ev_hdr *h, __u32 type,
				     __u32 size, struct task_struct *t)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	h->type = (__u16)type; /* < VG_EV_TYPES */
	h->version = VG_EVENTS_VERSION;
	h->size = size;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->start_ns = t->group_leader->start_boottime;
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->cpu = bpf_get_smp_processor_id();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ppid = (__u32)t->real_parent->tgid;
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->mntns = task_mntns(t);
	h->pad0 = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* Ring-buffer space a record of @size takes: an 8-byte header, and
 * records are 8-byte aligned. */
static __always_inline __u64 rec_share(__u64 size)
{
	return (size + 8 + 7) & ~7ULL;
}

/*
 * Wake the reader only for the record that takes the waiting data across
 * vg_wakeup_bytes: once per fill, however far behind the reader is. (A
 * wakeup is an irq_work on this CPU; one per record would cost a storm
 * more than the record itself.) The reader drains to empty before it
 * sleeps again, and it polls on a timer, which bounds the latency.
 * @avail is the data waiting with this record, @share its rec_share().
 */
static __always_inline __u64 wake_flags(__u64 avail, __u64 share)
{
	__u64 t = vg_wakeup_bytes;

	if (!t)
		return 0; /* the kernel's own rule */
	if (avail >= t && avail - share < t)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* For a reserved record of @size: the waiting data already counts it. */
static __always_inline __u64 submit_flags(__u64 size)
{
	return wake_flags(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA), rec_share(size));
}

/* Copy @size bytes of the assembled record out with @flags; count a
 * failure. A size past the scratch record is a bug of this file: no
 * record then, never one cut to the mask's idea of it. */
static __always_inline void output(void *rec, __u32 size, __u32 type, __u64 flags)
{
	if (size < sizeof(struct vg_ev_hdr) || size > SCRATCH_SIZE - 1) {
		count_lost(type);
		return;
	}
	/* the AND is for the verifier */
	if (bpf_ringbuf_output(&rb, rec, BOUND(size, SCRATCH_SIZE - 1), flags) < 0)
		count_lost(type);
}

/* output(), waking the reader by wake_flags(). */
static __always_inline void emit(void *rec, __u32 size, __u32 type)
{
	__u64 share = rec_share(size);

	output(rec, size, type,
	       wake_flags(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) + share, share));
}

struct walk_ctx {
	__u64 dentry, vfsmnt, mnt; /* kernel pointers */
	__u64 mnt_root;            /* vfsmnt's root dentry, read once a mount */
	__u64 root_dentry, root_mnt; /* the process's root: where it ends */
	__u32 off, flags;
	bool done;
};

/* One component of walk_path(): a bpf_loop callback, so the verifier
 * checks one step, not VG_PATH_DEPTH of them. */
static long walk_step(__u64 i, void *vctx)
{
	struct walk_ctx *c = vctx;
	struct pathbuf *pb = get_pathbuf();
	struct dentry *dentry = (struct dentry *)c->dentry;
	struct vfsmount *vfsmnt = (struct vfsmount *)c->vfsmnt;
	struct mount *mnt = (struct mount *)c->mnt;
	struct dentry *mnt_root, *parent;
	struct qstr name;
	__u32 len, off = c->off;

	if (!pb) {
		c->done = true;
		return 1;
	}
	/* the process's own root (a container's, a chroot): its "/" */
	if ((__u64)dentry == c->root_dentry && (__u64)vfsmnt == c->root_mnt) {
		c->done = true;
		return 1;
	}
	mnt_root = (struct dentry *)c->mnt_root;
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (dentry != mnt_root) {
			/* the root of a filesystem not mounted here: a
			 * deleted or detached directory */
			c->flags |= VG_PATH_UNREACHABLE;
			c->done = true;
			return 1;
		}
		if (mnt != mnt_parent) {
			c->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
			c->mnt = (__u64)mnt_parent;
			c->vfsmnt = (__u64)&mnt_parent->mnt;
			c->mnt_root = (__u64)BPF_CORE_READ(mnt_parent, mnt.mnt_root);
			return 0;
		}
		c->done = true; /* the root */
		return 1;
	}
	name = BPF_CORE_READ(dentry, d_name);
	len = name.len;
	/* a name longer than NAME_MAX, or no room for it: the path is the
	 * part below, its start cut */
	if (len > 255 || len + 1 > off) {
		c->flags |= VG_PATH_TRUNCATED;
		c->done = true;
		return 1;
	}
	off -= len;
	/* a name that cannot be read ends the walk the same way: no
	 * component of zeros where it was */
	if (bpf_probe_read_kernel(&pb->path[BOUND(off, PATH_BUF / 2 - 1)],
				  BOUND32(len, 255), name.name) < 0) {
		c->flags |= VG_PATH_TRUNCATED;
		c->done = true;
		return 1;
	}
	off -= 1;
	pb->path[BOUND(off, PATH_BUF / 2 - 1)] = '/';
	c->off = off;
	c->dentry = (__u64)parent;
	return 0;
}

/*
 * The path of (@dentry, @vfsmnt), walked up to @t's root (else the root
 * of the mount tree), as d_path() would say it to @t: written backwards
 * into the per-CPU path buffer to end at path[VG_PATH_MAX - 1] (the NUL).
 * Returns the offset of its first byte; *flags gets VG_PATH_*.
 */
static __always_inline __u32 walk_path(struct task_struct *t,
				       struct dentry *dentry,
				       struct vfsmount *vfsmnt, char *buf,
				       __u32 *flags)
{
	struct walk_ctx c = {
		.dentry = (__u64)dentry,
		.vfsmnt = (__u64)vfsmnt,
		.mnt = (__u64)container_of(vfsmnt, struct mount, mnt),
		.root_dentry = (__u64)BPF_CORE_READ(t, fs, root.dentry),
		.root_mnt = (__u64)BPF_CORE_READ(t, fs, root.mnt),
		.mnt_root = (__u64)BPF_CORE_READ(vfsmnt, mnt_root),
		.off = VG_PATH_MAX - 1,
	};

	buf[VG_PATH_MAX - 1] = '\0';
	bpf_loop(VG_PATH_DEPTH, walk_step, &c, 0);
	*flags |= c.flags;
	if (!c.done)
		*flags |= VG_PATH_TRUNCATED;
	if (c.off == VG_PATH_MAX - 1) {
		c.off -= 1;
		buf[VG_PATH_MAX - 2] = '/';
	}
	return c.off;
}

/* Append the string at buf[off..VG_PATH_MAX) to the record at @pos.
 * Returns its length with the NUL. */
static __always_inline __u32 append_walked(__u8 *rec, __u32 pos,
					   const char *buf, __u32 off)
{
	__u32 len = VG_PATH_MAX - off;

	if (len > VG_PATH_MAX || pos > SCRATCH_SIZE - VG_PATH_MAX)
		return 0;
	if (bpf_probe_read_kernel(&rec[BOUND(pos, SCRATCH_SIZE / 2 - 1)],
				  BOUND32(len, VG_PATH_MAX - 1),
				  &buf[BOUND(off, PATH_BUF / 2 - 1)]) < 0)
		return 0;
	if ((len & (VG_PATH_MAX - 1)) != len) /* a path of VG_PATH_MAX */
		return 0;
	return len;
}

static __always_inline struct file *task_fd_file(struct task_struct *t, int fd)
{
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;

	if (fd < 0)
		return NULL;
	max = BPF_CORE_READ(t, files, fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) < 0)
		return NULL;
	return f;
}

/* ------------------------------------------------------------ processes */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct vg_ev_fork *e;

	if (!wanted_current(VG_EV_FORK))
		return 0;
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_lost(VG_EV_FORK);
		return 0;
	}
	fill_hdr(&e->h, VG_EV_FORK, sizeof(*e), t);
	e->child_pid = (__u32)BPF_CORE_READ(child, tgid);
	e->child_tid = (__u32)BPF_CORE_READ(child, pid);
	e->child_start_ns = BPF_CORE_READ(child, group_leader, start_boottime);
	e->is_thread = e->child_pid != e->child_tid;
	e->pad0 = 0;
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

struct args_ctx {
	__u64 arg_start, sent, seq;
};

static long args_chunk(__u64 i, void *vctx)
{
	struct args_ctx *c = vctx;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s = get_scratch();
	struct vg_ev_exec_args *a;
	__u64 o = i * VG_ARGS_CHUNK;
	__u32 len;
	long r;

	if (!s || o >= c->sent)
		return 1;
	a = (struct vg_ev_exec_args *)s->rec;
	/* c->sent <= VG_ARGS_MAX: both fit a __u32 */
	len = (__u32)(c->sent - o > VG_ARGS_CHUNK ? VG_ARGS_CHUNK : c->sent - o);
	r = bpf_probe_read_user(&s->rec[sizeof(*a)], BOUND32(len, SCRATCH_SIZE / 2 - 1),
				(void *)(c->arg_start + o));
	/* a chunk that could not be read is sent empty, so that user space
	 * knows it will not come and cuts the argv before it; the header
	 * tells the record's real size */
	if (r < 0)
		len = 0;
	fill_hdr(&a->h, VG_EV_EXEC_ARGS, (__u32)sizeof(*a) + len, t);
	a->exec_seq = c->seq;
	a->offset = (__u32)o;
	a->len = len;
	emit(a, (__u32)sizeof(*a) + len, VG_EV_EXEC_ARGS);
	return 0;
}

/*
 * Where the executed file lives, as VG_EXE_* flags, from its inode:
 *   - overlay: an overlay inode is the vfs_inode of a struct ovl_inode,
 *     followed by its __upperdentry (fs/overlayfs/ovl_entry.h, the same
 *     since 4.13), non-NULL when the file is in the upper layer. That
 *     struct is the overlay module's, not in vmlinux's BTF: the field is
 *     found by the size of struct inode, which CO-RE relocates;
 *   - memfd: memfd_create() makes a file on the kernel's internal shmem
 *     (or hugetlbfs) mount, unlinked (no name in any directory), its
 *     dentry named "memfd:NAME".
 */
static __always_inline __u32 exe_origin(struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	__u32 flags = VG_EXE_KNOWN;

	if (magic == OVERLAYFS_SUPER_MAGIC) {
		struct dentry *upper = NULL;

		flags |= VG_EXE_OVERLAY;
		bpf_probe_read_kernel(&upper, sizeof(upper),
				      (char *)ino + bpf_core_type_size(struct inode));
		if (upper)
			flags |= VG_EXE_UPPER;
	} else if ((magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) &&
		   BPF_CORE_READ(ino, __i_nlink) == 0) {
		char name[8] = {};

		bpf_probe_read_kernel(name, 6, BPF_CORE_READ(f, f_path.dentry, d_name.name));
		if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
		    name[4] == 'd' && name[5] == ':')
			flags |= VG_EXE_MEMFD;
	}
	return flags;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s;
	struct pathbuf *pb;
	struct vg_ev_exec *e;
	__u32 pos, flags = 0, off, origin;
	__u64 arg_start, arg_end, args_len, sent, seq;
	long n;

	if (!wanted_current(VG_EV_EXEC))
		return 0;
	s = get_scratch();
	pb = get_pathbuf();
	if (!s || !pb)
		return 0;
	e = (struct vg_ev_exec *)s->rec;
	pb->exec_seq++;
	seq = ((__u64)bpf_get_smp_processor_id() << 48) | pb->exec_seq;
	e->old_tid = (__u32)old_pid;
	e->exec_seq = seq;

	pos = sizeof(*e);
	/* a length with its NUL, or -errno: never taken as a length */
	n = bpf_probe_read_kernel_str(&s->rec[pos], VG_PATH_MAX,
				      BPF_CORE_READ(bprm, filename));
	e->filename_len = n > 0 && n <= VG_PATH_MAX ? (__u32)n : 0;
	pos += e->filename_len;

	origin = exe_origin(BPF_CORE_READ(bprm, file));
	if (origin & VG_EXE_MEMFD) {
		/* in no directory: its name, "memfd:NAME", as Falco and
		 * /proc/PID/exe say it (less " (deleted)") */
		n = pos <= SCRATCH_SIZE / 2 - VG_PATH_MAX
			    ? bpf_probe_read_kernel_str(
				      &s->rec[BOUND(pos, SCRATCH_SIZE / 2 - 1)], 256,
				      BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name))
			    : -1;
		e->exe_len = n > 0 && n <= 256 ? (__u32)n : 0;
	} else {
		off = walk_path(t, BPF_CORE_READ(bprm, file, f_path.dentry),
				BPF_CORE_READ(bprm, file, f_path.mnt), pb->path, &flags);
		e->exe_len = append_walked(s->rec, pos, pb->path, off);
	}
	e->exe_flags = flags | origin;
	pos += e->exe_len;

	arg_start = BPF_CORE_READ(t, mm, arg_start);
	arg_end = BPF_CORE_READ(t, mm, arg_end);
	args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	/* the argv only for whoever asked for it */
	sent = !(vg_type_mask & VG_EV_BIT(VG_EV_EXEC_ARGS)) ? 0
	       : args_len < VG_ARGS_MAX			  ? args_len
							  : VG_ARGS_MAX;
	e->args_len = args_len > 0xffffffffULL ? 0xffffffffU : (__u32)args_len;
	e->args_sent = (__u32)sent; /* <= VG_ARGS_MAX */
	e->args_chunks = (__u32)((sent + VG_ARGS_CHUNK - 1) / VG_ARGS_CHUNK);
	e->pad0 = 0;
	fill_hdr(&e->h, VG_EV_EXEC, pos, t);
	emit(e, pos, VG_EV_EXEC);

	/* The argv, in chunks: the exec record tells how many follow. A
	 * bpf_loop, so the verifier checks one chunk, not 128. */
	struct args_ctx ac = { .arg_start = arg_start, .sent = sent, .seq = seq };

	bpf_loop(VG_ARGS_MAX / VG_ARGS_CHUNK, args_chunk, &ac, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p, bool group_dead)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct vg_ev_exit *e;
	__u32 code;

	/* the process ends with its last thread */
	if (!group_dead || !wanted_current(VG_EV_EXIT))
		return 0;
	if (BPF_CORE_READ(p, signal, flags) & SIGNAL_GROUP_EXIT)
		code = (__u32)BPF_CORE_READ(p, signal, group_exit_code);
	else
		code = (__u32)BPF_CORE_READ(p, exit_code);
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_lost(VG_EV_EXIT);
		return 0;
	}
	fill_hdr(&e->h, VG_EV_EXIT, sizeof(*e), t);
	e->exit_code = code;
	e->pad0 = 0;
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

/* A cgroup made or removed: always on for user space's bookkeeping
 * (following new containers, their lifecycle), whatever the filters. */
static __always_inline int cgroup_event(struct cgroup *cgrp, const char *path,
					__u32 type)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s;
	struct vg_ev_cgroup *e;
	long n;

	if (!(vg_type_mask & VG_EV_BIT(type)))
		return 0;
	/* v2 only (hierarchy 0): its ids are the ones events carry */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	e = (struct vg_ev_cgroup *)s->rec;
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->level = (__u32)BPF_CORE_READ(cgrp, level);
	n = bpf_probe_read_kernel_str(&s->rec[sizeof(*e)], VG_PATH_MAX, path);
	e->path_len = n > 0 && n <= VG_PATH_MAX ? (__u32)n : 0;
	fill_hdr(&e->h, type, sizeof(*e) + e->path_len, t);
	/* at once: a new container's first process may exec within
	 * milliseconds, and the filter must hold its cgroup by then */
	output(e, sizeof(*e) + e->path_len, type, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(handle_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(cgrp, path, VG_EV_CGROUP_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(handle_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(cgrp, path, VG_EV_CGROUP_RMDIR);
}

/* ------------------------------------------------------ syscall helpers */

/* The layout of syscalls:sys_exit_* records. */
struct sc_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

/* The saved arguments of the current thread's syscall, removed. */
static __always_inline bool take_pending(struct vg_pending *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_pending *p = bpf_map_lookup_elem(&pending, &tid);

	if (!p)
		return false;
	*ret = *p;
	bpf_map_delete_elem(&pending, &tid);
	return true;
}

/*
 * The first four arguments of the current thread's syscall, read at its
 * exit from the registers it entered with (x86-64: di, si, dx, r10; the
 * kernel does not write them back for the calls traced here). No enter
 * program, no per-thread map: the exit alone makes the event.
 */
struct sc_args {
	__u64 a[4];
};

/* Whether the current task's event of @type passes; if so, its
 * syscall's arguments in @out. */
static __always_inline void read_args(struct task_struct *t, struct sc_args *out)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);

	out->a[0] = r->di;
	out->a[1] = r->si;
	out->a[2] = r->dx;
	out->a[3] = r->r10;
}

static __always_inline bool exit_wanted(__u32 type, struct sc_args *out)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();

	if (!wanted(type, t))
		return false;
	read_args(t, out);
	return true;
}

/* ------------------------------------------------------------------ open */

/*
 * At rec[pos]: @upath as given (with its NUL; nothing for NULL), then,
 * unless it is absolute or @raw, its absolute form: the directory @dirfd
 * (AT_FDCWD: the cwd) walked up, "/", the path; for an empty or NULL
 * path with @empty_is_dir, the directory's (the fd's) own path (an
 * empty path names nothing otherwise). Returns the bytes written;
 * *given and *abs get the two lengths.
 */
static __always_inline __u32 put_path(struct scratch *s, struct pathbuf *pb,
				      struct task_struct *t, __u32 pos,
				      int dirfd, const char *upath, bool raw,
				      bool empty_is_dir, __u32 *given, __u32 *abs,
				      __u32 *pflags)
{
	struct dentry *d = NULL;
	struct vfsmount *m = NULL;
	__u32 plen = 0, off, dlen, q;
	long n;

	*given = 0;
	*abs = 0;
	if (pos > SCRATCH_SIZE / 2 - 1)
		return 0;
	if (upath) {
		n = bpf_probe_read_user_str(&s->rec[BOUND(pos, SCRATCH_SIZE / 2 - 1)],
					    VG_PATH_MAX, upath);
		plen = n > 0 && n <= VG_PATH_MAX ? (__u32)n : 0;
	}
	*given = plen;
	if (raw || (plen > 1 && s->rec[BOUND(pos, SCRATCH_SIZE / 2 - 1)] == '/'))
		return plen;
	if (upath && plen <= 1 && !empty_is_dir)
		return plen;
	if (dirfd == AT_FDCWD) {
		d = BPF_CORE_READ(t, fs, pwd.dentry);
		m = BPF_CORE_READ(t, fs, pwd.mnt);
	} else {
		struct file *f = task_fd_file(t, dirfd);

		if (f) {
			d = BPF_CORE_READ(f, f_path.dentry);
			m = BPF_CORE_READ(f, f_path.mnt);
		}
	}
	if (!d || !m) {
		*pflags |= VG_PATH_RELATIVE_FAILED;
		return plen;
	}
	/* no path: the fd's own file, as the kernel has it */
	if (plen <= 1 && dirfd != AT_FDCWD)
		*pflags |= VG_PATH_KERNEL;
	off = walk_path(t, d, m, pb->path, pflags);
	dlen = VG_PATH_MAX - 1 - off; /* without NUL */
	q = pos + plen;
	if (dlen + 1 + plen > VG_PATH_MAX || q + dlen + 1 + plen > SCRATCH_SIZE / 2) {
		*pflags |= VG_PATH_TRUNCATED;
		return plen;
	}
	/* copies within this CPU's maps; should one fail, no absolute
	 * path rather than one with zeros in it */
	if (bpf_probe_read_kernel(&s->rec[BOUND(q, SCRATCH_SIZE / 2 - 1)],
				  BOUND32(dlen, VG_PATH_MAX - 1),
				  &pb->path[BOUND(off, PATH_BUF / 2 - 1)]) < 0) {
		*pflags |= VG_PATH_RELATIVE_FAILED;
		return plen;
	}
	q += dlen;
	if (plen > 1) {
		/* "/" + "x" must not become "//x" */
		if (dlen != 1) {
			s->rec[BOUND(q, SCRATCH_SIZE / 2 - 1)] = '/';
			q++;
		}
		if (bpf_probe_read_kernel(&s->rec[BOUND(q, SCRATCH_SIZE / 2 - 1)],
					  BOUND32(plen, VG_PATH_MAX - 1),
					  &s->rec[BOUND(pos, SCRATCH_SIZE / 2 - 1)]) < 0) {
			*pflags |= VG_PATH_RELATIVE_FAILED;
			return plen;
		}
		q += plen;
	} else {
		s->rec[BOUND(q, SCRATCH_SIZE / 2 - 1)] = '\0';
		q++;
	}
	*abs = q - pos - plen;
	return q - pos;
}

/* nr is the syscall; dirfd/path/flags/mode as the variant passes them. */
static __always_inline int open_exit(struct sc_exit *ctx, int dirfd,
				     const char *upath, __u32 flags, __u32 mode,
				     __u32 nr)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s = get_scratch();
	struct pathbuf *pb = get_pathbuf();
	struct vg_ev_open *e;
	__u32 pos, pflags = 0;

	if (!s || !pb)
		return 0;
	e = (struct vg_ev_open *)s->rec;
	e->ret = ctx->ret;
	e->dirfd = dirfd;
	e->flags = flags;
	e->mode = mode;
	e->syscall_nr = nr;
	e->pad0 = 0;
	pos = sizeof(*e);
	if (ctx->ret >= 0) {
		/* the file the kernel opened, whatever the caller wrote (and
		 * whatever it has written over its buffer since): the path as
		 * given, then the opened file's own */
		struct file *f = task_fd_file(t, (int)ctx->ret);
		long n = bpf_probe_read_user_str(&s->rec[sizeof(*e)], VG_PATH_MAX,
						 upath);

		e->path_len = n > 0 && n <= VG_PATH_MAX ? (__u32)n : 0;
		pos += e->path_len;
		e->abs_len = 0;
		if (f) {
			__u32 off = walk_path(t, BPF_CORE_READ(f, f_path.dentry),
					      BPF_CORE_READ(f, f_path.mnt),
					      pb->path, &pflags);

			e->abs_len = append_walked(s->rec, pos, pb->path, off);
			pos += e->abs_len;
			pflags |= VG_PATH_KERNEL;
		}
	} else {
		pos += put_path(s, pb, t, pos, dirfd, upath, false, false,
				&e->path_len, &e->abs_len, &pflags);
	}
	e->path_flags = pflags;
	fill_hdr(&e->h, VG_EV_OPEN, pos, t);
	emit(e, pos, VG_EV_OPEN);
	return 0;
}

/* ------------------------------------------------------------------ file */

/* A file event: the path (@dirfd, @upath), and with @two a second one
 * (@dirfd2, @upath2; taken as given with @raw2). */
static __always_inline int file_exit(struct sc_exit *ctx, __u32 op, int dirfd,
				     const char *upath, bool two, int dirfd2,
				     const char *upath2, bool raw2, __u32 mode,
				     __u32 uid, __u32 gid, __u32 flags, int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s = get_scratch();
	struct pathbuf *pb = get_pathbuf();
	struct vg_ev_file *e;
	__u32 pos, pflags = 0;

	if (!s || !pb)
		return 0;
	e = (struct vg_ev_file *)s->rec;
	e->ret = ctx->ret;
	e->op = op;
	e->syscall_nr = (__u32)ctx->nr;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->flags = flags;
	e->fd = fd;
	e->path2_len = 0;
	e->abs2_len = 0;
	pos = sizeof(*e);
	pos += put_path(s, pb, t, pos, dirfd, upath, false, true, &e->path_len,
			&e->abs_len, &pflags);
	if (two)
		pos += put_path(s, pb, t, pos, dirfd2, upath2, raw2, true,
				&e->path2_len, &e->abs2_len, &pflags);
	e->path_flags = pflags;
	fill_hdr(&e->h, VG_EV_FILE, pos, t);
	emit(e, pos, VG_EV_FILE);
	return 0;
}

/* Successful calls only: a file event is a change that happened. */
static __always_inline bool file_wanted(struct sc_exit *ctx, struct sc_args *p)
{
	return ctx->ret >= 0 && exit_wanted(VG_EV_FILE, p);
}

/* An open makes an open event, and a file event when it created the
 * file or opened it for writing. Returns the types wanted, with the
 * syscall's arguments in @out. */
static __always_inline __u64 open_wanted(struct sc_exit *ctx, struct sc_args *out)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	__u64 bits = VG_EV_BIT(VG_EV_OPEN) |
		     (ctx->ret >= 0 ? VG_EV_BIT(VG_EV_FILE) : 0);

	bits = wanted_bits(bits, t);
	if (bits)
		read_args(t, out);
	return bits;
}

static __always_inline int open_events(struct sc_exit *ctx, __u64 bits, int dirfd,
				       const char *upath, __u32 flags, __u32 mode)
{
	if (bits & VG_EV_BIT(VG_EV_OPEN))
		open_exit(ctx, dirfd, upath, flags, mode, (__u32)ctx->nr);
	if ((bits & VG_EV_BIT(VG_EV_FILE)) &&
	    (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		struct file *f = task_fd_file(t, (int)ctx->ret);
		__u32 fm = f ? BPF_CORE_READ(f, f_mode) : 0;

		/* the file opened: by its fd, as the kernel has it */
		file_exit(ctx, (fm & FMODE_CREATED) ? VG_FILE_CREATE : VG_FILE_WRITE,
			  (int)ctx->ret, NULL, false, 0, NULL, false, mode,
			  (__u32)-1, (__u32)-1, flags, -1);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int handle_exit_openat(struct sc_exit *ctx)
{
	struct sc_args p;
	__u64 bits = open_wanted(ctx, &p);

	if (!bits)
		return 0;
	return open_events(ctx, bits, (int)p.a[0], (const char *)p.a[1], (__u32)p.a[2],
			   (__u32)p.a[3]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int handle_exit_open(struct sc_exit *ctx)
{
	struct sc_args p;
	__u64 bits = open_wanted(ctx, &p);

	if (!bits)
		return 0;
	return open_events(ctx, bits, AT_FDCWD, (const char *)p.a[0], (__u32)p.a[1],
			   (__u32)p.a[2]);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int handle_exit_creat(struct sc_exit *ctx)
{
	struct sc_args p;
	__u64 bits = open_wanted(ctx, &p);

	if (!bits)
		return 0;
	return open_events(ctx, bits, AT_FDCWD, (const char *)p.a[0],
			   O_CREAT | O_WRONLY | O_TRUNC, (__u32)p.a[1]);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int handle_exit_openat2(struct sc_exit *ctx)
{
	struct open_how how = {};
	struct sc_args p;
	__u64 bits = open_wanted(ctx, &p);

	if (!bits)
		return 0;
	/* the kernel read it to open the file; should it be gone since,
	 * the flags are not known: taken as none (a read-only open) */
	if (bpf_probe_read_user(&how, sizeof(how), (void *)p.a[2]) < 0)
		how = (struct open_how){};
	return open_events(ctx, bits, (int)p.a[0], (const char *)p.a[1], (__u32)how.flags,
			   (__u32)how.mode);
}

/* The fifth argument (x86-64: r8), for the calls that need it. */
static __always_inline __u64 arg5(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();

	return ((struct pt_regs *)bpf_task_pt_regs(t))->r8;
}

#define U(x) ((const char *)(x))
#define NOID ((__u32)-1)

#define FILE_PROG(name, body)                                                  \
	SEC("tracepoint/syscalls/sys_exit_" #name)                             \
	int handle_exit_##name(struct sc_exit *ctx)                            \
	{                                                                      \
		struct sc_args p;                                              \
		if (!file_wanted(ctx, &p))                                     \
			return 0;                                              \
		body;                                                          \
	}

/* The syscalls' mode, uid, gid and flags arguments are 32-bit values in
 * 64-bit registers: the low half is the argument. */
#define A32(x) ((__u32)(x))

/* path-only calls: (dirfd, path, op, mode, uid, gid, flags) */
#define ONE(op, dfd, path, mode, uid, gid, fl)                                 \
	return file_exit(ctx, op, dfd, U(path), false, 0, NULL, false, A32(mode), \
			 A32(uid), A32(gid), A32(fl), -1)
#define BYFD(op, fd, mode, uid, gid)                                           \
	return file_exit(ctx, op, (int)(fd), NULL, false, 0, NULL, false,      \
			 A32(mode), A32(uid), A32(gid), 0, (int)(fd))

FILE_PROG(unlink, ONE(VG_FILE_DELETE, AT_FDCWD, p.a[0], 0, NOID, NOID, 0))
FILE_PROG(unlinkat, ONE((p.a[2] & AT_REMOVEDIR) ? VG_FILE_RMDIR : VG_FILE_DELETE,
			(int)p.a[0], p.a[1], 0, NOID, NOID, p.a[2]))
FILE_PROG(rmdir, ONE(VG_FILE_RMDIR, AT_FDCWD, p.a[0], 0, NOID, NOID, 0))
FILE_PROG(mkdir, ONE(VG_FILE_MKDIR, AT_FDCWD, p.a[0], p.a[1], NOID, NOID, 0))
FILE_PROG(mkdirat, ONE(VG_FILE_MKDIR, (int)p.a[0], p.a[1], p.a[2], NOID, NOID, 0))
FILE_PROG(mknod, ONE(VG_FILE_CREATE, AT_FDCWD, p.a[0], p.a[1], NOID, NOID, 0))
FILE_PROG(mknodat, ONE(VG_FILE_CREATE, (int)p.a[0], p.a[1], p.a[2], NOID, NOID, 0))
FILE_PROG(chmod, ONE(VG_FILE_CHMOD, AT_FDCWD, p.a[0], p.a[1], NOID, NOID, 0))
FILE_PROG(fchmodat, ONE(VG_FILE_CHMOD, (int)p.a[0], p.a[1], p.a[2], NOID, NOID, 0))
FILE_PROG(fchmodat2, ONE(VG_FILE_CHMOD, (int)p.a[0], p.a[1], p.a[2], NOID, NOID, p.a[3]))
FILE_PROG(fchmod, BYFD(VG_FILE_CHMOD, p.a[0], p.a[1], NOID, NOID))
FILE_PROG(chown, ONE(VG_FILE_CHOWN, AT_FDCWD, p.a[0], 0, p.a[1], p.a[2], 0))
FILE_PROG(lchown, ONE(VG_FILE_CHOWN, AT_FDCWD, p.a[0], 0, p.a[1], p.a[2], 0))
FILE_PROG(fchownat, ONE(VG_FILE_CHOWN, (int)p.a[0], p.a[1], 0, p.a[2], p.a[3], arg5()))
FILE_PROG(fchown, BYFD(VG_FILE_CHOWN, p.a[0], 0, p.a[1], p.a[2]))
FILE_PROG(truncate, ONE(VG_FILE_TRUNCATE, AT_FDCWD, p.a[0], 0, NOID, NOID, 0))
FILE_PROG(ftruncate, BYFD(VG_FILE_TRUNCATE, p.a[0], 0, NOID, NOID))
/* two paths: the new name first, then the old one (or the target) */
FILE_PROG(rename, return file_exit(ctx, VG_FILE_RENAME, AT_FDCWD, U(p.a[1]), true,
				   AT_FDCWD, U(p.a[0]), false, 0, NOID, NOID, 0, -1))
FILE_PROG(renameat, return file_exit(ctx, VG_FILE_RENAME, (int)p.a[2], U(p.a[3]), true,
				     (int)p.a[0], U(p.a[1]), false, 0, NOID, NOID, 0, -1))
FILE_PROG(renameat2, return file_exit(ctx, VG_FILE_RENAME, (int)p.a[2], U(p.a[3]), true,
				      (int)p.a[0], U(p.a[1]), false, 0, NOID, NOID,
				      A32(arg5()), -1))
FILE_PROG(link, return file_exit(ctx, VG_FILE_LINK, AT_FDCWD, U(p.a[1]), true,
				 AT_FDCWD, U(p.a[0]), false, 0, NOID, NOID, 0, -1))
FILE_PROG(linkat, return file_exit(ctx, VG_FILE_LINK, (int)p.a[2], U(p.a[3]), true,
				   (int)p.a[0], U(p.a[1]), false, 0, NOID, NOID,
				   A32(arg5()), -1))
FILE_PROG(symlink, return file_exit(ctx, VG_FILE_SYMLINK, AT_FDCWD, U(p.a[1]), true,
				    0, U(p.a[0]), true, 0, NOID, NOID, 0, -1))
FILE_PROG(symlinkat, return file_exit(ctx, VG_FILE_SYMLINK, (int)p.a[1], U(p.a[2]), true,
				      0, U(p.a[0]), true, 0, NOID, NOID, 0, -1))

/* --------------------------------------------------------------- network */

/* The socket behind @fd of the current task, or NULL. */
static __always_inline struct socket *fd_socket(struct task_struct *t, int fd)
{
	struct file *f = task_fd_file(t, fd);

	if (!f)
		return NULL;
	/* only sockets' files have socket_file_ops; private_data of
	 * another file is no socket, so check the inode's mode */
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);

	if ((mode & 00170000) != 0140000) /* S_IFSOCK */
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* The socket's own (@local) or peer address as a sockaddr into @out. */
static __always_inline __u32 sock_addr(struct socket *sock, bool local,
				       __u8 *out, __u16 *family, __u16 *type)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 fam;

	if (!sk)
		return 0;
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	*family = fam;
	*type = BPF_CORE_READ(sk, sk_type);
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		if (local) {
			a->sin_port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
			a->sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		} else {
			a->sin_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
			a->sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		}
		return sizeof(*a);
	}
	if (fam == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		if (local) {
			a->sin6_port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
			if (BPF_CORE_READ_INTO(&a->sin6_addr, sk,
					       __sk_common.skc_v6_rcv_saddr) < 0)
				return 0;
		} else {
			a->sin6_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
			if (BPF_CORE_READ_INTO(&a->sin6_addr, sk,
					       __sk_common.skc_v6_daddr) < 0)
				return 0;
		}
		return sizeof(*a);
	}
	if (fam == AF_UNIX) {
		struct unix_sock *u = (struct unix_sock *)sk;
		struct unix_address *ua;
		int len;

		if (!local) {
			struct sock *peer = BPF_CORE_READ(u, peer);

			if (!peer)
				return 0;
			u = (struct unix_sock *)peer;
		}
		ua = BPF_CORE_READ(u, addr);
		if (!ua)
			return 0;
		len = BPF_CORE_READ(ua, len);
		if (len <= 0)
			return 0;
		if (len > VG_SOCKADDR_MAX)
			len = VG_SOCKADDR_MAX;
		if (bpf_probe_read_kernel(out, BOUND32((__u32)len, 127), &ua->name) < 0)
			return 0;
		return (__u32)len;
	}
	return 0;
}

/* Does sockaddr @a (@n bytes, from a socket) name a peer? A socket left
 * by a failed connect has port 0; an unconnected unix socket none. */
static __always_inline bool has_peer(const __u8 *a, __u32 n)
{
	__u16 fam = *(const __u16 *)a;

	if (fam == AF_INET || fam == AF_INET6)
		return ((const struct sockaddr_in *)a)->sin_port != 0;
	return n > 2;
}

static __always_inline int net_exit(struct sc_exit *ctx, __u32 type)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct sc_args p;
	struct scratch *s;
	struct vg_ev_net *e;
	struct socket *sock;
	__u16 fam = 0, stype = 0;
	int fd;

	if (!exit_wanted(type, &p))
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	e = (struct vg_ev_net *)s->rec;
	__builtin_memset(e, 0, sizeof(*e));
	e->ret = ctx->ret;
	e->fd = (int)p.a[0];
	e->syscall_nr = (__u32)ctx->nr;
	fd = e->fd;
	if (type == VG_EV_LISTEN)
		e->backlog = A32(p.a[1]);
	if (type == VG_EV_ACCEPT)
		fd = (int)ctx->ret; /* the new connection (or -errno) */
	sock = fd >= 0 ? fd_socket(t, fd) : NULL;
	if (sock) {
		__u16 f2 = 0;
		__u32 n;

		e->local_len = sock_addr(sock, true, e->local, &f2, &stype);
		/* the peer the socket holds now, not the caller's sockaddr
		 * (which another thread may have rewritten meanwhile) */
		if (type == VG_EV_ACCEPT || type == VG_EV_CONNECT) {
			n = sock_addr(sock, false, e->addr, &f2, &stype);
			if (n && has_peer(e->addr, n))
				e->addr_len = n;
		}
		fam = f2;
	}
	/* a failed connect leaves no peer in the socket, a failed bind no
	 * address: then what the caller asked for, marked as such */
	if ((type == VG_EV_CONNECT && !e->addr_len) ||
	    (type == VG_EV_BIND && (ctx->ret != 0 || !e->local_len))) {
		/* addrlen is an int: a negative one is no length */
		int alen = (int)p.a[2];

		if (alen > VG_SOCKADDR_MAX)
			alen = VG_SOCKADDR_MAX;
		if (alen > 0 &&
		    bpf_probe_read_user(e->addr, BOUND32((__u32)alen, 127), (void *)p.a[1]) == 0)
			e->addr_len = (__u32)alen;
		e->addr_flags |= VG_NET_REQUESTED;
		if (!fam && e->addr_len >= 2)
			fam = *(__u16 *)e->addr;
	}
	e->family = fam;
	e->sock_type = stype;
	fill_hdr(&e->h, type, sizeof(*e), t);
	emit(e, sizeof(*e), type);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_exit_connect(struct sc_exit *ctx)
{
	return net_exit(ctx, VG_EV_CONNECT);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int handle_exit_accept(struct sc_exit *ctx)
{
	return net_exit(ctx, VG_EV_ACCEPT);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int handle_exit_accept4(struct sc_exit *ctx)
{
	return net_exit(ctx, VG_EV_ACCEPT);
}

SEC("tracepoint/syscalls/sys_exit_bind")
int handle_exit_bind(struct sc_exit *ctx)
{
	return net_exit(ctx, VG_EV_BIND);
}

SEC("tracepoint/syscalls/sys_exit_listen")
int handle_exit_listen(struct sc_exit *ctx)
{
	return net_exit(ctx, VG_EV_LISTEN);
}

/* ------------------------------------------- ptrace, socket, dup, send */

SEC("tracepoint/syscalls/sys_exit_ptrace")
int handle_exit_ptrace(struct sc_exit *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct sc_args p;
	struct vg_ev_ptrace *e;

	if (!exit_wanted(VG_EV_PTRACE, &p))
		return 0;
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_lost(VG_EV_PTRACE);
		return 0;
	}
	fill_hdr(&e->h, VG_EV_PTRACE, sizeof(*e), t);
	e->ret = ctx->ret;
	e->request = A32(p.a[0]);
	e->pid = A32(p.a[1]);
	e->addr = p.a[2];
	e->data = p.a[3];
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

/* The sixth argument (x86-64: r9). */
static __always_inline __u64 arg6(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();

	return ((struct pt_regs *)bpf_task_pt_regs(t))->r9;
}

/*
 * A vg_ev_sock about @fd, its file read through @file_fd at the exit:
 * the file's type, and for a socket its family, type, protocol, own
 * address and peer. @dest (@dest_len bytes, user memory) is where a send
 * on a socket without a peer went, as the caller gave it: the kernel
 * read it from there during the call.
 */
static __always_inline int sock_exit(struct sc_exit *ctx, __u32 type, int fd,
				     int file_fd, int newfd, __u32 arg_flags, __u64 size,
				     const void *dest, int dest_len)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s = get_scratch();
	struct vg_ev_sock *e;
	struct file *f;

	if (!s)
		return 0;
	e = (struct vg_ev_sock *)s->rec;
	__builtin_memset(e, 0, sizeof(*e));
	e->ret = ctx->ret;
	e->size = size;
	e->fd = fd;
	e->syscall_nr = (__u32)ctx->nr;
	e->arg_flags = arg_flags;
	e->newfd = newfd;
	f = file_fd >= 0 ? task_fd_file(t, file_fd) : NULL;
	if (f) {
		umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);

		e->fd_mode = mode & 00170000;
		if (e->fd_mode == 0140000) { /* S_IFSOCK */
			struct socket *sock = BPF_CORE_READ(f, private_data);
			struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
			__u16 fam = 0, stype = 0;
			__u32 n;

			if (sk) {
				e->local_len = sock_addr(sock, true, e->local, &fam, &stype);
				n = sock_addr(sock, false, e->addr, &fam, &stype);
				if (n && has_peer(e->addr, n)) {
					e->addr_len = n;
					e->addr_flags |= VG_NET_CONNECTED;
				}
				e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
				e->sock_type = BPF_CORE_READ(sk, sk_type);
				e->protocol = BPF_CORE_READ(sk, sk_protocol);
			}
		}
	}
	if (!e->addr_len && dest && dest_len > 0) {
		if (dest_len > VG_SOCKADDR_MAX)
			dest_len = VG_SOCKADDR_MAX;
		if (bpf_probe_read_user(e->addr, BOUND32((__u32)dest_len, 127), dest) == 0)
			e->addr_len = (__u32)dest_len;
		e->addr_flags |= VG_NET_REQUESTED;
	}
	fill_hdr(&e->h, type, sizeof(*e), t);
	emit(e, sizeof(*e), type);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_socket")
int handle_exit_socket(struct sc_exit *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s;
	struct vg_ev_sock *e;
	struct sc_args p;

	if (!exit_wanted(VG_EV_SOCKET, &p))
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	/* what was asked for: a failed call made no socket to read */
	e = (struct vg_ev_sock *)s->rec;
	__builtin_memset(e, 0, sizeof(*e));
	e->ret = ctx->ret;
	e->fd = ctx->ret >= 0 ? (int)ctx->ret : -1;
	e->syscall_nr = (__u32)ctx->nr;
	e->newfd = -1;
	e->family = (__u16)p.a[0];
	e->sock_type = (__u16)(p.a[1] & 0xf);
	e->arg_flags = A32(p.a[1]) & ~0xfu;
	e->protocol = A32(p.a[2]);
	if (ctx->ret >= 0)
		e->fd_mode = 0140000;
	fill_hdr(&e->h, VG_EV_SOCKET, sizeof(*e), t);
	emit(e, sizeof(*e), VG_EV_SOCKET);
	return 0;
}

/* dup*: the file the fds share, read through the new fd when there is
 * one (the old one may be closed by then), else the old one. */
#define DUP_PROG(name, newfd, fl)                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                             \
	int handle_exit_##name(struct sc_exit *ctx)                            \
	{                                                                      \
		struct sc_args p;                                              \
		if (!exit_wanted(VG_EV_DUP, &p))                               \
			return 0;                                              \
		return sock_exit(ctx, VG_EV_DUP, (int)p.a[0],                  \
				 ctx->ret >= 0 ? (int)ctx->ret : (int)p.a[0],  \
				 newfd, fl, 0, NULL, 0);                       \
	}

DUP_PROG(dup, -1, 0)
DUP_PROG(dup2, (int)p.a[1], 0)
DUP_PROG(dup3, (int)p.a[1], A32(p.a[2]))

SEC("tracepoint/syscalls/sys_exit_sendto")
int handle_exit_sendto(struct sc_exit *ctx)
{
	struct sc_args p;

	if (!exit_wanted(VG_EV_SEND, &p))
		return 0;
	return sock_exit(ctx, VG_EV_SEND, (int)p.a[0], (int)p.a[0], -1, A32(p.a[3]), p.a[2],
			 (const void *)arg5(), (int)arg6());
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int handle_exit_sendmsg(struct sc_exit *ctx)
{
	struct user_msghdr m = {};
	struct sc_args p;

	if (!exit_wanted(VG_EV_SEND, &p))
		return 0;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)p.a[1]) < 0)
		m = (struct user_msghdr){};
	return sock_exit(ctx, VG_EV_SEND, (int)p.a[0], (int)p.a[0], -1, A32(p.a[2]), 0,
			 m.msg_name, m.msg_namelen);
}

/* ----------------------------------------------- raw syscalls, on demand */

SEC("tracepoint/raw_syscalls/sys_enter")
int handle_raw_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 nr = (__u32)ctx->id;
	struct vg_pending p = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&syscall_nrs, &nr) ||
	    !wanted_current(VG_EV_SYSCALL))
		return 0;
	p.nr = nr;
	p.enter_ns = bpf_ktime_get_boot_ns();
	/* one copy: the verifier refuses loads through a moved ctx pointer,
	 * which an unrolled loop may become. Arguments that cannot be read
	 * make no event of zeros: it is counted lost. */
	if (bpf_probe_read_kernel(p.args, sizeof(p.args), ctx->args) < 0) {
		count_lost(VG_EV_SYSCALL);
		return 0;
	}
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int handle_raw_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	__u32 nr = (__u32)ctx->id;
	struct vg_pending p;
	struct vg_ev_syscall *e;

	if (!bpf_map_lookup_elem(&syscall_nrs, &nr) || !take_pending(&p))
		return 0;
	if (p.nr != nr)
		return 0;
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_lost(VG_EV_SYSCALL);
		return 0;
	}
	fill_hdr(&e->h, VG_EV_SYSCALL, sizeof(*e), t);
#pragma unroll
	for (int i = 0; i < 6; i++)
		e->args[i] = p.args[i];
	e->ret = ctx->ret;
	e->nr = nr;
	e->pad0 = 0;
	e->enter_ns = p.enter_ns;
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

/* ------------------------------------------- any tracepoint, by name */

SEC("tracepoint")
int handle_tracepoint(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct scratch *s;
	struct vg_ev_tracepoint *e;
	__u32 id, *size;

	if (!wanted_current(VG_EV_TRACEPOINT))
		return 0;
	/* Which tracepoint fired: the id user space attached us with. The
	 * record's own common_type cannot tell: the kernel has put a
	 * pt_regs pointer over the first 8 bytes of the record. */
	id = (__u32)bpf_get_attach_cookie(ctx);
	size = bpf_map_lookup_elem(&tp_sizes, &id);
	if (!size)
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	e = (struct vg_ev_tracepoint *)s->rec;
	e->tp_id = id;
	e->len = *size > VG_TP_COPY_MAX ? VG_TP_COPY_MAX : *size;
	if (e->len < 8 ||
	    bpf_probe_read_kernel(&s->rec[sizeof(*e)], BOUND32(e->len, VG_TP_COPY_MAX * 2 - 1),
				  ctx) < 0)
		e->len = 0;
	/* never hand that kernel pointer out; common_type is known */
	if (e->len >= 8) {
		*(__u64 *)&s->rec[sizeof(*e)] = 0;
		*(__u16 *)&s->rec[sizeof(*e)] = (__u16)id;
	}
	fill_hdr(&e->h, VG_EV_TRACEPOINT, sizeof(*e) + e->len, t);
	emit(e, sizeof(*e) + e->len, VG_EV_TRACEPOINT);
	return 0;
}
