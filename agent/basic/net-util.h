/* SPDX-License-Identifier: MIT */
#pragma once

/* IPv4 address and prefix helpers. Pure. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Ipv4Cidr {
        struct in_addr addr; /* network byte order */
        unsigned prefix;     /* 0..32 */
} Ipv4Cidr;

/* "192.168.3.240/24". Strict: four decimal octets, a prefix 1..32. Returns 0 or -EINVAL. */
int ipv4_cidr_parse(const char *s, Ipv4Cidr *ret);
/* Formats into buf (at least IPV4_CIDR_STRLEN). */
#define IPV4_CIDR_STRLEN (INET_ADDRSTRLEN + 4)
const char *ipv4_cidr_format(const Ipv4Cidr *c, char buf[static IPV4_CIDR_STRLEN]);

uint32_t ipv4_prefix_mask(unsigned prefix);   /* host byte order */
bool ipv4_cidr_is_network(const Ipv4Cidr *c); /* no host bits set */
bool ipv4_cidr_contains(const Ipv4Cidr *net, struct in_addr a);
bool ipv4_cidr_overlap(const Ipv4Cidr *a, const Ipv4Cidr *b);
