#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make check: every suite, in order, then one closing line
# "N passed, M failed" over all of them. A suite that cannot run fails
# loudly or is skipped with its reason printed, never passed silently.
# Usage: tests/check.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0 failed=0 skipped=0
declare -a failures=()

stage() { echo; echo "=== $*"; }
tally() { # NAME RC
	case $2 in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); failures+=("$1") ;;
	esac
}

stage "unit suite"
meson test -C "$BUILD" --suite unit --print-errorlogs
tally unit $?

stage "unit suite under ASan + UBSan"
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
if ninja -C build-asan >/dev/null; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --print-errorlogs
	tally asan $?
else
	echo "FAIL: the sanitizer build did not compile"
	tally asan 1
fi

stage "unit suite under valgrind"
if command -v valgrind >/dev/null; then
	meson test -C "$BUILD" --print-errorlogs \
		--wrapper 'valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q' \
		test-util test-cgroup test-attrib test-proc test-printer \
		test-runtime test-kubelet test-bolt test-policy test-peer test-tpformat test-ptable test-filter test-diff test-doctor test-engine test-config test-metrics test-export test-fleet
	tally valgrind $?
else
	echo "FAIL: valgrind is not installed"
	tally valgrind 1
fi

stage "fuzz targets, ${FUZZ_SECONDS}s each"
if command -v clang >/dev/null; then
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null
	fi
	if ninja -C build-fuzz >/dev/null; then
		FUZZ_SECONDS=$FUZZ_SECONDS tests/fuzz/run.sh build-fuzz
		tally fuzz $?
	else
		echo "FAIL: the fuzz build did not compile"
		tally fuzz 1
	fi
else
	echo "FAIL: clang is not installed (make deps-check installs it)"
	tally fuzz 1
fi

stage "root integration suite (real kernel, real runtimes)"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the root suite needs root (it starts dockerd, containerd and podman); run 'sudo make check'"
	tally root 77
else
	tests/integration/run.sh "$PWD/$BUILD/vigil"
	tally root $?
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed suites: ${failures[*]}"
[ "$skipped" -gt 0 ] && echo "skipped suites: $skipped (reasons above)"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
