#!/usr/bin/python3
"""Turns the raw files of scripts/bench.sh into bench/results.json, bench/results.md and PNG
plots (gnuplot). Pure arithmetic on what the run measured; every goal is stated beside its
figure, met or not.
usage: report.py TMP_DIR OUT_DIR PAIRS SECONDS QUICK"""
import datetime, json, os, platform, statistics, subprocess, sys

tmp, out, pairs, secs, quick = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
GOALS = {"tcp_throughput_percent": 0.3, "http_rps_percent": 0.5, "p99_percent": 1.0,
         "kernel_events_per_second_per_core": 10e6, "cheaper_than_bpftrace": 5.0}
# netobs programs (btf and portable tiers) and the hook each runs on: the tracepoints the
# bpftrace peer attaches too.
NETOBS_HOOKS = {"netobs_tcp_state": "inet_sock_set_state", "netobs_send": "sock_send_length",
                "netobs_recv": "sock_recv_length", "netobs_tcp_retransmit": "tcp_retransmit_skb",
                "netobs_drop": "kfree_skb", "netobs_tcp_destroy": "tcp_destroy_sock",
                "netobs_rt_state": "inet_sock_set_state", "netobs_rt_send": "sock_send_length",
                "netobs_rt_recv": "sock_recv_length", "netobs_rt_retx": "tcp_retransmit_skb",
                "netobs_rt_drop": "kfree_skb", "netobs_rt_destroy": "tcp_destroy_sock"}
SHARED = set(NETOBS_HOOKS.values())
GOALS["portable_vs_btf_times"] = 1.5


def read_lines(name):
    path = os.path.join(tmp, name)
    return [l.split() for l in open(path) if l.strip()] if os.path.exists(path) else []


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- workload impact
METRICS = [("iperf3_bps", "higher", "tcp_throughput_percent"), ("sockperf_p50_us", "lower", None),
           ("sockperf_p99_us", "lower", "p99_percent"), ("wrk_rps", "higher", "http_rps_percent"),
           ("wrk_p99_us", "lower", "p99_percent")]
rows = {}
for f in read_lines("impact.tsv"):
    rnd, obs = int(f[0]), f[1]
    rows.setdefault(rnd, {})[obs] = dict(zip([m[0] for m in METRICS], map(num, f[2:7])))
observers = ["netobs", "bpftrace", "capture"]
impact = {"rounds": len(rows), "seconds_per_run": secs, "observers": {}}
for obs in ["none"] + observers:
    entry = {m: {"values": [rows[r].get(obs, {}).get(m) for r in sorted(rows)]} for m, _, _ in METRICS}
    for m, better, goal in METRICS:
        e = entry[m]
        e["median"] = median(e["values"])
        if obs == "none":
            continue
        ratios = [rows[r][obs][m] / rows[r]["none"][m] for r in rows
                  if rows[r].get(obs, {}).get(m) and rows[r].get("none", {}).get(m)]
        e["median_ratio_to_none"] = median(ratios)
        if e["median_ratio_to_none"] is not None:
            r = e["median_ratio_to_none"]
            e["cost_percent"] = round(100 * ((1 - r) if better == "higher" else (r - 1)), 2)
            if goal and obs == "netobs":
                e["goal_percent"] = GOALS[goal]
                e["goal_met"] = e["cost_percent"] <= GOALS[goal]
    impact["observers"][obs] = entry


# ---------------------------------------------------------------- kernel cost (bpf_stats)
def progs(name):
    path = os.path.join(tmp, name)
    return {p["id"]: p for p in json.load(open(path))} if os.path.exists(path) else {}


tier_line = (read_lines("tiers.txt") or [["?"]])[0]
auto_tier, tiers = tier_line[0], tier_line[1:]
cost_observers = [f"netobs-{t}" for t in tiers] + ["bpftrace"]
rounds_run = sorted({int(f.split("-r")[-1].split("-")[0]) for f in os.listdir(tmp) if f.startswith("cost-") and "-r" in f})


def cost_pass(obs, rnd):
    """Programs of one observer in one round: invocations and time between its start and stop."""
    pre, before, after = (progs(f"cost-{obs}-r{rnd}-{when}.json") for when in ("pre", "before", "after"))
    busy = read_lines(f"cost-{obs}-r{rnd}-busy.txt")
    table = []
    for pid, p in after.items():
        name = p.get("name", "")
        if pid in pre:
            continue  # not the observer's: it was loaded before the observer started
        if obs.startswith("netobs"):
            hook = NETOBS_HOOKS.get(name, name)
        else:  # bpftrace names a program by its probe, cut to 15 characters
            hook = next((tp for tp in SHARED if name and tp.startswith(name)), name)
        cnt = p.get("run_cnt", 0) - before.get(pid, {}).get("run_cnt", 0)
        ns = p.get("run_time_ns", 0) - before.get(pid, {}).get("run_time_ns", 0)
        if cnt > 0:
            table.append({"program": name, "hook": hook, "invocations": cnt, "total_ns": ns})
    base = {p["name"][len("base_"):]: p["run_time_ns"] / p["run_cnt"]
            for p in after.values() if p.get("name", "").startswith("base_") and p.get("run_cnt")}
    busy_ns = float(busy[0][1]) - float(busy[0][0]) if busy else None
    process_ns = float(busy[0][3]) - float(busy[0][2]) if busy and len(busy[0]) >= 4 else None
    return table, base, busy_ns, process_ns


def shared_ns(table):
    shared = [t for t in table if t["hook"] in SHARED]
    cnt = sum(t["invocations"] for t in shared)
    return sum(t["total_ns"] for t in shared) / cnt if cnt else None


cost = {}
per_round_shared = {}
for obs in cost_observers:
    pooled, floors, busy_total, process_total = {}, {}, 0.0, 0.0
    per_round_shared[obs] = {}
    for rnd in rounds_run:
        table, base, busy_ns, process_ns = cost_pass(obs, rnd)
        per_round_shared[obs][rnd] = shared_ns(table)
        for t in table:
            e = pooled.setdefault(t["program"], {"program": t["program"], "hook": t["hook"], "invocations": 0, "total_ns": 0})
            e["invocations"] += t["invocations"]
            e["total_ns"] += t["total_ns"]
        for k, v in base.items():
            floors.setdefault(k, []).append(v)
        busy_total += busy_ns or 0
        process_total += process_ns or 0
    table = list(pooled.values())
    for t in table:
        t["ns_per_invocation"] = round(t["total_ns"] / t["invocations"], 1)
        floor = median(floors.get(t["program"][len("netobs_"):], [])) if obs.startswith("netobs") else None
        t["empty_program_ns"] = round(floor, 1) if floor else None
    total_ns = sum(t["total_ns"] for t in table)
    total_cnt = sum(t["invocations"] for t in table)
    cost[obs] = {"programs": sorted(table, key=lambda t: -t["invocations"]), "invocations": total_cnt,
                 "bpf_ns": total_ns, "busy_cpu_ns": busy_total or None, "rounds": len(rounds_run),
                 "bpf_share_of_busy_cpu_percent": round(100 * total_ns / busy_total, 3) if busy_total else None,
                 "process_share_of_busy_cpu_percent": round(100 * process_total / busy_total, 3) if busy_total else None,
                 "ns_per_invocation": round(total_ns / total_cnt, 1) if total_cnt else None,
                 "shared_tracepoints_ns_per_invocation": round(shared_ns(table), 1) if shared_ns(table) else None}
main_obs = f"netobs-{auto_tier}"
n_ns = cost.get(main_obs, {}).get("shared_tracepoints_ns_per_invocation")
b_ns = cost.get("bpftrace", {}).get("shared_tracepoints_ns_per_invocation")
per_event = {"tier": auto_tier, "netobs_ns": n_ns, "bpftrace_ns": b_ns, "goal_times": GOALS["cheaper_than_bpftrace"],
             "times_cheaper": round(b_ns / n_ns, 2) if n_ns and b_ns else None}
per_event["goal_met"] = per_event["times_cheaper"] is not None and per_event["times_cheaper"] >= GOALS["cheaper_than_bpftrace"]

# The portable tier against the btf tier, on the same tracepoints, round by round (A/B interleaved).
tier_compare = {"auto_tier": auto_tier, "tiers_measured": tiers,
                "shared_tracepoints_ns": {t: cost.get(f"netobs-{t}", {}).get("shared_tracepoints_ns_per_invocation") for t in tiers}}
if "btf" in tiers and "portable" in tiers:
    ratios = [per_round_shared["netobs-portable"][r] / per_round_shared["netobs-btf"][r] for r in rounds_run
              if per_round_shared["netobs-portable"].get(r) and per_round_shared["netobs-btf"].get(r)]
    tier_compare["portable_vs_btf_median_ratio"] = round(median(ratios), 3) if ratios else None
    tier_compare["goal_times"] = GOALS["portable_vs_btf_times"]
    tier_compare["goal_met"] = bool(ratios) and median(ratios) <= GOALS["portable_vs_btf_times"]
else:
    tier_compare["note"] = ("only the portable tier loads here: the kernel refuses BPF tracing programs, so "
                            "there is no btf tier to compare with on this host")

# ---------------------------------------------------------------- L7 per packet
l7 = json.load(open(os.path.join(tmp, "l7_test_run.json"))) if os.path.exists(os.path.join(tmp, "l7_test_run.json")) else {}

# ---------------------------------------------------------------- capacity, loss against load
records = []
path = os.path.join(tmp, "load-agent.out")
if os.path.exists(path):
    for line in open(path):
        try:
            records.append(json.loads(line))
        except ValueError:
            pass
LOSS_KIND = {"udp": ("udp_flow_map_full", "udp_peer_map_full"),
             "tcp": ("tcp_flow_table_full", "closed_flow_ringbuf_full", "tcp_drop_map_full")}
load = []
for f in read_lines("load.tsv"):
    kind, rate, port, t0, t1 = f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4])
    offered, failed, seconds = int(f[6]), int(f[8]), float(f[10])
    mine = [r for r in records if r.get("kind") == kind and r.get("dst_port") == port and r.get("role") != "server"]
    if kind == "udp":
        recorded = sum(r.get("udp_tx_packets", 0) for r in mine)
    else:  # a client port is reused within a run: count connections by their ESTABLISHED transition
        recorded = sum(1 for r in mine if r.get("tcp_new_state") == "ESTABLISHED" and r.get("tcp_old_state") == "SYN_SENT")
    counted = sum(r.get("count", 0) for r in records if r.get("kind") == "loss"
                  and r.get("reason") in LOSS_KIND[kind] and t0 <= r.get("ts_ns", 0) <= t1 + 2_000_000_000)
    load.append({"kind": kind, "target_rate": rate or "max", "offered": offered, "failed": failed,
                 "offered_rate": round(offered / seconds), "recorded": recorded, "counted_loss": counted,
                 "uncounted_loss": max(0, offered - recorded - counted), "over_recorded": max(0, recorded - offered)})
best = cost.get(main_obs, {}).get("ns_per_invocation")
capacity = {
    "kernel_events_per_second_per_core_bpf_stats": round(1e9 / best) if best else None,
    "note": "1e9 / the netobs programs' mean ns per invocation under the workloads (program time "
            "only, bpf_stats); the generator rows below are whole-stack rates on one pinned CPU "
            "(system calls, veth, both ends' stacks), which bound what one core can offer.",
    "goal": GOALS["kernel_events_per_second_per_core"],
    "max_offered_rate": {k: max((l["offered_rate"] for l in load if l["kind"] == k), default=None) for k in ("udp", "tcp")},
}
capacity["goal_met"] = bool(capacity["kernel_events_per_second_per_core_bpf_stats"]) and \
    capacity["kernel_events_per_second_per_core_bpf_stats"] >= capacity["goal"]
zero_uncounted = all(l["uncounted_loss"] == 0 for l in load) if load else None

# ---------------------------------------------------------------- agent footprint
footprint = []
for f in read_lines("footprint.tsv"):
    n, ticks, hz, s, rss, hwm = int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5])
    losses = [json.loads(l) for l in open(os.path.join(tmp, f"footprint-{n}-loss.out"))] \
        if os.path.exists(os.path.join(tmp, f"footprint-{n}-loss.out")) else []
    footprint.append({"flows": n, "cpu_percent_of_one_core": round(100 * ticks / hz / s, 2),
                      "rss_mib": round(rss / 1024, 1), "peak_rss_mib": round(hwm / 1024, 1),
                      "counted_loss": sum(r.get("count", 0) for r in losses)})

# ---------------------------------------------------------------- controller (scripts/bench-fleet.sh)
fleet_path = os.path.join(out, "results-fleet.json")
controller = json.load(open(fleet_path)) if os.path.exists(fleet_path) else None

result = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "kernel": platform.release(), "cpus": os.cpu_count(), "quick_smoke_run": quick,
    "goals": GOALS, "workload_impact": impact, "kernel_cost": cost, "hook_tiers": tier_compare,
    "per_event_vs_bpftrace": per_event,
    "l7_test_run": l7, "capacity": capacity, "loss_against_load": load,
    "zero_uncounted_loss": zero_uncounted, "agent_footprint": footprint, "controller": controller,
}
json.dump(result, open(os.path.join(out, "results.json"), "w"), indent=2)


# ---------------------------------------------------------------- plots (gnuplot)
def plot(name, script, data):
    dat = os.path.join(tmp, name + ".dat")
    open(dat, "w").write(data)
    png = os.path.join(out, name + ".png")
    full = f'set terminal pngcairo size 900,500 font ",10"\nset output "{png}"\n' + script.replace("DATA", dat)
    try:
        subprocess.run(["gnuplot"], input=full.encode(), check=True, capture_output=True)
        return os.path.basename(png)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: plot {name} failed: {e}", file=sys.stderr)
        return None


pngs = []
rows_dat = ""
for obs in observers:
    vals = [impact["observers"][obs][m].get("cost_percent") for m, _, _ in METRICS]
    rows_dat += obs + " " + " ".join("nan" if v is None else str(v) for v in vals) + "\n"
pngs.append(plot("impact", """set title "Workload cost per observer (% worse than no observer, median of per-round ratios)"
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8; set boxwidth 0.9
set ylabel "% worse"; set grid y; set key top left
plot "DATA" using 2:xtic(1) title "iperf3 throughput", "" using 3 title "sockperf p50", "" using 4 title "sockperf p99", \\
     "" using 5 title "wrk req/s", "" using 6 title "wrk p99"
""", rows_dat))
prog_dat = "".join(f'"{p["program"]}" {p["ns_per_invocation"]}\n' for obs in cost_observers
                   for p in cost.get(obs, {}).get("programs", []))
if prog_dat:
    pngs.append(plot("kernel_cost", """set title "ns per invocation (bpf_stats)"
set style data histograms; set style fill solid 0.8; set boxwidth 0.8; set xtics rotate by -40; set grid y
set ylabel "ns"; unset key
plot "DATA" using 2:xtic(1)
""", prog_dat))
for kind in ("udp", "tcp"):
    rows_k = [l for l in load if l["kind"] == kind]
    if rows_k:
        dat = "".join(f'{l["offered_rate"]} {l["offered"]} {l["recorded"]} {l["counted_loss"]} {l["uncounted_loss"]}\n' for l in rows_k)
        pngs.append(plot(f"load_{kind}", f"""set title "{kind}: offered vs recorded events as the rate climbs (generator on one CPU)"
set logscale x; set xlabel "offered events/s"; set ylabel "events"; set grid; set key top left
plot "DATA" using 1:2 with linespoints title "offered", "" using 1:3 with linespoints title "recorded", \\
     "" using 1:4 with linespoints title "counted loss", "" using 1:5 with linespoints title "uncounted loss"
""", dat))
if footprint:
    dat = "".join(f'{f["flows"]} {f["cpu_percent_of_one_core"]} {f["rss_mib"]}\n' for f in footprint)
    pngs.append(plot("footprint", """set title "Agent CPU and RSS holding idle TCP connections"
set logscale x; set xlabel "connections"; set ylabel "CPU % of one core"; set y2label "RSS MiB"
set ytics nomirror; set y2tics; set grid; set key top left
plot "DATA" using 1:2 with linespoints title "CPU %", "" using 1:3 axes x1y2 with linespoints title "RSS MiB"
""", dat))

# ---------------------------------------------------------------- markdown
def fmt(v, nd=2):
    return "–" if v is None else (f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}")


def met(ok):
    return "met" if ok else "**NOT met**"


md = [f"# netobs benchmark ({result['date']}, kernel {result['kernel']}, {result['cpus']} CPUs)", ""]
if quick:
    md += ["> **Quick smoke run** (`--quick`): too few rounds and seconds for the figures to mean anything;",
           "> it proves the run works end to end. Measure with the defaults on a quiet machine.", ""]
md += ["## Workload impact between two lab pods", "",
       f"{impact['rounds']} rounds; each runs every observer once (rotating order) with iperf3, sockperf "
       f"ping-pong and wrk (16 connections) against nginx, {secs} s each. Cost = median of per-round "
       f"ratios to no observer, in % worse. netobs runs with `--hooks auto`: the {auto_tier} tier on this host.", "",
       "| observer | iperf3 Gbit/s | TCP throughput | sockperf p50 µs | p50 | sockperf p99 µs | p99 | wrk req/s | req/s | wrk p99 µs | p99 |",
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for obs in ["none"] + observers:
    e = impact["observers"][obs]
    cells = []
    for m, _, _ in METRICS:
        med = e[m]["median"]
        cells.append(fmt(med / 1e9 if (m == "iperf3_bps" and med) else med))
        cells.append("" if obs == "none" else fmt(e[m].get("cost_percent")) + "%")
    md.append(f"| {obs} | " + " | ".join(cells) + " |")
n = impact["observers"]["netobs"]
md += ["", "Goals for the netobs agent: " + "; ".join(
    f"{m}: {fmt(n[m].get('cost_percent'))}% (goal ≤ {n[m]['goal_percent']}%) {met(n[m]['goal_met'])}"
    for m, _, g in METRICS if g and "goal_met" in n[m]) + ".", ""]
md += ["## Kernel cost (bpf_stats)", "",
       f"{len(rounds_run)} rounds, each running every observer once in a rotating order: the three workloads "
       "plus 2,000 short connections/s. netobs runs once per hook tier the kernel loads "
       f"({', '.join(tiers)}; `--hooks auto` picks {auto_tier} here). The empty programs (bench/baseline) on the "
       "same hooks show what bpf_stats measures for doing nothing.", "",
       "| observer | program | hook | invocations | ns/invocation | empty program ns |", "|---|---|---|---:|---:|---:|"]
for obs in cost_observers:
    for p in cost.get(obs, {}).get("programs", []):
        md.append(f"| {obs} | {p['program']} | {p['hook']} | {p['invocations']:,} | {p['ns_per_invocation']} | {fmt(p['empty_program_ns'], 1)} |")
md += [""]
for obs in cost_observers:
    c = cost.get(obs, {})
    md.append(f"- {obs}: {fmt(c.get('ns_per_invocation'), 1)} ns per invocation over all its programs; BPF time "
              f"{fmt(c.get('bpf_share_of_busy_cpu_percent'), 3)}% of the busy CPU time of the passes; its own "
              f"process (user space and system calls) {fmt(c.get('process_share_of_busy_cpu_percent'), 3)}%.")
md += [f"- Per event on the tracepoints both attach: netobs ({auto_tier} tier) {fmt(n_ns, 1)} ns, bpftrace {fmt(b_ns, 1)} ns: "
       f"{fmt(per_event['times_cheaper'])}× cheaper (goal ≥ {GOALS['cheaper_than_bpftrace']}×) {met(per_event['goal_met'])}."]
shared = tier_compare["shared_tracepoints_ns"]
if "portable_vs_btf_median_ratio" in tier_compare:
    md += [f"- Hook tiers on the same tracepoints: btf {fmt(shared.get('btf'), 1)} ns, portable {fmt(shared.get('portable'), 1)} ns "
           f"per invocation; portable/btf {fmt(tier_compare['portable_vs_btf_median_ratio'], 3)} (median of per-round ratios, "
           f"goal ≤ {GOALS['portable_vs_btf_times']}) {met(tier_compare['goal_met'])}."]
else:
    md += [f"- Hook tiers: portable {fmt(shared.get('portable'), 1)} ns per invocation on the shared tracepoints; "
           + tier_compare["note"] + "."]
md += [""]
if l7:
    md += ["## L7 programs per packet (BPF_PROG_TEST_RUN)", "", "| packet | calls | median ns | mean ns |", "|---|---:|---:|---:|"]
    md += [f"| {k} | {v['calls']:,} | {v.get('median_ns', '')} | {v['mean_ns']} |" for k, v in l7.items()]
    md += ["", "bulk_tcp_data: a connection neither HTTP nor DNS after its first segments (the iperf3 case): "
           "the socket-storage fast path.", ""]
md += ["## Capacity and loss against load", "",
       f"Kernel side: {fmt(capacity['kernel_events_per_second_per_core_bpf_stats'])} events/s per core from the mean "
       f"program time (goal ≥ {GOALS['kernel_events_per_second_per_core']:,.0f}) {met(capacity['goal_met'])}. "
       + capacity["note"], "",
       "| events | target/s | offered | offered/s | recorded | counted loss | uncounted loss |", "|---|---:|---:|---:|---:|---:|---:|"]
md += [f"| {l['kind']} | {l['target_rate']} | {l['offered']:,} | {l['offered_rate']:,} | {l['recorded']:,} | {l['counted_loss']} | {l['uncounted_loss']} |" for l in load]
md += ["", f"Zero uncounted loss: {met(zero_uncounted) if zero_uncounted is not None else '–'} "
       "(udp: datagrams sent vs the agent's udp_tx_packets; tcp: connections made vs client SYN_SENT>ESTABLISHED records).", ""]
md += ["## Agent footprint holding idle TCP connections", "",
       "| connections | CPU % of one core | RSS MiB | peak RSS MiB | counted loss |", "|---:|---:|---:|---:|---:|"]
md += [f"| {f['flows']:,} | {f['cpu_percent_of_one_core']} | {f['rss_mib']} | {f['peak_rss_mib']} | {f['counted_loss']} |" for f in footprint]
md += ["", "Each connection counts twice on this node (both ends are local sockets).", ""]
if controller:
    f, p = controller["fleet"], controller["pipeline"]
    md += ["## Controller: 1,000 agents, and agent → controller → consumer", "",
           "The release `netobs controller` in its own process (durable log fsynced before each ack, live "
           "analysis on); simulated agents (the real uplink, one certificate each) and one consumer over "
           "mutual TLS on loopback, on the same cores (scripts/bench-fleet.sh).", "",
           "| figure | value |", "|---|---:|",
           f"| agents connected | {f['agents']:,} (in {f['connect_seconds']} s) |",
           f"| controller CPU, agents idle | {f['controller_cpu_percent_of_one_core_idle']}% of one core |",
           f"| controller CPU, {f['offered_records_per_second']:,} records/s offered | {f['controller_cpu_percent_of_one_core_loaded']}% of one core |",
           f"| controller RSS idle / loaded / peak | {f['controller_rss_mib_idle']} / {f['controller_rss_mib_loaded']} / {f['controller_peak_rss_mib']} MiB |",
           f"| fleet records delivered / counted drops / submitted | {f['records_delivered']:,} / {f['records_dropped_counted']:,} / {f['records_submitted']:,} |",
           f"| agent → controller → consumer, 4 agents at full speed | {p['records_per_second']:,} records/s |",
           f"| controller CPU per record (pipeline) | {p['controller_cpu_ns_per_record']:,} ns |",
           f"| pipeline records delivered / counted drops / sent | {p['records_delivered']:,} / {p['records_dropped_counted']:,} / {p['records']:,} |",
           ""]
else:
    md += ["## Controller", "", "Not measured in this run: bench/results-fleet.json is missing (scripts/bench-fleet.sh).", ""]
md += [f"![{p}]({p})" for p in pngs if p]
open(os.path.join(out, "results.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
