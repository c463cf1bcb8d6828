/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process's mount table → its root mount and overlay layers, and the
 * host's table → where the host sees it. The first byte picks the mount
 * id to look for (0: the topmost "/" mount); the rest is the table,
 * used as the container's and then as the host's. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/rootfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_rootfs rf;
	char *buf, *host, err[256] = "";
	int r;

	if (size == 0)
		return 0;
	buf = strndup((const char *)data + 1, size - 1);
	host = strndup((const char *)data + 1, size - 1);
	if (!buf || !host)
		goto out;
	r = vg_rootfs_from_mountinfo(buf, data[0] % 64, &rf, err, sizeof(err));
	if (r == 0) {
		if (!rf.fstype || !rf.source || !rf.root)
			__builtin_trap();
		if (rf.overlay) {
			size_t n = rf.ovl.n_lowerdirs + rf.ovl.n_datadirs;

			/* every layer a non-empty path, within the bound */
			if (rf.ovl.n_lowerdirs == 0 || n > VG_OVERLAY_LAYERS_MAX ||
			    !rf.ovl.upperdir != !rf.ovl.workdir)
				__builtin_trap();
			for (size_t i = 0; i < rf.ovl.n_lowerdirs; i++)
				if (!rf.ovl.lowerdirs[i][0])
					__builtin_trap();
			for (size_t i = 0; i < rf.ovl.n_datadirs; i++)
				if (!rf.ovl.datadirs[i][0])
					__builtin_trap();
		}
		/* the same table as the host's: found (it may disagree with
		 * itself only where it holds one device twice) */
		err[0] = '\0';
		r = vg_rootfs_find_host_mount(host, &rf, err, sizeof(err));
		if (r == -ENOENT || (r == 0 && (!rf.merged || !rf.host_mount ||
						!rf.layers_verified)))
			__builtin_trap();
		if ((r == -EPERM || r == -EBADMSG) && (!err[0] || rf.layers_verified))
			__builtin_trap();
		vg_rootfs_release(&rf);
	} else if (!err[0]) {
		__builtin_trap(); /* every failure says why */
	}
out:
	free(buf);
	free(host);
	return 0;
}
