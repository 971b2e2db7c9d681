/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "vip-check.h"

VipFit vip_check(const Ipv4Cidr *vip, const char *ifname, const Ipv4Cidr *addrs, size_t n, char *msg, size_t size)
{
        char v[INET_ADDRSTRLEN], have[3 * IPV4_CIDR_STRLEN + 8] = "", net[IPV4_CIDR_STRLEN];
        bool fits = false;

        inet_ntop(AF_INET, &vip->addr, v, sizeof v);
        for (size_t i = 0; i < n; i++) {
                if (addrs[i].addr.s_addr == vip->addr.s_addr) {
                        snprintf(msg, size,
                                 "vip=%s in cluster.txt is this node's own address on %s: the VIP must be a free "
                                 "address of the LAN, used by no node; change vip= in cluster.txt on every card, "
                                 "or give this node another address",
                                 v, ifname);
                        return VIP_IS_NODE_ADDRESS;
                }
                Ipv4Cidr subnet = {.addr = addrs[i].addr, .prefix = addrs[i].prefix};
                fits = fits || ipv4_cidr_contains(&subnet, vip->addr);
        }
        if (fits)
                return VIP_FITS;
        for (size_t i = 0; i < n && i < 3; i++) {
                size_t k = strlen(have);
                snprintf(have + k, sizeof have - k, "%s%s", k ? ", " : "", ipv4_cidr_format(&addrs[i], net));
        }
        /* The subnet to suggest: the first address's network. */
        Ipv4Cidr first = n > 0 ? addrs[0] : (Ipv4Cidr){};
        first.addr.s_addr = htonl(ntohl(first.addr.s_addr) & ipv4_prefix_mask(first.prefix));
        snprintf(msg, size,
                 "vip=%s in cluster.txt is not on this LAN (%s has %s): the load balancers could not be reached "
                 "there. Set vip= in cluster.txt on every card to a free address of %s outside the DHCP pool",
                 v, ifname, have[0] ? have : "no address", n > 0 ? ipv4_cidr_format(&first, net) : "the LAN");
        return VIP_OTHER_SUBNET;
}
