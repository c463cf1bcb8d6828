#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: vigil's opt-in events (ptrace, socket, dup, send) from
# the eBPF sensor, for real, in a docker container (--network none: its
# own loopback), with no tracefs mounted:
#   - tests/syscall-helper attaches to a child with ptrace, calls
#     PTRACE_TRACEME, makes a packet socket, dup2()s a connected TCP socket
#     onto stdout and sends a UDP datagram on loopback: each event comes
#     with its fields, attributed to the container;
#   - the default events do not include them;
#   - Falco's stable rules (tests/fixtures/falco/falco_rules.yaml) fire
#     "PTRACE attached to process", "PTRACE anti-debug attempt", "Packet
#     socket created in container" and "Redirect STDOUT/STDIN to Network
#     Connection in Container" on that activity, with the container's id.
# Usage: test-watch-syscalls.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
HELPER=${VG_SYSCALL_HELPER:-$(dirname "$VIGIL")/tests/syscall-helper}
RULES=$HERE/../fixtures/falco/falco_rules.yaml

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq timeout docker dockerd unshare || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
[ -x "$HELPER" ] || { fail "syscall-helper not found: $HELPER (ninja builds tests/syscall-helper)"; vg_finish; }

if ! vg_start_dockerd || ! vg_busybox_image; then
	fail "docker daemon or image unavailable"
	vg_finish
fi
cp "$HELPER" "$VG_TMPDIR/syscall-helper" && chmod 755 "$VG_TMPDIR/syscall-helper"
C1=${VG_RUN_PREFIX}sc1
if ! vg_t docker run -d --name "$C1" --network none -l vigil.test=syscalls \
	-v "$VG_TMPDIR/syscall-helper:/syscall-helper:ro" "$VG_IMAGE" sleep 3600 >/dev/null; then
	fail "docker run $C1"
	vg_finish
fi
C1_ID=$(vg_t docker inspect -f '{{.Id}}' "$C1")

# ------------------------------------------------------ the events, fields
vg_log "ptrace, socket, dup and send in a container"
if watch_start sc --event ptrace,socket,dup,send --filter 'proc.name = syscall-helper'; then
	vg_t docker exec "$C1" /syscall-helper 2>"$VG_TMPDIR/helper.err" >/dev/null ||
		fail "syscall-helper in $C1: $(cat "$VG_TMPDIR/helper.err")"
	CHILD=$(sed -n 's/^attached=//p' "$VG_TMPDIR/helper.err")
	TCP_FD=$(sed -n 's/^tcp_fd=\([0-9]*\) .*/\1/p' "$VG_TMPDIR/helper.err")
	PORT=$(sed -n 's/.* port=//p' "$VG_TMPDIR/helper.err")
	UDP_FD=$(sed -n 's/^udp_fd=//p' "$VG_TMPDIR/helper.err")
	vg_info "helper: $(tr '\n' ' ' <"$VG_TMPDIR/helper.err")"
	wait_event "ptrace attach" '.evt.type == "ptrace" and .evt_args.request == "PTRACE_ATTACH"' &&
		jcheck "ptrace attach: request, target, result, container" "$EV" \
			'.evt_args.request_nr == 16 and .evt_args.pid == ($child | tonumber) and .evt_result.res == "SUCCESS" and .container.id == $id' \
			--arg child "$CHILD" --arg id "$C1_ID"
	wait_event "PTRACE_TRACEME" '.evt.type == "ptrace" and .evt_args.request == "PTRACE_TRACEME"' &&
		pass "PTRACE_TRACEME is seen"
	wait_event "packet socket" '.evt.type == "socket" and .evt_args.domain == "AF_PACKET"' &&
		jcheck "packet socket: type and container" "$EV" \
			'.evt_args.type == 3 and .container.id == $id' --arg id "$C1_ID"
	wait_event "TCP socket" '.evt.type == "socket" and .evt_args.domain == "AF_INET" and .evt_args.type == 1' &&
		jcheck "TCP socket: the fd, ipv4, tcp" "$EV" \
			'.fd.num >= 3 and .fd.type == "ipv4" and .fd.l4proto == "tcp" and .evt_result.rawres == .fd.num'
	wait_event "dup2 of the socket onto stdout" '.evt.type == "dup" and .evt_args.newfd == 1 and .fd.type == "ipv4"' &&
		jcheck "dup2: old fd, new fd 1, the socket's ends, the container" "$EV" \
			'.evt_args.syscall == "dup2" and .evt_args.oldfd == ($fd | tonumber) and .evt_result.rawres == 1 and .fd.l4proto == "tcp" and .fd.rip == "127.0.0.1" and .fd.rport == ($port | tonumber) and .fd.connected == true and .container.id == $id' \
			--arg fd "$TCP_FD" --arg port "$PORT" --arg id "$C1_ID"
	wait_event "dup2 back" '.evt.type == "dup" and .evt_args.newfd == 1 and .fd.type != "ipv4"' &&
		pass "the dup2 that puts stdout back is not a socket's"
	wait_event "UDP sendto" '.evt.type == "send"' &&
		jcheck "sendto: destination, size, not connected, udp" "$EV" \
			'.evt_args.syscall == "sendto" and .evt_args.fd == ($fd | tonumber) and .evt_args.size == 5 and .fd.sip == "127.0.0.1" and .fd.sport == ($port | tonumber) and .fd.l4proto == "udp" and .fd.connected == false and .container.id == $id' \
			--arg fd "$UDP_FD" --arg port "$PORT" --arg id "$C1_ID"
	watch_stop
	[ "$(events '.evt.type | IN("exec", "open", "fork", "exit") ' | wc -l)" = 0 ] &&
		pass "only the events asked for" || fail "other events than those asked for came"
fi

# ------------------------------------------------------------ text output
if watch_start sctext --event ptrace,dup --filter 'proc.name = syscall-helper' --output text; then
	vg_t docker exec "$C1" /syscall-helper >/dev/null 2>&1
	vg_wait 20 grep -q ' dup2 fd=' "$W_OUT" && grep -q 'PTRACE_ATTACH pid=' "$W_OUT" &&
		pass "text lines: PTRACE_ATTACH and dup2" ||
		{ fail "text lines"; head -5 "$W_OUT" | sed 's/^/    out: /'; }
	watch_stop
fi

# ----------------------------------------------- off unless named
vg_log "no opt-in event unless asked for"
if watch_start default --filter 'proc.name = syscall-helper'; then
	vg_t docker exec "$C1" /syscall-helper >/dev/null 2>&1
	sleep 1
	watch_stop
	[ "$(events '.evt.type | IN("ptrace", "socket", "dup", "send")' | wc -l)" = 0 ] &&
		pass "no opt-in event without asking" || fail "opt-in events came by default"
	[ "$(events '.evt.type == "exec"' | wc -l)" -ge 1 ] &&
		pass "the default events still came (the helper's exec)" || fail "no exec by default"
fi

# ---------------------------------------------- Falco's stable rules
vg_log "Falco's stable rules on the same activity"
if watch_start rules --rules "$RULES" --container "$C1"; then
	vg_t docker exec "$C1" /syscall-helper >/dev/null 2>&1
	for rule in "PTRACE attached to process" "PTRACE anti-debug attempt" \
		"Packet socket created in container" \
		"Redirect STDOUT/STDIN to Network Connection in Container"; do
		wait_event "rule $rule" '.rule == $r' --arg r "$rule" &&
			jcheck "alert '$rule': the container, evt.type" "$EV" \
				'.output_fields["container.id"] == ($id | .[0:12]) or .container.id == $id' --arg id "$C1_ID"
	done
	watch_stop
fi

vg_finish
