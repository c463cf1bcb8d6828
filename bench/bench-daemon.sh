#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-daemon.sh — vigil daemon under an open storm, with 1 and with 10
# subscribers (each subscribed to the storm's opens):
#   - the daemon's CPU (user + system, from /proc) per delivered event,
#     target <= 1 us at 1 subscriber;
#   - kernel-to-subscriber latency p50/p99 (sampled);
#   - events delivered and lost;
#   - a subscription whose filter rejects every event of the storm: the
#     daemon's CPU per storm operation (what evaluating and rejecting
#     costs), beside VIGIL_BEFORE (another build) when given, in
#     alternating rounds.
#
#   bench/bench-daemon.sh [VIGIL_BINARY]   (root; QUICK=1: a tenth)
# Local only: a Unix socket under a temporary directory.
set -u
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=$(realpath -- "${1:-$here/../build/vigil}")
N=${N:-200000}
[[ -n ${QUICK:-} ]] && N=$((N / 10))
[[ $(id -u) == 0 ]] || { echo "bench-daemon: needs root; skipped"; exit 0; }

tmp=$(mktemp -d /tmp/vigil-bench-daemon.XXXXXX)
dpid=
cleanup() { [[ -n $dpid ]] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf -- "$tmp"; }
trap cleanup EXIT
${CC:-cc} -std=gnu11 -O2 -o "$tmp/storm" "$here/storm.c" || { echo "building storm.c failed"; exit 1; }
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -o "$tmp/sub" "$here/daemon-sub.c" ||
	{ echo "building daemon-sub.c failed"; exit 1; }
: >"$tmp/target"
sock=$tmp/vigil.sock
"$vigil" daemon --socket "$sock" 2>"$tmp/daemon.err" </dev/null &
dpid=$!
for _ in $(seq 100); do grep -q 'daemon serving' "$tmp/daemon.err" && break; sleep 0.1; done
grep -q 'daemon serving' "$tmp/daemon.err" || { cat "$tmp/daemon.err"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }
hz=$(getconf CLK_TCK)
status=0
printf '%-12s %10s %10s %8s %14s %9s %9s\n' subscribers storm_ops delivered lost cpu_us/event p50_us p99_us
for subs in 1 10; do
	rm -f "$tmp"/ready.* "$tmp"/out.*
	for i in $(seq "$subs"); do
		"$tmp/sub" "$sock" "evt.type = open and fd.name = $tmp/target" \
			"$N" "$tmp/ready.$i" >"$tmp/out.$i" &
	done
	for _ in $(seq 100); do
		[[ $(ls "$tmp"/ready.* 2>/dev/null | wc -l) == "$subs" ]] && break
		sleep 0.1
	done
	sleep 0.5
	c0=$(cpu_ticks)
	"$tmp/storm" open "$N" "$tmp/target" >/dev/null || status=1
	wait $(jobs -p | grep -v "^$dpid$") 2>/dev/null
	c1=$(cpu_ticks)
	awk -v subs="$subs" -v n="$N" -v c0="$c0" -v c1="$c1" -v hz="$hz" '
		{ got += $2; lost += $4; if ($6 > p50) p50 = $6; if ($8 > p99) p99 = $8 }
		END {
			cpu = (c1 - c0) / hz * 1e6 / (got ? got : 1)
			printf "%-12d %10d %10d %8d %14.2f %9.1f %9.1f\n", subs, n, got, lost, cpu, p50, p99
			if (subs == 1)
				printf "  target: <= 1 us of daemon CPU per delivered event at 1 subscriber: %s\n",
					cpu <= 1.0 ? "met" : "MISS"
		}' "$tmp"/out.*
done

# A subscription that rejects nearly everything: the storm's opens pass
# the kernel (the filter names a path, which the kernel cannot test) and
# are rejected in user space. Daemon CPU per storm operation.
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
dpid=
reject_round() { # BINARY -> prints us of daemon CPU per storm op
	local bin=$1 s=$tmp/reject.sock c0 c1
	rm -f "$s" "$tmp/ready.r"
	"$bin" daemon --socket "$s" 2>"$tmp/reject.err" </dev/null &
	dpid=$!
	for _ in $(seq 100); do grep -q 'daemon serving' "$tmp/reject.err" && break; sleep 0.1; done
	"$tmp/sub" "$s" "evt.type = open and fd.name = $tmp/never-opened" 1 "$tmp/ready.r" >/dev/null &
	local spid=$!
	for _ in $(seq 100); do [[ -e $tmp/ready.r ]] && break; sleep 0.1; done
	sleep 0.3
	# the daemon's time on a CPU, in ns (schedstat: finer than ticks)
	c0=$(awk '{ print $1 }' "/proc/$dpid/schedstat")
	"$tmp/storm" open "$N" "$tmp/target" >/dev/null || status=1
	sleep 0.3
	c1=$(awk '{ print $1 }' "/proc/$dpid/schedstat")
	kill "$spid" "$dpid" 2>/dev/null
	wait "$spid" "$dpid" 2>/dev/null
	dpid=
	awk -v c0="$c0" -v c1="$c1" -v n="$N" 'BEGIN { printf "%.3f\n", (c1 - c0) / 1000 / n }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -a now_r=() before_r=()
for r in 1 2 3; do
	now_r+=("$(reject_round "$vigil")")
	[[ -n ${VIGIL_BEFORE:-} ]] && before_r+=("$(reject_round "$(realpath -- "$VIGIL_BEFORE")")")
done
now_m=$(printf '%s\n' "${now_r[@]}" | median)
printf 'a subscription rejecting every storm event: %s us of daemon CPU per storm op (rounds: %s)\n' \
	"$now_m" "${now_r[*]}"
if [[ -n ${VIGIL_BEFORE:-} ]]; then
	before_m=$(printf '%s\n' "${before_r[@]}" | median)
	awk -v a="$now_m" -v b="$before_m" -v r="${before_r[*]}" 'BEGIN {
		printf "  before (%s): %s us per storm op (rounds: %s); now / before = %.2f\n",
			ENVIRON["VIGIL_BEFORE"], b, r, (b > 0 ? a / b : 0) }'
fi
exit $status
