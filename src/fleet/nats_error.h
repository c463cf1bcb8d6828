/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_FLEET_NATS_ERROR_H
#define VG_FLEET_NATS_ERROR_H

#include <string.h>

#include <nats/nats.h>

/* libnats's last error on this thread, without its "(file.c:123): "
 * prefix, else the text of @ns: for states and messages users read. */
static inline const char *vg_nats_error(natsStatus ns)
{
	const char *le = nats_GetLastError(NULL);

	if (!le || !*le)
		return natsStatus_GetText(ns);
	if (le[0] == '(') {
		const char *p = strstr(le, "): ");

		if (p)
			return p + 3;
	}
	return le;
}

#endif
