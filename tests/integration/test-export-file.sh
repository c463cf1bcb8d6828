#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: the daemon's file export (no eBPF: the daemon serves a
# recording, so this test shares nothing with the kernel's tracing).
#   - rotation: no file passes max-size but by a line alone, a file is
#     rotated only when the next line would not fit, every line is whole
#     JSON with node, sensor and seq first, and the seqs of all files are
#     1..N once each, in order;
#   - retention: keep=K leaves exactly K rotated files, the newest ones;
#   - a directory that does not exist: every event counted lost, the
#     reason in the export's state, the daemon and the other exports
#     unaffected;
#   - a full disk (a 64 KiB tmpfs): what did not fit is counted lost, no
#     line is cut, sent + lost = offered;
#   - stats and metrics agree, and promtool finds the metrics clean;
#   - --check-config and a bad --export say what is wrong; SIGHUP swaps
#     an export's filter live and names a changed target as needing a
#     restart; SIGTERM ends the daemon cleanly.
# Usage: test-export-file.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds jq timeout python3 curl promtool mount umount || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

REC=$HERE/../fixtures/recordings/docker-lifecycle.rec
[ -r "$REC" ] || { fail "recording not found: $REC"; vg_finish; }
T=$VG_TMPDIR
export VIGIL_CONFIG=$T/no-such.conf
export NODE_NAME=node-a
# the test's exit status through the unmount (which fails when finish()
# did it already)
trap 'rc=$?; umount -l "$T/full" 2>/dev/null; (exit "$rc"); vg_cleanup' EXIT
# the small file system goes before the temp dir does
finish() {
	umount -l "$T/full" 2>/dev/null
	vg_finish
}



# export_field SOCK NAME FIELD
export_field() {
	vg_daemon_stats "$1" | jq -r --arg n "$2" --arg f "$3" '.exports[] | select(.name == $n) | .[$f]'
}

# stop_pid PID: SIGTERM, bounded wait; its exit status in STOP_RC
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	vg_wait 10 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	STOP_RC=$?
}

# Every offered event has reached its export: the recording is through.
settled() { # SOCK NAME
	local st
	st=$(vg_daemon_stats "$1") || return 1
	jq -e --arg n "$2" '.exports[] | select(.name == $n) |
		.offered > 0 and .offered == .sent + .lost + .queue_lost and .queued == 0' \
		<<<"$st" >/dev/null && [ "$(jq '[.events[]] | add' <<<"$st")" = "$PREV_EVENTS" ]
}

# wait_settled SOCK NAME: until the counts stop moving (bounded)
wait_settled() {
	PREV_EVENTS=-1
	local _
	for _ in $(seq 1 50); do
		settled "$1" "$2" && return 0
		PREV_EVENTS=$(vg_daemon_stats "$1" | jq '[.events[]] | add')
		sleep 0.3
	done
	return 1
}

mkdir -p "$T/all" "$T/kept" "$T/full"
mount -t tmpfs -o size=64k,mode=0755 vigil-test-full "$T/full" ||
	{ fail "mounting a small tmpfs"; finish; }
MPORT=$(vg_free_port)
SOCK=$T/d.sock
"$VIGIL" daemon --socket "$SOCK" --source "replay:$REC" --idle-timeout 0 \
	--state-dir "$T/state" --metrics "127.0.0.1:$MPORT" --log-level warning \
	--export "all file $T/all/ev.json max-size=4k keep=1000 fsync=every" \
	--export "kept file $T/kept/ev.json max-size=2k keep=3" \
	--export "nodir file $T/no/such/dir/ev.json" \
	--export "full file $T/full/ev.json max-size=1M" \
	--export "execs file $T/execs.json events=exec filter=\"proc.name != \\\"nope\\\"\"" \
	>"$T/daemon.log" 2>&1 &
DPID=$!
vg_track_pid "$DPID"
vg_wait 20 test -S "$SOCK" || { fail "the daemon did not start"; cat "$T/daemon.log"; finish; }
wait_settled "$SOCK" all || fail "the export 'all' did not settle"
ST=$(vg_daemon_stats "$SOCK")
OFFERED=$(jq '.exports[] | select(.name == "all") | .offered' <<<"$ST")
vg_info "$OFFERED events offered to each export"
[ "${OFFERED:-0}" -ge 50 ] || fail "too few events from the recording: $OFFERED"

# ------------------------------------------------------------ rotation
vg_log "rotation, sizes, whole lines, sequence"
python3 - "$T/all/ev.json" 4096 "$OFFERED" <<'EOF' >"$T/rot.out"
import glob, json, os, sys
base, cap, offered = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(glob.glob(base + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1])) + [base]
seqs, bad = [], []
prev_last_len = None
for i, p in enumerate(files):
    data = open(p, "rb").read()
    if not data.endswith(b"\n"):
        bad.append(p + ": does not end with a newline")
    lines = data.split(b"\n")[:-1]
    for ln in lines:
        try:
            o = json.loads(ln)
        except Exception:
            bad.append(p + ": a line that is not JSON")
            continue
        if list(o)[:3] != ["node", "sensor", "seq"] or o["node"] != "node-a":
            bad.append(p + ": node, sensor, seq are not first")
        seqs.append(o["seq"])
    if len(data) > cap and len(lines) > 1:
        bad.append("%s: %d bytes, over max-size with %d lines" % (p, len(data), len(lines)))
    # rotated only when the next line did not fit
    if i + 1 < len(files):
        nxt = open(files[i + 1], "rb").read().split(b"\n")[0]
        if len(data) + len(nxt) + 1 <= cap:
            bad.append("%s: rotated early (%d + %d fits)" % (p, len(data), len(nxt) + 1))
print("files", len(files))
print("seqs_ok", seqs == list(range(1, offered + 1)))
print("bad", len(bad))
for b in bad[:5]:
    print(" ", b)
EOF
cat "$T/rot.out"
[ "$(awk '/^files/ {print $2}' "$T/rot.out")" -ge 5 ] && pass "max-size=4k rotated into several files" ||
	fail "max-size=4k made too few files"
grep -q '^seqs_ok True' "$T/rot.out" && pass "seq 1..$OFFERED once each, in order across the files" ||
	fail "the seqs across the files are not 1..$OFFERED"
grep -q '^bad 0' "$T/rot.out" && pass "no file over max-size but for a line alone, none rotated early, every line whole JSON" ||
	fail "rotation broke a rule (see above)"

# ------------------------------------------------------------ retention
vg_log "retention"
wait_settled "$SOCK" kept || fail "the export 'kept' did not settle"
n_kept=$(find "$T/kept" -name 'ev.json.*' | wc -l)
[ "$n_kept" = 3 ] && [ -f "$T/kept/ev.json.3" ] && [ ! -e "$T/kept/ev.json.4" ] &&
	pass "keep=3: exactly ev.json.1..3 beside ev.json" ||
	fail "keep=3 left $n_kept rotated files: $(ls "$T/kept")"
last=$(cat "$T/kept/ev.json.3" "$T/kept/ev.json.2" "$T/kept/ev.json.1" "$T/kept/ev.json" | jq -s '[.[].seq]')
jq -e --argjson n "$OFFERED" '. == [range(.[0]; $n + 1)] and .[-1] == $n and .[0] > 1' <<<"$last" >/dev/null &&
	pass "the kept files are the newest: seq $(jq '.[0]' <<<"$last")..$OFFERED, contiguous" ||
	fail "the kept files are not the newest, contiguous: $last"

# ------------------------------------------------------------ bad directory
vg_log "a directory that does not exist"
nd=$(jq -c '.exports[] | select(.name == "nodir")' <<<"$(vg_daemon_stats "$SOCK")")
vg_info "$nd"
jq -e --argjson n "$OFFERED" '.offered == $n and .lost == $n and .sent == 0 and
	(.connected | not) and (.state | test("^down: open .*/no/such/dir/ev.json: No such file or directory"))' \
	<<<"$nd" >/dev/null && pass "a missing directory: all $OFFERED counted lost, the state says why" ||
	fail "a missing directory is not reported right: $nd"
[ ! -e "$T/no" ] && pass "the missing directory is not made" || fail "the export made the missing directory"
kill -0 "$DPID" 2>/dev/null && pass "the daemon runs on" || fail "the daemon died"

# ------------------------------------------------------------ full disk
vg_log "a full disk"
wait_settled "$SOCK" full || fail "the export 'full' did not settle"
fd=$(jq -c '.exports[] | select(.name == "full")' <<<"$(vg_daemon_stats "$SOCK")")
vg_info "$fd"
jq -e '.lost > 0 and .sent > 0 and .offered == .sent + .lost and
	(.state | test("No space left on device"))' <<<"$fd" >/dev/null &&
	pass "a full disk: losses counted, sent + lost = offered, the state says ENOSPC" ||
	fail "a full disk is not reported right: $fd"
sent=$(jq .sent <<<"$fd")
lines=$(jq -c . "$T/full/ev.json" 2>/dev/null | wc -l)
[ "$(tail -c 1 "$T/full/ev.json" | od -An -c | tr -d ' ')" = '\n' ] && [ "$lines" = "$sent" ] &&
	pass "the full disk's file holds $sent whole lines, none cut" ||
	fail "the full disk's file: $lines JSON lines for $sent sent, or a cut line"

# ------------------------------------------------------------ filters
n_exec=$(jq -s '[.[] | select(.evt.type != "exec")] | length' "$T/execs.json")
n_all=$(jq -s 'length' "$T/execs.json")
want=$(jq '.events.exec // 0' <<<"$(vg_daemon_stats "$SOCK")")
[ "$n_exec" = 0 ] && [ "$n_all" = "$want" ] && [ "$n_all" -gt 0 ] &&
	pass "events=exec with a filter: the $want execs, nothing else" ||
	fail "events=exec: $n_all lines ($n_exec not exec), $want execs dispatched"

# ------------------------------------------------------------ metrics
vg_log "metrics"
M=$(curl -sf "http://127.0.0.1:$MPORT/metrics")
printf '%s\n' "$M" | promtool check metrics >"$T/promtool.out" 2>&1 &&
	pass "promtool check metrics: clean" || { fail "promtool check metrics"; cat "$T/promtool.out"; }
m_sent=$(printf '%s\n' "$M" | awk '$1 == "vigil_export_sent_events_total{export=\"all\",kind=\"file\"}" {print $2}')
m_lost=$(printf '%s\n' "$M" | awk '$1 == "vigil_export_lost_events_total{export=\"nodir\",kind=\"file\"}" {print $2}')
[ "$m_sent" = "$OFFERED" ] && [ "$m_lost" = "$OFFERED" ] &&
	pass "metrics: vigil_export_sent_events_total and _lost_ agree with stats" ||
	fail "metrics: sent '$m_sent', lost '$m_lost', stats $OFFERED"

stop_pid "$DPID"
[ "$STOP_RC" = 0 ] && pass "SIGTERM: the daemon ends with 0" || fail "SIGTERM: exit $STOP_RC"

# ------------------------------------------------------------ configuration
vg_log "configuration"
CONF=$T/v.conf
cat >"$CONF" <<EOF
[daemon]
socket = $T/c.sock
source = replay:$REC
state-dir = $T/state

[export one]
kind = file
target = $T/one.json
events = exec
EOF
out=$("$VIGIL" daemon --config "$CONF" --check-config 2>&1) && grep -q ': ok$' <<<"$out" &&
	pass "--check-config: an [export] section is fine" || fail "--check-config: $out"
printf 'keep = lots\nfilter = proc.name ==\n' >>"$CONF"
out=$("$VIGIL" daemon --config "$CONF" --check-config 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q "v.conf:1[01]: export one:" <<<"$out" &&
	pass "--check-config: a bad key of an [export] section, with FILE:LINE" ||
	fail "--check-config of a bad section: $rc: $out"
out=$("$VIGIL" daemon --socket "$T/x.sock" --export 'a file /x "unclosed' 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q 'quote at column 11 is not closed' <<<"$out" &&
	pass "a bad --export: exit 2 and the column" || fail "a bad --export: $rc: $out"
out=$("$VIGIL" daemon --socket "$T/x.sock" --export 'a pigeon x' 2>&1)
[ $? = 2 ] && grep -q "unknown kind 'pigeon'" <<<"$out" &&
	pass "an unknown kind is refused" || fail "an unknown kind: $out"

# SIGHUP: the filter swapped live, a new target named for a restart
head -n 9 "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
"$VIGIL" daemon --config "$CONF" --idle-timeout 0 >"$T/c.log" 2>&1 &
CPID=$!
vg_track_pid "$CPID"
vg_wait 20 test -S "$T/c.sock" || { fail "the configured daemon did not start"; cat "$T/c.log"; }
sed -i 's/^events = exec$/events = exit/; s#^target = .*#target = '"$T"'/two.json#' "$CONF"
kill -HUP "$CPID"
vg_wait 10 grep -q "export one: its events, filter and selection changed" "$T/c.log" &&
	pass "SIGHUP: the export's events changed live" || fail "SIGHUP: no live change: $(cat "$T/c.log")"
grep -q "export one: its kind, target, queue or the kind's keys changed: that takes effect at the next restart" "$T/c.log" &&
	pass "SIGHUP: a changed target is named as needing a restart" ||
	fail "SIGHUP: the target change not named: $(cat "$T/c.log")"
stop_pid "$CPID"
[ "$STOP_RC" = 0 ] && pass "the configured daemon ends with 0" || fail "the configured daemon: exit $STOP_RC"

finish
