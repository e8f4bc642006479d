// SPDX-License-Identifier: GPL-2.0
/* A "new version" of the L4 programs that the verifier rejects: the hot swap must fail with
 * the verifier's words and leave the running programs working. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 netobs_generation = 0;

SEC("tp_btf/sock_send_length")
int BPF_PROG(netobs_send, struct sock *sk, int ret, int flags)
{
    int *p = (int *)(long)bpf_get_prandom_u32();
    return *p + netobs_generation;
}

/* The same on the portable tier. */
SEC("raw_tp/sock_send_length")
int netobs_rt_send(struct bpf_raw_tracepoint_args *ctx)
{
    int *p = (int *)(long)bpf_get_prandom_u32();
    return *p + netobs_generation;
}
