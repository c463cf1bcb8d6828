/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/caps.h"

#include <cap-ng.h>
#include <errno.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "base/util.h"

int vg_caps_limit(const int *keep, size_t n, char *err, size_t errsz)
{
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		vg_set_err(err, errsz, "setting no_new_privs: %s", strerror(errno));
		return r;
	}
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return 0;
	/* a capability this process does not have is not asked for */
	bool had[64] = { false };

	for (size_t i = 0; i < n; i++)
		if (keep[i] >= 0 && keep[i] < 64)
			had[keep[i]] = capng_have_capability(CAPNG_PERMITTED,
							     (unsigned)keep[i]) == 1;
	/* the bounding set changes only with CAP_SETPCAP (a container may
	 * lack it): then the sets alone, and no_new_privs */
	capng_select_t which = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1
				       ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS;

	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || keep[i] >= 64 || !had[keep[i]])
			continue;
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
						    CAPNG_BOUNDING_SET,
				 (unsigned)keep[i]) < 0) {
			vg_set_err(err, errsz, "capability %d: unknown", keep[i]);
			return -EINVAL;
		}
	}
	r = capng_apply(which);
	if (r < 0) {
		vg_set_err(err, errsz, "dropping capabilities: libcap-ng error %d", r);
		return -EPERM;
	}
	/* the ambient set too, where the kernel has one */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		r = -errno;
		vg_set_err(err, errsz, "clearing the ambient capabilities: %s",
			   strerror(errno));
		return r;
	}
	return 0;
}

const char *vg_cap_name(unsigned cap)
{
	static const char *const names[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
		"CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
		"CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
		"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
		"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG",
		"CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
		"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
		"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
		"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	};

	return cap < sizeof(names) / sizeof(names[0]) ? names[cap] : NULL;
}
