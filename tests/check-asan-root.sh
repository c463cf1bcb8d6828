#!/usr/bin/env bash
# The root integration suite against a vigil built with ASan and UBSan:
# every sanitizer report any vigil process writes (a run under the
# suite's own checks, in a container, or a background teardown) is
# collected, and any one of them fails the run.
# Usage: tests/check-asan-root.sh [BUILD_DIR]   (root; default build-asan)
set -u -o pipefail
cd "$(dirname "$0")/.."
B=${1:-build-asan}
if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$B" >/dev/null || { echo "FAIL: the sanitizer build did not compile"; exit 1; }
LOGS=$(mktemp -d /tmp/vigil-asan.XXXXXX)
chmod 1777 "$LOGS" # also the runs as another uid
export ASAN_OPTIONS=detect_leaks=1:log_path=$LOGS/asan
export UBSAN_OPTIONS=print_stacktrace=1:log_path=$LOGS/ubsan
tests/integration/run.sh "$B/vigil"
rc=$?
unset ASAN_OPTIONS UBSAN_OPTIONS
shopt -s nullglob
reports=("$LOGS"/*)
if [ ${#reports[@]} -gt 0 ]; then
	echo "FAIL: ${#reports[@]} sanitizer report(s):"
	for f in "${reports[@]}"; do
		echo "==== $f"
		head -40 "$f"
	done
	rc=1
else
	echo "PASS: no sanitizer report from any vigil process"
fi
rm -rf "$LOGS"
exit "$rc"
