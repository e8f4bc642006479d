#!/usr/bin/env bash
# Controller ingest benchmark: records/s stored over mutual TLS on loopback, with durability on
# (each FlowBatch appended to its agent's log and fdatasync'd before its Ack; the log's `state`
# file is only a hint, rewritten every 64 appends without fsync). Simulated agents push
# JSON-lines batches of a typical ~230-byte record. Not a test: the figure goes to
# bench/results-controller.json (median of RUNS runs, every run kept), nothing asserts on time.
#
#   scripts/bench-controller.sh            # 3 runs, 4 connections x 40 batches x 16384 records
#   RUNS=5 CONNECTIONS=8 BATCHES=20 RECORDS_PER_BATCH=32768 scripts/bench-controller.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
out=bench/results-controller.json
# Release build (the codec's and the log's byte loops are ~50x slower in debug); tests need
# -enable-testing for the @testable imports of other suites in the same bundle.
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 "$RUNS"); do
    NETOBS_BENCH_CONNECTIONS=${CONNECTIONS:-4} NETOBS_BENCH_BATCHES=${BATCHES:-40} \
    NETOBS_BENCH_RECORDS_PER_BATCH=${RECORDS_PER_BATCH:-16384} NETOBS_BENCH_OUT="$tmp/run-$i.json" \
        swift test "${flags[@]}" --skip-build --filter 'ScaleTests/ingest' >"$tmp/log-$i.txt" 2>&1 \
        || { cat "$tmp/log-$i.txt"; exit 1; }
done
/usr/bin/python3 - "$tmp" "$out" <<'PY'
import glob, json, os, statistics, subprocess, sys, datetime
tmp, out = sys.argv[1], sys.argv[2]
runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(tmp, "run-*.json")))]
rates = [r["records_per_second"] for r in runs]
result = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "kernel": os.uname().release,
    "cpus": os.cpu_count(),
    "build": "release",
    "load_average_at_end": os.getloadavg(),
    "median_records_per_second": int(statistics.median(rates)),
    "median_megabytes_per_second": round(statistics.median(r["megabytes_per_second"] for r in runs), 1),
    "goal_records_per_second": 2_000_000,
    "runs": runs,
}
json.dump(result, open(out, "w"), indent=2)
print(f"controller ingest: median {result['median_records_per_second']:,} records/s "
      f"({result['median_megabytes_per_second']} MB/s) over {len(runs)} runs -> {out}")
PY
