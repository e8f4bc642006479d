// SPDX-License-Identifier: GPL-2.0
/* L7 collection: HTTP/1.x exchanges, DNS queries (UDP and TCP) and the request latency of any
 * TCP protocol, from the wire.
 *
 * cgroup_skb programs on the cgroup v2 root see every pod's packets, both directions, with
 * the socket that sends or receives them: attribution needs no process context, and each
 * end of a connection on this node reports its own view (client and server records).
 * A request (or query) waits in a map, keyed by the socket's tuple; its response completes
 * it and leaves through a ring buffer as one event. Unanswered DNS queries are aged out by
 * the agent (reported as timeouts).
 *
 * Every packet of every pod passes here, so the common case is made cheap: a bare ACK returns
 * after the header read, and a connection that carries bulk data and is neither HTTP nor DNS
 * returns after one socket-storage lookup (struct l7_sock) while its turn does not change.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netobs_layout.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define EEXIST 17
#define DNS_PORT 53
#define PAYLOAD_MAX 512 /* request line bytes looked at: method, URI, version */
#define DNS_MAX (12 + NETOBS_L7_TEXT_LEN + 4)

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 16384);
    __type(key, struct netobs_tuple);
    __type(value, struct netobs_http_conn);
} netobs_http_conns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct netobs_dns_key);
    __type(value, struct netobs_l7_event);
} netobs_dns_pending SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20);
} netobs_l7_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NETOBS_L7_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} netobs_l7_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 65536);
    __type(key, struct netobs_tuple);
    __type(value, struct netobs_tcp_turns);
} netobs_tcp_turns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_l7_config);
} netobs_l7_config SEC(".maps");

/* The rules (struct netobs_rules): the L7 programs read only l7_off, in their own copy. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_rules);
} netobs_rules SEC(".maps");

/* Set before load: the generation of this copy of the programs. Only the copy whose
 * generation the agent marked active in netobs_l7_config works, so a hot swap (load the new copy
 * beside the old one on the same maps, flip the mark, detach the old) has no gap and parses no
 * packet twice. */
const volatile __u32 netobs_generation = 0;

/* Whether this copy does the work: it is the active generation and the rules leave L7 on. */
static __always_inline bool l7_active(void)
{
    __u32 zero = 0;
    struct netobs_l7_config *cfg = bpf_map_lookup_elem(&netobs_l7_config, &zero);
    if (!cfg || cfg->generation != netobs_generation)
        return false;
    struct netobs_rules *r = bpf_map_lookup_elem(&netobs_rules, &zero);
    return !(r && r->l7_off);
}

/* Per-CPU scratch: the BPF stack (512 bytes) cannot hold a payload window and an event. */
struct scratch {
    __u8 payload[PAYLOAD_MAX];
    struct netobs_http_conn conn;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} netobs_l7_scratch SEC(".maps");

/* What the programs learned of a TCP connection, in its socket's storage (freed with the
 * socket): later packets of a bulk flow that is neither HTTP nor DNS, and that does not
 * change whose turn it is, return after this one lookup instead of hash lookups and payload
 * loads. The storage is made once a connection has carried BULK_SEGMENTS data segments:
 * short connections never pay for it. */
enum http_verdict {
    HTTP_UNDECIDED = 0,
    HTTP_YES = 1, /* a request or status line was seen: every segment is parsed */
    HTTP_NO = 2,  /* HTTP_PROBE_SEGMENTS data segments, none a message start, no HTTP port */
};

/* Data segments (either way) after which a connection gets its socket storage. */
#define BULK_SEGMENTS 8
/* Data segments looked at before a connection on a non-HTTP port is judged not HTTP: a
 * connection first seen mid-life may start inside a body. */
#define HTTP_PROBE_SEGMENTS 8
/* The tcp_turns entry of a connection sending in one direction is touched this often (its
 * last_ns, that the agent sweeps idle entries by, stays fresh). */
#define TURN_REFRESH_NS 1000000000ULL

enum turn_cache {
    TURN_CACHE_NONE = 0,
    TURN_CACHE_INGRESS = 1, /* the last data segment recorded in tcp_turns came in */
    TURN_CACHE_EGRESS = 2,  /* ... went out */
};

struct l7_sock {
    __u64 turn_touch_ns; /* coarse clock at the last tcp_turns update */
    __u8 http;           /* enum http_verdict */
    __u8 probes;         /* data segments seen while HTTP_UNDECIDED */
    __u8 turn_side;      /* enum turn_cache */
    __u8 owner_known;    /* the tcp_turns entry has its process */
    __u32 _pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct l7_sock);
} netobs_l7_socks SEC(".maps");

/* The state of the packet's full socket, made when create is set; NULL for request and
 * time-wait sockets, or a packet with none: those take the full path. */
static __always_inline struct l7_sock *sock_state(struct __sk_buff *ctx, bool create)
{
    struct bpf_sock *sk = ctx->sk;
    if (!sk)
        return NULL;
    sk = bpf_sk_fullsock(sk);
    if (!sk)
        return NULL;
    return bpf_sk_storage_get(&netobs_l7_socks, sk, 0, create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void count(__u32 which)
{
    __u64 *n = bpf_map_lookup_elem(&netobs_l7_counters, &which);
    if (n)
        *n += 1; /* per-CPU slot */
}

/* One packet as the local socket sees it. */
struct packet {
    struct netobs_tuple tuple; /* local = this socket's end */
    __u32 l4_off;
    __u32 payload_off;
    __u32 payload_len;
    __u32 seq;
    __u8 ip_version;
    __u8 protocol;
    __u8 tcp_flags;
    bool egress;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Header bytes at off: read in place when they are in the linear part (the usual case),
 * else copied by the helper. */
static __always_inline int load_header(struct __sk_buff *ctx, __u32 off, void *to, __u32 len)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u32 in_place = off & 0xff; /* headers start within 256 bytes; the bound is for the verifier */
    if (in_place == off && data + in_place + len <= end) {
        __builtin_memcpy(to, data + in_place, len);
        return 0;
    }
    return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline bool parse_packet(struct __sk_buff *ctx, bool egress, struct packet *p)
{
    __u32 len = ctx->len;
    __u8 *local = p->tuple.local_addr, *remote = p->tuple.remote_addr;
    if (ctx->protocol == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (load_header(ctx, 0, &ip, sizeof(ip)))
            return false;
        if (ip.frag_off & bpf_htons(0x1fff))
            return false; /* a later fragment: no L4 header */
        p->ip_version = 4;
        p->protocol = ip.protocol;
        p->l4_off = ip.ihl * 4;
        __builtin_memcpy(egress ? local : remote, &ip.saddr, 4);
        __builtin_memcpy(egress ? remote : local, &ip.daddr, 4);
    } else if (ctx->protocol == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr ip6;
        if (load_header(ctx, 0, &ip6, sizeof(ip6)))
            return false;
        p->ip_version = 6;
        p->protocol = ip6.nexthdr; /* extension headers are not followed */
        p->l4_off = sizeof(ip6);
        __builtin_memcpy(egress ? local : remote, &ip6.saddr, 16);
        __builtin_memcpy(egress ? remote : local, &ip6.daddr, 16);
    } else {
        return false;
    }
    __be16 ports[2];
    if (p->protocol == IPPROTO_TCP) {
        struct tcphdr th; /* one load: the ports lead the header */
        if (load_header(ctx, p->l4_off, &th, sizeof(th)))
            return false;
        ports[0] = th.source;
        ports[1] = th.dest;
        p->payload_off = p->l4_off + th.doff * 4;
        p->seq = bpf_ntohl(th.seq);
        p->tcp_flags = ((__u8 *)&th)[13];
    } else if (p->protocol == IPPROTO_UDP) {
        if (bpf_skb_load_bytes(ctx, p->l4_off, ports, sizeof(ports)))
            return false;
        p->payload_off = p->l4_off + sizeof(struct udphdr);
    } else {
        return false;
    }
    p->tuple.local_port = bpf_ntohs(egress ? ports[0] : ports[1]);
    p->tuple.remote_port = bpf_ntohs(egress ? ports[1] : ports[0]);
    p->egress = egress;
    if (p->payload_off > len)
        return false;
    p->payload_len = len - p->payload_off;
    return true;
}

/* Endpoints and owner from the socket (the kernel's sk_buff behind the context). The pid and
 * comm of "current" are the socket's user only in process context: a UDP send, or a TCP
 * send while the sender holds the socket lock (softirq transmissions never do). */
static __always_inline void fill_socket(struct __sk_buff *ctx, const struct packet *p,
                                        struct netobs_l7_event *e, __u8 role)
{
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    __builtin_memcpy(e->ep.local_addr, p->tuple.local_addr, 16);
    __builtin_memcpy(e->ep.remote_addr, p->tuple.remote_addr, 16);
    e->ep.local_port = p->tuple.local_port;
    e->ep.remote_port = p->tuple.remote_port;
    e->ep.ip_version = p->ip_version;
    e->ep.protocol = p->protocol;
    e->ep.role = role;
    e->ep.netns = p->tuple.netns;
    if (!sk)
        return;
    struct cgroup *cg = sk->sk_cgrp_data.cgroup;
    if (cg)
        e->owner.cgroup_id = cg->kn->id;
    bool process_context = p->egress && (p->protocol == IPPROTO_UDP || sk->sk_lock.owned);
    if (process_context) {
        e->owner.pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(e->owner.comm, sizeof(e->owner.comm));
    }
}

static __always_inline __u32 socket_netns(struct __sk_buff *ctx)
{
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    return sk ? sk->__sk_common.skc_net.net->ns.inum : 0;
}

static __always_inline int emit(struct netobs_l7_event *e)
{
    if (bpf_ringbuf_output(&netobs_l7_events, e, sizeof(*e), BPF_RB_NO_WAKEUP)) {
        count(NETOBS_L7_RINGBUF_FULL);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

static __always_inline bool is_http_port(__u16 port)
{
    return port == 80 || port == 8080;
}

/* The method at the start of a request line, and the length of "METHOD ". */
static __always_inline __u8 http_method(const __u8 *b, __u32 *len)
{
#define IS(s) (__builtin_memcmp(b, s, sizeof(s) - 1) == 0 && (*len = sizeof(s) - 1))
    if (IS("GET ")) return NETOBS_HTTP_GET;
    if (IS("POST ")) return NETOBS_HTTP_POST;
    if (IS("PUT ")) return NETOBS_HTTP_PUT;
    if (IS("HEAD ")) return NETOBS_HTTP_HEAD;
    if (IS("DELETE ")) return NETOBS_HTTP_DELETE;
    if (IS("PATCH ")) return NETOBS_HTTP_PATCH;
    if (IS("OPTIONS ")) return NETOBS_HTTP_OPTIONS;
    if (IS("CONNECT ")) return NETOBS_HTTP_CONNECT;
    if (IS("TRACE ")) return NETOBS_HTTP_TRACE;
#undef IS
    return NETOBS_HTTP_UNKNOWN;
}

/* "HTTP/1.x" at b: 10 or 11, else 0. */
static __always_inline __u8 http_version(const __u8 *b)
{
    if (__builtin_memcmp(b, "HTTP/1.", 7))
        return 0;
    return b[7] == '0' ? 10 : b[7] == '1' ? 11 : 0;
}

static __always_inline struct scratch *get_scratch(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&netobs_l7_scratch, &zero);
}

/* URI scan state for bpf_loop: one callback verified once instead of an unrolled loop. */
struct uri_scan {
    __u32 start; /* first URI byte: after "METHOD " */
    __u32 n;     /* payload bytes loaded */
    __u32 end;   /* the byte that ended the URI, 0 = not found */
};

static long uri_byte(__u32 index, struct uri_scan *scan)
{
    struct scratch *s = get_scratch();
    __u32 i = scan->start + index;
    if (!s || i >= scan->n)
        return 1;
    __u8 ch = s->payload[i & (PAYLOAD_MAX - 1)];
    if (ch == ' ' || ch == '\r' || ch == '\n') {
        scan->end = i;
        return 1;
    }
    if (index < NETOBS_L7_TEXT_LEN)
        s->conn.fifo[0].text[index & (NETOBS_L7_TEXT_LEN - 1)] = ch;
    return 0;
}

/* A request line: queue it on the connection. */
static __always_inline void http_request(struct __sk_buff *ctx, const struct packet *p, __u8 method,
                                         __u32 method_len, struct scratch *s)
{
    __u32 n = p->payload_len < PAYLOAD_MAX ? p->payload_len : PAYLOAD_MAX;
    if (n < method_len + 1 || n > PAYLOAD_MAX)
        return;
    if (bpf_skb_load_bytes(ctx, p->payload_off, s->payload, n))
        return;
    struct netobs_http_conn *c = bpf_map_lookup_elem(&netobs_http_conns, &p->tuple);
    if (!c) {
        __builtin_memset(&s->conn, 0, sizeof(s->conn) - sizeof(s->conn.fifo));
        long err = bpf_map_update_elem(&netobs_http_conns, &p->tuple, &s->conn, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count(NETOBS_L7_HTTP_CONN_MAP_FULL);
            return;
        }
        c = bpf_map_lookup_elem(&netobs_http_conns, &p->tuple);
        if (!c)
            return;
    }
    __u64 now = bpf_ktime_get_ns();
    c->last_ns = now;
    if (c->tail != c->head && c->fifo[(c->tail - 1) & (NETOBS_HTTP_FIFO - 1)].seq == p->seq)
        return; /* the same request again: a retransmission */
    if (c->tail - c->head >= NETOBS_HTTP_FIFO) {
        count(NETOBS_L7_HTTP_FIFO_FULL);
        return;
    }
    struct netobs_l7_event *e = &s->conn.fifo[0];
    __builtin_memset(e, 0, sizeof(*e));
    e->kind = NETOBS_L7_HTTP;
    e->start_ns = now;
    e->seq = p->seq;
    e->http_method = method;
    /* Egress: this socket sent the request, it is the client. */
    fill_socket(ctx, p, e, p->egress ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER);

    /* URI: up to the space before the version; past a cut URI the version is still read. */
    struct uri_scan scan = {.start = method_len, .n = n};
    bpf_loop(PAYLOAD_MAX, uri_byte, &scan, 0);
    __u32 end = scan.end;
    __u32 uri_len = (end ? end : n) - method_len;
    e->truncated = uri_len > NETOBS_L7_TEXT_LEN || !end;
    e->text_len = uri_len > NETOBS_L7_TEXT_LEN ? NETOBS_L7_TEXT_LEN : uri_len;
    if (end && end + 9 <= n && end < PAYLOAD_MAX - 9 && s->payload[end] == ' ')
        e->http_version = http_version(&s->payload[end + 1]);
    __builtin_memcpy(&c->fifo[c->tail & (NETOBS_HTTP_FIFO - 1)], e, sizeof(*e));
    c->tail += 1;
}

/* A status line: completes the oldest pending request. */
static __always_inline void http_response(struct __sk_buff *ctx, const struct packet *p, const __u8 *b)
{
    if (b[8] != ' ' || b[9] < '0' || b[9] > '9' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9') {
        if (is_http_port(p->tuple.local_port) || is_http_port(p->tuple.remote_port))
            count(NETOBS_L7_HTTP_UNPARSED);
        return;
    }
    __u16 status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    if (status >= 100 && status < 200 && status != 101)
        return; /* interim (100 Continue): the final response follows */
    struct netobs_http_conn *c = bpf_map_lookup_elem(&netobs_http_conns, &p->tuple);
    if (!c || c->tail == c->head) {
        if (!c || c->last_response_seq != p->seq)
            count(NETOBS_L7_HTTP_RESPONSE_UNMATCHED);
        return;
    }
    __u64 now = bpf_ktime_get_ns();
    c->last_ns = now;
    c->last_response_seq = p->seq;
    struct scratch *s = get_scratch();
    if (!s)
        return;
    struct netobs_l7_event *e = &s->conn.fifo[0];
    __builtin_memcpy(e, &c->fifo[c->head & (NETOBS_HTTP_FIFO - 1)], sizeof(*e));
    c->head += 1;
    e->end_ns = now;
    e->http_status = status;
    if (e->ep.role == NETOBS_ROLE_SERVER) {
        /* The server's owner is the process sending the response, when we are in its send. */
        struct netobs_l7_event here = {};
        fill_socket(ctx, p, &here, NETOBS_ROLE_SERVER);
        if (here.owner.pid) {
            e->owner.pid = here.owner.pid;
            __builtin_memcpy(e->owner.comm, here.owner.comm, sizeof(e->owner.comm));
        }
    }
    emit(e);
}

/* Parses a segment; true when it starts an HTTP message (request or status line). */
static __always_inline bool http_segment(struct __sk_buff *ctx, struct packet *p)
{
    bool start = false;
    if (p->payload_len >= 12) {
        __u8 head[12];
        if (bpf_skb_load_bytes(ctx, p->payload_off, head, sizeof(head)))
            return false;
        __u32 method_len = 0;
        __u8 method = http_method(head, &method_len);
        if (method) {
            start = true;
            struct scratch *s = get_scratch();
            if (s)
                http_request(ctx, p, method, method_len, s);
        } else if (http_version(head)) {
            start = true;
            http_response(ctx, p, head);
        } else if (is_http_port(p->tuple.local_port) || is_http_port(p->tuple.remote_port)) {
            /* Not a message start: a body continues, or it is not HTTP at all. */
            if (!bpf_map_lookup_elem(&netobs_http_conns, &p->tuple))
                count(NETOBS_L7_HTTP_UNPARSED);
        }
    } else if (p->payload_len > 0 && (is_http_port(p->tuple.local_port) || is_http_port(p->tuple.remote_port))) {
        if (!bpf_map_lookup_elem(&netobs_http_conns, &p->tuple))
            count(NETOBS_L7_HTTP_UNPARSED);
    }
    /* RST ends the connection; FIN too once nothing is pending (a half-closed client may still
     * get its answer; the agent sweeps what stays idle). */
    if (p->tcp_flags & (TCP_FIN | TCP_RST)) {
        struct netobs_http_conn *c = bpf_map_lookup_elem(&netobs_http_conns, &p->tuple);
        if (c && ((p->tcp_flags & TCP_RST) || c->head == c->tail))
            bpf_map_delete_elem(&netobs_http_conns, &p->tuple);
    }
    return start;
}

/* Judges a connection by its first data segments: HTTP once a message starts; not HTTP after
 * HTTP_PROBE_SEGMENTS without one, unless a port says HTTP (there, every segment is parsed and
 * what is not HTTP is counted). */
static __always_inline void http_classify(struct l7_sock *st, const struct packet *p, bool start)
{
    if (!st || st->http != HTTP_UNDECIDED || !p->payload_len)
        return;
    if (start) {
        st->http = HTTP_YES;
    } else if (++st->probes >= HTTP_PROBE_SEGMENTS &&
               !is_http_port(p->tuple.local_port) && !is_http_port(p->tuple.remote_port)) {
        st->http = HTTP_NO;
    }
}

/* ---------------------------------------------------------------- TCP request latency */

static __always_inline __u32 log2_u64(__u64 v)
{
    __u32 r = 0;
    if (v >> 32) { v >>= 32; r += 32; }
    if (v >> 16) { v >>= 16; r += 16; }
    if (v >> 8) { v >>= 8; r += 8; }
    if (v >> 4) { v >>= 4; r += 4; }
    if (v >> 2) { v >>= 2; r += 2; }
    if (v >> 1) { r += 1; }
    return r;
}

/* Turns of any TCP conversation: the requester's data after the responder's turn starts a
 * request; the responder's first data after it ends it, a latency sample. No parser: Redis,
 * PostgreSQL or an unknown protocol gets a request rate and a latency. */
static __always_inline struct netobs_tcp_turns *tcp_turn(struct __sk_buff *ctx, const struct packet *p,
                                                         struct l7_sock *st)
{
    bool syn = (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    bool end = p->tcp_flags & (TCP_FIN | TCP_RST);
    if (!p->payload_len && !syn && !end)
        return NULL;
    if (st)
        st->turn_side = TURN_CACHE_NONE; /* set again below once this packet is recorded */
    __u64 now = bpf_ktime_get_ns();
    struct netobs_tcp_turns *t = bpf_map_lookup_elem(&netobs_tcp_turns, &p->tuple);
    if (!t) {
        if (!p->payload_len && !syn)
            return NULL; /* a close of a connection never seen carrying data */
        struct scratch *s = get_scratch();
        if (!s)
            return NULL;
        /* The scratch's connection FIFO is free here: the HTTP path runs after. */
        struct netobs_tcp_turns *fresh = (struct netobs_tcp_turns *)&s->conn;
        __builtin_memset(fresh, 0, sizeof(*fresh));
        /* The SYN's sender is the requester (the client); mid-life, whoever sends first. */
        __u8 role = syn ? (p->egress ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER) : NETOBS_ROLE_UNKNOWN;
        struct netobs_l7_event *e = &s->conn.fifo[2]; /* past fresh */
        __builtin_memset(e, 0, sizeof(*e));
        fill_socket(ctx, p, e, role);
        fresh->ep = e->ep;
        fresh->owner = e->owner;
        fresh->requester_local = p->egress;
        fresh->first_ns = now;
        long err = bpf_map_update_elem(&netobs_tcp_turns, &p->tuple, fresh, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count(NETOBS_L7_TCP_TURNS_MAP_FULL);
            return NULL;
        }
        t = bpf_map_lookup_elem(&netobs_tcp_turns, &p->tuple);
        if (!t)
            return NULL;
    }
    t->last_ns = now;
    if (end)
        t->closed = 1;
    if (!p->payload_len)
        return t;
    if (t->data_segments < 255)
        t->data_segments += 1;
    if (!t->owner.pid && p->egress) {
        struct netobs_l7_event here = {};
        fill_socket(ctx, p, &here, t->ep.role);
        if (here.owner.pid) {
            t->owner.pid = here.owner.pid;
            __builtin_memcpy(t->owner.comm, here.owner.comm, sizeof(t->owner.comm));
        }
    }
    if (st && !end) {
        /* Until the other side sends, more data this way changes nothing but last_ns. */
        st->turn_side = p->egress ? TURN_CACHE_EGRESS : TURN_CACHE_INGRESS;
        st->turn_touch_ns = bpf_ktime_get_coarse_ns();
        st->owner_known = t->owner.pid != 0;
    }
    bool request = p->egress == (bool)t->requester_local;
    if (request) {
        if (t->last_turn != NETOBS_TURN_REQUEST) {
            t->request_start_ns = now;
            t->last_turn = NETOBS_TURN_REQUEST;
        }
        return t;
    }
    __u64 start = t->request_start_ns;
    t->last_turn = NETOBS_TURN_RESPONSE;
    if (!start || now < start)
        return t;
    t->request_start_ns = 0;
    __u64 latency = now - start;
    __sync_fetch_and_add(&t->requests, 1);
    __sync_fetch_and_add(&t->latency_sum_ns, latency);
    __u32 b = log2_u64(latency / 1000);
    if (b >= NETOBS_LATENCY_BUCKETS)
        b = NETOBS_LATENCY_BUCKETS - 1;
    __sync_fetch_and_add(&t->hist[b & (NETOBS_LATENCY_BUCKETS - 1)], 1);
    __u32 zero = 0;
    struct netobs_l7_config *cfg = bpf_map_lookup_elem(&netobs_l7_config, &zero);
    __u32 epoch = cfg ? cfg->epoch : 0;
    __u32 slot = epoch & 1;
    if (t->max_epoch[slot] != epoch) {
        t->max_epoch[slot] = epoch;
        t->max_ns[slot] = 0;
    }
    if (latency > t->max_ns[slot])
        t->max_ns[slot] = latency;
    return t;
}

/* ---------------------------------------------------------------- DNS */

static __always_inline void dns_datagram(struct __sk_buff *ctx, struct packet *p)
{
    struct scratch *s = get_scratch();
    if (!s)
        return;
    __u32 n = p->payload_len < DNS_MAX ? p->payload_len : DNS_MAX;
    if (n < 12 + 1 + 4 || n > DNS_MAX || bpf_skb_load_bytes(ctx, p->payload_off, s->payload, n)) {
        count(NETOBS_L7_DNS_UNPARSED);
        return;
    }
    __u8 *b = s->payload;
    __u16 id = (__u16)b[0] << 8 | b[1];
    bool response = b[2] & 0x80;
    __u8 opcode = (b[2] >> 3) & 0xf;
    __u16 qdcount = (__u16)b[4] << 8 | b[5];
    if (opcode != 0 || qdcount != 1) {
        count(NETOBS_L7_DNS_UNPARSED);
        return;
    }

    struct netobs_dns_key key = {};
    key.tuple = p->tuple;
    key.id = id;
    if (response) {
        struct netobs_l7_event *pending = bpf_map_lookup_elem(&netobs_dns_pending, &key);
        if (!pending)
            return; /* the query was not seen (or timed out and was reported) */
        struct netobs_l7_event *e = &s->conn.fifo[0];
        __builtin_memcpy(e, pending, sizeof(*e));
        /* Whoever deletes the entry reports it: this answer, or the agent's timeout. */
        if (bpf_map_delete_elem(&netobs_dns_pending, &key))
            return;
        e->end_ns = bpf_ktime_get_ns();
        e->dns_rcode = b[3] & 0xf;
        if (e->ep.role == NETOBS_ROLE_SERVER) {
            struct netobs_l7_event here = {};
            fill_socket(ctx, p, &here, NETOBS_ROLE_SERVER);
            if (here.owner.pid) {
                e->owner.pid = here.owner.pid;
                __builtin_memcpy(e->owner.comm, here.owner.comm, sizeof(e->owner.comm));
            }
        }
        emit(e);
        return;
    }

    /* A query: the question's name as length-prefixed labels, then its type. */
    struct netobs_l7_event *e = &s->conn.fifo[0];
    __builtin_memset(e, 0, sizeof(*e));
    __u32 pos = 0, i;
    for (i = 0; i < 64; i++) {
        if (pos >= NETOBS_L7_TEXT_LEN || 12 + pos >= n)
            break;
        __u8 label = b[(12 + pos) & (PAYLOAD_MAX - 1)];
        if (label == 0)
            break;
        if (label > 63) { /* compression or a reserved form: not in a question */
            count(NETOBS_L7_DNS_UNPARSED);
            return;
        }
        pos += label + 1;
    }
    if (12 + pos >= n) {
        count(NETOBS_L7_DNS_UNPARSED);
        return;
    }
    if (pos < NETOBS_L7_TEXT_LEN) {
        e->text_len = pos;
        __u32 t = 12 + pos + 1;
        if (t + 2 <= n && t < PAYLOAD_MAX - 2)
            e->dns_qtype = (__u16)b[t] << 8 | b[t + 1];
    } else {
        e->text_len = NETOBS_L7_TEXT_LEN;
        e->truncated = 1;
    }
    __builtin_memcpy(e->text, &b[12], NETOBS_L7_TEXT_LEN);
    e->kind = NETOBS_L7_DNS;
    e->dns_id = id;
    e->start_ns = bpf_ktime_get_ns();
    fill_socket(ctx, p, e, p->egress ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER);
    if (bpf_map_update_elem(&netobs_dns_pending, &key, e, BPF_ANY))
        count(NETOBS_L7_DNS_PENDING_MAP_FULL);
}

/* ---------------------------------------------------------------- entry points */

/* A data segment of a connection judged not HTTP, in the direction tcp_turns last recorded,
 * recently enough, and with nothing new to learn of the process: nothing to parse, nothing
 * to record. */
static __always_inline bool nothing_new(struct __sk_buff *ctx, const struct l7_sock *st, const struct packet *p)
{
    if ((p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) || st->http != HTTP_NO)
        return false;
    if (st->turn_side != (p->egress ? TURN_CACHE_EGRESS : TURN_CACHE_INGRESS))
        return false;
    if (bpf_ktime_get_coarse_ns() - st->turn_touch_ns >= TURN_REFRESH_NS)
        return false;
    if (p->egress && !st->owner_known) {
        /* The process is learnt from a send that holds the socket lock (see fill_socket). */
        struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
        struct sock *sk = skb->sk;
        return !sk || !sk->sk_lock.owned;
    }
    return true;
}

/* A connection that has carried BULK_SEGMENTS data segments gets its socket state; one that
 * already started HTTP exchanges (not on an HTTP port) is judged HTTP from the start. */
static __always_inline struct l7_sock *bulk_state(struct __sk_buff *ctx, const struct packet *p,
                                                  const struct netobs_tcp_turns *t)
{
    if (!t || t->data_segments < BULK_SEGMENTS)
        return NULL;
    if (is_http_port(p->tuple.local_port) || is_http_port(p->tuple.remote_port))
        return NULL; /* never judged not HTTP: the state would not pay */
    struct l7_sock *st = sock_state(ctx, true);
    if (st && st->http == HTTP_UNDECIDED && bpf_map_lookup_elem(&netobs_http_conns, &p->tuple))
        st->http = HTTP_YES;
    return st;
}

static __always_inline void on_packet(struct __sk_buff *ctx, bool egress)
{
    struct packet p = {};
    if (!parse_packet(ctx, egress, &p))
        return;
    if (p.protocol == IPPROTO_TCP) {
        if (!p.payload_len && !(p.tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)))
            return; /* a bare ACK: no turn, no message */
        bool dns = p.tuple.local_port == DNS_PORT || p.tuple.remote_port == DNS_PORT;
        struct l7_sock *st = dns ? NULL : sock_state(ctx, false);
        if (st && nothing_new(ctx, st, &p))
            return;
        p.tuple.netns = socket_netns(ctx);
        struct netobs_tcp_turns *t = tcp_turn(ctx, &p, st);
        if (!st && !dns)
            st = bulk_state(ctx, &p, t);
        if (dns) {
            /* DNS over TCP: each message behind a 2-byte length (RFC 1035 4.2.2); the first
             * message of a segment is parsed. */
            if (p.payload_len > 2) {
                p.payload_off += 2;
                p.payload_len -= 2;
                dns_datagram(ctx, &p);
            }
        } else if ((p.tcp_flags & (TCP_FIN | TCP_RST)) || (p.payload_len && !(st && st->http == HTTP_NO))) {
            http_classify(st, &p, http_segment(ctx, &p));
        }
    } else if (p.tuple.local_port == DNS_PORT || p.tuple.remote_port == DNS_PORT) {
        p.tuple.netns = socket_netns(ctx);
        dns_datagram(ctx, &p);
    }
}

SEC("cgroup_skb/egress")
int netobs_l7_egress(struct __sk_buff *ctx)
{
    if (!l7_active())
        return 1;
    on_packet(ctx, true);
    return 1; /* observe only: always pass */
}

SEC("cgroup_skb/ingress")
int netobs_l7_ingress(struct __sk_buff *ctx)
{
    if (!l7_active())
        return 1;
    on_packet(ctx, false);
    return 1;
}
