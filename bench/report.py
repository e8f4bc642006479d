#!/usr/bin/python3
"""Turns the raw files of scripts/bench.sh into bench/results.json, bench/results.md and PNG
plots (gnuplot). Pure arithmetic on what the run measured; every goal is stated beside its
figure, met, not met or not measured.
usage: report.py TMP_DIR OUT_DIR PAIRS SECONDS QUICK"""
import datetime, json, math, os, platform, statistics, subprocess, sys

# The goals of issue 14 (this 2-core machine, A/B interleaved) and the older ones still standing.
GOALS = {
    "tcp_throughput_percent": 0.5, "sockperf_p50_percent": 3.0, "sockperf_p99_percent": 3.0,
    "http_rps_percent": 1.0, "http_p99_percent": 3.0,
    "observer_ns_per_http_exchange": 1000.0, "observer_ns_per_kernel_event": 100.0,
    "idle_100k_agent_cpu_percent_of_one_core": 2.0, "idle_100k_counted_loss": 0,
    "short_connections_at_max_loss": 0,
    "kernel_events_per_second_per_core": 10e6, "cheaper_than_bpftrace": 5.0, "portable_vs_btf_times": 1.5,
}
# netobs programs (btf and portable tiers) and the hook each runs on: the tracepoints the
# bpftrace peer attaches too.
NETOBS_HOOKS = {"netobs_tcp_state": "inet_sock_set_state", "netobs_send": "sock_send_length",
                "netobs_recv": "sock_recv_length", "netobs_tcp_retransmit": "tcp_retransmit_skb",
                "netobs_drop": "kfree_skb", "netobs_tcp_destroy": "tcp_destroy_sock",
                "netobs_rt_state": "inet_sock_set_state", "netobs_rt_send": "sock_send_length",
                "netobs_rt_recv": "sock_recv_length", "netobs_rt_retx": "tcp_retransmit_skb",
                "netobs_rt_drop": "kfree_skb", "netobs_rt_destroy": "tcp_destroy_sock"}
SHARED = set(NETOBS_HOOKS.values())
# The empty baseline programs (bench/baseline): they run on every event of the shared
# tracepoints whatever the observer attaches, so they count the kernel events of a pass.
BASE_HOOKS = {"base_send": "sock_send_length", "base_recv": "sock_recv_length",
              "base_tcp_state": "inet_sock_set_state", "base_tcp_destroy": "tcp_destroy_sock",
              "base_tcp_retransmit": "tcp_retransmit_skb", "base_drop": "kfree_skb",
              "base_rt_send": "sock_send_length", "base_rt_recv": "sock_recv_length",
              "base_rt_state": "inet_sock_set_state", "base_rt_destroy": "tcp_destroy_sock",
              "base_rt_retx": "tcp_retransmit_skb", "base_rt_drop": "kfree_skb"}
# Loss reasons that can take away what the loss check counts, per kind: udp counts datagrams at
# the sending socket; tcp counts connections by the client's SYN_SENT>ESTABLISHED record.
LOSS_REASONS = {"udp": ("udp_flow_map_full", "udp_peer_map_full"),
                "tcp": ("tcp_flow_table_full", "tcp_closed_flow_overwritten", "tcp_transition_ring_overwritten")}
# Counted by the agent but not a loss: the closed flow stays in the map and the next read takes it.
DEFERRED_REASONS = {"udp": (), "tcp": ("closed_flow_ringbuf_full",)}
IMPACT_OBSERVERS = ["netobs", "netobs-server", "bpftrace", "capture"]
METRICS = [("iperf3_bps", "higher", "tcp_throughput_percent"), ("sockperf_p50_us", "lower", "sockperf_p50_percent"),
           ("sockperf_p99_us", "lower", "sockperf_p99_percent"), ("wrk_rps", "higher", "http_rps_percent"),
           ("wrk_p99_us", "lower", "http_p99_percent")]


# ---------------------------------------------------------------- reading
def read_lines(tmp, name):
    path = os.path.join(tmp, name)
    return [l.split() for l in open(path) if l.strip()] if os.path.exists(path) else []


def read_json(path):
    return json.load(open(path)) if os.path.exists(path) else None


def progs(tmp, name):
    """bpftool prog show -j, by program id ({} when the file is missing)."""
    return {p["id"]: p for p in read_json(os.path.join(tmp, name)) or []}


def num(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b, nd=1):
    return round(a / b, nd) if a is not None and b else None


def cpu_pair(tmp, name):
    """(before, after) ns from a file of two numbers, or None."""
    lines = read_lines(tmp, name)
    return (float(lines[0][0]), float(lines[0][1])) if lines and len(lines[0]) >= 2 else None


# ---------------------------------------------------------------- workload impact
def workload_impact(tmp, secs):
    rows = {}
    for f in read_lines(tmp, "impact.tsv"):
        rows.setdefault(int(f[0]), {})[f[1]] = dict(zip([m[0] for m in METRICS], map(num, f[2:7])))
    present = [o for o in IMPACT_OBSERVERS if any(o in r for r in rows.values())]
    impact = {"rounds": len(rows), "seconds_per_run": secs, "observers": {}}
    for obs in ["none"] + present:
        entry = {}
        for m, better, goal in METRICS:
            e = entry[m] = {"values": [rows[r].get(obs, {}).get(m) for r in sorted(rows)]}
            e["median"] = median(e["values"])
            if obs == "none":
                continue
            ratios = [rows[r][obs][m] / rows[r]["none"][m] for r in rows
                      if rows[r].get(obs, {}).get(m) and rows[r].get("none", {}).get(m)]
            r = median(ratios)
            if r is None:
                continue
            e["median_ratio_to_none"] = r
            e["cost_percent"] = round(100 * ((1 - r) if better == "higher" else (r - 1)), 2)
            if obs == "netobs":  # the goals are for the agent observing both ends
                e["goal_percent"] = GOALS[goal]
                e["goal_met"] = e["cost_percent"] <= GOALS[goal]
        impact["observers"][obs] = entry
    if "netobs-server" in present:
        impact["server_variant"] = (
            "netobs-server: the agent observing only the nginx pod (wrk only). L4: a cgroup rule (--rules, "
            "cgroups include nginx's cgroup v2 id) keeps the client's flows out; the tracepoint programs still "
            "run on every event of the node and check the rule for sockets without a flow. L7: the agent's "
            "cgroup_skb programs (which also count UDP flows) check the rule too, and are attached at "
            "nginx's cgroup (--cgroup-root) so they run on the server's packets only, as on a node that hosts "
            "the server but not the client.")
    return impact


# ---------------------------------------------------------------- kernel cost (bpf_stats)
def program_deltas(ids, before, after):
    """Invocations and ns of programs `ids` between two snapshots."""
    out = []
    for pid in ids:
        p, b = after.get(pid), before.get(pid, {})
        if p is None:
            continue
        out.append({"id": pid, "program": p.get("name", ""), "invocations": p.get("run_cnt", 0) - b.get("run_cnt", 0),
                    "total_ns": p.get("run_time_ns", 0) - b.get("run_time_ns", 0)})
    return out


def observer_ids(tmp, ids_file, pre, before):
    """The observer's programs: the ids its process held once it started (bench.sh's prog_ids);
    for runs without that file, those loaded after `pre` and there once it started."""
    held = read_lines(tmp, ids_file)
    if held:
        return [int(f[0]) for f in held if int(f[0]) in before]
    return [pid for pid in before if pid not in pre]


def kernel_events(before, after):
    """Events on the shared tracepoints between two snapshots, from the empty baseline programs
    (one count per hook where both the tp_btf and the raw_tp baselines run)."""
    per_hook = {}
    for pid, p in after.items():
        hook = BASE_HOOKS.get(p.get("name", ""))
        if hook and pid in before:
            n = p.get("run_cnt", 0) - before[pid].get("run_cnt", 0)
            per_hook[hook] = max(per_hook.get(hook, 0), n)
    return per_hook


def hook_of(obs, name):
    if obs.startswith("netobs"):
        return NETOBS_HOOKS.get(name, name)
    # bpftrace names a program by its probe, cut to 15 characters
    return next((tp for tp in SHARED if name and tp.startswith(name)), name)


def cost_pass(tmp, obs, rnd):
    """One observer in one round: its programs over the pass, the baselines, the pass's busy and
    process CPU, the kernel events, and the window around wrk."""
    f = f"cost-{obs}-r{rnd}"
    pre, before, after = (progs(tmp, f"{f}-{w}.json") for w in ("pre", "before", "after"))
    ids = observer_ids(tmp, f"{f}-ids.txt", pre, before)
    table = [dict(t, hook=hook_of(obs, t["program"])) for t in program_deltas(ids, before, after) if t["invocations"] > 0]
    base = {p["name"][len("base_"):]: p["run_time_ns"] / p["run_cnt"]
            for p in after.values() if p.get("name", "").startswith("base_") and p.get("run_cnt")}
    busy = read_lines(tmp, f"{f}-busy.txt")
    busy_ns = float(busy[0][1]) - float(busy[0][0]) if busy else None
    process_ns = float(busy[0][3]) - float(busy[0][2]) if busy and len(busy[0]) >= 4 else None
    return {"table": table, "base": base, "busy_ns": busy_ns, "process_ns": process_ns, "programs_found": bool(ids),
            "events": sum(kernel_events(before, after).values()) or None,
            "http": http_window(tmp, f, ids) if ids else None}


def http_window(tmp, f, ids):
    """The observer's BPF and process ns around wrk, and wrk's requests (None if not measured)."""
    wrk, cpu = read_lines(tmp, f"{f}-wrk.txt"), cpu_pair(tmp, f"{f}-wrk-cpu.txt")
    before, after = progs(tmp, f"{f}-wrk-before.json"), progs(tmp, f"{f}-wrk-after.json")
    if not wrk or len(wrk[0]) < 3 or not cpu or not after:
        return None
    return {"requests": int(float(wrk[0][2])), "bpf_ns": sum(t["total_ns"] for t in program_deltas(ids, before, after)),
            "process_ns": cpu[1] - cpu[0]}


def shared_ns(table):
    shared = [t for t in table if t["hook"] in SHARED]
    cnt = sum(t["invocations"] for t in shared)
    return sum(t["total_ns"] for t in shared) / cnt if cnt else None


def pool_programs(passes, obs):
    pooled, floors = {}, {}
    for p in passes:
        for t in p["table"]:
            e = pooled.setdefault(t["program"], {"program": t["program"], "hook": t["hook"], "invocations": 0, "total_ns": 0})
            e["invocations"] += t["invocations"]
            e["total_ns"] += t["total_ns"]
        for k, v in p["base"].items():
            floors.setdefault(k, []).append(v)
    table = list(pooled.values())
    for t in table:
        t["ns_per_invocation"] = round(t["total_ns"] / t["invocations"], 1)
        floor = median(floors.get(t["program"][len("netobs_"):], [])) if obs.startswith("netobs") else None
        t["empty_program_ns"] = round(floor, 1) if floor else None
    return sorted(table, key=lambda t: -t["invocations"])


def observer_cpu(passes):
    """Observer CPU (all its programs + its process) per kernel event on the shared tracepoints,
    and per HTTP exchange in the windows around wrk, pooled over the rounds."""
    bpf = sum(sum(t["total_ns"] for t in p["table"]) for p in passes)
    proc = sum(p["process_ns"] or 0 for p in passes)
    events = sum(p["events"] or 0 for p in passes)
    measured = bool(passes) and all(p["programs_found"] and p["process_ns"] is not None and p["events"] for p in passes)
    out = {"bpf_ns": bpf, "process_ns": proc, "kernel_events": events,
           "ns_per_kernel_event": ratio(bpf + proc, events) if measured else None,
           "bpf_ns_per_kernel_event": ratio(bpf, events) if measured else None,
           "process_ns_per_kernel_event": ratio(proc, events) if measured else None}
    windows = [p["http"] for p in passes]
    if windows and all(windows):
        req = sum(w["requests"] for w in windows)
        hb, hp = sum(w["bpf_ns"] for w in windows), sum(w["process_ns"] for w in windows)
        out["http"] = {"requests": req, "bpf_ns": hb, "process_ns": hp, "ns_per_exchange": ratio(hb + hp, req),
                       "bpf_ns_per_exchange": ratio(hb, req), "process_ns_per_exchange": ratio(hp, req)}
    else:
        out["http"] = None
    if not all(p["programs_found"] for p in passes):
        # a sum without the BPF part would understate the observer: no figure rather than a low one
        out["note"] = "not measured: the observer's programs were missing from the snapshot taken once it started"
    return out


def kernel_cost(tmp, cost_observers, rounds):
    cost, per_round_shared = {}, {}
    for obs in cost_observers:
        passes = [cost_pass(tmp, obs, r) for r in rounds]
        per_round_shared[obs] = {r: shared_ns(p["table"]) for r, p in zip(rounds, passes)}
        table = pool_programs(passes, obs)
        total_ns = sum(t["total_ns"] for t in table)
        total_cnt = sum(t["invocations"] for t in table)
        busy = sum(p["busy_ns"] or 0 for p in passes)
        proc = sum(p["process_ns"] or 0 for p in passes)
        cost[obs] = {"programs": table, "invocations": total_cnt, "bpf_ns": total_ns, "busy_cpu_ns": busy or None,
                     "rounds": len(rounds),
                     "bpf_share_of_busy_cpu_percent": round(100 * total_ns / busy, 3) if busy and table else None,
                     "process_share_of_busy_cpu_percent": round(100 * proc / busy, 3) if busy else None,
                     "ns_per_invocation": round(total_ns / total_cnt, 1) if total_cnt else None,
                     "shared_tracepoints_ns_per_invocation": ratio(shared_ns(table), 1),
                     "observer_cpu": observer_cpu(passes)}
    return cost, per_round_shared


def versus_bpftrace(cost, auto_tier):
    main = cost.get(f"netobs-{auto_tier}", {})
    peer = cost.get("bpftrace", {})
    n_all, b_all = (c.get("observer_cpu", {}).get("ns_per_kernel_event") for c in (main, peer))
    n_bpf, b_bpf = main.get("shared_tracepoints_ns_per_invocation"), peer.get("shared_tracepoints_ns_per_invocation")
    times = ratio(b_all, n_all, 2)
    return {"tier": auto_tier, "goal_times": GOALS["cheaper_than_bpftrace"],
            "observer_cpu_per_kernel_event": {"netobs_ns": n_all, "bpftrace_ns": b_all, "times_cheaper": times,
                                              "goal_met": None if times is None else times >= GOALS["cheaper_than_bpftrace"]},
            "bpf_shared_tracepoints_only": {"netobs_ns": n_bpf, "bpftrace_ns": b_bpf, "times_cheaper": ratio(b_bpf, n_bpf, 2),
                                            "note": "the older figure, kept for comparison: it leaves out netobs' other programs (L7, "
                                                    "TLS) and both observers' processes"},
            "what_bpftrace_does_not_do": "no L7: bpftrace parses no HTTP or DNS; its flows.bt keeps per-socket "
                                         "bytes and calls, state transitions, retransmissions, drops, prints a line "
                                         "per closed flow and the open flows' counters each second"}


def compare_tiers(cost, tiers, auto_tier, per_round_shared, rounds):
    out = {"auto_tier": auto_tier, "tiers_measured": tiers,
           "shared_tracepoints_ns": {t: cost.get(f"netobs-{t}", {}).get("shared_tracepoints_ns_per_invocation") for t in tiers}}
    if "btf" in tiers and "portable" in tiers:
        ratios = [per_round_shared["netobs-portable"][r] / per_round_shared["netobs-btf"][r] for r in rounds
                  if per_round_shared["netobs-portable"].get(r) and per_round_shared["netobs-btf"].get(r)]
        out["portable_vs_btf_median_ratio"] = round(median(ratios), 3) if ratios else None
        out["goal_times"] = GOALS["portable_vs_btf_times"]
        out["goal_met"] = bool(ratios) and median(ratios) <= GOALS["portable_vs_btf_times"]
    else:
        out["note"] = ("only the portable tier loads here: the kernel refuses BPF tracing programs, so "
                       "there is no btf tier to compare with on this host")
    return out


# ---------------------------------------------------------------- capacity, loss against load
def load_records(tmp, ports):
    """Loss records, and the records of the generator's ports, from the agent's output."""
    losses, flows = [], []
    path = os.path.join(tmp, "load-agent.out")
    if not os.path.exists(path):
        return losses, flows
    for line in open(path):
        if '"kind":"loss"' not in line and not any(f':{p},' in line for p in ports):
            continue  # most lines are other flows: skip the JSON decoding
        try:
            r = json.loads(line)
        except ValueError:
            continue
        (losses if r.get("kind") == "loss" else flows).append(r)
    return losses, flows


def recorded(kind, port, flows):
    mine = [r for r in flows if r.get("kind") == kind and r.get("dst_port") == port and r.get("role") != "server"]
    if kind == "udp":
        return sum(r.get("udp_tx_packets", 0) for r in mine)
    # a client port is reused within a run: count connections by their ESTABLISHED transition
    return sum(1 for r in mine if r.get("tcp_new_state") == "ESTABLISHED" and r.get("tcp_old_state") == "SYN_SENT")


def loss_check(offered, got, counted):
    """Offered events against recorded ones and counted losses, never clamped: what is missing
    beyond the counted losses is uncounted loss (the check fails); counted losses beyond what is
    missing are a distinct figure (loss counted but records present)."""
    missing = offered - got
    return {"missing": missing, "unexplained": missing - counted,
            "uncounted_loss": max(0, missing - counted),
            "loss_counted_but_records_present": max(0, counted - max(0, missing)),
            "over_recorded": max(0, -missing)}


def step_cpu(tmp, step, pre):
    """The observer's BPF and process ns over a step and its flushes (None if not sampled)."""
    before, after = progs(tmp, f"load-s{step}-before.json"), progs(tmp, f"load-s{step}-after.json")
    cpu = cpu_pair(tmp, f"load-s{step}-cpu.txt")
    ids = observer_ids(tmp, "load-ids.txt", pre, before)
    if not after or not cpu or not ids:
        return None  # without its programs the figure would flatter the observer
    bpf = sum(t["total_ns"] for t in program_deltas(ids, before, after))
    return {"bpf_ns": bpf, "process_ns": cpu[1] - cpu[0]}


def loss_against_load(tmp):
    steps = read_lines(tmp, "load.tsv")
    end = read_lines(tmp, "load-end.txt")
    t_end = int(end[0][0]) if end else None
    losses, flows = load_records(tmp, [int(f[2]) for f in steps])
    pre = progs(tmp, "load-pre.json")
    load = []
    for i, f in enumerate(steps):
        kind, rate, port, t0 = f[0], int(f[1]), int(f[2]), int(f[3])
        kv = dict(zip(f[5::2], f[6::2]))
        offered, failed, seconds = int(kv["offered"]), int(kv["failed"]), float(kv["seconds"])
        # [this step's t0, the next step's t0): the steps' windows do not overlap
        t_next = int(steps[i + 1][3]) if i + 1 < len(steps) else t_end
        window = [r for r in losses if t0 <= r.get("ts_ns", 0) and (t_next is None or r.get("ts_ns", 0) < t_next)]
        counted = sum(r.get("count", 0) for r in window if r.get("reason") in LOSS_REASONS[kind])
        deferred = sum(r.get("count", 0) for r in window if r.get("reason") in DEFERRED_REASONS[kind])
        other = sorted({r.get("reason") for r in window if r.get("count") and r.get("reason") not in
                        LOSS_REASONS[kind] + DEFERRED_REASONS[kind]})
        got = recorded(kind, port, flows)
        row = {"kind": kind, "target_rate": rate or "max", "offered": offered, "failed": failed,
               "offered_rate": round(offered / seconds), "recorded": got, "counted_loss": counted,
               "loss_reasons_credited": list(LOSS_REASONS[kind]), "ring_full_kept_in_map": deferred,
               "other_loss_reasons_in_window": other, "loss_window_ns": [t0, t_next]}
        row.update(loss_check(offered, got, counted))
        cpu = step_cpu(tmp, i + 1, pre)
        if cpu:
            core_s = (cpu["bpf_ns"] + cpu["process_ns"]) / 1e9
            row["observer_cpu"] = dict(cpu, events_per_core_second=round(got / core_s) if core_s > 0 else None)
        load.append(row)
    return load


def capacity(cost, auto_tier, load):
    best = cost.get(f"netobs-{auto_tier}", {}).get("ns_per_invocation")
    derived = round(1e9 / best) if best else None
    measured = {}
    for kind, unit in (("udp", "datagrams"), ("tcp", "connections")):
        top = [l for l in load if l["kind"] == kind and l["target_rate"] == "max" and l.get("observer_cpu")]
        if top:
            c = top[-1]["observer_cpu"]
            measured[kind] = {"unit": unit, "recorded": top[-1]["recorded"], "offered_rate": top[-1]["offered_rate"],
                              "observer_bpf_ns": c["bpf_ns"], "observer_process_ns": c["process_ns"],
                              "events_per_core_second": c["events_per_core_second"]}
    udp = measured.get("udp", {}).get("events_per_core_second")
    return {
        "events_per_second_per_core_by_observer_cpu": measured,
        "goal": GOALS["kernel_events_per_second_per_core"],
        "goal_met": None if udp is None else udp >= GOALS["kernel_events_per_second_per_core"],
        "note": "the generator at its maximum rate on one pinned CPU; events recorded (udp: datagrams at the "
                "sending socket; tcp: connections) over the observer's CPU time during the step and its flushes "
                "(BPF time of all its programs by bpf_stats + its process's CPU). One core of observer CPU would "
                "take this many events per second if the cost stayed linear; the generator's own ceiling is "
                "the offered rate. The goal is checked on udp (one datagram: one L4 event at its sender).",
        "kernel_events_per_second_per_core_bpf_stats": derived,
        "bpf_stats_note": "derived, not measured: 1e9 / the netobs programs' mean ns per invocation in the cost "
                          "pass (program time only, no process CPU)",
        "max_offered_rate": {k: max((l["offered_rate"] for l in load if l["kind"] == k), default=None) for k in ("udp", "tcp")},
    }


# ---------------------------------------------------------------- agent footprint
def agent_footprint(tmp):
    footprint = []
    for f in read_lines(tmp, "footprint.tsv"):
        n, ticks, hz, s, rss, hwm = int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5])
        path = os.path.join(tmp, f"footprint-{n}-loss.out")
        losses = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
        footprint.append({"flows": n, "cpu_percent_of_one_core": round(100 * ticks / hz / s, 2),
                          "rss_mib": round(rss / 1024, 1), "peak_rss_mib": round(hwm / 1024, 1),
                          "counted_loss": sum(r.get("count", 0) for r in losses)})
    return footprint


# ---------------------------------------------------------------- controller (scripts/bench-fleet.sh)
def controller_figures(out):
    fleet = read_json(os.path.join(out, "results-fleet.json"))
    if not fleet:
        return None
    p = fleet["pipeline"]
    if "delivered_records_per_second" not in p:  # a file from before the delivered rate
        p["delivered_records_per_second"] = round(p["records_delivered"] / p["seconds"]) if p.get("seconds") else None
        p["delivered_rate_note"] = ("older fleet file: records delivered over the time until every record was "
                                    "delivered or counted as dropped (the time of the last delivery was not kept)")
    return fleet


# ---------------------------------------------------------------- goals
def goal(name, figure, target, met, unit=""):
    return {"goal": name, "figure": figure, "target": target, "unit": unit, "met": met}


def goal_summary(impact, cost, auto_tier, load, cap, footprint, vs):
    out = []
    n = impact["observers"].get("netobs", {})
    labels = {"iperf3_bps": "iperf3 throughput cost", "sockperf_p50_us": "sockperf p50 cost",
              "sockperf_p99_us": "sockperf p99 cost", "wrk_rps": "wrk req/s cost (both ends)",
              "wrk_p99_us": "wrk p99 cost (both ends)"}
    for m, _, g in METRICS:
        e = n.get(m, {})
        out.append(goal(labels[m], e.get("cost_percent"), f"≤ {GOALS[g]}", e.get("goal_met"), "%"))
    oc = cost.get(f"netobs-{auto_tier}", {}).get("observer_cpu", {})
    per_event = oc.get("ns_per_kernel_event")
    out.append(goal("observer CPU per L4 kernel event", per_event, f"≤ {GOALS['observer_ns_per_kernel_event']:,.0f}",
                    None if per_event is None else per_event <= GOALS["observer_ns_per_kernel_event"], "ns"))
    per_http = (oc.get("http") or {}).get("ns_per_exchange")
    out.append(goal("observer CPU per HTTP exchange", per_http, f"≤ {GOALS['observer_ns_per_http_exchange']:,.0f}",
                    None if per_http is None else per_http <= GOALS["observer_ns_per_http_exchange"], "ns"))
    big = next((f for f in footprint if f["flows"] == 100_000), None)
    out.append(goal("100,000 idle connections: agent CPU", big and big["cpu_percent_of_one_core"],
                    f"≤ {GOALS['idle_100k_agent_cpu_percent_of_one_core']}",
                    None if big is None else big["cpu_percent_of_one_core"] <= GOALS["idle_100k_agent_cpu_percent_of_one_core"],
                    "% of a core"))
    out.append(goal("100,000 idle connections: counted loss", big and big["counted_loss"], "0",
                    None if big is None else big["counted_loss"] == 0))
    top = [l for l in load if l["kind"] == "tcp" and l["target_rate"] == "max"]
    lost = f"{max(0, top[-1]['missing']):,} missing, {top[-1]['counted_loss']:,} counted" if top else None
    out.append(goal("short connections at the generator's maximum: loss, counted or not", lost, "0",
                    None if lost is None else (top[-1]["missing"] <= 0 and top[-1]["counted_loss"] == 0)))
    uncounted = all(l["uncounted_loss"] == 0 for l in load) if load else None
    out.append(goal("no uncounted loss in any load step", sum(l["uncounted_loss"] for l in load) if load else None,
                    "0", uncounted))
    udp = cap["events_per_second_per_core_by_observer_cpu"].get("udp", {}).get("events_per_core_second")
    out.append(goal("events/s per core of observer CPU (udp at the maximum)", udp,
                    f"≥ {GOALS['kernel_events_per_second_per_core']:,.0f}", cap["goal_met"]))
    v = vs["observer_cpu_per_kernel_event"]
    out.append(goal("bpftrace's CPU per kernel event over netobs', all costs", v["times_cheaper"],
                    f"≥ {GOALS['cheaper_than_bpftrace']}", v["goal_met"], "×"))
    return out


# ---------------------------------------------------------------- plots (gnuplot)
def plot(tmp, out, name, script, data):
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


def plots(tmp, out, impact, cost, cost_observers, load, footprint):
    pngs = []
    rows = ""
    for obs in [o for o in IMPACT_OBSERVERS if o in impact["observers"]]:
        vals = [impact["observers"][obs][m].get("cost_percent") for m, _, _ in METRICS]
        rows += obs + " " + " ".join("nan" if v is None else str(v) for v in vals) + "\n"
    pngs.append(plot(tmp, out, "impact", """set title "Workload cost per observer (% worse than no observer, median of per-round ratios)"
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8; set boxwidth 0.9
set ylabel "% worse"; set grid y; set key top left
plot "DATA" using 2:xtic(1) title "iperf3 throughput", "" using 3 title "sockperf p50", "" using 4 title "sockperf p99", \\
     "" using 5 title "wrk req/s", "" using 6 title "wrk p99"
""", rows))
    prog_dat = "".join(f'"{p["program"]}" {p["ns_per_invocation"]}\n' for obs in cost_observers
                       for p in cost.get(obs, {}).get("programs", []))
    if prog_dat:
        pngs.append(plot(tmp, out, "kernel_cost", """set title "ns per invocation (bpf_stats)"
set style data histograms; set style fill solid 0.8; set boxwidth 0.8; set xtics rotate by -40; set grid y
set ylabel "ns"; unset key
plot "DATA" using 2:xtic(1)
""", prog_dat))
    for kind in ("udp", "tcp"):
        rows_k = [l for l in load if l["kind"] == kind]
        if rows_k:
            dat = "".join(f'{l["offered_rate"]} {l["offered"]} {l["recorded"]} {l["counted_loss"]} {l["uncounted_loss"]}\n'
                          for l in rows_k)
            pngs.append(plot(tmp, out, f"load_{kind}", f"""set title "{kind}: offered vs recorded events as the rate climbs (generator on one CPU)"
set logscale x; set xlabel "offered events/s"; set ylabel "events"; set grid; set key top left
plot "DATA" using 1:2 with linespoints title "offered", "" using 1:3 with linespoints title "recorded", \\
     "" using 1:4 with linespoints title "counted loss", "" using 1:5 with linespoints title "uncounted loss"
""", dat))
    if footprint:
        dat = "".join(f'{f["flows"]} {f["cpu_percent_of_one_core"]} {f["rss_mib"]}\n' for f in footprint)
        pngs.append(plot(tmp, out, "footprint", """set title "Agent CPU and RSS holding idle TCP connections"
set logscale x; set xlabel "connections"; set ylabel "CPU % of one core"; set y2label "RSS MiB"
set ytics nomirror; set y2tics; set grid; set key top left
plot "DATA" using 1:2 with linespoints title "CPU %", "" using 1:3 axes x1y2 with linespoints title "RSS MiB"
""", dat))
    return [p for p in pngs if p]


# ---------------------------------------------------------------- markdown
def fmt(v, nd=2):
    if v is None:
        return "–"
    return f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)


def cheaper(times):
    """bpftrace's cost over netobs', said the way round it is."""
    if times is None:
        return "–"
    return f"{times:.2f}× cheaper" if times >= 1 else f"{1 / times:.2f}× dearer"


def verdict(ok):
    return "not measured in this run" if ok is None else "met" if ok else "**NOT met**"


def md_goals(goals):
    md = ["## Goals", "", "Each goal beside what this run measured (issue 14's goals; the workload goals are for the "
          "agent observing both ends).", "", "| goal | measured | target | verdict |", "|---|---:|---:|---|"]
    for g in goals:
        unit = f" {g['unit']}" if g["unit"] else ""
        figure = "–" if g["figure"] is None else fmt(g["figure"]) + unit
        md.append(f"| {g['goal']} | {figure} | {g['target']}{unit} | {verdict(g['met'])} |")
    missed = [g["goal"] for g in goals if g["met"] is False]
    unmeasured = [g["goal"] for g in goals if g["met"] is None]
    md += ["", "Not met: " + ("; ".join(missed) if missed else "none") + "."]
    if unmeasured:
        md += ["Not measured in this run: " + "; ".join(unmeasured) + "."]
    return md + [""]


def md_impact(impact, secs, auto_tier):
    md = ["## Workload impact between two lab pods", "",
          f"{impact['rounds']} rounds; each runs every observer once (rotating order) with iperf3, sockperf "
          f"ping-pong and wrk (16 connections) against nginx, {secs} s each. Cost = median of per-round "
          f"ratios to no observer, in % worse. netobs runs with `--hooks auto`: the {auto_tier} tier on this host.", "",
          "| observer | iperf3 Gbit/s | TCP throughput | sockperf p50 µs | p50 | sockperf p99 µs | p99 | wrk req/s | req/s | wrk p99 µs | p99 |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for obs, e in impact["observers"].items():
        cells = []
        for m, _, _ in METRICS:
            med = e[m]["median"]
            cells.append(fmt(med / 1e9 if (m == "iperf3_bps" and med) else med))
            cells.append("" if obs == "none" else fmt(e[m].get("cost_percent")) + ("%" if "cost_percent" in e[m] else ""))
        md.append(f"| {obs} | " + " | ".join(cells) + " |")
    if "server_variant" in impact:
        md += ["", impact["server_variant"]]
    else:
        md += ["", "netobs-server (the agent observing only the nginx pod) did not run: no cgroup v2 mount, or an "
               "older run."]
    return md + [""]


def md_kernel_cost(cost, cost_observers, tiers, auto_tier, rounds, vs, tier_cmp):
    md = ["## Kernel cost (bpf_stats)", "",
          f"{len(rounds)} rounds, each running every observer once in a rotating order: the three workloads "
          "plus 2,000 short connections/s. netobs runs once per hook tier the kernel loads "
          f"({', '.join(tiers)}; `--hooks auto` picks {auto_tier} here). The empty programs (bench/baseline) on the "
          "same hooks show what bpf_stats measures for doing nothing.", "",
          "| observer | program | hook | invocations | ns/invocation | empty program ns |", "|---|---|---|---:|---:|---:|"]
    for obs in cost_observers:
        for p in cost.get(obs, {}).get("programs", []):
            md.append(f"| {obs} | {p['program']} | {p['hook']} | {p['invocations']:,} | {p['ns_per_invocation']} | "
                      f"{fmt(p['empty_program_ns'], 1)} |")
    md += [""]
    for obs in cost_observers:
        c = cost.get(obs, {})
        md.append(f"- {obs}: {fmt(c.get('ns_per_invocation'), 1)} ns per invocation over all its programs; BPF time "
                  f"{fmt(c.get('bpf_share_of_busy_cpu_percent'), 3)}% of the busy CPU time of the passes; its own "
                  f"process (user space and system calls) {fmt(c.get('process_share_of_busy_cpu_percent'), 3)}%.")
    shared = tier_cmp["shared_tracepoints_ns"]
    if "portable_vs_btf_median_ratio" in tier_cmp:
        md += [f"- Hook tiers on the same tracepoints: btf {fmt(shared.get('btf'), 1)} ns, portable "
               f"{fmt(shared.get('portable'), 1)} ns per invocation; portable/btf "
               f"{fmt(tier_cmp['portable_vs_btf_median_ratio'], 3)} (median of per-round ratios, goal ≤ "
               f"{GOALS['portable_vs_btf_times']}) {verdict(tier_cmp['goal_met'])}."]
    else:
        md += [f"- Hook tiers: portable {fmt(shared.get('portable'), 1)} ns per invocation on the shared tracepoints; "
               + tier_cmp["note"] + "."]
    return md + [""] + md_observer_cpu(cost, cost_observers, vs)


def md_observer_cpu(cost, cost_observers, vs):
    md = ["### Observer CPU per event and per HTTP exchange, all costs", "",
          "Numerator: the BPF time of *all* the observer's programs (netobs: L4 tracepoints, TLS socket and exec hooks and the L7 "
          "cgroup_skb programs) plus its own process's CPU (user space and system calls). Per kernel event: over "
          "the whole pass, divided by the events on the six tracepoints both observers attach, counted by the "
          "empty baseline programs (the same events whoever observes). Per HTTP exchange: in a window around "
          "wrk (opened once the previous workload's records have left, closed once wrk's have), divided by the "
          "requests wrk completed. " + vs["what_bpftrace_does_not_do"][0].upper() + vs["what_bpftrace_does_not_do"][1:]
          + ": its figures pay for L4 work only.", "",
          "| observer | kernel events | ns per kernel event (BPF + process) | BPF | process | HTTP exchanges | ns per HTTP exchange (BPF + process) | BPF | process |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for obs in cost_observers:
        o = cost.get(obs, {}).get("observer_cpu", {})
        h = o.get("http") or {}
        md.append(f"| {obs} | {fmt(o.get('kernel_events'))} | {fmt(o.get('ns_per_kernel_event'), 1)} | "
                  f"{fmt(o.get('bpf_ns_per_kernel_event'), 1)} | {fmt(o.get('process_ns_per_kernel_event'), 1)} | "
                  f"{fmt(h.get('requests'))} | {fmt(h.get('ns_per_exchange'), 1)} | {fmt(h.get('bpf_ns_per_exchange'), 1)} | "
                  f"{fmt(h.get('process_ns_per_exchange'), 1)} |")
    md += [f"- {obs}: {cost[obs]['observer_cpu']['note']}." for obs in cost_observers
           if cost.get(obs, {}).get("observer_cpu", {}).get("note")]
    a, old = vs["observer_cpu_per_kernel_event"], vs["bpf_shared_tracepoints_only"]
    md += ["", f"- Per kernel event, all costs: netobs ({vs['tier']} tier) {fmt(a['netobs_ns'], 1)} ns, bpftrace "
           f"{fmt(a['bpftrace_ns'], 1)} ns: netobs {cheaper(a['times_cheaper'])} (goal: ≥ {vs['goal_times']}× cheaper) "
           f"{verdict(a['goal_met'])}; goal ≤ {GOALS['observer_ns_per_kernel_event']:,.0f} ns for netobs.",
           f"- Per HTTP exchange: goal ≤ {GOALS['observer_ns_per_http_exchange']:,.0f} ns for netobs (bpftrace's "
           "figure covers no HTTP parsing).",
           f"- BPF time on the shared tracepoints only, per invocation: netobs {fmt(old['netobs_ns'], 1)} ns, "
           f"bpftrace {fmt(old['bpftrace_ns'], 1)} ns (netobs {cheaper(old['times_cheaper'])}); {old['note']}.", ""]
    return md


def md_l7(l7):
    if not l7:
        return []
    md = ["## L7 programs per packet (BPF_PROG_TEST_RUN)", "", "| packet | calls | median ns | mean ns |", "|---|---:|---:|---:|"]
    md += [f"| {k} | {v['calls']:,} | {v.get('median_ns', '')} | {v['mean_ns']} |" for k, v in l7.items()]
    return md + ["", "bulk_tcp_data: a connection neither HTTP nor DNS after its first segments (the iperf3 case): "
                 "the socket-storage fast path.", ""]


def md_load(cap, load):
    md = ["## Capacity and loss against load", "",
          "The generator (bench/loadgen.c) pinned to CPU 0 at climbing rates; after each step the load stops for "
          "two flush intervals + 0.5 s, and a step is credited only with the loss records stamped between its "
          "start and the next step's, so no step's losses land in another's row.", "",
          "| events | target/s | offered | offered/s | recorded | missing | counted loss | uncounted loss | "
          "loss counted but records present | over-recorded |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    md += [f"| {l['kind']} | {l['target_rate']} | {l['offered']:,} | {l['offered_rate']:,} | {l['recorded']:,} | "
           f"{l['missing']:,} | {l['counted_loss']:,} | {l['uncounted_loss']:,} | {l['loss_counted_but_records_present']:,} | "
           f"{l['over_recorded']:,} |" for l in load]
    ok = all(l["uncounted_loss"] == 0 for l in load) if load else None
    md += ["", f"Zero uncounted loss: {verdict(ok)}. Per step and kind, offered − recorded − counted, never clamped: "
           "udp counts datagrams sent against the client's `udp_tx_packets`, crediting only "
           f"{', '.join(LOSS_REASONS['udp'])}; tcp counts connections made against client SYN_SENT>ESTABLISHED "
           f"records, crediting only {', '.join(LOSS_REASONS['tcp'])}. The check fails whenever a step offered more "
           "than it recorded plus its counted losses. Counted losses beyond what is missing are shown apart (the "
           "agent counts a flow-table miss at each state change of the socket, and the server ends share the "
           "tables), and so are records beyond what was offered."]
    deferred = [l for l in load if l["ring_full_kept_in_map"]]
    if deferred:
        md += ["`closed_flow_ringbuf_full` (the closed flow stayed in its map for the next read; not a loss): "
               + ", ".join(f"{l['kind']} {l['target_rate']}: {l['ring_full_kept_in_map']:,}" for l in deferred) + "."]
    md += ["", "### Capacity by observer CPU", ""]
    measured = cap["events_per_second_per_core_by_observer_cpu"]
    if measured:
        md += ["| events at the maximum rate | offered/s | recorded | observer BPF ms | observer process ms | "
               "events per core-second |", "|---|---:|---:|---:|---:|---:|"]
        md += [f"| {k} ({m['unit']}) | {m['offered_rate']:,} | {m['recorded']:,} | {m['observer_bpf_ns'] / 1e6:,.1f} | "
               f"{m['observer_process_ns'] / 1e6:,.1f} | {fmt(m['events_per_core_second'])} |" for k, m in measured.items()]
        md += ["", cap["note"] + f" Goal ≥ {cap['goal']:,.0f} events/s per core: {verdict(cap['goal_met'])}."]
    else:
        md += ["Not measured in this run (no per-step CPU samples)."]
    md += ["", f"bpf_stats-derived figure (kept for comparison): "
           f"{fmt(cap['kernel_events_per_second_per_core_bpf_stats'])} events/s per core, {cap['bpf_stats_note']}.", ""]
    return md


def md_footprint(footprint):
    md = ["## Agent footprint holding idle TCP connections", "",
          "| connections | CPU % of one core | RSS MiB | peak RSS MiB | counted loss |", "|---:|---:|---:|---:|---:|"]
    md += [f"| {f['flows']:,} | {f['cpu_percent_of_one_core']} | {f['rss_mib']} | {f['peak_rss_mib']} | {f['counted_loss']} |"
           for f in footprint]
    return md + ["", "Each connection counts twice on this node (both ends are local sockets). Goal at 100,000: agent "
                 f"≤ {GOALS['idle_100k_agent_cpu_percent_of_one_core']}% of a core, no counted loss.", ""]


def md_controller(controller):
    if not controller:
        return ["## Controller", "", "Not measured in this run: bench/results-fleet.json is missing (scripts/bench-fleet.sh).", ""]
    f, p = controller["fleet"], controller["pipeline"]
    md = ["## Controller: 1,000 agents, and agent → controller → consumer", "",
          "The release `netobs controller` in its own process (durable log fsynced before each ack, live "
          "analysis on); simulated agents (the real uplink, one certificate each) and one consumer over "
          "mutual TLS on loopback, on the same cores (scripts/bench-fleet.sh). The pipeline rate is of records "
          "*delivered* to the consumer, from the first send to the last delivery; records the controller dropped "
          "for the slow consumer are counted beside it, not in it.", "",
          "| figure | value |", "|---|---:|",
          f"| agents connected | {f['agents']:,} (in {f['connect_seconds']} s) |",
          f"| controller CPU, agents idle | {f['controller_cpu_percent_of_one_core_idle']}% of one core |",
          f"| controller CPU, {f['offered_records_per_second']:,} records/s offered | {f['controller_cpu_percent_of_one_core_loaded']}% of one core |",
          f"| controller RSS idle / loaded / peak | {f['controller_rss_mib_idle']} / {f['controller_rss_mib_loaded']} / {f['controller_peak_rss_mib']} MiB |",
          f"| fleet records delivered / counted drops / submitted | {f['records_delivered']:,} / {f['records_dropped_counted']:,} / {f['records_submitted']:,} |",
          f"| agent → controller → consumer, 4 agents at full speed: records delivered/s | {fmt(p['delivered_records_per_second'])} |",
          f"| pipeline records delivered / counted drops / sent | {p['records_delivered']:,} / {p['records_dropped_counted']:,} / {p['records']:,} |",
          f"| controller CPU per record received (stored, joined, analysed; delivered or dropped) | {p['controller_cpu_ns_per_record']:,} ns |"]
    if p.get("delivered_rate_note"):
        md += ["", "Delivered rate: " + p["delivered_rate_note"] + "."]
    return md + [""]


def markdown(r, secs, quick, rounds, tiers, cost_observers, pngs):
    md = [f"# netobs benchmark ({r['date']}, kernel {r['kernel']}, {r['cpus']} CPUs)", ""]
    if quick:
        md += ["> **Quick smoke run** (`--quick`): too few rounds and seconds for the figures to mean anything;",
               "> it proves the run works end to end. Measure with the defaults on a quiet machine.", ""]
    auto_tier = r["hook_tiers"]["auto_tier"]
    md += md_goals(r["goal_summary"])
    md += md_impact(r["workload_impact"], secs, auto_tier)
    md += md_kernel_cost(r["kernel_cost"], cost_observers, tiers, auto_tier, rounds, r["per_event_vs_bpftrace"], r["hook_tiers"])
    md += md_l7(r["l7_test_run"])
    md += md_load(r["capacity"], r["loss_against_load"])
    md += md_footprint(r["agent_footprint"])
    md += md_controller(r["controller"])
    md += [f"![{p}]({p})" for p in pngs]
    return "\n".join(md) + "\n"


# ---------------------------------------------------------------- main
def main():
    tmp, out, _pairs, secs, quick = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
    tier_line = (read_lines(tmp, "tiers.txt") or [["?"]])[0]
    auto_tier, tiers = tier_line[0], tier_line[1:]
    cost_observers = [f"netobs-{t}" for t in tiers] + ["bpftrace"]
    rounds = sorted({int(f.split("-r")[-1].split("-")[0]) for f in os.listdir(tmp)
                     if f.startswith("cost-") and f.endswith("-busy.txt")})
    impact = workload_impact(tmp, secs)
    cost, per_round_shared = kernel_cost(tmp, cost_observers, rounds)
    vs = versus_bpftrace(cost, auto_tier)
    load = loss_against_load(tmp)
    cap = capacity(cost, auto_tier, load)
    footprint = agent_footprint(tmp)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kernel": platform.release(), "cpus": os.cpu_count(), "quick_smoke_run": quick, "goals": GOALS,
        "goal_summary": goal_summary(impact, cost, auto_tier, load, cap, footprint, vs),
        "workload_impact": impact, "kernel_cost": cost,
        "hook_tiers": compare_tiers(cost, tiers, auto_tier, per_round_shared, rounds),
        "per_event_vs_bpftrace": vs, "l7_test_run": read_json(os.path.join(tmp, "l7_test_run.json")) or {},
        "capacity": cap, "loss_against_load": load,
        "zero_uncounted_loss": all(l["uncounted_loss"] == 0 for l in load) if load else None,
        "agent_footprint": footprint, "controller": controller_figures(out),
    }
    json.dump(result, open(os.path.join(out, "results.json"), "w"), indent=2)
    pngs = plots(tmp, out, impact, cost, cost_observers, load, footprint)
    md = markdown(result, secs, quick, rounds, tiers, cost_observers, pngs)
    open(os.path.join(out, "results.md"), "w").write(md)
    print(md)


if __name__ == "__main__":
    main()
