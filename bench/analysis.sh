#!/usr/bin/env bash
# Analysis benchmark: series updates per second on one core (ring append + online detector per
# value) and resident memory per 100k series. Writes bench/results-analysis.json.
# Usage: bench/analysis.sh [extra netobs bench-analysis options]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product netobs >&2
# One core: the figure is per core.
taskset -c 0 "$(swift build -c release --show-bin-path)/netobs" bench-analysis \
    --series 100000 --intervals 40 --rounds 5 --out bench/results-analysis.json "$@"
