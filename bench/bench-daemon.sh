#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-daemon.sh — vigil daemon under an open storm, with 1 and with 10
# subscribers (each subscribed to the storm's opens):
#   - the daemon's CPU (user + system, from /proc) per delivered event,
#     target <= 1 us at 1 subscriber;
#   - kernel-to-subscriber latency p50/p99 (sampled);
#   - events delivered and lost.
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
exit $status
