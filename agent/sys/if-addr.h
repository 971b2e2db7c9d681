/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stddef.h>

#include "net-util.h"

/* The node's own IPv4 address on ifname: the first one that is not `exclude` (the VIP, which an LB may hold as
 * a /32). -ENOENT while the interface has none (DHCP not done yet). */
int interface_ipv4_address(const char *ifname, struct in_addr exclude, struct in_addr *ret);

/* Every IPv4 address on ifname with its prefix, but `exclude`; at most max. Returns the number found (0 while
 * the interface has none) or a negative errno. */
int interface_ipv4_subnets(const char *ifname, struct in_addr exclude, Ipv4Cidr *out, size_t max);
