#!/usr/bin/env bash
# UDP cost A/B: sockperf ping-pong between two lab pods with no observer and with each given
# netobs-agent binary, in interleaved rounds (the order rotates every round). Per round and
# observer: sockperf p50/p99 (µs), round trips, and the BPF time of the agent's own programs
# (kernel.bpf_stats_enabled, by the program ids its fds hold) per round trip. Writes
# bench/results-udp-ab.md (medians of per-round ratios to no observer, medians of ns per trip).
# usage: bench/udp_ab.sh [--rounds N] [--seconds S] LABEL=AGENT_BINARY ...
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=10 secs=3 labels=() bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift ;;
        --seconds) secs=$2; shift ;;
        *=*) labels+=("${1%%=*}"); bins+=("$(realpath "${1#*=}")") ;;
        *) echo "udp_ab: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ "${#labels[@]}" -ge 1 ] || { echo "udp_ab: name at least one LABEL=AGENT_BINARY" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "udp_ab: run as root" >&2; exit 2; }

tmp=$(mktemp -d) a=noudp-a b=noudp-b A=10.251.0.1 B=10.251.0.2 observer=
cleanup() {
    [ -n "$observer" ] && kill -INT "$observer" 2>/dev/null && wait "$observer" 2>/dev/null || true
    ip netns pids "$b" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
    sysctl -qw kernel.bpf_stats_enabled=0 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
ip netns add "$a"; ip netns add "$b"
ip link add noudp0 netns "$a" type veth peer name noudp1 netns "$b"
ip -n "$a" addr add $A/24 dev noudp0; ip -n "$b" addr add $B/24 dev noudp1
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set noudp0 up; ip -n "$b" link set noudp1 up
ip netns exec "$b" sockperf sr -i $B -p 11112 >/dev/null 2>&1 &
sleep 0.5
sysctl -qw kernel.bpf_stats_enabled=1

prog_ids() { grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }
bpf_ns() {   # total run time of the listed programs, ns
    local total=0 id
    for id in $1; do
        total=$((total + $(bpftool prog show id "$id" 2>/dev/null |
                           awk '{for (i = 1; i < NF; i++) if ($i == "run_time_ns") v = $(i + 1)} END {print v + 0}')))
    done
    echo "$total"
}
: > "$tmp/rounds.tsv"
observers=(none "${labels[@]}")
for round in $(seq "$rounds"); do
    for k in "${!observers[@]}"; do
        obs=${observers[$(( (k + round) % ${#observers[@]} ))]} ids= before=0
        if [ "$obs" != none ]; then
            for i in "${!labels[@]}"; do [ "${labels[$i]}" = "$obs" ] && bin=${bins[$i]}; done
            : > "$tmp/agent.err"
            "$bin" --standalone --interval 1s >/dev/null 2>"$tmp/agent.err" & observer=$!
            for _ in $(seq 200); do grep -q collecting "$tmp/agent.err" && break; sleep 0.1; done
            ids=$(prog_ids "$observer"); before=$(bpf_ns "$ids")
        fi
        out=$(ip netns exec "$a" sockperf pp -i $B -p 11112 -t "$secs" 2>&1)
        after=$(bpf_ns "$ids")
        [ -n "$observer" ] && { kill -INT "$observer"; wait "$observer" 2>/dev/null || true; observer=; }
        p50=$(awk '/percentile 50.000 =/ {print $NF}' <<<"$out")
        p99=$(awk '/percentile 99.000 =/ {print $NF}' <<<"$out")
        trips=$(grep -o 'ReceivedMessages=[0-9]*' <<<"$out" | head -1 | cut -d= -f2)
        echo "$round $obs $p50 $p99 $trips $((after - before))" | tee -a "$tmp/rounds.tsv"
    done
done

/usr/bin/python3 - "$tmp/rounds.tsv" "$secs" "${labels[@]}" > bench/results-udp-ab.md <<'EOF'
import statistics as st, sys, datetime, platform
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
secs, labels = sys.argv[2], sys.argv[3:]
by = {}
for r, obs, p50, p99, trips, ns in rows:
    by.setdefault(int(r), {})[obs] = (float(p50), float(p99), int(trips), int(ns))
print(f"# UDP ping-pong A/B ({datetime.date.today()}, kernel {platform.release()})\n")
print(f"sockperf ping-pong between two lab pods, {len(by)} interleaved rounds of {secs} s; medians of")
print("per-round ratios to no observer; BPF ns per round trip from the agent's own programs")
print("(bpf_stats), each trip being two datagrams, each seen on egress and ingress.\n")
print("| observer | p50 cost | p99 cost | BPF ns per round trip | round trips (median) |")
print("|---|---|---|---|---|")
for label in labels:
    pr = [(v[label], v["none"]) for v in by.values() if label in v and "none" in v]
    p50 = st.median(a[0] / b[0] - 1 for a, b in pr) * 100
    p99 = st.median(a[1] / b[1] - 1 for a, b in pr) * 100
    ns = st.median(a[3] / max(1, a[2]) for a, _ in pr)
    trips = st.median(a[2] for a, _ in pr)
    print(f"| {label} | {p50:+.1f}% | {p99:+.1f}% | {ns:.0f} | {trips:.0f} |")
print(f"\nno observer: p50 {st.median(v['none'][0] for v in by.values()):.2f} µs, "
      f"p99 {st.median(v['none'][1] for v in by.values()):.2f} µs")
EOF
cat bench/results-udp-ab.md
