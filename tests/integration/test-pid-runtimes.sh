#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters and eval bodies are single-quoted on purpose
# Integration test: `vigil pid` against real docker, containerd (ctr) and
# podman containers, host processes, missing pids, stdin and --all.
# Usage: test-pid-runtimes.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds jq timeout docker dockerd ctr runc podman || vg_finish

HAVE_VIGIL=1
if [ ! -x "$VIGIL" ]; then
	fail "vigil binary not found or not executable: $VIGIL"
	HAVE_VIGIL=0
fi

T0=$SECONDS
vg_log "vigil: $VIGIL; container name prefix: $VG_RUN_PREFIX"

# --------------------------------------------------------------- runtimes up
DOCKER_OK=0 CTR_OK=0 PODMAN_OK=0
if vg_start_dockerd; then
	pass "docker daemon answers"
	vg_sweep_stale
	vg_busybox_image && DOCKER_OK=1
else
	fail "docker daemon could not be started"
fi
if [ "$DOCKER_OK" = 1 ]; then
	if [ -n "$VG_CTR_SOCK" ] && vg_ctr_image; then
		CTR_OK=1
	else
		fail "containerd (socket ${VG_CTR_SOCK:-none}) unusable: image import into '$VG_CTR_NS' failed"
	fi
fi
vg_podman_image && PODMAN_OK=1

# --------------------------------------------------------------- containers
D1=${VG_RUN_PREFIX}docker1
D2=${VG_RUN_PREFIX}docker2
C1=${VG_RUN_PREFIX}ctr1
P1=${VG_RUN_PREFIX}podman1
D1_ID='' D1_PID='' D2_ID='' D2_PID='' C1_PID='' P1_ID='' P1_PID=''

is_hex64() { [[ $1 =~ ^[0-9a-f]{64}$ ]]; }
is_pid()   { [[ $1 =~ ^[1-9][0-9]*$ ]] && [ -d "/proc/$1" ]; }

# start_docker NAME -> sets SID SPID
start_docker() {
	SID='' SPID=''
	local err
	if ! err=$(vg_t docker run -d --name "$1" --network none "$VG_IMAGE" sleep 600 2>&1); then
		fail "docker: 'docker run -d --name $1' failed: $err"
		return 1
	fi
	SID=$(vg_t docker inspect -f '{{.Id}}' "$1" 2>/dev/null)
	# shellcheck disable=SC2034  # used inside the eval below
	SNAME=$1
	vg_wait 20 eval 'SPID=$(vg_t docker inspect -f "{{.State.Pid}}" "$SNAME" 2>/dev/null); is_pid "$SPID"'
	if is_hex64 "$SID" && is_pid "$SPID"; then
		pass "docker: container $1 running (pid $SPID, id ${SID:0:12}…)"
	else
		fail "docker: container $1 has no usable id/pid (id='$SID' pid='$SPID')"
		return 1
	fi
}

if [ "$DOCKER_OK" = 1 ]; then
	start_docker "$D1" && { D1_ID=$SID; D1_PID=$SPID; }
	start_docker "$D2" && { D2_ID=$SID; D2_PID=$SPID; }
fi

if [ "$DOCKER_OK" = 0 ]; then
	fail "containerd: not tried, docker's containerd is not up"
fi
if [ "$CTR_OK" = 1 ]; then
	if err=$(vg_ctr run -d "$VG_CTR_IMAGE" "$C1" sleep 600 2>&1); then
		vg_wait 20 eval 'C1_PID=$(vg_ctr_pid "$C1"); is_pid "$C1_PID"'
		# cross-check with `ctr task ps`, which lists the task's processes
		if is_pid "$C1_PID" && vg_ctr task ps "$C1" 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$C1_PID"; then
			pass "containerd: task $C1 running in namespace $VG_CTR_NS (pid $C1_PID)"
		else
			fail "containerd: task $C1 has no usable pid ('$C1_PID')"
			C1_PID=
		fi
	else
		fail "containerd: 'ctr run -d $C1' failed: $err"
	fi
fi

if [ "$PODMAN_OK" = 1 ]; then
	if err=$(vg_podman_run -d --name "$P1" "$VG_PODMAN_IMAGE" sleep 600 2>&1); then
		P1_ID=$(vg_podman inspect -f '{{.Id}}' "$P1" 2>/dev/null)
		vg_wait 20 eval 'P1_PID=$(vg_podman inspect -f "{{.State.Pid}}" "$P1" 2>/dev/null); is_pid "$P1_PID"'
		if is_hex64 "$P1_ID" && is_pid "$P1_PID"; then
			pass "podman: container $P1 running (pid $P1_PID, id ${P1_ID:0:12}…)"
		else
			fail "podman: container $P1 has no usable id/pid (id='$P1_ID' pid='$P1_PID')"
			P1_PID=
		fi
	else
		fail "podman: 'podman run -d --name $P1' failed: $(printf '%s' "$err" | tail -n 3)"
	fi
else
	fail "podman: image $VG_PODMAN_IMAGE unavailable"
fi

# A second process in D1 (docker exec): not the container's init.
D1_EXEC_PID=''
if [ -n "$D1_PID" ]; then
	if vg_t docker exec -d "$D1" sleep 599 >/dev/null 2>&1; then
		d1_cg=$(sed -n 's/^0:://p' "/proc/$D1_PID/cgroup")
		find_exec() {
			local p
			for p in $(pgrep -x sleep); do
				[ "$p" = "$D1_PID" ] && continue
				[ "$(sed -n 's/^0:://p' "/proc/$p/cgroup" 2>/dev/null)" = "$d1_cg" ] &&
					grep -qx 599 <(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null) && { D1_EXEC_PID=$p; return 0; }
			done
			return 1
		}
		if vg_wait 20 find_exec; then
			pass "docker: exec'd process in $D1 running (pid $D1_EXEC_PID)"
		else
			fail "docker: exec'd 'sleep 599' in $D1 not found on the host"
		fi
	else
		fail "docker: docker exec -d $D1 failed"
	fi
fi

for p in "$D1_PID" "$C1_PID" "$P1_PID"; do
	[ -n "$p" ] && vg_info "/proc/$p/cgroup: $(tr '\n' ' ' </proc/"$p"/cgroup)"
done

# Host processes: a sleep started here, and a pid known not to exist.
sleep 600 &
HOST_PID=$!
disown "$HOST_PID"
vg_track_pid "$HOST_PID"
true &
DEAD_PID=$!
wait "$DEAD_PID"
if [ -d "/proc/$DEAD_PID" ]; then DEAD_PID=4194304; fi  # reused already: above any pid_max

vg_log "setup took $((SECONDS - T0))s"

if [ "$HAVE_VIGIL" = 0 ]; then
	vg_log "no vigil binary: runtime setup checked only"
	vg_finish
fi

# --------------------------------------------------------------- vigil pid
# Where the unified (v2) hierarchy is mounted: hybrid here, pure v2 elsewhere.
CG2_ROOT=/sys/fs/cgroup/unified
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && CG2_ROOT=/sys/fs/cgroup

# check_cgroup LABEL PID: .cgroup.path is the process's v2 path ("0::" line)
# and .cgroup.id the inode of that directory (what bpf_get_current_cgroup_id
# returns).  Uses VG_OUT from the previous call.
check_cgroup() {
	local label=$1 pid=$2 path ino
	path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
	ino=$(stat -c %i "$CG2_ROOT$path" 2>/dev/null)
	jcheck "$label: .cgroup.path == \"$path\"" "$VG_OUT" '.cgroup.path == $c' --arg c "$path"
	jcheck "$label: .cgroup.id == $ino (inode of $CG2_ROOT$path)" "$VG_OUT" \
		'.cgroup.id == $i' --argjson i "${ino:-null}"
}

# check_one LABEL PID RUNTIME ID: `vigil --output json pid PID`
check_one() {
	local label=$1 pid=$2 rt=$3 id=$4
	vg_vigil --output json pid "$pid"
	if [ "$VG_RC" -ne 0 ]; then
		fail "$label: vigil --output json pid $pid exits 0"; vg_show
	else
		pass "$label: vigil --output json pid $pid exits 0"
	fi
	if ! vg_valid_json_lines "$VG_OUT" || [ "$(vg_count_lines "$VG_OUT")" -ne 1 ]; then
		fail "$label: output is exactly one JSON object line"; vg_show
		return
	fi
	pass "$label: output is exactly one JSON object line"
	jcheck "$label: .proc.pid == $pid" "$VG_OUT" '.proc.pid == $p' --argjson p "$pid"
	jcheck "$label: .container.runtime == \"$rt\"" "$VG_OUT" '.container.runtime == $r' --arg r "$rt"
	jcheck "$label: .container.id == \"$id\"" "$VG_OUT" '.container.id == $i' --arg i "$id"
	if [ "$rt" = none ]; then
		jcheck "$label: .container.role == \"host\"" "$VG_OUT" '.container.role == "host"'
	else
		jcheck "$label: .container.role == \"container\"" "$VG_OUT" '.container.role == "container"'
		jcheck "$label: verified by its runtime's record" "$VG_OUT" \
			'.container.verified == true and .container.verification == "runtime"'
	fi
	jcheck "$label: .proc.name == \"sleep\"" "$VG_OUT" '.proc.name == "sleep"'
	check_cgroup "$label" "$pid"
	jcheck "$label: no .error" "$VG_OUT" 'has("error") | not'
}

if [ -n "$D1_PID" ]; then
	check_one docker "$D1_PID" docker "$D1_ID"
	jcheck "docker: .proc.args == [\"sleep\",\"600\"]" "$VG_OUT" '.proc.args == ["sleep","600"]'
else
	fail "docker: no container to check vigil against"
fi
if [ -n "$D1_EXEC_PID" ]; then
	vg_vigil --output json pid "$D1_EXEC_PID"
	jcheck "docker exec: pid $D1_EXEC_PID (not init) is in container $D1_ID" "$VG_OUT" \
		'.proc.pid == $p and .container.runtime == "docker" and .container.id == $i and .container.role == "container"' \
		--argjson p "$D1_EXEC_PID" --arg i "$D1_ID"
fi
if [ -n "$C1_PID" ]; then
	check_one containerd "$C1_PID" containerd "$C1"
else
	fail "containerd: no container to check vigil against"
fi
if [ -n "$P1_PID" ]; then
	check_one podman "$P1_PID" podman "$P1_ID"
else
	fail "podman: no container to check vigil against"
fi

check_one "host sleep" "$HOST_PID" none host

# This shell itself: a host process.  (Here its v1 memory cgroup is
# /process_api/<32 hex>, which must not be taken for a container.)
vg_vigil --output json pid $$
jcheck "host shell \$\$ ($$): container is host/none" "$VG_OUT" \
	'.proc.pid == $p and .container.id == "host" and .container.runtime == "none"' --argjson p $$

# docker with a custom --cgroup-parent: the cgroup path is /<parent>/<id>,
# a shape only docker's state can confirm.
if [ "$DOCKER_OK" = 1 ]; then
	D3="${VG_RUN_PREFIX}cgparent"
	if err=$(vg_t docker run -d --name "$D3" --network none --cgroup-parent /vigil-it-parent "$VG_IMAGE" sleep 600 2>&1); then
		D3_ID=$(vg_t docker inspect -f '{{.Id}}' "$D3" 2>/dev/null)
		D3_PID=''
		vg_wait 20 eval 'D3_PID=$(vg_t docker inspect -f "{{.State.Pid}}" "$D3" 2>/dev/null); is_pid "$D3_PID"'
		if is_pid "$D3_PID"; then
			vg_vigil --output json pid "$D3_PID"
			jcheck "docker --cgroup-parent: pid $D3_PID is docker $D3_ID" "$VG_OUT" \
				'.container.runtime == "docker" and .container.id == $i and .container.role == "container"' \
				--arg i "$D3_ID"
		else
			fail "docker --cgroup-parent: container $D3 has no pid"
		fi
	else
		fail "docker --cgroup-parent: 'docker run' failed: $err"
	fi
fi

# --------------------------------------------------------------- stdin pipeline
if [ -n "$D1_PID" ] && [ -n "$D2_PID" ]; then
	pids=$(vg_t docker ps -q --filter "name=^/${VG_RUN_PREFIX}docker" | xargs -r docker inspect -f '{{.State.Pid}}')
	VG_STDIN=$pids
	vg_vigil --output json pid -
	n_in=$(vg_count_lines "$pids")
	if [ "$VG_RC" -eq 0 ]; then pass "pipeline: docker ps -q | xargs docker inspect | vigil --output json pid - exits 0"
	else fail "pipeline: docker ps -q | xargs docker inspect | vigil --output json pid - exits 0"; vg_show; fi
	if vg_valid_json_lines "$VG_OUT" && [ "$(vg_count_lines "$VG_OUT")" -eq "$n_in" ]; then
		pass "pipeline: one JSON line per stdin pid ($n_in)"
	else
		fail "pipeline: one JSON line per stdin pid ($n_in)"; vg_show
	fi
	got_order=$(printf '%s\n' "$VG_OUT" | jq -r '.proc.pid' 2>/dev/null | tr '\n' ' ')
	want_order=$(printf '%s\n' "$pids" | tr '\n' ' ')
	if [ "$got_order" = "$want_order" ]; then pass "pipeline: output order follows stdin order"
	else fail "pipeline: output order follows stdin order (want '$want_order', got '$got_order')"; fi
	for pair in "$D1_PID:$D1_ID" "$D2_PID:$D2_ID"; do
		p=${pair%%:*} id=${pair#*:}
		line=$(vg_line_for_pid "$p")
		jcheck "pipeline: pid $p is docker $id" "$line" \
			'.container.runtime == "docker" and .container.id == $i' --arg i "$id"
	done
	# The literal form from the docs, on whatever docker runs here.
	all_pids=$(vg_t docker ps -q | xargs -r docker inspect -f '{{.State.Pid}}')
	VG_STDIN=$all_pids
	vg_vigil --output json pid -
	line=$(vg_line_for_pid "$D1_PID")
	jcheck "pipeline (unfiltered docker ps -q): pid $D1_PID is docker $D1_ID" "$line" \
		'.container.runtime == "docker" and .container.id == $i' --arg i "$D1_ID"
else
	fail "pipeline: needs two docker containers"
fi

# --------------------------------------------------------------- missing pid
if [ -d "/proc/$DEAD_PID" ]; then
	fail "missing pid: could not find a pid that does not exist"
else
	args=("$HOST_PID" "$DEAD_PID")
	[ -n "$D1_PID" ] && args+=("$D1_PID")
	vg_vigil --output json pid "${args[@]}"
	if [ "$VG_RC" -eq 1 ]; then pass "missing pid: vigil pid ${args[*]} exits 1"
	else fail "missing pid: vigil pid ${args[*]} exits 1"; vg_show; fi
	if vg_valid_json_lines "$VG_OUT" && [ "$(vg_count_lines "$VG_OUT")" -eq "${#args[@]}" ]; then
		pass "missing pid: one JSON line per pid (${#args[@]}), found ones still printed"
	else
		fail "missing pid: one JSON line per pid (${#args[@]}), found ones still printed"; vg_show
	fi
	line=$(vg_line_for_pid "$DEAD_PID")
	jcheck "missing pid: pid $DEAD_PID has .error.code == \"not_found\"" "$line" '.error.code == "not_found"'
	line=$(vg_line_for_pid "$HOST_PID")
	jcheck "missing pid: host pid $HOST_PID still printed as host" "$line" \
		'.container.id == "host" and (has("error") | not)'
	if [ -n "$D1_PID" ]; then
		line=$(vg_line_for_pid "$D1_PID")
		jcheck "missing pid: docker pid $D1_PID still printed with its id" "$line" \
			'.container.id == $i and (has("error") | not)' --arg i "$D1_ID"
	fi
fi

# --------------------------------------------------------------- usage
vg_vigil --output json pid not-a-pid
if [ "$VG_RC" -eq 2 ]; then pass "usage: vigil pid not-a-pid exits 2"
else fail "usage: vigil pid not-a-pid exits 2"; vg_show; fi

# --------------------------------------------------------------- --all
nproc_before=$(find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' | wc -l)
t=$SECONDS
vg_vigil pid --all --output json
nproc_after=$(find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' | wc -l)
vg_log "vigil pid --all took $((SECONDS - t))s, $(vg_count_lines "$VG_OUT") lines"
if [ "$VG_RC" -eq 0 ]; then pass "--all: vigil pid --all --output json exits 0"
else fail "--all: vigil pid --all --output json exits 0"; vg_show; fi
if vg_valid_json_lines "$VG_OUT"; then pass "--all: every line is a JSON object"
else fail "--all: every line is a JSON object"; printf '%s\n' "$VG_OUT" | jq -R 'try fromjson catch .' 2>&1 | grep -v '^{' | head -5 | sed 's/^/    /'; fi
# Other work on the machine may start or end many processes meanwhile.
nproc_min=$((nproc_before < nproc_after ? nproc_before : nproc_after))
check "--all: output lines ($(vg_count_lines "$VG_OUT")) >= half the processes in /proc (before $nproc_before, after $nproc_after)" \
	test "$(vg_count_lines "$VG_OUT")" -ge $((nproc_min / 2))
dups=$(printf '%s\n' "$VG_OUT" | jq -R 'try fromjson catch empty | .proc.pid' 2>/dev/null | sort | uniq -d | head -5 | tr '\n' ' ')
if [ -z "$dups" ]; then pass "--all: no pid printed twice"; else fail "--all: no pid printed twice (repeated: $dups)"; fi
for spec in "docker:$D1_PID:$D1_ID" "containerd:$C1_PID:$C1" "podman:$P1_PID:$P1_ID" "none:$HOST_PID:host"; do
	rt=${spec%%:*} rest=${spec#*:}; p=${rest%%:*} id=${rest#*:}
	[ -z "$p" ] && { fail "--all: no $rt process to look for"; continue; }
	line=$(vg_line_for_pid "$p")
	jcheck "--all: includes $rt pid $p with id $id" "$line" \
		'.container.runtime == $r and .container.id == $i' --arg r "$rt" --arg i "$id"
done

# For information: what vigil says about the runtime's helper processes.
for p in $(pgrep -x conmon) $(pgrep -f '^/usr/bin/containerd-shim-runc-v2' | head -2); do
	line=$(vg_line_for_pid "$p")
	[ -n "$line" ] && vg_info "pid $p ($(cat /proc/"$p"/comm 2>/dev/null)): $(printf '%s' "$line" | jq -c '.container' 2>/dev/null)"
done

vg_log "test took $((SECONDS - T0))s"
vg_finish
