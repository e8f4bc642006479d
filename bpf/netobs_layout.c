/* Compiled into the CNetobsLayout target (the Swift view of bpf/netobs_layout.h): checks at
 * build time that the host lays the shared records out as the BPF target does (both LP64,
 * natural alignment, explicit padding). */
#include "netobs_layout.h"

_Static_assert(sizeof(struct netobs_endpoints) == 48, "netobs_endpoints layout");
_Static_assert(sizeof(struct netobs_owner) == 32, "netobs_owner layout");
_Static_assert(sizeof(struct netobs_transition) == 24, "netobs_transition layout");
_Static_assert(sizeof(struct netobs_tcp_flow) % 8 == 0, "netobs_tcp_flow layout");
_Static_assert(sizeof(struct netobs_tuple) == 40, "netobs_tuple layout");
_Static_assert(sizeof(struct netobs_tuple_drops) == 24, "netobs_tuple_drops layout");
_Static_assert(sizeof(struct netobs_udp_key) == 32, "netobs_udp_key layout");
_Static_assert(sizeof(struct netobs_udp_flow) == 128, "netobs_udp_flow layout");
_Static_assert(sizeof(struct netobs_l7_event) == 120, "netobs_l7_event layout");
_Static_assert(sizeof(struct netobs_l7_text) == 136, "netobs_l7_text layout");
_Static_assert(sizeof(struct netobs_l7_aggregate_key) == 64, "netobs_l7_aggregate_key layout");
_Static_assert(sizeof(struct netobs_l7_aggregate) == 168, "netobs_l7_aggregate layout");
_Static_assert(sizeof(struct netobs_dns_key) == 48, "netobs_dns_key layout");
_Static_assert(sizeof(struct netobs_l7_config) == 32, "netobs_l7_config layout");
_Static_assert(sizeof(struct netobs_tcp_latency) == 264, "netobs_tcp_latency layout");
_Static_assert(sizeof(struct netobs_rules) == 8, "netobs_rules layout");
_Static_assert(sizeof(struct netobs_tls_event) == 48 + 32 + 48 + NETOBS_TLS_CHUNK, "netobs_tls_event layout");
_Static_assert(sizeof(struct netobs_tls_config) == 8, "netobs_tls_config layout");
