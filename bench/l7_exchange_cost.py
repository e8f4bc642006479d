#!/usr/bin/python3
"""Observer CPU per HTTP exchange of the L7 side, A/B agents interleaved: wrk -> nginx on
loopback (both ends observed by the agent's L7 programs on the cgroup root), each agent run as
`--standalone --no-l4 --interval 1s`. Per round: wrk's requests, the BPF run time of the agent's
own L7 programs (kernel.bpf_stats_enabled; the program ids its process holds, from fdinfo) and
the agent's CPU time (utime+stime); medians over rounds.
usage: l7_exchange_cost.py NAME=AGENT [NAME=AGENT ...] ROUNDS SECONDS -> JSON on stdout"""
import json, os, re, statistics, subprocess, sys, tempfile, time

TICK = os.sysconf("SC_CLK_TCK")
PORT = 18090


def nginx():
    conf = tempfile.mkdtemp(prefix="netobs-l7cost-")
    open(f"{conf}/nginx.conf", "w").write(f"""daemon off; master_process off; worker_processes 1; pid {conf}/nginx.pid;
error_log {conf}/error.log; events {{ worker_connections 64; }}
http {{ access_log off; client_body_temp_path {conf}/b; proxy_temp_path {conf}/p; fastcgi_temp_path {conf}/f;
uwsgi_temp_path {conf}/u; scgi_temp_path {conf}/s; keepalive_requests 1000000;
server {{ listen 127.0.0.1:{PORT}; location / {{ return 200 "ok\\n"; }} }} }}""")
    p = subprocess.Popen(["/usr/sbin/nginx", "-p", conf + "/", "-c", conf + "/nginx.conf"])
    time.sleep(0.5)
    return p


def agent_progs(pid):
    """The L7 program ids among the process's file descriptors (fdinfo prog_id)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            info = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        m = re.search(r"prog_id:\s+(\d+)", info)
        if m:
            ids.add(int(m.group(1)))
    out = []
    for i in ids:
        p = json.loads(subprocess.run(["bpftool", "prog", "show", "id", str(i), "--json"], capture_output=True, text=True).stdout)
        if p.get("name", "").startswith("netobs_l7_"):
            out.append(i)
    return out


def prog_stats(ids):
    t = n = 0
    for i in ids:
        p = json.loads(subprocess.run(["bpftool", "prog", "show", "id", str(i), "--json"], capture_output=True, text=True).stdout)
        t += p.get("run_time_ns", 0); n += p.get("run_cnt", 0)
    return t, n


def cpu_ns(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1_000_000_000 // TICK


def round_(agent, seconds):
    a = subprocess.Popen([agent, "--standalone", "--no-l4", "--interval", "1s", "--node", "bench"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return measure(a, seconds)
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()


def measure(a, seconds):
    line = ""
    while "collecting on node" not in line:
        line = a.stderr.readline()
        if not line and a.poll() is not None:
            raise SystemExit("agent ended")
    time.sleep(1)
    ids = agent_progs(a.pid)
    assert len(ids) == 2, ids
    t0, n0 = prog_stats(ids); c0 = cpu_ns(a.pid)
    out = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", f"http://127.0.0.1:{PORT}/api/items?id=42"],
                         capture_output=True, text=True).stdout
    time.sleep(1.2)  # the flush of the last interval
    t1, n1 = prog_stats(ids); c1 = cpu_ns(a.pid)
    a.send_signal(2); a.wait(timeout=20)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    return {"requests": reqs, "bpf_ns_per_exchange": (t1 - t0) / reqs, "agent_ns_per_exchange": (c1 - c0) / reqs,
            "bpf_ns_per_packet": (t1 - t0) / max(1, n1 - n0), "packets_per_exchange": (n1 - n0) / reqs,
            "req_per_s": reqs / seconds}


def main():
    agents = [a.split("=", 1) for a in sys.argv[1:-2]]
    rounds, seconds = int(sys.argv[-2]), int(sys.argv[-1])
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")
    server = nginx()
    res = {}
    try:
        for r in range(rounds):
            for name, path in (agents if r % 2 == 0 else agents[::-1]):
                res.setdefault(name, []).append(round_(path, seconds))
    finally:
        server.terminate()
        server.wait()
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write(old)
    out = {}
    for name, rs in res.items():
        out[name] = {k: round(statistics.median(r[k] for r in rs), 1) for k in rs[0]}
        out[name]["observer_ns_per_exchange"] = round(statistics.median(r["bpf_ns_per_exchange"] + r["agent_ns_per_exchange"] for r in rs), 1)
        out[name]["rounds"] = rs
    json.dump(out, sys.stdout, indent=1)


main()
