#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2015  # jq filters are single-quoted on purpose; pass || fail
# Integration test: the nats export and the fleet subscriber, against real
# nats-server processes with JetStream on loopback (no eBPF: events come
# from a recording through the daemon, or from nats-feed, the kind driven
# alone as the daemon's loop drives it).
#   - a storm of 100,000 records published and read back by vigil watch
#     --nats: every seq present exactly once;
#   - the daemon end to end: every event of a recording in the stream,
#     read back with the same JSON and the same text lines as vigil watch
#     gives locally (node= added), filters agreeing;
#   - an outage: the server killed during a fixed-rate feed, the records
#     spooled, replayed when it is back, the stream has each one once;
#   - a full spool: the oldest dropped, the loss counted and announced
#     by a lost record with that exact count, the rest replayed;
#   - a three-node cluster (replicas 3) fed at 5,000/s: one node killed
#     during the feed, nothing lost; all stopped, the records spooled;
#     all started again, the stream has every record once;
#   - bad input: an unreachable server, a server that never acks, TLS
#     with a wrong CA, a spool directory that cannot be written: each a
#     clear state in stats or a counted loss, and stats answers promptly;
#   - one short run of the live sensor (eBPF, docker): a real container
#     in vigil containers --nats with its node (and one idle since before
#     the daemon started), found by watch
#     --container, gone from the list when it is (VIGIL_NATS_LIVE=0
#     leaves this part out).
# Usage: test-nats.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
FEED=${NATS_FEED:-$(dirname "$VIGIL")/tests/nats-feed}

vg_need_root
vg_init
vg_need_cmds jq timeout python3 curl nats-server openssl mount umount || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
[ -x "$FEED" ] || { fail "nats-feed not found: $FEED (built with the tests)"; vg_finish; }

REC=$HERE/../fixtures/recordings/docker-lifecycle.rec
[ -r "$REC" ] || { fail "recording not found: $REC"; vg_finish; }
T=$VG_TMPDIR
export VIGIL_CONFIG=$T/no-such.conf
# the read-only file system goes before the temp dir does (and the
# exit status stays the test's)
vg_rc=0
trap 'vg_rc=$?; umount -l "$T/state2/export/rospool" 2>/dev/null; (exit $vg_rc); vg_cleanup' EXIT
finish() {
	umount -l "$T/state2/export/rospool" 2>/dev/null
	vg_finish
}


# server NAME PORT [ARGS...]: a nats-server with JetStream on loopback,
# its store in $T/NAME, its pid in SRV_PID[NAME]
declare -A SRV_PID
server() {
	local name=$1 port=$2
	shift 2
	nats-server -js -sd "$T/$name" -a 127.0.0.1 -p "$port" "$@" \
		>>"$T/$name.log" 2>&1 &
	SRV_PID[$name]=$!
	vg_track_pid "$!"
	vg_wait 10 eval "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $port), 1)' 2>/dev/null"
}
server_stop() { # NAME [SIGNAL]
	local p=${SRV_PID[$1]:-}
	[ -n "$p" ] || return 0
	kill "-${2:-TERM}" "$p" 2>/dev/null
	vg_wait 10 eval "! kill -0 $p 2>/dev/null"
	wait "$p" 2>/dev/null
	SRV_PID[$1]=
}

export_of() { # SOCK NAME: the export's object in stats
	vg_daemon_stats "$1" | jq -c --arg n "$2" '.exports[] | select(.name == $n)'
}
# stats_ms SOCK: the longest a stats answer took, in ms, of 20 asked
# 0.1 s apart on one connection (the interpreter's start not counted)
stats_ms() {
	python3 - "$1" <<'EOF' || echo 99999
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
worst = 0.0
buf = b""
for _ in range(20):
    t0 = time.monotonic()
    s.sendall(b'{"req":"stats"}\n')
    while b"\n" not in buf:
        d = s.recv(1 << 20)
        if not d:
            sys.exit(1)
        buf += d
    buf = buf.split(b"\n", 1)[1]
    worst = max(worst, time.monotonic() - t0)
    time.sleep(0.1)
print(int(worst * 1000))
EOF
}

# seqs_once FILE FIRST LAST [SENSOR]: FILE (JSON lines) has records of
# seqs FIRST..LAST (of SENSOR, if given) exactly once each, and no other
seqs_once() {
	python3 - "$@" <<'EOF'
import json, sys
path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sensor = sys.argv[4] if len(sys.argv) > 4 else None
seen, dup, other = set(), 0, 0
for ln in open(path):
    o = json.loads(ln)
    if o.get("evt", {}).get("type") == "lost" and "seq" not in o:
        continue
    if sensor and o.get("sensor") != sensor:
        other += 1
        continue
    s = o["seq"]
    if s in seen:
        dup += 1
    seen.add(s)
want = set(range(first, last + 1))
missing, extra = want - seen, seen - want
print(f"{len(seen)} seqs, {dup} duplicates, {len(missing)} missing, {len(extra)} unexpected, {other} of other sensors")
sys.exit(0 if not dup and not missing and not extra else 1)
EOF
}

# read_back URL N FILE [ARGS...]: N records of the stream from its start.
# A cluster just restarted may still be electing the stream's leader: a
# reader that could not place its consumer tries again, up to 5 times.
read_back() {
	local url=$1 n=$2 out=$3 try
	shift 3
	for try in 1 2 3 4 5; do
		timeout 120 "$VIGIL" watch --nats "$url" --from 1 -o json -n "$n" "$@" \
			>"$out" 2>"$out.err"
		[ "$(grep -c . "$out")" -ge "$n" ] && return 0
		vg_info "read back, try $try: $(grep -c . "$out") of $n records: $(tail -n 2 "$out.err" | tr '\n' ' ')"
		sleep 2
	done
	for s in "$T"/*.log; do
		case $s in */s*.log | */c*.log) vg_info "$(basename "$s"), last lines:"; tail -n 15 "$s" >&2 ;; esac
	done
	return 1
}

# last_feed FILE: nats-feed's last stats line
last_feed() { tail -n 1 "$1"; }

# ---------------------------------------------------------------- storm
vg_log "a storm of 100,000 records, read back once each"
P1=$(vg_free_port)
server s1 "$P1" || { fail "nats-server did not start"; cat "$T/s1.log"; finish; }
URL1=nats://127.0.0.1:$P1
t0=$(date +%s%N)
timeout 120 "$FEED" "$URL1" "$T/spool-storm" 100000 0 sensor=storm node=node-storm close=30000 \
	>"$T/storm.out" 2>&1
t1=$(date +%s%N)
vg_info "published in $(((t1 - t0) / 1000000)) ms: $(last_feed "$T/storm.out")"
read_back "$URL1" 100000 "$T/storm.json" --node node-storm
R=$(seqs_once "$T/storm.json" 1 100000 storm)
check "storm: every seq 1..100000 read back exactly once ($R)" \
	seqs_once "$T/storm.json" 1 100000 storm
MAXCALL=$(last_feed "$T/storm.out" | jq .max_call_us)
vg_info "longest push/run call during the storm: ${MAXCALL} us"
[ "${MAXCALL:-999999}" -lt 200000 ] && pass "storm: no call into the kind took 200 ms" ||
	fail "storm: a call into the kind took ${MAXCALL} us"

# ---------------------------------------------------------------- daemon
vg_log "the daemon end to end: a recording into the stream, read back"
SOCK=$T/d.sock
NODE_NAME=node-a "$VIGIL" daemon --socket "$SOCK" --source "replay:$REC" --idle-timeout 0 \
	--state-dir "$T/state" --log-level warning \
	--export "fleet nats $URL1 stream=VIGIL" \
	--export "execs nats $URL1 events=exec subject-prefix=vx stream=VX" \
	>"$T/daemon.log" 2>&1 &
DPID=$!
vg_track_pid "$DPID"
vg_wait 20 test -S "$SOCK" || { fail "the daemon did not start"; cat "$T/daemon.log"; finish; }
vg_wait 20 eval '[ "$(export_of "$SOCK" fleet | jq ".offered > 0 and .acked == .offered")" = true ]' ||
	fail "the daemon's export did not settle: $(export_of "$SOCK" fleet)"
EX=$(export_of "$SOCK" fleet)
OFFERED=$(jq .offered <<<"$EX")
vg_info "fleet: $EX"
[ "${OFFERED:-0}" -ge 50 ] && pass "daemon: $OFFERED events offered and acked" ||
	fail "daemon: too few events: $EX"
jq -e '.connected == true and .state == "connected" and .lost == 0' <<<"$EX" >/dev/null &&
	pass "daemon: the export says connected, nothing lost" || fail "daemon: $EX"
"$VIGIL" watch --source "replay:$REC" -o json >"$T/local.json" 2>/dev/null
"$VIGIL" watch --source "replay:$REC" >"$T/local.txt" 2>/dev/null
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-a --from 1 -o json -n "$OFFERED" \
	>"$T/fleet.json" 2>"$T/fleet.err"
sed 's/^{"node":"node-a","sensor":"[^"]*","seq":[0-9]*,/{/' "$T/fleet.json" >"$T/fleet.stripped"
check "daemon: the stream's records are vigil watch's JSON, node, sensor and seq first" \
	cmp -s "$T/local.json" "$T/fleet.stripped"
check "daemon: seqs 1..$OFFERED once each" seqs_once "$T/fleet.json" 1 "$OFFERED"
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-a --from 1 -n "$OFFERED" \
	2>/dev/null | sed 's/ node=node-a / /' >"$T/fleet.txt"
check "daemon: the text lines are vigil watch's (node= aside)" cmp -s "$T/local.txt" "$T/fleet.txt"
for f in 'evt.type = exec and proc.name = docker' 'evt.type = exec and proc.args contains rm' \
	'container.id != host' 'evt.type = exit and proc.pid > 2400'; do
	a=$("$VIGIL" watch --source "replay:$REC" -o json -f "$f" 2>/dev/null | wc -l)
	b=$(timeout 30 "$VIGIL" watch --nats "$URL1" --from 1 --node node-a -f "$f" -o json -d 2 2>/dev/null | wc -l)
	[ "$a" = "$b" ] && [ "$a" -gt 0 ] && pass "filter '$f': $b records, as locally" ||
		fail "filter '$f': $b records over nats, $a locally"
done
N_EXEC=$(jq -c 'select(.evt.type == "exec")' "$T/local.json" | wc -l)
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-a --from 1 -e exec -o json -d 2 2>/dev/null >"$T/exec.json"
[ "$(wc -l <"$T/exec.json")" = "$N_EXEC" ] && pass "-e exec: the $N_EXEC execs" ||
	fail "-e exec: $(wc -l <"$T/exec.json") records, $N_EXEC execs recorded"
EXV=$(export_of "$SOCK" execs)
jq -e --argjson n "$N_EXEC" '.acked == $n' <<<"$EXV" >/dev/null &&
	pass "an export with events=exec and its own prefix: $N_EXEC acked" || fail "execs: $EXV"
timeout 10 "$VIGIL" watch --nats "$URL1" --node nobody --from 1 -o json -d 1 >"$T/none.json" 2>/dev/null
[ ! -s "$T/none.json" ] && pass "--node of no node: nothing" || fail "--node nobody printed records"
# a durable reader resumes where it stopped
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-a --from 1 --durable rd -o json -n 10 \
	>"$T/dur1.json" 2>"$T/dur1.err"
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-a --durable rd -o json -n $((OFFERED - 10)) \
	>"$T/dur2.json" 2>"$T/dur2.err"
cat "$T/dur1.json" "$T/dur2.json" >"$T/dur.json"
check "--durable: two runs read 1..10 then the rest, once each" seqs_once "$T/dur.json" 1 "$OFFERED"
kill -TERM "$DPID" 2>/dev/null
vg_wait 15 eval "! kill -0 $DPID 2>/dev/null" || fail "the daemon did not stop on SIGTERM"
wait "$DPID" 2>/dev/null

# ---------------------------------------------------------------- alerts
# A daemon's rules' alerts, exported with events=alert, read back by the
# fleet subscriber only when it asks for them (--event alert).
vg_log "alerts: a daemon's rules into the stream, read back with --event alert"
RULESF=$HERE/../fixtures/rules/replay-rules.yaml
"$VIGIL" watch --source "replay:$REC" --rules "$RULESF" -o json >"$T/al-local.json" 2>/dev/null
"$VIGIL" watch --source "replay:$REC" --rules "$RULESF" >"$T/al-local.txt" 2>/dev/null
N_AL=$(wc -l <"$T/al-local.json")
NODE_NAME=node-al "$VIGIL" daemon --socket "$T/al.sock" --source "replay:$REC" --idle-timeout 0 \
	--state-dir "$T/state-al" --log-level warning --rules "$RULESF" \
	--export "al nats $URL1 events=alert stream=VIGIL" >"$T/al.log" 2>&1 &
APID=$!
vg_track_pid "$APID"
if vg_wait 20 test -S "$T/al.sock" &&
	vg_wait 20 eval '[ "$(export_of "$T/al.sock" al | jq --argjson n "$N_AL" ".acked == \$n")" = true ]'; then
	timeout 30 "$VIGIL" watch --nats "$URL1" --node node-al --from 1 --event alert -o json -n "$N_AL" \
		>"$T/al-fleet.json" 2>/dev/null
	sed 's/^{"node":"node-al","sensor":"[^"]*","seq":[0-9]*,/{/' "$T/al-fleet.json" >"$T/al-fleet.stripped"
	[ "$N_AL" -ge 1 ] && cmp -s "$T/al-local.json" "$T/al-fleet.stripped" &&
		pass "alerts: the $N_AL alerts of vigil watch --rules, node, sensor and seq first" ||
		fail "alerts over nats differ from vigil watch --rules' ($N_AL): $(head -c 300 "$T/al-fleet.json")"
	timeout 30 "$VIGIL" watch --nats "$URL1" --node node-al --from 1 --event alert -n "$N_AL" \
		2>/dev/null | sed 's/ node=node-al$//' >"$T/al-fleet.txt"
	check "alerts, text: Falco's lines, then the node" cmp -s "$T/al-local.txt" "$T/al-fleet.txt"
	timeout 30 "$VIGIL" watch --nats "$URL1" --node node-al --from 1 -o json -f 'evt.type = alert and container.id != host' \
		--event alert -d 2 2>/dev/null >"$T/al-sel.json"
	[ "$(wc -l <"$T/al-sel.json")" = 1 ] && pass "alerts: a filter on the container of the alert's event" ||
		fail "alerts: filtered: $(wc -l <"$T/al-sel.json") records"
	timeout 30 "$VIGIL" watch --nats "$URL1" --node node-al --from 1 -o json -d 2 2>/dev/null >"$T/al-none.json"
	[ ! -s "$T/al-none.json" ] && pass "alerts: not shown unless asked for (--event alert)" ||
		fail "alerts shown without --event alert: $(head -c 200 "$T/al-none.json")"
else
	fail "the alerts' daemon did not export its $N_AL alerts: $(export_of "$T/al.sock" al) $(tail -3 "$T/al.log")"
fi
kill -TERM "$APID" 2>/dev/null
vg_wait 15 eval "! kill -0 $APID 2>/dev/null" || fail "the alerts' daemon did not stop"
wait "$APID" 2>/dev/null

# ---------------------------------------------------------------- outage
vg_log "an outage during a fixed-rate feed: spooled, replayed, once each"
"$FEED" "$URL1" "$T/spool-out" 30000 5000 sensor=outage node=node-out hold=6000 close=20000 \
	>"$T/outage.out" 2>&1 &
FP=$!
vg_track_pid "$FP"
sleep 2
server_stop s1 KILL
sleep 2
DOWN=$(last_feed "$T/outage.out")
vg_info "while down: $DOWN"
jq -e '.connected == false and (.state | startswith("down")) and .spooled > 0 and .spool_bytes > 0' \
	<<<"$DOWN" >/dev/null && pass "outage: down, said so, records spooled" || fail "outage: $DOWN"
ls "$T/spool-out"/seg-* >/dev/null 2>&1 && pass "outage: spool segments on disk" ||
	fail "outage: no spool segment in $T/spool-out"
server s1 "$P1"
wait "$FP"
END=$(last_feed "$T/outage.out")
vg_info "after: $END"
jq -e '.pushed == 30000 and .lost == 0 and .spool_lost == 0 and .spool_bytes == 0 and .connected' \
	<<<"$END" >/dev/null && pass "outage: the spool replayed, emptied, nothing lost" || fail "outage: $END"
read_back "$URL1" 30000 "$T/outage.json" --node node-out
check "outage: every seq 1..30000 once" seqs_once "$T/outage.json" 1 30000 outage

# ---------------------------------------------------------------- full spool
vg_log "a full spool: oldest dropped, counted, announced exactly"
server_stop s1
timeout 60 "$FEED" "$URL1" "$T/spool-full" 20000 0 sensor=full node=node-full \
	spool-max=256KiB close=100 hold=300 >"$T/full.out" 2>&1
F=$(last_feed "$T/full.out")
vg_info "$F"
SLOST=$(jq .spool_lost <<<"$F")
KEPT=$(cat "$T/spool-full"/seg-* | wc -l)
SBYTES=$(cat "$T/spool-full"/seg-* | wc -c)
[ $((SLOST + KEPT)) = 20000 ] && [ "$SLOST" -gt 0 ] &&
	pass "full spool: $SLOST dropped + $KEPT kept = 20000" ||
	fail "full spool: $SLOST dropped, $KEPT kept, not 20000"
[ "$SBYTES" -le 262144 ] && pass "full spool: $SBYTES bytes, within spool-max" ||
	fail "full spool: $SBYTES bytes on disk, past 256 KiB"
server s1 "$P1"
# the next start (another sensor) replays it and tells the loss first
timeout 60 "$FEED" "$URL1" "$T/spool-full" 0 0 sensor=full2 node=node-full \
	spool-max=256KiB hold=3000 >"$T/full2.out" 2>&1
vg_info "$(last_feed "$T/full2.out")"
timeout 30 "$VIGIL" watch --nats "$URL1" --node node-full --from 1 -o json -d 3 \
	>"$T/full.json" 2>/dev/null
LOSTREC=$(jq -c 'select(.evt.type == "lost")' "$T/full.json")
[ "$(jq -s 'length' <<<"$LOSTREC")" = 1 ] && [ "$(jq .lost.total <<<"$LOSTREC")" = "$SLOST" ] &&
	[ "$(jq -r .lost.reason <<<"$LOSTREC")" = "spool full" ] &&
	pass "full spool: one lost record, total $SLOST, before the rest" ||
	fail "full spool: lost records: $LOSTREC"
[ "$(head -n 1 "$T/full.json" | jq -r .evt.type)" = lost ] ||
	fail "full spool: the lost record is not first"
check "full spool: the newest $KEPT records replayed once each" \
	seqs_once "$T/full.json" $((20000 - KEPT + 1)) 20000 full

# ---------------------------------------------------------------- bad input
vg_log "bad input: unreachable, never acking, wrong CA, unwritable spool"
DEAD=$(vg_free_port)
MUTE=$(vg_free_port)
python3 - "$MUTE" >"$T/mute.log" 2>&1 <<'EOF' &
# A server that speaks just enough NATS to be connected to, and acks
# nothing: INFO, PONG for PING, everything else swallowed.
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(16)
INFO = (b'INFO {"server_id":"mute","server_name":"mute","version":"2.9.10",'
        b'"proto":1,"headers":true,"max_payload":1048576,"jetstream":true}\r\n')
def serve(c):
    c.sendall(INFO)
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            return
        buf += d
        while b"\r\n" in buf:
            ln, buf = buf.split(b"\r\n", 1)
            if ln.startswith(b"PING"):
                c.sendall(b"PONG\r\n")
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
vg_track_pid "$!"
# TLS: a server with a certificate of one CA, a client trusting another
mkdir -p "$T/tls"
(
	cd "$T/tls" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca1 -keyout ca1.key -out ca1.crt &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca2 -keyout ca2.key -out ca2.crt &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr &&
	printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca1.crt -CAkey ca1.key -CAcreateserial -days 1 \
		-extfile ext -out srv.crt
) >"$T/tls.log" 2>&1 || fail "making test certificates: $(tail -3 "$T/tls.log")"
PT=$(vg_free_port)
printf 'tls { cert_file: "%s/tls/srv.crt"\n key_file: "%s/tls/srv.key" }\n' "$T" "$T" >"$T/tls.conf"
server stls "$PT" -c "$T/tls.conf" || fail "the TLS nats-server did not start"
# a spool directory on a read-only file system
mkdir -p "$T/state2/export/rospool"
mount -t tmpfs -o size=64k,ro vigil-test-ro "$T/state2/export/rospool" ||
	fail "mounting a read-only tmpfs"
SOCK2=$T/d2.sock
NODE_NAME=node-b "$VIGIL" daemon --socket "$SOCK2" --source "replay:$REC" --idle-timeout 0 \
	--state-dir "$T/state2" --log-level warning \
	--export "dead nats nats://127.0.0.1:$DEAD" \
	--export "mute nats nats://127.0.0.1:$MUTE ack-wait=500ms" \
	--export "wrongca nats tls://127.0.0.1:$PT tls-ca=$T/tls/ca2.crt" \
	--export "rightca nats tls://127.0.0.1:$PT tls-ca=$T/tls/ca1.crt" \
	--export "rospool nats nats://127.0.0.1:$DEAD" \
	>"$T/daemon2.log" 2>&1 &
D2=$!
vg_track_pid "$D2"
vg_wait 20 test -S "$SOCK2" || { fail "the daemon did not start"; cat "$T/daemon2.log"; finish; }
settled2() {
	local s
	s=$(vg_daemon_stats "$SOCK2") || return 1
	jq -e '[.exports[] | select(.offered > 0)] | length == 5' <<<"$s" >/dev/null &&
		jq -e '.exports[] | select(.name == "rightca") | .acked == .offered' <<<"$s" >/dev/null &&
		jq -e '.exports[] | select(.name != "rightca" and .name != "rospool") |
			.spooled + .spool_lost + .lost == .offered' <<<"$s" >/dev/null &&
		jq -e '.exports[] | select(.name == "rospool") | .lost == .offered' <<<"$s" >/dev/null
}
vg_wait 30 settled2 || fail "the bad-input exports did not settle: $(vg_daemon_stats "$SOCK2" | jq -c .exports)"
MAXMS=$(stats_ms "$SOCK2")
[ "$MAXMS" -lt 500 ] && pass "stats answered within ${MAXMS} ms, 20 times in 2 s" ||
	fail "a stats answer took ${MAXMS} ms"
S2=$(vg_daemon_stats "$SOCK2")
for n in dead mute wrongca rightca rospool; do
	vg_info "$n: $(jq -c --arg n "$n" '.exports[] | select(.name == $n) | {offered, acked, spooled, lost, state}' <<<"$S2")"
done
jq -e '.exports[] | select(.name == "dead") | .connected == false and
	(.state | test("^down: .*(refused|No server|connect)"; "i")) and .spooled == .offered' \
	<<<"$S2" >/dev/null && pass "unreachable: down with the reason, every event spooled" ||
	fail "unreachable: $(jq -c '.exports[] | select(.name == "dead")' <<<"$S2")"
jq -e '.exports[] | select(.name == "mute") | .connected == false and
	(.state | test("^down: .*(timeout|ack)"; "i")) and .spooled == .offered and .acked == 0' \
	<<<"$S2" >/dev/null && pass "never acking: down with the reason, every event spooled" ||
	fail "never acking: $(jq -c '.exports[] | select(.name == "mute")' <<<"$S2")"
jq -e '.exports[] | select(.name == "wrongca") | .connected == false and
	(.state | test("^down: .*(ssl|tls|certif|handshake|verify)"; "i")) and .spooled == .offered' \
	<<<"$S2" >/dev/null && pass "wrong CA: down with the TLS reason, every event spooled" ||
	fail "wrong CA: $(jq -c '.exports[] | select(.name == "wrongca")' <<<"$S2")"
jq -e '.exports[] | select(.name == "rospool") | .lost == .offered and .spooled == 0 and
	(.state | test("no spool"))' <<<"$S2" >/dev/null &&
	pass "unwritable spool: said in the state, every event counted lost" ||
	fail "unwritable spool: $(jq -c '.exports[] | select(.name == "rospool")' <<<"$S2")"
kill -TERM "$D2" 2>/dev/null
vg_wait 20 eval "! kill -0 $D2 2>/dev/null" && pass "the daemon stops promptly with exports down" ||
	fail "the daemon did not stop on SIGTERM"
wait "$D2" 2>/dev/null
umount -l "$T/state2/export/rospool" 2>/dev/null

# ---------------------------------------------------------------- containers
# One short run of the live sensor (eBPF): a real container, listed by
# vigil containers --nats with its node, and found by watch --container.
vg_log "vigil containers --nats with a real container (the live sensor)"
if [ "${VIGIL_NATS_LIVE:-1}" = 0 ]; then
	vg_info "VIGIL_NATS_LIVE=0: the live sensor's part is not run"
elif vg_start_dockerd && vg_busybox_image; then
	# a container there before the daemon, idle all along: listed too
	CN0=${VG_RUN_PREFIX}kv0
	vg_t docker run -d --name "$CN0" --network none "$VG_IMAGE" sleep 120 >/dev/null ||
		fail "docker run $CN0"
	CID0=$(vg_t docker inspect -f '{{.Id}}' "$CN0" 2>/dev/null)
	LSOCK=$T/live.sock
	NODE_NAME=node-live "$VIGIL" daemon --socket "$LSOCK" --idle-timeout 0 \
		--state-dir "$T/state3" --log-level warning --export "fleet nats $URL1" \
		>"$T/live.log" 2>&1 &
	LPID=$!
	vg_track_pid "$LPID"
	if vg_wait 30 test -S "$LSOCK"; then
		CN=${VG_RUN_PREFIX}kv
		T0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
		sleep 1
		vg_t docker run -d --name "$CN" --network none "$VG_IMAGE" sleep 60 >/dev/null ||
			fail "docker run $CN"
		CID=$(vg_t docker inspect -f '{{.Id}}' "$CN" 2>/dev/null)
		listed() {
			timeout 10 "$VIGIL" -o json containers --nats "$URL1" 2>/dev/null |
				jq -c --arg id "$CID" 'select(.id == $id)' | grep -q .
		}
		vg_wait 30 listed || fail "the container was not listed: $(timeout 10 "$VIGIL" -o json containers --nats "$URL1" 2>&1)"
		ENT=$(timeout 10 "$VIGIL" -o json containers --nats "$URL1" 2>/dev/null |
			jq -c --arg id "$CID" 'select(.id == $id)')
		vg_info "entry: $ENT"
		jq -e --arg n "$CN" --arg img "$VG_IMAGE" '.node == "node-live" and .name == $n and
			.image == $img and .runtime == "docker" and .init_pid > 0 and .verified' \
			<<<"$ENT" >/dev/null && pass "containers --nats: node, name, image, runtime, init pid" ||
			fail "containers --nats: $ENT"
		timeout 10 "$VIGIL" containers --nats "$URL1" 2>/dev/null |
			grep -E "^node-live +docker +${CID:0:12} +$CN " >/dev/null &&
			pass "containers --nats, text: the node first" ||
			fail "containers --nats, text: $(timeout 10 "$VIGIL" containers --nats "$URL1" 2>&1)"
		ENT0=$(timeout 10 "$VIGIL" -o json containers --nats "$URL1" 2>/dev/null |
			jq -c --arg id "$CID0" 'select(.id == $id)')
		jq -e --arg n "$CN0" '.node == "node-live" and .name == $n and .init_pid > 0 and .verified' \
			<<<"$ENT0" >/dev/null &&
			pass "containers --nats: a container running idle since before the daemon, with its name and init" ||
			fail "containers --nats: the idle container $CN0 from before the daemon: '$ENT0'"
		vg_t docker exec "$CN" /bin/busybox true
		timeout 30 "$VIGIL" watch --nats "$URL1" --container "$CN" --from "$T0" -e exec \
			-o json -d 3 >"$T/ctr.json" 2>"$T/ctr.err"
		[ -s "$T/ctr.json" ] && jq -e -s --arg id "$CID" 'all(.container.id == $id and
			.node == "node-live")' "$T/ctr.json" >/dev/null &&
			pass "watch --nats --container: $(wc -l <"$T/ctr.json") execs, of that container only" ||
			fail "watch --nats --container: $(head -c 300 "$T/ctr.err") $(head -c 300 "$T/ctr.json")"
		vg_t docker rm -f "$CN" "$CN0" >/dev/null
		vg_wait 20 eval '! listed' && pass "containers --nats: gone when the container is" ||
			fail "the container is still listed after it went"
	else
		fail "the live daemon did not start: $(tail -5 "$T/live.log")"
	fi
	kill -TERM "$LPID" 2>/dev/null
	vg_wait 20 eval "! kill -0 $LPID 2>/dev/null" || fail "the live daemon did not stop"
	wait "$LPID" 2>/dev/null
fi

# ---------------------------------------------------------------- cluster
vg_log "a three-node cluster, replicas 3, at 5,000 records/s"
CP=() RP=() MP=()
for i in 1 2 3; do
	CP[i]=$(vg_free_port)
	RP[i]=$(vg_free_port)
	MP[i]=$(vg_free_port)
done
ROUTES="nats-route://127.0.0.1:${RP[1]},nats-route://127.0.0.1:${RP[2]},nats-route://127.0.0.1:${RP[3]}"
cnode() { # I
	server "c$1" "${CP[$1]}" --name "c$1" --cluster_name vigil-test \
		--cluster "nats://127.0.0.1:${RP[$1]}" --routes "$ROUTES" -m "${MP[$1]}"
}
# cluster_ready: every node's /healthz says ok: JetStream's meta leader is
# known and every stream and consumer it holds is current. A cluster just
# (re)started answers "no stream matches" to lookups until then.
cluster_ready() {
	local i
	for i in 1 2 3; do
		curl -fsS --max-time 2 "http://127.0.0.1:${MP[i]}/healthz" 2>/dev/null |
			jq -e '.status == "ok"' >/dev/null || return 1
	done
}
# cluster_wait WHAT: wait up to 60 s for cluster_ready, saying how long
cluster_wait() {
	local t0=$SECONDS
	if vg_wait 60 cluster_ready; then
		vg_info "cluster ready $1 after $((SECONDS - t0)) s"
	else
		fail "cluster not healthy 60 s $1: $(for i in 1 2 3; do
			curl -sS --max-time 2 "http://127.0.0.1:${MP[i]}/healthz" 2>&1; echo; done)"
	fi
}
for i in 1 2 3; do cnode "$i" || fail "cluster node $i did not start"; done
CURL="nats://127.0.0.1:${CP[1]},nats://127.0.0.1:${CP[2]},nats://127.0.0.1:${CP[3]}"
cluster_wait "at start"
timeout 120 "$FEED" "$CURL" "$T/spool-c" 30000 5000 sensor=cl node=node-c replicas=3 \
	hold=3000 close=30000 >"$T/c1.out" 2>&1 &
FP=$!
vg_track_pid "$FP"
sleep 2
server_stop c2 KILL
wait "$FP"
C1=$(last_feed "$T/c1.out")
vg_info "one node killed: $C1"
jq -e '.pushed == 30000 and .lost == 0 and .spool_lost == 0 and .spool_bytes == 0' <<<"$C1" \
	>/dev/null && pass "cluster: a node killed during the feed, nothing lost" || fail "cluster: $C1"
read_back "nats://127.0.0.1:${CP[1]},nats://127.0.0.1:${CP[3]}" 30000 "$T/c1.json" --node node-c
check "cluster: every seq 1..30000 once with a node down" seqs_once "$T/c1.json" 1 30000 cl
cnode 2 || fail "cluster node 2 did not come back"
cluster_wait "with node 2 back"
"$FEED" "$CURL" "$T/spool-c" 30000 5000 sensor=cl2 node=node-c2 replicas=3 \
	hold=12000 close=30000 >"$T/c2.out" 2>&1 &
FP=$!
vg_track_pid "$FP"
sleep 2
for i in 1 2 3; do server_stop "c$i"; done
sleep 2
C2=$(last_feed "$T/c2.out")
vg_info "all stopped: $C2"
jq -e '.connected == false and .spooled > 0' <<<"$C2" >/dev/null &&
	pass "cluster: all nodes stopped, records spooled" || fail "cluster, all down: $C2"
for i in 1 2 3; do cnode "$i" || fail "cluster node $i did not restart"; done
wait "$FP"
C2=$(last_feed "$T/c2.out")
vg_info "all back: $C2"
jq -e '.pushed == 30000 and .lost == 0 and .spool_lost == 0 and .spool_bytes == 0 and .connected' \
	<<<"$C2" >/dev/null && pass "cluster: back, the spool replayed and emptied" || fail "cluster: $C2"
cluster_wait "after the full outage"
read_back "$CURL" 30000 "$T/c2.json" --node node-c2
check "cluster: every seq 1..30000 once across the full outage" seqs_once "$T/c2.json" 1 30000 cl2

finish
