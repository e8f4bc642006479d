// SPDX-License-Identifier: GPL-2.0
/* TLS plaintext: uprobes on OpenSSL (libssl.so.3) SSL_write/SSL_read and SSL_write_ex/
 * SSL_read_ex copy what the application wrote or read onto a ring buffer, one event per 4 KiB
 * chunk (the first 16 KiB of a call), for the agent to parse per connection.
 *
 * Program type kprobe (what uprobes use): loads where `tracing` programs do not. The agent
 * attaches the uprobes to each libssl file the node's processes map (by inode: every process
 * mapping it, now or later, is covered).
 *
 * The SSL* is tied to its socket by the socket I/O made inside the call: an SSL call in
 * progress is noted per thread (netobs_tls_calls); the sock_send_length/sock_recv_length raw
 * tracepoints (socket I/O only, not every read and write on the node) note the socket the
 * thread sends or receives on while inside it; at the call's return it gives the tuple, netns,
 * cgroup and role, remembered per (process, SSL*) for the calls that make no socket I/O (data
 * already decrypted and buffered).
 *
 * Also here: sched:sched_process_exec onto a second ring, so the agent scans a new process's
 * maps for a libssl it has not attached yet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "netobs_layout.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20);
} netobs_tls_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 << 10);
} netobs_exec_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NETOBS_TLS_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} netobs_tls_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct netobs_tls_config);
} netobs_tls_config SEC(".maps");

/* An SSL call in progress on a thread. */
struct tls_call {
    __u64 ssl;
    __u64 buf;
    __u64 size_out; /* _ex forms: where the call writes the byte count */
    __u64 start_ns;
    __u64 sk;       /* the socket of the first socket send/receive inside the call (0: none yet) */
    __u8 direction;
    __u8 _pad[7];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64); /* pid_tgid */
    __type(value, struct tls_call);
} netobs_tls_calls SEC(".maps");

struct tls_conn_key {
    __u64 ssl;
    __u32 pid;
    __u32 _pad;
};

/* The socket under an SSL*, once learnt. */
struct tls_conn {
    struct netobs_endpoints ep;
    __u64 cgroup_id;
    __u64 sock;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct tls_conn_key);
    __type(value, struct tls_conn);
} netobs_tls_conns SEC(".maps");

/* Processes that make SSL calls, and the last socket each of their threads used outside one:
 * libraries that run OpenSSL over memory BIOs (gRPC) move the ciphertext with their own
 * syscalls, before SSL_read and after SSL_write, on the same thread as a rule. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32); /* tgid */
    __type(value, __u8);
} netobs_tls_pids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64); /* pid_tgid */
    __type(value, __u64); /* struct sock * */
} netobs_tls_thread_sock SEC(".maps");

static __always_inline void count(__u32 which)
{
    __u64 *n = bpf_map_lookup_elem(&netobs_tls_counters, &which);
    if (n)
        *n += 1;
}

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32); /* tgid */
    __type(value, __u8);
} netobs_tls_binaries SEC(".maps");

/* The names of rule tls_binaries (process names: the executable's file name, as comm holds its
 * first 15 bytes), zero-padded: an exec sets or clears the process in netobs_tls_binaries
 * before it can make any SSL call. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, char[NETOBS_COMM_LEN]);
    __type(value, __u8);
} netobs_tls_binary_names SEC(".maps");

static __always_inline bool tls_on(void)
{
    __u32 zero = 0;
    struct netobs_tls_config *cfg = bpf_map_lookup_elem(&netobs_tls_config, &zero);
    return !cfg || !cfg->tls_off;
}

/* Whether the calling process is followed: the rules' on/off and per-binary choice. */
static __always_inline bool process_followed(__u32 tgid)
{
    __u32 zero = 0;
    struct netobs_tls_config *cfg = bpf_map_lookup_elem(&netobs_tls_config, &zero);
    if (!cfg)
        return true;
    if (cfg->tls_off)
        return false;
    if (cfg->binaries_mode == NETOBS_TLS_BINARIES_ALL)
        return true;
    bool listed = bpf_map_lookup_elem(&netobs_tls_binaries, &tgid) != NULL;
    return cfg->binaries_mode == NETOBS_TLS_BINARIES_INCLUDE ? listed : !listed;
}

static __always_inline int call_enter(void *ssl, void *buf, void *size_out, __u8 direction)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!process_followed(id >> 32))
        return 0;
    struct tls_call c = {
        .ssl = (__u64)ssl,
        .buf = (__u64)buf,
        .size_out = (__u64)size_out,
        .start_ns = bpf_ktime_get_ns(),
        .direction = direction,
    };
    if (bpf_map_update_elem(&netobs_tls_calls, &id, &c, BPF_ANY))
        count(NETOBS_TLS_CALLS_MAP_FULL);
    __u32 tgid = id >> 32;
    if (!bpf_map_lookup_elem(&netobs_tls_pids, &tgid)) {
        __u8 one = 1;
        bpf_map_update_elem(&netobs_tls_pids, &tgid, &one, BPF_ANY);
    }
    return 0;
}

/* The open file `fd` of the current task, or NULL. */
static __always_inline struct file *file_of_fd(int fd)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    struct files_struct *files = BPF_CORE_READ(task, files);
    struct fdtable *fdt = BPF_CORE_READ(files, fdt);
    if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
        return NULL;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
        return NULL;
    return f;
}

/* The TCP socket `sk` as the events carry it, or false when it is not an inet stream socket. */
static __always_inline bool socket_of_sk(struct sock *sk, struct tls_conn *conn)
{
    if (!sk)
        return false;
    __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
        return false;
    struct netobs_endpoints *ep = &conn->ep;
    __builtin_memset(ep, 0, sizeof(*ep));
    if (family == AF_INET) {
        __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr), r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
        __builtin_memcpy(ep->local_addr, &l, 4);
        __builtin_memcpy(ep->remote_addr, &r, 4);
        ep->ip_version = 4;
    } else if (family == AF_INET6) {
        struct in6_addr l = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
        struct in6_addr r = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
        /* An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is IPv4, as on the wire. */
        if (r.in6_u.u6_addr32[0] == 0 && r.in6_u.u6_addr32[1] == 0 && r.in6_u.u6_addr32[2] == bpf_htonl(0xffff)) {
            __builtin_memcpy(ep->local_addr, &l.in6_u.u6_addr32[3], 4);
            __builtin_memcpy(ep->remote_addr, &r.in6_u.u6_addr32[3], 4);
            ep->ip_version = 4;
        } else {
            __builtin_memcpy(ep->local_addr, &l, 16);
            __builtin_memcpy(ep->remote_addr, &r, 16);
            ep->ip_version = 6;
        }
    } else {
        return false;
    }
    ep->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    ep->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    ep->protocol = IPPROTO_TCP;
    /* An accepted socket is a copy of its listener and keeps its backlog (as in l7.bpf.c). */
    ep->role = BPF_CORE_READ(sk, sk_max_ack_backlog) ? NETOBS_ROLE_SERVER : NETOBS_ROLE_CLIENT;
    ep->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    conn->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
    conn->sock = (__u64)sk;
    return true;
}

struct emit_ctx {
    struct tls_call *call;
    struct tls_conn *conn;
    __u32 pid;
    __u32 tid;
    __u32 len;
    __u64 now;
    char comm[NETOBS_COMM_LEN];
};

static long emit_chunk(__u32 index, struct emit_ctx *x)
{
    __u32 offset = index * NETOBS_TLS_CHUNK;
    if (offset >= x->len)
        return 1;
    struct netobs_tls_event *e = bpf_ringbuf_reserve(&netobs_tls_events, sizeof(*e), 0);
    if (!e) {
        count(NETOBS_TLS_RINGBUF_FULL);
        return 1;
    }
    __u32 n = x->len - offset;
    if (n > NETOBS_TLS_CHUNK)
        n = NETOBS_TLS_CHUNK;
    if (x->conn) {
        e->ep = x->conn->ep;
        e->owner.cgroup_id = x->conn->cgroup_id;
        e->sock = x->conn->sock;
        e->has_socket = 1;
    } else {
        __builtin_memset(&e->ep, 0, sizeof(e->ep));
        e->owner.cgroup_id = bpf_get_current_cgroup_id();
        e->sock = 0;
        e->has_socket = 0;
    }
    e->owner.pid = x->pid;
    e->owner._pad0 = 0;
    __builtin_memcpy(e->owner.comm, x->comm, sizeof(e->owner.comm));
    e->start_ns = x->call->direction == NETOBS_TLS_WRITE ? x->call->start_ns : x->now;
    e->ssl = x->call->ssl;
    e->tid = x->tid;
    e->len = x->len;
    e->offset = offset;
    e->direction = x->call->direction;
    __builtin_memset(e->_pad, 0, sizeof(e->_pad));
    if (bpf_probe_read_user(e->data, n & (2 * NETOBS_TLS_CHUNK - 1), (void *)(x->call->buf + offset)))
        n = 0;
    e->captured = n;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

static __always_inline int call_exit(long rc, bool ex)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct tls_call *c = bpf_map_lookup_elem(&netobs_tls_calls, &id);
    if (!c)
        return 0;
    struct emit_ctx x = {.call = c, .pid = id >> 32, .tid = (__u32)id, .now = bpf_ktime_get_ns()};
    if (ex) {
        __u64 moved = 0;
        if (rc == 1 && c->size_out)
            bpf_probe_read_user(&moved, sizeof(moved), (void *)c->size_out);
        x.len = moved > 0x7fffffff ? 0 : moved;
    } else {
        x.len = rc > 0 ? rc : 0;
    }
    if (x.len == 0)
        goto done;
    struct tls_conn_key key = {.ssl = c->ssl, .pid = x.pid};
    struct tls_conn *conn = bpf_map_lookup_elem(&netobs_tls_conns, &key);
    /* Resolved at every call that used its socket: an SSL* address freed and reused for a new
     * connection gets the new socket. */
    struct tls_conn fresh = {};
    if (c->sk && (!conn || conn->sock != c->sk) && socket_of_sk((struct sock *)c->sk, &fresh)) {
        bpf_map_update_elem(&netobs_tls_conns, &key, &fresh, BPF_ANY);
        conn = bpf_map_lookup_elem(&netobs_tls_conns, &key);
    }
    if (!conn && !c->sk) {
        /* No socket I/O inside the call (memory BIOs, or data already decrypted): the socket
         * this thread used last outside SSL calls. */
        __u64 *last = bpf_map_lookup_elem(&netobs_tls_thread_sock, &id);
        if (last && socket_of_sk((struct sock *)*last, &fresh)) {
            bpf_map_update_elem(&netobs_tls_conns, &key, &fresh, BPF_ANY);
            conn = bpf_map_lookup_elem(&netobs_tls_conns, &key);
        }
    }
    if (!conn)
        count(NETOBS_TLS_NO_SOCKET);
    x.conn = conn;
    bpf_get_current_comm(x.comm, sizeof(x.comm));
    bpf_loop(NETOBS_TLS_CHUNKS, emit_chunk, &x, 0);
done:
    bpf_map_delete_elem(&netobs_tls_calls, &id);
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(netobs_ssl_write, void *ssl, const void *buf, int num)
{
    return call_enter(ssl, (void *)buf, NULL, NETOBS_TLS_WRITE);
}

SEC("uretprobe")
int BPF_KRETPROBE(netobs_ssl_write_ret, int rc)
{
    return call_exit(rc, false);
}

SEC("uprobe")
int BPF_KPROBE(netobs_ssl_read, void *ssl, void *buf, int num)
{
    return call_enter(ssl, buf, NULL, NETOBS_TLS_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(netobs_ssl_read_ret, int rc)
{
    return call_exit(rc, false);
}

SEC("uprobe")
int BPF_KPROBE(netobs_ssl_write_ex, void *ssl, const void *buf, size_t num, size_t *written)
{
    return call_enter(ssl, (void *)buf, written, NETOBS_TLS_WRITE);
}

SEC("uretprobe")
int BPF_KRETPROBE(netobs_ssl_write_ex_ret, int rc)
{
    return call_exit(rc, true);
}

SEC("uprobe")
int BPF_KPROBE(netobs_ssl_read_ex, void *ssl, void *buf, size_t num, size_t *readbytes)
{
    return call_enter(ssl, buf, readbytes, NETOBS_TLS_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(netobs_ssl_read_ex_ret, int rc)
{
    return call_exit(rc, true);
}

/* ---------------------------------------------------------------- socket of the call */

/* A socket send or receive (any system call that reaches sock_sendmsg/sock_recvmsg, failed
 * ones too) on a thread inside an SSL call names the call's socket; outside one, in a process
 * that makes SSL calls, it is the thread's last socket. Only socket I/O runs this: file, pipe
 * and eventfd reads and writes do not (syscall tracepoints would run on every one of them). */
static __always_inline int note_socket(__u64 sk)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct tls_call *c = bpf_map_lookup_elem(&netobs_tls_calls, &id);
    if (c) {
        if (!c->sk)
            c->sk = sk;
        return 0;
    }
    __u32 tgid = id >> 32;
    if (bpf_map_lookup_elem(&netobs_tls_pids, &tgid))
        bpf_map_update_elem(&netobs_tls_thread_sock, &id, &sk, BPF_ANY);
    return 0;
}

SEC("raw_tp/sock_send_length")
int netobs_tls_sock_send(struct bpf_raw_tracepoint_args *ctx)
{
    return note_socket(ctx->args[0]);
}

SEC("raw_tp/sock_recv_length")
int netobs_tls_sock_recv(struct bpf_raw_tracepoint_args *ctx)
{
    return note_socket(ctx->args[0]);
}

/* ---------------------------------------------------------------- new processes, new libssl */

static __always_inline void announce(void)
{
    struct netobs_exec_event *e = bpf_ringbuf_reserve(&netobs_exec_events, sizeof(*e), 0);
    if (!e)
        return;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->_pad = 0;
    bpf_ringbuf_submit(e, 0);
}

#define PROT_EXEC 0x4

/* A file named libssl* mapped executable (the loader, or dlopen long after exec: Python's
 * ssl, gRPC): the agent scans the process now rather than at its next full rescan. */
SEC("tracepoint/syscalls/sys_enter_mmap")
int netobs_tls_mmap(struct trace_event_raw_sys_enter *ctx)
{
    long fd = ctx->args[4];
    if (!(ctx->args[2] & PROT_EXEC) || fd < 0 || !tls_on())
        return 0;
    struct file *f = file_of_fd(fd);
    if (!f)
        return 0;
    const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
    char head[8] = {};
    if (bpf_probe_read_kernel(head, sizeof(head), name))
        return 0;
    if (head[0] == 'l' && head[1] == 'i' && head[2] == 'b' && head[3] == 's' && head[4] == 's' && head[5] == 'l')
        announce();
    return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int netobs_tls_exec(void *ctx)
{
    char comm[NETOBS_COMM_LEN] = {};
    bpf_get_current_comm(comm, sizeof(comm));
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (bpf_map_lookup_elem(&netobs_tls_binary_names, comm)) {
        __u8 one = 1;
        bpf_map_update_elem(&netobs_tls_binaries, &tgid, &one, BPF_ANY);
    } else {
        bpf_map_delete_elem(&netobs_tls_binaries, &tgid);
    }
    announce();
    return 0;
}
