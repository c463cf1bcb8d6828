#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-rules.sh — what Falco's stable rules cost under `vigil watch
# --rules`, side by side with the same event types watched without rules.
#
#   bench/bench-rules.sh [VIGIL_BINARY] [ROUNDS=3]
#
# Workloads (bench/storm.c, built here; ops with QUICK=1 in brackets):
#   exec  fork + exec /bin/true + wait          2,000    (200)
#   open  open + close of one file on tmpfs   200,000 (20,000)
# Each round runs each workload three ways:
#   A  nothing attached (the baseline)
#   B  `VIGIL watch -e TYPES --output json > /dev/null`: the event types
#      Falco's stable rules name, every event formatted, no rules
#   C  `VIGIL watch --rules tests/fixtures/falco/falco_rules.yaml --output
#      json > FILE`: the same types (TYPES is what C's "vigil: watching"
#      line names; B's must name the same), each event evaluated against
#      the rules vigil accepts, alerts written
# in the order C B A in even rounds and A B C in odd ones (C comes first in
# round 0 so that B knows TYPES). vigil is attached before its run and
# stopped with SIGINT after it; start-up and shut-down are not timed.
#
# Reported per workload:
#   - the storm's slowdown B/A and C/A (median of the per-round ratios);
#   - C/B, the kernel's share: the rules name the same event types, so the
#     kernel does the same work for C as for B and the ratio should be 1
#     (target <= 1.05: "a rule set costs the kernel no more than the event
#     types it names"). Shown on wall time, and judged on the storm's own
#     CPU time per operation (storm's cpu_ns_per_op: user + system, its
#     children's included, so the BPF programs that run in its syscalls),
#     which other processes taking the CPUs (vigil's user space among
#     them) disturb far less than wall time;
#   - vigil's CPU (utime + stime from /proc, between attachment and the
#     moment it has gone idle after the storm) per storm operation, for B
#     and C, and per event: B's events are its "vigil: N events" line,
#     C's its "vigil: N events of the traced types" line (the host's other
#     activity is in both);
#   - events lost (both) and alerts (C);
#   - a note when B and C saw event counts more than 25% apart: the
#     storms' own events are the same, so the host's other processes were
#     busier in one than the other, and the ratios measure that too.
# RESULT lines:
#   rules_exec_kernel_ratio, rules_open_kernel_ratio   C/B of the storm's
#                           CPU per operation                target 1.05
#   rules_cpu_per_event_us  C's CPU per event, both storms   target 1.00
#   rules_cpu_vs_types      C's CPU per event / B's, both storms  target 1.00:
#                           evaluating the rules costs vigil's user space
#                           no more than formatting every event as JSON
#   rules_lost              events lost, B and C                 target 0
#
# Environment: ROUNDS (at least 3; the argument wins), QUICK=1,
# WORKLOADS (subset of "exec open"), RULES (rule files, space-separated;
# default Falco's stable file), BENCH_KEEP=DIR (keep C's alerts and every
# run's stderr), CC, WORKLOAD_TIMEOUT (seconds, default 300).
#
# Exit status: 0 when the benchmark ran (PASS or MISS alike); 1 when a
# command failed (storm or vigil exited with an error, did not attach, or
# B and C traced different types); 2 on usage or set-up errors. Without
# root, it says it is skipped and exits 0. Nothing here uses the network.

set -u
set -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
rounds=${2:-${ROUNDS:-3}}
workload_timeout=${WORKLOAD_TIMEOUT:-300}
attach_timeout=60
stop_timeout=30

# shellcheck source=lib.sh
. "$here/lib.sh" bench-rules
bench_check_rounds
bench_check_workload_timeout
bench_check_vigil
read -r -a rule_files <<<"${RULES:-$here/../tests/fixtures/falco/falco_rules.yaml}"
for f in "${rule_files[@]}"; do
        [[ -r $f ]] || die "rule file not readable: $f"
done
read -r -a workloads <<<"${WORKLOADS:-exec open}"
(( ${#workloads[@]} )) || die "WORKLOADS is empty"
for w in "${workloads[@]}"; do
        [[ $w == exec || $w == open ]] || die "unknown workload '$w' in WORKLOADS (exec open)"
done
if [[ -n ${BENCH_KEEP:-} ]]; then
        mkdir -p -- "$BENCH_KEEP" || die "cannot create BENCH_KEEP=$BENCH_KEEP"
fi

if (( EUID != 0 )); then
        echo "bench-rules: needs root (eBPF); skipped"
        exit 0
fi

declare -A ops=([exec]=2000 [open]=200000)
declare -A what=([exec]="fork + exec /bin/true + wait" [open]="open + close of one file on tmpfs")
if [[ ${QUICK:-0} == 1 ]]; then
        for w in "${!ops[@]}"; do ops[$w]=$(( ops[$w] / 10 )); done
fi
kernel_target=1.05
cpu_target=1.00

wall0=$EPOCHREALTIME
tmp=$(mktemp -d /tmp/bench-rules.XXXXXX) || die "mktemp failed"
tool_pid=
storm_file=
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
        trap '' INT TERM HUP
        [[ -n $tool_pid ]] && stop_pid "$tool_pid" INT 50
        [[ -n $storm_file ]] && rm -f -- "$storm_file"
        rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- /proc helpers (as bench-watch.sh) -----------------------------------
proc_state() {
        local s
        s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo X; return; }
        s=${s##*) }
        echo "${s%% *}"
}
alive() { local s; s=$(proc_state "$1"); [[ $s != X && $s != Z ]]; }
stop_pid() { # PID SIGNAL TENTHS: the signal, then SIGKILL; reaped
        local i
        kill -"$2" "$1" 2>/dev/null
        for (( i = 0; i < $3; i++ )); do
                alive "$1" || break
                sleep 0.1
        done
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
}
cpu_ticks() {
        local s
        local -a f
        s=$(cat "/proc/$1/stat" 2>/dev/null) || return
        s=${s##*) }
        read -r -a f <<<"$s"
        echo $(( f[11] + f[12] ))
}
clk_tck=$(getconf CLK_TCK 2>/dev/null) || clk_tck=100
tick_ns=$(( 1000000000 / clk_tck ))
describe_status() {
        if (( $1 > 128 )); then echo "killed by signal $(( $1 - 128 ))"; else echo "exit status $1"; fi
}
# wait_idle PID: until PID's CPU time has not moved for 0.5 s (at most
# 20 s): vigil has read and handled what the storm left in its ring.
wait_idle() {
        local i last=-1 c same=0
        for (( i = 0; i < 200 && same < 5; i++ )); do
                c=$(cpu_ticks "$1")
                [[ -z $c ]] && return
                if [[ $c == "$last" ]]; then same=$(( same + 1 )); else same=0; fi
                last=$c
                sleep 0.1
        done
}

# --- storm ------------------------------------------------------------------
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -o "$tmp/storm" "$here/storm.c" ||
        die "building storm.c failed"
if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
        storm_file=$(mktemp /dev/shm/vigil-bench-rules.XXXXXX) || die "mktemp in /dev/shm failed"
else
        storm_file=$(mktemp "$tmp/vigil-bench-rules.XXXXXX") || die "mktemp failed"
        say "no tmpfs at /dev/shm: the open storm's file is in $tmp"
fi

run_ns='' run_cpu='' run_err=''
run_storm() { # workload; sets run_ns and run_cpu; 1 on failure
        local w=$1 st
        local -a args=("$w" "${ops[$w]}")
        [[ $w == open ]] && args+=("$storm_file")
        run_ns='' run_cpu='' run_err=''
        timeout -k 5 "$workload_timeout" "$tmp/storm" "${args[@]}" >"$tmp/storm.out" 2>"$tmp/storm.err"
        st=$?
        if (( st == 124 )); then
                run_err="storm $w timed out after ${workload_timeout} s"; return 1
        elif (( st )); then
                run_err="storm $w: $(describe_status "$st"): $(head -c 300 "$tmp/storm.err")"; return 1
        fi
        run_ns=$(awk '$1 == "ns_per_op" { print $2 }' "$tmp/storm.out")
        run_cpu=$(awk '$1 == "cpu_ns_per_op" { print $2 }' "$tmp/storm.out")
        [[ -n $run_ns && -n $run_cpu ]] || { run_err="storm $w printed no ns_per_op or cpu_ns_per_op"; return 1; }
}

# --- vigil attached ---------------------------------------------------------
types=''        # the types C traces, as its "watching" line names them
att_err='' cpu0=''
attach() { # B|C; 1 on failure (att_err says why)
        local x=$1 end
        local -a cmd=("$vigil" watch --output json)
        local out=/dev/null
        att_err=''
        if [[ $x == C ]]; then
                for f in "${rule_files[@]}"; do cmd+=(--rules "$f"); done
                out=$tmp/alerts.out
        else
                cmd+=(-e "${types// /,}")
        fi
        : >"$tmp/alerts.out"
        : >"$tmp/vigil.err"
        # env restores SIGINT, which background jobs of a script ignore
        env --default-signal=INT "${cmd[@]}" >"$out" 2>"$tmp/vigil.err" </dev/null &
        tool_pid=$!
        end=$(( SECONDS + attach_timeout ))
        until grep -q '^vigil: watching' "$tmp/vigil.err"; do
                if ! alive "$tool_pid"; then
                        wait "$tool_pid" 2>/dev/null
                        tool_pid=''
                        att_err="vigil watch ($x) exited before attaching: $(head -c 300 "$tmp/vigil.err")"
                        return 1
                fi
                if (( SECONDS > end )); then
                        att_err="vigil watch ($x) did not print 'vigil: watching' within ${attach_timeout} s"
                        return 1
                fi
                sleep 0.05
        done
        local seen
        seen=$(sed -n 's/^vigil: watching \([a-z ]*\)$/\1/p' "$tmp/vigil.err" | head -n 1)
        if [[ $x == C && -z $types ]]; then
                types=$seen
                [[ -n $types ]] || { att_err="cannot read the types from: $(grep '^vigil: watching' "$tmp/vigil.err")"; return 1; }
        elif [[ $seen != "$types" ]]; then
                att_err="$x traces '$seen', not the rules' types '$types'"
                return 1
        fi
        cpu0=$(cpu_ticks "$tool_pid")
}

d_events='' d_lost='' d_alerts='' d_cpu_ns=''
detach() { # B|C; 1 on failure
        local x=$1 cpu1 st line
        wait_idle "$tool_pid"
        cpu1=$(cpu_ticks "$tool_pid")
        kill -INT "$tool_pid" 2>/dev/null
        local end=$(( SECONDS + stop_timeout ))
        while alive "$tool_pid"; do
                if (( SECONDS > end )); then
                        stop_pid "$tool_pid" KILL 10
                        tool_pid=''
                        att_err="vigil watch ($x) did not exit within ${stop_timeout} s of SIGINT"
                        return 1
                fi
                sleep 0.05
        done
        wait "$tool_pid" 2>/dev/null
        st=$?
        tool_pid=''
        line=$(sed -nE 's/^vigil: ([0-9]+) (events?|alerts?), ([0-9]+) lost.*/\1 \3/p' "$tmp/vigil.err" | tail -n 1)
        if [[ -z $line ]] || (( st != 0 && st != 130 )); then
                att_err="vigil watch ($x): $(describe_status "$st"), stderr: $(tail -c 300 "$tmp/vigil.err")"
                return 1
        fi
        d_lost=${line#* }
        if [[ $x == B ]]; then
                d_events=${line% *} d_alerts=''
        else
                d_alerts=${line% *}
                d_events=$(sed -n 's/^vigil: \([0-9]*\) events of the traced types$/\1/p' "$tmp/vigil.err" | tail -n 1)
                if [[ -z $d_events ]]; then
                        att_err="vigil watch (C) did not say how many events the rules were asked about"
                        return 1
                fi
        fi
        d_cpu_ns=$(( (cpu1 - cpu0) * tick_ns ))
}

# --- the rounds -------------------------------------------------------------
declare -A ns cns ev lost alerts cpu    # [w,x,r]; cns: the storm's CPU per op
say "storm: $tmp/storm; open file $storm_file; $rounds rounds; rules: ${rule_files[*]}"
# shellcheck disable=SC2034  # cns, ev, lost, alerts, cpu are read by namerefs
for w in "${workloads[@]}"; do
        for (( r = 0; r < rounds; r++ )); do
                if (( r % 2 )); then order=(A B C); else order=(C B A); fi
                for x in "${order[@]}"; do
                        if [[ $x == A ]]; then
                                run_storm "$w" || { echo "bench-rules: without vigil: $run_err" >&2; exit 1; }
                                ns[$w,A,$r]=$run_ns
                                cns[$w,A,$r]=$run_cpu
                                continue
                        fi
                        if ! attach "$x"; then
                                echo "bench-rules: $w storm, round $r: $att_err" >&2
                                exit 1
                        fi
                        run_ok=1
                        run_storm "$w" || run_ok=0
                        if ! detach "$x"; then
                                echo "bench-rules: $w storm, round $r: $att_err" >&2
                                exit 1
                        fi
                        (( run_ok )) || { echo "bench-rules: with vigil ($x): $run_err" >&2; exit 1; }
                        ns[$w,$x,$r]=$run_ns
                        cns[$w,$x,$r]=$run_cpu
                        ev[$w,$x,$r]=$d_events
                        lost[$w,$x,$r]=$d_lost
                        alerts[$w,$x,$r]=$d_alerts
                        cpu[$w,$x,$r]=$d_cpu_ns
                        if [[ -n ${BENCH_KEEP:-} ]]; then
                                cp -- "$tmp/vigil.err" "$BENCH_KEEP/$w-$x-$r.err"
                                [[ $x == C ]] && cp -- "$tmp/alerts.out" "$BENCH_KEEP/$w-$x-$r.alerts"
                        fi
                done
        done
done

# --- report -----------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt_ns() {
        awk -v n="$1" 'BEGIN {
                if (n >= 1e6) printf "%.2f ms", n / 1e6
                else if (n >= 1e3) printf "%.2f us", n / 1e3
                else printf "%.1f ns", n }'
}
per_round() { # w X Y [array] -> the per-round ratios X/Y, one a line
        local -n arr=${4:-ns}
        local r
        for (( r = 0; r < rounds; r++ )); do
                awk -v a="${arr[$1,$3,$r]}" -v b="${arr[$1,$2,$r]}" 'BEGIN { printf "%.6f\n", b / a }'
        done
}
ratio() { per_round "$@" | median | awk '{ printf "%.3f", $1 }'; }
ratios() { per_round "$@" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }'; }
sum() { # array w x -> over rounds
        local -n arr=$1
        local r s=0
        for (( r = 0; r < rounds; r++ )); do s=$(( s + ${arr[$2,$3,$r]:-0} )); done
        echo "$s"
}
us() { # ns count -> "X.XX" us per unit (a tick's bound when no tick was counted)
        awk -v c="$1" -v n="$2" -v t="$tick_ns" 'BEGIN {
                if (n == 0) printf "-"
                else if (c == 0) printf "<%.3f", t / n / 1000
                else printf "%.3f", c / n / 1000 }'
}

wall=$(awk -v a="$wall0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo
echo "== bench-rules: Falco's stable rules under vigil watch, beside the same types without rules =="
echo "vigil:    $vigil"
echo "rules:    ${rule_files[*]} ($("$vigil" rules check "${rule_files[@]}" 2>/dev/null | tail -n 1))"
echo "types:    $types (what the rules name; B watches the same)"
echo "method:   $rounds rounds; A nothing attached, B 'vigil watch -e TYPES -o json > /dev/null',"
echo "          C 'vigil watch --rules ... -o json > FILE'; order C B A / A B C; ratios are"
echo "          medians of per-round ratios; vigil's CPU is its utime+stime while attached;"
echo "          the storm's CPU is its own (and its children's) utime+stime per operation."
tot_cpu_b=0 tot_cpu_c=0 tot_ev_b=0 tot_ev_c=0 tot_lost=0
declare -A kratio
for w in "${workloads[@]}"; do
        base=$(for (( r = 0; r < rounds; r++ )); do echo "${ns[$w,A,$r]}"; done | median)
        cb=$(sum cpu "$w" B) cc=$(sum cpu "$w" C) eb=$(sum ev "$w" B) ec=$(sum ev "$w" C)
        lb=$(sum lost "$w" B) lc=$(sum lost "$w" C) ac=$(sum alerts "$w" C)
        n=$(( ops[$w] * rounds ))
        kratio[$w]=$(ratio "$w" C B cns)
        tot_cpu_b=$(( tot_cpu_b + cb )) tot_cpu_c=$(( tot_cpu_c + cc ))
        tot_ev_b=$(( tot_ev_b + eb )) tot_ev_c=$(( tot_ev_c + ec )) tot_lost=$(( tot_lost + lb + lc ))
        echo
        echo "-- $w storm: ${ops[$w]} x ${what[$w]}"
        printf '   baseline (A) %s/op (median of %d runs)\n' "$(fmt_ns "$base")" "$rounds"
        printf '   %-22s %7s  %-24s %11s %11s %6s %7s\n' "" ratio "per-round" "cpu/op us" "cpu/ev us" lost alerts
        printf '   %-22s %7s  %-24s %11s %11s %6s %7s\n' "B types, no rules / A" "$(ratio "$w" B A)" \
                "$(ratios "$w" B A)" "$(us "$cb" "$n")" "$(us "$cb" "$eb")" "$lb" -
        printf '   %-22s %7s  %-24s %11s %11s %6s %7s\n' "C stable rules / A" "$(ratio "$w" C A)" \
                "$(ratios "$w" C A)" "$(us "$cc" "$n")" "$(us "$cc" "$ec")" "$lc" "$ac"
        printf '   %-22s %7s  %-24s\n' "C / B, wall time" "$(ratio "$w" C B)" "$(ratios "$w" C B)"
        printf '   %-22s %7s  %-24s %s\n' "C / B, storm's CPU" "${kratio[$w]}" "$(ratios "$w" C B cns)" \
                "(the kernel's share; B/A $(ratio "$w" B A cns), C/A $(ratio "$w" C A cns))"
        printf '   events over %d runs: B %s, C %s (%s and %s per operation; the host'"'"'s other activity included)\n' \
                "$rounds" "$eb" "$ec" "$(awk -v e="$eb" -v n="$n" 'BEGIN { printf "%.2f", e / n }')" \
                "$(awk -v e="$ec" -v n="$n" 'BEGIN { printf "%.2f", e / n }')"
        # The storms' own events are the same for B and C: a gap is other
        # processes' activity, which also takes the CPUs from the storm.
        if awk -v b="$eb" -v c="$ec" 'BEGIN { exit !(b > 0 && c > 0 && (b > 1.25 * c || c > 1.25 * b)) }'; then
                echo "   note: B and C saw different amounts of the host's other activity: these"
                echo "         ratios measure it too; run on a quiet host, or with more ROUNDS"
        fi
done

echo
for w in exec open; do
        if [[ -z ${kratio[$w]:-} ]]; then
                echo "RESULT rules_${w}_kernel_ratio n/a $kernel_target n/a"
                continue
        fi
        echo "RESULT rules_${w}_kernel_ratio ${kratio[$w]} $kernel_target $(awk -v x="${kratio[$w]}" \
                -v t="$kernel_target" 'BEGIN { print (x <= t) ? "PASS" : "MISS" }')"
done
awk -v c="$tot_cpu_c" -v e="$tot_ev_c" -v t="$cpu_target" -v tick="$tick_ns" 'BEGIN {
        if (e == 0) { print "RESULT rules_cpu_per_event_us n/a " t " MISS"; exit }
        x = (c > 0 ? c : tick) / e / 1000
        printf "RESULT rules_cpu_per_event_us %s%.3f %s %s\n", (c > 0) ? "" : "<", x, t, (x <= t) ? "PASS" : "MISS" }'
awk -v c="$tot_cpu_c" -v b="$tot_cpu_b" -v ec="$tot_ev_c" -v eb="$tot_ev_b" -v t="$cpu_target" 'BEGIN {
        if (b == 0 || ec == 0 || eb == 0) { print "RESULT rules_cpu_vs_types n/a " t " n/a"; exit }
        x = (c / ec) / (b / eb)
        printf "RESULT rules_cpu_vs_types %.3f %s %s\n", x, t, (x <= t) ? "PASS" : "MISS" }'
echo "RESULT rules_lost $tot_lost 0 $( (( tot_lost == 0 )) && echo PASS || echo MISS)"
echo "wall time: ${wall} s (building, attaching and detaching included)"
exit 0
