#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: container and pod metadata from real runtimes.
#   docker containers labelled the way kubelet's dockershim labels them,
#   containerd containers with CRI annotations (ctr run --annotation),
#   podman containers with labels;
# `vigil pid`, `vigil containers` and `vigil tree` must report the name,
# image, labels and pod that `docker inspect`, `ctr c info` and
# `podman inspect` report.
# Usage: test-meta-runtimes.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds jq timeout docker dockerd ctr runc podman || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

POD_UID=5d41402a-bc4b-2a76-b971-9d911017c592
POD_NS=shop
POD_NAME=cart-6c9f8
DOCKER_OK=0 CTR_OK=0 PODMAN_OK=0
if vg_start_dockerd && vg_busybox_image; then
	DOCKER_OK=1
	[ -n "$VG_CTR_SOCK" ] && vg_ctr_image && CTR_OK=1
else
	fail "docker daemon or image unavailable"
fi
vg_podman_image && PODMAN_OK=1

is_pid() { [[ $1 =~ ^[1-9][0-9]*$ ]] && [ -d "/proc/$1" ]; }

D1=${VG_RUN_PREFIX}mdocker
C1=${VG_RUN_PREFIX}mctr
P1=${VG_RUN_PREFIX}mpodman
D1_PID='' C1_PID='' P1_PID=''

# --------------------------------------------------------------- docker
if [ "$DOCKER_OK" = 1 ]; then
	if vg_t docker run -d --name "$D1" --network none \
		-l io.kubernetes.pod.name=$POD_NAME -l io.kubernetes.pod.namespace=$POD_NS \
		-l io.kubernetes.pod.uid=$POD_UID -l io.kubernetes.container.name=cart \
		-l io.kubernetes.docker.type=container -l app.team=payments \
		"$VG_IMAGE" sleep 600 >/dev/null 2>&1; then
		vg_wait 20 eval 'D1_PID=$(vg_t docker inspect -f "{{.State.Pid}}" "$D1" 2>/dev/null); is_pid "$D1_PID"'
	fi
	is_pid "$D1_PID" && pass "docker: labelled container $D1 running" ||
		fail "docker: labelled container $D1 did not start"
fi
if is_pid "$D1_PID"; then
	INSPECT=$(vg_t docker inspect "$D1" | jq -c '.[0]')
	vg_vigil --output json pid "$D1_PID"
	LINE=$(vg_line_for_pid "$D1_PID")
	jcheck "docker: name is docker's" "$LINE" '.container.name == ($i.Name | ltrimstr("/"))' --argjson i "$INSPECT"
	jcheck "docker: image as written, and image id" "$LINE" \
		'.container.image == $i.Config.Image and .container.image_id == $i.Image' --argjson i "$INSPECT"
	jcheck "docker: labels equal docker inspect's" "$LINE" '.container.labels == $i.Config.Labels' --argjson i "$INSPECT"
	jcheck "docker: init pid, state, times" "$LINE" \
		'.container.init_pid == $i.State.Pid and .container.state == "running" and (.container.created | startswith($i.Created[0:19]))' --argjson i "$INSPECT"
	jcheck "docker: rootfs and upper dir are the overlay2 layer's" "$LINE" \
		'.container.rootfs == $i.GraphDriver.Data.MergedDir and .container.upperdir == $i.GraphDriver.Data.UpperDir' --argjson i "$INSPECT"
	jcheck "docker: pod from runtime labels, marked unverified" "$LINE" \
		'.k8s.ns.name == $ns and .k8s.pod.name == $n and .k8s.pod.uid == $u and .k8s.container.name == "cart" and .k8s.source == "runtime-labels" and .k8s.verified == false' \
		--arg ns "$POD_NS" --arg n "$POD_NAME" --arg u "$POD_UID"
	jcheck "docker: metadata complete, from config.v2.json" "$LINE" \
		'.container.metadata.complete and .container.metadata.source == "config.v2.json"'
	vg_vigil pid "$D1_PID"
	if printf '%s\n' "$VG_OUT" | grep -q "unverified claim"; then
		pass "docker: text output says the pod is an unverified claim"
	else
		fail "docker: text output hides that the pod is a claim"; vg_show
	fi
fi

# ----------------------------------------------------------- containerd
if [ "$CTR_OK" = 1 ]; then
	if vg_ctr run -d --label app.team=orders \
		--annotation io.kubernetes.cri.container-type=container \
		--annotation io.kubernetes.cri.container-name=orders \
		--annotation io.kubernetes.cri.image-name=registry.example/orders:3 \
		--annotation io.kubernetes.cri.sandbox-name=$POD_NAME \
		--annotation io.kubernetes.cri.sandbox-namespace=$POD_NS \
		--annotation io.kubernetes.cri.sandbox-uid=$POD_UID \
		"$VG_CTR_IMAGE" "$C1" sleep 600 >/dev/null 2>&1; then
		vg_wait 20 eval 'C1_PID=$(vg_ctr_pid "$C1"); is_pid "$C1_PID"'
	fi
	is_pid "$C1_PID" && pass "containerd: annotated task $C1 running" ||
		fail "containerd: annotated task $C1 did not start"
fi
if is_pid "$C1_PID"; then
	INFO=$(vg_ctr c info "$C1" | jq -c .)
	vg_vigil --output json pid "$C1_PID"
	LINE=$(vg_line_for_pid "$C1_PID")
	jcheck "containerd: annotations equal ctr c info's Spec.annotations" "$LINE" \
		'.container.labels == $i.Spec.annotations' --argjson i "$INFO"
	jcheck "containerd: name and image from the CRI annotations" "$LINE" \
		'.container.name == "orders" and .container.image == "registry.example/orders:3" and .container.namespace == $ns' \
		--arg ns "$VG_CTR_NS"
	jcheck "containerd: pod from CRI annotations, unverified" "$LINE" \
		'.k8s.ns.name == $ns and .k8s.pod.name == $n and .k8s.pod.uid == $u and .k8s.container.name == "orders" and .k8s.source == "runtime-labels" and (.k8s.verified | not)' \
		--arg ns "$POD_NS" --arg n "$POD_NAME" --arg u "$POD_UID"
	jcheck "containerd: init pid, and rootfs with its overlay upper dir" "$(printf "%s" "$LINE" | jq -c .container)" \
		'.init_pid == $p and (.rootfs | endswith("/" + $id + "/rootfs")) and (.upperdir | test("snapshots/[0-9]+/fs$"))' \
		--argjson p "$C1_PID" --arg id "$C1"
fi

# ---------------------------------------------------------------- podman
if [ "$PODMAN_OK" = 1 ]; then
	if vg_podman_run -d --name "$P1" -l app.team=search -l tier=backend \
		"$VG_PODMAN_IMAGE" sleep 600 >/dev/null 2>&1; then
		vg_wait 20 eval 'P1_PID=$(vg_podman inspect -f "{{.State.Pid}}" "$P1" 2>/dev/null); is_pid "$P1_PID"'
	fi
	is_pid "$P1_PID" && pass "podman: labelled container $P1 running" ||
		fail "podman: labelled container $P1 did not start"
fi
if is_pid "$P1_PID"; then
	PI=$(vg_podman inspect "$P1" | jq -c '.[0]')
	vg_vigil --output json pid "$P1_PID"
	LINE=$(vg_line_for_pid "$P1_PID")
	jcheck "podman: name, image and image id equal podman inspect's" "$LINE" \
		'.container.name == $i.Name and .container.image == $i.ImageName and .container.image_id == $i.Image' --argjson i "$PI"
	jcheck "podman: labels equal podman inspect's" "$LINE" '.container.labels == $i.Config.Labels' --argjson i "$PI"
	jcheck "podman: init pid and state" "$LINE" \
		'.container.init_pid == $i.State.Pid and .container.state == "running"' --argjson i "$PI"
	jcheck "podman: rootfs and upper dir" "$LINE" \
		'.container.rootfs == $i.GraphDriver.Data.MergedDir and .container.upperdir == $i.GraphDriver.Data.UpperDir' --argjson i "$PI"
	jcheck "podman: metadata complete" "$LINE" '.container.metadata.complete'
fi

# ------------------------------------------- kubelet: its answer wins
# A docker container in a pod's cgroup (as kubelet's cgroupfs driver
# makes it), whose labels claim another pod; a fake kubelet on loopback
# serves the real pod. vigil must report the kubelet's pod, verified, and
# the labels' disagreement.
K_UID=7a1f3c52-9b8e-4d21-a6f0-3e5d7c9b1a24
K1=${VG_RUN_PREFIX}mkube
K1_PID='' K1_ID='' KPORT='' KPID=''
if [ "$DOCKER_OK" = 1 ] && command -v python3 >/dev/null; then
	if vg_t docker run -d --name "$K1" --network none \
		--cgroup-parent "/kubepods/burstable/pod$K_UID" \
		-l io.kubernetes.pod.name=impostor -l io.kubernetes.pod.namespace=kube-system \
		-l io.kubernetes.pod.uid=$POD_UID -l io.kubernetes.container.name=fake \
		"$VG_IMAGE" sleep 600 >/dev/null 2>&1; then
		vg_wait 20 eval 'K1_PID=$(vg_t docker inspect -f "{{.State.Pid}}" "$K1" 2>/dev/null); is_pid "$K1_PID"'
		K1_ID=$(vg_t docker inspect -f '{{.Id}}' "$K1" 2>/dev/null)
	fi
	if is_pid "$K1_PID"; then
		pass "kubelet: container $K1 running in pod cgroup $K_UID"
		cat >"$VG_TMPDIR/podlist.json" <<EOF
{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
 {"metadata":{"name":"checkout-0","namespace":"payments","uid":"$K_UID",
   "labels":{"app":"checkout","tier":"web"},"annotations":{"owner":"team-pay"}},
  "spec":{"containers":[{"name":"checkout","image":"registry.example/checkout:9"}]},
  "status":{"qosClass":"Burstable","containerStatuses":[
   {"name":"checkout","containerID":"docker://$K1_ID","ready":true,"restartCount":0}]}}]}
EOF
		python3 "$HERE/../kubelet/fake-kubelet.py" --mode serve --podlist "$VG_TMPDIR/podlist.json" \
			>"$VG_TMPDIR/kubelet.port" 2>"$VG_TMPDIR/kubelet.err" &
		KPID=$!
		vg_track_pid "$KPID"
		vg_wait 10 eval 'KPORT=$(head -n 1 "$VG_TMPDIR/kubelet.port" 2>/dev/null); [ -n "$KPORT" ]'
		[ -n "$KPORT" ] || fail "kubelet: the fake kubelet did not start: $(cat "$VG_TMPDIR/kubelet.err")"
	else
		fail "kubelet: container $K1 did not start in a pod cgroup"
	fi
fi
if [ -n "$KPORT" ]; then
	vg_vigil --kubelet "http://127.0.0.1:$KPORT" --output json pid "$K1_PID"
	LINE=$(vg_line_for_pid "$K1_PID")
	jcheck "kubelet: pod from the kubelet, verified, matched by the cgroup's uid" "$LINE" \
		'.k8s.source == "kubelet" and .k8s.verified and .k8s.pod.uid == $u and .k8s.ns.name == "payments" and .k8s.pod.name == "checkout-0"' \
		--arg u "$K_UID"
	jcheck "kubelet: container name from the pod's status, pod labels and annotations" "$LINE" \
		'.k8s.container.name == "checkout" and .k8s.pod.labels == {"app":"checkout","tier":"web"} and .k8s.pod.annotations.owner == "team-pay"'
	jcheck "kubelet: the labels' other pod uid is reported as a conflict" "$LINE" \
		'(.k8s.conflict | contains($l)) and .k8s.labels_uid == $l' --arg l "$POD_UID"
	vg_vigil --kubelet "http://127.0.0.1:$KPORT" pid "$K1_PID"
	if printf '%s\n' "$VG_OUT" | grep -q "payments/checkout-0 (from the kubelet, verified)"; then
		pass "kubelet: text output names the verified pod"
	else
		fail "kubelet: text output"; vg_show
	fi
	kill "$KPID" 2>/dev/null; wait "$KPID" 2>/dev/null
	# the kubelet is gone: labels only, and the answer says why
	vg_vigil --kubelet "http://127.0.0.1:$KPORT" --kubelet-timeout 500 --output json pid "$K1_PID"
	LINE=$(vg_line_for_pid "$K1_PID")
	jcheck "kubelet down: falls back to the labels' claim, unverified, with the reason" "$LINE" \
		'.k8s.source == "runtime-labels" and (.k8s.verified | not) and .k8s.pod.uid == $u and (.k8s.note | startswith("kubelet:"))' \
		--arg u "$K_UID"
fi

# ------------------------------------------------------ vigil containers
vg_vigil --output json containers
if vg_valid_json_lines "$VG_OUT"; then
	pass "containers: JSON lines"
else
	fail "containers: not JSON lines"; vg_show
fi
ctr_line() { printf '%s\n' "$VG_OUT" | jq -c --argjson p "$1" 'select(.proc.init_pid == $p)' | head -n 1; }
for spec in "docker:$D1_PID:$D1" "containerd:$C1_PID:orders" "podman:$P1_PID:$P1"; do
	IFS=: read -r rt pid name <<<"$spec"
	[ -n "$pid" ] || continue
	jcheck "containers: $rt container $name listed with its init pid, one process, cgroup id" \
		"$(ctr_line "$pid")" \
		'.container.runtime == $rt and .container.name == $n and .proc.count == 1 and (.cgroup.id | type) == "number" and (.container.id | length) > 0' \
		--arg rt "$rt" --arg n "$name"
done
if [ -n "$D1_PID" ]; then
	jcheck "containers: docker pod shows ns/name" "$(ctr_line "$D1_PID")" \
		'.k8s.ns.name == $ns and .k8s.pod.name == $n' --arg ns "$POD_NS" --arg n "$POD_NAME"
	vg_vigil containers
	if printf '%s\n' "$VG_OUT" | grep -q "$D1" && printf '%s\n' "$VG_OUT" | grep -q "$POD_NS/$POD_NAME\*"; then
		pass "containers: text table has the container and its pod, starred as a claim"
	else
		fail "containers: text table"; vg_show
	fi
	D1_ID=$(vg_t docker inspect -f '{{.Id}}' "$D1")
	vg_vigil --output json containers "${D1_ID:0:12}"
	jcheck "containers: a unique id prefix selects one container" "$VG_OUT" \
		'.container.id == $id' --arg id "$D1_ID"
	vg_vigil containers no-such-container-zz
	[ "$VG_RC" = 1 ] && pass "containers: unknown name exits 1" || { fail "containers: unknown name rc=$VG_RC"; vg_show; }
fi

# ------------------------------------------------------------ vigil tree
if [ -n "$D1_PID" ]; then
	vg_vigil --output json tree --container "$D1"
	jcheck "tree --container NAME: the container node holds its init process" "$VG_OUT" \
		'.container.name == $n and .children[0].pid == $p and .k8s.pod.name == $pn' \
		--arg n "$D1" --argjson p "$D1_PID" --arg pn "$POD_NAME"
	vg_vigil --output json tree
	jcheck "tree: the host tree nests the container node under its shim" \
		"$(printf '%s\n' "$VG_OUT" | jq -c 'select(.pid == 1)')" \
		'[.. | objects | select(.container? and .container.name == $n)] | length == 1 and (.[0].children[0].pid == $p)' \
		--arg n "$D1" --argjson p "$D1_PID"
	vg_vigil tree
	if printf '%s\n' "$VG_OUT" | grep -q "\[docker ${D1_ID:0:12} $D1"; then
		pass "tree: text shows the container node"
	else
		fail "tree: text has no container node for $D1"; vg_show
	fi
fi

vg_finish
