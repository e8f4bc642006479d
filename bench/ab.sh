#!/usr/bin/env bash
# Agent A/B on one workload between two lab pods: no observer and each given netobs-agent
# binary, in interleaved rounds (the order rotates every round). Workloads: sockperf UDP
# ping-pong (p50/p99 µs, round trips) or wrk against nginx (req/s, p99 µs, requests; 16
# keep-alive connections). Per round and observer also the BPF time of the agent's own programs
# (kernel.bpf_stats_enabled, by the program ids its fds hold) per unit of work. Writes
# bench/results-ab-WORKLOAD.md (medians of per-round ratios to no observer, of ns per unit).
# usage: bench/ab.sh [--workload sockperf|wrk] [--rounds N] [--seconds S] LABEL=AGENT_BINARY ...
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=10 secs=3 workload=sockperf labels=() bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift ;;
        --seconds) secs=$2; shift ;;
        --workload) workload=$2; shift ;;
        *=*) labels+=("${1%%=*}"); bins+=("$(realpath "${1#*=}")") ;;
        *) echo "ab: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ "${#labels[@]}" -ge 1 ] || { echo "ab: name at least one LABEL=AGENT_BINARY" >&2; exit 2; }
[[ "$workload" =~ ^(sockperf|wrk)$ ]] || { echo "ab: --workload is sockperf or wrk" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "ab: run as root" >&2; exit 2; }

tmp=$(mktemp -d) a=noab-a b=noab-b A=10.251.0.1 B=10.251.0.2 observer=
cleanup() {
    [ -n "$observer" ] && kill -INT "$observer" 2>/dev/null && wait "$observer" 2>/dev/null || true
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    ip netns pids "$b" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
    sysctl -qw kernel.bpf_stats_enabled=0 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
ip netns add "$a"; ip netns add "$b"
ip link add noab0 netns "$a" type veth peer name noab1 netns "$b"
ip -n "$a" addr add $A/24 dev noab0; ip -n "$b" addr add $B/24 dev noab1
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set noab0 up; ip -n "$b" link set noab1 up
if [ "$workload" = sockperf ]; then
    ip netns exec "$b" sockperf sr -i $B -p 11112 >/dev/null 2>&1 &
else
    mkdir -p "$tmp/www"; head -c 612 /dev/zero | tr '\0' 'n' > "$tmp/www/index.html"
    cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp;
    uwsgi_temp_path $tmp; scgi_temp_path $tmp;
    server { listen $B:8080; root $tmp/www; }
}
CONF
    ip netns exec "$b" nginx -c "$tmp/nginx.conf"
fi
sleep 0.5
sysctl -qw kernel.bpf_stats_enabled=1

# One line: p50 (sockperf) or req/s (wrk), p99 in µs, units of work done.
run_workload() {
    if [ "$workload" = sockperf ]; then
        ip netns exec "$a" sockperf pp -i $B -p 11112 -t "$secs" 2>&1 |
            awk '/percentile 50.000 =/ {p50=$NF} /percentile 99.000 =/ {p99=$NF}
                 !n && match($0, /ReceivedMessages=[0-9]+/) {n=substr($0, RSTART+17, RLENGTH-17)}
                 END {print p50, p99, n}'
    else
        ip netns exec "$a" wrk -t1 -c16 -d"${secs}s" --latency "http://$B:8080/" |
            awk 'function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; if (v ~ /s$/) return v*1e6; return v }
                 /Requests\/sec/ {rps=$2} /^ +99%/ {p99=us($2)} / requests in / {n=$1} END {print rps, p99, n}'
    fi
}
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
        out=$(run_workload)
        after=$(bpf_ns "$ids")
        [ -n "$observer" ] && { kill -INT "$observer"; wait "$observer" 2>/dev/null || true; observer=; }
        echo "$round $obs $out $((after - before))" | tee -a "$tmp/rounds.tsv"
    done
done

/usr/bin/python3 - "$tmp/rounds.tsv" "$secs" "$workload" "${labels[@]}" > "bench/results-ab-$workload.md" <<'PY'
import statistics as st, sys, datetime, platform
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
secs, workload, labels = sys.argv[2], sys.argv[3], sys.argv[4:]
by = {}
for r, obs, first, p99, units, ns in rows:
    by.setdefault(int(r), {})[obs] = (float(first), float(p99), int(float(units)), int(ns))
sock = workload == "sockperf"
unit = "round trip" if sock else "request"
first = "p50" if sock else "req/s"
print(f"# {workload} A/B ({datetime.date.today()}, kernel {platform.release()})\n")
print(f"{'sockperf UDP ping-pong' if sock else 'wrk (16 connections) against nginx'} between two lab pods, "
      f"{len(by)} interleaved rounds of {secs} s; cost = median of per-round ratios to no observer (% worse);")
print(f"BPF ns per {unit}: the agent's own programs (bpf_stats; the node's other traffic included).\n")
print(f"| observer | {first} cost | p99 cost | BPF ns per {unit} | {unit}s (median) |")
print("|---|---|---|---|---|")
for label in labels:
    pr = [(v[label], v["none"]) for v in by.values() if label in v and "none" in v]
    c1 = st.median((a[0] / b[0] - 1) if sock else (1 - a[0] / b[0]) for a, b in pr) * 100
    p99 = st.median(a[1] / b[1] - 1 for a, b in pr) * 100
    ns = st.median(a[3] / max(1, a[2]) for a, _ in pr)
    print(f"| {label} | {c1:+.1f}% | {p99:+.1f}% | {ns:.0f} | {st.median(a[2] for a, _ in pr):.0f} |")
none = [v["none"] for v in by.values() if "none" in v]
print(f"\nno observer: {first} {st.median(v[0] for v in none):.2f}, p99 {st.median(v[1] for v in none):.2f} µs")
PY
cat "bench/results-ab-$workload.md"
