#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: `vigil server` / `vigil client` peer identity.
#   clients in real docker, containerd and podman containers (the socket
#   directory bind-mounted) and on the host are identified as `vigil pid`
#   and the runtimes know them; a client whose connecting process exited
#   and whose pid was reused, a client in a pid namespace the server cannot
#   see, and clients that change uid or exec after connecting get the
#   specific refusal; policies allow and deny by image, pod namespace and
#   uid; a malformed policy names its line; 200 concurrent clients and
#   misbehaving ones do not stop the server.
# Usage: test-peer.sh [path/to/vigil]   (root; exit 77 = skipped)
#   The static client helper is $VG_PEER_HELPER (default: next to vigil,
#   tests/peer-helper).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
HELPER=${VG_PEER_HELPER:-$(dirname "$VIGIL")/tests/peer-helper}

vg_need_root
vg_init
vg_need_cmds jq timeout docker dockerd ctr runc podman unshare setpriv || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
[ -x "$HELPER" ] || { fail "peer helper not found: $HELPER"; vg_finish; }
if LC_ALL=C ldd "$HELPER" 2>&1 | grep -q '=>'; then
	fail "peer helper is not static: $HELPER"
	vg_finish
fi

# Sockets live in their own directory, bind-mounted into the containers.
SDIR=$VG_TMPDIR/sock
mkdir -p "$SDIR" && chmod 755 "$VG_TMPDIR" "$SDIR"
cp "$HELPER" "$VG_TMPDIR/peer-helper" && chmod 755 "$VG_TMPDIR/peer-helper"
HELPER=$VG_TMPDIR/peer-helper
SOCK=$SDIR/peer.sock
SRV_PID=''

# start_server LOG ARGS...: start `vigil server` on $SOCK; wait until it
# listens.  Sets SRV_PID.
start_server() {
	local log=$1; shift
	"$VIGIL" server --socket "$SOCK" "$@" >"$log" 2>"$log.err" &
	SRV_PID=$!
	vg_track_pid "$SRV_PID"
	if ! vg_wait 10 eval '[ -S "$SOCK" ] && grep -q listening "$log.err"'; then
		fail "vigil server $* did not start listening"
		sed 's/^/    /' "$log.err" | head -20
		return 1
	fi
}

stop_server() {
	[ -n "$SRV_PID" ] || return 0
	kill -CONT "$SRV_PID" 2>/dev/null
	kill -TERM "$SRV_PID" 2>/dev/null
	vg_wait 10 eval '! kill -0 $SRV_PID 2>/dev/null' || kill -KILL "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=''
}

# reply_of TEXT: the server's JSON line in a helper's output.
reply_of() { printf '%s\n' "$1" | grep '^{' | head -n 1; }

DOCKER_OK=0 CTR_OK=0 PODMAN_OK=0
if vg_start_dockerd && vg_busybox_image; then
	DOCKER_OK=1
	[ -n "$VG_CTR_SOCK" ] && vg_ctr_image && CTR_OK=1
else
	fail "docker daemon or image unavailable"
fi
vg_podman_image && PODMAN_OK=1

# ------------------------------------------------------- socket, host client
LOG=$VG_TMPDIR/server.log
start_server "$LOG" || vg_finish
MODE=$(stat -c %a "$SOCK")
[ "$MODE" = 660 ] && pass "socket created with mode 0660 (not world-writable)" ||
	fail "socket mode is $MODE, want 660"
# CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19); no eBPF
vg_check_caps "vigil server" "$SRV_PID" 2 19

vg_vigil client --socket "$SOCK" --output json
SELF_LINE=$VG_OUT
jcheck "host client: vigil client exits 0 and is allowed" "$SELF_LINE" '.allowed == true'
[ "$VG_RC" = 0 ] || { fail "vigil client exit $VG_RC"; vg_show; }
jcheck "host client: identified as itself, on the host, via pidfd" "$SELF_LINE" \
	'.identity.proc.exe == $exe and .identity.container.id == "host" and .identity.peer.method == "pidfd" and .identity.peer.pid == .identity.proc.pid' \
	--arg exe "$(readlink -f "$VIGIL")"
vg_vigil client --socket "$SOCK"
if printf '%s\n' "$VG_OUT" | grep -q '^container.id  *host$'; then
	pass "vigil client text output shows the container"
else
	fail "vigil client text output"; vg_show
fi

OUT=$("$HELPER" ask "$SOCK")
R=$(reply_of "$OUT")
read -r _ HPID _ <<<"$(printf '%s\n' "$OUT" | head -n 1)"
jcheck "host helper: pid and exe are the helper's" "$R" \
	'.allowed and .identity.proc.pid == $p and .identity.proc.exe == $exe' \
	--argjson p "${HPID:-0}" --arg exe "$HELPER"
if grep -q "allow pid=$HPID " "$LOG"; then
	pass "server log has a line for the host helper"
else
	fail "server log lacks the host helper"; sed 's/^/    /' "$LOG" | tail -5
fi

# --------------------------------------------------------- container clients
# ask_in_docker NAME ARGS...: run the helper in a docker container.
if [ "$DOCKER_OK" = 1 ]; then
	D1=${VG_RUN_PREFIX}pdocker
	OUT=$(vg_t docker run --name "$D1" --network none -l app.team=peer -l tier=web \
		-v "$SDIR:/s" -v "$HELPER:/peer-helper:ro" "$VG_IMAGE" /peer-helper ask /s/peer.sock 2>&1)
	R=$(reply_of "$OUT")
	INSPECT=$(vg_t docker inspect "$D1" | jq -c '.[0]')
	jcheck "docker client: container id, name, image and labels are docker's" "$R" \
		'.allowed and .identity.container.id == $i.Id and .identity.container.name == ($i.Name | ltrimstr("/")) and .identity.container.image == $i.Config.Image and .identity.container.labels == $i.Config.Labels and .identity.container.runtime == "docker"' \
		--argjson i "${INSPECT:-null}"
	jcheck "docker client: the pid is the host's, not the container's" "$R" \
		'.identity.proc.pid > 1 and .identity.proc.exe == "/peer-helper"'
fi

if [ "$CTR_OK" = 1 ]; then
	C1=${VG_RUN_PREFIX}pctr
	OUT=$(vg_ctr run --rm --label app.team=peer-ctr \
		--mount "type=bind,src=$SDIR,dst=/s,options=rbind:rw" \
		--mount "type=bind,src=$HELPER,dst=/peer-helper,options=rbind:ro" \
		"$VG_CTR_IMAGE" "$C1" /peer-helper ask /s/peer.sock 2>&1)
	R=$(reply_of "$OUT")
	jcheck "containerd client: container id, runtime and namespace" "$R" \
		'.allowed and .identity.container.id == $id and .identity.container.runtime == "containerd" and .identity.container.namespace == $ns' \
		--arg id "$C1" --arg ns "$VG_CTR_NS"
fi

if [ "$PODMAN_OK" = 1 ]; then
	P1=${VG_RUN_PREFIX}ppodman
	OUT=$(vg_podman_run --name "$P1" -l app.team=peer-podman \
		-v "$SDIR:/s" -v "$HELPER:/peer-helper:ro" "$VG_PODMAN_IMAGE" /peer-helper ask /s/peer.sock 2>&1)
	R=$(reply_of "$OUT")
	PI=$(vg_podman inspect "$P1" | jq -c '.[0]')
	jcheck "podman client: container id, name, image and labels are podman's" "$R" \
		'.allowed and .identity.container.id == $i.Id and .identity.container.name == $i.Name and .identity.container.image == $i.ImageName and .identity.container.labels == $i.Config.Labels and .identity.container.runtime == "podman"' \
		--argjson i "${PI:-null}"
fi

# --------------------------------------------------------------- pid reuse
# The server is stopped while the client connects, hands the socket to a
# child and exits, and its pid is given to a process without the socket:
# when the server looks, the pid names another process.
reuse_case() { # LABEL (server already running)
	local label=$1 dir=$VG_TMPDIR/reuse-$1 parent reuser out r
	mkdir -p "$dir"
	kill -STOP "$SRV_PID"
	"$HELPER" handoff "$SOCK" "$dir" >"$dir/out" 2>&1 &
	local hp=$!
	if ! vg_wait 20 test -s "$dir/ready"; then
		kill -CONT "$SRV_PID"
		fail "$label: the handoff client did not get ready"
		wait "$hp"
		return
	fi
	read -r parent reuser <"$dir/ready"
	kill -CONT "$SRV_PID"
	vg_wait 20 eval "grep -q '^{' '$dir/out'"
	r=$(reply_of "$(cat "$dir/out")")
	if [ "$reuser" = "$parent" ]; then
		jcheck "$label: pid $parent reused: refused as peer_reused, naming no process" "$r" \
			'.allowed == false and .identity.error.code == "peer_reused" and (.identity.proc | keys) == ["pid"]'
	else
		vg_info "$label: pid $parent was not reused (got $reuser); checking the exit case only"
		jcheck "$label: exited connector refused as peer_gone" "$r" \
			'.allowed == false and .identity.error.code == "peer_gone" and (.identity.proc | keys) == ["pid"]'
	fi
	wait "$hp"
}
reuse_case "pidfd"
stop_server

# The same through the SO_PEERCRED fallback.
start_server "$VG_TMPDIR/server-pc.log" --peercred || vg_finish
R=$(reply_of "$("$HELPER" ask "$SOCK")")
jcheck "peercred fallback: a host client is identified" "$R" \
	'.allowed and .identity.peer.method == "peercred" and .identity.proc.exe == $exe' --arg exe "$HELPER"
if [ "$DOCKER_OK" = 1 ]; then
	R=$(reply_of "$(vg_t docker run --rm --network none -v "$SDIR:/s" -v "$HELPER:/peer-helper:ro" \
		"$VG_IMAGE" /peer-helper ask /s/peer.sock 2>&1)")
	jcheck "peercred fallback: a docker client is identified" "$R" \
		'.allowed and .identity.container.runtime == "docker" and (.identity.container.id | length) == 64'
fi
reuse_case "peercred"
stop_server

# ---------------------------------------------------- changes after connect
start_server "$LOG" --mode 0666 || vg_finish
[ "$(stat -c %a "$SOCK")" = 666 ] && pass "--mode 0666 widens the socket after bind" ||
	fail "--mode 0666: socket mode $(stat -c %a "$SOCK")"

D=$VG_TMPDIR/setuid && mkdir -p "$D"
kill -STOP "$SRV_PID"
"$HELPER" setuid "$SOCK" 65534 "$D" >"$D/out" 2>&1 &
HP=$!
vg_wait 20 test -s "$D/ready"
kill -CONT "$SRV_PID"
vg_wait 20 eval "grep -q '^{' '$D/out'"
jcheck "a client that drops to uid 65534 after connecting is refused (peer_changed)" \
	"$(reply_of "$(cat "$D/out")")" \
	'.allowed == false and .identity.error.code == "peer_changed" and (.identity.error.message | test("65534"))'
wait "$HP"

D=$VG_TMPDIR/exec && mkdir -p "$D"
cp "$HELPER" "$D/other-binary"
kill -STOP "$SRV_PID"
"$HELPER" exec "$SOCK" "$D/other-binary" "$D" >"$D/out" 2>&1 &
HP=$!
vg_wait 20 test -s "$D/ready"
EPID=$(cat "$D/ready" 2>/dev/null)
kill -CONT "$SRV_PID"
vg_wait 20 eval "grep -q '^{' '$D/out'"
jcheck "a client that execs after connecting is reported as the binary it runs now, same pid" \
	"$(reply_of "$(cat "$D/out")")" \
	'.allowed and .identity.proc.pid == $p and .identity.proc.exe == $exe and .identity.proc.args[0] == $exe' \
	--argjson p "${EPID:-0}" --arg exe "$D/other-binary"
wait "$HP"

# ------------------------------------------------------------ pid namespaces
OUT=$(unshare --pid --fork "$HELPER" ask "$SOCK")
R=$(reply_of "$OUT")
read -r _ NSPID PROCPID <<<"$(printf '%s\n' "$OUT" | head -n 1)"
jcheck "client in its own pid namespace (pid $NSPID there) is named by its host pid $PROCPID" "$R" \
	'.allowed and .identity.proc.pid == $hp and .identity.proc.pid != $np' \
	--argjson hp "${PROCPID:-0}" --argjson np "${NSPID:-0}"
stop_server

# The server in a pid namespace of its own cannot see host processes.
NSLOG=$VG_TMPDIR/server-ns.log
unshare --pid --fork --mount-proc "$VIGIL" server --socket "$SOCK" --mode 0666 >"$NSLOG" 2>"$NSLOG.err" &
NS_SRV=$!
vg_track_pid "$NS_SRV"
if vg_wait 10 eval '[ -S "$SOCK" ] && grep -q listening "$NSLOG.err"'; then
	R=$(reply_of "$("$HELPER" ask "$SOCK")")
	jcheck "a peer the server's pid namespace cannot see is refused as peer_hidden, pid 0" "$R" \
		'.allowed == false and .identity.error.code == "peer_hidden" and .identity.proc.pid == 0'
	vg_vigil client --socket "$SOCK"
	if [ "$VG_RC" = 1 ] && printf '%s\n' "$VG_ERR" | grep -q "pid namespace"; then
		pass "vigil client exits 1 with the server's reason"
	else
		fail "vigil client on refusal"; vg_show
	fi
else
	fail "vigil server in a new pid namespace did not start"; sed 's/^/    /' "$NSLOG.err"
fi
pkill -TERM -P "$NS_SRV" 2>/dev/null; kill -TERM "$NS_SRV" 2>/dev/null
vg_wait 10 eval '! kill -0 $NS_SRV 2>/dev/null'; wait "$NS_SRV" 2>/dev/null

# ------------------------------------------------------------------ policy
POD_UID=6e3a51b2-0c5b-4d1e-9c4d-1f2e3d4c5b6a
POL=$VG_TMPDIR/policy.conf
cat >"$POL" <<EOF
# test policy
deny  user.uid = 1000
allow container.image ~ "*vigil-test/busybox*" container.label.app.team = peer
allow k8s.ns.name = shop
allow container.runtime = none user.uid = 0
EOF
start_server "$LOG.pol" --policy "$POL" --mode 0666 || vg_finish
R=$(reply_of "$("$HELPER" ask "$SOCK")")
jcheck "policy: a root host client is allowed by the rule at line 5" "$R" \
	'.allowed and (.reason | test("line 5"))'
R=$(reply_of "$(setpriv --reuid=1000 --regid=1000 --clear-groups "$HELPER" ask "$SOCK")")
jcheck "policy: uid 1000 is denied by the rule at line 2" "$R" \
	'.allowed == false and (.reason | test("line 2"))'
if [ "$DOCKER_OK" = 1 ]; then
	R=$(reply_of "$(vg_t docker run --rm --network none -l app.team=peer -v "$SDIR:/s" \
		-v "$HELPER:/peer-helper:ro" "$VG_IMAGE" /peer-helper ask /s/peer.sock 2>&1)")
	jcheck "policy: image glob and label allow the docker client (line 3)" "$R" \
		'.allowed and (.reason | test("line 3"))'
	R=$(reply_of "$(vg_t docker run --rm --network none -l app.team=other -v "$SDIR:/s" \
		-v "$HELPER:/peer-helper:ro" "$VG_IMAGE" /peer-helper ask /s/peer.sock 2>&1)")
	jcheck "policy: another label falls through to the default deny" "$R" \
		'.allowed == false and (.reason | test("default deny"))'
	R=$(reply_of "$(vg_t docker run --rm --network none -l app.team=other \
		-l io.kubernetes.pod.namespace=shop -l io.kubernetes.pod.name=cart \
		-l io.kubernetes.pod.uid=$POD_UID -l io.kubernetes.container.name=c \
		-l io.kubernetes.docker.type=container -v "$SDIR:/s" \
		-v "$HELPER:/peer-helper:ro" "$VG_IMAGE" /peer-helper ask /s/peer.sock 2>&1)")
	jcheck "policy: pod namespace 'shop' is allowed (line 4)" "$R" \
		'.allowed and (.reason | test("line 4")) and .identity.k8s.ns.name == "shop"'
fi
if [ "$PODMAN_OK" = 1 ]; then
	R=$(reply_of "$(vg_podman_run --rm -v "$SDIR:/s" -v "$HELPER:/peer-helper:ro" \
		"$VG_PODMAN_IMAGE" /peer-helper ask /s/peer.sock 2>&1)")
	jcheck "policy: a podman client without the label is denied" "$R" '.allowed == false'
fi
stop_server
if grep -q "deny pid=" "$LOG.pol" && grep -q "allow pid=" "$LOG.pol"; then
	pass "the server logs allow and deny lines"
else
	fail "server log under policy"; sed 's/^/    /' "$LOG.pol" | tail -5
fi

printf 'allow user.uid = 0\nallow user.name = root\n' >"$VG_TMPDIR/bad.conf"
vg_vigil server --socket "$SDIR/bad.sock" --policy "$VG_TMPDIR/bad.conf"
if [ "$VG_RC" = 2 ] && printf '%s\n' "$VG_ERR" | grep -q "bad.conf:2:.*user.name"; then
	pass "a malformed policy is refused at start, naming file, line and field"
else
	fail "malformed policy"; vg_show
fi
[ ! -e "$SDIR/bad.sock" ] && pass "no socket is left behind by a refused start" ||
	fail "a refused start left $SDIR/bad.sock"

# ------------------------------------------------------- load and misbehaviour
start_server "$LOG.load" --mode 0666 --output json || vg_finish
OUT=$(timeout -k 5 120 "$HELPER" many "$SOCK" 200)
[ "$OUT" = "ok=200 denied=0 failed=0" ] && pass "200 concurrent clients all answered ($OUT)" ||
	fail "200 concurrent clients: $OUT"
timeout -k 5 60 "$HELPER" abuse "$SOCK" 3 >"$VG_TMPDIR/abuse.out" 2>&1 &
ABUSE=$!
sleep 0.5
vg_vigil client --socket "$SOCK" --timeout 5000
[ "$VG_RC" = 0 ] && pass "a client is answered while 90 others close at once, send garbage or never read" ||
	{ fail "client during abuse"; vg_show; }
wait "$ABUSE"; ARC=$?
[ "$ARC" = 0 ] && pass "abuse helper made its 90 connections ($(cat "$VG_TMPDIR/abuse.out"))" ||
	fail "abuse helper exit $ARC: $(cat "$VG_TMPDIR/abuse.out")"
kill -0 "$SRV_PID" 2>/dev/null && pass "the server is still running" || fail "the server died"
vg_vigil client --socket "$SOCK"
[ "$VG_RC" = 0 ] && pass "and still answers" || { fail "no answer after abuse"; vg_show; }
kill -TERM "$SRV_PID"
vg_wait 10 eval '! kill -0 $SRV_PID 2>/dev/null'
wait "$SRV_PID"; RC=$?
SRV_PID=''
[ "$RC" = 0 ] && [ ! -e "$SOCK" ] && pass "SIGTERM stops the server (exit 0) and removes the socket" ||
	fail "server exit $RC, socket left: $(ls -l "$SOCK" 2>&1)"
N_JSON=$(jq -c 'select(.allowed == true and (.identity.proc.pid > 0) and (.time | length) > 0)' "$LOG.load" 2>/dev/null | wc -l)
[ "$N_JSON" -ge 200 ] && vg_valid_json_lines "$(cat "$LOG.load")" &&
	pass "-o json logs one JSON object per client ($N_JSON allowed)" ||
	fail "-o json log: $N_JSON allowed lines; head: $(head -c 300 "$LOG.load")"
grep -q "stopped: " "$LOG.load.err" && pass "the server reports its counters on exit: $(grep -o 'stopped: .*' "$LOG.load.err")" ||
	fail "no counters on exit"

# ------------------------------------------------- peers caught exiting
# Clients that connect and exit at once, in a pid namespace of 400 pids
# so that pids come back at once: the server reads them while they are
# exiting (exe, cwd and namespaces already gone). Every fact read, or no
# identity: no "allowed" without an exe, and a policy that denies the
# client's exe first never lets one through on the next rule.
vg_log "peers caught exiting"
printf 'deny  proc.exe = %s\nallow user.uid = 0\n' "$HELPER" >"$POL"
start_server "$LOG.storm" --policy "$POL" --mode 0666 --output json || vg_finish
OUT=$(timeout -k 5 300 unshare --pid --fork --mount-proc sh -c \
	'echo 400 > /proc/sys/kernel/pid_max 2>/dev/null; for i in 1 2 3; do "$0" storm "$1" 1000; done' \
	"$HELPER" "$SOCK" 2>&1)
sleep 2
TOTAL=$(grep -c . "$LOG.storm")
NOEXE=$(jq -c 'select(.allowed == true and .identity.proc.exe == null)' "$LOG.storm" 2>/dev/null | wc -l)
ALLOWED=$(jq -c 'select(.allowed == true)' "$LOG.storm" 2>/dev/null | wc -l)
GONE=$(grep -c 'peer_gone' "$LOG.storm")
EXITING=$(grep -c 'is exiting' "$LOG.storm")
vg_info "3 x 1,000 clients that exit at once ($(echo $OUT | tr '\n' ' ')): $TOTAL decisions, $GONE peer_gone ($EXITING caught exiting), $ALLOWED allowed"
[ "$TOTAL" -gt 0 ] && pass "the server decided on the storm's clients ($TOTAL)" || fail "no decision logged"
[ "$NOEXE" = 0 ] && pass "no client was allowed without an exe" ||
	fail "$NOEXE clients allowed without an exe: $(jq -c 'select(.allowed == true and .identity.proc.exe == null)' "$LOG.storm" | head -n 1 | cut -c1-400)"
[ "$ALLOWED" = 0 ] && pass "deny proc.exe = the client, then allow uid 0: no client running it was allowed" ||
	fail "$ALLOWED clients running the denied exe were allowed"
stop_server

vg_finish
