/* UDP flows on either hook tier (see sock.h for `portable`). */
#ifndef NETOBS_L4_UDP_H
#define NETOBS_L4_UDP_H

/* The socket's identity in the UDP flow key: its cookie, never reused, where an address soon
 * holds another socket whose datagrams to the same peer would count in the old flow. The
 * portable tier reads the cookie the kernel assigned (netobs_sock_cookie assigns one to every
 * socket created after the agent started); a socket with none yet is known by its address. */
static __always_inline __u64 udp_socket_id(const struct sock *sk, const bool portable)
{
    if (!portable)
        return bpf_get_socket_cookie((void *)sk);
    __u64 cookie = KREAD(portable, sk, __sk_common.skc_cookie.counter);
    return cookie ? cookie : kernel_address(sk, portable);
}

static __always_inline void udp_data(const struct sock *sk, int bytes, bool sent, const bool portable)
{
    struct netobs_udp_key key = {};
    key.sock = udp_socket_id(sk, portable);
    __u16 family = KREAD(portable, sk, __sk_common.skc_family);
    __u16 dport = KREAD(portable, sk, __sk_common.skc_dport);
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
            __u32 daddr = KREAD(portable, sk, __sk_common.skc_daddr);
            __builtin_memcpy(key.remote_addr, &daddr, 4);
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
        if (!rules_admit(sk, IPPROTO_UDP, KREAD(portable, sk, __sk_common.skc_num), key.remote_port, portable))
            return; /* kept out by a rule: not collected, not a loss */
        struct netobs_udp_flow n = {};
        read_endpoints(sk, &n.ep, portable);
        __builtin_memcpy(n.ep.remote_addr, key.remote_addr, 16);
        n.ep.remote_port = key.remote_port;
        n.ep.role = sent ? NETOBS_ROLE_CLIENT : NETOBS_ROLE_SERVER;
        n.owner.cgroup_id = socket_cgroup_id(sk, portable);
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

#endif
