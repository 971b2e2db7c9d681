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
