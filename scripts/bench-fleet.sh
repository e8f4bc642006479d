#!/usr/bin/env bash
# The controller as deployed (release `netobs controller`, its own process): CPU and RSS with
# 1,000 simulated agents connected (idle, then each pushing a batch a second), and records/s
# through agent -> controller -> consumer. Writes bench/results-fleet.json. A benchmark, not a
# test: nothing asserts on time.
# usage: scripts/bench-fleet.sh [AGENTS (1000)] [SECONDS (20)] [RECORDS_PER_AGENT_PER_SECOND (50)]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
case "${1:-}" in -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
agents=${1:-1000}
# A socket per agent in this process and in the controller, plus spool files.
need=$((2 * agents + 256))
[ "$(ulimit -n)" -ge "$need" ] || ulimit -n "$need" 2>/dev/null ||
    { echo "bench-fleet: $agents agents need $need open files; the limit is $(ulimit -n)" >&2; exit 2; }
swift build -c release --product netobs >/dev/null
swift build -c release --product NetobsFleetBench >/dev/null
.build/release/NetobsFleetBench .build/release/netobs bench/results-fleet.json "$agents" "${2:-20}" "${3:-50}"
