/* TCP flows on either hook tier (see sock.h for `portable`). */
#ifndef NETOBS_L4_TCP_H
#define NETOBS_L4_TCP_H

#define EEXIST 17
#define EBUSY 16
#define ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */

static __always_inline struct netobs_tcp_flow *tcp_flow(const struct sock *sk, const bool portable)
{
    if (portable) {
        __u64 key = kernel_address(sk, portable);
        return bpf_map_lookup_elem(&netobs_tcp_flows, &key);
    }
    return bpf_sk_storage_get(&netobs_tcp_store, (struct sock *)sk, 0, 0);
}

/* Fills in what the socket says of a zeroed flow. */
static __always_inline void tcp_flow_init(struct netobs_tcp_flow *f, const struct sock *sk, __u8 state,
                                          const bool portable)
{
    f->sock = kernel_address(sk, portable);
    f->state = state;
    read_endpoints(sk, &f->ep, portable);
    f->owner.cgroup_id = socket_cgroup_id(sk, portable);
}

/* Zeroed storage for a new flow: in the socket (BTF tier, capped by netobs_tcp_live) or a new
 * hash entry (portable tier, capped by the map's size). NULL when full (counted). */
static __always_inline struct netobs_tcp_flow *tcp_flow_allocate(const struct sock *sk, const bool portable)
{
    __u32 zero = 0;
    if (portable) {
        __u64 key = kernel_address(sk, portable);
        struct netobs_tcp_flow *blank = bpf_map_lookup_elem(&netobs_tcp_zero, &zero);
        if (!blank)
            return NULL;
        long err = bpf_map_update_elem(&netobs_tcp_flows, &key, blank, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
            return NULL;
        }
        return bpf_map_lookup_elem(&netobs_tcp_flows, &key);
    }
    __s64 *live = bpf_map_lookup_elem(&netobs_tcp_live, &zero);
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    if (!live || !cfg)
        return NULL;
    if (cfg->max_tcp_flows && *live >= cfg->max_tcp_flows) {
        count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
        return NULL;
    }
    struct netobs_tcp_flow *f = bpf_sk_storage_get(&netobs_tcp_store, (struct sock *)sk, 0,
                                                   BPF_SK_STORAGE_GET_F_CREATE);
    if (!f) {
        count_loss(NETOBS_LOSS_TCP_FLOW_MAP_FULL);
        return NULL;
    }
    __sync_fetch_and_add(live, 1);
    return f;
}

/* A new flow, unless a rule keeps the socket out (not collected, not a loss). */
static __always_inline struct netobs_tcp_flow *tcp_flow_create(const struct sock *sk, __u8 state, const bool portable)
{
    __u16 local_port = KREAD(portable, sk, __sk_common.skc_num);
    __u16 remote_port = bpf_ntohs(KREAD(portable, sk, __sk_common.skc_dport));
    if (!rules_admit(sk, IPPROTO_TCP, local_port, remote_port, portable))
        return NULL;
    struct netobs_tcp_flow *f = tcp_flow_allocate(sk, portable);
    if (f)
        tcp_flow_init(f, sk, state, portable);
    return f;
}

/* Stamps a change of the flow (call after the change) with the epoch + 1 (0: never stamped);
 * on the portable tier the first change of an epoch also lists the flow's key for the agent's
 * next read. The BTF tier's iterator reads the stamp instead. */
static __always_inline void mark_changed(struct netobs_tcp_flow *f, const bool portable)
{
    __u32 stamp = current_epoch() + 1;
    if (f->dirty_epoch == stamp)
        return;
    f->dirty_epoch = stamp;
    if (portable) {
        __u64 key = f->sock;
        __u8 one = 1;
        bpf_map_update_elem(&netobs_tcp_dirty, &key, &one, BPF_ANY);
    }
}

/* A TLP sets tlp_high_seq until its episode ends: each distinct value is one probe. */
static __always_inline void note_tlp(struct netobs_tcp_flow *f, const struct tcp_sock *tp, const bool portable)
{
    __u32 high = KREAD(portable, tp, tlp_high_seq);
    if (high && high != f->tlp_high_seq) {
        f->tlp_high_seq = high;
        __sync_fetch_and_add(&f->tlp, 1);
    }
}

static __always_inline void note_rtt(struct netobs_tcp_flow *f, const struct tcp_sock *tp, const bool portable)
{
    __u32 srtt = KREAD(portable, tp, srtt_us) >> 3;
    if (!srtt)
        return;
    __u32 zero = 0;
    struct netobs_config *cfg = bpf_map_lookup_elem(&netobs_config, &zero);
    __u32 epoch = cfg ? cfg->rtt_epoch : 0;
    __u32 slot = epoch & 1;
    f->srtt_us = srtt;
    if (f->rtt_slot_epoch[slot] != epoch) {
        f->rtt_slot_epoch[slot] = epoch;
        f->rtt_min_us[slot] = srtt;
        f->rtt_max_us[slot] = srtt;
        return;
    }
    if (srtt < f->rtt_min_us[slot])
        f->rtt_min_us[slot] = srtt;
    if (srtt > f->rtt_max_us[slot])
        f->rtt_max_us[slot] = srtt;
}

/* The socket as a tcp_sock: a checked cast on the BTF tier; the portable tier has checked
 * sk_protocol already and reads through CO-RE. */
static __always_inline const struct tcp_sock *as_tcp_sock(const struct sock *sk, const bool portable)
{
    if (portable)
        return (const struct tcp_sock *)sk;
    return bpf_skc_to_tcp_sock((void *)sk);
}

/* Moves a closed flow to user space once. When the ring buffer is full the flow stays in
 * its map, marked, and the agent's next read collects it: counted, not lost. On the portable
 * tier an exported flow leaves the hash at once (the socket's address may soon be another's). */
static __always_inline void tcp_flow_close(struct netobs_tcp_flow *f, const struct sock *sk, __u64 now,
                                           const bool portable)
{
    f->closed_ns = now;
    f->sk_err = KREAD(portable, sk, sk_err);
    const struct tcp_sock *tp = as_tcp_sock(sk, portable);
    if (tp)
        note_tlp(f, tp, portable);
    /* A wakeup only past a backlog: the agent drains on a short timer, which batches many
     * closes per read instead of an interrupt-driven wakeup per close. */
    __u64 flags = bpf_ringbuf_query(&netobs_tcp_closed, BPF_RB_AVAIL_DATA) > CLOSED_WAKEUP_BYTES
        ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
    if (bpf_ringbuf_output(&netobs_tcp_closed, f, sizeof(*f), flags)) {
        count_loss(NETOBS_LOSS_RINGBUF_FULL);
        return;
    }
    f->exported = 1;
    if (portable) {
        __u64 key = f->sock;
        bpf_map_delete_elem(&netobs_tcp_flows, &key);
    }
}

/* Transitions that only a system call makes: the current task owns the socket. */
static __always_inline bool in_owner_context(int oldstate, int newstate)
{
    return (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) ||
           (oldstate == TCP_ESTABLISHED && newstate == TCP_FIN_WAIT1) ||
           (oldstate == TCP_CLOSE_WAIT && newstate == TCP_LAST_ACK);
}

static __always_inline void tcp_state_change(const struct sock *sk, int oldstate, int newstate, const bool portable)
{
    if (KREAD(portable, sk, sk_protocol) != IPPROTO_TCP || !is_inet(sk, portable))
        return;
    if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE))
        return; /* listeners are not flows; their children are */

    __u64 now = bpf_ktime_get_ns();
    bool begins = newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV;
    /* A connection starting on a socket: a new passive child, or connect(). */
    bool fresh = (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV) || (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT);
    struct netobs_tcp_flow *f = tcp_flow(sk, portable);
    if (f && ((f->closed_ns && begins) || (f->start_ns && fresh))) {
        /* A new flow in the place of an older one: the same socket connecting again after
         * closing (connect() after a failed connect), or, in the portable tier's hash keyed by
         * socket address, a freed socket whose end was never seen (its identity must not pass
         * to the new one). What the older flow had not exported is lost, and counted. */
        if (!f->closed_ns)
            count_loss(NETOBS_LOSS_TCP_END_MISSED);
        else if (!f->exported)
            count_loss(NETOBS_LOSS_TCP_CLOSED_OVERWRITTEN);
        __builtin_memset(f, 0, sizeof(*f));
        tcp_flow_init(f, sk, oldstate, portable);
    }
    if (!f)
        f = tcp_flow_create(sk, oldstate, portable);
    if (!f)
        return;

    if (!f->start_ns) {
        f->start_ns = now;
        if (newstate == TCP_SYN_SENT)
            f->ep.role = NETOBS_ROLE_CLIENT;
        else if (newstate == TCP_SYN_RECV)
            f->ep.role = NETOBS_ROLE_SERVER;
    }
    if (!f->owner_set && in_owner_context(oldstate, newstate)) {
        set_owner_from_current(&f->owner);
        f->owner_set = 1;
    }
    /* Addresses are final once connected. connect() picks the local port only after the
     * switch to SYN_SENT, and CLOSE is traced after the port is released: a connection that
     * fails learns its port from the reset or the SYN retransmission. */
    if (newstate == TCP_ESTABLISHED || newstate == TCP_SYN_SENT)
        read_endpoints(sk, &f->ep, portable);

    __u32 idx = f->transition_count & (NETOBS_TRANSITIONS - 1);
    struct netobs_transition *t = &f->transitions[idx];
    t->ts_ns = now;
    t->old_state_ns = f->state_since_ns ? now - f->state_since_ns : 0;
    t->old_state = oldstate;
    t->new_state = newstate;
    f->transition_count += 1;
    f->state = newstate;
    f->state_since_ns = now;

    if (newstate == TCP_CLOSE)
        tcp_flow_close(f, sk, now, portable);
    else
        mark_changed(f, portable);
}

/* A reset received: a refused connect() still holds its local port here. */
static __always_inline void tcp_reset_received(const struct sock *sk, const bool portable)
{
    struct netobs_tcp_flow *f = tcp_flow(sk, portable);
    if (f && !f->ep.local_port) {
        read_endpoints(sk, &f->ep, portable);
        mark_changed(f, portable);
    }
}

/* A socket freed without a transition to CLOSE still leaves once. */
static __always_inline void tcp_destroyed(const struct sock *sk, const bool portable)
{
    struct netobs_tcp_flow *f = tcp_flow(sk, portable);
    if (!f)
        return;
    if (f->start_ns && !f->closed_ns)
        tcp_flow_close(f, sk, bpf_ktime_get_ns(), portable);
    if (portable)
        return; /* exported: gone from the hash; kept for the agent otherwise */
    __u32 zero = 0;
    __s64 *live = bpf_map_lookup_elem(&netobs_tcp_live, &zero);
    if (live)
        __sync_fetch_and_add(live, -1); /* the storage goes with the socket */
}

static __always_inline void tcp_data(const struct sock *sk, int bytes, bool sent, const bool portable)
{
    struct netobs_tcp_flow *f = tcp_flow(sk, portable);
    if (!f) {
        /* A connection that predates the agent: adopt it on its first data. */
        __u8 state = KREAD(portable, sk, __sk_common.skc_state);
        if (state == TCP_LISTEN || state == TCP_CLOSE)
            return;
        f = tcp_flow_create(sk, state, portable);
        if (!f)
            return;
        f->start_ns = bpf_ktime_get_ns();
    }
    if (!f->owner_set) {
        set_owner_from_current(&f->owner);
        f->owner_set = 1;
    }
    /* Plain adds: the counters of one socket and direction are written only by the system
     * calls on that socket, which complete one at a time (the socket lock, and tracepoints
     * run with preemption off); an atomic would cost a quarter of the hook. */
    if (!sent) {
        f->rx_bytes += bytes;
        f->rx_calls += 1;
        mark_changed(f, portable);
        return;
    }
    f->tx_bytes += bytes;
    f->tx_calls += 1;
    /* The sender's system calls sample srtt and loss-probe state: as fresh as a
     * per-segment hook for anyone who sends, at a fraction of the invocations. */
    const struct tcp_sock *tp = as_tcp_sock(sk, portable);
    if (tp) {
        note_rtt(f, tp, portable);
        note_tlp(f, tp, portable);
    }
    mark_changed(f, portable);
}

/* A retransmission sent by the loss probe timer: the pending timer event is the loss probe
 * and it has expired (tcp_write_timer_handler runs only then). A fast retransmission while a
 * probe is merely scheduled has an expiry in the future. */
static __always_inline bool is_loss_probe(const struct tcp_sock *tp, const bool portable)
{
    if (KREAD(portable, tp, inet_conn.icsk_pending) != ICSK_TIME_LOSS_PROBE)
        return false;
    unsigned long expires = KREAD(portable, tp, inet_conn.icsk_retransmit_timer.expires);
    return (long)(bpf_jiffies64() - expires) >= 0;
}

static __always_inline void tcp_retransmitted(const struct sock *sk, const struct sk_buff *skb, int err,
                                              const bool portable)
{
    /* Counted as the kernel's TcpRetransSegs counts: every attempt except one skipped because
     * the original is still in the host queue (-EBUSY, before the kernel counts it). */
    if (err == -EBUSY)
        return;
    struct netobs_tcp_flow *f = tcp_flow(sk, portable);
    if (!f)
        return;
    if (!f->ep.local_port)
        read_endpoints(sk, &f->ep, portable); /* a SYN retransmitted: the port connect() picked */
    struct tcp_skb_cb *cb = (struct tcp_skb_cb *)skb->cb;
    __u16 segs = BPF_CORE_READ(cb, tcp_gso_segs);
    __sync_fetch_and_add(&f->retransmits, segs ? segs : 1);
    const struct tcp_sock *tp = as_tcp_sock(sk, portable);
    if (!tp) {
        mark_changed(f, portable);
        return;
    }
    if (is_loss_probe(tp, portable)) {
        /* The kernel records this probe in tlp_high_seq (= snd_nxt) right after; note the
         * same value so that note_tlp does not count it again. */
        f->tlp_high_seq = KREAD(portable, tp, snd_nxt);
        __sync_fetch_and_add(&f->tlp, 1);
    } else {
        note_tlp(f, tp, portable);
    }
    mark_changed(f, portable);
}

#endif
