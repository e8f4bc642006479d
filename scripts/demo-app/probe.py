#!/usr/bin/python3
"""Readiness and latency probe for netobs's demo: `probe.py [--deadline S] METHOD URL ...`.

Retries each request until it answers 2xx or the deadline passes; prints one line per
request, "METHOD URL STATUS MILLISECONDS" (status 0: no answer), and exits 1 if any failed.
"""
import argparse
import http.client
import sys
import time
import urllib.parse


def once(method, url, timeout):
    parts = urllib.parse.urlsplit(url)
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        body = b"{}" if method == "POST" else None
        conn.request(method, parts.path or "/", body=body, headers={"Content-Type": "application/json", "Connection": "close"})
        status = conn.getresponse().status
        conn.close()
    except OSError:
        status = 0
    return status, (time.monotonic() - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deadline", type=float, default=20, help="seconds to keep retrying")
    parser.add_argument("requests", nargs="+", help="METHOD URL pairs")
    args = parser.parse_args()
    if len(args.requests) % 2:
        parser.error("give METHOD URL pairs")
    deadline = time.monotonic() + args.deadline
    failed = False
    for method, url in zip(args.requests[::2], args.requests[1::2]):
        while True:
            status, ms = once(method, url, timeout=5)
            if 200 <= status < 300 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        print(f"{method} {url} {status} {ms:.1f}", flush=True)
        failed = failed or not 200 <= status < 300
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
