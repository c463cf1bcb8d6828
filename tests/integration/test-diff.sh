#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters and eval bodies are single-quoted on purpose
# Integration test: `vigil diff` and `vigil rootfs` against real docker,
# podman and containerd (ctr) containers that add, change and delete
# files and replace directories: vigil's lines equal `docker diff`'s and
# `podman diff`'s (order aside), and a containerd container gives the
# docker container's answer for the same actions. Also: rootfs names a
# directory where the container's files are, odd names are escaped, a
# root that is not an overlay and a missing container give clear
# errors, 100,000 changed files, a container removed mid-walk, and a
# container that forges its own root overlay is refused.
# Usage: test-diff.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
export LC_ALL=C # sort bytewise, as vigil does

vg_need_root
vg_init
vg_need_cmds jq timeout docker dockerd ctr runc podman || vg_finish
if [ ! -x "$VIGIL" ]; then
	fail "vigil binary not found or not executable: $VIGIL"
	vg_finish
fi
vg_log "vigil: $VIGIL; container name prefix: $VG_RUN_PREFIX"

# An image of two layers: busybox, and one that puts files where the
# actions below change them.
DIFF_IMAGE=vigil-test/busybox-diff:1
DIFF_CTR_IMAGE=docker.io/$DIFF_IMAGE
DIFF_PODMAN_IMAGE=localhost/$DIFF_IMAGE
BASE='mkdir -p /etc/ssl/sub /data/deep/er /keep /srv/mode /opt/gone &&
echo a > /etc/ssl/a && echo b > /etc/ssl/sub/b && echo x > /data/x &&
echo y > /data/y && echo z > /data/deep/er/z && echo k > /keep/k &&
echo g > /opt/gone/g'
# Create, modify, delete; replace directories (removed, then made
# again: opaque on overlayfs), one with new contents, one empty; a
# mode change; a name with a space.
ACT='set -e
rm -rf /etc/ssl && mkdir /etc/ssl && touch /etc/ssl/x
echo new > /data/x
rm /data/y
mkdir -p /newdir/sub && touch /newdir/sub/f
rm -rf /data/deep
touch "/tmp/a b"
rm -rf /keep && mkdir /keep
busybox chmod 700 /srv/mode
rm -rf /opt/gone && mkdir /opt/gone && echo n > /opt/gone/n'

DOCKER_OK=0 CTR_OK=0 PODMAN_OK=0
if vg_start_dockerd; then
	vg_sweep_stale
	vg_busybox_image && DOCKER_OK=1
else
	fail "docker daemon could not be started"
fi

diff_image() {
	vg_t docker image inspect "$DIFF_IMAGE" >/dev/null 2>&1 && return 0
	local b=${VG_RUN_PREFIX}base
	vg_t docker run --name "$b" --network none "$VG_IMAGE" sh -c "$BASE" >/dev/null &&
		vg_t docker commit "$b" "$DIFF_IMAGE" >/dev/null
	local rc=$?
	vg_t docker rm -f "$b" >/dev/null 2>&1
	return $rc
}
if [ "$DOCKER_OK" = 1 ]; then
	if diff_image; then
		pass "image $DIFF_IMAGE (two layers) ready"
	else
		fail "could not build $DIFF_IMAGE"
		DOCKER_OK=0
	fi
fi
if [ "$DOCKER_OK" = 1 ]; then
	vg_podman image exists "$DIFF_PODMAN_IMAGE" 2>/dev/null ||
		vg_t docker save "$DIFF_IMAGE" | vg_podman load >/dev/null 2>&1
	vg_podman image exists "$DIFF_PODMAN_IMAGE" 2>/dev/null && PODMAN_OK=1 ||
		fail "podman: could not load $DIFF_IMAGE"
	if [ -n "$VG_CTR_SOCK" ]; then
		vg_ctr_import "$DIFF_IMAGE" "$DIFF_CTR_IMAGE" && CTR_OK=1
	else
		fail "containerd: no socket"
	fi
fi

is_pid() { [[ $1 =~ ^[1-9][0-9]*$ ]] && [ -d "/proc/$1" ]; }
sorted() { printf '%s\n' "$1" | grep . | sort; }

# same_lines DESC EXPECTED GOT: pass when equal as sorted line sets
same_lines() {
	local a b
	a=$(sorted "$2")
	b=$(sorted "$3")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		pass "$1"
	else
		fail "$1"
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -40 | sed 's/^/    /'
	fi
}

# rootfs_shows DESC CONTAINER EXEC...: a file the container writes is
# visible under the directory `vigil rootfs` names
rootfs_shows() {
	local desc=$1 c=$2 token=probe-$RANDOM$RANDOM
	shift 2
	"$@" sh -c "echo $token > /tmp/rootfs-probe" || { fail "$desc: exec failed"; return; }
	vg_vigil rootfs "$c"
	if [ "$VG_RC" -eq 0 ] && [ -d "$VG_OUT" ] &&
		[ "$(cat "$VG_OUT/tmp/rootfs-probe" 2>/dev/null)" = "$token" ]; then
		pass "$desc: $VG_OUT holds what the container wrote"
	else
		fail "$desc"
		vg_show
	fi
}

# --------------------------------------------------------------- docker
D1=${VG_RUN_PREFIX}diff-docker
if [ "$DOCKER_OK" = 1 ] &&
	vg_t docker run -d --name "$D1" --network none "$DIFF_IMAGE" sleep 3600 >/dev/null; then
	D1_BASE=$(vg_t docker diff "$D1")
	vg_t docker exec "$D1" sh -c "$ACT" || fail "docker: the actions failed"
	D1_DIFF=$(vg_t docker diff "$D1")
	vg_vigil diff "$D1"
	check "docker: vigil diff exits 0" test "$VG_RC" -eq 0
	same_lines "docker: vigil diff = docker diff, line for line" "$D1_DIFF" "$VG_OUT"
	check "docker: sorted by path" test "$VG_OUT" = "$(printf '%s\n' "$VG_OUT" | sort -k2)"
	check "docker: a replaced directory's lost entries are D" grep -qx 'D /etc/ssl/a' <<<"$VG_OUT"
	D1_VIGIL=$VG_OUT

	vg_vigil -o json diff "$D1"
	if vg_valid_json_lines "$VG_OUT"; then pass "docker: JSON lines"; else fail "docker: JSON lines"; vg_show; fi
	jcheck "docker: JSON and text name the same changes" "$(jq -sc . <<<"$VG_OUT")" \
		'[.[] | .kind + " " + .path] | sort == ($t | split("\n") | map(select(length > 0)) | sort)' \
		--arg t "$D1_VIGIL"
	jcheck "docker: /etc/ssl is replaced, a dir" "$(jq -c 'select(.path == "/etc/ssl")' <<<"$VG_OUT")" \
		'.replaced == true and .type == "dir" and .kind == "C"'
	jcheck "docker: a D says what was deleted" "$(jq -c 'select(.path == "/data/deep")' <<<"$VG_OUT")" \
		'.kind == "D" and .type == "dir"'
	jcheck "docker: mode of a chmod" "$(jq -c 'select(.path == "/srv/mode")' <<<"$VG_OUT")" \
		'.kind == "C" and .mode == "0700"'
	vg_vigil diff "$(vg_t docker inspect -f '{{.Id}}' "$D1" | cut -c1-12)"
	check "docker: an id prefix names it too" test "$VG_OUT" = "$D1_VIGIL"

	vg_vigil rootfs --layers "$D1"
	check "docker: rootfs --layers: upper = docker inspect's UpperDir" \
		grep -qxF "upper    $(vg_t docker inspect -f '{{.GraphDriver.Data.UpperDir}}' "$D1")" <<<"$VG_OUT"
	check "docker: rootfs --layers: three lower layers (init, two image)" \
		test "$(grep -c '^lower ' <<<"$VG_OUT")" = 3
	rootfs_shows "docker: rootfs" "$D1" vg_t docker exec "$D1"
else
	[ "$DOCKER_OK" = 1 ] && fail "docker: could not start $D1"
fi

# --------------------------------------------------------------- podman
P1=${VG_RUN_PREFIX}diff-podman
if [ "$PODMAN_OK" = 1 ] &&
	vg_podman_run -d --name "$P1" "$DIFF_PODMAN_IMAGE" sleep 3600 >/dev/null; then
	vg_podman exec "$P1" sh -c "$ACT" || fail "podman: the actions failed"
	P1_DIFF=$(vg_podman diff "$P1")
	vg_vigil diff "$P1"
	check "podman: vigil diff exits 0" test "$VG_RC" -eq 0
	same_lines "podman: vigil diff = podman diff, line for line" "$P1_DIFF" "$VG_OUT"
	check "podman: a replaced directory is D" grep -qx 'D /etc/ssl' <<<"$VG_OUT"
	vg_vigil diff --like docker "$P1"
	check "podman: --like docker answers as docker would" grep -qx 'D /etc/ssl/a' <<<"$VG_OUT"
	vg_vigil rootfs --layers "$P1"
	check "podman: rootfs --layers: upper = podman inspect's UpperDir" \
		grep -qxF "upper    $(vg_podman inspect -f '{{.GraphDriver.Data.UpperDir}}' "$P1")" <<<"$VG_OUT"
	rootfs_shows "podman: rootfs" "$P1" vg_podman exec "$P1"
else
	[ "$PODMAN_OK" = 1 ] && fail "podman: could not start $P1"
fi

# ----------------------------------------------------------- containerd
# ctr adds what docker keeps in an init layer (mount points it creates
# in the upper layer): what was there before the actions is set aside
# on both sides.
C1=${VG_RUN_PREFIX}diff-ctr
C1_PID=''
if [ "$CTR_OK" = 1 ] && vg_ctr run -d "$DIFF_CTR_IMAGE" "$C1" sleep 3600 >/dev/null 2>&1; then
	vg_wait 20 eval 'C1_PID=$(vg_ctr_pid "$C1"); is_pid "$C1_PID"'
fi
if is_pid "$C1_PID"; then
	vg_vigil diff "$C1"
	C1_BASE=$VG_OUT
	vg_ctr task exec --exec-id "act-$$" "$C1" sh -c "$ACT" || fail "containerd: the actions failed"
	vg_vigil diff "$C1"
	check "containerd: vigil diff exits 0" test "$VG_RC" -eq 0
	if [ -n "${D1_VIGIL:-}" ]; then
		before=$(sorted "$C1_BASE
${D1_BASE:-}")
		same_lines "containerd: the same actions, the docker container's answer" \
			"$(comm -23 <(sorted "$D1_VIGIL") <(printf '%s\n' "$before"))" \
			"$(comm -23 <(sorted "$VG_OUT") <(printf '%s\n' "$before"))"
	else
		fail "containerd: no docker answer to compare with"
	fi
	rootfs_shows "containerd: rootfs" "$C1" vg_ctr task exec --exec-id "probe-$$" "$C1"
else
	[ "$CTR_OK" = 1 ] && fail "containerd: task $C1 did not start"
fi

# ------------------------------------------------------------ odd names
D2=${VG_RUN_PREFIX}diff-odd
if [ "$DOCKER_OK" = 1 ] &&
	vg_t docker run -d --name "$D2" --network none "$VG_IMAGE" sleep 3600 >/dev/null; then
	vg_t docker exec "$D2" sh -c 'cd /tmp && touch "a b" "$(printf "new\nline")" \
		"$(printf "bad\377")" "$(printf "tab\there")" "back\\slash" &&
		busybox ln -s loop loop && busybox ln -s .. up' ||
		fail "odd names: could not create them"
	vg_vigil diff "$D2"
	same_lines "odd names: one escaped line each" "$(printf '%s\n' 'C /tmp' 'A /tmp/a b' \
		'A /tmp/back\\slash' 'A /tmp/bad\xff' 'A /tmp/loop' 'A /tmp/new\nline' \
		'A /tmp/tab\there' 'A /tmp/up')" "$VG_OUT"
	vg_vigil -o json diff "$D2"
	if vg_valid_json_lines "$VG_OUT"; then pass "odd names: valid JSON"; else fail "odd names: valid JSON"; vg_show; fi
	jcheck "odd names: the newline is in the JSON string" "$(jq -sc . <<<"$VG_OUT")" \
		'any(.[]; .path == "/tmp/new\nline")'
	jcheck "odd names: invalid UTF-8 also as path_escaped" "$(jq -sc . <<<"$VG_OUT")" \
		'any(.[]; .path_escaped == "/tmp/bad\\xff")'
	jcheck "odd names: symlinks are listed, not followed" "$(jq -sc . <<<"$VG_OUT")" \
		'[.[] | select(.type == "symlink") | .path] == ["/tmp/loop", "/tmp/up"]'
fi

# --------------------------------------------------------------- errors
vg_vigil diff "${VG_RUN_PREFIX}no-such-container"
check "no such container: exit 1" test "$VG_RC" -eq 1
check "no such container: said" grep -q "no running container '${VG_RUN_PREFIX}no-such-container'" <<<"$VG_ERR"

# A container on a plain directory (ctr run --rootfs): no overlay.
C2=${VG_RUN_PREFIX}diff-plain
C2_PID=''
if [ "$CTR_OK" = 1 ] && vg_rootfs_tar >/dev/null && [ -d "$VG_TMPDIR/rootfs" ] &&
	vg_ctr run -d --rootfs "$VG_TMPDIR/rootfs" "$C2" /bin/busybox sleep 3600 >/dev/null 2>&1; then
	vg_wait 20 eval 'C2_PID=$(vg_ctr_pid "$C2"); is_pid "$C2_PID"'
fi
if is_pid "$C2_PID"; then
	vg_vigil diff "$C2"
	check "not an overlay: exit 1" test "$VG_RC" -eq 1
	check "not an overlay: said" grep -q "is not an overlay" <<<"$VG_ERR"
	vg_vigil rootfs "$C2"
	check "not an overlay: rootfs names its directory" test "$VG_OUT" = "$VG_TMPDIR/rootfs"
else
	vg_info "SKIP: a container on a plain directory (ctr run --rootfs) could not be started; the not-an-overlay case is covered by the unit suite's fixture"
fi

# ----------------------------------------------------- a forged root
# A container allowed to mount puts its init on an overlay of its own
# making, whose layer paths name host directories when read under the
# host root. Its mount table is its own word: neither the host's table
# nor its shim's holds that overlay, so vigil refuses to read them.
D4=${VG_RUN_PREFIX}diff-forged
FORGE='mount -t tmpfs tmpfs /f && mkdir /f/u /f/w /f/m &&
mount -t overlay overlay -o lowerdir=/etc,upperdir=/f/u,workdir=/f/w /f/m &&
cp -a /bin /f/m/ && exec chroot /f/m /bin/sleep 3600'
if [ "$DOCKER_OK" = 1 ] &&
	vg_t docker run -d --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
		--security-opt apparmor=unconfined --name "$D4" --network none "$VG_IMAGE" \
		sh -c "mkdir -p /f && $FORGE" >/dev/null; then
	D4_PID=''
	vg_wait 20 eval 'D4_PID=$(vg_t docker inspect -f "{{.State.Pid}}" "$D4"); is_pid "$D4_PID" && [ -e "/proc/$D4_PID/root/bin/sleep" ] && grep -q " /f/m " "/proc/$D4_PID/mountinfo"'
	check "forged root: the container's init runs on its own overlay" \
		grep -q "lowerdir=/etc" "/proc/$D4_PID/mountinfo"
	vg_vigil diff "$D4"
	check "forged root: vigil diff exits 1" test "$VG_RC" -eq 1
	check "forged root: vigil diff says the layers cannot be verified" \
		grep -q "layers cannot be verified: no mount table outside the container" <<<"$VG_ERR"
	check "forged root: no host file listed" test -z "$VG_OUT"
	vg_vigil rootfs --layers "$D4"
	check "forged root: rootfs --layers exits 1" test "$VG_RC" -eq 1
	check "forged root: rootfs --layers names no layer" test -z "$VG_OUT"
	vg_vigil -o json rootfs "$D4"
	check "forged root: rootfs still names the root the process sees" test "$VG_RC" -eq 0
	jcheck "forged root: JSON says the layers are unverified and shows none" "$VG_OUT" \
		'.rootfs.layers_verified == false and (.rootfs | has("lowerdirs") | not) and .rootfs.merged == "/proc/\($p)/root"' \
		--arg p "$D4_PID"
	# a genuine container beside it still verifies
	if [ -n "${D1:-}" ] && vg_t docker inspect "$D1" >/dev/null 2>&1; then
		vg_vigil -o json rootfs "$D1"
		jcheck "docker: its layers are verified from the host's table" "$VG_OUT" \
			'.rootfs.layers_verified == true and .rootfs.layers_from == "/"'
	fi
	vg_t docker rm -f "$D4" >/dev/null 2>&1
else
	[ "$DOCKER_OK" = 1 ] && fail "forged root: could not start $D4"
fi

# -------------------------------------------- 100,000 files, and removal
D3=${VG_RUN_PREFIX}diff-many
if [ "$DOCKER_OK" = 1 ] &&
	vg_t docker run -d --name "$D3" --network none "$VG_IMAGE" sleep 3600 >/dev/null; then
	vg_vigil rootfs "$D3"
	M=$VG_OUT
	if [ -d "$M" ] && mkdir "$M/many"; then
		for ((i = 0; i < 100000; i++)); do : >"$M/many/f$i"; done
		t0=$(date +%s%N)
		vg_vigil diff "$D3"
		t1=$(date +%s%N)
		N_VIGIL=$(vg_count_lines "$VG_OUT")
		t2=$(date +%s%N)
		N_DOCKER=$(vg_t docker diff "$D3" | grep -c .)
		t3=$(date +%s%N)
		check "100,000 files: vigil exits 0" test "$VG_RC" -eq 0
		check "100,000 files: as many lines as docker diff ($N_DOCKER)" test "$N_VIGIL" = "$N_DOCKER"
		vg_info "100,000 files: vigil diff $(((t1 - t0) / 1000000)) ms, docker diff $(((t3 - t2) / 1000000)) ms"

		# removed while vigil walks it (vigil is stopped meanwhile, so
		# that the removal lands mid-walk): no crash, and an answer or
		# a reason
		"$VIGIL" diff "$D3" >"$VG_TMPDIR/mid.out" 2>"$VG_TMPDIR/mid.err" &
		vpid=$!
		sleep 0.1
		kill -STOP "$vpid" 2>/dev/null
		vg_t docker rm -f "$D3" >/dev/null 2>&1
		kill -CONT "$vpid" 2>/dev/null
		wait "$vpid"
		rc=$?
		vg_info "removed mid-walk: exit $rc, $(grep -c . "$VG_TMPDIR/mid.out") lines; $(head -n 1 "$VG_TMPDIR/mid.err")"
		check "removed mid-walk: exit 0 or 1, no crash (exit $rc)" test "$rc" -le 1
		check "removed mid-walk: every line whole" \
			test "$(grep -cv '^[ACD] /' "$VG_TMPDIR/mid.out")" = 0
		if [ "$rc" -eq 1 ]; then
			check "removed mid-walk: the reason is given" test -s "$VG_TMPDIR/mid.err"
		fi
	else
		fail "100,000 files: no merged directory from vigil rootfs ($M)"
	fi
fi

vg_finish
