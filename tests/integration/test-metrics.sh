#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: `vigil daemon --metrics`, scraped by a real Prometheus.
#   - a daemon over a recording (no kernel state needed or touched) with a
#     subscriber: /metrics is clean by `promtool check metrics`, and its
#     numbers are the daemon's own `stats` answer;
#   - Debian's prometheus, on loopback, scrapes it every second: the target
#     is up, and vigil series read back through the query API hold the
#     values vigil served;
#   - HTTP: 404 for another path, 405 (with Allow) for POST, HEAD without
#     a body; an idle connection is closed after the timeout, a flood of
#     them neither stalls the daemon's socket nor outlives the timeout;
#   - start-up: a bad --metrics value and an address in use are refused at
#     once, exit 2, saying why; loopback is the default.
# Usage: test-metrics.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds curl promtool prometheus python3 jq ss || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

REPLAY=$HERE/../fixtures/recordings/docker-lifecycle.rec
SOCK=$VG_TMPDIR/run/vigil.sock

# A port nothing listens on now, from a range of its own (a start that
# still finds it taken tries another).
pick_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + (RANDOM % 20000)))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# start_daemon: vigil daemon over the recording with metrics on a free
# port; sets D_PID, PORT. A port taken meanwhile: another, a few times.
start_daemon() {
	for _ in 1 2 3 4 5; do
		PORT=$(pick_port) || break
		rm -f "$VG_TMPDIR/daemon.err"
		"$VIGIL" daemon --socket "$SOCK" --source "replay:$REPLAY" --idle-timeout 0 \
			--metrics "127.0.0.1:$PORT" </dev/null 2>"$VG_TMPDIR/daemon.err" &
		D_PID=$!
		vg_track_pid "$D_PID"
		if vg_wait 20 grep -q 'daemon serving' "$VG_TMPDIR/daemon.err"; then
			return 0
		fi
		wait "$D_PID" 2>/dev/null
		grep -q 'in use' "$VG_TMPDIR/daemon.err" || break
	done
	fail "vigil daemon --metrics did not start"
	sed 's/^/    stderr: /' "$VG_TMPDIR/daemon.err" | head -20
	return 1
}

# metric TEXT SERIES: the value of the sample SERIES (name and labels, as
# vigil writes them) in TEXT, or nothing.
metric() { awk -v s="$2" '$1 == s { print $2; exit }' <<<"$1"; }

vg_log "start-up"
start_daemon || vg_finish
grep -q "metrics at http://127.0.0.1:$PORT/metrics" "$VG_TMPDIR/daemon.err" &&
	pass "the daemon says where its metrics are" ||
	{ fail "no 'metrics at' line"; cat "$VG_TMPDIR/daemon.err"; }
listen=$(ss -Hltnp "sport = :$PORT" | awk '{ print $4 }')
[ "$listen" = "127.0.0.1:$PORT" ] && pass "metrics listen on loopback only ($listen)" ||
	fail "metrics listen on '$listen', expected 127.0.0.1:$PORT"

# A subscriber that stays: it asks for every event, then for stats once
# the recording has gone through, and keeps reading until killed.
cat >"$VG_TMPDIR/sub.py" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
s.sendall(b'{"req":"subscribe","id":1}\n')
events, asked, last = 0, False, time.monotonic()
s.settimeout(0.5)
while True:
    try:
        line = f.readline()
    except (socket.timeout, TimeoutError, OSError):
        line = None
        f = s.makefile("rb")
    if line == b"":
        break
    if line:
        j = json.loads(line)
        if "sub" in j and "evt" in j:
            events += 1
            last = time.monotonic()
        if j.get("reply") == "stats":
            with open(sys.argv[2] + ".tmp", "w") as o:
                json.dump({"events_read": events, "stats": j}, o)
            import os
            os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    # quiet for a second: the recording is through
    if not asked and events and time.monotonic() - last > 1.0:
        s.sendall(b'{"req":"stats","id":2}\n')
        asked = True
EOF
python3 "$VG_TMPDIR/sub.py" "$SOCK" "$VG_TMPDIR/stats.json" &
SUB_PID=$!
vg_track_pid "$SUB_PID"
vg_wait 30 test -s "$VG_TMPDIR/stats.json" || fail "the subscriber got no stats within 30 s"
STATS=$(cat "$VG_TMPDIR/stats.json" 2>/dev/null)

vg_log "/metrics, promtool"
M=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics")
rc=$?
[ "$rc" = 0 ] && [ -n "$M" ] && pass "GET /metrics answers" || fail "GET /metrics: curl rc=$rc"
ct=$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/metrics")
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] && pass "Content-Type is the text format 0.0.4" ||
	fail "Content-Type: '$ct'"
lint=$(promtool check metrics <<<"$M" 2>&1)
rc=$?
[ "$rc" = 0 ] && [ -z "$lint" ] && pass "promtool check metrics: clean" ||
	{ fail "promtool check metrics: rc=$rc"; printf '    %s\n' "$lint" | head -20; }
for fam in vigil_build_info vigil_start_time_seconds vigil_events_total vigil_kernel_lost_events_total \
	vigil_subscription_delivered_events_total vigil_subscription_lost_events_total vigil_clients \
	vigil_subscriptions vigil_process_table_entries vigil_process_table_evictions_total \
	vigil_attribution_cache_hits_total vigil_attribution_cache_misses_total \
	vigil_metadata_read_duration_seconds; do
	grep -q "^# TYPE $fam " <<<"$M" || missing+=" $fam"
done
[ -z "${missing:-}" ] && pass "every family the issue names is there" || fail "families missing:$missing"
# a recording has no ring buffer and attaches no program: not made up
grep -q '^vigil_ring_buffer\|^vigil_programs_attached' <<<"$M" &&
	fail "a replay reports a ring buffer or programs" ||
	pass "no ring-buffer or program series for a replay (it has neither)"

# the numbers are the daemon's own
sub=$(jq -r '.stats.your_subscriptions[0].sub' <<<"$STATS")
for t in exec fork exit container; do
	want=$(jq -r --arg t "$t" '.stats.events[$t] // 0' <<<"$STATS")
	got=$(metric "$M" "vigil_events_total{source=\"replay\",type=\"$t\"}")
	[ -n "$got" ] && [ "$got" = "$want" ] && [ "$want" -gt 0 ] &&
		pass "vigil_events_total{type=$t} = $got, as stats says" ||
		fail "vigil_events_total{type=$t}: metrics '$got', stats '$want'"
done
got=$(metric "$M" "vigil_clients"); [ "$got" = 1 ] && pass "vigil_clients = 1" || fail "vigil_clients = '$got'"
got=$(metric "$M" "vigil_subscriptions"); [ "$got" = 1 ] && pass "vigil_subscriptions = 1" ||
	fail "vigil_subscriptions = '$got'"
want=$(jq -r '.events_read' <<<"$STATS")
got=$(metric "$M" "vigil_subscription_delivered_events_total{sub=\"$sub\",uid=\"0\",pid=\"$SUB_PID\"}")
[ -n "$got" ] && [ "$got" = "$want" ] &&
	pass "the subscriber's deliveries by sub, uid and pid: $got, the events it read" ||
	{ fail "per-subscriber deliveries: '$got', the subscriber read $want"; grep subscription <<<"$M"; }
want=$(jq -r '.stats.metadata_cache.entries' <<<"$STATS")
got=$(metric "$M" "vigil_metadata_cache_entries")
[ "$got" = "$want" ] && pass "metadata cache entries: $got, as stats says" ||
	fail "metadata cache entries: metrics '$got', stats '$want'"
inf=$(metric "$M" 'vigil_metadata_read_duration_seconds_bucket{le="+Inf"}')
cnt=$(metric "$M" 'vigil_metadata_read_duration_seconds_count')
[ -n "$inf" ] && [ "$inf" = "$cnt" ] && pass "the read-time histogram's count is its +Inf bucket ($cnt)" ||
	fail "histogram: +Inf '$inf', count '$cnt'"

vg_log "HTTP"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
c2=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics/../etc/passwd")
[ "$code" = 404 ] && [ "$c2" = 404 ] && pass "another path: 404" || fail "another path: $code, $c2"
hdr=$(curl -s --max-time 5 -D - -o /dev/null -X POST --data x=1 "http://127.0.0.1:$PORT/metrics")
grep -q '^HTTP/1.1 405' <<<"$hdr" && grep -qi '^Allow: GET, HEAD' <<<"$hdr" &&
	pass "POST: 405 with Allow: GET, HEAD" || { fail "POST"; printf '    %s\n' "$hdr"; }
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/metrics")
[ "$code" = 405 ] && pass "DELETE: 405" || fail "DELETE: $code"
head=$(curl -s --max-time 5 -I "http://127.0.0.1:$PORT/metrics" -w 'BODY:%{size_download}')
grep -q '^HTTP/1.1 200' <<<"$head" && grep -q 'BODY:0$' <<<"$head" && pass "HEAD: 200, no body" ||
	{ fail "HEAD"; printf '    %s\n' "$head"; }
# headers past the bound: refused, not buffered
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "http://127.0.0.1:$PORT/metrics")
[ "$code" != 200 ] && pass "40 kB of request headers: refused ($code)" || fail "40 kB of headers: $code"

# Idle connections: the timeout closes them; a flood of them neither
# stalls the daemon's socket nor keeps /metrics away past the timeout.
python3 - "$PORT" "$SOCK" >"$VG_TMPDIR/flood.out" 2>&1 <<'EOF'
import json, select, socket, sys, time
port, sock = int(sys.argv[1]), sys.argv[2]
conns = {}  # fd: (socket, when it connected)
for _ in range(100):
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect(("127.0.0.1", port))
        conns[c.fileno()] = (c, time.monotonic())
    except OSError:
        c.close()
# the daemon's own socket answers meanwhile
u = socket.socket(socket.AF_UNIX); u.settimeout(5); u.connect(sock)
t0 = time.monotonic()
u.sendall(b'{"req":"hello"}\n')
r = json.loads(u.makefile("rb").readline())
print("HELLO %s %.3f" % (r.get("reply"), time.monotonic() - t0))
# each idle connection closed by the server: those over the connection
# limits at once, the others at the timeout after they connected
p = select.poll()
for fd in conns:
    p.register(fd, select.POLLIN)
left, closed, longest, end = set(conns), 0, 0.0, time.monotonic() + 20
while left and time.monotonic() < end:
    for fd, _ in p.poll(500):
        c, at = conns[fd]
        try:
            data = c.recv(1)
        except OSError:
            data = b""
        if data == b"":
            closed += 1
            longest = max(longest, time.monotonic() - at)
        p.unregister(fd)
        left.discard(fd)
print("CLOSED %d of %d longest %.1f" % (closed, len(conns), longest))
EOF
grep -q '^HELLO hello ' "$VG_TMPDIR/flood.out" && pass "100 idle HTTP connections: the daemon's socket still answers" ||
	{ fail "the daemon's socket during the flood"; cat "$VG_TMPDIR/flood.out"; }
read -r _ closed _ total _ last <<<"$(grep '^CLOSED' "$VG_TMPDIR/flood.out")"
[ -n "${closed:-}" ] && [ "$closed" = "$total" ] && [ "$total" -gt 0 ] &&
	awk -v l="$last" 'BEGIN { exit !(l >= 8 && l <= 14) }' &&
	pass "idle connections closed by the server, the longest-lived at the 10 s timeout (${last} s; $closed of $total)" ||
	{ fail "idle connections not all closed"; cat "$VG_TMPDIR/flood.out"; }
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
[ "$code" = 200 ] && pass "after the flood, /metrics answers again" || fail "after the flood: $code"

vg_log "a real Prometheus"
PPORT=$(pick_port)
mkdir -p "$VG_TMPDIR/prom"
cat >"$VG_TMPDIR/prom/prom.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
prometheus --config.file="$VG_TMPDIR/prom/prom.yml" --storage.tsdb.path="$VG_TMPDIR/prom/data" \
	--web.listen-address="127.0.0.1:$PPORT" </dev/null >"$VG_TMPDIR/prom/log" 2>&1 &
P_PID=$!
vg_track_pid "$P_PID"
Q="http://127.0.0.1:$PPORT/api/v1/query"
# promql QUERY: the first result's value, or nothing
promql() { curl -s --max-time 5 -G "$Q" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null; }
if vg_wait 60 eval '[ "$(promql "up{job=\"vigil\"}")" = 1 ]'; then
	pass "Prometheus scraped vigil: up{job=\"vigil\"} = 1"
else
	fail "Prometheus did not scrape vigil within 60 s"
	curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/targets" | jq -c '.data.activeTargets[] | {health, lastError}' 2>/dev/null
	tail -5 "$VG_TMPDIR/prom/log" | sed 's/^/    prometheus: /'
fi
M=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics")
got=$(promql 'vigil_clients{job="vigil"}')
[ "$got" = 1 ] && pass "through Prometheus: vigil_clients = 1" || fail "through Prometheus: vigil_clients = '$got'"
want=$(metric "$M" 'vigil_events_total{source="replay",type="exec"}')
got=$(promql 'vigil_events_total{job="vigil",source="replay",type="exec"}')
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$want" -gt 0 ] &&
	pass "through Prometheus: vigil_events_total{type=\"exec\"} = $got, as vigil serves it" ||
	fail "through Prometheus: exec events '$got', vigil serves '$want'"
got=$(promql 'vigil_build_info{job="vigil"}')
ver=$(curl -s --max-time 5 -G "$Q" --data-urlencode 'query=vigil_build_info' | jq -r '.data.result[0].metric.version // empty')
[ "$got" = 1 ] && [ -n "$ver" ] && pass "through Prometheus: vigil_build_info{version=\"$ver\"} 1" ||
	fail "through Prometheus: build info '$got' '$ver'"
got=$(promql 'histogram_quantile(0.5, vigil_metadata_read_duration_seconds_bucket{job="vigil"})')
[ -n "$got" ] && [ "$got" != NaN ] && pass "through Prometheus: the metadata read-time histogram's median, $got s" ||
	fail "through Prometheus: histogram_quantile gave '$got'"
kill -TERM "$P_PID" 2>/dev/null
vg_wait 30 eval '! kill -0 $P_PID 2>/dev/null' || kill -KILL "$P_PID" 2>/dev/null
wait "$P_PID" 2>/dev/null

vg_log "start-up errors"
for bad in "" 0 65536 abc ":$PORT" "::1:$PORT" "[::1]" "example.com:$PORT" "127.1:$PORT"; do
	out=$(timeout 20 "$VIGIL" daemon --socket "$VG_TMPDIR/bad/s" --source "replay:$REPLAY" \
		--metrics "$bad" </dev/null 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -q -- '--metrics' <<<"$out"; then
		pass "--metrics '$bad': exit 2, saying why"
	else
		fail "--metrics '$bad': rc=$rc: $out"
	fi
done
[ ! -e "$VG_TMPDIR/bad/s" ] && pass "a bad --metrics made no socket" || fail "a socket was made"
start=$SECONDS
out=$(timeout 20 "$VIGIL" daemon --socket "$VG_TMPDIR/busy/s" --source "replay:$REPLAY" \
	--metrics "127.0.0.1:$PORT" </dev/null 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q "127.0.0.1:$PORT: the address is in use" <<<"$out" && [ $((SECONDS - start)) -lt 10 ] &&
	pass "the address in use (the first daemon's): exit 2 at once, saying so" ||
	fail "address in use: rc=$rc: $out"
[ ! -e "$VG_TMPDIR/busy/s" ] && pass "... before its socket was made" || fail "a socket was made"

kill -0 "$D_PID" 2>/dev/null && pass "the daemon is still running" || fail "the daemon died"
kill "$SUB_PID" 2>/dev/null
kill -TERM "$D_PID"
vg_wait 10 eval '! kill -0 $D_PID 2>/dev/null'
wait "$D_PID"
rc=$?
[ "$rc" = 0 ] && pass "SIGTERM: the daemon exits 0" || fail "the daemon exit status $rc"
! ss -Hltn "sport = :$PORT" | grep -q . && pass "the metrics port is closed" || fail "the metrics port is still open"
vg_finish
