// SPDX-License-Identifier: GPL-2.0
/* A "new version" of the L7 programs that the verifier rejects: the hot swap must fail with
 * the verifier's words and leave the running L7 programs recording. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 netobs_generation = 0;

SEC("cgroup_skb/egress")
int netobs_l7_egress(struct __sk_buff *ctx)
{
    int *p = (int *)(long)bpf_get_prandom_u32();
    return *p + netobs_generation;
}
