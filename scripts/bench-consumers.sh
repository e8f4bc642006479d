#!/usr/bin/env bash
# Controller ingest with 0 vs 100 consumers subscribed (interleaved rounds, medians) ->
# bench/results-consumers.json. Not a test: nothing asserts on time.
# usage: scripts/bench-consumers.sh [ROUNDS (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests >/dev/null
NETOBS_BENCH_CONSUMERS_OUT="$PWD/bench/results-consumers.json" NETOBS_BENCH_ROUNDS="${1:-5}" \
    swift test --skip-build --filter ConsumerBenchmark 2>&1 | grep -E "bench consumers|✘|passed|failed"
echo "bench-consumers.sh: wrote bench/results-consumers.json"
