#!/usr/bin/env python3
"""Independent reference encoder for the golden vectors of PROTOCOL.md.

Written from the spec, not from the Swift code, so that the Swift tests (which decode every vector and
re-encode it byte for byte) check the codec against a second implementation. Writes annotated
Tests/NetobsWireTests/Vectors/*.hex and raw seeds in fuzz/corpus/wire/.

    python3 proto-spec/make_vectors.py            # rewrite vectors and seeds
    python3 proto-spec/make_vectors.py --markdown # also print the dumps for PROTOCOL.md
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "Tests", "NetobsWireTests", "Vectors")
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "wire")

# --- field encoders: each returns a list of (bytes, comment) -----------------------------------------

def uvarint(n):
    assert 0 <= n < 2**32
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)

def u8(v, c): return [(struct.pack(">B", v), c)]
def u16(v, c): return [(struct.pack(">H", v), c)]
def u32(v, c): return [(struct.pack(">I", v), c)]
def u64(v, c): return [(struct.pack(">Q", v), c)]
def boolean(v, c): return u8(1 if v else 0, c)

def string(s, c):
    b = s.encode() if isinstance(s, str) else s
    if not b:
        return [(uvarint(0), f"{c}: empty")]
    indent = " " * (len(c) - len(c.lstrip()) + 2)
    shown = repr(s) if isinstance(s, str) else (repr(b) if all(32 <= x < 127 for x in b) else "bytes")
    return [(uvarint(len(b)), f"{c}: length {len(b)}"), (b, indent + shown)]

def raw(b, c): return [(b, c)]

def count(n, c): return [(uvarint(n), f"{c}: count {n}")]

def no_tags(c="tagged fields"): return [(b"\x00", f"{c}: none")]

def tags(fields, c="tagged fields"):
    out = [(uvarint(len(fields)), f"{c}: count {len(fields)}")]
    for tag, value, what in fields:
        v = b"".join(b for b, _ in value)
        out += [(uvarint(tag), f"  tag {tag} ({what})"), (uvarint(len(v)), f"  length {len(v)}")]
        out += [(b, "    " + cc) for b, cc in value]
    return out

def cat(*parts): return [p for part in parts for p in part]

MAGIC = b"NO"

def frame(mtype, payload, corr=0, flags=0, version=1, length=None):
    body = b"".join(b for b, _ in payload)
    n = len(body) if length is None else length
    header = [
        (MAGIC, 'magic "NO"'),
        (b"\x01", "frame format version 1"),
        (bytes([flags]), "flags" + (" (REPLY)" if flags & 1 else "")),
        (struct.pack(">H", mtype), f"message type 0x{mtype:04x}"),
        (struct.pack(">H", version), f"message version {version}"),
        (struct.pack(">Q", corr), f"correlation id {corr}"),
        (struct.pack(">I", n), f"payload length {n}"),
    ]
    return header + payload

# --- vectors -------------------------------------------------------------------------------------------

HELLO, HELLO_ACCEPT, HEARTBEAT, ERROR = 0x0001, 0x0002, 0x0003, 0x0004
RULE_SET, RULE_SET_ACK, PROGRAM_BUNDLE, PROGRAM_STATUS = 0x0010, 0x0011, 0x0020, 0x0021
FLOW_BATCH, ACK, SUBSCRIBE, STREAM_BATCH = 0x0030, 0x0031, 0x0040, 0x0041
AGENT_LIST_REQUEST, AGENT_LIST = 0x0050, 0x0051
BOOTSTRAP_REQUEST, BOOTSTRAP_RESPONSE = 0x0060, 0x0061
REPLY = 0x01

def strset(items, c):
    items = sorted(items, key=lambda s: s.encode())
    return cat(count(len(items), c), *[string(s, "  item") for s in items])

def rec_list(records, c):
    return cat(count(len(records), c), *[string(r, "  record") for r in records])

def options(kvs, c):
    return cat(count(len(kvs), c), *[cat(string(k, "  key"), string(v.encode(), "  value")) for k, v in kvs])

def clauses(items, c):
    out = count(len(items), c)
    for field, values in items:
        out += cat(string(field, "  field"), count(len(values), "  values"),
                   *[string(v, "    value") for v in values], no_tags("  clause tagged fields"))
    return out

def match(include, exclude):
    """A Subscribe's match (tagged field 1): include clauses, exclude clauses, tagged fields."""
    return cat(clauses(include, "include"), clauses(exclude, "exclude"), no_tags("match tagged fields"))

# RFC 8032 section 7.1, TEST 1: a public test key, so anyone can check the example signature.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

def signing_input(name, version, key_id, digest):
    out = b"netobs-bundle-v1\x00"
    for s in (name, version, key_id):
        out += uvarint(len(s.encode())) + s.encode()
    return out + digest

def sign(msg):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    pub = key.public_key().public_bytes_raw()
    assert pub == RFC8032_PUBLIC
    return key.sign(msg)

def bootstrap_pki():
    """A CSR for CN=node-1 and the certificate a CA signs for it, both with the RFC 8032 test key:
    Ed25519 signatures are deterministic, so the DER is the same on every run."""
    import datetime
    from cryptography import x509
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node-1")])).sign(key, None)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "netobs"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "netobs-agent"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "node-1")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netobs test CA")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(0x1234).not_valid_before(datetime.datetime(2023, 11, 14, 22, 8, 20))
            .not_valid_after(datetime.datetime(2023, 11, 15, 22, 8, 20))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(key, None))
    return csr.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.DER)

BOOTSTRAP_CSR, BOOTSTRAP_CERT = bootstrap_pki()
BOOTSTRAP_TOKEN = "abcdef.0123456789abcdef"

OBJECT = b"\x7fELF\x02\x01\x01\x00"
DIGEST = hashlib.sha256(OBJECT).digest()
SIG_INPUT = signing_input("netobs", "1.2.0", "rfc8032-test-1", DIGEST)
SIGNATURE = sign(SIG_INPUT)

agent_identity = cat(string("node-1", "node_name"), string("0.1.0", "agent_version"),
                     string("6.1.0-18-amd64", "kernel_release"))

def hook_status(hook, tier, program_type, metrics_off, reason, c):
    return cat(string(hook, f"{c}hook"), string(tier, f"{c}tier"), string(program_type, f"{c}program_type"),
               count(len(metrics_off), f"{c}metrics_off"), *[string(m, f"{c}  item") for m in metrics_off],
               string(reason, f"{c}reason"), no_tags(f"{c}hook tagged fields"))

def hooks(items, c=""):
    return cat(count(len(items), f"{c}hooks"), *[hook_status(*h, c=c + "  ") for h in items])

def program_versions(items, c=""):
    return cat(count(len(items), f"{c}program_versions"),
               *[cat(string(n, f"{c}  name"), string(v, f"{c}  version"), no_tags(f"{c}  entry tagged fields"))
                 for n, v in items])

def node1_status(program_version_comment):
    """node-1's AgentStatus up to its tagged fields (agent_list and agent_list_programs)."""
    return cat(
        string("node-1", "  node_name"), string("node-1", "  identity (certificate CN)"),
        boolean(True, "  connected"), string("1.2.0", "  " + program_version_comment), u64(4, "  rules_version 4"),
        string("", "  detail"), u64(42, "  acked_sequence 42"), u64(43, "  seen_sequence 43"),
        u64(1699999999000000000, "  last_batch_ns"), u64(7, "  lost_records 7"),
        count(1, "  counters"), string("spool_overflow", "    name"), u64(7, "    value 7"))

# A host that refuses `tracing` programs: portable tiers, and one hook that could not attach.
HOOKS = [("inet_sock_set_state", "portable", "raw_tracepoint", [], ""),
         ("kfree_skb", "off", "", ["tcp_drop"], "attach failed: ENOENT")]

VALID = {
    "hello": frame(HELLO, cat(
        u16(1, "min_version 1"), u16(1, "max_version 1"), u8(1, "role agent"),
        strset(["rules", "programs", "records.json"], "capabilities"),
        tags([(0, agent_identity, "agent identity")])), corr=1),
    "hello_consumer": frame(HELLO, cat(
        u16(1, "min_version 1"), u16(2, "max_version 2"), u8(3, "role consumer"),
        strset([], "capabilities"), no_tags()), corr=1),
    "hello_accept": frame(HELLO_ACCEPT, cat(
        u16(1, "version 1"), strset(["rules", "programs"], "capabilities"),
        string("ctrl-0", "server_id"), u32(20971520, "max_payload_size 20 MiB"),
        u32(5000, "heartbeat_interval_ms 5000"), no_tags()), corr=1, flags=REPLY),
    "heartbeat": frame(HEARTBEAT, cat(
        u64(1700000000123456789, "timestamp_ns"),
        count(2, "counters"), string("records_sent", "  name"), u64(1234, "  value 1234"),
        string("ringbuf_drops", "  name"), u64(0, "  value 0"), no_tags())),
    "error": frame(ERROR, cat(
        u16(0x0200, "code 0x0200 unknown message type"),
        string("unknown message type 0x7f00", "message"),
        tags([(0, u64(7, "failed correlation id 7"), "failed correlation id")])), corr=7, flags=REPLY),
    "rule_set": frame(RULE_SET, cat(
        u64(3, "version 3"),
        count(1, "rules"),
        string("default", "  id"),
        strs := cat(count(1, "  namespaces"), string("shop", "    namespace")),
        count(0, "  pods"),
        count(1, "  cgroup_ids"), u64(0x1234, "    cgroup id 0x1234"),
        count(2, "  ports"), u16(80, "    first 80"), u16(80, "    last 80"),
        u16(8080, "    first 8080"), u16(8090, "    last 8090"),
        u8(0x05, "  protocols tcp|http"), u32(1000000, "  sampling_ppm 1000000"), boolean(True, "  l7 on"),
        options([("http.max_uri", "256")], "  options"), no_tags("  rule tagged fields"),
        options([("flush_interval_ms", "1000")], "options"), no_tags()), corr=2),
    "rule_set_ack": frame(RULE_SET_ACK, cat(
        u64(3, "rule_set_version 3"), boolean(True, "accepted"), string("", "detail"), no_tags()),
        corr=2, flags=REPLY),
    "program_bundle": frame(PROGRAM_BUNDLE, cat(
        string("netobs", "name"), string("1.2.0", "version"), raw(DIGEST, "sha256 of object"),
        raw(SIGNATURE, "ed25519 signature (RFC 8032 test key 1)"), string("rfc8032-test-1", "signer_key_id"),
        string(OBJECT, "object"), no_tags()), corr=3),
    "program_status": frame(PROGRAM_STATUS, cat(
        string("netobs", "name"), string("1.2.0", "version"), u8(2, "state rejected"),
        string("R1 invalid mem access 'scalar'\n", "verifier_log"),
        tags([(0, raw(b"verifier rejected program", "  'verifier rejected program'"), "error")])),
        corr=3, flags=REPLY),
    "flow_batch": frame(FLOW_BATCH, cat(
        string("node-1", "agent_id"), u64(42, "sequence 42"), u8(1, "format json lines"),
        rec_list([b'{"kind":"tcp"}', b'{"kind":"dns"}'], "records"), no_tags()), corr=4),
    "ack": frame(ACK, cat(u64(42, "sequence 42"), boolean(True, "cumulative"), no_tags()), corr=4, flags=REPLY),
    "subscribe": frame(SUBSCRIBE, cat(
        string("shop", "namespace"), string("", "pod"), string("carts", "service"), string("http", "kind"),
        string("", "protocol"), string("5xx", "status"), boolean(False, "anomalies_only"), no_tags()), corr=9),
    "stream_batch": frame(STREAM_BATCH, cat(
        u64(1, "sequence 1"), u64(0, "dropped 0"), u8(1, "format json lines"),
        rec_list([b'{"kind":"http","http_status_code":503}'], "records"), no_tags()), corr=9, flags=REPLY),
    "rule_set_exclude": frame(RULE_SET, cat(
        u64(4, "version 4"),
        count(1, "rules"),
        string("exclude-ports", "  id"), count(0, "  namespaces"), count(0, "  pods"), count(0, "  cgroup_ids"),
        count(1, "  ports"), u16(9000, "    first 9000"), u16(9000, "    last 9000"),
        u8(0x03, "  protocols tcp|udp"), u32(1000000, "  sampling_ppm 1000000"), boolean(False, "  l7 off"),
        count(0, "  options"),
        tags([(0, boolean(True, "  exclude"), "exclude")], "  rule tagged fields"),
        count(0, "options"), no_tags()), corr=5),
    "agent_list_request": frame(AGENT_LIST_REQUEST, no_tags(), corr=6),
    "agent_list": frame(AGENT_LIST, cat(
        u64(1700000000000000000, "timestamp_ns"), count(1, "agents"),
        node1_status("program_version"), no_tags("  agent tagged fields"), no_tags()), corr=6, flags=REPLY),
    "subscribe_replay": frame(SUBSCRIBE, cat(
        string("shop", "namespace"), string("", "pod"), string("", "service"), string("http", "kind"),
        string("", "protocol"), string("", "status"), boolean(False, "anomalies_only"),
        tags([(0, u32(50, "  replay_last 50"), "replay_last")])), corr=10),
    "subscribe_match": frame(SUBSCRIBE, cat(
        string("", "namespace"), string("", "pod"), string("", "service"), string("http", "kind"),
        string("", "protocol"), string("", "status"), boolean(False, "anomalies_only"),
        tags([(0, u32(100, "  replay_last 100"), "replay_last"),
              (1, match([("from_pod", ["shop/front-end", "shop/carts"]), ("http_path", ["/cart*"])],
                        [("to_ip", ["10.96.0.0/12"])]), "match"),
              (2, u64(1700000000000000000, "  since_ns"), "since_ns"),
              (3, u64(1700000060000000000, "  until_ns"), "until_ns")])), corr=11),
    "stream_batch_replay_end": frame(STREAM_BATCH, cat(
        u64(2, "sequence 2"), u64(0, "dropped 0"), u8(1, "format json lines"),
        rec_list([b'{"kind":"http","http_status_code":200}'], "records"),
        tags([(0, boolean(True, "  replay_end"), "replay_end")])), corr=10, flags=REPLY),
    "hello_hooks": frame(HELLO, cat(
        u16(1, "min_version 1"), u16(1, "max_version 1"), u8(1, "role agent"),
        strset(["rules", "programs", "records.json"], "capabilities"),
        tags([(0, agent_identity, "agent identity"),
              (1, hooks([("inet_sock_set_state", "btf", "tp_btf", [], "")] + HOOKS[1:]), "hooks")])), corr=1),
    "agent_list_hooks": frame(AGENT_LIST, cat(
        u64(1700000000000000000, "timestamp_ns"),
        count(1, "agents"),
        string("node-2", "  node_name"), string("node-2", "  identity (certificate CN)"),
        boolean(False, "  disconnected: its last report stays"), string("", "  program_version"),
        u64(0, "  rules_version 0"), string("", "  detail"), u64(0, "  acked_sequence 0"),
        u64(0, "  seen_sequence 0"), u64(0, "  last_batch_ns"), u64(0, "  lost_records 0"),
        count(0, "  counters"),
        tags([(0, hooks(HOOKS), "hooks")], "  agent tagged fields"), no_tags()), corr=6, flags=REPLY),
    "agent_list_programs": frame(AGENT_LIST, cat(
        u64(1700000000000000000, "timestamp_ns"), count(1, "agents"),
        node1_status("program_version (the l4 one, for older readers)"),
        tags([(1, program_versions([("l4", "1.2.0"), ("l7", "2.0.1")]), "program_versions")], "  agent tagged fields"),
        no_tags()), corr=6, flags=REPLY),
    "bootstrap_request": frame(BOOTSTRAP_REQUEST, cat(
        string("node-1", "node_name"), string(BOOTSTRAP_TOKEN, "token (ID.SECRET)"),
        [(uvarint(len(BOOTSTRAP_CSR)), f"csr: length {len(BOOTSTRAP_CSR)}"),
         (BOOTSTRAP_CSR, "  PKCS#10 DER: CN=node-1, Ed25519 key (RFC 8032 test key 1)")],
        no_tags()), corr=1),
    "bootstrap_response": frame(BOOTSTRAP_RESPONSE, cat(
        [(uvarint(len(BOOTSTRAP_CERT)), f"certificate: length {len(BOOTSTRAP_CERT)}"),
         (BOOTSTRAP_CERT, "  X.509 DER: CN=node-1, OU=netobs-agent, O=netobs, clientAuth")],
        no_tags()), corr=1, flags=REPLY),
}

# Decode-only: valid, but not canonical output of an encoder (they show the extension rules).
DECODE_ONLY = {
    # An unknown tagged field (tag 5) is skipped: decodes to the same message as hello_consumer.
    "hello_unknown_tag": frame(HELLO, cat(
        u16(1, "min_version 1"), u16(2, "max_version 2"), u8(3, "role consumer"),
        strset([], "capabilities"), tags([(5, raw(b"\xca\xfe", "  value (unknown to v1)"), "unknown")])), corr=1),
    # Unknown flag bits are ignored (and kept): decodes to ack with flags 0x81.
    "ack_unknown_flag": frame(ACK, cat(u64(42, "sequence 42"), boolean(True, "cumulative"), no_tags()),
                              corr=4, flags=0x81),
}

INVALID = {
    "bad_magic": [(b"GET / HTTP/1.1\r\n", "an HTTP request: refused after 2 bytes")],
    "bad_frame_version": [(MAGIC, 'magic "NO"'), (b"\x02", "frame format version 2: unknown")],
    "frame_too_large": frame(FLOW_BATCH, [], corr=4, length=65537)[:7],  # header only: refused before payload
    "unknown_type": frame(0x7F00, [], corr=7),
    "unsupported_version": frame(HELLO, cat(u16(1, "min_version 1"), u16(1, "max_version 1")), version=2, corr=1),
    "invalid_utf8": frame(FLOW_BATCH, cat(
        [(b"\x02", "agent_id: length 2"), (b"\xc3\x28", "  not UTF-8")], u64(1, "sequence"), u8(1, "format"),
        count(0, "records"), no_tags())),
    "count_limit": frame(FLOW_BATCH, cat(
        string("n", "agent_id"), u64(1, "sequence"), u8(1, "format"), count(65537, "records (limit 65536)"))),
    "truncated_string": frame(RULE_SET_ACK, cat(
        u64(3, "rule_set_version"), boolean(False, "accepted"),
        [(b"\x0a", "detail: length 10"), (b"no", "  only 2 bytes follow")])),
    "length_limit": frame(SUBSCRIBE, cat([(uvarint(65), "namespace: length 65 (limit 64)")],
                                         raw(b"a" * 65, "  'aaa...'"))),
    "non_minimal_varint": frame(ACK, cat(u64(42, "sequence"), boolean(True, "cumulative"),
                                         [(b"\x80\x00", "tagged count 0 in two bytes: not minimal")])),
    "bad_bool": frame(ACK, cat(u64(42, "sequence"), u8(2, "cumulative = 2: not a bool"), no_tags())),
    "unsorted_set": frame(HELLO, cat(
        u16(1, "min_version"), u16(1, "max_version"), u8(1, "role agent"),
        count(2, "capabilities"), string("rules", "  item"), string("programs", "  item: sorts before 'rules'"),
        no_tags())),
    "tag_order": frame(ERROR, cat(
        u16(0x0202, "code"), string("", "message"),
        [(b"\x02", "tagged fields: count 2"), (b"\x01\x00", "  tag 1, length 0"), (b"\x00\x00", "  tag 0: out of order")])),
    "trailing_bytes": frame(ACK, cat(u64(42, "sequence"), boolean(True, "cumulative"), no_tags(),
                                     raw(b"\xff", "one byte too many"))),
    "bad_enum": frame(PROGRAM_STATUS, cat(string("p", "name"), string("1", "version"), u8(9, "state 9: unknown"),
                                          string("", "verifier_log"), no_tags())),
    "bootstrap_csr_limit": frame(BOOTSTRAP_REQUEST, cat(
        string("node-1", "node_name"), string(BOOTSTRAP_TOKEN, "token"),
        [(uvarint(16385), "csr: length 16385 (limit 16384): refused before reading it")]), corr=1),
    "bootstrap_token_limit": frame(BOOTSTRAP_REQUEST, cat(
        string("node-1", "node_name"), [(uvarint(65), "token: length 65 (limit 64)")], raw(b"a" * 65, "  'aaa...'"),
        string(b"", "csr"), no_tags()), corr=1),
}

EXPECT = {  # human-readable expectations, repeated in the .hex files; the Swift tests hold the typed ones
    "hello_unknown_tag": "decodes like hello_consumer (tag 5 skipped)",
    "ack_unknown_flag": "decodes to Ack(42, cumulative) with flags 0x81",
    "bad_magic": "FrameDecoder: badMagic(0x4745), fatal",
    "bad_frame_version": "FrameDecoder: unsupportedFrameVersion(2), fatal",
    "frame_too_large": "FrameDecoder (limit 65536): frameTooLarge(65537), fatal, no payload needed",
    "unknown_type": "frame ok; message: unknownMessageType(0x7f00) -> Error 0x0200",
    "unsupported_version": "frame ok; message: unsupportedMessageVersion(hello, 2) -> Error 0x0201",
    "invalid_utf8": "frame ok; message: invalidUTF8(flow_batch.agent_id)",
    "count_limit": "frame ok; message: countLimitExceeded(flow_batch.records, 65537)",
    "truncated_string": "frame ok; message: truncated(rule_set_ack.detail)",
    "length_limit": "frame ok; message: lengthLimitExceeded(subscribe.namespace, 65)",
    "non_minimal_varint": "frame ok; message: malformedVarint(ack.tagged)",
    "bad_bool": "frame ok; message: invalidValue(ack.cumulative, 2)",
    "unsorted_set": "frame ok; message: unsortedSet(hello.capabilities)",
    "tag_order": "frame ok; message: taggedFieldOrder(1, 0)",
    "trailing_bytes": "frame ok; message: trailingBytes(payload, 1)",
    "bad_enum": "frame ok; message: invalidValue(program_status.state, 9)",
    "bootstrap_csr_limit": "frame ok; message: lengthLimitExceeded(bootstrap_request.csr, 16385)",
    "bootstrap_token_limit": "frame ok; message: lengthLimitExceeded(bootstrap_request.token, 65)",
}

def render(name, pieces, note):
    lines = [f"# {name}", f"# {note}"]
    for b, c in pieces:
        h = b.hex(" ")
        # long fields (signature, digest) wrap at 16 bytes per line
        chunks = [h[i:i + 48].strip() for i in range(0, len(h), 48)] or [""]
        for j, ch in enumerate(chunks):
            lines.append(f"{ch:<48}  # {c}" if j == 0 else ch)
    return "\n".join(lines) + "\n"

def main():
    os.makedirs(VECTORS, exist_ok=True)
    os.makedirs(CORPUS, exist_ok=True)
    groups = [("", VALID, "valid: decodes to the message in GoldenVectorTests and re-encodes to these bytes"),
              ("", DECODE_ONLY, None), ("invalid_", INVALID, None)]
    md = []
    for prefix, table, note in groups:
        for name, pieces in table.items():
            text = render(name, pieces, note or EXPECT[name])
            with open(os.path.join(VECTORS, prefix + name + ".hex"), "w") as f:
                f.write(text)
            with open(os.path.join(CORPUS, prefix + name + ".bin"), "wb") as f:
                f.write(b"".join(b for b, _ in pieces))
            md.append(f"#### `{prefix}{name}.hex`\n\n```\n{text}```\n")
    if "--markdown" in sys.argv:
        print("\n".join(md))
    print(f"signing input: {SIG_INPUT.hex()}", file=sys.stderr)

if __name__ == "__main__":
    main()
