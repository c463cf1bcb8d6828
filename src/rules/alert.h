/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RULES_ALERT_H
#define VG_RULES_ALERT_H

#include "render/alert.h"
#include "rules/rules.h"

/*
 * The alert of a rule an event matched, made once from the event's
 * fields and then rendered in each form a consumer wants (vigil watch
 * --rules, the daemon's subscribers and exports): one place makes it, so
 * every consumer says the same.
 */
struct vg_rule_alert {
	struct vg_alert a;   /* what render/alert.h renders */
	struct vg_alert_field fields[VG_RULES_MAX_FIELDS];
	char *out, *exec_id; /* owned */
	bool incomplete;     /* out of memory: a value or the message is
			      * missing (the alert still goes) */
};

/*
 * @r matched @e, whose fields @get gives (valid during the call only:
 * the values are copied). @hostname: Falco's "hostname". Release with
 * vg_rule_alert_release(); @ra is usable even when incomplete.
 */
void vg_rule_alert_init(struct vg_rule_alert *ra, const struct vg_rule *r,
			const struct vg_event *e, vg_filter_get_fn get,
			void *get_ctx, const char *hostname);
void vg_rule_alert_release(struct vg_rule_alert *ra);

#endif
