/* Record layouts shared by the kernel programs (bpf/NAME.bpf.c) and the Swift agent.
 *
 * The agent imports this header as the CNetobsLayout module and reads map values and
 * ring buffer samples through these exact structs, so a layout change is one edit here.
 * Every struct is padded explicitly so that BPF and x86_64 agree byte for byte.
 */
#ifndef NETOBS_LAYOUT_H
#define NETOBS_LAYOUT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NETOBS_COMM_LEN 16
#define NETOBS_TRANSITIONS 8 /* a TCP life has at most ~7 transitions */

/* Role of the local end of a connection. */
enum netobs_role {
    NETOBS_ROLE_UNKNOWN = 0, /* seen first mid-life (the agent started later) */
    NETOBS_ROLE_CLIENT = 1,  /* active open: connect() */
    NETOBS_ROLE_SERVER = 2,  /* passive open: accepted from a listener */
};

/* Why an event could not be recorded. Indexes of the netobs_losses per-CPU array. */
enum netobs_loss {
    NETOBS_LOSS_TCP_FLOW_MAP_FULL = 0, /* socket storage could not be allocated */
    NETOBS_LOSS_TCP_DROP_MAP_FULL = 1,
    NETOBS_LOSS_UDP_FLOW_MAP_FULL = 2,
    NETOBS_LOSS_RINGBUF_FULL = 3,   /* closed-flow record kept in the map instead */
    NETOBS_LOSS_UDP_HINT_MAP_FULL = 4, /* no longer counted: UDP peers come from the packets */
    NETOBS_LOSS_TCP_CLOSED_OVERWRITTEN = 5, /* a closed flow the ring could not take, reused before the agent read it */
    NETOBS_LOSS_TCP_END_MISSED = 6, /* portable tier: a freed socket's flow whose end was not seen, its place reused */
    NETOBS_LOSS_COUNT = 7,
};

/* Both ends of a socket, as the local process sees them. Addresses are network byte
 * order; IPv4 uses the first 4 bytes. Ports are host byte order. */
struct netobs_endpoints {
    __u8 local_addr[16];
    __u8 remote_addr[16];
    __u16 local_port;
    __u16 remote_port;
    __u8 ip_version; /* 4 or 6 */
    __u8 protocol;   /* IPPROTO_TCP or IPPROTO_UDP */
    __u8 role;       /* enum netobs_role */
    __u8 _pad0;
    __u32 netns;     /* network namespace inode */
    __u32 _pad1;
};

/* The process and container that own the socket. */
struct netobs_owner {
    __u32 pid;       /* tgid of the first process-context event */
    __u32 _pad0;
    __u64 cgroup_id; /* cgroup v2 id of the socket (sk_cgrp_data), kubelet pod/container */
    char comm[NETOBS_COMM_LEN];
};

struct netobs_transition {
    __u64 ts_ns;          /* bpf_ktime_get_ns() at the transition */
    __u64 old_state_ns;   /* time spent in the old state (0 when the old state began unseen) */
    __u8 old_state;       /* kernel TCP_* state numbers */
    __u8 new_state;
    __u8 _pad[6];
};

/* Per-socket TCP aggregate, kept in socket-local storage (netobs_tcp_store, BTF tier) or in a
 * hash keyed by the socket's address (netobs_tcp_flows, portable tier). Counters are cumulative
 * since the flow was first seen; the agent takes deltas. Every change stamps dirty_epoch, so a
 * flush reads only the flows that changed since the one before (see netobs_config.rtt_epoch). */
struct netobs_tcp_flow {
    __u64 tx_bytes;
    __u64 tx_calls;        /* send calls that moved data */
    __u64 rx_bytes;
    __u64 rx_calls;
    __u32 srtt_us;         /* last smoothed RTT (tcp_sock srtt_us >> 3) */
    __u32 rtt_slot_epoch[2]; /* interval epoch whose RTT range each slot holds */
    __u32 rtt_min_us[2];   /* slot = epoch & 1: the agent reads the ended epoch's slot */
    __u32 rtt_max_us[2];   /* while the kernel fills the other one */
    __u32 tlp_high_seq;    /* last TLP episode seen, to count each probe once */
    __u32 tlp;             /* tail loss probes sent */
    __u32 dirty_epoch;     /* the epoch of the last change */
    __u64 drop_reasons[2]; /* bitmap of skb_drop_reason values < 128 seen */
    __u32 retransmits;     /* retransmitted segments */
    __u32 drops;           /* kfree_skb drops attributed to the flow */
    __u32 last_drop_reason;
    __u32 sk_err;          /* socket error at close (e.g. ECONNREFUSED) */
    __u64 sock;            /* the key: struct sock address, unique while the flow lives */
    struct netobs_endpoints ep;
    struct netobs_owner owner;
    __u64 start_ns;        /* first transition (or first event) seen */
    __u64 state_since_ns;  /* when the current state began (0 = unseen) */
    __u64 closed_ns;       /* set on the transition to CLOSE */
    __u32 transition_count;
    __u8 state;            /* current kernel TCP state */
    __u8 owner_set;        /* owner came from a process-context event */
    __u8 exported;         /* closed and handed to the agent (ring buffer or iterator) */
    __u8 _pad1;
    struct netobs_transition transitions[NETOBS_TRANSITIONS]; /* ring, index count % N */
};

/* Key of netobs_tcp_drops: drops of packets that carry no socket (dropped before the socket
 * lookup, e.g. by netfilter) are counted by connection tuple; the agent adds them to the flow
 * with that tuple. */
struct netobs_tuple {
    __u8 local_addr[16];
    __u8 remote_addr[16];
    __u16 local_port;
    __u16 remote_port;
    __u32 netns;
};

/* UDP has no connection: a flow is (socket, peer). */
struct netobs_tuple_drops {
    __u64 drop_reasons[2];
    __u32 drops;
    __u32 last_drop_reason;
};

/* Counted per datagram by the L7 object's cgroup_skb programs into the L4 object's
 * netobs_udp_flows (the agent hands that map to the L7 object): the peer is the packet's, so
 * unconnected sockets need no help from the system calls. */
struct netobs_udp_key {
    __u64 sock; /* the socket's cookie: unique, never reused */
    __u8 remote_addr[16];
    __u16 remote_port;
    __u8 ip_version;
    __u8 _pad[5];
};

struct netobs_udp_flow {
    struct netobs_endpoints ep;
    struct netobs_owner owner;
    __u64 first_ns;
    __u64 last_ns;
    __u64 tx_bytes;
    __u64 rx_bytes;
    __u64 tx_packets;
    __u64 rx_packets;
};

/* Settings the agent writes at run time (the .data.netobs_config map, key 0). */
struct netobs_config {
    __u32 rtt_epoch;     /* bumped by the agent at every flush: the interval changes belong to */
    __u32 max_tcp_flows; /* cap on live TCP flows (socket storage); past it, counted losses */
    __u32 generation;    /* the loaded copy of the programs that does the work (hot swap) */
    __u32 full_dump;     /* 1: the iterator writes every flow, changed or not (reconciliation) */
};

/* ---------------------------------------------------------------- L7 (bpf/l7.bpf.c) */

#include "netobs_l7_layout.h"

/* ---------------------------------------------------------------- TLS (bpf/tls.bpf.c) */

#include "netobs_tls_layout.h"

#endif

/* ---------------------------------------------------------------- rules (filter maps) */

/* How a filter set (netobs_rule_ports, netobs_rule_cgroups) is applied. */
enum netobs_filter_mode {
    NETOBS_FILTER_OFF = 0,     /* the set is ignored: every flow passes */
    NETOBS_FILTER_INCLUDE = 1, /* only flows that match the set are collected */
    NETOBS_FILTER_EXCLUDE = 2, /* flows that match the set are not collected */
};

#define NETOBS_RULES_NO_TCP 1 /* protocols_off bits */
#define NETOBS_RULES_NO_UDP 2

/* Rules the agent writes at run time (netobs_rules, key 0), with no program reload. The L4
 * programs check them only where a flow is created: a flow a rule keeps out is not collected
 * (not a loss), and a flow already collected stays. A flow matches the port set when its local
 * or its remote port is in it; the cgroup set by the socket's cgroup v2 id. All zero: collect
 * everything. The L7 programs get l7_off and the port and cgroup modes through their own
 * netobs_l7_config, over their own copies of the sets. */
struct netobs_rules {
    __u8 port_mode;      /* enum netobs_filter_mode of netobs_rule_ports */
    __u8 cgroup_mode;    /* enum netobs_filter_mode of netobs_rule_cgroups */
    __u8 protocols_off;  /* NETOBS_RULES_NO_* bits */
    __u8 l7_off;         /* 1: the L7 programs return at once */
    __u32 sample_every;  /* keep 1 flow in N by a hash of the socket address (0, 1: all) */
};
