/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_OUTPUT_IDENTITY_H
#define VG_OUTPUT_IDENTITY_H

#include "output/printer.h"
#include "vigil/vigil.h"

/* Describe @id as one record on @p (begins the record; the caller ends
 * it with vg_pr_end()). */
void vg_print_identity(struct vg_printer *p, const struct vigil_identity *id);

#endif
