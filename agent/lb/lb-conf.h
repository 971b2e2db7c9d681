/* SPDX-License-Identifier: MIT */
#pragma once

/* Load-balancer configuration: keepalived.conf and haproxy.cfg rendered from the effective configuration and
 * the peers seen; the VRRP router id and priorities derived so that every LB computes the same. Pure. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net-util.h"

#define LB_PRIORITY_TOP  200u
#define LB_PRIORITY_STEP 10u

typedef struct LbBackend {
        const char *name;    /* the master's node id (never an announced host name): [A-Za-z0-9._-], unique */
        struct in_addr addr; /* its apiserver listens on :6443 */
        /* The cluster's first master while its kubeadm init runs (no master ready yet): routed to without a
         * health check. kubeadm init waits for its apiserver through the VIP, and on an SD-card Pi /readyz can
         * answer slower than the check's 500 ms while init loads the machine: checked, it would never come UP
         * and init would fail. Nothing else could serve then anyway. */
        bool unchecked;
} LbBackend;

typedef struct KeepalivedParams {
        const char *router_id; /* this LB's hostname */
        const char *interface;
        struct in_addr self;
        Ipv4Cidr vip;
        uint8_t vrid;
        unsigned priority;
        const struct in_addr *peers; /* the other LBs (unicast) */
        size_t n_peers;
        unsigned advert_ms;        /* VRRPv3 advert interval, a multiple of 10 ms */
        const char *notify_script; /* run on state changes; NULL: none */
} KeepalivedParams;

typedef struct HaproxyParams {
        uint16_t api_port;
        const LbBackend *backends;
        size_t n_backends;
        const char *ca_file; /* verify apiserver certificates against it; NULL: not known yet (verify none) */
} HaproxyParams;

/* Each returns 0 and a newly allocated file, -EINVAL for parameters that would make a broken file (names
 * with characters the config grammar does not allow, no interface, ...), or -ENOMEM. */
int keepalived_conf_render(const KeepalivedParams *p, char **ret);
int haproxy_conf_render(const HaproxyParams *p, char **ret);

/* virtual_router_id 1..255 from the cluster secret (its own HKDF label): two clusters on one LAN differ with
 * probability 254/255, and every LB of one cluster agrees. */
int lb_vrid(const char *secret, uint8_t *ret);

/* Priority of self among the LB ids (self included or not): rank by id, highest priority to the lowest id. */
unsigned lb_priority(const char *self_id, const char *const *lb_ids, size_t n);
