/* SPDX-License-Identifier: MIT */
#pragma once

/* Who this node is on the LAN: its node id (from the MAC of the cluster interface) and its host name
 * ("<role>-<last 6 hex of the node id>" unless role.txt says hostname=). Pure. */

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define MAC_SIZE      6
#define MAC_STRLEN    18 /* "aa:bb:cc:dd:ee:ff" + NUL */
#define NODE_ID_LEN   (2 * MAC_SIZE)
#define NODE_ID_SIZE  (NODE_ID_LEN + 1)
#define HOSTNAME_MAX  63 /* one DNS label: Kubernetes node names, mDNS host names */
#define HOSTNAME_SIZE (HOSTNAME_MAX + 1)

/* "aa:bb:cc:dd:ee:ff" (either case; sysfs's format). Returns 0 or -EINVAL. */
int mac_parse(const char *s, uint8_t ret[static MAC_SIZE]);
/* A MAC that can identify a node: unicast and not all zeros. */
bool mac_is_usable(const uint8_t mac[static MAC_SIZE]);
const char *mac_format(const uint8_t mac[static MAC_SIZE], char buf[static MAC_STRLEN]);

/* The node id: the MAC as 12 lower-case hex digits. Returns 0 or -EINVAL for a MAC that is not usable. */
int node_id_from_mac(const uint8_t mac[static MAC_SIZE], char ret[static NODE_ID_SIZE]);
/* Exactly NODE_ID_LEN lower-case hex digits. */
bool node_id_is_valid(const char *s);

/* 1-63 lower-case letters, digits and '-', not starting or ending with '-'. */
bool hostname_is_valid(const char *s);
/* The host name in an mDNS SRV target ("master-0a1b2c.local" -> "master-0a1b2c"). The target comes from the
 * network: -EINVAL unless the result is a valid host name. */
int hostname_from_mdns(const char *target, char ret[static HOSTNAME_SIZE]);
/* The host name for this node: override if given (it must be valid), else "<role>-<last 6 hex of node_id>".
 * Returns 0 or -EINVAL. */
int hostname_derive(Role role, const char *node_id, const char *override, char ret[static HOSTNAME_SIZE]);
