#!/usr/bin/python3
"""ns per packet of bpf/l7.bpf.c's cgroup_skb programs on golden packets, run by the kernel
with BPF_PROG_TEST_RUN (no traffic, no agent): HTTP request and response, DNS query and
answer, data of a bulk TCP flow that is neither (each direction), a bare ACK.

Requests and answers alternate one call at a time (each with its own sequence number or id),
so every call takes the full path: parse, queue, match, ring buffer. The bulk-flow and ACK
packets repeat inside the kernel (one socket for all repeats, as one connection would be):
after its first segments the flow is judged not HTTP and takes the fast path.
usage: l7_test_run.py PIN_DIR CALLS  -> JSON on stdout"""
import ctypes, json, os, statistics, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf, BPF_OBJ_GET, BPF_PROG_TEST_RUN = 321, 7, 10


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    if libc.syscall(SYS_bpf, cmd, buf, 128) < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return buf


def prog_fd(path):
    p = ctypes.create_string_buffer(path.encode())
    fd = libc.syscall(SYS_bpf, BPF_OBJ_GET, ctypes.create_string_buffer(struct.pack("QIII", ctypes.addressof(p), 0, 0, 0), 128), 128)
    if fd < 0:
        raise OSError(ctypes.get_errno(), f"{path}: {os.strerror(ctypes.get_errno())}")
    return fd


def run(fd, packet, repeat=1):
    data = ctypes.create_string_buffer(packet, len(packet))
    attr = struct.pack("IIIIQQII", fd, 0, len(packet), 0, ctypes.addressof(data), 0, repeat, 0)
    res = bpf(BPF_PROG_TEST_RUN, attr)
    retval, duration = struct.unpack_from("I", res, 4)[0], struct.unpack_from("I", res, 36)[0]
    if retval != 1:
        raise SystemExit(f"l7_test_run: program returned {retval}, expected 1 (pass)")
    return duration


def csum(b):
    s = sum(struct.unpack(f"!{len(b)//2}H", b + (b"\0" if len(b) % 2 else b"")))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src, dst, sport, dport, payload, udp=False, seq=1, flags=0x18):
    if udp:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, 17 if udp else 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + l4


A, B = [10, 0, 0, 1], [10, 0, 0, 2]
QNAME = b"\x05items\x03svc\x07cluster\x05local\x00" + struct.pack("!HH", 1, 1)


def http_request(seq):
    return packet(A, B, 40000, 80, b"GET /api/items?id=42 HTTP/1.1\r\nHost: b\r\nAccept: */*\r\n\r\n", seq=seq)


def dns_query(qid):
    return packet(A, B, 40001, 53, struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + QNAME, udp=True)


def dns_answer(qid):
    return packet(B, A, 53, 40001, struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + QNAME
                  + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + bytes([10, 1, 2, 3]), udp=True)


def main():
    pin, calls = sys.argv[1], int(sys.argv[2])
    egress, ingress = prog_fd(f"{pin}/netobs_l7_egress"), prog_fd(f"{pin}/netobs_l7_ingress")
    http_response = packet(B, A, 80, 40000, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", seq=7)
    bulk = b"\x00\x00\x00\x08\x04\xd2\x16\x2f" * 8
    samples = {k: [] for k in ["http_request", "http_response", "dns_query", "dns_answer"]}
    for i in range(calls):
        samples["http_request"].append(run(egress, http_request(1000 + i * 100)))
        samples["http_response"].append(run(ingress, http_response))
        samples["dns_query"].append(run(egress, dns_query(i & 0xffff)))
        samples["dns_answer"].append(run(ingress, dns_answer(i & 0xffff)))
    out = {k: {"calls": len(v), "median_ns": statistics.median(v), "mean_ns": round(statistics.mean(v), 1)}
           for k, v in samples.items()}
    repeat = max(1000, calls * 30)
    for name, fd, p in [("bulk_tcp_data_egress", egress, packet(A, B, 40002, 5201, bulk)),
                        ("bulk_tcp_data_ingress", ingress, packet(B, A, 5201, 40002, bulk)),
                        ("tcp_ack_no_payload", egress, packet(A, B, 40003, 5201, b"", flags=0x10))]:
        out[name] = {"calls": repeat, "mean_ns": run(fd, p, repeat=repeat)}
    json.dump(out, sys.stdout, indent=2)


main()
