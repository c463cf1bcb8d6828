#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: Falco's rules on a recording, through the engine.
#   - vigil rules check: per-rule verdicts, counts, JSON, exit statuses,
#     a broken file named with its line;
#   - vigil watch --source replay:FILE --rules R.yaml: exactly the expected
#     alerts (a list in a list, macros, an exception that suppresses one,
#     a disabled rule, a rule of another source), in text and in Falco's
#     JSON shape with the container's identity;
#   - --rules with no rule vigil evaluates is refused.
# No eBPF: the replay needs no kernel. Usage: test-rules.sh [path/to/vigil]
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
FIX=$(cd "$HERE/../fixtures" && pwd)
REC=$FIX/recordings/docker-lifecycle.rec
HOST=$FIX/recordings/host
RULES=$FIX/rules/replay-rules.yaml

vg_init
vg_need_cmds jq || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

# ---- check
vg_vigil rules check "$RULES"
[ "$VG_RC" = 0 ] && pass "check: exit 0 when every syscall rule is accepted" || { fail "check exit $VG_RC"; vg_show; }
grep -qx "$RULES:42: Sleep anywhere: accepted (disabled)" <<<"$VG_OUT" &&
	grep -q "Audit thing: skipped: source k8s_audit" <<<"$VG_OUT" &&
	grep -qx "4 rules: 3 accepted, 0 refused, 1 skipped (other sources); 1 disabled" <<<"$VG_OUT" &&
	pass "check: per-rule verdicts and the counts" || { fail "check text"; vg_show; }
vg_vigil rules check -o json "$RULES"
jcheck "check -o json: counts, statuses, the output field vigil lacks" "$VG_OUT" \
	'.total == 4 and .accepted == 3 and .skipped == 1 and .disabled == 1 and
	 ([.rules[].status] == ["accepted", "accepted", "accepted", "skipped"]) and
	 (.rules[0].output_note | test("proc.nosuchfield"))'

vg_vigil rules check "$FIX/falco/falco_rules.yaml" -o json
[ "$VG_RC" = 1 ] && pass "check of Falco's stable file: exit 1 (some refused)" || { fail "stable exit $VG_RC"; vg_show; }
jcheck "every refusal of Falco's stable rules names a reason" "$VG_OUT" \
	'.total == 25 and ([.rules[] | select(.status == "refused") | .reason | length > 10] | all)'
vg_info "$(jq -r '"stable: \(.accepted) of \(.total) accepted"' <<<"$VG_OUT")"

printf -- '- rule: r\n  desc: d\n  condition: [unclosed\n' >"$VG_TMPDIR/bad.yaml"
vg_vigil rules check "$VG_TMPDIR/bad.yaml"
[ "$VG_RC" = 2 ] && grep -q "bad.yaml:4: YAML:" <<<"$VG_ERR" &&
	pass "a broken file: exit 2, its file and line named" || { fail "broken file"; vg_show; }
vg_vigil rules check
[ "$VG_RC" = 2 ] && pass "check without files: usage, exit 2" || { fail "usage exit $VG_RC"; vg_show; }

# ---- watch --rules over the recording
vg_vigil watch --source "replay:$REC" --host-root "$HOST" --rules "$RULES"
WANT='2026-12-06T17:39:42.633842839Z: Notice docker run: docker run --name rec-exit7 --network none vigil-test/busybox:1 sh -c /bin/busybox true; exit 7
2026-12-06T17:39:43.137023835Z: Warning Shell in container (user=0 shell=sh cmdline=sh -c /bin/busybox true; exit 7 container=rec-exit7 image=vigil-test/busybox:1 unknown=<NA>)'
[ "$VG_RC" = 0 ] && [ "$VG_OUT" = "$WANT" ] &&
	pass "watch --rules: exactly the two alerts (docker run -d excepted, sleep disabled)" ||
	{ fail "watch --rules text"; vg_show; }
grep -q "watching exec " <<<"$VG_ERR" && grep -q "2 alerts, 0 lost" <<<"$VG_ERR" &&
	grep -q "0 refused and 1 skipped" <<<"$VG_ERR" &&
	pass "only exec traced (the rules' types); alerts counted; skipped rule said" ||
	{ fail "watch --rules stderr"; vg_show; }

vg_vigil watch --source "replay:$REC" --host-root "$HOST" --rules "$RULES" -o json
H=$(hostname)
jcheck "JSON alerts in Falco's shape, with vigil's container and exec id" "$VG_OUT" -s \
	'length == 2 and
	 (.[0] | .rule == "Docker run on the host" and .priority == "Notice" and
	  .source == "syscall" and .tags == ["host"] and .hostname == $h and
	  .time == "2026-12-06T17:39:42.633842839Z" and
	  .output == "2026-12-06T17:39:42.633842839Z: Notice docker run: docker run --name rec-exit7 --network none vigil-test/busybox:1 sh -c /bin/busybox true; exit 7" and
	  .container.id == "host" and (.proc.exec_id | test("-2375-"))) and
	 (.[1] | .rule == "Shell in container" and .priority == "Warning" and
	  .output_fields["proc.name"] == "sh" and .output_fields["user.uid"] == 0 and
	  .output_fields["container.name"] == "rec-exit7" and
	  .output_fields["proc.nosuchfield"] == null and
	  (.output_fields | has("evt.time")) and
	  (.container.id | startswith("6b8ccfa89c5c")) and .container.name == "rec-exit7")' \
	--arg h "$H"

vg_vigil watch --source "replay:$REC" --host-root "$HOST" --rules "$RULES" --count 1
[ "$(printf '%s\n' "$VG_OUT" | wc -l)" = 1 ] && pass "--count counts alerts" || { fail "--count"; vg_show; }

printf -- '- rule: r\n  desc: d\n  condition: proc.nosuch = 1\n  output: o\n  priority: info\n' >"$VG_TMPDIR/none.yaml"
vg_vigil watch --source "replay:$REC" --host-root "$HOST" --rules "$VG_TMPDIR/none.yaml"
[ "$VG_RC" = 2 ] && grep -q "no enabled rule that vigil evaluates" <<<"$VG_ERR" &&
	pass "--rules with no rule accepted: refused, exit 2" || { fail "no rule accepted"; vg_show; }

vg_finish
