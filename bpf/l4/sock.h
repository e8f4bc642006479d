/* Reading kernel sockets on either hook tier.
 *
 * Every helper takes `portable`, a constant at each call site (the programs of l4.bpf.c pass
 * a literal), so each program keeps one branch. BTF tier (tp_btf): arguments are typed kernel
 * pointers and fields are direct loads. Portable tier (raw_tp): arguments are plain numbers,
 * so fields are CO-RE probe reads. */
#ifndef NETOBS_L4_SOCK_H
#define NETOBS_L4_SOCK_H

#define AF_INET 2
#define AF_INET6 10

/* Portable tier, kernels 6.2 and later: bpf_rdonly_cast gives a read-only typed view of a
 * kernel object, whose loads are direct (the JIT guards them) where a CO-RE probe read is a
 * helper call. Older kernels lack the kfunc: the weak symbol resolves to 0 there, the verifier
 * drops the branch that uses it, and reads fall back to CO-RE. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define HAS_RDONLY_CAST (!!bpf_rdonly_cast)
#define KCAST(ptr) \
    ((__typeof_unqual__(*(ptr)) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(__typeof_unqual__(*(ptr)))))

/* One field (a path within one struct, e.g. `__sk_common.skc_num`) of `ptr`. */
#define KREAD(portable, ptr, field) \
    ((portable) ? (HAS_RDONLY_CAST ? KCAST(ptr)->field : BPF_CORE_READ(ptr, field)) : (ptr)->field)

/* The address of a kernel object as a number: the portable tier's flow key, and the sample
 * hash. The verifier forbids arithmetic on a typed pointer: copy its value out instead. */
static __always_inline __u64 kernel_address(const void *ptr, const bool portable)
{
    if (portable)
        return (__u64)ptr;
    __u64 addr = 0;
    bpf_probe_read_kernel(&addr, sizeof(addr), &ptr);
    return addr;
}

static __always_inline bool is_inet(const struct sock *sk, const bool portable)
{
    __u16 family = KREAD(portable, sk, __sk_common.skc_family);
    return family == AF_INET || family == AF_INET6;
}

static __always_inline __u32 socket_netns(const struct sock *sk, const bool portable)
{
    if (portable && !HAS_RDONLY_CAST)
        return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    return (portable ? KCAST(sk) : sk)->__sk_common.skc_net.net->ns.inum;
}

static __always_inline void read_endpoints(const struct sock *sk, struct netobs_endpoints *ep, const bool portable)
{
    ep->protocol = KREAD(portable, sk, sk_protocol);
    ep->local_port = KREAD(portable, sk, __sk_common.skc_num);
    ep->remote_port = bpf_ntohs(KREAD(portable, sk, __sk_common.skc_dport));
    ep->netns = socket_netns(sk, portable);
    __u32 *local = (__u32 *)ep->local_addr, *remote = (__u32 *)ep->remote_addr;
    if (KREAD(portable, sk, __sk_common.skc_family) == AF_INET) {
        ep->ip_version = 4;
        local[0] = KREAD(portable, sk, __sk_common.skc_rcv_saddr);
        remote[0] = KREAD(portable, sk, __sk_common.skc_daddr);
    } else if (portable && !HAS_RDONLY_CAST) {
        ep->ip_version = 6;
        BPF_CORE_READ_INTO(&ep->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&ep->remote_addr, sk, __sk_common.skc_v6_daddr);
    } else {
        ep->ip_version = 6;
        const struct sock_common *c = &(portable ? KCAST(sk) : sk)->__sk_common;
        for (int i = 0; i < 4; i++) {
            local[i] = c->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
            remote[i] = c->skc_v6_daddr.in6_u.u6_addr32[i];
        }
    }
}

/* The cgroup the socket was created in: right even in softirq, where "current" is not
 * the owner (accepted sockets inherit the listener's). */
static __always_inline __u64 socket_cgroup_id(const struct sock *sk, const bool portable)
{
    if (portable && !HAS_RDONLY_CAST)
        return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
    struct cgroup *cg = (portable ? KCAST(sk) : sk)->sk_cgrp_data.cgroup;
    return cg ? cg->kn->id : 0;
}

static __always_inline void set_owner_from_current(struct netobs_owner *owner)
{
    owner->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(owner->comm, sizeof(owner->comm));
}

/* Whether the rules let a new flow be collected. Called only at flow creation. */
static __always_inline bool rules_admit(const struct sock *sk, __u8 protocol, __u16 local_port,
                                        __u16 remote_port, const bool portable)
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
        __u64 cg = socket_cgroup_id(sk, portable);
        bool hit = bpf_map_lookup_elem(&netobs_rule_cgroups, &cg) != NULL;
        if (hit != (r->cgroup_mode == NETOBS_FILTER_INCLUDE))
            return false;
    }
    if (r->sample_every > 1) {
        /* Fibonacci hash of the socket address: the same socket is always in or out. */
        __u64 h = (kernel_address(sk, portable) >> 4) * 0x9E3779B97F4A7C15ULL;
        if ((__u32)(h >> 32) % r->sample_every)
            return false;
    }
    return true;
}

#endif
