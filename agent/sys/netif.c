/* SPDX-License-Identifier: MIT */

#include <ifaddrs.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "netif.h"

#define RTF_UP_FLAG   0x1u /* /proc/net/route Flags */
#define ROUTES_MAX    (1024 * 1024)
#define NET_LINKS_MAX 256

static const char *const source_names[_NETIF_SOURCE_MAX] = {
        [NETIF_CONFIGURED] = "interface= in role.txt",
        [NETIF_DEFAULT_ROUTE] = "default route",
        [NETIF_FIRST_ETHERNET] = "first Ethernet interface",
};

const char *netif_source_to_string(NetIfSource s)
{
        return s >= 0 && s < _NETIF_SOURCE_MAX ? source_names[s] : NULL;
}

int netif_default_route(const char *route_text, char ret[static IFNAMSIZ])
{
        char best[IFNAMSIZ] = "";
        unsigned best_metric = 0;
        const char *line = route_text;

        /* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex addresses; the first line is a header. */
        while (line && *line) {
                char name[IFNAMSIZ];
                unsigned dest, gw, flags, refcnt, use, metric, mask;
                const char *nl = strchr(line, '\n');

                if (sscanf(line, "%15s %x %x %x %u %u %u %x", name, &dest, &gw, &flags, &refcnt, &use, &metric,
                           &mask) == 8 &&
                    dest == 0 && mask == 0 && (flags & RTF_UP_FLAG) && !streq(name, "lo") &&
                    (!*best || metric < best_metric)) {
                        memcpy(best, name, sizeof best);
                        best_metric = metric;
                }
                line = nl ? nl + 1 : NULL;
        }
        if (!*best)
                return -ENOENT;
        memcpy(ret, best, IFNAMSIZ);
        return 0;
}

static bool usable(const NetLink *l)
{
        return l->hwtype == ARPHRD_ETHER && l->mac_len == MAC_SIZE && mac_is_usable(l->mac);
}

static const NetLink *find(const NetLink *links, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(links[i].name, name))
                        return &links[i];
        return NULL;
}

static void take(const NetLink *l, NetIfSource source, NetIf *ret)
{
        *ret = (NetIf){.ifindex = l->ifindex, .source = source};
        memcpy(ret->name, l->name, IFNAMSIZ);
        memcpy(ret->mac, l->mac, MAC_SIZE);
}

int netif_choose(const NetLink *links, size_t n_links, const char *route_text, const char *wanted, NetIf *ret)
{
        const NetLink *l, *best = NULL;
        char name[IFNAMSIZ];

        if (wanted) {
                l = find(links, n_links, wanted);
                if (!l)
                        return -ENODEV;
                if (!usable(l))
                        return -EADDRNOTAVAIL;
                take(l, NETIF_CONFIGURED, ret);
                return 0;
        }

        if (route_text && netif_default_route(route_text, name) >= 0 && (l = find(links, n_links, name)) && usable(l)) {
                take(l, NETIF_DEFAULT_ROUTE, ret);
                return 0;
        }

        for (size_t i = 0; i < n_links; i++) {
                l = &links[i];
                if (!usable(l))
                        continue;
                if (!best || (l->physical != best->physical ? l->physical : l->ifindex < best->ifindex))
                        best = l;
        }
        if (!best)
                return -ENODEV;
        take(best, NETIF_FIRST_ETHERNET, ret);
        return 0;
}

static bool has_device(const char *name)
{
        char path[64 + IFNAMSIZ];
        struct stat st;

        snprintf(path, sizeof path, "/sys/class/net/%s/device", name);
        return stat(path, &st) == 0;
}

/* The links of this network namespace, from their AF_PACKET entries. */
static int list_links(NetLink *links, size_t max, size_t *ret_n)
{
        struct ifaddrs *all = NULL;
        size_t n = 0;

        if (getifaddrs(&all) < 0)
                return -errno;
        for (struct ifaddrs *i = all; i && n < max; i = i->ifa_next) {
                const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;
                NetLink *l = &links[n];

                if (!ll || ll->sll_family != AF_PACKET || !i->ifa_name || strlen(i->ifa_name) >= IFNAMSIZ)
                        continue;
                *l = (NetLink){.ifindex = ll->sll_ifindex, .hwtype = ll->sll_hatype};
                snprintf(l->name, sizeof l->name, "%s", i->ifa_name);
                l->mac_len = MIN((size_t)ll->sll_halen, (size_t)MAC_SIZE);
                memcpy(l->mac, ll->sll_addr, l->mac_len);
                l->physical = has_device(l->name);
                n++;
        }
        freeifaddrs(all);
        *ret_n = n;
        return 0;
}

int netif_find_cluster(const char *wanted, NetIf *ret)
{
        _cleanup_free_ char *routes = NULL;
        _cleanup_free_ NetLink *links = NULL;
        size_t n = 0;
        int r;

        links = calloc(NET_LINKS_MAX, sizeof *links);
        if (!links)
                return -ENOMEM;
        r = list_links(links, NET_LINKS_MAX, &n);
        if (r < 0)
                return r;
        /* Without a route table (or without a default route) the first Ethernet interface is taken. */
        (void)read_file_full("/proc/net/route", ROUTES_MAX, &routes, NULL);
        return netif_choose(links, n, routes, wanted, ret);
}
