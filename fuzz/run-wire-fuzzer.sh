#!/usr/bin/env bash
# Builds the libFuzzer harness of the wire codec (fuzz/WireFuzzer.swift + Sources/NetobsWire) with
# -sanitize=fuzzer,address and runs it for a bounded time over the seed corpus fuzz/corpus/wire/.
#
#   fuzz/run-wire-fuzzer.sh [SECONDS=60] [extra libFuzzer flags...]
#
# New interesting inputs go to a scratch directory, so the corpus kept in git stays a few dozen
# seeds; to keep one, copy it into fuzz/corpus/wire/ (or merge: wire-fuzzer -merge=1 fuzz/corpus/wire DIR).
# A crash leaves its input in $WIRE_FUZZ_BUILD (default .build-fuzz/) and makes this script fail;
# replay it with: .build-fuzz/wire-fuzzer .build-fuzz/crash-<sha1>
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WIRE_FUZZ_BUILD:-$root/.build-fuzz}
swiftc=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}

mkdir -p "$build"
mapfile -t sources < <(find "$root/Sources/NetobsWire" -name '*.swift' | sort)
echo "building $build/wire-fuzzer (${#sources[@]} sources)" >&2
"$swiftc" -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
    -module-name NetobsWireFuzz "${sources[@]}" "$root/fuzz/WireFuzzer.swift" -o "$build/wire-fuzzer"

# libFuzzer reports crashes itself; the Swift runtime's interactive backtracer would only delay
# that (and can outlive the fuzzer holding its output pipe).
export SWIFT_BACKTRACE=enable=no

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# -malloc_limit_mb: the harness caps payloads at 1 MiB and inputs are a few KiB, so any single
# allocation above 64 MiB is a limit not enforced before allocating.
"$build/wire-fuzzer" \
    -max_total_time="$seconds" \
    -malloc_limit_mb=64 \
    -rss_limit_mb=2048 \
    -timeout=10 \
    -print_final_stats=1 \
    -artifact_prefix="$build/" \
    "$@" \
    "$scratch" "$root/fuzz/corpus/wire"
