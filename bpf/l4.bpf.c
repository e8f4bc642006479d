// SPDX-License-Identifier: GPL-2.0
/* L4 collection: every TCP flow, aggregated per socket in kernel maps. UDP datagrams are
 * counted by the L7 object's cgroup_skb programs (which see every packet already) into this
 * object's netobs_udp_flows: the peer is in the packet, so unconnected sockets need no
 * sendmsg/recvmsg hooks (which take the socket lock).
 *
 * Two hook tiers of the same logic (the headers in l4/), picked by the agent at load:
 * - BTF tier: tp_btf programs on the stable tracepoints, TCP flows in socket storage, read by
 *   the netobs_tcp_dump iterator. Needs the `tracing` program type.
 * - Portable tier: raw_tp programs on the same tracepoints with CO-RE reads, TCP flows in a
 *   hash keyed by socket address, read with batch lookups. Needs `raw_tracepoint` only.
 * kprobes and fentry are not assumed. A closed TCP flow leaves through the ring buffer once, with its final
 * counters; the agent reads the rest in batches each flush interval.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "netobs_layout.h"
#include "l4/maps.h"
#include "l4/sock.h"
#include "l4/tcp.h"
#include "l4/drops.h"

char LICENSE[] SEC("license") = "GPL";

#define MSG_PEEK 2

static __always_inline void on_data(const struct sock *sk, int bytes, int flags, bool sent, const bool portable)
{
    if (!active())
        return;
    if (!sent && (flags & MSG_PEEK))
        return; /* peeked bytes are read again later */
    /* The protocol first: a UDP (or unix) socket's call ends at one read. The family check
     * keeps out netlink sockets, whose protocol numbers overlap. */
    if (bytes <= 0 || !sk || KREAD(portable, sk, sk_protocol) != IPPROTO_TCP || !is_inet(sk, portable))
        return;
    tcp_data(sk, bytes, sent, portable);
}

/* ---------------------------------------------------------------- BTF tier */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netobs_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
    if (active())
        tcp_state_change(sk, oldstate, newstate, false);
    return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(netobs_tcp_reset, struct sock *sk)
{
    if (active())
        tcp_reset_received(sk, false);
    return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netobs_tcp_destroy, struct sock *sk)
{
    if (active())
        tcp_destroyed(sk, false);
    return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(netobs_send, struct sock *sk, int ret, int flags)
{
    on_data(sk, ret, flags, true, false);
    return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netobs_recv, struct sock *sk, int ret, int flags)
{
    on_data(sk, ret, flags, false, false);
    return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(netobs_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
    if (active())
        tcp_retransmitted(sk, skb, err, false);
    return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(netobs_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
    if (active())
        packet_dropped(skb, reason, false);
    return 0;
}

/* Writes the live flows that changed since the last flush (every live flow when the agent
 * asks for a full dump), and every closed one the ring buffer could not take, to the agent's
 * read() of the iterator. Idle flows are skipped without a write, so a pass over many idle
 * sockets costs few read() restarts. */
SEC("iter/bpf_sk_storage_map")
int netobs_tcp_dump(struct bpf_iter__bpf_sk_storage_map *ctx)
{
    struct netobs_tcp_flow *f = ctx->value;
    if (!ctx->sk || !f || !f->start_ns || f->exported)
        return 0;
    __u32 zero = 0;
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    /* Changed in the ended epoch or the current one (stamps are epoch + 1). */
    if (cfg && !cfg->full_dump && !f->closed_ns && cfg->rtt_epoch + 1 - f->dirty_epoch > 1)
        return 0;
    bpf_seq_write(ctx->meta->seq, f, sizeof(*f));
    if (f->closed_ns)
        f->exported = 1;
    return 0;
}

/* ---------------------------------------------------------------- portable tier */

/* Raw tracepoint arguments are the tracepoint's own, as numbers: args[0] is the first. */
#define ARG(n) ((void *)ctx->args[n])

SEC("raw_tp/inet_sock_set_state")
int netobs_rt_state(struct bpf_raw_tracepoint_args *ctx)
{
    if (active())
        tcp_state_change(ARG(0), (int)ctx->args[1], (int)ctx->args[2], true);
    return 0;
}

SEC("raw_tp/tcp_receive_reset")
int netobs_rt_reset(struct bpf_raw_tracepoint_args *ctx)
{
    if (active())
        tcp_reset_received(ARG(0), true);
    return 0;
}

SEC("raw_tp/tcp_destroy_sock")
int netobs_rt_destroy(struct bpf_raw_tracepoint_args *ctx)
{
    if (active())
        tcp_destroyed(ARG(0), true);
    return 0;
}

SEC("raw_tp/sock_send_length")
int netobs_rt_send(struct bpf_raw_tracepoint_args *ctx)
{
    on_data(ARG(0), (int)ctx->args[1], (int)ctx->args[2], true, true);
    return 0;
}

SEC("raw_tp/sock_recv_length")
int netobs_rt_recv(struct bpf_raw_tracepoint_args *ctx)
{
    on_data(ARG(0), (int)ctx->args[1], (int)ctx->args[2], false, true);
    return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int netobs_rt_retx(struct bpf_raw_tracepoint_args *ctx)
{
    if (active())
        tcp_retransmitted(ARG(0), ARG(1), (int)ctx->args[2], true);
    return 0;
}

SEC("raw_tp/kfree_skb")
int netobs_rt_drop(struct bpf_raw_tracepoint_args *ctx)
{
    if (active())
        packet_dropped(ARG(0), (__u32)ctx->args[2], true);
    return 0;
}
