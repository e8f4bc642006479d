/* UDP flows, (socket cookie, peer) → counters. Declared by the L4 object, which sizes it and
 * whose collector reads it, and by the L7 object, whose cgroup_skb programs count the
 * datagrams: the agent makes the L7 copy use the L4 object's map (one map, two objects). */
#ifndef NETOBS_UDP_FLOWS_H
#define NETOBS_UDP_FLOWS_H

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct netobs_udp_key);
    __type(value, struct netobs_udp_flow);
} netobs_udp_flows SEC(".maps");

#endif
