/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/<pid>/status (its ids, and its capabilities and NSpid), and
 * cmdline splitting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_proc p = { 0 };
	struct vg_proc_status_extra x;
	char *copy, **argv = NULL;
	size_t argc = 0, total = 0;

	vg_proc_parse_status((const char *)data, size, &p);
	if (vg_proc_parse_status_extra((const char *)data, size, &x) == 0 && x.vpid <= 0)
		__builtin_trap();

	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (vg_proc_split_args(copy, size, &argv, &argc) == 0) {
		for (size_t i = 0; i < argc; i++)
			total += strlen(argv[i]) + 1;
		if (total > size + 1 || argv[argc] != NULL)
			__builtin_trap();
		free(argv);
	}
	free(copy);
	return 0;
}
