#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages cannot drift from the binary: every command 'vigil --help'
# lists has a page, and every option a command's --help names is described
# in an OPTIONS section of its page (vigil(8) for the top level). The
# reverse is not checked: a page may document more (options another part
# of vigil adds, such as the config file's).
# Usage: test-man.sh VIGIL MANDIR   (MANDIR: the rendered pages)
set -u -o pipefail

VIGIL=$1
MANDIR=$2
pass=0 failed=0
ok()  { pass=$((pass + 1)); printf 'PASS: %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }

# The long options a --help names, without those it names as another
# command's ("a recording (vigil watch --record)").
help_options() {
	sed -E 's/vigil [a-z]+ --[a-z-]+//g' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# The text of the sections of page $1 whose title says OPTIONS, as roff
# (scdoc writes options as \fB--name\fR).
options_text() {
	awk '/^\.SH / { on = ($0 ~ /OPTIONS/); next } on' "$1"
}

# check_page PAGE HELP-TEXT WHAT
check_page() {
	local page=$1 help=$2 what=$3 text opt missing=()
	if [ ! -s "$page" ]; then
		bad "$what: no man page $page"
		return
	fi
	text=$(options_text "$page")
	if [ -z "$text" ]; then
		bad "$what: $page has no OPTIONS section"
		return
	fi
	local n=0
	while read -r opt; do
		[ -n "$opt" ] || continue
		n=$((n + 1))
		grep -qE -- "(^|[^a-z-])${opt}([^a-z0-9-]|$)" <<<"$text" || missing+=("$opt")
	done < <(help_options <<<"$help")
	if [ "$n" -eq 0 ]; then
		bad "$what: --help names no option (is it the right binary?)"
	elif [ ${#missing[@]} -eq 0 ]; then
		ok "$what: $page describes all $n options of --help"
	else
		bad "$what: $page lacks ${missing[*]}"
	fi
}

top=$("$VIGIL" --help) || { bad "vigil --help failed"; echo "$pass passed, $failed failed"; exit 1; }
mapfile -t cmds < <(awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { on = 0 }
	on && /^  [a-z]/ { print $1 }' <<<"$top")
if [ ${#cmds[@]} -lt 5 ]; then
	bad "vigil --help lists ${#cmds[@]} commands: ${cmds[*]}"
else
	ok "vigil --help lists ${#cmds[@]} commands"
fi

check_page "$MANDIR/vigil.8" "$top" "vigil"
for c in "${cmds[@]}"; do
	page=
	for s in 8 1; do
		[ -e "$MANDIR/vigil-$c.$s" ] && page=$MANDIR/vigil-$c.$s && break
	done
	h=$("$VIGIL" "$c" --help 2>&1) || { bad "vigil $c --help exits non-zero"; continue; }
	check_page "${page:-$MANDIR/vigil-$c.8}" "$h" "vigil $c"
	# vigil(8) points at every command's page
	grep -qE "vigil-$c\\\\fR\\(" "$MANDIR/vigil.8" && ok "vigil(8) refers to vigil-$c" ||
		bad "vigil(8) does not refer to vigil-$c"
done

# The drift check itself works: an option no page has is caught.
fake=$(printf '%s\n' "$("$VIGIL" pid --help)" "  --no-such-option-here  made up")
out=$(check_page "$MANDIR/vigil-pid.8" "$fake" "self-test" 2>&1)
if grep -q -- 'FAIL: self-test.*--no-such-option-here' <<<"$out"; then
	ok "an option missing from a page is reported"
else
	bad "an option missing from a page went unnoticed: $out"
fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
