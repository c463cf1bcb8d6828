/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_BASE_CAPS_H
#define VG_BASE_CAPS_H

#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>

/* Older headers than the kernels vigil runs on */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/*
 * Least privilege, once a command has set up: it keeps only the
 * capabilities it names, in its effective and permitted sets; the
 * inheritable and ambient sets and the bounding set lose every other one
 * (no exec can give them back, not even one of a root-owned file), and
 * no_new_privs is set. The caller's thread and those it starts later are
 * limited: call it before starting threads.
 */

/* Keep @keep (@n CAP_* numbers). A process without capabilities (not
 * root, none given) only gets no_new_privs. Returns 0, or -errno with
 * the reason in @err. */
int vg_caps_limit(const int *keep, size_t n, char *err, size_t errsz);

/* Falco's name of capability @cap ("CAP_SYS_ADMIN"); NULL beyond the
 * ones it names. */
const char *vg_cap_name(unsigned cap);

#endif
