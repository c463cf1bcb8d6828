#!/usr/bin/env bash
# Integration test: `vigil daemon`, for real (root, eBPF).
#   - the socket: mode 0660, the group asked for, a second daemon refused;
#   - hello; two subscribers with different filters get exactly their own
#     events; unsubscribe stops delivery and detaches what no one needs;
#   - a SIGSTOPped subscriber does not hold up another, the daemon's memory
#     stays bounded, and it is told what it lost when it reads again;
#   - bad clients: invalid JSON, unknown requests, a 10 MiB line, binary
#     garbage, half-open connections, 500 clients at once, a uid that is not
#     allowed. The checks themselves are in daemon-check.py;
#   - ten subscribers and two open storms while the daemon is held
#     (SIGSTOP): it counts what it loses and still answers a new client
#     within 2 s;
#   - all of it in a mount namespace without tracefs or debugfs, as on a
#     fresh host.
# Usage: test-daemon.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds python3 bpftool setpriv || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

SOCK=$VG_TMPDIR/run/vigil.sock
D_ERR=$VG_TMPDIR/daemon.err
"$VIGIL" daemon --socket "$SOCK" --group nogroup 2>"$D_ERR" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if ! vg_wait 30 grep -q 'daemon serving' "$D_ERR"; then
	fail "vigil daemon did not start within 30 s"
	sed 's/^/    stderr: /' "$D_ERR" | head -20
	vg_finish
fi

# the unauthorized-uid check connects as nobody: let it reach the socket
chmod 711 "$VG_TMPDIR" "$VG_TMPDIR/run"

vg_log "the socket"
perm=$(stat -c '%a %U %G %F' "$SOCK")
[ "$perm" = "660 root nogroup socket" ] && pass "the socket is 0660 root:nogroup ($perm)" ||
	fail "socket mode/owner: $perm"
"$VIGIL" daemon --socket "$SOCK" >/dev/null 2>"$VG_TMPDIR/second.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "another vigil daemon" "$VG_TMPDIR/second.err" &&
	pass "a second daemon on the same socket is refused" ||
	{ fail "second daemon: rc=$rc"; cat "$VG_TMPDIR/second.err"; }

printf 'precious' >"$VG_TMPDIR/not-a-socket"
"$VIGIL" daemon --socket "$VG_TMPDIR/not-a-socket" >/dev/null 2>"$VG_TMPDIR/third.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "not a socket" "$VG_TMPDIR/third.err" &&
	[ "$(cat "$VG_TMPDIR/not-a-socket")" = precious ] &&
	pass "a file that is not a socket is refused, not removed" ||
	{ fail "daemon over a regular file: rc=$rc"; cat "$VG_TMPDIR/third.err"; }

# relay < LINES: daemon-check.py's verdicts counted as ours, the rest
# shown indented; RELAYED is how many verdicts there were.
relay() {
	local line
	RELAYED=0
	while IFS= read -r line; do
		case $line in
		PASS:*) pass "${line#PASS: }"; RELAYED=$((RELAYED + 1)) ;;
		FAIL:*) fail "${line#FAIL: }"; RELAYED=$((RELAYED + 1)) ;;
		*) printf '    %s\n' "$line" ;;
		esac
	done
}

vg_log "clients"
relay < <(timeout 300 python3 "$HERE/daemon-check.py" "$SOCK" "$D_PID" 2>&1)

vg_log "vigil watch through the daemon"
W_OUT=$VG_TMPDIR/via.out W_ERR=$VG_TMPDIR/via.err
"$VIGIL" watch --socket "$SOCK" --path "$VG_TMPDIR/via-*" --count 1 -o json >"$W_OUT" 2>"$W_ERR" </dev/null &
W_PID=$!
vg_track_pid "$W_PID"
if vg_wait 10 grep -q 'watching through the daemon' "$W_ERR"; then
	: >"$VG_TMPDIR/via-x"
	vg_wait 10 eval '! kill -0 $W_PID 2>/dev/null'
	jcheck "vigil watch uses the daemon when its socket answers (--path as a filter)" \
		"$(head -n 1 "$W_OUT")" '.sub > 0 and .fd.name == $p' --arg p "$VG_TMPDIR/via-x"
else
	fail "vigil watch --socket did not subscribe"; cat "$W_ERR"
fi
kill "$W_PID" 2>/dev/null
"$VIGIL" watch --socket "$SOCK" --pid 1 --count 1 >/dev/null 2>&1
[ $? = 2 ] && pass "what the daemon cannot serve (--pid) is a usage error with --socket" ||
	fail "watch --socket --pid"

# A refused peer learns why, whether the daemon closes before or after its
# request is written (before, the write raised SIGPIPE: exit 141).
S_MODE=$(stat -c %a "$SOCK")
chmod 666 "$SOCK"
refused=0 other=""
for _ in $(seq 20); do
	out=$(setpriv --reuid 65534 --regid 54321 --clear-groups \
		"$VIGIL" watch --socket "$SOCK" --count 1 --duration 5 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'unauthorized: uid 65534' <<<"$out"; then
		refused=$((refused + 1))
	else
		other="rc=$rc: $out"
	fi
done
chmod "$S_MODE" "$SOCK"
[ "$refused" = 20 ] && pass "vigil watch as an unauthorized uid: exit 2 and the daemon's reason (20 of 20)" ||
	fail "vigil watch as an unauthorized uid: $refused of 20 refused cleanly; $other"

# Ten subscribers to every open and two open storms, one per CPU, and the
# daemon held a moment so that its ring fills: it is behind, and must
# still answer a new client promptly.
vg_log "a daemon that falls behind still answers"
STORM_FILE=$VG_TMPDIR/storm-file
: >"$STORM_FILE"
if vg_build_storm; then
	relay < <(timeout 120 python3 "$HERE/daemon-check.py" --behind "$SOCK" "$VG_STORM_BIN" "$STORM_FILE" "$D_PID" 2>&1)
	[ "$RELAYED" = 2 ] || fail "the check of a daemon that falls behind did not finish ($RELAYED of 2 verdicts)"
fi

kill -0 "$D_PID" 2>/dev/null && pass "the daemon is still running" || fail "the daemon died"
kill -TERM "$D_PID"
vg_wait 10 eval '! kill -0 $D_PID 2>/dev/null'
wait "$D_PID"
rc=$?
[ "$rc" = 0 ] && [ ! -e "$SOCK" ] && pass "SIGTERM: exit 0, socket removed" ||
	{ fail "SIGTERM: rc=$rc"; tail -5 "$D_ERR"; }
vg_finish
