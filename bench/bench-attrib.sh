#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-attrib.sh — warm-cache attribution (container + pod): by cgroup id
# (target <= 1 us per lookup) and by pid (target <= 3x the cost of just
# reading /proc/<pid>/cgroup). Runs bench-attrib, built next to vigil.
#
#   bench/bench-attrib.sh [VIGIL_BINARY] [ROUNDS=5]
set -u
vigil=${1:-$(dirname "$0")/../build/vigil}
bin=$(dirname "$(realpath -- "$vigil")")/bench-attrib
[[ -x $bin ]] || { echo "bench-attrib: $bin not built" >&2; exit 2; }
(( $(id -u) == 0 )) || { echo "bench-attrib: needs root (it makes cgroups); skipped"; exit 0; }
exec "$bin" "${2:-5}"
