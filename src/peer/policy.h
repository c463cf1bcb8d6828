/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_PEER_POLICY_H
#define VG_PEER_POLICY_H

#include <stddef.h>

#include "vigil/vigil.h"

/*
 * The access policy behind vigil_policy_*() (include/vigil/vigil.h); the
 * format is in the README, "Peer policy". These limits keep a policy a
 * reviewer can read, and bound what a hostile file can make us allocate.
 */
#define VG_POLICY_MAX_RULES  4096
#define VG_POLICY_MAX_CONDS  32
#define VG_POLICY_MAX_LINE   8192              /* bytes, without the '\n' */
#define VG_POLICY_MAX_FILE   (1024 * 1024)     /* vigil_policy_load() */
/* A rule's text in a decision's reason is cut here, marked with "...". */
#define VG_POLICY_TEXT_MAX   512

/* For tests and fuzzing: the rule count, and rule @i's normalized text
 * ("allow user.uid = 0 container.image ~ \"x*\""), which parses back to
 * the same rule unless it was cut. NULL when @i is out of range. */
size_t vg_policy_n_rules(const struct vigil_policy *p);
const char *vg_policy_rule_text(const struct vigil_policy *p, size_t i);
unsigned vg_policy_rule_line(const struct vigil_policy *p, size_t i);

/*
 * What a policy that loaded may still not mean: an allow rule whose only
 * conditions are on proc.exe or proc.name (see the README). The policy
 * applies as written; the caller shows each warning, as
 * "FILE:LINE: warning: TEXT". vg_policy_warning() returns warning @i's
 * text and its line in *ret_line (may be NULL), or NULL when @i is out
 * of range; the text lives as long as the policy.
 */
size_t vg_policy_n_warnings(const struct vigil_policy *p);
const char *vg_policy_warning(const struct vigil_policy *p, size_t i,
			      unsigned *ret_line);

#endif
