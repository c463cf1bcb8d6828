/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A Falco rule file → a ruleset, compiled, its outputs formatted: a
 * file that loads must compile; one that does not must say where. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

static int get_none(void *ctx, int id, const char *key, size_t key_len,
		    struct vg_fval *ret)
{
	(void)ctx, (void)id, (void)key, (void)key_len, (void)ret;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_rules_error e = { 0 };
	int r;

	if (!rs)
		return 0;
	r = vg_ruleset_load_buf(rs, "fuzz.yaml", (const char *)data, size, &e);
	if (r == -EINVAL && !e.msg[0])
		abort();
	if (r == 0 && vg_ruleset_compile(rs) >= 0) {
		for (size_t i = 0; i < vg_ruleset_count(rs); i++) {
			const struct vg_rule *rule = vg_ruleset_rule(rs, i);

			if (rule->status != VG_RULE_ACCEPTED && !rule->why)
				abort();
			free(vg_rule_format_output(rule, get_none, NULL));
		}
	}
	vg_ruleset_free(rs);
	return 0;
}
