/* SPDX-License-Identifier: MIT */
#pragma once

/* The cluster tag: identifies a cluster on the LAN (mDNS TXT "tag=") without revealing its secret. Every node
 * derives it from the cluster secret; nodes with another tag belong to another cluster and are ignored. */

#include <stdbool.h>

#define CLUSTER_TAG_BYTES 8
#define CLUSTER_TAG_LEN   (2 * CLUSTER_TAG_BYTES) /* lower-case hex */
#define CLUSTER_TAG_SIZE  (CLUSTER_TAG_LEN + 1)

/* HKDF-SHA256 of the secret (salt "piagent", info "piagent cluster tag v1"), first 8 bytes as hex. A label of
 * its own, so the tag says nothing about the secret's fingerprint or any key derived from it.
 * Returns 0, -EINVAL (no secret) or -EIO. */
int cluster_tag_compute(const char *secret, char ret[static CLUSTER_TAG_SIZE]);

/* Exactly CLUSTER_TAG_LEN lower-case hex digits. */
bool cluster_tag_is_valid(const char *s);
