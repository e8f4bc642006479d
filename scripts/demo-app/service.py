#!/usr/bin/python3
"""One service of netobs's Sock-Shop-like demo application (`netobs demo`).

Every service runs this file with its own --service name, in its own lab pod, on port 80.
Services call each other by short DNS name (resolved through the pod's resolv.conf search
domains by the kube-dns pod's dnsmasq), one new connection per call, so every call also
exercises DNS and the TCP handshake, as in an application without connection pooling.

Delay fault: the file given with --control holds a number of milliseconds; each request
sleeps that long before it is answered. The file is re-read whenever its mtime changes,
so a write takes effect from the next request on. Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CALL_TIMEOUT_S = 3.0

SOCKS = [
    {"id": "808a2de1", "name": "Holy", "price": 99.99},
    {"id": "510a0d7e", "name": "Crossed", "price": 17.32},
    {"id": "03fef6ac", "name": "Figueroa", "price": 14.00},
    {"id": "d3588630", "name": "Colourful", "price": 18.00},
    {"id": "819e1fbf", "name": "Nerd leg", "price": 7.99},
    {"id": "zzz4f044", "name": "Classic", "price": 12.00},
]
CUSTOMERS = {f"c{i}": {"id": f"c{i}", "name": f"Customer {i}", "address": f"{i} Sock Street"} for i in range(1, 11)}


class Failure(Exception):
    """A downstream call that failed: answered to our caller with `status`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def call(service, method, path, body=None):
    """One HTTP call to another service by short DNS name; returns the decoded JSON body."""
    try:
        conn = http.client.HTTPConnection(service, 80, timeout=CALL_TIMEOUT_S)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Connection": "close"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
    except socket.gaierror as error:
        raise Failure(503, f"cannot resolve {service}: {error}")
    except socket.timeout:
        raise Failure(504, f"{service} {path}: timed out")
    except OSError as error:
        raise Failure(502, f"{service} {path}: {error}")
    if response.status >= 400:
        raise Failure(502, f"{service} {path}: status {response.status}")
    return json.loads(payload or b"null")


class Redis:
    """The few Redis commands carts needs, over RESP, one connection per request."""

    def __init__(self, host, port):
        self.host, self.port = host, port

    def pipeline(self, *commands):
        try:
            with socket.create_connection((self.host, self.port), timeout=CALL_TIMEOUT_S) as sock:
                out = b"".join(self._encode(c) for c in commands)
                sock.sendall(out)
                reader = sock.makefile("rb")
                return [self._reply(reader) for _ in commands]
        except socket.gaierror as error:
            raise Failure(503, f"cannot resolve {self.host}: {error}")
        except socket.timeout:
            raise Failure(504, f"{self.host}: timed out")
        except OSError as error:
            raise Failure(502, f"{self.host}: {error}")

    @staticmethod
    def _encode(args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            raw = str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
        return b"".join(parts)

    def _reply(self, reader):
        line = reader.readline()
        if not line.endswith(b"\r\n"):
            raise Failure(502, f"{self.host}: connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise Failure(502, f"{self.host}: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else reader.read(n + 2)[:-2].decode()
        if kind == b"*":
            n = int(rest)
            return [] if n < 0 else [self._reply(reader) for _ in range(n)]
        raise Failure(502, f"{self.host}: unexpected reply {line[:20]!r}")


class Delay:
    """The delay fault's control file, re-read when its mtime changes."""

    def __init__(self, path):
        self.path, self.mtime, self.ms = path, None, 0
        self.lock = threading.Lock()

    def current_ms(self):
        if not self.path:
            return 0
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        with self.lock:
            if mtime != self.mtime:
                self.mtime = mtime
                try:
                    with open(self.path) as f:
                        self.ms = max(0, int(f.read().strip() or 0))
                except (OSError, ValueError):
                    self.ms = 0
                log(f"delay_ms={self.ms}")
            return self.ms


def log(message):
    print(f"{time.strftime('%H:%M:%S')} {ARGS.service}: {message}", file=sys.stderr, flush=True)


# Routes per service: (method, path segments, query + cookies, JSON body) -> (status, object), or None
# for "no such route". A Failure from a downstream call becomes the answer's status.

def front_end(method, parts, query, body):
    customer = query.get("customer", "c1")
    if method == "GET" and parts == []:
        return 200, {"shop": "netobs socks", "featured": call("catalogue", "GET", "/catalogue?size=3")}
    if method == "GET" and parts == ["catalogue"]:
        return 200, call("catalogue", "GET", "/catalogue")
    if method == "GET" and len(parts) == 2 and parts[0] == "detail":
        return 200, call("catalogue", "GET", f"/catalogue/{parts[1]}")
    if parts == ["cart"] and method == "GET":
        return 200, call("carts", "GET", f"/carts/{customer}/items")
    if parts == ["cart"] and method == "POST":
        return 201, call("carts", "POST", f"/carts/{customer}/items", body or {"itemId": "808a2de1"})
    if parts == ["orders"] and method == "POST":
        return 201, call("orders", "POST", "/orders", {"customer": customer})
    if parts == ["orders"] and method == "GET":
        return 200, call("orders", "GET", f"/orders?customer={customer}")
    if len(parts) == 2 and parts[0] == "customers" and method == "GET":
        return 200, call("user", "GET", f"/customers/{parts[1]}")
    return None


def catalogue(method, parts, query, body):
    if method == "GET" and parts == ["catalogue"]:
        size = int(query.get("size", len(SOCKS)))
        return 200, SOCKS[:size]
    if method == "GET" and len(parts) == 2 and parts[0] == "catalogue":
        item = next((s for s in SOCKS if s["id"] == parts[1]), None)
        return (200, item) if item else (404, {"error": "no such sock"})
    return None


def carts(method, parts, query, body):
    if len(parts) == 3 and parts[0] == "carts" and parts[2] == "items":
        key = f"cart:{parts[1]}"
        if method == "GET":
            items = REDIS.pipeline(("LRANGE", key, 0, -1))[0]
            return 200, [json.loads(i) for i in items]
        if method == "POST":
            item = body or {}
            sock = next((s for s in SOCKS if s["id"] == item.get("itemId")), SOCKS[0])
            entry = json.dumps({"itemId": sock["id"], "price": sock["price"]})
            size, _ = REDIS.pipeline(("RPUSH", key, entry), ("LTRIM", key, -20, -1))
            return 201, {"items": min(size, 20)}
    return None


ORDERS = []
ORDERS_LOCK = threading.Lock()


def orders(method, parts, query, body):
    if parts == ["orders"] and method == "POST":
        customer = (body or {}).get("customer", "c1")
        user = call("user", "GET", f"/customers/{customer}")
        items = call("carts", "GET", f"/carts/{customer}/items")
        amount = round(sum(i.get("price", 0) for i in items), 2)
        payment = call("payment", "POST", "/paymentAuth", {"customer": customer, "amount": amount})
        if not payment.get("authorised"):
            return 402, {"error": "payment declined"}
        shipment = call("shipping", "POST", "/shipping", {"customer": customer, "address": user["address"]})
        order = {"id": uuid.uuid4().hex[:8], "customer": customer, "amount": amount, "shipment": shipment["id"]}
        with ORDERS_LOCK:
            ORDERS.append(order)
            del ORDERS[:-50]
        return 201, order
    if parts == ["orders"] and method == "GET":
        customer = query.get("customer")
        with ORDERS_LOCK:
            return 200, [o for o in ORDERS if customer in (None, o["customer"])]
    return None


def payment(method, parts, query, body):
    if parts == ["paymentAuth"] and method == "POST":
        return 200, {"authorised": float((body or {}).get("amount", 0)) < 10000}
    return None


def shipping(method, parts, query, body):
    if parts == ["shipping"] and method == "POST":
        return 201, {"id": uuid.uuid4().hex[:8], "eta_days": random.randint(1, 5)}
    return None


def user(method, parts, query, body):
    if len(parts) == 2 and parts[0] == "customers" and method == "GET":
        found = CUSTOMERS.get(parts[1])
        return (200, found) if found else (404, {"error": "no such customer"})
    return None


ROUTES = {"front-end": front_end, "catalogue": catalogue, "carts": carts, "orders": orders,
          "payment": payment, "shipping": shipping, "user": user}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive for the load generator
    timeout = 60                    # idle keep-alive connections

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        delay_ms = DELAY.current_ms()
        if delay_ms:
            time.sleep(delay_ms / 1000)
        path, _, qs = self.path.partition("?")
        # Cookies (the shopper's "customer") and query parameters, the latter winning.
        cookies = (c.strip() for c in (self.headers.get("Cookie") or "").split(";"))
        query = dict(c.partition("=")[::2] for c in cookies if c)
        query.update(p.partition("=")[::2] for p in qs.split("&") if p)
        parts = [p for p in path.split("/") if p]
        try:
            body = json.loads(raw) if raw else None
            if parts == ["health"]:
                result = (200, {"status": "ok", "service": ARGS.service})
            else:
                result = ROUTES[ARGS.service](method, parts, query, body) or (404, {"error": "no route"})
        except Failure as failure:
            log(f"{method} {self.path}: {failure.message}")
            result = (failure.status, {"error": failure.message})
        except (ValueError, KeyError, TypeError) as error:
            result = (400, {"error": f"bad request: {error}"})
        self.reply(*result)

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass   # no access log: the agent sees every exchange


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    global ARGS, DELAY, REDIS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", required=True, choices=sorted(ROUTES))
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--control", default="", help="delay fault control file (milliseconds)")
    parser.add_argument("--redis", default="carts-db:6379", help="carts' Redis, host:port")
    ARGS = parser.parse_args()
    DELAY = Delay(ARGS.control)
    host, _, port = ARGS.redis.rpartition(":")
    REDIS = Redis(host, int(port))
    server = Server(("0.0.0.0", ARGS.port), Handler)
    log(f"listening on port {ARGS.port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
