#!/usr/bin/env bash
# Installs what netobs builds and tests with (Debian/Ubuntu, as root). Idempotent and quick
# when everything is there already.
set -euo pipefail

packages=(
    # build: libbpf + ELF for the agent, bpftool for vmlinux.h (CO-RE)
    libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config libssl-dev openssl
    # node lab and fault injection
    iproute2 iptables procps iputils-ping util-linux
    # real peers the tests and benchmarks use as ground truth
    nginx-light wrk curl dnsmasq-base dnsutils iperf3 sockperf tshark python3 netcat-openbsd redis-server redis-tools
    # TLS/HTTP2 tests: a C compiler links a client against libssl.a (statically linked OpenSSL
    # is reported unsupported), a real gRPC peer
    gcc libc6-dev python3-grpcio
    # the dashboard's browser test: headless Chromium, and a font for its screenshots
    chromium fonts-dejavu-core
    # benchmark peers and plots (scripts/bench.sh)
    bpftrace tcpdump gnuplot-nox
    # /metrics checked by promtool and scraped by a real Prometheus; manifests validated in a venv
    prometheus python3-venv
    # the stream on NATS JetStream (the client's tests start their own server on loopback)
    nats-server
)

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs Debian packages)" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tracefs and bpffs: libbpf and bpftool expect them; mount when the host did not.
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true

if [ ! -r /sys/kernel/btf/vmlinux ]; then
    echo "setup.sh: warning: /sys/kernel/btf/vmlinux is missing; the kernel programs cannot be built here" >&2
fi
command -v swift >/dev/null || [ -x /opt/swift/usr/bin/swift ] || {
    echo "setup.sh: no Swift toolchain on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
echo "setup.sh: ready"
