#!/usr/bin/python3
"""Steady-state ns per packet of L7 objects' cgroup_skb programs on real sockets (A/B, rounds
interleaved, medians). bench/l7_test_run.py gives each call a fresh socket, so per-connection
state (socket storage) is made on every call there; here one connection carries many packets,
as in production. Each object's programs are attached to a cgroup of their own that holds only
a client; kernel.bpf_stats_enabled gives run time and count per program (restored after).
Workloads (servers outside the cgroup, on loopback):
  http     keep-alive request/response turns against nginx: egress = request packets,
           ingress = response packets (the ACKs ride on them)
  upload   bulk data to a sink: egress = data segments (ingress: bare ACKs)
  download bulk data from a source: ingress = data segments (egress: bare ACKs)
An object with a netobs_l7_config map gets the agent's default exemplar settings (1 in 100 per
key, slow from 1 s). WORKS=http,upload,download picks workloads.
usage: l7_steady_state.py NAME=OBJ [NAME=OBJ ...] ROUNDS  -> JSON on stdout"""
import json, os, socket, statistics, subprocess, sys, tempfile, threading, time


def cgroup2():
    for line in open("/proc/mounts"):
        f = line.split()
        if f[2] == "cgroup2":
            return f[1]
    raise SystemExit("no cgroup2 mount")


CG = cgroup2() + "/netobs_l7bench"
HTTP_PORT, SINK_PORT, SOURCE_PORT = 18080, 18081, 18082
EXCHANGES, BULK = 10000, 256 << 20


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def stats(pin):
    out = {}
    for prog in ("netobs_l7_egress", "netobs_l7_ingress"):
        j = json.loads(sh("bpftool", "prog", "show", "pinned", f"{pin}/{prog}", "--json"))
        out[prog] = (j.get("run_time_ns", 0), j.get("run_cnt", 0))
    return out


def in_cgroup(code, *args):
    """Runs python code in the bench cgroup."""
    return subprocess.run(["sh", "-c", f'echo $$ > {CG}/cgroup.procs && exec python3 -c "$0" "$@"', code, *args],
                          check=True, capture_output=True, text=True).stdout


HTTP_CLIENT = """
import socket, sys
n = int(sys.argv[1])
s = socket.create_connection(('127.0.0.1', %d)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b'GET /api/items?id=42 HTTP/1.1\\r\\nHost: b\\r\\nAccept: */*\\r\\n\\r\\n'
for _ in range(n):
    s.sendall(req); got = b''
    while not got.endswith(b'ok\\n'): got += s.recv(4096)
s.close()
""" % HTTP_PORT

UPLOAD = """
import socket, sys
s = socket.create_connection(('127.0.0.1', %d)); left = int(sys.argv[1]); buf = b'u' * 65536
while left > 0: s.sendall(buf); left -= len(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
""" % SINK_PORT

DOWNLOAD = """
import socket, sys
s = socket.create_connection(('127.0.0.1', %d)); s.sendall(sys.argv[1].encode() + b'\\n'); left = int(sys.argv[1])
while left > 0:
    got = s.recv(1 << 20)
    if not got: break
    left -= len(got)
s.close()
""" % SOURCE_PORT


def servers():
    conf = tempfile.mkdtemp(prefix="netobs-l7bench-")
    open(f"{conf}/nginx.conf", "w").write(f"""daemon off; master_process off; worker_processes 1; pid {conf}/nginx.pid;
error_log {conf}/error.log; events {{ worker_connections 64; }}
http {{ access_log off; client_body_temp_path {conf}/b; proxy_temp_path {conf}/p; fastcgi_temp_path {conf}/f;
uwsgi_temp_path {conf}/u; scgi_temp_path {conf}/s; keepalive_requests 1000000;
server {{ listen 127.0.0.1:{HTTP_PORT}; location / {{ return 200 "ok\\n"; }} }} }}""")
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-p", conf + "/", "-c", conf + "/nginx.conf"])

    def sink():
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", SINK_PORT)); l.listen(8)
        while True:
            c, _ = l.accept()
            while c.recv(1 << 20): pass
            c.sendall(b"k"); c.close()

    def source():
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", SOURCE_PORT)); l.listen(8)
        buf = b"d" * 65536
        while True:
            c, _ = l.accept()
            left = int(c.makefile().readline())
            while left > 0: c.sendall(buf); left -= len(buf)
            c.close()

    for f in (sink, source):
        threading.Thread(target=f, daemon=True).start()
    time.sleep(0.5)
    return nginx


def one_round(name, obj, results):
    pin, maps = f"/sys/fs/bpf/l7bench_{name}", f"/sys/fs/bpf/l7bench_{name}_maps"
    subprocess.run(["rm", "-rf", pin, maps])
    sh("bpftool", "prog", "loadall", obj, pin, "type", "cgroup/skb", "pinmaps", maps)
    config = f"{maps}/netobs_l7_config"
    if os.path.exists(config) and json.loads(sh("bpftool", "map", "show", "pinned", config, "--json"))["bytes_value"] == 24:
        # struct netobs_l7_config with the exemplar settings: the agent's defaults, generation 0
        # active, 1 exemplar in 100 per key, slow from 1 s.
        value = (0).to_bytes(4, "little") + (0).to_bytes(4, "little") + (100).to_bytes(4, "little") + bytes(4) + (10**9).to_bytes(8, "little")
        sh("bpftool", "map", "update", "pinned", config, "key", "0", "0", "0", "0",
           "value", *[str(b) for b in value])
    for d, prog in (("egress", "netobs_l7_egress"), ("ingress", "netobs_l7_ingress")):
        sh("bpftool", "cgroup", "attach", CG, d, "pinned", f"{pin}/{prog}", "multi")
    try:
        works = (("http", lambda: in_cgroup(HTTP_CLIENT, str(EXCHANGES))),
                 ("upload", lambda: in_cgroup(UPLOAD, str(BULK))),
                 ("download", lambda: in_cgroup(DOWNLOAD, str(BULK))))
        only = os.environ.get("WORKS", "http,upload,download").split(",")
        for work, run in [w for w in works if w[0] in only]:
            before = stats(pin)
            t = time.time()
            run()
            after = stats(pin)
            for prog, d in (("netobs_l7_egress", "egress"), ("netobs_l7_ingress", "ingress")):
                dt, dn = after[prog][0] - before[prog][0], after[prog][1] - before[prog][1]
                results.setdefault(name, {}).setdefault(f"{work}_{d}", []).append((dt / dn if dn else 0, dn))
    finally:
        for d, prog in (("egress", "netobs_l7_egress"), ("ingress", "netobs_l7_ingress")):
            subprocess.run(["bpftool", "cgroup", "detach", CG, d, "pinned", f"{pin}/{prog}"], capture_output=True)
        subprocess.run(["rm", "-rf", pin, maps])


def main():
    objs = [a.split("=", 1) for a in sys.argv[1:-1]]
    rounds = int(sys.argv[-1])
    os.makedirs(CG, exist_ok=True)
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")
    nginx = servers()
    results = {}
    try:
        for r in range(rounds):
            for name, obj in (objs if r % 2 == 0 else objs[::-1]):
                one_round(name, obj, results)
    finally:
        nginx.terminate()
        nginx.wait()
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write(old)
        os.rmdir(CG)
    out = {name: {k: {"median_ns": round(statistics.median(x[0] for x in v), 1),
                      "packets_per_round": int(statistics.median(x[1] for x in v)),
                      "rounds": [round(x[0], 1) for x in v]} for k, v in per.items()} for name, per in results.items()}
    json.dump(out, sys.stdout, indent=1)


main()
