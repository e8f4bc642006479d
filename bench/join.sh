#!/usr/bin/env bash
# Join throughput (records/s, one core) with 10k pods and 5k services, and the controller's
# topology memory per 1k pods. Writes bench/results-join.json.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product JoinBench >&2
out=bench/results-join.json
.build/release/JoinBench --pods "${PODS:-10000}" --services "${SERVICES:-5000}" --rounds "${ROUNDS:-7}" > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
