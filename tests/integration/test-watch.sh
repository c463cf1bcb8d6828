#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: `vigil watch`, the eBPF sensor, for real.
#   - an exec inside a docker container: container id, name, image, the
#     whole argv (1,000 arguments; 200 KiB of arguments; the largest one
#     argument the kernel takes, 128 KiB) and the exit with its code;
#   - a process started before vigil watch is attributed when it execs;
#   - `cat /foo` in a busybox container is seen with --image 'busy*'
#     --path '*foo*', also in a container started after vigil watch, and
#     a host process opening the same path is not;
#   - relative opens (after chdir, and against a directory fd) report the
#     absolute path;
#   - connect/accept/listen to 127.0.0.1 inside a --network none
#     container, and a refused connect with its errno;
#   - everything runs in a mount namespace without tracefs or debugfs, as
#     on a fresh host: the default events (an open and an exec), and
#     tp:, with no tracefs mount added here or on the host;
#   - a 4 KiB ring buffer and a reader held with SIGSTOP under an open
#     storm: the lost counts printed equal the kernel's counters, and
#     delivered + lost = operations;
#   - open storms and a reader that is behind (held, then let go): --duration
#     and ^C still end it;
#   - container lifecycle (created, running, exited, destroyed) of docker,
#     containerd and podman containers that exit with a chosen code or are
#     killed with SIGKILL, embedded and through the daemon;
#   - vigil watch inside a docker container (host pid namespace, the
#     host's / at /host, capabilities instead of --privileged);
#   - a tracepoint by name (signal:signal_generate) with decoded fields;
#   - text output, --count, bad arguments, and a user without the
#     capabilities.
# Usage: test-watch.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq timeout docker dockerd python3 bpftool setpriv unshare || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

# ---------------------------------------------------------------- setup
if ! vg_start_dockerd || ! vg_busybox_image; then
	fail "docker daemon or image unavailable"
	vg_finish
fi
C1=${VG_RUN_PREFIX}w1
if ! vg_t docker run -d --name "$C1" --network none -l vigil.test=watch \
	"$VG_IMAGE" sleep 3600 >/dev/null; then
	fail "docker run $C1"
	vg_finish
fi
C1_ID=$(vg_t docker inspect -f '{{.Id}}' "$C1")

# A process that exists before vigil watch starts, and execs later.
vg_t docker exec "$C1" rm -f /tmp/go
vg_t docker exec -d "$C1" sh -c \
	'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec /bin/busybox echo pre-existing-marker'
PRE_PID=''
vg_wait 10 eval 'PRE_PID=$(pgrep -f "while \[ ! -e /tmp/go \]" | head -n 1); [ -n "$PRE_PID" ]' ||
	fail "the pre-existing process did not start"

# ------------------------------------------ the default events, no tracefs
# What a fresh host gives: no tracefs. vigil reads its tracepoints
# through a private mount that no mount table shows, here or on the host.
vg_log "default events without tracefs"
MT_NS=$(vg_mounts_of_type tracefs | wc -l) MT_HOST=$(vg_mounts_of_type tracefs 1 | wc -l)
DEF_FILE=$VG_TMPDIR/default-open-marker
: >"$DEF_FILE"
if watch_start default; then
	cat "$DEF_FILE" >/dev/null
	/bin/true default-exec-marker
	wait_event "an open with the default events" '.evt.type == "open" and .fd.name == $f' --arg f "$DEF_FILE" &&
		pass "the default events deliver an open without tracefs mounted"
	wait_event "an exec with the default events" '.evt.type == "exec" and .proc.args[1] == "default-exec-marker"' &&
		pass "the default events deliver an exec without tracefs mounted"
	[ "$(vg_mounts_of_type tracefs | wc -l)" = "$MT_NS" ] && [ "$(vg_mounts_of_type tracefs 1 | wc -l)" = "$MT_HOST" ] &&
		pass "no tracefs mount appeared in this namespace's or the host's mount table" ||
		fail "a tracefs mount appeared: here $(vg_mounts_of_type tracefs | tr '\n' ' '), host $(vg_mounts_of_type tracefs 1 | tr '\n' ' ')"
	grep -q 'tracefs was mounted' "$W_ERR" && fail "vigil said it mounted tracefs: $(cat "$W_ERR")"
	# CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_PERFMON, CAP_BPF
	vg_check_caps "vigil watch" "$W_PID" 2 19 38 39
	watch_stop
fi

# ------------------------------------------------ exec, argv and exit codes
vg_log "exec and exit in a docker container"
if watch_start exec --event exec,exit --container "$C1"; then
	vg_t docker exec "$C1" touch /tmp/go
	if wait_event "pre-existing process" '.evt.type == "exec" and .proc.args[2] == "pre-existing-marker"'; then
		jcheck "a process started before vigil watch is attributed when it execs" "$EV" \
			'.proc.pid == $p and .container.id == $id and .container.name == $n and (.proc.exec_id | type) == "string" and .proc.parent_exec_id != null' \
			--argjson p "${PRE_PID:-0}" --arg id "$C1_ID" --arg n "$C1"
	fi

	vg_t docker exec "$C1" sh -c 'exit 3'
	if wait_event "exec of sh -c 'exit 3'" '.evt.type == "exec" and .proc.args == ["sh","-c","exit 3"]'; then
		jcheck "exec in a container: container id, name, image, labels, argv" "$EV" \
			'.container.id == $id and .container.name == $n and .container.image == $img and .container.runtime == "docker" and .container.labels["vigil.test"] == "watch" and .proc.args_truncated == false and .evt.time != null and .proc.exe != null' \
			--arg id "$C1_ID" --arg n "$C1" --arg img "$VG_IMAGE"
		SH_PID=$(jq -r .proc.pid <<<"$EV")
		if wait_event "exit of sh -c 'exit 3'" '.evt.type == "exit" and .proc.pid == $p' --argjson p "$SH_PID"; then
			jcheck "its exit has code 3 and the same exec_id" "$EV" \
				'.exit.code == 3 and .exit.signal == null and .container.id == $id' --arg id "$C1_ID"
		fi
	fi

	mapfile -t MANY < <(seq -f 'arg%g' 1 1000)
	vg_t docker exec "$C1" /bin/busybox true "${MANY[@]}"
	if wait_event "exec with 1,000 arguments" '.evt.type == "exec" and .proc.args[2] == "arg1"'; then
		jcheck "1,000 arguments arrive whole, not truncated" "$EV" \
			'(.proc.args | length) == 1002 and .proc.args[1001] == "arg1000" and .proc.args_truncated == false'
	fi

	# One argument is at most 128 KiB with its NUL (MAX_ARG_STRLEN), so
	# 200 KiB of arguments is two of 100 KiB; then the largest one.
	A=$(head -c 102400 /dev/zero | tr '\0' a)
	B=$(head -c 102400 /dev/zero | tr '\0' b)
	M=$(head -c 131071 /dev/zero | tr '\0' m)
	vg_t docker exec "$C1" /bin/busybox true big-args "$A" "$B" "$M"
	if wait_event "exec with 330 KiB of arguments" '.evt.type == "exec" and .proc.args[2] == "big-args"'; then
		jcheck "200 KiB of arguments and a 128 KiB one arrive whole" "$EV" \
			'(.proc.args | length) == 6 and (.proc.args[3] | length) == 102400 and (.proc.args[3] | test("^a+$")) and (.proc.args[4] | length) == 102400 and (.proc.args[4] | test("^b+$")) and (.proc.args[5] | length) == 131071 and .proc.args_truncated == false'
	fi
	# Nothing from outside the container.
	/bin/true host-exec-marker
	sleep 1
	watch_stop
	[ "$W_RC" = 0 ] && pass "vigil watch exits 0 on ^C" || fail "vigil watch exit status $W_RC on ^C"
	if grep -qE '^vigil: [0-9]+ events, 0 lost$' "$W_ERR"; then
		pass "it reports its event count and no loss"
	else
		fail "final report"; sed 's/^/    stderr: /' "$W_ERR" | tail -3
	fi
	n=$(events '.container.id != $id' --arg id "$C1_ID" | wc -l)
	if [ "$n" = 0 ]; then
		pass "--container: no event from elsewhere"
	else
		fail "--container let $n other events through"
		events '.container.id != $id' --arg id "$C1_ID" | head -n 4 | cut -c1-600 | sed 's/^/    /'
	fi
	if vg_valid_json_lines "$(cat "$W_OUT")"; then pass "every line is one JSON object"; else fail "output is not JSON lines"; fi
fi

# ------------------------------------ where the executed file lives
# From the inode the kernel executes: an overlay's lower layer (the
# image), its upper layer (written in the container), a memfd, a file.
vg_log "exec: the executable's origin (overlay layer, memfd, file)"
vg_t docker exec "$C1" busybox cp /bin/busybox /tmp/true || fail "cp busybox in $C1"
if watch_start origin --event exec; then
	vg_t docker exec "$C1" /bin/busybox true origin-lower
	vg_t docker exec "$C1" /tmp/true origin-upper
	python3 -c '
import os
fd = os.memfd_create("vigil-test", 0)
with open("/bin/true", "rb") as f:
    os.write(fd, f.read())
os.execv("/proc/self/fd/%d" % fd, ["true", "origin-memfd"])' || fail "exec from a memfd"
	/bin/true origin-file
	if wait_event "exec from the image" '.proc.args[2] == "origin-lower"'; then
		jcheck "a program of the image: exe_origin lower" "$EV" \
			'.proc.exe_origin == "lower" and .proc.exe == "/bin/busybox" and .container.id == $id' \
			--arg id "$C1_ID"
	fi
	if wait_event "exec of a file written in the container" '.proc.args[1] == "origin-upper"'; then
		jcheck "a binary copied into the container: exe_origin upper, its path in the container" "$EV" \
			'.proc.exe_origin == "upper" and .proc.exe == "/tmp/true" and .container.id == $id' \
			--arg id "$C1_ID"
	fi
	if wait_event "exec from a memfd" '.proc.args[1] == "origin-memfd"'; then
		jcheck "a memfd: exe_origin memfd, exe memfd:NAME (the kernel's dentry name)" "$EV" \
			'.proc.exe_origin == "memfd" and .proc.exe == "memfd:vigil-test" and .container.id == "host"'
	fi
	if [ "$(stat -f -c %T /)" = overlayfs ]; then
		vg_info "skipped: a host file's origin (this host's root is itself an overlay)"
	elif wait_event "exec of a host file" '.proc.args == ["/bin/true", "origin-file"]'; then
		jcheck "a host program: exe_origin file" "$EV" '.proc.exe_origin == "file"'
	fi
	watch_stop
fi

# ------------------------------------------- the Capsule8 quickstart: /foo
vg_log "--image 'busy*' --path '*foo*'"
C2=${VG_RUN_PREFIX}w2
if watch_start foo --image 'busy*' --path '*foo*'; then
	vg_t docker exec "$C1" cat /foo 2>/dev/null
	cat /foo 2>/dev/null
	# A container that starts now: selected from its cgroup's creation.
	vg_t docker run --name "$C2" --network none "$VG_IMAGE" sh -c 'sleep 0.5; cat /foo' 2>/dev/null
	C2_ID=$(vg_t docker inspect -f '{{.Id}}' "$C2")
	if wait_event "cat /foo in the running container" '.evt.type == "open" and .container.id == $id' --arg id "$C1_ID"; then
		jcheck "cat /foo in $C1: path, ENOENT, container, image" "$EV" \
			'.fd.name == "/foo" and .fd.path == "/foo" and .evt_result.res == "ENOENT" and .proc.name == "cat" and .container.image == $img' \
			--arg img "$VG_IMAGE"
	fi
	if wait_event "cat /foo in a container started after vigil watch" '.evt.type == "open" and .container.id == $id' --arg id "$C2_ID"; then
		jcheck "a container started later is followed" "$EV" '.fd.name == "/foo" and .container.name == $n' --arg n "$C2"
	fi
	sleep 0.5
	watch_stop
	n=$(events '.container.id == "host"' | wc -l)
	[ "$n" = 0 ] && pass "the host's cat /foo is not reported" || fail "$n host events reported"
	n=$(events '.fd.name != null and (.fd.name | test("foo") | not)' | wc -l)
	[ "$n" = 0 ] && pass "--path lets only matching paths through" || fail "--path let $n others through"
fi

# ---------------------------------------------------------- relative opens
vg_log "relative opens"
RD=$VG_TMPDIR/reldir
mkdir -p "$RD/sub"
echo x >"$RD/sub/rel-target"
if watch_start rel --event open --path '*rel-target*'; then
	(cd "$RD" && cat sub/rel-target >/dev/null)
	python3 -c 'import os, sys; d = os.open(sys.argv[1], os.O_RDONLY); os.close(os.open("rel-target", os.O_RDONLY, dir_fd=d))' "$RD/sub"
	if wait_event "open after chdir" '.evt.type == "open" and .fd.path == "sub/rel-target"'; then
		jcheck "a relative open after chdir reports the absolute path" "$EV" \
			'.fd.name == $abs and .fd.num >= 0 and .evt_result.res == "SUCCESS" and .fd.dirfd == -100' \
			--arg abs "$RD/sub/rel-target"
	fi
	if wait_event "openat against a directory fd" '.evt.type == "open" and .fd.path == "rel-target"'; then
		jcheck "openat(dirfd, relative) reports the absolute path" "$EV" \
			'.fd.name == $abs and .fd.dirfd >= 0 and .proc.name == "python3"' --arg abs "$RD/sub/rel-target"
	fi
	watch_stop
fi

# ------------------------------------------------ network, --network none
vg_log "connect, accept, listen in a --network none container"
if watch_start net --event connect,accept,bind,listen --container "$C1"; then
	vg_t docker exec "$C1" sh -c \
		'nc -l -p 7777 >/dev/null & sleep 0.5; echo hi | nc -w 2 127.0.0.1 7777; nc -w 2 127.0.0.1 7778 </dev/null; wait' 2>/dev/null
	if wait_event "connect to 127.0.0.1:7777" '.evt.type == "connect" and .fd.sport == 7777'; then
		jcheck "connect: addresses, port, result, container" "$EV" \
			'.fd.sip == "127.0.0.1" and .fd.l4proto == "tcp" and .fd.family == "ipv4" and .evt_result.res == "SUCCESS" and .container.id == $id and .fd.cip == "127.0.0.1" and .fd.cport > 0' \
			--arg id "$C1_ID"
	fi
	if wait_event "refused connect to 7778" '.evt.type == "connect" and .fd.sport == 7778'; then
		jcheck "a refused connect reports ECONNREFUSED" "$EV" \
			'.evt_result.res == "ECONNREFUSED" and .evt_result.rawres == -111'
	fi
	wait_event "listen on 7777" '.evt.type == "listen" and .fd.sport == 7777' &&
		pass "listen on 7777 reported"
	if wait_event "accept on 7777" '.evt.type == "accept" and .fd.sport == 7777'; then
		# busybox nc listens on [::], so the peer is IPv4-mapped
		jcheck "accept: the client's address and the new fd" "$EV" \
			'(.fd.cip == "127.0.0.1" or .fd.cip == "::ffff:127.0.0.1") and .fd.num >= 0 and .fd.cport > 0'
	fi
	watch_stop
fi

# ------------------------------------------ a tiny ring buffer, an open storm
# The reader is held (SIGSTOP) while the storm runs, so the ring fills
# and the loss is certain, whatever the machine's speed.
vg_log "4 KiB ring buffer and a held reader under an open storm"
N=20000
GO=$VG_TMPDIR/storm-go
STORM_FILE=$VG_TMPDIR/storm-file
: >"$STORM_FILE"
python3 -c '
import os, sys, time
go, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
open(go + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
for _ in range(n):
    os.close(os.open(path, os.O_RDONLY))
' "$GO" "$STORM_FILE" "$N" &
STORM_PID=$!
vg_track_pid "$STORM_PID"
# started up (its own opens done) before vigil watch attaches
vg_wait 15 test -e "$GO.ready" || fail "the storm process did not start"
if watch_start storm --event open --pid "$STORM_PID" --ring-size 4096; then
	kill -STOP "$W_PID"
	touch "$GO"
	wait "$STORM_PID"
	kill -CONT "$W_PID"
	sleep 1.5 # a lost record is printed each second
	# The kernel's own counters: the per-CPU 'lost' map of this vigil.
	KLOST=''
	for id in $(awk '/^map_id:/ { print $2 }' /proc/"$W_PID"/fdinfo/* 2>/dev/null | sort -u); do
		if [ "$(bpftool map show id "$id" -j 2>/dev/null | jq -r .name)" = lost ]; then
			KLOST=$(bpftool map dump id "$id" -j | jq '[.[].formatted.values[].value] | add')
		fi
	done
	watch_stop
	DELIVERED=$(events '.evt.type == "open" and .fd.name == $f' --arg f "$STORM_FILE" | wc -l)
	PRINTED=$(events '.evt.type == "lost"' | jq -s '[.[].lost.total] | add // 0')
	OPEN_LOST=$(events '.evt.type == "lost"' | jq -s '[.[].lost.open // 0] | add // 0')
	FINAL=$(sed -nE 's/^vigil: [0-9]+ events, ([0-9]+) lost$/\1/p' "$W_ERR")
	vg_info "storm: $N opens, $DELIVERED delivered, lost: kernel ${KLOST:-?}, lost records $PRINTED (open $OPEN_LOST), final ${FINAL:-?}"
	if [ -n "$KLOST" ] && [ "$KLOST" -gt 0 ]; then
		pass "a 4 KiB ring buffer with its reader held loses events, and the kernel counted them"
	else
		fail "no loss counted by the kernel (${KLOST:-no map})"
	fi
	[ "$PRINTED" = "$KLOST" ] && pass "lost records add up to the kernel's count ($KLOST)" ||
		fail "lost records say $PRINTED, the kernel $KLOST"
	[ "$FINAL" = "$KLOST" ] && pass "the final report says the same" || fail "final report says ${FINAL:-nothing}"
	[ $((DELIVERED + OPEN_LOST)) = "$N" ] &&
		pass "delivered + lost opens = the storm's $N opens" ||
		fail "delivered $DELIVERED + lost $OPEN_LOST != $N"
fi

# ------------------------- argv chunks lost: never bytes not received
# The reader is held while execs with 60 KB of argv each run: their
# argv chunks (16,000 bytes) overflow a 64 KiB ring while the small exec
# records still fit, so some execs arrive with chunks missing. Each argv
# element is one letter repeated, so anything shown that was not
# received (a stale buffer, another exec's bytes) is seen.
vg_log "argv chunks lost in a 64 KiB ring: only what was received"
MARK=$VG_TMPDIR/lostchunk-marker
cp /bin/true "$MARK"
GO2=$VG_TMPDIR/exec-go
python3 -c '
import os, subprocess, sys, time
go, mark = sys.argv[1], sys.argv[2]
open(go + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
for _ in range(40):
    subprocess.run([mark, "A" * 20000, "B" * 20000, "C" * 20000])
' "$GO2" "$MARK" &
EX_PID=$!
vg_track_pid "$EX_PID"
vg_wait 15 test -e "$GO2.ready" || fail "the exec storm did not start"
if watch_start lostchunk --event exec --ring-size 65536; then
	kill -STOP "$W_PID"
	touch "$GO2"
	wait "$EX_PID"
	kill -CONT "$W_PID"
	sleep 1.5
	watch_stop
	EXECS=$(events '.evt.type == "exec" and .proc.exe == $m' --arg m "$MARK")
	N_EX=$(jq -s length <<<"$EXECS")
	N_INC=$(jq -s '[.[] | select(.proc.args_incomplete == true)] | length' <<<"$EXECS")
	# every element shown is its letter only, and no longer than sent
	BAD=$(jq -c 'select([.proc.args[1:][] ] as $a | [range(0; $a | length)] |
		any(. as $i | ($a[$i] | test("^" + (["A","B","C"][$i]) + "*$") | not) or
		    ($a[$i] | length) > 20000))' <<<"$EXECS" | head -3)
	vg_info "exec storm: $N_EX of 40 execs seen, $N_INC with argv incomplete"
	[ "$N_INC" -gt 0 ] && pass "execs whose argv chunks were lost arrive marked args_incomplete ($N_INC of $N_EX)" ||
		fail "no exec with lost argv chunks among $N_EX: the case was not made"
	[ -z "$BAD" ] && [ "$N_EX" -gt 0 ] &&
		pass "no argv shows a byte that was not received (each element its letter only)" ||
		fail "an argv with bytes not sent: $BAD"
	INC_FULL=$(jq -c 'select(.proc.args_incomplete == true and ([.proc.args[1:][] | length] | add // 0) >= 60000)' <<<"$EXECS" | head -1)
	[ -z "$INC_FULL" ] && pass "an incomplete argv is shorter than what was sent" ||
		fail "an exec marked incomplete shows all of its argv: $INC_FULL"
fi

# ------------------------- a reader that is behind still answers
# Two open storms, one per CPU, fill the ring while the reader is held
# (SIGSTOP) past its --duration: when it runs again it is behind by a
# full ring, and stays so while the storms outpace it (text output is
# the slower one). It must stop at once, not when it has caught up or
# the storms end, and count what it lost. The same for ^C.
vg_log "a reader behind open storms: --duration and ^C still hold"
if vg_build_storm; then
	: >"$STORM_FILE"
	STORMS=()
	for i in 1 2; do
		"$VG_STORM_BIN" open 100000000 "$STORM_FILE" >/dev/null 2>"$VG_TMPDIR/storm-$i.err" &
		STORMS+=("$!")
		vg_track_pid "$!"
	done
	sleep 0.5
	kill -0 "${STORMS[@]}" 2>/dev/null ||
		fail "a storm process ended early: $(cat "$VG_TMPDIR"/storm-*.err | head -c 300)"
	"$VIGIL" watch --event open --output text --duration 2 \
		>/dev/null 2>"$VG_TMPDIR/behind.err" </dev/null &
	BP=$!
	vg_track_pid "$BP"
	vg_wait 30 grep -q '^vigil: watching' "$VG_TMPDIR/behind.err" || fail "vigil watch did not attach"
	kill -STOP "$BP"
	sleep 3 # past its duration, the ring full
	T0=$SECONDS
	kill -CONT "$BP"
	vg_wait 20 eval '! kill -0 $BP 2>/dev/null'
	T=$((SECONDS - T0))
	kill -0 "$BP" 2>/dev/null && kill -KILL "$BP"
	wait "$BP"
	RC=$?
	BEHIND=$(sed -nE 's/^vigil: [0-9]+ events, ([0-9]+) lost$/\1/p' "$VG_TMPDIR/behind.err")
	vg_info "--duration 2, held 3 s under the storms: exit $RC ${T}s after it ran again, ${BEHIND:-?} lost"
	[ "${BEHIND:-0}" -gt 0 ] && pass "the full ring's losses are counted (${BEHIND})" ||
		fail "no loss reported after the ring filled: $(tail -n 2 "$VG_TMPDIR/behind.err" | tr '\n' ' ')"
	[ "$RC" = 0 ] && [ "$T" -le 5 ] && pass "past --duration and behind a full ring, it ends in ${T}s" ||
		fail "--duration under the storms: exit $RC after ${T}s"
	if watch_start behind --event open --output text; then
		kill -STOP "$W_PID"
		sleep 2
		kill -CONT "$W_PID"
		T0=$SECONDS
		kill -INT "$W_PID" 2>/dev/null
		vg_wait 10 eval '! kill -0 $W_PID 2>/dev/null'
		T=$((SECONDS - T0))
		watch_stop
		[ "$W_RC" = 0 ] && [ "$T" -le 5 ] && pass "^C ends it in ${T}s while it is behind a full ring" ||
			fail "^C under the storms: exit $W_RC after ${T}s"
	fi
	kill "${STORMS[@]}" 2>/dev/null
	wait "${STORMS[@]}" 2>/dev/null
fi

# --------------------------------------------------- a tracepoint by name
# ------------------------------------- metadata read off the event path
# Container metadata is read by a worker thread; the records of a
# container being read wait for it (up to 50 ms), then go out marked
# incomplete. VIGIL_TEST_META_DELAY_MS makes the runtime's state slow to
# read. $C1 is not known to a watch without a selection until its first
# event, which so has to wait.
vg_log "container metadata, read off the event path"
export VIGIL_TEST_META_DELAY_MS=30
if watch_start meta --event exec,exit; then
	vg_t docker exec "$C1" sh -c 'exec /bin/busybox echo held-marker-1' >/dev/null
	if wait_event "exec in a container not yet known" '.evt.type == "exec" and .proc.args[2] == "held-marker-1"'; then
		jcheck "an event waits for its container's metadata (read 30 ms late)" "$EV" \
			'.container.name == $n and .container.image == $img and .container.incomplete == null' \
			--arg n "$C1" --arg img "$VG_IMAGE"
	fi
	watch_stop
fi
export VIGIL_TEST_META_DELAY_MS=400
if watch_start meta-slow --event exec,exit; then
	vg_t docker exec "$C1" sh -c 'exec /bin/busybox echo held-marker-2' >/dev/null
	if wait_event "exec in a container whose metadata is slow" '.evt.type == "exec" and .proc.args[2] == "held-marker-2"'; then
		jcheck "metadata slower than the wait: the event goes out, marked incomplete" "$EV" \
			'.container.id == $id and .container.runtime == "docker" and .container.incomplete == "metadata being read"' \
			--arg id "$C1_ID"
		P=$(jq -r .proc.pid <<<"$EV")
		wait_event "its exit" '.evt.type == "exit" and .proc.pid == $p and .container.id == $id' \
			--argjson p "$P" --arg id "$C1_ID" && pass "its exit is delivered too"
		sleep 0.5
		vg_t docker exec "$C1" sh -c 'exec /bin/busybox echo held-marker-3' >/dev/null
		wait_event "a later exec" '.evt.type == "exec" and .proc.args[2] == "held-marker-3"' &&
			jcheck "once read, the metadata is on the container's later events" "$EV" \
				'.container.name == $n and .container.incomplete == null' --arg n "$C1"
	fi
	watch_stop
fi
unset VIGIL_TEST_META_DELAY_MS
# A container that lives a moment: its cgroup is attributed when it
# appears, so its events still name it after it is gone.
if watch_start short --event exec,exit; then
	C3=${VG_RUN_PREFIX}w3
	vg_t docker run --rm --name "$C3" "$VG_IMAGE" sh -c 'exec /bin/busybox echo short-marker' >/dev/null
	if wait_event "exec in a short-lived container" '.evt.type == "exec" and .proc.args[2] == "short-marker"'; then
		jcheck "a short-lived container's events name it" "$EV" \
			'.container.name == $n and .container.image == $img' --arg n "$C3" --arg img "$VG_IMAGE"
	fi
	watch_stop
fi

# ------------------------------------------------- container lifecycle
# Each container: created (its cgroup appears), running (the init the
# runtime recorded execs the command), exited (that init ends, with the
# code the runtime records: 128 + the signal when one ended it),
# destroyed (the cgroup goes) -- once each, in order, whatever the
# runtime's setup processes do in the cgroup first.

# life_check LABEL ID CODE SIGNAL: the lifecycle of container ID in
# $W_OUT, against CODE (the runtime's own record) and SIGNAL (or null).
life_check() {
	local label=$1 id=$2 code=$3 sig=$4
	jcheck "$label: created, running, exited, destroyed in order; exited after the command's exec, code $code as the runtime recorded it, signal $sig" \
		"$(events '.container.id == $id and (.evt.type == "container" or .evt.type == "exec")' --arg id "$id" | jq -sc .)" '
		(map(select(.evt.type == "container") | .state) == ["created", "running", "exited", "destroyed"]) and
		([to_entries[] | select(.value.state == "running")][0]) as $run |
		([to_entries[] | select(.value.state == "exited")][0]) as $ex |
		([to_entries[] | select(.value.evt.type == "exec" and .value.proc.pid == $run.value.host_pid)][0]) as $cmd |
		$cmd != null and $run.key < $cmd.key and $cmd.key < $ex.key and
		$ex.value.host_pid == $run.value.host_pid and
		$ex.value.exit.code == $code and $ex.value.exit.signal == $sig' \
		--argjson code "$code" --argjson sig "$sig"
}

# life_wait ID: until container ID's "destroyed" is in $W_OUT.
life_wait() {
	wait_event "destroyed of $1" '.evt.type == "container" and .container.id == $id and .state == "destroyed"' --arg id "$1"
}

vg_log "container lifecycle: docker, containerd, podman"
if watch_start life-embedded --event container,exec,exit; then
	L1=${VG_RUN_PREFIX}l1 L2=${VG_RUN_PREFIX}l2
	vg_t docker run --name "$L1" --network none "$VG_IMAGE" sh -c '/bin/busybox true; exit 7' >/dev/null
	vg_t docker run -d --name "$L2" --network none "$VG_IMAGE" sleep 300 >/dev/null
	vg_wait 10 eval '[ "$(docker inspect -f "{{.State.Running}}" "$L2" 2>/dev/null)" = true ]'
	vg_t docker kill "$L2" >/dev/null
	L1_ID=$(vg_t docker inspect -f '{{.Id}}' "$L1") L2_ID=$(vg_t docker inspect -f '{{.Id}}' "$L2")
	L1_CODE=$(vg_t docker inspect -f '{{.State.ExitCode}}' "$L1")
	vg_wait 10 eval '[ "$(docker inspect -f "{{.State.Running}}" "$L2" 2>/dev/null)" = false ]'
	L2_CODE=$(vg_t docker inspect -f '{{.State.ExitCode}}' "$L2")
	life_wait "$L1_ID" && life_check "docker, exit 7" "$L1_ID" "${L1_CODE:-null}" null
	life_wait "$L2_ID" && life_check "docker, SIGKILL" "$L2_ID" "${L2_CODE:-null}" 9

	if vg_ctr_image; then
		L3=${VG_RUN_PREFIX}l3 L4=${VG_RUN_PREFIX}l4
		vg_ctr run --rm "$VG_CTR_IMAGE" "$L3" sh -c '/bin/busybox true; exit 5' >/dev/null
		L3_CODE=$?
		vg_ctr run --rm "$VG_CTR_IMAGE" "$L4" sleep 300 >/dev/null &
		L4_RUN=$!
		vg_wait 15 eval '[ -n "$(vg_ctr_pid "$L4")" ]'
		vg_ctr task kill -s SIGKILL "$L4" >/dev/null
		wait "$L4_RUN"
		L4_CODE=$?
		life_wait "$L3" && life_check "containerd, exit 5" "$L3" "$L3_CODE" null
		life_wait "$L4" && life_check "containerd, SIGKILL" "$L4" "$L4_CODE" 9
	fi

	if command -v podman >/dev/null && vg_podman_image; then
		L5=${VG_RUN_PREFIX}l5 L6=${VG_RUN_PREFIX}l6
		vg_podman_run --name "$L5" "$VG_PODMAN_IMAGE" sh -c '/bin/busybox true; exit 6' >/dev/null
		vg_podman_run -d --name "$L6" "$VG_PODMAN_IMAGE" sleep 300 >/dev/null
		vg_wait 10 eval '[ "$(podman inspect -f "{{.State.Running}}" "$L6" 2>/dev/null)" = true ]'
		vg_podman kill "$L6" >/dev/null
		vg_wait 10 eval '[ "$(podman inspect -f "{{.State.Running}}" "$L6" 2>/dev/null)" = false ]'
		L5_ID=$(vg_podman inspect -f '{{.Id}}' "$L5") L6_ID=$(vg_podman inspect -f '{{.Id}}' "$L6")
		L5_CODE=$(vg_podman inspect -f '{{.State.ExitCode}}' "$L5")
		L6_CODE=$(vg_podman inspect -f '{{.State.ExitCode}}' "$L6")
		life_wait "$L5_ID" && life_check "podman, exit 6" "$L5_ID" "${L5_CODE:-null}" null
		life_wait "$L6_ID" && life_check "podman, SIGKILL" "$L6_ID" "${L6_CODE:-null}" 9
	else
		fail "podman or its image unavailable"
	fi
	watch_stop
fi
vg_t docker rm -f "$L1" "$L2" >/dev/null 2>&1
vg_podman rm -f -t 0 "$L5" "$L6" >/dev/null 2>&1

# The same through a vigil daemon (vigil watch --socket).
vg_log "container lifecycle, through the daemon"
D_SOCK=$VG_TMPDIR/daemon/vigil.sock
"$VIGIL" daemon --socket "$D_SOCK" 2>"$VG_TMPDIR/daemon.err" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if vg_wait 30 grep -q 'daemon serving' "$VG_TMPDIR/daemon.err" &&
	watch_start life --socket "$D_SOCK" --event container,exec,exit; then
	C5=${VG_RUN_PREFIX}w5 C8=${VG_RUN_PREFIX}w8
	C5_ID=$(vg_t docker create --name "$C5" "$VG_IMAGE" sh -c '/bin/busybox true; exit 7')
	vg_t docker start -a "$C5" >/dev/null
	vg_t docker run -d --name "$C8" --network none "$VG_IMAGE" sleep 300 >/dev/null
	vg_wait 10 eval '[ "$(docker inspect -f "{{.State.Running}}" "$C8" 2>/dev/null)" = true ]'
	vg_t docker kill "$C8" >/dev/null
	vg_wait 10 eval '[ "$(docker inspect -f "{{.State.Running}}" "$C8" 2>/dev/null)" = false ]'
	C8_ID=$(vg_t docker inspect -f '{{.Id}}' "$C8")
	if life_wait "$C5_ID"; then
		life_check "through the daemon, exit 7" "$C5_ID" "$(vg_t docker inspect -f '{{.State.ExitCode}}' "$C5")" null
		ok=$(events '.container.id == $id and (.evt.type == "container" or .evt.type == "exec" or .evt.type == "exit")' --arg id "$C5_ID" |
			jq -rs 'map(if .evt.type == "container" then .state else .evt.type end) as $a |
				($a | index("created")) < ($a | index("exec")) and ($a | rindex("destroyed")) > ($a | rindex("exit"))')
		[ "$ok" = true ] && pass "created before its first exec, destroyed after its last exit" ||
			fail "lifecycle order through the daemon"
		EV=$(events '.container.id == $id and .state == "exited"' --arg id "$C5_ID" | head -n 1)
		jcheck "exited has the exit code, and events carry the metadata and the subscription" "$EV" \
			'.exit.code == 7 and .container.name == $n and .sub > 0' --arg n "$C5"
	fi
	life_wait "$C8_ID" && life_check "through the daemon, SIGKILL" "$C8_ID" \
		"$(vg_t docker inspect -f '{{.State.ExitCode}}' "$C8")" 9
	watch_stop
else
	fail "the daemon did not start, or vigil watch --socket did not attach"
	sed 's/^/    daemon: /' "$VG_TMPDIR/daemon.err" | head
fi
vg_t docker rm -f "$C8" >/dev/null 2>&1
vg_t docker rm -f "$C5" >/dev/null 2>&1
# A subscription to one container by name, before it exists: the kernel
# sheds other cgroups' opens, yet the new container's very first open is
# delivered (a cgroup passes until it is decided).
C6=${VG_RUN_PREFIX}w6
if kill -0 "$D_PID" 2>/dev/null &&
	watch_start sel --socket "$D_SOCK" --event open --container "$C6" --path '*vigil-sel-*'; then
	cat "$VG_TMPDIR/vigil-sel-host" 2>/dev/null
	vg_t docker run --rm --name "$C6" "$VG_IMAGE" sh -c \
		'/bin/busybox cat /vigil-sel-1 2>/dev/null; /bin/busybox cat /vigil-sel-2 2>/dev/null; true' >/dev/null
	if wait_event "the selected container's opens" '.evt.type == "open" and .fd.name == "/vigil-sel-2"'; then
		jcheck "a container selected by name before it started: its first open is delivered" \
			"$(events '.evt.type == "open" and .fd.name == "/vigil-sel-1"' | head -n 1)" \
			'.container.name == $n and .fd.result < 0' --arg n "$C6"
		[ -z "$(events '.fd.name == $p' --arg p "$VG_TMPDIR/vigil-sel-host")" ] &&
			pass "the host's open of the same kind is not delivered to it" ||
			fail "a host open reached a subscription to one container"
	fi
	watch_stop
fi
# ----------------------- the same events embedded and through the daemon
# One engine, one renderer: the same workload watched embedded and
# through the daemon gives the same JSON and the same text, for every
# type: exec, exit by a signal, fork, open, file, connect, accept,
# listen, container. But for the subscription's members and the time:
# each is its own sensor, whose programs read the clock themselves.
vg_log "embedded and through the daemon: the same JSON and text"
CW=${VG_RUN_PREFIX}cmpw CL=${VG_RUN_PREFIX}cmpl
vg_t docker run -d --name "$CW" --network none "$VG_IMAGE" sleep 600 >/dev/null
SAME_F="container.name startswith ${VG_RUN_PREFIX}cmp"
if kill -0 "$D_PID" 2>/dev/null; then
	for m in json text; do
		"$VIGIL" watch --embedded --output "$m" --filter "$SAME_F" \
			>"$VG_TMPDIR/same-emb.$m" 2>"$VG_TMPDIR/same-emb.$m.err" </dev/null &
		vg_track_pid "$!"
		"$VIGIL" watch --socket "$D_SOCK" --output "$m" --filter "$SAME_F" \
			>"$VG_TMPDIR/same-dmn.$m" 2>"$VG_TMPDIR/same-dmn.$m.err" </dev/null &
		vg_track_pid "$!"
	done
	for e in same-emb.json same-emb.text same-dmn.json same-dmn.text; do
		vg_wait 30 grep -q '^vigil: watching' "$VG_TMPDIR/$e.err" ||
			fail "vigil watch ($e) did not attach: $(head -c 300 "$VG_TMPDIR/$e.err")"
	done
	vg_t docker exec "$CW" sh -c 'echo a > /s1; mv /s1 /s2; rm /s2; cat /etc/hostname >/dev/null;
		nc -l -p 7779 >/dev/null & sleep 0.3; echo x | nc -w 1 127.0.0.1 7779; wait;
		sleep 30 & kill -9 $!; wait' >/dev/null 2>&1
	vg_t docker run --name "$CL" --network none "$VG_IMAGE" sh -c 'exit 3' >/dev/null
	CL_ID=$(vg_t docker inspect -f '{{.Id}}' "$CL")
	W_OUT=$VG_TMPDIR/same-dmn.json
	wait_event "destroyed, through the daemon" '.container.id == $id and .state == "destroyed"' --arg id "$CL_ID" >/dev/null
	W_OUT=$VG_TMPDIR/same-emb.json
	wait_event "destroyed, embedded" '.container.id == $id and .state == "destroyed"' --arg id "$CL_ID" >/dev/null
	sleep 1
	pkill -INT -f -- "--filter $SAME_F" 2>/dev/null
	vg_wait 15 eval '! pgrep -f -- "--filter $SAME_F" >/dev/null'
	norm='del(.sub, .sensor, .seq, .evt.time, .evt.ktime_ns, .evt.cpu) | tojson'
	jq -cr "$norm" "$VG_TMPDIR/same-emb.json" | sort >"$VG_TMPDIR/same-emb.jn"
	jq -cr "$norm" "$VG_TMPDIR/same-dmn.json" | sort >"$VG_TMPDIR/same-dmn.jn"
	types=$(jq -r '.evt.type + (if .exit.signal then "-signal" else "" end)' "$VG_TMPDIR/same-emb.json" | sort -u | paste -sd, -)
	vg_info "same workload: $(wc -l <"$VG_TMPDIR/same-emb.jn") JSON lines embedded, $(wc -l <"$VG_TMPDIR/same-dmn.jn") through the daemon; types $types"
	missing=""
	for t in exec exit-signal fork open file connect accept listen container; do
		grep -qw -- "$t" <<<"${types//,/ }" || missing="$missing $t"
	done
	[ -z "$missing" ] && pass "the workload made every type (exec, exit by a signal, fork, open, file, connect, accept, listen, container)" ||
		fail "the workload made no:$missing (types: $types)"
	if [ -s "$VG_TMPDIR/same-emb.jn" ] && cmp -s "$VG_TMPDIR/same-emb.jn" "$VG_TMPDIR/same-dmn.jn"; then
		pass "embedded and through the daemon: identical JSON ($(wc -l <"$VG_TMPDIR/same-emb.jn") events)"
	else
		fail "JSON differs embedded and through the daemon:"
		diff "$VG_TMPDIR/same-emb.jn" "$VG_TMPDIR/same-dmn.jn" | head -6 | cut -c1-300 | sed 's/^/    /'
	fi
	# text: the same lines, but for the time that starts each
	cut -d' ' -f2- "$VG_TMPDIR/same-emb.text" | grep -v '^lost ' | sort >"$VG_TMPDIR/same-emb.tn"
	cut -d' ' -f2- "$VG_TMPDIR/same-dmn.text" | grep -v '^lost ' | sort >"$VG_TMPDIR/same-dmn.tn"
	if [ -s "$VG_TMPDIR/same-emb.tn" ] && cmp -s "$VG_TMPDIR/same-emb.tn" "$VG_TMPDIR/same-dmn.tn"; then
		pass "embedded and through the daemon: identical text ($(wc -l <"$VG_TMPDIR/same-emb.tn") lines)"
	else
		fail "text differs embedded and through the daemon:"
		diff "$VG_TMPDIR/same-emb.tn" "$VG_TMPDIR/same-dmn.tn" | head -6 | cut -c1-300 | sed 's/^/    /'
	fi
	grep -q 'signal=9' "$VG_TMPDIR/same-emb.text" && grep -q 'exited host_pid=[0-9]* code=3' "$VG_TMPDIR/same-emb.text" &&
		grep -qE 'connect .*127\.0\.0\.1:7779' "$VG_TMPDIR/same-emb.text" && grep -qE 'file .* rename /s2 \(from /s1\)' "$VG_TMPDIR/same-emb.text" &&
		pass "text shows a kill by signal, a container's exit code, a connect and a rename as such" ||
		fail "text lines for signal, container, connect, rename: $(grep -cE 'signal=|exited|connect|rename' "$VG_TMPDIR/same-emb.text")"
fi
vg_t docker rm -f "$CW" "$CL" >/dev/null 2>&1
kill -TERM "$D_PID" 2>/dev/null
wait "$D_PID" 2>/dev/null

# ------------------------------------------------------ file changes
vg_log "file changes in a container"
C7=${VG_RUN_PREFIX}w7
vg_t docker run -d --name "$C7" "$VG_IMAGE" sleep 300 >/dev/null
C7_ID=$(vg_t docker inspect -f '{{.Id}}' "$C7")
MERGED=$(vg_t docker inspect -f '{{.GraphDriver.Data.MergedDir}}' "$C7")
if [ -z "$C7_ID" ] || [ -z "$MERGED" ]; then
	fail "docker run $C7 (or its MergedDir) failed"
elif watch_start file --event file --container "$C7"; then
	vg_t docker exec "$C7" sh -c 'echo a > /f1; echo b >> /f1; mv /f1 /f2;
		chmod 600 /f2; chown 1:2 /f2; : > /d1; rm /d1; mkdir /rd; rm -rf /rd; mkdir /rd;
		cd /tmp && : > rel1; ln -s /etc/passwd /sl1; : > /sl1-done' >/dev/null
	if wait_event "the last file change" '.file.path == "/sl1-done"'; then
		ev() { events "$1" | head -n 1; }
		jcheck "create: container-relative path, host path under the merged dir, process and container" \
			"$(ev '.file.action == "create" and .file.path == "/f1"')" \
			'.file.host_path == ($m + "/f1") and .container.id == $id and .container.name == $n and .proc.pid > 0 and .proc.name != null' \
			--arg m "$MERGED" --arg id "$C7_ID" --arg n "$C7"
		jcheck "write-open of an existing file" "$(ev '.file.path == "/f1" and .file.action != "create"')" \
			'.file.action == "write" and .file.host_path == ($m + "/f1")' --arg m "$MERGED"
		jcheck "rename: the new name and the old one, the caller's words (no host path from them)" \
			"$(ev '.file.action == "rename"')" \
			'.file.path == "/f2" and .file.from == "/f1" and .fd.path_source == "user" and (.file | has("host_path") or has("from_host_path") | not)'
		jcheck "chmod, with the mode" "$(ev '.file.action == "chmod" and .file.path == "/f2"')" '.file.mode == 384'
		jcheck "chown, with the owner" "$(ev '.file.action == "chown" and .file.path == "/f2"')" \
			'.file.uid == 1 and .file.gid == 2'
		jcheck "delete" "$(ev '.file.action == "delete" and .file.path == "/d1"')" '.container.id == $id' --arg id "$C7_ID"
		jcheck "a replaced directory: mkdir, rmdir, mkdir" \
			"$(events '(.file.action == "rmdir" or .file.action == "mkdir") and .file.path == "/rd"' | jq -rs 'map(.file.action) | join(",")' | jq -R .)" \
			'. == "mkdir,rmdir,mkdir"'
		jcheck "a file made by a relative path: the kernel's path of the file made" "$(ev '.file.path == "/tmp/rel1"')" \
			'.fd.path_source == "kernel" and .file.action == "create" and .file.host_path == ($m + "/tmp/rel1")' --arg m "$MERGED"
		jcheck "symlink, with its target as given" "$(ev '.file.action == "symlink"')" \
			'.file.path == "/sl1" and .file.target == "/etc/passwd"'
		[ -z "$(events '.container.id != $id' --arg id "$C7_ID")" ] &&
			pass "only the selected container's file changes" ||
			fail "file changes of other containers or the host were printed"
	fi
	watch_stop
fi
vg_t docker rm -f "$C7" >/dev/null 2>&1

# The same in a podman container: its merged root from containers/storage.
vg_log "file changes in a podman container"
P7=${VG_RUN_PREFIX}p7
if ! command -v podman >/dev/null || ! vg_podman_image; then
	fail "podman or its image unavailable"
elif ! vg_podman_run -d --name "$P7" "$VG_PODMAN_IMAGE" sleep 300 >/dev/null; then
	fail "podman run $P7 failed"
else
	P7_ID=$(vg_podman inspect -f '{{.Id}}' "$P7")
	PMERGED=$(vg_podman inspect -f '{{.GraphDriver.Data.MergedDir}}' "$P7")
	if watch_start pfile --event file --container "$P7"; then
		vg_podman exec "$P7" sh -c ': > /pf1; mv /pf1 /pf2; rm /pf2' >/dev/null
		if wait_event "podman: the delete" '.file.action == "delete" and .file.path == "/pf2"'; then
			jcheck "podman: create, with the host path under its merged root" \
				"$(events '.file.action == "create" and .file.path == "/pf1"' | head -n 1)" \
				'.file.host_path == ($m + "/pf1") and .container.id == $id and .container.runtime == "podman"' \
				--arg m "$PMERGED" --arg id "$P7_ID"
			jcheck "podman: rename, both names" "$(events '.file.action == "rename"' | head -n 1)" \
				'.file.path == "/pf2" and .file.from == "/pf1" and .fd.path_source == "user"'
		fi
		watch_stop
	fi
fi
vg_podman rm -f -t 0 "$P7" >/dev/null 2>&1

# ------------------------------------------- vigil watch in a container
# As a DaemonSet runs it: the host's pid namespace, the host's / at
# /host, capabilities instead of --privileged (docker 20.10 knows no
# CAP_BPF or CAP_PERFMON: SYS_ADMIN stands for them). A container sees no
# tracefs under its /sys.
vg_log "vigil watch inside a docker container"
if vg_vigil_image; then
	VW=${VG_RUN_PREFIX}vw
	vg_t docker run --rm --name "$VW" --network none --pid host -v /:/host:ro \
		--cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
		"$VG_VIGIL_IMAGE" /usr/bin/vigil watch --host-root /host --event exec,open \
		--output json --duration 60 >"$VG_TMPDIR/in-docker.out" 2>"$VG_TMPDIR/in-docker.err" </dev/null &
	VWP=$!
	vg_track_pid "$VWP"
	if vg_wait 60 grep -q '^vigil: watching' "$VG_TMPDIR/in-docker.err"; then
		W_OUT=$VG_TMPDIR/in-docker.out W_ERR=$VG_TMPDIR/in-docker.err
		/bin/true in-docker-marker
		if wait_event "an exec seen from inside a container" '.evt.type == "exec" and .proc.args[1] == "in-docker-marker"'; then
			jcheck "vigil in a container reports a host exec with its host pid and the host's attribution" "$EV" \
				'.proc.pid > 1 and .container.id == "host" and .proc.exe == "/usr/bin/true"'
		fi
		wait_event "an open seen from inside a container" '.evt.type == "open" and .fd.name != null' &&
			pass "syscall tracepoints attach inside a container, which has no tracefs"
	else
		fail "vigil watch in a container did not attach: $(head -c 600 "$VG_TMPDIR/in-docker.err")"
	fi
	vg_t docker rm -f "$VW" >/dev/null 2>&1
	wait "$VWP" 2>/dev/null
fi

vg_log "tracepoint by name"
sleep 300 &
TARGET=$!
vg_track_pid "$TARGET"
if watch_start tp --event tp:signal:signal_generate; then
	[ "$(vg_mounts_of_type tracefs | wc -l)" = "$MT_NS" ] && [ "$(vg_mounts_of_type tracefs 1 | wc -l)" = "$MT_HOST" ] &&
		pass "tp: reads its format without a tracefs mount anyone sees" ||
		fail "tp: left a tracefs mount"
	kill -USR2 "$TARGET"
	if wait_event "signal_generate for SIGUSR2" '.evt.type == "tp" and .tp.fields.pid == $p' --argjson p "$TARGET"; then
		jcheck "tracepoint fields decoded by name" "$EV" \
			'.tp.name == "signal:signal_generate" and .tp.fields.sig == 12 and .tp.fields.comm == "sleep" and .proc.pid == $me' \
			--argjson me "$$"
	fi
	watch_stop
fi
wait "$TARGET" 2>/dev/null

# ------------------------------------------------------ text, --count, errors
vg_log "text output, --count, errors"
# A process that execs once, when told to, and does nothing else.
TGO=$VG_TMPDIR/text-go
python3 -c '
import os, sys, time
open(sys.argv[1] + ".ready", "w").close()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
os.execv("/bin/true", ["/bin/true", "text-marker"])
' "$TGO" &
TPY=$!
vg_track_pid "$TPY"
vg_wait 15 test -e "$TGO.ready"
"$VIGIL" watch --event exec,exit --pid "$TPY" --count 1 --duration 15 \
	>"$VG_TMPDIR/text.out" 2>"$VG_TMPDIR/text.err" </dev/null &
TP=$!
vg_track_pid "$TP"
vg_wait 15 grep -q '^vigil: watching' "$VG_TMPDIR/text.err"
touch "$TGO"
vg_wait 20 eval '! kill -0 $TP 2>/dev/null'
wait "$TP"
rc=$?
wait "$TPY" 2>/dev/null
if [ "$rc" = 0 ] && [ "$(grep -c . "$VG_TMPDIR/text.out")" = 1 ] &&
	grep -qE '^[0-9-]+T[0-9:.]+Z exec .*container=host.*args=\[/bin/true text-marker\]' "$VG_TMPDIR/text.out"; then
	pass "text output: one line per event, --count 1 stops after one"
else
	fail "text output / --count (rc $rc)"
	sed 's/^/    out: /' "$VG_TMPDIR/text.out" | head -5
	sed 's/^/    err: /' "$VG_TMPDIR/text.err" | head -5
fi
# A text open line ends with its result: the fd, or the errno's name.
: >"$VG_TMPDIR/text-open-marker"
"$VIGIL" watch --event open --path '*text-open-marker*' --count 2 --duration 15 \
	>"$VG_TMPDIR/topen.out" 2>"$VG_TMPDIR/topen.err" </dev/null &
TP=$!
vg_track_pid "$TP"
vg_wait 15 grep -q '^vigil: watching' "$VG_TMPDIR/topen.err"
cat "$VG_TMPDIR/text-open-marker" >/dev/null
cat "$VG_TMPDIR/text-open-marker-missing" 2>/dev/null
vg_wait 20 eval '! kill -0 $TP 2>/dev/null'
wait "$TP"
if grep -qE 'text-open-marker O_RDONLY[|A-Z_]* = [0-9]+$' "$VG_TMPDIR/topen.out" &&
	grep -qE 'text-open-marker-missing O_RDONLY[|A-Z_]* = ENOENT$' "$VG_TMPDIR/topen.out"; then
	pass "text open lines end with the fd or the errno"
else
	fail "text open lines"
	sed 's/^/    out: /' "$VG_TMPDIR/topen.out" | head -5
fi
vg_vigil watch --event nosuch
[ "$VG_RC" = 2 ] && grep -q "nosuch" <<<"$VG_ERR" && pass "an unknown event is a usage error naming it" ||
	{ fail "unknown event"; vg_show; }
vg_vigil watch --ring-size 1000
[ "$VG_RC" = 2 ] && pass "--ring-size must be a power of two" || { fail "--ring-size 1000"; vg_show; }
vg_vigil watch --path '*x*' --event exec
[ "$VG_RC" = 2 ] && pass "--path without open events is a usage error" || { fail "--path with exec"; vg_show; }

# Without the capabilities: exit 2, naming what is missing.
for cmd in "watch --duration 1" "watch --event exec --duration 1" "daemon --socket $VG_TMPDIR/nobody.sock"; do
	# shellcheck disable=SC2086
	out=$(timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$VIGIL" $cmd 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'missing capabilities: CAP_BPF and CAP_PERFMON' <<<"$out"; then
		pass "vigil $cmd as a user without capabilities: exit 2, naming them"
	else
		fail "vigil $cmd as nobody: rc=$rc: $(head -c 400 <<<"$out")"
	fi
done

vg_finish
