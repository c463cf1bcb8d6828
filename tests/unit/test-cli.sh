#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The vigil CLI against fixture host roots: exit codes, usage errors,
# stdin, text and JSON. Usage: test-cli.sh VIGIL FIXTURES NO_THREADS_SO
set -uo pipefail
VIGIL=$1
FX=$2
NO_THREADS=$(realpath "$3")
ID=4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f
passed=0 failed=0
command -v jq >/dev/null || { echo "FAIL: jq is not installed"; echo "0 passed, 1 failed"; exit 1; }

check() { # NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
	fi
}

run() { # sets out, err, rc
	out=$("$VIGIL" "$@" 2>/tmp/vigil-cli-err.$$)
	rc=$?
	err=$(cat /tmp/vigil-cli-err.$$)
}

run --host-root "$FX/docker-systemd-v2" --output json pid 100
check "json: docker runtime" test "$(jq -r .container.runtime <<<"$out")" = docker
check "json: full container id" test "$(jq -r .container.id <<<"$out")" = "$ID"
check "json: exit 0" test $rc -eq 0
check "json: args array" test "$(jq -c .proc.args <<<"$out")" = '["sleep","600"]'
check "json: exec_id" test "$(jq -r .proc.exec_id <<<"$out")" = cabb7c05ed1b46df-100-12345
check "json: uid" test "$(jq -r .user.uid <<<"$out")" = 1000
check "json: ns inodes" test "$(jq -r .ns.mnt <<<"$out")" = 4026531841

# options after the command, as 'vigil pid PID --output json'
run pid 100 --output json --host-root "$FX/kind-nested"
check "options after the command" test "$(jq -r .k8s.pod.uid <<<"$out")" = 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
check "kind: nested_in" test "$(jq -r .container.nested_in.runtime <<<"$out")" = docker

VIGIL_HOST_ROOT="$FX/host-v2" run -o json pid 100
check "env VIGIL_HOST_ROOT; host explicit" test "$(jq -r '.container.id + "/" + .container.runtime' <<<"$out")" = host/none

run --host-root "$FX/docker-systemd-v2" pid 100
check "text: container line" grep -q "^container  *docker $ID\$" <<<"$out"
check "text: args" grep -q "^args  *sleep 600\$" <<<"$out"

run --host-root "$FX/docker-systemd-v2" -o json pid 100 4242 100
check "not found: exit 1" test $rc -eq 1
check "not found: others still answered" test "$(jq -s 'length' <<<"$out")" = 3
check "not found: error code" test "$(jq -rs '.[1].error.code' <<<"$out")" = not_found

run --host-root "$FX/conflict-container" -o json pid 100
check "conflict: exit 1" test $rc -eq 1
check "conflict: code" test "$(jq -r .error.code <<<"$out")" = conflict
check "conflict: no container named" test "$(jq -r .container <<<"$out")" = null

out=$(printf '100\n 4242\tabc 100\n' | "$VIGIL" --host-root "$FX/docker-systemd-v2" -o json pid - 2>/tmp/vigil-cli-err.$$)
rc=$?
check "stdin: pids read" test "$(jq -s 'length' <<<"$out")" = 3
check "stdin: bad token reported" grep -q "not a pid: 'abc'" /tmp/vigil-cli-err.$$
check "stdin: exit 1" test $rc -eq 1

out=$(head -c 100000 /dev/urandom | "$VIGIL" --host-root "$FX/host-v2" -o json pid - 2>/dev/null)
rc=$?
check "stdin: binary garbage survives" test $rc -le 1

run --host-root "$FX/bad-input" -o json pid --all
check "--all over bad input: exit 1" test $rc -eq 1
check "--all: every process answered" test "$(jq -s 'length' <<<"$out")" = 9
check "--all: valid JSON with newline comm" test "$(jq -rs '.[] | select(.proc.pid == 201) | .proc.name' <<<"$out")" = $'new\nline'

run --host-root "$FX/bad-input" pid 201
check "text: newline in comm escaped" grep -q '^name  *new\\nline$' <<<"$out"

# --all over more processes than the output window holds (64 batches of
# 32): every process once, in pid order, threaded and with no thread to be
# had (where a worker on the calling thread would wait forever).
BIG=$(mktemp -d /tmp/vigil-cli-big.XXXXXX)
mkdir -p "$BIG/proc"
cp -r "$FX/docker-systemd-v2/proc/stat" "$FX/docker-systemd-v2/proc/sys" "$BIG/proc/"
for p in $(seq 1000 3099); do
	cp -r "$FX/docker-systemd-v2/proc/100" "$BIG/proc/$p"
done
# the container's runtime recorded the first as its init
cp -r "$FX/docker-systemd-v2/run" "$BIG/"
find "$BIG/run" -name init.pid -exec sh -c 'echo 1000 >"$1"' _ {} \;
out=$(timeout 60 "$VIGIL" --host-root "$BIG" -o json pid --all)
rc=$?
check "--all, 2,100 processes: exit 0" test $rc -eq 0
check "--all, 2,100 processes: each once, in order" test "$(jq -r .proc.pid <<<"$out" | tr '\n' ' ')" = "$(seq -s ' ' 1000 3099) "
out=$(LD_PRELOAD=$NO_THREADS timeout 60 "$VIGIL" --host-root "$BIG" -o json pid --all)
rc=$?
check "--all with no threads: exit 0, not hung" test $rc -eq 0
check "--all with no threads: each once, in order" test "$(jq -r .proc.pid <<<"$out" | tr '\n' ' ')" = "$(seq -s ' ' 1000 3099) "
rm -rf "$BIG"

run pid abc
check "usage: non-numeric pid exits 2" test $rc -eq 2
check "usage: message names it" grep -q "not a pid: 'abc'" <<<"$err"
run pid
check "usage: no pid exits 2" test $rc -eq 2
run pid --all 1
check "usage: --all with pids exits 2" test $rc -eq 2
run --output yaml pid 1
check "usage: bad --output exits 2" test $rc -eq 2
run pdi 1
check "usage: unknown command exits 2" test $rc -eq 2
check "did you mean" grep -q "did you mean 'pid'" <<<"$err"
run --host-root /nonexistent/root pid 1
check "missing host root exits 2" test $rc -eq 2
check "missing host root says so" grep -q "host root '/nonexistent/root'" <<<"$err"
run --help
check "--help exits 0" test $rc -eq 0
run pid --help
check "pid --help" grep -q "^Usage: vigil pid" <<<"$out"
run --version
check "--version" grep -q "^vigil [0-9]" <<<"$out"

# container metadata, vigil containers and vigil tree on fixture roots
M=$FX/meta
run --host-root "$M/docker-k8s" -o json pid 100
check "meta: docker name and image" test "$(jq -r '.container.name + " " + .container.image' <<<"$out")" = "k8s_nginx_web-0_prod_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0_0 nginx:1.25"
check "meta: pod from labels, unverified" test "$(jq -r '[.k8s.ns.name, .k8s.pod.name, .k8s.source, .k8s.verified] | join(" ")' <<<"$out")" = "prod web-0 runtime-labels false"
run --host-root "$M/docker-k8s" pid 100
check "meta text: pod marked as a claim" grep -q "^pod  *prod/web-0 (from runtime labels, unverified claim)" <<<"$out"
check "meta text: labels" grep -q "^label  *team=blue" <<<"$out"
run --host-root "$M/docker-truncated" -o json pid 100
check "meta: malformed state is incomplete, with the reason" test "$(jq -r '.container.metadata.complete' <<<"$out")" = false
check "meta: reason names the file" grep -q 'config.v2.json is malformed' <<<"$(jq -r .container.metadata.missing <<<"$out")"
check "meta: malformed state still exits 0" test $rc -eq 0
run --host-root "$M/docker-k8s" --no-metadata -o json pid 100
check "--no-metadata: no name" test "$(jq -r '.container.name // "none"' <<<"$out")" = none
run --host-root "$M/crio" -o json containers
check "containers: one CRI-O container" test "$(jq -r '[.container.runtime, .container.name, .proc.count, .proc.init_pid] | join(" ")' <<<"$out")" = "cri-o redis 1 100"
run --host-root "$M/crio" containers
check "containers text: header and short id" grep -q "^cri-o  *4f2a9c1d8e7b  *redis  *docker.io/library/redis:7  *data/cache-0\*" <<<"$out"
run --host-root "$M/crio" containers 4f2a
check "containers: id prefix" test $rc -eq 0
run --host-root "$M/crio" containers 4f
check "containers: a two-character prefix is not enough" test $rc -eq 1
run --host-root "$M/crio" containers nope
check "containers: unknown container exits 1 and says so" grep -q "no running container 'nope'" <<<"$err"
run --host-root "$M/podman" -o json tree
check "tree json: a root process in a container sits under its container node" test "$(jq -c '[.container.name, .children[0].pid]' <<<"$out")" = '["db",100]'
run --host-root "$M/podman" tree --container db
check "tree --container: the container node" grep -q "^\[podman 4f2a9c1d8e7b db image=docker.io/library/postgres:16" <<<"$out"
check "tree --container: then its process, each argv element a text value" grep -q '^└─ 100 nginx -g "daemon off;"$' <<<"$out"
run --host-root "$M/podman" tree extra
check "tree: stray argument exits 2" test $rc -eq 2
run containers --help
check "containers --help" grep -q "^Usage: vigil containers" <<<"$out"
run tree --help
check "tree --help" grep -q "^Usage: vigil tree" <<<"$out"

# server and client: usage errors and an unreachable server
run server --help
check "server --help" grep -q "^Usage: vigil server" <<<"$out"
run client --help
check "client --help" grep -q "^Usage: vigil client" <<<"$out"
run server --mode 1777
check "server --mode out of range: exit 2" test $rc -eq 2
run server --workers 0
check "server --workers 0: exit 2" test $rc -eq 2
run server --policy /nonexistent/policy
check "server --policy missing: exit 2, names the file" \
	eval 'test $rc -eq 2 && grep -q "/nonexistent/policy" <<<"$err"'
run client --socket /nonexistent/peer.sock
check "client with no server: exit 3, says why" \
	eval 'test $rc -eq 3 && grep -q "connecting to /nonexistent/peer.sock" <<<"$err"'
run client --timeout abc
check "client --timeout abc: exit 2" test $rc -eq 2
tmpd=$(mktemp -d)
printf 'not a socket' >"$tmpd/peer.sock"
run server --socket "$tmpd/peer.sock"
check "server refuses to replace a file that is not a socket" \
	eval 'test $rc -ne 0 && grep -q "not a socket" <<<"$err" && test -f "$tmpd/peer.sock"'
rm -rf "$tmpd"

# vigil server's log and vigil client's text: what a client controls (here
# its exe's path: a space, "uid=0", a bidi override) is one quoted value,
# escaped, so it forges no field and hides no text
tmpd=$(mktemp -d)
rlo=$(printf '\xe2\x80\xae')
hostile="$tmpd/x uid=0 ${rlo}gpj.exe"
cp "$VIGIL" "$hostile"
"$VIGIL" server --socket "$tmpd/s.sock" >"$tmpd/log" 2>"$tmpd/err" &
spid=$!
for _ in $(seq 100); do [ -S "$tmpd/s.sock" ] && break; sleep 0.1; done
"$hostile" client --socket "$tmpd/s.sock" >"$tmpd/client.out" 2>&1
kill -INT "$spid"
wait "$spid"
check "server log: one line for the client" test "$(grep -c . "$tmpd/log")" = 1
if grep -qE '^[^ ]+ (allow|deny) pid=' "$tmpd/log"; then
	check "server log: a hostile exe is one quoted value" \
		grep -qF " exe=\"$tmpd/x uid=0 \\u{202e}gpj.exe\" container=" "$tmpd/log"
	check "client text: the exe escaped" \
		grep -qxF "proc.exe                     $tmpd/x uid=0 \\u{202e}gpj.exe" "$tmpd/client.out"
fi
check "server log and client text: no raw bidi override" \
	eval '! grep -q "$rlo" "$tmpd/log" "$tmpd/client.out"'
rm -rf "$tmpd"

rm -f /tmp/vigil-cli-err.$$
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
