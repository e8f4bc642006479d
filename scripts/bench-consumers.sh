#!/usr/bin/env bash
# Controller ingest with 0 vs 100 consumers subscribed (interleaved rounds, medians) ->
# bench/results-consumers.json. Release build. Not a test: nothing asserts on time.
# The consumers run in a process of their own; with 2 or more CPUs the controller (and the
# agent feeding it) get CPU 0 and the consumers the others, as consumers on other machines
# would leave the controller's node alone.
# usage: scripts/bench-consumers.sh [ROUNDS (default 5)] [BATCHES of 200 records per run (default 100)]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product NetobsConsumerBench >/dev/null
bench=(.build/release/NetobsConsumerBench bench/results-consumers.json "${1:-5}" "${2:-100}")
cpus=$(nproc)
if [ "$cpus" -ge 2 ]; then
    export NETOBS_BENCH_CPUS=0 NETOBS_BENCH_CONSUMER_CPUS="1-$((cpus - 1))"
    exec taskset -c "$NETOBS_BENCH_CPUS" "${bench[@]}"
fi
exec "${bench[@]}"
