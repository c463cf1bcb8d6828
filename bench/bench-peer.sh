#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-peer.sh — peer identity per connection with a warm cache, p50 and
# p99, against a bare accept + SO_PEERCRED loop in the same run (target:
# at most 3x). Runs bench-peer, built next to vigil.
#
#   bench/bench-peer.sh [VIGIL_BINARY] [ROUNDS=5] [CONNECTIONS=2000]
set -u
vigil=${1:-$(dirname "$0")/../build/vigil}
bin=$(dirname "$(realpath -- "$vigil")")/bench-peer
[[ -x $bin ]] || { echo "bench-peer: $bin not built" >&2; exit 2; }
exec "$bin" "${2:-5}" "${3:-2000}"
