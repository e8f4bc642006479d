// SPDX-License-Identifier: GPL-2.0
/* Benchmark baseline: empty programs on the agent's tracepoints, one set per hook tier (tp_btf
 * for the btf tier, raw_tp for the portable one; the loader attaches the set of the tier
 * measured). bpf_stats times a program with sched_clock around it, so its figure includes the
 * dispatch and any interrupt that lands meanwhile; the same figure for an empty program on the
 * same hook is the floor to subtract. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sock_send_length") int BPF_PROG(base_send) { return 0; }
SEC("tp_btf/sock_recv_length") int BPF_PROG(base_recv) { return 0; }
SEC("tp_btf/inet_sock_set_state") int BPF_PROG(base_tcp_state) { return 0; }
SEC("tp_btf/tcp_destroy_sock") int BPF_PROG(base_tcp_destroy) { return 0; }
SEC("tp_btf/tcp_retransmit_skb") int BPF_PROG(base_tcp_retransmit) { return 0; }
SEC("tp_btf/kfree_skb") int BPF_PROG(base_drop) { return 0; }

SEC("raw_tp/sock_send_length") int base_rt_send(void *ctx) { return 0; }
SEC("raw_tp/sock_recv_length") int base_rt_recv(void *ctx) { return 0; }
SEC("raw_tp/inet_sock_set_state") int base_rt_state(void *ctx) { return 0; }
SEC("raw_tp/tcp_destroy_sock") int base_rt_destroy(void *ctx) { return 0; }
SEC("raw_tp/tcp_retransmit_skb") int base_rt_retx(void *ctx) { return 0; }
SEC("raw_tp/kfree_skb") int base_rt_drop(void *ctx) { return 0; }
