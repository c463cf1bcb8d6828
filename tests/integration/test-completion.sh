#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration test: the bash completion, driven as bash drives it
# (COMP_WORDS, COMP_CWORD, then _vigil), against this vigil:
#   - command names, and the top-level options;
#   - 'vigil watch --<TAB>': every long option 'vigil watch --help' names;
#   - 'vigil watch -e <TAB>': the event types, and a list's next element;
#   - 'vigil watch -f proc.<TAB>': the proc.* fields of 'vigil watch --fields';
#   - 'vigil diff <TAB>' and 'vigil watch --container <TAB>': the name of a
#     running docker container;
#   - errors stay quiet: a vigil that fails completes nothing, silently.
# Usage: test-completion.sh [path/to/vigil]   (root for docker; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
VIGIL=$(realpath "$VIGIL")

vg_need_root
vg_init
vg_need_cmds jq docker || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || { fail "bash-completion is not installed ($BC)"; vg_finish; }

# complete WORD...: what _vigil offers for the last word, one a line, in
# a fresh shell with bash-completion and vigil's script loaded.
complete_words() {
	VG_BC=$BC VG_SCRIPT=$SRC/completions/vigil.bash bash -c '
		. "$VG_BC"
		. "$VG_SCRIPT"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_vigil vigil "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@" 2>"$VG_TMPDIR/complete.err"
}

# has WORDS-OUTPUT WORD...: every WORD is offered.
has() {
	local out=$1 w
	shift
	for w in "$@"; do grep -qxF -- "$w" <<<"$out" || return 1; done
}

OUT=$(complete_words "$VIGIL" "")
mapfile -t CMDS < <("$VIGIL" --help | awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { on = 0 }
	on && /^  [a-z]/ { print $1 }')
[ ${#CMDS[@]} -ge 5 ] && has "$OUT" "${CMDS[@]}" && [ "$(vg_count_lines "$OUT")" = ${#CMDS[@]} ] &&
	pass "vigil <TAB> offers the ${#CMDS[@]} commands of vigil --help" || fail "commands: $(echo $OUT)"
OUT=$(complete_words "$VIGIL" "wa")
[ "$OUT" = watch ] && pass "vigil wa<TAB> completes to watch" || fail "vigil wa<TAB>: $(echo $OUT)"
OUT=$(complete_words "$VIGIL" --host-root /tmp "di")
has "$OUT" diff && pass "a command after a global option and its value" || fail "vigil --host-root /tmp di<TAB>: $(echo $OUT)"
OUT=$(complete_words "$VIGIL" "--ho")
has "$OUT" --host-root && pass "vigil --ho<TAB> offers --host-root" || fail "vigil --ho<TAB>: $(echo $OUT)"

OUT=$(complete_words "$VIGIL" watch "--")
mapfile -t WOPTS < <("$VIGIL" watch --help | grep -oE -- '(^|[ [,])--[a-z][a-z0-9-]*' | sed -E 's/^[ [,]//' | sort -u)
if [ ${#WOPTS[@]} -ge 20 ] && has "$OUT" "${WOPTS[@]}"; then
	pass "vigil watch --<TAB> offers all ${#WOPTS[@]} long options of vigil watch --help"
else
	fail "vigil watch --<TAB> lacks some of ${WOPTS[*]}: $(echo $OUT)"
fi
has "$OUT" --all && fail "vigil watch --<TAB> offers vigil pid's --all" || pass "vigil watch --<TAB> offers no other command's option"
OUT=$(complete_words "$VIGIL" watch --ev)
[ "$OUT" = --event ] && pass "vigil watch --ev<TAB> completes to --event" || fail "--ev<TAB>: $(echo $OUT)"

OUT=$(complete_words "$VIGIL" watch -e "")
if has "$OUT" exec exit fork thread open connect accept bind listen file container all syscall: tp:; then
	pass "vigil watch -e <TAB> offers the event types of vigil watch --help"
else
	fail "vigil watch -e <TAB>: $(echo $OUT)"
fi
OUT=$(complete_words "$VIGIL" watch --event "exec,o")
[ "$OUT" = exec,open ] && pass "vigil watch --event exec,o<TAB> completes the list's next element" ||
	fail "--event exec,o<TAB>: $(echo $OUT)"

OUT=$(complete_words "$VIGIL" watch -f "proc.")
mapfile -t PF < <("$VIGIL" watch --fields | awk '$1 ~ /^proc\./ { print $1 }')
if [ ${#PF[@]} -ge 5 ] && has "$OUT" "${PF[@]}" && [ "$(vg_count_lines "$OUT")" = ${#PF[@]} ]; then
	pass "vigil watch -f proc.<TAB> offers the ${#PF[@]} proc.* fields of vigil watch --fields"
else
	fail "vigil watch -f proc.<TAB>: $(echo $OUT) (want ${PF[*]})"
fi
OUT=$(complete_words "$VIGIL" watch --filter "evt.type = exec and k8s.pod.l")
[ "$OUT" = "evt.type = exec and k8s.pod.label." ] &&
	pass "a field later in an expression completes, a keyed one to its prefix" || fail "expression: $(echo $OUT)"

OUT=$(complete_words "$VIGIL" diff --li)
[ "$OUT" = --like ] && pass "vigil diff --li<TAB> completes to --like" || fail "diff --li<TAB>: $(echo $OUT)"
OUT=$(complete_words "$VIGIL" diff --like "")
has "$OUT" docker podman && pass "vigil diff --like <TAB> offers docker and podman" || fail "--like <TAB>: $(echo $OUT)"

# Quiet on errors: a vigil that fails offers nothing and prints nothing.
printf '#!/bin/sh\necho broken >&2\nexit 3\n' >"$VG_TMPDIR/broken"
chmod +x "$VG_TMPDIR/broken"
OUT=$(complete_words "$VG_TMPDIR/broken" diff "")
[ -z "$OUT" ] && [ ! -s "$VG_TMPDIR/complete.err" ] && pass "a failing vigil: no candidates and no noise" ||
	fail "failing vigil: '$(echo $OUT)', stderr: $(cat "$VG_TMPDIR/complete.err")"

# Container names, from a real container.
if vg_start_dockerd && vg_busybox_image; then
	C=${VG_RUN_PREFIX}complete-web
	if vg_t docker run -d --name "$C" --network none "$VG_IMAGE" sleep 3600 >/dev/null; then
		ID=$(vg_t docker inspect -f '{{.Id}}' "$C")
		# vigil finds a container by its processes' cgroups: wait for it
		vg_wait 10 "$VIGIL" containers "$C" >/dev/null 2>&1 || true
		OUT=$(complete_words "$VIGIL" diff "")
		has "$OUT" "$C" && pass "vigil diff <TAB> offers the running container's name" ||
			fail "vigil diff <TAB>: $(echo $OUT) (want $C)"
		OUT=$(complete_words "$VIGIL" diff "${C%web}")
		[ "$OUT" = "$C" ] && pass "vigil diff ${C%web}<TAB> completes to $C" || fail "vigil diff prefix: $(echo $OUT)"
		OUT=$(complete_words "$VIGIL" rootfs "${ID:0:6}")
		has "$OUT" "${ID:0:12}" && pass "an id prefix completes to the short id" || fail "vigil rootfs id<TAB>: $(echo $OUT)"
		OUT=$(complete_words "$VIGIL" watch --container "")
		has "$OUT" "$C" && pass "vigil watch --container <TAB> offers it" || fail "watch --container <TAB>: $(echo $OUT)"
		OUT=$(complete_words "$VIGIL" watch -c "$C")
		[ "$OUT" = "$C" ] && pass "vigil watch -c NAME<TAB> completes it" || fail "watch -c: $(echo $OUT)"
		vg_t docker rm -f "$C" >/dev/null 2>&1
		OUT=$(complete_words "$VIGIL" diff "$C")
		[ -z "$OUT" ] && pass "a removed container is no longer offered" || fail "after rm: $(echo $OUT)"
	else
		fail "docker run $VG_IMAGE failed"
	fi
else
	fail "docker is not available for the container-name checks"
fi

vg_finish
