#!/usr/bin/env bash
# The controller on a small volume with a retention bound under the fleet load (release `netobs
# controller`, its own process): a 128 MiB tmpfs as the data directory, --retention-bytes 64M,
# 1,000 simulated agents each pushing a 50-record batch a second for 10 minutes, one consumer.
# Samples the volume's use, the log's bytes and the controller's RSS every 10 s, then reads every
# agent's log back (acknowledged-but-lost must be 0). Writes bench/results-retention.json. A
# benchmark, not a test. Needs root (mount).
# usage: scripts/bench-retention.sh [AGENTS (1000)] [SECONDS (600)] [RECORDS_PER_AGENT_PER_SECOND (50)] [VOLUME (128m)] [RETENTION (64M)]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
case "${1:-}" in -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
agents=${1:-1000}
need=$((2 * agents + 256))
[ "$(ulimit -n)" -ge "$need" ] || ulimit -n "$need" 2>/dev/null ||
    { echo "bench-retention: $agents agents need $need open files; the limit is $(ulimit -n)" >&2; exit 2; }
swift build -c release --product netobs >/dev/null
swift build -c release --product NetobsFleetBench >/dev/null
volume=$(mktemp -d /tmp/netobs-retention-volume.XXXXXX)
mount -t tmpfs -o "size=${4:-128m}" tmpfs "$volume"
trap 'umount -l "$volume"; rmdir "$volume"' EXIT
.build/release/NetobsFleetBench retention .build/release/netobs bench/results-retention.json "$volume" \
    "$agents" "${2:-600}" "${3:-50}" "${5:-64M}"
