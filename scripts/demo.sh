#!/usr/bin/env bash
# The local demo. Until the microservice demo exists, it runs the standalone agent on this
# machine: every TCP and UDP flow of the host, as JSON lines, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
swift build -c release --product netobs-agent
exec .build/release/netobs-agent --standalone --interval "${INTERVAL:-1s}" "$@"
