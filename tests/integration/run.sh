#!/usr/bin/env bash
# Run every tests/integration/test-*.sh with the vigil binary path, aggregate
# their "N passed, M failed" lines, print the total the same way, exit 1 on any
# failure.  Usage: run.sh [path/to/vigil]   (default: this checkout's build/vigil)
#
# Each test is bounded by VG_TEST_TIMEOUT seconds (default 900).  A test that
# exits non-zero without reporting a failure counts as one failure; a test
# that skips (exit 77, e.g. not root) is reported, and counts as a failure
# when CI is set (CI runs as root, so the tests must really run there).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
case $VIGIL in /*) ;; *) VIGIL=$PWD/$VIGIL ;; esac
TEST_TIMEOUT=${VG_TEST_TIMEOUT:-900}

total_pass=0 total_fail=0 skipped=0
T0=$SECONDS

# Start dockerd once for all tests (they find it answering and leave it
# alone); stop it at the end if we started it.
if [ "$(id -u)" -eq 0 ]; then
	vg_init
	# A failure here is reported again (and counted) by the tests themselves.
	vg_start_dockerd || echo "(run.sh: dockerd is not answering; the tests will retry)"
	export VG_CTR_SOCK
fi

shopt -s nullglob
tests=("$HERE"/test-*.sh)
if [ ${#tests[@]} -eq 0 ]; then
	echo "FAIL: no test-*.sh in $HERE"
	total_fail=$((total_fail + 1))
fi

for t in "${tests[@]}"; do
	name=$(basename "$t")
	echo "=== $name"
	log=$(mktemp /tmp/vigil-it-run.XXXXXX)
	t1=$SECONDS
	timeout -k 10 "$TEST_TIMEOUT" bash "$t" "$VIGIL" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# A test killed before its trap ran leaves vigil-it-<pid>-* containers.
	[ "$(id -u)" -eq 0 ] && vg_sweep_stale
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	rm -f "$log"
	if [ "$rc" -eq 77 ]; then
		echo "=== $name: skipped ($((SECONDS - t1))s)"
		skipped=$((skipped + 1))
		[ -n "${CI:-}" ] && { echo "FAIL: $name skipped under CI"; total_fail=$((total_fail + 1)); }
		continue
	fi
	p=0 f=0
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }; f=${f%% failed*}
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL: $name timed out after ${TEST_TIMEOUT}s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name exited $rc without a failure count"
		f=1
	elif [ -z "$line" ]; then
		echo "FAIL: $name printed no 'N passed, M failed' line"
		f=$((f + 1))
	fi
	echo "=== $name: $p passed, $f failed (exit $rc, $((SECONDS - t1))s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

[ "$(id -u)" -eq 0 ] && vg_cleanup_now   # stops dockerd if run.sh started it
echo "=== integration suite took $((SECONDS - T0))s ($skipped test files skipped)"
printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
