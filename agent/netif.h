/* SPDX-License-Identifier: MIT */
#pragma once

/* Which network interface the cluster lives on, and its MAC. role.txt's interface= wins; else the interface of
 * the default route (/proc/net/route); else the first Ethernet interface with a MAC (/sys/class/net), physical
 * devices before virtual ones, then by ifindex. */

#include <net/if.h>
#include <stdint.h>

#include "identity.h"

typedef enum NetIfSource {
        NETIF_CONFIGURED,
        NETIF_DEFAULT_ROUTE,
        NETIF_FIRST_ETHERNET,
        _NETIF_SOURCE_MAX,
} NetIfSource;

typedef struct NetIf {
        char name[IFNAMSIZ];
        int ifindex;
        uint8_t mac[MAC_SIZE];
        NetIfSource source;
} NetIf;

const char *netif_source_to_string(NetIfSource s);

/* The interface of the default IPv4 route with the lowest metric, from the text of /proc/net/route. Pure.
 * Returns 0 or -ENOENT. */
int netif_default_route(const char *route_text, char ret[static IFNAMSIZ]);

/* Finds the cluster interface. root: "" for the real system, or a directory holding proc/net/route and
 * sys/class/net/<name>/{address,type,ifindex,device} (tests). wanted: role.txt's interface=, or NULL.
 * Returns 0, -ENODEV (no such interface / none found), -EADDRNOTAVAIL (the wanted one has no usable MAC), or
 * another negative errno. */
int netif_find_cluster(const char *root, const char *wanted, NetIf *ret);
