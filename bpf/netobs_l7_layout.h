/* L7 record layouts (bpf/l7.bpf.c), shared with the Swift agent through netobs_layout.h.
 *
 * Exchanges are aggregated in the kernel: per key (socket cgroup, role, addresses, server port,
 * method or query type, status or rcode, URI or query name id) a count and a log2 latency
 * histogram in a per-CPU hash the agent reads once per interval. Only exemplars (errors, slow
 * exchanges, a 1-in-N sample) leave one by one, through a ring buffer. URIs and query names
 * travel as 64-bit ids; their text is written once into netobs_l7_texts.
 */
#ifndef NETOBS_L7_LAYOUT_H
#define NETOBS_L7_LAYOUT_H

#define NETOBS_L7_TEXT_LEN 128   /* URI or DNS query name bytes kept (and hashed) */
#define NETOBS_HTTP_FIFO 4       /* pipelined requests awaiting their responses, per connection */
#define NETOBS_LATENCY_BUCKETS 32 /* log2 histogram: bucket b holds [2^b, 2^(b+1)) µs (b = 0 also < 1 µs) */

enum netobs_l7_kind {
    NETOBS_L7_HTTP = 1,
    NETOBS_L7_DNS = 2,
};

enum netobs_http_method {
    NETOBS_HTTP_UNKNOWN = 0,
    NETOBS_HTTP_GET = 1,
    NETOBS_HTTP_HEAD = 2,
    NETOBS_HTTP_POST = 3,
    NETOBS_HTTP_PUT = 4,
    NETOBS_HTTP_DELETE = 5,
    NETOBS_HTTP_CONNECT = 6,
    NETOBS_HTTP_OPTIONS = 7,
    NETOBS_HTTP_TRACE = 8,
    NETOBS_HTTP_PATCH = 9,
};

/* What the L7 programs saw but could not turn into records. Indexes of netobs_l7_counters. */
enum netobs_l7_counter {
    NETOBS_L7_HTTP_UNPARSED = 0,           /* a message-start position on an HTTP port that is not HTTP/1.x */
    NETOBS_L7_HTTP_RESPONSE_UNMATCHED = 1, /* a response with no request pending */
    NETOBS_L7_HTTP_FIFO_FULL = 2,          /* a pipelined request past NETOBS_HTTP_FIFO */
    NETOBS_L7_SOCK_STORAGE_FULL = 3,       /* a TCP connection got no socket storage: no HTTP, no latency */
    NETOBS_L7_DNS_UNPARSED = 4,            /* port 53 payload (UDP, or TCP after its length) that is not DNS */
    NETOBS_L7_DNS_PENDING_MAP_FULL = 5,
    NETOBS_L7_RINGBUF_FULL = 6,            /* an exemplar lost (its exchange is still in its aggregate) */
    NETOBS_L7_TCP_LATENCY_MAP_FULL = 7,    /* a TCP connection with no request latency */
    NETOBS_L7_AGGREGATE_MAP_FULL = 8,      /* an exchange counted in its kind's overflow aggregate */
    NETOBS_L7_TEXT_MAP_FULL = 9,           /* a URI or name whose text could not be kept */
    NETOBS_L7_UDP_FLOW_MAP_FULL = 10,      /* a UDP datagram of a new (socket, peer) not counted */
    NETOBS_L7_COUNTER_COUNT = 11,
};

/* Why an exchange left the kernel on its own (netobs_l7_event.reason). */
enum netobs_exemplar_reason {
    NETOBS_EXEMPLAR_NONE = 0,   /* a DNS query still pending (netobs_dns_pending) */
    NETOBS_EXEMPLAR_SAMPLE = 1, /* 1 in sample_every of its key */
    NETOBS_EXEMPLAR_SLOW = 2,   /* at least slow_ns */
    NETOBS_EXEMPLAR_ERROR = 3,  /* HTTP status >= 500 or none (the connection ended first), DNS rcode != NOERROR */
};

/* Settings the agent writes into netobs_l7_config (key 0): at every flush (epoch) and when rules
 * change (no program reload). The port and cgroup modes are those of struct netobs_rules, over
 * the L7 object's own copies of the sets (netobs_l7_rule_ports, netobs_l7_rule_cgroups), checked
 * where a connection's state is made and per DNS query: a rules change applies to connections
 * and queries that start after it. */
struct netobs_l7_config {
    __u32 epoch;        /* the flush interval the kernel's per-interval maxima belong to */
    __u32 generation;   /* the loaded copy of the L7 programs that does the work (hot swap) */
    __u32 sample_every; /* exemplar: 1 exchange in N per aggregate key and CPU (0: none; 1: all) */
    __u8 l7_off;        /* 1: the L7 programs return at once (rule "l7": false) */
    __u8 port_mode;     /* enum netobs_filter_mode of netobs_l7_rule_ports */
    __u8 cgroup_mode;   /* enum netobs_filter_mode of netobs_l7_rule_cgroups */
    __u8 udp_flows;     /* 1: count UDP datagrams into netobs_udp_flows (the L4 object's; rule "udp") */
    __u64 slow_ns;      /* exemplar: every exchange at least this slow (0: none) */
    __u32 flow_sample_every; /* rule "sample_every" for UDP flows: 1 socket in N (0, 1: all) */
    __u32 _pad;
};

/* One HTTP exchange or DNS query whole, from the side of one socket: an exemplar on the ring
 * buffer (netobs_l7_events), or a DNS query awaiting its answer (netobs_dns_pending, reason
 * NONE). The URI or query name is netobs_l7_texts[text_id]. */
struct netobs_l7_event {
    struct netobs_endpoints ep; /* local = the socket that saw it; role from who sent the request */
    struct netobs_owner owner;  /* pid/comm 0/"" when no process context was seen */
    __u64 start_ns;             /* first byte of the request / the query */
    __u64 end_ns;               /* first byte of the response / the answer; HTTP with status 0: the connection's end */
    __u64 text_id;
    __u16 http_status;          /* 0: the connection ended with the request unanswered */
    __u16 dns_id;
    __u16 dns_qtype;
    __u8 kind;                  /* enum netobs_l7_kind */
    __u8 truncated;             /* the text was cut at NETOBS_L7_TEXT_LEN */
    __u8 http_method;           /* enum netobs_http_method */
    __u8 http_version;          /* 10 = HTTP/1.0, 11 = HTTP/1.1, 0 = not seen */
    __u8 dns_rcode;
    __u8 reason;                /* enum netobs_exemplar_reason */
    __u8 _pad[4];
};

/* The text of a URI (up to the space before the version) or a DNS query name (wire form:
 * length-prefixed labels), by id (netobs_l7_texts, an LRU hash). The id is FNV-1a 64 over the
 * kept bytes, the kind and the truncated flag: equal ids, equal texts. */
struct netobs_l7_text {
    __u16 len;       /* bytes used in text */
    __u8 kind;       /* enum netobs_l7_kind */
    __u8 truncated;
    __u8 _pad[4];
    char text[NETOBS_L7_TEXT_LEN];
};

/* Key of netobs_l7_aggregates: what one aggregate record stands for. */
struct netobs_l7_aggregate_key {
    __u64 cgroup_id;       /* the socket's cgroup v2 id */
    __u64 text_id;         /* URI or query name (netobs_l7_texts) */
    __u8 local_addr[16];   /* network byte order; IPv4 in the first 4 bytes */
    __u8 remote_addr[16];
    __u32 netns;
    __u16 server_port;     /* the remote port of a client, the local port of a server */
    __u16 result;          /* HTTP status (0: unanswered) / DNS rcode */
    __u16 code;            /* enum netobs_http_method / DNS query type */
    __u8 kind;             /* enum netobs_l7_kind */
    __u8 role;             /* enum netobs_role */
    __u8 ip_version;
    __u8 http_version;     /* 10, 11, 0 */
    __u8 _pad[2];
};

/* Value of netobs_l7_aggregates (per CPU) and of netobs_l7_overflow: cumulative since the key
 * was made; the agent takes deltas. */
struct netobs_l7_aggregate {
    __u64 count;
    __u64 duration_sum_ns;
    __u32 max_epoch[2];   /* slot = epoch & 1: the largest duration of interval max_epoch[slot] */
    __u64 max_ns[2];
    __u32 hist[NETOBS_LATENCY_BUCKETS];
};

/* A DNS query awaiting its answer: the socket's tuple and the transaction id. */
struct netobs_dns_key {
    struct netobs_tuple tuple;
    __u16 id;
    __u8 _pad[6];
};

enum netobs_turn_side {
    NETOBS_TURN_NONE = 0,
    NETOBS_TURN_REQUEST = 1,  /* the requester sent last */
    NETOBS_TURN_RESPONSE = 2, /* the responder sent last */
};

/* Per TCP connection side with at least one answered request (netobs_tcp_latency, keyed by the
 * socket cookie): protocol-independent request latency. The requester is the client (the end
 * that connected); a request is its data after the responder's turn, its latency the time to the
 * responder's first data. Counters are cumulative; the agent takes deltas and deletes the entry
 * once the connection is closed and reported. */
struct netobs_tcp_latency {
    struct netobs_endpoints ep;
    struct netobs_owner owner;
    __u64 last_ns;          /* last answered request */
    __u64 requests;         /* answered requests: latency samples */
    __u64 latency_sum_ns;
    __u32 max_epoch[2];     /* slot = epoch & 1, as in netobs_l7_aggregate */
    __u64 max_ns[2];
    __u32 hist[NETOBS_LATENCY_BUCKETS];
    __u32 changed_epoch;    /* the epoch of the last change: the agent decodes only what changed */
    __u8 closed;            /* FIN or RST seen: the agent reports and deletes */
    __u8 _pad[3];
};

#endif
