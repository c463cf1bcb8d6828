#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: Falco's rules in the daemon (vigil daemon --rules).
#   - over a recording, subscribers asking for --event alert get exactly
#     the alerts vigil watch --rules prints (text: Falco's line; JSON: the
#     alert object with sub, sensor and seq first); a subscription's
#     filter selects alerts by the event that matched (evt.type = alert);
#   - a file export with events=alert writes them, node/sensor/seq first;
#   - only the rules' event types are traced for them; stats and metrics
#     count rules by state and alerts by priority;
#   - SIGHUP reads the rule files again: a changed file is taken (its new
#     types traced), a broken one keeps the old rules and says why;
#   - a broken rule file at start: exit 2 with its file and line; no rule
#     accepted: exit 2; --check-config checks the rules too; a daemon
#     without rules refuses a subscription to alerts.
# No eBPF: the daemon serves a recording. Usage: test-daemon-rules.sh [vigil]
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
FIX=$(cd "$HERE/../fixtures" && pwd)
REC=$FIX/recordings/docker-lifecycle.rec
HOST=$FIX/recordings/host

vg_need_root
vg_init
vg_need_cmds jq timeout python3 curl || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
T=$VG_TMPDIR
export VIGIL_CONFIG=$T/no-such.conf
export NODE_NAME=node-r
RULES=$T/rules.yaml
cp "$FIX/rules/replay-rules.yaml" "$RULES"
SOCK=$T/run/vigil.sock

pick_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stop_pid PID: SIGTERM, bounded wait; its exit status in STOP_RC
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	vg_wait 10 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	STOP_RC=$?
}

# ---- start-up errors
printf -- '- rule: r\n  desc: d\n  condition: [unclosed\n' >"$T/bad.yaml"
out=$(timeout 20 "$VIGIL" daemon --socket "$T/bad/s" --source "replay:$REC" \
	--rules "$T/bad.yaml" 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "bad.yaml:4: YAML:" <<<"$out" &&
	pass "a broken rule file at start: exit 2, its file and line named" ||
	fail "broken rule file at start: rc=$rc: $out"
printf -- '- rule: r\n  desc: d\n  condition: proc.nosuch = 1\n  output: o\n  priority: info\n' >"$T/none.yaml"
out=$(timeout 20 "$VIGIL" daemon --socket "$T/none/s" --source "replay:$REC" \
	--rules "$T/none.yaml" --log-level info 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "no enabled rule that vigil evaluates" <<<"$out" &&
	grep -q "rule 'r' (.*none.yaml:1) refused: .*proc.nosuch" <<<"$out" &&
	pass "no rule accepted: exit 2, the refusal's reason logged" ||
	fail "no rule accepted: rc=$rc: $out"
printf '[daemon]\nrules = %s\nrules = %s\n' "$RULES" "$T/bad.yaml" >"$T/check.conf"
out=$(VIGIL_CONFIG=$T/check.conf timeout 20 "$VIGIL" daemon --check-config 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "bad.yaml:4:" <<<"$out" &&
	pass "--check-config loads the config's rule files (repeated key): the broken one named" ||
	fail "--check-config with a broken rule file: rc=$rc: $out"

# ---- a daemon without rules has no alerts to give
"$VIGIL" daemon --socket "$T/plain/s" --source "replay:$REC" --idle-timeout 0 \
	</dev/null >/dev/null 2>"$T/plain.err" &
P_PID=$!
vg_track_pid "$P_PID"
if vg_wait 20 grep -q 'daemon serving' "$T/plain.err"; then
	out=$(timeout 10 "$VIGIL" watch --socket "$T/plain/s" --event alert 2>&1 </dev/null)
	rc=$?
	[ "$rc" != 0 ] && grep -q "no alerts here: the daemon runs no rules" <<<"$out" &&
		pass "a subscription to alerts from a daemon without rules: refused, said why" ||
		fail "alerts without rules: rc=$rc: $out"
else
	fail "the daemon without rules did not start"; cat "$T/plain.err"
fi
stop_pid "$P_PID"
out=$(timeout 10 "$VIGIL" watch --source "replay:$REC" --event alert 2>&1 </dev/null)
[ $? = 2 ] && grep -q "comes from a vigil daemon that runs rules" <<<"$out" &&
	pass "--event alert without a daemon: a usage error that says where alerts come from" ||
	fail "--event alert embedded: $out"

# ---- the daemon with rules, over the recording held for 3 subscribers
PORT=$(pick_port)
"$VIGIL" --host-root "$HOST" daemon --socket "$SOCK" --source "replay:$REC" \
	--rules "$RULES" --replay-wait 3 --idle-timeout 0 --state-dir "$T/state" \
	--metrics "127.0.0.1:$PORT" --export "al file $T/alerts.json events=alert" \
	--export "ev file $T/events.json events=exec" \
	</dev/null >/dev/null 2>"$T/daemon.err" &
D_PID=$!
vg_track_pid "$D_PID"
vg_wait 20 grep -q 'daemon serving' "$T/daemon.err" ||
	{ fail "vigil daemon --rules did not start"; cat "$T/daemon.err"; vg_finish; }
grep -q "rules: 2 accepted, 0 refused, 1 skipped, 1 disabled, from 1 file" "$T/daemon.err" &&
	grep -q "rule 'Audit thing' (.*:49) skipped: source k8s_audit" "$T/daemon.err" &&
	grep -q "warning: rules: of the enabled rules, 0 refused and 1 skipped" "$T/daemon.err" &&
	pass "start: the rules counted, the skipped one warned of with its reason" ||
	{ fail "start-up log"; cat "$T/daemon.err"; }

timeout 30 "$VIGIL" watch --socket "$SOCK" --event alert --count 2 \
	>"$T/text.out" 2>"$T/text.err" </dev/null &
W1=$!
timeout 30 "$VIGIL" watch --socket "$SOCK" --event alert --count 2 -o json \
	>"$T/json.out" 2>"$T/json.err" </dev/null &
W2=$!
timeout 30 "$VIGIL" watch --socket "$SOCK" -o json --count 1 \
	--filter 'evt.type = alert and container.name = rec-exit7' \
	>"$T/sel.out" 2>"$T/sel.err" </dev/null &
W3=$!
wait "$W1"; R1=$?
wait "$W2"; R2=$?
wait "$W3"; R3=$?

WANT='2026-12-06T17:39:42.633842839Z: Notice docker run: docker run --name rec-exit7 --network none vigil-test/busybox:1 sh -c /bin/busybox true; exit 7
2026-12-06T17:39:43.137023835Z: Warning Shell in container (user=0 shell=sh cmdline=sh -c /bin/busybox true; exit 7 container=rec-exit7 image=vigil-test/busybox:1 unknown=<NA>)'
[ "$R1" = 0 ] && [ "$(cat "$T/text.out")" = "$WANT" ] && grep -q "2 alerts" "$T/text.err" &&
	pass "watch --socket --event alert: exactly vigil watch --rules' two lines" ||
	{ fail "text alerts (rc=$R1)"; sed 's/^/    /' "$T/text.out" "$T/text.err"; }
SENSOR=$(jq -r '.sensor_id' <<<"$(vg_daemon_stats "$SOCK")")
H=$(hostname)
jcheck "-o json: Falco's alert objects with sub, sensor and the event's seq first" \
	"$(cat "$T/json.out")" -s \
	'length == 2 and (map(keys_unsorted[0:3]) | all(. == ["sub", "sensor", "seq"])) and
	 (map(.sensor) | all(. == $s)) and .[0].seq < .[1].seq and
	 (.[0] | .rule == "Docker run on the host" and .priority == "Notice" and
	  .tags == ["host"] and .hostname == $h and .source == "syscall" and
	  .time == "2026-12-06T17:39:42.633842839Z" and (.proc.exec_id | test("-2375-"))) and
	 (.[1] | .rule == "Shell in container" and .priority == "Warning" and
	  .output_fields["proc.name"] == "sh" and .output_fields["proc.nosuchfield"] == null and
	  (.container.id | startswith("6b8ccfa89c5c")) and .container.name == "rec-exit7")' \
	--arg s "$SENSOR" --arg h "$H"
[ "$R2" = 0 ] || fail "the JSON subscriber ended with $R2"
jcheck "a filter on alerts (evt.type = alert and container.name = ...): the one alert" \
	"$(cat "$T/sel.out")" -s \
	'length == 1 and .[0].rule == "Shell in container"'
[ "$R3" = 0 ] || { fail "the filtered subscriber ended with $R3"; cat "$T/sel.err"; }

# the exports: alerts in one, events in the other
vg_wait 10 test -s "$T/alerts.json"
jcheck "the export with events=alert: the two alerts, node/sensor/seq first" \
	"$(cat "$T/alerts.json")" -s \
	'length == 2 and (map(keys_unsorted[0:3]) | all(. == ["node", "sensor", "seq"])) and
	 ([.[].seq] == [1, 2]) and (map(.node) | all(. == "node-r")) and
	 ([.[].rule] == ["Docker run on the host", "Shell in container"])'
vg_wait 10 test -s "$T/events.json"
jcheck "an export of exec events carries no alert" "$(cat "$T/events.json")" -s \
	'length > 0 and (map(.evt.type) | all(. == "exec")) and (map(has("rule")) | any | not)'

# stats and metrics
ST=$(vg_daemon_stats "$SOCK")
jcheck "stats: rules by state, alerts by priority, no errors; exec alone traced for them" "$ST" \
	'.rules.loaded and .rules.rules == 4 and .rules.accepted == 2 and .rules.refused == 0 and
	 .rules.skipped == 1 and .rules.disabled == 1 and .rules.loads == 1 and
	 .rules.alerts.total == 2 and .rules.alerts.by_priority.Warning == 1 and
	 .rules.alerts.by_priority.Notice == 1 and .rules.errors == 0 and
	 (.traced | index("exec")) and ((.traced | index("open")) | not) and
	 ((.traced | index("connect")) | not)'
M=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics")
metric() { awk -v s="$2" '$1 == s { print $2; exit }' <<<"$1"; }
[ "$(metric "$M" 'vigil_alerts_total{priority="Warning"}')" = 1 ] &&
	[ "$(metric "$M" 'vigil_alerts_total{priority="Notice"}')" = 1 ] &&
	[ "$(metric "$M" 'vigil_alerts_total{priority="Critical"}')" = 0 ] &&
	[ "$(metric "$M" 'vigil_rules{state="accepted"}')" = 2 ] &&
	[ "$(metric "$M" 'vigil_rules{state="skipped"}')" = 1 ] &&
	[ "$(metric "$M" 'vigil_rules{state="disabled"}')" = 1 ] &&
	[ "$(metric "$M" 'vigil_alert_errors_total')" = 0 ] &&
	! grep -q 'vigil_events_total{.*type="alert"' <<<"$M" &&
	pass "metrics: vigil_alerts_total by priority, vigil_rules by state" ||
	{ fail "metrics"; grep -E 'vigil_(alert|rules)' <<<"$M" | sed 's/^/    /'; }
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <<<"$M" 2>&1) &&
		pass "promtool finds the metrics clean" || fail "promtool: $out"
fi

# ---- SIGHUP: the rule files read again
cat >>"$RULES" <<'EOF'

- rule: Read of the passwd file
  desc: a rule on opens, new at the reload
  condition: evt.type in (open, openat) and fd.name = /etc/passwd
  output: "passwd read by %proc.name"
  priority: ERROR
EOF
kill -HUP "$D_PID"
vg_wait 10 eval 'vg_daemon_stats "$SOCK" | jq -e ".rules.loads == 2" >/dev/null' &&
	ST=$(vg_daemon_stats "$SOCK") &&
	jq -e '.rules.accepted == 3 and .rules.rules == 5 and (.traced | index("open")) and
	       .rules.alerts.total == 2' <<<"$ST" >/dev/null &&
	grep -q "rules: 3 accepted, 0 refused, 1 skipped, 1 disabled" "$T/daemon.err" &&
	pass "SIGHUP with a changed rule file: taken, its rule's type (open) traced now" ||
	{ fail "reload of a changed rule file"; vg_daemon_stats "$SOCK"; tail -5 "$T/daemon.err"; }
printf -- '- rule: broken\n  condition: [\n' >>"$RULES"
kill -HUP "$D_PID"
vg_wait 10 grep -q "reloading .*nothing changed" "$T/daemon.err" &&
	grep -q "rules.yaml:[0-9]*: " "$T/daemon.err" &&
	ST=$(vg_daemon_stats "$SOCK") &&
	jq -e '.rules.loads == 2 and .rules.accepted == 3 and (.traced | index("open"))' \
		<<<"$ST" >/dev/null &&
	pass "SIGHUP with a broken rule file: the old rules kept, the file and line logged" ||
	{ fail "reload of a broken rule file"; tail -5 "$T/daemon.err"; }

kill -0 "$D_PID" 2>/dev/null && pass "the daemon is still running" || fail "the daemon died"
stop_pid "$D_PID"
[ "$STOP_RC" = 0 ] && pass "SIGTERM: exit 0" || fail "the daemon's exit status: $STOP_RC"

vg_finish
