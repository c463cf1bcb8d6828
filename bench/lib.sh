# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# What every bench/bench-*.sh begins with: `. "$here/lib.sh" NAME`
# defines die (the message, exit 2: a usage or set-up error), say, isnum
# and the checks of the arguments they share, which read the caller's
# $rounds, $workload_timeout and $vigil.
# shellcheck disable=SC2154  # the caller's variables

bench_name=$1

die() { echo "$bench_name: $*" >&2; exit 2; }
say() { echo "$bench_name: $*"; }
isnum() { [[ $1 =~ ^[0-9]+$ ]]; }

# bench_check_rounds: $rounds is a number, at least 3
bench_check_rounds() {
	isnum "$rounds" || die "ROUNDS must be a number, got '$rounds'"
	(( rounds >= 3 )) || die "ROUNDS must be at least 3 (got $rounds)"
}

# bench_check_workload_timeout: $workload_timeout is a positive number
bench_check_workload_timeout() {
	if ! isnum "$workload_timeout" || (( workload_timeout == 0 )); then
		die "WORKLOAD_TIMEOUT must be a positive number of seconds"
	fi
}

# bench_check_vigil: $vigil is an executable file; made an absolute path
bench_check_vigil() {
	[[ -f $vigil && -x $vigil ]] || die "vigil binary not found or not executable: $vigil"
	vigil=$(realpath -- "$vigil")
}
