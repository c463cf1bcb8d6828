#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-export.sh — what sending events off the node costs: vigil daemon
# (eBPF source) under the same open storm, exporting to nothing, to NATS
# JetStream and to rsyslog over RELP, side by side in one run, beside a
# floor: a bare libnats program publishing the same bytes in the same
# batches. Then a fleet on this machine: 1, 2, 4 daemons replaying
# recorded events into a three-node JetStream cluster, one fleet
# subscriber.
#
#   bench/bench-export.sh [VIGIL_BINARY] [ROUNDS=3]      (root)
#
# Part 1, per round, each column in turn (in the reverse order in odd
# rounds), a daemon of its own started for it and stopped after (start-up
# and stop not timed):
#   nothing  the export a file on a private tmpfs (fsync=never): the
#            events captured, attributed and made into records as for
#            any export, and written where it costs next to nothing
#   nats     a nats export to a nats-server -js on a loopback port
#   syslog   a syslog export over RELP to a private rsyslogd on a
#            loopback port (the transport that knows what arrived)
#   floor    nats-floor (bench/nats-floor.c, built with vigil): the
#            records vigil's nats export published (captured from the
#            stream once, before the rounds), published again to the
#            same stream, same subjects, same bytes, a Nats-Msg-Id each,
#            js_PublishMsgAsync, at most 1024 acks in flight (vigil's
#            max-pending), in windows of 1024 whose acks are awaited
#            before the next, as vigil's export does
#   floor-stream  the same without windows: libnats holding a publish
#            while 1024 are in flight (a sliding window)
# Each daemon column's export takes the storm's opens only (events=open
# path=FILE: selected in the kernel) with queue=1G, so that a storm that
# outruns the transport is queued, not dropped: the CPU per event is
# then that of full batches, as the floor's. A tenth of the storm is
# run first and not measured (a warm-up, as the floor has one).
#   1. storm: STORM_N opens (bench/storm.c) as fast as they go; measured
#      from its start until the export's stats say every event was taken
#      (acked for nats and RELP, written for the file):
#        events/s  events exported / that time (sustained);
#        cpu/ev    the daemon's utime + stime (/proc/PID/stat) / events;
#        thr/ev    the CPU (schedstat) of every thread but the daemon's
#                  loop / events: the nats and syslog exports publish from
#                  threads of their own (and libnats's), the loop only
#                  hands each record over;
#        export/ev thr/ev minus nothing's: the export's own CPU. The
#                  floors' is their whole process (getrusage: every
#                  thread, libnats's too) / events;
#        -nothing  cpu/ev minus nothing's: what the export adds to the
#                  whole daemon, the loop's hand-over included.
#   2. paced: PACE_RATE opens a second for PACE_S s (storm runs of
#      PACE_RATE/10 opens every 100 ms), read by a consumer: nats,
#      `vigil watch --nats URL --node NODE -o json`; syslog, the file
#      rsyslog writes with its %timegenerated% (when rsyslog received
#      the message) before each message; nothing, `vigil watch` through
#      the daemon's socket (the latency of the daemon itself: its eBPF
#      ring is read every 100 ms when less than 256 KiB waits). Latency =
#      receipt minus the event's evt.time (its kernel time on the wall
#      clock); p50/p99 of every paced event, the median over rounds
#      shown. The consumer also checks that per sensor every seq is
#      there once.
#   lost: per column, summed over rounds and both parts: the kernel's
#      losses, the export's (queue_lost, lost, spool_lost), operations
#      the daemon did not offer, and events the consumer missed.
# Results:
#   RESULT export_nats_cpu_vs_floor R target <=1.3: R the median over
#     rounds of nats' export/ev / floor's (windows) of the same round
#   RESULT export_nats_lost N target 0
#
# Part 2, the fleet: a three-node JetStream cluster on loopback (the
# stream with replicas=3, as vigil makes it), for N in FLEET_NODES, N
# daemons each replaying a recording (tests/fixtures/recordings/
# docker-lifecycle.rec, repeated) with a node name of its own, read by
# one `vigil watch --nats` of the whole cluster:
#   rate  each daemon fed FLEET_RATE events a second for FLEET_S s;
#   max   each fed FLEET_MAX_REPS repetitions as fast as it reads them.
# A replay goes as fast as it can and carries the recording's times, so
# each daemon reads a FIFO that export-probe feed writes: the recording
# with its kernel records stamped with the time they are written (one
# repetition first as a warm-up, not measured, then a pause while the
# exports connect). Reported: events/s at the subscriber (after the
# warm-up), node-to-subscriber latency p50/p99, and losses (the daemons'
# export counters, and per sensor every seq present once).
#   RESULT fleet_lost N target 0
#
# Environment (QUICK=1: a fifth of the storm, shorter runs, N = 1 2):
#   ROUNDS          rounds, at least 3 (the argument wins)
#   STORM_N         opens of the storm (100000)
#   PACE_RATE, PACE_S   the paced part (5000 a second, 4 s)
#   FLEET_NODES     "1 2 4"
#   FLEET_RATE, FLEET_S, FLEET_MAX_REPS   (1000 a second, 4 s, 100)
#   PARTS           "exports fleet" (both)
#   BENCH_KEEP=DIR  keep the logs there
#
# Needs root (eBPF), nats-server, rsyslogd with imrelp (rsyslog-relp),
# jq, a C compiler, and nats-floor from the build directory (or libnats'
# headers to build it here). Only 127.0.0.1 is used; every server,
# daemon and reader started here is stopped on exit, and the tmpfs made
# here unmounted.
#
# Exit status: 0 when the benchmark ran (PASS or MISS alike); 1 when a
# command failed (a daemon did not start or settle, a server did not
# start, a consumer got nothing); 2 on usage or set-up errors. Without
# root it prints why it is skipped and exits 0.

# shellcheck disable=SC2317,SC2015  # functions run through wait_for; A && B || die
set -u
set -o pipefail
export LC_ALL=C
export PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
rounds=${2:-${ROUNDS:-3}}

# shellcheck source=lib.sh
. "$here/lib.sh" bench-export
# progress to stderr: stdout is the report
say() { echo "bench-export: $*" >&2; }
bench_check_rounds
bench_check_vigil
if (( EUID != 0 )); then
	echo "bench-export: needs root (the daemon's eBPF sensor); skipped"
	exit 0
fi

quick=${QUICK:-0}
storm_n=${STORM_N:-$(( quick == 1 ? 20000 : 100000 ))}
pace_rate=${PACE_RATE:-5000}
pace_s=${PACE_S:-$(( quick == 1 ? 2 : 4 ))}
fleet_nodes=${FLEET_NODES:-$( (( quick == 1 )) && echo "1 2" || echo "1 2 4")}
fleet_rate=${FLEET_RATE:-1000}
fleet_s=${FLEET_S:-$(( quick == 1 ? 2 : 4 ))}
fleet_max_reps=${FLEET_MAX_REPS:-$(( quick == 1 ? 20 : 100 ))}
parts=${PARTS:-exports fleet}
for v in storm_n pace_rate pace_s fleet_rate fleet_s fleet_max_reps; do
	isnum "${!v}" && (( ${!v} > 0 )) || die "$v must be a positive number"
done
for n in $fleet_nodes; do isnum "$n" && (( n >= 1 && n <= 16 )) || die "FLEET_NODES: 1 to 16 each"; done
(( pace_rate >= 10 )) || die "PACE_RATE must be at least 10"
for c in nats-server rsyslogd jq "${CC:-cc}" mkfifo mount umount awk; do
	command -v "$c" >/dev/null || die "$c is not installed (make deps-bench)"
done
ls /usr/lib/*/rsyslog/imrelp.so >/dev/null 2>&1 || die "rsyslog's imrelp is not installed (rsyslog-relp)"
rec=$here/../tests/fixtures/recordings/docker-lifecycle.rec
[[ -r $rec ]] || die "recording not found: $rec"
want_part() { [[ " $parts " == *" $1 "* ]]; }

wall0=$EPOCHREALTIME
tmp=$(mktemp -d /tmp/bench-export.XXXXXX) || die "mktemp failed"
pids=()         # everything started here, stopped on exit
tmpfs=

cleanup() {
	trap '' INT TERM HUP
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [[ -n ${BENCH_KEEP:-} ]]; then
		mkdir -p "$BENCH_KEEP" && cp -r "$tmp"/logs "$BENCH_KEEP"/ 2>/dev/null
	fi
	[[ -n $tmpfs ]] && umount "$tmpfs" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
track() { pids+=("$1"); }
# stop PID: TERM, 10 s to go, KILL; reaped
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for (( i = 0; i < 100; i++ )); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
mkdir -p "$tmp/logs"

# --- the helpers ------------------------------------------------------------
${CC:-cc} -std=gnu11 -O2 -o "$tmp/storm" "$here/storm.c" || die "building storm.c failed"
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -o "$tmp/probe" "$here/export-probe.c" ||
	die "building export-probe.c failed"
floor=$(dirname "$vigil")/nats-floor
if [[ ! -x $floor ]]; then
	floor=$tmp/nats-floor
	# shellcheck disable=SC2046  # pkg-config's words
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -o "$floor" "$here/nats-floor.c" \
		$(pkg-config --cflags --libs libnats) || die "building nats-floor.c failed (libnats-dev)"
fi
probe=$tmp/probe
export VIGIL_CONFIG=$tmp/no-such.conf   # the host's vigil.conf is not ours

failed=0
fail() { echo "bench-export: FAILED: $*" >&2; failed=1; }

stats() { "$probe" stats "$1"; }                      # SOCK -> one line
ex0() { jq -c '.exports[0]' <<<"$1"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
# threads_ns PID: time on a CPU of every thread but the first (the loop)
threads_ns() {
	local t s=0 v
	for t in /proc/"$1"/task/*; do
		[[ ${t##*/} == "$1" ]] && continue
		read -r v _ <"$t/schedstat" 2>/dev/null && s=$(( s + v ))
	done
	echo "$s"
}
clk_tck=$(getconf CLK_TCK)
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local end=$(( SECONDS + $1 ))
	shift
	until "$@" 2>/dev/null; do
		(( SECONDS < end )) || return 1
		sleep 0.1
	done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# start_daemon NAME NODE SOURCE EXPORT-SPEC: sets dpid, dsock
start_daemon() {
	dsock=$tmp/$1.sock
	rm -f "$dsock"
	NODE_NAME=$2 "$vigil" daemon --socket "$dsock" --source "$3" --idle-timeout 0 \
		--state-dir "$tmp/state-$1" --log-level warning --export "$4" \
		</dev/null >>"$tmp/logs/$1.log" 2>&1 &
	dpid=$!
	track "$dpid"
}
connected() { [[ $(stats "$1" | jq '.exports[0].connected') == true ]]; }

# settled SOCK N KIND: N events offered or lost in the kernel, and every
# one offered taken (acked; for the file, written) or counted lost,
# nothing queued
last_stats=
settled() {
	local s
	s=$(stats "$1") || return 1
	last_stats=$s
	jq -e --argjson n "$2" --arg k "$3" '([.kernel_lost[]?] | add // 0) as $kl |
		.exports[0] | (if $k == "file" then .sent else .acked end) as $got |
		.offered + $kl >= $n and .queued == 0 and .buffered == 0 and
		$got + .queue_lost + .lost + .spool_lost >= .offered' <<<"$s" >/dev/null
}
# settle SOCK N KIND: until settled, or 30 s without progress
settle() {
	local was="" now end=$(( SECONDS + 30 ))
	until settled "$@"; do
		now=$(jq -c '.exports[0] | [.offered, .sent, .acked]' <<<"$last_stats" 2>/dev/null)
		[[ $now != "$was" ]] && { was=$now; end=$(( SECONDS + 30 )); }
		(( SECONDS < end )) || return 1
		sleep 0.05
	done
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { # "k v k v ..." KEY
	awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) { print $(i + 1); exit } }' <<<"$1"
}

# ================================================================ part 1
declare -A R=()       # R[col,round,measure]
cols=(nothing nats syslog floor floor-stream)
nats_url="" relp_url="" rs_out="" target=""

run_part1() {
	local port rport r i c
	read -r port rport <<<"$("$probe" ports 2)"
	nats_url=nats://127.0.0.1:$port
	nats-server -js -sd "$tmp/js1" -a 127.0.0.1 -p "$port" >"$tmp/logs/nats-server.log" 2>&1 &
	track $!
	wait_for 15 "$floor" mkstream "$nats_url" 1 || { fail "nats-server did not start"; return 1; }

	# rsyslogd: RELP in, each message a line with when it was received
	mkdir -p "$tmp/rs-work"
	rs_out=$tmp/rsyslog.out
	cat >"$tmp/rsyslog.conf" <<EOF
global(workDirectory="$tmp/rs-work" maxMessageSize="64k")
module(load="imrelp")
template(name="stamped" type="string" string="%timegenerated:::date-rfc3339% %msg%\n")
ruleset(name="relp") { action(type="omfile" file="$rs_out" template="stamped") }
input(type="imrelp" address="127.0.0.1" port="$rport" ruleset="relp")
EOF
	rsyslogd -N1 -f "$tmp/rsyslog.conf" >"$tmp/logs/rsyslog-check.log" 2>&1 ||
		{ fail "rsyslogd -N1: $(tail -n 3 "$tmp/logs/rsyslog-check.log")"; return 1; }
	rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslog.pid" >"$tmp/logs/rsyslog.log" 2>&1 &
	track $!
	wait_for 15 listening "$rport" || { fail "rsyslogd did not listen"; return 1; }
	relp_url=relp://127.0.0.1:$rport

	# the storm's file, on a tmpfs of our own, as the nothing export's
	tmpfs=$tmp/tmpfs
	mkdir -p "$tmpfs"
	mount -t tmpfs -o size=1g,mode=0700 bench-export "$tmpfs" || { tmpfs=; fail "mount tmpfs"; return 1; }
	target=$tmpfs/target
	: >"$target"

	# what vigil publishes, captured once for the floor (also a warm-up)
	say "capturing the nats export's records of a $storm_n-open storm, for the floor"
	start_daemon capture bx-capture bpf "out nats $nats_url events=open path=$target queue=1G"
	if ! wait_for 30 connected "$dsock"; then
		fail "the capture daemon did not connect: $(tail -n 3 "$tmp/logs/capture.log")"
		return 1
	fi
	"$tmp/storm" open "$storm_n" "$target" >/dev/null || fail "storm"
	settle "$dsock" "$storm_n" nats || fail "capture: did not settle: $(ex0 "$last_stats")"
	stop "$dpid"
	# what was acked (the kernel may have dropped some, under load)
	local ncap
	ncap=$(jq '.exports[0].acked' <<<"$last_stats")
	(( ncap > 0 )) || { fail "capture: nothing acked"; return 1; }
	"$floor" dump "$nats_url" 'vigil.bx-capture.>' "$ncap" "$tmp/floor.lines" ||
		{ fail "capturing the records for the floor"; return 1; }

	for (( r = 0; r < rounds; r++ )); do
		local order=("${cols[@]}")
		if (( r % 2 )); then
			order=()
			for (( i = ${#cols[@]} - 1; i >= 0; i-- )); do order+=("${cols[i]}"); done
		fi
		for c in "${order[@]}"; do
			say "round $(( r + 1 ))/$rounds: $c"
			case $c in
			floor*) run_floor "$c" "$r" ;;
			*) run_column "$c" "$r" ;;
			esac
		done
	done
}

run_floor() { # COL ROUND
	local mode=window out n a cpu wall
	[[ $1 == floor-stream ]] && mode=stream
	out=$("$floor" pub "$nats_url" "$tmp/floor.lines" "$(cat /proc/sys/kernel/random/uuid)" 1024 "$mode") ||
		{ fail "$1: nats-floor pub"; return; }
	out=${out#floor: }
	n=$(field "$out" events) a=$(field "$out" acked)
	cpu=$(field "$out" cpu_us) wall=$(field "$out" wall_us)
	R[$1,$2,events]=$a
	R[$1,$2,eps]=$(awk -v n="$a" -v w="$wall" 'BEGIN { printf "%.0f", n / (w / 1e6) }')
	R[$1,$2,cpu]=$(awk -v c="$cpu" -v n="$a" 'BEGIN { printf "%.3f", c / n }')
	R[$1,$2,lost]=$(( n - a ))
}

run_column() { # COL ROUND
	local col=$1 r=$2 node=bx-$1-$2 spec kind rs_off=0
	case $col in
	nothing) kind="file"
		spec="out file $tmpfs/nothing.json events=open path=$target queue=1G max-size=900M keep=0 fsync=never" ;;
	nats) kind=nats; spec="out nats $nats_url events=open path=$target queue=1G" ;;
	syslog) kind=syslog; spec="out syslog $relp_url events=open path=$target queue=1G" ;;
	esac
	[[ $col == syslog && -f $rs_out ]] && rs_off=$(stat -c %s "$rs_out")
	start_daemon "$col-$r" "$node" bpf "$spec"
	if ! wait_for 30 connected "$dsock"; then
		fail "$col: the daemon did not start or connect: $(tail -n 3 "$tmp/logs/$col-$r.log")"
		stop "$dpid"
		return
	fi
	# a warm-up, not measured
	local warm=$(( storm_n / 10 ))
	"$tmp/storm" open "$warm" "$target" >/dev/null || fail "$col: storm"
	settle "$dsock" "$warm" "$kind" || fail "$col: did not settle: $(ex0 "$last_stats")"
	local e0
	e0=$(jq --arg k "$kind" '.exports[0] | if $k == "file" then .sent else .acked end' <<<"$last_stats")

	# 1. the storm, until every event is taken
	local c0 h0 t0 c1 h1 t1 s e
	c0=$(cpu_ticks "$dpid") h0=$(threads_ns "$dpid") t0=$(now_ms)
	"$tmp/storm" open "$storm_n" "$target" >/dev/null || fail "$col: storm"
	settle "$dsock" $(( warm + storm_n )) "$kind" ||
		fail "$col: did not settle: $(ex0 "$last_stats")"
	t1=$(now_ms) c1=$(cpu_ticks "$dpid") h1=$(threads_ns "$dpid")
	s=$last_stats
	e=$(jq --arg k "$kind" --argjson e0 "$e0" '.exports[0] |
		[(if $k == "file" then .sent else .acked end), .offered] | min - $e0' <<<"$s")
	R[$col,$r,events]=$e
	R[$col,$r,eps]=$(awk -v n="$e" -v ms="$(( t1 - t0 ))" 'BEGIN { printf "%.0f", n / (ms / 1e3) }')
	R[$col,$r,cpu]=$(awk -v c="$(( c1 - c0 ))" -v n="$e" -v hz="$clk_tck" 'BEGIN { printf "%.3f", c / hz * 1e6 / n }')
	R[$col,$r,thr]=$(awk -v c="$(( h1 - h0 ))" -v n="$e" 'BEGIN { printf "%.3f", c / 1e3 / n }')

	# 2. paced, with a consumer
	local k=$(( pace_rate / 10 )) ticks=$(( pace_s * 10 )) total cons="" i next left out=""
	total=$(( k * ticks ))
	if [[ $col == nats || $col == nothing ]]; then
		rm -f "$tmp/watch.err"
		local from=(--nats "$nats_url" --node "$node")
		[[ $col == nothing ]] && from=(--socket "$dsock" --path "$target")
		( "$vigil" watch "${from[@]}" -e open -o json -n "$total" \
			-d $(( pace_s + 60 )) 2>"$tmp/watch.err" |
			"$probe" stamp --count "$total" >"$tmp/cons.out" ) &
		cons=$!
		track "$cons"
		wait_for 30 grep -q 'watching' "$tmp/watch.err" ||
			fail "$col: the consumer did not subscribe: $(cat "$tmp/watch.err")"
	fi
	next=$(now_ms)
	for (( i = 0; i < ticks; i++ )); do
		"$tmp/storm" open "$k" "$target" >/dev/null || { fail "$col: paced storm"; break; }
		next=$(( next + 100 ))
		left=$(( next - $(now_ms) ))
		(( left > 0 )) && sleep "$(awk -v l="$left" 'BEGIN { printf "%.3f", l / 1e3 }')"
	done
	settle "$dsock" $(( warm + storm_n + total )) "$kind" ||
		fail "$col: paced: did not settle: $(ex0 "$last_stats")"
	s=$last_stats
	case $col in
	nats|nothing)
		wait_for 60 gone "$cons" || fail "$col: the consumer did not get $total records"
		stop "$cons"
		out=$(cat "$tmp/cons.out")
		cp "$tmp/watch.err" "$tmp/logs/watch-$col-$r.err" ;;
	syslog)
		# rsyslog has written what it acked once the file is still
		local last=-1 size
		for (( i = 0; i < 50; i++ )); do
			size=$(stat -c %s "$rs_out" 2>/dev/null || echo 0)
			[[ $size == "$last" ]] && break
			last=$size
			sleep 0.2
		done
		out=$(tail -c +$(( rs_off + 1 )) "$rs_out" |
			"$probe" stamp --prefix-time --after-seq $(( warm + storm_n )) --idle-ms 1000) ;;
	esac
	if [[ -n $out ]]; then
		# what the consumer should have: the paced events (nats reads
		# from then on), or all of them (rsyslog's file)
		local want=$total got
		[[ $col == syslog ]] && want=$(( warm + storm_n + total ))
		got=$(field "$out" events)
		R[$col,$r,p50]=$(field "$out" p50_us)
		R[$col,$r,p99]=$(field "$out" p99_us)
		R[$col,$r,cmiss]=$(( $(field "$out" missing) + $(field "$out" dups) +
			(got < want ? want - got : 0) ))
		R[$col,$r,cons]=$out
		(( got > 0 )) || fail "$col: the consumer read nothing"
	fi
	local lost
	lost=$(jq --argjson want $(( warm + storm_n + total )) '
		([.kernel_lost[]?] | add // 0) +
		(.exports[0] | .queue_lost + .lost + .spool_lost + ([$want - .offered, 0] | max))' <<<"$s")
	R[$col,$r,lost]=$(( lost + ${R[$col,$r,cmiss]:-0} ))
	R[$col,$r,rss]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dpid/status")
	stop "$dpid"
	rm -f "$tmpfs/nothing.json"*
}

# ================================================================ part 2
declare -A F=()       # F[n,mode,measure]
fleet_epr=

run_fleet() {
	local ports cp rp i routes curl n mode
	read -r -a ports <<<"$("$probe" ports 6)"
	cp=("${ports[@]:0:3}") rp=("${ports[@]:3:3}")
	routes="nats-route://127.0.0.1:${rp[0]},nats-route://127.0.0.1:${rp[1]},nats-route://127.0.0.1:${rp[2]}"
	for i in 0 1 2; do
		nats-server -js -sd "$tmp/c$i" -a 127.0.0.1 -p "${cp[i]}" --name "c$i" \
			--cluster_name vigil-bench --cluster "nats://127.0.0.1:${rp[i]}" \
			--routes "$routes" >"$tmp/logs/cluster-$i.log" 2>&1 &
		track $!
	done
	curl="nats://127.0.0.1:${cp[0]},nats://127.0.0.1:${cp[1]},nats://127.0.0.1:${cp[2]}"
	# JetStream elects its leader after the routes are up
	wait_for 60 "$floor" mkstream "$curl" 3 || { fail "the cluster did not take the stream"; return 1; }
	fleet_epr=$("$vigil" watch --source "replay:$rec" -o json 2>/dev/null | wc -l)
	(( fleet_epr > 0 )) || { fail "replaying $rec gave no events"; fleet_epr=; return 1; }
	for n in $fleet_nodes; do
		for mode in rate max; do
			say "fleet: $n daemon(s), $mode"
			fleet_run "$n" "$mode" "$curl" "$fleet_epr"
		done
	done
}

fleet_run() { # N MODE URLS EVENTS-PER-REP
	local n=$1 mode=$2 curl=$3 epr=$4 reps rate total i cons name s out
	local fpids=() dpids=() socks=() offered=0 lost=0 got
	if [[ $mode == rate ]]; then
		rate=$fleet_rate
		reps=$(( (fleet_rate * fleet_s + epr - 1) / epr ))
	else
		rate=0 reps=$fleet_max_reps
	fi
	total=$(( n * (reps + 1) * epr ))
	rm -f "$tmp/fwatch.err"
	( "$vigil" watch --nats "$curl" -o json -n "$total" -d 300 2>"$tmp/fwatch.err" |
		"$probe" stamp --after-seq "$epr" --count "$total" --idle-ms 30000 >"$tmp/fcons.out" ) &
	cons=$!
	track "$cons"
	wait_for 60 grep -q 'watching' "$tmp/fwatch.err" ||
		{ fail "fleet: the subscriber did not subscribe: $(cat "$tmp/fwatch.err")"; return; }
	for (( i = 0; i < n; i++ )); do
		name=fleet-$n-$mode-$i
		mkfifo "$tmp/$name.fifo"
		"$probe" feed "$rec" "$tmp/$name.fifo" 1 "$reps" "$rate" "$epr" >"$tmp/logs/$name.feed" 2>&1 &
		fpids+=($!)
		track $!
		start_daemon "$name" "$name" "replay:$tmp/$name.fifo" "fleet nats $curl replicas=3 queue=256M"
		dpids+=("$dpid") socks+=("$dsock")
	done
	for i in "${fpids[@]}"; do
		wait "$i" || fail "fleet: a feed failed: $(cat "$tmp"/logs/fleet-"$n"-"$mode"-*.feed)"
	done
	# the feeds are over: each daemon's loop is free to answer
	for (( i = 0; i < n; i++ )); do
		settle "${socks[i]}" $(( (reps + 1) * epr )) nats ||
			fail "fleet: daemon $i did not settle: $(ex0 "$last_stats")"
		s=$last_stats
		offered=$(( offered + $(jq '.exports[0].offered' <<<"$s") ))
		lost=$(( lost + $(jq --argjson want $(( (reps + 1) * epr )) '.exports[0] |
			.queue_lost + .lost + .spool_lost + ([$want - .offered, 0] | max)' <<<"$s") ))
	done
	wait_for 120 gone "$cons" || fail "fleet: the subscriber did not get $total records"
	stop "$cons"
	for i in "${dpids[@]}"; do stop "$i"; done
	out=$(cat "$tmp/fcons.out")
	cp "$tmp/fwatch.err" "$tmp/logs/fwatch-$n-$mode.err"
	got=$(field "$out" events)
	F[$n,$mode,out]=$out
	F[$n,$mode,offered]=$offered
	F[$n,$mode,total]=$total
	F[$n,$mode,events]=$got
	F[$n,$mode,eps]=$(field "$out" rate_eps)
	F[$n,$mode,p50]=$(field "$out" p50_us)
	F[$n,$mode,p99]=$(field "$out" p99_us)
	F[$n,$mode,lost]=$(( lost + $(field "$out" missing) + $(field "$out" dups) +
		(total > ${got:-0} ? total - ${got:-0} : 0) ))
	(( ${got:-0} > 0 )) || fail "fleet: the subscriber read nothing"
}

want_part exports && run_part1
want_part fleet && run_fleet

# ================================================================ report
fmt_us() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else if (v >= 1000) printf "%.1f ms", v / 1000; else printf "%.0f us", v }'; }
med() { # COL MEASURE
	local r
	for (( r = 0; r < rounds; r++ )); do
		[[ -n ${R[$1,$r,$2]:-} ]] && echo "${R[$1,$r,$2]}"
	done | median
}
sum() { # COL MEASURE
	local r s=0
	for (( r = 0; r < rounds; r++ )); do s=$(( s + ${R[$1,$r,$2]:-0} )); done
	echo "$s"
}
ran() { [[ $(med "$1" events) != - ]]; }
# the export's own CPU per event in round r: its threads minus nothing's
own() { # COL ROUND
	[[ -n ${R[$1,$2,thr]:-} && -n ${R[nothing,$2,thr]:-} ]] || return 0
	awk -v a="${R[$1,$2,thr]}" -v b="${R[nothing,$2,thr]}" 'BEGIN { printf "%.3f\n", a - b }'
}
whole() { # COL ROUND: the daemon's CPU per event minus nothing's
	[[ -n ${R[$1,$2,cpu]:-} && -n ${R[nothing,$2,cpu]:-} ]] || return 0
	awk -v a="${R[$1,$2,cpu]}" -v b="${R[nothing,$2,cpu]}" 'BEGIN { printf "%.3f\n", a - b }'
}
wall=$(awk -v a="$wall0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

echo
echo "== bench-export: events off the node, side by side =="
echo "vigil:   $vigil"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) CPUs, at the end"
if want_part exports; then
	echo
	echo "-- part 1: the open storm, $rounds rounds (column order reversed in odd rounds), medians"
	echo "   storm: $storm_n opens as fast as they go, until all taken (queue=1G)"
	echo "   paced: $pace_rate opens/s for $pace_s s, latency at a consumer"
	printf '   %-13s %9s %8s %8s %10s %9s %9s %9s %5s %9s\n' column events/s cpu/ev thr/ev export/ev \
		-nothing p50 p99 lost "peak RSS"
	for c in "${cols[@]}"; do
		if ! ran "$c"; then
			printf '   %-13s (no run)\n' "$c"
			continue
		fi
		ex=- dw=- rss=- thr=-
		case $c in
		nats|syslog)
			ex=$(for (( r = 0; r < rounds; r++ )); do own "$c" "$r"; done | median)
			dw=$(for (( r = 0; r < rounds; r++ )); do whole "$c" "$r"; done | median) ;;
		floor*) ex=$(med "$c" cpu) ;;
		esac
		if [[ $c != floor* ]]; then
			thr=$(med "$c" thr)
			rss=$(awk -v k="$(med "$c" rss)" 'BEGIN { printf "%.0f MiB", k / 1024 }')
		fi
		printf '   %-13s %9s %8s %8s %10s %9s %9s %9s %5s %9s\n' "$c" "$(med "$c" eps)" \
			"$(med "$c" cpu)" "$thr" "$ex" "$dw" \
			"$(fmt_us "$(med "$c" p50)")" "$(fmt_us "$(med "$c" p99)")" "$(sum "$c" lost)" "$rss"
	done
	echo "   (CPU in us per exported event of the storm. cpu/ev: the daemon's utime+stime, or the"
	echo "   floor's whole process; thr/ev: the daemon's threads but its loop (schedstat);"
	echo "   export/ev: thr/ev minus nothing's (the floors: their cpu/ev); -nothing: cpu/ev minus"
	echo "   nothing's. p50/p99: paced events, the consumer's receipt minus evt.time, rsyslog's"
	echo "   receipt being its %timegenerated%; nothing's consumer is on the daemon's socket."
	echo "   lost: over all rounds, storm and paced.)"
	echo "   per round (events/s, cpu/ev us, export/ev us):"
	for (( r = 0; r < rounds; r++ )); do
		line="   r$(( r + 1 ))"
		for c in "${cols[@]}"; do
			line+=" $c ${R[$c,$r,eps]:--}/s ${R[$c,$r,cpu]:--}"
			[[ $c == nats || $c == syslog ]] && line+=" $(own "$c" "$r")"
			line+=";"
		done
		echo "${line%;}"
		for c in nothing nats syslog; do
			[[ -n ${R[$c,$r,cons]:-} ]] && echo "      $c consumer: ${R[$c,$r,cons]}"
		done
	done
fi
if want_part fleet && [[ -n $fleet_epr ]]; then
	echo
	echo "-- part 2: the fleet, a three-node JetStream cluster (replicas 3), one vigil watch --nats"
	echo "   each daemon: $fleet_epr-event repetitions of $(basename "$rec"), one as a warm-up;"
	echo "   rate: $fleet_rate events/s each for $fleet_s s; max: $fleet_max_reps repetitions as fast as read"
	printf '   %-7s %-5s %9s %13s %9s %9s %9s %5s\n' daemons mode offered "at reader" events/s p50 p99 lost
	for n in $fleet_nodes; do
		for mode in rate max; do
			[[ -n ${F[$n,$mode,out]:-} ]] || { printf '   %-7s %-5s (no run)\n' "$n" "$mode"; continue; }
			printf '   %-7s %-5s %9s %13s %9s %9s %9s %5s\n' "$n" "$mode" "${F[$n,$mode,offered]}" \
				"${F[$n,$mode,events]}/${F[$n,$mode,total]}" "${F[$n,$mode,eps]}" \
				"$(fmt_us "${F[$n,$mode,p50]}")" "$(fmt_us "${F[$n,$mode,p99]}")" "${F[$n,$mode,lost]}"
		done
	done
	echo "   (events/s: at the reader, after the warm-up; latency: the reader's receipt minus the"
	echo "   time the record entered the daemon; lost: the exports' counters, and seqs missing or"
	echo "   twice per sensor at the reader)"
	for n in $fleet_nodes; do
		for mode in rate max; do
			[[ -n ${F[$n,$mode,out]:-} ]] && echo "   $n $mode reader: ${F[$n,$mode,out]}"
		done
	done
fi

echo
if want_part exports; then
	ratio=$(for (( r = 0; r < rounds; r++ )); do
		o=$(own nats "$r")
		[[ -n $o && -n ${R[floor,$r,cpu]:-} ]] &&
			awk -v a="$o" -v b="${R[floor,$r,cpu]}" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
	done | median)
	if [[ $ratio == - ]]; then
		echo "RESULT export_nats_cpu_vs_floor n/a target <=1.3 ERROR"
	else
		echo "RESULT export_nats_cpu_vs_floor $(printf '%.2f' "$ratio") target <=1.3" \
			"$(awk -v x="$ratio" 'BEGIN { print (x <= 1.3) ? "PASS" : "MISS" }')"
	fi
	if ran nats; then
		nl=$(sum nats lost)
		echo "RESULT export_nats_lost $nl target 0 $( (( nl == 0 )) && echo PASS || echo MISS)"
	else
		echo "RESULT export_nats_lost n/a target 0 ERROR"
	fi
fi
if want_part fleet; then
	fl=0 any=0
	for n in $fleet_nodes; do
		for mode in rate max; do
			[[ -n ${F[$n,$mode,lost]:-} ]] && { fl=$(( fl + ${F[$n,$mode,lost]} )); any=1; }
		done
	done
	if (( any )); then
		echo "RESULT fleet_lost $fl target 0 $( (( fl == 0 )) && echo PASS || echo MISS)"
	else
		echo "RESULT fleet_lost n/a target 0 ERROR"
	fi
fi
echo "wall time: ${wall} s"
exit $failed
