// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must reject (it dereferences an arbitrary number): the test checks
 * that the verifier's explanation reaches the caller's error. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/sock_send_length")
int netobs_rejected(void *ctx)
{
    int *p = (int *)(long)bpf_get_prandom_u32();
    return *p;
}
