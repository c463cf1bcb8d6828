#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vigil diff and vigil rootfs against a fixture host root: a docker
# container whose root overlay is in tests/fixtures/rootfs-overlay, copied
# to a temporary directory so that each case can change its mount table
# and mtimes. Exit codes, text, JSON, and the clear errors.
# Usage: test-cli-diff.sh VIGIL FIXTURES
set -uo pipefail
VIGIL=$1
FX=$2
passed=0 failed=0
command -v jq >/dev/null || { echo "FAIL: jq is not installed"; echo "0 passed, 1 failed"; exit 1; }

T=$(mktemp -d /tmp/vigil-cli-diff.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/root
cp -a "$FX/rootfs-overlay" "$R"
L=$R/var/lib/docker/overlay2/l/LOWER1
U=$R/var/lib/docker/overlay2/abc/diff
# a copied-up directory keeps its mtime; git checkouts do not
touch -r "$L/etc" "$U/etc"
MI=$R/proc/100/mountinfo
if [ "$(id -u)" -ne 0 ]; then
	# trusted.* xattrs need CAP_SYS_ADMIN; a userxattr overlay does not
	echo "note: not root: the fixture's overlay is given the userxattr option"
	sed -i 's/ rw,lowerdir=/ rw,userxattr,lowerdir=/' "$MI"
fi
cp "$MI" "$T/mountinfo.orig"
HMI=$R/proc/1/mountinfo
cp "$HMI" "$T/host-mountinfo.orig"
# both SED-SCRIPT: the same change to the container's mount table and the
# host's (the kernel shows one filesystem alike in both)
both() {
	sed "$1" "$T/mountinfo.orig" >"$MI"
	sed "$1" "$T/host-mountinfo.orig" >"$HMI"
}

check() { # NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		printf '    rc=%s\n    out: %s\n    err: %s\n' "$rc" "${out:0:600}" "${err:0:600}"
	fi
}

run() { # sets out, err, rc
	out=$("$VIGIL" --host-root "$R" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}

run rootfs 4f2a
check "rootfs: the host's mount of the overlay" test "$out" = /var/lib/docker/overlay2/abc/merged
check "rootfs: exit 0" test $rc -eq 0
run rootfs --layers 4f2a9c1d8e7b
check "rootfs --layers: upper" grep -qx 'upper    /var/lib/docker/overlay2/abc/diff' <<<"$out"
check "rootfs --layers: lower" grep -qx 'lower    /var/lib/docker/overlay2/l/LOWER1' <<<"$out"
run -o json rootfs 4f2a
check "rootfs json: upperdir" test "$(jq -r .rootfs.upperdir <<<"$out")" = /var/lib/docker/overlay2/abc/diff
check "rootfs json: lowerdirs" test "$(jq -c .rootfs.lowerdirs <<<"$out")" = '["/var/lib/docker/overlay2/l/LOWER1"]'
check "rootfs json: from the host mount" test "$(jq -r .rootfs.merged_from <<<"$out")" = host_mount
check "rootfs json: container id" test "$(jq -r .container.id <<<"$out")" = 4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f

run diff 4f2a
check "diff: docker's lines, sorted" test "$out" = "$(printf 'C /etc\nA /etc/new.conf\nC /etc/passwd\nA /tmp\nA /tmp/t')"
check "diff: exit 0" test $rc -eq 0
# a file copied up unchanged: not a change for docker, C for podman
cp -p "$L/etc/group" "$U/etc/group"
touch -r "$L/etc" "$U/etc"
run diff 4f2a
check "diff: a copy-up that changed nothing is not a change" test "$(wc -l <<<"$out")" = 5
run diff --like podman 4f2a
check "diff --like podman" test "$out" = "$(printf 'C /etc\nC /etc/group\nA /etc/new.conf\nC /etc/passwd\nA /tmp\nA /tmp/t')"
rm "$U/etc/group"
touch -r "$L/etc" "$U/etc"
run -o json diff 4f2a
check "diff json: one object per change" test "$(jq -s length <<<"$out")" = 5
mode=$(printf '%04o' "0$(stat -c %a "$U/etc/new.conf")")
check "diff json: fields" test "$(jq -c 'select(.path == "/etc/new.conf") | [.kind, .type, .size, .mode, .uid]' <<<"$out")" = '["A","file",8,"'"$mode"'",'"$(stat -c %u "$U/etc/new.conf")"']'
check "diff json: mtime is UTC" grep -qE '"mtime":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z"' <<<"$out"

# odd names: escaped in text, valid JSON
printf x > "$U/tmp/$(printf 'new\nline')"
printf x > "$U/tmp/$(printf 'bad\xff')"
run diff 4f2a
check "diff: a newline is escaped" grep -qxF 'A /tmp/new\nline' <<<"$out"
check "diff: invalid UTF-8 is escaped" grep -qxF 'A /tmp/bad\xff' <<<"$out"
check "diff: one line per change" test "$(wc -l <<<"$out")" = 7
run -o json diff 4f2a
check "diff json: valid with odd names" test "$(jq -s length <<<"$out")" = 7
check "diff json: path_escaped for invalid UTF-8" test "$(jq -r 'select(.path_escaped) | .path_escaped' <<<"$out")" = '/tmp/bad\xff'
rm -f "$U/tmp/$(printf 'new\nline')" "$U/tmp/$(printf 'bad\xff')"

# limits: partial answers say so
run diff --max-entries 2 4f2a
check "diff --max-entries: exit 1" test $rc -eq 1
check "diff --max-entries: two lines" test "$(wc -l <<<"$out")" = 2
check "diff --max-entries: says why" grep -q "stopped after 2 changes" <<<"$err"
run -o json diff --max-entries 2 4f2a
check "diff json: a closing partial record" test "$(tail -n1 <<<"$out" | jq -c '[.partial, .truncated]')" = '[true,true]'

# errors
run diff nosuchcontainer
check "diff: no such container, exit 1" test $rc -eq 1
check "diff: no such container, said" grep -q "no running container 'nosuchcontainer'" <<<"$err"
run diff
check "diff: no container, usage" test $rc -eq 2
run diff --like rkt 4f2a
check "diff --like: bad value, usage" test $rc -eq 2
run diff --max-entries 0 4f2a
check "diff --max-entries 0: usage" test $rc -eq 2

both 's/ - overlay overlay .*/ - ext4 \/dev\/vda rw/'
run diff 4f2a
check "diff: not an overlay, exit 1" test $rc -eq 1
check "diff: not an overlay, said" grep -q "is not an overlay (it is ext4, /dev/vda)" <<<"$err"
run rootfs 4f2a
check "rootfs: not an overlay still answers" test $rc -eq 0

both 's|upperdir=/var/lib/docker/overlay2/abc/diff|upperdir=/var/lib/docker/overlay2/gone/diff|'
run diff 4f2a
check "diff: missing upper layer, exit 1" test $rc -eq 1
check "diff: missing upper layer, said" grep -q "upper layer /var/lib/docker/overlay2/gone/diff: No such file" <<<"$err"

both 's|,upperdir=[^,]*,workdir=[^,]*||'
run diff 4f2a
check "diff: read-only overlay, exit 0" test $rc -eq 0
check "diff: read-only overlay, said" grep -q "read-only" <<<"$err"

both 's|upperdir=[^,]*,||'
run diff 4f2a
check "diff: upper without work dir, exit 1" test $rc -eq 1
check "diff: malformed options, said" grep -q "upper dir without a work dir" <<<"$err"

# the container's table disagrees with the host's about its layers (a
# host directory as a lower layer): refused, never read
cp "$T/host-mountinfo.orig" "$HMI"
sed 's|lowerdir=/var/lib/docker/overlay2/l/LOWER1|lowerdir=/etc|' "$T/mountinfo.orig" >"$MI"
run diff 4f2a
check "diff: a table that disagrees with the host's, exit 1" test $rc -eq 1
check "diff: a table that disagrees, said" grep -q "disagree about the layers" <<<"$err"
check "diff: a table that disagrees, nothing listed" test -z "$out"
run rootfs --layers 4f2a
check "rootfs --layers: a table that disagrees, exit 1" test $rc -eq 1

# no host mount: reached through /proc/PID/root, with a note; its layers
# are the container's word alone (its parent is PID 1 here): refused
cp "$T/mountinfo.orig" "$MI"
sed -i 's/^48 43 0:39 .*//' "$HMI"
run rootfs 4f2a
check "rootfs: no host mount: /proc/PID/root" test "$out" = /proc/100/root
check "rootfs: no host mount: a note" grep -q "has no mount of" <<<"$err"
run -o json rootfs 4f2a
check "rootfs json: no host mount: layers unverified, none shown" \
	test "$(jq -c '[.rootfs.layers_verified, .rootfs.upperdir]' <<<"$out")" = '[false,null]'
run diff 4f2a
check "diff: no host mount: refused" test $rc -eq 1
check "diff: no host mount: says why" grep -q "layers cannot be verified" <<<"$err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
