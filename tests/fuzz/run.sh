#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run each fuzz target for FUZZ_SECONDS (default 20), seeded from the
# fixtures. Usage: tests/fuzz/run.sh BUILD_FUZZ_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build-fuzz}
SECS=${FUZZ_SECONDS:-20}
passed=0 failed=0
# target:proc-file-to-seed-from, or target: for a committed seed corpus
# (tests/fuzz/corpus-TARGET, read only; new inputs go to the build dir)
for t in cgroup:cgroup proc-stat:stat proc-status:status podlist: state: bolt: policy: tpformat: filter: mountinfo: record: audit: config: export: rules:; do
	target=${t%%:*} file=${t#*:}
	corpus=tests/fuzz/corpus-$target
	dirs=("$corpus") max_len=8192
	if [ -n "$file" ]; then
		mkdir -p "$corpus"
		find tests/fixtures -path '*/proc/*' -name "$file" -type f | head -200 |
			while read -r f; do cp "$f" "$corpus/seed-$(echo "$f" | md5sum | cut -c1-12)"; done
	elif [ "$target" = record ]; then
		# seeded with the recordings the engine's tests replay
		mkdir -p "$B/corpus-record"
		cp tests/fixtures/recordings/*.rec "$B/corpus-record/"
		dirs=("$B/corpus-record") max_len=65536
	elif [ "$target" = rules ]; then
		# the committed corpus, and the rule files the tests load
		mkdir -p "$B/corpus-rules"
		cp tests/fixtures/falco/falco_rules.yaml tests/fixtures/rules/*.yaml "$B/corpus-rules/"
		dirs=("$B/corpus-rules" "$corpus") max_len=65536
	else
		mkdir -p "$B/corpus-$target"
		dirs=("$B/corpus-$target" "$corpus") max_len=65536
	fi
	echo "fuzz-$target: ${SECS}s"
	if "$B/tests/fuzz/fuzz-$target" -max_total_time="$SECS" -max_len=$max_len \
		-rss_limit_mb=2048 -print_final_stats=1 "${dirs[@]}" >"/tmp/fuzz-$target.log" 2>&1; then
		grep -E "stat::number_of_executed_units|Done" "/tmp/fuzz-$target.log" | head -2
		passed=$((passed + 1))
	else
		tail -40 "/tmp/fuzz-$target.log"
		echo "FAIL fuzz-$target (crash input saved in the working directory)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
