#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, build, every test (the kernel tests run for
# real, as root, in network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh
scripts/lab-clean.sh >/dev/null 2>&1 || true   # leftovers of an interrupted earlier run

# The wire codec's fuzzer, for a bounded time (NETOBS_FUZZ_SECONDS, default 60).
fuzz/run-wire-fuzzer.sh "${NETOBS_FUZZ_SECONDS:-60}" 2>&1 | tail -n 5

scripts/validate-manifests.sh 2>&1 | grep -v "^INFO"

swift build --build-tests
# Kernel tests share the kernel and the lab: run them one at a time. Everything else once; the
# kernel tests once per hook tier: portable on every host, btf where the kernel loads tracing
# programs (NETOBS_TEST_HOOKS is the agent's --hooks in those tests).
swift test --skip-build --no-parallel --skip KernelTests
tiers=(portable)
if bpftool feature probe kernel 2>/dev/null | grep -q "program_type tracing is available"; then
    tiers+=(btf)
else
    echo "test.sh: kernel tests on the btf tier skipped: this kernel refuses BPF tracing programs" \
        "(bpftool feature probe kernel: program_type tracing is NOT available)"
fi
for tier in "${tiers[@]}"; do
    echo "test.sh: kernel tests on the $tier tier"
    NETOBS_TEST_HOOKS=$tier swift test --skip-build --no-parallel --filter KernelTests
done

# The image: the Containerfile's build stage run in a clean copy of HEAD (a release build of both
# binaries) and its runtime stage's packages checked against the libraries they load.
scripts/check-containerfile.sh
