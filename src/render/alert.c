/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Alerts in Falco's JSON output shape, and its text line. */
#include "render/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render/event.h"

void vg_render_time_ns(int64_t ns, char *buf, size_t bufsz)
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	size_t n;

	if (ns < 0 || !gmtime_r(&sec, &tm)) {
		snprintf(buf, bufsz, "1970-01-01T00:00:00.000000000Z");
		return;
	}
	n = strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n)
		snprintf(buf + n, bufsz - n, ".%09ldZ", frac);
}

/* Falco's output line: "TIME: Priority MESSAGE". */
static void put_line(struct vg_printer *p, const struct vg_alert *a, const char *time,
		     bool text)
{
	if (text) {
		vg_pr_put_str(p, time);
		VG_PR_PUT_LIT(p, ": ");
		vg_pr_put_str(p, a->priority);
		VG_PR_PUT_LIT(p, " ");
		vg_pr_put_escaped(p, a->output, strlen(a->output));
	}
}

void vg_render_alert(struct vg_printer *p, const struct vg_alert *a)
{
	bool text = vg_printer_mode(p) == VG_OUTPUT_TEXT;
	char time[48], *line = NULL;

	vg_render_time_ns(a->time_ns, time, sizeof(time));
	vg_pr_begin(p);
	if (text) {
		put_line(p, a, time, true);
		return;
	}
	vg_pr_str(p, "hostname", NULL, a->hostname);
	if (asprintf(&line, "%s: %s %s", time, a->priority, a->output) < 0)
		line = NULL;
	vg_pr_str(p, "output", NULL, line ? line : a->output);
	free(line);
	vg_pr_obj_open(p, "output_fields");
	vg_pr_i64(p, "evt.time", NULL, a->time_ns);
	for (size_t i = 0; i < a->n_fields; i++) {
		const struct vg_alert_field *f = &a->fields[i];
		char *v;

		if (!f->present) {
			vg_pr_null(p, f->name, NULL);
		} else if (f->num) {
			vg_pr_i64(p, f->name, NULL, f->n);
		} else if ((v = strndup(f->s, f->len))) {
			vg_pr_str(p, f->name, NULL, v);
			free(v);
		} else {
			vg_pr_null(p, f->name, NULL);
		}
	}
	vg_pr_obj_close(p);
	vg_pr_str(p, "priority", NULL, a->priority);
	vg_pr_str(p, "rule", NULL, a->rule);
	vg_pr_str(p, "source", NULL, a->source);
	vg_pr_str_array(p, "tags", NULL, a->tags, a->n_tags);
	vg_pr_str(p, "time", NULL, time);
	if (a->e)
		vg_render_attribution(a->e, p);
	vg_pr_obj_open(p, "proc");
	vg_pr_str(p, "exec_id", NULL, a->exec_id);
	vg_pr_obj_close(p);
}
