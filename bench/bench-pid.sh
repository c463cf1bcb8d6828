#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-pid.sh — `vigil pid --all` against
#   ps -e -o pid,ppid,uid,gid,comm,args,cgroup
# side by side, with N_EXTRA idle processes added to the host.
#
#   bench/bench-pid.sh [VIGIL_BINARY] [N_EXTRA=2000] [ROUNDS=5]
#
# Environment:
#   BUILD_DIR  where to build bench/spawn.c (default: a temporary dir)
#   REPS       back-to-back executions per command per round (default 5)
#   CC         C compiler (default cc)
#
# Method (docs/benchmarks.md): rounds alternate the commands (A B C, then
# C B A, ...); a round's figure for a command is the median of REPS
# back-to-back executions with output to /dev/null; the reported ratio is
# the median over rounds of the per-round ratio vigil/ps.  Absolute times
# are printed for context only: this machine is shared and noisy.
#
# Exit status: 0 when the benchmark ran (PASS or MISS alike); 1 when a
# command failed (vigil may exit 0, or 1 when a process vanished during
# the walk; any other status or a crash is a failure); 2 on usage or
# set-up errors.

set -u
set -o pipefail
export LC_ALL=C   # EPOCHREALTIME and awk must use '.' as the decimal point

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
n_extra=${2:-2000}
rounds=${3:-5}
reps=${REPS:-5}
target=0.50

# shellcheck source=lib.sh
. "$here/lib.sh" bench-pid
isnum "$n_extra" || die "N_EXTRA must be a number, got '$n_extra'"
isnum "$reps" || die "REPS must be a number, got '$reps'"
bench_check_rounds
(( reps >= 1 )) || die "REPS must be at least 1"
(( n_extra <= 20000 )) || die "N_EXTRA is capped at 20000"
bench_check_vigil
command -v ps >/dev/null || die "ps (procps) is not installed"

wall0=$EPOCHREALTIME

# --- clean-up: the spawned processes never outlive this script -------------
tmp=$(mktemp -d /tmp/bench-pid.XXXXXX) || die "mktemp failed"
spawn_pid=
spawn_in=
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
        local i
        if [[ -n $spawn_pid ]]; then
                # Closing its stdin makes spawn kill and reap its children.
                [[ -n $spawn_in ]] && exec {spawn_in}>&-
                for (( i = 0; i < 100; i++ )); do
                        kill -0 "$spawn_pid" 2>/dev/null || break
                        sleep 0.1
                done
                # Still there: SIGTERM does the same; SIGKILL leaves the
                # children to PR_SET_PDEATHSIG.
                kill -TERM "$spawn_pid" 2>/dev/null && sleep 1
                kill -KILL "$spawn_pid" 2>/dev/null
                wait "$spawn_pid" 2>/dev/null
                spawn_pid=
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- build spawn and start the extra processes ------------------------------
build_dir=${BUILD_DIR:-$tmp}
mkdir -p "$build_dir" || die "cannot create $build_dir"
spawn_bin=$build_dir/bench-spawn
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -o "$spawn_bin" "$here/spawn.c" ||
        die "building spawn.c failed"

count_procs() { local p=(/proc/[0-9]*); echo ${#p[@]}; }

procs_before=$(count_procs)
spawn_s=0
if (( n_extra > 0 )); then
        t0=$EPOCHREALTIME
        # Bash keeps coproc fds close-on-exec, so the measured commands do
        # not inherit spawn's stdin; if this script dies, the kernel closes
        # it and spawn cleans up by itself.
        coproc SPAWN { exec "$spawn_bin" "$n_extra" 2>"$tmp/spawn.err"; }
        # shellcheck disable=SC2153  # set by coproc
        spawn_pid=$SPAWN_PID
        spawn_in=${SPAWN[1]}
        line=
        read -r -t 300 -u "${SPAWN[0]}" line
        if [[ $line != "ready $n_extra" ]]; then
                cat "$tmp/spawn.err" >&2
                die "spawn did not start $n_extra processes"
        fi
        spawn_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
fi
procs=$(count_procs)

# Processes in a container-looking cgroup (context for the attribution).
in_containers=$(grep -lsE '/(docker|libpod|kubepods|containerd|crio|cri-containerd)[-/]' \
        /proc/[0-9]*/cgroup 2>/dev/null | wc -l)

# --- the commands --------------------------------------------------------
names=(ps vigil vigil-json)
labels=("ps -e -o pid,ppid,uid,gid,comm,args,cgroup"
        "vigil pid --all"
        "vigil --output json pid --all")
# shellcheck disable=SC2034,SC2054  # used through namerefs; commas are ps syntax
{
        cmd_0=(ps -e -o pid,ppid,uid,gid,comm,args,cgroup)
        cmd_1=("$vigil" pid --all)
        cmd_2=("$vigil" --output json pid --all)
}

# ok_status NAME STATUS: ps must exit 0; vigil 0, or 1 (a pid vanished).
ok_status() {
        case $1 in
        ps) [[ $2 == 0 ]] ;;
        *) [[ $2 == 0 || $2 == 1 ]] ;;
        esac
}

describe_status() {
        if (( $1 > 128 )); then
                echo "killed by signal $(( $1 - 128 )) ($(kill -l $(( $1 - 128 )) 2>/dev/null))"
        else
                echo "exit status $1"
        fi
}

failed=0
bad_json=0
fail_cmd() { # index status
        local i=$1 st=$2
        echo "bench-pid: '${labels[i]}' failed: $(describe_status "$st")" >&2
        sed -n '1,20p' "$tmp/err.$i" >&2
        failed=1
}

# One execution of command i, output kept for the checks below.
run_once() { # index outfile
        local -n c=cmd_$1
        "${c[@]}" >"$2" 2>"$tmp/err.$1"
}

# --- warm-up and output checks (not timed) --------------------------------
declare -a active rows check
for i in 0 1 2; do
        run_once "$i" "$tmp/out.$i"
        st=$?
        if ! ok_status "${names[i]}" "$st"; then
                fail_cmd "$i" "$st"
                active[i]=0
                check[i]="ERROR: $(describe_status "$st")"
                continue
        fi
        active[i]=1
        rows[i]=$(wc -l <"$tmp/out.$i")
        check[i]="exit $st, ${rows[i]} lines"
done
(( active[0] )) || { echo "bench-pid: ps itself fails; nothing to compare" >&2; exit 1; }
if (( active[2] )) && command -v jq >/dev/null; then
        if jq empty <"$tmp/out.2" >/dev/null 2>&1; then
                check[2]+=", valid JSON"
        else
                check[2]+=", NOT valid JSON"
                bad_json=1
                failed=1
        fi
fi
for i in 1 2; do
        # ps prints a header; a vigil that lists far fewer processes than
        # exist is not doing the same job.
        if (( active[i] )) && (( rows[i] < (procs * 9) / 10 )); then
                check[i]+=" (fewer than the $procs processes!)"
        fi
done
rm -f "$tmp"/out.*

# --- timed rounds --------------------------------------------------------
# time_cmd INDEX: REPS back-to-back executions; prints the median in µs.
time_cmd() {
        local -n c=cmd_$1
        local k t0 t1 st
        local -a us=()
        for (( k = 0; k < reps; k++ )); do
                t0=$EPOCHREALTIME
                "${c[@]}" >/dev/null 2>"$tmp/err.$1"
                st=$?
                t1=$EPOCHREALTIME
                if ! ok_status "${names[$1]}" "$st"; then
                        echo "FAIL $st"
                        return 1
                fi
                us+=($(( ${t1/./} - ${t0/./} )))
        done
        printf '%s\n' "${us[@]}" | sort -n | awk '{ v[NR] = $1 }
                END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A per   # per[i,r] = median µs of command i in round r
for (( r = 0; r < rounds; r++ )); do
        if (( r % 2 )); then seq_=(2 1 0); else seq_=(0 1 2); fi
        for i in "${seq_[@]}"; do
                (( active[i] )) || continue
                v=$(time_cmd "$i")
                if [[ $v == FAIL* ]]; then
                        fail_cmd "$i" "${v#FAIL }"
                        exit 1
                fi
                per[$i,$r]=$v
        done
done

# --- report --------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ms_of() { # index -> median over rounds, in ms
        local r
        for (( r = 0; r < rounds; r++ )); do echo "${per[$1,$r]}"; done |
                median | awk '{ printf "%.1f", $1 / 1000 }'
}
ratio_of() { # index -> median over rounds of per-round ratio to ps
        local r
        for (( r = 0; r < rounds; r++ )); do
                awk -v a="${per[$1,$r]}" -v b="${per[0,$r]}" 'BEGIN { printf "%.6f\n", a / b }'
        done | median | awk '{ printf "%.3f", $1 }'
}
ratios_of() { # index -> the per-round ratios, for the record
        local r out=
        for (( r = 0; r < rounds; r++ )); do
                out+=$(awk -v a="${per[$1,$r]}" -v b="${per[0,$r]}" 'BEGIN { printf "%.2f ", a / b }')
        done
        echo "${out% }"
}

wall=$(awk -v a="$wall0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

echo "== bench-pid: vigil pid --all vs ps =="
echo "vigil:        $vigil"
echo "processes:    $procs in /proc ($procs_before before + $n_extra spawned in ${spawn_s} s); $in_containers in container cgroups"
echo "method:       $rounds alternating rounds x $reps executions each, output to /dev/null;"
echo "              per-round figure = median execution; ratio = median of per-round ratios"
echo
printf '%-44s %10s %8s %8s  %s\n' "command" "median ms" "ratio" "target" "result"
ps_ms=$(ms_of 0)
printf '%-44s %10s %8s %8s  %s\n' "${labels[0]}" "$ps_ms" "1.000" "" ""
for i in 1 2; do
        if (( ! active[i] )); then
                printf '%-44s %10s %8s %8s  %s\n' "${labels[i]}" "-" "-" "<= $target" "ERROR"
                continue
        fi
        ratio=$(ratio_of "$i")
        res=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r <= t) ? "PASS" : "MISS" }')
        (( i == 2 && bad_json )) && res+=" (invalid JSON)"
        printf '%-44s %10s %8s %8s  %s\n' "${labels[i]}" "$(ms_of "$i")" "$ratio" "<= $target" "$res"
done
echo
for i in 1 2; do
        (( active[i] )) && echo "per-round ratios ${names[i]}: $(ratios_of "$i")"
done
for i in 0 1 2; do
        echo "output check ${names[i]}: ${check[i]}"
done
echo "wall time:    ${wall} s in all (spawning included; only the commands are timed)"

exit $failed
