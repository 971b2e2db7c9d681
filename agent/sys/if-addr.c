/* SPDX-License-Identifier: MIT */

#include <ifaddrs.h>

#include "if-addr.h"
#include "macro.h"

int interface_ipv4_address(const char *ifname, struct in_addr exclude, struct in_addr *ret)
{
        struct ifaddrs *ifa = NULL;
        int r = -ENOENT;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !streq(i->ifa_name, ifname))
                        continue;
                struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                if (a.s_addr == exclude.s_addr)
                        continue;
                *ret = a;
                r = 0;
                break;
        }
        freeifaddrs(ifa);
        return r;
}

int interface_ipv4_subnets(const char *ifname, struct in_addr exclude, Ipv4Cidr *out, size_t max)
{
        struct ifaddrs *ifa = NULL;
        size_t n = 0;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i && n < max; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !streq(i->ifa_name, ifname))
                        continue;
                struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                uint32_t mask = i->ifa_netmask ? ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : 0;
                if (a.s_addr == exclude.s_addr)
                        continue;
                out[n++] = (Ipv4Cidr){.addr = a, .prefix = (unsigned)__builtin_popcount(mask)};
        }
        freeifaddrs(ifa);
        return (int)n;
}
