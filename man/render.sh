#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Render one scdoc page to roff on stdout, with the line '%COMMON_OPTIONS%'
# replaced by the common options' text.
# Usage: render.sh SCDOC PAGE.scd COMMON.scd
set -eu
scdoc=$1
page=$2
common=$3
awk -v common="$common" '
	$0 == "%COMMON_OPTIONS%" {
		while ((getline line < common) > 0) print line
		close(common)
		next
	}
	{ print }' "$page" | "$scdoc"
