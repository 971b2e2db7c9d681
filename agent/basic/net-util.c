/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "net-util.h"

int ipv4_cidr_parse(const char *s, Ipv4Cidr *ret)
{
        char addr[INET_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        struct in_addr a;
        unsigned prefix = 0;
        size_t n;

        if (!slash)
                return -EINVAL;
        n = (size_t)(slash - s);
        if (n == 0 || n >= sizeof addr)
                return -EINVAL;
        memcpy(addr, s, n);
        addr[n] = 0;
        if (inet_pton(AF_INET, addr, &a) != 1)
                return -EINVAL;

        /* Prefix: 1-2 decimal digits, no sign, no leading zero. */
        const char *p = slash + 1;
        size_t plen = strlen(p);
        if (plen == 0 || plen > 2 || (plen == 2 && p[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < plen; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (prefix < 1 || prefix > 32)
                return -EINVAL;

        *ret = (Ipv4Cidr){.addr = a, .prefix = prefix};
        return 0;
}

const char *ipv4_cidr_format(const Ipv4Cidr *c, char buf[static IPV4_CIDR_STRLEN])
{
        char a[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &c->addr, a, sizeof a);
        snprintf(buf, IPV4_CIDR_STRLEN, "%s/%u", a, c->prefix);
        return buf;
}

uint32_t ipv4_prefix_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

bool ipv4_cidr_is_network(const Ipv4Cidr *c)
{
        return (ntohl(c->addr.s_addr) & ~ipv4_prefix_mask(c->prefix)) == 0;
}

bool ipv4_cidr_contains(const Ipv4Cidr *net, struct in_addr a)
{
        uint32_t m = ipv4_prefix_mask(net->prefix);
        return (ntohl(a.s_addr) & m) == (ntohl(net->addr.s_addr) & m);
}

bool ipv4_cidr_overlap(const Ipv4Cidr *a, const Ipv4Cidr *b)
{
        uint32_t m = ipv4_prefix_mask(MIN(a->prefix, b->prefix));
        return (ntohl(a->addr.s_addr) & m) == (ntohl(b->addr.s_addr) & m);
}
