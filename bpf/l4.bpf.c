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
#define EBUSY 16
#define ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */

/* TCP flows live in socket-local storage: no hashing on the hot paths, and the kernel frees
 * a flow with its socket. The agent reads them with the netobs_tcp_dump iterator. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_store SEC(".maps");

/* Live TCP flows, against netobs_config.max_tcp_flows (socket storage has no capacity of
 * its own; the cap bounds the agent's memory). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __s64);
} netobs_tcp_live SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct netobs_tuple);
    __type(value, struct netobs_tuple_drops);
} netobs_tcp_drops SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct netobs_udp_key);
    __type(value, struct netobs_udp_flow);
} netobs_udp_flows SEC(".maps");

/* Per-thread peer of the unconnected UDP send/receive in progress, in task storage: a
 * lookup in the task, where a hash map cost an update and a delete per datagram. An entry
 * with ip_version 0 holds no peer. Transient: a hot swap may start it afresh. */
struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct netobs_udp_peer);
} netobs_udp_hints SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 << 20);
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

/* Rules (see struct netobs_rules): read only where a flow is created. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_rules);
} netobs_rules SEC(".maps");

/* Port set of the rules (host byte order); the value is unused. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u16);
    __type(value, __u8);
} netobs_rule_ports SEC(".maps");

/* cgroup v2 id set of the rules (pods or containers); the value is unused. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, __u8);
} netobs_rule_cgroups SEC(".maps");

/* Set before load: the generation of this copy of the programs. Only the copy whose
 * generation the agent marked active in netobs_config works, so a hot swap (load the new copy
 * beside the old one on the same maps, flip the mark, detach the old) has no gap and counts
 * no event twice. */
const volatile __u32 netobs_generation = 0;

static __always_inline bool active(void)
{
    __u32 zero = 0;
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    return cfg && cfg->generation == netobs_generation;
}

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
    /* Direct BTF loads (tp_btf arguments are typed kernel pointers): no probe-read calls. */
    const struct sock_common *c = &sk->__sk_common;
    ep->protocol = sk->sk_protocol;
    ep->local_port = c->skc_num;
    ep->remote_port = bpf_ntohs(c->skc_dport);
    ep->netns = c->skc_net.net->ns.inum;
    __u32 *local = (__u32 *)ep->local_addr, *remote = (__u32 *)ep->remote_addr;
    if (c->skc_family == AF_INET) {
        ep->ip_version = 4;
        local[0] = c->skc_rcv_saddr;
        remote[0] = c->skc_daddr;
    } else {
        ep->ip_version = 6;
        for (int i = 0; i < 4; i++) {
            local[i] = c->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
            remote[i] = c->skc_v6_daddr.in6_u.u6_addr32[i];
        }
    }
}

/* The cgroup the socket was created in: right even in softirq, where "current" is not
 * the owner (accepted sockets inherit the listener's). */
static __always_inline __u64 socket_cgroup_id(const struct sock *sk)
{
    struct cgroup *cg = sk->sk_cgrp_data.cgroup;
    return cg ? cg->kn->id : 0;
}

static __always_inline void set_owner_from_current(struct netobs_owner *owner)
{
    owner->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(owner->comm, sizeof(owner->comm));
}

/* Whether the rules let a new flow be collected. Called only at flow creation. */
static __always_inline bool rules_admit(const struct sock *sk, __u8 protocol, __u16 local_port,
                                        __u16 remote_port)
{
    __u32 zero = 0;
    struct netobs_rules *r = bpf_map_lookup_elem(&netobs_rules, &zero);
    if (!r)
        return true;
    if ((protocol == IPPROTO_TCP && (r->protocols_off & NETOBS_RULES_NO_TCP)) ||
        (protocol == IPPROTO_UDP && (r->protocols_off & NETOBS_RULES_NO_UDP)))
        return false;
    if (r->port_mode != NETOBS_FILTER_OFF) {
        bool hit = (local_port && bpf_map_lookup_elem(&netobs_rule_ports, &local_port)) ||
                   (remote_port && bpf_map_lookup_elem(&netobs_rule_ports, &remote_port));
        if (hit != (r->port_mode == NETOBS_FILTER_INCLUDE))
            return false;
    }
    if (r->cgroup_mode != NETOBS_FILTER_OFF) {
        __u64 cg = socket_cgroup_id(sk);
        bool hit = bpf_map_lookup_elem(&netobs_rule_cgroups, &cg) != NULL;
        if (hit != (r->cgroup_mode == NETOBS_FILTER_INCLUDE))
            return false;
    }
    if (r->sample_every > 1) {
        /* Fibonacci hash of the socket address: the same socket is always in or out. The
         * verifier forbids shifts of a pointer: copy its value out as a plain number first. */
        __u64 addr = 0;
        bpf_probe_read_kernel(&addr, sizeof(addr), &sk);
        __u64 h = (addr >> 4) * 0x9E3779B97F4A7C15ULL;
        if ((__u32)(h >> 32) % r->sample_every)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- TCP flows */

static __always_inline struct netobs_tcp_flow *tcp_flow(const struct sock *sk)
{
    return bpf_sk_storage_get(&netobs_tcp_store, (struct sock *)sk, 0, 0);
}

/* Fills in what the socket says of a zeroed flow. */
static __always_inline void tcp_flow_init(struct netobs_tcp_flow *f, const struct sock *sk, __u8 state)
{
    f->sock = (__u64)sk;
    f->state = state;
    read_endpoints(sk, &f->ep);
    f->owner.cgroup_id = socket_cgroup_id(sk);
}

/* A new flow: the kernel hands out zeroed storage. */
static __always_inline struct netobs_tcp_flow *tcp_flow_create(const struct sock *sk, __u8 state)
{
    __u32 zero = 0;
    __s64 *live = bpf_map_lookup_elem(&netobs_tcp_live, &zero);
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    if (!live || !cfg)
        return NULL;
    if (!rules_admit(sk, IPPROTO_TCP, sk->__sk_common.skc_num, bpf_ntohs(sk->__sk_common.skc_dport)))
        return NULL; /* kept out by a rule: not collected, not a loss */
    if (cfg->max_tcp_flows && *live >= cfg->max_tcp_flows) {
        count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
        return NULL;
    }
    struct netobs_tcp_flow *f = bpf_sk_storage_get(&netobs_tcp_store, (struct sock *)sk, 0,
                                                   BPF_SK_STORAGE_GET_F_CREATE);
    if (!f) {
        count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
        return NULL;
    }
    __sync_fetch_and_add(live, 1);
    tcp_flow_init(f, sk, state);
    return f;
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
 * the socket's storage, marked, and the agent's iterator collects it: counted, not lost. */
static __always_inline void tcp_flow_close(struct netobs_tcp_flow *f, const struct sock *sk, __u64 now)
{
    f->closed_ns = now;
    f->sk_err = sk->sk_err;
    struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
    if (tp)
        note_tlp(f, tp);
    /* No wakeup: the agent drains the ring on a short timer, which batches many closes per
     * read instead of an interrupt-driven wakeup per close. */
    if (bpf_ringbuf_output(&netobs_tcp_closed, f, sizeof(*f), BPF_RB_NO_WAKEUP)) {
        count_loss(NETOBS_LOSS_RINGBUF_FULL);
        return;
    }
    f->exported = 1;
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
    if (!active())
        return 0;
    if (sk->sk_protocol != IPPROTO_TCP || !is_inet(sk))
        return 0;
    if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE))
        return 0; /* listeners are not flows; their children are */

    __u64 now = bpf_ktime_get_ns();
    bool begins = newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV;
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (f && f->closed_ns && begins) {
        /* Storage is per socket, not per connection: a socket that connects again after
         * closing (connect() after a failed connect) starts a new flow in it. */
        __builtin_memset(f, 0, sizeof(*f));
        tcp_flow_init(f, sk, oldstate);
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
    /* Addresses are final once connected. connect() picks the local port only after the
     * switch to SYN_SENT, and CLOSE is traced after the port is released: a connection that
     * fails learns its port from the reset or the SYN retransmission (see below). */
    if (newstate == TCP_ESTABLISHED || newstate == TCP_SYN_SENT)
        read_endpoints(sk, &f->ep);

    __u32 idx = f->transition_count & (NETOBS_TRANSITIONS - 1);
    struct netobs_transition *t = &f->transitions[idx];
    t->ts_ns = now;
    t->old_state_ns = f->state_since_ns ? now - f->state_since_ns : 0;
    t->old_state = oldstate;
    t->new_state = newstate;
    f->transition_count += 1;
    f->state = newstate;
    f->state_since_ns = now;

    if (newstate == TCP_CLOSE)
        tcp_flow_close(f, sk, now);
    return 0;
}

/* A reset received: a refused connect() still holds its local port here. */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(netobs_tcp_reset, struct sock *sk)
{
    if (!active())
        return 0;
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (f && !f->ep.local_port)
        read_endpoints(sk, &f->ep);
    return 0;
}

/* A socket freed without a transition to CLOSE still leaves once; its storage goes. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netobs_tcp_destroy, struct sock *sk)
{
    if (!active())
        return 0;
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (!f)
        return 0;
    if (f->start_ns && !f->closed_ns)
        tcp_flow_close(f, sk, bpf_ktime_get_ns());
    __u32 zero = 0;
    __s64 *live = bpf_map_lookup_elem(&netobs_tcp_live, &zero);
    if (live)
        __sync_fetch_and_add(live, -1); /* the storage goes with the socket */
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
    /* Plain adds: the counters of one socket and direction are written only by the system
     * calls on that socket, which complete one at a time (the socket lock, and tracepoints
     * run with preemption off); an atomic would cost a quarter of the hook. */
    if (!sent) {
        f->rx_bytes += bytes;
        f->rx_calls += 1;
        return;
    }
    f->tx_bytes += bytes;
    f->tx_calls += 1;
    /* The sender's system calls sample srtt and loss-probe state: as fresh as a
     * per-segment hook for anyone who sends, at a fraction of the invocations. */
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    if (tp) {
        note_rtt(f, tp);
        note_tlp(f, tp);
    }
}

/* ---------------------------------------------------------------- UDP flows */

static __always_inline void udp_data(struct sock *sk, int bytes, bool sent)
{
    struct netobs_udp_key key = {};
    /* The cookie, not the address: a closed socket's memory soon holds another socket, whose
     * datagrams to the same peer would count in the old flow (its owner, port and cgroup). */
    key.sock = bpf_get_socket_cookie(sk);
    __u16 family = sk->__sk_common.skc_family;
    __u16 dport = sk->__sk_common.skc_dport;
    struct netobs_udp_peer *hint = bpf_task_storage_get(&netobs_udp_hints, bpf_get_current_task_btf(), 0, 0);
    if (hint && hint->ip_version) {
        /* Unconnected socket: the peer of this very call, from the sock_addr hook. */
        __builtin_memcpy(key.remote_addr, hint->addr, 16);
        key.remote_port = hint->port;
        key.ip_version = hint->ip_version;
        hint->ip_version = 0;
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
        if (!rules_admit(sk, IPPROTO_UDP, sk->__sk_common.skc_num, key.remote_port))
            return; /* kept out by a rule: not collected, not a loss */
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
    struct netobs_udp_peer *peer = bpf_task_storage_get(&netobs_udp_hints, bpf_get_current_task_btf(), 0,
                                                         BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!peer) {
        count_loss(NETOBS_LOSS_UDP_HINT_MAP_FULL);
        return;
    }
    __builtin_memset(peer->addr, 0, sizeof(peer->addr));
    __builtin_memcpy(peer->addr, addr, ip_version == 4 ? 4 : 16);
    peer->port = bpf_ntohs((__u16)port_be);
    peer->ip_version = ip_version;
}

SEC("cgroup/sendmsg4")
int netobs_udp_sendmsg4(struct bpf_sock_addr *ctx)
{
    if (!active())
        return 1 /* allow: the hook only observes */;
    __u32 addr = ctx->user_ip4;
    note_udp_peer(4, &addr, ctx->user_port);
    return 1;
}

SEC("cgroup/recvmsg4")
int netobs_udp_recvmsg4(struct bpf_sock_addr *ctx)
{
    if (!active())
        return 1 /* allow: the hook only observes */;
    __u32 addr = ctx->user_ip4;
    note_udp_peer(4, &addr, ctx->user_port);
    return 1;
}

SEC("cgroup/sendmsg6")
int netobs_udp_sendmsg6(struct bpf_sock_addr *ctx)
{
    if (!active())
        return 1 /* allow: the hook only observes */;
    __u32 addr[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
    note_udp_peer(6, addr, ctx->user_port);
    return 1;
}

SEC("cgroup/recvmsg6")
int netobs_udp_recvmsg6(struct bpf_sock_addr *ctx)
{
    if (!active())
        return 1 /* allow: the hook only observes */;
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
    if (!active())
        return 0;
    on_data(sk, ret, true);
    return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netobs_recv, struct sock *sk, int ret, int flags)
{
    if (!active())
        return 0;
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
    if (!active())
        return 0;
    /* Counted as the kernel's TcpRetransSegs counts: every attempt except one skipped because
     * the original is still in the host queue (-EBUSY, before the kernel counts it). */
    if (err == -EBUSY)
        return 0;
    struct netobs_tcp_flow *f = tcp_flow(sk);
    if (!f)
        return 0;
    if (!f->ep.local_port)
        read_endpoints(sk, &f->ep); /* a SYN retransmitted: the port connect() picked */
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

static __always_inline void record_drop(__u32 *drops, __u32 *last, __u64 *reasons, __u32 reason)
{
    __sync_fetch_and_add(drops, 1);
    *last = reason;
    if (reason < 128)
        __sync_fetch_and_or(&reasons[reason >> 6 & 1], 1ULL << (reason & 63));
}

/* Counts a drop of a packet that carries no socket under its connection tuple (the local
 * end is the packet's destination); the agent adds it to the flow with that tuple. */
static __always_inline void record_tuple_drop(const struct sk_buff *skb, __u32 reason)
{
    unsigned char *head = skb->head;
    __u16 nh = skb->network_header;
    __u16 l3 = bpf_ntohs(skb->protocol);
    struct netobs_tuple t = {};
    __u32 l4_off;

    if (nh == (__u16)~0U)
        return;
    if (l3 == ETH_P_IP) {
        struct iphdr ip;
        if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.protocol != IPPROTO_TCP)
            return;
        l4_off = nh + ip.ihl * 4;
        __builtin_memcpy(t.remote_addr, &ip.saddr, 4);
        __builtin_memcpy(t.local_addr, &ip.daddr, 4);
    } else if (l3 == ETH_P_IPV6) {
        struct ipv6hdr ip6;
        if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_TCP)
            return;
        l4_off = nh + sizeof(ip6);
        __builtin_memcpy(t.remote_addr, &ip6.saddr, 16);
        __builtin_memcpy(t.local_addr, &ip6.daddr, 16);
    } else {
        return;
    }
    __be16 ports[2];
    if (bpf_probe_read_kernel(ports, sizeof(ports), head + l4_off))
        return;
    t.remote_port = bpf_ntohs(ports[0]);
    t.local_port = bpf_ntohs(ports[1]);
    struct net_device *dev = skb->dev;
    if (dev)
        t.netns = dev->nd_net.net->ns.inum;

    struct netobs_tuple_drops *d = bpf_map_lookup_elem(&netobs_tcp_drops, &t);
    if (!d) {
        struct netobs_tuple_drops zero = {};
        long err = bpf_map_update_elem(&netobs_tcp_drops, &t, &zero, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count_loss(NETOBS_LOSS_TCP_DROP_MAP_FULL);
            return;
        }
        d = bpf_map_lookup_elem(&netobs_tcp_drops, &t);
        if (!d)
            return;
    }
    record_drop(&d->drops, &d->last_drop_reason, d->drop_reasons, reason);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(netobs_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
    if (!active())
        return 0;
    __u16 l3 = bpf_ntohs(skb->protocol);
    if (l3 != ETH_P_IP && l3 != ETH_P_IPV6)
        return 0;
    struct sock *sk = skb->sk;
    if (!sk) {
        record_tuple_drop(skb, reason);
        return 0;
    }
    if (sk->sk_protocol != IPPROTO_TCP || !is_inet(sk))
        return 0;
    struct netobs_tcp_flow *f = tcp_flow(sk); /* NULL for request and timewait sockets */
    if (f)
        record_drop(&f->drops, &f->last_drop_reason, f->drop_reasons, reason);
    return 0;
}

/* ---------------------------------------------------------------- export */

/* Writes every live flow, and every closed one the ring buffer could not take, to the
 * agent's read() of the iterator: one pass over all sockets per flush. */
SEC("iter/bpf_sk_storage_map")
int netobs_tcp_dump(struct bpf_iter__bpf_sk_storage_map *ctx)
{
    struct netobs_tcp_flow *f = ctx->value;
    if (!ctx->sk || !f || !f->start_ns || f->exported)
        return 0;
    bpf_seq_write(ctx->meta->seq, f, sizeof(*f));
    if (f->closed_ns)
        f->exported = 1;
    return 0;
}
