/* SPDX-License-Identifier: MIT */
#pragma once

/* The pod network's manifest (cni= in cluster.txt): where the initializing master looks for it and how
 * cluster.txt's pod_subnet gets into it. Pure: role-node.c reads, renders into the runtime directory and applies. */

#include <stdbool.h>

#include "config.h"
#include "net-util.h"

/* Written in a manifest where pod_subnet belongs (flannel's net-conf.json "Network"). */
#define CNI_POD_SUBNET_PLACEHOLDER "@POD_SUBNET@"
/* Calico's manifest with its CRDs is a few hundred KiB; the operator's about 1.5 MiB. */
#define CNI_MANIFEST_MAX (4u * 1024u * 1024u)
#define CNI_ETC_DIR      "/etc/piagent/cni"
#define CNI_SHIPPED_DIR  "/usr/share/piagent/cni"

/* Where a manifest is looked for, in this order; the first that exists is used. */
typedef enum CniSource {
        CNI_SOURCE_BOOT,    /* <boot dir>/<cni>.yaml, beside cluster.txt: put there from the PC that flashed the card */
        CNI_SOURCE_ETC,     /* /etc/piagent/cni/<cni>.yaml: put there on the node */
        CNI_SOURCE_SHIPPED, /* /usr/share/piagent/cni/<cni>.yaml: from the package (flannel only) */
        _CNI_SOURCE_MAX,
} CniSource;

/* Does the package ship a manifest for cni? */
bool cni_is_shipped(Cni cni);

/* The path of cni's manifest in source. -EINVAL for cni=none (nothing to apply) or a missing boot_dir; -ENOMEM. */
int cni_manifest_path(CniSource source, const char *boot_dir, Cni cni, char **ret);

/* The manifest with every CNI_POD_SUBNET_PLACEHOLDER replaced by pod_subnet ("10.244.0.0/16"). -EBADMSG if
 * there is none (the shipped manifests must have one; a user's may state its own CIDR); -ENOMEM. */
int cni_manifest_render(const char *manifest, const Ipv4Cidr *pod_subnet, char **ret);

/* For a person, when no source has a manifest for cni: the files looked for and how to provide one. */
int cni_missing_message(const char *boot_dir, Cni cni, char **ret);
