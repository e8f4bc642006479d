// SPDX-License-Identifier: GPL-2.0
/* L7 collection: HTTP/1.x exchanges, DNS queries (UDP and TCP) and the request latency of any
 * TCP protocol, from the wire, aggregated in the kernel.
 *
 * cgroup_skb programs on the cgroup v2 root see every pod's packets, both directions, with the
 * socket that sends or receives them: attribution needs no process context, and each end of a
 * connection on this node reports its own view (client and server).
 *
 * A TCP connection keeps one socket-storage entry (struct l7_sock, made at its first data
 * segment, freed with the socket): whose turn it is, the HTTP requests awaiting their responses
 * (compact slots), whether it speaks HTTP at all. A completed exchange adds to its key's count
 * and log2 latency histogram in a per-CPU hash (netobs_l7_aggregates) that the agent reads once
 * per interval; only exemplars (errors, slow exchanges, 1 in N per key) leave one by one through
 * a ring buffer. URIs and DNS names travel as 64-bit ids, their text written once into
 * netobs_l7_texts. DNS queries wait in a hash keyed by tuple and id (a UDP server socket answers
 * many peers); the agent ages out unanswered ones (timeouts).
 *
 * The rules' port and cgroup filters (as the L4 programs apply them) are checked once per
 * connection, where its state is made, and per DNS query over UDP; a connection kept out costs
 * one more byte's read per packet.
 *
 * Every packet of every pod passes here, so the common case is cheap: a bare ACK returns after
 * the header read; a segment that continues a turn (a response body, a bulk upload) after one
 * storage lookup. Only the first segment of a turn, or one that follows while requests are
 * pending (pipelining, a request line split over segments), is looked at for an HTTP message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netobs_layout.h"
#include "udp_flows.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define EEXIST 17
#define DNS_PORT 53
#define PAYLOAD_MAX 512  /* request line bytes looked at: method, URI, version */
#define URI_WINDOW 160   /* loaded first: the method, a URI of up to 128 bytes and the version */
#define DNS_MAX (12 + NETOBS_L7_TEXT_LEN + 4)

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* Completed exchanges per key, cumulative. Per CPU: no cache line shared between CPUs; sized
 * by the agent before load (memory grows with the CPU count). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 16384);
    __type(key, struct netobs_l7_aggregate_key);
    __type(value, struct netobs_l7_aggregate);
} netobs_l7_aggregates SEC(".maps");

/* Where an exchange goes when its key finds no room (index: enum netobs_l7_kind). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, struct netobs_l7_aggregate);
} netobs_l7_overflow SEC(".maps");

/* URI and DNS name texts by id, written when an id is first seen. LRU: old texts make room
 * (the agent keeps the ones it has read). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct netobs_l7_text);
} netobs_l7_texts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct netobs_dns_key);
    __type(value, struct netobs_l7_event);
} netobs_dns_pending SEC(".maps");

/* Exemplars. */
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

/* Request latency per connection side, by socket cookie: made at its first answered request. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct netobs_tcp_latency);
} netobs_tcp_latency SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_l7_config);
} netobs_l7_config SEC(".maps");

/* The rules' port and cgroup sets (host byte order; values unused): the agent writes the same
 * sets here as into the L4 object's netobs_rule_ports/netobs_rule_cgroups, the sets before the
 * modes in netobs_l7_config that use them. Copies, not shared maps: the L7 object loads and
 * swaps on its own, with or without the L4 one. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u16);
    __type(value, __u8);
} netobs_l7_rule_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, __u8);
} netobs_l7_rule_cgroups SEC(".maps");

/* Whether the rules let a connection (once, where its state is made) or a DNS query be
 * collected: rules_admit of the L4 programs without the protocol and flow sampling parts (a
 * port hit is the local or the remote port in the set). With both modes off (the common case)
 * no set is looked up. */
static __always_inline bool rules_admit(const struct netobs_l7_config *cfg, __u16 local_port, __u16 remote_port,
                                        __u64 cgroup_id)
{
    __u8 port_mode = cfg->port_mode, cgroup_mode = cfg->cgroup_mode;
    if (port_mode != NETOBS_FILTER_OFF) {
        bool hit = (local_port && bpf_map_lookup_elem(&netobs_l7_rule_ports, &local_port)) ||
                   (remote_port && bpf_map_lookup_elem(&netobs_l7_rule_ports, &remote_port));
        if (hit != (port_mode == NETOBS_FILTER_INCLUDE))
            return false;
    }
    if (cgroup_mode != NETOBS_FILTER_OFF) {
        bool hit = bpf_map_lookup_elem(&netobs_l7_rule_cgroups, &cgroup_id) != NULL;
        if (hit != (cgroup_mode == NETOBS_FILTER_INCLUDE))
            return false;
    }
    return true;
}

/* Set before load: the generation of this copy of the programs. Only the copy whose
 * generation the agent marked active in netobs_l7_config works, so a hot swap (load the new copy
 * beside the old one on the same maps, flip the mark, detach the old) has no gap and parses no
 * packet twice. */
const volatile __u32 netobs_generation = 0;

/* The settings when this copy does the work (the active generation); NULL otherwise. */
static __always_inline struct netobs_l7_config *active_config(void)
{
    __u32 zero = 0;
    struct netobs_l7_config *cfg = bpf_map_lookup_elem(&netobs_l7_config, &zero);
    if (!cfg || cfg->generation != netobs_generation)
        return NULL;
    return cfg;
}

/* Per-CPU scratch: the BPF stack (512 bytes) cannot hold a payload window and the records. */
struct scratch {
    __u8 payload[PAYLOAD_MAX];
    struct netobs_l7_event event;          /* the exchange being completed */
    struct netobs_l7_aggregate_key key;
    struct netobs_l7_text text;            /* the URI or name scanned last */
    union {
        struct netobs_l7_aggregate fresh;  /* a new aggregate */
        struct netobs_tcp_latency latency; /* a new latency entry */
    };
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} netobs_l7_scratch SEC(".maps");

static __always_inline struct scratch *get_scratch(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&netobs_l7_scratch, &zero);
}

/* ---------------------------------------------------------------- per-connection state */

enum http_verdict {
    HTTP_UNDECIDED = 0,
    HTTP_YES = 1, /* a request or status line was seen */
    HTTP_NO = 2,  /* HTTP_PROBE_TURNS turns began, none with a message, no HTTP port */
    HTTP_H2 = 3,  /* HTTP/2 in cleartext (h2c, the client preface seen): bytes go to the agent */
};

/* Turns looked at before a connection on a non-HTTP port is judged not HTTP: a connection first
 * seen mid-life may start inside a body. */
#define HTTP_PROBE_TURNS 8

enum direction {
    DIR_NONE = 0,
    DIR_INGRESS = 1,
    DIR_EGRESS = 2,
};

#define SOCK_HAS_LATENCY 1 /* netobs_tcp_latency has this socket's entry */

/* A request awaiting its response. */
struct l7_slot {
    __u64 start_ns;
    __u64 uri_id;
    __u32 seq;       /* TCP sequence number of the request line: a retransmission is not a new request */
    __u8 method;
    __u8 version;
    __u8 truncated;
    __u8 _pad;
};

struct l7_sock {
    __u64 cgroup_id;
    __u64 request_start_ns; /* the requester's turn awaiting the responder's first data, 0 = none */
    __u64 last_uri_id;      /* the URI whose text was made known last: keep-alive repeats skip the text map */
    __u32 netns;
    __u32 last_response_seq;
    __u32 pid;              /* the owner, from a send in process context (0: not seen yet) */
    char comm[NETOBS_COMM_LEN];
    __u8 role;              /* enum netobs_role; 0 until the entry is filled */
    __u8 last_dir;          /* enum direction of the last data segment: the other one starts a turn */
    __u8 http;              /* enum http_verdict */
    __u8 probes;            /* turns looked at while HTTP_UNDECIDED */
    __u8 head;              /* next request to answer (fifo[head % N]) */
    __u8 tail;              /* next free slot; tail - head = pending */
    __u8 flags;             /* SOCK_* */
    __u8 ruled_out;         /* the rules kept this connection out when its state was made (a
                             * byte that was padding: state made by an older copy reads 0, in) */
    struct l7_slot fifo[NETOBS_HTTP_FIFO];
    __u32 h2_next_seq[2];   /* h2c: the sequence number after the bytes passed on, egress/ingress */
};

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct l7_sock);
} netobs_l7_socks SEC(".maps");

static __always_inline void count(__u32 which)
{
    __u64 *n = bpf_map_lookup_elem(&netobs_l7_counters, &which);
    if (n)
        *n += 1; /* per-CPU slot */
}

/* ---------------------------------------------------------------- packets */

/* One packet as the local socket sees it. */
struct packet {
    struct netobs_tuple tuple; /* local = this socket's end */
    __u32 payload_off;
    __u32 payload_len;
    __u32 seq;
    __u8 ip_version;
    __u8 protocol;
    __u8 tcp_flags;
    bool egress;
    __u64 now;                 /* bpf_ktime_get_ns(), read once when needed (0: not yet) */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

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
    __u32 len = ctx->len, l4_off;
    __u8 *local = p->tuple.local_addr, *remote = p->tuple.remote_addr;
    if (ctx->protocol == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (load_header(ctx, 0, &ip, sizeof(ip)))
            return false;
        if (ip.frag_off & bpf_htons(0x1fff))
            return false; /* a later fragment: no L4 header */
        p->ip_version = 4;
        p->protocol = ip.protocol;
        l4_off = ip.ihl * 4;
        __builtin_memcpy(egress ? local : remote, &ip.saddr, 4);
        __builtin_memcpy(egress ? remote : local, &ip.daddr, 4);
    } else if (ctx->protocol == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr ip6;
        if (load_header(ctx, 0, &ip6, sizeof(ip6)))
            return false;
        p->ip_version = 6;
        p->protocol = ip6.nexthdr; /* extension headers are not followed */
        l4_off = sizeof(ip6);
        __builtin_memcpy(egress ? local : remote, &ip6.saddr, 16);
        __builtin_memcpy(egress ? remote : local, &ip6.daddr, 16);
    } else {
        return false;
    }
    __be16 ports[2];
    if (p->protocol == IPPROTO_TCP) {
        struct tcphdr th; /* one load: the ports lead the header */
        if (load_header(ctx, l4_off, &th, sizeof(th)))
            return false;
        ports[0] = th.source;
        ports[1] = th.dest;
        p->payload_off = l4_off + th.doff * 4;
        p->seq = bpf_ntohl(th.seq);
        p->tcp_flags = ((__u8 *)&th)[13];
    } else if (p->protocol == IPPROTO_UDP) {
        if (load_header(ctx, l4_off, ports, sizeof(ports)))
            return false;
        p->payload_off = l4_off + sizeof(struct udphdr);
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

static __always_inline bool is_http_port(const struct packet *p)
{
    __u16 l = p->tuple.local_port, r = p->tuple.remote_port;
    return l == 80 || l == 8080 || r == 80 || r == 8080;
}

static __always_inline bool is_dns_port(const struct packet *p)
{
    return p->tuple.local_port == DNS_PORT || p->tuple.remote_port == DNS_PORT;
}

/* The pid and comm of "current" are the socket's user only in process context: a UDP send, or
 * a TCP send while the sender holds the socket lock (softirq transmissions never do). */
static __always_inline bool in_process_context(struct sock *sk, const struct packet *p)
{
    return p->egress && (p->protocol == IPPROTO_UDP || sk->sk_lock.owned);
}

static __always_inline void fill_endpoints(struct netobs_endpoints *ep, const struct packet *p, __u8 role)
{
    __builtin_memcpy(ep->local_addr, p->tuple.local_addr, 16);
    __builtin_memcpy(ep->remote_addr, p->tuple.remote_addr, 16);
    ep->local_port = p->tuple.local_port;
    ep->remote_port = p->tuple.remote_port;
    ep->ip_version = p->ip_version;
    ep->protocol = p->protocol;
    ep->role = role;
    ep->_pad0 = 0;
    ep->netns = p->tuple.netns;
    ep->_pad1 = 0;
}

/* ---------------------------------------------------------------- texts */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define MIX 0x9e3779b97f4a7c15ULL

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

/* The high bit of each zero byte of v (exact for the lowest one, the only one used). */
static __always_inline __u64 zero_bytes(__u64 v)
{
    return (v - ONES) & ~v & HIGHS;
}

/* A URI or name being hashed, 8 payload bytes a bpf_loop step (a loop the verifier would walk
 * word by word, in every caller): a multiply-xorshift hash over the first NETOBS_L7_TEXT_LEN
 * bytes. The scratch travels in the context: no map lookup per step. */
struct text_scan {
    struct scratch *s;
    __u64 hash;
    __u32 start; /* payload offset of the first text byte */
    __u32 next;  /* payload offset of the next word */
    __u32 n;     /* payload bytes loaded */
    __u32 end;   /* URI: offset of the byte that ended it; 0 = not seen yet */
    __u32 uri;   /* a URI ends at a space or a line end; a name runs to n */
    __u32 _pad;
};

static long scan_word(__u32 index, struct text_scan *scan)
{
    __u32 off = scan->next, n = scan->n;
    if (off >= n || off > PAYLOAD_MAX - 8)
        return 1;
    __u64 w = *(const __u64 *)(scan->s->payload + off);
    __u32 take = n - off < 8 ? n - off : 8;
    if (scan->uri) {
        __u64 stops = zero_bytes(w ^ (' ' * ONES)) | zero_bytes(w ^ ('\r' * ONES)) | zero_bytes(w ^ ('\n' * ONES));
        if (stops) {
            __u32 k = log2_u64(stops & -stops) >> 3;
            if (k < take) {
                take = k;
                scan->end = off + k;
            }
        }
    }
    if (take && off - scan->start < NETOBS_L7_TEXT_LEN) {
        if (take < 8)
            w &= (1ULL << (take * 8)) - 1;
        __u64 h = (scan->hash ^ w) * MIX;
        scan->hash = h ^ (h >> 32);
    }
    scan->next = off + take;
    return take < 8; /* the end, or all that was loaded */
}

/* The id of a scanned text: its hash with the length, the kind and the cut folded in. */
static __always_inline __u64 text_id(const struct text_scan *scan, __u32 len, __u8 kind, __u8 truncated)
{
    __u64 h = (scan->hash ^ ((__u64)len << 16 | (__u64)truncated << 8 | kind)) * MIX;
    return h ^ (h >> 29);
}

struct text_copy {
    struct scratch *s;
    __u32 start;
    __u32 len;
};

/* Word `index` of the text into the scratch text, zero past its length (no header byte leaves
 * with a URI). */
static long copy_word(__u32 index, struct text_copy *c)
{
    __u32 at = index * 8;
    if (at >= NETOBS_L7_TEXT_LEN || c->start > 16)
        return 1;
    __u64 w = 0;
    if (at < c->len) {
        w = *(const __u64 *)(c->s->payload + c->start + at);
        if (c->len - at < 8)
            w &= (1ULL << ((c->len - at) * 8)) - 1;
    }
    *(__u64 *)(c->s->text.text + at) = w;
    return 0;
}

/* Makes the text at payload[start, start + len) known under id: the agent reads the texts of
 * ids it has not seen. */
static __always_inline void publish_text(struct scratch *s, __u64 id, __u32 start, __u32 len, __u8 kind,
                                         __u8 truncated)
{
    if (bpf_map_lookup_elem(&netobs_l7_texts, &id))
        return;
    struct text_copy copy = {.s = s, .start = start, .len = len};
    bpf_loop(NETOBS_L7_TEXT_LEN / 8, copy_word, &copy, 0);
    s->text.len = len;
    s->text.kind = kind;
    s->text.truncated = truncated;
    long err = bpf_map_update_elem(&netobs_l7_texts, &id, &s->text, BPF_NOEXIST);
    if (err && err != -EEXIST)
        count(NETOBS_L7_TEXT_MAP_FULL);
}

/* ---------------------------------------------------------------- aggregates and exemplars */

static __always_inline __u32 latency_bucket(__u64 ns)
{
    __u32 b = log2_u64(ns / 1000);
    return b < NETOBS_LATENCY_BUCKETS ? b : NETOBS_LATENCY_BUCKETS - 1;
}

/* The largest duration of the interval `epoch`, in the slot the agent reads once it ended. */
static __always_inline void note_max(__u32 *max_epoch, __u64 *max_ns, __u32 epoch, __u64 ns)
{
    __u32 slot = epoch & 1;
    if (max_epoch[slot] != epoch) {
        max_epoch[slot] = epoch;
        max_ns[slot] = 0;
    }
    if (ns > max_ns[slot])
        max_ns[slot] = ns;
}

/* Counts an exchange of the scratch key that took ns in its aggregate, and says whether it
 * should also leave whole (enum netobs_exemplar_reason; 0: it should not): an error, a slow
 * one, or its key's sample. The adds are locked although the values are per CPU: a softirq may
 * count an exchange of the same key on this CPU in the middle of a send's. A global function:
 * the verifier checks it once, not at each of its callers. */
__noinline int count_exchange(struct scratch *s, struct netobs_l7_config *cfg, __u64 ns, int error)
{
    if (!s || !cfg)
        return 0;
    struct netobs_l7_aggregate_key *k = &s->key;
    struct netobs_l7_aggregate *a = bpf_map_lookup_elem(&netobs_l7_aggregates, k);
    if (!a) {
        __builtin_memset(&s->fresh, 0, sizeof(s->fresh));
        bpf_map_update_elem(&netobs_l7_aggregates, k, &s->fresh, BPF_NOEXIST);
        a = bpf_map_lookup_elem(&netobs_l7_aggregates, k);
        if (!a) {
            count(NETOBS_L7_AGGREGATE_MAP_FULL);
            __u32 index = k->kind;
            a = bpf_map_lookup_elem(&netobs_l7_overflow, &index);
            if (!a)
                return 0;
        }
    }
    __u64 seen = __sync_fetch_and_add(&a->count, 1);
    __sync_fetch_and_add(&a->duration_sum_ns, ns);
    __sync_fetch_and_add(&a->hist[latency_bucket(ns) & (NETOBS_LATENCY_BUCKETS - 1)], 1);
    note_max(a->max_epoch, a->max_ns, cfg->epoch, ns);

    __u32 every = cfg->sample_every;
    if (error)
        return NETOBS_EXEMPLAR_ERROR;
    if (cfg->slow_ns && ns >= cfg->slow_ns)
        return NETOBS_EXEMPLAR_SLOW;
    if (every && seen % every == 0) /* the first of each key (per CPU), then 1 in N */
        return NETOBS_EXEMPLAR_SAMPLE;
    return 0;
}

/* An exchange whole, on the ring buffer. */
static __always_inline void send_exemplar(struct netobs_l7_event *e, int reason)
{
    e->reason = reason;
    if (bpf_ringbuf_output(&netobs_l7_events, e, sizeof(*e), BPF_RB_NO_WAKEUP))
        count(NETOBS_L7_RINGBUF_FULL);
}

/* ---------------------------------------------------------------- TCP request latency */

/* A request answered: one latency sample for the connection. The adds need no lock: the next
 * sample on this socket waits for a new request, which only comes once this answer left. */
static __always_inline void latency_sample(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st,
                                           struct netobs_l7_config *cfg, __u64 ns, __u64 now)
{
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct netobs_tcp_latency *t = NULL;
    if (st->flags & SOCK_HAS_LATENCY)
        t = bpf_map_lookup_elem(&netobs_tcp_latency, &cookie);
    if (!t) { /* the first answer, or the agent removed an idle entry */
        struct scratch *s = get_scratch();
        if (!s)
            return;
        struct netobs_tcp_latency *fresh = &s->latency;
        __builtin_memset(fresh, 0, sizeof(*fresh));
        fill_endpoints(&fresh->ep, p, st->role);
        long err = bpf_map_update_elem(&netobs_tcp_latency, &cookie, fresh, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count(NETOBS_L7_TCP_LATENCY_MAP_FULL);
            return;
        }
        t = bpf_map_lookup_elem(&netobs_tcp_latency, &cookie);
        if (!t)
            return;
        st->flags |= SOCK_HAS_LATENCY;
    }
    if (!t->owner.pid && st->pid) {
        t->owner.pid = st->pid;
        __builtin_memcpy(t->owner.comm, st->comm, sizeof(t->owner.comm));
    }
    t->owner.cgroup_id = st->cgroup_id;
    t->last_ns = now;
    t->requests += 1;
    t->latency_sum_ns += ns;
    t->hist[latency_bucket(ns) & (NETOBS_LATENCY_BUCKETS - 1)] += 1;
    note_max(t->max_epoch, t->max_ns, cfg->epoch, ns);
    t->changed_epoch = cfg->epoch;
}

/* The first data segment of a turn. The requester is the client: its data after the
 * responder's turn starts a request; the responder's first data answers it. No parser:
 * Redis, PostgreSQL or an unknown protocol gets a request rate and a latency. */
static __always_inline void turn(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st,
                                 struct netobs_l7_config *cfg, bool request_dir, __u64 now)
{
    if (request_dir) {
        st->request_start_ns = now;
        return;
    }
    __u64 start = st->request_start_ns;
    if (!start || now < start)
        return; /* the responder spoke first */
    st->request_start_ns = 0;
    latency_sample(ctx, p, st, cfg, now - start, now);
}

/* ---------------------------------------------------------------- HTTP */

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

/* The scratch event for an exchange of this connection: endpoints, owner, the request's slot. */
static __always_inline struct netobs_l7_event *http_event(struct scratch *s, const struct packet *p,
                                                          const struct l7_sock *st, const struct l7_slot *slot)
{
    struct netobs_l7_event *e = &s->event;
    fill_endpoints(&e->ep, p, st->role);
    e->owner.pid = st->pid;
    e->owner._pad0 = 0;
    e->owner.cgroup_id = st->cgroup_id;
    __builtin_memcpy(e->owner.comm, st->comm, sizeof(e->owner.comm));
    e->start_ns = slot->start_ns;
    e->text_id = slot->uri_id;
    e->dns_id = 0;
    e->dns_qtype = 0;
    e->kind = NETOBS_L7_HTTP;
    e->truncated = slot->truncated;
    e->http_method = slot->method;
    e->http_version = slot->version;
    e->dns_rcode = 0;
    e->reason = 0;
    __builtin_memset(e->_pad, 0, sizeof(e->_pad));
    return e;
}

/* The aggregate key of an HTTP exchange of this connection. */
static __always_inline void http_key(struct netobs_l7_aggregate_key *k, const struct packet *p,
                                     const struct l7_sock *st, const struct l7_slot *slot, __u16 status)
{
    k->cgroup_id = st->cgroup_id;
    k->text_id = slot->uri_id;
    __builtin_memcpy(k->local_addr, p->tuple.local_addr, 16);
    __builtin_memcpy(k->remote_addr, p->tuple.remote_addr, 16);
    k->netns = st->netns;
    k->server_port = st->role == NETOBS_ROLE_CLIENT ? p->tuple.remote_port : p->tuple.local_port;
    k->result = status;
    k->code = slot->method;
    k->kind = NETOBS_L7_HTTP;
    k->role = st->role;
    k->ip_version = p->ip_version;
    k->http_version = slot->version;
    k->_pad[0] = k->_pad[1] = 0;
}

/* An HTTP exchange of this connection answered (status 0: never) at `now`: counted, and sent
 * whole when it is an exemplar. */
static __always_inline void http_exchange(const struct packet *p, struct l7_sock *st, struct scratch *s,
                                          struct netobs_l7_config *cfg, const struct l7_slot *slot, __u16 status,
                                          __u64 now)
{
    __u64 ns = now > slot->start_ns ? now - slot->start_ns : 0;
    http_key(&s->key, p, st, slot, status);
    int reason = count_exchange(s, cfg, ns, status >= 500 || status == 0);
    if (!reason)
        return;
    struct netobs_l7_event *e = http_event(s, p, st, slot);
    e->end_ns = now;
    e->http_status = status;
    send_exemplar(e, reason);
}

#define REQUEST_WINDOW_LOADED (1 << 16)

/* A request line: queued on the connection with its URI's id. `method_and_len` holds the method,
 * in its second byte the length of "METHOD ", and REQUEST_WINDOW_LOADED when the scratch holds
 * the payload's first URI_WINDOW bytes already. A global function, verified once (inlined, it
 * would be verified once per method). */
__noinline int http_request(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st, __u32 method_and_len)
{
    struct scratch *s = get_scratch();
    if (!p || !st || !s)
        return 0;
    __u8 method = method_and_len;
    __u32 method_len = (method_and_len >> 8) & 15;
    __u64 now = p->now;
    __u8 pending = st->tail - st->head;
    if (pending && st->fifo[(st->tail - 1) & (NETOBS_HTTP_FIFO - 1)].seq == p->seq)
        return 0; /* the same request again: a retransmission */
    if (pending >= NETOBS_HTTP_FIFO) {
        count(NETOBS_L7_HTTP_FIFO_FULL);
        return 0;
    }
    __u32 n = p->payload_len < URI_WINDOW ? p->payload_len : URI_WINDOW;
    if (n < method_len + 1 || n > URI_WINDOW)
        return 0;
    if (!(method_and_len & REQUEST_WINDOW_LOADED) && bpf_skb_load_bytes(ctx, p->payload_off, s->payload, n))
        return 0;
    /* URI: up to the space before the version; past a cut URI the version is still read. */
    struct text_scan scan = {.s = s, .start = method_len, .next = method_len, .n = n, .uri = 1};
    bpf_loop(URI_WINDOW / 8 + 1, scan_word, &scan, 0);
    if (!scan.end && p->payload_len > URI_WINDOW) {
        __u32 more = p->payload_len - URI_WINDOW;
        if (more > PAYLOAD_MAX - URI_WINDOW)
            more = PAYLOAD_MAX - URI_WINDOW;
        if (!bpf_skb_load_bytes(ctx, p->payload_off + URI_WINDOW, s->payload + URI_WINDOW, more)) {
            n = URI_WINDOW + more;
            scan.n = n;
            bpf_loop(PAYLOAD_MAX / 8, scan_word, &scan, 0);
        }
    }
    __u32 end = scan.end;
    __u32 uri_len = (end ? end : n) - method_len;
    __u8 truncated = uri_len > NETOBS_L7_TEXT_LEN || !end;
    __u32 text_len = uri_len > NETOBS_L7_TEXT_LEN ? NETOBS_L7_TEXT_LEN : uri_len;
    __u64 id = text_id(&scan, text_len, NETOBS_L7_HTTP, truncated);
    if (id != st->last_uri_id) {
        publish_text(s, id, method_len, text_len, NETOBS_L7_HTTP, truncated);
        st->last_uri_id = id;
    }
    struct l7_slot *slot = &st->fifo[st->tail & (NETOBS_HTTP_FIFO - 1)];
    slot->start_ns = now;
    slot->uri_id = id;
    slot->seq = p->seq;
    slot->method = method;
    slot->truncated = truncated;
    slot->version = 0;
    if (end && end + 9 <= n && end < PAYLOAD_MAX - 9 && s->payload[end] == ' ')
        slot->version = http_version(&s->payload[end + 1]);
    st->tail += 1;
    return 0;
}

/* A status line: completes the oldest pending request. */
static __always_inline void http_response(const struct packet *p, struct l7_sock *st, struct scratch *s,
                                          struct netobs_l7_config *cfg, const __u8 *b, __u64 now)
{
    if (b[8] != ' ' || b[9] < '0' || b[9] > '9' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9') {
        if (is_http_port(p))
            count(NETOBS_L7_HTTP_UNPARSED);
        return;
    }
    __u16 status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    if (status >= 100 && status < 200 && status != 101)
        return; /* interim (100 Continue): the final response follows */
    if (p->seq == st->last_response_seq)
        return; /* the same response again: a retransmission */
    if (st->tail == st->head) {
        count(NETOBS_L7_HTTP_RESPONSE_UNMATCHED);
        return;
    }
    st->last_response_seq = p->seq;
    struct l7_slot slot = st->fifo[st->head & (NETOBS_HTTP_FIFO - 1)]; /* a copy: the slot is free from here */
    st->head += 1;
    http_exchange(p, st, s, cfg, &slot, status, now);
}

/* Requests still pending when the connection ends are answered by no one: exchanges with no
 * status, timed to the end. */
static __always_inline void http_unanswered(const struct packet *p, struct l7_sock *st, struct scratch *s,
                                            struct netobs_l7_config *cfg, __u64 now)
{
    for (int i = 0; i < NETOBS_HTTP_FIFO; i++) {
        if (st->head == st->tail)
            break;
        struct l7_slot slot = st->fifo[st->head & (NETOBS_HTTP_FIFO - 1)];
        st->head += 1;
        http_exchange(p, st, s, cfg, &slot, 0, now);
    }
}

/* ---------------------------------------------------------------- h2c */

/* HTTP/2 in cleartext: the segments of a connection that began with the client preface, as
 * plaintext chunks (the layout of the TLS probes' events, bpf/netobs_tls_layout.h), for the
 * agent's HTTP/2 parser (frames and HPACK need the connection's whole byte stream and state
 * no program keeps). */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20);
} netobs_l7_plain SEC(".maps");

/* One segment's payload (its first NETOBS_TLS_CHUNK bytes), once: a retransmission of bytes
 * already passed on is not. A global function: verified once. */
__noinline int h2c_capture(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st)
{
    if (!ctx || !p || !st)
        return 0;
    bool egress = p->egress;
    __u32 next, after = p->seq + p->payload_len;
    if (egress) {
        next = st->h2_next_seq[0];
        if (next && (__s32)(p->seq - next) < 0)
            return 0;
        st->h2_next_seq[0] = after;
    } else {
        next = st->h2_next_seq[1];
        if (next && (__s32)(p->seq - next) < 0)
            return 0;
        st->h2_next_seq[1] = after;
    }
    struct netobs_tls_event *e = bpf_ringbuf_reserve(&netobs_l7_plain, sizeof(*e), 0);
    if (!e) {
        count(NETOBS_L7_RINGBUF_FULL);
        return 0;
    }
    fill_endpoints(&e->ep, p, st->role);
    e->owner.pid = st->pid;
    e->owner._pad0 = 0;
    e->owner.cgroup_id = st->cgroup_id;
    __builtin_memcpy(e->owner.comm, st->comm, sizeof(e->owner.comm));
    e->start_ns = p->now ? p->now : bpf_ktime_get_ns();
    e->ssl = bpf_get_socket_cookie(ctx);
    e->sock = e->ssl;
    e->tid = 0;
    e->len = p->payload_len;
    e->offset = 0;
    e->direction = egress ? NETOBS_TLS_WRITE : NETOBS_TLS_READ;
    e->has_socket = 1;
    __builtin_memset(e->_pad, 0, sizeof(e->_pad));
    __u32 n = p->payload_len;
    if (n > NETOBS_TLS_CHUNK)
        n = NETOBS_TLS_CHUNK;
    e->captured = 0;
    if (n >= 1 && n <= NETOBS_TLS_CHUNK && !bpf_skb_load_bytes(ctx, p->payload_off, e->data, n))
        e->captured = n;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

static __always_inline bool h2_preface(const __u8 *b)
{
    return b[0] == 'P' && b[1] == 'R' && b[2] == 'I' && b[3] == ' ' && b[4] == '*' && b[5] == ' ' && b[6] == 'H'
        && b[7] == 'T' && b[8] == 'T' && b[9] == 'P' && b[10] == '/' && b[11] == '2';
}

/* Looks for an HTTP message at the start of a segment. A connection is judged HTTP once one is
 * seen; not HTTP after HTTP_PROBE_TURNS turns without one, unless a port says HTTP (there, what
 * is not HTTP is counted). */
static __always_inline void http_segment(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st,
                                         struct netobs_l7_config *cfg, bool turn_start, bool request_dir, __u64 now)
{
    bool start = false, pending = st->tail != st->head;
    if (p->payload_len >= 12) {
        struct scratch *s = get_scratch();
        if (!s)
            return;
        __u8 head[12];
        __u32 window = 0;
        if (request_dir) {
            /* Where requests come: the window the URI is read from, in one load. */
            window = p->payload_len < URI_WINDOW ? p->payload_len : URI_WINDOW;
            if (window < sizeof(head) || window > URI_WINDOW || bpf_skb_load_bytes(ctx, p->payload_off, s->payload, window))
                return;
            __builtin_memcpy(head, s->payload, sizeof(head));
        } else if (bpf_skb_load_bytes(ctx, p->payload_off, head, sizeof(head))) {
            return;
        }
        if (request_dir && turn_start && h2_preface(head)) {
            st->http = HTTP_H2;
            h2c_capture(ctx, p, st);
            return;
        }
        __u32 method_len = 0;
        __u8 method = http_method(head, &method_len);
        if (method) {
            start = true;
            http_request(ctx, p, st, method | method_len << 8 | (window ? REQUEST_WINDOW_LOADED : 0));
        } else if (http_version(head)) {
            start = true;
            http_response(p, st, s, cfg, head, now);
        }
    }
    if (start) {
        st->http = HTTP_YES;
        return;
    }
    if (!turn_start || pending)
        return; /* inside a message: a body, a line split over segments */
    if (is_http_port(p))
        count(NETOBS_L7_HTTP_UNPARSED);
    else if (st->http == HTTP_UNDECIDED && ++st->probes >= HTTP_PROBE_TURNS)
        st->http = HTTP_NO;
}

/* ---------------------------------------------------------------- DNS */

static __always_inline void dns_owner(struct __sk_buff *ctx, const struct packet *p, struct netobs_owner *o)
{
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    if (!sk)
        return;
    struct cgroup *cg = sk->sk_cgrp_data.cgroup;
    if (cg)
        o->cgroup_id = cg->kn->id;
    if (in_process_context(sk, p)) {
        o->pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(o->comm, sizeof(o->comm));
    }
}

/* A DNS message (UDP, or TCP after its length): a query waits for its answer; an answer
 * completes the exchange. `admitted`: the rules let the connection in already (TCP); else
 * (UDP) each query is checked, and a query kept out leaves no pending entry, so its answer
 * finds nothing and is dropped by the lookup every answer makes anyway. */
static __always_inline int dns_message(struct __sk_buff *ctx, const struct packet *p, struct netobs_l7_config *cfg,
                                       bool admitted)
{
    struct scratch *s = get_scratch();
    if (!s)
        return 0;
    __u32 n = p->payload_len < DNS_MAX ? p->payload_len : DNS_MAX;
    if (n < 12 + 1 + 4 || n > DNS_MAX || bpf_skb_load_bytes(ctx, p->payload_off, s->payload, n)) {
        count(NETOBS_L7_DNS_UNPARSED);
        return 0;
    }
    __u8 *b = s->payload;
    __u16 id = (__u16)b[0] << 8 | b[1];
    bool response = b[2] & 0x80;
    __u8 opcode = (b[2] >> 3) & 0xf;
    __u16 qdcount = (__u16)b[4] << 8 | b[5];
    if (opcode != 0 || qdcount != 1) {
        count(NETOBS_L7_DNS_UNPARSED);
        return 0;
    }

    struct netobs_dns_key key = {};
    key.tuple = p->tuple;
    key.id = id;
    struct netobs_l7_event *e = &s->event;
    if (response) {
        struct netobs_l7_event *pending = bpf_map_lookup_elem(&netobs_dns_pending, &key);
        if (!pending)
            return 0; /* the query was not seen (or timed out and was reported) */
        __builtin_memcpy(e, pending, sizeof(*e));
        /* Whoever deletes the entry reports it: this answer, or the agent's timeout. */
        if (bpf_map_delete_elem(&netobs_dns_pending, &key))
            return 0;
        e->end_ns = p->now ? p->now : bpf_ktime_get_ns();
        e->dns_rcode = b[3] & 0xf;
        struct netobs_l7_aggregate_key *k = &s->key;
        k->cgroup_id = e->owner.cgroup_id;
        k->text_id = e->text_id;
        __builtin_memcpy(k->local_addr, e->ep.local_addr, 16);
        __builtin_memcpy(k->remote_addr, e->ep.remote_addr, 16);
        k->netns = e->ep.netns;
        k->server_port = e->ep.role == NETOBS_ROLE_CLIENT ? e->ep.remote_port : e->ep.local_port;
        k->result = e->dns_rcode;
        k->code = e->dns_qtype;
        k->kind = NETOBS_L7_DNS;
        k->role = e->ep.role;
        k->ip_version = e->ep.ip_version;
        k->http_version = 0;
        k->_pad[0] = k->_pad[1] = 0;
        int reason = count_exchange(s, cfg, e->end_ns > e->start_ns ? e->end_ns - e->start_ns : 0, e->dns_rcode != 0);
        if (!reason)
            return 0;
        if (e->ep.role == NETOBS_ROLE_SERVER && !e->owner.pid) {
            /* The server's owner is the process sending the answer, when we are in its send. */
            struct netobs_owner here = {};
            dns_owner(ctx, p, &here);
            if (here.pid) {
                e->owner.pid = here.pid;
                __builtin_memcpy(e->owner.comm, here.comm, sizeof(e->owner.comm));
            }
        }
        send_exemplar(e, reason);
        return 0;
    }

    /* A query. The owner first: the rules may keep its socket out. */
    __builtin_memset(e, 0, sizeof(*e));
    dns_owner(ctx, p, &e->owner);
    if (!admitted && !rules_admit(cfg, p->tuple.local_port, p->tuple.remote_port, e->owner.cgroup_id))
        return 0;
    /* The question's name as length-prefixed labels, then its type. */
    __u32 pos = 0, i;
    for (i = 0; i < 64; i++) {
        if (pos >= NETOBS_L7_TEXT_LEN || 12 + pos >= n)
            break;
        __u8 label = b[(12 + pos) & (PAYLOAD_MAX - 1)];
        if (label == 0)
            break;
        if (label > 63) { /* compression or a reserved form: not in a question */
            count(NETOBS_L7_DNS_UNPARSED);
            return 0;
        }
        pos += label + 1;
    }
    if (12 + pos >= n) {
        count(NETOBS_L7_DNS_UNPARSED);
        return 0;
    }
    __u8 truncated = pos >= NETOBS_L7_TEXT_LEN;
    __u16 len = truncated ? NETOBS_L7_TEXT_LEN : pos;
    if (!truncated) {
        __u32 t = 12 + pos + 1;
        if (t + 2 <= n && t < PAYLOAD_MAX - 2)
            e->dns_qtype = (__u16)b[t] << 8 | b[t + 1];
    }
    struct text_scan scan = {.s = s, .start = 12, .next = 12, .n = 12 + len};
    bpf_loop(NETOBS_L7_TEXT_LEN / 8 + 1, scan_word, &scan, 0);
    __u64 name_id = text_id(&scan, len, NETOBS_L7_DNS, truncated);
    publish_text(s, name_id, 12, len, NETOBS_L7_DNS, truncated);
    e->kind = NETOBS_L7_DNS;
    e->text_id = name_id;
    e->truncated = truncated;
    e->dns_id = id;
    e->start_ns = p->now ? p->now : bpf_ktime_get_ns();
    /* Egress: this socket sent the query, it is the client. */
    fill_endpoints(&e->ep, p, p->egress ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER);
    if (bpf_map_update_elem(&netobs_dns_pending, &key, e, BPF_ANY))
        count(NETOBS_L7_DNS_PENDING_MAP_FULL);
    return 0;
}

/* ---------------------------------------------------------------- TCP */

/* The connection's state, made at its first data segment with the rules' verdict on it. NULL
 * for a packet with no full socket, and for a FIN or RST of a connection never seen carrying
 * data. */
static __always_inline struct l7_sock *sock_state(struct __sk_buff *ctx, const struct packet *p,
                                                  const struct netobs_l7_config *cfg)
{
    struct bpf_sock *bsk = ctx->sk;
    if (!bsk)
        return NULL;
    bsk = bpf_sk_fullsock(bsk);
    if (!bsk)
        return NULL;
    struct l7_sock *st = bpf_sk_storage_get(&netobs_l7_socks, bsk, 0, p->payload_len ? BPF_SK_STORAGE_GET_F_CREATE : 0);
    if (!st) {
        if (p->payload_len)
            count(NETOBS_L7_SOCK_STORAGE_FULL);
        return NULL;
    }
    if (st->role)
        return st;
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    if (!sk)
        return NULL;
    struct cgroup *cg = sk->sk_cgrp_data.cgroup;
    if (cg)
        st->cgroup_id = cg->kn->id;
    st->netns = sk->__sk_common.skc_net.net->ns.inum;
    /* Once per connection, so every later packet pays one byte's read for the rules. */
    st->ruled_out = !rules_admit(cfg, p->tuple.local_port, p->tuple.remote_port, st->cgroup_id);
    /* Last: a set role marks the entry filled. An accepted socket is a copy of its listener
     * (sk_clone_lock) and keeps the listen backlog, which a connect()ed socket never has. */
    st->role = sk->sk_max_ack_backlog ? NETOBS_ROLE_SERVER : NETOBS_ROLE_CLIENT;
    return st;
}

/* The process that owns the socket, learnt from a send made under the socket lock. */
static __always_inline void learn_owner(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st)
{
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    if (!sk || !in_process_context(sk, p))
        return;
    bpf_get_current_comm(st->comm, sizeof(st->comm));
    st->pid = bpf_get_current_pid_tgid() >> 32;
}

/* The end of the connection as this socket sees it (FIN or RST). */
static __always_inline void tcp_end(struct __sk_buff *ctx, const struct packet *p, struct l7_sock *st,
                                    struct netobs_l7_config *cfg, bool request_dir, __u64 now)
{
    if (st->flags & SOCK_HAS_LATENCY) {
        __u64 cookie = bpf_get_socket_cookie(ctx);
        struct netobs_tcp_latency *t = bpf_map_lookup_elem(&netobs_tcp_latency, &cookie);
        if (t) {
            t->closed = 1;
            t->changed_epoch = cfg->epoch;
        }
    }
    /* A FIN from the requester only half-closes: its answers may still come. */
    if (st->tail == st->head || (!(p->tcp_flags & TCP_RST) && request_dir))
        return;
    struct scratch *s = get_scratch();
    if (!s)
        return;
    if (!now)
        now = bpf_ktime_get_ns();
    http_unanswered(p, st, s, cfg, now);
}

static __always_inline void on_tcp(struct __sk_buff *ctx, struct packet *p, struct netobs_l7_config *cfg)
{
    bool end = p->tcp_flags & (TCP_FIN | TCP_RST);
    if (!p->payload_len && !end)
        return; /* a bare ACK or a SYN: no turn, no message */
    struct l7_sock *st = sock_state(ctx, p, cfg);
    if (!st || st->ruled_out)
        return; /* a connection the rules keep out: no HTTP, DNS, h2c or latency from it */
    p->tuple.netns = st->netns;
    bool request_dir = p->egress == (st->role == NETOBS_ROLE_CLIENT);
    __u64 now = 0;
    if (p->payload_len) {
        __u8 dir = p->egress ? DIR_EGRESS : DIR_INGRESS;
        bool turn_start = st->last_dir != dir;
        bool dns = is_dns_port(p);
        if (p->egress && !st->pid)
            learn_owner(ctx, p, st);
        if (st->http == HTTP_H2) {
            if (!p->now)
                p->now = bpf_ktime_get_ns();
            h2c_capture(ctx, p, st);
        }
        /* Inside a turn (a body, a bulk transfer) a message starts only while requests are
         * pending: pipelined requests or responses, the rest of a split request line. */
        if (turn_start || dns || (st->tail != st->head && st->http != HTTP_NO)) {
            now = p->now = bpf_ktime_get_ns();
            if (turn_start) {
                st->last_dir = dir;
                turn(ctx, p, st, cfg, request_dir, now);
            }
            if (dns) {
                /* DNS over TCP: each message behind a 2-byte length (RFC 1035 4.2.2); the first
                 * message of a segment is parsed. */
                if (p->payload_len > 2) {
                    p->payload_off += 2;
                    p->payload_len -= 2;
                    dns_message(ctx, p, cfg, true);
                }
            } else if (st->http != HTTP_NO && st->http != HTTP_H2) {
                http_segment(ctx, p, st, cfg, turn_start, request_dir, now);
            }
        }
    }
    if (end)
        tcp_end(ctx, p, st, cfg, request_dir, now);
}

/* ---------------------------------------------------------------- UDP flows */

/* Whether the rules collect a new UDP flow: those of the L4 programs (port and cgroup sets,
 * flow sampling by socket), so the same sockets are in or out as before the counting moved. */
static __always_inline bool udp_flow_admitted(const struct netobs_l7_config *cfg, const struct packet *p,
                                              __u64 cookie, __u64 cgroup_id)
{
    if (!rules_admit(cfg, p->tuple.local_port, p->tuple.remote_port, cgroup_id))
        return false;
    __u32 every = cfg->flow_sample_every;
    if (every > 1) {
        __u64 h = cookie * 0x9E3779B97F4A7C15ULL; /* the same socket is always in or out */
        if ((__u32)(h >> 32) % every)
            return false;
    }
    return true;
}

/* One datagram of a UDP socket on this node, counted in its (socket, peer) flow: payload bytes
 * and datagrams (a GSO send counts its segments). The sender's pid and comm are current on
 * egress; a flow first seen on ingress (softirq) learns them at its first send. */
static __always_inline void udp_datagram(struct __sk_buff *ctx, struct sock *sk, const struct packet *p,
                                         const struct netobs_l7_config *cfg)
{
    struct netobs_udp_key key = {};
    key.sock = bpf_get_socket_cookie(ctx);
    __builtin_memcpy(key.remote_addr, p->tuple.remote_addr, 16);
    key.remote_port = p->tuple.remote_port;
    key.ip_version = p->ip_version;
    __u64 now = bpf_ktime_get_ns();
    struct netobs_udp_flow *f = bpf_map_lookup_elem(&netobs_udp_flows, &key);
    if (!f) {
        struct netobs_udp_flow n = {};
        struct cgroup *cg = sk->sk_cgrp_data.cgroup;
        n.owner.cgroup_id = cg ? cg->kn->id : 0;
        if (!udp_flow_admitted(cfg, p, key.sock, n.owner.cgroup_id))
            return; /* kept out by a rule: not collected, not a loss */
        fill_endpoints(&n.ep, p, p->egress ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER);
        n.first_ns = now;
        long err = bpf_map_update_elem(&netobs_udp_flows, &key, &n, BPF_NOEXIST);
        if (err && err != -EEXIST) { /* EEXIST: another CPU created it first */
            count(NETOBS_L7_UDP_FLOW_MAP_FULL);
            return;
        }
        f = bpf_map_lookup_elem(&netobs_udp_flows, &key);
        if (!f)
            return;
    }
    if (p->egress && !f->owner.pid) {
        f->owner.pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(f->owner.comm, sizeof(f->owner.comm));
    }
    f->last_ns = now;
    if (p->egress) {
        __sync_fetch_and_add(&f->tx_bytes, p->payload_len);
        __sync_fetch_and_add(&f->tx_packets, ctx->gso_segs > 1 ? ctx->gso_segs : 1);
    } else {
        __sync_fetch_and_add(&f->rx_bytes, p->payload_len);
        __sync_fetch_and_add(&f->rx_packets, 1);
    }
}

/* ---------------------------------------------------------------- entry points */

static __always_inline void on_packet(struct __sk_buff *ctx, bool egress)
{
    struct netobs_l7_config *cfg = active_config();
    if (!cfg || (cfg->l7_off && !cfg->udp_flows))
        return;
    struct packet p = {};
    if (!parse_packet(ctx, egress, &p))
        return;
    if (p.protocol == IPPROTO_TCP) {
        if (!cfg->l7_off)
            on_tcp(ctx, &p, cfg);
        return;
    }
    bool dns = !cfg->l7_off && is_dns_port(&p);
    if (!cfg->udp_flows && !dns)
        return;
    struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
    struct sock *sk = skb->sk;
    if (!sk)
        return;
    p.tuple.netns = sk->__sk_common.skc_net.net->ns.inum;
    if (cfg->udp_flows)
        udp_datagram(ctx, sk, &p, cfg);
    if (dns)
        dns_message(ctx, &p, cfg, false);
}

SEC("cgroup_skb/egress")
int netobs_l7_egress(struct __sk_buff *ctx)
{
    on_packet(ctx, true);
    return 1; /* observe only: always pass */
}

SEC("cgroup_skb/ingress")
int netobs_l7_ingress(struct __sk_buff *ctx)
{
    on_packet(ctx, false);
    return 1;
}
