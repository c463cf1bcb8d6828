#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: the daemon's syslog export against a real rsyslogd
# on loopback ports and a private socket (never the host's /dev/log),
# fed from a recording (no eBPF).
#   - RELP: every event arrives once, with its fields (the structured
#     data agrees with the JSON record), acked = offered, also when
#     rsyslogd is restarted during the feed;
#   - TCP (octet counting) and UDP: what arrives is checked, and what
#     does not is counted as far as the transport can (lost_unknown);
#   - a Unix datagram socket of the test's own: every event once; a
#     socket that is not there is a clear state and counted losses;
#   - RELP over TLS (mutual: a client certificate rsyslog checks by
#     name): the same as RELP, across the same restart;
#   - TLS: with the right CA the events arrive; with a wrong CA the
#     state says "certificate" and the losses are counted, while the
#     other exports and the daemon's socket go on;
#   - an exec record with a 10 kB argv arrives whole with rsyslog's
#     global(maxMessageSize="64k"); with rsyslog's default (8k) it is cut.
# Usage: test-export-syslog.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_init
vg_need_cmds jq timeout python3 rsyslogd openssl || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
for m in imrelp imtcp imudp imuxsock lmnsd_gtls; do
	[ -e "/usr/lib/x86_64-linux-gnu/rsyslog/$m.so" ] || ls /usr/lib/*/rsyslog/$m.so >/dev/null 2>&1 ||
		{ fail "rsyslog module $m missing (apt-get install -y rsyslog rsyslog-relp rsyslog-gnutls)"; vg_finish; }
done

REC=$HERE/../fixtures/recordings/docker-lifecycle.rec
[ -r "$REC" ] || { fail "recording not found: $REC"; vg_finish; }
T=$VG_TMPDIR
export VIGIL_CONFIG=$T/no-such.conf
export NODE_NAME=node-s

# ------------------------------------------------------------ helpers
# free_ports N: N loopback ports free now, TCP and UDP
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
out, keep = [], []
while len(out) < int(sys.argv[1]):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    keep += [t, u]; out.append(p)
print(" ".join(map(str, out)))
EOF
}

ex() { # STATS-JSON NAME: one export's object
	jq -c --arg n "$2" '.exports[] | select(.name == $n)' <<<"$1"
}

RS_PID=
# rs_start CONF: rsyslogd in the foreground, ready when its ports listen
rs_start() {
	rsyslogd -n -f "$1" -i "$T/rs.pid" >>"$T/rs.out" 2>&1 &
	RS_PID=$!
	vg_track_pid "$RS_PID"
	vg_wait 15 eval "ss -ltn | grep -q '127.0.0.1:$RELP_PORT '" ||
		{ fail "rsyslogd did not start"; cat "$T/rs.out"; }
}
rs_stop() {
	[ -n "$RS_PID" ] || return 0
	kill -TERM "$RS_PID" 2>/dev/null
	vg_wait 15 eval "! kill -0 $RS_PID 2>/dev/null" || kill -KILL "$RS_PID" 2>/dev/null
	wait "$RS_PID" 2>/dev/null
	RS_PID=
	rm -f "$T/rs.pid"
}
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	vg_wait 15 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	STOP_RC=$?
}
trap 'rs_stop; vg_cleanup' EXIT

read -r RELP_PORT TCP_PORT UDP_PORT TLS_PORT RELPS_PORT <<<"$(free_ports 5)"
vg_info "ports: relp $RELP_PORT tcp $TCP_PORT udp $UDP_PORT tls $TLS_PORT relp+tls $RELPS_PORT"

# ------------------------------------------------------------ certificates
(
	cd "$T" || exit 1
	for ca in ca wrongca; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vigil test $ca" \
			-keyout "$ca.key" -out "$ca.pem" 2>/dev/null || exit 1
	done
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout srv.key \
		-out srv.csr 2>/dev/null || exit 1
	printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.pem 2>/dev/null || exit 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=vigil-client" -keyout cli.key \
		-out cli.csr 2>/dev/null || exit 1
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-out cli.pem 2>/dev/null
) || { fail "making test certificates"; vg_finish; }

# rs_conf FILE [MAXSIZE]: inputs on the test's ports and socket, each to
# a file of its own, the raw message a line
rs_conf() {
	local max=${2:+maxMessageSize=\"$2\"}
	mkdir -p "$T/rs-work"
	cat >"$1" <<EOF
global(workDirectory="$T/rs-work" $max
       DefaultNetstreamDriverCAFile="$T/ca.pem"
       DefaultNetstreamDriverCertFile="$T/srv.pem"
       DefaultNetstreamDriverKeyFile="$T/srv.key")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp" MaxSessions="100")
module(load="imrelp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="relp") { action(type="omfile" file="$T/out/relp.log" template="raw") }
ruleset(name="tcp") { action(type="omfile" file="$T/out/tcp.log" template="raw") }
ruleset(name="udp") { action(type="omfile" file="$T/out/udp.log" template="raw") }
ruleset(name="ux") { action(type="omfile" file="$T/out/unix.log" template="raw") }
ruleset(name="tls") { action(type="omfile" file="$T/out/tls.log" template="raw") }
ruleset(name="relps") { action(type="omfile" file="$T/out/relps.log" template="raw") }
input(type="imuxsock" Socket="$T/log.sock" ruleset="ux" UseSysTimeStamp="off")
input(type="imudp" address="127.0.0.1" port="$UDP_PORT" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$TLS_PORT" ruleset="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imrelp" address="127.0.0.1" port="$RELP_PORT" ruleset="relp")
input(type="imrelp" address="127.0.0.1" port="$RELPS_PORT" ruleset="relps" tls="on"
      tls.caCert="$T/ca.pem" tls.myCert="$T/srv.pem" tls.myPrivKey="$T/srv.key"
      tls.authMode="name" tls.permittedPeer=["vigil-client"])
EOF
}
mkdir -p "$T/out"
rs_conf "$T/rs.conf" 64k
rsyslogd -N1 -f "$T/rs.conf" >"$T/rs-check.out" 2>&1 ||
	{ fail "rsyslogd -N1: the test's configuration"; cat "$T/rs-check.out"; vg_finish; }
rs_start "$T/rs.conf"

# ------------------------------------------------------------ the feed
# the recording's events 400 times over: a replay goes as fast as it can
python3 "$HERE/rec-tool.py" repeat "$REC" "$T/x400.rec" 400 ||
	{ fail "making a longer recording"; vg_finish; }
SOCK=$T/d.sock
"$VIGIL" daemon --socket "$SOCK" --source "replay:$T/x400.rec" --idle-timeout 0 \
	--state-dir "$T/state" --log-level warning \
	--export "relp syslog relp://127.0.0.1:$RELP_PORT queue=64M" \
	--export "relps syslog relp+tls://127.0.0.1:$RELPS_PORT ca=$T/ca.pem cert=$T/cli.pem key=$T/cli.key queue=64M" \
	--export "tcp syslog tcp://127.0.0.1:$TCP_PORT queue=64M" \
	--export "udp syslog udp://127.0.0.1:$UDP_PORT queue=64M facility=local3" \
	--export "unix syslog unix:$T/log.sock queue=64M" \
	--export "tls syslog tls://127.0.0.1:$TLS_PORT ca=$T/ca.pem queue=64M" \
	--export "badca syslog tls://127.0.0.1:$TLS_PORT ca=$T/wrongca.pem queue=64k" \
	>"$T/daemon.log" 2>&1 &
DPID=$!
vg_track_pid "$DPID"
vg_wait 20 test -S "$SOCK" || { fail "the daemon did not start"; cat "$T/daemon.log"; vg_finish; }

# rsyslogd restarted while RELP is still delivering: at its first acks
vg_log "restarting rsyslogd during the feed"
UDP_DROPS0=$(awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp)
vg_wait 60 eval '[ "$(ex "$(vg_daemon_stats "$SOCK")" relp | jq .acked)" -ge 1 ]' ||
	fail "RELP: no ack within 60 s"
ST=$(vg_daemon_stats "$SOCK")
at_restart=$(ex "$ST" relp | jq .acked)
OFFERED=$(ex "$ST" relp | jq .offered)
rs_stop
sleep 1
rs_start "$T/rs.conf"
vg_info "rsyslogd stopped at $at_restart acked of $OFFERED, started again"
[ "$at_restart" -lt "$OFFERED" ] && pass "the restart came during the feed ($at_restart of $OFFERED acked)" ||
	fail "the feed was over before the restart ($at_restart of $OFFERED): not a test of it"

# every export through (or, for the wrong CA, given up on)
done_all() {
	local st
	st=$(vg_daemon_stats "$SOCK") || return 1
	jq -e '[.exports[] | select(.name != "badca") |
		.offered == .sent + .lost + .queue_lost and .queued == 0 and .buffered == 0] | all' \
		<<<"$st" >/dev/null &&
		jq -e '[.exports[] | select(.name == "relp" or .name == "relps") |
			.acked + .lost == .offered] | all' <<<"$st" >/dev/null
}
vg_wait 120 done_all || fail "the exports did not finish within 120 s: $(vg_daemon_stats "$SOCK" | jq -c '.exports[] | del(.target, .kind, .spooled, .spool_lost, .spool_bytes)')"
sleep 2 # rsyslog's files written out
ST=$(vg_daemon_stats "$SOCK")
SENSOR=$(jq -r .sensor_id <<<"$ST")
UDP_DROPS=$(( $(awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp) - UDP_DROPS0 ))
for n in relp relps tcp udp unix tls badca; do vg_info "$n: $(ex "$ST" "$n" | jq -c 'del(.target, .kind)')"; done

# ------------------------------------------------------------ RELP
for n in relp relps; do
	w=RELP
	[ "$n" = relps ] && w="RELP over TLS"
	vg_log "$w"
	R=$(ex "$ST" "$n")
	C=$(python3 "$HERE/syslog-check.py" "$T/out/$n.log" "$SENSOR" "$OFFERED")
	vg_info "$n.log: $C"
	jq -e --argjson n "$OFFERED" '.acked == $n and .lost == 0 and .queue_lost == 0' <<<"$R" >/dev/null &&
		pass "$w: acked = offered = $OFFERED across the restart, nothing lost" ||
		fail "$w: $R"
	jq -e '.missing == 0 and .bad == 0' <<<"$C" >/dev/null &&
		pass "$w: every seq arrived, each message RFC 5424 with its fields agreeing" ||
		fail "$w: $C"
	jq -e '.duplicates == 0' <<<"$C" >/dev/null &&
		pass "$w: each event once" ||
		fail "$w: $(jq .duplicates <<<"$C") duplicates (sent again after the restart)"
done
jq -e '.state | test("^connected \\(relp\\+tls\\)")' <<<"$(ex "$ST" relps)" >/dev/null &&
	pass "RELP over TLS: the state says relp+tls" || fail "relps: $(ex "$ST" relps)"

# ------------------------------------------------------------ TCP, UDP
vg_log "TCP, UDP and a Unix socket: what is lost, counted as far as they can"
for n in tcp udp unix; do
	E=$(ex "$ST" "$n")
	C=$(python3 "$HERE/syslog-check.py" "$T/out/$n.log" "$SENSOR" "$OFFERED")
	vg_info "$n.log: $C"
	jq -e '.bad == 0' <<<"$C" >/dev/null && pass "$n: every message that arrived is whole, its fields agreeing" ||
		fail "$n: $C"
	missing=$(jq .missing <<<"$C")
	unknown=$(jq .lost_unknown <<<"$E")
	if [ "$missing" = 0 ]; then
		pass "$n: all $OFFERED arrived (lost_unknown $unknown)"
	elif [ "$unknown" -gt 0 ] || [ "$(jq '.lost + .queue_lost' <<<"$E")" -gt 0 ]; then
		pass "$n: $missing missing, and the export counted losses (lost_unknown $unknown: the transport cannot say how many)"
	elif [ "$n" = udp ]; then
		# dropped by the receiving socket (its buffer full, or closed
		# with datagrams in it): no sender can count that, which is
		# what "best effort" means; the refusals it can count are
		# checked below, with no one listening
		vg_info "udp: $missing lost on the way, not countable by a sender (the kernel counted $UDP_DROPS receive-buffer drops here)"
	else
		fail "$n: $missing missing and no loss counted: $E"
	fi
done
jq -e '.state | test("best effort")' <<<"$(ex "$ST" udp)" >/dev/null &&
	pass "udp: the state says it is best effort" || fail "udp: $(ex "$ST" udp)"

# ------------------------------------------------------------ unix
C=$(python3 "$HERE/syslog-check.py" "$T/out/unix.log" "$SENSOR" "$OFFERED")
jq -e '.duplicates == 0' <<<"$C" >/dev/null &&
	pass "unix: no event twice" || fail "unix: $C"

# ------------------------------------------------------------ TLS
vg_log "TLS"
C=$(python3 "$HERE/syslog-check.py" "$T/out/tls.log" "$SENSOR" "$OFFERED")
vg_info "tls.log: $C"
jq -e '.bad == 0 and .unique > 0' <<<"$C" >/dev/null &&
	pass "tls with the right CA: $(jq .unique <<<"$C") events arrived, whole" || fail "tls: $C"
B=$(ex "$ST" badca)
# (a lost record, numbered, may wait in the buffer too)
jq -e '(.state | test("^down: certificate of 127.0.0.1: ")) and .sent == 0 and
	(.connected | not) and .queue_lost > 0 and
	(.queue_lost + .buffered + .queued - .offered | . == 0 or . == 1)' \
	<<<"$B" >/dev/null &&
	pass "tls with a wrong CA: '$(jq -r .state <<<"$B" | cut -c1-90)...', losses counted" ||
	fail "tls with a wrong CA: $B"
# a handshake on the loop would have paused it for its 2 s timeout
jq -e '.limits.loop_max_pause_us < 1000000' <<<"$ST" >/dev/null &&
	pass "the daemon's loop never paused 1 s: the TLS failures did not stall it ($(jq .limits.loop_max_pause_us <<<"$ST") us at most)" ||
	fail "the loop paused: $(jq -c .limits <<<"$ST")"
stop_pid "$DPID"
[ "$STOP_RC" = 0 ] && pass "SIGTERM: the daemon ends with 0" || fail "SIGTERM: exit $STOP_RC"

# ------------------------------------------------------------ long records
vg_log "an exec with a 10 kB argv"
python3 "$HERE/rec-tool.py" long-argv "$REC" "$T/long.rec" 10240 ||
	{ fail "making a recording with a long argv"; vg_finish; }
long_run() { # CONF: the long exec over RELP to rsyslog started with CONF
	rs_stop # rsyslog holds its files open
	rm -f "$T/out/relp.log"
	rs_start "$1"
	"$VIGIL" daemon --socket "$T/l.sock" --source "replay:$T/long.rec" --idle-timeout 0 \
		--state-dir "$T/state" --log-level warning \
		--export "relp syslog relp://127.0.0.1:$RELP_PORT events=exec" >"$T/long.log" 2>&1 &
	LPID=$!
	vg_track_pid "$LPID"
	vg_wait 20 test -S "$T/l.sock" || { fail "the daemon did not start"; cat "$T/long.log"; }
	vg_wait 30 eval 'ex "$(vg_daemon_stats "$T/l.sock")" relp | jq -e ".offered > 0 and .acked + .lost == .offered" >/dev/null' ||
		fail "the long exec run did not finish"
	sleep 1
	stop_pid "$LPID"
}
long_run "$T/rs.conf"
want_len=10233
got=$(python3 - "$T/out/relp.log" <<'EOF'
import json, sys
for ln in open(sys.argv[1], encoding="utf-8", errors="replace"):
    j = ln.split("\ufeff", 1)
    if len(j) == 2:
        try:
            r = json.loads(j[1])
        except ValueError:
            print("cut", len(j[1]))
            continue
        a = r.get("proc", {}).get("args") or []
        if len(a) == 3 and a[2].startswith("AAAA"):
            print("whole", len(a[2]))
EOF
)
vg_info "with maxMessageSize=64k: $got"
grep -q "^whole $want_len$" <<<"$got" &&
	pass "global(maxMessageSize=\"64k\"): the 10 kB argv arrives whole" ||
	fail "with maxMessageSize=64k the long exec did not arrive whole: $got"

# the same with rsyslog's default, to show why the setting is needed
rs_conf "$T/rs8k.conf" ""
long_run "$T/rs8k.conf"
got=$(grep -c 'AAAA' "$T/out/relp.log")
cut_ok=$(python3 - "$T/out/relp.log" <<'EOF'
import json, sys
for ln in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if "AAAA" in ln:
        try:
            json.loads(ln.split("\ufeff", 1)[1])
            print("whole")
        except (ValueError, IndexError):
            print("cut", len(ln))
EOF
)
vg_info "with rsyslog's default: $cut_ok"
grep -q '^cut' <<<"$cut_ok" && [ "$got" -ge 1 ] &&
	pass "rsyslog's default (8k) cuts the long record: the setting is needed" ||
	fail "rsyslog's default: expected a cut record, got: $cut_ok"

# ------------------------------------------------------------ unreachable
vg_log "a socket that is not there, a port no one listens on"
rs_stop
"$VIGIL" daemon --socket "$T/u.sock" --source "replay:$REC" --idle-timeout 0 \
	--state-dir "$T/state" --log-level warning \
	--export "nosock syslog unix:$T/no-such.sock queue=64k" \
	--export "noudp syslog udp://127.0.0.1:$UDP_PORT" \
	--export "norelp syslog relp://127.0.0.1:$RELP_PORT queue=64k" >"$T/u.log" 2>&1 &
UPID=$!
vg_track_pid "$UPID"
vg_wait 20 test -S "$T/u.sock" || { fail "the daemon did not start"; cat "$T/u.log"; }
sleep 3
ST=$(vg_daemon_stats "$T/u.sock")
for n in nosock noudp norelp; do vg_info "$n: $(ex "$ST" "$n" | jq -c 'del(.target, .kind)')"; done
jq -e '(.state | test("^down: connect .*/no-such.sock: No such file or directory")) and
	.sent == 0 and .offered == .queue_lost + .buffered + .queued' <<<"$(ex "$ST" nosock)" >/dev/null &&
	pass "unix: a missing socket is a clear state, what waits counted" ||
	fail "unix, missing socket: $(ex "$ST" nosock)"
jq -e '.lost_unknown > 0' <<<"$(ex "$ST" noudp)" >/dev/null &&
	pass "udp to a closed port: the refusals counted as lost_unknown" ||
	fail "udp to a closed port: $(ex "$ST" noudp)"
jq -e '(.state | test("^down: connect 127.0.0.1:[0-9]+: Connection refused")) and .sent == 0' \
	<<<"$(ex "$ST" norelp)" >/dev/null &&
	pass "relp to a closed port: 'Connection refused', nothing counted sent" ||
	fail "relp to a closed port: $(ex "$ST" norelp)"
stop_pid "$UPID"
jq -e '.exports[] | select(.name == "norelp") | .offered' <<<"$ST" >/dev/null
[ "$STOP_RC" = 0 ] && pass "the daemon ends with 0 within the close bound, receivers down" ||
	fail "exit $STOP_RC"

vg_finish
