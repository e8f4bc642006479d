#!/usr/bin/python3
"""Holds many idle TCP connections for scripts/bench.sh's agent footprint runs.
  hold_flows.py server ADDR PORT0 WORKERS     worker i accepts on PORT0+i and keeps every socket
  hold_flows.py client ADDR PORT0 WORKERS N   open N connections (one byte each way), keep them
One worker process per port keeps each under the per-process open-file limit and spreads the
connections past the ephemeral ports of one destination. The client prints "ready N" once all
are open; both hold them until SIGTERM."""
import os, resource, selectors, signal, socket, sys


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def serve(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(65535)
    held = []
    while True:
        c, _ = s.accept()
        c.sendall(b"s")
        held.append(c)


def connect(addr, port, n, done_w):
    held = []
    for _ in range(n):
        c = socket.create_connection((addr, port))
        c.sendall(b"c")
        held.append(c)
    for c in held:
        c.recv(1)
    os.write(done_w, b"%d\n" % len(held))
    signal.pause()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    mode, addr, port0, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    limit = raise_fd_limit()
    n = int(sys.argv[5]) if mode == "client" else 0
    per = -(-n // workers) if n else 0
    if per > limit - 100:
        sys.exit(f"hold_flows: {per} connections per worker exceed the open-file limit {limit}: use more workers")
    done_r, done_w = os.pipe()
    children = []
    for i in range(workers):
        share = min(per, max(0, n - i * per))
        pid = os.fork()
        if pid == 0:
            serve(addr, port0 + i) if mode == "server" else connect(addr, port0 + i, share, done_w)
            os._exit(0)
        children.append(pid)
    def stop(*_, code=0):
        """Children die with us: SIGTERM here is passed on."""
        for p in children:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(code)

    signal.signal(signal.SIGTERM, stop)
    if mode == "client":
        opened = 0
        with os.fdopen(done_r) as done:
            for _ in range(workers):
                line = done.readline()
                if not line:
                    print("hold_flows: a client worker failed", file=sys.stderr)
                    stop(code=1)
                opened += int(line)
        print(f"ready {opened}", flush=True)
    for _ in children:
        pid, status = os.wait()
        if status and mode == "client":
            print("hold_flows: a worker failed", file=sys.stderr)
            stop(code=1)


main()
