#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: vigil's container image and DaemonSet, run by docker
# with the manifest's own settings.
#   - deploy/image/build.sh makes vigil/vigil:dev from the build directory
#     of the binary under test: vigil daemon by default, no shell;
#   - deploy/kubernetes/to-docker.py translates the manifests (and refuses
#     what it cannot translate); the test runs what it prints;
#   - the readiness probe, run as the kubelet runs it, passes;
#   - from inside vigil's container: `vigil pid` of a process in another
#     container names that container; a subscriber to the daemon sees an
#     exec in that container; /metrics answers on the pod's port.
# The daemon's socket goes to a directory of this test (--host-path), not
# the host's /run/vigil; every container has no network but loopback.
# Usage: test-daemonset.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
SRC=$(cd "$HERE/../.." && pwd)
K8S=$SRC/deploy/kubernetes
TAG=vigil/vigil:dev
METRICS_PORT=9477

vg_need_root
vg_init
vg_need_cmds docker jq python3 nsenter || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
python3 -c 'import yaml' 2>/dev/null || { fail "python3-yaml is needed (apt-get install -y python3-yaml)"; vg_finish; }

VC=${VG_RUN_PREFIX}vigil
WC=${VG_RUN_PREFIX}work
TAGGED=0
ds_cleanup() {
	vg_docker_ok || return 0
	vg_t docker rm -f "$VC" "$WC" >/dev/null 2>&1
	[ "$TAGGED" = 1 ] && vg_t docker rmi "$TAG" >/dev/null 2>&1
	TAGGED=0
	return 0
}
# the image tag goes before lib.sh's cleanup, which may stop dockerd
trap 'rc=$?; ds_cleanup; (exit $rc); vg_cleanup' EXIT

vg_start_dockerd || vg_finish
vg_busybox_image || vg_finish

# ------------------------------------------------------------ the image
vg_log "the image, from $(dirname "$VIGIL")"
if vg_t "$SRC/deploy/image/build.sh" -t "$TAG" "$(dirname "$VIGIL")" >"$VG_TMPDIR/build.out" 2>&1; then
	TAGGED=1
	pass "deploy/image/build.sh builds $TAG from the build directory"
else
	fail "deploy/image/build.sh failed:"
	tail -n 20 "$VG_TMPDIR/build.out" | sed 's/^/    /'
	vg_finish
fi
CFG=$(docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$TAG")
[ "$CFG" = '["/usr/bin/vigil"] ["daemon"]' ] && pass "the image runs vigil daemon by default" ||
	fail "the image's entrypoint and command: $CFG"
out=$(vg_t docker run --rm --network none "$TAG" --version 2>&1)
[ "$out" = "$("$VIGIL" --version)" ] && pass "the binary in the image runs, with the libraries it carries ($out)" ||
	fail "vigil --version in the image: $out"
out=$(vg_t docker run --rm --network none --entrypoint /bin/sh "$TAG" -c true 2>&1) &&
	fail "the image has a shell" || pass "the image has no shell"

# ------------------------------------------------------------ the translation
vg_log "the manifests, translated"
mkdir -p "$VG_TMPDIR/sa" "$VG_TMPDIR/cm" "$VG_TMPDIR/run-vigil"
# what the kubelet would mount for the service account; no kubelet
# answers here, so the token is never sent anywhere
printf 'test-token\n' >"$VG_TMPDIR/sa/token"
: >"$VG_TMPDIR/sa/ca.crt"
printf 'vigil\n' >"$VG_TMPDIR/sa/namespace"
# A fresh host has no tracefs: the pod's /sys/kernel/tracing is then an
# empty directory, whatever this host has mounted, and vigil must mount
# its own.
mkdir -p "$VG_TMPDIR/no-tracefs"
TR=(--name "$VC" --network none
	--field status.hostIP=127.0.0.1 --field spec.nodeName=node-ds
	--configmap-dir "$VG_TMPDIR/cm"
	--service-account-dir "$VG_TMPDIR/sa" --host-path "/run/vigil=$VG_TMPDIR/run-vigil"
	--host-path "/sys/kernel/tracing=$VG_TMPDIR/no-tracefs")
translate() { local dir=$1; shift; python3 "$K8S/to-docker.py" "$dir" "${TR[@]}" "$@"; }
if translate "$K8S" --json >"$VG_TMPDIR/tr.json" 2>"$VG_TMPDIR/tr.err"; then
	pass "to-docker.py translates the manifests"
else
	fail "to-docker.py: $(cat "$VG_TMPDIR/tr.err")"
	vg_finish
fi
TRJ=$(cat "$VG_TMPDIR/tr.json")
# each flag as "FLAG VALUE", to look for pairs
PAIRS=$(jq -r '.docker | . as $a | range(0; length - 1) | "\($a[.]) \($a[. + 1])"' <<<"$TRJ")
has() { grep -qxF -- "$1" <<<"$PAIRS"; }
has_flag() { jq -e --arg f "$1" '.docker | index($f) != null' <<<"$TRJ" >/dev/null; }
has "-e NODE_NAME=node-ds" &&
	pass "the node's name comes from the downward API (spec.nodeName)" ||
	fail "no NODE_NAME from spec.nodeName in: $(jq -c .docker <<<"$TRJ")"
has "--pid host" && has_flag --read-only && has "--cap-drop ALL" &&
	has "--mount type=bind,src=/,dst=/host,readonly" && ! has_flag --privileged &&
	pass "host pid namespace, the host's / read-only at /host, a read-only root, no --privileged" ||
	{ fail "the translation lacks the DaemonSet's settings"; sed 's/^/    /' <<<"$PAIRS"; }
CAPS=$(jq -r '.docker | . as $a | [range(0; length - 1) | select($a[.] == "--cap-add") | $a[. + 1]] | sort | join(",")' <<<"$TRJ")
[ "$CAPS" = DAC_READ_SEARCH,SYS_ADMIN,SYS_PTRACE ] &&
	jcheck "CAP_BPF and CAP_PERFMON become SYS_ADMIN, and the notes say so" "$TRJ" \
		'[.notes[] | select(test("CAP_(BPF|PERFMON).*SYS_ADMIN"))] | length == 2' ||
	fail "capabilities added: $CAPS"
jcheck "the readiness probe is an exec of vigil" "$TRJ" '.readiness.exec[0] == "/usr/bin/vigil"'
grep -q '^metrics = ' "$VG_TMPDIR/cm/vigil-config/vigil.conf" &&
	pass "the ConfigMap is written out as vigil.conf" || fail "no vigil.conf from the ConfigMap"

# what has no docker meaning is refused, by name
cp -r "$K8S" "$VG_TMPDIR/k8s-bad"
python3 - "$VG_TMPDIR/k8s-bad/daemonset.yaml" <<'EOF'
import sys, yaml
p = sys.argv[1]
d = yaml.safe_load(open(p))
d["spec"]["template"]["spec"]["containers"][0]["stdin"] = True
yaml.safe_dump(d, open(p, "w"))
EOF
out=$(translate "$VG_TMPDIR/k8s-bad" 2>&1)
rc=$?
[ "$rc" != 0 ] && grep -q 'refused: containers\[0\]\.stdin' <<<"$out" &&
	pass "a field it cannot translate is refused by name" || fail "stdin: exit $rc: $out"
out=$(python3 "$K8S/to-docker.py" "$K8S" --service-account-dir "$VG_TMPDIR/sa" 2>&1)
rc=$?
[ "$rc" != 0 ] && grep -q 'refused: .*pod network' <<<"$out" &&
	pass "no pod network without --network: refused" || fail "without --network: exit $rc: $out"

# ------------------------------------------------------------ running it
vg_log "the DaemonSet's pod, by docker"
mapfile -t RUN < <(jq -r '.docker[]' <<<"$TRJ")
if ! vg_t "${RUN[0]}" "${RUN[1]}" -d "${RUN[@]:2}" >"$VG_TMPDIR/run.out" 2>&1; then
	fail "docker run of the translation failed: $(tail -c 600 "$VG_TMPDIR/run.out")"
	vg_finish
fi
mapfile -t PROBE < <(jq -r '.readiness.exec[]' <<<"$TRJ")
PERIOD=$(jq -r '.readiness.periodSeconds // 10' <<<"$TRJ")
# as the kubelet: the probe after initialDelaySeconds, every period (at
# most 2 s here, to be quick), until it passes or 60 s are up
probe_ok() { vg_t docker exec "$VC" "${PROBE[@]}" >/dev/null 2>"$VG_TMPDIR/probe.err"; }
sleep "$(jq -r '.readiness.initialDelaySeconds // 0' <<<"$TRJ")"
end=$((SECONDS + 60)) ready=0
while [ "$SECONDS" -lt "$end" ]; do
	if probe_ok; then ready=1; break; fi
	[ "$(docker inspect -f '{{.State.Running}}' "$VC" 2>/dev/null)" = true ] || break
	sleep $((PERIOD < 2 ? PERIOD : 2))
done
if [ "$ready" = 1 ]; then
	pass "the readiness probe passes: the daemon answers on its socket"
else
	fail "not ready within 60 s; probe: $(head -c 300 "$VG_TMPDIR/probe.err"); the container's log:"
	docker logs --tail 20 "$VC" 2>&1 | sed 's/^/    /'
	vg_finish
fi
[ -S "$VG_TMPDIR/run-vigil/vigil.sock" ] && pass "the daemon's socket is on the hostPath, for the node's clients" ||
	fail "no socket in the hostPath /run/vigil"
VPID=$(docker inspect -f '{{.State.Pid}}' "$VC")
# the pod as on a fresh host: nothing at its /sys/kernel/tracing (vigil's
# own tracefs, if it needed one, is detached and private), so every eBPF
# check below runs without the host's tracefs
if [ -d "/proc/$VPID/root/sys/kernel/tracing" ] &&
   [ -z "$(ls -A "/proc/$VPID/root/sys/kernel/tracing" 2>&1)" ]; then
	pass "the pod sees no tracefs at /sys/kernel/tracing, as on a fresh host"
else
	fail "the pod's /sys/kernel/tracing is not empty: $(ls -A "/proc/$VPID/root/sys/kernel/tracing" 2>&1 | head -c 200)"
fi
st=$(cat "/proc/$VPID/status")
bnd=$((16#$(awk '/^CapBnd:/ {print $2}' <<<"$st")))
allowed=$(((1 << 21) | (1 << 19) | (1 << 2) | (1 << 38) | (1 << 39)))  # SYS_ADMIN SYS_PTRACE DAC_READ_SEARCH BPF PERFMON
[ $((bnd & ~allowed)) = 0 ] && [ "$(awk '/^NoNewPrivs:/ {print $2}' <<<"$st")" = 1 ] &&
	pass "the daemon holds no capability beyond the manifest's, with no_new_privs" ||
	fail "the daemon's CapBnd $(printf %x "$bnd"), NoNewPrivs $(awk '/^NoNewPrivs:/ {print $2}' <<<"$st")"

# ------------------------------------------------------------ from inside
# libcurl is opened at run time, so ldd did not name it: the kubelet
# client in the image must still load it and make its request (to the
# pod's loopback here, where no kubelet listens)
out=$(vg_t docker exec "$VC" vigil doctor -o json 2>/dev/null)
jcheck "the image's libcurl loads: the kubelet client tries \$VIGIL_KUBELET_URL" "$out" \
	'.kubelet.url == "https://127.0.0.1:10250" and (.kubelet.error | test("connect"; "i"))'

if ! vg_t docker run -d --name "$WC" --network none "$VG_IMAGE" sleep 300 >/dev/null; then
	fail "could not start the workload container"
	vg_finish
fi
WPID=$(docker inspect -f '{{.State.Pid}}' "$WC")
WID=$(docker inspect -f '{{.Id}}' "$WC")

out=$(vg_t docker exec "$VC" vigil pid -o json "$WPID" 2>&1)
jcheck "inside vigil's container, vigil pid $WPID names the workload's container" "$out" \
	'.proc.pid == $p and .container.id == $id and .container.name == $n and .container.runtime == "docker"' \
	--argjson p "$WPID" --arg id "$WID" --arg n "$WC"

W_OUT=$VG_TMPDIR/sub.out W_ERR=$VG_TMPDIR/sub.err
: >"$W_OUT"; : >"$W_ERR"
docker exec "$VC" vigil watch --socket /run/vigil/vigil.sock -o json --event exec \
	--container "$WC" --count 1 --duration 45 >"$W_OUT" 2>"$W_ERR" </dev/null &
SUB=$!
vg_track_pid "$SUB"
if vg_wait 30 grep -q 'watching through the daemon' "$W_ERR"; then
	vg_t docker exec "$WC" /bin/echo "daemonset-marker-$$" >/dev/null
	vg_wait 30 eval '! kill -0 $SUB 2>/dev/null'
	ev=$(events '.evt.type == "exec" and .proc.args[1] == $m' --arg m "daemonset-marker-$$" | head -n 1)
	jcheck "a subscriber to the daemon sees the exec in the workload's container" "$ev" \
		'.container.id == $id and .container.name == $n and .proc.exe == "/bin/busybox"' \
		--arg id "$WID" --arg n "$WC"
else
	fail "vigil watch inside vigil's container did not subscribe: $(head -c 600 "$W_ERR")"
fi
kill "$SUB" 2>/dev/null
wait "$SUB" 2>/dev/null

# /metrics, on the pod's port, asked in the pod's network namespace
# the help whole, then searched: grep -q leaving early would break the
# pipe under docker exec, and pipefail would call that a missing option
daemon_help=$(vg_t docker exec "$VC" vigil daemon --help 2>&1)
if ! grep -q -- '--metrics' <<<"$daemon_help"; then
	fail "/metrics: this vigil's daemon has no --metrics option (vigil daemon --help does not list it)"
else
	out=$(nsenter -t "$VPID" -n timeout -k 2 10 python3 - "$METRICS_PORT" <<'EOF' 2>&1
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5)
print(r.status, r.headers.get("Content-Type"))
sys.stdout.write(r.read().decode())
EOF
)
	if head -n 1 <<<"$out" | grep -q '^200 text/plain' && grep -q '^vigil_' <<<"$out"; then
		pass "/metrics answers on port $METRICS_PORT with vigil_ series"
		# the live eBPF sensor's own series: programs and its ring
		progs=$(awk '$1 == "vigil_programs_attached" { print $2 }' <<<"$out")
		ring=$(awk '$1 == "vigil_ring_buffer_size_bytes" { print $2 }' <<<"$out")
		execs=$(awk '$1 ~ /^vigil_events_total\{/ && /type="exec"/ && /source="bpf"/ { print $2 }' <<<"$out")
		[ "${progs:-0}" -gt 0 ] 2>/dev/null &&
			pass "vigil_programs_attached is $progs" ||
			fail "vigil_programs_attached is '${progs:-absent}', not above 0"
		[ "${ring:-0}" -gt 0 ] 2>/dev/null &&
			pass "vigil_ring_buffer_size_bytes is $ring" ||
			fail "vigil_ring_buffer_size_bytes is '${ring:-absent}', not above 0"
		[ "${execs:-0}" -gt 0 ] 2>/dev/null &&
			pass "vigil_events_total{type=\"exec\",source=\"bpf\"} is $execs" ||
			fail "no exec counted from the bpf source: '${execs:-absent}'"
	else
		fail "/metrics on port $METRICS_PORT (set by the ConfigMap's vigil.conf; vigil daemon --help" \
			"$(grep -q -- '--config' <<<"$daemon_help" && echo lists || echo "does not list") --config):" \
			"$(head -c 400 <<<"$out")"
		docker logs --tail 5 "$VC" 2>&1 | sed 's/^/    log: /'
	fi
fi

ds_cleanup
vg_finish
