#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kubelet client over real HTTP(S) against a fake kubelet on loopback:
# tokens, CAs, error statuses, bad JSON, a hung server, big bodies, rate
# limiting. Only 127.0.0.1 (and ::1) is ever contacted; no root needed.
# Usage: test-kubelet-http.sh PROBE FAKE_KUBELET_PY PODLIST_JSON
# PROBE_WRAPPER (e.g. "valgrind --leak-check=full --error-exitcode=99 -q")
# runs every probe under it; a wrapper's non-zero exit fails the check.
set -uo pipefail
PROBE=$(realpath "$1")
FAKE=$(realpath "$2")
PODLIST=$(realpath "$3")
WRAP=${PROBE_WRAPPER:-}

WEB=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
NGINX=4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f
EXPORTER=6b3e9d2a-1c4f-4e8b-9a7d-2f5c8e1b3a6d
NODE_EXPORTER=5c7e1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d
TOKEN=vigil-test-token.eyJhbGciOiJSUzI1NiJ9

for tool in python3 openssl; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is not installed (needed for the fake kubelet)"
		exit 77
	}
done

T=$(mktemp -d /tmp/vigil-kubelet-http.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; shift; for l in "$@"; do echo "      $l"; done; }
check() { # NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "output: $out"; fi
}

# --- certificates: a CA, a server cert for 127.0.0.1/localhost, and a
# second CA that signed nothing here --------------------------------------
mkcerts() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 \
		-subj /CN=vigil-test-ca -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -x509 "${ec[@]}" -keyout "$T/other-ca.key" -out "$T/other-ca.crt" \
		-days 2 -subj /CN=vigil-other-ca -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req "${ec[@]}" -keyout "$T/srv.key" -out "$T/srv.csr" -subj /CN=127.0.0.1 &&
	printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
		"basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" >"$T/srv.ext" &&
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
		-CAcreateserial -out "$T/srv.crt" -days 2 -extfile "$T/srv.ext"
}
if ! mkcerts >"$T/openssl.log" 2>&1; then
	cat "$T/openssl.log"
	echo "FAIL: could not make test certificates"
	echo "0 passed, 1 failed"
	exit 1
fi

# start NAME FAKE-ARGS...: runs a fake kubelet, sets $port (0 on failure)
start() {
	local name=$1 i
	shift
	python3 "$FAKE" "$@" >"$T/$name.port" 2>"$T/$name.log" &
	pids+=($!)
	port=0
	for ((i = 0; i < 200; i++)); do
		if [ -s "$T/$name.port" ]; then
			port=$(head -1 "$T/$name.port")
			return 0
		fi
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	fail "fake kubelet $name did not start" "$(cat "$T/$name.log")"
	return 1
}
tls=(--cert "$T/srv.crt" --key "$T/srv.key")

# probe ARGS...: sets out (the probe's lines), wall_ms, prc
probe() {
	local t0 t1
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	out=$($WRAP "$PROBE" "$@" 2>"$T/probe.err")
	prc=$?
	t1=$(date +%s%N)
	wall_ms=$(((t1 - t0) / 1000000))
	# a crash, a usage error, or the wrapper's (valgrind's) complaint
	if [ $prc -ne 0 ]; then
		fail "probe $* exited $prc" "$(tail -20 "$T/probe.err")"
	fi
}
line() { sed -n "${1}p" <<<"$out"; }
has() { grep -q -- "$2" <<<"$(line "$1")"; }
# requests the fake kubelet NAME has answered so far
count() { cat "$T/$1.count" 2>/dev/null || echo 0; }

printf '%s\n' "$TOKEN" >"$T/token"
printf 'not-the-token\n' >"$T/bad-token"

# --- https with a bearer token and the CA --------------------------------
if start tls --mode serve --podlist "$PODLIST" --token "$TOKEN" "${tls[@]}" \
	--count-file "$T/tls.count"; then
	url=https://127.0.0.1:$port
	probe --url "$url" --token-file "$T/token" --ca-file "$T/ca.crt" \
		"$WEB" "$EXPORTER" "$WEB"
	check "https+token: pod found" has 1 "^rc=0 .*pod=default/web-7c5ddbdf54-x9k2p uid=$WEB qos=Guaranteed"
	check "https+token: containers with runtime and id" has 1 "nginx:containerd:$NGINX"
	check "https+token: init container listed" has 1 "init-config:containerd:"
	check "https+token: cri-o ids" has 2 "node-exporter:cri-o:$NODE_EXPORTER"
	check "https+token: waiting container has no id" has 2 "kube-rbac-proxy:-:-"
	check "https+token: hits come from the cache (1 request)" test "$(count tls)" = 1

	probe --url "$url/" --ca-file "$T/ca.crt" --token-file "$T/token" "$WEB"
	check "base url with a trailing slash" has 1 "^rc=0 "

	probe --url "https://localhost:$port" --token-file "$T/token" --ca-file "$T/ca.crt" "$WEB"
	check "https by host name (DNS SAN)" has 1 "^rc=0 "

	probe --url "$url" --token-file "$T/bad-token" --ca-file "$T/ca.crt" "$WEB"
	check "wrong token: -EACCES" has 1 "^rc=-EACCES .*HTTP 401"

	probe --url "$url" --ca-file "$T/ca.crt" "$WEB"
	check "no token: -EACCES" has 1 "^rc=-EACCES "

	probe --url "$url" --token-file "$T/token" --ca-file "$T/other-ca.crt" "$WEB"
	check "wrong CA: an error" has 1 "^rc=-EPROTO .*err=.*certificate"

	probe --url "$url" --token-file "$T/token" --ca-file "$T/no-such-ca.crt" "$WEB"
	check "missing CA file: an error" has 1 "^rc=-"

	probe --url "$url" --token-file "$T/token" "$WEB"
	check "system CAs do not vouch for the test cert" has 1 "^rc=-EPROTO "

	probe --url "$url" --token-file "$T/token" --ca-file "$T/ca.crt" \
		--min-refresh-ms 100 token:wrong "$WEB" sleep:200 "token:$TOKEN" "$WEB"
	check "token re-read at each refresh: wrong first" has 1 "^rc=-EACCES "
	check "token re-read at each refresh: then right" has 2 "^rc=0 "
fi

# --- plain http on loopback, rate limiting ---------------------------------
if start http --mode serve --podlist "$PODLIST" --count-file "$T/http.count"; then
	url=http://127.0.0.1:$port
	probe --url "$url" --min-refresh-ms 60000 "$WEB" no-such-uid-1 no-such-uid-2
	check "http: pod found" has 1 "^rc=0 .*pod=default/web-7c5ddbdf54-x9k2p"
	check "http: unknown uid -ENOENT" has 2 "^rc=-ENOENT "
	check "http: second unknown uid -ENOENT" has 3 "^rc=-ENOENT "
	# the first lookup fetched; both misses came within min_refresh_ms
	check "rate limit: a fetch, then two misses: one request" test "$(count http)" = 1

	before=$(count http)
	probe --url "$url" --min-refresh-ms 60000 no-such-uid-1 no-such-uid-2
	check "rate limit: two misses in a row, one request" test $(($(count http) - before)) = 1
	check "rate limit: first miss -ENOENT" has 1 "^rc=-ENOENT "

	before=$(count http)
	probe --url "$url" --min-refresh-ms 300 no-such-uid-1 sleep:400 no-such-uid-2
	check "rate limit: a miss after min_refresh_ms asks again" test $(($(count http) - before)) = 2
	check "rate limit: still -ENOENT" has 2 "^rc=-ENOENT "
fi

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	if start http6 --mode serve --podlist "$PODLIST" --bind ::1 "${tls[@]}"; then
		probe --url "https://[::1]:$port" --ca-file "$T/ca.crt" "$EXPORTER"
		check "https on ::1" has 1 "^rc=0 .*pod=monitoring/node-exporter-4xk2z"
	fi
else
	echo "SKIP: no IPv6 loopback"
fi

# --- failing kubelets ------------------------------------------------------
if start e500 --mode 500 "${tls[@]}" --count-file "$T/e500.count"; then
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" --min-refresh-ms 60000 "$WEB" "$WEB"
	check "HTTP 500: -EPROTO with the status" has 1 "^rc=-EPROTO .*HTTP 500"
	check "after a failure, rate-limited: -EAGAIN with the reason" has 2 "^rc=-EAGAIN .*HTTP 500"
	check "after a failure, no second request" test "$(count e500)" = 1
fi

if start badjson --mode badjson "${tls[@]}"; then
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" "$WEB"
	check "invalid JSON: -EPROTO with jansson's reason" has 1 "^rc=-EPROTO .*invalid JSON"
fi

if start redirect --mode redirect "${tls[@]}" --count-file "$T/redirect.count"; then
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" "$WEB"
	check "redirects are not followed" has 1 "^rc=-EPROTO .*HTTP 302"
	check "redirect: one request only" test "$(count redirect)" = 1
fi

if start hang --mode hang "${tls[@]}"; then
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" --timeout-ms 1000 "$WEB"
	check "hung kubelet: -ETIMEDOUT" has 1 "^rc=-ETIMEDOUT "
	ms=$(line 1 | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
	check "hung kubelet: lookup returned within timeout+1s (${ms:-?} ms)" \
		test "${ms:-99999}" -ge 900 -a "${ms:-99999}" -le 2000
	if [ -z "$WRAP" ]; then
		check "hung kubelet: the whole probe within timeout+1s (${wall_ms} ms)" \
			test "$wall_ms" -le 2000
	fi
fi

if start big --mode big --big-mb 20 --podlist "$PODLIST" "${tls[@]}"; then
	size=$(sed -n 's/^big body: \([0-9]*\) bytes/\1/p' "$T/big.log")
	check "big: body is at least 20 MiB ($size bytes)" test "${size:-0}" -ge $((20 << 20))
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" --timeout-ms 20000 "$WEB"
	check "20 MiB PodList with the default cap: pod found" has 1 "^rc=0 .*pod=default/web-7c5ddbdf54-x9k2p"
	probe --url "https://127.0.0.1:$port" --ca-file "$T/ca.crt" --max-body 1048576 "$WEB"
	check "body over max_body (Content-Length): -E2BIG" has 1 "^rc=-E2BIG "
fi

if start bignolen --mode big --big-mb 4 --no-length --podlist "$PODLIST"; then
	probe --url "http://127.0.0.1:$port" --max-body 1048576 "$WEB"
	check "body over max_body (no length, cut while reading): -E2BIG" has 1 "^rc=-E2BIG "
	probe --url "http://127.0.0.1:$port" --timeout-ms 10000 "$EXPORTER"
	check "body without a length, under the cap: pod found" has 1 "^rc=0 "
fi

# --- refused: a port that was just freed ----------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
probe --url "http://127.0.0.1:$port" "$WEB"
check "connection refused: -ECONNREFUSED" has 1 "^rc=-ECONNREFUSED "

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
