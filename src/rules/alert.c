/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A rule's alert from the event it matched (see alert.h). */
#include "rules/alert.h"

#include <stdlib.h>
#include <string.h>

void vg_rule_alert_init(struct vg_rule_alert *ra, const struct vg_rule *r,
			const struct vg_event *e, vg_filter_get_fn get,
			void *get_ctx, const char *hostname)
{
	struct vg_fval v;
	size_t n = r->n_fields < VG_RULES_MAX_FIELDS ? r->n_fields : VG_RULES_MAX_FIELDS;

	memset(ra, 0, sizeof(*ra));
	ra->a = (struct vg_alert){
		.e = e,
		.rule = r->name,
		.priority = vg_rule_priority_name(r->priority),
		.source = r->source,
		.hostname = hostname,
		.tags = r->tags, .n_tags = r->n_tags,
		.fields = ra->fields, .n_fields = n,
	};
	ra->out = vg_rule_format_output(r, get, get_ctx);
	ra->incomplete = !ra->out;
	ra->a.output = ra->out ? ra->out : r->output;
	memset(&v, 0, sizeof(v));
	if (get(get_ctx, VG_F_EVT_TIME, NULL, 0, &v) == 1)
		ra->a.time_ns = v.n;
	memset(&v, 0, sizeof(v));
	if (get(get_ctx, VG_F_PROC_EXEC_ID, NULL, 0, &v) == 1 && v.s) {
		ra->exec_id = strndup(v.s, v.len);
		ra->incomplete |= !ra->exec_id;
	}
	ra->a.exec_id = ra->exec_id;
	for (size_t i = 0; i < n; i++) {
		struct vg_alert_field *f = &ra->fields[i];
		bool num = false;

		memset(&v, 0, sizeof(v));
		*f = (struct vg_alert_field){ .name = r->fields[i].name };
		if (!vg_rule_field_value(&r->fields[i], get, get_ctx, &v, &num))
			continue;
		/* copied: the getter's next call may reuse its buffer */
		f->present = true;
		f->num = num;
		f->n = v.n;
		if (num)
			continue;
		f->s = strndup(v.s ? v.s : "", v.len);
		f->len = v.len;
		if (!f->s) {
			f->present = false;
			ra->incomplete = true;
		}
	}
}

void vg_rule_alert_release(struct vg_rule_alert *ra)
{
	if (!ra)
		return;
	for (size_t i = 0; i < ra->a.n_fields; i++)
		free((char *)ra->fields[i].s);
	free(ra->out);
	free(ra->exec_id);
	memset(ra, 0, sizeof(*ra));
}
