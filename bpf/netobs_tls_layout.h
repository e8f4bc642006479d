/* TLS plaintext layouts (bpf/tls.bpf.c), shared with the Swift agent through netobs_layout.h.
 *
 * Uprobes on OpenSSL's SSL_write/SSL_read (and their _ex forms) copy what the application
 * wrote or read, before encryption and after decryption, onto a ring buffer; the agent parses
 * it (HTTP/1.x, HTTP/2) per connection. The SSL* is tied to its socket by the read/write
 * syscall the same thread makes inside the call: the fd it names resolves to the socket, whose
 * tuple, network namespace, cgroup and role the event carries.
 */
#ifndef NETOBS_TLS_LAYOUT_H
#define NETOBS_TLS_LAYOUT_H

#define NETOBS_TLS_CHUNK 4096   /* plaintext bytes per event */
#define NETOBS_TLS_CHUNKS 4     /* events per call at most: a call's first 16 KiB travel */

enum netobs_tls_direction {
    NETOBS_TLS_WRITE = 1, /* the process wrote it (SSL_write) */
    NETOBS_TLS_READ = 2,  /* the process read it (SSL_read) */
};

/* What the TLS programs saw but could not send. Indexes of netobs_tls_counters. */
enum netobs_tls_counter {
    NETOBS_TLS_RINGBUF_FULL = 0,   /* a plaintext chunk lost */
    NETOBS_TLS_NO_SOCKET = 1,      /* a call whose SSL* is not tied to a socket (yet) */
    NETOBS_TLS_CALLS_MAP_FULL = 2, /* a call not followed: too many threads inside SSL calls */
    NETOBS_TLS_COUNTER_COUNT = 3,
};

/* Settings the agent writes into netobs_tls_config (key 0) when rules change. */
struct netobs_tls_config {
    __u8 tls_off;       /* 1: the probes return at once (rule "tls": false) */
    __u8 binaries_mode; /* enum netobs_tls_binaries_mode (rule "tls_binaries") */
    __u8 _pad[6];
};

/* Rule "tls_binaries": netobs_tls_binaries holds the processes (tgid) whose executable is named
 * in the rule; the agent keeps it as processes come and go. */
enum netobs_tls_binaries_mode {
    NETOBS_TLS_BINARIES_ALL = 0,
    NETOBS_TLS_BINARIES_INCLUDE = 1, /* only the listed processes are followed */
    NETOBS_TLS_BINARIES_EXCLUDE = 2, /* the listed processes are not */
};

/* One chunk of one SSL_read/SSL_write call. */
struct netobs_tls_event {
    struct netobs_endpoints ep;  /* the socket under the SSL*; all zero when has_socket is 0 */
    struct netobs_owner owner;   /* pid = tgid of the caller; cgroup of the socket (else of the caller) */
    __u64 start_ns;              /* write: the call's entry; read: its return (the data is there) */
    __u64 ssl;                   /* the SSL* in the process: with pid, the connection */
    __u32 tid;
    __u32 len;                   /* plaintext bytes the call moved */
    __u32 offset;                /* where this chunk starts within them */
    __u32 captured;              /* bytes in data */
    __u8 direction;              /* enum netobs_tls_direction */
    __u8 has_socket;
    __u8 _pad[6];
    __u64 sock;                  /* the struct sock's address: a new connection on a reused SSL* differs */
    __u8 data[NETOBS_TLS_CHUNK];
};

/* A process that called exec (sched:sched_process_exec): its maps are scanned for libssl. */
struct netobs_exec_event {
    __u32 pid;
    __u32 _pad;
};

#endif
