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
#   - its bounds: a half-closed subscriber, a per-uid cap, idle clients,
#     subscription churn, a pipeliner that never reads, running out of fds;
#   - the socket's directory: one that others may write, or a symlink
#     planted where the socket goes, is refused; vigil watch does not trust
#     a "daemon" that is not root's;
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
VG_REPLAY=$HERE/../fixtures/recordings/docker-lifecycle.rec
D_ERR=$VG_TMPDIR/daemon.err
"$VIGIL" daemon --socket "$SOCK" --group nogroup --max-clients-per-uid 600 --idle-timeout 600 2>"$D_ERR" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if ! vg_wait 30 grep -q 'daemon serving' "$D_ERR"; then
	fail "vigil daemon did not start within 30 s"
	sed 's/^/    stderr: /' "$D_ERR" | head -20
	vg_finish
fi

# CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19), CAP_PERFMON (38), CAP_BPF (39);
# every subscription below attaches programs after the drop
vg_check_caps "vigil daemon" "$D_PID" 2 19 38 39

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

vg_log "the socket's directory"
mkdir -m 1777 "$VG_TMPDIR/ww"
"$VIGIL" daemon --socket "$VG_TMPDIR/ww/vigil.sock" >/dev/null 2>"$VG_TMPDIR/ww.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "writable by others: refusing" "$VG_TMPDIR/ww.err" && [ ! -e "$VG_TMPDIR/ww/vigil.sock" ] &&
	pass "a world-writable socket directory is refused, with the reason" ||
	{ fail "daemon in a world-writable directory: rc=$rc"; cat "$VG_TMPDIR/ww.err"; }
ln -s "$VG_TMPDIR/ww" "$VG_TMPDIR/ww-link"
"$VIGIL" daemon --socket "$VG_TMPDIR/ww-link/vigil.sock" >/dev/null 2>"$VG_TMPDIR/wwl.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "writable by others" "$VG_TMPDIR/wwl.err" &&
	pass "a symlink to such a directory is refused too" ||
	{ fail "daemon through a symlinked directory: rc=$rc"; cat "$VG_TMPDIR/wwl.err"; }
mkdir -m 755 "$VG_TMPDIR/theirs" && chown 65534 "$VG_TMPDIR/theirs"
"$VIGIL" daemon --socket "$VG_TMPDIR/theirs/vigil.sock" >/dev/null 2>"$VG_TMPDIR/theirs.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "owned by another user" "$VG_TMPDIR/theirs.err" &&
	pass "a socket directory another user owns is refused" ||
	{ fail "daemon in another user's directory: rc=$rc"; cat "$VG_TMPDIR/theirs.err"; }
mkdir -m 755 "$VG_TMPDIR/planted"
printf 'keep' >"$VG_TMPDIR/target"
ln -s "$VG_TMPDIR/target" "$VG_TMPDIR/planted/vigil.sock"
"$VIGIL" daemon --socket "$VG_TMPDIR/planted/vigil.sock" >/dev/null 2>"$VG_TMPDIR/planted.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q "not a socket" "$VG_TMPDIR/planted.err" && [ -L "$VG_TMPDIR/planted/vigil.sock" ] &&
	[ "$(cat "$VG_TMPDIR/target")" = keep ] && [ "$(stat -c %U "$VG_TMPDIR/target")" = root ] &&
	pass "a symlink planted where the socket goes: refused, neither it nor its target touched" ||
	{ fail "planted symlink: rc=$rc"; cat "$VG_TMPDIR/planted.err"; }
rm -rf "$VG_TMPDIR/fresh-run"
"$VIGIL" daemon --socket "$VG_TMPDIR/fresh-run/vigil.sock" --source "replay:$VG_REPLAY" \
	>/dev/null 2>"$VG_TMPDIR/fresh.err" </dev/null &
F_PID=$!
vg_track_pid "$F_PID"
vg_wait 10 grep -q 'daemon serving' "$VG_TMPDIR/fresh.err"
perm=$(stat -c '%a %U' "$VG_TMPDIR/fresh-run" 2>/dev/null)
[ "$perm" = "755 root" ] && pass "a missing socket directory is made root's, 0755 ($perm)" ||
	{ fail "the socket directory made: $perm"; cat "$VG_TMPDIR/fresh.err"; }
kill "$F_PID" 2>/dev/null; wait "$F_PID" 2>/dev/null

# a listener that is not root's, where vigil watch looks for the daemon
mkdir -m 777 "$VG_TMPDIR/fake"
PY=$(python3 -c 'import sys; print(sys.executable)')
setpriv --reuid 65534 --regid 65534 --clear-groups "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept()
    try: c.sendall(b"{\"reply\":\"subscribe\",\"sub\":1}\n")
    except OSError: pass
    c.close()
' "$VG_TMPDIR/fake/vigil.sock" &
FAKE_PID=$!
vg_track_pid "$FAKE_PID"
vg_wait 10 test -S "$VG_TMPDIR/fake/vigil.sock"
out=$("$VIGIL" watch --socket "$VG_TMPDIR/fake/vigil.sock" --count 1 --duration 3 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "runs as uid 65534, not root" <<<"$out" &&
	pass "vigil watch --socket refuses a daemon that is not root's" ||
	fail "watch against a non-root listener: rc=$rc: $out"
out=$(VIGIL_SOCKET=$VG_TMPDIR/fake/vigil.sock "$VIGIL" watch --event exec --duration 1 2>&1 >/dev/null </dev/null)
rc=$?
[ "$rc" = 0 ] && grep -q "not root: not a vigil daemon to trust; running the sensor here" <<<"$out" &&
	pass "found by \$VIGIL_SOCKET, it is not heard: the sensor runs here, and says why" ||
	fail "watch with VIGIL_SOCKET at a non-root listener: rc=$rc: $out"
kill "$FAKE_PID" 2>/dev/null

# The bounds, against daemons of their own over a recording (no kernel
# state is needed to hold a client, and none is disturbed)
vg_log "bounds per client"
L_SOCK=$VG_TMPDIR/limits/vigil.sock
"$VIGIL" daemon --socket "$L_SOCK" --source "replay:$VG_REPLAY" --max-clients-per-uid 4 \
	--idle-timeout 2 >/dev/null 2>"$VG_TMPDIR/limits.err" </dev/null &
L_PID=$!
vg_track_pid "$L_PID"
if vg_wait 10 grep -q 'daemon serving' "$VG_TMPDIR/limits.err"; then
	relay < <(timeout 120 python3 "$HERE/daemon-check.py" --limits "$L_SOCK" "$L_PID" 2>&1)
	[ "$RELAYED" = 10 ] || fail "the bounds check did not finish ($RELAYED of 10 verdicts)"
else
	fail "the daemon over a recording did not start"; cat "$VG_TMPDIR/limits.err"
fi
kill "$L_PID" 2>/dev/null; wait "$L_PID" 2>/dev/null

vg_log "out of fds"
E_SOCK=$VG_TMPDIR/emfile/vigil.sock
"$VIGIL" daemon --socket "$E_SOCK" --source "replay:$VG_REPLAY" --max-clients-per-uid 0 \
	>/dev/null 2>"$VG_TMPDIR/emfile.err" </dev/null &
E_PID=$!
vg_track_pid "$E_PID"
if vg_wait 10 grep -q 'daemon serving' "$VG_TMPDIR/emfile.err"; then
	nfd=$(ls /proc/$E_PID/fd | wc -l)
	prlimit --pid "$E_PID" --nofile=$((nfd + 4)):$((nfd + 4))
	relay < <(timeout 60 python3 "$HERE/daemon-check.py" --out-of-fds "$E_SOCK" "$E_PID" 2>&1)
	[ "$RELAYED" = 2 ] || fail "the out-of-fds check did not finish ($RELAYED of 2 verdicts)"
else
	fail "the daemon over a recording did not start"; cat "$VG_TMPDIR/emfile.err"
fi
kill "$E_PID" 2>/dev/null; wait "$E_PID" 2>/dev/null

kill -0 "$D_PID" 2>/dev/null && pass "the daemon is still running" || fail "the daemon died"
kill -TERM "$D_PID"
vg_wait 10 eval '! kill -0 $D_PID 2>/dev/null'
wait "$D_PID"
rc=$?
[ "$rc" = 0 ] && [ ! -e "$SOCK" ] && pass "SIGTERM: exit 0, socket removed" ||
	{ fail "SIGTERM: rc=$rc"; tail -5 "$D_ERR"; }
vg_finish
