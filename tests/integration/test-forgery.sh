#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: a cgroup's name is not a container. Two forgeries,
# made for real against a running docker container (the victim):
#   - a cgroup in a user's delegated subtree
#     (user.slice/.../user@1000.service/...), named docker-<victim>.scope;
#   - a cgroup made below another container's cgroup (as a container
#     with a writable cgroupfs can), named docker/<victim>.
# A process moves itself into each and keeps running things. Neither is
# ever taken for the victim: not by `vigil pid`, `vigil watch`
# (selection by name, by id, by filter), the daemon, nor the peer server
# with a policy that allows the victim; each is shown as the claim it is
# (container.verified false, the reason, none of the victim's metadata).
# The victim itself is verified everywhere.
# Usage: test-forgery.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
HELPER=${VG_PEER_HELPER:-$(dirname "$VIGIL")/tests/peer-helper}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq timeout docker dockerd || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
[ -x "$HELPER" ] || { fail "peer helper not found: $HELPER"; vg_finish; }
# the cgroup2 tree: /sys/fs/cgroup (v2 hosts) or its unified/ (hybrid)
CG=''
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -fc %T "$d" 2>/dev/null)" = cgroup2fs ] && { CG=$d; break; }
done
[ -n "$CG" ] || { fail "no cgroup2 tree at /sys/fs/cgroup or its unified/"; vg_finish; }
if ! vg_start_dockerd || ! vg_busybox_image; then
	fail "docker daemon or image unavailable"
	vg_finish
fi

SDIR=$VG_TMPDIR/sock
mkdir -p "$SDIR" && chmod 755 "$VG_TMPDIR" "$SDIR"
cp "$HELPER" "$VG_TMPDIR/peer-helper" && chmod 755 "$VG_TMPDIR/peer-helper"
HELPER=$VG_TMPDIR/peer-helper
SOCK=$SDIR/peer.sock

# ---------------------------------------------------------------- setup
V=${VG_RUN_PREFIX}victim O=${VG_RUN_PREFIX}outer
vg_t docker run -d --name "$V" --network none -l vigil.test=victim \
	-v "$SDIR:/s" -v "$HELPER:/peer-helper:ro" "$VG_IMAGE" sleep 3600 >/dev/null ||
	{ fail "docker run $V"; vg_finish; }
vg_t docker run -d --name "$O" --network none "$VG_IMAGE" sleep 3600 >/dev/null ||
	{ fail "docker run $O"; vg_finish; }
V_ID=$(vg_t docker inspect -f '{{.Id}}' "$V")
V_PID=$(vg_t docker inspect -f '{{.State.Pid}}' "$V")
O_PID=$(vg_t docker inspect -f '{{.State.Pid}}' "$O")
V_CG=$(sed -n 's/^0:://p' "/proc/$V_PID/cgroup")
O_CG=$(sed -n 's/^0:://p' "/proc/$O_PID/cgroup")
vg_info "victim $V_ID in $V_CG; enclosing container in $O_CG"

FORGED_USER=$CG/user.slice/user-1000.slice/user@1000.service/app.slice/docker-$V_ID.scope
FORGED_NESTED=$CG$O_CG/docker/$V_ID
FORGERS=()
[ -d "$CG/user.slice" ] && MADE_USER_SLICE=0 || MADE_USER_SLICE=1
# cleanup_forged: every process in the forged cgroups, then the cgroups
# (keeps the exit status, for vg_cleanup)
cleanup_forged() {
	local rc=$? d p
	for p in "${FORGERS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for d in "$FORGED_USER" "$FORGED_NESTED"; do
		for _ in 1 2 3 4 5; do
			grep -q . "$d/cgroup.procs" 2>/dev/null || break
			while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$d/cgroup.procs"
			sleep 0.2
		done
		rmdir "$d" 2>/dev/null
	done
	rmdir "$CG/user.slice/user-1000.slice/user@1000.service/app.slice" \
		"$CG/user.slice/user-1000.slice/user@1000.service" \
		"$CG/user.slice/user-1000.slice" 2>/dev/null
	[ "$MADE_USER_SLICE" = 1 ] && rmdir "$CG/user.slice" 2>/dev/null
	rmdir "$CG$O_CG/docker" 2>/dev/null
	return "$rc"
}
trap 'cleanup_forged; vg_cleanup' EXIT

# The root of every cgroup v1 hierarchy (hybrid hosts): a forger leaves
# its own v1 cgroups for them, so that only the forged v2 one names a
# container.
V1_ROOTS=$(for f in /sys/fs/cgroup/*/cgroup.procs; do
	[ "$(stat -fc %T "$(dirname "$f")")" = cgroupfs ] && printf '%s ' "$f"; done)
MOVE='for f in $V1_ROOTS; do echo $$ >"$f" 2>/dev/null; done; echo $$ >"$1/cgroup.procs"'
export V1_ROOTS

# forge DIR: mkdir the cgroup; a shell moves itself there and then runs
# /bin/cat every 0.2 s (exec, open). Its pid in FORGED_PID.
forge() {
	FORGED_PID=
	mkdir -p "$1" || return 1
	sh -c "$MOVE"' && while :; do /bin/cat /etc/hostname >/dev/null; sleep 0.2; done' \
		forger "$1" >/dev/null 2>&1 &
	local p=$!
	FORGERS+=("$p")
	vg_track_pid "$p"
	vg_wait 5 grep -qx "$p" "$1/cgroup.procs" || return 1
	FORGED_PID=$p
}
forge "$FORGED_USER" || fail "could not make the forged cgroup $FORGED_USER"
F1=$FORGED_PID
forge "$FORGED_NESTED" || fail "could not make the forged cgroup $FORGED_NESTED"
F2=$FORGED_PID
[ -n "$F1" ] && [ -n "$F2" ] || vg_finish
vg_info "forgers: $F1 (user subtree), $F2 (below $O)"

# ------------------------------------------------------------ vigil pid
vg_vigil -o json pid "$V_PID"
jcheck "pid: the victim is verified, with its name" "$VG_OUT" \
	'.container.id == $id and .container.verified == true and .container.name == $n and (has("error") | not)' \
	--arg id "$V_ID" --arg n "$V"
for f in "$F1:user subtree" "$F2:below another container"; do
	p=${f%%:*} what=${f#*:}
	vg_vigil -o json pid "$p"
	jcheck "pid: the forger in a $what claims the id, unverified, nothing of the victim's" "$VG_OUT" \
		'.error.code == "unverified" and .container.id == $id and .container.verified == false and
		 (.container.unverified | length > 0) and .container.name == null and .container.image == null and
		 (.container.labels // {} | length == 0)' --arg id "$V_ID"
	[ "$VG_RC" -ne 0 ] && pass "pid: the forger in a $what: exit $VG_RC (not ok)" ||
		fail "pid: the forger in a $what: exit 0"
done
vg_vigil -o json pid "$F2"
jcheck "pid: the nested forger's claim names the enclosing container" "$VG_OUT" \
	'.container.nested_in.id != null and (.container.unverified | test("enclosing container"))'

# ---------------------------------------------------------- vigil watch
# selected_run NAME ARGS...: a watch selecting the victim while the
# forgers run; the victim runs cat too. Checks its events come and the
# forgers' do not.
selected_run() {
	local name=$1; shift
	watch_start "$name" --event exec "$@" || return
	for _ in 1 2 3; do vg_t docker exec "$V" cat /etc/hostname >/dev/null; sleep 0.5; done
	watch_stop
	local n_victim n_forged
	n_victim=$(jq -cR 'try fromjson catch empty | select(.evt.type == "exec" and .container.id == $id and .container.verified == true and .container.name == $n)' \
		--arg id "$V_ID" --arg n "$V" "$W_OUT" | grep -c .)
	n_forged=$(jq -cR 'try fromjson catch empty | select(.evt.type == "exec" and .container.verified != true)' "$W_OUT" | grep -c .)
	[ "$n_victim" -ge 3 ] && pass "$name: the victim's execs are delivered ($n_victim)" ||
		{ fail "$name: the victim's execs: $n_victim"; tail -n 3 "$W_OUT" | cut -c1-300; }
	[ "$n_forged" -eq 0 ] && pass "$name: no forger's exec is delivered" ||
		{ fail "$name: $n_forged forged execs delivered"; jq -cR 'try fromjson catch empty | select(.container.verified != true)' "$W_OUT" | head -n 2 | cut -c1-400; }
}
selected_run "watch --container NAME" --container "$V"
selected_run "watch --container ID" --container "${V_ID:0:12}"
selected_run "watch --filter container.name" --filter "container.name = $V"
selected_run "watch --image, --label filter" --image "*vigil-test/busybox*" --filter 'container.label.vigil.test = victim'

# no selection: the forgers' events are there, as what they are
watch_start "watch, everything" --event exec || true
vg_wait 10 eval '[ "$(jq -cR "try fromjson catch empty | select(.container.verified == false)" "$W_OUT" | grep -c .)" -ge 4 ]'
watch_stop
EV=$(jq -cR 'try fromjson catch empty | select(.evt.type == "exec" and .container.id == $id and .container.verified == false)' --arg id "$V_ID" "$W_OUT" | head -n 1)
jcheck "watch: a forger's exec carries the claim, unverified, and nothing of the victim's" "$EV" \
	'.container.id == $id and .container.verified == false and .container.name == null and .container.image == null and (.container.unverified | length > 0)' \
	--arg id "$V_ID"

# --------------------------------------------------------------- daemon
D_SOCK=$VG_TMPDIR/daemon/vigil.sock
"$VIGIL" daemon --socket "$D_SOCK" 2>"$VG_TMPDIR/daemon.err" </dev/null &
D_PID=$!
vg_track_pid "$D_PID"
if vg_wait 30 grep -q 'daemon serving' "$VG_TMPDIR/daemon.err"; then
	selected_run "daemon subscription --container NAME" --socket "$D_SOCK" --container "$V"
	selected_run "daemon subscription, filter container.name" --socket "$D_SOCK" --filter "container.name = $V"
else
	fail "the daemon did not start"; sed 's/^/    /' "$VG_TMPDIR/daemon.err" | head
fi
kill -TERM "$D_PID" 2>/dev/null
wait "$D_PID" 2>/dev/null

# ---------------------------------------------------------- peer server
POL=$VG_TMPDIR/policy.conf
printf 'allow container.name = %s\nallow container.id = %s\n' "$V" "$V_ID" >"$POL"
"$VIGIL" server --socket "$SOCK" --policy "$POL" --mode 0666 >"$VG_TMPDIR/server.log" 2>"$VG_TMPDIR/server.err" &
S_PID=$!
vg_track_pid "$S_PID"
if vg_wait 10 eval '[ -S "$SOCK" ] && grep -q listening "$VG_TMPDIR/server.err"'; then
	R=$(vg_t docker exec "$V" /peer-helper ask /s/peer.sock 2>&1 | grep '^{' | head -n 1)
	jcheck "peer: the victim is allowed by its name" "$R" \
		'.allowed == true and .identity.container.verified == true'
	for dir in "$FORGED_USER" "$FORGED_NESTED"; do
		R=$(sh -c "$MOVE"' && exec "$2" ask "$3"' ask "$dir" "$HELPER" "$SOCK" 2>&1 | grep '^{' | head -n 1)
		jcheck "peer: a client in ${dir#"$CG"} is refused as unverified" "$R" \
			'.allowed == false and .identity.error.code == "unverified" and .identity.container.id == $id and .identity.container.name == null' \
			--arg id "$V_ID"
	done
else
	fail "vigil server did not start"; sed 's/^/    /' "$VG_TMPDIR/server.err" | head
fi
kill -TERM "$S_PID" 2>/dev/null
wait "$S_PID" 2>/dev/null

vg_finish
