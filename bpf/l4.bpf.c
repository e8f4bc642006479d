// SPDX-License-Identifier: GPL-2.0
/* L4 collection: every TCP and UDP flow, aggregated per socket in kernel maps.
 *
 * Only stable tracepoints (tp_btf) and cgroup sock_addr hooks: kprobes and fentry are not
 * available on the target kernels. The agent reads the flow maps in batches each flush
 * interval; a closed TCP flow leaves through the ring buffer once, with its final counters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "netobs_layout.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define MSG_PEEK 2
#define EEXIST 17
#define ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct netobs_tuple);
    __type(value, __u64);
} netobs_tcp_tuples SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct netobs_udp_key);
    __type(value, struct netobs_udp_flow);
} netobs_udp_flows SEC(".maps");

/* Per-thread peer of the unconnected UDP send/receive in progress. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct netobs_udp_peer);
} netobs_udp_peers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20);
} netobs_tcp_closed SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NETOBS_LOSS_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} netobs_losses SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_config);
} netobs_config SEC(".maps");

/* Scratch space to build a new flow: the value is too large for the BPF stack. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_scratch SEC(".maps");

static __always_inline void count_loss(__u32 which)
{
    __u64 *n = bpf_map_lookup_elem(&netobs_losses, &which);
    if (n)
        *n += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline bool is_inet(const struct sock *sk)
{
    __u16 family = sk->__sk_common.skc_family; /* direct BTF load: the hot path */
    return family == AF_INET || family == AF_INET6;
}

static __always_inline void read_endpoints(const struct sock *sk, struct netobs_endpoints *ep)
{
    __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
    ep->protocol = BPF_CORE_READ(sk, sk_protocol);
    ep->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    ep->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    ep->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    if (family == AF_INET) {
        ep->ip_version = 4;
        bpf_core_read(ep->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
        bpf_core_read(ep->remote_addr, 4, &sk->__sk_common.skc_daddr);
    } else {
        ep->ip_version = 6;
        bpf_core_read(ep->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
        bpf_core_read(ep->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
    }
}

/* The cgroup the socket was created in: right even in softirq, where "current" is not
 * the owner (accepted sockets inherit the listener's). */
static __always_inline __u64 socket_cgroup_id(const struct sock *sk)
{
    return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline void set_owner_from_current(struct netobs_owner *owner)
{
    owner->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(owner->comm, sizeof(owner->comm));
}

static __always_inline void tuple_of(const struct netobs_endpoints *ep, struct netobs_tuple *t)
{
    __builtin_memcpy(t->local_addr, ep->local_addr, 16);
    __builtin_memcpy(t->remote_addr, ep->remote_addr, 16);
    t->local_port = ep->local_port;
    t->remote_port = ep->remote_port;
    t->netns = ep->netns;
}

/* ---------------------------------------------------------------- TCP flows */

static __always_inline struct netobs_tcp_flow *tcp_flow(const struct sock *sk)
{
    __u64 key = (__u64)sk;
    return bpf_map_lookup_elem(&netobs_tcp_flows, &key);
}

static __always_inline struct netobs_tcp_flow *tcp_flow_create(const struct sock *sk, __u8 state)
{
    __u64 key = (__u64)sk;
    __u32 zero = 0;
    struct netobs_tcp_flow *n = bpf_map_lookup_elem(&netobs_tcp_scratch, &zero);
    if (!n)
        return NULL;
    __builtin_memset(n, 0, sizeof(*n));
    n->sock = key;
    n->state = state;
    read_endpoints(sk, &n->ep);
    n->owner.cgroup_id = socket_cgroup_id(sk);
    long err = bpf_map_update_elem(&netobs_tcp_flows, &key, n, BPF_ANY);
    if (err) {
        count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
        return NULL;
    }
    struct netobs_tuple t = {};
    tuple_of(&n->ep, &t);
    if (bpf_map_update_elem(&netobs_tcp_tuples, &t, &key, BPF_ANY))
        count_loss(NETOBS_LOSS_TCP_TUPLE_MAP_FULL);
    return bpf_map_lookup_elem(&netobs_tcp_flows, &key);
}

static __always_inline void tcp_flow_forget(struct netobs_tcp_flow *f)
{
    struct netobs_tuple t = {};
    __u64 key = f->sock;
    tuple_of(&f->ep, &t);
    bpf_map_delete_elem(&netobs_tcp_tuples, &t);
    bpf_map_delete_elem(&netobs_tcp_flows, &key);
}

/* A TLP sets tlp_high_seq until its episode ends: each distinct value is one probe. */
static __always_inline void note_tlp(struct netobs_tcp_flow *f, const struct tcp_sock *tp)
{
    __u32 high = tp->tlp_high_seq;
    if (high && high != f->tlp_high_seq) {
        f->tlp_high_seq = high;
        __sync_fetch_and_add(&f->tlp, 1);
    }
}

static __always_inline void note_rtt(struct netobs_tcp_flow *f, const struct tcp_sock *tp)
{
    __u32 srtt = tp->srtt_us >> 3;
    if (!srtt)
        return;
    __u32 zero = 0;
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    __u32 epoch = cfg ? cfg->rtt_epoch : 0;
    __u32 slot = epoch & 1;
    f->srtt_us = srtt;
    if (f->rtt_slot_epoch[slot] != epoch) {
        f->rtt_slot_epoch[slot] = epoch;
        f->rtt_min_us[slot] = srtt;
        f->rtt_max_us[slot] = srtt;
        return;
    }
    if (srtt < f->rtt_min_us[slot])
        f->rtt_min_us[slot] = srtt;
    if (srtt > f->rtt_max_us[slot])
        f->rtt_max_us[slot] = srtt;
}

/* Moves a closed flow to user space once. When the ring buffer is full the flow stays in
 * the map with closed_ns set, and the agent collects it from there: counted, not lost. */
static __always_inline void tcp_flow_close(struct netobs_tcp_flow *f, const struct sock *sk, __u64 now)
{
    f->closed_ns = now;
    f->sk_err = BPF_CORE_READ(sk, sk_err);
    struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
    if (tp)
        note_tlp(f, tp);
    if (bpf_ringbuf_output(&netobs_tcp_closed, f, sizeof(*f), 0)) {
        count_loss(NETOBS_LOSS_RINGBUF_FULL);
        return;
    }
    tcp_flow_forget(f);
}

/* Transitions that only a system call makes: the current task owns the socket. */
static __always_inline bool in_owner_context(int oldstate, int newstate)
{
    return (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) ||
           (oldstate == TCP_ESTABLISHED && newstate == TCP_FIN_WAIT1) ||
           (oldstate == TCP_CLOSE_WAIT && newstate == TCP_LAST_ACK);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netobs_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
    if (sk->sk_protocol != IPPROTO_TCP || !is_inet(sk))
        return 0;
    if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE))
        return 0; /* listeners are not flows; their children are */

    __u64 now = bpf_ktime_get_ns();
    bool begins = newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV;
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (f && f->closed_ns && begins) {
        /* The address was reused before the agent collected the old flow (ring buffer was
         * full): the old record is already counted as lost. */
        tcp_flow_forget(f);
        f = NULL;
    }
    if (!f)
        f = tcp_flow_create(sk, oldstate);
    if (!f)
        return 0;

    if (!f->start_ns) {
        f->start_ns = now;
        if (newstate == TCP_SYN_SENT)
            f->ep.role = NETOBS_ROLE_CLIENT;
        else if (newstate == TCP_SYN_RECV)
            f->ep.role = NETOBS_ROLE_SERVER;
    }
    if (!f->owner_set && in_owner_context(oldstate, newstate)) {
        set_owner_from_current(&f->owner);
        f->owner_set = 1;
    }
    if (newstate == TCP_ESTABLISHED || newstate == TCP_SYN_SENT)
        read_endpoints(sk, &f->ep); /* addresses are final once connected */

    __u32 idx = f->transition_count & (NETOBS_TRANSITIONS - 1);
    struct netobs_transition *t = &f->transitions[idx];
    t->ts_ns = now;
    t->old_state_ns = f->state_since_ns ? now - f->state_since_ns : 0;
    t->old_state = oldstate;
    t->new_state = newstate;
    f->transition_count += 1;
    f->state = newstate;
    f->state_since_ns = now;

    if (newstate == TCP_ESTABLISHED || newstate == TCP_SYN_SENT) {
        /* The tuple may have changed since creation (bind/connect fill it in). */
        struct netobs_tuple tu = {};
        tuple_of(&f->ep, &tu);
        __u64 key = f->sock;
        if (bpf_map_update_elem(&netobs_tcp_tuples, &tu, &key, BPF_ANY))
            count_loss(NETOBS_LOSS_TCP_TUPLE_MAP_FULL);
    }
    if (newstate == TCP_CLOSE)
        tcp_flow_close(f, sk, now);
    return 0;
}

/* A socket freed without a transition to CLOSE still leaves once. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netobs_tcp_destroy, struct sock *sk)
{
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (f && !f->closed_ns)
        tcp_flow_close(f, sk, bpf_ktime_get_ns());
    return 0;
}

static __always_inline void tcp_data(struct sock *sk, int bytes, bool sent)
{
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (!f) {
        /* A connection that predates the agent: adopt it on its first data. */
        __u8 state = sk->__sk_common.skc_state;
        if (state == TCP_LISTEN || state == TCP_CLOSE)
            return;
        f = tcp_flow_create(sk, state);
        if (!f)
            return;
        f->start_ns = bpf_ktime_get_ns();
    }
    if (!f->owner_set) {
        set_owner_from_current(&f->owner);
        f->owner_set = 1;
    }
    if (sent) {
        __sync_fetch_and_add(&f->tx_bytes, bytes);
        __sync_fetch_and_add(&f->tx_calls, 1);
    } else {
        __sync_fetch_and_add(&f->rx_bytes, bytes);
        __sync_fetch_and_add(&f->rx_calls, 1);
    }
}

/* ---------------------------------------------------------------- UDP flows */

static __always_inline void udp_data(struct sock *sk, int bytes, bool sent)
{
    struct netobs_udp_key key = {};
    key.sock = (__u64)sk;
    __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
    __u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
    __u64 tid = bpf_get_current_pid_tgid();
    struct netobs_udp_peer *hint = bpf_map_lookup_elem(&netobs_udp_peers, &tid);
    if (hint) {
        /* Unconnected socket: the peer of this very call, from the sock_addr hook. */
        __builtin_memcpy(key.remote_addr, hint->addr, 16);
        key.remote_port = hint->port;
        key.ip_version = hint->ip_version;
        bpf_map_delete_elem(&netobs_udp_peers, &tid);
    } else if (dport) {
        key.remote_port = bpf_ntohs(dport);
        if (family == AF_INET) {
            key.ip_version = 4;
            bpf_core_read(key.remote_addr, 4, &sk->__sk_common.skc_daddr);
        } else {
            key.ip_version = 6;
            bpf_core_read(key.remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
        }
    } else {
        key.ip_version = family == AF_INET ? 4 : 6; /* peer unknown (recv without address) */
    }

    __u64 now = bpf_ktime_get_ns();
    struct netobs_udp_flow *f = bpf_map_lookup_elem(&netobs_udp_flows, &key);
    if (!f) {
        struct netobs_udp_flow n = {};
        read_endpoints(sk, &n.ep);
        __builtin_memcpy(n.ep.remote_addr, key.remote_addr, 16);
        n.ep.remote_port = key.remote_port;
        n.ep.role = sent ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER;
        n.owner.cgroup_id = socket_cgroup_id(sk);
        set_owner_from_current(&n.owner);
        n.first_ns = now;
        long err = bpf_map_update_elem(&netobs_udp_flows, &key, &n, BPF_NOEXIST);
        if (err && err != -EEXIST) { /* EEXIST: another CPU created it first */
            count_loss(NETOBS_LOSS_UDP_FLOW_MAP_FULL);
            return;
        }
        f = bpf_map_lookup_elem(&netobs_udp_flows, &key);
        if (!f)
            return;
    }
    f->last_ns = now;
    if (sent) {
        __sync_fetch_and_add(&f->tx_bytes, bytes);
        __sync_fetch_and_add(&f->tx_packets, 1);
    } else {
        __sync_fetch_and_add(&f->rx_bytes, bytes);
        __sync_fetch_and_add(&f->rx_packets, 1);
    }
}

static __always_inline void note_udp_peer(__u32 ip_version, const __u32 *addr, __u32 port_be)
{
    struct netobs_udp_peer peer = {};
    __u64 tid = bpf_get_current_pid_tgid();
    peer.ip_version = ip_version;
    peer.port = bpf_ntohs((__u16)port_be);
    __builtin_memcpy(peer.addr, addr, ip_version == 4 ? 4 : 16);
    if (bpf_map_update_elem(&netobs_udp_peers, &tid, &peer, BPF_ANY))
        count_loss(NETOBS_LOSS_UDP_HINT_MAP_FULL);
}

SEC("cgroup/sendmsg4")
int netobs_udp_sendmsg4(struct bpf_sock_addr *ctx)
{
    __u32 addr = ctx->user_ip4;
    note_udp_peer(4, &addr, ctx->user_port);
    return 1;
}

SEC("cgroup/recvmsg4")
int netobs_udp_recvmsg4(struct bpf_sock_addr *ctx)
{
    __u32 addr = ctx->user_ip4;
    note_udp_peer(4, &addr, ctx->user_port);
    return 1;
}

SEC("cgroup/sendmsg6")
int netobs_udp_sendmsg6(struct bpf_sock_addr *ctx)
{
    __u32 addr[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
    note_udp_peer(6, addr, ctx->user_port);
    return 1;
}

SEC("cgroup/recvmsg6")
int netobs_udp_recvmsg6(struct bpf_sock_addr *ctx)
{
    __u32 addr[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
    note_udp_peer(6, addr, ctx->user_port);
    return 1;
}

/* ---------------------------------------------------------------- bytes */

static __always_inline void on_data(struct sock *sk, int bytes, bool sent)
{
    if (bytes <= 0 || !sk || !is_inet(sk))
        return;
    __u16 protocol = sk->sk_protocol;
    if (protocol == IPPROTO_TCP)
        tcp_data(sk, bytes, sent);
    else if (protocol == IPPROTO_UDP)
        udp_data(sk, bytes, sent);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(netobs_send, struct sock *sk, int ret, int flags)
{
    on_data(sk, ret, true);
    return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netobs_recv, struct sock *sk, int ret, int flags)
{
    if (flags & MSG_PEEK)
        return 0; /* peeked bytes are read again later */
    on_data(sk, ret, false);
    return 0;
}

/* ---------------------------------------------------------------- loss signals */

/* A retransmission sent by the loss probe timer: the pending timer event is the loss probe
 * and it has expired (tcp_write_timer_handler runs only then). A fast retransmission while a
 * probe is merely scheduled has an expiry in the future. */
static __always_inline bool is_loss_probe(const struct tcp_sock *tp)
{
    if (tp->inet_conn.icsk_pending != ICSK_TIME_LOSS_PROBE)
        return false;
    unsigned long expires = tp->inet_conn.icsk_retransmit_timer.expires;
    return (long)(bpf_jiffies64() - expires) >= 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(netobs_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
    if (err)
        return 0; /* the segment did not leave */
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (!f)
        return 0;
    struct tcp_skb_cb *cb = (struct tcp_skb_cb *)skb->cb;
    __u16 segs = BPF_CORE_READ(cb, tcp_gso_segs);
    __sync_fetch_and_add(&f->retransmits, segs ? segs : 1);
    struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
    if (!tp)
        return 0;
    if (is_loss_probe(tp)) {
        /* The kernel records this probe in tlp_high_seq (= snd_nxt) right after; note the
         * same value so that note_tlp does not count it again. */
        f->tlp_high_seq = tp->snd_nxt;
        __sync_fetch_and_add(&f->tlp, 1);
    } else {
        note_tlp(f, tp);
    }
    return 0;
}

/* Every segment received on an established connection: the moment srtt moves and a
 * TLP's acknowledgement arrives. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(netobs_tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (!f)
        return 0;
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    if (!tp)
        return 0;
    note_rtt(f, tp);
    note_tlp(f, tp);
    return 0;
}

static __always_inline void record_drop(struct netobs_tcp_flow *f, __u32 reason)
{
    __sync_fetch_and_add(&f->drops, 1);
    f->last_drop_reason = reason;
    if (reason < 128)
        __sync_fetch_and_or(&f->drop_reasons[reason >> 6 & 1], 1ULL << (reason & 63));
}

/* Finds the flow of a dropped packet from its headers: a packet with no socket is on its
 * way in (its destination is the local end), one with a socket on its way out. */
static __always_inline struct netobs_tcp_flow *flow_of_packet(const struct sk_buff *skb, bool outgoing,
                                                              bool *is_tcp)
{
    unsigned char *head = BPF_CORE_READ(skb, head);
    __u16 nh = BPF_CORE_READ(skb, network_header);
    __u16 l3 = bpf_ntohs(BPF_CORE_READ(skb, protocol));
    struct netobs_tuple t = {};
    __u8 *src, *dst;
    __u32 l4_off;

    if (nh == (__u16)~0U)
        return NULL;
    if (l3 == ETH_P_IP) {
        struct iphdr ip;
        if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.protocol != IPPROTO_TCP)
            return NULL;
        l4_off = nh + ip.ihl * 4;
        __builtin_memcpy(outgoing ? t.local_addr : t.remote_addr, &ip.saddr, 4);
        __builtin_memcpy(outgoing ? t.remote_addr : t.local_addr, &ip.daddr, 4);
    } else if (l3 == ETH_P_IPV6) {
        struct ipv6hdr ip6;
        if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_TCP)
            return NULL;
        l4_off = nh + sizeof(ip6);
        src = outgoing ? t.local_addr : t.remote_addr;
        dst = outgoing ? t.remote_addr : t.local_addr;
        __builtin_memcpy(src, &ip6.saddr, 16);
        __builtin_memcpy(dst, &ip6.daddr, 16);
    } else {
        return NULL;
    }
    *is_tcp = true;
    __be16 ports[2];
    if (bpf_probe_read_kernel(ports, sizeof(ports), head + l4_off))
        return NULL;
    t.local_port = bpf_ntohs(outgoing ? ports[0] : ports[1]);
    t.remote_port = bpf_ntohs(outgoing ? ports[1] : ports[0]);

    struct net_device *dev = BPF_CORE_READ(skb, dev);
    if (dev)
        t.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
    __u64 *sock = bpf_map_lookup_elem(&netobs_tcp_tuples, &t);
    if (!sock)
        return NULL;
    return bpf_map_lookup_elem(&netobs_tcp_flows, sock);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(netobs_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
    __u16 l3 = bpf_ntohs(skb->protocol);
    if (l3 != ETH_P_IP && l3 != ETH_P_IPV6)
        return 0;
    struct sock *sk = skb->sk;
    struct netobs_tcp_flow *f = NULL;
    bool is_tcp = false;
    if (sk)
        f = tcp_flow(sk);
    if (!f)
        f = flow_of_packet(skb, sk != NULL, &is_tcp);
    if (f)
        record_drop(f, reason);
    else if (is_tcp)
        count_loss(NETOBS_LOSS_DROP_UNATTRIBUTED);
    return 0;
}
