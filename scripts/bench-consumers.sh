#!/usr/bin/env bash
# Controller ingest with 0 vs 100 consumers subscribed (interleaved rounds, medians) ->
# bench/results-consumers.json. Release build. Not a test: nothing asserts on time.
# usage: scripts/bench-consumers.sh [ROUNDS (default 5)] [BATCHES of 200 records per run (default 100)]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product NetobsConsumerBench >/dev/null
.build/release/NetobsConsumerBench bench/results-consumers.json "${1:-5}" "${2:-100}"
