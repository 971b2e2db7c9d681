/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>

/* The node's own IPv4 address on ifname: the first one that is not `exclude` (the VIP, which an LB may hold as
 * a /32). -ENOENT while the interface has none (DHCP not done yet). */
int interface_ipv4_address(const char *ifname, struct in_addr exclude, struct in_addr *ret);
