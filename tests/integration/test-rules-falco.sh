#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: every rule of Falco's stable file that `vigil rules
# check` accepts is evaluated right, not merely parsed. Each has cases in
# tests/fixtures/falco/cases/stable.txt: recordings made by mkrec.py,
# replayed with the whole stable file loaded (vigil watch --source
# replay:FILE --rules falco_rules.yaml -o json):
#   - positive: exactly one alert of the rule, with its name and
#     priority, and its output with the fields substituted;
#   - negative (a near miss): no alert of the rule;
#   - any other alert only one the case names ("also": Falco's first
#     match gives an event to the first rule of the file that matches).
# And an accepted rule without a positive and a negative case fails the
# test: a rule a new field makes evaluable gets cases, or this says so.
# No eBPF: the replay needs no kernel. Usage: test-rules-falco.sh [vigil]
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
FIX=$(cd "$HERE/../fixtures" && pwd)
RULES=$FIX/falco/falco_rules.yaml
CASES=$FIX/falco/cases/stable.txt

vg_init
vg_need_cmds jq python3 || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

vg_vigil rules check -o json "$RULES"
CHECK=$VG_OUT
ACCEPTED=$(jq -r '.rules[] | select(.status == "accepted" and .enabled) | .rule' <<<"$CHECK")
[ -n "$ACCEPTED" ] && pass "rules check: $(grep -c . <<<"$ACCEPTED") accepted stable rules" ||
	{ fail "rules check gave no accepted rule"; vg_show; vg_finish; }

REC=$VG_TMPDIR/cases
if ! N=$(python3 "$HERE/mkrec.py" "$CASES" "$REC" 2>"$VG_TMPDIR/mkrec.err"); then
	fail "mkrec.py: $(cat "$VG_TMPDIR/mkrec.err")"
	vg_finish
fi
vg_info "$N cases"

declare -A POS NEG
for ((i = 0; i < N; i++)); do
	IFS=$'\t' read -r KIND RULE <"$REC/$i.expect"
	ALSO=$(awk -F'\t' '$1 == "also" { print $2 }' "$REC/$i.expect" | jq -Rsc 'split("\n") | map(select(length > 0))')
	WANT=$(awk -F'\t' '$1 == "want" { print $2 }' "$REC/$i.expect" | jq -Rsc 'split("\n") | map(select(length > 0))')
	PRIO=$(jq -r --arg r "$RULE" '.rules[] | select(.rule == $r and .status == "accepted") | .priority' <<<"$CHECK")
	if [ -z "$PRIO" ]; then
		fail "case $i ($KIND): '$RULE' is not an accepted rule of the stable file"
		continue
	fi
	vg_vigil watch --source "replay:$REC/$i.rec" --host-root "$REC/host" --rules "$RULES" -o json
	if [ "$VG_RC" != 0 ]; then
		fail "case $i ($KIND $RULE): vigil exit $VG_RC"
		vg_show
		continue
	fi
	ALERTS=$(jq -sc . <<<"$VG_OUT")
	if [ "$KIND" = positive ]; then
		jcheck "positive: $RULE ($PRIO), its output substituted" "$ALERTS" \
			'[.[] | select(.rule == $r)] as $mine | [.[] | .rule] as $rules |
			 ($mine | length == 1) and
			 ($mine[0] | .priority == $p and .source == "syscall" and
			  (.output | test("%[a-z]") | not) and
			  (.output as $o | $want | all(. as $w | $o | contains($w)))) and
			 ($rules - [$r] - $also | length == 0) and
			 ($also | all(. as $a | $rules | index($a)))' \
			--arg r "$RULE" --arg p "$PRIO" --argjson want "$WANT" \
			--argjson also "$ALSO"
		POS[$RULE]=1
	else
		jcheck "negative: $RULE does not fire$([ "$ALSO" != "[]" ] && printf ' (%s does)' "$ALSO")" "$ALERTS" \
			'[.[] | .rule] as $rules |
			 ($rules | index($r) | not) and
			 ($rules - $also | length == 0) and
			 ($also | all(. as $a | $rules | index($a)))' \
			--arg r "$RULE" --argjson also "$ALSO"
		NEG[$RULE]=1
	fi
done

# every accepted rule has both
while IFS= read -r R; do
	if [ -n "${POS[$R]:-}" ] && [ -n "${NEG[$R]:-}" ]; then
		pass "cases: '$R' has a positive and a negative case"
	else
		fail "cases: the accepted rule '$R' lacks a $([ -z "${POS[$R]:-}" ] && echo positive)$([ -z "${POS[$R]:-}${NEG[$R]:-}" ] && echo ' and a ')$([ -z "${NEG[$R]:-}" ] && echo negative) case in $CASES"
	fi
done <<<"$ACCEPTED"

vg_finish
