#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh — entry point for `make bench`: runs every bench/bench-*.sh in
# turn with the vigil binary and prints their reports.
#
#   bench/run.sh [VIGIL_BINARY]      (default: build/vigil)
#
# Benchmarks report figures; a MISS against a target does not fail the
# run.  The exit status is 1 when a benchmark failed to run (a command
# crashed or exited with an error), 2 when the vigil binary is missing.

set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
vigil=$(realpath -- "$vigil")

if [[ ! -f $vigil || ! -x $vigil ]]; then
        echo "bench: vigil binary not found: $vigil (build it first)" >&2
        exit 2
fi

shopt -s nullglob
benches=("$here"/bench-*.sh)
if (( ${#benches[@]} == 0 )); then
        echo "bench: no bench-*.sh in $here" >&2
        exit 2
fi

t0=$EPOCHREALTIME
failed=()
for b in "${benches[@]}"; do
        name=$(basename "$b" .sh)
        echo "######## $name"
        bash "$b" "$vigil"
        st=$?
        (( st == 0 )) || failed+=("$name (exit $st)")
        echo
done

wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "######## summary: ${#benches[@]} benchmark(s) in ${wall} s"
if (( ${#failed[@]} )); then
        printf 'failed to run: %s\n' "${failed[@]}"
        exit 1
fi
echo "all ran (see each report for PASS/MISS against its target)"
