#!/usr/bin/env bash
# netobs benchmarks, in one run (figures, not tests: nothing asserts on time). Writes
# bench/results.json, bench/results.md and bench/*.png:
#   1. workload impact between two lab pods (network namespaces on a veth pair): iperf3 (TCP
#      throughput), sockperf (UDP ping-pong latency p50/p99), wrk against nginx (requests/s,
#      p99) with no observer, the netobs agent, a bpftrace script on the same tracepoints
#      (bench/peers/flows.bt) and tcpdump piped into tshark decoding HTTP and DNS; wrk also
#      with the agent observing only the nginx pod (netobs-server: a cgroup rule for L4, the
#      cgroup programs attached at nginx's cgroup); every round runs each observer once, in a
#      rotating order; medians of per-round ratios to no observer
#   2. kernel cost: ns per invocation per program (kernel.bpf_stats_enabled) for netobs on each
#      hook tier the kernel loads (btf, portable), the bpftrace peer and empty programs on the
#      same hooks, in interleaved rounds; BPF CPU as a share of busy CPU; observer CPU (all its
#      programs + its process) per kernel event and per HTTP exchange (a window around wrk)
#   3. L7 programs per packet (BPF_PROG_TEST_RUN, bench/l7_test_run.py)
#   4. capacity and loss against load: a UDP datagram and a short-connection generator
#      (bench/loadgen.c) pinned to one CPU at climbing rates: offered events beside recorded
#      ones and the agent's counted losses, per step; the rest is uncounted loss; events
#      recorded per second of the observer's CPU (BPF + process) at the maximum rate
#   5. agent CPU and RSS holding 1k / 10k / 100k idle TCP connections (bench/hold_flows.py)
#   6. the controller process with 1,000 simulated agents (CPU, RSS) and records delivered/s through
#      agent -> controller -> consumer (scripts/bench-fleet.sh -> bench/results-fleet.json)
# usage: scripts/bench.sh [--quick] [--pairs N] [--seconds S] [--flows "1000 10000 100000"] [--agent PATH]
#   --quick: 2 pairs of 2 s, 1k flows, short load steps: proves the run end to end (smoke).
#   --agent: a netobs-agent binary to measure instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

pairs=10 secs=5 flows="1000 10000 100000" quick=0 load_secs=3 agent=
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 pairs=2 secs=2 flows="1000" load_secs=1 ;;
        --pairs) pairs=$2; shift ;;
        --seconds) secs=$2; shift ;;
        --flows) flows=$2; shift ;;
        --agent) agent=$(realpath "$2"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (namespaces, BPF)" >&2; exit 2; }
[[ "$pairs" =~ ^[0-9]+$ && "$pairs" -ge 1 && "$secs" =~ ^[0-9]+$ && "$secs" -ge 1 ]] ||
    { echo "bench: --pairs and --seconds take positive integers" >&2; exit 2; }

out=bench tmp=bench/tmp
rm -rf "$tmp"; mkdir -p "$tmp"
scripts/setup.sh >/dev/null
if [ -z "$agent" ]; then
    echo "bench: release build"
    swift build -c release --product netobs-agent >/dev/null
    agent=$PWD/.build/release/netobs-agent
fi
clang=$(command -v clang || echo /opt/swift/usr/bin/clang)
plugin=$(dirname "$(find .build -name vmlinux.h -path '*BPFObjectsPlugin*' | head -1)")
"$clang" -target bpf -D__TARGET_ARCH_x86 -O2 -g -Wno-default-const-init-var-unsafe -I "$plugin" \
    -c bench/baseline/empty.bpf.c -o "$tmp/empty.bpf.o"
gcc -O2 -o "$tmp/baseline-loader" bench/baseline/loader.c -lbpf
gcc -O2 -Wall -o "$tmp/loadgen" bench/loadgen.c
l7obj=$(ls -t $(find .build -name l7.bpf.o -path '*BPFObjectsPlugin*') | head -1)
# Hook tiers: the impact runs use what --hooks auto picks; the kernel cost pass measures every
# tier the kernel loads, and the empty baselines of each.
"$agent" --features > "$tmp/features.json"
auto_tier=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tier"])' "$tmp/features.json")
if grep -q '"tracing":true' "$tmp/features.json"; then tiers=(btf portable) baseline_sections=""
else tiers=(portable) baseline_sections="raw_tp/"; fi
echo "$auto_tier ${tiers[*]}" > "$tmp/tiers.txt"
echo "bench: hook tiers this kernel loads: ${tiers[*]} (auto picks $auto_tier)"

# ---------------------------------------------------------------- lab: two pods, servers in b
a=nobench-a b=nobench-b A=10.250.0.1 B=10.250.0.2
pids=()
remove_server_cgroup() {
    [ -n "${srv_cg:-}" ] && [ -d "$srv_cg" ] || return 0
    for _ in $(seq 50); do rmdir "$srv_cg" 2>/dev/null && return 0; sleep 0.1; done   # nginx exiting
    echo "bench: could not remove $srv_cg" >&2
}
cleanup() {
    stop_observer 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    ip netns pids "$b" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$a" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    remove_server_cgroup
    rm -rf /sys/fs/bpf/netobs_l7bench_$$
    sysctl -qw kernel.bpf_stats_enabled=0 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
ip netns add "$a"; ip netns add "$b"
ip link add nobench0 netns "$a" type veth peer name nobench1 netns "$b"
ip -n "$a" addr add $A/24 dev nobench0; ip -n "$b" addr add $B/24 dev nobench1
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set nobench0 up; ip -n "$b" link set nobench1 up
ip netns exec "$a" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
ip netns exec "$b" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535

ip netns exec "$b" iperf3 -s -D -I "$PWD/$tmp/iperf3.pid" >/dev/null
pids+=("$(sleep 0.3; cat "$tmp/iperf3.pid")")
ip netns exec "$b" sockperf sr -i $B -p 11111 >/dev/null 2>&1 & pids+=($!)
mkdir -p "$tmp/www"; head -c 612 /dev/zero | tr '\0' 'n' > "$tmp/www/index.html"
cat > "$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $PWD/$tmp/nginx.pid;
error_log $PWD/$tmp/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $PWD/$tmp; proxy_temp_path $PWD/$tmp; fastcgi_temp_path $PWD/$tmp;
    uwsgi_temp_path $PWD/$tmp; scgi_temp_path $PWD/$tmp;
    server { listen $B:8080; root $PWD/$tmp/www; }
}
EOF
# nginx in a cgroup v2 directory of its own (the pods here are bare network namespaces), so the
# netobs-server observer can keep to it: its id (the directory's inode) goes in a cgroup rule.
cg2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
srv_cg= srv_cgid=
if [ -n "$cg2" ]; then
    srv_cg=$cg2/nobench-srv
    mkdir -p "$srv_cg"
    srv_cgid=$(stat -c %i "$srv_cg")
fi
# A shell joins the cgroup and then becomes nginx, so its master and the worker it forks start
# there; it joins before `ip netns exec`, whose fresh /sys has no cgroup mounts.
sh -c '[ -z "$1" ] || echo $$ > "$1/cgroup.procs"; exec ip netns exec "$2" nginx -c "$3"' sh "$srv_cg" "$b" "$PWD/$tmp/nginx.conf"
sleep 0.5
if [ -n "$srv_cg" ] && ! grep -qx "$(cat "$tmp/nginx.pid")" "$srv_cg/cgroup.procs"; then
    echo "bench: nginx is not in $srv_cg: no netobs-server run" >&2
    srv_cgid=
fi

# ---------------------------------------------------------------- observers
observer_pid=
interval=1   # the agent's flush interval, s
start_agent() {
    # Emptied first: the background job truncates it only once it runs, and the previous agent's
    # "collecting" must not pass for this one's (a loaded machine showed it).
    : > "$tmp/agent.err"
    "$agent" --standalone --interval "${interval}s" "$@" >"$tmp/agent.out" 2>"$tmp/agent.err" &
    observer_pid=$!
    for _ in $(seq 200); do grep -q "collecting" "$tmp/agent.err" && return; sleep 0.1; done
    echo "bench: agent did not start: $(cat "$tmp/agent.err")" >&2; exit 1
}
start_observer() {
    case "$1" in
        none) ;;
        netobs-server)
            # Only the nginx pod: the cgroup rule keeps other sockets' L4 flows out (the tracepoint
            # programs still run on every event of the node and check the rule); the cgroup_skb
            # programs (L7, which count UDP too) honour the rule too, but attached at nginx's
            # cgroup instead of the root they run on that pod's packets only, as on a node that
            # hosts the server but not the client.
            echo "{\"cgroups\": {\"mode\": \"include\", \"values\": [$srv_cgid]}}" > "$tmp/server-rules.json"
            start_agent --hooks auto --rules "$tmp/server-rules.json" --cgroup-root "$srv_cg" "${@:2}" ;;
        netobs|netobs-*)
            local hooks=auto; [ "$1" != netobs ] && hooks=${1#netobs-}
            start_agent --hooks "$hooks" "${@:2}" ;;
        bpftrace)
            : > "$tmp/bpftrace.out"   # as for the agent: no earlier "Attaching" to pass for this one
            bpftrace bench/peers/flows.bt >"$tmp/bpftrace.out" 2>"$tmp/bpftrace.err" &
            observer_pid=$!
            # It prints "Attaching" before it attaches: a second more.
            for _ in $(seq 600); do grep -q "^Attaching" "$tmp/bpftrace.out" && { sleep 1; return; }; sleep 0.1; done
            echo "bench: bpftrace did not start: $(cat "$tmp/bpftrace.err")" >&2; exit 1 ;;
        capture)
            # The packet-capture peer: every packet of pod b copied to user space, HTTP and DNS
            # decoded by tshark as it arrives.
            ip netns exec "$b" sh -c "exec tcpdump -i nobench1 -s 0 -U -w - 2>/dev/null |
                tshark -l -r - -Y 'http.request or http.response or dns' -T fields \
                    -e frame.time_epoch -e ip.src -e http.request.uri -e http.response.code -e dns.qry.name" \
                >"$tmp/capture.out" 2>"$tmp/capture.err" &
            observer_pid=$!
            sleep 2 ;;
    esac
}
stop_observer() {
    [ -n "$observer_pid" ] || return 0
    pkill -INT -P "$observer_pid" 2>/dev/null || true   # the capture pipeline's children
    kill -INT "$observer_pid" 2>/dev/null || true
    wait "$observer_pid" 2>/dev/null || true
    observer_pid=
}

# ---------------------------------------------------------------- workloads (one line each)
run_iperf() {
    ip netns exec "$a" iperf3 -c $B -t "$secs" -J |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'
}
run_sockperf() {
    # UDP ping-pong; prints p50 and p99 in µs.
    ip netns exec "$a" sockperf pp -i $B -p 11111 -t "$secs" 2>&1 |
        awk '/percentile 50.000 =/ {p50=$NF} /percentile 99.000 =/ {p99=$NF} END {print p50, p99}'
}
run_wrk() {
    # Requests/s, p99 in µs and the requests completed (HTTP exchanges), keep-alive connections
    # against nginx.
    ip netns exec "$a" wrk -t1 -c16 -d"${secs}s" --latency "http://$B:8080/" |
        awk 'function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; if (v ~ /s$/) return v*1e6; return v }
             /Requests\/sec/ {rps=$2} /^ +99%/ {p99=us($2)} / requests in / {n=$1} END {print rps, p99, n}'
}
# Waits for the agent's records: one flush interval + 0.5 s lets the records (and losses) of
# what just ran leave; two intervals + 0.5 s also covers an event counted just after a flush.
after_one_flush=$(awk -v i="$interval" 'BEGIN {print i + 0.5}')
after_two_flushes=$(awk -v i="$interval" 'BEGIN {print 2 * i + 0.5}')
# printf: awk's print rounds numbers past 2^31 to 6 digits (milliseconds of CPU lost).
busy_ns() { awk '/^cpu / {printf "%.0f\n", ($2+$3+$4+$7+$8+$9) * 1e9 / '"$(getconf CLK_TCK)"'}' /proc/stat; }
# The BPF programs a process holds, by id: other engineers' agents load programs of the same
# names on this machine, and bpftool here does not say whose a program is.
prog_ids() { grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }
# CPU time of a process (user + system), in ns.
process_ns() { awk '{printf "%.0f\n", ($14 + $15) * 1e9 / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }

observers=(none netobs netobs-server bpftrace capture)
[ -n "$srv_cgid" ] || { observers=(none netobs bpftrace capture); echo "bench: no cgroup v2 mount: no netobs-server run"; }
echo "bench: workload impact, $pairs rounds x ${#observers[@]} observers x 3 workloads x ${secs}s (netobs-server: wrk only)"
: > "$tmp/impact.tsv"
for round in $(seq "$pairs"); do
    for k in "${!observers[@]}"; do
        obs=${observers[$(( (k + round) % ${#observers[@]} ))]}
        start_observer "$obs"
        if [ "$obs" = netobs-server ]; then
            iperf_bps=- sock="- -"   # the variant is about the HTTP server end
        else
            iperf_bps=$(run_iperf); sock=$(run_sockperf)
        fi
        web=$(run_wrk)
        stop_observer
        echo "$round $obs $iperf_bps $sock $web" >> "$tmp/impact.tsv"
        echo "  round $round $obs: iperf3 $iperf_bps bit/s, sockperf p50/p99 $sock µs, wrk req/s p99 $web"
    done
done

# The observer's cost of HTTP alone (per exchange: wrk counts them): its programs and process in
# a window around wrk that opens once the previous workload's records have left and closes once
# wrk's have.
http_window() {
    sleep "$after_one_flush"
    bpftool prog show -j > "$1-before.json"
    local p0; p0=$(process_ns "$observer_pid")
    run_wrk > "$1.txt"
    sleep "$after_one_flush"
    echo "$p0 $(process_ns "$observer_pid")" > "$1-cpu.txt"
    bpftool prog show -j > "$1-after.json"
}

cost_rounds=3; [ "$quick" = 1 ] && cost_rounds=1
cost_observers=("${tiers[@]/#/netobs-}" bpftrace)
echo "bench: kernel cost per program (bpf_stats), $cost_rounds rounds x ${cost_observers[*]}"
sysctl -qw kernel.bpf_stats_enabled=1
"$tmp/baseline-loader" "$tmp/empty.bpf.o" $baseline_sections > "$tmp/baseline.out" & baseline_pid=$!; pids+=("$baseline_pid")
ip netns exec "$b" "$tmp/loadgen" sink tcp 7999 & pids+=($!)
sleep 0.5
for round in $(seq "$cost_rounds"); do
    for k in "${!cost_observers[@]}"; do
        obs=${cost_observers[$(( (k + round) % ${#cost_observers[@]} ))]}
        f="$tmp/cost-$obs-r$round"
        bpftool prog show -j > "$f-pre.json"   # the observer's programs are the new ones
        start_observer "$obs"
        prog_ids "$observer_pid" > "$f-ids.txt"
        bpftool prog show -j > "$f-before.json"
        before=$(busy_ns) observer_before=$(process_ns "$observer_pid")
        run_iperf >/dev/null; run_sockperf >/dev/null
        http_window "$f-wrk"
        ip netns exec "$a" "$tmp/loadgen" tcp $B 7999 2000 "$secs" >/dev/null
        # Busy CPU of the machine, and of the observer's own process (its user-space side).
        echo "$before $(busy_ns) $observer_before $(process_ns "$observer_pid")" > "$f-busy.txt"
        bpftool prog show -j > "$f-after.json"
        stop_observer
        echo "  round $round $obs done"
    done
done
kill "$baseline_pid"
sysctl -qw kernel.bpf_stats_enabled=0

echo "bench: L7 programs per packet (BPF_PROG_TEST_RUN)"
pin=/sys/fs/bpf/netobs_l7bench_$$
bpftool prog loadall "$l7obj" "$pin" type cgroup/skb
bench/l7_test_run.py "$pin" $(( quick ? 300 : 3000 )) > "$tmp/l7_test_run.json"
rm -rf "$pin"

echo "bench: capacity and loss against load (generator pinned to CPU 0)"
rates_udp="10000 30000 100000 300000 0" rates_tcp="500 1000 2000 5000 0"
[ "$quick" = 1 ] && rates_udp="10000 0" rates_tcp="1000 0"
# Loss windows do not overlap: after each step the load stops for two flush intervals + 0.5 s,
# so the step's records and counted losses (reported at the first flush after they happen) are
# out before the next step starts; report.py credits a step with the loss records stamped in
# [its t0, the next step's t0) (the last step: until load-end.txt).
# Capacity by observer CPU: bpf_stats on, and the observer's programs and process sampled around
# each step (its flushes included), so report.py divides the events recorded at the maximum rate
# by the CPU time the observer spent on them.
: > "$tmp/load.tsv"
sysctl -qw kernel.bpf_stats_enabled=1
bpftool prog show -j > "$tmp/load-pre.json"   # the observer's programs are the new ones
start_observer netobs
prog_ids "$observer_pid" > "$tmp/load-ids.txt"
sleep 1   # one smoke run missed a flow's first 0.9 s when its load began 0.2 s after start
step=0
for kind in udp tcp; do
    rates=$rates_udp; [ "$kind" = tcp ] && rates=$rates_tcp
    for rate in $rates; do
        step=$((step + 1)); port=$((7000 + step)) f="$tmp/load-s$step"
        ip netns exec "$b" "$tmp/loadgen" sink "$kind" "$port" & sink=$!
        sleep 0.2
        bpftool prog show -j > "$f-before.json"
        p0=$(process_ns "$observer_pid") t0=$(date +%s%N)
        line=$(ip netns exec "$a" taskset -c 0 "$tmp/loadgen" "$kind" $B "$port" "$rate" "$load_secs")
        t1=$(date +%s%N)
        kill "$sink"; wait "$sink" 2>/dev/null || true
        sleep "$after_two_flushes"
        echo "$p0 $(process_ns "$observer_pid")" > "$f-cpu.txt"
        bpftool prog show -j > "$f-after.json"
        echo "$kind $rate $port $t0 $t1 $line" >> "$tmp/load.tsv"
        echo "  $kind at $([ "$rate" = 0 ] && echo max || echo "$rate")/s: $line"
    done
done
date +%s%N > "$tmp/load-end.txt"
stop_observer
sysctl -qw kernel.bpf_stats_enabled=0
cp "$tmp/agent.out" "$tmp/load-agent.out"

echo "bench: agent CPU and RSS holding idle TCP connections: $flows"
: > "$tmp/footprint.tsv"
for n in $flows; do
    start_observer netobs --max-tcp-flows $((2 * n + 4096))   # both ends are local sockets
    workers=$(( (n + 15999) / 16000 ))   # one process per 16k sockets: the open-file limit
    ip netns exec "$b" /usr/bin/python3 bench/hold_flows.py server $B 20000 "$workers" & server=$!
    sleep 1
    ip netns exec "$a" /usr/bin/python3 bench/hold_flows.py client $B 20000 "$workers" "$n" > "$tmp/hold-client.out" & client=$!
    while kill -0 "$client" 2>/dev/null && ! grep -q ready "$tmp/hold-client.out"; do sleep 0.2; done
    grep -q ready "$tmp/hold-client.out" || { echo "bench: $n connections did not open" >&2; exit 1; }
    sleep 2
    read -r t0 < <(awk '{print $14 + $15}' "/proc/$observer_pid/stat")
    sleep "$secs"
    read -r t1 < <(awk '{print $14 + $15}' "/proc/$observer_pid/stat")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$observer_pid/status")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$observer_pid/status")
    echo "$n $(( (t1 - t0) )) $(getconf CLK_TCK) $secs $rss $hwm" >> "$tmp/footprint.tsv"
    echo "  $n connections: agent CPU $(( (t1 - t0) )) ticks in ${secs}s, RSS ${rss} KiB"
    kill "$client" "$server"; wait "$client" "$server" 2>/dev/null || true
    stop_observer
    grep '"kind":"loss"' "$tmp/agent.out" > "$tmp/footprint-$n-loss.out" || true
done

echo "bench: the controller with simulated agents, and agent -> controller -> consumer"
if [ "$quick" = 1 ]; then scripts/bench-fleet.sh 100 5 50; else scripts/bench-fleet.sh 1000 20 50; fi

/usr/bin/python3 bench/report.py "$tmp" "$out" "$pairs" "$secs" "$quick"
