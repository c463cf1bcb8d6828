/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --export's text → a spec: what is taken has a valid name, a kind and a
 * target, and every key once; what is refused says why. A spec taken
 * is then checked as a start would check it (the framework's and the
 * kinds' keys), which must answer without crashing either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/exports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_export_spec *s = NULL;
	char *text = malloc(size + 1), err[1024] = "";
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = vg_export_spec_parse(text, "--export", &s, err, sizeof(err));
	if (r == 0) {
		if (!vg_export_name_ok(s->name) || !vg_export_spec_get(s, "kind") ||
		    !vg_export_spec_get(s, "target"))
			abort();
		for (size_t i = 0; i < s->n_kv; i++)
			for (size_t j = 0; j < i; j++)
				if (strcmp(s->kv[i].key, s->kv[j].key) == 0)
					abort();
		err[0] = '\0';
		if (vg_exports_check(s, err, sizeof(err)) < 0 && !err[0])
			abort();
		vg_export_spec_free(s);
	} else if (!err[0]) {
		abort();
	}
	free(text);
	return 0;
}
