#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: the config file, --check-config, SIGHUP and the logs
# of `vigil daemon` and `vigil server` (no eBPF: the daemon serves a
# recording, so this test shares nothing with the kernel's tracing).
#   - --check-config: 0 and "FILE: ok" for a good file; 2 and every
#     error with its FILE:LINE for a bad one; an explicit missing file
#     and a broken policy are errors;
#   - the daemon takes its socket from the file; a flag overrides it;
#   - SIGHUP changes the log level and format live; a changed key that
#     needs a restart is named; a file with errors changes nothing;
#   - vigil server: a SIGHUP reload of the policy flips a client from
#     allowed to denied; a broken policy, or none at all, keeps the old
#     one and says why;
#   - --log-format json: every line of stderr is an object jq parses,
#     with ts, level, cmd and msg.
# Usage: test-config.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds jq timeout || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

REC=$HERE/../fixtures/recordings/docker-lifecycle.rec
[ -r "$REC" ] || { fail "recording not found: $REC"; vg_finish; }
T=$VG_TMPDIR
mkdir -p "$T/run" && chmod 755 "$T" "$T/run"
# no file but the ones named here: the host's /etc/vigil is not read
export VIGIL_CONFIG=$T/no-such.conf

# all_json FILE: every non-empty line is a log object
all_json() {
	[ -s "$1" ] && jq -enR '[inputs | select(length > 0) | (try fromjson catch "BAD")
		| type == "object" and (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))
		and (.level | IN("error","warning","info","debug")) and (.cmd | type == "string")
		and (.msg | type == "string")] | length > 0 and all' <"$1" >/dev/null 2>&1
}

# stop_pid PID: SIGTERM, bounded wait; its exit status in STOP_RC
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	vg_wait 10 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	STOP_RC=$?
}

# ------------------------------------------------------------ --check-config
vg_log "--check-config"
GOOD=$T/good.conf
cat >"$GOOD" <<EOF
# the daemon's section
[daemon]
socket = $T/run/file.sock
source = replay:$REC
allow-uid = 1000
allow-uid = 1001 ; a second one
no-metadata = true
log-level = warning

[server]
socket = $T/run/peer.sock
workers = 2
EOF
vg_vigil daemon --config "$GOOD" --check-config
[ "$VG_RC" = 0 ] && [ "$VG_OUT" = "$GOOD: ok" ] &&
	pass "--check-config: a good file is 'FILE: ok', exit 0" || { fail "--check-config on a good file"; vg_show; }
[ ! -e "$T/run/file.sock" ] && pass "--check-config starts nothing (no socket)" ||
	fail "--check-config made the socket"
vg_vigil server --config "$GOOD" --check-config
[ "$VG_RC" = 0 ] && [ "$VG_OUT" = "$GOOD: ok" ] &&
	pass "vigil server --check-config: its section is ok" || { fail "server --check-config"; vg_show; }

BAD=$T/bad.conf
cat >"$BAD" <<EOF
[daemon]
sockt = $T/run/x.sock
ring-size = 3
socket = $T/run/a.sock
socket = $T/run/b.sock
peercred = true
no-metadata = maybe
EOF
vg_vigil daemon --config "$BAD" --check-config
want=("$BAD:2: unknown key 'sockt' in [daemon]; did you mean 'socket'?"
      "$BAD:3: --ring-size takes a power of two"
      "$BAD:5: 'socket' is set already, on line 4"
      "$BAD:6: unknown key 'peercred' in [daemon]"
      "$BAD:7: 'no-metadata' takes true or false, not 'maybe'")
missing=
for w in "${want[@]}"; do grep -qF -- "$w" <<<"$VG_ERR" || missing+=" [$w]"; done
[ "$VG_RC" = 2 ] && [ -z "$missing" ] &&
	pass "--check-config: a bad file exits 2 with every error at its FILE:LINE" ||
	{ fail "--check-config on a bad file: rc=$VG_RC, missing:$missing"; vg_show; }
[ -z "$VG_OUT" ] && pass "--check-config says nothing is ok when it is not" || { fail "stdout on a bad file"; vg_show; }

vg_vigil daemon --config "$T/absent.conf" --check-config
[ "$VG_RC" = 2 ] && grep -q "$T/absent.conf: No such file" <<<"$VG_ERR" &&
	pass "an explicit --config that is missing exits 2" || { fail "missing --config"; vg_show; }
vg_vigil daemon --check-config
[ "$VG_RC" = 0 ] && pass "the default file, absent, is no error ($VG_OUT)" || { fail "absent default file"; vg_show; }

POL=$T/policy
printf 'allow user.uid = 0\n' >"$POL"
printf 'allow user.uid = 0\npermit everyone\n' >"$T/bad-policy"
printf '[server]\npolicy = %s\n' "$T/bad-policy" >"$T/srv-bad.conf"
vg_vigil server --config "$T/srv-bad.conf" --check-config
[ "$VG_RC" = 2 ] && grep -q "bad-policy:2" <<<"$VG_ERR" &&
	pass "server --check-config compiles the policy and names its bad line" || { fail "server --check-config policy"; vg_show; }
vg_vigil daemon --config "$GOOD" --check-config --group vigil-no-such-group
[ "$VG_RC" = 2 ] && grep -q "no group 'vigil-no-such-group'" <<<"$VG_ERR" &&
	pass "--check-config checks what the start checks (the group)" || { fail "check-config group"; vg_show; }
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$T/huge.conf"
vg_vigil daemon --config "$T/huge.conf" --check-config
[ "$VG_RC" = 2 ] && grep -q "larger than" <<<"$VG_ERR" &&
	pass "a 2 MiB config file is refused" || { fail "2 MiB config"; vg_show; }

# ------------------------------------------------------------ the daemon
vg_log "vigil daemon with a config file"
D_ERR=$T/daemon.err
"$VIGIL" daemon --config "$GOOD" --log-level info --group nogroup 2>"$D_ERR" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if vg_wait 15 grep -q "daemon serving $T/run/file.sock" "$D_ERR" && [ -S "$T/run/file.sock" ]; then
	pass "the daemon takes its socket from the file"
else
	fail "the daemon did not serve the file's socket"; sed 's/^/    stderr: /' "$D_ERR" | head
fi
# the command line's --log-level info beat the file's warning
grep -q '^vigil: daemon serving' "$D_ERR" && pass "a flag overrides the file (--log-level info over warning)" ||
	fail "the info line is missing"
stop_pid "$D_PID"
[ "$STOP_RC" = 0 ] && [ ! -e "$T/run/file.sock" ] && pass "SIGTERM: exit 0, the socket removed" ||
	fail "daemon stop: rc=$STOP_RC"

"$VIGIL" daemon --config "$GOOD" --socket "$T/run/flag.sock" --group nogroup 2>"$D_ERR" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if vg_wait 15 eval '[ -S "$T/run/flag.sock" ]' && [ ! -e "$T/run/file.sock" ]; then
	pass "--socket on the command line overrides the file's"
else
	fail "--socket did not override the file"; sed 's/^/    stderr: /' "$D_ERR" | head
fi
# the file says warning: the info line is held back
sleep 0.5
! grep -q 'daemon serving' "$D_ERR" && pass "log-level = warning from the file holds back info lines" ||
	{ fail "info line at level warning"; sed 's/^/    stderr: /' "$D_ERR" | head; }

vg_log "SIGHUP"
LIVE=$T/live.conf
sed -e 's/^log-level = warning/log-level = debug\nlog-format = json/' \
	-e "s|^socket = $T/run/file.sock|socket = $T/run/moved.sock|" "$GOOD" >"$LIVE"
cp "$LIVE" "$T/live-next.conf"
cp "$GOOD" "$LIVE"
stop_pid "$D_PID"
"$VIGIL" daemon --config "$LIVE" --group nogroup 2>"$D_ERR" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
vg_wait 15 eval '[ -S "$T/run/file.sock" ]' || fail "the daemon for SIGHUP did not start"
mv "$T/live-next.conf" "$LIVE"
kill -HUP "$D_PID"
if vg_wait 10 grep -q '"msg":"reloaded ' "$D_ERR"; then
	pass "SIGHUP: the reload is logged, as JSON once the file says json"
else
	fail "no reload line"; sed 's/^/    stderr: /' "$D_ERR" | head
fi
grep '^{' "$D_ERR" >"$T/json.err"
all_json "$T/json.err" && pass "every JSON log line parses with jq (ts, level, cmd, msg)" ||
	{ fail "JSON log lines"; sed 's/^/    /' "$T/json.err" | head; }
jq -se --arg s "'socket' changed: it takes effect at the next restart" \
	'any(.[]; .level == "warning" and .cmd == "daemon" and (.msg | contains($s)))' \
	"$T/json.err" >/dev/null 2>&1 && pass "a changed key that needs a restart is named" ||
	{ fail "no restart warning for socket"; sed 's/^/    /' "$T/json.err" | head; }
jq -se 'any(.[]; .msg | test("log level debug, format json"))' "$T/json.err" >/dev/null 2>&1 &&
	pass "the new level and format are live" || fail "level/format not applied"
kill -0 "$D_PID" 2>/dev/null && [ -S "$T/run/file.sock" ] && [ ! -e "$T/run/moved.sock" ] &&
	pass "the daemon serves on after SIGHUP, on its old socket" || fail "the daemon after SIGHUP"

# a file with errors changes nothing: still JSON, still debug
printf '[daemon]\nlog-format = text\nlog-level = loud\n' >"$LIVE"
n0=$(wc -l <"$D_ERR")
kill -HUP "$D_PID"
if vg_wait 10 eval 'tail -n +$((n0 + 1)) "$D_ERR" | grep -q "nothing changed"'; then
	tail -n +$((n0 + 1)) "$D_ERR" >"$T/bad-reload.err"
	if all_json "$T/bad-reload.err" && grep -qF "$LIVE:3: --log-level takes error, warning, info or debug, not 'loud'" "$T/bad-reload.err"; then
		pass "a reload with errors logs them (FILE:LINE) and changes nothing (still JSON)"
	else
		fail "bad reload"; sed 's/^/    /' "$T/bad-reload.err"
	fi
else
	fail "bad reload: no 'nothing changed'"; sed 's/^/    stderr: /' "$D_ERR" | tail -5
fi

# level error, text: the reload's own info line is not shown
printf '[daemon]\nsocket = %s\nsource = replay:%s\nlog-level = error\n' "$T/run/file.sock" "$REC" >"$LIVE"
n0=$(wc -l <"$D_ERR")
kill -HUP "$D_PID"
sleep 1
printf '[daemon]\nbogus = 1\n' >"$LIVE"
kill -HUP "$D_PID"
if vg_wait 10 eval 'tail -n +$((n0 + 1)) "$D_ERR" | grep -q "^vigil: error: .*nothing changed"'; then
	if tail -n +$((n0 + 1)) "$D_ERR" | grep -q 'reloaded\|^{'; then
		fail "info or JSON lines at level error, text"; tail -n +$((n0 + 1)) "$D_ERR" | sed 's/^/    /'
	else
		pass "SIGHUP to level error, text: info held back, errors say their level"
	fi
else
	fail "level error, text"; tail -n +$((n0 + 1)) "$D_ERR" | sed 's/^/    /'
fi
stop_pid "$D_PID"
[ "$STOP_RC" = 0 ] && pass "the daemon stops cleanly after reloads" || fail "daemon exit after reloads: $STOP_RC"

# ------------------------------------------------------------ vigil server
vg_log "vigil server: the policy reloaded"
SCONF=$T/server.conf
SOCK=$T/run/peer.sock
printf '[server]\nsocket = %s\npolicy = %s\nlog-format = json\n' "$SOCK" "$POL" >"$SCONF"
S_ERR=$T/server.err
"$VIGIL" server --config "$SCONF" >"$T/server.log" 2>"$S_ERR" </dev/null &
S_PID=$!
vg_track_pid "$S_PID"
vg_wait 10 eval '[ -S "$SOCK" ] && grep -q listening "$S_ERR"' || { fail "vigil server did not start"; sed 's/^/    /' "$S_ERR"; }

vg_vigil client --socket "$SOCK" -o json
jcheck "policy 'allow user.uid = 0': a root client is allowed" "$VG_OUT" '.allowed == true and (.reason | test("line 1"))'
printf '# now\ndeny user.uid = 0\n' >"$POL"
kill -HUP "$S_PID"
vg_wait 10 grep -q '"msg":"reloaded ' "$S_ERR" || fail "server: no reload line"
vg_vigil client --socket "$SOCK" -o json
jcheck "after SIGHUP, the new policy denies the same client" "$VG_OUT" '.allowed == false and (.reason | test("line 2"))'
[ "$VG_RC" = 1 ] || fail "vigil client denied: exit $VG_RC, not 1"

printf 'allow user.uid = 0\nallow bogus.field = 1\n' >"$POL"
n0=$(wc -l <"$S_ERR")
kill -HUP "$S_PID"
if vg_wait 10 eval 'tail -n +$((n0 + 1)) "$S_ERR" | grep -q "nothing changed"'; then
	tail -n +$((n0 + 1)) "$S_ERR" >"$T/srv-bad.err"
	grep -q "policy:2: unknown field 'bogus.field'" "$T/srv-bad.err" && grep -q "the policy stays $POL" "$T/srv-bad.err" &&
		pass "a bad policy on SIGHUP is logged with its line and the old one stays" ||
		{ fail "bad policy reload message"; sed 's/^/    /' "$T/srv-bad.err"; }
else
	fail "bad policy reload: nothing logged"; tail -5 "$S_ERR" | sed 's/^/    /'
fi
vg_vigil client --socket "$SOCK" -o json
jcheck "the old policy still decides: still denied" "$VG_OUT" '.allowed == false'

printf '[server]\nsocket = %s\nlog-format = json\n' "$SOCK" >"$SCONF"
n0=$(wc -l <"$S_ERR")
kill -HUP "$S_PID"
vg_wait 10 eval 'tail -n +$((n0 + 1)) "$S_ERR" | grep -q "no policy any more"' &&
	pass "dropping the policy from the file is refused until a restart" || { fail "policy removal"; tail -5 "$S_ERR"; }
vg_vigil client --socket "$SOCK" -o json
jcheck "without a policy in the file, the old one still denies" "$VG_OUT" '.allowed == false'

all_json "$S_ERR" && pass "vigil server --log-format json: every stderr line parses with jq" ||
	{ fail "server JSON logs"; sed 's/^/    /' "$S_ERR" | head; }
stop_pid "$S_PID"
[ "$STOP_RC" = 0 ] && jq -se 'any(.[]; .msg | test("^stopped: "))' "$S_ERR" >/dev/null 2>&1 &&
	pass "the server stops cleanly and reports its counters as JSON" || fail "server stop: rc=$STOP_RC"

vg_finish
