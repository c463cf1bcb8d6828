# shellcheck shell=bash
# Helper library for vigil's root integration tests.  Source it; do not run it.
#
# Real container runtimes, offline (see shared/docs/environment.md):
#   docker     dockerd started here if not answering (--bridge=none, no iptables)
#   containerd docker's own instance (/run/docker/containerd/containerd.sock),
#              images come from `docker save | ctr image import`
#   podman     needs --runtime runc and explicit --ulimit here (hybrid cgroups)
# Images are built locally from busybox-static; nothing is pulled.
# Every container runs with --network none (ctr: a fresh netns with lo only).
#
# Reporting: pass "msg" / fail "msg" count results; vg_summary prints the
# closing line "N passed, M failed" and returns non-zero on any failure.
# Cleanup: vg_init installs an EXIT trap that removes every container whose
# name starts with $VG_RUN_PREFIX (vigil-it-<pid of this shell>-), kills the
# host helper processes registered with vg_track_pid, and stops dockerd if
# this shell started it.  All waits are bounded.

# The binary a test runs when neither its argument nor $VIGIL names one:
# this checkout's build.
# shellcheck disable=SC2034  # read by the scripts that source this
VG_DEFAULT_VIGIL=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/vigil

VG_IMAGE=${VG_IMAGE:-vigil-test/busybox:1}
VG_CTR_IMAGE=${VG_CTR_IMAGE:-docker.io/$VG_IMAGE}
VG_PODMAN_IMAGE=${VG_PODMAN_IMAGE:-localhost/$VG_IMAGE}
VG_CTR_NS=${VG_CTR_NS:-vigiltest}
VG_PREFIX=${VG_PREFIX:-vigil-it-}
VG_RUN_PREFIX="${VG_PREFIX}$$-"
VG_CMD_TIMEOUT=${VG_CMD_TIMEOUT:-120}      # any single runtime/vigil command
VG_DOCKERD_TIMEOUT=${VG_DOCKERD_TIMEOUT:-60}
VG_DOCKERD_LOG=${VG_DOCKERD_LOG:-/var/log/dockerd.log}

VG_PASS=0
VG_FAIL=0
VG_STARTED_DOCKERD=${VG_STARTED_DOCKERD:-0}
VG_DOCKERD_PID=${VG_DOCKERD_PID:-}
VG_TMPDIR=
VG_CTR_SOCK=${VG_CTR_SOCK:-}
VG_TRACKED_PIDS=()

# ---------------------------------------------------------------- reporting

vg_log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
pass()    { VG_PASS=$((VG_PASS + 1)); printf 'PASS: %s\n' "$*"; }
fail()    { VG_FAIL=$((VG_FAIL + 1)); printf 'FAIL: %s\n' "$*"; }
vg_info() { printf 'INFO: %s\n' "$*"; }

# check DESC CMD... : pass if CMD succeeds, else fail.
check() {
	local desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# vg_summary: the closing line, exactly "N passed, M failed" alone on a line.
vg_summary() {
	printf '%d passed, %d failed\n' "$VG_PASS" "$VG_FAIL"
	[ "$VG_FAIL" -eq 0 ]
}

# vg_finish: clean up first (so nothing is printed after the summary), print
# the summary and exit with its status.
vg_finish() {
	vg_cleanup_now
	if vg_summary; then exit 0; else exit 1; fi
}

vg_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: $(basename "$0") needs root (real docker/containerd/podman containers); run it as root"
		exit 77
	fi
}

# vg_need_cmds CMD...: a missing tool is a FAIL, never a silent pass.
vg_need_cmds() {
	local c missing=()
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
	if [ ${#missing[@]} -gt 0 ]; then
		fail "missing tools: ${missing[*]} (apt-get install -y docker.io containerd runc podman busybox-static jq auditd)"
		return 1
	fi
	return 0
}

# vg_wait TIMEOUT_S CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout.
vg_wait() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

vg_t() { timeout -k 5 "$VG_CMD_TIMEOUT" "$@"; }

# vg_mounts_of_type ERE [PID]: the mount points whose file system type
# matches ERE, from /proc/PID/mountinfo (default: this shell's).
vg_mounts_of_type() {
	awk -v re="^($1)\$" '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ re) print $5; break } }' \
		"/proc/${2:-self}/mountinfo"
}

# vg_enter_no_tracefs ARGS...: go on in a private mount namespace where
# tracefs and debugfs are unmounted, as on a fresh host (which has none):
# a machine that happens to have them mounted cannot make an eBPF test
# pass. The test script is started again there with ARGS; call this
# before vg_init. Fails the test if either is still mounted there.
vg_enter_no_tracefs() {
	if [ -z "${VG_NO_TRACEFS_NS:-}" ]; then
		export VG_NO_TRACEFS_NS=1
		exec unshare --mount --propagation private -- bash "$0" "$@"
	fi
	local mp
	# deepest first: debugfs's tracing automount sits inside debugfs
	for mp in $(vg_mounts_of_type 'tracefs|debugfs' | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
		umount -l "$mp" 2>/dev/null
	done
	if [ -n "$(vg_mounts_of_type 'tracefs|debugfs')" ]; then
		fail "tracefs or debugfs is still mounted in the test's mount namespace: $(vg_mounts_of_type 'tracefs|debugfs' | tr '\n' ' ')"
	else
		vg_info "this test runs with no tracefs or debugfs mounted (mount namespace $(readlink /proc/self/ns/mnt))"
	fi
}

# ---------------------------------------------------------------- lifecycle

vg_init() {
	VG_TMPDIR=$(mktemp -d /tmp/vigil-it.XXXXXX) || { echo "FAIL: mktemp"; exit 1; }
	trap 'vg_cleanup' EXIT
	trap 'echo "interrupted"; exit 130' INT TERM HUP
}

# vg_track_pid PID: a host helper process to kill at cleanup.
vg_track_pid() { VG_TRACKED_PIDS+=("$1"); }

vg_docker_ok() { timeout -k 2 10 docker info >/dev/null 2>&1; }

# vg_start_dockerd: make sure a docker daemon answers.  Starts one (detached,
# no bridge, no iptables, all inherited fds above 2 closed) if needed; waits at
# most $VG_DOCKERD_TIMEOUT s.  Idempotent.  Records VG_STARTED_DOCKERD=1 and
# VG_DOCKERD_PID when it started the daemon, so vg_cleanup can stop it.
vg_start_dockerd() {
	vg_need_cmds docker dockerd || return 1
	if vg_docker_ok; then
		vg_ctr_detect_sock
		return 0
	fi
	if ! pgrep -x dockerd >/dev/null 2>&1; then
		# PID 1 here is not systemd (firecracker's process_api), so no unit to
		# start: run the daemon ourselves, in its own session, log to a file.
		vg_log "starting dockerd (log: $VG_DOCKERD_LOG)"
		(
			for fd in /proc/"$BASHPID"/fd/*; do
				fd=${fd##*/}
				[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
			done
			exec setsid dockerd --bridge=none --iptables=false --ip6tables=false \
				</dev/null >>"$VG_DOCKERD_LOG" 2>&1
		) &
		VG_DOCKERD_PID=$!
		VG_STARTED_DOCKERD=1
	else
		vg_log "dockerd is running but not answering yet; waiting for it"
	fi
	local end=$((SECONDS + VG_DOCKERD_TIMEOUT))
	while ! vg_docker_ok; do
		if [ "$VG_STARTED_DOCKERD" = 1 ] && ! kill -0 "$VG_DOCKERD_PID" 2>/dev/null; then
			fail "dockerd exited during startup; last log lines:"
			tail -n 20 "$VG_DOCKERD_LOG" | sed 's/^/    /'
			return 1
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			fail "dockerd did not answer within ${VG_DOCKERD_TIMEOUT}s; last log lines:"
			tail -n 20 "$VG_DOCKERD_LOG" | sed 's/^/    /'
			return 1
		fi
		sleep 0.5
	done
	if [ "$VG_STARTED_DOCKERD" = 1 ] && [ -r /var/run/docker.pid ]; then
		local p
		p=$(cat /var/run/docker.pid 2>/dev/null)
		[ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = dockerd ] && VG_DOCKERD_PID=$p
	fi
	vg_ctr_detect_sock
	return 0
}

vg_stop_dockerd() {
	[ "$VG_STARTED_DOCKERD" = 1 ] && [ -n "$VG_DOCKERD_PID" ] || return 0
	kill -0 "$VG_DOCKERD_PID" 2>/dev/null || return 0
	vg_log "stopping dockerd (pid $VG_DOCKERD_PID)"
	kill -TERM "$VG_DOCKERD_PID" 2>/dev/null
	if ! vg_wait 30 eval "! kill -0 $VG_DOCKERD_PID 2>/dev/null"; then
		kill -KILL "$VG_DOCKERD_PID" 2>/dev/null
	fi
	VG_STARTED_DOCKERD=0
}

# vg_remove_containers PREFIX: remove docker, podman and ctr containers whose
# name starts with PREFIX.  Quiet, bounded, never fails.
vg_remove_containers() {
	local prefix=$1 ids n
	if command -v docker >/dev/null && vg_docker_ok; then
		ids=$(vg_t docker ps -aq --filter "name=^/${prefix}" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$ids" ] && vg_t docker rm -f $ids >/dev/null 2>&1
	fi
	if command -v podman >/dev/null; then
		ids=$(vg_t podman ps -aq --filter "name=^${prefix}" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$ids" ] && vg_t podman rm -f -t 0 $ids >/dev/null 2>&1
	fi
	if command -v ctr >/dev/null && [ -n "$VG_CTR_SOCK" ] && [ -S "$VG_CTR_SOCK" ]; then
		for n in $(vg_ctr containers ls -q 2>/dev/null); do
			case $n in "$prefix"*) vg_ctr_rm "$n" ;; esac
		done
	fi
}

# vg_sweep_stale: remove vigil-it-<pid>-* containers left by dead earlier runs.
vg_sweep_stale() {
	local names n owner
	names=$( {
		vg_docker_ok && vg_t docker ps -a --format '{{.Names}}' 2>/dev/null
		command -v podman >/dev/null && vg_t podman ps -a --format '{{.Names}}' 2>/dev/null
		[ -n "$VG_CTR_SOCK" ] && [ -S "$VG_CTR_SOCK" ] && vg_ctr containers ls -q 2>/dev/null
	} | grep "^${VG_PREFIX}[0-9][0-9]*-" | sort -u)
	for n in $names; do
		owner=${n#"$VG_PREFIX"}; owner=${owner%%-*}
		if ! kill -0 "$owner" 2>/dev/null; then
			vg_log "removing stale container $n"
			vg_remove_containers "$n"
		fi
	done
}

# vg_cleanup_now: kill tracked helpers, remove this run's containers, stop
# dockerd if we started it, remove the temp dir.  Idempotent.
VG_CLEANED=0
vg_cleanup_now() {
	[ "$VG_CLEANED" = 1 ] && return 0
	VG_CLEANED=1
	local p
	for p in "${VG_TRACKED_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	vg_remove_containers "$VG_RUN_PREFIX"
	vg_stop_dockerd
	# VG_KEEP_TMP=1 keeps the outputs, to look at a failure
	[ -n "$VG_TMPDIR" ] && [ -z "${VG_KEEP_TMP:-}" ] && rm -rf "$VG_TMPDIR"
	return 0
}

# vg_cleanup: the EXIT trap; keeps the exit status.
vg_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	vg_cleanup_now
	exit "$rc"
}

# ---------------------------------------------------------------- images

# vg_rootfs_tar: a tarball of a minimal busybox-static rootfs (path on stdout).
vg_rootfs_tar() {
	local tar=$VG_TMPDIR/rootfs.tar root=$VG_TMPDIR/rootfs bb c
	if [ ! -s "$tar" ]; then
		bb=$(command -v busybox 2>/dev/null || echo /bin/busybox)
		for c in /bin/busybox /usr/bin/busybox "$bb"; do [ -x "$c" ] && { bb=$c; break; }; done
		if [ ! -x "$bb" ] || LC_ALL=C ldd "$bb" 2>&1 | grep -q '=>'; then
			echo "busybox-static is needed (found: ${bb:-none}, dynamic or missing)" >&2
			return 1
		fi
		mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc" || return 1
		cp "$bb" "$root/bin/busybox" || return 1
		for c in sh ls cat sleep echo true touch rm mkdir nc ps id; do ln -sf busybox "$root/bin/$c"; done
		tar -C "$root" -cf "$tar" . || return 1
	fi
	echo "$tar"
}

# vg_busybox_image: docker image $VG_IMAGE, created by `docker import` if missing.
vg_busybox_image() {
	vg_t docker image inspect "$VG_IMAGE" >/dev/null 2>&1 && return 0
	local tar
	tar=$(vg_rootfs_tar) || { fail "cannot build busybox rootfs"; return 1; }
	if ! vg_t docker import "$tar" "$VG_IMAGE" >/dev/null; then
		fail "docker import of $VG_IMAGE failed"
		return 1
	fi
	return 0
}

# vg_vigil_image: a docker image of $VIGIL and the shared libraries it
# links (FROM scratch, made with docker import), once per binary; its
# name is VG_VIGIL_IMAGE. Fails the check if it cannot be made.
vg_vigil_image() {
	local root=$VG_TMPDIR/vigil-image lib
	VG_VIGIL_IMAGE=vigil-test/vigil:$(sha256sum "$VIGIL" | cut -c1-12)
	vg_t docker image inspect "$VG_VIGIL_IMAGE" >/dev/null 2>&1 && return 0
	rm -rf "$root"
	mkdir -p "$root/usr/bin" "$root/host" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/run" || return 1
	cp "$VIGIL" "$root/usr/bin/vigil" || return 1
	for lib in $(ldd "$VIGIL" | awk '/=>/ { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
	if ! tar -C "$root" -c . | vg_t docker import - "$VG_VIGIL_IMAGE" >/dev/null; then
		fail "docker import of the vigil image failed"
		return 1
	fi
}

# vg_build_storm: build bench/storm.c (the benchmarks' workloads) into
# $VG_TMPDIR, once; its path is VG_STORM_BIN. Fails the check if it does
# not build.
vg_build_storm() {
	VG_STORM_BIN=$VG_TMPDIR/storm
	[ -x "$VG_STORM_BIN" ] && return 0
	cc -std=gnu11 -O2 -o "$VG_STORM_BIN" "$(dirname "${BASH_SOURCE[0]}")/../../bench/storm.c" \
		2>"$VG_TMPDIR/storm-cc.err" && return 0
	fail "could not build bench/storm.c: $(head -c 300 "$VG_TMPDIR/storm-cc.err")"
	return 1
}

# ---------------------------------------------------------------- containerd

vg_ctr_detect_sock() {
	[ -n "$VG_CTR_SOCK" ] && [ -S "$VG_CTR_SOCK" ] && return 0
	local s
	# dockerd uses a system containerd when one is running, else its own.
	for s in /run/docker/containerd/containerd.sock /var/run/docker/containerd/containerd.sock \
		/run/containerd/containerd.sock; do
		if [ -S "$s" ]; then VG_CTR_SOCK=$s; return 0; fi
	done
	return 1
}

vg_ctr() {
	vg_ctr_detect_sock || { echo "no containerd socket" >&2; return 1; }
	vg_t ctr -a "$VG_CTR_SOCK" -n "$VG_CTR_NS" "$@"
}

# vg_ctr_import DOCKER_IMAGE CTR_REF: copy a docker image into containerd
# namespace $VG_CTR_NS, once.  `docker save | ctr image import -` can exit 0
# without the image landing, so the tar goes through a file, the image is
# looked for afterwards, and the import is tried three times.  On failure
# it fails the check with what docker and ctr said, and returns 1.
vg_ctr_import() {
	local img=$1 ref=$2 try tar=$VG_TMPDIR/ctr-import.tar err=$VG_TMPDIR/ctr-import.err
	: >"$err"
	for try in 1 2 3; do
		vg_ctr image ls -q 2>/dev/null | grep -qxF "$ref" && return 0
		if [ "$try" -gt 1 ]; then
			vg_info "containerd: import of $img, try $try, after: $(tail -n 3 "$err" | tr '\n' ' ')"
			sleep 1
		fi
		vg_t docker save -o "$tar" "$img" 2>"$err" &&
			vg_ctr image import "$tar" >/dev/null 2>>"$err"
		rm -f "$tar"
	done
	vg_ctr image ls -q 2>/dev/null | grep -qxF "$ref" && return 0
	fail "containerd: could not import $img as $ref into namespace $VG_CTR_NS; docker and ctr said:"
	tail -n 10 "$err" | sed 's/^/    /'
	return 1
}

# vg_ctr_image: import the busybox image into containerd namespace $VG_CTR_NS once.
vg_ctr_image() {
	vg_busybox_image || return 1
	vg_ctr_import "$VG_IMAGE" "$VG_CTR_IMAGE"
}

# vg_ctr_pid NAME: host pid of the task's init process (empty if none).
vg_ctr_pid() {
	vg_ctr task ls 2>/dev/null | awk -v n="$1" '$1 == n && $3 == "RUNNING" { print $2 }'
}

# vg_ctr_rm NAME: kill and delete task and container.
vg_ctr_rm() {
	vg_ctr task kill -s SIGKILL "$1" >/dev/null 2>&1
	vg_wait 10 eval "[ -z \"\$(vg_ctr_pid '$1')\" ]"
	vg_ctr task rm -f "$1" >/dev/null 2>&1
	vg_ctr containers rm "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- podman

# Here crun refuses hybrid cgroups, and runc cannot raise the default
# nofile/nproc rlimits ("error setting rlimit type 7"), hence the flags.
VG_PODMAN_RUN_FLAGS=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none)

vg_podman() { vg_t podman "$@"; }

# vg_podman_run ARGS...: `podman run` with the flags this machine needs.
vg_podman_run() { vg_t podman run "${VG_PODMAN_RUN_FLAGS[@]}" "$@"; }

vg_podman_image() {
	vg_t podman image exists "$VG_PODMAN_IMAGE" 2>/dev/null && return 0
	local tar
	tar=$(vg_rootfs_tar) || { fail "cannot build busybox rootfs"; return 1; }
	if ! vg_t podman import "$tar" "$VG_IMAGE" >/dev/null 2>&1; then
		fail "podman import of $VG_IMAGE failed"
		return 1
	fi
}

# ---------------------------------------------------------------- vigil

# vg_vigil ARGS...: run vigil ($VIGIL) bounded; sets VG_OUT (stdout),
# VG_ERR (stderr) and VG_RC.  Optional stdin via VG_STDIN.
vg_vigil() {
	local ef=$VG_TMPDIR/vigil.err
	if [ -n "${VG_STDIN+x}" ]; then
		VG_OUT=$(printf '%s' "$VG_STDIN" | timeout -k 5 60 "$VIGIL" "$@" 2>"$ef")
		VG_RC=$?
		unset VG_STDIN
	else
		VG_OUT=$(timeout -k 5 60 "$VIGIL" "$@" </dev/null 2>"$ef")
		VG_RC=$?
	fi
	VG_ERR=$(cat "$ef" 2>/dev/null)
	[ "$VG_RC" -eq 124 ] && echo "    (vigil $* timed out after 60s)"
	return 0
}

# vg_show: print the last vigil output for a failure report (truncated).
vg_show() {
	printf '    rc=%s\n' "$VG_RC"
	printf '%s\n' "$VG_OUT" | head -c 2000 | sed 's/^/    stdout: /'
	[ -n "$VG_ERR" ] && printf '%s\n' "$VG_ERR" | head -c 1000 | sed 's/^/    stderr: /'
	return 0
}

# jcheck DESC JSON FILTER [jq args...]: pass if `jq -e FILTER` is true on JSON.
jcheck() {
	local desc=$1 json=$2 filter=$3; shift 3
	if [ -n "$json" ] && printf '%s\n' "$json" | jq -e "$@" "$filter" >/dev/null 2>&1; then
		pass "$desc"
	else
		fail "$desc"
		printf '    jq filter: %s\n' "$filter"
		printf '%s\n' "$json" | head -c 1500 | sed 's/^/    json: /'
	fi
}

# vg_line_for_pid PID: the first line of VG_OUT that is a JSON object whose
# .proc.pid is PID (lines that are not JSON are ignored here).
vg_line_for_pid() {
	printf '%s\n' "$VG_OUT" |
		jq -cR --argjson p "$1" 'try fromjson catch empty | select(type == "object" and .proc.pid == $p)' 2>/dev/null |
		head -n 1
}

# vg_valid_json_lines TEXT: at least one line, and every non-empty line is one
# JSON object.
vg_valid_json_lines() {
	[ -n "$1" ] || return 1
	printf '%s\n' "$1" |
		jq -enR '[inputs | select(length > 0) | (try fromjson catch "BAD") | type == "object"] | length > 0 and all' >/dev/null 2>&1
}

vg_count_lines() { printf '%s\n' "$1" | grep -c .; }

# vg_daemon_stats SOCK: a vigil daemon's stats reply, one line of JSON
# (within 5 s).
vg_daemon_stats() {
	python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"req":"stats"}\n')
buf = b""
while b"\n" not in buf:
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
print(buf.split(b"\n")[0].decode())
EOF
}

# vg_free_port: a TCP port on 127.0.0.1 nothing listens on now.
vg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# vg_check_caps WHAT PID CAP...: the capabilities process PID has in
# effect, and in its bounding set, are exactly CAP... (numbers; CAP_SYS_ADMIN
# is allowed besides where it is what grants eBPF), and no_new_privs is set.
vg_check_caps() {
	local what=$1 pid=$2; shift 2
	local want=0 c eff bnd nnp st
	for c in "$@"; do want=$((want | (1 << c))); done
	st=$(cat "/proc/$pid/status" 2>/dev/null) || { fail "$what: no process $pid"; return; }
	eff=$((16#$(awk '/^CapEff:/ {print $2}' <<<"$st")))
	bnd=$((16#$(awk '/^CapBnd:/ {print $2}' <<<"$st")))
	nnp=$(awk '/^NoNewPrivs:/ {print $2}' <<<"$st")
	if [ "$eff" = "$want" ] && [ "$bnd" = "$want" ] && [ "$nnp" = 1 ]; then
		pass "$what keeps only capabilities $* (CapEff=CapBnd=$(printf %x "$want")), no_new_privs"
	else
		fail "$what: CapEff $(printf %x "$eff"), CapBnd $(printf %x "$bnd"), NoNewPrivs $nnp; want $(printf %x "$want") and 1"
	fi
}

# vigil watch in the background, for the tests that watch events
W_PID='' W_OUT='' W_ERR='' W_RC=''

# watch_start NAME ARGS...: `vigil watch --output json ARGS` in the
# background, output in $VG_TMPDIR/NAME.{out,err}; waits until attached.
watch_start() {
	local name=$1; shift
	W_OUT=$VG_TMPDIR/$name.out W_ERR=$VG_TMPDIR/$name.err
	: >"$W_OUT"; : >"$W_ERR"
	"$VIGIL" watch --output json "$@" >"$W_OUT" 2>"$W_ERR" </dev/null &
	W_PID=$!
	vg_track_pid "$W_PID"
	if ! vg_wait 30 grep -q '^vigil: watching' "$W_ERR"; then
		fail "$name: vigil watch $* did not attach within 30 s"
		sed 's/^/    stderr: /' "$W_ERR" | head -20
		watch_stop
		return 1
	fi
}

# watch_stop: ^C, bounded wait; W_RC is its exit status.
watch_stop() {
	[ -n "$W_PID" ] || return 0
	kill -INT "$W_PID" 2>/dev/null
	vg_wait 15 eval '! kill -0 $W_PID 2>/dev/null' || kill -KILL "$W_PID" 2>/dev/null
	wait "$W_PID" 2>/dev/null
	W_RC=$?
	W_PID=''
}

# events FILTER [jq args]: the JSON lines of $W_OUT that FILTER selects
# (a partly written last line is ignored).
events() {
	local f=$1; shift
	jq -cR "$@" "try fromjson catch empty | select($f)" "$W_OUT" 2>/dev/null
}

# wait_event DESC FILTER [jq args]: wait up to 20 s for an event of
# $W_OUT that FILTER selects; the first one is in EV. Fails with the
# output when none comes.
wait_event() {
	local desc=$1
	WE_FILTER=$2
	WE_ARGS=("${@:3}") # vg_wait's eval sees vg_wait's own "$@", not ours
	if vg_wait 20 eval '[ -n "$(events "$WE_FILTER" "${WE_ARGS[@]}" | head -n 1)" ]'; then
		EV=$(events "$WE_FILTER" "${WE_ARGS[@]}" | head -n 1)
		return 0
	fi
	EV=''
	fail "$desc: no event matching $WE_FILTER"
	printf '    %s lines; last ones:\n' "$(wc -l <"$W_OUT")"
	tail -n 5 "$W_OUT" | cut -c1-400 | sed 's/^/    out: /'
	sed 's/^/    stderr: /' "$W_ERR" | head -10
	return 1
}
