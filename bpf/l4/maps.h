/* Maps of bpf/l4.bpf.c, shared by both hook tiers (see l4.bpf.c). */
#ifndef NETOBS_L4_MAPS_H
#define NETOBS_L4_MAPS_H

/* BTF tier: TCP flows live in socket-local storage (no hashing on the hot paths, freed with the
 * socket), read with the netobs_tcp_dump iterator. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_store SEC(".maps");

/* Portable tier: TCP flows in a hash keyed by the socket's address (unique while the socket
 * lives; the entry goes at CLOSE), read with batch lookups. Sized by the agent. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_flows SEC(".maps");

/* Portable tier: the keys of the flows changed since the agent's last read (it reads and
 * deletes them each flush, then looks those flows up): idle flows cost the agent nothing. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, __u8);
} netobs_tcp_dirty SEC(".maps");

/* A zeroed flow to insert from: the struct is larger than the BPF stack. Never written. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_tcp_flow);
} netobs_tcp_zero SEC(".maps");

/* Live TCP flows of the BTF tier, against netobs_config.max_tcp_flows (socket storage has no
 * capacity of its own; the cap bounds the agent's memory). */
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

#include "../udp_flows.h"

/* Closed flows: 64 MiB hold 160k closes, over a second at 100k connections/s with both ends
 * on the node; the agent drains it on a thread of its own. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 << 20);
} netobs_tcp_closed SEC(".maps");

/* Past this backlog a close wakes the agent's drain thread; below it the thread's own 50 ms
 * poll collects closes in batches, with no wakeup per close. */
#define CLOSED_WAKEUP_BYTES (4 << 20)

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

static __always_inline __u32 current_epoch(void)
{
    __u32 zero = 0;
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    return cfg ? cfg->rtt_epoch : 0;
}

static __always_inline void count_loss(__u32 which)
{
    __u64 *n = bpf_map_lookup_elem(&netobs_losses, &which);
    if (n)
        *n += 1; /* per-CPU slot: no atomic needed */
}

#endif
