#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-diff.sh — `vigil diff` against `docker diff` on one container
# with N_FILES changed files (default 10,000: new files in 100 new
# directories, written into its merged root from the host), side by side.
#
#   bench/bench-diff.sh [VIGIL_BINARY] [N_FILES=10000] [ROUNDS=5]
#
# Environment:
#   REPS       back-to-back executions per command per round (default 5)
#
# Method (docs/benchmarks.md): rounds alternate the commands (A B C, then
# C B A, ...); a round's figure for a command is the median of REPS
# back-to-back executions with output to /dev/null; the reported ratio is
# the median over rounds of the per-round ratio to docker diff. Both
# answer the same question in full: vigil finds the container among all
# processes, reads its mount table and walks its layers; docker diff asks
# dockerd over its socket. Absolute times are context only.
#
# Needs root and docker (dockerd is started, and stopped afterwards, if it
# is not running: tests/integration/lib.sh); skipped with the reason
# otherwise. Exit status: 0 when the benchmark ran or was skipped (PASS
# or MISS alike); 1 when a command failed or the answers differ; 2 on
# usage or set-up errors.

set -u
set -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
n_files=${2:-10000}
rounds=${3:-5}
reps=${REPS:-5}
target=0.50

# shellcheck source=lib.sh
. "$here/lib.sh" bench-diff
isnum "$n_files" || die "N_FILES must be a number, got '$n_files'"
isnum "$reps" || die "REPS must be a number, got '$reps'"
bench_check_rounds
(( reps >= 1 )) || die "REPS must be at least 1"
(( n_files >= 100 && n_files <= 1000000 )) || die "N_FILES must be 100 to 1000000"
bench_check_vigil

if (( EUID != 0 )); then
        echo "bench-diff: needs root (docker, and the container's layers); skipped"
        exit 0
fi
if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
        echo "bench-diff: docker is not installed (apt-get install docker.io); skipped"
        exit 0
fi

wall0=$EPOCHREALTIME

# dockerd, the busybox image and clean-up of our container come from the
# integration tests' helpers.
# shellcheck source=../tests/integration/lib.sh
. "$here/../tests/integration/lib.sh"
vg_init
vg_start_dockerd >/dev/null || die "dockerd could not be started"
vg_busybox_image >/dev/null || die "could not build the busybox image"

name=${VG_RUN_PREFIX}bench-diff
vg_t docker run -d --name "$name" --network none "$VG_IMAGE" sleep 3600 >/dev/null ||
        die "docker run failed"
merged=$("$vigil" rootfs "$name") || die "vigil rootfs $name failed"
[[ -d $merged ]] || die "vigil rootfs gave '$merged', not a directory"

t0=$EPOCHREALTIME
per_dir=$(( n_files / 100 ))
for (( d = 0; d < 100; d++ )); do
        mkdir "$merged/data$d" || die "cannot write into $merged"
        for (( f = 0; f < per_dir; f++ )); do
                : >"$merged/data$d/file$f"
        done
done
fill_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

names=(docker vigil vigil-json)
labels=("docker diff" "vigil diff" "vigil --output json diff")
# shellcheck disable=SC2034  # used through namerefs
{
        cmd_0=(docker diff "$name")
        cmd_1=("$vigil" diff "$name")
        cmd_2=("$vigil" --output json diff "$name")
}

failed=0
tmp=$VG_TMPDIR

# --- warm-up and output checks (not timed) --------------------------------
declare -a rows check
for i in 0 1 2; do
        local_cmd="cmd_$i[@]"
        "${!local_cmd}" >"$tmp/out.$i" 2>"$tmp/err.$i"
        st=$?
        if (( st != 0 )); then
                echo "bench-diff: '${labels[i]}' failed (exit $st):" >&2
                sed -n '1,20p' "$tmp/err.$i" >&2
                exit 1
        fi
        rows[i]=$(wc -l <"$tmp/out.$i")
        check[i]="${rows[i]} lines"
done
if sort "$tmp/out.0" | cmp -s - <(sort "$tmp/out.1"); then
        check[1]+=", the same lines as docker diff"
else
        check[1]+=", NOT the lines of docker diff"
        failed=1
fi
if command -v jq >/dev/null; then
        if jq -e -s "length == ${rows[0]}" <"$tmp/out.2" >/dev/null 2>&1; then
                check[2]+=", valid JSON, one object per change"
        else
                check[2]+=", NOT valid JSON or not one object per change"
                failed=1
        fi
fi
rm -f "$tmp"/out.*

# --- timed rounds --------------------------------------------------------
time_cmd() { # index: REPS executions; prints the median in µs
        local -n c=cmd_$1
        local k t0 t1
        local -a us=()
        for (( k = 0; k < reps; k++ )); do
                t0=$EPOCHREALTIME
                "${c[@]}" >/dev/null 2>"$tmp/err.$1" || { echo FAIL; return 1; }
                t1=$EPOCHREALTIME
                us+=($(( ${t1/./} - ${t0/./} )))
        done
        printf '%s\n' "${us[@]}" | sort -n | awk '{ v[NR] = $1 }
                END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A per
for (( r = 0; r < rounds; r++ )); do
        if (( r % 2 )); then seq_=(2 1 0); else seq_=(0 1 2); fi
        for i in "${seq_[@]}"; do
                v=$(time_cmd "$i")
                if [[ $v == FAIL* ]]; then
                        echo "bench-diff: '${labels[i]}' failed in round $r:" >&2
                        sed -n '1,20p' "$tmp/err.$i" >&2
                        exit 1
                fi
                per[$i,$r]=$v
        done
done

# --- report --------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms_of() {
        local r
        for (( r = 0; r < rounds; r++ )); do echo "${per[$1,$r]}"; done |
                median | awk '{ printf "%.1f", $1 / 1000 }'
}
ratio_of() {
        local r
        for (( r = 0; r < rounds; r++ )); do
                awk -v a="${per[$1,$r]}" -v b="${per[0,$r]}" 'BEGIN { printf "%.6f\n", a / b }'
        done | median | awk '{ printf "%.3f", $1 }'
}
ratios_of() {
        local r out=
        for (( r = 0; r < rounds; r++ )); do
                out+=$(awk -v a="${per[$1,$r]}" -v b="${per[0,$r]}" 'BEGIN { printf "%.2f ", a / b }')
        done
        echo "${out% }"
}

wall=$(awk -v a="$wall0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

echo "== bench-diff: vigil diff vs docker diff =="
echo "vigil:        $vigil"
echo "container:    $name, $n_files new files in 100 new directories (written in ${fill_s} s)"
echo "method:       $rounds alternating rounds x $reps executions each, output to /dev/null;"
echo "              per-round figure = median execution; ratio = median of per-round ratios"
echo
printf '%-30s %10s %8s %8s  %s\n' "command" "median ms" "ratio" "target" "result"
printf '%-30s %10s %8s %8s  %s\n' "${labels[0]}" "$(ms_of 0)" "1.000" "" ""
for i in 1 2; do
        ratio=$(ratio_of "$i")
        res=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r <= t) ? "PASS" : "MISS" }')
        printf '%-30s %10s %8s %8s  %s\n' "${labels[i]}" "$(ms_of "$i")" "$ratio" "<= $target" "$res"
done
echo
for i in 1 2; do
        echo "per-round ratios ${names[i]}: $(ratios_of "$i")"
done
for i in 0 1 2; do
        echo "output check ${names[i]}: ${check[i]}"
done
echo "wall time:    ${wall} s in all"

exit $failed
