#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters and eval bodies are single-quoted on purpose
# Integration test: the audit source (`--source audit`), for real: the
# kernel's audit, real docker containers, Debian's auditd.
#   - an exec in a docker container (docker exec, and a container started
#     after vigil): container id and name, the argv exactly (an empty
#     argument, spaces, quotes, UTF-8), the cwd; and a 20 KB argument,
#     which the kernel splits over several EXECVE records, arrives whole;
#   - open and connect (a refused one, and one to a loopback listener)
#     with path, address and port when subscribed; none when not;
#   - its rules and settings (auditctl -l; enabled, backlog_limit, pid)
#     are back as they were after --duration, SIGTERM, SIGINT, and a
#     kill -9 followed by a new start; /run/vigil/audit.state is gone
#     after each clean end. Audit is off beforehand (when no audit daemon
#     runs) and a rule of someone else's is there, so there is something
#     to restore and something to leave alone;
#   - beside a running auditd (ours, on a log in a temp dir, or the
#     system's): vigil and auditd both see a marker exec, auditd with
#     key "vigil"; auditd stays the audit daemon;
#   - file changes in a container (mkdir, a create, a rename, a delete,
#     chmod) with their paths;
#   - refused: a filter on a field audit lacks (evt.cpu, proc.tid; the
#     client side of a connect; the cwd of an open), an event type it
#     lacks (container, tp:, syscall:), and a "-a never,task" rule (not
#     removed);
#   - the same workload in a container watched by --source bpf and
#     --source audit at once: the same execs and argv; the same container
#     ids and exec ids for every process that lived long enough to be
#     read from /proc, and the others say they are incomplete (never a
#     wrong container); the same forks, each child with its host pid or,
#     reaped before audit could read it, saying so (never another pid);
#   - vigil daemon --source audit: a subscriber gets attributed execs of
#     containers; the daemon's process table of a container with a
#     process tree (its "processes" request) is the tree vigil tree reads
#     from /proc; what audit lacks is refused per subscription; SIGTERM
#     restores the rules and settings.
# Everything runs in a mount namespace without tracefs or debugfs (the
# bpf side of the comparison), as on a fresh host.
# Usage: test-audit.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init

STATE_FILE=/run/vigil/audit.state
AUD_PIDS=()          # vigils using audit: ^C first at cleanup (their rules go)
OUR_AUDITD=''        # an auditd this test started
FOREIGN_RULE=''      # the path of a rule of "someone else's" this test added
NEVER_RULE=0         # a "-a never,task" rule this test added
ORIG_ENABLED='' ORIG_BACKLOG='' CHANGED_SETTINGS=0

# aud_settings: enabled, backlog_limit and pid, as auditctl -s says.
aud_settings() {
	auditctl -s 2>/dev/null | awk '$1 == "enabled" || $1 == "backlog_limit" || $1 == "pid" { print $1 "=" $2 }' |
		sort | paste -sd' ' -
}
aud_field() { auditctl -s 2>/dev/null | awk -v f="$1" '$1 == f { print $2 }'; }
# aud_snapshot: the settings, then every rule.
aud_snapshot() {
	aud_settings
	auditctl -l 2>&1
}
aud_own_rules() { auditctl -l 2>/dev/null | grep -c 'key=vigil$'; }

# aud_cleanup: what this test changed in the kernel's audit goes back;
# quiet when there is nothing to do. Idempotent.
aud_cleanup() {
	local p
	for p in "${AUD_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		kill -INT "$p" 2>/dev/null
		vg_wait 10 eval "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null
	done
	AUD_PIDS=()
	if [ -n "$OUR_AUDITD" ] && kill -0 "$OUR_AUDITD" 2>/dev/null; then
		kill -TERM "$OUR_AUDITD" 2>/dev/null
		vg_wait 10 eval "! kill -0 $OUR_AUDITD 2>/dev/null" || kill -KILL "$OUR_AUDITD" 2>/dev/null
	fi
	OUR_AUDITD=''
	if [ "$NEVER_RULE" = 1 ]; then
		auditctl -d never,task >/dev/null 2>&1
		NEVER_RULE=0
	fi
	if [ -n "$FOREIGN_RULE" ]; then
		auditctl -W "$FOREIGN_RULE" -p wa -k vigil-it-keep >/dev/null 2>&1
		FOREIGN_RULE=''
	fi
	# a vigil that could not clean up: its rules and state file go here
	# (the state file would otherwise restore the settings of this test)
	if [ "$(aud_own_rules)" != 0 ] || { [ -e "$STATE_FILE" ] && ! pgrep -x vigil >/dev/null; }; then
		vg_info "cleanup: removing vigil's audit rules ($(aud_own_rules)) and $STATE_FILE left behind"
		auditctl -D -k vigil >/dev/null 2>&1
		pgrep -x vigil >/dev/null || rm -f "$STATE_FILE"
	fi
	if [ "$CHANGED_SETTINGS" = 1 ]; then
		auditctl -b "$ORIG_BACKLOG" >/dev/null 2>&1
		auditctl -e "$ORIG_ENABLED" >/dev/null 2>&1
		CHANGED_SETTINGS=0
	fi
}
trap 'rc=$?; aud_cleanup; (exit $rc); vg_cleanup' EXIT

aud_finish() {
	aud_cleanup
	vg_finish
}

vg_need_cmds jq timeout docker dockerd python3 auditctl auditd ausearch setsid || aud_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; aud_finish; }

# aud_watch_start NAME ARGS...: watch_start with --source audit; the
# vigil is stopped with ^C at cleanup.
aud_watch_start() {
	local name=$1; shift
	watch_start "$name" --source audit "$@" || return 1
	AUD_PIDS+=("$W_PID")
}

# args_json ARG...: the arguments as a JSON array (not through jq, whose
# --args takes an argument such as -c for its own option).
args_json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

# ---------------------------------------------------------------- preflight
vg_log "the kernel's audit, before"
if ! auditctl -s >"$VG_TMPDIR/status0" 2>&1; then
	fail "auditctl -s failed (a kernel without audit, or no CAP_AUDIT_CONTROL): $(head -c 300 "$VG_TMPDIR/status0")"
	aud_finish
fi
if auditctl -l 2>/dev/null | grep -q -- '-a never,task'; then
	fail "a \"-a never,task\" audit rule is loaded: it turns syscall auditing off for every new task, and vigil refuses to run beside it; remove it (auditctl -d never,task) and run again"
	auditctl -l | grep -- 'never,task' | sed 's/^/    /'
	aud_finish
fi
if [ "$(aud_field enabled)" = 2 ]; then
	fail "audit is locked (enabled 2, immutable until reboot): no rule can be added"
	aud_finish
fi
# A vigil killed before this run left its rules or state: its next
# start puts them right (which section 3 checks on its own).
if [ -e "$STATE_FILE" ] || [ "$(aud_own_rules)" != 0 ]; then
	vg_info "an earlier vigil left $(aud_own_rules) rules and $( [ -e "$STATE_FILE" ] && echo "$STATE_FILE" || echo "no state file"); a start of vigil puts that right"
	timeout -k 5 60 "$VIGIL" watch --source audit --event exec --duration 1 </dev/null >/dev/null 2>"$VG_TMPDIR/recover.err" ||
		{ fail "vigil could not start to recover the earlier state: $(head -c 400 "$VG_TMPDIR/recover.err")"; aud_finish; }
fi
ORIG_ENABLED=$(aud_field enabled) ORIG_BACKLOG=$(aud_field backlog_limit)
ORIG_PID=$(aud_field pid)
SYS_AUDITD=''
if [ "${ORIG_PID:-0}" != 0 ]; then
	if [ "$(cat "/proc/$ORIG_PID/comm" 2>/dev/null)" = auditd ]; then
		SYS_AUDITD=$ORIG_PID
		vg_info "the system's auditd (pid $SYS_AUDITD) is the audit daemon: vigil reads the multicast group throughout"
	else
		vg_info "pid $ORIG_PID ($(cat "/proc/$ORIG_PID/comm" 2>/dev/null || echo gone)) is registered as the audit daemon"
	fi
fi
SNAP0=$(aud_snapshot)
vg_info "audit before: $(aud_settings); $(auditctl -l | grep -vc '^No rules') rules"

if ! vg_start_dockerd || ! vg_busybox_image; then
	fail "docker daemon or image unavailable"
	aud_finish
fi
vg_sweep_stale
C1=${VG_RUN_PREFIX}a1
if ! vg_t docker run -d --name "$C1" --network none -l vigil.test=audit "$VG_IMAGE" sleep 3600 >/dev/null; then
	fail "docker run $C1"
	aud_finish
fi
C1_ID=$(vg_t docker inspect -f '{{.Id}}' "$C1")

# ------------------------------------------------------------- refusals
# What audit cannot give is refused before anything is changed.
vg_log "what the audit source lacks is refused"
for f in 'evt.cpu = 0' 'proc.tid = 1' 'evt.type = connect and fd.cport > 0' \
	'evt.type = open and proc.cwd = /tmp'; do
	field=${f##* and }; field=${field%% *}
	vg_vigil watch --source audit --filter "$f" --duration 5
	if [ "$VG_RC" = 2 ] && grep -q -- "$field" <<<"$VG_ERR" && ! grep -q '^vigil: watching' <<<"$VG_ERR"; then
		pass "--filter '$f': refused (exit 2), naming $field: $(head -n 1 <<<"$VG_ERR")"
	else
		fail "--filter '$f' with --source audit is not refused naming $field"
		vg_show
	fi
done
for t in container tp:signal:signal_generate syscall:59; do
	word=${t%%:*}
	vg_vigil watch --source audit --event "$t" --duration 5
	if [ "$VG_RC" = 2 ] && grep -q "audit.* $word\b" <<<"$VG_ERR" && ! grep -q '^vigil: watching' <<<"$VG_ERR"; then
		pass "--event $t: refused (exit 2), naming it: $(head -n 1 <<<"$VG_ERR")"
	else
		fail "--event $t with --source audit is not refused with a message naming '$word'"
		vg_show
	fi
done
[ "$(aud_own_rules)" = 0 ] && [ ! -e "$STATE_FILE" ] &&
	pass "the refusals left no rule and no state file" ||
	fail "after the refusals: $(aud_own_rules) vigil rules, state file: $(ls "$STATE_FILE" 2>&1)"

# "-a never,task": syscall auditing off for every task made while it is
# there. It is not vigil's to remove: refused, the rule kept.
if auditctl -a never,task >/dev/null 2>"$VG_TMPDIR/never.err"; then
	NEVER_RULE=1
	vg_vigil watch --source audit --event exec --duration 5
	kept=$(auditctl -l | grep -c -- '-a never,task')
	auditctl -d never,task >/dev/null 2>&1 && NEVER_RULE=0
	if [ "$VG_RC" != 0 ] && grep -q 'never,task' <<<"$VG_ERR" && [ "$kept" = 1 ] && [ "$(aud_own_rules)" = 0 ]; then
		pass "a \"-a never,task\" rule: vigil refuses (exit $VG_RC), says why, leaves the rule and adds none"
	else
		fail "with a \"-a never,task\" rule: rc=$VG_RC, the rule kept: $kept, vigil rules: $(aud_own_rules)"
		vg_show
	fi
else
	fail "auditctl -a never,task: $(head -c 300 "$VG_TMPDIR/never.err")"
fi

# ------------------------------------------------------ exec in a container
vg_log "exec in a docker container"
MARK=vg-audit-$$
if aud_watch_start exec --event exec,exit; then
	# docker exec: an sh in /etc that goes to /tmp and execs a long-lived
	# process with odd arguments
	vg_t docker exec -w /etc "$C1" /bin/busybox sh -c 'cd /tmp && exec "$0" "$@"' \
		/bin/busybox sh -c 'sleep 2' "$MARK-exec" "two words" "" 'q"uote' 'é-ü' >/dev/null 2>&1 &
	DX=$!
	# a container started now: its first process's exec
	C2=${VG_RUN_PREFIX}a2
	vg_t docker run -d --name "$C2" --network none -w /tmp "$VG_IMAGE" \
		/bin/busybox sh -c 'sleep 3' "$MARK-run" "x y" >/dev/null
	C2_ID=$(vg_t docker inspect -f '{{.Id}}' "$C2" 2>/dev/null)
	# 20,000 bytes in one argument: the kernel logs it in pieces over
	# several EXECVE records
	LONG=$(head -c 20000 /dev/zero | tr '\0' L)
	/bin/true "$MARK-long" "$LONG" end
	WANT=$(args_json /bin/busybox sh -c 'sleep 2' "$MARK-exec" "two words" "" 'q"uote' 'é-ü')
	if wait_event "the exec in $C1" '.evt.type == "exec" and .proc.args == $w' --argjson w "$WANT"; then
		jcheck "docker exec: the argv exactly, cwd /tmp, container id, name, image; no cpu or tid" "$EV" \
			'.container.id == $id and .container.name == $n and .container.image == $img and .container.runtime == "docker" and .proc.cwd == "/tmp" and .proc.args_truncated == false and .proc.args_incomplete == false and .evt.cpu == null and .proc.tid == null and (.proc.exec_id | type) == "string"' \
			--arg id "$C1_ID" --arg n "$C1" --arg img "$VG_IMAGE"
		PID1=$(jq -r .proc.pid <<<"$EV")
		jcheck "the sh before it: its argv, cwd /etc (docker exec -w), the same process" \
			"$(events '.evt.type == "exec" and .proc.pid == $p and .proc.args[3] == "cd /tmp && exec \"$0\" \"$@\""' --argjson p "$PID1" | head -n 1)" \
			'.proc.cwd == "/etc" and .container.id == $id and (.proc.args | length) == 13' --arg id "$C1_ID"
	fi
	WANT=$(args_json /bin/busybox sh -c 'sleep 3' "$MARK-run" "x y")
	if wait_event "the first exec of $C2" '.evt.type == "exec" and .proc.args == $w' --argjson w "$WANT"; then
		jcheck "a container started after vigil: its first exec, argv, cwd /tmp, id, name" "$EV" \
			'.container.id == $id and .container.name == $n and .proc.cwd == "/tmp"' --arg id "$C2_ID" --arg n "$C2"
	fi
	if wait_event "the exec with a 20 KB argument" '.evt.type == "exec" and .proc.args[1] == $m' --arg m "$MARK-long"; then
		jcheck "a 20,000-byte argument (EXECVE records in pieces) arrives whole, and the one after it" \
			"$(jq -c '.proc.args |= map(if length > 64 then "\(.[0:8])... \(length) bytes" else . end)' <<<"$EV")" \
			'.proc.args[2] == "LLLLLLLL... 20000 bytes" and .proc.args[3] == "end" and .proc.args_incomplete == false and .proc.args_truncated == false'
	fi
	wait "$DX"
	# the exit of the docker exec'd process (held ~1 s by the exit delay)
	if [ -n "${PID1:-}" ] && wait_event "the exit of the docker exec'd process" '.evt.type == "exit" and .proc.pid == $p' --argjson p "$PID1"; then
		jcheck "its exit: code 0, same container" "$EV" '.exit.code == 0 and .container.id == $id' --arg id "$C1_ID"
	fi
	watch_stop
	[ "$W_RC" = 0 ] && pass "vigil watch --source audit exits 0 on ^C" || fail "vigil watch --source audit: exit $W_RC on ^C"
	if vg_valid_json_lines "$(cat "$W_OUT")"; then pass "every line is one JSON object"; else fail "output is not JSON lines"; fi
fi
vg_t docker rm -f "${C2:-none}" >/dev/null 2>&1

# ------------------------------------------------------------- file changes
vg_log "file changes in a container"
# (no --container: a short-lived mkdir or mv may be gone before its own
# /proc files are read, and is then attributed to nothing, not dropped)
if aud_watch_start files --event file; then
	FD=/tmp/$MARK-d
	vg_t docker exec -w /tmp "$C1" /bin/busybox sh -c "mkdir $FD && cd $FD && echo x > made && mv made moved && chmod 600 moved && rm moved && cd / && rmdir $FD" >/dev/null 2>&1
	if wait_event "the rmdir of $FD" '.evt.type == "file" and .file.action == "rmdir" and .file.path == $d' --arg d "$FD"; then
		for want in "mkdir $FD" "create $FD/made" "rename $FD/moved" "chmod $FD/moved" "delete $FD/moved"; do
			a=${want%% *} f=${want#* }
			ev=$(events '.evt.type == "file" and .file.action == $a and .file.path == $f' --arg a "$a" --arg f "$f" | head -n 1)
			if [ -n "$ev" ]; then
				jcheck "file $a of $f in $C1: its path, path_source user, the container (or none, said so)" "$ev" \
					'.fd.path_source == "user" and (.container.id == $id or (.container.id == null and .container.error != null))' \
					--arg id "$C1_ID"
			else
				fail "no file $a event for $f"
			fi
		done
		jcheck "the sh's own create and rmdir: in $C1" \
			"$(events '.evt.type == "file" and (.file.path == $d or .file.path == $d + "/made") and (.file.action == "rmdir" or .file.action == "create")' --arg d "$FD" | jq -sc '[.[].container.id] | unique')" \
			'. == [$id]' --arg id "$C1_ID"
		jcheck "the rename names where from" \
			"$(events '.evt.type == "file" and .file.action == "rename" and .file.path == $d + "/moved"' --arg d "$FD" | head -n 1)" \
			'.file.from == $f' --arg f "$FD/made"
		jcheck "the chmod's mode" \
			"$(events '.evt.type == "file" and .file.action == "chmod" and .file.path == $d + "/moved"' --arg d "$FD" | head -n 1)" '.file.mode == 384'
	fi
	watch_stop
fi

# ----------------------------------------------------------- open, connect
# A host process that opens a file (by its absolute path, and by a
# relative one after chdir), connects to a listener on loopback and to a
# port nobody listens on, then waits to be told to go: alive while its
# events are attributed.
vg_log "open and connect"
NETDIR=$VG_TMPDIR/net
mkdir -p "$NETDIR/sub"
: >"$NETDIR/sub/open-target"
NET_PY='
import os, socket, sys, time
d = sys.argv[1]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(4)
lport = ls.getsockname()[1]
t = socket.socket(); t.bind(("127.0.0.1", 0)); rport = t.getsockname()[1]; t.close()
print(lport, rport, flush=True)
while not os.path.exists(d + "/go"):
    time.sleep(0.05)
os.close(os.open(d + "/sub/open-target", os.O_RDONLY))
os.chdir(d + "/sub")
os.close(os.open("open-target", os.O_RDONLY))
c = socket.socket(); c.connect(("127.0.0.1", lport)); c.close()
c = socket.socket()
try:
    c.connect(("127.0.0.1", rport))
except ConnectionRefusedError:
    pass
open(d + "/done", "w").close()
while not os.path.exists(d + "/end"):
    time.sleep(0.05)
'
# net_run NAME ARGS...: the helper under `vigil watch ARGS` (@PID@ in
# them: its pid); NET_PID, LPORT and RPORT are its pid and ports.
net_run() {
	local name=$1 a args=(); shift
	rm -f "$NETDIR/go" "$NETDIR/done" "$NETDIR/end"
	NET_PID=''
	python3 -c "$NET_PY" "$NETDIR" >"$NETDIR/ports" &
	NET_PID=$!
	vg_track_pid "$NET_PID"
	vg_wait 10 test -s "$NETDIR/ports" || { fail "$name: the helper did not start"; return 1; }
	read -r LPORT RPORT <"$NETDIR/ports"
	for a in "$@"; do args+=("${a//@PID@/$NET_PID}"); done
	aud_watch_start "$name" "${args[@]}" || return 1
	touch "$NETDIR/go"
	vg_wait 10 test -e "$NETDIR/done" || fail "$name: the helper did not finish its opens and connects"
}
net_end() {
	touch "$NETDIR/end"
	wait "$NET_PID" 2>/dev/null
}

# (only the helper's: every open of the host would be a lot to read)
if net_run netsub --event open,connect --filter 'proc.pid = @PID@'; then
	if wait_event "the open by absolute path" '.evt.type == "open" and .proc.pid == $p and .fd.path == $f' \
		--argjson p "$NET_PID" --arg f "$NETDIR/sub/open-target"; then
		jcheck "open: the path, a fd, success, O_RDONLY" "$EV" \
			'.fd.name == $f and .fd.num >= 0 and .evt_result.res == "SUCCESS" and (.fd.flags_text | startswith("O_RDONLY")) and .proc.name == "python3"' \
			--arg f "$NETDIR/sub/open-target"
	fi
	if wait_event "the relative open" '.evt.type == "open" and .proc.pid == $p and .fd.path == "open-target"' --argjson p "$NET_PID"; then
		jcheck "a relative open after chdir: the absolute path" "$EV" '.fd.name == $f' --arg f "$NETDIR/sub/open-target"
	fi
	if wait_event "the connect to the listener" '.evt.type == "connect" and .proc.pid == $p and .fd.sport == $port' \
		--argjson p "$NET_PID" --argjson port "$LPORT"; then
		jcheck "connect to a loopback listener: address, port, ipv4, success" "$EV" \
			'.fd.sip == "127.0.0.1" and .fd.family == "ipv4" and .evt_result.res == "SUCCESS"'
	fi
	if wait_event "the refused connect" '.evt.type == "connect" and .proc.pid == $p and .fd.sport == $port' \
		--argjson p "$NET_PID" --argjson port "$RPORT"; then
		jcheck "a refused connect: address, port, ECONNREFUSED" "$EV" \
			'.fd.sip == "127.0.0.1" and .evt_result.res == "ECONNREFUSED" and .evt_result.rawres == -111'
	fi
	n=$(events '.evt.type != "open" and .evt.type != "connect" and .evt.type != "lost"' | wc -l)
	[ "$n" = 0 ] && pass "--event open,connect: no event of another type" || fail "--event open,connect let $n other events through"
	watch_stop
	net_end
fi
# not subscribed: the same helper under --event exec
if net_run netunsub --event exec; then
	/bin/true "$MARK-netunsub"
	wait_event "an exec while open and connect are not subscribed" '.evt.type == "exec" and .proc.args[1] == $m' --arg m "$MARK-netunsub"
	sleep 1.5 # the opens' and connects' records would be in by now
	rules=$(auditctl -l | grep 'key=vigil$')
	watch_stop
	net_end
	n=$(events '.evt.type == "open" or .evt.type == "connect"' | wc -l)
	if [ -n "$EV" ] && [ "$n" = 0 ]; then
		pass "--event exec: no open or connect reported (the exec is)"
	else
		fail "--event exec: $n open or connect events"
		events '.evt.type == "open" or .evt.type == "connect"' | head -n 3 | cut -c1-300 | sed 's/^/    /'
	fi
	grep -qE -- '-S [^ ]*(open|connect)' <<<"$rules" &&
		vg_info "--event exec: vigil's rules still cover open or connect: $(grep -E -- 'open|connect' <<<"$rules" | tr '\n' ' ')"
fi

# ------------------------------------ the same execs through bpf and audit
# Both at once, on one workload in a container: the processes are the
# same, so are their argv, containers and exec ids; and the forks of the
# workload's processes name the same children (host pids).
vg_log "the same workload through --source bpf and --source audit"
# the marker reaches jq through the environment: a host command with it
# in its argv (the test's own jq) would be one of the workload's execs
export CMP=$MARK-cmp
SCRIPT="cd /tmp; /bin/busybox true $CMP-1 'a b'; /bin/busybox echo $CMP-2 >/dev/null;
(cd / && /bin/busybox true $CMP-3); /bin/busybox sh -c '/bin/busybox true $CMP-4';
for i in $(seq -s ' ' 5 20); do /bin/busybox sh -c 'sleep 0.2' $CMP-\$i; done;
/bin/busybox sh -c 'sleep 1' $CMP-bg & /bin/busybox true $CMP-fg; wait; exec /bin/busybox true $CMP-last"
if watch_start cmp-bpf --source bpf --event exec,fork; then
	B_PID=$W_PID B_OUT=$W_OUT B_ERR=$W_ERR
	if aud_watch_start cmp-audit --event exec,fork; then
		A_PID=$W_PID A_OUT=$W_OUT A_ERR=$W_ERR
		vg_t docker exec "$C1" sh -c "$SCRIPT" >/dev/null 2>&1
		W_OUT=$B_OUT W_ERR=$B_ERR
		wait_event "bpf: the last exec" '.evt.type == "exec" and .proc.args[2] == $ENV.CMP + "-last"'
		W_OUT=$A_OUT W_ERR=$A_ERR
		wait_event "audit: the last exec" '.evt.type == "exec" and .proc.args[2] == $ENV.CMP + "-last"'
		sleep 1.5
		W_PID=$A_PID; watch_stop
	fi
	W_PID=$B_PID; watch_stop
	# the execs whose argv carry the marker: the docker CLI on the host,
	# the script's sh, and every command it runs
	sel='select(.evt.type == "exec" and (.proc.args // [] | join(" ") | contains($ENV.CMP)))'
	for s in bpf audit; do
		out=$VG_TMPDIR/cmp-$s.out
		jq -c "$sel | {args: .proc.args, cid: .container.id, eid: .proc.exec_id,
			       cerr: .container.error, inc: (.proc.exec_id_incomplete // false)}" \
			"$out" 2>/dev/null | jq -sc 'sort_by(.args)' >"$VG_TMPDIR/cmp-$s.json"
	done
	nb=$(jq length "$VG_TMPDIR/cmp-bpf.json") na=$(jq length "$VG_TMPDIR/cmp-audit.json")
	vg_info "workload execs: $nb through bpf, $na through audit"
	# cmp_key WHAT JQ: the two sorted lists of JQ over the execs are equal
	cmp_key() {
		local what=$1 f=$2 b a
		b=$(jq -c "[.[] | $f] | sort" "$VG_TMPDIR/cmp-bpf.json")
		a=$(jq -c "[.[] | $f] | sort" "$VG_TMPDIR/cmp-audit.json")
		if [ "$nb" -ge 15 ] && [ "$b" = "$a" ]; then
			pass "bpf and audit: the same $what ($nb execs)"
		else
			fail "bpf and audit differ in $what: $(diff <(jq -c '.[]' <<<"$b") <(jq -c '.[]' <<<"$a") | grep -c '^<') of $nb execs through bpf ($na through audit); some:"
			diff <(jq -c '.[]' <<<"$b") <(jq -c '.[]' <<<"$a") | grep '^[<>]' | head -n 6 | cut -c1-300 |
				sed -e 's/^</    bpf:  /' -e 's/^>/    audit:/'
		fi
	}
	cmp_key "execs and argv" '.args'
	# exec by exec (by argv): where audit read the process's own /proc
	# files, the same container and exec id as bpf; where the process
	# was gone first, no container and the exec id flagged, never a
	# wrong one
	jq -n --slurpfile b "$VG_TMPDIR/cmp-bpf.json" --slurpfile a "$VG_TMPDIR/cmp-audit.json" '
		[$a[0][] as $x | ($b[0][] | select(.args == $x.args)) as $y |
		 {args: $x.args,
		  cid: (if $x.cid == null then (if $x.cerr != null then "unread" else "BAD" end)
			elif $x.cid == $y.cid then "same" else "BAD" end),
		  eid: (if $x.inc then "flagged" elif $x.eid == $y.eid then "same" else "BAD" end)}]' \
		>"$VG_TMPDIR/cmp-pairs.json"
	same_c=$(jq '[.[] | select(.cid == "same")] | length' "$VG_TMPDIR/cmp-pairs.json")
	same_e=$(jq '[.[] | select(.eid == "same")] | length' "$VG_TMPDIR/cmp-pairs.json")
	bad=$(jq -c '[.[] | select(.cid == "BAD" or .eid == "BAD")]' "$VG_TMPDIR/cmp-pairs.json")
	unread=$(jq '[.[] | select(.cid == "unread")] | length' "$VG_TMPDIR/cmp-pairs.json")
	vg_info "audit: $same_c execs attributed as bpf did, $unread gone before their /proc files were read (said so); $same_e exec ids as bpf's"
	if [ "$bad" = "[]" ] && [ "$same_c" -ge 16 ] && [ "$same_e" -ge 16 ]; then
		pass "bpf and audit: the same container and exec id for each exec audit could read ($same_c, $same_e of $na); the rest say they are incomplete"
	else
		fail "bpf and audit: container or exec id differ (same: $same_c containers, $same_e exec ids; wrong: $bad)"
	fi
	[ "$(jq -r '.[] | select(.args[0] == "sh") | .cid' "$VG_TMPDIR/cmp-bpf.json")" = "$C1_ID" ] ||
		fail "bpf: the script's sh is not in $C1"
	# the forks whose parent is one of the workload's processes (by bpf's
	# exec ids): the parent's exec id, the child's pid
	B_EIDS=$(jq -c '[.[].eid]' "$VG_TMPDIR/cmp-bpf.json")
	for s in bpf audit; do
		jq -c --argjson e "$B_EIDS" 'select(.evt.type == "fork" and (.proc.exec_id as $p | $e | index([$p]))) | [.proc.exec_id, .child.pid]' \
			"$VG_TMPDIR/cmp-$s.out" 2>/dev/null | sort >"$VG_TMPDIR/forks-$s"
	done
	nf=$(wc -l <"$VG_TMPDIR/forks-bpf")
	# a child in the container's pid namespace that was reaped before
	# its fork's records were read has no host pid audit can verify: it
	# says so (child.pid null, counted), never names another process.
	# The rest must be bpf's forks exactly, and every fork must be there.
	grep -v ',null\]$' "$VG_TMPDIR/forks-audit" >"$VG_TMPDIR/forks-audit-known"
	nk=$(wc -l <"$VG_TMPDIR/forks-audit-known")
	nu=$(grep -c ',null\]$' "$VG_TMPDIR/forks-audit")
	wrong=$(comm -13 "$VG_TMPDIR/forks-bpf" "$VG_TMPDIR/forks-audit-known" | head -n 4)
	if [ "$nf" -ge 8 ] && [ -z "$wrong" ] && [ $((nk * 2)) -ge "$nf" ] &&
		cmp -s <(jq -r '.[0]' "$VG_TMPDIR/forks-bpf") <(jq -r '.[0]' "$VG_TMPDIR/forks-audit"); then
		[ "$nu" -eq 0 ] || vg_info "audit: $nu of $nf children reaped before their host pid could be read (child.pid null, said so)"
		pass "bpf and audit: the same forks of the workload's processes, with the children's host pids ($nk of $nf; none wrong, none missing)"
	else
		fail "bpf and audit differ in the workload's forks ($nf through bpf, $(wc -l <"$VG_TMPDIR/forks-audit") through audit, $nk with a host pid; [parent exec id, child pid]):"
		{ diff "$VG_TMPDIR/forks-bpf" "$VG_TMPDIR/forks-audit" | grep '^<' | head -n 4
		  diff "$VG_TMPDIR/forks-bpf" "$VG_TMPDIR/forks-audit" | grep '^>' | head -n 4; } |
			sed -e 's/^</    bpf:  /' -e 's/^>/    audit:/'
	fi
fi

# ------------------------------------------------ vigil daemon --source audit
vg_log "vigil daemon --source audit"
D_SOCK=$VG_TMPDIR/run/vigil.sock D_ERR=$VG_TMPDIR/daemon.err
SNAP_D=$(aud_snapshot)
"$VIGIL" daemon --source audit --socket "$D_SOCK" 2>"$D_ERR" </dev/null &
D_PID=$!
AUD_PIDS+=("$D_PID")
vg_track_pid "$D_PID"
if ! vg_wait 30 grep -q 'daemon serving' "$D_ERR"; then
	fail "vigil daemon --source audit did not start within 30 s"
	sed 's/^/    stderr: /' "$D_ERR" | head -20
elif watch_start dsub --socket "$D_SOCK" --event exec --filter "container.name startswith $VG_RUN_PREFIX"; then
	vg_t docker exec "$C1" /bin/busybox sh -c 'cd /tmp && exec /bin/busybox sh -c "sleep 2" "$0"' "$MARK-daemon" >/dev/null 2>&1 &
	DX=$!
	C3=${VG_RUN_PREFIX}a3
	vg_t docker run -d --name "$C3" --network none "$VG_IMAGE" /bin/busybox sh -c 'sleep 3' "$MARK-daemon-run" >/dev/null
	C3_ID=$(vg_t docker inspect -f '{{.Id}}' "$C3" 2>/dev/null)
	if wait_event "through the daemon: the exec in $C1" '.evt.type == "exec" and .proc.args == ["/bin/busybox","sh","-c","sleep 2",$m]' --arg m "$MARK-daemon"; then
		jcheck "a subscriber of the daemon gets an exec in a container: sub, id, name, cwd" "$EV" \
			'.sub > 0 and .container.id == $id and .container.name == $n and .proc.cwd == "/tmp" and .evt.cpu == null' \
			--arg id "$C1_ID" --arg n "$C1"
	fi
	if wait_event "through the daemon: the first exec of $C3" '.evt.type == "exec" and .proc.args[4] == $m' --arg m "$MARK-daemon-run"; then
		jcheck "and the first exec of a container started now" "$EV" \
			'.container.id == $id and .container.name == $n' --arg id "$C3_ID" --arg n "$C3"
	fi
	wait "$DX"
	watch_stop
	# the sensor's tree of a container with a process tree, against the
	# one vigil tree reads from /proc
	vg_t docker exec -d "$C1" /bin/busybox sh -c '/bin/busybox sh -c "sleep 30 & sleep 30 & wait" & sleep 30 & wait'
	sleep 3.5 # the daemon's /proc check runs each second, exits after 3 s
	tree_proc=$("$VIGIL" tree -c "$C1" -o json | jq -sc '[.[] | .. | objects | select(has("pid")) | [.pid, .ppid]] | sort')
	tree_daemon=$(python3 - "$D_SOCK" "$C1_ID" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"req": "processes", "container": sys.argv[2]}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
r = json.loads(buf)
print(json.dumps(sorted([p["pid"], p["ppid"]] for p in r["processes"]), separators=(",", ":")))
PY
)
	n=$(jq length <<<"$tree_proc")
	if [ "$n" -ge 6 ] && [ "$tree_proc" = "$tree_daemon" ]; then
		pass "the daemon's process tree of $C1 (audit) is /proc's, as vigil tree shows it ($n processes)"
	else
		fail "the daemon's tree of $C1 differs from vigil tree's ($n processes): /proc $tree_proc, daemon $tree_daemon"
	fi
	n=$(events '(.container.name // "" | startswith($p)) | not' --arg p "$VG_RUN_PREFIX" | wc -l)
	[ "$n" = 0 ] && pass "the subscription's filter holds: only this test's containers" ||
		fail "$n events of other containers or the host through the subscription"
	for a in "--event container" "--filter evt.cpu=0"; do
		# shellcheck disable=SC2086
		vg_vigil watch --socket "$D_SOCK" $a --duration 5
		word=${a#* }; word=${word%%=*}
		if [ "$VG_RC" = 2 ] && grep -q "$word" <<<"$VG_ERR"; then
			pass "through the daemon, $a is refused naming $word: $(head -n 1 <<<"$VG_ERR")"
		else
			fail "through the daemon, $a is not refused naming $word"
			vg_show
		fi
	done
fi
vg_t docker rm -f "${C3:-none}" >/dev/null 2>&1
if kill -0 "$D_PID" 2>/dev/null; then
	kill -TERM "$D_PID"
	vg_wait 15 eval '! kill -0 $D_PID 2>/dev/null' || kill -KILL "$D_PID"
	wait "$D_PID"
	rc=$?
	after=$(aud_snapshot)
	if [ "$rc" = 0 ] && [ "$after" = "$SNAP_D" ] && [ ! -e "$STATE_FILE" ] && [ ! -e "$D_SOCK" ]; then
		pass "the daemon on SIGTERM: exit 0, socket gone, audit rules and settings as before, no state file"
	else
		fail "the daemon on SIGTERM: rc=$rc, socket: $(ls "$D_SOCK" 2>&1), state file: $(ls "$STATE_FILE" 2>&1)"
		diff <(echo "$SNAP_D") <(echo "$after") | sed 's/^/    /'
	fi
fi

# --------------------------------------------------- rules and settings back
# Before: audit off and a small backlog (when no audit daemon runs; with
# one, its settings are left alone), and a rule of someone else's.
vg_log "rules and settings restored after each way of ending"
if [ -z "$SYS_AUDITD" ] && [ "${ORIG_PID:-0}" = 0 ]; then
	CHANGED_SETTINGS=1
	auditctl -e 0 >/dev/null && auditctl -b 320 >/dev/null ||
		fail "could not set audit off and its backlog to 320 beforehand"
fi
: >"$VG_TMPDIR/keep"
FOREIGN_RULE=$VG_TMPDIR/keep
auditctl -w "$FOREIGN_RULE" -p wa -k vigil-it-keep >/dev/null || fail "could not add a rule of someone else's (a watch on $FOREIGN_RULE)"
SNAP_B=$(aud_snapshot)
vg_info "before: $(aud_settings); rules: $(auditctl -l | tr '\n' ';')"

# restore_check HOW RC: after vigil ended (HOW, exit RC), all as before.
restore_check() {
	local how=$1 rc=$2 after
	after=$(aud_snapshot)
	if [ "$rc" = 0 ] && [ "$after" = "$SNAP_B" ] && [ ! -e "$STATE_FILE" ]; then
		pass "after $how: exit 0, rules and enabled/backlog_limit/pid as before, $STATE_FILE gone"
	else
		fail "after $how: rc=$rc, state file: $(ls "$STATE_FILE" 2>&1)"
		diff <(echo "$SNAP_B") <(echo "$after") | sed 's/^/    before\/after: /'
		sed 's/^/    stderr: /' "$W_ERR" | tail -n 3
	fi
}
# running_check HOW: while vigil runs, it has changed things.
running_check() {
	local st r
	st=$(aud_settings) r=$(aud_own_rules)
	if [ "$r" -gt 0 ] && [ -e "$STATE_FILE" ] && grep -q 'enabled=1' <<<"$st" &&
		{ [ -n "$SYS_AUDITD" ] || [ "${ORIG_PID:-0}" != 0 ] || grep -q "pid=$W_PID\b" <<<"$st"; }; then
		RUNNING_OK=$((RUNNING_OK + 1))
	else
		fail "$1: while vigil runs: $r vigil rules, settings $st, state file: $(ls "$STATE_FILE" 2>&1)"
	fi
}
RUNNING_OK=0
for how in --duration SIGTERM SIGINT; do
	if [ "$how" = --duration ]; then
		aud_watch_start restore-dur --event exec,open --duration 4 || continue
	else
		aud_watch_start "restore-$how" --event exec,open || continue
	fi
	running_check "$how"
	case $how in
	--duration) vg_wait 20 eval '! kill -0 $W_PID 2>/dev/null' ;;
	*) kill "-${how#SIG}" "$W_PID"; vg_wait 20 eval '! kill -0 $W_PID 2>/dev/null' ;;
	esac
	if kill -0 "$W_PID" 2>/dev/null; then
		fail "$how: vigil watch is still running after 20 s"
		watch_stop
		continue
	fi
	wait "$W_PID"
	rc=$?
	W_PID=''
	restore_check "$how" "$rc"
done
# kill -9: nothing is restored then; the next start does it, and its own
# normal end leaves all as before.
if aud_watch_start restore-kill --event exec,open; then
	running_check "kill -9"
	kill -KILL "$W_PID"
	wait "$W_PID" 2>/dev/null
	W_PID=''
	vg_info "after kill -9: $(aud_own_rules) vigil rules left, state file: $(ls "$STATE_FILE" 2>&1), $(aud_settings)"
	[ -e "$STATE_FILE" ] || fail "after kill -9 there is no $STATE_FILE to restore from"
	if aud_watch_start restore-after-kill --event exec --duration 3; then
		[ "$(auditctl -l | grep -c 'key=vigil$')" -gt 0 ] && ! auditctl -l | grep -q 'open.*key=vigil$' ||
			fail "the start after kill -9 did not replace the dead vigil's rules (open rules are still there): $(auditctl -l | tr '\n' ';')"
		vg_wait 20 eval '! kill -0 $W_PID 2>/dev/null'
		wait "$W_PID"
		rc=$?
		W_PID=''
		restore_check "kill -9 and a new start that ends normally" "$rc"
	fi
fi
[ "$RUNNING_OK" = 4 ] && pass "each time, while vigil ran: its rules (key vigil), audit on, $STATE_FILE, and it the audit daemon (unless one runs)" ||
	fail "while running: $RUNNING_OK of 4 runs had changed the rules and settings"
# back to how the test found them
auditctl -W "$FOREIGN_RULE" -p wa -k vigil-it-keep >/dev/null 2>&1
FOREIGN_RULE=''
if [ "$CHANGED_SETTINGS" = 1 ]; then
	auditctl -b "$ORIG_BACKLOG" >/dev/null
	auditctl -e "$ORIG_ENABLED" >/dev/null
	CHANGED_SETTINGS=0
fi

# ----------------------------------------------------------- beside auditd
vg_log "beside auditd"
AUDITD_PID='' AUDITD_LOG=''
if [ -n "$SYS_AUDITD" ] && kill -0 "$SYS_AUDITD" 2>/dev/null; then
	AUDITD_PID=$SYS_AUDITD
	AUDITD_LOG=$(awk -F= '$1 ~ /^ *log_file *$/ { gsub(/ /, "", $2); print $2 }' /etc/audit/auditd.conf 2>/dev/null)
	AUDITD_LOG=${AUDITD_LOG:-/var/log/audit/audit.log}
	vg_info "the system's auditd (pid $AUDITD_PID), log $AUDITD_LOG"
elif [ "$(aud_field pid)" != 0 ]; then
	fail "another audit daemon (pid $(aud_field pid)) is registered: no auditd can be started beside vigil"
else
	# our own: its config and log in a temp dir, no plugins, written at once
	AD=$VG_TMPDIR/auditd
	mkdir -p "$AD/plugins.d"
	chmod 700 "$AD"
	cat >"$AD/auditd.conf" <<-EOF
		local_events = yes
		write_logs = yes
		log_file = $AD/audit.log
		log_group = root
		log_format = ENRICHED
		flush = DATA
		freq = 0
		max_log_file = 64
		num_logs = 2
		max_log_file_action = ROTATE
		space_left = 2
		space_left_action = IGNORE
		admin_space_left = 1
		admin_space_left_action = IGNORE
		disk_full_action = IGNORE
		disk_error_action = IGNORE
		name_format = NONE
		plugin_dir = $AD/plugins.d
		q_depth = 2000
		overflow_action = IGNORE
		end_of_event_timeout = 2
	EOF
	chmod 600 "$AD/auditd.conf"
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		exec setsid auditd -n -c "$AD" </dev/null >"$AD/auditd.out" 2>&1
	) &
	OUR_AUDITD=$!
	if vg_wait 15 eval '[ "$(aud_field pid)" = "$OUR_AUDITD" ]'; then
		AUDITD_PID=$OUR_AUDITD AUDITD_LOG=$AD/audit.log
		vg_info "started auditd -n -c $AD (pid $AUDITD_PID)"
	else
		fail "auditd did not become the audit daemon within 15 s (audit pid $(aud_field pid)):"
		sed 's/^/    auditd: /' "$AD/auditd.out" | tail -n 10
	fi
fi
if [ -n "$AUDITD_PID" ]; then
	SNAP_A=$(aud_snapshot)
	if aud_watch_start auditd --event exec; then
		[ "$(aud_field pid)" = "$AUDITD_PID" ] &&
			pass "beside auditd vigil reads the multicast group: auditd stays the audit daemon (pid $AUDITD_PID)" ||
			fail "with vigil running the audit daemon is pid $(aud_field pid), not auditd's $AUDITD_PID"
		/bin/true "$MARK-auditd"
		wait_event "vigil beside auditd: the marker exec" '.evt.type == "exec" and .proc.args == ["/bin/true", $m]' --arg m "$MARK-auditd" &&
			pass "beside auditd, vigil reports the marker exec"
		watch_stop
		if vg_wait 30 eval 'ausearch --input "$AUDITD_LOG" --key vigil --raw 2>/dev/null | grep -q -- "$MARK-auditd"'; then
			pass "auditd's log has it too, under key \"vigil\" ($AUDITD_LOG)"
		else
			fail "auditd's log ($AUDITD_LOG) has no event with key vigil for $MARK-auditd"
			grep -- "$MARK-auditd" "$AUDITD_LOG" 2>/dev/null | head -n 3 | cut -c1-300 | sed 's/^/    log: /'
		fi
		after=$(aud_snapshot)
		if [ "$W_RC" = 0 ] && [ "$after" = "$SNAP_A" ] && [ ! -e "$STATE_FILE" ]; then
			pass "vigil ended beside auditd: exit 0, auditd still the audit daemon, rules and settings as before"
		else
			fail "vigil ended beside auditd: rc=$W_RC, state file: $(ls "$STATE_FILE" 2>&1)"
			diff <(echo "$SNAP_A") <(echo "$after") | sed 's/^/    /'
		fi
	fi
	if [ -n "$OUR_AUDITD" ]; then
		kill -TERM "$OUR_AUDITD"
		vg_wait 15 eval '! kill -0 $OUR_AUDITD 2>/dev/null' || { fail "auditd did not stop on SIGTERM"; kill -KILL "$OUR_AUDITD"; }
		wait "$OUR_AUDITD" 2>/dev/null
		OUR_AUDITD=''
		vg_wait 10 eval '[ "$(aud_field pid)" = 0 ]' || fail "auditd stopped but the audit pid is $(aud_field pid)"
		# auditd switches audit on at start; put back what was found
		[ "$(aud_field enabled)" != "$ORIG_ENABLED" ] && auditctl -e "$ORIG_ENABLED" >/dev/null
		[ "$(aud_field backlog_limit)" != "$ORIG_BACKLOG" ] && auditctl -b "$ORIG_BACKLOG" >/dev/null
	fi
fi

# ---------------------------------------------------------------- the end
after=$(aud_snapshot)
if [ "$after" = "$SNAP0" ] && [ ! -e "$STATE_FILE" ]; then
	pass "audit is as the test found it: $(aud_settings), the same rules"
else
	fail "audit is not as the test found it:"
	diff <(echo "$SNAP0") <(echo "$after") | sed 's/^/    /'
fi
aud_finish
