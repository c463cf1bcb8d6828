#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The VIGIL_TEST_* environment hooks are in a build's binaries exactly
# when it was configured with them (-Dtest_hooks, on by default for the
# debug and debugoptimized build types only): a release build never
# reads them.
# Usage: test-hooks.sh present|absent FILE...
set -uo pipefail
want=$1
shift
failed=0
for f in "$@"; do
	if grep -a -q 'VIGIL_TEST_' "$f"; then got=present; else got=absent; fi
	if [ "$got" = "$want" ]; then
		echo "ok: $f: VIGIL_TEST_ hooks $got"
	else
		echo "FAIL: $f: VIGIL_TEST_ hooks $got, expected $want"
		failed=1
	fi
done
exit $failed
