/* Packet drops (skb:kfree_skb) on either hook tier (see sock.h for `portable`). */
#ifndef NETOBS_L4_DROPS_H
#define NETOBS_L4_DROPS_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

static __always_inline void record_drop(__u32 *drops, __u32 *last, __u64 *reasons, __u32 reason)
{
    __sync_fetch_and_add(drops, 1);
    *last = reason;
    if (reason < 128)
        __sync_fetch_and_or(&reasons[reason >> 6 & 1], 1ULL << (reason & 63));
}

/* Counts a drop of a packet that carries no socket under its connection tuple (the local
 * end is the packet's destination); the agent adds it to the flow with that tuple. */
static __always_inline void record_tuple_drop(const struct sk_buff *skb, __u32 reason, const bool portable)
{
    unsigned char *head = KREAD(portable, skb, head);
    __u16 nh = KREAD(portable, skb, network_header);
    __u16 l3 = bpf_ntohs(KREAD(portable, skb, protocol));
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
    const struct net_device *dev = KREAD(portable, skb, dev);
    if (dev && portable && !HAS_RDONLY_CAST)
        t.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
    else if (dev)
        t.netns = (portable ? KCAST(dev) : dev)->nd_net.net->ns.inum;

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

static __always_inline void packet_dropped(const struct sk_buff *skb, __u32 reason, const bool portable)
{
    __u16 l3 = bpf_ntohs(KREAD(portable, skb, protocol));
    if (l3 != ETH_P_IP && l3 != ETH_P_IPV6)
        return;
    const struct sock *sk = KREAD(portable, skb, sk);
    if (!sk) {
        record_tuple_drop(skb, reason, portable);
        return;
    }
    if (KREAD(portable, sk, sk_protocol) != IPPROTO_TCP || !is_inet(sk, portable))
        return;
    struct netobs_tcp_flow *f = tcp_flow(sk, portable); /* none for request and timewait sockets */
    if (f) {
        record_drop(&f->drops, &f->last_drop_reason, f->drop_reasons, reason);
        mark_changed(f, portable);
    }
}

#endif
