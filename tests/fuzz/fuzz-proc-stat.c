/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/<pid>/stat: comm with any bytes, fields of any shape. */
#include <stdint.h>
#include <string.h>

#include "proc/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_proc p = { 0 };
	uint64_t ns;
	char link[64];

	if (vg_proc_parse_stat((const char *)data, size, &p) == 0 &&
	    strlen(p.comm) >= VG_COMM_MAX)
		__builtin_trap();
	if (size < sizeof(link)) {
		memcpy(link, data, size);
		link[size] = '\0';
		vg_proc_parse_ns_link(link, &ns);
	}
	return 0;
}
