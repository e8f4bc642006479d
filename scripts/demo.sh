#!/usr/bin/env bash
# The one-command demo: installs what it needs, builds netobs, and runs `netobs demo` with
# scenarios/default.yaml: a Sock-Shop-like shop on network-namespace pods under load, each
# kind of fault injected once, netobs watching. About 4 minutes plus the build; Ctrl-C stops
# it cleanly. Extra arguments go to `netobs demo` (e.g. --scenario FILE, --out DIR, --duration 2m).
# CONFIG=release builds optimised binaries (slower to build).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
config=${CONFIG:-debug}

scripts/setup.sh
echo "demo.sh: building netobs ($config)"
swift build -c "$config" --product netobs-agent
swift build -c "$config" --product netobs
exec ".build/$config/netobs" demo "$@"
