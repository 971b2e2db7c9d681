/* SPDX-License-Identifier: MIT */
#pragma once

/* Which network interface the cluster lives on, and its MAC. role.txt's interface= wins; else the interface of
 * the default route (/proc/net/route); else the first Ethernet interface with a MAC, physical devices before
 * virtual ones, then by ifindex. Links come from the kernel over netlink (getifaddrs), which always describes
 * this process's network namespace; sysfs may not (a container's /sys can show the host's interfaces). */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"

typedef enum NetIfSource {
        NETIF_CONFIGURED,
        NETIF_DEFAULT_ROUTE,
        NETIF_FIRST_ETHERNET,
        _NETIF_SOURCE_MAX,
} NetIfSource;

/* A link as the kernel lists it. */
typedef struct NetLink {
        char name[IFNAMSIZ];
        int ifindex;
        unsigned short hwtype; /* ARPHRD_* */
        uint8_t mac[MAC_SIZE];
        size_t mac_len;
        bool physical; /* backed by a device (not a bridge, veth, tunnel...) */
} NetLink;

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

/* The choice itself, pure. route_text may be NULL. Returns 0, -ENODEV (no such interface, none found), or
 * -EADDRNOTAVAIL (the wanted one is not Ethernet-like or has no usable MAC). */
int netif_choose(const NetLink *links, size_t n_links, const char *route_text, const char *wanted, NetIf *ret);

/* The same on this system: links from getifaddrs(), routes from /proc/net/route. */
int netif_find_cluster(const char *wanted, NetIf *ret);
