/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_RULES_RULES_H
#define VG_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/filter.h"

/*
 * Falco's rule files, loaded as Falco loads them, and their rules
 * evaluated on vigil's events.
 *
 * A file is a YAML sequence of items: list, macro, rule,
 * required_engine_version and required_plugin_versions (noted, not
 * enforced). Files loaded into one ruleset are one ruleset: a later item
 * appends to (append: true, or override: KEY: append) or replaces
 * (override: KEY: replace) an earlier one of the same name, and a later
 * definition replaces an earlier one in place, as in Falco.
 *
 * Compiling resolves each rule's condition as Falco's rule compiler
 * does: its exceptions become "and not (...)" clauses, then list names
 * used as values are replaced by their items, then macros by their
 * conditions in parentheses (a macro sees the macros defined before it,
 * a rule sees them all). The result goes to vg_filter_compile(): a rule
 * it refuses is refused with its reason, never silently false.
 *
 * Everything is bounded (VG_RULES_MAX_*): past a bound a file is an
 * error at its line, never a deep recursion or an unbounded allocation.
 */

#define VG_RULES_MAX_FILE     (16u << 20)  /* bytes of one file */
#define VG_RULES_MAX_ITEMS    16384        /* lists, macros and rules */
#define VG_RULES_MAX_FLOW     64           /* [ and { nested in YAML */
#define VG_RULES_MAX_STR      (256u << 10) /* one condition, output... */
#define VG_RULES_MAX_EXPANDED (1u << 20)   /* a condition resolved */
#define VG_RULES_MAX_TAGS     64
#define VG_RULES_MAX_FIELDS   64           /* %fields of one output */

/* Falco's priorities, most severe first. */
enum vg_rule_priority {
	VG_PRI_EMERGENCY,
	VG_PRI_ALERT,
	VG_PRI_CRITICAL,
	VG_PRI_ERROR,
	VG_PRI_WARNING,
	VG_PRI_NOTICE,
	VG_PRI_INFORMATIONAL,
	VG_PRI_DEBUG,
	VG_PRI_COUNT
};

/* "Warning"..., as Falco prints them; NULL out of range. */
const char *vg_rule_priority_name(int pri);
/* Falco's names, any case ("info" too). Returns 0 or -EINVAL. */
int vg_rule_priority_parse(const char *s, int *ret);

enum vg_rule_status {
	VG_RULE_ACCEPTED,
	VG_RULE_REFUSED,   /* why says why */
	VG_RULE_SKIPPED,   /* another source than syscall */
};

/* One %field of an output. */
struct vg_rule_field {
	char *name;        /* as written, without % and () */
	int id;            /* -1: vigil has no such field (prints <NA>) */
	char *key;         /* its key or [argument], NUL-terminated; NULL: none */
	size_t key_len;
	size_t at, len;    /* where in the output, '%' to the name's end */
};

/* A rule as the files left it, and as compiled. Read-only to callers. */
struct vg_rule {
	char *name, *desc, *condition, *output, *source;
	char **tags;
	size_t n_tags;
	int priority;
	bool enabled;
	char *file;           /* where it was defined */
	int line;
	/* vg_ruleset_compile() */
	enum vg_rule_status status;
	char *why;            /* refused or skipped: why */
	char *expanded;       /* the condition, resolved */
	struct vg_filter *filter;
	uint64_t type_mask;   /* vigil's event types it can match */
	struct vg_rule_field *fields; /* the output's, in order */
	size_t n_fields;
	char *output_note;    /* fields of the output vigil lacks, or NULL */
	/* the loader's */
	struct vg_rule_exc *exc;
	size_t n_exc;
	size_t index;
};

/* Where and why a file did not load. @line is 1-based, 0 when unknown. */
struct vg_rules_error {
	char file[256];
	int line;
	char msg[512];
};

struct vg_ruleset;

/* Caller frees with vg_ruleset_free(). NULL on -ENOMEM. */
struct vg_ruleset *vg_ruleset_new(void);
void vg_ruleset_free(struct vg_ruleset *rs);

/*
 * Add the items of the file at @path (or of @buf, @len bytes, named
 * @name in messages). Returns 0; -EINVAL with @err (may be NULL) for a
 * file that is not a rule file or breaks a bound, where it was found,
 * -errno for one that cannot be read. A failed file may have added some
 * of its items; the caller gives up the ruleset then.
 */
int vg_ruleset_load_file(struct vg_ruleset *rs, const char *path,
			 struct vg_rules_error *err);
int vg_ruleset_load_buf(struct vg_ruleset *rs, const char *name,
			const char *buf, size_t len, struct vg_rules_error *err);

/* Notes the loader made (required_plugin_versions ignored...), one a
 * line, or "" (valid until the next load). */
const char *vg_ruleset_notes(const struct vg_ruleset *rs);

/* Compile every rule (again). Returns the number accepted, or -ENOMEM. */
int vg_ruleset_compile(struct vg_ruleset *rs);

size_t vg_ruleset_count(const struct vg_ruleset *rs);
const struct vg_rule *vg_ruleset_rule(const struct vg_ruleset *rs, size_t i);

/* The rules by state: the disabled ones, and the enabled ones by status. */
struct vg_rules_tally {
	size_t rules, disabled, accepted, refused, skipped;
};
void vg_ruleset_tally(const struct vg_ruleset *rs, struct vg_rules_tally *ret);

/* The event types the accepted, enabled rules can match (VG_E_BIT()s). */
uint64_t vg_ruleset_type_mask(const struct vg_ruleset *rs);

/*
 * The accepted, enabled rules that an event of type bit @type_bit, whose
 * fields @get gives, matches, in the files' order: @fn for each (for the
 * first only with @first, Falco's rule_matching: first). Returns how
 * many matched.
 */
size_t vg_ruleset_match(const struct vg_ruleset *rs, uint64_t type_bit,
			vg_filter_get_fn get, void *get_ctx, bool first,
			void (*fn)(const struct vg_rule *r, void *arg), void *arg);

/*
 * @r's output with each %field replaced by the event's value (<NA> when
 * it has none), into a new string; caller frees with free(). NULL on
 * -ENOMEM. The values are as the getter gives them: the caller escapes
 * for where it writes.
 */
char *vg_rule_format_output(const struct vg_rule *r, vg_filter_get_fn get,
			    void *get_ctx);

/* One output field's value: 1 with *@ret (and *@ret_num: a number), or 0
 * when the event has none. */
int vg_rule_field_value(const struct vg_rule_field *f, vg_filter_get_fn get,
			void *get_ctx, struct vg_fval *ret, bool *ret_num);

#endif
