/* SPDX-License-Identifier: MIT */
#pragma once

/* Does cluster.txt's virtual IP fit this node's LAN? Every card carries the same cluster.txt, often with the
 * image's default vip=192.168.3.240/24: on another LAN the load balancers would claim an address nobody can
 * reach and every master would wait for it forever. Each node checks the VIP against its own addresses on the
 * cluster interface and says so at once, with the fix. Pure. */

#include <stddef.h>

#include "net-util.h"

typedef enum VipFit {
        VIP_FITS,            /* in the subnet of an address of the interface, and none of them */
        VIP_OTHER_SUBNET,    /* in no subnet of the interface */
        VIP_IS_NODE_ADDRESS, /* this node's own address */
        _VIP_FIT_MAX,
} VipFit;

/* addrs: the interface's IPv4 addresses with their prefixes, the VIP itself left out (an LB holding it has it as
 * a /32). The words for a person (what is wrong, the fix) go to msg unless VIP_FITS. */
VipFit vip_check(const Ipv4Cidr *vip, const char *ifname, const Ipv4Cidr *addrs, size_t n, char *msg, size_t size);
